"""A build's events as the staging table's rows: typed columns made once for the whole frame
(no Python value per cell, except in columns of mixed Python objects), written as CSV in
batches for ``COPY ... (FORMAT csv)``.

In PostgreSQL's CSV format an unquoted empty field is NULL and a quoted one (``""``) an empty
string; Arrow's writer, with ``quoting_style="needed"``, quotes every string value and writes
a null as an empty field, so the two stay apart (``tests/test_store_staging.py`` holds it to
that). The columns that go into ``extra`` are staged one by one (``x0``, ``x1``..., typed
after their values) and made into the JSON object by the database when it merges; beyond
:data:`MAX_STAGED_EXTRAS` of them, as one JSON column made here.
"""

import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from dashboard import schema
from dashboard.store.tables import (
    BOOL_COLUMNS,
    DATE_COLUMNS,
    EVENT_TYPES,
    FLOAT_COLUMNS,
    SMALLINT_COLUMNS,
)

#: Extra columns staged one by one up to this many (a table holds at most 1,600 columns, and
#: a row of a few hundred short values already outgrows a page); more go as one JSON column.
MAX_STAGED_EXTRAS = 200
#: The staged column holding the extras as JSON when there are too many to stage apart.
EXTRAS_AS_JSON = "extras_json"


@dataclass(frozen=True)
class Staged:
    """The staging table of one load."""

    table: pa.Table
    """event_id, the stored columns present, then one column per extra (``x0``...)."""
    sql_types: tuple[str, ...]
    """The SQL type of each of the table's columns, in its order."""
    extras: tuple[str, ...]
    """The build's column names the extra columns stand for, in order."""
    extras_as_json: bool = False
    """The extras are one JSON column (:data:`EXTRAS_AS_JSON`), not ``x0``, ``x1``..."""

    @property
    def names(self) -> list[str]:
        return list(self.table.column_names)

    def csv_batches(self, size: int) -> Iterator[tuple[int, bytes]]:
        """The rows ``size`` at a time as CSV without a header: (rows, bytes)."""
        options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
        for start in range(0, self.table.num_rows, size):
            part = self.table.slice(start, size)
            out = io.BytesIO()
            pacsv.write_csv(part, out, options)
            yield part.num_rows, out.getvalue()


def stage(events: pd.DataFrame, stored: Sequence[str], extras: Sequence[str]) -> Staged:
    """The staging table of ``events``: ``event_id`` and the ``stored`` columns with the types
    of the events table, and the ``extras`` typed after their values (see :func:`_extra`)."""
    columns: dict[str, pa.Array] = {schema.EVENT_ID: _text(events[schema.EVENT_ID])}
    types = ["text"]
    for name in stored:
        columns[name] = _stored(events[name], name)
        types.append("double precision" if name in SMALLINT_COLUMNS else EVENT_TYPES[name])
    if len(extras) > MAX_STAGED_EXTRAS:
        text = events[list(extras)].to_json(orient="records", lines=True, date_format="iso")
        columns[EXTRAS_AS_JSON] = pa.array(text.splitlines(), type=pa.large_string())
        types.append("jsonb")
        return Staged(pa.table(columns), tuple(types), tuple(extras), extras_as_json=True)
    for i, name in enumerate(extras):
        array, sql_type = _extra(events[name])
        columns[f"x{i}"] = array
        types.append(sql_type)
    return Staged(pa.table(columns), tuple(types), tuple(extras))


def _stored(values: pd.Series, column: str) -> pa.Array:
    """A stored column: unreadable dates and numbers, and non-finite floats, are NULL (as
    the load always did); small integers are truncated towards zero, and staged as floats
    so that one out of smallint's range is refused by the database, naming the column."""
    if column in DATE_COLUMNS:
        return _dates(values)
    if column in SMALLINT_COLUMNS:
        return pa.array(np.trunc(_floats(values)), from_pandas=True)
    if column in FLOAT_COLUMNS:
        return pa.array(_floats(values), from_pandas=True)
    if column in BOOL_COLUMNS:
        return _bools(values)
    return _text(values)


