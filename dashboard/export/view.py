"""Which view an export shows: the app's :class:`ViewState`, its events and areas, its extent.

A view is the app's own :class:`~dashboard.viewstate.ViewState` (date, window, filters,
layers, map centre and zoom), so a dashboard permalink is parsed by the app's parser
(:func:`view_from_url`) and an export shows exactly what the app shows for it:

* events: ``timewindow.select`` on the same date-sorted events and date index;
* control areas: ``areas.areas_at`` on the as-of date;
* extent: ``--bbox`` when given; else the map centre and zoom of the permalink, over the
  size of the app's map (:data:`APP_MAP_PX`); else the extent of all the data (every
  control area and every placed event, whatever the date), so the frames of an animation
  share one extent.
"""

from __future__ import annotations

import datetime as dt
import math
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from dashboard import schema
from dashboard.areas import areas_at
from dashboard.export.data import ExportData
from dashboard.timewindow import Selection, select, step_date
from dashboard.viewstate import Notice, Options, ViewState, parse_query, to_query

#: Web Mercator sphere radius (EPSG:3857), as Leaflet and ``dashboard.aggregate`` use it.
EARTH_RADIUS = 6_378_137.0
MAX_LATITUDE = 85.0511287798066
#: Size in CSS pixels of the app's map (``mapview.MAP_HEIGHT`` and the width its default
#: view is framed for): a permalink's centre and zoom cover this much ground.
APP_MAP_PX: tuple[int, int] = (1000, 620)
#: Share of the extent left as margin around the data in the default framing.
DATA_MARGIN = 0.04
#: An animation has at most this many frames.
MAX_FRAMES = 400


def to_mercator(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Web Mercator metres of lon/lat degrees (latitudes clamped as Leaflet does)."""
    lon = np.asarray(lon, dtype=float)
    lat = np.clip(np.asarray(lat, dtype=float), -MAX_LATITUDE, MAX_LATITUDE)
    x = EARTH_RADIUS * np.radians(lon)
    y = EARTH_RADIUS * np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))
    return x, y


def from_mercator(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lon/lat degrees of Web Mercator metres."""
    lon = np.degrees(np.asarray(x, dtype=float) / EARTH_RADIUS)
    lat = np.degrees(2 * np.arctan(np.exp(np.asarray(y, dtype=float) / EARTH_RADIUS)) - np.pi / 2)
    return lon, lat


def parse_bbox(text: str) -> tuple[float, float, float, float]:
    """``"minx,miny,maxx,maxy"`` (lon/lat degrees) as four floats, checked.

    Raises
    ------
    ValueError
        Not four numbers, out of range, or empty.
    """
    parts = [p.strip() for p in str(text).split(",")]
    if len(parts) != 4:
        raise ValueError(f"bbox {text!r}: expected minx,miny,maxx,maxy (four numbers)")
    try:
        minx, miny, maxx, maxy = (float(p) for p in parts)
    except ValueError:
        raise ValueError(f"bbox {text!r}: expected minx,miny,maxx,maxy (four numbers)") from None
    values = (minx, miny, maxx, maxy)
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"bbox {text!r}: numbers must be finite")
    if not (-180 <= minx < maxx <= 180):
        raise ValueError(f"bbox {text!r}: longitudes must satisfy -180 <= minx < maxx <= 180")
    if not (-85 <= miny < maxy <= 85):
        raise ValueError(f"bbox {text!r}: latitudes must satisfy -85 <= miny < maxy <= 85")
    return values


def view_from_url(url: str, options: Options) -> tuple[ViewState, list[Notice]]:
    """Parse a dashboard permalink (``http://host/?date=...&window=...``, or just its query).

    The app's own parser reads it, so every parameter the app would ignore is ignored here
    too, with the same notice.
    """
    text = str(url).strip()
    query = urllib.parse.urlsplit(text).query if ("?" in text or "://" in text) else text
    params = urllib.parse.parse_qs(query, keep_blank_values=True)
    return parse_query(params, options)


def permalink_query(view: ViewState) -> str:
    """The query string of a view's permalink (``date=...&window=...``)."""
    return urllib.parse.urlencode(to_query(view), doseq=True, safe=",")


@dataclass(frozen=True)
class Frame:
    """What one view draws."""

    view: ViewState
    areas: gpd.GeoDataFrame  # control areas valid on the as-of date
    events: pd.DataFrame  # events of the window that pass the filters
    placed: pd.DataFrame  # those of them with usable coordinates
    selection: Selection

    @property
    def unplaced(self) -> int:
        return len(self.events) - len(self.placed)


@dataclass(frozen=True)
class InFrame:
    """What of a :class:`Frame` lies inside the extent drawn (its legend and counts), and
    how many events of the window fall outside it (said beside the counts)."""

    frame: Frame
    events_outside: int = 0


