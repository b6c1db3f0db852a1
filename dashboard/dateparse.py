"""Reading the dates of a text column: the forms analysts' files hold, the day/month
order, spreadsheet serial days, Arabic month names, and what the report says about them.

Every distinct (stripped) value of a date column gets a shape once: which form it is in
(``_FORMS``), its numbers, its time of day. :func:`date_proofs` sums the shapes of a
partition into small :class:`DateFacts`; :func:`decide_date_order` turns the file's facts
into one :class:`DateRule` per column (the day/month order, spreadsheet serials or not, the
user's ``--date-format``); :func:`parse_date_column` applies the rule to the rows and says
which rows it could not read, and why. :mod:`dashboard.validation` turns those findings into
the rows set aside and the report.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Final, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from dashboard import schema
from dashboard.errors import SchemaError
from dashboard.report import ERROR, WARNING, Problem
from dashboard.rowwise import flagged_labels, per_row, per_row_mask

# Final: a literal, so pandas-stubs knows what ``astype(DATE_DTYPE)`` returns.
DATE_DTYPE: Final = "datetime64[s]"
YEAR_MIN, YEAR_MAX = 1800, 2100

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

YEAR_RE = r"^\d{4}(?:\.0+)?$"


# --- dates ---------------------------------------------------------------------------------
#
# Every distinct (stripped) value of a date column gets a shape once: which form it is in
# (``_FORMS``), its numbers, its time of day. ``date_proofs`` sums the shapes of a partition
# into small ``DateFacts``; ``decide_date_order`` turns the file's facts into one
# ``DateRule`` per column (the day/month order, spreadsheet serials or not, the user's
# ``--date-format``); ``parse_date_column`` applies the rule to the rows.

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
    if is_year_only(frame):
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
            & shape["number"].between(YEAR_MIN, YEAR_MAX)
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


def is_year_only(frame: pd.DataFrame) -> bool:
    return (
        schema.EVENT_DATE not in frame and schema.DATE_START not in frame and schema.YEAR in frame
    )


@dataclass(frozen=True)
class DateFinding:
    """A row of a date column that :func:`parse_date_column` could not read as given."""

    label: int
    """The row's label in the frame."""
    value: object
    message: str
    severity: str
    """``error`` (the row is set aside) or ``warning`` (kept, read as the message says)."""


@dataclass(frozen=True)
class ColumnDates:
    """One date column read: the dates (NaT where none) and what was found on the way."""

    dates: pd.Series
    findings: tuple[DateFinding, ...]
    given: int
    """Rows with a value."""
    read: int
    """Rows read as a date."""
    timed: int
    """Of those, rows that also gave a time of day (dropped)."""


def parse_date_column(
    values: pd.Series,
    column: str,
    *,
    fmt: str,
    dayfirst: bool,
    rule: DateRule,
) -> ColumnDates:
    """Parse one date column by the file's ``rule``: the dates, and the rows whose value is
    unreadable, impossible, out of range or after today (errors) or ambiguous (warnings),
    in that order."""
    findings: list[DateFinding] = []
    text = values.str.strip()
    # Dates repeat (a few thousand distinct days in a million rows): parse each distinct
    # value once, then map the results back to the rows through the factorize codes.
    codes, uniques = pd.factorize(text)
    distinct = pd.Series(uniques, dtype="str")
    if rule.date_format is not None:
        dates_u = _by_format(distinct, rule.date_format)
        unread_u = dates_u.isna()
        parts_u = pd.DataFrame(
            {"y": dates_u.dt.year, "m": dates_u.dt.month, "d": dates_u.dt.day}, dtype="float64"
        )
        ambiguous_u = pd.Series(False, index=distinct.index)
        timed_u = pd.Series(_format_has_time(rule), index=distinct.index)
        time_error_u = pd.Series(np.nan, index=distinct.index, dtype="object")
    else:
        shape = _shapes(distinct)
        parts_u, ambiguous_u = _date_parts(
            shape, day_first_fixed=fmt == "acled", dayfirst=dayfirst, rule=rule
        )
        unread_u = parts_u.isna().any(axis=1)
        timed_u = shape["time"].notna() & ~unread_u
        time_error_u = shape["time_error"]
    # per_row gives back what it is given: a Series here (its annotation is the union).
    y, m, d = (per_row(parts_u[part], codes, text.index) for part in ("y", "m", "d"))
    unread = text.notna() & per_row_mask(unread_u, codes, text.index)
    time_error = per_row(time_error_u, codes, text.index)
    for label in flagged_labels(unread):
        # pandas-stubs types an .at read as any scalar; an unread row has text.
        value = cast(str, text.at[label])
        why = time_error.at[label]
        message = (
            f"{column} {value!r} is not a real date ({why})"
            if isinstance(why, str)
            else _unread_message(column, value, rule)
        )
        findings.append(DateFinding(label, value, message, ERROR))
    out_of_range = ~unread & ((y < YEAR_MIN) | (y > YEAR_MAX))
    for label in flagged_labels(out_of_range):
        findings.append(
            DateFinding(
                label,
                text.at[label],
                f"{column} {text.at[label]!r}: year outside {YEAR_MIN}-{YEAR_MAX}",
                ERROR,
            )
        )
    usable_u = ~unread_u & parts_u["y"].between(YEAR_MIN, YEAR_MAX)
    dates_u = from_parts(
        parts_u["y"].where(usable_u), parts_u["m"].where(usable_u), parts_u["d"].where(usable_u)
    )
    dates = per_row(dates_u, codes, text.index).astype(DATE_DTYPE)
    impossible = text.notna() & ~unread & ~out_of_range & dates.isna()
    for label in flagged_labels(impossible):
        # pandas-stubs types an .at read as any scalar; the parts are float64 numbers.
        why = _why_impossible(*(cast(float, part.at[label]) for part in (y, m, d)))
        findings.append(
            DateFinding(
                label,
                text.at[label],
                f"{column} {text.at[label]!r} is not a real date ({why})",
                ERROR,
            )
        )
    # An event cannot have happened after today: a typo, or a two-digit year read as 20xx.
    today = pd.Timestamp(dt.date.today())
    for label in flagged_labels(dates > today):
        findings.append(
            DateFinding(
                label,
                text.at[label],
                f"{column} {text.at[label]!r} is {_spell_at(dates, label)}, after today "
                f"({today.date().isoformat()}): a typo? (two-digit years 00-68 read as 20xx; "
                "--date-format says otherwise)",
                ERROR,
            )
        )
    ambiguous = per_row_mask(ambiguous_u, codes, text.index)
    for label in flagged_labels(ambiguous & dates.notna()):
        findings.append(
            DateFinding(
                label,
                text.at[label],
                f"{column} {text.at[label]!r} is ambiguous (day and month both 12 or less): "
                f"read as {_spell_at(dates, label)} ({'day first' if dayfirst else 'month first'})",
                WARNING,
            )
        )
    read = dates.notna()
    timed = read & per_row_mask(timed_u & dates_u.notna(), codes, text.index)
    return ColumnDates(
        dates=dates,
        findings=tuple(findings),
        given=int(text.notna().sum()),
        read=int(read.sum()),
        timed=int(timed.sum()),
    )


