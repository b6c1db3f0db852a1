"""Reading a press of the Play/Pause button (its value comes from the browser: untrusted)."""

from __future__ import annotations

import datetime as dt

import pytest

from dashboard.app.playbutton import PRESS, Press, read_press


def test_a_pause_carries_the_date_the_map_showed():
    state = {PRESS: {"action": "pause", "shown": "2017-10-02"}}
    assert read_press(state) == Press("pause", dt.date(2017, 10, 2))


def test_a_play_keeps_no_date():
    assert read_press({PRESS: {"action": "play", "shown": "2017-10-02"}}) == Press("play")


@pytest.mark.parametrize(
    "shown", [None, "", "2017-13-01", "2017-10-02T00:00", "<img src=x>", 20171002, ["x"]]
)
def test_a_pause_without_a_readable_date_stops_where_the_server_is(shown):
    assert read_press({PRESS: {"action": "pause", "shown": shown}}) == Press("pause", None)


@pytest.mark.parametrize(
    "state",
    [None, {}, {PRESS: None}, {PRESS: "pause"}, {PRESS: {"action": "stop"}}, {PRESS: {}}, []],
)
def test_anything_else_is_no_press(state):
    assert read_press(state) is None
