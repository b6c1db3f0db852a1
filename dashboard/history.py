"""Who held one place, and when: the control history of a point over the whole layer.

The control layer is a series of polygon versions, each valid ``valid_from <= day <
valid_to``. A version's dates say when *that polygon* was drawn and replaced, which for a
country-wide polygon is the date of a change anywhere in the country: "valid 2017-11-03 to
2017-11-16" on a polygon holding Mosul does not mean Mosul changed hands then. The history
of a point asks the layer the question the analyst has: which controller held the ground
under this point on each day, and merges the days where the answer stays the same, however
many versions the layer drew over them.

Each day of the layer's period gets one answer:

* a controller, when every version covering the point that day names it;
* ``Contested`` when the versions covering the point name several controllers (or name
  ``Contested``): the layer does not say who held it, as on the map;
* ``no area`` when no version covers the point that day (a gap in the layer, or ground it
  does not map): not a controller, and said as such.

After the layer's last change the open-ended versions are the map carried forward, not
observed; the history says so (:attr:`History.carried_forward_after`).

The change-of-control events near the point (ACLED's sub-event types that record a
capture, :data:`dashboard.changecheck.TERRITORY_SUB_EVENT_TYPES`) are listed beside the
spans, with their distance, dates, actors and sources: the evidence for each change, or its
absence.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from dashboard import schema
from dashboard.areas import last_change
from dashboard.changecheck import TERRITORY_SUB_EVENT_TYPES
from dashboard.errors import HistoryError
from dashboard.gazetteer import distances_km

__all__ = [
    "DEFAULT_RADIUS_KM",
    "NO_AREA",
    "History",
    "HistoryError",
    "Span",
    "control_history",
]

#: The answer for days on which no control area covers the point.
NO_AREA = "no area"
#: How far from the point a change-of-control event is listed, in km.
DEFAULT_RADIUS_KM = 10.0
#: Columns of the events listed, when the events have them (in this order).
EVENT_COLUMNS: tuple[str, ...] = (
    "event_date",
    "distance_km",
    "sub_event_type",
    "actor1",
    "actor2",
    "location",
    "event_id",
    "source",
)


@dataclass(frozen=True)
class Span:
    """Days over which the point had one answer.

    ``end`` is the last day (inclusive); None when the span is open-ended (the layer's
    newest versions, carried forward with no end date).
    """

    controller: str
    """A controller, ``Contested``, or :data:`NO_AREA`."""
    start: dt.date
    end: dt.date | None
    claimants: tuple[str, ...] = ()
    """The controllers of the versions covering the point (several when contested)."""
    versions: int = 0
    """How many polygon versions the layer drew over the point in the span."""
    sources: tuple[str, ...] = ()
    """Where those versions come from: a file's feature, a table's row, a locality's row."""

    @property
    def days(self) -> int | None:
        """Days in the span, both ends included; None when open-ended."""
        return None if self.end is None else (self.end - self.start).days + 1

    def source_text(self, most: int = 2) -> str:
        """The sources in a line: the first ``most``, then how many more."""
        shown = "; ".join(self.sources[:most])
        more = len(self.sources) - most
        return shown + (f"; and {more} more" if more > 0 else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "controller": self.controller,
            "start": self.start.isoformat(),
            "end": self.end.isoformat() if self.end else None,
            "days": self.days,
            "claimants": list(self.claimants),
            "versions": self.versions,
            "sources": list(self.sources),
        }


