"""The app on a PostGIS store: what it asks the database, and that it gives the answers the
files give.

The page holds no event in memory in database mode: the filters' choices and the dates come
from aggregates, each view asks for its counts (aggregates) and for the events inside the
map. These tests check the aggregates against the in-process computations on the same build,
watch every statement the page sends, and follow a load made by another process and a
database that goes away and comes back. Run against a real PostgreSQL with PostGIS
(``tests/db_fixtures.py``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import paths, schema
from dashboard import store as pgstore
from dashboard.app.loaders import DB_ENV, db_store, load_db_dataset
from dashboard.layers.mapping import bbox_from_view
from dashboard.pipeline import build
from dashboard.timewindow import (
    Filters,
    build_date_index,
    controller_summary,
    period_counts,
    select,
)
from dashboard.viewstate import counted_options, dataset_options, default_state

APP = str(paths.PACKAGE_DIR / "app" / "main.py")

FILTER_SETS = (
    Filters(),
    Filters(event_types=("Battles",)),
    Filters(min_fatalities=1),  # unknown tolls are hidden: NULL in the database
    Filters(actors=("Islamic State",), precisions=(1, 2)),  # NULL precision: the least precise
    Filters(event_types=("Battles", "Explosions/Remote violence"), countries=("Iraq",)),
    Filters(admin1=("Deir ez-Zor",), min_fatalities=5, precisions=(1,)),
)


@pytest.fixture(scope="module")
def bundled():
    """The bundled build, with a few rows made harder: no location precision (counts as the
    least precise), no coordinates (not on the map), and a few known tolls among the
    unknown ones."""
    result = build()
    events = result.events.copy()
    ids = events[schema.EVENT_ID].astype(str)
    no_precision = ids.isin(["CM010", "CM057", "CM064", "CM070"])
    events[schema.GEO_PRECISION] = events[schema.GEO_PRECISION].mask(no_precision)
    for event_id, toll in (("CM056", 12), ("CM069", 3), ("CM073", 0), ("CM079", 7)):
        events.loc[ids == event_id, schema.FATALITIES] = toll
    unplaced = ids.isin(["CM015", "CM062", "CM075"])
    for column in (schema.LATITUDE, schema.LONGITUDE):
        events[column] = events[column].mask(unplaced)
    if "geometry" in events:
        events["geometry"] = events["geometry"].where(~unplaced, None)
    return SimpleNamespace(**{**vars(result), "events": events})


@pytest.fixture
def loaded(empty_db, bundled):
    """The build in a fresh database, and the page's caches emptied around the test."""
    engine = pgstore.connect(empty_db)
    pgstore.load_build(engine, bundled)
    _clear_caches()
    yield empty_db, engine
    _clear_caches()
    engine.dispose()


def _clear_caches() -> None:
    load_db_dataset.clear()
    db_store.clear()


def _sorted(events: pd.DataFrame) -> pd.DataFrame:
    return events.sort_values(schema.EVENT_DATE, kind="stable").reset_index(drop=True)


def _app(url: str, monkeypatch, params: dict[str, str]) -> AppTest:
    monkeypatch.setenv(DB_ENV, url)
    at = AppTest.from_file(APP, default_timeout=120)
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


def _clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def _summary(at: AppTest) -> str:
    return next(t.value for t in at.text if t.value.startswith("As of "))


def _event_table(at: AppTest) -> pd.DataFrame:
    tables = [d.value for d in at.dataframe if schema.EVENT_ID in d.value.columns]
    assert tables, "no events table on the page"
    return tables[0]


