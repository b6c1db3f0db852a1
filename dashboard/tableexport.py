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
* so is a value whose first character that is not white space, a control, an invisible
  format character (zero-width space, bidi marks, BOM) or a ``"`` (a reader may take it for
  a quote and drop it) is ``= + - @`` or a form that NFKC folds to one of them (full-width
  ``＝ ＋ － ＠``, small and super/subscript forms): programs that trim leading spaces on
  import, or that accept the wide forms typed with an East Asian input method, would
  otherwise read a formula;
* except when the whole value is exactly a plain number (``-12.5``, ``+3``, ``-1e5``):
  that is a number, not a formula, and stays as written; not in the first column, though
  (see below);
* neutralising means one ``'`` put in front, which spreadsheets show as text. A value that
  already starts with ``'`` followed by something the rule would neutralise (a plain number
  included) gets one more, so :func:`restore` recovers every original value exactly (drop
  one ``'`` where one was added).

Cells that start inside a value
-------------------------------
The file's own separator is ``,``, and quoting keeps a ``,`` inside a value from starting a
cell for every reader that splits at ``,``. But a spreadsheet does not always split at
``,``: Excel in a locale whose list separator is ``;`` (most of continental Europe) splits
at ``;``, LibreOffice at tab when that box is ticked, and such a reader honours a ``"``
only at the start of one of *its* fields: a quote in the middle of a field is text. So in
``E1,"Mosul;=1+1"`` it finds the cells ``E1,"Mosul`` and ``=1+1"``, and a line break inside
a quoted value (``"a\\n=1+1"``) ends its row, ``=1+1"`` starting the next one. Such a reader
never splits at ``,`` (the ``,`` inside a value is text to it), and one that splits at
``,`` honours the quoting, so a ``,`` never starts a cell: only the start of a row, a ``;``,
a tab, a carriage return or a line feed can.

Hence the second half of the rule: each part of a text value that follows a ``;``, a tab, a
carriage return or a line feed is a cell start too, and gets the ``'`` in front of it
(``Mosul;'=1+1``, ``x\\n'@SUM(1)``) when the field a reader would find there would run:

* it starts with a tab, after any ``"`` (a ``;`` reader keeps it: ``a;\\t=1``), or its first
  character that is not white space, a control, an invisible character or a ``"`` is
  ``= + - @`` (or folds to one), looking no further than the next line break (which ends
  that field) and through a tab (which a ``;`` reader keeps inside the field), but not past
  a ``;``;
* a plain number is no exception here: the field may run on past the value's end into the
  next cells (``a;-1`` followed by a cell ``5*cmd|' /C calc'!A0`` reads ``-1,5*cmd|...``,
  minus one and a half times a DDE call where ``,`` is the decimal comma);
* a part that already starts with ``'`` in front of such a field gets one more, as a whole
  value does; the position between the ``\\r`` and ``\\n`` of a Windows line break is no
  cell start (every reader takes the pair as one break).

For the same reason a ``;`` reader's first field of each row runs from the first cell on
into the next ones, so the first column gets no plain-number exception: text that is a
signed number there is neutralised (``'-12.5``); :func:`restore` undoes it like any other.
A *numeric* first column holding negative numbers is written as numbers (a ``'`` would make
them text for every reader); none of the product's tables starts with one.

The ``'`` inside a value shows in a spreadsheet (only a leading one is hidden), which is the
price of a cell that cannot run wherever the file is opened; :func:`restore` removes it.

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
# Where a reader that does not split at the file's "," may start a cell inside a value.
_SEPARATORS = re.compile(r"([;\t\r\n])")
_LINE_BREAKS = "\r\n"


def _skipped(ch: str) -> bool:
    """A character a reader may drop or not show in front of a formula (or take for a quote)."""
    return ch == '"' or ch.isspace() or unicodedata.category(ch) in _SKIPPED_CATEGORIES


def _first_visible(text: str) -> str | None:
    for ch in text:
        if not _skipped(ch):
            return ch
    return None


def _starts_formula(ch: str | None) -> bool:
    return ch is not None and unicodedata.normalize("NFKC", ch)[:1] in _FORMULA_STARTS


def _runs(text: str) -> bool:
    """Whether a cell starting with ``text`` could run, numbers included (no exception)."""
    if not text:
        return False
    first = text[0]
    if first.isascii() and first.isalnum():  # the usual cell: decided at once
        return False
    return text.startswith(_ALWAYS_NEUTRALISED) or _starts_formula(_first_visible(text))


def is_formula(text: str) -> bool:
    """Whether a spreadsheet could run ``text`` as a formula (the rule in the module doc).

    This is the rule for a whole value; parts after a ``;``, a tab or a line break are
    checked by :func:`neutralise` on top of it.

    Parameters
    ----------
    text
        One cell's text.

    Returns
    -------
    bool
        True for ``=1+1``, ``  @SUM(A1)``, ``＝1``, ``"=1``, ``\\tx``; False for ``-12.5``,
        ``Mosul``, ``'=1+1`` and the empty string.
    """
    return _runs(text) and _PLAIN_NUMBER.fullmatch(text) is None


def _marked(text: str, runs: bool) -> bool:
    """Whether ``text`` gets a ``'``: it runs, or a ``'`` already hides one that would.

    ``runs`` is whether ``text`` itself would run (the caller's rule). A ``'`` hiding
    anything that would need a mark under the strictest rule (numbers included) gets one
    more, so that :func:`restore` can tell every added ``'`` from the user's own.
    """
    return runs or (text[:1] == _MARK and _runs(text.lstrip(_MARK)))


def _field_runs(probe: str) -> bool:
    """Whether the field a ``;`` or tab reader finds at the start of ``probe`` could run.

    ``probe`` is one part of a value, the separator after it and the first visible
    character after that (see :func:`_mark_parts`). The field ends at a line break; a ``;``
    is visible (it stops the search); a tab is white space. A ``"`` there was written
    doubled, and a reader takes a doubled ``"`` at a field's start for an empty quoted text
    and drops it: ``;"\\t`` gives a field that starts with a tab. (A carriage return there
    ends the field, empty: ``a;\\r\\nb`` needs no mark.)
    """
    if probe.lstrip('"').startswith("\t"):
        return True
    for ch in probe:
        if ch in _LINE_BREAKS:
            return False
        if not _skipped(ch):
            return _starts_formula(ch)
    return False


def _lead(part: str, separator: str, lead_after: str) -> str:
    """The first visible character from ``part`` on, up to the next line break ("" if none)."""
    for ch in part:
        if not _skipped(ch):
            return ch
    if separator == ";":
        return ";"
    if separator == "\t":
        return lead_after
    return ""  # a line break, or the value's end: nothing more in this field


def _parts(text: str) -> tuple[list[str], list[str]]:
    """``text`` cut at each separator: the parts and the separators between them."""
    pieces = _SEPARATORS.split(text)
    return pieces[0::2], pieces[1::2]


def _no_field_start(separators: list[str], parts: list[str], j: int) -> bool:
    """Whether part ``j`` is the nothing between the ``\\r`` and ``\\n`` of one line break."""
    after = separators[j] if j < len(separators) else ""
    return separators[j - 1] == "\r" and after == "\n" and not parts[j]


def _part_marked(probe: str) -> bool:
    """Whether a part gets a ``'``: its field would run, or a ``'`` already hides one that would."""
    return _field_runs(probe) or (probe[:1] == _MARK and _field_runs(probe.lstrip(_MARK)))


def _mark_parts(text: str) -> str:
    """``text`` with a ``'`` in front of each part that would start a live field.

    Right to left, since a part's field may run on through a tab into the (already marked)
    next part. Each decision looks at the part, the separator after it and one character
    (``lead``), so a value with many separators costs time in proportion to its length.
    """
    parts, separators = _parts(text)
    lead = ""
    for j in range(len(parts) - 1, 0, -1):
        after = separators[j] if j < len(separators) else ""
        if not _no_field_start(separators, parts, j) and _part_marked(parts[j] + after + lead):
            parts[j] = _MARK + parts[j]
        lead = _lead(parts[j], after, lead)
    return "".join(p + q for p, q in zip(parts, [*separators, ""], strict=True))


def _unmark_parts(text: str) -> str:
    """:func:`_mark_parts` undone: one ``'`` dropped from each part it marked.

    Every decision is taken on the marked text, as :func:`_mark_parts` took it: a part's
    own ``'`` is the only thing that changes, and nothing to its right.
    """
    parts, separators = _parts(text)
    lead = ""
    drop = []
    for j in range(len(parts) - 1, 0, -1):
        after = separators[j] if j < len(separators) else ""
        probe = parts[j] + after + lead
        if (
            probe[:1] == _MARK
            and not _no_field_start(separators, parts, j)
            and _field_runs(probe.lstrip(_MARK))
        ):
            drop.append(j)
        lead = _lead(parts[j], after, lead)
    for j in drop:
        parts[j] = parts[j][1:]
    return "".join(p + q for p, q in zip(parts, [*separators, ""], strict=True))


def neutralise(value: Any, *, keep_numbers: bool = True) -> Any:
    """``value`` made safe to open: a ``'`` in front of each cell start that would run.

    Parameters
    ----------
    value
        One cell. Non-text values are returned unchanged. A ``'`` goes in front of the
        value when a spreadsheet could run it (:func:`is_formula`), and in front of each
        part after a ``;``, a tab or a line break that would start a live cell where the
        file is split there (``Mosul;=1+1`` becomes ``Mosul;'=1+1``). Text (or a part)
        that already starts with ``'`` in front of a formula gets one more ``'``, so that
        :func:`restore` can undo this exactly.
    keep_numbers
        Keep a value that is exactly a plain number (``-12.5``) as it is. False for the
        first column, whose first cell a ``;`` reader runs on into the next ones.

    Returns
    -------
    Any
        The value to write.
    """
    if not isinstance(value, str) or not value:
        return value
    text = _mark_parts(value) if _SEPARATORS.search(value) else value
    runs = is_formula(text) if keep_numbers else _runs(text)
    return _MARK + text if _marked(text, runs) else text


def restore(text: str) -> str:
    """The original text of a cell that :func:`neutralise` wrote (its inverse).

    Parameters
    ----------
    text
        A cell as read back from one of the product's CSV or GeoJSON files.

    Returns
    -------
    str
        ``text`` without the ``'`` marks that were added (in front and after separators),
        or ``text`` itself when none was.
    """
    if text[:1] == _MARK and _runs(text.lstrip(_MARK)):
        text = text[1:]
    return _unmark_parts(text) if _SEPARATORS.search(text) else text


def _cell_text(value: Any, keep_numbers: bool = True) -> Any:
    """One value of a text-holding column: numbers kept, anything else as neutralised text."""
    if isinstance(value, str):
        return neutralise(value, keep_numbers=keep_numbers)
    if isinstance(value, (bool, int, float, np.bool_, np.integer, np.floating)):
        return value
    if isinstance(value, (dt.date, dt.datetime, pd.Timestamp)):
        return neutralise(value.isoformat())
    return neutralise(str(value), keep_numbers=keep_numbers)


def _first_cell_text(value: Any) -> Any:
    return _cell_text(value, keep_numbers=False)


def _objects(series: pd.Series) -> np.ndarray:
    """The column's values as an object array, each missing value None."""
    # pandas takes any na_value; pandas-stubs only a scalar, which leaves out None.
    return series.to_numpy(dtype=object, na_value=None)  # type: ignore[call-overload]


def _text_column(series: pd.Series, *, first: bool = False) -> pd.Series:
    """An object column of neutralised text (and any numbers) from a column of any dtype.

    ``first``: the table's first column, where text that is a signed number is neutralised
    too (the module doc says why).
    """
    convert = _first_cell_text if first else _cell_text
    if isinstance(series.dtype, pd.CategoricalDtype):
        # Each distinct value once: a categorical's categories, then a take by code.
        categories = pd.Series(np.asarray(series.cat.categories, dtype=object), dtype=object)
        converted = categories.map(convert, na_action="ignore").to_numpy(dtype=object)
        codes = series.cat.codes.to_numpy()
        values = np.empty(len(codes), dtype=object)
        present = codes >= 0
        values[present] = converted[codes[present]]
        values[~present] = None
        return pd.Series(values, index=series.index, dtype=object)
    plain = pd.Series(_objects(series), index=series.index)
    return plain.map(convert, na_action="ignore").astype(object)


def _header(name: Hashable, *, first: bool) -> str:
    return neutralise(name if isinstance(name, str) else str(name), keep_numbers=not first)


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
        first = not columns  # the first column written (the module doc says why it differs)
        names.append(_header(name, first=first) if neutralise_text else str(name))
        columns[len(columns)] = _export_column(series, neutralise_text=neutralise_text, first=first)
    out = pd.DataFrame(columns, index=frame.index)
    out.columns = pd.Index(names, dtype=object)
    return out


def _export_column(series: pd.Series, *, neutralise_text: bool, first: bool) -> pd.Series:
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
        return pd.Series(_objects(series), index=series.index)
    return _text_column(series, first=first)


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
    values = _objects(series)
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
    lat_column, lon_column = events.get(schema.LATITUDE), events.get(schema.LONGITUDE)
    if lat_column is None or lon_column is None:
        lat = lon = pd.Series(np.nan, index=events.index)
    else:
        lat = pd.to_numeric(lat_column, errors="coerce")
        lon = pd.to_numeric(lon_column, errors="coerce")
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