@dataclass(frozen=True)
class History:
    """The control history of one point (:func:`control_history`)."""

    latitude: float
    longitude: float
    spans: tuple[Span, ...]
    first_day: dt.date | None
    """The layer's first date (its earliest ``valid_from``)."""
    last_day: dt.date | None
    """The layer's last day when every version ends; None when the newest hold on."""
    carried_forward_after: dt.date | None
    """The layer's last change when its newest versions are open-ended, else None."""
    events: pd.DataFrame = field(default_factory=pd.DataFrame)
    """Change-of-control events within :attr:`radius_km`, oldest first."""
    radius_km: float = DEFAULT_RADIUS_KM
    events_near: int = 0
    """Events of any type within :attr:`radius_km` (with a position)."""
    events_without_position: int = 0
    """Events left out of the distance test: they have no coordinates."""

    @property
    def changes(self) -> int:
        """How many times the answer changed between two spans of a controller."""
        held = [s.controller for s in self.spans if s.controller != NO_AREA]
        return sum(1 for a, b in itertools.pairwise(held) if a != b)

    def holders(self) -> list[str]:
        """The controllers that held the point alone at some time, in order of first
        holding."""
        seen: dict[str, None] = {}
        for span in self.spans:
            if span.controller not in (NO_AREA, schema.CONTESTED):
                seen.setdefault(span.controller)
        return list(seen)

    def span_table(self) -> pd.DataFrame:
        """The spans as a table (start, end, days, controller, claimants, versions)."""
        rows = [
            {
                "start": s.start.isoformat(),
                "end": s.end.isoformat() if s.end else "",
                "days": s.days if s.days is not None else "",
                "controller": s.controller,
                "claimants": "; ".join(s.claimants),
                "versions": s.versions,
                "sources": "; ".join(s.sources),
            }
            for s in self.spans
        ]
        columns = ["start", "end", "days", "controller", "claimants", "versions", "sources"]
        return pd.DataFrame(rows, columns=columns)

    def to_dict(self) -> dict[str, Any]:
        from dashboard.report import json_records

        return {
            "latitude": self.latitude,
            "longitude": self.longitude,
            "first_day": self.first_day.isoformat() if self.first_day else None,
            "last_day": self.last_day.isoformat() if self.last_day else None,
            "carried_forward_after": (
                self.carried_forward_after.isoformat() if self.carried_forward_after else None
            ),
            "spans": [s.to_dict() for s in self.spans],
            "changes_of_controller": self.changes,
            "radius_km": self.radius_km,
            "change_events": json_records(self.events),
            "events_within_radius": self.events_near,
            "events_without_position": self.events_without_position,
        }


