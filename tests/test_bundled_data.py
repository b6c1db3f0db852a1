"""The bundled demo data: events.csv and geodata/ keep the promises geodata/README.md makes.

Checked with pandas, geopandas and shapely directly, so these tests do not depend on the
readers or the join; only on the column names of ``dashboard.schema`` and the paths of
``dashboard.paths``.
"""

from __future__ import annotations

import csv
import importlib.util
import itertools
import re
import sys
from datetime import date

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point

from dashboard import paths, schema

ARABIC = re.compile("[\u0600-\u06ff]")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FIRST_DAY, LAST_DAY = "2014-01-01", "2019-12-31"
ACLED_EVENT_TYPES = {
    "Battles",
    "Explosions/Remote violence",
    "Violence against civilians",
    "Strategic developments",
    "Protests",
    "Riots",
}
OVERLAP_TOLERANCE = 1e-6  # square degrees

# Spellings a must-have event may use in `location`, lower-cased (any one will do).
MOSUL = ("mosul", "mawsil", "الموصل")
BUKAMAL = ("bukamal", "abu kamal", "albu kamal", "البوكمال")
DEIR_EZ_ZOR = ("deir", "dayr", "دير الزور")
RAQQA = ("raqqa", "الرقة")
BAGHUZ = ("baghuz", "الباغوز")
PALMYRA = ("palmyra", "tadmur", "تدمر")


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return pd.read_csv(paths.BUNDLED_EVENTS, dtype=str, keep_default_na=False, encoding="utf-8")


@pytest.fixture(scope="module")
def areas() -> gpd.GeoDataFrame:
    frame = gpd.read_file(paths.BUNDLED_AREAS)
    # pyogrio may hand dates back as datetimes or as strings; compare as ISO strings.
    for column in (schema.VALID_FROM, schema.VALID_TO):
        frame[column] = pd.to_datetime(frame[column]).dt.strftime("%Y-%m-%d")
    return frame


@pytest.fixture(scope="module")
def countries() -> gpd.GeoDataFrame:
    return gpd.read_file(paths.BUNDLED_COUNTRIES)


@pytest.fixture(scope="module")
def towns() -> pd.DataFrame:
    return pd.read_csv(paths.BUNDLED_TOWNS, dtype={"name": str, "name_ar": str}, encoding="utf-8")


def _active(areas: gpd.GeoDataFrame, day: str) -> gpd.GeoDataFrame:
    """Features valid on ``day`` under the half-open rule valid_from <= day < valid_to."""
    until = areas[schema.VALID_TO].fillna("9999-12-31")
    return areas[(areas[schema.VALID_FROM] <= day) & (until > day)]


def _controllers_at(areas: gpd.GeoDataFrame, lat: float, lon: float, day: str) -> list[str]:
    on_day = _active(areas, day)
    return sorted(on_day[on_day.contains(Point(lon, lat))][schema.CONTROLLER])


def _rows(events: pd.DataFrame, day: str, names: tuple[str, ...]) -> pd.DataFrame:
    place = events[schema.LOCATION].str.lower()
    hit = place.apply(lambda text: any(name in text for name in names))
    return events[(events[schema.EVENT_DATE] == day) & hit]


# --- events.csv -----------------------------------------------------------------------------


def test_events_header_is_the_canonical_column_list():
    with paths.BUNDLED_EVENTS.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    assert tuple(header) == schema.EVENT_COLUMNS


def test_events_are_enough_with_unique_ids(events):
    assert len(events) >= 60
    assert events[schema.EVENT_ID].is_unique
    assert (events[schema.EVENT_ID] != "").all()


def test_every_event_cites_a_dated_source(events):
    sources = events[schema.SOURCE].str.strip()
    assert (sources != "").all()
    # "Outlet, YYYY-MM-DD" or "Outlet, YYYY-MM", several separated by "; "
    assert sources.str.contains(r"[A-Za-z].*, \d{4}-\d{2}").all()


def test_event_dates_are_iso_and_in_the_campaign_years(events):
    for column in schema.DATE_COLUMNS:
        values = events[column][events[column] != ""]
        assert values.str.match(ISO_DATE).all(), column
        assert ((values >= FIRST_DAY) & (values <= LAST_DAY)).all(), column
        for value in values:
            date.fromisoformat(value)  # a real calendar day
    ranged = events[events[schema.DATE_START] != ""]
    assert (ranged[schema.DATE_END] != "").all()
    assert (ranged[schema.DATE_START] <= ranged[schema.EVENT_DATE]).all()
    assert (ranged[schema.EVENT_DATE] <= ranged[schema.DATE_END]).all()


def test_event_codes_and_countries(events):
    assert set(events[schema.TIME_PRECISION].astype(int)) <= set(schema.TIME_PRECISIONS)
    assert set(events[schema.GEO_PRECISION].astype(int)) <= set(schema.GEO_PRECISIONS)
    assert set(events[schema.EVENT_TYPE]) <= ACLED_EVENT_TYPES
    assert (events[schema.SUB_EVENT_TYPE] != "").all()
    assert (events[schema.ACTOR1] != "").all()
    assert set(events[schema.COUNTRY]) == {"Syria", "Iraq"}


