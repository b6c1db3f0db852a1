"""Control-area series as they come from the field: broken features, typo dates, mixed CRS,
files dated only by their name. Nothing is dropped silently, and no figure computed from the
areas is stated without what it left out."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from cli_runner import run_cli

from dashboard.arealedger import AREA_KM2, AREA_KM2_BEFORE, REASON_KIND, AreaLedger
from dashboard.areas import date_in_name, read_control_areas, repaired_polygon
from dashboard.errors import SchemaError
from dashboard.measure import area_km2
from dashboard.schema import AREA_FEATURE, AREA_SOURCE, CONTROLLER, VALID_FROM, VALID_TO

TODAY = dt.date(2026, 12, 7)


def front_line(x0: float, y0: float, width: float, height: float, n: int = 40) -> list:
    """A wobbly front-line polygon: a straight back edge and a zig-zag front of ``n`` points."""
    front = [(x0 + width * i / (n - 1), y0 + height + 0.05 * math.sin(i * 1.3)) for i in range(n)]
    ring = [(x0, y0), (x0 + width, y0), *reversed(front), (x0, y0)]
    return [list(p) for p in ring]


def twisted(ring: list, at: int) -> list:
    """The ring with two neighbouring vertices swapped: a self-intersection, as a tired
    digitiser leaves it (the polygon crosses itself in one small bow-tie)."""
    out = [list(p) for p in ring]
    out[at], out[at + 1] = out[at + 1], out[at]
    return out


def geojson(path: Path, features: list[dict[str, Any]], *, crs: str | None = None) -> Path:
    doc: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def feature(props: dict[str, Any] | None, ring: list | None, *, z: float | None = None) -> dict:
    if ring is None:
        geometry = None
    else:
        coords = [[*p, z] if z is not None else p for p in ring]
        geometry = {"type": "Polygon", "coordinates": [coords]}
    return {"type": "Feature", "properties": props, "geometry": geometry}


EMPTY = {"type": "Polygon", "coordinates": []}
BIG = front_line(37.0, 35.0, 2.0, 1.5)
SMALL = front_line(40.0, 35.0, 0.5, 0.4, n=12)


@pytest.fixture
def field_series(tmp_path: Path) -> list[Path]:
    """Three snapshots of one side's ground with every defect seen in a real series."""
    march = geojson(
        tmp_path / "front_2022-03-01.geojson",
        [
            feature({"controller": "Russia", "date": "2022-03-01"}, twisted(BIG, 10)),
            feature({"controller": "Russia", "date": "2022-03-01"}, SMALL),
            feature({"controller": "Russia", "date": "2022-03-01"}, None),
            feature({"controller": "Russia", "date": "2022-03-01"}, None),
            {"type": "Feature", "properties": {"controller": "Russia", "date": "2022-03-01"},
             "geometry": EMPTY},
        ],
    )  # fmt: skip
    june = geojson(
        tmp_path / "front_2022-06-01.geojson",
        [
            feature({"controller": "Russia", "date": "2022-06-01"}, BIG, z=0.0),
            feature({"controller": "Russia", "date": "2202-02-02"}, SMALL, z=0.0),
        ],
        crs="urn:ogc:def:crs:EPSG::4979",
    )
    return [march, june]


def km2(ring: list) -> float:
    return float(area_km2([shapely.Polygon(ring)])[0])


# --------------------------------------------------------------------------------------------
# the library


def test_field_series_every_feature_accounted_for(field_series):
    result = read_control_areas(field_series, date_field="date", today=TODAY)
    ledger = result.ledger
    assert (ledger.features_in, ledger.used, ledger.repaired, ledger.set_aside) == (7, 2, 1, 4)
    assert ledger.balanced and not ledger.complete
    assert ledger.by_kind == {
        "null geometry": 2,
        "empty geometry": 1,
        "date after today or before 1900": 1,
    }
    # the typo-dated feature had a polygon: its ground is measured, the null ones are not
    assert ledger.set_aside_unmeasured == 3
    assert ledger.set_aside_km2 == pytest.approx(km2(SMALL), rel=1e-6)
    rejected = result.rejected.set_index([AREA_SOURCE, AREA_FEATURE])
    typo = rejected.loc[("front_2022-06-01.geojson", 2)]
    assert typo[REASON_KIND] == "date after today or before 1900"
    assert "snapshot date 2202-02-02 is after today (2026-12-07)" in typo["reject_reason"]
    assert "not stretched" in typo["reject_reason"]


