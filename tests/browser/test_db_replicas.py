"""Two app processes on one PostGIS database: both show the same view, and a load made by a
third process shows in both on their next page load, without a restart.

The bundled build goes into a fresh database (``db_fixtures.empty_db``); two servers
(``DASHBOARD_DB``) on their own ports open the same view link in Chromium. Then
``python -m dashboard db load`` (another process) merges the bundled events plus two new
ones dated in the window; a reload of each page must count them, and the CSV download of the
events table must list them. Every wait is on a condition with a deadline.
"""

from __future__ import annotations

import csv
import re
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import PAGE_TIMEOUT_MS, REPO, Server, run_server, wait_for_map, wait_idle
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from dashboard import paths
from dashboard import store as pgstore
from dashboard.pipeline import build
from dashboard.timewindow import Filters

pytestmark = pytest.mark.browser

AS_OF = "2019-10-27"
WINDOW = 3660  # the longest window: every bundled event up to AS_OF
VIEW_QUERY = f"date={AS_OF}&window={WINDOW}&basemap=none"
#: Two new events in the window (before the first bundled event, 2014-01-04), with places.
NEW_EVENTS = (
    {"event_id": "CM901", "event_date": "2014-01-02", "location": "Raqqa",
     "latitude": "35.95", "longitude": "39.01", "admin1": "Raqqa", "country": "Syria"},
    {"event_id": "CM902", "event_date": "2014-01-03", "location": "Mosul",
     "latitude": "36.34", "longitude": "43.13", "admin1": "Nineveh", "country": "Iraq"},
)  # fmt: skip
#: How long one click on a download button may take to start the download.
CLICK_TIMEOUT_MS = 15_000
SUMMARY_COUNT = re.compile(r"· ([\d,]+) events? \d{4}-\d{2}-\d{2} to " + AS_OF)


@pytest.fixture
def two_servers(empty_db: str, artifacts: Path) -> Iterator[tuple[str, list[Server]]]:
    """The bundled build in a fresh database, and two app servers reading it."""
    engine = pgstore.connect(empty_db)
    pgstore.load_build(engine, build())
    engine.dispose()
    with ExitStack() as stack:
        servers = [
            stack.enter_context(
                run_server({"DASHBOARD_DB": empty_db}, artifacts / f"server-db-replica-{i}.log")
            )
            for i in (1, 2)
        ]
        yield empty_db, servers


def _changed_events(folder: Path) -> Path:
    """The bundled events with the two of ``NEW_EVENTS`` added (same columns)."""
    with paths.BUNDLED_EVENTS.open(encoding="utf-8", newline="") as source:
        reader = csv.DictReader(source)
        columns = list(reader.fieldnames or [])
        rows = list(reader)
    template = rows[0]
    target = folder / "events_changed.csv"
    with target.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
        for new in NEW_EVENTS:
            writer.writerow({**template, "date_start": "", "date_end": "", "time_precision": "1",
                             "admin2": "", "fatalities": "", "notes": "Added by the test.",
                             **new})  # fmt: skip
    return target


def _shown_count(page: Any) -> int:
    """The number of events the view's summary line states, once the page shows one."""
    summary = page.locator(".st-key-view-summary")
    summary.wait_for(state="visible")
    try:
        page.wait_for_function(
            "(re) => { const el = document.querySelector('.st-key-view-summary');"
            " return el && new RegExp(re).test(el.innerText); }",
            arg=SUMMARY_COUNT.pattern,
        )
    except PlaywrightTimeoutError:
        # What the page said instead: to tell a stale view from an error from a stalled run.
        alerts = page.locator("[data-testid='stAlert']").all_inner_texts()
        running = page.locator("[data-testid='stStatusWidget']").all_inner_texts()
        raise AssertionError(
            f"the summary never stated the count; it read {summary.inner_text()!r}; "
            f"alerts {alerts}; status {running}"
        ) from None
    match = SUMMARY_COUNT.search(summary.inner_text())
    assert match, summary.inner_text()
    return int(match.group(1).replace(",", ""))


def _after_reload(page: Any, look: Any) -> Any:
    """``look(page)``; if the reloaded page never gets there, reload it once more, saying so.

    In 2 of 7 full runs (never alone, never with both cores kept busy) one reloaded page in
    database mode stalled: once its summary, once its map, never came. The second reload
    still has to show the new data; the warning keeps each stall in the run's summary.
    """
    try:
        return look(page)
    except (PlaywrightTimeoutError, AssertionError) as exc:
        warnings.warn(
            f"a reloaded page stalled in database mode, reloaded once more: {exc}",
            stacklevel=2,
        )
        page.reload()
        return look(page)


def _downloaded_ids(page: Any) -> set[str]:
    """The event ids of the events table's CSV download (the grid itself is a canvas, whose
    cells are not in the page's text; the download asks the database for the window).

    The map reports its bounds once drawn, which reruns the view and replaces the button's
    file: a click that lands just before that rerun gets no file (the server logs "Deferred
    file ... not found"). So: wait for the map and for the page to be idle, then click until
    a download starts, up to a deadline.
    """
    wait_for_map(page)
    wait_idle(page)
    button = page.get_by_role("button", name="Download CSV", exact=True)
    deadline = time.monotonic() + PAGE_TIMEOUT_MS / 1000
    while True:
        try:
            with page.expect_download(timeout=CLICK_TIMEOUT_MS) as info:
                button.click()
            break
        except PlaywrightTimeoutError:
            if time.monotonic() > deadline:
                raise
            wait_idle(page)
    with Path(info.value.path()).open(encoding="utf-8-sig", newline="") as f:
        return {row["event_id"] for row in csv.DictReader(f)}


def _in_store(url: str) -> int:
    store = pgstore.DbStore(url)
    try:
        import datetime as dt

        return store.window_counts(dt.date.fromisoformat(AS_OF), WINDOW, Filters()).shown
    finally:
        store.engine.dispose()


def test_two_replicas_agree_and_both_follow_a_load_by_another_process(
    two_servers: tuple[str, list[Server]], browser: Any, tmp_path: Path
) -> None:
    url, servers = two_servers
    pages = []
    console: list[str] = []
    for server in servers:
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc, errors=errors: errors.append(str(exc)))
        # Console errors of every frame, the map's included: only to explain a failure.
        page.on(
            "console",
            lambda msg, log=console: log.append(msg.text) if msg.type == "error" else None,
        )
        page.goto(f"{server.url}/?{VIEW_QUERY}")
        pages.append((page, errors))
    try:
        before = [_shown_count(page) for page, _ in pages]
        assert before[0] == before[1] == _in_store(url), before
        assert before[0] > 0

        # Another process loads a changed file into the same database.
        changed = _changed_events(tmp_path)
        done = subprocess.run(
            [sys.executable, "-m", "dashboard", "db", "load", str(changed), "--db", url],
            cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr or done.stdout
        assert "inserted 2," in done.stdout, done.stdout

        expected = before[0] + len(NEW_EVENTS)
        assert _in_store(url) == expected
        for page, _ in pages:
            page.reload()
        after = [_after_reload(page, _shown_count) for page, _ in pages]
        assert after == [expected, expected], after
        for page, errors in pages:
            try:
                ids = _after_reload(page, _downloaded_ids)
            except AssertionError as exc:
                raise AssertionError(f"{exc}; page errors {errors}; console {console}") from None
            assert len(ids) == expected
            assert {new["event_id"] for new in NEW_EVENTS} <= ids
        for server in servers:  # neither was restarted
            assert server.process.poll() is None
        for _, errors in pages:
            assert not errors, errors
    finally:
        for page, _ in pages:
            page.context.close()
