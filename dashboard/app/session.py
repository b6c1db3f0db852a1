"""Per-session view state: widget keys in ``st.session_state`` <-> :class:`ViewState` <-> URL.

The URL is read once, when a session starts (or when new data is loaded); from then on the
widgets hold the state and every run writes it back to ``st.query_params``. Nothing is kept
in module globals: one server process serves many sessions.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import MutableMapping
from typing import Any

import streamlit as st

from dashboard import viewstate as S
from dashboard.timewindow import WINDOW_PRESETS, Filters, clamp_date

# Widget keys (st.session_state) ---------------------------------------------------------
K_DATE = "w_date"
K_WINDOW_CHOICE = "w_window_choice"  # a preset number of days, or "custom"
K_WINDOW_DAYS = "w_window_days"  # the custom number of days
K_STEP = "w_step"
K_TIMELINE = "w_timeline"
K_PLAY_SPEED = "w_play_speed"
K_TYPES = "w_types"
K_SUBTYPES = "w_subtypes"
K_ACTORS = "w_actors"
K_COUNTRIES = "w_countries"
K_ADMIN1 = "w_admin1"
K_MIN_FAT = "w_min_fatalities"
K_PRECISION = "w_precision"
K_POINTS = "w_points"
K_BASEMAP = "w_basemap"
LAYER_KEYS: dict[str, str] = {name: f"w_layer_{name}" for name in S.LAYERS}

# Other per-session values --------------------------------------------------------------
K_CENTER = "map_center"  # (lat, lon) last reported by the map, or from the URL
K_ZOOM = "map_zoom"
K_PLACE = "place_query"  # the place search box (app/placesearch.py)
K_MAP_INIT = "map_init"  # (center, zoom) the base map is built with; fixed per mount
K_NOTICES = "url_notices"  # list[str] shown once at the top of the page
K_PLAYING = "playing"
K_PLAY = "w_play"  # the Play/Pause button (playbutton.py): its last press
#: Set by the map's report and the place search: the run they start is the reader's, not a
#: Play tick, and must not move the date (a pan while playing took an extra step).
K_INTERACTED = "interacted_while_playing"
K_URL_SENT = "url_sent"  # the query the server last wrote to the browser's URL
#: The date the server moved to (step, Play tick, Pause): the next run shows it and sends it
#: to the browser's slider; otherwise the slider keeps what the user set (view.py).
K_DATE_SET = "date_set_by_server"
K_DATA_KEY = "data_key"  # which dataset the widgets were initialised for
K_RUNS = "diag_page_runs"
K_VIEW_RUNS = "diag_view_runs"

CUSTOM = "custom"
PLAY_SPEEDS: tuple[float, ...] = (0.5, 1.0, 2.0)


def window_choice_for(days: int) -> int | str:
    return days if days in WINDOW_PRESETS else CUSTOM


def apply_state(view: S.ViewState, store: MutableMapping[str, Any] | None = None) -> None:
    """Set every widget key from a view state (before the widgets are drawn)."""
    ss: Any = st.session_state if store is None else store
    ss[K_DATE] = view.as_of
    ss[K_WINDOW_CHOICE] = window_choice_for(view.window)
    ss[K_WINDOW_DAYS] = view.window
    ss[K_STEP] = view.step
    ss[K_TIMELINE] = view.timeline
    f = view.filters
    ss[K_TYPES] = list(f.event_types)
    ss[K_SUBTYPES] = list(f.sub_event_types)
    ss[K_ACTORS] = list(f.actors)
    ss[K_COUNTRIES] = list(f.countries)
    ss[K_ADMIN1] = list(f.admin1)
    ss[K_MIN_FAT] = int(f.min_fatalities)
    ss[K_PRECISION] = list(f.precisions) if f.precisions else [1, 2, 3]
    ss[K_POINTS] = view.points
    ss[K_BASEMAP] = view.basemap
    for name, key in LAYER_KEYS.items():
        ss[key] = name in view.layers
    ss[K_CENTER] = view.center
    ss[K_ZOOM] = view.zoom
    ss[K_PLACE] = view.place


def window_days(store: MutableMapping[str, Any] | None = None) -> int:
    ss: Any = st.session_state if store is None else store
    choice = ss.get(K_WINDOW_CHOICE, S.DEFAULT_WINDOW)
    if choice == CUSTOM:
        return int(ss.get(K_WINDOW_DAYS, S.DEFAULT_WINDOW))
    return int(choice)


def current_state(options: S.Options, store: MutableMapping[str, Any] | None = None) -> S.ViewState:
    """The view state the widgets hold now."""
    ss: Any = st.session_state if store is None else store
    as_of = ss.get(K_DATE, options.default_date)
    if not isinstance(as_of, dt.date):
        as_of = options.default_date
    precisions = tuple(sorted(int(p) for p in ss.get(K_PRECISION, []) or []))
    if set(precisions) in (set(), {1, 2, 3}):
        precisions = ()
    center = ss.get(K_CENTER)
    zoom = ss.get(K_ZOOM)
    return S.ViewState(
        as_of=clamp_date(as_of, options.first, options.last),
        window=window_days(ss),
        filters=Filters(
            event_types=tuple(ss.get(K_TYPES, ())),
            sub_event_types=tuple(ss.get(K_SUBTYPES, ())),
            actors=tuple(ss.get(K_ACTORS, ())),
            countries=tuple(ss.get(K_COUNTRIES, ())),
            admin1=tuple(ss.get(K_ADMIN1, ())),
            min_fatalities=int(ss.get(K_MIN_FAT, 0) or 0),
            precisions=precisions,
        ),
        layers=tuple(name for name, key in LAYER_KEYS.items() if ss.get(key, False)),
        points=ss.get(K_POINTS, "auto"),
        basemap=ss.get(K_BASEMAP, "osm"),
        center=tuple(center) if center else None,
        zoom=int(zoom) if zoom else None,
        step=ss.get(K_STEP, "week"),
        timeline=ss.get(K_TIMELINE, "all"),
        place=str(ss.get(K_PLACE) or "").strip(),
    )


def read_query_params() -> dict[str, list[str]]:
    """Every query parameter with all its values."""
    qp = st.query_params
    return {key: qp.get_all(key) for key in qp}


def start(options: S.Options, data_key: str) -> None:
    """Initialise the widgets from the URL once per session (and again for new data).

    A session opened from a permalink reproduces it; bad values fall back to defaults and
    leave a notice for the page to show.
    """
    ss = st.session_state
    ss.setdefault(K_RUNS, 0)
    ss.setdefault(K_VIEW_RUNS, 0)
    ss.setdefault(K_PLAYING, False)
    ss.setdefault(K_PLAY_SPEED, 1.0)
    if ss.get(K_DATA_KEY) is None:
        view, notices = S.parse_query(read_query_params(), options)
        apply_state(view)
        ss[K_NOTICES] = S.notice_lines(notices)
        ss[K_MAP_INIT] = (view.center, view.zoom)
        ss[K_DATA_KEY] = data_key
    elif ss[K_DATA_KEY] != data_key:
        # New data (an upload): keep the view, drop what the new data cannot show.
        view, changes = S.restrict_to(current_state(options), options)
        lines = [f"View adjusted to the new data: {c}." for c in changes]
        if options.window_has_events(view.as_of, view.window) is False:
            # The kept window would show "0 events" with no reason given: open the new
            # data where it has events instead, and say so.
            default = S.default_state(options)
            lines = [
                n for n, c in zip(lines, changes, strict=True) if not c.startswith("date moved")
            ]
            lines.insert(
                0,
                "The new data has no events in the window of "
                f"{view.window} days to {view.as_of.isoformat()}: the view moved to the new "
                f"data's default, {default.window} days to {default.as_of.isoformat()}.",
            )
            view = dataclasses.replace(view, as_of=default.as_of, window=default.window)
        apply_state(view)
        ss[K_NOTICES] = lines
        ss[K_DATA_KEY] = data_key


def sync_url(view: S.ViewState) -> None:
    """Write the view to the URL when it differs (one message, no rerun)."""
    write_query(S.to_query(view))


def write_query(wanted: dict[str, list[str]]) -> None:
    """Make the browser's URL ``wanted``: sent when the URL this run's request came with
    differs, and also when the last URL sent differs. The request's URL can be older than
    one an earlier run sent that has not reached the browser yet (a Play tick's answer
    arriving after the Pause was sent): the URL then ended on the tick's date."""
    ss = st.session_state
    sent = ss.get(K_URL_SENT)
    if read_query_params() != wanted or (sent is not None and sent != wanted):
        st.query_params.from_dict(wanted)
        ss[K_URL_SENT] = wanted


def mark_interaction() -> None:
    """Callback of the map and the place search: this run is not a Play tick."""
    st.session_state[K_INTERACTED] = True
