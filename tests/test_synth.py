"""The synthetic dataset (``conflictmap synth``): reproducible, loadable, placed at real towns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner

from dashboard import schema, synth
from dashboard.cli import cli
from dashboard.pipeline import build
from dashboard.readers import read_events

N_EVENTS, N_AREAS = 2_000, 200


@pytest.fixture(scope="module", params=synth.LAYOUTS)
def written(request, tmp_path_factory):
    """A small dataset in each layout and what build() makes of it."""
    directory = tmp_path_factory.mktemp(f"synth-{request.param}")
    result = synth.write_synthetic(
        directory, events=N_EVENTS, areas=N_AREAS, seed=5, layout=request.param
    )
    return result, build(result.events_path, [result.areas_path])


def _towns() -> pd.DataFrame:
    towns = synth._towns()
    return pd.DataFrame({"lat": towns.latitude, "lon": towns.longitude})


def _km_to_nearest_town(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Great-circle km from each point to the nearest town of the gazetteer."""
    towns = _towns()
    p1, p2 = np.radians(lat)[:, None], np.radians(towns["lat"].to_numpy())[None, :]
    dl = np.radians(towns["lon"].to_numpy())[None, :] - np.radians(lon)[:, None]
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return (2 * 6371.0 * np.arcsin(np.sqrt(a))).min(axis=1)


def test_same_seed_writes_identical_files_and_another_seed_does_not(tmp_path):
    a = synth.write_synthetic(tmp_path / "a", events=1_500, areas=120, seed=11)
    b = synth.write_synthetic(tmp_path / "b", events=1_500, areas=120, seed=11)
    c = synth.write_synthetic(tmp_path / "c", events=1_500, areas=120, seed=12)
    assert a.events_path.read_bytes() == b.events_path.read_bytes()
    assert a.areas_path.read_bytes() == b.areas_path.read_bytes()
    assert a.events_path.read_bytes() != c.events_path.read_bytes()


def test_whole_blocks_are_the_start_of_a_larger_dataset(monkeypatch):
    monkeypatch.setattr(synth, "BLOCK_ROWS", 400)  # several blocks on a small scale
    small, large = synth.town_events(800, seed=2), synth.town_events(1_300, seed=2)
    pd.testing.assert_frame_equal(large.iloc[:800], small)


def test_headers_are_the_acled_and_canonical_layouts(written):
    result, _ = written
    read = read_events(result.events_path)
    columns = [c for c in read.frame.columns if c != schema.SOURCE_ROW]
    if result.layout == "acled":
        assert read.format == "acled"
        assert columns == [schema.EVENT_ID, *schema.ACLED_COLUMNS[1:]]
    else:
        assert read.format == "canonical"
        assert columns == list(schema.EVENT_COLUMNS)


def test_build_loads_every_row_without_an_error(written):
    _, built = written
    report = built.event_report
    assert report.rows_in == N_EVENTS == report.rows_loaded + report.rows_rejected
    assert report.rows_rejected == 0 and not report.errors
    assert len(built.events) == N_EVENTS
    assert built.events[schema.EVENT_ID].is_unique
    assert built.area_report.rows_rejected == 0


def test_location_only_rows_geocode_to_real_towns(written):
    result, built = written
    counts = built.geocode_counts
    assert counts["unmatched"] == counts["ambiguous"] == 0
    assert counts["given"] == N_EVENTS - result.location_only
    assert 0.07 * N_EVENTS < result.location_only < 0.13 * N_EVENTS
    placed = built.events[built.events[schema.GEOCODE_METHOD] != "given"]
    assert set(placed[schema.GEOCODE_METHOD]) <= {"exact", "alias", "fuzzy"}
    km = _km_to_nearest_town(
        placed[schema.LATITUDE].to_numpy(), placed[schema.LONGITUDE].to_numpy()
    )
    assert (km < 0.01).all()  # the gazetteer's own coordinates
    # varied spellings: Arabic script among them
    assert placed[schema.LOCATION].str.contains("[\u0600-\u06ff]", regex=True).any()


def test_spellings_exercise_every_geocoding_tier():
    """The spelling tables hold names each tier must resolve (exact, alias, fuzzy)."""
    towns = synth._towns()
    from dashboard.gazetteer import load_gazetteer

    gazetteer = load_gazetteer(countries=["SY", "IQ"])
    methods = set()
    for group in (1, 2, 3):  # other Latin, Arabic, typos
        start = towns.start[group]
        for t in np.flatnonzero(towns.count[group]):
            name = towns.spellings[group][start[t]]
            country = "Syria" if towns.country[t] == 0 else "Iraq"
            match = gazetteer.lookup(name, country=country, admin1=towns.admin1[t] or None)
            assert match is not None and match.place is not None
            assert abs(match.place.latitude - towns.latitude[t]) < 1e-9
            methods.add(match.method)
    assert methods == {"exact", "alias", "fuzzy"}


