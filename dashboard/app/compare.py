"""The compare mode: two dates side by side or as a change map, km² per controller, towns and
events in ground that changed hands, and the territorial-change check.

The page (``page.py``) calls :func:`start` once per run (it draws the mode switch in the
sidebar and returns the mode) and, in compare mode, :func:`render` instead of the
single-date view. The mode is part of the permalink::

    mode=compare             (absent: the single-date view, the default)
    from=YYYY-MM-DD          date A, inside the period the control areas cover
    to=YYYY-MM-DD            date B (A after B: the two are swapped, with a notice)
    focus=NAME|all           draw one controller's gains and losses only
    compare_map=changes|side the change map, or the two dates side by side
    tolerance=N              days after an event at which the check reads the layer (0..365)

:func:`~dashboard.viewstate.parse_compare_query` and
:func:`~dashboard.viewstate.compare_query` (plain functions, beside the single-date
``parse_query``/``to_query``) read and write them; the other parameters (layers, basemap,
filters) keep their single-date meaning.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from dashboard import compare as cmp
from dashboard import layers, paths, schema
from dashboard import viewstate as S
from dashboard.app import mapview
from dashboard.app import session as K
from dashboard.app.exportbuttons import change_export_buttons
from dashboard.app.loaders import Dataset, context_refs, load_context
from dashboard.app.safetext import md
from dashboard.areas import areas_at
from dashboard.assets import basemap_url
from dashboard.changecheck import (
    AGREES,
    CHECK_DATE,
    CLAIMED,
    LAYER_BEFORE,
    LAYER_CONTROLLER,
    NOTE,
    VERDICT,
    CheckResult,
    CheckSettings,
    check_territorial_changes,
)
from dashboard.changemap import Change, change_bounds
from dashboard.errors import DashboardError
from dashboard.tableexport import to_csv_bytes
from dashboard.timewindow import Filters, combine, filter_masks
from dashboard.viewstate import (
    FOCUS_ALL,
    MAP_CHANGES,
    MAP_LABELS,
    MAP_SIDE,
    MAPS,
    MAX_TOLERANCE_DAYS,
    MODE_COMPARE,
    MODE_LABELS,
    MODE_SINGLE,
    MODES,
    CompareView,
    compare_query,
    parse_compare_query,
)

MAP_HEIGHT = 560
SIDE_MAP_HEIGHT = 560

# Widget keys.
K_MODE = "w_mode"
K_A = "w_cmp_a"
K_B = "w_cmp_b"
K_FOCUS = "w_cmp_focus"
K_MAP = "w_cmp_map"
K_TOLERANCE = "w_cmp_tolerance"
K_CHECK_PERIOD = "w_cmp_check_period"
K_CHECK_ALL = "w_cmp_check_all"
K_INIT = "cmp_data_key"  # the dataset the compare widgets were set up for


# --- session --------------------------------------------------------------------------------


def date_range(ds: Dataset) -> tuple[dt.date, dt.date]:
    """The dates the compare mode offers: the period the control areas cover (an open side
    falls back to the events' first or last date)."""
    try:
        first, last = cmp.layer_coverage(ds.areas)
    except DashboardError:
        first = last = None
    lo = first or ds.options.first
    hi = last or ds.options.last
    return lo, max(lo, hi)


def _controllers(ds: Dataset) -> list[str]:
    names = ds.areas[schema.CONTROLLER].dropna().astype(str) if len(ds.areas) else []
    return cmp.controller_order(names)


def start(ds: Dataset, data_key: str) -> str:
    """Set the compare widgets from the URL once per session (and again for new data), draw
    the mode switch in the sidebar, and return the mode."""
    ss = st.session_state
    lo, hi = date_range(ds)
    if ss.get(K_INIT) != data_key:
        first_time = ss.get(K_INIT) is None
        view, notices = parse_compare_query(
            K.read_query_params() if first_time else {},
            first=lo,
            last=hi,
            default_b=ss.get(K.K_DATE, ds.options.default_date),
            controllers=_controllers(ds),
        )
        if not first_time:
            view = replace(view, mode=ss.get(K_MODE, view.mode))
        ss[K_MODE] = view.mode
        ss[K_A], ss[K_B] = view.day_a, view.day_b
        ss[K_FOCUS] = view.focus
        ss[K_MAP] = view.map
        ss[K_TOLERANCE] = view.tolerance
        ss.setdefault(K_CHECK_PERIOD, True)
        ss.setdefault(K_CHECK_ALL, False)
        ss[K_INIT] = data_key
        if notices:
            ss[K.K_NOTICES] = [*(ss.get(K.K_NOTICES) or []), *S.notice_lines(notices)]
    st.sidebar.radio(
        "View",
        MODES,
        key=K_MODE,
        horizontal=True,
        format_func=lambda v: MODE_LABELS.get(v, str(v)),
        help="Compare two dates: ground gained and lost per controller, towns and events "
        "in it, and the territorial-change check.",
    )
    return str(ss.get(K_MODE, MODE_SINGLE))


def current_view() -> CompareView:
    ss = st.session_state
    day_a, day_b = ss[K_A], ss[K_B]
    if day_a > day_b:
        day_a, day_b = day_b, day_a
    return CompareView(
        mode=str(ss.get(K_MODE, MODE_SINGLE)),
        day_a=day_a,
        day_b=day_b,
        focus=str(ss.get(K_FOCUS) or FOCUS_ALL),
        map=str(ss.get(K_MAP) or MAP_CHANGES),
        tolerance=int(ss.get(K_TOLERANCE, 7)),
    )


def _sync_url(ds: Dataset, view: CompareView) -> None:
    K.write_query({**S.to_query(K.current_state(ds.options)), **compare_query(view)})


# --- cached computations --------------------------------------------------------------------


@st.cache_data(show_spinner="Comparing the two dates…", max_entries=32)
def _comparison(dataset_key: str, day_a: dt.date, day_b: dt.date, _ds: Dataset) -> cmp.Comparison:
    towns = cmp.read_towns(paths.BUNDLED_TOWNS) if paths.BUNDLED_TOWNS.is_file() else None
    return cmp.compare(_ds.areas, day_a, day_b, towns=towns)


@st.cache_data(show_spinner=False, max_entries=32)
def _changed_events(
    dataset_key: str, day_a: dt.date, day_b: dt.date, filters: Filters, _ds: Dataset,
    _pieces: Any,
) -> pd.DataFrame:  # fmt: skip
    if _ds.store is not None:  # a database: only the span's events that pass the filters
        start, end = min(day_a, day_b), max(day_a, day_b)
        kept = _ds.store.events_frame(start=start, end=end, filters=filters)
        return cmp.events_in_changes(kept, _pieces, start=day_a, end=day_b)
    events = _ds.events
    keep = combine(filter_masks(events, filters), len(events))
    return cmp.events_in_changes(events[keep], _pieces, start=day_a, end=day_b)


@st.cache_data(show_spinner="Checking events against the control areas…", max_entries=16)
def _check(dataset_key: str, tolerance: int, _ds: Dataset) -> CheckResult:
    settings = CheckSettings(tolerance_days=tolerance)
    events = _ds.events
    if _ds.store is not None:  # a database: only the events of the change-of-control types
        wanted = {t.casefold() for t in settings.sub_event_types}
        types = tuple(t for t in _ds.options.sub_event_types if t.casefold() in wanted)
        events = _ds.store.events_frame(filters=Filters(sub_event_types=types or ("",)))
    return check_territorial_changes(events, _ds.areas, settings=settings)


# --- the page section -----------------------------------------------------------------------


def render(ds: Dataset) -> None:
    """The compare mode's main panel."""
    lo, hi = date_range(ds)
    ss = st.session_state
    for key in (K_A, K_B):
        value = ss.get(key)
        ss[key] = min(max(value, lo), hi) if isinstance(value, dt.date) else hi
    controllers = _controllers(ds)
    if ss.get(K_FOCUS) not in (FOCUS_ALL, *controllers):
        ss[K_FOCUS] = FOCUS_ALL

    cols = st.columns([1, 1, 1.3, 1.5], vertical_alignment="bottom")
    cols[0].date_input("First date (A)", min_value=lo, max_value=hi, key=K_A, format="YYYY-MM-DD")
    cols[1].date_input("Second date (B)", min_value=lo, max_value=hi, key=K_B, format="YYYY-MM-DD")
    cols[2].segmented_control(
        "Map", MAPS, key=K_MAP, format_func=lambda v: MAP_LABELS.get(v, str(v))
    )
    cols[3].selectbox(
        "Show gains and losses of",
        [FOCUS_ALL, *controllers],
        key=K_FOCUS,
        format_func=lambda v: "every controller" if v == FOCUS_ALL else v,
    )
    if ss[K_A] > ss[K_B]:
        st.info("The first date is after the second: the two are compared the other way round.")
    view = current_view()
    state = K.current_state(ds.options)

    try:
        result = _comparison(ds.key, view.day_a, view.day_b, ds)
    except DashboardError as exc:
        st.error(f"The two dates cannot be compared: {md(exc, limit=400)}")
        _sync_url(ds, view)
        return
    try:
        events = _changed_events(ds.key, view.day_a, view.day_b, state.filters, ds, result.pieces)
    except DashboardError as exc:  # a database gone: the comparison of the areas still holds
        st.warning(
            f"The events in the changed ground could not be read: {md(exc, limit=300)}. "
            "The next change of the view asks again."
        )
        events = cmp.events_in_changes(ds.events.iloc[:0], result.pieces)

    _summary(result, events, view)
    _area_ledger(ds, view)
    change = Change(view, result, events)
    if view.map == MAP_SIDE:
        _side_by_side(ds, state, change)
    else:
        _change_map(ds, state, change)
    _area_table(result)
    _towns_table(result)
    _events_table(events, view)
    _check_section(ds, view)
    _sync_url(ds, view)


def _summary(result: cmp.Comparison, events: pd.DataFrame, view: CompareView) -> None:
    a, b = view.day_a.isoformat(), view.day_b.isoformat()
    parts = [
        _changed_text(result, a, b),
        f"{len(result.towns)} of the gazetteer's towns changed hands",
        f"{len(events)} events inside changed ground",
    ]
    if view.focus != FOCUS_ALL:
        km2_a, km2_b = result.area_of(view.focus)
        parts.insert(
            0, f"{view.focus}: {km2_a:,.0f} km² → {km2_b:,.0f} km² ({km2_b - km2_a:+,.0f})"
        )
    overlap = [f"{d}: {v:,.0f} km²" for d, v in zip((a, b), result.overlap_km2, strict=True) if v]
    if overlap:
        parts.append("overlapping areas counted as Contested (" + ", ".join(overlap) + ")")
    with st.container(key="compare-summary"):
        st.text(" · ".join(parts))


def _changed_text(result: cmp.Comparison, a: str, b: str) -> str:
    between, newly, no_longer = result.changed_parts_km2()
    text = f"{a} to {b}: {between:,.0f} km² changed hands between controllers"
    if newly or no_longer:
        text += f" ({newly:,.0f} km² newly mapped, {no_longer:,.0f} km² no longer mapped)"
    return text


def _area_ledger(ds: Dataset, view: CompareView) -> None:
    """What the km² rest on: a warning when features were set aside or a date is after the
    areas' last change, a note for repairs."""
    ledger = ds.area_ledger
    last = ds.last_change
    with st.container(key="compare-area-ledger"):
        if last is not None and view.day_b > last:
            st.warning(
                f"The control areas' last change is {last.isoformat()}: the figures for "
                f"{view.day_b.isoformat()} ({(view.day_b - last).days:,} days later) are the "
                "map of that day carried forward, not observed."
            )
        if ledger is None:  # a database: its load said what it set aside
            return
        if ledger.set_aside:
            st.warning(f"Control areas: {md(ledger.sentence(), limit=600)}.")
        elif ledger.repaired:
            st.caption(f"Control areas: {md(ledger.sentence(), limit=600)}.")


def _base_map(ds: Dataset, state: S.ViewState, *, zoom_out: int = 0) -> Any:
    """The map without data: the data's default framing (``zoom_out`` steps further out
    for a map half as wide), tiles or none, country outlines and towns."""
    center, zoom = mapview.default_view(ds)
    zoom = max(S.MIN_ZOOM, zoom - zoom_out)
    # framed on the changed ground, not linked by a permalink: fractional zooms fill the frame
    fmap = layers.build_map(center=center, zoom=zoom, basemap=state.basemap, zoom_snap=0.25)
    if S.LAYER_CONTEXT in state.layers:
        countries_ref, towns_ref = context_refs()
        countries, towns = load_context(countries_ref.token, towns_ref.token)
        if countries is not None or towns is not None:
            # fetched by the browser (once) as on the single-date map, not sent each run
            layers.context_layer(countries, towns, basemap_url=basemap_url()).add_to(fmap)
    return fmap


#: Room kept free for the legend in the map's lower right corner (CSS pixels) when the map
#: is framed on the changed ground, so the legend does not cover it.
LEGEND_ROOM_PX: tuple[int, int] = (250, 0)
#: None on each side-by-side map: half as wide, the region would shrink to a quarter; its
#: legend sits in the corner, which is mostly open desert on the bundled maps.
SIDE_LEGEND_ROOM_PX: tuple[int, int] = (0, 0)


def _frame_on_changes(fmap: Any, change: Change, *, legend_room: tuple[int, int]) -> None:
    """Look at the changed ground (as the change map's PNG/PDF do), beside the legend;
    nothing changed: the data's default framing stays."""
    box = change_bounds(change)
    if box is not None:
        west, south, east, north = box
        fmap.fit_bounds(
            [[south, west], [north, east]],
            padding_top_left=(12, 12),
            padding_bottom_right=(legend_room[0] + 12, legend_room[1] + 12),
        )


def _change_map(
    ds: Dataset,
    state: S.ViewState,
    change: Change,
) -> None:
    fmap = _base_map(ds, state)
    focus = change.focus
    result = change.result
    layers.change_layer(change.pieces(), focus=focus, palette=ds.palette).add_to(fmap)
    types: list[str] = []
    shown = change.shown_events()
    if S.LAYER_EVENTS in state.layers and len(shown):
        placed = shown[shown[schema.LATITUDE].notna() & shown[schema.LONGITUDE].notna()]
        types = list(dict.fromkeys(placed[schema.EVENT_TYPE].dropna().astype(str)))
        layers.events_layer(placed, event_types=types).add_to(fmap)
    # the map's legend states the figure of the summary above it, not the total with Unknown
    counts = {"changed hands between controllers": f"{result.changed_parts_km2()[0]:,.0f} km²"}
    layers.change_legend(
        result.pieces,
        day_a=result.day_a,
        day_b=result.day_b,
        focus=focus,
        event_types=types,
        counts=counts,
        palette=ds.palette,
    ).add_to(fmap)
    _frame_on_changes(fmap, change, legend_room=LEGEND_ROOM_PX)
    st_folium(
        fmap,
        key="compare_map",
        height=MAP_HEIGHT,
        use_container_width=True,
        returned_objects=[],
    )
    change_export_buttons(ds, state, change)


def _side_by_side(ds: Dataset, state: S.ViewState, change: Change) -> None:
    columns = st.columns(2)
    result = change.result
    for column, label, day in zip(columns, ("A", "B"), (result.day_a, result.day_b), strict=True):
        fmap = _base_map(ds, state, zoom_out=1)
        now = areas_at(ds.areas, day)
        layers.control_areas_layer(now, palette=ds.palette).add_to(fmap)
        controllers = cmp.controller_order(now[schema.CONTROLLER].dropna().astype(str))
        layers.legend_element(
            controllers,
            [],
            as_of=day,
            window_days=None,
            title=f"Date {label}",
            palette=ds.palette,
        ).add_to(fmap)
        # both maps look at the ground that changed hands, the same extent on each
        _frame_on_changes(fmap, change, legend_room=SIDE_LEGEND_ROOM_PX)
        with column:
            st_folium(
                fmap,
                key=f"compare_map_{label.lower()}",
                height=SIDE_MAP_HEIGHT,
                use_container_width=True,
                returned_objects=[],
            )


def _whole(values: pd.Series) -> pd.Series:
    return values.round(0).astype("int64")


def _area_table(result: cmp.Comparison) -> None:
    a, b = result.day_a.isoformat(), result.day_b.isoformat()
    table = result.table.copy()
    for column in (cmp.KM2_A, cmp.KM2_B, cmp.DIFF_KM2, cmp.GAINED_KM2, cmp.LOST_KM2):
        table[column] = _whole(table[column])
    st.caption(
        f"Area per controller, km² (measured in the equal-area projection {cmp.EQUAL_AREA_CRS})"
    )
    number = st.column_config.NumberColumn
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        key="compare-areas",
        column_config={
            schema.CONTROLLER: st.column_config.TextColumn("Controller"),
            cmp.KM2_A: number(f"km² on {a}", format="localized"),
            cmp.KM2_B: number(f"km² on {b}", format="localized"),
            cmp.DIFF_KM2: number("Difference", format="localized"),
            cmp.GAINED_KM2: number("Gained", format="localized"),
            cmp.LOST_KM2: number("Lost", format="localized"),
        },
    )
    stem = f"compare_{a}_{b}"
    st.download_button(
        "Download the table (CSV)",
        data=lambda: to_csv_bytes(result.table.round(1)),
        file_name=f"{stem}_areas.csv",
        mime="text/csv",
        on_click="ignore",
        key="dl_compare_areas",
    )


