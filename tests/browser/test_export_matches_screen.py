"""The page's PNG and HTML exports show what the map shows at the moment of the click.

After zooming, panning, a date change, a filter change or a layer change, and when Make
is clicked as the map reports a move, the file made (or offered) holds the view on screen: its permalink is the page's own (date, window,
filters, layers, centre, zoom) and its extent is the map's as the browser reports it,
whatever the size of the map's frame. The PNG says both in its text chunks ("View",
"Extent"); the HTML page in its footer and in the bounds it opens on.
"""

from __future__ import annotations

import html
import io
import math
import re
import urllib.parse

import numpy as np
import pytest
from browser_helpers import MAP_FRAME_TITLE, PAGE_TIMEOUT_MS, map_frame, open_app, wait_idle
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from dashboard.export.view import to_mercator

pytestmark = pytest.mark.browser

#: JS: the map's zoom, centre and bounds (west, south, east, north) as Leaflet has them.
SCREEN_JS = """
() => {
  const b = window.map.getBounds(), c = window.map.getCenter();
  return {zoom: window.map.getZoom(), lat: c.lat, lon: c.lng,
          bounds: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()]};
}
"""
#: JS: the map is still (no zoom animation, no pan, no drag) and its last report to the
#: page (streamlit-folium's ``previous_data``) is where it is: the same zoom and bounds
#: (Leaflet computes both from pixels), a centre within a pixel (Leaflet gives the centre
#: it was asked to show until it checks its size again, then the one its pixels give: a
#: fraction of a pixel apart, so the map may report again with nothing moved).
AT_REST_JS = """
() => {
  const m = window.map, sent = window.__GLOBAL_DATA__.previous_data;
  if (m._animatingZoom || m._panAnim?._inProgress || m.dragging?._draggable?._moving) {
    return false;
  }
  if (!sent || !sent.center || !sent.bounds || sent.zoom !== m.getZoom()) return false;
  const b = m.getBounds(), z = m.getZoom();
  const off = m.project(sent.center, z).distanceTo(m.project(m.getCenter(), z));
  return off < 1
    && sent.bounds._southWest.lat === b.getSouth() && sent.bounds._southWest.lng === b.getWest()
    && sent.bounds._northEast.lat === b.getNorth() && sent.bounds._northEast.lng === b.getEast();
}
"""
#: JS: the page's URL holds the map's zoom, and a centre less than a pixel from the map's
#: at that zoom (Web Mercator, 256-pixel tiles). The permalink rounds to 4 decimals, a
#: fiftieth of a pixel at zoom 9: a pixel covers that and the centre's two readings above.
URL_HOLDS_JS = """
([lat, lon, zoom]) => {
  const q = new URLSearchParams(window.location.search);
  if (q.get('lat') === null || q.get('lon') === null || Number(q.get('zoom')) !== zoom) {
    return false;
  }
  const size = 256 * 2 ** zoom;
  const px = (la, lo) => [
    size * (lo + 180) / 360,
    size * (1 - Math.log(Math.tan(Math.PI / 4 + la * Math.PI / 360)) / Math.PI) / 2,
  ];
  const [x0, y0] = px(lat, lon), [x1, y1] = px(Number(q.get('lat')), Number(q.get('lon')));
  return Math.hypot(x1 - x0, y1 - y0) < 1;
}
"""
#: Share of the extent's size two extents may differ by: about a pixel of a 1000-pixel map
#: (a zoom level apart is a factor of two; a frame 2 % narrower than assumed, 0.02).
TOLERANCE = 1e-3


def _query(url_or_query: str) -> dict[str, list[str]]:
    text = url_or_query.split("?", 1)[1] if "?" in url_or_query else url_or_query
    return urllib.parse.parse_qs(text, keep_blank_values=True)


