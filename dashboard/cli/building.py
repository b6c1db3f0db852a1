"""``conflictmap validate``, ``geocode``, ``build``, ``serve`` and ``synth``: reading, placing and
joining events, and serving the dashboard."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

from dashboard import paths
from dashboard.cli.common import (
    EXIT_ERRORS,
    EXIT_OK,
    EXIT_UNUSABLE,
    CliError,
    check_exists,
    progress_bar,
)
from dashboard.cli.options import (
    area_read_options,
    input_options,
    mapping_from,
    read_options,
)
from dashboard.errors import DashboardError

if TYPE_CHECKING:  # pandas/geopandas load when a command runs: `--help` stays quick
    from dashboard.pipeline import AreaOptions


def _area_options(func: Callable) -> Callable:
    func = area_read_options(func)
    func = click.option(
        "--areas",
        "area_paths",
        multiple=True,
        type=click.Path(dir_okay=False),
        help="Control-area file (repeatable; GeoJSON, GeoPackage, Shapefile, KML, "
        "GeoParquet). Default: the bundled geodata/control_areas.geojson.",
    )(func)
    return func


@click.command()
@click.argument("events_file", type=click.Path(dir_okay=False))
@lambda f: input_options(f, format_alias=False)
@click.option(
    "--format",
    "-f",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Report as readable text or JSON.",
)
@click.option("--all", "show_all", is_flag=True, help="List every problem, not the first 50.")
def validate(
    events_file: str,
    input_format: str | None,
    map_items: tuple[str, ...],
    mapping_file: str | None,
    date_format: str | None,
    encoding: str | None,
    output_format: str,
    show_all: bool,
) -> None:
    """Check an events file and report every problem with its row.

    Exit status: 0 no errors, 1 errors (rows set aside), 2 unusable input (no row loads).
    """
    check_exists(events_file)
    from dashboard.readers import read_events
    from dashboard.validation import validate_events

    try:
        mapping = mapping_from(map_items, mapping_file)
        encoding, date_format = read_options(
            mapping_file, encoding=encoding, date_format=date_format
        )
        read = read_events(events_file, format=input_format, mapping=mapping, encoding=encoding)
        result = validate_events(read, date_format=date_format)
    except DashboardError as exc:
        raise CliError(str(exc)) from exc
    report = result.report
    if output_format == "json":
        click.echo(report.to_json())
    else:
        click.echo(report.to_text(limit=None if show_all else 50))
    if report.rows_in and not report.rows_loaded:  # as build: nothing usable
        sys.exit(EXIT_UNUSABLE)
    sys.exit(EXIT_ERRORS if report.errors else EXIT_OK)


def _country_option(func: Callable) -> Callable:
    return click.option(
        "--country",
        "countries",
        multiple=True,
        metavar="NAME",
        help="Restrict the gazetteer to this country (repeatable; name or ISO code). "
        "Default: the countries the rows name; the whole world (slow) when none is.",
    )(func)


@click.command()
@click.argument("events_file", type=click.Path(dir_okay=False))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="CSV out.")
@input_options
@_country_option
@click.option(
    "--threshold",
    type=click.FloatRange(0, 100),
    default=None,
    help="Fuzzy-match score (0-100) a name must reach; default: the geocoder's.",
)
def geocode(
    events_file: str,
    output: str,
    input_format: str | None,
    map_items: tuple[str, ...],
    mapping_file: str | None,
    date_format: str | None,
    encoding: str | None,
    countries: tuple[str, ...],
    threshold: float | None,
) -> None:
    """Give coordinates to rows that only name a place (offline, no web service).

    Rows set aside by validation go to OUT.rejected.csv beside the output, with reasons.
    """
    from dashboard.pipeline import BuildSettings, read_and_geocode, write_rejected
    from dashboard.tableexport import write_csv

    check_exists(events_file)
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
        )
        if threshold is not None:
            settings = replace(settings, fuzzy_threshold=threshold)
        with progress_bar() as progress:
            checked, result = read_and_geocode(events_file, settings=settings, progress=progress)
    except DashboardError as exc:
        raise CliError(str(exc)) from exc
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    write_csv(result.events, output)
    report = checked.report
    click.echo(
        f"{report.rows_in} rows in, {len(result.events)} written to {output}, "
        f"{report.rows_rejected} set aside"
    )
    click.echo("geocoded: " + ", ".join(f"{k} {v}" for k, v in result.counts.items()))
    for note in result.notes:
        click.echo(f"warning: {note.message}")
    if len(result.unmatched):
        click.echo(f"{len(result.unmatched)} rows without a place (kept, coordinates empty):")
        click.echo(result.unmatched.head(20).to_string(index=False))
    if report.rows_rejected:
        rejected = write_rejected(checked.rejected, output)
        click.echo(
            f"set-aside rows with reasons: {rejected} "
            f"(details: `conflictmap validate {events_file}`)"
        )


@click.command()
@click.argument("events_file", type=click.Path(dir_okay=False), default=str(paths.BUNDLED_EVENTS))
@click.option(
    "-o",
    "--output",
    default="out/events.parquet",
    show_default=True,
    type=click.Path(),
    help="GeoParquet out (with --dask: a directory of parts); set-aside rows go to "
    "OUT.rejected.csv beside it.",
)
@input_options
@_country_option
@_area_options
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option(
    "--dask",
    "dask_address",
    default=None,
    metavar="local|tcp://HOST:PORT",
    help="Geocode and join partitioned on a Dask cluster: 'local' starts worker processes "
    "on this machine (127.0.0.1 only); else a scheduler's address. Needs the 'dask' extra.",
)
def build(
    events_file: str,
    output: str,
    input_format: str | None,
    map_items: tuple[str, ...],
    mapping_file: str | None,
    date_format: str | None,
    encoding: str | None,
    countries: tuple[str, ...],
    area_paths: tuple[str, ...],
    area_options: AreaOptions,
    as_json: bool,
    dask_address: str | None,
) -> None:
    """Read, validate, geocode and join EVENTS_FILE with control areas; write GeoParquet.

    Without EVENTS_FILE the bundled demo events are used; without --areas the bundled
    control areas. Control-area features set aside or repaired are listed in
    OUT.rejected-areas.csv.

    Exit status: 0 every row and feature used, 1 rows or features set aside, 2 nothing
    loaded (no GeoParquet written) or unusable input.
    """
    from dashboard.pipeline import BuildSettings, write_outputs
    from dashboard.pipeline import build as run_build

    check_exists(events_file)
    for area_path in (*area_paths, *area_options.source_files()):
        check_exists(area_path)
    try:
        encoding, date_format = read_options(
            mapping_file, encoding=encoding, date_format=date_format
        )
        settings = BuildSettings(
            format=input_format,
            mapping=mapping_from(map_items, mapping_file),
            encoding=encoding,
            date_format=date_format,
            countries=countries,
            areas=area_options,
        )
        if dask_address is not None:
            from dashboard import distributed

            if not distributed.dask_installed():
                raise CliError(distributed.DASK_MISSING)
            with distributed.connect(dask_address) as client:
                on_dask = distributed.build_distributed(
                    events_file,
                    list(area_paths) or None,
                    client=client,
                    output=output,
                    settings=settings,
                )
            out, rejected = on_dask.output, distributed.rejected_path(on_dask.output)
            summary = on_dask.summary()
        else:
            if Path(output).is_dir():
                raise CliError(f"{output!r} is a directory; give a .parquet file (or use --dask)")
            with progress_bar() as progress:
                result = run_build(
                    events_file, list(area_paths) or None, settings=settings, progress=progress
                )
            out, rejected = write_outputs(result, output)
            summary = result.summary()
    except DashboardError as exc:
        raise CliError(str(exc)) from exc
    from dashboard.pipeline import rejected_areas_path

    if (
        not area_paths and not area_options.source_files()
    ):  # real events tagged with the demo's areas must not pass unsaid
        # A list of messages in every summary (BuildSummary.summary), typed as an object there.
        cast(list[str], summary["notes"]).insert(
            0,
            "control areas: the bundled demo control areas (authored for the demo, "
            "approximate); give your own with --areas",
        )
    nothing = not summary["rows_loaded"]
    summary["output"] = None if nothing else str(out)
    summary["rejected_output"] = str(rejected)
    summary["rejected_areas_output"] = str(rejected_areas_path(out))
    status = build_exit_status(summary)
    summary["exit_status"] = status
    if as_json:
        click.echo(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        click.echo(_summary_text(summary))
    sys.exit(status)


def build_exit_status(summary: dict) -> int:
    """2 when no event was loaded, 1 when rows or control-area features were set aside.

    As ``validate`` does: a build whose figures leave something out never exits 0.
    """
    if not summary["rows_loaded"]:
        return EXIT_UNUSABLE
    if summary["rows_rejected"] or summary["areas_rejected"]:
        return EXIT_ERRORS
    return EXIT_OK


def _outcome_line(summary: dict) -> str:
    """The build's outcome in one line, as its exit status says it."""
    status = summary["exit_status"]
    if status == EXIT_UNUSABLE:
        if not summary["rows_in"]:
            return (
                f"nothing loaded: the file has no data rows, no GeoParquet written (exit {status})"
            )
        return (
            f"nothing loaded: all {summary['rows_in']:,} rows were set aside, no GeoParquet "
            f"written (exit {status}); the reasons are in {summary['rejected_output']}"
        )
    if status == EXIT_ERRORS:
        left = []
        if summary["rows_rejected"]:
            left.append(f"{summary['rows_rejected']:,} event rows")
        if summary["areas_rejected"]:
            left.append(f"{summary['areas_rejected']:,} control-area features")
        return (
            f"built with {' and '.join(left)} set aside (exit {status}): the output leaves them out"
        )
    return "built: every row and control-area feature used (exit 0)"


