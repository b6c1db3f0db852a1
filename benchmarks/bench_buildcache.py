"""Benchmark: reading the on-disk copy of a 1M-event build back, checked vs unchecked.

Run::

    .venv/bin/python benchmarks/bench_buildcache.py [--events 1000000 --areas 4000 --repeat 5]

Data: ``conflictmap synth`` (seed 0, ACLED layout, 4,000 control-area versions), generated
once into ``benchmarks/.data/`` by ``bench_build.dataset`` (the set ``bench_app`` and
``bench_db`` use). Its build is written once with ``buildcache.write_copy`` into
``benchmarks/.data/buildcache-bench/`` under its ``disk_key`` and reused while the inputs
and the code are unchanged (the first run builds: about 20 s).

Measured in one run, alternating, median of ``--repeat``:

- ours: ``buildcache.read_copy``, what the app does on every start: each file read once,
  its size and SHA-256 checked, then parsed from those bytes;
- baseline: the same files read as the cache read them before it checked anything
  (``pandas.read_parquet`` / ``geopandas.read_parquet`` on the paths, ``meta.json`` parsed,
  the datetime units restored);
- the hashing alone (read the bytes, SHA-256), for scale.

The ratio ours / baseline is the cost of the check on load. The machine is shared and noisy
(2 cores): read the ratio of one run.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from benchmarks.bench_build import dataset
from dashboard import buildcache
from dashboard.synth import AREAS_FILE, EVENTS_FILE

DATA_DIR = HERE / ".data"
COPIES = DATA_DIR / "buildcache-bench"


def _copy(events: Path, areas: Path) -> tuple[Path, bool]:
    """The folder of the build's copy, and whether it was built now."""
    key = buildcache.disk_key([events, areas])
    if key is None:
        raise RuntimeError(f"cannot read {events} or {areas}")
    folder = COPIES / key
    if buildcache.read_copy(folder) is not None:
        return folder, False
    from dashboard.pipeline import build

    print("building the copy once (about 20 s at 1M events)…", flush=True)
    built = buildcache.Built.of(build(events, [areas]))
    COPIES.mkdir(parents=True, exist_ok=True)
    buildcache.write_copy(COPIES, key, built, source=str(events))
    return folder, True


def _unchecked(folder: Path) -> int:
    """The copy read as before the checksums: straight from the paths, nothing checked."""
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    events = pd.read_parquet(folder / "events.parquet")
    areas = gpd.read_parquet(folder / "areas.parquet")
    pd.read_parquet(folder / "rejected.parquet")
    for frame, dtypes in ((events, meta["events_dtypes"]), (areas, meta["areas_dtypes"])):
        for column, dtype in dtypes.items():
            if dtype.startswith("datetime64") and str(frame[column].dtype) != dtype:
                frame[column] = frame[column].astype(dtype)
    return len(events)


def _checked(folder: Path) -> int:
    built = buildcache.read_copy(folder)
    if built is None:
        raise RuntimeError(f"the copy in {folder} did not pass its check")
    return len(built.events)


def _hash_only(folder: Path) -> int:
    total = 0
    for name in buildcache.STORED_FILES:
        data = (folder / name).read_bytes()
        hashlib.sha256(data).hexdigest()
        total += len(data)
    return total


def _medians(runs: dict[str, Callable[[], Any]], repeat: int) -> dict[str, float]:
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, func in runs.items():  # alternating: drift hits every one alike
            t = time.perf_counter()
            func()
            times[name].append(time.perf_counter() - t)
    return {name: statistics.median(values) for name, values in times.items()}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the figures and return them (``run_all`` calls ``main()``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--areas", type=int, default=4_000, help="control-area versions")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args([] if argv is None else argv)

    directory, made, generated = dataset(
        args.events, args.areas, seed=args.seed, layout="acled", cache_dir=DATA_DIR
    )
    how = "generated now" if generated else f"reused from {directory}"
    print(f"data: {made['events']:,} events, {made['areas']:,} area versions ({how})", flush=True)
    folder, built_now = _copy(directory / EVENTS_FILE, directory / AREAS_FILE)
    sizes = {name: (folder / name).stat().st_size for name in buildcache.STORED_FILES}
    total_mb = sum(sizes.values()) / 1e6
    print(f"copy: {folder} ({'built now' if built_now else 'reused'}), {total_mb:.1f} MB: "
          + ", ".join(f"{name} {size / 1e6:.1f} MB" for name, size in sizes.items()))  # fmt: skip

    _unchecked(folder), _checked(folder)  # warm the page cache: both read from memory
    medians = _medians(
        {"checked": lambda: _checked(folder), "unchecked": lambda: _unchecked(folder),
         "hash_only": lambda: _hash_only(folder)},
        args.repeat,
    )  # fmt: skip
    ratio = medians["checked"] / medians["unchecked"]
    print(f"load, checked (ours):     {medians['checked']:.3f} s  (median of {args.repeat})")
    print(f"load, unchecked (before): {medians['unchecked']:.3f} s")
    print(f"ratio checked / unchecked: {ratio:.2f}")
    print(f"hashing alone: {medians['hash_only']:.3f} s "
          f"({total_mb / medians['hash_only']:,.0f} MB/s)")  # fmt: skip
    return {
        "events": made["events"],
        "area_versions": made["areas"],
        "copy_mb": round(total_mb, 1),
        "copy_mb_by_file": {name: round(size / 1e6, 2) for name, size in sizes.items()},
        "load_checked_s": round(medians["checked"], 3),
        "baseline_load_unchecked_s": round(medians["unchecked"], 3),
        "checked_over_unchecked": round(ratio, 2),
        "hash_only_s": round(medians["hash_only"], 3),
        "hash_mb_per_s": round(total_mb / medians["hash_only"]),
        "repeat": args.repeat,
    }


if __name__ == "__main__":
    main(sys.argv[1:])
