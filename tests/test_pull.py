"""``conflictmap pull``: ACLED and UCDP through their APIs, against the fake servers of
``tests/fake_sources.py`` on 127.0.0.1 (nothing here touches the network).

Each promise of the README's "Pulling ACLED and UCDP" has a test: the copy equals what the
server holds, paging runs to the end, the filters reach the server, tokens are renewed,
secrets appear nowhere, refusals say which credentials, transient faults are retried and
exhausted retries leave the old file byte for byte, an update equals a full re-download
(file and database), and the build reads what a pull writes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import os
import stat
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from fake_sources import (
    ACLED_PASSWORD,
    ACLED_USER,
    ECHO_AUTH,
    UCDP_TOKEN,
    FakeSources,
    Fault,
    acled_events,
    matches,
)

from dashboard import schema
from dashboard.cli import cli
from dashboard.errors import CredentialsError, PullError
from dashboard.pipeline import BuildSettings, read_checked
from dashboard.pull import (
    AcledQuery,
    AcledSession,
    AcledToken,
    Client,
    ContentHash,
    RetryPolicy,
    UcdpQuery,
    UcdpSession,
    UcdpToken,
    atomic_output,
    load_credentials,
    open_table,
    pull_acled,
    pull_ucdp,
    update_acled,
)
from dashboard.pull.acled import CREDENTIAL_NAMES
from dashboard.pull.http import check_base_url, retry_after
from dashboard.pull.merge import csv_text, record_path, text_row
from dashboard.pull.ucdp import TOKEN_NAME, country_code
from dashboard.tableexport import to_csv_text

SYRIA_IRAQ = AcledQuery(countries=("Syria", "Iraq"), since=dt.date(2014, 1, 1))


# --- helpers ------------------------------------------------------------------------------


def _credentials(user: str = ACLED_USER, password: str = ACLED_PASSWORD):
    env = {"ACLED_USERNAME": user, "ACLED_PASSWORD": password, TOKEN_NAME: UCDP_TOKEN}
    return load_credentials(None, environ=env, names=(*CREDENTIAL_NAMES, TOKEN_NAME))


def _client(sleeps: list[float] | None = None, attempts: int = 5) -> Client:
    recorded = [] if sleeps is None else sleeps
    return Client(policy=RetryPolicy(attempts=attempts), sleep=recorded.append)


def _acled(fake: FakeSources, *, page_size: int = 100, client=None, credentials=None, **kw):
    client = client or _client()
    token = AcledToken(client, fake.url, credentials or _credentials(), **kw)
    return AcledSession(client, token, fake.url, page_size=page_size)


def _ucdp(fake: FakeSources, *, page_size: int = 100, client=None) -> UcdpSession:
    client = client or _client()
    return UcdpSession(client, UcdpToken(_credentials()), fake.url, page_size=page_size)


def _expected(fake: FakeSources, query: AcledQuery) -> dict[str, dict[str, str]]:
    """The server's rows for ``query``, as the cell texts a copy must hold, by id."""
    params = query.params()
    return {r["event_id_cnty"]: text_row(r) for r in fake.sorted_acled() if matches(r, params)}


def _copy(path: Path) -> dict[str, dict[str, str]]:
    with open_table(path) as (_, rows):
        return {r["event_id_cnty"]: r for r in rows}


def _run(args: list[str], env: dict[str, str]):
    """The command in-process, as a user runs it (no terminal: no progress bar)."""
    return CliRunner().invoke(cli, args, env=env, catch_exceptions=False)


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


# --- a full pull --------------------------------------------------------------------------


def test_a_full_pull_equals_the_servers_data_and_pages_to_the_end(fake_sources, tmp_path):
    out = tmp_path / "acled.csv"
    report = pull_acled(out, SYRIA_IRAQ, session=_acled(fake_sources, page_size=100))

    expected = _expected(fake_sources, SYRIA_IRAQ)
    assert _copy(out) == expected
    assert report.rows == len(expected) > 1_000
    # Every page, then the empty one that ends the paging (a short page does not).
    assert report.pages == math.ceil(len(expected) / 100) + 1
    reads = fake_sources.logged("/api/acled/read")
    assert [int(r.query["page"]) for r in reads] == list(range(1, report.pages + 1))
    for request in reads:  # the documented filters, every page
        assert request.query["_format"] == "json"
        assert request.query["country"] == "Syria|Iraq"
        assert request.query["event_date"] == "2014-01-01"
        assert request.query["event_date_where"] == ">="
        assert request.query["limit"] == "100"
    newest = max(int(r["timestamp"]) for r in expected.values())
    assert report.newest == newest
    record = json.loads(record_path(out).read_text(encoding="utf-8"))
    assert record["query"]["countries"] == ["Syria", "Iraq"]
    assert record["newest_timestamp"] == newest and record["rows"] == report.rows


def test_a_page_exactly_full_is_followed_by_an_empty_one(fake_sources, tmp_path):
    query = AcledQuery(countries=("Syria", "Iraq"))
    held = len(_expected(fake_sources, query))
    report = pull_acled(tmp_path / "a.csv", query, session=_acled(fake_sources, page_size=held))
    assert report.rows == held
    assert report.pages == 2  # the full page, then the empty one that ends the paging


def test_a_server_serving_smaller_pages_than_asked_is_followed_to_the_end(fake_sources, tmp_path):
    fake_sources.acled_max_limit = 40  # asked for 100 a page, serves 40, says nothing
    out = tmp_path / "acled.csv"
    report = pull_acled(out, SYRIA_IRAQ, session=_acled(fake_sources, page_size=100))
    expected = _expected(fake_sources, SYRIA_IRAQ)
    assert _copy(out) == expected and report.rows == len(expected) > 1_000
    assert report.pages == math.ceil(len(expected) / 40) + 1 and report.retries == 0

    # The deleted endpoint pages the same way: 60 deletions in pages of 40.
    gone = sorted(expected)[:60]
    fake_sources.delete(gone)
    update = update_acled(out, AcledQuery(), session=_acled(fake_sources, page_size=100))
    assert sorted(update.deleted_ids) == gone and update.deletions_fetched == 60
    assert _copy(out) == _expected(fake_sources, SYRIA_IRAQ)


def test_a_deleted_endpoint_that_ignores_page_is_refused(fake_sources, tmp_path, monkeypatch):
    """Only an empty page ends the paging: a server answering page 1 to every page must
    not keep the pull asking for ever."""
    import fake_sources as fakes

    out = tmp_path / "acled.csv"
    pull_acled(out, SYRIA_IRAQ, session=_acled(fake_sources))
    fake_sources.delete(sorted(_expected(fake_sources, SYRIA_IRAQ))[:3])
    real = fakes._Handler._acled

    def ignore_page(self, path, query):
        return real(self, path, {**query, "page": "1"} if "deleted" in path else query)

    monkeypatch.setattr(fakes._Handler, "_acled", ignore_page)
    with pytest.raises(PullError, match="page 2 repeats entries already received"):
        update_acled(out, AcledQuery(), session=_acled(fake_sources))


