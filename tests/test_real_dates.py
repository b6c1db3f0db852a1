"""Dates as real exports write them: the form of each column inferred from all its values.

Fixtures are written as a spreadsheet program saves them (CRLF line ends, a UTF-8 BOM,
trailing spaces). Each test asserts the loaded dates and the ledger (rows in = rows loaded +
rows set aside, every row in exactly one of them).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from cli_runner import run_cli

from dashboard import schema
from dashboard.errors import SchemaError
from dashboard.report import ERROR, WARNING
from dashboard.validation import ValidationResult, load_events

HEADER = ["event_id", "event_date", "latitude", "longitude"]


def spreadsheet_csv(path: Path, dates: list[str], *, header: list[str] = HEADER) -> Path:
    """One row per date, saved as a tired analyst's spreadsheet does: BOM, CRLF, spaces."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for i, date in enumerate(dates, start=1):
        writer.writerow([f"e{i}", f"{date} ", "36.2 ", "37.1"])
    path.write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8"))
    return path


def balanced(result: ValidationResult) -> ValidationResult:
    report = result.report
    assert report.rows_in == report.rows_loaded + report.rows_rejected
    assert report.rows_loaded == len(result.events)
    assert report.rows_rejected == len(result.rejected)
    loaded = set(result.events[schema.SOURCE_ROW])
    rejected = set(result.rejected[schema.SOURCE_ROW])
    assert not loaded & rejected
    assert loaded | rejected == set(range(1, report.rows_in + 1))
    return result


def dates(result: ValidationResult) -> list[str]:
    return [f"{d:%Y-%m-%d}" for d in result.events[schema.EVENT_DATE]]


def file_notes(result: ValidationResult) -> list[str]:
    return [p.message for p in result.report.problems if p.row is None]


def test_acled_day_month_year_with_a_time_of_day(tmp_path):
    path = spreadsheet_csv(
        tmp_path / "acled.csv",
        ["14/08/2020 00:00:00", "01/09/2020 00:00:00", "02/09/2020 13:05:00"],
    )
    result = balanced(load_events(path))
    assert dates(result) == ["2020-08-14", "2020-09-01", "2020-09-02"]
    assert file_notes(result) == [
        (
            "event_date: read as day/month/year with a time of day (dd/mm/yyyy HH:MM:SS), "
            "3 of 3 values ('14/08/2020 00:00:00' can only be read day first)"
        ),
        (
            "the time of day in event_date was dropped (3 values): the events table keeps the "
            "date only"
        ),
    ]
    assert [p for p in result.report.problems if p.row is not None] == []  # no row warnings