# Months without a day (control tables and town lists): 2015-03, 03/2015, Mar 2015.
_YEAR_MONTH = re.compile(r"^(\d{4})[-/.](\d{1,2})$")
_MONTH_YEAR = re.compile(r"^(\d{1,2})[-/.](\d{4})$")
_NAMED_MONTH_YEAR = re.compile(r"^([^\W\d_]+(?: [^\W\d_]+)?)\.?[\s\-/.,]+(\d{4})$")


def month_forms(raw: pd.Series) -> tuple[pd.Series, int]:
    """Months without a day written as their 1st (``2015-03``, ``03/2015``, ``Mar 2015`` ->
    the 1st of the month), and how many rows were; every distinct value is looked at once.

    Control tables and town lists are often monthly ("who held each town each month");
    event files never are, so :func:`parse_dates` leaves this to their readers."""
    codes, uniques = pd.factorize(raw)
    out: list[str] = []
    changed = np.zeros(len(uniques), dtype=bool)
    for j, value in enumerate(uniques):
        text = str(value).strip()
        if m := _YEAR_MONTH.match(text):
            text, changed[j] = f"{m[1]}-{int(m[2]):02d}-01", 1 <= int(m[2]) <= 12
        elif m := _MONTH_YEAR.match(text):
            text, changed[j] = f"{m[2]}-{int(m[1]):02d}-01", 1 <= int(m[1]) <= 12
        elif m := _NAMED_MONTH_YEAR.match(text):
            text, changed[j] = f"1 {m[1]} {m[2]}", True
        out.append(text)
    values = np.append(np.asarray(out, dtype=object), np.array([None], dtype=object))[codes]
    rows = int(np.append(changed, False)[codes].sum())
    return pd.Series(values, index=raw.index, dtype="str"), rows


def parse_dates(values: pd.Series, column: str, *, dayfirst: bool = True) -> ColumnDates:
    """Read one column of dates from any small table (control per unit, a town list) by the
    rules the event files follow: one day/month order for the column when its values settle
    it, spreadsheet serials, Arabic month names; ``dayfirst`` decides each ambiguous value,
    with a warning. ``column`` names the column in the findings' messages."""
    frame = pd.DataFrame({schema.EVENT_DATE: values.astype("str")})
    rule = decide_date_order([date_proofs(frame, fmt="canonical")])[schema.EVENT_DATE]
    got = parse_date_column(
        frame[schema.EVENT_DATE], schema.EVENT_DATE, fmt="canonical", dayfirst=dayfirst, rule=rule
    )
    findings = tuple(replace(f, message=_table_words(f.message, column)) for f in got.findings)
    return replace(got, findings=findings)


def _table_words(message: str, column: str) -> str:
    """A finding's words for a table's own date column: its name, and no --date-format
    (the tables' readers do not take it)."""
    message = message.replace(schema.EVENT_DATE, column)
    message = message.replace("give another form with --date-format", "write it as YYYY-MM-DD")
    return message.replace("--date-format says otherwise", "write four-digit years")


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
        year_form: npt.NDArray[np.str_] = np.where(short, "yy", "yyyy")
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


def from_parts(y: pd.Series, m: pd.Series, d: pd.Series) -> pd.Series:
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


def _spell_at(dates: pd.Series, label: int) -> str:
    """:func:`_spell` of row ``label`` of a column of dates (not NaT: the callers' rows)."""
    # pandas-stubs types an .at read as any scalar, whatever the column's dtype.
    return _spell(cast(pd.Timestamp, dates.at[label]))


# --- what the report says about dates ---------------------------------------------------------


def date_notes(
    counts: Mapping[str, tuple[int, int, int]],
    *,
    dayfirst: bool,
    date_order: dict[str, DateRule],
) -> list[Problem]:
    """One note per date column read in a form worth stating, then one about times dropped.

    ``counts`` holds, per column, the rows given, read and read with a time of day (as
    :class:`ColumnDates` counts them, summed over the file)."""
    out: list[Problem] = []
    timed: dict[str, int] = {}
    for column, rule in date_order.items():
        given, read, times = counts.get(column, (0, 0, 0))
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


def _count(n: int) -> str:
    return f"{n:,} value" if n == 1 else f"{n:,} values"