@contextmanager
def _statements() -> Iterator[list[tuple[str, int]]]:
    """Every statement any engine of this process sends, with the rows it returned."""
    import sqlalchemy as sa

    seen: list[tuple[str, int]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, cursor.rowcount))

    sa.event.listen(sa.engine.Engine, "after_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(sa.engine.Engine, "after_cursor_execute", record)


# --- the aggregates against the in-process answers --------------------------------------------


@pytest.mark.parametrize("filters", FILTER_SETS, ids=lambda f: repr(f)[8:60])
def test_window_counts_match_the_in_process_selection(loaded, bundled, filters):
    url, engine = loaded
    store = pgstore.DbStore(url, engine=engine)
    events = _sorted(bundled.events)
    index = build_date_index(events[schema.EVENT_DATE])
    for as_of, days in ((dt.date(2017, 11, 15), 365), (dt.date(2019, 3, 23), 3660)):
        sel = select(events, index, as_of=as_of, window_days=days, filters=filters)
        shown = events.iloc[sel.positions]
        got = store.window_counts(as_of, days, filters)
        assert got.in_window == sel.in_window > 0
        assert got.shown == sel.shown
        assert got.hidden_total == sel.hidden_total
        assert got.hidden_by == sel.hidden_by
        assert got.hidden_only_by == sel.hidden_only_by
        fat = pd.to_numeric(shown[schema.FATALITIES], errors="coerce")
        assert got.fatalities == int(fat.sum())
        assert got.unknown_fatalities == int(fat.isna().sum())
        assert got.unplaced == int(shown[schema.LATITUDE].isna().sum())
        pd.testing.assert_frame_equal(got.controllers, controller_summary(shown))
        assert got.selection().shown == sel.shown


def test_the_data_has_what_the_filter_tests_need(bundled):
    """The filter sets above meet unknown tolls, missing precisions and unplaced events in
    the windows they count (else they would prove little about NULLs)."""
    events = bundled.events
    window = events[events[schema.EVENT_DATE].between("2016-11-16", "2017-11-15")]
    assert window[schema.FATALITIES].isna().any() and (window[schema.FATALITIES] >= 1).any()
    assert window[schema.GEO_PRECISION].isna().any()
    assert window[schema.LATITUDE].isna().any()


@pytest.mark.parametrize("filters", FILTER_SETS[:4], ids=lambda f: repr(f)[8:60])
def test_daily_counts_match_period_counts(loaded, bundled, filters):
    from dashboard.timewindow import combine, filter_masks, weekly_counts

    url, engine = loaded
    store = pgstore.DbStore(url, engine=engine)
    events = bundled.events
    kept = events[combine(filter_masks(events, filters), len(events))]
    expected = period_counts(kept, freq="D")
    got = store.daily_counts(filters)
    assert len(got) > 0
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    pd.testing.assert_frame_equal(
        weekly_counts(got), period_counts(kept, freq="W"), check_dtype=False
    )


def test_options_from_the_aggregates_are_those_of_the_events(loaded, bundled):
    url, engine = loaded
    store = pgstore.DbStore(url, engine=engine)
    facts = store.facts()
    events = _sorted(bundled.events)
    index = build_date_index(events[schema.EVENT_DATE])
    expected = dataset_options(events, index, bundled.areas)
    got = counted_options(facts.daily, facts.values, facts.actors, store.areas_at(None))
    assert got == expected  # dates, choices, coverage, default window
    assert got.event_days == expected.event_days
    assert facts.version == 1 and int(facts.daily.sum()) == len(events)
    lon, lat = events[schema.LONGITUDE], events[schema.LATITUDE]
    assert facts.extent == pytest.approx((lon.min(), lat.min(), lon.max(), lat.max()))


def test_actor_choices_are_capped_to_the_most_frequent(loaded):
    url, engine = loaded
    store = pgstore.DbStore(url, engine=engine)
    facts = store.facts()
    assert len(facts.actors) <= pgstore.MAX_ACTORS
    assert facts.actors.is_monotonic_decreasing
    assert "" not in facts.actors.index


# --- the page -----------------------------------------------------------------------------------


def test_the_page_reads_no_event_rows_beyond_the_view(loaded, bundled, monkeypatch):
    """Start, then a view zoomed on Mosul: the only statements returning event rows are the
    view's bounding-box query, and they return the events inside the map and no more."""
    url, _ = loaded
    with _statements() as seen:
        at = _app(url, monkeypatch, {"date": "2017-07-10", "window": "365", "zoom": "10",
                                     "lat": "36.34", "lon": "43.13"})  # fmt: skip
        _clean(at)
    per_event = [(s, n) for s, n in seen if "SELECT event_id" in s]
    assert len(per_event) == 1, [s for s, _ in per_event]
    bbox = bbox_from_view((36.34, 43.13), 10)
    store = pgstore.DbStore(url)
    expected = store.select(dt.date(2017, 7, 10), 365, Filters(), bbox)
    assert per_event[0][1] == len(expected)
    assert 0 < len(expected) < len(bundled.events) // 4
    # Every other statement on the events aggregates them (one row per day, value or
    # controller at most), and is not a list of events.
    on_events = [s for s, _ in seen if f"FROM {pgstore.SCHEMA}.events" in s]
    others = [s for s in on_events if "SELECT event_id" not in s]
    assert len(others) >= 4
    for statement in others:
        assert re.search(r"\bcount\(|\bGROUP BY\b|\bST_Extent\(", statement), statement
    # The page's counts are those of the whole window, not only of the map.
    sel = select(
        _sorted(bundled.events),
        build_date_index(_sorted(bundled.events)[schema.EVENT_DATE]),
        as_of=dt.date(2017, 7, 10),
        window_days=365,
        filters=Filters(),
    )
    assert f"{sel.shown} events" in _summary(at)
    assert len(_event_table(at)) == len(expected) < sel.shown
    store.engine.dispose()


def test_hexagons_get_only_the_columns_they_aggregate(loaded, monkeypatch):
    """With hexagons the map's query asks for the aggregated columns only (no notes, no
    sources), and the table gets the newest events with every column."""
    url, _ = loaded
    with _statements() as seen:
        at = _app(url, monkeypatch, {"date": "2019-10-27", "window": "3660",
                                     "points": "hexagons", "zoom": "5", "lat": "35.0",
                                     "lon": "41.0"})  # fmt: skip
        _clean(at)
    per_event = [(s, n) for s, n in seen if "SELECT event_id" in s]
    assert len(per_event) == 2, [s for s, _ in per_event]
    (aggregate, n_map), (newest, n_table) = sorted(per_event, key=lambda p: "LIMIT" in p[0])
    assert schema.NOTES not in aggregate and schema.SOURCE not in aggregate
    # fetched through COPY (read by Arrow): the query inside is the view's
    assert aggregate.startswith("COPY (SELECT " + ", ".join(pgstore.AGGREGATE_COLUMNS) + " FROM"), (
        aggregate
    )
    assert "DESC" in newest and schema.NOTES in newest
    assert n_map == n_table > 0  # fewer than TABLE_MAX_ROWS events here: all of them
    table = _event_table(at)
    assert len(table) == n_table and table[schema.EVENT_DATE].is_monotonic_decreasing


def test_app_reads_the_map_events_from_the_database(loaded, monkeypatch):
    url, engine = loaded
    # Mark the database's copy: the page must show it, not the bundled file.
    with engine.begin() as conn:
        conn.exec_driver_sql(
            f"UPDATE {pgstore.SCHEMA}.events SET notes = 'from-postgis' WHERE event_id = 'CM090'"
        )
    at = _app(url, monkeypatch, {"date": "2019-10-27", "window": "3660"})
    _clean(at)
    table = _event_table(at)
    assert "CM090" in set(table[schema.EVENT_ID].astype(str))
    assert table.set_index(schema.EVENT_ID).loc["CM090", schema.NOTES] == "from-postgis"


def test_a_load_by_another_process_shows_on_the_next_run(loaded, bundled, monkeypatch):
    """Replicas share nothing but the database: each run asks for the newest data version,
    so a load made elsewhere (here: another engine) shows without a restart or a cleared
    cache."""
    url, _ = loaded
    at = _app(url, monkeypatch, {"date": "2019-10-27", "window": "3660"})
    _clean(at)
    before = _summary(at)
    assert "CM090" in set(_event_table(at)[schema.EVENT_ID].astype(str))

    extra = bundled.events[bundled.events[schema.EVENT_ID] == "CM090"].copy()
    extra[schema.EVENT_ID] = "NEW1"
    extra[schema.EVENT_DATE] = pd.Timestamp("2019-10-26")
    other = pgstore.connect(url)
    result = SimpleNamespace(**{**vars(bundled), "events": pd.concat([bundled.events, extra])})
    loaded_now = pgstore.load_build(other, result, source="events-v2.csv")
    other.dispose()
    assert loaded_now.version == 2

    at = at.run()
    _clean(at)
    assert "NEW1" in set(_event_table(at)[schema.EVENT_ID].astype(str))
    assert _summary(at) != before
    assert "(version 2)" in "\n".join(t.value for t in at.sidebar.text)


def test_the_page_says_when_the_database_is_lost_and_recovers(loaded, monkeypatch):
    import sqlalchemy as sa

    url, _ = loaded
    # libpq also reads a password from the query: it must not reach the viewers either.
    secret = "query-secret-7f3a"
    at = _app(f"{url}?password={secret}", monkeypatch, {"date": "2017-11-15", "window": "365"})
    _clean(at)
    assert not at.warning, [w.value for w in at.warning]
    assert len(_event_table(at)) > 0

    parsed = sa.engine.make_url(url)
    admin = sa.create_engine(parsed.set(database="postgres", drivername="postgresql+psycopg"))
    name = parsed.database

    def allow(on: bool) -> None:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(on).lower()}')
            if not on:  # and end the app's open connections: the server is gone for it
                conn.exec_driver_sql(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
                )

    try:
        allow(False)
        at = at.slider[0].set_value(dt.date(2017, 11, 8)).run()
        _clean(at)
        warnings = " ".join(w.value for w in at.warning)
        assert "lost the database" in warnings and "asks the database again" in warnings
        assert secret not in warnings
        assert "password" in warnings  # the key is still named, its value masked
        # The control areas are still drawn (read at start); no event is made up.
        assert "control area" in _summary(at) and "0 events" in _summary(at)
    finally:
        allow(True)
        admin.dispose()
    at = at.slider[0].set_value(dt.date(2017, 11, 15)).run()
    _clean(at)
    assert not at.warning, [w.value for w in at.warning]
    assert len(_event_table(at)) > 0


