"""Options several ``conflictmap`` commands share, spelled once."""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import click

from dashboard import schema

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")

#: ``--events FILE``: an events file instead of the bundled demo.
events_option = click.option(
    "--events",
    "events_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Events file (default: the bundled demo events).",
)
#: ``--areas FILE`` (repeatable): control-area files instead of the bundled ones.
areas_option = click.option(
    "--areas",
    "area_paths",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Control-area file (repeatable; default: the bundled areas).",
)
#: ``--encoding NAME``: how the events file's bytes are read (default: detected).
encoding_option = click.option(
    "--encoding",
    default=None,
    metavar="NAME",
    help="The events file's encoding (e.g. cp1252, cp1256, latin-1); default: detected "
    "(UTF-8, UTF-16 with BOM, Arabic Windows-1256, Windows-1252).",
)
#: ``--date-format FORMAT``: how the events file's dates are written (default: inferred).
date_format_option = click.option(
    "--date-format",
    "date_format",
    default=None,
    metavar="FORMAT",
    help="How the dates are written, as strftime codes, e.g. '%d/%m/%Y %H:%M:%S'; "
    "values that do not match are set aside. Default: inferred from all the values.",
)

# How to read the area files (``build``, ``compare``, ``check``): see :func:`area_read_options`.
_AREA_READ_OPTIONS = (
    click.option(
        "--controller-field",
        default=schema.CONTROLLER,
        show_default=True,
        help="Area field naming who controls it.",
    ),
    click.option(
        "--controller",
        "controller",
        default=None,
        metavar="NAME",
        help="The controller of every feature of an area file that has no controller "
        "field (a series of one side's territory whose files carry no properties).",
    ),
    click.option(
        "--from-field",
        default=schema.VALID_FROM,
        show_default=True,
        help="Area validity start field.",
    ),
    click.option(
        "--to-field", default=schema.VALID_TO, show_default=True, help="Area validity end field."
    ),
    click.option(
        "--date-field",
        default=None,
        help="Area field holding a snapshot date (snapshots become intervals).",
    ),
    click.option(
        "--as-of",
        "as_of_items",
        multiple=True,
        metavar="[FILE=]DATE",
        help="Snapshot date of area files without a date field: DATE for all, FILE=DATE for "
        "one (repeatable). Without it, a date in the file name (areas_20240708.geojson) is "
        "used, and said.",
    ),
    click.option(
        "--repair/--no-repair",
        default=True,
        show_default=True,
        help="Repair self-intersecting polygons with make_valid (each reported with its km² "
        "before and after), or set them aside.",
    ),
    click.option(
        "--assume-crs",
        default=None,
        metavar="CRS",
        help="CRS of area files that declare none (e.g. EPSG:4326).",
    ),
    click.option(
        "--rename-controller",
        "renames",
        multiple=True,
        metavar="OLD=NEW",
        help="Rename a controller of the area files (repeatable).",
    ),
    click.option(
        "--areas-table",
        "areas_table",
        type=click.Path(dir_okay=False),
        default=None,
        help="A table of control per administrative unit (unit name or P-code, status, "
        "date), each row the unit's status as of its date; needs --boundaries.",
    ),
    click.option(
        "--boundaries",
        type=click.Path(),
        default=None,
        help="The polygons of the table's units (e.g. OCHA COD-AB admin3 GeoJSON).",
    ),
    click.option(
        "--unit-field",
        default=None,
        metavar="COLUMN",
        help="The table's column naming the units (default: found from its values).",
    ),
    click.option(
        "--unit-match",
        "unit_match_items",
        multiple=True,
        metavar="NAME=PCODE",
        help="The unit a table name stands for, where it is spelled unlike the boundaries "
        "(repeatable).",
    ),
    click.option(
        "--unit-matches",
        "unit_matches_file",
        type=click.Path(dir_okay=False),
        default=None,
        help="CSV of (name, P-code) pairs, as many --unit-match at once.",
    ),
    click.option(
        "--areas-points",
        "areas_points",
        type=click.Path(dir_okay=False),
        default=None,
        help="A list of localities (name or coordinates, controller, date): the ground "
        "goes to the nearest locality within --max-distance (an approximation).",
    ),
    click.option(
        "--max-distance",
        "max_distance_km",
        type=click.FloatRange(min=0.1, max=500),
        default=25.0,
        show_default=True,
        metavar="KM",
        help="The farthest ground one locality speaks for; farther is 'No information'.",
    ),
    click.option(
        "--outline",
        type=click.Path(),
        default=None,
        help="Polygons bounding the localities' ground (default: the bundled countries "
        "that hold them).",
    ),
    click.option(
        "--ocha-names",
        is_flag=True,
        help="Rename the OCHA 2015 'Areas of Influence' actor types to the bundled names "
        "(Government (SAA), ISIS-affiliated groups, Contested Areas).",
    ),
)
_AREA_READ_PARAMS = (
    "controller_field",
    "controller",
    "from_field",
    "to_field",
    "date_field",
    "as_of_items",
    "repair",
    "assume_crs",
    "renames",
    "ocha_names",
    "areas_table",
    "boundaries",
    "unit_field",
    "unit_match_items",
    "unit_matches_file",
    "areas_points",
    "max_distance_km",
    "outline",
)


