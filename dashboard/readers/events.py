"""Event files: detect the format from the header, read as text under canonical names.

Four formats (``schema.EVENT_FORMATS``):

- ``canonical``: the header is (a subset of) ``schema.EVENT_COLUMNS``, maybe with extras.
- ``acled``: an ACLED export, current or pre-2023 layout. ``event_id_cnty`` becomes
  ``event_id``; of rows sharing an id, the one with the newest ``timestamp`` is kept and
  the others are set aside (a warning each).
- ``ucdp``: a UCDP GED release CSV (49 columns), with or without its header row. Columns
  are renamed (``schema.UCDP_TO_CANONICAL``) and the UCDP codes are translated into
  ``event_type`` text, ``geo_precision`` and ``time_precision``, the originals kept.
- ``mapped``: any CSV plus an explicit column mapping (see ``readers.mapping``).

Values stay text here; ``dashboard.validation`` types them.
"""

from __future__ import annotations

import logging
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

from dashboard import schema
from dashboard.errors import InputFileError, SchemaError
from dashboard.readers import fastcsv, textio
from dashboard.readers.mapping import column_key, renames_for
from dashboard.report import WARNING, Problem

_log = logging.getLogger(__name__)
_UCDP_KEYS = frozenset(
    {"id", "type_of_violence", "side_a", "side_b", "date_start", "date_end", "best", "where_prec"}
)
_KNOWN_NAMES = frozenset(
    schema.MAPPING_TARGETS
    + schema.ACLED_COLUMNS
    + schema.ACLED_PRE2023_COLUMNS
    + schema.UCDP_GED_COLUMNS
)
# Columns the reader and validator add; a file column with one of these names is renamed.
_RESERVED = frozenset(
    {schema.SOURCE_ROW, schema.SOURCE_FORMAT, schema.REJECT_REASON, schema.RAW_RECORD}
)
# (file column after renaming, derived column, code table, name in the UCDP codebook)
_UCDP_CODES: tuple[tuple[str, str, Mapping[int, object], str], ...] = (
    (schema.UCDP_WHERE_PREC, schema.GEO_PRECISION, schema.UCDP_WHERE_PREC_TO_GEO, "where_prec"),
    (schema.UCDP_DATE_PREC, schema.TIME_PRECISION, schema.UCDP_DATE_PREC_TO_TIME, "date_prec"),
    (
        schema.UCDP_TYPE_OF_VIOLENCE,
        schema.EVENT_TYPE,
        schema.UCDP_TYPE_OF_VIOLENCE_TEXT,
        "type_of_violence",
    ),
)


@dataclass
class ReadResult:
    """An event file read as text, with canonical column names where known.

    Attributes
    ----------
    path
        The file read.
    format
        ``"canonical"``, ``"acled"``, ``"ucdp"`` or ``"mapped"``.
    frame
        One row per record; values are text (``str`` or NA); extra columns keep their
        names; ``schema.SOURCE_ROW`` is the 1-based data row (header excluded).
    set_aside
        Rows set aside while reading (ragged rows, superseded ACLED duplicates) with
        ``schema.SOURCE_ROW`` and ``schema.REJECT_REASON``.
    problems
        What the reader noticed, errors and warnings.
    rows_in
        ``len(frame) + len(set_aside)``.
    encoding, delimiter
        How the bytes were read.
    parser
        ``"pyarrow"`` when the fast path (``readers.fastcsv``) read the file, ``"csv"``
        when the standard csv module did; the result is the same either way.
    fallback
        Why the fast path was not taken (None when it was).
    """

    path: str
    format: str
    frame: pd.DataFrame
    set_aside: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    rows_in: int = 0
    encoding: str = "utf-8"
    delimiter: str = ","
    parser: str = "csv"
    fallback: str | None = None


