"""Benchmark: geocoding 100k rows by name against a naive per-row fuzzy search.

Run::

    .venv/bin/python benchmarks/bench_geocode.py [--rows 100000 --distinct 3000 --seed 7]

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

This is not a timed test: the machine is shared and noisy, read the ratio.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process, utils

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from dashboard import geocoding, schema  # noqa: E402
from dashboard.geocoding import (  # noqa: E402
    DEFAULT_THRESHOLD,
    Place,
    geocode_events,
    haversine_km,
    load_gazetteer,
)

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
            if not (script.startswith("LATIN") or script.startswith("ARABIC")):
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
        if low.startswith(("al ", "al-")):
            out = out[3:]
        else:
            out = rng.choice(["Al-", "al ", "Al "]) + out
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
    for loc, country in zip(locations, countries):
        choices, owners = by_country[iso[country]]
        hit = process.extractOne(
            loc, choices, scorer=fuzz.WRatio, processor=utils.default_process,
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
    geocoding._cached_gazetteer.cache_clear()  # time a cold load
    geocoding._geonames_places.cache_clear()
    t0 = time.perf_counter()
    gazetteer = load_gazetteer(countries=list(COUNTRIES.values()))
    load_s = time.perf_counter() - t0
    places = list(geocoding._geonames_places(tuple(sorted(COUNTRIES))))

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
        [_score(lat, lon, truth[i]) for (lat, lon), i in zip(naive, sample)]
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


def _cli() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--distinct", type=int, default=3_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--baseline-sample", type=int, default=1_000)
    args = parser.parse_args()
    main(args.rows, args.distinct, args.seed, args.baseline_sample)
    return 0


if __name__ == "__main__":
    sys.exit(_cli())
