"""Control areas from a table of status per administrative unit, joined to boundaries."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from cli_runner import run_cli
from shapely.geometry import Point, box

from dashboard import schema
from dashboard.areas import read_control_areas
from dashboard.areasources import combine_results, describe_sources
from dashboard.controltable import areas_from_table, boundary_levels
from dashboard.errors import SchemaError
from dashboard.spatial import join_events_to_areas

TODAY = date(2026, 1, 1)

# Four unit squares in two governorates. Two sub-districts share the name "Suran" (one in
# each governorate), as in Syria (Suran of A'zaz, Aleppo; Suran of Hama).
UNITS = [
    # name_en, name_ar, pcode, admin2, admin1, admin1 pcode, x
    ("Suran", "صوران", "SY020405", "A'zaz", "Aleppo", "SY02", 0),
    ("Ar-Raqqa", "الرقة", "SY110100", "Ar-Raqqa", "Ar-Raqqa", "SY11", 1),
    ("Suran", "صوران", "SY050101", "Hama", "Hama", "SY05", 2),
    ("Kisreh", "الكسرة", "SY090101", "Deir-ez-Zor", "Deir-ez-Zor", "SY09", 3),
]


@pytest.fixture()
def boundaries(tmp_path: Path) -> Path:
    frame = gpd.GeoDataFrame(
        {
            "admin3Name_en": [u[0] for u in UNITS],
            "admin3Name_ar": [u[1] for u in UNITS],
            "admin3Pcode": [u[2] for u in UNITS],
            "admin2Name_en": [u[3] for u in UNITS],
            "admin1Name_en": [u[4] for u in UNITS],
            "admin1Pcode": [u[5] for u in UNITS],
        },
        geometry=[box(u[6], 0, u[6] + 1, 1) for u in UNITS],
        crs="EPSG:4326",
    )
    path = tmp_path / "adm3.geojson"
    frame.to_file(path, driver="GeoJSON")
    return path


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_boundary_levels_of_ocha_and_hdx_fields() -> None:
    ocha = boundary_levels(["admin3Name_en", "admin3Name_ar", "admin3Pcode", "admin2Name_en",
                            "admin1Pcode", "admin3AltName1_en", "geometry"])  # fmt: skip
    assert ocha[3].code == "admin3Pcode"
    assert ocha[3].names[0] == "admin3Name_en"
    assert set(ocha[3].names) == {"admin3Name_en", "admin3Name_ar", "admin3AltName1_en"}
    assert ocha[1].code == "admin1Pcode" and ocha[1].names == ()
    hdx = boundary_levels(["ADM2_EN", "ADM2_AR", "ADM2_PCODE", "ADM1_EN", "Shape_Area"])
    assert hdx[2].code == "ADM2_PCODE" and hdx[2].names[0] == "ADM2_EN"


def test_spreadsheet_table_by_name_with_governorate_telling_namesakes_apart(
    tmp_path: Path, boundaries: Path
) -> None:
    # Saved by Excel on Windows: BOM, semicolons, day-first dates, a zero-width space pasted
    # from a web page, padded cells, CRLF line ends and a blank line at the end.
    table = write(
        tmp_path / "control.csv",
        "\ufeffGovernorate;Sub_Region;Control_Status;Last_Update\r\n"
        "Aleppo;\u200bSuran ;Anti-ISIS Opposition Groups;24/01/2014\r\n"
        "Hama;Suran;Regime;13/03/2014\r\n"
        "Ar-Raqqa;Ar Raqqah;ISIS;24/01/2014\r\n"
        "Deir-ez-Zor;الكسرة;ISIS;05/07/2014\r\n"
        ";;;\r\n",
    )
    got = areas_from_table(table, boundaries, today=TODAY)
    areas = got.areas.set_index("unit_code")
    assert areas.loc["SY020405", schema.CONTROLLER] == schema.SYRIAN_OPPOSITION
    assert areas.loc["SY050101", schema.CONTROLLER] == schema.SYRIAN_GOVERNMENT
    assert areas.loc["SY110100", schema.CONTROLLER] == schema.ISLAMIC_STATE
    assert areas.loc["SY090101", schema.CONTROLLER] == schema.ISLAMIC_STATE  # Arabic name
    assert areas.loc["SY050101", schema.VALID_FROM] == pd.Timestamp("2014-03-13")
    assert got.report.rows_in == 4 == got.report.rows_loaded + got.report.rows_rejected
    assert got.ledger.balanced and got.ledger.complete
    # the geometry is the unit's own square
    assert areas.loc["SY050101", "geometry"].equals(box(2, 0, 3, 1))
    # every version says where it comes from
    row = areas.loc["SY050101"]
    assert row[schema.AREA_KIND] == "table per unit"
    assert "control.csv row 2" in row[schema.AREA_PROVENANCE]
    assert "'Regime' as of 2014-03-13" in row[schema.AREA_PROVENANCE]
    assert "adm3.geojson" in row[schema.AREA_PROVENANCE]
    # the columns used are said
    said = " ".join(p.message for p in got.report.problems)
    assert "unit names from 'Sub_Region'" in said and "level 1 names from 'Governorate'" in said


def test_a_namesake_without_its_governorate_is_listed_with_candidates_never_guessed(
    tmp_path: Path, boundaries: Path
) -> None:
    table = write(
        tmp_path / "t.csv", "unit,status,date\nSuran,ISIS,2015-01-01\nKisreh,ISIS,2015-01-01\n"
    )
    got = areas_from_table(table, boundaries, today=TODAY)
    assert list(got.areas["unit_code"]) == ["SY090101"]
    assert len(got.rejected) == 1
    reason = got.rejected.iloc[0][schema.REJECT_REASON]
    assert "names 2 units" in reason
    assert "SY020405" in reason and "SY050101" in reason
    assert "--unit-match 'Suran=" in reason
    assert got.report.rows_in == 2 == got.report.rows_loaded + got.report.rows_rejected
    assert not got.ledger.complete
    assert "1 set aside" in got.ledger.sentence() and "rows of t.csv" in got.ledger.sentence()


def test_unmatched_spelling_lists_the_closest_units_and_unit_match_settles_it(
    tmp_path: Path, boundaries: Path
) -> None:
    text = "Governorate,Sub_Region,Control_Status,Last_Update\nDeir-ez-Zor,Kasra,ISIS,2014-07-03\n"
    table = write(tmp_path / "t.csv", text)
    got = areas_from_table(table, boundaries, today=TODAY)
    assert got.areas.empty
    reason = got.rejected.iloc[0][schema.REJECT_REASON]
    assert "'Kasra'" in reason and "matches no unit" in reason
    assert "closest: Kisreh SY090101" in reason
    assert "--unit-match 'Kasra=SY090101'" in reason
    assert got.rejected.iloc[0][schema.AREA_FEATURE] == 1

    fixed = areas_from_table(table, boundaries, unit_matches={"Kasra": "SY090101"}, today=TODAY)
    assert list(fixed.areas["unit_code"]) == ["SY090101"]
    with pytest.raises(SchemaError, match="no unit has the code 'SY999'"):
        areas_from_table(table, boundaries, unit_matches={"Kasra": "SY999"}, today=TODAY)


def test_governorate_written_after_a_namesake_is_read_as_its_parent(
    tmp_path: Path, boundaries: Path
) -> None:
    # OTI writes "Suran Aleppo" and "Suran Hama" to tell the two apart.
    text = "Governorate,Sub_Region,Control_Status,Last_Update\n" \
        "Aleppo,Suran Aleppo,ISIS,2015-06-05\nHama,Suran Hama,Regime,2014-01-24\n"  # fmt: skip
    got = areas_from_table(write(tmp_path / "t.csv", text), boundaries, today=TODAY)
    assert dict(zip(got.areas["unit_code"], got.areas[schema.CONTROLLER], strict=True)) == {
        "SY020405": schema.ISLAMIC_STATE,
        "SY050101": schema.SYRIAN_GOVERNMENT,
    }


def test_pcodes_join_directly_and_status_holds_until_the_next_row(
    tmp_path: Path, boundaries: Path
) -> None:
    text = (
        "pcode,control,as_of\n"
        "SY110100,ISIS,2014-01-24\n"
        "sy110100 ,ISIS,2014-06-01\n"  # same status again: one version, not two
        "SY110100,SDF,2017-10-20\n"
        "SY090101,Government,2017-11-03\n"  # Regime/Government: the unit's country's
        "SY999999,ISIS,2015-01-01\n"
    )
    got = areas_from_table(write(tmp_path / "t.csv", text), boundaries, today=TODAY)
    raqqa = got.areas[got.areas["unit_code"] == "SY110100"].sort_values(schema.VALID_FROM)
    assert list(raqqa[schema.CONTROLLER]) == [schema.ISLAMIC_STATE, schema.SDF]
    assert list(raqqa[schema.VALID_FROM]) == [
        pd.Timestamp("2014-01-24"),
        pd.Timestamp("2017-10-20"),
    ]
    assert raqqa[schema.VALID_TO].iloc[0] == pd.Timestamp("2017-10-20")
    assert pd.isna(raqqa[schema.VALID_TO].iloc[1])
    kisreh = got.areas[got.areas["unit_code"] == "SY090101"]
    assert kisreh[schema.CONTROLLER].tolist() == [schema.SYRIAN_GOVERNMENT]
    assert got.rejected[schema.AREA_FEATURE].tolist() == [5]
    assert "'SY999999' matches no unit" in got.rejected.iloc[0][schema.REJECT_REASON]
    assert got.report.rows_in == 5 == got.report.rows_loaded + got.report.rows_rejected

    # the join: an event in Raqqa's square gets the status valid on its date
    events = gpd.GeoDataFrame(
        {schema.EVENT_ID: ["a", "b", "c"],
         schema.EVENT_DATE: pd.to_datetime(["2013-06-01", "2015-06-01", "2018-01-01"])},
        geometry=[Point(1.5, 0.5)] * 3, crs="EPSG:4326",
    )  # fmt: skip
    joined = join_events_to_areas(events, got.areas).set_index(schema.EVENT_ID)
    assert joined.loc["b", schema.CONTROLLER] == schema.ISLAMIC_STATE
    assert joined.loc["c", schema.CONTROLLER] == schema.SDF
    assert joined.loc["a", schema.CONTROLLER] != schema.ISLAMIC_STATE  # before its first row


def test_two_statuses_on_one_date_bad_dates_and_unknown_statuses(
    tmp_path: Path, boundaries: Path
) -> None:
    text = (
        "pcode,status,date\n"
        "SY110100,ISIS,2014-01-24\n"
        "SY110100,Kurdish,2014-01-24\n"  # clash: both set aside
        "SY090101,JAN,2014-02-01\n"  # unknown: kept as written, listed
        "SY050101,ISIS,not a date\n"
        "SY020405,ISIS,2202-02-02\n"  # typo: after today
        "SY020405,,2014-01-01\n"  # no status
    )
    got = areas_from_table(write(tmp_path / "t.csv", text), boundaries, today=TODAY)
    kinds = dict(zip(got.rejected[schema.AREA_FEATURE], got.rejected["reason_kind"], strict=True))
    assert kinds == {
        1: "two statuses on one date",
        2: "two statuses on one date",
        4: "date missing or unreadable",
        5: "date missing or unreadable",
        6: "status missing",
    }
    assert got.areas[schema.CONTROLLER].tolist() == ["JAN"]
    said = " ".join(p.message for p in got.report.problems)
    assert "'JAN' (1 rows)" in said and "--rename-controller" in said
    renamed = areas_from_table(
        write(tmp_path / "t.csv", text), boundaries, controller_names={"JAN": "Nusra"}, today=TODAY
    )
    assert renamed.areas[schema.CONTROLLER].tolist() == ["Nusra"]
    assert got.report.rows_in == 6 == got.report.rows_loaded + got.report.rows_rejected


def test_cp1256_arabic_table(tmp_path: Path, boundaries: Path) -> None:
    text = "المحافظة,الناحية,الحالة,التاريخ\nالرقة,الرقة,ISIS,2014-01-24\n"
    table = write(tmp_path / "ar.csv", text, encoding="cp1256")
    got = areas_from_table(
        table, boundaries, unit_field="الناحية", controller_field="الحالة", date_field="التاريخ",
        today=TODAY,
    )  # fmt: skip
    assert got.areas["unit_code"].tolist() == ["SY110100"]


def test_missing_columns_name_the_option(tmp_path: Path, boundaries: Path) -> None:
    with pytest.raises(SchemaError, match="--date-field"):
        areas_from_table(write(tmp_path / "t.csv", "unit,status\nSuran,ISIS\n"), boundaries)
    with pytest.raises(SchemaError, match="--controller-field"):
        areas_from_table(write(tmp_path / "t.csv", "unit,date\nSuran,2014-01-01\n"), boundaries)
    with pytest.raises(SchemaError, match="--unit-field"):
        areas_from_table(
            write(tmp_path / "t.csv", "col_a,status,date\nNowhere,ISIS,2014-01-01\n"), boundaries
        )


def test_combined_with_polygon_files_each_version_keeps_its_source(
    tmp_path: Path, boundaries: Path
) -> None:
    poly = gpd.GeoDataFrame(
        {"controller": ["Islamic State"], "valid_from": ["2015-01-01"]},
        geometry=[box(10, 10, 11, 11)], crs="EPSG:4326",
    )  # fmt: skip
    poly_path = tmp_path / "front.geojson"
    poly.to_file(poly_path, driver="GeoJSON")
    text = "pcode,status,date\nSY110100,ISIS,2014-01-24\nSY000,ISIS,2014-01-24\n"
    table = areas_from_table(write(tmp_path / "t.csv", text), boundaries, today=TODAY)
    both = combine_results([read_control_areas([poly_path]), table])
    assert both.ledger.features_in == 3 and both.ledger.set_aside == 1 and both.ledger.balanced
    assert both.areas[schema.AREA_PROVENANCE].tolist()[0] == "front.geojson feature 1"
    assert describe_sources(both.areas) == [
        "front.geojson: control polygons, 1 versions, 2015-01-01",
        "t.csv: status per administrative unit, 1 versions, 2014-01-24",
    ]


def test_real_oti_subdistrict_table_on_ocha_boundaries(shared_data: Path) -> None:
    got = areas_from_table(
        shared_data / "oti_syria_subdistrict_control_2014_2015.csv",
        shared_data / "syria_ocha_cod_adm3_20201217.geojson",
    )
    assert got.report.rows_in == 149 == got.report.rows_loaded + got.report.rows_rejected
    # 120 of 149 match by name (after the governorate's name written after a namesake);
    # the other 29 are spelled unlike OCHA ("Sosa" for Susat) and are listed, not guessed.
    assert got.report.rows_loaded == 120
    assert set(got.rejected["reason_kind"]) == {"unit not matched"}
    assert all("--unit-match" in r for r in got.rejected[schema.REJECT_REASON])
    by_unit = got.areas.set_index("unit_code")
    # Ar-Raqqa governorate, 2014: the Islamic State held Raqqa, Ath-Thawrah (Tabqa) and
    # Maadan; Tell Abiad fell to the YPG in June 2015.
    for code in ("SY110100", "SY110300", "SY110103"):
        assert by_unit.loc[code, schema.CONTROLLER] == schema.ISLAMIC_STATE
    assert by_unit.loc["SY110200", schema.CONTROLLER] == "Kurdish"
    assert by_unit.loc["SY110200", schema.VALID_FROM] == pd.Timestamp("2015-06-19")
    # Abu Kamal sub-district (Deir-ez-Zor): Islamic State from July 2014
    assert by_unit.loc["SY090200", schema.CONTROLLER] == schema.ISLAMIC_STATE
    # Lattakia city: the government
    assert by_unit.loc["SY060000", schema.CONTROLLER] == schema.SYRIAN_GOVERNMENT
    # no unit is matched twice
    assert got.areas["unit_code"].is_unique
    # "Kwers Sharqi" is OCHA's "Eastern Kwaires": listed first among the candidates (the
    # direction word read in both languages), and still not taken without --unit-match
    kwers = got.rejected[got.rejected[schema.REJECT_REASON].str.contains("Kwers Sharqi")]
    assert "closest: Eastern Kwaires" in kwers[schema.REJECT_REASON].iloc[0]


def test_cli_build_with_a_table_and_its_boundaries(tmp_path: Path, boundaries: Path) -> None:
    table = write(
        tmp_path / "control.csv",
        "pcode,status,date\nSY110100,ISIS,2014-01-24\nSY0,ISIS,2014-01-24\n",
    )
    events = write(
        tmp_path / "events.csv",
        "event_id,event_date,latitude,longitude,event_type,country\n"
        "e1,2015-01-01,0.5,1.5,Battles,Syria\n",
    )
    out = tmp_path / "out.parquet"
    done = run_cli("build", str(events), "--areas-table", str(table), "--boundaries",
                   str(boundaries), "-o", str(out), "--json")  # fmt: skip
    summary = json.loads(done.stdout)
    assert done.returncode == 1, done.stderr  # a table row set aside
    assert summary["controllers"] == {schema.ISLAMIC_STATE: 1}
    assert summary["area_sources"] == [
        "control.csv: status per administrative unit, 1 versions, 2014-01-24"
    ]
    assert summary["control_areas"]["features_in"] == 2
    rejected = pd.read_csv(tmp_path / "out.rejected-areas.csv")
    assert rejected["reason"].str.contains("'SY0' matches no unit").all()
    built = gpd.read_parquet(out)
    assert built[schema.CONTROLLER].tolist() == [schema.ISLAMIC_STATE]

    alone = run_cli("build", str(events), "--areas-table", str(table), "-o", str(out))
    assert alone.returncode == 2
    assert "--areas-table needs --boundaries" in alone.stderr
    assert "Traceback" not in alone.stderr


def test_control_history_names_the_table_rows_behind_each_span(
    tmp_path: Path, boundaries: Path
) -> None:
    from dashboard.history import control_history

    text = "pcode,status,date\nSY110100,ISIS,2014-01-24\nSY110100,SDF,2017-10-20\n"
    got = areas_from_table(write(tmp_path / "t.csv", text), boundaries, today=TODAY)
    history = control_history(got.areas, 0.5, 1.5)
    held = [(s.controller, s.sources) for s in history.spans]
    assert held[0][0] == schema.ISLAMIC_STATE
    assert held[0][1][0].startswith("t.csv row 1: SY110100 'ISIS' as of 2014-01-24; ground: ")
    assert held[1][0] == schema.SDF and "t.csv row 2" in held[1][1][0]
    assert "t.csv row 2" in history.span_table()["sources"].iloc[1]


def test_a_name_whose_governorate_disagrees_is_set_aside_not_moved(
    tmp_path: Path, boundaries: Path
) -> None:
    # "Kisreh" is in Deir-ez-Zor; a row placing it in Hama (a governorate the boundaries
    # know) contradicts itself: which of the two is right is not guessed.
    text = "Governorate,Sub_Region,Control_Status,Last_Update\n" \
        "Hama,Kisreh,ISIS,2014-07-03\nAr-Raqqa,Ar-Raqqa,ISIS,2014-01-24\n"  # fmt: skip
    got = areas_from_table(write(tmp_path / "t.csv", text), boundaries, today=TODAY)
    assert got.areas["unit_code"].tolist() == ["SY110100"]
    reason = got.rejected.iloc[0][schema.REJECT_REASON]
    assert "'Kisreh' (Hama)" in reason and "matches no unit" in reason
    # a parent the boundaries do not know (another spelling of a district) narrows nothing
    text = "Region,Sub_Region,Control_Status,Last_Update\nDayr al Zawr District,Kisreh,ISIS,2014-07-03\n"
    got = areas_from_table(
        write(tmp_path / "u.csv", text), boundaries, unit_field="Sub_Region", today=TODAY
    )
    assert got.areas["unit_code"].tolist() == ["SY090101"]


def test_a_disputed_row_ends_the_status_before_it(tmp_path: Path, boundaries: Path) -> None:
    text = (
        "pcode,status,date\n"
        "SY090101,ISIS,2015-01-01\n"
        "SY090101,ISIS,2015-03-01\n"  # two statuses on 1 March: both set aside
        "SY090101,SDF,2015-03-01\n"
        "SY090101,,2015-04-01\n"  # no status
        "SY090101,ISIS,2015-06-01\n"
    )
    got = areas_from_table(write(tmp_path / "t.csv", text), boundaries, today=TODAY)
    spans = [
        (r[schema.CONTROLLER], str(r[schema.VALID_FROM].date()), r[schema.VALID_TO])
        for _, r in got.areas.sort_values(schema.VALID_FROM).iterrows()
    ]
    # Islamic State until the dispute, nothing said from 1 March to 1 June, then again
    assert spans[0][:2] == (schema.ISLAMIC_STATE, "2015-01-01")
    assert spans[0][2] == pd.Timestamp("2015-03-01")
    assert spans[1][:2] == (schema.ISLAMIC_STATE, "2015-06-01") and pd.isna(spans[1][2])
    assert len(spans) == 2
    assert got.report.rows_in == 5 == got.report.rows_loaded + got.report.rows_rejected


def test_a_unit_drawn_in_parts_keeps_all_its_ground(tmp_path: Path) -> None:
    parts = gpd.GeoDataFrame(
        {"admin3Name_en": ["Island", "Island", "Coast"], "admin3Pcode": ["SY01", "SY01", "SY02"]},
        geometry=[box(0, 0, 1, 1), box(5, 5, 6, 6), box(1, 0, 2, 1)],
        crs="EPSG:4326",
    )
    path = tmp_path / "parts.geojson"
    parts.to_file(path, driver="GeoJSON")
    for text in (
        "pcode,status,date\nSY01,ISIS,2015-01-01\n",
        "name,status,date\nIsland,ISIS,2015-01-01\n",
    ):
        got = areas_from_table(write(tmp_path / "t.csv", text), path, today=TODAY)
        assert got.areas["unit_code"].tolist() == ["SY01"]
        assert got.areas.geometry.iloc[0].area == pytest.approx(2.0)
        assert any("joined into one unit" in p.message for p in got.report.problems)


def test_a_stale_code_falls_back_to_the_name_and_unit_match_takes_codes(
    tmp_path: Path, boundaries: Path
) -> None:
    text = (
        "pcode,name,status,date\n"
        "SY110100,Ar-Raqqa,ISIS,2014-01-24\n"
        "SY090101,Kisreh,ISIS,2014-07-03\n"
        "SY0901,Kisreh,SDF,2017-09-01\n"  # a stale code: the name says which unit
        "SY9,Nowhere,ISIS,2014-01-01\n"
    )
    table = write(tmp_path / "t.csv", text)
    got = areas_from_table(table, boundaries, today=TODAY)
    kisreh = got.areas[got.areas["unit_code"] == "SY090101"]
    assert kisreh[schema.CONTROLLER].tolist() == [schema.ISLAMIC_STATE, schema.SDF]
    assert got.rejected[schema.AREA_FEATURE].tolist() == [4]
    assert "--unit-match 'Nowhere=" in got.rejected[schema.REJECT_REASON].iloc[0]
    fixed = areas_from_table(table, boundaries, unit_matches={"SY9": "SY050101"}, today=TODAY)
    assert "SY050101" in set(fixed.areas["unit_code"]) and fixed.rejected.empty


def test_monthly_dates(tmp_path: Path, boundaries: Path) -> None:
    text = (
        "pcode,status,month\nSY110100,ISIS,2014-01\nSY090101,ISIS,Mar 2015\nSY050101,Regime,junk\n"
    )
    got = areas_from_table(write(tmp_path / "t.csv", text), boundaries, today=TODAY)
    starts = dict(zip(got.areas["unit_code"], got.areas[schema.VALID_FROM], strict=True))
    assert starts == {
        "SY110100": pd.Timestamp("2014-01-01"),
        "SY090101": pd.Timestamp("2015-03-01"),
    }
    reason = got.rejected.iloc[0][schema.REJECT_REASON]
    assert "'junk' is not a date" in reason and "--date-format" not in reason


def test_unit_matches_file_with_or_without_a_header_and_unused_matches_said(
    tmp_path: Path, boundaries: Path
) -> None:
    import click

    from dashboard.cli.options import unit_matches

    with_header = write(tmp_path / "m1.csv", "name,pcode\nKasra,SY090101\n")
    without = write(tmp_path / "m2.csv", "Kasra;SY090101\nSosa;SY090203\n")
    assert unit_matches((), str(with_header)) == {"Kasra": "SY090101"}
    assert unit_matches(("Sosa=SY000",), str(without)) == {"Kasra": "SY090101", "Sosa": "SY000"}
    with pytest.raises(click.BadParameter, match="rows 2 lack a name or a P-code"):
        unit_matches((), str(write(tmp_path / "m3.csv", "name,pcode\nKasra,SY090101\nSosa,\n")))

    text = "Governorate,Sub_Region,Control_Status,Last_Update\nDeir-ez-Zor,Kasra,ISIS,2014-07-03\n"
    got = areas_from_table(
        write(tmp_path / "t.csv", text), boundaries,
        unit_matches={"Kasra": "SY090101", "Sosa": "SY090101"}, today=TODAY,
    )  # fmt: skip
    said = " ".join(p.message for p in got.report.problems)
    assert "--unit-match names no row of the table: 'Sosa'" in said


def test_outline_without_a_town_list_is_one_line(tmp_path: Path, boundaries: Path) -> None:
    events = write(
        tmp_path / "e.csv", "event_id,event_date,latitude,longitude\ne1,2015-01-01,0.5,1.5\n"
    )
    done = run_cli(
        "build", str(events), "--outline", str(boundaries), "-o", str(tmp_path / "o.parquet")
    )
    assert done.returncode == 2
    assert "--outline bounds the ground of a town list: it needs --areas-points" in done.stderr
    assert "unexpected" not in done.stderr


def test_an_excel_workbook_is_read_from_its_first_sheet_with_data(
    tmp_path: Path, boundaries: Path
) -> None:
    import datetime as dt

    import openpyxl

    book = openpyxl.Workbook()
    book.active.title = "Notes"  # an empty first sheet, as analysts leave them
    sheet = book.create_sheet("Control")
    sheet.append(["Governorate", "Sub_Region", "Control_Status", "Last_Update"])
    sheet.append(["Ar-Raqqa", "Ar-Raqqa", "ISIS", dt.datetime(2014, 1, 24)])  # a date cell
    sheet.append([None, None, None, None])
    sheet.append(["Deir-ez-Zor", "Kisreh", "Regime", "13/03/2014"])  # a text cell
    sheet.append(["Deir-ez-Zor", "Nowhere", "ISIS", "2014-01-01"])
    path = tmp_path / "control.xlsx"
    book.save(path)
    got = areas_from_table(path, boundaries, today=TODAY)
    starts = dict(zip(got.areas["unit_code"], got.areas[schema.VALID_FROM], strict=True))
    assert starts == {
        "SY110100": pd.Timestamp("2014-01-24"),
        "SY090101": pd.Timestamp("2014-03-13"),
    }
    assert set(got.areas[schema.CONTROLLER]) == {schema.ISLAMIC_STATE, schema.SYRIAN_GOVERNMENT}
    assert got.report.rows_in == 3 and got.rejected[schema.AREA_FEATURE].tolist() == [3]
    said = " ".join(p.message for p in got.report.problems)
    assert "read sheet 'Control' (the first with data); not read: 'Notes'" in said
