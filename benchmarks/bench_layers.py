"""Benchmark: the map of 100k events in the window, ours against geopandas ``.explore()``.

Run::

    .venv/bin/python benchmarks/bench_layers.py [--events 100000] [--no-browser]

For the same seeded ACLED-like events (every point its own coordinates, notes of 60-400
characters), in one run:

* ours: :func:`dashboard.layers.events_layer` (compact columns, one folium element, popups
  with every record; notes travel only within ``NOTES_BUDGET_BYTES``) on a map from
  :func:`dashboard.layers.build_map`, rendered to HTML;
* baseline: ``geopandas.GeoDataFrame.explore(tiles=None)`` of the same points, rendered
  to HTML; built in full (``--explore-sample N`` times it on N events instead and scales
  linearly, and says so);
* for scale, folium's naive way (one ``CircleMarker`` + ``Popup`` per event) on
  ``--circle-sample`` events, extrapolated.

Figures: Python build time (builder + render to HTML, wall clock and CPU; ours is the
median of ``--repeat`` runs), page bytes (the HTML; Leaflet and the scripts are separate
files), and in Chromium (Debian's ``/usr/bin/chromium`` through Playwright,
``--no-sandbox --disable-gpu --disable-background-networking``, the page served from
127.0.0.1, every other request aborted, a fresh context per load) the time from
navigation start to the painted map (ours: the median of ``--repeat`` loads):

* ours: the canvas layer reports it has drawn (``stats.draws > 0``), then two animation
  frames (the first frame after the draw has been rendered);
* explore: the load event, every point's SVG path in the document, then two animation
  frames. explore's page asks CDNs for Leaflet, jQuery, Bootstrap and icon fonts: Leaflet
  (the same 1.9.3) is served locally instead, the rest is aborted (drawing the points
  does not need it).

Then the end-to-end ratio (build + paint) and, on our map, the time from a click on a point
(``mousedown``) to its popup shown (``popupopen``, then two frames); explore has no click
popups by default, so its hover tooltip is timed the same way.

This is not a timed test: the machine is shared and noisy; read the ratios.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dashboard import schema
from dashboard.layers import build_map, events_layer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT = {"width": 1200, "height": 800}
CENTER, ZOOM = (35.0, 40.0), 6
#: Issue "Scale": the map for 100k events in the window on this 2-core machine.
TARGETS = {"build_s": 0.5, "page_mb": 3.0, "paint_s": 1.5, "end_to_end_ratio": 20.0}
#: Chromium waits: explore's 85 MB page takes tens of seconds.
PAGE_TIMEOUT_MS = 600_000

EVENT_TYPES = (
    "Battles",
    "Explosions/Remote violence",
    "Violence against civilians",
    "Protests",
    "Riots",
    "Strategic developments",
)
WORDS = [
    "forces",
    "clashed",
    "with",
    "fighters",
    "near",
    "the",
    "village",
    "of",
    "killing",
    "reportedly",
    "according",
    "to",
    "local",
    "sources",
    "airstrike",
    "shelling",
    "targeted",
    "positions",
    "checkpoint",
    "convoy",
    "civilians",
    "wounded",
    "town",
    "outskirts",
    "district",
    "governorate",
    "militants",
    "attack",
]


def synthetic_events(n: int, seed: int = 7) -> pd.DataFrame:
    """Seeded fake events with ACLED-like text (notes of 60-400 characters)."""
    rng = np.random.default_rng(seed)
    places = rng.uniform([32.5, 36.0], [37.3, 44.5], size=(2000, 2))
    place = rng.integers(0, len(places), n)
    jitter = rng.normal(0, 0.02, size=(n, 2))
    actors = [f"Armed group {i}" for i in range(300)]
    notes_len = rng.integers(60, 400, n)
    vocab = np.array(WORDS)
    word_idx = rng.integers(0, len(vocab), size=(n, 70))
    notes = [" ".join(vocab[row])[:length] for row, length in zip(word_idx, notes_len, strict=True)]
    fat = rng.poisson(2, n).astype(float)
    fat[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame(
        {
            schema.EVENT_ID: [f"SYR{i:06d}" for i in range(n)],
            schema.EVENT_DATE: pd.Timestamp("2017-01-01")
            + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
            schema.TIME_PRECISION: rng.choice([1, 1, 1, 2, 3], n),
            schema.EVENT_TYPE: rng.choice(EVENT_TYPES, n),
            schema.SUB_EVENT_TYPE: rng.choice(["Armed clash", "Air/drone strike", "Shelling"], n),
            schema.ACTOR1: rng.choice(actors, n),
            schema.ACTOR2: rng.choice(actors + [None] * 100, n),
            schema.COUNTRY: "Syria",
            schema.ADMIN1: rng.choice(["Aleppo", "Ar-Raqqa", "Deir ez Zor", "Idleb"], n),
            schema.LOCATION: [f"Place {p}" for p in place],
            schema.LATITUDE: places[place, 0] + jitter[:, 0],
            schema.LONGITUDE: places[place, 1] + jitter[:, 1],
            schema.GEO_PRECISION: rng.choice([1, 1, 1, 2, 3], n),
            schema.FATALITIES: fat,
            schema.SOURCE: rng.choice(["SOHR", "Reuters", "Local media", "Enab Baladi"], n),
            schema.NOTES: notes,
            schema.CONTROLLER: rng.choice(["Islamic State", "SDF", "Syrian government"], n),
            schema.CONTROLLER_CONFIDENCE: rng.choice(["high", "low"], n),
        }
    )


# --- Python: build and render --------------------------------------------------------------


def ours(
    events: pd.DataFrame, *, assets: dict[str, str] | None = None, **options: Any
) -> dict[str, Any]:
    """Build and render our map: seconds (wall and CPU), bytes, and the page."""
    cpu = time.process_time()
    start = time.perf_counter()
    layer = events_layer(events, **options)
    built = time.perf_counter()
    fmap = build_map(center=CENTER, zoom=ZOOM, basemap="none", layers=[layer], assets=assets)
    html = fmap.get_root().render()
    done = time.perf_counter()
    cpu = time.process_time() - cpu
    empty = build_map(center=CENTER, zoom=ZOOM, basemap="none", assets=assets)
    extra = len(html.encode("utf-8")) - len(empty.get_root().render().encode("utf-8"))
    return {
        "layer_s": built - start,
        "render_s": done - built,
        "build_s": done - start,
        "build_cpu_s": cpu,
        "html_bytes": len(html.encode("utf-8")),
        "bytes_per_event": extra / max(len(events), 1),
        "notes_withheld": layer.notes_withheld,
        "html": html,
        "map_name": fmap.get_name(),
    }


def _scaled(
    seconds: float, html: str, sample: int, total: int, cpu: float | None = None
) -> dict[str, Any]:
    """A baseline timed on ``sample`` events, extrapolated linearly to ``total``."""
    scale = total / sample
    return {
        "sample": sample,
        "extrapolated": sample != total,
        "build_s_sample": seconds,
        "build_s": seconds * scale,
        "build_cpu_s": None if cpu is None else cpu * scale,
        "html_bytes": len(html.encode("utf-8")) * scale,
    }


def circle_markers(events: pd.DataFrame, total: int) -> dict[str, Any]:
    """folium's way: one CircleMarker + Popup per event (sample, extrapolated)."""
    import folium

    start = time.perf_counter()
    fmap = folium.Map(location=CENTER, zoom_start=ZOOM, tiles=None)
    for row in events.itertuples(index=False):
        if not (np.isfinite(row.latitude) and np.isfinite(row.longitude)):
            continue
        folium.CircleMarker(
            location=(row.latitude, row.longitude),
            radius=4,
            color="#222",
            fill=True,
            fill_color="#D55E00",
            popup=folium.Popup(f"{row.event_type}<br>{row.notes}", max_width=300),
        ).add_to(fmap)
    html = fmap.get_root().render()
    return _scaled(time.perf_counter() - start, html, len(events), total)


