"""Events binned into hexagons on a Web Mercator grid (numpy and pandas only).

When a window holds more events than a browser should draw one by one, the map shows them
aggregated here: every event falls into exactly one hexagon of a regular grid laid out in
Web Mercator metres (EPSG:3857, the projection of the map itself), so on screen every
hexagon is regular and all of them have the same size in pixels at a given zoom.

Grid
    Axial coordinates ``(q, r)`` of a pointy-top (default) or flat-top hexagonal grid
    whose origin is Mercator (0, 0) (longitude 0, latitude 0): the same cell size always
    gives the same cells, so hexagons do not move when the map is panned or the time
    window slides. ``cell_size`` is the hexagon's width across its flat sides (the distance
    between the centres of two neighbours), in Mercator metres.
Cell size
    :func:`cell_size_for_zoom` makes a hexagon about ``pixels`` screen pixels across at a
    map zoom; :func:`grow_cell_size` makes it larger, in steps of sqrt(2) (each step about
    halves the number of hexagons a dense region needs), until the events fit in at most
    :data:`MAX_CELLS` hexagons, so the page stays small at any zoom.
Ground size
    A Mercator metre is ``cos(latitude)`` metres on the ground; :attr:`HexBins.width_m`
    gives the ground width at the events' median latitude (what the legend says).

Rows without usable coordinates (missing, non-numeric, outside +-90/+-180) are counted in
:attr:`HexBins.skipped`, never silently dropped. Latitudes beyond Mercator's limit
(+-85.0511) are clamped to it, as the map does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from dashboard import schema

#: WGS84 semi-major axis: the sphere radius of Web Mercator (EPSG:3857).
EARTH_RADIUS = 6_378_137.0
#: Latitude where Web Mercator's square world ends (Leaflet clamps here too).
MAX_LATITUDE = 85.0511287798066
#: Mercator metres per screen pixel at zoom 0 with 256-pixel tiles: 2 pi R / 256.
METRES_PER_PIXEL_Z0 = 2 * math.pi * EARTH_RADIUS / 256
#: Default width of a hexagon on screen, in pixels: room for a count label inside.
HEX_PIXELS = 32.0
#: At most this many hexagons are sent to the page (see :func:`grow_cell_size`).
MAX_CELLS = 20_000
#: Above this many events, ``default_point_mode`` aggregates them into hexagons.
POINTS_MAX = 20_000
#: Each growth step multiplies the cell size by this (and roughly halves the cell count).
GROWTH_STEP = math.sqrt(2.0)
ORIENTATIONS: tuple[str, ...] = ("pointy", "flat")
#: Smallest cell size in metres (a hexagon 1 m wide is finer than any event location).
MIN_CELL_SIZE = 1.0

_SQRT3 = math.sqrt(3.0)
_NO_DAY_MIN = np.iinfo(np.int64).max
_NO_DAY_MAX = np.iinfo(np.int64).min

# Columns of HexBins.cells.
Q = "q"
R = "r"
COUNT = "count"
FATALITIES_KNOWN = "fatalities"
FATALITIES_UNKNOWN = "fatalities_unknown"
FIRST_DATE = "first_date"
LAST_DATE = "last_date"
DOMINANT_TYPE = "dominant_type"
DOMINANT_SHARE = "dominant_share"
CELL_COLUMNS: tuple[str, ...] = (
    Q,
    R,
    schema.LATITUDE,
    schema.LONGITUDE,
    COUNT,
    FATALITIES_KNOWN,
    FATALITIES_UNKNOWN,
    FIRST_DATE,
    LAST_DATE,
    DOMINANT_TYPE,
    DOMINANT_SHARE,
)


@dataclass(frozen=True)
class HexBins:
    """Events aggregated into hexagons.

    Attributes
    ----------
    cells
        One row per non-empty hexagon, ordered by ``(q, r)``: :data:`CELL_COLUMNS`, i.e.
        axial ``q``/``r``, centre ``latitude``/``longitude``, ``count`` of events,
        ``fatalities`` (sum of the known tolls), ``fatalities_unknown`` (events whose
        toll is unknown), ``first_date``/``last_date`` (NaT when no event has a date),
        ``dominant_type`` and ``dominant_share`` (its share of ``count``; ties go to the
        type listed first).
    type_counts
        Events per type, one row per hexagon (same order as ``cells``), one ``int64``
        column per event type; a missing type counts as :data:`schema.UNKNOWN`.
    cell_size
        Hexagon width across the flat sides, in Web Mercator metres.
    orientation
        ``"pointy"`` or ``"flat"`` (top of the hexagon).
    events
        Events aggregated (rows with usable coordinates): ``cells["count"].sum()``.
    skipped
        Rows set aside because a coordinate is missing or out of range.
    latitude
        Median latitude of the aggregated events, each taken at its hexagon's centre
        (NaN when none): where :attr:`width_m` is measured.
    """

    cells: pd.DataFrame
    type_counts: pd.DataFrame
    cell_size: float
    orientation: str
    events: int
    skipped: int
    latitude: float

    @property
    def n_cells(self) -> int:
        """Number of hexagons."""
        return len(self.cells)

    @property
    def radius(self) -> float:
        """Centre-to-corner distance of a hexagon, in Web Mercator metres."""
        return self.cell_size / _SQRT3

    @property
    def width_m(self) -> float:
        """Ground width of a hexagon across its flat sides, in metres, at :attr:`latitude`.

        Mercator stretches distances by ``1 / cos(latitude)``; a hexagon further north is
        smaller on the ground than this, one further south larger (about 4 % per 3 degrees
        at 35 N). Without events, the width at the equator.
        """
        lat = 0.0 if not math.isfinite(self.latitude) else self.latitude
        return self.cell_size * math.cos(math.radians(lat))

    def describe(self) -> str:
        """One sentence for the map: "N events shown as M hexagons (each about X km across)"."""
        events = f"{self.events:,} event{'' if self.events == 1 else 's'}"
        cells = f"{self.n_cells:,} hexagon{'' if self.n_cells == 1 else 's'}"
        each = "" if self.n_cells == 1 else "each "
        return f"{events} shown as {cells} ({each}about {format_distance(self.width_m)} across)"


def default_point_mode(n: int) -> str:
    """How to show ``n`` events by default: ``"points"`` up to :data:`POINTS_MAX`, else
    ``"hexagons"``.

    Up to that many every event stays readable and clickable as a point. Above it points
    hide each other and the page grows by megabytes (the canvas layer itself draws 100k
    without trouble: the limit is about legibility and page size), so they are aggregated
    on the server into hexagons (at most :data:`MAX_CELLS` of them whatever the window).
    Clusters and the heat map stay explicit choices. The app, the HTML export and the
    pictures (PNG, PDF, GIF, MP4) all follow this rule.
    """
    return "points" if n <= POINTS_MAX else "hexagons"


def format_distance(metres: float) -> str:
    """A rounded distance for a reader: ``"850 m"``, ``"2.4 km"``, ``"12 km"``.

    Two significant figures below 10 km, whole kilometres from there.

    Examples
    --------
    >>> [format_distance(m) for m in (849.6, 999.0, 2449.0, 12_345.0)]
    ['850 m', '1.0 km', '2.4 km', '12 km']
    """
    if not math.isfinite(metres) or metres <= 0:
        return "0 m"
    rounded = float(f"{metres:.2g}")
    if rounded < 1000:
        return f"{rounded:,.0f} m"
    if rounded < 10_000:
        return f"{rounded / 1000:.1f} km"
    return f"{round(metres / 1000):,} km"


# --- projection and grid -------------------------------------------------------------------


def mercator(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Web Mercator (EPSG:3857) metres of latitude/longitude in degrees.

    Latitudes are clamped to +-:data:`MAX_LATITUDE` (as Leaflet does).

    Parameters
    ----------
    lat, lon
        Degrees (arrays of the same shape).

    Returns
    -------
    (x, y)
        Easting and northing in metres.
    """
    lat = np.clip(np.asarray(lat, dtype="float64"), -MAX_LATITUDE, MAX_LATITUDE)
    lon = np.asarray(lon, dtype="float64")
    x = EARTH_RADIUS * np.radians(lon)
    y = EARTH_RADIUS * np.log(np.tan(np.pi / 4 + np.radians(lat) / 2))
    return x, y


