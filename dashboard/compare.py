"""Compare who controlled what on two dates: area per controller, what changed hands, where.

Everything here is plain geopandas/shapely (no UI); the CLI (``conflictmap compare``) and
the app's compare mode call :func:`compare`.

Areas are measured in **EPSG:6933** (WGS 84 / NSIDC EASE-Grid 2.0 Global, a Lambert
cylindrical *equal-area* projection on the WGS 84 ellipsoid, standard parallels 30 N/S).
Why this one rather than a local Albers or LAEA fitted to the data's extent:

* it is equal-area everywhere, so the figures do not depend on the data's extent: the CLI,
  the app and a notebook give the same km² for the same polygon, whatever else is loaded;
* it is a registered code that any GIS reproduces (a home-made local projection is not);
* it is cylindrical: meridians and parallels are straight lines in it. A GeoJSON edge is a
  straight line in lon/lat (RFC 7946), so edges are first split every
  :data:`DENSIFY_DEGREES` in lon/lat; the projected polygon then follows the GeoJSON
  polygon's true outline and its area is that polygon's area on the ellipsoid (shape
  distortion, which an equal-area projection trades for exact areas, does not matter for
  areas).

What "controller at a date" means: the versions valid on the date
(:func:`dashboard.areas.areas_at`), merged per controller. Where polygons of *different*
controllers overlap (the real OCHA 2015 maps do; the bundled areas never), the overlap is
counted as :data:`~dashboard.schema.CONTESTED`, as the event join does
(:mod:`dashboard.spatial`, rule 1), so every km² has one controller and the figures add
up; :attr:`Comparison.overlap_km2` says how much was reassigned.

What changed hands between A and B: every piece of ground whose controller at A differs
from its controller at B (:data:`~dashboard.schema.UNKNOWN` where no area covers it on one
of the dates). For each controller, *gained* is the ground it holds at B and did not hold
at A, *lost* the reverse, and ``km2_b - km2_a == gained - lost`` exactly. Pieces smaller
than :data:`MIN_PIECE_KM2` (slivers where two maps digitised the same border slightly
differently) are dropped from the pieces but never from the per-date totals.

Towns (the gazetteer ``geodata/towns.csv``) and events are placed with
:func:`dashboard.spatial.join_events_to_areas`, so a town on a border gets the same
controller an event there would get.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from dashboard import paths, schema
from dashboard.areas import areas_at
from dashboard.errors import CompareError
from dashboard.measure import DENSIFY_DEGREES, EQUAL_AREA_CRS, area_km2
from dashboard.report import json_records
from dashboard.spatial import join_events_to_areas

__all__ = [
    "DENSIFY_DEGREES",
    "EQUAL_AREA_CRS",
    "FROM",
    "MIN_PIECE_KM2",
    "TO",
    "CompareError",
    "Comparison",
    "area_by_controller",
    "area_km2",
    "changed_pieces",
    "check_date_in_layer",
    "compare",
    "control_at",
    "controller_order",
    "events_in_changes",
    "gains_and_losses",
    "layer_coverage",
    "read_towns",
    "towns_changed",
]

#: Pieces that changed hands smaller than this (km²) are slivers, not ground.
MIN_PIECE_KM2 = 0.01

# Output columns of this module (next to schema.CONTROLLER).
FROM = "controller_a"  # controller at date A (UNKNOWN: no area there)
TO = "controller_b"  # controller at date B
AREA_KM2 = "area_km2"
KM2_A = "km2_a"
KM2_B = "km2_b"
DIFF_KM2 = "difference_km2"
GAINED_KM2 = "gained_km2"
LOST_KM2 = "lost_km2"
CHANGE = "change"  # "gained" | "lost"
GAINED = "gained"
LOST = "lost"
TOWN = "town"
TOWN_AR = "town_ar"

_WGS84 = "EPSG:4326"


# --------------------------------------------------------------------------------------------
# dates


def _day(value: Any) -> dt.date:
    stamp = pd.Timestamp(value)
    if pd.isna(stamp):
        raise CompareError(f"not a date: {value!r}")
    return stamp.date()


def layer_coverage(areas: gpd.GeoDataFrame) -> tuple[dt.date | None, dt.date | None]:
    """The first and last day (both inclusive) some area version is valid on.

    ``None`` on a side means open: a version without ``valid_from`` ("since always") or
    without ``valid_to`` (still valid).
    """
    if not len(areas):
        raise CompareError("the control-area layer is empty")
    start = pd.to_datetime(areas[schema.VALID_FROM])
    end = pd.to_datetime(areas[schema.VALID_TO])
    first = None if start.isna().any() else start.min().date()
    last = None if end.isna().any() else (end.max() - pd.Timedelta(days=1)).date()
    return first, last


def coverage_text(first: dt.date | None, last: dt.date | None) -> str:
    """``2014-01-04 to 2019-10-08``, with ``open`` for an open side."""
    return f"{first.isoformat() if first else 'open'} to {last.isoformat() if last else 'open'}"


def check_date_in_layer(areas: gpd.GeoDataFrame, day: Any, *, label: str = "date") -> dt.date:
    """``day`` as a date, or :class:`CompareError` when the layer does not cover it."""
    when = _day(day)
    first, last = layer_coverage(areas)
    if (first is not None and when < first) or (last is not None and when > last):
        raise CompareError(
            f"{label} {when.isoformat()} is outside the control areas "
            f"({coverage_text(first, last)})"
        )
    return when


# --------------------------------------------------------------------------------------------
# geometry helpers


def _polygonal(geom: BaseGeometry | None) -> BaseGeometry:
    """The polygonal part of a geometry (intersections of touching polygons give lines)."""
    if geom is None or geom.is_empty:
        return shapely.Polygon()
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def _check_crs(areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if areas.crs is None:
        raise CompareError("control areas: CRS missing (expected EPSG:4326)")
    if areas.crs.to_epsg() != 4326:
        return areas.to_crs(_WGS84)
    return areas


def controller_order(names: Iterable[str]) -> list[str]:
    """The bundled controllers in their schema order, then others by name; Contested and
    Unknown last."""
    seen = list(dict.fromkeys(str(n) for n in names))
    known = [c for c in schema.CONTROLLERS if c in seen and c != schema.CONTESTED]
    others = sorted(c for c in seen if c not in schema.CONTROLLERS and c != schema.UNKNOWN)
    tail = [c for c in (schema.CONTESTED, schema.UNKNOWN) if c in seen]
    return known + others + tail


# --------------------------------------------------------------------------------------------
# one date


@dataclass(frozen=True)
class ControlMap:
    """Who held what on one date: one row per controller, disjoint polygons (EPSG:4326)."""

    day: dt.date
    frame: gpd.GeoDataFrame  # CONTROLLER, geometry
    overlap_km2: float = 0.0  # ground claimed by several controllers, counted as Contested


def control_at(areas: gpd.GeoDataFrame, day: Any) -> ControlMap:
    """The control map of ``day``: areas valid on it merged per controller, overlaps of
    different controllers counted as Contested (see the module docstring).

    Parameters
    ----------
    areas
        Control-area versions (:func:`dashboard.areas.read_control_areas`).
    day
        The date (anything ``pandas.Timestamp`` reads).

    Returns
    -------
    ControlMap
        ``frame`` has one row per controller holding ground that day, in the schema's order.
    """
    when = _day(day)
    now = areas_at(_check_crs(areas), when)
    now = now[~(now.geometry.isna() | now.geometry.is_empty)]
    controllers = [
        schema.UNKNOWN if pd.isna(c) or not str(c).strip() else str(c)
        for c in now[schema.CONTROLLER]
    ]
    by: dict[str, list[shapely.Geometry]] = {}
    for name, geom in zip(controllers, now.geometry.array, strict=True):
        by.setdefault(name, []).append(geom)
    merged = {name: shapely.union_all(geoms) for name, geoms in by.items()}
    names = list(merged)
    overlaps = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            if shapely.intersects(merged[a], merged[b]):
                piece = _polygonal(shapely.intersection(merged[a], merged[b]))
                if not piece.is_empty:
                    overlaps.append(piece)
    overlap = shapely.union_all(overlaps) if overlaps else shapely.Polygon()
    overlap_km2 = float(area_km2([overlap])[0]) if not overlap.is_empty else 0.0
    contested = shapely.union_all(
        [g for g in (merged.get(schema.CONTESTED), overlap) if g is not None and not g.is_empty]
    )
    if not contested.is_empty:
        merged = {
            name: _polygonal(shapely.difference(geom, contested))
            for name, geom in merged.items()
            if name != schema.CONTESTED
        }
        merged[schema.CONTESTED] = contested
    order = controller_order(merged)
    rows = [(n, merged[n]) for n in order if not merged[n].is_empty]
    frame = gpd.GeoDataFrame(
        {schema.CONTROLLER: [n for n, _ in rows]},
        geometry=[g for _, g in rows],
        crs=_WGS84,
    )
    return ControlMap(day=when, frame=frame, overlap_km2=overlap_km2)


def area_by_controller(areas: gpd.GeoDataFrame, day: Any) -> pd.DataFrame:
    """Area (km², :data:`EQUAL_AREA_CRS`) held by each controller on ``day``.

    Returns a frame with CONTROLLER and ``area_km2``, in the schema's controller order.
    """
    cmap = control_at(areas, day)
    return pd.DataFrame(
        {
            schema.CONTROLLER: cmap.frame[schema.CONTROLLER].to_numpy(),
            AREA_KM2: area_km2(cmap.frame.geometry),
        }
    )


# --------------------------------------------------------------------------------------------
# two dates


def changed_pieces(a: ControlMap, b: ControlMap) -> gpd.GeoDataFrame:
    """Every piece of ground whose controller differs between two control maps.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per (controller at A, controller at B) pair that changed: :data:`FROM`,
        :data:`TO` (UNKNOWN where no area covered the ground), ``area_km2`` and the piece
        (EPSG:4326), largest first; pieces under :data:`MIN_PIECE_KM2` are dropped.
    """
    geoms_a = dict(zip(a.frame[schema.CONTROLLER], a.frame.geometry.array, strict=True))
    geoms_b = dict(zip(b.frame[schema.CONTROLLER], b.frame.geometry.array, strict=True))
    all_a = shapely.union_all(list(geoms_a.values())) if geoms_a else shapely.Polygon()
    all_b = shapely.union_all(list(geoms_b.values())) if geoms_b else shapely.Polygon()
    pieces: list[tuple[str, str, BaseGeometry]] = []
    for name_a, ga in geoms_a.items():
        for name_b, gb in geoms_b.items():
            if name_a == name_b or not shapely.intersects(ga, gb):
                continue
            pieces.append((name_a, name_b, _polygonal(shapely.intersection(ga, gb))))
        pieces.append((name_a, schema.UNKNOWN, _polygonal(shapely.difference(ga, all_b))))
    for name_b, gb in geoms_b.items():
        pieces.append((schema.UNKNOWN, name_b, _polygonal(shapely.difference(gb, all_a))))
    pieces = [p for p in pieces if not p[2].is_empty]
    km2 = area_km2([g for _, _, g in pieces])
    keep = [i for i in range(len(pieces)) if km2[i] >= MIN_PIECE_KM2]
    frame = gpd.GeoDataFrame(
        {
            FROM: pd.array([pieces[i][0] for i in keep], dtype="string"),
            TO: pd.array([pieces[i][1] for i in keep], dtype="string"),
            AREA_KM2: km2[keep] if keep else np.zeros(0),
        },
        geometry=[pieces[i][2] for i in keep],
        crs=_WGS84,
    )
    return frame.sort_values(AREA_KM2, ascending=False, kind="stable").reset_index(drop=True)


def gains_and_losses(pieces: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Ground gained and lost per controller, from :func:`changed_pieces`.

    Returns
    -------
    geopandas.GeoDataFrame
        CONTROLLER, :data:`CHANGE` (``"gained"`` or ``"lost"``), ``area_km2`` and the merged
        geometry, one row per controller and change (UNKNOWN, "no area", left out).
    """
    rows: list[tuple[str, str, float, shapely.Geometry]] = []
    names = controller_order([*pieces[FROM], *pieces[TO]]) if len(pieces) else []
    for name in names:
        if name == schema.UNKNOWN:
            continue
        for change, column in ((GAINED, TO), (LOST, FROM)):
            mine = pieces[pieces[column] == name]
            if len(mine):
                rows.append(
                    (
                        name,
                        change,
                        float(mine[AREA_KM2].sum()),
                        shapely.union_all(np.asarray(mine.geometry.array)),
                    )
                )
    return gpd.GeoDataFrame(
        {
            schema.CONTROLLER: [r[0] for r in rows],
            CHANGE: [r[1] for r in rows],
            AREA_KM2: [r[2] for r in rows],
        },
        geometry=[r[3] for r in rows],
        crs=_WGS84,
    )


