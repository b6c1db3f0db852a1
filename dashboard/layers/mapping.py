"""The map itself, its legend and title box."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import folium
import pandas as pd
from branca.element import Element
from folium.template import Template

from dashboard import schema, style
from dashboard.assets import map_scripts
from dashboard.layers._base import (
    ALL_CSS,
    ALL_JS,
    DEFAULT_ASSETS,
    AssetLinks,
    JsonLayer,
    content_seed,
    stabilise_ids,
    stable_id,
)
from dashboard.layers.events import POPUP_LABELS
from dashboard.layers.hexes import HexagonKey
from dashboard.layers.safety import escape_text, script_json

BASEMAPS: tuple[str, ...] = ("osm", "none")
DEFAULT_TITLE = "Conflict events and territorial control"
#: Example fatality counts drawn in the legend's size key.
LEGEND_SIZES: tuple[int, ...] = (0, 10, 100)


def bbox_from_view(
    center: tuple[float, float] | None,
    zoom: int | None,
    *,
    width_px: int = 1600,
    height_px: int = 1000,
) -> tuple[float, float, float, float] | None:
    """A bounding box (degrees west, south, east, north) that holds a web map of about this size at ``center``/``zoom``.

    Generous on purpose (the map's real size is not known on the server): a little more than
    the view crosses the wire, never less. None when there is no view yet.
    """
    if center is None or zoom is None:
        return None
    lat, lon = float(center[0]), float(center[1])
    degrees_per_px = 360.0 / (256.0 * 2.0 ** max(0, int(zoom)))
    half_w = width_px / 2 * degrees_per_px
    # web mercator: a pixel spans fewer degrees of latitude away from the equator
    half_h = height_px / 2 * degrees_per_px * max(math.cos(math.radians(min(abs(lat), 85.0))), 0.05)
    if half_w >= 180:
        return (-180.0, max(-90.0, lat - half_h), 180.0, min(90.0, lat + half_h))
    return (
        max(-180.0, lon - half_w),
        max(-90.0, lat - half_h),
        min(180.0, lon + half_w),
        min(90.0, lat + half_h),
    )


class ConflictMap(AssetLinks, folium.Map):
    """A folium map whose every script and stylesheet comes from the app, never a CDN.

    folium's defaults (jQuery, Bootstrap, Font Awesome, awesome-markers, glyphicons, all
    from CDNs) are dropped: nothing here uses them. Every plugin the dashboard may add
    later (clusters, heat map) is linked from the map itself, because streamlit-folium
    loads scripts only when the map is first mounted, not when layers are swapped in.
    """

    _asset_js = ALL_JS
    _asset_css = ALL_CSS
    #: ``{name: url}`` of the assets; every element on this map links to these.
    _cm_assets: dict[str, str] | None = None


class _MapSetup(AssetLinks, folium.MacroElement):
    _asset_js = ("leaflet", *map_scripts("core"))
    _asset_css = ("leaflet_css", "conflictmap_css")
    _template = Template(
        """
        {% macro script(this, kwargs) %}
            L.ConflictMap.setup({{ this._parent.get_name() }}, {{ this.options }});
        {% endmacro %}
        """
    )

    def __init__(self, options: str) -> None:
        super().__init__()
        self._name = "MapSetup"
        self.options = options


#: Wheel delta (px) per zoom level: a browser's notch is 100 px, one level.
WHEEL_PX_PER_ZOOM_LEVEL = 100


def build_map(
    *,
    center: Sequence[float],
    zoom: int,
    basemap: str = "osm",
    assets: Mapping[str, str] | None = None,
    layers: Iterable[Element] = (),
    legend: Element | None = None,
    layer_control: bool = False,
    min_zoom: int = 3,
    max_zoom: int = 12,
    zoom_snap: float = 1,
) -> folium.Map:
    """An empty map (or one with ``layers``) that loads nothing from the internet but tiles.

    Parameters
    ----------
    center, zoom
        Initial view: (latitude, longitude) and zoom level.
    basemap
        ``"osm"``: OpenStreetMap tiles, with their attribution (the only network use).
        ``"none"``: no tiles at all; add :func:`context_layer` for outlines and towns.
    assets
        ``{name: url}`` of Leaflet, the plugins and the map's own scripts, as returned by
        ``dashboard.assets.ensure_static_assets`` or ``inline_asset_urls``; default: the
        app's static folder as seen from streamlit-folium's iframe.
    layers, legend
        Elements to add, in order (the legend last).
    layer_control
        Add a collapsed ``folium.LayerControl`` (streamlit-folium users pass their own
        ``layer_control=`` instead).
    min_zoom, max_zoom
        Zoom limits. Events are placed to a town (ACLED and UCDP precision 1 is "the
        town"), so zooming past 12 (a scale bar of a few hundred metres) would show a
        precision the data does not have.
    zoom_snap
        Zoom levels the map settles on (Leaflet's ``zoomSnap``): whole levels by default (a
        permalink's zoom is a whole number); a fraction lets a map that is framed on a
        region rather than linked (compare mode) fill its frame.

    Returns
    -------
    folium.Map
        Rendering it twice, or in two processes, gives the same HTML: element ids are
        derived from the arguments' positions, not drawn at random.
    """
    if basemap not in BASEMAPS:
        raise ValueError(f"basemap must be one of {BASEMAPS}, not {basemap!r}")
    urls = dict(DEFAULT_ASSETS)
    if assets is not None:
        missing = sorted(set(urls) - set(assets))
        if missing:
            raise ValueError(f"assets is missing {missing!r}")
        urls = dict(assets)
    fmap = ConflictMap(
        location=[float(center[0]), float(center[1])],
        zoom_start=int(zoom),
        tiles=None,
        control_scale=True,
        # On the map itself, not only on a tile layer: without tiles Leaflet has no max
        # zoom, and Leaflet.markercluster refuses to start ("Map has no maxZoom").
        minZoom=min_zoom,
        maxZoom=max_zoom,
        # One notch of a mouse wheel (a delta of 100 px) is one zoom level; Leaflet's 60
        # made it two.
        wheelPxPerZoomLevel=WHEEL_PX_PER_ZOOM_LEVEL,
        zoomSnap=zoom_snap,
        zoomDelta=1,
    )
    fmap._cm_assets = urls  # read by AssetLinks.default_js of every element on this map
    if basemap == "osm":
        folium.TileLayer(
            "OpenStreetMap",
            name="OpenStreetMap",
            control=False,
            min_zoom=min_zoom,
            max_zoom=max_zoom,
        ).add_to(fmap)
    options = {
        "noTiles": basemap == "none",
        "background": style.NO_TILES_BACKGROUND,
        "hatch": style.CONTROLLER_COLOURS[schema.CONTESTED],
    }
    _MapSetup(script_json(options)).add_to(fmap)
    for layer in layers:
        layer.add_to(fmap)
    if legend is not None:
        legend.add_to(fmap)
    if layer_control:
        folium.LayerControl(collapsed=True).add_to(fmap)
    seed = f"map:{basemap}:{float(center[0])!r}:{float(center[1])!r}:{int(zoom)}"
    # Layers keep the ids their builders derived from their content; only the map's own
    # elements (map, tiles, setup, layer control) get ids from here.
    fmap._id = _id_for(seed, "map")
    for index, child in enumerate(list(fmap._children.values())):
        if not getattr(child, "_cm_seeded", False):
            stabilise_ids(child, f"{seed}/{index}")
    return fmap


def _id_for(seed: str, what: str) -> str:
    return stable_id(f"{seed}:{what}")


def _swatch(controller: str) -> str:
    """How the legend draws a controller's swatch besides its colour ("" = plain fill)."""
    if controller == schema.CONTESTED:
        return "hatched"
    if controller == schema.NO_INFORMATION:
        return "veiled"
    return ""


def _day(value: Any) -> dt.date | None:
    if value is None:
        return None
    stamp = pd.Timestamp(value)
    return None if pd.isna(stamp) else stamp.date()


def _count_text(label: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"{label}: {value}"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f} {label}"
    return f"{int(value):,} {label}"


def legend_element(
    controllers: Iterable[str],
    event_types: Iterable[str],
    *,
    as_of: dt.date | str | None,
    window_days: int | None,
    counts: Mapping[str, Any] | None = None,
    title: str = DEFAULT_TITLE,
    name: str = "Legend",
    position: str = "bottomright",
    hexagons: HexagonKey | None = None,
    palette: Mapping[str, str] | None = None,
    heat: bool = False,
    notes: Sequence[str] = (),
) -> JsonLayer:
    """The legend and a title/date box, drawn on the map so a screenshot explains itself.

    Parameters
    ----------
    controllers
        Controllers whose colours to show (palette of ``dashboard.style``); Contested is
        shown hatched.
    event_types
        Event types whose colours to show; with any, the symbol key (size = fatalities,
        dashed = fatalities unknown, hollow = approximate location) is shown too.
    as_of
        The date the control areas are shown for.
    window_days
        Events shown are those of the ``window_days`` days up to and including ``as_of``.
    counts
        ``{label: number}`` lines at the foot, e.g. ``{"events": 1234, "areas": 9}``.
    title
        First line of the title box.
    name
        Name in the layer control (the legend can be switched off).
    position
        Leaflet control corner of the legend.
    hexagons
        The key of a hexagon layer (``hexagon_layer(...).key``): its colour ramp, with the
        sentence "N events shown as M hexagons (each about X km across)", drawn above the
        counts. Left out (the default), the legend is as without hexagons.
    heat
        The heat map is on: its colour ramp, from few events to many (a density, no
        count: the heat map has no scale of its own).
    notes
        Lines after the counts: what the map's areas are (an approximation from locality
        points, :func:`dashboard.areasources.approximation_notes`).

    Returns
    -------
    JsonLayer
        ``L.ConflictMap.Legend``: a layer holding a Leaflet control and the title box, so
        it also works inside a FeatureGroup. All text is inserted with ``textContent``.
    """
    ctrl = list(dict.fromkeys(str(c) for c in controllers))
    types = list(dict.fromkeys(str(t) for t in event_types))
    ctrl_colours = style.controller_colours(ctrl, palette=palette)
    type_colours = style.event_type_colours(types)
    day = _day(as_of)
    subtitle: list[str] = []
    if day is not None:
        subtitle.append(f"Control of territory on {day.isoformat()}")
    if day is not None and window_days:
        start = day - dt.timedelta(days=int(window_days) - 1)
        span = "1 day" if int(window_days) == 1 else f"{int(window_days)} days"
        subtitle.append(f"Events {start.isoformat()} to {day.isoformat()} ({span})")
    elif window_days:
        subtitle.append(f"Events of {int(window_days)} days")
    spec = {
        "title": title,
        "subtitle": subtitle,
        "position": position,
        "controllers": [[c, ctrl_colours[c], _swatch(c)] for c in ctrl],
        "types": [[t, type_colours[t]] for t in types],
        "counts": [_count_text(str(k), v) for k, v in (counts or {}).items()] + list(notes),
        "headings": {
            "controllers": "Controlled by",
            "types": "Event type",
            "symbols": "Symbols",
        },
        "symbols": {
            "sizes": [[f"{n:,} fatalities", style.point_radius(n)] for n in LEGEND_SIZES],
            "unknown": f"fatalities {POPUP_LABELS['unknownFatalities']} (dashed)",
            "hollow": "approximate location (hollow)",
        },
    }
    if hexagons is not None:
        spec["hexagons"] = hexagons.spec()
    if heat:
        stops = sorted((float(k), v) for k, v in style.HEAT_GRADIENT.items())
        spec["heat"] = {
            "heading": "Event density (heat map)",
            "stops": [[round(100 * k), v] for k, v in stops],
            "low": "fewer",
            "high": "more events nearby",
        }
    payload = script_json(spec)
    layer = JsonLayer("legend", payload, name=escape_text(name))
    stabilise_ids(layer, content_seed("legend", name, payload))
    return layer
