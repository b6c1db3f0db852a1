"""The compare mode's change map as a PNG or a PDF, laid out as the single-date exports.

It draws what the page's "What changed hands" map draws (``dashboard.app.compare``): the
ground whose controller differs between two dates, filled in the colour of who holds it on
the second date and outlined (dashed) in the colour of who held it on the first, or, with a
focus controller, its gains and losses in two colours; the events of the two dates' span
that pass the filters and lie in that ground; the basemap and the towns. The legend names
both sets of controllers and states the figures of the page's summary (km² that changed
hands between controllers, newly and no longer mapped, events, overlaps counted as
contested), each saying what it leaves out.

The extent is the changed ground (the focus controller's, with a focus) with a margin, so
the picture shows the change at the largest scale that holds it whole; ``--bbox`` (the
settings' ``bbox``) wins. The footer carries the compare permalink.
"""

from __future__ import annotations

import datetime as dt
import io
import urllib.parse
from dataclasses import replace

import geopandas as gpd
import numpy as np
import shapely
from matplotlib.patches import PathPatch, Rectangle

from dashboard import compare as cmp
from dashboard import style
from dashboard.changemap import Change, change_bounds, controller_name, km2_text
from dashboard.export.cartography import mercator_geometries, polygon_path
from dashboard.export.data import ExportData
from dashboard.export.figure import (
    MapFigure,
    clip,
    filters_text,
    long_date,
)
from dashboard.export.ink import PX, blend, plural, rgba
from dashboard.export.legend import LegendPen, LegendSpec, event_key, legend_spec
from dashboard.export.render import (
    PAPERS,
    PNG_DPI,
    PNG_PX,
    ExportSettings,
    tile_source,
    view_metadata,
)
from dashboard.export.view import DATA_MARGIN, Frame, placed_rows, to_mercator, view_extent
from dashboard.layers.change import GAINED_LABEL, LOST_LABEL
from dashboard.timewindow import Selection
from dashboard.viewstate import (
    LAYER_CONTEXT,
    LAYER_EVENTS,
    MAP_CHANGES,
    MODE_COMPARE,
    CompareView,
    ViewState,
    compare_query,
    to_query,
)

DEFAULT_TITLE = "Territory that changed hands"
#: The smallest extent drawn around changed ground, in metres (a town-sized change is shown
#: with its surroundings, not as a blob filling the page).
MIN_EXTENT_M = 60_000.0


def change_permalink(view: ViewState, compare: CompareView) -> str:
    """The query of the page's permalink to this change map."""
    shown = replace(compare, mode=MODE_COMPARE, map=MAP_CHANGES)
    query = {**to_query(view), **compare_query(shown)}
    return urllib.parse.urlencode(query, doseq=True, safe=",")


def change_extent(
    data: ExportData,
    view: ViewState,
    change: Change,
    bbox: tuple[float, float, float, float] | None = None,
) -> tuple[float, float, float, float]:
    """The Web Mercator extent to draw: ``bbox``; else the changed ground (and the events in
    it) with a margin (:func:`dashboard.changemap.change_bounds`); with nothing changed,
    all the data."""
    if bbox is not None:
        return view_extent(data, view, bbox)
    box = change_bounds(change, events=LAYER_EVENTS in view.layers)
    if box is None:
        return view_extent(data, replace(view, center=None, zoom=None))
    x, y = to_mercator(np.array([box[0], box[2]]), np.array([box[1], box[3]]))
    cx, cy = (x[0] + x[1]) / 2, (y[0] + y[1]) / 2
    w = max(float(x[1] - x[0]) * (1 + 2 * DATA_MARGIN), MIN_EXTENT_M)
    h = max(float(y[1] - y[0]) * (1 + 2 * DATA_MARGIN), MIN_EXTENT_M)
    return (float(cx - w / 2), float(cy - h / 2), float(cx + w / 2), float(cy + h / 2))


def _short_date(day: dt.date) -> str:
    return f"{day.day} {day.strftime('%b %Y')}"