# --------------------------------------------------------------------------------------------
# towns and events


def read_towns(path: str | Path = paths.BUNDLED_TOWNS) -> pd.DataFrame:
    """The gazetteer of towns (``name, name_ar, country, latitude, longitude, role``)."""
    from dashboard.paths import check_input_file

    check_input_file(Path(path))
    towns = pd.read_csv(
        path,
        dtype=str,
        keep_default_na=False,
        na_values=list(schema.NA_VALUES),
        encoding="utf-8-sig",
    )
    missing = [c for c in ("name", schema.LATITUDE, schema.LONGITUDE) if c not in towns]
    if missing:
        raise CompareError(
            f"{path}: missing column {', '.join(missing)} (found: {', '.join(towns.columns)})"
        )
    for column in (schema.LATITUDE, schema.LONGITUDE):
        towns[column] = pd.to_numeric(towns[column], errors="coerce")
    return towns


def _controllers_at(
    points: pd.DataFrame, areas: gpd.GeoDataFrame, days: Sequence[dt.date]
) -> list[pd.Series]:
    """The controller at each point on each day, by the event join's rules."""
    out = []
    for day in days:
        probe = pd.DataFrame(
            {
                schema.LATITUDE: pd.to_numeric(points[schema.LATITUDE], errors="coerce").to_numpy(),
                schema.LONGITUDE: pd.to_numeric(
                    points[schema.LONGITUDE], errors="coerce"
                ).to_numpy(),
                schema.EVENT_DATE: np.full(len(points), np.datetime64(day.isoformat(), "s")),
            },
            index=points.index,
        )
        joined = join_events_to_areas(probe, areas)
        out.append(joined[schema.CONTROLLER].astype("string"))
    return out


