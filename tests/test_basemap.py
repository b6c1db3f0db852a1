"""The map without tiles (geodata/basemap.geojson, dashboard/basemap.py): whole countries,
real coasts, the rivers and lakes of the story, the same on the page and in the pictures.

Points are well-known places (lon, lat, rounded); distances are geodesic.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys
from unittest import mock

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from matplotlib import colors as mcolors

from dashboard import basemap as bm
from dashboard import paths, style
from dashboard.export import load_export_data, render_html, resolve_frame
from dashboard.export.figure import MapFigure
from dashboard.export.render import ExportSettings
from dashboard.export.view import to_mercator, view_extent
from dashboard.layers import context_layer
from dashboard.viewstate import ViewState

GEOD = pyproj.Geod(ellps="WGS84")
NOV_9 = ViewState(as_of=dt.date(2017, 11, 9), window=30)
WHEN = dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.UTC)

#: Inland places of the countries the old outlines cut with straight lines, and east of Iran.
INLAND = {
    "Ankara": (32.86, 39.93),
    "Izmir": (27.14, 38.42),
    "Trabzon": (39.72, 40.98),
    "Tehran": (51.39, 35.69),
    "Mashhad": (59.6, 36.3),
    "Zahedan": (60.86, 29.5),
    "Bandar Abbas": (56.27, 27.2),
    "Riyadh": (46.72, 24.69),
    "Jeddah": (39.22, 21.54),
    "Abha": (42.5, 18.22),
    "Herat": (62.2, 34.35),
    "Kandahar": (65.7, 31.6),
    "Kabul": (69.18, 34.53),
    "Quetta": (67.0, 30.18),
}
SEA = {
    "Persian Gulf": (51.5, 27.0),
    "Persian Gulf, north": (50.0, 28.8),
    "Eastern Mediterranean": (33.0, 34.0),
    "Mediterranean south of Crete": (25.0, 33.5),
    "Red Sea": (38.5, 20.0),
    "Gulf of Oman": (58.5, 24.5),
    "Caspian Sea": (51.0, 41.0),
    "Black Sea": (35.0, 43.0),
    "Arabian Sea": (62.0, 20.0),
}
RIVER_TOWNS = {  # the Euphrates, then the Tigris
    "Raqqa": (39.01, 35.95),
    "Deir ez-Zor": (40.14, 35.336),
    "Abu Kamal": (40.92, 34.45),
    "Mosul": (43.13, 36.34),
    "Baghdad": (44.36, 33.31),
}
LAKES = {"Lake Assad": (38.3, 35.95), "Lake Tharthar": (43.3, 34.0)}


@pytest.fixture(scope="module")
def parts() -> bm.Basemap:
    return bm.split_basemap(bm.read_basemap())


def _km(geom: shapely.Geometry, lon: float, lat: float) -> float:
    nearest = shapely.ops.nearest_points(geom, shapely.Point(lon, lat))[0]
    return GEOD.inv(lon, lat, nearest.x, nearest.y)[2] / 1000


# --- the file -------------------------------------------------------------------------------


def test_basemap_file_is_small_valid_lon_lat():
    assert 50_000 < paths.BUNDLED_BASEMAP.stat().st_size < 300_000
    frame = gpd.read_file(paths.BUNDLED_BASEMAP)
    assert frame.crs is not None and frame.crs.to_epsg() == 4326
    assert set(frame["kind"]) == set(bm.KINDS)
    assert frame.geometry.is_valid.all()


def test_land_is_whole_countries_and_the_sea_is_sea(parts):
    inland = [name for name, xy in INLAND.items() if not parts.land.contains(shapely.Point(xy))]
    wet = [name for name, xy in SEA.items() if parts.land.contains(shapely.Point(xy))]
    assert inland == [] and wet == []


def test_the_euphrates_and_the_tigris_pass_by_their_towns(parts):
    # Natural Earth's 1:50m rivers: within a few km (Raqqa's point is on the north bank,
    # 1.5 km from the water; the line is ~5 km off there).
    far = {name: round(_km(parts.rivers, *xy), 1) for name, xy in RIVER_TOWNS.items()}
    assert max(far.values()) < 8, far


def test_the_khabur_runs_through_hasakah_and_shaddadi_to_busayrah(parts):
    # Authored through the towns on its banks (geodata/derive_basemap.py); the towns'
    # label positions (geodata/towns.csv) lie on it.
    far = {
        name: round(_km(parts.rivers, *xy), 1)
        for name, xy in {"Hasakah": (40.75, 36.50), "Shaddadi": (40.73, 36.06)}.items()
    }
    assert max(far.values()) < 2, far
    # ... and ends where it joins the Euphrates, at Busayrah (GeoNames 173927)
    assert _km(parts.rivers, 40.427, 35.156) < 2


def test_lake_assad_and_lake_tharthar_are_water(parts):
    assert all(parts.lakes.contains(shapely.Point(xy)) for xy in LAKES.values())


def test_borders_run_between_the_story_countries(parts):
    # Border towns: Abu Kamal (Syria - Iraq), Tall Abyad (Syria - Turkey), Khanaqin and
    # Haji Omaran (Iraq - Iran), each a few km from its border.
    towns = {
        "Abu Kamal": (40.92, 34.45),
        "Tall Abyad": (38.95, 36.70),
        "Khanaqin": (45.38, 34.35),
        "Haji Omaran": (44.97, 36.65),
    }
    far = {name: round(_km(parts.borders, *xy), 1) for name, xy in towns.items()}
    assert max(far.values()) < 10, far
    names = {label.name for label in parts.labels}
    assert {"Syria", "Iraq", "Turkey", "Iran", "Saudi Arabia", "Afghanistan"} <= names


def test_read_basemap_reads_once_and_hands_out_copies():
    first = bm.read_basemap()
    with mock.patch.object(gpd, "read_file", side_effect=AssertionError("read again")):
        second = bm.read_basemap()
    assert second is not first and second.equals(first)
    second.loc[:, "kind"] = "changed"
    assert "changed" not in set(bm.read_basemap()["kind"])


def test_bare_country_polygons_are_land_with_outlines():
    frame = gpd.GeoDataFrame(
        {"name": ["A", "B"]}, geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], crs=4326
    )
    parts = bm.split_basemap(frame)
    assert not parts.layered and parts.rivers is None
    assert parts.land.area == pytest.approx(2.0)
    assert parts.borders.length == pytest.approx(7.0)  # the shared side drawn once
    assert [label.name for label in parts.labels] == ["A", "B"]


# --- the page's "no tiles" map ----------------------------------------------------------------


def test_context_layer_draws_land_water_and_borders():
    layer = context_layer(bm.read_basemap(), None)
    html = _render(layer)
    for cls in ("cm-land cm-notiles-only", "cm-lake cm-notiles-only", "cm-river", "cm-border"):
        assert f'"className": "{cls}' in html, cls
    assert layer.n_countries >= 40
    # The same content gives the same element ids (a rerun does not redraw the map).
    assert context_layer(bm.read_basemap(), None).get_name() == layer.get_name()


def test_land_water_only_without_tiles_in_the_stylesheet():
    css = (paths.PACKAGE_DIR / "app" / "static" / "js" / "conflictmap.css").read_text()
    assert ".cm-notiles-only { display: none; }" in css
    assert ".cm-notiles .cm-notiles-only { display: inline; }" in css


def _render(layer) -> str:
    import folium

    fmap = folium.Map(tiles=None)
    layer.add_to(fmap)
    return fmap.get_root().render()


# --- the pictures ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bundled():
    return load_export_data()


def test_png_without_tiles_shows_land_east_of_iran_and_sea_in_the_gulf(bundled):
    (minx, maxx), (miny, maxy) = to_mercator(np.array([30.0, 70.0]), np.array([24.0, 44.0]))
    extent = (float(minx), float(miny), float(maxx), float(maxy))
    figure = MapFigure(
        bundled, width_in=10, height_in=6.25, dpi=100, extent=extent, view=NOV_9, exported_at=WHEN
    )
    figure.draw(resolve_frame(bundled, NOV_9))
    figure.canvas.draw()
    image = np.asarray(figure.canvas.buffer_rgba())[..., :3].astype(int)
    height = image.shape[0]

    def colour_at(lon: float, lat: float) -> np.ndarray:
        x, y = to_mercator(np.array([lon]), np.array([lat]))
        px, py = figure.ax.transData.transform((float(x[0]), float(y[0])))
        return image[height - 1 - round(py), round(px)]

    land = np.array(mcolors.to_rgb(style.LAND_FILL)) * 255
    water = np.array(mcolors.to_rgb(bm.WATER)) * 255
    for name in ("Herat", "Kandahar", "Mashhad", "Riyadh", "Ankara"):
        assert np.abs(colour_at(*INLAND[name]) - land).max() <= 3, name
    for name in ("Persian Gulf", "Caspian Sea", "Eastern Mediterranean"):
        assert np.abs(colour_at(*SEA[name]) - water).max() <= 3, name


def test_html_export_carries_the_same_basemap(bundled):
    html = render_html(bundled, NOV_9, ExportSettings(exported_at=WHEN))
    assert '"className": "cm-land cm-notiles-only"' in html
    assert '"className": "cm-border"' in html


def test_footer_credits_natural_earth(bundled):
    from dashboard.export.footer import attribution_lines

    assert any("Natural Earth (public domain)" in line for line in attribution_lines(bundled))


# --- the derivation -------------------------------------------------------------------------


def _derive_module():
    script = paths.GEODATA_DIR / "derive_basemap.py"
    spec = importlib.util.spec_from_file_location("derive_basemap", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(spec.name, None)
    return module


def test_derivation_draws_shared_arcs_as_borders_and_the_rest_as_coast():
    """Two unit squares side by side (lon 30-32, lat 30-31) sharing the arc x = 31: that arc
    is the one border; land is both squares; a river and a lake pass through."""
    derive = _derive_module()
    topo = {
        "transform": {"scale": [1, 1], "translate": [30, 30]},
        "arcs": [
            [[1, 0], [0, 1]],
            [[1, 1], [-1, 0], [0, -1], [1, 0]],
            [[1, 0], [1, 0], [0, 1], [-1, 0]],
        ],
        "objects": {
            "countries": {
                "type": "GeometryCollection",
                "geometries": [
                    {"type": "Polygon", "arcs": [[0, 1]], "properties": {"name": "West"}},
                    {"type": "Polygon", "arcs": [[2, -1]], "properties": {"name": "East"}},
                ],
            }
        },
    }
    world = {
        "transform": {"scale": [1, 1], "translate": [0, 0]},
        "arcs": [],
        "objects": {"land": {"type": "GeometryCollection", "geometries": []}},
    }
    rivers = {
        "transform": {"scale": [0.5, 0.5], "translate": [30, 30]},
        "arcs": [[[0, 1], [4, 0]]],
        "objects": {
            "rivers": {
                "type": "GeometryCollection",
                "geometries": [{"type": "LineString", "arcs": [0]}],
            }
        },
    }
    lake = shapely.box(30.2, 30.2, 30.4, 30.4)
    features = derive.build(topo, world, rivers, [lake], [])
    by_kind = {
        f["properties"]["kind"]: shapely.geometry.shape(f["geometry"])
        for f in features
        if f["properties"]["kind"] != "label"
    }
    assert by_kind["land"].area == pytest.approx(2.0)
    assert by_kind["border"].equals(shapely.LineString([(31, 30), (31, 31)]))
    assert by_kind["river"].length == pytest.approx(2.0)
    assert by_kind["lake"].area == pytest.approx(0.04)
    assert sorted(
        f["properties"]["name"] for f in features if f["properties"]["kind"] == "label"
    ) == ["East", "West"]


def test_png_names_neighbours_the_frame_cuts_inside_the_part_shown(bundled):
    """The default frame of 9 November 2017 shows a strip of Iran and of Saudi Arabia, whose
    centres lie far outside it: their names are written on the parts shown."""
    figure = MapFigure(
        bundled,
        width_in=10,
        height_in=6.25,
        dpi=100,
        extent=view_extent(bundled, NOV_9),
        view=NOV_9,
        exported_at=WHEN,
    )
    figure.draw(resolve_frame(bundled, NOV_9))
    figure.canvas.draw()
    names = {"".join(t.get_text().split()) for t in figure.ax.texts}
    assert {"IRAN", "SAUDIARABIA", "SYRIA", "IRAQ"} <= names  # letters spaced by thin spaces


def test_the_page_fetches_the_basemap_instead_of_carrying_it_in_every_run():
    """The app's map script is sent again on every step of the slider: with the basemap's
    shapes written in, a step sent 328 kB instead of 62 kB. Given a URL, the layer holds
    only where to fetch them (and the country names)."""
    import folium

    from dashboard import layers, paths
    from dashboard.basemap import read_basemap

    frame = read_basemap(paths.BUNDLED_BASEMAP)
    inline, fetched = folium.Map(), folium.Map()
    layers.context_layer(frame, None).add_to(inline)
    layers.context_layer(frame, None, basemap_url="../../app/static/vendor/basemap/b.json").add_to(
        fetched
    )
    inline_html = inline.get_root().render()
    fetched_html = fetched.get_root().render()
    assert "L.ConflictMap.remoteBasemap" in fetched_html
    assert "../../app/static/vendor/basemap/b.json" in fetched_html
    assert len(fetched_html) < len(inline_html) - 200_000
    for kind in ('"land"', '"lake"', '"river"', '"border"'):
        assert kind in fetched_html


def test_the_app_serves_the_basemap_it_asks_the_browser_to_fetch(tmp_path):
    from dashboard import assets, paths

    assets.ensure_static_assets(tmp_path)
    served = tmp_path / assets.BASEMAP_TARGET
    assert served.read_bytes() == paths.BUNDLED_BASEMAP.read_bytes()
    assert assets.basemap_url().endswith(assets.BASEMAP_TARGET)
