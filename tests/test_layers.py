"""Map layer builders: rendered HTML, escaping, determinism, and the page in a real browser.

Fixtures are tiny and hand-made: two square areas, six events whose symbols can be worked
out by hand. Browser tests load the rendered page from a server on 127.0.0.1, abort every
request that leaves it, and wait on conditions in the page (never on time).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from static_site import serve_static
from test_layers_events_encoding import decode_columns, decode_events

from dashboard import assets, layers, schema, style
from dashboard.aggregate import POINTS_MAX
from dashboard.errors import CRSError
from dashboard.layers import (
    build_map,
    cluster_layer,
    context_layer,
    control_areas_layer,
    default_point_mode,
    escape_text,
    events_layer,
    heatmap_layer,
    legend_element,
    script_json,
)

REPO = Path(__file__).resolve().parents[1]

# Text that must show literally and run nowhere (BAD_INPUTS.md, "Text that reaches the map"),
# plus a Jinja expression: folium renders every script a second time as a template.
XSS = "<img src=x onerror=window.__xss=1>"
TEMPLATE_LITERAL = "${window.__xss=1}"
BACKTICK = "back`tick`"
SCRIPT_BREAK = "</script><script>window.__xss=1</script>"
BACKSLASH = "C:\\users\\x"
JINJA = "{{ 'SSTI' ~ 'HIT' }}{% if 1 %}{# c #}"
PAYLOADS = (XSS, TEMPLATE_LITERAL, BACKTICK, SCRIPT_BREAK, BACKSLASH, JINJA)


# --- fixtures ------------------------------------------------------------------------------


def _events(n_payload: int = 0) -> pd.DataFrame:
    """Six events near Raqqa; every text column carries a payload when asked."""
    frame = pd.DataFrame(
        {
            schema.EVENT_ID: ["E1", "E2", "E3", "E4", "E5", "E6"],
            schema.EVENT_DATE: pd.to_datetime(["2017-01-02"] * 5 + ["2017-01-20"]),
            schema.TIME_PRECISION: [1, 1, 2, 3, 1, 1],
            schema.EVENT_TYPE: ["Battles", "Protests", "Battles", "Riots", None, "Battles"],
            schema.SUB_EVENT_TYPE: ["Armed clash", "Peaceful protest", None, "Mob", None, "x"],
            schema.ACTOR1: ["Group A", "Protesters", "Group A", "Rioters", None, "Group B"],
            schema.ACTOR2: ["Group B", None, "Group C", None, None, "Group A"],
            schema.COUNTRY: ["Syria"] * 6,
            schema.ADMIN1: ["Ar-Raqqa"] * 6,
            schema.LOCATION: ["Raqqa", "Raqqa", "Tabqa", "Raqqa", None, "Ain Issa"],
            schema.LATITUDE: [35.95, 35.90, 35.84, 35.70, 36.10, 36.38],
            schema.LONGITUDE: [39.01, 39.10, 38.55, 39.30, 38.80, 38.86],
            schema.GEO_PRECISION: [1, 1, 2, 3, None, 1],
            schema.FATALITIES: [3.0, 0.0, np.nan, 100.0, 1.0, 7.0],
            schema.SOURCE: ["SOHR", "Reuters", "SOHR", None, None, "SOHR"],
            schema.NOTES: ["Clashes.", "", None, "Riot.", "n", "x" * 400],
            schema.CONTROLLER: ["Islamic State", "SDF", None, "SDF", "SDF", "Contested"],
            schema.CONTROLLER_CONFIDENCE: ["high", "low", None, "high", "high", "low"],
        }
    )
    if n_payload:
        text_columns = (
            schema.NOTES,
            schema.LOCATION,
            schema.ACTOR1,
            schema.SUB_EVENT_TYPE,
            schema.SOURCE,
            schema.EVENT_ID,
        )
        for column in text_columns:
            frame[column] = list(PAYLOADS)
        frame[schema.EVENT_TYPE] = [XSS, SCRIPT_BREAK, "Battles", BACKSLASH, JINJA, None]
    return frame


def _areas(controllers: tuple[str, str] = (schema.SDF, schema.CONTESTED)) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            schema.AREA_ID: ["west", "east"],
            schema.CONTROLLER: list(controllers),
            schema.VALID_FROM: pd.to_datetime(["2017-01-01", "2016-06-01"]),
            schema.VALID_TO: pd.to_datetime(["2017-07-01", None]),
            schema.AREA_SOURCE: ["Map A", "Map B"],
        },
        geometry=[shapely.box(38.4, 35.6, 39.0, 36.2), shapely.box(39.0, 35.6, 39.6, 36.2)],
        crs=4326,
    )


def _countries(name: str = "Syria") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"name": [name, "Iraq"]},
        geometry=[shapely.box(36.0, 33.0, 42.0, 37.2), shapely.box(42.0, 30.0, 46.0, 37.2)],
        crs=4326,
    )


def _towns(name: str = "Raqqa") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "name": [name, "Tabqa", "Nowhere"],
            "name_ar": ["الرقة", None, "x"],
            "country": ["Syria", "Syria", "Syria"],
            "latitude": [35.95, 35.84, np.nan],
            "longitude": [39.01, 38.55, 38.0],
            "role": ["governorate capital", "town", "town"],
        }
    )


def _html(element: Any) -> str:
    if isinstance(element, folium.Map):
        return element.get_root().render()
    fmap = build_map(center=(35.9, 39.0), zoom=8, basemap="none", layers=[element])
    return fmap.get_root().render()


def _payload(html: str, factory: str) -> Any:
    """The JSON value passed to ``L.ConflictMap.<factory>(...)`` in the page."""
    match = re.search(r"L\.ConflictMap\." + factory + r"\(\s*(.*?)\s*\);\n", html, re.DOTALL)
    assert match, f"no L.ConflictMap.{factory} call in the page"
    return json.loads(match.group(1))


def _full_map(**kwargs: Any) -> folium.Map:
    return build_map(
        center=(35.9, 39.0),
        zoom=8,
        basemap=kwargs.pop("basemap", "none"),
        layers=[
            context_layer(_countries(), _towns()),
            control_areas_layer(_areas()),
            events_layer(_events()),
        ],
        legend=legend_element(
            [schema.SDF, schema.CONTESTED],
            ["Battles", "Protests"],
            as_of="2017-01-31",
            window_days=30,
            counts={"events": 6},
        ),
        layer_control=True,
        **kwargs,
    )


# --- escaping ------------------------------------------------------------------------------


@pytest.mark.parametrize("payload", PAYLOADS)
def test_escape_text_leaves_nothing_that_html_js_or_jinja_would_act_on(payload: str) -> None:
    out = escape_text(payload)
    assert not set(out) & set("<>\"'`$\\{}")
    assert "{{" not in out and "{%" not in out and "{#" not in out


def test_escape_text_values() -> None:
    assert escape_text("<b>&") == "&lt;b&gt;&amp;"
    assert escape_text("${x}") == "&#36;&#123;x&#125;"
    assert escape_text("a`b") == "a&#96;b"
    assert escape_text("C:\\users") == "C:&#92;users"
    assert escape_text("\u2028") == "&#8232;"
    assert escape_text(None) == ""
    assert escape_text(float("nan")) == ""
    assert escape_text(12) == "12"
    assert escape_text("الرقة") == "الرقة"


@pytest.mark.parametrize("payload", [*PAYLOADS, "a\u2028b\u2029", "{{{x}}}", "\\{{"])
def test_script_json_round_trips_and_is_inert(payload: str) -> None:
    value = {"s": payload, "list": [payload, 1, None], "nested": {"k": payload}}
    out = script_json(value)
    assert json.loads(out) == value
    for bad in ("<", ">", "&", "'", "\u2028", "\u2029", "{{", "{%", "{#"):
        assert bad not in out


def test_script_json_refuses_nan() -> None:
    with pytest.raises(ValueError):
        script_json({"x": float("nan")})


def test_folium_evaluates_jinja_in_data_which_is_why_layers_escape_braces() -> None:
    """The threat, shown on folium itself: data text is a template on the server."""
    fmap = folium.Map(tiles=None)
    folium.Tooltip("{{ 'SSTI' ~ 'HIT' }}").add_to(folium.Marker([0, 0]).add_to(fmap))
    assert "SSTIHIT" in fmap.get_root().render()


def test_no_builder_lets_jinja_in_data_run() -> None:
    areas = _areas((JINJA, schema.CONTESTED))
    areas[schema.AREA_ID] = [JINJA, JINJA]
    fmap = build_map(
        center=(35.9, 39.0),
        zoom=8,
        basemap="none",
        layers=[
            context_layer(_countries(JINJA), _towns(JINJA)),
            control_areas_layer(areas, name=JINJA),
            events_layer(_events(n_payload=1), name=JINJA),
            cluster_layer(_events(n_payload=1)),
            heatmap_layer(_events(n_payload=1)),
        ],
        legend=legend_element(
            [JINJA], [JINJA], as_of="2017-01-31", window_days=3, counts={JINJA: 1}, title=JINJA
        ),
        layer_control=True,
    )
    html = fmap.get_root().render()
    assert "SSTIHIT" not in html


def test_every_data_string_reaching_folium_html_sinks_is_escaped() -> None:
    areas = _areas((XSS, schema.CONTESTED))
    areas[schema.AREA_ID] = [SCRIPT_BREAK, TEMPLATE_LITERAL]
    areas[schema.AREA_SOURCE] = [BACKSLASH, BACKTICK]
    html = _html(control_areas_layer(areas, name=XSS))
    # No raw payload anywhere: not in GeoJSON properties, tooltips or the layer name.
    for payload in (XSS, SCRIPT_BREAK, TEMPLATE_LITERAL, BACKSLASH, BACKTICK):
        assert payload not in html
    # In the GeoJSON, folium's tojson also writes & as \u0026.
    assert escape_text(XSS).replace("&", "\\u0026") in html
    assert html.count("<script") == html.count("</script>")


# --- control areas -------------------------------------------------------------------------


def test_control_areas_colour_per_controller_and_contested_hatched() -> None:
    layer = control_areas_layer(_areas())
    html = _html(layer)
    sdf = style.CONTROLLER_COLOURS[schema.SDF]
    contested = style.CONTROLLER_COLOURS[schema.CONTESTED]
    assert f'"fillColor": "{sdf}"' in html
    assert f'"fillOpacity": {style.AREA_FILL_OPACITY}' in html
    assert '"dashArray": "6 4"' in html  # contested outline
    assert '"className": "cm-contested"' in html  # CSS hatch
    assert f'L.ConflictMap.ensureHatch("{contested}")' in html
    assert layer.n_areas == 2 and layer.skipped == 0


def test_control_areas_tooltip_has_controller_and_points_to_the_history() -> None:
    """Not the version's validity ("Valid 2017-11-03 to 2017-11-16" on a country-wide
    polygon holding Mosul, which did not change hands then): a pointer to the history."""
    html = _html(control_areas_layer(_areas()))
    assert '"controller": "SDF"' in html
    assert '"history": "click for who held this place, and when"' in html
    assert '"valid"' not in html and "2017-06-30" not in html
    assert '["Controlled by", "History", "Area", "Source"]' in html


def test_control_areas_as_of_keeps_versions_valid_that_day() -> None:
    assert control_areas_layer(_areas(), as_of="2017-03-01").n_areas == 2
    assert control_areas_layer(_areas(), as_of="2017-07-01").n_areas == 1  # end exclusive
    assert control_areas_layer(_areas(), as_of="2016-01-01").n_areas == 0


def test_control_areas_set_aside_null_empty_and_nan_geometries() -> None:
    areas = pd.concat([_areas()] * 2, ignore_index=True)
    areas.loc[1, "geometry"] = None
    areas.loc[2, "geometry"] = shapely.Polygon()
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        areas.loc[3, "geometry"] = shapely.Polygon([(38, 35), (np.nan, 35), (38, 36)])
    layer = control_areas_layer(gpd.GeoDataFrame(areas, geometry="geometry", crs=4326))
    assert (layer.n_areas, layer.skipped) == (1, 3)
    assert "NaN" not in _html(layer)


def test_control_areas_crs() -> None:
    with pytest.raises(CRSError, match="CRS missing"):
        control_areas_layer(_areas().set_crs(None, allow_override=True))
    html = _html(control_areas_layer(_areas().to_crs(3857)))
    assert "[38.4, 35.6]" in html  # back in degrees


# --- events --------------------------------------------------------------------------------


def test_events_layer_is_one_element_with_compact_arrays() -> None:
    layer = events_layer(_events())
    assert len(layer._children) == 0  # one folium object, not one per event
    html = _html(layer)
    data = _payload(html, "points")
    assert data["n"] == 6 and layer.skipped == 0
    assert data["format"] == 2 and data["scale"] == 10_000
    cols = decode_columns(data)
    assert cols["lat"][0] == 359500 and cols["lon"][0] == 390100  # 1e-4 degrees
    assert data["types"] == ["Battles", "Protests", "Riots", schema.UNKNOWN]
    assert cols["type"].tolist() == [0, 1, 0, 2, 3, 0]
    assert data["colours"][0] == style.EVENT_TYPE_COLOURS["Battles"]
    assert cols["fat"].tolist() == [3, 0, -1, 100, 1, 7]  # unknown is -1, not 0
    assert cols["prec"].tolist() == [1, 1, 2, 3, 0, 1]  # missing precision is 0 (hollow)
    # Numbers travel as base64 of little-endian ints, not as JSON lists of numbers.
    assert all(set(c) <= {"o", "w", "b", "d"} for c in data["cols"].values())
    assert "L.circleMarker" not in html and "L.marker" not in html


def test_events_layer_records_for_popups() -> None:
    data = _payload(_html(events_layer(_events())), "points")
    rec, table = decode_columns(data), data["dict"]
    assert table["idp"] == [["E", 0]] and rec["idn"][:2].tolist() == [1, 2]  # "E1", "E2"
    assert dt.date(1970, 1, 1) + dt.timedelta(days=int(rec["day"][0])) == dt.date(2017, 1, 2)
    assert table["actor"][rec["actor1"][0]] == "Group A"
    assert table["actor"][rec["actor2"][5]] == "Group A"  # one table for both actors
    assert rec["actor2"][1] == -1
    assert table["place"][rec["place"][0]] == "Raqqa, Ar-Raqqa, Syria"
    assert table["place"][rec["place"][4]] == "Ar-Raqqa, Syria"
    assert table["ctrl"][rec["ctrl"][0]] == "Islamic State"
    assert table["conf"][rec["conf"][1]] == "low"
    assert rec["note"][1] == -1 and rec["note"][2] == -1  # "" and None: no notes
    assert table["notes"][rec["note"][5]] == "x" * 400  # whole by default


def test_events_layer_can_cut_or_leave_notes_or_records_out() -> None:
    off = _payload(_html(events_layer(_events(), notes_max_chars=0)), "points")
    assert "note" not in off["cols"] and "notes" not in off["dict"]
    assert "dict" not in _payload(_html(events_layer(_events(), records=False)), "points")
    cut = _payload(_html(events_layer(_events(), notes_max_chars=280)), "points")
    note = cut["dict"]["notes"][decode_columns(cut)["note"][5]]
    assert len(note) == layers.events.NOTES_MAX_CHARS == 280 and note.endswith("\u2026")


def test_events_layer_sets_aside_rows_without_usable_coordinates() -> None:
    events = _events()
    events[schema.LATITUDE] = events[schema.LATITUDE].astype(object)
    events.loc[0, schema.LATITUDE] = np.nan
    events.loc[1, schema.LONGITUDE] = 200.0
    events.loc[2, schema.LATITUDE] = "north"
    layer = events_layer(events)
    assert (layer.n_points, layer.skipped) == (3, 3)
    assert decode_events(_payload(_html(layer), "points"))["id"].tolist() == ["E4", "E5", "E6"]


def test_events_layer_minimal_columns_and_empty() -> None:
    only = pd.DataFrame({schema.LATITUDE: [35.0], schema.LONGITUDE: [39.0]})
    data = _payload(_html(events_layer(only)), "points")
    assert data["types"] == [schema.UNKNOWN] and decode_columns(data)["fat"].tolist() == [-1]
    empty = events_layer(_events().iloc[0:0])
    assert empty.n_points == 0
    assert _payload(_html(empty), "points")["n"] == 0


def test_events_layer_legend_order_of_types() -> None:
    data = _payload(_html(events_layer(_events(), event_types=["Riots", "Other"])), "points")
    assert data["types"][:4] == ["Riots", "Other", "Battles", "Protests"]


def test_point_size_follows_style() -> None:
    assert style.point_radius(0) == style.RADIUS_ZERO
    assert style.point_radius(100) == style.RADIUS_MAX
    assert style.point_radius(None) == style.RADIUS_UNKNOWN != style.point_radius(0)
    assert style.point_radius(float("nan")) == style.RADIUS_UNKNOWN


def test_100k_points_cost_under_12_bytes_each_without_popups() -> None:
    n = 100_000
    rng = np.random.default_rng(1)
    events = pd.DataFrame(
        {
            schema.LATITUDE: rng.uniform(32, 37.5, n),
            schema.LONGITUDE: rng.uniform(35.5, 45, n),
            schema.EVENT_TYPE: rng.choice(list(style.EVENT_TYPE_COLOURS)[:6], n),
            schema.FATALITIES: rng.poisson(3, n).astype(float),
            schema.GEO_PRECISION: rng.choice([1, 2, 3], n),
        }
    )
    base = len(build_map(center=(35, 40), zoom=6).get_root().render())
    html = _html(events_layer(events, records=False))
    per_point = (len(html) - base) / n
    print(f"\n100k points: {per_point:.1f} bytes/point without popup records")
    assert per_point < 12  # 5 bytes of coordinates, a shared code for type/size/precision


def _stacked() -> pd.DataFrame:
    """Abu Kamal-like: three events on one spot (one given 3e-5 degrees off, the same spot
    to the payload's 1e-4), two on a second spot, one alone, one without coordinates."""
    return pd.DataFrame(
        {
            schema.EVENT_ID: [f"S{i}" for i in range(7)],
            schema.EVENT_DATE: pd.to_datetime(
                [
                    "2017-11-09",
                    "2017-11-11",
                    "2017-11-19",
                    "2017-11-03",
                    "2017-11-04",
                    "2017-11-05",
                    "2017-11-06",
                ]
            ),
            schema.LATITUDE: [34.4523, 34.45226, 34.4523, 34.37, 34.37, 37.0, np.nan],
            schema.LONGITUDE: [40.9185, 40.91854, 40.9185, 41.09, 41.09, 38.0, 38.0],
        }
    )


def test_events_layer_counts_the_events_sharing_each_spot() -> None:
    data = _payload(_html(events_layer(_stacked())), "points")
    cols = decode_columns(data)
    assert data["n"] == 6  # the row without coordinates is not counted anywhere
    assert cols["stack"].tolist() == [3, 3, 3, 2, 2, 1]
    # Every point of a stack is still drawn at its own place, as given (to 1e-4 degree).
    assert cols["lat"].tolist()[:3] == [344523, 344523, 344523]
    assert data["labels"]["stackTitle"] == "{n} events here"
    # The count is of the layer's events: a stack split by the date window counts less.
    alone = _payload(_html(events_layer(_stacked().iloc[[0, 3, 5]])), "points")
    assert decode_columns(alone)["stack"].tolist() == [1, 1, 1]
    # Clusters get the same column (their popups list a stack the same way).
    assert decode_columns(_payload(_html(cluster_layer(_stacked())), "cluster"))[
        "stack"
    ].tolist() == [3, 3, 3, 2, 2, 1]


def test_stack_sizes_compare_positions_as_sent() -> None:
    lat = np.array([10.0, 10.00004, 10.00006, -10.0, 10.0])
    lon = np.array([20.0, 20.0, 20.0, 20.0, -20.0])
    # 10.00004 rounds to the same 1e-4 step as 10.0, 10.00006 to the next one; the
    # southern and western mirror images are other places.
    assert layers.events.stack_sizes(lat, lon).tolist() == [2, 2, 1, 1, 1]
    assert layers.events.stack_sizes(lat, lon, scale=1000).tolist() == [3, 3, 3, 1, 1]
    assert layers.events.stack_sizes(np.array([]), np.array([])).tolist() == []
    extremes = layers.events.stack_sizes(
        np.array([90.0, -90.0, 90.0]), np.array([180.0, -180.0, 180.0])
    )
    assert extremes.tolist() == [2, 1, 2]


def test_stack_column_costs_nothing_when_every_spot_is_distinct() -> None:
    data = _payload(_html(events_layer(_events(), records=False)), "points")
    spec = data["cols"].get("stack") or next(
        g["cols"]["stack"] for g in data["groups"] if "stack" in g["cols"]
    )
    assert spec["w"] == 0 and spec["o"] == 1  # a constant 1: no bytes per event


def test_cluster_layer_uses_served_markercluster() -> None:
    html = _html(cluster_layer(_events()))
    assert _payload(html, "cluster")["n"] == 6
    assert "vendor/leaflet.markercluster/leaflet.markercluster.js" in html
    assert "vendor/leaflet.markercluster/MarkerCluster.Default.css" in html


def test_heatmap_layer() -> None:
    layer = heatmap_layer(_events())
    data = _payload(_html(layer), "heat")
    assert data["scale"] == 1000 and data["coords"][:2] == [35950, 39010]
    assert data["weights"] == [1] * 6
    assert data["options"]["gradient"] == dict(style.HEAT_GRADIENT)
    weighted = _payload(_html(heatmap_layer(_events(), weight="fatalities")), "heat")
    assert weighted["weights"][2] == 1.0  # unknown fatalities still count as an event
    assert weighted["weights"][3] == pytest.approx(1 + np.log1p(100), abs=0.01)
    with pytest.raises(ValueError, match="weight"):
        heatmap_layer(_events(), weight="deaths")


def test_default_point_mode() -> None:
    assert default_point_mode(0) == "points"
    assert default_point_mode(POINTS_MAX) == "points"
    assert default_point_mode(POINTS_MAX + 1) == "hexagons"
    assert default_point_mode(10 * POINTS_MAX) == "hexagons"
    assert set(layers.POINT_MODES) == {"points", "clusters", "heatmap", "hexagons"}


# --- context, legend, map ------------------------------------------------------------------


def test_context_layer_outlines_and_labels() -> None:
    layer = context_layer(_countries(), _towns())
    html = _html(layer)
    assert '"className": "cm-country"' in html and '"interactive": false' in html
    rows = _payload(html, "labels")["rows"]
    assert [r[2] for r in rows if r[5] == "country"] == ["Syria", "Iraq"]
    raqqa = next(r for r in rows if r[2] == "Raqqa")
    assert raqqa[3] == "الرقة" and raqqa[4] == 6  # governorate capitals from zoom 6
    assert next(r for r in rows if r[2] == "Tabqa")[4] == 8
    assert "Nowhere" not in [r[2] for r in rows]  # no coordinates
    assert (layer.n_countries, layer.n_labels) == (2, 4)
    assert context_layer(None, None).n_labels == 0


def test_legend_element() -> None:
    legend = legend_element(
        [schema.SDF, schema.CONTESTED, "New group"],
        ["Battles", "Other type"],
        as_of=dt.date(2017, 1, 31),
        window_days=30,
        counts={"events": 1234, "areas": 9},
    )
    spec = _payload(_html(legend), "legend")
    assert spec["subtitle"] == [
        "Control of territory on 2017-01-31",
        "Events 2017-01-02 to 2017-01-31 (30 days)",
    ]
    assert spec["controllers"][0] == [schema.SDF, style.CONTROLLER_COLOURS[schema.SDF], ""]
    assert spec["controllers"][1][2] == "hatched"  # contested: hatched swatch
    assert spec["controllers"][2][1] == style.EXTRA_CONTROLLER_COLOURS[0]
    assert spec["types"][1][1] == style.EXTRA_EVENT_TYPE_COLOURS[0]
    assert spec["counts"] == ["1,234 events", "9 areas"]


def test_build_map_without_tiles_loads_nothing_from_outside() -> None:
    html = _html(_full_map())
    sources = re.findall(r'<script src="([^"]+)"', html) + re.findall(r'href="([^"]+)"', html)
    assert sources and all(s.startswith(assets.COMPONENT_STATIC_URL) for s in sources)
    assert "openstreetmap" not in html.lower()
    for cdn in ("jsdelivr", "cdnjs", "jquery", "bootstrap", "fontawesome", "http://", "https://"):
        assert cdn not in html.lower()


def test_build_map_osm_tiles_with_attribution() -> None:
    html = _html(build_map(center=(35, 40), zoom=6, basemap="osm"))
    assert "tile.openstreetmap.org/{z}/{x}/{y}.png" in html
    assert "OpenStreetMap" in html and "contributors" in html
    with pytest.raises(ValueError, match="basemap"):
        build_map(center=(35, 40), zoom=6, basemap="satellite")


def test_build_map_uses_given_asset_urls_for_every_element() -> None:
    urls = assets.asset_urls("/somewhere/")
    fmap = build_map(
        center=(35.9, 39.0),
        zoom=8,
        basemap="none",
        assets=urls,
        layers=[cluster_layer(_events()), heatmap_layer(_events())],
    )
    html = fmap.get_root().render()
    assert html.count('src="/somewhere/vendor/leaflet/leaflet.js"') == 1
    assert assets.COMPONENT_STATIC_URL not in html
    with pytest.raises(ValueError, match="missing"):
        build_map(center=(0, 0), zoom=1, assets={"leaflet": "x.js"})


def test_each_layer_links_leaflet_its_plugin_and_the_maps_script() -> None:
    def links(element: Any) -> list[str]:
        return [name for name, _ in element.default_js]

    script = assets.MAP_SCRIPT
    assert links(events_layer(_events())) == ["leaflet", script]
    assert links(cluster_layer(_events())) == ["leaflet", "markerclusterjs", script]
    assert links(heatmap_layer(_events())) == ["leaflet", "leaflet-heat.js", script]
    legend = legend_element(["SDF"], ["Battles"], as_of=None, window_days=None)
    assert links(legend) == ["leaflet", script]
    (labels,) = context_layer(None, _towns())._children.values()
    assert links(labels) == ["leaflet", script]
    assert links(layers.JsonLayer("viewDate", "{}", name="date")) == ["leaflet", script]
    with pytest.raises(ValueError, match="L.ConflictMap.nothing"):
        layers.JsonLayer("nothing", "{}", name="x")


def test_the_page_loads_the_maps_script_once_after_leaflet() -> None:
    """The map links it (streamlit-folium loads scripts only when the map mounts, not when
    layers are swapped in): one file holding every module, so one request."""
    html = _full_map(assets=assets.asset_urls("/s/")).get_root().render()
    sources = re.findall(r'<script src="([^"]+)"', html)
    ours = [s for s in sources if "conflictmap" in s]
    assert ours == ["/s/vendor/conflictmap/conflictmap.js"]
    assert sources.index("/s/vendor/leaflet/leaflet.js") < sources.index(ours[0])


def test_same_inputs_same_html() -> None:
    assert _html(_full_map()) == _html(_full_map())


def test_same_html_in_another_process() -> None:
    here = _html(_full_map())
    code = (
        "import sys; sys.path.insert(0, 'tests'); import test_layers as t; "
        "sys.stdout.write(t._html(t._full_map()))"
    )
    there = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    assert there == here


def test_layers_work_inside_streamlit_folium_feature_groups() -> None:
    """What st_folium(feature_group_to_add=...) sends: only the script macros, no header."""
    from streamlit_folium import _get_feature_group_string, generate_leaflet_string

    fmap = build_map(center=(35.9, 39.0), zoom=8, basemap="none")
    groups = []
    for element in (
        events_layer(_events(n_payload=1)),
        legend_element(["SDF"], ["Battles"], as_of=None, window_days=None),
    ):
        group = folium.FeatureGroup(name="g")
        element.add_to(group)
        groups.append(group)
    fmap.get_root().render()
    base = generate_leaflet_string(fmap)
    assert "L.ConflictMap.setup(map_div" in base
    script = "".join(_get_feature_group_string(g, fmap, idx=i) for i, g in enumerate(groups))
    data = _payload(script, "points")
    decoded = decode_events(data)
    assert decoded["notes"].tolist() == [*PAYLOADS[:4], BACKSLASH, JINJA]
    assert decoded["id"].tolist() == list(PAYLOADS)
    assert "L.ConflictMap.legend(" in script
    assert ".addTo(feature_group_feature_group_0)" in script


# --- in a browser --------------------------------------------------------------------------

LOCAL_HOSTS = ("127.0.0.1", "localhost")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, dict[str, str]]]:
    root = tmp_path_factory.mktemp("site")
    urls = assets.ensure_static_assets(root / "static", base_url="static/")
    with serve_static(root) as base:
        yield root, base, urls