def towns_changed(
    towns: pd.DataFrame, areas: gpd.GeoDataFrame, day_a: Any, day_b: Any
) -> pd.DataFrame:
    """Towns whose controller on ``day_b`` differs from the one on ``day_a``.

    Returns
    -------
    pandas.DataFrame
        ``town``, ``town_ar`` (when the gazetteer has Arabic names), COUNTRY, LATITUDE,
        LONGITUDE, :data:`FROM`, :data:`TO`; towns without coordinates are left out.
    """
    placed = towns[
        pd.to_numeric(towns[schema.LATITUDE], errors="coerce").notna()
        & pd.to_numeric(towns[schema.LONGITUDE], errors="coerce").notna()
    ]
    if not len(placed):
        return pd.DataFrame(
            columns=[TOWN, TOWN_AR, schema.COUNTRY, schema.LATITUDE, schema.LONGITUDE, FROM, TO]
        )
    areas = _check_crs(areas)
    ctrl_a, ctrl_b = _controllers_at(placed, areas, [_day(day_a), _day(day_b)])
    changed = (ctrl_a != ctrl_b).to_numpy()
    out = pd.DataFrame(
        {
            TOWN: placed["name"].to_numpy(),
            TOWN_AR: placed["name_ar"].to_numpy() if "name_ar" in placed else None,
            schema.COUNTRY: placed[schema.COUNTRY].to_numpy() if schema.COUNTRY in placed else None,
            schema.LATITUDE: placed[schema.LATITUDE].to_numpy(dtype=float),
            schema.LONGITUDE: placed[schema.LONGITUDE].to_numpy(dtype=float),
            FROM: ctrl_a.to_numpy(),
            TO: ctrl_b.to_numpy(),
        }
    )
    return out[changed].reset_index(drop=True)


