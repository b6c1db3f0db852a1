"""Event layers: canvas points, clusters and a heat map, all from compact arrays.

One folium object per layer, never one per event: the events travel as columns of small
integers (coordinates x 10^4, codes into lookup tables), decoded and drawn by
``conflictmap.js``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dashboard import schema, style
from dashboard.layers._base import JsonLayer, content_seed, stabilise_ids
from dashboard.layers.safety import escape_text, script_json

#: Coordinates travel as integers: degrees x COORD_SCALE (1e4 = about 11 m).
COORD_SCALE = 10_000
#: Heat maps are blurry anyway: 1e3 (about 110 m) keeps them smaller.
HEAT_COORD_SCALE = 1_000
#: Notes longer than this are cut (with an ellipsis) in popups; None keeps them whole.
NOTES_MAX_CHARS = 280
#: Above this many points, ``default_point_mode`` clusters them; above the second, heat.
POINTS_MAX = 20_000
CLUSTERS_MAX = 150_000
POINT_MODES: tuple[str, ...] = ("points", "clusters", "heatmap")

#: Popup wording (English; data values are never translated).
POPUP_LABELS: Mapping[str, Any] = {
    "date": "Date",
    "subType": "Sub-type",
    "actors": "Actors",
    "place": "Place",
    "precision": "Location",
    "fatalities": "Fatalities",
    "unknownFatalities": "unknown",
    "controller": "Controlled by",
    "source": "Source",
    "notes": "Notes",
    "eventId": "Event id",
    "unknown": schema.UNKNOWN,
    "unknownController": schema.UNKNOWN,
    "outsideAreas": "no control area mapped here on that date",
    "geoPrecision": ["unknown precision", "exact place", "near the place", "regional centroid"],
    "timePrecision": ["", "", "date within a week", "date within a month or more"],
}


@dataclass(frozen=True)
class EncodedEvents:
    """The compact form of an events frame, ready for the page.

    Attributes
    ----------
    payload
        The JSON value (a dict) ``conflictmap.js`` reads.
    kept
        Positions (``iloc``) of the rows that were drawn, in payload order.
    skipped
        Rows set aside because a coordinate is missing or out of range.
    """

    payload: dict[str, Any]
    kept: np.ndarray
    skipped: int


def default_point_mode(n: int) -> str:
    """How to show ``n`` events by default: ``"points"``, ``"clusters"`` or ``"heatmap"``.

    Up to :data:`POINTS_MAX` every event is drawn (each one readable and clickable); up to
    :data:`CLUSTERS_MAX` they are clustered (overplotting hides more than it shows); beyond
    that a heat map. The canvas layer itself draws 100k points without trouble; the limits
    are about legibility, and clusters cost the browser more than points.
    """
    if n <= POINTS_MAX:
        return "points"
    if n <= CLUSTERS_MAX:
        return "clusters"
    return "heatmap"


def _column(frame: pd.DataFrame, name: str) -> pd.Series | None:
    return frame[name] if name in frame.columns else None


def _numeric(frame: pd.DataFrame, name: str) -> np.ndarray:
    col = _column(frame, name)
    if col is None:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(col, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _placed(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Latitude, longitude and the positions of rows with usable coordinates."""
    lat = _numeric(frame, schema.LATITUDE)
    lon = _numeric(frame, schema.LONGITUDE)
    ok = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    kept = np.flatnonzero(ok)
    return lat[kept], lon[kept], kept


def _clean(values: pd.Series | None, n: int) -> pd.Series:
    """Text as a string Series, missing ones (None, NaN, NA, blank) as NA; index 0..n-1."""
    if values is None:
        return pd.Series(pd.NA, index=range(n), dtype="string")
    out = values.astype("string").reset_index(drop=True)
    return out.mask(out.str.strip() == "")


def _as_list(values: pd.Series) -> list[str | None]:
    """A cleaned text Series as a list with None for missing (JSON null)."""
    return values.astype("object").where(values.notna(), None).tolist()


