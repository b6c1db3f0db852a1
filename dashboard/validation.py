"""Type and check event rows, collecting every problem with its row, column and value.

``validate_events`` never stops at the first problem. A file that cannot be used at all
(no date column; neither coordinates nor a location column) raises ``SchemaError`` naming
the missing columns and the closest columns found. Everything else is per row: a row with
an error is set aside into ``rejected`` with all its reasons; warnings leave it loaded.
The ledger always balances: rows in = rows loaded + rows set aside.

Decisions worth knowing:

- Dates: ISO ``2017-11-09`` (a time part is dropped), ``09 November 2017`` / ``9 Nov 2017``,
  ``November 9, 2017`` and numeric ``09-11-2017`` / ``09/11/2017``. In ACLED files a
  ``dd-mm-yyyy`` date is day first by definition. Elsewhere a numeric date with both parts
  <= 12 is ambiguous: if other rows of the same column settle the order (a part above 12
  appears in only one position) that order is used silently; otherwise ``dayfirst`` decides
  and each such row gets a warning saying how it was read. Years outside 1800-2100 are
  errors (typos, not history).
- Year-only sources (a ``year`` column and no date column): date_start = 1 January,
  date_end = 31 December, event_date = date_start, time_precision 3 where empty.
- Coordinates must both be given, or both be empty with a ``location`` to geocode later.
  Ranges, "looks swapped" (|lat| > 90 with |lon| <= 90, or outside the row's country while
  the swapped point is inside it, for the countries in ``_COUNTRY_BOXES``) and (0, 0)
  "null island" are errors. In ``;`` or tab files a decimal comma (``36,34``) is read as a
  decimal point and counted.
- Fatalities: empty or an "unknown"-like word is NaN (unknown, never 0; the word gets a
  warning); negative or other text is an error.
- Precision codes outside 1-3 are warnings and become NA.
- Duplicate event ids: the first row among the otherwise valid rows is kept; later ones are
  errors naming it. Missing ids are generated from the file stem and source row
  (``events-17``).
"""

from __future__ import annotations

import calendar
import datetime as dt
import difflib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from dashboard import schema
from dashboard.errors import SchemaError
from dashboard.readers import ReadResult, read_events
from dashboard.readers.mapping import alias_of, column_key
from dashboard.readers.textio import DEFAULT_MAX_BYTES
from dashboard.report import ERROR, WARNING, Problem, Report

DATE_DTYPE = "datetime64[s]"
_YEAR_MIN, _YEAR_MAX = 1800, 2100

_MONTHS_EN: tuple[str, ...] = (
    "january", "february", "march", "april", "may", "june", "july", "august",
    "september", "october", "november", "december",
)  # fmt: skip
# English names and 3-letter abbreviations, spelled here so no locale can change them.
_MONTHS: dict[str, int] = {
    **{name: i for i, name in enumerate(_MONTHS_EN, start=1)},
    **{name[:3]: i for i, name in enumerate(_MONTHS_EN, start=1)},
    "sept": 9,
}
_MONTH_NAMES: dict[int, str] = {i: name.capitalize() for i, name in enumerate(_MONTHS_EN, start=1)}

_YEAR_RE = r"^\d{4}(?:\.0+)?$"
_DECIMAL_COMMA_RE = r"^[+-]?\d+,\d+$"

# Rough extents (south, north, west, east), widened by 0.5 degrees, of the countries the
# project maps: Syria and Iraq from the OCHA COD-AB admin-1 boundaries, the neighbours from
# Natural Earth. Used only to tell a swapped latitude/longitude from a genuine point.
_COUNTRY_BOXES: dict[str, tuple[float, float, float, float]] = {
    "syria": (31.8, 37.8, 35.1, 42.9),
    "iraq": (28.6, 37.9, 38.3, 49.1),
    "lebanon": (32.5, 35.2, 34.6, 37.1),
    "jordan": (28.7, 33.9, 34.5, 39.8),
    "turkey": (35.3, 42.6, 25.2, 45.3),
}
_COUNTRY_NAMES = {
    "syrian arab republic": "syria",
    "türkiye": "turkey",
    "turkiye": "turkey",
}
_MAX_SWAP_SHARE = 0.5
_MAX_COLUMNS_SHOWN = 40  # a non-CSV file's first line can be one huge "column"
_MAX_ROWS_LISTED = 10


@dataclass
class ValidationResult:
    """Typed events, the rows set aside, and the report that accounts for every row.

    Attributes
    ----------
    events
        One row per loaded event: every ``schema.EVENT_COLUMNS`` column (typed), extra
        columns as text, ``schema.SOURCE_ROW`` (int64) and ``schema.SOURCE_FORMAT``.
    rejected
        The original text of every row set aside by the reader or the validator, with
        ``schema.SOURCE_ROW`` and ``schema.REJECT_REASON`` (reasons joined by ``"; "``).
    report
        ``rows_in == rows_loaded + rows_rejected``, and every problem found.
    format
        The input format the reader used (``schema.EVENT_FORMATS``).
    """

    events: pd.DataFrame
    rejected: pd.DataFrame
    report: Report
    format: str = ""


def load_events(
    path: str | Path,
    *,
    format: str | None = None,
    mapping: Mapping[str, str] | None = None,
    dayfirst: bool = True,
    max_bytes: int = DEFAULT_MAX_BYTES,
    encoding: str | None = None,
    date_format: str | None = None,
) -> ValidationResult:
    """Read and validate an event file in one call.

    Parameters
    ----------
    path, format, mapping, max_bytes, encoding
        As for ``dashboard.readers.read_events``.
    dayfirst, date_format
        As for ``validate_events``.

    Raises
    ------
    InputFileError
        The file cannot be read as CSV text (missing, too big, compressed, unknown
        encoding, broken quoting).
    SchemaError
        Unusable columns or a bad mapping.
    """
    read = read_events(path, format=format, mapping=mapping, max_bytes=max_bytes, encoding=encoding)
    return validate_events(read, dayfirst=dayfirst, date_format=date_format)


def validate_events(
    read: ReadResult, *, dayfirst: bool = True, date_format: str | None = None
) -> ValidationResult:
    """Type every canonical column and check every row; never stop at the first problem.

    Parameters
    ----------
    read
        What ``read_events`` returned.
    dayfirst
        How to read a numeric date such as ``09/11/2017`` when nothing in the file settles
        the order (those rows get a warning). ACLED ``dd-mm-yyyy`` dates are always day
        first.
    date_format
        A strftime format (``%d/%m/%Y %H:%M:%S``) every date must match, instead of the
        forms inferred from the values (the command line's ``--date-format``).

    Returns
    -------
    ValidationResult

    Raises
    ------
    SchemaError
        No date column at all, or neither latitude+longitude nor location; the message
        names what is missing and the closest columns found (``lon`` for ``longitude``).
        A ``date_format`` without a day, month and year.
    """
    # The same steps a partitioned build runs per partition, with the file-wide decisions
    # (date order, duplicate ids) made here from this one "partition".
    columns = list(read.frame.columns)
    check_columns(columns, path=read.path)
    if date_format is not None:
        check_date_format(date_format)
    date_order = decide_date_order(
        [date_proofs(read.frame, fmt=read.format)], date_format=date_format
    )
    part = validate_part(read, dayfirst=dayfirst, date_order=date_order)
    done = finish_part(part, duplicate_ids([id_keys(part)]))
    rejected, report = combine_parts(
        [done],
        path=read.path,
        columns=columns,
        read_problems=read.problems,
        rows_in=read.rows_in,
        dayfirst=dayfirst,
        date_order=date_order,
    )
    return ValidationResult(
        events=done.events, rejected=rejected, report=report, format=read.format
    )


# --- the steps, also run per partition by dashboard.distributed ------------------------------
#
# A partitioned build reads the file in byte ranges on several workers. Three rules see the
# whole file: the order of ambiguous numeric dates (``date_proofs`` per partition, then
# ``decide_date_order``), duplicate event ids among otherwise valid rows (``id_keys`` per
# partition, then ``duplicate_ids``) and the file-level warnings (``FileFacts`` per
# partition, summed in ``combine_parts``). Everything else depends on the row alone.


@dataclass
class FileFacts:
    """Counts behind the file-level warnings of one partition (or of the file, summed)."""

    na: dict[str, int] = field(default_factory=dict)
    """'NA' cells read as empty, per typed column."""
    commas: tuple[int, int] = (0, 0)
    """Decimal commas converted in latitude, longitude."""
    swapped: tuple[int, int] = (0, 0)
    """Rows that look swapped for their country, rows that could be checked."""
    first_generated: str | None = None
    """The id made for the first row (used when there is no event_id column)."""
    missing_ids: int = 0
    missing_rows: list[int] = field(default_factory=list)
    """The first rows (at most 10) without an event_id."""
    first_missing_generated: str | None = None
    dates: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    """Per date column: rows with a value, rows read as a date, rows that had a time of day."""
    rows: int = 0
    """Rows validated."""
    date_failed: int = 0
    """Rows the date checks set aside."""
    first_date_failure: Problem | None = None


