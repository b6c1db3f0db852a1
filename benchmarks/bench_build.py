"""Benchmark: ``build`` (read, validate, geocode, join) of 1M ACLED-style rows vs a per-row path.

Run::

    .venv/bin/python benchmarks/bench_build.py [--events 1000000 --versions 40000]
    .venv/bin/python benchmarks/bench_build.py --profile 200000   # where the time goes

Data: :mod:`dashboard.synth` (what ``conflictmap synth`` writes): ``--events`` rows in the
current 31-column ACLED layout, events clustered around real towns, ~10 % with only a place
name in varied spellings (Latin and Arabic), and ``--versions`` irregular control-area
polygon versions (200 vertices) in GeoParquet. Generated once into ``--cache-dir`` (default
``$TMPDIR/conflictmap-bench``, outside the checkout), keyed on the sizes, the seed and a hash
of ``dashboard/synth.py``; generation runs in a child process so its memory is not counted.

Ours, twice:

1. :func:`dashboard.pipeline.build` end to end, with a progress callback (as the CLI runs
   it): wall and CPU seconds, peak RSS of this process right after it (nothing heavier has
   run before it), and which stages reported progress.
2. The same steps called one by one, as ``build`` calls them, for a per-stage breakdown:
   ``read_events``, ``validate_events``, ``geocode_events`` (loading the gazetteer),
   ``load_areas`` (reads and checks the area file), ``join_events_to_areas``; the
   gazetteer cache is cleared first so the geocode stage includes its load, as in a fresh
   process. Skip with ``--no-stages``. The read stage is timed twice: as ``build`` reads
   (the pyarrow fast path of ``dashboard.readers.fastcsv`` when the file allows it) and,
   as ``read_csv``, with ``read_events(..., fast=False)`` (the csv module only); skip the
   second with ``--no-slow-read``.

Baseline: the per-row path one writes first, on the first ``--baseline-sample`` rows (20k),
extrapolated linearly to all rows (the output says so): ``pandas.read_csv``;
``dateutil.parser.parse`` per row; for rows without coordinates, ``rapidfuzz``
``process.extractOne`` per row over the raw GeoNames names of the row's country
(``bench_geocode.naive_geocode``); ``geopandas.sjoin`` against every polygon version, then
the date filter (``bench_join.naive_join``). Reading the area file
(``geopandas.read_parquet``) is timed once and not scaled. The baseline checks much less
than ``build`` (no validation report, no name normalisation, no ambiguity handling): it is a
lower bound of what the per-row path costs.

``--profile N`` runs cProfile over ``read_events`` and ``validate_events`` on the first N
rows and over ``load_areas`` on the full area file, and prints the top functions.

This is not a timed test: the machine is shared and noisy (2 cores); read the ratio.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import hashlib
import io
import json
import pstats
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from dateutil import parser as dateparser

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_geocode import naive_geocode
from benchmarks.bench_join import naive_join
from dashboard import gazetteer as gazetteer_data
from dashboard import schema
from dashboard.gazetteer import DEFAULT_THRESHOLD
from dashboard.geocoding import geocode_events
from dashboard.pipeline import BuildSettings, build, load_areas
from dashboard.readers import read_events
from dashboard.spatial import join_events_to_areas
from dashboard.synth import AREAS_FILE, EVENTS_FILE
from dashboard.validation import validate_events

DEFAULT_CACHE = Path(tempfile.gettempdir()) / "conflictmap-bench"
TARGET_SECONDS = 60.0
COUNTRIES = {"SY": "Syria", "IQ": "Iraq"}

_GENERATE = """
import json, resource, sys
from dashboard.synth import write_synthetic
out, events, areas, seed, layout = sys.argv[1:6]
r = write_synthetic(out, events=int(events), areas=int(areas), seed=int(seed), layout=layout)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": r.seconds, "events": r.events, "location_only": r.location_only,
                  "areas": r.areas, "peak_rss_mb": peak}))