def test_the_date_range_and_event_types_reach_the_server(fake_sources, tmp_path):
    query = AcledQuery(
        countries=("Iraq",),
        since=dt.date(2015, 1, 1),
        until=dt.date(2016, 6, 30),
        event_types=("Battles", "Riots"),
    )
    out = tmp_path / "iraq.csv"
    pull_acled(out, query, session=_acled(fake_sources))
    request = fake_sources.logged("/api/acled/read")[0]
    assert request.query["event_date"] == "2015-01-01|2016-06-30"
    assert request.query["event_date_where"] == "BETWEEN"
    assert request.query["event_type"] == "Battles|Riots"
    copy = _copy(out)
    assert copy == _expected(fake_sources, query) and copy
    assert {r["event_type"] for r in copy.values()} <= {"Battles", "Riots"}
    assert all("2015-01-01" <= r["event_date"] <= "2016-06-30" for r in copy.values())


def test_the_copy_is_safe_in_a_spreadsheet_and_restores_to_the_served_text(fake_sources, tmp_path):
    out = tmp_path / "acled.csv"
    pull_acled(out, SYRIA_IRAQ, session=_acled(fake_sources))
    text = out.read_text(encoding="utf-8")
    assert "'=HYPERLINK" in text and "'@Raqqa_SL" in text  # neutralised on disk
    copy = _copy(out)
    assert any(r["notes"].startswith("=HYPERLINK") for r in copy.values())  # restored
    assert any(r["actor1"] == "@Raqqa_SL" for r in copy.values())


def test_the_build_reads_the_pulled_acled_and_ucdp_files(fake_sources, tmp_path):
    acled_csv, ged_csv = tmp_path / "acled.csv", tmp_path / "ged.csv"
    pulled = pull_acled(acled_csv, SYRIA_IRAQ, session=_acled(fake_sources))
    query = UcdpQuery(version="25.1", countries=(("Syria", 652), ("Iraq", 645)))
    ged = pull_ucdp(ged_csv, query, session=_ucdp(fake_sources))

    checked = read_checked(acled_csv, settings=BuildSettings())
    assert checked.format == "acled"
    assert checked.report.rows_loaded == pulled.rows and not checked.report.errors
    checked = read_checked(ged_csv, settings=BuildSettings())
    assert checked.format == "ucdp"
    assert checked.report.rows_loaded == ged.rows == 900 and not checked.report.errors


def test_build_events_reads_a_pulled_file_from_the_command_line(fake_sources, source_env, tmp_path):
    out = tmp_path / "acled.csv"
    result = _run(
        ["pull", "acled", "--country", "Syria", "--since", "2017-01-01", "-o", str(out)], source_env
    )
    assert result.exit_code == 0, result.output
    result = _run(["validate", str(out)], source_env)
    assert result.exit_code == 0, result.output
    assert "set aside" in result.output and "0 set aside" in result.output


# --- tokens -------------------------------------------------------------------------------


def test_the_token_is_refreshed_when_the_server_says_it_expired(fake_sources, tmp_path):
    fake_sources.token_uses = 3  # each access token serves three requests
    session = _acled(fake_sources, page_size=100)
    report = pull_acled(tmp_path / "a.csv", SYRIA_IRAQ, session=session)
    assert report.rows == len(_expected(fake_sources, SYRIA_IRAQ))
    assert fake_sources.grants[0] == "password"
    assert fake_sources.grants.count("refresh_token") == math.ceil(report.pages / 3) - 1
    assert session.auth.grants == fake_sources.grants
    token_requests = fake_sources.logged("/oauth/token")
    first = token_requests[0].form
    assert first == {
        "grant_type": "password",
        "username": ACLED_USER,
        "password": ACLED_PASSWORD,
        "scope": "authenticated",
        "client_id": "acled",
    }
    assert token_requests[1].form["grant_type"] == "refresh_token"
    assert "password" not in token_requests[1].form  # the refresh grant needs no password


def test_a_refused_refresh_token_falls_back_to_the_password(fake_sources, tmp_path):
    fake_sources.token_uses = 2
    session = _acled(fake_sources)
    fake_sources.refresh_tokens.clear()
    original = fake_sources.issue

    def issue_without_refresh(kind):  # refresh tokens are forgotten as soon as issued
        answer = original(kind)
        fake_sources.refresh_tokens.clear()
        return answer

    fake_sources.issue = issue_without_refresh
    report = pull_acled(tmp_path / "a.csv", SYRIA_IRAQ, session=session)
    assert report.rows == len(_expected(fake_sources, SYRIA_IRAQ))
    assert set(fake_sources.grants) == {"password"} and len(fake_sources.grants) > 1


def test_a_token_is_renewed_before_it_expires_by_its_lifetime(fake_sources, tmp_path):
    now = [0.0]
    fake_sources.token_seconds = 1_000

    def clock() -> float:
        now[0] += 400  # each look at the clock: 400 s later
        return now[0]

    session = _acled(fake_sources, page_size=300, clock=clock)
    pull_acled(tmp_path / "a.csv", SYRIA_IRAQ, session=session)
    assert "refresh_token" in session.auth.grants
    # Renewed before use, never refused: one request per page (and the empty one that
    # ends the paging), no 401 to recover from.
    reads = fake_sources.logged("/api/acled/read")
    assert len(reads) == math.ceil(len(_expected(fake_sources, SYRIA_IRAQ)) / 300) + 1


# --- secrets ------------------------------------------------------------------------------


def _all_tokens(fake: FakeSources) -> list[str]:
    return list(fake.issued)


def test_secrets_never_reach_the_output_the_file_or_a_url(fake_sources, source_env, tmp_path):
    out = tmp_path / "acled.csv"
    fake_sources.token_uses = 2  # several tokens issued
    result = _run(
        [
            "pull",
            "acled",
            "--country",
            "Syria",
            "--country",
            "Iraq",
            "-o",
            str(out),
            "--page-size",
            "100",
        ],
        source_env,
    )
    assert result.exit_code == 0, result.output
    assert len(fake_sources.grants) > 2
    written = out.read_text(encoding="utf-8") + record_path(out).read_text(encoding="utf-8")
    shown = result.output
    for secret in [ACLED_PASSWORD, *_all_tokens(fake_sources)]:
        assert secret not in shown and secret not in written
    for request in fake_sources.requests:  # tokens go in headers, never in a URL
        assert not any(s in v for s in [ACLED_PASSWORD, UCDP_TOKEN] for v in request.query.values())
        assert "token" not in " ".join(request.query) or request.path == "/oauth/token"


def test_a_server_quoting_the_token_in_its_error_is_masked(fake_sources, tmp_path):
    fake_sources.fail("acled", Fault(status=400, body=ECHO_AUTH))
    with pytest.raises(PullError) as caught:
        pull_acled(tmp_path / "a.csv", SYRIA_IRAQ, session=_acled(fake_sources))
    message = str(caught.value)
    assert "bad request with credentials Bearer ***" in message
    assert not any(t in message for t in _all_tokens(fake_sources))
    assert not (tmp_path / "a.csv").exists() and not _leftovers(tmp_path)

    fake_sources.fail("ucdp", Fault(status=400, body=ECHO_AUTH))
    with pytest.raises(PullError) as caught:
        pull_ucdp(tmp_path / "g.csv", UcdpQuery(), session=_ucdp(fake_sources))
    assert UCDP_TOKEN not in str(caught.value) and "***" in str(caught.value)