def events_in_changes(
    events: pd.DataFrame,
    pieces: gpd.GeoDataFrame,
    *,
    start: Any = None,
    end: Any = None,
) -> pd.DataFrame:
    """Events inside ground that changed hands, optionally only those dated in a window.

    Parameters
    ----------
    events
        Events with LATITUDE, LONGITUDE and EVENT_DATE (lon/lat); not modified.
    pieces
        :func:`changed_pieces`.
    start, end
        Keep events dated ``start <= event_date <= end`` (either may be None: open).

    Returns
    -------
    pandas.DataFrame
        The matching events' rows (the input's columns, no geometry) with :data:`FROM` and
        :data:`TO` of the piece each lies in, sorted by date. An event on the border of
        two pieces goes to the larger piece.
    """
    columns = [c for c in events.columns if c != "geometry"]
    empty = pd.DataFrame(columns=[*columns, FROM, TO])
    if not len(events) or not len(pieces):
        return empty
    dates = pd.to_datetime(events[schema.EVENT_DATE], errors="coerce")
    keep = np.array(dates.notna(), dtype=bool)
    if start is not None:
        keep &= (dates >= pd.Timestamp(_day(start))).to_numpy()
    if end is not None:
        keep &= (dates < pd.Timestamp(_day(end)) + pd.Timedelta(days=1)).to_numpy()
    lat = pd.to_numeric(events[schema.LATITUDE], errors="coerce").to_numpy(dtype=float)
    lon = pd.to_numeric(events[schema.LONGITUDE], errors="coerce").to_numpy(dtype=float)
    keep &= np.isfinite(lat) & np.isfinite(lon)
    rows = np.flatnonzero(keep)
    if not len(rows):
        return empty
    points = shapely.points(lon[rows], lat[rows])
    tree = shapely.STRtree(np.asarray(pieces.geometry.array))
    point_i, piece_i = tree.query(points, predicate="intersects")
    if not len(point_i):
        return empty
    # pieces are sorted largest first: the first hit per point is the largest piece
    order = np.lexsort((piece_i, point_i))
    point_i, piece_i = point_i[order], piece_i[order]
    first = np.r_[True, point_i[1:] != point_i[:-1]]
    point_i, piece_i = point_i[first], piece_i[first]
    out = pd.DataFrame(events.iloc[rows[point_i]][columns]).copy()
    out[FROM] = pieces[FROM].to_numpy()[piece_i]
    out[TO] = pieces[TO].to_numpy()[piece_i]
    out = out.sort_values(schema.EVENT_DATE, kind="stable")
    return out.reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# the whole comparison


