"""The build on a Dask cluster: read, validate, geocode and join partitioned; partitioned GeoParquet.

``conflictmap build EVENTS --dask local`` (a LocalCluster of worker processes on this
machine, 127.0.0.1 only, no dashboard) or ``--dask tcp://scheduler:8786`` (an existing
cluster) runs :func:`build_distributed`. The events file must be readable at the same path
from every worker, and the output directory writable from every worker.

1. **Plan, on the client, from the head of the file**: the file checks and the layout
   ``read_events`` makes (size, magic bytes, BOM, delimiter, header, format, renames, from
   the first 64 KB), then byte ranges of about ``partition_rows`` lines, cut after a line
   feed. Nothing else of the file is read here.
2. **Read, on the workers, per range** (``readers.fastcsv.read_range``): the same pyarrow
   parse and checks as the single build's fast path. Only the row count, and for ACLED
   files each row's ``(event_id, timestamp, row)``, come back; the rows stay on the
   workers.
3. **The whole-file rules, decided on the client from small per-partition facts**, with the
   same functions the single build calls: superseded ACLED versions
   (``readers.events.superseded_rows`` on the keys), how each date column is read
   (``dateparse.decide_date_order`` on each partition's ``DateFacts``: rows per form, one
   value proving each day/month order, spreadsheet-serial counts),
   duplicate ``event_id`` among otherwise valid rows (``validation.duplicate_ids`` on the ids
   of rows without errors), the file-level warnings (``validation.FileFacts`` summed: 'NA'
   cells, decimal commas, the share of swapped coordinates, missing ids), and the gazetteer
   (the countries of the rows to geocode, in the order first seen). Between these decisions
   the workers number the rows (row counts of the ranges before), set superseded versions
   aside, translate UCDP codes, and validate (``validation.validate_part`` and
   ``finish_part``); the rows set aside (original text and reasons) and the row problems
   come back.
4. **Broadcast once**: the control areas (read and checked on the client) and the gazetteer
   are scattered to every worker; every task receives the same two futures.
5. **Geocode, join and write per partition**, on the events each worker already holds:
   :func:`dashboard.geocoding.geocode_events` and
   :func:`dashboard.spatial.join_events_to_areas` (each row's answer depends only on that
   row, the gazetteer and the areas), written as ``OUT/part.NNNNN.parquet``; only counts
   and the unmatched rows travel back.

What the client still holds: the head of the file, the keys the whole-file rules need (for
an ACLED file every row's id and timestamp; the ids of the valid rows), the rows set aside,
the problems, the unmatched rows and the areas and gazetteer. Never the event table.

**Fallback, never silent**: a file the fast path would not read (an encoding other than
UTF-8, a line break inside a quoted field, a blank line, a ragged row, a lone CR, a NUL
byte, one column, a field at the csv module's limit, no data rows) or a range that ends
inside a quoted field is read and validated on the client as before, its validated rows
scattered in ``partition_rows`` slices; ``notes`` (and the summary) then start with a
warning naming the reason, and ``read_on_workers`` is False.

The output is a directory of GeoParquet files (read it with ``geopandas.read_parquet(OUT)``,
``dask_geopandas.read_parquet(OUT)``, or :func:`read_parts`, which keeps the original row
order; a partition left without events writes no part); the rows set aside go to
``OUT.rejected.csv`` beside it, as in the single-process build. Events, set-aside rows (with
all their reasons and original row numbers), report and summary equal the single-process
build's; ``rows_in == rows_loaded + rows_rejected`` holds as there.

One difference remains: the join refuses events whose coordinates are *all* outside lon/lat
range (projected coordinates); on a cluster that check sees one partition at a time.

Dask is an optional dependency: ``pip install 'conflictmap[dask]'``.
"""

from __future__ import annotations

