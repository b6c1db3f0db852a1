"""Folium layer builders for the conflict map: the only package besides ``app/`` that
imports folium.

API (every builder returns one folium element; style comes from ``dashboard.style``)::

    build_map(*, center, zoom, basemap="osm"|"none", assets=None, layers=(), legend=None,
              layer_control=False) -> folium.Map
        Leaflet and plugins from the app's static folder (``dashboard.assets``), OSM tiles
        only for basemap="osm"; deterministic ids (same inputs -> same HTML).
    control_areas_layer(areas, *, name="Control areas", as_of=None) -> folium.FeatureGroup
        GeoJSON fill per controller, Contested hatched; escaped hover tooltip.
    events_layer(events, *, name="Events", event_types=None, records=True,
                 notes_max_chars=280) -> JsonLayer
        All events on one Leaflet canvas from compact arrays; popups built as text in JS.
    cluster_layer(events, ...) -> JsonLayer        Leaflet.markercluster, same popups.
    heatmap_layer(events, *, weight="events"|"fatalities") -> Layer       Leaflet.heat.
    default_point_mode(n) -> "points" | "clusters" | "heatmap"
    context_layer(countries, towns) -> folium.FeatureGroup
        The no-tiles basemap: country outlines, town labels (with Arabic names).
    legend_element(controllers, event_types, *, as_of, window_days, counts=None)
        -> JsonLayer      Legend control + title/date box, drawn on the map.
    escape_text(value) -> str      HTML + JS (` $ \\) + Jinja ({ }) escaping for HTML sinks.
    script_json(value) -> str      JSON safe inside <script> and through folium's Jinja pass.

Every layer works when added to the map directly or inside a ``folium.FeatureGroup`` passed
to ``st_folium(feature_group_to_add=...)``: all their code is in the ``script`` macro.
Layers that count what they dropped carry ``.skipped`` (rows without usable coordinates,
null/empty/NaN geometries).

Assets: inlining Leaflet and the plugins into every page would send about 0.25 MB more per
Streamlit rerun (the map HTML is a component argument); the app serves them instead
(``server.enableStaticServing``), under URLs relative to streamlit-folium's iframe so any
``baseUrlPath`` works. ``dashboard.assets.inline_asset_urls()`` gives a self-contained page
for export.
"""

from __future__ import annotations

from dashboard.layers._base import DEFAULT_ASSETS, JsonLayer, stabilise_ids
from dashboard.layers.areas import control_areas_layer
from dashboard.layers.context import context_layer
from dashboard.layers.events import (
    POINT_MODES,
    cluster_layer,
    default_point_mode,
    encode_events,
    events_layer,
    heatmap_layer,
)
from dashboard.layers.mapping import BASEMAPS, ConflictMap, build_map, legend_element
from dashboard.layers.safety import escape_text, script_json

__all__ = [
    "BASEMAPS",
    "DEFAULT_ASSETS",
    "POINT_MODES",
    "ConflictMap",
    "JsonLayer",
    "build_map",
    "cluster_layer",
    "context_layer",
    "control_areas_layer",
    "default_point_mode",
    "encode_events",
    "escape_text",
    "events_layer",
    "heatmap_layer",
    "legend_element",
    "script_json",
    "stabilise_ids",
]
