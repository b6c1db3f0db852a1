"""Reading and validating time-varying control areas.

A control area is one *version* of a polygon: who controlled it (``controller``) from
``valid_from`` (inclusive) to ``valid_to`` (exclusive; empty = still valid). Two shapes of
input are accepted:

* interval files: every feature carries its own ``controller, valid_from, valid_to``;
* snapshot files: every feature is valid on one date (a date column, or ``as_of=``). A
  *series* of snapshots (several files, or one file with several dates) becomes intervals:
  each snapshot is valid until the next snapshot date, the last one is open-ended.

Every feature is checked and either loaded or set aside with a reason; problems are
collected in a :class:`~dashboard.report.Report` whose ``row`` is the 1-based feature
number in its file (the file name is in the message, since one call may read many files).

What is refused, and how:

* CRS missing: :class:`~dashboard.errors.CRSError` ("CRS missing", naming the file) unless
  the caller passes ``assume_crs=`` (``--assume-crs``); a CRS other than EPSG:4326 (a 3-D
  one such as EPSG:4979 included) is reprojected explicitly to 2-D EPSG:4326 and a warning
  says so; heights of 3-D coordinates are dropped, said once per file; a series whose files
  are in different CRS gets one warning listing them. A *projected* CRS whose coordinates all lie within +/-180, +/-90 is
  lon/lat under a wrong label (the original OCHA 2015 shapefile claimed UTM 37N): refused
  with :class:`GeometryError` naming the file rather than reprojected to nonsense.
* Coordinates impossible for lon/lat (|x| > 180 or |y| > 90): the feature is set aside; if
  *every* feature of a file is out of range the file's CRS label is wrong (the OCHA 2015
  shapefile history: metres labelled as degrees) and :class:`GeometryError` names the file.
* Null geometry, empty geometry, unreadable geometry (unclosed ring), non-polygon geometry:
  set aside, each worded differently.
* Invalid geometry (a self-intersecting bow-tie, the usual state of hand-drawn front-line
  polygons): repaired by default with ``make_valid``, keeping the polygonal part, and
  reported with its area before and after; ``repair=False`` (``--no-repair``) sets it aside
  with shapely's ``is_valid_reason`` instead.
* A polygon with an edge jumping more than 180 degrees of longitude crosses the antimeridian:
  it is split at +/-180 into a MultiPolygon and a warning says so.
* Dates: unparseable, missing, or ``valid_from >= valid_to``: set aside. A snapshot date or
  ``valid_from`` after today or before 1900 is a typo (``2202-02-02``): set aside, so the
  series is not stretched to it. A ``valid_to`` after today reads as "still valid"
  (open-ended), with a warning.
* A snapshot file with no date field and no ``as_of`` takes its date from its file name
  (``..._20240708.geojson``, ``2024-07-08``, ``2024_07_08``), said in the report; a file
  with no controller field can be given one controller for all its features
  (``controller=``, ``--controller``).

Everything set aside or repaired is in :attr:`AreasResult.rejected` and
:attr:`AreasResult.repaired` with its reason and ground, and summed up in
:attr:`AreasResult.ledger` (:class:`~dashboard.arealedger.AreaLedger`), which every figure
computed from the areas quotes.
* Overlaps: polygons of *different* controllers that overlap (intersection area above a
  tiny fraction of the smaller polygon) while both are valid are reported as warnings
  naming both features; they are kept (the join decides, see :mod:`dashboard.spatial`).
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from dashboard.arealedger import AREA_KM2, AREA_KM2_BEFORE, REASON_KIND, AreaLedger
from dashboard.errors import CRSError, GeometryError, InputFileError, SchemaError
from dashboard.measure import area_km2, format_km2, polygonal_part
from dashboard.paths import check_input_file
from dashboard.report import WARNING, Problem, Report
from dashboard.schema import (
    AREA_FEATURE,
    AREA_ID,
    AREA_KIND,
    AREA_PROVENANCE,
    AREA_SOURCE,
    CONTESTED,
    CONTROLLER,
    ISLAMIC_STATE,
    KIND_POLYGONS,
    NO_INFORMATION,
    REJECT_REASON,
    SYRIAN_GOVERNMENT,
    VALID_FROM,
    VALID_TO,
)
from dashboard.spatial import day_numbers

__all__ = [
    "DATE_DTYPE",
    "OCHA_AOI_2015_NAMES",
    "AreasResult",
    "areas_at",
    "check_overlaps",
    "last_change",
    "read_control_areas",
]

#: The dtype of VALID_FROM / VALID_TO: whole days (midnight), NaT in VALID_TO = open-ended.
DATE_DTYPE: Final = "datetime64[s]"

#: OCHA "Areas of Influence" (2015) ``actor_type`` values mapped onto the project's names.
#: Only the unambiguous ones: "Kurdish Forces" (YPG, before and during the SDF's founding
#: in Oct 2015), "Non-state armed groups and ANF" (opposition *and* al-Nusra) and "ISIS
#: operation" (ISIS activity, not held ground) have no faithful equivalent and keep their
#: OCHA wording.
OCHA_AOI_2015_NAMES: Mapping[str, str] = {
    "Government (SAA)": SYRIAN_GOVERNMENT,
    "ISIS-affiliated groups": ISLAMIC_STATE,
    "Contested Areas": CONTESTED,
}

_PARQUET_SUFFIXES = frozenset({".parquet", ".geoparquet"})
_GEOJSON_SUFFIXES = frozenset({".geojson", ".json"})
_POLYGONAL = frozenset({"Polygon", "MultiPolygon"})
_WGS84 = CRS.from_epsg(4326)
# Overlaps smaller than this fraction of the smaller polygon are mostly digitising slivers
# along shared borders (half of the OCHA 2015 overlaps): counted in one warning, not listed.
_OVERLAP_LIST_FRACTION = 1e-3
# Below this the intersection is floating-point noise of touching polygons.
_OVERLAP_MIN_FRACTION = 1e-9
# Significant overlaps listed one warning each; beyond this they are counted per controller
# pair in one warning (a synthetic 40k-version history has ~150k, unreadable as a list).
_OVERLAP_LIST_MAX = 200
# Controller pairs named in that one warning (a summary line must stay readable).
_PAIRS_LISTED = 10
_ID_FIELD = AREA_ID
_EARLIEST = date(1900, 1, 1)
# A date in a file name: 20240708, 2024-07-08 or 2024_07_08, not part of a longer number.
_NAME_DATE = re.compile(r"(?<!\d)((?:19|20)\d{2})([-_]?)(\d{2})\2(\d{2})(?!\d)")

# Why a feature was set aside, in a few words: the summaries count features by these.
NULL_GEOMETRY = "null geometry"
EMPTY_GEOMETRY = "empty geometry"
UNREADABLE_GEOMETRY = "unreadable geometry"
NOT_POLYGON = "not a polygon"
OUT_OF_RANGE = "coordinates out of range"
INVALID_GEOMETRY = "self-intersecting or invalid (--no-repair)"
NO_AREA_AFTER_REPAIR = "no area left after repair"
NO_CONTROLLER = "controller missing"
NO_DATE = "date missing"
BAD_DATE = "date unreadable"
IMPLAUSIBLE_DATE = "date after today or before 1900"
REVERSED_DATES = "valid_from not before valid_to"
REPAIRED_GEOMETRY = "self-intersecting or invalid"  # repaired, and used
# Set-aside features of these kinds have no polygon whose ground could be measured.
_UNMEASURED = frozenset(
    {NULL_GEOMETRY, EMPTY_GEOMETRY, UNREADABLE_GEOMETRY, NOT_POLYGON, OUT_OF_RANGE}
)


@dataclass
class AreasResult:
    """Control-area versions read from one or more files.

    Attributes
    ----------
    areas
        One row per loaded version: AREA_ID, CONTROLLER, VALID_FROM, VALID_TO (NaT =
        open-ended), AREA_SOURCE (file name), AREA_FEATURE (1-based feature number), the
        file's other properties, and a Polygon/MultiPolygon geometry in EPSG:4326.
    rejected
        One row per set-aside feature: AREA_SOURCE, AREA_FEATURE, CONTROLLER (as given),
        ``reason_kind`` (a few words: ``null geometry``), REJECT_REASON (the full reason) and
        ``area_km2`` (the ground of its polygon, repaired if need be; NaN when it has none).
    report
        ``rows_in`` = features read, ``rows_loaded`` + ``rows_rejected``; every problem.
    repaired
        One row per loaded feature that was repaired: AREA_SOURCE, AREA_FEATURE,
        CONTROLLER, REJECT_REASON (what was wrong), ``area_km2_before`` (as drawn) and
        ``area_km2`` (after the repair).
    ledger
        Features in = used as read + repaired + set aside, with their ground.
    """

    areas: gpd.GeoDataFrame
    rejected: pd.DataFrame
    report: Report
    repaired: pd.DataFrame = field(default_factory=pd.DataFrame)
    ledger: AreaLedger = field(default_factory=AreaLedger)


@dataclass
class _FileFrame:
    """One file after reading and per-feature checks, before snapshot dates become intervals."""

    name: str
    frame: gpd.GeoDataFrame  # all features; geometry may be None / replaced by repairs
    errors: list[list[tuple[str, str]]]  # per feature: (kind, reason) to set it aside
    snapshot: bool = False  # dated by a snapshot date (a series), not by intervals
    repairs: dict[int, tuple[str, shapely.Geometry]] = field(default_factory=dict)
    """0-based feature -> (what was wrong, the geometry as drawn) of repaired features."""
    crs: str = ""
    """The CRS the file declared (or was assumed to be in)."""


# --------------------------------------------------------------------------------------------
# public API


def read_control_areas(
    paths: str | Path | Sequence[str | Path],
    *,
    controller_field: str = "controller",
    from_field: str = "valid_from",
    to_field: str = "valid_to",
    date_field: str | None = None,
    as_of: str | date | Sequence[str | date | None] | None = None,
    as_of_by_file: Mapping[str, str | date] | None = None,
    controller: str | None = None,
    controller_names: Mapping[str, str] | None = None,
    repair: bool = True,
    assume_crs: str | None = None,
    known_controllers: Collection[str] | None = None,
    id_field: str | None = _ID_FIELD,
    today: date | None = None,
) -> AreasResult:
    """Read control-area versions from GeoJSON, GeoPackage, Shapefile, KML or GeoParquet.

    Parameters
    ----------
    paths
        One file or several. Several interval files are simply stacked; several snapshot
        files form one series.
    controller_field, from_field, to_field
        Field names in interval files. ``to_field`` may be absent or empty (open-ended).
    date_field
        Snapshot mode: the field holding each feature's snapshot date (OCHA: ``"valid_date"``).
    as_of
        Snapshot mode: the date of features without a date (or of files without
        ``date_field``): one date for all files, or one per file (a sequence in file
        order, None where a file has none). A file without a date field, an ``as_of`` or a
        ``from_field`` whose name holds a date (``..._20240708.geojson``) is a snapshot of
        that date.
    as_of_by_file
        ``{file path or name: date}``: the snapshot date of those files, over ``as_of``.
    controller
        The controller of every feature of a file that has no ``controller_field`` (a
        series of one occupier's territory whose files carry no properties).
    controller_names
        Mapping from the names in the file to the names to use (e.g.
        :data:`OCHA_AOI_2015_NAMES`); names not in it are kept as given.
    repair
        Repair invalid geometries with ``shapely.make_valid``, keeping the polygonal part
        (recorded as a warning with the area before and after; the default); False sets
        them aside.
    assume_crs
        CRS to use for files that declare none; without it such files are refused.
    known_controllers
        If given, controller names (after mapping) outside this set are listed in a warning.
    id_field
        Field giving stable area ids; used when present, filled and unique. Otherwise the id
        is ``"<file stem>-<feature number>"``.
    today
        Dates after this one are typos (default: the date today).

    Returns
    -------
    AreasResult

    Raises
    ------
    InputFileError
        A file is missing or cannot be read at all (the message names the file, and the
        feature with an unclosed ring when that is why).
    CRSError
        A file has no CRS and ``assume_crs`` was not given.
    GeometryError
        Every feature of a file lies outside lon/lat range (the CRS label is wrong).
    SchemaError
        A required field is missing.

    Notes
    -----
    The format follows the file suffix: ``.parquet``/``.geoparquet`` through
    ``geopandas.read_parquet``, anything else through ``geopandas.read_file(...,
    engine="pyogrio")`` (GeoJSON, GeoPackage, Shapefile, KML, ...): the first layer only.
    Dates are whole days; a time of day is dropped, a time zone converted to UTC first.
    """
    path_list = _as_path_list(paths)
    as_of_list = _as_of_per_file(as_of, as_of_by_file or {}, path_list)
    report = Report(source=", ".join(p.name for p in path_list))
    dates = _DateRules(today=today or date.today())
    files: list[_FileFrame] = []
    for path, file_as_of in zip(path_list, as_of_list, strict=True):
        files.append(
            _read_one(
                path,
                report,
                controller_field=controller_field,
                from_field=from_field,
                to_field=to_field,
                date_field=date_field,
                as_of=file_as_of,
                controller=controller,
                controller_names=controller_names,
                repair=repair,
                assume_crs=assume_crs,
                dates=dates,
            )
        )
    _check_mixed_crs(files, report)
    _snapshots_to_intervals([f for f in files if f.snapshot])
    areas, rejected, repaired = _assemble(files, id_field, report)
    _check_known_controllers(areas, known_controllers, report)
    check_overlaps(areas, report)
    report.rows_in = sum(len(f.frame) for f in files)
    report.rows_loaded = len(areas)
    report.rows_rejected = len(rejected)
    ledger = AreaLedger.of(
        features_in=report.rows_in,
        set_aside=rejected,
        repaired=repaired,
        notes=tuple(p.message for p in report.problems if p.row is None),
    )
    return AreasResult(
        areas=areas, rejected=rejected, report=report, repaired=repaired, ledger=ledger
    )


def last_change(areas: pd.DataFrame) -> date | None:
    """The last date on which the control areas say something changed, when the newest
    versions hold on with no end date; None when every version ends (nothing is carried
    forward) or there are none.

    After this date the map is not observed but carried forward: the last snapshot of a
    series, or the interval left open. Figures for later dates should say so.
    """
    if not len(areas) or not areas[VALID_TO].isna().any():
        return None
    days = pd.concat([pd.to_datetime(areas[VALID_FROM]), pd.to_datetime(areas[VALID_TO])])
    days = days.dropna()
    return days.max().date() if len(days) else None


def areas_at(
    areas: gpd.GeoDataFrame, when: str | date | datetime | pd.Timestamp
) -> gpd.GeoDataFrame:
    """Return the area versions valid on a date.

    Validity is half-open, ``valid_from <= when < valid_to``; NaT in VALID_TO means
    open-ended, NaT in VALID_FROM means "since always". Time of day is ignored.

    Parameters
    ----------
    areas
        Control areas as returned by :func:`read_control_areas`.
    when
        The date.

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame holding the matching rows, in their original order.
    """
    day = pd.Timestamp(when).normalize()
    if day.tzinfo is not None:
        day = day.tz_convert("UTC").tz_localize(None)
    start = pd.to_datetime(areas[VALID_FROM])
    end = pd.to_datetime(areas[VALID_TO])
    mask = (start.isna() | (start <= day)) & (end.isna() | (day < end))
    return areas.loc[mask.to_numpy()].copy()


# --------------------------------------------------------------------------------------------
# reading one file


def _as_path_list(paths: str | Path | Sequence[str | Path]) -> list[Path]:
    if isinstance(paths, (str, Path)):
        return [Path(paths)]
    out = [Path(p) for p in paths]
    if not out:
        raise InputFileError("no control-area file given")
    return out


@dataclass(frozen=True)
class _AsOf:
    """A file's snapshot date from the options: its own (FILE=DATE, or a list in file
    order), or the one date given for every file, which only dates files that hold no
    dates of their own."""

    day: date | None = None
    own: bool = False


def _as_of_per_file(as_of: Any, by_file: Mapping[str, Any], path_list: list[Path]) -> list[_AsOf]:
    """One :class:`_AsOf` per file: ``by_file``'s, else ``as_of``'s."""
    n_files = len(path_list)
    own = not (as_of is None or isinstance(as_of, (str, date, datetime, pd.Timestamp)))
    if not own:
        dates = [as_of] * n_files
    else:
        dates = list(as_of)
        if len(dates) != n_files:
            raise SchemaError(
                f"--as-of gives {len(dates)} dates for {n_files} area files: give one date "
                "for all, or FILE=DATE for each file"
            )
    unknown = [k for k in by_file if not any(_names_file(k, p) for p in path_list)]
    if unknown:
        names = ", ".join(p.name for p in path_list)
        raise SchemaError(f"--as-of {unknown[0]}=...: no such area file among {names}")
    out = [_AsOf(_as_of_day(d), own and d is not None) for d in dates]
    for i, path in enumerate(path_list):
        given = next((v for k, v in by_file.items() if _names_file(k, path)), None)
        if given is not None:
            out[i] = _AsOf(_as_of_day(given), True)
    return out


def _names_file(key: str, path: Path) -> bool:
    """Does ``key`` (as the user typed it) name ``path``: same path, or same file name?"""
    return key in (str(path), path.name) or Path(key).resolve() == path.resolve()


def _as_of_day(value: Any) -> date | None:
    if value is None:
        return None
    try:
        stamp: pd.Timestamp | None = pd.Timestamp(value)
    except (ValueError, TypeError):
        stamp = None
    if stamp is None or pd.isna(stamp):
        raise SchemaError(f"--as-of {value!r}: expected a date YYYY-MM-DD")
    return stamp.date()


def date_in_name(name: str) -> date | None:
    """The date a file name holds (``..._20240708.geojson``, ``2024-07-08``, ``2024_07_08``).

    None when it holds none, or more than one different date (which one would be meant?).
    """
    found: set[date] = set()
    for match in _NAME_DATE.finditer(Path(name).stem):
        try:
            found.add(date(int(match[1]), int(match[3]), int(match[4])))
        except ValueError:  # 20241340: digits, not a date
            continue
    return found.pop() if len(found) == 1 else None


@dataclass(frozen=True)
class _DateRules:
    """Which dates are typos: after ``today`` or before 1900."""

    today: date

    def implausible(self, days: pd.Series) -> np.ndarray:
        late = days > pd.Timestamp(self.today)
        early = days < pd.Timestamp(_EARLIEST)
        return (late | early).fillna(False).to_numpy(dtype=bool)

    def why(self, day: pd.Timestamp) -> str:
        if day.date() > self.today:
            return f"is after today ({self.today.isoformat()}): a typo?"
        return "is before 1900: a typo?"


def _read_one(
    path: Path,
    report: Report,
    *,
    controller_field: str,
    from_field: str,
    to_field: str,
    date_field: str | None,
    as_of: _AsOf,
    controller: str | None,
    controller_names: Mapping[str, str] | None,
    repair: bool,
    assume_crs: str | None,
    dates: _DateRules,
) -> _FileFrame:
    name = path.name
    first_problem = len(report.problems)
    frame, unreadable = _read_frame(path, report)
    declared = frame.crs.to_string() if frame.crs is not None else f"{assume_crs} (assumed)"
    frame = _check_crs(frame, name, assume_crs, report)
    n = len(frame)
    errors: list[list[tuple[str, str]]] = [[] for _ in range(n)]
    for i, reason in unreadable.items():
        errors[i].append((UNREADABLE_GEOMETRY, reason))
        report.add(Problem(i + 1, "geometry", None, f"{name} feature {i + 1}: {reason}"))
    geoms, repairs = _check_geometries(
        frame, name, path, declared, unreadable, repair, errors, report
    )
    frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=_WGS84))
    frame[CONTROLLER] = _controllers(
        frame, name, controller_field, controller, controller_names, errors, report
    )

    snapshot, file_as_of = _dating(
        frame, name, from_field=from_field, date_field=date_field, as_of=as_of, report=report
    )
    if snapshot:
        frame[VALID_FROM] = _snapshot_dates(frame, name, date_field, file_as_of, errors, report)
        frame[VALID_TO] = pd.Series(pd.NaT, index=frame.index, dtype=DATE_DTYPE)
    else:
        _interval_dates(frame, name, from_field, to_field, errors, report)
    _check_plausible_dates(frame, name, snapshot, dates, errors, report)
    # this file's problems in feature order (file-level ones first), as a reader expects
    report.problems[first_problem:] = sorted(
        report.problems[first_problem:], key=lambda p: -1 if p.row is None else p.row
    )
    return _FileFrame(
        name=name, frame=frame, errors=errors, snapshot=snapshot, repairs=repairs, crs=declared
    )


def _controllers(
    frame: gpd.GeoDataFrame,
    name: str,
    controller_field: str,
    controller: str | None,
    controller_names: Mapping[str, str] | None,
    errors: list[list[tuple[str, str]]],
    report: Report,
) -> pd.Series:
    """Each feature's controller: its field, else the one ``--controller`` gives the file."""
    if controller_field not in frame.columns:
        if controller is None:
            raise SchemaError(
                f"{name}: no controller field {controller_field!r}; fields are "
                f"{_field_list(frame)}. Name the field with --controller-field FIELD, or give "
                "every feature of the file one controller with --controller NAME"
            )
        report.add(
            Problem(
                None,
                CONTROLLER,
                controller,
                f"{name}: no {controller_field!r} field: all {len(frame)} features given the "
                f"controller {controller!r} (--controller)",
                WARNING,
            )
        )
        values = pd.Series(controller, index=frame.index, dtype="string")
    else:
        values = _clean_text(frame[controller_field])
        for i in np.flatnonzero(values.isna().to_numpy()).tolist():
            _feature_error(
                report, errors, name, int(i), controller_field, None, NO_CONTROLLER,
                f"controller missing (field {controller_field!r} empty)",
            )  # fmt: skip
    if controller_names:
        values = values.map(lambda v: controller_names.get(v, v) if isinstance(v, str) else v)
    return values.astype("string")


