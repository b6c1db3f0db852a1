"""The basemap that needs no tiles: land, water, borders and labels from geodata/."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from dashboard import basemap as bm
from dashboard import style
from dashboard.layers._base import JsonLayer, content_seed, stabilise_ids
from dashboard.layers.areas import display_geometries, geojson_feature
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
    "key": 5,  # the towns the bundled story turns on (geodata/towns.csv)
    "story": 7,  # other places the bundled story is about
}
#: Which label wins where two would overlap (lower first): the map places labels in this
#: order and leaves out the text of one that finds no free side.
ROLE_PRIORITY: dict[str, int] = {"capital": 0, "key": 1, "city": 2, "story": 3, "town": 5}
COUNTRY_PRIORITY = 4
DEFAULT_MIN_ZOOM = 8
COUNTRY_LABEL_MIN_ZOOM = 4


def _role_zoom(role: Any) -> tuple[int, str, int]:
    """(the zoom the town is labelled from, its kind for the style, its priority)."""
    text = "" if style.is_missing(role) else str(role).strip().lower()
    zoom = ROLE_MIN_ZOOM.get(text, DEFAULT_MIN_ZOOM)
    kind = "capital" if "capital" in text else ("city" if text == "city" else "town")
    priority = ROLE_PRIORITY.get("capital" if "capital" in text else text, ROLE_PRIORITY["town"])
    return zoom, kind, priority


def _text(value: Any) -> str:
    if style.is_missing(value):
        return ""
    return str(value).strip()


def _town_rows(towns: pd.DataFrame | None) -> list[list[Any]]:
    if towns is None or not len(towns) or not {"latitude", "longitude"} <= set(towns):
        return []
    lat = pd.to_numeric(towns["latitude"], errors="coerce")
    lon = pd.to_numeric(towns["longitude"], errors="coerce")
    rows: list[list[Any]] = []
    names = towns["name"] if "name" in towns else pd.Series([""] * len(towns))
    arabic = towns["name_ar"] if "name_ar" in towns else pd.Series([""] * len(towns))
    roles = towns["role"] if "role" in towns else pd.Series([None] * len(towns))
    for la, lo, name, ar, role in zip(lat, lon, names, arabic, roles, strict=True):
        if not (np.isfinite(la) and np.isfinite(lo) and abs(la) <= 90 and abs(lo) <= 180):
            continue
        zoom, kind, priority = _role_zoom(role)
        rows.append(
            [round(float(la), 4), round(float(lo), 4), _text(name), _text(ar), zoom, kind, priority]
        )
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
    basemap_url: str | None = None,
) -> ContextGroup:
    """Land, water, borders and names: a map that reads without any tile server.

    Parameters
    ----------
    countries
        The basemap (``geodata/basemap.geojson`` as read by
        :func:`dashboard.basemap.read_basemap`: land, lakes, rivers, borders and country
        names, each feature with a ``kind``), or bare polygons with a ``name`` property;
        None to skip. Borders (or the polygons' outlines) are drawn over tiles too; land,
        lakes and rivers (or the polygons' fill) only with ``build_map(basemap="none")``.
    towns
        ``name, name_ar, country, latitude, longitude, role`` (``geodata/towns.csv``);
        None to skip. Labels show the Arabic name next to the Latin one where given;
        ``role`` decides from which zoom a town is labelled (:data:`ROLE_MIN_ZOOM`).
    name
        Name in the layer control.
    basemap_url
        Where the page can fetch the basemap file itself (the app's static copy of
        ``geodata/basemap.geojson``): land, lakes, rivers and borders are then drawn from
        it (``L.ConflictMap.RemoteBasemap``), not written into the map's script, which the
        app sends again on every step. Only the country names stay in the script. None:
        everything inline (a saved HTML page, an export).

    Returns
    -------
    ContextGroup
        A ``folium.FeatureGroup`` of non-interactive shapes (SVG) and labels
        (``L.ConflictMap.Labels``); ``n_countries`` counts the countries named.
    """
    group = ContextGroup(name=escape_text(name), show=show)
    label_rows: list[list[Any]] = []
    seed = ""
    if countries is not None and len(countries) and "kind" in countries:
        label_rows = _basemap_layers(bm.split_basemap(countries), group, basemap_url)
        seed = _digest(countries)
        group.n_countries = len(label_rows)
    elif countries is not None and len(countries):
        features, label_rows = _country_outlines(countries)
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
        seed = json.dumps(features)
        group.n_countries = len(features)
    label_rows.extend(_town_rows(towns))
    payload = script_json({"rows": label_rows})
    if label_rows:
        JsonLayer("labels", payload, name="labels", control=False).add_to(group)
    group.n_labels = len(label_rows)
    stabilise_ids(group, content_seed("context", name, seed, payload))
    return group


def _country_outlines(
    countries: gpd.GeoDataFrame,
) -> tuple[list[dict[str, Any]], list[list[Any]]]:
    """Bare country polygons: their GeoJSON features and one label row each."""
    if countries.crs is not None and countries.crs.to_epsg() != 4326:
        countries = countries.to_crs(4326)
    geoms, ok = display_geometries(
        np.asarray(countries.geometry.array, dtype=object), COUNTRY_SIMPLIFY_DEGREES
    )
    names = countries["name"] if "name" in countries else [""] * len(countries)
    features: list[dict[str, Any]] = []
    label_rows: list[list[Any]] = []
    for i, (geom, good, cname) in enumerate(zip(geoms, ok, names, strict=True)):
        if not good:
            continue
        features.append(geojson_feature(i, geom, {"name": escape_text(cname)}))
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
                    COUNTRY_PRIORITY,
                ]
            )
    return features, label_rows


def _largest_part(geom: shapely.Geometry) -> shapely.Geometry:
    parts = shapely.get_parts(geom)
    if len(parts) <= 1:
        return geom
    return parts[int(np.argmax(shapely.area(parts)))]


def _basemap_layers(
    parts: bm.Basemap, group: folium.FeatureGroup, url: str | None = None
) -> list[list[Any]]:
    """Add land, lakes, rivers and borders to ``group``; return the country label rows.

    Land, lakes and rivers carry the class ``cm-notiles-only`` (conflictmap.css shows them
    only on a map without tiles: over tiles they would double the tiles' own coasts and
    rivers, a little off); borders are drawn over tiles too, as the outlines always were.
    """
    # (kind, geometry, style, class name); none drawn here when the page fetches the file.
    layers: tuple[tuple[str, shapely.Geometry | None, dict[str, object], str], ...] = (
        ("land", parts.land, bm.LAND_STYLE, "cm-land cm-notiles-only"),
        ("lakes", parts.lakes, bm.LAKE_STYLE, "cm-lake cm-notiles-only"),
        ("rivers", parts.rivers, bm.RIVER_STYLE, "cm-river cm-notiles-only"),
        ("borders", parts.borders, bm.BORDER_STYLE, "cm-border"),
    )
    if url is not None:
        # The file's own feature kinds (geodata/basemap.geojson): land, lake, river, border.
        in_file = {"land": "land", "lakes": "lake", "rivers": "river", "borders": "border"}
        spec = {
            "url": url,
            "layers": [
                [in_file[kind], dict(look), class_name]
                for kind, geom, look, class_name in layers
                if geom is not None
            ],
        }
        JsonLayer("remoteBasemap", script_json(spec), name="basemap", control=False).add_to(group)
        layers = ()
    for kind, geom, look, class_name in layers:
        if geom is None:
            continue
        feature = {"type": "Feature", "properties": {}, "geometry": _geojson(geom)}
        folium.GeoJson(
            {"type": "FeatureCollection", "features": [feature]},
            name=kind,
            style_function=lambda _f, look=look: dict(look),
            interactive=False,
            control=False,
            class_name=class_name,
            smooth_factor=1.0,
        ).add_to(group)
    return [
        [
            round(lab.lat, 4),
            round(lab.lon, 4),
            lab.name,
            "",
            COUNTRY_LABEL_MIN_ZOOM,
            "country",
            COUNTRY_PRIORITY,
        ]
        for lab in parts.labels
    ]


def _geojson(geom: shapely.Geometry) -> dict[str, Any]:
    return json.loads(shapely.to_geojson(geom))


def _digest(frame: gpd.GeoDataFrame) -> str:
    # The ids of the layer's elements follow its content (the same in every process, so
    # no hash()); the WKB of a few features is cheap to digest.
    wkb = shapely.to_wkb(np.asarray(frame.geometry.array, dtype=object))
    return hashlib.sha1(b"".join(w for w in wkb if w is not None)).hexdigest()
