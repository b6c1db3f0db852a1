"""The page, run headless with streamlit.testing.v1.AppTest (no browser).

Most tests use the tiny inputs of ``app_fixtures`` (through CONFLICTMAP_EVENTS and
CONFLICTMAP_AREAS, as ``conflictmap serve`` sets them); one runs the bundled data.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import paths
from dashboard import viewstate as S
from dashboard.app import session as K
from dashboard.app.loaders import AREAS_ENV, EVENTS_ENV
from dashboard.app.safetext import md
from dashboard.timewindow import Filters

# Each test builds into a cache of its own (app_fixtures.private_build_cache).
pytestmark = pytest.mark.usefixtures("private_build_cache")

APP = str(Path(paths.PACKAGE_DIR) / "app" / "main.py")
TIMEOUT = 120


def _app(params: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    return at.run()


def _unescape(markdown: str) -> str:
    """What a reader sees of escaped markdown (backslash escapes and zero-width spaces gone)."""
    return re.sub(r"\\(.)", r"\1", markdown).replace("\u200b", "")


def _summary(at: AppTest) -> str:
    texts = [t.value for t in at.text if t.value.startswith("As of ")]
    assert texts, "the summary line is missing"
    return texts[0]


def _event_ids(at: AppTest) -> list[str]:
    tables = [d.value for d in at.dataframe if "event_id" in d.value.columns]
    assert tables, "the event table is missing"
    return sorted(tables[0]["event_id"].astype(str))


def test_page_runs_on_bundled_data(monkeypatch):
    monkeypatch.delenv(EVENTS_ENV, raising=False)
    monkeypatch.delenv(AREAS_ENV, raising=False)
    assert paths.BUNDLED_EVENTS.is_file(), "bundled events.csv is missing"
    at = _app()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert not at.warning, [w.value for w in at.warning]
    assert _summary(at).startswith("As of ")
    assert len(_event_ids(at)) > 0
    # The permalink is written on the first run.
    assert "date" in at.query_params and "window" in at.query_params


def test_default_view_is_the_last_date_and_a_30_day_window(tiny):
    at = _app()
    assert not at.exception
    assert at.session_state[K.K_DATE] == dt.date(2017, 11, 15)
    assert K.window_days(at.session_state) == 30
    # 2017-10-17 .. 2017-11-15: IRQ3, IRQ4, IRQ5, SYR2, IRQ6.
    assert _event_ids(at) == ["IRQ3", "IRQ4", "IRQ5", "IRQ6", "SYR2"]
    assert "As of 2017-11-15: 2 control areas" in _summary(at)
    assert at.query_params["date"] == "2017-11-15"
    assert at.query_params["window"] == "30"


def test_url_parameters_set_the_view(tiny):
    at = _app(
        {
            "date": "2015-06-15",
            "window": "90",
            "type": ["Battles", "Explosions/Remote violence"],
            "min_fatalities": "1",
            "precision": "1",
            "layers": "areas,events",
            "basemap": "none",
            "step": "month",
            "lat": "36.3",
            "lon": "43.1",
            "zoom": "9",
        }
    )
    assert not at.exception
    assert not at.warning, [w.value for w in at.warning]
    ss = at.session_state
    assert ss[K.K_DATE] == dt.date(2015, 6, 15)
    assert K.window_days(ss) == 90
    assert ss[K.K_TYPES] == ["Battles", "Explosions/Remote violence"]
    assert ss[K.K_MIN_FAT] == 1
    assert ss[K.K_PRECISION] == [1]
    assert ss[K.K_BASEMAP] == "none"
    assert ss[K.K_STEP] == "month"
    assert ss[K.LAYER_KEYS["heatmap"]] is False and ss[K.LAYER_KEYS["context"]] is False
    assert ss[K.K_CENTER] == (36.3, 43.1) and ss[K.K_ZOOM] == 9
    # Window 2015-03-18..2015-06-15, Battles/Explosions, >= 1 killed, precise: IRQ1, SYR1
    # (IRQ2 has 0 killed and precision 2).
    assert _event_ids(at) == ["IRQ1", "SYR1"]
    assert "As of 2015-06-15: 2 control areas" in _summary(at)
    # The URL keeps the view (the permalink).
    assert at.query_params["date"] == "2015-06-15"
    assert at.query_params["type"] == ["Battles", "Explosions/Remote violence"]
    assert at.query_params["basemap"] == "none"
    # Each filter says what it hides in this window (3 events: IRQ1, IRQ2, SYR1).
    captions = [c.value for c in at.sidebar.caption]
    assert any(c.startswith("Hides 1 of 3") for c in captions), captions


def test_bad_url_values_fall_back_with_a_notice(tiny):
    at = _app(
        {
            "date": "2099-01-01",
            "window": "abc",
            "type": "No such type",
            "basemap": "<script>alert(1)</script>",
            "zoom": "99",
            "lat": "[x](http://evil.example/a)",
            "lon": "43",
            "layers": "areas,![img](http://evil.example/p.png)",
            "surprise": "1",
        }
    )
    assert not at.exception
    ss = at.session_state
    assert ss[K.K_DATE] == dt.date(2017, 11, 15)
    assert K.window_days(ss) == 30
    assert ss[K.K_TYPES] == []
    assert ss[K.K_BASEMAP] == "osm"
    assert ss[K.K_ZOOM] is None or ss[K.K_ZOOM] != 99
    warnings = [w.value for w in at.warning]
    assert len(warnings) == 8, warnings
    shown = [_unescape(w) for w in warnings]
    for name in ("date", "window", "type", "basemap", "zoom", "lat/lon", "layers", "surprise"):
        assert any(f"URL parameter {name}" in w for w in shown), (name, shown)
    assert any("[x](http://evil.example/a)" in w for w in shown)  # the value is shown...
    # ...but literally: no markdown link, image or HTML survives unescaped.
    joined = "\n".join(warnings)
    assert "](http" not in joined and "![" not in joined and "<script>" not in joined
    # The page still works and the URL now holds valid values only.
    assert _event_ids(at) == ["IRQ3", "IRQ4", "IRQ5", "IRQ6", "SYR2"]
    assert at.query_params["basemap"] == "osm"
    assert "surprise" not in at.query_params


def test_moving_the_date_changes_the_controller_of_mosul(tiny):
    at = _app({"date": "2015-06-15"})
    table = next(
        d.value
        for d in at.dataframe
        if "controller" in d.value.columns and "events" in d.value.columns
    )
    assert set(table["controller"]) == {"Islamic State"}
    at.slider(key=K.K_DATE).set_value(dt.date(2017, 11, 15)).run()
    assert not at.exception
    table = next(
        d.value
        for d in at.dataframe
        if "controller" in d.value.columns and "events" in d.value.columns
    )
    by = dict(zip(table["controller"], table["events"], strict=True))
    assert by["Iraqi government"] == 3  # IRQ3, IRQ4, IRQ5 near Mosul
    assert by["Islamic State"] == 1  # SYR2 near Raqqa
    assert at.query_params["date"] == "2017-11-15"


def test_step_buttons_move_the_date(tiny):
    at = _app({"date": "2017-11-15", "step": "week"})
    at.button(key="step_back").click().run()
    assert at.session_state[K.K_DATE] == dt.date(2017, 11, 8)
    at.selectbox(key=K.K_STEP).set_value("month").run()
    at.button(key="step_back").click().run()
    assert at.session_state[K.K_DATE] == dt.date(2017, 10, 8)
    at.button(key="step_fwd").click().run()
    at.button(key="step_fwd").click().run()
    assert at.session_state[K.K_DATE] == dt.date(2017, 11, 15)  # clamped to the last date


def test_a_bad_upload_shows_an_error_and_keeps_the_data(tiny):
    at = _app()
    before = _event_ids(at)
    at.file_uploader(key="up_events").set_value(
        ("broken.csv", b"\x00\x01\x02 not a csv at all \xff\xfe", "text/csv")
    ).run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert errors and "broken" in errors[0] and "unchanged" in errors[0], errors
    assert _event_ids(at) == before
    # A header with no usable rows is refused the same way.
    at.file_uploader(key="up_events").set_value(
        ("empty.csv", b"event_id,event_date\n", "text/csv")
    ).run()
    assert [e.value for e in at.error], "an empty upload must be refused"
    assert _event_ids(at) == before


def test_an_upload_with_markdown_in_its_name_is_shown_literally(tiny):
    at = _app()
    name = "[click](http://evil.example) ![x](http://evil.example/p.png).csv"
    at.file_uploader(key="up_events").set_value((name, b"\x00garbage", "text/csv")).run()
    errors = "\n".join(e.value for e in at.error)
    assert errors
    assert "](http" not in errors and "![" not in errors


def test_a_good_upload_replaces_the_events(tiny):
    at = _app()
    csv = (
        b"event_id,event_date,event_type,sub_event_type,actor1,actor2,country,admin1,admin2,"
        b"location,latitude,longitude,geo_precision,time_precision,fatalities,source,notes\n"
        b"UP1,2017-11-15,Battles,Armed clash,A,B,Iraq,Ninewa,Mosul,Mosul,36.34,43.13,1,1,1,X,n\n"
    )
    at.file_uploader(key="up_events").set_value(("mine.csv", csv, "text/csv")).run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    assert _event_ids(at) == ["UP1"]
    # Back to the original data.
    next(b for b in at.button if b.label == "Back to the original data").click().run()
    assert _event_ids(at) == ["IRQ3", "IRQ4", "IRQ5", "IRQ6", "SYR2"]


def test_an_upload_with_no_events_in_the_window_moves_to_its_default_view(tiny):
    """The kept window (30 days to 2017-11-15) holds none of the new events: rather than a
    silent "0 events", the view opens the new data's default, with a notice saying so."""
    at = _app()
    assert at.session_state[K.K_DATE] == dt.date(2017, 11, 15)
    header = (
        b"event_id,event_date,event_type,sub_event_type,actor1,actor2,country,admin1,admin2,"
        b"location,latitude,longitude,geo_precision,time_precision,fatalities,source,notes\n"
    )
    row = b"%s,%s,Battles,Armed clash,A,B,Iraq,Ninewa,Mosul,Mosul,36.34,43.13,1,1,1,X,n\n"
    csv = header + row % (b"OLD1", b"2016-01-10") + row % (b"NEW1", b"2019-03-01")
    at.file_uploader(key="up_events").set_value(("spread.csv", csv, "text/csv")).run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    # 2017-11-15 is inside the new range (2016-01-10 .. 2019-03-01), so clamping alone
    # would keep it, with an empty window.
    assert at.session_state[K.K_DATE] == dt.date(2019, 3, 1)
    assert _event_ids(at) == ["NEW1"]
    assert not _summary(at).startswith("As of 2017")
    notices = [_unescape(w.value) for w in at.warning]
    assert any("no events in the window" in n and "default" in n for n in notices), notices


