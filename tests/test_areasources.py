"""Control-area sources read together: "No information" yields, sources that disagree are
said, every version keeps its source."""

from __future__ import annotations

from types import SimpleNamespace

import geopandas as gpd
import pandas as pd
from shapely.geometry import box

from dashboard import schema
from dashboard import store as pgstore
from dashboard.areas import AreasResult, read_control_areas
from dashboard.areasources import combine_results
from dashboard.history import control_history
from dashboard.report import Report
from dashboard.spatial import join_events_to_areas

IS = schema.ISLAMIC_STATE
VEIL = schema.NO_INFORMATION


def _areas() -> gpd.GeoDataFrame:
    # A polygon file says Islamic State on [0,2]x[0,2]; a town list knows nothing of
    # [1,3]x[0,2] (its "No information" ground) and holds a town's cell on [3,4]x[0,2].
    return gpd.GeoDataFrame(
        {
            schema.AREA_ID: ["front", "veil", "town"],
            schema.CONTROLLER: [IS, VEIL, schema.SDF],
            schema.VALID_FROM: pd.to_datetime(["2015-01-01"] * 3),
            schema.VALID_TO: pd.to_datetime([None] * 3),
            schema.AREA_SOURCE: ["front.geojson", "towns.csv", "towns.csv"],
            schema.AREA_FEATURE: [1, 0, 2],
        },
        geometry=[box(0, 0, 2, 2), box(1, 0, 3, 2), box(3, 0, 4, 2)],
        crs="EPSG:4326",
    )


EVENTS = pd.DataFrame(
    {
        schema.EVENT_ID: ["under both", "veil only", "front edge in veil", "town"],
        schema.EVENT_DATE: pd.to_datetime(["2015-06-01"] * 4),
        schema.LONGITUDE: [1.5, 2.5, 2.0, 3.5],
        schema.LATITUDE: [1.0, 1.0, 1.0, 1.0],
    }
)
EXPECTED = {
    "under both": IS,  # the veil yields: no "Contested" from a source that knows nothing
    "veil only": VEIL,
    "front edge in veil": IS,  # on the front's border, inside the veil: the front
    "town": schema.SDF,
}


def test_no_information_yields_to_any_side_in_the_join_and_the_history() -> None:
    joined = join_events_to_areas(EVENTS, _areas()).set_index(schema.EVENT_ID)
    assert joined[schema.CONTROLLER].to_dict() == EXPECTED
    history = control_history(_areas(), 1.0, 1.5)
    assert [(s.controller, s.claimants) for s in history.spans] == [(IS, (IS,))]


def test_the_join_in_postgis_follows_the_same_rule(empty_db) -> None:
    areas = _areas()
    joined = join_events_to_areas(EVENTS, areas)
    engine = pgstore.connect(empty_db)
    pgstore.load_build(engine, SimpleNamespace(events=joined, areas=areas))
    got = pgstore.joined_in_db(engine).set_index(schema.EVENT_ID)[schema.CONTROLLER].to_dict()
    assert got == EXPECTED


def test_sources_that_give_one_ground_to_two_sides_are_said(tmp_path) -> None:
    first = gpd.GeoDataFrame(
        {"controller": [IS], "valid_from": ["2015-01-01"]}, geometry=[box(0, 0, 2, 2)],
        crs="EPSG:4326",
    )  # fmt: skip
    second = first.assign(controller=[schema.SDF]).set_geometry([box(1, 0, 3, 2)])
    veil = first.assign(controller=[VEIL]).set_geometry([box(0, 0, 3, 2)])
    paths = []
    for name, frame in (("a.geojson", first), ("b.geojson", second), ("c.geojson", veil)):
        frame.to_file(tmp_path / name, driver="GeoJSON")
        paths.append(tmp_path / name)
    reads = [read_control_areas([p]) for p in paths]
    both = combine_results(reads)
    said = [p.message for p in both.report.problems if "overlaps" in p.message]
    assert len(said) == 1  # a/b; the veil of c contests nothing
    assert "a.geojson feature 1 (Islamic State) overlaps b.geojson feature 1 (SDF)" in said[0]
    assert both.ledger.features_in == 3 and both.ledger.balanced


def test_a_single_source_is_returned_as_read() -> None:
    one = AreasResult(areas=_areas(), rejected=pd.DataFrame(), report=Report())
    assert combine_results([one]) is one