class ChangeFigure(MapFigure):
    """The change map on the single-date export's page: same background, basemap, scale
    bar, north arrow and footer; the pieces, events, title and legend of a comparison."""

    def __init__(self, data: ExportData, view: ViewState, change: Change, **kwargs) -> None:
        super().__init__(
            data, view=view, permalink=change_permalink(view, change.compare), **kwargs
        )
        self.change = change
        self.view = view
        self._pieces_outside = 0
        self._shown_pieces = change.pieces().iloc[:0]

    def draw_change(self) -> None:
        """Draw the changed ground, its events, the town labels, the title and the legend."""
        for artist in self._dynamic:
            artist.remove()
        self._dynamic = []
        view = self.view
        pieces = self._draw_pieces()
        events = self.change.shown_events()
        placed = placed_rows(events) if LAYER_EVENTS in view.layers else None
        frame = Frame(
            view=view,
            areas=gpd.GeoDataFrame(geometry=[], crs=4326),
            events=events,
            placed=placed if placed is not None else events.iloc[:0],
            selection=Selection(np.zeros(0, dtype=np.int64), 0, {}, {}, 0),
        )
        markers = self._draw_events(frame) if placed is not None else []
        if LAYER_CONTEXT in view.layers:
            self._draw_labels(frame, markers)
        self._draw_title(view)
        self._shown_pieces = pieces
        self._draw_legend(frame, legend_spec([frame], self.data.type_order))

    # --- the map --------------------------------------------------------------------------

    def _draw_pieces(self) -> gpd.GeoDataFrame:
        """Each piece in the page's colours; returns the pieces that reach into the frame."""
        pieces = self.change.pieces()
        if not len(pieces):
            return pieces
        pieces = pieces.to_crs(4326)
        geoms = mercator_geometries(pieces.geometry.array)
        tolerance = 0.5 / self._map_px_per_unit
        frame_box = shapely.box(*self.extent)
        reach = frame_box.buffer((self.extent[2] - self.extent[0]) * 0.05)
        old = [controller_name(v) for v in pieces[cmp.FROM]]
        new = [controller_name(v) for v in pieces[cmp.TO]]
        colours = style.controller_colours([*new, *old], palette=self._palette)
        inside = np.zeros(len(pieces), dtype=bool)
        for i, (geom, a, b) in enumerate(zip(geoms, old, new, strict=True)):
            if geom is None or shapely.is_empty(geom):
                continue
            inside[i] = shapely.intersects(geom, frame_box)
            path = polygon_path(shapely.simplify(clip(geom, reach), tolerance))
            if path is None:
                continue
            fill, line = self._piece_colours(a, b, colours)
            patch = PathPatch(
                path,
                facecolor=rgba(fill, style.CHANGE_FILL_OPACITY),
                edgecolor=rgba(line, 0.95),
                linewidth=style.CHANGE_OUTLINE_WEIGHT * PX,
                linestyle=(0, (4, 3)),
                zorder=2,
            )
            self.add(self.ax.add_patch(patch))
        self._pieces_outside = int((~inside).sum())
        return pieces[inside]

    def _piece_colours(self, old: str, new: str, colours: dict[str, str]) -> tuple[str, str]:
        """(fill, outline) of a piece, as ``layers.change.piece_style`` colours it."""
        focus = self.change.focus
        if focus is None:
            return colours[new], colours[old]
        colour = style.CHANGE_GAINED if new == focus else style.CHANGE_LOST
        return colour, colour

    # --- title and legend -------------------------------------------------------------------

    def _subtitle(self, view: ViewState) -> str:
        result = self.change.result
        a, b = long_date(result.day_a), long_date(result.day_b)
        parts = [f"Control on {a} compared with {b}"]
        if self.change.focus is not None:
            parts.append(f"Gains and losses of {self.change.focus}")
        if LAYER_EVENTS in view.layers:
            parts.append("Events of the span in the changed ground")
        active = filters_text(view)
        if active:
            parts.append(f"Filtered: {active}")
        return "  ·  ".join(parts)

    def _corner(self, view: ViewState) -> tuple[str, str]:
        result = self.change.result
        return "FROM – TO", f"{_short_date(result.day_a)} – {_short_date(result.day_b)}"

    def _legend_at(self, frame: Frame, legend: LegendSpec, k: float) -> float:
        pen = LegendPen(self, k)
        pieces = self._shown_pieces
        focus = self.change.focus
        result = self.change.result
        if focus is not None and len(pieces):
            pen.heading("Change")
            gained = bool((pieces[cmp.TO] == focus).any())
            lost = bool((pieces[cmp.FROM] == focus).any())
            for text, colour in (
                *([(GAINED_LABEL.format(focus=focus), style.CHANGE_GAINED)] if gained else []),
                *([(LOST_LABEL.format(focus=focus), style.CHANGE_LOST)] if lost else []),
            ):
                self._swatch(pen, colour, colour)
                pen.label(text)
                pen.y += pen.line
            pen.y += pen.line * 0.6
        elif focus is None and len(pieces):
            gaining = list(dict.fromkeys(controller_name(v) for v in pieces[cmp.TO]))
            losing = list(dict.fromkeys(controller_name(v) for v in pieces[cmp.FROM]))
            colours = style.controller_colours([*gaining, *losing], palette=self._palette)
            pen.heading(f"Held on {_short_date(result.day_b)} by (fill)")
            for name in cmp.controller_order(gaining):
                self._swatch(pen, colours[name], None)
                pen.label(name)
                pen.y += pen.line
            pen.y += pen.line * 0.6
            pen.heading(f"Held on {_short_date(result.day_a)} by (dashed outline)")
            for name in cmp.controller_order(losing):
                self._swatch(pen, None, colours[name])
                pen.label(name)
                pen.y += pen.line
            pen.y += pen.line * 0.6
        if LAYER_EVENTS in frame.view.layers and legend.event_types:
            event_key(pen, legend.event_types, "Events in changed ground", self.data.type_colours)
        pen.rule()
        pen.notes(self._change_counts(frame))
        return pen.y * k

    def _swatch(self, pen: LegendPen, fill: str | None, outline: str | None) -> None:
        rect = Rectangle(
            (0, pen.y + 1),
            pen.sw,
            pen.line - 3.5,
            facecolor=(
                blend(fill, style.CHANGE_FILL_OPACITY, style.LAND_FILL) if fill else "white"
            ),
            edgecolor=outline or "none",
            linewidth=1.6 * PX,
            linestyle=(0, (3, 2)),
        )
        self.add(pen.ax.add_patch(rect))

    def _change_counts(self, frame: Frame) -> list[str]:
        """The page's figures, each with what it leaves out."""
        result = self.change.result
        focus = self.change.focus
        between, newly, no_longer = result.changed_parts_km2()
        out: list[str] = []
        if focus is not None:
            km2_a, km2_b = result.area_of(focus)
            out.append(
                f"{focus}: {km2_text(km2_a)} → {km2_text(km2_b)} ({km2_b - km2_a:+,.0f} km²)"
            )
        every = "" if focus is None else ", all controllers"
        out.append(f"{km2_text(between)} changed hands between controllers{every}")
        if newly or no_longer:
            out.append(
                f"{km2_text(newly)} newly mapped and {km2_text(no_longer)} no longer mapped "
                "(not counted as changing hands)"
            )
        if self._pieces_outside:
            out.append(
                plural(self._pieces_outside, "piece") + " of changed ground outside this frame"
            )
        if LAYER_EVENTS in frame.view.layers:
            shown = len(frame.placed)
            where = "changed ground" if self.change.focus is None else "the ground shown"
            out.append(plural(shown, "event") + f" inside {where}")
            if frame.unplaced:
                out.append(plural(frame.unplaced, "event") + " without a known place (not drawn)")
        overlaps = [
            f"{_short_date(d)}: {km2_text(v)}"
            for d, v in zip((result.day_a, result.day_b), result.overlap_km2, strict=True)
            if v
        ]
        if overlaps:
            out.append("Overlapping areas counted as Contested (" + ", ".join(overlaps) + ")")
        last = self.data.options.areas_last
        if last is not None and result.day_b > last:
            out.append(
                f"The control areas' last change is {last.isoformat()}: "
                f"{result.day_b.isoformat()} is that map carried forward"
            )
        return out


