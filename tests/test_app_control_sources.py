"""Control from a table per unit with its boundaries, or from a town list, uploaded in the
page's Data section ("Control from a table per unit, or a town list"), run with AppTest.

The tiny events (``app_fixtures``): Mosul events in the default window (2017-10-17 to
2017-11-15) are IRQ3, IRQ4 and IRQ5, Raqqa's is SYR2, and IRQ6 lies in Baghdad, outside
every unit. The boundaries below are three unit squares (OCHA COD-AB field names); the
table holds Mosul by the Islamic State until 2017-07-10 and by the ISF from then on, and
Raqqa by the Islamic State until 2017-10-20 and by the SDF from then on. So the window's
controllers are the Iraqi government and the SDF.
"""

from __future__ import annotations

import json
import os
import re
import sys
import types
from pathlib import Path

import pytest
from app_fixtures import areas_doc, write_inputs
from streamlit.testing.v1 import AppTest

from dashboard import paths, schema
from dashboard.app import loaders
from dashboard.app.loaders import AREAS_ENV, EVENTS_ENV, FileRef, upload_build_key, upload_ref
from dashboard.pipeline import READ_SETTINGS_ENV, AreaOptions, BuildSettings, read_settings_json

# Each test builds into a cache of its own (app_fixtures.private_build_cache).
pytestmark = pytest.mark.usefixtures("private_build_cache")

APP = str(Path(paths.PACKAGE_DIR) / "app" / "main.py")
TIMEOUT = 120
OTI_TABLE = "oti_syria_subdistrict_control_2014_2015.csv"
OTI_BOUNDARIES = "syria_ocha_cod_adm3_20201217.geojson"


def _square(lon: float, lat: float) -> dict:
    ring = [[lon, lat], [lon + 0.4, lat], [lon + 0.4, lat + 0.3], [lon, lat + 0.3], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def _boundaries() -> bytes:
    """Three admin3 units: Mosul around the Mosul events, Ar-Raqqa around the Raqqa ones,
    Tell Abiad north of it (no event)."""
    units = [
        ("Mosul", "IQ0701", "Ninewa", _square(42.9, 36.2)),
        ("Ar-Raqqa", "SY1101", "Ar-Raqqa", _square(38.8, 35.8)),
        ("Tell Abiad", "SY1102", "Ar-Raqqa", _square(38.8, 36.5)),
    ]
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"admin3Name_en": n, "admin3Pcode": c, "admin1Name_en": g},
                "geometry": geometry,
            }
            for n, c, g, geometry in units
        ],
    }
    return json.dumps(doc).encode("utf-8")


def _table(mosul_2017: str = "ISF") -> bytes:
    """A table as it comes: padded headers and names, names in any case and spelling,
    statuses in the source's words, day/month/year dates, a notes column. "Tel Abyad" is
    spelled unlike the boundaries' "Tell Abiad"; "Nowhere Town" is in no boundary."""
    return (
        "Governorate , Sub_Region,Control_Status,Last_Update,Notes\n"
        "Ninewa,mosul ,ISIS,10/06/2014,\n"
        f"NINEWA, Mosul,{mosul_2017},10/07/2017,retaken\n"
        "Ar-Raqqa,Ar Raqqa,isis,13/01/2014,\n"
        "Ar-Raqqa,AR-RAQQA,SDF,20/10/2017,\n"
        "Ar-Raqqa,Tel Abyad,Kurdish,15/06/2015,\n"
        "Ar-Raqqa,Nowhere Town,ISIS,01/01/2015,\n"
    ).encode()


def _app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=TIMEOUT).run()


