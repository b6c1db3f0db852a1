"""Control areas from a town list: tiny fixtures whose answers are worked out by hand."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Geod

from dashboard.areas import DATE_DTYPE, areas_at
from dashboard.controlpoints import LOCALITY, MAX_DISTANCE_KM, SOURCE_LINE, areas_from_points
from dashboard.errors import GeometryError, InputFileError, SchemaError
from dashboard.measure import area_km2
from dashboard.paths import BUNDLED_COUNTRIES
from dashboard.schema import (
    AREA_FEATURE,
    AREA_ID,
    AREA_KIND,
    AREA_PROVENANCE,
    AREA_SOURCE,
    CONTROLLER,
    EVENT_DATE,
    IRAQI_GOVERNMENT,
    ISLAMIC_STATE,
    LATITUDE,
    LONGITUDE,
    NO_INFORMATION,
    REJECT_REASON,
    SDF,
    SYRIAN_GOVERNMENT,
    UNKNOWN,
    VALID_FROM,
    VALID_TO,
)
from dashboard.spatial import join_events_to_areas

TODAY = date(2024, 1, 1)
HEADER = "name,longitude,latitude,controller,date\n"
GEOD = Geod(ellps="WGS84")


def write(tmp_path: Path, text: str, name: str = "towns.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def box_outline(x0: float, y0: float, x1: float, y1: float) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[shapely.box(x0, y0, x1, y1)], crs="EPSG:4326")


def countries(*names: str) -> gpd.GeoDataFrame:
    frame = gpd.read_file(BUNDLED_COUNTRIES)
    return frame[frame["name"].isin(names)].reset_index(drop=True)


def cell(result, locality: str) -> shapely.Geometry:
    rows = result.areas[result.areas[LOCALITY] == locality]
    assert len(rows), f"no version of {locality!r}"
    return rows.geometry.iloc[0]


def no_information(result) -> gpd.GeoDataFrame:
    return result.areas[result.areas[CONTROLLER] == NO_INFORMATION]


def assert_balanced(result) -> None:
    r = result.report
    assert r.balanced, r.to_text()
    assert r.rows_rejected == len(result.rejected)
    assert result.ledger.features_in == r.rows_in
    assert result.ledger.set_aside == len(result.rejected)
    assert result.ledger.balanced


def messages(result) -> list[str]:
    return [p.message for p in result.report.problems]


def events(points: list[tuple[float, float]], dates: list[str]) -> pd.DataFrame:
    """points as (lon, lat)."""
    return pd.DataFrame(
        {
            "event_id": [f"e{i}" for i in range(len(points))],
            EVENT_DATE: pd.to_datetime(dates),
            LONGITUDE: [p[0] for p in points],
            LATITUDE: [p[1] for p in points],
        }
    )


# --- the ground of each locality ------------------------------------------------------------


def test_three_points_in_a_line_split_at_the_midpoints(tmp_path):
    path = write(
        tmp_path,
        HEADER
        + "A,39.0,35.0,Islamic State,2015-01-01\n"
        + "B,39.2,35.0,SDF,2015-01-01\n"
        + "C,39.4,35.0,Syrian government,2015-01-01\n",
    )
    result = areas_from_points(
        path, outline=box_outline(38.0, 34.0, 40.5, 36.0), max_distance_km=100, today=TODAY
    )
    parallel = shapely.LineString([(38.0, 35.0), (40.5, 35.0)])
    spans = {name: cell(result, name).intersection(parallel).bounds for name in "ABC"}
    # along the parallel of the points, each cell ends half-way to its neighbour
    assert spans["A"][2] == pytest.approx(39.1, abs=1e-4)
    assert spans["B"][0] == pytest.approx(39.1, abs=1e-4)
    assert spans["B"][2] == pytest.approx(39.3, abs=1e-4)
    assert spans["C"][0] == pytest.approx(39.3, abs=1e-4)
    # the three cells do not overlap
    a, b, c = (cell(result, n) for n in "ABC")
    assert area_km2([a.intersection(b), b.intersection(c), a.intersection(c)]).sum() < 1e-3


def test_max_distance_clips_a_lone_cell_to_a_disc(tmp_path):
    path = write(tmp_path, HEADER + "A,39.0,35.0,SDF,2015-01-01\n")
    result = areas_from_points(
        path, outline=box_outline(37.0, 33.0, 41.0, 37.0), max_distance_km=10, today=TODAY
    )
    assert area_km2([cell(result, "A")])[0] == pytest.approx(math.pi * 10**2, rel=0.01)
    # the rest of the outline is out of reach
    rest = no_information(result).geometry.iloc[0]
    outline_km2 = area_km2([shapely.box(37.0, 33.0, 41.0, 37.0)])[0]
    assert area_km2([rest])[0] == pytest.approx(outline_km2 - math.pi * 100, rel=1e-3)


def test_a_point_far_from_the_others_gets_a_disc_and_the_gap_is_no_information(tmp_path):
    # C is about 100 km east of B: the 50 km between them are out of everyone's 25 km reach
    path = write(
        tmp_path,
        HEADER
        + "A,39.0,35.0,Islamic State,2015-01-01\n"
        + "B,39.1,35.0,Islamic State,2015-01-01\n"
        + "C,40.2,35.0,SDF,2015-01-01\n",
    )
    outline = box_outline(38.0, 34.0, 41.5, 36.0)
    result = areas_from_points(path, outline=outline, today=TODAY)
    assert area_km2([cell(result, "C")])[0] == pytest.approx(math.pi * 25**2, rel=0.01)
    gap = no_information(result)
    assert len(gap) == 1
    assert gap[VALID_FROM].iloc[0] == pd.Timestamp("2015-01-01")
    assert pd.isna(gap[VALID_TO].iloc[0])
    assert gap[AREA_FEATURE].iloc[0] == 0 and gap[SOURCE_LINE].iloc[0] == 0
    middle = shapely.Point(39.65, 35.0)
    assert gap.geometry.iloc[0].contains(middle)
    # the layer tiles the outline: cells + No information = outline
    total = area_km2(result.areas.geometry).sum()
    assert total == pytest.approx(area_km2(outline.geometry)[0], rel=1e-4)
    note = next(m for m in messages(result) if "control surface from" in m)
    assert "control surface from 3 locality points" in note
    assert "nearest locality within 25 km (Voronoi cells)" in note
    assert "ground farther is 'No information'" in note
    assert "km²" in note


def test_the_layer_joins_events_to_the_controller_of_their_cell_at_their_date(tmp_path):
    path = write(
        tmp_path,
        HEADER
        + "A,39.0,35.0,Islamic State,2015-01-01\n"
        + "A,39.0,35.0,SDF,2016-06-01\n"
        + "C,40.2,35.0,Syrian government,2015-03-01\n",
    )
    result = areas_from_points(path, outline=box_outline(38.0, 34.0, 41.5, 36.0), today=TODAY)
    points = [(39.01, 35.01), (39.01, 35.01), (39.01, 35.01), (40.19, 35.0), (39.6, 35.0)]
    dates = ["2015-02-01", "2016-06-01", "2014-12-31", "2015-02-01", "2015-06-01"]
    out = join_events_to_areas(events(points, dates), result.areas)
    assert out[CONTROLLER].tolist() == [
        ISLAMIC_STATE,  # A's first version
        SDF,  # A from the day of its second row
        UNKNOWN,  # before A's first row nothing is said
        UNKNOWN,  # C before its first row
        NO_INFORMATION,  # between A and C, out of reach
    ]
    assert out[AREA_ID].tolist()[:2] == ["towns:A#1", "towns:A#2"]


def test_outline_keeps_a_border_cell_out_of_turkey(tmp_path):
    # a town in Iraq about 12 km from Turkey's outline and 7 km from Syria's: its 25 km disc
    # reaches into both; the outline Syria + Iraq keeps it out of Turkey
    path = write(
        tmp_path,
        HEADER + "Near tripoint,42.35,37.0,KRG,2015-01-01\nSyrian town,41.9,36.95,SDF,2015-01-01\n",
    )
    turkey = countries("Turkey").geometry.iloc[0]
    disc_reaches = shapely.Point(42.35, 37.0).buffer(0.3)
    assert disc_reaches.intersects(turkey)  # the fixture means something
    for outline in (countries("Syria", "Iraq"), None):  # given, and the default
        result = areas_from_points(path, outline=outline, today=TODAY)
        ground = cell(result, "Near tripoint")
        assert area_km2([ground.intersection(turkey)])[0] < 1e-3
        assert area_km2([ground])[0] < 0.9 * math.pi * 25**2
        assert area_km2(no_information(result).geometry.intersection(turkey)).sum() < 1e-3


def test_duplicate_coordinates_for_different_names_are_one_locality(tmp_path):
    path = write(
        tmp_path,
        HEADER
        + "Tell Abyad,38.95,36.70,SDF,2015-07-01\n"
        + "Girê Spî,38.95,36.70,SDF,2015-08-01\n"
        + "Other,39.2,36.70,Islamic State,2015-07-01\n",
    )
    result = areas_from_points(path, outline=box_outline(38, 36, 40, 37.5), today=TODAY)
    named = result.areas[result.areas[CONTROLLER] != NO_INFORMATION]
    assert sorted(named[LOCALITY]) == ["Other", "Tell Abyad / Girê Spî"]
    assert len(named) == 2  # the same controller on both rows: one version
    assert any("several names" in m and "'Girê Spî'" in m for m in messages(result))
    assert_balanced(result)


# --- versions over time --------------------------------------------------------------------


RUNS = (
    HEADER
    + "A,39.0,35.0,Islamic State,2015-01-01\n"
    + "A,39.0,35.0,Islamic State,2015-02-01\n"
    + "A,39.0,35.0,SDF,2015-03-01\n"
    + "B,39.3,35.0,SDF,2015-01-01\n"
    + "A,39.0,35.0,SDF,2015-04-01\n"
    + "A,39.0,35.0,Islamic State,2015-05-01\n"
)


def versions(result) -> list[tuple]:
    """(locality, controller, valid_from, valid_to) of each version, by locality and date."""
    named = result.areas[result.areas[CONTROLLER] != NO_INFORMATION]
    found = [
        (
            str(r[LOCALITY]),
            str(r[CONTROLLER]),
            r[VALID_FROM].date().isoformat(),
            None if pd.isna(r[VALID_TO]) else r[VALID_TO].date().isoformat(),
        )
        for _, r in named.iterrows()
    ]
    return sorted(found, key=lambda v: (v[0], v[2]))


def test_rows_with_the_same_controller_merge_into_one_version(tmp_path):
    result = areas_from_points(
        write(tmp_path, RUNS), outline=box_outline(38, 34, 40.5, 36), today=TODAY
    )
    assert versions(result) == [
        ("A", ISLAMIC_STATE, "2015-01-01", "2015-03-01"),
        ("A", SDF, "2015-03-01", "2015-05-01"),
        ("A", ISLAMIC_STATE, "2015-05-01", None),
        ("B", SDF, "2015-01-01", None),
    ]
    a = result.areas[result.areas[LOCALITY] == "A"].sort_values(VALID_FROM)
    # each version names the row that starts it: data row, and line (data row + header)
    assert a[AREA_FEATURE].tolist() == [1, 3, 6]
    assert a[SOURCE_LINE].tolist() == [2, 4, 7]
    assert a[AREA_ID].tolist() == ["towns:A#1", "towns:A#2", "towns:A#3"]
    assert (a[AREA_SOURCE] == "towns.csv").all()
    # every version of a locality has the same ground
    assert a.geometry.iloc[0].equals(a.geometry.iloc[2])


def test_the_order_of_the_rows_does_not_matter(tmp_path):
    lines = RUNS.splitlines(keepends=True)
    shuffled = lines[:1] + [lines[i] for i in (5, 3, 1, 6, 4, 2)]
    outline = box_outline(38, 34, 40.5, 36)
    first = areas_from_points(write(tmp_path, RUNS), outline=outline, today=TODAY)
    second = areas_from_points(
        write(tmp_path, "".join(shuffled), "shuffled.csv"), outline=outline, today=TODAY
    )
    assert versions(first) == versions(second)
    # AREA_FEATURE names, in the shuffled file, the row whose date starts the version
    table = pd.read_csv(tmp_path / "shuffled.csv")
    for _, v in second.areas[second.areas[CONTROLLER] != NO_INFORMATION].iterrows():
        row = table.iloc[v[AREA_FEATURE] - 1]
        assert pd.Timestamp(row["date"]) == v[VALID_FROM]
        assert row["controller"] == v[CONTROLLER]
    geoms = {r[AREA_ID]: r.geometry for _, r in first.areas.iterrows()}
    for _, r in second.areas.iterrows():
        assert shapely.equals(r.geometry, geoms[r[AREA_ID].replace("shuffled:", "towns:")])


def test_two_rows_disagreeing_on_the_same_date_are_both_set_aside(tmp_path):
    path = write(
        tmp_path,
        HEADER
        + "A,39.0,35.0,Islamic State,2015-01-01\nA,39.0,35.0,SDF,2015-01-01\n"
        + "A,39.0,35.0,SDF,2015-02-01\nA,39.0,35.0,SDF,2015-02-01\n",  # agree: one statement
    )
    result = areas_from_points(path, outline=box_outline(38, 34, 40, 36), today=TODAY)
    assert versions(result) == [("A", SDF, "2015-02-01", None)]
    assert result.rejected[AREA_FEATURE].tolist() == [1, 2]
    reason = result.rejected[REJECT_REASON].iloc[0]
    assert "line 3 says 'SDF'" in reason and "neither is used" in reason
    assert_balanced(result)


def test_output_has_the_area_readers_columns_and_dtypes(tmp_path):
    result = areas_from_points(
        write(tmp_path, RUNS), outline=box_outline(38, 34, 40.5, 36), today=TODAY
    )
    areas = result.areas
    assert list(areas.columns) == [
        AREA_ID,
        CONTROLLER,
        VALID_FROM,
        VALID_TO,
        AREA_SOURCE,
        AREA_FEATURE,
        AREA_KIND,
        AREA_PROVENANCE,
        LOCALITY,
        SOURCE_LINE,
        MAX_DISTANCE_KM,
        "geometry",
    ]
    assert (areas[AREA_KIND] == "locality points").all()
    assert (areas[MAX_DISTANCE_KM] == 25.0).all()
    first = areas.sort_values(AREA_FEATURE).iloc[1]
    assert first[AREA_PROVENANCE] == (
        "towns.csv row 1 (line 2): A 'Islamic State' as of 2015-01-01; ground: nearest "
        "locality within 25 km"
    )
    assert areas[VALID_FROM].dtype == DATE_DTYPE and areas[VALID_TO].dtype == DATE_DTYPE
    assert areas[AREA_ID].is_unique
    assert areas.crs.to_epsg() == 4326
    assert set(areas.geom_type) <= {"Polygon", "MultiPolygon"}
    assert areas.geometry.is_valid.all()
    on_day = areas_at(areas, "2015-03-15")
    assert sorted(on_day[CONTROLLER]) == [NO_INFORMATION, SDF, SDF]
    assert result.repaired.empty


# --- reading messy files -------------------------------------------------------------------


def test_a_messy_spreadsheet_export_is_read(tmp_path):
    # BOM, semicolons, CRLF, decimal commas, day-first dates (13/03/2015 settles the
    # order), a blank line, other column spellings and the trailing empty rows of a sheet
    text = (
        "Town;Lng;Lat;Status;As of\r\n"
        "A;39,0;35,0;Islamic State;01/02/2015\r\n"
        "A;39,0;35,0;SDF;13/03/2015\r\n"
        "\r\n"
        "B;39,3;35,0;SDF;01/02/2015\r\n"
        "C;39,6;35,0;;01/02/2015\r\n"
        ";;;;\r\n"
        ";;;;\r\n"
    )
    path = write(tmp_path, "\ufeff" + text, "sheet.csv")
    result = areas_from_points(path, outline=box_outline(38, 34, 40.5, 36), today=TODAY)
    assert versions(result) == [
        ("A", ISLAMIC_STATE, "2015-02-01", "2015-03-13"),
        ("A", SDF, "2015-03-13", None),
        ("B", SDF, "2015-02-01", None),
    ]
    # C has no controller: set aside, named by its line in the file (the blank line counts)
    assert result.rejected[AREA_FEATURE].tolist() == [4]
    assert result.rejected[SOURCE_LINE].tolist() == [6]
    problem = next(p for p in result.report.errors)
    assert problem.row == 6
    assert problem.message.startswith("sheet.csv line 6 (data row 4): controller missing")
    assert result.report.rows_in == 4  # the empty rows are not rows
    assert any("2 rows with every cell empty skipped" in m for m in messages(result))
    assert any("'13/03/2015' can only be read day first" in m for m in messages(result))
    assert_balanced(result)


def test_dates_in_the_forms_of_spreadsheets(tmp_path):
    path = write(
        tmp_path,
        HEADER
        + "A,39.0,35.0,Islamic State,2015-01\n"
        + "A,39.0,35.0,SDF,Mar 2015\n"
        + "A,39.0,35.0,Islamic State,1/5/2015\n"
        + "A,39.0,35.0,SDF,01/07/2015\n",
    )
    result = areas_from_points(path, outline=box_outline(38, 34, 40, 36), today=TODAY)
    assert [v[2] for v in versions(result)] == [
        "2015-01-01",
        "2015-03-01",
        "2015-05-01",
        "2015-07-01",
    ]
    text = " ".join(messages(result))
    assert "2 values name a month without a day" in text
    # nothing proves the order: day first, said once for the column
    assert "nothing in the file settles the day/month order of 2 numeric dates" in text


def test_spreadsheet_serial_dates(tmp_path):
    path = write(tmp_path, HEADER + "A,39.0,35.0,SDF,42064\nB,39.2,35.0,SDF,42095\n")
    result = areas_from_points(path, outline=box_outline(38, 34, 40, 36), today=TODAY)
    assert sorted(v[2] for v in versions(result)) == ["2015-03-01", "2015-04-01"]
    assert any("spreadsheet serial day numbers" in m for m in messages(result))


def test_rows_set_aside_each_with_its_reason_and_the_ledger_balances(tmp_path):
    path = write(
        tmp_path,
        HEADER
        + "A,39.0,35.0,Islamic State,2015-01-01\n"  # line 2: used
        + "B,39.2,35.0,,2015-01-01\n"  # line 3: no controller
        + "C,39.4,35.0,SDF,someday\n"  # line 4: unreadable date
        + "D,39.6,35.0,SDF,2031-01-01\n"  # line 5: after today
        + "E,39.8,35.0,SDF,1850-01-01\n"  # line 6: before 1900
        + "F,200,35.0,SDF,2015-01-01\n"  # line 7: out of range
        + "G,45.0,35.0,SDF,2015-01-01\n"  # line 8: outside the outline
        + "H,39.1,,SDF,2015-01-01\n"  # line 9: half a position
        + "I,39.3,35.2,YPG,2015-01-01\n"  # line 10: used, controller not known
        + "J,39.5,35.2,SDF,2015-01-01,extra\n"  # line 11: ragged
        + "K,x,35.2,SDF,2015-01-01\n",  # line 12: not a number
    )
    result = areas_from_points(path, outline=box_outline(38, 34, 41, 36), today=TODAY)
    assert_balanced(result)
    assert result.report.rows_in == 11
    assert result.report.rows_loaded == 2
    rejected = result.rejected.set_index(SOURCE_LINE)
    assert rejected["reason_kind"].to_dict() == {
        3: "controller missing",
        4: "date unreadable",
        5: "date after today or before 1900",
        6: "date after today or before 1900",
        7: "coordinates out of range",
        8: "outside the outline",
        9: "coordinates unreadable",
        11: "ragged row",
        12: "coordinates unreadable",
    }
    assert rejected[AREA_FEATURE].to_dict() == {n: n - 1 for n in rejected.index}
    assert rejected["area_km2"].isna().all()
    by_line = {p.row: p.message for p in result.report.errors}
    for line, message in by_line.items():
        assert message.startswith(f"towns.csv line {line} (data row {line - 1}): ")
    assert "--outline FILE" in by_line[8]
    assert "after today (2024-01-01)" in by_line[5]
    assert "'someday' is not a date" in by_line[4]
    unknown = next(m for m in messages(result) if "not among the known names" in m)
    assert "'YPG' (1 rows)" in unknown and "--rename-controller 'YPG=NEW'" in unknown
    assert "none of the" not in " ".join(messages(result))


def test_renamed_controllers_are_used_and_not_reported(tmp_path):
    path = write(tmp_path, HEADER + "A,39.0,35.0,Daesh,2015-01-01\n")
    result = areas_from_points(
        path,
        outline=box_outline(38, 34, 40, 36),
        controller_names={"Daesh": ISLAMIC_STATE},
        today=TODAY,
    )
    assert versions(result)[0][1] == ISLAMIC_STATE
    assert not any("not among the known names" in m for m in messages(result))


def test_a_file_of_which_no_row_can_be_used_says_so_first(tmp_path):
    path = write(tmp_path, HEADER + "A,39.0,35.0,,2015-01-01\n")
    result = areas_from_points(path, outline=box_outline(38, 34, 40, 36), today=TODAY)
    assert result.areas.empty
    assert result.report.problems[0].message.startswith("towns.csv: none of the 1 rows")
    assert_balanced(result)


def test_utf16_with_arabic_names_and_an_outline_file_in_another_crs(tmp_path):
    text = (
        "name,longitude,latitude,controller,date\r\n"
        "الرقة,39.0,35.95,Islamic State,2015-01-01\r\n"
        "منبج,37.95,36.53,SDF,2016-08-12\r\n"
    )
    path = write(tmp_path, text, "arabic.csv", encoding="utf-16")
    outline = tmp_path / "outline.geojson"
    box_outline(35, 32, 43, 38).to_crs(3857).to_file(outline)
    result = areas_from_points(path, outline=outline, today=TODAY)
    assert versions(result) == [
        ("الرقة", ISLAMIC_STATE, "2015-01-01", None),
        ("منبج", SDF, "2016-08-12", None),
    ]
    assert result.areas[AREA_ID].tolist()[:2] == ["arabic:الرقة#1", "arabic:منبج#1"]
    assert "of outline.geojson" in next(m for m in messages(result) if "control surface" in m)


def test_a_file_with_a_header_only_says_so(tmp_path):
    result = areas_from_points(write(tmp_path, HEADER), today=TODAY)
    assert result.areas.empty and result.rejected.empty
    assert result.report.errors[0].message == "towns.csv: no rows under the header"
    assert_balanced(result)


# --- names without coordinates --------------------------------------------------------------


def test_names_without_coordinates_are_placed_exactly_or_set_aside(tmp_path):
    path = write(
        tmp_path,
        "name,controller,date\n"
        + "Raqqa,Islamic State,2015-01-01\n"  # GeoNames Ar Raqqah
        + "Mosul,Islamic State,2015-01-01\n"  # GeoNames Mosul
        + "Sinjar,KRG,2015-01-01\n"  # a village in Syria and the town in Iraq
        + "Xyzzyville,SDF,2015-01-01\n"  # nowhere
        + "Jdeidet,SDF,2015-01-01\n",  # only a near spelling (Judaydat Yabus)
    )
    result = areas_from_points(path, today=TODAY)
    raqqa, mosul = cell(result, "Raqqa"), cell(result, "Mosul")
    assert raqqa.contains(shapely.Point(39.0079, 35.9528))
    assert mosul.contains(shapely.Point(43.1189, 36.3350))
    rejected = result.rejected.set_index(SOURCE_LINE)
    assert rejected["reason_kind"].to_dict() == {
        4: "place ambiguous",
        5: "place not found",
        6: "place found only by a near spelling",
    }
    assert "Sinjār (SY" in rejected.at[4, REJECT_REASON]
    assert "Sinjār (IQ" in rejected.at[4, REJECT_REASON]
    assert "not taken" in rejected.at[6, REJECT_REASON]
    assert "Judaydat Yābūs" in rejected.at[6, REJECT_REASON]
    assert any("placed by name in the gazetteer" in m for m in messages(result))
    assert_balanced(result)


def test_a_country_column_settles_a_name_found_in_two_countries(tmp_path):
    path = write(tmp_path, "name,country,controller,date\nSinjar,Iraq,KRG,2015-01-01\n")
    result = areas_from_points(path, today=TODAY)
    assert cell(result, "Sinjar").contains(shapely.Point(41.8766, 36.3209))


def test_a_name_given_coordinates_elsewhere_in_the_file_takes_them(tmp_path):
    path = write(
        tmp_path,
        HEADER + "Raqqa,39.0,35.95,Islamic State,2015-01-01\nRaqqa,,,SDF,2017-10-20\n",
    )
    result = areas_from_points(path, today=TODAY)
    # one locality, at the file's position: not a second one at GeoNames' a few 100 m off
    assert versions(result) == [
        ("Raqqa", ISLAMIC_STATE, "2015-01-01", "2017-10-20"),
        ("Raqqa", SDF, "2017-10-20", None),
    ]
    assert any("same locality name elsewhere in the file" in m for m in messages(result))


# --- refusals ------------------------------------------------------------------------------


def test_a_missing_column_is_named_with_the_columns_found(tmp_path):
    path = write(tmp_path, "town,lon,lat,date\nA,39,35,2015-01-01\n")
    with pytest.raises(SchemaError, match=r"no controller column .*'town', 'lon', 'lat', 'date'"):
        areas_from_points(path)
    with pytest.raises(SchemaError, match="no column 'who'"):
        areas_from_points(path, controller_field="who")


def test_a_bad_max_distance_is_refused(tmp_path):
    path = write(tmp_path, HEADER + "A,39.0,35.0,SDF,2015-01-01\n")
    for km in (0, -5, float("nan")):
        with pytest.raises(GeometryError, match="--max-distance"):
            areas_from_points(path, max_distance_km=km)


def test_a_workbook_is_refused_with_a_message(tmp_path):
    path = tmp_path / "towns.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\0" * 64)
    with pytest.raises(InputFileError, match="CSV"):
        areas_from_points(path)


def test_progress_is_reported_step_by_step(tmp_path):
    seen: list[tuple[int, int]] = []
    areas_from_points(
        write(tmp_path, RUNS),
        outline=box_outline(38, 34, 40.5, 36),
        today=TODAY,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert seen[-1][0] == seen[-1][1]


# --- real data ----------------------------------------------------------------------------


def test_ocha_subdistrict_points_tile_syria(tmp_path, shared_data):
    """The 272 OCHA sub-district label points of Syria, each given a controller: the cells
    and the No-information ground cover the outline, without overlaps, and no cell reaches
    farther than 25 km from its point."""
    source = pd.read_csv(shared_data / "syria_ocha_cod_adm3_centroids_ar_en.csv")
    sides = [SYRIAN_GOVERNMENT, SDF, ISLAMIC_STATE, IRAQI_GOVERNMENT]
    table = pd.DataFrame(
        {
            "name": source["admin3Name_en"],
            "longitude": source["POINT_X"],
            "latitude": source["POINT_Y"],
            "controller": [sides[i % 4] for i in range(len(source))],
            "date": "01/06/2017",
        }
    )
    path = tmp_path / "ocha.csv"
    table.to_csv(path, index=False)
    result = areas_from_points(path, today=TODAY)
    assert_balanced(result)
    assert result.report.rows_in == 272
    # the coarse bundled border puts a few points outside Syria: kept when their cell
    # still reaches into it, else set aside for having no ground there
    assert len(result.rejected) <= 3
    assert set(result.rejected["reason_kind"]) <= {"no ground inside the outline"}
    named = result.areas[result.areas[CONTROLLER] != NO_INFORMATION]
    assert len(named) == 272 - len(result.rejected)
    syria = countries("Syria").geometry.iloc[0]
    cells = np.asarray(named.geometry.array)
    gap = no_information(result).geometry.iloc[0]
    union = shapely.union_all([*cells, gap])
    assert area_km2([union.symmetric_difference(syria)])[0] < 1e-4 * area_km2([syria])[0]
    assert area_km2(cells).sum() + area_km2([gap])[0] == pytest.approx(
        area_km2([syria])[0], rel=1e-4
    )
    farthest = 0.0
    for row, geom in zip(named[AREA_FEATURE], cells, strict=True):
        x0, y0 = table.loc[row - 1, ["longitude", "latitude"]]  # the row starting the version
        xy = shapely.get_coordinates(geom)
        _, _, metres = GEOD.inv(np.full(len(xy), x0), np.full(len(xy), y0), xy[:, 0], xy[:, 1])
        farthest = max(farthest, float(metres.max()))
    assert farthest <= 25_000 * 1.003


def test_a_disputed_date_ends_the_status_before_it(tmp_path):
    path = write(
        tmp_path,
        HEADER
        + "A,39.0,35.0,Islamic State,2015-01-01\n"
        + "A,39.0,35.0,Islamic State,2015-03-01\nA,39.0,35.0,SDF,2015-03-01\n"
        + "A,39.0,35.0,Islamic State,2015-06-01\n",
    )
    result = areas_from_points(path, outline=box_outline(38, 34, 40, 36), today=TODAY)
    assert versions(result) == [
        ("A", ISLAMIC_STATE, "2015-01-01", "2015-03-01"),
        ("A", ISLAMIC_STATE, "2015-06-01", None),
    ]
    assert_balanced(result)


def test_a_nameless_row_takes_a_namesakes_place_only_in_its_own_governorate(tmp_path):
    path = write(
        tmp_path,
        "name,longitude,latitude,governorate,controller,date\n"
        "Suran,37.0,36.6,Aleppo,Islamic State,2015-01-01\n"
        "Suran,,,Hama,Syrian government,2015-01-01\n"  # another Suran: not Aleppo's place
        "Suran,,,Aleppo,SDF,2016-01-01\n",  # Aleppo's Suran, a year later
    )
    result = areas_from_points(path, outline=box_outline(35, 34, 39, 37), today=TODAY)
    assert sorted((v[1], v[2], v[3]) for v in versions(result)) == [
        ("Islamic State", "2015-01-01", "2016-01-01"),
        ("SDF", "2016-01-01", None),
        ("Syrian government", "2015-01-01", None),
    ]
    # Hama's Suran is placed by the gazetteer (GeoNames' Suran of Hama), a locality of its
    # own: its ground does not hold Aleppo's Suran
    hama = result.areas[result.areas[CONTROLLER] == "Syrian government"].geometry.iloc[0]
    assert not hama.contains(shapely.Point(37.0, 36.6))
    assert hama.centroid.y < 35.5
    assert_balanced(result)


def test_a_workbook_town_list_with_status_words_and_sheet_rows(tmp_path):
    import datetime as dt

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["town", "lon", "lat", "held_by", "month"])
    sheet.append(["Raqqa", 39.0, 35.95, "ISIS", dt.datetime(2015, 3, 1)])
    sheet.append([None, None, None, None, None])
    sheet.append(["Deir ez-Zor airport", 40.17, 35.28, "Regime", "2015-03"])
    sheet.append(["Mosul", 43.13, 36.34, "Government", "Jul 2017"])
    sheet.append(["Kobani", 38.39, 36.89, "YPG", "2015-03"])
    path = tmp_path / "towns.xlsx"
    book.save(path)
    result = areas_from_points(path, today=TODAY)
    by_place = {v[0]: (v[1], v[2]) for v in versions(result)}
    assert by_place["Raqqa"] == (ISLAMIC_STATE, "2015-03-01")
    # "Regime"/"Government": the government of the locality's own country
    assert by_place["Deir ez-Zor airport"] == ("Syrian government", "2015-03-01")
    assert by_place["Mosul"] == ("Iraqi government", "2017-07-01")
    assert by_place["Kobani"] == ("YPG", "2015-03-01")  # no faithful equivalent: as written
    lines = dict(zip(result.areas["locality"], result.areas["source_line"], strict=True))
    assert lines["Deir ez-Zor airport"] == 4  # the row the spreadsheet shows
    assert_balanced(result)


def test_a_row_without_a_controller_ends_the_status_before_it(tmp_path):
    path = write(
        tmp_path,
        HEADER
        + "A,39.0,35.0,Islamic State,2015-01-01\n"
        + "A,39.0,35.0,,2015-03-01\n"  # no controller: set aside, and a break
        + "A,39.0,35.0,Islamic State,2015-06-01\n"
        + "A,39.0,35.0,,2015-06-01\n",  # beside a usable row of its date: no break
    )
    result = areas_from_points(path, outline=box_outline(38, 34, 40, 36), today=TODAY)
    assert versions(result) == [
        ("A", ISLAMIC_STATE, "2015-01-01", "2015-03-01"),
        ("A", ISLAMIC_STATE, "2015-06-01", None),
    ]
    assert result.rejected[AREA_FEATURE].tolist() == [2, 4]
    assert_balanced(result)