def mercator_inverse(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude in degrees of Web Mercator metres (inverse of :func:`mercator`)."""
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    lon = np.degrees(x / EARTH_RADIUS)
    lat = np.degrees(2 * np.arctan(np.exp(y / EARTH_RADIUS)) - np.pi / 2)
    return lat, lon


def cell_size_for_zoom(zoom: float, *, pixels: float = HEX_PIXELS) -> float:
    """Hexagon width in Mercator metres that looks ``pixels`` wide at map zoom ``zoom``.

    One screen pixel is ``156543.034 / 2**zoom`` Mercator metres (256-pixel tiles).

    Examples
    --------
    >>> round(cell_size_for_zoom(0, pixels=1), 3)
    156543.034
    >>> cell_size_for_zoom(8, pixels=32) == cell_size_for_zoom(9, pixels=64)
    True
    """
    if not math.isfinite(zoom):
        raise ValueError(f"zoom must be a finite number, not {zoom!r}")
    if not (math.isfinite(pixels) and pixels > 0):
        raise ValueError(f"pixels must be a positive number, not {pixels!r}")
    return float(pixels) * METRES_PER_PIXEL_Z0 / 2.0**zoom


def _check_grid(cell_size: float, orientation: str) -> None:
    if not (
        isinstance(cell_size, (int, float))
        and math.isfinite(cell_size)
        and cell_size >= MIN_CELL_SIZE
    ):
        raise ValueError(
            f"cell_size must be a number of metres from {MIN_CELL_SIZE:g}, not {cell_size!r}"
        )
    if orientation not in ORIENTATIONS:
        raise ValueError(f"orientation must be one of {ORIENTATIONS}, not {orientation!r}")


def hex_axial(
    x: np.ndarray, y: np.ndarray, cell_size: float, *, orientation: str = "pointy"
) -> tuple[np.ndarray, np.ndarray]:
    """Axial coordinates ``(q, r)`` of the hexagon holding each Mercator point.

    Fractional axial coordinates are rounded in cube coordinates (the component that moved
    most is recomputed from the other two), which gives every point exactly one hexagon.
    A point on an edge or corner goes to the same one of its neighbours every time:
    components round half up, and ties between components are settled in a fixed order.

    Parameters
    ----------
    x, y
        Web Mercator metres.
    cell_size
        Hexagon width across the flat sides, in metres.
    orientation
        ``"pointy"``: neighbours side by side along x (``q`` grows eastwards);
        ``"flat"``: neighbours stacked along y.

    Returns
    -------
    (q, r)
        ``int64`` arrays.
    """
    _check_grid(cell_size, orientation)
    x = np.asarray(x, dtype="float64")
    y = np.asarray(y, dtype="float64")
    size = cell_size / _SQRT3  # centre to corner
    if orientation == "pointy":
        fq = (_SQRT3 / 3 * x - y / 3) / size
        fr = (2 / 3 * y) / size
    else:
        fq = (2 / 3 * x) / size
        fr = (-x / 3 + _SQRT3 / 3 * y) / size
    fs = -fq - fr
    rq, rr, rs = np.floor(fq + 0.5), np.floor(fr + 0.5), np.floor(fs + 0.5)
    dq, dr, ds = np.abs(rq - fq), np.abs(rr - fr), np.abs(rs - fs)
    fix_q = (dq > dr) & (dq > ds)
    fix_r = ~fix_q & (dr > ds)
    rq = np.where(fix_q, -rr - rs, rq)
    rr = np.where(fix_r, -rq - rs, rr)
    return rq.astype(np.int64), rr.astype(np.int64)


def hex_centre(
    q: np.ndarray, r: np.ndarray, cell_size: float, *, orientation: str = "pointy"
) -> tuple[np.ndarray, np.ndarray]:
    """Web Mercator centre ``(x, y)`` of the hexagons ``(q, r)`` (inverse of :func:`hex_axial`
    at the centres)."""
    _check_grid(cell_size, orientation)
    q = np.asarray(q, dtype="float64")
    r = np.asarray(r, dtype="float64")
    size = cell_size / _SQRT3
    if orientation == "pointy":
        return size * (_SQRT3 * q + _SQRT3 / 2 * r), size * 1.5 * r
    return size * 1.5 * q, size * (_SQRT3 / 2 * q + _SQRT3 * r)


_KEY_OFFSET = 2**30  # |q|, |r| < 2**30 for any cell over 4 cm wide (the world is 4e7 m)
_KEY_BASE = 2**31


def _cell_keys(q: np.ndarray, r: np.ndarray) -> np.ndarray:
    """One non-negative int64 per cell, ordered as (q, r)."""
    return (q + _KEY_OFFSET) * _KEY_BASE + (r + _KEY_OFFSET)


def _group(q: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cell of each point (0..m-1, cells ordered by (q, r)) and each cell's q and r.

    Hashing (``pd.factorize``) and sorting only the m distinct cells is several times
    faster than ``np.unique``, which sorts all n points.
    """
    codes, uniques = pd.factorize(_cell_keys(q, r))
    order = np.argsort(uniques)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    keys = np.asarray(uniques)[order]
    return rank[codes], keys // _KEY_BASE - _KEY_OFFSET, keys % _KEY_BASE - _KEY_OFFSET


# --- events --------------------------------------------------------------------------------


def _numeric(events: pd.DataFrame, column: str) -> np.ndarray:
    if column not in events.columns:
        return np.full(len(events), np.nan)
    values = pd.to_numeric(events[column], errors="coerce")
    return values.to_numpy(dtype="float64", na_value=np.nan)


def _placed(events: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Latitude, longitude and the positions of rows with usable coordinates."""
    lat = _numeric(events, schema.LATITUDE)
    lon = _numeric(events, schema.LONGITUDE)
    ok = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    kept = np.flatnonzero(ok)
    return lat[kept], lon[kept], kept


def _types(events: pd.DataFrame, event_types: Iterable[str] | None) -> tuple[np.ndarray, list[str]]:
    """Code of each row's event type into a table: the given order first, then the others
    sorted; missing types are :data:`schema.UNKNOWN`."""
    if schema.EVENT_TYPE not in events.columns:
        return np.zeros(len(events), dtype=np.int64), [schema.UNKNOWN] if len(events) else []
    # Factorize first, then clean the few distinct values (not a million rows).
    codes, uniques = pd.factorize(events[schema.EVENT_TYPE], use_na_sentinel=True)
    names = [schema.UNKNOWN if _missing(u) or not str(u).strip() else str(u) for u in uniques]
    if (codes < 0).any():
        names.append(schema.UNKNOWN)  # code -1 picks the last entry
    order = list(dict.fromkeys(str(t) for t in (event_types or ())))
    present = set(names)
    extra = sorted(present - set(order), key=lambda t: (t == schema.UNKNOWN, t))
    table = [t for t in order if t in present] + extra
    position = {t: i for i, t in enumerate(table)}
    remap = np.array([position[t] for t in names], dtype=np.int64)
    return remap[codes], table


def _missing(value: object) -> bool:
    # pd.isna takes any scalar; pandas-stubs' is_scalar does not narrow ``object`` to one.
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))  # type: ignore[call-overload]


def _days(events: pd.DataFrame) -> np.ndarray:
    """Day numbers since 1970-01-01; rows without a date get NaN."""
    if schema.EVENT_DATE not in events.columns:
        return np.full(len(events), np.nan)
    stamps = pd.to_datetime(events[schema.EVENT_DATE], errors="coerce")
    days = stamps.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    out = days.astype(np.int64).astype("float64")
    out[np.isnat(days)] = np.nan
    return out


@dataclass(frozen=True)
class _Projected:
    """The rows with usable coordinates, their Mercator position, and how many were not."""

    rows: pd.DataFrame
    x: np.ndarray
    y: np.ndarray
    skipped: int


def _project(events: pd.DataFrame) -> _Projected:
    lat, lon, kept = _placed(events)
    x, y = mercator(lat, lon)
    return _Projected(events.iloc[kept], x, y, len(events) - len(kept))


def _n_cells(x: np.ndarray, y: np.ndarray, cell_size: float, orientation: str) -> int:
    q, r = hex_axial(x, y, cell_size, orientation=orientation)
    return len(pd.unique(_cell_keys(q, r)))


def count_cells(events: pd.DataFrame, cell_size: float, *, orientation: str = "pointy") -> int:
    """How many hexagons of ``cell_size`` the events with coordinates fall into."""
    placed = _project(events)
    return _n_cells(placed.x, placed.y, cell_size, orientation)


def grow_cell_size(
    events: pd.DataFrame,
    cell_size: float,
    *,
    max_cells: int = MAX_CELLS,
    orientation: str = "pointy",
) -> float:
    """``cell_size``, or the smallest larger size ``cell_size * sqrt(2)**k`` whose hexagons
    number at most ``max_cells``.

    Sizes come from a fixed ladder so that nearby windows (Play, the slider) mostly get the
    same grid instead of one that shifts a little on every step.

    Parameters
    ----------
    events
        Canonical events; only latitude and longitude are read.
    cell_size
        The wanted hexagon width in Mercator metres (e.g. :func:`cell_size_for_zoom`).
    max_cells
        Upper bound on the number of hexagons (at least 1).
    orientation
        Grid orientation (see :func:`hex_axial`).

    Returns
    -------
    float
        The cell size to use (``cell_size`` itself when it already fits).
    """
    placed = _project(events)
    return _grow(placed.x, placed.y, cell_size, max_cells=max_cells, orientation=orientation)


def _grow(
    x: np.ndarray, y: np.ndarray, cell_size: float, *, max_cells: int, orientation: str
) -> float:
    _check_grid(cell_size, orientation)
    if max_cells < 1:
        raise ValueError(f"max_cells must be at least 1, not {max_cells!r}")

    def fits(step: int) -> bool:
        return _n_cells(x, y, cell_size * GROWTH_STEP**step, orientation) <= max_cells

    too_fine, step = -1, 0
    while True:
        n = _n_cells(x, y, cell_size * GROWTH_STEP**step, orientation)
        if n <= max_cells:
            break
        too_fine = step
        # Cells over a filled region go as 1/size**2 and halve per step; over scattered
        # points they fall more slowly: the jump rarely overshoots, and is walked back.
        step += max(1, math.floor(math.log2(n / max_cells)))
    while step - 1 > too_fine and fits(step - 1):
        step -= 1
    return cell_size * GROWTH_STEP**step


def hexbin(
    events: pd.DataFrame,
    *,
    cell_size: float,
    orientation: str = "pointy",
    event_types: Iterable[str] | None = None,
) -> HexBins:
    """Aggregate events into hexagons of ``cell_size`` Mercator metres.

    Parameters
    ----------
    events
        Canonical events (``dashboard.schema`` columns); latitude and longitude are
        required for a row to count, event_type, fatalities and event_date are read when
        present. Fatalities that are missing or negative count as unknown, never as 0.
    cell_size
        Hexagon width across the flat sides, in Mercator metres (at least
        :data:`MIN_CELL_SIZE`).
    orientation
        ``"pointy"`` (default) or ``"flat"``.
    event_types
        Order of the columns of ``type_counts`` (legend order); types not listed follow,
        sorted, with :data:`schema.UNKNOWN` last. Only types present are kept.

    Returns
    -------
    HexBins
        Counts that add up: ``cells["count"].sum() == events``, ``type_counts`` rows sum
        to ``count``, ``events + skipped == len(events)``.
    """
    _check_grid(cell_size, orientation)
    return _bin(_project(events), cell_size, orientation, event_types)


def hexbin_for_zoom(
    events: pd.DataFrame,
    zoom: float,
    *,
    pixels: float = HEX_PIXELS,
    max_cells: int = MAX_CELLS,
    orientation: str = "pointy",
    event_types: Iterable[str] | None = None,
) -> HexBins:
    """Hexagons about ``pixels`` wide at map zoom ``zoom``, grown until at most
    ``max_cells`` of them hold the events (see :func:`grow_cell_size`, :func:`hexbin`)."""
    placed = _project(events)
    size = _grow(
        placed.x,
        placed.y,
        cell_size_for_zoom(zoom, pixels=pixels),
        max_cells=max_cells,
        orientation=orientation,
    )
    return _bin(placed, size, orientation, event_types)


def _bin(
    placed: _Projected,
    cell_size: float,
    orientation: str,
    event_types: Iterable[str] | None,
) -> HexBins:
    rows = placed.rows
    q, r = hex_axial(placed.x, placed.y, cell_size, orientation=orientation)
    cell, cq, cr = _group(q, r)
    m = len(cq)

    count = np.bincount(cell, minlength=m).astype(np.int64)
    fat = _numeric(rows, schema.FATALITIES)
    known = np.isfinite(fat) & (fat >= 0)
    fat_sum = np.bincount(cell, weights=np.where(known, fat, 0.0), minlength=m)
    if np.all(np.mod(fat[known], 1) == 0):  # tolls are counts: keep them integers
        fat_sum = np.rint(fat_sum).astype(np.int64)
    unknown = np.bincount(cell[~known], minlength=m).astype(np.int64)

    days = _days(rows)
    dated = np.isfinite(days)
    first = np.full(m, _NO_DAY_MIN, dtype=np.int64)
    last = np.full(m, _NO_DAY_MAX, dtype=np.int64)
    np.minimum.at(first, cell[dated], days[dated].astype(np.int64))
    np.maximum.at(last, cell[dated], days[dated].astype(np.int64))
    any_date = first != _NO_DAY_MIN

    type_codes, type_table = _types(rows, event_types)
    n_types = len(type_table)
    per_type = np.bincount(cell * n_types + type_codes, minlength=m * n_types).reshape(m, n_types)
    dominant = per_type.argmax(axis=1) if n_types else np.zeros(m, dtype=np.int64)
    names = np.array(type_table + [None], dtype=object)

    centre_lat, centre_lon = mercator_inverse(
        *hex_centre(cq, cr, cell_size, orientation=orientation)
    )
    cells = pd.DataFrame(
        {
            Q: cq,
            R: cr,
            schema.LATITUDE: centre_lat,
            schema.LONGITUDE: centre_lon,
            COUNT: count,
            FATALITIES_KNOWN: fat_sum,
            FATALITIES_UNKNOWN: unknown,
            FIRST_DATE: _to_dates(first, any_date),
            LAST_DATE: _to_dates(last, any_date),
            DOMINANT_TYPE: names[dominant if n_types else np.full(m, -1)],
            DOMINANT_SHARE: per_type[np.arange(m), dominant] / np.maximum(count, 1)
            if n_types
            else np.zeros(m),
        }
    )
    type_counts = pd.DataFrame(per_type.astype(np.int64), columns=pd.Index(type_table))
    return HexBins(
        cells=cells,
        type_counts=type_counts,
        cell_size=float(cell_size),
        orientation=orientation,
        events=len(rows),
        skipped=placed.skipped,
        latitude=_weighted_median(centre_lat, count),
    )


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    """Median of ``values`` repeated ``weights`` times (NaN when empty)."""
    if not len(values):
        return math.nan
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def _to_dates(days: np.ndarray, valid: np.ndarray) -> pd.Series:
    out = np.where(valid, days, 0).astype("datetime64[D]").astype("datetime64[s]")
    return pd.Series(out).where(valid, pd.NaT)
