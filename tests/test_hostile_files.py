"""Hostile headers and lines: the event readers stay linear, capped and clean.

A header of thousands of columns all named ``x``, a header longer than the sniffing
sample, a line longer than any real record, a file with no line break at all: each is
read correctly or refused with one line naming the file, the limit, what was found and
the setting that raises the limit, after reading a bounded number of bytes. The CLI, the
page's uploads and the Dask build's ranges meet the same limits (the same reader
functions). A real sheet wider or with longer lines than the defaults is read once
``CONFLICTMAP_MAX_COLUMNS`` / ``CONFLICTMAP_MAX_LINE_MB`` raise them.

How long the reading takes is measured in ``benchmarks/bench_headers.py``, not here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cli_runner import run_cli

from dashboard import schema
from dashboard.errors import InputFileError, SchemaError, SettingError
from dashboard.readers import fastcsv, read_events, textio
from dashboard.readers.events import sniff_layout
from dashboard.report import WARNING

# Each test builds into a cache of its own (app_fixtures.private_build_cache).
pytestmark = pytest.mark.usefixtures("private_build_cache")

MAX_COLUMNS = textio.MAX_COLUMNS
MAX_LINE = textio.MAX_LINE_BYTES
HEADER = "event_id,event_date,latitude,longitude"
ROW = "a1,2017-11-09,36.2,37.1"
# A subprocess that has not answered in this long is stuck, not slow (the machine is shared).
CLI_TIMEOUT = 300


def write(tmp_path: Path, data: str | bytes, *, name: str = "events.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def bytes_read() -> int:
    """Bytes this process has read through read() calls so far (Linux ``/proc/self/io``)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar in /proc/self/io")


def warnings_of(result) -> list[str]:
    return [p.message for p in result.problems if p.severity == WARNING]


# --- many columns ---------------------------------------------------------------------------


@pytest.mark.parametrize("fast", [True, False])
def test_one_column_over_the_limit_is_refused_naming_file_limit_and_count(tmp_path, fast):
    names = [f"c{i}" for i in range(MAX_COLUMNS + 1)]
    path = write(tmp_path, ",".join(names) + "\n" + ",".join("1" for _ in names) + "\n")
    with pytest.raises(InputFileError) as caught:
        read_events(path, fast=fast)
    message = str(caught.value)
    assert message.startswith(f"{path}: "), message
    assert f"the header has {MAX_COLUMNS + 1:,} columns" in message, message
    assert f"at most {MAX_COLUMNS:,} are read" in message, message


def test_columns_at_the_limit_all_named_alike_are_renamed_once_each(tmp_path):
    path = write(tmp_path, ",".join(["x"] * MAX_COLUMNS) + "\n" + ",".join(["1"] * MAX_COLUMNS))
    result = read_events(path)
    columns = [c for c in result.frame.columns if c != schema.SOURCE_ROW]
    assert columns == ["x"] + [f"x.{k}" for k in range(1, MAX_COLUMNS)]
    assert result.frame.shape[0] == 1 and result.set_aside.empty
    repeated = [m for m in warnings_of(result) if "appears" in m]
    # One warning for the name, not one per copy: the report stays readable.
    assert len(repeated) == 1, repeated[:3]
    assert f"column 'x' appears {MAX_COLUMNS:,} times" in repeated[0], repeated[0]
    assert "x.1, x.2" in repeated[0] and f"x.{MAX_COLUMNS - 1}" in repeated[0], repeated[0]


def test_a_renamed_duplicate_skips_names_the_file_already_has(tmp_path):
    path = write(tmp_path, "x,x,x.1,x,y\n1,2,3,4,5\n")
    result = read_events(path)
    assert list(result.frame.columns[:5]) == ["x", "x.1", "x.1.1", "x.2", "y"]
    assert result.frame.iloc[0, :5].tolist() == ["1", "2", "3", "4", "5"]
    repeated = sorted(m for m in warnings_of(result) if "appears" in m)
    assert repeated == [
        "column 'x' appears 3 times; the later ones are called x.1, x.2",
        "column 'x.1' appears twice; the later one is called x.1.1",
    ]