"""


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def dataset(
    events: int, versions: int, *, seed: int, layout: str, cache_dir: Path
) -> tuple[Path, dict[str, Any], bool]:
    """The cached dataset's directory, its generation figures, and whether it was made now."""
    source = (ROOT / "dashboard" / "synth.py").read_bytes()
    key = f"{layout}-e{events}-a{versions}-s{seed}-{hashlib.sha256(source).hexdigest()[:10]}"
    directory = cache_dir / key
    stamp = directory / "synth.json"
    if (
        stamp.is_file()
        and (directory / EVENTS_FILE).is_file()
        and (directory / AREAS_FILE).is_file()
    ):
        return directory, json.loads(stamp.read_text()), False
    directory.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-c", _GENERATE, str(directory), str(events), str(versions), str(seed),
         layout],
        cwd=ROOT, check=True, capture_output=True, text=True,
    )  # fmt: skip
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    stamp.write_text(json.dumps(figures))
    return directory, figures, True


def run_build(events_path: Path, areas_path: Path) -> dict[str, Any]:
    """pipeline.build end to end with a progress callback; time, CPU, stages that reported."""
    updates: dict[str, int] = {}
    first_update: dict[str, float] = {}
    t, cpu = time.perf_counter(), time.process_time()

    def progress(stage: str, done: int, total: int) -> None:
        updates[stage] = updates.get(stage, 0) + 1
        first_update.setdefault(stage, round(time.perf_counter() - t, 1))

    result = build(events_path, [areas_path], progress=progress)
    seconds, cpu_seconds = time.perf_counter() - t, time.process_time() - cpu
    summary = result.summary()
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "peak_rss_mb": _peak_rss_mb(),
        "progress_updates": updates,
        "first_progress_at_seconds": first_update,
        "rows_in": summary["rows_in"],
        "rows_loaded": summary["rows_loaded"],
        "rows_rejected": summary["rows_rejected"],
        "geocoded": summary["geocoded"],
        "unknown_controller": int(result.events[schema.CONTROLLER].eq(schema.UNKNOWN).sum()),
    }


def run_stages(
    events_path: Path, areas_path: Path, *, slow_read: bool = True
) -> dict[str, dict[str, float]]:
    """The steps of build() one by one: wall and CPU seconds of each.

    With ``slow_read``, the read stage again without the fast path (``read_csv``).
    """
    stages: dict[str, dict[str, float]] = {}

    def timed(name: str, func: Callable[..., Any], *args: Any) -> Any:
        t, cpu = time.perf_counter(), time.process_time()
        out = func(*args)
        stages[name] = {
            "seconds": round(time.perf_counter() - t, 2),
            "cpu_seconds": round(time.process_time() - cpu, 2),
        }
        print(f"  {name:<10} {stages[name]['seconds']:7.2f} s", flush=True)
        return out

    gazetteer_data._cached_gazetteer.cache_clear()  # a cold gazetteer load, as in a fresh build
    gazetteer_data.geonames_places.cache_clear()
    read = timed("read", read_events, events_path)
    how = "the pyarrow fast path" if read.parser == "pyarrow" else f"csv ({read.fallback})"
    print(f"             read with {how}", flush=True)
    if slow_read:
        slow = timed("read_csv", lambda path: read_events(path, fast=False), events_path)
        del slow
        gc.collect()
        ratio = stages["read_csv"]["seconds"] / max(stages["read"]["seconds"], 0.01)
        print(f"             read: {ratio:.1f} x faster than the csv-module path", flush=True)
    checked = timed("validate", validate_events, read)
    del read

    def geocode(events: pd.DataFrame) -> Any:
        settings = BuildSettings()  # as build() geocodes: it loads the gazetteer it needs
        return geocode_events(
            events, countries=settings.countries, threshold=settings.fuzzy_threshold
        )

    geocoded = timed("geocode", geocode, checked.events)
    del checked
    areas = timed("areas", load_areas, [areas_path])
    timed("join", join_events_to_areas, geocoded.events, areas.areas)
    return stages


