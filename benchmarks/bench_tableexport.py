"""Benchmark: the page's CSV and GeoJSON downloads of a window, ours against plain pandas.

Run::

    .venv/bin/python benchmarks/bench_tableexport.py [--rows 200000] [--repeat 3]

For one seeded table shaped like the page's (text that repeats held as categoricals,
free-text notes as ``str``, dates, coordinates, counts with unknowns; a few cells a
spreadsheet would run and a few bare carriage returns), in one run:

* ours: :func:`dashboard.tableexport.to_csv_bytes` and
  :func:`dashboard.tableexport.to_geojson_bytes` (every text cell and column name
  neutralised after conversion to text, line breaks quoted);
* baseline: ``DataFrame.to_csv`` of the same frame (nothing neutralised, a bare ``\\r``
  left unquoted: unsafe, the floor ours is measured against) and
  ``geopandas.GeoDataFrame.to_json`` of the same rows as points (dates through ``str``).

Figures: the median wall-clock seconds of ``--repeat`` runs of each, and the ratios. This is
not a timed test: the machine is shared and noisy; read the ratios.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd


def page_table(rows: int, *, seed: int = 0) -> pd.DataFrame:
    """A seeded table shaped like the page's event table."""
    rng = np.random.default_rng(seed)
    places = np.array([f"place {i}" for i in range(500)] + ["=1+1", "-cmd", "a\rb", "الموصل"])
    actors = np.array([f"actor {i}" for i in range(200)] + ["@SUM(A1)", "+x"])
    notes = (
        pd.Series(rng.choice(places, rows)).astype(object)
        + " "
        + pd.Series(np.arange(rows)).astype(str)
    )
    fatalities = rng.integers(0, 20, rows).astype(float)
    fatalities[rng.random(rows) < 0.3] = np.nan
    return pd.DataFrame(
        {
            "event_id": [f"E{i}" for i in range(rows)],
            "event_date": pd.Timestamp("2017-01-01")
            + pd.to_timedelta(rng.integers(0, 365, rows), "D"),
            "location": pd.Categorical(rng.choice(places, rows)),
            "actor1": pd.Categorical(rng.choice(actors, rows)),
            "controller": pd.Categorical(rng.choice(["Islamic State", "SDF", "Unknown"], rows)),
            "notes": notes.astype("str"),
            "latitude": rng.uniform(30, 37, rows),
            "longitude": rng.uniform(38, 45, rows),
            "fatalities": fatalities,
        }
    )


def _median_seconds(func: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(*, rows: int, repeat: int) -> dict[str, Any]:
    import geopandas as gpd

    from dashboard.tableexport import to_csv_bytes, to_geojson_bytes

    table = page_table(rows)
    points = gpd.GeoDataFrame(
        table, geometry=gpd.points_from_xy(table["longitude"], table["latitude"]), crs=4326
    )

    def pandas_csv() -> bytes:
        buffer = io.StringIO()
        table.to_csv(buffer, index=False, lineterminator="\n")
        return buffer.getvalue().encode("utf-8")

    ours_csv = _median_seconds(lambda: to_csv_bytes(table), repeat)
    base_csv = _median_seconds(pandas_csv, repeat)
    ours_json = _median_seconds(lambda: to_geojson_bytes(table), repeat)
    base_json = _median_seconds(lambda: points.to_json(default=str), repeat)
    return {
        "rows": rows,
        "csv_ours_s": round(ours_csv, 3),
        "csv_pandas_to_csv_s": round(base_csv, 3),
        "csv_ratio_ours_to_pandas": round(ours_csv / base_csv, 2),
        "geojson_ours_s": round(ours_json, 3),
        "geojson_geopandas_to_json_s": round(base_json, 3),
        "geojson_ratio_ours_to_geopandas": round(ours_json / base_json, 2),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv if argv is not None else [])
    figures = run(rows=args.rows, repeat=args.repeat)
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
