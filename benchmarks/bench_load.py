"""Benchmark: many sessions stepping the as-of slider at once, over Streamlit's websocket.

Run::

    .venv/bin/python benchmarks/bench_load.py [--sessions 1,5,10,20] [--steps 5]
        [--events FILE --areas FILE ... | --synth N] [--profile]

Without options (as ``run_all.py`` runs it) it measures the matrix the README quotes
(:data:`MATRIX`): the bundled data and 200,000 synthetic events at 1, 5, 10, 20 and 40
sessions (200,000 also behind ``serve --workers 2``, and with the websocket compressed as
``serve`` does on a public address), a million at 1 and 5.

Starts ``conflictmap serve`` on a free 127.0.0.1 port (bundled data unless ``--events`` or
``--synth``), then for each S of ``--sessions`` opens S sessions the way a browser does
(``tests/browser/stclient.py``: health request for the XSRF cookie, the ``/_stcore/stream``
websocket, one page run with the permalink's query string), waits until each has its first
page with the map component in it, and then, in S threads at once, steps the slider
``--steps`` times: each step sets the as-of slider to one week earlier (the widget state a
key press sends, as a fragment rerun of the view) and is timed from sending the change to
the end of the run it caused (``script_finished``), counting the bytes received.

Figures per S: p50/p95 step time, bytes per step and session (the messages' own size, and
what crossed the wire: compressed by permessage-deflate only when the server offers it,
``--websocket-compression``), server CPU seconds per step
(psutil, the server process and its children, over the stepping phase only), the server's
RSS, and dropped sessions (a step that did not end within ``--timeout``). The baseline,
measured in the same run: the single-session step (S=1); each S's p50 is given as a ratio
to it.

``--profile`` runs the server under cProfile instead (one profiler per thread, CPU time of
the thread, merged), drives S=1 and S=20 (``--profile-sessions``) stepping, and prints where
the stepping phase's CPU went: the main stages' inclusive time per step, and every
function's own time grouped by stage (a partition of the total). The raw pstats files are
kept (their paths are printed; ``python -m pstats FILE`` reads them).

The client runs in this process on the same machine (it parses each message, nothing
more); the machine is shared and noisy: read the ratios, measured in one run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pstats
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))
# tests/ is not a package: its browser folder goes on the path for the websocket client the
# browser tests use (tests/browser/stclient.py, no pytest in it) and the process helpers.
for _folder in (ROOT / "tests", ROOT / "tests" / "browser"):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))

from loadclient import LoadSession, open_sessions, step_all  # noqa: E402
from procs import free_port, stop, wait_healthy  # noqa: E402

from dashboard.cli.serving import streamlit_command  # noqa: E402

PROFILE_CTL_ENV = "BENCH_LOAD_PROFILE_CTL"
#: Extra environment of the server (``--env``: an A/B of a setting, measurement only).
EXTRA_ENV: dict[str, str] = {}

# The server under cProfile: one profiler per thread (Streamlit runs each script run in a
# thread of its own; the websocket sending is on the main thread's event loop), timed with
# the thread's CPU clock. SIGUSR1 takes a snapshot (the phase starts); SIGUSR2 writes the
# difference since it, as a pstats file, to the path written in the control file.
PROFILE_BOOTSTRAP = r"""
import cProfile, marshal, os, runpy, signal, sys, threading, time
_P, _L, _BASE = [], threading.Lock(), [{}]
def _mk():
    p = cProfile.Profile(time.thread_time)
    with _L:
        _P.append(p)
    p.enable()
    return p
_inner = threading.Thread._bootstrap_inner
def _bi(self):
    p = _mk()
    try:
        _inner(self)
    finally:
        p.disable()
threading.Thread._bootstrap_inner = _bi
def _merged():
    out = {}
    with _L:
        ps = list(_P)
    for p in ps:
        p.snapshot_stats()
        for f, (cc, nc, tt, ct, callers) in p.stats.items():
            o = out.setdefault(f, [0, 0, 0.0, 0.0, {}])
            o[0] += cc; o[1] += nc; o[2] += tt; o[3] += ct
            for c, v in callers.items():
                w = o[4].get(c)
                o[4][c] = tuple(v) if w is None else tuple(a + b for a, b in zip(w, v))
    return out