def within(frame: Frame, bbox: tuple[float, float, float, float]) -> InFrame:
    """``frame`` cut to ``bbox`` (degrees west, south, east, north): the areas that reach
    into it, the located events inside it and every event without a place (those are
    counted apart, wherever they are)."""
    west, south, east, north = bbox
    placed = frame.placed
    if len(placed):
        lat = pd.to_numeric(placed[schema.LATITUDE], errors="coerce").to_numpy(dtype=float)
        lon = pd.to_numeric(placed[schema.LONGITUDE], errors="coerce").to_numpy(dtype=float)
        inside = (lon >= west) & (lon <= east) & (lat >= south) & (lat <= north)
        placed_in = placed.loc[inside]
    else:
        placed_in = placed
    outside = len(placed) - len(placed_in)
    events = frame.events.drop(index=placed.index.difference(placed_in.index))
    areas = frame.areas
    if len(areas):
        geoms = areas.geometry.array
        keep = ~(pd.isna(geoms)) & shapely.intersects(geoms, shapely.box(*bbox))
        areas = areas.loc[np.asarray(keep, dtype=bool)]
    cut = Frame(
        view=frame.view, areas=areas, events=events, placed=placed_in, selection=frame.selection
    )
    return InFrame(cut, outside)


def placed_rows(events: pd.DataFrame) -> pd.DataFrame:
    """Events with finite, in-range coordinates (the rest cannot be drawn)."""
    if not len(events):
        return events
    lat = pd.to_numeric(events[schema.LATITUDE], errors="coerce").to_numpy(dtype=float)
    lon = pd.to_numeric(events[schema.LONGITUDE], errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    return events.loc[ok]


def resolve_frame(data: ExportData, view: ViewState) -> Frame:
    """The events (window, then filters) and the control areas of one view."""
    selection = select(
        data.events, data.index, as_of=view.as_of, window_days=view.window, filters=view.filters
    )
    shown = data.events.iloc[selection.positions]
    areas = areas_at(data.areas, view.as_of) if len(data.areas) else data.areas
    return Frame(
        view=view, areas=areas, events=shown, placed=placed_rows(shown), selection=selection
    )


def data_extent(data: ExportData) -> tuple[float, float, float, float] | None:
    """Lon/lat bounds of every control area and every placed event (any date)."""
    boxes: list[tuple[float, float, float, float]] = []
    if len(data.areas):
        b = data.areas.total_bounds
        if np.isfinite(b).all():
            boxes.append(tuple(float(v) for v in b))  # type: ignore[arg-type]
    placed = placed_rows(data.events)
    if data.events_extent is not None:  # events of some dates only: the data's own extent
        boxes.append(data.events_extent)
    elif len(placed):
        lon = pd.to_numeric(placed[schema.LONGITUDE]).to_numpy(dtype=float)
        lat = pd.to_numeric(placed[schema.LATITUDE]).to_numpy(dtype=float)
        boxes.append((lon.min(), lat.min(), lon.max(), lat.max()))
    if not boxes:
        return None
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def view_extent(
    data: ExportData,
    view: ViewState,
    bbox: Sequence[float] | None = None,
) -> tuple[float, float, float, float]:
    """The Web Mercator extent (minx, miny, maxx, maxy) to show, before fitting the frame.

    ``bbox`` (lon/lat) wins; then the permalink's centre and zoom; then all the data with a
    small margin; with no data, Syria and Iraq.
    """
    if bbox is not None:
        x, y = to_mercator(np.array([bbox[0], bbox[2]]), np.array([bbox[1], bbox[3]]))
        return float(x[0]), float(y[0]), float(x[1]), float(y[1])
    if view.center is not None and view.zoom is not None:
        cx, cy = to_mercator(np.array([view.center[1]]), np.array([view.center[0]]))
        metres_per_px = 2 * math.pi * EARTH_RADIUS / 256 / 2**view.zoom
        half_w = APP_MAP_PX[0] / 2 * metres_per_px
        half_h = APP_MAP_PX[1] / 2 * metres_per_px
        return (
            float(cx[0] - half_w),
            float(cy[0] - half_h),
            float(cx[0] + half_w),
            float(cy[0] + half_h),
        )
    box = data_extent(data) or (35.5, 29.0, 48.8, 37.5)
    x, y = to_mercator(np.array([box[0], box[2]]), np.array([box[1], box[3]]))
    w = max(float(x[1] - x[0]), 5_000.0)
    h = max(float(y[1] - y[0]), 5_000.0)
    return (
        float(x[0]) - DATA_MARGIN * w,
        float(y[0]) - DATA_MARGIN * h,
        float(x[1]) + DATA_MARGIN * w,
        float(y[1]) + DATA_MARGIN * h,
    )


def fit_extent(extent: Sequence[float], aspect: float) -> tuple[float, float, float, float]:
    """``extent`` grown (never cut) about its centre to the width/height ratio ``aspect``."""
    minx, miny, maxx, maxy = (float(v) for v in extent)
    w, h = maxx - minx, maxy - miny
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    if w / h < aspect:
        w = h * aspect
    else:
        h = w / aspect
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


def animation_dates(start: dt.date, end: dt.date, step: str) -> list[dt.date]:
    """The dates of an animation: ``start``, then one ``step`` (day/week/month) at a time,
    up to and including ``end`` (which is always the last frame).

    Raises
    ------
    ValueError
        ``end`` before ``start``, an unknown step, or more than :data:`MAX_FRAMES` frames.
    """
    if end < start:
        raise ValueError(
            f"the animation ends ({end.isoformat()}) before it starts ({start.isoformat()})"
        )
    dates = [start]
    while dates[-1] < end:
        following = step_date(dates[-1], step, 1)
        dates.append(min(following, end))
        if len(dates) > MAX_FRAMES:
            raise ValueError(
                f"{start.isoformat()} to {end.isoformat()} by {step} is more than "
                f"{MAX_FRAMES} frames; choose a longer step or a shorter range"
            )
    return dates
