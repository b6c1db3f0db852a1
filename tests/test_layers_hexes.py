"""The hexagon layer: payload, escaping, legend, the page in a browser, and the app's choice.

Fixtures are small and hand-made (events at known places near Raqqa and Baghdad) except
where a promise is about size: the app test puts more than ``POINTS_MAX`` events in one
window, and checks the page stays bounded.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import folium
import numpy as np
import pandas as pd
import pytest
from app_fixtures import EVENT_ROWS, write_inputs
from static_site import serve_static

from dashboard import aggregate, assets, schema, style
from dashboard import viewstate as S
from dashboard.aggregate import POINTS_MAX
from dashboard.layers import (
    HexagonKey,
    build_map,
    encode_hexagons,
    hexagon_layer,
    legend_element,
)

# Each test builds into a cache of its own (app_fixtures.private_build_cache).
pytestmark = pytest.mark.usefixtures("private_build_cache")

REPO = Path(__file__).resolve().parents[1]
JS = REPO / "dashboard" / "app" / "static" / "js" / "hexagons.js"
XSS = "<img src=x onerror=window.__xss=1>"
SCRIPT_BREAK = "</script><script>window.__xss=1</script>"
JINJA = "{{ 'SSTI' ~ 'HIT' }}{% if 1 %}"
HOSTILE = (XSS, SCRIPT_BREAK, JINJA)


def _events(
    types: tuple[str | None, ...] = ("Battles", "Riots", "Battles", None, "Riots"),
) -> pd.DataFrame:
    """Three events in Raqqa, two in Baghdad, one without a place."""
    return pd.DataFrame(
        {
            schema.EVENT_TYPE: [*types, "Battles"],
            schema.LATITUDE: [35.95, 35.951, 35.949, 33.31, 33.311, np.nan],
            schema.LONGITUDE: [39.01, 39.011, 39.009, 44.36, 44.361, 40.0],
            schema.FATALITIES: [3.0, np.nan, 4.0, 1.0, 0.0, 5.0],
            schema.EVENT_DATE: pd.to_datetime(
                ["2017-01-05", "2017-01-02", "2017-01-09", "2017-02-01", "2017-02-03", "2017-03-01"]
            ),
        }
    )


def _render(*elements: Any, center: tuple[float, float] = (35.0, 41.5), zoom: int = 6) -> str:
    fmap = build_map(center=center, zoom=zoom, basemap="none", layers=elements, layer_control=True)
    return fmap.get_root().render()


def _payload(text: str, factory: str) -> Any:
    match = re.search(r"L\.ConflictMap\." + factory + r"\(\s*(.*?)\s*\);\n", text, re.DOTALL)
    assert match, f"no L.ConflictMap.{factory} call in the page"
    return json.loads(match.group(1))


# --- the layer -----------------------------------------------------------------------------


def test_hexagon_layer_is_one_element_with_compact_arrays() -> None:
    layer = hexagon_layer(_events(), cell_size=10_000.0, event_types=["Riots"])
    html = _render(layer)
    assert html.count("L.ConflictMap.hexagons(") == 1
    data = _payload(html, "hexagons")
    assert (data["n"], data["events"], data["size"]) == (2, 5, 10_000.0)
    assert (layer.n_points, layer.n_cells, layer.skipped) == (5, 2, 1)
    by_count = sorted(range(2), key=lambda i: -data["count"][i])
    raqqa, baghdad = by_count  # Raqqa holds three events
    assert data["count"][raqqa] == 3 and data["count"][baghdad] == 2
    assert data["fat"][raqqa] == 7 and data["unk"][raqqa] == 1  # 3 + 4, one unknown
    assert data["fat"][baghdad] == 1 and data["unk"][baghdad] == 0
    assert data["types"] == ["Riots", "Battles", schema.UNKNOWN]
    assert [data["tc"][k][raqqa] for k in range(3)] == [1, 2, 0]
    assert data["colours"][1] == style.EVENT_TYPE_COLOURS["Battles"]
    day0 = dt.date(1970, 1, 1) + dt.timedelta(days=data["day0"])
    assert day0 == dt.date(2017, 1, 2)
    assert (data["first"][raqqa], data["last"][raqqa]) == (0, 7)  # 01-02 .. 01-09
    # The grid cells match the Python aggregation exactly (the browser computes centres).
    bins = layer.bins
    assert data["q"] == bins.cells[aggregate.Q].tolist()
    assert data["r"] == bins.cells[aggregate.R].tolist()
    assert data["classes"][0][:2] == [1, style.HEX_RAMP[0]]
    assert data["classes"][-1][1] == style.HEX_RAMP[-1]  # the largest count is darkest


def test_zoom_or_cell_size_and_the_cell_bound() -> None:
    by_zoom = hexagon_layer(_events(), zoom=9)
    assert by_zoom.bins.cell_size == pytest.approx(aggregate.cell_size_for_zoom(9))
    bounded = hexagon_layer(_events(), cell_size=100.0, max_cells=1)
    assert bounded.n_cells == 1 and bounded.bins.cell_size > 100.0
    made = aggregate.hexbin(_events(), cell_size=5_000.0)
    assert hexagon_layer(made).bins is made
    with pytest.raises(ValueError, match="exactly one"):
        hexagon_layer(_events())
    with pytest.raises(ValueError, match="exactly one"):
        hexagon_layer(_events(), zoom=5, cell_size=1000.0)
    with pytest.raises(ValueError, match="already made"):
        hexagon_layer(made, zoom=5)


def test_payload_is_escaped_and_no_data_reaches_an_html_sink() -> None:
    layer = hexagon_layer(_events(types=(*HOSTILE, None, "Battles")), cell_size=10_000.0, name=XSS)
    html = _render(layer)
    data = _payload(html, "hexagons")
    assert set(HOSTILE) <= set(data["types"])  # the browser gets the text back exactly...
    for text in (*HOSTILE, "<img", "</script><script>", "{{", "{%", "SSTIHIT"):
        assert text not in html  # ...but the page never holds it raw
    # The layer name goes to the layer control (innerHTML): HTML-escaped, then as JSON.
    assert layer.layer_name == "&lt;img src=x onerror=window.__xss=1&gt;"
    assert '"\\u0026lt;img src=x onerror=window.__xss=1\\u0026gt;"' in html


def test_same_inputs_same_html() -> None:
    assert _render(hexagon_layer(_events(), zoom=8)) == _render(hexagon_layer(_events(), zoom=8))
    assert (
        hexagon_layer(_events(), zoom=8).get_name() != hexagon_layer(_events(), zoom=9).get_name()
    )


def test_layer_works_inside_a_streamlit_folium_feature_group() -> None:
    from streamlit_folium import _get_feature_group_string

    fmap = build_map(center=(35.0, 41.5), zoom=6, basemap="none")
    group = folium.FeatureGroup(name="Events")
    hexagon_layer(_events(), zoom=6).add_to(group)
    fmap.get_root().render()
    script = _get_feature_group_string(group, fmap, idx=0)
    assert _payload(script, "hexagons")["events"] == 5
    assert ".addTo(feature_group_feature_group_0)" in script


def test_encode_hexagons_of_nothing() -> None:
    data = encode_hexagons(aggregate.hexbin(_events().iloc[:0], cell_size=1000.0))
    assert data["n"] == 0 and data["q"] == [] and data["tc"] == []


# --- colours and legend --------------------------------------------------------------------


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_ramp_labels_are_legible_and_classes_cover_every_count() -> None:
    assert len(style.HEX_RAMP) == len(style.HEX_RAMP_TEXT)
    lum = [_luminance(c) for c in style.HEX_RAMP]
    assert lum == sorted(lum, reverse=True)  # light = few, dark = many
    for fill, text in zip(style.HEX_RAMP, style.HEX_RAMP_TEXT, strict=True):
        a, b = sorted((_luminance(fill), _luminance(text)), reverse=True)
        assert (a + 0.05) / (b + 0.05) >= 4.5, (fill, text)
    for top in (1, 2, 7, 99, 100, 5_000, 20_000, 1_000_000, 10**9):
        classes = style.count_classes(top)
        assert 1 <= len(classes) <= len(style.HEX_RAMP)
        assert classes[0][0] == 1 and classes[-1][1] == top
        for (_, high, _, _), (low, _, _, _) in itertools.pairwise(classes):
            assert low == high + 1  # contiguous: every count has exactly one class
        if len(classes) > 1:
            assert classes[-1][2] == style.HEX_RAMP[-1]
    assert [(lo, hi) for lo, hi, _, _ in style.count_classes(99)] == [
        (1, 1),
        (2, 4),
        (5, 9),
        (10, 19),
        (20, 49),
        (50, 99),
    ]


def test_legend_shows_the_ramp_and_the_sentence() -> None:
    layer = hexagon_layer(_events(), cell_size=10_000.0)
    assert isinstance(layer.key, HexagonKey)
    # 10 km Mercator at the events' median latitude (35.95 N: cos = 0.81) is 8.1 km.
    assert layer.key.sentence == "5 events shown as 2 hexagons (each about 8.1 km across)"
    legend = legend_element(
        ["SDF"],
        [],
        as_of=dt.date(2017, 3, 1),
        window_days=90,
        counts={"control areas": 1},
        hexagons=layer.key,
    )
    spec = _payload(_render(legend), "legend")
    hexes = spec["hexagons"]
    assert hexes["sentence"] == layer.key.sentence
    assert hexes["classes"] == [["1", style.HEX_RAMP[0]], ["2\u20133", style.HEX_RAMP[-1]]]
    assert hexes["heading"] == "Events per hexagon"
    assert spec["counts"] == ["1 control areas"]
    # Without hexagons the legend is what it was.
    plain = _payload(_render(legend_element(["SDF"], [], as_of=None, window_days=None)), "legend")
    assert "hexagons" not in plain


def test_javascript_hexagon_module_never_writes_html() -> None:
    source = JS.read_text(encoding="utf-8")
    assert "CM.Hexagons = CM.DataCanvas.extend" in source
    assert "CM.hexagons = function" in source
    assert "innerHTML" not in source and "insertAdjacentHTML" not in source
    assert "el(" in source  # text goes in through core.js's el() (textContent)


# --- in a browser --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, dict[str, str]]]:
    root = tmp_path_factory.mktemp("hexsite")
    urls = assets.ensure_static_assets(root / "static", base_url="static/")
    with serve_static(root) as base:
        yield root, base, urls


@pytest.fixture()
def page(chromium_browser: Any) -> Iterator[Any]:
    """A page that may fetch from 127.0.0.1 only; what it tried elsewhere, and its errors."""
    pg = chromium_browser.new_page(viewport={"width": 1000, "height": 700})
    pg.cm_left, pg.cm_errors = [], []
    pg.on("pageerror", lambda exc: pg.cm_errors.append(str(exc)))

    def route(r: Any) -> None:
        if urlparse(r.request.url).hostname in ("127.0.0.1", "localhost"):
            r.continue_()
        else:
            pg.cm_left.append(r.request.url)
            r.abort()

    pg.route("**/*", route)
    yield pg
    pg.close()


def _open(pg: Any, site: Any, layer: Any, legend: Any, name: str, zoom: int = 9) -> folium.Map:
    root, base, urls = site
    fmap = build_map(
        center=(35.95, 39.01),
        zoom=zoom,
        basemap="none",
        assets=urls,
        layers=[layer],
        legend=legend,
    )
    (root / f"{name}.html").write_text(fmap.get_root().render(), encoding="utf-8")
    pg.goto(f"{base}/{name}.html")
    pg.wait_for_function(
        "window.L && L.ConflictMap.hexagonLayers && L.ConflictMap.hexagonLayers.length === 1"
        " && L.ConflictMap.hexagonLayers[0].stats.draws > 0"
    )
    return fmap


def _screen(pg: Any, fmap: folium.Map, index: int) -> tuple[float, float]:
    return pg.evaluate(
        f"""() => {{
            const l = L.ConflictMap.hexagonLayers[0], m = {fmap.get_name()};
            const p = m.latLngToContainerPoint(l.centreLatLng({index}));
            const r = m.getContainer().getBoundingClientRect();
            return [p.x + r.left, p.y + r.top];
        }}"""
    )


@pytest.mark.browser
def test_hexagons_paint_with_labels_and_the_legend_says_what_they_are(page: Any, site: Any) -> None:
    layer = hexagon_layer(_events(), zoom=9)
    legend = legend_element([], [], as_of=None, window_days=None, hexagons=layer.key)
    _open(page, site, layer, legend, "paint")
    stats = page.evaluate("L.ConflictMap.hexagonLayers[0].stats")
    assert stats["n"] == 2 and stats["drawn"] == 1  # Baghdad is off screen at zoom 9
    assert stats["labels"] == 1
    # Regular hexagons sized by the zoom: radius_px = radius_m * 2^zoom / 156543.034.
    radius_m = layer.bins.cell_size / math.sqrt(3)
    assert stats["radiusPx"] == pytest.approx(radius_m * 2**9 / 156543.034, rel=1e-6)
    painted = page.evaluate(
        """() => { const c = document.querySelector('canvas.cm-hexagons-canvas');
        const d = c.getContext('2d', {willReadFrequently: true}).getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) { n++; } } return n; }"""
    )
    assert painted > 500
    legend_text = page.inner_text(".cm-legend")
    assert layer.key.sentence in legend_text and "Events per hexagon" in legend_text
    assert page.cm_left == [] and page.cm_errors == []


@pytest.mark.browser
def test_click_opens_a_text_popup_and_hostile_types_show_literally(page: Any, site: Any) -> None:
    layer = hexagon_layer(_events(types=(XSS, SCRIPT_BREAK, XSS, None, "Riots")), zoom=9)
    assert layer.n_cells == 2  # at zoom 9 the Raqqa events share one hexagon
    fmap = _open(page, site, layer, None, "popup")
    raqqa = int(np.argmax(layer.bins.cells[aggregate.COUNT]))
    x, y = _screen(page, fmap, raqqa)
    page.mouse.click(x + 3, y + 2)  # anywhere inside the hexagon
    page.wait_for_selector(".cm-hex-popup")
    text = page.inner_text(".cm-hex-popup")
    assert "3 events in this hexagon" in text
    assert "7 known; unknown for 1 event" in text
    assert "2017-01-02 to 2017-01-09" in text
    assert XSS in text and SCRIPT_BREAK in text and "2 (67 %)" in text
    assert page.locator(".cm-hex-popup img").count() == 0
    assert page.evaluate("window.__xss") is None
    assert page.cm_errors == []


@pytest.mark.browser
def test_javascript_grid_matches_python(page: Any, site: Any) -> None:
    layer = hexagon_layer(_events(), zoom=9)
    _open(page, site, layer, None, "grid")
    rng = np.random.default_rng(5)
    x = rng.uniform(-2e7, 2e7, 300)
    y = rng.uniform(-2e7, 2e7, 300)
    for size, orientation in ((1234.5, "pointy"), (50_000.0, "flat")):
        q, r = aggregate.hex_axial(x, y, size, orientation=orientation)
        js = page.evaluate(
            "([xs, ys, size, flat]) => xs.map((x, i) => L.ConflictMap.hexAxial(x, ys[i], size, flat))",
            [x.tolist(), y.tolist(), size, orientation == "flat"],
        )
        assert js == [[a, b] for a, b in zip(q.tolist(), r.tolist(), strict=True)]
    assert page.evaluate("[1234, 849.6, 999, 2449, 12345].map(L.ConflictMap.formatDistance)") == [
        aggregate.format_distance(m) for m in (1234, 849.6, 999, 2449, 12345)
    ]


# --- in the app ----------------------------------------------------------------------------


def test_points_hexagons_round_trips_through_the_url_and_old_links_still_work() -> None:
    options = S.Options(first=dt.date(2014, 1, 1), last=dt.date(2019, 12, 31))
    view, notices = S.parse_query({"points": ["hexagons"]}, options)
    assert notices == [] and view.points == "hexagons"
    assert S.to_query(view)["points"] == ["hexagons"]
    assert S.parse_query(S.to_query(view), options)[0] == view
    for old in ("auto", "points", "clusters"):
        assert S.parse_query({"points": [old]}, options) == (
            S.ViewState(as_of=options.default_date, points=old),
            [],
        )
    assert S.POINT_MODE_LABELS["hexagons"] == "Hexagons (aggregated on the server)"


def _many_rows(n: int) -> list[str]:
    """``n`` events on 2017-11-15 spread over the Mosul square of ``app_fixtures``."""
    rng = np.random.default_rng(6)
    lat = rng.uniform(36.21, 36.49, n)
    lon = rng.uniform(42.91, 43.29, n)
    return [
        f"BIG{i},2017-11-15,Battles,Armed clash,A,B,Iraq,Ninewa,Mosul,Mosul,"
        f"{lat[i]:.4f},{lon[i]:.4f},1,1,{i % 3},X,n"
        for i in range(n)
    ]


def _component_script(at: Any) -> str:
    comps = at.get("component_instance")
    assert len(comps) == 1, "the map component is missing"
    return json.loads(comps[0].proto.json_args)["feature_group"]


def test_app_auto_mode_aggregates_a_window_over_points_max_into_hexagons(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    from dashboard import paths
    from dashboard.app import mapview
    from dashboard.app import session as K
    from dashboard.app.loaders import AREAS_ENV, EVENTS_ENV

    n = POINTS_MAX + 50
    events, areas = write_inputs(tmp_path / "data", rows=EVENT_ROWS + _many_rows(n))
    monkeypatch.setenv(EVENTS_ENV, str(events))
    monkeypatch.setenv(AREAS_ENV, str(areas))
    at = AppTest.from_file(str(Path(paths.PACKAGE_DIR) / "app" / "main.py"), default_timeout=180)
    at.query_params["zoom"] = "9"
    at.query_params["window"] = "7"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state[K.K_POINTS] == "auto"
    script = _component_script(at)
    assert "L.ConflictMap.points(" not in script  # not 20,000 circles
    data = _payload(script, "hexagons")
    # Window 2017-11-09..15: the n new events, IRQ4 (11-10), IRQ5 (11-14), SYR2 (11-12), IRQ6.
    assert data["events"] == n + 4 and sum(data["count"]) == n + 4
    assert data["size"] == pytest.approx(aggregate.cell_size_for_zoom(9))
    assert len(script) < 200_000  # hexagons, not one record per event
    legend = _payload(script, "legend")
    assert legend["hexagons"]["sentence"].startswith(
        f"{n + 4:,} events shown as {data['n']:,} hexagons"
    )
    assert legend["types"] == []  # no point symbols to explain
    # The map reports a closer zoom: the hexagons are rebuilt finer.
    at.session_state[mapview.MAP_KEY] = {"zoom": 11, "center": {"lat": 36.35, "lng": 43.1}}
    at.run()
    finer = _payload(_component_script(at), "hexagons")
    assert finer["size"] == pytest.approx(aggregate.cell_size_for_zoom(11))
    assert finer["n"] > data["n"] and sum(finer["count"]) == n + 4
    # Points stay an explicit choice, whatever the count.
    at.sidebar.radio(key=K.K_POINTS).set_value("points").run()
    assert "L.ConflictMap.points(" in _component_script(at)
    assert at.query_params["points"] == "points"