def run_baseline(events_path: Path, areas_path: Path, *, sample: int, total: int) -> dict[str, Any]:
    """The per-row path on the first ``sample`` rows, extrapolated linearly to ``total``."""
    times: dict[str, float] = {}

    t = time.perf_counter()
    areas = gpd.read_parquet(areas_path)
    places = list(gazetteer_data.geonames_places(tuple(sorted(COUNTRIES))))
    times["fixed_areas_and_names"] = time.perf_counter() - t

    t = time.perf_counter()
    frame = pd.read_csv(events_path, nrows=sample, dtype=str, keep_default_na=False)
    times["read_csv"] = time.perf_counter() - t

    t = time.perf_counter()
    days = [dateparser.parse(text, dayfirst=True) for text in frame["event_date"]]
    times["dateutil_per_row"] = time.perf_counter() - t

    lat = pd.to_numeric(frame["latitude"], errors="coerce").to_numpy(dtype="float64", copy=True)
    lon = pd.to_numeric(frame["longitude"], errors="coerce").to_numpy(dtype="float64", copy=True)
    todo = np.flatnonzero(np.isnan(lat) | np.isnan(lon))
    t = time.perf_counter()
    found = naive_geocode(
        frame["location"].iloc[todo].tolist(),
        frame["country"].iloc[todo].tolist(),
        places,
        DEFAULT_THRESHOLD,
    )
    times["rapidfuzz_per_row"] = time.perf_counter() - t
    lat[todo] = [p[0] for p in found]
    lon[todo] = [p[1] for p in found]

    events = pd.DataFrame(
        {schema.EVENT_DATE: pd.to_datetime(days), schema.LATITUDE: lat, schema.LONGITUDE: lon}
    ).dropna(subset=[schema.LATITUDE, schema.LONGITUDE])
    t = time.perf_counter()
    naive_join(events, areas)
    times["sjoin_then_filter"] = time.perf_counter() - t

    scale = total / sample
    per_row = sum(v for k, v in times.items() if not k.startswith("fixed"))
    return {
        "sample_rows": sample,
        "sample_seconds": {k: round(v, 3) for k, v in times.items()},
        "extrapolated_seconds": {
            k: round(v if k.startswith("fixed") else v * scale, 1) for k, v in times.items()
        },
        "seconds": times["fixed_areas_and_names"] + per_row * scale,
        "unplaced_rows_in_sample": int(len(frame) - len(events)),
    }