def _diff(end, base):
    out = {}
    for f, (cc, nc, tt, ct, callers) in end.items():
        b = base.get(f)
        if b is not None:
            cc, nc, tt, ct = cc - b[0], nc - b[1], tt - b[2], ct - b[3]
            callers = {c: tuple(x - y for x, y in zip(v, b[4].get(c, (0, 0, 0.0, 0.0))))
                       for c, v in callers.items()}
            callers = {c: v for c, v in callers.items() if v[0] > 0}
        if nc > 0:
            out[f] = (cc, nc, tt, ct, callers)
    return out
def _start(*_):
    _BASE[0] = _merged()
    ctl = os.environ["BENCH_LOAD_PROFILE_CTL"]
    open(ctl + ".started", "w").close()
def _dump(*_):
    ctl = os.environ["BENCH_LOAD_PROFILE_CTL"]
    with open(ctl) as f:
        target = f.read().strip()
    with open(target + ".tmp", "wb") as f:
        marshal.dump(_diff(_merged(), _BASE[0]), f)
    os.replace(target + ".tmp", target)
signal.signal(signal.SIGUSR1, _start)
signal.signal(signal.SIGUSR2, _dump)
_mk()
sys.argv = ["dashboard.app.server", *sys.argv[1:]]
runpy.run_module("dashboard.app.server", run_name="__main__", alter_sys=True)
"""


# --- the server ---------------------------------------------------------------------------


@contextlib.contextmanager
def _server(
    events: str | None,
    areas: list[str],
    log: Path,
    *,
    profile_ctl: Path | None = None,
    workers: int = 1,
    compress: bool = False,
) -> Iterator[tuple[str, psutil.Process]]:
    """``conflictmap serve`` on a free port (or, profiled, the same Streamlit command under
    the cProfile bootstrap); stopped at the end, also on an error."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFLICTMAP_")}
    env.update(EXTRA_ENV)
    if profile_ctl is None:
        command = [
            str(Path(sys.executable).parent / "conflictmap"),
            "serve",
            "--port",
            str(port),
            "--address",
            "127.0.0.1",
            "--workers",
            str(workers),
        ]
        if compress:  # as on a public address (on loopback `serve` does not compress)
            command += ["--websocket-compression", "on"]
        if events:
            command += ["--events", str(Path(events).resolve())]
        for area in areas:
            command += ["--areas", str(Path(area).resolve())]
    else:
        # What `serve` execs, with `-m dashboard.app.server` run by the bootstrap.
        command = streamlit_command(port=port, address="127.0.0.1")
        assert command[1:3] == ["-m", "dashboard.app.server"], command
        command[1:3] = ["-c", PROFILE_BOOTSTRAP]
        env[PROFILE_CTL_ENV] = str(profile_ctl)
        if events:
            env["CONFLICTMAP_EVENTS"] = str(Path(events).resolve())
        if areas:
            env["CONFLICTMAP_AREAS"] = os.pathsep.join(str(Path(a).resolve()) for a in areas)
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
        try:
            wait_healthy(f"{url}/_stcore/health", process, deadline_s=120 * workers)
            yield url, psutil.Process(process.pid)
        finally:
            stop(process)


def _tree(process: psutil.Process) -> list[psutil.Process]:
    with contextlib.suppress(psutil.Error):
        return [process, *process.children(recursive=True)]
    return []


def _cpu_s(process: psutil.Process) -> float:
    total = 0.0
    for p in _tree(process):
        with contextlib.suppress(psutil.Error):
            t = p.cpu_times()
            total += t.user + t.system
    return total


def _rss_mb(process: psutil.Process) -> float:
    total = 0
    for p in _tree(process):
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total / 2**20