def _dating(
    frame: gpd.GeoDataFrame,
    name: str,
    *,
    from_field: str,
    date_field: str | None,
    as_of: _AsOf,
    report: Report,
) -> tuple[bool, date | None]:
    """Is the file a snapshot, and the date of its undated features (None: no such date)?

    Its own ``--as-of FILE=DATE`` or a date field makes it a snapshot; else a
    ``from_field`` makes it an interval file (the one ``--as-of DATE`` for all files does
    not turn its intervals into a snapshot); else ``--as-of DATE``, else a date in its file
    name makes it a snapshot of that date.
    """
    has_date_field = date_field is not None and date_field in frame.columns
    has_intervals = date_field is None and from_field in frame.columns
    if as_of.own:
        if has_intervals:
            report.add(
                Problem(
                    None,
                    VALID_FROM,
                    str(as_of.day),
                    f"{name}: has {from_field!r} but --as-of {name}={as_of.day} reads it as "
                    f"a snapshot of {as_of.day}, its intervals ignored",
                    WARNING,
                )
            )
        return True, as_of.day
    if has_date_field:
        return True, as_of.day
    if has_intervals:
        return False, None
    if as_of.day is not None:
        return True, as_of.day
    named = date_in_name(name)
    if named is not None:
        report.add(
            Problem(
                None,
                VALID_FROM,
                named.isoformat(),
                f"{name}: no date field: read as a snapshot of {named.isoformat()}, the date "
                "in its file name (--as-of FILE=DATE gives another)",
                WARNING,
            )
        )
        return True, named
    if date_field is not None:
        raise SchemaError(
            f"{name}: no date field {date_field!r}; fields are {_field_list(frame)}. Give "
            f"the field with --date-field FIELD, or the file's date with --as-of {name}=DATE "
            "(or put the date in its file name, e.g. areas_20240708.geojson)"
        )
    raise SchemaError(
        f"{name}: no {from_field!r} field; fields are {_field_list(frame)}. For interval "
        "files name the fields with --from-field/--to-field; for snapshots give "
        f"--date-field FIELD or --as-of {name}=DATE (or put the date in the file name, e.g. "
        "areas_20240708.geojson)"
    )


