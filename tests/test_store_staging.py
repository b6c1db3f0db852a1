"""The staging rows of a database load, as CSV for COPY: the values a spreadsheet leaves
behind (empty cells, quotes, line breaks, backslashes, NaN, infinities, dates as text) must
reach the database as the same values or as NULL, never shifted or merged."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pandas as pd

from dashboard.store.staging import EXTRAS_AS_JSON, MAX_STAGED_EXTRAS, stage


def _rows(staged, size: int = 1000) -> list[list[str]]:
    text = b"".join(chunk for _, chunk in staged.csv_batches(size)).decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline="")))


def _raw(staged) -> str:
    return b"".join(chunk for _, chunk in staged.csv_batches(1000)).decode("utf-8")


def test_text_keeps_empty_apart_from_missing_and_survives_quotes_and_line_breaks():
    events = pd.DataFrame(
        {
            "event_id": ["A1", "A2", "A3", "A4"],
            "notes": ['said "no", then left', "", None, "line one\nline two, with \\N"],
        }
    )
    staged = stage(events, ["notes"], [])
    raw = _raw(staged).splitlines()
    # An empty string is quoted (""), a missing value an empty field: COPY's CSV format
    # reads the first as '' and the second as NULL.
    assert raw[1] == '"A2",""'
    assert raw[2] == '"A3",'
    rows = _rows(staged)
    assert [r[1] for r in rows] == [
        'said "no", then left',
        "",
        "",
        "line one\nline two, with \\N",
    ]
    assert staged.sql_types == ("text", "text")


def test_numbers_dates_and_flags_are_typed_and_unreadable_ones_are_null():
    events = pd.DataFrame(
        {
            "event_id": ["1", "2", "3", "4"],
            "event_date": ["2017-11-09", "2017-11-10", "not a date", None],
            "fatalities": ["3", "inf", "", "2.5"],
            "latitude": [34.45, np.nan, -np.inf, 1e-7],
            "geo_precision": [1.0, 2.9, None, -1.5],
            "controller_changed_in_window": [True, None, False, np.nan],
        }
    )
    stored = [
        "event_date",
        "fatalities",
        "latitude",
        "geo_precision",
        "controller_changed_in_window",
    ]
    staged = stage(events, stored, [])
    # the small integers travel as floats: one out of smallint's range is refused by the
    # database, naming the column, not by the staging
    assert staged.sql_types == ("text", "date", "double precision", "double precision",
                                "double precision", "boolean")  # fmt: skip
    rows = _rows(staged)
    assert [r[1] for r in rows] == ["2017-11-09", "2017-11-10", "", ""]
    assert [r[2] for r in rows] == ["3", "", "", "2.5"]
    assert [float(r[3]) if r[3] else None for r in rows] == [34.45, None, None, 1e-7]
    assert [r[4] for r in rows] == ["1", "2", "", "-1"]  # truncated towards zero
    assert [r[5] for r in rows] == ["true", "", "false", ""]


def test_time_zone_aware_dates_keep_their_own_day():
    events = pd.DataFrame(
        {
            "event_id": ["1"],
            "event_date": pd.to_datetime(["2017-11-09 23:30"]).tz_localize("Asia/Baghdad"),
        }
    )
    assert _rows(stage(events, ["event_date"], []))[0][1] == "2017-11-09"


def test_object_columns_holding_numbers_are_written_as_their_text():
    events = pd.DataFrame({"event_id": [101, 102], "location": [7, None]}, dtype=object)
    rows = _rows(stage(events, ["location"], []))
    assert rows == [["101", "7"], ["102", ""]]


def test_extra_columns_are_staged_one_by_one_with_their_kind():
    events = pd.DataFrame(
        {
            "event_id": ["1", "2"],
            "best": [3, 5],
            "share": [0.5, np.nan],
            "verified": [True, False],
            "when": pd.to_datetime(["2019-03-23", None]),
            'odd "name", with a comma': ["x", None],
        }
    )
    extras = ["best", "share", "verified", "when", 'odd "name", with a comma']
    staged = stage(events, [], extras)
    assert staged.names == ["event_id", "x0", "x1", "x2", "x3", "x4"]
    assert staged.extras == tuple(extras)
    assert staged.sql_types == ("text", "bigint", "double precision", "boolean", "text", "text")
    assert _rows(staged) == [
        ["1", "3", "0.5", "true", "2019-03-23T00:00:00.000", "x"],
        ["2", "5", "", "false", "", ""],
    ]


def test_batches_cover_every_row_once():
    events = pd.DataFrame({"event_id": [f"E{i}" for i in range(25)], "notes": ["n"] * 25})
    staged = stage(events, ["notes"], [])
    sizes = [rows for rows, _ in staged.csv_batches(10)]
    assert sizes == [10, 10, 5]
    assert [r[0] for r in _rows(staged, 7)] == [f"E{i}" for i in range(25)]


def test_extras_of_mixed_or_zoned_values_keep_the_json_the_load_always_wrote():
    events = pd.DataFrame(
        {
            "event_id": ["1", "2", "3"],
            "mixed": pd.Series([1, "a", 2.5], dtype=object),
            "flag": pd.Series([True, None, False], dtype=object),
            "kind": pd.Categorical([1, 2, None]),
            "seen": pd.to_datetime(["2019-03-23 01:00", None, "2019-03-23 02:30"]).tz_localize(
                "Asia/Baghdad"
            ),
        }
    )
    staged = stage(events, [], ["mixed", "flag", "kind", "seen"])
    assert staged.sql_types == ("text", "jsonb", "jsonb", "jsonb", "text")
    rows = _rows(staged)
    assert [r[1] for r in rows] == ["1", '"a"', "2.5"]
    assert [r[2] for r in rows] == ["true", "", "false"]
    assert [r[3] for r in rows] == ["1", "2", ""]
    # a zoned time as the instant in UTC, as pandas' JSON writer gave it
    assert [r[4] for r in rows] == ["2019-03-22T22:00:00.000Z", "", "2019-03-22T23:30:00.000Z"]


def test_hundreds_of_extras_go_as_one_json_column():
    extras = [f"column {i}" for i in range(MAX_STAGED_EXTRAS + 1)]
    events = pd.DataFrame({"event_id": ["1"], **{name: ["v"] for name in extras}})
    staged = stage(events, [], extras)
    assert staged.extras_as_json and staged.names == ["event_id", EXTRAS_AS_JSON]
    assert json.loads(_rows(staged)[0][1]) == dict.fromkeys(extras, "v")
