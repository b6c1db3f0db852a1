"""The control history of a point (dashboard.history) and `conflictmap history`.

A hand-made layer whose answers are worked out by hand: country-wide versions redrawn for
changes elsewhere (which must not split the point's history), an overlap of two
controllers (contested), a gap in the layer, and an open-ended last version.
"""

from __future__ import annotations

import datetime as dt
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from cli_runner import run_cli as run
from shapely.geometry import box

from dashboard import schema
from dashboard.history import NO_AREA, HistoryError, control_history
from dashboard.pipeline import load_areas

D = dt.date
#: The point asked about, inside [0,2]x[0,1] and [1,3]x[0,1].
LAT, LON = 0.5, 1.5


def layer(rows) -> gpd.GeoDataFrame:
    """Control-area versions from (controller, valid_from, valid_to, geometry)."""
    return gpd.GeoDataFrame(
        {
            schema.AREA_ID: [f"a{i}" for i in range(len(rows))],
            schema.CONTROLLER: [r[0] for r in rows],
            schema.VALID_FROM: pd.to_datetime([r[1] for r in rows]),
            schema.VALID_TO: pd.to_datetime([r[2] for r in rows]),
        },
        geometry=[r[3] for r in rows],
        crs="EPSG:4326",
    )


@pytest.fixture()
def series() -> gpd.GeoDataFrame:
    return layer(
        [
            # X holds the point in three versions, redrawn for changes far away
            ("X", "2017-01-01", "2017-02-01", box(0, 0, 2, 1)),
            ("X", "2017-02-01", "2017-03-01", box(0, 0, 2, 2)),
            ("X", "2017-03-01", "2017-04-01", box(0, 0, 2, 3)),
            ("W", "2017-01-01", "2017-04-01", box(10, 10, 11, 11)),  # elsewhere all along
            # X and Y both claim the point for a month: contested
            ("X", "2017-04-01", "2017-05-01", box(0, 0, 2, 1)),
            ("Y", "2017-04-01", "2017-05-01", box(1, 0, 3, 1)),
            # then Y alone, in two versions
            ("Y", "2017-05-01", "2017-06-01", box(1, 0, 3, 1)),
            ("Y", "2017-06-01", "2017-07-01", box(1, 0, 4, 1)),
            # a gap: nothing covers the point in July (W goes on elsewhere)
            ("W", "2017-07-01", "2017-08-01", box(10, 10, 11, 11)),
            # Z from August, open-ended
            ("Z", "2017-08-01", None, box(0, 0, 3, 1)),
        ]
    )


def test_versions_that_agree_are_one_span_and_each_change_is_a_span(series):
    h = control_history(series, LAT, LON)
    got = [(s.controller, s.start, s.end, s.claimants, s.versions) for s in h.spans]
    assert got == [
        ("X", D(2017, 1, 1), D(2017, 3, 31), ("X",), 3),
        (schema.CONTESTED, D(2017, 4, 1), D(2017, 4, 30), ("X", "Y"), 2),
        ("Y", D(2017, 5, 1), D(2017, 6, 30), ("Y",), 2),
        (NO_AREA, D(2017, 7, 1), D(2017, 7, 31), (), 0),
        ("Z", D(2017, 8, 1), None, ("Z",), 1),
    ]
    assert h.first_day == D(2017, 1, 1)
    assert h.last_day is None  # Z holds on
    assert h.carried_forward_after == D(2017, 8, 1)
    assert h.holders() == ["X", "Y", "Z"]
    assert h.changes == 3  # X -> Contested -> Y, then Y -> Z across the gap
    assert h.spans[0].days == 90 and h.spans[-1].days is None


def test_a_layer_that_ends_gives_its_last_day_and_no_open_span():
    h = control_history(layer([("X", "2017-01-01", "2017-03-01", box(0, 0, 2, 1))]), LAT, LON)
    assert [(s.controller, s.start, s.end) for s in h.spans] == [
        ("X", D(2017, 1, 1), D(2017, 2, 28))
    ]
    assert h.last_day == D(2017, 2, 28) and h.carried_forward_after is None


def test_a_point_no_area_covers_has_one_no_area_span(series):
    h = control_history(series, 50.0, 50.0)
    assert [(s.controller, s.start, s.end) for s in h.spans] == [(NO_AREA, D(2017, 1, 1), None)]
    assert h.holders() == [] and h.changes == 0


