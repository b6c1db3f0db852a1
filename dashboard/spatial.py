"""The event <-> control-area join, in space and time.

:func:`join_events_to_areas` gives every event exactly one controller: the one holding the
ground at the event's place on the event's date, from time-varying control areas (one row
per polygon *version*, valid on the half-open interval ``[valid_from, valid_to)``; NaT in
``valid_to`` = still valid, NaT in ``valid_from`` = since always). Dates are compared as
whole days.

Rules
-----
For an event at point *p* on day *t*, the candidate versions are those valid on *t* whose
polygon intersects *p* (interior or boundary).

1. **Overlap.** If *p* is strictly inside versions of two or more different controllers
   (overlapping polygons), the controller is ``CONTESTED`` and ``area_id`` is that of the
   first-listed of those versions (lowest row position in ``areas``), so the event still
   links to a polygon; the overlap itself is reported when the areas are read
   (:func:`dashboard.areas.read_control_areas`).
2. **Border tie-break.** If *p* is strictly inside no candidate but lies on the boundary of
   one or more (a shared border: covered by both, inside neither), the first-listed candidate
   wins: its controller and area_id. Strict interiors beat boundaries: a point inside A and on
   the edge of B belongs to A. Every event gets exactly one controller.
3. **Contested areas.** An area whose controller is ``CONTESTED`` yields ``CONTESTED``.
   An area whose controller is ``NO_INFORMATION`` (ground a town list knows nothing of)
   yields to any other version holding the point, and contests nothing.
4. Outside every candidate: ``UNKNOWN``, area_id NA.

Time window. ``controller_changed_in_window`` is True when the controller at *p* (by the
rules above, ``UNKNOWN`` included) is not the same on every day of
``[date_start, date_end]`` (both ends included). A missing ``date_start``/``date_end`` is
taken as the event date; a missing event date as ``date_start``, then ``date_end``; a
reversed window is read forwards.

Confidence is ``"low"`` when the location is imprecise (``geo_precision == 3``), when the
controller changed inside the window, when the coordinates are missing or out of lon/lat
range, or when the event has no date at all (then the controller is ``UNKNOWN``);
otherwise ``"high"``.

CRS. Events given as a plain DataFrame are longitude/latitude (EPSG:4326) by the schema.
Events given as a GeoDataFrame must carry EPSG:4326, like the areas: any other CRS, or none,
raises :class:`~dashboard.errors.CRSError` (never a silent zero-match join, never a
silent reprojection: reproject with ``events.to_crs("EPSG:4326")`` if that is what you
mean). If *every* located event has latitude/longitude outside the lon/lat range the
columns hold projected coordinates (EPSG:3857 metres, say) and CRSError is raised too;
single out-of-range events are treated as unlocated.

Method. Cheap filters first, the exact geometry test last. One STRtree over the
*distinct* geometries of all versions (versions sharing a polygon share a tree entry) is
queried by bounding box only, once per chunk with the chunk's *distinct* event locations
(geocoded events repeat places: 33,371 UCDP GED Syria/Iraq events sit on 2,623
coordinates). The (event, geometry) pairs are narrowed with numpy to the versions valid in
the event's window: by each geometry's overall time span, then by binary search where a
geometry's versions follow one another in time (a "chain") or by expanding to every
version and filtering otherwise - never by joining against every version first. Only the
distinct (location, geometry) pairs that survive are tested exactly, vectorised
(``shapely.intersects_xy``), in geometry order: about one point-in-polygon test per event
rather than one per version of every polygon whose box holds the point (a cell with 15
versions of a 200-vertex polygon costs 15 exact tests the other way). The interior/boundary
distinction (``shapely.contains_xy``: for a point, "contains" is "strictly inside") is only
computed for events with more than one candidate version. The geometries are not prepared:
with a few dozen tests per polygon, building GEOS's prepared index (and copying the
caller's geometries to hold it) costs about what it saves. Events are processed in chunks
to bound memory; the result does not depend on the chunk size.

Output dtypes: CONTROLLER, AREA_ID (NA where none) and CONTROLLER_CONFIDENCE are pandas
``"string"``; CONTROLLER_CHANGED is bool.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from pyproj import CRS

from dashboard.errors import CRSError, GeometryError, SchemaError
from dashboard.schema import (
    AREA_ID,
    CONFIDENCE_HIGH,
    CONFIDENCE_LOW,
    CONTESTED,
    CONTROLLER,
    CONTROLLER_CHANGED,
    CONTROLLER_CONFIDENCE,
    DATE_END,
    DATE_START,
    EVENT_DATE,
    GEO_PRECISION,
    IMPRECISE_GEO,
    LATITUDE,
    LONGITUDE,
    NO_INFORMATION,
    UNKNOWN,
    VALID_FROM,
    VALID_TO,
)

__all__ = ["DEFAULT_CHUNK_SIZE", "day_numbers", "join_events_to_areas"]

#: Events per chunk: bounds the memory of the candidate pairs. 50,000 rather than more: where
#: every event has a place of its own, a chunk's pairs run to tens of millions, and smaller
#: chunks reuse their temporary arrays instead of faulting in new memory (a first join of
#: 200,000 such events against 28,034 versions: 0.61-0.67 s against 1.5-1.7 s with 200,000;
#: no steady difference where events share places, as real files' do).
DEFAULT_CHUNK_SIZE = 50_000

_WGS84 = CRS.from_epsg(4326)
_NEVER_BEFORE = np.iinfo(np.int64).min  # valid_from NaT: since always
_NEVER_AFTER = np.iinfo(np.int64).max  # valid_to NaT: still valid
_NO_CODE = -1  # no candidate: UNKNOWN


@dataclass(frozen=True)
class _AreaIndex:
    """The areas prepared once for any number of chunks."""

    tree: shapely.STRtree  # over the distinct geometries
    geoms: np.ndarray  # distinct geometries (the input's own objects, only read)
    geom_ptr: np.ndarray  # versions of distinct geometry g: by_geom[geom_ptr[g]:geom_ptr[g+1]]
    by_geom: np.ndarray  # version positions grouped by geometry, by valid_from within a group
    chain: np.ndarray  # per geometry: its versions follow one another without overlapping
    key_start: np.ndarray  # (geometry, valid_from) as one sortable int64, in by_geom order
    key_end: np.ndarray  # (geometry, valid_to), sorted within chain groups
    geom_start: np.ndarray  # per geometry: the earliest valid_from of its versions
    geom_end: np.ndarray  # per geometry: the latest valid_to of its versions
    start: np.ndarray  # int64 day of valid_from per version
    end: np.ndarray  # int64 day of valid_to per version (exclusive)
    code: np.ndarray  # controller code per version
    names: np.ndarray  # controller name per code
    contested: int  # the code of CONTESTED
    area_id: np.ndarray  # AREA_ID per version (object)


@dataclass(frozen=True)
class _Events:
    """What the join needs from the events, as arrays."""

    points: np.ndarray  # one shapely point per distinct location
    x: np.ndarray  # longitude per distinct location
    y: np.ndarray  # latitude per distinct location
    location: np.ndarray  # per event: index into points, -1 where unlocated
    located: np.ndarray  # bool
    when: np.ndarray  # int64 day of the event date
    first: np.ndarray  # int64 first day of the window (inclusive)
    last: np.ndarray  # int64 last day of the window (inclusive)
    dated: np.ndarray  # bool
    imprecise: np.ndarray  # bool


def join_events_to_areas(
    events: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    *,
    date_column: str = EVENT_DATE,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Callable[[int], None] | None = None,
) -> gpd.GeoDataFrame:
    """Give every event the controller of its place on its date.

    Parameters
    ----------
    events
        DataFrame (or GeoDataFrame in EPSG:4326) with LATITUDE, LONGITUDE (NaN allowed),
        ``date_column`` and optionally DATE_START, DATE_END, GEO_PRECISION. Not modified.
    areas
        Control-area versions (see :func:`dashboard.areas.read_control_areas`): AREA_ID,
        CONTROLLER, VALID_FROM, VALID_TO and polygon geometry in EPSG:4326.
    date_column
        The column holding the date at which the controller is looked up.
    chunk_size
        Events processed at once; the result is the same for any value.
    progress
        Called as ``progress(n_done)`` after every chunk (for a progress bar).

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame, one row per event in the input order and with the input index, with
        point geometry (EPSG:4326, None where unlocated) and the columns CONTROLLER, AREA_ID,
        CONTROLLER_CONFIDENCE and CONTROLLER_CHANGED added (the rules are in the module
        docstring).

    Raises
    ------
    CRSError
        The areas or the events are not in EPSG:4326 (or have no CRS), or the events'
        coordinates are all outside lon/lat range.
    SchemaError
        A required column is missing.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be positive, got {chunk_size!r}")
    ev = _check_inputs(events, areas, date_column)
    index = _build_index(areas)
    n = len(ev.location)
    code = np.full(n, _NO_CODE, dtype=np.int64)
    version = np.full(n, -1, dtype=np.int64)
    changed = np.zeros(n, dtype=bool)
    for a in range(0, n, chunk_size):
        b = min(a + chunk_size, n)
        sl = slice(a, b)
        cand = _candidates(index, ev, sl)
        probes = _apply_validity_window(
            index, cand, ev.when[sl], ev.first[sl], ev.last[sl], ev.dated[sl]
        )
        p_code, p_version = _resolve_ties(index, *probes.rows, n_probes=len(probes.event))
        at_date = probes.kind == 0
        code[a + probes.event[at_date]] = p_code[at_date]
        version[a + probes.event[at_date]] = p_version[at_date]
        changed[sl] = _changed(probes, _unknown_as_none(index, p_code), b - a)
        if progress is not None:
            progress(b)
    return _assemble(events, ev, index, code, version, changed)


