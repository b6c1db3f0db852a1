"""Comparing two dates (dashboard.compare), its map layer, and `conflictmap compare`.

Hand-made squares on the equator whose answers are worked out by hand: X holds [0,2]x[0,1]
and Y holds [2,3]x[0,1] until 2017-07-01; from then on X holds [0,1]x[0,1], Y holds
[1,3]x[0,1] (Y took the square [1,2]), and Z holds [3,4]x[0,1], which no area covered before.
"""

from __future__ import annotations

import json
import subprocess

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from cli_runner import run_cli as run
from pyproj import Geod
from shapely.geometry import box

from dashboard import compare as cmp
from dashboard import layers, paths, schema
from dashboard.areas import OCHA_AOI_2015_NAMES, read_control_areas
from dashboard.compare import CompareError

GEOD = Geod(ellps="WGS84")
CHANGE = pd.Timestamp("2017-07-01")


def geodesic_km2(geom) -> float:
    return abs(GEOD.geometry_area_perimeter(geom)[0]) / 1e6


def layer(rows) -> gpd.GeoDataFrame:
    """Control-area versions from (id, controller, valid_from, valid_to, geometry)."""
    frame = gpd.GeoDataFrame(
        {
            schema.AREA_ID: [r[0] for r in rows],
            schema.CONTROLLER: [r[1] for r in rows],
            schema.VALID_FROM: pd.to_datetime([r[2] for r in rows]).astype("datetime64[s]"),
            schema.VALID_TO: pd.to_datetime([r[3] for r in rows]).astype("datetime64[s]"),
        },
        geometry=[r[4] for r in rows],
        crs="EPSG:4326",
    )
    return frame


@pytest.fixture()
def squares() -> gpd.GeoDataFrame:
    return layer(
        [
            ("x1", "X", "2017-01-01", "2017-07-01", box(0, 0, 2, 1)),
            ("y1", "Y", "2017-01-01", "2017-07-01", box(2, 0, 3, 1)),
            ("x2", "X", "2017-07-01", "2018-01-01", box(0, 0, 1, 1)),
            ("y2", "Y", "2017-07-01", "2018-01-01", box(1, 0, 3, 1)),
            ("z2", "Z", "2017-07-01", "2018-01-01", box(3, 0, 4, 1)),
        ]
    )


# --- areas ------------------------------------------------------------------------------------


@pytest.mark.parametrize("lat", [0.0, 35.0])
def test_square_degree_area_matches_the_geodesic_area(lat):
    square = box(40.0, lat, 41.0, lat + 1.0)
    km2 = cmp.area_km2([square])[0]
    assert km2 == pytest.approx(geodesic_km2(square), rel=0.005)


def test_a_square_degree_shrinks_with_latitude_as_the_cosine():
    equator, north = cmp.area_km2([box(40, 0, 41, 1), box(40, 35, 41, 36)])
    # about 12,309 km² at the equator (111.3 km x 110.6 km), about 10,066 at 35 N
    assert 12_250 < equator < 12_350
    assert 10_000 < north < 10_150
    assert north / equator == pytest.approx(0.8178, abs=0.003)  # cos(35.5 deg) ~ 0.814


def test_long_edges_keep_their_lon_lat_course():
    # A GeoJSON edge is straight in lon/lat, not a geodesic: over 12 degrees the two
    # outlines enclose areas 1.6 % apart. The area measured is that of the lon/lat outline
    # (checked against the geodesic area of the outline split every 0.01 degree).
    quad = shapely.Polygon([(36, 32), (48, 34), (47, 37.5), (38, 36.5)])
    km2 = cmp.area_km2([quad])[0]
    outline = geodesic_km2(shapely.segmentize(quad, 0.01))
    assert km2 == pytest.approx(outline, rel=0.001)
    assert abs(km2 - geodesic_km2(quad)) / km2 > 0.01


def test_missing_geometry_measures_zero():
    assert list(cmp.area_km2([None, box(0, 0, 1, 1)]) > 0) == [False, True]


def test_area_per_controller_on_each_date(squares):
    before = cmp.area_by_controller(squares, "2017-06-30").set_index(schema.CONTROLLER)
    after = cmp.area_by_controller(squares, "2017-07-01").set_index(schema.CONTROLLER)
    one = geodesic_km2(box(0, 0, 1, 1))
    assert before[cmp.AREA_KM2].to_dict() == pytest.approx({"X": 2 * one, "Y": one}, rel=1e-3)
    assert after[cmp.AREA_KM2].to_dict() == pytest.approx(
        {"X": one, "Y": 2 * one, "Z": one}, rel=1e-3
    )