def test_many_unnamed_columns_get_one_warning(tmp_path):
    path = write(tmp_path, HEADER + ",,,\n" + ROW + ",p,q,r\n")
    result = read_events(path)
    assert list(result.frame.columns[4:7]) == ["column_5", "column_6", "column_7"]
    unnamed = [m for m in warnings_of(result) if "no name" in m]
    assert unnamed == ["columns 5, 6, 7 have no name; called column_5, column_6, column_7"]


def test_a_mapping_error_on_a_wide_header_lists_a_few_columns(tmp_path):
    names = [f"c{i}" for i in range(1_500)]
    path = write(tmp_path, ",".join(names) + "\n" + ",".join("1" for _ in names) + "\n")
    with pytest.raises(SchemaError) as caught:
        read_events(path, mapping={"lat": "latitude"})
    message = str(caught.value)
    assert "mapped column 'lat' is not in the file" in message, message[:300]
    shown = ", ".join(f"c{i}" for i in range(textio.MAX_LISTED - 1))
    assert message.endswith(f"(columns in the file: {shown}, ..., c1499 (1,500 in all))"), message


# --- a header longer than the sniffing sample ---------------------------------------------------


@pytest.mark.parametrize("fast", [True, False])
def test_a_header_longer_than_the_sniffing_sample_is_read_whole(tmp_path, fast):
    extras = [f"analyst_field_{i:04d}_" + "n" * 60 for i in range(1_000)]  # about 80 KB
    assert len(",".join(extras)) > 64 * 1024
    path = write(
        tmp_path,
        ",".join([HEADER, *extras]) + "\n" + ",".join([ROW, *(["v"] * len(extras))]) + "\n",
    )
    result = read_events(path, fast=fast)
    columns = [c for c in result.frame.columns if c != schema.SOURCE_ROW]
    assert columns == HEADER.split(",") + extras
    assert len(result.frame) == 1 and result.set_aside.empty
    assert not [m for m in warnings_of(result) if "appears" in m]


def test_a_header_longer_than_the_sniffing_sample_keeps_its_delimiter(tmp_path):
    # Semicolons: a header cut inside the sample could make a comma look like the delimiter.
    extras = [f"feld,{i:04d}" + "n" * 70 for i in range(1_000)]
    path = write(
        tmp_path,
        ";".join([*HEADER.split(","), *extras])
        + "\n"
        + ";".join([*ROW.split(","), *(["v"] * len(extras))])
        + "\n",
    )
    layout = sniff_layout(path)
    assert layout.delimiter == ";" and layout.columns[4:] == extras


