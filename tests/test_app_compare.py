"""The compare mode of the page, run headless with AppTest, and its URL parameters.

The tiny inputs of ``app_fixtures``: the Mosul square is the Islamic State's until
2017-07-10 and the Iraqi government's from then on; the Raqqa square is the Islamic
State's throughout. Comparing 2015-06-15 with 2017-11-15, the Mosul square (and the town of
Mosul in the gazetteer) changed hands, and IRQ3, IRQ4 and IRQ5 lie inside it between the
two dates.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import paths, schema
from dashboard import viewstate as S
from dashboard.app import compare as C
from dashboard.app import session as K
from dashboard.app.loaders import AREAS_ENV, EVENTS_ENV

# Each test builds into a cache of its own (app_fixtures.private_build_cache).
pytestmark = pytest.mark.usefixtures("private_build_cache")

APP = str(Path(paths.PACKAGE_DIR) / "app" / "main.py")
TIMEOUT = 180


def _app(params: dict | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in (params or {}).items():
        at.query_params[key] = value
    return at.run()


def _table(at: AppTest, column: str):
    tables = [d.value for d in at.dataframe if column in d.value.columns]
    assert tables, f"no table with a {column!r} column"
    return tables[0]


def _areas(at: AppTest):
    return _table(at, "km2_a").set_index(schema.CONTROLLER)


def _clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def test_compare_mode_on_the_bundled_data(monkeypatch):
    monkeypatch.delenv(EVENTS_ENV, raising=False)
    monkeypatch.delenv(AREAS_ENV, raising=False)
    at = _app({"mode": "compare", "from": "2017-06-01", "to": "2017-12-31", "basemap": "none"})
    _clean(at)
    assert not at.warning, [w.value for w in at.warning]
    areas = _areas(at)
    is_a, is_b = areas.loc[schema.ISLAMIC_STATE, "km2_a"], areas.loc[schema.ISLAMIC_STATE, "km2_b"]
    assert is_a > 100_000 and is_b < is_a / 10  # the Islamic State's area shrinks
    assert areas.loc[schema.ISLAMIC_STATE, "difference_km2"] == is_b - is_a
    towns = _table(at, "town")
    assert "Raqqa" in set(towns["town"])
    assert "CM063" in set(_table(at, "event_type")["event_id"])  # SDF enter Raqqa
    check = _table(at, "verdict")
    assert set(check["verdict"]) <= {"disagrees", "contested in the layer", "actor not mapped",
                                     "outside every area", "outside the layer's dates",
                                     "no position"}  # fmt: skip
    # the single-date view is not drawn
    assert not [t for t in at.text if t.value.startswith("As of ")]
    # the permalink keeps the compare view
    qp = at.query_params
    assert (qp["mode"], qp["from"], qp["to"]) == ("compare", "2017-06-01", "2017-12-31")
    assert qp["basemap"] == "none"


@pytest.mark.usefixtures("tiny")
def test_compare_mode_on_the_tiny_data():
    at = _app({"mode": "compare", "from": "2015-06-15", "to": "2017-11-15"})
    _clean(at)
    areas = _areas(at)
    assert list(areas.index) == [schema.ISLAMIC_STATE, schema.IRAQI_GOVERNMENT]
    mosul = areas.loc[schema.IRAQI_GOVERNMENT, "km2_b"]
    assert areas.loc[schema.IRAQI_GOVERNMENT, "km2_a"] == 0
    assert areas.loc[schema.ISLAMIC_STATE, "lost_km2"] == mosul
    assert 1_000 < mosul < 1_500  # 0.4 x 0.3 degrees at 36 N: about 1,300 km²
    towns = _table(at, "town")
    assert list(towns["town"]) == ["Mosul"]
    events = _table(at, "event_type")
    assert sorted(events["event_id"]) == ["IRQ3", "IRQ4", "IRQ5"]
    summary = [t.value for t in at.text if "changed hands" in t.value]
    assert summary and "1 of the gazetteer's towns changed hands" in summary[0]
    # no territorial events in the tiny data: the check has nothing to list
    assert any(t.value == "No event to list." for t in at.text)


@pytest.mark.usefixtures("tiny")
def test_focus_and_side_by_side_come_from_the_url():
    at = _app(
        {
            "mode": "compare",
            "from": "2015-06-15",
            "to": "2017-11-15",
            "focus": "Islamic State",
            "compare_map": "side",
            "tolerance": "3",
        }
    )
    _clean(at)
    ss = at.session_state
    assert ss[C.K_FOCUS] == "Islamic State" and ss[C.K_MAP] == "side"
    assert ss[C.K_TOLERANCE] == 3
    summary = next(t.value for t in at.text if "changed hands" in t.value)
    assert summary.startswith("Islamic State: ")
    assert at.query_params["focus"] == "Islamic State"
    assert at.query_params["compare_map"] == "side"


@pytest.mark.usefixtures("tiny")
def test_bad_compare_parameters_fall_back_with_a_notice():
    at = _app(
        {
            "mode": "compare",
            "from": "2017-11-15",
            "to": "2015-06-15",
            "focus": "<b>Nobody</b>",
            "compare_map": "swipe",
        }
    )
    _clean(at)
    notices = " ".join(w.value for w in at.warning)
    assert "the two dates were swapped" in notices
    assert "not a controller of the loaded areas" in notices
    assert "compare\\_map" in notices or "compare_map" in notices
    assert "<b>" not in notices  # escaped, shown literally
    ss = at.session_state
    assert (ss[C.K_A], ss[C.K_B]) == (dt.date(2015, 6, 15), dt.date(2017, 11, 15))
    assert ss[C.K_FOCUS] == C.FOCUS_ALL and ss[C.K_MAP] == C.MAP_CHANGES


@pytest.mark.usefixtures("tiny")
def test_the_single_date_view_stays_the_default_and_comes_back():
    at = _app()
    _clean(at)
    assert at.session_state[C.K_MODE] == C.MODE_SINGLE
    assert [t for t in at.text if t.value.startswith("As of ")]
    assert "mode" not in at.query_params
    at.session_state[C.K_MODE] = C.MODE_COMPARE
    at.run()
    _clean(at)
    assert at.query_params["mode"] == "compare"
    assert _areas(at) is not None
    at.session_state[C.K_MODE] = C.MODE_SINGLE
    at.run()
    _clean(at)
    assert [t for t in at.text if t.value.startswith("As of ")]
    assert "mode" not in at.query_params
    assert at.session_state[K.K_DATE] == dt.date(2017, 11, 15)


# --- the URL parser, without Streamlit ---------------------------------------------------------

FIRST, LAST = dt.date(2014, 1, 4), dt.date(2019, 10, 8)


def parse(params: dict[str, list[str]]):
    return S.parse_compare_query(
        params, first=FIRST, last=LAST, default_b=LAST, controllers=["Islamic State", "SDF"]
    )


def test_parse_defaults_to_half_a_year_before_the_single_date():
    view, notices = parse({})
    assert notices == []
    assert view.mode == C.MODE_SINGLE
    assert view.day_b == LAST and view.day_a == LAST - dt.timedelta(days=S.DEFAULT_SPAN_DAYS)


def test_parse_round_trips_through_compare_query():
    view, notices = parse(
        {
            "mode": ["compare"],
            "from": ["2017-06-01"],
            "to": ["2017-12-31"],
            "focus": ["SDF"],
            "compare_map": ["side"],
            "tolerance": ["14"],
        }
    )
    assert notices == []
    again, _ = parse(S.compare_query(view))
    assert again == view


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"from": ["2013-01-01"]}, "from"),
        ({"to": ["2017-02-30"]}, "to"),
        ({"mode": ["swipe"]}, "mode"),
        ({"tolerance": ["-1"]}, "tolerance"),
        ({"tolerance": ["9999"]}, "tolerance"),
        ({"focus": ["javascript:alert(1)"]}, "focus"),
    ],
)
def test_parse_refuses_bad_values(params, param):
    view, notices = parse(params)
    assert [n.param for n in notices] == [param]
    assert view == parse({})[0]


def test_compare_query_is_empty_in_single_date_mode():
    assert S.compare_query(parse({})[0]) == {}
