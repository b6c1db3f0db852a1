"""The page's downloads and "your own data" uploads, run headless with AppTest.

Issue 3, item 5: the event table downloads as CSV and GeoJSON, text cells that a spreadsheet
would run as a formula neutralised, numbers still numbers. Item 6: an uploaded events file
shows its validation report (counts, rows set aside with the reason, downloads of both);
uploaded control areas replace the areas; a bad file gives a clear message and leaves the
current data in place.

The download buttons are deferred (``data=`` a callable), so their bytes exist only when a
browser asks for them. AppTest's mock runtime keeps the callables in its media file manager:
the ``media`` fixture records that manager, and :func:`_download` runs the button's deferred
callable exactly as the ``/_stcore`` deferred-file request would and reads back the bytes.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from app_fixtures import EVENT_ROWS, EVENTS_HEADER, areas_doc, write_inputs
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from dashboard import paths
from dashboard.app.loaders import AREAS_ENV, EVENTS_ENV

# Each test builds into a cache of its own (app_fixtures.private_build_cache).
pytestmark = pytest.mark.usefixtures("private_build_cache")

APP = str(Path(paths.PACKAGE_DIR) / "app" / "main.py")
TIMEOUT = 120

# Two extra events in the default window (2017-10-17 .. 2017-11-15) whose notes a spreadsheet
# would run as formulas; one lies in the southern hemisphere (negative latitude, a number).
FORMULA_NOTE = '=HYPERLINK("http://evil.example/x","click")'
AT_NOTE = "@SUM(A1:A9)"
EXTRA_ROWS = [
    (
        "XLS1,2017-11-13,Battles,Armed clash,Islamic State,Military Forces of Iraq,Iraq,"
        'Ninewa,Mosul,Mosul,36.32,43.14,1,1,3,Reuters,"=HYPERLINK(""http://evil.example/x"",'
        '""click"")"'
    ),
    (
        "XLS2,2017-11-14,Protests,Peaceful protest,Protesters (Iraq),,Iraq,Ninewa,Mosul,Mosul,"
        "-12.5,43.12,1,1,0,AFP,@SUM(A1:A9)"
    ),
]


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


def _app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=TIMEOUT).run()


def _button(at: AppTest, label: str):
    found = [b for b in at.get("download_button") if b.label == label]
    assert len(found) == 1, [b.label for b in at.get("download_button")]
    return found[0]


def _download(at: AppTest, media: list[MediaFileManager], label: str) -> bytes:
    """The bytes a click on the download button ``label`` gives the browser."""
    proto = _button(at, label).proto
    assert media, "no media file manager was recorded"
    manager = media[-1]
    if proto.HasField("deferred_file_id"):
        url = manager.execute_deferred(proto.deferred_file_id)
    else:
        url = proto.url
    stored = manager.read_file(url.rsplit("/", 1)[-1])
    assert stored is not None, url
    return stored.content


def _event_ids(at: AppTest) -> list[str]:
    tables = [d.value for d in at.dataframe if "event_id" in d.value.columns]
    assert tables, "the event table is missing"
    return sorted(tables[0]["event_id"].astype(str))


def _controllers(at: AppTest) -> set[str]:
    """The controllers of the 'Controllers in the window' table."""
    tables = [
        d.value
        for d in at.dataframe
        if "controller" in d.value.columns and "events" in d.value.columns
    ]
    assert tables, "the controller table is missing"
    # "Unknown": IRQ6 in Baghdad lies outside every area.
    return set(tables[0]["controller"].dropna().astype(str)) - {"Unknown"}


def _unescape(markdown: str) -> str:
    """What a reader sees of escaped markdown (backslash escapes and zero-width spaces gone)."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u200b", "")


def _sidebar_text(at: AppTest) -> str:
    return "\n".join(t.value for t in at.sidebar.text)


# --- item 5: the event table's downloads ---------------------------------------------------