def explore(events: pd.DataFrame, total: int) -> dict[str, Any]:
    """geopandas' .explore() of the points (all of them, or a sample scaled to ``total``)."""
    import geopandas as gpd

    gdf = gpd.GeoDataFrame(
        events.drop(columns=[schema.LATITUDE, schema.LONGITUDE]),
        geometry=gpd.points_from_xy(events[schema.LONGITUDE], events[schema.LATITUDE]),
        crs=4326,
    )
    gdf[schema.EVENT_DATE] = gdf[schema.EVENT_DATE].astype(str)
    cpu = time.process_time()
    start = time.perf_counter()
    fmap = gdf.explore(tiles=None)
    html = fmap.get_root().render()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    figures = _scaled(seconds, html, len(events), total, cpu)
    figures["html"] = html
    figures["map_name"] = fmap.get_name()
    return figures


# --- Chromium --------------------------------------------------------------------------------


@contextlib.contextmanager
def _serve(root: Path) -> Iterator[str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(root))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextlib.contextmanager
def _chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


class _Page:
    """A fresh page (own context: nothing cached) whose requests off 127.0.0.1 are aborted."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context(viewport=VIEWPORT)
        self.page = self.context.new_page()
        self.page.set_default_timeout(PAGE_TIMEOUT_MS)
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.route("**/*", self._route)

    def _route(self, route: Any) -> None:
        if urlparse(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def close(self) -> None:
        self.context.close()


# Installed before the page's own scripts: resolves with performance.now() (ms since
# navigation start) once `ready()` holds and two more frames have been rendered.
_PAINT_PROBE = """
window.__cmPainted = new Promise((resolve) => {
  const ready = %s;
  const check = () => {
    if (ready()) {
      requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now())));
    } else {
      requestAnimationFrame(check);
    }
  };
  requestAnimationFrame(check);
});
"""
_OURS_READY = """() => !!(window.L && L.ConflictMap && L.ConflictMap.layers.length > 0
    && L.ConflictMap.layers[0].stats.draws > 0)"""
_EXPLORE_READY = """() => document.readyState === 'complete'
    && document.querySelectorAll('path.leaflet-interactive').length >= %d"""

# Canvas pixels with any alpha: the points really are on the canvas.
_PAINTED_PIXELS = """() => {
  const c = document.querySelector('canvas.cm-points-canvas');
  const d = c.getContext('2d', {willReadFrequently: true}).getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) { n++; } }
  return n;
}"""

# Arms a probe for one interaction: from the first `start` DOM event (captured on the
# document) to the map's `done` event plus two frames; null after 20 s.
_INTERACTION_PROBE = """([mapName, start, done]) => {
  const map = window[mapName];
  window.__cmInteraction = new Promise((resolve) => {
    let t0 = null;
    document.addEventListener(start, () => { t0 = performance.now(); },
                              {capture: true, once: true});
    map.once(done, () => requestAnimationFrame(() => requestAnimationFrame(
      () => resolve(performance.now() - t0))));
    setTimeout(() => resolve(null), 20000);
  });
}"""

_RESET_VIEW = """([mapName, lat, lon, zoom]) => {
  const map = window[mapName];
  map.closePopup();
  map.setView([lat, lon], zoom, {animate: false});
}"""

_SCREEN_POINT = """([mapName, lat, lon]) => {
  const map = window[mapName], p = map.latLngToContainerPoint([lat, lon]);
  const r = map.getContainer().getBoundingClientRect();
  const inside = p.x > 20 && p.y > 20 && p.x < r.width - 20 && p.y < r.height - 20;
  return inside ? [p.x + r.left, p.y + r.top] : null;
}"""


def _load(browser: Any, url: str, ready_js: str) -> tuple[_Page, float, float]:
    """Open ``url`` in a fresh page; (page, ms from navigation start to painted, wall s)."""
    wrapped = _Page(browser)
    wrapped.page.add_init_script(_PAINT_PROBE % ready_js)
    start = time.perf_counter()
    wrapped.page.goto(url, wait_until="commit")
    painted_ms = wrapped.page.evaluate("window.__cmPainted")
    return wrapped, painted_ms, time.perf_counter() - start


def _interaction_ms(
    page: Any,
    map_name: str,
    point: tuple[float, float],
    act: Callable[[float, float], None],
    start: str,
    done: str,
) -> float | None:
    page.evaluate(_INTERACTION_PROBE, [map_name, start, done])
    act(*point)
    return page.evaluate("window.__cmInteraction")


def _sample_points(
    page: Any, map_name: str, events: pd.DataFrame, count: int
) -> list[tuple[float, float]]:
    """Screen positions of up to ``count`` events spread over the frame, inside the map."""
    points = []
    for i in np.linspace(0, len(events) - 1, 4 * count).astype(int):
        row = events.iloc[int(i)]
        xy = page.evaluate(
            _SCREEN_POINT, [map_name, float(row[schema.LATITUDE]), float(row[schema.LONGITUDE])]
        )
        if xy is not None:
            points.append((xy[0], xy[1]))
        if len(points) == count:
            break
    return points


def paint_ours(
    browser: Any,
    base: str,
    page_name: str,
    map_name: str,
    events: pd.DataFrame,
    *,
    loads: int,
    clicks: int,
) -> dict[str, Any]:
    """Time our page to painted ``loads`` times, then click points and time their popups."""
    paints, walls, stats, pixels = [], [], {}, 0
    popup_ms: list[float] = []
    popup_text = ""
    blocked: list[str] = []
    errors: list[str] = []
    for k in range(loads):
        wrapped, painted, wall = _load(browser, f"{base}/{page_name}", _OURS_READY)
        paints.append(painted / 1000)
        walls.append(wall)
        blocked += wrapped.blocked
        errors += wrapped.errors
        if k == loads - 1:
            page = wrapped.page
            stats = page.evaluate("L.ConflictMap.layers[0].stats")
            pixels = page.evaluate(_PAINTED_PIXELS)
            for point in _sample_points(page, map_name, events, clicks):
                ms = _interaction_ms(
                    page, map_name, point, page.mouse.click, "mousedown", "popupopen"
                )
                if ms is not None:
                    popup_ms.append(ms)
                    popup_text = page.inner_text(".cm-popup")
                # The popup panned the map to fit: back to the frame the points were found in.
                page.evaluate(_RESET_VIEW, [map_name, *CENTER, ZOOM])
        wrapped.close()
    return {
        "paint_s": statistics.median(paints),
        "paint_s_runs": [round(p, 3) for p in paints],
        "goto_to_painted_wall_s": statistics.median(walls),
        "decode_ms": stats.get("decodeMs"),
        "first_draw_ms": stats.get("lastDrawMs") if stats.get("draws") == 1 else None,
        "points": stats.get("n"),
        "points_drawn": stats.get("drawn"),
        "canvas_pixels_painted": pixels,
        "click_to_popup_ms": statistics.median(popup_ms) if popup_ms else None,
        "click_to_popup_ms_runs": [round(m, 1) for m in popup_ms],
        "popup_example": popup_text,
        "requests_blocked": blocked,
        "page_errors": errors,
    }


def paint_explore(
    browser: Any,
    base: str,
    page_name: str,
    map_name: str,
    events: pd.DataFrame,
    *,
    hovers: int,
) -> dict[str, Any]:
    """Time explore's page to painted (once: it is slow), then its hover tooltips."""
    ready = _EXPLORE_READY % len(events)
    wrapped, painted, wall = _load(browser, f"{base}/{page_name}", ready)
    page = wrapped.page
    paths = page.evaluate("document.querySelectorAll('path.leaflet-interactive').length")
    tooltip_ms: list[float] = []
    for point in _sample_points(page, map_name, events, hovers):
        page.mouse.move(1, 1)
        ms = _interaction_ms(page, map_name, point, page.mouse.move, "mousemove", "tooltipopen")
        if ms is not None:
            tooltip_ms.append(ms)
    blocked = sorted({urlparse(u).hostname or u for u in wrapped.blocked})
    errors = wrapped.errors
    wrapped.close()
    return {
        "paint_s": painted / 1000,
        "goto_to_painted_wall_s": wall,
        "svg_paths": paths,
        "hover_to_tooltip_ms": statistics.median(tooltip_ms) if tooltip_ms else None,
        "hover_to_tooltip_ms_runs": [round(m, 1) for m in tooltip_ms],
        "hosts_blocked": blocked,
        "page_errors": errors,
    }


