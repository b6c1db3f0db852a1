"""The pyarrow fast path of ``read_events`` gives exactly what the csv-module path gives.

One promise: for every input, ``read_events(path)`` (fast path tried first) and
``read_events(path, fast=False)`` (the csv module only) return the same frame, the same
set-aside rows with the same reasons, the same problems with the same row numbers, and the
same ledger, or raise the same error. ``assert_same`` checks that, and also that validation
then gives the same typed events, rejected rows and report.

The fixtures: the bundled events, every test of ``test_readers`` and ``test_validation``
run again with each ``read_events`` call checked against the slow path, synthetic ACLED and
canonical files, the real extracts in ../shared/data, one small file per fallback trigger,
and seeded random files.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import test_readers as reader_tests
import test_validation as validation_tests

from dashboard import paths, schema, validation
from dashboard.errors import InputFileError
from dashboard.readers import ReadResult, fastcsv, read_events
from dashboard.synth import EVENTS_FILE, write_synthetic
from dashboard.validation import ValidationResult, validate_events

# --- the comparison ------------------------------------------------------------------------


def outcome(path: Path, **kwargs: Any) -> ReadResult | Exception:
    """What ``read_events`` returns, or the exception it raises."""
    try:
        return read_events(path, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the error itself is the outcome compared
        return exc


def validated(read: ReadResult) -> ValidationResult | Exception:
    """What ``validate_events`` returns, or the exception it raises (a missing column)."""
    try:
        return validate_events(read)
    except Exception as exc:  # noqa: BLE001 - the error itself is the outcome compared
        return exc


def assert_same(fast: ReadResult | Exception, slow: ReadResult | Exception) -> None:
    """The fast path's outcome equals the slow path's, through validation."""
    if isinstance(slow, Exception) or isinstance(fast, Exception):
        assert (type(fast), str(fast)) == (type(slow), str(slow))
        return
    assert slow.parser == "csv"
    pd.testing.assert_frame_equal(fast.frame, slow.frame)
    pd.testing.assert_frame_equal(fast.set_aside, slow.set_aside)
    assert fast.problems == slow.problems
    assert (fast.rows_in, fast.format, fast.encoding, fast.delimiter) == (
        slow.rows_in,
        slow.format,
        slow.encoding,
        slow.delimiter,
    )
    assert fast.rows_in == len(fast.frame) + len(fast.set_aside)
    checked_fast, checked_slow = validated(fast), validated(slow)
    if isinstance(checked_slow, Exception) or isinstance(checked_fast, Exception):
        assert (type(checked_fast), str(checked_fast)) == (type(checked_slow), str(checked_slow))
        return
    pd.testing.assert_frame_equal(checked_fast.events, checked_slow.events)
    pd.testing.assert_frame_equal(checked_fast.rejected, checked_slow.rejected)
    assert checked_fast.report.to_dict() == checked_slow.report.to_dict()
    assert checked_fast.report.balanced


def read_both(path: Path, **kwargs: Any) -> ReadResult:
    """Read with and without the fast path, check they agree; the fast path's result."""
    fast = outcome(path, **kwargs)
    assert_same(fast, outcome(path, fast=False, **kwargs))
    if isinstance(fast, Exception):
        raise fast
    return fast