def test_self_intersecting_front_line_repaired_to_the_careful_manual_area(field_series):
    result = read_control_areas(field_series, date_field="date", today=TODAY)
    (row,) = result.repaired.itertuples(index=False)
    manual = km2(BIG)  # the polygon before the digitiser twisted it
    assert getattr(row, AREA_KM2) == pytest.approx(manual, rel=0.005)
    # as drawn, the bow-tie's two lobes have opposite orientations: the naive area is less
    assert getattr(row, AREA_KM2_BEFORE) < getattr(row, AREA_KM2)
    march = result.areas[result.areas[VALID_FROM] == pd.Timestamp("2022-03-01")]
    total = area_km2(march.geometry).sum()
    assert total == pytest.approx(manual + km2(SMALL), rel=0.005)
    warning = next(p for p in result.report.warnings if "repaired with make_valid" in p.message)
    assert "front_2022-03-01.geojson feature 1" in warning.message
    assert "km² as drawn" in warning.message and "--no-repair" in warning.message


def test_no_repair_sets_the_self_intersecting_polygon_aside_with_its_ground(field_series):
    result = read_control_areas(field_series, date_field="date", today=TODAY, repair=False)
    kinds = result.rejected[REASON_KIND].tolist()
    assert "self-intersecting or invalid (--no-repair)" in kinds
    assert result.ledger.repaired == 0 and result.ledger.set_aside == 5
    # its ground is still measured (as repaired), so the summary can say what is missing
    assert result.ledger.set_aside_km2 == pytest.approx(km2(BIG) + km2(SMALL), rel=0.005)
    assert "leave out the 5 set-aside features" in result.ledger.sentence()


def test_typo_date_does_not_stretch_the_series(field_series):
    areas = read_control_areas(field_series, date_field="date", today=TODAY).areas
    assert areas[VALID_FROM].max() == pd.Timestamp("2022-06-01")
    june = areas[areas[VALID_FROM] == pd.Timestamp("2022-06-01")]
    assert june[VALID_TO].isna().all()  # still valid, not "until 2202"
    march = areas[areas[VALID_FROM] == pd.Timestamp("2022-03-01")]
    assert (march[VALID_TO] == pd.Timestamp("2022-06-01")).all()


def test_date_before_1900_is_set_aside(tmp_path):
    path = geojson(tmp_path / "a.geojson", [feature({"controller": "A", "d": "1015-05-24"}, SMALL)])
    result = read_control_areas(path, date_field="d", today=TODAY)
    assert result.rejected[REASON_KIND].tolist() == ["date after today or before 1900"]
    assert "is before 1900" in result.rejected["reject_reason"].iloc[0]


def test_interval_end_after_today_reads_as_still_valid(tmp_path):
    path = geojson(
        tmp_path / "iv.geojson",
        [feature({"controller": "A", "valid_from": "2015-01-01", "valid_to": "9999-12-31"}, SMALL)],
    )
    result = read_control_areas(path, today=TODAY)
    assert result.ledger.complete and pd.isna(result.areas[VALID_TO].iloc[0])
    assert any("9999-12-31 is after today" in p.message for p in result.report.warnings)


def test_mixed_and_3d_crs_are_reprojected_to_2d_wgs84_and_reported(field_series):
    result = read_control_areas(field_series, date_field="date", today=TODAY)
    assert result.areas.crs.to_epsg() == 4326
    assert not result.areas.geometry.has_z.any()
    messages = [p.message for p in result.report.warnings]
    assert any(
        "front_2022-06-01.geojson: reprojected from EPSG:4979 (3-D) to 2-D EPSG:4326" in m
        and "heights dropped" in m
        for m in messages
    )
    mixed = next(m for m in messages if "different CRS" in m)
    assert "front_2022-03-01.geojson: OGC:CRS84" in mixed or "EPSG:4326" in mixed
    assert "front_2022-06-01.geojson: EPSG:4979" in mixed
    assert any("different CRS" in n for n in result.ledger.notes)


