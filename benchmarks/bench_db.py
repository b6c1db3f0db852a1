"""Benchmark: the app's PostGIS mode on 1M events (load, start, one view, timeline, memory),
each figure next to the in-process (file mode) baseline measured in the same run.

Run::

    .venv/bin/python benchmarks/bench_db.py [--events 1000000 --areas 4000 --dates 20]
    CONFLICTMAP_BENCH_DB=postgresql://user@host/scratch .venv/bin/python benchmarks/bench_db.py

Data: ``conflictmap synth`` (:func:`dashboard.synth.write_synthetic`, seed 0, ACLED layout,
4,000 control-area versions), generated once into ``benchmarks/.data/`` by
``bench_build.dataset`` (the same set ``bench_app`` uses).

The database: ``CONFLICTMAP_BENCH_DB`` when set (a scratch database: its ``conflictmap``
schema is dropped and made again), otherwise a throw-away PostgreSQL cluster
(``tests/pgcluster.py``; durability off, as for the tests), removed at the end.

Measured in one run, ours first, then the baseline:

1. load: ``conflictmap db load`` (build + merge into the database, in a child process: the
   command a team runs) vs ``pipeline.build`` alone in this process. ``VACUUM ANALYZE``
   after the load is timed apart (the load leaves statistics to autovacuum).
2. app start: in a fresh process each, after importing the same modules: DB mode's
   ``DbStore.facts()`` + ``areas_at(None)`` + ``counted_options`` vs file mode's warm start
   (the on-disk Parquet copy of the build read back, sorted, indexed and
   ``dataset_options``: ``buildcache.read_copy`` + ``loaders._dataset``, as the app
   does). Seconds, rows and bytes that reached the process (DB: the values' bytes as the
   server sent them; files: the Parquet files' size), resident memory after, growth and
   peak (VmRSS, VmHWM).
3. one view, on ``--dates`` random as-of dates: ``DbStore.view``, what the app asks (30- and
   365-day windows; without a bounding box, and with the box of a zoom-7 map around the
   densest 1-degree cell of the data) vs the in-memory ``timewindow.select`` + the rows
   taken (what file mode does before it draws a view from memory). p50/p95
   and the rows returned; also whether every view's count agrees with the in-memory one.
4. the timeline: ``daily_counts(Filters())`` vs the in-memory ``period_counts`` of the
   filtered events (as ``page._prepared``), median of 3.

The machine is shared and noisy (2 cores, the database server on the same machine): read
the ratios of one run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))
# tests/ is not a package: its folder goes on the path so that the throw-away cluster of
# the database tests (tests/pgcluster.py, no pytest in it) starts ours too.
if str(ROOT / "tests") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests"))

from benchmarks.bench_build import dataset
from dashboard.synth import AREAS_FILE, EVENTS_FILE

DATA_DIR = HERE / ".data"
#: The on-disk copy of the build the file-mode start reads back (as the app's cache).
FILE_CACHE = DATA_DIR / "db-bench-cache"
BENCH_DB_ENV = "CONFLICTMAP_BENCH_DB"
#: For the throw-away cluster: room for a 1M-row load (the defaults are sized for a laptop
#: of 2005); durability is already off (pgcluster).
CLUSTER_SETTINGS = (
    "-c shared_buffers=512MB -c maintenance_work_mem=256MB -c work_mem=32MB "
    "-c max_wal_size=4GB -c synchronous_commit=off"
)
WINDOWS = (30, 365)
ZOOM = 7


# --- the database -----------------------------------------------------------------------------


@contextmanager
def _database() -> Iterator[tuple[str, str]]:
    """A PostGIS URL with an empty ``conflictmap`` schema, and where it comes from."""
    configured = os.environ.get(BENCH_DB_ENV, "").strip()
    if configured:
        yield _emptied(configured), f"${BENCH_DB_ENV}"
        return
    from pgcluster import throwaway_cluster

    with throwaway_cluster(db_name="conflictmap_bench", settings=CLUSTER_SETTINGS) as url:
        yield _emptied(url), "throw-away cluster (tests/pgcluster.py)"


def _emptied(url: str) -> str:
    from dashboard import store as pgstore

    engine = pgstore.connect(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {pgstore.SCHEMA} CASCADE")
    pgstore.init_schema(engine)
    engine.dispose()
    return url


class Wire:
    """Counts what the statements of one engine return: statements, rows, and the bytes of
    the values as the server sent them (libpq's value of each field; for a fetch through
    COPY, the CSV's bytes). Counting costs a
    Python call per value: it is switched off (``on``) around timed calls that fetch many
    rows."""

    def __init__(self, engine: Any) -> None:
        from sqlalchemy import event

        self.statements = self.rows = self.bytes = 0
        self.on = True
        event.listen(engine, "after_cursor_execute", self._count)

    def _count(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        from dashboard.store.read import COPIED_BYTES

        result = getattr(cursor, "pgresult", None)
        if not self.on or result is None:
            return
        self.statements += 1
        if statement.startswith("COPY ("):  # rows fetched as CSV: the bytes read
            self.rows += max(cursor.rowcount, 0)
            self.bytes += conn.info.get(COPIED_BYTES, 0)
            return
        self.rows += result.ntuples
        for r in range(result.ntuples):
            for c in range(result.nfields):
                value = result.get_value(r, c)
                self.bytes += 0 if value is None else len(value)

    def reset(self) -> None:
        self.statements = self.rows = self.bytes = 0


# --- the start of an app process (run in a child, for its memory) ----------------------------


def _memory() -> dict[str, float]:
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) / 1024
    return found


def _start_db(url: str) -> dict[str, Any]:
    from dashboard.store import DbStore
    from dashboard.viewstate import counted_options

    before = _memory()
    t = time.perf_counter()
    store = DbStore(url)
    wire = Wire(store.engine)
    facts = store.facts()
    t_facts = time.perf_counter()
    areas = store.areas_at(None)
    t_areas = time.perf_counter()
    options = counted_options(facts.daily, facts.values, facts.actors, areas)
    done = time.perf_counter()
    after = _memory()
    return {
        "seconds": done - t,
        "facts_seconds": t_facts - t,
        "areas_seconds": t_areas - t_facts,
        "options_seconds": done - t_areas,
        "statements": wire.statements,
        "rows": wire.rows,
        "bytes": wire.bytes,
        "events": int(facts.daily.sum()),
        "first_last": [options.first.isoformat(), options.last.isoformat()],
        "rss_before_mb": before["VmRSS"],
        "rss_after_mb": after["VmRSS"],
        "peak_mb": after["VmHWM"],
    }


def _start_files(folder: str) -> dict[str, Any]:
    from dashboard import buildcache
    from dashboard.app import loaders

    before = _memory()
    t = time.perf_counter()
    built = buildcache.read_copy(Path(folder))
    if built is None:
        raise RuntimeError(f"no build cache in {folder}")
    t_read = time.perf_counter()
    ds = loaders._dataset(built, events_name=EVENTS_FILE, areas_names=(AREAS_FILE,))
    done = time.perf_counter()
    after = _memory()
    files = [p for p in Path(folder).iterdir() if p.suffix == ".parquet"]
    return {
        "seconds": done - t,
        "read_seconds": t_read - t,
        "dataset_seconds": done - t_read,
        "rows": len(built.events) + len(built.areas),
        "bytes": sum(p.stat().st_size for p in files),
        "events": len(ds.events),
        "first_last": [ds.options.first.isoformat(), ds.options.last.isoformat()],
        "rss_before_mb": before["VmRSS"],
        "rss_after_mb": after["VmRSS"],
        "peak_mb": after["VmHWM"],
    }


def _child(kind: str, argument: str) -> None:
    # Both kinds import the same modules before measuring, so "before" is the same process.
    import dashboard.app.loaders
    import dashboard.store
    import dashboard.viewstate  # noqa: F401

    figures = _start_db(argument) if kind == "db" else _start_files(argument)
    print(json.dumps(figures))


def _start_in_child(kind: str, argument: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", kind, argument],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=1200,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"the {kind} start failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the parent's steps ----------------------------------------------------------------------


def _load_with_cli(url: str, events: Path, areas: Path) -> dict[str, Any]:
    """``conflictmap db load`` in a child process; wall seconds and its own split."""
    t = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "dashboard", "db", "load", str(events), "--areas", str(areas),
         "--db", url, "--json"],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=3600,
    )  # fmt: skip
    seconds = time.perf_counter() - t
    if done.returncode != 0:
        raise RuntimeError(f"db load failed:\n{done.stderr[-3000:]}")
    text = done.stdout
    summary = json.loads(text[text.index("{") :])
    return {"seconds": seconds, **summary}


def _vacuum_analyze(url: str) -> float:
    from dashboard import store as pgstore

    engine = pgstore.connect(url)
    t = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql(f"VACUUM ANALYZE {pgstore.SCHEMA}.events")
        conn.exec_driver_sql(f"VACUUM ANALYZE {pgstore.SCHEMA}.control_areas")
    seconds = time.perf_counter() - t
    engine.dispose()
    return seconds


def _densest_centre(events: Any) -> tuple[float, float]:
    """The centre of the 1-degree cell holding the most located events."""
    from dashboard import schema

    lat = events[schema.LATITUDE].to_numpy(dtype=float)
    lon = events[schema.LONGITUDE].to_numpy(dtype=float)
    ok = np.isfinite(lat) & np.isfinite(lon)
    cells = np.floor(lat[ok]).astype(np.int64) * 1000 + np.floor(lon[ok]).astype(np.int64)
    values, counts = np.unique(cells, return_counts=True)
    best = int(values[np.argmax(counts)])
    cell_lat, cell_lon = divmod(best, 1000)
    if cell_lon >= 500:  # divmod of a negative longitude
        cell_lat, cell_lon = cell_lat + 1, cell_lon - 1000
    return cell_lat + 0.5, cell_lon + 0.5


def _timed(call: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = call()
    return time.perf_counter() - t, out


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _ms(seconds: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(seconds) * 1000, 1),
        "p95_ms": round(_pct(seconds, 0.95) * 1000, 1),
    }


def _views(store: Any, ds: Any, dates: list[dt.date], bbox: Any) -> dict[str, Any]:
    """Ours (``DbStore.view``, what the app asks per view: the window's counts, then the
    events inside the box, with every column up to 20,000 of them, else the columns the
    hexagons need plus the 1,000 newest rows for the table; with and without ``bbox``) and
    the in-memory select."""
    from dashboard.timewindow import Filters, select

    filters = Filters()
    wire = Wire(store.engine)
    out: dict[str, Any] = {}
    agree = True
    for window in WINDOWS:
        select(ds.events, ds.index, as_of=dates[0], window_days=window, filters=filters)
        for label, box in (("no_bbox", None), (f"bbox_zoom{ZOOM}", bbox)):
            # An untimed first view (the pool's connection, the plans, the cache), counted.
            wire.on = True
            wire.reset()
            store.view(dates[0], window, filters, box)
            first_mb = wire.bytes / 1e6
            wire.on = False
            times, rows, aggregated = [], [], 0
            for day in dates:
                seconds, got = _timed(
                    lambda day=day, box=box, window=window: store.view(day, window, filters, box)
                )
                times.append(seconds)
                rows.append(len(got.events))
                aggregated += got.newest is not None
                if box is None:
                    agree &= got.counts.shown == len(got.events)
            out[f"db_view_{window}d_{label}"] = {
                **_ms(times),
                "rows_median": int(statistics.median(rows)),
                "views_aggregated": aggregated,
                f"mb_fetched_on_{dates[0]}": round(first_mb, 2),
            }

        def in_memory(day: dt.date, window: int = window) -> Any:
            sel = select(ds.events, ds.index, as_of=day, window_days=window, filters=filters)
            return ds.events.iloc[sel.positions]

        times, rows = [], []
        for day in dates:
            seconds, shown = _timed(lambda day=day: in_memory(day))
            times.append(seconds)
            rows.append(len(shown))
            agree &= store.window_counts(day, window, filters).shown == len(shown)
        out[f"baseline_memory_view_{window}d"] = {
            **_ms(times),
            "rows_median": int(statistics.median(rows)),
        }
        db_p50 = out[f"db_view_{window}d_bbox_zoom{ZOOM}"]["p50_ms"]
        out[f"db_bbox_view_{window}d_over_memory_p50"] = round(
            db_p50 / max(out[f"baseline_memory_view_{window}d"]["p50_ms"], 0.1), 1
        )
    out["view_counts_agree_with_memory"] = bool(agree)
    return out


def _timeline(store: Any, ds: Any) -> dict[str, Any]:
    from dashboard import schema
    from dashboard.timewindow import Filters, combine, filter_masks, period_counts

    def in_memory() -> Any:
        masks = filter_masks(ds.events, Filters())
        kept = ds.events.loc[combine(masks, len(ds.events)), [schema.EVENT_DATE, schema.EVENT_TYPE]]
        return period_counts(kept, freq="D")

    ours = [_timed(lambda: store.daily_counts(Filters())) for _ in range(3)]
    base = [_timed(in_memory) for _ in range(3)]
    ours_s = statistics.median(s for s, _ in ours)
    base_s = statistics.median(s for s, _ in base)
    return {
        "db_daily_counts_s": round(ours_s, 3),
        "baseline_memory_period_counts_s": round(base_s, 3),
        "daily_counts_over_memory": round(ours_s / base_s, 1),
        "daily_counts_rows": len(ours[0][1]),
        "daily_counts_agree_with_memory": int(ours[0][1]["events"].sum())
        == int(base[0][1]["events"].sum()),
    }


def run(events: Path, areas: Path, *, n_dates: int, seed: int) -> dict[str, Any]:
    """Every measurement (see the module's docstring); the figures."""
    from dashboard import buildcache
    from dashboard.app import loaders
    from dashboard.layers.mapping import bbox_from_view
    from dashboard.pipeline import build
    from dashboard.store import DbStore

    figures: dict[str, Any] = {}
    # Baseline of step 1, and the in-memory dataset of steps 3-4 (as the app holds it).
    build_s, result = _timed(lambda: build(events, [areas]))
    built = buildcache.Built.of(result)
    FILE_CACHE.mkdir(parents=True, exist_ok=True)
    buildcache.write_copy(FILE_CACHE, "bench", built, source=str(events))
    ds = loaders._dataset(built, events_name=EVENTS_FILE, areas_names=(AREAS_FILE,))
    centre = _densest_centre(result.events)
    del result, built

    with _database() as (url, where):
        figures["database"] = where
        loaded = _load_with_cli(url, events, areas)
        figures["events_loaded"] = loaded["inserted"]
        figures["db_build_and_load_s"] = round(loaded["seconds"], 1)
        figures["db_load_split_s"] = {
            "build": loaded["seconds_build"], "load": loaded["seconds_load"]
        }  # fmt: skip
        figures["baseline_build_in_process_s"] = round(build_s, 1)
        figures["build_and_load_over_build"] = round(loaded["seconds"] / build_s, 2)
        figures["vacuum_analyze_after_load_s"] = round(_vacuum_analyze(url), 1)

        db_start = _start_in_child("db", url)
        file_start = _start_in_child("files", str(FILE_CACHE / "bench"))
        for name, start in (("db", db_start), ("baseline_files", file_start)):
            figures[f"{name}_start"] = {
                "seconds": round(start["seconds"], 2),
                "rows_fetched": start["rows"],
                "mb_fetched": round(start["bytes"] / 1e6, 2),
                "rss_after_mb": round(start["rss_after_mb"]),
                "rss_growth_mb": round(start["rss_after_mb"] - start["rss_before_mb"]),
                "peak_rss_mb": round(start["peak_mb"]),
            }
        figures["db_start_split_s"] = {
            k: round(db_start[f"{k}_seconds"], 2) for k in ("facts", "areas", "options")
        }
        figures["start_seconds_db_over_files"] = round(
            db_start["seconds"] / file_start["seconds"], 2
        )
        figures["start_rss_growth_db_over_files"] = round(
            (db_start["rss_after_mb"] - db_start["rss_before_mb"])
            / max(file_start["rss_after_mb"] - file_start["rss_before_mb"], 1.0),
            3,
        )
        figures["start_agree"] = (
            db_start["first_last"] == file_start["first_last"]
            and db_start["events"] == file_start["events"]
        )

        store = DbStore(url)
        rng = np.random.default_rng(seed)
        first = ds.options.first + dt.timedelta(days=max(WINDOWS))
        span = (ds.options.last - first).days
        dates = sorted(first + dt.timedelta(days=int(d)) for d in rng.integers(0, span, n_dates))
        bbox = bbox_from_view(centre, ZOOM)
        figures["view_dates"] = f"{n_dates} random, {dates[0]} to {dates[-1]}"
        figures["view_bbox"] = [round(v, 2) for v in bbox] if bbox else None
        figures.update(_views(store, ds, dates, bbox))
        figures.update(_timeline(store, ds))
        store.engine.dispose()
    return figures


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the figures and return them (``run_all`` calls ``main()``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--areas", type=int, default=4_000, help="control-area versions")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dates", type=int, default=20, help="random as-of dates per view")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "ARG"), help=argparse.SUPPRESS)
    args = parser.parse_args([] if argv is None else argv)
    if args.child:
        _child(*args.child)
        return {}

    directory, made, generated = dataset(
        args.events, args.areas, seed=args.seed, layout="acled", cache_dir=DATA_DIR
    )
    how = "generated now" if generated else f"reused from {directory}"
    print(f"data: {made['events']:,} events, {made['areas']:,} area versions ({how})", flush=True)
    figures = {"events": made["events"], "area_versions": made["areas"]}
    figures.update(
        run(directory / EVENTS_FILE, directory / AREAS_FILE, n_dates=args.dates, seed=args.seed)
    )
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {json.dumps(value) if isinstance(value, (dict, list)) else value}")
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
