"""A pull straight into the PostGIS store: the rows ACLED gives go through the same build as
``conflictmap db load`` (read, validate, geocode, join), then the store's merge by
``event_id``; an update's deletions are removed in the same transaction.

The rows are joined with the control areas given (``--areas`` files, or an
``--areas-table`` with its ``--boundaries``, or ``--areas-points``: every source ``db load``
takes), which then replace the stored ones, as ``db load`` does; without any, with the
control areas the store already holds (kept as they are), and only when it holds none with
the bundled ones.

An update is an incremental load (:func:`dashboard.store.load_build` with
``incremental=True``): the events it does not bring are not counted as missing, and they are
joined again only when the control areas changed. An update that changes nothing (no row
added or changed, no stored event deleted, the same areas) records no data version, so that
the app replicas do not reload for nothing; its report still says what was asked and found.

The rows pass through a temporary CSV (written without the spreadsheet marks: no person
opens it, and the store keeps the text ACLED served), removed afterwards.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from dashboard import schema
from dashboard import store as pgstore
from dashboard.areas import AreasResult
from dashboard.errors import PullError
from dashboard.pipeline import AreaOptions, BuildSettings, Progress, build
from dashboard.pull.acled import (
    QUERY_OPTIONS,
    TIMESTAMP,
    AcledQuery,
    AcledSession,
    PageCount,
    choose_query,
    pull_acled,
    write_rows,
)
from dashboard.pull.merge import newest
from dashboard.redact import mask_url
from dashboard.report import Report


@dataclass
class StoreReport:
    """What a pull did to the store."""

    query: str
    query_origin: str
    since: int | None
    fetched: int
    pages: int
    deletions_fetched: int
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    deleted_ids: list[str] = field(default_factory=list)
    rows_set_aside: int = 0
    version: int | None = None
    """The data version this pull recorded; None when it recorded none (nothing changed)."""
    not_in_pull: int | None = None
    """Stored events the pull did not bring (kept); None for an update, which brings only
    what changed."""
    rejoined: int = 0
    """Kept events whose join answer changed with the control areas of this load."""
    area_sources: list[str] = field(default_factory=list)
    """Where the control areas the rows were joined with came from."""
    query_fields: dict[str, str] = field(default_factory=dict)
    """Each filter used and where it came from (see :class:`~dashboard.pull.acled.ChosenQuery`)."""
    newest: int | None = None
    seconds: float = 0.0
    requests: int = 0
    retries: int = 0
    first_problem: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def deleted(self) -> int:
        return len(self.deleted_ids)

    def summary(self) -> dict[str, Any]:
        return {**self.__dict__, "deleted": self.deleted}


def pull_into_store(
    engine: Any,
    given: AcledQuery,
    *,
    session: AcledSession,
    update: bool,
    area_paths: Sequence[str] = (),
    area_options: AreaOptions | None = None,
    progress: Progress | None = None,
) -> StoreReport:
    """Pull ACLED into the store: everything ``given`` matches, or (``update``) what changed
    and was deleted since the newest stored ``timestamp``.

    Parameters
    ----------
    engine
        From :func:`dashboard.store.connect`; the schema must exist.
    given
        Filters; for an update an empty query means the countries the store holds.
    session
        The API.
    update
        Ask only for what changed since the store's newest ACLED timestamp.
    area_paths, area_options
        The control areas the rows are joined with, as ``db load`` takes them: the
        ``--areas`` files and the sources of ``area_options`` (``--areas-table`` with
        ``--boundaries``, ``--areas-points``, ``--outline``); they replace the stored areas,
        as a load does. Without any: the stored areas, else the bundled ones.
    progress
        The build's progress callback.

    Raises
    ------
    PullError, CredentialsError
        The pull failed (the store is as it was).
    DatabaseError, SchemaError
        The store refused the load (nothing changed).
    """
    started = time.perf_counter()
    source = f"ACLED API {mask_url(session.base_url)}"
    with tempfile.TemporaryDirectory(prefix="conflictmap-pull-") as folder:
        rows_csv = Path(folder) / "acled.csv"
        if update:
            state = pgstore.acled_state(engine)
            if state.newest is None:
                raise PullError(
                    "the database holds no ACLED events with a timestamp to update from: "
                    "pull without --update first"
                )
            chosen = choose_query(given, record=None, countries=state.countries, holder="database")
            changed, removed = PageCount(), PageCount()
            changes = session.changed_since(chosen.query, state.newest, count=changed)
            deleted = session.deleted_since(state.newest, count=removed)
            report = StoreReport(
                query=chosen.query.describe(),
                query_origin=chosen.origin,
                since=state.newest,
                fetched=len(changes),
                pages=changed.pages + removed.pages,
                deletions_fetched=len(deleted),
                query_fields=dict(chosen.fields),
            )
            delete_ids = [k for k, at in deleted.items() if not _newer(changes.get(k), at)]
            # A row fetched for an id deleted since (and not published again) is not
            # loaded: the load deletes first, then merges, and would bring it back. As the
            # file's merge (merge_changes) does.
            gone = set(delete_ids)
            kept_rows = [row for key, row in changes.items() if key not in gone]
            with rows_csv.open("w", encoding="utf-8", newline="") as out:
                write_rows(out, iter(kept_rows), neutralise=False)
            rows = len(kept_rows)
            source += f", changes since timestamp {state.newest}"
        else:
            pulled = pull_acled(rows_csv, given, session=session, neutralise=False, record=False)
            report = StoreReport(
                query=given.describe(),
                query_origin="the filters given",
                since=None,
                fetched=pulled.rows,
                pages=pulled.pages,
                deletions_fetched=0,
                notes=list(pulled.notes),
                query_fields={name: "the command line" for name in _used(given)},
            )
            delete_ids = []
            rows = pulled.rows
        _load(
            engine,
            rows_csv,
            rows,
            report,
            delete_ids,
            source,
            area_paths,
            area_options or AreaOptions(),
            progress,
            incremental=update,
        )
    report.newest = pgstore.acled_state(engine).newest
    report.seconds = round(time.perf_counter() - started, 3)
    report.requests = session.client.requests
    report.retries = session.client.retries
    return report


def _newer(row: dict[str, str] | None, deleted_at: int | None) -> bool:
    """A changed row newer than its id's deletion was published again: keep it."""
    if row is None or deleted_at is None:
        return False
    stamp = newest(None, row.get(TIMESTAMP))
    return stamp is not None and stamp > deleted_at


