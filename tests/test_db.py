"""PostGIS as the shared store: schema, idempotent loads, the join in SQL, map queries, CLI.

Run against a real PostgreSQL with PostGIS (``tests/db_fixtures.py``: ``CONFLICTMAP_TEST_DB``
or a throw-away cluster).
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from shapely.geometry import box
from sqlalchemy import text as sqlalchemy_text

from dashboard import paths, schema
from dashboard import store as pgstore
from dashboard.cli import cli
from dashboard.errors import SchemaError
from dashboard.layers.mapping import bbox_from_view
from dashboard.pipeline import build
from dashboard.spatial import join_events_to_areas
from dashboard.timewindow import Filters, build_date_index, select

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bundled():
    return build()


def _all_events(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        result = conn.exec_driver_sql(f"SELECT * FROM {pgstore.SCHEMA}.events ORDER BY event_id")
        frame = pd.DataFrame(result.all(), columns=list(result.keys()))
    return frame.drop(columns=["geom"]).astype(object)


def _count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.exec_driver_sql(f"SELECT count(*) FROM {pgstore.SCHEMA}.{table}").scalar()


def test_init_creates_tables_with_spatial_and_date_indexes(empty_db):
    engine = pgstore.connect(empty_db)
    pgstore.init_schema(engine)  # twice: idempotent
    with engine.connect() as conn:
        indexes = dict(
            conn.exec_driver_sql(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = %(s)s",
                {"s": pgstore.SCHEMA},
            ).all()
        )
    assert "USING gist (geom)" in indexes["events_geom_gist"]
    assert "USING gist (geom)" in indexes["areas_geom_gist"]
    assert "(event_date)" in indexes["events_date_idx"]
    assert "(valid_from, valid_to)" in indexes["areas_valid_idx"]


def test_load_is_idempotent_and_reports_what_the_file_lacks(empty_db, bundled, tmp_path):
    engine = pgstore.connect(empty_db)
    first = pgstore.load_build(engine, bundled, source="events.csv")
    assert (first.inserted, first.updated, first.unchanged) == (90, 0, 0)
    assert first.areas == len(bundled.areas) and _count(engine, "control_areas") == first.areas
    before = _all_events(engine)

    again = pgstore.load_build(engine, bundled, source="events.csv")
    assert (again.inserted, again.updated, again.unchanged, again.not_in_file) == (0, 0, 90, 0)
    assert again.version == first.version + 1
    pd.testing.assert_frame_equal(
        _all_events(engine).drop(columns=["version"]), before.drop(columns=["version"])
    )

    # One event changed, one gone from the file: the change is applied, the other is kept.
    frame = pd.read_csv(paths.BUNDLED_EVENTS, dtype=str, keep_default_na=False)
    frame.loc[frame.event_id == "CM001", "fatalities"] = "7"
    frame = frame[frame.event_id != "CM002"]
    edited = tmp_path / "events.csv"
    frame.to_csv(edited, index=False)
    third = pgstore.load_build(engine, build(edited), source=str(edited))
    assert (third.inserted, third.updated, third.unchanged) == (0, 1, 88)
    assert third.not_in_file == 1 and third.not_in_file_ids == ("CM002",)
    after = _all_events(engine).set_index("event_id")
    assert (
        after.loc["CM001", "fatalities"] == 7.0 and after.loc["CM001", "version"] == third.version
    )
    assert "CM002" in after.index  # never deleted silently
    versions = pgstore.DbStore(empty_db, engine=engine).versions()
    assert list(versions.version) == [third.version, again.version, first.version]
    assert versions.complete.all() and versions.iloc[0].not_in_file == 1


def test_a_load_failing_half_way_leaves_the_previous_version(empty_db, bundled, tmp_path):
    engine = pgstore.connect(empty_db)
    pgstore.load_build(engine, bundled, source="events.csv")
    before = _all_events(engine)
    frame = pd.read_csv(paths.BUNDLED_EVENTS, dtype=str, keep_default_na=False)
    frame["fatalities"] = "99"
    frame.loc[len(frame)] = frame.iloc[0].copy()
    frame.loc[len(frame) - 1, "event_id"] = "NEW1"
    edited = tmp_path / "events.csv"
    frame.to_csv(edited, index=False)
    changed = build(edited)

    batches: list[int] = []

    def fail_after_first_batch(done: int, total: int) -> None:
        batches.append(done)
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        pgstore.load_build(engine, changed, batch_size=10, on_batch=fail_after_first_batch)
    assert batches == [10]
    pd.testing.assert_frame_equal(_all_events(engine), before)
    assert _count(engine, "data_versions") == 1
    assert _count(engine, "control_areas") == len(bundled.areas)


JOINED = [
    schema.CONTROLLER, schema.AREA_ID, schema.CONTROLLER_CHANGED, schema.CONTROLLER_CONFIDENCE
]  # fmt: skip


def _compare_join(engine, joined: pd.DataFrame) -> None:
    """The join in PostGIS gives every event the in-process join's four answers."""
    in_db = pgstore.joined_in_db(engine).set_index(schema.EVENT_ID)
    expected = joined.set_index(schema.EVENT_ID)[JOINED].astype(object)
    expected = expected.where(expected.notna(), None)
    assert list(in_db.index) == sorted(expected.index)
    diff = in_db.join(expected.add_suffix("_py"))
    wrong = pd.Series(False, index=diff.index)
    for column in JOINED:
        wrong |= diff[column].fillna("") != diff[f"{column}_py"].fillna("")
    assert not wrong.any(), diff[wrong].head(20).to_string()


