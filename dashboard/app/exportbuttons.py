"""Download buttons for the current view as PNG, PDF and standalone HTML.

Each file is made by ``dashboard.export`` from the dataset already loaded (with a database:
the view's window, asked then) and the view the page shows (the same ``ViewState`` its
permalink holds: date, window, filters, layers, centre and zoom) over the extent the map
last reported (its bounds as the browser has them, whatever the size of the map's frame),
only when the reader asks for it, so moving the slider costs nothing extra. A file made
for another view or extent is never offered.

Making a file is a step of the page's own run ("Make PNG", then "Download PNG"), not a
callable handed to ``st.download_button``: Streamlit runs such a callable outside the
page, and when it raises the reader sees at most "Failed to generate file for download"
for five seconds, with no reason. Here a failure stays on the page as a message that says
which file could not be made and why, and the button offers to try again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

import streamlit as st

from dashboard.app import runslots
from dashboard.app.loaders import Dataset, context_refs, load_context
from dashboard.app.mapview import reported_bounds
from dashboard.app.safetext import md
from dashboard.changemap import Change
from dashboard.errors import DashboardError
from dashboard.export.data import ExportData
from dashboard.timewindow import DateIndex
from dashboard.viewstate import CompareView, ViewState

LOGGER = logging.getLogger(__name__)
#: Degrees west, south, east, north: the extent the map shows.
BBox = tuple[float, float, float, float]
#: Makes one file of a view over an extent (None: the view's centre and zoom).
Maker = Callable[[Dataset, ViewState, BBox | None], bytes]
#: Session key of the files made for the view on show (format -> :class:`Made`).
K_MADE = "map_exports_made"
#: (format, name in messages, MIME type), in the order of the buttons.
FORMATS: tuple[tuple[str, str, str], ...] = (
    ("png", "PNG", "image/png"),
    ("pdf", "PDF", "application/pdf"),
    ("html", "HTML page", "text/html"),
)


def _data(ds: Dataset, view: ViewState, *, window_events: bool = True) -> ExportData:
    """What an export of ``view`` draws from. ``window_events=False``: no events of the
    view's window (the change map brings its own), so a database is not asked for them."""
    from dashboard.export.data import Context, export_data

    countries_ref, towns_ref = context_refs()
    countries, towns = load_context(countries_ref.token, towns_ref.token)
    events = ds.events
    index: DateIndex | None = ds.index
    if ds.store is not None:  # a database: the view's window, every column, asked on click
        from dashboard.store import no_events

        events = (
            ds.store.select(view.as_of, view.window, view.filters) if window_events else no_events()
        )
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


def _png(ds: Dataset, view: ViewState, bbox: BBox | None = None) -> bytes:
    from dashboard.export import ExportSettings, render_png

    return render_png(_data(ds, view), view, ExportSettings(bbox=bbox))


def _pdf(ds: Dataset, view: ViewState, bbox: BBox | None = None) -> bytes:
    from dashboard.export import ExportSettings, render_pdf

    return render_pdf(_data(ds, view), view, ExportSettings(bbox=bbox))


def _html(ds: Dataset, view: ViewState, bbox: BBox | None = None) -> bytes:
    from dashboard.export import ExportSettings, render_html

    return render_html(_data(ds, view), view, ExportSettings(bbox=bbox)).encode("utf-8")


@dataclass(frozen=True)
class Made:
    """A file made for one view of one dataset over one extent: its bytes, or why it could
    not be made."""

    dataset: str
    view: ViewState
    bbox: BBox | None = None
    data: bytes | None = None
    error: str | None = None
    #: The compared dates and focus of a change map (None: the single-date map).
    compare: CompareView | None = None


def make_file(
    make: Maker, name: str, ds: Dataset, view: ViewState, bbox: BBox | None = None
) -> Made:
    """Run ``make`` for the view; any failure becomes a message for the reader.

    Parameters
    ----------
    make
        ``_png``, ``_pdf`` or ``_html`` (or any function of the dataset, the view and the
        extent).
    name
        What the file is called in the message ("PNG", "PDF", "HTML page").
    ds, view
        The dataset and the view on show.
    bbox
        The extent the map shows (degrees west, south, east, north); None: the view's
        centre and zoom over the app's usual map size.

    Returns
    -------
    Made
        The bytes, or ``error``: one line of plain text (escape it for markdown) naming
        the file and the reason (the problem itself for the project's own errors; for
        anything else its kind, with the traceback in the server log).
    """
    try:
        return Made(ds.key, view, bbox, data=make(ds, view, bbox))
    except DashboardError as exc:
        return Made(ds.key, view, bbox, error=f"The {name} could not be made: {exc}")
    except Exception as exc:  # whatever it is, the reader must be told
        LOGGER.exception("making the %s of %s failed", name, view)
        return Made(
            ds.key,
            view,
            bbox,
            error=(
                f"The {name} could not be made ({type(exc).__name__}); the server log has "
                "the details. The other formats may still work, and the command "
                "conflictmap export makes the same file."
            ),
        )


