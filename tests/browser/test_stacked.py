"""Events on one spot, in the app on the bundled data: a click lists every one of them.

In November 2017 Abu Kamal changed hands three times (events.csv: CM079, CM080, CM082);
one row gives coordinates, the others are geocoded to the town, so the three are drawn
on one pixel. Which events the click must list is worked out here from the bundled data
(events.csv built as the app builds it), not written down.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from browser_helpers import open_app, wait_idle
from playwright.sync_api import expect

from dashboard import paths, schema
from dashboard.pipeline import build

pytestmark = pytest.mark.browser

ZOOM = 9  # about 250 m a pixel at Abu Kamal: every event within 500 m is under the cursor
NEAR_DEGREES = 0.005  # about 500 m
CLEAR_DEGREES = 0.05  # about 20 pixels: no other event of the window this close (Al-Qaim is 0.09)


@pytest.fixture(scope="module")
def bundled():
    return build(paths.BUNDLED_EVENTS, [paths.BUNDLED_AREAS])


def _abu_kamal() -> tuple[float, float]:
    """The town as the map's own town labels place it (geodata/towns.csv)."""
    towns = pd.read_csv(paths.BUNDLED_TOWNS)
    row = towns[towns["name"] == "Abu Kamal"].iloc[0]
    return float(row["latitude"]), float(row["longitude"])


def _events_at(bundled, day: dt.date, window: int, lat: float, lon: float) -> pd.DataFrame:
    """Events of the window near (lat, lon), newest first (ties: later in the data first)."""
    ev = bundled.events.reset_index(drop=True)
    dates = pd.to_datetime(ev[schema.EVENT_DATE])
    start = pd.Timestamp(day - dt.timedelta(days=window - 1))
    in_window = (dates >= start) & (dates <= pd.Timestamp(day))
    dist = ((ev[schema.LATITUDE] - lat) ** 2 + (ev[schema.LONGITUDE] - lon) ** 2) ** 0.5
    near = in_window & (dist <= NEAR_DEGREES)
    assert not (in_window & (dist > NEAR_DEGREES) & (dist <= CLEAR_DEGREES)).any()
    found = ev[near].assign(_day=dates[near], _order=ev.index[near])
    return found.sort_values(["_day", "_order"], ascending=False)


def _click_at(frame, lat: float, lon: float) -> None:
    point = frame.evaluate(
        "([lat, lon]) => { const p = window.map.latLngToContainerPoint([lat, lon]);"
        " return {x: p.x, y: p.y}; }",
        [lat, lon],
    )
    frame.locator("#map_div").click(position=point)


@pytest.mark.parametrize("day", ["2017-11-19", "2017-11-09"])
def test_a_click_on_abu_kamal_lists_every_event_there_newest_first(
    page, bundled_server, bundled, artifacts, day
):
    lat, lon = _abu_kamal()
    as_of = dt.date.fromisoformat(day)
    expected = _events_at(bundled, as_of, 30, lat, lon)
    ids = expected[schema.EVENT_ID].tolist()
    assert ids, "no event at Abu Kamal in the window: the test would show nothing"
    frame, _ = open_app(
        page,
        bundled_server,
        f"date={day}&window=30&basemap=none&points=points&lat={lat}&lon={lon}&zoom={ZOOM}",
        predicate_js=f"s => s.title && s.title.includes('{day}') && s.points > 0",
    )
    wait_idle(page)
    frame.wait_for_function(f"() => window.map.getZoom() === {ZOOM}")
    # The point there stands for every event there, and says so when that is more than one.
    stack = frame.evaluate(
        """([lat, lon]) => {
          const layer = L.ConflictMap.layers.find(l => l._map);
          const p = layer._map.latLngToLayerPoint([lat, lon]);
          const hits = layer._hits(p);
          return {hits: hits.length, count: Math.max(...hits.map(i => layer.stackCount(i))),
                  badges: layer.stats.badges};
        }""",
        [lat, lon],
    )
    assert stack["hits"] == len(ids)
    assert stack["count"] == len(ids)
    assert stack["badges"] >= (1 if len(ids) > 1 else 0)

    _click_at(frame, lat, lon)
    popup = frame.locator(".cm-popup")
    expect(popup).to_be_visible()
    if len(ids) == 1:
        expect(popup).to_contain_text(ids[0])
        expect(popup.locator(".cm-stack-item")).to_have_count(0)
        assert page.page_errors == []
        return
    expect(popup.locator(".cm-popup-title")).to_have_text(f"{len(ids)} events here")
    items = popup.locator(".cm-stack-item")
    expect(items).to_have_count(len(ids))
    # Newest first: the dates of the lines, top to bottom.
    dates = [d.date().isoformat() for d in expected["_day"]]
    heads = popup.locator(".cm-stack-head").all_inner_texts()
    assert [h.split(" \u00b7 ")[0] for h in heads] == dates
    # Each line names the actors and the controller on that day, and opens the full record.
    for k, (_, event) in enumerate(expected.iterrows()):
        item = items.nth(k)
        expect(item).to_contain_text(str(event[schema.ACTOR1]))
        expect(item).to_contain_text(str(event[schema.CONTROLLER]))
        item.locator(".cm-stack-summary").click()
        details = item.locator(".cm-stack-details")
        expect(details).to_be_visible()
        expect(details).to_contain_text(str(event[schema.EVENT_ID]))
        expect(details).to_contain_text(str(event[schema.SOURCE]))
    page.screenshot(path=str(artifacts / f"stacked-abu-kamal-{day}.png"))
    assert page.page_errors == []
