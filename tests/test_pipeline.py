"""The whole pipeline on the bundled demo and on real public data."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard import geocoding, paths, schema
from dashboard.gazetteer import Gazetteer, Place
from dashboard.pipeline import (
    AreaOptions,
    BuildSettings,
    build,
    load_areas,
    read_and_geocode,
    write_outputs,
)


@pytest.fixture(scope="module")
def demo():
    return build()


def _controller_at(result, place_words, when):
    events = result.events
    mask = events[schema.LOCATION].fillna("").str.contains(place_words, case=False)
    on_day = events[mask & (events[schema.EVENT_DATE] == pd.Timestamp(when))]
    assert len(on_day), f"no bundled event at {place_words} on {when}"
    return set(on_day[schema.CONTROLLER])


def test_demo_ledger_balances(demo):
    report = demo.event_report
    assert report.rows_in == report.rows_loaded + report.rows_rejected
    assert len(demo.events) == report.rows_loaded
    assert report.rows_in == len(pd.read_csv(paths.BUNDLED_EVENTS, dtype=str))


def test_demo_every_row_is_placed_and_joined(demo):
    events = demo.events
    assert events[schema.EVENT_ID].is_unique
    assert events[schema.LATITUDE].notna().all(), "a bundled place failed to geocode"
    assert set(events[schema.GEOCODE_METHOD]) <= {"given", "exact", "alias", "fuzzy"}
    assert (events[schema.GEOCODE_METHOD] != "given").sum() >= 15
    assert set(events[schema.CONTROLLER]) <= set(schema.CONTROLLERS) | {schema.UNKNOWN}


def test_mosul_islamic_state_2015_iraqi_government_late_2017(demo):
    areas = demo.areas
    from dashboard.spatial import join_events_to_areas

    probes = pd.DataFrame(
        {
            schema.EVENT_ID: ["mid-2015", "late-2017"],
            schema.LATITUDE: [36.34, 36.34],
            schema.LONGITUDE: [43.13, 43.13],
            schema.EVENT_DATE: pd.to_datetime(["2015-06-15", "2017-11-15"]),
            schema.DATE_START: pd.to_datetime(["2015-06-15", "2017-11-15"]),
            schema.DATE_END: pd.to_datetime(["2015-06-15", "2017-11-15"]),
            schema.GEO_PRECISION: pd.array([1, 1], dtype="Int8"),
        }
    )
    joined = join_events_to_areas(probes, areas)
    assert list(joined[schema.CONTROLLER]) == [schema.ISLAMIC_STATE, schema.IRAQI_GOVERNMENT]


def test_story_events_fall_where_the_story_says(demo):
    # Mosul falls on 10 June 2014: the bundled event is on IS-held ground by the next snapshot
    # at the latest; its recapture (10 July 2017) lies in Iraqi-government ground.
    assert schema.IRAQI_GOVERNMENT in _controller_at(demo, "Mosul|Mawsil|الموصل", "2017-07-10")
    assert _controller_at(demo, "Baghuz", "2019-03-23") <= {schema.SDF, schema.CONTESTED}


def test_outputs_written(demo, tmp_path):
    out, rejected = write_outputs(demo, tmp_path / "events.parquet")
    import geopandas as gpd

    back = gpd.read_parquet(out)
    assert len(back) == len(demo.events)
    assert back.crs.to_epsg() == 4326
    assert set(schema.EVENT_COLUMNS) <= set(back.columns)
    assert schema.CONTROLLER in back and schema.EVENT_ID in back
    assert rejected.exists()


def test_ucdp_extract_through_a_mapping_keeps_every_row(shared_data, tmp_path):
    source = shared_data / "ucdp_ged_sample_syria_iraq_2014_2018_dated.csv"
    mapping = {
        "id": schema.EVENT_ID,
        "date": schema.EVENT_DATE,
        "latitude": schema.LATITUDE,
        "longitude": schema.LONGITUDE,
        "best": schema.FATALITIES,
        "side_a": schema.ACTOR1,
        "side_b": schema.ACTOR2,
        "country": schema.COUNTRY,
    }
    result = build(source, settings=BuildSettings(mapping=mapping))
    report = result.event_report
    assert report.rows_in == 773
    assert report.rows_in == report.rows_loaded + report.rows_rejected
    assert len(result.events) == report.rows_loaded
    assert report.rows_loaded > 700


def test_ocha_snapshots_as_areas(shared_data, tmp_path):
    files = [
        shared_data / "ocha_syria_areas_of_influence_2015-05-24.geojson",
        shared_data / "ocha_syria_areas_of_influence_2015-11-29.geojson",
    ]
    # Tall Abyad: ISIS on the May 2015 snapshot, Kurdish Forces on the November one.
    probe = tmp_path / "tall_abyad.csv"
    probe.write_text(
        "event_id,event_date,latitude,longitude\n"
        "a,2015-06-01,36.696,38.954\n"
        "b,2015-12-15,36.696,38.954\n",
        encoding="utf-8",
    )
    settings = BuildSettings(
        areas=AreaOptions(controller_field="actor_type", date_field="valid_date")
    )
    result = build(probe, files, settings=settings)
    assert list(result.events[schema.CONTROLLER]) == ["ISIS-affiliated groups", "Kurdish Forces"]


# --- tiny hand-made files through the whole pipeline ------------------------------------------


def _ucdp_file(path, rows):
    """A UCDP GED CSV (49 columns) with the given (id, where_prec) rows, all at Mosul in 2015."""
    lines = [",".join(schema.UCDP_GED_COLUMNS)]
    for event_id, where_prec in rows:
        values = {
            "id": event_id,
            "type_of_violence": "1",
            "side_a": "Government of Iraq",
            "side_b": "IS",
            "where_prec": where_prec,
            "where_coordinates": "Mosul",
            "latitude": "36.34",
            "longitude": "43.13",
            "geom_wkt": "POINT (43.13 36.34)",
            "country": "Iraq",
            "date_prec": "1",
            "date_start": "2015-06-15",
            "date_end": "2015-06-15",
            "best": "2",
        }
        lines.append(",".join(values.get(c, "") for c in schema.UCDP_GED_COLUMNS))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_ucdp_where_prec_3_and_above_gives_low_confidence(tmp_path):
    # where_prec 1-2 name the place (ACLED geo 1-2); 3-7 an admin unit or wider (geo 3)
    rows = [(str(k), str(k)) for k in range(1, 8)]
    result = build(_ucdp_file(tmp_path / "ged.csv", rows))
    events = result.events.set_index(schema.EVENT_ID)
    assert set(events[schema.CONTROLLER]) == {schema.ISLAMIC_STATE}
    assert events[schema.GEO_PRECISION].tolist() == [1, 2, 3, 3, 3, 3, 3]
    assert events[schema.UCDP_WHERE_PREC].tolist() == [1, 2, 3, 4, 5, 6, 7]
    assert events[schema.CONTROLLER_CONFIDENCE].tolist() == ["high"] * 2 + ["low"] * 5


ACLED_HEADER = ",".join(schema.ACLED_COLUMNS)


def _acled_line(event_id, date, timestamp, *, lat="36.34"):
    values = {
        "event_id_cnty": event_id,
        "event_date": date,
        "country": "Iraq",
        "location": "Mosul",
        "latitude": lat,
        "longitude": "43.13",
        "fatalities": "0",
        "timestamp": timestamp,
    }
    return ",".join(values.get(c, "") for c in schema.ACLED_COLUMNS)


def test_every_set_aside_row_reaches_the_rejected_csv_with_its_reason(tmp_path):
    # 5 rows: an older ACLED version (reader), an impossible date (validation), a ragged row
    # (reader), a latitude out of range (validation) and one good row.
    path = tmp_path / "acled.csv"
    lines = [
        ACLED_HEADER,
        _acled_line("IRQ1", "15 June 2015", "1000"),
        _acled_line("IRQ1", "15 June 2015", "2000"),
        _acled_line("IRQ2", "31 June 2015", "1000"),
        "IRQ3,ragged,row",
        _acled_line("IRQ4", "16 June 2015", "1000", lat="95"),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = build(path)
    out, rejected_path = write_outputs(result, tmp_path / "out.parquet")
    import geopandas as gpd

    written, rejected = gpd.read_parquet(out), pd.read_csv(rejected_path, dtype=str)
    assert result.event_report.rows_in == 5
    assert len(written) + len(rejected) == 5
    assert written[schema.EVENT_ID].tolist() == ["IRQ1"]
    assert written["timestamp"].tolist() == ["2000"]  # ACLED's extra columns kept to the end
    reasons = dict(
        zip(rejected[schema.SOURCE_ROW].astype(int), rejected[schema.REJECT_REASON], strict=True)
    )
    assert sorted(reasons) == [1, 3, 4, 5]
    assert reasons[1].startswith("superseded by a newer version (timestamp 2000, row 2)")
    assert "not a real date" in reasons[3]
    assert reasons[4].startswith("ragged row")
    assert reasons[5].startswith("latitude 95 is outside")


def _tiny_gazetteer() -> Gazetteer:
    place = Place("Mosul", 36.34, 43.13, "IQ", "15", 1_000_000, 1, "test")
    return Gazetteer([(place, ("Mosul",))])


def test_rows_naming_no_country_are_looked_up_in_the_areas_countries(tmp_path, monkeypatch):
    """Not the whole world (20 s, and a namesake anywhere is a confident wrong answer):
    the countries the control areas cover, said in a note that names the option."""
    asked: list[object] = []

    def fake_load(*, countries=None, **kwargs):  # the whole world takes 20 s and 1.2 GB
        asked.append(countries)
        return _tiny_gazetteer()

    monkeypatch.setattr(geocoding, "load_gazetteer", fake_load)
    path = tmp_path / "names.csv"
    path.write_text("event_id,event_date,location\na,2015-06-15,Mosul\n", encoding="utf-8")
    result = build(path)
    assert asked == [["Iraq", "Syria"]]
    (note,) = result.summary()["notes"]
    assert "looked up in the control areas' countries only (Iraq, Syria)" in note
    assert "--country" in note
    assert result.events[schema.CONTROLLER].tolist() == [schema.ISLAMIC_STATE]

    asked.clear()
    checked, geocoded = read_and_geocode(path, settings=BuildSettings(countries=("Iraq",)))
    assert asked == [["Iraq"]] and geocoded.notes == []
    assert checked.format == "canonical" and geocoded.counts["exact"] == 1


def test_summary_warns_when_neither_rows_nor_areas_name_a_country(tmp_path, monkeypatch):
    asked: list[object] = []

    def fake_load(*, countries=None, **kwargs):
        asked.append(countries)
        return _tiny_gazetteer()

    monkeypatch.setattr(geocoding, "load_gazetteer", fake_load)
    path = tmp_path / "names.csv"
    path.write_text("event_id,event_date,location\na,2015-06-15,Mosul\n", encoding="utf-8")
    areas = tmp_path / "areas.geojson"
    areas.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
        '{"controller": "Islamic State", "valid_from": "2014-01-01", "valid_to": null}, '
        '"geometry": {"type": "Polygon", "coordinates": [[[42, 35], [45, 35], [45, 37], '
        "[42, 37], [42, 35]]]}}]}",
        encoding="utf-8",
    )
    result = build(path, [areas])
    assert asked == [None]
    notes = result.summary()["notes"]
    (note,) = [n for n in notes if "gazetteer" in n]
    assert "whole-world gazetteer" in note and "--country" in note
    assert result.events[schema.CONTROLLER].tolist() == [schema.ISLAMIC_STATE]


def test_no_gazetteer_is_loaded_when_every_row_has_coordinates(tmp_path, monkeypatch):
    def fail(**kwargs):
        raise AssertionError("gazetteer loaded for rows that all have coordinates")

    monkeypatch.setattr(geocoding, "load_gazetteer", fail)
    path = tmp_path / "coords.csv"
    path.write_text(
        "event_id,event_date,latitude,longitude\na,2015-06-15,36.34,43.13\n", encoding="utf-8"
    )
    result = build(path)
    assert result.summary()["notes"] == []
    assert result.events[schema.CONTROLLER].tolist() == [schema.ISLAMIC_STATE]


def test_progress_covers_every_stage_in_order():
    calls: list[tuple[str, int, int]] = []
    build(progress=lambda stage, done, total: calls.append((stage, done, total)))
    stages = list(dict.fromkeys(stage for stage, _, _ in calls))
    # The areas before the geocoding: rows naming no country are looked up in theirs.
    assert stages == ["read", "areas", "geocode", "join"]
    for stage in ("read", "areas"):  # coarse stages: start and end
        assert [(d, t) for s, d, t in calls if s == stage] == [(0, 1), (1, 1)]
    join = [(d, t) for s, d, t in calls if s == "join"]
    assert join and join[-1][0] == join[-1][1]


def test_given_areas_are_not_reported_as_loading():
    calls: list[str] = []
    build(areas=load_areas(), progress=lambda stage, done, total: calls.append(stage))
    assert "areas" not in calls and "read" in calls