def test_a_version_marked_contested_is_contested_and_a_blank_controller_unknown():
    h = control_history(
        layer(
            [
                (schema.CONTESTED, "2017-01-01", "2017-02-01", box(0, 0, 2, 1)),
                ("", "2017-02-01", "2017-03-01", box(0, 0, 2, 1)),
            ]
        ),
        LAT,
        LON,
    )
    assert [s.controller for s in h.spans] == [schema.CONTESTED, schema.UNKNOWN]


def test_a_point_on_a_shared_border_is_claimed_by_both_sides():
    h = control_history(
        layer(
            [
                ("X", "2017-01-01", "2017-02-01", box(0, 0, 1, 1)),
                ("Y", "2017-01-01", "2017-02-01", box(1, 0, 2, 1)),
            ]
        ),
        0.5,
        1.0,
    )
    assert [(s.controller, s.claimants) for s in h.spans] == [(schema.CONTESTED, ("X", "Y"))]


@pytest.mark.parametrize(
    ("lat", "lon", "words"),
    [(91.0, 0.0, "latitude 91.0 is off the globe"), (0.0, np.nan, "longitude must be a number")],
)
def test_a_point_off_the_globe_is_refused(series, lat, lon, words):
    with pytest.raises(HistoryError, match=words):
        control_history(series, lat, lon)


def test_change_of_control_events_near_the_point_are_listed_oldest_first(series):
    events = pd.DataFrame(
        {
            "event_id": ["far", "late", "early", "battle", "nowhere"],
            "event_date": pd.to_datetime(
                ["2017-05-01", "2017-08-02", "2017-04-02", "2017-04-03", "2017-04-04"]
            ),
            "sub_event_type": [
                "Government regains territory",
                "Non-violent transfer of territory",
                "Non-state actor overtakes territory",
                "Armed clash",
                "Government regains territory",
            ],
            "actor1": ["A", "Z forces", "Y forces", "Y forces", "X forces"],
            # 0.01 degree is about 1.1 km at the equator; 1 degree about 111 km
            "latitude": [LAT, LAT + 0.01, LAT, LAT, np.nan],
            "longitude": [LON + 1.0, LON, LON + 0.02, LON, np.nan],
        }
    )
    h = control_history(series, LAT, LON, events=events, radius_km=10)
    assert h.events["event_id"].tolist() == ["early", "late"]
    assert h.events["distance_km"].tolist() == [2.2, 1.1]
    assert h.events_near == 3  # early, late, and the battle
    assert h.events_without_position == 1


BUNDLED = {
    # place: (lat, lon, [(controller, start, end)]) read off the bundled layer's story
    "Mosul": (
        36.335,
        43.119,
        [
            ("Iraqi government", D(2014, 1, 4), D(2014, 6, 9)),
            ("Islamic State", D(2014, 6, 10), D(2017, 2, 18)),
            (schema.CONTESTED, D(2017, 2, 19), D(2017, 7, 9)),
            ("Iraqi government", D(2017, 7, 10), D(2019, 10, 8)),
        ],
    ),
    "Abu Kamal": (
        34.452,
        40.919,
        [
            (schema.CONTESTED, D(2014, 1, 4), D(2014, 7, 13)),
            ("Islamic State", D(2014, 7, 14), D(2017, 11, 8)),
            (schema.CONTESTED, D(2017, 11, 9), D(2017, 11, 18)),
            ("Syrian government", D(2017, 11, 19), D(2019, 10, 8)),
        ],
    ),
}


@pytest.mark.parametrize("town", sorted(BUNDLED))
def test_the_bundled_story_towns_change_hands_on_their_days_not_on_other_towns_days(town):
    lat, lon, expected = BUNDLED[town]
    h = control_history(load_areas(None).areas, lat, lon)
    assert [(s.controller, s.start, s.end) for s in h.spans] == expected
    # The country-wide versions were redrawn dozens of times while the town stayed put.
    assert max(s.versions for s in h.spans) > 20


