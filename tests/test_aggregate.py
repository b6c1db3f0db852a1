"""Hexagonal binning of events (``dashboard.aggregate``): grid, sums, skipped rows, growth.

Grid fixtures are worked out by hand on a pointy-top grid of cells 1000 m wide: a hexagon's
corner is 1000 / sqrt(3) = 577.35 m from its centre, neighbours sit 1000 m apart along x
(q + 1) and rows 866.03 m apart along y (r + 1, shifted 500 m east).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from dashboard import aggregate as A
from dashboard import schema, synth

W = 1000.0  # cell width (m) of the hand-made grid
ROW = 1.5 * W / math.sqrt(3)  # 866.03 m between rows


def _frame(x: list[float], y: list[float], **columns: list) -> pd.DataFrame:
    """Events at Web Mercator positions (metres), with any other columns given."""
    lat, lon = A.mercator_inverse(np.array(x), np.array(y))
    return pd.DataFrame({schema.LATITUDE: lat, schema.LONGITUDE: lon, **columns})


# --- projection ------------------------------------------------------------------------------


def test_mercator_known_values_and_round_trip() -> None:
    x, y = A.mercator(np.array([0.0, 0.0, 45.0]), np.array([0.0, 180.0, -90.0]))
    assert x == pytest.approx([0.0, math.pi * A.EARTH_RADIUS, -math.pi / 2 * A.EARTH_RADIUS])
    # y(45 N) = R ln(tan(67.5 deg)) = R * 0.881374
    assert y == pytest.approx([0.0, 0.0, A.EARTH_RADIUS * 0.8813736], rel=1e-6, abs=1e-6)
    lat, lon = A.mercator_inverse(x, y)
    assert lat == pytest.approx([0.0, 0.0, 45.0], abs=1e-9)
    assert lon == pytest.approx([0.0, 180.0, -90.0])
    # Beyond Mercator's square world, latitudes are clamped (as Leaflet does).
    top, _ = A.mercator_inverse(*A.mercator(np.array([89.0]), np.array([0.0])))
    assert top[0] == pytest.approx(A.MAX_LATITUDE)


def test_cell_size_for_zoom_is_pixels_times_metres_per_pixel() -> None:
    assert A.cell_size_for_zoom(0, pixels=1) == pytest.approx(156543.034, abs=1e-3)
    assert A.cell_size_for_zoom(8, pixels=32) == pytest.approx(32 * 156543.034 / 256)
    assert A.cell_size_for_zoom(9) == pytest.approx(A.cell_size_for_zoom(8) / 2)
    with pytest.raises(ValueError, match="pixels"):
        A.cell_size_for_zoom(5, pixels=0)


# --- grid ----------------------------------------------------------------------------------


def test_points_fall_into_the_cells_worked_out_by_hand() -> None:
    x = np.array([0.0, 400.0, 600.0, 1000.0, 500.0, -500.0, 0.0, 280.0])
    y = np.array([0.0, 0.0, 0.0, 0.0, ROW, -ROW, 2 * ROW, 560.0])
    q, r = A.hex_axial(x, y, W)
    assert list(zip(q.tolist(), r.tolist(), strict=True)) == [
        (0, 0),  # the origin's own cell
        (0, 0),  # 400 m east: still inside (flat side at 500 m)
        (1, 0),  # 600 m east: the neighbour's
        (1, 0),  # the neighbour's centre
        (0, 1),  # centre of the row above (shifted 500 m east)
        (0, -1),  # centre of the row below (shifted 500 m west)
        (-1, 2),  # two rows up: x = 1000 q + 500 r = 0
        (0, 1),  # 377 m from the centre of (0, 1), 626 m from the origin
    ]


def test_centres_and_cells_are_inverse_in_both_orientations() -> None:
    rng = np.random.default_rng(1)
    q = rng.integers(-500, 500, 200)
    r = rng.integers(-500, 500, 200)
    for orientation in A.ORIENTATIONS:
        x, y = A.hex_centre(q, r, 2500.0, orientation=orientation)
        back_q, back_r = A.hex_axial(x, y, 2500.0, orientation=orientation)
        assert (back_q == q).all() and (back_r == r).all(), orientation
    # Flat-top: neighbours stacked along y, W apart.
    x, y = A.hex_centre(np.array([0, 0]), np.array([0, 1]), W, orientation="flat")
    assert x == pytest.approx([0, 0]) and y == pytest.approx([0, W])


def test_a_point_exactly_on_an_edge_or_corner_goes_to_exactly_one_cell() -> None:
    # (500, 0) is the middle of the edge shared by (0, 0) and (1, 0); (500, 288.68) is the
    # corner shared by (0, 0), (1, 0) and (0, 1).
    corner = W / math.sqrt(3) / 2
    x = np.array([500.0, 500.0 - 1e-6, 500.0 + 1e-6, 500.0])
    y = np.array([0.0, 0.0, 0.0, corner])
    q, r = A.hex_axial(x, y, W)
    cells = list(zip(q.tolist(), r.tolist(), strict=True))
    assert cells[0] in [(0, 0), (1, 0)]
    assert cells[1:3] == [(0, 0), (1, 0)]  # either side of the edge
    assert cells[3] in [(0, 0), (1, 0), (0, 1)]
    assert A.hex_axial(x, y, W)[0].tolist() == q.tolist()  # the same cell every time
    bins = A.hexbin(_frame([500.0], [0.0]), cell_size=W)
    assert bins.n_cells == 1 and bins.cells[A.COUNT].tolist() == [1]


def test_bad_grid_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="cell_size"):
        A.hex_axial(np.zeros(1), np.zeros(1), 0.0)
    with pytest.raises(ValueError, match="cell_size"):
        A.hexbin(_frame([0.0], [0.0]), cell_size=float("nan"))
    with pytest.raises(ValueError, match="orientation"):
        A.hexbin(_frame([0.0], [0.0]), cell_size=W, orientation="round")


# --- aggregates ----------------------------------------------------------------------------


def test_hexbin_by_hand() -> None:
    """Three events at the origin's cell, two in cell (5, -3), two rows without a place."""
    far_x, far_y = A.hex_centre(np.array([5]), np.array([-3]), W)
    events = _frame(
        [0.0, 100.0, -200.0, far_x[0] + 50, far_x[0], 0.0, 0.0],
        [0.0, 50.0, -100.0, far_y[0], far_y[0] - 80, 0.0, 0.0],
        event_type=["Battles", "Riots", "Battles", None, "Riots", "Battles", "Battles"],
        fatalities=[3.0, np.nan, 4.0, 1.0, 0.0, 9.0, 9.0],
        event_date=pd.to_datetime(
            ["2017-01-05", "2017-01-02", None, "2017-02-01", "2017-02-01", "2017-03-01", None]
        ),
    )
    events.loc[5, schema.LATITUDE] = np.nan  # no coordinates
    events.loc[6, schema.LATITUDE] = 95.0  # out of range
    bins = A.hexbin(events, cell_size=W, event_types=["Riots"])
    assert (bins.events, bins.skipped, bins.n_cells) == (5, 2, 2)
    cells = bins.cells
    assert list(zip(cells[A.Q], cells[A.R], strict=True)) == [(0, 0), (5, -3)]
    assert cells[A.COUNT].tolist() == [3, 2]
    assert cells[A.FATALITIES_KNOWN].tolist() == [7, 1]  # 3 + 4; 1 + 0 (0 is known)
    assert cells[A.FATALITIES_UNKNOWN].tolist() == [1, 0]
    assert cells[A.FIRST_DATE].tolist() == [pd.Timestamp("2017-01-02"), pd.Timestamp("2017-02-01")]
    assert cells[A.LAST_DATE].tolist() == [pd.Timestamp("2017-01-05"), pd.Timestamp("2017-02-01")]
    # Columns: the given order first, then the others, Unknown last.
    assert list(bins.type_counts.columns) == ["Riots", "Battles", schema.UNKNOWN]
    assert bins.type_counts.to_numpy().tolist() == [[1, 2, 0], [1, 0, 1]]
    assert cells[A.DOMINANT_TYPE].tolist() == ["Battles", "Riots"]  # tie: first listed
    assert cells[A.DOMINANT_SHARE].tolist() == pytest.approx([2 / 3, 1 / 2])
    assert cells[schema.LATITUDE].tolist()[0] == pytest.approx(0.0, abs=1e-9)
    assert cells[schema.LONGITUDE].tolist()[0] == pytest.approx(0.0, abs=1e-9)