def test_a_header_over_the_line_limit_is_refused(tmp_path):
    names = [f"c{i:04d}" + "n" * 1_000 for i in range(MAX_LINE // 1_000 + 10)]
    path = write(tmp_path, ",".join(names) + "\n1,2\n")
    with pytest.raises(InputFileError) as caught:
        read_events(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: line 1 is longer than 1.0 MB"), message


def test_a_header_after_a_megabyte_of_blank_lines_is_refused(tmp_path):
    path = write(tmp_path, "\n" * (MAX_LINE + 10) + HEADER + "\n" + ROW + "\n")
    with pytest.raises(InputFileError, match="no header in the first 1.0 MB"):
        read_events(path)


# --- lines longer than the limit ------------------------------------------------------------------


def test_a_file_without_line_breaks_is_refused_after_reading_a_bounded_amount(tmp_path):
    # 16 MB of one "word": no delimiter, no line break (a blob saved as .csv).
    path = write(tmp_path, b"x" * (16 * MAX_LINE))
    before = bytes_read()
    with pytest.raises(InputFileError) as caught:
        read_events(path)
    read = bytes_read() - before
    message = str(caught.value)
    assert message.startswith(f"{path}: line 1 is longer than 1.0 MB"), message
    assert f"more than {MAX_LINE:,} bytes" in message, message
    assert read < 4 * MAX_LINE, f"{read:,} bytes read to refuse it"


@pytest.mark.parametrize("fast", [True, False])
def test_a_data_line_over_the_limit_is_refused_naming_the_line(tmp_path, fast):
    # Many short fields: the csv module would read it as one ragged row, whole, in memory.
    long_line = ROW + ",x" * (MAX_LINE // 2)
    path = write(tmp_path, HEADER + "\n" + ROW + "\n" + long_line + "\n" + ROW + "\n")
    with pytest.raises(InputFileError) as caught:
        read_events(path, fast=fast)
    message = str(caught.value)
    assert message.startswith(f"{path}: line 3 is longer than 1.0 MB"), message


def test_line_lengths_count_carriage_returns_as_line_ends(tmp_path):
    # A classic-Mac export (CR line ends only) of more than a megabyte is many short lines.
    rows = "\r".join([HEADER] + [ROW] * (MAX_LINE // len(ROW) + 100)) + "\r"
    path = write(tmp_path, rows)
    result = read_events(path)
    assert len(result.frame) == MAX_LINE // len(ROW) + 100


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_line_lengths_of_wide_encodings_are_measured_by_their_line_ends(tmp_path, encoding):
    # In UTF-16 and UTF-32 the byte 0x0A is part of other characters too (U+0A0A, U+010A).
    text = HEADER + ",note\n" + ROW + ",\u0a0a\u010a\n"
    assert read_events(write(tmp_path, text.encode(encoding))).frame["note"].tolist() == [
        "\u0a0a\u010a"
    ]
    long_line = ROW + "," + "\u0a0a" * (MAX_LINE + 1)
    path = write(tmp_path, (HEADER + ",note\n" + long_line + "\n").encode(encoding), name="l.csv")
    with pytest.raises(InputFileError, match="line 2 is longer than"):
        read_events(path)


def test_a_ragged_row_with_many_fields_keeps_its_raw_text(tmp_path):
    wide = ROW + ",x" * 5_000
    path = write(tmp_path, HEADER + "\n" + wide + "\n" + ROW + "\n")
    result = read_events(path)
    assert len(result.frame) == 1
    (reason,) = result.set_aside[schema.REJECT_REASON].tolist()
    assert reason.startswith("ragged row: 5004 fields where the header has 4"), reason
    assert result.set_aside[schema.RAW_RECORD].tolist() == [wide]


def test_a_dask_range_holding_a_line_over_the_limit_is_declined(tmp_path):
    long_line = ROW + ",x" * (MAX_LINE // 2)
    data = HEADER + "\n" + ROW + "\n" + long_line + "\n"
    path = write(tmp_path, data)
    start = len(HEADER) + 1
    got = fastcsv.read_range(
        path,
        start,
        len(data),
        delimiter=",",
        columns=HEADER.split(","),
        has_header=False,
        first=HEADER.split(","),
    )
    assert got.table is None
    assert "line 2 of the range is longer than the line limit" in got.fallback, got.fallback


# --- the CLI and the page ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ((",".join(["x"] * 40_000) + "\n").encode(), "the header has 40,000 columns"),
        (b"x," * (2 * MAX_LINE), "line 1 is longer than 1.0 MB"),
    ],
    ids=["40k-duplicate-columns", "no-line-break"],
)
def test_validate_refuses_a_file_over_a_limit_in_one_line(tmp_path, data, expected):
    path = write(tmp_path, data)
    done = run_cli("validate", str(path), timeout=CLI_TIMEOUT)
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert str(path) in lines[0] and expected in lines[0], lines[0]
    assert "Traceback" not in done.stderr + done.stdout


@pytest.mark.usefixtures("tiny")
def test_an_upload_over_the_column_limit_shows_one_error_and_keeps_the_data():
    from streamlit.testing.v1 import AppTest

    from dashboard import paths

    at = AppTest.from_file(str(Path(paths.PACKAGE_DIR) / "app" / "main.py"), default_timeout=120)
    at.run()
    before = "\n".join(t.value for t in at.sidebar.text)
    wide = (",".join(["x"] * 40_000) + "\n").encode()
    at.file_uploader(key="up_events").set_value(("wide.csv", wide, "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    # What a reader sees of the escaped markdown: backslash escapes and zero-width spaces gone.
    errors = [re.sub(r"\\(.)", r"\1", e.value).replace("\u200b", "") for e in at.error]
    assert len(errors) == 1, errors
    assert errors[0].startswith("Could not use wide.csv: wide.csv: the header has 40,000 columns")
    assert "at most 2,000 are read" in errors[0], errors[0]
    assert "\n".join(t.value for t in at.sidebar.text) == before


# --- raising the limits -------------------------------------------------------------------------

WIDE = 2_500  # a real analyst sheet: more columns than the default limit
COLUMNS_ENV = textio.MAX_COLUMNS_ENV
LINE_ENV = textio.MAX_LINE_MB_ENV


@pytest.fixture
def default_limits(monkeypatch):
    """Neither setting set: the defaults, whatever the environment running the tests says."""
    monkeypatch.delenv(COLUMNS_ENV, raising=False)
    monkeypatch.delenv(LINE_ENV, raising=False)
    return monkeypatch


def wide_sheet(tmp_path: Path, *, value: str = "v", rows: int = 2) -> tuple[Path, list[str]]:
    """The four columns events need and ``WIDE`` more, ``rows`` rows of ``value``."""
    extras = [f"analyst_{i:04d}" for i in range(WIDE)]
    line = ",".join([ROW, *([value] * WIDE)])
    text = ",".join([HEADER, *extras]) + "\n" + "\n".join([line] * rows) + "\n"
    return write(tmp_path, text), extras


@pytest.mark.parametrize("fast", [True, False])
def test_a_wider_sheet_is_refused_naming_the_setting_and_read_once_it_is_raised(
    tmp_path, default_limits, fast
):
    path, extras = wide_sheet(tmp_path)
    with pytest.raises(InputFileError) as caught:
        read_events(path, fast=fast)
    message = str(caught.value)
    assert message.startswith(f"{path}: the header has {WIDE + 4:,} columns"), message
    assert "delete the columns you do not need" in message, message
    assert message.endswith(f"or raise the limit with {COLUMNS_ENV}=3000"), message
    # Set after the modules were imported: the setting is read when a file is.
    default_limits.setenv(COLUMNS_ENV, "3000")
    result = read_events(path, fast=fast)
    assert [c for c in result.frame.columns if c != schema.SOURCE_ROW] == HEADER.split(",") + extras
    assert len(result.frame) == 2 and result.set_aside.empty


@pytest.mark.parametrize("fast", [True, False])
def test_longer_lines_are_refused_naming_the_setting_and_read_once_it_is_raised(
    tmp_path, default_limits, fast
):
    default_limits.setenv(COLUMNS_ENV, "3000")
    path, _ = wide_sheet(tmp_path, value="v" * 600)  # lines of 1.5 MB
    with pytest.raises(InputFileError) as caught:
        read_events(path, fast=fast)
    message = str(caught.value)
    assert message.startswith(f"{path}: line 2 is longer than 1.0 MB"), message
    assert message.endswith(f"If so, raise the limit with {LINE_ENV}=2"), message
    default_limits.setenv(LINE_ENV, "2")
    result = read_events(path, fast=fast)
    assert len(result.frame) == 2 and result.set_aside.empty
    assert set(result.frame["analyst_2499"]) == {"v" * 600}
    # The fast path reads in blocks that hold such a line (not declined for its length).
    assert result.parser == ("pyarrow" if fast else "csv"), result.fallback


def test_a_file_without_line_breaks_is_still_refused_under_a_raised_limit(tmp_path, default_limits):
    default_limits.setenv(LINE_ENV, "4")
    path = write(tmp_path, b"x" * (16 * MAX_LINE))
    before = bytes_read()
    with pytest.raises(InputFileError) as caught:
        read_events(path)
    read = bytes_read() - before
    assert str(caught.value).startswith(f"{path}: line 1 is longer than 4.0 MB"), caught.value
    assert str(caught.value).endswith(f"raise the limit with {LINE_ENV}=8"), caught.value
    assert read < 4 * 4 * MAX_LINE, f"{read:,} bytes read to refuse it"


@pytest.mark.parametrize(
    ("name", "value", "unit"),
    [
        (COLUMNS_ENV, "lots", "columns"),
        (COLUMNS_ENV, "0", "columns"),
        (COLUMNS_ENV, "-3000", "columns"),
        (COLUMNS_ENV, "2.5", "columns"),
        (COLUMNS_ENV, "10000000", "columns"),
        (LINE_ENV, "1.5", "megabytes"),
        (LINE_ENV, "0", "megabytes"),
        (LINE_ENV, "1e6", "megabytes"),
    ],
)
def test_an_unusable_limit_setting_is_one_line_naming_it(
    tmp_path, default_limits, name, value, unit
):
    default_limits.setenv(name, value)
    path = write(tmp_path, HEADER + "\n" + ROW + "\n")
    with pytest.raises(SettingError) as caught:
        read_events(path)
    message = str(caught.value)
    assert message.startswith(f"{name}={value!r}: give a whole number of {unit} from 1 to "), (
        message
    )
    assert "\n" not in message


def test_limit_settings_accept_whole_numbers_with_separators(default_limits):
    assert textio.limits() == textio.Limits(columns=MAX_COLUMNS, line_bytes=MAX_LINE)
    limits = textio.limits({COLUMNS_ENV: " 3,000 ", LINE_ENV: "4"})
    assert limits == textio.Limits(columns=3_000, line_bytes=4 * 1024 * 1024)
    assert textio.limits({COLUMNS_ENV: "", LINE_ENV: "  "}) == textio.Limits()


def test_the_cli_reads_a_wider_sheet_with_the_setting_and_says_a_bad_one_in_one_line(
    tmp_path, default_limits
):
    path, _ = wide_sheet(tmp_path)
    done = run_cli("validate", str(path), timeout=CLI_TIMEOUT)
    assert done.returncode == 2, (done.stdout, done.stderr)
    (line,) = done.stderr.strip().splitlines()
    assert f"{COLUMNS_ENV}=3000" in line, line
    default_limits.setenv(COLUMNS_ENV, "3000")
    done = run_cli("validate", str(path), timeout=CLI_TIMEOUT)
    assert done.returncode in (0, 1), (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    default_limits.setenv(COLUMNS_ENV, "three thousand")
    done = run_cli("validate", str(path), timeout=CLI_TIMEOUT)
    assert done.returncode == 2, (done.stdout, done.stderr)
    (line,) = done.stderr.strip().splitlines()
    assert f"{COLUMNS_ENV}='three thousand': give a whole number of columns" in line, line


def test_a_dask_range_honours_the_line_limit_it_is_given(tmp_path, default_limits):
    path, extras = wide_sheet(tmp_path, value="v" * 600)
    columns = HEADER.split(",") + extras
    kwargs = {"delimiter": ",", "columns": columns, "has_header": True, "first": columns}
    size = path.stat().st_size
    declined = fastcsv.read_range(path, 0, size, **kwargs)
    assert declined.table is None and "longer than the line limit" in declined.fallback
    got = fastcsv.read_range(path, 0, size, max_line=2 * 1024 * 1024, **kwargs)
    assert got.table is not None, got.fallback
    assert len(got.table.frame) == 2


def test_the_dask_build_sends_the_clients_limits_to_its_workers(tmp_path, default_limits):
    # The worker process starts before the settings are made (as a cluster elsewhere never
    # sees them): the ranges are read on the worker with the client's limits all the same.
    from dashboard import distributed

    path, _ = wide_sheet(tmp_path, value="v" * 600, rows=3)
    with distributed.connect("local", workers=1) as client:
        default_limits.setenv(COLUMNS_ENV, "3000")
        default_limits.setenv(LINE_ENV, "2")
        result = distributed.build_distributed(
            path, client=client, output=tmp_path / "out", partition_rows=1
        )
    assert result.read_on_workers, result.notes[:1]
    assert result.event_report.rows_in == 3
    assert len(distributed.read_parts(tmp_path / "out")) == result.event_report.rows_loaded


def test_long_lists_in_reader_messages_are_shortened_one_way():
    assert textio.short_list(["a", "b"]) == "a, b"
    items = [f"c{i}" for i in range(textio.MAX_LISTED + 5)]
    shown = ", ".join(items[: textio.MAX_LISTED - 1])
    assert textio.short_list(items) == f"{shown}, ..., {items[-1]} ({len(items)} in all)"
    assert textio.short_list(["n" * 100]) == "n" * 37 + "..."  # a name can be a megabyte
    assert textio.short_list(items, limit=3) == f"c0, c1, ..., {items[-1]} ({len(items)} in all)"