def _stepping(sessions: list[LoadSession], steps: int, timeout: float) -> dict[str, Any]:
    """Every session steps ``steps`` times, all at once: step times, bytes, drops."""
    got = step_all(sessions, steps, timeout)
    done = [step for session in got.steps.values() for _, step in session]
    return {
        "times": [d.seconds for d in done],
        "bytes": [d.received for d in done],
        "wire": [d.wire for d in done],
        "no_map": sum(not d.map_sent for d in done),
        "dropped": got.failed,
        "wall_s": got.wall_s,
    }


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def _measure(url: str, server: psutil.Process, n: int, steps: int, timeout: float) -> dict:
    t_open = time.perf_counter()
    sessions = open_sessions(url, n, timeout)
    open_s = time.perf_counter() - t_open
    health: list[float] = []
    stepping = threading.Event()
    watcher = threading.Thread(target=_watch_health, args=(url, stepping, health))
    try:
        cpu0 = _cpu_s(server)
        stepping.set()
        watcher.start()
        got = _stepping(sessions, steps, timeout)
        stepping.clear()
        watcher.join()
        cpu = _cpu_s(server) - cpu0
        rss = _rss_mb(server)
    finally:
        stepping.clear()
        for s in sessions:
            s.close()
    times = got["times"]
    return {
        "sessions": n,
        "open_all_s": round(open_s, 2),
        "steps_done": len(times),
        "step_p50_s": round(statistics.median(times), 3) if times else None,
        "step_p95_s": round(_pct(times, 0.95), 3) if times else None,
        "step_max_s": round(max(times), 3) if times else None,
        "kb_per_step": round(statistics.median(got["bytes"]) / 1024, 1) if times else None,
        "wire_kb_per_step": round(statistics.median(got["wire"]) / 1024, 1) if times else None,
        "server_cpu_s_per_step": round(cpu / max(1, len(times)), 3),
        "server_cpu_util": round(cpu / got["wall_s"], 2),
        "rss_mb": round(rss),
        "dropped_sessions": len(got["dropped"]),
        "steps_without_map": got["no_map"],
        "first_drop": got["dropped"][0] if got["dropped"] else "",
        "health_max_s": round(max(health), 3) if health else None,
    }


def _watch_health(url: str, running: threading.Event, seconds: list[float]) -> None:
    """While ``running`` is set, ask the health endpoint every half second: how long each
    answer took (a failure counts as 30 s)."""
    while running.is_set():
        t0 = time.perf_counter()
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=30) as answer:
                answer.read()
            seconds.append(time.perf_counter() - t0)
        except OSError:
            seconds.append(30.0)
        time.sleep(0.5)


# --- the profile --------------------------------------------------------------------------

#: Inclusive (cumulative) time of the main stages of a run: (label, path part, function).
#: Nested stages are indented; the figures overlap (an inner stage is inside its parent).
KEY_FUNCTIONS: list[tuple[str, str, str]] = [
    ("script run (ScriptRunner._run_script)", "scriptrunner/script_runner.py", "_run_script"),
    ("  fragment body: view.render", "dashboard/app/view.py", "render"),
    ("    date controls (widgets)", "dashboard/app/view.py", "_date_controls"),
    ("    state: K.current_state", "dashboard/app/session.py", "current_state"),
    ("    filtering: timewindow.select", "dashboard/timewindow.py", "select"),
    ("    filter captions", "dashboard/app/view.py", "_filter_counts"),
    ("    areas_at", "dashboard/areas.py", "areas_at"),
    ("    summary line", "dashboard/app/view.py", "_summary_line"),
    ("    place search box", "dashboard/app/placesearch.py", "search_box"),
    ("    map: mapview.render_map", "dashboard/app/mapview.py", "render_map"),
    ("      build_map (base map)", "dashboard/layers/", "build_map"),
    ("      context_layer", "dashboard/layers/", "context_layer"),
    ("      control_areas_layer", "dashboard/layers/", "control_areas_layer"),
    ("      events_layer", "dashboard/layers/", "events_layer"),
    ("      legend_element", "dashboard/layers/", "legend_element"),
    ("      st_folium (render + component)", "streamlit_folium/__init__.py", "st_folium"),
    ("    history panel", "dashboard/app/historypanel.py", "history_panel"),
    ("    timeline (altair chart)", "dashboard/app/view.py", "_timeline"),
    ("      st.altair_chart", "streamlit/elements/vega_charts.py", "altair_chart"),
    ("      controller table st.dataframe", "streamlit/elements/arrow.py", "dataframe"),
    ("    events table", "dashboard/app/view.py", "_event_table"),
    ("    export buttons", "dashboard/app/exportbuttons.py", "export_buttons"),
    ("    URL sync: K.sync_url", "dashboard/app/session.py", "sync_url"),
    (
        "  widget/state bookkeeping: on_script_will_rerun",
        "state/session_state.py",
        "on_script_will_rerun",
    ),
    ("  elements to deltas: _enqueue", "delta_generator.py", "_enqueue"),
    ("  post-script gc.collect (runner.postScriptGC)", "~", "gc.collect"),
    ("sending: starlette websocket _sender", "starlette/starlette_websocket.py", "_sender"),
    ("  write_forward_msg", "starlette/starlette_websocket.py", "write_forward_msg"),
    ("  serialize_forward_msg (protobuf)", "runtime/runtime_util.py", "serialize_forward_msg"),
]

