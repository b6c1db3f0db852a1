"""A relay between the page and the Streamlit server's websocket that can hold back what the
server sends, so a test can make the browser receive a run's answer late, on purpose.

Races that a loaded machine produces now and then (a run's answer arriving after the user
has pressed on, the map drawn a step after the slider) are made to happen every time: the
relay passes the server's messages through until told to hold, keeps them in order while
holding, and hands them over on :meth:`Relay.release` (all) or :meth:`Relay.release_runs`
(the first runs held). Messages from the page to the server pass at once, but for the Play
ticks :meth:`Relay.keep_ticks_after_press` keeps back to make one reach the server late.

What is held is chosen by what it carries (the date of the map's update), never by counting
runs: a run of the page's own (the map reporting its first view) may or may not come
between two presses, depending on the machine's load.

The test waits on what the page shows (``expect``, ``wait_for_function``); where it must wait
on the relay itself (:meth:`Relay.wait_until`) it asks a condition until a deadline.
:attr:`Relay.trace` says in one line each what went through (requests with their slider
value, runs, map dates, holds and releases), for reading a failure.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Callable

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

STREAM = re.compile(r"/_stcore/stream$")
MAP_COMPONENT = "streamlit_folium.st_folium"
#: The date the map's update is drawn for, in the feature-group script of the map's
#: arguments (``mapview.view_date_group``: ``L.ConflictMap.viewDate({"asOf": ...})``).
VIEW_DATE = re.compile(r'viewDate\(\s*\{"asOf":\s*"(\d{4}-\d{2}-\d{2})"')
#: What the server logs (at level info, its default) when it drops a rerun request naming a
#: fragment it no longer has, for a fragment id.
DROPPED = "The fragment with id {} does not exist anymore"
#: The as-of slider's widget ids end with its key (``session.K_DATE``).
SLIDER_KEY = "w_date"
#: How long :meth:`Relay.wait_until` waits, and how often it looks.
WAIT_S = 120.0
LOOK_EVERY_MS = 50


def map_date(message: ForwardMsg) -> str | None:
    """The date of the map's update a delta carries, or None if it is no map update."""
    if message.WhichOneof("type") != "delta":
        return None
    element = message.delta.new_element
    if element.WhichOneof("type") != "component_instance":
        return None
    instance = element.component_instance
    if instance.component_name != MAP_COMPONENT:
        return None
    args = json.loads(instance.json_args or "{}")
    found = VIEW_DATE.search(str(args.get("feature_group") or ""))
    return found.group(1) if found else None