def _settled(page, frame) -> dict:
    """Wait until the map is at rest, has reported where it is, the page's URL holds that
    centre and zoom and the server has finished its runs; returns what the map shows.

    "At rest" is not "no animation running": after a drag Leaflet starts its inertia pan
    on the next animation frame, and the map reports 250 ms after it stops (the
    component's debounce). Until the map's last report (``previous_data``) is where the
    map is, the page may still be one move behind, as the user would see it too.
    """
    try:
        frame.wait_for_function(AT_REST_JS, timeout=PAGE_TIMEOUT_MS)
    except PlaywrightTimeout:
        raise AssertionError(
            f"the map never reported where it is: it shows {frame.evaluate(SCREEN_JS)}, it "
            f"last reported {frame.evaluate('() => window.__GLOBAL_DATA__.previous_data')}"
        ) from None
    screen = frame.evaluate(SCREEN_JS)
    try:
        page.wait_for_function(
            URL_HOLDS_JS,
            arg=[screen["lat"], screen["lon"], screen["zoom"]],
            timeout=PAGE_TIMEOUT_MS,
        )
    except PlaywrightTimeout:
        raise AssertionError(
            f"the page's URL never showed the map's view {screen}: {page.url}"
        ) from None
    _idle(page)
    # Nothing moved the map meanwhile: what the URL and the server hold is on the screen.
    assert frame.evaluate(SCREEN_JS) == screen
    return screen


def _idle(page) -> None:
    """Wait until the page's run has ended: no running indicator and no element left
    from the run before (Streamlit keeps those, marked ``data-stale``, until the new run
    has drawn its own; an old "Download" may stand beside a new "Make" meanwhile)."""
    wait_idle(page)
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')")


def _export(page, fmt: str) -> bytes:
    """The file the export buttons give now: made first when only "Make" is offered."""
    _idle(page)
    fresh = ':not([data-stale="true"])'
    make = page.locator(f".st-key-mk_map_{fmt}{fresh}").get_by_role("button")
    download = page.locator(f".st-key-dl_map_{fmt}{fresh}").get_by_role("button")
    expect(make.or_(download)).to_be_visible(timeout=PAGE_TIMEOUT_MS)
    if make.is_visible():
        make.click()
    expect(download).to_be_visible(timeout=PAGE_TIMEOUT_MS)  # a PNG takes a few seconds
    _idle(page)
    expect(download).to_have_text(f"Download {fmt.upper()}")
    with page.expect_download() as info:
        download.click()
    return info.value.path().read_bytes()


def _png_text(data: bytes) -> dict[str, str]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        return dict(image.text)


def _html_view(page_html: str) -> tuple[dict[str, list[str]], list[float]]:
    """The footer's permalink and the bounds (west, south, east, north) the page opens on."""
    text = html.unescape(page_html)
    link = re.search(r"view: \?([^<\s]+)", text)
    assert link, "no permalink in the HTML footer"
    fit = re.search(
        r"fitBounds\(\s*\[\[([-\d.e]+),\s*([-\d.e]+)\],\s*\[([-\d.e]+),\s*([-\d.e]+)\]\]", text
    )
    assert fit, "the HTML page opens on no bounds"
    south, west, north, east = (float(v) for v in fit.groups())
    return _query(link.group(1)), [west, south, east, north]


def _mercator(box) -> np.ndarray:
    x, y = to_mercator(np.array([box[0], box[2]]), np.array([box[1], box[3]]))
    return np.array([x[0], y[0], x[1], y[1]])


def _assert_same_extent(got, screen_bounds) -> None:
    want, have = _mercator(screen_bounds), _mercator(got)
    size = max(want[2] - want[0], want[3] - want[1])
    assert np.abs(have - want).max() <= TOLERANCE * size, (got, screen_bounds)


