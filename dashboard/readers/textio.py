"""Bytes to text: file checks, encoding detection, delimiter sniffing, CSV records to a frame.

Every value is read as text. Cells listed in ``schema.NA_VALUES`` (or only whitespace)
become NA; nothing else does, so ``"NA"`` and ``"0123"`` survive as written. Records whose
field count differs from the header are set aside with a reason instead of being padded or
dropped by the parser.

Row numbering: ``SOURCE_ROW`` is the 1-based number of the data record (header excluded,
blank lines not counted). A record can span several physical lines when a quoted field
contains a line break, so messages also give the physical line numbers.

Limits: a header of more than ``MAX_COLUMNS`` columns and a line longer than
``MAX_LINE_BYTES`` are refused (``InputFileError`` naming the file, the limit, what was
found and the setting that raises the limit). Both are far above most real exports (ACLED
has 31 columns, UCDP GED 49, an analyst sheet a few hundred; an ACLED line is a few KB)
and keep a hostile file to a bounded read: the first line is checked before anything reads
the whole file, and no parser ever sees a line longer than the limit. A wider sheet is
read with ``CONFLICTMAP_MAX_COLUMNS=3000`` (and ``CONFLICTMAP_MAX_LINE_MB=4`` when its
lines pass a megabyte): :func:`limits` reads both variables when a file is read, not at
import, and every reader function takes the values it was given, so that a caller resolves
them once per file (the Dask build on its client, for every worker).
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import AnyStr

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from dashboard import schema
from dashboard.errors import EncodingDetectionError, InputFileError, SettingError
from dashboard.paths import check_input_file
from dashboard.report import ERROR, WARNING, Problem

DEFAULT_MAX_BYTES = 2 * 1024**3
#: The default limits (see :func:`limits` for the settings that raise them).
MAX_COLUMNS = 2_000
MAX_LINE_BYTES = 1024 * 1024
#: Settings (environment variables) that raise the limits: whole numbers.
MAX_COLUMNS_ENV = "CONFLICTMAP_MAX_COLUMNS"
MAX_LINE_MB_ENV = "CONFLICTMAP_MAX_LINE_MB"
# The most either setting accepts: a line can be no longer than the largest file read.
_MOST_COLUMNS = 1_000_000
_MOST_LINE_MB = DEFAULT_MAX_BYTES // (1024 * 1024)
#: Items a message lists before it shortens the list (:func:`short_list`).
MAX_LISTED = 20
_LISTED_CHARS = 40  # each listed name, cut: a name can be a megabyte long
DELIMITERS: tuple[str, ...] = (",", ";", "\t")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}

_CHUNK_BYTES = 1 << 20
_SAMPLE_CHARS = 64 * 1024
_SNIFF_RECORDS = 50
_CHUNK_ROWS = 50_000
_LONG_RECORD_LINES = 20  # a record spanning more lines than this hints at an unclosed quote
_MAX_ROWS_LISTED = 10

# Checked longest first: a UTF-32-LE BOM starts with the UTF-16-LE one.
BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def bom_encoding(head: bytes) -> str | None:
    """The encoding a byte-order mark at the start of ``head`` names, or None."""
    for bom, encoding in BOMS:
        if head.startswith(bom):
            return encoding
    return None


_NOT_CSV: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip-compressed"),
    (b"PK\x03\x04", "a ZIP archive (or an Excel .xlsx workbook)"),
    (b"BZh", "bzip2-compressed"),
    (b"\xfd7zXZ\x00", "xz-compressed"),
    (b"\xd0\xcf\x11\xe0", "an old Excel/Office binary file"),
    (b"SQLite format 3\x00", "an SQLite database (a GeoPackage?)"),
    (b"PAR1", "a Parquet file"),
    (b"{", "JSON (GeoJSON?)"),
)
_GEODATA_HINT = "control-area files go to --areas, not in place of the events"
_NON_ASCII = re.compile("[^\x00-\x7f]")
_NOT_SPACE = re.compile(r"\S")
_LINE_END = re.compile("\r\n|\r|\n")
_ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]+")
_NA = frozenset(schema.NA_VALUES)
_NA_TEXT = pa.array(sorted(_NA), type=pa.large_string())
_HIGH_BYTES = bytes(range(128, 256))
# The five bytes Windows-1252 leaves undefined: a file holding one is not Windows-1252.
_CP1252_UNDEFINED = re.compile(b"[\x81\x8d\x8f\x90\x9d]")
# A UTF-8 multi-byte sequence: a file with these and also invalid UTF-8 mixes encodings,
# and reading it all as Windows-1252 would garble the UTF-8 part.
# A well-formed UTF-8 sequence (a lead byte and exactly its continuation bytes): Western
# text in Windows-1252 holds lead-like bytes too (ê is 0xEA) but rarely in this shape.
_UTF8_SEQUENCE = re.compile(
    b"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
# Runs of three or more non-ASCII characters: how Greek or Cyrillic text reads when decoded
# as Windows-1252 ("Áèçíá", "Êè¿â"); Western text puts its accented letters and typographic
# quotes inside or beside ASCII words.
_FOREIGN_RUN = re.compile("[^\x00-\x7f\\s]{3,}")
_NON_ASCII_CHAR = re.compile("[^\x00-\x7f\\s]")
_MAX_FOREIGN_SHARE = 0.3
ENCODING_HINT = "give the encoding with --encoding (e.g. --encoding cp1251)"
_COLUMNS_HINT = "delete the columns you do not need (e.g. in a spreadsheet) and load it again"
_LINE_HINT = "is it a CSV table, one record a line?"


@dataclass(frozen=True)
class Limits:
    """How wide a header, and how long a line, the event readers take.

    Attributes
    ----------
    columns
        Columns of the header (``CONFLICTMAP_MAX_COLUMNS``; default ``MAX_COLUMNS``).
    line_bytes
        Bytes of one line (``CONFLICTMAP_MAX_LINE_MB`` megabytes; default
        ``MAX_LINE_BYTES``).
    """

    columns: int = MAX_COLUMNS
    line_bytes: int = MAX_LINE_BYTES


def limits(environ: Mapping[str, str] | None = None) -> Limits:
    """The limits in force: the defaults, or what the settings raise them to.

    Read at each call (not when the module is imported), so a server or a test that sets the
    variables later is obeyed.

    Parameters
    ----------
    environ
        Where the settings are read (default ``os.environ``).

    Returns
    -------
    Limits

    Raises
    ------
    SettingError
        A setting is not a whole number in its range; the message names it and the range.
    """
    env = os.environ if environ is None else environ
    columns = _setting(env, MAX_COLUMNS_ENV, "columns", _MOST_COLUMNS)
    megabytes = _setting(env, MAX_LINE_MB_ENV, "megabytes", _MOST_LINE_MB)
    return Limits(
        columns=MAX_COLUMNS if columns is None else columns,
        line_bytes=MAX_LINE_BYTES if megabytes is None else megabytes * 1024 * 1024,
    )


def _setting(env: Mapping[str, str], name: str, unit: str, most: int) -> int | None:
    """The whole number a setting holds; None when it is not set (or blank)."""
    text = env.get(name, "").strip()
    if not text:
        return None
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        value = 0
    if not 1 <= value <= most:
        raise SettingError(f"{name}={text!r}: give a whole number of {unit} from 1 to {most:,}")
    return value


def short_list(items: Sequence[str], *, limit: int = MAX_LISTED) -> str:
    """``items`` joined by commas for a one-line message; a long list shortened.

    Up to ``limit`` items are listed whole; a longer list shows its first ``limit - 1``,
    ``...``, its last, and how many there are (``c0, c1, ..., c1499 (1,500 in all)``). Each
    item longer than 40 characters is cut, with ``...``.

    Parameters
    ----------
    items
        Names (columns, copies, positions) in the order to list them.
    limit
        How many to list at most.

    Returns
    -------
    str
    """
    names = [i if len(i) <= _LISTED_CHARS else i[: _LISTED_CHARS - 3] + "..." for i in items]
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join([*names[: limit - 1], "...", names[-1]]) + f" ({len(names):,} in all)"


@dataclass
class Table:
    """A CSV file read as text.

    Attributes
    ----------
    frame
        One row per well-formed record; every column text (``str`` dtype, NA for missing)
        plus ``schema.SOURCE_ROW``.
    set_aside
        Ragged records: fields aligned to the header as far as they go, the whole record in
        ``schema.RAW_RECORD``, ``schema.SOURCE_ROW`` and ``schema.REJECT_REASON``.
    problems
        Ragged rows (errors), line breaks inside fields and blank lines (warnings).
    """

    frame: pd.DataFrame
    set_aside: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)


# --- the file as bytes ------------------------------------------------------------------


def check_file(
    path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, max_line: int | None = None
) -> int:
    """Refuse what cannot be read as a CSV text file; return its size in bytes.

    The first line is checked against ``max_line`` (default: :func:`limits`) here, reading
    at most that many bytes, so a file with no line break (a blob saved as .csv) is refused
    before the encoding detection streams the whole file.

    Raises
    ------
    InputFileError
        Missing, not a regular file (a directory, a named pipe), unreadable, empty, larger
        than ``max_bytes``, compressed, another format (a workbook, GeoJSON, GeoPackage,
        Parquet), or a first line longer than ``max_line``.
    SettingError
        ``max_line`` not given, and a limit setting is unusable.
    """
    max_line = limits().line_bytes if max_line is None else max_line
    size = check_input_file(path)
    if size > max_bytes:
        raise InputFileError(
            f"{path}: the file is {_human(size)}, more than the limit of {_human(max_bytes)}; "
            "split it into smaller files"
        )
    with path.open("rb") as fh:
        head = fh.read(16).removeprefix(codecs.BOM_UTF8).lstrip()
    for magic, what in _NOT_CSV:
        if head.startswith(magic):
            hint = f" ({_GEODATA_HINT})" if "Geo" in what or "Parquet" in what else ""
            raise InputFileError(
                f"{path}: the file is {what}, not CSV text; extract or export it as CSV first{hint}"
            )
    # Bytes, before the encoding is known: every accepted encoding writes a line end with a
    # 0x0A or 0x0D byte, so none in the first max_line + 1 bytes means line 1 is over.
    if _first_long_line(_byte_chunks(path, 0, max_line + 1), max_line) == 0:
        raise InputFileError(_long_line_message(path, 1, max_line))
    return size


def _human(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} bytes"  # pragma: no cover


def detect_encoding(path: Path) -> str:
    """Name the encoding of a text file: a BOM, else strict UTF-8, else Arabic Windows-1256,
    else Windows-1252.

    Windows-1256 is accepted only when the decoded text is plausibly Arabic (most non-ASCII
    characters are Arabic letters, in words of two letters or more); it is checked first.
    Windows-1252 (``cp1252``: the typographic quotes and accented letters of a Western
    spreadsheet export) is accepted only when no byte is one of the five it leaves undefined
    (0x81, 0x8D, 0x8F, 0x90, 0x9D) and the file holds no valid UTF-8 multi-byte sequence (a
    file mixing the two would be garbled either way). The caller says so in the report
    (:func:`cp1252_note`). There is no silent latin-1 fallback.

    Raises
    ------
    EncodingDetectionError
        The bytes fit none of these; the message names the file and the byte offset.
    """
    with path.open("rb") as fh:
        head = fh.read(4)
    encoding = bom_encoding(head)
    if encoding is not None:
        failure = _first_failure(path, encoding)
        if failure is not None:
            raise EncodingDetectionError(
                f"{path}: starts with a {encoding.upper()} byte-order mark but "
                f"{failure.describe()} cannot be decoded as {encoding.upper()}"
            )
        return encoding
    failure = _first_failure(path, "utf-8")
    if failure is None:
        return "utf-8"
    if failure.nul:
        raise EncodingDetectionError(
            f"{path}: {failure.describe()} is a NUL byte: a binary file, or UTF-16 saved "
            "without a byte-order mark; save it as UTF-8 CSV"
        )
    if _plausibly_arabic(path, "cp1256"):
        return "cp1256"
    why_not = _not_cp1252(path)
    if why_not is None:
        return "cp1252"
    raise EncodingDetectionError(
        f"{path}: not valid UTF-8 ({failure.describe()}), not Arabic text in Windows-1256 and "
        f"not Windows-1252 ({why_not}); the encoding is unknown (latin-1 is not guessed "
        f"because it would silently garble the text): {ENCODING_HINT}, or save the file as "
        "UTF-8 and load it again"
    )


def check_encoding(path: Path, encoding: str) -> str:
    """Check that the whole file decodes in an encoding the user named; return its name.

    ``utf-8`` of a file that starts with a UTF-8 byte-order mark becomes ``utf-8-sig`` (the
    mark is not part of the first column's name).

    Raises
    ------
    EncodingDetectionError
        Python knows no such encoding, or some byte of the file does not decode in it.
    """
    try:
        name = codecs.lookup(encoding).name
    except LookupError as exc:
        raise EncodingDetectionError(
            f"--encoding {encoding!r}: no such encoding (e.g. utf-8, cp1252, cp1256, latin-1)"
        ) from exc
    if name == "utf-8":
        with path.open("rb") as fh:
            if fh.read(3) == codecs.BOM_UTF8:
                name = "utf-8-sig"
    failure = _first_failure(path, name)
    if failure is not None and not failure.nul:
        raise EncodingDetectionError(
            f"{path}: {failure.describe()} cannot be decoded as {encoding} (given with "
            "--encoding); check the encoding the file was saved in"
        )
    return name


def _not_cp1252(path: Path) -> str | None:
    """Why the file is not Windows-1252 text (None when it can be): the first byte that
    Windows-1252 leaves undefined, or a UTF-8 sequence beside the invalid bytes."""
    offset = 0
    tail = b""
    letters = in_runs = 0
    example = ""
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK_BYTES):
            if (bad := _CP1252_UNDEFINED.search(chunk)) is not None:
                at = offset + bad.start()
                return f"byte 0x{chunk[bad.start()]:02x} at offset {at} is undefined there"
            # A few bytes of the previous chunk keep a sequence cut at the boundary whole.
            if _UTF8_SEQUENCE.search(tail + chunk[:4]) or _UTF8_SEQUENCE.search(chunk):
                return "part of the file is UTF-8: the file mixes two encodings"
            text = chunk.decode("cp1252")
            letters += len(_NON_ASCII_CHAR.findall(text))
            for run in _FOREIGN_RUN.findall(text):
                in_runs += len(run)
                example = example or run
            tail = chunk[-3:]
            offset += len(chunk)
    if letters and in_runs > _MAX_FOREIGN_SHARE * letters:
        return (
            f"read that way its words are accented letters only (e.g. {example[:12]!r}): "
            "another alphabet, such as Greek (cp1253) or Cyrillic (cp1251)"
        )
    return None


def cp1252_note(frame: pd.DataFrame, header: Sequence[str]) -> Problem:
    """The warning for a file read as Windows-1252: the first row with a non-ASCII character.

    ``frame`` is the text table (with ``schema.SOURCE_ROW``) in file order; ``header`` the
    header's names (a character may be there and nowhere else).
    """
    where, char = "", ""
    for name in header:
        if (found := _NON_ASCII.search(str(name))) is not None:
            where, char = "in the header", found.group()
            break
    if not where:
        columns = [c for c in frame.columns if c != schema.SOURCE_ROW]
        hits = pd.Series(False, index=frame.index)
        for column in columns:
            hits |= frame[column].str.contains(_NON_ASCII, na=False)
        if hits.any():
            first = frame[hits].iloc[0]
            row = int(first[schema.SOURCE_ROW])
            text = next(str(first[c]) for c in columns if _NON_ASCII.search(str(first[c])))
            where, char = f"at row {row}", _NON_ASCII.search(text).group()  # type: ignore[union-attr]
    byte = f"byte 0x{char.encode('cp1252')[0]:02x} {where} is {char}" if char else "no text"
    return Problem(
        None,
        None,
        char or None,
        f"read as Windows-1252 (not UTF-8): {byte}; if that is not the character meant, "
        f"{ENCODING_HINT}",
        WARNING,
    )


@dataclass(frozen=True)
class _Failure:
    offset: int
    line: int
    byte: int
    nul: bool = False

    def describe(self) -> str:
        return f"byte 0x{self.byte:02x} at offset {self.offset} (line {self.line})"


def _first_failure(path: Path, encoding: str) -> _Failure | None:
    """Stream the file through a strict decoder; where does it first fail (or hit NUL)?"""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = 0
    newlines = 0
    check_nul = encoding == "utf-8"
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(_CHUNK_BYTES)
            final = not chunk
            if check_nul and (nul := chunk.find(b"\x00")) >= 0:
                line = 1 + newlines + chunk.count(b"\n", 0, nul)
                return _Failure(offset + nul, line, 0, nul=True)
            try:
                decoder.decode(chunk, final=final)
            except UnicodeDecodeError as exc:
                pending = len(exc.object) - len(chunk)  # bytes held over from the last chunk
                at = offset - pending + exc.start
                line = 1 + newlines + exc.object[: exc.start].count(b"\n")
                return _Failure(at, line, exc.object[exc.start])
            if final:
                return None
            offset += len(chunk)
            newlines += chunk.count(b"\n")


def _plausibly_arabic(path: Path, encoding: str) -> bool:
    """Does the file, decoded as ``encoding``, read as Arabic rather than mojibake?

    Most non-ASCII characters must be in the Arabic blocks, and most Arabic letters must
    sit in runs of two or more (words), not alone among Latin letters as mojibake does.
    """
    non_ascii = arabic = in_words = 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK_BYTES):
            try:
                text = chunk.decode(encoding)
            except UnicodeDecodeError:
                return False
            non_ascii += len(chunk) - len(chunk.translate(None, _HIGH_BYTES))  # 1 byte/char
            for run in _ARABIC.findall(text):
                arabic += len(run)
                if len(run) >= 2:
                    in_words += len(run)
    return arabic >= 2 and arabic >= 0.6 * non_ascii and in_words >= 0.8 * arabic


# --- text sample: delimiter and first record ---------------------------------------------


def read_sample(
    path: Path, encoding: str, *, chars: int = _SAMPLE_CHARS, max_line: int | None = None
) -> str:
    """The first ``chars`` characters of the file, cut back to the last complete line.

    The first line with text on it (the header) is always whole, however much longer than
    ``chars`` it is: a header cut inside the sample would lose its last columns, or split a
    name in two. Reading stops at ``max_line`` (default: :func:`limits`) characters past the
    start of that line.

    Raises
    ------
    InputFileError
        The header line is longer than ``max_line`` characters, or the first ``max_line``
        characters hold only blank lines.
    """
    max_line = limits().line_bytes if max_line is None else max_line
    with path.open(encoding=encoding, newline="") as fh:
        parts = [fh.read(chars)]
        text = parts[0]
        while (end := _header_end(text, path=path, max_line=max_line)) is None:
            more = fh.read(chars)
            if not more:
                return text  # the whole file is the sample
            parts.append(more)
            text = "".join(parts)
        more_after = bool(fh.read(1))
    if more_after:
        last_end = max(text.rfind("\n"), text.rfind("\r"))
        text = text[: max(last_end + 1, end)]
    return text


def _header_end(text: str, *, path: Path, max_line: int) -> int | None:
    """Where the first line holding text ends in ``text`` (after its line end); None when
    ``text`` does not reach that far yet.

    Raises
    ------
    InputFileError
        That line, or the blank lines before it, run past ``max_line`` characters.
    """
    content = _NOT_SPACE.search(text)
    blank = len(text) if content is None else content.start()
    if blank > max_line:
        raise InputFileError(
            f"{path}: no header in the first {_human(max_line)} (only blank lines); "
            "remove the blank lines at the top and load it again"
        )
    if content is None:
        return None
    start = max(text.rfind("\n", 0, content.start()), text.rfind("\r", 0, content.start())) + 1
    found = _LINE_END.search(text, content.start())
    length = (found.start() if found else len(text)) - start
    if length > max_line:
        line = 1 + _count_line_ends(text[:start])
        raise InputFileError(_long_line_message(path, line, max_line))
    return found.end() if found else None


def sniff_delimiter(sample: str) -> str:
    """Pick the delimiter among ``,`` ``;`` and tab that splits the sample most consistently.

    Each candidate parses the first records of the sample; the winner gives the most
    records with the same field count as the header, then the most fields. A sample that
    no candidate splits into two or more fields is read with ``,`` (one column).
    """
    best: tuple[float, int] = (0.0, 1)
    chosen = ","
    for delimiter in DELIMITERS:
        records = _records(sample, delimiter)
        if not records or len(records[0]) < 2:
            continue
        width = len(records[0])
        score = (sum(len(r) == width for r in records) / len(records), width)
        if score > best:
            best, chosen = score, delimiter
    return chosen


def _records(sample: str, delimiter: str) -> list[list[str]]:
    # newline="": lines end at CR, LF or CRLF, as in the file read with newline="" (the
    # default splits at LF only, and a classic-Mac file with CR line ends would be one line).
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
    out: list[list[str]] = []
    try:
        for record in reader:
            if _is_blank(record):
                continue
            out.append(record)
            if len(out) >= _SNIFF_RECORDS:
                break
    except csv.Error:
        pass
    return out


def first_record(sample: str, delimiter: str) -> list[str]:
    """The first non-blank record of the sample (the header, usually); [] when none."""
    records = _records(sample, delimiter)
    return records[0] if records else []


def _is_blank(record: Sequence[str]) -> bool:
    return not record or (len(record) == 1 and not record[0].strip())


def check_header_width(
    path: Path, header: Sequence[str], *, max_columns: int | None = None
) -> None:
    """Refuse a header of more than ``max_columns`` (default: :func:`limits`) columns.

    Raises
    ------
    InputFileError
        Naming the file, the number of columns found, the limit and the setting that
        raises it.
    """
    most = limits().columns if max_columns is None else max_columns
    found = len(header)
    if found > most:
        enough = -(-found // 1000) * 1000  # rounded up to a thousand: 2,500 -> 3000
        raise_it = (
            f", or raise the limit with {MAX_COLUMNS_ENV}={enough}"
            if enough <= _MOST_COLUMNS
            else ""
        )
        raise InputFileError(
            f"{path}: the header has {found:,} columns; at most {most:,} are read: "
            f"{_COLUMNS_HINT}{raise_it}"
        )


# --- line lengths -----------------------------------------------------------------------------


def check_line_lengths(path: Path, *, encoding: str, max_line: int | None = None) -> None:
    """Refuse a file with a line longer than ``max_line`` bytes, reading it in chunks.

    ``max_line`` defaults to :func:`limits`.

    Run before a parser reads the file, so neither the csv module (which reads a line
    whole) nor pyarrow ever holds a line over the limit. A CR, an LF and a CRLF each end a
    line, as they do for the csv module. In UTF-16 and UTF-32 the bytes 0x0A and 0x0D occur
    inside other characters, so those files are decoded and measured in characters (a
    limit of ``max_line`` divided by the bytes of one line end).

    Raises
    ------
    InputFileError
        Naming the file, the first line over the limit (1-based, as an editor counts) and
        the limit.
    """
    max_line = limits().line_bytes if max_line is None else max_line
    width = _line_end_width(encoding)
    if width == 0:
        start = _first_long_line(_byte_chunks(path, 0, None), max_line)
        if start is not None:
            line = 1 + _count_line_ends_in(_byte_chunks(path, 0, start))
            raise InputFileError(_long_line_message(path, line, max_line))
        return
    limit = max_line // width
    start = _first_long_line(_text_chunks(path, encoding), limit)
    if start is not None:
        line = 1 + _count_line_ends_in(_text_chunks(path, encoding, upto=start))
        raise InputFileError(_long_line_message(path, line, max_line))


def long_line_in_range(
    path: Path, start: int, end: int, *, max_line: int | None = None
) -> int | None:
    """The 1-based line number (counted from ``start``) of the first line longer than
    ``max_line`` bytes (default: :func:`limits`) in bytes ``start:end`` of a UTF-8 file;
    None when there is none.

    ``start`` must be a line start. Reads the range in chunks (bounded memory).
    """
    max_line = limits().line_bytes if max_line is None else max_line
    offset = _first_long_line(_byte_chunks(path, start, end), max_line)
    if offset is None:
        return None
    return 1 + _count_line_ends_in(_byte_chunks(path, start, start + offset))


def _long_line_message(path: Path, line: int, limit: int) -> str:
    more = 2 * -(-limit // (1024 * 1024))  # twice the limit, in whole megabytes
    raise_it = (
        f" If so, raise the limit with {MAX_LINE_MB_ENV}={more}" if more <= _MOST_LINE_MB else ""
    )
    return (
        f"{path}: line {line:,} is longer than {_human(limit)} (more than {limit:,} bytes "
        f"without a line break); at most {_human(limit)} a line is read: {_LINE_HINT}"
        f"{raise_it}"
    )


def _line_end_width(encoding: str) -> int:
    """0 when the encoding writes CR and LF as the single bytes 0x0D and 0x0A and no other
    character holds those bytes (UTF-8, the Windows code pages, the CJK multi-byte codes);
    else the bytes of one encoded line end (2 for UTF-16, 4 for UTF-32)."""
    try:
        if b"\n\r".decode(encoding) == "\n\r":
            return 0
    except UnicodeDecodeError:
        pass
    encoder = codecs.getincrementalencoder(encoding)()
    with_bom = len(encoder.encode("\n"))  # a BOM (if any) comes with the first call
    return max(1, len(encoder.encode("\n")) or with_bom)


def _byte_chunks(path: Path, start: int, end: int | None) -> Iterator[bytes]:
    """Bytes ``start:end`` of the file (``end`` None: to the end), chunk by chunk."""
    with path.open("rb") as fh:
        fh.seek(start)
        left = None if end is None else end - start
        while left is None or left > 0:
            chunk = fh.read(_CHUNK_BYTES if left is None else min(_CHUNK_BYTES, left))
            if not chunk:
                return
            if left is not None:
                left -= len(chunk)
            yield chunk


def _text_chunks(path: Path, encoding: str, *, upto: int | None = None) -> Iterator[str]:
    """The file decoded (an encoding already checked), chunk by chunk; ``upto`` characters."""
    seen = 0
    with path.open(encoding=encoding, errors="replace", newline="") as fh:
        while upto is None or seen < upto:
            chunk = fh.read(_CHUNK_BYTES if upto is None else min(_CHUNK_BYTES, upto - seen))
            if not chunk:
                return
            seen += len(chunk)
            yield chunk


def _first_long_line(chunks: Iterable[AnyStr], limit: int) -> int | None:
    """Offset where the first line longer than ``limit`` units starts; None when none is.

    Each chunk is looked at in pieces of at most ``limit`` units: a line inside a piece is
    then shorter than the limit, and only the line running across pieces needs measuring,
    from the first and last line ends of each piece (found by the C string search, so a
    file costs about what reading it costs).
    """
    offset = 0  # units before the current piece
    line_start = 0
    for chunk in chunks:
        newline, cr = ("\n", "\r") if isinstance(chunk, str) else (b"\n", b"\r")
        for at in range(0, len(chunk), limit):
            piece = chunk[at : at + limit]  # the chunk itself when it is no longer than limit
            first = piece.find(newline)
            first_cr = piece.find(cr, 0, len(piece) if first < 0 else first)
            if first_cr >= 0:
                first = first_cr
            if first < 0:
                if offset + len(piece) - line_start > limit:
                    return line_start
            else:
                if offset + first - line_start > limit:
                    return line_start
                last = piece.rfind(newline)
                last = max(last, piece.rfind(cr, last + 1))
                line_start = offset + last + 1
            offset += len(piece)
    return None


def _count_line_ends_in(chunks: Iterable[AnyStr]) -> int:
    """Line ends (LF, CR, CRLF once) in the chunks, a CRLF cut between two chunks included."""
    count = 0
    last_cr = False
    for chunk in chunks:
        count += _count_line_ends(chunk)
        newline = "\n" if isinstance(chunk, str) else b"\n"
        if last_cr and chunk.startswith(newline):
            count -= 1
        last_cr = chunk.endswith("\r" if isinstance(chunk, str) else b"\r")
    return count


def _count_line_ends(text: AnyStr) -> int:
    if isinstance(text, str):
        return text.count("\n") + text.count("\r") - text.count("\r\n")
    return text.count(b"\n") + text.count(b"\r") - text.count(b"\r\n")


# --- the whole file -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Record:
    row: int
    first_line: int
    last_line: int
    fields: list[str]
    unterminated: bool = False  # a quote opened in this record is never closed
    # A ragged record keeps its fields up to the header's width, and its field count and
    # text apart: a line of 1 MB can hold half a million fields, a pointer each in a list.
    count: int | None = None
    raw: str | None = None

    @property
    def field_count(self) -> int:
        return len(self.fields) if self.count is None else self.count

    def text(self, delimiter: str) -> str:
        return delimiter.join(self.fields) if self.raw is None else self.raw

    def compact(self, width: int, delimiter: str) -> _Record:
        """The record as kept when set aside: at most ``width`` fields, count and text apart."""
        if len(self.fields) <= width:
            return self
        return replace(
            self,
            fields=self.fields[:width],
            count=len(self.fields),
            raw=delimiter.join(self.fields),
        )


def read_table(
    path: Path,
    *,
    encoding: str,
    delimiter: str,
    columns: Sequence[str],
    has_header: bool,
) -> Table:
    """Read every record as text into a frame with ``columns``; set ragged records aside.

    The file is parsed by the standard ``csv`` module in a stream and turned into frames
    chunk by chunk, so memory grows with the frame, not with a copy of the file.

    Raises
    ------
    InputFileError
        The CSV structure itself is broken (e.g. a field over the csv module's size limit,
        usually an unterminated quote).
    """
    width = len(columns)
    chunks: list[pd.DataFrame] = []
    pending: list[list[str]] = []
    rows: list[int] = []
    ragged: list[_Record] = []
    multiline: list[_Record] = []
    blank = 0
    for record in _iter_records(path, encoding=encoding, delimiter=delimiter, skip=has_header):
        if record is None:
            blank += 1
            continue
        if record.last_line > record.first_line:
            multiline.append(record)
        if len(record.fields) != width or record.unterminated:
            ragged.append(record.compact(width, delimiter))
            continue
        pending.append(record.fields)
        rows.append(record.row)
        if len(pending) >= _CHUNK_ROWS:
            chunks.append(_frame(pending, rows, columns))
            pending, rows = [], []
    chunks.append(_frame(pending, rows, columns))
    frame = pd.concat(chunks, ignore_index=True) if len(chunks) > 1 else chunks[0]
    problems = [_ragged_problem(r, width, delimiter) for r in ragged]
    problems += _layout_warnings(multiline, blank)
    return Table(frame, _ragged_frame(ragged, columns, delimiter), problems)


def _iter_records(
    path: Path, *, encoding: str, delimiter: str, skip: bool
) -> Iterator[_Record | None]:
    """Yield each data record (None for a blank line), with its physical line span.

    The last record is held back one step: if it spans several lines and its quote never
    closes, it swallowed the rest of the file, and it is marked ``unterminated``.
    """
    row = 0
    last_line = 0
    held: _Record | None = None
    with path.open(encoding=encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        try:
            for fields in reader:
                first_line, last_line = last_line + 1, reader.line_num
                if skip and not _is_blank(fields):
                    skip = False
                    continue
                if _is_blank(fields):
                    yield None
                    continue
                row += 1
                if held is not None:
                    yield held
                held = _Record(row, first_line, last_line, fields)
        except csv.Error as exc:
            raise InputFileError(
                f"{path}: broken CSV after line {reader.line_num}: {exc} "
                "(an unterminated quote makes one field swallow the rest of the file)"
            ) from exc
        except UnicodeDecodeError as exc:  # detect_encoding checked the bytes already
            raise EncodingDetectionError(f"{path}: cannot decode as {encoding}: {exc}") from exc
    if held is not None:
        if held.last_line > held.first_line and _ends_in_open_quote(
            path, encoding=encoding, delimiter=delimiter, first_line=held.first_line
        ):
            held = replace(held, unterminated=True)
        yield held


def _ends_in_open_quote(path: Path, *, encoding: str, delimiter: str, first_line: int) -> bool:
    """Does the text from ``first_line`` to the end of the file end inside a quoted field?"""
    with path.open(encoding=encoding, newline="") as fh:
        tail = itertools.islice(fh, first_line - 1, None)
        try:
            for _ in csv.reader(tail, delimiter=delimiter, strict=True):
                pass
        except csv.Error as exc:
            return "unexpected end of data" in str(exc)
    return False


def _frame(records: list[list[str]], rows: list[int], columns: Sequence[str]) -> pd.DataFrame:
    width = len(columns)
    if records:
        arrays = [pa.array(values, type=pa.large_string()) for values in zip(*records, strict=True)]
    else:
        arrays = [pa.array([], type=pa.large_string())] * width
    frame = text_frame(arrays, columns)
    frame[schema.SOURCE_ROW] = pd.Series(rows, dtype="int64")
    return frame


def text_frame(
    arrays: Sequence[pa.Array | pa.ChunkedArray], columns: Sequence[str]
) -> pd.DataFrame:
    """A frame of ``str`` columns from parsed text, the NA spellings and blank cells NA.

    Both parsers end here (``fastcsv`` with pyarrow's columns, the csv module's records
    turned into columns), so a value is NA or not by one rule. The work is done by pyarrow
    compute, one call per column and step, so a header of a thousand columns costs
    milliseconds, not a pandas operation per column.

    Parameters
    ----------
    arrays
        One ``large_string`` array per column, all of one length.
    columns
        The column names, as many as ``arrays``.
    """
    names = [f"f{i}" for i in range(len(arrays))]  # the names may repeat until cleaned
    table = pa.table([blank_to_na(array) for array in arrays], names=names)
    text = pd.api.types.pandas_dtype("str")
    frame = table.to_pandas(types_mapper=lambda t: text if pa.types.is_large_string(t) else None)
    frame.columns = list(columns)
    return frame


def blank_to_na(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Null for the explicit NA spellings (``schema.NA_VALUES``) and for cells holding only
    whitespace (as ``str.strip`` of pandas' pyarrow-backed text sees it)."""
    stripped = pc.utf8_trim_whitespace(values)
    missing = pc.is_in(stripped, value_set=_NA_TEXT)
    return pc.if_else(missing, pa.scalar(None, type=pa.large_string()), values)


def no_ragged_rows(columns: Sequence[str], delimiter: str) -> pd.DataFrame:
    """The ``Table.set_aside`` of a file without ragged rows: its columns, no rows."""
    return _ragged_frame([], columns, delimiter)


def _ragged_frame(records: list[_Record], columns: Sequence[str], delimiter: str) -> pd.DataFrame:
    width = len(columns)
    aligned = [(r.fields + [""] * width)[:width] for r in records]
    frame = _frame(aligned, [r.row for r in records], columns)
    frame[schema.RAW_RECORD] = pd.Series([r.text(delimiter) for r in records], dtype="str")
    frame[schema.REJECT_REASON] = pd.Series(
        [_ragged_reason(r, width) for r in records], dtype="str"
    )
    return frame


def _lines(record: _Record) -> str:
    if record.last_line == record.first_line:
        return f"line {record.first_line}"
    return f"lines {record.first_line}-{record.last_line}"


def _ragged_reason(record: _Record, width: int) -> str:
    if record.unterminated:
        return (
            f"unterminated quote: a quoted field opened in this row never closes, so it "
            f"runs to the end of the file ({_lines(record)}); close the quote and reload"
        )
    many = "too many" if record.field_count > width else "too few"
    return (
        f"ragged row: {record.field_count} fields where the header has {width} "
        f"({many} fields, {_lines(record)})"
    )


def _ragged_problem(record: _Record, width: int, delimiter: str) -> Problem:
    raw = record.text(delimiter)
    value = raw if len(raw) <= 200 else raw[:200] + "..."
    return Problem(record.row, None, value, _ragged_reason(record, width), ERROR)


def _layout_warnings(multiline: list[_Record], blank: int) -> list[Problem]:
    problems: list[Problem] = []
    if multiline:
        listed = ", ".join(str(r.row) for r in multiline[:_MAX_ROWS_LISTED])
        more = ", ..." if len(multiline) > _MAX_ROWS_LISTED else ""
        problems.append(
            Problem(
                None,
                None,
                len(multiline),
                f"{len(multiline)} rows contain line breaks inside quoted fields "
                f"(rows {listed}{more}); they were read as one row each",
                WARNING,
            )
        )
    for record in multiline:
        if record.last_line - record.first_line >= _LONG_RECORD_LINES:
            problems.append(
                Problem(
                    record.row,
                    None,
                    None,
                    f"this row spans {_lines(record)}: is a quote left open?",
                    WARNING,
                )
            )
    if blank:
        problems.append(Problem(None, None, blank, f"{blank} blank lines skipped", WARNING))
    return problems