def combine_facts(parts: list[FileFacts]) -> FileFacts:
    """The facts of consecutive partitions as those of the file they make up."""
    na: dict[str, int] = {}
    for column in _TYPED_COLUMNS:
        total = sum(p.na.get(column, 0) for p in parts)
        if total:
            na[column] = total
    return FileFacts(
        na=na,
        commas=(sum(p.commas[0] for p in parts), sum(p.commas[1] for p in parts)),
        swapped=(sum(p.swapped[0] for p in parts), sum(p.swapped[1] for p in parts)),
        first_generated=next((p.first_generated for p in parts if p.first_generated), None),
        missing_ids=sum(p.missing_ids for p in parts),
        missing_rows=[r for p in parts for r in p.missing_rows][:_MAX_ROWS_LISTED],
        first_missing_generated=next(
            (p.first_missing_generated for p in parts if p.first_missing_generated), None
        ),
        dates={
            column: tuple(  # type: ignore[misc]
                sum(p.dates[column][i] for p in parts if column in p.dates) for i in range(3)
            )
            for column in schema.DATE_COLUMNS
            if any(column in p.dates for p in parts)
        },
        rows=sum(p.rows for p in parts),
        date_failed=sum(p.date_failed for p in parts),
        first_date_failure=next(
            (p.first_date_failure for p in parts if p.first_date_failure), None
        ),
    )


@dataclass
class PartValidation:
    """One partition typed and checked, all but the duplicate-id rule (see ``finish_part``)."""

    read: ReadResult
    frame: pd.DataFrame
    typed: dict[str, pd.Series]
    found: _Findings


def validate_part(
    read: ReadResult, *, dayfirst: bool, date_order: dict[str, DateRule]
) -> PartValidation:
    """Type and check the rows of ``read`` with the file's date order already decided."""
    found = _Findings(read.frame[schema.SOURCE_ROW])
    frame = _na_in_typed_columns(read.frame, found)
    typed: dict[str, pd.Series] = {}
    typed.update(
        _dates(frame, fmt=read.format, dayfirst=dayfirst, date_order=date_order, found=found)
    )
    # A spreadsheet saving a ";" or tab file writes 1.0 as "1,0": codes read the same.
    comma = read.delimiter != ","
    typed.update(_coordinates(frame, decimal_comma=comma, found=found))
    typed[schema.FATALITIES] = _fatalities(frame, found)
    for column in (schema.FATALITIES_LOW, schema.FATALITIES_HIGH):
        if column in frame:
            typed[column] = _quiet_float(frame[column], found)
    for column in schema.INT_CODE_COLUMNS:
        typed[column] = _precision(frame, column, found, decimal_comma=comma)
    if _is_year_only(frame):
        typed[schema.TIME_PRECISION] = typed[schema.TIME_PRECISION].fillna(3)
    for column in (schema.UCDP_WHERE_PREC, schema.UCDP_DATE_PREC):
        if column in frame:
            typed[column] = _to_int8(_to_float(frame[column], decimal_comma=comma)[0])
    typed[schema.EVENT_ID] = _event_ids(frame, stem=Path(read.path).stem, found=found)
    return PartValidation(read=read, frame=frame, typed=typed, found=found)


def id_keys(part: PartValidation) -> pd.DataFrame:
    """``event_id`` and source row of the partition's rows without errors, in file order."""
    ids = part.typed[schema.EVENT_ID]
    ok = ~part.found.rejected_mask(ids.index)
    return pd.DataFrame(
        {
            schema.EVENT_ID: ids[ok].to_numpy(),
            schema.SOURCE_ROW: part.read.frame[schema.SOURCE_ROW][ok].to_numpy(dtype="int64"),
        }
    )


def duplicate_ids(keys: list[pd.DataFrame]) -> dict[int, int]:
    """``{row: first row}`` of later repeats of an id among the file's otherwise valid rows.

    ``keys`` are the :func:`id_keys` of consecutive partitions, in file order.
    """
    valid = keys[0] if len(keys) == 1 else pd.concat(keys, ignore_index=True)
    repeats = valid[schema.EVENT_ID].duplicated(keep="first")
    if not repeats.any():
        return {}
    firsts = valid[~repeats]
    first_row = pd.Series(firsts[schema.SOURCE_ROW].to_numpy(), index=firsts[schema.EVENT_ID])
    later = valid[repeats]
    return dict(
        zip(
            later[schema.SOURCE_ROW].tolist(),
            first_row[later[schema.EVENT_ID]].tolist(),
            strict=True,
        )
    )


@dataclass
class PartOutcome:
    """A validated partition: its events, what it set aside, its row problems and facts."""

    events: pd.DataFrame
    set_aside: pd.DataFrame
    """Rows the reader set aside (superseded ACLED versions), with their reasons."""
    rejected: pd.DataFrame
    """Rows the validator set aside: original text and ``schema.REJECT_REASON``."""
    problems: list[Problem]
    """The validator's problems with rows of this partition (file-level ones are facts)."""
    facts: FileFacts
    rows_loaded: int

    def without_events(self) -> PartOutcome:
        """The same outcome with the events left out (what a worker sends the client)."""
        return replace(self, events=self.events.iloc[0:0])


def finish_part(part: PartValidation, duplicates: dict[int, int]) -> PartOutcome:
    """Apply the duplicate-id decision and split the partition into events and rejects."""
    _duplicate_ids(part.typed[schema.EVENT_ID], duplicates, part.found)
    read, found = part.read, part.found
    typed = _assemble(part.frame, part.typed, read.format)
    rejected_mask = found.rejected_mask(typed.index)
    events = typed[~rejected_mask].reset_index(drop=True)
    rejected = read.frame[rejected_mask].copy()
    rejected[schema.REJECT_REASON] = pd.Series(
        {label: "; ".join(reasons) for label, reasons in found.reasons.items()}, dtype="str"
    )
    return PartOutcome(
        events=events,
        set_aside=read.set_aside,
        rejected=rejected,
        problems=found.problems,
        facts=found.facts,
        rows_loaded=len(events),
    )


def combine_parts(
    parts: list[PartOutcome],
    *,
    path: str,
    columns: list[str],
    read_problems: list[Problem],
    rows_in: int,
    dayfirst: bool,
    date_order: dict[str, DateRule],
) -> tuple[pd.DataFrame, Report]:
    """The rows set aside and the report of a file validated in consecutive partitions.

    Parameters
    ----------
    parts
        The partitions' outcomes in file order (``events`` may be left out: empty frames).
    path, columns
        The file and the columns of its reader frame.
    read_problems
        What the reader found (header problems first, then row problems).
    rows_in
        Rows in the file.
    dayfirst, date_order
        As given to :func:`validate_part`.
    """
    rejected = _concat([p.set_aside for p in parts] + [p.rejected for p in parts])
    facts = combine_facts([p.facts for p in parts])
    # File-level warnings in the order the checks run, then every row problem: the sort
    # below keeps that order among file-level problems and among one row's problems.
    row_problems = [q for p in parts for q in p.problems]
    all_failed = _all_dates_failed(facts)
    if all_failed is not None:
        # One message in front instead of a screenful of the same one; each row's reason
        # stays in ``rejected``.
        row_problems = [
            q for q in row_problems if not (q.severity == ERROR and q.column in schema.DATE_COLUMNS)
        ]
    problems = (
        ([all_failed] if all_failed is not None else [])
        + list(read_problems)
        + _alias_warnings(columns)
        + _file_warnings(facts, columns=columns, dayfirst=dayfirst, date_order=date_order)
        + row_problems
    )
    problems = sorted(problems, key=lambda p: (p.row is not None, p.row or 0))
    report = Report(
        source=path,
        rows_in=rows_in,
        rows_loaded=sum(p.rows_loaded for p in parts),
        rows_rejected=len(rejected),
        problems=problems,
    )
    return rejected, report


# --- collecting problems -------------------------------------------------------------------