# --- the URL <-> state functions, without Streamlit ----------------------------------------


OPTIONS = S.Options(
    first=dt.date(2014, 1, 1),
    last=dt.date(2019, 12, 31),
    event_types=("Battles", "Protests"),
    actors=("Islamic State", "SDF, Kurdish-led"),
    countries=("Iraq", "Syria"),
)


def test_state_round_trips_through_the_url():
    view = S.ViewState(
        as_of=dt.date(2016, 10, 17),
        window=45,
        filters=Filters(
            event_types=("Protests",),
            actors=("SDF, Kurdish-led",),
            countries=("Iraq",),
            min_fatalities=3,
            precisions=(1, 2),
        ),
        layers=("areas", "heatmap"),
        points="clusters",
        basemap="none",
        center=(36.3412, 43.1301),
        zoom=8,
        step="month",
        timeline="window",
    )
    parsed, notices = S.parse_query(S.to_query(view), OPTIONS)
    assert notices == []
    assert parsed == view


def test_empty_url_gives_the_default_view():
    parsed, notices = S.parse_query({}, OPTIONS)
    assert notices == [] and parsed == S.default_state(OPTIONS)
    assert parsed.as_of == dt.date(2019, 12, 31) and parsed.window == 30


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"date": ["2019-02-30"]}, "date"),
        ({"date": ["17/10/2016"]}, "date"),
        ({"date": ["2013-12-31"]}, "date"),
        ({"window": ["0"]}, "window"),
        ({"window": ["99999"]}, "window"),
        ({"window": ["1e3"]}, "window"),
        ({"type": ["Riots"]}, "type"),
        ({"min_fatalities": ["-1"]}, "min_fatalities"),
        ({"precision": ["4"]}, "precision"),
        ({"layers": ["areas,bogus"]}, "layers"),
        ({"points": ["all"]}, "points"),
        ({"basemap": ["satellite"]}, "basemap"),
        ({"lat": ["91"], "lon": ["43"]}, "lat/lon"),
        ({"lat": ["nan"], "lon": ["43"]}, "lat/lon"),
        ({"zoom": ["1"]}, "zoom"),
        ({"step": ["year"]}, "step"),
        ({"timeline": ["zoom"]}, "timeline"),
        ({"utm_source": ["x"]}, "utm_source"),
    ],
)
def test_each_bad_value_falls_back_with_one_notice(params, param):
    parsed, notices = S.parse_query(params, OPTIONS)
    assert [n.param for n in notices] == [param]
    default = S.default_state(OPTIONS)
    assert parsed.as_of == default.as_of and parsed.window == default.window
    assert parsed.basemap == default.basemap