def _read_frame(path: Path, report: Report) -> tuple[gpd.GeoDataFrame, dict[int, str]]:
    """Read a file; return the frame and {0-based feature: reason} for unreadable geometries.

    A file with several layers (a GeoPackage, a KML with folders) is read whole: its layers
    one after the other, the feature numbers running on, and a warning says which numbers
    came from which layer. Reading the first layer alone would drop the others unsaid.
    """
    if not path.is_dir():  # a directory can be a dataset (shapefiles); a pipe would hang GDAL
        check_input_file(path)
    layers = _layers(path)
    if len(layers) > 1:
        frame, unreadable = _read_layers(path, layers, report)
    else:
        frame, unreadable = _read_any(path)
    if not isinstance(frame, gpd.GeoDataFrame) or frame.active_geometry_name is None:
        raise InputFileError(
            f"{path.name}: has no geometry (fields: {', '.join(map(str, frame.columns[:12]))}): "
            "not a control-area file; an events table goes in as the events file"
        )
    return frame, unreadable


def _layers(path: Path) -> list[str]:
    """The layer names of a vector file ([] for GeoParquet or when GDAL cannot list them)."""
    if path.suffix.lower() in _PARQUET_SUFFIXES:
        return []
    try:
        return [str(name) for name, _kind in pyogrio.list_layers(path)]
    except (pyogrio.errors.DataSourceError, OSError, ValueError):
        return []  # _read_any says why the file cannot be read


