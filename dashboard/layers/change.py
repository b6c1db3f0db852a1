"""Ground that changed hands between two dates (``dashboard.compare``), and its legend."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from dashboard import style
from dashboard.changemap import controller_name, km2_text
from dashboard.errors import CRSError
from dashboard.layers._base import JsonLayer, content_seed, stabilise_ids
from dashboard.layers.areas import SIMPLIFY_DEGREES, display_geometries
from dashboard.layers.safety import escape_text, script_json

# The columns of dashboard.compare.changed_pieces (kept in step by a test).
FROM = "controller_a"
TO = "controller_b"
AREA_KM2 = "area_km2"

TOOLTIP_FIELDS: tuple[tuple[str, str], ...] = (
    ("change", "Change"),
    ("from", "Held on the first date by"),
    ("to", "Held on the second date by"),
    ("km2", "Area"),
)
#: Legend wording of the two focus colours.
GAINED_LABEL = "gained by {focus}"
LOST_LABEL = "lost by {focus}"


class ChangeGroup(folium.FeatureGroup):
    """The change layer: a FeatureGroup that says what it drew and set aside."""

    n_pieces: int = 0
    skipped: int = 0


def piece_style(
    old: str, new: str, *, focus: str | None, colours: Mapping[str, str]
) -> dict[str, Any] | None:
    """Leaflet style of one changed piece; None when it is not drawn (focus mode).

    Without ``focus``: filled in the new controller's colour, outlined (dashed) in the
    previous one's. With ``focus``: the focus controller's gains in
    :data:`~dashboard.style.CHANGE_GAINED`, its losses in :data:`~dashboard.style.CHANGE_LOST`,
    everything else left out.
    """
    if focus is not None:
        if new == focus:
            fill = style.CHANGE_GAINED
        elif old == focus:
            fill = style.CHANGE_LOST
        else:
            return None
        line = fill
    else:
        fill, line = colours[new], colours[old]
    return {
        "color": line,
        "weight": style.CHANGE_OUTLINE_WEIGHT,
        "opacity": 0.95,
        "dashArray": style.CHANGE_OUTLINE_DASH,
        "fillColor": fill,
        "fillOpacity": style.CHANGE_FILL_OPACITY,
    }


def change_layer(
    pieces: gpd.GeoDataFrame,
    *,
    focus: str | None = None,
    name: str = "Changed hands",
    simplify: float = SIMPLIFY_DEGREES,
    show: bool = True,
    palette: Mapping[str, str] | None = None,
) -> ChangeGroup:
    """Ground that changed hands between two dates.

    Parameters
    ----------
    pieces
        ``dashboard.compare.changed_pieces``: ``controller_a``, ``controller_b``,
        ``area_km2`` and polygon geometry (reprojected to EPSG:4326 if needed).
    focus
        A controller: draw only its gains (blue) and losses (orange). None: every piece,
        filled in the colour of its new controller and outlined in that of the old one.
    name
        Name in the layer control.
    simplify
        Tolerance in degrees of the displayed outline (0 = exact).
    show
        Whether the layer is on when the map opens.

    Returns
    -------
    ChangeGroup
        A FeatureGroup holding one GeoJSON layer. Hovering shows the change, both
        controllers and the area, each escaped with :func:`escape_text`. ``.n_pieces`` and
        ``.skipped`` count what was drawn and what was set aside (null, empty or NaN
        geometry).

    Raises
    ------
    CRSError
        The frame has no CRS.
    """
    if len(pieces) and pieces.crs is None:
        raise CRSError("changed pieces: CRS missing (expected EPSG:4326)")
    if len(pieces) and pieces.crs is not None and pieces.crs.to_epsg() != 4326:
        pieces = pieces.to_crs(4326)
    old = [controller_name(v) for v in (pieces[FROM] if FROM in pieces else [None] * len(pieces))]
    new = [controller_name(v) for v in (pieces[TO] if TO in pieces else [None] * len(pieces))]
    km2 = list(pieces[AREA_KM2]) if AREA_KM2 in pieces else [None] * len(pieces)
    colours = style.controller_colours([*new, *old], palette=palette)
    geoms, ok = display_geometries(np.asarray(pieces.geometry.array, dtype=object), simplify)

    features: list[dict[str, Any]] = []
    for i, (geom, good, a, b, area) in enumerate(zip(geoms, ok, old, new, km2, strict=True)):
        if not good:
            continue
        look = piece_style(a, b, focus=focus, colours=colours)
        if look is None:
            continue
        if focus is None:
            change = f"{a} → {b}"
        else:
            change = (GAINED_LABEL if b == focus else LOST_LABEL).format(focus=focus)
        props = {
            "change": escape_text(change),
            "from": escape_text(a),
            "to": escape_text(b),
            "km2": escape_text(km2_text(area)),
            "_style": look,
        }
        features.append(
            {
                "type": "Feature",
                "id": str(i),
                "geometry": json.loads(shapely.to_geojson(geom)),
                "properties": props,
            }
        )

    group = ChangeGroup(name=escape_text(name), show=show)
    if features:
        tooltip = folium.GeoJsonTooltip(
            fields=[f for f, _ in TOOLTIP_FIELDS],
            aliases=[escape_text(alias) for _, alias in TOOLTIP_FIELDS],
            sticky=True,
        )
        folium.GeoJson(
            {"type": "FeatureCollection", "features": features},
            name="changes",
            style_function=lambda feature: feature["properties"]["_style"],
            highlight_function=lambda feature: {"weight": 4.0, "fillOpacity": 0.75},
            tooltip=tooltip,
            control=False,
            smooth_factor=0.5,
        ).add_to(group)
    group.n_pieces = len(features)
    group.skipped = int((~ok).sum())
    stabilise_ids(group, content_seed("change", name, str(focus), json.dumps(features)))
    return group


def change_legend(
    pieces: gpd.GeoDataFrame,
    *,
    day_a: dt.date | str,
    day_b: dt.date | str,
    focus: str | None = None,
    event_types: Iterable[str] = (),
    counts: Mapping[str, Any] | None = None,
    title: str = "Territory that changed hands",
    name: str = "Legend",
    palette: Mapping[str, str] | None = None,
) -> JsonLayer:
    """The legend and title box of the change map (the same control as ``legend_element``).

    Without ``focus`` it lists the controllers that *gained* ground (fill colours; the
    dashed outline is the previous controller); with ``focus`` the two focus colours.
    ``event_types`` adds the colour key of the events drawn; ``counts`` lines at the foot.
    """
    a, b = (pd.Timestamp(d).date().isoformat() for d in (day_a, day_b))
    if focus is None:
        gaining = list(dict.fromkeys(controller_name(v) for v in pieces[TO])) if len(pieces) else []
        # The dashed outlines are drawn in the colour of who held the ground before: say
        # whose colours those are, or the outlines cannot be read. One colour table for
        # both, as the layer has (change_layer).
        losing = (
            list(dict.fromkeys(controller_name(v) for v in pieces[FROM])) if len(pieces) else []
        )
        colours = style.controller_colours([*gaining, *losing], palette=palette)
        rows = [[c, colours[c], False] for c in gaining]
        heading = "Held on the second date by (fill)"
        outlines = {
            "heading": "Held on the first date by (dashed outline)",
            "rows": [[c, colours[c]] for c in losing],
        }
    else:
        rows = [
            [GAINED_LABEL.format(focus=focus), style.CHANGE_GAINED, False],
            [LOST_LABEL.format(focus=focus), style.CHANGE_LOST, False],
        ]
        heading = "Change"
        outlines = None
    types = list(dict.fromkeys(str(t) for t in event_types))
    type_colours = style.event_type_colours(types)
    spec = {
        "title": title,
        "subtitle": [f"From {a} to {b}"],
        "position": "bottomright",
        "controllers": rows,
        "types": [[t, type_colours[t]] for t in types],
        "counts": [f"{k}: {v}" for k, v in (counts or {}).items()],
        "headings": {
            "controllers": heading,
            "types": "Events in changed ground",
            "symbols": "Symbols",
        },
        "symbols": {
            "sizes": [[f"{n:,} fatalities", style.point_radius(n)] for n in (0, 10, 100)],
            "unknown": "fatalities unknown (dashed)",
            "hollow": "approximate location (hollow)",
        },
    }
    if outlines is not None and outlines["rows"]:
        spec["outlines"] = outlines
    payload = script_json(spec)
    layer = JsonLayer("legend", payload, name=escape_text(name))
    stabilise_ids(layer, content_seed("change-legend", name, payload))
    return layer
