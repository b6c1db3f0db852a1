"""Sessions that step the date slider the way a browser does, over Streamlit's websocket:
the load test (``test_load.py``) and the benchmark (``benchmarks/bench_load.py``) use them.

A :class:`LoadSession` is ``stclient.Session`` plus what a browser also sends: the page's
query string (the one the server last wrote to the URL) and, for a widget in a fragment,
the fragment's id. :meth:`LoadSession.step` moves the as-of slider and reads until the run
it caused has ended, noting the bytes received and the date the map was drawn for.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

import stclient
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

#: The permalink the sessions open unless told (90-day window, points, no tiles).
QUERY = "basemap=none&date=2017-11-15&window=90&points=points"
SLIDER_PREFIX = "As of"
MAP_COMPONENT = "st_folium"
DAY_US = 86400 * 1_000_000
WEEK_US = 7 * DAY_US
#: The map's view-date layer (``mapview.view_date_group``) in the component's arguments.
_AS_OF = re.compile(r'asOf\\*"\s*:\s*\\*"(\d{4}-\d{2}-\d{2})')


def slider_date(value_us: float) -> dt.date:
    """The date a slider value (microseconds since 1970) stands for."""
    return dt.date(1970, 1, 1) + dt.timedelta(microseconds=value_us)


class StepResult:
    """One step: its time, the bytes received, whether the map came, the map's date."""

    __slots__ = ("seconds", "received", "wire", "map_sent", "map_date", "raw")

    def __init__(
        self,
        seconds: float,
        received: int,
        map_sent: bool,
        map_date: dt.date | None,
        raw: bytes = b"",
        wire: int = 0,
    ) -> None:
        self.seconds, self.received = seconds, received
        #: Bytes on the wire (compressed by the websocket, when it is): ``received`` is
        #: the messages' own size.
        self.wire = wire
        self.map_sent, self.map_date = map_sent, map_date
        #: Every byte received (when the session keeps them: ``LoadSession.keep_raw``).
        self.raw = raw


class LoadSession(stclient.Session):
    """See the module's docstring."""

    query: str = QUERY
    fragments: dict[str, str]
    #: Keep every byte a step received (``StepResult.raw``): a test reads them.
    keep_raw: bool = False

    def run(self, widgets=None, *, timeout: float = stclient.RUN_TIMEOUT_S) -> None:
        self.fragments = getattr(self, "fragments", {})
        back = BackMsg()
        back.rerun_script.query_string = self.query
        back.rerun_script.page_script_hash = ""
        for state in widgets or []:
            stclient._fill(back.rerun_script.widget_states.widgets.add(), state)
        self._ws.send(back.SerializeToString())
        self._read_run(timeout)
        for data in self.messages:
            changed = data.get("pageInfoChanged")
            if changed is not None:
                self.query = changed.get("queryString", "")

    def _note(self, data: dict[str, Any]) -> None:
        super()._note(data)
        element = data.get("delta", {}).get("newElement", {})
        for proto in element.values():
            if isinstance(proto, dict) and "label" in proto:
                self.fragments[proto["label"]] = data.get("delta", {}).get("fragmentId", "")

    def slider(self) -> tuple[str, float, float, str]:
        """The as-of slider: its id, value and minimum (microseconds), fragment id."""
        label = next(k for k in self.widgets if k.startswith(SLIDER_PREFIX))
        proto = self.widgets[label][1]
        value = proto["value"] if proto.get("setValue") else proto["default"]
        return proto["id"], float(value[0]), float(proto["min"]), self.fragments.get(label, "")

    def has_map(self) -> bool:
        return any(
            MAP_COMPONENT in str(m.get("delta", {}).get("newElement", {}).get("componentInstance"))
            for m in self.messages
        )

    def step(self, widget_id: str, value: float, fragment_id: str, timeout: float) -> StepResult:
        """Send the slider's new value (a fragment rerun, as the browser sends it) and read
        until that run ends."""
        back = BackMsg()
        back.rerun_script.query_string = self.query
        back.rerun_script.page_script_hash = ""
        back.rerun_script.fragment_id = fragment_id
        item = back.rerun_script.widget_states.widgets.add()
        item.id = widget_id
        item.double_array_value.data.append(value)
        wire_before = self.wire_received()
        t0 = time.perf_counter()
        self._ws.send(back.SerializeToString())
        deadline = t0 + timeout
        received, started, map_sent = 0, False, False
        map_date: dt.date | None = None
        kept: list[bytes] = []
        msg = ForwardMsg()
        while True:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"the step did not end in {timeout} s")
            raw = self._ws.recv(timeout=left)
            received += len(raw)
            if self.keep_raw:
                kept.append(raw)
            msg.ParseFromString(raw)
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                started = True
            elif kind == "delta":
                element = msg.delta.new_element
                if element.WhichOneof("type") == "component_instance":
                    instance = element.component_instance
                    if MAP_COMPONENT in instance.component_name:
                        map_sent = True
                        found = _AS_OF.findall(instance.json_args)
                        if found:
                            map_date = dt.date.fromisoformat(found[-1])
            elif kind == "page_info_changed":
                self.query = msg.page_info_changed.query_string
            elif (
                kind == "script_finished"
                and started
                and msg.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN
            ):
                took = time.perf_counter() - t0
                wire = self.wire_received() - wire_before
                return StepResult(took, received, map_sent, map_date, b"".join(kept), wire)


