"""The main panel, run as one ``st.fragment``: date controls, map, timeline, tables.

Moving the slider, stepping or playing reruns only this fragment: the data is not reloaded,
the sidebar is not redrawn, and the map is not remounted (its layers are replaced in place,
see ``mapview.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import schema
from dashboard import viewstate as S
from dashboard.app import historypanel, mapview, placesearch
from dashboard.app import session as K
from dashboard.app.exportbuttons import export_buttons
from dashboard.app.loaders import Dataset
from dashboard.app.playbutton import play_button, read_press
from dashboard.app.safetext import TABLE_CELL_MAX_CHARS, blank_missing, cap_cells, md
from dashboard.app.timeline import PICK, timeline_chart
from dashboard.app.viewcache import through_cache
from dashboard.areas import areas_at
from dashboard.tableexport import to_csv_bytes, to_geojson_bytes
from dashboard.timewindow import (
    FILTER_LABELS,
    MAX_WINDOW_DAYS,
    STEPS,
    WINDOW_PRESETS,
    Selection,
    clamp_date,
    controller_summary,
    select,
    step_date,
    window_bounds,
)

if TYPE_CHECKING:
    from dashboard.store import WindowCounts

K_NEED_APP_RERUN = "need_app_rerun"
#: The events table shows at most this many rows (the most recent of the window): every
#: row is sent to the browser on every step; the downloads always hold all of them.
TABLE_MAX_ROWS = 1000

TABLE_COLUMNS: tuple[str, ...] = (
    schema.EVENT_DATE,
    schema.EVENT_TYPE,
    schema.SUB_EVENT_TYPE,
    schema.ACTOR1,
    schema.ACTOR2,
    schema.LOCATION,
    schema.ADMIN1,
    schema.COUNTRY,
    schema.FATALITIES,
    schema.CONTROLLER,
    schema.CONTROLLER_CONFIDENCE,
    schema.GEO_PRECISION,
    schema.SOURCE,
    schema.NOTES,
    schema.EVENT_ID,
    schema.LATITUDE,
    schema.LONGITUDE,
    schema.GEOCODE_METHOD,
)
K_TIMELINE_CHART = "timeline_chart"  # the chart's selection (a clicked bar)
K_TYPED_DATE = "typed_date"  # the date field beside the slider
K_TYPED_PROBLEM = "typed_date_problem"  # why the date typed was not used (or None)
#: The order the page shows them in: what a reader scans first (date, place, what, who
#: held the ground, the toll and the notes) fits the screen without scrolling sideways.
#: The downloads keep :data:`TABLE_COLUMNS`.
SHOWN_ORDER: tuple[str, ...] = (
    schema.EVENT_DATE,
    schema.LOCATION,
    schema.EVENT_TYPE,
    schema.CONTROLLER,
    schema.FATALITIES,
    schema.NOTES,
    schema.SUB_EVENT_TYPE,
    schema.ACTOR1,
    schema.ACTOR2,
    schema.SOURCE,
    schema.ADMIN1,
    schema.COUNTRY,
    schema.CONTROLLER_CONFIDENCE,
    schema.GEO_PRECISION,
    schema.EVENT_ID,
    schema.LATITUDE,
    schema.LONGITUDE,
    schema.GEOCODE_METHOD,
)


@dataclass(frozen=True)
class Prepared:
    """What the full run computes once for the fragment: filter-dependent, date-independent."""

    timeline_counts: pd.DataFrame
    timeline_freq: str
    daily_counts: pd.DataFrame
    type_order: tuple[str, ...]
    colours: Mapping[str, str]


# --- callbacks (run before the fragment body) ---------------------------------------------


def _set_date(day: dt.date) -> None:
    """The server moves the date (a step, a Play tick, Pause): the slider must follow."""
    ss = st.session_state
    ss[K.K_DATE] = day
    # Kept apart from the widget's key too: a Pause reruns the whole page, and that run may
    # take its widget values from a Play tick requested before the Pause, whose slider
    # still had the later date; the date set here wins over it.
    ss[K.K_DATE_SET] = day


def typed_date(text: str, first: dt.date, last: dt.date) -> dt.date | str:
    """The date typed in the date field, or why it cannot be shown (a sentence)."""
    value = text.strip()
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return f"“{value}” is not a date written YYYY-MM-DD (for example {last.isoformat()})."
    if not first <= day <= last:
        return (
            f"{day.isoformat()} is outside the data's dates, {first.isoformat()} to "
            f"{last.isoformat()}."
        )
    return day


def _date_typed(first: dt.date, last: dt.date) -> None:
    """The date field's callback: a date in range moves the view there; the field empties."""
    ss = st.session_state
    text = str(ss.get(K_TYPED_DATE) or "")
    ss[K_TYPED_PROBLEM] = None
    if not text.strip():
        return
    result = typed_date(text, first, last)
    if isinstance(result, str):
        ss[K_TYPED_PROBLEM] = result
        return
    _set_date(result)
    ss[K_TYPED_DATE] = ""