import datetime as dt
import itertools
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
from dashboard.arealedger import AreaLedger, ledger_table
from dashboard.areas import last_change
from dashboard.areasources import describe_sources
from dashboard.dateparse import (
    DateFacts,
    DateRule,
    check_date_format,
    date_proofs,
    decide_date_order,
)
from dashboard.errors import InputFileError
from dashboard.gazetteer import DEFAULT_THRESHOLD, Gazetteer
from dashboard.geocoding import admin1_notes, geocode_events
from dashboard.pipeline import (
    BuildSettings,
    BuildSummary,
    area_countries,
    carried_forward_notes,
    events_after,
    load_areas,
    write_rejected,
    write_rejected_areas,
)
from dashboard.readers import ReadResult, fastcsv, read_events, textio
from dashboard.readers.events import (
    Layout,
    acled_keys,
    apply_superseded,
    check_options,
    derive_ucdp_codes,
    sniff_layout,
    superseded_rows,
)
from dashboard.readers.textio import bom_encoding, check_file
from dashboard.report import WARNING, Problem, Report
from dashboard.spatial import join_events_to_areas
from dashboard.validation import (
    PartOutcome,
    PartValidation,
    check_columns,
    combine_parts,
    duplicate_ids,
    finish_part,
    id_keys,
    validate_events,
    validate_part,
)

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
_HEAD_BYTES = 64 * 1024  # the head the layout and the average line length are read from
_SCAN_BYTES = 64 * 1024


@dataclass(frozen=True)
class _PartResult:
    """What one task sends back: counts and the few unmatched rows, never the events."""

    number: int
    path: str
    rows: int
    counts: dict[str, int]
    controllers: dict[str, int]
    unmatched: pd.DataFrame
    admin1_given: pd.Series
    """Rows per (country, admin1) geocoded by name (``geocoding.admin1_counts``)."""
    later: tuple[int, dt.date | None]
    """Events dated after the areas' last change, and the latest (``pipeline.events_after``)."""
    geocode_seconds: float
    join_seconds: float
    write_seconds: float