def test_compare_mode_gives_the_same_answers_as_the_files(loaded, monkeypatch):
    url, engine = loaded
    pgstore.load_build(engine, build())  # the bundled build as the files give it
    params = {"mode": "compare", "from": "2017-06-01", "to": "2017-12-31", "basemap": "none"}
    at_db = _app(url, monkeypatch, params)
    _clean(at_db)
    monkeypatch.delenv(DB_ENV)
    at_files = AppTest.from_file(APP, default_timeout=120)
    for key, value in params.items():
        at_files.query_params[key] = value
    at_files = at_files.run()
    _clean(at_files)

    def tables(at: AppTest) -> dict[tuple[str, ...], pd.DataFrame]:
        return {tuple(map(str, d.value.columns)): d.value for d in at.dataframe}

    db_tables, file_tables = tables(at_db), tables(at_files)
    assert set(db_tables) == set(file_tables) and len(db_tables) >= 3
    for columns, frame in file_tables.items():
        got = db_tables[columns]
        assert len(got) == len(frame), columns
        if schema.EVENT_ID in columns:  # the changed-ground events and the check's claims
            assert sorted(got[schema.EVENT_ID].astype(str)) == sorted(
                frame[schema.EVENT_ID].astype(str)
            )


def test_the_change_map_export_asks_the_database_for_no_window_of_events(loaded, monkeypatch):
    """The change map brings its own events (those of the compared span in changed ground):
    making its file must not ask the database for the single-date window's rows."""
    from dashboard.app import exportbuttons

    url, engine = loaded
    pgstore.load_build(engine, build())
    params = {"mode": "compare", "from": "2017-06-01", "to": "2017-12-31", "basemap": "none"}
    at = _app(url, monkeypatch, params)
    _clean(at)

    def no_window(*args, **kwargs):
        raise AssertionError("the change map's export asked for the window's events")

    monkeypatch.setattr(pgstore.DbStore, "select", no_window)
    at.button(key="mk_change_png").click()
    at.run()
    _clean(at)
    made = at.session_state[exportbuttons.K_CHANGE_MADE]["png"]
    assert made.error is None and made.data.startswith(b"\x89PNG")