def detect_format(columns: Sequence[str]) -> str:
    """Name the format of an event file from its header.

    Parameters
    ----------
    columns
        The header's column names (case and surrounding spaces are ignored).

    Returns
    -------
    str
        ``"acled"`` when ``event_id_cnty`` and ``event_date`` are present, ``"ucdp"`` when
        the UCDP GED key columns (``id``, ``type_of_violence``, ``side_a``, ``side_b``,
        ``date_start``, ``date_end``, ``best``, ``where_prec``) are, else ``"canonical"``
        (validation then names any missing canonical column and suggests a mapping).
        ``"mapped"`` is never detected: it needs a mapping.

    Raises
    ------
    SchemaError
        The header is empty.
    """
    names = {column_key(c) for c in columns}
    names.discard("")
    if not names:
        raise SchemaError("the file has no column names in its first row")
    if {schema.ACLED_ID, schema.EVENT_DATE} <= names:
        return "acled"
    if names >= _UCDP_KEYS:
        return "ucdp"
    return "canonical"


def read_events(
    path: str | Path,
    *,
    format: str | None = None,
    mapping: Mapping[str, str] | None = None,
    max_bytes: int = textio.DEFAULT_MAX_BYTES,
    fast: bool = True,
    encoding: str | None = None,
) -> ReadResult:
    """Read an event CSV as text, in any of the four formats.

    Parameters
    ----------
    path
        The CSV file (UTF-8 with or without BOM, UTF-16 with BOM, Arabic Windows-1256 or
        Windows-1252, see ``textio.detect_encoding``; comma, semicolon or tab separated).
    format
        Force ``"canonical"``, ``"acled"``, ``"ucdp"`` or ``"mapped"``; default: detected.
    mapping
        ``{FILE_COLUMN: CANONICAL_COLUMN}``; implies ``format="mapped"``.
    max_bytes
        Refuse files larger than this (default 2 GB).
    fast
        Try the pyarrow fast path first (default). It is taken only when it provably gives
        the same result as the csv module; ``False`` always uses the csv module.
    encoding
        The file's encoding as the user gives it (``--encoding``; any name Python knows),
        instead of detecting it; the whole file must decode in it.

    Returns
    -------
    ReadResult

    Raises
    ------
    InputFileError, EncodingDetectionError
        The file cannot be read as CSV text, or is wider or has longer lines than
        ``textio.limits()`` (``CONFLICTMAP_MAX_COLUMNS``, ``CONFLICTMAP_MAX_LINE_MB``).
    SchemaError
        Bad ``format``/``mapping`` options, or a mapping that does not fit the header.
    SettingError
        A limit setting is not a usable number.
    """
    given = None
    limits = textio.limits()  # once per file: every check below applies the same values
    if encoding is not None:
        textio.check_file(Path(path), max_bytes=max_bytes, max_line=limits.line_bytes)
        given = textio.check_encoding(Path(path), encoding)
    layout = sniff_layout(
        path, format=format, mapping=mapping, max_bytes=max_bytes, encoding=given, limits=limits
    )
    path = Path(layout.path)
    encoding, delimiter, columns = layout.encoding, layout.delimiter, layout.columns
    textio.check_line_lengths(path, encoding=encoding, max_line=limits.line_bytes)
    has_header, first, fmt, renames = layout.has_header, layout.first, layout.format, layout.renames
    problems = list(layout.problems)
    table, parser, fallback = _read_table(
        path,
        encoding=encoding,
        delimiter=delimiter,
        columns=columns,
        has_header=has_header,
        first=first,
        fast=fast,
        max_line=limits.line_bytes,
    )
    if given is None and encoding == "cp1252":
        # A guessed encoding is said first, with the row a reader can check.
        problems.insert(0, textio.cp1252_note(_in_file_order(table), first))
    frame = table.frame.rename(columns=renames)
    set_aside = table.set_aside.rename(columns=renames)
    problems += table.problems
    if fmt == "acled":
        frame, superseded, more = _supersede_duplicates(frame)
        set_aside = _concat_rows(set_aside, superseded)
    else:
        frame, more = _derive_ucdp_codes(frame)
    problems += more
    if frame.empty and set_aside.empty:
        problems.append(
            Problem(None, None, None, "the file has a header but no data rows", WARNING)
        )
    return ReadResult(
        path=str(path),
        format=fmt,
        frame=frame,
        set_aside=set_aside,
        problems=problems,
        rows_in=len(frame) + len(set_aside),
        encoding=encoding,
        delimiter=delimiter,
        parser=parser,
        fallback=fallback,
    )