def test_join_in_postgis_matches_the_in_process_join_on_the_bundled_data(empty_db, bundled):
    engine = pgstore.connect(empty_db)
    pgstore.load_build(engine, bundled)
    _compare_join(engine, bundled.events)
    assert {schema.CONTESTED, schema.UNKNOWN} <= set(bundled.events[schema.CONTROLLER])
    assert pgstore.join_in_db(engine) == (90, 0)


def test_join_in_postgis_follows_the_tie_break_rules(empty_db):
    # A = [0,2]x[0,2] (first listed), B = [2,4]x[0,2] shares A's right edge, C overlaps A's
    # top-right corner with another controller; A is valid [2020-01-01, 2020-02-01).
    areas = gpd.GeoDataFrame(
        {
            schema.AREA_ID: ["A", "B", "C", "D"],
            schema.CONTROLLER: ["X", "Y", "Z", schema.CONTESTED],
            schema.VALID_FROM: pd.to_datetime(["2020-01-01", None, None, None]),
            schema.VALID_TO: pd.to_datetime(["2020-02-01", None, None, None]),
        },
        geometry=[box(0, 0, 2, 2), box(2, 0, 4, 2), box(1, 1, 3, 3), box(10, 10, 11, 11)],
        crs="EPSG:4326",
    )
    events = pd.DataFrame(
        {
            schema.EVENT_ID: ["border", "overlap", "inside", "outside", "ended", "before",
                              "undated", "contested", "unlocated"],
            schema.EVENT_DATE: pd.to_datetime(
                ["2020-01-10", "2020-01-10", "2020-01-10", "2020-01-10", "2020-02-01",
                 "2019-12-31", None, "2020-01-10", "2020-01-10"]
            ),
            schema.LONGITUDE: [2.0, 1.5, 0.5, 20.0, 0.5, 0.5, 0.5, 10.5, None],
            schema.LATITUDE: [0.5, 1.5, 0.5, 20.0, 0.5, 0.5, 0.5, 10.5, None],
        }
    )  # fmt: skip
    joined = join_events_to_areas(events, areas)
    engine = pgstore.connect(empty_db)
    pgstore.load_build(engine, SimpleNamespace(events=joined, areas=areas))
    _compare_join(engine, joined)
    got = pgstore.joined_in_db(engine).set_index(schema.EVENT_ID)[schema.CONTROLLER].to_dict()
    assert got == {
        "border": "X",  # on A's and B's shared edge: first listed
        "overlap": schema.CONTESTED,
        "inside": "X",
        "outside": schema.UNKNOWN,
        "ended": schema.UNKNOWN,  # valid_to is exclusive
        "before": schema.UNKNOWN,
        "undated": schema.UNKNOWN,
        "contested": schema.CONTESTED,
        "unlocated": schema.UNKNOWN,
    }