def _step(direction: int, first: dt.date, last: dt.date) -> None:
    ss = st.session_state
    _set_date(step_date(ss[K.K_DATE], ss.get(K.K_STEP, "week"), direction, first=first, last=last))


def _play_pressed(first: dt.date, last: dt.date) -> None:
    """Play, or Pause at the date the map showed when it was clicked (not at the server's
    latest step, which may be ahead of it)."""
    ss = st.session_state
    press = read_press(ss.get(K.K_PLAY))
    playing = bool(ss.get(K.K_PLAYING, False))
    if press is None or (press.action == "play") == playing:
        return  # a repeated click, made before the answer to the first one arrived
    if press.action == "play":
        if ss.get(K.K_DATE) == last:
            _set_date(first)  # Play at the end starts again from the beginning
    else:
        current = ss.get(K.K_DATE, last)
        # The map never shows a date the server has not reached: a later one is no date
        # the user saw (a Play that started again from the beginning), so stop here.
        if press.shown is not None and first <= press.shown <= current:
            _set_date(press.shown)
    ss[K.K_PLAYING] = not playing
    # run_every is fixed when the fragment is defined: a full run re-defines it.
    ss[K_NEED_APP_RERUN] = True


# --- the fragment body --------------------------------------------------------------------


def render(ds: Dataset, prepared: Prepared, slots: Mapping[str, Any]) -> None:
    """The fragment body (wrapped with ``st.fragment`` by ``page.py``)."""
    ss = st.session_state
    if ss.pop(K_NEED_APP_RERUN, False):
        st.rerun()
    ss[K.K_VIEW_RUNS] = ss.get(K.K_VIEW_RUNS, 0) + 1
    options = ds.options
    first, last = options.first, options.last

    # A Play tick moves the date; a run the map's report or the place search started does
    # not (the next tick comes on time).
    interacted = ss.pop(K.K_INTERACTED, False)
    if ss.get(K.K_PLAYING) and not interacted:
        _advance(first, last)

    _date_controls(first, last)
    # The map's last report is in the session before this run starts, also when a click
    # came right after it (Streamlit folds the two into one run, or stops the run of the
    # move): the view holds it from the start, else an export made now is one move behind.
    _remember_map_view(ss.get(mapview.MAP_KEY))
    view = K.current_state(options)

    if ds.store is None:
        sel = select(
            ds.events, ds.index, as_of=view.as_of, window_days=view.window, filters=view.filters
        )
        shown, table, counts = ds.events.iloc[sel.positions], None, None
    else:
        sel, shown, table, counts = _from_store(ds, view)
    _filter_counts(sel, slots, view)
    areas_now = areas_at(ds.areas, view.as_of)

    # The summary and the place search share a line: the map keeps the screen's height.
    summary_col, search_col = st.columns([3, 2], vertical_alignment="center")
    with summary_col:
        _summary_line(ds, view, sel, shown, areas_now, counts)
    with search_col:
        found = placesearch.search_box(ds)
    map_state = mapview.render_map(
        events=shown,
        areas=areas_now,
        view=view,
        dataset=ds,
        colours=prepared.colours,
        place=(found.latitude, found.longitude, found.name) if found else None,
        fly_to=(*found.center, placesearch.PLACE_ZOOM) if found else None,
    )
    _remember_map_view(map_state)
    historypanel.update_from_map(ds, map_state)
    historypanel.history_panel(ds)

    # What the date, window and filters of a dataset in memory decide is made once per
    # process, for every session showing the same view (a database's rows depend on the
    # map's extent too, and on the database's version: asked each time).
    view_key = (ds.key, view.as_of, view.window, view.filters) if ds.store is None else None
    _timeline(prepared, view, shown, counts, span=(first, last), view_key=view_key)
    _event_table(shown, view, ds if counts is not None else None, table, view_key=view_key)
    export_buttons(ds, view)

    with st.container(key="diagnostics"):
        st.caption(
            f"Runs this session: page {ss.get(K.K_RUNS, 0)}, view {ss.get(K.K_VIEW_RUNS, 0)}"
        )
    K.sync_url(K.current_state(options))


