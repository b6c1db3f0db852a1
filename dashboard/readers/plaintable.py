"""Small CSV tables that are not event files: control per unit, locality lists, lookups.

They come from the same spreadsheets as the events and break the same ways (a byte-order
mark, Windows-1252 or Windows-1256 bytes, semicolons, blank lines, ragged rows, padded
headers), so they are read by the same text layer (:mod:`dashboard.readers.textio`); only
the event formats' column logic is left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from dashboard import schema
from dashboard.errors import InputFileError
from dashboard.readers import textio
from dashboard.report import WARNING, Problem

__all__ = ["PlainTable", "read_plain_table"]

# Invisible characters a spreadsheet leaves around names (a BOM pasted mid-file, the
# zero-width spaces of text copied from a web page).
_INVISIBLE = "\ufeff\u200b\u200c\u200d\u200e\u200f\u2060\xa0"


@dataclass
class PlainTable:
    """A CSV file read as text.

    Attributes
    ----------
    frame
        One row per well-formed record: every column text (NA for blank or NA spellings),
        values stripped of spaces and invisible characters, and ``schema.SOURCE_ROW`` (the
        1-based data row, the header not counted).
    set_aside
        Ragged records, as :class:`dashboard.readers.textio.Table` gives them.
    problems
        Ragged rows (errors); blank lines, line breaks in fields, a guessed encoding and
        renamed header cells (warnings).
    encoding, delimiter
        How the file was read.
    """

    frame: pd.DataFrame
    set_aside: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    encoding: str = "utf-8"
    delimiter: str = ","
    sheet_rows: dict[int, int] | None = None
    """A workbook's: ``SOURCE_ROW`` -> the row number the spreadsheet shows (the header
    is row 1; empty rows counted); None for CSV text."""


def read_plain_table(path: str | Path, *, encoding: str | None = None) -> PlainTable:
    """Read a small CSV table whatever spreadsheet saved it.

    Parameters
    ----------
    path
        The file: CSV text, or an Excel workbook (.xlsx, its first sheet with data; said).
    encoding
        Its encoding; default: detected (a BOM, UTF-8, Windows-1256, Windows-1252).

    Raises
    ------
    InputFileError
        Missing, empty, not CSV text, no header, broken CSV structure.
    EncodingDetectionError
        The bytes fit no accepted encoding.
    """
    path = Path(path)
    if _is_workbook(path):
        return _read_workbook(path)
    limits = textio.limits()
    textio.check_file(path, max_line=limits.line_bytes)
    encoding = encoding or textio.detect_encoding(path)
    sample = textio.read_sample(path, encoding, max_line=limits.line_bytes)
    delimiter = textio.sniff_delimiter(sample)
    first = textio.first_record(sample, delimiter)
    if not first:
        raise InputFileError(f"{path}: no header row; the file holds only blank lines")
    textio.check_header_width(path, first, max_columns=limits.columns)
    columns, problems = _header(first, path.name)
    table = textio.read_table(
        path, encoding=encoding, delimiter=delimiter, columns=columns, has_header=True
    )
    frame = table.frame
    for column in columns:
        frame[column] = _clean(frame[column])
    problems = problems + list(table.problems)
    # A row of empty cells (";;;") is a spreadsheet's blank line, not data.
    empty = frame[columns].isna().all(axis=1)
    if empty.any():
        problems.append(
            Problem(None, None, None,
                    f"{path.name}: {int(empty.sum())} rows with every cell empty skipped",
                    WARNING)
        )  # fmt: skip
        frame = frame[~empty].reset_index(drop=True)
    if encoding == "cp1252":
        problems.append(textio.cp1252_note(frame, columns))
    return PlainTable(frame, table.set_aside, problems, encoding, delimiter)


def _is_workbook(path: Path) -> bool:
    """An .xlsx/.xlsm workbook: a ZIP archive holding ``xl/workbook.xml``."""
    import zipfile

    if not path.is_file():
        return False
    with path.open("rb") as fh:
        if fh.read(4) != b"PK\x03\x04":
            return False
    try:
        with zipfile.ZipFile(path) as archive:
            return "xl/workbook.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False


def _read_workbook(path: Path) -> PlainTable:
    """The first sheet holding data, every cell as the text a person reads in it: a date
    cell as ``YYYY-MM-DD``, a whole number without ``.0``. Other sheets are named in a
    warning; formulas give their saved values."""
    import datetime as dt

    from openpyxl import load_workbook

    size = path.stat().st_size
    if size > textio.DEFAULT_MAX_BYTES:
        raise InputFileError(f"{path}: the workbook is larger than the limit; save it as CSV")
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds; all mean "cannot read"
        raise InputFileError(f"{path}: cannot be read as an Excel workbook: {exc}") from exc

    def text(value: object) -> str | None:
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    try:
        sheets = list(book.worksheets)
        rows: list[list[str | None]] = []
        used = None
        numbers: list[int] = []
        for sheet in sheets:
            rows, numbers = [], []
            for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                cells = [text(v) for v in row]
                if any(v is not None and v.strip() for v in cells):
                    rows.append(cells)
                    numbers.append(number)
            if rows:
                used = sheet.title
                break
    finally:
        book.close()
    if used is None:
        raise InputFileError(f"{path}: the workbook's sheets hold no data")
    width = max(len(r) for r in rows)
    rows = [r + [None] * (width - len(r)) for r in rows]
    columns, problems = _header([v or "" for v in rows[0]], path.name)
    frame = pd.DataFrame(rows[1:], columns=columns, dtype="str")
    for column in columns:
        frame[column] = _clean(frame[column].astype("str"))
    frame[schema.SOURCE_ROW] = range(1, len(frame) + 1)
    if len(sheets) > 1:
        others = ", ".join(repr(s.title) for s in sheets if s.title != used)
        problems.append(
            Problem(None, None, None,
                    f"{path.name}: read sheet {used!r} (the first with data); not read: "
                    f"{others}", WARNING)
        )  # fmt: skip
    empty = pd.DataFrame(columns=[*columns, schema.SOURCE_ROW])
    sheet_rows = dict(enumerate(numbers[1:], start=1))
    return PlainTable(frame, empty, problems, encoding="xlsx", delimiter="", sheet_rows=sheet_rows)


def _clean(values: pd.Series) -> pd.Series:
    text = values.str.strip(_INVISIBLE + " \t\r\n")
    return text.mask(text == "")


def _header(first: list[str], name: str) -> tuple[list[str], list[Problem]]:
    """Header cells stripped; blanks named ``column_N``; repeats numbered ``name.2``."""
    out: list[str] = []
    problems: list[Problem] = []
    for i, raw in enumerate(first, start=1):
        cell = str(raw).strip(_INVISIBLE + " \t\r\n") or f"column_{i}"
        if cell in out or cell == schema.SOURCE_ROW:
            k = 2
            while f"{cell}.{k}" in out:
                k += 1
            problems.append(
                Problem(
                    None,
                    cell,
                    raw,
                    f"{name}: column {i} is named {cell!r} again: read as {cell}.{k}",
                    WARNING,
                )
            )
            cell = f"{cell}.{k}"
        out.append(cell)
    return out, problems
