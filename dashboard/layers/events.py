"""Event layers: canvas points, clusters and a heat map, all from compact arrays.

One folium object per layer, never one per event. The points and clusters get one JSON
value (format 2) that ``points.js`` decodes into typed arrays::

    {"format": 2, "n": <events>, "scale": 10000,
     "cols":   {name: column, ...},              one value per event
     "groups": [{"k": <rows>, "code": column,    values shared by many events: event i's
                 "cols": {name: column, ...}}],  value of name is cols[name][code[i]]
     "dict":   {table: [text, ...], ...},        texts the integer codes point into
     "types", "colours", "style", "labels"}

    column = {"o": offset, "w": bytes (0-4), "b": base64, "d": first value if deltas}

A column is ``w``-byte little-endian unsigned integers (base64), each plus ``o``; with
``"d"`` they are differences from the previous value (the first from ``d``), so a running
sum gives the values: dates and event-id numbers of sorted events cost a byte or nothing. Each column takes the fewest bytes its
range needs, and columns whose combinations repeat (type, precision, source, ...: a few
thousand combinations among 100k events) travel once per combination in a group.

The integer columns: ``lat``/``lon`` (degrees x ``scale``), ``type`` (into ``types``),
``fat`` (fatalities, -1 unknown), ``prec`` (geo precision, 0 unknown), ``stack`` (how many
events of the layer share the point's ``lat``/``lon`` exactly, itself included: the page
marks such points with a count and lists them all in one popup); with popup records
also ``day`` (days since 1970-01-01; ``dayKnown`` 0 where the date is missing, present only
then), ``tp`` (time precision), ``sub``/``src``/``ctrl``/``conf``/``place`` and
``actor1``/``actor2`` (codes into ``dict``, -1 missing), ``idp``/``idn`` (event id: a
``[prefix, pad]`` entry of ``dict.idp`` plus a number zero-padded to ``pad`` digits; pad -1:
the prefix is the whole id), and ``note`` (into ``dict.notes``) when the notes travel, or
``hasNote`` (0/1) when they were left out for size (:data:`NOTES_BUDGET_BYTES`); then
``labels.notesNotSent`` says so in the popup of each event that has notes.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from dashboard import schema, style
from dashboard.layers._base import JsonLayer, content_seed, stabilise_ids
from dashboard.layers.safety import escape_text, script_json

#: Version of the points/cluster payload (see the module docstring).
PAYLOAD_FORMAT = 2
#: Coordinates travel as integers: degrees x COORD_SCALE (1e4 = about 11 m).
COORD_SCALE = 10_000
#: Heat maps are blurry anyway: 1e3 (about 110 m) keeps them smaller.
HEAT_COORD_SCALE = 1_000
#: A cut for callers that want short notes (``notes_max_chars=NOTES_MAX_CHARS``); by
#: default notes travel whole.
NOTES_MAX_CHARS = 280
#: Notes travel only while the layer's data, notes included, stays within this many bytes,
#: so that a map of 100k events stays under 3 MB (without notes they take 1.4-2.4 MB). With
#: ACLED-like notes (60-400 characters) whole notes fit for about 5-8k events; with short,
#: repetitive ones for 20k or more. Above it every popup of an event with notes says they
#: were not sent, and where to read them.
NOTES_BUDGET_BYTES = 2_500_000
#: Where the popup sends readers for notes that were not sent (the app's events table).
NOTES_ELSEWHERE = "the events table under the map, or its CSV / GeoJSON download"
POINT_MODES: tuple[str, ...] = ("points", "clusters", "heatmap", "hexagons")

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
    # A value longer than the popup shows at once (core.js CM.longText); {n} is
    # the number of characters not shown yet.
    "showMore": "Show more ({n} more characters)",
    # Events under one click (points.js CM.stackPopup): {n} events, newest first.
    "stackTitle": "{n} events here",
    "stackOrder": "newest first; click an event for its details",
    "stackMore": "Show {k} more ({n} not shown yet)",
}
#: The popup's notes row when the notes were left out for size ({n}: events, {where}).
NOTES_NOT_SENT = (
    "Not sent with this map: the notes of {n:,} events would make the page too large. "
    "Read them in {where} (look up the event id below)."
)

#: Columns that may share one group (few distinct combinations), and those that may share
#: another (events geocoded to the same place repeat its coordinates).
_ATTRIBUTE_COLUMNS = (
    "type",
    "prec",
    "fat",
    "tp",
    "sub",
    "src",
    "ctrl",
    "conf",
    "idp",
    "dayKnown",
    "hasNote",
    "actor1",
    "actor2",
)
_PLACE_COLUMNS = ("lat", "lon", "place", "stack")
#: Columns that travel as differences when that is smaller (sorted dates and ids).
_DELTA_COLUMNS = ("day", "idn")


@dataclass(frozen=True)
class EncodedEvents:
    """The compact form of an events frame, ready for the page.

    Attributes
    ----------
    payload
        The JSON value (a dict) ``points.js`` reads (format in the module docstring).
    kept
        Positions (``iloc``) of the rows that were drawn, in payload order.
    skipped
        Rows set aside because a coordinate is missing or out of range.
    notes_withheld
        True when the events have notes but they were left out to keep the page within
        ``notes_budget_bytes`` (each popup then says so).
    """

    payload: dict[str, Any]
    kept: np.ndarray
    skipped: int
    notes_withheld: bool = False


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


def stack_sizes(lat: np.ndarray, lon: np.ndarray, *, scale: int = COORD_SCALE) -> np.ndarray:
    """How many of the points share each point's position, itself included.

    Positions are compared as the page receives them, rounded to ``1 / scale`` degree (the
    payload's ``lat``/``lon``): events geocoded to one town, or given the same coordinates
    by their source, are drawn on one spot and counted together.

    Parameters
    ----------
    lat, lon
        Coordinates in degrees, finite, one per point.
    scale
        Positions closer than ``1 / scale`` degree count as one (:data:`COORD_SCALE`).

    Returns
    -------
    numpy.ndarray
        int64, one count (>= 1) per point, in the points' order.
    """
    lat_codes = np.rint(np.asarray(lat, dtype="float64") * scale).astype(np.int64)
    lon_codes = np.rint(np.asarray(lon, dtype="float64") * scale).astype(np.int64)
    if not len(lat_codes):
        return np.zeros(0, dtype=np.int64)
    # One integer per position: latitude codes span 180 * scale + 1 values at most.
    key = (lat_codes + 90 * scale) * (360 * scale + 1) + (lon_codes + 180 * scale)
    _, inverse, counts = np.unique(key, return_inverse=True, return_counts=True)
    return counts[inverse].astype(np.int64)


def _clean(values: pd.Series | None, n: int) -> pd.Series:
    """Text as a string Series, missing ones (None, NaN, NA, blank) as NA; index 0..n-1."""
    if values is None:
        return pd.Series(pd.NA, index=range(n), dtype="string")
    out = values.astype("string").reset_index(drop=True)
    return out.mask(out.str.strip() == "")


def _factorize(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Codes into a lookup table of the distinct values; -1 for missing."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return codes.astype(np.int64), uniques.tolist()  # text already (_clean)


def _place(frame: pd.DataFrame, n: int) -> tuple[np.ndarray, list[str]]:
    """Codes of "location, admin1, country" (repeated parts once) and their table."""
    key = np.zeros(n, dtype=np.int64)
    parts = []
    for column in (schema.LOCATION, schema.ADMIN1, schema.COUNTRY):
        codes, texts = _factorize(_clean(_column(frame, column), n))
        parts.append((codes, texts))
        key = pd.factorize(key * (len(texts) + 1) + codes + 1)[0].astype(np.int64)
    rows = int(key.max()) + 1 if n else 0
    first = np.empty(rows, dtype=np.int64)
    first[key[::-1]] = np.arange(n)[::-1]  # the first event of each combination
    table = []
    for i in first.tolist():
        found = [texts[codes[i]] for codes, texts in parts if codes[i] >= 0]
        table.append(", ".join(dict.fromkeys(found)))
    missing = [k for k, text in enumerate(table) if not text]  # all three parts missing
    if missing:
        out = np.where(key == missing[0], -1, key - (key > missing[0]))
        del table[missing[0]]
        return out, table
    return key, table


def _days(frame: pd.DataFrame, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Days since 1970-01-01 and whether each is known (missing: the previous known day)."""
    col = _column(frame, schema.EVENT_DATE)
    if col is None:
        return np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
    values = pd.to_datetime(col, errors="coerce")
    ok = values.notna().to_numpy()
    days: np.ndarray = np.zeros(n, dtype=np.int64)
    if ok.any():
        days[ok] = values[ok].to_numpy().astype("datetime64[D]").astype(np.int64)
        if not ok.all():  # a missing day repeats its neighbour: a zero difference
            days = pd.Series(np.where(ok, days, np.nan)).ffill().bfill().to_numpy(np.int64)
    return days, ok


def _event_ids(frame: pd.DataFrame, n: int) -> tuple[np.ndarray, np.ndarray, list[list[Any]]]:
    """Event ids as (code of [prefix, pad], number): "SYR000123" is ["SYR", 6] and 123.

    Ids end in up to nine digits more often than not (ACLED "SYR12345", UCDP 12345): the
    prefixes repeat and the numbers pack into a few bytes, or none when they count up.
    The id is ``prefix + str(number).zfill(pad)``, exactly; pad -1 marks an id kept whole.
    """
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), []
    ids = _clean(_column(frame, schema.EVENT_ID), n)
    # Missing ids as None, pyarrow's null (pandas takes any na_value; its stubs a scalar).
    arr = pa.array(ids.to_numpy(dtype=object, na_value=None), type=pa.string())  # type: ignore[call-overload]
    parts = pc.extract_regex(arr, r"(?s)^(?P<p>.*?)(?P<d>[0-9]{1,9})$")
    digits = pc.struct_field(parts, "d")  # null where the id is missing or has no number
    matched = pc.is_valid(digits).to_numpy(zero_copy_only=False)
    prefix = pc.if_else(matched, pc.struct_field(parts, "p"), arr)
    width = pc.fill_null(pc.utf8_length(digits), 0).to_numpy(zero_copy_only=False)
    zero = pc.fill_null(pc.starts_with(digits, "0"), False).to_numpy(zero_copy_only=False)
    pad = np.where(~matched, -1, np.where(zero & (width > 1), width, 0)).astype(np.int64)
    number = pc.fill_null(pc.cast(digits, pa.int64()), 0).to_numpy(zero_copy_only=False)
    # Ids without a number repeat the previous number: a zero difference.
    number = pd.Series(np.where(matched, number, np.nan)).ffill().fillna(0).to_numpy(np.int64)
    encoded = pc.dictionary_encode(prefix)
    prefix_codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
    present = prefix_codes >= 0
    codes = np.full(n, -1, dtype=np.int64)
    codes[present], keys = pd.factorize(
        prefix_codes[present].astype(np.int64) * 11 + pad[present] + 1
    )
    prefixes = encoded.dictionary.to_pylist()
    table = [[prefixes[int(k) // 11], int(k) % 11 - 1] for k in keys]
    return codes, number, table


# --- packing -------------------------------------------------------------------------------


def _width(span: int) -> int:
    """Bytes an unsigned integer up to ``span`` needs (0 for span 0)."""
    return (int(span).bit_length() + 7) // 8


def _deltas(values: np.ndarray) -> tuple[int, np.ndarray]:
    """A start and the differences from it, then from each value to the next.

    The start is one step before the first value: a constant step (ids counting up) is
    then one difference repeated, which takes no bytes at all.
    """
    if len(values) < 2:
        start = int(values[0]) if len(values) else 0
    else:
        start = int(2 * values[0] - values[1])
    return start, np.diff(values, prepend=np.int64(start))


def _spans(values: np.ndarray) -> tuple[int, int]:
    """The range of the values and of their differences."""
    if not len(values):
        return 0, 0
    deltas = _deltas(values)[1]
    return int(values.max() - values.min()), int(deltas.max() - deltas.min())


def _pack(values: np.ndarray, *, delta: bool = False) -> dict[str, Any]:
    """One column: little-endian unsigned ints of the fewest bytes, plus an offset.

    With ``delta`` the ints are differences from the previous value, the first from
    ``"d"`` (see :func:`_deltas`).
    """
    v = np.asarray(values, dtype=np.int64)
    start = 0
    if delta:
        start, v = _deltas(v)
    low = int(v.min()) if len(v) else 0
    u = v - low
    span = int(u.max()) if len(u) else 0
    if span >= 2**32:
        raise ValueError(f"a column spans {span!r}, more than 4 bytes")
    w = _width(span)
    raw = np.ascontiguousarray(u.astype("<u4").view(np.uint8).reshape(-1, 4)[:, :w])
    spec: dict[str, Any] = {"o": low, "w": w, "b": base64.b64encode(raw.tobytes()).decode()}
    if delta:
        spec["d"] = start
    return spec


def _pack_column(name: str, values: np.ndarray) -> dict[str, Any]:
    """A per-event column, as differences when that takes fewer bytes."""
    plain, delta = _spans(values)
    return _pack(values, delta=name in _DELTA_COLUMNS and _width(delta) < _width(plain))


def _group(
    columns: Mapping[str, np.ndarray], names: Sequence[str], n: int
) -> tuple[dict[str, Any] | None, list[str]]:
    """One dictionary for the combinations of some of ``names``, if that is smaller.

    The columns are taken from the one with the fewest distinct values; of the groups so
    made (the first one, the first two, ...) the cheapest wins, counting a code per event,
    a row per combination and the columns left apart. Looking at every such prefix, not
    stopping at the first column that costs more, matters: the code grows a byte at 256
    combinations and only the next few columns pay that back. Returns the group (None if
    it saves nothing) and the names left apart.
    """
    present = [c for c in names if c in columns]
    info: dict[str, tuple[np.ndarray, int, int]] = {}
    for c in present:
        codes, uniques = pd.factorize(columns[c])
        width = _width(np.ptp(columns[c])) if n else 0
        if width:  # a constant column costs nothing apart
            info[c] = (codes.astype(np.int64), len(uniques), width)
    order = sorted(info, key=lambda c: info[c][1])
    apart = [n * info[c][2] for c in order]
    best_cost, best_size, best_key, best_rows = sum(apart), 0, np.zeros(0, np.int64), 0
    key = np.zeros(n, dtype=np.int64)
    row_bytes = 0
    for size, c in enumerate(order, start=1):
        codes, card, w = info[c]
        trial, uniques = pd.factorize(key * card + codes)
        key, rows, row_bytes = trial.astype(np.int64), len(uniques), row_bytes + w
        if rows > n // 2:  # as many combinations as events: no saving from here on
            break
        cost = n * _width(rows - 1) + rows * row_bytes + sum(apart[size:])
        if size >= 2 and cost < best_cost:
            best_cost, best_size, best_key, best_rows = cost, size, key, rows
    if not best_size:
        return None, present
    members = order[:best_size]
    first = np.empty(best_rows, dtype=np.int64)
    first[best_key[::-1]] = np.arange(n)[::-1]  # the first event of each combination
    group = {
        "k": best_rows,
        "code": _pack(best_key),
        "cols": {c: _pack(columns[c][first]) for c in members},
    }
    return group, [c for c in present if c not in members]


def _pack_all(columns: Mapping[str, np.ndarray], n: int) -> dict[str, Any]:
    """``cols`` and ``groups`` of the payload."""
    groups = []
    apart: list[str] = []
    grouped = set(_ATTRIBUTE_COLUMNS) | set(_PLACE_COLUMNS)
    for names in (_ATTRIBUTE_COLUMNS, _PLACE_COLUMNS):
        group, left = _group(columns, names, n)
        if group is not None:
            groups.append(group)
        apart += left
    apart += [c for c in columns if c not in grouped]
    return {"cols": {c: _pack_column(c, columns[c]) for c in apart}, "groups": groups}


# --- encoding ------------------------------------------------------------------------------


def encode_events(
    events: pd.DataFrame,
    *,
    event_types: Iterable[str] | None = None,
    records: bool = True,
    notes_max_chars: int | None = None,
    notes_budget_bytes: int | None = NOTES_BUDGET_BYTES,
    notes_elsewhere: str = NOTES_ELSEWHERE,
) -> EncodedEvents:
    """Compact columns for the point and cluster layers (format: module docstring).

    Parameters
    ----------
    events
        Canonical events (``dashboard.schema`` columns); only latitude and longitude are
        required. Rows without usable coordinates are set aside and counted.
    event_types
        Event types in legend order; types not listed follow, sorted; a missing type is
        :data:`schema.UNKNOWN`.
    records
        Include the per-point popup records (date, actors, place, id, notes, ...).
    notes_max_chars
        None (default): notes travel whole; a number cuts longer notes there (with an
        ellipsis); 0 leaves notes out of the popups without a word.
    notes_budget_bytes
        Notes travel only if the whole payload, notes included, stays within this many
        bytes; otherwise they are left out and the popup of every event with notes says
        so and where to read them. None: no limit.
    notes_elsewhere
        Where the popup sends the reader for notes left out ("... Read them in ...").

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
    colours = style.event_type_colours(types)

    fat = _numeric(rows, schema.FATALITIES)
    fat_codes = np.where(np.isfinite(fat) & (fat >= 0), np.rint(np.nan_to_num(fat)), -1)
    prec = _numeric(rows, schema.GEO_PRECISION)
    prec_codes = np.where(np.isin(prec, schema.GEO_PRECISIONS), np.nan_to_num(prec), 0)
    columns: dict[str, np.ndarray] = {
        "lat": np.rint(lat * COORD_SCALE).astype(np.int64),
        "lon": np.rint(lon * COORD_SCALE).astype(np.int64),
        "type": remap[codes].astype(np.int64),  # code -1 (missing) picks the last: Unknown
        "fat": np.clip(fat_codes, -1, 2**31 - 1).astype(np.int64),
        "prec": prec_codes.astype(np.int64),
        "stack": stack_sizes(lat, lon),
    }
    tables: dict[str, list[Any]] = {}
    if records:
        _records(rows, n, columns, tables)

    payload: dict[str, Any] = {
        "format": PAYLOAD_FORMAT,
        "n": n,
        "scale": COORD_SCALE,
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
    if tables:
        payload["dict"] = tables
    payload.update(_pack_all(columns, n))
    withheld = False
    if records and notes_max_chars != 0:
        note_codes, note_texts = _notes(rows, n, notes_max_chars)
        with_notes = _with_notes(payload, note_codes, note_texts, notes_budget_bytes)
        if with_notes is not None:
            payload = with_notes
        elif len(note_texts):
            withheld = True
            has_note = (note_codes >= 0).astype(np.int64)
            if has_note.min() == has_note.max():  # every event: a constant, no bytes
                payload["cols"]["hasNote"] = _pack(has_note)
            else:  # may share the attributes' group
                columns["hasNote"] = has_note
                payload.update(_pack_all(columns, n))
            payload["labels"]["notesNotSent"] = NOTES_NOT_SENT.format(n=n, where=notes_elsewhere)
    return EncodedEvents(
        payload=payload, kept=kept, skipped=len(events) - n, notes_withheld=withheld
    )


def _records(
    rows: pd.DataFrame, n: int, columns: dict[str, np.ndarray], tables: dict[str, list[Any]]
) -> None:
    """Add the popup columns (everything but notes) and their text tables."""
    columns["day"], known = _days(rows, n)
    if not known.all():
        columns["dayKnown"] = known.astype(np.int64)
    tp = _numeric(rows, schema.TIME_PRECISION)
    columns["tp"] = np.where(np.isin(tp, schema.TIME_PRECISIONS), np.nan_to_num(tp), 0).astype(
        np.int64
    )
    for key, column in (
        ("sub", schema.SUB_EVENT_TYPE),
        ("src", schema.SOURCE),
        ("ctrl", schema.CONTROLLER),
        ("conf", schema.CONTROLLER_CONFIDENCE),
    ):
        columns[key], tables[key] = _factorize(_clean(_column(rows, column), n))
    # One table for both actors: the same group is often actor1 here and actor2 there.
    both = pd.concat(
        [_clean(_column(rows, schema.ACTOR1), n), _clean(_column(rows, schema.ACTOR2), n)],
        ignore_index=True,
    )
    actor_codes, tables["actor"] = _factorize(both)
    columns["actor1"], columns["actor2"] = actor_codes[:n], actor_codes[n:]
    columns["place"], tables["place"] = _place(rows, n)
    columns["idp"], columns["idn"], tables["idp"] = _event_ids(rows, n)


def _notes(rows: pd.DataFrame, n: int, max_chars: int | None) -> tuple[np.ndarray, pd.Series]:
    """Codes into the distinct notes (-1: none), cut to ``max_chars`` if given."""
    notes = _clean(_column(rows, schema.NOTES), n)
    if max_chars is not None:
        long = notes.str.len() > max_chars
        if long.any():
            cut = notes[long].str.slice(0, max_chars - 1).str.rstrip() + "\u2026"
            notes = notes.mask(long, cut)
    codes, uniques = pd.factorize(notes, use_na_sentinel=True)
    return codes.astype(np.int64), pd.Series(uniques, dtype="string")


def _with_notes(
    payload: dict[str, Any], codes: np.ndarray, texts: pd.Series, budget: int | None
) -> dict[str, Any] | None:
    """The payload with the notes, or None if that is more than ``budget`` bytes."""
    # The notes' JSON is never shorter than their text plus quotes and commas: most of
    # the time that settles it without making 100k strings and megabytes of JSON.
    if budget is not None:
        lower = len(script_json(payload)) + int(texts.str.len().sum()) + 3 * len(texts)
        if lower > budget:
            return None
    out = {
        **payload,
        "cols": {**payload["cols"], "note": _pack(codes)},
        "dict": {**payload.get("dict", {}), "notes": texts.tolist()},
    }
    if budget is not None and len(script_json(out)) > budget:
        return None
    return out


class _EventsLayer(JsonLayer):
    """Points or clusters of events; ``notes_withheld`` as in :class:`EncodedEvents`."""

    notes_withheld: bool = False


def events_layer(
    events: pd.DataFrame,
    *,
    name: str = "Events",
    event_types: Iterable[str] | None = None,
    records: bool = True,
    notes_max_chars: int | None = None,
    notes_budget_bytes: int | None = NOTES_BUDGET_BYTES,
    notes_elsewhere: str = NOTES_ELSEWHERE,
    show: bool = True,
) -> JsonLayer:
    """Every event as a circle on one canvas, with a popup per event.

    Colour: event type (``style.EVENT_TYPE_COLOURS``). Radius: grows with sqrt(fatalities);
    unknown fatalities get their own size and a dashed outline (never drawn as 0).
    Hollow circle with a thick ring: approximate location (geo_precision 2-3 or unknown).
    Each circle stays at its event's place: a point that stands for several events (the
    same coordinates, or a pixel apart at the zoom shown) gets a count badge beside it.
    A click opens a popup built in the browser of every event under the cursor: one
    event's record, or "3 events here", newest first, each line opening its record. Every
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
    records, notes_max_chars, notes_budget_bytes, notes_elsewhere
        See :func:`encode_events`. ``records=False`` drops popups (about 8 bytes a point
        left). 100k events with popups but not notes take 14-25 bytes each; notes travel
        whole while the layer stays within ``notes_budget_bytes``
        (``layer.notes_withheld`` says when they did not).
    show
        Whether the layer is on when the map opens.

    Returns
    -------
    JsonLayer
        One folium layer (``L.ConflictMap.Points``, a subclass of Leaflet's canvas
        renderer); ``.n_points``, ``.skipped`` and ``.notes_withheld`` tell what it holds.
    """
    return _encoded_layer(
        _EventsLayer,
        "points",
        "events",
        events,
        name=name,
        event_types=event_types,
        records=records,
        notes_max_chars=notes_max_chars,
        notes_budget_bytes=notes_budget_bytes,
        notes_elsewhere=notes_elsewhere,
        show=show,
    )


def _encoded_layer(
    cls: type[_EventsLayer],
    kind: str,
    seed: str,
    events: pd.DataFrame,
    *,
    name: str,
    event_types: Iterable[str] | None,
    records: bool,
    notes_max_chars: int | None,
    notes_budget_bytes: int | None,
    notes_elsewhere: str,
    show: bool,
) -> JsonLayer:
    """The events encoded once and handed to a layer class that draws them as ``kind``."""
    encoded = encode_events(
        events,
        event_types=event_types,
        records=records,
        notes_max_chars=notes_max_chars,
        notes_budget_bytes=notes_budget_bytes,
        notes_elsewhere=notes_elsewhere,
    )
    payload = script_json(encoded.payload)
    layer = cls(kind, payload, name=escape_text(name), show=show)
    layer.n_points = encoded.payload["n"]
    layer.skipped = encoded.skipped
    layer.notes_withheld = encoded.notes_withheld
    stabilise_ids(layer, content_seed(seed, name, payload))
    return layer


class _ClusterLayer(_EventsLayer):
    _plugin_js = ("markerclusterjs",)
    _asset_css = ("leaflet_css", "markerclustercss", "markerclusterdefaultcss", "conflictmap_css")


def cluster_layer(
    events: pd.DataFrame,
    *,
    name: str = "Events",
    event_types: Iterable[str] | None = None,
    records: bool = True,
    notes_max_chars: int | None = None,
    notes_budget_bytes: int | None = NOTES_BUDGET_BYTES,
    notes_elsewhere: str = NOTES_ELSEWHERE,
    show: bool = True,
) -> JsonLayer:
    """Events grouped into Leaflet.markercluster clusters that split as you zoom in.

    Same data, symbols and popups as :func:`events_layer`; the cluster plugin is served
    from the app (``xstatic-leaflet-markercluster``). A cluster whose events would overlap
    where they are (or at the deepest zoom) lists them in one popup, newest first, instead
    of zooming in.
    """
    return _encoded_layer(
        _ClusterLayer,
        "cluster",
        "cluster",
        events,
        name=name,
        event_types=event_types,
        records=records,
        notes_max_chars=notes_max_chars,
        notes_budget_bytes=notes_budget_bytes,
        notes_elsewhere=notes_elsewhere,
        show=show,
    )


class _HeatLayer(JsonLayer):
    """Leaflet.heat fed from integer coordinates (folium's HeatMap validates row by row)."""

    _plugin_js = ("leaflet-heat.js",)


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
