"""The server's own endpoints against a running server in password mode, without a browser
(``stclient`` speaks Streamlit's protocol as a script would), except for the downloads.

* uploads: refused (403) before the password, accepted after it; refused (413, with a log
  line) past the session's and the server's budgets; the memory of a session's uploads
  and of the data built from them returned once the session has ended;
* password guessing: many sessions from one address are locked out together; another
  address is not; a client's own X-Forwarded-For does not count unless configured;
* ``/_stcore/metrics`` and ``/media/...``: 403 without the access cookie of an admitted
  session, answered with it (a real download in Chromium); in local mode as Streamlit.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import stclient
from browser_helpers import PAGE_TIMEOUT_MS, Server, run_server, wait_for_map, wait_idle
from hosting import SECRETS_OPTION, run_app, write_secrets
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from dashboard.app import gate

pytestmark = pytest.mark.browser

PASSWORD = "the upload gate's password"
EVENTS_LABEL = "Upload events (CSV: canonical, ACLED or UCDP GED)"
MB = 1024 * 1024
CLICK_TIMEOUT_MS = 15_000
RELEASE_TIMEOUT_S = 120
#: Rows of each synthetic events upload of the memory test (about 40 MB of CSV each).
MEMORY_ROWS = 100_000


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, str]:
    from app_fixtures import write_inputs

    events, areas = write_inputs(tmp_path_factory.mktemp("gate-inputs"))
    return {"CONFLICTMAP_EVENTS": str(events), "CONFLICTMAP_AREAS": str(areas)}


@pytest.fixture(scope="module")
def secrets_file(tmp_path_factory) -> Path:
    return write_secrets(tmp_path_factory.mktemp("gate-secrets") / "secrets.toml")


@pytest.fixture(scope="module")
def small_budget_server(inputs, secrets_file, artifacts) -> Iterator[Server]:
    """Password mode with budgets of 2 MB per session and 3 MB for the server."""
    env = {
        **inputs,
        "DASHBOARD_PASSWORD": PASSWORD,
        "CONFLICTMAP_UPLOAD_SESSION_MB": "2",
        "CONFLICTMAP_UPLOAD_SERVER_MB": "3",
    }
    with run_app(env, artifacts / "server-upload-gate.log", secrets_file=secrets_file) as server:
        yield server


def _logged_in(url: str, **options) -> stclient.Session:
    s = stclient.Session(url, **options).open()
    s.submit_password(PASSWORD)
    assert "Password" not in s.widgets, s.text()
    return s


def _wait_for_log(server: Server, text: str, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while server.log().count(text) < count:
        assert time.monotonic() < deadline, f"{text!r} x{count} not in the log:\n{server.log()}"
        # The condition is the server's log line; the wait between looks is the process's.
        with pytest.raises(psutil.TimeoutExpired):
            psutil.Process(server.process.pid).wait(timeout=0.5)


# --- uploads ---------------------------------------------------------------------------------


def test_uploads_are_refused_until_the_password_is_right(small_budget_server):
    s = stclient.Session(small_budget_server.url).open()
    try:
        answer, _ = s.put_file("events.csv", b"event_id\n1\n")
        assert answer.status == 403, answer
        s.submit_password("not it")
        assert s.put_file("events.csv", b"event_id\n1\n")[0].status == 403
        s.submit_password(PASSWORD)
        assert s.put_file("events.csv", b"event_id\n1\n")[0].status == 204
    finally:
        s.close()
    assert "upload refused (403): session" in small_budget_server.log()


def test_uploads_past_a_session_or_the_server_budget_are_refused(small_budget_server):
    a = _logged_in(small_budget_server.url)
    b = _logged_in(small_budget_server.url)
    try:
        first, first_id = a.put_file("one.csv", b"x" * (3 * MB // 2))
        assert first.status == 204
        over, _ = a.put_file("two.csv", b"x" * MB)
        assert over.status == 413
        assert "over its 2 MB (CONFLICTMAP_UPLOAD_SESSION_MB)" in over.body.decode()
        # The server holds 1.5 MB of a's; b's 2 MB would take it over 3 MB.
        server_over, _ = b.put_file("three.csv", b"x" * (2 * MB - 1024))
        assert server_over.status == 413
        assert "CONFLICTMAP_UPLOAD_SERVER_MB" in server_over.body.decode()
        # Removing a file (as the uploader does when a file is replaced) frees its share.
        assert a.delete_file(first_id).status == 204
        assert b.put_file("three.csv", b"x" * (2 * MB - 1024))[0].status == 204
    finally:
        a.close()
        b.close()
    log = small_budget_server.log()
    assert "upload refused (413): this session's uploads would hold" in log
    assert "upload refused (413): the server's uploads would hold" in log


def _rss(server: Server) -> int:
    return int(psutil.Process(server.process.pid).memory_info().rss)


def test_memory_of_uploads_returns_once_their_session_has_ended(
    inputs, secrets_file, artifacts, tmp_path
):
    """Before: each upload's build stayed in a process-wide cache (12 h) and a closed
    session's files stayed in Streamlit's upload store for the life of the process."""
    from dashboard.synth import write_synthetic

    files = []
    for seed in (0, 1, 2, 3):
        write_synthetic(tmp_path / str(seed), events=MEMORY_ROWS, areas=50, seed=seed)
        files.append((tmp_path / str(seed) / "events.csv").read_bytes())
    env = {**inputs, "DASHBOARD_PASSWORD": PASSWORD}
    extra = [SECRETS_OPTION, str(secrets_file), "--server.disconnectedSessionTTL", "1"]
    with run_server(env, artifacts / "server-upload-memory.log", extra_args=extra) as server:
        # Warm up: what the pipeline loads once per process (gazetteer, readers) is loaded.
        warm = _logged_in(server.url)
        warm.choose_file(EVENTS_LABEL, "warm.csv", files[0])
        warm.close()
        _wait_for_log(server, "released 1 ended session", 1, RELEASE_TIMEOUT_S)
        base = _rss(server)

        user = _logged_in(server.url)
        for i, data in enumerate(files[1:], start=1):
            user.choose_file(EVENTS_LABEL, f"events{i}.csv", data)
            assert f"Events now from events{i}.csv" in user.text()
        # Files held by the session but never given to the page (up to its budget).
        for i in range(3):
            assert user.put_file(f"raw{i}.csv", b"r" * (60 * MB))[0].status == 204
        peak = _rss(server)
        user.close()
        _wait_for_log(server, "released 1 ended session", 2, RELEASE_TIMEOUT_S)
        after = _rss(server)
    held = peak - base
    print(
        f"RSS: warm {base / MB:.0f} MB, with uploads {peak / MB:.0f} MB, ended {after / MB:.0f} MB"
    )
    assert held > 250 * MB, f"the uploads should have cost memory: {held / MB:.0f} MB"
    # Most of it is back: freed memory is not always handed back to the system at once.
    assert after - base < 0.4 * held, (
        f"base {base / MB:.0f} MB, with uploads {peak / MB:.0f} MB, "
        f"after the session ended {after / MB:.0f} MB"
    )


# --- password guessing -------------------------------------------------------------------------


@pytest.fixture
def password_server(inputs, secrets_file, artifacts) -> Iterator[Server]:
    """A server of its own: a test that locks an address out must not lock out the others."""
    env = {**inputs, "DASHBOARD_PASSWORD": PASSWORD}
    with run_app(env, artifacts / "server-guessing.log", secrets_file=secrets_file) as server:
        yield server


LOCKED = re.compile(r"Too many wrong passwords from your network address: try again in (\d+) s")


def _guess_until_locked(url: str, *, source: str | None = None, header: str | None = None) -> int:
    """Wrong passwords, each session trying three times (its own free attempts), until the
    address is refused with a wait long enough to try again within it; the attempts made.
    ``header``: each session claims another client in it."""
    attempts = 0
    while attempts < gate.ADDRESS_FREE_ATTEMPTS + 8:
        headers = {header: f"198.51.100.{attempts + 1}"} if header else {}
        s = stclient.Session(url, source=source, headers=headers).open()
        try:
            for _ in range(3):
                s.submit_password(f"guess {attempts}")
                attempts += 1
                found = LOCKED.search(s.text())
                if found and int(found.group(1)) >= 5:
                    return attempts
                assert found or "Wrong password." in s.text(), s.text()
        finally:
            s.close()
    raise AssertionError(f"never locked out after {attempts} wrong passwords")


def test_password_guesses_from_one_address_are_limited_across_sessions(password_server):
    url = password_server.url
    # Sessions used to reset the count: three guesses each, as many sessions as wanted,
    # each claiming another client in X-Forwarded-For (not a proxy the server trusts:
    # Streamlit's uvicorn trusts the header from 127.0.0.1 only, FORWARDED_ALLOW_IPS).
    attempts = _guess_until_locked(url, source="127.0.0.2", header="X-Forwarded-For")
    assert attempts > gate.ADDRESS_FREE_ATTEMPTS  # the free attempts went through
    # A fresh session from the same address: locked out, even with the right password.
    fresh = stclient.Session(url, source="127.0.0.2").open()
    try:
        fresh.submit_password(PASSWORD)
        assert LOCKED.search(fresh.text()), fresh.text()
        assert "Password" in fresh.widgets
    finally:
        fresh.close()
    # Another address is not.
    other = stclient.Session(url).open()
    try:
        other.submit_password(PASSWORD)
        assert "Password" not in other.widgets, other.text()
    finally:
        other.close()
    assert "password attempt refused" in password_server.log()


def _attempt(url: str, headers: dict[str, str]) -> str:
    s = stclient.Session(url, source="127.0.0.2", headers=headers).open()
    try:
        s.submit_password("a guess")
        return s.text()
    finally:
        s.close()


def test_a_trusted_proxy_header_names_the_client(inputs, secrets_file, artifacts):
    env = {
        **inputs,
        "DASHBOARD_PASSWORD": PASSWORD,
        "CONFLICTMAP_CLIENT_ADDRESS_HEADER": "X-Forwarded-For",
    }
    log = artifacts / "server-proxy-header.log"
    with run_app(env, log, secrets_file=secrets_file) as server:
        # From 127.0.0.2 (not trusted by uvicorn): the configured header alone names the client.
        locked = {"X-Forwarded-For": "203.0.113.1"}
        attempts = 0
        while not LOCKED.search(_attempt(server.url, locked)):
            attempts += 1
            assert attempts <= gate.ADDRESS_FREE_ATTEMPTS + 8
        # The same connection address, another client behind the proxy.
        other = _logged_in(
            server.url, source="127.0.0.2", headers={"X-Forwarded-For": "203.0.113.2"}
        )
        other.close()


# --- metrics and media ---------------------------------------------------------------------------


def _download(page, name: str):
    """Click a download button until its file comes (see ``test_db_replicas._download_ids``:
    a click just before the map's first rerun finds the button's file replaced)."""
    wait_idle(page)
    button = page.get_by_role("button", name=name, exact=True)
    deadline = time.monotonic() + PAGE_TIMEOUT_MS / 1000
    while True:
        try:
            with page.expect_download(timeout=CLICK_TIMEOUT_MS) as info:
                button.click()
            return info.value
        except PlaywrightTimeoutError:
            if time.monotonic() > deadline:
                raise
            wait_idle(page)


def test_metrics_and_downloads_need_an_admitted_session(small_budget_server, browser):
    url = small_budget_server.url
    assert stclient.http("GET", f"{url}/_stcore/metrics").status == 403
    assert stclient.http("GET", f"{url}/media/0123456789abcdef.json").status == 403
    assert stclient.http("GET", f"{url}/_stcore/health").status == 200

    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(url)
        page.get_by_label("Password", exact=True).fill(PASSWORD)
        page.get_by_role("button", name="Open the dashboard").click()
        wait_for_map(page)
        assert page.request.get(f"{url}/_stcore/metrics").status == 200
        page.get_by_text("Validation report").first.click()
        download = _download(page, "Report (JSON)")
        assert download.failure() is None
        assert b'"events"' in Path(download.path()).read_bytes()
        media_url = download.url
        assert "/media/" in media_url
        assert page.request.get(media_url).status == 200
    finally:
        context.close()
    # The same link without the cookie, and with a made-up one.
    assert stclient.http("GET", media_url).status == 403
    forged = {"Cookie": "conflictmap_access=made-up"}
    assert stclient.http("GET", f"{url}/_stcore/metrics", headers=forged).status == 403


def test_local_mode_serves_metrics_as_streamlit_does(tiny_server):
    assert stclient.http("GET", f"{tiny_server.url}/_stcore/metrics").status == 200
