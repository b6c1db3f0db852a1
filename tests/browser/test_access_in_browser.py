"""Access control in a real browser against the real server: nothing of the data before access.

Every browser context here blocks requests to anything but 127.0.0.1, and records what
the server sends over the websocket: before access is granted no message may carry a
value of the data (event ids, places, controllers); after it, they do (the check is not
vacuous). Data: the hand-made inputs of ``app_fixtures``.

* password mode: the password box, a wrong then the right password, the permalink kept;
* local mode on a public address (0.0.0.0): refused, unless started as insecure-public;
* OIDC: Streamlit's login against the fake provider of ``hosting.FakeIdP`` on 127.0.0.1,
  with the app under a base path (``/conflictmap/``): an allowed user gets the map and
  the view of the link they opened (kept through the login redirect); a user outside the
  allowlist is refused.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from browser_helpers import (
    MAP_FRAME_TITLE,
    PAGE_TIMEOUT_MS,
    Server,
    free_port,
    wait_for_map,
    wait_idle,
)
from hosting import FakeIdP, oidc_secrets, run_app, write_secrets
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PASSWORD = "a shared password for the test"
#: Values of the tiny data that no page without it can contain.
DATA_MARKERS = (b"IRQ1", b"SYR2", b"Mosul", b"Iraqi government", b"Shafaq News")
PERMALINK = "date=2015-06-12&window=30"
BASE_PATH = "conflictmap"
MAP_IFRAME = f'iframe[title="{MAP_FRAME_TITLE}"]'


@pytest.fixture(scope="module")
def tiny_env(tmp_path_factory) -> dict[str, str]:
    from app_fixtures import write_inputs

    events, areas = write_inputs(tmp_path_factory.mktemp("auth-tiny"))
    return {"CONFLICTMAP_EVENTS": str(events), "CONFLICTMAP_AREAS": str(areas)}


@pytest.fixture(scope="module")
def no_secrets(tmp_path_factory):
    return write_secrets(tmp_path_factory.mktemp("auth-secrets") / "secrets.toml")


@pytest.fixture(scope="module")
def password_server(tiny_env, no_secrets, artifacts) -> Iterator[Server]:
    env = {**tiny_env, "DASHBOARD_PASSWORD": PASSWORD}
    with run_app(env, artifacts / "server-password.log", secrets_file=no_secrets) as server:
        yield server


@pytest.fixture(scope="module")
def public_server(tiny_env, no_secrets, artifacts) -> Iterator[Server]:
    log = artifacts / "server-public.log"
    with run_app(tiny_env, log, secrets_file=no_secrets, address="0.0.0.0") as server:
        yield server


@pytest.fixture(scope="module")
def insecure_public_server(tiny_env, no_secrets, artifacts) -> Iterator[Server]:
    env = {**tiny_env, "CONFLICTMAP_INSECURE_PUBLIC": "1"}
    log = artifacts / "server-insecure-public.log"
    with run_app(env, log, secrets_file=no_secrets, address="0.0.0.0") as server:
        yield server


@pytest.fixture(scope="module")
def oidc(tiny_env, tmp_path_factory, artifacts) -> Iterator[tuple[Server, FakeIdP]]:
    port = free_port()
    redirect_uri = f"http://127.0.0.1:{port}/{BASE_PATH}/oauth2callback"
    idp = FakeIdP(
        client_id="conflictmap-test",
        client_secret=secrets.token_urlsafe(24),
        redirect_uri=redirect_uri,
    )
    with idp:
        text = oidc_secrets(
            redirect_uri=redirect_uri,
            idp=idp,
            allowed=["@team.org", "bob@partner.org"],
            cookie_secret=secrets.token_hex(32),
        )
        secrets_file = write_secrets(tmp_path_factory.mktemp("auth-oidc") / "secrets.toml", text)
        log = artifacts / "server-oidc.log"
        with run_app(
            tiny_env, log, secrets_file=secrets_file, base_path=BASE_PATH, port=port
        ) as server:
            yield server, idp


class Watched:
    """A page whose requests leave only for 127.0.0.1 and whose websocket is recorded."""

    def __init__(self, browser) -> None:
        self.context = browser.new_context(viewport={"width": 1440, "height": 1000})
        self.context.set_default_timeout(PAGE_TIMEOUT_MS)
        self.blocked: list[str] = []
        self.frames: list[bytes] = []
        self.context.route("**/*", self._route)
        self.errors: list[str] = []
        self.page = self.context.new_page()
        self.page.on("websocket", self._websocket)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    def _route(self, route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def _websocket(self, ws) -> None:
        def keep(payload) -> None:
            self.frames.append(payload if isinstance(payload, bytes) else payload.encode())

        ws.on("framereceived", keep)

    def data_seen(self) -> list[bytes]:
        return [m for m in DATA_MARKERS if any(m in frame for frame in self.frames)]

    def assert_no_data(self) -> None:
        wait_idle(self.page)
        assert self.page.locator(MAP_IFRAME).count() == 0
        assert self.page.locator('[data-testid="stDataFrame"]').count() == 0
        assert self.data_seen() == [], "data was sent before access was granted"

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watched(browser) -> Iterator[Watched]:
    w = Watched(browser)
    yield w
    w.close()


def _query(page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


def _summary(page):
    return page.locator(".st-key-view-summary")


# --- password mode -----------------------------------------------------------------------


def test_password_mode_sends_nothing_before_the_right_password(watched, password_server):
    page = watched.page
    page.goto(f"{password_server.url}/?{PERMALINK}")
    password = page.get_by_label("Password", exact=True)
    expect(password).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    watched.assert_no_data()

    password.fill("not the password")
    page.get_by_role("button", name="Open the dashboard").click()
    expect(page.get_by_text("Wrong password.")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    watched.assert_no_data()

    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Open the dashboard").click()
    wait_for_map(page)
    # The permalink the page was opened with is the view shown.
    expect(_summary(page)).to_contain_text("As of 2015-06-12", timeout=PAGE_TIMEOUT_MS)
    assert _query(page)["date"] == ["2015-06-12"]
    assert watched.data_seen(), "after the password the data should arrive"
    assert watched.errors == []
    # The browser now holds the access cookie that opens the server's metrics.
    assert page.request.get(f"{password_server.url}/_stcore/metrics").status == 200


def test_password_mode_keeps_the_servers_endpoints_closed_before_access(watched, password_server):
    page = watched.page
    page.goto(password_server.url)
    expect(page.get_by_label("Password", exact=True)).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    assert page.request.get(f"{password_server.url}/_stcore/metrics").status == 403
    assert page.request.get(f"{password_server.url}/media/0123abcd.csv").status == 403


# --- local mode on a public address ------------------------------------------------------


def test_a_public_address_without_access_control_shows_no_data(watched, public_server):
    page = watched.page
    page.goto(f"{public_server.url}/?{PERMALINK}")
    expect(
        page.get_by_text(re.compile("listens on a public address without access control"))
    ).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    watched.assert_no_data()


def test_insecure_public_shows_the_data_with_a_warning(watched, insecure_public_server):
    page = watched.page
    page.goto(f"{insecure_public_server.url}/?{PERMALINK}")
    wait_for_map(page)
    expect(page.get_by_text(re.compile("Open to anyone who can reach this server"))).to_be_visible(
        timeout=PAGE_TIMEOUT_MS
    )
    # Hosted (public address): the sources are credited under the title; these files are
    # the user's, not the bundled demo (same file name, other folder).
    credits = page.locator('[data-testid="stCaptionContainer"]', has_text="Event data:")
    expect(credits).to_contain_text("Event data: events.csv; sources as cited in its rows.")
    expect(credits).to_contain_text(
        # (the page's text-safe markdown may put a zero-width space after a colon)
        re.compile(
            r"Control areas \(supplied by the user\):\u200b? areas\.geojson:\u200b? "
            r"control polygons, \d"
        )
    )


# --- OIDC --------------------------------------------------------------------------------


def _log_in(watched: Watched, server: Server, idp: FakeIdP, email: str, query: str = "") -> None:
    page = watched.page
    page.goto(f"{server.url}/" + (f"?{query}" if query else ""))
    login = page.get_by_role("button", name="Log in")
    expect(login).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    watched.assert_no_data()
    login.click()
    # The provider's own page: sign in there.
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    assert page.url.startswith(f"{idp.issuer}/authorize?")
    page.get_by_label("E-mail").fill(email)
    page.get_by_role("button", name="Sign in").click()


def test_oidc_an_allowed_user_gets_the_map_and_the_view_of_their_link(watched, oidc):
    server, idp = oidc
    page = watched.page
    _log_in(watched, server, idp, "alice@team.org", PERMALINK)
    wait_for_map(page)
    assert idp.refusals == []
    assert "POST /token" in idp.requests  # the code was exchanged by the server
    assert urlsplit(page.url).path == f"/{BASE_PATH}/"
    # The view of the link opened before the login survived the redirect.
    expect(_summary(page)).to_contain_text("As of 2015-06-12", timeout=PAGE_TIMEOUT_MS)
    assert _query(page)["date"] == ["2015-06-12"]
    expect(page.get_by_text("Signed in as alice@team.org")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    # The view cookie was used once and removed.
    page.wait_for_function("() => !document.cookie.includes('conflictmap_view=')")
    assert watched.data_seen()
    assert watched.errors == []
    metrics = f"{server.url}/_stcore/metrics"
    assert page.request.get(metrics).status == 200  # the access cookie of the signed-in user

    # Logging out ends the session: back to the login, no data, the cookie worth nothing.
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("button", name="Log in")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    assert page.locator(MAP_IFRAME).count() == 0
    assert page.request.get(metrics).status == 403


def test_oidc_a_user_outside_the_allowlist_is_refused(watched, oidc):
    server, idp = oidc
    page = watched.page
    _log_in(watched, server, idp, "mallory@other.org", PERMALINK)
    expect(page.get_by_text(re.compile("which may not see this dashboard"))).to_be_visible(
        timeout=PAGE_TIMEOUT_MS
    )
    expect(page.get_by_role("button", name="Log out")).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    watched.assert_no_data()
    assert idp.refusals == []  # the login itself worked: the allowlist refused
    assert page.request.get(f"{server.url}/_stcore/metrics").status == 403