#: Own time (tottime) of every function, by the first rule its file (or builtin) matches.
STAGE_RULES: list[tuple[str, tuple[str, ...]]] = [
    ("our page code (dashboard.app)", ("dashboard/app/",)),
    ("layer building (dashboard.layers)", ("dashboard/layers/",)),
    ("filtering (dashboard.timewindow/areas)", ("dashboard/timewindow.py", "dashboard/areas.py")),
    ("other dashboard", ("dashboard/",)),
    ("streamlit-folium (component, diffing)", ("streamlit_folium/",)),
    ("folium/branca/jinja2 render", ("folium/", "branca/", "jinja2/", "markupsafe/")),
    ("json", ("json/", "_json", "json.")),
    (
        "protobuf",
        (
            "google/protobuf",
            "SerializeToString",
            "ParseFromString",
            "MergeFrom",
            "CopyFrom",
            "upb",
            "_message",
        ),
    ),
    ("streamlit script runner", ("streamlit/runtime/scriptrunner",)),
    ("streamlit session/widget state", ("streamlit/runtime/state/",)),
    (
        "streamlit elements/deltas",
        (
            "streamlit/elements/",
            "streamlit/delta_generator",
            "streamlit/dataframe_util",
            "streamlit/type_util",
        ),
    ),
    (
        "streamlit websocket/app session",
        (
            "streamlit/web/",
            "streamlit/runtime/app_session",
            "streamlit/runtime/forward_msg",
            "streamlit/runtime/runtime",
        ),
    ),
    ("streamlit other", ("streamlit/",)),
    (
        "websocket server (starlette/uvicorn/asyncio)",
        ("starlette/", "uvicorn/", "websockets/", "tornado/", "asyncio/", "selectors", "zlib"),
    ),
    ("altair + its schema validation", ("altair/", "jsonschema", "referencing/", "narwhals/")),
    ("pandas/numpy/pyarrow", ("pandas/", "numpy/", "pyarrow/")),
    ("geopandas/shapely/pyproj", ("geopandas/", "shapely/", "pyproj/")),
    ("other libraries", ("site-packages/",)),
    ("python stdlib (copy, threading, ...)", ("/lib/python3",)),
]


def _stage(func: tuple[str, int, str]) -> str:
    path, _, name = func
    where = f"{path} {name}"
    for label, parts in STAGE_RULES:
        if any(p in where for p in parts):
            return label
    return "other (builtins, C code)"


def _profiler_own(func: tuple[str, int, str]) -> bool:
    """The profiler's own snapshot code (run in the server at the phase's end)."""
    return func[0] == "<string>" or func[0].endswith("cProfile.py") or "_lsprof" in func[2]


def _own_times(raw: dict) -> dict[tuple[str, int, str], float]:
    """Each function's own time without what the profiler's snapshot code called."""
    out = {}
    for func, (_, _, tt, _, callers) in raw.items():
        if _profiler_own(func):
            continue
        out[func] = tt - sum(v[2] for c, v in callers.items() if _profiler_own(c))
    return out