class Relay:
    """Sits on the page's ``/_stcore/stream`` websocket (``attach`` before ``goto``)."""

    def __init__(self) -> None:
        self._page_socket = None
        self._held: list[bytes | str] = []
        self._holding = False
        self._hold_at: Callable[[ForwardMsg], bool] | None = None
        #: Hold from the start of the run whose map is drawn for this date.
        self._hold_run_of: str | None = None
        self._run: list[bytes | str] | None = None  # the run under way, while deciding
        self._runs_to_pass = 0
        self._shown_map: str | None = None
        self._dates_by_hash: dict[str, str] = {}
        self._release_on: Callable[[BackMsg], bool] | None = None
        #: What went through, in order, one short line each: told in a failure's message.
        self.trace: list[str] = []
        self._server_socket = None
        self._full_run = False  # the run under way on the server is one of the whole page
        #: :meth:`keep_ticks_after_press`: armed, press seen, the ticks kept from the server.
        self._keep_ticks = False
        self._press_seen = False
        self._release_on_tick = False
        self._kept_ticks: list[bytes] = []
        self._answered = False  # the server has finished a run of the whole page since
        self._runs_started = self._runs_finished = 0
        self._runs_before_ticks: int | None = None  # runs started when the ticks went
        #: The fragment the kept ticks named, once handed to the server, and the map dates
        #: the server sent from then on.
        self.ticks_fragment: str | None = None
        self.maps_since_ticks: list[str] = []

    def attach(self, page) -> None:
        page.route_web_socket(STREAM, self._route)

    def _route(self, socket) -> None:
        server = socket.connect_to_server()
        self._page_socket = socket
        self._server_socket = server

        def from_page(message: bytes | str) -> None:
            if isinstance(message, str):
                server.send(message)
                return
            request = BackMsg.FromString(message)
            self._note_request(request)
            rerun = request.WhichOneof("type") == "rerun_script"
            if (
                rerun
                and self._keep_ticks
                and self._press_seen
                and request.rerun_script.is_auto_rerun
            ):
                if self._kept_ticks and not self._answered:
                    # One late tick is the race; more would only make the wait for
                    # their runs uncertain. A timer that fired once less is no other page.
                    self.trace.append("relay: that tick is dropped")
                    return
                self._kept_ticks.append(message)
                self.trace.append("relay: that tick is kept from the server")
                if self._release_on_tick:
                    self._release_on_tick = False
                    self.release()
                if self._answered:
                    self._send_kept_ticks()
                return
            server.send(message)
            if rerun and self._keep_ticks and _carries_a_press(request):
                self._press_seen = True
            if self._release_on is None:
                return
            if rerun and self._release_on(request):
                self._release_on = None
                self.release()

        socket.on_message(from_page)
        server.on_message(self._from_server)

    def _note_request(self, request: BackMsg) -> None:
        if request.WhichOneof("type") != "rerun_script":
            return
        state = request.rerun_script
        slider = next((w for w in state.widget_states.widgets if w.id.endswith(SLIDER_KEY)), None)
        presses = [w.id[-12:] for w in state.widget_states.widgets if _is_press(w)]
        self.trace.append(
            f"page> rerun fragment={state.fragment_id[:8] or '-'} auto={state.is_auto_rerun} "
            f"slider={_slider_text(slider)} presses={presses}"
        )

    def _note_answer(self, message: ForwardMsg, date: str | None, what: str) -> None:
        kind = message.WhichOneof("type")
        if kind == "new_session":
            ids = [i[:8] for i in message.metadata.run.fragment_ids]
            self.trace.append(f"{what} run start fragments={ids or 'all'}")
        elif kind == "script_finished":
            self.trace.append(f"{what} run end {message.script_finished}")
        elif kind == "auto_rerun":
            self.trace.append(f"{what} timer {message.auto_rerun.fragment_id[:8]}")
        elif date is not None:
            self.trace.append(f"{what} map {date}")
        elif kind == "delta" and message.delta.new_element.WhichOneof("type") == "slider":
            slider = message.delta.new_element.slider
            if slider.id.endswith(SLIDER_KEY):
                days = [_micros_date(v) for v in slider.value]
                self.trace.append(f"{what} slider {days} set={slider.set_value}")

    def _date_of(self, message: ForwardMsg) -> str | None:
        """The map date of a delta, or of a cached delta the server names by its hash."""
        if message.WhichOneof("type") == "ref_hash":
            return self._dates_by_hash.get(message.ref_hash)
        date = map_date(message)
        if date is not None and message.hash:
            self._dates_by_hash[message.hash] = date
        return date

    def _from_server(self, message: bytes | str) -> None:
        parsed = None if isinstance(message, str) else ForwardMsg.FromString(message)
        date = None if parsed is None else self._date_of(parsed)
        kind = None if parsed is None else parsed.WhichOneof("type")
        if parsed is not None:
            self._note_answer(parsed, date, "server>" + (" (held)" if self._holding else ""))
            if date is not None and self.ticks_fragment is not None:
                self.maps_since_ticks.append(date)
            if kind == "new_session":
                self._full_run = not parsed.metadata.run.fragment_ids
                self._runs_started += 1
            elif kind == "script_finished":
                self._runs_finished += 1
            if kind == "script_finished" and self._full_run and self._press_seen:
                self._answered = True
                if self._kept_ticks:
                    self._send_kept_ticks()
        if self._holding:
            self._held.append(message)
            self._pass_released_runs()
            return
        if self._hold_run_of is not None and parsed is not None:
            # Keep each run until it is known whether it draws the date to hold.
            if kind == "new_session":
                self._run = []
            if self._run is not None:
                self._run.append(message)
                if date == self._hold_run_of:
                    self._holding, self._hold_run_of = True, None
                    self.trace.append("relay: holds that run from its start")
                    self._held, self._run = self._run, None
                elif kind == "script_finished":
                    run, self._run = self._run, None
                    for each in run:
                        self._pass(each)
                return
        if self._hold_at is not None and parsed is not None and self._hold_at(parsed):
            self._holding, self._hold_at = True, None
            self._held.append(message)
            self.trace.append("relay: holds from the message above")
            return
        self._pass(message, date)

    def _pass(self, message: bytes | str, date: str | None = None) -> None:
        if date is None and not isinstance(message, str):
            date = self._date_of(ForwardMsg.FromString(message))
        if date is not None:
            self._shown_map = date
        assert self._page_socket is not None
        self._page_socket.send(message)

    def _pass_released_runs(self) -> None:
        """Hand over held messages through the end of the runs :meth:`release_runs` let go."""
        while self._runs_to_pass and self._held:
            message = self._held.pop(0)
            self._pass(message)
            if _is_run_end(message):
                self._runs_to_pass -= 1

    def hold_run_drawing(self, date: str) -> None:
        """Hold from the start of the first run whose map update is drawn for ``date``
        (its slider, its map, everything after it), so the page has none of that run."""
        self._hold_run_of = date

    def hold_from_new_map_date(self) -> None:
        """Hold from the first map update for a date other than the one the page shows,
        so that the page has that run's slider (sent before the map) and not its map."""
        self._hold_at = lambda message: self._date_of(message) not in (None, self._shown_map)

    def held_dates(self) -> list[str]:
        """The map dates of the held messages, in order."""
        dates = []
        for message in self._held:
            if not isinstance(message, str):
                date = self._date_of(ForwardMsg.FromString(message))
                if date is not None:
                    dates.append(date)
        return dates

    def passed_map_date(self) -> str | None:
        """The date of the last map update handed to the page (the map it ends on while the
        relay holds)."""
        return self._shown_map

    def held_runs(self) -> int:
        """How many whole runs (through their end) are held."""
        return sum(1 for message in self._held if _is_run_end(message))

    def wait_until(self, page, condition: Callable[[Relay], bool], what: str) -> None:
        """Wait until ``condition(self)`` is true (the relay holds, or has seen, what the test
        needs).

        Between two looks the page waits a moment: that is when Playwright hands the
        socket's messages to the relay (its handlers run only inside Playwright's calls).
        """
        deadline = time.monotonic() + WAIT_S
        while not condition(self):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the relay has still not seen {what} after {WAIT_S:.0f} s "
                    f"(held map dates: {self.held_dates()})"
                )
            page.wait_for_timeout(LOOK_EVERY_MS)

    def release_runs(self, runs: int) -> None:
        """Hand over the first ``runs`` runs held (through their end) and keep holding the
        rest; runs not wholly held yet are handed over as their messages come."""
        self._runs_to_pass += runs
        self._pass_released_runs()

    def release(self) -> None:
        """Hand every held message to the page, in order, and stop holding."""
        self._holding, self._hold_at, self._hold_run_of = False, None, None
        self._runs_to_pass = 0
        held, self._held = self._held, []
        self.trace.append(f"relay: {len(held)} held messages handed to the page")
        for message in held:
            self._pass(message)

    def keep_ticks_after_press(self) -> None:
        """Make the Play ticks of a page that has not yet heard of its latest press reach the
        server late, every time.

        After the page's next press, the server's answers are held until the page's Play
        timer has sent a tick (the page still plays: it has not had the answer), and every
        tick the page sends from the press on is kept from the server until the server has
        finished a run of the whole page (the one a Pause starts), then handed over in
        order: each reaches the server after the press has been answered, as a tick sent
        just before the answer arrived does on a loaded machine.
        """
        self._keep_ticks, self._press_seen, self._release_on_tick = True, False, True
        self._answered = False

    def kept_tick_answered(self) -> bool:
        """Whether the tick :meth:`keep_ticks_after_press` kept has reached the server, and
        it started a run, and every run started since has finished (their answers are on
        their way to the page). A tick the server drops starts no run: the server's log
        says so (:data:`DROPPED`)."""
        return (
            self._runs_before_ticks is not None
            and self._runs_started > self._runs_before_ticks
            and self._runs_finished == self._runs_started
        )

    def _send_kept_ticks(self) -> None:
        ticks, self._kept_ticks = self._kept_ticks, []
        self._keep_ticks = False
        self._runs_before_ticks = self._runs_started
        self.ticks_fragment = BackMsg.FromString(ticks[0]).rerun_script.fragment_id
        self.trace.append(f"relay: {len(ticks)} kept ticks handed to the server")
        assert self._server_socket is not None
        for tick in ticks:
            self._server_socket.send(tick)

    def release_after_next_request(self, *, pressed: bool = False) -> None:
        """:meth:`release` as soon as the page has sent its next rerun request (and the
        server has it): whatever that request carries was decided before the page saw
        the held answers. With ``pressed``, only a request carrying a press (a button's or
        a component's trigger value) counts: a Play timer's requests carry none."""
        self._release_on = _carries_a_press if pressed else (lambda request: True)


def _micros_date(micros: float) -> str:
    return (dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=micros)).date().isoformat()


def _slider_text(state) -> str:
    if state is None:
        return "-"
    values = list(state.double_array_value.data)
    return ",".join(_micros_date(v) for v in values) or state.WhichOneof("value")


def _is_press(state) -> bool:
    kind = state.WhichOneof("value")
    return (kind == "trigger_value" and state.trigger_value) or (
        kind == "json_trigger_value" and bool(state.json_trigger_value)
    )


def _is_run_end(message: bytes | str) -> bool:
    return (
        not isinstance(message, str)
        and ForwardMsg.FromString(message).WhichOneof("type") == "script_finished"
    )


def _carries_a_press(request: BackMsg) -> bool:
    for state in request.rerun_script.widget_states.widgets:
        kind = state.WhichOneof("value")
        if kind == "trigger_value" and state.trigger_value:
            return True
        if kind == "json_trigger_value" and state.json_trigger_value:
            return True
    return False