def test_events_cluster_near_real_towns(written):
    _, built = written
    given = built.events[built.events[schema.GEOCODE_METHOD] == "given"]
    km = _km_to_nearest_town(given[schema.LATITUDE].to_numpy(), given[schema.LONGITUDE].to_numpy())
    assert (km < 65).all()  # the widest offset, geo_precision 3, is 0.4 degrees each way
    at_town = given[schema.GEO_PRECISION].to_numpy(dtype="float64") == 1
    assert (km[at_town] < 0.02).all()  # on the town, to 4 decimals
    assert 0.6 < at_town.mean() < 0.85


def test_events_have_a_plausible_mix(written):
    _, built = written
    events = built.events
    types = events[schema.EVENT_TYPE].value_counts(normalize=True)
    assert set(types.index) == {t for t, _, _ in synth._EVENT_TYPES}
    assert types.index[0] == "Explosions/Remote violence"
    assert events[schema.SUB_EVENT_TYPE].nunique() >= 15
    assert events[schema.EVENT_DATE].min() >= pd.Timestamp("2014-01-01")
    assert events[schema.EVENT_DATE].max() <= pd.Timestamp("2019-12-31")
    assert events[schema.EVENT_DATE].dt.year.nunique() == 6
    assert set(events[schema.TIME_PRECISION].dropna()) == {1, 2, 3}
    assert set(events[schema.COUNTRY]) == {"Syria", "Iraq"}
    assert events[schema.ACTOR1].nunique() >= 10
    battles = events[events[schema.EVENT_TYPE] == "Battles"]
    assert (battles[schema.ACTOR1] != battles[schema.ACTOR2]).all()
    fatalities = events[schema.FATALITIES]
    assert (fatalities == 0).mean() > 0.4  # many zeros
    assert fatalities.max() >= 50  # a heavy tail
    assert (events[schema.DATE_START] <= events[schema.EVENT_DATE]).all()
    assert (events[schema.EVENT_DATE] <= events[schema.DATE_END]).all()


def test_unknown_fatalities_are_empty_in_canonical_and_zero_in_acled(written):
    result, built = written
    unknown = built.events[schema.FATALITIES].isna().sum()
    if result.layout == "canonical":
        assert unknown > 0
    else:
        assert unknown == 0  # ACLED codes "not known" as 0


def test_areas_are_valid_polygons_over_time(written):
    _, built = written
    areas = built.areas
    geoms = np.asarray(areas.geometry.array)
    assert abs(len(areas) - N_AREAS) <= 0.05 * N_AREAS
    assert shapely.is_valid(geoms).all() and (shapely.get_type_id(geoms) == 3).all()
    assert (
        areas[schema.VALID_TO].isna() | (areas[schema.VALID_FROM] < areas[schema.VALID_TO])
    ).all()
    assert areas[schema.VALID_TO].isna().any()  # open-ended last versions
    assert set(areas[schema.CONTROLLER]) <= set(schema.CONTROLLERS)
    # each side of the Syria-Iraq border has its own parties
    centre = shapely.centroid(geoms)
    x, y = shapely.get_x(centre), shapely.get_y(centre)
    west = x < np.interp(y, synth._BORDER_LAT, synth._BORDER_LON)
    assert schema.IRAQI_GOVERNMENT not in set(areas.loc[west, schema.CONTROLLER])
    assert schema.SYRIAN_GOVERNMENT not in set(areas.loc[~west, schema.CONTROLLER])
    assert areas[schema.AREA_ID].is_unique


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(ValueError, match="layout"):
        synth.write_synthetic(tmp_path, events=10, areas=10, layout="ucdp")
    with pytest.raises(ValueError, match="events"):
        synth.write_synthetic(tmp_path, events=0, areas=10)
    with pytest.raises(ValueError, match="seed"):
        synth.write_synthetic(tmp_path, events=10, areas=10, seed=-1)


def test_cli_synth_writes_the_files_and_one_summary_line(tmp_path):
    out = tmp_path / "data"
    args = ["synth", "--events", "500", "--areas", "60", "-o", str(out), "--seed", "4"]
    result = CliRunner().invoke(cli, [*args, "--layout", "canonical"])
    assert result.exit_code == 0, result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "500 events (canonical layout" in result.output
    assert (out / synth.EVENTS_FILE).is_file() and (out / synth.AREAS_FILE).is_file()
    again = synth.write_synthetic(
        tmp_path / "api", events=500, areas=60, seed=4, layout="canonical"
    )
    assert again.events_path.read_bytes() == (out / synth.EVENTS_FILE).read_bytes()
