"""The app's compact, date-sorted form of the events (dashboard.columnar)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard import schema
from dashboard.columnar import CATEGORY_MIN_ROWS, compact_events, date_order
from dashboard.paths import BUNDLED_AREAS, BUNDLED_EVENTS
from dashboard.pipeline import build


def _frame(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    dates = pd.to_datetime("2017-01-01") + pd.to_timedelta(rng.integers(0, 400, n), unit="D")
    return pd.DataFrame(
        {
            schema.EVENT_ID: [f"E{i}" for i in range(n)],
            schema.EVENT_DATE: dates,
            schema.EVENT_TYPE: rng.choice(["Battles", "Protests"], n),
            schema.NOTES: [f"note {i}" for i in range(n)],
            schema.LATITUDE: rng.uniform(33, 37, n),
            schema.FATALITIES: rng.integers(0, 5, n).astype(float),
        }
    )


def test_rows_are_sorted_by_date_stably_with_undated_rows_last():
    frame = pd.DataFrame(
        {
            schema.EVENT_ID: ["a", "b", "c", "d", "e"],
            schema.EVENT_DATE: pd.to_datetime(
                ["2017-03-01", None, "2017-01-01", "2017-03-01", "2017-02-01"]
            ),
        }
    )
    out = compact_events(frame)
    assert list(out[schema.EVENT_ID]) == ["c", "e", "a", "d", "b"]
    assert list(out.index) == [0, 1, 2, 3, 4]
    assert date_order(out[schema.EVENT_DATE]) is None  # already sorted: nothing to do
    assert list(frame[schema.EVENT_ID]) == ["a", "b", "c", "d", "e"]  # caller's frame intact


def test_repeated_text_becomes_categorical_and_unique_text_does_not():
    out = compact_events(_frame())
    assert isinstance(out[schema.EVENT_TYPE].dtype, pd.CategoricalDtype)
    assert not isinstance(out[schema.NOTES].dtype, pd.CategoricalDtype)
    assert not isinstance(out[schema.EVENT_ID].dtype, pd.CategoricalDtype)
    assert out[schema.LATITUDE].dtype == np.float64


def test_small_tables_keep_their_dtypes():
    out = compact_events(_frame(CATEGORY_MIN_ROWS - 1))
    assert not isinstance(out[schema.EVENT_TYPE].dtype, pd.CategoricalDtype)


def test_values_are_unchanged_row_for_row():
    frame = _frame()
    out = compact_events(frame)
    again = frame.sort_values(schema.EVENT_DATE, kind="stable").reset_index(drop=True)
    for column in frame.columns:
        assert list(out[column].astype(object)) == list(again[column].astype(object)), column


def test_the_built_demo_survives_a_parquet_round_trip(tmp_path):
    built = build(BUNDLED_EVENTS, [BUNDLED_AREAS]).events
    out = compact_events(built)
    assert "geometry" not in out.columns
    assert len(out) == len(built)
    assert sorted(out[schema.EVENT_ID]) == sorted(built[schema.EVENT_ID])
    out.to_parquet(tmp_path / "events.parquet", index=False)
    back = pd.read_parquet(tmp_path / "events.parquet")

    def plain(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.astype(object)
        return frame.where(frame.notna(), None)

    pd.testing.assert_frame_equal(plain(back), plain(out))
    for column in out.columns:
        assert str(back[column].dtype).split("[")[0] == str(out[column].dtype).split("[")[0]


@pytest.mark.parametrize("column", [schema.LATITUDE, schema.FATALITIES])
def test_numbers_stay_numbers(column):
    out = compact_events(_frame())
    assert pd.api.types.is_float_dtype(out[column])


def test_the_events_table_sends_plain_values_not_the_whole_datasets_categories():
    import pyarrow as pa

    from dashboard.app.view import _plain_text

    out = compact_events(_frame(5000))
    rows = out.iloc[:10]
    plain = _plain_text(rows)
    assert not any(isinstance(t, pd.CategoricalDtype) for t in plain.dtypes)
    assert list(plain[schema.EVENT_TYPE]) == list(rows[schema.EVENT_TYPE].astype(str))
    # What Arrow would carry: the categorical column drags along all 5,000 notes.
    notes = rows[[schema.NOTES]].astype({schema.NOTES: "category"})
    notes[schema.NOTES] = notes[schema.NOTES].cat.set_categories(out[schema.NOTES].unique())
    big = pa.Table.from_pandas(notes).nbytes
    small = pa.Table.from_pandas(_plain_text(notes)).nbytes
    assert small * 20 < big