def _towns_table(result: cmp.Comparison) -> None:
    towns = result.towns
    st.caption(f"Towns of the gazetteer that changed hands ({len(towns)})")
    if not len(towns):
        return
    st.dataframe(
        towns[[c for c in (cmp.TOWN, cmp.TOWN_AR, schema.COUNTRY, cmp.FROM, cmp.TO) if c in towns]],
        hide_index=True,
        width="stretch",
        key="compare-towns",
        column_config={
            cmp.TOWN: st.column_config.TextColumn("Town"),
            cmp.TOWN_AR: st.column_config.TextColumn("Arabic"),
            schema.COUNTRY: st.column_config.TextColumn("Country"),
            cmp.FROM: st.column_config.TextColumn(f"Held on {result.day_a.isoformat()} by"),
            cmp.TO: st.column_config.TextColumn(f"Held on {result.day_b.isoformat()} by"),
        },
    )


def _events_table(events: pd.DataFrame, view: CompareView) -> None:
    st.caption(
        f"Events from {view.day_a.isoformat()} to {view.day_b.isoformat()} inside ground that "
        f"changed hands ({len(events)}; the sidebar's filters apply)"
    )
    if not len(events):
        return
    columns = [
        c
        for c in (
            schema.EVENT_DATE,
            schema.EVENT_ID,
            schema.EVENT_TYPE,
            schema.SUB_EVENT_TYPE,
            schema.ACTOR1,
            schema.LOCATION,
            schema.COUNTRY,
            cmp.FROM,
            cmp.TO,
        )
        if c in events
    ]
    table = pd.DataFrame(events[columns])
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        key="compare-events",
        height=min(420, 38 + 35 * len(table)),
        column_config={
            schema.EVENT_DATE: st.column_config.DateColumn("Date", format="YYYY-MM-DD"),
            schema.EVENT_ID: st.column_config.TextColumn("Event id"),
            schema.EVENT_TYPE: st.column_config.TextColumn("Type"),
            schema.SUB_EVENT_TYPE: st.column_config.TextColumn("Sub-type"),
            schema.ACTOR1: st.column_config.TextColumn("Actor 1"),
            schema.LOCATION: st.column_config.TextColumn("Place"),
            schema.COUNTRY: st.column_config.TextColumn("Country"),
            cmp.FROM: st.column_config.TextColumn("Held on the first date by"),
            cmp.TO: st.column_config.TextColumn("Held on the second date by"),
        },
    )