def test_join_in_postgis_sees_changes_inside_the_event_window(empty_db):
    """Multi-day events: a hand-over inside the window (changed, low confidence), a window
    inside one version (unchanged), a reversed window, an end on the exclusive valid_to,
    a window that leaves every area (Unknown inside it), an imprecise place, coordinates
    out of range."""
    areas = gpd.GeoDataFrame(
        {
            schema.AREA_ID: ["X1", "Y1", "X2", "U1"],
            schema.CONTROLLER: ["X", "Y", "X", schema.UNKNOWN],
            schema.VALID_FROM: pd.to_datetime(
                ["2020-01-01", "2020-02-01", "2020-03-01", "2020-01-15"]
            ),
            schema.VALID_TO: pd.to_datetime(["2020-02-01", "2020-03-01", "2020-03-10", None]),
        },
        geometry=[box(0, 0, 2, 2), box(0, 0, 2, 2), box(0, 0, 2, 2), box(5, 5, 6, 6)],
        crs="EPSG:4326",
    )
    events = pd.DataFrame(
        {
            schema.EVENT_ID: ["handover", "steady", "reversed", "edge", "leaves", "vague",
                              "far", "twice", "into-unknown"],
            schema.EVENT_DATE: pd.to_datetime(
                ["2020-01-30", "2020-01-10", "2020-02-05", "2020-01-20", "2020-03-05",
                 "2020-01-10", "2020-01-10", "2020-01-15", "2020-01-20"]
            ),
            schema.DATE_START: pd.to_datetime(
                ["2020-01-25", "2020-01-05", "2020-02-10", "2020-01-20", "2020-03-05",
                 None, None, "2020-01-15", "2020-01-10"]
            ),
            schema.DATE_END: pd.to_datetime(
                ["2020-02-03", "2020-01-20", "2020-01-28", "2020-02-01", "2020-03-15",
                 None, None, "2020-03-05", "2020-01-20"]
            ),
            schema.LONGITUDE: [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 200.0, 1.0, 5.5],
            schema.LATITUDE: [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 5.5],
            schema.GEO_PRECISION: pd.array([1, 1, 1, 1, 1, 3, 1, 1, 1], dtype="Int8"),
        }
    )  # fmt: skip
    joined = join_events_to_areas(events, areas)
    engine = pgstore.connect(empty_db)
    pgstore.load_build(engine, SimpleNamespace(events=joined, areas=areas))
    with engine.begin() as conn:  # forget the load's answers: the SQL must find them itself
        conn.exec_driver_sql(
            f"UPDATE {pgstore.SCHEMA}.events SET controller = NULL, area_id = NULL, "
            "controller_changed_in_window = NULL, controller_confidence = NULL"
        )
    assert pgstore.join_in_db(engine) == (len(events), len(events))
    _compare_join(engine, joined)
    got = pgstore.joined_in_db(engine).set_index(schema.EVENT_ID)
    assert got[schema.CONTROLLER_CHANGED].to_dict() == {
        "handover": True, "steady": False, "reversed": True, "edge": True, "leaves": True,
        "vague": False, "far": False, "twice": True,
        "into-unknown": False,  # no area, then an area labelled Unknown: Unknown throughout
    }  # fmt: skip
    assert got[schema.CONTROLLER_CONFIDENCE].to_dict() == {
        "handover": "low", "steady": "high", "reversed": "low", "edge": "low", "leaves": "low",
        "vague": "low", "far": "low", "twice": "low", "into-unknown": "high",
    }  # fmt: skip
    assert got.loc["far", schema.CONTROLLER] == schema.UNKNOWN


def test_a_load_with_new_areas_joins_the_kept_events_again(empty_db, bundled):
    """Events of an earlier load that a new file lacks are kept, and joined with the new
    load's control areas: every stored answer then follows one set of areas."""
    engine = pgstore.connect(empty_db)
    pgstore.load_build(engine, bundled)
    areas = bundled.areas.copy()
    areas[schema.CONTROLLER] = areas[schema.CONTROLLER].replace(schema.ISLAMIC_STATE, "Renamed")
    events = bundled.events.drop(columns=JOINED + ["geometry"], errors="ignore")
    part = events.iloc[:30]
    loaded = pgstore.load_build(
        engine, SimpleNamespace(events=join_events_to_areas(part, areas), areas=areas)
    )
    assert loaded.not_in_file == 60 and loaded.rejoined > 0
    expected = join_events_to_areas(events, areas)
    _compare_join(engine, expected)  # the join in PostGIS: the in-process answers
    # and what is stored is that join already: running it again changes nothing
    assert pgstore.join_in_db(engine) == (90, 0)
    stored = _all_events(engine).set_index(schema.EVENT_ID)[schema.CONTROLLER]
    assert (stored == "Renamed").sum() == (expected[schema.CONTROLLER] == "Renamed").sum() > 0


def test_join_in_postgis_matches_on_a_synthetic_dataset(empty_db, tmp_path):
    from dashboard.synth import write_synthetic

    write_synthetic(tmp_path, events=3000, areas=400, seed=3)
    result = build(tmp_path / "events.csv", [tmp_path / "control_areas.parquet"])
    engine = pgstore.connect(empty_db)
    pgstore.load_build(engine, result)
    _compare_join(engine, result.events)
    assert result.events[schema.CONTROLLER].nunique() > 3