@dataclass
class _Findings:
    """Problems found so far, and the reasons each row (by frame label) is set aside."""

    source_rows: pd.Series
    problems: list[Problem] = field(default_factory=list)
    reasons: dict[int, list[str]] = field(default_factory=dict)
    facts: FileFacts = field(default_factory=lambda: FileFacts())

    def error(self, label: int, column: str | None, value: object, message: str) -> None:
        self.problems.append(Problem(self._row(label), column, value, message, ERROR))
        self.reasons.setdefault(label, []).append(message)

    def warn(self, label: int, column: str | None, value: object, message: str) -> None:
        self.problems.append(Problem(self._row(label), column, value, message, WARNING))

    def rejected_mask(self, index: pd.Index) -> pd.Series:
        return pd.Series(index.isin(list(self.reasons)), index=index)

    def _row(self, label: int) -> int:
        return int(self.source_rows.at[label])


def _labels(mask: pd.Series) -> list[int]:
    return list(mask.index[mask.to_numpy(dtype=bool, na_value=False)])


# --- columns -------------------------------------------------------------------------------


def check_columns(columns: list[str], *, path: str) -> None:
    """Raise SchemaError when a file with these reader columns cannot be used.

    The message names what is missing and the closest columns found.
    """
    present = set(columns)
    missing: list[str] = []
    if not present & {schema.EVENT_DATE, schema.DATE_START, schema.YEAR}:
        missing.append(schema.EVENT_DATE)
    has_coordinates = {schema.LATITUDE, schema.LONGITUDE} <= present
    if not has_coordinates and schema.LOCATION not in present:
        missing += [c for c in (schema.LATITUDE, schema.LONGITUDE) if c not in present]
    if missing:
        raise SchemaError(_missing_message(missing, columns, path=path))


def _alias_warnings(columns: list[str]) -> list[Problem]:
    """A warning for each canonical column absent under its name but present as an alias."""
    present = set(columns)
    out: list[Problem] = []
    for column in schema.EVENT_COLUMNS:
        if column in present:
            continue
        aliases = _alias_matches(column, columns)
        if aliases:
            out.append(
                Problem(
                    None,
                    column,
                    aliases[0],
                    f"no column {column}, but the file has {', '.join(aliases)}: if it is the "
                    f"same thing, map it with --map {aliases[0]}={column}",
                    WARNING,
                )
            )
    return out


def _file_warnings(
    facts: FileFacts,
    *,
    columns: list[str],
    dayfirst: bool,
    date_order: dict[str, DateRule],
) -> list[Problem]:
    """The file-level warnings of the checks after the column check, in the order they run."""
    out: list[Problem] = []
    for column, count in facts.na.items():
        out.append(
            Problem(None, column, count, f"{count} 'NA' values in {column} read as empty", WARNING)
        )
    if (
        schema.EVENT_DATE not in columns
        and schema.DATE_START not in columns
        and schema.YEAR in columns
    ):
        out.append(
            Problem(
                None,
                schema.YEAR,
                None,
                "no date column: each row's year became date_start 1 January and date_end "
                "31 December (event_date = date_start, time_precision 3)",
                WARNING,
            )
        )
    out += _date_notes(facts, dayfirst=dayfirst, date_order=date_order)
    lat_commas, lon_commas = facts.commas
    if lat_commas + lon_commas:
        out.append(
            Problem(
                None,
                None,
                lat_commas + lon_commas,
                f"{lat_commas + lon_commas} coordinates written with a decimal comma (e.g. 36,34) "
                f"read as decimals (latitude {lat_commas}, longitude {lon_commas})",
                WARNING,
            )
        )
    count, total = facts.swapped
    if count >= 3 and count > _MAX_SWAP_SHARE * total:
        out.append(
            Problem(
                None,
                schema.LATITUDE,
                count,
                f"{count} of {total} rows look swapped for their country: are the "
                "latitude and longitude columns the wrong way round? (map them with --map)",
                WARNING,
            )
        )
    if schema.EVENT_ID not in columns:
        if facts.first_generated is not None:
            out.append(
                Problem(
                    None,
                    schema.EVENT_ID,
                    None,
                    "no event_id column: ids made from the file name and row, "
                    f"e.g. {facts.first_generated!r}",
                    WARNING,
                )
            )
    elif facts.missing_ids:
        missing = facts.missing_ids
        rows = ", ".join(str(r) for r in facts.missing_rows)
        out.append(
            Problem(
                None,
                schema.EVENT_ID,
                missing,
                f"{missing} rows have no event_id (rows {rows}"
                f"{', ...' if missing > _MAX_ROWS_LISTED else ''}); ids made from the file name "
                f"and row, e.g. {facts.first_missing_generated!r}",
                WARNING,
            )
        )
    return out


def _missing_message(missing: list[str], columns: list[str], *, path: str) -> str:
    parts: list[str] = []
    example = ""
    for column in missing:
        candidates = _suggest(column, columns)
        if candidates:
            parts.append(f"missing column {column} (found: {', '.join(candidates)})")
            example = example or f"--map {candidates[0]}={column}"
        else:
            parts.append(f"missing column {column}")
    needs: list[str] = []
    if schema.EVENT_DATE in missing:
        needs.append("a date column (event_date or date_start, or year)")
    if {schema.LATITUDE, schema.LONGITUDE} & set(missing):
        needs.append("latitude and longitude, or location")
    hint = f"; rename the columns or map them, e.g. {example}" if example else ""
    names = [c if len(c) <= 40 else c[:37] + "..." for c in columns if c != schema.SOURCE_ROW]
    shown = ", ".join(names[:_MAX_COLUMNS_SHOWN])
    if len(names) > _MAX_COLUMNS_SHOWN:
        shown += f", ... ({len(names)} columns)"
    return (
        f"{path}: {'; '.join(parts)}. Events need {' and '.join(needs)}{hint}. "
        f"Columns in the file: {shown}"
    )


def _alias_matches(column: str, columns: list[str]) -> list[str]:
    return [c for c in columns if alias_of(c) == column or column_key(c) == column]


def _suggest(column: str, columns: list[str]) -> list[str]:
    """File columns that are probably ``column``: known aliases first, then close spellings."""
    candidates = _alias_matches(column, columns)
    # A column already under a canonical name is not the missing one (latitude ~ longitude).
    taken = set(schema.MAPPING_TARGETS) | {schema.SOURCE_ROW}
    others = [c for c in columns if c not in candidates and c not in taken]
    by_normal = {column_key(c): c for c in others}
    close = difflib.get_close_matches(column, list(by_normal), n=2, cutoff=0.7)
    return candidates + [by_normal[c] for c in close]


# Columns where the text "NA" cannot be a value (R writes it for missing numbers and dates).
# Fatalities is not here: its "NA" is read as unknown with a warning per row.
_TYPED_COLUMNS: tuple[str, ...] = (
    *schema.DATE_COLUMNS,
    schema.LATITUDE,
    schema.LONGITUDE,
    *schema.INT_CODE_COLUMNS,
    schema.YEAR,
    schema.FATALITIES_LOW,
    schema.FATALITIES_HIGH,
    schema.UCDP_WHERE_PREC,
    schema.UCDP_DATE_PREC,
)


def _na_in_typed_columns(frame: pd.DataFrame, found: _Findings) -> pd.DataFrame:
    """Read "NA" as empty in date, number and code columns (it stays text elsewhere)."""
    replaced: dict[str, pd.Series] = {}
    for column in _TYPED_COLUMNS:
        if column not in frame:
            continue
        is_na = frame[column].str.strip().eq("NA").fillna(False).astype(bool)
        if is_na.any():
            replaced[column] = frame[column].where(~is_na)
            found.facts.na[column] = int(is_na.sum())
    return frame.assign(**replaced) if replaced else frame


# --- dates ---------------------------------------------------------------------------------
#
# Every distinct (stripped) value of a date column gets a shape once: which form it is in
# (``_FORMS``), its numbers, its time of day. ``date_proofs`` sums the shapes of a partition
# into small ``DateFacts``; ``decide_date_order`` turns the file's facts into one
# ``DateRule`` per column (the day/month order, spreadsheet serials or not, the user's
# ``--date-format``); ``_parse_date_column`` applies the rule to the rows.

_TWO_DIGIT_PIVOT = 69  # as POSIX strptime's %y: 00-68 are 2000-2068, 69-99 are 1969-1999
# The Excel 1900 date system: serial 1 is 1900-01-01 and serial 60 is a 29 February 1900
# that never was (kept for Lotus 1-2-3 compatibility), so from serial 61 (1 March 1900) on,
# a serial counts days from 1899-12-30: 25569 is 1970-01-01.
_SERIAL_LEAP_BUG = 60
_SERIAL_MAX = 73415  # 2100-12-31
_SERIAL_AFTER_BUG = np.datetime64("1899-12-30", "D")
_SERIAL_BEFORE_BUG = np.datetime64("1899-12-31", "D")

