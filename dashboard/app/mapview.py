"""Wiring between the view and the folium layers of ``dashboard.layers``.

The base map (tiles or none, country outlines and towns) is built from values fixed for the
life of the map component (the initial centre and zoom, the basemap), so its script is the
same on every run and streamlit-folium never remounts it. Everything that follows the date
or the filters (control areas, events, heat map, legend) goes in ``feature_group_to_add``:
the component swaps those layers in place. The map returns only its centre, zoom and
bounds (for the permalink, the size of the hexagons, a database's box and the extent of the
exports), so panning and zooming are the only things that make it talk back.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import folium
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from dashboard import layers, schema
from dashboard import viewstate as S
from dashboard.app import session as K
from dashboard.app.loaders import Dataset, context_refs, load_context
from dashboard.app.prerender import prerendered
from dashboard.areasources import approximation_notes
from dashboard.assets import basemap_url
from dashboard.layers.areas import display_tolerance

MAP_KEY = "event_map"
MAP_HEIGHT = 620
#: What the map reports back: its view, and its last click on an object (a control
#: area's click opens the control history of the place, ``historypanel``).
RETURNED = [
    "center",
    "zoom",
    "bounds",
    "last_object_clicked",
    "last_object_clicked_tooltip",
    "last_object_clicked_count",
]
STATIC_DIR = Path(__file__).resolve().parent / "static"
#: Share of the map's width the legend covers (``.cm-legend`` max-width 240 px plus padding
#: and margin, on a map about 1000 px wide): kept free of data in the default framing.
LEGEND_SHARE = 0.27
K_MAP_BASE = "map_base"  # (basemap, context shown) the mounted base map was built with
VIEW_DATE_NAME = "View date"
#: The title streamlit-folium gives the map's frame (the Pause button finds the map by it).
MAP_FRAME_TITLE = "streamlit_folium.st_folium"


@st.cache_resource(show_spinner=False)
def _assets_ready(static_dir: str) -> bool:
    from dashboard.assets import ensure_static_assets

    ensure_static_assets(Path(static_dir))
    return True


def ensure_assets() -> None:
    """Copy Leaflet and its plugins into the static folder once per server process."""
    _assets_ready(str(STATIC_DIR))


def default_view(ds: Dataset) -> tuple[tuple[float, float], int]:
    """Centre and zoom that frame the control areas and events."""
    bounds = None
    if len(ds.areas):
        bounds = ds.areas.total_bounds
    lat_column, lon_column = ds.events.get(schema.LATITUDE), ds.events.get(schema.LONGITUDE)
    ev = ds.extent  # a database's events are not in memory: their extent is
    if lat_column is not None and lon_column is not None:
        lat = pd.to_numeric(lat_column, errors="coerce")
        lon = pd.to_numeric(lon_column, errors="coerce")
        if lat.notna().any():
            ev = (float(lon.min()), float(lat.min()), float(lon.max()), float(lat.max()))
    if ev is not None:
        bounds = (
            ev
            if bounds is None
            else (
                min(bounds[0], ev[0]),
                min(bounds[1], ev[1]),
                max(bounds[2], ev[2]),
                max(bounds[3], ev[3]),
            )
        )
    if bounds is None or not all(math.isfinite(float(b)) for b in bounds):
        return (34.5, 40.0), 6
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    # The legend sits in the bottom-right corner: frame the data in the part of the map
    # left of it (widen the extent on the east by the legend's share of the map width), so
    # the default view, and a screenshot of it, hides nothing under the legend.
    maxx += max(maxx - minx, 0.05) * LEGEND_SHARE / (1 - LEGEND_SHARE)
    span = max(maxx - minx, (maxy - miny) * 1.6, 0.05)
    # About 1000 px of map width: 256 px per 360 degrees at zoom 0.
    zoom = math.floor(math.log2(1000 / 256 * 360 / span))
    return ((miny + maxy) / 2, (minx + maxx) / 2), max(S.MIN_ZOOM, min(12, zoom))


def _base_view(ds: Dataset, view: S.ViewState) -> tuple[tuple[float, float], int]:
    """The centre and zoom the base map is built with: fixed while the map stays mounted."""
    ss = st.session_state
    base_key = (view.basemap, S.LAYER_CONTEXT in view.layers)
    init = ss.get(K.K_MAP_INIT)
    if ss.get(K_MAP_BASE) != base_key:
        if ss.get(K_MAP_BASE) is not None:
            # A basemap change remounts the map anyway: rebuild it where the user was.
            init = (view.center, view.zoom)
        ss[K_MAP_BASE] = base_key
        ss[K.K_MAP_INIT] = init
    fallback_center, fallback_zoom = default_view(ds)
    center, zoom = init if init else (None, None)
    return (tuple(center) if center else fallback_center), (int(zoom) if zoom else fallback_zoom)


def map_zoom(view: S.ViewState, fallback: int) -> int:
    """The zoom the map shows now: what it reported on this run (the component's value is
    in the session before the script runs), else the view's, else ``fallback``.

    Hexagons are sized for this zoom, so zooming in (one rerun) refines them.
    """
    reported = st.session_state.get(MAP_KEY)
    zoom = reported.get("zoom") if isinstance(reported, Mapping) else None
    if not (isinstance(zoom, (int, float)) and math.isfinite(zoom)):
        zoom = view.zoom if view.zoom is not None else fallback
    return int(max(S.MIN_ZOOM, min(S.MAX_ZOOM, round(zoom))))


def reported_bounds() -> tuple[float, float, float, float] | None:
    """The extent the map last reported, exactly (degrees west, south, east, north), or
    None before its first report.

    The browser's own bounds, so they hold whatever the size of the map's frame is; its
    centre and zoom alone do not say how wide the frame is. Longitudes may pass 180 when
    the map shows more than the world's width.
    """
    reported = st.session_state.get(MAP_KEY)
    bounds = reported.get("bounds") if isinstance(reported, Mapping) else None
    if bounds is None:
        return None
    try:
        south, west = float(bounds["_southWest"]["lat"]), float(bounds["_southWest"]["lng"])
        north, east = float(bounds["_northEast"]["lat"]), float(bounds["_northEast"]["lng"])
    except (KeyError, TypeError, ValueError):
        return None
    box = (west, south, east, north)
    if all(math.isfinite(v) for v in box) and west < east and south < north:
        return box
    return None


def map_bbox(view: S.ViewState) -> tuple[float, float, float, float] | None:
    """The part of the world the map shows now (degrees, a tenth wider on every side): the
    bounds it reported on this run, else a box sized for its centre and zoom
    (``layers.mapping.bbox_from_view``). What a database is asked for the map's events."""
    from dashboard.layers.mapping import bbox_from_view

    shown = reported_bounds()
    if shown is not None:
        west, south, east, north = shown
        pad_x, pad_y = (east - west) / 10, (north - south) / 10
        if east - west + 2 * pad_x >= 360:
            west, east, pad_x = -180.0, 180.0, 0.0
        return (
            max(-180.0, west - pad_x),
            max(-90.0, south - pad_y),
            min(180.0, east + pad_x),
            min(90.0, north + pad_y),
        )
    reported = st.session_state.get(MAP_KEY)
    center = reported.get("center") if isinstance(reported, Mapping) else None
    lat_lon = view.center  # unless the map reported a centre
    if center is not None:
        with contextlib.suppress(KeyError, TypeError, ValueError):
            lat_lon = (float(center["lat"]), float(center["lng"]))
    return bbox_from_view(lat_lon, map_zoom(view, view.zoom or 6) if lat_lon else None)