@pytest.fixture(scope="module")
def chromium(chromium_browser: Any) -> Any:
    return chromium_browser


class _Page:
    """A page whose every request off 127.0.0.1 is aborted and recorded."""

    def __init__(self, browser: Any) -> None:
        self.page = browser.new_page(viewport={"width": 1000, "height": 700})
        self.left: list[str] = []
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.route("**/*", self._route)

    def _route(self, route: Any) -> None:
        if urlparse(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            self.left.append(route.request.url)
            route.abort()


@pytest.fixture()
def page(chromium: Any) -> Iterator[_Page]:
    wrapped = _Page(chromium)
    yield wrapped
    wrapped.page.close()


def _open(page: _Page, site: tuple[Path, str, dict[str, str]], fmap: folium.Map, name: str) -> Any:
    root, base, _ = site
    (root / f"{name}.html").write_text(fmap.get_root().render(), encoding="utf-8")
    page.page.goto(f"{base}/{name}.html")
    page.page.wait_for_function("window.L && window.L.ConflictMap")
    return page.page


def _points_drawn(pg: Any) -> None:
    pg.wait_for_function(
        "L.ConflictMap.layers.length > 0 && L.ConflictMap.layers[0].stats.draws > 0"
    )


def _screen_point(pg: Any, fmap: folium.Map, lat: float, lon: float) -> tuple[float, float]:
    """Where a place is on screen, once the map has stopped moving (popups auto-pan)."""
    pg.wait_for_function(
        f"() => {{ const a = {fmap.get_name()}._panAnim; return !a || !a._inProgress; }}"
    )
    x, y = pg.evaluate(
        f"""() => {{
            const m = {fmap.get_name()}, p = m.latLngToContainerPoint([{lat}, {lon}]);
            const r = m.getContainer().getBoundingClientRect();
            return [p.x + r.left, p.y + r.top];
        }}"""
    )
    return x, y


def _close_popup(pg: Any) -> None:
    """Close the open popup, which may cover the next point to click."""
    pg.locator(".leaflet-popup-close-button").click()
    pg.wait_for_selector(".leaflet-popup", state="detached")


_PAINTED = """(selector) => {
    const c = document.querySelector(selector);
    const d = c.getContext('2d', {willReadFrequently: true}).getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) { n++; } }
    return n;
}"""


@pytest.mark.browser
def test_map_paints_offline(page: _Page, site: Any) -> None:
    fmap = _full_map(assets=site[2])
    pg = _open(page, site, fmap, "offline")
    _points_drawn(pg)
    assert pg.locator(".leaflet-container").count() == 1
    assert pg.evaluate("L.ConflictMap.layers[0].stats.drawn") == 6
    assert pg.evaluate(_PAINTED, "canvas.cm-points-canvas") > 100
    # 2 areas (SVG, interactive) + 2 country outlines (SVG, not interactive)
    assert pg.locator("path.leaflet-interactive").count() == 2
    assert pg.locator("path.cm-country").count() == 2
    assert pg.locator("path.cm-contested").count() == 1
    assert pg.locator(".cm-label-ar").first.inner_text() == "الرقة"
    assert "Events 2017-01-02 to 2017-01-31 (30 days)" in pg.inner_text(".cm-title")
    assert "Contested" in pg.inner_text(".cm-legend")
    assert pg.locator(".leaflet-control-layers").count() == 1
    assert page.left == [] and page.errors == []


@pytest.mark.browser
def test_popup_shows_the_event_as_text(page: _Page, site: Any) -> None:
    fmap = _full_map(assets=site[2])
    pg = _open(page, site, fmap, "popup")
    _points_drawn(pg)
    pg.mouse.click(*_screen_point(pg, fmap, 35.70, 39.30))  # E4: Riots, 100 dead, regional
    pg.wait_for_selector(".cm-popup")
    text = pg.inner_text(".cm-popup")
    assert text.startswith("Riots")
    for expected in (
        "2017-01-02 (date within a month or more)",
        "Rioters",
        "100",
        "regional centroid",
        "SDF (high confidence)",
        "Riot.",
        "E4",
    ):
        assert expected in text
    _close_popup(pg)
    pg.mouse.click(*_screen_point(pg, fmap, 35.84, 38.55))  # E3: fatalities unknown
    pg.wait_for_function("document.querySelector('.cm-popup').innerText.includes('Tabqa')")
    assert "Fatalities\tunknown" in pg.inner_text(".cm-popup")


@pytest.mark.browser
def test_javascript_radius_matches_python(page: _Page, site: Any) -> None:
    pg = _open(page, site, _full_map(assets=site[2]), "radius")
    _points_drawn(pg)
    for fatalities in (0, 1, 9, 100, 10_000, None):
        js = pg.evaluate(
            "(f) => L.ConflictMap.radiusOf(L.ConflictMap.layers[0]._data.style, f)",
            -1 if fatalities is None else fatalities,
        )
        assert js == pytest.approx(style.point_radius(fatalities))


@pytest.mark.browser
def test_hostile_text_shows_literally_and_runs_nowhere(page: _Page, site: Any) -> None:
    events = _events(n_payload=1)
    areas = _areas((XSS, schema.CONTESTED))
    areas[schema.AREA_ID] = [SCRIPT_BREAK, TEMPLATE_LITERAL]
    areas[schema.AREA_SOURCE] = [BACKSLASH, BACKTICK]
    fmap = build_map(
        center=(35.9, 39.0),
        zoom=8,
        basemap="none",
        assets=site[2],
        layers=[
            context_layer(_countries(XSS), _towns(TEMPLATE_LITERAL)),
            control_areas_layer(areas, name=SCRIPT_BREAK),
            events_layer(events, name=XSS),
        ],
        legend=legend_element(
            [XSS, BACKSLASH],
            [SCRIPT_BREAK, JINJA],
            as_of="2017-01-31",
            window_days=30,
            counts={BACKTICK: 1},
            title=TEMPLATE_LITERAL,
        ),
        layer_control=True,
    )
    pg = _open(page, site, fmap, "hostile")
    _points_drawn(pg)
    assert pg.evaluate("L.ConflictMap.layers[0].stats.drawn") == 6  # every row still drawn
    assert pg.evaluate("window.__xss") is None
    assert pg.locator("img").count() == 0
    assert pg.locator("[onerror]").count() == 0
    html = fmap.get_root().render()
    assert pg.evaluate("document.scripts.length") == html.count("<script")  # no breakout
    assert page.errors == [] and page.left == []

    for i, payload in enumerate(PAYLOADS):
        row = events.iloc[i]
        if i:
            _close_popup(pg)
        pg.mouse.click(*_screen_point(pg, fmap, row[schema.LATITUDE], row[schema.LONGITUDE]))
        pg.wait_for_function(
            "(id) => { const p = document.querySelector('.cm-popup');"
            " return p && p.textContent.includes(id); }",
            arg=payload,
        )
        text = pg.locator(".cm-popup").text_content()
        assert text.count(payload) >= 4, payload  # notes, place, actor, sub-type, source, id

    pg.mouse.move(*_screen_point(pg, fmap, 35.9, 38.6))  # the XSS-named area
    pg.wait_for_selector(".leaflet-tooltip")
    tooltip = pg.locator(".leaflet-tooltip").text_content()
    assert XSS in tooltip and SCRIPT_BREAK in tooltip and BACKSLASH in tooltip

    legend = pg.locator(".cm-legend").text_content()
    assert XSS in legend and BACKSLASH in legend and SCRIPT_BREAK in legend and JINJA in legend
    assert f"1 {BACKTICK}" in legend
    assert pg.locator(".cm-title-main").text_content() == TEMPLATE_LITERAL
    labels = pg.locator(".cm-label").all_text_contents()
    assert any(TEMPLATE_LITERAL in t for t in labels)
    pg.locator(".leaflet-control-layers").hover()
    overlays = pg.locator(".leaflet-control-layers-overlays").text_content()
    assert XSS in overlays and SCRIPT_BREAK in overlays
    assert pg.evaluate("window.__xss") is None


@pytest.mark.browser
def test_osm_basemap_is_the_only_thing_fetched_from_outside(page: _Page, site: Any) -> None:
    fmap = _full_map(assets=site[2], basemap="osm")
    pg = _open(page, site, fmap, "osm")
    _points_drawn(pg)
    pg.wait_for_function("document.querySelectorAll('img.leaflet-tile').length > 0")
    assert page.left and all(urlparse(u).hostname == "tile.openstreetmap.org" for u in page.left)
    assert "OpenStreetMap" in pg.inner_text(".leaflet-control-attribution")


@pytest.mark.browser
def test_cluster_and_heat_layers_paint(page: _Page, site: Any) -> None:
    fmap = build_map(
        center=(35.9, 39.0),
        zoom=7,
        basemap="none",
        assets=site[2],
        layers=[control_areas_layer(_areas()), heatmap_layer(_events()), cluster_layer(_events())],
    )
    pg = _open(page, site, fmap, "cluster")
    pg.wait_for_selector(".marker-cluster")
    pg.wait_for_function(f"({_PAINTED})('canvas.leaflet-heatmap-layer') > 100")
    # Leaflet's CSS puts canvases below SVG within a pane: the heat map has its own pane.
    assert pg.evaluate(
        "document.querySelector('canvas.leaflet-heatmap-layer').parentNode.className"
    ).endswith("leaflet-cmHeat-pane")
    # Zoomed right in, E6 stands alone: its circle opens the same popup as the point layer.
    pg.evaluate(f"{fmap.get_name()}.setView([36.38, 38.86], 16, {{animate: false}})")
    pg.wait_for_function("document.querySelectorAll('.marker-cluster').length === 0")
    pg.mouse.click(*_screen_point(pg, fmap, 36.38, 38.86))
    pg.wait_for_selector(".cm-popup")
    assert "Ain Issa" in pg.inner_text(".cm-popup")
    assert page.left == [] and page.errors == []


@pytest.mark.browser
def test_inlined_assets_need_no_server(page: _Page) -> None:
    fmap = _full_map(assets=assets.inline_asset_urls())
    html = fmap.get_root().render()
    page.page.set_content(html)
    page.page.wait_for_function(
        "window.L && L.ConflictMap.layers.length > 0 && L.ConflictMap.layers[0].stats.draws > 0"
    )
    assert page.page.evaluate("L.ConflictMap.layers[0].stats.drawn") == 6
    assert page.left == [] and page.errors == []
    print(f"\nself-contained page: {len(html) / 1024:.0f} KiB")


@pytest.mark.browser
def test_popup_says_no_area_instead_of_unknown_controller(page: _Page, site: Any) -> None:
    pg = _open(page, site, _full_map(assets=site[2]), "unknown-controller")
    _points_drawn(pg)
    rows = pg.evaluate(
        """() => {
        const labels = L.ConflictMap.layers[0]._data.labels;
        const d = {rec: {ctrl: [0, 1], conf: [0, 0]}, dict: {ctrl: ['Unknown', 'SDF'],
                   conf: ['high']}, labels: labels, fat: [0, 0], prec: [1, 1], type: [0, 0],
                   types: ['Battles']};
        return [0, 1].map((i) => Object.fromEntries(L.ConflictMap.record(d, i).rows));
        }"""
    )
    assert rows[0]["Controlled by"] == "no control area mapped here on that date"
    assert rows[1]["Controlled by"] == "SDF (high confidence)"


# --- long text in popups (core.js CM.longText) -----------------------------------------------

LONG_NOTE = "n" * 100_000  # no space: Chromium took 20-30 s to lay out such a run whole
LONG_ACTOR = XSS * 3000  # 105,000 characters of markup, with spaces

_LONG_POPUP_JS = """() => {
    const CM = L.ConflictMap, layer = CM.layers[0], d = layer._data;
    let i = 0;
    while (CM.eventId(d, i) !== 'E1') { i++; }
    const root = layer.popupContent(i);
    document.body.appendChild(root);
    const cell = (label) => [...root.querySelectorAll('tr')]
        .find((tr) => tr.querySelector('th').textContent === label).querySelector('td');
    const shown = (node) => node.querySelector('.cm-text').textContent;
    const runs = (node) => [...node.querySelector('.cm-text').childNodes]
        .filter((c) => c.nodeType === 3).map((c) => c.data);
    const notes = cell('Notes'), actors = cell('Actors');
    const out = {
        total: root.textContent.length,
        buttons: root.querySelectorAll('.cm-more-button').length,
        title: shown(root.querySelector('.cm-popup-title')),
        noteSteps: [shown(notes).length],
        label: notes.querySelector('.cm-more-button').textContent,
        longestRun: Math.max(...runs(notes).map((t) => t.length)),
        wbr: notes.querySelectorAll('wbr').length,
        date: shown(cell('Date')),
    };
    while (notes.querySelector('.cm-more-button')) {
        notes.querySelector('.cm-more-button').click();
        out.noteSteps.push(shown(notes).length);
    }
    out.noteWhole = notes.textContent === 'n'.repeat(100000);
    while (actors.querySelector('.cm-more-button')) {
        actors.querySelector('.cm-more-button').click();
    }
    out.actors = actors.textContent;
    out.images = document.querySelectorAll('img').length;
    out.xss = window.__xss === undefined ? null : window.__xss;
    root.remove();
    return out;
}"""


@pytest.mark.browser
def test_popup_shows_the_start_of_long_values_and_the_rest_on_demand(
    page: _Page, site: Any
) -> None:
    events = _events()
    events.loc[0, schema.NOTES] = LONG_NOTE
    events.loc[0, schema.ACTOR1] = LONG_ACTOR
    events.loc[0, schema.EVENT_TYPE] = "T" * 1000
    fmap = build_map(
        center=(35.9, 39.0), zoom=8, basemap="none", assets=site[2], layers=[events_layer(events)]
    )
    pg = _open(page, site, fmap, "long-text")
    _points_drawn(pg)
    got = pg.evaluate(_LONG_POPUP_JS)
    assert got["total"] < 2000  # title 200, actors 600, notes 600 and the buttons
    assert got["buttons"] == 3
    assert got["title"] == "T" * 200
    assert got["label"] == "Show more (99,400 more characters)"
    assert got["noteSteps"] == [600, 2_400, 9_600, 38_400, 100_000]
    assert got["noteWhole"]  # the whole note, character for character
    assert got["longestRun"] == 24 and got["wbr"] == 600 // 24 - 1  # break opportunities
    assert got["date"] == "2017-01-02"  # short values as they were, no button
    assert got["actors"] == LONG_ACTOR + " \u2013 Group B"  # markup shown as text
    assert got["images"] == 0 and got["xss"] is None
    assert page.errors == []


@pytest.mark.browser
def test_long_text_keeps_characters_whole(page: _Page, site: Any) -> None:
    """Cuts and break opportunities never split a surrogate pair; text with spaces, Arabic
    and short runs is left as one text node."""
    pg = _open(page, site, _full_map(assets=site[2]), "long-text-chars")
    got = pg.evaluate(
        r"""() => {
        // 'x' first: every cut at an even offset (600, and the breaks every 24) would fall
        // between the two halves of an emoji.
        const CM = L.ConflictMap, emoji = 'x' + '\u{1F600}'.repeat(700);
        const td = CM.longText(document.createElement('td'), emoji, 600);
        const first = td.querySelector('.cm-text').textContent;
        const pieces = [...td.querySelector('.cm-text').childNodes]
            .filter((c) => c.nodeType === 3).map((c) => c.data);
        td.querySelector('.cm-more-button').click();
        const words = 'دير الزور ' + 'a short sentence, well under the cut. ';
        const plain = CM.longText(document.createElement('td'), words);
        return {
            firstLength: first.length,
            splitPair: pieces.some((p) => /^[\uDC00-\uDFFF]/.test(p)),
            whole: td.textContent === emoji,
            plainNodes: plain.querySelector('.cm-text').childNodes.length,
            plainText: plain.textContent === words,
            plainButton: plain.querySelectorAll('button').length,
        };
        }"""
    )
    assert got == {
        "firstLength": 599,
        "splitPair": False,
        "whole": True,
        "plainNodes": 1,
        "plainText": True,
        "plainButton": 0,
    }


def test_popup_labels_include_the_show_more_wording() -> None:
    payload = _payload(_html(events_layer(_events())), "points")
    assert payload["labels"]["showMore"] == "Show more ({n} more characters)"


OCHA_ACTORS = [
    "ISIS-affiliated groups",
    "Government (SAA)",
    "Kurdish Forces",
    "Non-state armed groups and ANF",
    "Contested Areas",
    "ISIS operation",
]


def test_a_users_controllers_get_distinct_colours_fixed_for_the_dataset() -> None:
    palette = style.controller_palette(OCHA_ACTORS)
    assert len(set(palette.values())) == len(OCHA_ACTORS)  # no two share a colour
    assert not set(palette.values()) & set(style.CONTROLLER_COLOURS.values())
    # a view showing only some of them colours each as the whole dataset does
    for subset in (OCHA_ACTORS[3:], OCHA_ACTORS[::-1], ["Contested Areas"]):
        got = style.controller_colours(subset, palette=palette)
        assert got == {name: palette[name] for name in subset}
    # and the order of appearance does not matter without a palette either
    assert style.controller_colours(OCHA_ACTORS) == style.controller_colours(OCHA_ACTORS[::-1])


def test_map_legend_and_polygons_agree_on_every_date() -> None:
    square = shapely.box(36, 34, 37, 35)
    areas = gpd.GeoDataFrame(
        {
            schema.AREA_ID: [f"a{i}" for i in range(len(OCHA_ACTORS))],
            schema.CONTROLLER: OCHA_ACTORS,
            schema.VALID_FROM: pd.to_datetime(["2015-05-24"] * 3 + ["2015-11-29"] * 3),
            schema.VALID_TO: pd.to_datetime(["2015-11-29"] * 3 + [None] * 3),
        },
        geometry=[shapely.affinity.translate(square, i, 0) for i in range(len(OCHA_ACTORS))],
        crs="EPSG:4326",
    )
    palette = style.controller_palette(areas[schema.CONTROLLER])
    for day, shown in (("2015-06-01", OCHA_ACTORS[:3]), ("2016-01-01", OCHA_ACTORS[3:])):
        html = _html(control_areas_layer(areas, as_of=day))
        for name in shown:
            assert f'"fillColor": "{palette[name]}"' in html, (day, name)
        legend = _payload(
            _html(legend_element(shown, [], as_of=day, window_days=None, palette=palette)),
            "legend",
        )
        assert {c[0]: c[1] for c in legend["controllers"]} == {n: palette[n] for n in shown}


# --- events on one spot (points.js CM.stackPopup, count badges) ------------------------------


def _one_spot(n: int) -> pd.DataFrame:
    """``n`` events on one spot at Raqqa, a day apart (S0 oldest), each text a payload."""
    frame = pd.DataFrame(
        {
            schema.EVENT_ID: [f"S{i}" for i in range(n)],
            schema.EVENT_DATE: pd.Timestamp("2017-01-01") + pd.to_timedelta(range(n), "D"),
            schema.EVENT_TYPE: [PAYLOADS[i % len(PAYLOADS)] for i in range(n)],
            schema.ACTOR1: [PAYLOADS[(i + 1) % len(PAYLOADS)] for i in range(n)],
            schema.ACTOR2: [XSS * 50 for _ in range(n)],  # 1,800 characters of markup
            schema.NOTES: [PAYLOADS[(i + 2) % len(PAYLOADS)] for i in range(n)],
            schema.CONTROLLER: [PAYLOADS[(i + 3) % len(PAYLOADS)] for i in range(n)],
            schema.LATITUDE: [35.95] * n,
            schema.LONGITUDE: [39.01] * n,
            schema.GEO_PRECISION: [1] * n,
            schema.FATALITIES: [float(i) for i in range(n)],
        }
    )
    return frame.sample(frac=1, random_state=4)  # the layer's order is not the date order


_STACK_JS = """() => {
    const p = document.querySelector('.cm-popup');
    return {
        title: p.querySelector('.cm-popup-title').textContent,
        items: p.querySelectorAll('.cm-stack-item').length,
        heads: [...p.querySelectorAll('.cm-stack-head')].map((h) => h.textContent),
        facts: [...p.querySelectorAll('.cm-stack-facts')].map((h) => h.textContent),
        actors: [...p.querySelectorAll('.cm-stack-actors')].map((h) => h.textContent),
        more: [...p.querySelectorAll('.cm-stack-more')].map((b) => b.textContent),
        elements: [...p.querySelectorAll('*')].map((e) => e.tagName.toLowerCase()),
        xss: window.__xss === undefined ? null : window.__xss,
    };
}"""


@pytest.mark.browser
def test_a_click_on_a_spot_lists_its_events_newest_first_as_text(page: _Page, site: Any) -> None:
    n = 45  # more than one page of the list (CM.STACK_PAGE = 20)
    fmap = build_map(
        center=(35.95, 39.01),
        zoom=8,
        basemap="none",
        assets=site[2],
        layers=[events_layer(_one_spot(n))],
    )
    pg = _open(page, site, fmap, "stack")
    _points_drawn(pg)
    layer = "L.ConflictMap.layers[0]"
    assert pg.evaluate(f"{layer}.stats.badges") == 1 and pg.evaluate(f"{layer}.stats.stacks") == 1
    # The badge is drawn beside the point: the point itself is painted where it is.
    pg.mouse.click(*_screen_point(pg, fmap, 35.95, 39.01))
    pg.wait_for_selector(".cm-stack-popup")
    got = pg.evaluate(_STACK_JS)
    assert got["title"] == f"{n} events here"
    assert got["items"] == 20
    days = [f"2017-02-{14 - k:02d}" if k < 14 else f"2017-01-{45 - k:02d}" for k in range(20)]
    assert [h.split(" \u00b7 ")[0] for h in got["heads"]] == days  # newest (S44) first
    # Every data value is text: the payloads show literally, nothing of them became markup.
    newest = n - 1
    assert got["heads"][0] == f"2017-02-14 \u00b7 {PAYLOADS[newest % len(PAYLOADS)]}"
    assert got["actors"][0].startswith(PAYLOADS[(newest + 1) % len(PAYLOADS)])
    assert len(got["actors"][0]) <= 120 and got["actors"][0].endswith("\u2026")  # one line
    assert got["facts"][0] == (
        f"Fatalities: {newest} \u00b7 Controlled by: {PAYLOADS[(newest + 3) % len(PAYLOADS)]}"
    )
    assert set(got["elements"]) <= {"div", "ol", "li", "button", "span"}
    assert got["more"] == ["Show 20 more (25 not shown yet)"]
    # The rest, a page at a time; then no button.
    pg.locator(".cm-stack-more").click()
    assert pg.evaluate(_STACK_JS)["more"] == ["Show 5 more (5 not shown yet)"]
    pg.locator(".cm-stack-more").click()
    got = pg.evaluate(_STACK_JS)
    assert got["items"] == n and got["more"] == [] and got["heads"][-1].startswith("2017-01-01")
    # A line opens the event's whole record (long values behind "Show more"), and closes.
    line = pg.locator(".cm-stack-summary").nth(2)
    line.click()
    details = pg.locator(".cm-stack-details").first
    assert "S42" in details.text_content() and line.get_attribute("aria-expanded") == "true"
    assert details.locator(".cm-more-button").count() == 1  # the 1,800-character actor
    line.click()
    assert details.is_hidden() and line.get_attribute("aria-expanded") == "false"
    assert pg.evaluate(_STACK_JS)["xss"] is None and pg.locator("img").count() == 0
    assert page.errors == [] and page.left == []


@pytest.mark.browser
def test_points_a_pixel_apart_share_one_badge_and_one_list(page: _Page, site: Any) -> None:
    events = _stacked()  # 3 events at one spot, 2 at Al-Qaim-like 34.37 N 41.09 E, 1 alone
    fmap = build_map(
        center=(34.45, 40.92), zoom=6, basemap="none", assets=site[2], layers=[events_layer(events)]
    )
    pg = _open(page, site, fmap, "stack-zoom")
    _points_drawn(pg)
    counts = (
        "() => { const l = L.ConflictMap.layers[0];"
        " return [...Array(l._n).keys()].map((i) => l.stackCount(i)); }"
    )
    # At zoom 6 (2 km a pixel) the two spots, 18 km apart, are apart; the three events
    # (the same position to 1e-4 degree) are one point.
    assert pg.evaluate(counts) == [3, 3, 3, 2, 2, 1]
    # At zoom 2 (32 km a pixel) the two spots fall within a pixel: one point of 5.
    pg.evaluate(f"{fmap.get_name()}.setMinZoom(2).setZoom(2, {{animate: false}})")
    pg.wait_for_function(
        f"{fmap.get_name()}.getZoom() === 2 && L.ConflictMap.layers[0]._projZoom === 2"
    )
    assert pg.evaluate(counts) == [5, 5, 5, 5, 5, 1]
    pg.mouse.click(*_screen_point(pg, fmap, 34.4523, 40.9185))
    pg.wait_for_selector(".cm-stack-popup")
    heads = pg.locator(".cm-stack-head").all_text_contents()
    assert [h.split(" \u00b7 ")[0] for h in heads] == [
        "2017-11-19",
        "2017-11-11",
        "2017-11-09",
        "2017-11-04",
        "2017-11-03",
    ]
    assert page.errors == []


@pytest.mark.browser
def test_a_cluster_on_one_spot_lists_its_events(page: _Page, site: Any) -> None:
    fmap = build_map(
        center=(35.95, 39.01),
        zoom=8,
        basemap="none",
        assets=site[2],
        layers=[cluster_layer(_one_spot(3))],
    )
    pg = _open(page, site, fmap, "stack-cluster")
    pg.wait_for_selector(".marker-cluster")
    assert pg.inner_text(".marker-cluster") == "3"
    pg.locator(".marker-cluster").click()
    pg.wait_for_selector(".cm-stack-popup")
    got = pg.evaluate(_STACK_JS)
    assert got["title"] == "3 events here" and got["items"] == 3
    assert [h.split(" \u00b7 ")[0] for h in got["heads"]] == [
        "2017-01-03",
        "2017-01-02",
        "2017-01-01",
    ]
    assert pg.evaluate(f"{fmap.get_name()}.getZoom()") == 8  # listed, not zoomed into
    assert got["xss"] is None and page.errors == [] and page.left == []