_TIME = (
    r"(?:(?:T|\s+)(?P<hh>\d{1,2}):(?P<mi>\d{2})(?::(?P<ss>\d{2})(?:[.,]\d+)?)?"
    r"\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?\s*(?:Z|UTC|[+-]\d{2}:?\d{2})?)?"
)
_YEAR_DIGITS = r"(?P<y>\d{4}|\d{2})"
_MONTH_WORD = r"(?P<mon>[^\W\d_]+(?: [^\W\d_]+)?)"  # two words: Levantine "كانون الثاني"
_FORMS: tuple[tuple[str, str], ...] = (
    ("ymd", r"^(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})" + _TIME + "$"),
    ("numeric", r"^(?P<a>\d{1,2})(?P<sep>[-/.])(?P<b>\d{1,2})(?P=sep)" + _YEAR_DIGITS + _TIME + "$"),
    (
        "day_month",
        r"^(?P<d>\d{1,2})(?:st|nd|rd|th)?[\s\-/.]*" + _MONTH_WORD + r"\.?[\s\-/.,،]+"
        + _YEAR_DIGITS + _TIME + "$",
    ),
    (
        "month_day",
        r"^" + _MONTH_WORD + r"\.?[\s\-/.]+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?[\s\-/.,]+"
        r"(?P<y>\d{4})" + _TIME + "$",
    ),
)  # fmt: skip
_SERIAL_RE = r"^\d{1,5}(?:\.\d+)?$"
_SHORT_YEAR = re.compile(r"(?<!y)yy(?!y)")
# Forms that need no note: what the readers always took, unambiguous, without a time.
_PLAIN_FORMS = frozenset({"yyyy-mm-dd", "dd Month yyyy", "Month dd, yyyy", "dd-mm-yyyy"})

# Arabic month names as Arabic-language sources write them, from Unicode CLDR
# (common/main/ar.xml, Gregorian months, format wide: the Egyptian/transliterated names;
# common/main/ar_SY.xml, ar_LB.xml, ar_IQ.xml, ar_JO.xml, ar_PS.xml: the Levantine names).
# Keys are folded by ``_month_key`` (alef forms unified, so إبريل and أبريل both match).
_MONTHS_AR_CLDR: tuple[str, ...] = (
    "يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو",
    "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر",
)  # fmt: skip
_MONTHS_AR_LEVANT: tuple[str, ...] = (
    "كانون الثاني", "شباط", "آذار", "نيسان", "أيار", "حزيران",
    "تموز", "آب", "أيلول", "تشرين الأول", "تشرين الثاني", "كانون الأول",
)  # fmt: skip
_ALEF_FORMS = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ـ": None})
_ARABIC_MARKS = re.compile("[\u064b-\u065f\u0670]")


def _month_key(name: str) -> str:
    """A month name compared loosely: case, a final dot, harakat, tatweel, alef forms."""
    folded = _ARABIC_MARKS.sub("", unicodedata.normalize("NFKC", name)).translate(_ALEF_FORMS)
    return " ".join(folded.lower().rstrip(".").split())


_MONTHS_ALL: dict[str, int] = {
    **{_month_key(name): month for name, month in _MONTHS.items()},
    **{_month_key(name): i for i, name in enumerate(_MONTHS_AR_CLDR, start=1)},
    **{_month_key(name): i for i, name in enumerate(_MONTHS_AR_LEVANT, start=1)},
}


@dataclass(frozen=True)
class DateFacts:
    """What one partition's values of one date column look like (small: sent to the client).

    Consecutive partitions combine in :func:`decide_date_order`.
    """

    rows: int = 0
    """Rows with a value."""
    forms: dict[str, int] = field(default_factory=dict)
    """Rows per form (``"A/B/yyyy HH:MM:SS"``: A and B are day and month, order open)."""
    day_proof: str | None = None
    """A numeric value that can only be day first (``14/08/2020``), if any."""
    month_proof: str | None = None
    """A numeric value that can only be month first (``8/29/2014``), if any."""
    numbers: int = 0
    """Rows holding a number in the spreadsheet-serial range (1 to 73415)."""
    years: int = 0
    """Of those, rows holding a whole number 1800-2100 (years, not 1904-1905 serials)."""


@dataclass(frozen=True)
class DateRule:
    """How one date column of the whole file is read (:func:`decide_date_order`)."""

    order: str | None = None
    """``"day first"`` or ``"month first"`` when the file's numeric dates settle it."""
    proof: str | None = None
    """A value that settles ``order``."""
    serial: bool = False
    """Every value is a spreadsheet serial day number."""
    date_format: str | None = None
    """The user's ``--date-format``: only values matching it are dates."""
    forms: tuple[tuple[str, int], ...] = ()
    """The forms seen, most rows first."""
    proof_column: str | None = None
    """Another date column of the file whose values settle ``order`` (None: this one's)."""
    conflict: bool = False
    """Values of this column prove both orders (the file mixes them)."""


def date_proofs(frame: pd.DataFrame, *, fmt: str) -> dict[str, DateFacts]:
    """Per date column, the :class:`DateFacts` of this partition's values.

    ``frame`` is the reader's (text) frame; ``fmt`` its format (in ACLED files a
    ``dd-mm-yyyy`` date is day first by definition, so it proves nothing).
    """
    if _is_year_only(frame):
        return {}
    out: dict[str, DateFacts] = {}
    for column in schema.DATE_COLUMNS:
        if column not in frame:
            continue
        codes, uniques = pd.factorize(frame[column].str.strip())
        distinct = pd.Series(uniques, dtype="str")
        counts = pd.Series(np.bincount(codes[codes >= 0], minlength=len(distinct)))
        shape = _shapes(distinct)
        a, b, free = _order_free(shape, day_first_fixed=fmt == "acled")
        day_proof = distinct[free & (a > 12) & (b <= 12)]
        month_proof = distinct[free & (b > 12) & (a <= 12)]
        labels = shape["form"]
        if fmt == "acled":  # ACLED's dd-mm-yyyy is day first by definition: nothing to settle
            labels = labels.str.replace(r"^A-B-", "dd-mm-", regex=True)
        forms = counts[labels.notna()].groupby(labels[labels.notna()]).sum()
        numbers = shape["number"].between(1, _SERIAL_MAX)
        years = (
            numbers
            & shape["number"].between(_YEAR_MIN, _YEAR_MAX)
            & (shape["number"] == shape["number"].round())
        )
        out[column] = DateFacts(
            rows=int(counts.sum()),
            forms={str(k): int(v) for k, v in forms.items()},
            day_proof=None if day_proof.empty else str(day_proof.iloc[0]),
            month_proof=None if month_proof.empty else str(month_proof.iloc[0]),
            numbers=int(counts[numbers].sum()),
            years=int(counts[years].sum()),
        )
    return out


def decide_date_order(
    parts: list[dict[str, DateFacts]], *, date_format: str | None = None
) -> dict[str, DateRule]:
    """Per date column, how the whole file's values are read, from every partition's facts.

    A numeric date with a part above 12 proves the order; one kind of proof in the whole
    column settles it, both kinds or none leave each ambiguous value to ``dayfirst`` (with a
    warning). A column whose every value is a number in the serial range, and not all of
    them years, is read as spreadsheet serial days. ``date_format`` overrides all of it.
    """
    out: dict[str, DateRule] = {}
    for column in schema.DATE_COLUMNS:
        seen = [p[column] for p in parts if column in p]
        if not seen:
            continue
        day = next((f.day_proof for f in seen if f.day_proof), None)
        month = next((f.month_proof for f in seen if f.month_proof), None)
        order, proof = None, None
        if day and not month:
            order, proof = "day first", day
        elif month and not day:
            order, proof = "month first", month
        rows, numbers = sum(f.rows for f in seen), sum(f.numbers for f in seen)
        forms: dict[str, int] = {}
        for f in seen:
            for form, count in f.forms.items():
                forms[form] = forms.get(form, 0) + count
        out[column] = DateRule(
            order=order,
            proof=proof,
            serial=rows > 0 and numbers == rows and sum(f.years for f in seen) < rows,
            date_format=date_format,
            forms=tuple(sorted(forms.items(), key=lambda kv: (-kv[1], kv[0]))),
            conflict=bool(day and month),
        )
    return _shared_order(out)


def _shared_order(rules: dict[str, DateRule]) -> dict[str, DateRule]:
    """A column that settles nothing takes the order another date column of the file proves.

    ``date_start`` and ``date_end`` of one export are written alike: a UCDP re-save whose
    start dates include ``8/29/2014`` is month first in its end dates too, even if no end
    date has a part above 12. Only when the other columns agree, and never over a column
    whose own values prove both orders.
    """
    settled = {c: r for c, r in rules.items() if r.order is not None and not r.proof_column}
    orders = {r.order for r in settled.values()}
    if len(orders) != 1:
        return rules
    source, rule = next(iter(settled.items()))
    out = dict(rules)
    for column, own in rules.items():
        if own.order is None and not own.conflict and not own.serial:
            out[column] = replace(own, order=rule.order, proof=rule.proof, proof_column=source)
    return out