def _from_store(
    ds: Dataset, view: S.ViewState
) -> tuple[Selection, pd.DataFrame, pd.DataFrame | None, WindowCounts | None]:
    """A view of a database: the counts over the whole window (aggregates), the events
    inside the map's bounding box for the map, and the rows of the events table.

    Where the map aggregates the events (hexagons, heat map) it gets only the columns that
    needs, and the table the :data:`TABLE_MAX_ROWS` most recent events with every column;
    otherwise both get the same events with every column. When the database is gone the
    page says so and shows the control areas; the next change of the view asks again.
    """
    from dashboard.aggregate import POINTS_MAX
    from dashboard.store import DatabaseError

    events_layer = S.LAYER_EVENTS in view.layers
    auto = view.points == "auto" and events_layer
    try:
        if ds.store.token() != ds.store_token:  # loaded meanwhile (by any process): reload
            st.rerun()
        got = ds.store.view(
            view.as_of,
            view.window,
            view.filters,
            mapview.map_bbox(view),
            # without the events layer only the heat map (if any) draws them: aggregated
            aggregate=None if auto else (view.points == "hexagons" or not events_layer),
            points_max=POINTS_MAX,
            table_rows=TABLE_MAX_ROWS,
        )
    except DatabaseError as exc:
        st.warning(
            f"{md(exc, limit=300)}. The map shows the control areas without events; the next "
            "change of the view asks the database again."
        )
        empty = Selection(np.empty(0, dtype=np.int64), 0, {}, {}, 0)
        return empty, ds.events.iloc[:0], None, None
    return got.counts.selection(), got.events, got.newest, got.counts


def _advance(first: dt.date, last: dt.date) -> None:
    """One Play tick: move the date one step; stop (with a full run) at the end."""
    ss = st.session_state
    current = ss.get(K.K_DATE, last)
    if current >= last:
        ss[K.K_PLAYING] = False
        st.rerun()
    _set_date(step_date(current, ss.get(K.K_STEP, "week"), 1, first=first, last=last))