def _figure(
    data: ExportData,
    view: ViewState,
    change: Change,
    settings: ExportSettings,
    *,
    size_in: tuple[float, float],
    dpi: float,
) -> ChangeFigure:
    figure = ChangeFigure(
        data,
        view,
        change,
        width_in=size_in[0],
        height_in=size_in[1],
        dpi=dpi,
        extent=change_extent(data, view, change, settings.bbox),
        title=settings.title or DEFAULT_TITLE,
        exported_at=settings.exported_at,
        tiles=tile_source(settings),
    )
    figure.draw_change()
    return figure


def _metadata(
    view: ViewState, change: Change, figure: ChangeFigure, when: dt.datetime
) -> dict[str, str]:
    meta = view_metadata(view, figure.degrees_extent(), when)
    permalink = change_permalink(view, change.compare)
    meta["Comment"] = meta["Comment"].replace(meta["View"][1:], permalink)
    meta["View"] = f"?{permalink}"
    return meta


def render_change_png(
    data: ExportData, view: ViewState, change: Change, settings: ExportSettings | None = None
) -> bytes:
    """The change map as a PNG (1600 x 1000 pixels times ``settings.scale``); its text
    chunks hold the compare permalink and the extent."""
    settings = (settings or ExportSettings()).checked()
    when = settings.exported_at or dt.datetime.now(dt.UTC)
    settings = replace(settings, exported_at=when)
    figure = _figure(
        data,
        view,
        change,
        settings,
        size_in=(PNG_PX[0] / PNG_DPI, PNG_PX[1] / PNG_DPI),
        dpi=PNG_DPI * settings.scale,
    )
    out = io.BytesIO()
    figure.fig.savefig(
        out,
        format="png",
        dpi=figure.fig.dpi,
        metadata={"Software": "conflictmap", **_metadata(view, change, figure, when)},
    )
    return out.getvalue()


def render_change_pdf(
    data: ExportData, view: ViewState, change: Change, settings: ExportSettings | None = None
) -> bytes:
    """The change map as a one-page landscape PDF (A4 or Letter), vector, searchable."""
    settings = (settings or ExportSettings()).checked()
    when = settings.exported_at or dt.datetime.now(dt.UTC)
    settings = replace(settings, exported_at=when)
    figure = _figure(data, view, change, settings, size_in=PAPERS[settings.paper], dpi=200)
    result = change.result
    out = io.BytesIO()
    figure.fig.savefig(
        out,
        format="pdf",
        metadata={
            "Title": figure.title,
            "Subject": f"Changes of control from {result.day_a.isoformat()} to "
            f"{result.day_b.isoformat()}",
            "Keywords": _metadata(view, change, figure, when)["Comment"],
            "Creator": "conflictmap",
            "CreationDate": when,
        },
    )
    return out.getvalue()
