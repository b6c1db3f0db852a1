"""Access control (``dashboard.app.auth``) and attribution (``dashboard.attribution``).

The policy functions are tested on their own; the three modes run the real page with
AppTest (no browser): secrets come from ``at.secrets`` (never the developer's files), the
signed-in user from ``at.user``. The browser side (the real login redirect, the server's
address) is in ``tests/browser/test_auth.py``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from pathlib import Path
from types import SimpleNamespace

import app_fixtures
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import access, attribution, paths
from dashboard.app import auth, gate
from dashboard.app import session as K
from dashboard.app.loaders import AREAS_ENV, EVENTS_ENV

APP = str(Path(paths.PACKAGE_DIR) / "app" / "main.py")
TIMEOUT = 120
PASSWORD = "correct horse battery staple"
AUTH_SECRETS = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "a-test-cookie-secret-of-some-length",
    "client_id": "conflictmap",
    "client_secret": "not-a-real-secret",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}
# The shared fixtures of the AppTest modules (pytest finds them by these names).
private_build_cache = app_fixtures.private_build_cache
tiny = app_fixtures.tiny

#: Secrets that select no mode: keeps AppTest away from the developer's secrets files.
NO_ACCESS = {"conflictmap_tests": {"isolated": True}}


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    monkeypatch.delenv(access.PASSWORD_ENV, raising=False)
    monkeypatch.delenv(access.INSECURE_ENV, raising=False)
    monkeypatch.delenv(access.ADDRESS_HEADER_ENV, raising=False)
    # The process-wide records start empty for each test (every AppTest is "loopback").
    monkeypatch.setattr(gate, "ATTEMPTS", gate.AttemptLimiter())
    monkeypatch.setattr(gate, "GRANTS", gate.Grants())
    monkeypatch.setattr(gate, "TOKENS", gate.AccessTokens())


def _app(
    secrets: dict,
    *,
    user: dict | None = None,
    params: dict | None = None,
) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in secrets.items():
        at.secrets[key] = value
    if user is not None:
        at.user = user
    for key, value in (params or {}).items():
        at.query_params[key] = value
    return at.run()


def _element_types(node) -> list[str]:
    out: list[str] = []
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for child in children.values():
            out.append(child.type)
            out.extend(_element_types(child))
    return out


def _shows_data(at: AppTest) -> bool:
    """Any element that carries the data: the map, a table, a chart, the summary line."""
    types = set(_element_types(at.main)) | set(_element_types(at.sidebar))
    data_types = {"component_instance", "dataframe", "vega_lite_chart", "download_button"}
    summary = any(t.value.startswith("As of ") for t in at.text)
    return bool(types & data_types) or summary


def _texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [e.value for e in at.error]
    parts += [w.value for w in at.warning] + [c.value for c in at.caption]
    return "\n".join(str(p) for p in parts)


def _plain(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u200b", "")


def _submit_password(at: AppTest, value: str) -> AppTest:
    at.text_input[0].input(value)
    at.button[0].click()
    return at.run()


# --- policy ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address", ["localhost", "LOCALHOST", "127.0.0.1", "127.3.2.1", "::1", "[::1]"]
)
def test_loopback_addresses_are_not_public(address):
    assert not access.is_public_address(address)


@pytest.mark.parametrize(
    "address", ["0.0.0.0", "", "::", "192.168.1.20", "10.0.0.1", "dash.example.org"]
)
def test_other_addresses_are_public(address):
    # "" is Streamlit's default: every interface. Host names may resolve anywhere.
    assert access.is_public_address(address)


def test_no_http_server_is_not_public():
    assert not access.is_public_address(None)


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("alice@team.org", True),  # by domain
        ("Alice@Team.ORG ", True),  # case and spaces do not matter
        ("bob@partner.org", True),  # by address
        ("carol@partner.org", False),  # the partner's other people are not
        ("mallory@sub.team.org", False),  # a domain entry is not its subdomains
        ("mallory@team.org.evil.net", False),
        ("mallory@evilteam.org", False),
        ("team.org", False),
        ("@team.org", False),
        ("a@b@team.org", False),
        (None, False),
        (42, False),
    ],
)
def test_allowlist_matches_addresses_and_whole_domains(email, expected):
    allowed = access.normalise_allowlist(["@team.org", "Bob@Partner.org"])
    assert access.email_allowed(email, allowed) is expected


def test_an_address_the_provider_did_not_verify_is_refused():
    allowed = access.normalise_allowlist(["@team.org"])
    assert not access.email_allowed("alice@team.org", allowed, verified=False)
    assert not access.email_allowed("alice@team.org", allowed, verified="false")
    assert access.email_allowed("alice@team.org", allowed, verified=True)


def test_an_empty_allowlist_admits_nobody_and_star_admits_everyone():
    assert not access.email_allowed("alice@team.org", ())
    assert access.email_allowed("anyone@anywhere.net", access.normalise_allowlist("*"))


@pytest.mark.parametrize("entry", ["team.org", "alice", "a b@team.org", "a@"])
def test_a_malformed_allowlist_entry_is_named(entry):
    with pytest.raises(access.AccessConfigError, match=repr(entry)):
        access.normalise_allowlist(["@ok.org", entry])


def test_policy_oidc_wins_over_a_password():
    secrets = {"auth": AUTH_SECRETS, "access": {"allowed": ["@team.org"], "password": "x"}}
    policy = access.policy_from(secrets, {access.PASSWORD_ENV: "y"})
    assert policy.mode == access.OIDC
    assert policy.allowed == ("@team.org",)
    assert policy.providers == (None,)


def test_policy_offers_named_providers():
    secrets = {
        "auth": {
            "redirect_uri": "x",
            "cookie_secret": "y",
            "client_kwargs": {"prompt": "login"},  # a table, but not a provider
            "google": {"client_id": "a", "client_secret": "b", "server_metadata_url": "c"},
            "okta": {"client_id": "a", "client_secret": "b", "server_metadata_url": "c"},
        }
    }
    assert access.policy_from(secrets, {}).providers == ("google", "okta")
    secrets["access"] = {"provider": "okta"}
    assert access.policy_from(secrets, {}).providers == ("okta",)


def test_policy_password_from_secrets_then_environment():
    from_secrets = access.policy_from({"access": {"password": "s"}}, {access.PASSWORD_ENV: "e"})
    assert (from_secrets.mode, from_secrets.password) == (access.PASSWORD, "s")
    from_env = access.policy_from({}, {access.PASSWORD_ENV: "env-pass"})
    assert (from_env.mode, from_env.password) == (access.PASSWORD, "env-pass")
    assert "env-pass" not in repr(from_env)  # never printed by accident


def test_policy_without_access_control_is_local():
    assert access.policy_from({}, {}).mode == access.LOCAL
    # An empty password is no password.
    assert (
        access.policy_from({"access": {"password": ""}}, {access.PASSWORD_ENV: ""}).mode
        == access.LOCAL
    )


def test_secret_files_merge_and_a_broken_one_is_named(tmp_path):
    first = tmp_path / "a.toml"
    second = tmp_path / "b.toml"
    first.write_text('[access]\npassword = "one"\n', encoding="utf-8")
    second.write_text('[access]\npassword = "two"\n', encoding="utf-8")
    merged = access.read_secret_files([first, tmp_path / "missing.toml", second])
    assert merged == {"access": {"password": "two"}}
    broken = tmp_path / "broken.toml"
    broken.write_text("[access\npassword = 'secret-value'\n", encoding="utf-8")
    with pytest.raises(access.AccessConfigError, match="broken.toml") as info:
        access.read_secret_files([broken])
    assert "secret-value" not in str(info.value)


def test_wrong_passwords_wait_longer_each_time():
    waits = [access.lock_seconds(n) for n in range(1, 12)]
    assert waits[: access.FREE_ATTEMPTS - 1] == [0.0, 0.0]
    assert waits[access.FREE_ATTEMPTS - 1] == access.FIRST_LOCK_S
    assert all(b >= a for a, b in itertools.pairwise(waits))
    assert max(waits) == access.MAX_LOCK_S


def test_saved_view_round_trips_and_refuses_junk():
    raw = "date%3D2015-06-15%26window%3D90%26layers%3Dareas%26layers%3Devents"
    assert access.saved_view_params(raw) == {
        "date": ["2015-06-15"],
        "window": ["90"],
        "layers": ["areas", "events"],
    }
    assert access.saved_view_params("") == {}
    assert access.saved_view_params(None) == {}
    assert access.saved_view_params("x=" + "1" * (access.MAX_SAVED_QUERY + 1)) == {}


# --- attribution -------------------------------------------------------------------------


def _dataset(fmt: str, *, events_name="file.csv", areas_names=("areas.geojson",), methods=()):
    events = pd.DataFrame(
        {
            "source_format": [fmt] * max(1, len(methods)),
            "geocode_method": list(methods) or ["given"],
        }
    )
    return SimpleNamespace(events=events, events_name=events_name, areas_names=areas_names)


def test_acled_data_is_credited_as_acled_asks():
    lines = attribution.attribution_lines(_dataset("acled"))
    assert lines[0] == attribution.ACLED_ATTRIBUTION
    assert "Armed Conflict Location & Event Data (ACLED)" in lines[0]
    assert "www.acleddata.com" in lines[0]


def test_ucdp_data_is_credited_with_its_licence_and_article():
    lines = attribution.attribution_lines(_dataset("ucdp"))
    assert lines[0] == attribution.UCDP_ATTRIBUTION
    assert "CC BY 4.0" in lines[0] and "Sundberg" in lines[0] and "Melander" in lines[0]


def test_the_bundled_demo_credits_its_own_sources_the_gazetteer_and_its_areas():
    ds = _dataset(
        "canonical",
        events_name=paths.BUNDLED_EVENTS.name,
        areas_names=(paths.BUNDLED_AREAS.name,),
        methods=("given", "exact"),
    )
    assert attribution.attribution_lines(ds) == [
        attribution.DEMO_EVENTS_ATTRIBUTION,
        attribution.GEONAMES_ATTRIBUTION,
        attribution.DEMO_AREAS_ATTRIBUTION,
    ]


def test_only_the_bundled_files_are_credited_as_the_demo(tmp_path):
    elsewhere = tmp_path / paths.BUNDLED_EVENTS.name  # the same name, another folder
    ds = _dataset("canonical", events_name=elsewhere.name, areas_names=("control_areas.geojson",))
    lines = attribution.attribution_lines(
        ds, events_path=elsewhere, area_paths=[tmp_path / "control_areas.geojson"]
    )
    assert lines == [
        "Event data: events.csv; sources as cited in its rows.",
        "Control areas: control_areas.geojson (supplied by the user).",
    ]
    bundled = attribution.attribution_lines(
        ds, events_path=paths.BUNDLED_EVENTS, area_paths=[paths.BUNDLED_AREAS]
    )
    assert bundled == [attribution.DEMO_EVENTS_ATTRIBUTION, attribution.DEMO_AREAS_ATTRIBUTION]


def test_user_files_are_named_and_the_basemap_credited_on_request():
    lines = attribution.attribution_lines(
        _dataset("mapped", events_name="ours.csv", areas_names=("a.geojson", "b.gpkg")),
        basemap="osm",
    )
    assert lines == [
        "Event data: ours.csv (columns mapped by the user).",
        "Control areas: a.geojson, b.gpkg (supplied by the user).",
        attribution.OSM_ATTRIBUTION,
    ]


def test_a_frame_mixing_sources_credits_each_once():
    frame = pd.DataFrame({"source_format": ["ucdp", "acled", "acled"]})
    assert attribution.attribution_lines(frame) == [
        attribution.ACLED_ATTRIBUTION,
        attribution.UCDP_ATTRIBUTION,
    ]


def test_a_real_acled_build_is_credited_to_acled(tmp_path):
    from dashboard.pipeline import build
    from dashboard.synth import write_synthetic

    write_synthetic(tmp_path, events=30, areas=8, seed=3, layout="acled")
    result = build(tmp_path / "events.csv", [tmp_path / "control_areas.parquet"])
    assert attribution.source_formats(result) == ("acled",)
    assert attribution.attribution_lines(result)[0] == attribution.ACLED_ATTRIBUTION


# --- password mode (AppTest) -------------------------------------------------------------


def test_password_mode_shows_nothing_of_the_data_until_the_password_is_right(tiny):
    at = _app({"access": {"password": PASSWORD}})
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.text_input) == 1 and at.text_input[0].label == "Password"
    assert not _shows_data(at)

    at = _submit_password(at, "wrong")
    assert "Wrong password." in [e.value for e in at.error]
    assert not _shows_data(at)

    at = _submit_password(at, PASSWORD)
    assert not at.exception, [e.value for e in at.exception]
    assert _shows_data(at)
    assert not at.error
    # Later runs (any widget) stay open without asking again.
    at.run()
    assert _shows_data(at)


def test_the_password_is_never_kept_in_the_session(tiny):
    at = _app({"access": {"password": PASSWORD}})
    at = _submit_password(at, "wrong " + PASSWORD)
    at = _submit_password(at, PASSWORD)
    assert _shows_data(at)
    state = at.session_state.to_dict()
    assert state[auth.K_GRANTED] == access.PASSWORD
    assert not any(PASSWORD in repr(value) for value in state.values())


def test_the_password_can_come_from_the_environment(tiny, monkeypatch):
    monkeypatch.setenv(access.PASSWORD_ENV, PASSWORD)
    at = _app(NO_ACCESS)
    assert not _shows_data(at)
    at = _submit_password(at, PASSWORD)
    assert _shows_data(at)


def test_wrong_passwords_are_rate_limited(tiny, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(auth, "_clock", lambda: now[0])
    at = _app({"access": {"password": PASSWORD}})
    for _ in range(access.FREE_ATTEMPTS):
        at = _submit_password(at, "wrong")
        assert "Wrong password." in [e.value for e in at.error]
    # Locked: even the right password is not checked now.
    at = _submit_password(at, PASSWORD)
    assert not _shows_data(at)
    assert any(e.value.startswith("Too many wrong passwords") for e in at.error)
    now[0] += access.lock_seconds(access.FREE_ATTEMPTS)
    at = _submit_password(at, PASSWORD)
    assert _shows_data(at)


def test_new_sessions_do_not_reset_the_count_of_wrong_passwords(tiny):
    wrong = 0
    while wrong < gate.ADDRESS_FREE_ATTEMPTS:  # a new session each time its own wait begins
        at = _app({"access": {"password": PASSWORD}})
        for _ in range(min(access.FREE_ATTEMPTS, gate.ADDRESS_FREE_ATTEMPTS - wrong)):
            at = _submit_password(at, "wrong")
            assert "Wrong password." in [e.value for e in at.error]
            wrong += 1
    at = _app({"access": {"password": PASSWORD}})
    at = _submit_password(at, PASSWORD)
    assert not _shows_data(at)
    assert any("from your network address" in e.value for e in at.error)


def test_admitted_sessions_are_recorded_for_the_server(tiny):
    at = _app({"access": {"password": PASSWORD}})
    assert len(gate.GRANTS) == 0  # the password box alone admits nobody
    at = _submit_password(at, PASSWORD)
    assert _shows_data(at)
    assert len(gate.GRANTS) == 1
    # The browser is given its access token (a session cookie) once.
    scripts = [e for e in at.get("html") if auth.ACCESS_COOKIE in str(e.proto)]
    assert len(scripts) == 1


def _written_tokens(at: AppTest) -> list[str]:
    """The access tokens the page's scripts of the last run write into the cookie."""
    pattern = re.escape(auth.ACCESS_COOKIE) + r"=([A-Za-z0-9._-]+);"
    return [m for e in at.get("html") for m in re.findall(pattern, str(e.proto))]


