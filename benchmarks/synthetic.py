"""Seeded synthetic events and control-area versions for benchmarks (and randomised tests).

A thin layer over :mod:`dashboard.synth`, which holds the one control-area generator
(:func:`dashboard.synth.area_versions`, irregular polygon versions over a grid of cells;
see its docstring) and the realistic town-based events that ``conflictmap synth`` writes.

What stays here is the join benchmark's own event generator, :func:`synthetic_events`:
points scattered around 300 made-up "towns" in the Syria/Iraq box, mostly repeating a set of
places as real geocoded events do (1 % of the places lie exactly on a vertex of an area's
boundary, some events have no coordinates), dates over 2014-2019, a window of one day, a
week or a month, geo_precision 1-3. It exists for the join's worst cases (``places=None``:
every event its own point; points on borders), which the realistic events do not aim at.
The generators are deterministic for a given seed.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from dashboard.schema import (
    DATE_END,
    DATE_START,
    EVENT_DATE,
    EVENT_ID,
    GEO_PRECISION,
    LATITUDE,
    LONGITUDE,
)
from dashboard.synth import BBOX, FIRST_DAY, LAST_DAY, area_versions

__all__ = ["BBOX", "FIRST_DAY", "LAST_DAY", "synthetic_areas", "synthetic_events"]


def synthetic_areas(
    versions: int = 40_000, *, vertices: int = 200, seed: int = 0
) -> gpd.GeoDataFrame:
    """Control-area versions: :func:`dashboard.synth.area_versions` (same arguments)."""
    return area_versions(versions, vertices=vertices, seed=seed)


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
