"""The event <-> control-area join: tiny fixtures whose answers are worked out by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from dashboard.errors import CRSError, SchemaError
from dashboard.schema import (
    AREA_ID,
    CONFIDENCE_HIGH,
    CONFIDENCE_LOW,
    CONTESTED,
    CONTROLLER,
    CONTROLLER_CHANGED,
    CONTROLLER_CONFIDENCE,
    DATE_END,
    DATE_START,
    EVENT_DATE,
    EVENT_ID,
    GEO_PRECISION,
    LATITUDE,
    LONGITUDE,
    UNKNOWN,
    VALID_FROM,
    VALID_TO,
)
from dashboard.spatial import join_events_to_areas

DAY0 = pd.Timestamp("2015-01-01")


def make_areas(
    rows: list[tuple[str, str, shapely.Geometry, str | None, str | None]],
) -> gpd.GeoDataFrame:
    """rows: (area_id, controller, geometry, valid_from, valid_to or None)."""
    return gpd.GeoDataFrame(
        {
            AREA_ID: pd.array([r[0] for r in rows], dtype="string"),
            CONTROLLER: pd.array([r[1] for r in rows], dtype="string"),
            VALID_FROM: pd.to_datetime([r[3] for r in rows]).astype("datetime64[s]"),
            VALID_TO: pd.to_datetime([r[4] for r in rows]).astype("datetime64[s]"),
        },
        geometry=[r[2] for r in rows],
        crs="EPSG:4326",
    )


def make_events(
    points: list[tuple[float, float]],
    date: str | list[str] = "2015-03-01",
    *,
    start: list[str | None] | None = None,
    end: list[str | None] | None = None,
    precision: list[int] | None = None,
) -> pd.DataFrame:
    """points as (lon, lat)."""
    n = len(points)
    dates = [date] * n if isinstance(date, str) else date
    return pd.DataFrame(
        {
            EVENT_ID: [f"e{i}" for i in range(n)],
            EVENT_DATE: pd.to_datetime(dates),
            DATE_START: pd.to_datetime(start if start is not None else dates),
            DATE_END: pd.to_datetime(end if end is not None else dates),
            LONGITUDE: [p[0] for p in points],
            LATITUDE: [p[1] for p in points],
            GEO_PRECISION: precision if precision is not None else [1] * n,
        }
    )


@pytest.fixture
def halves() -> gpd.GeoDataFrame:
    """A 10x10 square split into a west half held by A and an east half held by B."""
    return make_areas(
        [
            ("W", "A", shapely.box(0, 0, 5, 10), "2015-01-01", None),
            ("E", "B", shapely.box(5, 0, 10, 10), "2015-01-01", None),
        ]
    )


def test_point_inside_each_half_gets_that_controller(halves):
    out = join_events_to_areas(make_events([(2, 5), (8, 5)]), halves)
    assert out[CONTROLLER].tolist() == ["A", "B"]
    assert out[AREA_ID].tolist() == ["W", "E"]
    assert out[CONTROLLER_CONFIDENCE].tolist() == [CONFIDENCE_HIGH, CONFIDENCE_HIGH]
    assert out[CONTROLLER_CHANGED].tolist() == [False, False]


def test_point_on_the_shared_border_gets_the_first_listed_area(halves):
    # (5, 5) is covered by both halves and strictly inside neither.
    out = join_events_to_areas(make_events([(5, 5)]), halves)
    assert (out[CONTROLLER].tolist(), out[AREA_ID].tolist()) == (["A"], ["W"])
    swapped = halves.iloc[::-1].reset_index(drop=True)
    out = join_events_to_areas(make_events([(5, 5)]), swapped)
    assert (out[CONTROLLER].tolist(), out[AREA_ID].tolist()) == (["B"], ["E"])


def test_point_on_an_outer_edge_or_corner_belongs_to_that_area(halves):
    out = join_events_to_areas(make_events([(0, 5), (10, 10), (5, 0)]), halves)
    assert out[CONTROLLER].tolist() == ["A", "B", "A"]


def test_point_outside_everything_is_unknown_with_high_confidence(halves):
    out = join_events_to_areas(make_events([(15, 5)]), halves)
    assert out[CONTROLLER].tolist() == [UNKNOWN]
    assert out[AREA_ID].isna().all()
    assert out[CONTROLLER_CONFIDENCE].tolist() == [CONFIDENCE_HIGH]


def test_overlapping_areas_of_different_controllers_make_the_point_contested():
    areas = make_areas(
        [
            ("a", "A", shapely.box(0, 0, 6, 6), "2015-01-01", None),
            ("b", "B", shapely.box(4, 4, 10, 10), "2015-01-01", None),
        ]
    )
    out = join_events_to_areas(make_events([(5, 5), (1, 1), (9, 9)]), areas)
    assert out[CONTROLLER].tolist() == [CONTESTED, "A", "B"]
    # documented: the area_id of a contested point is the first-listed overlapping area
    assert out[AREA_ID].tolist() == ["a", "a", "b"]


def test_overlap_of_the_same_controller_is_not_contested():
    areas = make_areas(
        [
            ("a1", "A", shapely.box(0, 0, 6, 6), "2015-01-01", None),
            ("a2", "A", shapely.box(4, 4, 10, 10), "2015-01-01", None),
        ]
    )
    out = join_events_to_areas(make_events([(5, 5)]), areas)
    assert (out[CONTROLLER].tolist(), out[AREA_ID].tolist()) == (["A"], ["a1"])


def test_strict_interior_beats_a_boundary():
    # (5, 5) is on the edge of "a" and strictly inside "b"
    areas = make_areas(
        [
            ("a", "A", shapely.box(0, 0, 5, 10), "2015-01-01", None),
            ("b", "B", shapely.box(4, 0, 10, 10), "2015-01-01", None),
        ]
    )
    out = join_events_to_areas(make_events([(5, 5)]), areas)
    assert (out[CONTROLLER].tolist(), out[AREA_ID].tolist()) == (["B"], ["b"])


def test_overlap_valid_at_different_times_is_not_contested():
    areas = make_areas(
        [
            ("a", "A", shapely.box(0, 0, 6, 6), "2015-01-01", "2015-02-01"),
            ("b", "B", shapely.box(4, 4, 10, 10), "2015-02-01", None),
        ]
    )
    out = join_events_to_areas(make_events([(5, 5), (5, 5)], ["2015-01-15", "2015-02-15"]), areas)
    assert out[CONTROLLER].tolist() == ["A", "B"]


def test_an_area_held_by_contested_yields_contested():
    areas = make_areas([("c", CONTESTED, shapely.box(0, 0, 10, 10), "2015-01-01", None)])
    out = join_events_to_areas(make_events([(5, 5)]), areas)
    assert (out[CONTROLLER].tolist(), out[AREA_ID].tolist()) == ([CONTESTED], ["c"])


def test_open_ended_interval_is_valid_forever(halves):
    out = join_events_to_areas(make_events([(2, 5)], "2031-07-01"), halves)
    assert out[CONTROLLER].tolist() == ["A"]


def test_event_before_any_version_is_unknown(halves):
    out = join_events_to_areas(make_events([(2, 5)], "2014-12-31"), halves)
    assert out[CONTROLLER].tolist() == [UNKNOWN]


@pytest.fixture
def handover() -> gpd.GeoDataFrame:
    """The west half: A until 2015-06-01 (exclusive), B from 2015-06-01, open-ended."""
    return make_areas(
        [
            ("w1", "A", shapely.box(0, 0, 5, 10), "2015-01-01", "2015-06-01"),
            ("w2", "B", shapely.box(0, 0, 5, 10), "2015-06-01", None),
        ]
    )


def test_version_boundary_on_the_event_date_is_half_open(handover):
    events = make_events([(2, 5)] * 3, ["2015-05-31", "2015-06-01", "2015-06-02"])
    out = join_events_to_areas(events, handover)
    assert out[CONTROLLER].tolist() == ["A", "B", "B"]
    assert out[AREA_ID].tolist() == ["w1", "w2", "w2"]


def test_controller_change_inside_the_event_window_is_flagged(handover):
    events = make_events(
        [(2, 5)] * 4,
        ["2015-05-20", "2015-05-20", "2015-05-31", "2014-12-30"],
        start=["2015-05-15", "2015-05-01", "2015-05-25", "2014-12-25"],
        end=["2015-06-10", "2015-05-31", "2015-06-01", "2015-01-05"],
    )
    out = join_events_to_areas(events, handover)
    assert out[CONTROLLER].tolist() == ["A", "A", "A", UNKNOWN]
    # window across the handover; window ending the day before it; window ending on the
    # handover day itself (both ends inclusive); window from before the area existed
    assert out[CONTROLLER_CHANGED].tolist() == [True, False, True, True]
    assert out[CONTROLLER_CONFIDENCE].tolist() == [
        CONFIDENCE_LOW,
        CONFIDENCE_HIGH,
        CONFIDENCE_LOW,
        CONFIDENCE_LOW,
    ]


def test_new_version_with_the_same_controller_is_not_a_change():
    areas = make_areas(
        [
            ("v1", "A", shapely.box(0, 0, 5, 10), "2015-01-01", "2015-06-01"),
            ("v2", "A", shapely.box(0, 0, 6, 10), "2015-06-01", None),
        ]
    )
    events = make_events([(2, 5)], "2015-05-20", start=["2015-05-01"], end=["2015-06-30"])
    out = join_events_to_areas(events, areas)
    assert out[CONTROLLER_CHANGED].tolist() == [False]
    assert out[CONTROLLER_CONFIDENCE].tolist() == [CONFIDENCE_HIGH]


def test_missing_window_falls_back_to_the_event_date(handover):
    events = make_events([(2, 5)], "2015-05-31", start=[None], end=[None])
    out = join_events_to_areas(events, handover)
    assert out[CONTROLLER].tolist() == ["A"]
    assert out[CONTROLLER_CHANGED].tolist() == [False]


def test_event_without_any_date_is_unknown_and_low(halves):
    events = make_events([(2, 5)], "2015-03-01", start=[None], end=[None])
    events[EVENT_DATE] = pd.NaT
    out = join_events_to_areas(events, halves)
    assert out[CONTROLLER].tolist() == [UNKNOWN]
    assert out[CONTROLLER_CONFIDENCE].tolist() == [CONFIDENCE_LOW]


def test_imprecise_location_gives_low_confidence(halves):
    out = join_events_to_areas(make_events([(2, 5), (2, 5)], precision=[3, 2]), halves)
    assert out[CONTROLLER].tolist() == ["A", "A"]
    assert out[CONTROLLER_CONFIDENCE].tolist() == [CONFIDENCE_LOW, CONFIDENCE_HIGH]


def test_missing_coordinates_are_unknown_with_low_confidence(halves):
    out = join_events_to_areas(make_events([(np.nan, np.nan), (2, np.nan), (2, 5)]), halves)
    assert out[CONTROLLER].tolist() == [UNKNOWN, UNKNOWN, "A"]
    assert out[AREA_ID].isna().tolist() == [True, True, False]
    assert out[CONTROLLER_CONFIDENCE].tolist() == [CONFIDENCE_LOW, CONFIDENCE_LOW, CONFIDENCE_HIGH]
    assert out.geometry.isna().tolist() == [True, True, False]


def test_out_of_range_coordinates_of_single_events_are_unlocated(halves):
    out = join_events_to_areas(make_events([(200, 5), (2, 95), (2, 5)]), halves)
    assert out[CONTROLLER].tolist() == [UNKNOWN, UNKNOWN, "A"]
    assert out[CONTROLLER_CONFIDENCE].tolist()[:2] == [CONFIDENCE_LOW, CONFIDENCE_LOW]


def test_events_in_web_mercator_are_refused_not_silently_unmatched(halves):
    events = make_events([(2, 5), (8, 5)])
    in_3857 = gpd.GeoDataFrame(
        events, geometry=gpd.points_from_xy(events[LONGITUDE], events[LATITUDE]), crs="EPSG:4326"
    ).to_crs("EPSG:3857")
    with pytest.raises(CRSError, match="EPSG:3857"):
        join_events_to_areas(in_3857, halves)
    # the explicit reprojection the message asks for works
    out = join_events_to_areas(in_3857.to_crs("EPSG:4326"), halves)
    assert out[CONTROLLER].tolist() == ["A", "B"]


def test_projected_metres_in_the_lat_lon_columns_are_refused(halves):
    metres = make_events([(222_639.0, 557_305.0), (890_555.0, 557_305.0)])
    with pytest.raises(CRSError, match="outside lon/lat range"):
        join_events_to_areas(metres, halves)


def test_events_geometry_without_crs_is_refused(halves):
    events = make_events([(2, 5)])
    no_crs = gpd.GeoDataFrame(
        events, geometry=gpd.points_from_xy(events[LONGITUDE], events[LATITUDE])
    )
    with pytest.raises(CRSError, match="CRS missing"):
        join_events_to_areas(no_crs, halves)


def test_areas_not_in_4326_are_refused(halves):
    with pytest.raises(CRSError, match="EPSG:3857"):
        join_events_to_areas(make_events([(2, 5)]), halves.to_crs("EPSG:3857"))


def test_points_only_geodataframe_is_joined_by_its_geometry(halves):
    events = make_events([(2, 5), (8, 5)])
    gdf = gpd.GeoDataFrame(
        events.drop(columns=[LATITUDE, LONGITUDE]),
        geometry=gpd.points_from_xy(events[LONGITUDE], events[LATITUDE]),
        crs="EPSG:4326",
    )
    out = join_events_to_areas(gdf, halves)
    assert out[CONTROLLER].tolist() == ["A", "B"]


def test_missing_date_column_is_a_schema_error(halves):
    with pytest.raises(SchemaError, match="when"):
        join_events_to_areas(make_events([(2, 5)]), halves, date_column="when")


def test_one_row_per_event_in_input_order_with_duplicates(halves):
    # duplicated events on the shared border of W and E and strictly inside X: never
    # duplicated, and X wins (a strict interior beats boundaries)
    areas = pd.concat(
        [halves, make_areas([("X", "C", shapely.box(4, 4, 6, 6), "2015-01-01", None)])],
        ignore_index=True,
    )
    events = make_events([(8, 5), (5, 5), (5, 5), (2, 5), (15, 5), (8, 5), (5, 5)])
    events.index = [10, 3, 3, 7, 1, 0, 99]
    out = join_events_to_areas(events, areas)
    assert len(out) == len(events)
    assert out.index.tolist() == [10, 3, 3, 7, 1, 0, 99]
    assert out[EVENT_ID].tolist() == events[EVENT_ID].tolist()
    assert out[CONTROLLER].tolist() == ["B", "C", "C", "A", UNKNOWN, "B", "C"]
    assert out[AREA_ID].tolist()[:3] == ["E", "X", "X"]


def test_output_is_a_point_geodataframe_in_4326(halves):
    out = join_events_to_areas(make_events([(2, 5)]), halves)
    assert isinstance(out, gpd.GeoDataFrame)
    assert out.crs.to_epsg() == 4326
    assert out.geometry.iloc[0].equals(shapely.Point(2, 5))
    assert out[CONTROLLER_CHANGED].dtype == bool


def test_inputs_are_not_mutated(halves):
    events = make_events([(2, 5), (5, 5), (np.nan, 1)])
    gdf_events = gpd.GeoDataFrame(
        events, geometry=gpd.points_from_xy(events[LONGITUDE], events[LATITUDE]), crs="EPSG:4326"
    )
    before_events, before_areas = gdf_events.copy(deep=True), halves.copy(deep=True)
    out = join_events_to_areas(gdf_events, halves)
    pd.testing.assert_frame_equal(gdf_events, before_events)
    pd.testing.assert_frame_equal(halves, before_areas)
    assert CONTROLLER not in gdf_events.columns
    assert out is not gdf_events


def test_empty_events_give_an_empty_frame(halves):
    out = join_events_to_areas(make_events([]), halves)
    assert len(out) == 0
    assert {CONTROLLER, AREA_ID, CONTROLLER_CONFIDENCE, CONTROLLER_CHANGED} <= set(out.columns)


def test_progress_is_reported_per_chunk(halves):
    seen: list[int] = []
    join_events_to_areas(make_events([(2, 5)] * 10), halves, chunk_size=4, progress=seen.append)
    assert seen == [4, 8, 10]


# --------------------------------------------------------------------------------------------
# random data: chunking changes nothing, and a brute-force reading of the rules agrees


def _random_case(seed: int) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    rng = np.random.default_rng(seed)
    shapes = []
    for _ in range(12):  # integer rectangles: many shared borders, corners and overlaps
        x0, y0 = rng.integers(0, 8, 2)
        w, h = rng.integers(1, 5, 2)
        shapes.append(shapely.box(x0, y0, x0 + w, y0 + h))
    rows = []
    for v in range(40):
        start = int(rng.integers(0, 50))
        length = int(rng.integers(1, 30))
        end = None if rng.random() < 0.2 else str((DAY0 + pd.Timedelta(days=start + length)).date())
        controller = str(rng.choice(["A", "B", "C", CONTESTED], p=[0.35, 0.3, 0.3, 0.05]))
        rows.append(
            (
                f"v{v}",
                controller,
                shapes[rng.integers(0, len(shapes))],
                str((DAY0 + pd.Timedelta(days=start)).date()),
                end,
            )
        )
    areas = make_areas(rows)
    n = 300
    xy = rng.integers(-2, 24, size=(n, 2)) / 2  # halves: on edges and corners often
    xy[rng.random(n) < 0.05] = np.nan
    day = rng.integers(0, 70, n)
    back = rng.integers(0, 6, n) * (rng.random(n) < 0.5)
    ahead = rng.integers(0, 6, n) * (rng.random(n) < 0.5)
    dates = [str((DAY0 + pd.Timedelta(days=int(d))).date()) for d in day]
    starts = [
        str((DAY0 + pd.Timedelta(days=int(d - b))).date()) for d, b in zip(day, back, strict=True)
    ]
    ends = [
        str((DAY0 + pd.Timedelta(days=int(d + a))).date()) for d, a in zip(day, ahead, strict=True)
    ]
    events = make_events([tuple(p) for p in xy], dates, start=starts, end=ends)
    return events, areas


def _brute_force(events: pd.DataFrame, areas: gpd.GeoDataFrame) -> pd.DataFrame:
    """The rules of dashboard.spatial, read literally, one event and one day at a time."""
    geoms = list(areas.geometry)
    vf = [d.date() for d in areas[VALID_FROM]]
    vt = [None if pd.isna(d) else d.date() for d in areas[VALID_TO]]

    def at(point: shapely.Point, day) -> tuple[str, str | None]:
        valid = [i for i in range(len(geoms)) if vf[i] <= day and (vt[i] is None or day < vt[i])]
        hits = [i for i in valid if geoms[i].intersects(point)]
        inside = [i for i in hits if geoms[i].contains_properly(point)]
        if inside:
            names = {areas[CONTROLLER].iloc[i] for i in inside}
            name = CONTESTED if len(names) > 1 else names.pop()
            return name, areas[AREA_ID].iloc[min(inside)]
        if hits:
            return areas[CONTROLLER].iloc[min(hits)], areas[AREA_ID].iloc[min(hits)]
        return UNKNOWN, None

    out = []
    for row in events.itertuples(index=False):
        lon, lat = getattr(row, LONGITUDE), getattr(row, LATITUDE)
        if np.isnan(lon) or np.isnan(lat):
            out.append((UNKNOWN, None, False))
            continue
        point = shapely.Point(lon, lat)
        controller, area = at(point, getattr(row, EVENT_DATE).date())
        days = pd.date_range(getattr(row, DATE_START), getattr(row, DATE_END), freq="D")
        changed = len({at(point, d.date())[0] for d in days}) > 1
        out.append((controller, area, changed))
    return pd.DataFrame(out, columns=[CONTROLLER, AREA_ID, CONTROLLER_CHANGED])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_chunked_join_equals_one_shot_join_on_random_data(seed):
    events, areas = _random_case(seed)
    one_shot = join_events_to_areas(events, areas)
    for chunk_size in (1, 7, 64):
        chunked = join_events_to_areas(events, areas, chunk_size=chunk_size)
        pd.testing.assert_frame_equal(chunked, one_shot)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_join_agrees_with_a_brute_force_reading_of_the_rules(seed):
    events, areas = _random_case(seed)
    out = join_events_to_areas(events, areas, chunk_size=50)
    expected = _brute_force(events, areas)
    assert out[CONTROLLER].tolist() == expected[CONTROLLER].tolist()
    assert out[AREA_ID].fillna("-").tolist() == expected[AREA_ID].fillna("-").tolist()
    assert out[CONTROLLER_CHANGED].tolist() == expected[CONTROLLER_CHANGED].tolist()
    # the random data does exercise the rules
    assert (out[CONTROLLER] == CONTESTED).any() and out[CONTROLLER_CHANGED].any()


# --------------------------------------------------------------------------------------------
# irregular polygons: the tree answers by bounding box, the exact test must throw out the rest


def test_polygons_with_the_same_bounds_and_vertex_count_stay_apart():
    # two triangles filling the same box from opposite corners: equal bounds and vertex
    # count, different shapes (never merged into one geometry), and each point's bounding
    # box holds both
    lower = shapely.Polygon([(0, 0), (10, 0), (0, 10)])
    upper = shapely.Polygon([(10, 10), (0, 10), (10, 0)])
    areas = make_areas(
        [
            ("lo", "A", lower, "2015-01-01", None),
            ("up", "B", upper, "2015-01-01", None),
            ("lo2", "C", lower, "2015-06-01", None),  # the same polygon again, later
        ]
    )
    events = make_events([(2, 2), (8, 8), (5, 5), (2, 2)], ["2015-03-01"] * 3 + ["2015-07-01"])
    out = join_events_to_areas(events, areas)
    # (5, 5) is on the shared diagonal: first listed wins; later, lo and lo2 overlap
    assert out[CONTROLLER].tolist() == ["A", "B", "A", CONTESTED]
    assert out[AREA_ID].tolist() == ["lo", "up", "lo", "lo"]


def _irregular_case(seed: int) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Random triangles and quadrilaterals on an integer lattice, points on a half lattice:
    many points lie in a polygon's bounding box but outside it, or exactly on an edge."""
    rng = np.random.default_rng(seed)
    shapes = []
    while len(shapes) < 10:
        k = int(rng.integers(3, 5))
        centre = rng.integers(2, 9, 2)
        angle = np.sort(rng.uniform(0, 2 * np.pi, k))
        radius = rng.integers(1, 5, k)
        ring = np.column_stack([np.cos(angle), np.sin(angle)]) * radius[:, None] + centre
        shape = shapely.Polygon(np.round(ring))
        if shape.is_valid and shape.area > 0:
            shapes.append(shape)
    events, areas = _random_case(seed)
    # the same versions and events, with the boxes swapped for these shapes
    areas = areas.set_geometry([shapes[i % len(shapes)] for i in rng.integers(0, 99, len(areas))])
    return events, areas


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_irregular_polygons_agree_with_a_brute_force_reading_of_the_rules(seed):
    events, areas = _irregular_case(seed)
    out = join_events_to_areas(events, areas, chunk_size=50)
    expected = _brute_force(events, areas)
    assert out[CONTROLLER].tolist() == expected[CONTROLLER].tolist()
    assert out[AREA_ID].fillna("-").tolist() == expected[AREA_ID].fillna("-").tolist()
    assert out[CONTROLLER_CHANGED].tolist() == expected[CONTROLLER_CHANGED].tolist()
    for chunk_size in (1, 64):
        chunked = join_events_to_areas(events, areas, chunk_size=chunk_size)
        pd.testing.assert_frame_equal(chunked, out)
    # the data does exercise the exact test: points inside a box but outside its polygon,
    # and points on an edge
    geoms = np.asarray(areas.geometry.array)
    points = shapely.points(events[LONGITUDE], events[LATITUDE])
    in_box = shapely.intersects(shapely.envelope(geoms)[:, None], points[None, :])
    in_shape = shapely.intersects(geoms[:, None], points[None, :])
    inside = shapely.contains_properly(geoms[:, None], points[None, :])
    assert (in_box & ~in_shape).any() and (in_shape & ~inside).any()