def test_spreadsheet_acled_month_names_and_two_digit_years(tmp_path):
    header = ["event_id_cnty", "event_date", "latitude", "longitude", "timestamp"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for i, date in enumerate(["9-May-20", "31-12-19", "01-02-70", "3-Sept-68"], start=1):
        writer.writerow([f"SYR{i}", date, "36.2", "37.1", "1"])
    path = tmp_path / "acled.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    result = balanced(load_events(path))
    # ACLED's dd-mm is day first by definition; 00-68 are 20xx, 69-99 are 19xx, and a date
    # after today (2068, the pivot's far end) is a typo: set aside, with the pivot named.
    assert dates(result) == ["2020-05-09", "2019-12-31", "1970-02-01"]
    (reason,) = result.rejected["reject_reason"]
    assert reason.startswith("event_date '3-Sept-68' is 3 September 2068, after today")
    assert "two-digit years 00-68 read as 20xx" in reason
    (note,) = file_notes(result)
    assert note == (
        "event_date: read as day, month name, year (dd Month yy; two-digit years 00-68 as "
        "20xx, 69-99 as 19xx) (also dd-mm-yy), 4 of 4 values"
    )


def test_ucdp_resaved_month_first_with_12_and_24_hour_times(tmp_path):
    path = spreadsheet_csv(
        tmp_path / "ged.csv",
        ["1/22/2014 12:00:00 AM", "05/02/2014 00:00", "12/31/2014 11:59:59 PM", "2/3/2014 1:00 PM"],
    )
    result = balanced(load_events(path))
    # 05/02 and 2/3 alone are ambiguous: 1/22 settles the column month first, no warning.
    assert dates(result) == ["2014-01-22", "2014-05-02", "2014-12-31", "2014-02-03"]
    notes = file_notes(result)
    assert notes[0].startswith("event_date: read as month/day/year with a time of day")
    assert notes[0].endswith("4 of 4 values ('1/22/2014 12:00:00 AM' can only be read month first)")
    assert notes[1] == (
        "the time of day in event_date was dropped (4 values): the events table keeps the date only"
    )
    assert not result.report.warnings[2:]


def test_mixed_short_and_long_numbers_in_one_column_settle_month_first(tmp_path):
    path = spreadsheet_csv(tmp_path / "mixed.csv", ["8/29/2014", "12/01/2014", "3/4/2015"])
    result = balanced(load_events(path))
    assert dates(result) == ["2014-08-29", "2014-12-01", "2015-03-04"]
    assert file_notes(result) == [
        (
            "event_date: read as month/day/year (mm/dd/yyyy), 3 of 3 values "
            "('8/29/2014' can only be read month first)"
        )
    ]


def test_spreadsheet_serial_day_numbers(tmp_path):
    path = spreadsheet_csv(tmp_path / "serials.csv", ["43831", "25569", "43831.75", "61"])
    result = balanced(load_events(path))
    # Excel 1900 system: 25569 is 1970-01-01; 61 is 1 March 1900 (after the phantom 29 Feb).
    assert dates(result) == ["2020-01-01", "1970-01-01", "2020-01-01", "1900-03-01"]
    notes = file_notes(result)
    assert notes[0] == (
        "event_date: read as spreadsheet serial day numbers (Excel 1900 date system: 25569 is "
        "1970-01-01, 1 is 1900-01-01), 4 of 4 values"
    )
    assert "dropped (1 value)" in notes[1]  # the .75 of a day


def test_a_column_of_years_is_not_read_as_serial_days(tmp_path):
    path = spreadsheet_csv(tmp_path / "years.csv", ["2014", "2015"])
    result = balanced(load_events(path))
    assert result.report.rows_loaded == 0  # not 1905-07-06 and 1905-07-07
    (first, *_) = result.report.problems
    assert first.severity == ERROR and first.row is None
    assert "every row (2) was set aside for its date" in first.message


def test_all_ambiguous_column_keeps_day_first_with_a_warning_per_row(tmp_path):
    path = spreadsheet_csv(tmp_path / "ambiguous.csv", ["05/02/2014", "03/04/2014"])
    result = balanced(load_events(path))
    assert dates(result) == ["2014-02-05", "2014-04-03"]
    row_warnings = [p for p in result.report.problems if p.row is not None]
    assert [p.row for p in row_warnings] == [1, 2]
    assert all(p.severity == WARNING and "ambiguous" in p.message for p in row_warnings)
    assert "nothing in the file settles the order, so day first" in file_notes(result)[0]


def test_arabic_month_names(tmp_path):
    path = spreadsheet_csv(
        tmp_path / "arabic.csv",
        ["22 كانون الثاني 2014", "3 إبريل 2015", "1 آب 2016", "9 ديسمبر 2017"],
    )
    result = balanced(load_events(path))
    assert dates(result) == ["2014-01-22", "2015-04-03", "2016-08-01", "2017-12-09"]


def test_a_column_of_garbage_gets_one_file_error_first_and_every_row_its_reason(tmp_path):
    path = spreadsheet_csv(tmp_path / "garbage.csv", ["soon", "2014年1月22日", "n/a?"])
    result = balanced(load_events(path))
    assert result.report.rows_loaded == 0 and result.report.rows_rejected == 3
    first, *others = result.report.problems
    assert first.severity == ERROR and first.row is None
    assert first.message.startswith(
        "every row (3) was set aside for its date, e.g. row 1: event_date 'soon' is not a date"
    )
    assert "--date-format" in first.message
    assert not [p for p in others if p.row is not None and p.column == schema.EVENT_DATE]
    reasons = result.rejected.set_index(schema.SOURCE_ROW)[schema.REJECT_REASON]
    assert reasons.at[2] == (
        "event_date '2014年1月22日' is not a date (expected e.g. 2017-11-09 or 09 November "
        "2017; give another form with --date-format)"
    )


def test_date_format_given_sets_aside_what_does_not_match(tmp_path):
    path = spreadsheet_csv(
        tmp_path / "given.csv", ["14/08/2020 00:00:00", "2020-08-15", "15/08/2020 09:30:00"]
    )
    result = balanced(load_events(path, date_format="%d/%m/%Y %H:%M:%S"))
    assert dates(result) == ["2020-08-14", "2020-08-15"]
    reasons = result.rejected.set_index(schema.SOURCE_ROW)[schema.REJECT_REASON]
    assert reasons.at[2] == (
        "event_date '2020-08-15' does not match --date-format '%d/%m/%Y %H:%M:%S' "
        "(or is not a real date)"
    )
    assert file_notes(result)[0] == (
        "event_date: read as --date-format '%d/%m/%Y %H:%M:%S', 2 of 3 values"
    )


def test_date_format_without_a_day_is_refused_naming_the_option(tmp_path):
    path = spreadsheet_csv(tmp_path / "given.csv", ["2020-08"])
    with pytest.raises(SchemaError, match="--date-format '%Y-%m' does not name the day"):
        load_events(path, date_format="%Y-%m")


def test_cli_date_format_on_the_command_line(tmp_path):
    path = spreadsheet_csv(tmp_path / "cli.csv", ["08/09/2020", "07/09/2020"])
    plain = run_cli("validate", str(path), "--format", "json")
    got = run_cli("validate", str(path), "--date-format", "%m/%d/%Y", "--format", "json")
    assert plain.returncode == 0 and got.returncode == 0, got.stderr
    report = json.loads(got.stdout)
    assert report["rows_loaded"] == 2 and report["rows_rejected"] == 0
    out = tmp_path / "geo.csv"
    built = run_cli("geocode", str(path), "-o", str(out), "--date-format", "%m/%d/%Y")
    assert built.returncode == 0, built.stderr
    assert pd.read_csv(out)[schema.EVENT_DATE].tolist() == ["2020-08-09", "2020-07-09"]


def test_mapping_file_carries_the_date_format(tmp_path):
    path = spreadsheet_csv(
        tmp_path / "mapped.csv", ["08/09/2020", "07/09/2020"], header=["id", "day", "lat", "lon"]
    )
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        'date_format: "%m/%d/%Y"\ncolumns:\n  id: event_id\n  day: event_date\n'
        "  lat: latitude\n  lon: longitude\n",
        encoding="utf-8",
    )
    out = tmp_path / "geo.csv"
    done = run_cli("geocode", str(path), "-o", str(out), "--mapping", str(mapping))
    assert done.returncode == 0, done.stderr
    assert "2 rows in, 2 written" in done.stdout
    assert pd.read_csv(out)[schema.EVENT_DATE].tolist() == ["2020-08-09", "2020-07-09"]
    # The command line wins over the mapping file.
    flipped = run_cli(
        "geocode", str(path), "-o", str(out), "--mapping", str(mapping), "--date-format", "%d/%m/%Y"
    )
    assert flipped.returncode == 0, flipped.stderr
    assert pd.read_csv(out)[schema.EVENT_DATE].tolist() == ["2020-09-08", "2020-09-07"]


