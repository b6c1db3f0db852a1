"""Zooming as a user does: one notch of the mouse wheel is one zoom level, and the map
stops at the zoom the data's precision allows (events are placed to a town)."""

from __future__ import annotations

import pytest
from browser_helpers import open_app, wait_idle

pytestmark = pytest.mark.browser


def _wheel_once(page, frame, delta_y: int) -> None:
    handle = frame.frame_element()
    rect = handle.bounding_box()
    page.mouse.move(rect["x"] + rect["width"] / 2, rect["y"] + rect["height"] / 2)
    page.mouse.wheel(0, delta_y)


@pytest.mark.parametrize(("delta_y", "change"), [(-100, +1), (100, -1)])
def test_one_wheel_notch_is_one_zoom_level(page, bundled_server, delta_y, change):
    frame, _ = open_app(page, bundled_server, "date=2017-11-15&basemap=none&zoom=7")
    wait_idle(page)
    frame.wait_for_function("() => window.map.getZoom() === 7")
    _wheel_once(page, frame, delta_y)
    frame.wait_for_function(f"() => window.map.getZoom() === {7 + change}")
    # Leaflet decides the whole step at once; once its animation is over, the zoom stays.
    frame.wait_for_function("() => !window.map._animatingZoom")
    assert frame.evaluate("() => window.map.getZoom()") == 7 + change


def test_the_map_stops_at_town_precision(page, bundled_server):
    frame, _ = open_app(page, bundled_server, "date=2017-11-15&basemap=none&zoom=11")
    wait_idle(page)
    assert frame.evaluate("() => window.map.getMaxZoom()") == 12
    frame.evaluate("() => window.map.setZoom(18)")
    frame.wait_for_function("() => window.map.getZoom() === 12")