def test_overlapping_controllers_count_the_overlap_as_contested():
    areas = layer(
        [
            ("a", "X", "2017-01-01", None, box(0, 0, 2, 1)),
            ("b", "Y", "2017-01-01", None, box(1, 0, 3, 1)),
        ]
    )
    cmap = cmp.control_at(areas, "2017-03-01")
    one = geodesic_km2(box(0, 0, 1, 1))
    got = dict(zip(cmap.frame[schema.CONTROLLER], cmp.area_km2(cmap.frame.geometry), strict=True))
    assert got == pytest.approx({"X": one, "Y": one, schema.CONTESTED: one}, rel=1e-3)
    assert cmap.overlap_km2 == pytest.approx(one, rel=1e-3)


# --- gained and lost --------------------------------------------------------------------------


def test_gained_and_lost_on_squares(squares):
    result = cmp.compare(squares, "2017-06-30", "2017-07-01")
    one = geodesic_km2(box(0, 0, 1, 1))
    pieces = {
        (a, b): km2
        for a, b, km2 in zip(
            result.pieces[cmp.FROM], result.pieces[cmp.TO], result.pieces[cmp.AREA_KM2],
            strict=True,
        )
    }  # fmt: skip
    assert pieces == pytest.approx({("X", "Y"): one, (schema.UNKNOWN, "Z"): one}, rel=1e-3)
    y_piece = result.pieces[result.pieces[cmp.TO] == "Y"].geometry.iloc[0]
    assert y_piece.symmetric_difference(box(1, 0, 2, 1)).area < 1e-9

    table = result.table.set_index(schema.CONTROLLER)
    assert list(table.index) == ["X", "Y", "Z"]
    assert table.loc["X", cmp.LOST_KM2] == pytest.approx(one, rel=1e-3)
    assert table.loc["X", cmp.GAINED_KM2] == 0
    assert table.loc["Y", cmp.GAINED_KM2] == pytest.approx(one, rel=1e-3)
    assert table.loc["Z", cmp.KM2_A] == 0
    # the difference is exactly what was gained minus what was lost
    diff = table[cmp.DIFF_KM2]
    assert diff.to_numpy() == pytest.approx(
        (table[cmp.GAINED_KM2] - table[cmp.LOST_KM2]).to_numpy()
    )

    changes = result.changes.set_index([schema.CONTROLLER, cmp.CHANGE])
    assert set(changes.index) == {("X", "lost"), ("Y", "gained"), ("Z", "gained")}


def test_the_same_date_changes_nothing(squares):
    result = cmp.compare(squares, "2017-03-01", "2017-03-01")
    assert len(result.pieces) == 0 and result.changed_km2 == 0
    assert (result.table[cmp.DIFF_KM2] == 0).all()


def test_a_town_inside_a_gained_area_changed_hands(squares):
    towns = pd.DataFrame(
        {
            "name": ["Gained", "Kept", "New", "Nowhere"],
            "name_ar": ["مكسب", "ثابت", "جديد", "لا مكان"],
            schema.COUNTRY: ["A", "A", "A", "A"],
            schema.LATITUDE: [0.5, 0.5, 0.5, 0.5],
            schema.LONGITUDE: [1.5, 0.5, 3.5, 9.0],
        }
    )
    result = cmp.compare(squares, "2017-06-30", "2017-07-01", towns=towns)
    got = {
        t: (a, b)
        for t, a, b in zip(result.towns[cmp.TOWN], result.towns[cmp.FROM], result.towns[cmp.TO], strict=True)
    }  # fmt: skip
    assert got == {"Gained": ("X", "Y"), "New": (schema.UNKNOWN, "Z")}
    assert result.towns[cmp.TOWN_AR].tolist() == ["مكسب", "جديد"]


def test_events_inside_changed_ground_within_the_window(squares):
    events = pd.DataFrame(
        {
            schema.EVENT_ID: ["in", "early", "unchanged", "unplaced", "late"],
            schema.EVENT_DATE: pd.to_datetime(
                ["2017-06-30", "2017-01-05", "2017-06-30", "2017-06-30", "2017-07-02"]
            ),
            schema.LATITUDE: [0.5, 0.5, 0.5, None, 0.5],
            schema.LONGITUDE: [1.5, 1.5, 0.5, None, 3.5],
        }
    )
    result = cmp.compare(squares, "2017-06-01", "2017-07-01", events=events)
    assert result.events[schema.EVENT_ID].tolist() == ["in"]
    assert (result.events[cmp.FROM].iloc[0], result.events[cmp.TO].iloc[0]) == ("X", "Y")
    # the window is an option: open on both sides, every event in changed ground
    pieces = result.pieces
    everything = cmp.events_in_changes(events, pieces)
    assert everything[schema.EVENT_ID].tolist() == ["early", "in", "late"]


