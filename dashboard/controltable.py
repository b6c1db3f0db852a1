"""Control areas from a table of control per administrative unit.

Analysts often get control data not as polygons but as a table: one row per unit (a
sub-district, a district) with its status and the date of that status, e.g. OTI's
"Control_Status, Last_Update" per Syrian sub-district. :func:`areas_from_table` joins such a
table to a boundary file (OCHA COD-AB: ``admin3Name_en``, ``admin3Name_ar``,
``admin3Pcode``...) and returns control-area versions like any area file.

Matching a row to a unit, in order:

1. ``--unit-match NAME=PCODE``: the analyst's own answer;
2. by P-code, when the table has a column of the boundaries' codes;
3. by name, through :func:`dashboard.textnorm.name_keys` (Latin and Arabic spellings fold
   together) against every name field of the finest level (English, Arabic, reference and
   alternative names), narrowed by the table's governorate and district columns when the
   name alone names several units.

A row whose unit is matched by none of these, or by several units still, is set aside and
listed with the closest candidates and the ``--unit-match`` that would settle it: never
guessed. Which table columns hold the names is found from their values (the column whose
distinct values name most units of a level), and said in the report.

Time: each row is the unit's status *as of* its date; the unit is held by that status until
its next row (the last one open-ended). Before a unit's first row nothing is said of it.
Two different statuses for one unit on one date are both set aside.

Statuses are mapped onto the project's controller names by :data:`STATUS_NAMES` (ignoring
case and punctuation); "Regime"/"Government" become the government of the unit's country.
``--rename-controller OLD=NEW`` overrides the table; values it does not know are kept as
written and listed, never guessed.
"""

from __future__ import annotations

import difflib
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from dashboard import schema
from dashboard.arealedger import AREA_KM2, REASON_KIND, AreaLedger
from dashboard.areas import DATE_DTYPE, AreasResult, repaired_polygon
from dashboard.dateparse import month_forms, parse_dates
from dashboard.errors import InputFileError, SchemaError
from dashboard.paths import check_input_file
from dashboard.readers.plaintable import read_plain_table
from dashboard.report import ERROR, WARNING, Problem, Report
from dashboard.statusnames import STATUS_NAMES, controller_name
from dashboard.textnorm import name_keys, normalise_name

__all__ = [
    "AREA_KIND",
    "AREA_PROVENANCE",
    "STATUS_NAMES",
    "UnitLevel",
    "areas_from_table",
    "boundary_levels",
]

#: Extra columns of the versions this module makes: what kind of source, and where it says so.
AREA_KIND: Final = schema.AREA_KIND
AREA_PROVENANCE: Final = schema.AREA_PROVENANCE
UNIT_CODE: Final = "unit_code"
UNIT_NAME: Final = "unit_name"
KIND_TABLE: Final = schema.KIND_TABLE


# Boundary fields of OCHA COD-AB and HDX files: admin3Name_en, admin3Pcode, ADM3_EN,
# ADM3_PCODE, admin3RefName, admin3AltName1_ar...
_LEVEL_FIELD = re.compile(
    r"^adm(?:in)?(?P<level>\d)[ _]?"
    r"(?:(?P<code>p ?code)|(?:(?:ref|alt)?[ _]?name\d?)?[ _]?(?P<lang>en|ar|fr)?|ref[ _]?name)$",
    re.IGNORECASE,
)
# A column whose distinct values name fewer units than this is not a name column.
_MIN_NAMED = 1
_CANDIDATES_LISTED = 3
_UNMATCHED = "unit not matched"
_AMBIGUOUS = "unit matches several"
_NO_DATE = "date missing or unreadable"
_NO_STATUS = "status missing"
_CLASH = "two statuses on one date"
_NO_GROUND = "unit has no polygon"

# Header words of the status and date columns, tried in this order.
_STATUS_HEADERS = ("controller", "control_status", "control status", "status", "control",
                   "held_by", "held by", "controlled_by", "actor")  # fmt: skip
_UNIT_HEADERS = frozenset({"unit", "unit_name", "name", "sub_region", "subdistrict", "sub_district",
                           "nahia", "nahiya", "admin3", "admin3_name", "district", "place"})  # fmt: skip
_DATE_HEADERS = ("date", "as_of", "as of", "last_update", "last update", "updated",
                 "valid_from", "status_date", "month")  # fmt: skip


@dataclass(frozen=True)
class UnitLevel:
    """The fields of one administrative level of a boundary file."""

    level: int
    names: tuple[str, ...] = ()
    code: str | None = None