def test_thousands_of_bad_url_values_make_a_few_merged_notices():
    params = {f"junk{i}": ["1"] for i in range(10_000)}
    params["precision"] = [",".join(f"p{i}" for i in range(10_000))]
    params["layers"] = ["areas", *(f"bogus{i}" for i in range(3))]
    params["zoom"] = ["99"]
    _parsed, notices = S.parse_query(params, OPTIONS)
    assert len(notices) == 10_000 + 10_000 + 3 + 1  # every refused value is still counted
    lines = S.notice_lines(notices)
    assert len(lines) == 4
    unknown, precision, layers, zoom = lines
    assert "10,000 unknown parameters ('junk0', 'junk1', 'junk2', …)" in unknown
    assert precision.startswith("URL parameter precision: 10,000 values ignored ('p0'")
    assert precision.endswith("expected 1, 2 or 3")
    assert "3 values ignored ('bogus0', 'bogus1', 'bogus2')" in layers
    assert zoom.startswith("URL parameter zoom='99' ignored")


def test_url_notices_are_capped_with_a_count_of_the_rest():
    notices = [S.Notice(f"param{i}", "x", f"reason {i}") for i in range(20)]
    lines = S.notice_lines(notices)
    assert len(lines) == S.MAX_NOTICE_LINES
    assert lines[-1] == f"… and {20 - S.MAX_NOTICE_LINES + 1} more URL notices."
    huge = S.notice_lines([S.Notice("p" * 5000, "v" * 5000, "unknown value")])
    assert len(huge[0]) < 200