def _unescape(markdown: str) -> str:
    """What a reader sees of escaped markdown (backslash escapes and zero-width spaces gone)."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u200b", "")


def _sidebar_text(at: AppTest) -> str:
    return "\n".join(t.value for t in at.sidebar.text)


def _success(at: AppTest) -> str:
    return "\n".join(_unescape(s.value) for s in at.sidebar.success)


def _errors(at: AppTest) -> list[str]:
    return [_unescape(e.value) for e in at.error]


def _controllers(at: AppTest) -> set[str]:
    """The controllers of the 'Controllers in the window' table ("Unknown": IRQ6)."""
    tables = [
        d.value
        for d in at.dataframe
        if "controller" in d.value.columns and "events" in d.value.columns
    ]
    assert tables, "the controller table is missing"
    return set(tables[0]["controller"].dropna().astype(str)) - {"Unknown"}


def _use(
    at: AppTest,
    *,
    table: tuple[str, bytes] | None = None,
    boundaries: tuple[str, bytes] | None = None,
    points: tuple[str, bytes] | None = None,
    distance: float | None = None,
    matches: str | None = None,
) -> AppTest:
    """Put the files in the uploaders (None: empty) and press "Use these"."""
    for key, given, mime in (
        ("up_table", table, "text/csv"),
        ("up_boundaries", boundaries, "application/geo+json"),
        ("up_points", points, "text/csv"),
    ):
        at.file_uploader(key=key).set_value(None if given is None else (*given, mime))
    if distance is not None:
        at.number_input(key="in_max_distance").set_value(distance)
    if matches is not None:
        at.text_area(key="in_unit_matches").set_value(matches)
    at.button(key="use_area_sources").click()
    return at.run()


def _clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, _errors(at)


# --- a table with its boundaries ------------------------------------------------------------


@pytest.mark.usefixtures("tiny")
def test_a_table_with_its_boundaries_gives_the_control_areas():
    at = _app()
    assert _controllers(at) == {schema.IRAQI_GOVERNMENT, schema.ISLAMIC_STATE}
    at = _use(at, table=("control.csv", _table()), boundaries=("adm3.geojson", _boundaries()))
    _clean(at)
    # The map's data: each event's controller is its unit's in the table.
    assert _controllers(at) == {schema.IRAQI_GOVERNMENT, schema.SDF}
    shown = _sidebar_text(at)
    assert "Control areas: control.csv, adm3.geojson" in shown, shown
    assert "control.csv: status per administrative unit, 4 versions, 2014-01-13 to 2017-10-20" in (
        shown
    )
    assert "Rows in: 8  loaded: 8" in shown  # the events are the server's, unchanged
    # What was loaded, what was set aside and how to settle it.
    said = _success(at)
    assert said.startswith(
        "Control areas now from the table control.csv on the units of adm3.geojson; "
        "events: 8 rows: 8 loaded, 0 set aside."
    ), said
    assert "control.csv: 4 of 6 rows used, 2 set aside (2 unit not matched)." in said, said
    assert (
        "Set aside, row 5: unit 'Tel Abyad' (Ar-Raqqa) matches no unit of the "
        "boundaries: closest: Tell Abiad SY1102 (Ar-Raqqa); if one is it, say so with "
        "--unit-match 'Tel Abyad=SY1102'"
    ) in said, said
    assert "Set aside, row 6: unit 'Nowhere Town'" in said, said
    assert "statuses not in the project's names, kept as written: 'Kurdish'" not in said
    # The validation report lists the rows set aside with the same reasons.
    listed = [d.value for d in at.sidebar.dataframe if "outcome" in d.value.columns]
    assert len(listed) == 1 and list(listed[0]["feature"]) == [5, 6], listed

    # The analyst's answer, as the command line's --unit-match: the row is used.
    at = _use(
        at,
        table=("control.csv", _table()),
        boundaries=("adm3.geojson", _boundaries()),
        matches="Tel Abyad=SY1102",
    )
    _clean(at)
    said = _success(at)
    assert "control.csv: 5 of 6 rows used, 1 set aside (1 unit not matched)." in said, said
    assert "'Kurdish' (1 rows)" in said, said  # the status it brought, kept as written

    # An events upload afterwards keeps the table's control.
    events = write_inputs(Path(os.environ[EVENTS_ENV]).parent / "again")[0]
    at.file_uploader(key="up_events").set_value(("mine.csv", events.read_bytes(), "text/csv"))
    at.run()
    _clean(at)
    assert _controllers(at) == {schema.IRAQI_GOVERNMENT, schema.SDF}
    assert "Events file: mine.csv" in _sidebar_text(at)

    # Back to the server's files.
    _back_button(at).click().run()
    _clean(at)
    assert _controllers(at) == {schema.IRAQI_GOVERNMENT, schema.ISLAMIC_STATE}
    assert "Control areas: areas.geojson" in _sidebar_text(at)


def _back_button(at: AppTest):
    found = [b for b in at.sidebar.button if b.label == "Back to the original data"]
    assert len(found) == 1, [b.label for b in at.sidebar.button]
    return found[0]


@pytest.mark.usefixtures("tiny")
def test_a_polygon_upload_after_a_table_replaces_the_table():
    at = _use(_app(), table=("control.csv", _table()), boundaries=("adm3.geojson", _boundaries()))
    _clean(at)
    renamed = json.dumps(areas_doc({"mosul-gov": "Federal Police", "raqqa-is": "SDF"}))
    at.file_uploader(key="up_areas").set_value(
        [("mine.geojson", renamed.encode("utf-8"), "application/geo+json")]
    ).run()
    _clean(at)
    assert _controllers(at) == {"Federal Police", schema.SDF}
    assert "Control areas: mine.geojson\n" in _sidebar_text(at) + "\n"


# --- refusals ------------------------------------------------------------------------------


def _refused(at: AppTest, before_controllers: set[str], before_text: str) -> str:
    """The one error an upload gave; the data shown unchanged."""
    assert not at.exception, [e.value for e in at.exception]
    errors = _errors(at)
    assert len(errors) == 1, errors
    assert "The data shown is unchanged" in errors[0], errors[0]
    assert "Traceback" not in errors[0]
    assert _controllers(at) == before_controllers
    assert _sidebar_text(at) == before_text
    return errors[0]


@pytest.mark.usefixtures("tiny")
def test_a_table_without_its_boundaries_is_refused_and_the_data_stays():
    at = _app()
    before, text = _controllers(at), _sidebar_text(at)
    at = _use(at, table=("control.csv", _table()))
    error = _refused(at, before, text)
    assert error.startswith("Could not use control.csv: a control table needs its units' "), error
    assert "boundaries" in error
    # Boundaries alone are refused too, naming them.
    at = _use(at, boundaries=("adm3.geojson", _boundaries()))
    error = _refused(at, before, text)
    assert error.startswith("Could not use adm3.geojson: boundaries need the control table"), error
    # Nothing at all.
    at = _use(at)
    assert "none is uploaded yet" in _refused(at, before, text)


@pytest.mark.parametrize(
    ("table", "boundaries", "matches", "said"),
    [
        (
            ("control.csv", b"Sub_Region,Notes\nMosul,x\n"),
            ("adm3.geojson", _boundaries()),
            "",
            "Could not use control.csv, adm3.geojson: control.csv: no status column",
        ),
        (
            ("control.csv", _table()),
            ("adm3.geojson", b'{"type": "FeatureCollection", "features": [ {"ty'),
            "",
            "Could not use control.csv, adm3.geojson: adm3.geojson: cannot be read as boundaries",
        ),
        (
            ("control.csv", _table()),
            ("adm3.geojson", _boundaries()),
            "Tel Abyad",
            "Could not use the unit matches: 'Tel Abyad' is not NAME=PCODE",
        ),
        (
            ("control.csv", _table()),
            ("adm3.geojson", _boundaries()),
            "Tel Abyad=SY9999",
            "Could not use control.csv, adm3.geojson: --unit-match Tel Abyad=SY9999: no unit "
            "has the code 'SY9999'",
        ),
        (
            ("control.csv", b"Sub_Region,Control_Status,Last_Update\nNowhere,ISIS,01/01/2015\n"),
            ("adm3.geojson", _boundaries()),
            "",
            "Could not use control.csv, adm3.geojson: no usable control areas in the file(s) "
            "(the first set aside: control.csv row 1: unit 'Nowhere' matches no unit",
        ),
    ],
    ids=["no-status-column", "unreadable-boundaries", "bad-match", "unknown-pcode", "no-row-used"],
)
@pytest.mark.usefixtures("tiny")
def test_an_unusable_table_or_boundaries_gives_one_line_and_the_data_stays(
    table, boundaries, matches, said
):
    at = _app()
    before, text = _controllers(at), _sidebar_text(at)
    at = _use(at, table=table, boundaries=boundaries, matches=matches)
    error = _refused(at, before, text)
    assert error.startswith(said), error
    assert "/tmp" not in error and "conflictmap-upload" not in error, error


# --- the build cache -------------------------------------------------------------------------


@pytest.mark.usefixtures("tiny")
def test_two_tables_of_one_name_are_two_builds():
    at = _use(_app(), table=("control.csv", _table()), boundaries=("adm3.geojson", _boundaries()))
    _clean(at)
    assert _controllers(at) == {schema.IRAQI_GOVERNMENT, schema.SDF}
    # Same name, same boundaries, same reading options: only the table's bytes differ.
    at = _use(
        at,
        table=("control.csv", _table(mosul_2017="Peshmerga")),
        boundaries=("adm3.geojson", _boundaries()),
    )
    _clean(at)
    assert _controllers(at) == {schema.KRG, schema.SDF}
    # And back: the first table's build, not the second's.
    at = _use(at, table=("control.csv", _table()), boundaries=("adm3.geojson", _boundaries()))
    _clean(at)
    assert _controllers(at) == {schema.IRAQI_GOVERNMENT, schema.SDF}


def test_the_build_key_covers_the_tables_bytes_not_only_its_name():
    events = FileRef("events.csv", "e", "/data/events.csv")
    keys = set()
    for data in (_table(), _table(mosul_2017="Peshmerga")):
        ref = upload_ref("control.csv", data)
        options = AreaOptions(table=loaders.upload_source(ref), boundaries="/data/adm3.geojson")
        keys.add(upload_build_key(events, (), read_settings_json(BuildSettings(areas=options))))
    assert len(keys) == 2


def test_a_served_table_on_disk_is_rebuilt_when_its_bytes_change(tmp_path, monkeypatch):
    """``conflictmap serve --areas-table --boundaries``: no area files (not the bundled
    ones), and the copy of the build kept on disk is keyed on the table's bytes. The
    table is rewritten with the same size and modification time, so only its bytes tell."""
    events, _ = write_inputs(tmp_path / "data")
    table = tmp_path / "data" / "control.csv"
    table.write_bytes(_table())
    bounds = tmp_path / "data" / "adm3.geojson"
    bounds.write_bytes(_boundaries())
    options = AreaOptions(table=str(table), boundaries=str(bounds))
    monkeypatch.setenv(EVENTS_ENV, str(events))
    monkeypatch.delenv(AREAS_ENV, raising=False)
    monkeypatch.setenv(READ_SETTINGS_ENV, read_settings_json(BuildSettings(areas=options)))
    at = _app()
    _clean(at)
    assert _controllers(at) == {schema.IRAQI_GOVERNMENT, schema.SDF}
    assert "Control areas: control.csv, adm3.geojson" in _sidebar_text(at)

    stat = table.stat()
    table.write_bytes(_table(mosul_2017="KRG"))  # "ISF" -> "KRG": the same size
    os.utime(table, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert table.stat().st_size == stat.st_size
    loaders.clear_build_cache()  # as a restart: only the copy on disk is left
    at = _app()
    _clean(at)
    assert _controllers(at) == {schema.KRG, schema.SDF}


# --- a town list -----------------------------------------------------------------------------


@pytest.fixture
def recorded_points(monkeypatch, tiny) -> list[dict]:
    """``dashboard.controlpoints`` replaced by a stand-in that records what it was given
    and returns the tiny areas with Raqqa's held by the SDF (the page's plumbing, whatever
    the real module's method)."""
    from dashboard.areas import read_control_areas

    calls: list[dict] = []
    areas_file = tiny[1].parent / "stand-in.geojson"
    areas_file.write_text(json.dumps(areas_doc({"raqqa-is": "SDF"})), encoding="utf-8")

    def areas_from_points(path, *, outline=None, max_distance_km=25.0, controller_names=None):
        calls.append({"bytes": Path(path).read_bytes(), "km": max_distance_km, "outline": outline})
        return read_control_areas([areas_file])

    module = types.ModuleType("dashboard.controlpoints")
    module.areas_from_points = areas_from_points  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "dashboard.controlpoints", module)
    return calls