def test_the_access_token_is_signed_and_renewed_near_its_expiry(tiny, monkeypatch):
    now = [1_000_000.0]
    monkeypatch.setattr(gate, "TOKENS", gate.AccessTokens(clock=lambda: now[0]))
    at = _app({"access": {"password": PASSWORD}})
    at = _submit_password(at, PASSWORD)
    (token,) = _written_tokens(at)
    assert gate.TOKENS.mode(token) == access.PASSWORD
    at.run()
    assert _written_tokens(at) == []  # fresh: not written again
    now[0] += gate.TOKEN_LIFETIME_S - gate.TOKEN_RENEW_S + 1
    at.run()
    (renewed,) = _written_tokens(at)
    assert renewed != token
    assert gate.TOKENS.fresh(renewed, access.PASSWORD)


def test_too_many_wrong_passwords_on_the_whole_server_make_everyone_wait(tiny, monkeypatch):
    monkeypatch.setattr(gate, "ATTEMPTS", gate.AttemptLimiter(per_minute=2))
    at = _app({"access": {"password": PASSWORD}})
    for _ in range(2):
        at = _submit_password(at, "wrong")
        assert "Wrong password." in [e.value for e in at.error]
    fresh = _app({"access": {"password": PASSWORD}})
    fresh = _submit_password(fresh, PASSWORD)
    assert not _shows_data(fresh)
    assert any("on this server just now" in e.value for e in fresh.error), fresh.error


