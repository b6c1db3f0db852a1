"""Every table the product writes (CSV and GeoJSON), safe to open in a spreadsheet.

One neutraliser and one CSV writer serve every table: the page's event CSV and GeoJSON, the
compare-mode and set-aside downloads, ``OUT.rejected.csv``, ``OUT.rejected-areas.csv``,
``conflictmap geocode``'s output and the ``compare``/``check`` CSVs. A new writer calls
:func:`to_csv_bytes`, :func:`to_csv_text`, :func:`write_csv` or :func:`to_geojson_bytes`;
never ``DataFrame.to_csv`` on its own.

Formula cells (CSV injection)
-----------------------------
A spreadsheet runs a cell whose text starts with ``=``, ``+``, ``-`` or ``@`` as a formula
(``=HYPERLINK(...)``, ``+cmd|' /C calc'!A0``, ``@SUM(...)``); OWASP's CSV-injection guidance
adds a leading tab and carriage return, which some programs drop before reading the rest.
The rule here, applied to every text cell and to every column name:

* a value that starts with a tab or a carriage return is neutralised;
* so is a value whose first character that is not white space, a control or an invisible
  format character (zero-width space, bidi marks, BOM) is ``= + - @`` or a form that NFKC
  folds to one of them (full-width ``＝ ＋ － ＠``, small and super/subscript forms):
  programs that trim leading spaces on import, or that accept the wide forms typed with an
  East Asian input method, would otherwise read a formula;
* except when the whole value is exactly a plain number (``-12.5``, ``+3``, ``-1e5``):
  that is a number, not a formula, and stays as written;
* neutralising means one ``'`` put in front, which spreadsheets show as text. A value that
  already starts with ``'`` followed by something the rule would neutralise gets one more,
  so :func:`restore` recovers every original value exactly (drop one ``'`` where one was
  added).

Only the first character decides: with correct quoting a ``,`` ``;`` ``"`` or line break
inside a value cannot start a new cell, so text after one is not a cell start.

Which cells are text: everything that is not a number, a boolean or a date column. Text is
found in object columns (``str`` or any other object: written as its ``str()``, dates as
ISO text), pandas ``StringDtype`` (Python or pyarrow), ``ArrowDtype`` strings, categoricals
(whatever the dtype of their categories) and anything else; it is converted to text first
and neutralised after, so no dtype slips past. Numbers held in an object or categorical
column stay numbers.

Quoting
-------
Cells are written with ``csv.QUOTE_MINIMAL``: a cell holding the delimiter, a ``"`` (doubled)
or any line break is quoted. Python's CSV writer decides on line breaks from its line
terminator only, so with ``"\\n"`` rows a bare carriage return went out unquoted and every
reader split the row there. :func:`to_csv_text` lets the writer end rows with ``"\\r\\n"``
(so both characters force quoting) and turns each row's own ending into ``"\\n"``. Numbers
and empty cells stay unquoted (a quoted ``""`` reads as an empty string, not as unknown, in
some programs); quoting every text cell (``QUOTE_NONNUMERIC``) would not stop a formula
anyway, since spreadsheets read inside the quotes.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import os
import re
import unicodedata
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dashboard import schema

#: Leading characters that make a spreadsheet run a cell (OWASP's list).
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
_ALWAYS_NEUTRALISED = ("\t", "\r")  # whatever follows: some programs drop them, then read on
_FORMULA_STARTS = frozenset(p for p in FORMULA_PREFIXES if p not in _ALWAYS_NEUTRALISED)
_MARK = "'"
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_GEOMETRY = "geometry"
# Characters a reader may drop or not show in front of a formula: white space, controls
# (NUL, VT, ...) and invisible format characters (ZWSP, bidi marks, BOM).
_SKIPPED_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})


def _first_visible(text: str) -> str | None:
    for ch in text:
        if ch.isspace() or unicodedata.category(ch) in _SKIPPED_CATEGORIES:
            continue
        return ch
    return None


def is_formula(text: str) -> bool:
    """Whether a spreadsheet could run ``text`` as a formula (the rule in the module doc).

    Parameters
    ----------
    text
        One cell's text.

    Returns
    -------
    bool
        True for ``=1+1``, ``  @SUM(A1)``, ``＝1``, ``\\tx``; False for ``-12.5``, ``Mosul``,
        ``'=1+1`` and the empty string.
    """
    if not text:
        return False
    first = text[0]
    if first.isascii() and first.isalnum():  # the usual cell: decided at once
        return False
    if not text.startswith(_ALWAYS_NEUTRALISED):
        visible = _first_visible(text)
        if visible is None or unicodedata.normalize("NFKC", visible)[:1] not in _FORMULA_STARTS:
            return False
    return _PLAIN_NUMBER.fullmatch(text) is None


def neutralise(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet would run as a formula.

    Parameters
    ----------
    value
        One cell. Non-text values are returned unchanged, and so is text that is exactly a
        plain number. Text that already starts with ``'`` in front of a formula gets one
        more ``'``, so that :func:`restore` can undo this exactly.

    Returns
    -------
    Any
        The value to write.
    """
    if not isinstance(value, str) or not value:
        return value
    if is_formula(value) or (value[0] == _MARK and is_formula(value.lstrip(_MARK))):
        return _MARK + value
    return value