def test_3d_coordinates_in_wgs84_are_flattened_and_said(tmp_path):
    path = geojson(
        tmp_path / "z.geojson",
        [feature({"controller": "A", "valid_from": "2015-01-01"}, SMALL, z=250.0)],
    )
    result = read_control_areas(path, today=TODAY)
    assert not result.areas.geometry.has_z.any()
    assert any("heights dropped" in p.message for p in result.report.warnings)


# --------------------------------------------------------------------------------------------
# a daily series: no properties, the date only in the file name, one controller


@pytest.mark.parametrize(
    ("name", "day"),
    [
        ("occupied_20240708.geojson", dt.date(2024, 7, 8)),
        ("occupied-2024-07-08.geojson", dt.date(2024, 7, 8)),
        ("occupied_2024_07_08_v2.geojson", dt.date(2024, 7, 8)),
        ("occupied.geojson", None),
        ("tile_120240708.geojson", None),  # part of a longer number
        ("occupied_20241340.geojson", None),  # digits, not a date
        ("from_20240101_to_20240201.geojson", None),  # two dates: which one?
    ],
)
def test_date_in_file_name(name, day):
    assert date_in_name(name) == day


def daily_series(folder: Path) -> list[Path]:
    names = [
        "occupied_20240708.geojson",
        "occupied_2024-07-09.geojson",
        "occupied_20240710.geojson",
    ]
    out = []
    for i, name in enumerate(names):
        multi = {
            "type": "MultiPolygon",
            "coordinates": [[front_line(37.0, 47.0, 1.0 + 0.1 * i, 1.0)], [SMALL]],
        }
        out.append(
            geojson(folder / name, [{"type": "Feature", "properties": {}, "geometry": multi}])
        )
    return out


def test_daily_series_dated_by_file_name_with_one_controller(tmp_path):
    files = daily_series(tmp_path)
    result = read_control_areas(files, controller="Russia", today=TODAY)
    areas = result.areas.sort_values(VALID_FROM)
    assert areas[CONTROLLER].tolist() == ["Russia"] * 3
    assert areas[VALID_FROM].dt.date.tolist() == [
        dt.date(2024, 7, 8),
        dt.date(2024, 7, 9),
        dt.date(2024, 7, 10),
    ]
    assert areas[VALID_TO].dt.date.tolist()[:2] == [dt.date(2024, 7, 9), dt.date(2024, 7, 10)]
    assert pd.isna(areas[VALID_TO].iloc[-1])
    notes = [p.message for p in result.report.warnings]
    assert any(
        "occupied_20240708.geojson: no date field: read as a snapshot of 2024-07-08, the date "
        "in its file name" in n
        for n in notes
    )
    assert any("given the controller 'Russia' (--controller)" in n for n in notes)


def test_daily_series_without_controller_names_the_option(tmp_path):
    files = daily_series(tmp_path)
    with pytest.raises(SchemaError, match="--controller-field FIELD.*--controller NAME"):
        read_control_areas(files, today=TODAY)


def test_as_of_per_file_beats_the_file_name(tmp_path):
    files = daily_series(tmp_path)
    result = read_control_areas(
        files,
        controller="Russia",
        as_of_by_file={"occupied_20240710.geojson": "2024-08-01"},
        today=TODAY,
    )
    assert max(result.areas[VALID_FROM].dt.date.tolist()) == dt.date(2024, 8, 1)
    with pytest.raises(SchemaError, match="no such area file"):
        read_control_areas(files, controller="R", as_of_by_file={"nope.geojson": "2024-01-01"})


def test_undated_file_without_a_date_in_its_name_names_the_options(tmp_path):
    path = geojson(tmp_path / "areas.geojson", [feature({"controller": "A"}, SMALL)])
    with pytest.raises(SchemaError) as info:
        read_control_areas(path, today=TODAY)
    message = str(info.value)
    assert "--date-field FIELD" in message and "--as-of areas.geojson=DATE" in message
    assert "=" not in message.split("--as-of")[0].replace("'", "")  # no Python argument