def test_two_points_far_apart_give_two_cells_and_near_ones_one() -> None:
    raqqa_baghdad = pd.DataFrame(
        {schema.LATITUDE: [35.95, 33.31], schema.LONGITUDE: [39.01, 44.36]}
    )
    bins = A.hexbin(raqqa_baghdad, cell_size=10_000.0)
    assert bins.n_cells == 2 and bins.cells[A.COUNT].tolist() == [1, 1]
    # Each centre within a hexagon's corner distance of its event (in Mercator metres).
    ex, ey = A.mercator(raqqa_baghdad[schema.LATITUDE], raqqa_baghdad[schema.LONGITUDE])
    cx, cy = A.mercator(bins.cells[schema.LATITUDE], bins.cells[schema.LONGITUDE])
    order = np.argsort(cx)  # Raqqa is west of Baghdad
    assert np.hypot(cx[order] - ex, cy[order] - ey).max() <= bins.radius + 1e-6
    near = pd.DataFrame({schema.LATITUDE: [35.95, 35.9501], schema.LONGITUDE: [39.01, 39.0101]})
    assert A.hexbin(near, cell_size=10_000.0).n_cells == 1


def test_minimal_columns_and_empty_frames() -> None:
    only_places = pd.DataFrame({schema.LATITUDE: [36.0, 36.0], schema.LONGITUDE: [40.0, 40.0]})
    bins = A.hexbin(only_places, cell_size=W)
    assert bins.cells[A.FATALITIES_UNKNOWN].tolist() == [2]  # no column: unknown, not 0
    assert bins.cells[A.FIRST_DATE].isna().all()
    assert list(bins.type_counts.columns) == [schema.UNKNOWN]
    empty = A.hexbin(only_places.iloc[:0], cell_size=W)
    assert (empty.n_cells, empty.events, empty.skipped) == (0, 0, 0)
    assert list(empty.cells.columns) == list(A.CELL_COLUMNS)
    assert empty.describe() == "0 events shown as 0 hexagons (each about 1.0 km across)"


