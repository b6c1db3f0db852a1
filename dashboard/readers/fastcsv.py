"""A fast path for ``textio.read_table``: pyarrow.csv, taken only where it gives the same Table.

The standard ``csv`` module plus one Python list per record reads about 70,000 ACLED rows a
second; ``pyarrow.csv`` parses the same bytes ten or more times faster, on several threads.
With every column read as a string, no NA spellings and the excel dialect's quoting (``"``,
doubled to escape, no escape character), the two parsers agree field for field on a
well-formed file. Where a file is not well formed the slow path reports things pyarrow
either cannot see or handles its own way, so the fast path declines and names why:

- an encoding other than UTF-8 (with or without BOM): pyarrow reads UTF-8 only;
- a header of fewer than two columns: a blank or whitespace-only line would then parse as
  a record instead of being skipped;
- a NUL byte, or a carriage return that is not part of a CRLF line end: the csv module
  splits lines at a lone CR, and physical line numbers would no longer be newline counts;
- a record whose field count differs from the header (ragged, unterminated quote): pyarrow
  raises, the slow path sets the row aside with its reason;
- fewer records than physical lines: a blank line (counted, and not numbered, by the slow
  path) or a line break inside a quoted field (reported with its line span);
- a first record that differs from the header the sniffer read, or no data rows at all;
- a field as long as ``csv.field_size_limit()``: the slow path refuses the file.

The caller then reads the file with ``textio.read_table``. A NUL byte is left to the slow
path too: both parsers keep it, but it marks a binary or mis-saved file, not worth a risk.

Stray quotes that leave a record on one line with the header's field count (``ab"c``,
``"ab"c``, ``"a""b"``) parse the same in both; ``tests/test_readers_fast.py`` compares the
two on seeded random files. Quoting that changes the structure (a quote swallowing a
delimiter or a line end) shows up as a ragged row or as fewer records than lines, above.
Values go through the slow path's own ``textio.text_frame``, so NA handling cannot drift.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from dashboard import schema
from dashboard.readers import textio

FAST_ENCODINGS = frozenset({"utf-8", "utf-8-sig"})
_CHUNK_BYTES = 1 << 20
_REASON_CHARS = 200
_BLOCK_BYTES = 1 << 20  # pyarrow's default block
_BLOCK_SLACK = 64 * 1024  # a line end, and room to spare


@dataclass(frozen=True)
class FastRead:
    """What the fast path did: the table it read, or why it declined.

    Attributes
    ----------
    table
        The same ``textio.Table`` that ``textio.read_table`` returns for this file, or None.
    fallback
        Why the fast path did not read the file (None when it did).
    """

    table: textio.Table | None
    fallback: str | None = None


def read_table(
    path: Path,
    *,
    encoding: str,
    delimiter: str,
    columns: Sequence[str],
    has_header: bool,
    first: Sequence[str],
    max_line: int | None = None,
) -> FastRead:
    """Read the file with pyarrow.csv when that provably gives ``textio.read_table``'s result.

    Parameters
    ----------
    path, encoding, delimiter, columns, has_header
        As for ``textio.read_table``.
    first
        The first record as the sniffer parsed it (``textio.first_record``): the file's
        first line must read the same, or the fast path declines.
    max_line
        The longest line the file may hold (already checked by the caller; default
        ``textio.limits()``): pyarrow reads in blocks that must hold a whole line.

    Returns
    -------
    FastRead
        ``table`` set, or ``fallback`` naming the reason the caller must use the slow path.
    """
    width = len(columns)
    if encoding not in FAST_ENCODINGS:
        return FastRead(None, f"encoding {encoding} (the fast path reads UTF-8 only)")
    if width < 2:
        return FastRead(None, f"{width} column(s): blank lines would parse as records")
    lines, odd_bytes = _scan_bytes(path)
    if odd_bytes is not None:
        return FastRead(None, odd_bytes)
    max_line = textio.limits().line_bytes if max_line is None else max_line
    arrow, failure = _parse(path, delimiter=delimiter, width=width, max_line=max_line)
    if arrow is None:
        return FastRead(None, failure)
    refused = _check(arrow, lines=lines, has_header=has_header, first=first)
    if refused is not None:
        return FastRead(None, refused)
    data = arrow.slice(1) if has_header else arrow
    del arrow
    return FastRead(_table(data, columns, delimiter))


@dataclass(frozen=True)
class RangeRead:
    """One byte range of a file read by the fast path, or why it declined.

    Attributes
    ----------
    table
        The range's records as ``read_table`` would give them, ``SOURCE_ROW`` numbered
        from 1 within the range (the caller adds the rows before it), or None.
    lines
        Physical lines in the range (the header included when the range holds it).
    fallback
        Why the range cannot be read on its own with the whole file's result (None when it
        can).
    """

    table: textio.Table | None
    lines: int = 0
    fallback: str | None = None


def read_range(
    path: Path,
    start: int,
    end: int,
    *,
    delimiter: str,
    columns: Sequence[str],
    has_header: bool,
    first: Sequence[str],
    max_line: int | None = None,
) -> RangeRead:
    """Read bytes ``start:end`` of a UTF-8 file (cut at line starts) as the fast path would.

    Each range makes the checks :func:`read_table` makes on the whole file (no line longer
    than ``max_line``, UTF-8, no NUL, no lone CR, the header's field count on
    every line, one record a line, the first line the sniffed header, no field at the csv
    module's limit), plus one a range needs: its
    last record must not end inside a quoted field (a quote open across the cut). When
    every range of a file passes, their records together are the whole file's fast-path
    records; when one declines the caller must read the whole file with ``read_events``.

    Parameters
    ----------
    path, delimiter, columns, first
        As for :func:`read_table` (the file's encoding must be UTF-8, with or without BOM).
    start, end
        The byte range; ``start`` is 0 or just after a line feed.
    has_header
        Whether this range begins with the header (the first range of a file with one).
    max_line
        The line limit in bytes the whole file is read with: give the value resolved on
        the client (``textio.limits()``), since a worker may not see its settings; default
        ``textio.limits()`` where this runs.
    """
    max_line = textio.limits().line_bytes if max_line is None else max_line
    width = len(columns)
    # Measured in chunks before the range is read whole: a line over the limit is refused
    # (by the whole-file read the caller falls back to) without holding it in memory.
    long_line = textio.long_line_in_range(path, start, end, max_line=max_line)
    if long_line is not None:
        return RangeRead(
            None,
            fallback=f"line {long_line:,} of the range is longer than the line limit "
            f"({max_line:,} bytes)",
        )
    with path.open("rb") as fh:
        fh.seek(start)
        data = fh.read(end - start)
    if b"\x00" in data:
        return RangeRead(None, fallback="a NUL byte in the file")
    if data.count(b"\r") != data.count(b"\r\n"):
        return RangeRead(None, fallback="a carriage return that is not part of a CRLF line end")
    try:
        data.decode("utf-8")  # line starts are character boundaries in UTF-8
    except UnicodeDecodeError as exc:
        return RangeRead(None, fallback=f"not UTF-8 at byte offset {start + exc.start}")
    lines = data.count(b"\n") + (not data.endswith(b"\n"))
    arrow, failure = _parse(
        pa.BufferReader(data), delimiter=delimiter, width=width, max_line=max_line
    )
    del data
    if arrow is None:
        return RangeRead(None, lines, failure)
    if arrow.num_rows != lines:
        return RangeRead(
            None,
            lines,
            f"{arrow.num_rows} records on {lines} lines: blank lines or line breaks inside "
            "quoted fields",
        )
    if has_header and [column[0].as_py() for column in arrow.columns] != list(first):
        return RangeRead(None, lines, "the first line does not parse as the sniffed header")
    longest = max(pc.max(pc.binary_length(column)).as_py() or 0 for column in arrow.columns)
    if longest >= csv.field_size_limit():
        return RangeRead(
            None, lines, f"a field of {longest} bytes, at or over the csv module's field size limit"
        )
    last = [column[-1].as_py() for column in arrow.columns] if arrow.num_rows else []
    if any("\n" in value or "\r" in value for value in last):
        return RangeRead(None, lines, "a quoted field open at the end of a partition")
    data_rows = arrow.slice(1) if has_header else arrow
    del arrow
    return RangeRead(_table(data_rows, columns, delimiter), lines)


def _scan_bytes(path: Path) -> tuple[int, str | None]:
    """Physical lines as the csv module counts them (newlines), or why they cannot be counted.

    A CR is fine only right before an LF (a CRLF line end), chunk boundaries included.
    """
    newlines = cr = crlf = 0
    last = b""
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK_BYTES):
            if b"\x00" in chunk:
                return 0, "a NUL byte in the file"
            newlines += chunk.count(b"\n")
            if b"\r" in chunk:
                cr += chunk.count(b"\r")
                crlf += chunk.count(b"\r\n")
            if last == b"\r" and chunk.startswith(b"\n"):
                crlf += 1
            last = chunk[-1:]
    if cr != crlf:
        return 0, "a carriage return that is not part of a CRLF line end"
    return newlines + (last != b"\n"), None


def _parse(
    path: Path | pa.NativeFile, *, delimiter: str, width: int, max_line: int
) -> tuple[pa.Table | None, str | None]:
    """Every line as ``width`` string fields, header included; None and why on failure.

    Read as ``large_string``, the type pandas keeps its ``str`` columns in: no cast after.
    Blocks hold at least one line of ``max_line`` bytes: pyarrow refuses a row longer than
    its block ("straddles two block boundaries"), which would send every line of a sheet
    read under a raised ``CONFLICTMAP_MAX_LINE_MB`` to the slow path (and a Dask build's
    ranges back to the client).
    """
    names = [f"f{i}" for i in range(width)]
    block = max(_BLOCK_BYTES, max_line + _BLOCK_SLACK)
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=names, block_size=block),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                quote_char='"',
                double_quote=True,
                escape_char=False,
                newlines_in_values=True,
                ignore_empty_lines=True,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.large_string()),
                null_values=[],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowException, OSError) as exc:  # ragged rows raise ArrowInvalid
        detail = str(exc)[:_REASON_CHARS]  # pyarrow quotes the offending row
        return None, f"pyarrow cannot parse it as {width} fields a line ({detail})"
    return table, None


def _check(table: pa.Table, *, lines: int, has_header: bool, first: Sequence[str]) -> str | None:
    """Why the parsed table may differ from the slow path's, or None when it cannot."""
    if table.num_rows != lines:
        return (
            f"{table.num_rows} records on {lines} lines: blank lines or line breaks inside "
            "quoted fields"
        )
    if table.num_rows <= int(has_header):
        return "no data rows"
    if [column[0].as_py() for column in table.columns] != list(first):
        return "the first line does not parse as the sniffed header"
    longest = max(pc.max(pc.binary_length(column)).as_py() or 0 for column in table.columns)
    if longest >= csv.field_size_limit():
        return f"a field of {longest} bytes, at or over the csv module's field size limit"
    return None


def _table(data: pa.Table, columns: Sequence[str], delimiter: str) -> textio.Table:
    """The ``textio.Table`` that ``read_table`` builds: text, NA spellings as NA, row numbers."""
    frame = textio.text_frame(data.columns, columns)
    # No blank lines and one line per record: the data record number is the line number
    # minus the header.
    frame[schema.SOURCE_ROW] = np.arange(1, len(frame) + 1, dtype="int64")
    return textio.Table(frame, textio.no_ragged_rows(columns, delimiter), [])
