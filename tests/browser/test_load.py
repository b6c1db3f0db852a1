"""A few sessions stepping the date slider of one server at once, over the websocket as
browsers do (``loadclient``): none is dropped, each is drawn the date it asked for, and none
receives another's uploaded events, though the server shares the views it renders between
sessions (``sharedcache.py``). Bounded: six sessions, four steps each, on loopback.

The figures (time per step, bytes, CPU) are ``benchmarks/bench_load.py``'s, not asserted
here: this test catches sessions dropped or views crossed, not slowness.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import urllib.request

import pytest
from loadclient import DAY_US, open_sessions, step_all

pytestmark = pytest.mark.browser

#: Generous: a step takes well under a second here, but the machine may be busy.
STEP_TIMEOUT_S = 240.0
STEPS = 4
EVENTS_LABEL = "Upload events (CSV: canonical, ACLED or UCDP GED)"
#: What only the uploading session may ever receive.
MARKER = "UPLOADED-ONLY-7f3a"


def _upload() -> bytes:
    """A small events file of the analyst's own, every row naming :data:`MARKER`."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "event_id",
            "event_date",
            "event_type",
            "country",
            "location",
            "latitude",
            "longitude",
            "fatalities",
            "source",
            "notes",
        ]
    )
    for i in range(12):
        day = dt.date(2017, 9, 1) + dt.timedelta(days=5 * i)  # to 2017-10-26
        writer.writerow(
            [
                f"{MARKER}-{i}",
                day.isoformat(),
                "Battles",
                "Syria",
                "Abu Kamal",
                "34.45",
                "40.92",
                "3",
                "Analyst's own",
                f"{MARKER} note {i}",
            ]
        )
    return out.getvalue().encode("utf-8")


def test_sessions_stepping_at_once_each_get_their_own_view_and_data(bundled_server):
    # Two views shared by pairs of sessions (the cache's case), one session alone, and one
    # session on its own uploaded events.
    dates = ["2017-11-15", "2017-11-15", "2016-06-01", "2016-06-01", "2015-03-10", "2017-11-15"]
    queries = [f"basemap=none&date={d}&window=30&points=points" for d in dates]
    sessions = open_sessions(bundled_server.url, len(queries), STEP_TIMEOUT_S, queries)
    uploader = sessions[-1]
    for s in sessions:
        s.keep_raw = True
    try:
        uploader.choose_file(EVENTS_LABEL, "own.csv", _upload())
        assert "Events now from own.csv" in uploader.text()
        stepped = step_all(sessions, STEPS, STEP_TIMEOUT_S)
        assert stepped.failed == [], stepped.failed
        results = stepped.steps
        for i, steps in results.items():
            assert len(steps) == STEPS, f"session {i} was dropped"
            # The uploader's slider ends with its own data (2017-10-26).
            start = (
                dt.date(2017, 10, 26) if i == len(sessions) - 1 else dt.date.fromisoformat(dates[i])
            )
            for n, (asked, done) in enumerate(steps, start=1):
                assert asked == start - dt.timedelta(days=7 * n)
                assert done.map_sent, f"session {i}, step {n}: no map"
                assert done.map_date == asked, f"session {i}, step {n}: another date's map"
        # The upload's events reached its session's map, and no other session.
        first_upload_step = results[len(sessions) - 1][0][1]
        assert MARKER.encode() in first_upload_step.raw
        for i in range(len(sessions) - 1):
            for _, done in results[i]:
                assert MARKER.encode() not in done.raw, f"session {i} received the upload"
        # The health endpoint answered all along (it is asked now, after the load).
        with urllib.request.urlopen(f"{bundled_server.url}/_stcore/health", timeout=30) as r:
            assert r.status == 200
    finally:
        for s in sessions:
            s.close()


def test_a_step_to_the_same_date_again_is_drawn_for_it(bundled_server):
    """A view served from the shared cache is the view asked for: stepping back and
    forth gives the same map for the same date."""
    (s,) = open_sessions(
        bundled_server.url,
        1,
        STEP_TIMEOUT_S,
        ["basemap=none&date=2017-11-15&window=30&points=points"],
    )
    try:
        widget_id, value, _low, fragment_id = s.slider()
        back = s.step(widget_id, value - DAY_US, fragment_id, STEP_TIMEOUT_S)
        again = s.step(widget_id, value, fragment_id, STEP_TIMEOUT_S)
        back_again = s.step(widget_id, value - DAY_US, fragment_id, STEP_TIMEOUT_S)
        assert back.map_date == back_again.map_date == dt.date(2017, 11, 14)
        assert again.map_date == dt.date(2017, 11, 15)
    finally:
        s.close()