@dataclass(frozen=True)
class Layout:
    """What the head of an event file says: encoding, delimiter, header, format, renames.

    Attributes
    ----------
    path, encoding, delimiter
        The file and how its bytes are read.
    first
        The first record as the sniffer parsed it (the header, unless ``has_header`` is
        False).
    columns
        Column names of the records, before ``renames``.
    has_header
        Whether the first record is a header (a headerless UCDP GED file is not).
    format
        ``schema.EVENT_FORMATS``.
    renames
        ``{file column: canonical column}`` the reader applies.
    problems
        Header problems (blank, reserved or repeated names; a headerless file).
    """

    path: str
    encoding: str
    delimiter: str
    first: list[str]
    columns: list[str]
    has_header: bool
    format: str
    renames: dict[str, str]
    problems: list[Problem] = field(default_factory=list)


def sniff_layout(
    path: str | Path,
    *,
    format: str | None = None,
    mapping: Mapping[str, str] | None = None,
    max_bytes: int = textio.DEFAULT_MAX_BYTES,
    encoding: str | None = None,
    limits: textio.Limits | None = None,
) -> Layout:
    """Check the file and read its layout from the head, as ``read_events`` does first.

    Parameters
    ----------
    path, format, mapping, max_bytes
        As for :func:`read_events`.
    encoding
        Skip the detection (which reads the whole file) and read the head in this
        encoding; the caller then owns checking that the rest of the file decodes.
    limits
        The header width and line length allowed (default: ``textio.limits()``, read now).

    Raises
    ------
    InputFileError, EncodingDetectionError, SchemaError, SettingError
        As :func:`read_events`.
    """
    path = Path(path)
    check_options(format, mapping)
    limits = limits or textio.limits()
    textio.check_file(path, max_bytes=max_bytes, max_line=limits.line_bytes)
    encoding = encoding or textio.detect_encoding(path)
    sample = textio.read_sample(path, encoding, max_line=limits.line_bytes)
    delimiter = textio.sniff_delimiter(sample)
    first = textio.first_record(sample, delimiter)
    if not first:
        raise InputFileError(f"{path}: no header row; the file holds only blank lines")
    textio.check_header_width(path, first, max_columns=limits.columns)
    fmt, columns, has_header, problems = _layout(first, format=format, mapping=mapping)
    renames = _renames(fmt, columns, mapping, path=str(path))
    return Layout(
        path=str(path),
        encoding=encoding,
        delimiter=delimiter,
        first=list(first),
        columns=list(columns),
        has_header=has_header,
        format=fmt,
        renames=renames,
        problems=problems,
    )


def _read_table(
    path: Path,
    *,
    encoding: str,
    delimiter: str,
    columns: Sequence[str],
    has_header: bool,
    first: Sequence[str],
    fast: bool,
    max_line: int,
) -> tuple[textio.Table, str, str | None]:
    """The file as a text table, the parser that read it, and why the fast path was not taken."""
    fallback: str | None = "fast path turned off (fast=False)"
    if fast:
        attempt = fastcsv.read_table(
            path,
            encoding=encoding,
            delimiter=delimiter,
            columns=columns,
            has_header=has_header,
            first=first,
            max_line=max_line,
        )
        if attempt.table is not None:
            return attempt.table, "pyarrow", None
        fallback = attempt.fallback
    _log.debug("%s: read with the csv module: %s", path, fallback)
    table = textio.read_table(
        path, encoding=encoding, delimiter=delimiter, columns=columns, has_header=has_header
    )
    return table, "csv", fallback