# --- the real public UCDP sample, re-saved as spreadsheets do -----------------------------------

DATED = "ucdp_ged_sample_syria_iraq_2014_2018_dated.csv"
UCDP_MAPPING = {
    "id": "event_id",
    "date": "event_date",
    "side_a": "actor1",
    "side_b": "actor2",
    "best": "fatalities",
    "where_prec": "ucdp_where_prec",
    "type_of_violence": "ucdp_type_of_violence",
}


def _resaved(source: Path, target: Path, *, rewrite, encoding: str, suffix: str = "") -> pd.Series:
    """The sample with its dates rewritten by ``rewrite``; returns the original ISO dates."""
    with source.open(encoding="utf-8", newline="") as fh:
        records = list(csv.reader(fh))
    header, rows = records[0], records[1:]
    at = header.index("date")
    side = header.index("side_b")
    original = pd.Series([r[at] for r in rows])
    for r in rows:
        r[at] = rewrite(pd.Timestamp(r[at]))
    rows[16][side] = rows[16][side] + suffix  # row 17: where a typographic apostrophe sits
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows([header, *rows])
    target.write_bytes(buffer.getvalue().encode(encoding))
    return original


@pytest.mark.shared_data
def test_real_ucdp_resaved_month_first_12_hour_in_windows_1252(shared_data, tmp_path):
    target = tmp_path / "ged_resaved.csv"
    original = _resaved(
        shared_data / DATED,
        target,
        rewrite=lambda d: f"{d.month}/{d.day}/{d.year} 12:00:00 AM",
        encoding="cp1252",
        suffix=" \u2019s allies",
    )
    result = balanced(load_events(target, mapping=UCDP_MAPPING))  # no option given
    assert result.report.rows_loaded == len(original) == 773
    assert dates(result) == original.tolist()
    notes = file_notes(result)
    assert notes[0] == (
        "read as Windows-1252 (not UTF-8): byte 0x92 at row 17 is \u2019; if that is not the "
        "character meant, give the encoding with --encoding (e.g. --encoding cp1251)"
    )
    assert any(n.startswith("event_date: read as month/day/year with a time of day") for n in notes)
    assert result.events[schema.ACTOR2].iloc[16].endswith("\u2019s allies")