@dataclass
class _Units:
    """The boundary file's finest units, with what a table row is matched against."""

    frame: gpd.GeoDataFrame
    level: UnitLevel
    levels: dict[int, UnitLevel]
    by_code: dict[str, int] = field(default_factory=dict)
    by_key: dict[str, set[int]] = field(default_factory=dict)
    keys_of: dict[int, dict[int, set[str]]] = field(default_factory=dict)
    """level -> unit position -> the name keys of its unit at that level."""
    known: dict[int, set[str]] = field(default_factory=dict)
    """level -> every name key of that level's units."""

    def label(self, i: int) -> str:
        row = self.frame.iloc[i]
        name = next((str(row[f]) for f in self.level.names if _text(row[f])), "?")
        upper = [
            str(row[lv.names[0]])
            for n, lv in sorted(self.levels.items(), reverse=True)
            if n < self.level.level and lv.names and _text(row[lv.names[0]])
        ]
        code = f" {row[self.level.code]}" if self.level.code else ""
        return f"{name}{code}" + (f" ({', '.join(upper)})" if upper else "")


@dataclass(frozen=True)
class _Columns:
    unit: str | None
    code: str | None
    upper: dict[int, str]  # level -> table column naming the unit's parent at that level
    status: str
    date: str


def areas_from_table(
    table_path: str | Path,
    boundaries_path: str | Path,
    *,
    unit_field: str | None = None,
    controller_field: str | None = None,
    date_field: str | None = None,
    unit_matches: Mapping[str, str] | None = None,
    controller_names: Mapping[str, str] | None = None,
    dayfirst: bool = True,
    today: date | None = None,
) -> AreasResult:
    """Control-area versions from a table of status per unit and the units' boundaries.

    Parameters
    ----------
    table_path
        CSV of (unit name or code, status, date), one row per status report; other columns
        naming the unit's governorate or district help to tell namesakes apart.
    boundaries_path
        The units' polygons (GeoJSON, GeoPackage, Shapefile...), with name and/or P-code
        fields per level (OCHA COD-AB ``admin3Name_en``, ``admin3Pcode``, ``ADM3_EN``...).
    unit_field, controller_field, date_field
        The table's columns; default: found from their values and headers.
    unit_matches
        ``{name as written in the table: P-code}``, the analyst's answers (``--unit-match``).
    controller_names
        ``{status as written: controller}`` over :data:`STATUS_NAMES` (``--rename-controller``).
    dayfirst
        How a date such as 03/04/2015 is read when the column does not settle it.
    today
        Dates after this are typos (default: today).

    Returns
    -------
    AreasResult
        ``areas`` has the columns of :func:`dashboard.areas.read_control_areas` (AREA_SOURCE
        is the table's file name, AREA_FEATURE the table row that starts the version) plus
        ``unit_code``, ``unit_name``, ``area_kind`` and ``area_provenance``. The report's
        ``rows_in`` counts table rows: rows used + rows set aside.

    Raises
    ------
    InputFileError
        A file is missing or unreadable.
    SchemaError
        The boundaries have no name or code field, or the table no usable column.
    """
    table_path, boundaries_path = Path(table_path), Path(boundaries_path)
    name = table_path.name
    report = Report(source=f"{name} + {boundaries_path.name}")
    units = _read_units(boundaries_path, report)
    plain = read_plain_table(table_path)
    report.extend(plain.problems)
    frame = plain.frame
    columns = _find_columns(frame, units, name, unit_field, controller_field, date_field)
    report.add(_columns_note(name, columns, units))
    today = today or date.today()

    errors: dict[int, tuple[str, str]] = {}  # source row -> (kind, reason)
    rows = frame[schema.SOURCE_ROW].to_numpy()
    matched = _match_units(frame, columns, units, unit_matches or {}, name, errors, report)
    _unused_matches(frame, columns, unit_matches or {}, name, report)
    days = _dates(frame, columns.date, name, dayfirst, today, errors, report)
    status = frame[columns.status]
    for row in rows[status.isna().to_numpy()].tolist():
        _set_aside(errors, report, name, row, columns.status, None, _NO_STATUS,
                   f"{columns.status!r} is empty")  # fmt: skip
    controllers = _controllers(status, matched, units, controller_names or {}, name, report)
    used = pd.DataFrame(
        {"row": rows, "unit": matched, "day": days, "status": status, CONTROLLER: controllers}
    )
    every = used
    used = used[~used["row"].isin(errors.keys())]
    used = _drop_clashes(used, units, name, errors, report)
    # A dated row set aside for what it says (two statuses, none) still says the unit's
    # previous status is in doubt from that date: the status does not run across it.
    disputed = [r for r, (kind, _) in errors.items() if kind in (_CLASH, _NO_STATUS)]
    breaks = every[every["row"].isin(disputed) & (every["unit"] >= 0) & every["day"].notna()]
    areas = _versions(used, breaks, units, name, boundaries_path.name, frame, columns)
    rejected = _rejected(errors, frame, status, name)
    ragged = _ragged_rejected(plain.set_aside, name)
    rejected = pd.concat([rejected, ragged], ignore_index=True) if len(ragged) else rejected
    report.rows_in = len(frame) + len(plain.set_aside)
    report.rows_loaded = report.rows_in - len(rejected)
    report.rows_rejected = len(rejected)
    report.add(_summary_note(name, boundaries_path.name, report, areas, units))
    ledger = AreaLedger.of(
        features_in=report.rows_in,
        set_aside=rejected,
        repaired=pd.DataFrame(),
        notes=tuple(p.message for p in report.problems if p.row is None),
        noun=f"rows of {name}",
    )
    return AreasResult(areas=areas, rejected=rejected, report=report, ledger=ledger)