def _shows_same(made: Made, dataset: str, view: ViewState, bbox: BBox | None) -> bool:
    """Whether ``made`` shows what the page shows: the same dataset, view and extent.

    Once the map has reported its extent, that extent (with the zoom) is where the file
    looks, and the centre is not compared: Leaflet reports first the centre it was asked
    to show, then, after its frame is resized, the one its pixels give (a fraction of a
    pixel apart, the same bounds). A file made between the two shows the screen; dropping
    it would swap its Download button back to Make with nothing moved.

    Parameters
    ----------
    made
        A file made earlier.
    dataset, view, bbox
        The dataset key, the view and the extent the map reported (None before its first
        report) on this run.

    Returns
    -------
    bool
        True when the file may still be offered.
    """
    if made.dataset != dataset or made.bbox != bbox:
        return False
    if bbox is None:
        return made.view == view
    return replace(made.view, center=None) == replace(view, center=None)


def export_buttons(ds: Dataset, view: ViewState) -> None:
    """PNG (1600 x 1000), PDF (A4 landscape) and offline HTML of the view, made on click.

    "Make PNG" makes the file for the view on show (a second or two) over the extent the
    map last reported; its place is then taken by "Download PNG". Moving to another view
    or moving the map drops what was made; a file that could not be made leaves a message
    under the buttons.
    """
    makers: dict[str, Maker] = {"png": _png, "pdf": _pdf, "html": _html}
    ss = st.session_state
    bbox = reported_bounds()
    # Files of another view, extent or dataset are stale: dropped, so they are neither
    # offered nor kept in memory.
    made: dict[str, Made] = {
        fmt: m for fmt, m in (ss.get(K_MADE) or {}).items() if _shows_same(m, ds.key, view, bbox)
    }
    stem = f"map_{view.as_of.isoformat()}_{view.window}d"
    with st.container(key="map-exports"):
        st.caption(
            "The map as a picture for a slide (PNG), a printable page (PDF) or an interactive "
            "page that opens without a network (HTML); for GIF/MP4 use `conflictmap export`"
        )
        _file_buttons(
            made,
            FORMATS,
            lambda fmt, name: make_file(makers[fmt], name, ds, view, bbox),
            key="map",
            stem=stem,
            what="this view",
        )
    ss[K_MADE] = made


def _file_buttons(
    made: dict[str, Made],
    formats: tuple[tuple[str, str, str], ...],
    make: Callable[[str, str], Made],
    *,
    key: str,
    stem: str,
    what: str,
) -> None:
    """A row of "Make X" buttons, each replaced by "Download X" once its file is made
    (``make(format, name)``, stored in ``made``), and the message of any that failed."""
    cols = st.columns([1, 1, 1, 2])
    for col, (fmt, name, mime) in zip(cols, formats, strict=False):
        slot = col.empty()
        short = fmt.upper()
        current = made.get(fmt)
        missing = current is None or current.data is None
        if missing and slot.button(f"Make {short}", key=f"mk_{key}_{fmt}", help=f"Make the {name}"):
            # Seconds of drawing: the run gives its slot to other sessions' steps meanwhile.
            with st.spinner(f"Making the {name} of {what}…"), runslots.released():
                current = made[fmt] = make(fmt, name)
        if current is not None and current.data is not None:
            slot.download_button(
                f"Download {short}",
                data=current.data,
                file_name=f"{stem}.{fmt}",
                mime=mime,
                on_click="ignore",
                key=f"dl_{key}_{fmt}",
            )
    for fmt, _, _ in formats:
        error = made[fmt].error if fmt in made else None
        if error:
            st.error(md(error, limit=400), icon=":material/error:")


#: Session key of the change-map files made for the comparison on show.
K_CHANGE_MADE = "change_exports_made"


def change_export_buttons(ds: Dataset, view: ViewState, change: Change) -> None:
    """PNG (1600 x 1000) and PDF (A4 landscape) of the change map on show, made on click,
    as ``conflictmap export --compare`` makes them (framed on the changed ground)."""
    from dashboard.export import ExportSettings
    from dashboard.export.change import render_change_pdf, render_change_png

    renderers = {"png": render_change_png, "pdf": render_change_pdf}

    def maker(fmt: str) -> Maker:
        def make(ds: Dataset, view: ViewState, bbox: BBox | None) -> bytes:
            data = _data(ds, view, window_events=False)
            return renderers[fmt](data, view, change, ExportSettings(bbox=bbox))

        return make

    ss = st.session_state
    made: dict[str, Made] = {
        fmt: m
        for fmt, m in (ss.get(K_CHANGE_MADE) or {}).items()
        if m.dataset == ds.key and m.view == view and m.compare == change.compare
    }
    a, b = change.result.day_a.isoformat(), change.result.day_b.isoformat()
    with st.container(key="change-exports"):
        st.caption(
            "The change map as a picture for a slide (PNG) or a printable page (PDF), framed "
            "on the ground that changed hands; `conflictmap export --compare` makes the same"
        )
        _file_buttons(
            made,
            FORMATS[:2],
            lambda fmt, name: replace(
                make_file(maker(fmt), name, ds, view), compare=change.compare
            ),
            key="change",
            stem=f"changes_{a}_{b}",
            what="the change map",
        )
    ss[K_CHANGE_MADE] = made