def _stage_times(raw: dict, own: dict) -> dict[str, float]:
    """Own time by stage; a builtin (C function) counts in the stages of its callers, in
    proportion to the time it spent for each."""
    groups: dict[str, float] = {}
    for func, tt in own.items():
        callers = {c: v for c, v in raw[func][4].items() if not _profiler_own(c)}
        if func[0] == "~" and callers:
            spent = sum(v[2] for v in callers.values()) or 1.0
            for caller, v in callers.items():
                label = _stage(caller)
                if label == "other (builtins, C code)" or "gc.collect" in func[2]:
                    label = (
                        _stage(func) if "gc.collect" not in func[2] else "post-script gc.collect"
                    )
                groups[label] = groups.get(label, 0.0) + tt * v[2] / spent
        else:
            groups[_stage(func)] = groups.get(_stage(func), 0.0) + tt
    return groups


def _profile_report(path: Path, n_steps: int, top: int = 25) -> dict[str, Any]:
    raw: dict = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    own = _own_times(raw)
    total = sum(own.values())
    per = 1000 / max(1, n_steps)  # seconds in total to milliseconds per step
    print(
        f"  profile {path}: {total:.2f} thread-CPU s for {n_steps} steps "
        f"({total * per:.0f} ms per step under the profiler, its snapshot code left out)"
    )
    print("  main stages (inclusive, ms per step; nested stages are inside their parent):")
    key_ms: dict[str, float] = {}
    for label, part, name in KEY_FUNCTIONS:
        if part == "~":  # a builtin (C) method: matched by its name
            ct = sum(v[3] for f, v in raw.items() if f[0] == "~" and name in f[2])
        else:
            ct = sum(v[3] for f, v in raw.items() if part in f[0] and f[2] == name)
        key_ms[label.strip()] = round(ct * per, 1)
        print(f"    {label:<58} {ct * per:9.1f}")
    groups = _stage_times(raw, own)
    print("  own time by stage (a partition of the total; ms per step, share):")
    for label, tt in sorted(groups.items(), key=lambda kv: -kv[1]):
        print(f"    {label:<46} {tt * per:9.1f}  {tt / total:6.1%}")
    print(f"  top {top} functions by own time (ms per step, calls per step, cumulative ms):")
    for func, tt in sorted(own.items(), key=lambda kv: -kv[1])[:top]:
        file, line, name = func
        nc, ct = raw[func][1], raw[func][3]
        where = file.split("site-packages/")[-1].replace(str(ROOT) + "/", "")
        print(
            f"    {tt * per:8.1f} {nc / max(1, n_steps):8.0f} {ct * per:8.1f}  {where}:{line}({name})"
        )
    return {
        "profile": str(path),
        "thread_cpu_ms_per_step": round(total * per, 1),
        "stages_inclusive_ms": key_ms,
        "own_time_ms": {k: round(v * per, 1) for k, v in groups.items()},
    }


def _wait_file(path: Path, url: str, deadline_s: float = 120) -> None:
    """Wait for the profiled server to write ``path``, poking it (a signal is handled
    when its event loop wakes up)."""
    deadline = time.monotonic() + deadline_s
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the profiled server did not write {path}")
        with contextlib.suppress(OSError):
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).close()
        time.sleep(0.1)


def profile(
    events: str | None, areas: list[str], counts: list[int], steps: int, timeout: float, out: Path
) -> dict[str, Any]:
    ctl = out / "profile.ctl"
    results: dict[str, Any] = {}
    with _server(events, areas, out / "server-profile.log", profile_ctl=ctl) as (url, server):
        # A first session warms the caches (data, assets), as before the timed phases.
        _measure(url, server, 1, 2, timeout)
        for n in counts:
            sessions = open_sessions(url, n, timeout)
            try:
                started = Path(str(ctl) + ".started")
                started.unlink(missing_ok=True)
                server.send_signal(signal.SIGUSR1)
                _wait_file(started, url)
                got = _stepping(sessions, steps, timeout)
                target = out / f"profile_s{n}.pstats"
                target.unlink(missing_ok=True)
                ctl.write_text(str(target))
                server.send_signal(signal.SIGUSR2)
                _wait_file(target, url)
            finally:
                for s in sessions:
                    s.close()
            times = got["times"]
            print(
                f"\nprofiled S={n}: {len(times)} steps, p50 "
                f"{statistics.median(times) if times else float('nan'):.2f} s (under the "
                f"profiler), dropped {len(got['dropped'])}"
            )
            results[f"S{n}"] = _profile_report(target, len(times))
    return results


