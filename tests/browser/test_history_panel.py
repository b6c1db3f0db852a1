"""A click on a control area opens the control history of that place under the map.

The tooltip no longer gives the polygon version's validity ("Valid 2017-11-03 to
2017-11-16" on the polygon holding Mosul, which did not change hands then). The history
the page shows is worked out here from the bundled layer with ``dashboard.history`` for
the very point clicked (read back from the map), not written down.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from browser_helpers import open_app, wait_idle
from playwright.sync_api import expect

from dashboard import paths
from dashboard.history import control_history
from dashboard.pipeline import build, load_areas

pytestmark = pytest.mark.browser

#: 8 km west of Mosul (no event there in the window, clear of the town label).
CLICK = (36.335, 43.03)
ZOOM = 9

#: JS: click the map's control-area polygon under (lat, lon) as a user would, through
#: Leaflet (the point is converted to the pixel the user would click), and say where.
CLICK_JS = """
([lat, lon]) => {
  const p = window.map.latLngToContainerPoint([lat, lon]);
  return {x: p.x, y: p.y};
}
"""


def _click_area(frame, lat: float, lon: float) -> None:
    point = frame.evaluate(CLICK_JS, [lat, lon])
    frame.locator("#map_div").click(position=point)


def test_a_click_on_an_area_shows_who_held_the_place_and_when(page, bundled_server, artifacts):
    lat, lon = CLICK
    frame, _ = open_app(
        page,
        bundled_server,
        f"date=2016-01-15&window=30&basemap=none&lat={lat}&lon={lon}&zoom={ZOOM}",
        predicate_js="s => s.polygons > 0",
    )
    wait_idle(page)
    frame.wait_for_function(f"() => window.map.getZoom() === {ZOOM}")
    _click_area(frame, lat, lon)

    panel = page.locator(".st-key-control-history")
    expect(panel).to_be_visible()
    expect(panel).to_contain_text("Control history here")
    expect(panel).to_contain_text("near Mosul")
    # The place the page answered for: the point Leaflet reported, 4 decimals.
    text = panel.inner_text()
    shown = text.split("Control history here:")[1].split(",")[:2]
    at = (float(shown[0]), float(shown[1]))
    assert abs(at[0] - lat) < 0.02 and abs(at[1] - lon) < 0.02, at
    expected = control_history(load_areas([paths.BUNDLED_AREAS]).areas, *at)
    rows = panel.locator("table").first.locator("tbody tr")
    expect(rows).to_have_count(len(expected.spans))
    for row, span in zip(rows.all(), expected.spans, strict=True):
        cells = row.inner_text()
        assert span.start.isoformat() in cells and span.controller in cells, cells
    assert "Islamic State" in [s.controller for s in expected.spans]
    # Mosul's capture and recapture within 10 km, with their sources.
    built = build(paths.BUNDLED_EVENTS, [paths.BUNDLED_AREAS])
    near = control_history(built.areas, *at, events=built.events).events
    assert {"CM003", "CM066"} <= set(near["event_id"])
    events = panel.locator("table").nth(1)
    expect(events.locator("tbody tr")).to_have_count(len(near))
    for event_id, source in zip(near["event_id"], near["source"], strict=True):
        expect(events).to_contain_text(str(event_id))
        expect(events).to_contain_text(str(source))
    panel.scroll_into_view_if_needed()
    panel.screenshot(path=str(artifacts / "control-history.png"))

    # It does not depend on the date: a step of the slider keeps it.
    page.get_by_role("slider", name="As of").focus()
    page.keyboard.press("ArrowRight")
    wait_idle(page)
    expect(panel).to_contain_text("Control history here")
    # Closed by its button.
    panel.get_by_role("button", name="Close").click()
    expect(page.locator(".st-key-control-history")).to_have_count(0)


@pytest.mark.parametrize(
    ("query", "town"), [("البوكمال", "Abu Kamal"), ("Bukamal", "Abu Kamal"), ("mosul", "Mosul")]
)
def test_the_place_search_flies_to_the_place_marks_it_and_opens_its_history(
    page, bundled_server, artifacts, query, town
):
    frame, _ = open_app(
        page,
        bundled_server,
        "date=2017-11-15&window=30&basemap=none&lat=35.0&lon=40.0&zoom=6",
        predicate_js="s => s.polygons > 0",
    )
    wait_idle(page)
    box = page.get_by_role("textbox", name="Find a place")
    box.fill(query)
    box.press("Enter")
    # The map flies there: its centre within a few hundred metres of the place found.
    towns = pd.read_csv(paths.BUNDLED_TOWNS).set_index("name")
    lat, lon = float(towns.at[town, "latitude"]), float(towns.at[town, "longitude"])
    frame.wait_for_function(
        "([lat, lon]) => { const c = window.map.getCenter();"
        " return window.map.getZoom() === 10"
        " && Math.abs(c.lat - lat) < 0.05 && Math.abs(c.lng - lon) < 0.05; }",
        arg=[lat, lon],
    )
    # Marked with its name, and its history under the map.
    expect(frame.locator(".leaflet-tooltip-pane")).to_contain_text(
        "Mosul" if town == "Mosul" else "Kamāl"
    )
    panel = page.locator(".st-key-control-history")
    expect(panel).to_contain_text(f"searched “{query}”")
    found = page.get_by_text(re.compile(r"exact match|alias match"))
    expect(found.first).to_be_visible()
    text = panel.inner_text()
    at = [float(v) for v in text.split("Control history here:")[1].split(",")[:2]]
    expected = control_history(load_areas([paths.BUNDLED_AREAS]).areas, *at)
    rows = panel.locator("table").first.locator("tbody tr")
    expect(rows).to_have_count(len(expected.spans))
    if town == "Abu Kamal":
        expect(panel).to_contain_text("2017-11-19")
        expect(panel).to_contain_text("Syrian government")
        page.screenshot(path=str(artifacts / "place-search.png"))


def test_a_place_the_gazetteer_does_not_know_is_said_and_the_map_stays(page, bundled_server):
    frame, _ = open_app(
        page,
        bundled_server,
        "date=2017-11-15&window=30&basemap=none&lat=35.0&lon=40.0&zoom=6",
        predicate_js="s => s.polygons > 0",
    )
    wait_idle(page)
    box = page.get_by_role("textbox", name="Find a place")
    box.fill("Springfield")
    box.press("Enter")
    expect(page.get_by_text("“Springfield” is not in the gazetteer")).to_be_visible()
    assert frame.evaluate("() => window.map.getZoom()") == 6
    expect(page.locator(".st-key-control-history")).to_have_count(0)


def test_a_found_place_is_in_the_permalink_and_a_permalink_finds_it_again(
    page, browser, bundled_server
):
    open_app(
        page,
        bundled_server,
        "date=2017-11-15&window=30&basemap=none&lat=35.0&lon=40.0&zoom=6",
        predicate_js="s => s.polygons > 0",
    )
    wait_idle(page)
    box = page.get_by_role("textbox", name="Find a place")
    box.fill("البوكمال")
    box.press("Enter")
    expect(page.locator(".st-key-control-history")).to_contain_text("Syrian government")
    expect(page).to_have_url(re.compile(r"place=%D8%A7%D9%84%D8%A8%D9%88%D9%83%D9%85%D8%A7%D9%84"))
    url = page.url
    other = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
    try:
        other.goto(url)
        expect(other.locator(".st-key-control-history")).to_contain_text(
            "searched “البوكمال”", timeout=90_000
        )
        expect(other.get_by_role("textbox", name="Find a place")).to_have_value("البوكمال")
    finally:
        other.context.close()
