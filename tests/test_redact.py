"""Secrets never shown: every URL in a message passes through ``mask_url``."""

from __future__ import annotations

import pytest

from dashboard.redact import mask_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql://analyst:hunter2@db.example:5432/events",
            "postgresql://analyst:***@db.example:5432/events",
        ),
        (
            "postgresql://analyst@db.example/events?sslmode=require&password=hunter2",
            "postgresql://analyst@db.example/events?sslmode=require&password=***",
        ),
        (
            "postgresql://db.example/events?PASSWORD=hunter2&sslpassword=hunter3",
            "postgresql://db.example/events?PASSWORD=***&sslpassword=***",
        ),
        (
            "https://tiles.example/{z}/{x}/{y}.png?access_token=pk.abc&apikey=k1",
            "https://tiles.example/{z}/{x}/{y}.png?access_token=***&apikey=***",
        ),
        # A password with unencoded "/" and ":" (not a valid URL): still hidden.
        (
            "postgresql://analyst:a/b:c@db.example/events",
            "postgresql://analyst:***@db.example/events",
        ),
        # libpq's key=value form, quoted and not.
        (
            "host=db.example dbname=events password=hunter2 user=analyst",
            "host=db.example dbname=events password=*** user=analyst",
        ),
        ("host=db password='hunter 2' user=a", "host=db password=*** user=a"),
        # libpq: white space around "=", a quoted value with an escaped quote.
        ("host=db password = hunter2 user=a", "host=db password=*** user=a"),
        ("host=db password='it\\'s hunter2' user=a", "host=db password=*** user=a"),
        # A user name with an unencoded "@": the password is still found.
        ("postgresql://us@er:hunter2@db.example/x", "postgresql://us@er:***@db.example/x"),
        # An "@" in the query does not move the end of the user information.
        (
            "postgresql://u:hunter2@db.example/x?application_name=a@b",
            "postgresql://u:***@db.example/x?application_name=a@b",
        ),
        # A message quoting a URL with a quote in its password.
        ("bad URL: 'postgresql://u:pa'ss@db/x'", "bad URL: 'postgresql://u:***@db/x'"),
        # Nothing secret: unchanged.
        (
            "postgresql://analyst@db.example/events?sslmode=require&application_name=map",
            "postgresql://analyst@db.example/events?sslmode=require&application_name=map",
        ),
    ],
)
def test_passwords_and_keys_are_masked_and_the_rest_kept(url, shown):
    assert mask_url(url) == shown


def test_database_messages_hide_a_password_in_the_query():
    from dashboard import store as pgstore
    from dashboard.errors import DashboardError

    with pytest.raises(DashboardError) as refused:
        pgstore.connect("postgresql://analyst@127.0.0.1:1/none?password=hunter2", check=True)
    assert "hunter2" not in str(refused.value)
    assert "password=***" in str(refused.value)
    with pytest.raises(DashboardError) as bad:
        pgstore.connect("notaurl://analyst:hunter2@/x?password=hunter3")
    assert "hunter2" not in str(bad.value) and "hunter3" not in str(bad.value)


def test_a_driver_message_quoting_the_connection_string_is_masked():
    from dashboard.store import first_line

    quoted = ValueError('invalid dsn: "host=db password=hunter2 sslmode=bogus"\nmore')
    assert first_line(quoted) == 'invalid dsn: "host=db password=*** sslmode=bogus"'