def test_aggregates_add_up_to_the_events_they_stand_for() -> None:
    events = synth.town_events(50_000, seed=3)
    bins = A.hexbin_for_zoom(events, 8)
    placed = events[events[schema.LATITUDE].notna() & events[schema.LONGITUDE].notna()]
    assert bins.skipped == len(events) - len(placed) > 0  # location-only rows, counted
    assert bins.events == len(placed) == bins.cells[A.COUNT].sum()
    fat = placed[schema.FATALITIES]
    assert bins.cells[A.FATALITIES_KNOWN].sum() == fat.sum()
    assert bins.cells[A.FATALITIES_UNKNOWN].sum() == fat.isna().sum() > 0
    assert (bins.type_counts.sum(axis=1).to_numpy() == bins.cells[A.COUNT].to_numpy()).all()
    expected = placed[schema.EVENT_TYPE].fillna(schema.UNKNOWN).value_counts()
    assert bins.type_counts.sum().to_dict() == expected.to_dict()
    assert bins.cells[A.FIRST_DATE].min() == placed[schema.EVENT_DATE].min()
    assert bins.cells[A.LAST_DATE].max() == placed[schema.EVENT_DATE].max()
    assert (bins.cells[A.FIRST_DATE] <= bins.cells[A.LAST_DATE]).all()
    # Every event is in the hexagon whose centre is nearest to it (in Mercator metres).
    sample = placed.iloc[::997]
    x, y = A.mercator(sample[schema.LATITUDE].to_numpy(), sample[schema.LONGITUDE].to_numpy())
    cx, cy = A.hex_centre(*A.hex_axial(x, y, bins.cell_size), bins.cell_size)
    assert np.hypot(cx - x, cy - y).max() <= bins.radius * (1 + 1e-9)


# --- cell size -----------------------------------------------------------------------------


def test_grow_cell_size_bounds_the_number_of_hexagons() -> None:
    # 100 events 20 km apart on a line: 100 cells of 1 km; at most 10 wanted.
    line = _frame([20_000.0 * i for i in range(100)], [0.0] * 100)
    assert A.count_cells(line, W) == 100
    assert A.grow_cell_size(line, W, max_cells=100) == W  # already fits: unchanged
    size = A.grow_cell_size(line, W, max_cells=10)
    steps = math.log(size / W, A.GROWTH_STEP)
    assert steps == pytest.approx(round(steps))  # on the sqrt(2) ladder
    assert A.count_cells(line, size) <= 10 < A.count_cells(line, size / A.GROWTH_STEP)
    with pytest.raises(ValueError, match="max_cells"):
        A.grow_cell_size(line, W, max_cells=0)


def test_hexbin_for_zoom_stays_under_max_cells_at_any_zoom() -> None:
    events = synth.town_events(20_000, seed=4)
    fine = A.hexbin_for_zoom(events, 14, max_cells=500)
    assert 0 < fine.n_cells <= 500
    assert fine.cell_size > A.cell_size_for_zoom(14)  # grown
    coarse = A.hexbin_for_zoom(events, 5, max_cells=500)
    assert coarse.cell_size == pytest.approx(A.cell_size_for_zoom(5))  # not grown
    assert fine.events == coarse.events == events[schema.LATITUDE].notna().sum()


# --- what the map says ---------------------------------------------------------------------


def test_describe_states_events_hexagons_and_ground_width() -> None:
    events = _frame([0.0, 100.0, 30_000.0], [0.0, 0.0, 0.0])
    bins = A.hexbin(events, cell_size=10_000.0)
    assert bins.describe() == "3 events shown as 2 hexagons (each about 10 km across)"
    # At 60 N a Mercator metre is half a metre on the ground.
    north = pd.DataFrame({schema.LATITUDE: [60.0] * 2, schema.LONGITUDE: [10.0] * 2})
    assert A.hexbin(north, cell_size=10_000.0).width_m == pytest.approx(5_000.0, rel=1e-3)
    one = A.hexbin(north.iloc[:1], cell_size=2_000.0)
    assert one.describe() == "1 event shown as 1 hexagon (about 1.0 km across)"


@pytest.mark.parametrize(
    ("metres", "text"),
    [
        (7.4, "7 m"),
        (849.6, "850 m"),
        (999.0, "1.0 km"),
        (2449.0, "2.4 km"),
        (9960.0, "10 km"),
        (12_345.0, "12 km"),
        (1_234_567.0, "1,235 km"),
        (0.0, "0 m"),
    ],
)
def test_format_distance(metres: float, text: str) -> None:
    assert A.format_distance(metres) == text
