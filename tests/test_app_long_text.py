"""Very long text in the page's tables: cut in the table, whole in the downloads.

A cell of 100,000 characters travels to the browser on every rerun and is read by nobody;
the table shows its first 2,000 characters (ending in an ellipsis) and says so, and the
CSV download holds every character.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest
from app_fixtures import EVENT_ROWS, write_inputs
from streamlit.testing.v1 import AppTest
from test_app_uploads import _download, media  # noqa: F401 (pytest fixture)

from dashboard import paths
from dashboard.app.loaders import AREAS_ENV, EVENTS_ENV
from dashboard.app.safetext import TABLE_CELL_MAX_CHARS, cap_cells

# Each test builds into a cache of its own (app_fixtures.private_build_cache).
pytestmark = pytest.mark.usefixtures("private_build_cache")

APP = str(Path(paths.PACKAGE_DIR) / "app" / "main.py")
NOTE = "n" * 100_000
ACTOR = "A" * 5_000
LONG_ROW = (
    f"LONG1,2017-11-14,Battles,Armed clash,{ACTOR},Islamic State,Iraq,Ninewa,Mosul,Mosul,"
    f"36.32,43.14,1,1,2,Reuters,{NOTE}"
)


@pytest.fixture
def long_text(tmp_path, monkeypatch):
    events, areas = write_inputs(tmp_path / "data", rows=[*EVENT_ROWS, LONG_ROW])
    monkeypatch.setenv(EVENTS_ENV, str(events))
    monkeypatch.setenv(AREAS_ENV, str(areas))


@pytest.mark.usefixtures("long_text")
def test_long_cells_are_cut_in_the_table_and_whole_in_the_csv(media):  # noqa: F811
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    table = next(d.value for d in at.dataframe if "event_id" in d.value.columns)
    row = table.set_index("event_id").loc["LONG1"]
    assert row["notes"] == "n" * (TABLE_CELL_MAX_CHARS - 1) + "\u2026"
    assert row["actor1"] == "A" * (TABLE_CELL_MAX_CHARS - 1) + "\u2026"
    assert table.set_index("event_id").loc["IRQ6", "notes"] == "Outside every area"
    captions = [c.value for c in at.caption]
    assert any("2 text cells are longer than 2,000 characters" in c for c in captions), captions
    rows = list(csv.DictReader(io.StringIO(_download(at, media, "Download CSV").decode())))
    long = next(r for r in rows if r["event_id"] == "LONG1")
    assert long["notes"] == NOTE and long["actor1"] == ACTOR


def test_cap_cells_cuts_text_only():
    frame = pd.DataFrame(
        {
            "text": ["x" * 10, "short", None],
            "number": [1.5, -2.0, None],
            "objects": [12345678901234, "y" * 12, float("nan")],
            "strings": pd.Series(["z" * 11, "ok", pd.NA], dtype="string"),
        }
    )
    capped, cut = cap_cells(frame, limit=8)
    assert cut == 3
    assert capped["text"].tolist()[:2] == ["x" * 7 + "\u2026", "short"]
    assert capped["objects"].tolist()[:2] == [12345678901234, "y" * 7 + "\u2026"]
    assert capped["strings"].tolist()[:2] == ["z" * 7 + "\u2026", "ok"]
    assert capped["number"].equals(frame["number"])
    assert frame["text"][0] == "x" * 10  # the caller's frame is left alone
    same, none = cap_cells(frame, limit=100)
    assert same is frame and none == 0
