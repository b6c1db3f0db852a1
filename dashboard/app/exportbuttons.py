"""Download buttons for the current view as PNG, PDF and standalone HTML.

Each file is made only when its button is clicked (``st.download_button(data=callable)``),
by ``dashboard.export`` from the dataset already loaded (with a database: the view's window,
asked then) and the view the page shows (the same ``ViewState`` its permalink holds), so
moving the slider costs nothing extra.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import streamlit as st

from dashboard.app.loaders import Dataset, context_refs, load_context
from dashboard.app.state import ViewState
from dashboard.export.data import ExportData


def _data(ds: Dataset, view: ViewState) -> ExportData:
    from dashboard.export.data import Context, export_data

    countries_ref, towns_ref = context_refs()
    countries, towns = load_context(countries_ref.token, towns_ref.token)
    events, index = ds.events, ds.index
    if ds.store is not None:  # a database: the view's window, every column, asked on click
        events = ds.store.select(view.as_of, view.window, view.filters)
        index = None  # export_data indexes the window's events
    data = export_data(
        events,
        ds.areas,
        index=index,
        options=ds.options,
        context=Context(countries, towns),
        events_name=ds.events_name,
        areas_names=ds.areas_names,
    )
    if ds.store is not None:
        return replace(data, events_extent=ds.extent)
    return replace(data, area_ledger=ds.area_ledger)


def _png(ds: Dataset, view: ViewState) -> bytes:
    from dashboard.export import render_png

    return render_png(_data(ds, view), view)


def _pdf(ds: Dataset, view: ViewState) -> bytes:
    from dashboard.export import render_pdf

    return render_pdf(_data(ds, view), view)


def _html(ds: Dataset, view: ViewState) -> bytes:
    from dashboard.export import render_html

    return render_html(_data(ds, view), view).encode("utf-8")


def _maker(
    make: Callable[[Dataset, ViewState], bytes], ds: Dataset, view: ViewState
) -> Callable[[], bytes]:
    """What the button calls on click (made per button, so each keeps its own format)."""
    return lambda: make(ds, view)


def export_buttons(ds: Dataset, view: ViewState) -> None:
    """PNG (1600 x 1000), PDF (A4 landscape) and offline HTML of the view, made on click."""
    stem = f"map_{view.as_of.isoformat()}_{view.window}d"
    buttons: tuple[tuple[str, str, str, Callable[[Dataset, ViewState], bytes]], ...] = (
        ("Download PNG", "png", "image/png", _png),
        ("Download PDF", "pdf", "application/pdf", _pdf),
        ("Download HTML", "html", "text/html", _html),
    )
    with st.container(key="map-exports"):
        st.caption(
            "The map as a picture for a slide (PNG), a printable page (PDF) or an interactive "
            "page that opens without a network (HTML); for GIF/MP4 use `conflictmap export`"
        )
        cols = st.columns([1, 1, 1, 2])
        for col, (label, fmt, mime, make) in zip(cols, buttons, strict=False):
            col.download_button(
                label,
                data=_maker(make, ds, view),
                file_name=f"{stem}.{fmt}",
                mime=mime,
                on_click="ignore",
                key=f"dl_map_{fmt}",
            )
