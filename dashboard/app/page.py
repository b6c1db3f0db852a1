"""The page: load (cached), read the URL once, draw the sidebar, run the view fragment."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import schema, style
from dashboard.app import auth, gcpolicy, runslots, sidebar, view
from dashboard.app import compare as compare_mode
from dashboard.app import session as K
from dashboard.app.loaders import Dataset, configured_db, db_store, load_dataset, load_db_dataset
from dashboard.app.mapview import ensure_assets
from dashboard.app.safetext import md
from dashboard.app.timeline import range_freq
from dashboard.errors import DashboardError
from dashboard.timewindow import Filters, combine, filter_masks, period_counts, weekly_counts

log = logging.getLogger(__name__)

TITLE = "Conflict map: events and territorial control"
#: Set to "0" to run the view without st.fragment (the benchmark's baseline).
VIEW_FRAGMENT_ENV = "CONFLICTMAP_VIEW_FRAGMENT"
#: The database's data version (DbStore.token) this session last saw.
K_DB_TOKEN = "db_token"


_PAGE_CSS = """
<style>
[data-testid="stMainBlockContainer"] { padding-top: 2.2rem; padding-bottom: 2rem; }
/* The run counters are for the browser tests (which runs a step causes), not for readers:
   kept in the page, never shown. */
.st-key-diagnostics { display: none !important; }
</style>
"""


def main() -> None:
    """Draw the whole page (the entry script calls this on every run)."""
    _page()
    # Reached only by a run that drew the page (a stop or a rerun raises past it).
    gcpolicy.freeze_once()


def _page() -> None:
    st.set_page_config(page_title="Conflict map", layout="wide", initial_sidebar_state="expanded")
    access = auth.require_access()  # stops here, before any data, unless access is granted
    ensure_assets()
    # Static CSS only (no data): less empty space above the title, so the map sits higher.
    st.html(_PAGE_CSS)
    ss = st.session_state
    ss[K.K_RUNS] = ss.get(K.K_RUNS, 0) + 1

    sources = sidebar.current_sources()
    try:
        db_url = None if sources.uploaded else configured_db()  # an upload is shown as such
        if db_url:
            ds = _db_dataset(db_url)
        else:
            ds = load_dataset(sources.events, sources.areas, sources.payloads, read=sources.read)
    except DashboardError as exc:
        st.error(f"The data could not be loaded: {md(exc, limit=600)}")
        if sources.uploaded:
            sidebar.reset_sources()
            st.button("Back to the original data")
        st.stop()
        return

    K.start(ds.options, sources.key)
    mode = compare_mode.start(ds, sources.key)  # the sidebar's mode switch; URL read once
    st.markdown(f"#### {TITLE}")
    auth.show_attribution(access, ds, sources)
    for notice in ss.get(K.K_NOTICES) or []:
        st.warning(md(notice, limit=300))

    sidebar.render_data_section(ds, sources)
    slots = sidebar.render_filters(ds.options)
    sidebar.render_layers()
    if mode == compare_mode.MODE_COMPARE:
        compare_mode.render(ds)
        return

    prepared = _prepare(ds)
    if os.environ.get(VIEW_FRAGMENT_ENV, "1") == "0":
        # Benchmark baseline only (benchmarks/bench_slider.py): every change reruns the page.
        view.render(ds, prepared, slots)
        return
    playing = bool(ss.get(K.K_PLAYING))
    run_every = float(ss.get(K.K_PLAY_SPEED, 1.0)) if playing else None
    # Playing is a fragment of its own (another function, so another fragment id). The
    # browser's Play timer goes on sending ticks until the answer to Pause reaches it; a
    # tick that reaches the server after the Pause was answered then names a fragment the
    # page no longer has, and Streamlit drops it. Sent to the same fragment, it reran the
    # view with the slider of a step past the Pause: the map moved on, the slider did not.
    body = _playing_view if playing else _view
    fragment = st.fragment(run_every=run_every)(body)
    fragment(ds, prepared, slots)


def _view(ds: Dataset, prepared: view.Prepared, slots: Mapping[str, Any]) -> None:
    """The view fragment: :func:`view.render` in one of the process's run slots (its reruns
    do not pass through :func:`main`). A database's view waits on the database, not on
    this process: it takes no slot."""
    with runslots.run_slot() if ds.store is None else contextlib.nullcontext():
        view.render(ds, prepared, slots)


def _playing_view(ds: Dataset, prepared: view.Prepared, slots: Mapping[str, Any]) -> None:
    """The view while playing: :func:`_view` under a fragment id of its own."""
    _view(ds, prepared, slots)


def _db_dataset(url: str) -> Dataset:
    """The database's dataset at its newest data version (asked on every run, so loads made
    by any process show here). When the version cannot be asked, the version this session
    saw last: the view's own queries then say that the database is gone."""
    from dashboard.store import DatabaseError

    ss = st.session_state
    try:
        token = db_store(url).token()
    except DatabaseError:
        if K_DB_TOKEN not in ss:
            raise
        token = ss[K_DB_TOKEN]
    ss[K_DB_TOKEN] = token
    return load_db_dataset(url, token)


def _prepare(ds: Dataset) -> view.Prepared:
    """Filter-dependent, date-independent parts: the timeline counts over all dates."""
    state = K.current_state(ds.options)
    if ds.store is None:
        return _prepared(ds.key, state.filters, ds)
    from dashboard.store import DatabaseError

    try:
        return _prepared_db(ds.key, state.filters, ds)
    except DatabaseError as exc:
        st.warning(f"{md(exc, limit=300)}. The timeline is empty until it is back.")
        return _prepared_from(ds, pd.DataFrame(columns=["period", schema.EVENT_TYPE, "events"]))


@st.cache_data(show_spinner=False, max_entries=64)
def _prepared(dataset_key: str, filters: Filters, _ds: Dataset) -> view.Prepared:
    # Keyed on the dataset's identity and the filters: a million rows are counted once per
    # filter choice, not on every run of the page.
    ds = _ds
    masks = filter_masks(ds.events, filters)
    columns = [c for c in (schema.EVENT_DATE, schema.EVENT_TYPE) if c in ds.events]
    kept = ds.events.loc[combine(masks, len(ds.events)), columns]
    return _prepared_from(ds, period_counts(kept, freq="D"))


@st.cache_data(show_spinner=False, max_entries=64)
def _prepared_db(dataset_key: str, filters: Filters, _ds: Dataset) -> view.Prepared:
    # The database counts per day and type (one GROUP BY); cached per data version (the
    # key) and filter choice.
    return _prepared_from(_ds, _ds.store.daily_counts(filters))


def _prepared_from(ds: Dataset, daily: pd.DataFrame) -> view.Prepared:
    freq = range_freq(ds.options.first, ds.options.last)
    counts = daily if freq == "D" else weekly_counts(daily)
    # The palette's order first, then the data's other types (extra colours in that order),
    # so the chart, the points and the legend agree.
    in_data = set(ds.options.event_types)
    types = [t for t in style.EVENT_TYPE_COLOURS if t in in_data]
    types += [t for t in ds.options.event_types if t not in types]
    return view.Prepared(
        timeline_counts=counts,
        timeline_freq=freq,
        daily_counts=daily,
        type_order=tuple(types),
        colours=style.event_type_colours(types),
    )