def control_history(
    areas: gpd.GeoDataFrame,
    latitude: float,
    longitude: float,
    *,
    events: pd.DataFrame | None = None,
    radius_km: float = DEFAULT_RADIUS_KM,
) -> History:
    """The control history of the point (``latitude``, ``longitude``) over the whole layer.

    Parameters
    ----------
    areas
        Control-area versions in EPSG:4326 (:func:`dashboard.areas.read_control_areas`).
    latitude, longitude
        The point, in degrees.
    events
        Events with ``latitude``, ``longitude``, ``event_date`` and ``sub_event_type``
        (a built dataset's events); None: no events listed.
    radius_km
        How far from the point change-of-control events are listed.

    Returns
    -------
    History
        Spans from the layer's first date to its last, consecutive days with the same
        answer merged; a point no version ever covers has one :data:`NO_AREA` span.

    Raises
    ------
    HistoryError
        The point is not on the globe, the radius is not a positive number, or the layer
        has no dated version.
    """
    _check_point(latitude, longitude)
    if not (math.isfinite(radius_km) and radius_km > 0):
        raise HistoryError(f"the radius must be a positive number of km, not {radius_km!r}")
    if areas.crs is not None and not areas.crs.equals("EPSG:4326"):
        areas = areas.to_crs("EPSG:4326")
    start = pd.to_datetime(areas[schema.VALID_FROM]).dt.normalize()
    end = pd.to_datetime(areas[schema.VALID_TO]).dt.normalize()
    known = pd.concat([start, end]).dropna()
    if not len(known):
        raise HistoryError("the control areas have no dates: no history can be told")
    first, newest = known.min(), known.max()
    open_ended = bool(end.isna().any())
    # NaT from: "since always", i.e. from the layer's first date for this question.
    start = start.fillna(first)

    geoms = areas.geometry.array
    point = shapely.Point(longitude, latitude)
    present = ~(pd.isna(geoms) | shapely.is_empty(geoms))
    covering = np.zeros(len(areas), dtype=bool)
    covering[present] = shapely.covers(geoms[present], point)

    # Every day on which some version starts or ends splits the period; between two
    # splits the set of versions valid (and covering the point) does not change.
    last_split = newest + pd.Timedelta(days=1) if open_ended else newest
    splits = sorted({first, last_split, *start[covering], *end[covering].dropna()})
    splits = [d for d in splits if first <= d <= last_split]
    controllers = areas[schema.CONTROLLER].to_numpy()
    provenance = _provenance(areas)
    pieces: list[Span] = []
    cov_idx = np.flatnonzero(covering)
    cov_start = start.to_numpy()[cov_idx]
    cov_end = end.to_numpy()[cov_idx]
    for a, b in itertools.pairwise(splits):
        day = np.datetime64(a)
        on = (cov_start <= day) & (np.isnat(cov_end) | (day < cov_end))
        valid = cov_idx[on]
        claimants = tuple(sorted({_name(controllers[i]) for i in valid}))
        if len(claimants) > 1:
            claimants = tuple(c for c in claimants if c != schema.NO_INFORMATION)
        answer = _answer(claimants)
        last_day = (b - pd.Timedelta(days=1)).date()
        sources = tuple(dict.fromkeys(provenance[i] for i in valid if provenance[i]))
        pieces.append(Span(answer, a.date(), last_day, claimants, len(valid), sources))
    spans = _merged(pieces)
    if open_ended and spans:
        tail = spans[-1]
        # The newest versions hold on: the last span has no end (unless nothing covers it).
        spans[-1] = Span(
            tail.controller, tail.start, None, tail.claimants, tail.versions, tail.sources
        )
    near, n_near, n_unplaced = _change_events(events, latitude, longitude, radius_km)
    return History(
        latitude=float(latitude),
        longitude=float(longitude),
        spans=tuple(spans),
        first_day=first.date(),
        last_day=None if open_ended else (newest - pd.Timedelta(days=1)).date(),
        carried_forward_after=last_change(areas) if open_ended else None,
        events=near,
        radius_km=float(radius_km),
        events_near=n_near,
        events_without_position=n_unplaced,
    )


def _provenance(areas: pd.DataFrame) -> list[str]:
    """Each version's source line (``area_provenance``), else its file, else ""."""
    for column in (schema.AREA_PROVENANCE, schema.AREA_SOURCE):
        if column in areas:
            return ["" if pd.isna(v) else str(v) for v in areas[column]]
    return [""] * len(areas)


def _check_point(latitude: float, longitude: float) -> None:
    for value, name, limit in ((latitude, "latitude", 90), (longitude, "longitude", 180)):
        if not (isinstance(value, int | float) and math.isfinite(value)):
            raise HistoryError(f"the {name} must be a number, not {value!r}")
        if abs(value) > limit:
            raise HistoryError(
                f"the {name} {value} is off the globe (it must be within ±{limit}); "
                "give latitude first, then longitude"
            )


