"""The date slider and Play/Pause under fast input and late answers, in a real browser.

Every run of the view used to send the slider's value back to the browser, which then set
its slider to it: an answer arriving after the user had pressed on took the slider back
(presses were lost), and the next request of any kind (the map reporting a move) carried
that older date to the server (the map stayed on it). Pause stopped at the date of the
session's latest step or timer request, a step or more past the map on show.

The races are made to happen every time with :class:`wsrelay.Relay`, which holds back the
server's answers chosen by the date their map is drawn for; every wait is on what the page
shows, or on what the relay holds. Inputs: ``app_fixtures``.
"""

from __future__ import annotations

import re

import pytest
from browser_helpers import MAP_FRAME_TITLE, open_app, wait_idle
from mapdate import date_slider, expect_view_on, map_date, slider_date, wait_for_map_date
from playwright.sync_api import expect
from wsrelay import Relay

pytestmark = pytest.mark.browser

#: JS on the page: the slider shows another date than the map is drawn for.
SLIDER_AHEAD_OF_MAP_JS = f"""
() => {{
  const slider = document.querySelector('[data-testid="stSlider"] input[type="range"]');
  const frame = document.querySelector('iframe[title="{MAP_FRAME_TITLE}"]');
  const box = frame && frame.contentDocument.querySelector('[data-cm-as-of]');
  return !!(slider && box)
    && slider.getAttribute('aria-valuetext') !== box.getAttribute('data-cm-as-of');
}}
"""
MAP_NOT_ON_JS = "d => !!window.map && window.map.getContainer().getAttribute('data-cm-as-of') !== d"


def _open_on_date(page, server, query: str):
    """Open the app and wait until the map is drawn for the date of ``query``. A run of the
    page's own (the map reporting its first view) may still be under way: the relay's
    holds are chosen by the date a run draws, so it does not matter."""
    frame, _ = open_app(page, server, query)
    wait_for_map_date(frame, re.search(r"date=([\d-]+)", query).group(1))
    return frame


def _expect_settled_on(page, frame, date: str) -> None:
    """The slider, the map and the URL end on ``date``, and are still on it once the
    server has answered everything."""
    expect_view_on(page, frame, date)
    expect(page).to_have_url(re.compile(rf"date={date}"))
    wait_idle(page)
    expect_view_on(page, frame, date)
    assert slider_date(page) == map_date(frame) == date


def test_twenty_fast_key_presses_all_count_and_the_map_ends_on_the_last(page, tiny_server):
    frame = _open_on_date(page, tiny_server, "date=2017-10-01&window=30&step=day")
    date_slider(page).focus()
    for _ in range(20):  # as fast as the browser takes them, no wait in between
        page.keyboard.press("ArrowRight")
    _expect_settled_on(page, frame, "2017-10-21")
    assert page.page_errors == []


def test_an_answer_arriving_after_more_presses_does_not_take_the_slider_back(page, tiny_server):
    relay = Relay()
    relay.attach(page)
    frame = _open_on_date(page, tiny_server, "date=2017-10-01&window=30&step=day")
    relay.hold_run_drawing("2017-10-02")
    date_slider(page).focus()
    page.keyboard.press("ArrowRight")
    # The server's whole answer to that press (its slider, its map) is held back.
    relay.wait_until_held(page, lambda r: r.held_runs() >= 1, "the answer to the first press")
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    expect(date_slider(page)).to_have_attribute("aria-valuetext", "2017-10-06")
    relay.release_runs(1)  # that answer arrives now, after four more presses
    wait_for_map_date(frame, "2017-10-02")  # drawn: the page has read the whole answer
    assert slider_date(page) == "2017-10-06"
    relay.release()
    _expect_settled_on(page, frame, "2017-10-06")


def test_a_map_move_after_a_late_answer_keeps_the_last_key_press(page, tiny_server):
    relay = Relay()
    relay.attach(page)
    frame = _open_on_date(page, tiny_server, "date=2016-06-01&window=30")
    relay.hold_run_drawing("2015-06-01")
    date_slider(page).focus()
    page.keyboard.press("Home")  # 2015-06-01
    relay.wait_until_held(page, lambda r: r.held_runs() >= 1, "the answer to Home")
    page.keyboard.press("End")  # 2017-11-15
    expect(date_slider(page)).to_have_attribute("aria-valuetext", "2017-11-15")
    relay.release_runs(1)  # Home's answer arrives after End; End's stays held
    wait_for_map_date(frame, "2015-06-01")
    # The map reports its new centre: a request of its own, which carries the value of
    # every widget on the page, the slider's too.
    relay.release_after_next_request()
    frame.evaluate("() => window.map.panBy([60, 0], {animate: false})")
    _expect_settled_on(page, frame, "2017-11-15")


def test_pause_stops_at_the_date_the_map_shows(page, tiny_server):
    relay = Relay()
    relay.attach(page)
    frame = _open_on_date(page, tiny_server, "date=2017-10-01&window=30&step=day")
    page.get_by_role("button", name="Play").click()
    frame.wait_for_function(MAP_NOT_ON_JS, arg="2017-10-01")  # playing
    # Hold a step's map back: the page has that step's slider, the map the step before.
    relay.hold_from_new_map_date()
    page.wait_for_function(SLIDER_AHEAD_OF_MAP_JS)
    shown = map_date(frame)
    assert shown is not None and slider_date(page) != shown
    relay.release_after_next_request(pressed=True)
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Play")).to_be_visible()
    _expect_settled_on(page, frame, shown)
    assert page.page_errors == []