def _read_layers(
    path: Path, layers: list[str], report: Report
) -> tuple[gpd.GeoDataFrame, dict[int, str]]:
    frames: list[gpd.GeoDataFrame] = []
    spans: list[str] = []
    start = 0
    crs = None
    for layer in layers:
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*[Nn]on closed ring.*")
                part = gpd.read_file(path, layer=layer, engine="pyogrio")
        except (shapely.errors.ShapelyError, pyogrio.errors.DataLayerError, OSError) as exc:
            raise InputFileError(f"{path.name}: layer {layer!r} cannot be read: {exc}") from exc
        if crs is None:
            crs = part.crs
        elif part.crs is not None and not CRS.from_user_input(part.crs).equals(crs):
            part = part.to_crs(crs)
        frames.append(
            part.rename_geometry("geometry") if part.geometry.name != "geometry" else part
        )
        spans.append(f"{start + 1}-{start + len(part)} from {layer!r}" if len(part) else
                     f"none from {layer!r}")  # fmt: skip
        start += len(part)
    frame = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=crs)
    report.add(
        Problem(
            None,
            "layer",
            len(layers),
            f"{path.name}: {len(layers)} layers read, features {'; '.join(spans)}",
            WARNING,
        )
    )
    return frame, {}


def _read_any(path: Path) -> tuple[gpd.GeoDataFrame, dict[int, str]]:
    if path.suffix.lower() in _PARQUET_SUFFIXES:
        try:
            return gpd.read_parquet(path), {}
        except Exception as exc:  # pyarrow raises many kinds; all mean "cannot read"
            raise InputFileError(f"{path.name}: cannot read as GeoParquet: {exc}") from exc
    try:
        with warnings.catch_warnings():
            # "Non closed ring detected" is reported per feature below, not as a warning.
            warnings.filterwarnings("ignore", message=".*[Nn]on closed ring.*")
            return gpd.read_file(path, engine="pyogrio"), {}
    except shapely.errors.ShapelyError:
        # GDAL accepted the file but a geometry cannot be built (an unclosed ring): read the
        # fields and the raw WKB separately so the broken features can be named.
        return _read_frame_raw(path)
    except pyogrio.errors.DataSourceError as exc:
        detail = ""
        if path.suffix.lower() in _GEOJSON_SUFFIXES:
            found = _geojson_ring_problems(path)
            detail = "".join(f"; feature {i + 1}: {r}" for i, r in sorted(found.items()))
        raise InputFileError(f"{path.name}: cannot be read: {exc}{detail}") from exc
    except (pyogrio.errors.DataLayerError, OSError) as exc:
        raise InputFileError(f"{path.name}: cannot be read: {exc}") from exc


def _read_frame_raw(path: Path) -> tuple[gpd.GeoDataFrame, dict[int, str]]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*[Nn]on closed ring.*")
        fields = pyogrio.read_dataframe(path, read_geometry=False)
        meta, _fids, wkb, _data = pyogrio.raw.read(path, columns=[])
    geoms = shapely.from_wkb(wkb, on_invalid="ignore")
    broken = np.flatnonzero(shapely.is_missing(geoms) & np.array([w is not None for w in wkb]))
    in_json = _geojson_ring_problems(path) if path.suffix.lower() in _GEOJSON_SUFFIXES else {}
    unreadable: dict[int, str] = {}
    for i in broken:
        try:
            shapely.from_wkb(wkb[i])
            reason = "unknown reason"
        except shapely.errors.ShapelyError as exc:
            reason = _ring_reason(str(exc))
        unreadable[int(i)] = f"geometry cannot be read: {in_json.get(int(i), reason)}"
    frame = gpd.GeoDataFrame(
        fields, geometry=gpd.GeoSeries(geoms, index=fields.index), crs=meta["crs"]
    )
    return frame, unreadable