def test_a_link_with_ten_thousand_bad_values_shows_a_few_warnings(tiny):
    at = _app({"precision": ",".join(str(i) for i in range(4, 10_004)), "zoom": "99"})
    assert not at.exception, [e.value for e in at.exception]
    warnings = [_unescape(w.value) for w in at.warning]
    assert len(warnings) == 2, warnings
    assert "precision: 10,000 values ignored" in warnings[0]
    # Later runs of the session show the same few lines, not ten thousand.
    at = at.run()
    assert len(at.warning) == 2


@pytest.mark.parametrize("raw", ["", "bogus", "bogus,other"])
def test_layers_without_a_valid_value_keep_the_default_layers(raw):
    parsed, notices = S.parse_query({"layers": [raw]}, OPTIONS)
    assert parsed.layers == S.default_state(OPTIONS).layers
    assert parsed.layers  # the default shows something
    assert notices and all(n.param == "layers" for n in notices)


def test_layers_none_turns_every_layer_off():
    parsed, notices = S.parse_query({"layers": ["none"]}, OPTIONS)
    assert parsed.layers == () and notices == []


def test_list_filters_keep_the_known_values_only():
    parsed, notices = S.parse_query({"type": ["Battles", "Riots", "Battles"]}, OPTIONS)
    assert parsed.filters.event_types == ("Battles",)
    assert [(n.param, n.value) for n in notices] == [("type", "Riots")]