def test_an_error_in_a_200_answer_quoting_the_token_and_email_is_masked(
    fake_sources, source_env, tmp_path
):
    """ACLED puts some errors in an HTTP 200 body (``success: false``): the page check
    raises them, and they must be scrubbed like every other message of the client."""
    fake_sources.echo_password = True  # the error quotes the account's email too
    fake_sources.fail("acled", Fault(status=200, body=ECHO_AUTH))
    with pytest.raises(PullError) as caught:
        pull_acled(tmp_path / "a.csv", SYRIA_IRAQ, session=_acled(fake_sources))
    message = str(caught.value)
    assert "ACLED answered with an error" in message
    assert "bad request with credentials Bearer *** for account ***" in message
    assert ACLED_USER not in message
    assert not any(t in message for t in _all_tokens(fake_sources))

    fake_sources.fail("acled", Fault(status=200, body=ECHO_AUTH))
    out = tmp_path / "b.csv"
    result = _run(["pull", "acled", "--country", "Syria", "-o", str(out)], source_env)
    assert result.exit_code == 2 and result.output.count("\n") == 1
    assert "for account ***" in result.output and ACLED_USER not in result.output
    assert not any(t in result.output for t in _all_tokens(fake_sources))
    assert not out.exists() and not _leftovers(tmp_path)


def test_a_wrong_password_is_a_one_line_refusal_naming_where_it_came_from(
    fake_sources, source_env, tmp_path
):
    fake_sources.echo_password = True  # a server that quotes the password back
    env = {**source_env, "ACLED_PASSWORD": "wrong-password-1234"}
    result = _run(["pull", "acled", "--country", "Syria", "-o", str(tmp_path / "a.csv")], env)
    assert result.exit_code == 2
    line = result.output.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line
    assert "ACLED rejected the credentials in $ACLED_USERNAME and $ACLED_PASSWORD" in line
    assert "HTTP 401" in line
    assert "wrong-password-1234" not in line and ACLED_USER not in line
    with pytest.raises(CredentialsError) as caught:
        _acled(
            fake_sources, credentials=_credentials(password="wrong-password-1234")
        ).auth.headers()
    assert "wrong-password-1234" not in repr(caught.value.args)


def test_403_says_the_account_lacks_access(fake_sources, tmp_path):
    fake_sources.fail("acled", Fault(status=403, body={"message": "Access denied"}))
    with pytest.raises(CredentialsError, match=r"ACLED refused access \(HTTP 403.*API access"):
        pull_acled(tmp_path / "a.csv", SYRIA_IRAQ, session=_acled(fake_sources))
    fake_sources.fail("ucdp", Fault(status=403))
    with pytest.raises(CredentialsError, match=r"UCDP refused access .*HTTP 403"):
        pull_ucdp(tmp_path / "g.csv", UcdpQuery(), session=_ucdp(fake_sources))


def test_a_wrong_ucdp_token_names_the_variable_not_the_value(fake_sources, source_env, tmp_path):
    env = {**source_env, "UCDP_ACCESS_TOKEN": "not-the-token-0000"}
    result = _run(["pull", "ucdp", "--country", "Syria", "-o", str(tmp_path / "g.csv")], env)
    assert result.exit_code == 2
    assert "UCDP rejected the access token in $UCDP_ACCESS_TOKEN (HTTP 401" in result.output
    assert "not-the-token-0000" not in result.output


def test_missing_credentials_say_which_variables_and_never_take_an_option(
    fake_sources, source_env, tmp_path
):
    env = {**source_env, "ACLED_USERNAME": "", "ACLED_PASSWORD": "", "ACLED_EMAIL": ""}
    result = _run(["pull", "acled", "--country", "Syria", "-o", str(tmp_path / "a.csv")], env)
    assert result.exit_code == 2
    assert "ACLED_USERNAME (or ACLED_EMAIL) and ACLED_PASSWORD" in result.output
    assert "--secrets FILE" in result.output
    for command in (["pull", "acled"], ["pull", "ucdp"]):
        help_text = _run([*command, "--help"], env).output
        assert "--password" not in help_text and "--token" not in help_text


def test_a_secrets_file_key_value_or_json_wins_over_the_environment(
    fake_sources, source_env, tmp_path
):
    secrets = tmp_path / "acled.env"
    secrets.write_text(
        f"# ACLED\nexport ACLED_EMAIL={ACLED_USER}\nacled_password='{ACLED_PASSWORD}'\n",
        encoding="utf-8",
    )
    os.chmod(secrets, 0o600)
    env = {**source_env, "ACLED_USERNAME": "", "ACLED_PASSWORD": "stale-password-in-env"}
    out = tmp_path / "a.csv"
    args = ["pull", "acled", "--country", "Iraq", "-o", str(out), "--secrets", str(secrets)]
    result = _run(args, env)
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output

    as_json = tmp_path / "ucdp.json"
    as_json.write_text(json.dumps({"UCDP_ACCESS_TOKEN": UCDP_TOKEN}), encoding="utf-8")
    os.chmod(as_json, 0o644)
    result = _run(
        [
            "pull",
            "ucdp",
            "--country",
            "Iraq",
            "-o",
            str(tmp_path / "g.csv"),
            "--secrets",
            str(as_json),
        ],
        {**source_env, "UCDP_ACCESS_TOKEN": ""},
    )
    assert result.exit_code == 0, result.output
    assert "can be read by other users (mode 644)" in result.output


def test_a_broken_secrets_file_names_the_line_not_its_text(tmp_path):
    secrets = tmp_path / "bad.env"
    secrets.write_text("ACLED_USERNAME=a@b.org\nhunter2-on-its-own\n", encoding="utf-8")
    with pytest.raises(CredentialsError) as caught:
        load_credentials(secrets, environ={}, names=CREDENTIAL_NAMES)
    assert "line 2" in str(caught.value) and "hunter2" not in str(caught.value)
    assert "hunter2" not in repr(
        load_credentials(None, environ={"ACLED_PASSWORD": "hunter2"}, names=CREDENTIAL_NAMES)
    )


def test_a_redirect_to_another_host_does_not_carry_the_token(fake_sources, tmp_path):
    with FakeSources() as other:
        fake_sources.fail(
            "acled",
            Fault(status=302, headers={"Location": f"{other.url}/api/acled/read?page=1"}),
        )
        # The other host answers 401 to the bare request; the client renews its token and
        # asks its own server again, which now answers.
        report = pull_acled(tmp_path / "a.csv", SYRIA_IRAQ, session=_acled(fake_sources))
        arrived = other.logged("/api/acled/read")
        assert arrived and all("Authorization" not in r.headers for r in arrived)
        assert report.rows == len(_expected(fake_sources, SYRIA_IRAQ))