# --------------------------------------------------------------------------------------------
# the benchmark's synthetic areas, and its baseline, on a small scale


@pytest.fixture
def synthetic(monkeypatch):
    """benchmarks/synthetic.py (not an installed package: imported from the checkout)."""
    from pathlib import Path

    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1]))
    import benchmarks.synthetic

    return benchmarks.synthetic


def test_synthetic_areas_are_valid_distinct_irregular_polygons(synthetic):
    areas = synthetic.synthetic_areas(600, vertices=60, seed=7)
    geoms = np.asarray(areas.geometry.array)
    assert abs(len(areas) - 600) <= 30
    assert shapely.is_valid(geoms).all() and (shapely.get_type_id(geoms) == 3).all()
    assert (shapely.get_num_coordinates(geoms) == 61).all()  # closing point included
    assert len(set(shapely.to_wkb(geoms))) == len(areas)  # every version its own polygon
    assert (areas[VALID_TO].isna() | (areas[VALID_FROM] < areas[VALID_TO])).all()
    # neighbouring cells overlap at the edges
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="overlaps")
    cell = areas[AREA_ID].str.split("-").str[0].to_numpy()
    assert (cell[left] != cell[right]).any()
    again = synthetic.synthetic_areas(600, vertices=60, seed=7)
    pd.testing.assert_frame_equal(pd.DataFrame(again), pd.DataFrame(areas))


def test_join_agrees_with_the_benchmark_baseline_on_synthetic_data(synthetic):
    from benchmarks.bench_join import naive_join

    areas = synthetic.synthetic_areas(450, vertices=40, seed=2)
    for places in (300, None):
        events = synthetic.synthetic_events(3_000, seed=3, areas=areas, places=places)
        ours = join_events_to_areas(events, areas, chunk_size=700)
        base = naive_join(events, areas)
        assert ours[CONTROLLER].tolist() == base[CONTROLLER].tolist()
        assert ours[AREA_ID].fillna("-").tolist() == base[AREA_ID].fillna("-").tolist()
        assert (ours[CONTROLLER] == CONTESTED).any() and (ours[CONTROLLER] == UNKNOWN).any()