def _ring_reason(message: str) -> str:
    if "closed" in message:
        return f"ring not closed (first and last point differ) [{message}]"
    return message


def _geojson_ring_problems(path: Path) -> dict[int, str]:
    """Find features whose polygon rings are not closed or too short, by parsing the JSON."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError):
        return {}
    features = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(features, list):
        return {}
    found: dict[int, str] = {}
    for i, feature in enumerate(features):
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        if not isinstance(geometry, dict):
            continue
        kind, coords = geometry.get("type"), geometry.get("coordinates")
        polygons = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else []
        for polygon in polygons or []:
            for ring in polygon or []:
                if not isinstance(ring, list) or not ring:
                    continue
                if len(ring) < 4:
                    found[i] = f"ring has {len(ring)} points (a closed ring needs at least 4)"
                elif ring[0] != ring[-1]:
                    found[i] = f"ring not closed (first point {ring[0]!r}, last point {ring[-1]!r})"
    return found


def _field_list(frame: pd.DataFrame) -> str:
    return ", ".join(repr(c) for c in frame.columns if c != frame.geometry.name) or "(none)"


def _check_crs(
    frame: gpd.GeoDataFrame, name: str, assume_crs: str | None, report: Report
) -> gpd.GeoDataFrame:
    if frame.crs is None:
        if assume_crs is None:
            raise CRSError(
                f"{name}: CRS missing: the file does not say which coordinate system its "
                "coordinates are in (add a .prj / CRS, or give --assume-crs EPSG:4326)"
            )
        frame = frame.set_crs(assume_crs)
        report.add(
            Problem(
                None,
                "geometry",
                assume_crs,
                f"{name}: CRS missing; assumed {assume_crs} as asked",
                WARNING,
            )
        )
    crs = CRS.from_user_input(frame.crs)
    if crs.is_projected and _looks_like_degrees(frame):
        # the OCHA 2015 shapefile history: lon/lat values under a UTM 37N .prj. Reprojecting
        # would squeeze the whole file into a few hundred metres near the equator.
        x0, y0, x1, y1 = frame.total_bounds
        raise GeometryError(
            f"{name}: the file says {crs.to_string()} (metres) but every coordinate is "
            f"within lon/lat range (x from {x0:.6g} to {x1:.6g}, y from {y0:.6g} to {y1:.6g}): "
            "they look like longitude/latitude under a wrong CRS label; fix the file's CRS "
            "(or remove it and give --assume-crs EPSG:4326)"
        )
    three_d = len(crs.axis_info) > 2
    if not crs.equals(_WGS84, ignore_axis_order=True):
        source = frame.crs.to_string()
        frame = frame.to_crs(_WGS84)
        heights = bool(shapely.has_z(np.asarray(frame.geometry.array, dtype=object)).any())
        frame = _flat(frame)
        kind = " (3-D)" if three_d else ""
        report.add(
            Problem(
                None,
                "geometry",
                source,
                f"{name}: reprojected from {source}{kind} to 2-D EPSG:4326 (WGS 84 longitude/"
                "latitude)" + (", heights dropped" if heights else ""),
                WARNING,
            )
        )
        return frame
    frame = frame.set_crs(_WGS84, allow_override=True)
    if shapely.has_z(np.asarray(frame.geometry.array, dtype=object)).any():
        frame = _flat(frame)
        report.add(
            Problem(
                None,
                "geometry",
                None,
                f"{name}: 3-D coordinates: heights dropped (control areas are 2-D)",
                WARNING,
            )
        )
    return frame


def _flat(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The frame with 2-D geometries (a height means nothing for who holds the ground)."""
    geoms = np.asarray(frame.geometry.array, dtype=object)
    present = ~shapely.is_missing(geoms)
    if not shapely.has_z(geoms[present]).any():
        return frame
    flat = geoms.copy()
    flat[present] = shapely.force_2d(geoms[present])
    return frame.set_geometry(gpd.GeoSeries(flat, index=frame.index, crs=frame.crs))


def _check_mixed_crs(files: list[_FileFrame], report: Report) -> None:
    """One warning when the files of one read declare different CRS (all are now 2-D 4326)."""
    declared = {f.name: f.crs for f in files}
    if len(set(declared.values())) > 1:
        listed = ", ".join(f"{name}: {crs}" for name, crs in declared.items())
        report.add(
            Problem(
                None,
                "geometry",
                None,
                f"the area files are in different CRS ({listed}): each was reprojected to "
                "2-D EPSG:4326 before use",
                WARNING,
            )
        )


def _looks_like_degrees(frame: gpd.GeoDataFrame) -> bool:
    """Every coordinate within +/-180, +/-90: implausible as metres for control areas."""
    present = ~(frame.geometry.isna() | frame.geometry.is_empty)
    if not present.any():
        return False
    x0, y0, x1, y1 = frame.geometry[present].total_bounds
    return bool(x0 >= -180 and x1 <= 180 and y0 >= -90 and y1 <= 90)


def _feature_error(
    report: Report,
    errors: list[list[tuple[str, str]]],
    name: str,
    i: int,
    column: str | None,
    value: Any,
    kind: str,
    reason: str,
) -> None:
    errors[i].append((kind, reason))
    report.add(Problem(i + 1, column, value, f"{name} feature {i + 1}: {reason}"))


def _feature_warning(
    report: Report, name: str, i: int, column: str | None, value: Any, message: str
) -> None:
    report.add(Problem(i + 1, column, value, f"{name} feature {i + 1}: {message}", WARNING))


# --------------------------------------------------------------------------------------------
# geometry checks


def _check_geometries(
    frame: gpd.GeoDataFrame,
    name: str,
    path: Path,
    declared_crs: str,
    unreadable: Mapping[int, str],
    repair: bool,
    errors: list[list[tuple[str, str]]],
    report: Report,
) -> tuple[np.ndarray, dict[int, tuple[str, shapely.Geometry]]]:
    """Check every geometry; return the geometries to keep (repaired / split where asked)
    and ``{feature: (what was wrong, geometry as drawn)}`` of the repaired ones."""
    geoms = np.asarray(frame.geometry.array, dtype=object).copy()
    n = len(geoms)
    pending = np.ones(n, dtype=bool)  # still to be checked
    for i in unreadable:
        pending[i] = False

    def reject(i: int, value: Any, kind: str, reason: str) -> None:
        _feature_error(report, errors, name, i, "geometry", value, kind, reason)
        pending[i] = False

    for i in np.flatnonzero(shapely.is_missing(geoms) & pending).tolist():
        reject(i, None, NULL_GEOMETRY, "geometry is null (the feature has no geometry)")

    empty = np.zeros(n, dtype=bool)
    empty[pending] = shapely.is_empty(geoms[pending])
    ring_problems = (
        _geojson_ring_problems(path)
        if empty.any() and path.suffix.lower() in _GEOJSON_SUFFIXES
        else {}
    )
    for i in np.flatnonzero(empty).tolist():
        # GDAL run with OGR_GEOMETRY_ACCEPT_UNCLOSED_RING=NO hands back an unclosed ring as
        # an empty polygon: say what really happened.
        ring = ring_problems.get(i)
        if ring:
            reject(i, None, UNREADABLE_GEOMETRY, f"geometry cannot be read: {ring}")
        else:
            reject(i, None, EMPTY_GEOMETRY, "geometry is empty (a geometry with no coordinates)")

    for i in np.flatnonzero(pending).tolist():
        kind = geoms[i].geom_type
        if kind not in _POLYGONAL:
            reject(
                i,
                kind,
                NOT_POLYGON,
                f"not a polygon: geometry type {kind} does not describe an area",
            )

    _check_ranges(geoms, pending, name, declared_crs, errors, report)
    _split_antimeridian(geoms, pending, name, report)

    valid = np.ones(n, dtype=bool)
    valid[pending] = shapely.is_valid(geoms[pending])
    invalid = np.flatnonzero(~valid).tolist()
    if not repair:
        for i in invalid:
            reason = shapely.is_valid_reason(geoms[i])
            reject(
                i,
                reason,
                INVALID_GEOMETRY,
                f"invalid geometry: {reason}; set aside because of --no-repair (without it the "
                "polygon is repaired with make_valid)",
            )
        return geoms, {}
    repairs: dict[int, tuple[str, shapely.Geometry]] = {}
    for i in invalid:
        reason = shapely.is_valid_reason(geoms[i])
        fixed = repaired_polygon(geoms[i])
        if fixed is None:
            reject(i, reason, NO_AREA_AFTER_REPAIR, f"invalid geometry ({reason}): make_valid "
                   "left no area (a polygon folded flat)")  # fmt: skip
            continue
        repairs[i] = (reason, geoms[i])
        geoms[i] = fixed
    if repairs:
        idx = list(repairs)
        before = area_km2([repairs[i][1] for i in idx])
        after = area_km2(geoms[idx])
        for i, km2_before, km2_after in zip(idx, before, after, strict=True):
            _feature_warning(
                report,
                name,
                i,
                "geometry",
                repairs[i][0],
                f"invalid geometry ({repairs[i][0]}) repaired with make_valid: "
                f"{format_km2(km2_before)} km² as drawn, {format_km2(km2_after)} km² repaired "
                "(--no-repair sets it aside instead)",
            )
    return geoms, repairs