def _in_file_order(table: textio.Table) -> pd.DataFrame:
    """Every record of a table, well formed or ragged, by source row."""
    if table.set_aside.empty:
        return table.frame
    ragged = table.set_aside[list(table.frame.columns)]
    return pd.concat([table.frame, ragged]).sort_values(schema.SOURCE_ROW, kind="stable")


def check_options(format: str | None, mapping: Mapping[str, str] | None) -> None:
    if format is not None and format not in schema.EVENT_FORMATS:
        raise SchemaError(
            f"unknown format {format!r}; choose one of {', '.join(schema.EVENT_FORMATS)}"
        )
    if format == "mapped" and not mapping:
        raise SchemaError("format 'mapped' needs a column mapping (--map FILE_COLUMN=CANONICAL)")
    if mapping and format not in (None, "mapped"):
        raise SchemaError(f"a column mapping cannot be combined with format {format!r}")


def _layout(
    first: list[str], *, format: str | None, mapping: Mapping[str, str] | None
) -> tuple[str, list[str], bool, list[Problem]]:
    """Format, column names, whether the first record is a header, and header problems."""
    if mapping:
        columns, problems = _clean_header(first)
        return "mapped", columns, True, problems
    if format in (None, "ucdp") and _headerless_ucdp(first, forced=format == "ucdp"):
        note = Problem(
            None,
            None,
            None,
            "no header row: read as the 49-column UCDP GED layout (first row is data)",
            WARNING,
        )
        return "ucdp", list(schema.UCDP_GED_COLUMNS), False, [note]
    columns, problems = _clean_header(first)
    return format or detect_format(columns), columns, True, problems


def _headerless_ucdp(record: Sequence[str], *, forced: bool) -> bool:
    """Is this record a UCDP GED data row (49 fields, integer id, a POINT(...) field)?"""
    if len(record) != len(schema.UCDP_GED_COLUMNS):
        return False
    names = {column_key(f) for f in record}
    if names & _UCDP_KEYS:
        return False
    has_point = any(f.strip().upper().startswith("POINT") for f in record)
    return record[0].strip().isdigit() and (has_point or forced)


def _clean_header(names: Sequence[str]) -> tuple[list[str], list[Problem]]:
    """Strip spaces and stray BOMs, fold case of known names, name blanks, de-duplicate.

    A repeated name gets the first free ``name.k``. Linear in the number of columns: the
    names taken are a set, and each name remembers the next ``k`` to try, so thousands of
    columns called alike cost no more than thousands of distinct ones. One warning per
    repeated name and one for all unnamed columns, however many there are.
    """
    problems: list[Problem] = []
    out: list[str] = []
    taken: set[str] = set()
    next_k: dict[str, int] = {}
    later: dict[str, list[str]] = {}  # repeated name -> the names its later copies got
    unnamed: list[int] = []
    for i, raw in enumerate(names, start=1):
        name = str(raw).strip().lstrip("\ufeff").strip()
        if not name:
            name = f"column_{i}"
            unnamed.append(i)
        elif name.lower() in _KNOWN_NAMES and name != name.lower():
            name = name.lower()
        if name in _RESERVED:
            message = f"column {name!r} is renamed file_{name}: the reader adds its own"
            problems.append(Problem(None, name, raw, message, WARNING))
            name = f"file_{name}"
        if name in taken:
            k = next_k.get(name, 1)
            while f"{name}.{k}" in taken:
                k += 1
            next_k[name] = k + 1
            later.setdefault(name, []).append(f"{name}.{k}")
            name = f"{name}.{k}"
        taken.add(name)
        out.append(name)
    if unnamed:
        problems.append(_unnamed_warning(unnamed))
    problems += [_repeated_warning(name, copies) for name, copies in later.items()]
    return out, problems


def _unnamed_warning(positions: list[int]) -> Problem:
    if len(positions) == 1:
        i = positions[0]
        return Problem(
            None, f"column_{i}", "", f"column {i} has no name; called 'column_{i}'", WARNING
        )
    numbers = textio.short_list([str(i) for i in positions])
    called = textio.short_list([f"column_{i}" for i in positions])
    return Problem(
        None,
        f"column_{positions[0]}",
        "",
        f"columns {numbers} have no name; called {called}",
        WARNING,
    )


