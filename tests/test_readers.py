"""Event readers: formats, encodings, delimiters, ragged rows, mappings.

Every fixture is written into tmp_path from the literals below, so each answer can be
checked by eye. Each test also checks the reader's ledger: rows_in = frame + set aside.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
from pathlib import Path

import pandas as pd
import pytest

from dashboard import schema
from dashboard.errors import EncodingDetectionError, InputFileError, SchemaError
from dashboard.readers import (
    ReadResult,
    detect_format,
    load_mapping,
    parse_map_options,
    read_events,
)
from dashboard.report import ERROR, WARNING

# --- helpers -------------------------------------------------------------------------------


def write(tmp_path: Path, text: str, *, name: str = "events.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def to_csv(columns: tuple[str, ...], rows: list[dict[str, str]], *, delimiter: str = ",") -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return out.getvalue()


def read(path: Path, **kwargs) -> ReadResult:
    result = read_events(path, **kwargs)
    assert result.rows_in == len(result.frame) + len(result.set_aside)
    return result


def messages(result: ReadResult, severity: str | None = None) -> list[str]:
    return [p.message for p in result.problems if severity in (None, p.severity)]


ACLED_ROW = {
    "event_id_cnty": "SYR1",
    "event_date": "2017-11-09",
    "year": "2017",
    "time_precision": "1",
    "disorder_type": "Political violence",
    "event_type": "Battles",
    "sub_event_type": "Armed clash",
    "actor1": "Military Forces of Syria (2000-)",
    "inter1": "1",
    "actor2": "Islamic State (Syria)",
    "inter2": "2",
    "interaction": "12",
    "iso": "760",
    "region": "Middle East",
    "country": "Syria",
    "admin1": "Aleppo",
    "admin2": "Jebel Saman",
    "location": "Aleppo",
    "latitude": "36.2021",
    "longitude": "37.1343",
    "geo_precision": "1",
    "source": "SANA",
    "notes": "clashes, 2 killed",
    "fatalities": "2",
    "timestamp": "1600000000",
}

UCDP_ROW = {
    "id": "100",
    "relid": "SYR-2017-1-100",
    "year": "2017",
    "active_year": "1",
    "code_status": "Clear",
    "type_of_violence": "1",
    "conflict_dset_id": "299",
    "conflict_new_id": "299",
    "conflict_name": "Syria: Government",
    "dyad_dset_id": "11111",
    "dyad_new_id": "11111",
    "dyad_name": "Government of Syria - IS",
    "side_a_dset_id": "120",
    "side_a_new_id": "120",
    "side_a": "Government of Syria",
    "side_b_dset_id": "234",
    "side_b_new_id": "234",
    "side_b": "IS",
    "number_of_sources": "1",
    "source_article": "Reuters 2017-11-10",
    "where_prec": "4",
    "where_coordinates": "Aleppo governorate",
    "where_description": "Aleppo governorate",
    "adm_1": "Aleppo governorate",
    "latitude": "36.2",
    "longitude": "37.1",
    "geom_wkt": "POINT (37.1 36.2)",
    "priogrid_gid": "180354",
    "country": "Syria",
    "country_id": "652",
    "region": "Middle East",
    "event_clarity": "1",
    "date_prec": "3",
    "date_start": "2017-11-06 00:00:00.000",
    "date_end": "2017-11-12 00:00:00.000",
    "deaths_a": "1",
    "deaths_b": "3",
    "deaths_civilians": "1",
    "deaths_unknown": "0",
    "best": "5",
    "low": "4",
    "high": "7",
    "gwnoa": "652",
}


# --- canonical -----------------------------------------------------------------------------


def test_canonical_values_stay_text_with_explicit_na(tmp_path):
    path = write(
        tmp_path,
        "event_id,event_date,latitude,longitude,actor1,admin1\n"
        "0123,2017-11-09,36.2,37.1,NA,NULL\n"
        "0124,2017-11-10,36.3,37.2,,n/a\n",
    )
    result = read(path)
    assert result.format == "canonical"
    assert result.encoding == "utf-8"
    assert result.delimiter == ","
    assert result.rows_in == 2
    frame = result.frame
    assert frame[schema.EVENT_ID].tolist() == ["0123", "0124"]  # leading zero kept
    assert frame[schema.LATITUDE].tolist() == ["36.2", "36.3"]  # still text
    assert frame[schema.ACTOR1].iloc[0] == "NA"  # "NA" is real text
    assert frame[schema.ACTOR1].isna().tolist() == [False, True]
    assert frame[schema.ADMIN1].isna().all()  # NULL and n/a are in schema.NA_VALUES
    assert frame[schema.SOURCE_ROW].tolist() == [1, 2]
    assert result.set_aside.empty


def test_header_names_are_cleaned_and_duplicates_renamed(tmp_path):
    path = write(
        tmp_path,
        " Event_ID ,event_date,Latitude,longitude,notes,notes,\n"
        "a1,2017-11-09,36.2,37.1,first,second,x\n",
    )
    result = read(path)
    assert list(result.frame.columns[:7]) == [
        "event_id", "event_date", "latitude", "longitude", "notes", "notes.1", "column_7"
    ]  # fmt: skip
    warnings = messages(result, WARNING)
    assert any("appears twice" in m for m in warnings)
    assert any("column 7 has no name" in m for m in warnings)


def test_a_file_column_named_like_ours_is_renamed(tmp_path):
    path = write(tmp_path, "event_id,source_row,reject_reason\na1,17,old reason\n")
    result = read(path)
    assert result.frame["file_source_row"].tolist() == ["17"]
    assert result.frame["file_reject_reason"].tolist() == ["old reason"]
    assert result.frame[schema.SOURCE_ROW].tolist() == [1]


# --- format detection ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (schema.ACLED_COLUMNS, "acled"),
        (schema.ACLED_PRE2023_COLUMNS, "acled"),
        (schema.UCDP_GED_COLUMNS, "ucdp"),
        (("event_id", "event_date", "latitude", "longitude"), "canonical"),
        (("id", "date", "lat", "lon"), "canonical"),  # validation names what is missing
        (("\ufeffEVENT_ID_CNTY ", "Event_Date"), "acled"),
    ],
)
def test_detect_format(columns, expected):
    assert detect_format(columns) == expected


def test_detect_format_refuses_an_empty_header():
    with pytest.raises(SchemaError, match="no column names"):
        detect_format(["", " "])


# --- ACLED ---------------------------------------------------------------------------------


def test_acled_current_layout(tmp_path):
    path = write(tmp_path, to_csv(schema.ACLED_COLUMNS, [ACLED_ROW]))
    result = read(path)
    assert result.format == "acled"
    row = result.frame.iloc[0]
    assert row[schema.EVENT_ID] == "SYR1"
    assert schema.ACLED_ID not in result.frame.columns
    assert row["inter1"] == "1" and row["interaction"] == "12"  # codes kept as text
    assert row["disorder_type"] == "Political violence"  # extra columns kept
    assert row[schema.NOTES] == "clashes, 2 killed"


def test_acled_pre2023_layout(tmp_path):
    row = {**ACLED_ROW, "data_id": "7001", "event_id_no_cnty": "1", "iso3": "SYR"}
    path = write(tmp_path, to_csv(schema.ACLED_PRE2023_COLUMNS, [row]))
    result = read(path)
    assert result.format == "acled"
    assert result.frame[schema.EVENT_ID].tolist() == ["SYR1"]
    assert result.frame["data_id"].tolist() == ["7001"]
    assert result.frame["iso3"].tolist() == ["SYR"]


def test_acled_interaction_codes_as_text_are_kept(tmp_path):
    # ACLED exports since 2023 spell inter1/inter2/interaction out instead of numbering them
    row = {
        **ACLED_ROW,
        "inter1": "State forces",
        "inter2": "Rebel group",
        "interaction": "State forces-Rebel group",
    }
    result = read(write(tmp_path, to_csv(schema.ACLED_COLUMNS, [row])))
    got = result.frame.iloc[0]
    assert (got["inter1"], got["inter2"]) == ("State forces", "Rebel group")
    assert got["interaction"] == "State forces-Rebel group"
    assert not [p for p in result.problems if p.severity == ERROR]


@pytest.mark.parametrize("date", ["2017-11-09", "09 November 2017", "09-11-2017"])
def test_acled_date_forms_are_read_as_text(tmp_path, date):
    path = write(tmp_path, to_csv(schema.ACLED_COLUMNS, [{**ACLED_ROW, "event_date": date}]))
    assert read(path).frame[schema.EVENT_DATE].tolist() == [date]


def test_acled_duplicates_keep_the_newest_timestamp(tmp_path):
    rows = [
        {**ACLED_ROW, "event_id_cnty": "SYR1", "timestamp": "1600000000", "fatalities": "1"},
        {**ACLED_ROW, "event_id_cnty": "SYR1", "timestamp": "1700000000", "fatalities": "3"},
        {**ACLED_ROW, "event_id_cnty": "SYR2", "timestamp": "1600000000"},
        {**ACLED_ROW, "event_id_cnty": "SYR1", "timestamp": "1650000000", "fatalities": "2"},
    ]
    result = read(write(tmp_path, to_csv(schema.ACLED_COLUMNS, rows)))
    assert result.rows_in == 4
    assert result.frame[schema.SOURCE_ROW].tolist() == [2, 3]
    assert result.frame[schema.FATALITIES].tolist() == ["3", "2"]  # SYR1 v2, then SYR2
    aside = result.set_aside
    assert aside[schema.SOURCE_ROW].tolist() == [1, 4]
    expected = "superseded by a newer version (timestamp 1700000000, row 2) of event SYR1"
    assert aside[schema.REJECT_REASON].tolist() == [expected, expected]
    warnings = [p for p in result.problems if p.severity == WARNING and p.row in (1, 4)]
    assert [p.message for p in warnings] == [expected, expected]
    assert not [p for p in result.problems if p.severity == ERROR]


def test_acled_duplicates_with_equal_timestamps_keep_the_first_row(tmp_path):
    rows = [{**ACLED_ROW, "notes": "first"}, {**ACLED_ROW, "notes": "second"}]
    result = read(write(tmp_path, to_csv(schema.ACLED_COLUMNS, rows)))
    assert result.frame[schema.NOTES].tolist() == ["first"]
    assert "same or no timestamp" in result.set_aside[schema.REJECT_REASON].iloc[0]


# --- UCDP GED ------------------------------------------------------------------------------


def _check_ucdp_row(frame: pd.DataFrame) -> None:
    row = frame.iloc[0]
    assert row[schema.EVENT_ID] == "100"
    assert row[schema.ACTOR1] == "Government of Syria"
    assert row[schema.ACTOR2] == "IS"
    assert row[schema.ADMIN1] == "Aleppo governorate"
    assert pd.isna(row[schema.ADMIN2])
    assert row[schema.LOCATION] == "Aleppo governorate"
    assert row[schema.FATALITIES] == "5"
    assert row[schema.FATALITIES_LOW] == "4"
    assert row[schema.FATALITIES_HIGH] == "7"
    assert row[schema.EVENT_TYPE] == "State-based conflict"
    assert row[schema.UCDP_TYPE_OF_VIOLENCE] == "1"
    assert row[schema.SOURCE] == "Reuters 2017-11-10"
    assert row[schema.UCDP_WHERE_PREC] == "4"
    assert row[schema.GEO_PRECISION] == "3"  # where_prec 4 (admin-1 unit) -> 3
    assert row[schema.UCDP_DATE_PREC] == "3"
    assert row[schema.TIME_PRECISION] == "2"  # date_prec 3 (the week) -> 2
    assert row[schema.DATE_START] == "2017-11-06 00:00:00.000"
    assert row[schema.GEO_PRECISION] == "3"
    assert row["geom_wkt"] == "POINT (37.1 36.2)"


def test_ucdp_with_header(tmp_path):
    result = read(write(tmp_path, to_csv(schema.UCDP_GED_COLUMNS, [UCDP_ROW])))
    assert result.format == "ucdp"
    _check_ucdp_row(result.frame)
    assert result.frame[schema.SOURCE_ROW].tolist() == [1]


def test_ucdp_without_header(tmp_path):
    text = to_csv(schema.UCDP_GED_COLUMNS, [UCDP_ROW, {**UCDP_ROW, "id": "101"}])
    headerless = text.split("\n", 1)[1]
    result = read(write(tmp_path, headerless))
    assert result.format == "ucdp"
    assert result.rows_in == 2
    _check_ucdp_row(result.frame)
    assert result.frame[schema.SOURCE_ROW].tolist() == [1, 2]  # the first line is data
    assert any("no header row" in m for m in messages(result, WARNING))


@pytest.mark.parametrize(
    ("violence", "text"),
    [("1", "State-based conflict"), ("2", "Non-state conflict"), ("3", "One-sided violence")],
)
def test_ucdp_type_of_violence_becomes_text(tmp_path, violence, text):
    row = {**UCDP_ROW, "type_of_violence": violence}
    result = read(write(tmp_path, to_csv(schema.UCDP_GED_COLUMNS, [row])))
    assert result.frame[schema.EVENT_TYPE].tolist() == [text]


def test_ucdp_unknown_code_warns_and_leaves_precision_empty(tmp_path):
    row = {**UCDP_ROW, "where_prec": "9"}
    result = read(write(tmp_path, to_csv(schema.UCDP_GED_COLUMNS, [row])))
    assert result.frame[schema.GEO_PRECISION].isna().all()
    assert result.frame[schema.UCDP_WHERE_PREC].tolist() == ["9"]
    problem = next(p for p in result.problems if p.column == schema.UCDP_WHERE_PREC)
    assert (problem.row, problem.value, problem.severity) == (1, "9", WARNING)
    assert "not a UCDP code" in problem.message


# --- mapped --------------------------------------------------------------------------------

MAPPED_CSV = "id;day;lat;lon;place\nx7;2017-11-09;36,2;37,1;Aleppo\n"


def test_mapped_through_map_options(tmp_path):
    mapping = parse_map_options(["id=event_id", "day=date_start", "lat=latitude", "lon=longitude"])
    assert mapping == {"id": "event_id", "day": "date_start", "lat": "latitude", "lon": "longitude"}
    result = read(write(tmp_path, MAPPED_CSV), mapping=mapping)
    assert result.format == "mapped"
    assert result.delimiter == ";"
    assert list(result.frame.columns) == [
        "event_id", "date_start", "latitude", "longitude", "place", schema.SOURCE_ROW
    ]  # fmt: skip
    assert result.frame[schema.LATITUDE].tolist() == ["36,2"]  # validation reads the comma


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "map.yaml",
            "columns:\n  id: event_id\n  day: date_start\n  lat: latitude\n  lon: longitude\n",
        ),
        ("map.yml", "id: event_id\nday: date_start\nlat: latitude\nlon: longitude\n"),
        ("map.toml", 'id = "event_id"\nday = "date_start"\nlat = "latitude"\nlon = "longitude"\n'),
        (
            "columns.toml",
            '[columns]\nid = "event_id"\nday = "date_start"\nlat = "latitude"\nlon = "longitude"\n',
        ),
    ],
)
def test_mapping_files(tmp_path, name, text):
    mapping = load_mapping(write(tmp_path, text, name=name))
    assert mapping == {"id": "event_id", "day": "date_start", "lat": "latitude", "lon": "longitude"}
    result = read(write(tmp_path, MAPPED_CSV), mapping=mapping)
    assert result.frame[schema.DATE_START].tolist() == ["2017-11-09"]


@pytest.mark.parametrize(
    ("items", "match"),
    [
        (["lat"], r"--map 'lat': expected FILE_COLUMN=CANONICAL_COLUMN.*latitude"),
        (["lat="], "expected FILE_COLUMN=CANONICAL_COLUMN"),
        (["lat=lattitude"], r"'lattitude' is not a canonical column \(did you mean 'latitude'\?\)"),
        (["x=lon"], r"'lon' is not a canonical column \(did you mean 'longitude'\?\).*event_id"),
        (["lat=latitude", "y=latitude"], "'latitude' is already mapped from column 'lat'"),
        (["lat=latitude", "lat=longitude"], "column 'lat' is mapped twice"),
    ],
)
def test_bad_map_options(items, match):
    with pytest.raises(SchemaError, match=match):
        parse_map_options(items)


@pytest.mark.parametrize(
    ("name", "text", "error", "match"),
    [
        ("map.json", "{}", InputFileError, "must end in .yaml, .yml or .toml"),
        ("map.toml", "lat = ", InputFileError, "cannot parse the mapping file"),
        ("map.yaml", "lat: 3\n", SchemaError, "must be text, got 3"),
        ("map.yaml", "- lat\n", SchemaError, "got list"),
        (
            "map.yaml",
            "columns:\n  lat: latitude\nformat: x\n",
            SchemaError,
            "unexpected top-level keys",
        ),
        ("map.toml", 'lat = "where"\n', SchemaError, "'where' is not a canonical column"),
    ],
)
def test_bad_mapping_files(tmp_path, name, text, error, match):
    with pytest.raises(error, match=match):
        load_mapping(write(tmp_path, text, name=name))


def test_mapping_a_column_the_file_lacks_names_it(tmp_path):
    path = write(tmp_path, MAPPED_CSV)
    with pytest.raises(SchemaError, match=r"mapped column 'lng' is not in the file") as info:
        read_events(path, mapping={"lng": "longitude"})
    assert str(path) in str(info.value)


def test_mapping_onto_an_existing_column_is_refused(tmp_path):
    path = write(tmp_path, "date,event_date,latitude,longitude\n2017-11-09,2017-11-10,1,2\n")
    with pytest.raises(SchemaError, match="clashes with the file's own column 'event_date'"):
        read_events(path, mapping={"date": "event_date"})


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"format": "excel"}, "unknown format 'excel'"),
        ({"format": "mapped"}, "needs a column mapping"),
        ({"format": "acled", "mapping": {"a": "event_id"}}, "cannot be combined"),
    ],
)
def test_bad_format_options(tmp_path, kwargs, match):
    with pytest.raises(SchemaError, match=match):
        read_events(write(tmp_path, MAPPED_CSV), **kwargs)


def test_format_option_overrides_detection(tmp_path):
    # Forced canonical: an ACLED file is read as it is, duplicates not resolved
    rows = [ACLED_ROW, {**ACLED_ROW, "timestamp": "1700000000"}]
    path = write(tmp_path, to_csv(schema.ACLED_COLUMNS, rows))
    forced = read(path, format="canonical")
    assert forced.format == "canonical"
    assert schema.ACLED_ID in forced.frame.columns and len(forced.frame) == 2
    assert read(path).format == "acled"
    # Forced UCDP: a headerless 49-field row without a POINT field is data, not a header
    row = {**UCDP_ROW, "geom_wkt": ""}
    headerless = to_csv(schema.UCDP_GED_COLUMNS, [row]).split("\n", 1)[1]
    ucdp = write(tmp_path, headerless, name="ucdp.csv")
    assert read(ucdp).format == "canonical"
    forced = read(ucdp, format="ucdp")
    assert forced.format == "ucdp" and forced.frame[schema.EVENT_ID].tolist() == ["100"]


# --- encodings -----------------------------------------------------------------------------

SIMPLE = "event_id,event_date,latitude,longitude,location\na1,2017-11-09,36.2,37.1,Aleppo\n"


def test_utf8_bom_header_reads_clean(tmp_path):
    result = read(write(tmp_path, SIMPLE, encoding="utf-8-sig"))
    assert result.encoding == "utf-8-sig"
    assert result.frame.columns[0] == "event_id"
    assert result.frame[schema.EVENT_ID].tolist() == ["a1"]


def test_utf8_bom_acled_header_is_detected(tmp_path):
    text = to_csv(schema.ACLED_COLUMNS, [ACLED_ROW])
    result = read(write(tmp_path, text, encoding="utf-8-sig"))
    assert result.format == "acled"
    assert result.frame[schema.EVENT_ID].tolist() == ["SYR1"]


def test_utf8_bom_header_works_with_a_mapping(tmp_path):
    result = read(write(tmp_path, MAPPED_CSV, encoding="utf-8-sig"), mapping={"id": "event_id"})
    assert result.frame[schema.EVENT_ID].tolist() == ["x7"]


def test_utf16_excel_export(tmp_path):
    text = SIMPLE.replace(",", "\t").replace("Aleppo", "حلب")
    path = write(tmp_path, text, encoding="utf-16")  # Python writes the BOM, as Excel does
    assert path.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
    result = read(path)
    assert (result.encoding, result.delimiter) == ("utf-16", "\t")
    assert result.frame[schema.LOCATION].tolist() == ["حلب"]
    assert result.frame.columns[0] == "event_id"


def test_windows_1256_arabic_is_accepted(tmp_path):
    text = (
        "event_id,event_date,latitude,longitude,location,notes\n"
        "a1,2017-11-09,36.2,37.1,حلب,اشتباكات في المدينة\n"
        "a2,2017-11-10,33.5,36.3,دمشق,قصف\n"
    )
    result = read(write(tmp_path, text, encoding="cp1256"))
    assert result.encoding == "cp1256"
    assert result.frame[schema.LOCATION].tolist() == ["حلب", "دمشق"]
    assert result.frame[schema.NOTES].tolist() == ["اشتباكات في المدينة", "قصف"]


def test_latin1_french_is_read_as_windows_1252_with_a_warning(tmp_path):
    # Latin-1 and Windows-1252 agree on é (0xE9): a Western export reads as it was written.
    text = (
        "event_id,event_date,latitude,longitude,location\na1,2017-11-09,36.2,37.1,Alep (région)\n"
    )
    path = write(tmp_path, text, encoding="latin-1")
    result = read_events(path)
    assert result.encoding == "cp1252"
    assert result.frame[schema.LOCATION].tolist() == ["Alep (région)"]
    (note,) = result.problems
    assert note.severity == WARNING and note.row is None
    assert note.message.startswith("read as Windows-1252 (not UTF-8): byte 0xe9 at row 1 is é;")
    assert "--encoding" in note.message


def test_unknown_encoding_is_refused_naming_file_offset_and_option(tmp_path):
    # 0x81 is undefined in Windows-1252 and the text is no Arabic: nothing fits.
    data = b"event_id,event_date,latitude,longitude,location\na1,2017-11-09,36.2,37.1,Alep\x81\n"
    path = tmp_path / "events.csv"
    path.write_bytes(data)
    offset = data.index(b"\x81")
    with pytest.raises(EncodingDetectionError) as info:
        read_events(path)
    message = str(info.value)
    assert str(path) in message
    assert f"byte 0x81 at offset {offset} (line 2)" in message
    assert "UTF-8" in message and "Windows-1256" in message and "Windows-1252" in message
    assert "--encoding" in message
    assert isinstance(info.value, InputFileError)  # callers catching InputFileError see it


def test_nul_bytes_are_refused(tmp_path):
    path = tmp_path / "events.csv"
    path.write_bytes(SIMPLE.encode("utf-16-le"))  # UTF-16 without a BOM
    with pytest.raises(
        EncodingDetectionError, match=r"byte 0x00 at offset 1 \(line 1\) is a NUL byte"
    ):
        read_events(path)


# --- delimiters ----------------------------------------------------------------------------


@pytest.mark.parametrize(("delimiter", "name"), [(",", "comma"), (";", "semicolon"), ("\t", "tab")])
def test_delimiter_is_sniffed(tmp_path, delimiter, name):
    rows = [
        {
            "event_id": "a1",
            "event_date": "2017-11-09",
            "latitude": "36.2",
            "longitude": "37.1",
            "notes": "x, y; z",
        }
    ]
    text = to_csv(
        ("event_id", "event_date", "latitude", "longitude", "notes"), rows, delimiter=delimiter
    )
    result = read(write(tmp_path, text))
    assert result.delimiter == delimiter, name
    assert result.frame[schema.NOTES].tolist() == ["x, y; z"]
    assert result.frame[schema.LONGITUDE].tolist() == ["37.1"]


def test_semicolon_file_with_decimal_commas_is_not_split_on_commas(tmp_path):
    text = (
        "event_id;event_date;latitude;longitude\n"
        "a1;2017-11-09;36,34;37,1\n"
        "a2;2017-11-10;35,9;36,75\n"
    )
    result = read(write(tmp_path, text))
    assert result.delimiter == ";"
    assert result.frame[schema.LATITUDE].tolist() == ["36,34", "35,9"]


# --- ragged rows, line breaks, blank lines ---------------------------------------------------


def test_ragged_rows_are_set_aside_with_reasons(tmp_path):
    text = (
        "event_id,event_date,latitude,longitude\n"
        "a1,2017-11-09,36.2,37.1\n"
        "a2,2017-11-10,36.2,37.1,surplus\n"
        "a3,2017-11-11\n"
        "a4,2017-11-12,36.2,37.1\n"
    )
    result = read(write(tmp_path, text))
    assert result.rows_in == 4
    assert result.frame[schema.EVENT_ID].tolist() == ["a1", "a4"]
    aside = result.set_aside
    assert aside[schema.SOURCE_ROW].tolist() == [2, 3]
    assert aside[schema.REJECT_REASON].tolist() == [
        "ragged row: 5 fields where the header has 4 (too many fields, line 3)",
        "ragged row: 2 fields where the header has 4 (too few fields, line 4)",
    ]
    assert aside[schema.RAW_RECORD].tolist() == ["a2,2017-11-10,36.2,37.1,surplus", "a3,2017-11-11"]
    assert aside[schema.EVENT_ID].tolist() == ["a2", "a3"]
    errors = [p for p in result.problems if p.severity == ERROR]
    assert [p.row for p in errors] == [2, 3]


def test_embedded_newlines_are_counted_and_kept(tmp_path):
    text = (
        "event_id,event_date,latitude,longitude,notes\n"
        'a1,2017-11-09,36.2,37.1,"two\nlines"\n'
        "a2,2017-11-10,36.2,37.1,one line\n"
    )
    result = read(write(tmp_path, text))
    assert result.frame[schema.NOTES].tolist() == ["two\nlines", "one line"]
    assert result.frame[schema.SOURCE_ROW].tolist() == [1, 2]
    assert (
        "1 rows contain line breaks inside quoted fields (rows 1)" in messages(result, WARNING)[0]
    )


def test_a_closed_multiline_last_row_is_loaded(tmp_path):
    text = 'event_id,event_date,latitude,longitude,notes\na1,2017-11-09,36.2,37.1,"two\nlines"\n'
    result = read(write(tmp_path, text))
    assert result.frame[schema.NOTES].tolist() == ["two\nlines"]
    assert result.set_aside.empty


def test_unterminated_quote_is_reported_with_its_line_span(tmp_path):
    text = (
        "event_id,event_date,latitude,longitude,notes\n"
        'a1,2017-11-09,36.2,37.1,"never closed\n'
        "a2,2017-11-10,36.2,37.1,swallowed\n"
    )
    result = read(write(tmp_path, text))
    assert result.rows_in == 1
    assert result.frame.empty
    reason = result.set_aside[schema.REJECT_REASON].iloc[0]
    assert reason.startswith("unterminated quote")
    assert "(lines 2-3)" in reason


def test_blank_lines_are_skipped_and_not_numbered(tmp_path):
    text = (
        "event_id,event_date,latitude,longitude\n"
        "\n"
        "a1,2017-11-09,36.2,37.1\n"
        "   \n"
        "a2,2017-11-10,1,2\n"
    )
    result = read(write(tmp_path, text))
    assert result.frame[schema.SOURCE_ROW].tolist() == [1, 2]
    assert "2 blank lines skipped" in messages(result, WARNING)


def test_header_only_file_warns(tmp_path):
    result = read(write(tmp_path, "event_id,event_date,latitude,longitude\n"))
    assert result.rows_in == 0
    assert "no data rows" in messages(result, WARNING)[0]


# --- files that cannot be read -------------------------------------------------------------


def test_size_limit(tmp_path):
    path = write(tmp_path, SIMPLE)
    with pytest.raises(InputFileError, match=r"more than the limit of 10 bytes; split it"):
        read_events(path, max_bytes=10)


def test_compressed_file_is_refused(tmp_path):
    path = tmp_path / "events.csv.gz"
    path.write_bytes(gzip.compress(SIMPLE.encode()))
    with pytest.raises(InputFileError, match="gzip-compressed, not CSV text"):
        read_events(path)


@pytest.mark.parametrize(
    ("content", "match"), [(None, "file not found"), ("", "empty"), ("\n\n", "no header row")]
)
def test_missing_empty_or_blank_file(tmp_path, content, match):
    path = tmp_path / "events.csv"
    if content is not None:
        path.write_text(content)
    with pytest.raises(InputFileError, match=match):
        read_events(path)


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("areas.geojson", b'{"type": "FeatureCollection", "features": []}', "JSON .GeoJSON"),
        ("bom.geojson", b'\xef\xbb\xbf {"type": "FeatureCollection"}', "JSON .GeoJSON"),
        ("areas.gpkg", b"SQLite format 3\x00" + bytes(100), "SQLite database .a GeoPackage"),
        ("areas.parquet", b"PAR1" + bytes(100) + b"PAR1", "a Parquet file"),
        ("book.xlsx", b"PK\x03\x04" + bytes(100), "Excel .xlsx workbook"),
        ("empty.csv.gz", gzip.compress(b""), "gzip-compressed"),
    ],
)
def test_other_formats_are_refused_naming_the_file(tmp_path, name, content, match):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=match) as info:
        read_events(path)
    assert str(path) in str(info.value)
    if "Geo" in match or "Parquet" in match:
        assert "--areas" in str(info.value)


def test_a_header_starting_with_a_brace_would_be_json_but_brackets_are_csv(tmp_path):
    # SQL Server exports quote names in brackets: that is still CSV
    path = write(tmp_path, "[event_id],[event_date]\na1,2017-11-09\n")
    assert read(path).frame.columns[0] == "[event_id]"


def test_paths_that_are_not_regular_files_are_refused(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)  # reading it would block forever
    with pytest.raises(InputFileError, match="pipe.csv: not a regular file .a named pipe."):
        read_events(fifo)
    with pytest.raises(InputFileError, match="not a regular file .a directory."):
        read_events(tmp_path)
    link = tmp_path / "gone.csv"
    link.symlink_to(tmp_path / "nowhere.csv")
    with pytest.raises(InputFileError, match="gone.csv: file not found .a link to"):
        read_events(link)


def test_an_unreadable_file_is_refused_naming_it(tmp_path, monkeypatch):
    path = write(tmp_path, SIMPLE)
    real_open = Path.open

    def denied(self, *args, **kwargs):
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", denied)  # tests run as root: chmod would not stop us
    with pytest.raises(InputFileError, match="events.csv: cannot be read .Permission denied."):
        read_events(path)
