"""The interactive map of a view as one HTML file that opens anywhere, with no network.

The page is the app's own map (``dashboard.layers``: the same control areas, events,
context and legend), with Leaflet, its plugins and the project's script inlined as
``data:`` URLs (``dashboard.assets.inline_asset_urls``, about 0.25 MB) and no tiles unless
asked for, so it draws from a file, offline, in any browser. A footer under the map credits
the sources and names the view.
"""

from __future__ import annotations

import datetime as dt
import html
import math

import numpy as np

from dashboard import layers
from dashboard.assets import inline_asset_urls
from dashboard.export.data import ExportData
from dashboard.export.figure import DEFAULT_TITLE
from dashboard.export.footer import attribution_lines, exported_line
from dashboard.export.legend import legend_spec
from dashboard.export.render import ExportSettings
from dashboard.export.view import (
    EARTH_RADIUS,
    from_mercator,
    permalink_query,
    resolve_frame,
    view_extent,
)
from dashboard.viewstate import LAYER_AREAS, LAYER_CONTEXT, LAYER_EVENTS, LAYER_HEATMAP, ViewState

#: The map fills the window, less the footer.
_PAGE_STYLE = """
<style>
  html, body { height: 100%; margin: 0; }
  .folium-map { position: absolute !important; top: 0 !important; bottom: 4.6em !important;
    left: 0 !important; right: 0 !important; width: auto !important; height: auto !important; }
  .cm-export-footer { position: absolute; bottom: 0; left: 0; right: 0; height: 4.6em;
    overflow: auto; box-sizing: border-box; padding: 0.3em 0.8em;
    font: 11px/1.35 "DejaVu Sans", Arial, sans-serif; color: #444; background: #fff;
    border-top: 1px solid #bbb; }
</style>
"""


def _zoom_for(extent: tuple[float, float, float, float], width_px: int = 1000) -> int:
    """The zoom at which ``extent`` (Web Mercator metres) is about ``width_px`` wide."""
    span = max(extent[2] - extent[0], (extent[3] - extent[1]) * 1.6, 1.0)
    zoom = math.floor(math.log2(width_px * 2 * math.pi * EARTH_RADIUS / 256 / span))
    return int(max(2, min(12, zoom)))


def render_html(data: ExportData, view: ViewState, settings: ExportSettings | None = None) -> str:
    """The view as a self-contained interactive HTML page (UTF-8 text)."""
    settings = (settings or ExportSettings()).checked()
    frame = resolve_frame(data, view)
    extent = view_extent(data, view, settings.bbox)
    lon, lat = from_mercator(np.array([extent[0], extent[2]]), np.array([extent[1], extent[3]]))
    center = (float(lat.mean()), float(lon.mean()))
    fmap = layers.build_map(
        center=center,
        zoom=_zoom_for(extent),
        basemap="osm" if settings.tiles else "none",
        assets=inline_asset_urls(),
        layer_control=False,
    )
    if LAYER_CONTEXT in view.layers and (
        data.context.countries is not None or data.context.towns is not None
    ):
        layers.context_layer(data.context.countries, data.context.towns).add_to(fmap)
    if LAYER_AREAS in view.layers:
        layers.control_areas_layer(frame.areas, palette=data.palette).add_to(fmap)
    placed = frame.placed
    type_order = list(data.type_order)
    if LAYER_HEATMAP in view.layers and len(placed):
        layers.heatmap_layer(placed).add_to(fmap)
    hexagons = None
    if LAYER_EVENTS in view.layers and len(placed):
        mode = view.points if view.points in layers.POINT_MODES else "auto"
        if mode == "auto":
            mode = layers.default_point_mode(len(placed))
        if mode == "clusters":
            layers.cluster_layer(placed, event_types=type_order).add_to(fmap)
        elif mode == "hexagons":
            hexagons = layers.hexagon_layer(placed, zoom=_zoom_for(extent), event_types=type_order)
            hexagons.add_to(fmap)
        elif mode == "heatmap":
            if LAYER_HEATMAP not in view.layers:
                layers.heatmap_layer(placed).add_to(fmap)
        else:
            layers.events_layer(placed, event_types=type_order).add_to(fmap)
    legend = legend_spec([frame], data.type_order)
    counts: dict[str, int] = {}
    if LAYER_EVENTS in view.layers:
        counts["events shown"] = len(placed)
        if frame.unplaced:
            counts["events without a map position"] = frame.unplaced
    counts["control areas"] = len(frame.areas)
    layers.legend_element(
        legend.controllers if LAYER_AREAS in view.layers else [],
        legend.event_types if LAYER_EVENTS in view.layers else [],
        as_of=view.as_of,
        window_days=view.window,
        counts=counts,
        title=settings.title or DEFAULT_TITLE,
        hexagons=hexagons.key if hexagons is not None else None,
        palette=data.palette,
    ).add_to(fmap)
    fmap.fit_bounds([[float(lat[0]), float(lon[0])], [float(lat[1]), float(lon[1])]])
    page = fmap.get_root().render()
    when = settings.exported_at or dt.datetime.now(dt.UTC)
    lines = attribution_lines(data, tiles=settings.tiles)
    lines.append(exported_line(when, permalink_query(view)))
    footer = "".join(f"<div>{html.escape(line)}</div>" for line in lines)
    title = html.escape(f"{settings.title or DEFAULT_TITLE}, {view.as_of.isoformat()}")
    page = page.replace("<head>", f"<head>\n<title>{title}</title>{_PAGE_STYLE}", 1)
    marker = "</body>"
    block = f'<div class="cm-export-footer" id="cm-export-footer">{footer}</div>\n'
    if marker in page:
        head, tail = page.rsplit(marker, 1)
        page = head + block + marker + tail
    else:
        page += block
    return page