TOWNS = (
    b"name,latitude,longitude,controller,date\n"
    b"Mosul,36.34,43.13,Iraqi government,2017-07-10\n"
    b"Raqqa,35.95,39.01,SDF,2017-10-20\n"
)


def test_a_town_list_is_read_with_the_distance_typed(recorded_points):
    at = _app()
    at = _use(at, points=("towns.csv", TOWNS), distance=10.0)
    _clean(at)
    assert len(recorded_points) == 1
    assert recorded_points[0]["bytes"] == TOWNS
    assert recorded_points[0]["km"] == 10.0
    assert _controllers(at) == {schema.IRAQI_GOVERNMENT, schema.SDF}
    said = _success(at)
    assert said.startswith(
        "Control areas now from the towns of towns.csv (ground within 10 km); events:"
    ), said
    # Another distance is another build.
    at = _use(at, points=("towns.csv", TOWNS), distance=40.0)
    _clean(at)
    assert [c["km"] for c in recorded_points] == [10.0, 40.0]


def test_the_real_town_list_reader_through_the_upload(tiny):
    at = _use(_app(), points=("towns.csv", TOWNS), distance=25.0)
    _clean(at)
    # IRQ6 in Baghdad is hundreds of km from both towns: no information there.
    assert _controllers(at) == {schema.IRAQI_GOVERNMENT, schema.SDF, schema.NO_INFORMATION}
    assert "towns.csv" in _sidebar_text(at)