def _repeated_warning(name: str, copies: list[str]) -> Problem:
    if len(copies) == 1:
        message = f"column {name!r} appears twice; the later one is called {copies[0]}"
    else:
        message = (
            f"column {name!r} appears {len(copies) + 1:,} times; the later ones are called "
            f"{textio.short_list(copies)}"
        )
    return Problem(None, name, name, message, WARNING)


def _renames(
    fmt: str, columns: Sequence[str], mapping: Mapping[str, str] | None, *, path: str
) -> dict[str, str]:
    if fmt == "mapped" and mapping:
        return renames_for(columns, mapping, path=path)
    table = {"acled": schema.ACLED_TO_CANONICAL, "ucdp": schema.UCDP_TO_CANONICAL}.get(fmt, {})
    present = set(columns)
    return {k: v for k, v in table.items() if k in present and v not in present}


def _empty_set_aside(frame: pd.DataFrame) -> pd.DataFrame:
    empty = frame.iloc[0:0].copy()
    empty[schema.REJECT_REASON] = pd.Series([], dtype="str")
    return empty


def _concat_rows(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    if b.empty:
        return a
    if a.empty:
        return b.reset_index(drop=True)
    return pd.concat([a, b], ignore_index=True).sort_values(schema.SOURCE_ROW, ignore_index=True)


# --- ACLED ---------------------------------------------------------------------------------


def _supersede_duplicates(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, list[Problem]]:
    """Keep the newest ``timestamp`` per ACLED event id; set the older versions aside.

    Equal (or missing) timestamps keep the first row in the file.
    """
    if schema.EVENT_ID not in frame:
        return frame, _empty_set_aside(frame), []
    reasons, problems = superseded_rows(acled_keys(frame))
    if not reasons:
        return frame, _empty_set_aside(frame), []
    kept, set_aside = apply_superseded(frame, reasons)
    return kept, set_aside, problems


def acled_keys(frame: pd.DataFrame) -> pd.DataFrame:
    """What :func:`superseded_rows` needs of each row: id, source row and raw ``timestamp``."""
    columns = [schema.EVENT_ID, schema.SOURCE_ROW]
    if schema.ACLED_TIMESTAMP in frame:
        columns.append(schema.ACLED_TIMESTAMP)
    return frame[columns]


def superseded_rows(keys: pd.DataFrame) -> tuple[dict[int, str], list[Problem]]:
    """Which rows of an ACLED file an other version of the same event supersedes.

    Parameters
    ----------
    keys
        :func:`acled_keys` of every row of the file, in file order (a partitioned read
        concatenates its partitions' keys).

    Returns
    -------
    (dict, list)
        ``{source row: reason}`` of the rows to set aside, and a warning for each.
    """
    ids = keys[schema.EVENT_ID]
    duplicated = ids.notna() & ids.duplicated(keep=False)
    if not duplicated.any():
        return {}, []
    stamps = _timestamps(keys.get(schema.ACLED_TIMESTAMP), keys.index)
    group = keys.loc[duplicated, [schema.EVENT_ID, schema.SOURCE_ROW]].assign(_ts=stamps)
    ranked = group.sort_values(
        ["_ts", schema.SOURCE_ROW], ascending=[False, True], na_position="last"
    )
    first = ~ranked.duplicated(schema.EVENT_ID, keep="first")
    winner_of = pd.Series(ranked.index[first], index=ranked.loc[first, schema.EVENT_ID])
    raw_stamps = keys.get(schema.ACLED_TIMESTAMP)
    reasons: dict[int, str] = {}
    problems: list[Problem] = []
    for label in ranked.index[~first]:
        # pandas-stubs types an .at read as any scalar; the ids here are text (the
        # duplicated ones, so not NA), the stamps floats (NaN where unread).
        event_id = cast(str, keys.at[label, schema.EVENT_ID])
        winner = winner_of[event_id]
        winner_row = _source_row(keys, winner)
        newest, mine = cast(float, stamps.at[winner]), cast(float, stamps.at[label])
        if pd.notna(newest) and (pd.isna(mine) or mine < newest):
            # The raw text of a stamp that was read (``newest`` is not NaN).
            shown = cast(str, raw_stamps.at[winner]) if raw_stamps is not None else newest
            reason = (
                f"superseded by a newer version (timestamp {shown}, row {winner_row}) "
                f"of event {event_id}"
            )
        else:
            reason = (
                f"duplicate of event {event_id} (row {winner_row}) with the same or no "
                "timestamp; the first row is kept"
            )
        row = _source_row(keys, label)
        reasons[row] = reason
        problems.append(Problem(row, schema.EVENT_ID, event_id, reason, WARNING))
    return reasons, problems


def apply_superseded(
    frame: pd.DataFrame, reasons: Mapping[int, str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split ``frame`` into the rows kept and those ``reasons`` (by source row) set aside."""
    gone = frame[schema.SOURCE_ROW].isin(list(reasons)).to_numpy()
    set_aside = frame[gone].copy()
    set_aside[schema.REJECT_REASON] = set_aside[schema.SOURCE_ROW].map(reasons).astype("str")
    kept = frame[~gone].reset_index(drop=True)
    return kept, set_aside.sort_values(schema.SOURCE_ROW, ignore_index=True)


def _source_row(frame: pd.DataFrame, label: Hashable) -> int:
    """The 1-based file row of the frame row ``label``."""
    # pandas-stubs types an .at read as any scalar; source rows are numpy integers.
    return int(cast(np.integer, frame.at[label, schema.SOURCE_ROW]))


def derive_ucdp_codes(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Problem]]:
    """UCDP codes to canonical text (see ``_derive_ucdp_codes``); row-local, so per partition."""
    return _derive_ucdp_codes(frame)


def _timestamps(values: pd.Series | None, index: pd.Index) -> pd.Series:
    """ACLED ``timestamp`` as seconds: Unix seconds, or an ISO date-time; NaN if neither."""
    if values is None:
        return pd.Series(float("nan"), index=index)
    text = values.str.strip()
    seconds = pd.to_numeric(text, errors="coerce").astype("float64")
    dates = pd.to_datetime(text.where(seconds.isna()), errors="coerce", utc=True, format="ISO8601")
    epoch = pd.Timestamp(0, tz="UTC")
    return seconds.fillna((dates - epoch).dt.total_seconds())


# --- UCDP codes ----------------------------------------------------------------------------


def _derive_ucdp_codes(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Problem]]:
    """Translate UCDP where_prec / date_prec / type_of_violence into canonical columns.

    Runs only where the UCDP column is present and the canonical one is not; the UCDP
    original stays in its own column. Unknown codes leave the canonical cell empty, with a
    warning.
    """
    problems: list[Problem] = []
    for source, target, table, label in _UCDP_CODES:
        if source not in frame or target in frame:
            continue
        derived, unknown = _lookup_codes(frame[source], table)
        frame = frame.assign(**{target: derived})
        codes = ", ".join(str(k) for k in table)
        for i in unknown:
            problems.append(
                Problem(
                    _source_row(frame, i),
                    source,
                    frame.at[i, source],
                    f"{label} {frame.at[i, source]!r} is not a UCDP code ({codes}); "
                    f"{target} left empty",
                    WARNING,
                )
            )
    return frame, problems


def _lookup_codes(values: pd.Series, table: Mapping[int, object]) -> tuple[pd.Series, list]:
    """Codes looked up in ``table`` (as text), and the labels of non-empty unknown codes."""
    numbers = pd.to_numeric(values.str.strip(), errors="coerce")
    found = numbers.map({float(code): str(text) for code, text in table.items()})
    unknown = values.notna() & found.isna()
    return found.astype("str"), list(values.index[unknown])
