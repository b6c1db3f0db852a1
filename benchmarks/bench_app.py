"""Benchmark: the running app with 1M events: start, first paint, memory, slider steps.

Run::

    .venv/bin/python benchmarks/bench_app.py [--events 1000000 --steps 25]
    .venv/bin/python benchmarks/bench_app.py --data /tmp/big     # an existing dataset

Data: ``conflictmap synth --events N`` (:func:`dashboard.synth.write_synthetic`, seed 0,
ACLED layout, 4,000 control-area versions: the CLI's defaults), generated once into
``benchmarks/.data/`` by ``bench_build.dataset`` and reused while the options and
``dashboard/synth.py`` are unchanged. ``--data DIR`` uses ``DIR/events.csv`` and
``DIR/control_areas.parquet`` instead.

The app runs as ``conflictmap serve`` runs it (``bench_slider._server``), with
``CONFLICTMAP_CACHE_DIR`` pointing to a folder of this benchmark's own
(``benchmarks/.data/app-cache``), emptied at the start of every run, so each run starts
from the same state:

1. cold start: launch the server, open the page in headless Chromium (Debian's, every
   request off 127.0.0.1 blocked, no tiles), wait for the first painted map. The data is
   read, validated, geocoded, joined and written to the on-disk (Parquet) build cache: the build,
   as the app does it.
2. warm start: a new server process, the build cache now filled: seconds from launching
   the process to the first painted map (the figure of the target), split into "server
   answers its health check" and "page opened to map painted".
3. memory: VmRSS and VmHWM (peak) of the server process, read from /proc/<pid>/status
   after the first paint and after the slider steps (the process is found by its
   ``--server.port`` on the command line, the deepest one if a wrapper started it).
4. slider steps: as-of date and window chosen from the data so the windows of the steps
   hold about ``--target-points`` events (10k); ArrowLeft on the slider ``--steps`` times,
   each timed in the browser from key press to the map repainted
   (``bench_slider._steps``); p50, p95, max and the median points per step as the map
   reports them; also the megabytes the page received per step (Streamlit's websocket
   messages: map, chart, table) and the canvas layer's own decode + draw time of the last
   step, to tell server and transfer time from drawing time.

Baseline, measured in the same run: the same warm start, memory and steps on the bundled
90 events (bench_slider's view: 2017-11-15, 90 days, ~13 events), so the figures read as
"what 1M events cost over a tiny dataset".

Not a timed test: the machine is shared and noisy (2 cores, Chromium and the server share
them). Expect the figures to move while the app is being optimised.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.csv as pacsv

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # bench_slider and bench_build are imported as siblings
    sys.path.insert(0, str(HERE))

# Siblings: generate-or-reuse the data (keyed on options + synth.py); the one server,
# browser and step-timing code.
from bench_build import dataset
from bench_slider import (
    CHROMIUM,
    CHROMIUM_ARGS,
    START_DATE,
    WINDOW_DAYS,
    _open,
    _pct,
    _server,
    _steps,
)

from dashboard.synth import AREAS_FILE, EVENTS_FILE

DATA_DIR = HERE / ".data"
APP_CACHE = DATA_DIR / "app-cache"
CACHE_ENV = "CONFLICTMAP_CACHE_DIR"

TARGET_STEP_P50_MS = 500.0
TARGET_STEP_P95_MS = 1000.0
TARGET_START_S = 5.0
TARGET_RSS_MB = 1536.0  # 1.5 GB
#: A cold start builds 1M rows inside the app (about a minute on 2 cores): wait long.
COLD_TIMEOUT_MS = 600_000
WARM_TIMEOUT_MS = 180_000


class _PatientBrowser:
    """A browser whose new pages wait ``timeout_ms`` (Playwright's default is 30 s).

    ``bench_slider._open`` opens its page with ``browser.new_page``; a start with 1M events
    can take longer than Playwright's default wait, which would end the run, not time it.
    """

    def __init__(self, browser: Any, timeout_ms: int) -> None:
        self._browser = browser
        self._timeout_ms = timeout_ms

    def new_page(self, **kwargs: Any) -> Any:
        page = self._browser.new_page(**kwargs)
        page.set_default_timeout(self._timeout_ms)
        return page


# --- the server process and its memory ---------------------------------------------------


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _parent(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("PPid:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def server_pid(url: str) -> int:
    """The pid of the streamlit process serving ``url``.

    Every process whose command line runs streamlit (or ``dashboard.app.server``, which
    becomes it) with this ``--server.port``; when a
    wrapper (a shell, ``conflictmap serve`` before it execs) is among them, the one none of
    the others descends from is the server itself.
    """
    port = url.rsplit(":", 1)[1]
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        args = _cmdline(int(entry.name))
        if any("streamlit" in a or "dashboard.app.server" in a for a in args) and any(
            a == "--server.port" and b == port for a, b in itertools.pairwise(args)
        ):
            found.append(int(entry.name))
    if not found:
        raise RuntimeError(f"no streamlit process found for {url}")
    parents = {_parent(pid) for pid in found}
    leaves = [pid for pid in found if pid not in parents]
    return leaves[0]


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS (resident now) and VmHWM (peak resident) of a process, in MB."""
    out: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = round(int(value.split()[0]) / 1024, 1)  # kB -> MB
    return out


# --- the view the steps show -------------------------------------------------------------


def choose_view(
    events_csv: Path, *, steps: int, target: int, as_of: str | None = None
) -> tuple[str, int, int, int]:
    """As-of date and window (days) whose step windows hold about ``target`` events.

    The steps go back one day at a time from the as-of date (default: the middle day of
    the data); the window is the one whose median event count over the windows the steps
    show is closest to ``target``. Returns (date, window, that median, dated rows in the
    file): counted on the file's dates, so rows the build sets aside would make the map
    show fewer.
    """
    table = pacsv.read_csv(
        events_csv,
        convert_options=pacsv.ConvertOptions(
            include_columns=["event_date"], column_types={"event_date": "string"}
        ),
    )
    dates = pd.to_datetime(table.column("event_date").to_pandas(), errors="coerce").dropna()
    days = dates.to_numpy().astype("datetime64[D]").astype(np.int64)
    first, last = int(days.min()), int(days.max())
    per_day = np.bincount(days - first, minlength=last - first + 1)
    cumulative = np.concatenate([[0], np.cumsum(per_day)])  # cumulative[k] = events before k
    start = (
        (dt.date.fromisoformat(as_of) - dt.date(1970, 1, 1)).days if as_of else (first + last) // 2
    )
    ends = np.arange(start - steps, start) - first  # the windows shown after each step
    best: tuple[int, int] | None = None
    for window in range(1, 3661):
        lo = np.clip(ends - window + 1, 0, len(per_day))
        counts = cumulative[np.clip(ends + 1, 0, len(per_day))] - cumulative[lo]
        median = int(np.median(counts))
        if best is None or abs(median - target) < abs(best[1] - target):
            best = (window, median)
        if median >= target:
            break
    assert best is not None
    day = (dt.date(1970, 1, 1) + dt.timedelta(days=start)).isoformat()
    return day, best[0], best[1], len(days)


# --- one app: start, paint, memory, steps ------------------------------------------------


def _count_received(page: Any) -> list[int]:
    """Bytes of every websocket message the page receives from now on (Streamlit's deltas).

    Read through the DevTools protocol: the page's websocket is already open, so
    Playwright's own websocket events would miss it.
    """
    received: list[int] = []
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")

    def frame(event: dict[str, Any]) -> None:
        response = event["response"]
        data = response["payloadData"]
        if response["opcode"] == 2:  # binary frames come base64-encoded
            received.append(len(data) * 3 // 4 - data[-2:].count("="))
        else:
            received.append(len(data.encode()))

    cdp.on("Network.webSocketFrameReceived", frame)
    return received


#: JS: decode and draw time (ms) of the point layers now on the map, as they report it.
BROWSER_MS_JS = """
() => (window.L.ConflictMap.layers || []).filter(l => l._map)
        .reduce((t, l) => t + (l.stats.decodeMs || 0) + (l.stats.lastDrawMs || 0), 0)
"""


def measure_app(
    browser: Any,
    *,
    events: str | None,
    areas: list[str],
    query: str,
    steps: int,
    timeout_ms: int,
) -> dict[str, Any]:
    """Launch the app, time launch -> first painted map, read its memory, time the steps."""
    env = {CACHE_ENV: str(APP_CACHE)}
    patient = _PatientBrowser(browser, timeout_ms)
    t0 = time.perf_counter()
    with _server(events, areas, extra_env=env) as url:
        up_s = time.perf_counter() - t0
        pid = server_pid(url)
        page, frame, page_s = _open(patient, url, query)
        start_s = up_s + page_s
        after_paint = memory_mb(pid)
        out: dict[str, Any] = {
            "start_to_paint_s": round(start_s, 2),
            "server_up_s": round(up_s, 2),
            "page_to_paint_s": round(page_s, 2),
            "rss_after_paint_mb": after_paint["VmRSS"],
            "peak_rss_after_paint_mb": after_paint["VmHWM"],
        }
        if steps:
            received = _count_received(page)
            step_ms, n_points = _steps(page, frame, steps)
            after_steps = memory_mb(pid)
            browser_ms = frame.evaluate(BROWSER_MS_JS)
            out.update(
                {
                    "step_p50_ms": round(statistics.median(step_ms), 1),
                    "step_p95_ms": round(_pct(step_ms, 0.95), 1),
                    "step_max_ms": round(max(step_ms), 1),
                    "points_per_step_median": int(statistics.median(n_points)),
                    "points_per_step_range": [min(n_points), max(n_points)],
                    "received_mb_per_step": round(sum(received) / steps / 1e6, 2),
                    "browser_decode_draw_ms_last_step": round(browser_ms, 1),
                    "rss_after_steps_mb": after_steps["VmRSS"],
                    "peak_rss_after_steps_mb": after_steps["VmHWM"],
                }
            )
        page.close()
    return out


def _print(title: str, figures: dict[str, Any]) -> None:
    print(f"-- {title}", flush=True)
    for key, value in figures.items():
        print(f"   {key:<34} {value}", flush=True)


def run(
    events_path: Path,
    areas_path: Path,
    *,
    steps: int,
    target_points: int,
    as_of: str | None,
    window: int | None,
) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    load_1m = round(os.getloadavg()[0], 2)  # the machine is shared: say how busy it was

    day, chosen_window, expected, n_events = choose_view(
        events_path, steps=steps, target=target_points, as_of=as_of
    )
    window = window or chosen_window
    print(
        f"view: as of {day}, {window}-day window (the file's dates put a median of "
        f"{expected:,} events in the windows the {steps} steps show)",
        flush=True,
    )
    big_query = f"basemap=none&date={day}&window={window}&points=points"
    tiny_query = f"basemap=none&date={START_DATE}&window={WINDOW_DAYS}&points=points"
    events, areas = str(events_path), [str(areas_path)]

    # A private, emptied build cache: every run starts from the same state.
    shutil.rmtree(APP_CACHE, ignore_errors=True)
    APP_CACHE.mkdir(parents=True)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # Baseline: the bundled 90 events (a first start fills their build cache).
            measure_app(
                browser, events=None, areas=[], query=tiny_query, steps=0,
                timeout_ms=WARM_TIMEOUT_MS,
            )  # fmt: skip
            tiny = measure_app(
                browser, events=None, areas=[], query=tiny_query, steps=steps,
                timeout_ms=WARM_TIMEOUT_MS,
            )  # fmt: skip
            _print("baseline: bundled events, warm start", tiny)
            cold = measure_app(
                browser, events=events, areas=areas, query=big_query, steps=0,
                timeout_ms=COLD_TIMEOUT_MS,
            )  # fmt: skip
            _print(f"{n_events:,} events: cold start (the app builds them, fills the cache)", cold)
            warm = measure_app(
                browser, events=events, areas=areas, query=big_query, steps=steps,
                timeout_ms=WARM_TIMEOUT_MS,
            )  # fmt: skip
            _print(f"{n_events:,} events: warm start", warm)
        finally:
            browser.close()

    rss = max(warm["rss_after_paint_mb"], warm["rss_after_steps_mb"])
    peak = warm["peak_rss_after_steps_mb"]
    met = {
        "step_p50": warm["step_p50_ms"] <= TARGET_STEP_P50_MS,
        "step_p95": warm["step_p95_ms"] <= TARGET_STEP_P95_MS,
        "warm_start": warm["start_to_paint_s"] <= TARGET_START_S,
        "rss": rss <= TARGET_RSS_MB,
        "peak_rss": peak <= TARGET_RSS_MB,
    }
    return {
        "events": n_events,
        "load_average_1m_at_start": load_1m,
        "as_of": day,
        "window_days": window,
        "steps": steps,
        "points_per_step_median": warm["points_per_step_median"],
        "points_per_step_range": warm["points_per_step_range"],
        "cold_start_to_paint_s": cold["start_to_paint_s"],
        "cold_peak_rss_mb": cold["peak_rss_after_paint_mb"],
        "warm_start_to_paint_s": warm["start_to_paint_s"],
        "warm_server_up_s": warm["server_up_s"],
        "warm_page_to_paint_s": warm["page_to_paint_s"],
        "step_p50_ms": warm["step_p50_ms"],
        "step_p95_ms": warm["step_p95_ms"],
        "step_max_ms": warm["step_max_ms"],
        "received_mb_per_step": warm["received_mb_per_step"],
        "browser_decode_draw_ms_last_step": warm["browser_decode_draw_ms_last_step"],
        "rss_after_paint_mb": warm["rss_after_paint_mb"],
        "rss_after_steps_mb": warm["rss_after_steps_mb"],
        "peak_rss_mb": peak,
        "baseline_points_per_step_median": tiny["points_per_step_median"],
        "baseline_start_to_paint_s": tiny["start_to_paint_s"],
        "baseline_step_p50_ms": tiny["step_p50_ms"],
        "baseline_step_p95_ms": tiny["step_p95_ms"],
        "baseline_received_mb_per_step": tiny["received_mb_per_step"],
        "baseline_rss_after_steps_mb": tiny["rss_after_steps_mb"],
        "baseline_peak_rss_mb": tiny["peak_rss_after_steps_mb"],
        "step_p50_over_baseline": round(warm["step_p50_ms"] / tiny["step_p50_ms"], 2),
        "start_over_baseline": round(warm["start_to_paint_s"] / tiny["start_to_paint_s"], 2),
        "rss_over_baseline": round(rss / tiny["rss_after_steps_mb"], 2),
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "targets": {
            "step_p50_ms": TARGET_STEP_P50_MS,
            "step_p95_ms": TARGET_STEP_P95_MS,
            "warm_start_s": TARGET_START_S,
            "rss_mb": TARGET_RSS_MB,
        },
        "targets_met": met,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the figures and return them (``run_all`` calls ``main()``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--areas", type=int, default=4_000, help="control-area versions")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--data", type=Path, default=None,
        help="use DIR/events.csv and DIR/control_areas.parquet as they are",
    )  # fmt: skip
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--target-points", type=int, default=10_000,
                        help="events in the window the steps aim at")  # fmt: skip
    parser.add_argument("--date", default=None, help="as-of date of the first step")
    parser.add_argument("--window", type=int, default=None, help="window days (else chosen)")
    args = parser.parse_args([] if argv is None else argv)

    if args.data is not None:
        directory = args.data
        print(f"data: {directory} as it is", flush=True)
    else:
        directory, made, generated = dataset(
            args.events, args.areas, seed=args.seed, layout="acled", cache_dir=DATA_DIR
        )
        how = "generated now" if generated else f"reused from {directory}"
        print(
            f"data: {made['events']:,} events, {made['areas']:,} area versions, seed "
            f"{args.seed} ({how}; synth took {made['seconds']:.1f} s)",
            flush=True,
        )
    figures = run(
        directory / EVENTS_FILE,
        directory / AREAS_FILE,
        steps=args.steps,
        target_points=args.target_points,
        as_of=args.date,
        window=args.window,
    )
    figures = {"data": str(directory.name), **figures}
    width = max(len(k) for k in figures)
    print("== figures")
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    print("== targets (this 2-core machine)")
    warm = figures
    lines = [
        ("slider step p50", f"{warm['step_p50_ms']:.0f} ms", f"<= {TARGET_STEP_P50_MS:.0f} ms",
         "step_p50"),
        ("slider step p95", f"{warm['step_p95_ms']:.0f} ms", f"<= {TARGET_STEP_P95_MS:.0f} ms",
         "step_p95"),
        ("warm start -> painted map", f"{warm['warm_start_to_paint_s']:.1f} s",
         f"<= {TARGET_START_S:.0f} s", "warm_start"),
        ("resident memory (VmRSS)",
         f"{max(warm['rss_after_paint_mb'], warm['rss_after_steps_mb']):,.0f} MB",
         f"<= {TARGET_RSS_MB:,.0f} MB", "rss"),
        ("peak resident (VmHWM)", f"{warm['peak_rss_mb']:,.0f} MB",
         f"<= {TARGET_RSS_MB:,.0f} MB", "peak_rss"),
    ]  # fmt: skip
    for label, value, target, key in lines:
        verdict = "met" if figures["targets_met"][key] else "NOT met"
        print(f"{label:<27} {value:>10}   target {target:<12} {verdict}")
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