def _date_controls(first: dt.date, last: dt.date) -> None:
    ss = st.session_state
    chosen = ss.pop(K.K_DATE_SET, None)
    wanted = clamp_date(chosen or ss.get(K.K_DATE, last), first, last)
    if chosen is not None or ss.get(K.K_DATE) != wanted:
        # Writing the key makes Streamlit send its value to the browser's slider, which
        # then shows it. Only a date the server chose is sent: a run started by key
        # presses answers after the user may have pressed on, and sending its date back
        # took the slider back (presses lost, and the next request carried the old date).
        ss[K.K_DATE] = wanted
    playing = bool(ss.get(K.K_PLAYING))
    slider_col, typed_col = st.columns([6, 1.3], vertical_alignment="bottom")
    slider_col.slider(
        "As of (control areas on this date; events in the window ending on it)",
        min_value=first,
        max_value=max(last, first + dt.timedelta(days=1)),
        step=dt.timedelta(days=1),
        format="YYYY-MM-DD",
        key=K.K_DATE,
        disabled=playing,
    )
    typed_col.text_input(
        "Go to date",
        key=K_TYPED_DATE,
        placeholder="YYYY-MM-DD",
        help=f"Type a date from {first.isoformat()} to {last.isoformat()} and press Enter.",
        on_change=_date_typed,
        args=(first, last),
        disabled=playing,
    )
    problem = ss.get(K_TYPED_PROBLEM)
    if problem:
        st.caption(md(problem))
    cols = st.columns([1.3, 1.0, 1.0, 0.7, 0.7, 0.9, 1.0], vertical_alignment="bottom")
    cols[0].selectbox(
        "Event window",
        [*WINDOW_PRESETS, K.CUSTOM],
        key=K.K_WINDOW_CHOICE,
        format_func=lambda v: "Custom…" if v == K.CUSTOM else f"Last {v} days",
    )
    if ss.get(K.K_WINDOW_CHOICE) == K.CUSTOM:
        cols[1].number_input(
            "Days", min_value=1, max_value=MAX_WINDOW_DAYS, step=1, key=K.K_WINDOW_DAYS
        )
    else:
        cols[1].caption(_window_text(ss[K.K_DATE], K.window_days()))
    cols[2].selectbox("Step", STEPS, key=K.K_STEP, format_func=lambda s: f"1 {s}")
    cols[3].button(
        "◀",
        key="step_back",
        help="Step back",
        on_click=_step,
        args=(-1, first, last),
        disabled=playing,
        width="stretch",
    )
    cols[4].button(
        "▶",
        key="step_fwd",
        help="Step forward",
        on_click=_step,
        args=(1, first, last),
        disabled=playing,
        width="stretch",
    )
    with cols[5]:
        play_button(key=K.K_PLAY, playing=playing, on_press=partial(_play_pressed, first, last))
    cols[6].selectbox(
        "Play speed",
        K.PLAY_SPEEDS,
        key=K.K_PLAY_SPEED,
        format_func=lambda s: f"{s:g} s per step",
        disabled=playing,
    )


def _window_text(as_of: dt.date, days: int) -> str:
    start, end = window_bounds(as_of, days)
    return f"{start.isoformat()} to {end.isoformat()}"


def _filter_counts(sel: Selection, slots: Mapping[str, Any], view: S.ViewState) -> None:
    """Under each filter in the sidebar: how many events of the window it hides."""
    for name in FILTER_LABELS:
        slot = slots.get(name)
        if slot is None:
            continue
        hidden = sel.hidden_by.get(name, 0)
        only = sel.hidden_only_by.get(name, 0)
        if hidden:
            extra = f" ({only:,} by this filter alone)" if only != hidden else ""
            slot.caption(f"Hides {hidden:,} of {sel.in_window:,} events in the window{extra}")
        else:
            slot.empty()
    summary = slots.get("summary")
    if summary is not None:
        summary.caption(
            f"{sel.shown:,} of {sel.in_window:,} events in the window pass the filters"
            if sel.hidden_total
            else f"No filter hides any of the {_n(sel.in_window, 'event')} in the window"
        )


