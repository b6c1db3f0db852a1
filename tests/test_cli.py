"""The conflictmap command as a user meets it: exit codes, reports, never a traceback."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pandas as pd
import pytest
from cli_runner import run_cli as run

from dashboard import paths

GOOD = (
    "event_id,event_date,event_type,country,location,latitude,longitude,fatalities,source\n"
    "a1,2017-11-09,Battles,Syria,Abu Kamal,34.45,40.92,,Reuters 2017-11-09\n"
    "a2,2017-11-19,Battles,Syria,Abu Kamal,34.45,40.92,3,Reuters 2017-11-19\n"
)
BAD = (
    GOOD
    + "a3,2017-11-31,Battles,Syria,Abu Kamal,34.45,40.92,,x\n"
    + ("a4,2017-11-10,Battles,Syria,Nowhere,95,40.92,-4,x\n")
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
    assert out.returncode == 1, out.stderr  # rows set aside: as validate says it
    assert "built with 2 event rows set aside (exit 1)" in out.stdout
    assert out_path.exists()
    rejected = pd.read_csv(out_path.with_suffix(".rejected.csv"))
    assert len(rejected) == 2
    assert rejected["reject_reason"].str.len().gt(0).all()


def test_build_with_every_row_set_aside_exits_2_and_writes_no_geoparquet(tmp_path):
    events = tmp_path / "dates.csv"
    # a spreadsheet's idea of a date for every row: nothing can be loaded
    events.write_text(
        "event_date,latitude,longitude,event_type\r\nsoon,36.1,38.2,Battles\r\n"
        "later,36.2,38.3,Battles\r\n",
        encoding="utf-8",
    )
    out_path = tmp_path / "out.parquet"
    out_path.write_bytes(b"an earlier build's output")  # must not pass for this one's
    out = run("build", str(events), "-o", str(out_path), "--json")
    assert out.returncode == 2, out.stderr
    summary = json.loads(out.stdout)
    assert summary["rows_loaded"] == 0 and summary["exit_status"] == 2
    assert summary["output"] is None and not out_path.exists()
    assert len(pd.read_csv(out_path.with_suffix(".rejected.csv"))) == 2
    assert run("validate", str(events)).returncode == 2  # the same status as build
    text = run("build", str(events), "-o", str(out_path))
    assert text.returncode == 2
    assert "nothing loaded: all 2 rows were set aside, no GeoParquet written (exit 2)" in (
        text.stdout
    )


def test_build_summary_says_what_reading_the_file_decided(tmp_path):
    events = tmp_path / "saved.csv"
    events.write_bytes(
        b"event_date,latitude,longitude,event_type,notes\r\n"
        b"1/2/03,36.1,38.2,Battles,Kobane\x92s edge\r\n3/4/03,36.2,38.3,Battles,x\r\n"
    )
    out = run("build", str(events), "-o", str(tmp_path / "o.parquet"))
    assert out.returncode == 0, out.stderr
    assert "warning: read as Windows-1252 (not UTF-8): byte 0x92 at row 1" in out.stdout
    assert "nothing in the file settles the order, so day first" in out.stdout
    summary = json.loads(
        run("build", str(events), "-o", str(tmp_path / "o.parquet"), "--json").stdout
    )
    assert any("Windows-1252" in p for p in summary["file_problems"])


def test_build_lists_control_area_features_set_aside_and_repaired(tmp_path):
    bowtie = [[[38, 35], [39, 36], [39, 35], [38, 36], [38, 35]]]
    square = [[[37, 34], [38, 34], [38, 35], [37, 35], [37, 34]]]
    doc = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"controller": "A", "valid_from": "2015-01-01"},
             "geometry": {"type": "Polygon", "coordinates": square}},
            {"type": "Feature", "properties": {"controller": "B", "valid_from": "2015-01-01"},
             "geometry": {"type": "Polygon", "coordinates": bowtie}},
            {"type": "Feature", "properties": {"controller": "C", "valid_from": "2015-01-01"},
             "geometry": None},
        ],
    }  # fmt: skip
    areas = tmp_path / "areas.geojson"
    areas.write_text(json.dumps(doc), encoding="utf-8")
    out_path = tmp_path / "out.parquet"
    out = run("build", "--areas", str(areas), "-o", str(out_path), "--json")
    assert out.returncode == 1, out.stderr
    summary = json.loads(out.stdout)
    assert (summary["areas_in"], summary["areas_loaded"], summary["areas_repaired"]) == (3, 2, 1)
    assert summary["areas_rejected"] == 1
    assert summary["control_areas"]["by_kind"] == {"null geometry": 1}
    listed_json = summary["control_area_features_not_used_as_read"]
    assert [(f["file"], f["feature"], f["outcome"]) for f in listed_json] == [
        ("areas.geojson", 2, "repaired"),
        ("areas.geojson", 3, "set aside"),
    ]
    assert listed_json[1]["reason"] == "geometry is null (the feature has no geometry)"
    listed = pd.read_csv(out_path.with_suffix(".rejected-areas.csv"))
    assert listed[["file", "feature", "outcome", "reason_kind"]].values.tolist() == [
        ["areas.geojson", 2, "repaired", "self-intersecting or invalid"],
        ["areas.geojson", 3, "set aside", "null geometry"],
    ]
    text = run("build", "--areas", str(areas), "-o", str(out_path))
    assert "control areas: 3 control-area features: 1 used as read, 1 repaired" in text.stdout
    assert "1 set aside (1 null geometry)" in text.stdout
    assert "built with 1 control-area features set aside (exit 1)" in text.stdout


# --- hostile files: exit 2 with a message naming the file, never a traceback ------------------


def _hostile(tmp_path: Path, kind: str) -> Path:
    path = (
        tmp_path
        / {
            "empty": "empty.csv",
            "directory": "folder",
            "fifo": "pipe.csv",
            "broken link": "link.csv",
            "empty gzip": "events.csv.gz",
            "xlsx": "events.xlsx",
            "geojson": "control_areas.geojson",
        }[kind]
    )
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "broken link":
        path.symlink_to(tmp_path / "nowhere.csv")
    elif kind == "empty gzip":
        path.write_bytes(gzip.compress(b""))
    elif kind == "xlsx":
        path.write_bytes(b"PK\x03\x04" + bytes(200))  # what a workbook starts with
    else:
        path.write_bytes(paths.BUNDLED_AREAS.read_bytes())
    return path


HOSTILE = ["empty", "directory", "fifo", "broken link", "empty gzip", "xlsx", "geojson"]


@pytest.mark.parametrize("kind", HOSTILE)
def test_validate_hostile_file_exits_2_naming_it(tmp_path, kind):
    path = _hostile(tmp_path, kind)
    out = run("validate", str(path), timeout=60)
    assert out.returncode == 2, out.stdout + out.stderr
    assert path.name in out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    assert len(out.stderr) < 1000  # one clear message, not a dump of the file


def test_validate_header_only_file_exits_0_with_a_warning(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text("event_id,event_date,latitude,longitude\n", encoding="utf-8")
    out = run("validate", str(path))
    assert out.returncode == 0, out.stderr
    assert "0 rows in, 0 loaded, 0 set aside" in out.stdout
    assert "header but no data rows" in out.stdout


def test_validate_geojson_as_events_says_where_it_belongs(tmp_path):
    out = run("validate", str(_hostile(tmp_path, "geojson")))
    assert "JSON (GeoJSON?), not CSV text" in out.stderr and "--areas" in out.stderr


@pytest.mark.parametrize("kind", ["events csv", "fifo", "empty"])
def test_build_with_a_hostile_areas_file_exits_2_naming_it(good_csv, tmp_path, kind):
    if kind == "events csv":
        areas, expected = good_csv, "has no geometry"
    else:
        areas = _hostile(tmp_path, kind)
        expected = "named pipe" if kind == "fifo" else "the file is empty"
    out_path = tmp_path / "o.parquet"
    out = run("build", str(good_csv), "--areas", str(areas), "-o", str(out_path), timeout=120)
    assert out.returncode == 2, out.stdout + out.stderr
    assert areas.name in out.stderr and expected in out.stderr
    assert "Traceback" not in out.stdout + out.stderr
    assert not (tmp_path / "o.parquet").exists()


def test_build_country_option_restricts_the_gazetteer(tmp_path):
    path = tmp_path / "names.csv"
    path.write_text("event_id,event_date,location\na,2015-06-15,Mosul\n", encoding="utf-8")
    out = run("build", str(path), "--country", "Iraq", "-o", str(tmp_path / "o.parquet"), "--json")
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout)
    assert summary["geocoded"]["exact"] == 1
    # no gazetteer note: the only note says the areas are the bundled demo's
    assert summary["notes"] == [
        (
            "control areas: the bundled demo control areas (authored for the demo, "
            "approximate); give your own with --areas"
        )
    ]
    assert summary["controllers"] == {"Islamic State": 1}
    bad = run("build", str(path), "--country", "Narnia", "-o", str(tmp_path / "x.parquet"))
    assert bad.returncode == 2 and "'Narnia' is not a recognised country" in bad.stderr


def test_build_text_summary_shows_the_world_gazetteer_warning():
    from dashboard.cli.building import _summary_text

    summary = {
        "rows_in": 1, "rows_loaded": 1, "rows_rejected": 0, "input_format": "canonical",
        "geocoded": {"exact": 1}, "controllers": {"Unknown": 1}, "areas_loaded": 1,
        "areas_rejected": 0, "areas_repaired": 0, "output": "o.parquet",
        "rejected_output": "o.rejected.csv", "rejected_areas_output": "o.rejected-areas.csv",
        "control_areas": {"sentence": "all 1 control-area features used", "notes": []},
        "exit_status": 0,
        "notes": ["none of the 1 rows to geocode names a recognised country: ..."],
    }  # fmt: skip
    text = _summary_text(summary)
    assert "warning: none of the 1 rows to geocode names a recognised country" in text
    assert "control areas: all 1 control-area features used" in text
    assert text.splitlines()[-1] == "built: every row and control-area feature used (exit 0)"


def test_geocode_writes_set_aside_rows_beside_the_output(tmp_path):
    path = tmp_path / "names.csv"
    path.write_text(
        "event_date,country,location\n2017-11-09,Syria,Raqqa\n2017-11-31,Syria,Raqqa\n",
        encoding="utf-8",
    )
    out_csv = tmp_path / "geo.csv"
    out = run("geocode", str(path), "-o", str(out_csv))
    assert out.returncode == 0, out.stderr
    assert len(pd.read_csv(out_csv)) == 1
    rejected = pd.read_csv(tmp_path / "geo.rejected.csv")
    assert rejected["source_row"].tolist() == [2]
    assert "not a real date" in rejected["reject_reason"].iloc[0]
    assert "2 rows in, 1 written" in out.stdout and "1 set aside" in out.stdout


def test_written_csvs_neutralise_spreadsheet_formulas(tmp_path):
    # Text that a spreadsheet would run gets a leading quote; numbers stay numbers.
    path = tmp_path / "formula.csv"
    path.write_text(
        "event_id,event_date,country,location,latitude,longitude,fatalities,notes\n"
        'f1,2017-11-09,Syria,Abu Kamal,34.45,40.92,-3,"=HYPERLINK(""http://x"")"\n'
        "f2,2017-11-09,Syria,Abu Kamal,34.45,40.92,2,@SUM(A1)\n",
        encoding="utf-8",
    )
    out = run("build", str(path), "-o", str(tmp_path / "f.parquet"))
    assert out.returncode == 1, out.stderr  # the row with -3 fatalities is set aside
    rejected = pd.read_csv(tmp_path / "f.rejected.csv", dtype=str)
    assert rejected.loc[0, "notes"].startswith("'=HYPERLINK")
    geocoded = tmp_path / "g.csv"
    out = run("geocode", str(path), "-o", str(geocoded))
    assert out.returncode == 0, out.stderr
    written = pd.read_csv(geocoded)
    assert written.loc[0, "notes"] == "'@SUM(A1)"
    assert written.loc[0, "latitude"] == 34.45
