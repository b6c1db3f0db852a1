"""Seeded synthetic events and control-area versions for benchmarks (and randomised tests).

Nothing here is real: points are scattered around made-up "towns" in a Syria/Iraq bounding
box and the control areas are a grid of cells whose controller and boundary change over
2014-2019. The generators are deterministic for a given seed.

Areas. ``versions / 15`` grid cells, each with 10-20 successive versions (about 15 on
average). Real control-area versions are irregular polygons with many vertices whose
boundary moves from one version to the next, so every version here is a *distinct*
polygon: a star-shaped ring of ``vertices`` points (200 by default) around the cell centre,
at the distance of the cell's own edge in that direction times a factor

    f(theta) = 1.02 + (smooth noise: 8 random harmonics, the cell's own shape plus a
               per-version change) + (a small per-vertex jitter)
               + (for one version in five: a bulge of up to +30 % towards a random side,
               a front advancing into the neighbouring cell)

clipped to [0.5, 1.5]. Angles increase strictly and radii are positive, so every ring is
simple and every polygon valid. The factor wanders around 1 (standard deviation ~0.07), so
neighbouring cells overlap slightly along their edges (contested points where their
controllers differ) and leave slivers of no-one's land elsewhere, as digitised control maps
do. Why ~200 vertices: in the OCHA Syria "areas of influence" snapshots in ../shared/data
(2015-05-24, 2015-11-29) the median polygon has only 23-28 vertices (many tiny enclaves),
but the median *by area* - which is what a point falls into - has 483-795 vertices, and
>90 % of the area lies in polygons with >= 100 vertices. About one version in twenty ends
up to a month before the next starts (a gap in time: no area) and the last version of
every cell is open-ended.

Events. Clustered points, mostly repeating a set of places as real geocoded events do (1 %
of the places lie exactly on a vertex of an area's boundary, some events have no
coordinates), dates over 2014-2019, a window of one day, a week or a month, geo_precision
1-3.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from dashboard.schema import (
    AREA_ID,
    CONTROLLER,
    CONTROLLERS,
    DATE_END,
    DATE_START,
    EVENT_DATE,
    EVENT_ID,
    GEO_PRECISION,
    LATITUDE,
    LONGITUDE,
    VALID_FROM,
    VALID_TO,
)

# lon/lat box around Syria and Iraq
BBOX = (35.5, 29.0, 48.5, 37.5)
FIRST_DAY = np.datetime64("2014-01-01", "D")
LAST_DAY = np.datetime64("2019-12-31", "D")

_HARMONICS = 8  # smooth boundary noise: cos/sin terms of order 1..8
_CELL_SHAPE = 0.05  # amplitude of order 1 of a cell's own shape (order h: /h)
_VERSION_MOVE = 0.03  # amplitude of order 1 of the change from version to version
_JITTER = 0.008  # per-vertex noise (the "densified", digitised look)
_ADVANCE_SHARE = 0.2  # versions pushing a front into a neighbour
_ADVANCE = 0.3
_BLOCK = 4_096  # polygons generated at once: bounds the temporary arrays (~50 MB)


@dataclass(frozen=True)
class _Grid:
    """The cells: cell c is column c // ny, row c % ny."""

    xs: np.ndarray  # nx + 1 column edges
    ys: np.ndarray  # ny + 1 row edges

    @property
    def n_cells(self) -> int:
        return (len(self.xs) - 1) * (len(self.ys) - 1)