def _used(query: AcledQuery) -> list[str]:
    """The filters a query sets."""
    return [name for name, _ in QUERY_OPTIONS if getattr(query, name)]


def _load(
    engine: Any,
    rows_csv: Path,
    rows: int,
    report: StoreReport,
    delete_ids: list[str],
    source: str,
    area_paths: Sequence[str],
    area_options: AreaOptions,
    progress: Progress | None,
    *,
    incremental: bool,
) -> None:
    """Build the pulled rows and merge them (with the deletions) into the store."""
    given_areas = [*area_paths, *area_options.source_files()]
    if rows == 0:
        if given_areas:
            report.notes.append(
                "no rows to load, so the control areas given were not loaded (`conflictmap "
                "db load` loads them with the events)"
            )
        if delete_ids:
            done = pgstore.delete_events(engine, delete_ids, source=source + " (deletions)")
            report.version, report.deleted_ids = done.version, list(done.deleted_ids)
        _note_unchanged(report)
        return
    kept = None if given_areas else stored_areas(engine)
    if not given_areas and kept is None:
        report.notes.append(
            "the database holds no control areas yet: joined with the bundled ones (give "
            "--areas FILE, or --areas-table with --boundaries, or --areas-points for your own)"
        )
    if kept is not None and area_options != AreaOptions():
        report.notes.append(
            "the area options apply to the area files given, and none was: the control "
            "areas the database holds were used as they are"
        )
    result = build(
        rows_csv,
        list(area_paths) or None,
        settings=BuildSettings(format="acled", areas=area_options),
        areas=kept,
        progress=progress,
    )
    if kept is not None:
        area_sources = sorted(set(kept.areas[schema.AREA_SOURCE].dropna().astype(str)))
    else:
        area_sources = [str(Path(p).resolve()) for p in given_areas]
    report.area_sources = area_sources
    event_report = result.event_report
    report.rows_set_aside = event_report.rows_rejected
    if event_report.errors:
        first = event_report.errors[0]
        report.first_problem = f"{first.column}: {first.message}" if first.column else first.message
    if not event_report.rows_loaded:
        raise PullError(
            f"none of the {event_report.rows_in:,} rows ACLED gave could be used "
            f"({report.first_problem or 'no data rows'}); the database was not changed"
        )
    loaded = pgstore.load_build(
        engine,
        result,
        source=source,
        area_sources=area_sources,
        delete_ids=delete_ids,
        incremental=incremental,
        skip_unchanged=incremental,
    )
    report.version = loaded.version if loaded.version_kept else None
    report.added, report.changed, report.unchanged = (
        loaded.inserted,
        loaded.updated,
        loaded.unchanged,
    )
    report.deleted_ids = list(loaded.deleted_ids)
    report.not_in_pull = loaded.not_in_file
    report.rejoined = loaded.rejoined
    _note_unchanged(report)
    if report.rows_set_aside:
        report.notes.append(
            f"{report.rows_set_aside:,} rows were set aside by validation and not loaded "
            f"(e.g. {report.first_problem}); the database keeps any earlier version of them "
            f"(`conflictmap validate` on a pulled file lists every reason)"
        )


def _note_unchanged(report: StoreReport) -> None:
    if report.version is None:
        report.notes.append(
            "nothing changed in the database: no new data version (the app keeps the data it shows)"
        )


def stored_areas(engine: Any) -> AreasResult | None:
    """The control areas the store holds, in their stored order (the join's "first
    listed"), as a build takes them; None when it holds none."""
    frame = pgstore.DbStore("", engine=engine).areas_at(None)
    if not len(frame):
        return None
    count = len(frame)
    return AreasResult(
        areas=frame,
        rejected=pd.DataFrame(),
        report=Report(source="the database's control areas", rows_in=count, rows_loaded=count),
    )


__all__ = ["StoreReport", "pull_into_store", "stored_areas"]
