"""``conflictmap db``: PostGIS as the team's shared store (init, load, join).

Needs the ``db`` extra.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from dashboard.cli.common import CliError, Progress, progress_bar
from dashboard.cli.options import (
    area_read_options,
    areas_option,
    input_options,
    mapping_from,
    read_options,
)
from dashboard.errors import DashboardError

if TYPE_CHECKING:  # the pipeline loads when a command runs: `--help` stays quick
    from dashboard.pipeline import AreaOptions

DB_HELP = "PostgreSQL URL, e.g. postgresql://user@host/db (default: $DASHBOARD_DB)."


def _db_option(func):
    return click.option("--db", "db_url", envvar="DASHBOARD_DB", required=True, help=DB_HELP)(func)


def _copy_progress(progress: Progress) -> Callable[[int, int], None]:
    """The load's copy into the database as a bar of its own; the merge after it is one
    statement, without steps to count."""
    return lambda done, total: progress("copy into the database", done, total)


def _engine(db_url: str):
    from dashboard import store as pgstore

    try:
        return pgstore.connect(db_url)
    except DashboardError as exc:
        raise CliError(str(exc)) from None


@click.group()
def db() -> None:
    """Keep the built events in PostgreSQL/PostGIS, shared by a team."""


@db.command("init")
@_db_option
def init(db_url: str) -> None:
    """Create the tables (events, control areas, data versions) and their indexes."""
    from dashboard import store as pgstore

    engine = _engine(db_url)
    try:
        pgstore.init_schema(engine)
    except Exception as exc:  # noqa: BLE001 - a refused statement: one line
        raise CliError(f"could not create the schema: {pgstore.first_line(exc)}") from None
    click.echo(f"schema {pgstore.SCHEMA!r} ready in {pgstore.safe_url(db_url)}")


@db.command("load")
@click.argument("events_file", type=click.Path(dir_okay=False))
@areas_option
@area_read_options
@input_options
@click.option(
    "--country",
    "countries",
    multiple=True,
    help="Restrict the gazetteer to these countries (repeatable).",
)
@click.option("--batch-size", default=50_000, show_default=True, type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True, help="Print what the load did as JSON.")
@_db_option
def load(
    events_file: str,
    area_paths: tuple[str, ...],
    area_options: AreaOptions,
    input_format: str | None,
    map_items: tuple[str, ...],
    mapping_file: str | None,
    countries: tuple[str, ...],
    encoding: str | None,
    date_format: str | None,
    batch_size: int,
    as_json: bool,
    db_url: str,
) -> None:
    """Build EVENTS_FILE (read, validate, geocode, join) and merge it into the database.

    Events are matched by event_id: new ones inserted, changed ones updated. Events in the
    database but not in the file are kept and reported. One transaction: a load that fails
    leaves the previous version as it was.

    Exit status: 0 every row and control-area feature used, 1 rows or features set aside
    (loaded without them), 2 nothing to load (the database is not touched) or unusable input.
    """
    from dashboard import store as pgstore
    from dashboard.paths import check_input_file
    from dashboard.pipeline import BuildSettings, build

    for path in (events_file, *area_paths, *area_options.source_files()):
        try:
            check_input_file(Path(path))
        except DashboardError as exc:
            raise CliError(str(exc)) from None
    engine = _engine(db_url)
    started = time.perf_counter()
    try:
        encoding, date_format = read_options(
            mapping_file, encoding=encoding, date_format=date_format
        )
        settings = BuildSettings(
            format=input_format,
            mapping=mapping_from(map_items, mapping_file),
            countries=countries,
            encoding=encoding,
            date_format=date_format,
            areas=area_options,
        )
        with progress_bar() as progress:
            result = build(
                events_file,
                list(area_paths) or None,
                settings=settings,
                progress=progress,
            )
            if not result.event_report.rows_loaded:
                report = result.event_report
                raise CliError(
                    f"{events_file}: nothing to load: all {report.rows_in:,} rows were set "
                    f"aside ({report.errors[0].message if report.errors else 'no data rows'});"
                    " the database was not changed (`conflictmap validate` lists every reason)"
                )
            built = time.perf_counter()
            loaded = pgstore.load_build(
                engine,
                result,
                source=str(Path(events_file).resolve()),
                area_sources=[
                    str(Path(p).resolve()) for p in (*area_paths, *area_options.source_files())
                ],
                batch_size=batch_size,
                on_batch=None if progress is None else _copy_progress(progress),
            )
    except DashboardError as exc:
        raise CliError(str(exc)) from None
    finished = time.perf_counter()
    summary = loaded.summary()
    summary["rows_rejected"] = result.event_report.rows_rejected
    summary["control_areas"] = result.area_ledger.to_dict()
    summary["seconds_build"] = round(built - started, 3)
    summary["seconds_load"] = round(finished - built, 3)
    status = 1 if result.event_report.rows_rejected or result.area_ledger.set_aside else 0
    summary["exit_status"] = status
    if as_json:
        click.echo(json.dumps(summary, indent=2))
        sys.exit(status)
    click.echo(
        f"version {loaded.version}: {loaded.rows_in_file} events in the file "
        f"(inserted {loaded.inserted}, updated {loaded.updated}, unchanged {loaded.unchanged}), "
        f"{loaded.areas} control-area versions; {result.event_report.rows_rejected} rows set "
        f"aside; build {summary['seconds_build']} s, load {summary['seconds_load']} s"
    )
    click.echo(f"control areas: {result.area_ledger.sentence()}")
    if loaded.not_in_file:
        shown = ", ".join(loaded.not_in_file_ids)
        more = " ..." if loaded.not_in_file > len(loaded.not_in_file_ids) else ""
        click.echo(
            f"{loaded.not_in_file} events in the database are not in this file (kept): "
            f"{shown}{more}"
        )
        click.echo(
            f"  joined again with this file's control areas: {loaded.rejoined} of them "
            "got a different answer"
        )
    if status:
        click.echo(
            "loaded with rows or control-area features set aside (exit 1): the database "
            "leaves them out"
        )
    sys.exit(status)


@db.command("join")
@_db_option
def join(db_url: str) -> None:
    """Re-run the event <-> control-area join inside PostGIS.

    Rewrites each event's controller, area_id, controller_changed_in_window and
    controller_confidence by the in-process join's rules (for example after a load that
    replaced the control areas: events of earlier loads are joined with the new ones).
    """
    from dashboard import store as pgstore

    engine = _engine(db_url)
    try:
        total, changed = pgstore.join_in_db(engine)
    except DashboardError as exc:
        raise CliError(str(exc)) from None
    click.echo(f"{total} events joined in PostGIS, {changed} with a different answer")


__all__ = ["db"]