def _summary_line(
    ds: Dataset,
    view: S.ViewState,
    sel: Selection,
    shown: pd.DataFrame,
    areas_now: pd.DataFrame,
    counts: WindowCounts | None = None,
) -> None:
    start, end = window_bounds(view.as_of, view.window)
    if counts is not None:  # a database: counted there over the whole window
        unplaced, known, unknown = counts.unplaced, counts.fatalities, counts.unknown_fatalities
    else:
        lat = pd.to_numeric(shown[schema.LATITUDE], errors="coerce") if len(shown) else None
        unplaced = int(lat.isna().sum()) if lat is not None else 0
        fat = pd.to_numeric(shown[schema.FATALITIES], errors="coerce") if len(shown) else None
        known = int(fat.sum()) if fat is not None else 0
        unknown = int(fat.isna().sum()) if fat is not None else 0
    areas_text = _n(len(areas_now), "control area")
    ledger = ds.area_ledger
    if ledger is not None and ledger.set_aside:
        # who held the ground is drawn without these: never let the map pass for complete
        areas_text += f" ({ledger.set_aside:,} {ledger.noun} set aside, see the validation report)"
    last = ds.last_change
    if last is not None and view.as_of > last:
        areas_text += (
            f" (their last change is {last.isoformat()}, {(view.as_of - last).days:,} days "
            "earlier: that map is carried forward)"
        )
    options = ds.options
    if not options.areas_cover(view.as_of):
        cover = " to ".join(
            d.isoformat() if d else "open" for d in (options.areas_first, options.areas_last)
        )
        areas_text += f" (the control-area files cover {cover} only)"
    parts = [
        f"As of {view.as_of.isoformat()}: {areas_text}",
        f"{_n(sel.shown, 'event')} {start.isoformat()} to {end.isoformat()}",
        (
            "fatalities unknown"
            if unknown and unknown == sel.shown
            else _n(known, "fatality", "fatalities")
            + (f" (toll unknown for {_n(unknown, 'event')})" if unknown else "")
        ),
    ]
    if sel.hidden_total:
        parts.append(f"{sel.hidden_total:,} hidden by filters")
    if unplaced:
        parts.append(f"{unplaced:,} not on the map (place not found)")
    with st.container(key="view-summary"):
        st.text(" · ".join(parts))


def _n(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count:,} {singular if count == 1 else (plural or singular + 's')}"


def _remember_map_view(map_state: Mapping[str, Any] | None) -> None:
    """Keep the centre and zoom the map reports (for the permalink)."""
    if not map_state:
        return
    ss = st.session_state
    center = map_state.get("center")
    zoom = map_state.get("zoom")
    if isinstance(center, Mapping):
        try:
            lat = round(float(center["lat"]), 4)
            lon = round(float(center["lng"]), 4)
        except (KeyError, TypeError, ValueError):
            lat = lon = None  # type: ignore[assignment]
        if lat is not None and lon is not None and np.isfinite(lat) and np.isfinite(lon):
            lon = ((lon + 180.0) % 360.0) - 180.0
            ss[K.K_CENTER] = (max(-85.0, min(85.0, lat)), round(lon, 4))
    if isinstance(zoom, (int, float)) and np.isfinite(zoom):
        ss[K.K_ZOOM] = int(max(S.MIN_ZOOM, min(S.MAX_ZOOM, round(zoom))))


def picked_day(point: Mapping[str, Any], freq: str) -> dt.date | None:
    """The date a click on a timeline bar moves to: the bar's last day (a week's bar
    starts on its Monday: the window then ends on its Sunday), or None if unreadable."""
    value = point.get("period") if isinstance(point, Mapping) else None
    try:
        stamp = (
            pd.Timestamp(float(value), unit="ms")
            if isinstance(value, int | float)
            else pd.Timestamp(str(value))
        )
    except (TypeError, ValueError):
        return None
    if pd.isna(stamp):
        return None
    day = stamp.date()
    return day + dt.timedelta(days=6) if freq == "W" else day


def _timeline_picked(first: dt.date, last: dt.date, freq: str) -> None:
    """A bar of the timeline was clicked: the date moves to it (within the data)."""
    state = st.session_state.get(K_TIMELINE_CHART)
    selection = getattr(state, "selection", None) or (state or {}).get("selection") or {}
    points = selection.get(PICK) or []
    day = picked_day(points[0], freq) if points else None
    if day is not None:
        _set_date(min(max(day, first), last))