def synthetic_areas(
    versions: int = 40_000, *, vertices: int = 200, seed: int = 0
) -> gpd.GeoDataFrame:
    """Control-area versions: irregular polygons on a grid of cells, about ``versions`` rows.

    Every cell has 10-20 successive versions (scaled so that the total is ``versions``).
    Each version's polygon is the cell with a moved, noisy boundary (see the module
    docstring): valid, different for every version, slightly overlapping the neighbouring
    cells' versions at the edges.

    Parameters
    ----------
    versions
        Target number of versions (the result is within a few percent of it).
    vertices
        Points on each polygon's ring, the closing point not counted; at least 8.
    seed
        Random seed: the same arguments give the same frame.

    Returns
    -------
    geopandas.GeoDataFrame
        AREA_ID (``c<cell>-v<version>``), CONTROLLER, VALID_FROM, VALID_TO (NaT =
        open-ended) and geometry (Polygons, EPSG:4326); rows by cell, then by time.
    """
    if vertices < 8:
        raise ValueError(f"vertices must be at least 8, got {vertices!r}")
    rng = np.random.default_rng(seed)
    grid = _grid(versions)
    per_cell = rng.integers(10, 21, size=grid.n_cells)
    per_cell = np.maximum(1, np.round(per_cell * versions / per_cell.sum()).astype(int))
    cell = np.repeat(np.arange(grid.n_cells), per_cell)
    serial = np.arange(len(cell)) - np.repeat(np.cumsum(per_cell) - per_cell, per_cell)
    start, end = _version_dates(rng, per_cell)
    controller = _version_controllers(rng, cell, serial)
    geometry = _version_polygons(rng, grid, cell, vertices)
    ids = pd.Series(cell).astype(str).radd("c") + "-v" + pd.Series(serial).astype(str)
    return gpd.GeoDataFrame(
        {
            AREA_ID: pd.array(ids, dtype="string"),
            CONTROLLER: pd.array(controller, dtype="string"),
            VALID_FROM: pd.Series(start).astype("datetime64[s]"),
            VALID_TO: pd.Series(end).astype("datetime64[s]"),
        },
        geometry=geometry,
        crs="EPSG:4326",
    )


def _grid(versions: int) -> _Grid:
    """About ``versions / 15`` cells over BBOX, a little wider than high (as BBOX is)."""
    n_cells = max(1, round(versions / 15))
    nx = max(1, round(math.sqrt(n_cells * 1.3)))
    ny = max(1, math.ceil(n_cells / nx))
    return _Grid(np.linspace(BBOX[0], BBOX[2], nx + 1), np.linspace(BBOX[1], BBOX[3], ny + 1))