_FILE_PROBLEMS_SHOWN = 20


def _summary_text(summary: dict) -> str:
    lines = [
        (
            f"events: {summary['rows_in']} rows in ({summary['input_format']}), "
            f"{summary['rows_loaded']} loaded, {summary['rows_rejected']} set aside"
        ),
        "geocoded: " + ", ".join(f"{k} {v}" for k, v in summary["geocoded"].items()),
    ]
    # what the events file's reading decided for the whole file: date forms, encoding...
    lines += summary.get("file_problems", [])[:_FILE_PROBLEMS_SHOWN]
    more = len(summary.get("file_problems", [])) - _FILE_PROBLEMS_SHOWN
    if more > 0:
        lines.append(f"... {more} more about the whole file (`conflictmap validate` lists all)")
    lines += [f"warning: {note}" for note in summary["notes"]]
    lines.append("controller at the event's place and date:")
    lines += [f"  {name:<32} {count:>7}" for name, count in summary["controllers"].items()]
    ledger = summary["control_areas"]
    lines.append(f"control areas: {ledger['sentence']}")
    lines += [f"  from {source}" for source in summary.get("area_sources", [])]
    lines += [f"warning: {note}" for note in ledger["notes"]]
    if summary["output"]:
        lines.append(f"written: {summary['output']}")
    if summary["rows_rejected"]:
        lines.append(f"set-aside rows with reasons: {summary['rejected_output']}")
    if summary["areas_rejected"] or summary["areas_repaired"]:
        lines.append(
            f"set-aside and repaired control-area features with reasons: "
            f"{summary['rejected_areas_output']}"
        )
    lines.append(_outcome_line(summary))
    return "\n".join(lines)


@click.command()
@click.option(
    "--events",
    "n_events",
    default=100_000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Number of event rows.",
)
@click.option(
    "--areas",
    "n_areas",
    default=4_000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Control-area polygon versions (about).",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(file_okay=False),
    help="Directory for events.csv and control_areas.parquet (created if missing).",
)
@click.option(
    "--seed",
    default=0,
    show_default=True,
    type=click.IntRange(min=0),
    help="Random seed: the same options write the same files.",
)
@click.option(
    "--layout",
    type=click.Choice(["acled", "canonical"]),
    default="acled",
    show_default=True,
    help="events.csv as an ACLED export or in canonical columns.",
)
def synth(n_events: int, n_areas: int, output: str, seed: int, layout: str) -> None:
    """Write a synthetic dataset: events around real towns, control areas over time.

    Nothing in it is real but the towns. Read it back with
    `conflictmap build DIR/events.csv --areas DIR/control_areas.parquet`.
    """
    from dashboard.synth import write_synthetic

    with progress_bar() as progress:
        result = write_synthetic(
            output, events=n_events, areas=n_areas, seed=seed, layout=layout, progress=progress
        )
    click.echo(result.summary())