def _timeline(
    prepared: Prepared,
    view: S.ViewState,
    shown: pd.DataFrame,
    in_store: WindowCounts | None = None,
    *,
    span: tuple[dt.date, dt.date],
    view_key: tuple[Any, ...] | None = None,
) -> None:
    # The timeline across the page (its bars are the dates a click moves to); the small
    # table of controllers under it, names in full.
    caption, choice = st.columns([2.5, 1.5], vertical_alignment="center")
    choice.segmented_control(
        "Timeline",
        S.TIMELINE_MODES,
        key=K.K_TIMELINE,
        format_func=lambda m: "All dates" if m == "all" else "Around the window",
        label_visibility="collapsed",
    )
    zoomed = st.session_state.get(K.K_TIMELINE) == "window"
    if zoomed:
        start, end = window_bounds(view.as_of, view.window)
        pad = dt.timedelta(days=max(7, view.window // 2))
        lo, hi = pd.Timestamp(start - pad), pd.Timestamp(end + pad)
        daily = prepared.daily_counts
        counts = daily[(daily["period"] >= lo) & (daily["period"] <= hi)]
        freq, domain = "D", (lo, hi)
        caption.caption("Events per day around the window (current filters)")
    else:
        counts, freq, domain = prepared.timeline_counts, prepared.timeline_freq, None
        caption.caption("Events over time (all dates, current filters); shaded: the window")
    if len(prepared.timeline_counts):
        chart = timeline_chart(
            counts,
            as_of=view.as_of,
            window_days=view.window,
            colours=prepared.colours,
            type_order=prepared.type_order,
            freq=freq,
            domain=domain,
        )
        st.vega_lite_chart(
            chart,
            width="stretch",
            key=K_TIMELINE_CHART,
            # st.vega_lite_chart takes no args=: the callback carries its own.
            on_select=partial(_timeline_picked, *span, freq),
            selection_mode=[PICK],
        )
    else:
        st.text("No events pass the filters.")
    st.caption("Controllers in the window")
    cells = through_cache(
        view_key and ("controllers", view_key),
        lambda: blank_missing(
            cap_cells(controller_summary(shown) if in_store is None else in_store.controllers)[0]
        ),
    )
    fatalities_help = "Sum of the known tolls; empty when none is known"
    st.dataframe(
        cells,
        hide_index=True,
        width="stretch",
        column_config={
            "controller": st.column_config.TextColumn("Controller", width="large"),
            "events": st.column_config.NumberColumn("Events"),
            "fatalities": (
                st.column_config.TextColumn("Fatalities", help=fatalities_help)
                if "fatalities" in cells and cells["fatalities"].dtype == object
                else st.column_config.NumberColumn("Fatalities", help=fatalities_help)
            ),
            "unknown_fatalities": st.column_config.NumberColumn(
                "Toll unknown", help="Events whose fatalities are unknown"
            ),
        },
    )


def _plain_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Categorical columns as plain values: a categorical travels to the browser with every
    category of the whole dataset (megabytes at a million events), not just the rows'."""
    out = frame.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.CategoricalDtype):
            out[column] = out[column].astype(out[column].cat.categories.dtype)
    return out


def _event_table(
    shown: pd.DataFrame,
    view: S.ViewState,
    store_ds: Dataset | None,
    newest: pd.DataFrame | None = None,
    *,
    view_key: tuple[Any, ...] | None = None,
) -> None:
    """The events table and its downloads. With a database (``store_ds``) the table lists
    the events inside the map (``newest``: the most recent of them with every column, when
    ``shown`` holds only the columns the map aggregates), and the downloads ask the
    database for the whole window."""
    unplaced = int(shown[schema.LATITUDE].isna().sum()) if schema.LATITUDE in shown else 0
    where = f", {unplaced} of them not on the map (place not found)" if unplaced else ""
    what = "Events in the window" if store_ds is None else "Events in the window inside the map"
    whole = "all of them" if store_ds is None else "every event of the window"
    rows = shown if newest is None else newest
    columns = [c for c in TABLE_COLUMNS if c in rows]
    table = pd.DataFrame(rows[columns])
    listed = table
    if len(shown) > TABLE_MAX_ROWS:
        # the most recent, newest first (a database sends just those, in that order)
        listed = (table if newest is not None else table.iloc[::-1]).iloc[:TABLE_MAX_ROWS]
        st.caption(
            f"{what} ({len(shown):,}{where}): the {TABLE_MAX_ROWS:,} most recent "
            f"are listed; the downloads below hold {whole}"
        )
    else:
        extra = "" if store_ds is None else f"; the downloads hold {whole}"
        st.caption(f"{what} ({len(shown):,}{where}); click a column header to sort{extra}")
    # Cut on the page only: the downloads below are made from `table`, every character kept.
    cells, cut = through_cache(
        view_key and ("events-table", view_key),
        lambda: cap_cells(blank_missing(_plain_text(listed))),
    )
    if cut:
        st.caption(
            f"{cut:,} text {'cell is' if cut == 1 else 'cells are'} longer than "
            f"{TABLE_CELL_MAX_CHARS:,} characters: cut here (…), whole in the downloads"
        )
    as_text = {c for c in cells.columns if cells[c].dtype == object}
    st.dataframe(
        cells,
        hide_index=True,
        width="stretch",
        height=min(420, 38 + 35 * max(1, len(listed))),
        column_order=[c for c in SHOWN_ORDER if c in cells.columns],
        column_config={
            schema.EVENT_DATE: st.column_config.DateColumn("Date", format="YYYY-MM-DD"),
            schema.EVENT_TYPE: st.column_config.TextColumn("Type"),
            schema.SUB_EVENT_TYPE: st.column_config.TextColumn("Sub-type"),
            schema.ACTOR1: st.column_config.TextColumn("Actor 1"),
            schema.ACTOR2: st.column_config.TextColumn("Actor 2"),
            schema.LOCATION: st.column_config.TextColumn("Place"),
            schema.ADMIN1: st.column_config.TextColumn("Admin1"),
            schema.COUNTRY: st.column_config.TextColumn("Country"),
            schema.FATALITIES: (
                st.column_config.TextColumn("Fatalities", help="Empty: unknown (not zero)")
                if schema.FATALITIES in as_text
                else st.column_config.NumberColumn(
                    "Fatalities", format="%d", help="Empty: unknown (not zero)"
                )
            ),
            schema.CONTROLLER: st.column_config.TextColumn("Controlled by", width="medium"),
            schema.CONTROLLER_CONFIDENCE: st.column_config.TextColumn("Confidence"),
            schema.GEO_PRECISION: st.column_config.NumberColumn(
                "Precision", help="1 the named town, 2 near it, 3 only the region"
            ),
            schema.SOURCE: st.column_config.TextColumn("Source", width="medium"),
            schema.NOTES: st.column_config.TextColumn("Notes", width="large"),
            schema.EVENT_ID: st.column_config.TextColumn("Event id"),
            schema.LATITUDE: st.column_config.NumberColumn("Lat", format="%.4f"),
            schema.LONGITUDE: st.column_config.NumberColumn("Lon", format="%.4f"),
            schema.GEOCODE_METHOD: st.column_config.TextColumn("Geocoded by"),
        },
    )
    stem = f"events_{view.as_of.isoformat()}_{view.window}d"
    left, right, _ = st.columns([1, 1, 3])
    if store_ds is not None:  # the whole window, asked when a button is clicked

        def window_rows() -> pd.DataFrame:
            return store_ds.store.select(view.as_of, view.window, view.filters)

        def csv_rows() -> pd.DataFrame:
            return window_rows()[columns]

        geojson_rows = window_rows
    else:
        full = shown.drop(columns=["geometry"], errors="ignore")

        def csv_rows() -> pd.DataFrame:
            return table if len(table.columns) else shown

        def geojson_rows() -> pd.DataFrame:
            return full

    left.download_button(
        "Download CSV",
        data=lambda: to_csv_bytes(csv_rows()),
        file_name=f"{stem}.csv",
        mime="text/csv",
        on_click="ignore",
        key="dl_csv",
    )
    right.download_button(
        "Download GeoJSON",
        data=lambda: to_geojson_bytes(geojson_rows()),
        file_name=f"{stem}.geojson",
        mime="application/geo+json",
        on_click="ignore",
        key="dl_geojson",
    )