def restore(text: str) -> str:
    """The original text of a cell that :func:`neutralise` wrote (its inverse).

    Parameters
    ----------
    text
        A cell as read back from one of the product's CSV or GeoJSON files.

    Returns
    -------
    str
        ``text`` without the ``'`` that was added, or ``text`` itself when none was.
    """
    if text.startswith(_MARK) and is_formula(text.lstrip(_MARK)):
        return text[1:]
    return text


def _cell_text(value: Any) -> Any:
    """One value of a text-holding column: numbers kept, anything else as neutralised text."""
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
        return value
    if isinstance(value, (dt.date, dt.datetime, pd.Timestamp)):
        return neutralise(value.isoformat())
    return neutralise(str(value))


def _text_column(series: pd.Series) -> pd.Series:
    """An object column of neutralised text (and any numbers) from a column of any dtype."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        # Each distinct value once: a categorical's categories, then a take by code.
        categories = pd.Series(np.asarray(series.cat.categories, dtype=object), dtype=object)
        converted = categories.map(_cell_text, na_action="ignore").to_numpy(dtype=object)
        codes = series.cat.codes.to_numpy()
        values = np.empty(len(codes), dtype=object)
        present = codes >= 0
        values[present] = converted[codes[present]]
        values[~present] = None
        return pd.Series(values, index=series.index, dtype=object)
    values = pd.Series(series.to_numpy(dtype=object, na_value=None), index=series.index)
    return values.map(_cell_text, na_action="ignore").astype(object)


def _header(name: Hashable) -> str:
    return neutralise(name if isinstance(name, str) else str(name))


def export_frame(events: pd.DataFrame, *, neutralise_text: bool = True) -> pd.DataFrame:
    """A copy of ``events`` ready to write: no geometry, dates as ISO text, text neutralised.

    Parameters
    ----------
    events
        Any table (a DataFrame or GeoDataFrame). The caller's frame is not modified.
    neutralise_text
        False writes text and column names as they are (not for anything a person opens).

    Returns
    -------
    pandas.DataFrame
        Same rows in the same order; numbers and booleans as they were (whole floats as
        integers), dates as ISO text, every other column as object text, neutralised; column
        names as text, neutralised; duplicate column names kept.
    """
    frame = pd.DataFrame(events)
    keep = [i for i, c in enumerate(frame.columns) if c != _GEOMETRY]
    columns: dict[int, pd.Series] = {}
    names: list[str] = []
    for position in keep:
        series = frame.iloc[:, position]
        name = frame.columns[position]
        names.append(_header(name) if neutralise_text else str(name))
        columns[len(columns)] = _export_column(series, neutralise_text=neutralise_text)
    out = pd.DataFrame(columns, index=frame.index)
    out.columns = pd.Index(names, dtype=object)
    return out


def _export_column(series: pd.Series, *, neutralise_text: bool) -> pd.Series:
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        pass  # text or not, a categorical goes through the text path below
    elif pd.api.types.is_datetime64_any_dtype(dtype):
        return _iso_dates(series)
    elif pd.api.types.is_bool_dtype(dtype):
        return series.copy()
    elif pd.api.types.is_float_dtype(dtype):
        # Counts held as floats only because of NaN (fatalities) read as 3, not 3.0.
        finite = series.dropna()
        if len(finite) and bool((finite == finite.round()).all()) and finite.abs().max() < 2**53:
            return series.astype("Int64")
        return series.copy()
    elif pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
        return series.copy()
    if not neutralise_text:
        return pd.Series(series.to_numpy(dtype=object, na_value=None), index=series.index)
    return _text_column(series)


def _iso_dates(series: pd.Series) -> pd.Series:
    values = pd.to_datetime(series, errors="coerce")
    has_time = bool(
        (values.dropna() != values.dropna().dt.normalize()).any() if values.notna().any() else False
    )
    fmt = "%Y-%m-%dT%H:%M:%S" if has_time else "%Y-%m-%d"
    text = values.dt.strftime(fmt).astype("object")
    return text.where(values.notna(), None)


class _RowSink:
    """A text sink for ``csv.writer`` that keeps each row apart, its ending replaceable.

    The writer hands over one whole row per ``write`` call, its terminator last; the
    ``"\\r\\n"`` of a quoted value inside the row is never at the end of the call.
    ``write`` is the list's own ``append``, so a row costs no Python call.
    """

    def __init__(self) -> None:
        self.rows: list[str] = []
        self.write = self.rows.append

    def text(self) -> str:
        """The rows, each ending with ``"\\n"`` instead of ``"\\r\\n"``."""
        return "".join([r[:-2] + "\n" if r.endswith("\r\n") else r for r in self.rows])


def _cells(series: pd.Series) -> list[Any]:
    """A column's cells for ``csv.writer``: missing values empty, the rest as pandas writes."""
    values = series.to_numpy(dtype=object, na_value=None)
    if series.dtype == object:
        # Missing values held as NaN/NaT/NA in an object column: empty too.
        missing = pd.isna(series).to_numpy()
        if missing.any():
            values = values.copy()
            values[missing] = None
    return values.tolist()


