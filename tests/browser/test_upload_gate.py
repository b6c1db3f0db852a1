"""The server's own endpoints against a running server in password mode, without a browser
(``stclient`` speaks Streamlit's protocol as a script would), except for the downloads.

* uploads: refused (403) before the password, accepted after it; refused (413, with a log
  line, and a message on the page naming the budget) past the session's and the server's
  budgets; the memory of a session's uploads returned once the session has ended (the
  figures are ``benchmarks/bench_upload_memory.py``'s);
* websocket frames over Streamlit's 25 MB limit refused as they start, before login,
  without the server holding them;
* password guessing: many sessions from one address are locked out together; another
  address is not; a client's own X-Forwarded-For does not count unless configured, and
  then only the line the proxy added last;
* ``/_stcore/metrics`` and ``/media/...``: 403 without a valid access cookie, answered with
  it (a real download in Chromium), also in a tab whose token was written over by a closed
  one; in local mode as Streamlit.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import stclient
from browser_helpers import (
    PAGE_TIMEOUT_MS,
    Server,
    run_server,
    wait_for_map,
    wait_idle,
    wait_until,
)
from hosting import SECRETS_OPTION, run_app, write_secrets
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from playwright.sync_api import expect

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
    wait_until(
        lambda: server.log().count(text) >= count,
        f"{count} x {text!r} in the server's log",
        server,
        timeout=timeout,
    )


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


def test_the_page_says_which_upload_budget_refused_a_file(small_budget_server):
    """Streamlit's uploader shows only "status code 413": the server asks the session for
    a run, and its sidebar names the budget and the variable that raises it."""
    s = _logged_in(small_budget_server.url)
    try:
        assert s.put_file("one.csv", b"x" * (3 * MB // 2))[0].status == 204
        assert s.put_file("two.csv", b"x" * MB)[0].status == 413
        s.wait_run()  # the run the server asked for; nobody touched a widget
        text = s.text()
        assert "Could not use the file: the server refused it" in text, text
        assert "over its 2 MB (CONFLICTMAP_UPLOAD_SESSION_MB)" in text
        assert "remove a file you uploaded" in text
    finally:
        s.close()


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} in /proc/{pid}/status")


def test_a_websocket_frame_over_the_limit_is_refused_as_it_starts(small_budget_server):
    """uvicorn's frame limit was server.maxMessageSize (200 MB): a client that had not
    logged in could make the server read and hold a 150 MB frame before Streamlit refused
    it at 25 MB (server.maxWidgetStateSize). The peak resident memory of the server
    (VmHWM, reset just before) shows whether the frame was held."""
    frame = 150 * MB
    pid = small_budget_server.process.pid
    s = stclient.Session(small_budget_server.url).open()  # not logged in
    try:
        before = _status_kb(pid, "VmRSS") * 1024
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # peak := now
        code = s.send_frame(b"\0" * frame)
        peak = _status_kb(pid, "VmHWM") * 1024
    finally:
        s.close()
    assert code in (1009, None), code  # 1009: message too big (None: reset before it)
    assert peak - before < frame // 3, (
        f"the server's peak memory rose by {(peak - before) / MB:.0f} MB "
        f"for a {frame / MB:.0f} MB frame"
    )
    assert small_budget_server.process.poll() is None


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
        # Files held by the session but never given to the page (up to its budget). Their
        # cost is measured around them: the builds before may still hand memory back.
        held = _rss(server)
        for i in range(3):
            assert user.put_file(f"raw{i}.csv", b"r" * (60 * MB))[0].status == 204
        peak = _rss(server)
        user.close()
        _wait_for_log(server, "released 1 ended session", 2, RELEASE_TIMEOUT_S)
        after = _rss(server)
    figures = (
        f"warm {base / MB:.0f} MB, before the raw files {held / MB:.0f} MB, with uploads "
        f"{peak / MB:.0f} MB, after the session ended {after / MB:.0f} MB"
    )
    # The 180 MB of raw uploads alone are resident while the session holds them, and are
    # large blocks the allocator hands back to the system as soon as they are freed: a
    # session whose files stayed in the store for the life of the process kept them all.
    assert peak - held > 150 * MB, f"the uploads should have cost memory: {figures}"
    assert peak - after > 150 * MB, f"the uploads' memory should have come back: {figures}"


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


def _attempt(url: str, headers: dict[str, str] | list[tuple[str, str]]) -> str:
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
        # A proxy that adds its own line (HAProxy's option forwardfor) after the client's:
        # each session's client claims another address in the first line; the proxy's
        # line, the last, names one client. Before, the first line was read.
        attempts = 0
        while True:
            headers = [
                ("X-Forwarded-For", f"198.51.100.{attempts + 1}"),
                ("X-Forwarded-For", "10.9.9.9, 203.0.113.3"),
            ]
            if LOCKED.search(_attempt(server.url, headers)):
                break
            attempts += 1
            assert attempts <= gate.ADDRESS_FREE_ATTEMPTS + 8, "never locked out"
        assert "from 203.0.113.3" in server.log()


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


def _log_in_page(page, url: str) -> None:
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Open the dashboard").click()
    wait_for_map(page)


ACTIVE = re.compile(r"^active_sessions(?:\{[^}]*\})? (\d+)", re.MULTILINE)


def test_a_tab_keeps_its_downloads_when_another_that_wrote_the_cookie_closes(
    small_budget_server, browser
):
    """Two tabs of one browser open the password page (neither has the cookie), then log
    in one after the other: the second writes its token over the first's. Before, a token
    was valid only while a session holding it was connected: closing the second tab left
    the first with a cookie worth nothing, and its downloads answered 403 until a reload."""
    url = small_budget_server.url
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    try:
        first, second = context.new_page(), context.new_page()
        for page in (first, second):
            page.goto(url)
            expect(page.get_by_label("Password", exact=True)).to_be_visible()
        _log_in_page(first, url)
        _log_in_page(second, url)
        second.close()

        def first_tab_alone() -> tuple[int, str] | None:
            answer = first.request.get(f"{url}/_stcore/metrics?families=active_sessions")
            if answer.status != 200:
                return answer.status, answer.text()  # what the bug gave: the cookie void
            found = ACTIVE.search(answer.text())
            return (200, answer.text()) if found and int(found.group(1)) == 1 else None

        status, text = wait_until(
            first_tab_alone, "the second tab's session to end", small_budget_server
        )
        assert status == 200, f"the first tab's cookie no longer opens the metrics: {text}"
        first.get_by_text("Validation report").first.click()
        download = _download(first, "Report (JSON)")
        assert download.failure() is None
        assert b'"events"' in Path(download.path()).read_bytes()
    finally:
        context.close()


def test_local_mode_serves_metrics_as_streamlit_does(tiny_server):
    assert stclient.http("GET", f"{tiny_server.url}/_stcore/metrics").status == 200
