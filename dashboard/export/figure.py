"""The static map of one view: a matplotlib figure laid out for a slide or a printed page.

Layout (sizes in inches, so a PNG and an A4 PDF read alike)::

    +---------------------------------------------------------------+
    | Title                                              AS OF      |
    | control on ..., events ... (N days), filters       9 Nov 2017 |
    +----------------------------------------------+----------------+
    |                                           N  | Controlled by  |
    |                    map                       | Event type     |
    | [scale bar]                                  | Symbols        |
    |                                              | counts         |
    +----------------------------------------------+----------------+
    | Sources and attribution; exported at ...; view permalink      |
    +---------------------------------------------------------------+

Styling comes from ``dashboard.style`` (the app's palettes, opacities and symbol sizes).
No pyplot: every figure is its own object, so one Streamlit process can render several
at once.
"""

from __future__ import annotations

import datetime as dt
import math
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import shapely
import shapely.ops
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch
from matplotlib.path import Path
from matplotlib.transforms import Bbox, ScaledTranslation

from dashboard import aggregate, schema, style
from dashboard import basemap as bm
from dashboard.export.cartography import mercator_geometries, north_arrow, polygon_path, scale_bar
from dashboard.export.data import ExportData
from dashboard.export.footer import attribution_lines, exported_line
from dashboard.export.ink import (
    DATE_PT,
    FONT_FAMILY,
    FOOTER_PT,
    FURNITURE_PT,
    INK,
    MUTED,
    PX,
    RULE,
    SUBTITLE_MIN_PT,
    SUBTITLE_PT,
    TITLE_PT,
    fit_width,
    rgba,
)
from dashboard.export.labels import LabelPlacer, town_candidates, town_table
from dashboard.export.legend import (
    LegendPen,
    LegendSpec,
    controller_key,
    event_key,
    hexagon_key,
    legend_spec,
    sorted_controllers,
    view_counts,
)
from dashboard.export.text import draw_text
from dashboard.export.view import (
    Frame,
    fit_extent,
    from_mercator,
    permalink_query,
    to_mercator,
    within,
)
from dashboard.timewindow import FILTER_LABELS, window_bounds
from dashboard.viewstate import LAYER_AREAS, LAYER_CONTEXT, LAYER_EVENTS, ViewState

DEFAULT_TITLE = "Conflict events and territorial control"
#: A tile background: an RGB image and the Web Mercator extent it covers.
Background = tuple[np.ndarray, tuple[float, float, float, float]]
#: Gives the background of an extent at a pixel size, or None when tiles cannot be had.
TileSource = Callable[[tuple[float, float, float, float], tuple[int, int]], Background | None]
#: Counts beside points that stand for several events: above the circles (zorder 6),
#: below the town labels (8).
STACK_COUNT_ZORDER = 6.5
#: Event symbols are drawn this much larger than on screen: a slide or a printed page is
#: seen from further away than a monitor.
SYMBOL_SCALE = 1.25
#: Most footer lines one source line may wrap to.
FOOTER_LINES_PER_SOURCE = 3


@dataclass(frozen=True)
class Layout:
    """Where the parts of the page go, in inches from the bottom-left corner."""

    width: float
    height: float
    margin: float = 0.25
    title_height: float = 0.72
    legend_width: float = 2.25
    gap: float = 0.14
    footer_line: float = 0.118

    def footer_height(self, lines: int) -> float:
        return 0.06 + lines * self.footer_line

    def map_box(self, footer_lines: int) -> tuple[float, float, float, float]:
        """(left, bottom, width, height) of the map, in inches."""
        bottom = self.margin + self.footer_height(footer_lines) + self.gap
        top = self.height - self.margin - self.title_height - self.gap
        left = self.margin
        right = self.width - self.margin - self.legend_width - self.gap
        return left, bottom, right - left, top - bottom

    def legend_box(self, footer_lines: int) -> tuple[float, float, float, float]:
        _, bottom, _, height = self.map_box(footer_lines)
        return self.width - self.margin - self.legend_width, bottom, self.legend_width, height


@cache
def arabic_supported() -> bool:
    """Whether text in Arabic script renders joined and right to left.

    Matplotlib shapes text with libraqm from 3.11 on; DejaVu Sans (shipped with matplotlib)
    has the Arabic glyphs and the OpenType rules. Without both, town labels stay Latin
    (unjoined Arabic letters in the wrong order would be worse than none).
    """
    from matplotlib import font_manager, ft2font

    if not getattr(ft2font, "__libraqm_version__", None):
        return False
    try:
        font = ft2font.FT2Font(font_manager.findfont(FONT_FAMILY[0], fallback_to_default=False))
    except (ValueError, OSError, RuntimeError):
        return False
    return all(font.get_char_index(ord(ch)) for ch in "دير الزور")


