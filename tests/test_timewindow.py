"""Window selection, filters and counts on tiny frames whose answers are worked out by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from dashboard import schema
from dashboard.timewindow import (
    Filters,
    build_date_index,
    controller_summary,
    data_bounds,
    period_counts,
    select,
    step_date,
    weekly_counts,
    window_bounds,
    window_mask,
    window_positions,
)

D = dt.date


def _events() -> pd.DataFrame:
    # Deliberately not in date order, with one undated row.
    return pd.DataFrame(
        {
            schema.EVENT_ID: ["e0", "e1", "e2", "e3", "e4", "e5"],
            schema.EVENT_DATE: pd.to_datetime(
                ["2017-01-10", "2017-01-01", "2017-01-05", None, "2017-01-05", "2016-12-25"]
            ),
            schema.EVENT_TYPE: ["Battles", "Battles", "Riots", "Battles", "Protests", "Battles"],
            schema.SUB_EVENT_TYPE: [
                "Armed clash",
                "Armed clash",
                "Mob violence",
                "Armed clash",
                "Peaceful protest",
                "Armed clash",
            ],
            schema.ACTOR1: ["A", "B", "C", "A", "D", "B"],
            schema.ACTOR2: ["B", None, "A", None, None, None],
            schema.COUNTRY: ["Iraq", "Iraq", "Syria", "Iraq", "Syria", "Iraq"],
            schema.ADMIN1: ["Ninewa", "Anbar", "Aleppo", "Ninewa", "Idleb", "Ninewa"],
            schema.FATALITIES: [5.0, 0.0, np.nan, 1.0, 0.0, 12.0],
            schema.GEO_PRECISION: pd.array([1, 2, 3, 1, None, 1], dtype="Int64"),
            schema.CONTROLLER: [
                "Islamic State",
                "Iraqi government",
                None,
                "Islamic State",
                "SDF",
                "Islamic State",
            ],
        }
    )


def test_index_is_sorted_and_keeps_undated_apart():
    index = build_date_index(_events()[schema.EVENT_DATE])
    assert list(index.positions) == [5, 1, 2, 4, 0]
    assert list(index.undated) == [3]
    assert index.first == D(2016, 12, 25) and index.last == D(2017, 1, 10)
    assert np.all(np.diff(index.days) >= 0)


def test_window_is_inclusive_at_both_ends():
    index = build_date_index(_events()[schema.EVENT_DATE])
    assert window_bounds(D(2017, 1, 5), 5) == (D(2017, 1, 1), D(2017, 1, 5))
    assert list(window_positions(index, D(2017, 1, 5), 5)) == [1, 2, 4]
    assert list(window_positions(index, D(2017, 1, 5), 1)) == [2, 4]
    assert list(window_positions(index, D(2017, 1, 4), 1)) == []
    assert list(window_positions(index, D(2030, 1, 1), 7)) == []
    mask = window_mask(index, 6, D(2017, 1, 10), 7)
    assert list(mask) == [True, False, True, False, True, False]


def test_window_of_zero_days_is_refused():
    with pytest.raises(ValueError, match="at least one day"):
        window_bounds(D(2017, 1, 1), 0)


def test_window_selection_matches_a_plain_scan_on_random_dates():
    rng = np.random.default_rng(7)
    dates = pd.Series(
        pd.to_datetime("2015-01-01") + pd.to_timedelta(rng.integers(0, 900, 2000), "D")
    )
    index = build_date_index(dates)
    for as_of, days in [(D(2015, 6, 1), 30), (D(2016, 2, 29), 365), (D(2017, 6, 1), 7)]:
        start = pd.Timestamp(as_of - dt.timedelta(days=days - 1))
        expected = np.flatnonzero(((dates >= start) & (dates <= pd.Timestamp(as_of))).to_numpy())
        assert sorted(window_positions(index, as_of, days)) == list(expected)


def test_no_filter_hides_nothing():
    events = _events()
    sel = select(
        events,
        build_date_index(events[schema.EVENT_DATE]),
        as_of=D(2017, 1, 10),
        window_days=30,
        filters=Filters(),
    )
    assert sel.in_window == 5 and sel.shown == 5 and sel.hidden_total == 0
    assert set(sel.hidden_by.values()) == {0}


def test_each_filter_counts_what_it_hides():
    events = _events()
    index = build_date_index(events[schema.EVENT_DATE])
    # Window 2016-12-12..2017-01-10 holds e5, e1, e2, e4, e0 (e3 is undated).
    sel = select(
        events,
        index,
        as_of=D(2017, 1, 10),
        window_days=30,
        filters=Filters(event_types=("Battles",), min_fatalities=1),
    )
    # Battles: e5, e1, e0 -> hides e2, e4. Fatalities >= 1: e5 (12), e0 (5) -> hides e1, e2
    # (unknown is not "at least 1"), e4.
    assert sel.hidden_by["event_types"] == 2
    assert sel.hidden_by["min_fatalities"] == 3
    assert sel.hidden_only_by == {**{k: 0 for k in sel.hidden_by}, "min_fatalities": 1}
    assert sel.hidden_total == 3
    assert sorted(events.iloc[sel.positions][schema.EVENT_ID]) == ["e0", "e5"]


def test_actor_filter_matches_either_actor():
    events = _events()
    sel = select(
        events,
        build_date_index(events[schema.EVENT_DATE]),
        as_of=D(2017, 1, 10),
        window_days=30,
        filters=Filters(actors=("A",)),
    )
    assert sorted(events.iloc[sel.positions][schema.EVENT_ID]) == ["e0", "e2"]


def test_precision_filter_treats_missing_precision_as_imprecise():
    events = _events()
    index = build_date_index(events[schema.EVENT_DATE])
    precise = select(
        events, index, as_of=D(2017, 1, 10), window_days=30, filters=Filters(precisions=(1,))
    )
    assert sorted(events.iloc[precise.positions][schema.EVENT_ID]) == ["e0", "e5"]
    vague = select(
        events, index, as_of=D(2017, 1, 10), window_days=30, filters=Filters(precisions=(3,))
    )
    assert sorted(events.iloc[vague.positions][schema.EVENT_ID]) == ["e2", "e4"]
    every = select(
        events, index, as_of=D(2017, 1, 10), window_days=30, filters=Filters(precisions=(1, 2, 3))
    )
    assert every.shown == 5


def test_country_and_admin1_filters():
    events = _events()
    index = build_date_index(events[schema.EVENT_DATE])
    sel = select(
        events,
        index,
        as_of=D(2017, 1, 10),
        window_days=30,
        filters=Filters(countries=("Iraq",), admin1=("Ninewa",)),
    )
    assert sorted(events.iloc[sel.positions][schema.EVENT_ID]) == ["e0", "e5"]
    assert sel.hidden_by == {**sel.hidden_by, "countries": 2, "admin1": 3}


def test_filters_active_flag():
    assert not Filters().active
    assert not Filters(precisions=(1, 2, 3)).active
    assert Filters(precisions=(1,)).active
    assert Filters(min_fatalities=1).active


@pytest.mark.parametrize(
    ("start", "step", "direction", "expected"),
    [
        (D(2017, 1, 31), "day", 1, D(2017, 2, 1)),
        (D(2017, 1, 31), "week", -1, D(2017, 1, 24)),
        (D(2017, 1, 31), "month", 1, D(2017, 2, 28)),
        (D(2016, 3, 31), "month", -1, D(2016, 2, 29)),
    ],
)
def test_steps(start, step, direction, expected):
    assert step_date(start, step, direction) == expected


def test_steps_clamp_to_the_data_range():
    assert step_date(D(2017, 1, 2), "week", -1, first=D(2017, 1, 1)) == D(2017, 1, 1)
    assert step_date(D(2017, 1, 2), "month", 1, last=D(2017, 1, 20)) == D(2017, 1, 20)
    with pytest.raises(ValueError, match="unknown step"):
        step_date(D(2017, 1, 2), "year", 1)


def test_weekly_counts_start_on_monday():
    events = _events()
    counts = period_counts(events, freq="W")
    # 2016-12-25 is a Sunday -> week of Mon 2016-12-19; 2017-01-01 (Sun) -> 2016-12-26;
    # 2017-01-05 (Thu) x2 -> 2017-01-02; 2017-01-10 (Tue) -> 2017-01-09.
    got = {(str(p.date()), t): n for p, t, n in counts.itertuples(index=False)}
    assert got == {
        ("2016-12-19", "Battles"): 1,
        ("2016-12-26", "Battles"): 1,
        ("2017-01-02", "Riots"): 1,
        ("2017-01-02", "Protests"): 1,
        ("2017-01-09", "Battles"): 1,
    }
    daily = period_counts(events, freq="D")
    assert int(daily["events"].sum()) == 5


def test_controller_summary_keeps_unknown_fatalities_apart():
    table = controller_summary(_events())
    rows = {
        r.controller: (
            r.events,
            None if pd.isna(r.fatalities) else int(r.fatalities),
            r.unknown_fatalities,
        )
        for r in table.itertuples(index=False)
    }
    assert rows == {
        "Islamic State": (3, 18, 0),
        "Iraqi government": (1, 0, 0),
        "No control area": (1, None, 1),  # unknown, not zero
        "SDF": (1, 0, 0),
    }
    assert table.iloc[0]["controller"] == "Islamic State"
    assert controller_summary(_events().iloc[0:0]).empty


def test_data_bounds_follow_the_events_else_the_areas():
    areas = pd.DataFrame(
        {
            schema.AREA_ID: ["a", "b"],
            schema.VALID_FROM: pd.to_datetime(["2010-01-01", "2017-07-10"]),
            schema.VALID_TO: pd.to_datetime(["2017-07-10", None]),
        }
    )
    events_index = build_date_index(_events()[schema.EVENT_DATE])
    assert data_bounds(events_index, areas) == (D(2016, 12, 25), D(2017, 1, 10))
    no_events = build_date_index(_events()[schema.EVENT_DATE].iloc[0:0])
    assert data_bounds(no_events, areas) == (D(2010, 1, 1), D(2017, 7, 10))


@pytest.mark.parametrize("freq", ["W", "D"])
@pytest.mark.parametrize("categorical", [False, True])
def test_period_counts_equal_a_plain_groupby(freq, categorical):
    """The code-based count equals grouping the strings, missing labels and dates included."""
    rng = np.random.default_rng(11)
    n = 4000
    events = pd.DataFrame(
        {
            schema.EVENT_DATE: pd.to_datetime("2016-01-01")
            + pd.to_timedelta(rng.integers(0, 900, n), unit="D"),
            # None and a real "Unknown" both end up under the label "Unknown".
            schema.EVENT_TYPE: rng.choice(["Battles", "Protests", None, "Unknown", "Riots"], n),
        }
    )
    events.loc[rng.random(n) < 0.05, schema.EVENT_DATE] = pd.NaT
    if categorical:
        events[schema.EVENT_TYPE] = events[schema.EVENT_TYPE].astype("category")
    dates = pd.to_datetime(events[schema.EVENT_DATE])
    ok = dates.notna()
    day = dates[ok].dt.normalize()
    if freq == "W":
        day = day - pd.to_timedelta(day.dt.day_of_week, unit="D")
    labels = events.loc[ok, schema.EVENT_TYPE].astype(object).fillna(schema.UNKNOWN).astype(str)
    expected = (
        pd.DataFrame({"period": day.to_numpy(), schema.EVENT_TYPE: labels.to_numpy()})
        .groupby(["period", schema.EVENT_TYPE], sort=True)
        .size()
        .rename("events")
        .reset_index()
    )
    got = period_counts(events, freq=freq)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert got["events"].sum() == ok.sum()
    if freq == "W":  # weeks summed from days (what a database returns) are the same weeks
        weekly = weekly_counts(period_counts(events, freq="D"))
        pd.testing.assert_frame_equal(weekly, got)