def test_select_gives_the_in_process_selection_clipped_to_the_map(empty_db, bundled):
    engine = pgstore.connect(empty_db)
    pgstore.load_build(engine, bundled)
    store = pgstore.DbStore(empty_db, engine=engine)
    events = bundled.events.sort_values(schema.EVENT_DATE, kind="stable").reset_index(drop=True)
    index = build_date_index(events[schema.EVENT_DATE])
    as_of = dt.date(2017, 11, 15)
    for filters in (
        Filters(),
        Filters(event_types=("Battles",)),
        Filters(min_fatalities=1),
        Filters(actors=("Islamic State",), precisions=(1, 2)),
    ):
        sel = select(events, index, as_of=as_of, window_days=3660, filters=filters)
        expected = set(events.iloc[sel.positions][schema.EVENT_ID])
        got = store.select(as_of, 3660, filters)
        assert set(got[schema.EVENT_ID]) == expected and expected
        assert store.window_counts(as_of, 3660, filters).in_window == sel.in_window

    bbox = (38.0, 34.0, 42.0, 37.0)  # north-east Syria
    got = store.select(as_of, 3660, Filters(), bbox)
    sel = select(events, index, as_of=as_of, window_days=3660, filters=Filters())
    shown = events.iloc[sel.positions]
    inside = shown[
        shown.longitude.between(bbox[0], bbox[2]) & shown.latitude.between(bbox[1], bbox[3])
    ]
    assert set(got[schema.EVENT_ID]) == set(inside[schema.EVENT_ID])
    assert 0 < len(got) < len(shown)
    assert got[schema.EVENT_DATE].is_monotonic_increasing
    # the view's counts say how many the map will draw, in the same pass as the rest
    boxed = store.window_counts(as_of, 3660, Filters(min_fatalities=1), bbox)
    assert boxed.in_box == len(store.select(as_of, 3660, Filters(min_fatalities=1), bbox)) > 0
    assert boxed.shown == store.window_counts(as_of, 3660, Filters(min_fatalities=1)).shown
    assert store.window_counts(as_of, 3660, Filters()).in_box is None

    areas = store.areas_at(as_of, bbox)
    assert len(areas) and areas.crs.to_epsg() == 4326
    assert (
        areas[schema.VALID_FROM].isna() | (areas[schema.VALID_FROM] <= pd.Timestamp(as_of))
    ).all()


def test_select_sends_values_as_parameters(empty_db, bundled):
    engine = pgstore.connect(empty_db)
    pgstore.load_build(engine, bundled)
    store = pgstore.DbStore(empty_db, engine=engine)
    hostile = "x' OR '1'='1'; DROP TABLE conflictmap.events; --"
    got = store.select(dt.date(2017, 11, 15), 3660, Filters(event_types=(hostile,)))
    assert got.empty
    assert _count(engine, "events") == 90


def test_cli_init_load_join(empty_db, tmp_path):
    runner = CliRunner()
    done = runner.invoke(cli, ["db", "init", "--db", empty_db])
    assert done.exit_code == 0, done.output
    done = runner.invoke(cli, ["db", "load", str(paths.BUNDLED_EVENTS), "--db", empty_db])
    assert done.exit_code == 0, done.output
    assert "inserted 90" in done.output
    done = runner.invoke(cli, ["db", "load", str(paths.BUNDLED_EVENTS), "--db", empty_db])
    assert done.exit_code == 0 and "inserted 0, updated 0, unchanged 90" in done.output
    done = runner.invoke(cli, ["db", "join", "--db", empty_db])
    assert (
        done.exit_code == 0
        and "90 events joined in PostGIS, 0 with a different answer" in done.output
    )


def test_cli_load_exit_status_says_what_was_left_out(empty_db, tmp_path):
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "init", "--db", empty_db]).exit_code == 0
    # every row set aside: exit 2, and the database is not touched
    dates = tmp_path / "dates.csv"
    dates.write_text("event_date,latitude,longitude\r\nsoon,36.1,38.2\r\n", encoding="utf-8")
    done = runner.invoke(cli, ["db", "load", str(dates), "--db", empty_db])
    assert done.exit_code == 2, done.output
    assert "nothing to load: all 1 rows were set aside" in done.output
    assert "database was not changed" in done.output
    assert _count(pgstore.connect(empty_db), "events") == 0
    # a control-area feature set aside: loaded without it, exit 1, said
    areas = json.loads(paths.BUNDLED_AREAS.read_text(encoding="utf-8"))
    areas["features"][0]["geometry"] = None
    broken = tmp_path / "areas.geojson"
    broken.write_text(json.dumps(areas), encoding="utf-8")
    done = runner.invoke(
        cli, ["db", "load", str(paths.BUNDLED_EVENTS), "--areas", str(broken), "--db", empty_db]
    )
    assert done.exit_code == 1, done.output
    assert "1 set aside (1 null geometry)" in done.output
    assert "loaded with rows or control-area features set aside (exit 1)" in done.output
    assert _count(pgstore.connect(empty_db), "events") == 90


