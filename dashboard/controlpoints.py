"""Control areas from a town list: who held each locality, and when, made into ground.

Analysts often hold control data as a table of localities rather than polygons: one row per
(locality, controller, date), "who held each town each month". :func:`areas_from_points`
turns such a CSV into the control-area versions :func:`dashboard.areas.read_control_areas`
returns, so that everything downstream (the join, compare, the map) takes it as it is.

What a row means
    "This locality was held by this controller as of this date." A locality's status holds
    until its next row (rows may come in any order); consecutive rows with the same
    controller are one version. Before a locality's first row nothing is said about it.
    Rows that give one locality different controllers on one date are all set aside (the
    file contradicts itself; which row is right is not guessed), as in a control table.

Where a locality is
    Its coordinates, or else its name: first the same name with coordinates elsewhere in
    the file, then the offline gazetteer (:mod:`dashboard.gazetteer`), exact and alias names
    only. A fuzzy or ambiguous answer is never taken: the row is set aside with the
    candidates named. Localities are told apart by name and coordinates; different names at
    the same coordinates are one locality (said in a warning).

Which ground a locality stands for
    The ground nearer to it than to any other locality (its Voronoi cell), no farther than
    ``max_distance_km`` from it, inside the outline (by default the bundled outlines of the
    countries holding the points). Cells are computed once, for every locality the file
    names, in a Lambert azimuthal equal-area projection centred on the points, where
    distances within the extent of a country are true to a fraction of a percent, then
    clipped to the outline in its own lon/lat; areas are stated in km² by
    :func:`dashboard.measure.area_km2`, as everywhere else. Ground of
    the outline farther than ``max_distance_km`` from every locality gets one version of its
    own, controller :data:`dashboard.schema.NO_INFORMATION`, over the whole span of the
    file's dates: the layer says where it knows nothing, and the join gives events there
    that name instead of another side's.

It is an approximation, and the report says so: a Voronoi surface draws the line between
two towns held by different sides half-way between them, whatever the front did.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any, Final, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

from dashboard.arealedger import AREA_KM2, AREA_KM2_BEFORE, REASON_KIND, AreaLedger
from dashboard.areas import (
    BAD_DATE,
    DATE_DTYPE,
    IMPLAUSIBLE_DATE,
    NO_CONTROLLER,
    NO_DATE,
    OUT_OF_RANGE,
    AreasResult,
    repaired_polygon,
)
from dashboard.dateparse import (
    DateRule,
    date_proofs,
    decide_date_order,
    month_forms,
    parse_date_column,
)
from dashboard.errors import CRSError, GeometryError, InputFileError, SchemaError
from dashboard.gazetteer import ALIAS, EXACT, FUZZY, Gazetteer, country_code, load_gazetteer
from dashboard.measure import area_km2, format_km2, polygonal_part
from dashboard.paths import BUNDLED_COUNTRIES, check_input_file
from dashboard.readers.plaintable import read_plain_table
from dashboard.report import ERROR, WARNING, Problem, Report
from dashboard.schema import (
    AREA_FEATURE,
    AREA_ID,
    AREA_KIND,
    AREA_PROVENANCE,
    AREA_SOURCE,
    CONTROLLER,
    CONTROLLERS,
    EVENT_DATE,
    KIND_POINTS,
    NO_INFORMATION,
    REJECT_REASON,
    SOURCE_ROW,
    VALID_FROM,
    VALID_TO,
)
from dashboard.statusnames import STATUS_NAMES, controller_name, status_key
from dashboard.textnorm import normalise_name

__all__ = [
    "DEFAULT_MAX_DISTANCE_KM",
    "LOCALITY",
    "MAX_DISTANCE_KM",
    "SOURCE_LINE",
    "areas_from_points",
]

#: How far a locality's ground reaches by default (``--max-distance KM``).
DEFAULT_MAX_DISTANCE_KM: Final = 25.0
#: Provenance columns of the areas: the locality's name and the CSV line of the version's
#: first row.
LOCALITY: Final = "locality"
SOURCE_LINE: Final = "source_line"
#: The reach the versions were made with (the map's and the exports' legends quote it).
MAX_DISTANCE_KM: Final = "max_distance_km"

# Why a row was set aside, in a few words (the ledger counts rows by these); the date,
# controller and range kinds are the area reader's own.
RAGGED_ROW = "ragged row"
NO_LOCALITY = "no locality"
BAD_COORDINATES = "coordinates unreadable"
PLACE_NOT_FOUND = "place not found"
PLACE_AMBIGUOUS = "place ambiguous"
PLACE_FUZZY = "place found only by a near spelling"
OUTSIDE_OUTLINE = "outside the outline"
SAME_DAY_CONFLICT = "another row says otherwise on the same date"
NO_GROUND = "no ground inside the outline"

# Column spellings recognised without being named, best first (compared lower-case, with
# spaces, hyphens and dots read as underscores).
_NAME_FIELDS = ("name", "locality", "town", "place", "village", "location", "city",
                "settlement", "locality_name", "place_name", "town_name", "village_name")  # fmt: skip
_LON_FIELDS = ("longitude", "lon", "lng", "long", "x", "lon_dd", "longitude_dd", "point_x")
_LAT_FIELDS = ("latitude", "lat", "y", "lat_dd", "latitude_dd", "point_y")
_CONTROLLER_FIELDS = ("controller", "control", "status", "held_by", "controlled_by", "holder")
_DATE_FIELDS = ("date", "as_of", "month", "last_update", "updated", "date_of_status")
_COUNTRY_FIELDS = ("country", "country_name", "admin0", "adm0")
_ADMIN1_FIELDS = ("admin1", "adm1", "governorate", "province")
# Columns of an outline file that may name its countries (for the gazetteer).
_OUTLINE_NAME_FIELDS = ("name", "country", "admin", "name_en", "admin0name_en", "adm0_name",
                        "shapename", "country_name", "sovereignt")  # fmt: skip

_EARLIEST = pd.Timestamp(1900, 1, 1)
_WGS84 = CRS.from_epsg(4326)
# Coordinates equal to this many decimals (about 0.1 m) are one place.
_SAME_PLACE_DECIMALS = 6
# Vertices per quarter circle of the max-distance disc: a 64-gon holds 99.8 % of the disc.
_DISC_QUAD_SEGS = 16
_LISTED = 10  # items a summary warning lists by name
# The bundled country outlines are good to 10-30 km (geodata/README.md): a locality this
# close to a study-area country counts for it, wherever the coarse border puts it.
_COARSE_BORDER_KM = 30.0
_STEPS = 6  # progress steps: read, dates, places, versions, cells, assembled

# A month without a day ("2015-03", "03/2015", "Mar 2015", "آذار 2015") is the 1st of it.
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](?:\d{4}|\d{2})(?!\d)")
_DECIMAL_COMMA = re.compile(r"^([+-]?\d+),(\d+)$")


@dataclass(frozen=True)
class _Fields:
    """The file's columns for each role (None: the file has none)."""

    name: str | None
    lon: str | None
    lat: str | None
    controller: str
    date: str
    country: str | None
    admin1: str | None