def test_event_table_downloads_neutralise_formulas_and_keep_numbers(tmp_path, monkeypatch, media):
    events, areas = write_inputs(tmp_path / "data", rows=[*EVENT_ROWS, *EXTRA_ROWS])
    monkeypatch.setenv(EVENTS_ENV, str(events))
    monkeypatch.setenv(AREAS_ENV, str(areas))
    at = _app()
    assert not at.exception, [e.value for e in at.exception]
    assert _event_ids(at) == ["IRQ3", "IRQ4", "IRQ5", "IRQ6", "SYR2", "XLS1", "XLS2"]

    # CSV: what a spreadsheet reads.
    raw = _download(at, media, "Download CSV")
    text = raw.decode("utf-8-sig")
    rows = {r["event_id"]: r for r in csv.DictReader(io.StringIO(text))}
    assert set(rows) == {"IRQ3", "IRQ4", "IRQ5", "IRQ6", "SYR2", "XLS1", "XLS2"}
    assert rows["XLS1"]["notes"] == "'" + FORMULA_NOTE
    assert rows["XLS2"]["notes"] == "'" + AT_NOTE
    assert rows["IRQ3"]["notes"] == "Clearing operation"  # ordinary text untouched
    # No cell of the file starts a formula.
    for row in csv.reader(io.StringIO(text)):
        for cell in row:
            assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
            assert not cell.startswith("-") or _is_number(cell), cell
    # Numbers stay numbers: written bare (not quoted, no apostrophe, no ".0").
    table = list(csv.reader(io.StringIO(text)))
    header, by_id = table[0], {r[table[0].index("event_id")]: r for r in table[1:]}
    assert by_id["XLS1"][header.index("fatalities")] == "3"
    assert by_id["XLS2"][header.index("latitude")] == "-12.5"
    assert ",-12.5," in text and ",'-12.5" not in text and '"-12.5"' not in text
    assert rows["IRQ5"]["fatalities"] == ""  # unknown toll stays empty, not 0

    # GeoJSON: the same rows, text neutralised, numbers as JSON numbers.
    doc = json.loads(_download(at, media, "Download GeoJSON").decode("utf-8"))
    assert doc["type"] == "FeatureCollection"
    props = {f["properties"]["event_id"]: f for f in doc["features"]}
    assert set(props) == set(rows)
    assert props["XLS1"]["properties"]["notes"] == "'" + FORMULA_NOTE
    assert props["XLS2"]["properties"]["notes"] == "'" + AT_NOTE
    assert props["XLS1"]["properties"]["fatalities"] == 3
    assert props["XLS2"]["properties"]["latitude"] == -12.5
    assert props["IRQ5"]["properties"]["fatalities"] is None
    assert props["XLS2"]["geometry"]["coordinates"] == [43.12, -12.5]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


# --- item 6: uploads and the validation report ---------------------------------------------


def test_an_events_upload_with_a_bad_row_shows_the_validation_report(tiny, tmp_path, media):
    upload = tmp_path / "mine.csv"
    rows = [
        EVENTS_HEADER,
        "UP1,2017-11-14,Battles,Armed clash,A,B,Iraq,Ninewa,Mosul,Mosul,36.34,43.13,1,1,1,X,first",
        "UP2,2017-13-45,Battles,Armed clash,A,B,Iraq,Ninewa,Mosul,Mosul,36.34,43.13,1,1,1,X,bad",
        "UP3,2017-11-15,Protests,Peaceful protest,C,,Iraq,Ninewa,Mosul,Mosul,36.35,43.12,1,1,0,Y,z",
    ]
    upload.write_text("\n".join(rows) + "\n", encoding="utf-8")
    at = _app()
    at.file_uploader(key="up_events").set_value(("mine.csv", upload.read_bytes(), "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert _event_ids(at) == ["UP1", "UP3"]

    # Counts.
    shown = _sidebar_text(at)
    assert "Events file: mine.csv" in shown, shown
    assert "Rows in: 3  loaded: 2  set aside: 1" in shown, shown
    labels = [e.label for e in at.sidebar.expander]
    assert any("Validation report: 2 loaded, 1 set aside" in lbl for lbl in labels), labels

    # The row set aside, with its reason.
    rejected = [d.value for d in at.sidebar.dataframe if "reject_reason" in d.value.columns]
    assert rejected, [list(d.value.columns) for d in at.sidebar.dataframe]
    table = rejected[0]
    assert list(table["event_id"].astype(str)) == ["UP2"]
    reason = str(table["reject_reason"].iloc[0])
    assert "event_date" in reason or "date" in reason.lower(), reason

    # Both are downloadable, and the downloads hold what the page shows.
    assert not _button(at, "Rows set aside (CSV)").proto.disabled
    rej_bytes = _download(at, media, "Rows set aside (CSV)")
    rej_csv = list(csv.DictReader(io.StringIO(rej_bytes.decode("utf-8-sig"))))
    assert [r["event_id"] for r in rej_csv] == ["UP2"]
    assert rej_csv[0]["reject_reason"] == reason
    report = json.loads(_download(at, media, "Report (JSON)").decode("utf-8"))
    events_report = report["events"]
    flat = json.dumps(events_report)
    assert "UP2" in flat or "2017-13-45" in flat, flat[:500]
    counts = {k: v for k, v in events_report.items() if isinstance(v, int)}
    assert counts.get("rows_in") == 3 and counts.get("rows_loaded") == 2, counts
    assert counts.get("rows_rejected") == 1, counts
    assert "areas" in report


def test_a_clean_upload_has_no_rows_to_download(tiny):
    at = _app()
    assert "set aside: 0" in _sidebar_text(at)
    assert _button(at, "Rows set aside (CSV)").proto.disabled
    assert not _button(at, "Report (JSON)").proto.disabled


def test_a_good_areas_upload_replaces_the_areas(tiny, tmp_path):
    at = _app()
    assert _controllers(at) == {"Iraqi government", "Islamic State"}
    renamed = areas_doc({"mosul-gov": "Federal Police", "raqqa-is": "SDF"})
    good = tmp_path / "mine.geojson"
    good.write_text(json.dumps(renamed), encoding="utf-8")
    at.file_uploader(key="up_areas").set_value(
        [("mine.geojson", good.read_bytes(), "application/geo+json")]
    ).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert _controllers(at) == {"Federal Police", "SDF"}
    assert "Control areas: mine.geojson" in _sidebar_text(at)
    assert _event_ids(at) == ["IRQ3", "IRQ4", "IRQ5", "IRQ6", "SYR2"]  # events unchanged


def _metres_without_crs() -> bytes:
    """Projected coordinates (metres) in a GeoJSON that declares no CRS (so it reads as
    lon/lat, RFC 7946's default): the loader must refuse it, not draw it off the globe."""
    doc = json.loads(json.dumps(areas_doc({"mosul-gov": "Federal Police", "raqqa-is": "SDF"})))
    doc.pop("crs")
    for feature in doc["features"]:
        ring = feature["geometry"]["coordinates"][0]
        feature["geometry"]["coordinates"] = [[[x * 111_000, y * 111_000] for x, y in ring]]
    return json.dumps(doc).encode("utf-8")


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        (
            "broken.geojson",
            b'{"type": "FeatureCollection", "features": [ {"type": ',
            "cannot be read",
        ),
        ("metres.geojson", _metres_without_crs(), "coordinates impossible"),
        (
            "nocontroller.geojson",
            json.dumps(
                {
                    **areas_doc(),
                    "features": [
                        {**f, "properties": {"area_id": f["properties"]["area_id"]}}
                        for f in areas_doc()["features"]
                    ],
                }
            ).encode("utf-8"),
            "no controller field",
        ),
    ],
    ids=["broken-json", "metres-without-crs", "no-controller-field"],
)
def test_a_bad_areas_upload_shows_an_error_and_keeps_the_areas(tiny, name, data, reason):
    at = _app()
    before_controllers = _controllers(at)
    before_text = _sidebar_text(at)
    assert before_controllers == {"Iraqi government", "Islamic State"}
    at.file_uploader(key="up_areas").set_value([(name, data, "application/geo+json")]).run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    assert len(errors) == 1, errors
    shown = _unescape(errors[0])
    assert shown.startswith(f"Could not use {name}: "), shown  # names the file
    assert reason in shown and "The data shown is unchanged" in shown, shown
    assert _controllers(at) == before_controllers
    assert "Control areas: areas.geojson" in _sidebar_text(at)
    assert _sidebar_text(at) == before_text
    # A good file afterwards is still accepted (the refusal left nothing half-applied).
    good = json.dumps(areas_doc({"raqqa-is": "SDF"})).encode("utf-8")
    at.file_uploader(key="up_areas").set_value(
        [("good.geojson", good, "application/geo+json")]
    ).run()
    assert not at.error, [e.value for e in at.error]
    assert _controllers(at) == {"Iraqi government", "SDF"}