def test_exports_in_database_mode_draw_the_views_events(loaded, monkeypatch):
    from dashboard.app import exportbuttons
    from dashboard.viewstate import ViewState

    url, engine = loaded
    monkeypatch.setenv(DB_ENV, url)
    ds = load_db_dataset(url, pgstore.DbStore(url, engine=engine).token())
    assert ds.events.empty and ds.store is not None
    view = ViewState(as_of=dt.date(2017, 11, 15), window=30)
    data = exportbuttons._data(ds, view)
    expected = ds.store.select(view.as_of, view.window, view.filters)
    assert len(data.events) == len(expected) > 0
    png = exportbuttons._png(ds, view)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000


def test_the_token_tells_apart_a_database_emptied_and_loaded_again(loaded, bundled):
    """The same version number after the tables were made again is another data version:
    the page's caches are keyed on the token, not on the number."""
    url, engine = loaded
    store = pgstore.DbStore(url, engine=engine)
    first = store.token()
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA {pgstore.SCHEMA} CASCADE")
    pgstore.init_schema(engine)
    assert store.token() == "0:" and store.version() == 0
    pgstore.load_build(engine, bundled)
    second = store.token()
    assert store.version() == 1 and first.startswith("1:") and second.startswith("1:")
    assert second != first


# --- exports from the command line ---------------------------------------------------------------