def test_fatalities_are_empty_or_whole_numbers(events):
    given = events[schema.FATALITIES][events[schema.FATALITIES] != ""]
    assert given.str.fullmatch(r"\d+").all()
    # Most rows have no reported figure; the demo must not guess one.
    assert len(given) < len(events) / 4


def test_coordinates_come_in_pairs_inside_their_country(events, countries):
    lat, lon = events[schema.LATITUDE], events[schema.LONGITUDE]
    assert ((lat == "") == (lon == "")).all()
    outlines = countries.set_index("name").geometry
    located = events[lat != ""]
    for _, row in located.iterrows():
        point = Point(float(row[schema.LONGITUDE]), float(row[schema.LATITUDE]))
        # The outlines are coarse: allow about 5 km.
        assert outlines[row[schema.COUNTRY]].distance(point) < 0.05, row[schema.EVENT_ID]


def test_place_name_only_rows_exercise_the_geocoder(events):
    name_only = events[(events[schema.LATITUDE] == "") & (events[schema.LOCATION] != "")]
    assert len(name_only) >= 15
    assert (name_only[schema.COUNTRY] != "").all()
    arabic = name_only[name_only[schema.LOCATION].str.contains(ARABIC)]
    assert len(arabic) >= 3
    # varied spellings, not one name repeated
    assert name_only[schema.LOCATION].nunique() >= 15


@pytest.mark.parametrize(
    ("day", "names"),
    [
        ("2014-06-10", MOSUL),
        ("2016-10-17", MOSUL),
        ("2017-07-10", MOSUL),
        ("2016-01-16", DEIR_EZ_ZOR),
        ("2017-09-05", DEIR_EZ_ZOR),
        ("2017-11-03", DEIR_EZ_ZOR),
        ("2017-11-09", BUKAMAL),
        ("2017-06-06", RAQQA),
        ("2017-10-17", RAQQA),
        ("2019-03-23", BAGHUZ),
        ("2015-05-21", PALMYRA),
        ("2016-03-27", PALMYRA),
        ("2016-12-11", PALMYRA),
        ("2017-03-02", PALMYRA),
    ],
)
def test_must_have_event_is_present(events, day, names):
    assert len(_rows(events, day, names)) >= 1


def test_bukamal_has_a_later_november_2017_row(events):
    place = events[schema.LOCATION].str.lower()
    later = events[
        place.apply(lambda text: any(name in text for name in BUKAMAL))
        & (events[schema.EVENT_DATE] > "2017-11-09")
        & (events[schema.EVENT_DATE] <= "2017-11-30")
    ]
    assert len(later) >= 1


# --- control_areas.geojson ------------------------------------------------------------------


def test_areas_are_lon_lat_valid_and_named(areas):
    assert areas.crs is not None and areas.crs.to_epsg() == 4326
    assert areas.geometry.is_valid.all()
    assert not areas.geometry.is_empty.any()
    assert set(areas.geom_type) <= {"Polygon", "MultiPolygon"}
    assert set(areas[schema.CONTROLLER]) <= set(schema.CONTROLLERS)
    assert areas[schema.AREA_ID].is_unique
    assert (areas[schema.VALID_FROM] < areas[schema.VALID_TO].fillna("9999-12-31")).all()
    assert (areas["note"].str.len() > 0).all()


def test_areas_have_many_snapshot_dates(areas):
    starts = set(areas[schema.VALID_FROM])
    in_story = {d for d in starts if "2014-06-01" <= d <= "2019-03-31"}
    assert len(in_story) >= 10
    assert {"2014-06-10", "2017-07-10", "2017-11-09", "2017-11-19", "2019-03-23"} <= starts


def test_no_two_controllers_overlap_on_any_snapshot_date(areas):
    for day in sorted(set(areas[schema.VALID_FROM])):
        on_day = _active(areas, day)
        for (_, a), (_, b) in itertools.combinations(on_day.iterrows(), 2):
            if a[schema.CONTROLLER] == b[schema.CONTROLLER]:
                continue
            overlap = shapely.intersection(a.geometry, b.geometry).area
            assert overlap <= OVERLAP_TOLERANCE, (
                day,
                a[schema.AREA_ID],
                b[schema.AREA_ID],
                overlap,
            )


def test_areas_leave_no_gaps(areas):
    """Every snapshot covers the same ground: the total area never changes."""
    days = sorted(set(areas[schema.VALID_FROM]))
    totals = [shapely.area(_active(areas, day).geometry.values).sum() for day in days]
    assert max(totals) - min(totals) < 1e-4


