"""``conflictmap export``: a view of the dashboard as PNG, PDF, HTML, GIF or MP4."""

from __future__ import annotations

import datetime as dt
import difflib
import os
import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import click

from dashboard.cli.common import (
    CONTEXT_SETTINGS,
    CliError,
    OneLineCommand,
    parse_date,
    progress_bar,
)
from dashboard.cli.options import (
    area_read_options,
    areas_option,
    date_format_option,
    encoding_option,
    events_option,
)
from dashboard.errors import DashboardError

if TYPE_CHECKING:  # the pipeline loads when a command runs: `--help` stays quick
    import geopandas as gpd

    from dashboard.export.data import ExportData
    from dashboard.export.render import ExportSettings
    from dashboard.pipeline import AreaOptions
    from dashboard.viewstate import CompareView, Notice, Options, ViewState

FORMATS: tuple[str, ...] = ("png", "pdf", "html", "gif", "mp4")
ANIMATED: tuple[str, ...] = ("gif", "mp4")
_SUFFIXES = {
    ".png": "png",
    ".pdf": "pdf",
    ".html": "html",
    ".htm": "html",
    ".gif": "gif",
    ".mp4": "mp4",
}


def _choose(values: Sequence[str], allowed: Sequence[str], option: str) -> tuple[str, ...]:
    """Filter values checked against the data, as the app's URL parser does."""
    known = set(allowed)
    out: list[str] = []
    for value in values:
        if value not in known:
            same = [c for c in allowed if c.casefold() == value.casefold()]
            close = same or difflib.get_close_matches(value, list(allowed), n=3)
            hint = f" (did you mean {', '.join(repr(c) for c in close)}?)" if close else ""
            raise CliError(f"{option} {value!r} is not in the loaded data{hint}")
        if value not in out:
            out.append(value)
    return tuple(out)


def _precisions(values: Sequence[str]) -> tuple[int, ...]:
    levels: set[int] = set()
    for value in values:
        for part in value.split(","):
            part = part.strip()
            if part not in ("1", "2", "3"):
                raise CliError(f"--precision {part!r}: expected 1, 2 or 3")
            levels.add(int(part))
    return tuple(sorted(levels))


def _format_of(fmt: str | None, output: str) -> str:
    suffix = Path(output).suffix.lower()
    if fmt:
        return fmt
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    raise CliError(f"cannot tell the format from {output!r}: add --format {'|'.join(FORMATS)}")


