"""Benchmark: the load test's cross-check in real Chromium. N browser sessions on one server
step the date slider at the same moment; each step is timed in its own page, from just
before its key press to its map repainted for the new date.

Run::

    .venv/bin/python benchmarks/bench_chromium.py [--events 200000] [--sessions 1,5,10]

Data: the bundled events with ``--events 0``, else that many synthetic events
(``conflictmap synth``, seed 7, as ``bench_load``). One ``conflictmap serve`` process.

Ours: N pages in one headless Chromium (Debian's, each page its own context and so its
own session; every request off 127.0.0.1 blocked; no basemap). All pages open the same
view (a 30-day window); then, ``--steps`` times, every page's slider gets ArrowLeft one
after the other as fast as Playwright sends them, and each page's time runs from just
before its own press to the moment its map frame shows the new date in its title box and
a new event layer has been drawn (``bench_slider``'s measure). The browsers' own work
(decoding and drawing the map) shares the 2 cores with the server.

Baseline, same run, same server: the websocket harness of ``bench_load``
(``tests/browser/loadclient.py``: clients that behave like the browser over the app's own
protocol, drawing nothing) with the same N and steps. Chromium's figure minus the
harness's is what the browsers add; the harness is what the load benchmarks report.

The machine is shared and noisy: read the two columns of one run side by side.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # siblings: bench_load and bench_slider
    sys.path.insert(0, str(HERE))

from bench_load import _measure, _server, _synth
from bench_slider import (
    CHROMIUM,
    CHROMIUM_ARGS,
    MARK_JS,
    REPAINTED_JS,
    TIMEOUT_MS,
    TITLE_DATE_JS,
    _idle,
    _open,
    _pct,
)

#: The view every page opens: a month's window on a date inside the synthetic data's span
#: and the bundled data's (Raqqa's last weeks under the Islamic State).
QUERY = "basemap=none&date=2017-09-30&window=30&points=points"


def _chromium_steps(pages: list[tuple[Any, Any]], steps: int) -> list[float]:
    """Every page presses ArrowLeft at (nearly) the same moment, ``steps`` times; each
    page's milliseconds from its press to its repainted map."""
    times: list[float] = []
    for _ in range(steps):
        started: list[tuple[Any, Any, str, float]] = []
        for page, frame in pages:
            shown = frame.evaluate(TITLE_DATE_JS)
            day = (dt.date.fromisoformat(shown) - dt.timedelta(days=1)).isoformat()
            frame.evaluate(MARK_JS)
            page.locator('[data-testid="stSlider"] input[type="range"]').first.focus()
            t0 = page.evaluate("() => performance.timeOrigin + performance.now()")
            page.keyboard.press("ArrowLeft")
            started.append((page, frame, day, t0))
        for _page, frame, day, t0 in started:
            frame.wait_for_function(REPAINTED_JS, arg=day, polling="raf", timeout=TIMEOUT_MS)
            times.append(float(frame.evaluate("() => window.__benchT1")) - t0)
        for page, _ in pages:
            _idle(page)
    return times


def run(events: int, counts: tuple[int, ...], steps: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    events_path, areas = _synth(events) if events else (None, [])
    log = Path(tempfile.mkdtemp(prefix="bench-chromium-")) / "server.log"
    figures: dict[str, Any] = {"events": events or "bundled", "steps_per_session": steps}
    print(f"{'S':>3} {'Chromium p50/p95 ms':>20} {'harness p50/p95 ms':>20} {'open s':>7}")
    with _server(events_path, areas, log) as (url, server), sync_playwright() as pw:
        _measure(url, server, 1, 2, 180.0)  # data, assets, first runs
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for n in counts:
                t = time.perf_counter()
                pages = [_open(browser, url, QUERY)[:2] for _ in range(n)]
                opened = time.perf_counter() - t
                ours = _chromium_steps(pages, steps)
                for page, _ in pages:
                    page.context.close()
                harness = _measure(url, server, n, steps, 180.0)
                row = {
                    "chromium_step_p50_ms": round(statistics.median(ours)),
                    "chromium_step_p95_ms": round(_pct(ours, 0.95)),
                    "harness_step_p50_ms": round((harness["step_p50_s"] or 0) * 1000),
                    "harness_step_p95_ms": round((harness["step_p95_s"] or 0) * 1000),
                    "harness_dropped_sessions": harness["dropped_sessions"],
                    "chromium_open_all_s": round(opened, 1),
                }
                figures[f"S{n}"] = row
                print(
                    f"{n:>3} {row['chromium_step_p50_ms']:>9} / {row['chromium_step_p95_ms']:<8}"
                    f" {row['harness_step_p50_ms']:>9} / {row['harness_step_p95_ms']:<8}"
                    f" {opened:>7.1f}",
                    flush=True,
                )
        finally:
            browser.close()
    return figures


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=200_000, help="0: the bundled data")
    parser.add_argument("--sessions", default="1,5,10", help="session counts, e.g. 1,5,10")
    parser.add_argument("--steps", type=int, default=5, help="slider steps per session")
    args = parser.parse_args(argv)
    counts = tuple(int(c) for c in args.sessions.split(","))
    return run(args.events, counts, args.steps)


if __name__ == "__main__":
    main()