@dataclass
class Comparison:
    """Two dates compared. All areas in km² in :data:`EQUAL_AREA_CRS`.

    Attributes
    ----------
    day_a, day_b
        The dates.
    table
        One row per controller holding ground on either date: CONTROLLER, ``km2_a``,
        ``km2_b``, ``difference_km2`` (b - a), ``gained_km2``, ``lost_km2``.
    pieces
        :func:`changed_pieces`: ground that changed hands, by (from, to).
    changes
        :func:`gains_and_losses`: per controller, the ground gained and lost.
    towns
        :func:`towns_changed` (empty when no gazetteer was given).
    events
        :func:`events_in_changes` (empty when no events were given).
    overlap_km2
        ``(at A, at B)``: ground where polygons of different controllers overlapped,
        counted as Contested.
    """

    day_a: dt.date
    day_b: dt.date
    table: pd.DataFrame
    pieces: gpd.GeoDataFrame
    changes: gpd.GeoDataFrame
    towns: pd.DataFrame
    events: pd.DataFrame
    overlap_km2: tuple[float, float] = (0.0, 0.0)
    control: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame] | None = field(default=None, repr=False)

    @property
    def changed_km2(self) -> float:
        """Ground whose controller differs between the dates (km²), Unknown included."""
        return float(self.pieces[AREA_KM2].sum()) if len(self.pieces) else 0.0

    def changed_parts_km2(self) -> tuple[float, float, float]:
        """``changed_km2`` split: (between two controllers, newly mapped: Unknown at A, no
        longer mapped: Unknown at B). Ground a map did not cover on one date did not
        necessarily change hands: the first figure is the one that did."""
        if not len(self.pieces):
            return 0.0, 0.0, 0.0
        km2 = self.pieces[AREA_KM2].to_numpy(dtype=float)
        was = (self.pieces[FROM] == schema.UNKNOWN).to_numpy()
        now = (self.pieces[TO] == schema.UNKNOWN).to_numpy()
        return float(km2[~was & ~now].sum()), float(km2[was].sum()), float(km2[now].sum())

    def area_of(self, controller: str) -> tuple[float, float]:
        """``(km² at A, km² at B)`` of one controller (0 where it held nothing)."""
        row = self.table[self.table[schema.CONTROLLER] == controller]
        if not len(row):
            return 0.0, 0.0
        return float(row[KM2_A].iloc[0]), float(row[KM2_B].iloc[0])

    def to_dict(self, *, event_columns: Sequence[str] = ()) -> dict[str, Any]:
        """Plain values for JSON: dates, the table, pieces (no geometry), towns, events."""
        cols = [c for c in (schema.EVENT_ID, schema.EVENT_DATE, schema.EVENT_TYPE,
                            schema.SUB_EVENT_TYPE, schema.ACTOR1, schema.LOCATION,
                            schema.COUNTRY, schema.LATITUDE, schema.LONGITUDE,
                            *event_columns, FROM, TO) if c in self.events]  # fmt: skip
        events = self.events[list(dict.fromkeys(cols))].copy()
        if schema.EVENT_DATE in events:
            events[schema.EVENT_DATE] = pd.to_datetime(events[schema.EVENT_DATE]).dt.strftime(
                "%Y-%m-%d"
            )
        return {
            "date_a": self.day_a.isoformat(),
            "date_b": self.day_b.isoformat(),
            "crs": EQUAL_AREA_CRS,
            "areas": json_records(self.table.round(1)),
            "changed_km2": round(self.changed_km2, 1),
            **dict(
                zip(
                    ("changed_between_controllers_km2", "newly_mapped_km2", "no_longer_mapped_km2"),
                    (round(v, 1) for v in self.changed_parts_km2()),
                    strict=True,
                )
            ),
            "overlap_km2": [round(v, 1) for v in self.overlap_km2],
            "changed_hands": json_records(
                pd.DataFrame(self.pieces.drop(columns="geometry")).round({AREA_KM2: 1})
            ),
            "towns": json_records(self.towns),
            "events": json_records(events),
        }


