"""The map without tiles: land, lakes, rivers, borders and country names from ``geodata/``.

``geodata/basemap.geojson`` (Natural Earth, derived by ``geodata/derive_basemap.py``) holds
one feature per ``kind``: ``land`` (polygons whose edge is the coastline), ``lake``,
``river``, ``border`` (land borders as lines), and per country a ``label`` point and a coarse
``country`` outline (for placing its name in a picture that cuts it). The app's
"no tiles" map (:func:`dashboard.layers.context_layer`) and the pictures
(:mod:`dashboard.export.figure`) both read it through :func:`split_basemap`, so they draw
the same thing. Plain country polygons with a ``name`` (the older ``countries.geojson``
layout) are still understood: they are the land, their outlines the borders.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from dashboard import paths, style

KINDS = ("land", "lake", "river", "border", "label", "country")


@dataclass(frozen=True)
class CountryLabel:
    """Where a country's name goes, and how much room the country has (degrees)."""

    name: str
    lon: float
    lat: float
    area: float
    width: float


@dataclass(frozen=True)
class Basemap:
    """The basemap's parts as shapely geometries in lon/lat (None where absent)."""

    land: shapely.Geometry | None
    lakes: shapely.Geometry | None
    rivers: shapely.Geometry | None
    borders: shapely.Geometry | None
    labels: tuple[CountryLabel, ...]
    #: (name, coarse outline) of each country, to place its name inside a frame.
    countries: tuple[tuple[str, shapely.Geometry], ...]
    #: True for a whole basemap (land edge = coastline); False for bare country polygons,
    #: whose outlines are drawn as they are.
    layered: bool


def read_basemap(path: Path = paths.BUNDLED_BASEMAP) -> gpd.GeoDataFrame:
    """The basemap file as a GeoDataFrame, read once per process while the file is unchanged.

    Parameters
    ----------
    path
        A GeoJSON in lon/lat; default ``geodata/basemap.geojson``.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy: callers may change it without touching the cached one.
    """
    stat = path.stat()
    return _read(str(path), stat.st_mtime_ns, stat.st_size).copy()


@functools.lru_cache(maxsize=4)
def _read(path: str, mtime_ns: int, size: int) -> gpd.GeoDataFrame:
    # mtime and size are part of the key: a regenerated file is read again.
    del mtime_ns, size
    return gpd.read_file(path)


def split_basemap(frame: gpd.GeoDataFrame | None) -> Basemap:
    """The parts of a basemap frame: by ``kind``, or bare country polygons.

    Parameters
    ----------
    frame
        :func:`read_basemap`'s frame, or polygons with a ``name`` column (each a country);
        another CRS is reprojected to lon/lat. None or empty gives an empty basemap.

    Returns
    -------
    Basemap
        Missing, empty and NaN-coordinate geometries are left out.
    """
    if frame is None or not len(frame):
        return Basemap(None, None, None, None, (), (), layered=False)
    if frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    geoms = np.asarray(frame.geometry.array, dtype=object)
    good = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    for i in np.flatnonzero(good):
        good[i] = bool(np.isfinite(shapely.get_coordinates(geoms[i])).all())
    names = _column(frame, "name")
    if "kind" not in frame:
        polygons = [g for g, ok in zip(geoms, good, strict=True) if ok]
        labels = tuple(
            _polygon_label(name, geom)
            for name, geom, ok in zip(names, geoms, good, strict=True)
            if ok and name
        )
        land = shapely.union_all(polygons) if polygons else None
        borders = shapely.union_all(shapely.boundary(polygons)) if polygons else None
        countries = tuple(
            (name, geom) for name, geom, ok in zip(names, geoms, good, strict=True) if ok and name
        )
        return Basemap(land, None, None, borders, labels, countries, layered=False)
    kinds = _column(frame, "kind")

    def union(kind: str) -> shapely.Geometry | None:
        parts = [g for g, k, ok in zip(geoms, kinds, good, strict=True) if ok and k == kind]
        if len(parts) <= 1:
            # The bundled file has one feature per kind: a union of one world-wide
            # multipolygon would cost tens of milliseconds on every rerun of the page.
            return parts[0] if parts else None
        return shapely.union_all(parts)

    areas = _numbers(frame, "area")
    widths = _numbers(frame, "width")
    labels = tuple(
        CountryLabel(name, float(geom.x), float(geom.y), area, width)
        for geom, kind, name, area, width, ok in zip(
            geoms, kinds, names, areas, widths, good, strict=True
        )
        if ok and kind == "label" and name and geom.geom_type == "Point"
    )
    countries = tuple(
        (name, geom)
        for geom, kind, name, ok in zip(geoms, kinds, names, good, strict=True)
        if ok and kind == "country" and name
    )
    return Basemap(
        union("land"),
        union("lake"),
        union("river"),
        union("border"),
        labels,
        countries,
        layered=True,
    )


def _column(frame: gpd.GeoDataFrame, name: str) -> list[str]:
    if name not in frame:
        return [""] * len(frame)
    return ["" if style.is_missing(v) else str(v).strip() for v in frame[name]]


def _numbers(frame: gpd.GeoDataFrame, name: str) -> list[float]:
    if name not in frame:
        return [0.0] * len(frame)
    return [0.0 if style.is_missing(v) else float(v) for v in frame[name]]


def _polygon_label(name: str, geom: BaseGeometry) -> CountryLabel:
    parts = shapely.get_parts(geom)
    largest = parts[int(np.argmax(shapely.area(parts)))] if len(parts) > 1 else geom
    point = shapely.point_on_surface(largest)
    minx, _, maxx, _ = largest.bounds
    return CountryLabel(name, float(point.x), float(point.y), float(geom.area), maxx - minx)


#: Leaflet path styles of the parts (the pictures use the same colours).
WATER = style.NO_TILES_BACKGROUND
COAST = "#8FA9BE"
RIVER = "#7FA7CC"
LAND_STYLE = {
    "color": COAST,
    "weight": 0.8,
    "opacity": 1.0,
    "fillColor": style.LAND_FILL,
    "fillOpacity": 1.0,
}
LAKE_STYLE = {"color": COAST, "weight": 0.6, "opacity": 1.0, "fillColor": WATER, "fillOpacity": 1.0}
RIVER_STYLE = {"color": RIVER, "weight": 1.4, "opacity": 0.9, "fill": False}
BORDER_STYLE = {"color": style.COUNTRY_OUTLINE, "weight": 1.2, "opacity": 0.9, "fill": False}