def write(tmp_path: Path, data: str | bytes, *, name: str = "events.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


# --- every reader and validation test again, each read checked -----------------------------

# Collected here under their own names: the autouse fixture below routes each of their
# read_events calls through read_both, so every fixture they write is read both ways.
for _module in (reader_tests, validation_tests):
    for _name, _test in vars(_module).items():
        if _name.startswith("test_") and callable(_test):
            globals()[f"test_both_paths__{_module.__name__}__{_name}"] = _test


@pytest.fixture(autouse=True)
def _read_both_ways_in_the_rerun_tests(request, monkeypatch):
    if request.function.__module__ == __name__:
        return
    for module in (reader_tests, validation_tests, validation):
        monkeypatch.setattr(module, "read_events", read_both)


def test_the_rerun_tests_are_collected_and_read_both_ways():
    # The re-runs compare only while those modules call read_events through a module name
    # the fixture can replace; otherwise they would pass without comparing anything.
    for module in (reader_tests, validation_tests, validation):
        assert getattr(module, "read_events", None) is read_events
    assert sum(name.startswith("test_both_paths__") for name in globals()) >= 50


# --- real and synthetic files: the fast path is taken, and agrees ------------------------


def test_bundled_events_take_the_fast_path():
    result = read_both(paths.BUNDLED_EVENTS)
    assert (result.parser, result.fallback) == ("pyarrow", None)
    assert len(result.frame) > 0


@pytest.mark.parametrize("layout", ["acled", "canonical"])
def test_synthetic_files_take_the_fast_path(tmp_path, layout):
    write_synthetic(tmp_path, events=2_000, areas=1, vertices=8, seed=3, layout=layout)
    result = read_both(tmp_path / EVENTS_FILE)
    assert result.format == layout
    assert (result.parser, result.fallback) == ("pyarrow", None)
    assert result.rows_in == 2_000
    assert result.frame[schema.SOURCE_ROW].tolist() == list(range(1, 2_001))


def test_acled_duplicates_on_the_fast_path(tmp_path):
    # The set-aside rows of the fast path come from ACLED duplicates, not from the parser
    write_synthetic(tmp_path, events=200, areas=1, vertices=8, seed=4, layout="acled")
    path = tmp_path / EVENTS_FILE
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    newer = next(csv.reader([lines[5]]))
    newer[-1] = str(int(newer[-1]) + 1)  # timestamp, the last ACLED column
    path.write_text("".join(lines) + ",".join(newer) + "\n", encoding="utf-8")
    result = read_both(path)
    assert result.parser == "pyarrow"
    assert result.set_aside[schema.SOURCE_ROW].tolist() == [5]
    assert result.set_aside[schema.REJECT_REASON].iloc[0].startswith("superseded")


UCDP_MAPPINGS = {
    "ucdp_ged_sample_syria_iraq_2014_2018_dated.csv": {
        **validation_tests.UCDP_SIDES,
        "date": "event_date",
        "best": "fatalities",
        "type_of_violence": "ucdp_type_of_violence",
    },
    "ucdp_ged_syria_iraq_2014_2018_no_dates.csv": {**validation_tests.UCDP_SIDES, "year": "year"},
}


@pytest.mark.shared_data
@pytest.mark.parametrize("name", sorted(UCDP_MAPPINGS))
def test_real_ucdp_extracts_agree(shared_data, name):
    path = shared_data / name
    if not path.is_file():
        pytest.skip(f"{path} not found")
    for kwargs in ({}, {"mapping": UCDP_MAPPINGS[name]}):
        result = read_both(path, **kwargs)
        assert (result.parser, result.fallback) == ("pyarrow", None)


@pytest.mark.shared_data
def test_every_real_csv_agrees(shared_data):
    for path in sorted(shared_data.glob("*.csv")):
        read_both(path)


# --- each fallback trigger falls back, and the answer is still the slow path's --------------

HEADER = "event_id,event_date,latitude,longitude,notes\n"
ROW = "a{},2017-11-09,36.2,37.1,quiet\n"
CLEAN = HEADER + ROW.format(1) + ROW.format(2)

FALLBACKS = {
    "cp1256": (
        (HEADER + "a1,2017-11-09,36.2,37.1,حلب\n").encode("cp1256"),
        "encoding cp1256",
    ),
    "utf-16": (CLEAN.replace(",", "\t").encode("utf-16"), "encoding utf-16"),
    "one column": ("event_id\na1\n\na2\n", "1 column(s)"),
    "NUL after a BOM": (
        ("\ufeff" + HEADER + "a1,2017-11-09,36.2,37.1,x\x00y\n").encode(),
        "a NUL byte",
    ),
    "old Mac line ends": (CLEAN.replace("\n", "\r"), "carriage return"),
    "CR inside a field": (HEADER + "a1,2017-11-09,36.2,37.1,x\ry\n", "carriage return"),
    "too many fields": (CLEAN + "a3,2017-11-09,36.2,37.1,x,surplus\n", "pyarrow cannot parse"),
    "too few fields": (CLEAN + "a3,2017-11-09\n", "pyarrow cannot parse"),
    "another delimiter further down": (
        CLEAN + "a3;2017-11-09;36.2;37.1;x\n",
        "pyarrow cannot parse",
    ),
    "a quote swallowing a delimiter": (
        HEADER + 'a1,2017-11-09,36.2,"37.1,x\n' + ROW.format(2),
        "pyarrow cannot parse",
    ),
    "unterminated quote": (
        HEADER + 'a1,2017-11-09,36.2,37.1,"never closed\n' + ROW.format(2),
        "records on",
    ),
    "line break in a quoted field": (
        HEADER + 'a1,2017-11-09,36.2,37.1,"two\nlines"\n' + ROW.format(2),
        "records on",
    ),
    "CRLF in a quoted field": (
        (HEADER + 'a1,2017-11-09,36.2,37.1,"two\nlines"\n' + ROW.format(2)).replace("\n", "\r\n"),
        "records on",
    ),
    "blank line": (HEADER + ROW.format(1) + "\n" + ROW.format(2), "records on"),
    "blank line before the header": ("\n" + CLEAN, "records on"),
    "blank lines at the end": (CLEAN + "\n\n", "records on"),
    "whitespace-only line": (HEADER + ROW.format(1) + "   \n" + ROW.format(2), "pyarrow cannot"),
    "header only": (HEADER, "no data rows"),
    "field over the csv size limit": (
        HEADER + "a1,2017-11-09,36.2,37.1," + "x" * (csv.field_size_limit() + 1) + "\n",
        "field size limit",
    ),
}


@pytest.mark.parametrize("case", sorted(FALLBACKS))
def test_fallback_triggers(tmp_path, case):
    data, reason = FALLBACKS[case]
    path = write(tmp_path, data)
    fast = outcome(path)
    assert_same(fast, outcome(path, fast=False))
    if not isinstance(fast, Exception):
        assert fast.parser == "csv"
        assert reason in fast.fallback


def test_a_field_over_the_size_limit_still_raises_the_slow_paths_error(tmp_path):
    data, _ = FALLBACKS["field over the csv size limit"]
    with pytest.raises(InputFileError, match="broken CSV"):
        read_both(write(tmp_path, data))


def test_a_quoted_line_break_keeps_its_line_numbers(tmp_path):
    data, _ = FALLBACKS["line break in a quoted field"]
    result = read_both(write(tmp_path, data + "a3,2017-11-09,36.2\n"))
    assert result.parser == "csv"
    assert result.set_aside[schema.REJECT_REASON].tolist() == [
        "ragged row: 3 fields where the header has 5 (too few fields, line 5)"
    ]


def test_fast_false_turns_the_fast_path_off(tmp_path):
    result = read_events(write(tmp_path, CLEAN), fast=False)
    assert result.parser == "csv" and "turned off" in result.fallback


# --- clean variants the fast path does take ------------------------------------------------

FAST = {
    "clean": CLEAN,
    "UTF-8 BOM": "\ufeff" + CLEAN,
    "CRLF line ends": CLEAN.replace("\n", "\r\n"),
    "no final newline": CLEAN.rstrip("\n"),
    "semicolons and decimal commas": CLEAN.replace(",", ";").replace(".", ","),
    "tabs": CLEAN.replace(",", "\t"),
    "quoted fields with delimiters and doubled quotes": (
        HEADER + 'a1,2017-11-09,36.2,37.1,"x, ""y"""\n' + '"a2","2017-11-10","1","2",""\n'
    ),
    "stray quotes inside and after fields": (
        HEADER + 'a1,2017-11-09,36.2,37.1,ab"c\n' + 'a2,2017-11-10,1,2,"ab"c\n'
    ),
    "a quote left open on the last line": HEADER + 'a1,2017-11-09,36.2,37.1,"open\n',
    "NA spellings and spaces": HEADER + "a1, NA ,null, ,#N/A\na2,None,N/A,n/a,NaN\n",
    "reserved and duplicate column names": (
        "event_id,source_row,notes,notes\na1,7,x,y\na2,8,z,w\n"
    ),
    "Arabic and a BOM inside the text": HEADER + "a1,2017-11-09,36.2,37.1,حلب \ufeff\n",
    # The sniffer reads the header whole, however far past its 64 KB sample it runs.
    "header longer than the sniffing sample": "a," + "b" * 70_000 + "\n1,2\n",
    # str.splitlines would break at these; neither csv reader does
    "Unicode line separators inside fields": (
        HEADER + "a1,2017-11-09,36.2,37.1,x\x0by\x0cz\x1c\x1d\x1e\x85\u2028\u2029\n"
    ),
}


@pytest.mark.parametrize("case", sorted(FAST))
def test_clean_variants_take_the_fast_path(tmp_path, case):
    result = read_both(write(tmp_path, FAST[case]))
    assert (result.parser, result.fallback) == ("pyarrow", None)


@pytest.mark.parametrize("chunk", [3, 7, 64])
def test_crlf_split_across_scan_chunks_is_still_a_line_end(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(fastcsv, "_CHUNK_BYTES", chunk)
    crlf = read_both(write(tmp_path, CLEAN.replace("\n", "\r\n")))
    assert (crlf.parser, crlf.fallback) == ("pyarrow", None)
    lone = read_both(write(tmp_path, CLEAN.replace("\n", "\r\n") + "a3,x\r", name="cr.csv"))
    assert lone.parser == "csv" and "carriage return" in lone.fallback


def test_headerless_ucdp_takes_the_fast_path_numbering_from_the_first_line(tmp_path):
    # The layout (49 UCDP columns, first line is data) is decided before either parser runs
    rows = [{**reader_tests.UCDP_ROW, "id": str(i)} for i in (100, 101, 102)]
    text = reader_tests.to_csv(schema.UCDP_GED_COLUMNS, rows).split("\n", 1)[1]
    result = read_both(write(tmp_path, text))
    assert (result.format, result.parser) == ("ucdp", "pyarrow")
    assert result.frame[schema.EVENT_ID].tolist() == ["100", "101", "102"]
    assert result.frame[schema.SOURCE_ROW].tolist() == [1, 2, 3]


# --- seeded random files: whichever path is taken, the answer is the same -------------------

PIECES = ["1", "x", "", " ", "NA", " null ", '"q"', '"a""b"', 'x"y', '"open', '"a,b"', "حلب"]
PIECES += ["\u2028", "\x85"]
ODD = ["\n", "\r\n", "\r", '"a\nb"', "\x00", "\ufeff", "\t", ";", ","]


def random_file(rng: random.Random) -> str:
    delimiter = rng.choice([",", ",", ";", "\t"])
    width = rng.randint(2, 5)
    lines = [delimiter.join(f"c{i}" for i in range(width))]
    for _ in range(rng.randint(0, 6)):
        n = width + (rng.random() < 0.05) * rng.choice([-1, 1])
        cells = [rng.choice(ODD if rng.random() < 0.05 else PIECES) for _ in range(n)]
        lines.append(delimiter.join(cells))
    return rng.choice(["\n", "\r\n"]).join(lines) + rng.choice(["", "\n", "\n", "\n\n"])


def test_random_files_agree(tmp_path):
    rng = random.Random(20240501)
    taken = 0
    for i in range(200):
        path = write(tmp_path, random_file(rng), name=f"random{i}.csv")
        fast = outcome(path)
        assert_same(fast, outcome(path, fast=False))
        taken += not isinstance(fast, Exception) and fast.parser == "pyarrow"
    assert taken >= 30  # the fast path is exercised, not only the fallbacks
