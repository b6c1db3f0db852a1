"""Leaflet and the plugins come from installed packages and are served by the app itself."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from procs import free_port, stop, wait_healthy

from dashboard import assets
from dashboard.errors import InputFileError


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_ensure_static_assets_copies_every_file_from_its_package(tmp_path: Path) -> None:
    urls = assets.ensure_static_assets(tmp_path, base_url="static")
    assert list(urls) == [a.name for a in assets.ASSETS]
    for asset in assets.ASSETS:
        assert urls[asset.name] == f"static/{asset.target}"
        assert (tmp_path / asset.target).read_bytes() == assets.asset_bytes(asset)
    for image in ("layers.png", "layers-2x.png", "marker-icon.png"):  # leaflet.css uses them
        assert (tmp_path / "vendor" / "leaflet" / "images" / image).is_file()


def test_ensure_static_assets_is_idempotent_and_repairs(tmp_path: Path) -> None:
    assets.ensure_static_assets(tmp_path)
    leaflet = tmp_path / "vendor" / "leaflet" / "leaflet.js"
    before = leaflet.stat().st_mtime_ns
    assets.ensure_static_assets(tmp_path)
    assert leaflet.stat().st_mtime_ns == before  # unchanged files are not rewritten
    leaflet.write_text("truncated")
    assets.ensure_static_assets(tmp_path)
    assert _sha(leaflet) == _sha(assets.source_path(assets.ASSETS[0]))
    assert not [p for p in leaflet.parent.iterdir() if p.name.startswith(".")]  # no temp files


def test_default_urls_reach_the_app_static_folder_from_the_component_iframe() -> None:
    urls = assets.asset_urls()
    assert urls["leaflet"] == "../../app/static/vendor/leaflet/leaflet.js"
    # <base>/component/streamlit_folium.st_folium/index.html + ../../ = <base>/
    iframe = "http://host/base/component/streamlit_folium.st_folium/index.html"
    from urllib.parse import urljoin

    assert (
        urljoin(iframe, urls["leaflet"]) == "http://host/base/app/static/vendor/leaflet/leaflet.js"
    )
    assert urls["conflictmap_css"] == "../../app/static/js/conflictmap.css"
    assert urls[assets.MAP_SCRIPT] == "../../app/static/vendor/conflictmap/conflictmap.js"


def test_the_map_modules_load_after_the_modules_they_need() -> None:
    order = list(assets.MAP_MODULES)
    assert order[0] == "core"  # defines L.ConflictMap and the helpers the others take
    for module, needs in assets.MAP_MODULES.items():
        for need in needs:
            assert order.index(need) < order.index(module), (module, need)
            # Listed whole: what a needed module needs is named too.
            assert set(assets.MAP_MODULES[need]) <= set(needs), (module, need)
    # Served in that order in one script, after Leaflet and its plugins (which clusters.js
    # and heat.js use): one request, not one per module.
    js = [a.name for a in assets.ASSETS if a.kind == "js"]
    assert js[0] == "leaflet" and js[-1] == assets.MAP_SCRIPT
    script = assets.map_script_bytes().decode("utf-8")
    starts = [script.index(f"/* {m}.js */\n") for m in order]
    assert starts == sorted(starts)
    for module in order:
        source = (assets.APP_STATIC_DIR / "js" / f"{module}.js").read_text(encoding="utf-8")
        assert script.count(source.rstrip("\n")) == 1, module


def test_map_scripts_names_the_one_script_and_refuses_unknown_modules() -> None:
    assert assets.map_scripts("core") == (assets.MAP_SCRIPT,)
    assert assets.map_scripts("clusters", "hexagons") == (assets.MAP_SCRIPT,)
    with pytest.raises(ValueError, match="no module 'conflictmap'"):
        assets.map_scripts("conflictmap")


def test_leaflet_is_the_version_folium_writes_its_code_for() -> None:
    import folium.folium
    from xstatic.pkg import leaflet

    folium_leaflet = dict(folium.folium._default_js)["leaflet"]
    assert f"leaflet@{leaflet.VERSION}/" in folium_leaflet


def test_inline_asset_urls_are_the_files(tmp_path: Path) -> None:
    inline = assets.inline_asset_urls()
    for asset in assets.ASSETS:
        head, data = inline[asset.name].split(",", 1)
        assert head == f"data:{'text/javascript' if asset.kind == 'js' else 'text/css'};base64"
        if asset.name != "leaflet_css":
            assert base64.b64decode(data) == assets.asset_bytes(asset)
    css = base64.b64decode(inline["leaflet_css"].split(",", 1)[1]).decode()
    assert "url(images/" not in css and "url(data:image/png;base64," in css
    total = sum(len(u) for u in inline.values())
    print(f"\ninlined assets: {total / 1024:.0f} KiB per page")


def test_missing_package_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = assets.importlib.util.find_spec

    def find_spec(name: str, *args: Any) -> Any:
        return None if name == "xstatic.pkg.leaflet_markercluster" else real(name, *args)

    monkeypatch.setattr(assets.importlib.util, "find_spec", find_spec)
    with pytest.raises(
        InputFileError, match="'xstatic.pkg.leaflet_markercluster' is not installed"
    ):
        assets.ensure_static_assets(tmp_path)


# --- the real thing: Streamlit serving the assets to streamlit-folium ----------------------

APP = """
import folium
import geopandas as gpd
import pandas as pd
import shapely
import streamlit as st
from pathlib import Path
from streamlit_folium import st_folium

