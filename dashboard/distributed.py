"""The build on a Dask cluster: geocode and join partitioned, written as partitioned GeoParquet.

``conflictmap build EVENTS --dask local`` (a LocalCluster of worker processes on this
machine, 127.0.0.1 only, no dashboard) or ``--dask tcp://scheduler:8786`` (an existing
cluster) runs :func:`build_distributed`:

1. **Read and validate on the client**, once, with the project's own reader and validator.
   Both apply rules to the whole file that a partition cannot see: ACLED duplicates
   superseded by a later timestamp, duplicate ``event_id`` across the file, the file-wide
   day/month order of numeric dates, the share of rows with swapped coordinates. Doing it
   once keeps the answers identical to :func:`dashboard.pipeline.build` and every row number
   that of the original file. It is also the cheap part (about 2.5 s for 1M ACLED rows).
2. **Broadcast once**: the control areas (read and checked on the client) and the gazetteer
   (loaded on the client for ``--country`` or the countries of the rows to geocode, exactly
   as the single-process build chooses it) are scattered to every worker; every task
   receives the same two futures.
3. **Geocode and join per partition** of ``partition_rows`` consecutive validated rows:
   each task calls :func:`dashboard.geocoding.geocode_events` and
   :func:`dashboard.spatial.join_events_to_areas` (both give each row an answer that depends
   only on that row, the gazetteer and the areas) and writes its rows as
   ``OUT/part.NNNNN.parquet``; only counts and the unmatched rows travel back.

The output is a directory of GeoParquet files (read it with ``geopandas.read_parquet(OUT)``,
``dask_geopandas.read_parquet(OUT)``, or :func:`read_parts`, which keeps the original row
order); the rows set aside go to ``OUT.rejected.csv`` beside it, as in the single-process
build. ``rows_in == rows_loaded + rows_rejected`` holds as there.

One difference remains: the join refuses events whose coordinates are *all* outside lon/lat
range (projected coordinates); on a cluster that check sees one partition at a time.

Dask is an optional dependency: ``pip install 'conflictmap[dask]'``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from dashboard import schema
from dashboard.errors import InputFileError
from dashboard.geocoding import DEFAULT_THRESHOLD, Gazetteer, geocode_events
from dashboard.pipeline import BuildSettings, load_areas, write_rejected
from dashboard.readers import read_events
from dashboard.report import Problem, Report
from dashboard.spatial import join_events_to_areas
from dashboard.validation import validate_events

if TYPE_CHECKING:
    from distributed import Client

__all__ = [
    "DASK_MISSING",
    "DEFAULT_PARTITION_ROWS",
    "DistributedBuildResult",
    "build_distributed",
    "connect",
    "dask_installed",
    "read_parts",
]

#: Validated rows per task: large enough that the per-task overhead (a few ms of scheduling,
#: rebuilding the area index) is small next to the work, small enough to spread 1M rows.
DEFAULT_PARTITION_ROWS = 100_000

DASK_MISSING = "--dask needs the optional Dask dependencies: pip install 'conflictmap[dask]'"

_PART = "part.{:05d}.parquet"


@dataclass(frozen=True)
class _PartResult:
    """What one task sends back: counts and the few unmatched rows, never the events."""

    number: int
    path: str
    rows: int
    counts: dict[str, int]
    controllers: dict[str, int]
    unmatched: pd.DataFrame
    geocode_seconds: float
    join_seconds: float
    write_seconds: float


@dataclass
class DistributedBuildResult:
    """A build on a cluster: where the parts are, and everything but the events themselves."""

    output: Path
    parts: list[Path]
    rejected: pd.DataFrame
    event_report: Report
    area_report: Report
    geocode_counts: dict[str, int]
    controllers: dict[str, int]
    unmatched: pd.DataFrame
    input_format: str
    notes: list[Problem] = field(default_factory=list)
    partition_rows: list[int] = field(default_factory=list)
    partition_seconds: list[dict[str, float]] = field(default_factory=list)
    """Per partition: ``geocode``, ``join`` and ``write`` seconds measured inside its task."""
    client_seconds: dict[str, float] = field(default_factory=dict)
    """``read``, ``areas``, ``gazetteer``, ``scatter`` and ``compute`` (wall, on the client)."""

    def summary(self) -> dict[str, object]:
        """The single-process build's summary, plus the partition count."""
        return {
            "rows_in": self.event_report.rows_in,
            "rows_loaded": self.event_report.rows_loaded,
            "rows_rejected": self.event_report.rows_rejected,
            "input_format": self.input_format,
            "geocoded": dict(self.geocode_counts),
            "controllers": dict(self.controllers),
            "areas_loaded": self.area_report.rows_loaded,
            "areas_rejected": self.area_report.rows_rejected,
            "errors": len(self.event_report.errors),
            "warnings": len(self.event_report.warnings),
            "notes": [p.message for p in self.notes],
            "partitions": len(self.parts),
        }