def view_date_group(as_of: dt.date) -> folium.FeatureGroup:
    """The layer that writes on the map the date its layers are drawn for.

    Added after every other layer of an update (``L.ConflictMap.ViewDate`` in
    ``static/js/core.js``): once the browser has added it, the areas, events and legend of that
    date are on the map, and the map's container says so in ``data-cm-as-of``. The Pause
    button reads the date there; it is kept out of the layer control.

    Parameters
    ----------
    as_of
        The date of the view drawn.

    Returns
    -------
    folium.FeatureGroup
        A group holding the one layer, with ids fixed by the date (the same date gives the
        same script, so a rerun for a map move does not redraw the map).
    """
    payload = layers.script_json({"asOf": as_of.isoformat()})
    layer = layers.JsonLayer("viewDate", payload, name=VIEW_DATE_NAME, control=False)
    group = folium.FeatureGroup(name=VIEW_DATE_NAME, control=False)
    layer.add_to(group)
    layers.stabilise_ids(group, f"view-date:{as_of.isoformat()}")
    return group


def place_group(lat: float, lon: float, name: str) -> folium.FeatureGroup:
    """A ring and the name of the place the search found (clicks pass through it to the
    control area under it)."""
    group = folium.FeatureGroup(name="Place found", control=False)
    folium.CircleMarker(
        [lat, lon],
        radius=10,
        color="#111111",
        weight=3,
        fill=False,
        interactive=False,
        tooltip=folium.Tooltip(layers.escape_text(name), permanent=True, direction="right"),
    ).add_to(group)
    layers.stabilise_ids(group, f"place:{lat:.6f},{lon:.6f}:{name}")
    return group