def test_an_upload_of_place_names_says_what_was_loaded_found_and_warned(
    tiny, tmp_path, monkeypatch
):
    """1,000 rows naming towns, no coordinates and no country column (as a spreadsheet of
    reports looks): the gazetteer of the areas' countries places them, and the success
    message says how many rows were loaded, how the places were found and the warning
    that the countries were assumed. A previous error is gone."""
    towns = ["Mosul", "Tikrit", "Ramadi", "Fallujah", "Kirkuk", "Nowhereville"]
    rows = [f"P{i},2017-11-{1 + i % 14:02d},Battles,{towns[i % len(towns)]}" for i in range(1000)]
    upload = tmp_path / "places.csv"
    upload.write_text("event_id,event_date,event_type,location\n" + "\n".join(rows) + "\n")
    doc = areas_doc()
    for feature in doc["features"]:
        feature["properties"]["country"] = "Iraq"
    areas = tmp_path / "iraq-areas.geojson"
    areas.write_text(json.dumps(doc), encoding="utf-8")
    monkeypatch.setenv(AREAS_ENV, str(areas))
    at = _app()
    at.file_uploader(key="up_events").set_value(("bad.csv", b"\x00\x01", "text/csv")).run()
    assert at.sidebar.error, "a bad file first: its error must be replaced"
    at.file_uploader(key="up_events").set_value(
        ("places.csv", upload.read_bytes(), "text/csv")
    ).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.sidebar.error, [e.value for e in at.sidebar.error]
    # The message as read (Markdown escapes and zero-width breaks taken out).
    success = "".join(re.sub(r"\\(.)", r"\1", s.value) for s in at.sidebar.success)
    success = success.replace("\u200b", "")
    assert "Events now from places.csv: 1,000 rows: 1,000 loaded, 0 set aside." in success
    # Nowhereville is nowhere: its rows unmatched, said; the rest placed in Iraq.
    nowhere = sum(1 for i in range(1000) if towns[i % len(towns)] == "Nowhereville")
    assert f"Places: exact {1000 - nowhere}, unmatched {nowhere}." in success, success
    assert "control areas' countries only (Iraq)" in success, success