# --------------------------------------------------------------------------------------------
# inputs


def _check_inputs(events: pd.DataFrame, areas: gpd.GeoDataFrame, date_column: str) -> _Events:
    if not isinstance(areas, gpd.GeoDataFrame):
        raise SchemaError(f"areas must be a GeoDataFrame, got {type(areas).__name__!r}")
    missing = [c for c in (AREA_ID, CONTROLLER, VALID_FROM, VALID_TO) if c not in areas.columns]
    if missing:
        raise SchemaError(f"areas lack the columns {missing!r}")
    _require_wgs84(
        areas.crs,
        "areas",
        "read them with read_control_areas() or reproject with areas.to_crs('EPSG:4326')",
    )
    if date_column not in events.columns:
        raise SchemaError(f"events lack the date column {date_column!r}")

    lon, lat = _event_coordinates(events)
    located = np.isfinite(lon) & np.isfinite(lat)
    in_range = located & (np.abs(lon) <= 180) & (np.abs(lat) <= 90)
    if located.any() and not in_range.any():
        raise CRSError(
            "events: every latitude/longitude is outside lon/lat range (e.g. longitude "
            f"{lon[located][0]!r}, latitude {lat[located][0]!r}): projected coordinates such "
            "as EPSG:3857 metres? Convert them to EPSG:4326 degrees first"
        )
    # events share places (gazetteer coordinates): one point object per distinct location
    location = np.full(len(events), -1, dtype=np.int64)
    codes, distinct = pd.factorize(lon[in_range] + 1j * lat[in_range])
    location[in_range] = codes
    distinct = np.asarray(distinct, dtype=complex)
    x, y = distinct.real.copy(), distinct.imag.copy()
    # x and y are 1-d: an array of points (shapely's stubs cannot tell a 1-d array from a
    # 0-d one, which would give one Point).
    points = cast(np.ndarray, shapely.points(x, y))

    when = day_numbers(events[date_column])
    first = day_numbers(events[DATE_START]) if DATE_START in events.columns else when.copy()
    last = day_numbers(events[DATE_END]) if DATE_END in events.columns else when.copy()
    when = np.where(when == _NEVER_BEFORE, np.where(first == _NEVER_BEFORE, last, first), when)
    dated = when != _NEVER_BEFORE
    first = np.where(first == _NEVER_BEFORE, when, first)
    last = np.where(last == _NEVER_BEFORE, when, last)
    first, last = np.minimum(first, last), np.maximum(first, last)

    if GEO_PRECISION in events.columns:
        precision = pd.to_numeric(events[GEO_PRECISION], errors="coerce").to_numpy(dtype=float)
        imprecise = precision == IMPRECISE_GEO
    else:
        imprecise = np.zeros(len(events), dtype=bool)
    return _Events(points, x, y, location, in_range, when, first, last, dated, imprecise)