@pytest.mark.shared_data
@pytest.mark.parametrize(
    "rewrite",
    [
        lambda d: f"{d:%d/%m/%Y} 00:00:00",
        lambda d: f"{d.day}-{d:%b}-{d:%y}",
        lambda d: f"{d:%m/%d/%Y %H:%M}",
        lambda d: str((d - pd.Timestamp("1899-12-30")).days),
    ],
    ids=["dd/mm/yyyy HH:MM:SS", "d-Mon-yy", "mm/dd/yyyy HH:MM", "serial"],
)
def test_real_ucdp_resaved_in_other_spreadsheet_forms(shared_data, tmp_path, rewrite):
    target = tmp_path / "ged_resaved.csv"
    original = _resaved(shared_data / DATED, target, rewrite=rewrite, encoding="utf-8-sig")
    result = balanced(load_events(target, mapping=UCDP_MAPPING))
    assert result.report.rows_loaded == 773
    assert dates(result) == original.tolist()
    assert not result.report.errors


def test_start_and_end_dates_of_one_export_share_the_order_one_of_them_proves(tmp_path):
    # A UCDP re-save: only date_start has a day above 12; date_end is written the same way.
    path = tmp_path / "ged.csv"
    path.write_text(
        "id,date_start,date_end,latitude,longitude\r\n"
        "1,8/29/2014,9/1/2014,36.1,38.2\r\n"
        "2,12/01/2014,12/02/2014,36.1,38.2\r\n"
        "3,1/5/2014,1/6/2014,36.1,38.2\r\n",
        encoding="utf-8",
    )
    result = balanced(load_events(path))
    assert result.report.rows_rejected == 0
    ends = result.events[schema.DATE_END].dt.strftime("%Y-%m-%d").tolist()
    assert ends == ["2014-09-01", "2014-12-02", "2014-01-06"]
    starts = result.events[schema.DATE_START].dt.strftime("%Y-%m-%d").tolist()
    assert starts == ["2014-08-29", "2014-12-01", "2014-01-05"]
    assert not [p for p in result.report.problems if p.row is not None]  # nothing ambiguous
    notes = file_notes(result)
    assert any(
        n.startswith("date_end: read as month/day/year")
        and n.endswith("('8/29/2014' in date_start can only be read month first)")
        for n in notes
    ), notes


def test_columns_proving_opposite_orders_are_not_mixed(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text(
        "id,date_start,date_end,latitude,longitude\n"
        "1,29/08/2014,09/01/2014,36.1,38.2\n"
        "2,01/05/2014,12/31/2014,36.1,38.2\n",
        encoding="utf-8",
    )
    result = balanced(load_events(path))
    starts = result.events[schema.DATE_START].dt.strftime("%Y-%m-%d").tolist()
    assert starts[0] == "2014-08-29"  # day first, proven in its own column
    ends = result.events[schema.DATE_END].dt.strftime("%Y-%m-%d").tolist()
    assert ends[-1] == "2014-12-31"  # month first, proven in its own column


def test_precision_codes_with_a_decimal_comma_in_a_semicolon_file(tmp_path):
    path = tmp_path / "eu.csv"
    path.write_text(
        "event_id;event_date;latitude;longitude;geo_precision\r\n"
        "1;2017-01-01;36,1;38,2;1,0\r\n2;2017-01-02;36,1;38,2;2,0\r\n",
        encoding="utf-8",
    )
    result = balanced(load_events(path))
    assert result.events[schema.GEO_PRECISION].tolist() == [1, 2]
    assert not [p for p in result.report.problems if p.column == schema.GEO_PRECISION]
