"""The date controls and the date the map is drawn for, as the browser tests read them.

The map writes the date of the layers it has drawn on its container (``data-cm-as-of``,
``L.ConflictMap.ViewDate``), after every other layer of an update: waiting for that
attribute is waiting for the map itself, not for a timer or the page's run state.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

SLIDER_LABEL = re.compile(r"^As of")

MAP_DATE_JS = "() => window.map ? window.map.getContainer().getAttribute('data-cm-as-of') : null"
WAIT_MAP_DATE_JS = (
    "d => !!window.map && window.map.getContainer().getAttribute('data-cm-as-of') === d"
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
