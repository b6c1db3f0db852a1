"""Benchmark: one slider step on the dashboard, from key press to the map repainted.

Run::

    .venv/bin/python benchmarks/bench_slider.py [--steps 25] [--events FILE --areas FILE ...]

Starts the app as ``conflictmap serve`` does (bundled data unless ``--events``), opens it
in headless Chromium (Debian's, every request off 127.0.0.1 blocked, no-tiles basemap),
focuses the as-of slider and presses ArrowLeft ``--steps`` times. Each step is timed in
the browser, from just before the key press to the moment the map frame shows the new
date in its title box and a new event layer has been drawn (``L.ConflictMap.layers``,
``stats.draws > 0``).

Baselines measured in the same run:

* full rerun: the same slider steps with the view not wrapped in ``st.fragment``
  (``CONFLICTMAP_VIEW_FRAGMENT=0``), so every step reruns the whole script (the data still
  comes from the cache; the map stays mounted);
* new session: opening the page again (new session, map mounted from scratch, data from
  the cache), timed to the map drawn.

The machine is shared and noisy: read the ratios, measured in one run.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
from dashboard.cli import streamlit_command

CHROMIUM = os.environ.get("CONFLICTMAP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
FRAME = 'iframe[title="streamlit_folium.st_folium"]'
#: The steps go back from here, with a 90-day window (13 bundled events; Mosul retaken).
START_DATE = "2017-11-15"
WINDOW_DAYS = 90
TIMEOUT_MS = 60_000

# Mark the current layers, so "repainted" means: a layer that did not exist before the
# step has been drawn, and the title box shows the expected date.
MARK_JS = """
() => { window.__benchOld = (window.L.ConflictMap.layers || []).slice(); return true; }
"""
REPAINTED_JS = """
(day) => {
  const title = document.querySelector('.cm-title');
  if (!title || !title.innerText.includes(day)) return false;
  const layers = (window.L.ConflictMap.layers || []).filter(l => l._map);
  if (!layers.every(l => !window.__benchOld.includes(l) && l.stats.draws > 0)) return false;
  window.__benchT1 = performance.timeOrigin + performance.now();
  return true;
}
"""
TITLE_DATE_JS = """
() => { const t = document.querySelector('.cm-title'); if (!t) return null;
        const m = t.innerText.match(/on (\\d{4}-\\d{2}-\\d{2})/); return m ? m[1] : null; }