def _assert_holds_extent(got, screen_bounds) -> None:
    """A picture of another shape: the screen's extent, grown about its centre in one
    direction only (never cut)."""
    want, have = _mercator(screen_bounds), _mercator(got)
    size = max(want[2] - want[0], want[3] - want[1])
    tol = TOLERANCE * size
    assert have[0] <= want[0] + tol and have[1] <= want[1] + tol, (got, screen_bounds)
    assert have[2] >= want[2] - tol and have[3] >= want[3] - tol, (got, screen_bounds)
    assert abs((have[0] + have[2]) - (want[0] + want[2])) <= 2 * tol, (got, screen_bounds)
    assert abs((have[1] + have[3]) - (want[1] + want[3])) <= 2 * tol, (got, screen_bounds)
    same_x = abs((have[2] - have[0]) - (want[2] - want[0])) <= 2 * tol
    same_y = abs((have[3] - have[1]) - (want[3] - want[1])) <= 2 * tol
    assert same_x or same_y, (got, screen_bounds)


def _pixel(lat: float, lon: float, zoom: int) -> np.ndarray:
    """Where (lat, lon) is in the world's pixels at ``zoom`` (Web Mercator, 256-pixel
    tiles), as Leaflet places it."""
    x, y = to_mercator(np.array([lon]), np.array([lat]))
    scale = 256 * 2**zoom / (2 * math.pi * 6_378_137)
    return np.array([x[0], -y[0]]) * scale


def _assert_same_view(link: dict[str, list[str]], page, screen: dict) -> None:
    """The file's permalink is the page's (date, window, filters, layers, zoom ...), and
    its centre is the screen's: less than a pixel away at the screen's zoom. The permalink
    rounds the centre to 4 decimals, and Leaflet reads its centre in two ways a fraction
    of a pixel apart (see ``AT_REST_JS``), so the page's URL may hold the other reading."""
    here = _query(page.url)
    assert {k: v for k, v in link.items() if k not in ("lat", "lon")} == {
        k: v for k, v in here.items() if k not in ("lat", "lon")
    }
    assert link["zoom"] == [str(screen["zoom"])], (link, screen)
    centre = _pixel(float(link["lat"][0]), float(link["lon"][0]), screen["zoom"])
    wanted = _pixel(screen["lat"], screen["lon"], screen["zoom"])
    assert np.hypot(*(centre - wanted)) < 1, (link, screen)


def _assert_png_is_screen(data: bytes, page, screen: dict) -> None:
    text = _png_text(data)
    assert "View" in text and "Extent" in text, f"no view or extent in the PNG: {text}"
    _assert_same_view(_query(text["View"]), page, screen)
    _assert_holds_extent([float(v) for v in text["Extent"].split(",")], screen["bounds"])


def _assert_html_is_screen(data: bytes, page, screen: dict) -> None:
    link, bounds = _html_view(data.decode("utf-8"))
    _assert_same_view(link, page, screen)
    _assert_same_extent(bounds, screen["bounds"])


def _map_box(page) -> dict:
    """Where the map is on the page, once it is scrolled into view (the export buttons are
    under it)."""
    iframe = page.locator(f'iframe[title="{MAP_FRAME_TITLE}"]')
    iframe.scroll_into_view_if_needed()
    return iframe.bounding_box()


def _drag(page, dx: float, dy: float) -> None:
    box = _map_box(page)
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx, y + dy, steps=12)
    page.mouse.up()


def _opened(page, server):
    open_app(page, server, "date=2017-11-15&window=30&basemap=none")
    frame = map_frame(page)
    return frame, _settled(page, frame)


def test_exports_after_zooming_and_panning_show_the_screen(page, tiny_server):
    frame, first = _opened(page, tiny_server)
    frame.locator(".leaflet-control-zoom-in").click()
    frame.wait_for_function("z => window.map.getZoom() === z", arg=first["zoom"] + 1)
    _settled(page, frame)
    _drag(page, -180, 90)
    screen = _settled(page, frame)
    assert screen["zoom"] == first["zoom"] + 1
    assert not math.isclose(screen["lon"], first["lon"], abs_tol=1e-3)
    assert _query(page.url)["zoom"] == [str(screen["zoom"])]

    _assert_png_is_screen(_export(page, "png"), page, screen)
    _assert_html_is_screen(_export(page, "html"), page, screen)
    assert page.page_errors == []


