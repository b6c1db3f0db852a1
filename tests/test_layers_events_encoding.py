"""The compact events payload (format 2): decoded here, it gives back the input events.

``decode_events`` is written from the format description in ``dashboard.layers.events``
(not from its code), so an encoder bug is not mirrored by the decoder. The browser tests
check that points.js decodes the same values, and that a popup of a 100k-event map
opens, says that the notes were not sent, and where to read them.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from dashboard import assets, schema
from dashboard.layers import build_map, cluster_layer, encode_events, events_layer
from dashboard.layers import events as events_module
from dashboard.layers.safety import script_json

EPOCH = dt.date(1970, 1, 1)
PAGE_LIMIT_BYTES = 3_000_000  # issue "Scale": the map for 100k events, popups included


# --- an independent decoder ----------------------------------------------------------------


def _unpack(spec: dict[str, Any], n: int) -> np.ndarray:
    raw = base64.b64decode(spec["b"], validate=True)
    w = spec["w"]
    assert 0 <= w <= 4 and len(raw) == n * w
    values = np.zeros(n, dtype=np.int64)
    if w:
        octets = np.frombuffer(raw, dtype=np.uint8).reshape(n, w).astype(np.int64)
        for k in range(w):  # little-endian
            values += octets[:, k] << (8 * k)
    values += spec["o"]
    if "d" in spec:
        values = spec["d"] + np.cumsum(values)
    return values


def decode_columns(payload: dict[str, Any]) -> dict[str, np.ndarray]:
    """Every integer column, one value per event, from ``cols`` and ``groups``."""
    n = payload["n"]
    out = {name: _unpack(spec, n) for name, spec in payload["cols"].items()}
    for group in payload["groups"]:
        code = _unpack(group["code"], n)
        assert code.min(initial=0) >= 0 and code.max(initial=0) < max(group["k"], 1)
        for name, spec in group["cols"].items():
            assert name not in out
            out[name] = _unpack(spec, group["k"])[code]
    return out


def _objects(values: Iterable[Any]) -> pd.Series:
    """A column that keeps None as None (pandas would make it NaN)."""
    return pd.Series(list(values), dtype=object)


def _text(table: list[str], codes: np.ndarray) -> pd.Series:
    return _objects(None if c < 0 else table[c] for c in codes.tolist())


def decode_events(payload: dict[str, Any]) -> pd.DataFrame:
    """The events as the popups show them: one row per point, in payload order."""
    assert payload["format"] == 2
    cols = decode_columns(payload)
    scale = payload["scale"]
    frame = pd.DataFrame(
        {
            "lat": cols["lat"] / scale,
            "lon": cols["lon"] / scale,
            "type": [payload["types"][t] for t in cols["type"].tolist()],
            "fatalities": _objects(None if f < 0 else f for f in cols["fat"].tolist()),
            "prec": cols["prec"],
        }
    )
    if "day" not in cols:
        return frame
    known = cols.get("dayKnown", np.ones(len(frame), dtype=np.int64))
    frame["date"] = _objects(
        EPOCH + dt.timedelta(days=d) if k else None
        for d, k in zip(cols["day"].tolist(), known.tolist(), strict=True)
    )
    frame["tp"] = cols["tp"]
    tables = payload["dict"]
    for key, table in (
        ("sub", "sub"),
        ("src", "src"),
        ("ctrl", "ctrl"),
        ("conf", "conf"),
        ("actor1", "actor"),
        ("actor2", "actor"),
        ("place", "place"),
    ):
        frame[key] = _text(tables[table], cols[key])
    ids = []
    for code, number in zip(cols["idp"].tolist(), cols["idn"].tolist(), strict=True):
        if code < 0:
            ids.append(None)
            continue
        prefix, pad = tables["idp"][code]
        ids.append(prefix if pad < 0 else prefix + str(number).zfill(pad))
    frame["id"] = _objects(ids)
    if "note" in cols:
        frame["notes"] = _text(tables["notes"], cols["note"])
    if "hasNote" in cols:
        frame["has_note"] = cols["hasNote"].astype(bool)
    return frame


def _payload_in_page(html: str, factory: str = "points") -> dict[str, Any]:
    match = re.search(r"L\.ConflictMap\." + factory + r"\(\s*(.*?)\s*\);\n", html, re.DOTALL)
    assert match, f"no L.ConflictMap.{factory} call in the page"
    return json.loads(match.group(1))


# --- fixtures ------------------------------------------------------------------------------


def _tricky(n: int = 600, seed: int = 3) -> pd.DataFrame:
    """Events with every awkward value: ids of all shapes, missing dates and tolls, etc."""
    rng = np.random.default_rng(seed)
    ids = rng.choice(
        np.array(
            [
                "SYR1",
                "SYR000123",
                "IRQ0",
                "0",
                "007",
                "12345678901",
                "evt-9",
                "no digits",
                "ع١٢٣",
                "x\n42",
                "A 99999999",
                "",
                None,
                "  ",
            ],
            dtype=object,
        ),
        n,
    )
    ids = [
        f"{v}{i}" if isinstance(v, str) and v.strip() and i % 3 else v for i, v in enumerate(ids)
    ]
    dates = pd.Series(pd.Timestamp("1969-12-25") + pd.to_timedelta(rng.integers(0, 20000, n), "D"))
    dates[rng.random(n) < 0.05] = pd.NaT
    fat = rng.poisson(3, n).astype(float)
    fat[rng.random(n) < 0.2] = np.nan
    fat[rng.random(n) < 0.01] = 123_456.0
    notes = pd.Series(
        rng.choice(["Clashes.", "قصف على المدينة", "<b>x</b>", "x" * 900, None, ""], n)
    )
    return pd.DataFrame(
        {
            schema.EVENT_ID: ids,
            schema.EVENT_DATE: dates,
            schema.TIME_PRECISION: rng.choice([1, 2, 3, np.nan], n),
            schema.EVENT_TYPE: rng.choice(["Battles", "Riots", None, "Protests"], n),
            schema.SUB_EVENT_TYPE: rng.choice(["Armed clash", None, "Mob"], n),
            schema.ACTOR1: rng.choice([f"Group {i}" for i in range(400)] + [None], n),
            schema.ACTOR2: rng.choice(["Group 1", None, "Civilians"], n),
            schema.COUNTRY: rng.choice(["Syria", "Iraq", None], n),
            schema.ADMIN1: rng.choice(["Ar-Raqqa", None], n),
            schema.LOCATION: rng.choice(["Raqqa", "Tabqa", None, "الرقة"], n),
            schema.LATITUDE: rng.uniform(-89.9, 89.9, n),
            schema.LONGITUDE: rng.uniform(-179.9, 179.9, n),
            schema.GEO_PRECISION: rng.choice([1, 2, 3, np.nan], n),
            schema.FATALITIES: fat,
            schema.SOURCE: rng.choice(["SOHR", "Reuters", None], n),
            schema.NOTES: notes,
            schema.CONTROLLER: rng.choice(["SDF", "Unknown", None], n),
            schema.CONTROLLER_CONFIDENCE: rng.choice(["high", "low", None], n),
        }
    )


WORDS = np.array(
    [
        "forces",
        "clashed",
        "with",
        "fighters",
        "near",
        "the",
        "village",
        "of",
        "killing",
        "reportedly",
        "according",
        "to",
        "local",
        "sources",
        "airstrike",
        "shelling",
        "targeted",
        "positions",
        "checkpoint",
        "convoy",
        "civilians",
    ]
)


def acled_like(n: int, seed: int = 7) -> pd.DataFrame:
    """ACLED-like events, the page-size worst case: every point its own coordinates, dates
    and ids in no order, 300 actors, 2,000 places, notes of 60-400 characters."""
    rng = np.random.default_rng(seed)
    places = rng.uniform([32.5, 36.0], [37.3, 44.5], size=(2000, 2))
    place = rng.integers(0, len(places), n)
    jitter = rng.normal(0, 0.02, size=(n, 2))
    words = WORDS[rng.integers(0, len(WORDS), size=(n, 70))]
    lengths = rng.integers(60, 400, n)
    fat = rng.poisson(2, n).astype(float)
    fat[rng.random(n) < 0.1] = np.nan
    actors = np.array([f"Armed group {i}" for i in range(300)] + [None] * 100, dtype=object)
    return pd.DataFrame(
        {
            schema.EVENT_ID: [f"SYR{i:06d}" for i in rng.permutation(n)],
            schema.EVENT_DATE: pd.Timestamp("2017-01-01")
            + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
            schema.TIME_PRECISION: rng.choice([1, 1, 1, 2, 3], n),
            schema.EVENT_TYPE: rng.choice(
                [
                    "Battles",
                    "Explosions/Remote violence",
                    "Violence against civilians",
                    "Protests",
                    "Riots",
                    "Strategic developments",
                ],
                n,
            ),
            schema.SUB_EVENT_TYPE: rng.choice(["Armed clash", "Air/drone strike", "Shelling"], n),
            schema.ACTOR1: actors[rng.integers(0, 300, n)],
            schema.ACTOR2: actors[rng.integers(0, 400, n)],
            schema.COUNTRY: "Syria",
            schema.ADMIN1: rng.choice(["Aleppo", "Ar-Raqqa", "Deir ez Zor", "Idleb"], n),
            schema.LOCATION: [f"Place {p}" for p in place],
            schema.LATITUDE: places[place, 0] + jitter[:, 0],
            schema.LONGITUDE: places[place, 1] + jitter[:, 1],
            schema.GEO_PRECISION: rng.choice([1, 1, 1, 2, 3], n),
            schema.FATALITIES: fat,
            schema.SOURCE: rng.choice(["SOHR", "Reuters", "Local media", "Enab Baladi"], n),
            schema.NOTES: [" ".join(w)[:k] for w, k in zip(words, lengths, strict=True)],
            schema.CONTROLLER: rng.choice(["Islamic State", "SDF", "Syrian government"], n),
            schema.CONTROLLER_CONFIDENCE: rng.choice(["high", "low"], n),
        }
    )


@pytest.fixture(scope="module")
def events_100k() -> pd.DataFrame:
    return acled_like(100_000)


# --- what the input says, worked out without the encoder ----------------------------------


def _text_or_none(value: Any) -> str | None:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    text = str(value)
    return text if text.strip() else None


def expected_events(events: pd.DataFrame) -> pd.DataFrame:
    """The input rows with usable coordinates, as the popups must show them."""
    lat = pd.to_numeric(events[schema.LATITUDE], errors="coerce")
    lon = pd.to_numeric(events[schema.LONGITUDE], errors="coerce")
    rows = events[lat.between(-90, 90) & lon.between(-180, 180)].reset_index(drop=True)
    out = pd.DataFrame(
        {"lat": rows[schema.LATITUDE].astype(float), "lon": rows[schema.LONGITUDE].astype(float)}
    )
    out["type"] = [_text_or_none(t) or schema.UNKNOWN for t in rows[schema.EVENT_TYPE]]
    out["fatalities"] = _objects(None if pd.isna(f) else round(f) for f in rows[schema.FATALITIES])
    out["prec"] = [int(p) if p in (1, 2, 3) else 0 for p in rows[schema.GEO_PRECISION]]
    out["date"] = _objects(
        None if pd.isna(d) else pd.Timestamp(d).date() for d in rows[schema.EVENT_DATE]
    )
    out["tp"] = [int(p) if p in (1, 2, 3) else 0 for p in rows[schema.TIME_PRECISION]]
    for key, column in (
        ("sub", schema.SUB_EVENT_TYPE),
        ("src", schema.SOURCE),
        ("ctrl", schema.CONTROLLER),
        ("conf", schema.CONTROLLER_CONFIDENCE),
        ("actor1", schema.ACTOR1),
        ("actor2", schema.ACTOR2),
        ("id", schema.EVENT_ID),
        ("notes", schema.NOTES),
    ):
        out[key] = _objects(_text_or_none(v) for v in rows[column])
    places = []
    for parts in zip(rows[schema.LOCATION], rows[schema.ADMIN1], rows[schema.COUNTRY], strict=True):
        found = [p for p in (_text_or_none(v) for v in parts) if p]
        places.append(", ".join(dict.fromkeys(found)) or None)
    out["place"] = _objects(places)
    return out


def _none(value: Any) -> Any:
    """Missing as None (pandas turns None in a column of numbers into NaN)."""
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else value


def assert_same_events(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert len(got) == len(want)
    half_step = 0.5 / events_module.COORD_SCALE + 1e-9
    assert np.abs(got["lat"].to_numpy() - want["lat"].to_numpy()).max(initial=0) <= half_step
    assert np.abs(got["lon"].to_numpy() - want["lon"].to_numpy()).max(initial=0) <= half_step
    for column in (
        "type",
        "fatalities",
        "prec",
        "date",
        "tp",
        "sub",
        "src",
        "ctrl",
        "conf",
        "actor1",
        "actor2",
        "place",
        "id",
    ):
        if column in got:
            pairs = zip(map(_none, got[column]), map(_none, want[column]), strict=True)
            mismatch = [(i, g, w) for i, (g, w) in enumerate(pairs) if g != w]
            assert not mismatch, (column, mismatch[:5])


# --- round trips ---------------------------------------------------------------------------


def test_tricky_events_decode_to_the_input_exactly() -> None:
    events = _tricky()
    events.loc[5, schema.LATITUDE] = np.nan  # set aside, counted
    encoded = encode_events(events, notes_budget_bytes=None)
    assert encoded.skipped == 1 and not encoded.notes_withheld
    got = decode_events(json.loads(script_json(encoded.payload)))
    want = expected_events(events)
    assert_same_events(got, want)
    assert list(map(_none, got["notes"])) == list(
        map(_none, want["notes"])
    )  # whole: 900 x's travel uncut
    assert max(len(n) for n in got["notes"] if isinstance(n, str)) == 900
    assert got["id"].isna().any() and got["date"].isna().any() and got["fatalities"].isna().any()


def test_the_hand_made_six_decode_to_the_input() -> None:
    from test_layers import _events

    events = _events()
    payload = _payload_in_page(
        build_map(center=(35.9, 39.0), zoom=8, basemap="none", layers=[events_layer(events)])
        .get_root()
        .render()
    )
    got, want = decode_events(payload), expected_events(events)
    assert_same_events(got, want)
    assert got["notes"].tolist() == ["Clashes.", None, None, "Riot.", "n", "x" * 400]
    assert got["fatalities"].tolist() == [3, 0, None, 100, 1, 7]
    assert got["id"].tolist() == ["E1", "E2", "E3", "E4", "E5", "E6"]


def test_sorted_days_and_counting_ids_cost_a_byte_or_nothing() -> None:
    n = 5000
    events = acled_like(n).sort_values(schema.EVENT_DATE, kind="stable")
    events[schema.EVENT_ID] = [f"SYR{i}" for i in range(1, n + 1)]
    payload = encode_events(events).payload
    assert payload["cols"]["day"]["w"] == 1 and "d" in payload["cols"]["day"]
    assert payload["cols"]["idn"]["w"] == 0  # +1 each time: no bytes at all
    assert payload["dict"]["idp"] == [["SYR", 0]]
    assert_same_events(decode_events(payload), expected_events(events))


def test_repeated_attributes_and_places_share_groups(events_100k: pd.DataFrame) -> None:
    payload = encode_events(events_100k).payload
    grouped = {name for g in payload["groups"] for name in g["cols"]}
    # 3,888 combinations of 7 columns among 100k events: a 2-byte code instead of 7 bytes
    assert {"type", "prec", "tp", "sub", "src", "ctrl", "conf"} <= grouped
    assert not grouped & {"lat", "lon"}  # every point its own coordinates: apart is smaller
    geocoded = acled_like(20_000)
    geocoded[[schema.LATITUDE, schema.LONGITUDE]] = geocoded[
        [schema.LATITUDE, schema.LONGITUDE]
    ].round(1)  # events on gazetteer places repeat their coordinates
    payload = encode_events(geocoded).payload
    assert any({"lat", "lon"} <= set(g["cols"]) for g in payload["groups"])
    assert_same_events(decode_events(payload), expected_events(geocoded))


def test_without_records_only_what_the_symbols_need() -> None:
    payload = encode_events(_tricky(), records=False).payload
    assert "dict" not in payload
    names = set(payload["cols"]) | {c for g in payload["groups"] for c in g["cols"]}
    # stack: the count drawn on a point that stands for several events (popups or not).
    assert names == {"lat", "lon", "type", "fat", "prec", "stack"}


def test_empty_and_minimal() -> None:
    empty = decode_events(encode_events(_tricky().iloc[0:0]).payload)
    assert len(empty) == 0
    only = pd.DataFrame({schema.LATITUDE: [35.0, -0.00005], schema.LONGITUDE: [39.0, 180.0]})
    got = decode_events(encode_events(only).payload)
    assert got["type"].tolist() == [schema.UNKNOWN] * 2
    assert got["fatalities"].tolist() == [None, None] and got["id"].tolist() == [None, None]
    assert got["lon"].tolist() == [39.0, 180.0]


# --- the notes budget ----------------------------------------------------------------------


def test_notes_travel_whole_under_the_budget() -> None:
    events = acled_like(2000)
    encoded = encode_events(events)
    assert not encoded.notes_withheld
    assert decode_events(encoded.payload)["notes"].tolist() == events[schema.NOTES].tolist()
    assert "notesNotSent" not in encoded.payload["labels"]


def test_above_the_budget_each_popup_says_the_notes_were_not_sent() -> None:
    events = _tricky()
    without = len(script_json(encode_events(events, notes_max_chars=0).payload))
    budget = without + 500  # the 900-character note alone is more
    encoded = encode_events(events, notes_budget_bytes=budget, notes_elsewhere="the table")
    assert encoded.notes_withheld
    got = decode_events(encoded.payload)
    assert "notes" not in got and "note" not in encoded.payload["cols"]
    assert "notes" not in encoded.payload["dict"]
    want = expected_events(events)
    assert got["has_note"].tolist() == want["notes"].notna().tolist()  # "" and None: no notice
    assert encoded.payload["labels"]["notesNotSent"] == (
        f"Not sent with this map: the notes of {len(got):,} events would make the page too "
        "large. Read them in the table (look up the event id below)."
    )
    for text in events[schema.NOTES].dropna():
        assert text not in script_json(encoded.payload) or text in ("", "Clashes.")
    # notes_max_chars=0 is the caller leaving notes out: no notice either.
    off = encode_events(events, notes_max_chars=0, notes_budget_bytes=budget)
    assert not off.notes_withheld and "hasNote" not in decode_columns(off.payload)


def test_the_budget_counts_the_whole_payload() -> None:
    events = acled_like(3000)
    with_notes = len(script_json(encode_events(events, notes_budget_bytes=None).payload))
    assert not encode_events(events, notes_budget_bytes=with_notes).notes_withheld
    assert encode_events(events, notes_budget_bytes=with_notes - 1000).notes_withheld


def test_cut_notes_when_asked() -> None:
    events = _tricky()
    got = decode_events(encode_events(events, notes_max_chars=280).payload)
    assert max(len(n) for n in got["notes"] if isinstance(n, str)) == 280
    assert ("x" * 279 + "\u2026") in set(got["notes"])


# --- 100k events: the page size (deterministic, no browser) -------------------------------


def test_100k_events_with_popups_fit_in_3_mb(events_100k: pd.DataFrame) -> None:
    layer = events_layer(events_100k)
    html = (
        build_map(center=(35.0, 40.0), zoom=6, basemap="none", layers=[layer]).get_root().render()
    )
    size = len(html.encode("utf-8"))
    print(f"\n100k events with popups: {size / 1e6:.2f} MB, {size / 1e5:.1f} bytes/event")
    assert size <= PAGE_LIMIT_BYTES
    assert layer.n_points == 100_000 and layer.skipped == 0 and layer.notes_withheld
    got = decode_events(_payload_in_page(html))
    want = expected_events(events_100k)
    assert_same_events(got, want)
    assert got["has_note"].all()
    for column in ("lat", "lon"):  # the 1e-4 grid, not coarser
        assert (np.rint(got[column] * 1e4) == np.rint(want[column] * 1e4)).mean() > 0.999


def test_cluster_layer_carries_the_same_payload() -> None:
    events = _tricky(50)
    points = _payload_in_page(_page(events_layer(events)))
    clusters = _payload_in_page(_page(cluster_layer(events)), "cluster")
    assert points == clusters


def _page(layer: Any, *, urls: Any = None) -> str:
    fmap = build_map(center=(35.0, 40.0), zoom=6, basemap="none", layers=[layer], assets=urls)
    return fmap.get_root().render()


# --- in Chromium ---------------------------------------------------------------------------

_JS_RECORDS = """(indices) => {
    const layer = L.ConflictMap.layers[0], d = layer._data;
    return indices.map((i) => ({
        lat: d.lat[i] / d.scale, lon: d.lon[i] / d.scale,
        rows: Object.fromEntries(L.ConflictMap.record(d, i).rows.map((r) => [r[0], r[1]])),
        title: L.ConflictMap.record(d, i).title,
        id: L.ConflictMap.eventId(d, i),
    }));
}"""


def _open_inline(browser: Any, html: str) -> Any:
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    left: list[str] = []
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    def route(r: Any) -> None:
        left.append(r.request.url)
        r.abort()

    page.route("**/*", route)  # assets are inlined: nothing may be fetched at all
    page.set_content(html)
    page.wait_for_function(
        "window.L && L.ConflictMap.layers.length > 0 && L.ConflictMap.layers[0].stats.draws > 0",
        timeout=60_000,
    )
    page.cm_left, page.cm_errors = left, errors  # type: ignore[attr-defined]
    return page


@pytest.mark.browser
def test_javascript_decodes_what_python_encoded(chromium_browser: Any) -> None:
    events = _tricky()
    html = _page(events_layer(events, notes_budget_bytes=None), urls=assets.inline_asset_urls())
    page = _open_inline(chromium_browser, html)
    try:
        want = expected_events(events)
        records = page.evaluate(_JS_RECORDS, list(range(len(want))))
        for i, rec in enumerate(records):
            row, shown = want.iloc[i], rec["rows"]
            assert abs(rec["lat"] - row["lat"]) <= 0.5e-4 + 1e-9
            assert abs(rec["lon"] - row["lon"]) <= 0.5e-4 + 1e-9
            assert rec["title"] == row["type"]
            assert rec["id"] == (row["id"] or "")
            assert shown["Event id"] == (row["id"] or "")
            assert shown["Notes"] == (row["notes"] or "")
            date = row["date"].isoformat() if row["date"] else ""
            assert shown["Date"].split(" (")[0] == date
            fat = row["fatalities"]
            assert shown["Fatalities"] == ("unknown" if fat is None else str(fat))
            assert shown["Place"] == (row["place"] or "")
        assert page.cm_left == [] and page.cm_errors == []
    finally:
        page.close()


@pytest.mark.browser
def test_100k_map_popup_opens_and_says_notes_were_not_sent(
    chromium_browser: Any, events_100k: pd.DataFrame
) -> None:
    layer = events_layer(events_100k)
    fmap = build_map(
        center=(35.0, 40.0),
        zoom=6,
        basemap="none",
        layers=[layer],
        assets=assets.inline_asset_urls(),
    )
    page = _open_inline(chromium_browser, fmap.get_root().render())
    try:
        assert page.evaluate("L.ConflictMap.layers[0].stats.n") == 100_000
        # Zoom in on one event so that it alone is under the cursor, then click it.
        i = 4321
        lat, lon = events_100k.iloc[i][[schema.LATITUDE, schema.LONGITUDE]]
        name = fmap.get_name()
        page.evaluate(f"{name}.setView([{lat}, {lon}], 17, {{animate: false}})")
        x, y = page.evaluate(
            f"""() => {{ const p = {name}.latLngToContainerPoint([{lat}, {lon}]);
                const r = {name}.getContainer().getBoundingClientRect();
                return [p.x + r.left, p.y + r.top]; }}"""
        )
        page.mouse.click(x, y)
        page.wait_for_selector(".cm-popup")
        text = page.inner_text(".cm-popup")
        assert events_100k.iloc[i][schema.EVENT_ID] in text
        assert "Not sent with this map: the notes of 100,000 events" in text
        assert "events table under the map" in text
        assert events_100k.iloc[i][schema.NOTES] not in text
        assert page.locator(".cm-popup-ours").count() == 1
        assert page.cm_left == [] and page.cm_errors == []
    finally:
        page.close()
