"""The date slider and Play/Pause under fast input and late answers, in a real browser.

Every run of the view used to send the slider's value back to the browser, which then set
its slider to it: an answer arriving after the user had pressed on took the slider back
(presses were lost), and the next request of any kind (the map reporting a move) carried
that older date to the server (the map stayed on it). Pause stopped at the date of the
session's latest step or timer request, a step or more past the map on show.

The browser's Play timer goes on sending ticks until the answer to the Pause reaches it;
a tick sent just before that answer arrived used to reach the server after the Pause had been
answered and rerun the view with the slider of a step past it: the map moved on (the slider
did not), in about one run in three of this file on a loaded machine.

The races are made to happen every time with :class:`wsrelay.Relay`, which holds back the
server's answers chosen by the date their map is drawn for, and can keep a tick from the
server; every wait is on what the page shows, or on what the relay holds. When a test fails,
what went through the relay is in ``test-artifacts``. Inputs: ``app_fixtures``.
"""

from __future__ import annotations

import re

import pytest
from browser_helpers import open_app
from mapdate import (
    SLIDER_AHEAD_OF_MAP_JS,
    date_slider,
    expect_settled_on,
    slider_date,
    wait_for_map_date,
)
from playwright.sync_api import expect
from wsrelay import DROPPED, Relay

pytestmark = pytest.mark.browser

MAP_NOT_ON_JS = "d => !!window.map && window.map.getContainer().getAttribute('data-cm-as-of') !== d"


@pytest.fixture
def relay(page, artifacts, request):
    """A relay on the page's websocket; what went through it is written to
    ``test-artifacts/relay-<test>.log`` after the test, to read when it failed."""
    relay = Relay()
    relay.attach(page)
    yield relay
    log = artifacts / f"relay-{request.node.name}.log"
    log.write_text("\n".join(relay.trace) + "\n", encoding="utf-8")


def _open_on_date(page, server, query: str):
    """Open the app and wait until the map is drawn for the date of ``query``. A run of the
    page's own (the map reporting its first view) may still be under way: the relay's
    holds are chosen by the date a run draws, so it does not matter."""
    frame, _ = open_app(page, server, query)
    wait_for_map_date(frame, re.search(r"date=([\d-]+)", query).group(1))
    return frame


def test_twenty_fast_key_presses_all_count_and_the_map_ends_on_the_last(page, tiny_server):
    frame = _open_on_date(page, tiny_server, "date=2017-10-01&window=30&step=day")
    date_slider(page).focus()
    for _ in range(20):  # as fast as the browser takes them, no wait in between
        page.keyboard.press("ArrowRight")
    expect_settled_on(page, frame, "2017-10-21")
    assert page.page_errors == []


def test_an_answer_arriving_after_more_presses_does_not_take_the_slider_back(
    page, tiny_server, relay
):
    frame = _open_on_date(page, tiny_server, "date=2017-10-01&window=30&step=day")
    relay.hold_run_drawing("2017-10-02")
    date_slider(page).focus()
    page.keyboard.press("ArrowRight")
    # The server's whole answer to that press (its slider, its map) is held back.
    relay.wait_until(page, lambda r: r.held_runs() >= 1, "the answer to the first press")
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    expect(date_slider(page)).to_have_attribute("aria-valuetext", "2017-10-06")
    relay.release_runs(1)  # that answer arrives now, after four more presses
    wait_for_map_date(frame, "2017-10-02")  # drawn: the page has read the whole answer
    assert slider_date(page) == "2017-10-06"
    relay.release()
    expect_settled_on(page, frame, "2017-10-06")


def test_a_map_move_after_a_late_answer_keeps_the_last_key_press(page, tiny_server, relay):
    frame = _open_on_date(page, tiny_server, "date=2016-06-01&window=30")
    relay.hold_run_drawing("2015-06-01")
    date_slider(page).focus()
    page.keyboard.press("Home")  # 2015-06-01
    relay.wait_until(page, lambda r: r.held_runs() >= 1, "the answer to Home")
    page.keyboard.press("End")  # 2017-11-15
    expect(date_slider(page)).to_have_attribute("aria-valuetext", "2017-11-15")
    relay.release_runs(1)  # Home's answer arrives after End; End's stays held
    wait_for_map_date(frame, "2015-06-01")
    # The map reports its new centre: a request of its own, which carries the value of
    # every widget on the page, the slider's too.
    relay.release_after_next_request()
    frame.evaluate("() => window.map.panBy([60, 0], {animate: false})")
    expect_settled_on(page, frame, "2017-11-15")


def _dropped(server, fragment: str | None) -> bool:
    return fragment is not None and DROPPED.format(fragment) in server.log()


def _play_then_hold_a_step_back(page, frame, relay) -> str:
    """Play from 2017-10-01, then hold back the map of a step: the page has that step's
    slider and the map of the step before. Returns the date the map shows."""
    page.get_by_role("button", name="Play").click()
    frame.wait_for_function(MAP_NOT_ON_JS, arg="2017-10-01")  # playing
    relay.hold_from_new_map_date()
    relay.wait_until(page, lambda r: bool(r.held_dates()), "the map of a Play step")
    shown = relay.passed_map_date()
    assert shown is not None
    # The page has drawn every map handed to it (read earlier, the map could still move on
    # to the last one, and the Pause would rightly stop there).
    wait_for_map_date(frame, shown)
    page.wait_for_function(SLIDER_AHEAD_OF_MAP_JS)
    return shown


def test_pause_stops_at_the_date_the_map_shows(page, tiny_server, relay):
    frame = _open_on_date(page, tiny_server, "date=2017-10-01&window=30&step=day")
    shown = _play_then_hold_a_step_back(page, frame, relay)
    relay.release_after_next_request(pressed=True)
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Play")).to_be_visible()
    expect_settled_on(page, frame, shown)
    assert page.page_errors == []


def test_a_play_tick_sent_before_the_pause_was_answered_does_not_move_the_map(
    page, tiny_server, relay
):
    frame = _open_on_date(page, tiny_server, "date=2017-10-01&window=30&step=day")
    shown = _play_then_hold_a_step_back(page, frame, relay)
    # The answer to the Pause is held until the page's timer has sent a tick, and the
    # tick reaches the server once the Pause has been answered.
    relay.keep_ticks_after_press()
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Play")).to_be_visible()
    # What the server made of the tick: a run of the view, or a line of its log saying it
    # dropped a request naming a fragment it no longer has.
    relay.wait_until(
        page,
        lambda r: r.kept_tick_answered() or _dropped(tiny_server, r.ticks_fragment),
        "the server's answer to a Play tick sent before the Pause was answered",
    )
    moved = [date for date in relay.maps_since_ticks if date != shown]
    assert moved == [], (
        f"a Play tick sent before the Pause was answered drew the map for {moved} "
        f"(the Pause stopped at {shown})"
    )
    expect_settled_on(page, frame, shown)
    assert page.page_errors == []