#: JS (in the map's frame): the next time the map reports to the page, click the page's
#: "Make <fmt>" button in the same task, as a reader clicking at once would (the frame has
#: the page's origin). The page's run for the move is then still to come or under way.
CLICK_ON_REPORT_JS = """
(fmt) => {
  const send = window.Streamlit.setComponentValue;
  window.Streamlit.setComponentValue = (value) => {
    window.Streamlit.setComponentValue = send;
    send(value);
    window.parent.document.querySelector(`.st-key-mk_map_${fmt} button`).click();
  };
}
"""


def test_make_clicked_as_the_map_reports_a_move_shows_the_move(page, tiny_server):
    """The reader zooms and clicks Make at once: the click reaches the server right after
    the map's report, while the page's run for the move is still to come or under way.
    The file shows the new zoom and extent; it was one zoom behind when the page read the
    view before the map's report (the issue's "zoom 9 on screen, zoom 8 in the export")."""
    frame, first = _opened(page, tiny_server)
    for fmt in ("png", "html"):
        frame.evaluate(CLICK_ON_REPORT_JS, fmt)
        frame.locator(".leaflet-control-zoom-in").click()
        download = page.locator(".st-key-map-exports").get_by_role(
            "button", name=f"Download {fmt.upper()}"
        )
        expect(download).to_be_visible(timeout=PAGE_TIMEOUT_MS)
        screen = _settled(page, frame)
        assert screen["zoom"] == first["zoom"] + 1
        data = _export(page, fmt)  # offered: the same file, made on the click
        if fmt == "png":
            _assert_png_is_screen(data, page, screen)
        else:
            _assert_html_is_screen(data, page, screen)
        frame.locator(".leaflet-control-zoom-out").click()
        frame.wait_for_function("z => window.map.getZoom() === z", arg=first["zoom"])
        first = _settled(page, frame)
    assert page.page_errors == []


def test_a_file_made_before_a_map_move_is_not_offered_after_it(page, tiny_server):
    frame, first = _opened(page, tiny_server)
    _assert_html_is_screen(_export(page, "html"), page, first)
    # Zoom in with the wheel over the map: the file made above is of another view.
    box = _map_box(page)
    page.mouse.move(box["x"] + box["width"] / 3, box["y"] + box["height"] / 2)
    page.mouse.wheel(0, -240)
    frame.wait_for_function("z => window.map.getZoom() > z", arg=first["zoom"])
    screen = _settled(page, frame)
    _assert_html_is_screen(_export(page, "html"), page, screen)
    _assert_png_is_screen(_export(page, "png"), page, screen)


def test_exports_after_a_date_filter_or_layer_change_show_the_screen(page, tiny_server):
    frame, _ = _opened(page, tiny_server)
    _export(page, "html")
    _export(page, "png")

    page.get_by_role("button", name="◀").click()  # one week back: 2017-11-08
    frame.wait_for_function(
        "() => document.querySelector('.cm-title').innerText.includes('2017-11-08')"
    )
    expect(page).to_have_url(re.compile(r"date=2017-11-08"))
    screen = _settled(page, frame)
    _assert_html_is_screen(_export(page, "html"), page, screen)
    _assert_png_is_screen(_export(page, "png"), page, screen)

    sidebar = page.locator('[data-testid="stSidebar"]')
    fatalities = sidebar.get_by_role("spinbutton", name="Minimum fatalities")
    fatalities.fill("1")
    fatalities.press("Enter")
    expect(page).to_have_url(re.compile(r"min_fatalities=1"))
    screen = _settled(page, frame)
    _assert_html_is_screen(_export(page, "html"), page, screen)
    _assert_png_is_screen(_export(page, "png"), page, screen)

    sidebar.get_by_text("Event density (heat map)").click()
    expect(page).to_have_url(re.compile(r"layers=[^&]*heatmap"))
    screen = _settled(page, frame)
    _assert_html_is_screen(_export(page, "html"), page, screen)
    _assert_png_is_screen(_export(page, "png"), page, screen)
    assert page.page_errors == []