def test_a_permalink_survives_the_password(tiny):
    at = _app({"access": {"password": PASSWORD}}, params={"date": "2015-06-12", "window": "30"})
    assert not _shows_data(at)
    at = _submit_password(at, PASSWORD)
    assert at.session_state[K.K_DATE] == dt.date(2015, 6, 12)
    assert at.query_params["date"] == "2015-06-12"


def test_hosted_pages_credit_acled_data(tmp_path, monkeypatch):
    from dashboard.synth import write_synthetic

    write_synthetic(tmp_path, events=40, areas=8, seed=5, layout="acled")
    monkeypatch.setenv(EVENTS_ENV, str(tmp_path / "events.csv"))
    monkeypatch.setenv(AREAS_ENV, str(tmp_path / "control_areas.parquet"))
    at = _submit_password(_app({"access": {"password": PASSWORD}}), PASSWORD)
    assert _shows_data(at), [e.value for e in at.error]
    captions = [_plain(c.value) for c in at.caption]
    assert any(attribution.ACLED_ATTRIBUTION in c for c in captions), captions


# --- OIDC mode (AppTest: the user is given; the redirect is in the browser tests) ---------


def _oidc(allowed: list[str]) -> dict:
    return {"auth": AUTH_SECRETS, "access": {"allowed": allowed}}