def dask_installed() -> bool:
    """Whether the optional ``dask`` extra (``distributed``) can be imported."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        return False
    return True


def _distributed() -> Any:
    """The ``distributed`` module, or ImportError with the one-line install hint."""
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(DASK_MISSING) from exc
    return distributed


@contextmanager
def connect(address: str, *, workers: int | None = None) -> Iterator[Client]:
    """A Dask client: ``"local"`` starts a LocalCluster, anything else is a scheduler address.

    Parameters
    ----------
    address
        ``"local"``: worker processes on this machine (one single-threaded worker per core,
        or ``workers``), listening on 127.0.0.1 only (HTTP endpoints on a free port); they
        stop when the block ends. Otherwise the address of a running scheduler
        (``tcp://scheduler:8786``), which is left running.
    workers
        Worker processes of the local cluster (default: the machine's cores).

    Raises
    ------
    ImportError
        Dask is not installed (the message names the ``dask`` extra).
    """
    distributed = _distributed()
    if address != "local":
        with distributed.Client(address) as client:
            yield client
        return
    import logging

    with (
        distributed.LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,  # the steps are numpy/GEOS bound and hold the GIL in places
            processes=True,
            host="127.0.0.1",
            # The scheduler's HTTP endpoints (health, and the dashboard if bokeh is installed)
            # on a free port of 127.0.0.1: never public, never clashing with another cluster.
            dashboard_address="127.0.0.1:0",
            silence_logs=logging.ERROR,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def build_distributed(
    events_path: str | Path,
    area_paths: Sequence[str | Path] | None = None,
    *,
    client: Client,
    output: str | Path,
    settings: BuildSettings | None = None,
    partition_rows: int = DEFAULT_PARTITION_ROWS,
) -> DistributedBuildResult:
    """Run the build with geocoding and the join spread over a Dask cluster.

    Parameters
    ----------
    events_path, area_paths, settings
        As for :func:`dashboard.pipeline.build`.
    client
        A connected ``distributed.Client`` (see :func:`connect`).
    output
        The directory the parts are written to (``part.00000.parquet``, ...); earlier parts
        in it are removed. It must be reachable at the same path from every worker (always
        true for a local cluster; a shared file system otherwise). The rows set aside go to
        ``OUTPUT.rejected.csv`` beside it.
    partition_rows
        Validated rows per task.

    Returns
    -------
    DistributedBuildResult
        Same counts, set-aside rows and unmatched rows as the single-process build; the
        events are in the parts, in the original order.
    """
    if partition_rows < 1:
        raise ValueError(f"partition_rows must be positive, got {partition_rows!r}")
    settings = settings or BuildSettings()
    out = _prepare_output(Path(output))
    clock: dict[str, float] = {}

    t = time.perf_counter()
    read = read_events(events_path, format=settings.format, mapping=settings.mapping)
    checked = validate_events(read, dayfirst=settings.dayfirst)
    clock["read"] = time.perf_counter() - t

    t = time.perf_counter()
    areas = load_areas(area_paths, options=settings.areas)
    clock["areas"] = time.perf_counter() - t

    t = time.perf_counter()
    gazetteer, notes = _gazetteer_for(checked.events, settings)
    clock["gazetteer"] = time.perf_counter() - t

    t = time.perf_counter()
    # Broadcast once: every task gets the same futures, not its own copy through the graph.
    areas_future = client.scatter(areas.areas, broadcast=True)
    gazetteer_future = client.scatter(gazetteer, broadcast=True) if gazetteer else None
    events = checked.events
    bounds = range(0, len(events), partition_rows)
    part_futures = client.scatter([events.iloc[a : a + partition_rows] for a in bounds])
    clock["scatter"] = time.perf_counter() - t

    t = time.perf_counter()
    futures = [
        client.submit(
            _enrich_partition,
            number,
            part,
            gazetteer_future,
            areas_future,
            str(out / _PART.format(number)),
            threshold=settings.fuzzy_threshold,
            pure=False,
        )
        for number, part in enumerate(part_futures)
    ]
    parts: list[_PartResult] = sorted(client.gather(futures), key=lambda p: p.number)
    clock["compute"] = time.perf_counter() - t

    loaded = sum(p.rows for p in parts)
    if loaded != checked.report.rows_loaded:  # a lost or repeated partition: never silent
        raise RuntimeError(f"partitions hold {loaded} rows, {checked.report.rows_loaded} loaded")
    write_rejected(checked.rejected, out)  # beside the directory, as the single build does
    return DistributedBuildResult(
        output=out,
        parts=[Path(p.path) for p in parts],
        rejected=checked.rejected,
        event_report=checked.report,
        area_report=areas.report,
        geocode_counts=_sum_counts([p.counts for p in parts], schema.GEOCODE_METHODS),
        controllers=_controller_counts([p.controllers for p in parts]),
        unmatched=_concat_unmatched([p.unmatched for p in parts]),
        input_format=checked.format,
        notes=notes,
        partition_rows=[p.rows for p in parts],
        partition_seconds=[
            {"geocode": p.geocode_seconds, "join": p.join_seconds, "write": p.write_seconds}
            for p in parts
        ],
        client_seconds=clock,
    )


def read_parts(output: str | Path) -> gpd.GeoDataFrame:
    """The events of a partitioned build, in the original row order (parts in name order)."""
    parts = sorted(Path(output).glob("part.*.parquet"))
    if not parts:
        raise InputFileError(f"{str(output)!r} holds no part.*.parquet files")
    frames = [gpd.read_parquet(p) for p in parts]
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)


def rejected_path(output: str | Path) -> Path:
    """Where :func:`build_distributed` writes the rows set aside: ``OUTPUT.rejected.csv``."""
    return Path(output).with_suffix(".rejected.csv")


# --- steps -----------------------------------------------------------------------------------


def _prepare_output(out: Path) -> Path:
    """An empty-of-parts directory; a file in the way is an error, not overwritten."""
    if out.exists() and not out.is_dir():
        raise InputFileError(
            f"{str(out)!r} is a file; with --dask the output is a directory of parts"
        )
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("part.*.parquet"):
        old.unlink()
    return out


def _gazetteer_for(
    events: pd.DataFrame, settings: BuildSettings
) -> tuple[Gazetteer | None, list[Problem]]:
    """The gazetteer the single-process build would load for these rows, or None if unused."""
    from dashboard import geocoding

    lat = geocoding._numeric(events, schema.LATITUDE)
    lon = geocoding._numeric(events, schema.LONGITUDE)
    rows = np.flatnonzero(np.isnan(lat) | np.isnan(lon))
    if not rows.size or schema.LOCATION not in events.columns:
        return None, []  # nothing to look up (a missing location column errors in the task)
    # The same choice geocode_events makes on the whole frame: --country, else the countries
    # of the rows to geocode (with its note when none is recognised).
    keys = geocoding._key_frame(events, rows)
    return geocoding._default_gazetteer(settings.countries, keys[schema.COUNTRY], rows.size)


def _enrich_partition(
    number: int,
    events: pd.DataFrame,
    gazetteer: Gazetteer | None,
    areas: gpd.GeoDataFrame,
    path: str,
    *,
    threshold: float = DEFAULT_THRESHOLD,
) -> _PartResult:
    """One task: geocode and join a partition, write it, and report counts and timings."""
    t0 = time.perf_counter()
    geocoded = geocode_events(events, gazetteer=gazetteer, threshold=threshold)
    t1 = time.perf_counter()
    joined = join_events_to_areas(geocoded.events, areas)
    t2 = time.perf_counter()
    joined.to_parquet(path, index=False)
    t3 = time.perf_counter()
    controllers = joined[schema.CONTROLLER].value_counts()
    return _PartResult(
        number=number,
        path=path,
        rows=len(joined),
        counts=dict(geocoded.counts),
        controllers={str(k): int(v) for k, v in controllers.items()},
        unmatched=geocoded.unmatched,
        geocode_seconds=t1 - t0,
        join_seconds=t2 - t1,
        write_seconds=t3 - t2,
    )


def _sum_counts(counts: list[dict[str, int]], keys: Sequence[str]) -> dict[str, int]:
    return {k: sum(c.get(k, 0) for c in counts) for k in keys}


def _controller_counts(counts: list[dict[str, int]]) -> dict[str, int]:
    """Summed, most frequent first (ties by name), as ``value_counts`` orders them."""
    total: dict[str, int] = {}
    for c in counts:
        for name, n in c.items():
            total[name] = total.get(name, 0) + n
    return dict(sorted(total.items(), key=lambda kv: (-kv[1], kv[0])))


def _concat_unmatched(frames: list[pd.DataFrame]) -> pd.DataFrame:
    kept = [f for f in frames if len(f)]
    if not kept:
        return frames[0] if frames else pd.DataFrame()
    return pd.concat(kept)
