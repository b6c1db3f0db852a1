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
  the caller passes ``assume_crs=``; a CRS other than EPSG:4326 is reprojected explicitly and
  a warning says so. A *projected* CRS whose coordinates all lie within +/-180, +/-90 is
  lon/lat under a wrong label (the original OCHA 2015 shapefile claimed UTM 37N): refused
  with :class:`GeometryError` naming the file rather than reprojected to nonsense.
* Coordinates impossible for lon/lat (|x| > 180 or |y| > 90): the feature is set aside; if
  *every* feature of a file is out of range the file's CRS label is wrong (the OCHA 2015
  shapefile history: metres labelled as degrees) and :class:`GeometryError` names the file.
* Null geometry, empty geometry, unreadable geometry (unclosed ring), non-polygon geometry:
  set aside, each worded differently.
* Invalid geometry (a self-intersecting bow-tie): set aside with shapely's
  ``is_valid_reason`` unless ``repair=True``, which applies ``make_valid`` and warns.
* A polygon with an edge jumping more than 180 degrees of longitude crosses the antimeridian:
  it is split at +/-180 into a MultiPolygon and a warning says so.
* Dates: unparseable, missing, or ``valid_from >= valid_to``: set aside.
* Overlaps: polygons of *different* controllers that overlap (intersection area above a
  tiny fraction of the smaller polygon) while both are valid are reported as warnings
  naming both features; they are kept (the join decides, see :mod:`dashboard.spatial`).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from dashboard.errors import CRSError, GeometryError, InputFileError, SchemaError
from dashboard.paths import check_input_file
from dashboard.report import WARNING, Problem, Report
from dashboard.schema import (
    AREA_FEATURE,
    AREA_ID,
    AREA_SOURCE,
    CONTESTED,
    CONTROLLER,
    ISLAMIC_STATE,
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
    "read_control_areas",
]