def test_api_addresses_are_checked():
    assert check_base_url("https://acleddata.com/", name="x") == "https://acleddata.com"
    assert check_base_url("http://127.0.0.1:8080", name="x") == "http://127.0.0.1:8080"
    with pytest.raises(PullError, match="plain http is only allowed to this machine"):
        check_base_url("http://acleddata.com", name="--api-url")
    with pytest.raises(PullError, match="must not carry credentials"):
        check_base_url("https://me:secret@acleddata.com", name="--api-url")
    with pytest.raises(PullError, match="not an http"):
        check_base_url("ftp://acleddata.com", name="--api-url")


# --- faults -------------------------------------------------------------------------------


def test_429_and_5xx_are_retried_with_back_off_honouring_retry_after(fake_sources, tmp_path):
    sleeps: list[float] = []
    fake_sources.fail(
        "acled",
        Fault(status=429, headers={"Retry-After": "7"}),
        Fault(status=500),
        Fault(status=503),
        after=2,  # the third page
    )
    session = _acled(fake_sources, client=_client(sleeps))
    report = pull_acled(tmp_path / "a.csv", SYRIA_IRAQ, session=session)
    assert _copy(tmp_path / "a.csv") == _expected(fake_sources, SYRIA_IRAQ)
    assert sleeps == [7.0, 2.0, 4.0]  # Retry-After, then 1 s doubling (2nd and 3rd retry)
    assert report.retries == 3


def test_a_huge_retry_after_is_capped_and_an_http_date_is_read():
    assert retry_after("120") == 120.0
    assert retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480 - 30) == 30.0
    assert retry_after("soon") is None and retry_after(None) is None
    assert RetryPolicy().backoff(1) == 1.0 and RetryPolicy().backoff(10) == 60.0


@pytest.mark.parametrize("kind", ["truncate", "malformed", "short", "reset"])
def test_a_broken_page_is_asked_again(fake_sources, tmp_path, kind):
    sleeps: list[float] = []
    fake_sources.fail("acled", Fault(kind=kind), after=1)
    session = _acled(fake_sources, client=_client(sleeps))
    report = pull_acled(tmp_path / "a.csv", SYRIA_IRAQ, session=session)
    assert _copy(tmp_path / "a.csv") == _expected(fake_sources, SYRIA_IRAQ)
    assert report.retries == 1 and sleeps == [1.0]


def test_the_token_endpoint_is_retried_too(fake_sources, tmp_path):
    fake_sources.fail("token", Fault(), Fault())
    report = pull_acled(tmp_path / "a.csv", SYRIA_IRAQ, session=_acled(fake_sources))
    assert report.rows and report.retries == 2


def test_exhausted_retries_fail_clearly_and_leave_the_old_file_byte_for_byte(
    fake_sources, source_env, tmp_path
):
    out = tmp_path / "acled.csv"
    args = ["pull", "acled", "--country", "Syria", "--country", "Iraq", "-o", str(out)]
    assert _run([*args, "--page-size", "100"], source_env).exit_code == 0
    before, record_before = out.read_bytes(), record_path(out).read_bytes()
    fake_sources.change(["SYR100003"], notes="changed since")  # a new pull would differ

    fake_sources.fail("acled", *[Fault(status=503)] * 3, after=4)
    result = _run([*args, "--page-size", "100", "--retries", "2", "--retry-wait", "0"], source_env)
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    assert "ACLED events, page 5: HTTP 503" in result.output
    assert "gave up after 3 attempts" in result.output
    assert out.read_bytes() == before and record_path(out).read_bytes() == record_before
    assert _leftovers(tmp_path) == []

    fake_sources.fail("deleted", *[Fault(kind="reset")] * 3)
    result = _run(
        ["pull", "acled", "--update", str(out), "--retries", "2", "--retry-wait", "0"], source_env
    )
    assert result.exit_code == 2 and "ACLED deletions, page 1" in result.output
    assert out.read_bytes() == before and _leftovers(tmp_path) == []


def test_an_interrupted_pull_leaves_the_old_file(fake_sources, tmp_path):
    out = tmp_path / "acled.csv"
    out.write_text("the old copy\n", encoding="utf-8")
    session = _acled(fake_sources)

    def interrupt(stage: str, done: int, total: int) -> None:
        if done >= 300:
            raise KeyboardInterrupt

    session.progress = interrupt
    with pytest.raises(KeyboardInterrupt):
        pull_acled(out, SYRIA_IRAQ, session=session)
    assert out.read_text(encoding="utf-8") == "the old copy\n"
    assert _leftovers(tmp_path) == []


def test_acled_progress_has_no_total_until_the_last_page(fake_sources, tmp_path):
    # ACLED does not say how many rows match: a bar with a made-up end would be a wrong
    # figure on the screen; the total is 0 (unknown) until the empty page says it.
    session = _acled(fake_sources)
    seen: list[tuple[int, int]] = []
    session.progress = lambda stage, done, total: seen.append((done, total))
    pull_acled(tmp_path / "acled.csv", SYRIA_IRAQ, session=session)
    assert len(seen) > 2
    assert all(total == 0 for _done, total in seen[:-1])
    assert seen[-1][0] == seen[-1][1] > 0


def test_atomic_output_replaces_only_on_success_and_keeps_the_mode(tmp_path):
    target = tmp_path / "t.csv"
    target.write_text("old", encoding="utf-8")
    os.chmod(target, 0o640)
    with pytest.raises(RuntimeError), atomic_output(target) as out:
        out.write("half of the new")
        raise RuntimeError("stop")
    assert target.read_text(encoding="utf-8") == "old" and _leftovers(tmp_path) == []
    with atomic_output(target) as out:
        out.write("new")
    assert target.read_text(encoding="utf-8") == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    with pytest.raises(PullError, match="does not exist"), atomic_output(tmp_path / "no" / "x"):
        pass


# --- updates ------------------------------------------------------------------------------


def _mutate(fake: FakeSources) -> dict[str, list[str]]:
    """ACLED's week: some events changed, some added, some deleted (one the copy never
    held: a Turkish event, outside the filters)."""
    held = sorted(_expected(fake, SYRIA_IRAQ))
    changed = held[10:17]
    fake.change(changed, fatalities="99", notes="=revised")
    new = acled_events(4, seed=7)
    for i, row in enumerate(new):
        row["event_id_cnty"] = f"IRQ9{i:05d}"
        row["country"] = "Iraq"
        row["event_date"] = "2019-06-0" + str(i + 1)
    fake.add(new)
    deleted = held[40:43]
    turkish = next(k for k in fake.acled if k.startswith("TUR"))
    fake.delete([*deleted, turkish])
    return {"changed": changed, "added": [r["event_id_cnty"] for r in new], "deleted": deleted}