# --- refused ----------------------------------------------------------------------------------


def test_a_date_outside_the_layer_is_refused(squares):
    with pytest.raises(
        CompareError, match=r"2016-12-31 is outside the control areas \(2017-01-01 to 2017-12-31\)"
    ):
        cmp.compare(squares, "2016-12-31", "2017-07-01")
    with pytest.raises(CompareError, match="outside"):
        cmp.compare(squares, "2017-06-01", "2018-01-01")  # valid_to is exclusive


def test_dates_in_the_wrong_order_are_refused(squares):
    with pytest.raises(CompareError, match="date A 2017-08-01 is after date B 2017-07-01"):
        cmp.compare(squares, "2017-08-01", "2017-07-01")


def test_open_ended_layers_cover_every_later_date():
    areas = layer([("a", "X", "2017-01-01", None, box(0, 0, 1, 1))])
    assert cmp.layer_coverage(areas) == (pd.Timestamp("2017-01-01").date(), None)
    cmp.check_date_in_layer(areas, "2040-01-01")


# --- the bundled data -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bundled_areas() -> gpd.GeoDataFrame:
    return read_control_areas(paths.BUNDLED_AREAS).areas


def test_bundled_islamic_state_losses_in_2017(bundled_areas):
    result = cmp.compare(
        bundled_areas, "2017-06-01", "2017-12-31", towns=cmp.read_towns(paths.BUNDLED_TOWNS)
    )
    km2_a, km2_b = result.area_of(schema.ISLAMIC_STATE)
    assert km2_a > 100_000 and km2_b < 0.05 * km2_a  # the caliphate collapses along the Euphrates
    # the areas tile Syria and Iraq on both dates: the totals do not change
    assert result.table[cmp.KM2_A].sum() == pytest.approx(result.table[cmp.KM2_B].sum(), rel=1e-6)
    moved = dict(zip(result.towns[cmp.TOWN], result.towns[cmp.TO], strict=True))
    assert moved["Raqqa"] == schema.SDF
    assert moved["Abu Kamal"] == schema.SYRIAN_GOVERNMENT
    assert moved["Mosul"] == schema.IRAQI_GOVERNMENT
    assert all(a != b for a, b in zip(result.towns[cmp.FROM], result.towns[cmp.TO], strict=True))


# --- the real OCHA 2015 maps -----------------------------------------------------------------

OCHA_FILES = (
    "ocha_syria_areas_of_influence_2015-05-24.geojson",
    "ocha_syria_areas_of_influence_2015-11-29.geojson",
)


@pytest.mark.shared_data
def test_ocha_2015_comparison(shared_data):
    areas = read_control_areas(
        [shared_data / f for f in OCHA_FILES],
        controller_field="actor_type",
        date_field="valid_date",
        controller_names=OCHA_AOI_2015_NAMES,
    ).areas
    towns = cmp.read_towns(paths.BUNDLED_TOWNS)
    result = cmp.compare(areas, "2015-05-24", "2015-11-29", towns=towns)
    moved = {
        t: (a, b)
        for t, a, b in zip(result.towns[cmp.TOWN], result.towns[cmp.FROM], result.towns[cmp.TO], strict=True)
    }  # fmt: skip
    # facts of the shared data's README
    assert moved["Tall Abyad"] == (schema.ISLAMIC_STATE, "Kurdish Forces")
    assert moved["Al-Qaryatayn"] == (schema.SYRIAN_GOVERNMENT, schema.ISLAMIC_STATE)
    assert "Deir ez-Zor" not in moved or moved["Deir ez-Zor"][1] != schema.ISLAMIC_STATE
    # the published polygons overlap: the overlap is counted once, as contested
    assert min(result.overlap_km2) > 0
    assert result.table[cmp.KM2_A].sum() > 100_000


# --- the layer --------------------------------------------------------------------------------


def _html(element) -> str:
    fmap = layers.build_map(center=(0.5, 2), zoom=7, basemap="none", layers=[element])
    return fmap.get_root().render()


def test_change_layer_columns_follow_compare():
    from dashboard.layers import change

    assert (change.FROM, change.TO, change.AREA_KM2) == (cmp.FROM, cmp.TO, cmp.AREA_KM2)


def test_change_layer_draws_every_piece_in_the_new_controllers_colour(squares):
    pieces = cmp.compare(squares, "2017-06-30", "2017-07-01").pieces
    group = layers.change_layer(pieces)
    assert group.n_pieces == 2 and group.skipped == 0
    html = _html(group)
    assert "X \\u2192 Y" in html
    assert _html(layers.change_layer(pieces)) == html  # deterministic ids