def test_ledger_round_trips_through_json():
    ledger = AreaLedger(
        features_in=5, used=2, repaired=1, set_aside=2, by_kind={"null geometry": 2},
        set_aside_unmeasured=2, repaired_km2_before=3.0, repaired_km2_after=1200.0,
        notes=("a note",),
    )  # fmt: skip
    again = AreaLedger.from_dict(json.loads(json.dumps(ledger.to_dict())))
    assert again == ledger
    assert ledger.sentence() == (
        "5 control-area features: 2 used as read, 1 repaired (self-intersecting: 3.0 km² as "
        "drawn, 1,200 km² repaired), 2 set aside (2 null geometry); the figures leave out the "
        "2 set-aside features (2 with no polygon to measure)"
    )


def test_repair_keeps_ground_a_looping_ring_covers_twice():
    # A ring that loops over itself: "linework" would drop the doubly-covered square.
    loop = shapely.Polygon([(0, 0), (4, 0), (4, 4), (1, 4), (1, 1), (3, 1), (3, 3), (0, 3)])
    assert not loop.is_valid
    fixed = repaired_polygon(loop)
    assert fixed is not None and fixed.is_valid
    assert fixed.area == pytest.approx(shapely.make_valid(loop, method="structure").area)
    assert fixed.area > shapely.make_valid(loop).area


# --------------------------------------------------------------------------------------------
# the command line: compare never states a figure without what it left out


def test_compare_reports_left_out_features_and_exits_1(field_series):
    args = ["compare", "--from", "2022-03-01", "--to", "2022-06-01", "--no-events",
            "--date-field", "date"]  # fmt: skip
    for path in field_series:
        args += ["--areas", str(path)]
    done = run_cli(*args)
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    ledger_line = next(line for line in lines if line.startswith("Control areas:"))
    assert "7 control-area features: 2 used as read, 1 repaired" in ledger_line
    assert "4 set aside (2 null geometry, 1 empty geometry, 1 date after today" in ledger_line
    assert "the figures leave out the 4 set-aside features" in ledger_line
    russia = next(line for line in lines if line.strip().startswith("Russia"))
    km2_a = float(russia.split()[1].replace(",", ""))
    assert km2_a == pytest.approx(km2(BIG) + km2(SMALL), rel=0.005)


def test_compare_json_lists_each_feature_not_used_as_read(field_series):
    args = ["compare", "--from", "2022-03-01", "--to", "2022-06-01", "--no-events",
            "--date-field", "date", "-f", "json"]  # fmt: skip
    for path in field_series:
        args += ["--areas", str(path)]
    done = run_cli(*args)
    assert done.returncode == 1, done.stderr
    out = json.loads(done.stdout)
    assert out["control_areas"]["set_aside"] == 4 and not out["control_areas"]["complete"]
    listed = {(f["file"], f["feature"], f["outcome"]) for f in out["features_not_used_as_read"]}
    assert ("front_2022-03-01.geojson", 1, "repaired") in listed
    assert ("front_2022-03-01.geojson", 3, "set aside") in listed
    assert ("front_2022-06-01.geojson", 2, "set aside") in listed
    assert len(listed) == 5


