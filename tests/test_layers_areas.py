"""Control areas drawn at the map's zoom: simplified to what a pixel can show."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from dashboard import layers, schema
from dashboard.layers.areas import display_tolerance


def _wiggly_area() -> gpd.GeoDataFrame:
    angles = np.linspace(0, 2 * np.pi, 2000, endpoint=False)
    radius = 1.0 + 0.002 * np.sin(angles * 400)  # wiggles of about 200 m
    ring = np.c_[40 + radius * np.cos(angles), 35 + radius * np.sin(angles)]
    return gpd.GeoDataFrame(
        {schema.CONTROLLER: ["Islamic State"], schema.VALID_FROM: ["2017-01-01"]},
        geometry=[shapely.Polygon(ring)],
        crs=4326,
    )


def test_the_tolerance_is_half_a_pixel_and_halves_with_each_zoom_level():
    assert display_tolerance(6) == 2 * display_tolerance(7)
    assert display_tolerance(0) == 0.5 * 360 / 256
    assert display_tolerance(30) == 0.0001  # floor: never finer than about 10 m


def test_zoomed_out_outlines_are_lighter_but_keep_their_shape():
    area = _wiggly_area()
    exact = layers.control_areas_layer(area, simplify=0)
    coarse = layers.control_areas_layer(area, simplify=display_tolerance(6))

    def coords(group) -> np.ndarray:
        geojson = next(iter(group._children.values())).data
        return np.asarray(geojson["features"][0]["geometry"]["coordinates"][0])

    fine, light = coords(exact), coords(coarse)
    assert len(light) < len(fine) / 10
    # The simplified outline stays within the tolerance of the original one.
    original = area.geometry.iloc[0]
    assert shapely.Polygon(light).hausdorff_distance(original) <= display_tolerance(6) + 1e-3


def test_the_tooltip_shows_each_versions_source_line_and_wraps() -> None:
    import folium
    import pandas as pd

    areas = gpd.GeoDataFrame(
        {
            schema.AREA_ID: ["SY090200@2014-07-03", "f-1"],
            schema.CONTROLLER: [schema.ISLAMIC_STATE, schema.SDF],
            schema.VALID_FROM: pd.to_datetime(["2014-07-03", "2014-07-03"]),
            schema.VALID_TO: pd.to_datetime([None, None]),
            schema.AREA_SOURCE: ["control.csv", "front.geojson"],
            schema.AREA_PROVENANCE: [
                "control.csv row 129: Abu Kamal 'ISIS' as of 2014-07-03",
                None,
            ],
        },
        geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)],
        crs="EPSG:4326",
    )
    fmap = folium.Map()
    layers.control_areas_layer(areas).add_to(fmap)
    html = fmap.get_root().render()
    assert "control.csv row 129: Abu Kamal" in html
    assert '"source": "front.geojson"' in html  # no line: the file
    assert '"className": "cm-area-tooltip"' in html