def long_date(day: dt.date) -> str:
    return f"{day.day} {day.strftime('%B %Y')}"


def _short_span(start: dt.date, end: dt.date) -> str:
    if start == end:
        return long_date(end)
    if start.year == end.year:
        head = f"{start.day} {start.strftime('%B')}" if start.month != end.month else f"{start.day}"
        return f"{head} – {long_date(end)}"
    return f"{long_date(start)} – {long_date(end)}"


def filters_text(view: ViewState) -> str:
    """The active filters in words, '' when none."""
    f = view.filters
    parts: list[str] = []
    for name, values in (
        ("event_types", f.event_types),
        ("sub_event_types", f.sub_event_types),
        ("actors", f.actors),
        ("countries", f.countries),
        ("admin1", f.admin1),
    ):
        if values:
            shown = ", ".join(values[:3]) + (
                f" and {len(values) - 3} more" if len(values) > 3 else ""
            )
            parts.append(f"{FILTER_LABELS[name].lower()} {shown}")
    if f.min_fatalities:
        parts.append(f"at least {f.min_fatalities} fatalities")
    if f.precisions and set(f.precisions) != set(schema.GEO_PRECISIONS):
        parts.append("location precision " + ", ".join(str(p) for p in f.precisions))
    return "; ".join(parts)


def subtitle_text(view: ViewState) -> str:
    """``Control of territory on ... · Events ... (N days)`` and the filters, if any."""
    start, end = window_bounds(view.as_of, view.window)
    days = "1 day" if view.window == 1 else f"{view.window} days"
    parts = []
    if LAYER_AREAS in view.layers:
        parts.append(f"Control of territory on {long_date(view.as_of)}")
    if LAYER_EVENTS in view.layers:
        parts.append(f"Events {_short_span(start, end)} ({days})")
    active = filters_text(view)
    if active:
        parts.append(f"Filtered: {active}")
    return "  ·  ".join(parts)


