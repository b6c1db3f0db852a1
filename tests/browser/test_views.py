"""The compare mode and the hexagon mode in the running app, in Chromium."""

from __future__ import annotations

import pytest
from browser_helpers import map_frame, wait_idle
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def test_compare_mode_from_a_link_shows_the_islamic_states_losses(page, bundled_server, artifacts):
    page.goto(f"{bundled_server.url}/?mode=compare&from=2017-06-01&to=2017-12-31&basemap=none")
    frame = map_frame(page)
    # The change map draws the ground that changed hands as polygons.
    frame.wait_for_function(
        "() => { let n = 0; window.map.eachLayer(l => { if (l.feature) n += 1; }); return n > 0; }"
    )
    wait_idle(page)
    # The page states what the library computes for the same dates (answers from here).
    from dashboard.compare import compare, read_towns
    from dashboard.pipeline import load_areas

    result = compare(load_areas().areas, "2017-06-01", "2017-12-31", towns=read_towns())
    main = page.locator('[data-testid="stMain"]')
    between = result.changed_parts_km2()[0]
    expect(main).to_contain_text(f"{between:,.0f} km² changed hands between controllers")
    expect(main).to_contain_text(f"{len(result.towns)} of the gazetteer's towns changed hands")
    expect(main).to_contain_text("EPSG:6933")
    # The area table: the Islamic State row has a negative difference.
    table = page.locator('[data-testid="stDataFrame"]').first
    expect(table).to_be_visible()
    page.screenshot(path=str(artifacts / "compare-2017-06-01-2017-12-31.png"))
    assert not page.page_errors, page.page_errors


def test_hexagons_from_a_link_are_drawn_and_the_legend_says_how_many(page, tiny_server):
    page.goto(f"{tiny_server.url}/?date=2017-11-15&window=365&points=hexagons&basemap=none")
    frame = map_frame(page)
    frame.wait_for_function(
        "() => (window.L.ConflictMap.hexagonLayers || []).some(l => l._map && l.stats.draws > 0)"
    )
    hexes = frame.evaluate(
        "() => window.L.ConflictMap.hexagonLayers.filter(l => l._map)"
        ".reduce((n, l) => n + l.stats.n, 0)"
    )
    events = frame.evaluate(
        "() => window.L.ConflictMap.hexagonLayers.filter(l => l._map)"
        ".reduce((n, l) => n + l.stats.events, 0)"
    )
    assert hexes >= 1 and events >= hexes
    legend = frame.locator(".cm-legend")
    noun = "event" if events == 1 else "events"
    expect(legend).to_contain_text(f"{events:,} {noun} shown as {hexes:,} hexagon")
    assert not page.page_errors, page.page_errors


#: JS: the screen rectangles (map container pixels) of the changed ground and of the legend.
_FRAMING_JS = """
() => {
  const map = window.map;
  let bounds = null;
  map.eachLayer(l => {
    const props = l.feature && l.feature.properties;
    if (props && props.change !== undefined && typeof l.getBounds === 'function') {
      bounds = bounds ? bounds.extend(l.getBounds()) : L.latLngBounds(l.getBounds());
    }
  });
  const nw = map.latLngToContainerPoint(bounds.getNorthWest());
  const se = map.latLngToContainerPoint(bounds.getSouthEast());
  const box = map.getContainer().getBoundingClientRect();
  const legend = document.querySelector('.cm-legend').getBoundingClientRect();
  return {
    zoom: map.getZoom(),
    size: [box.width, box.height],
    data: [nw.x, nw.y, se.x, se.y],
    legend: [legend.left - box.left, legend.top - box.top,
             legend.right - box.left, legend.bottom - box.top],
  };
}
"""


def test_the_change_map_is_framed_on_the_changed_ground_beside_its_legend(page, bundled_server):
    page.goto(f"{bundled_server.url}/?mode=compare&from=2017-05-01&to=2017-11-30&basemap=none")
    frame = map_frame(page)
    frame.wait_for_function(
        "() => { let n = 0; window.map.eachLayer(l => { if (l.feature) n += 1; }); return n > 0"
        " && document.querySelector('.cm-legend'); }"
    )
    wait_idle(page)
    frame.wait_for_function("() => !window.map._animatingZoom")
    seen = frame.evaluate(_FRAMING_JS)
    width, height = seen["size"]
    west, north, east, south = seen["data"]
    # the whole changed ground is on screen ...
    assert west >= -1 and north >= -1 and east <= width + 1 and south <= height + 1, seen
    # ... filling the map's width left of the legend (not the opening zoom of the region)
    assert east - west > 0.5 * width, seen
    assert seen["zoom"] > 5, seen
    # ... and the legend covers none of it
    left, top, _, _ = seen["legend"]
    assert east <= left or south <= top, seen
    assert not page.page_errors, page.page_errors
