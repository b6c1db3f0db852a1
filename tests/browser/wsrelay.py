"""A relay between the page and the Streamlit server's websocket that can hold back what the
server sends, so a test can make the browser receive a run's answer late, on purpose.

Races that a loaded machine produces now and then (a run's answer arriving after the user
has pressed on, the map drawn a step after the slider) are made to happen every time: the
relay passes the server's messages through until told to hold, keeps them in order while
holding, and hands them over on :meth:`Relay.release` (all) or :meth:`Relay.release_runs`
(the first runs held). Messages from the page to the server always pass at once.

What is held is chosen by what it carries (the date of the map's update), never by counting
runs: a run of the page's own (the map reporting its first view) may or may not come
between two presses, depending on the machine's load.

The test waits on what the page shows (``expect``, ``wait_for_function``); where it must wait
on the relay itself (:meth:`Relay.wait_until_held`) it asks a condition until a deadline.
"""

from __future__ import annotations

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
#: How long :meth:`Relay.wait_until_held` waits, and how often it looks.
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

    def attach(self, page) -> None:
        page.route_web_socket(STREAM, self._route)

    def _route(self, socket) -> None:
        server = socket.connect_to_server()
        self._page_socket = socket

        def from_page(message: bytes | str) -> None:
            server.send(message)
            if self._release_on is None or isinstance(message, str):
                return
            request = BackMsg.FromString(message)
            if request.WhichOneof("type") == "rerun_script" and self._release_on(request):
                self._release_on = None
                self.release()

        socket.on_message(from_page)
        server.on_message(self._from_server)

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
                    self._held, self._run = self._run, None
                elif kind == "script_finished":
                    run, self._run = self._run, None
                    for each in run:
                        self._pass(each)
                return
        if self._hold_at is not None and parsed is not None and self._hold_at(parsed):
            self._holding, self._hold_at = True, None
            self._held.append(message)
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

    def held_runs(self) -> int:
        """How many whole runs (through their end) are held."""
        return sum(1 for message in self._held if _is_run_end(message))

    def wait_until_held(self, page, condition: Callable[[Relay], bool], what: str) -> None:
        """Wait until ``condition(self)`` is true (the relay holds what the test needs).

        Between two looks the page waits a moment: that is when Playwright hands the
        socket's messages to the relay (its handlers run only inside Playwright's calls).
        """
        deadline = time.monotonic() + WAIT_S
        while not condition(self):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the relay still does not hold {what} after {WAIT_S:.0f} s "
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
        for message in held:
            self._pass(message)

    def release_after_next_request(self, *, pressed: bool = False) -> None:
        """:meth:`release` as soon as the page has sent its next rerun request (and the
        server has it): whatever that request carries was decided before the page saw
        the held answers. With ``pressed``, only a request carrying a press (a button's or
        a component's trigger value) counts: a Play timer's requests carry none."""
        self._release_on = _carries_a_press if pressed else (lambda request: True)


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