@pytest.mark.parametrize(
    ("place", "lat", "lon", "day", "expected"),
    [
        ("Mosul", 36.34, 43.13, "2014-06-01", schema.IRAQI_GOVERNMENT),
        ("Mosul", 36.34, 43.13, "2015-06-15", schema.ISLAMIC_STATE),
        ("Mosul", 36.34, 43.13, "2017-11-15", schema.IRAQI_GOVERNMENT),
        ("Raqqa", 35.95, 39.01, "2017-06-01", schema.ISLAMIC_STATE),
        ("Raqqa", 35.95, 39.01, "2017-11-01", schema.SDF),
        ("Deir ez-Zor airport", 35.285, 40.175, "2016-06-01", schema.SYRIAN_GOVERNMENT),
        ("east bank opposite Deir ez-Zor", 35.36, 40.25, "2016-06-01", schema.ISLAMIC_STATE),
        ("Deir ez-Zor city", 35.336, 40.141, "2017-11-15", schema.SYRIAN_GOVERNMENT),
        ("Bukamal", 34.45, 40.92, "2017-10-01", schema.ISLAMIC_STATE),
        ("Bukamal", 34.45, 40.92, "2017-11-12", schema.CONTESTED),
        ("Bukamal", 34.45, 40.92, "2017-12-15", schema.SYRIAN_GOVERNMENT),
        ("Baghuz", 34.46, 40.945, "2019-03-01", schema.ISLAMIC_STATE),
        ("Baghuz", 34.46, 40.945, "2019-03-24", schema.SDF),
        ("Palmyra", 34.56, 38.28, "2015-01-01", schema.SYRIAN_GOVERNMENT),
        ("Palmyra", 34.56, 38.28, "2015-06-01", schema.ISLAMIC_STATE),
        ("Palmyra", 34.56, 38.28, "2016-06-01", schema.SYRIAN_GOVERNMENT),
        ("Palmyra", 34.56, 38.28, "2017-01-01", schema.ISLAMIC_STATE),
        ("Palmyra", 34.56, 38.28, "2017-06-01", schema.SYRIAN_GOVERNMENT),
        ("Mayadin", 35.02, 40.45, "2017-10-01", schema.ISLAMIC_STATE),
        ("Mayadin", 35.02, 40.45, "2017-10-20", schema.SYRIAN_GOVERNMENT),
        ("Kirkuk", 35.47, 44.39, "2016-06-01", schema.KRG),
        ("Kirkuk", 35.47, 44.39, "2017-10-20", schema.IRAQI_GOVERNMENT),
        ("al-Bab", 36.37, 37.52, "2017-03-01", schema.TURKEY_BACKED),
        ("Idlib", 35.93, 36.63, "2016-06-01", schema.SYRIAN_OPPOSITION),
    ],
)
def test_controller_at_a_town_on_a_day(areas, place, lat, lon, day, expected):
    assert _controllers_at(areas, lat, lon, day) == [expected], place


def test_deir_ez_zor_enclave_is_a_small_island_during_the_siege(areas):
    on_day = _active(areas, "2016-06-01")
    government = on_day[on_day[schema.CONTROLLER] == schema.SYRIAN_GOVERNMENT].geometry
    airport = Point(40.175, 35.285)
    enclave = [
        part for g in government for part in getattr(g, "geoms", [g]) if part.contains(airport)
    ]
    assert len(enclave) == 1
    assert enclave[0].area < 0.05  # a few km across, not connected to western Syria


def test_generated_files_match_their_inputs():
    """geodata/build_control_areas.py --check: the committed GeoJSON is what the inputs give."""
    script = paths.GEODATA_DIR / "build_control_areas.py"
    spec = importlib.util.spec_from_file_location("build_control_areas", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    try:
        spec.loader.exec_module(module)
        assert module.main(["--check"]) == 0
    finally:
        sys.modules.pop(spec.name, None)


# --- countries.geojson and towns.csv --------------------------------------------------------


def test_countries_are_valid_named_and_do_not_overlap(countries):
    assert countries.crs is not None and countries.crs.to_epsg() == 4326
    assert countries.geometry.is_valid.all()
    assert {"Syria", "Iraq"} <= set(countries["name"])
    for (_, a), (_, b) in itertools.combinations(countries.iterrows(), 2):
        assert shapely.intersection(a.geometry, b.geometry).area < 1e-6, (a["name"], b["name"])


def test_towns_have_arabic_names_and_lie_in_their_country(towns, countries):
    assert list(towns.columns) == ["name", "name_ar", "country", "latitude", "longitude", "role"]
    assert 30 <= len(towns) <= 60
    assert towns["name"].is_unique
    assert towns["name_ar"].str.contains(ARABIC).all()
    assert set(towns["role"]) <= {"capital", "city", "key", "story"}
    outlines = countries.set_index("name").geometry
    for _, town in towns.iterrows():
        point = Point(town["longitude"], town["latitude"])
        assert outlines[town["country"]].distance(point) < 0.05, town["name"]
