"""Benchmark: ``build --dask`` on a local cluster of 1 and 2 workers vs the single-process build.

Run::

    .venv/bin/python benchmarks/bench_dask.py [--events 200000 --versions 8000 --partition-rows 25000]

Data: :mod:`dashboard.synth` as in ``bench_build`` (ACLED layout, ~10 % location-only rows,
irregular 200-vertex area versions; the same versions-per-event density as its 1M / 40k),
generated once into the same cache.

Measured in one run, in this order:

1. **Baseline**: :func:`dashboard.pipeline.build` then ``write_outputs`` (one GeoParquet
   file), in this process.
2. For 1 and then 2 workers: a LocalCluster of that many single-threaded worker processes
   (its start-up timed apart), then :func:`dashboard.distributed.build_distributed`. Its
   wall time is split into the client's part (read + validate, areas, gazetteer, scatter:
   the same work whatever the cluster) and ``compute`` (the partitions' geocode + join +
   write, spread over the workers). Inside every task the geocode, join and write seconds
   are measured, giving the per-partition cost.

To estimate a cluster of W workers (each at least a core): ``client_seconds +
ceil(partitions / W) * partition_seconds`` plus the transfer of the areas and gazetteer
to every worker and of each partition to its worker, which on a network costs what
``scatter`` cost here times its bandwidth ratio. The machine is shared and noisy (2 cores):
read the ratios of one run.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_build import DEFAULT_CACHE, dataset
from dashboard import distributed
from dashboard.pipeline import build, write_outputs
from dashboard.synth import AREAS_FILE, EVENTS_FILE


def _baseline(events: Path, areas: Path, out: Path) -> dict[str, Any]:
    t = time.perf_counter()
    result = build(events, [areas])
    write_outputs(result, out / "single.parquet")
    return {"seconds": time.perf_counter() - t, "rows": len(result.events)}


def _on_cluster(
    workers: int, events: Path, areas: Path, out: Path, partition_rows: int
) -> dict[str, Any]:
    t = time.perf_counter()
    with distributed.connect("local", workers=workers) as client:
        started = time.perf_counter() - t
        t = time.perf_counter()
        result = distributed.build_distributed(
            events,
            [areas],
            client=client,
            output=out / f"w{workers}.parquet",
            partition_rows=partition_rows,
        )
        seconds = time.perf_counter() - t
    per_part = [sum(p.values()) for p in result.partition_seconds]
    clock = result.client_seconds
    return {
        "cluster_start_seconds": started,
        "seconds": seconds,
        "client_seconds": sum(v for k, v in clock.items() if k != "compute"),
        "compute_seconds": clock["compute"],
        "client_parts": {k: round(v, 2) for k, v in clock.items()},
        "partitions": len(result.parts),
        "partition_rows": statistics.median(result.partition_rows),
        "partition_seconds_median": statistics.median(per_part),
        "partition_seconds_sum": sum(per_part),
        "partition_parts_median": {
            k: round(statistics.median(p[k] for p in result.partition_seconds), 3)
            for k in ("geocode", "join", "write")
        },
        "rows": result.event_report.rows_loaded,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the figures and return them as a dict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--versions", type=int, default=8_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--partition-rows", type=int, default=25_000)
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    args = parser.parse_args([] if argv is None else argv)
    if not distributed.dask_installed():
        raise SystemExit(distributed.DASK_MISSING)

    directory, made, _ = dataset(
        args.events, args.versions, seed=args.seed, layout="acled", cache_dir=args.cache_dir
    )
    events, areas = directory / EVENTS_FILE, directory / AREAS_FILE
    out = Path(tempfile.mkdtemp(prefix="conflictmap-bench-dask-"))
    try:
        single = _baseline(events, areas, out)
        runs = {w: _on_cluster(w, events, areas, out, args.partition_rows) for w in (1, 2)}
    finally:
        shutil.rmtree(out, ignore_errors=True)
    one, two = runs[1], runs[2]
    figures: dict[str, Any] = {
        "events": made["events"],
        "area_versions": made["areas"],
        "partition_rows": args.partition_rows,
        "partitions": one["partitions"],
        "single_process_seconds": single["seconds"],
        "cluster_start_seconds": {
            "1": one["cluster_start_seconds"],
            "2": two["cluster_start_seconds"],
        },
        "dask_seconds": {"1": one["seconds"], "2": two["seconds"]},
        "dask_client_seconds": {"1": one["client_seconds"], "2": two["client_seconds"]},
        "dask_client_parts_2_workers": two["client_parts"],
        "dask_compute_seconds": {"1": one["compute_seconds"], "2": two["compute_seconds"]},
        "compute_speedup_2_over_1": one["compute_seconds"] / two["compute_seconds"],
        "total_speedup_2_over_1": one["seconds"] / two["seconds"],
        "dask_2_workers_over_single_process": two["seconds"] / single["seconds"],
        "partition_seconds_median": one["partition_seconds_median"],
        "partition_parts_median": one["partition_parts_median"],
        "partition_us_per_row": 1e6 * one["partition_seconds_median"] / one["partition_rows"],
        "rows_equal": single["rows"] == one["rows"] == two["rows"],
    }
    for key, value in figures.items():
        print(f"{key}: {value}")
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
