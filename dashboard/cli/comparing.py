"""``conflictmap compare``, ``check`` and ``history``: two dates compared, the
territorial-change check, and who held one place when.

Exit status: 0 done with every control-area feature used (``check``: and no
disagreement); 1 the figures leave out set-aside features (said next to them, with their
count, reasons and ground), or (``check``) the layer disagrees with at least one event; 2
unusable input (a file, a date outside the layer, ``--from`` after ``--to``, a bad actor
mapping), always as one line.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from dashboard import paths, schema
from dashboard.cli.common import EXIT_ERRORS, EXIT_OK, CliError, check_exists, parse_date
from dashboard.cli.options import (
    area_read_options,
    areas_option,
    date_format_option,
    encoding_option,
    events_option,
)
from dashboard.errors import DashboardError

if TYPE_CHECKING:  # pandas is imported when a command runs: `conflictmap --help` stays quick
    import pandas as pd

    from dashboard.pipeline import AreaOptions

EXIT_DISAGREEMENTS = EXIT_ERRORS
EXIT_INCOMPLETE = EXIT_ERRORS  # the figures leave out set-aside control-area features
OUTPUT_FORMATS = ("text", "json", "csv")
COMPARE_TABLES = ("areas", "changed", "towns", "events")


def _data_options(func: Callable) -> Callable:
    """--events and the control-area options, as ``serve`` and ``build`` spell them."""
    options: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
        events_option,
        encoding_option,
        date_format_option,
        areas_option,
        area_read_options,
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _format_option(func: Callable) -> Callable:
    return click.option(
        "--format",
        "-f",
        "output_format",
        type=click.Choice(OUTPUT_FORMATS),
        default="text",
        show_default=True,
        help="Readable text, JSON, or CSV (one table).",
    )(func)


@dataclasses.dataclass
class _Inputs:
    """What a comparison or check rests on: the areas, and the events when asked for."""

    areas: Any
    """``AreasResult``: the areas and their ledger."""
    events: pd.DataFrame | None = None
    event_report: Any = None
    """``Report`` of the events file (None without events)."""
    events_name: str = ""
    bundled_areas: bool = False
    """No --areas given: the bundled demo areas."""
    bundled_events: bool = False
    """No --events given: the bundled demo events."""

    @property
    def complete(self) -> bool:
        """Every control-area feature and every event row went into the figures."""
        rows_out = self.event_report.rows_rejected if self.event_report is not None else 0
        return self.areas.ledger.complete and not rows_out

    def lines(self, *days: dt.date) -> list[str]:
        """What the figures rest on, said before them: the areas' ledger and its notes, the
        dates of ``days`` after the areas' last change, the events' rows set aside."""
        from dashboard.areas import last_change
        from dashboard.areasources import describe_sources

        ledger = self.areas.ledger
        lines = [f"Control areas: {ledger.sentence()}"]
        lines += [f"  from {source}" for source in describe_sources(self.areas.areas)]
        lines += [f"  warning: {note}" for note in ledger.notes]
        if self.bundled_areas:
            lines.append(
                "  note: the bundled demo control areas (authored for the demo, approximate); "
                "give your own with --areas"
            )
        last = last_change(self.areas.areas)
        for day in days:
            if last is not None and day > last:
                lines.append(
                    f"  warning: the control areas' last change is {last.isoformat()}; "
                    f"{day.isoformat()} is {(day - last).days:,} days later: its figures "
                    f"are the map of {last.isoformat()} carried forward"
                )
        report = self.event_report
        if report is not None:
            demo = " (the bundled demo events; --events gives yours)" if self.bundled_events else ""
            lines.append(
                f"Events: {report.rows_in:,} rows in {self.events_name}{demo}, "
                f"{report.rows_loaded:,} loaded, {report.rows_rejected:,} set aside"
                + (
                    f" (`conflictmap validate {self.events_name}` lists each reason)"
                    if report.rows_rejected
                    else ""
                )
            )
        if not self.complete:
            lines.append(
                "  warning: what follows leaves out what was set aside; --format json lists "
                "each control-area feature with its reason"
            )
        return lines

    def caveat(self) -> str | None:
        """One line for stderr beside a CSV table, when something was left out."""
        if self.complete:
            return None
        parts = []
        if not self.areas.ledger.complete:
            parts.append(self.areas.ledger.sentence())
        if self.event_report is not None and self.event_report.rows_rejected:
            parts.append(f"{self.event_report.rows_rejected:,} event rows set aside")
        return "warning: " + "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """The control-area account (and the events' counts) for JSON."""
        from dashboard.arealedger import ledger_table
        from dashboard.report import json_records

        areas = self.areas
        from dashboard.areasources import describe_sources

        out: dict[str, Any] = {
            "control_areas": areas.ledger.to_dict(),
            "control_area_sources": describe_sources(areas.areas),
            "features_not_used_as_read": json_records(ledger_table(areas.rejected, areas.repaired)),
        }
        if self.event_report is not None:
            report = self.event_report
            out["events_read"] = {
                "rows_in": report.rows_in,
                "rows_loaded": report.rows_loaded,
                "rows_rejected": report.rows_rejected,
            }
        out["complete"] = self.complete
        return out


def _load(
    events_file: str | None,
    area_paths: Sequence[str],
    *,
    need_events: bool,
    options: AreaOptions,
    encoding: str | None = None,
    date_format: str | None = None,
) -> _Inputs:
    """The areas, and the events joined with them when ``need_events``."""
    from dashboard.pipeline import BuildSettings, build, load_areas

    for path in [*([events_file] if events_file else []), *area_paths, *options.source_files()]:
        check_exists(path)
    bundled = not area_paths and not options.source_files()
    try:
        areas = load_areas(list(area_paths) or None, options=options)
        if not len(areas.areas):
            raise CliError(
                "no usable control areas in "
                + ", ".join([*area_paths, *options.source_files()] or ["the bundled file"])
                + f": {areas.ledger.sentence()}"
            )
        if not need_events:
            return _Inputs(areas, bundled_areas=bundled)
        events_path = events_file or str(paths.BUNDLED_EVENTS)
        result = build(
            events_path,
            settings=BuildSettings(areas=options, encoding=encoding, date_format=date_format),
            areas=areas,
        )
    except DashboardError as exc:
        raise CliError(str(exc)) from exc
    report = result.event_report
    if not report.rows_loaded:
        first = report.errors[0].message if report.errors else "the file has no data rows"
        raise CliError(
            f"{events_path}: no event could be loaded ({report.rows_in:,} rows in, all set "
            f"aside; {first}); `conflictmap validate {events_path}` lists every reason, "
            "--no-events compares the areas alone"
        )
    return _Inputs(
        areas,
        result.events,
        report,
        Path(events_path).name,
        bundled_areas=bundled,
        bundled_events=not events_file,
    )


def _csv(frame: pd.DataFrame) -> str:
    from dashboard.tableexport import to_csv_text

    return to_csv_text(frame)


def _echo_table(frame: pd.DataFrame, inputs: _Inputs) -> None:
    """The table alone on stdout (for a program to read); what it leaves out beside it,
    on stderr."""
    click.echo(_csv(frame), nl=False)
    caveat = inputs.caveat()
    if caveat:
        click.echo(caveat, err=True)


# --------------------------------------------------------------------------------------------
# compare


@click.command("compare")
@click.option("--from", "date_a", required=True, metavar="YYYY-MM-DD", help="The first date (A).")
@click.option("--to", "date_b", required=True, metavar="YYYY-MM-DD", help="The second date (B).")
@_data_options
@click.option(
    "--towns",
    "towns_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Gazetteer CSV (name,name_ar,country,latitude,longitude); default geodata/towns.csv.",
)
@click.option("--no-events", is_flag=True, help="Skip the events (no geocoding, faster).")
@_format_option
@click.option(
    "--table",
    type=click.Choice(COMPARE_TABLES),
    default="areas",
    show_default=True,
    help="The table written by --format csv.",
)
def compare(
    date_a: str,
    date_b: str,
    events_file: str | None,
    encoding: str | None,
    date_format: str | None,
    area_paths: tuple[str, ...],
    area_options: AreaOptions,
    towns_file: str | None,
    no_events: bool,
    output_format: str,
    table: str,
) -> None:
    """Compare the control areas of two dates: km² per controller (equal-area EPSG:6933),
    ground that changed hands, towns that changed hands, events inside changed ground.

    Example: conflictmap compare --from 2017-06-01 --to 2017-12-31
    """
    import pandas as pd

    from dashboard.compare import CompareError, read_towns
    from dashboard.compare import compare as run_compare

    day_a = parse_date(date_a, "--from")
    day_b = parse_date(date_b, "--to")
    assert day_a is not None and day_b is not None
    if day_a > day_b:
        raise CliError(f"--from {day_a.isoformat()} is after --to {day_b.isoformat()}")
    if towns_file:
        check_exists(towns_file)
    inputs = _load(
        events_file,
        area_paths,
        need_events=not no_events,
        options=area_options,
        encoding=encoding,
        date_format=date_format,
    )
    try:
        towns = read_towns(towns_file or paths.BUNDLED_TOWNS)
        result = run_compare(inputs.areas.areas, day_a, day_b, towns=towns, events=inputs.events)
    except CompareError as exc:
        message = str(exc).replace("date A", "--from").replace("date B", "--to")
        raise CliError(message) from exc
    except DashboardError as exc:
        raise CliError(str(exc)) from exc

    if output_format == "json":
        out = result.to_dict() | inputs.to_dict()
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    elif output_format == "csv":
        frames = {
            "areas": result.table.round(1),
            "changed": pd.DataFrame(result.pieces.drop(columns="geometry")).round(1),
            "towns": result.towns,
            "events": _event_table(result.events),
        }
        _echo_table(frames[table], inputs)
    else:
        click.echo(_compare_text(result, inputs))
    sys.exit(EXIT_OK if inputs.complete else EXIT_INCOMPLETE)


def _event_table(events: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    from dashboard.compare import FROM, TO

    cols = [
        c
        for c in (
            schema.EVENT_ID,
            schema.EVENT_DATE,
            schema.EVENT_TYPE,
            schema.SUB_EVENT_TYPE,
            schema.ACTOR1,
            schema.LOCATION,
            schema.COUNTRY,
            schema.LATITUDE,
            schema.LONGITUDE,
            FROM,
            TO,
        )
        if c in events
    ]
    out = events[cols].copy()
    if schema.EVENT_DATE in out:
        out[schema.EVENT_DATE] = pd.to_datetime(out[schema.EVENT_DATE]).dt.strftime("%Y-%m-%d")
    return out


def _compare_text(result: Any, inputs: _Inputs) -> str:
    import pandas as pd

    from dashboard.compare import EQUAL_AREA_CRS, FROM, TO
    from dashboard.measure import format_km2

    a, b = result.day_a.isoformat(), result.day_b.isoformat()
    lines = [f"Control of territory, {a} -> {b} (km², equal-area {EQUAL_AREA_CRS})"]
    lines += [*inputs.lines(result.day_a, result.day_b), ""]
    head = f"  {'controller':<32}{a:>12}{b:>12}{'difference':>12}{'gained':>10}{'lost':>10}"
    lines.append(head)
    for row in result.table.itertuples(index=False):
        lines.append(
            f"  {row.controller:<32}{format_km2(row.km2_a):>12}{format_km2(row.km2_b):>12}"
            f"{row.difference_km2:>+12,.0f}{format_km2(row.gained_km2):>10}{format_km2(row.lost_km2):>10}"
        )
    lines.append(
        f"  {'total':<32}{format_km2(result.table.km2_a.sum()):>12}{format_km2(result.table.km2_b.sum()):>12}"
    )
    for day, km2 in zip((a, b), result.overlap_km2, strict=True):
        if km2 > 0:
            lines.append(
                f"  note: on {day} areas of different controllers overlap on {format_km2(km2)} km², "
                "counted as Contested"
            )
    between, newly, no_longer = result.changed_parts_km2()
    lines += [
        "",
        f"Changed hands between controllers: {format_km2(between)} km²"
        + (
            f"; besides, {format_km2(newly)} km² newly mapped and {format_km2(no_longer)} km² "
            "no longer mapped (Unknown: no area that day)"
            if newly or no_longer
            else ""
        ),
    ]
    for row in result.pieces.itertuples(index=False):
        lines.append(f"  {row.controller_a} -> {row.controller_b}: {format_km2(row.area_km2)} km²")
    towns = result.towns
    lines += ["", f"Towns that changed hands: {len(towns)}"]
    for _, town in towns.iterrows():
        arabic = f" ({town['town_ar']})" if pd.notna(town.get("town_ar")) else ""
        lines.append(f"  {town['town']}{arabic}, {town.get(schema.COUNTRY, '')}: "
                     f"{town[FROM]} -> {town[TO]}")  # fmt: skip
    if inputs.events is not None:
        events = result.events
        lines += ["", f"Events inside changed ground, {a} to {b}: {len(events)}"]
        for _, ev in events.iterrows():
            day = pd.Timestamp(ev[schema.EVENT_DATE]).date().isoformat()
            lines.append(
                f"  {day} {ev.get(schema.EVENT_ID, '')} {ev.get(schema.LOCATION, '')} "
                f"({ev.get(schema.SUB_EVENT_TYPE, '') or ev.get(schema.EVENT_TYPE, '')}): "
                f"{ev[FROM]} -> {ev[TO]}"
            )
    return "\n".join(_one_line(line) for line in lines)


def _one_line(text: str) -> str:
    """Data text printed on a terminal: no newline or control character inside a line."""
    return "".join(ch if ch.isprintable() else " " for ch in text)


# --------------------------------------------------------------------------------------------
# check


@click.command("check")
@_data_options
@click.option(
    "--tolerance",
    default=7,
    show_default=True,
    type=click.IntRange(0, 365),
    help="Days after the event at which the layer must show the new controller.",
)
@click.option(
    "--actor-map",
    "actor_map",
    type=click.Path(dir_okay=False),
    default=None,
    help="CSV (actor,controller) adding to or overriding the actor table; an empty "
    "controller removes an actor.",
)
@click.option(
    "--actor",
    "actor_items",
    multiple=True,
    metavar="NAME=CONTROLLER",
    help="Map one actor onto a controller (repeatable; after --actor-map).",
)
@click.option("--from", "date_from", default=None, metavar="YYYY-MM-DD",
              help="Only events on or after this date.")  # fmt: skip
@click.option("--to", "date_to", default=None, metavar="YYYY-MM-DD",
              help="Only events on or before this date.")  # fmt: skip
@_format_option
@click.option("--all", "show_all", is_flag=True, help="List every event checked, not only "
              "those that do not agree.")  # fmt: skip
def check(
    events_file: str | None,
    encoding: str | None,
    date_format: str | None,
    area_paths: tuple[str, ...],
    area_options: AreaOptions,
    tolerance: int,
    actor_map: str | None,
    actor_items: tuple[str, ...],
    date_from: str | None,
    date_to: str | None,
    output_format: str,
    show_all: bool,
) -> None:
    """Check events that record a change of control against the control layer.

    Events whose sub-event type is "Government regains territory", "Non-state actor
    overtakes territory" or "Non-violent transfer of territory" say that actor 1 took the
    place; the layer should show that actor's controller there TOLERANCE days later.

    Exit status: 0 no disagreement and every control-area feature used; 1 disagreements
    listed, or features of the layer set aside (said with their reasons); 2 unusable input.
    """
    import pandas as pd

    from dashboard.changecheck import (
        CheckSettings,
        check_territorial_changes,
        load_actor_map,
        parse_actor_items,
    )

    first = parse_date(date_from, "--from")
    last = parse_date(date_to, "--to")
    if first and last and first > last:
        raise CliError(f"--from {first.isoformat()} is after --to {last.isoformat()}")
    overrides: dict[str, str] = {}
    try:
        if actor_map:
            check_exists(actor_map)
            overrides.update(load_actor_map(actor_map))
        overrides.update(parse_actor_items(actor_items))
    except DashboardError as exc:
        raise CliError(str(exc)) from exc
    inputs = _load(
        events_file,
        area_paths,
        need_events=True,
        options=area_options,
        encoding=encoding,
        date_format=date_format,
    )
    events = inputs.events
    assert events is not None
    dates = pd.to_datetime(events[schema.EVENT_DATE], errors="coerce")
    keep = pd.Series(True, index=events.index)
    if first is not None:
        keep &= dates >= pd.Timestamp(first)
    if last is not None:
        keep &= dates <= pd.Timestamp(last)
    events = events[keep.to_numpy()]
    settings = CheckSettings(tolerance_days=tolerance).with_overrides(overrides)
    try:
        result = check_territorial_changes(events, inputs.areas.areas, settings=settings)
    except DashboardError as exc:
        raise CliError(str(exc)) from exc

    if output_format == "json":
        out = result.to_dict() | inputs.to_dict()
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    elif output_format == "csv":
        rows = result.rows if show_all else _not_agreeing(result.rows)
        _echo_table(_dated(rows), inputs)
    else:
        click.echo(_check_text(result, show_all=show_all, inputs=inputs))
    if result.counts.get("disagrees"):
        sys.exit(EXIT_DISAGREEMENTS)
    sys.exit(EXIT_OK if inputs.complete else EXIT_INCOMPLETE)


def _not_agreeing(rows: pd.DataFrame) -> pd.DataFrame:
    from dashboard.changecheck import AGREES, VERDICT

    return rows[rows[VERDICT] != AGREES]


def _dated(rows: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    from dashboard.changecheck import CHECK_DATE

    out = rows.copy()
    for column in (schema.EVENT_DATE, CHECK_DATE):
        out[column] = pd.to_datetime(out[column]).dt.strftime("%Y-%m-%d")
    return out


_CHECK_HEADER = (
    f"{'event id':<10} {'date':<10}  {'place':<25} {'claimed by':<31} "
    f"{'layer on':<11} {'layer shows':<30} verdict"
)


def _check_text(result: Any, *, show_all: bool, inputs: _Inputs) -> str:
    import pandas as pd

    from dashboard.changecheck import (
        CHECK_DATE,
        CLAIMED,
        LAYER_CONTROLLER,
        NOTE,
        VERDICT,
    )

    s = result.settings
    total = len(result.rows)
    lines = [
        (
            f"Territorial-change check: {total} events whose sub-event type records a change "
            f"of control, the layer read {s.tolerance_days} days after each"
        ),
        "  " + ", ".join(f"{verdict}: {n}" for verdict, n in result.counts.items()),
        *inputs.lines(),
    ]
    lines += [f"note: {note}" for note in result.notes]
    rows = _dated(result.rows if show_all else _not_agreeing(result.rows))
    if len(rows):
        lines += ["", _CHECK_HEADER]
    for _, r in rows.iterrows():
        layer = r[LAYER_CONTROLLER] if pd.notna(r[LAYER_CONTROLLER]) else "-"
        claimed = r[CLAIMED] if pd.notna(r[CLAIMED]) else f"? ({r[schema.ACTOR1]})"
        place = r[schema.LOCATION] if pd.notna(r[schema.LOCATION]) else ""
        line = (
            f"{r[schema.EVENT_ID]!s:<10} {r[schema.EVENT_DATE]}  {str(place)[:25]:<25} "
            f"{str(claimed)[:31]:<31} {r[CHECK_DATE]}: {str(layer)[:30]:<30} {r[VERDICT]}"
        )
        if r[NOTE]:
            line += f" ({r[NOTE]})"
        lines.append(line)
    if len(result.unmapped_actors):
        lines += ["", "Actors not in the mapping table (not guessed; map them with --actor):"]
        for actor, n in zip(
            result.unmapped_actors["actor"], result.unmapped_actors["events"], strict=True
        ):
            lines.append(f"  {actor}: {n} event(s)")
    return "\n".join(_one_line(line) for line in lines)


# --------------------------------------------------------------------------------------------
# history

HISTORY_TABLES = ("spans", "events")


@dataclasses.dataclass(frozen=True)
class _Where:
    """The point asked about, and how it was found (for the first line of the answer)."""

    latitude: float
    longitude: float
    label: str


def _point(value: str) -> tuple[float, float]:
    """``LAT,LON`` (degrees; a space or a comma between them)."""
    parts = [p for p in re.split(r"[,\s;]+", value.strip()) if p]
    try:
        if len(parts) != 2:
            raise ValueError
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError:
        raise CliError(
            f"--at {value!r}: expected LAT,LON in decimal degrees, e.g. --at 36.34,43.13"
        ) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise CliError(
            f"--at {value!r}: off the globe (latitude within ±90, longitude within ±180; "
            "latitude comes first)"
        )
    return lat, lon


def _find_place(name: str, countries: Sequence[str]) -> _Where:
    """The place ``name`` through the project's gazetteer, or a one-line refusal that
    lists the candidates: an ambiguous or unknown name is never guessed."""
    from dashboard.history import find_place

    try:
        answer = find_place(name, countries)
    except DashboardError as exc:
        raise CliError(str(exc)) from exc
    if answer.candidates:
        raise CliError(
            f"--place {name!r} names several places in {answer.where}: {answer.listed()}; "
            "give --country, or the point with --at LAT,LON"
        )
    match = answer.place
    if match is None:
        raise CliError(
            f"--place {name!r}: not found in {answer.where} (GeoNames and the alias table); "
            "check the spelling, give --country, or the point with --at LAT,LON"
        )
    label = f"{match.place.name}, {match.place.country_code} ({answer.how})"
    return _Where(match.latitude, match.longitude, label)


@click.command("history")
@click.option("--at", "at", default=None, metavar="LAT,LON",
              help="The point, in decimal degrees (latitude first).")  # fmt: skip
@click.option("--place", "place", default=None, metavar="NAME",
              help="A place name in any spelling, Latin or Arabic (the project's gazetteer).")  # fmt: skip
@click.option("--country", "countries", multiple=True, metavar="NAME",
              help="Search --place in this country (repeatable); default: the countries "
              "of the control areas.")  # fmt: skip
@click.option("--radius-km", default=10.0, show_default=True, type=click.FloatRange(min=0.1, max=500),
              help="List change-of-control events within this distance.")  # fmt: skip
@_data_options
@click.option("--no-events", is_flag=True, help="The control spans alone (no events read).")
@_format_option
@click.option(
    "--table",
    type=click.Choice(HISTORY_TABLES),
    default="spans",
    show_default=True,
    help="The table written by --format csv.",
)
def history(
    at: str | None,
    place: str | None,
    countries: tuple[str, ...],
    radius_km: float,
    events_file: str | None,
    encoding: str | None,
    date_format: str | None,
    area_paths: tuple[str, ...],
    area_options: AreaOptions,
    no_events: bool,
    output_format: str,
    table: str,
) -> None:
    """Who held one place, and when: the controller of the point on every date of the
    control layer (consecutive versions that agree merged), with the change-of-control
    events near it and their sources.

    Example: conflictmap history --place Mosul
    """
    from dashboard.history import HistoryError, control_history

    if (at is None) == (place is None):
        raise CliError("give the point with --at LAT,LON or a name with --place NAME (one of them)")
    point = _point(at) if at is not None else None
    inputs = _load(
        events_file,
        area_paths,
        need_events=not no_events,
        options=area_options,
        encoding=encoding,
        date_format=date_format,
    )
    if point is not None:
        where = _Where(point[0], point[1], "the point given")
    else:
        assert place is not None
        from dashboard.pipeline import area_countries

        where = _find_place(place, countries or area_countries(inputs.areas.areas))
    try:
        result = control_history(
            inputs.areas.areas,
            where.latitude,
            where.longitude,
            events=inputs.events,
            radius_km=radius_km,
        )
    except HistoryError as exc:
        raise CliError(str(exc)) from exc

    if output_format == "json":
        out = {"place": where.label} | result.to_dict() | inputs.to_dict()
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    elif output_format == "csv":
        frame = result.span_table() if table == "spans" else result.events
        _echo_table(frame, inputs)
    else:
        click.echo(_history_text(result, where, inputs, events_read=not no_events))
    sys.exit(EXIT_OK if inputs.complete else EXIT_INCOMPLETE)


def _history_text(result: Any, where: _Where, inputs: _Inputs, *, events_read: bool) -> str:
    import pandas as pd

    from dashboard.history import NO_AREA

    first = result.first_day.isoformat() if result.first_day else "?"
    if result.last_day is not None:
        period = f"the layer's dates {first} to {result.last_day.isoformat()}"
    else:
        period = f"the layer's dates from {first}"
    lines = [
        (
            f"Control history at {where.latitude:.4f}, {where.longitude:.4f} "
            f"({where.label}), over {period}"
        ),
    ]
    for span in result.spans:
        end = span.end.isoformat() if span.end else "(no end)"
        days = f"{span.days:,} days" if span.days is not None else "open-ended"
        who = span.controller
        if span.controller == NO_AREA:
            who = "no control area covers the point"
        elif len(span.claimants) > 1:
            who += f" (claimed by {', '.join(span.claimants)})"
        versions = f"{span.versions} version{'s' if span.versions != 1 else ''} of the layer"
        lines.append(f"  {span.start.isoformat()} to {end:<10}  {days:>12}  {who}  [{versions}]")
        if span.sources:
            lines.append(f"      source: {span.source_text()}")
    holders = result.holders()
    if not holders:
        lines.append("No controller holds this point alone on any date of the layer.")
    else:
        lines.append(
            f"{result.changes} change{'s' if result.changes != 1 else ''} of controller; "
            f"held by {', '.join(holders)}."
        )
    if result.carried_forward_after is not None:
        lines.append(
            f"  note: the layer's last change is {result.carried_forward_after.isoformat()}; "
            "after it the last span is the map carried forward, not observed"
        )
    lines += inputs.lines()
    if events_read:
        lines += [
            "",
            (
                f"Change-of-control events within {result.radius_km:g} km: "
                f"{len(result.events)} (of {result.events_near:,} events of any type within it)"
            ),
        ]
        if result.events_without_position:
            lines.append(
                f"  note: {result.events_without_position:,} events have no position and "
                "could not be placed"
            )
        for _, r in result.events.iterrows():
            date = pd.Timestamp(r.get("event_date")).date().isoformat()
            actors = str(r.get("actor1") or "?")
            if pd.notna(r.get("actor2")) and str(r.get("actor2")).strip():
                actors += f" against {r.get('actor2')}"
            lines.append(
                f"  {date}  {r.get('distance_km'):>5.1f} km  {r.get('location')!s:<20}  "
                f"{r.get('sub_event_type')}: {actors}  [{r.get('event_id')}]  "
                f"source: {r.get('source')}"
            )
    return "\n".join(_one_line(line) for line in lines)
