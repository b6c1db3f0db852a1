"""The place search above the map: a name in any spelling, Latin or Arabic, flies the map
to the place, marks it, and opens its control history.

Names are looked up in the project's own gazetteer (GeoNames and the alias table, as the
events are geocoded), for the countries of the loaded data. A name that several places
share, or that only a fuzzy match finds, is said so: the reader sees which place was
taken, never a silent guess.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import streamlit as st

from dashboard import schema
from dashboard.app import historypanel
from dashboard.app import session as K
from dashboard.app.loaders import Dataset
from dashboard.app.safetext import md
from dashboard.errors import DashboardError
from dashboard.history import control_history, find_place

K_QUERY = K.K_PLACE  # the box; the permalink's "place"
K_SEARCHED = "place_searched"  # the text last searched (a permalink's is searched on opening)
K_FOUND = "place_found"  # Found | None
K_MESSAGE = "place_message"  # why a search found nothing (or None)
#: The zoom the map flies to: a town and its surroundings.
PLACE_ZOOM = 10
_flights = itertools.count(1)


@dataclass(frozen=True)
class Found:
    """A place found: where, what the gazetteer calls it, and how sure the match is."""

    dataset: str
    query: str
    name: str
    latitude: float
    longitude: float
    how: str
    flight: int
    """Tells one search from the next: the map flies again to a place searched twice."""

    @property
    def center(self) -> tuple[float, float]:
        """Where the map flies to (a nudge far below a metre tells two flights apart)."""
        return (self.latitude + self.flight * 1e-9, self.longitude)


def _countries(ds: Dataset) -> list[str]:
    names: set[str] = set()
    for frame in (ds.events, ds.areas):
        if schema.COUNTRY in frame.columns:
            names |= {str(c).strip() for c in frame[schema.COUNTRY].dropna().unique()}
    names |= set(ds.options.countries)
    return sorted(n for n in names if n)


def find(ds: Dataset, query: str) -> Found | str:
    """The place ``query`` names, or why none is taken (a sentence for the reader)."""
    try:
        answer = find_place(query, _countries(ds))
    except DashboardError as exc:
        return f"The place search cannot run: {exc}"
    if answer.candidates:
        return (
            f"“{query}” names several places in {answer.where}: {answer.listed(4)}. "
            "Click the one meant on the map for its history."
        )
    match = answer.place
    if match is None:
        return (
            f"“{query}” is not in the gazetteer for {answer.where} (GeoNames and the alias table)."
        )
    return Found(
        ds.key,
        query,
        f"{match.place.name}, {match.place.country_code}",
        match.latitude,
        match.longitude,
        answer.how,
        next(_flights),
    )


def _search(ds: Dataset) -> None:
    """The search box's callback (runs before the page)."""
    ss = st.session_state
    query = str(ss.get(K_QUERY) or "").strip()
    ss[K_MESSAGE] = None
    ss[K_SEARCHED] = query
    if not query:
        ss[K_FOUND] = None
        return
    result = find(ds, query)
    if isinstance(result, str):
        ss[K_FOUND] = None
        ss[K_MESSAGE] = result
        return
    ss[K_FOUND] = result
    events = ds.events if ds.store is None else None
    history = control_history(ds.areas, result.latitude, result.longitude, events=events)
    label = f"{result.name} (searched “{result.query}”: {result.how})"
    ss[historypanel.K_HISTORY] = historypanel.Shown(
        ds.key, result.latitude, result.longitude, label, history
    )


def _searched(ds: Dataset) -> None:
    K.mark_interaction()  # while playing, a search does not take a step
    _search(ds)


def search_box(ds: Dataset) -> Found | None:
    """The box and what it found (the map flies there and marks it)."""
    ss = st.session_state
    pending = str(ss.get(K_QUERY) or "").strip()
    if pending and ss.get(K_SEARCHED) != pending:
        _search(ds)  # a place from the permalink: searched as if typed
    st.text_input(
        "Find a place",
        key=K_QUERY,
        label_visibility="collapsed",  # the placeholder says it; the label stays for readers
        placeholder="Find a place: Mosul, الرقة, Abu Kamal…",
        help="Any spelling, Latin or Arabic, from the gazetteer the events are placed with. "
        "The map flies there and the place's control history opens under the map.",
        on_change=_searched,
        args=(ds,),
    )
    message = ss.get(K_MESSAGE)
    if message:
        st.caption(md(message, limit=600))
    found: Found | None = ss.get(K_FOUND)
    if found is None or found.dataset != ds.key:
        return None
    st.caption(md(f"{found.name}: {found.latitude:.4f}, {found.longitude:.4f} ({found.how})"))
    return found
