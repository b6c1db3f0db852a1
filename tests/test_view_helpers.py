"""The page's small rules (dashboard.app.view): blank cells for missing values, the date
typed beside the slider, and the date a timeline bar stands for."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from dashboard import schema
from dashboard.app.safetext import blank_missing
from dashboard.app.view import SHOWN_ORDER, TABLE_COLUMNS, picked_day, typed_date

D = dt.date.fromisoformat


def test_missing_values_are_blank_cells_not_the_word_none():
    frame = pd.DataFrame(
        {
            "actor2": ["Islamic State", None],
            "notes": pd.Series(["x", pd.NA], dtype="string"),
            "fatalities": pd.Series([12, pd.NA], dtype="Int64"),
            "latitude": [36.34, 35.95],
            "precision": [1.0, float("nan")],
        }
    )
    out = blank_missing(frame)
    assert out["actor2"].tolist() == ["Islamic State", ""]
    assert out["notes"].tolist() == ["x", ""]
    assert out["fatalities"].tolist() == ["12", ""]  # a count stays a whole number
    assert out["precision"].tolist() == ["1", ""]
    assert out["latitude"].tolist() == [36.34, 35.95]  # no gap: still numbers
    assert frame["actor2"].isna().tolist() == [False, True]  # the input is not changed


def test_the_page_shows_every_column_the_downloads_hold_with_the_notes_early():
    assert sorted(SHOWN_ORDER) == sorted(TABLE_COLUMNS)
    assert SHOWN_ORDER.index(schema.NOTES) <= 6
    assert SHOWN_ORDER.index(schema.CONTROLLER) < SHOWN_ORDER.index(schema.ACTOR1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2017-11-09", D("2017-11-09")),
        (" 2017-11-09 ", D("2017-11-09")),
        ("9/11/2017", "“9/11/2017” is not a date written YYYY-MM-DD"),
        ("2017-02-30", "“2017-02-30” is not a date written YYYY-MM-DD"),
        ("2013-12-31", "2013-12-31 is outside the data's dates, 2014-01-04 to 2019-10-08."),
    ],
)
def test_a_typed_date_is_taken_or_refused_with_the_reason(text, expected):
    got = typed_date(text, D("2014-01-04"), D("2019-10-08"))
    if isinstance(expected, str):
        assert isinstance(got, str) and got.startswith(expected)
    else:
        assert got == expected


def test_a_week_bar_moves_to_its_sunday_and_a_day_bar_to_its_day():
    monday = pd.Timestamp("2017-11-06")
    epoch_ms = monday.value // 1_000_000
    assert picked_day({"period": epoch_ms}, "W") == D("2017-11-12")
    assert picked_day({"period": "2017-11-06T00:00:00"}, "D") == D("2017-11-06")
    assert picked_day({"period": "nonsense"}, "D") is None
    assert picked_day({}, "W") is None


def test_the_place_search_travels_in_the_permalink_and_cannot_flood_the_page():
    from dashboard import viewstate as S

    options = S.Options(first=D("2014-01-04"), last=D("2019-10-08"))
    view, notices = S.parse_query({"place": ["البوكمال"], "date": ["2017-11-15"]}, options)
    assert view.place == "البوكمال" and notices == []
    assert S.to_query(view)["place"] == ["البوكمال"]
    assert "place" not in S.to_query(S.ViewState(as_of=D("2017-11-15")))
    long, notices = S.parse_query({"place": ["x" * 5000 + "\x07"]}, options)
    assert len(long.place) == S.PLACE_MAX_CHARS and len(notices) == 1