def test_cli_history_of_a_place_by_name_lists_spans_and_change_events():
    proc = run("history", "--place", "Mosul")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Mosul, IQ (exact match; GeoNames 99072)" in out
    assert "2014-06-10 to 2017-02-18" in out and "Islamic State" in out
    assert "2017-07-10 to 2019-10-08" in out
    assert "3 changes of controller" in out
    assert "Change-of-control events within 10 km: 4" in out
    assert "[CM003]" in out and "source: Reuters, 2014-06-10" in out


def test_cli_history_finds_an_arabic_name_and_a_spelling_variant_at_the_same_point():
    outs = [run("history", "--place", name, "--no-events", "-f", "json") for name in (
        "البوكمال", "Bukamal")]  # fmt: skip
    places = []
    for proc in outs:
        assert proc.returncode == 0, proc.stderr
        data = json.loads(proc.stdout)
        places.append((round(data["latitude"], 4), round(data["longitude"], 4)))
        assert [s["controller"] for s in data["spans"]][-1] == "Syrian government"
        assert data["spans"][-1]["start"] == "2017-11-19"
    assert places[0] == places[1]


def test_cli_history_csv_tables():
    spans = run("history", "--at", "36.335, 43.119", "--no-events", "-f", "csv")
    assert spans.returncode == 0, spans.stderr
    frame = pd.read_csv(__import__("io").StringIO(spans.stdout))
    assert frame.columns.tolist() == [
        "start", "end", "days", "controller", "claimants", "versions", "sources",
    ]  # fmt: skip
    assert frame["controller"].tolist()[1] == "Islamic State"
    # each span names the features of the bundled file it rests on
    assert frame["sources"].str.contains("control_areas.geojson feature").all()
    events = run("history", "--at", "34.452,40.919", "-f", "csv", "--table", "events")
    assert events.returncode == 0, events.stderr
    frame = pd.read_csv(__import__("io").StringIO(events.stdout))
    assert {"event_date", "distance_km", "source"} <= set(frame.columns)
    assert (frame["distance_km"] <= 10).all() and len(frame) >= 1


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ((), "give the point with --at LAT,LON or a name with --place NAME"),
        (("--at", "1,2", "--place", "Mosul"), "(one of them)"),
        (("--at", "36.34"), "--at '36.34': expected LAT,LON"),
        (("--at", "136.3,43.1"), "off the globe"),
        (("--place", "Springfield"), "--place 'Springfield': not found in Iraq or Syria"),
    ],
)
def test_cli_history_refuses_what_it_cannot_answer_in_one_line(args, words):
    proc = run("history", "--no-events", *args)
    assert proc.returncode == 2
    assert words in proc.stderr
    assert "Traceback" not in proc.stderr


def test_cli_history_says_when_the_point_is_outside_every_area():
    proc = run("history", "--at", "10,10", "--no-events")
    assert proc.returncode == 0, proc.stderr
    assert "no control area covers the point" in proc.stdout
    assert "No controller holds this point alone" in proc.stdout


@pytest.mark.parametrize(
    ("place", "controllers"),
    [("Raqqa", ["Islamic State"]), ("Tall Abyad", ["Islamic State", "Kurdish Forces"])],
)
def test_cli_history_on_real_ocha_polygons(shared_data, place, controllers):
    """OCHA's two 2015 areas-of-influence maps (May and November): Raqqa city under the
    Islamic State in both; Tall Abyad, taken by the YPG in June 2015, changes hands
    between them."""
    files = [
        shared_data / "ocha_syria_areas_of_influence_2015-05-24.geojson",
        shared_data / "ocha_syria_areas_of_influence_2015-11-29.geojson",
    ]
    args = [a for f in files for a in ("--areas", str(f))]
    proc = run(
        "history", "--place", place, "--no-events", "-f", "json", *args,
        "--controller-field", "actor_type", "--date-field", "valid_date", "--ocha-names",
    )  # fmt: skip
    assert proc.returncode in (0, 1), proc.stderr
    data = json.loads(proc.stdout)
    assert [s["controller"] for s in data["spans"]] == controllers
    assert data["spans"][0]["start"] == "2015-05-24"
    if len(controllers) > 1:
        assert data["spans"][1]["start"] == "2015-11-29"
    assert data["carried_forward_after"] == "2015-11-29"
    assert data["complete"] is False  # OCHA's file has features with no polygon, said