def _check_section(ds: Dataset, view: CompareView) -> None:
    st.markdown("##### Territorial-change check")
    cols = st.columns([1, 1.4, 1.4], vertical_alignment="bottom")
    cols[0].number_input(
        "Days after the event",
        min_value=0,
        max_value=MAX_TOLERANCE_DAYS,
        step=1,
        key=K_TOLERANCE,
        help="The layer should show the event's actor there this many days after the event.",
    )
    cols[1].checkbox("Only events between the two dates", key=K_CHECK_PERIOD)
    cols[2].checkbox("List the events that agree too", key=K_CHECK_ALL)
    tolerance = int(st.session_state.get(K_TOLERANCE, 7))
    try:
        result = _check(ds.key, tolerance, ds)
    except DashboardError as exc:
        st.error(f"The check could not run: {md(exc, limit=400)}")
        return
    rows = result.rows
    if st.session_state.get(K_CHECK_PERIOD, True):
        dates = pd.to_datetime(rows[schema.EVENT_DATE])
        inside = (dates >= pd.Timestamp(view.day_a)) & (dates <= pd.Timestamp(view.day_b))
        rows = rows[inside.to_numpy()]
    counts = {v: int((rows[VERDICT] == v).sum()) for v in result.counts}
    st.caption(
        "Events whose sub-event type records a change of control (actor 1 took the place), "
        f"against the controller the layer shows {tolerance} days later"
    )
    st.text(", ".join(f"{verdict}: {n}" for verdict, n in counts.items()))
    listed = rows if st.session_state.get(K_CHECK_ALL) else rows[rows[VERDICT] != AGREES]
    if len(listed):
        shown = listed[
            [
                schema.EVENT_ID,
                schema.EVENT_DATE,
                schema.LOCATION,
                schema.ACTOR1,
                CLAIMED,
                CHECK_DATE,
                LAYER_CONTROLLER,
                LAYER_BEFORE,
                VERDICT,
                NOTE,
            ]
        ]
        st.dataframe(
            shown,
            hide_index=True,
            width="stretch",
            key="compare-check",
            column_config={
                schema.EVENT_ID: st.column_config.TextColumn("Event id"),
                schema.EVENT_DATE: st.column_config.DateColumn("Date", format="YYYY-MM-DD"),
                schema.LOCATION: st.column_config.TextColumn("Place"),
                schema.ACTOR1: st.column_config.TextColumn("Actor 1"),
                CLAIMED: st.column_config.TextColumn("Claimed controller"),
                CHECK_DATE: st.column_config.DateColumn("Layer read on", format="YYYY-MM-DD"),
                LAYER_CONTROLLER: st.column_config.TextColumn("Layer shows"),
                LAYER_BEFORE: st.column_config.TextColumn("Layer the day before"),
                VERDICT: st.column_config.TextColumn("Verdict"),
                NOTE: st.column_config.TextColumn("Note"),
            },
        )
    else:
        st.text("No event to list.")
    unmapped = result.unmapped_actors
    if len(unmapped):
        st.caption("Actors the mapping table does not name (not guessed)")
        st.dataframe(unmapped, hide_index=True, key="compare-unmapped")
    for note in result.notes:
        st.caption(md(note, limit=300))
    st.download_button(
        "Download the check (CSV)",
        data=lambda: to_csv_bytes(rows),
        file_name=f"territorial_check_{tolerance}d.csv",
        mime="text/csv",
        on_click="ignore",
        key="dl_compare_check",
    )


__all__ = [
    "MODES",
    "MODE_COMPARE",
    "MODE_SINGLE",
    "current_view",
    "date_range",
    "render",
    "start",
]