def test_change_layer_focus_draws_gains_and_losses_only(squares):
    from dashboard import style

    pieces = cmp.compare(squares, "2017-06-30", "2017-07-01").pieces
    group = layers.change_layer(pieces, focus="X")
    assert group.n_pieces == 1  # X lost [1,2]; the new Z square is not X's business
    html = _html(group)
    assert style.CHANGE_LOST in html and style.CHANGE_GAINED not in html
    assert "lost by X" in html


def test_change_layer_escapes_controller_names():
    pieces = gpd.GeoDataFrame(
        {
            cmp.FROM: ["<img src=x onerror=alert(1)>"],
            cmp.TO: ["${alert(2)}`"],
            cmp.AREA_KM2: [1.0],
        },
        geometry=[box(0, 0, 1, 1)],
        crs="EPSG:4326",
    )
    html = _html(layers.change_layer(pieces))
    assert "<img src=x" not in html
    assert "${alert" not in html


def test_change_legend_names_the_dates(squares):
    pieces = cmp.compare(squares, "2017-06-30", "2017-07-01").pieces
    html = _html(layers.change_legend(pieces, day_a="2017-06-30", day_b="2017-07-01"))
    assert "From 2017-06-30 to 2017-07-01" in html


# --- the command ------------------------------------------------------------------------------


def one_line_error(out: subprocess.CompletedProcess[str], *parts: str) -> None:
    assert out.returncode == 2, out
    assert "Traceback" not in out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, out.stderr
    for part in parts:
        assert part in lines[0], lines[0]


@pytest.fixture()
def squares_file(tmp_path, squares):
    path = tmp_path / "squares.geojson"
    frame = squares.copy()
    for column in (schema.VALID_FROM, schema.VALID_TO):
        frame[column] = frame[column].dt.strftime("%Y-%m-%d")
    frame.to_file(path, driver="GeoJSON")
    return path


def test_cli_compare_text_on_the_bundled_data():
    out = run("compare", "--from", "2017-06-01", "--to", "2017-12-31")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "Control of territory, 2017-06-01 -> 2017-12-31" in text
    assert "EPSG:6933" in text
    is_line = next(line for line in text.splitlines() if line.strip().startswith("Islamic State "))
    numbers = [int(n.replace(",", "").replace("+", "")) for n in is_line.split()[2:]]
    assert numbers[0] > numbers[1] and numbers[2] < 0  # km² A, km² B, difference
    assert "Raqqa (الرقة), Syria: Islamic State -> SDF" in text
    assert "Events inside changed ground, 2017-06-01 to 2017-12-31:" in text
    assert "CM063" in text  # SDF enter Raqqa, 2017-06-06


def test_cli_compare_json(squares_file):
    out = run("compare", "--areas", str(squares_file), "--from", "2017-06-30", "--to",
              "2017-07-01", "--no-events", "--format", "json")  # fmt: skip
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["date_a"] == "2017-06-30" and doc["crs"] == "EPSG:6933"
    by = {row["controller"]: row for row in doc["areas"]}
    assert by["Y"]["gained_km2"] == pytest.approx(geodesic_km2(box(0, 0, 1, 1)), rel=1e-3)
    assert {(r["controller_a"], r["controller_b"]) for r in doc["changed_hands"]} == {
        ("X", "Y"),
        (schema.UNKNOWN, "Z"),
    }
    assert doc["events"] == []


@pytest.mark.parametrize("table", ["areas", "changed", "towns"])
def test_cli_compare_csv(squares_file, table):
    out = run("compare", "--areas", str(squares_file), "--from", "2017-06-30", "--to",
              "2017-07-01", "--no-events", "--format", "csv", "--table", table)  # fmt: skip
    assert out.returncode == 0, out.stderr
    header = out.stdout.splitlines()[0].split(",")
    expected = {
        "areas": ["controller", "km2_a", "km2_b", "difference_km2", "gained_km2", "lost_km2"],
        "changed": ["controller_a", "controller_b", "area_km2"],
        "towns": ["town", "town_ar", "country", "latitude", "longitude", "controller_a",
                  "controller_b"],
    }[table]  # fmt: skip
    assert header == expected


def test_cli_compare_events_csv():
    out = run("compare", "--from", "2017-06-01", "--to", "2017-12-31", "-f", "csv",
              "--table", "events")  # fmt: skip
    assert out.returncode == 0, out.stderr
    frame = pd.read_csv(__import__("io").StringIO(out.stdout))
    assert "CM063" in set(frame["event_id"])
    assert frame["event_date"].between("2017-06-01", "2017-12-31").all()