def repaired_polygon(geom: shapely.Geometry) -> shapely.Geometry | None:
    """An invalid polygon made valid, keeping every bit of ground its outline encloses.

    ``make_valid``'s "structure" method unions the shells and subtracts the holes, as a
    person redrawing a front line that crosses itself would; the default "linework" method
    would read a ring looping over itself even-odd and drop the ground it covers twice.
    Lines and points the repair leaves beside the polygons are dropped (no ground).
    """
    return polygonal_part(shapely.make_valid(geom, method="structure", keep_collapsed=False))


def _check_ranges(
    geoms: np.ndarray,
    pending: np.ndarray,
    name: str,
    declared_crs: str,
    errors: list[list[tuple[str, str]]],
    report: Report,
) -> None:
    if not pending.any():
        return
    idx = np.flatnonzero(pending)
    bounds = shapely.bounds(geoms[idx])
    bad = (np.abs(bounds[:, [0, 2]]) > 180).any(axis=1) | (np.abs(bounds[:, [1, 3]]) > 90).any(
        axis=1
    )
    if bad.all():
        raise GeometryError(
            f"{name}: coordinates impossible for longitude/latitude (x from {bounds[:, 0].min():.6g} "
            f"to {bounds[:, 2].max():.6g}, y from {bounds[:, 1].min():.6g} to "
            f"{bounds[:, 3].max():.6g}) in EPSG:4326 (the file says {declared_crs}): they "
            "look like projected metres under the wrong CRS label; fix the file's CRS first"
        )
    for k in np.flatnonzero(bad).tolist():
        i = int(idx[k])
        box = tuple(round(float(b), 6) for b in bounds[k])
        errors[i].append((OUT_OF_RANGE, "coordinates out of lon/lat range"))
        report.add(
            Problem(
                i + 1,
                "geometry",
                str(box),
                f"{name} feature {i + 1}: coordinates out of lon/lat range (|lon| > 180 or "
                f"|lat| > 90; bounds {box})",
            )
        )
        pending[i] = False


def _split_antimeridian(geoms: np.ndarray, pending: np.ndarray, name: str, report: Report) -> None:
    """Split polygons with an edge jumping more than 180 degrees of longitude at +/-180."""
    idx = np.flatnonzero(pending)
    if not len(idx):
        return
    rings, ring_owner = shapely.get_rings(geoms[idx], return_index=True)
    coords, coord_ring = shapely.get_coordinates(rings, return_index=True)
    jumps = (np.abs(np.diff(coords[:, 0])) > 180) & (coord_ring[1:] == coord_ring[:-1])
    crossing = np.unique(ring_owner[coord_ring[1:][jumps]])
    for k in crossing:
        i = int(idx[k])
        shifted = shapely.transform(
            geoms[i], lambda xy: np.where(xy[:, :1] < 0, xy + [360.0, 0.0], xy)
        )
        west = shapely.intersection(shifted, shapely.box(-180, -90, 180, 90))
        east = _translate_west(shapely.intersection(shifted, shapely.box(180, -90, 540, 90)))
        parts = [g for g in (west, east) if not g.is_empty]
        split = polygonal_part(shapely.union_all(parts)) if parts else None
        if split is None:
            continue
        geoms[i] = split
        n_parts = shapely.get_num_geometries(split)
        _feature_warning(
            report,
            name,
            i,
            "geometry",
            None,
            f"polygon crosses the antimeridian (an edge jumps more than 180 degrees of "
            f"longitude): split at +/-180 into {n_parts} part(s)",
        )


def _translate_west(geom: BaseGeometry) -> BaseGeometry:
    """Move a geometry 360 degrees west (the eastern half of an antimeridian split)."""
    return shapely.transform(geom, lambda xy: xy - [360.0, 0.0])


# --------------------------------------------------------------------------------------------
# attributes: controller and dates


def _clean_text(values: pd.Series) -> pd.Series:
    text = values.astype("string").str.strip()
    return text.mask(text == "")