def _name(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return schema.UNKNOWN
    text = str(value).strip()
    return text or schema.UNKNOWN


def _answer(claimants: Sequence[str]) -> str:
    if not claimants:
        return NO_AREA
    if len(claimants) > 1 or claimants[0] == schema.CONTESTED:
        return schema.CONTESTED
    return claimants[0]


def _merged(pieces: list[Span]) -> list[Span]:
    """Consecutive pieces with the same answer and claimants, as one span."""
    out: list[Span] = []
    for piece in pieces:
        if out and out[-1].controller == piece.controller and out[-1].claimants == piece.claimants:
            prev = out[-1]
            out[-1] = Span(
                prev.controller,
                prev.start,
                piece.end,
                prev.claimants,
                prev.versions + piece.versions,
                tuple(dict.fromkeys(prev.sources + piece.sources)),
            )
        else:
            out.append(piece)
    return out


def _coordinate(events: pd.DataFrame, column: str) -> np.ndarray:
    """A coordinate column as floats: NaN where missing, everywhere without the column."""
    values = events.get(column)
    if values is None:
        return np.full(len(events), np.nan)
    return pd.to_numeric(values, errors="coerce").to_numpy(float)


def _change_events(
    events: pd.DataFrame | None, latitude: float, longitude: float, radius_km: float
) -> tuple[pd.DataFrame, int, int]:
    """(change-of-control events within the radius, oldest first; events of any type
    within it; events without coordinates)."""
    empty = pd.DataFrame(columns=list(EVENT_COLUMNS))
    if events is None or not len(events):
        return empty, 0, 0
    lat, lon = _coordinate(events, schema.LATITUDE), _coordinate(events, schema.LONGITUDE)
    placed = np.isfinite(lat) & np.isfinite(lon)
    distance = np.full(len(events), np.inf)
    distance[placed] = distances_km(lat[placed], lon[placed], latitude, longitude)
    within = distance <= radius_km
    kinds = events.get("sub_event_type")
    change = (
        kinds.astype("string").str.strip().isin(TERRITORY_SUB_EVENT_TYPES).fillna(False).to_numpy()
        if kinds is not None
        else np.zeros(len(events), dtype=bool)
    )
    rows = events.loc[within & change].copy()
    rows["distance_km"] = np.round(distance[within & change], 1)
    columns = [c for c in EVENT_COLUMNS if c in rows.columns]
    rows = rows[columns]
    if "event_date" in rows.columns:
        rows = rows.sort_values(["event_date", "distance_km"], kind="stable")
    return rows.reset_index(drop=True), int(within.sum()), int((~placed).sum())


@dataclass(frozen=True)
class PlaceAnswer:
    """What a place name gives (:func:`find_place`): a place, or why none is taken."""

    where: str
    """The countries searched, in words ("Iraq or Syria", or "the whole gazetteer")."""
    place: Any = None
    """The :class:`dashboard.gazetteer.Match` taken, or None."""
    candidates: tuple[Any, ...] = ()
    """Places the name could mean (:class:`dashboard.gazetteer.Place`), when several."""

    @property
    def how(self) -> str:
        """How sure the match is, in words (a fuzzy match asks to be checked)."""
        match = self.place
        if match is None:
            return ""
        if match.method == "fuzzy":
            return f"matched by spelling, score {match.score:.0f}: check it is the place meant"
        return f"{match.method} match; {match.place.source}"

    def listed(self, most: int = 5) -> str:
        return "; ".join(p.describe() for p in self.candidates[:most])


def find_place(name: str, countries: Sequence[str]) -> PlaceAnswer:
    """The place ``name`` means, in the project's gazetteer for ``countries`` (all loaded
    countries when empty): an ambiguous or unknown name is never guessed.

    Raises
    ------
    DashboardError
        The gazetteer cannot be loaded (its alias table is unreadable or malformed).
    """
    from dashboard.gazetteer import load_gazetteer

    scope = [c for c in countries if str(c).strip()]
    where = " or ".join(scope) if scope else "the whole gazetteer"
    gazetteer = load_gazetteer(countries=scope or None)
    matches = [gazetteer.lookup(name, country=c) for c in scope] or [gazetteer.lookup(name)]
    found = [m for m in matches if m is not None and m.place is not None]
    candidates = [p for m in matches if m is not None for p in m.candidates]
    distinct = {(round(m.latitude, 2), round(m.longitude, 2)) for m in found}
    if candidates or len(distinct) > 1:
        places = candidates + [m.place for m in found]
        return PlaceAnswer(where, candidates=tuple(places))
    return PlaceAnswer(where, place=found[0] if found else None)