def _group(element: Any, name: str) -> folium.FeatureGroup:
    if isinstance(element, folium.FeatureGroup):
        return element
    group = folium.FeatureGroup(name=name)
    element.add_to(group)
    return group


def render_map(
    *,
    events: pd.DataFrame,
    areas: pd.DataFrame,
    view: S.ViewState,
    dataset: Dataset,
    colours: Mapping[str, str],
    place: tuple[float, float, str] | None = None,
    fly_to: tuple[float, float, int] | None = None,
) -> Mapping[str, Any] | None:
    """Draw the map; returns what the map reported (centre and zoom) or None.

    ``place`` (lat, lon, name) is marked on the map; ``fly_to`` (lat, lon, zoom) moves the
    map there once (the component moves only when the value changes).
    """
    center, zoom = _base_view(dataset, view)
    shown_zoom = map_zoom(view, zoom)  # what the map shows now (areas and hexagons follow it)
    fmap = layers.build_map(center=center, zoom=zoom, basemap=view.basemap)
    if S.LAYER_CONTEXT in view.layers:
        countries_ref, towns_ref = context_refs()
        countries, towns = load_context(countries_ref.token, towns_ref.token)
        if countries is not None or towns is not None:
            # The basemap's shapes are fetched by the browser from the static folder
            # (once), not sent with every run of the map.
            layers.context_layer(countries, towns, basemap_url=basemap_url()).add_to(fmap)

    located = (
        pd.to_numeric(events[schema.LATITUDE], errors="coerce").notna()
        & pd.to_numeric(events[schema.LONGITUDE], errors="coerce").notna()
    ).to_numpy(dtype=bool)
    n_placed = int(located.sum())

    def placed() -> pd.DataFrame:
        # Taken only when a layer is built: a view rendered before needs the count alone.
        return events[located]

    type_order = list(colours)
    groups: list[folium.FeatureGroup] = []
    hexagons: layers.HexagonLayer | None = None
    # The events of a dataset in memory are decided by the date, window and filters: their
    # layer is rendered once per view for every session (a database's depend on the map's
    # extent: rendered each time). The areas of a date are decided by which versions hold.
    events_key = (
        (dataset.key, view.as_of, view.window, view.filters, tuple(type_order))
        if dataset.store is None
        else None
    )
    if S.LAYER_AREAS in view.layers:
        # Outlines simplified to half a pixel at the zoom shown: at a country-wide zoom a
        # megabyte of vertices per step becomes a fifth of that, with nothing visible lost.
        tolerance = display_tolerance(shown_zoom)
        groups.append(
            prerendered(
                ("areas", dataset.key, dataset.version, tuple(areas.index), tolerance),
                len(groups),
                lambda: _group(
                    layers.control_areas_layer(areas, simplify=tolerance, palette=dataset.palette),
                    "Control areas",
                ),
            )
        )
    if S.LAYER_HEATMAP in view.layers and n_placed:
        groups.append(
            prerendered(
                events_key and ("heat", events_key),
                len(groups),
                lambda: _group(layers.heatmap_layer(placed()), "Event density"),
            )
        )
    if S.LAYER_EVENTS in view.layers:
        mode = view.points if view.points != "auto" else layers.default_point_mode(n_placed)
        if mode == "hexagons":  # sized for the zoom; their key goes into the legend
            hexagons = layers.hexagon_layer(placed(), zoom=shown_zoom, event_types=type_order)
            groups.append(_group(hexagons, "Events"))
        else:
            build = layers.cluster_layer if mode == "clusters" else layers.events_layer
            groups.append(
                prerendered(
                    events_key and (mode, events_key),
                    len(groups),
                    lambda: _group(build(placed(), event_types=type_order), "Events"),
                )
            )
    controllers = list(
        dict.fromkeys(
            str(c) if pd.notna(c) else schema.UNKNOWN
            for c in (areas[schema.CONTROLLER] if len(areas) else [])
        )
    )
    controllers.sort(
        key=lambda c: (c in (schema.CONTESTED, schema.UNKNOWN, schema.NO_INFORMATION), c)
    )
    shown_types = {
        str(t) for t in pd.unique(events[schema.EVENT_TYPE].to_numpy()[located]) if pd.notna(t)
    }
    event_types = [t for t in type_order if t in shown_types]
    event_types += sorted(shown_types - set(event_types))
    if S.LAYER_EVENTS not in view.layers or hexagons is not None:
        event_types = []  # no point symbols on the map to explain
    counts: dict[str, int] = {}
    if hexagons is None:  # with hexagons, their sentence says how many events are shown
        counts["events shown"] = n_placed if S.LAYER_EVENTS in view.layers else 0
    if len(events) > n_placed:
        counts["events without a map position"] = len(events) - n_placed
    counts["control areas"] = len(areas)
    hexagon_key = hexagons.key if hexagons is not None else None
    heat = S.LAYER_HEATMAP in view.layers and n_placed > 0
    notes = approximation_notes(areas)
    if place is not None:
        groups.append(place_group(*place))
    # The legend and the date are written once per view too: the key holds every input.
    legend_key = (
        dataset.key,
        dataset.version,
        tuple(controllers),
        tuple(event_types),
        view.as_of,
        view.window,
        tuple(counts.items()),
        hexagon_key,
        heat,
        tuple(notes),
    )
    groups.append(
        prerendered(
            ("legend", legend_key),
            len(groups),
            lambda: _group(
                layers.legend_element(
                    controllers,
                    event_types,
                    as_of=view.as_of,
                    window_days=view.window,
                    counts=counts,
                    hexagons=hexagon_key,
                    palette=dataset.palette,
                    heat=heat,
                    notes=notes,
                ),
                "Legend",
            ),
        )
    )
    # Last: see its docstring.
    groups.append(
        prerendered(("view-date", view.as_of), len(groups), lambda: view_date_group(view.as_of))
    )
    return st_folium(
        fmap,
        key=MAP_KEY,
        height=MAP_HEIGHT,
        use_container_width=True,
        feature_group_to_add=groups,
        layer_control=folium.LayerControl(collapsed=True),
        returned_objects=RETURNED,
        center=fly_to[:2] if fly_to else None,
        zoom=fly_to[2] if fly_to else None,
        on_change=K.mark_interaction,
    )
