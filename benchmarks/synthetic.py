"""Seeded synthetic events and control-area versions for benchmarks (and randomised tests).

Nothing here is real: points are scattered around made-up "towns" in a Syria/Iraq bounding
box and the control areas are a grid of cells whose controller changes over 2014-2019. The
generator is deterministic for a given seed.

Areas: ``cells`` grid cells, each with 10-20 successive versions (about 15 on average, so
``versions`` ~ 15 x cells). Most versions reuse the cell's square; about one in five is the
cell grown by 15 % on every side, so it overlaps its neighbours (contested points, more
distinct geometries); a few cells have gaps in time (no area) and the last version of every
cell is open-ended.

Events: clustered points, mostly repeating a set of places as real geocoded events do (some
exactly on cell borders, some without coordinates), dates over 2014-2019, a window of one
day, a week or a month, geo_precision 1-3.
"""

from __future__ import annotations

import math

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


def synthetic_areas(versions: int = 40_000, *, seed: int = 0) -> gpd.GeoDataFrame:
    """Control-area versions on a grid, about ``versions`` rows in all.

    Parameters
    ----------
    versions
        Target number of versions (the result is within a few percent of it).
    seed
        Random seed.

    Returns
    -------
    geopandas.GeoDataFrame
        AREA_ID, CONTROLLER, VALID_FROM, VALID_TO (NaT = open-ended), geometry (EPSG:4326).
    """
    rng = np.random.default_rng(seed)
    n_cells = max(1, round(versions / 15))
    nx = max(1, round(math.sqrt(n_cells * 1.3)))
    ny = max(1, math.ceil(n_cells / nx))
    xs = np.linspace(BBOX[0], BBOX[2], nx + 1)
    ys = np.linspace(BBOX[1], BBOX[3], ny + 1)
    # aim at `versions` in total: per-cell counts 10-20, scaled to the target
    per_cell = rng.integers(10, 21, size=nx * ny)
    per_cell = np.maximum(1, np.round(per_cell * versions / per_cell.sum()).astype(int))
    span = int((LAST_DAY - FIRST_DAY).astype(int))

    ids: list[str] = []
    controllers: list[str] = []
    starts: list[np.ndarray] = []
    ends: list[np.ndarray] = []
    geoms: list[shapely.Geometry] = []
    names = np.array(CONTROLLERS, dtype=object)
    for cell in range(nx * ny):
        i, j = divmod(cell, ny)
        x0, x1, y0, y1 = xs[i], xs[i + 1], ys[j], ys[j + 1]
        square = shapely.box(x0, y0, x1, y1)
        grown = shapely.box(
            x0 - 0.15 * (x1 - x0),
            y0 - 0.15 * (y1 - y0),
            x1 + 0.15 * (x1 - x0),
            y1 + 0.15 * (y1 - y0),
        )
        k = per_cell[cell]
        cuts = np.sort(rng.choice(np.arange(1, span), size=k - 1, replace=False))
        start = FIRST_DAY + np.r_[0, cuts].astype("timedelta64[D]")
        end = np.r_[FIRST_DAY + cuts.astype("timedelta64[D]"), np.datetime64("NaT", "D")]
        gap = rng.random(k) < 0.05  # a version that ends early: nobody's area for a while
        gap[-1] = False
        shorten = (rng.integers(1, 30, size=k)).astype("timedelta64[D]")
        end = np.where(gap & (end - shorten > start), end - shorten, end)
        holder = rng.integers(0, len(names) - 1)
        for v in range(k):
            if rng.random() < 0.6:
                holder = rng.integers(0, len(names))
            controllers.append(names[holder])
            geoms.append(grown if rng.random() < 0.2 else square)
            ids.append(f"c{cell}-v{v}")
        starts.append(start)
        ends.append(end)
    return gpd.GeoDataFrame(
        {
            AREA_ID: pd.array(ids, dtype="string"),
            CONTROLLER: pd.array(controllers, dtype="string"),
            VALID_FROM: pd.Series(np.concatenate(starts)).astype("datetime64[s]"),
            VALID_TO: pd.Series(np.concatenate(ends)).astype("datetime64[s]"),
        },
        geometry=geoms,
        crs="EPSG:4326",
    )


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
        If given, about 1 % of the places (or points) are moved exactly onto the west edge of
        one of these polygons, half-way up: a shared border of two grid cells.
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
        b = shapely.bounds(
            np.asarray(areas.geometry.array)[rng.integers(0, len(areas), len(on_border))]
        )
        lon[on_border] = b[:, 0]
        lat[on_border] = (b[:, 1] + b[:, 3]) / 2
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
