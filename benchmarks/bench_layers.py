"""Benchmark: building the events map layer for 100k events against two folium baselines.

Run::

    .venv/bin/python benchmarks/bench_layers.py [--events 100000] [--browser]

Ours: :func:`dashboard.layers.events_layer` (compact arrays, one folium element) on a map
from :func:`dashboard.layers.build_map`, rendered to HTML. Timed with full popup records
(notes cut at 280 characters), with records but no notes, and with no records at all.

Baselines, in the same run:

* folium, naively: one ``folium.CircleMarker`` with a ``folium.Popup`` per event, built
  and rendered for a sample of ``--circle-sample`` events (2k by default) and extrapolated
  linearly to ``--events`` (building is linear; the output says it is extrapolated);
* ``geopandas.GeoDataFrame.explore()`` on ``--explore-sample`` events (10k), extrapolated
  the same way.

``--browser`` also loads our 100k-point page in headless Chromium (Debian's, every request
off 127.0.0.1 blocked) and reports the time until the points are drawn.

This is not a timed test: the machine is shared and noisy; read the ratios.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import json
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dashboard import schema
from dashboard.layers import build_map, events_layer

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


def _timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def ours(events: pd.DataFrame, **options: Any) -> dict[str, Any]:
    """Build and render our map; seconds and bytes."""
    start = time.perf_counter()
    layer = events_layer(events, **options)
    built = time.perf_counter()
    fmap = build_map(center=(35.0, 40.0), zoom=6, basemap="none", layers=[layer])
    html = fmap.get_root().render()
    done = time.perf_counter()
    empty = build_map(center=(35.0, 40.0), zoom=6, basemap="none").get_root().render()
    n = len(events)
    return {
        "build_s": built - start,
        "render_s": done - built,
        "total_s": done - start,
        "html_bytes": len(html.encode("utf-8")),
        "bytes_per_event": (len(html.encode("utf-8")) - len(empty.encode("utf-8"))) / n,
        "html": html,
    }


def circle_markers(events: pd.DataFrame, total: int) -> dict[str, Any]:
    """folium's way: one CircleMarker + Popup per event (sample, extrapolated)."""
    import folium

    start = time.perf_counter()
    fmap = folium.Map(location=(35.0, 40.0), zoom_start=6, tiles=None)
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


def _scaled(seconds: float, html: str, sample: int, total: int) -> dict[str, Any]:
    """A baseline timed on ``sample`` events, extrapolated linearly to ``total``."""
    scale = total / sample
    return {
        "sample": sample,
        "total_s_sample": seconds,
        "total_s_extrapolated": seconds * scale,
        "html_bytes_extrapolated": len(html.encode("utf-8")) * scale,
    }


def explore(events: pd.DataFrame, total: int) -> dict[str, Any]:
    """geopandas' .explore() of the points (sample, extrapolated)."""
    import geopandas as gpd

    gdf = gpd.GeoDataFrame(
        events.drop(columns=[schema.LATITUDE, schema.LONGITUDE]),
        geometry=gpd.points_from_xy(events[schema.LONGITUDE], events[schema.LATITUDE]),
        crs=4326,
    )
    gdf[schema.EVENT_DATE] = gdf[schema.EVENT_DATE].astype(str)
    start = time.perf_counter()
    fmap = gdf.explore(tiles=None)
    html = fmap.get_root().render()
    return _scaled(time.perf_counter() - start, html, len(events), total)


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


def browser(events: pd.DataFrame) -> dict[str, Any]:
    """Load our page in Chromium; milliseconds until the points are drawn."""
    from urllib.parse import urlparse

    from playwright.sync_api import sync_playwright

    from dashboard.assets import ensure_static_assets

    with tempfile.TemporaryDirectory() as tmp, _serve(Path(tmp)) as base:
        urls = ensure_static_assets(Path(tmp) / "static", base_url="static/")
        fmap = build_map(
            center=(35.0, 40.0), zoom=6, basemap="none", assets=urls, layers=[events_layer(events)]
        )
        (Path(tmp) / "map.html").write_text(fmap.get_root().render(), encoding="utf-8")
        left: list[str] = []
        with sync_playwright() as pw:
            chromium = pw.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            page = chromium.new_page(viewport={"width": 1200, "height": 800})

            def route(r: Any) -> None:
                if urlparse(r.request.url).hostname in ("127.0.0.1", "localhost"):
                    r.continue_()
                else:
                    left.append(r.request.url)
                    r.abort()

            page.route("**/*", route)
            start = time.perf_counter()
            page.goto(f"{base}/map.html")
            page.wait_for_function(
                "window.L && L.ConflictMap && L.ConflictMap.layers.length"
                " && L.ConflictMap.layers[0].stats.draws > 0",
                timeout=120_000,
            )
            loaded = time.perf_counter() - start
            stats = page.evaluate("L.ConflictMap.layers[0].stats")
            pan = page.evaluate(
                """() => new Promise(resolve => {
                    const layer = L.ConflictMap.layers[0], map = layer._map;
                    const t0 = performance.now();
                    layer.once('cm:drawn', () => resolve(performance.now() - t0));
                    map.setZoom(map.getZoom() + 1, {animate: false});
                })"""
            )
            chromium.close()
    return {
        "page_load_to_drawn_s": loaded,
        "first_draw_ms": stats["lastDrawMs"],
        "zoom_redraw_ms": pan,
        "points_drawn": stats["drawn"],
        "points": stats["n"],
        "requests_off_localhost": left,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--circle-sample", type=int, default=2_000)
    parser.add_argument("--explore-sample", type=int, default=10_000)
    parser.add_argument("--browser", action="store_true", help="also time the page in Chromium")
    args = parser.parse_args(argv)

    events = synthetic_events(args.events)
    result: dict[str, Any] = {"events": args.events}
    full = ours(events)
    result["ours"] = {k: v for k, v in full.items() if k != "html"}
    no_notes = ours(events, notes_max_chars=0)
    result["ours_popups_without_notes"] = {k: v for k, v in no_notes.items() if k != "html"}
    lean = ours(events, records=False)
    result["ours_no_popups"] = {k: v for k, v in lean.items() if k != "html"}
    result["circle_markers"] = circle_markers(events.head(args.circle_sample), args.events)
    result["explore"] = explore(events.head(args.explore_sample), args.events)
    result["ratios"] = {
        "circle_markers_time_over_ours": result["circle_markers"]["total_s_extrapolated"]
        / full["total_s"],
        "explore_time_over_ours": result["explore"]["total_s_extrapolated"] / full["total_s"],
        "circle_markers_bytes_over_ours": result["circle_markers"]["html_bytes_extrapolated"]
        / full["html_bytes"],
        "explore_bytes_over_ours": result["explore"]["html_bytes_extrapolated"]
        / full["html_bytes"],
    }
    if args.browser:
        result["browser"] = browser(events)
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
