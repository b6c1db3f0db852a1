"""The timeline's time axis (dashboard.app.timeline): few ticks, never two labels alike."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from dashboard.app.timeline import (
    COUNTS_DATA,
    MARKS_DATA,
    MAX_TICKS,
    PICK,
    time_ticks,
    timeline_chart,
)

D = dt.date.fromisoformat


@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("2014-01-04", "2019-10-08"),  # the bundled story
        ("2017-06-01", "2017-12-31"),
        ("2017-10-17", "2017-11-15"),  # a 30-day window
        ("2016-12-20", "2017-01-10"),  # across new year
        ("2017-11-15", "2017-11-15"),
        ("1989-01-01", "2025-06-01"),  # UCDP's whole span
    ],
)
def test_ticks_are_few_inside_the_range_and_their_labels_all_differ(first, last):
    ticks, fmt = time_ticks(D(first), D(last))
    labels = [t.strftime(fmt) for t in ticks]
    assert 1 <= len(ticks) <= MAX_TICKS
    assert len(set(labels)) == len(labels), labels
    assert all(D(first) <= t <= D(last) for t in ticks)
    assert ticks == sorted(ticks)


def test_the_weekly_story_axis_is_labelled_by_half_year_not_once_a_week():
    """Before: weekly bars labelled "%b %Y" by Vega repeated "Nov 2017" on every week."""
    ticks, fmt = time_ticks(D("2014-01-04"), D("2019-10-08"))
    assert fmt == "%b %Y"
    assert [t.strftime(fmt) for t in ticks][:3] == ["Jul 2014", "Jan 2015", "Jul 2015"]


def test_the_chart_uses_those_ticks_shades_the_window_and_lets_a_bar_be_clicked():
    counts = pd.DataFrame(
        {
            "period": pd.to_datetime(["2017-10-16", "2017-11-13"]),
            "event_type": ["Battles", "Battles"],
            "events": [3, 4],
        }
    )
    chart = timeline_chart(
        counts,
        as_of=D("2017-11-15"),
        window_days=30,
        colours={"Battles": "#cc0000"},
        type_order=["Battles"],
        freq="W",
        domain=(pd.Timestamp("2014-01-01"), pd.Timestamp("2019-10-01")),
    )
    window, bars, _rule = chart["layer"]
    assert window["mark"]["opacity"] >= 0.25 and window["mark"]["strokeWidth"] > 0
    values = bars["encoding"]["x"]["axis"]["values"]
    assert values[0] == {"year": 2014, "month": 1, "date": 1} and len(values) <= MAX_TICKS
    assert [p["name"] for p in chart.get("params", [])] == [PICK]
    assert chart["height"] >= 250
    # The data go as named datasets: the counts as given, the window's marks of the date.
    assert chart["datasets"][COUNTS_DATA] is counts
    marks = chart["datasets"][MARKS_DATA].iloc[0]
    assert (marks["start"], marks["end"], marks["as_of"]) == (
        pd.Timestamp("2017-10-17"),
        pd.Timestamp("2017-11-16"),
        pd.Timestamp("2017-11-15"),
    )
    assert bars["data"] == {"name": COUNTS_DATA} and window["data"] == {"name": MARKS_DATA}


def test_the_chart_of_another_date_reuses_the_shape_and_moves_only_the_window():
    counts = pd.DataFrame(
        {"period": pd.to_datetime(["2017-10-16"]), "event_type": ["Battles"], "events": [3]}
    )
    args = dict(window_days=7, colours={"Battles": "#cc0000"}, type_order=["Battles"], freq="W")
    one = timeline_chart(counts, as_of=D("2017-11-15"), **args)
    other = timeline_chart(counts, as_of=D("2017-11-22"), **args)
    one_marks, other_marks = one.pop("datasets")[MARKS_DATA], other.pop("datasets")[MARKS_DATA]
    assert one == other  # the same shape
    assert one is not other and one["layer"] is not other["layer"]  # each its own copy
    assert other_marks["as_of"].iloc[0] - one_marks["as_of"].iloc[0] == pd.Timedelta(days=7)