def _factorize(values: pd.Series) -> tuple[list[int], list[str]]:
    """Codes into a lookup table of the distinct values; -1 for missing."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes.tolist(), [str(u) for u in uniques]


def _place(frame: pd.DataFrame, n: int) -> tuple[list[int], list[str]]:
    """Codes of "location, admin1, country" (repeated parts once) and their table."""
    parts = [_clean(_column(frame, c), n) for c in (schema.LOCATION, schema.ADMIN1, schema.COUNTRY)]
    key = parts[0].fillna("") + "\x1f" + parts[1].fillna("") + "\x1f" + parts[2].fillna("")
    codes, keys = pd.factorize(key)
    table = [", ".join(dict.fromkeys(p for p in k.split("\x1f") if p)) for k in keys]
    empty = [i for i, text in enumerate(table) if not text]
    out = codes.copy()
    for i in empty:  # all three parts missing
        out[codes == i] = -1
    return out.tolist(), table


def _days(frame: pd.DataFrame, n: int) -> list[int | None]:
    col = _column(frame, schema.EVENT_DATE)
    if col is None:
        return [None] * n
    values = pd.to_datetime(col, errors="coerce")
    ok = values.notna().to_numpy()
    days = np.zeros(n, dtype=np.int64)
    if ok.any():
        days[ok] = values[ok].to_numpy().astype("datetime64[D]").astype(np.int64)
    return [int(d) if k else None for d, k in zip(days.tolist(), ok.tolist(), strict=True)]


def encode_events(
    events: pd.DataFrame,
    *,
    event_types: Iterable[str] | None = None,
    records: bool = True,
    notes_max_chars: int | None = NOTES_MAX_CHARS,
) -> EncodedEvents:
    """Compact arrays for the point and cluster layers.

    Parameters
    ----------
    events
        Canonical events (``dashboard.schema`` columns); only latitude and longitude are
        required. Rows without usable coordinates are set aside and counted.
    event_types
        Event types in legend order; types not listed follow, sorted; a missing type is
        :data:`schema.UNKNOWN`.
    records
        Include the per-point popup records (date, actors, place, notes, ...).
    notes_max_chars
        Cut notes to this length in popups (None: keep whole; 0: leave notes out). Notes
        are most of the page: about 230 of the 275 bytes an event costs with ACLED-like
        notes of 60-400 characters.

    Returns
    -------
    EncodedEvents
    """
    lat, lon, kept = _placed(events)
    n = len(kept)
    rows = events.iloc[kept]

    types_raw = _clean(_column(rows, schema.EVENT_TYPE), n)
    codes, uniques = pd.factorize(types_raw, use_na_sentinel=True)
    order = list(dict.fromkeys(str(t) for t in (event_types or ())))
    types = order + sorted({str(u) for u in uniques} - set(order))
    if (codes < 0).any() and schema.UNKNOWN not in types:
        types.append(schema.UNKNOWN)
    type_table = {t: i for i, t in enumerate(types)}
    remap = np.array([type_table[str(u)] for u in uniques] + [type_table.get(schema.UNKNOWN, 0)])
    type_codes = remap[codes].tolist()  # code -1 (missing) picks the last entry: Unknown
    colours = style.event_type_colours(types)

    fat = _numeric(rows, schema.FATALITIES)
    fat_codes = np.where(np.isfinite(fat) & (fat >= 0), np.rint(np.nan_to_num(fat)), -1)
    prec = _numeric(rows, schema.GEO_PRECISION)
    prec_codes = np.where(np.isin(prec, schema.GEO_PRECISIONS), np.nan_to_num(prec), 0)

    payload: dict[str, Any] = {
        "n": n,
        "scale": COORD_SCALE,
        "lat": np.rint(lat * COORD_SCALE).astype(np.int64).tolist(),
        "lon": np.rint(lon * COORD_SCALE).astype(np.int64).tolist(),
        "type": type_codes,
        "fat": fat_codes.astype(np.int64).tolist(),
        "prec": prec_codes.astype(np.int64).tolist(),
        "types": types,
        "colours": [colours[t] for t in types],
        "style": {
            "r0": style.RADIUS_ZERO,
            "rPerSqrt": style.RADIUS_PER_SQRT_FATALITY,
            "rMax": style.RADIUS_MAX,
            "rUnknown": style.RADIUS_UNKNOWN,
            "fillOpacity": style.POINT_FILL_OPACITY,
            "hollowOpacity": style.HOLLOW_FILL_OPACITY,
            "outline": style.POINT_OUTLINE,
        },
        "labels": dict(POPUP_LABELS),
    }
    if records:
        payload["rec"], payload["dict"] = _records(rows, n, notes_max_chars)
    return EncodedEvents(payload=payload, kept=kept, skipped=len(events) - n)


def _records(
    rows: pd.DataFrame, n: int, notes_max_chars: int | None
) -> tuple[dict[str, list[Any]], dict[str, list[str]]]:
    rec: dict[str, list[Any]] = {}
    tables: dict[str, list[str]] = {}
    rec["id"] = _as_list(_clean(_column(rows, schema.EVENT_ID), n))
    rec["day"] = _days(rows, n)
    tp = _numeric(rows, schema.TIME_PRECISION)
    rec["tp"] = (
        np.where(np.isin(tp, schema.TIME_PRECISIONS), np.nan_to_num(tp), 0)
        .astype(np.int64)
        .tolist()
    )
    for key, column in (
        ("sub", schema.SUB_EVENT_TYPE),
        ("src", schema.SOURCE),
        ("ctrl", schema.CONTROLLER),
        ("conf", schema.CONTROLLER_CONFIDENCE),
    ):
        rec[key], tables[key] = _factorize(_clean(_column(rows, column), n))
    # One table for both actors: the same group is often actor1 here and actor2 there.
    both = pd.concat(
        [_clean(_column(rows, schema.ACTOR1), n), _clean(_column(rows, schema.ACTOR2), n)],
        ignore_index=True,
    )
    actor_codes, tables["actor"] = _factorize(both)
    rec["actor1"], rec["actor2"] = actor_codes[:n], actor_codes[n:]
    rec["place"], tables["place"] = _place(rows, n)
    if notes_max_chars == 0:
        return rec, tables
    notes = _clean(_column(rows, schema.NOTES), n)
    if notes_max_chars is not None:
        long = notes.str.len() > notes_max_chars
        if long.any():
            cut = notes[long].str.slice(0, notes_max_chars - 1).str.rstrip() + "\u2026"
            notes = notes.mask(long, cut)
    rec["notes"] = _as_list(notes)
    return rec, tables


def events_layer(
    events: pd.DataFrame,
    *,
    name: str = "Events",
    event_types: Iterable[str] | None = None,
    records: bool = True,
    notes_max_chars: int | None = NOTES_MAX_CHARS,
    show: bool = True,
) -> JsonLayer:
    """Every event as a circle on one canvas, with a popup per event.

    Colour: event type (``style.EVENT_TYPE_COLOURS``). Radius: grows with sqrt(fatalities);
    unknown fatalities get their own size and a dashed outline (never drawn as 0).
    Hollow circle with a thick ring: approximate location (geo_precision 2-3 or unknown).
    Clicking a point opens a popup built in the browser from that event's record; every
    value is inserted as text (``textContent``), so markup in the data shows literally.

    Parameters
    ----------
    events
        Canonical events; rows without usable coordinates are left out
        (``layer.skipped`` says how many).
    name
        Name in the layer control.
    event_types
        Legend order of the event types (the colours follow it).
    records, notes_max_chars
        See :func:`encode_events`; ``records=False`` drops popups (about 20 bytes a point
        left).
    show
        Whether the layer is on when the map opens.

    Returns
    -------
    JsonLayer
        One folium layer (``L.ConflictMap.Points``, a subclass of Leaflet's canvas
        renderer); ``.n_points`` and ``.skipped`` tell what it holds.
    """
    return _encoded_layer(
        JsonLayer, "points", "events", events, name=name, event_types=event_types,
        records=records, notes_max_chars=notes_max_chars, show=show,
    )


def _encoded_layer(
    cls: type[JsonLayer],
    kind: str,
    seed: str,
    events: pd.DataFrame,
    *,
    name: str,
    event_types: Iterable[str] | None,
    records: bool,
    notes_max_chars: int | None,
    show: bool,
) -> JsonLayer:
    """The events encoded once and handed to a layer class that draws them as ``kind``."""
    encoded = encode_events(
        events, event_types=event_types, records=records, notes_max_chars=notes_max_chars
    )
    payload = script_json(encoded.payload)
    layer = cls(kind, payload, name=escape_text(name), show=show)
    layer.n_points = encoded.payload["n"]
    layer.skipped = encoded.skipped
    stabilise_ids(layer, content_seed(seed, name, payload))
    return layer


class _ClusterLayer(JsonLayer):
    _asset_js = ("leaflet", "markerclusterjs", "conflictmap_js")
    _asset_css = ("leaflet_css", "markerclustercss", "markerclusterdefaultcss", "conflictmap_css")


def cluster_layer(
    events: pd.DataFrame,
    *,
    name: str = "Events",
    event_types: Iterable[str] | None = None,
    records: bool = True,
    notes_max_chars: int | None = NOTES_MAX_CHARS,
    show: bool = True,
) -> JsonLayer:
    """Events grouped into Leaflet.markercluster clusters that split as you zoom in.

    Same data, symbols and popups as :func:`events_layer`; the cluster plugin is served
    from the app (``xstatic-leaflet-markercluster``).
    """
    return _encoded_layer(
        _ClusterLayer, "cluster", "cluster", events, name=name, event_types=event_types,
        records=records, notes_max_chars=notes_max_chars, show=show,
    )


class _HeatLayer(JsonLayer):
    """Leaflet.heat fed from integer coordinates (folium's HeatMap validates row by row)."""

    _asset_js = ("leaflet", "leaflet-heat.js", "conflictmap_js")
    _asset_css = ("leaflet_css", "conflictmap_css")


def heatmap_layer(
    events: pd.DataFrame,
    *,
    name: str = "Event density",
    weight: str = "events",
    radius: int = 14,
    blur: int = 16,
    show: bool = True,
) -> JsonLayer:
    """Density of events (Leaflet.heat, served by the app).

    Parameters
    ----------
    events
        Canonical events; rows without usable coordinates are left out.
    weight
        ``"events"``: every event counts 1. ``"fatalities"``: 1 + log(1 + fatalities), so
        unknown fatalities still count as an event.
    radius, blur
        Leaflet.heat's kernel radius and blur, in pixels.

    Returns
    -------
    JsonLayer
        ``L.ConflictMap.heat`` (Leaflet.heat served by the app, drawn above the areas).
    """
    if weight not in ("events", "fatalities"):
        raise ValueError(f"weight must be 'events' or 'fatalities', not {weight!r}")
    lat, lon, kept = _placed(events)
    coords = np.empty(2 * len(kept), dtype=np.int64)
    coords[0::2] = np.rint(lat * HEAT_COORD_SCALE)
    coords[1::2] = np.rint(lon * HEAT_COORD_SCALE)
    if weight == "fatalities":
        fat = _numeric(events.iloc[kept], schema.FATALITIES)
        w = np.round(1 + np.log1p(np.where(np.isfinite(fat) & (fat > 0), fat, 0)), 2)
    else:
        w = np.ones(len(kept))
    weights = w.astype(np.int64).tolist() if weight == "events" else w.tolist()
    options = {
        "radius": radius,
        "blur": blur,
        "minOpacity": 0.35,
        "gradient": dict(style.HEAT_GRADIENT),
    }
    payload = script_json(
        {
            "scale": HEAT_COORD_SCALE,
            "coords": coords.tolist(),
            "weights": weights,
            "options": options,
        }
    )
    layer = _HeatLayer("heat", payload, name=escape_text(name), show=show)
    layer.n_points = len(kept)
    layer.skipped = len(events) - len(kept)
    stabilise_ids(layer, content_seed("heat", name, payload))
    return layer