"""


def _free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def _server(
    events: str | None,
    areas: list[str],
    *,
    fragments: bool = True,
    extra_env: dict[str, str] | None = None,
) -> Iterator[str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFLICTMAP_")}
    env.update(extra_env or {})  # e.g. a private CONFLICTMAP_CACHE_DIR (bench_app)
    if not fragments:
        env["CONFLICTMAP_VIEW_FRAGMENT"] = "0"
    if events:
        env["CONFLICTMAP_EVENTS"] = str(Path(events).resolve())
    if areas:
        env["CONFLICTMAP_AREAS"] = os.pathsep.join(str(Path(a).resolve()) for a in areas)
    command = streamlit_command(port=port, address="127.0.0.1")
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while not _healthy(url):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the streamlit server did not come up")
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _frame(page):
    handle = page.wait_for_selector(FRAME, state="attached")
    frame = handle.content_frame()
    frame.wait_for_function("() => window.map && window.L && window.L.ConflictMap")
    return frame


def _idle(page) -> None:
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')")


def _timed(page, frame, action, day: str) -> float:
    """Milliseconds from just before ``action()`` to the map repainted for ``day``."""
    frame.evaluate(MARK_JS)
    t0 = page.evaluate("() => performance.timeOrigin + performance.now()")
    action()
    frame.wait_for_function(REPAINTED_JS, arg=day, polling="raf", timeout=TIMEOUT_MS)
    t1 = frame.evaluate("() => window.__benchT1")
    _idle(page)
    return float(t1 - t0)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _open(browser, url: str, query: str):
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    page.context.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(url) or route.request.url.startswith("data:")
            else route.abort()
        ),
    )
    t0 = time.perf_counter()
    page.goto(f"{url}/?{query}")
    frame = _frame(page)
    frame.wait_for_function(
        "() => document.querySelector('.cm-title') !== null && "
        "(window.L.ConflictMap.layers || []).every(l => l.stats.draws > 0)"
    )
    load_s = time.perf_counter() - t0
    _idle(page)
    return page, frame, load_s


def _steps(page, frame, steps: int) -> tuple[list[float], list[int]]:
    """Press ArrowLeft on the slider ``steps`` times; the time of each repaint, in ms."""
    slider = page.locator('[data-testid="stSlider"] input[type="range"]').first
    step_ms: list[float] = []
    n_points: list[int] = []
    for _ in range(steps):
        day = dt.date.fromisoformat(frame.evaluate(TITLE_DATE_JS)) - dt.timedelta(days=1)
        slider.focus()
        step_ms.append(
            _timed(page, frame, lambda: page.keyboard.press("ArrowLeft"), day.isoformat())
        )
        n_points.append(
            frame.evaluate(
                "() => (window.L.ConflictMap.layers || []).reduce((n, l) => n + l.stats.n, 0)"
            )
        )
    return step_ms, n_points


def run(
    steps: int = 25, events: str | None = None, areas: list[str] | None = None
) -> dict[str, Any]:
    """Time ``steps`` slider steps with the view fragment, then the baselines."""
    from playwright.sync_api import sync_playwright

    query = f"basemap=none&date={START_DATE}&window={WINDOW_DAYS}&points=points"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        with _server(events, areas or []) as url:
            page, frame, first_load_s = _open(browser, url, query)
            step_ms, n_points = _steps(page, frame, steps)
            page.close()
            # Baseline 2: a new session (page load, map mounted, data from the cache).
            reload_ms = []
            for _ in range(3):
                page, frame, load_s = _open(browser, url, query)
                reload_ms.append(load_s * 1000)
                page.close()
        # Baseline 1: the same steps when the view is not a fragment (every step reruns
        # the whole script: sidebar, timeline inputs, everything; the map stays mounted).
        with _server(events, areas or [], fragments=False) as url:
            page, frame, _ = _open(browser, url, query)
            full_ms, _ = _steps(page, frame, max(5, steps // 2))
            page.close()
        browser.close()

    p50 = statistics.median(step_ms)
    figures: dict[str, Any] = {
        "steps": steps,
        "points_per_step_median": int(statistics.median(n_points)),
        "first_load_s": round(first_load_s, 2),
        "slider_step_p50_ms": round(p50, 1),
        "slider_step_p90_ms": round(_pct(step_ms, 0.9), 1),
        "slider_step_max_ms": round(max(step_ms), 1),
        "baseline_full_rerun_step_p50_ms": round(statistics.median(full_ms), 1),
        "baseline_new_session_p50_ms": round(statistics.median(reload_ms), 1),
        "full_rerun_over_fragment": round(statistics.median(full_ms) / p50, 2),
        "new_session_over_fragment": round(statistics.median(reload_ms) / p50, 2),
        "target_p50_ms": 300,
        "meets_target": p50 <= 300,
    }
    return figures


def _synthetic_csv(n: int) -> str:
    """Write ``n`` synthetic events (with the columns the page shows) to a temporary CSV."""
    import tempfile

    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from synthetic import synthetic_events

    frame = synthetic_events(n, seed=7)
    rng = np.random.default_rng(7)
    types = ["Battles", "Explosions/Remote violence", "Violence against civilians", "Protests"]
    frame["event_type"] = rng.choice(types, size=n, p=[0.5, 0.3, 0.15, 0.05])
    frame["sub_event_type"] = "Armed clash"
    frame["actor1"] = rng.choice(["Islamic State", "SDF", "Syrian government"], size=n)
    frame["actor2"] = "Civilians"
    frame["country"] = rng.choice(["Syria", "Iraq"], size=n)
    frame["admin1"] = "Somewhere"
    frame["location"] = [f"place {i % 997}" for i in range(n)]
    fat = rng.poisson(2.0, n).astype(float)
    fat[rng.random(n) < 0.2] = np.nan
    frame["fatalities"] = fat
    frame["time_precision"] = 1
    frame["source"] = "synthetic"
    frame["notes"] = "synthetic event"
    frame = frame[frame["latitude"].notna()]  # the bundled-style file gives coordinates
    path = Path(tempfile.mkdtemp(prefix="bench-slider-")) / f"synthetic_{n}.csv"
    frame.to_csv(path, index=False, date_format="%Y-%m-%d")
    return str(path)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=25)
    parser.add_argument("--events", default=None)
    parser.add_argument("--areas", action="append", default=[])
    parser.add_argument(
        "--synthetic",
        type=int,
        default=0,
        metavar="N",
        help="instead of the bundled events, N seeded synthetic events (benchmarks/synthetic.py)",
    )
    args = parser.parse_args(argv if argv is not None else [])
    events = args.events
    if args.synthetic:
        events = _synthetic_csv(args.synthetic)
    figures = run(steps=args.steps, events=events, areas=args.areas)
    figures["events_file"] = Path(events).name if events else "bundled events.csv"
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
