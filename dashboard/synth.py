"""A seeded synthetic dataset: ACLED-style events around real towns, control-area versions.

Every benchmark and large test uses the same data, made here. Nothing in it is real: the
events are invented (their ``source`` is ``synthetic`` and their ``notes`` say so), only
the towns they cluster around are real.

Events
    Placed at real towns of Syria and Iraq: the GeoNames ``cities500`` places the geocoder
    loads (:mod:`dashboard.geocoding`) plus the places of the authored alias table, chosen
    with probability growing with population (``max(population, 2000) ** 0.75``; Syria
    weighted 1.6 to 1 against Iraq, as conflict-event counts of the period are). Precision
    mix as in ACLED: geo_precision 1 (72 %) on the town's own coordinates, 2 (20 %) within a
    few km, 3 (8 %) up to ~40 km away, all kept inside the towns' bounding box of their
    country. Dates over 2014-2019, two fifths of them in bursts around four dates per town
    (a town is fought over in episodes); time_precision 1/2/3 = 82/12/6 %. Event and
    sub-event types follow ACLED's categories in proportions like ACLED's Syria/Iraq data,
    with actors from per-country pools whose roles fit the type (battles between two
    armed groups, violence against civilians against ``Civilians (Syria)``...). Fatalities:
    many zeros and a heavy (Pareto) tail, and 8 % of violent events unknown.
Location-only rows
    About :data:`LOCATION_ONLY_SHARE` of the rows have no coordinates, only the town's name,
    in the spellings the gazetteer knows: the GeoNames name and Latin alternates, Arabic
    ones, the alias table's spellings and a one-letter typo of long names. Every spelling
    is checked at generation time to geocode back to its own town (with the row's country
    and governorate), so the geocoder's exact, alias and fuzzy tiers all get work and every
    such row is placed.
Control areas
    :func:`area_versions`: irregular polygon versions over a grid of cells covering Syria
    and Iraq, each version a distinct star-shaped polygon whose boundary moves, neighbours
    overlapping slightly at the edges (see its docstring).

Files (:func:`write_synthetic`): ``DIR/events.csv`` in the current 31-column ACLED layout
(or the canonical one) and ``DIR/control_areas.parquet`` (GeoParquet, interval features),
readable by ``conflictmap build DIR/events.csv --areas DIR/control_areas.parquet``.

Reproducible: the same arguments give byte-identical files (in one environment: the
GeoParquet metadata names the library versions). Events are made in blocks of
:data:`BLOCK_ROWS` rows, each block from its own random stream: with the same seed, a
dataset of k whole blocks is the start of every larger one (the 200k-row profiling sample
is the first 200k rows of the 1M benchmark).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import shapely

from dashboard import paths, schema
from dashboard.gazetteer import ADMIN1_NAMES, Gazetteer, Place, load_gazetteer

Progress = Callable[[str, int, int], None]
"""Called as ``progress(stage, done, total)``; stages ``"events"`` and ``"areas"``."""

LAYOUTS: tuple[str, ...] = ("acled", "canonical")
EVENTS_FILE = "events.csv"
AREAS_FILE = "control_areas.parquet"
LOCATION_ONLY_SHARE = 0.10
BLOCK_ROWS = 100_000
"""Events made and written at once: fixes the random streams and bounds memory."""

# lon/lat box around Syria and Iraq (the area grid covers it)
BBOX = (35.5, 29.0, 48.5, 37.5)
FIRST_DAY = np.datetime64("2014-01-01", "D")
LAST_DAY = np.datetime64("2019-12-31", "D")

# --- event vocabulary ------------------------------------------------------------------------

# ACLED event types with their sub-event types: (type, share, ((sub-event, share), ...)).
_EVENT_TYPES: tuple[tuple[str, float, tuple[tuple[str, float], ...]], ...] = (
    ("Battles", 0.24, (
        ("Armed clash", 0.86),
        ("Government regains territory", 0.08),
        ("Non-state actor overtakes territory", 0.06),
    )),
    ("Explosions/Remote violence", 0.44, (
        ("Shelling/artillery/missile attack", 0.55),
        ("Air/drone strike", 0.30),
        ("Remote explosive/landmine/IED", 0.12),
        ("Suicide bomb", 0.015),
        ("Grenade", 0.013),
        ("Chemical weapon", 0.002),
    )),
    ("Violence against civilians", 0.12, (
        ("Attack", 0.72),
        ("Abduction/forced disappearance", 0.25),
        ("Sexual violence", 0.03),
    )),
    ("Protests", 0.08, (
        ("Peaceful protest", 0.86),
        ("Protest with intervention", 0.11),
        ("Excessive force against protesters", 0.03),
    )),
    ("Riots", 0.02, (("Violent demonstration", 0.6), ("Mob violence", 0.4))),
    ("Strategic developments", 0.10, (
        ("Arrests", 0.25),
        ("Looting/property destruction", 0.20),
        ("Change to group/activity", 0.20),
        ("Disrupted weapons use", 0.15),
        ("Headquarters or base established", 0.08),
        ("Non-violent transfer of territory", 0.05),
        ("Agreement", 0.04),
        ("Other", 0.03),
    )),
)  # fmt: skip
_BATTLES, _EXPLOSIONS, _VAC, _PROTESTS, _RIOTS, _STRATEGIC = range(len(_EVENT_TYPES))
_DISORDER = (
    "Political violence",
    "Political violence",
    "Political violence",
    "Demonstrations",
    "Demonstrations",
    "Strategic developments",
)
# Per type: share of events with no fatalities, Pareto scale of the others.
_ZERO_FATALITIES = (0.45, 0.60, 0.45, 0.995, 0.95, 0.98)
_FATALITY_SCALE = (3.0, 2.0, 1.5, 1.0, 1.0, 1.0)
_UNKNOWN_FATALITIES = 0.08  # of battles, explosions and violence against civilians
_MAX_FATALITIES = 600

_INTER = (
    "State forces", "Rebel group", "Political militia", "Identity militia", "Rioters",
    "Protesters", "Civilians", "External/Other forces",
)  # fmt: skip
_STATE, _REBEL, _POLITICAL, _IDENTITY, _RIOTERS, _PROTESTERS, _CIVILIANS, _EXTERNAL = range(8)

# The two countries: name, ISO2, ISO3, ISO numeric, weight of its towns.
_COUNTRIES = (("Syria", "SY", "SYR", 760, 3.0), ("Iraq", "IQ", "IRQ", 368, 1.0))

# Armed actors per country: (name, inter code, share). Names in ACLED's style.
_ARMED: tuple[tuple[tuple[str, int, float], ...], ...] = (
    (
        ("Military Forces of Syria (2000-)", _STATE, 0.30),
        ("Islamic State (Syria)", _REBEL, 0.20),
        ("Opposition Rebels (Syria)", _REBEL, 0.12),
        ("QSD: Syrian Democratic Forces", _REBEL, 0.10),
        ("Hayat Tahrir al Sham", _REBEL, 0.10),
        ("Military Forces of Russia (2000-)", _EXTERNAL, 0.08),
        ("Military Forces of Turkey (2016-)", _EXTERNAL, 0.03),
        ("Operation Inherent Resolve", _EXTERNAL, 0.03),
        ("NDF: National Defence Forces", _POLITICAL, 0.02),
        ("Unidentified Armed Group (Syria)", _POLITICAL, 0.02),
    ),
    (
        ("Military Forces of Iraq (2014-2018)", _STATE, 0.35),
        ("Islamic State (Iraq)", _REBEL, 0.30),
        ("PMF: Popular Mobilization Forces", _POLITICAL, 0.12),
        ("Kurdistan Regional Government Peshmerga", _STATE, 0.08),
        ("Police Forces of Iraq (2014-2018)", _STATE, 0.07),
        ("Operation Inherent Resolve", _EXTERNAL, 0.05),
        ("Military Forces of Turkey (2016-)", _EXTERNAL, 0.02),
        ("Unidentified Armed Group (Iraq)", _POLITICAL, 0.01),
    ),
)
# Unarmed actors per country, by inter code.
_UNARMED: dict[int, tuple[str, str]] = {
    _CIVILIANS: ("Civilians (Syria)", "Civilians (Iraq)"),
    _PROTESTERS: ("Protesters (Syria)", "Protesters (Iraq)"),
    _RIOTERS: ("Rioters (Syria)", "Rioters (Iraq)"),
    _STATE: ("Police Forces of Syria (2000-)", "Police Forces of Iraq (2014-2018)"),
}
_SOURCE_SCALES = ("National", "Subnational", "New media", "Local partner-National", "International")
_SOURCE_SCALE_SHARES = (0.35, 0.25, 0.2, 0.1, 0.1)

_GEO_PRECISION_SHARES = (0.72, 0.20, 0.08)
_GEO_SPREAD = (0.0, 0.04, 0.15)  # degrees, standard deviation of the offset per precision
_GEO_MAX_OFFSET = (0.0, 0.12, 0.4)
_TIME_PRECISION_SHARES = (0.82, 0.12, 0.06)
_YEAR_SHARES = (0.13, 0.18, 0.20, 0.20, 0.16, 0.13)  # 2014..2019
_BURST_SHARE = 0.4
_BURSTS_PER_TOWN = 4
_BURST_DAYS = 20.0  # standard deviation of an event's day around its burst

# Which spelling a location-only row uses: the town's main Latin name, another Latin
# spelling, an Arabic one, a typo.
_SPELLING_SHARES = (0.45, 0.30, 0.20, 0.05)
_TYPO_MIN_LETTERS = 10  # a one-letter typo passes the fuzzy threshold only in long names
_ALIAS_POPULATION = 20_000  # alias-table places (no population in the table)
_MIN_POPULATION = 2_000
_POPULATION_POWER = 0.6

_ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f]")
_LATIN_NAME = re.compile(
    r"^[A-Za-z\u00c0-\u024f\u1e00-\u1eff][A-Za-z\u00c0-\u024f\u1e00-\u1eff' .\-]+$"
)


# --- public functions --------------------------------------------------------------------------


@dataclass(frozen=True)
class SynthResult:
    """What :func:`write_synthetic` wrote."""

    events_path: Path
    areas_path: Path
    layout: str
    seed: int
    events: int
    location_only: int
    areas: int
    seconds: float

    def summary(self) -> str:
        """One line for a person: counts, files and time."""
        return (
            f"wrote {self.events:,} events ({self.layout} layout, {self.location_only:,} with "
            f"only a place name) to {self.events_path} and {self.areas:,} control-area "
            f"versions to {self.areas_path} in {self.seconds:.1f} s (seed {self.seed})"
        )


def write_synthetic(
    directory: str | Path,
    *,
    events: int = 100_000,
    areas: int = 4_000,
    seed: int = 0,
    layout: str = "acled",
    vertices: int = 200,
    progress: Progress | None = None,
) -> SynthResult:
    """Write a synthetic events file and control-area file into a directory.

    Parameters
    ----------
    directory
        Created if missing; ``events.csv`` and ``control_areas.parquet`` in it are replaced.
    events
        Number of event rows (at least 1).
    areas
        Target number of control-area versions (at least 1; the result is within a few
        percent of it).
    seed
        Non-negative random seed: the same arguments give the same files.
    layout
        ``"acled"`` (the current 31-column ACLED export layout) or ``"canonical"``
        (``schema.EVENT_COLUMNS``).
    vertices
        Points on each area polygon's ring.
    progress
        Called as ``progress(stage, done, total)`` after each block of events and of areas.

    Returns
    -------
    SynthResult

    Raises
    ------
    ValueError
        A count, the seed or the layout is out of range.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {LAYOUTS!r}, got {layout!r}")
    _check_counts(events=events, areas=areas, seed=seed)
    started = time.perf_counter()
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    events_path, areas_path = out / EVENTS_FILE, out / AREAS_FILE

    towns = _towns()
    located = 0
    writer: pacsv.CSVWriter | None = None
    try:
        for first, block in _blocks(events, seed, towns):
            table = (
                _acled_table(block, towns) if layout == "acled" else _canonical_table(block, towns)
            )
            if writer is None:
                writer = pacsv.CSVWriter(events_path, table.schema)
            writer.write_table(table)
            located += int(block.location_only.sum())
            if progress is not None:
                progress("events", first + block.n, events)
    finally:
        if writer is not None:
            writer.close()

    frame = area_versions(
        areas,
        vertices=vertices,
        seed=seed,
        progress=None if progress is None else lambda done, total: progress("areas", done, total),
    )
    frame.to_parquet(areas_path, index=False)
    return SynthResult(
        events_path=events_path,
        areas_path=areas_path,
        layout=layout,
        seed=seed,
        events=events,
        location_only=located,
        areas=len(frame),
        seconds=time.perf_counter() - started,
    )


