"""Areas of lon/lat polygons in km², measured in one equal-area projection.

Every km² the product states (the comparison of two dates, the ground of a control-area
feature that was set aside or repaired) comes from :func:`area_km2`, so the figures of the
command line, the app and the exports agree. The projection is **EPSG:6933** (WGS 84 /
NSIDC EASE-Grid 2.0 Global, Lambert cylindrical equal-area); why this one is explained in
:mod:`dashboard.compare`.
"""

from __future__ import annotations

from collections.abc import Iterable

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

__all__ = ["DENSIFY_DEGREES", "EQUAL_AREA_CRS", "area_km2", "format_km2", "polygonal_part"]

#: The equal-area CRS every area is measured in.
EQUAL_AREA_CRS = "EPSG:6933"
#: Edges are split to at most this many degrees before projecting (about 11 km).
DENSIFY_DEGREES = 0.1

_WGS84 = "EPSG:4326"
_POLYGONAL = frozenset({"Polygon", "MultiPolygon"})


def area_km2(geometries: Iterable[shapely.Geometry | None] | gpd.GeoSeries) -> np.ndarray:
    """Area in km² of lon/lat (EPSG:4326) geometries, measured in :data:`EQUAL_AREA_CRS`.

    Edges are split every :data:`DENSIFY_DEGREES` degrees first, so a long edge that is
    straight in lon/lat keeps its course when projected. Missing geometries measure 0.
    An invalid polygon (a self-intersecting bow-tie) measures what shapely says of it,
    which is the figure a naive computation would state: repair it first for its ground.
    """
    geoms = np.asarray(
        geometries.array if isinstance(geometries, gpd.GeoSeries) else list(geometries),
        dtype=object,
    )
    if not len(geoms):
        return np.zeros(0)
    missing = shapely.is_missing(geoms)
    dense = np.array(geoms, dtype=object)
    dense[~missing] = shapely.segmentize(geoms[~missing], DENSIFY_DEGREES)
    projected = gpd.GeoSeries(dense, crs=_WGS84).to_crs(EQUAL_AREA_CRS)
    return np.where(missing, 0.0, projected.area.to_numpy() / 1e6)


def format_km2(value: float) -> str:
    """km² for people: whole numbers with thousands separators, one decimal below 10."""
    return f"{value:,.0f}" if abs(value) >= 10 or value == 0 else f"{value:,.1f}"


def polygonal_part(geom: BaseGeometry | None) -> BaseGeometry | None:
    """The Polygon/MultiPolygon part of a geometry; None when it has no area.

    ``make_valid`` can return a collection with lines and points beside the polygons (the
    crossing point of a bow-tie, a spike): only the polygons describe ground.
    """
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type in _POLYGONAL:
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in _POLYGONAL and not p.is_empty]
    polygons = [q for p in parts for q in shapely.get_parts(p)]
    if not polygons:
        return None
    return polygons[0] if len(polygons) == 1 else shapely.MultiPolygon(polygons)