def _local_leaflet(html: str, urls: dict[str, str]) -> str:
    """explore's page with Leaflet (JS and CSS) from our served copy instead of a CDN."""
    html = re.sub(r'https://[^"]*/leaflet\.js', urls["leaflet"], html)
    return re.sub(r'https://[^"]*/leaflet\.css', urls["leaflet_css"], html)


# --- the run ---------------------------------------------------------------------------------


def run(
    n: int, *, circle_sample: int, explore_sample: int, repeat: int, browser: bool
) -> dict[str, Any]:
    from dashboard.assets import ensure_static_assets

    events = synthetic_events(n)
    figures: dict[str, Any] = {"events": n}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        urls = ensure_static_assets(root / "static", base_url="static/")
        runs = [ours(events, assets=urls) for _ in range(repeat)]
        last = runs[-1]
        build_s = statistics.median(r["build_s"] for r in runs)
        (root / "ours.html").write_text(last["html"], encoding="utf-8")
        lean = ours(events, assets=urls, records=False)
        sample = explore_sample or n
        base_explore = explore(events.head(sample), n)
        # With --explore-sample this is the sample's page; its paint time is scaled too.
        explore_html = _local_leaflet(base_explore["html"], urls)
        (root / "explore.html").write_text(explore_html, encoding="utf-8")
        circles = circle_markers(events.head(circle_sample), n)

        figures.update(
            {
                "ours_build_s": build_s,
                "ours_build_s_runs": [round(r["build_s"], 3) for r in runs],
                "ours_build_cpu_s": statistics.median(r["build_cpu_s"] for r in runs),
                "ours_layer_s": statistics.median(r["layer_s"] for r in runs),
                "ours_page_bytes": last["html_bytes"],
                "ours_page_mb": last["html_bytes"] / 1e6,
                "ours_bytes_per_event": last["bytes_per_event"],
                "ours_notes_withheld": last["notes_withheld"],
                "ours_no_popups_page_mb": lean["html_bytes"] / 1e6,
                "explore_build_s": base_explore["build_s"],
                "explore_build_cpu_s": base_explore["build_cpu_s"],
                "explore_build_measured_on": base_explore["sample"],
                "explore_build_extrapolated": base_explore["extrapolated"],
                "explore_page_mb": base_explore["html_bytes"] / 1e6,
                "circle_markers_build_s_extrapolated": circles["build_s"],
                "circle_markers_page_mb_extrapolated": circles["html_bytes"] / 1e6,
                "build_ratio_explore_over_ours": base_explore["build_s"] / build_s,
                "bytes_ratio_explore_over_ours": base_explore["html_bytes"] / last["html_bytes"],
            }
        )
        if not browser:
            return figures
        with _serve(root) as base, _chromium() as chromium:
            painted = paint_ours(
                chromium, base, "ours.html", last["map_name"], events, loads=repeat, clicks=5
            )
            baseline = paint_explore(
                chromium,
                base,
                "explore.html",
                base_explore["map_name"],
                events.head(sample),
                hovers=3,
            )
    explore_paint = baseline["paint_s"] * (n / sample)
    figures.update(
        {
            "ours_paint_s": painted["paint_s"],
            "ours_paint_s_runs": painted["paint_s_runs"],
            "ours_decode_ms": painted["decode_ms"],
            "ours_first_draw_ms": painted["first_draw_ms"],
            "ours_points_drawn": painted["points_drawn"],
            "ours_canvas_pixels_painted": painted["canvas_pixels_painted"],
            "ours_click_to_popup_ms": painted["click_to_popup_ms"],
            "ours_click_to_popup_ms_runs": painted["click_to_popup_ms_runs"],
            "ours_popup_example": " | ".join(painted["popup_example"].splitlines()),
            "ours_requests_blocked": painted["requests_blocked"],
            "ours_page_errors": painted["page_errors"],
            "explore_paint_s": explore_paint,
            "explore_paint_measured_on": sample,
            "explore_paint_extrapolated": sample != n,
            "explore_svg_paths": baseline["svg_paths"],
            "explore_hover_to_tooltip_ms": baseline["hover_to_tooltip_ms"],
            "explore_hosts_blocked": baseline["hosts_blocked"],
            "explore_page_errors": baseline["page_errors"],
            "paint_ratio_explore_over_ours": explore_paint / painted["paint_s"],
        }
    )
    ours_total = build_s + painted["paint_s"]
    explore_total = base_explore["build_s"] + explore_paint
    figures["ours_end_to_end_s"] = ours_total
    figures["explore_end_to_end_s"] = explore_total
    figures["end_to_end_ratio"] = explore_total / ours_total
    figures["targets"] = TARGETS
    figures["targets_met"] = {
        "build_s": build_s <= TARGETS["build_s"],
        "page_mb": figures["ours_page_mb"] <= TARGETS["page_mb"],
        "paint_s": painted["paint_s"] <= TARGETS["paint_s"],
        "end_to_end_ratio": figures["end_to_end_ratio"] >= TARGETS["end_to_end_ratio"],
    }
    return figures


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--circle-sample", type=int, default=2_000)
    parser.add_argument(
        "--explore-sample",
        type=int,
        default=0,
        metavar="N",
        help="time explore() on N events and scale linearly (default 0: all of them)",
    )
    parser.add_argument("--repeat", type=int, default=5, help="our builds and page loads")
    parser.add_argument("--no-browser", action="store_true", help="skip Chromium")
    args = parser.parse_args(argv if argv is not None else [])
    figures = run(
        args.events,
        circle_sample=args.circle_sample,
        explore_sample=args.explore_sample if 0 < args.explore_sample < args.events else 0,
        repeat=args.repeat,
        browser=not args.no_browser,
    )
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        shown = f"{value:.3g}" if isinstance(value, float) else value
        print(f"{key:<{width}}  {shown}")
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