def test_an_update_adds_changes_deletes_and_equals_a_full_download(fake_sources, tmp_path):
    copy_csv, fresh_csv = tmp_path / "acled.csv", tmp_path / "fresh.csv"
    pull_acled(copy_csv, SYRIA_IRAQ, session=_acled(fake_sources))
    order_before = list(_copy(copy_csv))
    expected = _mutate(fake_sources)

    report = update_acled(copy_csv, AcledQuery(), session=_acled(fake_sources))
    assert (report.added, report.changed, report.deleted) == (4, 7, 3)
    assert sorted(report.deleted_ids) == expected["deleted"]
    assert report.deletions_fetched == 4  # the Turkish one was never in the copy
    assert report.query_origin == "the filters of the recorded pull"
    request = fake_sources.logged("/api/acled/read")[-1]
    assert request.query["timestamp"] == str(report.since)
    assert request.query["timestamp_where"] == ">="
    assert request.query["country"] == "Syria|Iraq"  # the recorded pull's filters
    gone = fake_sources.logged("/api/deleted/read")[-1].query
    assert gone["deleted_timestamp"] == str(report.since)
    assert gone["deleted_timestamp_where"] == ">="

    fresh = pull_acled(fresh_csv, SYRIA_IRAQ, session=_acled(fake_sources))
    assert _copy(copy_csv) == _copy(fresh_csv) == _expected(fake_sources, SYRIA_IRAQ)
    assert report.content_hash == fresh.content_hash and report.newest == fresh.newest
    assert all(_copy(copy_csv)[k]["notes"] == "=revised" for k in expected["changed"])
    # Nothing else moved: the events kept stand where they stood, the new ones at the end.
    kept = [k for k in order_before if k not in expected["deleted"]]
    after = list(_copy(copy_csv))
    assert after[: len(kept)] == kept and sorted(after[len(kept) :]) == expected["added"]


def test_an_update_with_nothing_new_keeps_every_row(fake_sources, tmp_path):
    copy_csv = tmp_path / "acled.csv"
    pulled = pull_acled(copy_csv, SYRIA_IRAQ, session=_acled(fake_sources))
    report = update_acled(copy_csv, AcledQuery(), session=_acled(fake_sources))
    assert (report.added, report.changed, report.deleted) == (0, 0, 0)
    assert report.unchanged >= 1  # the rows of the newest timestamp come back, unchanged
    assert report.content_hash == pulled.content_hash and report.rows == pulled.rows


def test_an_update_without_a_record_asks_for_the_copys_countries(fake_sources, tmp_path):
    copy_csv = tmp_path / "acled.csv"
    pull_acled(copy_csv, SYRIA_IRAQ, session=_acled(fake_sources))
    record_path(copy_csv).unlink()
    _mutate(fake_sources)
    report = update_acled(copy_csv, AcledQuery(), session=_acled(fake_sources))
    assert report.query_origin.startswith("no record of the original pull")
    assert fake_sources.logged("/api/acled/read")[-1].query["country"] == "Iraq|Syria"
    assert (report.added, report.changed, report.deleted) == (4, 7, 3)


def test_an_update_given_one_filter_keeps_the_recorded_others(fake_sources, source_env, tmp_path):
    """``--update FILE --since DATE`` without --country: the recorded countries, never the
    whole world (a Turkish event changed meanwhile must not come in)."""
    copy_csv = tmp_path / "acled.csv"
    pull_acled(copy_csv, SYRIA_IRAQ, session=_acled(fake_sources))
    turkish = next(k for k in fake_sources.acled if k.startswith("TUR"))
    fake_sources.change([turkish], notes="changed in Turkey")
    _mutate(fake_sources)

    result = _run(["pull", "acled", "--update", str(copy_csv), "--since", "2015-01-01"], source_env)
    assert result.exit_code == 0, result.output
    asked = fake_sources.logged("/api/acled/read")[-1].query
    assert asked["country"] == "Syria|Iraq"
    assert (asked["event_date"], asked["event_date_where"]) == ("2015-01-01", ">=")
    assert "(--since given, --country from the recorded pull: Syria, Iraq; 2015-01-01" in (
        result.output
    )
    assert not any(k.startswith("TUR") for k in _copy(copy_csv))
    record = json.loads(record_path(copy_csv).read_text(encoding="utf-8"))
    assert record["query"]["countries"] == ["Syria", "Iraq"]
    assert record["query"]["since"] == "2015-01-01"

    # An event type given: the countries and the date (now recorded) stay; in JSON, where
    # each filter came from.
    report = update_acled(
        copy_csv, AcledQuery(event_types=("Battles",)), session=_acled(fake_sources)
    )
    asked = fake_sources.logged("/api/acled/read")[-1].query
    assert (asked["country"], asked["event_date"], asked["event_type"]) == (
        "Syria|Iraq",
        "2015-01-01",
        "Battles",
    )
    assert report.query_fields == {
        "countries": "the recorded pull",
        "since": "the recorded pull",
        "event_types": "the command line",
    }
    assert report.query_origin == "--event-type given, --country and --since from the recorded pull"


def test_choose_query_takes_each_filter_from_where_it_is_given():
    from dashboard.pull.acled import choose_query

    record = {"query": AcledQuery(countries=("Syria",), since=dt.date(2014, 1, 1)).to_record()}
    chosen = choose_query(AcledQuery(), record=record, countries=("Iraq",))
    assert chosen.query == AcledQuery(countries=("Syria",), since=dt.date(2014, 1, 1))
    assert chosen.origin == "the filters of the recorded pull"
    chosen = choose_query(AcledQuery(countries=("Iraq",)), record=record, countries=())
    assert chosen.query == AcledQuery(countries=("Iraq",), since=dt.date(2014, 1, 1))
    assert chosen.fields == {"countries": "the command line", "since": "the recorded pull"}
    # No record: the countries the database holds, the date given.
    chosen = choose_query(
        AcledQuery(until=dt.date(2020, 1, 1)), record=None, countries=("Iraq", "Syria"),
        holder="database",
    )  # fmt: skip
    assert chosen.query == AcledQuery(countries=("Iraq", "Syria"), until=dt.date(2020, 1, 1))
    assert chosen.origin == "--until given, --country from the countries the database holds"
    # A record naming no country (as an earlier update could write) falls back on the copy's.
    empty = {"query": AcledQuery(since=dt.date(2016, 1, 1)).to_record()}
    chosen = choose_query(AcledQuery(), record=empty, countries=("Syria",))
    assert chosen.query == AcledQuery(countries=("Syria",), since=dt.date(2016, 1, 1))
    with pytest.raises(PullError, match="which countries"):
        choose_query(AcledQuery(since=dt.date(2016, 1, 1)), record=None, countries=())
    with pytest.raises(PullError, match=r"is after --until .*--since from the recorded pull"):
        choose_query(AcledQuery(until=dt.date(2010, 1, 1)), record=record, countries=())


def test_an_event_deleted_then_published_again_is_kept(fake_sources, tmp_path):
    copy_csv = tmp_path / "acled.csv"
    pull_acled(copy_csv, SYRIA_IRAQ, session=_acled(fake_sources))
    key = sorted(_expected(fake_sources, SYRIA_IRAQ))[5]
    row = dict(fake_sources.acled[key])
    fake_sources.delete([key])
    fake_sources.add([{**row, "notes": "published again"}])
    report = update_acled(copy_csv, AcledQuery(), session=_acled(fake_sources))
    assert report.deleted == 0 and report.changed == 1
    assert _copy(copy_csv)[key]["notes"] == "published again"