@dataclass
class DistributedBuildResult(BuildSummary):
    """A build on a cluster: where the parts are, and everything but the events themselves."""

    output: Path
    parts: list[Path]
    rejected: pd.DataFrame
    event_report: Report
    area_report: Report
    area_ledger: AreaLedger
    area_table: pd.DataFrame
    """Control-area features set aside or repaired (``arealedger.ledger_table``)."""
    geocode_counts: dict[str, int]
    controllers: dict[str, int]
    unmatched: pd.DataFrame
    input_format: str
    notes: list[Problem] = field(default_factory=list)
    read_on_workers: bool = True
    """False when the file could not be cut safely and was read on the client (see notes)."""
    partition_rows: list[int] = field(default_factory=list)
    """Rows loaded per partition."""
    source_lines: list[str] = field(default_factory=list)
    """Each control-area source in a line (``areasources.describe_sources``)."""
    partition_seconds: list[dict[str, float]] = field(default_factory=list)
    """Per partition, seconds measured inside its tasks: ``read``, ``prepare``, ``validate``
    and ``finish`` (when read on the workers), ``geocode``, ``join`` and ``write``."""
    client_seconds: dict[str, float] = field(default_factory=dict)
    """Wall seconds on the client: ``plan``, then ``read`` (ranges read, keys back),
    ``decide`` (superseded versions), ``validate`` (prepare, date order, validate, duplicate
    ids, finish), ``combine`` (rejects and report) when read on the workers, or
    ``read_on_client``; then ``areas``, ``gazetteer``, ``scatter`` and ``compute`` (geocode,
    join and write)."""

    def controller_counts(self) -> dict[str, int]:
        return dict(self.controllers)

    def extra_summary(self) -> dict[str, object]:
        return {"partitions": len(self.parts)}

    def area_sources(self) -> list[str]:
        return list(self.source_lines)


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
    """Run the build with reading, validation, geocoding and the join spread over a cluster.

    Parameters
    ----------
    events_path, area_paths, settings
        As for :func:`dashboard.pipeline.build`.
    client
        A connected ``distributed.Client`` (see :func:`connect`).
    output
        The directory the parts are written to (``part.00000.parquet``, ...); earlier parts
        in it are removed. It must be reachable at the same path from every worker (always
        true for a local cluster; a shared file system otherwise), and so must
        ``events_path``. The rows set aside go to ``OUTPUT.rejected.csv`` beside it.
    partition_rows
        About this many rows per partition: the file is cut into byte ranges of
        ``partition_rows`` times the average line length of its first 64 KB.

    Returns
    -------
    DistributedBuildResult
        Same events, set-aside rows, report and unmatched rows as the single-process build;
        the events are in the parts, in the original order. When the file could not be read
        in partitions, ``notes`` starts with a warning saying why it was read on the client.
    """
    if partition_rows < 1:
        raise ValueError(f"partition_rows must be positive, got {partition_rows!r}")
    settings = settings or BuildSettings()
    out = _prepare_output(Path(output))
    clock: dict[str, float] = {}
    timings: list[dict[str, float]] = []

    t = time.perf_counter()
    plan = _plan(Path(events_path), settings, partition_rows)
    clock["plan"] = time.perf_counter() - t
    on_workers = (
        _validate_on_workers(client, plan, settings, clock, timings)
        if isinstance(plan, _Plan)
        else plan
    )
    if isinstance(on_workers, _Validated):
        validated = on_workers
        read_notes: list[Problem] = []
    else:  # the file cannot be cut safely: today's read on the client, said in the notes
        t = time.perf_counter()
        validated = _validate_on_client(client, events_path, settings, partition_rows)
        clock["read_on_client"] = time.perf_counter() - t
        timings = [{} for _ in validated.parts]
        read_notes = [
            Problem(
                None,
                None,
                None,
                f"the events file was read and validated on the client, not on the workers: "
                f"{on_workers}",
                WARNING,
            )
        ]

    t = time.perf_counter()
    areas = load_areas(area_paths, options=settings.areas)
    clock["areas"] = time.perf_counter() - t

    t = time.perf_counter()
    gazetteer, notes = _gazetteer_for(
        validated.geocode_facts, settings, fallback=area_countries(areas.areas)
    )
    clock["gazetteer"] = time.perf_counter() - t

    t = time.perf_counter()
    # Broadcast once: every task gets the same futures, not its own copy through the graph.
    areas_future = client.scatter(areas.areas, broadcast=True)
    gazetteer_future = client.scatter(gazetteer, broadcast=True) if gazetteer else None
    clock["scatter"] = time.perf_counter() - t

    t = time.perf_counter()
    last = last_change(areas.areas)  # once here, not in every task
    futures = [
        client.submit(
            _enrich_partition,
            number,
            part,
            gazetteer_future,
            areas_future,
            str(out / _PART.format(number)),
            threshold=settings.fuzzy_threshold,
            last=last,
            pure=False,
        )
        for number, part in enumerate(validated.parts)
    ]
    parts: list[_PartResult] = sorted(client.gather(futures), key=lambda p: p.number)
    del futures
    clock["compute"] = time.perf_counter() - t

    report = validated.report
    loaded = sum(p.rows for p in parts)
    if loaded != report.rows_loaded:  # a lost or repeated partition: never silent
        raise RuntimeError(f"partitions hold {loaded} rows, {report.rows_loaded} loaded")
    write_rejected(validated.rejected, out)  # beside the directory, as the single build does
    area_table = ledger_table(areas.rejected, areas.repaired)
    write_rejected_areas(area_table, out)
    written = [p for p in parts if p.path]
    return DistributedBuildResult(
        output=out,
        parts=[Path(p.path) for p in written],
        rejected=validated.rejected,
        event_report=report,
        area_report=areas.report,
        area_ledger=areas.ledger,
        area_table=area_table,
        source_lines=describe_sources(areas.areas),
        geocode_counts=_sum_counts([p.counts for p in parts], schema.GEOCODE_METHODS),
        controllers=_controller_counts([p.controllers for p in parts]),
        unmatched=_concat_unmatched(parts),
        input_format=validated.format,
        notes=read_notes
        + notes
        + _admin1_notes([p.admin1_given for p in parts])
        + carried_forward_notes(_later(parts), last),
        read_on_workers=not read_notes,
        partition_rows=[p.rows for p in parts],
        partition_seconds=[
            {
                **timing,
                "geocode": p.geocode_seconds,
                "join": p.join_seconds,
                "write": p.write_seconds,
            }
            for timing, p in zip(timings, parts, strict=True)
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


@dataclass(frozen=True)
class _Plan:
    """How to read the file on the workers: its layout and byte ranges at line starts.

    ``max_line``: the line limit, resolved on the client and sent with every range (a
    worker, on another machine or started before a setting changed, may not see it).
    """

    layout: Layout
    ranges: list[tuple[int, int]]
    max_line: int


@dataclass(frozen=True)
class _GeocodeFacts:
    """Of one partition's events: rows without coordinates, and their countries in order."""

    rows: int
    countries: np.ndarray | None
    """Distinct countries of those rows, first seen first (None: nothing to look up)."""


@dataclass
class _Validated:
    """The validated file, its events left on the workers (one future a partition)."""

    parts: list[Any]
    """Futures of the partitions' events (a ``_FinishState`` or a frame)."""
    rejected: pd.DataFrame
    report: Report
    format: str
    geocode_facts: list[_GeocodeFacts]


def _plan(path: Path, settings: BuildSettings, partition_rows: int) -> _Plan | str:
    """The layout and byte ranges, from the head of the file; or why it must be read whole.

    Raises what ``read_events`` raises for a missing or unusable file or bad options.
    """
    check_options(settings.format, settings.mapping)  # before the file, as read_events does
    if settings.encoding is not None:
        # The whole-file read checks every byte decodes in it, as the single build does.
        return f"--encoding {settings.encoding} given: the file is read whole with it"
    limits = textio.limits()
    encoding = _head_encoding(path, max_line=limits.line_bytes)
    if encoding not in fastcsv.FAST_ENCODINGS:
        # The whole-file read detects it (or refuses it) exactly as the single build does.
        return f"encoding {encoding} (partitions are read as UTF-8 only)"
    try:
        layout = sniff_layout(
            path,
            format=settings.format,
            mapping=settings.mapping,
            encoding=encoding,
            limits=limits,
        )
    except UnicodeDecodeError:
        return "the head of the file is not UTF-8"
    if len(layout.columns) < 2:
        return f"{len(layout.columns)} column(s): the file is read with the csv module"
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(_HEAD_BYTES)
    header_end = head.find(b"\n") + 1 if layout.has_header else 0
    if layout.has_header and not header_end:
        return "no line end in the first 64 KB"
    per_line = len(head) / max(1, head.count(b"\n"))
    step = max(1, int(per_line * partition_rows))
    ranges = _byte_ranges(path, size, header_end, step)
    return _Plan(layout=layout, ranges=ranges, max_line=limits.line_bytes)


def _head_encoding(path: Path, *, max_line: int) -> str:
    """The encoding a BOM names, else UTF-8 (the ranges check the rest of the bytes)."""
    check_file(path, max_line=max_line)
    with path.open("rb") as fh:
        head = fh.read(4)
    return bom_encoding(head) or "utf-8"


def _byte_ranges(path: Path, size: int, header_end: int, step: int) -> list[tuple[int, int]]:
    """Consecutive ``(start, end)`` ranges about ``step`` bytes long, cut after a line feed.

    The first holds the header and at least one more line; each holds at least one line.
    """
    cuts = [0]
    at = max(step, header_end + 1)
    with path.open("rb") as fh:
        while at < size:
            fh.seek(at - 1)
            cut = None
            while chunk := fh.read(_SCAN_BYTES):
                newline = chunk.find(b"\n")
                if newline >= 0:
                    cut = fh.tell() - len(chunk) + newline + 1
                    break
            if cut is None or cut >= size:
                break
            cuts.append(cut)
            at = cut + step
    cuts.append(size)
    return list(itertools.pairwise(cuts))


def _validate_on_workers(
    client: Client,
    plan: _Plan,
    settings: BuildSettings,
    clock: dict[str, float],
    timings: list[dict[str, float]],
) -> _Validated | str:
    """Read, validate and split the file on the workers; the client decides the file rules.

    Returns why the file must be read on the client instead when a range cannot be read
    on its own exactly as the whole file would be.
    """
    layout = plan.layout
    # A: read each range; only row counts and the ACLED keys come back.
    t = time.perf_counter()
    reads, facts_a = _step(
        client,
        _read_task,
        [
            (str(layout.path), start, end, layout, number == 0 and layout.has_header, plan.max_line)
            for number, (start, end) in enumerate(plan.ranges)
        ],
    )
    clock["read"] = time.perf_counter() - t
    declined = next((f.fallback for f in facts_a if f.fallback), None)
    if declined is not None:
        return declined
    if not sum(f.rows for f in facts_a):
        return "no data rows"

    t = time.perf_counter()
    offsets = list(itertools.accumulate((f.rows for f in facts_a), initial=0))[:-1]
    reasons: dict[int, str] = {}
    superseded: list[Problem] = []
    if layout.format == "acled" and facts_a[0].keys is not None:
        keys = pd.concat(
            [
                f.keys.assign(**{schema.SOURCE_ROW: f.keys[schema.SOURCE_ROW] + off})
                for f, off in zip(facts_a, offsets, strict=True)
            ],
            ignore_index=True,
        )
        reasons, superseded = superseded_rows(keys)
        del keys
    clock["decide"] = time.perf_counter() - t

    # B: row numbers, superseded versions set aside, UCDP codes; the date-order facts back.
    t = time.perf_counter()
    prepared, facts_b = _step(
        client,
        _prepare_task,
        [
            (read, off, layout, _rows_in(reasons, off, f.rows))
            for read, off, f in zip(reads, offsets, facts_a, strict=True)
        ],
    )
    del reads
    columns = facts_b[0].columns
    check_columns(columns, path=layout.path)
    if settings.date_format is not None:
        check_date_format(settings.date_format)
    # Each partition sent back small facts about its dates (forms, counts, one proof value
    # each way), never the column: the client decides how the whole file's dates are read.
    date_order = decide_date_order([f.proofs for f in facts_b], date_format=settings.date_format)
    # C: validate with the date order decided; the ids of the rows without errors back.
    validating, facts_c = _step(
        client, _validate_task, [(part, settings.dayfirst, date_order) for part in prepared]
    )
    del prepared
    duplicates = duplicate_ids([f.keys for f in facts_c])
    # D: duplicate ids set aside; rejected rows, problems and file facts back.
    finished, facts_d = _step(
        client,
        _finish_task,
        [
            (part, _rows_in(duplicates, off, f.rows))
            for part, off, f in zip(validating, offsets, facts_a, strict=True)
        ],
    )
    del validating
    clock["validate"] = time.perf_counter() - t

    t = time.perf_counter()
    read_problems = list(layout.problems) + superseded + [q for f in facts_b for q in f.problems]
    rejected, report = combine_parts(
        [f.outcome for f in facts_d],
        path=layout.path,
        columns=columns,
        read_problems=read_problems,
        rows_in=sum(f.rows_in for f in facts_b),
        dayfirst=settings.dayfirst,
        date_order=date_order,
    )
    clock["combine"] = time.perf_counter() - t
    for a, b, c, d in zip(facts_a, facts_b, facts_c, facts_d, strict=True):
        timings.append(
            {"read": a.seconds, "prepare": b.seconds, "validate": c.seconds, "finish": d.seconds}
        )
    return _Validated(
        parts=finished,
        rejected=rejected,
        report=report,
        format=layout.format,
        geocode_facts=[f.geocode for f in facts_d],
    )


def _rows_in(decided: dict[int, Any], offset: int, rows: int) -> dict[int, Any]:
    """The entries of a per-row decision for the rows ``offset + 1 .. offset + rows``."""
    return {r: v for r, v in decided.items() if offset < r <= offset + rows}


def _validate_on_client(
    client: Client, events_path: str | Path, settings: BuildSettings, partition_rows: int
) -> _Validated:
    """The fallback: read and validate the whole file here, scatter the validated rows."""
    read = read_events(
        events_path, format=settings.format, mapping=settings.mapping, encoding=settings.encoding
    )
    checked = validate_events(read, dayfirst=settings.dayfirst, date_format=settings.date_format)
    events = checked.events
    frames = [events.iloc[a : a + partition_rows] for a in range(0, len(events), partition_rows)]
    return _Validated(
        parts=client.scatter(frames) if frames else [],  # a file with no rows loaded
        rejected=checked.rejected,
        report=checked.report,
        format=checked.format,
        geocode_facts=[_geocode_facts(f) for f in frames],
    )


def _step(client: Client, task: Any, calls: list[tuple[Any, ...]]) -> tuple[list[Any], list[Any]]:
    """Run ``task`` once per partition; its states stay on the workers, its facts come back."""
    states = [client.submit(task, *args, pure=False) for args in calls]
    facts = client.gather([client.submit(_facts_of, s, pure=False) for s in states])
    return states, facts


def _facts_of(state: Any) -> Any:
    return state.facts


# --- worker tasks: each keeps its partition and returns small facts --------------------------


@dataclass(frozen=True)
class _ReadFacts:
    fallback: str | None
    rows: int
    keys: pd.DataFrame | None
    """ACLED: id, row (within the range) and raw timestamp of every row."""
    seconds: float


@dataclass
class _ReadState:
    frame: pd.DataFrame | None
    facts: _ReadFacts


def _read_task(
    path: str, start: int, end: int, layout: Layout, has_header: bool, max_line: int
) -> _ReadState:
    t = time.perf_counter()
    got = fastcsv.read_range(
        Path(path),
        start,
        end,
        delimiter=layout.delimiter,
        columns=layout.columns,
        has_header=has_header,
        first=layout.first,
        max_line=max_line,
    )
    if got.table is None:
        return _ReadState(None, _ReadFacts(got.fallback, 0, None, time.perf_counter() - t))
    frame = got.table.frame.rename(columns=layout.renames)
    keys = acled_keys(frame) if layout.format == "acled" and schema.EVENT_ID in frame else None
    return _ReadState(frame, _ReadFacts(None, len(frame), keys, time.perf_counter() - t))


@dataclass(frozen=True)
class _PrepareFacts:
    columns: list[str]
    proofs: dict[str, DateFacts]
    problems: list[Problem]
    rows_in: int
    seconds: float


@dataclass
class _PrepareState:
    read: ReadResult
    facts: _PrepareFacts


def _prepare_task(
    state: _ReadState, offset: int, layout: Layout, superseded: dict[int, str]
) -> _PrepareState:
    """What ``read_events`` does after parsing, for one range, with the file's decisions."""
    t = time.perf_counter()
    assert state.frame is not None
    frame = state.frame.assign(**{schema.SOURCE_ROW: state.frame[schema.SOURCE_ROW] + offset})
    problems: list[Problem] = []
    if layout.format == "acled":
        frame, set_aside = apply_superseded(frame, superseded)
    else:
        frame, problems = derive_ucdp_codes(frame)
        set_aside = frame.iloc[0:0].assign(**{schema.REJECT_REASON: pd.Series([], dtype="str")})
    read = ReadResult(
        path=layout.path,
        format=layout.format,
        frame=frame,
        set_aside=set_aside,
        problems=problems,
        rows_in=len(frame) + len(set_aside),
        encoding=layout.encoding,
        delimiter=layout.delimiter,
        parser="pyarrow",
    )
    facts = _PrepareFacts(
        columns=list(frame.columns),
        proofs=date_proofs(frame, fmt=layout.format),
        problems=problems,
        rows_in=read.rows_in,
        seconds=time.perf_counter() - t,
    )
    return _PrepareState(read, facts)


@dataclass(frozen=True)
class _ValidateFacts:
    keys: pd.DataFrame
    seconds: float


@dataclass
class _ValidateState:
    part: PartValidation
    facts: _ValidateFacts


def _validate_task(
    state: _PrepareState, dayfirst: bool, date_order: dict[str, DateRule]
) -> _ValidateState:
    t = time.perf_counter()
    part = validate_part(state.read, dayfirst=dayfirst, date_order=date_order)
    return _ValidateState(part, _ValidateFacts(id_keys(part), time.perf_counter() - t))


@dataclass(frozen=True)
class _FinishFacts:
    outcome: PartOutcome
    """Without its events, which stay on the worker."""
    geocode: _GeocodeFacts
    seconds: float


@dataclass
class _FinishState:
    events: pd.DataFrame
    facts: _FinishFacts


def _finish_task(state: _ValidateState, duplicates: dict[int, int]) -> _FinishState:
    t = time.perf_counter()
    outcome = finish_part(state.part, duplicates)
    facts = _FinishFacts(
        outcome.without_events(), _geocode_facts(outcome.events), time.perf_counter() - t
    )
    return _FinishState(outcome.events, facts)


def _geocode_facts(events: pd.DataFrame) -> _GeocodeFacts:
    """What the gazetteer choice needs of these rows (see ``geocoding.geocode_events``)."""
    from dashboard import geocoding

    return _GeocodeFacts(*geocoding.geocode_need(events))


def _gazetteer_for(
    facts: list[_GeocodeFacts], settings: BuildSettings, *, fallback: Sequence[str] = ()
) -> tuple[Gazetteer | None, list[Problem]]:
    """The gazetteer the single-process build would load for these rows, or None if unused.

    The same choice ``geocode_events`` makes on the whole frame: ``--country``, else the
    countries of the rows to geocode in the order first seen, else the control areas'
    countries (``fallback``), each with its note when no row names a recognised country.
    A missing location column errors in the task, as there.
    """
    from dashboard import geocoding

    named = [f.countries for f in facts if f.countries is not None]
    if not named:
        return None, []
    countries = pd.Series(pd.unique(np.concatenate(named)), dtype=object)
    return geocoding.default_gazetteer(
        settings.countries, countries, sum(f.rows for f in facts), fallback=fallback
    )


def _enrich_partition(
    number: int,
    part: pd.DataFrame | _FinishState,
    gazetteer: Gazetteer | None,
    areas: gpd.GeoDataFrame,
    path: str,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    last: dt.date | None = None,
) -> _PartResult:
    """One task: geocode and join a partition, write it, and report counts and timings.

    ``last`` is the areas' last change (``areas.last_change``), to count the events after
    it. A partition left with no events writes no part.
    """
    events = part.events if isinstance(part, _FinishState) else part
    t0 = time.perf_counter()
    geocoded = geocode_events(events, gazetteer=gazetteer, threshold=threshold)
    t1 = time.perf_counter()
    joined = join_events_to_areas(geocoded.events, areas)
    t2 = time.perf_counter()
    if len(joined):
        joined.to_parquet(path, index=False)
    else:
        path = ""
    t3 = time.perf_counter()
    controllers = joined[schema.CONTROLLER].value_counts()
    return _PartResult(
        number=number,
        path=path,
        rows=len(joined),
        counts=dict(geocoded.counts),
        controllers={str(k): int(v) for k, v in controllers.items()},
        unmatched=geocoded.unmatched,
        admin1_given=geocoded.admin1_given,
        later=events_after(joined, last),
        geocode_seconds=t1 - t0,
        join_seconds=t2 - t1,
        write_seconds=t3 - t2,
    )


def _later(parts: list[_PartResult]) -> tuple[int, dt.date | None]:
    """The partitions' counts of events after the areas' last change, as one file's."""
    latest = [p.later[1] for p in parts if p.later[1] is not None]
    return sum(p.later[0] for p in parts), max(latest) if latest else None


def _admin1_notes(counts: list[pd.Series]) -> list[Problem]:
    """The single build's notes on unknown admin1 names, from the partitions' counts."""
    kept = [c for c in counts if len(c)]
    if not kept:
        return []
    total = pd.concat(kept).groupby(level=[0, 1], sort=False).sum()
    return admin1_notes(total)


def _sum_counts(counts: list[dict[str, int]], keys: Sequence[str]) -> dict[str, int]:
    return {k: sum(c.get(k, 0) for c in counts) for k in keys}


def _controller_counts(counts: list[dict[str, int]]) -> dict[str, int]:
    """Summed, most frequent first (ties by name), as ``value_counts`` orders them."""
    total: dict[str, int] = {}
    for c in counts:
        for name, n in c.items():
            total[name] = total.get(name, 0) + n
    return dict(sorted(total.items(), key=lambda kv: (-kv[1], kv[0])))


def _concat_unmatched(parts: list[_PartResult]) -> pd.DataFrame:
    """The partitions' unmatched rows indexed as in the single build: by position among the
    loaded events of the whole file (a partition's own index starts at 0)."""
    offsets = np.cumsum([0] + [p.rows for p in parts[:-1]])
    kept = [
        p.unmatched.set_axis(p.unmatched.index + offset)
        for p, offset in zip(parts, offsets, strict=True)
        if len(p.unmatched)
    ]
    if not kept:
        return parts[0].unmatched if parts else pd.DataFrame()
    return pd.concat(kept)
