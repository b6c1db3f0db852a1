"""A pull straight into the PostGIS store: the rows ACLED gives go through the same build as
``conflictmap db load`` (read, validate, geocode, join), then the store's merge by
``event_id``; an update's deletions are removed in the same transaction.

The rows are joined with the control areas given (``--areas``), which then replace the
stored ones, as ``db load`` does; without ``--areas``, with the control areas the store
already holds (kept as they are), and only when it holds none with the bundled ones.

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
        The control areas the rows are joined with, as ``db load`` takes them (the bundled
        ones when none); they replace the stored areas, as a load does.
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
            query, origin = choose_query(
                given, record=None, countries=state.countries, holder="database"
            )
            changed, removed = PageCount(), PageCount()
            changes = session.changed_since(query, state.newest, count=changed)
            deleted = session.deleted_since(state.newest, count=removed)
            with rows_csv.open("w", encoding="utf-8", newline="") as out:
                write_rows(out, iter(changes.values()), neutralise=False)
            report = StoreReport(
                query=query.describe(),
                query_origin=origin,
                since=state.newest,
                fetched=len(changes),
                pages=changed.pages + removed.pages,
                deletions_fetched=len(deleted),
            )
            delete_ids = [k for k, at in deleted.items() if not _newer(changes.get(k), at)]
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
            )
            delete_ids = []
        _load(engine, rows_csv, report, delete_ids, source, area_paths, area_options, progress)
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


def _load(
    engine: Any,
    rows_csv: Path,
    report: StoreReport,
    delete_ids: list[str],
    source: str,
    area_paths: Sequence[str],
    area_options: AreaOptions | None,
    progress: Progress | None,
) -> None:
    """Build the pulled rows and merge them (with the deletions) into the store."""
    if report.fetched == 0:
        if delete_ids:
            done = pgstore.delete_events(engine, delete_ids, source=source + " (deletions)")
            report.version, report.deleted_ids = done.version, list(done.deleted_ids)
        return
    kept = None if area_paths else stored_areas(engine)
    if not area_paths and kept is None:
        report.notes.append(
            "the database holds no control areas yet: joined with the bundled ones (give "
            "--areas FILE for your own)"
        )
    result = build(
        rows_csv,
        list(area_paths) or None,
        settings=BuildSettings(format="acled", areas=area_options or AreaOptions()),
        areas=kept,
        progress=progress,
    )
    if kept is not None:
        area_sources = sorted(set(kept.areas[schema.AREA_SOURCE].dropna().astype(str)))
    else:
        area_sources = [str(Path(p).resolve()) for p in area_paths]
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
    )
    report.version = loaded.version
    report.added, report.changed, report.unchanged = (
        loaded.inserted,
        loaded.updated,
        loaded.unchanged,
    )
    report.deleted_ids = list(loaded.deleted_ids)
    if report.rows_set_aside:
        report.notes.append(
            f"{report.rows_set_aside:,} rows were set aside by validation and not loaded "
            f"(e.g. {report.first_problem}); the database keeps any earlier version of them "
            f"(`conflictmap validate` on a pulled file lists every reason)"
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