def _parse_days(values: pd.Series) -> tuple[pd.Series, np.ndarray, np.ndarray]:
    """Parse dates to midnight; return (dates, missing mask, unparseable mask)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = pd.to_datetime(values)
        if parsed.dt.tz is not None:
            parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
        missing = parsed.isna().to_numpy()
        return parsed.dt.normalize().astype(DATE_DTYPE), missing, np.zeros(len(values), dtype=bool)
    text = _clean_text(
        values.map(lambda v: v.isoformat() if isinstance(v, (date, datetime)) else v)
    )
    missing = text.isna().to_numpy()
    parsed = pd.to_datetime(text, format="ISO8601", errors="coerce", utc=True)
    parsed = parsed.dt.tz_localize(None).dt.normalize().astype(DATE_DTYPE)
    bad = parsed.isna().to_numpy() & ~missing
    return parsed, missing, bad


def _snapshot_dates(
    frame: gpd.GeoDataFrame,
    name: str,
    date_field: str | None,
    as_of: date | None,
    errors: list[list[tuple[str, str]]],
    report: Report,
) -> pd.Series:
    fallback = pd.NaT if as_of is None else pd.Timestamp(as_of)
    if date_field is not None and date_field in frame.columns:
        dates, missing, bad = _parse_days(frame[date_field])
        dates = dates.mask(pd.Series(missing, index=dates.index), fallback).astype(DATE_DTYPE)
        missing = missing & pd.isna(fallback)
        column: str | None = date_field
    else:
        dates = pd.Series(fallback, index=frame.index).astype(DATE_DTYPE)
        missing = bad = np.zeros(len(frame), dtype=bool)
        column = None
    for i in np.flatnonzero(missing).tolist():
        _feature_error(
            report, errors, name, int(i), column, None, NO_DATE,
            f"snapshot date missing (give the file's date with --as-of {name}=DATE)",
        )  # fmt: skip
    for i in np.flatnonzero(bad).tolist():
        value = frame[date_field].iloc[i] if column else None
        _feature_error(
            report, errors, name, int(i), column, value, BAD_DATE,
            f"cannot parse date {value!r} (expected YYYY-MM-DD)",
        )  # fmt: skip
    return dates


def _interval_dates(
    frame: gpd.GeoDataFrame,
    name: str,
    from_field: str,
    to_field: str,
    errors: list[list[tuple[str, str]]],
    report: Report,
) -> None:
    start, start_missing, start_bad = _parse_days(frame[from_field])
    if to_field in frame.columns:
        end, _end_missing, end_bad = _parse_days(frame[to_field])
    else:
        end = pd.Series(pd.NaT, index=frame.index, dtype=DATE_DTYPE)
        end_bad = np.zeros(len(frame), dtype=bool)
    for i in np.flatnonzero(start_missing).tolist():
        _feature_error(
            report, errors, name, int(i), from_field, None, NO_DATE, f"{from_field} missing"
        )
    for mask, column in ((start_bad, from_field), (end_bad, to_field)):
        for i in np.flatnonzero(mask).tolist():
            value = frame[column].iloc[i]
            _feature_error(
                report, errors, name, int(i), column, value, BAD_DATE,
                f"cannot parse {column} {value!r} (expected YYYY-MM-DD)",
            )  # fmt: skip
    backwards = (start >= end).fillna(False).to_numpy(dtype=bool)
    for i in np.flatnonzero(backwards).tolist():
        a, b = start.iloc[i].date(), end.iloc[i].date()
        _feature_error(
            report, errors, name, int(i), to_field, str(b), REVERSED_DATES,
            f"{from_field} {a} is not before {to_field} {b} (validity is [from, to))",
        )  # fmt: skip
    frame[VALID_FROM] = start
    frame[VALID_TO] = end


def _check_plausible_dates(
    frame: gpd.GeoDataFrame,
    name: str,
    snapshot: bool,
    rules: _DateRules,
    errors: list[list[tuple[str, str]]],
    report: Report,
) -> None:
    """Set aside a start date after today or before 1900; read a late end as open-ended.

    A snapshot dated ``2202-02-02`` (for 2022) would stretch the series by two centuries
    and make the snapshot before it valid until then: it is set aside with its reason.
    """
    start = frame[VALID_FROM]
    label = "snapshot date" if snapshot else VALID_FROM
    for i in np.flatnonzero(rules.implausible(start)).tolist():
        day = start.iloc[i]
        _feature_error(
            report, errors, name, int(i), VALID_FROM, day.date().isoformat(), IMPLAUSIBLE_DATE,
            f"{label} {day.date().isoformat()} {rules.why(day)} Set aside, so the series is "
            "not stretched to it; fix the date in the file",
        )  # fmt: skip
    end = frame[VALID_TO]
    late_end = (end > pd.Timestamp(rules.today)).fillna(False).to_numpy(dtype=bool)
    for i in np.flatnonzero(late_end).tolist():
        day = end.iloc[i].date().isoformat()
        _feature_warning(
            report, name, int(i), VALID_TO, day,
            f"{VALID_TO} {day} is after today: read as still valid (open-ended)",
        )  # fmt: skip
    if late_end.any():
        frame[VALID_TO] = end.mask(pd.Series(late_end, index=end.index)).astype(DATE_DTYPE)


def _snapshots_to_intervals(files: list[_FileFrame]) -> None:
    """Each snapshot is valid until the next snapshot date of the series; the last is open."""
    usable = [f.frame[VALID_FROM][[not e for e in f.errors]] for f in files if len(f.frame)]
    dates = pd.concat(usable).dropna().unique() if usable else []
    series = np.sort(np.asarray(dates, dtype=DATE_DTYPE))
    if not len(series):
        return
    nxt = np.append(series[1:], np.datetime64("NaT", "s"))
    for f in files:
        start = f.frame[VALID_FROM].to_numpy(dtype=DATE_DTYPE)
        pos = np.searchsorted(series, start)
        pos = np.clip(pos, 0, len(series) - 1)
        end = np.where(np.isnat(start), np.datetime64("NaT", "s"), nxt[pos])
        f.frame[VALID_TO] = pd.Series(end, index=f.frame.index).astype(DATE_DTYPE)


# --------------------------------------------------------------------------------------------
# assembling and whole-set checks


def _assemble(
    files: list[_FileFrame], id_field: str | None, report: Report
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, pd.DataFrame]:
    kept: list[gpd.GeoDataFrame] = []
    rejected: list[pd.DataFrame] = []
    repaired: list[pd.DataFrame] = []
    for f in files:
        frame = f.frame.copy()
        frame[AREA_SOURCE] = f.name
        frame[AREA_FEATURE] = np.arange(1, len(frame) + 1)
        frame[AREA_KIND] = KIND_POLYGONS
        frame[AREA_PROVENANCE] = [f"{f.name} feature {k}" for k in frame[AREA_FEATURE]]
        stem = Path(f.name).stem
        frame[AREA_ID] = [f"{stem}-{k}" for k in frame[AREA_FEATURE]]
        bad = np.array([bool(e) for e in f.errors], dtype=bool)
        if id_field and id_field in f.frame.columns:
            ids = _clean_text(f.frame[id_field])
            if ids[~bad].notna().all() and ids[~bad].is_unique:
                frame[AREA_ID] = ids
            else:
                report.add(
                    Problem(
                        None,
                        id_field,
                        None,
                        f"{f.name}: {id_field!r} is empty or repeated; "
                        f"area ids are '{stem}-<feature number>' instead",
                        WARNING,
                    )
                )
        rejected.append(_set_aside_rows(f, frame, bad))
        repaired.append(_repaired_rows(f, frame, bad))
        kept.append(frame.loc[~bad])
    areas = pd.concat(kept, ignore_index=True) if kept else gpd.GeoDataFrame()
    areas = gpd.GeoDataFrame(
        areas, geometry="geometry" if "geometry" in areas else kept[0].geometry.name, crs=_WGS84
    )
    if areas.geometry.name != "geometry":
        areas = areas.rename_geometry("geometry")
    dup = areas[AREA_ID].duplicated(keep=False)
    if dup.any():
        # ids from id fields of different files collide: make them unique with the file stem.
        stems = areas[AREA_SOURCE].map(lambda s: Path(s).stem)
        areas.loc[dup, AREA_ID] = stems[dup] + ":" + areas.loc[dup, AREA_ID]
        report.add(
            Problem(
                None,
                AREA_ID,
                None,
                "area ids repeated across files: prefixed with the file stem",
                WARNING,
            )
        )
    areas[AREA_ID] = areas[AREA_ID].astype("string")
    areas[CONTROLLER] = areas[CONTROLLER].astype("string")
    areas[VALID_FROM] = areas[VALID_FROM].astype(DATE_DTYPE)
    areas[VALID_TO] = areas[VALID_TO].astype(DATE_DTYPE)
    areas[AREA_SOURCE] = areas[AREA_SOURCE].astype("string")
    first = [AREA_ID, CONTROLLER, VALID_FROM, VALID_TO, AREA_SOURCE, AREA_FEATURE]
    rest = [c for c in areas.columns if c not in first and c != "geometry"]
    areas = areas[first + rest + ["geometry"]]
    return areas, _stack(rejected), _stack(repaired)


def _stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _set_aside_rows(f: _FileFrame, frame: gpd.GeoDataFrame, bad: np.ndarray) -> pd.DataFrame:
    """The set-aside features of one file, each with its reasons and the ground it covers."""
    reasons = [e for e in f.errors if e]
    geoms = np.asarray(frame.geometry.array, dtype=object)[bad]
    kinds = [e[0][0] for e in reasons]
    measurable = np.array([all(k not in _UNMEASURED for k, _ in e) for e in reasons], dtype=bool)
    km2 = np.full(len(reasons), np.nan)
    if measurable.any():
        valid = [g if g.is_valid else repaired_polygon(g) for g in geoms[measurable]]
        km2[measurable] = area_km2(valid)
    return pd.DataFrame(
        {
            AREA_SOURCE: pd.Series([f.name] * len(reasons), dtype=object),
            AREA_FEATURE: frame[AREA_FEATURE].to_numpy()[bad],
            CONTROLLER: frame[CONTROLLER].to_numpy()[bad],
            REASON_KIND: pd.Series(kinds, dtype=object),
            REJECT_REASON: pd.Series(["; ".join(r for _, r in e) for e in reasons], dtype=object),
            AREA_KM2: km2,
        }
    )


def _repaired_rows(f: _FileFrame, frame: gpd.GeoDataFrame, bad: np.ndarray) -> pd.DataFrame:
    """The repaired features of one file that were loaded: what was wrong, km² before/after."""
    idx = [i for i in f.repairs if not bad[i]]
    geoms = np.asarray(frame.geometry.array, dtype=object)
    return pd.DataFrame(
        {
            AREA_SOURCE: pd.Series([f.name] * len(idx), dtype=object),
            AREA_FEATURE: frame[AREA_FEATURE].to_numpy()[idx],
            CONTROLLER: frame[CONTROLLER].to_numpy()[idx],
            REASON_KIND: pd.Series([REPAIRED_GEOMETRY] * len(idx), dtype=object),
            REJECT_REASON: pd.Series([f.repairs[i][0] for i in idx], dtype=object),
            AREA_KM2_BEFORE: area_km2([f.repairs[i][1] for i in idx]),
            AREA_KM2: area_km2(geoms[idx]),
        }
    )


def _check_known_controllers(
    areas: gpd.GeoDataFrame, known: Collection[str] | None, report: Report
) -> None:
    if known is None or areas.empty:
        return
    unknown = sorted(set(areas[CONTROLLER].dropna()) - set(known))
    if unknown:
        counts = areas[CONTROLLER].value_counts()
        listed = ", ".join(f"{u!r} ({counts[u]} areas)" for u in unknown)
        report.add(
            Problem(
                None, CONTROLLER, None, f"controllers not among the known names: {listed}", WARNING
            )
        )


def check_overlaps(
    areas: gpd.GeoDataFrame, report: Report, *, between_sources: bool = False
) -> None:
    """Warn about overlapping polygons of different controllers valid at the same time.

    ``between_sources``: only pairs from two different sources (``area_source``), other
    than "No information" ground, which contests nothing (a combined read: the overlaps
    inside each source were said when it was read).

    Cheap filters first: bounding boxes (the tree, no predicate), then different controllers
    and overlapping validity intervals (numpy on day numbers); only the surviving pairs get
    the exact ``intersects`` and the intersection area. The first
    :data:`_OVERLAP_LIST_MAX` significant overlaps are listed one warning each; beyond that
    one warning counts them per controller pair. Border slivers are counted in one warning.
    """
    if len(areas) < 2:
        return
    geoms = np.asarray(areas.geometry.array, dtype=object)
    left, right = shapely.STRtree(geoms).query(geoms)  # bounding boxes only
    keep = left < right
    left, right = left[keep], right[keep]
    codes, _names = pd.factorize(areas[CONTROLLER], use_na_sentinel=False)
    keep = codes[left] != codes[right]
    if between_sources:
        origin = pd.factorize(areas[AREA_SOURCE], use_na_sentinel=False)[0]
        veiled = (areas[CONTROLLER] == NO_INFORMATION).to_numpy(dtype=bool)
        keep &= (origin[left] != origin[right]) & ~veiled[left] & ~veiled[right]
    left, right = left[keep], right[keep]
    start = day_numbers(areas[VALID_FROM], missing=np.iinfo(np.int64).min)
    end = day_numbers(areas[VALID_TO], missing=np.iinfo(np.int64).max)
    keep = (start[left] < end[right]) & (start[right] < end[left])
    left, right = left[keep], right[keep]
    if not len(left):
        return
    order = np.lexsort((right, left))  # report in feature order
    left, right = left[order], right[order]
    keep = shapely.intersects(geoms[left], geoms[right])
    left, right = left[keep], right[keep]
    if not len(left):
        return
    shared = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    smaller = np.minimum(shapely.area(geoms[left]), shapely.area(geoms[right]))
    keep = (shared > 0) & (shared > _OVERLAP_MIN_FRACTION * smaller)
    slivers = keep & (shared <= _OVERLAP_LIST_FRACTION * smaller)
    keep &= ~slivers
    controller = areas[CONTROLLER].to_numpy(dtype=object)
    source = areas[AREA_SOURCE].to_numpy(dtype=object)
    feature = areas[AREA_FEATURE].to_numpy()
    ids = areas[AREA_ID].to_numpy(dtype=object)
    significant = np.flatnonzero(keep)
    fraction = shared / np.where(smaller > 0, smaller, 1.0)
    for k in significant[:_OVERLAP_LIST_MAX].tolist():
        a, b = left[k], right[k]
        report.add(
            Problem(
                int(feature[a]),
                "geometry",
                f"{ids[a]} / {ids[b]}",
                f"{source[a]} feature {feature[a]} ({controller[a]}) overlaps {source[b]} feature "
                f"{feature[b]} ({controller[b]}) while both are valid: {fraction[k]:.1%} of the "
                "smaller polygon",
                WARNING,
            )
        )
    if len(significant) > _OVERLAP_LIST_MAX:
        pairs = pd.Series(
            [
                " / ".join(sorted((str(controller[a]), str(controller[b]))))
                for a, b in zip(left[significant], right[significant], strict=True)
            ]
        ).value_counts()
        per_pair = "; ".join(f"{pair}: {int(n)}" for pair, n in pairs.head(_PAIRS_LISTED).items())
        if len(pairs) > _PAIRS_LISTED:
            per_pair += f"; {len(pairs) - _PAIRS_LISTED} more pairs"
        report.add(
            Problem(
                None,
                "geometry",
                len(significant),
                f"{len(significant)} overlaps between polygons of different controllers valid "
                f"at the same time, each over {_OVERLAP_LIST_FRACTION:.1%} of the smaller "
                f"polygon; the first {_OVERLAP_LIST_MAX} are listed above, "
                f"{len(significant) - _OVERLAP_LIST_MAX} more are not. By controller pair: "
                f"{per_pair}",
                WARNING,
            )
        )
    if slivers.any():
        report.add(
            Problem(
                None,
                "geometry",
                int(slivers.sum()),
                f"{int(slivers.sum())} {'more ' if len(significant) else ''}overlaps between "
                "polygons of different controllers "
                f"valid at the same time, each under {_OVERLAP_LIST_FRACTION:.1%} of the smaller "
                "polygon (border slivers), not listed",
                WARNING,
            )
        )