def check_date_format(date_format: str) -> None:
    """Raise SchemaError unless ``date_format`` is a strftime format with a day, month and year.

    Tried on one date and time (9 November 2017 13:05:07): written with the format and read
    back, it must give the same day.
    """
    probe = dt.datetime(2017, 11, 9, 13, 5, 7)
    if "%z" in date_format or "%Z" in date_format:  # a time zone is written only if known
        probe = probe.replace(tzinfo=dt.UTC)
    try:
        back = dt.datetime.strptime(probe.strftime(date_format), date_format)
    except ValueError as exc:
        raise SchemaError(
            f"--date-format {date_format!r} is not a usable strftime format ({exc}); "
            "e.g. --date-format '%d/%m/%Y %H:%M:%S'"
        ) from exc
    if back.date() != probe.date():
        raise SchemaError(
            f"--date-format {date_format!r} does not name the day, the month and the year "
            "(e.g. %d, %m or %b, and %Y or %y): e.g. --date-format '%d/%m/%Y'"
        )


def _is_year_only(frame: pd.DataFrame) -> bool:
    return (
        schema.EVENT_DATE not in frame and schema.DATE_START not in frame and schema.YEAR in frame
    )


def _dates(
    frame: pd.DataFrame,
    *,
    fmt: str,
    dayfirst: bool,
    date_order: dict[str, DateRule],
    found: _Findings,
) -> dict[str, pd.Series]:
    """event_date, date_start and date_end, each filled from the others where empty."""
    if _is_year_only(frame):
        return _dates_from_year(frame, found)
    nat = pd.Series(pd.NaT, index=frame.index, dtype=DATE_DTYPE)
    first_failure = len(found.problems)
    parsed = {
        column: _parse_date_column(
            frame[column],
            column,
            fmt=fmt,
            dayfirst=dayfirst,
            rule=date_order.get(column, DateRule()),
            found=found,
        )
        for column in schema.DATE_COLUMNS
        if column in frame
    }
    event = parsed.get(schema.EVENT_DATE, nat)
    start = parsed.get(schema.DATE_START, nat).fillna(event)
    event = event.fillna(start)
    end = parsed.get(schema.DATE_END, nat).fillna(start)
    date_columns = [c for c in (schema.EVENT_DATE, schema.DATE_START) if c in frame]
    given = frame[date_columns].notna().any(axis=1)
    for label in _labels(~given):
        found.error(label, date_columns[0], None, f"no date: {' and '.join(date_columns)} empty")
    for label in _labels(end < start):
        found.error(
            label,
            schema.DATE_END,
            frame[schema.DATE_END].at[label] if schema.DATE_END in frame else None,
            f"date_end {end.at[label]:%Y-%m-%d} is before date_start {start.at[label]:%Y-%m-%d}",
        )
    _count_date_failures(found, first_failure, rows=len(frame))
    return {schema.EVENT_DATE: event, schema.DATE_START: start, schema.DATE_END: end}


def _count_date_failures(found: _Findings, since: int, *, rows: int) -> None:
    """Record how many rows the date checks set aside (for the all-rows-failed message)."""
    failed = [p for p in found.problems[since:] if p.severity == ERROR]
    found.facts.rows += rows
    found.facts.date_failed += len({p.row for p in failed})
    if failed and found.facts.first_date_failure is None:
        found.facts.first_date_failure = failed[0]


def _dates_from_year(frame: pd.DataFrame, found: _Findings) -> dict[str, pd.Series]:
    """A year-only row covers the whole year: 1 January to 31 December."""
    text = frame[schema.YEAR].str.strip()
    year = pd.to_numeric(text.where(text.str.fullmatch(_YEAR_RE)), errors="coerce")
    for label in _labels(text.isna()):
        found.error(label, schema.YEAR, None, "no date: year empty")
    for label in _labels(text.notna() & year.isna()):
        found.error(label, schema.YEAR, text.at[label], f"year {text.at[label]!r} is not a year")
    out_of_range = (year < _YEAR_MIN) | (year > _YEAR_MAX)
    for label in _labels(out_of_range):
        found.error(
            label,
            schema.YEAR,
            text.at[label],
            f"year {text.at[label]} is outside {_YEAR_MIN}-{_YEAR_MAX}",
        )
    year = year.where(~out_of_range)
    start = _from_parts(year, pd.Series(1, index=year.index), pd.Series(1, index=year.index))
    end = _from_parts(year, pd.Series(12, index=year.index), pd.Series(31, index=year.index))
    return {schema.EVENT_DATE: start, schema.DATE_START: start, schema.DATE_END: end}


def _parse_date_column(
    values: pd.Series,
    column: str,
    *,
    fmt: str,
    dayfirst: bool,
    rule: DateRule,
    found: _Findings,
) -> pd.Series:
    """Parse one date column by the file's ``rule``; record unreadable, impossible and
    ambiguous dates, and count what was read (``found.facts.dates``)."""
    text = values.str.strip()
    # Dates repeat (a few thousand distinct days in a million rows): parse each distinct
    # value once, then map the results back to the rows through the factorize codes.
    codes, uniques = pd.factorize(text)
    distinct = pd.Series(uniques, dtype="str")
    if rule.date_format is not None:
        dates_u, timed_u = _by_format(distinct, rule.date_format), _format_has_time(rule)
        unread_u = dates_u.isna()
        parts_u = pd.DataFrame(
            {"y": dates_u.dt.year, "m": dates_u.dt.month, "d": dates_u.dt.day}, dtype="float64"
        )
        ambiguous_u = pd.Series(False, index=distinct.index)
        timed_u = pd.Series(timed_u, index=distinct.index)
        time_error_u = pd.Series(np.nan, index=distinct.index, dtype="object")
    else:
        shape = _shapes(distinct)
        parts_u, ambiguous_u = _date_parts(
            shape, day_first_fixed=fmt == "acled", dayfirst=dayfirst, rule=rule
        )
        unread_u = parts_u.isna().any(axis=1)
        timed_u = shape["time"].notna() & ~unread_u
        time_error_u = shape["time_error"]
    y, m, d = (_per_row(parts_u[part], codes, text.index) for part in ("y", "m", "d"))
    unread = text.notna() & _per_row_mask(unread_u, codes, text.index)
    time_error = _per_row(time_error_u, codes, text.index)
    for label in _labels(unread):
        value = text.at[label]
        why = time_error.at[label]
        message = (
            f"{column} {value!r} is not a real date ({why})"
            if isinstance(why, str)
            else _unread_message(column, value, rule)
        )
        found.error(label, column, value, message)
    out_of_range = ~unread & ((y < _YEAR_MIN) | (y > _YEAR_MAX))
    for label in _labels(out_of_range):
        found.error(
            label,
            column,
            text.at[label],
            f"{column} {text.at[label]!r}: year outside {_YEAR_MIN}-{_YEAR_MAX}",
        )
    usable_u = ~unread_u & parts_u["y"].between(_YEAR_MIN, _YEAR_MAX)
    dates_u = _from_parts(
        parts_u["y"].where(usable_u), parts_u["m"].where(usable_u), parts_u["d"].where(usable_u)
    )
    dates = _per_row(dates_u, codes, text.index).astype(DATE_DTYPE)
    impossible = text.notna() & ~unread & ~out_of_range & dates.isna()
    for label in _labels(impossible):
        found.error(
            label,
            column,
            text.at[label],
            f"{column} {text.at[label]!r} is not a real date "
            f"({_why_impossible(y.at[label], m.at[label], d.at[label])})",
        )
    # An event cannot have happened after today: a typo, or a two-digit year read as 20xx.
    today = pd.Timestamp(dt.date.today())
    for label in _labels(dates > today):
        found.error(
            label,
            column,
            text.at[label],
            f"{column} {text.at[label]!r} is {_spell(dates.at[label])}, after today "
            f"({today.date().isoformat()}): a typo? (two-digit years 00-68 read as 20xx; "
            "--date-format says otherwise)",
        )
    ambiguous = _per_row_mask(ambiguous_u, codes, text.index)
    for label in _labels(ambiguous & dates.notna()):
        found.warn(
            label,
            column,
            text.at[label],
            f"{column} {text.at[label]!r} is ambiguous (day and month both 12 or less): "
            f"read as {_spell(dates.at[label])} ({'day first' if dayfirst else 'month first'})",
        )
    read = dates.notna()
    timed = read & _per_row_mask(timed_u & dates_u.notna(), codes, text.index)
    before = found.facts.dates.get(column, (0, 0, 0))
    found.facts.dates[column] = (
        before[0] + int(text.notna().sum()),
        before[1] + int(read.sum()),
        before[2] + int(timed.sum()),
    )
    return dates