def open_sessions(
    url: str, n: int, timeout: float, queries: list[str] | None = None
) -> list[LoadSession]:
    """n sessions opened at once, each up to its first page with the map in it
    (``queries[i]``: session i's permalink, else :data:`QUERY`)."""
    sessions: list[LoadSession | None] = [None] * n
    errors: list[BaseException] = []

    def one(i: int) -> None:
        try:
            s = LoadSession(url)
            if queries:
                s.query = queries[i]
            s.open()
            deadline = time.monotonic() + timeout
            while not s.has_map():  # e.g. a first run the page itself restarted
                if time.monotonic() > deadline:
                    raise TimeoutError("no map in the first page")
                s.wait_run(timeout=timeout)
            sessions[i] = s
        except BaseException as exc:  # noqa: BLE001 - reported below, with the others
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        for s in sessions:
            if s is not None:
                s.close()
        raise RuntimeError(f"{len(errors)} of {n} sessions did not open: {errors[0]!r}")
    return [s for s in sessions if s is not None]


@dataclass
class Stepped:
    """What :func:`step_all` saw: per session, (date asked, step) in order; the sessions
    that failed (one line each); the seconds from the first step to the last answer."""

    steps: dict[int, list[tuple[dt.date, StepResult]]]
    failed: list[str]
    wall_s: float


def step_all(sessions: list[LoadSession], steps: int, timeout: float) -> Stepped:
    """Every session steps the slider back a week ``steps`` times (never before its first
    date), all sessions at once; a session that fails stops there and is listed."""
    out = Stepped({i: [] for i in range(len(sessions))}, [], 0.0)
    lock = threading.Lock()
    barrier = threading.Barrier(len(sessions))

    def one(i: int, s: LoadSession) -> None:
        widget_id, value, low, fragment_id = s.slider()
        barrier.wait()
        try:
            for _ in range(steps):
                value = max(low, value - WEEK_US)
                done = s.step(widget_id, value, fragment_id, timeout)
                out.steps[i].append((slider_date(value), done))
        except Exception as exc:  # noqa: BLE001 - a dropped session is what is measured
            with lock:
                out.failed.append(f"session {i}: {exc!r}")

    threads = [threading.Thread(target=one, args=(i, s)) for i, s in enumerate(sessions)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out.wall_s = time.perf_counter() - t0
    return out