class MapFigure:
    """One figure; :meth:`draw` puts a frame on it (call again for the next frame).

    The background, country outlines, scale bar, north arrow and footer are drawn once;
    each :meth:`draw` replaces the control areas, events, town labels, legend and title.
    """

    def __init__(
        self,
        data: ExportData,
        *,
        width_in: float,
        height_in: float,
        dpi: float,
        extent: Sequence[float],
        view: ViewState,
        title: str | None = None,
        exported_at: dt.datetime | None = None,
        tiles: TileSource | None = None,
        view_note: str = "",
        permalink: str | None = None,
    ) -> None:
        self.data = data
        self._palette = data.palette  # one colour per controller on every frame
        self.layout = Layout(width_in, height_in)
        self.title = title or DEFAULT_TITLE
        self.fig = Figure(figsize=(width_in, height_in), dpi=dpi, facecolor="white")
        self.canvas = FigureCanvasAgg(self.fig)
        self.fig.set_layout_engine(None)
        self._dynamic: list[Any] = []
        self._hexes: aggregate.HexBins | None = None  # the last frame's, when aggregated
        self._events_outside = 0  # the last frame's located events outside the extent
        self.layers = view.layers
        self.arabic = arabic_supported()
        when = exported_at or dt.datetime.now(dt.UTC)
        # the footer's permalink: the view's, unless the figure shows another (compare mode)
        query = permalink_query(view) if permalink is None else permalink
        self._footer_head = [exported_line(when, query) + view_note]
        background = None
        if tiles is not None:
            # Fetch for the extent the map will show (grown a little: the footer may lose
            # its tiles line when the fetch fails, which makes the map taller).
            _, _, w, h = self.layout.map_box(len(self._footer(tiles=True)))
            wanted = fit_extent(fit_extent(extent, w / h), w / h * 0.9)
            background = tiles(wanted, (round(w * dpi), round(h * dpi)))
        self.tiles = background is not None
        footer = self._footer(tiles=self.tiles)
        self.footer_lines = footer
        left, bottom, w, h = self.layout.map_box(len(footer))
        self.ax = self.fig.add_axes(
            (left / width_in, bottom / height_in, w / width_in, h / height_in)
        )
        self.extent = fit_extent(extent, w / h)
        self._setup_map(background)
        self._draw_footer(footer)
        lx, ly, lw, lh = self.layout.legend_box(len(footer))
        self.legend_ax = self.fig.add_axes(
            (lx / width_in, ly / height_in, lw / width_in, lh / height_in)
        )
        self.legend_size = (lw * 72, lh * 72)  # points
        self._setup_legend_axes()
        self._map_px_per_unit = (w * dpi) / (self.extent[2] - self.extent[0])

    def _footer(self, *, tiles: bool) -> list[str]:
        return self._wrap_footer(attribution_lines(self.data, tiles=tiles) + self._footer_head)

    # --- static parts -------------------------------------------------------------------

    def _wrap_footer(self, lines: list[str]) -> list[str]:
        # DejaVu Sans averages about 0.55 em per character; a permalink's letters and signs are
        # wider (0.6 keeps its line inside the page).
        usable = (self.layout.width - 2 * self.layout.margin) * 72
        chars = max(40, int(usable / (FOOTER_PT * 0.6)))
        out: list[str] = []
        for line in lines:
            # A line names files (an upload's name, many area files): however long, it
            # keeps a few lines of the footer, never the room of the map.
            wrapped = textwrap.wrap(
                line,
                chars,
                subsequent_indent="   ",
                max_lines=FOOTER_LINES_PER_SOURCE,
                placeholder=" \u2026",
            )
            out.extend(wrapped or [""])
        return out

    def _setup_map(self, tiles: Background | None) -> None:
        ax = self.ax
        minx, miny, maxx, maxy = self.extent
        ax.set_xlim(minx, maxx)
        ax.set_ylim(miny, maxy)
        ax.set_aspect("equal", adjustable="box")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_facecolor(style.NO_TILES_BACKGROUND)
        for spine in ax.spines.values():
            spine.set_edgecolor("#666666")
            spine.set_linewidth(0.8)
        if tiles is not None:
            image, (tminx, tminy, tmaxx, tmaxy) = tiles
            ax.imshow(
                image,
                extent=(tminx, tmaxx, tminy, tmaxy),
                interpolation="bilinear",
                zorder=0,
                origin="upper",
            )
            ax.set_xlim(minx, maxx)
            ax.set_ylim(miny, maxy)
        self._countries = self._country_shapes()
        self._towns = town_table(self.data.context.towns, self.data.events, arabic=self.arabic)
        if LAYER_CONTEXT in self.layers:
            self._draw_basemap(tiles is not None)
        self._furniture_boxes: list[Bbox] = []
        bar = scale_bar(ax, self.extent, fontsize=FURNITURE_PT)
        arrow = north_arrow(ax, self.extent, fontsize=FURNITURE_PT + 1)
        self._furniture = bar + arrow

    def _draw_basemap(self, tiles: bool) -> None:
        """Land, lakes, rivers and borders (``dashboard/basemap.py``), as the page draws them.

        Over tiles only the borders: land, coasts and water are the tiles' own.
        """
        parts = self._countries["parts"]
        lines = {"facecolor": "none", "capstyle": "round", "joinstyle": "round"}
        land = self._countries["land"]
        if land is not None and not tiles:
            # The land's edge is the coastline (a bare country polygon's edge is a border,
            # drawn with the borders below).
            coast = bm.COAST if parts.layered else "none"
            patch = PathPatch(land, facecolor=style.LAND_FILL, edgecolor=coast, linewidth=0.6)
            self.ax.add_patch(patch).set_zorder(1)
        if self._countries["lakes"] is not None and not tiles:
            patch = PathPatch(
                self._countries["lakes"], facecolor=bm.WATER, edgecolor=bm.COAST, linewidth=0.5
            )
            self.ax.add_patch(patch).set_zorder(1.1)
        if self._countries["rivers"] is not None and not tiles:
            patch = PathPatch(self._countries["rivers"], edgecolor=bm.RIVER, linewidth=1.0, **lines)
            self.ax.add_patch(patch).set_zorder(1.2)
        if self._countries["borders"] is not None:
            patch = PathPatch(
                self._countries["borders"], edgecolor=style.COUNTRY_OUTLINE, linewidth=0.8, **lines
            )
            self.ax.add_patch(patch).set_zorder(4)

    def _country_shapes(self) -> dict[str, Any]:
        """The basemap's paths in Web Mercator, clipped to the frame, and the country labels."""
        parts = bm.split_basemap(self.data.context.countries)
        frame = shapely.box(*self.extent)
        out: dict[str, Any] = {"parts": parts, "labels": []}
        # Clipped in lon/lat first (a degree beyond the frame): the basemap's land reaches
        # the poles, where Mercator has no finite y.
        lon, lat = from_mercator(
            np.array([self.extent[0], self.extent[2]]), np.array([self.extent[1], self.extent[3]])
        )
        clip = shapely.box(lon[0] - 1, max(lat[0] - 1, -85.0), lon[1] + 1, min(lat[1] + 1, 85.0))
        for key in ("land", "lakes", "rivers", "borders"):
            geom = getattr(parts, key)
            if geom is not None:
                geom = shapely.intersection(geom, clip)
            if geom is None or geom.is_empty:
                out[key] = None
                continue
            (projected,) = mercator_geometries([geom])
            out[key] = (
                polygon_path(projected) if key in ("land", "lakes") else _line_path(projected)
            )
        if parts.countries:
            out["labels"] = self._outline_labels(parts.countries, clip, frame)
            return out
        metres_per_degree = 2 * math.pi * 6378137.0 / 360
        for label in parts.labels:
            (x,), (y,) = to_mercator(np.array([label.lon]), np.array([label.lat]))
            if not frame.contains(shapely.Point(x, y)):
                continue
            width = label.width * metres_per_degree
            out["labels"].append((label.name, float(x), float(y), label.area, width))
        return out

    @staticmethod
    def _outline_labels(
        countries: Sequence[tuple[str, shapely.Geometry]],
        clip: shapely.Geometry,
        frame: shapely.Polygon,
    ) -> list[tuple[str, float, float, float, float]]:
        """A name for each country with room in the frame, inside the part the frame shows
        (a neighbour cut by the frame is named at its edge, not at its far-off centre)."""
        labels = []
        outlines = [shapely.intersection(geom, clip) for _, geom in countries]
        projected = mercator_geometries(outlines)
        for (name, _), geom in zip(countries, projected, strict=True):
            if geom is None or shapely.is_empty(geom) or not shapely.is_valid(geom):
                continue
            visible = shapely.intersection(geom, frame)
            polygons = [p for p in shapely.get_parts(visible) if p.geom_type == "Polygon"]
            if not polygons or visible.area < 0.002 * frame.area:
                continue
            largest = max(polygons, key=lambda g: g.area)
            point = shapely.ops.polylabel(largest, tolerance=max(frame.area**0.5 / 500, 1.0))
            width = float(shapely.bounds(largest)[2] - shapely.bounds(largest)[0])
            labels.append((name, point.x, point.y, visible.area, width))
        return labels

    def _draw_footer(self, lines: list[str]) -> None:
        layout = self.layout
        x = layout.margin / layout.width
        rule_y = (layout.margin + layout.footer_height(len(lines))) / layout.height
        self.fig.add_artist(
            _hline(self.fig, rule_y, x, 1 - layout.margin / layout.width, RULE, 0.6)
        )
        for i, line in enumerate(lines):
            y = (
                layout.margin
                + layout.footer_height(len(lines))
                - 0.06
                - (i + 0.8) * layout.footer_line
            )
            text = draw_text(
                self.fig,
                x,
                y / layout.height,
                line,
                fontsize=FOOTER_PT,
                color=MUTED,
                ha="left",
                va="baseline",
                family=FONT_FAMILY,
            )
            # Lines are wrapped by an average letter's width; a line of wide letters (a
            # file named "WWW…") is cut at the page's edge instead of running past it.
            room = (layout.width - 2 * layout.margin) * self.fig.dpi
            fit_width(text, room, self.canvas.get_renderer(), min_size=FOOTER_PT)

    def _setup_legend_axes(self) -> None:
        ax = self.legend_ax
        w, h = self.legend_size
        ax.set_xlim(0, w)
        ax.set_ylim(h, 0)  # points from the top-left corner
        ax.axis("off")

    # --- per frame -----------------------------------------------------------------------

    def draw(self, frame: Frame, legend: LegendSpec | None = None) -> None:
        """Draw one frame's areas, events, labels, legend and title (replacing the last)."""
        for artist in self._dynamic:
            artist.remove()
        self._dynamic = []
        # The legend and its counts speak of what the frame shows, not of the whole data.
        shown = within(frame, self.degrees_extent())
        self._events_outside = shown.events_outside
        legend = legend or legend_spec([shown.frame], self.data.type_order)
        view = frame.view
        if LAYER_AREAS in view.layers:
            self._draw_areas(frame)
        markers: list[tuple[float, float, float]] = []
        self._hexes = None
        if LAYER_EVENTS in view.layers:
            if self._aggregated(frame):
                self._hexes = self._draw_hexagons(frame)
            else:
                markers = self._draw_events(frame)
        if LAYER_CONTEXT in view.layers:
            self._draw_labels(frame, markers)
        self._draw_title(view)
        self._draw_legend(shown.frame, legend)

    def degrees_extent(self) -> tuple[float, float, float, float]:
        """The extent the map shows, in degrees west, south, east, north."""
        minx, miny, maxx, maxy = self.extent
        lon, lat = from_mercator(np.array([minx, maxx]), np.array([miny, maxy]))
        return float(lon[0]), float(lat[0]), float(lon[1]), float(lat[1])

    def add(self, artist: Any) -> Any:
        """Keep ``artist`` as part of this frame (removed before the next one is drawn)."""
        self._dynamic.append(artist)
        return artist

    def _draw_areas(self, frame: Frame) -> None:
        areas = frame.areas
        if not len(areas):
            return
        geoms = mercator_geometries(areas.geometry.array)
        # Half a pixel of the output: finer detail cannot be seen.
        tolerance = 0.5 / self._map_px_per_unit
        frame_box = shapely.box(*self.extent).buffer((self.extent[2] - self.extent[0]) * 0.05)
        colours = style.controller_colours(
            sorted_controllers(areas[schema.CONTROLLER].tolist()), palette=self._palette
        )
        for geom, controller in zip(geoms, areas[schema.CONTROLLER].tolist(), strict=True):
            if geom is None or shapely.is_empty(geom):
                continue
            shown = shapely.simplify(clip(geom, frame_box), tolerance)
            path = polygon_path(shown)
            if path is None:
                continue
            name = schema.UNKNOWN if style.is_missing(controller) else str(controller)
            colour = colours.get(name, style.CONTROLLER_COLOURS[schema.UNKNOWN])
            if name == schema.NO_INFORMATION:
                patch = PathPatch(
                    path,
                    facecolor=rgba(colour, style.NO_INFORMATION_FILL_OPACITY),
                    edgecolor=rgba(style.NO_INFORMATION_EDGE, 0.9),
                    linewidth=1.0 * PX,
                    linestyle=(0, (2, 4)),
                    zorder=2,
                )
            elif name == schema.CONTESTED:
                patch = PathPatch(
                    path,
                    facecolor=rgba(colour, 0.15),
                    edgecolor=rgba(colour, 0.95),
                    linewidth=2.0 * PX,
                    linestyle=(0, (6, 4)),
                    hatch="////",
                    zorder=3,
                )
                patch.set_hatchcolor(rgba(colour, 0.65))
                patch.set_hatch_linewidth(1.6)
            else:
                patch = PathPatch(
                    path,
                    facecolor=rgba(colour, style.AREA_FILL_OPACITY),
                    edgecolor=rgba(colour, 0.9),
                    linewidth=style.AREA_OUTLINE_WEIGHT * PX,
                    zorder=2,
                )
            self.add(self.ax.add_patch(patch))

    @staticmethod
    def _aggregated(frame: Frame) -> bool:
        """Hexagons, as the app draws them: chosen, or "auto" above ``POINTS_MAX`` events
        (clusters and the heat map are drawn as points in a picture)."""
        mode = frame.view.points
        if mode == "auto":
            mode = aggregate.default_point_mode(len(frame.placed))
        return mode == "hexagons"

    def _draw_hexagons(self, frame: Frame) -> aggregate.HexBins | None:
        """The events aggregated into hexagons about as wide as on screen, filled by count on
        the app's ramp (:func:`style.count_classes`)."""
        placed = frame.placed
        if not len(placed):
            return None
        width_in = self.layout.map_box(len(self.footer_lines))[2]
        metres_per_pt = (self.extent[2] - self.extent[0]) / (width_in * 72)
        wanted = aggregate.HEX_PIXELS * PX * SYMBOL_SCALE * metres_per_pt
        size = aggregate.grow_cell_size(placed, max(wanted, aggregate.MIN_CELL_SIZE))
        bins = aggregate.hexbin(placed, cell_size=size, event_types=self.data.type_order)
        cells = bins.cells
        if not len(cells):
            return bins
        cx, cy = aggregate.hex_centre(
            cells[aggregate.Q].to_numpy(), cells[aggregate.R].to_numpy(), size
        )
        corner = size / np.sqrt(3)
        angles = np.radians(np.arange(6) * 60.0 - 30.0)  # pointy top
        polygons = np.stack(
            [cx[:, None] + corner * np.cos(angles), cy[:, None] + corner * np.sin(angles)],
            axis=-1,
        )
        classes = style.count_classes(int(cells[aggregate.COUNT].max()))
        lows = np.array([low for low, _, _, _ in classes])
        which = np.searchsorted(lows, cells[aggregate.COUNT].to_numpy(), side="right") - 1
        fills = [rgba(classes[i][2], style.HEX_FILL_OPACITY) for i in which]
        self.add(
            self.ax.add_collection(
                PolyCollection(
                    # An (n, 6, 2) array, matplotlib's fast path for polygons of one shape;
                    # its stubs only name a sequence of vertex arrays.
                    polygons,  # type: ignore[arg-type]
                    facecolors=fills,
                    edgecolors=rgba(style.HEX_OUTLINE, 0.9),
                    linewidths=style.HEX_OUTLINE_WIDTH * PX,
                    zorder=6,
                )
            )
        )
        return bins

    def _draw_events(self, frame: Frame) -> list[tuple[float, float, float]]:
        placed = frame.placed
        if not len(placed):
            return []
        colours = self.data.type_colours
        lon = pd.to_numeric(placed[schema.LONGITUDE]).to_numpy(dtype=float)
        lat = pd.to_numeric(placed[schema.LATITUDE]).to_numpy(dtype=float)
        x, y = to_mercator(lon, lat)
        fat = pd.to_numeric(placed[schema.FATALITIES], errors="coerce").to_numpy(dtype=float)
        radius = np.array([style.point_radius(None if np.isnan(f) else f) for f in fat])
        prec = (
            pd.to_numeric(placed[schema.GEO_PRECISION], errors="coerce").to_numpy(dtype=float)
            if schema.GEO_PRECISION in placed
            else np.full(len(placed), np.nan)
        )
        hollow = prec != 1
        unknown = np.isnan(fat)
        types = (
            placed[schema.EVENT_TYPE].astype("object").where(placed[schema.EVENT_TYPE].notna())
            if schema.EVENT_TYPE in placed
            else pd.Series([None] * len(placed))
        )
        type_names = [schema.UNKNOWN if style.is_missing(t) else str(t) for t in types]
        fill = np.array(
            [colours.get(t) or style.event_type_colours([t])[t] for t in type_names], dtype=object
        )
        # Hollow (approximate location) first so precise points stay on top; within each,
        # big circles first so a small one is never hidden under a big one.
        order = np.lexsort((-radius, ~hollow))
        size = (2 * radius * PX * SYMBOL_SCALE) ** 2
        rasterize = len(placed) > 5000
        for is_hollow in (True, False):
            for is_unknown in (False, True):
                pick = order[(hollow[order] == is_hollow) & (unknown[order] == is_unknown)]
                if not len(pick):
                    continue
                if is_hollow:
                    face = [rgba(c, style.HOLLOW_FILL_OPACITY) for c in fill[pick]]
                    edge = [rgba(c, 0.95) for c in fill[pick]]
                    width = 2.0 * PX
                else:
                    face = [rgba(c, style.POINT_FILL_OPACITY) for c in fill[pick]]
                    edge = [rgba(style.POINT_OUTLINE, 1.0)] * len(pick)
                    width = (1.2 if is_unknown else 0.7) * PX
                self.add(
                    self.ax.scatter(
                        x[pick],
                        y[pick],
                        s=size[pick],
                        c=face,
                        edgecolors=edge,
                        linewidths=width,
                        linestyles=(0, (2, 2)) if is_unknown else "solid",
                        zorder=6,
                        rasterized=rasterize,
                    )
                )
        markers = list(
            zip(x.tolist(), y.tolist(), (radius * PX * SYMBOL_SCALE).tolist(), strict=True)
        )
        return markers + self._draw_stack_counts(x, y, radius * PX * SYMBOL_SCALE)

    def _draw_stack_counts(
        self, x: np.ndarray, y: np.ndarray, radius_pt: np.ndarray
    ) -> list[tuple[float, float, float]]:
        """A count beside each point that stands for several events, as on the page.

        Events on the same pixel of the picture (the same coordinates, or a town's events
        geocoded a few metres apart) are one group; its count sits at the upper left of
        the group's largest circle, which stays at its place. Largest counts first; a count
        that would cover one already drawn is left out. Returns each count's place and size
        as a circle (data x, y, radius in points), for the town labels to avoid.
        """
        if len(x) < 2:
            return []
        px = np.rint(self.ax.transData.transform(np.column_stack([x, y]))).astype(np.int64)
        _, group, counts = np.unique(px, axis=0, return_inverse=True, return_counts=True)
        group = group.reshape(-1)
        # The largest circle of each group (groups are numbered 0..k-1, each present).
        order = np.lexsort((-radius_pt, group))
        leads = order[np.r_[0, np.flatnonzero(np.diff(group[order])) + 1]]
        stacked = np.flatnonzero(counts > 1)
        # Only groups on the map: events outside a framed export's extent are counted in
        # the legend, and their badge would land on the footer or the legend.
        window = self.ax.get_window_extent()
        lead_px = px[leads[stacked]]
        on_map = (
            (lead_px[:, 0] >= window.x0)
            & (lead_px[:, 0] <= window.x1)
            & (lead_px[:, 1] >= window.y0)
            & (lead_px[:, 1] <= window.y1)
        )
        stacked = stacked[on_map]
        stacked = stacked[np.argsort(-counts[stacked], kind="stable")]
        to_px = self.fig.dpi / 72
        taken: dict[tuple[int, int], list[tuple[float, float, float, float]]] = {}
        placed: list[tuple[float, float, float]] = []
        for g in stacked.tolist():
            lead = int(leads[g])
            text = f"{int(counts[g]):,}"
            offset = 0.71 * float(radius_pt[lead]) + 3.0 + 1.6 * len(text)  # points
            half_w, half_h = (2.0 + 1.9 * len(text)) * to_px, 5.0 * to_px
            cx, cy = px[lead, 0] - offset * to_px, px[lead, 1] + offset * to_px
            box = (cx - half_w, cy - half_h, cx + half_w, cy + half_h)
            # The boxes drawn so far, by the 64-pixel cells they touch: a look at a few.
            cells = [
                (i, j)
                for i in range(int(box[0] // 64), int(box[2] // 64) + 1)
                for j in range(int(box[1] // 64), int(box[3] // 64) + 1)
            ]
            near = (t for cell in cells for t in taken.get(cell, ()))
            if any(
                box[0] < t[2] and t[0] < box[2] and box[1] < t[3] and t[1] < box[3] for t in near
            ):
                continue
            for cell in cells:
                taken.setdefault(cell, []).append(box)
            beside = self.ax.transData + ScaledTranslation(
                -offset / 72, offset / 72, self.fig.dpi_scale_trans
            )
            self.add(
                draw_text(
                    self.ax,
                    x[lead],
                    y[lead],
                    text,
                    transform=beside,
                    ha="center",
                    va="center",
                    fontsize=5.8,
                    fontweight="bold",
                    color=INK,
                    family=FONT_FAMILY,
                    zorder=STACK_COUNT_ZORDER,
                    bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": INK, "lw": 0.5},
                )
            )
            centre = self.ax.transData.inverted().transform((cx, cy))
            placed.append((float(centre[0]), float(centre[1]), 3.0 + 2.2 * len(text)))
        return placed

    def _draw_labels(self, frame: Frame, markers: list[tuple[float, float, float]]) -> None:
        placer = LabelPlacer(
            self.ax,
            self.canvas.get_renderer(),
            furniture=self._furniture,
            markers=markers,
            map_px_per_unit=self._map_px_per_unit,
            add=self.add,
        )
        placer.countries(self._countries["labels"])
        placer.towns(town_candidates(self._towns, frame))

    def _draw_title(self, view: ViewState) -> None:
        layout = self.layout
        left = layout.margin / layout.width
        right = 1 - layout.margin / layout.width
        top = 1 - layout.margin / layout.height
        fig = self.fig
        corner_label, corner_text = self._corner(view)
        title = self.add(
            draw_text(
                fig,
                left,
                top,
                self.title,
                fontsize=TITLE_PT,
                fontweight="bold",
                color=INK,
                ha="left",
                va="top",
                family=FONT_FAMILY,
            )
        )
        subtitle = self.add(
            draw_text(
                fig,
                left,
                top - 0.36 / layout.height,
                self._subtitle(view),
                fontsize=SUBTITLE_PT,
                color="#333333",
                ha="left",
                va="top",
                family=FONT_FAMILY,
            )
        )
        # A long subtitle (many filters, a comparison) is set smaller, then cut with "…",
        # rather than run off the page (the footer's permalink holds every filter).
        fit_width(subtitle, (right - left) * fig.bbox.width, self.canvas.get_renderer(),
                  min_size=SUBTITLE_MIN_PT)  # fmt: skip
        self.add(
            draw_text(
                fig,
                right,
                top + 0.005,
                corner_label,
                fontsize=7.5,
                color=MUTED,
                ha="right",
                va="top",
                family=FONT_FAMILY,
                fontweight="bold",
            )
        )
        date = self.add(
            draw_text(
                fig,
                right,
                top - 0.15 / layout.height,
                corner_text,
                fontsize=DATE_PT if len(corner_text) <= 18 else DATE_PT * 0.8,
                fontweight="bold",
                color=INK,
                ha="right",
                va="top",
                family=FONT_FAMILY,
            )
        )
        # A long title (--title, or a file's name) keeps clear of the date beside it.
        renderer = self.canvas.get_renderer()
        room = date.get_window_extent(renderer).x0 - title.get_window_extent(renderer).x0 - 24
        fit_width(title, room, renderer, min_size=TITLE_PT * 0.7)
        rule_y = 1 - (layout.margin + layout.title_height) / layout.height
        self.add(fig.add_artist(_hline(fig, rule_y, left, right, RULE, 0.6)))

    def _subtitle(self, view: ViewState) -> str:
        return subtitle_text(view)

    def _corner(self, view: ViewState) -> tuple[str, str]:
        """The title block's top-right corner: a small label and the date under it."""
        return "AS OF", long_date(view.as_of)

    def _draw_legend(self, frame: Frame, legend: LegendSpec) -> None:
        """The legend, shrunk as a whole when it would not fit beside the map."""
        first = len(self._dynamic)
        needed = self._legend_at(frame, legend, 1.0)
        height = self.legend_size[1]
        if needed > height:
            for artist in self._dynamic[first:]:
                artist.remove()
            del self._dynamic[first:]
            self._legend_at(frame, legend, 0.98 * height / needed)

    def _legend_at(self, frame: Frame, legend: LegendSpec, k: float) -> float:
        """Draw the legend with every size times ``k``; returns its height (points / k)."""
        pen = LegendPen(self, k)
        layers = frame.view.layers
        if LAYER_AREAS in layers and legend.controllers:
            colours = style.controller_colours(legend.controllers, palette=self._palette)
            controller_key(pen, legend.controllers, colours)
        hexes = self._hexes
        if LAYER_EVENTS in layers and hexes is not None and hexes.n_cells:
            hexagon_key(pen, hexes)
        elif LAYER_EVENTS in layers and legend.event_types:
            event_key(pen, legend.event_types, "Event type", self.data.type_colours)
        pen.rule()
        pen.notes(
            view_counts(
                frame,
                hexes=self._hexes,
                events_outside=self._events_outside,
                options=self.data.options,
            )
        )
        return pen.y * k


def clip(geom: shapely.Geometry, box: shapely.Geometry) -> shapely.Geometry:
    """``geom`` cut to ``box``, in Web Mercator. A polygon valid in lon/lat can come out of
    the projection with a self-touching ring (real control maps do: GEOS then refuses the
    cut with a TopologyException); such a one is made valid first."""
    try:
        return shapely.intersection(geom, box)
    except shapely.errors.GEOSException:
        return shapely.intersection(shapely.make_valid(geom), box)


def _hline(fig: Figure, y: float, x0: float, x1: float, colour: str, width: float) -> Any:
    from matplotlib.lines import Line2D

    return Line2D([x0, x1], [y, y], transform=fig.transFigure, color=colour, linewidth=width)


def _line_path(geom: shapely.Geometry) -> Path | None:
    """A matplotlib Path of (Multi)LineStrings; None when nothing to draw."""
    vertices: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    for part in shapely.get_parts(geom):
        if part.geom_type not in ("LineString", "LinearRing"):
            continue
        xy = np.asarray(part.coords, dtype=float)
        if len(xy) < 2 or not np.isfinite(xy).all():
            continue
        part_codes = np.full(len(xy), Path.LINETO, dtype=Path.code_type)
        part_codes[0] = Path.MOVETO
        vertices.append(xy)
        codes.append(part_codes)
    if not vertices:
        return None
    return Path(np.concatenate(vertices), np.concatenate(codes))