def _unread_message(column: str, value: str, rule: DateRule) -> str:
    if rule.date_format is not None:
        return (
            f"{column} {value!r} does not match --date-format {rule.date_format!r} "
            "(or is not a real date)"
        )
    return (
        f"{column} {value!r} is not a date (expected e.g. 2017-11-09 or 09 November 2017; "
        "give another form with --date-format)"
    )


def _by_format(text: pd.Series, date_format: str) -> pd.Series:
    """Dates (day only) of the values that match a strftime format; NaT for the others."""
    parsed = pd.to_datetime(text, format=date_format, errors="coerce")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed.dt.normalize()


def _format_has_time(rule: DateRule) -> bool:
    return any(code in (rule.date_format or "") for code in ("%H", "%I", "%M", "%S", "%p"))


def _shapes(text: pd.Series) -> pd.DataFrame:
    """Per distinct date text: its form's label, numbers and time of day.

    Columns: ``kind`` (a ``_FORMS`` name, ``"serial"`` or NaN), ``y`` (the full year,
    two-digit years by the pivot), ``m``, ``d`` (year-first and named forms), ``a`` and
    ``b`` (the first two numbers of ``a-b-y``), ``time`` (its form, e.g. ``"HH:MM:SS"``,
    NaN without one), ``number`` (the value as a number when it is one), ``form``
    (the label ``DateFacts.forms`` counts; NaN when the text is in no form) and
    ``time_error`` (why a value in a date form is no date because of its time of day, e.g.
    ``"there is no hour 25"``; such a value is in no form).
    """
    columns = ["kind", "y", "m", "d", "a", "b", "time", "number", "form", "time_error"]
    out = pd.DataFrame({c: pd.Series(np.nan, index=text.index, dtype="object") for c in columns})
    left = text.notna()
    for kind, regex in _FORMS:
        if not left.any():
            break
        got = text[left].str.extract(regex)
        if "mon" in got:
            got["m"] = got["mon"].map(lambda s: _MONTHS_ALL.get(_month_key(s)), na_action="ignore")
            got = got[got["m"].notna() & got["d"].notna()]
        else:
            got = got[got["y"].notna()]
        if got.empty:
            continue
        clock, impossible = _time_form(got)
        # A value whose time of day cannot be is no date: left unread, with the reason.
        out.loc[impossible.index[impossible.notna()], "time_error"] = impossible.dropna()
        bad_time = impossible.notna()
        got = got[~bad_time]
        clock = clock[~bad_time]
        year = got["y"].astype("float64")
        short = got["y"].str.len() == 2
        year = year.where(~short, year + np.where(year < _TWO_DIGIT_PIVOT, 2000, 1900))
        idx = got.index
        out.loc[idx, "kind"] = kind
        out.loc[idx, "y"] = year
        for part in ("m", "d", "a", "b"):
            if part in got:
                out.loc[idx, part] = got[part].astype("float64")
        out.loc[idx, "time"] = clock
        year_form = np.where(short, "yy", "yyyy")
        if kind == "ymd":
            base = "yyyy" + got["sep"] + "mm" + got["sep"] + "dd"
        elif kind == "numeric":
            base = "A" + got["sep"] + "B" + got["sep"] + year_form
        elif kind == "day_month":
            base = "dd Month " + pd.Series(year_form, index=idx)
        else:
            base = pd.Series("Month dd, yyyy", index=idx)
        base = base.astype("object")
        out.loc[idx, "form"] = base.where(clock.isna(), base + " " + clock.astype("object"))
        left[idx] = False
    number = pd.to_numeric(text.where(left & text.str.fullmatch(_SERIAL_RE)), errors="coerce")
    out["number"] = number
    serial = number.between(1, _SERIAL_MAX)
    out.loc[serial, "kind"] = "serial"
    out.loc[serial, "form"] = "serial"
    out.loc[serial & (number != number.round()), "time"] = "fraction of a day"
    for part in ("y", "m", "d", "a", "b", "number"):
        out[part] = out[part].astype("float64")
    return out


