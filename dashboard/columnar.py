"""The in-memory form the app keeps of a built events table: date-sorted and compact.

A million ACLED rows built by the pipeline take about 1.4 GB as a GeoDataFrame: a shapely
point per row, and forty text columns most of whose values repeat (event types, actors,
places, sources). The app needs neither the point objects (latitude and longitude are
columns) nor a copy of each repeated string, so :func:`compact_events`

* drops the geometry column (the map and the exports use ``latitude``/``longitude``),
* stores text columns whose values repeat as pandas categoricals (an integer code per row
  and each distinct value once),
* sorts the rows by ``event_date`` (stable, undated rows last), so a date window is a
  contiguous run of rows found by binary search (``timewindow.build_date_index``).

The result is written to and read back from Parquet unchanged (categoricals travel as
dictionary-encoded columns), which is what makes the app's warm start fast.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard import schema

#: A text column becomes categorical when it has at most this share of distinct values.
CATEGORY_MAX_SHARE = 0.5
#: ... and only when it has at least this many rows (tiny tables gain nothing).
CATEGORY_MIN_ROWS = 64
_GEOMETRY_DTYPE = "geometry"


def compact_events(events: pd.DataFrame) -> pd.DataFrame:
    """A new, compact, date-sorted copy of a built events table.

    Parameters
    ----------
    events
        Canonical events (a DataFrame or GeoDataFrame), as ``pipeline.build`` returns them.

    Returns
    -------
    pandas.DataFrame
        Same rows and values, no geometry column, repeated text as categoricals, sorted by
        ``event_date`` (stable; rows without a date last), with a fresh 0..n-1 index.
    """
    keep = [c for c in events.columns if str(events[c].dtype) != _GEOMETRY_DTYPE]
    frame = pd.DataFrame({c: events[c] for c in keep}, index=events.index)
    if schema.EVENT_DATE in frame:
        order = date_order(frame[schema.EVENT_DATE])
        if order is not None:
            frame = frame.iloc[order]
    frame = frame.reset_index(drop=True)
    for column in frame.columns:
        if _worth_a_category(frame[column]):
            frame[column] = frame[column].astype("category")
    return frame


def date_order(dates: pd.Series) -> np.ndarray | None:
    """Positions that sort ``dates`` (stable, unparseable last), or None when already sorted."""
    parsed = pd.to_datetime(dates, errors="coerce")
    values = parsed.to_numpy(dtype="datetime64[ns]")
    missing = np.isnat(values)
    present = values[~missing]
    if not missing[: len(present)].any() and (
        len(present) < 2 or bool((present[1:] >= present[:-1]).all())
    ):
        return None
    keys = values.view("int64").copy()
    keys[missing] = np.iinfo(np.int64).max  # undated rows last, in their original order
    return np.argsort(keys, kind="stable")


def _worth_a_category(column: pd.Series) -> bool:
    if isinstance(column.dtype, pd.CategoricalDtype):
        return False
    if not (pd.api.types.is_string_dtype(column.dtype) or column.dtype == object):
        return False
    n = len(column)
    if n < CATEGORY_MIN_ROWS:
        return False
    # Each value's type compared with str (eq takes any object; pandas-stubs only scalars).
    if column.dtype == object and not column.dropna().map(type).eq(str).all():  # type: ignore[arg-type]
        return False  # mixed objects: leave them as they are
    return column.nunique(dropna=True) <= CATEGORY_MAX_SHARE * n