def test_restrict_to_new_data():
    view = S.ViewState(
        as_of=dt.date(2019, 6, 1), filters=Filters(event_types=("Battles", "Protests"))
    )
    narrower = S.Options(
        first=dt.date(2015, 1, 1), last=dt.date(2017, 1, 1), event_types=("Battles",)
    )
    restricted, changes = S.restrict_to(view, narrower)
    assert restricted.as_of == dt.date(2017, 1, 1)
    assert restricted.filters.event_types == ("Battles",)
    assert len(changes) == 2


@pytest.mark.parametrize(
    "text",
    [
        "[click](http://evil.example)",
        "![img](http://evil.example/p.png)",
        "<img src=x onerror=alert(1)>",
        ":red[alarm] :material/warning: $x^2$",
        "www.evil.example and https://evil.example and a@b.example",
        "# heading\n- item",
    ],
)
def test_md_leaves_no_markdown_syntax(text):
    out = md(text)
    # Every character markdown (or Streamlit's extensions) could act on is escaped...
    assert re.search(r"(?<!\\)[\[\]()<>$!*_`#:@/.-]", out) is None, out
    # ...bare links and colon directives are broken by a zero-width space...
    assert "://" not in out and "www." not in out and re.search(r":(?!\u200b)", out) is None
    assert "\n" not in out
    # ...and the reader still sees the text itself.
    assert _unescape(out) == " ".join(text.splitlines())


def test_a_build_is_kept_on_disk_and_survives_a_cleared_cache(tiny, tmp_path):
    import streamlit as st

    from dashboard.app import loaders

    events, areas = tiny
    first = loaders.load_dataset(loaders.file_ref(events), (loaders.file_ref(areas),))
    stored = list((tmp_path / "build-cache").iterdir())
    assert len(stored) == 1 and (stored[0] / "events.parquet").is_file()
    st.cache_data.clear()  # what any client can ask for over the websocket
    loaders.clear_build_cache()  # what a restart of the server does
    again = loaders.load_dataset(loaders.file_ref(events), (loaders.file_ref(areas),))
    assert again.summary == first.summary and again.options == first.options
    assert again.events.dtypes.equals(first.events.dtypes)
    assert list(again.events["event_id"]) == list(first.events["event_id"])
    # Uploads are never written to disk.
    data = events.read_bytes()
    loaders.load_dataset(
        loaders.upload_ref("mine.csv", data),
        (loaders.file_ref(areas),),
        {loaders.upload_ref("mine.csv", data).fingerprint: data},
    )
    assert len(list((tmp_path / "build-cache").iterdir())) == 1


def test_the_disk_copy_sits_next_to_the_source_and_follows_its_changes(tiny, tmp_path, monkeypatch):
    from dashboard import buildcache
    from dashboard.app import loaders

    monkeypatch.delenv(loaders.CACHE_ENV)
    events, areas = tiny
    beside = events.parent / buildcache.CACHE_FOLDER
    first = loaders.load_dataset(loaders.file_ref(events), (loaders.file_ref(areas),))
    copies = [p for p in beside.iterdir() if not p.name.startswith(".")]
    assert len(copies) == 1 and (copies[0] / "events.parquet").is_file()
    assert first.events.index.is_monotonic_increasing
    assert first.events["event_date"].is_monotonic_increasing  # stored date-sorted
    assert "geometry" not in first.events.columns
    # The source changes: a new build replaces the stale copy instead of piling up.
    text = events.read_text(encoding="utf-8").splitlines()
    events.write_text("\n".join(text[:-1]) + "\n", encoding="utf-8")
    loaders.clear_build_cache()
    second = loaders.load_dataset(loaders.file_ref(events), (loaders.file_ref(areas),))
    assert len(second.events) == len(first.events) - 1
    after = [p for p in beside.iterdir() if not p.name.startswith(".")]
    assert len(after) == 1 and after[0].name != copies[0].name


