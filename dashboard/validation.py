"""Type and check event rows, collecting every problem with its row, column and value.

``validate_events`` never stops at the first problem. A file that cannot be used at all
(no date column; neither coordinates nor a location column) raises ``SchemaError`` naming
the missing columns and the closest columns found. Everything else is per row: a row with
an error is set aside into ``rejected`` with all its reasons; warnings leave it loaded.
The ledger always balances: rows in = rows loaded + rows set aside.

Decisions worth knowing:

- Dates (read by :mod:`dashboard.dateparse`): ISO ``2017-11-09`` (a time part is dropped),
  ``09 November 2017`` / ``9 Nov 2017``, ``November 9, 2017`` and numeric ``09-11-2017`` /
  ``09/11/2017``. In ACLED files a ``dd-mm-yyyy`` date is day first by definition. Elsewhere
  a numeric date with both parts <= 12 is ambiguous: if other rows of the same column settle
  the order (a part above 12 appears in only one position) that order is used silently;
  otherwise ``dayfirst`` decides and each such row gets a warning saying how it was read.
  Years outside 1800-2100 are errors (typos, not history).
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

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

from dashboard import schema
from dashboard.dateparse import (
    DATE_DTYPE,
    YEAR_MAX,
    YEAR_MIN,
    YEAR_RE,
    DateRule,
    check_date_format,
    date_notes,
    date_proofs,
    decide_date_order,
    from_parts,
    is_year_only,
    parse_date_column,
)
from dashboard.errors import SchemaError
from dashboard.readers import ReadResult, read_events
from dashboard.readers.mapping import alias_of, column_key
from dashboard.readers.textio import DEFAULT_MAX_BYTES
from dashboard.report import ERROR, WARNING, Problem, Report
from dashboard.rowwise import flagged_labels, per_row, per_row_mask

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
            typed[column] = _quiet_float(frame, column, found)
    for column in schema.INT_CODE_COLUMNS:
        typed[column] = _precision(frame, column, found, decimal_comma=comma)
    if is_year_only(frame):
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
        self.problems.append(Problem(self.source_row(label), column, value, message, ERROR))
        self.reasons.setdefault(label, []).append(message)

    def warn(self, label: int, column: str | None, value: object, message: str) -> None:
        self.problems.append(Problem(self.source_row(label), column, value, message, WARNING))

    def rejected_mask(self, index: pd.Index) -> pd.Series:
        return pd.Series(index.isin(list(self.reasons)), index=index)

    def source_row(self, label: int) -> int:
        """The 1-based file row of the frame row ``label``."""
        # pandas-stubs types an .at read as any scalar; source rows are numpy integers.
        return int(cast(np.integer, self.source_rows.at[label]))


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
    out += date_notes(facts.dates, dayfirst=dayfirst, date_order=date_order)
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


def _dates(
    frame: pd.DataFrame,
    *,
    fmt: str,
    dayfirst: bool,
    date_order: dict[str, DateRule],
    found: _Findings,
) -> dict[str, pd.Series]:
    """event_date, date_start and date_end, each filled from the others where empty."""
    if is_year_only(frame):
        return _dates_from_year(frame, found)
    nat = pd.Series(pd.NaT, index=frame.index, dtype=DATE_DTYPE)
    first_failure = len(found.problems)
    parsed = {
        column: _read_date_column(
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
    for label in flagged_labels(~given):
        found.error(label, date_columns[0], None, f"no date: {' and '.join(date_columns)} empty")
    for label in flagged_labels(end < start):
        found.error(
            label,
            schema.DATE_END,
            frame[schema.DATE_END].at[label] if schema.DATE_END in frame else None,
            f"date_end {end.at[label]:%Y-%m-%d} is before date_start {start.at[label]:%Y-%m-%d}",
        )
    _count_date_failures(found, first_failure, rows=len(frame))
    return {schema.EVENT_DATE: event, schema.DATE_START: start, schema.DATE_END: end}


def _read_date_column(
    values: pd.Series,
    column: str,
    *,
    fmt: str,
    dayfirst: bool,
    rule: DateRule,
    found: _Findings,
) -> pd.Series:
    """One date column read by the file's ``rule``: its findings recorded against their rows,
    and what was read counted (``found.facts.dates``)."""
    got = parse_date_column(values, column, fmt=fmt, dayfirst=dayfirst, rule=rule)
    for finding in got.findings:
        record = found.error if finding.severity == ERROR else found.warn
        record(finding.label, column, finding.value, finding.message)
    before = found.facts.dates.get(column, (0, 0, 0))
    found.facts.dates[column] = (
        before[0] + got.given,
        before[1] + got.read,
        before[2] + got.timed,
    )
    return got.dates


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
    year = pd.to_numeric(text.where(text.str.fullmatch(YEAR_RE)), errors="coerce")
    for label in flagged_labels(text.isna()):
        found.error(label, schema.YEAR, None, "no date: year empty")
    for label in flagged_labels(text.notna() & year.isna()):
        found.error(label, schema.YEAR, text.at[label], f"year {text.at[label]!r} is not a year")
    out_of_range = (year < YEAR_MIN) | (year > YEAR_MAX)
    for label in flagged_labels(out_of_range):
        found.error(
            label,
            schema.YEAR,
            text.at[label],
            f"year {text.at[label]} is outside {YEAR_MIN}-{YEAR_MAX}",
        )
    year = year.where(~out_of_range)
    start = from_parts(year, pd.Series(1, index=year.index), pd.Series(1, index=year.index))
    end = from_parts(year, pd.Series(12, index=year.index), pd.Series(31, index=year.index))
    return {schema.EVENT_DATE: start, schema.DATE_START: start, schema.DATE_END: end}


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
        commas = int(per_row_mask(is_comma, codes, values.index).sum())
        text = text.where(~is_comma, text.str.replace(",", ".", regex=False))
    numbers = pd.to_numeric(text, errors="coerce").astype("float64")
    numbers = numbers.where(np.isfinite(numbers))
    bad = per_row_mask(text.notna() & numbers.isna(), codes, values.index)
    # per_row gives back what it is given: a Series here (its annotation is the union).
    return per_row(numbers, codes, values.index), bad, commas


def _coordinates(
    frame: pd.DataFrame, *, decimal_comma: bool, found: _Findings
) -> dict[str, pd.Series]:
    """Latitude and longitude as floats; range, swap, null-island and completeness checks."""
    empty = pd.Series(np.nan, index=frame.index, dtype="float64")
    location = frame[schema.LOCATION].notna() if schema.LOCATION in frame else empty.notna()
    if not {schema.LATITUDE, schema.LONGITUDE} <= set(frame.columns):
        for label in flagged_labels(~location):
            found.error(label, schema.LOCATION, None, "no location (and no coordinate columns)")
        return {schema.LATITUDE: empty, schema.LONGITUDE: empty}
    lat, lat_bad, lat_commas = _to_float(frame[schema.LATITUDE], decimal_comma=decimal_comma)
    lon, lon_bad, lon_commas = _to_float(frame[schema.LONGITUDE], decimal_comma=decimal_comma)
    found.facts.commas = (lat_commas, lon_commas)
    for column, bad in ((schema.LATITUDE, lat_bad), (schema.LONGITUDE, lon_bad)):
        for label in flagged_labels(bad):
            value = frame[column].at[label]
            found.error(label, column, value, f"{column} {value!r} is not a number")
    _check_completeness(frame, location, found)
    _check_ranges(frame, lat, lon, found)
    _check_country_swaps(frame, lat, lon, found)
    return {schema.LATITUDE: lat, schema.LONGITUDE: lon}


def _check_completeness(frame: pd.DataFrame, location: pd.Series, found: _Findings) -> None:
    lat_given, lon_given = frame[schema.LATITUDE].notna(), frame[schema.LONGITUDE].notna()
    for label in flagged_labels(lat_given & ~lon_given):
        found.error(label, schema.LONGITUDE, None, "longitude empty while latitude is given")
    for label in flagged_labels(lon_given & ~lat_given):
        found.error(label, schema.LATITUDE, None, "latitude empty while longitude is given")
    where = "and no location" if schema.LOCATION in frame else "and no location column"
    for label in flagged_labels(~lat_given & ~lon_given & ~location):
        found.error(label, schema.LATITUDE, None, f"no coordinates {where} to place the event")


def _check_ranges(frame: pd.DataFrame, lat: pd.Series, lon: pd.Series, found: _Findings) -> None:
    lat_out, lon_out = lat.abs() > 90, lon.abs() > 180
    for label in flagged_labels(lat_out):
        value = frame[schema.LATITUDE].at[label]
        # pandas-stubs types an .at read as any scalar; lon holds floats.
        swapped = abs(cast(float, lon.at[label])) <= 90
        note = "; latitude and longitude look swapped" if swapped else ""
        found.error(label, schema.LATITUDE, value, f"latitude {value} is outside [-90, 90]{note}")
    for label in flagged_labels(lon_out):
        value = frame[schema.LONGITUDE].at[label]
        found.error(label, schema.LONGITUDE, value, f"longitude {value} is outside [-180, 180]")
    for label in flagged_labels((lat == 0) & (lon == 0)):
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
    # per_row gives back what it is given: a DataFrame here (its annotation is the union).
    return per_row(per_country, codes, countries.index)


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
    for label in flagged_labels(swapped):
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
    for label in flagged_labels(unknown):
        found.warn(
            label,
            schema.FATALITIES,
            text.at[label],
            f"fatalities {text.at[label]!r} read as unknown (empty), not 0",
        )
    for label in flagged_labels(bad):
        found.error(
            label,
            schema.FATALITIES,
            text.at[label],
            f"fatalities {text.at[label]!r} is not a number "
            "(write 'unknown' or leave it empty if not known)",
        )
    for label in flagged_labels(numbers < 0):
        found.error(
            label, schema.FATALITIES, text.at[label], f"fatalities {text.at[label]} is negative"
        )
    return numbers


def _quiet_float(frame: pd.DataFrame, column: str, found: _Findings) -> pd.Series:
    values = frame[column]
    numbers, bad, _ = _to_float(values)
    for label in flagged_labels(bad):
        found.warn(
            label,
            column,
            values.at[label],
            f"{column} {values.at[label]!r} is not a number; left empty",
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
    for label in flagged_labels(frame[column].notna() & ~valid):
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
    for label in flagged_labels(rows.isin(list(duplicates))):
        event_id = ids.at[label]
        first_row = duplicates[found.source_row(label)]
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