def test_export_from_the_database_draws_the_views_events(loaded, bundled, tmp_path):
    from cli_runner import run_cli

    from dashboard.export import open_db_source

    url, _ = loaded
    source = open_db_source(url)
    as_of, days = dt.date(2017, 11, 15), 30
    data = source.data(dt.date(2017, 10, 17), as_of, Filters(event_types=("Battles",)))
    events = _sorted(bundled.events)
    sel = select(
        events,
        build_date_index(events[schema.EVENT_DATE]),
        as_of=as_of,
        window_days=days,
        filters=Filters(event_types=("Battles",)),
    )
    assert sorted(data.events[schema.EVENT_ID]) == sorted(events.iloc[sel.positions].event_id)
    assert data.options == dataset_options(
        events, build_date_index(events[schema.EVENT_DATE]), bundled.areas
    )

    out = tmp_path / "view.png"
    done = run_cli("export", "--db", url, "--date", "2017-11-15", "--window", "30",
                   "-o", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 50_000
    gif = tmp_path / "weeks.gif"
    done = run_cli("export", "--db", url, "--format", "gif", "--from", "2017-10-01",
                   "--to", "2017-10-22", "--step", "week", "-o", str(gif))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert gif.read_bytes()[:6] == b"GIF89a"


def test_export_refuses_a_database_and_files_together(pg_url, tmp_path):
    from cli_runner import run_cli

    done = run_cli("export", "--db", pg_url, "--events", "events.csv", "-o",
                   str(tmp_path / "x.png"))  # fmt: skip
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "--db" in done.stderr
    port = int(pg_url.rsplit(":", 1)[1].split("/")[0])
    gone = f"postgresql://nobody@127.0.0.1:{port + 1 if port < 65535 else 1}/none"
    done = run_cli("export", "--db", gone, "-o", str(tmp_path / "y.png"))
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1
    assert "cannot reach the database" in done.stderr
    assert not (tmp_path / "y.png").exists()


def test_a_store_dataset_credits_its_sources_and_counts_every_event(loaded, bundled):
    """No event is in memory: whom to credit and how many events there are come from the
    database's aggregates, as they would from the events."""
    from dashboard.attribution import GEONAMES_ATTRIBUTION, attribution_lines, source_formats

    url, engine = loaded
    ds = load_db_dataset(url, pgstore.DbStore(url, engine=engine).token())
    assert ds.events.empty
    assert ds.event_report.rows_in == ds.event_report.rows_loaded == len(bundled.events)
    assert source_formats(ds) == source_formats(bundled)
    uses_gazetteer = bundled.events[schema.GEOCODE_METHOD].isin(["exact", "alias", "fuzzy"])
    assert uses_gazetteer.any()
    assert GEONAMES_ATTRIBUTION in attribution_lines(ds)


def test_exports_from_the_store_frame_what_files_frame(loaded, bundled):
    """Without a box or a view link, an export frames all the data: from a database, whose
    export holds only the dates drawn, as from the files."""
    from dashboard.export import open_db_source
    from dashboard.export.data import export_data
    from dashboard.export.view import view_extent

    url, _ = loaded
    source = open_db_source(url)
    view = default_state(source.options)
    assert view.center is None  # the default view has no map position of its own
    start = view.as_of - dt.timedelta(days=view.window - 1)
    from_db = source.data(start, view.as_of, view.filters)
    assert 0 < len(from_db.events) < len(bundled.events)
    from_files = export_data(bundled.events, bundled.areas)
    assert view_extent(from_db, view) == pytest.approx(view_extent(from_files, view))


def test_the_map_box_is_what_the_map_reported_on_this_run(monkeypatch):
    """The database is asked for the part of the world the map shows now: the bounds the
    map reported on this run (a tenth wider), else a box for its centre and zoom; nothing
    before the map has reported and without a view position."""
    from dashboard.app import mapview
    from dashboard.viewstate import ViewState

    state: dict = {}
    monkeypatch.setattr(mapview, "st", SimpleNamespace(session_state=state))
    view = ViewState(as_of=dt.date(2017, 11, 15))
    assert mapview.map_bbox(view) is None
    state[mapview.MAP_KEY] = {
        "center": {"lat": 35.0, "lng": 40.0},
        "zoom": 7,
        "bounds": {"_southWest": {"lat": 33.0, "lng": 36.0},
                   "_northEast": {"lat": 37.0, "lng": 44.0}},
    }  # fmt: skip
    assert mapview.map_bbox(view) == pytest.approx((35.2, 32.6, 44.8, 37.4))
    del state[mapview.MAP_KEY]["bounds"]
    assert mapview.map_bbox(view) == bbox_from_view((35.0, 40.0), 7)
    state[mapview.MAP_KEY]["bounds"] = {"_southWest": {"lat": -80, "lng": -400},
                                        "_northEast": {"lat": 80, "lng": 400}}  # fmt: skip
    assert mapview.map_bbox(view) == pytest.approx((-180.0, -90.0, 180.0, 90.0))
