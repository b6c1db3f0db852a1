"""Benchmark: the space-and-time join against the naive sjoin-then-filter baseline.

Run::

    .venv/bin/python benchmarks/bench_join.py [--events 1000000 --versions 40000]
    .venv/bin/python benchmarks/bench_join.py --unique-points   # the worst case

Data: :mod:`benchmarks.synthetic`. The areas are irregular polygons of ``--vertices``
points (200 by default), every version a distinct polygon whose boundary moves, neighbours
overlapping a little at the edges: the exact point-in-polygon test costs what it costs on
real control maps, and sharing geometries between versions hides nothing.

Ours: :func:`dashboard.spatial.join_events_to_areas` (bounding-box STRtree query per
distinct location, numpy validity filter, then one exact test per surviving pair; chunks
of 50,000 events).

Baseline: ``geopandas.sjoin`` of the points against ALL polygon versions, then keep the rows
valid on the event date, then pick one controller per event by the same rule as ours
(strict interior first, then first listed; differing interior controllers = Contested).
At full size the baseline is slow and memory-hungry (one row per point x version of its
cell), so by default it runs on a sample of ``--baseline-sample`` events and its time is
extrapolated linearly to all events; the output says so. On that sample the two results
must agree (controller and area_id per event); the baseline does not compute the
time-window flag, so that column is not compared.

This is not a timed test: the machine is shared and noisy, read the ratio. Wall-clock and
CPU seconds (this process only) are both reported; under load from other processes the
CPU figures are the steadier ones. Peak memory is the process's peak RSS before and after
our join (the difference is what the join added on top of the inputs).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from benchmarks.synthetic import synthetic_areas, synthetic_events
from dashboard.schema import (
    AREA_ID,
    CONTESTED,
    CONTROLLER,
    CONTROLLER_CHANGED,
    EVENT_DATE,
    LATITUDE,
    LONGITUDE,
    UNKNOWN,
    VALID_FROM,
    VALID_TO,
)
from dashboard.spatial import DEFAULT_CHUNK_SIZE, join_events_to_areas


def naive_join(
    events: pd.DataFrame, areas: gpd.GeoDataFrame, *, date_column: str = EVENT_DATE
) -> pd.DataFrame:
    """The baseline: sjoin against every version, filter by date, then pick one per event.

    Returns a DataFrame with CONTROLLER and AREA_ID, one row per event in input order.
    """
    points = gpd.GeoDataFrame(
        {"_event": np.arange(len(events)), "_day": pd.to_datetime(events[date_column]).to_numpy()},
        geometry=gpd.points_from_xy(events[LONGITUDE], events[LATITUDE]),
        crs=areas.crs,
    )
    right = areas[[AREA_ID, CONTROLLER, VALID_FROM, VALID_TO, "geometry"]].assign(
        _version=np.arange(len(areas))
    )
    joined = gpd.sjoin(points, right, how="inner", predicate="intersects")
    day = joined["_day"]
    valid = (joined[VALID_FROM] <= day) & (joined[VALID_TO].isna() | (day < joined[VALID_TO]))
    hits = joined.loc[valid, ["_event", "_version", CONTROLLER, AREA_ID]]
    interior = shapely.contains_properly(
        np.asarray(areas.geometry.array)[hits["_version"].to_numpy()],
        np.asarray(points.geometry.array)[hits["_event"].to_numpy()],
    )
    hits = hits.assign(_interior=interior).sort_values(
        ["_event", "_interior", "_version"], ascending=[True, False, True]
    )
    first = hits.drop_duplicates("_event").set_index("_event")
    n_inside = hits[hits["_interior"]].groupby("_event")[CONTROLLER].nunique()

    controller = pd.Series(UNKNOWN, index=np.arange(len(events)), dtype="string")
    area_id = pd.Series(pd.NA, index=np.arange(len(events)), dtype="string")
    controller[first.index] = first[CONTROLLER].to_numpy()
    area_id[first.index] = first[AREA_ID].to_numpy()
    controller[n_inside.index[n_inside.to_numpy() > 1]] = CONTESTED
    return pd.DataFrame({CONTROLLER: controller.to_numpy(), AREA_ID: area_id.to_numpy()})


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the figures and return them as a dict.

    ``argv`` None means the defaults (as when ``benchmarks/run_all.py`` calls ``main()``).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--versions", type=int, default=40_000)
    parser.add_argument(
        "--baseline-sample",
        type=int,
        default=100_000,
        help="events the baseline is timed on (0 = all events); time extrapolated linearly",
    )
    parser.add_argument(
        "--places",
        type=int,
        default=20_000,
        help="distinct places the events repeat (real data repeats coordinates)",
    )
    parser.add_argument(
        "--unique-points",
        action="store_true",
        help="every event has coordinates of its own (worst case for our join)",
    )
    parser.add_argument("--vertices", type=int, default=200, help="points per area polygon")
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args([] if argv is None else argv)

    t = time.perf_counter()
    areas = synthetic_areas(args.versions, vertices=args.vertices, seed=args.seed)
    places = None if args.unique_points else args.places
    events = synthetic_events(args.events, seed=args.seed + 1, areas=areas, places=places)
    setup_seconds = time.perf_counter() - t
    geoms = np.asarray(areas.geometry.array)
    distinct = int(pd.Series(shapely.to_wkb(geoms)).nunique())
    median_vertices = float(np.median(shapely.get_num_coordinates(geoms)))
    locations = int(events[[LONGITUDE, LATITUDE]].dropna().drop_duplicates().shape[0])

    rss_before_ours = _peak_rss_mb()
    t, cpu = time.perf_counter(), time.process_time()
    ours = join_events_to_areas(events, areas, chunk_size=args.chunk_size)
    ours_seconds = time.perf_counter() - t
    ours_cpu = time.process_time() - cpu
    rss_after_ours = _peak_rss_mb()

    k = len(events) if args.baseline_sample <= 0 else min(args.baseline_sample, len(events))
    sample = events.iloc[:k]
    t = time.perf_counter()
    ours_sample = join_events_to_areas(sample, areas, chunk_size=args.chunk_size)
    ours_sample_seconds = time.perf_counter() - t
    t, cpu = time.perf_counter(), time.process_time()
    base = naive_join(sample, areas)
    base_sample_seconds = time.perf_counter() - t
    base_sample_cpu = time.process_time() - cpu
    baseline_seconds = base_sample_seconds * len(events) / k
    baseline_cpu = base_sample_cpu * len(events) / k

    mine = ours.iloc[:k]
    same_controller = mine[CONTROLLER].to_numpy(dtype=object) == base[CONTROLLER].to_numpy(
        dtype=object
    )
    same_area = mine[AREA_ID].fillna("").to_numpy(dtype=object) == base[AREA_ID].fillna(
        ""
    ).to_numpy(dtype=object)
    mismatches = int((~(same_controller & same_area)).sum())
    sample_consistent = bool(
        (
            ours_sample[CONTROLLER].to_numpy(dtype=object)
            == mine[CONTROLLER].to_numpy(dtype=object)
        ).all()
        and ours_sample[AREA_ID].equals(mine[AREA_ID])
    )

    figures: dict[str, Any] = {
        "events": len(events),
        "versions": len(areas),
        "distinct_geometries": distinct,
        "median_vertices_per_polygon": median_vertices,
        "distinct_event_locations": locations,
        "setup_seconds": round(setup_seconds, 2),
        "ours_seconds": round(ours_seconds, 3),
        "baseline_seconds": round(baseline_seconds, 3),
        "baseline_measured_on_events": k,
        "baseline_extrapolated": k < len(events),
        "ratio": round(baseline_seconds / ours_seconds, 1),
        "ours_cpu_seconds": round(ours_cpu, 3),
        "baseline_cpu_seconds": round(baseline_cpu, 3),
        "cpu_ratio": round(baseline_cpu / ours_cpu, 1),
        "ours_sample_seconds": round(ours_sample_seconds, 3),
        "baseline_sample_seconds": round(base_sample_seconds, 3),
        "ratio_on_sample": round(base_sample_seconds / ours_sample_seconds, 1),
        "mismatches_on_sample": mismatches,
        "chunked_equals_sample_run": sample_consistent,
        "contested_share": round(float((ours[CONTROLLER] == CONTESTED).mean()), 4),
        "unknown_share": round(float((ours[CONTROLLER] == UNKNOWN).mean()), 4),
        "changed_in_window_share": round(float(ours[CONTROLLER_CHANGED].mean()), 4),
        "peak_rss_mb_before_ours": round(rss_before_ours, 0),
        "peak_rss_mb_after_ours": round(rss_after_ours, 0),
    }
    print(
        f"events {len(events):,} at {locations:,} distinct locations x versions "
        f"{len(areas):,} ({distinct:,} distinct geometries, median {median_vertices:.0f} "
        "vertices)"
    )
    print(f"ours:     {ours_seconds:8.2f} s  ({ours_cpu:.2f} s CPU; chunks of {args.chunk_size:,})")
    how = (
        f"measured on {k:,} events ({base_sample_seconds:.2f} s), extrapolated linearly"
        if k < len(events)
        else "measured"
    )
    print(f"baseline: {baseline_seconds:8.2f} s  ({baseline_cpu:.2f} s CPU; {how})")
    print(
        f"ratio:    {figures['ratio']:8.1f} x   (CPU: {figures['cpu_ratio']:.1f} x; on the "
        f"sample alone: {figures['ratio_on_sample']:.1f} x)"
    )
    print(f"agreement on the sample: {k - mismatches:,}/{k:,} events same controller and area_id")
    print(f"peak RSS: {rss_before_ours:,.0f} MB before our join, {rss_after_ours:,.0f} MB after")
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