def to_csv_text(events: pd.DataFrame) -> str:
    """The table as CSV text: rows end with ``"\\n"``, every value quoted as it must be.

    Parameters
    ----------
    events
        Any table; :func:`export_frame` prepares it (text and column names neutralised,
        dates as ISO text, geometry dropped).

    Returns
    -------
    str
        The header and one line per row (more where a quoted value holds line breaks).
    """
    frame = export_frame(events)
    sink = _RowSink()
    # "\r\n" as the writer's terminator makes any cell holding "\r" or "\n" quoted;
    # the sink turns each row's own ending into "\n".
    writer = csv.writer(sink, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(list(frame.columns))
    columns = [_cells(frame.iloc[:, i]) for i in range(frame.shape[1])]
    if columns:
        writer.writerows(zip(*columns, strict=True))
    else:  # no column: still one (empty) line per row, so the row count reads back right
        writer.writerows([[""]] * len(frame))
    return sink.text()


def to_csv_bytes(events: pd.DataFrame, *, bom: bool = True) -> bytes:
    """The table as UTF-8 CSV bytes, safe to open in a spreadsheet.

    Parameters
    ----------
    events
        Any table (see :func:`to_csv_text`).
    bom
        Start with a byte-order mark, so that spreadsheets read Arabic as UTF-8.

    Returns
    -------
    bytes
        Text cells neutralised, numbers as numbers, unknown values empty.
    """
    text = to_csv_text(events)
    return ("\ufeff" + text).encode("utf-8") if bom else text.encode("utf-8")


def write_csv(events: pd.DataFrame, path: str | os.PathLike[str], *, bom: bool = False) -> Path:
    """Write the table to ``path`` as :func:`to_csv_bytes` makes it (no BOM by default).

    Parameters
    ----------
    events
        Any table (see :func:`to_csv_text`).
    path
        The file to write; its folder must exist.
    bom
        Start with a byte-order mark.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    out = Path(path)
    out.write_bytes(to_csv_bytes(events, bom=bom))
    return out


def _json_value(value: Any) -> Any:
    """A JSON-safe Python value: NaN/NaT become null, numpy scalars become Python ones."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        number = float(value)
        if math.isnan(number) or math.isinf(number):
            return None
        return int(number) if number.is_integer() and abs(number) < 2**53 else number
    if isinstance(value, (pd.Timestamp, dt.datetime, dt.date)):
        return value.isoformat()
    return value


def to_geojson_bytes(
    events: pd.DataFrame, *, neutralise_text: bool = True, precision: int = 6
) -> bytes:
    """The table as a GeoJSON FeatureCollection (EPSG:4326 points from latitude/longitude).

    Rows without coordinates are kept, with a ``null`` geometry (valid GeoJSON), so the
    download holds the same rows as the table. Text properties are neutralised like the CSV
    (the file is often opened in a spreadsheet after a GIS round trip).
    """
    frame = export_frame(events, neutralise_text=neutralise_text)
    lat = pd.to_numeric(events.get(schema.LATITUDE), errors="coerce")
    lon = pd.to_numeric(events.get(schema.LONGITUDE), errors="coerce")
    if lat is None or lon is None or not isinstance(lat, pd.Series):
        lat = pd.Series(np.nan, index=events.index)
        lon = pd.Series(np.nan, index=events.index)
    lat_values = lat.to_numpy(dtype=float)
    lon_values = lon.to_numpy(dtype=float)
    columns = list(frame.columns)
    features = []
    for i, row in enumerate(frame.itertuples(index=False, name=None)):
        y, x = lat_values[i], lon_values[i]
        geometry = (
            {
                "type": "Point",
                "coordinates": [round(float(x), precision), round(float(y), precision)],
            }
            if np.isfinite(x) and np.isfinite(y)
            else None
        )
        properties = {col: _json_value(val) for col, val in zip(columns, row, strict=True)}
        features.append({"type": "Feature", "geometry": geometry, "properties": properties})
    collection = {"type": "FeatureCollection", "features": features}
    return json.dumps(collection, ensure_ascii=False, allow_nan=False).encode("utf-8")
