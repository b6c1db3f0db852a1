"""Folium layer builders for the conflict map: the only package besides ``app/`` that
imports folium.

API (every builder returns one folium element; style comes from ``dashboard.style``)::

    build_map(*, center, zoom, basemap="osm"|"none", assets=None, layers=(), legend=None,
              layer_control=False) -> folium.Map
        Leaflet and plugins from the app's static folder (``dashboard.assets``), OSM tiles
        only for basemap="osm"; deterministic ids (same inputs -> same HTML).
    control_areas_layer(areas, *, name="Control areas", as_of=None,
                        simplify=SIMPLIFY_DEGREES) -> folium.FeatureGroup
        GeoJSON fill per controller, Contested hatched; escaped hover tooltip. The app
        passes ``simplify=areas.display_tolerance(zoom)`` (half a pixel at the zoom shown).
    events_layer(events, *, name="Events", event_types=None, records=True,
                 notes_budget_bytes=NOTES_BUDGET_BYTES, notes_elsewhere=...) -> JsonLayer
        All events on one Leaflet canvas from typed arrays (payload format 2: base64
        little-endian integer columns, dictionary-coded text); popups built as text in JS.
        Notes travel whole while the payload fits the budget; above it each popup says
        where to read them (``.notes_withheld``).
    cluster_layer(events, ...) -> JsonLayer        Leaflet.markercluster, same popups.
    heatmap_layer(events, *, weight="events"|"fatalities") -> Layer       Leaflet.heat.
    default_point_mode(n) -> "points" | "hexagons"    points up to POINTS_MAX (20,000)
    hexagon_layer(events | HexBins, *, zoom=None | cell_size=None, pixels=32,
                  max_cells=20_000, orientation="pointy", event_types=None) -> HexagonLayer
        Events aggregated on the server into Web Mercator hexagons (``dashboard.aggregate``),
        at most ``max_cells`` of them; count on a log-scale ramp, text popups in JS.
        ``.key`` goes to ``legend_element(hexagons=...)``.
    context_layer(countries, towns) -> folium.FeatureGroup
        The no-tiles basemap: country outlines, town labels (with Arabic names).
    legend_element(controllers, event_types, *, as_of, window_days, counts=None,
                   hexagons=None) -> JsonLayer
        Legend control + title/date box, drawn on the map; with ``hexagons`` (a
        HexagonKey) also the hexagon ramp and "N events shown as M hexagons (each about
        X km across)".
    change_layer(...), change_legend(...)   Compare mode: ground gained and lost between two
        dates, per controller (``dashboard.compare``).
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

from dashboard.aggregate import default_point_mode
from dashboard.layers._base import DEFAULT_ASSETS, JsonLayer, stabilise_ids
from dashboard.layers.areas import control_areas_layer
from dashboard.layers.change import change_layer, change_legend  # noqa: F401 (public)
from dashboard.layers.context import context_layer
from dashboard.layers.events import (
    POINT_MODES,
    cluster_layer,
    encode_events,
    events_layer,
    heatmap_layer,
)
from dashboard.layers.hexes import HexagonKey, HexagonLayer, encode_hexagons, hexagon_layer
from dashboard.layers.mapping import BASEMAPS, ConflictMap, build_map, legend_element
from dashboard.layers.safety import escape_text, script_json

__all__ = [
    "BASEMAPS",
    "DEFAULT_ASSETS",
    "POINT_MODES",
    "ConflictMap",
    "HexagonKey",
    "HexagonLayer",
    "JsonLayer",
    "build_map",
    "cluster_layer",
    "context_layer",
    "control_areas_layer",
    "default_point_mode",
    "encode_events",
    "encode_hexagons",
    "escape_text",
    "events_layer",
    "heatmap_layer",
    "hexagon_layer",
    "legend_element",
    "script_json",
    "stabilise_ids",
]