def test_an_update_of_a_file_without_timestamps_says_so(fake_sources, tmp_path):
    plain = tmp_path / "plain.csv"
    plain.write_text("event_id_cnty,event_date,country\nSYR1,2017-01-01,Syria\n", encoding="utf-8")
    with pytest.raises(PullError, match="no 'timestamp' column"):
        update_acled(plain, AcledQuery(), session=_acled(fake_sources))


def test_update_from_the_command_line_reports_counts_ids_and_version(
    fake_sources, source_env, tmp_path
):
    out = tmp_path / "acled.csv"
    assert (
        _run(
            ["pull", "acled", "--country", "Syria", "--country", "Iraq", "-o", str(out)], source_env
        ).exit_code
        == 0
    )
    expected = _mutate(fake_sources)
    result = _run(["pull", "acled", "--update", str(out)], source_env)
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert first.startswith(f"updated {out}: 4 added, 7 changed, 3 deleted: ")
    assert all(k in first for k in expected["deleted"])
    assert "data version: newest timestamp 16000" in result.output and "content " in result.output
    as_json = _run(["pull", "acled", "--update", "-o", str(out), "--json"], source_env)
    summary = json.loads(as_json.output)
    assert summary["added"] == summary["changed"] == summary["deleted"] == 0


def test_the_streamed_csv_is_the_one_the_product_writes_for_the_same_rows():
    """CsvSink skips the neutraliser for cells that cannot need it: the text must be
    tableexport's, byte for byte, on hostile cells too."""
    cells = [
        "Mosul", "-12.5", "=1+1", "  @SUM(A1)", "＝1", "'=x", "a;=1", "x\t-1", "a\rb",
        "line\n+1", "الرقة", "", "\ttab", '"=q"', "1e5", "+3", "Ab;c", "é=1", "½", "Reuters; SOHR", "a; =1", "a;  -2", "a;\u00a0=1",
        "a;;b", "a; 'x", "Ab;", "a;@b",
    ]  # fmt: skip
    columns = ["=first", "b", "c"]
    rows = [
        {"=first": a, "b": b, "c": c}
        for a, b, c in zip(cells, cells[1:] + cells[:1], cells[2:] + cells[:2], strict=True)
    ]
    expected = to_csv_text(
        pd.DataFrame([list(r.values()) for r in rows], columns=columns, dtype=object)
    )
    assert csv_text(rows, columns) == expected
    first_column = [{"=first": c, "b": "x", "c": "y"} for c in ["-1", "12", "Ab"]]
    expected = to_csv_text(
        pd.DataFrame([list(r.values()) for r in first_column], columns=columns, dtype=object)
    )
    assert csv_text(first_column, columns) == expected


def test_the_content_hash_ignores_row_and_column_order():
    a, b = ContentHash(), ContentHash()
    rows = [{"x": "1", "y": "2"}, {"x": "3", "y": ""}]
    for row in rows:
        a.add(row)
    b.add({"y": "", "x": "3"})
    b.add({"y": "2", "x": "1"})
    assert a.hexdigest() == b.hexdigest() and a.rows == 2
    c = ContentHash()
    c.add({"x": "1", "y": "2"})
    c.add({"x": "3", "y": "4"})
    assert c.hexdigest() != a.hexdigest()


# --- the database -------------------------------------------------------------------------


def _stored(url: str) -> dict[str, dict]:
    from dashboard import store as pgstore

    engine = pgstore.connect(url)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            f"SELECT event_id, notes, fatalities, extra->>'timestamp' FROM {pgstore.SCHEMA}.events"
        ).all()
    engine.dispose()
    return {r[0]: {"notes": r[1], "fatalities": r[2], "timestamp": r[3]} for r in rows}


def _areas(url: str) -> tuple[int, list[str]]:
    from dashboard import store as pgstore

    engine = pgstore.connect(url)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            f"SELECT area_id FROM {pgstore.SCHEMA}.control_areas ORDER BY ord"
        ).all()
    engine.dispose()
    return len(rows), [r[0] for r in rows]


def test_pull_and_update_into_the_database(fake_sources, source_env, empty_db, tmp_path):
    args = ["pull", "acled", "--country", "Syria", "--country", "Iraq", "--db", empty_db]
    result = _run(args, source_env)
    assert result.exit_code == 0, result.output
    expected = _expected(fake_sources, AcledQuery(countries=("Syria", "Iraq")))
    assert set(_stored(empty_db)) == set(expected)
    assert f"{len(expected):,} added, 0 changed, 0 deleted" in result.output
    assert "the database holds no control areas yet: joined with the bundled ones" in result.output
    areas_before = _areas(empty_db)
    assert areas_before[0] > 0

    changes = _mutate(fake_sources)
    result = _run(
        ["pull", "acled", "--update", "--db", empty_db], {**source_env, "DASHBOARD_DB": ""}
    )
    assert result.exit_code == 0, result.output
    assert "4 added, 7 changed, 3 deleted: " in result.output
    assert "asking for the countries the database holds: Iraq, Syria" in result.output
    assert "no control areas yet" not in result.output  # the stored ones were used, and kept
    assert _areas(empty_db) == areas_before
    stored = _stored(empty_db)
    fresh = _expected(fake_sources, AcledQuery(countries=("Syria", "Iraq")))
    assert set(stored) == set(fresh)  # as a full re-download
    for key in changes["changed"]:
        assert stored[key]["notes"] == "=revised" and stored[key]["fatalities"] == 99
        assert stored[key]["timestamp"] == str(fresh[key]["timestamp"])

    # Deletions alone: a version of their own; DASHBOARD_DB stands in for the URL.
    fake_sources.delete([sorted(fresh)[0]])
    result = _run(["pull", "acled", "--update", "--db"], {**source_env, "DASHBOARD_DB": empty_db})
    assert result.exit_code == 0, result.output
    assert "0 added, 0 changed, 1 deleted" in result.output
    assert sorted(fresh)[0] not in _stored(empty_db)


def _sql(url: str, statement: str, **params) -> list[tuple]:
    from dashboard import store as pgstore

    engine = pgstore.connect(url)
    with engine.begin() as conn:
        result = conn.exec_driver_sql(statement.format(s=pgstore.SCHEMA), params or None)
        rows = [tuple(r) for r in result.all()] if result.returns_rows else []
    engine.dispose()
    return rows


def _versions(url: str) -> list[tuple]:
    """(version, not_in_file, area_sources) of each data version, oldest first."""
    return _sql(url, "SELECT version, not_in_file, area_sources FROM {s}.data_versions ORDER BY 1")


def _controller(url: str, event_id: str) -> str:
    return _sql(url, "SELECT controller FROM {s}.events WHERE event_id = %(i)s", i=event_id)[0][0]


def _towns(tmp_path: Path) -> Path:
    towns = tmp_path / "towns.csv"
    towns.write_text(
        "name,longitude,latitude,controller,date\n"
        f"Ar-Raqqa,39.01,35.95,{schema.ISLAMIC_STATE},2014-01-01\n"
        f"Mosul,43.13,36.34,{schema.IRAQI_GOVERNMENT},2014-01-01\n"
        f"Aleppo,37.1343,36.2021,{schema.SYRIAN_GOVERNMENT},2014-01-01\n",
        encoding="utf-8",
    )
    return towns


