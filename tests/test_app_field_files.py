"""Files from the field in the page: reading options for uploads and for ``serve``, and the
control-area ledger next to every figure the page computes from the areas (AppTest)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from app_fixtures import EVENT_ROWS, EVENTS_HEADER, areas_doc, write_inputs
from streamlit.testing.v1 import AppTest

from dashboard import paths
from dashboard.app.loaders import AREAS_ENV, EVENTS_ENV
from dashboard.pipeline import READ_SETTINGS_ENV, AreaOptions, BuildSettings, read_settings_json

# Each test builds into a cache of its own (app_fixtures.private_build_cache).
pytestmark = pytest.mark.usefixtures("private_build_cache")

APP = str(Path(paths.PACKAGE_DIR) / "app" / "main.py")
TIMEOUT = 120


def _app(params: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    return at.run()


def _clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _sidebar_text(at: AppTest) -> str:
    return "\n".join(t.value for t in at.sidebar.text)


def _unescape(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u200b", "")


def _spreadsheet_events() -> bytes:
    """The tiny events as a tired analyst's spreadsheet saves them: Windows-1252, CRLF,
    day/month/year dates with a time of day, all day numbers 12 or less (ambiguous)."""
    rows = []
    for row in EVENT_ROWS:
        cells = row.split(",")
        y, m, d = cells[1].split("-")
        cells[1] = f"{d}/{m}/{y} 00:00"
        rows.append(",".join(cells))
    rows[0] = rows[0].replace("Clash on the southern edge", "Clash on the city\u2019s edge")
    text = "\r\n".join([EVENTS_HEADER, *rows]) + "\r\n"
    return text.encode("cp1252")


@pytest.mark.usefixtures("tiny")
def test_an_upload_read_with_the_date_format_typed_before_it():
    at = _app()
    _clean(at)
    at.text_input(key="in_date_format").set_value("%d/%m/%Y %H:%M")
    at.file_uploader(key="up_events").set_value(
        [("export.csv", _spreadsheet_events(), "text/csv")]
    ).run()
    _clean(at)
    text = _sidebar_text(at)
    assert "Events: export.csv" in text
    assert "Rows in: 8  loaded: 8  set aside: 0" in text
    # the Windows-1252 apostrophe was read as such, and said
    problems = [d.value for d in at.sidebar.dataframe if "message" in d.value.columns]
    messages = " ".join(problems[0]["message"]) if problems else ""
    assert "read as Windows-1252" in messages


@pytest.mark.usefixtures("tiny")
def test_a_bad_date_format_is_refused_and_the_data_kept():
    at = _app()
    at.text_input(key="in_date_format").set_value("%Y-%m")
    at.file_uploader(key="up_events").set_value(
        [("export.csv", _spreadsheet_events(), "text/csv")]
    ).run()
    assert not at.exception
    errors = [_unescape(e.value) for e in at.error]
    assert len(errors) == 1 and errors[0].startswith("Could not use export.csv: ")
    assert "--date-format '%Y-%m' does not name the day" in errors[0]
    assert "Events: events.csv" in _sidebar_text(at)


@pytest.mark.usefixtures("tiny")
def test_a_daily_series_upload_with_one_controller_typed():
    doc = areas_doc()
    for feature in doc["features"]:
        feature["properties"] = {}  # no controller, no dates: only the file name dates it
    data = json.dumps(doc).encode("utf-8")
    at = _app()
    at.file_uploader(key="up_areas").set_value(
        [("occupied_20150101.geojson", data, "application/geo+json")]
    ).run()
    errors = [_unescape(e.value) for e in at.error]
    assert errors and "no controller field" in errors[0]
    at.text_input(key="in_controller").set_value("Islamic State")
    at.file_uploader(key="up_areas").set_value(
        [("occupied_20150101.geojson", data, "application/geo+json")]
    ).run()
    _clean(at)
    assert "Control areas: occupied_20150101.geojson" in _sidebar_text(at)
    assert "all 3 control-area features used" in _sidebar_text(at)


def _broken_areas(folder: Path) -> Path:
    doc = areas_doc()
    doc["features"].append(
        {
            "type": "Feature",
            "properties": {"controller": "SDF", "valid_from": "2015-01-01"},
            "geometry": None,
        }
    )
    path = folder / "broken.geojson"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_set_aside_features_are_said_beside_the_map_and_in_compare_mode(tmp_path, monkeypatch):
    events, _ = write_inputs(tmp_path / "data")
    monkeypatch.setenv(EVENTS_ENV, str(events))
    monkeypatch.setenv(AREAS_ENV, str(_broken_areas(tmp_path / "data")))
    at = _app()
    _clean(at)
    summary = next(t.value for t in at.text if t.value.startswith("As of "))
    assert "(1 control-area features set aside, see the validation report)" in (summary)
    assert "4 control-area features: 3 used as read, 1 set aside (1 null geometry)" in (
        _sidebar_text(at)
    )
    listed = [d.value for d in at.sidebar.dataframe if "outcome" in d.value.columns]
    assert len(listed) == 1
    row = listed[0].iloc[0]
    assert (row["file"], row["feature"], row["outcome"], row["reason_kind"]) == (
        "broken.geojson",
        4,
        "set aside",
        "null geometry",
    )
    at = _app({"mode": "compare", "from": "2015-06-15", "to": "2017-11-15"})
    _clean(at)
    warnings = [_unescape(w.value) for w in at.warning]
    assert any(
        w.startswith("Control areas: 4 control-area features: 3 used as read")
        and "the figures leave out the 1 set-aside features" in w
        for w in warnings
    ), warnings


@pytest.mark.usefixtures("tiny")
def test_complete_areas_raise_no_warning_in_compare_mode():
    at = _app({"mode": "compare", "from": "2015-06-15", "to": "2017-11-15"})
    _clean(at)
    assert not [w for w in at.warning if "Control areas" in w.value]


def _serve_areas_named_by_holder(tmp_path: Path, monkeypatch) -> None:
    """The app pointed at the tiny data whose areas name the controller field "holder",
    started as ``serve --controller-field holder`` starts it."""
    events, _ = write_inputs(tmp_path / "data")
    doc = areas_doc()
    for feature in doc["features"]:
        props = feature["properties"]
        feature["properties"] = {"holder": props.pop("controller"), **props}
    areas = tmp_path / "data" / "holders.geojson"
    areas.write_text(json.dumps(doc), encoding="utf-8")
    monkeypatch.setenv(EVENTS_ENV, str(events))
    monkeypatch.setenv(AREAS_ENV, str(areas))
    settings = BuildSettings(areas=AreaOptions(controller_field="holder"))
    monkeypatch.setenv(READ_SETTINGS_ENV, read_settings_json(settings))


def test_serve_reading_options_reach_the_page(tmp_path, monkeypatch):
    _serve_areas_named_by_holder(tmp_path, monkeypatch)
    at = _app()
    _clean(at)
    assert "all 3 control-area features used" in _sidebar_text(at)


def test_an_events_upload_keeps_reading_the_servers_areas_as_the_server_does(tmp_path, monkeypatch):
    _serve_areas_named_by_holder(tmp_path, monkeypatch)
    at = _app()
    _clean(at)
    assert at.text_input(key="in_controller_field").value == "holder"  # shown, not hidden
    upload = "\r\n".join([EVENTS_HEADER, *EVENT_ROWS[:3]]).encode("utf-8")
    at.file_uploader(key="up_events").set_value([("mine.csv", upload, "text/csv")]).run()
    _clean(at)
    assert "Events: mine.csv" in _sidebar_text(at)
    assert "all 3 control-area features used" in _sidebar_text(at)


@pytest.mark.usefixtures("tiny")
def test_a_date_after_the_areas_last_change_is_said_beside_the_map_and_in_compare_mode():
    at = _app({"date": "2017-11-15"})
    _clean(at)
    summary = next(t.value for t in at.text if t.value.startswith("As of "))
    assert "(their last change is 2017-07-10, 128 days earlier: that map is carried forward)" in (
        summary
    )
    at = _app({"mode": "compare", "from": "2015-06-15", "to": "2017-11-15"})
    _clean(at)
    assert any(
        "the figures for 2017-11-15 (128 days later) are the map of that day carried forward"
        in _unescape(w.value)
        for w in at.warning
    ), [w.value for w in at.warning]
