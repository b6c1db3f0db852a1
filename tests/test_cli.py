"""The conflictmap command as a user meets it: exit codes, reports, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from dashboard import paths

GOOD = (
    "event_id,event_date,event_type,country,location,latitude,longitude,fatalities,source\n"
    "a1,2017-11-09,Battles,Syria,Abu Kamal,34.45,40.92,,Reuters 2017-11-09\n"
    "a2,2017-11-19,Battles,Syria,Abu Kamal,34.45,40.92,3,Reuters 2017-11-19\n"
)
BAD = GOOD + "a3,2017-11-31,Battles,Syria,Abu Kamal,34.45,40.92,,x\n" + (
    "a4,2017-11-10,Battles,Syria,Nowhere,95,40.92,-4,x\n"
)


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONIOENCODING="utf-8")
    env.pop("CONFLICTMAP_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "dashboard", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=600,
    )


@pytest.fixture()
def good_csv(tmp_path):
    path = tmp_path / "good.csv"
    path.write_text(GOOD, encoding="utf-8")
    return path


@pytest.fixture()
def bad_csv(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(BAD, encoding="utf-8")
    return path


def test_help_lists_the_commands():
    out = run("--help")
    assert out.returncode == 0
    for command in ("validate", "geocode", "build", "serve"):
        assert command in out.stdout


def test_validate_clean_file_exits_0(good_csv):
    out = run("validate", str(good_csv))
    assert out.returncode == 0, out.stderr
    assert "2 rows in, 2 loaded, 0 set aside" in out.stdout


def test_validate_errors_exit_1_and_name_rows(bad_csv):
    out = run("validate", str(bad_csv))
    assert out.returncode == 1, out.stderr
    assert "row 3" in out.stdout and "row 4" in out.stdout
    assert "Traceback" not in out.stdout + out.stderr


def test_validate_json_shape(bad_csv):
    out = run("validate", str(bad_csv), "--format", "json")
    assert out.returncode == 1
    report = json.loads(out.stdout)
    assert report["rows_in"] == 4
    assert report["rows_loaded"] == 2
    assert report["rows_rejected"] == 2
    rows = {e["row"] for e in report["errors"]}
    assert rows == {3, 4}
    assert set(report["errors"][0]) == {"row", "column", "value", "message"}
    assert isinstance(report["warnings"], list)


def test_validate_missing_file_exits_2(tmp_path):
    out = run("validate", str(tmp_path / "nope.csv"))
    assert out.returncode == 2
    assert "nope.csv" in out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr


def test_validate_binary_garbage_exits_2_without_traceback(tmp_path):
    path = tmp_path / "garbage.csv"
    path.write_bytes(bytes(range(256)) * 8)
    out = run("validate", str(path))
    assert out.returncode == 2
    assert "garbage.csv" in out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr


def test_validate_missing_columns_names_them(tmp_path):
    path = tmp_path / "lon.csv"
    path.write_text("event_date,lat,lon\n2017-01-01,34,40\n", encoding="utf-8")
    out = run("validate", str(path))
    assert out.returncode == 2
    assert "longitude" in out.stdout + out.stderr
    assert "lon" in out.stdout + out.stderr


def test_geocode_fills_coordinates(tmp_path):
    path = tmp_path / "names.csv"
    path.write_text(
        "event_date,country,location\n2017-11-09,Syria,البوكمال\n2017-11-09,Syria,Xyzzyqq\n",
        encoding="utf-8",
    )
    out_csv = tmp_path / "out.csv"
    out = run("geocode", str(path), "-o", str(out_csv))
    assert out.returncode == 0, out.stderr
    frame = pd.read_csv(out_csv)
    assert len(frame) == 2
    assert abs(frame.loc[0, "latitude"] - 34.45) < 0.1
    assert frame.loc[1, "geocode_method"] == "unmatched"
    assert "Xyzzyqq" in out.stdout


def test_build_bundled_writes_geoparquet_and_summary(tmp_path):
    out_path = tmp_path / "demo.parquet"
    out = run("build", str(paths.BUNDLED_EVENTS), "-o", str(out_path), "--json")
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["rows_in"] == summary["rows_loaded"] + summary["rows_rejected"]
    assert "Islamic State" in summary["controllers"]
    assert out_path.exists()
    assert "\x1b[" not in out.stdout + out.stderr  # no progress bar when piped


def test_build_with_bad_rows_writes_rejected(bad_csv, tmp_path):
    out_path = tmp_path / "bad.parquet"
    out = run("build", str(bad_csv), "-o", str(out_path))
    assert out.returncode == 0, out.stderr
    rejected = pd.read_csv(out_path.with_suffix(".rejected.csv"))
    assert len(rejected) == 2
    assert rejected["reject_reason"].str.len().gt(0).all()