def test_cli_compare_refuses_a_date_outside_the_layer():
    one_line_error(
        run("compare", "--from", "2013-01-01", "--to", "2017-12-31", "--no-events"),
        "--from 2013-01-01 is outside the control areas (2014-01-04 to 2019-10-08)",
    )


def test_cli_compare_refuses_from_after_to():
    one_line_error(
        run("compare", "--from", "2017-12-31", "--to", "2017-06-01"),
        "--from 2017-12-31 is after --to 2017-06-01",
    )


def test_cli_compare_refuses_a_malformed_date():
    one_line_error(
        run("compare", "--from", "2017-02-30", "--to", "2017-06-01"),
        "--from '2017-02-30': expected a date YYYY-MM-DD",
    )


def test_cli_compare_refuses_an_unreadable_file(tmp_path):
    missing = tmp_path / "nope.geojson"
    one_line_error(
        run("compare", "--areas", str(missing), "--from", "2017-06-01", "--to", "2017-12-31"),
        "nope.geojson: file not found",
    )
    garbage = tmp_path / "garbage.geojson"
    garbage.write_text("this is not geojson", encoding="utf-8")
    out = run("compare", "--areas", str(garbage), "--from", "2017-06-01", "--to", "2017-12-31")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr


@pytest.mark.shared_data
def test_cli_compare_on_the_ocha_maps(shared_data):
    files = [arg for f in OCHA_FILES for arg in ("--areas", str(shared_data / f))]
    out = run("compare", *files, "--controller-field", "actor_type", "--date-field",
              "valid_date", "--ocha-names", "--from", "2015-05-24", "--to", "2015-11-29",
              "--format", "json")  # fmt: skip
    # the real maps hold features with empty geometries: said, and exit 1, never 0
    assert out.returncode == 1, out.stderr
    doc = json.loads(out.stdout)
    ledger = doc["control_areas"]
    assert ledger["by_kind"] == {"empty geometry": ledger["set_aside"]} and ledger["set_aside"] > 0
    assert ledger["features_in"] == 209 + 288
    towns = {t["town"]: (t["controller_a"], t["controller_b"]) for t in doc["towns"]}
    assert towns["Tall Abyad"] == (schema.ISLAMIC_STATE, "Kurdish Forces")
    assert all(v > 0 for v in doc["overlap_km2"])


def test_ground_not_mapped_on_one_date_is_not_counted_as_changing_hands():
    a = gpd.GeoDataFrame(
        {
            schema.AREA_ID: ["x", "y", "z"],
            schema.CONTROLLER: ["A", "B", "A"],
            schema.VALID_FROM: pd.to_datetime(["2020-01-01", "2020-01-01", "2020-06-01"]),
            schema.VALID_TO: pd.to_datetime(["2020-06-01", None, None]),
        },
        geometry=[box(0, 0, 1, 1), box(2, 0, 3, 1), box(0, 0, 1, 2)],
        crs="EPSG:4326",
    )
    # A holds [0,1]x[0,1] then [0,1]x[0,2] (newly mapped ground); B's square stays B's
    result = cmp.compare(a, "2020-03-01", "2020-07-01")
    between, newly, no_longer = result.changed_parts_km2()
    assert between == 0 and no_longer == 0
    assert newly == pytest.approx(cmp.area_km2([box(0, 1, 1, 2)])[0], rel=1e-6)
    assert result.changed_km2 == pytest.approx(newly)
    assert result.to_dict()["changed_between_controllers_km2"] == 0


def test_change_legend_says_whose_colours_the_dashed_outlines_are(squares):
    """Before: the legend listed only who gained ground; the dashed outlines are drawn in
    the colour of who held it before, which it did not name."""
    import json as _json
    import re as _re

    pieces = cmp.compare(squares, "2017-06-30", "2017-07-01").pieces
    html = _html(layers.change_legend(pieces, day_a="2017-06-30", day_b="2017-07-01"))
    assert "Held on the first date by (dashed outline)" in html
    spec = _json.loads(
        _re.search(r"L\.ConflictMap\.legend\(\s*(\{.*?\})\s*\);", html, _re.DOTALL)[1]
    )
    before = dict(spec["outlines"]["rows"])
    assert set(before) == set(pieces["controller_a"])
    # The outline of each piece in the layer is the colour the legend gives its old holder.
    layer_html = _html(layers.change_layer(pieces))
    for name, colour in before.items():
        assert colour in layer_html, (name, colour)