def _pull_into(url: str, env: dict[str, str], *more: str):
    result = _run(
        ["pull", "acled", "--country", "Syria", "--country", "Iraq", "--db", url, *more], env
    )
    assert result.exit_code == 0, result.output
    return result


def test_a_database_update_given_a_filter_asks_for_the_stored_countries(
    fake_sources, source_env, empty_db
):
    _pull_into(empty_db, source_env)
    turkish = next(k for k in fake_sources.acled if k.startswith("TUR"))
    fake_sources.change([turkish], notes="changed in Turkey")
    _mutate(fake_sources)
    args = ["pull", "acled", "--update", "--db", empty_db, "--since", "2014-01-01", "--json"]
    result = _run(args, source_env)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    asked = fake_sources.logged("/api/acled/read")[-1].query
    assert asked["country"] == "Iraq|Syria" and asked["event_date"] == "2014-01-01"
    assert summary["query_fields"] == {
        "countries": "the countries the database holds",
        "since": "the command line",
    }
    assert (
        summary["query_origin"] == "--since given, --country from the countries the database holds"
    )
    assert not any(k.startswith("TUR") for k in _stored(empty_db))
    assert (summary["added"], summary["changed"], summary["deleted"]) == (4, 7, 3)


def test_area_tables_and_town_lists_reach_a_database_pull(
    fake_sources, source_env, empty_db, tmp_path
):
    towns = _towns(tmp_path)
    result = _pull_into(empty_db, source_env, "--areas-points", str(towns))
    assert "no control areas yet" not in result.output  # the town list, not the bundled areas
    count, ids = _areas(empty_db)
    assert count == 4 and all(i.startswith("towns:") for i in ids)
    assert _versions(empty_db)[-1][2] == str(towns.resolve())
    raqqa = next(
        k for k, r in _expected(fake_sources, SYRIA_IRAQ).items() if r["location"] == "Ar-Raqqa"
    )
    assert _controller(empty_db, raqqa) == schema.ISLAMIC_STATE

    # An update with other areas: they replace the stored ones, and the events the update
    # does not bring are joined again with them (the areas changed).
    _mutate(fake_sources)
    other = tmp_path / "other.csv"
    other.write_text(towns.read_text(encoding="utf-8").replace(schema.ISLAMIC_STATE, schema.SDF))
    args = ["pull", "acled", "--update", "--db", empty_db, "--areas-points", str(other), "--json"]
    result = _run(args, source_env)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["area_sources"] == [str(other.resolve())]
    assert _versions(empty_db)[-1][2] == str(other.resolve())
    assert _controller(empty_db, raqqa) == schema.SDF and summary["rejoined"] > 0

    # A missing file is refused before ACLED is asked anything.
    before = len(fake_sources.requests)
    args = [
        "pull",
        "acled",
        "--update",
        "--db",
        empty_db,
        "--areas-table",
        str(tmp_path / "no.csv"),
    ]
    result = _run(args, source_env)
    assert result.exit_code == 2 and "no.csv" in result.output
    assert len(fake_sources.requests) == before


def test_an_event_deleted_while_the_update_ran_is_not_brought_back(fake_sources, empty_db):
    from dashboard import store as pgstore
    from dashboard.pull.todb import pull_into_store

    engine = pgstore.connect(empty_db)
    pull_into_store(
        engine, AcledQuery(countries=("Syria", "Iraq")), session=_acled(fake_sources), update=False
    )
    victim = sorted(_expected(fake_sources, SYRIA_IRAQ))[20]
    fake_sources.change([victim], notes="edited, then deleted")
    session = _acled(fake_sources)

    def delete_after_the_changes(stage: str, done: int, total: int) -> None:
        if stage == "ACLED changes" and victim in fake_sources.acled:
            fake_sources.delete([victim])  # after its change was read, before the deletions

    session.progress = delete_after_the_changes
    report = pull_into_store(engine, AcledQuery(), session=session, update=True)
    engine.dispose()
    # Fetched: the victim and the row of the newest timestamp (``>=``), unchanged.
    assert report.fetched == 2 and report.deleted_ids == [victim]
    assert (report.added, report.changed, report.unchanged) == (0, 0, 1)
    assert victim not in _stored(empty_db)


def test_an_update_that_changes_nothing_records_no_data_version(fake_sources, source_env, empty_db):
    _pull_into(empty_db, source_env)
    versions = _versions(empty_db)
    update = ["pull", "acled", "--update", "--db", empty_db]

    result = _run(update, source_env)  # nothing new: the newest rows come back the same
    assert result.exit_code == 0, result.output
    assert "0 added, 0 changed, 0 deleted (no new version)" in result.output
    assert "nothing changed in the database: no new data version" in result.output
    assert _versions(empty_db) == versions

    turkish = next(k for k in fake_sources.acled if k.startswith("TUR"))
    fake_sources.delete([turkish])  # deletions alone, of an event the store never held
    result = _run([*update, "--json"], source_env)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["deletions_fetched"] == 1 and summary["deleted"] == 0  # asked and found
    assert summary["version"] is None and _versions(empty_db) == versions

    held = sorted(_stored(empty_db))[0]
    fake_sources.delete([held])  # a deletion that counts gets its version
    result = _run(update, source_env)
    assert "0 added, 0 changed, 1 deleted" in result.output
    assert len(_versions(empty_db)) == len(versions) + 1


def test_a_database_update_neither_counts_missing_events_nor_rejoins_them(
    fake_sources, source_env, empty_db
):
    _pull_into(empty_db, source_env)
    kept = sorted(_stored(empty_db))[100]  # an event the update will not bring
    _sql(empty_db, "UPDATE {s}.events SET controller = 'Tampered' WHERE event_id = %(i)s", i=kept)
    _mutate(fake_sources)
    result = _run(["pull", "acled", "--update", "--db", empty_db, "--json"], source_env)
    assert result.exit_code == 0, result.output
    assert _controller(empty_db, kept) == "Tampered"  # the same areas: not joined again
    assert _versions(empty_db)[-1][1] is None  # not_in_file: not applicable, NULL
    summary = json.loads(result.output)
    assert summary["not_in_pull"] is None and summary["rejoined"] == 0
    assert (summary["added"], summary["changed"], summary["deleted"]) == (4, 7, 3)


def test_a_failed_load_keeps_the_events_it_would_have_deleted(empty_db):
    from dashboard import store as pgstore
    from dashboard.pipeline import build

    engine = pgstore.connect(empty_db)
    bundled = build()
    pgstore.load_build(engine, bundled, source="events.csv")
    victim = str(bundled.events["event_id"].iloc[0])

    def fail(done: int, total: int) -> None:
        raise RuntimeError("the load dies half-way")

    with pytest.raises(RuntimeError):
        pgstore.load_build(engine, bundled, delete_ids=[victim], on_batch=fail)
    assert victim in _stored(empty_db)  # one transaction: the deletion was rolled back
    without = dataclasses.replace(bundled, events=bundled.events.iloc[1:])
    loaded = pgstore.load_build(engine, without, delete_ids=[victim, "not-there"])
    assert loaded.deleted_ids == (victim,) and victim not in _stored(empty_db)
    engine.dispose()