def profile(areas_path: Path, *, rows: int, cache_dir: Path, seed: int) -> None:
    """cProfile read + validate on ``rows`` rows, and the area load; print the top functions."""
    directory, _, _ = dataset(rows, 100, seed=seed, layout="acled", cache_dir=cache_dir)

    def profiled(title: str, func: Any, *args: Any) -> Any:
        prof = cProfile.Profile()
        t = time.perf_counter()
        prof.enable()
        out = func(*args)
        prof.disable()
        print(f"--- {title}: {time.perf_counter() - t:.2f} s under the profiler; top by own time")
        text = io.StringIO()
        pstats.Stats(prof, stream=text).strip_dirs().sort_stats("tottime").print_stats(12)
        print("\n".join(line for line in text.getvalue().splitlines() if line.strip()))
        return out

    read = profiled(f"read_events, {rows:,} rows", read_events, directory / EVENTS_FILE)
    profiled(f"validate_events, {rows:,} rows", validate_events, read)
    profiled(f"load_areas, {areas_path.name}", load_areas, [areas_path])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the figures and return them as a dict.

    ``argv`` None means the defaults (as when ``benchmarks/run_all.py`` calls ``main()``).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--versions", type=int, default=40_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--layout", choices=["acled", "canonical"], default="acled")
    parser.add_argument("--baseline-sample", type=int, default=20_000)
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--no-stages", action="store_true", help="skip the per-stage run")
    parser.add_argument("--no-slow-read", action="store_true",
                        help="in the per-stage run, skip the read without the fast path")  # fmt: skip
    parser.add_argument("--profile", type=int, default=0, metavar="ROWS",
                        help="also cProfile read/validate on ROWS rows and the area load")  # fmt: skip
    args = parser.parse_args([] if argv is None else argv)

    directory, made, generated = dataset(
        args.events, args.versions, seed=args.seed, layout=args.layout, cache_dir=args.cache_dir
    )
    events_path, areas_path = directory / EVENTS_FILE, directory / AREAS_FILE
    how = "generated now" if generated else f"cached in {directory}"
    print(
        f"data: {made['events']:,} events ({made['location_only']:,} with only a place name), "
        f"{made['areas']:,} area versions; synth took {made['seconds']:.1f} s ({how})",
        flush=True,
    )

    ours = run_build(events_path, areas_path)
    print(
        f"build:    {ours['seconds']:8.2f} s  ({ours['cpu_seconds']:.2f} s CPU, peak RSS "
        f"{ours['peak_rss_mb']:,.0f} MB); {ours['rows_loaded']:,} loaded, "
        f"{ours['rows_rejected']:,} set aside",
        flush=True,
    )
    print(f"progress reported by stage: {ours['progress_updates']} (first update at "
          f"{ours['first_progress_at_seconds']} s)")  # fmt: skip
    gc.collect()

    stages: dict[str, dict[str, float]] = {}
    if not args.no_stages:
        print("stages, called one by one as build() does:", flush=True)
        stages = run_stages(events_path, areas_path, slow_read=not args.no_slow_read)
        gc.collect()

    k = min(args.baseline_sample, made["events"])
    base = run_baseline(events_path, areas_path, sample=k, total=made["events"])
    parts = ", ".join(f"{name} {s:.1f} s" for name, s in base["extrapolated_seconds"].items())
    print(
        f"baseline: {base['seconds']:8.2f} s  (per-row path measured on {k:,} rows, "
        f"extrapolated linearly; {parts})"
    )
    ratio = base["seconds"] / ours["seconds"]
    print(f"ratio:    {ratio:8.1f} x   target: build <= {TARGET_SECONDS:.0f} s "
          f"({'met' if ours['seconds'] <= TARGET_SECONDS else 'NOT met'})")  # fmt: skip

    figures: dict[str, Any] = {
        "events": made["events"],
        "location_only_rows": made["location_only"],
        "area_versions": made["areas"],
        "synth_seconds": round(made["seconds"], 2),
        "synth_peak_rss_mb": round(made["peak_rss_mb"], 0),
        "build_seconds": round(ours["seconds"], 2),
        "build_cpu_seconds": round(ours["cpu_seconds"], 2),
        "build_peak_rss_mb": round(ours["peak_rss_mb"], 0),
        "rows_loaded": ours["rows_loaded"],
        "rows_rejected": ours["rows_rejected"],
        "geocoded": ours["geocoded"],
        "progress_updates": ours["progress_updates"],
        "stage_seconds": {name: s["seconds"] for name, s in stages.items()},
        "stage_cpu_seconds": {name: s["cpu_seconds"] for name, s in stages.items()},
        "baseline_seconds": round(base["seconds"], 1),
        "baseline_measured_on_rows": k,
        "baseline_extrapolated": k < made["events"],
        "baseline_parts_seconds": base["extrapolated_seconds"],
        "ratio": round(ratio, 1),
        "target_seconds": TARGET_SECONDS,
        "target_met": ours["seconds"] <= TARGET_SECONDS,
    }
    if args.profile:
        profile(areas_path, rows=args.profile, cache_dir=args.cache_dir, seed=args.seed)
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
