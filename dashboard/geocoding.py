"""Coordinates for the rows of an events table that have none, from their place name,
offline.

:func:`geocode_events` looks each distinct (location, country, admin1) up once in a
:class:`~dashboard.gazetteer.Gazetteer` (whose module holds the matching rules: the tiers,
the admin1 narrowing and the tie-breaks) and writes the answer to every row that shares it:
coordinates, ``geo_precision``, the method and score, and for a row left without a place
the reason and the candidates. Rows that already have usable coordinates are kept as given.
:func:`geocode_need` and :func:`default_gazetteer` are the steps a partitioned build runs
on each partition.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeGuard, cast

import numpy as np
import pandas as pd

from dashboard import schema
from dashboard.errors import SchemaError
from dashboard.gazetteer import (
    AMBIGUOUS,
    DEFAULT_THRESHOLD,
    FUZZY_WITHOUT_COUNTRY_MAX,
    GIVEN,
    UNMATCHED,
    Gazetteer,
    admin1_codes,
    admin1_name,
    country_code,
    country_codes,
    load_gazetteer,
)
from dashboard.report import WARNING, Problem
from dashboard.textnorm import normalise_name

ADMIN1_NOTES_MAX = 20
"""At most this many unresolved admin1 names get a note each; the rest share one."""


@dataclass
class GeocodeResult:
    """What :func:`geocode_events` returns.

    Attributes
    ----------
    events
        A new frame, same rows and order as the input, coordinates filled where matched, plus
        ``geocode_method``, ``geocode_score`` and ``geocode_match``.
    counts
        Number of rows per method, every method of ``schema.GEOCODE_METHODS`` present.
    unmatched
        The ``unmatched`` and ``ambiguous`` rows (input index kept): ``source_row`` when the
        input has it, location, country, admin1, method, reason and candidates.
    notes
        Warnings about the run as a whole (the whole-world gazetteer had to be loaded).
    """

    events: pd.DataFrame
    counts: dict[str, int]
    unmatched: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list[Problem] = field(default_factory=list)
    admin1_given: pd.Series = field(default_factory=lambda: pd.Series([], dtype="int64"))
    """:func:`admin1_counts` of the rows geocoded by name (behind the admin1 notes)."""

    def problems(self) -> list[Problem]:
        """The notes, then the unmatched and ambiguous rows as warnings (row = ``source_row``)."""
        out: list[Problem] = list(self.notes)
        has_row = schema.SOURCE_ROW in self.unmatched.columns
        for idx, rec in self.unmatched.iterrows():
            row = rec[schema.SOURCE_ROW] if has_row else idx
            message = str(rec[schema.GEOCODE_REASON])
            if rec[schema.GEOCODE_CANDIDATES]:
                message += f"; candidates: {rec[schema.GEOCODE_CANDIDATES]}"
            out.append(
                Problem(
                    row=int(row) if _is_int_like(row) else None,
                    column=schema.LOCATION,
                    value=rec[schema.LOCATION],
                    message=message,
                    severity=WARNING,
                )
            )
        return out


def geocode_events(
    events: pd.DataFrame,
    *,
    gazetteer: Gazetteer | None = None,
    countries: Iterable[str] | None = None,
    fallback_countries: Iterable[str] = (),
    threshold: float = DEFAULT_THRESHOLD,
    progress: Callable[[int], None] | None = None,
) -> GeocodeResult:
    """Fill the coordinates of rows that have none from their location name.

    Each distinct (location, country, admin1) is looked up once and the answer mapped back
    to its rows. Rows with both coordinates are ``given`` and left as they are.

    Parameters
    ----------
    events
        Canonical events; ``location`` is needed when some row lacks coordinates,
        ``country`` and ``admin1`` are used when present. Not modified.
    gazetteer
        Defaults to :func:`load_gazetteer` for ``countries``, else for the countries named
        in the rows to geocode; loaded only when some row needs it. When no country is
        recognised the whole world is loaded (~20 s, ~1.2 GB) and ``notes`` says so.
    countries
        Country names or ISO codes to restrict the default gazetteer to (``["Syria",
        "IQ"]``); rows of other countries stay unmatched. ``None`` or empty: the rows'
        countries. Ignored when ``gazetteer`` is given.
    fallback_countries
        Where names are looked up when neither ``countries`` nor the rows name a recognised
        country (the control areas' countries); ``notes`` says so. Empty: the whole world.
    threshold
        Minimum fuzzy score, 0-100 (:data:`DEFAULT_THRESHOLD`).
    progress
        Called with the number of rows done so far (given rows first, then as names
        resolve, finally ``len(events)``).

    Returns
    -------
    GeocodeResult
        The new frame, counts by method, and the unmatched / ambiguous rows.

    Raises
    ------
    SchemaError
        Some rows lack coordinates and there is no ``location`` column, or a name in
        ``countries`` is not a recognised country.
    """
    out = events.copy()
    n = len(out)
    lat = _numeric(out, schema.LATITUDE)
    lon = _numeric(out, schema.LONGITUDE)
    todo = np.isnan(lat) | np.isnan(lon)
    if todo.any() and schema.LOCATION not in out.columns:
        raise SchemaError(
            f"{int(todo.sum())} rows have no coordinates and there is no "
            f"{schema.LOCATION!r} column to geocode them from"
        )
    method = np.where(todo, UNMATCHED, GIVEN).astype(object)
    score = np.full(n, np.nan)
    matched_name = np.full(n, None, dtype=object)
    reason = np.full(n, "", dtype=object)
    candidates = np.full(n, "", dtype=object)
    new_lat, new_lon, new_prec = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    if progress is not None:
        progress(int((~todo).sum()))

    rows = np.flatnonzero(todo)
    notes: list[Problem] = []
    given = pd.Series([], dtype="int64")
    if rows.size:
        keys = _key_frame(out, rows)
        codes, uniques = pd.factorize(pd.MultiIndex.from_frame(keys))
        if gazetteer is None:
            gazetteer, notes = default_gazetteer(
                countries, keys[schema.COUNTRY], rows.size, fallback=fallback_countries
            )
        # pandas-stubs types factorize's uniques as a plain Index; of a MultiIndex they
        # are a MultiIndex (one (location, country, admin1) tuple each).
        answers = _resolve_distinct(
            gazetteer, cast(pd.MultiIndex, uniques), codes, threshold, progress, done=n - rows.size
        )
        given = admin1_counts(keys)
        notes = notes + admin1_notes(given)
        for field_, values in (
            ("method", method),
            ("score", score),
            ("name", matched_name),
            ("reason", reason),
            ("candidates", candidates),
            ("lat", new_lat),
            ("lon", new_lon),
            ("prec", new_prec),
        ):
            values[rows] = answers[field_][codes]

    _write_coordinates(out, new_lat, new_lon, new_prec)
    out[schema.GEOCODE_METHOD] = pd.Series(method, index=out.index, dtype="str")
    out[schema.GEOCODE_SCORE] = pd.Series(score, index=out.index, dtype="float64")
    out[schema.GEOCODE_MATCH] = pd.Series(matched_name, index=out.index, dtype="str")
    if progress is not None:
        progress(n)
    counts = {m: int((method == m).sum()) for m in schema.GEOCODE_METHODS}
    return GeocodeResult(
        events=out,
        counts=counts,
        unmatched=_unmatched_frame(out, method, reason, candidates),
        notes=notes,
        admin1_given=given,
    )


def default_gazetteer(
    countries: Iterable[str] | None,
    row_countries: pd.Series,
    n_rows: int,
    *,
    fallback: Iterable[str] = (),
) -> tuple[Gazetteer, list[Problem]]:
    """The gazetteer of the asked countries, else of the rows' countries, else of the
    ``fallback`` countries (with a note), else of the world (with a note)."""
    asked = [c for c in countries or () if isinstance(c, str) and c.strip()]
    if asked:
        unknown = [c for c in asked if country_code(c) is None]
        if unknown:
            raise SchemaError(
                f"country {unknown[0]!r} is not a recognised country name or ISO code "
                "(e.g. 'Syria', 'SY', 'SYR')"
            )
        return load_gazetteer(countries=asked), []
    named = pd.unique(row_countries)
    if country_codes(named) is not None:
        return load_gazetteer(countries=named), []
    shown = ", ".join(repr(c) for c in named[:5] if c) or "none"
    instead = [c for c in fallback if isinstance(c, str) and country_code(c) is not None]
    if instead:
        note = Problem(
            None,
            schema.COUNTRY,
            None,
            f"none of the {n_rows} rows to geocode names a recognised country (found: "
            f"{shown}): names were looked up in the control areas' countries only "
            f"({', '.join(instead)}), so a place elsewhere stays unmatched; add a country "
            "column, or name the countries to search with --country",
            WARNING,
        )
        return load_gazetteer(countries=instead), [note]
    note = Problem(
        None,
        schema.COUNTRY,
        None,
        f"none of the {n_rows} rows to geocode names a recognised country (found: {shown}): "
        "the whole-world gazetteer was loaded (about 20 s and 1.2 GB), names match exactly "
        "only (no fuzzy matching across the world) and a name found in several countries "
        "is ambiguous; add a country column, or name the countries to search with --country",
        WARNING,
    )
    return load_gazetteer(countries=None), [note]


def geocode_need(events: pd.DataFrame) -> tuple[int, np.ndarray | None]:
    """How many rows have no usable coordinates (a place name to look up), and the
    countries those rows name ("" where none), in the order first seen; None when there
    is no location column (the lookup then fails, as :func:`geocode_events` says).

    A partitioned build asks this of each partition to choose one gazetteer for all of
    them, as :func:`geocode_events` chooses it for the whole frame.
    """
    lat = _numeric(events, schema.LATITUDE)
    lon = _numeric(events, schema.LONGITUDE)
    rows = np.flatnonzero(np.isnan(lat) | np.isnan(lon))
    if not rows.size or schema.LOCATION not in events.columns:
        return int(rows.size), None
    keys = _key_frame(events, rows)
    # As an object array: pd.unique of the (str dtype) column would be a pandas string
    # array, not the ndarray this returns.
    return int(rows.size), pd.unique(keys[schema.COUNTRY].to_numpy(dtype=object))


def _numeric(frame: pd.DataFrame, column: str) -> np.ndarray:
    """A coordinate column as float64 (NaN when absent or not a number)."""
    if column not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _key_frame(frame: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """(location, country, admin1) of the rows to geocode, missing as ""."""
    cols = {}
    for col in (schema.LOCATION, schema.COUNTRY, schema.ADMIN1):
        if col in frame.columns:
            values = frame[col].iloc[rows]
            cols[col] = values.where(values.notna(), "").astype(str).to_numpy(dtype=object)
        else:
            cols[col] = np.full(rows.size, "", dtype=object)
    return pd.DataFrame(cols)


def _resolve_distinct(
    gazetteer: Gazetteer,
    uniques: pd.MultiIndex,
    codes: np.ndarray,
    threshold: float,
    progress: Callable[[int], None] | None,
    *,
    done: int,
) -> dict[str, np.ndarray]:
    """Look up every distinct key once; per-key answer arrays, indexed like ``uniques``."""
    k = len(uniques)
    ans = {
        "method": np.full(k, UNMATCHED, dtype=object),
        "score": np.full(k, np.nan),
        "name": np.full(k, None, dtype=object),
        "reason": np.full(k, "", dtype=object),
        "candidates": np.full(k, "", dtype=object),
        "lat": np.full(k, np.nan),
        "lon": np.full(k, np.nan),
        "prec": np.full(k, np.nan),
    }
    sizes = np.bincount(codes, minlength=k)
    step = max(1, k // 100)
    for j, (location, country, admin1) in enumerate(uniques):
        match = gazetteer.lookup(location, country=country, admin1=admin1, threshold=threshold)
        if match is None:
            ans["reason"][j], ans["candidates"][j] = _unmatched_reason(
                gazetteer, location, country, admin1, threshold
            )
        elif match.place is None:
            ans["method"][j] = AMBIGUOUS
            ans["score"][j] = match.score
            ans["reason"][j] = f"{len(match.candidates)} places match and no rule separates them"
            ans["candidates"][j] = "; ".join(p.describe() for p in match.candidates)
        else:
            ans["method"][j] = match.method
            ans["score"][j] = match.score
            ans["name"][j] = match.place.name
            ans["lat"][j] = match.place.latitude
            ans["lon"][j] = match.place.longitude
            ans["prec"][j] = match.place.geo_precision
        done += int(sizes[j])
        if progress is not None and (j % step == step - 1 or j == k - 1):
            progress(done)
    return ans


def _unmatched_reason(
    gazetteer: Gazetteer, location: str, country: str, admin1: str, threshold: float
) -> tuple[str, str]:
    """Why a (location, country, admin1) found no place, in words, and the places refused."""
    if not normalise_name(location):
        return "no location name", ""
    cc = country_code(country)
    if cc is not None and cc not in gazetteer.countries:
        return f"country {cc} is not in the loaded gazetteer", ""
    where = cc or "any loaded country"
    if country and cc is None:
        where = f"any loaded country (country {country!r} not recognised)"
    codes = admin1_codes(admin1, country=cc)
    if codes:
        elsewhere = gazetteer.lookup(location, country=country, threshold=threshold)
        if elsewhere is not None:
            refused = gazetteer.places_named(location, country=country) or (
                elsewhere.candidates or (elsewhere.place,)
            )
            names = ", ".join(dict.fromkeys(p.name for p in refused if p is not None))
            return (
                f"only matches outside admin1 {admin1!r} ({_units(codes)}): {names} refused",
                "; ".join(p.describe() for p in refused if p is not None),
            )
    if cc is None and len(gazetteer.countries) > FUZZY_WITHOUT_COUNTRY_MAX:
        return (
            f"no exact or alias match in {where}; fuzzy matching needs the row's country "
            f"when {len(gazetteer.countries)} countries are loaded"
        ), ""
    return f"no gazetteer name scores >= {threshold:g} in {where}", ""


def _units(codes: Iterable[tuple[str, str]]) -> str:
    """``GeoNames UA.05 Donetsk`` for each unit, for messages."""
    labels = (f"{cc}.{code} {admin1_name(cc, code) or ''}".rstrip() for cc, code in sorted(codes))
    return "GeoNames " + ", ".join(labels)


def admin1_counts(keys: pd.DataFrame) -> pd.Series:
    """Rows per (country, admin1) among rows geocoded by name that give an admin1.

    ``keys`` has ``country`` and ``admin1`` ("" if missing). The counts of several
    partitions add up (``pd.concat(...).groupby(level=[0, 1], sort=False).sum()``), so a
    partitioned build states the same :func:`admin1_notes` as a single one.
    """
    given = keys[keys[schema.ADMIN1].str.strip() != ""]
    if given.empty:
        return pd.Series([], dtype="int64")
    return given.groupby([schema.COUNTRY, schema.ADMIN1], sort=False).size()


def admin1_notes(counts: pd.Series, *, limit: int = ADMIN1_NOTES_MAX) -> list[Problem]:
    """Warnings for the rows whose admin1 names no known unit (their matches are unchecked).

    Parameters
    ----------
    counts
        :func:`admin1_counts`: rows per (country, admin1).
    limit
        At most this many names get a note each; the others are counted in one more.

    Returns
    -------
    list of Problem
        One warning per (country, admin1) not resolved by :func:`admin1_codes`, most rows
        first, with its row count.
    """
    if counts.empty:
        return []
    ranked = counts.sort_values(ascending=False, kind="stable")
    pairs = zip(  # the index levels: each row's country and admin1
        ranked.index.get_level_values(0), ranked.index.get_level_values(1), ranked, strict=True
    )
    unknown = [
        (country, admin1, int(n))
        for country, admin1, n in pairs
        if not admin1_codes(admin1, country=country_code(country))
    ]
    notes = [
        Problem(
            None,
            schema.ADMIN1,
            admin1,
            f"admin1 {admin1!r} ({n} rows, country {country or 'not given'}) is not a "
            "first-level unit the gazetteer knows (geodata/admin1_names.csv): these rows "
            "were matched anywhere in their country, not checked against it",
            WARNING,
        )
        for country, admin1, n in unknown[:limit]
    ]
    rest = unknown[limit:]
    if rest:
        notes.append(
            Problem(
                None,
                schema.ADMIN1,
                None,
                f"{len(rest)} more admin1 names ({sum(n for *_, n in rest)} rows) are not "
                "known units either: those rows were not checked against their admin1",
                WARNING,
            )
        )
    return notes


def _write_coordinates(
    out: pd.DataFrame, lat: np.ndarray, lon: np.ndarray, precision: np.ndarray
) -> None:
    """Write matched coordinates, and precision where the row has none, into ``out``."""
    found = ~np.isnan(lat)
    for col, values in ((schema.LATITUDE, lat), (schema.LONGITUDE, lon)):
        if col not in out.columns:
            out[col] = np.nan
        if found.any():
            out.loc[found, col] = values[found]
    if schema.GEO_PRECISION not in out.columns:
        out[schema.GEO_PRECISION] = pd.Series(pd.NA, index=out.index, dtype="Int64")
    current = out[schema.GEO_PRECISION]
    fill = found & current.isna().to_numpy()
    if fill.any():
        out.loc[fill, schema.GEO_PRECISION] = precision[fill].astype("int64")


def _unmatched_frame(
    out: pd.DataFrame, method: np.ndarray, reason: np.ndarray, candidates: np.ndarray
) -> pd.DataFrame:
    mask = (method == UNMATCHED) | (method == AMBIGUOUS)
    cols = [
        c
        for c in (schema.SOURCE_ROW, schema.LOCATION, schema.COUNTRY, schema.ADMIN1)
        if c in out.columns
    ]
    frame = out.loc[mask, cols].copy()
    frame[schema.GEOCODE_METHOD] = method[mask]
    frame[schema.GEOCODE_REASON] = reason[mask]
    frame[schema.GEOCODE_CANDIDATES] = candidates[mask]
    return frame


def _is_int_like(value: object) -> TypeGuard[int | float | np.integer | np.floating]:
    """Whether a row label is a whole number (an int, or a float such as 3.0)."""
    if isinstance(value, (int, np.integer)):
        return True
    return isinstance(value, (float, np.floating)) and float(value).is_integer()