# --- UCDP ---------------------------------------------------------------------------------


def test_a_ucdp_pull_follows_next_page_urls_to_the_end(fake_sources, source_env, tmp_path):
    out = tmp_path / "ged.csv"
    args = ["pull", "ucdp", "--country", "Syria", "--country", "645", "--version", "25.1"]
    result = _run([*args, "-o", str(out), "--page-size", "100"], source_env)
    assert result.exit_code == 0, result.output
    assert "pulled 900 UCDP events (GED 25.1 (yearly); Syria 652, Iraq 645)" in result.output
    requests = fake_sources.logged("/api/gedevents/25.1")
    assert [int(r.query["page"]) for r in requests] == list(range(9))
    for request in requests:
        sent = {k.lower(): v for k, v in request.headers.items()}
        assert sent["x-ucdp-access-token"] == UCDP_TOKEN and "authorization" not in sent
    assert requests[0].query["Country"] == "652,645" and requests[0].query["pagesize"] == "100"
    with open_table(out) as (columns, rows):
        copied = {r["id"]: r for r in rows}
        assert columns[:49] == list(schema.UCDP_GED_COLUMNS)
    served = {str(r["id"]): text_row(r) for r in fake_sources.ucdp["25.1"]}
    assert copied == served
    assert UCDP_TOKEN not in out.read_text(encoding="utf-8") + result.output


def test_a_candidate_release_by_its_own_version_name(fake_sources, source_env, tmp_path):
    out = tmp_path / "candidate.csv"
    args = ["pull", "ucdp", "--country", "Syria", "--country", "Iraq", "--candidate"]
    result = _run([*args, "--version", "25.0.10", "-o", str(out)], source_env)
    assert result.exit_code == 0, result.output
    assert "GED 25.0.10 (candidate)" in result.output and "preliminary" in result.output
    result = _run([*args, "--version", "25.1", "-o", str(out)], source_env)
    assert result.exit_code == 2 and "named YY.0.M (e.g. 25.0.10" in result.output
    result = _run(
        ["pull", "ucdp", "--country", "Syria", "--version", "24.9", "-o", str(out)], source_env
    )
    assert result.exit_code == 2 and "YY.1 for the yearly release" in result.output
    result = _run(
        ["pull", "ucdp", "--country", "Syria", "--version", "23.1", "-o", str(out)], source_env
    )
    assert result.exit_code == 2 and "HTTP 404" in result.output


def test_an_unknown_country_lists_the_known_ones_and_the_code_way():
    assert country_code("syria") == ("Syria", 652) and country_code("645") == ("Iraq", 645)
    assert country_code("  Türkiye ") == ("Turkey", 640) and country_code("490") == ("490", 490)
    with pytest.raises(PullError) as caught:
        country_code("Narnia")
    assert "'Narnia'" in str(caught.value) and "--country 652" in str(caught.value)
    assert "Iraq 645" in str(caught.value) and "Syria 652" in str(caught.value)


def test_ucdp_faults_are_retried_and_a_foreign_next_page_is_refused(fake_sources, tmp_path):
    sleeps: list[float] = []
    fake_sources.fail(
        "ucdp", Fault(status=429, headers={"Retry-After": "3"}), Fault(kind="short"), after=2
    )
    session = _ucdp(fake_sources, client=_client(sleeps))
    report = pull_ucdp(tmp_path / "g.csv", UcdpQuery(), session=session)
    assert report.rows == 900 and sleeps == [3.0, 2.0]

    fake_sources.next_page_base = "http://127.0.0.2:9"
    with pytest.raises(PullError, match="leads to another server"):
        pull_ucdp(tmp_path / "g.csv", UcdpQuery(), session=_ucdp(fake_sources))
    assert _copy_rows(tmp_path / "g.csv") == 900  # the earlier copy, whole


def test_a_ucdp_server_serving_smaller_pages_than_asked_is_followed(fake_sources, tmp_path):
    fake_sources.ucdp_max_pagesize = 40
    session = _ucdp(fake_sources, page_size=100)
    report = pull_ucdp(tmp_path / "g.csv", UcdpQuery(), session=session)
    assert report.rows == 900 and report.pages == 23 and report.retries == 0


def _copy_rows(path: Path) -> int:
    with open_table(path) as (_, rows):
        return sum(1 for _ in rows)


# --- the command line ---------------------------------------------------------------------


def test_pull_help_is_clean():
    for command in (["pull"], ["pull", "acled"], ["pull", "ucdp"]):
        result = CliRunner().invoke(cli, [*command, "--help"])
        assert result.exit_code == 0 and "Traceback" not in result.output
    acled_help = CliRunner().invoke(cli, ["pull", "acled", "--help"]).output
    assert "--update [FILE]" in acled_help and "ACLED_API_URL" in acled_help
    assert "pull" in CliRunner().invoke(cli, ["--help"]).output


def test_pull_options_are_checked_in_one_line(source_env, tmp_path):
    cases = {
        ("pull", "acled", "-o", "x.csv"): "--country is required",
        ("pull", "acled", "--country", "Syria"): "-o FILE, --update FILE or --db URL",
        (
            "pull",
            "acled",
            "--country",
            "Syria",
            "-o",
            "a.csv",
            "--db",
            "postgresql://h/d",
        ): "not both",
        ("pull", "acled", "--update", "a.csv", "-o", "b.csv"): "name different files",
        (
            "pull",
            "acled",
            "--country",
            "Syria",
            "--event-type",
            "Sieges",
            "-o",
            "a.csv",
        ): "choose from: Battles",
        (
            "pull",
            "acled",
            "--country",
            "Syria",
            "--since",
            "2019-01-01",
            "--until",
            "2018-01-01",
            "-o",
            "a.csv",
        ): "is after --until",
        (
            "pull",
            "acled",
            "--country",
            "Syria",
            "--areas",
            "x.geojson",
            "-o",
            "a.csv",
        ): "--areas is for --db",
        (
            "pull",
            "acled",
            "--country",
            "Syria",
            "--areas-table",
            "t.csv",
            "--boundaries",
            "b.geojson",
            "-o",
            "a.csv",
        ): "--areas-table and --boundaries are for --db",
        (
            "pull",
            "acled",
            "--update",
            "a.csv",
            "--areas-points",
            "towns.csv",
        ): "--areas-points is for --db",
        (
            "pull",
            "acled",
            "--country",
            "Syria",
            "--api-url",
            "http://example.org",
            "-o",
            "a.csv",
        ): "plain http",
        ("pull", "ucdp", "--country", "Narnia", "-o", "g.csv"): "not in the table",
    }
    for args, expected in cases.items():
        result = _run(list(args), source_env)
        assert result.exit_code == 2, (args, result.output)
        assert expected in result.output, (args, result.output)
        assert result.output.count("\n") == 1, result.output


def test_no_progress_bar_when_not_on_a_terminal(fake_sources, source_env, tmp_path):
    result = _run(
        ["pull", "acled", "--country", "Syria", "-o", str(tmp_path / "a.csv")], source_env
    )
    assert result.exit_code == 0 and "\x1b" not in result.output and "\r" not in result.output
    assert len(result.output.splitlines()) == 2