def test_the_bundled_data_is_cached_in_the_user_cache_not_in_the_package(tmp_path, monkeypatch):
    from dashboard import buildcache, paths

    monkeypatch.delenv(buildcache.CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert buildcache.cache_dir(paths.BUNDLED_EVENTS) == tmp_path / "xdg" / "conflictmap"
    monkeypatch.setenv(buildcache.CACHE_ENV, str(tmp_path / "chosen"))
    assert buildcache.cache_dir(tmp_path / "data" / "events.csv") == tmp_path / "chosen"


def test_default_window_is_the_shortest_preset_showing_enough_events():
    counts = {30: 2, 90: 12, 365: 40}
    assert S.pick_default_window(counts.__getitem__, (30, 90, 365)) == 90
    assert S.pick_default_window({30: 0, 90: 3, 365: 3}.__getitem__, (30, 90, 365)) == 90
    assert S.pick_default_window({30: 0, 90: 0, 365: 0}.__getitem__, (30, 90, 365)) == 30


def test_default_date_stays_inside_the_areas_coverage():
    options = S.Options(
        first=dt.date(2014, 1, 1),
        last=dt.date(2019, 10, 27),
        areas_first=dt.date(2014, 1, 4),
        areas_last=dt.date(2019, 10, 8),
    )
    assert options.default_date == dt.date(2019, 10, 8)
    assert options.areas_cover(dt.date(2019, 10, 8))
    assert not options.areas_cover(dt.date(2019, 10, 9))
    assert S.Options(first=dt.date(2014, 1, 1), last=dt.date(2019, 10, 27)).default_date == (
        dt.date(2019, 10, 27)
    )


def test_the_timeline_zooms_to_the_window(tiny):
    at = _app({"date": "2017-11-15", "window": "30"})
    at.segmented_control(key=K.K_TIMELINE).set_value("window").run()
    assert not at.exception
    assert at.query_params["timeline"] == "window"
    assert any("per day around the window" in c.value for c in at.caption)


def test_options_tell_whether_a_window_holds_events():
    from dashboard.timewindow import to_day

    days = tuple(to_day(d) for d in (dt.date(2016, 1, 10), dt.date(2019, 3, 1)))
    options = S.Options(first=dt.date(2016, 1, 10), last=dt.date(2019, 3, 1), event_days=days)
    assert options.window_has_events(dt.date(2017, 11, 15), 30) is False
    assert options.window_has_events(dt.date(2019, 3, 1), 1) is True
    assert options.window_has_events(dt.date(2016, 2, 8), 30) is True  # first day inclusive
    assert options.window_has_events(dt.date(2016, 2, 9), 30) is False
    assert OPTIONS.window_has_events(dt.date(2017, 1, 1), 30) is None  # unknown


def test_the_server_loads_the_data_before_the_first_page_asks(tiny, tmp_path, monkeypatch):
    import shutil

    from dashboard import pipeline
    from dashboard.app import loaders, server

    loaders.clear_build_cache()
    server._warm()  # what the server's start-up thread runs
    shutil.rmtree(tmp_path / "build-cache")  # not from the disk copy...

    def no_build(*args, **kwargs):
        raise AssertionError("the page built the data again")

    monkeypatch.setattr(pipeline, "build", no_build)  # ...nor built again: from memory
    events, areas = loaders.configured_sources()
    ds = loaders.load_dataset(events, areas)
    assert ds.summary["rows_loaded"] == len(ds.events) > 0
    loaders.clear_build_cache()


def test_options_of_events_without_actor_columns_have_no_actors():
    import pandas as pd

    from dashboard import schema
    from dashboard.timewindow import build_date_index

    events = pd.DataFrame(
        {schema.EVENT_DATE: pd.to_datetime(["2017-11-09", "2017-11-10"]), "event_type": ["B", "B"]}
    )
    areas = pd.DataFrame(columns=[schema.VALID_FROM, schema.VALID_TO])
    options = S.dataset_options(events, build_date_index(events[schema.EVENT_DATE]), areas)
    assert options.actors == ()
    assert options.event_types == ("B",)