def _time_form(got: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """The form of each matched time of day (NaN: none), and why a time is impossible (NaN
    where it is a time: hours 0-23, or 1-12 with AM/PM; minutes and seconds 0-59)."""
    hh = got["hh"].astype("float64")
    mi = got["mi"].astype("float64")
    ss = got["ss"].astype("float64")
    twelve = got["ampm"].notna()
    why = pd.Series(np.nan, index=got.index, dtype="object")
    # The first impossible part is named; later checks fill only what is still fine.
    for bad, text in (
        (twelve & ~hh.between(1, 12), "there is no hour {hh} on a 12-hour clock"),
        (~twelve & (hh > 23), "there is no hour {hh}"),
        (mi > 59, "there is no minute {mi}"),
        (ss > 59, "there is no second {ss}"),
    ):
        new = bad.fillna(False).astype(bool) & why.isna()
        for label in got.index[new]:
            why.at[label] = text.format(
                hh=got.at[label, "hh"], mi=got.at[label, "mi"], ss=got.at[label, "ss"]
            )
    form = pd.Series(np.where(twelve, "hh:MM", "HH:MM"), index=got.index, dtype="object")
    form = form.where(ss.isna(), form + ":SS")
    form = form.where(~twelve, form + " AM/PM")
    return form.where(hh.notna()), why


def _order_free(
    shape: pd.DataFrame, *, day_first_fixed: bool
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """``a``, ``b`` of the numeric forms, and which of them the file's order decides
    (in ACLED files ``dd-mm-yyyy`` is day first by definition)."""
    numeric = shape["kind"].eq("numeric").fillna(False).astype(bool)
    fixed = numeric & shape["form"].str.startswith("A-").fillna(False).astype(bool)
    free = numeric & ~fixed if day_first_fixed else numeric
    return shape["a"], shape["b"], free


def _date_parts(
    shape: pd.DataFrame, *, day_first_fixed: bool, dayfirst: bool, rule: DateRule
) -> tuple[pd.DataFrame, pd.Series]:
    """Year, month and day numbers of each distinct value by the column's rule.

    Returns the parts (floats, NaN where the value is in no form the rule reads) and a mask
    of ambiguous numeric dates.
    """
    kind = shape["kind"]
    named = kind.isin(["ymd", "day_month", "month_day"])
    parts = pd.DataFrame(
        {"y": shape["y"].where(named), "m": shape["m"].where(named), "d": shape["d"].where(named)}
    )
    a, b, free = _order_free(shape, day_first_fixed=day_first_fixed)
    numeric = kind.eq("numeric").fillna(False).astype(bool)
    fixed = numeric & ~free
    day_proof = free & (a > 12) & (b <= 12)
    month_proof = free & (b > 12) & (a <= 12)
    first_is_day = dayfirst if rule.order is None else rule.order == "day first"
    a_is_day = fixed | day_proof | (~month_proof & first_is_day)
    parts = parts.fillna(
        pd.DataFrame(
            {
                "y": shape["y"].where(numeric),
                "m": b.where(a_is_day, a).where(numeric),
                "d": a.where(a_is_day, b).where(numeric),
            }
        )
    )
    if rule.serial:
        serial = _serial_dates(shape["number"].where(kind.eq("serial")))
        parts = parts.fillna(
            pd.DataFrame({"y": serial.dt.year, "m": serial.dt.month, "d": serial.dt.day}).astype(
                "float64"
            )
        )
    ambiguous = free & (a <= 12) & (b <= 12) & (a != b) & (rule.order is None)
    return parts, ambiguous


def _serial_dates(number: pd.Series) -> pd.Series:
    """Excel 1900-system serial day numbers as dates (the fraction, a time of day, dropped).

    Serial 60, the 29 February 1900 the system invented, gives NaT (an error row).
    """
    days = np.floor(number)
    origin = np.where(days > _SERIAL_LEAP_BUG, _SERIAL_AFTER_BUG, _SERIAL_BEFORE_BUG)
    offsets = days.where(days != _SERIAL_LEAP_BUG).to_numpy(dtype="float64")
    valid = ~np.isnan(offsets)
    out = np.full(len(number), np.datetime64("NaT"), dtype="datetime64[D]")
    out[valid] = origin[valid] + offsets[valid].astype("int64").astype("timedelta64[D]")
    return pd.Series(out, index=number.index).astype(DATE_DTYPE)


def _per_row(
    per_value: pd.Series | pd.DataFrame, codes: np.ndarray, index: pd.Index
) -> pd.Series | pd.DataFrame:
    """Results computed once per distinct value, spread back to the rows (code -1 = NA)."""
    out = per_value.reindex(codes)  # -1 is not a label: NaN/NaT there, as for an NA row
    out.index = index
    return out


def _per_row_mask(per_value: pd.Series, codes: np.ndarray, index: pd.Index) -> pd.Series:
    """A per-distinct-value mask spread back to the rows; False for NA rows (code -1)."""
    flags = np.append(per_value.to_numpy(dtype=bool, na_value=False), False)
    return pd.Series(flags[codes], index=index)  # code -1 picks the appended False


def _from_parts(y: pd.Series, m: pd.Series, d: pd.Series) -> pd.Series:
    """Dates from year/month/day numbers; NaT where any is missing or the day is impossible."""
    dates = pd.to_datetime(pd.DataFrame({"year": y, "month": m, "day": d}), errors="coerce")
    return dates.astype(DATE_DTYPE)


def _why_impossible(y: float, m: float, d: float) -> str:
    if not 1 <= m <= 12:
        return f"there is no month {int(m)}"
    days = calendar.monthrange(int(y), int(m))[1]
    return f"{_MONTH_NAMES[int(m)]} {int(y)} has {days} days"


def _spell(date: pd.Timestamp) -> str:
    return f"{date.day} {_MONTH_NAMES[date.month]} {date.year}"


# --- what the report says about dates ---------------------------------------------------------


def _date_notes(
    facts: FileFacts, *, dayfirst: bool, date_order: dict[str, DateRule]
) -> list[Problem]:
    """One note per date column read in a form worth stating, then one about times dropped."""
    out: list[Problem] = []
    timed: dict[str, int] = {}
    for column, rule in date_order.items():
        given, read, times = facts.dates.get(column, (0, 0, 0))
        if times:
            timed[column] = times
        if not read or (
            rule.date_format is None
            and not rule.serial
            and all(_without_time(form) in _PLAIN_FORMS for form, _ in rule.forms)
        ):
            continue  # a plain form: only a time of day, if any, is worth a note
        out.append(
            Problem(
                None,
                column,
                None,
                f"{column}: read as {_describe(rule, dayfirst=dayfirst)}, "
                f"{read:,} of {given:,} values{_order_reason(rule, dayfirst=dayfirst)}",
                WARNING,
            )
        )
    if timed:
        columns = ", ".join(timed)
        out.append(
            Problem(
                None,
                next(iter(timed)),
                sum(timed.values()),
                f"the time of day in {columns} was dropped ({_count(sum(timed.values()))}): "
                "the events table keeps the date only",
                WARNING,
            )
        )
    return out


def _without_time(form: str) -> str:
    return form.split(" HH")[0].split(" hh")[0]


def _describe(rule: DateRule, *, dayfirst: bool) -> str:
    """The form a column was read in, in words and as a pattern, with what settled it."""
    if rule.date_format is not None:
        return f"--date-format {rule.date_format!r}"
    if rule.serial:
        return (
            "spreadsheet serial day numbers (Excel 1900 date system: 25569 is 1970-01-01, "
            "1 is 1900-01-01)"
        )
    main = rule.forms[0][0] if rule.forms else ""
    text = _form_words(main, rule=rule, dayfirst=dayfirst)
    others = [_pattern(form, rule=rule, dayfirst=dayfirst) for form, _ in rule.forms[1:4]]
    if others:
        text += f" (also {', '.join(others)}{', ...' if len(rule.forms) > 4 else ''})"
    return text


def _pattern(form: str, *, rule: DateRule, dayfirst: bool) -> str:
    day_first = dayfirst if rule.order is None else rule.order == "day first"
    first, second = ("dd", "mm") if day_first else ("mm", "dd")
    return form.replace("A", first, 1).replace("B", second, 1)


def _form_words(form: str, *, rule: DateRule, dayfirst: bool) -> str:
    pattern = _pattern(form, rule=rule, dayfirst=dayfirst)
    if pattern.startswith(("dd", "mm")) and pattern[2] in "-/.":
        sep = pattern[2]
        words = ("day", "month") if pattern.startswith("dd") else ("month", "day")
        text = f"{words[0]}{sep}{words[1]}{sep}year"
    elif form.startswith("yyyy"):
        text = f"year{form[4]}month{form[4]}day"
    elif form.startswith("dd Month"):
        text = "day, month name, year"
    else:
        text = "month name, day, year"
    if ":" in form:
        text += " with a time of day"
    if _SHORT_YEAR.search(form):
        pivot = _TWO_DIGIT_PIVOT
        pattern += f"; two-digit years 00-{pivot - 1} as 20xx, {pivot}-99 as 19xx"
    return text + f" ({pattern})"


def _order_reason(rule: DateRule, *, dayfirst: bool) -> str:
    """What settled the day/month order of a column of numeric dates (empty for others)."""
    if (
        rule.date_format is not None
        or rule.serial
        or not any(form.startswith("A") for form, _ in rule.forms)
    ):
        return ""
    if rule.order is not None and rule.proof is not None:
        where = f" in {rule.proof_column}" if rule.proof_column else ""
        return f" ({rule.proof!r}{where} can only be read {rule.order})"
    return (
        f"; nothing in the file settles the order, so {'day' if dayfirst else 'month'} first "
        "(each ambiguous row has a warning; --date-format says otherwise)"
    )


def _all_dates_failed(facts: FileFacts) -> Problem | None:
    """One error when every row was set aside for its date, naming an example and the option."""
    first = facts.first_date_failure
    if not facts.rows or facts.date_failed < facts.rows or first is None:
        return None
    hint = (
        ""
        if "--date-format" in first.message
        else "; if the dates are in another form, give it with --date-format "
        "(e.g. --date-format '%d/%m/%Y %H:%M:%S')"
    )
    return Problem(
        None,
        first.column,
        first.value,
        f"every row ({facts.rows:,}) was set aside for its date, e.g. row {first.row}: "
        f"{first.message}{hint}; each row's reason is kept with the rows set aside",
        ERROR,
    )


def _count(n: int) -> str:
    return f"{n:,} value" if n == 1 else f"{n:,} values"


# --- coordinates ---------------------------------------------------------------------------


def _to_float(
    values: pd.Series, *, decimal_comma: bool = False
) -> tuple[pd.Series, pd.Series, int]:
    """Numbers from text: (floats, mask of non-numeric text, decimal commas converted).

    Each distinct value is converted once (codes, places, fatalities repeat a lot).
    """
    codes, uniques = pd.factorize(values)
    text = pd.Series(uniques).str.strip()
    commas = 0
    if decimal_comma:
        is_comma = text.str.fullmatch(_DECIMAL_COMMA_RE).fillna(False).astype(bool)
        commas = int(_per_row_mask(is_comma, codes, values.index).sum())
        text = text.where(~is_comma, text.str.replace(",", ".", regex=False))
    numbers = pd.to_numeric(text, errors="coerce").astype("float64")
    numbers = numbers.where(np.isfinite(numbers))
    bad = _per_row_mask(text.notna() & numbers.isna(), codes, values.index)
    return _per_row(numbers, codes, values.index), bad, commas


def _coordinates(
    frame: pd.DataFrame, *, decimal_comma: bool, found: _Findings
) -> dict[str, pd.Series]:
    """Latitude and longitude as floats; range, swap, null-island and completeness checks."""
    empty = pd.Series(np.nan, index=frame.index, dtype="float64")
    location = frame[schema.LOCATION].notna() if schema.LOCATION in frame else empty.notna()
    if not {schema.LATITUDE, schema.LONGITUDE} <= set(frame.columns):
        for label in _labels(~location):
            found.error(label, schema.LOCATION, None, "no location (and no coordinate columns)")
        return {schema.LATITUDE: empty, schema.LONGITUDE: empty}
    lat, lat_bad, lat_commas = _to_float(frame[schema.LATITUDE], decimal_comma=decimal_comma)
    lon, lon_bad, lon_commas = _to_float(frame[schema.LONGITUDE], decimal_comma=decimal_comma)
    found.facts.commas = (lat_commas, lon_commas)
    for column, bad in ((schema.LATITUDE, lat_bad), (schema.LONGITUDE, lon_bad)):
        for label in _labels(bad):
            value = frame[column].at[label]
            found.error(label, column, value, f"{column} {value!r} is not a number")
    _check_completeness(frame, location, found)
    _check_ranges(frame, lat, lon, found)
    _check_country_swaps(frame, lat, lon, found)
    return {schema.LATITUDE: lat, schema.LONGITUDE: lon}


def _check_completeness(frame: pd.DataFrame, location: pd.Series, found: _Findings) -> None:
    lat_given, lon_given = frame[schema.LATITUDE].notna(), frame[schema.LONGITUDE].notna()
    for label in _labels(lat_given & ~lon_given):
        found.error(label, schema.LONGITUDE, None, "longitude empty while latitude is given")
    for label in _labels(lon_given & ~lat_given):
        found.error(label, schema.LATITUDE, None, "latitude empty while longitude is given")
    where = "and no location" if schema.LOCATION in frame else "and no location column"
    for label in _labels(~lat_given & ~lon_given & ~location):
        found.error(label, schema.LATITUDE, None, f"no coordinates {where} to place the event")


def _check_ranges(frame: pd.DataFrame, lat: pd.Series, lon: pd.Series, found: _Findings) -> None:
    lat_out, lon_out = lat.abs() > 90, lon.abs() > 180
    for label in _labels(lat_out):
        value = frame[schema.LATITUDE].at[label]
        swapped = abs(lon.at[label]) <= 90
        note = "; latitude and longitude look swapped" if swapped else ""
        found.error(label, schema.LATITUDE, value, f"latitude {value} is outside [-90, 90]{note}")
    for label in _labels(lon_out):
        value = frame[schema.LONGITUDE].at[label]
        found.error(label, schema.LONGITUDE, value, f"longitude {value} is outside [-180, 180]")
    for label in _labels((lat == 0) & (lon == 0)):
        found.error(
            label,
            schema.LATITUDE,
            "0, 0",
            "coordinates (0, 0) are 'null island', a placeholder for a missing location",
        )


def _country_bounds(countries: pd.Series) -> pd.DataFrame:
    """South/north/west/east of each row's country; NaN where the country is not known."""
    codes, uniques = pd.factorize(countries)  # a handful of countries in many rows
    key = pd.Series(uniques, dtype=object).str.strip().str.lower().replace(_COUNTRY_NAMES)
    per_country = pd.DataFrame(
        {
            side: key.map({name: box[i] for name, box in _COUNTRY_BOXES.items()})
            for i, side in enumerate(("south", "north", "west", "east"))
        }
    ).astype("float64")
    return _per_row(per_country, codes, countries.index)


def _inside(bounds: pd.DataFrame, lat: pd.Series, lon: pd.Series) -> pd.Series:
    return (
        (lat >= bounds["south"])
        & (lat <= bounds["north"])
        & (lon >= bounds["west"])
        & (lon <= bounds["east"])
    )


def _check_country_swaps(
    frame: pd.DataFrame, lat: pd.Series, lon: pd.Series, found: _Findings
) -> None:
    """Error on rows outside their country whose swapped point is inside it."""
    if schema.COUNTRY not in frame:
        return
    bounds = _country_bounds(frame[schema.COUNTRY])
    checkable = bounds["south"].notna() & (lat.abs() <= 90) & (lon.abs() <= 180)
    swapped = checkable & ~_inside(bounds, lat, lon) & _inside(bounds, lon, lat)
    for label in _labels(swapped):
        country = frame[schema.COUNTRY].at[label]
        found.error(
            label,
            schema.LATITUDE,
            f"{frame[schema.LATITUDE].at[label]}, {frame[schema.LONGITUDE].at[label]}",
            f"latitude and longitude look swapped: the point is outside {country}, "
            f"but swapped it is inside",
        )
    found.facts.swapped = (int(swapped.sum()), int(checkable.sum()))


# --- numbers -------------------------------------------------------------------------------


def _fatalities(frame: pd.DataFrame, found: _Findings) -> pd.Series:
    """Fatalities as float; NaN = unknown (empty or an 'unknown' word), never 0."""
    if schema.FATALITIES not in frame:
        return pd.Series(np.nan, index=frame.index, dtype="float64")
    text = frame[schema.FATALITIES].str.strip()
    unknown = text.str.lower().isin(schema.UNKNOWN_FATALITIES).fillna(False).astype(bool)
    numbers, bad, _ = _to_float(text.where(~unknown))
    for label in _labels(unknown):
        found.warn(
            label,
            schema.FATALITIES,
            text.at[label],
            f"fatalities {text.at[label]!r} read as unknown (empty), not 0",
        )
    for label in _labels(bad):
        found.error(
            label,
            schema.FATALITIES,
            text.at[label],
            f"fatalities {text.at[label]!r} is not a number "
            "(write 'unknown' or leave it empty if not known)",
        )
    for label in _labels(numbers < 0):
        found.error(
            label, schema.FATALITIES, text.at[label], f"fatalities {text.at[label]} is negative"
        )
    return numbers


def _quiet_float(values: pd.Series, found: _Findings) -> pd.Series:
    numbers, bad, _ = _to_float(values)
    for label in _labels(bad):
        found.warn(
            label,
            values.name,
            values.at[label],
            f"{values.name} {values.at[label]!r} is not a number; left empty",
        )
    return numbers


def _to_int8(numbers: pd.Series) -> pd.Series:
    whole = numbers.where((numbers == numbers.round()) & (numbers.abs() <= 127))
    return whole.astype("Int8")


def _precision(
    frame: pd.DataFrame, column: str, found: _Findings, *, decimal_comma: bool = False
) -> pd.Series:
    """A 1-3 precision code as nullable Int8; other values warn and become NA."""
    if column not in frame:
        return pd.Series(pd.NA, index=frame.index, dtype="Int8")
    numbers, _, _ = _to_float(frame[column], decimal_comma=decimal_comma)
    valid = numbers.isin([1, 2, 3])
    for label in _labels(frame[column].notna() & ~valid):
        value = frame[column].at[label]
        found.warn(label, column, value, f"{column} {value!r} is not 1, 2 or 3; left empty")
    return _to_int8(numbers.where(valid))


# --- ids -----------------------------------------------------------------------------------


def _event_ids(frame: pd.DataFrame, *, stem: str, found: _Findings) -> pd.Series:
    """The file's ids, stripped; missing ones made from the file stem and source row."""
    generated = stem + "-" + frame[schema.SOURCE_ROW].astype("int64").astype("str")
    if len(frame):
        found.facts.first_generated = str(generated.iloc[0])
    if schema.EVENT_ID not in frame:
        return generated.astype("str")
    ids = frame[schema.EVENT_ID].str.strip()
    missing = ids.isna()
    if missing.any():
        found.facts.missing_ids = int(missing.sum())
        found.facts.missing_rows = [
            int(r) for r in frame[schema.SOURCE_ROW][missing].head(_MAX_ROWS_LISTED)
        ]
        found.facts.first_missing_generated = str(generated[missing].iloc[0])
    return ids.where(~missing, generated).astype("str")


def _duplicate_ids(ids: pd.Series, duplicates: dict[int, int], found: _Findings) -> None:
    """Rows ``duplicates`` names (source row -> the first row with that id) are errors."""
    if not duplicates:
        return
    rows = found.source_rows
    for label in _labels(rows.isin(list(duplicates))):
        event_id = ids.at[label]
        first_row = duplicates[int(rows.at[label])]
        found.error(
            label,
            schema.EVENT_ID,
            event_id,
            f"duplicate event_id {event_id!r}: row {first_row} has the same id (that one is kept)",
        )


# --- output --------------------------------------------------------------------------------


def _assemble(frame: pd.DataFrame, typed: dict[str, pd.Series], fmt: str) -> pd.DataFrame:
    """The typed canonical frame, all rows: canonical columns, extras, source row, format."""
    out: dict[str, pd.Series] = {}
    for column in schema.EVENT_COLUMNS:
        if column in typed:
            out[column] = typed[column]
        elif column in frame:
            out[column] = frame[column].astype("str")
        else:
            out[column] = pd.Series(pd.NA, index=frame.index, dtype="str")
    for column in frame.columns:
        if column not in out and column != schema.SOURCE_ROW:
            out[column] = typed.get(column, frame[column])
    out[schema.SOURCE_ROW] = frame[schema.SOURCE_ROW].astype("int64")
    out[schema.SOURCE_FORMAT] = pd.Series(fmt, index=frame.index, dtype="str")
    return pd.DataFrame(out, index=frame.index)


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)] or frames[-1:]
    out = (
        pd.concat(frames, ignore_index=True)
        if len(frames) > 1
        else frames[0].reset_index(drop=True)
    )
    columns = [c for c in out.columns if c not in (schema.SOURCE_ROW, schema.REJECT_REASON)]
    out = out[[*columns, schema.SOURCE_ROW, schema.REJECT_REASON]]
    return out.sort_values(schema.SOURCE_ROW, kind="stable", ignore_index=True)
