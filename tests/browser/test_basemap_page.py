"""The page's map without tiles draws the Natural Earth basemap (land, lakes, rivers,
borders); with tiles only the borders, the tiles showing their own coasts and rivers."""

from __future__ import annotations

import pytest
from browser_helpers import open_app

from dashboard import style

pytestmark = pytest.mark.browser

#: JS: the computed display and fill of the first path of each basemap class.
LOOK_JS = """
() => Object.fromEntries(['cm-land', 'cm-lake', 'cm-river', 'cm-border'].map(cls => {
  const path = document.querySelector('path.' + cls);
  if (!path) return [cls, null];
  const look = getComputedStyle(path);
  return [cls, {display: look.display, fill: path.getAttribute('fill'), box: path.getBBox().width}];
}))
"""


def test_no_tiles_map_draws_land_water_rivers_and_borders(page, bundled_server):
    frame, _ = open_app(
        page, bundled_server, "date=2017-11-09&window=30&basemap=none", "s => s.polygons > 0"
    )
    frame.wait_for_function("() => document.querySelector('path.cm-land')")
    look = frame.evaluate(LOOK_JS)
    assert all(look[cls] and look[cls]["display"] != "none" for cls in look), look
    assert look["cm-land"]["fill"].lower() == style.LAND_FILL.lower()
    assert all(look[cls]["box"] > 0 for cls in look), look  # drawn, not empty paths


def test_tiled_map_keeps_only_the_borders(page, bundled_server):
    frame, _ = open_app(
        page, bundled_server, "date=2017-11-09&window=30&basemap=osm", "s => s.polygons > 0"
    )
    frame.wait_for_function("() => document.querySelector('path.cm-border')")
    look = frame.evaluate(LOOK_JS)
    assert look["cm-border"]["display"] != "none"
    assert {look[cls]["display"] for cls in ("cm-land", "cm-lake", "cm-river")} == {"none"}


@pytest.mark.parametrize("compare_map", ["changes", "side"])
def test_compare_maps_fetch_the_basemap_too(page, bundled_server, compare_map):
    """Compare mode's maps draw the same land and borders, fetched by the browser (their
    scripts, sent on every run, hold its URL, not its shapes)."""
    page.goto(
        f"{bundled_server.url}/?mode=compare&from=2017-06-01&to=2017-12-31&basemap=none"
        f"&compare_map={compare_map}"
    )
    frames = page.locator('iframe[title="streamlit_folium.st_folium"]')
    frames.first.wait_for(state="attached")
    for handle in frames.element_handles():
        frame = handle.content_frame()
        frame.wait_for_function("() => document.querySelector('path.cm-land')")
        uses_url = frame.evaluate(
            "() => { let n = 0; window.map.eachLayer(l => {"
            " if (l instanceof L.ConflictMap.RemoteBasemap) n++; }); return n; }"
        )
        assert uses_url == 1