def _write(path: Path, data: bytes) -> None:
    """Write atomically: a reader never sees half a file, a failure leaves no debris."""
    if path.is_dir():
        raise CliError(f"{path}: is a directory; give a file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        umask = os.umask(0)  # mkstemp makes the file private: give it the usual mode
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _size(n: int) -> str:
    return f"{n / 1024:,.0f} KB" if n < 1024 * 1024 else f"{n / 1024 / 1024:,.1f} MB"


def _check_compare_options(
    fmt: str,
    compare_dates: tuple[str, str] | None,
    focus: str | None,
    date_text: str | None,
    window: int | None,
) -> None:
    if compare_dates is not None and (date_text is not None or window is not None):
        raise CliError(
            "--compare draws the control areas of its two dates: drop --date and --window"
        )
    if fmt not in ("png", "pdf"):
        raise CliError(f"the change map (--compare, --focus) is made as png or pdf, not {fmt}")


def _coverage(areas: gpd.GeoDataFrame, options: Options) -> tuple[dt.date, dt.date]:
    """The dates a comparison may take: the period the control areas cover, an open side
    (a last snapshot with no end, as OCHA's maps come) ending at the data's own first or
    last date, as the page's compare mode offers them."""
    from dashboard.compare import layer_coverage

    first, last = layer_coverage(areas)
    first = first or options.first
    return first, max(first, last or options.last)


def _controllers(areas: gpd.GeoDataFrame) -> list[str]:
    from dashboard import schema
    from dashboard.compare import controller_order

    return controller_order(areas[schema.CONTROLLER].dropna().astype(str)) if len(areas) else []


def _compare_from_url(
    url: str, areas: gpd.GeoDataFrame, view: ViewState, options: Options
) -> tuple[CompareView | None, list[Notice]]:
    """The compare view of a permalink with ``mode=compare`` (None for a single-date one)."""
    from urllib.parse import parse_qs, urlsplit

    from dashboard.viewstate import MODE_COMPARE, parse_compare_query

    params = parse_qs(urlsplit(url).query, keep_blank_values=True)
    if MODE_COMPARE not in params.get("mode", []):
        return None, []
    first, last = _coverage(areas, options)
    compare, notices = parse_compare_query(
        params, first=first, last=last, default_b=view.as_of, controllers=_controllers(areas)
    )
    return (compare if compare.mode == MODE_COMPARE else None), notices


def _compare_view(
    dates: tuple[str, str] | None,
    focus: str | None,
    areas: gpd.GeoDataFrame,
    base: CompareView | None,
    options: Options,
) -> CompareView:
    """The compare view of --compare and --focus (over a permalink's, when one was given)."""
    from dashboard.viewstate import FOCUS_ALL, MODE_COMPARE, CompareView

    if dates is None and base is None:
        raise CliError("--focus goes with --compare FROM TO (or a compare permalink in --view-url)")
    first, last = _coverage(areas, options)
    if dates is not None:
        day_a, day_b = (parse_date(text, "--compare") for text in dates)
        assert day_a is not None and day_b is not None
        for day in (day_a, day_b):
            if not first <= day <= last:
                raise CliError(
                    f"--compare {day.isoformat()} is outside the control areas "
                    f"({first.isoformat()} to {last.isoformat()})"
                )
        if day_a > day_b:
            raise CliError(
                f"--compare {day_a.isoformat()} {day_b.isoformat()}: the first date is after "
                "the second (give FROM then TO)"
            )
    else:
        assert base is not None
        day_a, day_b = base.day_a, base.day_b
    chosen = base.focus if base is not None else FOCUS_ALL
    if focus is not None:
        chosen = (
            focus if focus == FOCUS_ALL else _choose([focus], _controllers(areas), "--focus")[0]
        )
    return CompareView(mode=MODE_COMPARE, day_a=day_a, day_b=day_b, focus=chosen)


def _change_map(
    data: ExportData, view: ViewState, compare: CompareView, settings: ExportSettings, fmt: str
) -> bytes:
    from dashboard.changemap import change_of
    from dashboard.export.change import render_change_pdf, render_change_png

    change = change_of(data.areas, data.events, view.filters, compare)
    render = render_change_png if fmt == "png" else render_change_pdf
    return render(data, view, change, settings)


@click.command(
    "export",
    cls=OneLineCommand,
    context_settings=CONTEXT_SETTINGS,
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="File to write (the format follows its suffix unless --format is given).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="png (1600x1000 x --scale), pdf (landscape page), html (interactive, "
    "offline), gif or mp4 (animated from --from to --to).",
)
@click.option(
    "--date",
    "date_text",
    metavar="YYYY-MM-DD",
    default=None,
    help="As-of date: control areas on it, events in the window ending on it. "
    "Default: the app's default (the latest date the areas cover).",
)
@click.option(
    "--window",
    type=click.IntRange(1, 3660),
    default=None,
    help="Days of events up to and including the date (default: the app's).",
)
@click.option(
    "--view-url",
    default=None,
    metavar="URL",
    help="A dashboard permalink (http://host/?date=...&window=...): export that "
    "view. Options given as well override its values.",
)
@click.option(
    "--bbox",
    default=None,
    metavar="MINX,MINY,MAXX,MAXY",
    help="Extent in degrees (lon/lat). Default: the permalink's map view, else all the data.",
)
@click.option(
    "--title",
    default=None,
    help="Title of the map (default: 'Conflict events and territorial control').",
)
@click.option(
    "--scale",
    type=click.FloatRange(1, 4),
    default=1.0,
    show_default=True,
    help="Pixel multiplier for png/gif/mp4: 2 gives 3200x2000.",
)
@click.option(
    "--paper",
    type=click.Choice(["a4", "letter"]),
    default="a4",
    show_default=True,
    help="PDF page, landscape.",
)
@click.option(
    "--from",
    "start_text",
    metavar="YYYY-MM-DD",
    default=None,
    help="gif/mp4: first date of the animation.",
)
@click.option(
    "--to",
    "end_text",
    metavar="YYYY-MM-DD",
    default=None,
    help="gif/mp4: last date of the animation (always the last frame).",
)
@click.option(
    "--step",
    type=click.Choice(["day", "week", "month"]),
    default="week",
    show_default=True,
    help="gif/mp4: step between frames.",
)
@click.option(
    "--frame-ms",
    type=click.IntRange(50, 60_000),
    default=800,
    show_default=True,
    help="gif/mp4: how long each frame shows, in milliseconds (the last one at least 2.4 s).",
)
@click.option(
    "--type",
    "types",
    multiple=True,
    metavar="TYPE",
    help="Event type to show (repeatable); default: all.",
)
@click.option(
    "--subtype",
    "subtypes",
    multiple=True,
    metavar="SUBTYPE",
    help="Sub-event type to show (repeatable).",
)
@click.option(
    "--actor",
    "actors",
    multiple=True,
    metavar="ACTOR",
    help="Actor (either side) to show (repeatable).",
)
@click.option(
    "--country", "countries", multiple=True, metavar="COUNTRY", help="Country to show (repeatable)."
)
@click.option(
    "--admin1",
    "admin1",
    multiple=True,
    metavar="ADMIN1",
    help="Admin1 region to show (repeatable).",
)
@click.option(
    "--min-fatalities",
    type=click.IntRange(0, 100_000),
    default=None,
    help="Show only events with at least this many fatalities (unknown never passes).",
)
@click.option(
    "--precision",
    "precisions",
    multiple=True,
    metavar="1,2,3",
    help="Location precision levels to show: 1 the town, 2 near it, 3 the region.",
)
@events_option
@encoding_option
@date_format_option
@areas_option
@area_read_options
@click.option(
    "--db",
    "db_url",
    default=None,
    help="Read the events and areas from this PostgreSQL/PostGIS URL (see `conflictmap db`); "
    "default: $DASHBOARD_DB when neither --events nor --areas is given, else the files.",
)
@click.option(
    "--tiles",
    is_flag=True,
    help="Draw OpenStreetMap tiles under the map when they can be fetched (network).",
)
@click.option(
    "--compare",
    "compare_dates",
    nargs=2,
    metavar="FROM TO",
    default=None,
    help="png/pdf of the compare mode's change map: the ground that changed hands from "
    "FROM to TO (YYYY-MM-DD), with the events of the span inside it. A permalink with "
    "mode=compare (--view-url) makes the same map.",
)
@click.option(
    "--focus",
    default=None,
    metavar="CONTROLLER",
    help="With --compare: only this controller's gains and losses.",
)
def export(
    output: str,
    fmt: str | None,
    date_text: str | None,
    window: int | None,
    view_url: str | None,
    bbox: str | None,
    title: str | None,
    scale: float,
    paper: str,
    start_text: str | None,
    end_text: str | None,
    step: str,
    frame_ms: int,
    types: tuple[str, ...],
    subtypes: tuple[str, ...],
    actors: tuple[str, ...],
    countries: tuple[str, ...],
    admin1: tuple[str, ...],
    min_fatalities: int | None,
    precisions: tuple[str, ...],
    events_file: str | None,
    encoding: str | None,
    date_format: str | None,
    area_paths: tuple[str, ...],
    area_options: AreaOptions,
    db_url: str | None,
    tiles: bool,
    compare_dates: tuple[str, str] | None,
    focus: str | None,
) -> None:
    """Export a view of the map for a briefing: PNG, PDF, standalone HTML, GIF or MP4.

    The same view as the dashboard: control areas on --date, the events of the --window
    days ending on it that pass the filters, the same colours; with the title, the date,
    a legend, a scale bar, a north arrow and the sources in a footer.

    \b
    Examples:
      conflictmap export --date 2017-11-09 --window 30 -o abu-kamal.png
      conflictmap export --view-url 'http://localhost:8501/?date=2015-06-15&window=90' -o v.pdf
      conflictmap export --format gif --from 2017-10-01 --to 2017-12-31 --step week -o q4.gif
      conflictmap export --compare 2017-05-01 2017-11-30 -o changes.pdf
    """
    fmt = _format_of(fmt, output)
    if compare_dates is not None or focus is not None:
        _check_compare_options(fmt, compare_dates, focus, date_text, window)
    start, end = parse_date(start_text, "--from"), parse_date(end_text, "--to")
    animated = fmt in ANIMATED
    if animated and (start is None or end is None):
        raise CliError(f"{fmt} needs --from and --to (the dates of the first and last frame)")
    if not animated and (start_text or end_text):
        raise CliError(f"--from and --to make an animation: use --format gif or mp4, not {fmt}")
    as_of = parse_date(date_text, "--date")
    try:
        box = None
        if bbox is not None:
            from dashboard.export.view import parse_bbox

            box = parse_bbox(bbox)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    if fmt == "mp4":
        from dashboard.export.render import mp4_available

        if not mp4_available():
            raise CliError("mp4 needs PyAV (pip install 'conflictmap[video]'); gif needs nothing")

    from dashboard.export import (
        ExportError,
        ExportSettings,
        load_export_data,
        open_db_source,
        render_animation,
        render_html,
        render_pdf,
        render_png,
        view_from_url,
    )
    from dashboard.pipeline import BuildSettings
    from dashboard.timewindow import Filters, window_bounds
    from dashboard.viewstate import default_state

    own_areas = bool(area_paths or area_options.source_files())
    if db_url and (events_file or own_areas):
        raise CliError("--db reads the events and areas from the database: drop --events/--areas")
    if not (db_url or events_file or own_areas):
        db_url = os.environ.get("DASHBOARD_DB", "").strip() or None
    source = None
    try:
        if db_url:
            source = open_db_source(db_url)
            options = source.options
        else:
            settings = BuildSettings(areas=area_options, encoding=encoding, date_format=date_format)
            data = load_export_data(events_file, area_paths, settings=settings)
            options = data.options
            ledger = data.area_ledger
            if ledger is not None and (ledger.set_aside or ledger.repaired):
                # the footer says it too; a script reading stderr should not miss it
                click.echo(f"warning: control areas: {ledger.sentence()}", err=True)
    except DashboardError as exc:
        raise CliError(str(exc)) from None

    areas = source.areas if source is not None else data.areas
    change_view = None
    if view_url is not None:
        view, notices = view_from_url(view_url, options)
        change_view, more = _compare_from_url(view_url, areas, view, options)
        for notice in [*notices, *more]:
            click.echo(f"warning: {notice.text()}", err=True)
    else:
        view = default_state(options)
    if change_view is not None and compare_dates is None and focus is None:
        if fmt not in ("png", "pdf"):
            # the permalink's single-date part is a view of its own: html, gif and mp4 show it
            click.echo(
                f"warning: the permalink is of compare mode; a {fmt} shows its single-date "
                "view (the change map is made as png or pdf)",
                err=True,
            )
            change_view = None
        elif date_text is not None or window is not None:
            raise CliError(
                "the permalink is of compare mode, whose change map draws its two dates: "
                "drop --date and --window"
            )
    if compare_dates is not None or focus is not None:
        change_view = _compare_view(compare_dates, focus, areas, change_view, options)
    if change_view is not None and fmt not in ("png", "pdf"):
        raise CliError(f"the change map is made as png or pdf, not {fmt}")
    if as_of is not None:
        if not options.first <= as_of <= options.last:
            raise CliError(
                f"--date {as_of.isoformat()} is outside the data ({options.first.isoformat()} "
                f"to {options.last.isoformat()})"
            )
        view = replace(view, as_of=as_of)
    if window is not None:
        view = replace(view, window=window)
    for option, day in (("--from", start), ("--to", end)):
        if day is not None and not options.first <= day <= options.last:
            raise CliError(
                f"{option} {day.isoformat()} is outside the data ({options.first.isoformat()} "
                f"to {options.last.isoformat()})"
            )
    f = view.filters
    view = replace(
        view,
        filters=Filters(
            event_types=_choose(types, options.event_types, "--type") or f.event_types,
            sub_event_types=_choose(subtypes, options.sub_event_types, "--subtype")
            or f.sub_event_types,
            actors=_choose(actors, options.actors, "--actor") or f.actors,
            countries=_choose(countries, options.countries, "--country") or f.countries,
            admin1=_choose(admin1, options.admin1, "--admin1") or f.admin1,
            min_fatalities=f.min_fatalities if min_fatalities is None else min_fatalities,
            precisions=_precisions(precisions) or f.precisions,
        ),
    )
    if source is not None:  # only the dates drawn: the first frame's window to the last
        first_day = window_bounds(start or view.as_of, view.window)[0]
        last_day = end or view.as_of
        if change_view is not None:  # the events of the compared span
            first_day, last_day = change_view.day_a, change_view.day_b
        try:
            data = source.data(first_day, last_day, view.filters)
        except DashboardError as exc:
            raise CliError(str(exc)) from None
    settings = ExportSettings(
        title=title, bbox=box, scale=scale, paper=paper, tiles=tiles, frame_ms=frame_ms
    )
    path = Path(output)
    try:
        if change_view is not None:
            blob = _change_map(data, view, change_view, settings, fmt)
        elif fmt == "png":
            blob = render_png(data, view, settings)
        elif fmt == "pdf":
            blob = render_pdf(data, view, settings)
        elif fmt == "html":
            blob = render_html(data, view, settings).encode("utf-8")
        else:
            assert start is not None and end is not None
            with progress_bar() as stages:
                progress = (
                    None
                    if stages is None
                    else lambda done, total: stages(f"{fmt} frames", done, total)
                )
                blob = render_animation(
                    data,
                    view,
                    start=start,
                    end=end,
                    step=step,
                    fmt=fmt,
                    settings=settings,
                    progress=progress,
                )
    except (ExportError, DashboardError, ValueError) as exc:
        raise CliError(str(exc)) from None
    _write(path, blob)
    what = "" if change_view is None else ", change map"
    click.echo(f"wrote {path} ({fmt}{what}, {_size(len(blob))})")
