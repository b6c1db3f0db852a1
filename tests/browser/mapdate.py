"""The date controls and the date the map is drawn for, as the browser tests read them.

The map writes the date of the layers it has drawn on its container (``data-cm-as-of``,
``L.ConflictMap.ViewDate``), after every other layer of an update: waiting for that
attribute is waiting for the map itself, not for a timer or the page's run state.
"""

from __future__ import annotations

import re

from browser_helpers import MAP_FRAME_TITLE, wait_idle
from playwright.sync_api import expect

SLIDER_LABEL = re.compile(r"^As of")

MAP_DATE_JS = "() => window.map ? window.map.getContainer().getAttribute('data-cm-as-of') : null"
WAIT_MAP_DATE_JS = (
    "d => !!window.map && window.map.getContainer().getAttribute('data-cm-as-of') === d"
)
#: JS on the page: the slider and the map show dates, and ``{op}`` holds between them.
_SLIDER_AND_MAP_JS = """
() => {{
  const slider = document.querySelector('[data-testid="stSlider"] input[type="range"]');
  const frame = document.querySelector('iframe[title="{title}"]');
  const box = frame && frame.contentDocument.querySelector('[data-cm-as-of]');
  return !!(slider && box)
    && slider.getAttribute('aria-valuetext') {op} box.getAttribute('data-cm-as-of');
}}
"""
#: JS on the page: the slider shows another date than the map is drawn for.
SLIDER_AHEAD_OF_MAP_JS = _SLIDER_AND_MAP_JS.format(title=MAP_FRAME_TITLE, op="!==")
#: JS on the page: the slider shows the date the map is drawn for.
SLIDER_ON_MAP_DATE_JS = _SLIDER_AND_MAP_JS.format(title=MAP_FRAME_TITLE, op="===")
#: ISO dates compare as text: the map is drawn for ``d`` or a later date.
WAIT_MAP_DATE_FROM_JS = (
    "d => !!window.map && (window.map.getContainer().getAttribute('data-cm-as-of') || '') >= d"
)


def date_slider(page):
    """The as-of slider's input (its ``aria-valuetext`` is the date it shows)."""
    return page.get_by_role("slider", name=SLIDER_LABEL)


def slider_date(page) -> str | None:
    return date_slider(page).get_attribute("aria-valuetext")


def map_date(frame) -> str | None:
    """The date the map's layers are drawn for now."""
    return frame.evaluate(MAP_DATE_JS)


def wait_for_map_date(frame, date: str) -> None:
    frame.wait_for_function(WAIT_MAP_DATE_JS, arg=date)


def expect_view_on(page, frame, date: str) -> None:
    """The slider shows ``date`` and the map is drawn for it."""
    expect(date_slider(page)).to_have_attribute("aria-valuetext", date)
    wait_for_map_date(frame, date)


def wait_for_map_date_from(frame, date: str) -> None:
    """Wait until the map is drawn for ``date`` or a later one."""
    frame.wait_for_function(WAIT_MAP_DATE_FROM_JS, arg=date)


def expect_settled_on(page, frame, date: str) -> None:
    """The slider, the map and the URL end on ``date``, and are still on it once the
    server has answered everything."""
    expect_view_on(page, frame, date)
    expect(page).to_have_url(re.compile(rf"date={date}"))
    wait_idle(page)
    expect_view_on(page, frame, date)
    assert slider_date(page) == map_date(frame) == date