def _extra(values: pd.Series) -> tuple[pa.Array, str]:
    """An extra column and its staging type: numbers stay numbers in the JSON (non-finite
    ones null), booleans booleans, times ISO text (UTC with a Z when zoned, to the
    millisecond), text text; any other mix of values each as its own JSON."""
    dtype = values.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        return _json_values(values), "jsonb"
    if pd.api.types.is_bool_dtype(dtype):
        return _bools(values), "boolean"
    if pd.api.types.is_integer_dtype(dtype):
        try:
            as_int = values.astype("Int64")
        except (OverflowError, TypeError, ValueError):  # beyond a bigint: written as text
            return _text(values), "text"
        return pa.array(as_int, type=pa.int64(), from_pandas=True), "bigint"
    if pd.api.types.is_float_dtype(dtype):
        return pa.array(_floats(values), from_pandas=True), "double precision"
    if isinstance(dtype, pd.DatetimeTZDtype):
        return _text(_iso_millis(values.dt.tz_convert("UTC")) + "Z"), "text"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return _text(_iso_millis(values)), "text"
    if isinstance(dtype, pd.StringDtype) or _all_text(values):
        return _text(values), "text"
    return _json_values(values), "jsonb"


def _iso_millis(values: pd.Series) -> pd.Series:
    return values.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3]


def _all_text(values: pd.Series) -> bool:
    return all(isinstance(v, str) or _missing(v) for v in values.astype(object))


def _json_values(values: pd.Series) -> pa.Array:
    """Each value as JSON text, as the load always wrote mixed columns: numbers as numbers,
    times as ISO text, missing values null."""
    objects = values.astype(object)
    return pa.array(
        [None if _missing(v) else json.dumps(v, default=_jsonable, allow_nan=False)
         for v in objects],
        type=pa.large_string(),
    )  # fmt: skip


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or a dict: not a missing value
        return False


def _jsonable(value: object) -> object:
    if isinstance(value, np.generic):
        item = value.item()
        return None if isinstance(item, float) and not np.isfinite(item) else item
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _text(values: pd.Series) -> pa.Array:
    # large_string: a column may hold more than 2 GiB of text
    if isinstance(values.dtype, pd.StringDtype):
        return pa.array(values, type=pa.large_string(), from_pandas=True)
    as_objects = values.astype(object)
    missing = pd.isna(as_objects).to_numpy()
    if not missing.any() and all(type(v) is str for v in as_objects):
        return pa.array(as_objects, type=pa.large_string())
    return pa.array(
        [None if gone else str(v) for v, gone in zip(as_objects, missing, strict=True)],
        type=pa.large_string(),
    )


def _floats(values: pd.Series) -> np.ndarray:
    numbers = pd.to_numeric(values, errors="coerce")
    floats = np.array(numbers.to_numpy(dtype=float, na_value=np.nan), dtype=float, copy=True)
    floats[~np.isfinite(floats)] = np.nan
    return floats


def _dates(values: pd.Series) -> pa.Array:
    parsed = pd.to_datetime(values, errors="coerce")
    if isinstance(parsed.dtype, pd.DatetimeTZDtype):
        parsed = parsed.dt.tz_localize(None)
    days = parsed.to_numpy(dtype="datetime64[D]")
    return pa.array(days, type=pa.date32(), from_pandas=True)


def _bools(values: pd.Series) -> pa.Array:
    if values.dtype == bool:
        return pa.array(values.to_numpy(), type=pa.bool_())
    objects = values.astype(object)
    missing = pd.isna(objects).to_numpy()
    flags = np.array([False if gone else bool(v) for v, gone in zip(objects, missing, strict=True)])
    return pa.array(flags, mask=missing, type=pa.bool_())
