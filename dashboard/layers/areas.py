"""Control areas: one semi-transparent colour per controller, contested areas hatched."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.template import Template

from dashboard import schema, style
from dashboard.assets import map_scripts
from dashboard.errors import CRSError
from dashboard.layers._base import AssetLinks, content_seed, stabilise_ids
from dashboard.layers.safety import escape_text, script_json

#: Simplification of area outlines for display, in degrees (0.001 = about 100 m).
SIMPLIFY_DEGREES = 0.001
#: Decimal places kept in displayed coordinates at most (5 = about 1 m).
COORD_DECIMALS = 5
#: At a given zoom, outlines are simplified to this share of a screen pixel.
PIXEL_SHARE = 0.5


def display_tolerance(zoom: float) -> float:
    """The simplification (degrees) that cannot be seen at ``zoom``: half a screen pixel
    (never below 0.0001 deg, about 10 m).

    A Web Mercator pixel spans 360 / (256 * 2**zoom) degrees of longitude (less in
    latitude away from the equator, which only makes the tolerance safer there).

    >>> round(display_tolerance(6), 4)
    0.011
    """
    return max(SIMPLIFY_DEGREES / 10, PIXEL_SHARE * 360.0 / (256.0 * 2.0**zoom))


def _decimals(tolerance: float) -> int:
    """Decimal places that keep coordinates ten times finer than the simplification."""
    if tolerance <= 0:
        return COORD_DECIMALS
    return int(min(COORD_DECIMALS, max(3, np.ceil(-np.log10(tolerance)) + 1)))


TOOLTIP_FIELDS: tuple[tuple[str, str], ...] = (
    ("controller", "Controlled by"),
    # Not the version's validity: a country-wide polygon is redrawn for a change anywhere
    # in the country, so its dates said nothing of the place under the cursor.
    ("history", "History"),
    ("area", "Area"),
    ("source", "Source"),
)


_NO_INFO_COLOUR = style.CONTROLLER_COLOURS[schema.NO_INFORMATION]

#: What the tooltip says of the area's dates: a click shows the place's whole history.
HISTORY_HINT = "click for who held this place, and when"


class AreasGroup(folium.FeatureGroup):
    """The control-areas layer: a FeatureGroup that says what it drew and set aside."""

    n_areas: int = 0
    skipped: int = 0


class _Hatch(AssetLinks, folium.MacroElement):
    """Defines the hatch pattern contested areas are filled with (once per page)."""

    _asset_js = ("leaflet", *map_scripts("core"))
    _asset_css = ("leaflet_css", "conflictmap_css")
    _template = Template(
        """
        {% macro script(this, kwargs) %}
            L.ConflictMap.ensureHatch({{ this.colour }});
        {% endmacro %}
        """
    )

    def __init__(self, colour: str) -> None:
        super().__init__()
        self._name = "Hatch"
        self.colour = script_json(colour)


def display_geometries(geoms: np.ndarray, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """Simplified, rounded copies for display, and the mask of geometries worth drawing.

    Null, empty and NaN-coordinate geometries are set aside: one NaN makes Leaflet throw,
    and every layer added after it vanishes.
    """
    ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    for i in np.flatnonzero(ok):
        if not np.isfinite(shapely.get_coordinates(geoms[i])).all():
            ok[i] = False
    out = np.array(geoms, dtype=object)
    if ok.any():
        shown = out[ok]
        if tolerance > 0:
            shown = shapely.simplify(shown, tolerance, preserve_topology=True)
        scale = 10.0 ** _decimals(tolerance)
        shown = shapely.transform(shown, lambda xy: np.round(xy * scale) / scale)
        out[ok] = shown
        ok &= ~shapely.is_empty(out)
    return out, ok


def geojson_feature(i: int, geom: shapely.Geometry, props: dict[str, str]) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": str(i),
        "geometry": json.loads(shapely.to_geojson(geom)),
        "properties": props,
    }


def _sources(areas: pd.DataFrame) -> list[Any]:
    """Where each version says so: its file's row or feature (``area_provenance``), else
    its file."""
    files = areas.get(schema.AREA_SOURCE)
    lines = areas.get(schema.AREA_PROVENANCE)
    if lines is None:
        return list(files) if files is not None else [None] * len(areas)
    return list(lines if files is None else lines.where(lines.notna(), files))


def _area_style(colour: str, contested: bool) -> dict[str, Any]:
    if colour == _NO_INFO_COLOUR:
        return {
            "color": style.NO_INFORMATION_EDGE,
            "weight": 1.0,
            "opacity": 0.9,
            "fillColor": colour,
            "fillOpacity": style.NO_INFORMATION_FILL_OPACITY,
            "dashArray": style.NO_INFORMATION_DASH,
        }
    return {
        "color": colour,
        "weight": 2.0 if contested else style.AREA_OUTLINE_WEIGHT,
        "opacity": 0.9,
        "fillColor": colour,
        "fillOpacity": style.AREA_FILL_OPACITY,
        "dashArray": style.CONTESTED_DASH if contested else None,
    }


def _geojson(features: list[dict[str, Any]], *, contested: bool, name: str) -> folium.GeoJson:
    def style_function(feature: dict[str, Any]) -> dict[str, Any]:
        return _area_style(feature["properties"]["_colour"], contested)

    def highlight_function(feature: dict[str, Any]) -> dict[str, Any]:
        return {"weight": 3.0, "opacity": 1.0}

    tooltip = folium.GeoJsonTooltip(
        fields=[f for f, _ in TOOLTIP_FIELDS],
        aliases=[escape_text(alias) for _, alias in TOOLTIP_FIELDS],
        sticky=True,
        class_name="cm-area-tooltip",  # wraps: a table row's source line is long
    )
    kwargs: dict[str, Any] = {"class_name": "cm-contested"} if contested else {}
    return folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=name,
        style_function=style_function,
        highlight_function=highlight_function,
        tooltip=tooltip,
        control=False,
        smooth_factor=0.5,
        **kwargs,
    )


def control_areas_layer(
    areas: gpd.GeoDataFrame,
    *,
    name: str = "Control areas",
    as_of: dt.date | str | None = None,
    simplify: float = SIMPLIFY_DEGREES,
    show: bool = True,
    palette: Mapping[str, str] | None = None,
) -> AreasGroup:
    """Who controlled which area: one fill colour per controller, contested areas hatched.

    Parameters
    ----------
    areas
        Control-area versions (``dashboard.areas.read_control_areas``): geometry,
        ``controller``, ``valid_from``, ``valid_to`` (exclusive), optional ``area_id`` and
        ``area_source``. Reprojected to EPSG:4326 if needed.
    name
        Name in the layer control.
    as_of
        Keep only the versions valid on this date (``dashboard.areas.areas_at``: valid_from
        <= as_of < valid_to). ``None``: the caller has already chosen them.
    simplify
        Tolerance in degrees for the displayed outline (0 = exact); the join never sees
        this copy.
    show
        Whether the layer is on when the map opens.

    Returns
    -------
    AreasGroup
        A ``folium.FeatureGroup`` of two GeoJSON layers (contested areas apart, so CSS can hatch them) and the hatch
        definition. Hovering shows controller, validity, area id and source, each escaped
        with :func:`escape_text`. ``.n_areas`` and ``.skipped`` count what was drawn and
        what was set aside (null, empty or NaN geometry).

    Raises
    ------
    CRSError
        The frame has no CRS.
    """
    if palette is None:  # the versions of every date
        palette = style.areas_palette(areas)
    if as_of is not None:
        from dashboard.areas import areas_at

        areas = areas_at(areas, as_of)
    if len(areas) and areas.crs is None:
        raise CRSError("control areas: CRS missing (expected EPSG:4326)")
    if len(areas) and areas.crs is not None and areas.crs.to_epsg() != 4326:
        areas = areas.to_crs(4326)

    geoms, ok = display_geometries(np.asarray(areas.geometry.array, dtype=object), simplify)
    controllers = [
        schema.UNKNOWN if style.is_missing(v) or str(v).strip() == "" else str(v)
        for v in (areas[schema.CONTROLLER] if schema.CONTROLLER in areas else [None] * len(areas))
    ]
    colours = style.controller_colours(controllers, palette=palette)

    def column(col: str) -> list[Any]:
        return list(areas[col]) if col in areas.columns else [None] * len(areas)

    plain: list[dict[str, Any]] = []
    contested: list[dict[str, Any]] = []
    for i, (geom, good, ctrl, aid, src) in enumerate(
        zip(
            geoms,
            ok,
            controllers,
            column(schema.AREA_ID),
            _sources(areas),
            strict=True,
        )
    ):
        if not good:
            continue
        props = {
            "controller": escape_text(ctrl),
            "history": HISTORY_HINT,
            "area": escape_text(aid),
            "source": escape_text(src),
            "_colour": colours[ctrl],
        }
        (contested if ctrl == schema.CONTESTED else plain).append(geojson_feature(i, geom, props))

    group = AreasGroup(name=escape_text(name), show=show)
    if plain:
        _geojson(plain, contested=False, name="areas").add_to(group)
    if contested:
        _Hatch(style.CONTROLLER_COLOURS[schema.CONTESTED]).add_to(group)
        _geojson(contested, contested=True, name="contested").add_to(group)
    group.n_areas = len(plain) + len(contested)
    group.skipped = int((~ok).sum())
    stabilise_ids(group, content_seed("areas", name, json.dumps([plain, contested])))
    return group
