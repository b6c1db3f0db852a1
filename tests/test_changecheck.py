"""The territorial-change check (dashboard.changecheck) and `conflictmap check`.

A small layer worked out by hand: square M (Mosul, 0.4 x 0.3 degrees) is held by the Islamic
State until 2017-07-10 and by the Iraqi government from then on; square R (Raqqa) is held by
the Islamic State throughout. Baghdad is outside both.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from app_fixtures import write_inputs
from cli_runner import run_cli as run
from shapely.geometry import box

from dashboard import schema
from dashboard.changecheck import (
    AGREES,
    CHECK_DATE,
    CLAIMED,
    CONTESTED_IN_LAYER,
    DEFAULT_ACTOR_CONTROLLERS,
    DISAGREES,
    LAYER_BEFORE,
    LAYER_CONTROLLER,
    NO_POSITION,
    NOTE,
    OUTSIDE_AREAS,
    OUTSIDE_DATES,
    TERRITORY_SUB_EVENT_TYPES,
    UNMAPPED,
    VERDICT,
    ActorMapError,
    CheckSettings,
    check_territorial_changes,
    load_actor_map,
    normalise_actor,
)

MOSUL = (43.1, 36.35)
RAQQA = (39.0, 35.95)
BAGHDAD = (44.36, 33.31)
REGAINS, OVERTAKES, TRANSFER = TERRITORY_SUB_EVENT_TYPES


@pytest.fixture()
def areas() -> gpd.GeoDataFrame:
    mosul = box(42.9, 36.2, 43.3, 36.5)
    raqqa = box(38.8, 35.8, 39.2, 36.1)
    return gpd.GeoDataFrame(
        {
            schema.AREA_ID: ["m-is", "m-gov", "r-is"],
            schema.CONTROLLER: [
                schema.ISLAMIC_STATE,
                schema.IRAQI_GOVERNMENT,
                schema.ISLAMIC_STATE,
            ],
            schema.VALID_FROM: pd.to_datetime(["2014-06-10", "2017-07-10", "2014-01-01"]).astype(
                "datetime64[s]"
            ),
            schema.VALID_TO: pd.to_datetime(["2017-07-10", None, None]).astype("datetime64[s]"),
        },
        geometry=[mosul, mosul, raqqa],
        crs="EPSG:4326",
    )


def events(rows) -> pd.DataFrame:
    """(id, date, sub_event_type, actor1, (lon, lat) or None)."""
    return pd.DataFrame(
        {
            schema.EVENT_ID: [r[0] for r in rows],
            schema.EVENT_DATE: pd.to_datetime([r[1] for r in rows]),
            schema.SUB_EVENT_TYPE: [r[2] for r in rows],
            schema.ACTOR1: [r[3] for r in rows],
            schema.LOCATION: ["place"] * len(rows),
            schema.LONGITUDE: [r[4][0] if r[4] else None for r in rows],
            schema.LATITUDE: [r[4][1] if r[4] else None for r in rows],
        }
    )


FIXTURE = [
    ("agree", "2017-07-08", REGAINS, "Iraqi Security Forces", MOSUL),
    ("disagree", "2017-06-01", OVERTAKES, "SDF", RAQQA),
    ("unmapped", "2017-07-08", OVERTAKES, "Tribal Mobilisation (Ninewa)", MOSUL),
    ("outside", "2017-07-08", REGAINS, "Iraqi Security Forces", BAGHDAD),
    ("unplaced", "2017-07-08", REGAINS, "Iraqi Security Forces", None),
    ("ignored", "2017-06-01", "Armed clash", "SDF", RAQQA),
]


def by_id(result) -> dict[str, pd.Series]:
    return {row[schema.EVENT_ID]: row for _, row in result.rows.iterrows()}


def test_each_verdict_on_the_small_fixture(areas):
    result = check_territorial_changes(events(FIXTURE), areas)
    rows = by_id(result)
    assert set(rows) == {"agree", "disagree", "unmapped", "outside", "unplaced"}  # not "ignored"
    assert {k: r[VERDICT] for k, r in rows.items()} == {
        "agree": AGREES,
        "disagree": DISAGREES,
        "unmapped": UNMAPPED,
        "outside": OUTSIDE_AREAS,
        "unplaced": NO_POSITION,
    }
    agree = rows["agree"]
    assert agree[CLAIMED] == schema.IRAQI_GOVERNMENT
    assert agree[CHECK_DATE] == pd.Timestamp("2017-07-15")
    assert agree[LAYER_CONTROLLER] == schema.IRAQI_GOVERNMENT
    assert agree[LAYER_BEFORE] == schema.ISLAMIC_STATE
    disagree = rows["disagree"]
    assert (disagree[CLAIMED], disagree[LAYER_CONTROLLER]) == (schema.SDF, schema.ISLAMIC_STATE)
    assert pd.isna(rows["unmapped"][CLAIMED])
    # unmatched actors are reported, never guessed
    assert result.unmapped_actors.to_dict("records") == [
        {"actor": "Tribal Mobilisation (Ninewa)", "events": 1}
    ]
    assert result.counts[DISAGREES] == 1 and result.counts[AGREES] == 1
    assert sum(result.counts.values()) == len(result.rows) == 5
    # disagreements come first
    assert result.rows[VERDICT].iloc[0] == DISAGREES
    assert list(result.disagreements[schema.EVENT_ID]) == ["disagree"]


def test_the_tolerance_decides_whether_a_recent_capture_agrees(areas):
    frame = events([("e", "2017-07-05", REGAINS, "Iraqi Security Forces", MOSUL)])
    week = check_territorial_changes(frame, areas)  # layer read on 2017-07-12
    assert week.rows[VERDICT].tolist() == [AGREES]
    two_days = check_territorial_changes(frame, areas, settings=CheckSettings(tolerance_days=2))
    assert two_days.rows[VERDICT].tolist() == [DISAGREES]
    assert two_days.rows[LAYER_CONTROLLER].tolist() == [schema.ISLAMIC_STATE]


def test_an_event_dated_to_a_window_is_read_after_its_last_day(areas):
    frame = events([("w", "2017-06-20", REGAINS, "Iraqi Security Forces", MOSUL)])
    frame[schema.DATE_START] = pd.Timestamp("2017-06-20")
    frame[schema.DATE_END] = pd.Timestamp("2017-07-09")
    result = check_territorial_changes(frame, areas)
    assert result.rows[CHECK_DATE].tolist() == [pd.Timestamp("2017-07-16")]
    assert result.rows[VERDICT].tolist() == [AGREES]


def test_a_layer_that_already_showed_the_claim_says_so(areas):
    frame = events([("late", "2017-08-01", REGAINS, "Iraqi Security Forces", MOSUL)])
    row = check_territorial_changes(frame, areas).rows.iloc[0]
    assert row[VERDICT] == AGREES
    assert "already shows Iraqi government there the day before" in row[NOTE]


def test_contested_and_undated_layers(areas):
    contested = areas.copy()
    contested.loc[contested[schema.AREA_ID] == "r-is", schema.CONTROLLER] = schema.CONTESTED
    frame = events(
        [
            ("c", "2017-06-01", OVERTAKES, "SDF", RAQQA),
            ("early", "2014-01-01", OVERTAKES, "Islamic State", MOSUL),
        ]
    )
    limited = contested[contested[schema.AREA_ID] != "r-is"].copy()
    limited[schema.VALID_TO] = pd.Timestamp("2018-01-01")
    result = check_territorial_changes(frame, contested)
    assert by_id(result)["c"][VERDICT] == CONTESTED_IN_LAYER
    # the Mosul square starts 2014-06-10: an event read on 2014-01-08 is before the layer
    result = check_territorial_changes(frame, limited)
    assert by_id(result)["early"][VERDICT] == OUTSIDE_DATES


def test_the_actor_table_can_be_overridden(areas):
    frame = events(FIXTURE)
    settings = CheckSettings().with_overrides(
        {"Tribal Mobilisation (Ninewa)": schema.IRAQI_GOVERNMENT, "SDF": ""}
    )
    rows = by_id(check_territorial_changes(frame, areas, settings=settings))
    assert rows["unmapped"][VERDICT] == AGREES
    assert rows["disagree"][VERDICT] == UNMAPPED  # an empty controller removes the actor


def test_an_override_naming_an_unknown_controller_is_refused(areas):
    settings = CheckSettings().with_overrides({"SDF": "Daesh"})
    with pytest.raises(ActorMapError, match="'Daesh'"):
        check_territorial_changes(events(FIXTURE), areas, settings=settings)


def test_actor_names_match_whatever_the_case_spacing_and_acled_years():
    assert normalise_actor("Military Forces of Iraq (2014-)") == "military forces of iraq"
    assert normalise_actor("  ISLAMIC   State ") == "islamic state"
    assert normalise_actor("Military Forces of Syria (2000-2024)") == "military forces of syria"
    assert (
        normalise_actor("YPG: People\u2019s Protection Units") == "ypg: people's protection units"
    )


def test_the_default_table_names_only_controllers_of_the_bundled_layer():
    assert set(DEFAULT_ACTOR_CONTROLLERS.values()) <= set(schema.CONTROLLERS)
    assert schema.CONTESTED not in DEFAULT_ACTOR_CONTROLLERS.values()


def test_load_actor_map(tmp_path):
    path = tmp_path / "actors.csv"
    path.write_text("\ufeffactor,controller\nYPG,Kurdish Forces\nSDF,\n", encoding="utf-8")
    assert load_actor_map(path) == {"YPG": "Kurdish Forces", "SDF": ""}
    bad = tmp_path / "bad.csv"
    bad.write_text("name,side\nYPG,SDF\n", encoding="utf-8")
    with pytest.raises(Exception, match="missing column actor, controller"):
        load_actor_map(bad)


def test_the_bundled_data():
    from dashboard.pipeline import build

    result = build()
    check = check_territorial_changes(result.events, result.areas)
    # every actor 1 of the bundled territorial events is in the default table
    assert check.unmapped_actors.empty
    assert check.counts[AGREES] > 40
    bad = check.disagreements
    assert len(bad) >= 1
    assert (bad[CLAIMED] != bad[LAYER_CONTROLLER]).all()


# --- the command ------------------------------------------------------------------------------

CLI_ROWS = [
    (
        "E1,2017-07-08,Battles,Government regains territory,Iraqi Security Forces,Islamic State,"
        "Iraq,Ninewa,Mosul,Mosul,36.34,43.13,1,1,,Reuters,agrees"
    ),
    (
        "E2,2015-06-01,Battles,Non-state actor overtakes territory,SDF,Islamic State,Syria,"
        "Ar-Raqqa,Ar-Raqqa,Ar-Raqqa,35.95,39.01,1,1,,SOHR,disagrees"
    ),
    (
        "E3,2017-07-08,Battles,Non-state actor overtakes territory,Tribal Mobilisation,,Iraq,"
        "Ninewa,Mosul,Mosul,36.34,43.13,1,1,,Reuters,unmapped"
    ),
    (
        "E4,2017-11-15,Battles,Armed clash,SDF,Islamic State,Syria,Ar-Raqqa,Ar-Raqqa,Ar-Raqqa,"
        "35.96,39.02,1,1,,SOHR,not a territorial event"
    ),
]


@pytest.fixture()
def inputs(tmp_path) -> tuple[Path, Path]:
    return write_inputs(tmp_path / "data", rows=CLI_ROWS)


def test_cli_check_text_lists_what_does_not_agree(inputs):
    events_file, areas_file = inputs
    out = run("check", "--events", str(events_file), "--areas", str(areas_file))
    assert out.returncode == 1, out.stderr  # a disagreement
    text = out.stdout
    assert "disagrees: 1" in text and "agrees: 1" in text and "actor not mapped: 1" in text
    assert "E2 " in text and "E3 " in text
    assert "E1 " not in text  # agreeing events are listed only with --all
    assert "Tribal Mobilisation: 1 event(s)" in text
    everything = run("check", "--events", str(events_file), "--areas", str(areas_file), "--all")
    assert "E1 " in everything.stdout


def test_cli_check_json_and_csv(inputs):
    events_file, areas_file = inputs
    out = run("check", "--events", str(events_file), "--areas", str(areas_file), "-f", "json")
    assert out.returncode == 1
    doc = json.loads(out.stdout)
    assert doc["tolerance_days"] == 7
    rows = {r["event_id"]: r for r in doc["rows"]}
    assert (rows["E2"]["claimed_controller"], rows["E2"]["layer_controller"]) == (
        schema.SDF,
        schema.ISLAMIC_STATE,
    )
    assert rows["E2"]["check_date"] == "2015-06-08"
    assert doc["unmapped_actors"] == [{"actor": "Tribal Mobilisation", "events": 1}]
    out = run("check", "--events", str(events_file), "--areas", str(areas_file), "-f", "csv")
    frame = pd.read_csv(__import__("io").StringIO(out.stdout))
    assert set(frame["event_id"]) == {"E2", "E3"}
    assert list(frame.columns[:4]) == ["event_id", "event_date", "location", "country"]


def test_cli_check_exit_0_when_nothing_disagrees(inputs, tmp_path):
    events_file, areas_file = inputs
    actors = tmp_path / "actors.csv"
    actors.write_text("actor,controller\nSDF,Islamic State\n", encoding="utf-8")
    out = run("check", "--events", str(events_file), "--areas", str(areas_file),
              "--actor-map", str(actors), "--actor", "Tribal Mobilisation=Iraqi government")  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    assert "disagrees: 0" in out.stdout and "actor not mapped: 0" in out.stdout


def test_cli_check_date_filter(inputs):
    events_file, areas_file = inputs
    out = run("check", "--events", str(events_file), "--areas", str(areas_file),
              "--from", "2017-01-01", "-f", "json")  # fmt: skip
    assert out.returncode == 0
    assert {r["event_id"] for r in json.loads(out.stdout)["rows"]} == {"E1", "E3"}


def _one_line(out: subprocess.CompletedProcess[str], text: str) -> None:
    assert out.returncode == 2, out
    assert "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert text in out.stderr


def test_cli_check_bad_input(inputs, tmp_path):
    events_file, areas_file = inputs
    base = ("check", "--events", str(events_file), "--areas", str(areas_file))
    _one_line(run(*base, "--actor", "SDF=Daesh"), "'Daesh'")
    _one_line(run(*base, "--actor", "no equals sign"), "expected NAME=CONTROLLER")
    _one_line(run(*base, "--from", "2017-12-31", "--to", "2017-01-01"), "is after --to")
    _one_line(run(*base, "--actor-map", str(tmp_path / "none.csv")), "file not found")
    _one_line(run("check", "--events", str(tmp_path / "none.csv")), "file not found")


def test_cli_check_on_the_bundled_data():
    out = run("check", "-f", "json")
    assert out.returncode in (0, 1), out.stderr
    doc = json.loads(out.stdout)
    assert doc["unmapped_actors"] == []
    assert out.returncode == (1 if doc["counts"]["disagrees"] else 0)


@pytest.mark.shared_data
def test_cli_check_against_the_ocha_2015_maps(shared_data):
    files = [
        arg
        for f in (
            "ocha_syria_areas_of_influence_2015-05-24.geojson",
            "ocha_syria_areas_of_influence_2015-11-29.geojson",
        )
        for arg in ("--areas", str(shared_data / f))
    ]
    out = run("check", *files, "--controller-field", "actor_type", "--date-field", "valid_date",
              "--ocha-names", "--actor", "YPG=Kurdish Forces", "--actor", "SDF=Kurdish Forces",
              "--from", "2015-05-24", "--to", "2015-12-31", "-f", "json", "--all")  # fmt: skip
    assert out.returncode in (0, 1), out.stderr
    rows = {r["event_id"]: r for r in json.loads(out.stdout)["rows"]}
    # Tall Abyad fell to the YPG on 2015-06-16; the layer still holds OCHA's May snapshot a
    # week later, which gives it to the Islamic State: a disagreement the check must show.
    tall_abyad = rows["CM028"]
    assert tall_abyad["verdict"] == DISAGREES
    assert tall_abyad["layer_controller"] == schema.ISLAMIC_STATE
    assert tall_abyad["claimed_controller"] == "Kurdish Forces"
