"""``conflictmap serve --workers 2``: one port, two server processes, each browser kept on
one of them. Sessions spread over both, step through the proxy without drops, an upload
reaches the process holding its session, a page loads in Chromium, and stopping the command
stops the workers."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import psutil
import pytest
from browser_helpers import REPO, open_app
from loadclient import open_sessions, step_all
from procs import free_port, stop, wait_healthy
from test_load import EVENTS_LABEL, MARKER, STEP_TIMEOUT_S, _upload

from dashboard.serveproxy import COOKIE

pytestmark = pytest.mark.browser


@dataclass
class Served:
    url: str
    process: subprocess.Popen


def _env(artifacts) -> dict[str, str]:
    """The environment of a test server: no developer's data, password or cache."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CONFLICTMAP_") and k != "DASHBOARD_PASSWORD"
    }
    env["CONFLICTMAP_CACHE_DIR"] = str(artifacts / "build-cache")
    return env


def _command(port: int) -> list[str]:
    # compressed as on a public address: the proxy must pass the websocket's extension on
    return [sys.executable, "-m", "dashboard", "serve", "--workers", "2", "--port", str(port),
            "--address", "127.0.0.1", "--websocket-compression", "on"]  # fmt: skip


@pytest.fixture(scope="module")
def two_workers(artifacts) -> Iterator[Served]:
    port = free_port()
    env = _env(artifacts)
    log = (artifacts / "server-workers.log").open("w", encoding="utf-8")
    command = _command(port)
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(f"{url}/_stcore/health", process, deadline_s=240)
        yield Served(url, process)
    finally:
        try:
            workers = psutil.Process(process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            workers = []
        stop(process)  # SIGTERM, as a service manager stops it
        log.close()
        _gone, alive = psutil.wait_procs(workers, timeout=30)
        for left in alive:
            left.kill()
        assert alive == [], f"workers left running after the command stopped: {alive}"


def test_sessions_spread_over_the_workers_and_step_without_drops(two_workers):
    queries = [f"basemap=none&date=2017-11-{d}&window=30&points=points" for d in (15, 15, 8, 1)]
    sessions = open_sessions(two_workers.url, 4, STEP_TIMEOUT_S, queries)
    try:
        assert {s.cookies.get(COOKIE) for s in sessions} == {"0", "1"}
        stepped = step_all(sessions, 3, STEP_TIMEOUT_S)
        assert stepped.failed == []
        for steps in stepped.steps.values():
            assert len(steps) == 3 and all(asked == done.map_date for asked, done in steps)
    finally:
        for s in sessions:
            s.close()


def test_an_upload_through_the_proxy_reaches_its_session(two_workers):
    (s,) = open_sessions(two_workers.url, 1, STEP_TIMEOUT_S)
    try:
        s.choose_file(EVENTS_LABEL, "own.csv", _upload())
        assert "Events now from own.csv" in s.text()
        widget_id, _value, _low, fragment_id = s.slider()
        s.keep_raw = True
        done = s.step(
            widget_id,
            float((dt.date(2017, 10, 20) - dt.date(1970, 1, 1)).days * 86400 * 1_000_000),
            fragment_id,
            STEP_TIMEOUT_S,
        )
        assert MARKER.encode() in done.raw
        # compressed end to end through the proxy: far fewer bytes on the wire than in the
        # messages (the map's script is repetitive text)
        assert 0 < done.wire < done.received / 2, (done.wire, done.received)
    finally:
        s.close()


def test_the_page_works_in_a_browser_through_the_proxy(page, two_workers):
    from browser_helpers import Server

    served = Server(url=two_workers.url, process=two_workers.process, log_path=REPO / "x")
    frame, state = open_app(page, served, "date=2017-11-09&window=30&basemap=none")
    assert state["points"] > 0 and state["polygons"] > 0
    assert page.context.cookies() and any(c["name"] == COOKIE for c in page.context.cookies())
    assert page.page_errors == []


def test_a_worker_that_dies_stops_the_server_with_a_message(artifacts):
    """A dead worker is not left behind a proxy that goes on answering for it: the command
    stops the others and exits, so a service manager restarts the whole server."""
    port = free_port()
    env = _env(artifacts)
    log_path = artifacts / "server-workers-dying.log"
    command = _command(port)
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_healthy(f"http://127.0.0.1:{port}/_stcore/health", process, deadline_s=240)
            workers = psutil.Process(process.pid).children()
            assert len(workers) == 2
            workers[1].kill()
            assert process.wait(timeout=120) == 2
        finally:
            if process.poll() is None:
                stop(process)
    said = log_path.read_text(encoding="utf-8")
    assert re.search(r"worker [12] of 2 stopped", said) and "Traceback" not in said
    _gone, alive = psutil.wait_procs(workers, timeout=30)
    assert alive == []
