"""Events aggregated into hexagons on the server (``dashboard.aggregate``), drawn on a canvas.

The page gets one small record per hexagon, never one per event: axial grid coordinates
(the browser computes the exact centre and corners from them and the cell size), the count,
the known fatalities and how many tolls are unknown, counts per event type and the first
and last day. ``L.ConflictMap.Hexagons`` in ``hexagons.js`` draws them as regular
hexagons whose size follows the map zoom, filled by count on a log-scale ramp
(``style.HEX_RAMP``), and builds each popup as text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dashboard import aggregate, style
from dashboard.aggregate import HEX_PIXELS, MAX_CELLS, HexBins
from dashboard.layers._base import JsonLayer, content_seed, stabilise_ids
from dashboard.layers.safety import escape_text, script_json

#: Popup and legend wording (English; data values are never translated).
HEX_LABELS: Mapping[str, str] = {
    "event": "event",
    "events": "events",
    "inHexagon": "in this hexagon",
    "fatalities": "Fatalities",
    "known": "known",
    "unknownFor": "unknown for",
    "dates": "Dates",
    "to": "to",
    "undated": "no dates",
    "hexagon": "Hexagon",
    "across": "across",
    "about": "about",
    "byType": "By event type",
}
#: Heading of the ramp in the legend.
LEGEND_HEADING = style.HEX_LEGEND_HEADING
#: Below the sentence in the legend: where the detail is.
LEGEND_HINT = "Click a hexagon for its events by type, fatalities and dates."


@dataclass(frozen=True)
class HexagonKey:
    """What the legend shows for a hexagon layer (``legend_element(hexagons=...)``).

    Attributes
    ----------
    sentence
        "N events shown as M hexagons (each about X km across)".
    classes
        ``(label, fill colour)`` of each count class, lightest first.
    heading, hint
        The ramp's heading, and a line saying what a click shows.
    """

    sentence: str
    classes: tuple[tuple[str, str], ...]
    heading: str = LEGEND_HEADING
    hint: str = LEGEND_HINT

    def spec(self) -> dict[str, Any]:
        """The JSON value the legend (``legend.js``) reads."""
        return {
            "heading": self.heading,
            "classes": [list(c) for c in self.classes],
            "sentence": self.sentence,
            "hint": self.hint,
            "outline": style.HEX_OUTLINE,
            "fillOpacity": style.HEX_FILL_OPACITY,
        }


def hexagon_key(bins: HexBins) -> HexagonKey:
    """The legend entry of ``bins``: its sentence and count classes."""
    top = int(bins.cells[aggregate.COUNT].max()) if bins.n_cells else 1
    classes = tuple(
        (style.count_class_label(low, high), fill)
        for low, high, fill, _ in style.count_classes(top)
    )
    return HexagonKey(sentence=bins.describe(), classes=classes)


class HexagonLayer(JsonLayer):
    """``L.ConflictMap.Hexagons``; knows what it aggregates and what its legend says."""

    #: The aggregation drawn, and its legend entry.
    bins: HexBins
    key: HexagonKey
    n_cells: int = 0


def encode_hexagons(bins: HexBins) -> dict[str, Any]:
    """The compact JSON value of ``bins`` for ``L.ConflictMap.Hexagons``.

    Parameters
    ----------
    bins
        Aggregated events (:func:`dashboard.aggregate.hexbin`).

    Returns
    -------
    dict
        Parallel arrays, one entry per hexagon: ``q``/``r`` (axial grid coordinates),
        ``count``, ``fat`` (known fatalities), ``unk`` (events with unknown fatalities),
        ``first``/``last`` (days after ``day0``, -1 when undated), and ``tc`` (one array
        of counts per entry of ``types``); plus the grid (``size``, ``orientation``), the
        count classes and the wording.
    """
    cells = bins.cells
    top = int(cells[aggregate.COUNT].max()) if bins.n_cells else 1
    first = cells[aggregate.FIRST_DATE]
    last = cells[aggregate.LAST_DATE]
    dated = first.notna().to_numpy()
    first_days = first.to_numpy(dtype="datetime64[D]").astype(np.int64)
    last_days = last.to_numpy(dtype="datetime64[D]").astype(np.int64)
    day0 = int(first_days[dated].min()) if dated.any() else 0
    types = [str(t) for t in bins.type_counts.columns]
    colours = style.event_type_colours(types)
    fat = cells[aggregate.FATALITIES_KNOWN].to_numpy()
    return {
        "n": bins.n_cells,
        "events": bins.events,
        "size": bins.cell_size,
        "orientation": bins.orientation,
        "q": cells[aggregate.Q].astype(np.int64).tolist(),
        "r": cells[aggregate.R].astype(np.int64).tolist(),
        "count": cells[aggregate.COUNT].astype(np.int64).tolist(),
        "fat": fat.astype(np.int64).tolist()
        if np.issubdtype(fat.dtype, np.integer)
        else np.round(fat, 2).tolist(),
        "unk": cells[aggregate.FATALITIES_UNKNOWN].astype(np.int64).tolist(),
        "day0": day0,
        "first": np.where(dated, first_days - day0, -1).tolist(),
        "last": np.where(dated, last_days - day0, -1).tolist(),
        "types": types,
        "colours": [colours[t] for t in types],
        "tc": [bins.type_counts[t].astype(np.int64).tolist() for t in bins.type_counts.columns],
        "classes": [[low, fill, text] for low, _, fill, text in style.count_classes(top)],
        "style": {
            "fillOpacity": style.HEX_FILL_OPACITY,
            "outline": style.HEX_OUTLINE,
            "outlineWidth": style.HEX_OUTLINE_WIDTH,
        },
        "labels": dict(HEX_LABELS),
    }


def hexagon_layer(
    events: pd.DataFrame | HexBins,
    *,
    zoom: float | None = None,
    cell_size: float | None = None,
    pixels: float = HEX_PIXELS,
    max_cells: int = MAX_CELLS,
    orientation: str = "pointy",
    event_types: Iterable[str] | None = None,
    name: str = "Events (hexagons)",
    show: bool = True,
) -> HexagonLayer:
    """Events aggregated into hexagons on the server, drawn on one canvas.

    Fill: number of events, on :data:`style.HEX_RAMP` in classes of 1-2-5 per decade
    (a log scale, see :func:`style.count_classes`). A hexagon big enough on screen shows
    its count. Clicking one opens a popup, built as text in the browser: the count, the
    known fatalities and for how many events they are unknown, the counts per event type
    and the first and last date.

    Parameters
    ----------
    events
        Canonical events (rows without usable coordinates are counted in
        ``layer.skipped``), or hexagons already made by :func:`dashboard.aggregate.hexbin`
        (then ``zoom`` and ``cell_size`` must be left out).
    zoom, cell_size
        Give one: the map zoom (hexagons about ``pixels`` wide on screen at that zoom), or
        the hexagon width in Web Mercator metres. Either is grown, if needed, until at
        most ``max_cells`` hexagons hold the events (:func:`dashboard.aggregate.grow_cell_size`).
    pixels
        Hexagon width on screen at ``zoom``.
    max_cells
        Most hexagons sent to the page.
    orientation
        ``"pointy"`` or ``"flat"``-topped hexagons.
    event_types
        Legend order of the event types (popup order of equal counts, and colours).
    name
        Name in the layer control.
    show
        Whether the layer is on when the map opens.

    Returns
    -------
    HexagonLayer
        ``.n_points`` events in ``.n_cells`` hexagons, ``.skipped`` rows left out,
        ``.bins`` (the aggregation) and ``.key`` (for ``legend_element(hexagons=...)``).
    """
    if isinstance(events, HexBins):
        if zoom is not None or cell_size is not None:
            raise ValueError("give zoom or cell_size with events, not with hexagons already made")
        bins = events
    else:
        if (zoom is None) == (cell_size is None):
            raise ValueError(f"give exactly one of zoom and cell_size, not {zoom!r}, {cell_size!r}")
        if zoom is not None:
            bins = aggregate.hexbin_for_zoom(
                events,
                zoom,
                pixels=pixels,
                max_cells=max_cells,
                orientation=orientation,
                event_types=event_types,
            )
        else:
            assert cell_size is not None
            size = aggregate.grow_cell_size(
                events, cell_size, max_cells=max_cells, orientation=orientation
            )
            bins = aggregate.hexbin(
                events, cell_size=size, orientation=orientation, event_types=event_types
            )
    payload = script_json(encode_hexagons(bins))
    layer = HexagonLayer("hexagons", payload, name=escape_text(name), show=show)
    layer.bins = bins
    layer.key = hexagon_key(bins)
    layer.n_points = bins.events
    layer.n_cells = bins.n_cells
    layer.skipped = bins.skipped
    stabilise_ids(layer, content_seed("hexagons", name, payload))
    return layer