@dataclass
class _Verdicts:
    """Each row's reasons to be set aside (none: used), and the report's line for each."""

    file: str
    rows: np.ndarray  # 1-based data row
    lines: np.ndarray  # 1-based line of the file
    kind: np.ndarray = field(init=False)  # first reason's kind; None while the row is usable
    reasons: dict[int, list[str]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.kind = np.full(len(self.rows), None, dtype=object)

    @property
    def ok(self) -> np.ndarray:
        return pd.isna(self.kind)

    def where(self, i: int) -> str:
        return f"{self.file} line {self.lines[i]} (data row {self.rows[i]})"

    def reject(self, i: int, kind: str, column: str | None, value: Any, reason: str) -> None:
        if self.kind[i] is None:
            self.kind[i] = kind
        self.reasons.setdefault(i, []).append(reason)
        self.problems.append(
            Problem(int(self.lines[i]), column, value, f"{self.where(i)}: {reason}")
        )

    def warn(self, message: str, column: str | None = None, value: Any = None) -> None:
        self.problems.append(Problem(None, column, value, f"{self.file}: {message}", WARNING))


@dataclass(frozen=True)
class _Outline:
    """The ground the cells are clipped to, in lon/lat."""

    geometry: shapely.Geometry
    label: str  # for messages: "the bundled outlines of Syria, Iraq" / "outline.geojson"
    countries: tuple[str, ...]  # ISO codes, for the gazetteer
    reach: shapely.Geometry | None = None  # where a locality may be (default: ``geometry``)
    beyond: str = ""  # what a locality outside ``reach`` is outside of (default: ``label``)


# --------------------------------------------------------------------------------------------
# public API


def areas_from_points(
    path: str | Path,
    *,
    outline: gpd.GeoDataFrame | gpd.GeoSeries | str | Path | None = None,
    max_distance_km: float = DEFAULT_MAX_DISTANCE_KM,
    controller_names: Mapping[str, str] | None = None,
    name_field: str | None = None,
    lon_field: str | None = None,
    lat_field: str | None = None,
    controller_field: str | None = None,
    date_field: str | None = None,
    countries: Iterable[str] | None = None,
    today: date | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> AreasResult:
    """Control-area versions from a CSV of locality statuses (a town list).

    Each row says who held a locality as of a date; each locality stands for its Voronoi
    cell within ``max_distance_km`` and the outline. The rules are in the module docstring.

    Parameters
    ----------
    path
        The CSV: UTF-8 (with or without BOM), UTF-16 with BOM, Windows-1256 or -1252;
        ``,`` ``;`` or tab separated; decimal commas in coordinates are read. It needs a
        controller and a date column, and a name column or longitude and latitude columns
        (or both); a ``country`` (and ``admin1``) column narrows the name lookup.
    outline
        The ground to clip to: polygons (a GeoDataFrame or GeoSeries in any CRS, or a file
        GeoPandas reads), the ``--outline FILE`` of the command line. Default: the outlines
        of ``geodata/countries.geojson`` that hold at least one locality.
    max_distance_km
        How far a locality's ground reaches (``--max-distance KM``); ground farther from
        every locality is :data:`~dashboard.schema.NO_INFORMATION`.
    controller_names
        Controller names to replace (``--rename-controller OLD=NEW``), as
        :func:`~dashboard.areas.read_control_areas` takes them; other names are kept as
        written and those outside :data:`~dashboard.schema.CONTROLLERS` listed in one
        warning.
    name_field, lon_field, lat_field, controller_field, date_field
        The columns, when not one of the usual spellings (``name``/``locality``/``town``/
        ``place``/``village``, ``longitude``/``lon``/``lng``/``x``, ``latitude``/``lat``/
        ``y``, ``controller``/``control``/``status``/``held_by``, ``date``/``as_of``/
        ``month``/``last_update``; any case).
    countries
        Country names or ISO codes whose gazetteer places rows that give only a name
        (``--country``). Default: those of the rows' ``country`` column and of the outline
        (for the default outline: Syria, Iraq and the countries holding the rows with
        coordinates).
    today
        Dates after this one are typos, as dates before 1900 (default: today).
    progress
        Called as ``progress(done, total)`` after each step of the build (reading, dates,
        places, versions, cells, assembly).

    Returns
    -------
    AreasResult
        ``areas``: one row per version, the columns of
        :func:`~dashboard.areas.read_control_areas` (AREA_ID ``"<file stem>:<locality>#k"``,
        CONTROLLER, VALID_FROM, VALID_TO with NaT open-ended, AREA_SOURCE the file name,
        AREA_FEATURE the data row of the row that starts the version), AREA_KIND
        (``"locality points"``), AREA_PROVENANCE (that row in a line), then
        :data:`LOCALITY` (its name; several names joined by `` / `` when they share
        coordinates), :data:`SOURCE_LINE` (the CSV line of that row),
        :data:`MAX_DISTANCE_KM` and the cell as geometry (EPSG:4326), plus one
        :data:`~dashboard.schema.NO_INFORMATION` version (AREA_FEATURE and SOURCE_LINE 0:
        no row) when some ground is out of reach.
        ``rejected``: one row per row set aside (AREA_SOURCE, AREA_FEATURE, CONTROLLER as
        written, ``reason_kind``, REJECT_REASON, ``area_km2`` NaN, SOURCE_LINE).
        ``repaired`` is empty. In ``report`` and ``ledger`` the *features* are the file's
        data rows: rows in = rows used + rows set aside; the report's ``row`` is the line
        of the file (each message gives both the line and the data row).

    Raises
    ------
    InputFileError
        The file (or the outline file) is missing or cannot be read as a table.
    SchemaError
        A needed column is missing (the message lists the columns found), or a country
        in ``countries`` is not recognised.
    CRSError
        The outline has no CRS.
    GeometryError
        ``max_distance_km`` is not a positive distance, or the outline holds no polygon.
    """
    radius_km = _check_distance(max_distance_km)
    path = Path(path)
    today = today or date.today()
    report = Report(source=path.name)

    def step(done: int) -> None:
        if progress is not None:
            progress(done, _STEPS)

    given_outline = None if outline is None else _given_outline(outline)
    table, verdicts, fields = _read(
        path,
        name_field=name_field,
        lon_field=lon_field,
        lat_field=lat_field,
        controller_field=controller_field,
        date_field=date_field,
    )
    step(1)
    controller = _controllers(table, fields, controller_names, verdicts)
    days = _dates(table, fields, today, verdicts)
    step(2)
    lon, lat = _positions(table, fields, verdicts)
    bundled = _bundled_countries() if given_outline is None else None
    gazetteer_countries = _gazetteer_countries(
        countries, table, fields, given_outline, bundled, lon, lat
    )
    _place_by_name(table, fields, lon, lat, gazetteer_countries, verdicts)
    if given_outline is None:
        owner = _owners(_require(bundled), lon, lat)
        chosen = _default_outline(_require(bundled), owner, verdicts)
        _inside_outline(chosen, lon, lat, verdicts, accepted=owner >= 0)
    else:
        chosen = given_outline
        _inside_outline(chosen, lon, lat, verdicts)
    controller = _project_names(controller, controller_names, bundled, lon, lat)
    step(3)
    names = table[fields.name] if fields.name else pd.Series(pd.NA, index=table.index)
    localities = _localities(names, lon, lat, verdicts)
    disputed_at = _disputed_at(localities, lon, lat, verdicts)
    runs = _runs(localities, days, controller, verdicts, disputed_at)
    step(4)
    cells, no_information = _cells(localities, chosen, radius_km, verdicts)
    if _dropped(runs, verdicts):
        runs = _runs(localities, days, controller, verdicts, disputed_at)
    step(5)
    areas = _assemble(
        path, localities, runs, cells, no_information, days, controller, radius_km, verdicts
    )
    rejected = _rejected(path.name, table, fields, verdicts)
    _check_controllers(controller, verdicts)
    _approximation_note(localities, runs, chosen, radius_km, no_information, verdicts)
    report.extend(sorted(verdicts.problems, key=lambda p: -1 if p.row is None else p.row))
    report.rows_in = len(table)
    report.rows_rejected = len(rejected)
    report.rows_loaded = report.rows_in - report.rows_rejected
    if not report.rows_loaded:
        said = (
            f"none of the {report.rows_in:,} rows can be used; the reasons are listed row by row"
            if report.rows_in
            else "no rows under the header"
        )
        report.problems.insert(0, Problem(None, None, None, f"{path.name}: {said}", ERROR))
    repaired = _no_repairs()
    ledger = AreaLedger.of(
        features_in=report.rows_in,
        set_aside=rejected,
        repaired=repaired,
        notes=tuple(p.message for p in report.problems if p.row is None),
        noun=f"rows of {path.name}",
    )
    step(6)
    return AreasResult(
        areas=areas, rejected=rejected, report=report, repaired=repaired, ledger=ledger
    )


# --------------------------------------------------------------------------------------------
# reading the table


def _check_distance(km: float) -> float:
    try:
        value = float(km)
    except (TypeError, ValueError):
        value = float("nan")
    if not np.isfinite(value) or value <= 0:
        raise GeometryError(
            f"--max-distance {km!r}: give how far a locality's ground reaches, in km, as a "
            f"number above 0 (default {DEFAULT_MAX_DISTANCE_KM:g})"
        )
    return value


def _read(
    path: Path,
    *,
    name_field: str | None,
    lon_field: str | None,
    lat_field: str | None,
    controller_field: str | None,
    date_field: str | None,
) -> tuple[pd.DataFrame, _Verdicts, _Fields]:
    """The file's records as text (ragged ones included, set aside), the verdicts, the fields.

    The reader leaves out blank lines and rows whose every cell is blank (the trailing
    ",,,," rows of a spreadsheet export), and says so: they are not rows.
    """
    plain = read_plain_table(path)
    fields = _fields(
        list(plain.frame.columns.drop(SOURCE_ROW)),
        path.name,
        name=name_field,
        lon=lon_field,
        lat=lat_field,
        controller=controller_field,
        date=date_field,
    )
    ragged = plain.set_aside
    frame = pd.concat(
        [
            plain.frame.assign(_ragged=False),
            ragged.assign(_ragged=True)[plain.frame.columns.tolist() + ["_ragged"]],
        ]
        if len(ragged)
        else [plain.frame.assign(_ragged=False)],
        ignore_index=True,
    )
    frame = frame.sort_values(SOURCE_ROW, kind="stable").reset_index(drop=True)
    if plain.sheet_rows is not None:  # a workbook: the rows the spreadsheet shows
        lines = np.array([plain.sheet_rows[int(r)] for r in frame[SOURCE_ROW]], dtype=np.int64)
    else:
        lines = _line_numbers(path, plain.encoding, plain.delimiter, frame[SOURCE_ROW].to_numpy())
    verdicts = _Verdicts(path.name, frame[SOURCE_ROW].to_numpy(dtype=np.int64), lines)
    line_of = dict(zip(verdicts.rows.tolist(), lines.tolist(), strict=True))
    for p in plain.problems:
        if p.row is None:
            named = p.message.startswith(f"{path.name}:")
            message = p.message if named else f"{path.name}: {p.message}"
            verdicts.problems.append(Problem(None, p.column, p.value, message, p.severity))
        elif p.severity != ERROR:  # ragged rows are set aside below, with their reasons
            line = line_of.get(p.row, p.row + 1)
            verdicts.problems.append(
                Problem(line, p.column, p.value, f"{path.name} line {line} (data row {p.row}): "
                        f"{p.message}", p.severity)
            )  # fmt: skip
    if len(ragged):
        reason = dict(zip(ragged[SOURCE_ROW], ragged[REJECT_REASON], strict=True))
        for i in np.flatnonzero(frame["_ragged"].to_numpy()).tolist():
            verdicts.reject(i, RAGGED_ROW, None, None, str(reason[verdicts.rows[i]]))
    return frame.drop(columns="_ragged"), verdicts, fields


def _line_numbers(path: Path, encoding: str, delimiter: str, rows: np.ndarray) -> np.ndarray:
    """The 1-based line of the file on which each data row starts.

    When the file has one line per record (no blank line, no line break inside a field)
    that is the data row + 1, which counting line ends proves in one pass over the bytes;
    otherwise the records are walked as the CSV reader walks them.
    """
    if not len(rows):
        return np.zeros(0, dtype=np.int64)
    line_ends, last_byte = 0, b"\n"
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            line_ends, last_byte = line_ends + chunk.count(b"\n"), chunk[-1:]
    line_ends += 0 if last_byte == b"\n" else 1  # a last line without its line end
    if "16" not in encoding and "32" not in encoding and line_ends == int(rows.max()) + 1:
        return rows.astype(np.int64) + 1
    first_lines: list[int] = []
    last = 0
    header_seen = False
    with path.open(encoding=encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        for fields in reader:
            first, last = last + 1, reader.line_num
            if not fields or (len(fields) == 1 and not fields[0].strip()):
                continue
            if not header_seen:
                header_seen = True
                continue
            first_lines.append(first)
    starts = np.asarray(first_lines, dtype=np.int64)
    return starts[np.clip(rows.astype(np.int64) - 1, 0, max(len(starts) - 1, 0))]


def _fields(
    columns: list[str],
    file: str,
    *,
    name: str | None,
    lon: str | None,
    lat: str | None,
    controller: str | None,
    date: str | None,
) -> _Fields:
    """Each role's column: the one named, else the first usual spelling found."""
    found = ", ".join(repr(c) for c in columns) or "none"

    def pick(given: str | None, spellings: Sequence[str], option: str) -> str | None:
        if given is not None:
            if given not in columns:
                raise SchemaError(f"{file}: no column {given!r} ({option}); columns are {found}")
            return given
        by_key = {_field_key(c): c for c in reversed(columns)}  # the first of repeats wins
        return next((by_key[s] for s in spellings if s in by_key), None)

    fields = _Fields(
        name=pick(name, _NAME_FIELDS, "name_field"),
        lon=pick(lon, _LON_FIELDS, "lon_field"),
        lat=pick(lat, _LAT_FIELDS, "lat_field"),
        controller=pick(controller, _CONTROLLER_FIELDS, "controller_field") or "",
        date=pick(date, _DATE_FIELDS, "date_field") or "",
        country=pick(None, _COUNTRY_FIELDS, ""),
        admin1=pick(None, _ADMIN1_FIELDS, ""),
    )
    if not fields.controller:
        raise SchemaError(
            f"{file}: no controller column (looked for {', '.join(_CONTROLLER_FIELDS)}; "
            f"columns are {found}): name the column 'controller' in the file"
        )
    if not fields.date:
        raise SchemaError(
            f"{file}: no date column (looked for {', '.join(_DATE_FIELDS)}; columns are "
            f"{found}): name the column 'date' in the file"
        )
    if (fields.lon is None) != (fields.lat is None):
        missing = "latitude" if fields.lat is None else "longitude"
        raise SchemaError(
            f"{file}: a {'longitude' if fields.lat is None else 'latitude'} column but no "
            f"{missing} column (columns are {found}): name them 'longitude' and 'latitude'"
        )
    if fields.name is None and fields.lon is None:
        raise SchemaError(
            f"{file}: neither a locality name column (looked for {', '.join(_NAME_FIELDS[:5])}) "
            f"nor longitude and latitude columns; columns are {found}"
        )
    return fields


def _texts(values: pd.Series) -> np.ndarray:
    """A text column as an object array, None where missing."""
    out = values.to_numpy(dtype=object)
    out[values.isna().to_numpy()] = None
    return out


def _field_key(column: str) -> str:
    return re.sub(r"[\s\-.]+", "_", column.strip().lower())


# --------------------------------------------------------------------------------------------
# controllers and dates


def _controllers(
    table: pd.DataFrame,
    fields: _Fields,
    names: Mapping[str, str] | None,
    verdicts: _Verdicts,
) -> np.ndarray:
    """Each row's controller after the renames; rows without one set aside."""
    given = table[fields.controller]
    values = _texts(given)
    for i in np.flatnonzero(given.isna().to_numpy()).tolist():
        verdicts.reject(
            i, NO_CONTROLLER, fields.controller, None,
            f"controller missing (column {fields.controller!r} empty); fill it in the file",
        )  # fmt: skip
    if names:
        values = np.array(
            [names.get(v, v) if v is not None else None for v in values], dtype=object
        )
    return values


def _project_names(
    controller: np.ndarray,
    renames: Mapping[str, str] | None,
    bundled: gpd.GeoDataFrame | None,
    lon: np.ndarray,
    lat: np.ndarray,
) -> np.ndarray:
    """Status words a town list shares with control tables ("ISIS", "Regime") in the
    project's names (:mod:`dashboard.statusnames`), after the renames; "Regime" is the
    government of the country the locality is in. Words with no equivalent stay."""
    renamed = set((renames or {}).values())
    out = controller.copy()
    countries: np.ndarray | None = None
    for i, value in enumerate(controller.tolist()):
        if value is None or value in renamed:
            continue
        mapped = controller_name(str(value))
        if mapped is None and status_key(str(value)) in STATUS_NAMES:  # a government
            if countries is None:
                countries = _country_codes(bundled, lon, lat)
            mapped = controller_name(str(value), countries[i])
        if mapped is not None:
            out[i] = mapped
    return out


def _country_codes(
    bundled: gpd.GeoDataFrame | None, lon: np.ndarray, lat: np.ndarray
) -> np.ndarray:
    """Each row's country as a two-letter code (``SY``), by the bundled outlines; None
    where the point is in none of them or has no place."""
    frame = bundled if bundled is not None else _bundled_countries()
    owner = _owners(frame, lon, lat)
    codes = np.array([country_code(str(n)) for n in frame["name"]], dtype=object)
    out = np.full(len(owner), None, dtype=object)
    out[owner >= 0] = codes[owner[owner >= 0]]
    return out


def _dates(table: pd.DataFrame, fields: _Fields, today: date, verdicts: _Verdicts) -> np.ndarray:
    """Each row's date as datetime64[s] (NaT where unusable; those rows set aside).

    The file's numeric dates are read day first unless a value proves month first
    (``dashboard.dateparse`` decides on the whole column); a month without a day is its 1st.
    """
    column = fields.date
    raw = table[column]
    text, months = month_forms(raw)
    found = decide_date_order([date_proofs(pd.DataFrame({EVENT_DATE: text}), fmt="canonical")])
    rule = found[EVENT_DATE]
    ambiguous = np.zeros(len(text), dtype=bool)
    if rule.order is None and not rule.conflict:
        # Nothing settles the order: day first, said in one note. Left open, dateparse
        # would word a warning for each ambiguous row (every row of a monthly list dated
        # 01/03/2015: 12 s for 480,000 rows).
        ambiguous = _ambiguous(text)
        rule = replace(rule, order="day first")
    parsed = parse_date_column(text, column, fmt="canonical", dayfirst=True, rule=rule)
    # dateparse's own words for a date it cannot read name --date-format, which this file
    # does not take; its check against today is replaced by the caller's ``today``.
    own_words = {
        f.label: f.message
        for f in parsed.findings
        if f.severity == ERROR and "--date-format" not in f.message
    }
    days = parsed.dates.to_numpy(dtype=DATE_DTYPE).copy()
    missing = raw.isna().to_numpy()
    for i in np.flatnonzero(missing).tolist():
        verdicts.reject(i, NO_DATE, column, None, f"date missing (column {column!r} empty); "
                        "fill it in the file")  # fmt: skip
    for i in np.flatnonzero(np.isnat(days) & ~missing).tolist():
        value = raw.iat[i]
        why = own_words.get(i) or (
            f"{column} {value!r} is not a date (read: 2015-03-01, 01/03/2015, 1 March 2015, "
            "March 2015, 2015-03, spreadsheet serial numbers)"
        )
        verdicts.reject(i, BAD_DATE, column, value, f"{why}; fix the date in the file")
    late = days > np.datetime64(today, "s")
    early = days < np.datetime64(_EARLIEST.date(), "s")
    for i in np.flatnonzero(late | early).tolist():
        day = pd.Timestamp(days[i]).date().isoformat()
        why = f"is after today ({today.isoformat()})" if late[i] else "is before 1900"
        verdicts.reject(i, IMPLAUSIBLE_DATE, column, raw.iat[i],
                        f"date {day} {why}: a typo? fix the date in the file")  # fmt: skip
    warned = [f.label for f in parsed.findings if f.severity == WARNING]
    if warned:  # a column proving both orders: dateparse flags each ambiguous row
        ambiguous[np.asarray(warned, dtype=np.int64)] = True
    _date_notes(raw, rule, months, ambiguous & ~np.isnat(days), column, verdicts)
    # rows set aside for their date have none; others keep theirs (a row set aside for an
    # empty controller still says its locality's status is in doubt from that date)
    days[late | early] = np.datetime64("NaT")
    return days


def _ambiguous(text: pd.Series) -> np.ndarray:
    """Rows holding a numeric date whose day and month could be swapped (01/03/2015)."""
    codes, uniques = pd.factorize(text)
    flags = np.zeros(len(uniques) + 1, dtype=bool)  # the last: NA rows (code -1)
    for j, value in enumerate(uniques):
        if m := _NUMERIC_DATE.match(str(value)):
            a, b = int(m[1]), int(m[2])
            flags[j] = a <= 12 and b <= 12 and a != b
    return flags[codes]


def _date_notes(
    raw: pd.Series,
    rule: DateRule,
    months: int,
    ambiguous: np.ndarray,
    column: str,
    verdicts: _Verdicts,
) -> None:
    """One warning per decision about the whole date column (not one per row)."""
    if rule.serial:
        verdicts.warn(
            f"{column}: read as spreadsheet serial day numbers (Excel 1900 date system: 25569 "
            "is 1970-01-01)",
            column,
        )
    if months:
        verdicts.warn(
            f"{column}: {months:,} values name a month without a day ('2015-03', 'Mar 2015'): "
            "read as the 1st of the month",
            column,
        )
    if rule.proof is not None:
        verdicts.warn(
            f"{column}: numeric dates read {rule.order} ({rule.proof!r} can only be read "
            f"{rule.order})",
            column,
        )
    if ambiguous.any():
        rows = np.flatnonzero(ambiguous)
        example = raw.iat[int(rows[0])]
        lines = ", ".join(str(n) for n in verdicts.lines[rows[:_LISTED]])
        verdicts.warn(
            f"{column}: nothing in the file settles the day/month order of {len(rows):,} "
            f"numeric dates (e.g. {example!r}, lines {lines}"
            f"{', ...' if len(rows) > _LISTED else ''}): read day first; write them as "
            "2015-03-01 to be sure",
            column,
            example,
        )


# --------------------------------------------------------------------------------------------
# where each row's locality is


def _positions(
    table: pd.DataFrame, fields: _Fields, verdicts: _Verdicts
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's given longitude and latitude (NaN where none); unusable ones set aside."""
    n = len(table)
    if fields.lon is None or fields.lat is None:
        return np.full(n, np.nan), np.full(n, np.nan)
    lon_text, lat_text = table[fields.lon], table[fields.lat]
    lon, lat = _numbers(lon_text), _numbers(lat_text)
    given_lon, given_lat = lon_text.notna().to_numpy(), lat_text.notna().to_numpy()
    unread = (given_lon & np.isnan(lon)) | (given_lat & np.isnan(lat))
    for i in np.flatnonzero(unread).tolist():
        value = f"{lon_text.iat[i]}, {lat_text.iat[i]}"
        verdicts.reject(i, BAD_COORDINATES, fields.lon, value,
                        f"coordinates {value!r} are not numbers; fix them in the file")  # fmt: skip
    half = ~unread & (given_lon != given_lat)
    for i in np.flatnonzero(half).tolist():
        has, lacks = (fields.lon, fields.lat) if given_lon[i] else (fields.lat, fields.lon)
        verdicts.reject(i, BAD_COORDINATES, lacks, None,
                        f"{has} given but {lacks} empty; give both, or neither and a name")  # fmt: skip
    with np.errstate(invalid="ignore"):
        out = (np.abs(lon) > 180) | (np.abs(lat) > 90)
    for i in np.flatnonzero(out).tolist():
        swapped = abs(lat[i]) <= 180 and abs(lon[i]) <= 90
        hint = " (swapped?)" if swapped else ""
        verdicts.reject(
            i, OUT_OF_RANGE, fields.lon, f"{lon[i]:g}, {lat[i]:g}",
            f"coordinates out of range{hint}: longitude {lon[i]:g}, latitude {lat[i]:g} "
            "(longitude -180..180, latitude -90..90); fix them in the file",
        )  # fmt: skip
    unusable = unread | half | out
    lon[unusable], lat[unusable] = np.nan, np.nan
    return lon, lat


def _numbers(values: pd.Series) -> np.ndarray:
    """Text to float, a decimal comma read as a point (``36,21`` of a ``;`` file)."""
    codes, uniques = pd.factorize(values)
    texts = [_DECIMAL_COMMA.sub(r"\1.\2", str(v).strip().rstrip("°")) for v in uniques]
    numbers = pd.to_numeric(pd.Series(texts, dtype=object), errors="coerce").to_numpy(
        dtype=float, na_value=np.nan
    )
    return np.append(numbers, np.nan)[codes]


def _gazetteer_countries(
    asked: Iterable[str] | None,
    table: pd.DataFrame,
    fields: _Fields,
    given: _Outline | None,
    bundled: gpd.GeoDataFrame | None,
    lon: np.ndarray,
    lat: np.ndarray,
) -> tuple[str, ...] | None:
    """The countries whose places a name may be (None: the whole world)."""
    if asked is not None:
        asked = [c for c in asked if isinstance(c, str) and c.strip()]
        unknown = [c for c in asked if country_code(c) is None]
        if unknown:
            raise SchemaError(
                f"country {unknown[0]!r} is not a recognised country name or ISO code "
                "(e.g. 'Syria', 'SY', 'SYR')"
            )
        if asked:
            return tuple(sorted({str(country_code(c)) for c in asked}))
    codes: set[str] = set()
    if fields.country:
        codes |= {c for v in table[fields.country].dropna().unique() if (c := country_code(v))}
    if given is not None:
        codes |= set(given.countries)
    elif bundled is not None:
        study = bundled[bundled["role"] == "study area"]["name"]
        codes |= {c for v in study if (c := country_code(v))}
        owner = _owners(bundled, lon, lat)
        names = bundled["name"].to_numpy()[np.unique(owner[owner >= 0])]
        codes |= {c for v in names if (c := country_code(v))}
    return tuple(sorted(codes)) or None


def _place_by_name(
    table: pd.DataFrame,
    fields: _Fields,
    lon: np.ndarray,
    lat: np.ndarray,
    countries: tuple[str, ...] | None,
    verdicts: _Verdicts,
) -> None:
    """Coordinates for rows with a name and none of their own, written into ``lon, lat``.

    The same name with one position elsewhere in the file wins (the file's own position
    of a town, not the gazetteer's a few hundred metres off, which would split the town's
    ground in two); then an exact or alias name of the gazetteer. Every distinct
    (name, country, admin1) is looked up once.
    """
    # rows whose coordinates were unusable are set aside already, for that
    lacking = np.isnan(lon) & (verdicts.kind != BAD_COORDINATES) & (verdicts.kind != OUT_OF_RANGE)
    if fields.name is None:
        for i in np.flatnonzero(lacking).tolist():
            verdicts.reject(i, NO_LOCALITY, fields.lon, None,
                            "no coordinates; give the locality's longitude and latitude")  # fmt: skip
        return
    names = table[fields.name]
    has_name = names.notna().to_numpy()
    for i in np.flatnonzero(lacking & ~has_name).tolist():
        verdicts.reject(
            i, NO_LOCALITY, fields.name, None,
            "neither a locality name nor coordinates; fill one of them in the file",
        )  # fmt: skip
    todo = np.flatnonzero(lacking & has_name)
    if not len(todo):
        return
    keys = _name_keys(names)
    gaz: Gazetteer | None = None
    country = table[fields.country] if fields.country else None
    admin1 = table[fields.admin1] if fields.admin1 else None
    # a same-named row elsewhere in the file counts only within the row's own country and
    # governorate, where the file names them (two Surans: Aleppo's and Hama's)
    places = np.array(
        [
            f"{normalise_name(c) if isinstance(c, str) else ''}|"
            f"{normalise_name(a) if isinstance(a, str) else ''}"
            for c, a in zip(
                [None] * len(table) if country is None else country.tolist(),
                [None] * len(table) if admin1 is None else admin1.tolist(),
                strict=True,
            )
        ],
        dtype=object,
    )
    known = _file_positions(keys, lon, lat, places)
    asks = pd.DataFrame(
        {
            "name": names.to_numpy(dtype=object)[todo],
            "key": keys[todo],
            "country": "" if country is None else country.fillna("").to_numpy(dtype=object)[todo],
            "admin1": "" if admin1 is None else admin1.fillna("").to_numpy(dtype=object)[todo],
        }
    )
    codes, uniques = pd.factorize(pd.MultiIndex.from_frame(asks))
    # the rows of each distinct ask, found by one sort (not a pass over the rows per name)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(uniques) + 1))
    from_file = 0
    where = ", ".join(countries) if countries else "the whole world"
    for j, (name, key, in_country, in_admin1) in enumerate(uniques):
        rows = todo[order[bounds[j] : bounds[j + 1]]]
        spots = [(x, y) for x, y, at in known.get(key, []) if _same_parts(at, places[rows[0]])]
        spots = list(dict.fromkeys(spots))
        if len(spots) == 1:
            lon[rows], lat[rows] = spots[0]
            from_file += len(rows)
            continue
        if len(spots) > 1:
            listed = "; ".join(f"{y:.5f}, {x:.5f}" for x, y in spots[:_LISTED])
            for i in rows.tolist():
                verdicts.reject(
                    i, PLACE_AMBIGUOUS, fields.name, name,
                    f"{name!r} has no coordinates and the file gives {len(spots)} places of "
                    f"that name (lat, lon: {listed}); give this row's coordinates",
                )  # fmt: skip
            continue
        if gaz is None:
            gaz = load_gazetteer(countries=countries)
        kind, reason, place = _lookup(gaz, str(name), in_country, in_admin1, where)
        if place is not None:
            lon[rows], lat[rows] = place
            continue
        for i in rows.tolist():
            verdicts.reject(i, kind, fields.name, name, reason)
    placed = int(np.isfinite(lon[todo]).sum())
    if from_file:
        verdicts.warn(
            f"{from_file:,} rows without coordinates took those of the same locality name "
            "elsewhere in the file",
            fields.name,
        )
    if placed > from_file:
        verdicts.warn(
            f"{placed - from_file:,} rows without coordinates were placed by name in the "
            f"gazetteer of {where} (GeoNames; exact and alias names only)",
            fields.name,
        )


def _lookup(
    gaz: Gazetteer, name: str, country: str, admin1: str, where: str
) -> tuple[str, str, tuple[float, float] | None]:
    """(kind, reason, None) of a name that places nothing; ("", "", (lon, lat)) of one
    that does."""
    match = gaz.lookup(name, country=country or None, admin1=admin1 or None)
    scope = f" in {country}" if country else ""
    fix = "give the row's coordinates, or the name as the gazetteer spells it"
    if match is None:
        refused = gaz.places_named(name, country=country or None) if admin1 else ()
        if refused:
            listed = "; ".join(p.describe() for p in refused[:_LISTED])
            return (
                PLACE_NOT_FOUND,
                f"{name!r} is not in admin1 {admin1!r}{scope}, only elsewhere ({listed}); "
                "give the row's coordinates",
                None,
            )
        return PLACE_NOT_FOUND, f"{name!r} is not in the gazetteer of {where}{scope}; {fix}", None
    if match.place is None:
        listed = "; ".join(p.describe() for p in match.candidates[:_LISTED])
        return (
            PLACE_AMBIGUOUS,
            f"{name!r} names {len(match.candidates)} places{scope} and nothing tells them "
            f"apart ({listed}); give the row's coordinates (or a country column)",
            None,
        )
    if match.method == FUZZY or match.method not in (EXACT, ALIAS):
        return (
            PLACE_FUZZY,
            f"{name!r} is not a gazetteer name{scope}; the nearest spelling is "
            f"{match.place.describe()} (score {match.score:.0f}), not taken: a near spelling "
            f"can be another village; {fix}",
            None,
        )
    return "", "", (match.place.longitude, match.place.latitude)


def _name_keys(names: pd.Series) -> np.ndarray:
    """normalise_name of every row's name ("" where none), once per distinct name."""
    codes, uniques = pd.factorize(names)
    keys = np.array([normalise_name(str(v)) for v in uniques] + [""], dtype=object)
    return keys[codes]


def _file_positions(
    keys: np.ndarray, lon: np.ndarray, lat: np.ndarray, places: np.ndarray
) -> dict[str, list]:
    """name key -> the distinct (lon, lat, where) the file gives that name; ``where`` is the
    row's country and governorate keys ("" where the file has no such column)."""
    has = np.isfinite(lon) & (keys != "")
    if not has.any():
        return {}
    frame = pd.DataFrame(
        {
            "key": keys[has],
            "lon": lon[has].round(_SAME_PLACE_DECIMALS),
            "lat": lat[has].round(_SAME_PLACE_DECIMALS),
            "where": places[has],
        }
    ).drop_duplicates()
    out: dict[str, list] = {}
    for key, x, y, where in frame.itertuples(index=False):
        out.setdefault(key, []).append((x, y, where))
    return out


def _same_parts(a: str, b: str) -> bool:
    """Do two rows' (country, governorate) keys agree where both name one?"""
    return all(not x or not y or x == y for x, y in zip(a.split("|"), b.split("|"), strict=True))


# --------------------------------------------------------------------------------------------
# the outline


def _bundled_countries() -> gpd.GeoDataFrame:
    try:
        frame = gpd.read_file(BUNDLED_COUNTRIES, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, OSError) as exc:
        raise InputFileError(f"{BUNDLED_COUNTRIES}: cannot be read: {exc}") from exc
    return frame.to_crs(_WGS84) if frame.crs is not None else frame.set_crs(_WGS84)


def _require(bundled: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    if bundled is None:  # pragma: no cover - read whenever no outline is given
        raise GeometryError("the bundled country outlines were not read")
    return bundled


def _owners(bundled: gpd.GeoDataFrame, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """For each row, the bundled outline its locality counts for (-1: none, or no point).

    The bundled borders are good to 10-30 km (geodata/README.md), so a locality inside a
    neighbour's outline but within :data:`_COARSE_BORDER_KM` of a study-area country (a
    Syrian border town the coarse line puts in Turkey) counts for that country: otherwise
    one such town would add the whole neighbour to the ground, as 'No information'.
    """
    owner = np.full(len(lon), -1, dtype=np.int64)
    placed = np.flatnonzero(np.isfinite(lon) & np.isfinite(lat))
    if not len(placed):
        return owner
    geoms = np.asarray(bundled.geometry.array, dtype=object)
    study = (bundled["role"] == "study area").to_numpy()
    inside = shapely.contains_xy(geoms[:, None], lon[placed][None, :], lat[placed][None, :])
    # the first study-area outline holding the point, else the first outline at all
    ranked = np.where(inside & study[:, None], 0, np.where(inside, 1, 2))
    best = ranked.argmin(axis=0)
    found = ranked.min(axis=0)
    owner[placed[found < 2]] = best[found < 2]
    loose = np.flatnonzero(found != 0)  # not inside a study-area outline
    if len(loose):
        x0, y0, x1, y1 = bundled.total_bounds
        crs = _local_crs(np.array([x0, x1]), np.array([y0, y1]))
        forward = Transformer.from_crs(_WGS84, crs, always_xy=True)
        x, y = forward.transform(lon[placed][loose], lat[placed][loose])
        moved = cast(np.ndarray, shapely.points(x, y))
        outlines = cast(np.ndarray, _project(geoms, forward))
        km = np.asarray(shapely.distance(moved[:, None], outlines[None, :]), dtype=float) / 1e3
        near_study = np.where(study[None, :], km, np.inf)
        close = near_study.min(axis=1) <= _COARSE_BORDER_KM
        owner[placed[loose[close]]] = near_study[close].argmin(axis=1)
        stray = ~close & (found[loose] == 2) & (km.min(axis=1) <= _COARSE_BORDER_KM)
        owner[placed[loose[stray]]] = km[stray].argmin(axis=1)
    return owner


def _default_outline(bundled: gpd.GeoDataFrame, owner: np.ndarray, verdicts: _Verdicts) -> _Outline:
    """The bundled outlines of the countries the localities count for."""
    held = np.unique(owner[owner >= 0])
    names = [str(n) for n in bundled["name"].to_numpy()[held]]
    geoms = np.asarray(bundled.geometry.array, dtype=object)[held]
    partial = [
        n for n, p in zip(bundled["name"], bundled["partial"], strict=True) if p and n in names
    ]
    if partial:
        verdicts.warn(
            f"the bundled outline of {', '.join(partial)} holds only the part near Syria and "
            "Iraq: ground beyond it is left out (--outline FILE gives the whole country)"
        )
    label = f"the bundled outlines of {', '.join(names) or 'no country'}"
    return _Outline(
        geometry=shapely.union_all(geoms) if len(geoms) else shapely.Polygon(),
        label=label,
        countries=tuple(sorted({c for n in names if (c := country_code(n))})),
        reach=shapely.union_all(np.asarray(bundled.geometry.array, dtype=object)),
        beyond=f"every bundled country outline ({', '.join(map(str, bundled['name']))})",
    )


def _given_outline(outline: gpd.GeoDataFrame | gpd.GeoSeries | str | Path) -> _Outline:
    """The caller's outline as one lon/lat (multi)polygon, repaired if need be."""
    label = "the outline given"
    if isinstance(outline, (str, Path)):
        file = Path(outline)
        check_input_file(file)
        try:
            outline = gpd.read_file(file, engine="pyogrio")
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError) as exc:
            raise InputFileError(f"--outline {file}: cannot be read: {exc}") from exc
        label = file.name
    if outline.crs is None:
        raise CRSError(
            f"{label}: CRS missing: the outline does not say which coordinate system its "
            "coordinates are in (save it with a CRS, e.g. as GeoJSON in EPSG:4326)"
        )
    outline = outline.to_crs(_WGS84)
    geoms = np.asarray(outline.geometry.array, dtype=object)
    geoms = geoms[~shapely.is_missing(geoms)]
    # an invalid outline (a self-intersecting ring) keeps all the ground it encloses
    valid = [cast(BaseGeometry | None, g if g.is_valid else repaired_polygon(g)) for g in geoms]
    polygons = [q for g in valid if (q := polygonal_part(g)) is not None]
    if not polygons:
        raise GeometryError(f"--outline {label}: holds no polygon to clip the ground to")
    merged = shapely.union_all(polygons)
    codes: set[str] = set()
    if isinstance(outline, gpd.GeoDataFrame):
        for column in outline.columns:
            if _field_key(str(column)) in _OUTLINE_NAME_FIELDS:
                codes |= {c for v in outline[column].dropna().unique() if (c := country_code(v))}
    if not codes:  # no names: the bundled countries the outline covers, when it covers any
        bundled = _bundled_countries()
        geoms_b = np.asarray(bundled.geometry.array, dtype=object)
        shared = shapely.area(shapely.intersection(geoms_b, merged))
        codes = {
            c
            for n, a in zip(bundled["name"], shared, strict=True)
            if a > 0 and (c := country_code(n))
        }
    return _Outline(geometry=merged, label=label, countries=tuple(sorted(codes)))


def _inside_outline(
    outline: _Outline,
    lon: np.ndarray,
    lat: np.ndarray,
    verdicts: _Verdicts,
    *,
    accepted: np.ndarray | None = None,
) -> None:
    """Set aside the rows whose locality is outside the outline (``accepted``: the rows
    the default outline takes, border towns of the coarse outlines included)."""
    placed = np.flatnonzero(np.isfinite(lon) & np.isfinite(lat))
    if not len(placed):
        return
    if accepted is not None:
        inside = accepted[placed]
        shapely.prepare(outline.geometry)
        near = inside & ~shapely.intersects(
            outline.geometry, shapely.points(lon[placed], lat[placed])
        )
        if near.any():
            verdicts.warn(
                f"{int(near.sum()):,} rows place their locality just outside {outline.label} "
                f"(within {_COARSE_BORDER_KM:g} km: the bundled borders are good to 10-30 km): "
                "kept, their ground clipped to the outline (--outline FILE gives exact borders)"
            )
    else:
        shapely.prepare(outline.geometry)
        inside = np.asarray(
            shapely.intersects(outline.geometry, shapely.points(lon[placed], lat[placed])),
            dtype=bool,
        )
    beyond = outline.beyond or outline.label
    for i in placed[~inside].tolist():
        verdicts.reject(
            i, OUTSIDE_OUTLINE, None, f"{lon[i]:g}, {lat[i]:g}",
            f"longitude {lon[i]:g}, latitude {lat[i]:g} is outside {beyond}; give a "
            "wider ground with --outline FILE, or fix the coordinates",
        )  # fmt: skip
    outside = placed[~inside]
    reach = outline.reach if outline.reach is not None else outline.geometry
    swapped = shapely.intersects(reach, shapely.points(lat[outside], lon[outside]))
    if len(outside) and swapped.sum() * 2 >= len(outside):
        verdicts.warn(
            f"{int(swapped.sum()):,} of the {len(outside):,} rows outside {beyond} would be "
            "inside it with longitude and latitude swapped: are the two columns swapped?"
        )
    lon[outside], lat[outside] = np.nan, np.nan


# --------------------------------------------------------------------------------------------
# localities, versions, cells


@dataclass
class _Localities:
    """The distinct places of the usable rows."""

    code: np.ndarray  # per row: its locality (-1 for rows set aside)
    lon: np.ndarray  # per locality
    lat: np.ndarray
    label: list[str | None]  # per locality: its name(s), None when the file gives none


def _localities(
    names: pd.Series, lon: np.ndarray, lat: np.ndarray, verdicts: _Verdicts
) -> _Localities:
    """Localities by name and coordinates; different names at one place merged, said once."""
    ok = verdicts.ok & np.isfinite(lon)
    rows = np.flatnonzero(ok)
    x = lon[rows].round(_SAME_PLACE_DECIMALS)
    y = lat[rows].round(_SAME_PLACE_DECIMALS)
    spots, inverse = np.unique(np.column_stack([x, y]), axis=0, return_inverse=True)
    code = np.full(len(lon), -1, dtype=np.int64)
    code[rows] = inverse.ravel()
    written = _texts(names)[rows]
    keys = _name_keys(names)[rows]
    frame = pd.DataFrame(
        {"spot": inverse.ravel(), "key": keys, "name": written, "line": verdicts.lines[rows]}
    )
    # each spelling once per place, in the order of the file's lines
    spelled = (
        frame[frame["key"] != ""]
        .sort_values("line", kind="stable")
        .drop_duplicates(["spot", "key"])
    )
    spot = spelled["spot"].to_numpy()
    labels = np.full(len(spots), None, dtype=object)
    labels[spot[::-1]] = spelled["name"].to_numpy(dtype=object)[::-1]  # the first name wins
    shared = np.flatnonzero(np.bincount(spot, minlength=len(spots)) > 1)
    merged: list[str] = []
    for j in shared.tolist():  # few places: a loop over them only
        spelling = [str(n) for n in spelled["name"].to_numpy(dtype=object)[spot == j]]
        labels[j] = " / ".join(spelling)
        merged.append(f"{' / '.join(map(repr, spelling))} at {spots[j][1]:.5f}, {spots[j][0]:.5f}")
    if merged:
        verdicts.warn(
            f"{len(merged):,} places carry several names: each is one locality, named with "
            f"all of them ({'; '.join(merged[:_LISTED])}{'; ...' if len(merged) > _LISTED else ''})"
        )
    return _Localities(code=code, lon=spots[:, 0], lat=spots[:, 1], label=labels.tolist())


@dataclass
class _Runs:
    """The versions: for each, the row that starts it and the date it ends (NaT: open)."""

    first: np.ndarray  # row index
    until: np.ndarray  # datetime64[s]
    k: np.ndarray  # 1-based version number within its locality


def _set_aside_clashes(
    places: _Localities, days: np.ndarray, controller: np.ndarray, verdicts: _Verdicts
) -> None:
    """Rows that give one locality different controllers on one date are all set aside:
    which one is right is not guessed. Rows that agree are the same statement twice."""
    rows = np.flatnonzero(verdicts.ok & (places.code >= 0))
    loc = places.code[rows]
    day = days[rows].astype(np.int64)
    order = np.lexsort((verdicts.lines[rows], day, loc))
    rows, loc, day = rows[order], loc[order], day[order]
    ctrl, _ = pd.factorize(pd.Series(controller[rows], dtype=object))
    same_next = np.append((loc[1:] == loc[:-1]) & (day[1:] == day[:-1]), False)
    if not same_next.any():
        return
    group = np.cumsum(np.append(True, ~same_next[:-1])) - 1
    lowest = np.full(group[-1] + 1, np.iinfo(np.int64).max)
    highest = np.full(group[-1] + 1, -1)
    np.minimum.at(lowest, group, ctrl)
    np.maximum.at(highest, group, ctrl)
    clash = (lowest != highest)[group]
    for p in np.flatnonzero(clash).tolist():
        i = rows[p]
        others = [
            f"line {verdicts.lines[rows[q]]} says {controller[rows[q]]!r}"
            for q in np.flatnonzero(group == group[p]).tolist()
            if q != p and ctrl[q] != ctrl[p]
        ]
        verdicts.reject(
            i, SAME_DAY_CONFLICT, None, controller[i],
            f"says {controller[i]!r} but {', '.join(others)} of the same locality on the "
            f"same date ({pd.Timestamp(days[i]).date().isoformat()}): neither is used; "
            "fix one of them",
        )  # fmt: skip


def _disputed_at(
    places: _Localities, lon: np.ndarray, lat: np.ndarray, verdicts: _Verdicts
) -> np.ndarray:
    """The locality of each row set aside for an empty controller (-1 for other rows, or
    where its place is no listed locality's)."""
    out = np.full(len(lon), -1, dtype=np.int64)
    rows = np.flatnonzero(
        pd.Series(verdicts.kind, dtype=object).eq(NO_CONTROLLER).to_numpy()
        & np.isfinite(lon)
        & np.isfinite(lat)
    )
    if not len(rows) or not len(places.lon):
        return out
    spot = {
        (float(x), float(y)): j
        for j, (x, y) in enumerate(zip(places.lon.tolist(), places.lat.tolist(), strict=True))
    }
    x = lon[rows].round(_SAME_PLACE_DECIMALS)
    y = lat[rows].round(_SAME_PLACE_DECIMALS)
    for i, a, b in zip(rows.tolist(), x.tolist(), y.tolist(), strict=True):
        out[i] = spot.get((a, b), -1)
    return out


def _runs(
    places: _Localities,
    days: np.ndarray,
    controller: np.ndarray,
    verdicts: _Verdicts,
    disputed_at: np.ndarray,
) -> _Runs:
    """Rows sorted per locality and date, same-date conflicts set aside (every row of
    them), then one version per run of the same controller.

    A date a row disputes (two controllers on it, or a row with none) is a break: the status
    before it ends there and resumes only at the locality's next row. ``disputed_at`` is the
    locality of rows set aside before the localities were made (-1: none).
    """
    _set_aside_clashes(places, days, controller, verdicts)
    code = np.where(places.code >= 0, places.code, disputed_at)
    kinds = pd.Series(verdicts.kind, dtype=object)
    disputed = (
        kinds.isin([SAME_DAY_CONFLICT, NO_CONTROLLER]).to_numpy()
        & (code >= 0)
        & ~np.isnat(days.astype(DATE_DTYPE))
    )
    rows = np.flatnonzero((verdicts.ok & (places.code >= 0)) | disputed)
    loc = code[rows]
    day = days[rows].astype(np.int64)
    held = ~disputed[rows]
    # per (locality, date): a usable row last, so that it is the one kept
    order = np.lexsort((verdicts.lines[rows], held, day, loc))
    rows, loc, day, held = rows[order], loc[order], day[order], held[order]
    ctrl, _ = pd.factorize(pd.Series(controller[rows], dtype=object))
    ctrl = np.where(held, ctrl, -1)
    if not len(rows):
        return _Runs(np.zeros(0, np.int64), np.zeros(0, DATE_DTYPE), np.zeros(0, np.int64))
    keep = np.append((loc[1:] != loc[:-1]) | (day[1:] != day[:-1]), True)
    rows, loc, day, ctrl = rows[keep], loc[keep], day[keep], ctrl[keep]
    if not len(rows):
        return _Runs(np.zeros(0, np.int64), np.zeros(0, DATE_DTYPE), np.zeros(0, np.int64))
    starts = np.flatnonzero(
        np.append(True, (loc[1:] != loc[:-1]) | (ctrl[1:] != ctrl[:-1]) | (ctrl[1:] < 0))
    )
    nxt = np.append(starts[1:], len(rows))
    closes = nxt < len(rows)
    closes[closes] = loc[nxt[closes]] == loc[starts[closes]]
    until = np.full(len(starts), np.datetime64("NaT"), dtype=DATE_DTYPE)
    until[closes] = day[nxt[closes]].astype(DATE_DTYPE)
    held = ctrl[starts] >= 0
    starts, until = starts[held], until[held]
    if not len(starts):
        return _Runs(np.zeros(0, np.int64), np.zeros(0, DATE_DTYPE), np.zeros(0, np.int64))
    new_place = np.append(True, loc[starts[1:]] != loc[starts[:-1]])
    first_of_place = np.maximum.accumulate(np.where(new_place, np.arange(len(starts)), 0))
    return _Runs(first=rows[starts], until=until, k=np.arange(len(starts)) - first_of_place + 1)


def _dropped(runs: _Runs, verdicts: _Verdicts) -> bool:
    """Were rows that start versions set aside since the runs were made (no ground)?"""
    return bool(len(runs.first)) and not verdicts.ok[runs.first].all()


def _cells(
    places: _Localities, outline: _Outline, radius_km: float, verdicts: _Verdicts
) -> tuple[np.ndarray, shapely.Geometry | None]:
    """Each locality's ground (lon/lat), and the outline's ground out of every locality's
    reach (None when there is none).

    The Voronoi cells and the discs are computed in a Lambert azimuthal equal-area
    projection centred on the localities: a disc of ``radius_km`` there is a disc on the
    ground (degrees would make it an ellipse, Web Mercator a disc ~25 % too big at Syria's
    latitude). The clip to the outline is made in lon/lat, the outline's own coordinates:
    a clip in the projection would move its edges by the projection's round trip, a
    sliver of ground across a border.
    """
    n = len(places.lon)
    if not n:
        return np.zeros(0, dtype=object), None
    crs = _local_crs(places.lon, places.lat)
    forward = Transformer.from_crs(_WGS84, crs, always_xy=True)
    back = Transformer.from_crs(crs, _WGS84, always_xy=True)
    x, y = forward.transform(places.lon, places.lat)
    points = shapely.points(x, y)
    radius = radius_km * 1000.0
    x0, y0, x1, y1 = shapely.bounds(shapely.multipoints(points))
    frame = shapely.box(x0 - 2 * radius, y0 - 2 * radius, x1 + 2 * radius, y1 + 2 * radius)
    # one call for every cell; ordered=True keeps them in the order of the points
    voronoi = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(points), extend_to=frame, ordered=True)
    )
    if len(voronoi) != n:  # pragma: no cover - GEOS gives one cell per distinct point
        raise GeometryError(f"{verdicts.file}: {n} localities gave {len(voronoi)} Voronoi cells")
    reach = shapely.intersection(voronoi, shapely.buffer(points, radius, quad_segs=_DISC_QUAD_SEGS))
    cells = _project(reach, back)
    ground = outline.geometry
    shapely.prepare(ground)
    inside = shapely.contains_properly(ground, cells)
    cells[~inside] = shapely.intersection(cells[~inside], ground)
    odd = ~np.isin(shapely.get_type_id(cells), (3, 6))  # not Polygon / MultiPolygon
    for j in np.flatnonzero(odd).tolist():
        part = polygonal_part(cast(BaseGeometry, cells[j]))
        cells[j] = part if part is not None else shapely.Polygon()
    for j in np.flatnonzero(shapely.is_empty(cells)).tolist():
        for i in np.flatnonzero(places.code == j).tolist():
            verdicts.reject(
                i, NO_GROUND, None, None,
                f"the locality at longitude {places.lon[j]:g}, latitude {places.lat[j]:g} "
                f"keeps no ground inside {outline.label}: the ground of the outline near it "
                "is nearer to other localities; fix the coordinates or give a wider "
                "--outline FILE",
            )  # fmt: skip
    missing = polygonal_part(shapely.difference(ground, shapely.union_all(cells)))
    return cells, missing


def _local_crs(lon: np.ndarray, lat: np.ndarray) -> CRS:
    """Lambert azimuthal equal-area centred on the points' bounding box."""
    lon0 = (float(np.min(lon)) + float(np.max(lon))) / 2
    lat0 = (float(np.min(lat)) + float(np.max(lat))) / 2
    return CRS.from_proj4(
        f"+proj=laea +lat_0={lat0:.6f} +lon_0={lon0:.6f} +x_0=0 +y_0=0 +datum=WGS84 +units=m "
        "+no_defs"
    )


def _project(geoms: Any, transformer: Transformer) -> Any:
    """Geometries (one or an array) through a transformer, all coordinates in one call."""

    def move(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, move)


# --------------------------------------------------------------------------------------------
# assembling


def _assemble(
    path: Path,
    places: _Localities,
    runs: _Runs,
    cells: np.ndarray,
    missing: shapely.Geometry | None,
    days: np.ndarray,
    controller: np.ndarray,
    radius_km: float,
    verdicts: _Verdicts,
) -> gpd.GeoDataFrame:
    """The versions in the area reader's columns, in file order; the No-information
    version last."""
    stem, name = path.stem, path.name
    loc = places.code[runs.first]
    labels = _unique_labels(places)
    starts = days[runs.first].astype(DATE_DTYPE)
    rows = verdicts.rows[runs.first].astype(np.int64)
    lines = verdicts.lines[runs.first].astype(np.int64)
    said = controller[runs.first]
    ground = f"ground: nearest locality within {radius_km:g} km"
    frame = pd.DataFrame(
        {
            AREA_ID: [
                f"{stem}:{labels[j]}#{k}"
                for j, k in zip(loc.tolist(), runs.k.tolist(), strict=True)
            ],
            CONTROLLER: said,
            VALID_FROM: starts,
            VALID_TO: runs.until,
            AREA_SOURCE: name,
            AREA_FEATURE: rows,
            AREA_KIND: KIND_POINTS,
            AREA_PROVENANCE: [
                f"{name} row {r} (line {n}): {labels[j]} {c!r} as of "
                f"{pd.Timestamp(d).date().isoformat()}; {ground}"
                for r, n, j, c, d in zip(rows, lines, loc.tolist(), said, starts, strict=True)
            ],
            LOCALITY: pd.Series([places.label[j] for j in loc.tolist()], dtype="string"),
            SOURCE_LINE: lines,
            MAX_DISTANCE_KM: radius_km,
        }
    )
    geoms = cells[loc] if len(loc) else np.zeros(0, dtype=object)
    order = np.argsort(frame[AREA_FEATURE].to_numpy(), kind="stable")
    frame, geoms = frame.iloc[order].reset_index(drop=True), geoms[order]
    if missing is not None and len(frame):
        frame.loc[len(frame)] = {
            AREA_ID: f"{stem}:{NO_INFORMATION}",
            CONTROLLER: NO_INFORMATION,
            VALID_FROM: frame[VALID_FROM].min(),
            VALID_TO: pd.NaT,
            AREA_SOURCE: name,
            AREA_FEATURE: 0,
            AREA_KIND: KIND_POINTS,
            AREA_PROVENANCE: f"{name}: ground farther than {radius_km:g} km from every locality "
            "of the file",
            LOCALITY: pd.NA,
            SOURCE_LINE: 0,
            MAX_DISTANCE_KM: radius_km,
        }
        geoms = np.append(geoms, np.array([missing], dtype=object))
    frame = frame.astype(
        {
            AREA_ID: "string",
            CONTROLLER: "string",
            VALID_FROM: DATE_DTYPE,
            VALID_TO: DATE_DTYPE,
            AREA_SOURCE: "string",
            AREA_FEATURE: np.int64,
            AREA_KIND: "string",
            AREA_PROVENANCE: "string",
            LOCALITY: "string",
            SOURCE_LINE: np.int64,
            MAX_DISTANCE_KM: float,
        }
    )
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geoms, crs=_WGS84), crs=_WGS84)


def _unique_labels(places: _Localities) -> list[str]:
    """Each locality's label for its area id: its name, with its coordinates when another
    locality has the same name, or only its coordinates when it has none."""
    labels = [lab if lab is not None else "" for lab in places.label]
    counts = pd.Series(labels).value_counts()
    out = []
    for j, lab in enumerate(labels):
        where = f"{places.lat[j]:.5f},{places.lon[j]:.5f}"
        if not lab:
            out.append(where)
        elif counts[lab] > 1:
            out.append(f"{lab}@{where}")
        else:
            out.append(lab)
    return out


def _rejected(file: str, table: pd.DataFrame, fields: _Fields, verdicts: _Verdicts) -> pd.DataFrame:
    bad = np.flatnonzero(~verdicts.ok)
    given = _texts(table[fields.controller])[bad]
    return pd.DataFrame(
        {
            AREA_SOURCE: pd.Series([file] * len(bad), dtype=object),
            AREA_FEATURE: verdicts.rows[bad].astype(np.int64),
            CONTROLLER: pd.Series(given, dtype=object),
            REASON_KIND: pd.Series(verdicts.kind[bad], dtype=object),
            REJECT_REASON: pd.Series(
                ["; ".join(verdicts.reasons[i]) for i in bad.tolist()], dtype=object
            ),
            AREA_KM2: np.full(len(bad), np.nan),
            SOURCE_LINE: verdicts.lines[bad].astype(np.int64),
        }
    )


def _no_repairs() -> pd.DataFrame:
    """The ``repaired`` table: points are never repaired."""
    return pd.DataFrame(
        {
            AREA_SOURCE: pd.Series([], dtype=object),
            AREA_FEATURE: pd.Series([], dtype=np.int64),
            CONTROLLER: pd.Series([], dtype=object),
            REASON_KIND: pd.Series([], dtype=object),
            REJECT_REASON: pd.Series([], dtype=object),
            AREA_KM2_BEFORE: pd.Series([], dtype=float),
            AREA_KM2: pd.Series([], dtype=float),
        }
    )


def _check_controllers(controller: np.ndarray, verdicts: _Verdicts) -> None:
    """One warning listing the controllers of the rows used outside the known names."""
    used = pd.Series(controller[verdicts.ok], dtype=object).value_counts()
    known = set(CONTROLLERS) | {NO_INFORMATION}
    unknown = [(str(name), int(n)) for name, n in used.items() if name not in known]
    if not unknown:
        return
    by_case = {c.casefold(): c for c in CONTROLLERS}
    parts = []
    for name, n in unknown[:_LISTED]:
        near = by_case.get(name.casefold())
        hint = f", differs from {near!r} only in case" if near else ""
        parts.append(f"{name!r} ({n:,} rows{hint})")
    more = f" and {len(unknown) - _LISTED} more" if len(unknown) > _LISTED else ""
    example = unknown[0][0]
    target = by_case.get(example.casefold(), "NEW")
    verdicts.warn(
        f"controllers not among the known names: {', '.join(parts)}{more}; kept as written "
        f"(--rename-controller OLD=NEW renames one, e.g. --rename-controller "
        f"'{example}={target}')",
        CONTROLLER,
    )


def _approximation_note(
    places: _Localities,
    runs: _Runs,
    outline: _Outline,
    radius_km: float,
    missing: shapely.Geometry | None,
    verdicts: _Verdicts,
) -> None:
    """Say, once, that the surface is made from points, and how much ground it leaves out."""
    n = len(np.unique(places.code[runs.first]))
    if not n:
        return
    km2 = float(area_km2([missing])[0]) if missing is not None else 0.0
    total = float(area_km2([outline.geometry])[0])
    share = f" ({km2 / total:.0%} of it)" if total > 0 else ""
    verdicts.warn(
        f"control surface from {n:,} locality points: each piece of ground given to its "
        f"nearest locality within {radius_km:g} km (Voronoi cells); ground farther is "
        f"'{NO_INFORMATION}': {format_km2(km2)} km² of {outline.label}{share}. An "
        "approximation: the line between two localities is drawn half-way, not where a "
        "front ran (--max-distance KM sets the reach, --outline FILE the ground)",
        None,
        round(km2, 1),
    )