# --------------------------------------------------------------------------------------------
# boundaries


def boundary_levels(columns: list[str]) -> dict[int, UnitLevel]:
    """The administrative levels a boundary file's fields describe, finest last.

    English names come first in each level's ``names``, then the others as found.
    """
    found: dict[int, dict[str, list[str]]] = {}
    for column in columns:
        m = _LEVEL_FIELD.match(str(column))
        if m is None:
            continue
        slot = found.setdefault(int(m["level"]), {"names": [], "code": []})
        slot["code" if m["code"] else "names"].append(str(column))
    out: dict[int, UnitLevel] = {}
    for level, slot in sorted(found.items()):
        names = sorted(
            slot["names"], key=lambda c: (not c.lower().endswith("en"), "alt" in c.lower())
        )
        out[level] = UnitLevel(level, tuple(names), slot["code"][0] if slot["code"] else None)
    return out


def _read_units(path: Path, report: Report) -> _Units:
    check_input_file(path)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*[Nn]on closed ring.*")
            frame = gpd.read_file(path, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, OSError,
            shapely.errors.ShapelyError) as exc:  # fmt: skip
        raise InputFileError(f"{path.name}: cannot be read as boundaries: {exc}") from exc
    if not isinstance(frame, gpd.GeoDataFrame) or frame.active_geometry_name is None:
        raise InputFileError(f"{path.name}: has no geometry: not a boundary file")
    if frame.crs is None:
        raise InputFileError(
            f"{path.name}: declares no CRS; save the boundaries as GeoJSON (lon/lat) or with "
            "their CRS"
        )
    if not frame.crs.equals("EPSG:4326"):
        report.add(Problem(None, "geometry", None,
                           f"{path.name}: reprojected from {frame.crs.to_string()} to EPSG:4326",
                           WARNING))  # fmt: skip
        frame = frame.to_crs("EPSG:4326")
    levels = boundary_levels(list(frame.columns))
    usable = {n: lv for n, lv in levels.items() if lv.names or lv.code}
    if not usable:
        raise SchemaError(
            f"{path.name}: no unit name or code fields (looked for admin3Name_en, admin3Pcode, "
            f"ADM3_EN, ADM3_PCODE and the like); fields are {', '.join(map(str, frame.columns))}"
        )
    level = usable[max(usable)]
    frame = frame.reset_index(drop=True)
    frame["geometry"] = _repaired(frame.geometry, path.name, level, frame, report)
    if level.code:
        frame = _one_feature_per_code(frame, level.code, path.name, report)
    units = _Units(frame=frame, level=level, levels=usable)
    if level.code:
        for i, code in enumerate(frame[level.code]):
            if _text(code):
                units.by_code[_code_key(code)] = i
    for n, lv in usable.items():
        per: dict[int, set[str]] = {}
        for i in range(len(frame)):
            keys = {k for f in lv.names for k in _keys(frame.at[i, f])[:1]}
            per[i] = keys
            if n == level.level:
                for f in lv.names:
                    for k in _keys(frame.at[i, f]):
                        units.by_key.setdefault(k, set()).add(i)
        units.keys_of[n] = per
        units.known[n] = set().union(*per.values()) if per else set()
    return units


def _one_feature_per_code(
    frame: gpd.GeoDataFrame, code: str, name: str, report: Report
) -> gpd.GeoDataFrame:
    """Features sharing a P-code (an island, a unit drawn in parts) are one unit: their
    ground joined under the first one's fields, and said."""
    keys = frame[code].map(lambda v: _code_key(v) if _text(v) else None)
    repeated = keys.notna() & keys.duplicated(keep=False)
    if not repeated.any():
        return frame
    keep = ~(repeated & keys.duplicated(keep="first"))
    merged = frame.loc[keep].copy()
    for _key, part in frame[repeated].groupby(keys[repeated], sort=False):
        ground = [g for g in part.geometry if g is not None]
        merged.loc[part.index[0], "geometry"] = shapely.union_all(ground) if ground else None
    listed = ", ".join(sorted(set(keys[repeated])))
    report.add(Problem(None, code, None,
                       f"{name}: {int(repeated.sum())} features share {keys[repeated].nunique()} "
                       f"P-codes ({listed}): each code's parts joined into one unit", WARNING))  # fmt: skip
    return gpd.GeoDataFrame(merged, geometry="geometry", crs=frame.crs).reset_index(drop=True)