def test_oidc_before_login_offers_the_login_and_nothing_else(tiny):
    at = _app(_oidc(["@team.org"]), user={"is_logged_in": False})
    assert not at.exception, [e.value for e in at.exception]
    assert [b.label for b in at.button] == ["Log in"]
    assert not _shows_data(at)


def test_oidc_an_allowed_user_sees_the_data(tiny):
    at = _app(_oidc(["@team.org"]), user={"is_logged_in": True, "email": "alice@team.org"})
    assert not at.exception, [e.value for e in at.exception]
    assert _shows_data(at)
    assert any("Signed in as" in c.value for c in at.sidebar.caption)
    assert "Log out" in [b.label for b in at.sidebar.button]


@pytest.mark.parametrize(
    "user",
    [
        {"is_logged_in": True, "email": "mallory@other.org"},
        {"is_logged_in": True, "email": "alice@team.org", "email_verified": False},
        {"is_logged_in": True, "name": "No Mail"},
    ],
)
def test_oidc_a_user_off_the_list_is_refused_and_can_log_out(tiny, user):
    at = _app(_oidc(["@team.org"]), user=user)
    assert not at.exception, [e.value for e in at.exception]
    assert not _shows_data(at)
    assert any("may not see this dashboard" in e.value for e in at.error)
    assert [b.label for b in at.button] == ["Log out"]