def _event_coordinates(events: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude as float arrays (NaN where missing)."""
    geometry = _active_geometry(events)
    if geometry is not None:
        _require_wgs84(
            geometry.crs, "events", "reproject explicitly with events.to_crs('EPSG:4326') first"
        )
    if LATITUDE in events.columns and LONGITUDE in events.columns:
        lon = pd.to_numeric(events[LONGITUDE], errors="coerce").to_numpy(dtype=float)
        lat = pd.to_numeric(events[LATITUDE], errors="coerce").to_numpy(dtype=float)
        return lon, lat
    if geometry is None:
        raise SchemaError(f"events lack the columns {LATITUDE!r} and {LONGITUDE!r}")
    values = np.asarray(geometry.array, dtype=object)
    kinds = shapely.get_type_id(values)
    if np.any((kinds != 0) & (kinds != -1)):
        raise GeometryError("events: geometry must be points")
    empty = shapely.is_missing(values) | shapely.is_empty(values)
    lon = np.where(empty, np.nan, shapely.get_x(values))
    lat = np.where(empty, np.nan, shapely.get_y(values))
    return lon.astype(float), lat.astype(float)


def _require_wgs84(crs: object, what: str, fix: str) -> None:
    """Raise CRSError unless ``crs`` is EPSG:4326 (never a silent zero-match join)."""
    if crs is None:
        raise CRSError(f"{what}: CRS missing (expected EPSG:4326)")
    found = CRS.from_user_input(crs)
    if not found.equals(_WGS84, ignore_axis_order=True):
        raise CRSError(f"{what} are in {found.to_string()!r}, expected EPSG:4326: {fix}")


def _active_geometry(frame: pd.DataFrame) -> gpd.GeoSeries | None:
    if not isinstance(frame, gpd.GeoDataFrame):
        return None
    try:
        return frame.geometry
    except AttributeError:  # a GeoDataFrame without an active geometry column
        return None


def day_numbers(values: pd.Series, *, missing: int = _NEVER_BEFORE) -> np.ndarray:
    """Dates as int64 day numbers since 1970-01-01; NaT (or unparseable) -> ``missing``.

    Time of day is dropped; a time zone is converted to UTC first.
    """
    parsed = pd.to_datetime(values, errors="coerce")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    arr = np.asarray(parsed.to_numpy(), dtype="datetime64[ns]" if parsed.empty else None)
    arr = arr.astype("datetime64[D]")
    out = arr.astype(np.int64)
    out[np.isnat(arr)] = missing
    return out


def _lo(ev: _Events, sl: slice) -> np.ndarray:
    return np.minimum(ev.when[sl], ev.first[sl])


def _hi(ev: _Events, sl: slice) -> np.ndarray:
    return np.maximum(ev.when[sl], ev.last[sl])


# --------------------------------------------------------------------------------------------
# the areas, once

# (geometry, day) packed into one int64 so that one searchsorted finds a day inside a group
_HALF = 2**30  # days are clamped to +/- 2.9 million years
_SPAN = 2**31


def _key(group: np.ndarray, day: np.ndarray) -> np.ndarray:
    return group.astype(np.int64) * _SPAN + (np.clip(day, -_HALF, _HALF - 1) + _HALF)


def _build_index(areas: gpd.GeoDataFrame) -> _AreaIndex:
    """The tree, the version groups and the per-version arrays (module docstring: Method)."""
    values = np.asarray(areas.geometry.array, dtype=object)
    version_geom, geoms = _distinct_geometries(values)

    start = day_numbers(areas[VALID_FROM], missing=_NEVER_BEFORE)
    end = day_numbers(areas[VALID_TO], missing=_NEVER_AFTER)
    order = np.lexsort((np.arange(len(values)), start, version_geom))
    order = order[version_geom[order] >= 0]
    group = version_geom[order]
    geom_start = np.full(len(geoms), _NEVER_AFTER, dtype=np.int64)
    geom_end = np.full(len(geoms), _NEVER_BEFORE, dtype=np.int64)
    np.minimum.at(geom_start, group, start[order])
    np.maximum.at(geom_end, group, end[order])
    geom_ptr = np.searchsorted(group, np.arange(len(geoms) + 1))
    # a chain: each version of the geometry ends before the next one starts, so the versions
    # valid in a window are one contiguous run found by binary search
    same = group[1:] == group[:-1]
    broken = same & (end[order][:-1] > start[order][1:])
    broken_group = np.zeros(len(geoms), dtype=bool)
    broken_group[group[1:][broken]] = True
    broken_group[group[start[order] >= end[order]]] = True
    controller = areas[CONTROLLER].astype("string").fillna(UNKNOWN).to_numpy(dtype=object)
    code, uniques = pd.factorize(pd.Series(controller, dtype=object))
    names = np.asarray(uniques, dtype=object)
    if CONTESTED not in set(names):
        names = np.append(names, CONTESTED)
    contested = int(np.flatnonzero(names == CONTESTED)[0])
    return _AreaIndex(
        tree=shapely.STRtree(geoms),
        geoms=geoms,
        geom_ptr=geom_ptr,
        by_geom=order,
        chain=~broken_group,
        key_start=_key(group, start[order]),
        key_end=_key(group, end[order]),
        geom_start=geom_start,
        geom_end=geom_end,
        start=start,
        end=end,
        code=code.astype(np.int64),
        names=names,
        contested=contested,
        area_id=areas[AREA_ID].astype("string").to_numpy(dtype=object, na_value=None),
    )


def _distinct_geometries(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group equal geometries (same WKB): ``(group per value, -1 if none; one per group)``.

    Versions often share a polygon, but comparing WKB is costly for many large polygons, so
    it is only done among geometries with the same vertex count and bounds (a cheap key
    that equal geometries always share); every other geometry is a group of its own. The
    representatives are the input's own objects (first of their group), only read.
    """
    group = np.full(len(values), -1, dtype=np.int64)
    usable = np.flatnonzero(~(shapely.is_missing(values) | shapely.is_empty(values)))
    if not len(usable):
        return group, np.empty(0, dtype=object)
    cheap = pd.DataFrame(shapely.bounds(values[usable]))
    cheap["n"] = shapely.get_num_coordinates(values[usable])
    shared = cheap.duplicated(keep=False).to_numpy()
    code = np.empty(len(usable), dtype=np.int64)
    code[~shared] = np.arange(np.count_nonzero(~shared))
    if shared.any():
        wkb = pd.Series(shapely.to_wkb(values[usable[shared]]), dtype=object)
        code[shared] = np.count_nonzero(~shared) + pd.factorize(wkb)[0]
    # number the groups by first appearance, like factorize
    _, first = np.unique(code, return_index=True)  # first position of every code
    renumber = np.argsort(np.argsort(first))
    group[usable] = renumber[code]
    return group, values[usable[np.sort(first)]]


# --------------------------------------------------------------------------------------------
# one chunk


@dataclass(frozen=True)
class _Candidates:
    """Versions whose polygon intersects an event's point and that are valid in its window."""

    event: np.ndarray  # chunk-local event position, ascending
    version: np.ndarray  # version position in areas, ascending within an event
    interior: np.ndarray  # bool: the point is strictly inside the polygon
    ptr: np.ndarray  # rows of event e: ptr[e]:ptr[e+1]


@dataclass(frozen=True)
class _Probes:
    """(event, day) pairs at which the controller is evaluated, with their candidate rows."""

    event: np.ndarray  # chunk-local event
    day: np.ndarray
    kind: np.ndarray  # 0: the event date, 1: inside the [first, last] window
    rows: tuple[np.ndarray, np.ndarray, np.ndarray]  # (probe, version, interior), valid rows


def _expand(starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For runs [starts[i], starts[i] + counts[i]): (run of each element, element)."""
    if not len(counts) or counts.max() <= 1:  # runs of 0 or 1 element: no arithmetic
        run = np.flatnonzero(counts)
        return run, starts[run]
    run = np.repeat(np.arange(len(counts)), counts)
    offset = np.arange(len(run)) - np.repeat(np.cumsum(counts) - counts, counts)
    return run, starts[run] + offset


def _candidates(index: _AreaIndex, ev: _Events, sl: slice) -> _Candidates:
    """Versions valid in the window whose polygon intersects the event's point, per event.

    Cheap filters first, the exact predicate last: the tree is queried by bounding box only
    (once per distinct location of the chunk), the (event, geometry) pairs are narrowed to
    the versions valid in the event's window with numpy, and only then are the distinct
    (location, geometry) pairs that survive tested exactly - about one point-in-polygon
    test per event instead of one per version of every polygon whose box holds the point.
    """
    location, lo, hi = ev.location[sl], _lo(ev, sl), _hi(ev, sl)
    n = len(location)
    active = (location >= 0) & (lo != _NEVER_BEFORE)
    places, place_of_event = np.unique(location[active], return_inverse=True)
    boxes = _box_pairs(index, ev.points[places])

    # (event, box pair) with a version valid in the event's window
    events = np.flatnonzero(active)
    run, pair_q = _pairs_in_time(index, boxes, place_of_event, lo[events], hi[events])
    pair_event = events[run]
    run, version = _valid_versions(index, boxes.geom[pair_q], lo[pair_event], hi[pair_event])
    event, row_q = pair_event[run], pair_q[run]

    # the exact predicate, once per distinct (location, geometry) pair still needed
    x, y = ev.x[places], ev.y[places]
    keep = _exact(index.geoms, x, y, boxes, row_q, shapely.intersects_xy)[row_q]
    event, version, row_q = event[keep], version[keep], row_q[keep]
    order = np.argsort(event * len(index.start) + version)  # by event, then first listed
    event, version, row_q = event[order], version[order], row_q[order]
    ptr = np.searchsorted(event, np.arange(n + 1))

    # strict interior vs boundary only matters where an event has several candidates; for
    # a point, "contains" is "strictly inside" (contains_properly)
    interior = np.ones(len(event), dtype=bool)
    several = np.diff(ptr)[event] > 1
    if several.any():
        inside = _exact(index.geoms, x, y, boxes, row_q[several], shapely.contains_xy)
        interior[several] = inside[row_q[several]]
    return _Candidates(event, version, interior, ptr)


@dataclass(frozen=True)
class _BoxPairs:
    """(place, distinct geometry) pairs whose bounding boxes intersect, grouped by place."""

    place: np.ndarray  # index into the queried points, ascending
    geom: np.ndarray  # index into _AreaIndex.geoms
    ptr: np.ndarray  # pairs of place p: ptr[p]:ptr[p+1]


def _box_pairs(index: _AreaIndex, points: np.ndarray) -> _BoxPairs:
    """Query the tree by bounding box only: no exact predicate is evaluated here."""
    place, geom = index.tree.query(points)
    if len(place) and np.any(place[1:] < place[:-1]):
        order = np.argsort(place, kind="stable")
        place, geom = place[order], geom[order]
    return _BoxPairs(place, geom, np.searchsorted(place, np.arange(len(points) + 1)))


def _pairs_in_time(
    index: _AreaIndex,
    boxes: _BoxPairs,
    place_of_event: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Every event's box pairs whose geometry has a version in the window [lo, hi].

    Returns ``(event, pair)``, events (positions in ``place_of_event``) ascending. This is
    the widest step (every event times every box around its place), so it is kept to a few
    sequential passes: the geometry's time span is looked up per box pair once, and the
    event of a pair is only worked out for the pairs that survive.
    """
    counts = np.diff(boxes.ptr)[place_of_event]
    ends = np.cumsum(counts)
    pair = np.arange(ends[-1] if len(ends) else 0) + np.repeat(
        boxes.ptr[place_of_event] - (ends - counts), counts
    )
    box_start = index.geom_start[boxes.geom]
    box_end = index.geom_end[boxes.geom]
    alive = np.flatnonzero(
        (box_start[pair] <= np.repeat(hi, counts)) & (box_end[pair] > np.repeat(lo, counts))
    )
    return np.searchsorted(ends, alive, side="right"), pair[alive]


def _valid_versions(
    index: _AreaIndex, geom: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For (geometry, [lo, hi]) pairs, the versions of the geometry valid in [lo, hi].

    Returns ``(pair, version)``: for each surviving row, the input pair and the version's
    position in ``areas``; pairs ascending. The versions of a chain (versions following one
    another in time) are found by binary search, other geometries' versions are expanded
    and filtered; a geometry with one version is just filtered.
    """
    first = index.geom_ptr[geom]
    stop = index.geom_ptr[geom + 1]
    chain = np.flatnonzero(index.chain[geom] & (stop - first > 1))
    if len(chain):
        low_key = _key(geom[chain], lo[chain])
        sort = np.argsort(low_key)  # sorted queries make the binary searches cache-friendly
        by_key, low_key = chain[sort], low_key[sort]
        high_key = _key(geom[by_key], hi[by_key])
        first[by_key] = np.maximum(
            first[by_key], np.searchsorted(index.key_end, low_key, side="right")
        )
        stop[by_key] = np.minimum(
            stop[by_key], np.searchsorted(index.key_start, high_key, side="right")
        )
    pair, pos = _expand(first, np.maximum(stop - first, 0))
    version = index.by_geom[pos]
    keep = (index.start[version] <= hi[pair]) & (index.end[version] > lo[pair])
    return pair[keep], version[keep]


def _exact(
    geoms: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    boxes: _BoxPairs,
    rows: np.ndarray,
    predicate: Callable[..., np.ndarray],
) -> np.ndarray:
    """``predicate(geometry, x, y)`` for the box pairs listed in ``rows`` (repeats allowed).

    Returns a bool array over all box pairs, False where not evaluated. Each distinct pair
    is evaluated once, vectorised, in geometry order (a polygon's vertices are read once
    for all its points, not fetched again from memory for every point).
    """
    needed = np.zeros(len(boxes.geom), dtype=bool)
    needed[rows] = True
    needed = np.flatnonzero(needed)
    needed = needed[np.argsort(boxes.geom[needed], kind="stable")]
    out = np.zeros(len(boxes.geom), dtype=bool)
    place = boxes.place[needed]
    out[needed] = predicate(geoms[boxes.geom[needed]], x[place], y[place])
    return out


def _apply_validity_window(
    index: _AreaIndex,
    cand: _Candidates,
    when: np.ndarray,
    first: np.ndarray,
    last: np.ndarray,
    dated: np.ndarray,
) -> _Probes:
    """Probe days per event and the candidate versions valid on each (half-open intervals).

    Every dated event is probed on its date (kind 0). An event whose window spans several
    days and that has candidates is also probed on its first day and on every day inside the
    window where a candidate version starts or ends (kind 1): the controller is constant
    between those days, so comparing the probes tells whether it changed.
    """
    n = len(when)
    has_cand = np.diff(cand.ptr) > 0
    date_events = np.flatnonzero(dated)
    wide = np.flatnonzero(dated & has_cand & (first < last))
    wide_mask = np.zeros(n, dtype=bool)
    wide_mask[wide] = True

    # breakpoints inside (first, last] from the candidate versions of wide events
    rows = wide_mask[cand.event]
    ce, cv = cand.event[rows], cand.version[rows]
    bp_event, bp_day = [], []
    for edge in (index.start[cv], index.end[cv]):
        inside = (edge > first[ce]) & (edge <= last[ce])
        bp_event.append(ce[inside])
        bp_day.append(edge[inside])
    win_event = np.concatenate([wide, *bp_event])
    win_day = np.concatenate([first[wide], *bp_day])
    if len(win_event):  # the same day twice tells nothing new
        key = np.unique(_key(win_event, win_day))
        win_event, win_day = key // _SPAN, key % _SPAN - _HALF

    probe_event = np.concatenate([date_events, win_event])
    probe_day = np.concatenate([when[date_events], win_day])
    kind = np.concatenate([np.zeros(len(date_events), np.int8), np.ones(len(win_event), np.int8)])

    # candidate rows of each probe's event, kept where the version is valid on the probe day
    row_probe, row = _expand(cand.ptr[probe_event], np.diff(cand.ptr)[probe_event])
    version = cand.version[row]
    day = probe_day[row_probe]
    valid = (index.start[version] <= day) & (day < index.end[version])
    return _Probes(
        event=probe_event,
        day=probe_day,
        kind=kind,
        rows=(row_probe[valid], version[valid], cand.interior[row][valid]),
    )


def _resolve_ties(
    index: _AreaIndex,
    row_probe: np.ndarray,
    row_version: np.ndarray,
    row_interior: np.ndarray,
    *,
    n_probes: int,
) -> tuple[np.ndarray, np.ndarray]:
    """One controller code and version per probe, by the rules of the module docstring.

    The rows come grouped by probe (ascending) with versions ascending inside a group, so
    "first listed" is the first row and no sort is needed.
    """
    code = np.full(n_probes, _NO_CODE, dtype=np.int64)
    version = np.full(n_probes, -1, dtype=np.int64)
    if not len(row_probe):
        return code, version
    row_probe, row_version, row_interior = _without_yielding(
        index, row_probe, row_version, row_interior
    )
    head = np.flatnonzero(np.r_[True, row_probe[1:] != row_probe[:-1]])
    probe = row_probe[head]
    # the first interior row of the group if there is one (rule 1), else the first row (rule 2)
    big = np.iinfo(np.int64).max
    first_inside = np.minimum.reduceat(np.where(row_interior, np.arange(len(row_probe)), big), head)
    chosen = np.where(first_inside != big, first_inside, head)
    version[probe] = row_version[chosen]
    code[probe] = index.code[row_version[chosen]]
    # interiors of different controllers overlapping: contested
    row_code = index.code[row_version]
    lowest = np.minimum.reduceat(np.where(row_interior, row_code, big), head)
    highest = np.maximum.reduceat(np.where(row_interior, row_code, -1), head)
    code[probe[(first_inside != big) & (lowest != highest)]] = index.contested
    return code, version


def _without_yielding(
    index: _AreaIndex, row_probe: np.ndarray, row_version: np.ndarray, row_interior: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows of a probe without its "No information" versions when any other version
    holds the point (inside or on its border): ground a town list knows nothing of yields
    to any side another source places there; it is no side of its own to contest with."""
    weak_codes = np.flatnonzero(index.names == NO_INFORMATION)
    if not len(weak_codes):
        return row_probe, row_version, row_interior
    weak = index.code[row_version] == int(weak_codes[0])
    if not weak.any():
        return row_probe, row_version, row_interior
    head = np.flatnonzero(np.r_[True, row_probe[1:] != row_probe[:-1]])
    group = np.cumsum(np.r_[True, row_probe[1:] != row_probe[:-1]]) - 1
    has_strong = np.maximum.reduceat((~weak).astype(np.int8), head).astype(bool)
    keep = ~weak | ~has_strong[group]
    return row_probe[keep], row_version[keep], row_interior[keep]


def _unknown_as_none(index: _AreaIndex, code: np.ndarray) -> np.ndarray:
    """Codes where an area whose controller is UNKNOWN (or missing) counts as no area: the
    controller is UNKNOWN either way, and going from one to the other is no change."""
    unknown = np.flatnonzero(index.names == UNKNOWN)
    if not len(unknown):
        return code
    return np.where(code == int(unknown[0]), _NO_CODE, code)


def _changed(probes: _Probes, code: np.ndarray, n: int) -> np.ndarray:
    """True for events whose window probes do not all give the same controller."""
    window = probes.kind == 1
    event, c = probes.event[window], code[window]
    changed = np.zeros(n, dtype=bool)
    if not len(event):
        return changed
    lowest = np.full(n, np.iinfo(np.int64).max)
    highest = np.full(n, np.iinfo(np.int64).min)
    np.minimum.at(lowest, event, c)
    np.maximum.at(highest, event, c)
    changed[event] = lowest[event] != highest[event]
    return changed


# --------------------------------------------------------------------------------------------
# output


def _strings(codes: np.ndarray, names: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """names[codes] as a pandas string array (NA where codes < 0), without Python objects."""
    indices = pa.array(codes, mask=codes < 0, type=pa.int64())
    dictionary = pa.array(list(names), type=pa.large_string())
    return pd.array(
        pa.DictionaryArray.from_arrays(indices, dictionary).cast(pa.large_string()), dtype="string"
    )


def _assemble(
    events: pd.DataFrame,
    ev: _Events,
    index: _AreaIndex,
    code: np.ndarray,
    version: np.ndarray,
    changed: np.ndarray,
) -> gpd.GeoDataFrame:
    geometry = _active_geometry(events)
    frame = pd.DataFrame(events, copy=True)
    if geometry is not None:
        frame = frame.drop(columns=[geometry.name])
    names = np.append(index.names, UNKNOWN)
    frame[CONTROLLER] = _strings(np.where(code < 0, len(names) - 1, code), names)
    frame[AREA_ID] = _strings(version, index.area_id)
    low = ev.imprecise | changed | ~ev.located | ~ev.dated
    frame[CONTROLLER_CONFIDENCE] = _strings(
        low.astype(np.int64), np.array([CONFIDENCE_HIGH, CONFIDENCE_LOW])
    )
    frame[CONTROLLER_CHANGED] = changed
    points = np.full(len(frame), None, dtype=object)
    points[ev.location >= 0] = ev.points[ev.location[ev.location >= 0]]
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(points, index=frame.index, crs=_WGS84))
