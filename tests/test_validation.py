"""Validation: typed events, every problem with row/column/value, and a balanced ledger.

Each fixture is a CSV literal written into tmp_path; ``load`` asserts the ledger for every
one of them (rows in = rows loaded + rows set aside).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard import schema
from dashboard.errors import SchemaError
from dashboard.readers import read_events
from dashboard.report import ERROR, WARNING, Problem
from dashboard.validation import ValidationResult, load_events, validate_events

HEADER = "event_id,event_date,latitude,longitude,location,fatalities,country"


def load(tmp_path: Path, text: str, *, name: str = "events.csv", **kwargs) -> ValidationResult:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    dayfirst = kwargs.pop("dayfirst", True)
    result = validate_events(read_events(path, **kwargs), dayfirst=dayfirst)
    report = result.report
    assert report.balanced
    assert report.rows_in == report.rows_loaded + report.rows_rejected
    assert report.rows_loaded == len(result.events)
    assert report.rows_rejected == len(result.rejected)
    loaded, rejected = (
        set(result.events[schema.SOURCE_ROW]),
        set(result.rejected[schema.SOURCE_ROW]),
    )
    assert not loaded & rejected
    return result


def rows(*lines: str, header: str = HEADER) -> str:
    return "\n".join((header, *lines)) + "\n"


def problems_at(result: ValidationResult, row: int, severity: str | None = None) -> list[Problem]:
    return [p for p in result.report.problems if p.row == row and severity in (None, p.severity)]


def reason(result: ValidationResult, row: int) -> str:
    rejected = result.rejected.set_index(schema.SOURCE_ROW)
    return rejected.at[row, schema.REJECT_REASON]


def day(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


# --- typed output --------------------------------------------------------------------------


def test_events_have_every_canonical_column_typed(tmp_path):
    result = load(tmp_path, rows("a1,2017-11-09,36.2,37.1,Aleppo,3,Syria"))
    events = result.events
    assert list(events.columns[: len(schema.EVENT_COLUMNS)]) == list(schema.EVENT_COLUMNS)
    assert list(events.columns[-2:]) == [schema.SOURCE_ROW, schema.SOURCE_FORMAT]
    dtypes = events.dtypes
    for column in schema.DATE_COLUMNS:
        assert pd.api.types.is_datetime64_dtype(dtypes[column]), column
    for column in schema.FLOAT_COLUMNS:
        assert dtypes[column] == np.float64, column
    for column in schema.INT_CODE_COLUMNS:
        assert dtypes[column] == pd.Int8Dtype(), column
    for column in schema.TEXT_COLUMNS:
        assert pd.api.types.is_string_dtype(dtypes[column]), column
    assert dtypes[schema.SOURCE_ROW] == np.int64
    row = events.iloc[0]
    assert (row[schema.EVENT_DATE], row[schema.DATE_START], row[schema.DATE_END]) == (
        day("2017-11-09"),
    ) * 3
    assert (row[schema.LATITUDE], row[schema.LONGITUDE], row[schema.FATALITIES]) == (
        36.2,
        37.1,
        3.0,
    )
    assert pd.isna(row[schema.ACTOR1]) and pd.isna(row[schema.GEO_PRECISION])
    assert row[schema.SOURCE_FORMAT] == "canonical"
    assert result.rejected.empty and result.report.problems == []


def test_extra_columns_and_codes_stay_text(tmp_path):
    text = rows(
        "a1,2017-11-09,36.2,37.1,Aleppo,3,Syria,0123,NA", header=HEADER + ",pcode,actor_code"
    )
    events = load(tmp_path, text).events
    assert events["pcode"].tolist() == ["0123"]
    assert events["actor_code"].tolist() == ["NA"]


def test_na_is_empty_in_number_and_date_columns_but_text_elsewhere(tmp_path):
    text = rows(
        "a1,2017-11-09,NA,NA,Aleppo,,NA",  # R writes NA for missing numbers
        header="event_id,event_date,latitude,longitude,location,geo_precision,actor1",
    )
    result = load(tmp_path, text)
    row = result.events.iloc[0]
    assert np.isnan(row[schema.LATITUDE]) and np.isnan(row[schema.LONGITUDE])
    assert row[schema.ACTOR1] == "NA"
    notes = sorted(p.message for p in result.report.warnings)
    assert notes == [
        "1 'NA' values in latitude read as empty",
        "1 'NA' values in longitude read as empty",
    ]


def test_start_and_end_only_give_event_date(tmp_path):
    text = rows(
        "a1,2017-11-06,2017-11-12,36.2,37.1",
        "a2,2017-11-06,,36.2,37.1",
        header="event_id,date_start,date_end,latitude,longitude",
    )
    events = load(tmp_path, text).events
    assert events[schema.EVENT_DATE].tolist() == [day("2017-11-06")] * 2
    assert events[schema.DATE_END].tolist() == [day("2017-11-12"), day("2017-11-06")]


def test_ids_are_generated_from_file_stem_and_row(tmp_path):
    text = rows(
        "2017-11-09,36.2,37.1", "2017-11-10,36.2,37.1", header="event_date,latitude,longitude"
    )
    result = load(tmp_path, text, name="raqqa.csv")
    assert result.events[schema.EVENT_ID].tolist() == ["raqqa-1", "raqqa-2"]
    blanks = load(tmp_path, rows("a1,2017-11-09,1,2,,,", ",2017-11-10,1,2,,,"), name="ev.csv")
    assert blanks.events[schema.EVENT_ID].tolist() == ["a1", "ev-2"]
    assert any("1 rows have no event_id (rows 2)" in p.message for p in blanks.report.warnings)


# --- dates ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["2017-11-09", "2017-11-09 00:00:00.000", "2017-11-09T13:45:00Z", "09 November 2017",
     "9 Nov 2017", "9-Nov-2017", "November 9, 2017", "Nov. 9 2017"],
)  # fmt: skip
def test_date_forms(tmp_path, text):
    result = load(tmp_path, rows(f'a1,"{text}",36.2,37.1,,,'))
    assert result.events[schema.EVENT_DATE].tolist() == [day("2017-11-09")]
    if ":" in text:  # a plain form: the only note is the one about the time dropped
        assert [p.message for p in result.report.problems] == [
            (
                "the time of day in event_date was dropped (1 value): the events table keeps "
                "the date only"
            )
        ]
    else:
        assert result.report.problems == []


def test_acled_dd_mm_yyyy_is_day_first_without_warning(tmp_path):
    columns = ("event_id_cnty", "event_date", "latitude", "longitude", "timestamp")
    text = rows(
        "SYR1,09-11-2017,36.2,37.1,1", "SYR2,10-11-2017,36.2,37.1,1", header=",".join(columns)
    )
    result = load(tmp_path, text)
    assert result.events[schema.EVENT_DATE].tolist() == [day("2017-11-09"), day("2017-11-10")]
    assert result.events[schema.SOURCE_FORMAT].tolist() == ["acled"] * 2
    assert result.report.problems == []


def test_ambiguous_day_month_warns_how_it_was_read(tmp_path):
    result = load(tmp_path, rows("a1,09/11/2017,36.2,37.1,,,", "a2,09-11-2017,36.2,37.1,,,"))
    assert result.events[schema.EVENT_DATE].tolist() == [day("2017-11-09")] * 2
    (problem,) = problems_at(result, 1)
    assert problem.severity == WARNING
    assert (problem.column, problem.value) == (schema.EVENT_DATE, "09/11/2017")
    assert "read as 9 November 2017 (day first)" in problem.message
    assert "read as 9 November 2017" in problems_at(result, 2)[0].message  # not ACLED: ambiguous


def test_dayfirst_false_reads_month_first(tmp_path):
    result = load(tmp_path, rows("a1,09/11/2017,36.2,37.1,,,"), dayfirst=False)
    assert result.events[schema.EVENT_DATE].tolist() == [day("2017-09-11")]
    assert "read as 11 September 2017 (month first)" in problems_at(result, 1)[0].message


def test_other_rows_settle_the_order(tmp_path):
    day_first = load(tmp_path, rows("a1,25/11/2017,1,2,,,", "a2,09/11/2017,1,2,,,"))
    assert day_first.events[schema.EVENT_DATE].tolist() == [day("2017-11-25"), day("2017-11-09")]
    assert [(p.row, p.message) for p in day_first.report.problems] == [
        (
            None,
            (
                "event_date: read as day/month/year (dd/mm/yyyy), 2 of 2 values "
                "('25/11/2017' can only be read day first)"
            ),
        )
    ]
    month_first = load(tmp_path, rows("a1,11/25/2017,1,2,,,", "a2,11/09/2017,1,2,,,"))
    assert month_first.events[schema.EVENT_DATE].tolist() == [day("2017-11-25"), day("2017-11-09")]
    (note,) = month_first.report.warnings
    assert note.row is None and note.message == (
        "event_date: read as month/day/year (mm/dd/yyyy), 2 of 2 values "
        "('11/25/2017' can only be read month first)"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2017-11-31", "event_date '2017-11-31' is not a real date (November 2017 has 30 days)"),
        ("2017-02-29", "event_date '2017-02-29' is not a real date (February 2017 has 28 days)"),
        ("2017-13-01", "event_date '2017-13-01' is not a real date (there is no month 13)"),
        ("31/11/2017", "event_date '31/11/2017' is not a real date (November 2017 has 30 days)"),
        # A time of day out of range makes the value no date either, in every form.
        (
            "2017-06-10T25:00",
            "event_date '2017-06-10T25:00' is not a real date (there is no hour 25)",
        ),
        (
            "2017-06-10 24:00:00",
            "event_date '2017-06-10 24:00:00' is not a real date (there is no hour 24)",
        ),
        (
            "2017-06-10 23:60",
            "event_date '2017-06-10 23:60' is not a real date (there is no minute 60)",
        ),
        (
            "10 June 2017 12:30:60",
            "event_date '10 June 2017 12:30:60' is not a real date (there is no second 60)",
        ),
        (
            "10/06/2017 13:05 PM",
            "event_date '10/06/2017 13:05 PM' is not a real date (there is no hour 13 on a 12-hour clock)",
        ),
        ("yesterday", "event_date 'yesterday' is not a date (expected e.g. 2017-11-09"),
        ("1017-11-09", "event_date '1017-11-09': year outside 1800-2100"),
        ("", "no date: event_date empty"),
    ],
)
def test_bad_dates_are_set_aside(tmp_path, text, message):
    result = load(tmp_path, rows("a1,2017-11-09,36.2,37.1,,,", f"a2,{text},36.2,37.1,,,"))
    assert result.events[schema.EVENT_ID].tolist() == ["a1"]
    (problem,) = problems_at(result, 2)
    assert problem.severity == ERROR and problem.column == schema.EVENT_DATE
    assert problem.message.startswith(message)
    assert reason(result, 2).startswith(message)
    original = result.rejected.set_index(schema.SOURCE_ROW).at[2, schema.EVENT_DATE]
    assert original == text if text else pd.isna(original)


def test_end_before_start_is_an_error(tmp_path):
    text = rows(
        "a1,2017-11-09,2017-11-01,36.2,37.1",
        header="event_id,date_start,date_end,latitude,longitude",
    )
    result = load(tmp_path, text)
    assert result.events.empty
    assert reason(result, 1) == "date_end 2017-11-01 is before date_start 2017-11-09"


def test_year_only_rows_cover_the_whole_year(tmp_path):
    text = rows(
        "a1,2015,36.2,37.1",
        "a2,2016.0,36.2,37.1",
        "a3,20x5,36.2,37.1",
        header="event_id,year,latitude,longitude",
    )
    result = load(tmp_path, text, mapping={"event_id": "event_id", "year": "year"})
    events = result.events
    assert events[schema.DATE_START].tolist() == [day("2015-01-01"), day("2016-01-01")]
    assert events[schema.DATE_END].tolist() == [day("2015-12-31"), day("2016-12-31")]
    assert events[schema.EVENT_DATE].tolist() == events[schema.DATE_START].tolist()
    assert events[schema.TIME_PRECISION].tolist() == [3, 3]
    assert reason(result, 3) == "year '20x5' is not a year"
    assert any(p.row is None and "1 January" in p.message for p in result.report.warnings)


# --- coordinates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lat", "lon", "column", "message"),
    [
        (
            "95",
            "37.1",
            "latitude",
            "latitude 95 is outside [-90, 90]; latitude and longitude look swapped",
        ),
        ("-91", "120", "latitude", "latitude -91 is outside [-90, 90]"),
        ("36.2", "200", "longitude", "longitude 200 is outside [-180, 180]"),
        ("0", "0", "latitude", "coordinates (0, 0) are 'null island'"),
        ("36.2N", "37.1", "latitude", "latitude '36.2N' is not a number"),
        ("36.2", "inf", "longitude", "longitude 'inf' is not a number"),
        ("36.2", "", "longitude", "longitude empty while latitude is given"),
        ("", "", "latitude", "no coordinates and no location to place the event"),
    ],
)
def test_bad_coordinates_are_set_aside(tmp_path, lat, lon, column, message):
    result = load(tmp_path, rows(f"a1,2017-11-09,{lat},{lon},,,"))
    assert result.events.empty
    (problem,) = problems_at(result, 1)
    assert (problem.severity, problem.column) == (ERROR, column)
    assert problem.message.startswith(message)
    assert reason(result, 1).startswith(message)


def test_outside_both_ranges_is_not_called_swapped(tmp_path):
    result = load(tmp_path, rows("a1,2017-11-09,95,200,,,"))
    assert (
        reason(result, 1)
        == "latitude 95 is outside [-90, 90]; longitude 200 is outside [-180, 180]"
    )


def test_missing_coordinates_with_a_location_are_left_for_the_geocoder(tmp_path):
    result = load(tmp_path, rows("a1,2017-11-09,,,Aleppo,,Syria"))
    row = result.events.iloc[0]
    assert np.isnan(row[schema.LATITUDE]) and np.isnan(row[schema.LONGITUDE])
    assert row[schema.LOCATION] == "Aleppo"


def test_location_only_file_loads(tmp_path):
    result = load(
        tmp_path,
        rows("a1,2017-11-09,Aleppo", "a2,2017-11-10,", header="event_id,event_date,location"),
    )
    assert result.events[schema.LOCATION].tolist() == ["Aleppo"]
    assert result.events[schema.LATITUDE].isna().all()
    assert reason(result, 2) == "no location (and no coordinate columns)"


def test_swapped_for_the_country(tmp_path):
    # Deir ez-Zor is at 35.33 N, 40.14 E; written the wrong way round it lands in Turkey.
    result = load(
        tmp_path,
        rows(
            "a1,2017-11-09,35.33,40.14,,,Syria",
            "a2,2017-11-09,40.14,35.33,,,Syria",
            "a3,2017-11-09,40.14,35.33,,,Turkey",  # a real point in Turkey: not swapped
        ),
    )
    assert result.events[schema.EVENT_ID].tolist() == ["a1", "a3"]
    (problem,) = problems_at(result, 2)
    assert problem.value == "40.14, 35.33"
    assert "look swapped: the point is outside Syria" in problem.message


def test_a_mostly_swapped_file_is_flagged(tmp_path):
    swapped = [f"a{i},2017-11-09,40.14,35.33,,,Syria" for i in range(1, 4)]
    result = load(tmp_path, rows(*swapped, "a4,2017-11-09,35.33,40.14,,,Syria"))
    assert result.report.rows_rejected == 3
    assert any("3 of 4 rows look swapped" in p.message for p in result.report.warnings)


def test_decimal_commas_in_semicolon_files_are_read_and_counted(tmp_path):
    text = rows(
        "a1;2017-11-09;36,34;37,1",
        "a2;2017-11-10;35,5;36.2",
        "a3;2017-11-11;x,y;36",
        header="event_id;event_date;latitude;longitude",
    )
    result = load(tmp_path, text)
    assert result.events[schema.LATITUDE].tolist() == [36.34, 35.5]
    assert result.events[schema.LONGITUDE].tolist() == [37.1, 36.2]
    (note,) = [p for p in result.report.warnings if p.row is None]
    assert note.value == 3
    assert "3 coordinates written with a decimal comma" in note.message
    assert reason(result, 3) == "latitude 'x,y' is not a number"


# --- fatalities and precision ----------------------------------------------------------------


@pytest.mark.parametrize("word", ["unknown", "Unknown", "unk", "NA", "?"])
def test_unknown_fatalities_are_nan_not_zero(tmp_path, word):
    result = load(tmp_path, rows(f"a1,2017-11-09,36.2,37.1,,{word},"))
    assert np.isnan(result.events[schema.FATALITIES].iloc[0])
    (problem,) = problems_at(result, 1)
    assert problem.severity == WARNING and problem.column == schema.FATALITIES
    assert "read as unknown (empty), not 0" in problem.message


def test_fatalities_numbers(tmp_path):
    result = load(
        tmp_path,
        rows(
            "a1,2017-11-09,1,2,,0,",
            "a2,2017-11-09,1,2,,,",
            "a3,2017-11-09,1,2,,-3,",
            "a4,2017-11-09,1,2,,five,",
            "a5,2017-11-09,1,2,,n/a,",
        ),
    )
    fatalities = result.events[schema.FATALITIES]
    assert fatalities.iloc[0] == 0.0
    assert np.isnan(fatalities.iloc[1]) and np.isnan(fatalities.iloc[2])  # empty, n/a: unknown
    assert problems_at(result, 2) == [] and problems_at(result, 5) == []  # n/a is a NA spelling
    assert reason(result, 3) == "fatalities -3 is negative"
    assert reason(result, 4).startswith("fatalities 'five' is not a number")


def test_precision_outside_1_to_3_warns_and_becomes_na(tmp_path):
    text = rows(
        "a1,2017-11-09,1,2,2,1",
        "a2,2017-11-09,1,2,5,x",
        header="event_id,event_date,latitude,longitude,geo_precision,time_precision",
    )
    result = load(tmp_path, text)
    events = result.events
    assert events[schema.GEO_PRECISION].tolist()[0] == 2 and pd.isna(
        events[schema.GEO_PRECISION].iloc[1]
    )
    assert events[schema.TIME_PRECISION].tolist()[0] == 1 and pd.isna(
        events[schema.TIME_PRECISION].iloc[1]
    )
    assert sorted(p.message for p in problems_at(result, 2)) == [
        "geo_precision '5' is not 1, 2 or 3; left empty",
        "time_precision 'x' is not 1, 2 or 3; left empty",
    ]
    assert result.report.rows_rejected == 0


# --- ids -----------------------------------------------------------------------------------


def test_duplicate_ids_name_the_first_row(tmp_path):
    result = load(
        tmp_path, rows("a1,2017-11-09,1,2,,,", "a2,2017-11-09,1,2,,,", "a1,2017-11-10,1,2,,,")
    )
    assert result.events[schema.EVENT_ID].tolist() == ["a1", "a2"]
    assert reason(result, 3) == "duplicate event_id 'a1': row 1 has the same id (that one is kept)"


def test_duplicate_of_a_rejected_row_is_kept(tmp_path):
    result = load(tmp_path, rows("a1,2017-11-31,1,2,,,", "a1,2017-11-30,1,2,,,"))
    assert result.events[schema.SOURCE_ROW].tolist() == [2]


def test_acled_duplicates_reach_rejected_and_the_report(tmp_path):
    header = "event_id_cnty,event_date,latitude,longitude,timestamp"
    text = rows(
        "SYR1,09 November 2017,36.2,37.1,1600000000",
        "SYR1,09 November 2017,36.3,37.1,1700000000",
        header=header,
    )
    result = load(tmp_path, text)
    assert result.events[schema.LATITUDE].tolist() == [36.3]
    assert (
        reason(result, 1)
        == "superseded by a newer version (timestamp 1700000000, row 2) of event SYR1"
    )
    assert [p.row for p in result.report.warnings] == [1]
    assert result.report.errors == []


# --- columns -------------------------------------------------------------------------------


def test_missing_column_names_the_close_match(tmp_path):
    with pytest.raises(SchemaError) as info:
        load(tmp_path, rows("a1,2017-11-09,36.2,37.1", header="event_id,event_date,latitude,lon"))
    message = str(info.value)
    assert "missing column longitude (found: lon)" in message
    assert "--map lon=longitude" in message
    assert "events.csv" in message


def test_every_missing_column_is_named_at_once(tmp_path):
    with pytest.raises(SchemaError) as info:
        load(tmp_path, rows("a1,2017-11-09,36.2,37.1", header="id,date,lat,lng"))
    message = str(info.value)
    for expected in (
        "missing column event_date (found: date)",
        "missing column latitude (found: lat)",
        "missing column longitude (found: lng)",
    ):
        assert expected in message


def test_no_date_column_at_all(tmp_path):
    with pytest.raises(SchemaError, match=r"missing column event_date\. Events need a date column"):
        load(tmp_path, rows("a1,36.2,37.1", header="event_id,latitude,longitude"))


def test_the_column_list_of_a_non_csv_first_line_is_cut_short(tmp_path):
    prose = ", ".join(f"a long sentence of prose number {i} and nothing more" for i in range(60))
    with pytest.raises(SchemaError) as info:
        load(tmp_path, prose + "\n")
    message = str(info.value)
    assert "... (60 columns)" in message
    assert len(message) < 2500, len(message)


def test_aliases_are_matched_whatever_the_case_spacing_or_hyphens(tmp_path):
    header = "event_id,Event Date,LAT,Lon"
    with pytest.raises(SchemaError) as info:
        load(tmp_path, rows("a1,2017-11-09,36.2,37.1", header=header))
    message = str(info.value)
    for expected in ("(found: Event Date)", "(found: LAT)", "(found: Lon)"):
        assert expected in message


def test_an_optional_column_under_another_name_is_flagged(tmp_path):
    result = load(
        tmp_path,
        rows("a1,2017-11-09,36.2,37.1,4", header="event_id,event_date,latitude,longitude,deaths"),
    )
    (note,) = result.report.warnings
    assert note.column == schema.FATALITIES and "--map deaths=fatalities" in note.message
    assert np.isnan(result.events[schema.FATALITIES].iloc[0])


# --- the ledger and the report ---------------------------------------------------------------


def test_rejected_holds_original_text_and_every_reason(tmp_path):
    text = rows(
        "a1,2017-11-09,36.2,37.1,,1,",
        "a2,2017-11-31,95,37.1,,-1,",
        "a3,2017-11-09,36.2,37.1,,1,,surplus",
        "a4,2017-11-09,36.2,37.1,,unknown,",
    )
    result = load(tmp_path, text)
    assert result.report.rows_in == 4
    assert (result.report.rows_loaded, result.report.rows_rejected) == (2, 2)
    rejected = result.rejected
    assert rejected[schema.SOURCE_ROW].tolist() == [2, 3]
    assert list(rejected.columns[-2:]) == [schema.SOURCE_ROW, schema.REJECT_REASON]
    second = rejected.iloc[0]
    assert (second[schema.EVENT_DATE], second[schema.LATITUDE], second[schema.FATALITIES]) == (
        "2017-11-31",
        "95",
        "-1",
    )
    assert second[schema.REJECT_REASON] == (
        "event_date '2017-11-31' is not a real date (November 2017 has 30 days); "
        "latitude 95 is outside [-90, 90]; latitude and longitude look swapped; "
        "fatalities -1 is negative"
    )
    assert rejected.iloc[1][schema.REJECT_REASON].startswith("ragged row: 8 fields")
    assert [p.row for p in result.report.problems] == [2, 2, 2, 3, 4]


def test_report_to_dict_shape(tmp_path):
    result = load(tmp_path, rows("a1,2017-11-09,95,37.1,,unknown,"))
    data = json.loads(json.dumps(result.report.to_dict()))
    assert {"rows_in", "rows_loaded", "rows_rejected", "errors", "warnings"} <= set(data)
    assert (data["rows_in"], data["rows_loaded"], data["rows_rejected"]) == (1, 0, 1)
    assert data["errors"] == [
        {
            "row": 1,
            "column": "latitude",
            "value": "95",
            "message": "latitude 95 is outside [-90, 90]; latitude and longitude look swapped",
        }
    ]
    assert data["warnings"] == [
        {
            "row": 1,
            "column": "fatalities",
            "value": "unknown",
            "message": "fatalities 'unknown' read as unknown (empty), not 0",
        }
    ]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (np.float64(2.5), 2.5),
        (np.int64(3), 3),
        (np.nan, None),
        (pd.NA, None),
        (pd.NaT, None),
        (np.datetime64("NaT"), None),
        ("NA", "NA"),
    ],
)
def test_problem_values_are_plain_python_and_missing_is_none(value, shown):
    problem = Problem(1, "x", value, "m")
    assert problem.value == shown and type(problem.value) is type(shown)
    assert problem.to_dict()["value"] == shown
    assert "np." not in problem.to_text()


def test_load_events_is_read_plus_validate(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text(rows("a1,2017-11-09,36.2,37.1,,,"))
    result = load_events(path)
    assert result.events[schema.EVENT_ID].tolist() == ["a1"]
    assert result.report.source == str(path)


# --- formats end to end ----------------------------------------------------------------------


UCDP_ROW = {
    "id": "100", "type_of_violence": "1", "side_a": "Government of Syria", "side_b": "IS",
    "where_prec": "4", "latitude": "36.2", "longitude": "37.1", "geom_wkt": "POINT (37.1 36.2)",
    "country": "Syria", "date_prec": "3", "date_start": "2017-11-06 00:00:00.000",
    "date_end": "2017-11-12 00:00:00.000", "best": "5", "low": "4", "high": "7",
}  # fmt: skip


def _ucdp_text() -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(schema.UCDP_GED_COLUMNS)
    writer.writerow([UCDP_ROW.get(c, "") for c in schema.UCDP_GED_COLUMNS])
    return out.getvalue()


def test_ucdp_end_to_end(tmp_path):
    result = load(tmp_path, _ucdp_text())
    row = result.events.iloc[0]
    assert row[schema.EVENT_ID] == "100"
    assert (row[schema.DATE_START], row[schema.DATE_END]) == (day("2017-11-06"), day("2017-11-12"))
    assert row[schema.EVENT_DATE] == day("2017-11-06")
    assert (row[schema.TIME_PRECISION], row[schema.GEO_PRECISION]) == (2, 3)
    assert (row[schema.FATALITIES], row[schema.FATALITIES_LOW], row[schema.FATALITIES_HIGH]) == (
        5.0,
        4.0,
        7.0,
    )
    assert (row[schema.UCDP_WHERE_PREC], row[schema.UCDP_DATE_PREC]) == (4, 3)
    assert row[schema.EVENT_TYPE] == "State-based conflict"
    assert row[schema.SOURCE_FORMAT] == "ucdp"


# --- real public data (../shared/data) --------------------------------------------------------

DATED = "ucdp_ged_sample_syria_iraq_2014_2018_dated.csv"
NO_DATES = "ucdp_ged_syria_iraq_2014_2018_no_dates.csv"
UCDP_SIDES = {
    "id": "event_id",
    "side_a": "actor1",
    "side_b": "actor2",
    "where_prec": "ucdp_where_prec",
}


@pytest.mark.shared_data
def test_real_ucdp_extract_with_dates(shared_data):
    mapping = {
        **UCDP_SIDES,
        "date": "event_date",
        "best": "fatalities",
        "type_of_violence": "ucdp_type_of_violence",
    }
    result = load_events(shared_data / DATED, mapping=mapping)
    report = result.report
    assert report.rows_in == 773
    assert report.balanced and report.rows_loaded + report.rows_rejected == 773
    events = result.events.set_index(schema.EVENT_ID)
    first = events.loc["263863"]  # the file's first row
    assert first[schema.EVENT_DATE] == day("2014-01-03")
    assert (first[schema.LATITUDE], first[schema.LONGITUDE]) == (35.166667, 40.283333)
    assert first[schema.EVENT_TYPE] == "State-based conflict"
    assert first[schema.UCDP_WHERE_PREC] == 4 and first[schema.GEO_PRECISION] == 3
    assert first[schema.FATALITIES] == 1.0
    assert set(events[schema.COUNTRY]) <= {"Syria", "Iraq"}
    assert events[schema.EVENT_DATE].between(day("2014-01-01"), day("2018-12-31")).all()


@pytest.mark.shared_data
def test_real_ucdp_extract_with_years_only(shared_data):
    result = load_events(shared_data / NO_DATES, mapping={**UCDP_SIDES, "year": "year"})
    report = result.report
    assert report.rows_in == 33_371
    assert report.balanced and report.rows_loaded + report.rows_rejected == 33_371
    events = result.events.set_index(schema.EVENT_ID)
    first = events.loc["113962"]  # 2014, Government of Iraq - IS, where_prec 1
    assert (first[schema.DATE_START], first[schema.DATE_END]) == (
        day("2014-01-01"),
        day("2014-12-31"),
    )
    assert first[schema.TIME_PRECISION] == 3 and first[schema.GEO_PRECISION] == 1
    assert first[schema.ACTOR1] == "Government of Iraq"
    assert np.isnan(first[schema.FATALITIES])  # the extract has no `best`: unknown, not 0
    assert set(events[schema.DATE_START].dt.year) == {2014, 2015, 2016, 2017, 2018}