def test_oidc_logging_out_revokes_the_browsers_access_token(tiny):
    at = _app(_oidc(["@team.org"]), user={"is_logged_in": True, "email": "alice@team.org"})
    (token,) = _written_tokens(at)
    assert gate.TOKENS.mode(token) == access.OIDC
    at.sidebar.button(key="auth_logout").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert gate.TOKENS.mode(token) is None
    assert not _shows_data(at)


def test_oidc_with_an_empty_allowlist_admits_nobody(tiny):
    at = _app({"auth": AUTH_SECRETS}, user={"is_logged_in": True, "email": "alice@team.org"})
    assert not _shows_data(at)


def test_oidc_with_a_malformed_allowlist_refuses_everyone(tiny):
    at = _app(_oidc(["team.org"]), user={"is_logged_in": True, "email": "alice@team.org"})
    assert not _shows_data(at)
    assert any("misconfigured" in e.value for e in at.error)


# --- local mode (AppTest) ----------------------------------------------------------------


def test_local_mode_shows_the_data_without_the_hosted_attribution(tiny):
    at = _app(NO_ACCESS)
    assert _shows_data(at)
    assert not any("Event data:" in _plain(c.value) for c in at.caption)


def test_local_mode_on_a_public_address_refuses_to_show_data(tiny, monkeypatch):
    monkeypatch.setattr(auth, "listen_address", lambda: "0.0.0.0")
    at = _app(NO_ACCESS)
    assert not at.exception, [e.value for e in at.exception]
    assert not _shows_data(at)
    assert any("public address without access control" in _plain(e.value) for e in at.error)


def test_local_mode_on_a_public_address_with_the_insecure_flag_warns_and_credits(tiny, monkeypatch):
    monkeypatch.setattr(auth, "listen_address", lambda: "0.0.0.0")
    monkeypatch.setenv(access.INSECURE_ENV, "1")
    at = _app(NO_ACCESS)
    assert _shows_data(at)
    assert any("Open to anyone" in w.value for w in at.warning)
    assert any("Event data:" in _plain(c.value) for c in at.caption)
