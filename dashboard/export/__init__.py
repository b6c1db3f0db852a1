"""Exports of a dashboard view for briefings: PNG, PDF, animated GIF (or MP4), and a
standalone interactive HTML map, all made on the server with no browser and no network.

A view is the app's :class:`~dashboard.viewstate.ViewState` (a permalink parses into one),
so an export shows what the app shows for the same view::

    data = load_export_data()                     # or export_data(...) from the app's dataset
    view, notices = view_from_url("http://host/?date=2017-11-09&window=30", data.options)
    png = render_png(data, view, ExportSettings(scale=2))
    pdf = render_pdf(data, view, ExportSettings(paper="letter"))
    page = render_html(data, view)
    gif = render_animation(data, view, start=date(2017, 10, 1), end=date(2017, 12, 31))

Modules: ``data`` (what is drawn), ``view`` (which events, areas and extent), ``figure``
(the matplotlib page: map, legend, title block, scale bar, north arrow, footer),
``cartography`` (projection and map furniture), ``render`` (PNG, PDF, GIF, MP4 bytes),
``html`` (the interactive page), ``tiles`` (the optional tile background), ``footer``
(sources and attribution).
"""

from __future__ import annotations

import importlib
from typing import Any

# Imported on first use: ``import dashboard.export.data`` (the app does, at start) must not
# load matplotlib or folium.
_WHERE: dict[str, str] = {
    "ExportData": "data",
    "export_data": "data",
    "load_export_data": "data",
    "open_db_source": "data",
    "ExportError": "render",
    "ExportSettings": "render",
    "mp4_available": "render",
    "render_animation": "render",
    "render_pdf": "render",
    "render_png": "render",
    "render_html": "html",
    "animation_dates": "view",
    "parse_bbox": "view",
    "resolve_frame": "view",
    "view_from_url": "view",
}

__all__ = [
    "ExportData",
    "ExportError",
    "ExportSettings",
    "animation_dates",
    "export_data",
    "load_export_data",
    "mp4_available",
    "open_db_source",
    "parse_bbox",
    "render_animation",
    "render_html",
    "render_pdf",
    "render_png",
    "resolve_frame",
    "view_from_url",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'dashboard.export' has no attribute {name!r}")
    return getattr(importlib.import_module(f"dashboard.export.{module}"), name)