def _version_dates(rng: np.random.Generator, per_cell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Successive [start, end) per version, cell by cell (datetime64[D]; end NaT = open).

    A cell's k versions cut 2014-2019 at k - 1 distinct sorted days; about one version in
    twenty (never the last) ends 1-29 days before the next starts.
    """
    span = int((LAST_DAY - FIRST_DAY).astype(int))
    n_cells, total = len(per_cell), int(per_cell.sum())
    cuts_per_cell = per_cell - 1
    cut_cell = np.repeat(np.arange(n_cells), cuts_per_cell)
    # k - 1 sorted draws from [1, span - k + 1] plus their rank: distinct and sorted
    room = span - 1 - (per_cell[cut_cell] - 2)
    draw = 1 + np.floor(rng.random(len(cut_cell)) * room).astype(np.int64)
    draw = draw[np.lexsort((draw, cut_cell))]
    rank = np.arange(len(cut_cell)) - np.repeat(
        np.cumsum(cuts_per_cell) - cuts_per_cell, cuts_per_cell
    )
    cuts = draw + rank

    last = np.cumsum(per_cell) - 1  # the last version of each cell
    first = last - per_cell + 1
    is_first = np.zeros(total, dtype=bool)
    is_first[first] = True
    is_last = np.zeros(total, dtype=bool)
    is_last[last] = True
    start_day = np.zeros(total, dtype=np.int64)
    start_day[~is_first] = cuts
    end_day = np.full(total, -1, dtype=np.int64)
    end_day[~is_last] = cuts
    gap = (rng.random(total) < 0.05) & ~is_last  # ends early: nobody's area for a while
    shorten = rng.integers(1, 30, size=total)
    early = gap & (end_day - shorten > start_day)
    end_day[early] -= shorten[early]

    start = FIRST_DAY + start_day.astype("timedelta64[D]")
    end = FIRST_DAY + end_day.astype("timedelta64[D]")
    end[is_last] = np.datetime64("NaT", "D")
    return start, end


def _version_controllers(
    rng: np.random.Generator, cell: np.ndarray, serial: np.ndarray
) -> np.ndarray:
    """Controller per version: a cell starts with a non-contested holder, which changes
    (possibly to itself or to Contested) with probability 0.6 at every new version."""
    names = np.array(CONTROLLERS, dtype=object)
    n = len(cell)
    first = serial == 0
    candidate = rng.integers(0, len(names), size=n)
    candidate[first] = rng.integers(0, len(names) - 1, size=int(first.sum()))
    change = first | (rng.random(n) < 0.6)
    holder_at = np.maximum.accumulate(np.where(change, np.arange(n), 0))
    return names[candidate[holder_at]]


def _version_polygons(
    rng: np.random.Generator, grid: _Grid, cell: np.ndarray, vertices: int
) -> np.ndarray:
    """One valid star-shaped Polygon of ``vertices`` points per version (module docstring)."""
    ny = len(grid.ys) - 1
    col, row = np.divmod(np.arange(grid.n_cells), ny)
    centre = np.column_stack(
        [(grid.xs[col] + grid.xs[col + 1]) / 2, (grid.ys[row] + grid.ys[row + 1]) / 2]
    )
    half = np.column_stack(
        [(grid.xs[col + 1] - grid.xs[col]) / 2, (grid.ys[row + 1] - grid.ys[row]) / 2]
    )
    order = np.arange(1, _HARMONICS + 1)
    # cos/sin coefficients: the cell's own shape plus each version's move
    shape = rng.normal(0, 1, (grid.n_cells, 2, _HARMONICS)) * (_CELL_SHAPE / order)
    coef = shape[cell] + rng.normal(0, 1, (len(cell), 2, _HARMONICS)) * (_VERSION_MOVE / order)
    advance = rng.random(len(cell)) < _ADVANCE_SHARE
    front = rng.uniform(0, 2 * np.pi, len(cell))
    offset = rng.uniform(0, 2 * np.pi / vertices, len(cell))

    out = np.empty(len(cell), dtype=object)
    step = 2 * np.pi / vertices
    for a in range(0, len(cell), _BLOCK):
        sl = slice(a, min(a + _BLOCK, len(cell)))
        m = sl.stop - sl.start
        # strictly increasing angles: jitter below half a step
        theta = offset[sl, None] + step * (
            np.arange(vertices) + rng.uniform(-0.35, 0.35, (m, vertices))
        )
        factor = 1.02 + rng.normal(0, _JITTER, (m, vertices))
        for h in range(_HARMONICS):
            factor += coef[sl, 0, h, None] * np.cos((h + 1) * theta)
            factor += coef[sl, 1, h, None] * np.sin((h + 1) * theta)
        bulge = np.maximum(np.cos(theta - front[sl, None]), 0) ** 6
        factor += np.where(advance[sl, None], _ADVANCE * bulge, 0)
        np.clip(factor, 0.5, 1.5, out=factor)
        cos, sin = np.cos(theta), np.sin(theta)
        hx, hy = half[cell[sl], 0, None], half[cell[sl], 1, None]
        # distance from the centre to the cell's edge in direction theta
        edge = np.minimum(hx / np.maximum(np.abs(cos), 1e-12), hy / np.maximum(np.abs(sin), 1e-12))
        radius = edge * factor
        ring = np.empty((m, vertices + 1, 2))
        ring[:, :-1, 0] = centre[cell[sl], 0, None] + radius * cos
        ring[:, :-1, 1] = centre[cell[sl], 1, None] + radius * sin
        ring[:, -1] = ring[:, 0]
        out[sl] = shapely.polygons(ring)
    return out


def synthetic_events(
    n: int = 1_000_000,
    *,
    seed: int = 1,
    areas: gpd.GeoDataFrame | None = None,
    places: int | None = 20_000,
) -> pd.DataFrame:
    """Clustered events in the Syria/Iraq box.

    Real event data is geocoded to gazetteer places, so coordinates repeat: the UCDP GED
    Syria/Iraq 2014-2018 extract in ../shared/data has 33,371 events at 2,623 distinct
    coordinates. By default 95 % of the events sit exactly on one of ``places`` places and
    5 % have coordinates of their own; ``places=None`` gives every event its own coordinates
    (the worst case for the join).

    Parameters
    ----------
    n
        Number of events.
    seed
        Random seed.
    areas
        If given, about 1 % of the places (or points) are moved exactly onto the boundary of
        one of these polygons (its first vertex): on an edge, where the border tie-break
        and the "strict interior beats a boundary" rule apply.
    places
        Number of distinct places, or None for no repetition.

    Returns
    -------
    pandas.DataFrame
        EVENT_ID, EVENT_DATE, DATE_START, DATE_END, LATITUDE, LONGITUDE (0.5 % NaN),
        GEO_PRECISION.
    """
    rng = np.random.default_rng(seed)
    m = n if places is None else places
    towns = np.column_stack(
        [rng.uniform(BBOX[0], BBOX[2], 300), rng.uniform(BBOX[1], BBOX[3], 300)]
    )
    weight = rng.pareto(1.2, len(towns)) + 1
    town = rng.choice(len(towns), size=m, p=weight / weight.sum())
    spread = rng.choice([0.02, 0.1, 0.4], size=m, p=[0.5, 0.35, 0.15])
    lon = towns[town, 0] + rng.normal(0, 1, m) * spread
    lat = towns[town, 1] + rng.normal(0, 1, m) * spread
    scatter = rng.random(m) < 0.1
    lon[scatter] = rng.uniform(BBOX[0], BBOX[2], scatter.sum())
    lat[scatter] = rng.uniform(BBOX[1], BBOX[3], scatter.sum())
    if areas is not None and len(areas):
        on_border = np.flatnonzero(rng.random(m) < 0.01)
        picked = np.asarray(areas.geometry.array)[rng.integers(0, len(areas), len(on_border))]
        lon[on_border], lat[on_border] = _first_vertex(picked).T
    if places is not None:
        # events per place are skewed too: a few places have most events
        pick = rng.choice(m, size=n, p=(w := rng.pareto(1.0, m) + 1) / w.sum())
        lon, lat = lon[pick], lat[pick]
        own = rng.random(n) < 0.05
        lon[own] += rng.normal(0, 0.05, own.sum())
        lat[own] += rng.normal(0, 0.05, own.sum())
    unlocated = rng.random(n) < 0.005
    lon[unlocated] = np.nan
    lat[unlocated] = np.nan

    span = int((LAST_DAY - FIRST_DAY).astype(int))
    day = FIRST_DAY + rng.integers(0, span + 1, n).astype("timedelta64[D]")
    width = rng.choice([0, 6, 30], size=n, p=[0.7, 0.2, 0.1]).astype("timedelta64[D]")
    start = day - (rng.random(n) * width.astype(int)).astype(int).astype("timedelta64[D]")
    return pd.DataFrame(
        {
            EVENT_ID: pd.array([f"e{i}" for i in range(n)], dtype="string"),
            EVENT_DATE: pd.Series(day).astype("datetime64[s]"),
            DATE_START: pd.Series(start).astype("datetime64[s]"),
            DATE_END: pd.Series(start + width).astype("datetime64[s]"),
            LATITUDE: lat,
            LONGITUDE: lon,
            GEO_PRECISION: rng.choice([1, 2, 3], size=n, p=[0.7, 0.2, 0.1]),
        }
    )


def _first_vertex(geoms: np.ndarray) -> np.ndarray:
    """(x, y) of the first coordinate of each geometry: a point on its boundary."""
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    _, first = np.unique(owner, return_index=True)
    return coords[first]
