"""Benchmark: the Natural Earth basemap against the coarse outlines it replaced.

Run::

    .venv/bin/python benchmarks/bench_basemap.py [--repeat 5]

Figures, each the median of ``--repeat`` runs, ours next to the baseline measured in the
same run (the baseline is ``geodata/countries.geojson``, the outlines the map drew before):

- reading the file (ours: ``dashboard.basemap.read_basemap``, cached per process; its
  first, uncached read is shown too);
- building the page's context layer (``context_layer``) and rendering it to HTML, with the
  HTML's size: what one rerun of the page costs and sends;
- one PNG export without tiles (``render_png`` of 9 November 2017, 30 days).

The machine is shared and noisy: read the ratios of one run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

import folium
import geopandas as gpd

from dashboard import basemap, paths
from dashboard.export import load_export_data, render_png
from dashboard.export.render import ExportSettings
from dashboard.layers import context_layer
from dashboard.viewstate import ViewState

VIEW = ViewState(as_of=dt.date(2017, 11, 9), window=30)


def _median(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _html(frame: gpd.GeoDataFrame) -> str:
    fmap = folium.Map(tiles=None)
    context_layer(frame, None).add_to(fmap)
    return fmap.get_root().render()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    repeat = max(1, args.repeat)

    start = time.perf_counter()
    ours = basemap.read_basemap()
    first = time.perf_counter() - start
    cached, _ = _median(basemap.read_basemap, repeat)
    old_read, old = _median(lambda: gpd.read_file(paths.BUNDLED_COUNTRIES), repeat)
    print(
        f"read: basemap {first * 1000:.0f} ms first, {cached * 1000:.1f} ms cached; "
        f"old outlines {old_read * 1000:.0f} ms (read every time)"
    )

    ours_html_t, ours_html = _median(lambda: _html(ours), repeat)
    old_html_t, old_html = _median(lambda: _html(old), repeat)
    print(
        f"context layer + HTML: basemap {ours_html_t * 1000:.0f} ms, "
        f"{len(ours_html) / 1000:.0f} kB; old outlines {old_html_t * 1000:.0f} ms, "
        f"{len(old_html) / 1000:.0f} kB "
        f"(x{ours_html_t / old_html_t:.1f} time, x{len(ours_html) / len(old_html):.0f} size)"
    )

    data = load_export_data()
    old_data = replace(data, context=replace(data.context, countries=old))
    settings = ExportSettings(exported_at=dt.datetime(2024, 5, 1, tzinfo=dt.UTC))
    ours_png, _ = _median(lambda: render_png(data, VIEW, settings), repeat)
    old_png, _ = _median(lambda: render_png(old_data, VIEW, settings), repeat)
    print(
        f"PNG export without tiles: basemap {ours_png * 1000:.0f} ms; "
        f"old outlines {old_png * 1000:.0f} ms (x{ours_png / old_png:.2f})"
    )
    # The page fetches the basemap from its static folder: its map script holds a URL.
    fetched = folium.Map(tiles=None)
    context_layer(ours, None, basemap_url="../../app/static/vendor/basemap/basemap.geojson").add_to(
        fetched
    )
    page_kb = len(fetched.get_root().render()) / 1000
    print(f"the page's context layer (basemap fetched by URL): {page_kb:.0f} kB of script")
    return {
        "read first (ms)": first * 1000,
        "read cached (ms)": cached * 1000,
        "old outlines read (ms)": old_read * 1000,
        "inline context layer + HTML (ms)": ours_html_t * 1000,
        "inline context layer HTML (kB)": len(ours_html) / 1000,
        "old outlines HTML (kB)": len(old_html) / 1000,
        "page context layer, basemap fetched by URL (kB)": page_kb,
        "PNG export, basemap (ms)": ours_png * 1000,
        "PNG export, old outlines (ms)": old_png * 1000,
        "PNG ratio basemap / old": ours_png / old_png,
    }


if __name__ == "__main__":
    main()
