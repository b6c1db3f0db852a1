"""The control history of the place clicked on the map, under the map.

A click on a control area (the map reports the clicked point and the area's tooltip)
opens the history of that point over the whole layer (``dashboard.history``): who held
it, from when to when, and the change-of-control events near it with their sources. It
stays open while the date moves (it does not depend on the date) until closed or
replaced by another click.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import paths, schema
from dashboard.app.loaders import Dataset
from dashboard.app.safetext import TABLE_CELL_MAX_CHARS, blank_missing, md
from dashboard.history import NO_AREA, History, control_history
from dashboard.layers.areas import TOOLTIP_FIELDS

#: What the map reports of a click (``st_folium``'s returned objects).
CLICK_OBJECTS = ("last_object_clicked", "last_object_clicked_tooltip", "last_object_clicked_count")
K_HISTORY = "control_history"  # the History shown, with its point (or None)
K_CLICKS_SEEN = "control_history_clicks"  # the map's click count already acted on
#: Headings of the events listed (``dashboard.history.EVENT_COLUMNS``).
EVENT_HEADINGS = {
    schema.EVENT_DATE: "Date",
    "distance_km": "km",
    schema.SUB_EVENT_TYPE: "What",
    schema.ACTOR1: "Actor 1",
    schema.ACTOR2: "Actor 2",
    schema.LOCATION: "Place",
    schema.EVENT_ID: "Event id",
    schema.SOURCE: "Source",
}
#: A town within this distance names the point ("near Mosul, 1.1 km").
NEAR_TOWN_KM = 15.0
#: The first words of a control area's tooltip: a click on anything else is not an area.
_AREA_TOOLTIP = TOOLTIP_FIELDS[0][1]


@dataclass(frozen=True)
class Shown:
    """A history on show: the dataset it was asked of, where, and the answer."""

    dataset: str
    latitude: float
    longitude: float
    place: str
    history: History


def clicked_area(map_state: Mapping[str, Any] | None) -> tuple[int, float, float] | None:
    """(click count, lat, lon) of the map's last click on a control area, or None.

    The map keeps its last click in every report; the count tells a new click from the
    same one reported again with a later pan or zoom.
    """
    if not isinstance(map_state, Mapping):
        return None
    point = map_state.get("last_object_clicked")
    tooltip = str(map_state.get("last_object_clicked_tooltip") or "")
    count = map_state.get("last_object_clicked_count")
    if not isinstance(point, Mapping) or not tooltip.lstrip().startswith(_AREA_TOOLTIP):
        return None
    try:
        lat, lon, n = float(point["lat"]), float(point["lng"]), int(count or 0)
    except (KeyError, TypeError, ValueError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    # Leaflet reports longitudes past 180 when the world is panned round.
    lon = (lon + 180.0) % 360.0 - 180.0
    return n, lat, lon


@st.cache_data(show_spinner=False)
def _towns() -> pd.DataFrame:
    from dashboard.compare import read_towns

    return read_towns(paths.BUNDLED_TOWNS)


def nearest_town(lat: float, lon: float) -> str:
    """ "near Mosul (1.1 km)" for the nearest bundled town within 15 km, else ""."""
    from dashboard.gazetteer import distances_km

    towns = _towns()
    if not len(towns):
        return ""
    km = distances_km(
        towns[schema.LATITUDE].to_numpy(float), towns[schema.LONGITUDE].to_numpy(float), lat, lon
    )
    i = int(km.argmin())
    if km[i] > NEAR_TOWN_KM:
        return ""
    return f"near {towns['name'].iloc[i]} ({km[i]:.1f} km)"


def update_from_map(ds: Dataset, map_state: Mapping[str, Any] | None) -> None:
    """Open the history of a new click on a control area (and remember the click)."""
    ss = st.session_state
    click = clicked_area(map_state)
    if click is None:
        return
    count, lat, lon = click
    if ss.get(K_CLICKS_SEEN) == count:
        return
    ss[K_CLICKS_SEEN] = count
    events = ds.events if ds.store is None else None
    history = control_history(ds.areas, lat, lon, events=events)
    ss[K_HISTORY] = Shown(ds.key, lat, lon, nearest_town(lat, lon), history)


def history_panel(ds: Dataset) -> None:
    """The history on show, if any, with a button that closes it."""
    ss = st.session_state
    shown: Shown | None = ss.get(K_HISTORY)
    if shown is None or shown.dataset != ds.key:
        return
    with st.container(key="control-history", border=True):
        head, close = st.columns([6, 1])
        place = f", {shown.place}" if shown.place else ""
        head.markdown(
            "**Control history here**: " + md(f"{shown.latitude:.4f}, {shown.longitude:.4f}{place}")
        )
        close.button("Close", key="control-history-close", on_click=_close)
        _spans(shown.history)
        _events(shown.history, ds)


def _literal(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as text that ``st.table`` (which reads Markdown) shows literally; missing
    values blank, long ones cut."""
    out = blank_missing(frame)
    return out.map(lambda v: md(v, limit=TABLE_CELL_MAX_CHARS) if isinstance(v, str) else v)


def _close() -> None:
    st.session_state[K_HISTORY] = None


def _spans(history: History) -> None:
    rows = []
    for span in history.spans:
        who = "no control area covers the point" if span.controller == NO_AREA else span.controller
        if len(span.claimants) > 1:
            who += f" ({', '.join(span.claimants)})"
        rows.append(
            {
                "From": span.start.isoformat(),
                "To": span.end.isoformat() if span.end else "(no end)",
                "Days": span.days,
                "Held by": who,
                "Source": span.source_text(),
            }
        )
    frame = pd.DataFrame(rows, columns=["From", "To", "Days", "Held by", "Source"])
    changes = history.changes
    holders = history.holders()
    summary = (
        f"{changes} change{'s' if changes != 1 else ''} of controller"
        + (f"; held by {', '.join(holders)}" if holders else "; no controller held it alone")
        + ". Consecutive versions of the layer that agree are one line."
    )
    st.caption(md(summary))
    # A plain table (in the page's text, wrapping): a few lines, read whole.
    st.table(_literal(frame).set_index("From"))
    if history.carried_forward_after is not None:
        st.caption(
            md(
                f"After {history.carried_forward_after.isoformat()} (the layer's last change) "
                "the last line is the map carried forward, not observed."
            )
        )


def _events(history: History, ds: Dataset) -> None:
    if ds.store is not None:
        st.caption(
            "With a database the events near the point are not listed here; the events "
            "table lists the window's events inside the map."
        )
        return
    listed = history.events
    lead = (
        f"Change-of-control events within {history.radius_km:g} km: {len(listed)} "
        f"(of {history.events_near:,} events of any type there)"
    )
    if history.events_without_position:
        lead += f"; {history.events_without_position:,} events have no position and are not counted"
    st.caption(md(lead))
    if not len(listed):
        return
    frame = listed.copy()
    if schema.EVENT_DATE in frame:
        frame[schema.EVENT_DATE] = pd.to_datetime(frame[schema.EVENT_DATE]).dt.strftime("%Y-%m-%d")
    if "distance_km" in frame:
        frame["distance_km"] = frame["distance_km"].map(lambda km: f"{km:.1f}")
    frame = _literal(frame.rename(columns=EVENT_HEADINGS))
    st.table(frame.set_index(EVENT_HEADINGS[schema.EVENT_DATE]))
