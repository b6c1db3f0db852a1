"""Reading and validating time-varying control areas."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from dashboard.areas import OCHA_AOI_2015_NAMES, areas_at, read_control_areas
from dashboard.errors import CRSError, GeometryError, InputFileError, SchemaError
from dashboard.schema import (
    AREA_FEATURE,
    AREA_ID,
    AREA_SOURCE,
    CONTESTED,
    CONTROLLER,
    EVENT_DATE,
    ISLAMIC_STATE,
    LATITUDE,
    LONGITUDE,
    REJECT_REASON,
    SYRIAN_GOVERNMENT,
    VALID_FROM,
    VALID_TO,
)
from dashboard.spatial import join_events_to_areas

SQUARE = [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]
BOWTIE = [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]


def feature(
    props: dict[str, Any], geometry: dict[str, Any] | None | str = "square"
) -> dict[str, Any]:
    if geometry == "square":
        geometry = {"type": "Polygon", "coordinates": SQUARE}
    return {"type": "Feature", "properties": props, "geometry": geometry}


def polygon(coords: list) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": coords}


def box(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    return polygon([[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]])


def write_geojson(path: Path, features: list[dict[str, Any]], crs: str | None = None) -> Path:
    doc: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def iv(
    controller: str | None, start: str | None, end: str | None = None, **extra: Any
) -> dict[str, Any]:
    return {"controller": controller, "valid_from": start, "valid_to": end, **extra}


def messages(result) -> list[str]:
    return [p.message for p in result.report.problems]


def assert_balanced(result) -> None:
    r = result.report
    assert r.balanced, r.to_text()
    assert r.rows_loaded == len(result.areas)
    assert r.rows_rejected == len(result.rejected)


# --------------------------------------------------------------------------------------------
# interval files


def test_interval_file_loads_with_open_ended_valid_to(tmp_path):
    path = write_geojson(
        tmp_path / "zones.geojson",
        [
            feature(iv("A", "2015-01-01", "2015-06-01"), box(0, 0, 1, 1)),
            feature(iv("B", "2015-06-01", ""), box(1, 0, 2, 1)),
            feature(iv("C", "2015-06-01", None), box(2, 0, 3, 1)),
        ],
    )
    result = read_control_areas(path)
    areas = result.areas
    assert areas[AREA_ID].tolist() == ["zones-1", "zones-2", "zones-3"]
    assert areas[CONTROLLER].tolist() == ["A", "B", "C"]
    assert areas[VALID_FROM].tolist() == [
        pd.Timestamp("2015-01-01"),
        pd.Timestamp("2015-06-01"),
        pd.Timestamp("2015-06-01"),
    ]
    assert areas[VALID_TO].iloc[0] == pd.Timestamp("2015-06-01")
    assert areas[VALID_TO].iloc[1:].isna().all()
    assert areas[AREA_SOURCE].unique().tolist() == ["zones.geojson"]
    assert areas[AREA_FEATURE].tolist() == [1, 2, 3]
    assert pd.api.types.is_datetime64_dtype(areas[VALID_FROM])
    assert areas.crs.to_epsg() == 4326
    assert set(areas.geom_type) == {"Polygon"}
    assert result.report.problems == []
    assert_balanced(result)


def test_id_field_gives_the_area_ids_and_extra_properties_are_kept(tmp_path):
    path = write_geojson(
        tmp_path / "z.geojson",
        [
            feature(iv("A", "2015-01-01", area_id="north", note="x")),
            feature(iv("B", "2015-01-01", area_id="south", note="y")),
        ],
    )
    areas = read_control_areas(path).areas
    assert areas[AREA_ID].tolist() == ["north", "south"]
    assert areas["note"].tolist() == ["x", "y"]


def test_repeated_id_field_falls_back_to_feature_numbers(tmp_path):
    path = write_geojson(
        tmp_path / "z.geojson",
        [
            feature(iv("A", "2015-01-01", area_id="same")),
            feature(iv("B", "2015-01-01", area_id="same")),
        ],
    )
    result = read_control_areas(path)
    assert result.areas[AREA_ID].tolist() == ["z-1", "z-2"]
    assert any("repeated" in m for m in messages(result))


def test_custom_field_names_and_controller_mapping(tmp_path):
    path = write_geojson(
        tmp_path / "z.geojson",
        [
            feature({"who": "ISIS-affiliated groups", "since": "2015-01-01", "until": None}),
            feature({"who": "Kurdish Forces", "since": "2015-01-01", "until": None}),
        ],
    )
    areas = read_control_areas(
        path,
        controller_field="who",
        from_field="since",
        to_field="until",
        controller_names=OCHA_AOI_2015_NAMES,
    ).areas
    assert areas[CONTROLLER].tolist() == [ISLAMIC_STATE, "Kurdish Forces"]
    assert areas["who"].tolist() == [
        "ISIS-affiliated groups",
        "Kurdish Forces",
    ]  # the original kept


def test_valid_from_not_before_valid_to_is_set_aside(tmp_path):
    path = write_geojson(
        tmp_path / "z.geojson",
        [
            feature(iv("A", "2015-06-01", "2015-01-01")),
            feature(iv("B", "2015-06-01", "2015-06-01")),
            feature(iv("C", "2015-01-01", "2015-06-01")),
        ],
    )
    result = read_control_areas(path)
    assert result.areas[CONTROLLER].tolist() == ["C"]
    assert result.rejected[AREA_FEATURE].tolist() == [1, 2]
    assert all("is not before" in r for r in result.rejected[REJECT_REASON])
    assert [p.row for p in result.report.errors] == [1, 2]
    assert_balanced(result)


def test_unparseable_and_missing_dates_are_set_aside_with_the_value(tmp_path):
    path = write_geojson(
        tmp_path / "z.geojson",
        [
            feature(iv("A", "last spring")),
            feature(iv("B", "2015-01-01", "soon")),
            feature(iv("C", None)),
            feature(iv("D", "2015-13-45")),
        ],
    )
    result = read_control_areas(path)
    assert result.areas.empty
    text = "\n".join(messages(result))
    assert "z.geojson feature 1: cannot parse valid_from 'last spring'" in text
    assert "z.geojson feature 2: cannot parse valid_to 'soon'" in text
    assert "z.geojson feature 3: valid_from missing" in text
    assert "'2015-13-45'" in text
    assert_balanced(result)


def test_missing_controller_is_set_aside_and_missing_field_is_a_schema_error(tmp_path):
    path = write_geojson(
        tmp_path / "z.geojson", [feature(iv(None, "2015-01-01")), feature(iv(" ", "2015-01-01"))]
    )
    result = read_control_areas(path)
    assert (
        result.rejected[REJECT_REASON].tolist()
        == ["controller missing (field 'controller' empty)"] * 2
    )
    with pytest.raises(
        SchemaError,
        match=r"z.geojson: no controller field 'actor_type'.*'controller'.*--controller-field",
    ):
        read_control_areas(path, controller_field="actor_type")


def test_unknown_controllers_are_listed_when_known_names_are_given(tmp_path):
    path = write_geojson(
        tmp_path / "z.geojson",
        [
            feature(iv(SYRIAN_GOVERNMENT, "2015-01-01")),
            feature(iv("Martians", "2015-01-01"), box(5, 5, 6, 6)),
        ],
    )
    plain = read_control_areas(path)
    assert plain.report.warnings == []
    checked = read_control_areas(path, known_controllers={SYRIAN_GOVERNMENT, ISLAMIC_STATE})
    assert len(checked.areas) == 2  # allowed, only listed
    (warning,) = checked.report.warnings
    assert "'Martians'" in warning.message and SYRIAN_GOVERNMENT not in warning.message


# --------------------------------------------------------------------------------------------
# snapshots


def test_snapshot_series_in_several_files_becomes_intervals(tmp_path):
    a = write_geojson(tmp_path / "may.geojson", [feature({"actor": "A", "day": "2015-05-24"})])
    b = write_geojson(tmp_path / "nov.geojson", [feature({"actor": "B", "day": "2015-11-29"})])
    areas = read_control_areas([b, a], controller_field="actor", date_field="day").areas
    got = {r[CONTROLLER]: (r[VALID_FROM], r[VALID_TO]) for _, r in areas.iterrows()}
    assert got["A"] == (pd.Timestamp("2015-05-24"), pd.Timestamp("2015-11-29"))
    assert got["B"][0] == pd.Timestamp("2015-11-29") and pd.isna(got["B"][1])


def test_one_file_with_several_snapshot_dates_becomes_intervals(tmp_path):
    path = write_geojson(
        tmp_path / "s.geojson",
        [
            feature({"controller": "A", "date": "2015-01-01"}),
            feature({"controller": "B", "date": "2015-03-01"}),
            feature({"controller": "C", "date": "2015-02-01"}),
            feature({"controller": "D", "date": "2015-03-01"}),
        ],
    )
    areas = read_control_areas(path, date_field="date").areas
    ends = dict(zip(areas[CONTROLLER], areas[VALID_TO], strict=True))
    assert ends["A"] == pd.Timestamp("2015-02-01")
    assert ends["C"] == pd.Timestamp("2015-03-01")
    assert pd.isna(ends["B"]) and pd.isna(ends["D"])


def test_as_of_dates_snapshot_files_without_a_date(tmp_path):
    a = write_geojson(tmp_path / "a.geojson", [feature({"controller": "A"})])
    b = write_geojson(tmp_path / "b.geojson", [feature({"controller": "B"})])
    one = read_control_areas(a, as_of="2016-02-03").areas
    assert one[VALID_FROM].tolist() == [pd.Timestamp("2016-02-03")] and one[VALID_TO].isna().all()
    both = read_control_areas([a, b], as_of=["2016-01-01", "2016-03-01"]).areas
    assert both[VALID_TO].tolist()[0] == pd.Timestamp("2016-03-01")
    with pytest.raises(SchemaError, match="--date-field FIELD, or the file's date with --as-of"):
        read_control_areas(a, date_field="date")


# --------------------------------------------------------------------------------------------
# CRS and coordinates


@pytest.mark.filterwarnings("ignore:'crs' was not provided")
def test_missing_crs_is_refused_unless_assumed(tmp_path):
    frame = gpd.GeoDataFrame(
        {"controller": ["A"], "valid_from": ["2015-01-01"]}, geometry=[shapely.box(0, 0, 1, 1)]
    )
    path = tmp_path / "nocrs.shp"
    frame.to_file(path, engine="pyogrio")
    assert not path.with_suffix(".prj").exists()
    with pytest.raises(CRSError, match=r"nocrs.shp: CRS missing"):
        read_control_areas(path)
    result = read_control_areas(path, assume_crs="EPSG:4326")
    assert len(result.areas) == 1
    assert any("CRS missing; assumed EPSG:4326" in p.message for p in result.report.warnings)


def test_other_crs_is_reprojected_with_a_warning(tmp_path):
    frame = gpd.GeoDataFrame(
        {"controller": ["A"], "valid_from": ["2015-01-01"]},
        geometry=[shapely.box(36, 34, 37, 35)],
        crs="EPSG:4326",
    ).to_crs("EPSG:32637")
    path = tmp_path / "utm.gpkg"
    frame.to_file(path, engine="pyogrio")
    result = read_control_areas(path)
    assert result.areas.crs.to_epsg() == 4326
    np.testing.assert_allclose(result.areas.total_bounds, [36, 34, 37, 35], atol=1e-6)
    (warning,) = result.report.warnings
    assert "reprojected from EPSG:32637 to 2-D EPSG:4326" in warning.message


def test_metres_labelled_as_degrees_are_refused_naming_the_file(tmp_path):
    # the OCHA 2015 history: projected coordinates under a lon/lat label
    path = write_geojson(
        tmp_path / "broken_prj.geojson",
        [feature(iv("A", "2015-01-01"), box(300_000, 3_800_000, 310_000, 3_810_000))],
    )
    with pytest.raises(
        GeometryError, match=r"broken_prj.geojson: coordinates impossible for longitude/latitude"
    ):
        read_control_areas(path)


def test_degrees_labelled_as_utm_are_refused_naming_the_file(tmp_path):
    # the original OCHA 2015 shapefile: lon/lat coordinates under a UTM 37N .prj
    frame = gpd.GeoDataFrame(
        {"controller": ["A"], "valid_from": ["2015-01-01"]},
        geometry=[shapely.box(38.9, 36.6, 39.0, 36.7)],
        crs="EPSG:32637",
    )
    path = tmp_path / "aoi_utm_label.shp"
    frame.to_file(path, engine="pyogrio")
    with pytest.raises(
        GeometryError, match=r"aoi_utm_label.shp: the file says EPSG:32637.*wrong CRS label"
    ):
        read_control_areas(path)


def test_single_feature_out_of_range_is_set_aside(tmp_path):
    path = write_geojson(
        tmp_path / "z.geojson",
        [feature(iv("A", "2015-01-01")), feature(iv("B", "2015-01-01"), box(10, 80, 20, 95))],
    )
    result = read_control_areas(path)
    assert result.areas[CONTROLLER].tolist() == ["A"]
    assert "z.geojson feature 2: coordinates out of lon/lat range" in messages(result)[0]


def test_polygon_across_the_antimeridian_is_split(tmp_path):
    crossing = polygon([[[170, 0], [-170, 0], [-170, 10], [170, 10], [170, 0]]])
    path = write_geojson(tmp_path / "fiji.geojson", [feature(iv("A", "2015-01-01"), crossing)])
    result = read_control_areas(path)
    geom = result.areas.geometry.iloc[0]
    assert geom.geom_type == "MultiPolygon" and len(geom.geoms) == 2
    assert geom.area == pytest.approx(200)  # 20 degrees wide, not 340
    assert geom.covers(shapely.Point(179, 5)) and geom.covers(shapely.Point(-179, 5))
    assert not geom.covers(shapely.Point(0, 5))
    (warning,) = result.report.warnings
    assert "antimeridian" in warning.message and "split at +/-180 into 2 part(s)" in warning.message


# --------------------------------------------------------------------------------------------
# broken geometries


def test_bowtie_is_reported_with_reason_and_set_aside_with_no_repair(tmp_path):
    path = write_geojson(
        tmp_path / "bow.geojson",
        [feature(iv("A", "2015-01-01")), feature(iv("B", "2015-01-01"), polygon(BOWTIE))],
    )
    result = read_control_areas(path, repair=False)
    assert result.areas[CONTROLLER].tolist() == ["A"]
    (error,) = result.report.errors
    assert error.row == 2
    assert "bow.geojson feature 2: invalid geometry: Self-intersection" in error.message
    assert "--no-repair" in error.message
    assert_balanced(result)


def test_bowtie_is_repaired_with_make_valid_by_default(tmp_path):
    path = write_geojson(
        tmp_path / "bow.geojson", [feature(iv("B", "2015-01-01"), polygon(BOWTIE))]
    )
    result = read_control_areas(path)
    geom = result.areas.geometry.iloc[0]
    assert geom.is_valid and geom.area == pytest.approx(0.5)  # two triangles
    (warning,) = result.report.warnings
    assert "repaired with make_valid" in warning.message and "Self-intersection" in warning.message
    assert result.report.errors == []


def test_null_and_empty_geometries_are_both_reported_differently(tmp_path):
    path = write_geojson(
        tmp_path / "gaps.geojson",
        [
            feature(iv("A", "2015-01-01"), None),
            feature(iv("B", "2015-01-01"), polygon([])),
            feature(iv("C", "2015-01-01")),
        ],
    )
    result = read_control_areas(path)
    assert result.areas[CONTROLLER].tolist() == ["C"]
    reasons = dict(zip(result.rejected[AREA_FEATURE], result.rejected[REJECT_REASON], strict=True))
    assert "null" in reasons[1] and "empty" not in reasons[1]
    assert "empty" in reasons[2] and "null" not in reasons[2]
    assert_balanced(result)


def test_unclosed_ring_names_file_and_feature(tmp_path):
    unclosed = polygon([[[0, 0], [1, 0], [1, 1], [0, 1]]])
    path = write_geojson(
        tmp_path / "open.geojson",
        [feature(iv("A", "2015-01-01")), feature(iv("B", "2015-01-01"), unclosed)],
    )
    result = read_control_areas(path)  # the rest of the file still loads
    assert result.areas[CONTROLLER].tolist() == ["A"]
    (error,) = result.report.errors
    assert error.row == 2
    assert error.message.startswith(
        "open.geojson feature 2: geometry cannot be read: ring not closed"
    )
    assert_balanced(result)


def test_unclosed_ring_when_gdal_is_told_to_refuse_it(tmp_path):
    unclosed = polygon([[[0, 0], [1, 0], [1, 1], [0, 1]]])
    path = write_geojson(
        tmp_path / "open.geojson",
        [feature(iv("A", "2015-01-01")), feature(iv("B", "2015-01-01"), unclosed)],
    )
    pyogrio.set_gdal_config_options({"OGR_GEOMETRY_ACCEPT_UNCLOSED_RING": "NO"})
    try:
        result = read_control_areas(path)
    finally:
        pyogrio.set_gdal_config_options({"OGR_GEOMETRY_ACCEPT_UNCLOSED_RING": None})
    (error,) = result.report.errors
    assert "open.geojson feature 2: geometry cannot be read: ring not closed" in error.message


def test_unreadable_file_names_the_file(tmp_path):
    path = tmp_path / "torn.geojson"
    path.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", ', encoding="utf-8"
    )
    with pytest.raises(InputFileError, match="torn.geojson: cannot be read"):
        read_control_areas(path)
    with pytest.raises(InputFileError, match="missing.geojson: file not found"):
        read_control_areas(tmp_path / "missing.geojson")


def test_a_table_without_geometry_is_refused_naming_the_file(tmp_path):
    # an events CSV given where control areas are expected: GDAL reads it as a plain table
    events = tmp_path / "events.csv"
    events.write_text("event_id,event_date,latitude,longitude\na,2017-01-01,36,43\n")
    with pytest.raises(InputFileError, match=r"events.csv: has no geometry .*not a control-area"):
        read_control_areas(events)


def test_pipes_empty_files_and_dangling_links_are_refused(tmp_path):
    fifo = tmp_path / "areas.geojson"
    os.mkfifo(fifo)  # GDAL would wait forever for a writer
    with pytest.raises(InputFileError, match="areas.geojson: not a regular file .a named pipe."):
        read_control_areas(fifo)
    empty = tmp_path / "empty.geojson"
    empty.write_bytes(b"")
    with pytest.raises(InputFileError, match="empty.geojson: the file is empty"):
        read_control_areas(empty)
    link = tmp_path / "link.gpkg"
    link.symlink_to(tmp_path / "gone.gpkg")
    with pytest.raises(InputFileError, match="link.gpkg: file not found .a link to"):
        read_control_areas(link)


def test_non_polygon_geometries_are_set_aside(tmp_path):
    path = write_geojson(
        tmp_path / "mixed.geojson",
        [
            feature(iv("A", "2015-01-01"), {"type": "Point", "coordinates": [0.5, 0.5]}),
            feature(iv("B", "2015-01-01"), {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}),
            feature(iv("C", "2015-01-01"), {"type": "MultiPolygon", "coordinates": [SQUARE]}),
        ],
    )
    result = read_control_areas(path)
    assert result.areas[CONTROLLER].tolist() == ["C"]
    assert [
        r.startswith("not a polygon: geometry type") for r in result.rejected[REJECT_REASON]
    ] == [True, True]
    assert_balanced(result)


def test_every_problem_of_a_feature_is_collected(tmp_path):
    path = write_geojson(tmp_path / "z.geojson", [feature(iv(None, "soon"), None)])
    result = read_control_areas(path)
    (reason,) = result.rejected[REJECT_REASON]
    assert "null" in reason and "controller missing" in reason and "cannot parse" in reason
    assert len(result.report.errors) == 3


# --------------------------------------------------------------------------------------------
# overlaps


def test_overlap_of_different_controllers_at_the_same_time_is_a_warning(tmp_path):
    path = write_geojson(
        tmp_path / "o.geojson",
        [
            feature(iv("A", "2015-01-01"), box(0, 0, 6, 6)),
            feature(iv("B", "2015-01-01"), box(4, 4, 10, 10)),  # overlaps 1: warned
            feature(iv("A", "2015-01-01"), box(5, 0, 7, 2)),  # overlaps 1, same controller
            feature(iv("C", "2014-01-01", "2015-01-01"), box(0, 0, 6, 6)),  # before 1 and 2
            feature(iv("D", "2015-01-01"), box(10, 0, 12, 4)),  # touches 2 only
        ],
    )
    result = read_control_areas(path)
    assert len(result.areas) == 5  # kept: the join decides
    (warning,) = result.report.warnings
    assert warning.row == 1
    assert "o.geojson feature 1 (A) overlaps o.geojson feature 2 (B)" in warning.message
    assert warning.value == "o-1 / o-2"


def test_overlap_needs_shared_area_not_just_overlapping_boxes(tmp_path):
    # two triangles whose bounding boxes overlap but whose shapes do not touch
    lower = {"type": "Polygon", "coordinates": [[[0, 0], [4, 0], [0, 4], [0, 0]]]}
    upper = {"type": "Polygon", "coordinates": [[[1, 4], [4, 1], [4, 4], [1, 4]]]}
    path = write_geojson(
        tmp_path / "t.geojson",
        [feature(iv("A", "2015-01-01"), lower), feature(iv("B", "2015-01-01"), upper)],
    )
    result = read_control_areas(path)
    assert len(result.areas) == 2
    assert result.report.warnings == []


def test_many_overlaps_are_listed_up_to_a_cap_then_counted_per_controller_pair(
    tmp_path, monkeypatch
):
    monkeypatch.setattr("dashboard.areas._OVERLAP_LIST_MAX", 2)
    features = []
    for k in range(3):  # three A/B pairs, each overlapping by half
        features.append(feature(iv("A", "2015-01-01"), box(10 * k, 0, 10 * k + 2, 2)))
        features.append(feature(iv("B", "2015-01-01"), box(10 * k + 1, 0, 10 * k + 3, 2)))
    features.append(feature(iv("C", "2015-01-01"), box(0, 1, 2, 3)))  # overlaps A-1 and B-2
    path = write_geojson(tmp_path / "m.geojson", features)
    warnings = read_control_areas(path).report.warnings
    listed = [w for w in warnings if w.row is not None]
    assert [w.value for w in listed] == ["m-1 / m-2", "m-1 / m-7"]
    (summary,) = [w for w in warnings if w.row is None]
    assert summary.value == 5
    assert "5 overlaps" in summary.message and "the first 2 are listed" in summary.message
    assert "A / B: 3" in summary.message
    assert "A / C: 1" in summary.message and "B / C: 1" in summary.message


# --------------------------------------------------------------------------------------------
# formats


@pytest.fixture
def sample_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "controller": ["A", "B"],
            "valid_from": ["2015-01-01", "2015-02-01"],
            "valid_to": ["2015-02-01", None],
        },
        geometry=[shapely.box(36, 34, 37, 35), shapely.box(37, 34, 38, 35)],
        crs="EPSG:4326",
    )


@pytest.mark.parametrize(
    "name", ["areas.gpkg", "areas.shp", "areas.parquet", "areas.kml", "areas.geojson"]
)
def test_formats_round_trip(tmp_path, sample_frame, name):
    path = tmp_path / name
    if path.suffix == ".parquet":
        sample_frame.to_parquet(path)
    else:
        driver = {".kml": "KML"}.get(path.suffix)
        sample_frame.to_file(path, engine="pyogrio", driver=driver)
    result = read_control_areas(path)
    areas = result.areas
    assert areas[CONTROLLER].tolist() == ["A", "B"]
    assert areas[VALID_FROM].tolist() == [pd.Timestamp("2015-01-01"), pd.Timestamp("2015-02-01")]
    assert areas[VALID_TO].iloc[0] == pd.Timestamp("2015-02-01") and pd.isna(
        areas[VALID_TO].iloc[1]
    )
    assert areas[AREA_ID].tolist() == ["areas-1", "areas-2"]
    assert areas.geometry.iloc[0].equals(shapely.box(36, 34, 37, 35))
    assert_balanced(result)


def test_date_typed_fields_are_read(tmp_path, sample_frame):
    frame = sample_frame.assign(
        valid_from=pd.to_datetime(sample_frame["valid_from"]),
        valid_to=pd.to_datetime(sample_frame["valid_to"]),
    )
    path = tmp_path / "typed.gpkg"
    frame.to_file(path, engine="pyogrio")
    areas = read_control_areas(path).areas
    assert areas[VALID_FROM].tolist() == [pd.Timestamp("2015-01-01"), pd.Timestamp("2015-02-01")]
    assert pd.isna(areas[VALID_TO].iloc[1])


# --------------------------------------------------------------------------------------------
# areas_at


def test_areas_at_is_half_open(tmp_path):
    path = write_geojson(
        tmp_path / "t.geojson",
        [feature(iv("A", "2015-01-01", "2015-06-01")), feature(iv("B", "2015-06-01"))],
    )
    areas = read_control_areas(path).areas
    assert areas_at(areas, "2014-12-31").empty
    assert areas_at(areas, "2015-05-31")[CONTROLLER].tolist() == ["A"]
    assert areas_at(areas, "2015-06-01")[CONTROLLER].tolist() == ["B"]
    assert areas_at(areas, pd.Timestamp("2015-06-01 18:30"))[CONTROLLER].tolist() == ["B"]
    assert areas_at(areas, "2040-01-01")[CONTROLLER].tolist() == ["B"]


# --------------------------------------------------------------------------------------------
# the real OCHA 2015 "Areas of Influence" snapshots

OCHA_FILES = (
    "ocha_syria_areas_of_influence_2015-05-24.geojson",
    "ocha_syria_areas_of_influence_2015-11-29.geojson",
)


@pytest.fixture(scope="module")
def ocha(request) -> Any:
    shared = request.getfixturevalue("shared_data")
    return read_control_areas(
        [shared / f for f in OCHA_FILES],
        controller_field="actor_type",
        date_field="valid_date",
        controller_names=OCHA_AOI_2015_NAMES,
    )


@pytest.mark.shared_data
def test_ocha_snapshots_load_as_they_are(ocha):
    report = ocha.report
    assert report.rows_in == 209 + 288
    assert report.rows_in == report.rows_loaded + report.rows_rejected
    # the only rejects are features with empty coordinates in the published files
    assert set(ocha.rejected[REJECT_REASON]) == {
        "geometry is empty (a geometry with no coordinates)"
    }
    assert report.rows_loaded > 480
    periods = ocha.areas.groupby(ocha.areas[VALID_FROM].dt.date.astype(str))[VALID_TO].unique()
    assert list(periods.index) == ["2015-05-24", "2015-11-29"]
    assert list(periods["2015-05-24"]) == [pd.Timestamp("2015-11-29")]
    assert pd.isna(periods["2015-11-29"]).all()
    assert {ISLAMIC_STATE, SYRIAN_GOVERNMENT, CONTESTED, "Kurdish Forces"} <= set(
        ocha.areas[CONTROLLER]
    )
    assert any("overlaps" in p.message for p in report.warnings)  # the published polygons overlap


@pytest.mark.shared_data
def test_ocha_facts_hold_through_the_join(ocha):
    places = {
        "Tall Abyad": (38.954, 36.696),
        "Al Qaryatayn": (37.241, 34.230),
        "Deir ez-Zor airport": (40.175, 35.285),
    }
    rows = [
        (name, lon, lat, day)
        for name, (lon, lat) in places.items()
        for day in ("2015-06-01", "2015-12-15")
    ]
    events = pd.DataFrame(rows, columns=["place", LONGITUDE, LATITUDE, EVENT_DATE])
    events[EVENT_DATE] = pd.to_datetime(events[EVENT_DATE])
    out = join_events_to_areas(events, ocha.areas)
    got = dict(
        zip(
            zip(out["place"], out[EVENT_DATE].dt.date.astype(str), strict=True),
            out[CONTROLLER],
            strict=True,
        )
    )
    assert got[("Tall Abyad", "2015-06-01")] == ISLAMIC_STATE  # "ISIS-affiliated groups"
    assert got[("Tall Abyad", "2015-12-15")] == "Kurdish Forces"
    assert got[("Al Qaryatayn", "2015-06-01")] == SYRIAN_GOVERNMENT
    assert got[("Al Qaryatayn", "2015-12-15")] == ISLAMIC_STATE
    assert got[("Deir ez-Zor airport", "2015-06-01")] == SYRIAN_GOVERNMENT
    assert got[("Deir ez-Zor airport", "2015-12-15")] == SYRIAN_GOVERNMENT


@pytest.mark.shared_data
def test_ocha_names_are_kept_as_given_by_default(shared_data):
    result = read_control_areas(
        [shared_data / f for f in OCHA_FILES],
        controller_field="actor_type",
        date_field="valid_date",
    )
    assert "ISIS-affiliated groups" in set(result.areas[CONTROLLER])
    assert result.report.balanced