from dashboard import layers
from dashboard.assets import ensure_static_assets

ensure_static_assets(Path(__file__).parent / "static")
PAYLOAD = "<img src=x onerror=window.__xss=1>"
events = pd.DataFrame({
    "event_id": ["E1", "E2", "E3"],
    "latitude": [35.95, 35.84, 36.38], "longitude": [39.01, 38.55, 38.86],
    "event_type": ["Battles", "Protests", "Battles"], "fatalities": [3, None, 100],
    "geo_precision": [1, 2, 1], "notes": ["Clashes near the dam.", PAYLOAD, "x"],
})
areas = gpd.GeoDataFrame(
    {"controller": ["SDF", PAYLOAD], "valid_from": pd.to_datetime(["2017-01-01"] * 2),
     "valid_to": pd.to_datetime([None, None])},
    geometry=[shapely.box(38.4, 35.6, 39.0, 36.2), shapely.box(39.0, 35.6, 39.6, 36.2)], crs=4326)
mode = st.radio("mode", ["points", "clusters", "heatmap"], horizontal=True)
fmap = layers.build_map(center=(35.9, 39.0), zoom=8, basemap="none")
countries = gpd.GeoDataFrame({"name": ["Syria"]}, geometry=[shapely.box(36, 33, 42, 37.2)], crs=4326)
layers.context_layer(countries, None).add_to(fmap)


def group(element, name):
    if isinstance(element, folium.FeatureGroup):
        return element
    g = folium.FeatureGroup(name=name)
    element.add_to(g)
    return g


builder = {"points": layers.events_layer, "clusters": layers.cluster_layer,
           "heatmap": layers.heatmap_layer}[mode]
groups = [group(layers.control_areas_layer(areas), "Control areas"),
          group(builder(events), "Events"),
          group(layers.legend_element(["SDF", PAYLOAD], ["Battles"], as_of="2017-01-31",
                                      window_days=30, counts={"events": 3}), "Legend")]
out = st_folium(fmap, key="map", height=500, use_container_width=True,
                feature_group_to_add=groups, layer_control=folium.LayerControl(),
                returned_objects=["last_object_clicked_popup"])
st.text("clicked: " + repr((out or {}).get("last_object_clicked_popup")))
"""


@pytest.fixture(scope="module")
def streamlit_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("app")
    (folder / "app.py").write_text(textwrap.dedent(APP), encoding="utf-8")
    port = free_port()
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(folder / "app.py"),
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--server.enableStaticServing",
            "true",
            "--server.fileWatcherType",
            "none",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}/_stcore/health", proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


@pytest.mark.browser
def test_streamlit_serves_the_map_assets_and_layers_swap_in(
    streamlit_app: str, chromium_browser: Any
) -> None:
    left: list[str] = []
    page = chromium_browser.new_page(viewport={"width": 1100, "height": 900})

    def route(r: Any) -> None:
        if urlparse(r.request.url).hostname in ("127.0.0.1", "localhost"):
            r.continue_()
        else:
            left.append(r.request.url)
            r.abort()

    page.context.route("**/*", route)
    try:
        page.goto(streamlit_app)
        iframe = page.locator('iframe[title*="st_folium"]')
        iframe.wait_for(timeout=90_000)
        frame = next(f for f in page.frames if "streamlit_folium.st_folium" in f.url)
        frame.wait_for_function(
            "window.L && L.ConflictMap && L.ConflictMap.layers.length > 0"
            " && L.ConflictMap.layers[0].stats.draws > 0",
            timeout=60_000,
        )
        assert frame.evaluate("L.ConflictMap.layers[0].stats.drawn") == 3
        assert frame.locator("path.cm-contested").count() == 0
        assert "<img src=x" in frame.locator(".cm-legend").text_content()

        # Click an event: its popup text travels back to Python.
        x, y = frame.evaluate(
            "(() => { const p = window.map.latLngToContainerPoint([35.95, 39.01]);"
            " return [p.x, p.y]; })()"
        )
        box = iframe.bounding_box()
        page.mouse.click(box["x"] + x, box["y"] + y)
        frame.wait_for_selector(".cm-popup")
        page.get_by_text("Clashes near the dam.", exact=False).last.wait_for(timeout=30_000)

        # Swapping layers does not remount the map, so plugins must already be loaded.
        page.get_by_text("clusters", exact=True).click()
        # The plugin's group holds the three events (far apart at this zoom: three markers,
        # no cluster icon; the town labels are markers too, so count the group's own).
        frame.wait_for_function(
            "(() => { let n = -1; window.map.eachLayer(l => {"
            " if (L.MarkerClusterGroup && l instanceof L.MarkerClusterGroup)"
            " { n = l.getLayers().length; } }); return n === 3; })()",
            timeout=30_000,
        )
        page.get_by_text("heatmap", exact=True).click()
        frame.wait_for_function(
            "(() => { const c = document.querySelector('canvas.leaflet-heatmap-layer');"
            " if (!c) return false; const d = c.getContext('2d').getImageData("
            "0, 0, c.width, c.height).data; for (let i = 3; i < d.length; i += 4)"
            " { if (d[i] > 0) return true; } return false; })()",
            timeout=30_000,
        )
        assert frame.evaluate("window.__xss") is None
        assert page.evaluate("window.__xss") is None
    finally:
        page.close()
    assert left == []