# --- main ---------------------------------------------------------------------------------


def _synth(n: int) -> tuple[str, list[str]]:
    from dashboard.synth import write_synthetic

    folder = Path(tempfile.mkdtemp(prefix="bench-load-synth-"))
    result = write_synthetic(folder, events=n, areas=max(200, min(4000, n // 50)), seed=7)
    print(result.summary())
    return str(result.events_path), [str(result.areas_path)]


def run(
    events: str | None = None,
    areas: list[str] | None = None,
    counts: tuple[int, ...] = (1, 5, 10, 20),
    steps: int = 5,
    timeout: float = 180.0,
    workers: int = 1,
    compress: bool = False,
) -> dict[str, Any]:
    """The load figures for each session count (the server started once, with ``workers``
    processes behind its port), and the time to
    the first page with the map: on a server just started on the files (the build made),
    and on one started again on them (the build read back from the on-disk cache)."""
    log = Path(tempfile.mkdtemp(prefix="bench-load-")) / "server.log"
    rows = []
    with _server(events, areas or [], log, workers=workers, compress=compress) as (url, server):
        warm_up = _measure(url, server, 1, 2, timeout)  # data, assets, first runs
        for n in counts:
            row = _measure(url, server, n, steps, timeout)
            rows.append(row)
            print(f"  S={n}: {row}", flush=True)
    again_log = log.with_name("server-again.log")
    with _server(events, areas or [], again_log, workers=workers, compress=compress) as (
        url,
        server,
    ):
        again = _measure(url, server, 1, 1, timeout)
    base = next((r["step_p50_s"] for r in rows if r["sessions"] == 1), None)
    header = (
        f"{'S':>3} {'p50 s':>7} {'p95 s':>7} {'max s':>7} {'p50/S1':>7} {'KB/step':>8} {'wire KB':>8} "
        f"{'CPU s/step':>10} {'CPU util':>8} {'RSS MB':>7} {'dropped':>7} {'open s':>7}"
    )
    print(header)
    figures: dict[str, Any] = {"steps_per_session": steps}
    for r in rows:
        ratio = r["step_p50_s"] / base if base and r["step_p50_s"] else float("nan")
        print(
            f"{r['sessions']:>3} {r['step_p50_s'] or float('nan'):>7.3f} "
            f"{r['step_p95_s'] or float('nan'):>7.3f} {r['step_max_s'] or float('nan'):>7.3f} "
            f"{ratio:>7.2f} {r['kb_per_step'] or float('nan'):>8.1f} "
            f"{r['wire_kb_per_step'] or float('nan'):>8.1f} "
            f"{r['server_cpu_s_per_step']:>10.3f} {r['server_cpu_util']:>8.2f} "
            f"{r['rss_mb']:>7} {r['dropped_sessions']:>7} {r['open_all_s']:>7.2f}"
        )
        n = r["sessions"]
        figures[f"S{n}_step_p50_s"] = r["step_p50_s"]
        figures[f"S{n}_step_p95_s"] = r["step_p95_s"]
        figures[f"S{n}_p50_over_S1"] = round(ratio, 2)
        figures[f"S{n}_kb_per_step"] = r["kb_per_step"]
        figures[f"S{n}_wire_kb_per_step"] = r["wire_kb_per_step"]
        figures[f"S{n}_server_cpu_s_per_step"] = r["server_cpu_s_per_step"]
        figures[f"S{n}_rss_mb"] = r["rss_mb"]
        figures[f"S{n}_dropped_sessions"] = r["dropped_sessions"]
        figures[f"S{n}_health_max_s"] = r["health_max_s"]
        if r["steps_without_map"]:
            figures[f"S{n}_steps_without_map"] = r["steps_without_map"]
    figures["baseline_S1_step_p50_s"] = base
    figures["first_map_new_build_s"] = warm_up["open_all_s"]
    figures["first_map_build_cached_s"] = again["open_all_s"]
    print(
        f"first page with the map: {warm_up['open_all_s']:.2f} s on a new server (build made), "
        f"{again['open_all_s']:.2f} s on a server started again (build read from the cache)"
    )
    return figures


#: Run without options (``run_all.py``): (label, synthetic events or 0 for the bundled data,
#: session counts, worker processes).
MATRIX: tuple[tuple[str, int, tuple[int, ...], int, bool], ...] = (
    ("bundled", 0, (1, 5, 10, 20, 40), 1, False),
    ("200k", 200_000, (1, 5, 10, 20, 40), 1, False),
    # the websocket compressed, as `serve` does on a public address: bytes on the wire
    # against the server's CPU, next to the row above
    ("200k_compressed", 200_000, (1, 5, 10, 20), 1, True),
    ("200k_2workers", 200_000, (1, 5, 10, 20, 40), 2, False),
    ("1M", 1_000_000, (1, 5), 1, False),
)


def _matrix(steps: int, timeout: float) -> dict[str, Any]:
    figures: dict[str, Any] = {"steps_per_session": steps}
    made: dict[int, tuple[str | None, list[str]]] = {0: (None, [])}
    for label, n, counts, workers, compress in MATRIX:
        print(f"== {label}", flush=True)
        if n not in made:
            made[n] = _synth(n)
        events, areas = made[n]
        found = run(events, areas, counts, steps, timeout, workers=workers, compress=compress)
        found.pop("steps_per_session", None)
        figures.update({f"{label}_{key}": value for key, value in found.items()})
    return figures


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", default="1,5,10,20", help="session counts, e.g. 1,5,20")
    parser.add_argument("--steps", type=int, default=5, help="slider steps per session")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds per step")
    parser.add_argument("--events", default=None)
    parser.add_argument("--areas", action="append", default=[])
    parser.add_argument(
        "--synth",
        type=int,
        default=0,
        metavar="N",
        help="N synthetic events (dashboard.synth.write_synthetic)",
    )
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra server environment, e.g. STREAMLIT_RUNNER_POST_SCRIPT_GC=false (A/B)",
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="serve --workers N (processes behind the port)"
    )
    parser.add_argument(
        "--websocket-compression",
        action="store_true",
        help="serve --websocket-compression on (as on a public address)",
    )
    parser.add_argument("--profile", action="store_true", help="profile S=1 and S=20 instead")
    parser.add_argument("--profile-sessions", default="1,20")
    args = parser.parse_args(argv if argv is not None else [])
    events, areas = args.events, args.areas
    EXTRA_ENV.clear()
    EXTRA_ENV.update(item.split("=", 1) for item in args.env)
    if args.synth:
        events, areas = _synth(args.synth)
    if args.profile:
        out = Path(tempfile.mkdtemp(prefix="bench-load-profile-"))
        counts = [int(c) for c in args.profile_sessions.split(",") if c.strip()]
        results = profile(events, areas, counts, args.steps, args.timeout, out)
        print(f"raw profiles in {out}")
        return results
    counts = tuple(int(c) for c in args.sessions.split(",") if c.strip())
    if not argv:  # run_all.py: the matrix the README quotes
        return _matrix(args.steps, args.timeout)
    figures = run(
        events,
        areas,
        counts,
        args.steps,
        args.timeout,
        workers=args.workers,
        compress=args.websocket_compression,
    )
    figures["workers"] = args.workers
    figures["websocket_compression"] = args.websocket_compression
    if EXTRA_ENV:
        figures["server_env"] = dict(EXTRA_ENV)
    figures["events_file"] = (
        f"synthetic {args.synth}" if args.synth else (Path(events).name if events else "bundled")
    )
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
