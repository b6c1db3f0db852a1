"""What the map draws around the data: the title box never covers an open popup (a popup
opened under it is moved clear of it), and a clicked control area gets no focus
rectangle."""

from __future__ import annotations

import time

import pandas as pd
import pytest
from browser_helpers import open_app, wait_idle
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from dashboard import paths

pytestmark = pytest.mark.browser

#: JS: whether the title box overlaps the open popup.
TITLE_COVERS_POPUP_JS = """
() => {
  const title = document.querySelector('.cm-title');
  const popup = document.querySelector('.leaflet-popup');
  if (!title || !popup) { return null; }
  const a = title.getBoundingClientRect(), b = popup.getBoundingClientRect();
  const overlap = a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  return overlap;
}
"""


#: JS: pan the map so that (lat, lon) sits 12 px under the title box; its container point.
PAN_UNDER_TITLE_JS = """
([lat, lon]) => {
  const box = document.querySelector('.cm-title').getBoundingClientRect();
  const origin = window.map.getContainer().getBoundingClientRect();
  const p = window.map.latLngToContainerPoint([lat, lon]);
  const target = [box.left - origin.left + box.width / 2, box.bottom - origin.top + 12];
  window.map.panBy([p.x - target[0], p.y - target[1]], {animate: false});
  const q = window.map.latLngToContainerPoint([lat, lon]);
  return {x: q.x, y: q.y};
}
"""


def _town(name: str) -> tuple[float, float]:
    towns = pd.read_csv(paths.BUNDLED_TOWNS).set_index("name")
    return float(towns.at[name, "latitude"]), float(towns.at[name, "longitude"])


def test_a_popup_under_the_title_is_not_covered_by_it(page, bundled_server, artifacts):
    lat, lon = _town("Abu Kamal")
    frame, _ = open_app(
        page,
        bundled_server,
        f"date=2017-11-19&window=30&basemap=none&points=points&lat={lat}&lon={lon}&zoom=9",
        predicate_js="s => s.points > 0",
    )
    wait_idle(page)
    frame.wait_for_function("() => window.map.getZoom() === 9")
    # Move Abu Kamal's events just under the title box, then click them. A loaded machine
    # may redraw the map between the pan and the click (the place worked out before is
    # then somewhere else): pan and click again until the popup opens.
    deadline = time.monotonic() + 90
    while True:
        point = frame.evaluate(PAN_UNDER_TITLE_JS, [lat, lon])
        try:
            frame.locator("#map_div").click(position=point, timeout=10_000)
            expect(frame.locator(".cm-popup")).to_be_visible(timeout=10_000)
            break
        except (PlaywrightTimeout, AssertionError):
            if time.monotonic() > deadline:
                raise
    frame.wait_for_function(f"() => ({TITLE_COVERS_POPUP_JS})() === false")
    page.screenshot(path=str(artifacts / "popup-under-title.png"))


def test_a_clicked_area_has_no_focus_rectangle(page, bundled_server):
    lat, lon = 36.335, 43.03  # west of Mosul, no event, no label
    frame, _ = open_app(
        page,
        bundled_server,
        f"date=2016-01-15&window=30&basemap=none&lat={lat}&lon={lon}&zoom=9",
        predicate_js="s => s.polygons > 0",
    )
    wait_idle(page)
    point = frame.evaluate(
        "([lat, lon]) => { const p = window.map.latLngToContainerPoint([lat, lon]);"
        " return {x: p.x, y: p.y}; }",
        [lat, lon],
    )
    frame.locator("#map_div").click(position=point)
    frame.wait_for_function(
        "() => document.activeElement && document.activeElement.tagName === 'path'"
    )
    style = frame.evaluate(
        "() => { const s = getComputedStyle(document.activeElement);"
        " return [s.outlineStyle, s.outlineWidth]; }"
    )
    assert style[0] == "none" or style[1] == "0px", style


def test_no_debug_line_is_shown_to_readers(page, bundled_server):
    open_app(page, bundled_server, "date=2017-11-09&basemap=none")
    wait_idle(page)
    # The run counters the tests read stay in the page, out of sight.
    expect(page.locator(".st-key-diagnostics")).to_be_hidden()
    expect(page.get_by_text("Runs this session")).not_to_be_visible()


def test_the_heat_map_has_a_legend_entry(page, bundled_server):
    frame, _ = open_app(
        page,
        bundled_server,
        "date=2017-11-09&window=365&basemap=none&layers=areas,events,heatmap",
        predicate_js="s => s.polygons > 0",
    )
    wait_idle(page)
    legend = frame.locator(".cm-legend")
    expect(legend).to_contain_text("Event density (heat map)")
    expect(legend).to_contain_text("more events nearby")
    ramp = frame.locator(".cm-heat-ramp")
    expect(ramp).to_be_visible()
    assert "linear-gradient" in ramp.evaluate("el => el.style.background")


def test_without_the_heat_map_there_is_no_heat_entry(page, bundled_server):
    frame, _ = open_app(
        page,
        bundled_server,
        "date=2017-11-09&window=365&basemap=none",
        predicate_js="s => s.polygons > 0",
    )
    wait_idle(page)
    legend = frame.locator(".cm-legend")
    expect(legend).to_contain_text("Controlled by")
    expect(legend).not_to_contain_text("Event density")