def area_read_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Add the options that say how to read control-area files.

    The command receives them as one ``area_options`` keyword (a
    :class:`dashboard.pipeline.AreaOptions`), not one parameter each.
    """

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        values = {name: kwargs.pop(name) for name in _AREA_READ_PARAMS}
        kwargs["area_options"] = area_options_from(**values)
        return func(*args, **kwargs)

    for option in reversed(_AREA_READ_OPTIONS):
        wrapper = option(wrapper)
    return wrapper


def area_options_from(
    *,
    controller_field: str = schema.CONTROLLER,
    controller: str | None = None,
    from_field: str = schema.VALID_FROM,
    to_field: str = schema.VALID_TO,
    date_field: str | None = None,
    as_of_items: Sequence[str] = (),
    repair: bool = True,
    assume_crs: str | None = None,
    renames: Sequence[str] = (),
    ocha_names: bool = False,
    areas_table: str | None = None,
    boundaries: str | None = None,
    unit_field: str | None = None,
    unit_match_items: Sequence[str] = (),
    unit_matches_file: str | None = None,
    areas_points: str | None = None,
    max_distance_km: float = 25.0,
    outline: str | None = None,
) -> Any:
    """The :class:`dashboard.pipeline.AreaOptions` the command-line values describe."""
    from dashboard.pipeline import AreaOptions

    as_of, by_file = parse_as_of(as_of_items)
    names = controller_names(renames, ocha=ocha_names)
    return AreaOptions(
        controller_field=controller_field,
        from_field=from_field,
        to_field=to_field,
        date_field=date_field,
        as_of=as_of,
        as_of_by_file=by_file or None,
        controller=controller.strip() if controller and controller.strip() else None,
        repair=repair,
        assume_crs=assume_crs,
        controller_names=names or None,
        table=_absolute(areas_table),
        boundaries=_absolute(boundaries),
        unit_field=unit_field,
        unit_matches=unit_matches(unit_match_items, unit_matches_file) or None,
        points=_absolute(areas_points),
        outline=_absolute(outline),
        max_distance_km=max_distance_km,
    )


def _absolute(path: str | None) -> str | None:
    # Absolute: ``serve`` hands the options to the app, which may run elsewhere.
    return str(Path(path).resolve()) if path else None


def unit_matches(items: Sequence[str], path: str | None) -> dict[str, str]:
    """``--unit-matches FILE`` pairs, then ``--unit-match NAME=PCODE`` values over them.

    Raises
    ------
    click.BadParameter
        A value that is not ``NAME=PCODE``, or a file whose rows are not two fields.
    """
    out: dict[str, str] = {}
    if path:
        from dashboard.readers.plaintable import read_plain_table

        table = read_plain_table(path)
        columns = [c for c in table.frame.columns if c != schema.SOURCE_ROW]
        if len(columns) < 2:
            raise click.BadParameter(
                f"{path}: expected two columns (name, P-code); found {columns}",
                param_hint="--unit-matches",
            )
        frame = table.frame
        blank = frame[frame[columns[0]].isna() | frame[columns[1]].isna()][schema.SOURCE_ROW]
        if len(blank):
            raise click.BadParameter(
                f"{path}: rows {', '.join(map(str, blank.tolist()[:10]))} lack a name or a P-code",
                param_hint="--unit-matches",
            )
        pairs = list(zip(frame[columns[0]], frame[columns[1]], strict=True))
        if any(ch.isdigit() for ch in columns[1]):  # no header: the first line is a pair
            pairs.insert(0, (columns[0], columns[1]))
        out.update({str(name): str(code) for name, code in pairs})
    for item in items:
        name, sep, code = item.rpartition("=")
        if not sep or not name.strip() or not code.strip():
            raise click.BadParameter(f"{item!r}: expected NAME=PCODE", param_hint="--unit-match")
        out[name.strip()] = code.strip()
    return out


def controller_names(items: Sequence[str], *, ocha: bool) -> dict[str, str]:
    """``--rename-controller OLD=NEW`` values (and ``--ocha-names``) as ``{old: new}``.

    Raises
    ------
    click.BadParameter
        A value that is not ``OLD=NEW``.
    """
    from dashboard.areas import OCHA_AOI_2015_NAMES

    out: dict[str, str] = dict(OCHA_AOI_2015_NAMES) if ocha else {}
    for item in items:
        old, sep, new = item.partition("=")
        if not sep or not old.strip() or not new.strip():
            raise click.BadParameter(
                f"{item!r}: expected OLD=NEW", param_hint="--rename-controller"
            )
        out[old.strip()] = new.strip()
    return out


def parse_as_of(items: Sequence[str]) -> tuple[str | None, dict[str, str]]:
    """``--as-of`` values: (the date for all files, {file: date}).

    Raises
    ------
    click.BadParameter
        A value that is not ``YYYY-MM-DD`` or ``FILE=YYYY-MM-DD``, or two dates for all.
    """
    default: str | None = None
    by_file: dict[str, str] = {}
    for item in items:
        name, sep, day = item.rpartition("=")
        day = day.strip()
        if not _DATE_RE.fullmatch(day) or (sep and not name.strip()):
            raise click.BadParameter(
                f"{item!r}: expected DATE or FILE=DATE, the date as YYYY-MM-DD",
                param_hint="--as-of",
            )
        try:
            dt.date.fromisoformat(day)
        except ValueError:
            raise click.BadParameter(
                f"{item!r}: {day} is not a date", param_hint="--as-of"
            ) from None
        if not sep:
            if default is not None and default != day:
                raise click.BadParameter(
                    f"two dates for all files ({default}, {day}): give FILE=DATE for each file",
                    param_hint="--as-of",
                )
            default = day
        else:
            by_file[name.strip()] = day
    return default, by_file


#: The events layouts ``--input-format`` names.
INPUT_FORMATS = ("canonical", "acled", "ucdp", "mapped")


def mapping_from(options: Sequence[str], mapping_file: str | None) -> dict[str, str] | None:
    """The column mapping of ``--mapping FILE`` and ``--map`` (the latter winning)."""
    from dashboard.readers import load_mapping, parse_map_options

    mapping: dict[str, str] = {}
    if mapping_file:
        mapping.update(load_mapping(mapping_file))
    if options:
        mapping.update(parse_map_options(list(options)))
    return mapping or None


def read_options(
    mapping_file: str | None, *, encoding: str | None, date_format: str | None
) -> tuple[str | None, str | None]:
    """``--encoding`` and ``--date-format``, else the mapping file's keys of the same names."""
    if mapping_file and (encoding is None or date_format is None):
        from dashboard.readers import read_mapping_file

        given = read_mapping_file(mapping_file)
        encoding = encoding or given.encoding
        date_format = date_format or given.date_format
    return encoding, date_format


def input_options(func: Callable, *, format_alias: bool = True) -> Callable:
    """The options every command that reads an events file shares.

    ``--format`` names the input layout, except in ``validate`` where it names the
    report's format (text|json) as the issue tracker's users asked; ``--input-format``
    works everywhere.
    """
    func = click.option(
        "--mapping",
        "mapping_file",
        type=click.Path(dir_okay=False),
        help="YAML or TOML file mapping the file's columns onto canonical ones.",
    )(func)
    func = click.option(
        "--map",
        "map_items",
        multiple=True,
        metavar="FILE_COLUMN=CANONICAL",
        help="Map one column of the file onto a canonical column (repeatable), "
        "e.g. --map date=date_start --map lat=latitude.",
    )(func)
    func = encoding_option(func)
    func = date_format_option(func)
    names = ["--input-format", "--format"] if format_alias else ["--input-format"]
    func = click.option(
        *names,
        "input_format",
        type=click.Choice(INPUT_FORMATS),
        default=None,
        help="Input layout; detected from the header when omitted.",
    )(func)
    return func