def test_compare_exits_0_only_when_every_feature_was_used(tmp_path):
    a = geojson(tmp_path / "a_20220301.geojson", [feature({"controller": "R"}, BIG)])
    b = geojson(tmp_path / "b_20220601.geojson", [feature({"controller": "R"}, SMALL)])
    done = run_cli(
        "compare", "--from", "2022-03-01", "--to", "2022-06-01", "--no-events",
        "--areas", str(a), "--areas", str(b),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Control areas: all 2 control-area features used" in done.stdout


def test_compare_daily_series_with_controller_option(tmp_path):
    files = daily_series(tmp_path)
    args = ["compare", "--from", "2024-07-08", "--to", "2024-07-10", "--no-events",
            "--controller", "Russia"]  # fmt: skip
    for path in files:
        args += ["--areas", str(path)]
    done = run_cli(*args)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "Russia" in done.stdout


def test_compare_csv_keeps_stdout_a_table_and_warns_on_stderr(field_series):
    args = ["compare", "--from", "2022-03-01", "--to", "2022-06-01", "--no-events",
            "--date-field", "date", "-f", "csv"]  # fmt: skip
    for path in field_series:
        args += ["--areas", str(path)]
    done = run_cli(*args)
    assert done.returncode == 1
    assert done.stdout.splitlines()[0].startswith("controller,")
    assert "warning: 7 control-area features" in done.stderr


def test_bad_as_of_value_is_one_line_naming_the_option(tmp_path):
    done = run_cli("compare", "--from", "2022-03-01", "--to", "2022-06-01", "--as-of", "3/1/22")
    assert done.returncode == 2
    assert "--as-of" in done.stderr and "Traceback" not in done.stderr


# --------------------------------------------------------------------------------------------
# a real series: the OCHA 2015 maps with the defects of a field series added


def broken_copy(src: Path, dst: Path, *, twist_every: int, null_every: int) -> tuple[int, int]:
    """Copy an OCHA map, twisting every n-th big polygon and nulling others; return counts."""
    doc = json.loads(src.read_text(encoding="utf-8"))
    twisted_n = nulled = 0
    for i, feat in enumerate(doc["features"]):
        geom = feat.get("geometry")
        if geom is None or geom["type"] != "Polygon" or not geom["coordinates"]:
            continue
        ring = geom["coordinates"][0]
        if i % null_every == 0 and len(ring) < 50:
            feat["geometry"] = None
            nulled += 1
        elif i % twist_every == 0 and len(ring) > 200:
            geom["coordinates"][0] = twisted(ring, len(ring) // 2)
            twisted_n += 1
    dst.write_text(json.dumps(doc), encoding="utf-8")
    return twisted_n, nulled


@pytest.mark.shared_data
def test_ocha_series_with_broken_features_gives_the_careful_repair_area(shared_data, tmp_path):
    names = [
        "ocha_syria_areas_of_influence_2015-05-24.geojson",
        "ocha_syria_areas_of_influence_2015-11-29.geojson",
    ]
    clean = [shared_data / n for n in names]
    broken = []
    for path in clean:
        copy = tmp_path / path.name
        twisted_n, nulled = broken_copy(path, copy, twist_every=3, null_every=7)
        assert twisted_n >= 3 and nulled >= 1
        broken.append(copy)
    options = {"controller_field": "actor_type", "date_field": "valid_date", "today": TODAY}
    truth = read_control_areas(clean, **options)
    field = read_control_areas(broken, **options)
    assert field.ledger.repaired >= 4 and field.ledger.by_kind.get("null geometry", 0) >= 20
    assert field.ledger.balanced
    nulled_ids = set(zip(field.rejected[AREA_SOURCE], field.rejected[AREA_FEATURE], strict=True))
    truth_kept = truth.areas[
        [
            (s, f) not in nulled_ids
            for s, f in zip(truth.areas[AREA_SOURCE], truth.areas[AREA_FEATURE], strict=True)
        ]
    ]
    for actor in ("ISIS-affiliated groups", "Government (SAA)"):
        careful = area_km2(truth_kept[truth_kept[CONTROLLER] == actor].geometry).sum()
        ours = area_km2(field.areas[field.areas[CONTROLLER] == actor].geometry).sum()
        assert ours == pytest.approx(careful, rel=0.005), actor
    # without the repair the figures would lose exactly the ground of the repaired polygons
    refused = read_control_areas(broken, repair=False, **options)
    careful_total = area_km2(truth_kept.geometry).sum()
    naive_total = area_km2(refused.areas.geometry).sum()
    lost = careful_total - naive_total
    assert lost == pytest.approx(field.repaired[AREA_KM2].sum(), rel=0.01)
    assert lost > 1000  # km²: big front-line polygons, not slivers


# --------------------------------------------------------------------------------------------
# a map for a slide says what its control areas leave out


def test_export_footer_and_stderr_state_the_ledger(field_series, tmp_path):
    from dashboard.export import load_export_data
    from dashboard.export.footer import attribution_lines
    from dashboard.pipeline import AreaOptions, BuildSettings

    settings = BuildSettings(areas=AreaOptions(date_field="date"))
    data = load_export_data(None, field_series, settings=settings)
    lines = attribution_lines(data)
    assert lines[-1].startswith("Control areas: 7 control-area features: 2 used as read")
    assert "the figures leave out the 4 set-aside features" in lines[-1]

    out = tmp_path / "map.png"
    args = ["export", "--date", "2017-06-01", "-o", str(out), "--date-field", "date"]
    for path in field_series:
        args += ["--areas", str(path)]
    done = run_cli(*args)
    assert done.returncode == 0, done.stderr
    assert "warning: control areas: 7 control-area features" in done.stderr
    assert out.stat().st_size > 10_000


def test_export_footer_is_quiet_when_every_feature_was_used():
    from dashboard.export import load_export_data
    from dashboard.export.footer import attribution_lines

    data = load_export_data()
    assert data.area_ledger is not None and data.area_ledger.complete
    assert not any(line.startswith("Control areas: ") and "used as read" in line
                   for line in attribution_lines(data))  # fmt: skip


def test_compare_says_the_notes_and_the_event_rows_set_aside(tmp_path):
    files = daily_series(tmp_path)
    events = tmp_path / "events.csv"
    events.write_text(
        "event_date,latitude,longitude,event_type\r\n"
        "2024-07-09,47.5,37.5,Battles\r\n"
        "2024-07-31-ish,47.5,37.5,Battles\r\n",
        encoding="utf-8",
    )
    args = ["compare", "--from", "2024-07-08", "--to", "2024-07-10", "--controller", "Russia",
            "--events", str(events)]  # fmt: skip
    for path in files:
        args += ["--areas", str(path)]
    done = run_cli(*args)
    assert done.returncode == 1, done.stderr  # an event row was left out
    out = done.stdout
    assert "  warning: occupied_20240708.geojson: no date field: read as a snapshot" in out
    assert "given the controller 'Russia' (--controller)" in out
    assert "Events: 2 rows in events.csv, 1 loaded, 1 set aside" in out
    assert "`conflictmap validate events.csv` lists each reason" in out
    as_json = json.loads(run_cli(*args, "-f", "json").stdout)
    assert as_json["events_read"] == {"rows_in": 2, "rows_loaded": 1, "rows_rejected": 1}
    assert as_json["complete"] is False


def test_compare_and_check_refuse_events_of_which_none_loads(tmp_path):
    files = daily_series(tmp_path)
    events = tmp_path / "events.csv"
    events.write_text("event_date,latitude,longitude\nsoon,47.5,37.5\n", encoding="utf-8")
    areas = [a for path in files for a in ("--areas", str(path))]
    for command in (["compare", "--from", "2024-07-08", "--to", "2024-07-10"], ["check"]):
        done = run_cli(*command, "--controller", "Russia", "--events", str(events), *areas)
        assert done.returncode == 2, done.stdout
        assert "no event could be loaded (1 rows in, all set aside" in done.stderr
        assert "Traceback" not in done.stderr


def test_one_as_of_for_all_files_does_not_turn_intervals_into_a_snapshot(tmp_path):
    intervals = geojson(
        tmp_path / "intervals.geojson",
        [feature({"controller": "A", "valid_from": "2020-01-01", "valid_to": "2020-06-01"}, BIG)],
    )
    snapshot = geojson(tmp_path / "snapshot.geojson", [feature({"controller": "B"}, SMALL)])
    result = read_control_areas([intervals, snapshot], as_of="2019-01-01", today=TODAY)
    a = result.areas[result.areas[CONTROLLER] == "A"].iloc[0]
    assert (a[VALID_FROM], a[VALID_TO]) == (pd.Timestamp("2020-01-01"), pd.Timestamp("2020-06-01"))
    b = result.areas[result.areas[CONTROLLER] == "B"].iloc[0]
    assert b[VALID_FROM] == pd.Timestamp("2019-01-01")
    # a date given for that very file does read it as a snapshot, and says so
    own = read_control_areas(
        [intervals], as_of_by_file={"intervals.geojson": "2019-01-01"}, today=TODAY
    )
    assert own.areas[VALID_FROM].iloc[0] == pd.Timestamp("2019-01-01")
    assert any("its intervals ignored" in p.message for p in own.report.warnings)


def test_every_layer_of_a_geopackage_is_read_and_said(tmp_path):
    path = tmp_path / "two.gpkg"
    north = gpd.GeoDataFrame(
        {"controller": ["A"], "valid_from": ["2015-01-01"]},
        geometry=[shapely.box(36, 35, 37, 36)],
        crs="EPSG:4326",
    )
    north.to_file(path, layer="north", engine="pyogrio")
    south = north.assign(controller="B").set_geometry([shapely.box(36, 33, 37, 34)])
    south.to_crs("EPSG:32637").to_file(path, layer="south", engine="pyogrio")
    result = read_control_areas(path, today=TODAY)
    assert sorted(result.areas[CONTROLLER]) == ["A", "B"]
    assert result.ledger.features_in == 2 and result.ledger.complete
    note = next(p.message for p in result.report.warnings if "layers read" in p.message)
    assert note == "two.gpkg: 2 layers read, features 1-1 from 'north'; 2-2 from 'south'"
    b = result.areas[result.areas[CONTROLLER] == "B"].geometry.iloc[0]
    assert b.bounds == pytest.approx((36, 33, 37, 34), abs=1e-6)  # its own CRS undone


def test_compare_says_when_a_date_is_after_the_areas_last_change(tmp_path):
    files = daily_series(tmp_path)
    args = ["compare", "--from", "2024-07-08", "--to", "2025-01-01", "--controller", "Russia",
            "--no-events"]  # fmt: skip
    for path in files:
        args += ["--areas", str(path)]
    done = run_cli(*args)
    assert done.returncode == 0, done.stderr
    assert (
        "warning: the control areas' last change is 2024-07-10; 2025-01-01 is 175 days later: "
        "its figures are the map of 2024-07-10 carried forward"
    ) in done.stdout


def test_compare_without_areas_says_they_are_the_bundled_demo():
    done = run_cli("compare", "--from", "2017-06-01", "--to", "2017-12-31")
    assert done.returncode == 0, done.stderr
    assert "note: the bundled demo control areas (authored for the demo, approximate)" in (
        done.stdout
    )
    assert "(the bundled demo events; --events gives yours)" in done.stdout


# --------------------------------------------------------------------------------------------
# more real files read as areas: the official outlines measure what the countries measure


@pytest.mark.shared_data
@pytest.mark.parametrize(
    ("governorates", "districts", "field1", "field2", "official_km2"),
    [
        # CIA World Factbook areas: Syria 185,180 km², Iraq 438,317 km²
        ("syria_ocha_cod_adm1_20201217.geojson", "syria_ocha_cod_adm2_20201217.geojson",
         "admin1Name_en", "admin2Name_en", 185_180),
        ("iraq_ocha_cod_adm1_cso_20190603.geojson", "iraq_ocha_cod_adm2_cso_20190603.geojson",
         "ADM1_EN", "ADM2_EN", 438_317),
    ],
    ids=["syria", "iraq"],
)  # fmt: skip
def test_admin_boundaries_read_as_areas_measure_the_country(
    shared_data, governorates, districts, field1, field2, official_km2
):
    one = read_control_areas(
        shared_data / governorates, controller_field=field1, as_of="2020-01-01", today=TODAY
    )
    two = read_control_areas(
        shared_data / districts, controller_field=field2, as_of="2020-01-01", today=TODAY
    )
    assert one.ledger.complete and two.ledger.complete
    km2_one, km2_two = area_km2(one.areas.geometry).sum(), area_km2(two.areas.geometry).sum()
    # the districts add up to the governorates, and both to the country's official area
    # (within 2 %: the outlines are simplified to 0.002 degrees, and borders differ)
    assert km2_two == pytest.approx(km2_one, rel=1e-3)
    assert km2_one == pytest.approx(official_km2, rel=0.02)


@pytest.mark.shared_data
def test_a_real_yearly_snapshot_series_is_read_whole(shared_data):
    # Conflict zones per UCDP dyad at each year's end, 2006-2016: a series of snapshots
    # whose polygons overlap (zones of different dyads), every feature valid.
    path = shared_data / "kikuta_wzone_conflict_zones_syria_iraq_2006_2016.geojson"
    result = read_control_areas(path, controller_field="name", date_field="date", today=TODAY)
    assert result.ledger.complete and result.ledger.features_in == 73
    starts = sorted(result.areas[VALID_FROM].dt.year.unique())
    assert starts[0] == 2006 and starts[-1] == 2016
    summary = next(m for m in result.ledger.notes if "By controller pair" in m)
    assert summary.endswith("more pairs") and len(summary) < 1500  # readable in a summary