def town_events(n: int, *, seed: int = 0) -> pd.DataFrame:
    """The synthetic events as a typed canonical frame (what ``write_synthetic`` writes).

    Parameters
    ----------
    n
        Number of events.
    seed
        Non-negative random seed; the rows equal those of ``write_synthetic(seed=seed)``.

    Returns
    -------
    pandas.DataFrame
        ``schema.EVENT_COLUMNS``: dates as ``datetime64[s]``, latitude/longitude NaN on
        location-only rows, fatalities NaN where unknown, precision codes ``Int8``.
    """
    _check_counts(events=n, areas=1, seed=seed)
    towns = _towns()
    tables = [_canonical_table(block, towns) for _, block in _blocks(n, seed, towns)]
    frame = pa.concat_tables(tables).to_pandas(date_as_object=False)
    for column in schema.DATE_COLUMNS:
        frame[column] = frame[column].astype("datetime64[s]")
    for column in schema.INT_CODE_COLUMNS:
        frame[column] = frame[column].astype("Int8")
    frame[schema.FATALITIES] = frame[schema.FATALITIES].astype("float64")
    return frame


def area_versions(
    versions: int = 40_000,
    *,
    vertices: int = 200,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> gpd.GeoDataFrame:
    """Control-area versions: irregular polygons on a grid of cells, about ``versions`` rows.

    ``versions / 15`` grid cells over :data:`BBOX`, each with 10-20 successive versions
    (scaled so the total is ``versions``). Real control-area versions are irregular polygons
    with many vertices whose boundary moves from one version to the next, so every version
    is a *distinct* polygon: a star-shaped ring of ``vertices`` points around the cell
    centre, at the distance of the cell's own edge in that direction times a factor

        f(theta) = 1.02 + (smooth noise: 8 random harmonics, the cell's own shape plus a
                   per-version change) + (a small per-vertex jitter)
                   + (for one version in five: a bulge of up to +30 % towards a random
                   side, a front advancing into the neighbouring cell)

    clipped to [0.5, 1.5]. Angles increase strictly and radii are positive, so every ring
    is simple and every polygon valid. The factor wanders around 1 (standard deviation
    ~0.07), so neighbouring cells overlap slightly along their edges (contested points where
    their controllers differ) and leave slivers of no-one's land elsewhere, as digitised
    control maps do. Why ~200 vertices: in the OCHA Syria "areas of influence" snapshots
    in ../shared/data (2015-05-24, 2015-11-29) the median polygon has only 23-28 vertices
    (many tiny enclaves), but the median *by area* - which is what a point falls into - has
    483-795 vertices, and >90 % of the area lies in polygons with >= 100 vertices. About
    one version in twenty ends up to a month before the next starts (a gap in time: no
    area) and the last version of every cell is open-ended. Controllers are the parties of
    the cell's side of the Syria-Iraq border (Syrian government, Islamic State, SDF, Syrian
    opposition, Turkey-backed opposition west of it; Iraqi government, Islamic State,
    Kurdistan Regional Government east of it; Contested on both), not a history.

    Parameters
    ----------
    versions
        Target number of versions (the result is within a few percent of it).
    vertices
        Points on each polygon's ring, the closing point not counted; at least 8.
    seed
        Random seed: the same arguments give the same frame.
    progress
        Called as ``progress(done, total)`` as polygons are made.

    Returns
    -------
    geopandas.GeoDataFrame
        AREA_ID (``c<cell>-v<version>``), CONTROLLER, VALID_FROM, VALID_TO (NaT =
        open-ended) and geometry (Polygons, EPSG:4326); rows by cell, then by time.
    """
    if vertices < 8:
        raise ValueError(f"vertices must be at least 8, got {vertices!r}")
    rng = np.random.default_rng(seed)
    grid = _grid(versions)
    per_cell = rng.integers(10, 21, size=grid.n_cells)
    per_cell = np.maximum(1, np.round(per_cell * versions / per_cell.sum()).astype(int))
    cell = np.repeat(np.arange(grid.n_cells), per_cell)
    serial = np.arange(len(cell)) - np.repeat(np.cumsum(per_cell) - per_cell, per_cell)
    start, end = _version_dates(rng, per_cell)
    controller = _version_controllers(rng, grid, cell, serial)
    geometry = _version_polygons(rng, grid, cell, vertices, progress)
    ids = pd.Series(cell).astype(str).radd("c") + "-v" + pd.Series(serial).astype(str)
    return gpd.GeoDataFrame(
        {
            # pd.array takes a Series; pandas-stubs' overloads name only sequences and arrays.
            schema.AREA_ID: pd.array(ids, dtype="string"),  # type: ignore[call-overload]
            schema.CONTROLLER: pd.array(controller, dtype="string"),
            schema.VALID_FROM: pd.Series(start).astype("datetime64[s]"),
            schema.VALID_TO: pd.Series(end).astype("datetime64[s]"),
        },
        geometry=geometry,
        crs="EPSG:4326",
    )


def _check_counts(*, events: int, areas: int, seed: int) -> None:
    for name, value in (("events", events), ("areas", areas)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive whole number, got {value!r}")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative whole number, got {seed!r}")


# --- towns -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Towns:
    """The real places events cluster around, with the spellings that geocode back to them.

    ``spellings[g]`` is a flat array of the group-g spellings (main Latin name, other Latin,
    Arabic, typo) of all towns; town t's are ``[start[g][t], start[g][t] + count[g][t])``.
    """

    name: np.ndarray  # object: the name written in ``location`` of rows with coordinates
    latitude: np.ndarray
    longitude: np.ndarray
    country: np.ndarray  # index into _COUNTRIES
    admin1: np.ndarray  # object: governorate name, "" when unknown
    probability: np.ndarray
    spellings: tuple[np.ndarray, ...]
    start: tuple[np.ndarray, ...]
    count: tuple[np.ndarray, ...]
    box: np.ndarray  # per country: (west, south, east, north) of its towns

    def __len__(self) -> int:
        return len(self.name)


@lru_cache(maxsize=1)
def _towns() -> _Towns:
    """Syrian and Iraqi places of the geocoder's gazetteer, with checked spellings."""
    codes = tuple(sorted(cc for _, cc, *_ in _COUNTRIES))
    gazetteer = load_gazetteer(countries=codes)
    country_of = {cc: i for i, (_, cc, *_) in enumerate(_COUNTRIES)}
    rows: list[tuple[str, float, float, int, str, float, list[list[str]]]] = []
    for place, names in _gazetteer_places(codes):
        i = country_of[place.country_code]
        admin1 = ADMIN1_NAMES[place.country_code].get(place.admin1_code or "", ("",))[0]
        if place.source.startswith("GeoNames"):
            population = max(place.population, _MIN_POPULATION)
        else:  # the alias table has no population; its places are mostly fought-over towns
            population = _ALIAS_POPULATION
        weight = population**_POPULATION_POWER * _COUNTRIES[i][4]
        groups = _spellings(gazetteer, place, names, country=_COUNTRIES[i][0], admin1=admin1)
        rows.append((place.name, place.latitude, place.longitude, i, admin1, weight, groups))

    country = np.array([r[3] for r in rows])
    latitude = np.array([r[1] for r in rows])
    longitude = np.array([r[2] for r in rows])
    weight = np.array([r[5] for r in rows])
    flat, start, count = [], [], []
    for g in range(len(_SPELLING_SHARES)):
        per_town = [r[6][g] for r in rows]
        sizes = np.array([len(s) for s in per_town], dtype=np.int64)
        flat.append(np.array([s for group in per_town for s in group] or [""], dtype=object))
        count.append(sizes)
        start.append(np.cumsum(sizes) - sizes)
    box = np.array(
        [
            [
                longitude[country == i].min(),
                latitude[country == i].min(),
                longitude[country == i].max(),
                latitude[country == i].max(),
            ]
            for i in range(len(_COUNTRIES))
        ]
    )
    return _Towns(
        name=np.array([r[0] for r in rows], dtype=object),
        latitude=latitude,
        longitude=longitude,
        country=country,
        admin1=np.array([r[4] for r in rows], dtype=object),
        probability=weight / weight.sum(),
        spellings=tuple(flat),
        start=tuple(start),
        count=tuple(count),
        box=box,
    )


def _gazetteer_places(codes: tuple[str, ...]) -> list[tuple[Place, tuple[str, ...]]]:
    """(place, names) of GeoNames and of the alias table, for some countries, in file order.

    The gazetteer keeps its places private; these are the loaders it is built from (both
    cached), so the towns are exactly the places the geocoder knows.
    """
    from dashboard.gazetteer import geonames_places, read_aliases

    aliases = tuple(a for a in read_aliases(paths.BUNDLED_ALIASES) if a[0].country_code in codes)
    return [*geonames_places(codes), *aliases]


def _spellings(
    gazetteer: Gazetteer, place: Place, names: Sequence[str], *, country: str, admin1: str
) -> list[list[str]]:
    """The place's spellings by group, each kept only if it geocodes back to this place."""
    latin = [n for n in names if _LATIN_NAME.match(n) and n[0].isupper() and not n.isupper()]
    main = [place.name] if _LATIN_NAME.match(place.name) else latin[:1]
    others = [n for n in latin if n not in main]
    arabic = [n for n in names if _ARABIC.search(n)]
    typos = [_typo(n) for n in main if sum(c.isalpha() for c in n) >= _TYPO_MIN_LETTERS]

    def back_home(name: str) -> bool:
        match = gazetteer.lookup(name, country=country, admin1=admin1 or None)
        return match is not None and match.place == place

    return [[n for n in group if back_home(n)] for group in (main, others, arabic, typos)]


def _typo(name: str) -> str:
    """The name with its middle letter dropped (a typing slip the fuzzy tier should forgive)."""
    letters = [i for i, c in enumerate(name) if c.isalpha()]
    drop = letters[len(letters) // 2]
    return name[:drop] + name[drop + 1 :]


# --- events ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Block:
    """One block of events as arrays (codes into the vocabularies above)."""

    n: int
    first_id: int  # number of the block's first event, from 1
    town: np.ndarray
    day: np.ndarray  # datetime64[D]
    time_precision: np.ndarray
    geo_precision: np.ndarray  # 0 on location-only rows (unknown until geocoded)
    latitude: np.ndarray  # NaN on location-only rows
    longitude: np.ndarray
    location_only: np.ndarray
    spelling: np.ndarray  # per row, the text written in ``location``
    sub_event: np.ndarray  # index into _SUB_EVENTS
    actor1: np.ndarray  # index into _ACTORS
    actor2: np.ndarray  # index into _ACTORS, -1 for none
    fatalities: np.ndarray  # float, NaN unknown
    source_scale: np.ndarray
    lag_seconds: np.ndarray  # from the event's day to its ACLED timestamp


def _vocabulary() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Sub-event names, their type index, their probability; actor names, inter codes."""
    subs, types, probs = [], [], []
    for t, (_, share, children) in enumerate(_EVENT_TYPES):
        for name, sub_share in children:
            subs.append(name)
            types.append(t)
            probs.append(share * sub_share)
    prob = np.array(probs) / sum(probs)
    actors: dict[str, int] = {}
    for pool in _ARMED:
        for name, inter, _ in pool:
            actors.setdefault(name, inter)
    for inter, names in _UNARMED.items():
        for name in names:
            actors.setdefault(name, inter)
    return (
        np.array(subs, dtype=object),
        np.array(types),
        prob,
        np.array(list(actors), dtype=object),
        np.array(list(actors.values())),
    )


_SUB_EVENTS, _SUB_TYPE, _SUB_PROB, _ACTORS, _ACTOR_INTER = _vocabulary()
_ACTOR_INDEX = {name: i for i, name in enumerate(_ACTORS)}


def _blocks(n: int, seed: int, towns: _Towns) -> Iterator[tuple[int, _Block]]:
    """(first row, block) for the n events, in blocks of BLOCK_ROWS rows."""
    bursts = _town_bursts(np.random.default_rng([seed, 0]), len(towns))
    for b, first in enumerate(range(0, n, BLOCK_ROWS)):
        rng = np.random.default_rng([seed, 1, b])
        yield first, _make_block(rng, min(BLOCK_ROWS, n - first), first + 1, towns, bursts)


def _town_bursts(rng: np.random.Generator, n_towns: int) -> np.ndarray:
    """Day numbers (from FIRST_DAY) of the episodes each town is fought over."""
    span = int((LAST_DAY - FIRST_DAY).astype(int))
    return rng.integers(0, span + 1, size=(n_towns, _BURSTS_PER_TOWN))


def _make_block(
    rng: np.random.Generator, m: int, first_id: int, towns: _Towns, bursts: np.ndarray
) -> _Block:
    town = rng.choice(len(towns), size=m, p=towns.probability)
    day = _days(rng, town, bursts)
    time_precision = rng.choice(3, size=m, p=_TIME_PRECISION_SHARES) + 1
    geo_precision = rng.choice(3, size=m, p=_GEO_PRECISION_SHARES) + 1
    lat, lon = _coordinates(rng, town, geo_precision, towns)
    spelling, location_only = _location_names(rng, town, towns)
    lat[location_only] = np.nan
    lon[location_only] = np.nan
    geo_precision[location_only] = 0
    sub_event = rng.choice(len(_SUB_EVENTS), size=m, p=_SUB_PROB)
    actor1, actor2 = _actors(rng, _SUB_TYPE[sub_event], sub_event, towns.country[town])
    fatalities = _fatalities(rng, _SUB_TYPE[sub_event])
    return _Block(
        n=m,
        first_id=first_id,
        town=town,
        day=day,
        time_precision=time_precision,
        geo_precision=geo_precision,
        latitude=lat,
        longitude=lon,
        location_only=location_only,
        spelling=spelling,
        sub_event=sub_event,
        actor1=actor1,
        actor2=actor2,
        fatalities=fatalities,
        source_scale=rng.choice(len(_SOURCE_SCALES), size=m, p=_SOURCE_SCALE_SHARES),
        lag_seconds=rng.integers(2 * 86_400, 60 * 86_400, size=m),
    )


def _days(rng: np.random.Generator, town: np.ndarray, bursts: np.ndarray) -> np.ndarray:
    """Event days: a yearly level plus bursts around each town's episodes."""
    m = len(town)
    year = rng.choice(len(_YEAR_SHARES), size=m, p=_YEAR_SHARES)
    year_start = (np.datetime64("2014", "Y") + year).astype("datetime64[D]")
    year_days = (year_start.astype("datetime64[Y]") + 1).astype("datetime64[D]") - year_start
    base = (year_start - FIRST_DAY).astype(np.int64) + np.floor(
        rng.random(m) * year_days.astype(np.int64)
    ).astype(np.int64)
    burst = bursts[town, rng.integers(0, bursts.shape[1], size=m)]
    around = burst + np.round(rng.normal(0, _BURST_DAYS, m)).astype(np.int64)
    span = int((LAST_DAY - FIRST_DAY).astype(int))
    offset = np.where(rng.random(m) < _BURST_SHARE, np.clip(around, 0, span), base)
    return FIRST_DAY + offset.astype("timedelta64[D]")


def _coordinates(
    rng: np.random.Generator, town: np.ndarray, precision: np.ndarray, towns: _Towns
) -> tuple[np.ndarray, np.ndarray]:
    """The town's point, moved by an offset that grows with geo_precision, 4 decimals."""
    spread = np.asarray(_GEO_SPREAD)[precision - 1]
    limit = np.asarray(_GEO_MAX_OFFSET)[precision - 1]
    dx = np.clip(rng.normal(0, 1, len(town)) * spread, -limit, limit)
    dy = np.clip(rng.normal(0, 1, len(town)) * spread, -limit, limit)
    # Stay inside the country's towns' box: a point pushed out of its country could be
    # taken by validation for swapped coordinates.
    box = towns.box[towns.country[town]]
    lon = np.clip(towns.longitude[town] + dx, box[:, 0], box[:, 2])
    lat = np.clip(towns.latitude[town] + dy, box[:, 1], box[:, 3])
    return np.round(lat, 4), np.round(lon, 4)


def _location_names(
    rng: np.random.Generator, town: np.ndarray, towns: _Towns
) -> tuple[np.ndarray, np.ndarray]:
    """Per row the text of ``location`` and whether the row has only that (no coordinates)."""
    m = len(town)
    spelling = towns.name[town].copy()
    counts = np.column_stack([c[town] for c in towns.count])
    only = (rng.random(m) < LOCATION_ONLY_SHARE) & (counts.sum(axis=1) > 0)
    group = rng.choice(len(_SPELLING_SHARES), size=m, p=_SPELLING_SHARES)
    # a town lacking the drawn kind of spelling uses its first kind that it has
    has = counts[np.arange(m), group] > 0
    group = np.where(has, group, np.argmax(counts > 0, axis=1))
    pick = rng.random(m)
    for g in range(len(_SPELLING_SHARES)):
        rows = np.flatnonzero(only & (group == g))
        k = towns.count[g][town[rows]]
        idx = towns.start[g][town[rows]] + np.minimum((pick[rows] * k).astype(np.int64), k - 1)
        spelling[rows] = towns.spellings[g][idx]
    return spelling, only


def _actors(
    rng: np.random.Generator, kind: np.ndarray, sub_event: np.ndarray, country: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """actor1 and actor2 (indices into _ACTORS, -1 none) with roles that fit the event."""
    m = len(kind)
    armed1 = np.empty(m, dtype=np.int64)
    armed2 = np.empty(m, dtype=np.int64)
    civilians, protesters, rioters, police = (np.empty(m, dtype=np.int64) for _ in range(4))
    for c, pool in enumerate(_ARMED):
        rows = np.flatnonzero(country == c)
        idx = np.array([_ACTOR_INDEX[name] for name, _, _ in pool])
        share = np.array([s for _, _, s in pool])
        share = share / share.sum()
        first = rng.choice(len(pool), size=len(rows), p=share)
        # the opponent is another group of the pool: never an actor fighting itself
        second = (first + 1 + rng.choice(len(pool) - 1, size=len(rows))) % len(pool)
        armed1[rows], armed2[rows] = idx[first], idx[second]
        civilians[rows] = _ACTOR_INDEX[_UNARMED[_CIVILIANS][c]]
        protesters[rows] = _ACTOR_INDEX[_UNARMED[_PROTESTERS][c]]
        rioters[rows] = _ACTOR_INDEX[_UNARMED[_RIOTERS][c]]
        police[rows] = _ACTOR_INDEX[_UNARMED[_STATE][c]]
    u = rng.random(m)
    none = np.full(m, -1)
    intervened = np.isin(
        _SUB_EVENTS[sub_event], ["Protest with intervention", "Excessive force against protesters"]
    )
    actor1 = np.select([kind == _PROTESTS, kind == _RIOTS], [protesters, rioters], default=armed1)
    explosion, riot = kind == _EXPLOSIONS, kind == _RIOTS
    actor2 = np.select(
        [
            kind == _BATTLES,
            explosion & (u < 0.45),  # shelling and air strikes often name no target
            explosion & (u < 0.80),
            explosion,
            kind == _VAC,
            (kind == _PROTESTS) & intervened,
            kind == _PROTESTS,
            riot & (u < 0.5),
            riot,
            (kind == _STRATEGIC) & (u < 0.6),
        ],
        [armed2, none, armed2, civilians, civilians, police, none, civilians, none, none],
        default=armed2,
    )
    return actor1, actor2


def _fatalities(rng: np.random.Generator, kind: np.ndarray) -> np.ndarray:
    """Many zeros, a heavy tail, and some unknown (NaN) among violent events."""
    m = len(kind)
    zero = rng.random(m) < np.asarray(_ZERO_FATALITIES)[kind]
    tail = np.floor((rng.pareto(1.1, m) + 1) * np.asarray(_FATALITY_SCALE)[kind])
    value = np.where(zero, 0.0, np.minimum(tail, _MAX_FATALITIES))
    violent = np.isin(kind, [_BATTLES, _EXPLOSIONS, _VAC])
    value[violent & (rng.random(m) < _UNKNOWN_FATALITIES)] = np.nan
    return value


# --- tables ------------------------------------------------------------------------------------


def _text(options: Sequence[str] | np.ndarray, codes: np.ndarray) -> pa.Array:
    """``options[codes]`` as an Arrow string array; code -1 is null."""
    codes = np.asarray(codes, dtype=np.int64)
    return pc.take(pa.array(list(options), pa.string()), pa.array(codes, mask=codes < 0))


def _strings(values: np.ndarray) -> pa.Array:
    return pa.array(values.tolist(), pa.string())


def _event_ids(block: _Block, towns: _Towns) -> pa.Array:
    """ACLED-style ids: the country's ISO3 code and the event's number (SYR1, IRQ2, ...)."""
    numbers = pc.cast(pa.array(np.arange(block.first_id, block.first_id + block.n)), pa.string())
    prefix = _text([c[2] for c in _COUNTRIES], towns.country[block.town])
    return pc.binary_join_element_wise(prefix, numbers, "")


def _notes(block: _Block, towns: _Towns) -> pa.Array:
    return pc.binary_join_element_wise(
        "Synthetic event (not real): ",
        _text(_SUB_EVENTS, block.sub_event),
        " involving ",
        _text(_ACTORS, block.actor1),
        " near ",
        _strings(towns.name[block.town]),
        ".",
        "",
    )


def _common(block: _Block, towns: _Towns) -> dict[str, pa.Array]:
    """Columns both layouts write the same way (canonical names)."""
    country = towns.country[block.town]
    admin1 = towns.admin1[block.town]
    precision = block.geo_precision
    return {
        schema.EVENT_ID: _event_ids(block, towns),
        schema.EVENT_DATE: pa.array(block.day),
        schema.TIME_PRECISION: pa.array(block.time_precision.astype(np.int8)),
        schema.EVENT_TYPE: _text([t for t, _, _ in _EVENT_TYPES], _SUB_TYPE[block.sub_event]),
        schema.SUB_EVENT_TYPE: _text(_SUB_EVENTS, block.sub_event),
        schema.ACTOR1: _text(_ACTORS, block.actor1),
        schema.ACTOR2: _text(_ACTORS, block.actor2),
        schema.COUNTRY: _text([c[0] for c in _COUNTRIES], country),
        schema.ADMIN1: pa.array(admin1.tolist(), pa.string(), mask=admin1 == ""),
        schema.ADMIN2: pa.nulls(block.n, pa.string()),
        schema.LOCATION: _strings(block.spelling),
        schema.LATITUDE: pa.array(block.latitude, from_pandas=True),
        schema.LONGITUDE: pa.array(block.longitude, from_pandas=True),
        schema.GEO_PRECISION: pa.array(precision.astype(np.int8), mask=precision == 0),
        schema.SOURCE: pa.array(np.full(block.n, "synthetic", dtype=object), pa.string()),
        schema.NOTES: _notes(block, towns),
    }


def _canonical_table(block: _Block, towns: _Towns) -> pa.Table:
    """``schema.EVENT_COLUMNS`` in order; a week or month window for imprecise dates."""
    columns = _common(block, towns)
    start, end = _date_window(block.day, block.time_precision)
    columns[schema.DATE_START] = pa.array(start)
    columns[schema.DATE_END] = pa.array(end)
    fatalities = block.fatalities
    columns[schema.FATALITIES] = pa.array(
        np.nan_to_num(fatalities).astype(np.int32), mask=np.isnan(fatalities)
    )
    return pa.table({c: columns[c] for c in schema.EVENT_COLUMNS})


def _date_window(day: np.ndarray, precision: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """time_precision 1: the day; 2: its Monday-Sunday week; 3: its calendar month."""
    number = day.astype(np.int64)  # 1970-01-01 was a Thursday: Monday is (n + 3) % 7 == 0
    week_start = day - ((number + 3) % 7).astype("timedelta64[D]")
    month_start = day.astype("datetime64[M]").astype("datetime64[D]")
    month_end = (day.astype("datetime64[M]") + 1).astype("datetime64[D]") - np.timedelta64(1, "D")
    start = np.select([precision == 2, precision == 3], [week_start, month_start], day)
    end = np.select(
        [precision == 2, precision == 3], [week_start + np.timedelta64(6, "D"), month_end], day
    )
    return start.astype("datetime64[D]"), end.astype("datetime64[D]")


def _acled_table(block: _Block, towns: _Towns) -> pa.Table:
    """The current 31-column ACLED export layout (``schema.ACLED_COLUMNS``).

    As in ACLED exports, unknown fatalities are written as 0 and ``inter1``/``inter2``/
    ``interaction`` as text.
    """
    common = _common(block, towns)
    kind = _SUB_TYPE[block.sub_event]
    country = towns.country[block.town]
    inter1 = _ACTOR_INTER[block.actor1]
    inter2 = np.where(block.actor2 >= 0, _ACTOR_INTER[np.maximum(block.actor2, 0)], -1)
    interactions = [f"{a}-{b}" for a in _INTER for b in _INTER] + [f"{a} only" for a in _INTER]
    pair = np.where(inter2 >= 0, inter1 * len(_INTER) + inter2, len(_INTER) ** 2 + inter1)
    targets_civilians = _ACTOR_INTER[np.maximum(block.actor2, 0)] == _CIVILIANS
    targets_civilians &= block.actor2 >= 0
    epoch_day = block.day.astype("datetime64[s]").astype(np.int64)
    empty = pa.nulls(block.n, pa.string())
    columns = {
        "event_id_cnty": common[schema.EVENT_ID],
        "event_date": common[schema.EVENT_DATE],
        "year": pa.array(block.day.astype("datetime64[Y]").astype(np.int64) + 1970),
        "time_precision": common[schema.TIME_PRECISION],
        "disorder_type": _text(_DISORDER, kind),
        "event_type": common[schema.EVENT_TYPE],
        "sub_event_type": common[schema.SUB_EVENT_TYPE],
        "actor1": common[schema.ACTOR1],
        "assoc_actor_1": empty,
        "inter1": _text(_INTER, inter1),
        "actor2": common[schema.ACTOR2],
        "assoc_actor_2": empty,
        "inter2": _text(_INTER, inter2),
        "interaction": _text(interactions, pair),
        "civilian_targeting": _text(["Civilian targeting"], np.where(targets_civilians, 0, -1)),
        "iso": pa.array(np.array([c[3] for c in _COUNTRIES])[country]),
        "region": pa.array(np.full(block.n, "Middle East", dtype=object), pa.string()),
        "country": common[schema.COUNTRY],
        "admin1": common[schema.ADMIN1],
        "admin2": empty,
        "admin3": empty,
        "location": common[schema.LOCATION],
        "latitude": common[schema.LATITUDE],
        "longitude": common[schema.LONGITUDE],
        "geo_precision": common[schema.GEO_PRECISION],
        "source": common[schema.SOURCE],
        "source_scale": _text(_SOURCE_SCALES, block.source_scale),
        "notes": common[schema.NOTES],
        "fatalities": pa.array(np.nan_to_num(block.fatalities).astype(np.int32)),
        "tags": empty,
        "timestamp": pa.array(epoch_day + block.lag_seconds),
    }
    return pa.table({c: columns[c] for c in schema.ACLED_COLUMNS})


# --- control areas -----------------------------------------------------------------------------

_HARMONICS = 8  # smooth boundary noise: cos/sin terms of order 1..8
_CELL_SHAPE = 0.05  # amplitude of order 1 of a cell's own shape (order h: /h)
_VERSION_MOVE = 0.03  # amplitude of order 1 of the change from version to version
_JITTER = 0.008  # per-vertex noise (the "densified", digitised look)
_ADVANCE_SHARE = 0.2  # versions pushing a front into a neighbour
_ADVANCE = 0.3
_POLYGON_BLOCK = 4_096  # polygons generated at once: bounds the temporary arrays (~50 MB)
# The parties holding ground west and east of the border: one name per draw of
# 0..len(CONTROLLERS) - 1 (governments and the Islamic State twice), Contested last and only
# there, so a cell's first holder (drawn without the last) is never Contested.
_SIDES: tuple[tuple[str, ...], tuple[str, ...]] = (
    (
        schema.SYRIAN_GOVERNMENT,
        schema.ISLAMIC_STATE,
        schema.SDF,
        schema.SYRIAN_OPPOSITION,
        schema.TURKEY_BACKED,
        schema.SYRIAN_GOVERNMENT,
        schema.ISLAMIC_STATE,
        schema.CONTESTED,
    ),
    (
        schema.IRAQI_GOVERNMENT,
        schema.ISLAMIC_STATE,
        schema.KRG,
        schema.IRAQI_GOVERNMENT,
        schema.ISLAMIC_STATE,
        schema.KRG,
        schema.IRAQI_GOVERNMENT,
        schema.CONTESTED,
    ),
)
# The Syria-Iraq border, roughly (Al-Tanf, Abu Kamal, Rabia, the Tigris tripoint).
_BORDER_LAT = (33.4, 34.45, 36.9, 37.3)
_BORDER_LON = (38.8, 40.9, 42.1, 42.4)


@dataclass(frozen=True)
class _Grid:
    """The cells: cell c is column c // ny, row c % ny."""

    xs: np.ndarray  # nx + 1 column edges
    ys: np.ndarray  # ny + 1 row edges

    @property
    def n_cells(self) -> int:
        return (len(self.xs) - 1) * (len(self.ys) - 1)


def _grid(versions: int) -> _Grid:
    """About ``versions / 15`` cells over BBOX, a little wider than high (as BBOX is)."""
    n_cells = max(1, round(versions / 15))
    nx = max(1, round(math.sqrt(n_cells * 1.3)))
    ny = max(1, math.ceil(n_cells / nx))
    return _Grid(np.linspace(BBOX[0], BBOX[2], nx + 1), np.linspace(BBOX[1], BBOX[3], ny + 1))


def _version_dates(rng: np.random.Generator, per_cell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Successive [start, end) per version, cell by cell (datetime64[D]; end NaT = open).

    A cell's k versions cut 2014-2019 at k - 1 distinct sorted days; about one version in
    twenty (never the last) ends 1-29 days before the next starts.
    """
    span = int((LAST_DAY - FIRST_DAY).astype(int))
    n_cells, total = len(per_cell), int(per_cell.sum())
    cuts_per_cell = per_cell - 1
    cut_cell = np.repeat(np.arange(n_cells), cuts_per_cell)
    # k - 1 sorted draws from [1, span - k + 1] plus their rank: distinct and sorted
    room = span - 1 - (per_cell[cut_cell] - 2)
    draw = 1 + np.floor(rng.random(len(cut_cell)) * room).astype(np.int64)
    draw = draw[np.lexsort((draw, cut_cell))]
    rank = np.arange(len(cut_cell)) - np.repeat(
        np.cumsum(cuts_per_cell) - cuts_per_cell, cuts_per_cell
    )
    cuts = draw + rank

    last = np.cumsum(per_cell) - 1  # the last version of each cell
    first = last - per_cell + 1
    is_first = np.zeros(total, dtype=bool)
    is_first[first] = True
    is_last = np.zeros(total, dtype=bool)
    is_last[last] = True
    start_day = np.zeros(total, dtype=np.int64)
    start_day[~is_first] = cuts
    end_day = np.full(total, -1, dtype=np.int64)
    end_day[~is_last] = cuts
    gap = (rng.random(total) < 0.05) & ~is_last  # ends early: nobody's area for a while
    shorten = rng.integers(1, 30, size=total)
    early = gap & (end_day - shorten > start_day)
    end_day[early] -= shorten[early]

    start = FIRST_DAY + start_day.astype("timedelta64[D]")
    end = FIRST_DAY + end_day.astype("timedelta64[D]")
    end[is_last] = np.datetime64("NaT", "D")
    return start, end


def _version_controllers(
    rng: np.random.Generator, grid: _Grid, cell: np.ndarray, serial: np.ndarray
) -> np.ndarray:
    """Controller per version: a cell starts with a non-contested holder, which changes
    (possibly to itself or to Contested) with probability 0.6 at every new version.

    Holders are drawn among the parties of the cell's side of the Syria-Iraq border
    (:data:`_SIDES`).
    """
    n = len(cell)
    first = serial == 0
    candidate = rng.integers(0, len(schema.CONTROLLERS), size=n)
    candidate[first] = rng.integers(0, len(schema.CONTROLLERS) - 1, size=int(first.sum()))
    change = first | (rng.random(n) < 0.6)
    holder_at = np.maximum.accumulate(np.where(change, np.arange(n), 0))
    names = np.array(_SIDES, dtype=object)  # (side, draw)
    side = np.where(_syrian_side(grid)[cell], 0, 1)
    return names[side, candidate[holder_at]]


def _syrian_side(grid: _Grid) -> np.ndarray:
    """Per cell: whether its centre lies west of (roughly) the Syria-Iraq border."""
    ny = len(grid.ys) - 1
    col, row = np.divmod(np.arange(grid.n_cells), ny)
    x = (grid.xs[col] + grid.xs[col + 1]) / 2
    y = (grid.ys[row] + grid.ys[row + 1]) / 2
    return x < np.interp(y, _BORDER_LAT, _BORDER_LON)


def _version_polygons(
    rng: np.random.Generator,
    grid: _Grid,
    cell: np.ndarray,
    vertices: int,
    progress: Callable[[int, int], None] | None = None,
) -> np.ndarray:
    """One valid star-shaped Polygon of ``vertices`` points per version (see area_versions)."""
    ny = len(grid.ys) - 1
    col, row = np.divmod(np.arange(grid.n_cells), ny)
    centre = np.column_stack(
        [(grid.xs[col] + grid.xs[col + 1]) / 2, (grid.ys[row] + grid.ys[row + 1]) / 2]
    )
    half = np.column_stack(
        [(grid.xs[col + 1] - grid.xs[col]) / 2, (grid.ys[row + 1] - grid.ys[row]) / 2]
    )
    order = np.arange(1, _HARMONICS + 1)
    # cos/sin coefficients: the cell's own shape plus each version's move
    shape = rng.normal(0, 1, (grid.n_cells, 2, _HARMONICS)) * (_CELL_SHAPE / order)
    coef = shape[cell] + rng.normal(0, 1, (len(cell), 2, _HARMONICS)) * (_VERSION_MOVE / order)
    advance = rng.random(len(cell)) < _ADVANCE_SHARE
    front = rng.uniform(0, 2 * np.pi, len(cell))
    offset = rng.uniform(0, 2 * np.pi / vertices, len(cell))

    out = np.empty(len(cell), dtype=object)
    step = 2 * np.pi / vertices
    for a in range(0, len(cell), _POLYGON_BLOCK):
        sl = slice(a, min(a + _POLYGON_BLOCK, len(cell)))
        m = sl.stop - sl.start
        # strictly increasing angles: jitter below half a step
        theta = offset[sl, None] + step * (
            np.arange(vertices) + rng.uniform(-0.35, 0.35, (m, vertices))
        )
        factor = 1.02 + rng.normal(0, _JITTER, (m, vertices))
        for h in range(_HARMONICS):
            factor += coef[sl, 0, h, None] * np.cos((h + 1) * theta)
            factor += coef[sl, 1, h, None] * np.sin((h + 1) * theta)
        bulge = np.maximum(np.cos(theta - front[sl, None]), 0) ** 6
        factor += np.where(advance[sl, None], _ADVANCE * bulge, 0)
        np.clip(factor, 0.5, 1.5, out=factor)
        cos, sin = np.cos(theta), np.sin(theta)
        hx, hy = half[cell[sl], 0, None], half[cell[sl], 1, None]
        # distance from the centre to the cell's edge in direction theta
        edge = np.minimum(hx / np.maximum(np.abs(cos), 1e-12), hy / np.maximum(np.abs(sin), 1e-12))
        radius = edge * factor
        ring = np.empty((m, vertices + 1, 2))
        ring[:, :-1, 0] = centre[cell[sl], 0, None] + radius * cos
        ring[:, :-1, 1] = centre[cell[sl], 1, None] + radius * sin
        ring[:, -1] = ring[:, 0]
        out[sl] = shapely.polygons(ring)
        if progress is not None:
            progress(sl.stop, len(cell))
    return out