def test_a_town_list_saved_as_an_excel_workbook(tiny):
    import io

    import openpyxl

    book = openpyxl.Workbook()
    for line in TOWNS.decode().splitlines():
        book.active.append(line.split(","))
    data = io.BytesIO()
    book.save(data)
    at = _use(_app(), points=("towns.xlsx", data.getvalue()), distance=25.0)
    _clean(at)
    assert _controllers(at) == {schema.IRAQI_GOVERNMENT, schema.SDF, schema.NO_INFORMATION}
    assert "towns.xlsx" in _sidebar_text(at)


# --- real data -------------------------------------------------------------------------------


def test_the_oti_table_with_the_ocha_subdistricts(shared_data, tiny):
    """OTI's sub-district control table (149 rows) on OCHA's admin3 boundaries: 120 rows
    used, the 29 whose sub-district is spelled unlike any boundary set aside."""
    table = (shared_data / OTI_TABLE).read_bytes()
    bounds = (shared_data / OTI_BOUNDARIES).read_bytes()
    at = _use(_app(), table=(OTI_TABLE, table), boundaries=(OTI_BOUNDARIES, bounds))
    _clean(at)
    said = _success(at)
    assert f"{OTI_TABLE}: 120 of 149 rows used, 29 set aside (29 unit not matched)." in said, said
    assert "--unit-match '" in said, said
    assert "27 more set aside: every one is listed, with why, in the validation report" in said
    shown = _sidebar_text(at)
    assert f"{OTI_TABLE}: status per administrative unit, 120 versions, 2014-01-24 to " in shown
    listed = [d.value for d in at.sidebar.dataframe if "outcome" in d.value.columns]
    assert len(listed) == 1 and len(listed[0]) == 29
    assert _controllers(at) == {schema.ISLAMIC_STATE}  # SYR2 in Raqqa; Mosul is not Syria
