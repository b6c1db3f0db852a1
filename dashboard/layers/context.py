"""The basemap that needs no tiles: country outlines and town labels from geodata/."""

from __future__ import annotations

import json
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from dashboard import style
from dashboard.layers._base import JsonLayer, content_seed, stabilise_ids
from dashboard.layers.areas import _display_geometries, _feature
from dashboard.layers.safety import escape_text, script_json

#: Outline simplification for countries, in degrees (0.01 = about 1 km).
COUNTRY_SIMPLIFY_DEGREES = 0.01
#: Zoom from which a town of each role is labelled (roles of geodata/towns.csv).
ROLE_MIN_ZOOM: dict[str, int] = {
    "capital": 0,
    "national capital": 0,
    "governorate capital": 6,
    "admin1 capital": 6,
    "provincial capital": 6,
    "city": 6,
    "town": 8,
    "village": 10,
    "story": 7,  # places the bundled story is about (geodata/towns.csv)
}
DEFAULT_MIN_ZOOM = 8
COUNTRY_LABEL_MIN_ZOOM = 4


def _role_zoom(role: Any) -> tuple[int, str]:
    text = "" if style.is_missing(role) else str(role).strip().lower()
    zoom = ROLE_MIN_ZOOM.get(text, DEFAULT_MIN_ZOOM)
    kind = "capital" if "capital" in text else ("city" if text == "city" else "town")
    return zoom, kind


def _text(value: Any) -> str:
    if style.is_missing(value):
        return ""
    return str(value).strip()


def _town_rows(towns: pd.DataFrame | None) -> list[list[Any]]:
    if towns is None or not len(towns):
        return []
    lat = pd.to_numeric(towns.get("latitude"), errors="coerce")
    lon = pd.to_numeric(towns.get("longitude"), errors="coerce")
    rows: list[list[Any]] = []
    names = towns["name"] if "name" in towns else pd.Series([""] * len(towns))
    arabic = towns["name_ar"] if "name_ar" in towns else pd.Series([""] * len(towns))
    roles = towns["role"] if "role" in towns else pd.Series([None] * len(towns))
    for la, lo, name, ar, role in zip(lat, lon, names, arabic, roles, strict=True):
        if not (np.isfinite(la) and np.isfinite(lo) and abs(la) <= 90 and abs(lo) <= 180):
            continue
        zoom, kind = _role_zoom(role)
        rows.append([round(float(la), 4), round(float(lo), 4), _text(name), _text(ar), zoom, kind])
    # Bigger places first: Leaflet stacks later markers on top.
    rows.sort(key=lambda r: (-r[4], r[2]))
    return rows


class ContextGroup(folium.FeatureGroup):
    """The context layer: a FeatureGroup that says how many outlines and labels it holds."""

    n_countries: int = 0
    n_labels: int = 0


def context_layer(
    countries: gpd.GeoDataFrame | None,
    towns: pd.DataFrame | None,
    *,
    name: str = "Countries and towns",
    show: bool = True,
) -> ContextGroup:
    """Country outlines and town labels: a map that reads without any tile server.

    Parameters
    ----------
    countries
        Polygons with a ``name`` property (``geodata/countries.geojson``); None to skip.
        Drawn as grey outlines; with ``build_map(basemap="none")`` also as land.
    towns
        ``name, name_ar, country, latitude, longitude, role`` (``geodata/towns.csv``);
        None to skip. Labels show the Arabic name next to the Latin one where given;
        ``role`` decides from which zoom a town is labelled (:data:`ROLE_MIN_ZOOM`).
    name
        Name in the layer control.

    Returns
    -------
    ContextGroup
        A ``folium.FeatureGroup`` of non-interactive outlines (SVG) and labels (``L.ConflictMap.Labels``).
    """
    group = ContextGroup(name=escape_text(name), show=show)
    label_rows: list[list[Any]] = []
    features: list[dict[str, Any]] = []
    if countries is not None and len(countries):
        if countries.crs is not None and countries.crs.to_epsg() != 4326:
            countries = countries.to_crs(4326)
        geoms, ok = _display_geometries(
            np.asarray(countries.geometry.array, dtype=object), COUNTRY_SIMPLIFY_DEGREES
        )
        names = countries["name"] if "name" in countries else [""] * len(countries)
        for i, (geom, good, cname) in enumerate(zip(geoms, ok, names, strict=True)):
            if not good:
                continue
            features.append(_feature(i, geom, {"name": escape_text(cname)}))
            point = shapely.get_coordinates(shapely.point_on_surface(_largest_part(geom)))[0]
            if _text(cname):
                label_rows.append(
                    [
                        round(float(point[1]), 4),
                        round(float(point[0]), 4),
                        _text(cname),
                        "",
                        COUNTRY_LABEL_MIN_ZOOM,
                        "country",
                    ]
                )
    if features:
        folium.GeoJson(
            {"type": "FeatureCollection", "features": features},
            name="countries",
            style_function=lambda _f: {
                "color": style.COUNTRY_OUTLINE,
                "weight": 1.2,
                "opacity": 0.9,
                "fillColor": style.LAND_FILL,
                "fillOpacity": 0,
            },
            interactive=False,
            control=False,
            class_name="cm-country",
            smooth_factor=1.0,
        ).add_to(group)
    label_rows.extend(_town_rows(towns))
    payload = script_json({"rows": label_rows})
    if label_rows:
        JsonLayer("labels", payload, name="labels", control=False).add_to(group)
    group.n_countries = len(features)
    group.n_labels = len(label_rows)
    stabilise_ids(group, content_seed("context", name, json.dumps(features), payload))
    return group


def _largest_part(geom: shapely.Geometry) -> shapely.Geometry:
    parts = shapely.get_parts(geom)
    if len(parts) <= 1:
        return geom
    return parts[int(np.argmax(shapely.area(parts)))]