#: The dtype of VALID_FROM / VALID_TO: whole days (midnight), NaT in VALID_TO = open-ended.
DATE_DTYPE = "datetime64[s]"

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
_ID_FIELD = AREA_ID


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
        One row per set-aside feature: AREA_SOURCE, AREA_FEATURE, CONTROLLER (as given)
        and REJECT_REASON.
    report
        ``rows_in`` = features read, ``rows_loaded`` + ``rows_rejected``; every problem.
    """

    areas: gpd.GeoDataFrame
    rejected: pd.DataFrame
    report: Report


@dataclass
class _FileFrame:
    """One file after reading and per-feature checks, before snapshot dates become intervals."""

    name: str
    frame: gpd.GeoDataFrame  # all features; geometry may be None / replaced by repairs
    errors: list[list[str]]  # per feature: reasons to set it aside


# --------------------------------------------------------------------------------------------
# public API


def read_control_areas(
    paths: str | Path | Sequence[str | Path],
    *,
    controller_field: str = "controller",
    from_field: str = "valid_from",
    to_field: str = "valid_to",
    date_field: str | None = None,
    as_of: str | date | Sequence[str | date] | None = None,
    controller_names: Mapping[str, str] | None = None,
    repair: bool = False,
    assume_crs: str | None = None,
    known_controllers: Collection[str] | None = None,
    id_field: str | None = _ID_FIELD,
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
        ``date_field``); one date for all files or one per file.
    controller_names
        Mapping from the names in the file to the names to use (e.g.
        :data:`OCHA_AOI_2015_NAMES`); names not in it are kept as given.
    repair
        Repair invalid geometries with ``shapely.make_valid`` (recorded as a warning)
        instead of setting them aside.
    assume_crs
        CRS to use for files that declare none; without it such files are refused.
    known_controllers
        If given, controller names (after mapping) outside this set are listed in a warning.
    id_field
        Field giving stable area ids; used when present, filled and unique. Otherwise the id
        is ``"<file stem>-<feature number>"``.

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
    snapshot_mode = date_field is not None or as_of is not None
    as_of_list = _as_of_per_file(as_of, len(path_list))
    report = Report(source=", ".join(p.name for p in path_list))
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
                snapshot_mode=snapshot_mode,
                controller_names=controller_names,
                repair=repair,
                assume_crs=assume_crs,
            )
        )
    if snapshot_mode:
        _snapshots_to_intervals(files)
    areas, rejected = _assemble(files, id_field, report)
    _check_known_controllers(areas, known_controllers, report)
    _check_overlaps(areas, report)
    report.rows_in = sum(len(f.frame) for f in files)
    report.rows_loaded = len(areas)
    report.rows_rejected = len(rejected)
    return AreasResult(areas=areas, rejected=rejected, report=report)


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


def _as_of_per_file(as_of: Any, n_files: int) -> list[Any]:
    if as_of is None or isinstance(as_of, (str, date, datetime, pd.Timestamp)):
        return [as_of] * n_files
    dates = list(as_of)
    if len(dates) != n_files:
        raise ValueError(f"as_of has {len(dates)} dates for {n_files} files: {dates!r}")
    return dates


def _read_one(
    path: Path,
    report: Report,
    *,
    controller_field: str,
    from_field: str,
    to_field: str,
    date_field: str | None,
    as_of: Any,
    snapshot_mode: bool,
    controller_names: Mapping[str, str] | None,
    repair: bool,
    assume_crs: str | None,
) -> _FileFrame:
    name = path.name
    first_problem = len(report.problems)
    frame, unreadable = _read_frame(path)
    declared = frame.crs.to_string() if frame.crs is not None else f"{assume_crs} (assumed)"
    frame = _check_crs(frame, name, assume_crs, report)
    n = len(frame)
    errors: list[list[str]] = [[] for _ in range(n)]
    for i, reason in unreadable.items():
        errors[i].append(reason)
        report.add(Problem(i + 1, "geometry", None, f"{name} feature {i + 1}: {reason}"))
    geoms = _check_geometries(frame, name, path, declared, unreadable, repair, errors, report)
    frame = frame.set_geometry(gpd.GeoSeries(geoms, index=frame.index, crs=_WGS84))

    if controller_field not in frame.columns:
        raise SchemaError(
            f"{name}: no controller field {controller_field!r}; fields are "
            f"{_field_list(frame)} (pass controller_field=...)"
        )
    controller = _clean_text(frame[controller_field])
    for i in np.flatnonzero(controller.isna().to_numpy()).tolist():
        _feature_error(report, errors, name, int(i), controller_field, None, "controller missing")
    if controller_names:
        controller = controller.map(
            lambda v: controller_names.get(v, v) if isinstance(v, str) else v
        )
    frame[CONTROLLER] = controller.astype("string")

    if snapshot_mode:
        frame[VALID_FROM] = _snapshot_dates(frame, name, date_field, as_of, errors, report)
        frame[VALID_TO] = pd.Series(pd.NaT, index=frame.index, dtype=DATE_DTYPE)
    else:
        _interval_dates(frame, name, from_field, to_field, errors, report)
    # this file's problems in feature order (file-level ones first), as a reader expects
    report.problems[first_problem:] = sorted(
        report.problems[first_problem:], key=lambda p: -1 if p.row is None else p.row
    )
    return _FileFrame(name=name, frame=frame, errors=errors)


def _read_frame(path: Path) -> tuple[gpd.GeoDataFrame, dict[int, str]]:
    """Read a file; return the frame and {0-based feature: reason} for unreadable geometries."""
    if not path.is_dir():  # a directory can be a dataset (shapefiles); a pipe would hang GDAL
        check_input_file(path)
    frame, unreadable = _read_any(path)
    if not isinstance(frame, gpd.GeoDataFrame) or frame.active_geometry_name is None:
        raise InputFileError(
            f"{path.name}: has no geometry (fields: {', '.join(map(str, frame.columns[:12]))}): "
            "not a control-area file; an events table goes in as the events file"
        )
    return frame, unreadable


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
                "coordinates are in (add a .prj / CRS, or pass assume_crs='EPSG:4326')"
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
            "(or remove it and pass assume_crs='EPSG:4326')"
        )
    if not crs.equals(_WGS84, ignore_axis_order=True):
        source = frame.crs.to_string()
        frame = frame.to_crs(_WGS84)
        report.add(
            Problem(
                None, "geometry", source, f"{name}: reprojected from {source} to EPSG:4326", WARNING
            )
        )
    else:
        frame = frame.set_crs(_WGS84, allow_override=True)
    return frame


def _looks_like_degrees(frame: gpd.GeoDataFrame) -> bool:
    """Every coordinate within +/-180, +/-90: implausible as metres for control areas."""
    present = ~(frame.geometry.isna() | frame.geometry.is_empty)
    if not present.any():
        return False
    x0, y0, x1, y1 = frame.geometry[present].total_bounds
    return bool(-180 <= x0 and x1 <= 180 and -90 <= y0 and y1 <= 90)


def _feature_error(
    report: Report,
    errors: list[list[str]],
    name: str,
    i: int,
    column: str | None,
    value: Any,
    reason: str,
) -> None:
    errors[i].append(reason)
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
    errors: list[list[str]],
    report: Report,
) -> np.ndarray:
    """Check every geometry; return the geometries to keep (repaired / split where asked)."""
    geoms = np.asarray(frame.geometry.array, dtype=object).copy()
    n = len(geoms)
    pending = np.ones(n, dtype=bool)  # still to be checked
    for i in unreadable:
        pending[i] = False

    def reject(i: int, value: Any, reason: str) -> None:
        _feature_error(report, errors, name, i, "geometry", value, reason)
        pending[i] = False

    for i in np.flatnonzero(shapely.is_missing(geoms) & pending).tolist():
        reject(i, None, "geometry is null (the feature has no geometry)")

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
        reject(
            i,
            None,
            f"geometry cannot be read: {ring}"
            if ring
            else "geometry is empty (a geometry with no coordinates)",
        )

    for i in np.flatnonzero(pending).tolist():
        kind = geoms[i].geom_type
        if kind not in _POLYGONAL:
            reject(i, kind, f"not a polygon: geometry type {kind} does not describe an area")

    _check_ranges(geoms, pending, name, declared_crs, errors, report)
    _split_antimeridian(geoms, pending, name, report)

    valid = np.ones(n, dtype=bool)
    valid[pending] = shapely.is_valid(geoms[pending])
    for i in np.flatnonzero(~valid).tolist():
        reason = shapely.is_valid_reason(geoms[i])
        fixed = _polygonal_part(shapely.make_valid(geoms[i])) if repair else None
        if fixed is not None:
            geoms[i] = fixed
            _feature_warning(
                report,
                name,
                i,
                "geometry",
                reason,
                f"invalid geometry ({reason}) repaired with make_valid",
            )
        elif repair:
            reject(i, reason, f"invalid geometry ({reason}); make_valid left no area")
        else:
            reject(
                i,
                reason,
                f"invalid geometry: {reason} (pass repair=True to fix it with make_valid)",
            )
    return geoms


def _check_ranges(
    geoms: np.ndarray,
    pending: np.ndarray,
    name: str,
    declared_crs: str,
    errors: list[list[str]],
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
        errors[i].append("coordinates out of lon/lat range")
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
        split = _polygonal_part(shapely.union_all(parts)) if parts else None
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


def _polygonal_part(geom: shapely.Geometry | None) -> shapely.Geometry | None:
    """The Polygon/MultiPolygon part of a geometry (make_valid may add lines); None if no area."""
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type in _POLYGONAL:
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in _POLYGONAL and not p.is_empty]
    polygons = [q for p in parts for q in shapely.get_parts(p)]
    if not polygons:
        return None
    return polygons[0] if len(polygons) == 1 else shapely.MultiPolygon(polygons)


def _translate_west(geom: shapely.Geometry) -> shapely.Geometry:
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
    as_of: Any,
    errors: list[list[str]],
    report: Report,
) -> pd.Series:
    fallback = pd.NaT if as_of is None else pd.Timestamp(as_of).normalize()
    if date_field is not None and date_field in frame.columns:
        dates, missing, bad = _parse_days(frame[date_field])
        dates = dates.mask(pd.Series(missing, index=dates.index), fallback).astype(DATE_DTYPE)
        missing = missing & pd.isna(fallback)
        column = date_field
    elif as_of is not None:
        dates = pd.Series(fallback, index=frame.index).astype(DATE_DTYPE)
        missing = bad = np.zeros(len(frame), dtype=bool)
        column = None
    else:
        raise SchemaError(
            f"{name}: no date field {date_field!r}; fields are {_field_list(frame)} "
            "(pass date_field=... or as_of=...)"
        )
    raw = frame[date_field] if column else None
    for i in np.flatnonzero(missing).tolist():
        _feature_error(
            report, errors, name, int(i), column, None, "snapshot date missing (pass as_of=...)"
        )
    for i in np.flatnonzero(bad).tolist():
        value = raw.iloc[i] if raw is not None else None
        _feature_error(
            report,
            errors,
            name,
            int(i),
            column,
            value,
            f"cannot parse date {value!r} (expected YYYY-MM-DD)",
        )
    return dates


def _interval_dates(
    frame: gpd.GeoDataFrame,
    name: str,
    from_field: str,
    to_field: str,
    errors: list[list[str]],
    report: Report,
) -> None:
    if from_field not in frame.columns:
        raise SchemaError(
            f"{name}: no {from_field!r} field; fields are {_field_list(frame)} (pass "
            "from_field=..., or date_field=... / as_of=... for snapshot files)"
        )
    start, start_missing, start_bad = _parse_days(frame[from_field])
    if to_field in frame.columns:
        end, _end_missing, end_bad = _parse_days(frame[to_field])
    else:
        end = pd.Series(pd.NaT, index=frame.index, dtype=DATE_DTYPE)
        end_bad = np.zeros(len(frame), dtype=bool)
    for i in np.flatnonzero(start_missing).tolist():
        _feature_error(report, errors, name, int(i), from_field, None, f"{from_field} missing")
    for mask, field in ((start_bad, from_field), (end_bad, to_field)):
        for i in np.flatnonzero(mask).tolist():
            value = frame[field].iloc[i]
            _feature_error(
                report,
                errors,
                name,
                int(i),
                field,
                value,
                f"cannot parse {field} {value!r} (expected YYYY-MM-DD)",
            )
    backwards = (start >= end).fillna(False).to_numpy(dtype=bool)
    for i in np.flatnonzero(backwards).tolist():
        a, b = start.iloc[i].date(), end.iloc[i].date()
        _feature_error(
            report,
            errors,
            name,
            int(i),
            to_field,
            str(b),
            f"{from_field} {a} is not before {to_field} {b} (validity is [from, to))",
        )
    frame[VALID_FROM] = start
    frame[VALID_TO] = end


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
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    kept: list[gpd.GeoDataFrame] = []
    rejected: list[pd.DataFrame] = []
    for f in files:
        frame = f.frame.copy()
        frame[AREA_SOURCE] = f.name
        frame[AREA_FEATURE] = np.arange(1, len(frame) + 1)
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
        rejected.append(
            pd.DataFrame(
                {
                    AREA_SOURCE: f.name,
                    AREA_FEATURE: frame[AREA_FEATURE].to_numpy()[bad],
                    CONTROLLER: frame[CONTROLLER].to_numpy()[bad],
                    REJECT_REASON: ["; ".join(e) for e in f.errors if e],
                }
            )
        )
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
    rejected_frame = (
        pd.concat(rejected, ignore_index=True)
        if rejected
        else pd.DataFrame(columns=[AREA_SOURCE, AREA_FEATURE, CONTROLLER, REJECT_REASON])
    )
    return areas, rejected_frame


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


def _check_overlaps(areas: gpd.GeoDataFrame, report: Report) -> None:
    """Warn about overlapping polygons of different controllers valid at the same time.

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
        per_pair = "; ".join(f"{pair}: {int(n)}" for pair, n in pairs.items())
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
                f"{int(slivers.sum())} more overlaps between polygons of different controllers "
                f"valid at the same time, each under {_OVERLAP_LIST_FRACTION:.1%} of the smaller "
                "polygon (border slivers), not listed",
                WARNING,
            )
        )
