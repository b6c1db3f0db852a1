"""The page's PNG / PDF / HTML buttons: the file is made for the view on show, and a file
that cannot be made leaves a message on the page (never nothing at all)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import paths
from dashboard.app import exportbuttons, mapview
from dashboard.app import session as K
from dashboard.export.render import ExportError

# Each test builds into a cache of its own (app_fixtures.private_build_cache).
pytestmark = pytest.mark.usefixtures("private_build_cache")

APP = str(Path(paths.PACKAGE_DIR) / "app" / "main.py")
TIMEOUT = 120


def _app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["date"] = "2017-11-15"
    return at.run()


def _errors(at: AppTest) -> list[str]:
    """The error boxes as a reader sees them (markdown escapes resolved)."""
    return [re.sub(r"\\(.)", r"\1", e.value).replace("\u200b", "") for e in at.error]


@pytest.mark.usefixtures("tiny")
def test_make_then_download_the_png():
    at = _app()
    assert not at.exception and not _errors(at)
    assert [b.label for b in at.download_button if b.key == "dl_map_png"] == []
    at.button(key="mk_map_png").click()
    at.run()
    assert not at.exception and not _errors(at)
    assert at.download_button(key="dl_map_png").label == "Download PNG"
    made = at.session_state[exportbuttons.K_MADE]["png"]
    assert made.data is not None and made.data.startswith(b"\x89PNG")
    # Another view drops the file made for this one.
    at.session_state[K.K_DATE] = dt.date(2017, 11, 10)
    at.run()
    assert "png" not in (at.session_state[exportbuttons.K_MADE] or {})


def _report(lat: float, lon: float, zoom: int, box: tuple[float, float, float, float]) -> dict:
    """What the map sends after a move (streamlit-folium's centre, zoom and bounds)."""
    west, south, east, north = box
    return {
        "center": {"lat": lat, "lng": lon},
        "zoom": zoom,
        "bounds": {
            "_southWest": {"lat": south, "lng": west},
            "_northEast": {"lat": north, "lng": east},
        },
    }


MOVED = (41.0, 35.0, 43.5, 36.0)


@pytest.mark.usefixtures("tiny")
def test_a_file_made_after_a_map_move_shows_that_move():
    """The map's report reaches the session before the run it starts (and before the run
    of a click on Make): the file holds that centre, zoom and extent, not the ones of the
    run before."""
    at = _app()
    at.session_state[mapview.MAP_KEY] = _report(35.5, 42.25, 9, MOVED)
    at.button(key="mk_map_html").click()
    at.run()
    assert not at.exception and not _errors(at)
    made = at.session_state[exportbuttons.K_MADE]["html"]
    assert (made.view.center, made.view.zoom, made.bbox) == ((35.5, 42.25), 9, MOVED)
    page = made.data.decode("utf-8")
    assert "lat=35.5000&amp;lon=42.2500&amp;zoom=9" in page
    fit = re.search(
        r"fitBounds\(\s*\[\[([-\d.e]+), ([-\d.e]+)\], \[([-\d.e]+), ([-\d.e]+)\]\]", page
    )
    assert fit, "the HTML page opens on no bounds"
    south, west, north, east = (float(v) for v in fit.groups())
    assert (west, south, east, north) == pytest.approx(MOVED, abs=1e-9)  # the screen's extent


@pytest.mark.usefixtures("tiny")
def test_a_file_is_offered_until_the_map_shows_something_else():
    at = _app()
    at.session_state[mapview.MAP_KEY] = _report(35.5, 42.25, 9, MOVED)
    at.button(key="mk_map_html").click()
    at.run()
    assert at.download_button(key="dl_map_html").label == "Download HTML"
    # The same bounds with the centre read from pixels (a fraction of a pixel away, as
    # Leaflet reports once its frame was resized): the same picture, still offered.
    at.session_state[mapview.MAP_KEY] = _report(35.4990, 42.2468, 9, MOVED)
    at.run()
    assert at.download_button(key="dl_map_html").label == "Download HTML"
    # Panned: another extent, so the file is dropped and Make offered again.
    at.session_state[mapview.MAP_KEY] = _report(35.6, 42.25, 9, (41.0, 35.1, 43.5, 36.1))
    at.run()
    assert [b for b in at.download_button if b.key == "dl_map_html"] == []
    assert at.button(key="mk_map_html").label == "Make HTML"
    assert "html" not in at.session_state[exportbuttons.K_MADE]


@pytest.mark.parametrize(
    ("fmt", "error", "message"),
    [
        (
            "pdf",
            RecursionError("maximum recursion depth exceeded"),
            "The PDF could not be made (RecursionError); the server log has the details",
        ),
        (
            "html",
            ExportError("scale 9: expected 1 to 4"),
            "The HTML page could not be made: scale 9: expected 1 to 4",
        ),
    ],
)
@pytest.mark.usefixtures("tiny")
def test_a_file_that_cannot_be_made_says_so_on_the_page(monkeypatch, fmt, error, message):
    def fail(ds, view, bbox=None):
        raise error

    monkeypatch.setattr(exportbuttons, f"_{fmt}", fail)
    at = _app()
    at.button(key=f"mk_map_{fmt}").click()
    at.run()
    assert not at.exception
    shown = _errors(at)
    assert len(shown) == 1 and message in shown[0], shown
    # Not offered as a download; the button offers to try again.
    assert [b for b in at.download_button if b.key == f"dl_map_{fmt}"] == []
    assert at.button(key=f"mk_map_{fmt}").label == f"Make {fmt.upper()}"