def compare(
    areas: gpd.GeoDataFrame,
    day_a: Any,
    day_b: Any,
    *,
    towns: pd.DataFrame | None = None,
    events: pd.DataFrame | None = None,
    events_start: Any = "a",
    events_end: Any = "b",
) -> Comparison:
    """Compare the control areas of two dates.

    Parameters
    ----------
    areas
        Control-area versions (:func:`dashboard.areas.read_control_areas`), EPSG:4326.
    day_a, day_b
        The two dates; ``day_a`` must not be after ``day_b``, and the layer must cover both.
    towns
        A gazetteer (:func:`read_towns`) to list the towns that changed hands.
    events
        Events (LATITUDE, LONGITUDE, EVENT_DATE) to list those inside changed ground.
    events_start, events_end
        The events' date window: ``"a"``/``"b"`` (the default) for the two dates, a date,
        or None for open.

    Returns
    -------
    Comparison

    Raises
    ------
    CompareError
        A date the layer does not cover, or ``day_a`` after ``day_b``.
    """
    when_a = check_date_in_layer(areas, day_a, label="date A")
    when_b = check_date_in_layer(areas, day_b, label="date B")
    if when_a > when_b:
        raise CompareError(f"date A {when_a.isoformat()} is after date B {when_b.isoformat()}")
    map_a, map_b = control_at(areas, when_a), control_at(areas, when_b)
    pieces = changed_pieces(map_a, map_b)
    changes = gains_and_losses(pieces)

    km2_a = dict(zip(map_a.frame[schema.CONTROLLER], area_km2(map_a.frame.geometry), strict=True))
    km2_b = dict(zip(map_b.frame[schema.CONTROLLER], area_km2(map_b.frame.geometry), strict=True))
    names = controller_order([*km2_a, *km2_b])
    gained = {
        r[schema.CONTROLLER]: r[AREA_KM2] for _, r in changes[changes[CHANGE] == GAINED].iterrows()
    }
    lost = {
        r[schema.CONTROLLER]: r[AREA_KM2] for _, r in changes[changes[CHANGE] == LOST].iterrows()
    }
    table = pd.DataFrame(
        {
            schema.CONTROLLER: names,
            KM2_A: [float(km2_a.get(n, 0.0)) for n in names],
            KM2_B: [float(km2_b.get(n, 0.0)) for n in names],
        }
    )
    table[DIFF_KM2] = table[KM2_B] - table[KM2_A]
    table[GAINED_KM2] = [float(gained.get(n, 0.0)) for n in names]
    table[LOST_KM2] = [float(lost.get(n, 0.0)) for n in names]

    town_rows = (
        towns_changed(towns, areas, when_a, when_b)
        if towns is not None
        else pd.DataFrame(columns=[TOWN, TOWN_AR, schema.COUNTRY, FROM, TO])
    )
    if events is not None:
        start = when_a if events_start == "a" else events_start
        end = when_b if events_end == "b" else events_end
        event_rows = events_in_changes(events, pieces, start=start, end=end)
    else:
        event_rows = pd.DataFrame(columns=[schema.EVENT_ID, schema.EVENT_DATE, FROM, TO])
    return Comparison(
        day_a=when_a,
        day_b=when_b,
        table=table,
        pieces=pieces,
        changes=changes,
        towns=town_rows,
        events=event_rows,
        overlap_km2=(map_a.overlap_km2, map_b.overlap_km2),
        control=(map_a.frame, map_b.frame),
    )