def test_cli_load_takes_the_column_mapping_its_error_message_names(empty_db, tmp_path):
    """A file whose date column is called ``date`` (as a UCDP extract saved from a
    spreadsheet): the message names ``--map``, and ``db load`` takes it, as ``build`` does."""
    runner = CliRunner()
    assert runner.invoke(cli, ["db", "init", "--db", empty_db]).exit_code == 0
    events = tmp_path / "ged_extract.csv"
    events.write_text(
        "\ufeffid;date;latitude;longitude;best;country\r\n"
        "GED1;2017-11-09;34.45;40.92;3;Syria\r\n"
        "GED2;2017-11-19;34.46;40.93;;Syria\r\n",
        encoding="utf-8",
    )
    done = runner.invoke(cli, ["db", "load", str(events), "--db", empty_db])
    assert done.exit_code == 2 and "--map date=event_date" in done.output, done.output
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[columns]\nid = "event_id"\n', encoding="utf-8")
    done = runner.invoke(
        cli,
        ["db", "load", str(events), "--map", "date=event_date", "--mapping", str(mapping),
         "--db", empty_db],
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "inserted 2," in done.output
    stored = _all_events(pgstore.connect(empty_db)).set_index(schema.EVENT_ID)
    assert str(stored.loc["GED1", schema.EVENT_DATE]) == "2017-11-09"


def test_cli_unreachable_database_is_one_line_and_exit_2(pg_url):
    port = int(pg_url.rsplit(":", 1)[1].split("/")[0])
    url = f"postgresql://nobody:secret@127.0.0.1:{port + 1 if port < 65535 else 1}/none"
    done = subprocess.run(
        [sys.executable, "-m", "dashboard", "db", "init", "--db", url],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        check=False,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach the database" in lines[0]
    assert "secret" not in done.stderr


def test_bbox_from_view_holds_the_visible_map():
    assert bbox_from_view(None, 6) is None
    minx, miny, maxx, maxy = bbox_from_view((35.0, 40.0), 6)
    assert minx < 40.0 < maxx and miny < 35.0 < maxy
    assert 20 < maxx - minx < 60  # about 1600 px at 0.022 degrees per px
    assert bbox_from_view((0.0, 0.0), 0) == (-180.0, -90.0, 180.0, 90.0)


def test_serve_refuses_an_unreachable_database(pg_url):
    port = int(pg_url.rsplit(":", 1)[1].split("/")[0])
    done = subprocess.run(
        [sys.executable, "-m", "dashboard", "serve", "--db",
         f"postgresql://nobody@127.0.0.1:{port + 1 if port < 65535 else 1}/none"],
        capture_output=True, text=True, timeout=60, cwd=REPO, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "cannot reach the database" in done.stderr


def test_areas_keep_their_provenance_and_an_older_store_gains_the_columns(empty_db, bundled):
    engine = pgstore.connect(empty_db)
    # a store made before the provenance columns existed
    with engine.begin() as conn:
        for column in (schema.AREA_KIND, schema.AREA_PROVENANCE):
            conn.exec_driver_sql(f"ALTER TABLE conflictmap.control_areas DROP COLUMN {column}")
    store = pgstore.DbStore(empty_db, engine=engine)
    assert schema.AREA_PROVENANCE not in store.areas_at(None).columns  # reads as before

    pgstore.load_build(engine, bundled)
    areas = store.areas_at(None)
    assert areas[schema.AREA_KIND].eq("polygons").all()
    first = areas[schema.AREA_PROVENANCE].iloc[0]
    assert first == bundled.areas[schema.AREA_PROVENANCE].iloc[0]
    assert first.startswith("control_areas.geojson feature ")


def _awkward_build(n_extras: int = 60) -> SimpleNamespace:
    """Events a tired analyst's spreadsheet leaves: quotes, line breaks, backslashes, empty
    cells apart from missing ones, NaN and infinite numbers; and more extra columns than one
    jsonb_build_object call takes, one with a name longer than an SQL identifier."""
    events = pd.DataFrame(
        {
            schema.EVENT_ID: ["Q1", "Q2", "Q3"],
            schema.EVENT_DATE: pd.to_datetime(["2017-11-09", "2017-11-10", None]),
            schema.NOTES: ['he said "Abu Kamal", then\nleft', "", None],
            schema.LOCATION: ["C:\\temp\\N", "\\N", "البوكمال"],
            schema.FATALITIES: [3.0, np.inf, np.nan],
            schema.LATITUDE: [34.45, 34.46, np.nan],
            schema.LONGITUDE: [40.92, 40.93, np.nan],
            schema.GEO_PRECISION: pd.array([1, None, 3], dtype="Int8"),
            schema.CONTROLLER_CHANGED: [False, True, False],
        }
    )
    long_name = "a column name far longer than the sixty-three bytes PostgreSQL allows a name"
    for i in range(n_extras):
        events[f"extra {i}"] = [f"v{i}", None, 'quote " here']
    events[long_name] = [1, 2, 3]
    areas = gpd.GeoDataFrame(
        {schema.AREA_ID: ["a"], schema.CONTROLLER: ["Islamic State"],
         schema.VALID_FROM: pd.to_datetime(["2014-06-01"]), schema.VALID_TO: [pd.NaT]},
        geometry=[box(40, 34, 41, 35)], crs="EPSG:4326",
    )  # fmt: skip
    return SimpleNamespace(events=events, areas=areas, long_name=long_name)


def test_a_load_stores_awkward_values_exactly_and_extras_as_json(empty_db):
    engine = pgstore.connect(empty_db)
    built = _awkward_build()
    first = pgstore.load_build(engine, built)
    assert (first.inserted, first.updated) == (3, 0)
    stored = _all_events(engine).set_index(schema.EVENT_ID)
    assert stored.loc["Q1", schema.NOTES] == 'he said "Abu Kamal", then\nleft'
    with engine.connect() as conn:
        notes = conn.exec_driver_sql(
            f"SELECT event_id, notes, notes IS NULL FROM {pgstore.SCHEMA}.events ORDER BY 1"
        ).all()
    assert [tuple(r) for r in notes][1:] == [
        ("Q2", "", False),
        ("Q3", None, True),
    ]  # empty != missing
    assert list(stored[schema.LOCATION]) == ["C:\\temp\\N", "\\N", "البوكمال"]
    assert stored.loc["Q1", schema.FATALITIES] == 3.0
    assert pd.isna(stored.loc["Q2", schema.FATALITIES])  # infinite: not a number of dead
    assert pd.isna(stored.loc["Q3", schema.EVENT_DATE])
    assert pd.isna(stored.loc["Q2", schema.GEO_PRECISION])
    assert stored.loc["Q3", schema.GEO_PRECISION] == 3
    extra = stored.loc["Q3", "extra"]
    assert len(extra) == 61
    assert extra["extra 0"] == extra["extra 59"] == 'quote " here'
    assert extra[built.long_name] == 3  # a number stays a number
    assert stored.loc["Q2", "extra"]["extra 7"] is None
    with engine.connect() as conn:
        placed = conn.exec_driver_sql(
            f"SELECT event_id, ST_X(geom), ST_Y(geom) FROM {pgstore.SCHEMA}.events "
            "WHERE geom IS NOT NULL ORDER BY 1"
        ).all()
    assert [tuple(r) for r in placed] == [("Q1", 40.92, 34.45), ("Q2", 40.93, 34.46)]

    # The same rows again change nothing; one changed extra is one update.
    again = pgstore.load_build(engine, built)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 3)
    built.events.loc[1, "extra 30"] = "corrected"
    third = pgstore.load_build(engine, built)
    assert (third.inserted, third.updated, third.unchanged) == (0, 1, 2)
    assert _all_events(engine).set_index(schema.EVENT_ID).loc["Q2", "extra"]["extra 30"] == (
        "corrected"
    )


def _event_indexes(engine) -> set[str]:
    """The events table's indexes and constraints, by name."""
    with engine.connect() as conn:
        indexes = conn.exec_driver_sql(
            "SELECT indexname FROM pg_indexes WHERE schemaname = %(s)s AND tablename = 'events'",
            {"s": pgstore.SCHEMA},
        ).scalars()
        constraints = conn.exec_driver_sql(
            "SELECT conname FROM pg_constraint WHERE conrelid = %(t)s::regclass",
            {"t": f"{pgstore.SCHEMA}.events"},
        ).scalars()
        return set(indexes) | set(constraints)


def test_a_first_large_load_builds_the_indexes_after_the_rows(empty_db, bundled, monkeypatch):
    from dashboard.store import load as store_load

    engine = pgstore.connect(empty_db)
    indexes = _event_indexes(engine)
    assert {"events_geom_gist", "events_date_idx", "events_pkey", "events_version_fkey"} <= indexes
    monkeypatch.setattr(store_load, "REBUILD_INDEXES_AT", 10)

    # A first load that fails after its indexes were dropped leaves them in place.
    def interrupt(done: int, total: int) -> None:
        raise RuntimeError("interrupted")

    calls: list[str] = []
    real_merge = store_load._merge

    def merge_then_fail(conn, staged, version, *, fresh):
        calls.append(f"fresh={fresh}")
        real_merge(conn, staged, version, fresh=fresh)
        raise RuntimeError("interrupted after the rows")

    monkeypatch.setattr(store_load, "_merge", merge_then_fail)
    with pytest.raises(RuntimeError, match="after the rows"):
        pgstore.load_build(engine, bundled)
    assert calls == ["fresh=True"]
    assert _event_indexes(engine) == indexes and _count(engine, "events") == 0
    monkeypatch.setattr(store_load, "_merge", real_merge)

    loaded = pgstore.load_build(engine, bundled)
    assert loaded.inserted == len(bundled.events)
    assert _event_indexes(engine) == indexes
    with engine.connect() as conn:  # the keys hold again
        with pytest.raises(Exception, match="events_pkey"):
            conn.exec_driver_sql(
                f"INSERT INTO {pgstore.SCHEMA}.events (event_id, version) "
                f"SELECT event_id, version FROM {pgstore.SCHEMA}.events LIMIT 1"
            )
        conn.rollback()
        with pytest.raises(Exception, match="events_version_fkey"):
            conn.exec_driver_sql(
                f"INSERT INTO {pgstore.SCHEMA}.events (event_id, version) VALUES ('X', 999)"
            )
        conn.rollback()
    # the rebuilt indexes serve the map's queries
    with engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")
        plan = "\n".join(
            r[0]
            for r in conn.exec_driver_sql(
                f"EXPLAIN SELECT event_id FROM {pgstore.SCHEMA}.events "
                "WHERE geom && ST_MakeEnvelope(40, 34, 41, 35, 4326)"
            ).all()
        )
        conn.rollback()
    assert "events_geom_gist" in plan
    _compare_join(engine, bundled.events)


def test_a_load_of_ids_and_extras_only_and_of_hundreds_of_extras(empty_db):
    engine = pgstore.connect(empty_db)
    bare = SimpleNamespace(
        events=pd.DataFrame({schema.EVENT_ID: ["B1"], "tags": ["x"]}), areas=None
    )
    assert pgstore.load_build(engine, bare).inserted == 1
    wide = _awkward_build(n_extras=250)
    assert pgstore.load_build(engine, wide).inserted == 3
    stored = _all_events(engine).set_index(schema.EVENT_ID)
    assert stored.loc["B1", "extra"] == {"tags": "x"}
    assert len(stored.loc["Q1", "extra"]) == 251
    assert stored.loc["Q3", "extra"]["extra 249"] == 'quote " here'
    assert pgstore.load_build(engine, wide).updated == 0  # the same JSON either way


def test_a_connection_in_another_client_encoding_stores_the_same_text(empty_db):
    engine = pgstore.connect(f"{empty_db}?client_encoding=latin1")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW client_encoding").scalar().lower() == "latin1"
    built = _awkward_build(n_extras=1)
    built.events[schema.LOCATION] = ["Déir ez-Zór", "Raqqa", "Baghuz"]
    pgstore.load_build(engine, built)
    utf8 = pgstore.connect(empty_db)
    with utf8.connect() as conn:
        places = conn.exec_driver_sql(
            f"SELECT location FROM {pgstore.SCHEMA}.events ORDER BY event_id"
        ).scalars()
        assert list(places) == ["Déir ez-Zór", "Raqqa", "Baghuz"]


@contextmanager
def recorded_statements(engine, statements: list[str]):
    """Record every statement the engine sends."""
    from sqlalchemy import event

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_a_first_load_while_a_reader_holds_the_table_grows_its_indexes(
    empty_db, bundled, monkeypatch
):
    from dashboard.store import load as store_load

    engine = pgstore.connect(empty_db)
    monkeypatch.setattr(store_load, "REBUILD_INDEXES_AT", 10)
    drops: list[str] = []
    reader = pgstore.connect(empty_db).connect()
    reader.exec_driver_sql("BEGIN")
    reader.exec_driver_sql(f"SELECT count(*) FROM {pgstore.SCHEMA}.events").scalar()
    try:
        with recorded_statements(engine, drops):
            loaded = pgstore.load_build(engine, bundled)  # does not wait for the reader
    finally:
        reader.rollback()
        reader.close()
    assert loaded.inserted == len(bundled.events)
    assert any("NOWAIT" in d for d in drops)  # it asked, and did not wait
    assert not [d for d in drops if "DROP" in d]
    _compare_join(engine, bundled.events)


def test_rows_fetched_through_copy_are_the_rows_a_query_returns(empty_db, bundled):
    """The views read their events through COPY as CSV; every value (quotes, line breaks,
    backslashes, empty text apart from missing text, missing numbers, dates and flags) must
    arrive as the plain query gives it."""
    from dashboard.store import read as store_read

    engine = pgstore.connect(empty_db)
    pgstore.load_build(engine, bundled)
    pgstore.load_build(engine, _awkward_build(n_extras=1), incremental=True)
    store = pgstore.DbStore(empty_db, engine=engine)
    names = list(store_read.SELECT_COLUMNS)
    query = (
        f"SELECT {', '.join(names)} FROM {pgstore.SCHEMA}.events "
        "WHERE event_id <> :skip ORDER BY event_id"
    )
    with engine.connect() as conn:
        rows = conn.execute(sqlalchemy_text(query), {"skip": "none"}).all()
    expected = store_read._frame(rows, names)
    got = store._fetched(query, {"skip": "none"}, names)
    assert len(got) == len(bundled.events) + 3
    pd.testing.assert_frame_equal(got, expected)
    awkward = got.set_index(schema.EVENT_ID)
    assert awkward.loc["Q1", schema.NOTES] == 'he said "Abu Kamal", then\nleft'
    assert awkward.loc["Q2", schema.NOTES] == ""
    assert pd.isna(awkward.loc["Q3", schema.NOTES])
    assert awkward.loc["Q1", schema.LOCATION] == "C:\\temp\\N"
    # no rows: the same empty frame
    empty = store._fetched(query.replace("<>", "="), {"skip": "Q1x"}, names)
    pd.testing.assert_frame_equal(empty, store_read.no_events())


def _as_role(url: str, role: str) -> str:
    """The URL with another user name (the test clusters trust every local user)."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(username=role).render_as_string(hide_password=False)


def test_a_role_that_does_not_own_the_tables_can_load(empty_db, bundled, monkeypatch):
    """A team's loader often may write the tables but not own them: it cannot make or drop
    an index, and a load must not try (a missing index is left to `db init`)."""
    from dashboard.store import load as store_load

    monkeypatch.setattr(store_load, "REBUILD_INDEXES_AT", 10)
    owner = pgstore.connect(empty_db)
    s = pgstore.SCHEMA
    with owner.begin() as conn:
        conn.exec_driver_sql(f"DROP INDEX {s}.events_window_idx")
        conn.exec_driver_sql(
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cm_loader') "
            "THEN CREATE ROLE cm_loader LOGIN; END IF; END $$"
        )
        conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA {s} TO cm_loader")
        conn.exec_driver_sql(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO cm_loader"
        )
        conn.exec_driver_sql(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {s} TO cm_loader")
    loader = pgstore.connect(_as_role(empty_db, "cm_loader"))
    try:
        first = pgstore.load_build(loader, bundled)  # into the empty table: no rebuild
        assert first.inserted == len(bundled.events)
        assert pgstore.load_build(loader, bundled).unchanged == len(bundled.events)
        assert "events_window_idx" not in _event_indexes(owner)
        _compare_join(owner, bundled.events)
    finally:
        loader.dispose()
    pgstore.load_build(owner, bundled)  # the owner's next load makes the missing index
    assert "events_window_idx" in _event_indexes(owner)


def test_text_too_long_to_index_is_refused_naming_the_row(empty_db):
    engine = pgstore.connect(empty_db)
    built = _awkward_build(n_extras=0)
    built.events[schema.SOURCE_ROW] = [2, 3, 4]
    built.events[schema.EVENT_TYPE] = ["Battles", "Battles " + "x" * 700, "Riots"]
    with pytest.raises(SchemaError, match=r"data row 3: its event_type is 708 char"):
        pgstore.load_build(engine, built)
    assert _count(engine, "events") == 0


def test_fetches_read_dates_whatever_the_date_style_and_keep_rows_of_one_null(empty_db, bundled):
    owner = pgstore.connect(empty_db)
    pgstore.load_build(owner, bundled)
    pgstore.load_build(owner, _awkward_build(n_extras=0), incremental=True)
    with owner.connect() as conn:
        database = conn.exec_driver_sql("SELECT current_database()").scalar()
        conn.exec_driver_sql(f"ALTER DATABASE {database} SET DateStyle = 'SQL, DMY'")
        conn.commit()
    try:
        engine = pgstore.connect(empty_db)  # new connections: European dates by default
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SHOW DateStyle").scalar() == "SQL, DMY"
        store = pgstore.DbStore(empty_db, engine=engine)
        frame = store.events_frame((schema.EVENT_ID, schema.EVENT_DATE))
        q1 = frame.set_index(schema.EVENT_ID).loc["Q1", schema.EVENT_DATE]
        assert q1 == pd.Timestamp("2017-11-09")
        notes = store.events_frame((schema.NOTES,))  # one column, NULL in some rows
        assert len(notes) == len(bundled.events) + 3
        assert notes[schema.NOTES].isna().sum() == 1
        engine.dispose()
    finally:
        with owner.connect() as conn:
            conn.exec_driver_sql(f"ALTER DATABASE {database} RESET DateStyle")
            conn.commit()