def _repaired(
    geoms: gpd.GeoSeries, name: str, level: UnitLevel, frame: gpd.GeoDataFrame, report: Report
) -> gpd.GeoSeries:
    out: list[shapely.Geometry | None] = []
    for i, geom in enumerate(geoms):
        first = frame.at[i, level.names[0]] if level.names else None
        label = str(first) if _text(first) else f"feature {i + 1}"
        if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
            report.add(Problem(i + 1, "geometry", None,
                               f"{name} feature {i + 1} ({label}): no polygon; rows of this "
                               "unit are set aside", WARNING))  # fmt: skip
            out.append(None)
        elif not geom.is_valid:
            report.add(Problem(i + 1, "geometry", None,
                               f"{name} feature {i + 1} ({label}): invalid polygon "
                               f"({shapely.is_valid_reason(geom)}), repaired", WARNING))  # fmt: skip
            out.append(repaired_polygon(geom))
        else:
            out.append(geom)
    return gpd.GeoSeries(out, index=geoms.index, crs=geoms.crs)


# --------------------------------------------------------------------------------------------
# the table's columns


def _find_columns(
    frame: pd.DataFrame,
    units: _Units,
    name: str,
    unit_field: str | None,
    controller_field: str | None,
    date_field: str | None,
) -> _Columns:
    text_columns = [c for c in frame.columns if c != schema.SOURCE_ROW]
    listed = ", ".join(map(repr, text_columns))
    for option, given in (("--unit-field", unit_field), ("--controller-field", controller_field),
                          ("--date-field", date_field)):  # fmt: skip
        if given is not None and given not in frame.columns:
            raise SchemaError(f"{name}: no column {given!r} ({option}); columns are {listed}")
    status = _by_header(text_columns, controller_field, _STATUS_HEADERS)
    if status is None:
        raise SchemaError(
            f"{name}: no status column (looked for {', '.join(_STATUS_HEADERS[:4])}...); "
            f"columns are {listed}: name it with --controller-field"
        )
    day = _by_header(text_columns, date_field, _DATE_HEADERS)
    if day is None:
        raise SchemaError(
            f"{name}: no date column (looked for {', '.join(_DATE_HEADERS[:5])}...); "
            f"columns are {listed}: name it with --date-field"
        )
    rest = [c for c in text_columns if c not in (status, day)]
    code = _code_column(frame, rest, units) if unit_field is None else None
    named = {c: _named_per_level(frame[c], units) for c in rest if c != code}
    unit = unit_field

    # Most distinct values naming units, a unit-like header breaking ties and carrying a
    # small table whose names are all spelled unlike the boundaries.
    def score(c: str) -> float:
        hinted = c.strip().lower().replace("-", "_").replace(" ", "_") in _UNIT_HEADERS
        return named[c].get(units.level.level, 0) + (0.5 if hinted else 0.0)

    if unit is None and code is not None:
        # beside the codes, a column of names: the fallback of a blank or stale code
        best = max(named, key=score, default=None)
        unit = best if best is not None and named[best].get(units.level.level, 0) > 0 else None
    elif unit is None:
        best = max(named, key=score, default=None)
        if best is None or score(best) <= 0:
            raise SchemaError(
                f"{name}: no column names the units of the boundaries (level "
                f"{units.level.level}: {', '.join(units.level.names or (units.level.code or '',))}); "
                f"columns are {listed}: name it with --unit-field"
            )
        unit = best
    # Each other column speaks of the level whose units it names most (a governorate column
    # also names districts called after their capital: the coarser level wins a tie).
    coarser = [lv for lv in sorted(units.levels) if lv < units.level.level]
    per_level: dict[int, tuple[int, str]] = {}
    for c, counts in named.items():
        if c in (unit, code) or not coarser:
            continue
        level = max(coarser, key=lambda lv: (counts.get(lv, 0), -lv))  # noqa: B023 (used at once)
        n = counts.get(level, 0)
        if n >= _MIN_NAMED and n > per_level.get(level, (0, ""))[0]:
            per_level[level] = (n, c)
    upper = {level: c for level, (_, c) in per_level.items()}
    return _Columns(unit=unit, code=code, upper=upper, status=status, date=day)


def _by_header(columns: list[str], given: str | None, words: tuple[str, ...]) -> str | None:
    if given is not None:
        return given
    folded = {c.strip().lower().replace("-", "_"): c for c in columns}
    return next((folded[w] for w in words if w in folded), None)


