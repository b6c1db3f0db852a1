"""Benchmark: ``build --dask`` on a local cluster of 1 and 2 workers vs the single-process build.

Run::

    .venv/bin/python benchmarks/bench_dask.py [--events 200000 --versions 8000 --partition-rows 25000]

Data: :mod:`dashboard.synth` as in ``bench_build`` (ACLED layout, ~10 % location-only rows,
irregular 200-vertex area versions; the same versions-per-event density as its 1M / 40k),
generated once into the same cache.

Measured in one run, each build in a fresh Python process (so each peak is its own):

1. **Baseline**: :func:`dashboard.pipeline.build` then ``write_outputs`` (one GeoParquet
   file).
2. For 1 and then 2 workers: a LocalCluster of that many single-threaded worker processes
   (its start-up timed apart), then :func:`dashboard.distributed.build_distributed`. The
   client's wall time is split into its stages: ``plan`` (head of the file, byte ranges),
   ``read`` (the ranges parsed on the workers; row counts and ACLED keys back), ``decide``
   (superseded ACLED versions), ``validate`` (prepare, date order, validation, duplicate
   ids, on the workers; the client decides between the rounds), ``combine`` (rejects and
   report), ``areas``, ``gazetteer``, ``scatter`` and ``compute`` (geocode + join + write
   on the workers). Inside every task its own seconds are measured, giving the
   per-partition cost of each step.
3. **Peak memory of the client process** (``VmHWM``, Linux) against the single-process
   build's, both also less the process's resident size after the imports. The workers are
   separate processes and not counted: the point is what the client must hold.

To estimate a cluster of W workers (each at least a core): the client's stages plus
``ceil(partitions / W)`` times the per-partition seconds, plus moving the areas and
gazetteer to every worker, which on a network costs what ``scatter`` cost here times the
bandwidth ratio. The file must be on a file system every worker sees. The machine is
shared and noisy (2 cores): read the ratios of one run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
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

_STEPS = ("read", "prepare", "validate", "finish", "geocode", "join", "write")


def _memory_mb() -> dict[str, float]:
    """Resident size now and its peak so far (``VmRSS``, ``VmHWM``) in MB."""
    fields: dict[str, float] = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return fields


def _baseline(events: Path, areas: Path, out: Path) -> dict[str, Any]:
    before = _memory_mb()["VmRSS"]
    t = time.perf_counter()
    result = build(events, [areas])
    write_outputs(result, out / "single.parquet")
    seconds = time.perf_counter() - t
    peak = _memory_mb()["VmHWM"]
    return {
        "seconds": seconds,
        "rows": len(result.events),
        "peak_mb": peak,
        "peak_over_imports_mb": peak - before,
    }


def _on_cluster(
    workers: int, events: Path, areas: Path, out: Path, partition_rows: int
) -> dict[str, Any]:
    before = _memory_mb()["VmRSS"]
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
    peak = _memory_mb()["VmHWM"]
    per_part = [sum(p.values()) for p in result.partition_seconds]
    clock = result.client_seconds
    return {
        "cluster_start_seconds": started,
        "seconds": seconds,
        "read_on_workers": result.read_on_workers,
        "client_stages": {k: round(v, 3) for k, v in clock.items()},
        "partitions": len(result.partition_rows),
        "partition_rows_median": statistics.median(result.partition_rows),
        "partition_seconds_median": statistics.median(per_part),
        "partition_seconds_sum": sum(per_part),
        "partition_steps_median": {
            k: round(statistics.median(p.get(k, 0.0) for p in result.partition_seconds), 3)
            for k in _STEPS
        },
        "rows": result.event_report.rows_loaded,
        "peak_mb": peak,
        "peak_over_imports_mb": peak - before,
    }


def _child(kind: str, events: Path, areas: Path, out: Path, partition_rows: int) -> None:
    """One measurement in this (fresh) process; its figures as JSON on the last line."""
    if kind == "single":
        figures = _baseline(events, areas, out)
    else:
        figures = _on_cluster(int(kind), events, areas, out, partition_rows)
    print(json.dumps(figures))


def _measure(kind: str, events: Path, areas: Path, out: Path, partition_rows: int) -> dict:
    command = [
        sys.executable,
        __file__,
        "--child",
        kind,
        str(events),
        str(areas),
        str(out),
        str(partition_rows),
    ]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the figures and return them as a dict."""
    argv = [] if argv is None else argv
    if argv[:1] == ["--child"]:
        kind, events, areas, out, rows = argv[1:]
        _child(kind, Path(events), Path(areas), Path(out), int(rows))
        return {}
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--versions", type=int, default=8_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--partition-rows", type=int, default=25_000)
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    args = parser.parse_args(argv)
    if not distributed.dask_installed():
        raise SystemExit(distributed.DASK_MISSING)

    directory, made, _ = dataset(
        args.events, args.versions, seed=args.seed, layout="acled", cache_dir=args.cache_dir
    )
    events, areas = directory / EVENTS_FILE, directory / AREAS_FILE
    out = Path(tempfile.mkdtemp(prefix="conflictmap-bench-dask-"))
    try:
        single = _measure("single", events, areas, out, args.partition_rows)
        runs = {w: _measure(str(w), events, areas, out, args.partition_rows) for w in (1, 2)}
    finally:
        shutil.rmtree(out, ignore_errors=True)
    one, two = runs[1], runs[2]

    def on_workers(run: dict[str, Any]) -> float:
        stages = run["client_stages"]
        return sum(stages.get(k, 0.0) for k in ("read", "validate", "compute"))

    figures: dict[str, Any] = {
        "events": made["events"],
        "area_versions": made["areas"],
        "partition_rows": args.partition_rows,
        "partitions": one["partitions"],
        "read_on_workers": one["read_on_workers"] and two["read_on_workers"],
        "single_process_seconds": single["seconds"],
        "cluster_start_seconds": {
            "1": one["cluster_start_seconds"],
            "2": two["cluster_start_seconds"],
        },
        "dask_seconds": {"1": one["seconds"], "2": two["seconds"]},
        "dask_client_stages_1_worker": one["client_stages"],
        "dask_client_stages_2_workers": two["client_stages"],
        "worker_stages_seconds": {"1": on_workers(one), "2": on_workers(two)},
        "worker_stages_speedup_2_over_1": on_workers(one) / on_workers(two),
        "total_speedup_2_over_1": one["seconds"] / two["seconds"],
        "dask_2_workers_over_single_process": two["seconds"] / single["seconds"],
        "partition_seconds_median": one["partition_seconds_median"],
        "partition_steps_median": one["partition_steps_median"],
        "partition_us_per_row": 1e6
        * one["partition_seconds_median"]
        / one["partition_rows_median"],
        "peak_mb": {
            "single": single["peak_mb"],
            "client_1": one["peak_mb"],
            "client_2": two["peak_mb"],
        },
        "peak_over_imports_mb": {
            "single": single["peak_over_imports_mb"],
            "client_1": one["peak_over_imports_mb"],
            "client_2": two["peak_over_imports_mb"],
        },
        "client_peak_over_single_peak": two["peak_over_imports_mb"]
        / single["peak_over_imports_mb"],
        "rows_equal": single["rows"] == one["rows"] == two["rows"],
    }
    for key, value in figures.items():
        print(f"{key}: {value}")
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