def _code_column(frame: pd.DataFrame, columns: list[str], units: _Units) -> str | None:
    """The column whose values are the boundaries' P-codes (most of them), if any."""
    if not units.by_code:
        return None
    best, share = None, 0.5  # at least half the values are codes
    for c in columns:
        values = frame[c].dropna()
        if not len(values):
            continue
        hit = values.map(_code_key).isin(units.by_code.keys()).mean()
        if hit >= share:
            best, share = c, hit
    return best


def _named_per_level(values: pd.Series, units: _Units) -> dict[int, int]:
    """How many distinct values of a column name some unit, per level."""
    firsts = [k[0] for k in (_keys(v) for v in values.dropna().unique()) if k]
    return {level: sum(1 for k in firsts if k in known) for level, known in units.known.items()}


def _columns_note(name: str, columns: _Columns, units: _Units) -> Problem:
    parts = []
    if columns.code:
        parts.append(f"P-codes from {columns.code!r}")
    if columns.unit:
        parts.append(f"unit names from {columns.unit!r} (level {units.level.level})")
    parts += [f"level {lv} names from {c!r}" for lv, c in sorted(columns.upper.items())]
    parts += [f"status from {columns.status!r}", f"dates from {columns.date!r}"]
    return Problem(
        None, None, None,
        f"{name}: {'; '.join(parts)} (--unit-field, --controller-field and --date-field "
        "choose others)",
        WARNING,
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# matching rows to units


def _match_units(
    frame: pd.DataFrame,
    columns: _Columns,
    units: _Units,
    unit_matches: Mapping[str, str],
    name: str,
    errors: dict[int, tuple[str, str]],
    report: Report,
) -> np.ndarray:
    """Each row's unit (position in the boundaries), -1 where it is set aside."""
    manual = {_match_key(k): v for k, v in unit_matches.items()}
    for given, code in unit_matches.items():
        if _code_key(code) not in units.by_code:
            raise SchemaError(
                f"--unit-match {given}={code}: no unit has the code {code!r} in the boundaries"
            )
    keys = [columns.code, columns.unit, *columns.upper.values()]
    present = [c for c in keys if c is not None]
    out = np.full(len(frame), -1, dtype=np.int64)
    groups = frame.groupby(present, dropna=False, sort=False).indices
    for key, positions in groups.items():
        values = dict(zip(present, key if isinstance(key, tuple) else (key,), strict=True))
        found, why, candidates = _match_one(values, columns, units, manual)
        if found >= 0 and units.frame.geometry.iloc[found] is None:
            found, why = -1, _NO_GROUND
        if found >= 0:
            out[positions] = found
            continue
        written = values.get(columns.unit or "") or values.get(columns.code or "")
        reason = _unmatched_reason(written, values, columns, why, candidates, units)
        for row in frame[schema.SOURCE_ROW].to_numpy()[positions].tolist():
            _set_aside(
                errors, report, name, row, columns.unit or columns.code, written, why, reason
            )
    return out


def _unused_matches(
    frame: pd.DataFrame,
    columns: _Columns,
    unit_matches: Mapping[str, str],
    name: str,
    report: Report,
) -> None:
    """Say which ``--unit-match`` names no row of the table holds (a typo, another file)."""
    written = {
        _match_key(v)
        for c in (columns.unit, columns.code)
        if c is not None
        for v in frame[c].dropna().unique()
    }
    unused = [k for k in unit_matches if _match_key(k) not in written]
    if unused:
        listed = ", ".join(repr(k) for k in unused[:10])
        report.add(Problem(None, columns.unit or columns.code, None,
                           f"{name}: --unit-match names no row of the table: {listed}",
                           WARNING))  # fmt: skip


def _match_one(
    values: dict[str, object], columns: _Columns, units: _Units, manual: Mapping[str, str]
) -> tuple[int, str, list[int]]:
    """(unit position or -1, why not, the candidates considered)."""
    unit_text = values.get(columns.unit) if columns.unit else None
    code_text = values.get(columns.code) if columns.code else None
    for given in (unit_text, code_text):
        if _text(given) and _match_key(given) in manual:
            return units.by_code[_code_key(manual[_match_key(given)])], "", []
    if columns.code:
        code = values.get(columns.code)
        if _text(code) and _code_key(code) in units.by_code:
            return units.by_code[_code_key(code)], "", []
        if not columns.unit:
            return -1, _UNMATCHED, []
    if not _text(unit_text):
        return -1, _UNMATCHED, []
    keys = _keys(unit_text)
    found = _narrow(_by_keys(keys, units), values, columns, units)
    if not found:
        # "Suran Hama", "Suran Aleppo": a namesake told apart by its governorate's name
        # written after it. The table's own parent names are dropped, nothing else.
        shorter = _without_parent(keys[0] if keys else "", values, columns)
        if shorter:
            found = _narrow(_by_keys((shorter,), units), values, columns, units)
    if len(found) == 1:
        return next(iter(found)), "", []
    if len(found) > 1:
        return -1, _AMBIGUOUS, sorted(found)
    return -1, _UNMATCHED, _closest(keys[0] if keys else "", values, columns, units)


def _by_keys(keys: tuple[str, ...], units: _Units) -> set[int]:
    found = units.by_key.get(keys[0], set()) if keys else set()
    if not found and len(keys) > 1:
        found = units.by_key.get(keys[1], set())
    return set(found)


def _without_parent(key: str, values: dict[str, object], columns: _Columns) -> str:
    """``key`` without a trailing parent name the row itself gives; "" when it has none."""
    for column in columns.upper.values():
        parent = _keys(values.get(column))[:1]
        if parent and key.endswith(" " + parent[0]):
            return key.removesuffix(" " + parent[0])
    return ""


def _narrow(
    found: set[int], values: dict[str, object], columns: _Columns, units: _Units
) -> set[int]:
    """Keep the candidates in the table's governorate, then district, when it says one.

    A parent the boundaries do not know at that level (another spelling of a district)
    narrows nothing; one they know that no candidate lies in leaves none: the name and its
    governorate disagree, and which is right is not guessed."""
    for level, column in sorted(columns.upper.items()):
        keys = set(_keys(values.get(column))[:1])
        if not keys or not keys & units.known[level]:
            continue
        found = {i for i in found if units.keys_of[level].get(i, set()) & keys}
    return found


def _closest(key: str, values: dict[str, object], columns: _Columns, units: _Units) -> list[int]:
    """Units whose names are spelled most like ``key``, within the row's own governorate
    and district as far as the boundaries know them."""
    pool = set(range(len(units.frame)))
    for level, column in sorted(columns.upper.items()):
        keys = set(_keys(values.get(column))[:1])
        inside = {i for i in pool if units.keys_of[level].get(i, set()) & keys}
        if inside:  # a parent the boundaries do not know narrows nothing
            pool = inside
    words = _word_key(key)
    scored: list[tuple[float, int]] = []
    for i in pool:
        names = units.keys_of[units.level.level].get(i, set())
        if names:
            ratio = max(max(_similar(key, n), _similar(words, _word_key(n))) for n in names)
            scored.append((ratio, i))
    scored.sort(key=lambda t: (-t[0], t[1]))
    return [i for ratio, i in scored[:_CANDIDATES_LISTED] if ratio >= 0.5]


# Direction words in Arabic transliteration and English ("Kwers Sharqi", "Eastern Kwaires").
_DIRECTIONS = {"sharqi": "east", "sharki": "east", "eastern": "east", "east": "east",
               "gharbi": "west", "western": "west", "west": "west",
               "shamali": "north", "northern": "north", "north": "north",
               "janubi": "south", "janoubi": "south", "southern": "south", "south": "south"}  # fmt: skip


def _word_key(key: str) -> str:
    """The words of a name key with direction words in one spelling, in sorted order."""
    return " ".join(sorted(_DIRECTIONS.get(w, w) for w in key.split()))


def _similar(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b).ratio()


def _unmatched_reason(
    written: object,
    values: dict[str, object],
    columns: _Columns,
    why: str,
    candidates: list[int],
    units: _Units,
) -> str:
    where = ", ".join(f"{values[c]}" for _, c in sorted(columns.upper.items()) if _text(values[c]))
    what = f"{written!r}" + (f" ({where})" if where else "")
    if why == _NO_GROUND:
        return f"unit {what} has no polygon in the boundaries"
    if why == _AMBIGUOUS:
        head = f"unit {what} names {len(candidates)} units"
    else:
        head = f"unit {what} matches no unit of the boundaries"
    if not candidates:
        return head + f"; give its P-code with --unit-match '{written}=PCODE'"
    listed = "; ".join(units.label(i) for i in candidates)
    code = units.frame.at[candidates[0], units.level.code] if units.level.code else "PCODE"
    return (
        f"{head}: {'candidates' if why == _AMBIGUOUS else 'closest'}: {listed}; if one is it, "
        f"say so with --unit-match '{written}={code}'"
    )


# --------------------------------------------------------------------------------------------
# dates, statuses, versions


def _dates(
    frame: pd.DataFrame,
    column: str,
    name: str,
    dayfirst: bool,
    today: date,
    errors: dict[int, tuple[str, str]],
    report: Report,
) -> pd.Series:
    text, _months = month_forms(frame[column])  # "2015-03", "Mar 2015": the 1st of the month
    got = parse_dates(text, column, dayfirst=dayfirst)
    rows = frame[schema.SOURCE_ROW]
    for finding in got.findings:
        row = int(rows.loc[finding.label])
        if finding.severity == ERROR:
            _set_aside(errors, report, name, row, column, finding.value, _NO_DATE, finding.message)
        else:
            report.add(Problem(row, column, finding.value, f"{name} row {row}: {finding.message}",
                               WARNING))  # fmt: skip
    days = got.dates.dt.normalize()
    for label in frame.index[days.isna() & frame[column].isna()]:
        row = int(rows.loc[label])
        _set_aside(errors, report, name, row, column, None, _NO_DATE, f"{column!r} is empty")
    early = days < pd.Timestamp(1900, 1, 1)
    late = days > pd.Timestamp(today)
    for label in frame.index[(early | late).to_numpy()]:
        row = int(rows.loc[label])
        _set_aside(errors, report, name, row, column, str(days.loc[label].date()), _NO_DATE,
                   f"{column} {days.loc[label].date()} is after today or before 1900: a typo?")  # fmt: skip
    return days


def _controllers(
    status: pd.Series,
    matched: np.ndarray,
    units: _Units,
    renames: Mapping[str, str],
    name: str,
    report: Report,
) -> pd.Series:
    """Each row's controller; unknown statuses kept as written and listed in one warning."""
    country = _countries(units)
    out: list[str | None] = []
    unknown: dict[str, int] = {}
    for value, unit in zip(status.tolist(), matched.tolist(), strict=True):
        if not _text(value):
            out.append(None)
            continue
        text = str(value)
        mapped = renames.get(text) or controller_name(text, country[unit] if unit >= 0 else None)
        if mapped is None and text in schema.CONTROLLERS:
            mapped = text
        if mapped is None:
            if unit >= 0:  # a row set aside for its unit is not counted here
                unknown[text] = unknown.get(text, 0) + 1
            mapped = text
        out.append(mapped)
    if unknown:
        listed = ", ".join(f"{v!r} ({n} rows)" for v, n in sorted(unknown.items()))
        report.add(Problem(None, CONTROLLER, None,
                           f"{name}: statuses not in the project's names, kept as written: "
                           f"{listed}; map them with --rename-controller OLD=NEW", WARNING))  # fmt: skip
    return pd.Series(out, index=status.index, dtype="string")


def _countries(units: _Units) -> list[str | None]:
    """Each unit's country as a two-letter P-code prefix (SY, IQ), when the codes say."""
    code = units.level.code
    if code is None:
        lv0 = units.levels.get(0)
        if lv0 is None or not lv0.names:
            return [None] * len(units.frame)
        by_name = {"syria": "SY", "syrian arab republic": "SY", "iraq": "IQ"}
        return [by_name.get(str(v).strip().lower()) for v in units.frame[lv0.names[0]]]
    return [str(v)[:2].upper() if _text(v) else None for v in units.frame[code]]


def _drop_clashes(
    used: pd.DataFrame, units: _Units, name: str, errors: dict[int, tuple[str, str]], report: Report
) -> pd.DataFrame:
    """Set aside every row of a unit and date that has two different controllers."""
    per_day = used.groupby(["unit", "day"])[CONTROLLER].nunique()
    clashes = per_day[per_day > 1].index
    if not len(clashes):
        return used
    clash = used.set_index(["unit", "day"]).index.isin(clashes)
    for unit, day in clashes:
        same = used[(used["unit"] == unit) & (used["day"] == day)]
        listed = ", ".join(
            f"row {r} {s!r}" for r, s in zip(same["row"], same["status"], strict=True)
        )
        for row in same["row"].tolist():
            _set_aside(errors, report, name, row, CONTROLLER, None, _CLASH,
                       f"{units.label(unit)} has two statuses on {day.date()}: {listed}; "
                       "correct the table")  # fmt: skip
    return used[~clash]


def _versions(
    used: pd.DataFrame,
    breaks: pd.DataFrame,
    units: _Units,
    name: str,
    boundary_name: str,
    frame: pd.DataFrame,
    columns: _Columns,
) -> gpd.GeoDataFrame:
    """One version per run of one controller in each unit's dated rows; a break (a
    disputed row) ends the run before it, and the unit's status resumes at its next row."""
    disputed = breaks.copy()
    disputed[CONTROLLER] = pd.Series(pd.NA, index=disputed.index, dtype="string")
    marked: pd.DataFrame = pd.concat(
        [used.assign(_break=False), disputed.assign(_break=True)], ignore_index=True
    )
    # a usable row and a disputed one on the same day: the usable row says it
    marked = marked.sort_values(["unit", "day", "_break", "row"], kind="stable")
    marked = marked.drop_duplicates(["unit", "day"], keep="first")
    same_unit = marked["unit"].eq(marked["unit"].shift())
    controller = marked[CONTROLLER].astype("string")
    same_controller = controller.eq(controller.shift()).fillna(False).astype(bool)
    is_break = marked["_break"].astype(bool)
    new_run = ~(same_unit & same_controller & ~is_break & ~is_break.shift(fill_value=False))
    runs = marked[new_run.to_numpy()].copy()
    nxt_same = runs["unit"].eq(runs["unit"].shift(-1))
    ends = runs["day"].shift(-1).where(nxt_same)
    held = ~runs["_break"].to_numpy(dtype=bool)
    runs, ends = runs[held], ends[held]
    code_field = units.level.code
    labels = [units.label(int(u)) for u in runs["unit"]]
    written = frame.set_index(schema.SOURCE_ROW)
    provenance = [
        f"{name} row {r}: {written.at[r, columns.unit or columns.code]!s} {s!r} as of "
        f"{d.date()}; ground: {boundary_name} {label}"
        for r, s, d, label in zip(runs["row"], runs["status"], runs["day"], labels, strict=True)
    ]
    codes = (
        [str(units.frame.at[int(u), code_field]) for u in runs["unit"]]
        if code_field
        else [str(int(u) + 1) for u in runs["unit"]]
    )
    areas = gpd.GeoDataFrame(
        {
            schema.AREA_ID: pd.array(
                [f"{c}@{d.date()}" for c, d in zip(codes, runs["day"], strict=True)],
                dtype="string",
            ),
            CONTROLLER: runs[CONTROLLER].astype("string").to_numpy(),
            schema.VALID_FROM: runs["day"].to_numpy().astype(DATE_DTYPE),
            schema.VALID_TO: ends.to_numpy().astype(DATE_DTYPE),
            schema.AREA_SOURCE: pd.array([name] * len(runs), dtype="string"),
            schema.AREA_FEATURE: runs["row"].to_numpy(dtype=np.int64),
            UNIT_CODE: codes,
            UNIT_NAME: labels,
            AREA_KIND: KIND_TABLE,
            AREA_PROVENANCE: provenance,
        },
        geometry=units.frame.geometry.iloc[runs["unit"].to_numpy()].to_numpy(),
        crs="EPSG:4326",
    )
    return areas.reset_index(drop=True)


def _summary_note(
    name: str, boundary_name: str, report: Report, areas: gpd.GeoDataFrame, units: _Units
) -> Problem:
    matched = areas[UNIT_CODE].nunique() if len(areas) else 0
    span = (
        f", {areas[schema.VALID_FROM].min().date()} to {areas[schema.VALID_FROM].max().date()}"
        if len(areas)
        else ""
    )
    return Problem(
        None, None, None,
        f"{name}: {report.rows_loaded:,} of {report.rows_in:,} rows used, on {matched:,} of the "
        f"{len(units.frame):,} units of {boundary_name}{span}; each unit held by its status "
        "from the row's date until its next row",
        WARNING,
    )  # fmt: skip


# --------------------------------------------------------------------------------------------
# small helpers

CONTROLLER = schema.CONTROLLER


def _set_aside(
    errors: dict[int, tuple[str, str]],
    report: Report,
    name: str,
    row: int,
    column: str | None,
    value: object,
    kind: str,
    reason: str,
) -> None:
    if row in errors:
        return
    errors[row] = (kind, reason)
    report.add(Problem(row, column, value, f"{name} row {row}: {reason}"))


def _rejected(
    errors: dict[int, tuple[str, str]], frame: pd.DataFrame, status: pd.Series, name: str
) -> pd.DataFrame:
    rows = sorted(errors)
    by_row = dict(zip(frame[schema.SOURCE_ROW].tolist(), status.tolist(), strict=True))
    return pd.DataFrame(
        {
            schema.AREA_SOURCE: [name] * len(rows),
            schema.AREA_FEATURE: rows,
            CONTROLLER: [by_row.get(r) for r in rows],
            REASON_KIND: [errors[r][0] for r in rows],
            schema.REJECT_REASON: [errors[r][1] for r in rows],
            AREA_KM2: np.full(len(rows), np.nan),
        }
    )


def _ragged_rejected(set_aside: pd.DataFrame, name: str) -> pd.DataFrame:
    if not len(set_aside):
        return pd.DataFrame()
    return pd.DataFrame(
        {
            schema.AREA_SOURCE: [name] * len(set_aside),
            schema.AREA_FEATURE: set_aside[schema.SOURCE_ROW].to_numpy(),
            CONTROLLER: [None] * len(set_aside),
            REASON_KIND: ["ragged row"] * len(set_aside),
            schema.REJECT_REASON: set_aside[schema.REJECT_REASON].to_numpy(),
            AREA_KM2: np.full(len(set_aside), np.nan),
        }
    )


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _keys(value: object) -> tuple[str, ...]:
    if not _text(value):
        return ()
    return tuple(k for k in name_keys(str(value)) if k)


def _code_key(value: object) -> str:
    return re.sub(r"[\s\-_.]", "", str(value)).upper()


def _match_key(value: object) -> str:
    return normalise_name(str(value)) or str(value).strip().casefold()
