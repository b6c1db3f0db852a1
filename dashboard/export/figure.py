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
from matplotlib import colors as mcolors
from matplotlib import patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Circle, PathPatch, Rectangle, RegularPolygon
from matplotlib.path import Path
from matplotlib.transforms import Bbox, ScaledTranslation

from dashboard import aggregate, schema, style
from dashboard import basemap as bm
from dashboard.export.cartography import mercator_geometries, north_arrow, polygon_path, scale_bar
from dashboard.export.data import ExportData
from dashboard.export.footer import attribution_lines, exported_line
from dashboard.export.text import draw_text
from dashboard.export.view import (
    Frame,
    fit_extent,
    from_mercator,
    permalink_query,
    placed_rows,
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
FONT_FAMILY = ["DejaVu Sans"]
#: Counts beside points that stand for several events: above the circles (zorder 6),
#: below the town labels (8).
STACK_COUNT_ZORDER = 6.5
#: One CSS pixel (the unit of ``style``'s symbol sizes) in points.
PX = 0.75
#: Event symbols are drawn this much larger than on screen: a slide or a printed page is
#: seen from further away than a monitor.
SYMBOL_SCALE = 1.25
#: Fatality counts drawn in the legend's size key (as the app's legend).
LEGEND_SIZES: tuple[int, ...] = (0, 10, 100)
INK = "#222222"
MUTED = "#555555"
RULE = "#BBBBBB"

# Font sizes in points.
TITLE_PT = 16.0
SUBTITLE_PT = 9.5
SUBTITLE_MIN_PT = 6.5
DATE_PT = 16.0
LEGEND_PT = 8.0
HEADING_PT = 8.6
FOOTER_PT = 6.2
TOWN_PT = 6.8
COUNTRY_PT = 9.0
FURNITURE_PT = 7.0
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


@dataclass(frozen=True)
class LegendSpec:
    """What the legend lists: controllers and event types (an animation passes the union
    over its frames, so the legend stays still)."""

    controllers: tuple[str, ...]
    event_types: tuple[str, ...]


def _sorted_controllers(values: Sequence[Any]) -> list[str]:
    names = list(dict.fromkeys(schema.UNKNOWN if style.is_missing(v) else str(v) for v in values))
    names.sort(key=lambda c: (c in (schema.CONTESTED, schema.UNKNOWN), c))
    return names


def legend_spec(frames: Sequence[Frame], type_order: Sequence[str]) -> LegendSpec:
    """The controllers and event types any of ``frames`` shows, in the app's legend order."""
    controllers: list[Any] = []
    shown_types: set[str] = set()
    for frame in frames:
        if LAYER_AREAS in frame.view.layers and len(frame.areas):
            controllers.extend(frame.areas[schema.CONTROLLER].tolist())
        if LAYER_EVENTS in frame.view.layers and len(frame.placed):
            shown_types.update(frame.placed[schema.EVENT_TYPE].dropna().astype(str))
    types = [t for t in type_order if t in shown_types]
    types += sorted(shown_types - set(types))
    return LegendSpec(tuple(_sorted_controllers(controllers)), tuple(types))


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


def rgba(colour: str, alpha: float) -> tuple[float, float, float, float]:
    return mcolors.to_rgba(colour, alpha)


def blend(colour: str, alpha: float, under: str) -> str:
    """``colour`` at ``alpha`` over ``under``, as an opaque colour (for legend swatches)."""
    top = np.array(mcolors.to_rgb(colour))
    base = np.array(mcolors.to_rgb(under))
    mixed = alpha * top + (1 - alpha) * base
    return mcolors.to_hex((float(mixed[0]), float(mixed[1]), float(mixed[2])))


def _halo(width: float = 2.2) -> list[patheffects.AbstractPathEffect]:
    return [patheffects.withStroke(linewidth=width, foreground="white", alpha=0.9)]


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
        self._towns = self._town_table()
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
        frame: shapely.Geometry,
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

    def _add(self, artist: Any) -> Any:
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
            _sorted_controllers(areas[schema.CONTROLLER].tolist()), palette=self._palette
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
            if name == schema.CONTESTED:
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
            self._add(self.ax.add_patch(patch))

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
        self._add(
            self.ax.add_collection(
                PolyCollection(
                    polygons,
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
                self._add(
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
        box = self.ax.get_window_extent()
        lead_px = px[leads[stacked]]
        on_map = (
            (lead_px[:, 0] >= box.x0)
            & (lead_px[:, 0] <= box.x1)
            & (lead_px[:, 1] >= box.y0)
            & (lead_px[:, 1] <= box.y1)
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
            self._add(
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
        renderer = self.canvas.get_renderer()
        to_px = self.ax.transData
        dpi_scale = self.fig.dpi / 72
        taken: list[Bbox] = [
            a.get_window_extent(renderer)
            for a in self._furniture
            if hasattr(a, "get_window_extent")
        ]
        markers_px = [(*to_px.transform((mx, my)), r) for mx, my, r in markers]
        # The box inscribed in each circle: a label may graze a circle, not cover it.
        marker_boxes = [
            Bbox.from_extents(mx - 0.7 * rr, my - 0.7 * rr, mx + 0.7 * rr, my + 0.7 * rr)
            for mx, my, rr in ((mx, my, r * dpi_scale) for mx, my, r in markers_px)
        ]
        axes_box = self.ax.get_window_extent(renderer)

        def fits(box: Bbox) -> bool:
            return (
                box.x0 >= axes_box.x0 + 2
                and box.x1 <= axes_box.x1 - 2
                and box.y0 >= axes_box.y0 + 2
                and box.y1 <= axes_box.y1 - 2
                and not any(box.overlaps(t) for t in taken)
            )

        # Country names first (large, pale, fixed in place), then the towns by priority.
        for name, cx, cy, _area, width in sorted(self._countries["labels"], key=lambda t: -t[3]):
            text = self._add(
                draw_text(
                    self.ax,
                    cx,
                    cy,
                    _spaced(name.upper()),
                    ha="center",
                    va="center",
                    fontsize=COUNTRY_PT,
                    color="#8A8A8A",
                    fontweight="bold",
                    zorder=5,
                    family=FONT_FAMILY,
                    path_effects=_halo(2.0),
                )
            )
            box = text.get_window_extent(renderer).padded(2)
            # A name much wider than its country would read as the neighbour's.
            narrow = box.width <= 1.2 * width * self._map_px_per_unit
            if fits(box) and narrow:
                taken.append(box)
            else:
                text.remove()
                self._dynamic.remove(text)

        for rank, label, tx, ty, kind in self._town_candidates(frame):
            px, py = to_px.transform((tx, ty))
            if not (axes_box.x0 < px < axes_box.x1 and axes_box.y0 < py < axes_box.y1):
                continue
            # An event drawn on the town itself pushes the label out past its circle.
            local = [r for mx, my, r in markers_px if math.hypot(mx - px, my - py) < r * dpi_scale]
            push = max(0.0, max(local, default=0.0) + 1.5 - _CANDIDATES[0][0])
            text = draw_text(
                self.ax,
                tx,
                ty,
                label,
                fontsize=TOWN_PT + TOWN_PT_EXTRA.get(kind, 0.0),
                color=INK,
                fontweight="bold" if kind == "capital" else "normal",
                zorder=8,
                family=FONT_FAMILY,
                path_effects=_halo(),
            )
            # Less important towns keep more room around them: fewer, clearer labels.
            box = self._place(text, tx, ty, push, LABEL_PAD[rank] * dpi_scale, fits, marker_boxes)
            if box is None:
                text.remove()
                continue
            taken.append(box)
            self._add(text)
            dot = 2.4 * dpi_scale
            taken.append(Bbox.from_extents(px - dot, py - dot, px + dot, py + dot))
            self._add(
                self.ax.scatter(
                    [tx],
                    [ty],
                    s=(3.6 if kind == "capital" else 2.6) ** 2,
                    marker="s" if kind == "capital" else "o",
                    c=[style.TOWN_COLOUR],
                    edgecolors="white",
                    linewidths=0.7,
                    zorder=7,
                )
            )

    def _place(
        self,
        text: Any,
        tx: float,
        ty: float,
        push: float,
        pad: float,
        fits: Any,
        avoid: list[Bbox],
    ) -> Bbox | None:
        """Put ``text`` at the first candidate position that fits and covers no event, else
        at the first that fits; None when none fits. Returns the box it takes."""
        renderer = self.canvas.get_renderer()
        fallback: tuple[float, float, str, str, Bbox] | None = None
        for dx, dy, ha, va in _CANDIDATES:
            dx += math.copysign(push, dx) if dx else 0.0
            dy += math.copysign(push, dy) if dy else 0.0
            text.set_ha(ha)
            text.set_va(va)
            text.set_transform(_offset(self.ax, dx, dy))
            box = text.get_window_extent(renderer).padded(pad)
            if not fits(box):
                continue
            if not any(box.overlaps(m) for m in avoid):
                return box
            if fallback is None:
                fallback = (dx, dy, ha, va, box)
        if fallback is None:
            return None
        dx, dy, ha, va, box = fallback
        text.set_ha(ha)
        text.set_va(va)
        text.set_transform(_offset(self.ax, dx, dy))
        return box

    def _town_table(self) -> pd.DataFrame:
        """Towns with their Mercator position, label, kind and how many events of the whole
        dataset lie near them (the story's places rank before the others)."""
        columns = ["x", "y", "name", "label", "kind", "weight"]
        towns = self.data.context.towns
        if towns is None or not len(towns) or "name" not in towns:
            return pd.DataFrame(columns=columns)
        lat = pd.to_numeric(towns.get("latitude"), errors="coerce").to_numpy(dtype=float)
        lon = pd.to_numeric(towns.get("longitude"), errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
        names = towns["name"].where(towns["name"].notna(), "").astype(str).str.strip()
        ok &= (names != "").to_numpy()
        towns, lat, lon, names = towns.loc[ok], lat[ok], lon[ok], names[ok]
        x, y = to_mercator(lon, lat)
        arabic = (
            towns["name_ar"].where(towns["name_ar"].notna(), "").astype(str).str.strip()
            if "name_ar" in towns and self.arabic
            else pd.Series("", index=towns.index)
        )
        roles = (
            towns["role"].where(towns["role"].notna(), "").astype(str).str.strip().str.lower()
            if "role" in towns
            else pd.Series("", index=towns.index)
        )
        kinds = [
            "capital" if "capital" in r else ("city" if r == "city" else "town") for r in roles
        ]
        events = placed_rows(self.data.events)
        ex, ey = to_mercator(
            pd.to_numeric(events[schema.LONGITUDE]).to_numpy(dtype=float),
            pd.to_numeric(events[schema.LATITUDE]).to_numpy(dtype=float),
        )
        near = _near_metres(lat)
        weight = [
            int((np.hypot(ex - tx, ey - ty) < near).sum()) for tx, ty in zip(x, y, strict=True)
        ]
        labels = [f"{n}  {a}" if a else n for n, a in zip(names, arabic, strict=True)]
        return pd.DataFrame(
            {
                "x": x,
                "y": y,
                "name": names.to_numpy(),
                "label": labels,
                "kind": kinds,
                "weight": weight,
            }
        )

    def _town_candidates(self, frame: Frame) -> list[tuple[int, str, float, float, str]]:
        """Towns to label, most important first, with their rank (see LABEL_PAD): capitals,
        towns near the window's events, cities, then the rest by events nearby."""
        towns = self._towns
        if not len(towns):
            return []
        x, y = towns["x"].to_numpy(), towns["y"].to_numpy()
        active = np.zeros(len(towns), dtype=bool)
        if LAYER_EVENTS in frame.view.layers and len(frame.placed):
            lat = pd.to_numeric(frame.placed[schema.LATITUDE]).to_numpy(dtype=float)
            ex, ey = to_mercator(
                pd.to_numeric(frame.placed[schema.LONGITUDE]).to_numpy(dtype=float), lat
            )
            near = _near_metres(lat)
            for i in range(len(towns)):
                active[i] = bool((np.hypot(ex - x[i], ey - y[i]) < near).any())
        kinds = towns["kind"].tolist()
        rank = [
            0 if k == "capital" else (1 if a else (2 if k == "city" else 3))
            for k, a in zip(kinds, active, strict=True)
        ]
        order = sorted(
            range(len(towns)),
            key=lambda i: (rank[i], -int(towns["weight"].iat[i]), towns["name"].iat[i]),
        )
        return [(rank[i], towns["label"].iat[i], float(x[i]), float(y[i]), kinds[i]) for i in order]

    def _draw_title(self, view: ViewState) -> None:
        layout = self.layout
        left = layout.margin / layout.width
        right = 1 - layout.margin / layout.width
        top = 1 - layout.margin / layout.height
        fig = self.fig
        corner_label, corner_text = self._corner(view)
        title = self._add(
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
        subtitle = self._add(
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
        self._add(
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
        date = self._add(
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
        self._add(fig.add_artist(_hline(fig, rule_y, left, right, RULE, 0.6)))

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
        ax, line, sw = pen.ax, pen.line, pen.sw
        heading, label = pen.heading, pen.label

        view = frame.view
        ctrl_colours = style.controller_colours(legend.controllers, palette=self._palette)
        if LAYER_AREAS in view.layers and legend.controllers:
            heading("Controlled by")
            for name in legend.controllers:
                colour = ctrl_colours[name]
                contested = name == schema.CONTESTED
                base = style.LAND_FILL
                rect = Rectangle(
                    (0, pen.y + 1),
                    sw,
                    line - 3.5,
                    facecolor=blend(colour, 0.15 if contested else style.AREA_FILL_OPACITY, base),
                    edgecolor=colour,
                    linewidth=(2.0 if contested else 1.0) * PX,
                    linestyle=(0, (3, 2)) if contested else "solid",
                    hatch="////" if contested else None,
                )
                if contested:
                    rect.set_hatchcolor(rgba(colour, 0.65))
                    rect.set_hatch_linewidth(1.2)
                self._add(ax.add_patch(rect))
                label(name)
                pen.y += line
            pen.y += line * 0.6
        hexes = self._hexes
        if LAYER_EVENTS in view.layers and hexes is not None and hexes.n_cells:
            heading(style.HEX_LEGEND_HEADING)
            top = int(hexes.cells[aggregate.COUNT].max())
            for low, high, fill, _ in style.count_classes(top):
                self._add(
                    ax.add_patch(
                        RegularPolygon(
                            (sw / 2, pen.y + line * 0.42),
                            6,
                            radius=line * 0.45,
                            facecolor=rgba(fill, style.HEX_FILL_OPACITY),
                            edgecolor=rgba(style.HEX_OUTLINE, 0.9),
                            linewidth=style.HEX_OUTLINE_WIDTH * PX,
                        )
                    )
                )
                label(style.count_class_label(low, high))
                pen.y += line
            pen.y += line * 0.6
        elif LAYER_EVENTS in view.layers and legend.event_types:
            self._event_key(pen, legend.event_types, "Event type")
        pen.rule()
        pen.notes(self._counts(frame))
        return pen.y * k

    def _event_key(self, pen: LegendPen, event_types: Sequence[str], title: str) -> None:
        """The colours of the event types drawn, then the symbols (size, dashed, hollow)."""
        ax, line, sw = pen.ax, pen.line, pen.sw
        heading, label = pen.heading, pen.label
        heading(title)
        colours = self.data.type_colours
        for name in event_types:
            colour = colours.get(name) or style.event_type_colours([name])[name]
            self._add(
                ax.add_patch(
                    Circle(
                        (sw / 2, pen.y + line * 0.42),
                        4.2,
                        facecolor=rgba(colour, style.POINT_FILL_OPACITY),
                        edgecolor=style.POINT_OUTLINE,
                        linewidth=0.7 * PX,
                    )
                )
            )
            label(name)
            pen.y += line
        pen.y += line * 0.6
        heading("Symbols")
        pen.y = self._size_key(pen.y, line, sw, pen.k)
        for text, hollow, dashed in (
            ("fatalities unknown (dashed)", False, True),
            ("approximate location (hollow)", True, False),
        ):
            grey = "#777777"
            self._add(
                ax.add_patch(
                    Circle(
                        (sw / 2, pen.y + line * 0.42),
                        4.2,
                        facecolor=rgba(
                            grey,
                            style.HOLLOW_FILL_OPACITY if hollow else style.POINT_FILL_OPACITY,
                        ),
                        edgecolor=grey if hollow else style.POINT_OUTLINE,
                        linewidth=(2.0 if hollow else 1.2) * PX,
                        linestyle=(0, (2, 2)) if dashed else "solid",
                    )
                )
            )
            label(text)
            pen.y += line
        pen.y += line * 0.6

    def _size_key(self, y: float, line: float, sw: float, k: float) -> float:
        ax = self.legend_ax
        radii = [style.point_radius(n) * PX for n in LEGEND_SIZES]
        row = 2 * max(radii) + 4
        x = 0.0
        labels = []
        for n, r in zip(LEGEND_SIZES, radii, strict=True):
            cx = x + max(r, sw / 2)
            self._add(
                ax.add_patch(
                    Circle(
                        (cx, y + row / 2),
                        r,
                        facecolor=rgba("#777777", style.POINT_FILL_OPACITY),
                        edgecolor=style.POINT_OUTLINE,
                        linewidth=0.7 * PX,
                    )
                )
            )
            labels.append((cx, f"{n:,}"))
            x = cx + r + 10
        for cx, text in labels:
            self._add(
                draw_text(
                    ax,
                    cx,
                    y + row + 2,
                    text,
                    fontsize=(LEGEND_PT - 0.5) * k,
                    color=INK,
                    ha="center",
                    va="top",
                    family=FONT_FAMILY,
                )
            )
        self._add(
            draw_text(
                ax,
                x + 2,
                y + row / 2,
                "fatalities\n(circle area)",
                fontsize=(LEGEND_PT - 0.5) * k,
                color=MUTED,
                ha="left",
                va="center",
                family=FONT_FAMILY,
            )
        )
        return y + row + LEGEND_PT * 1.9

    def _counts(self, frame: Frame) -> list[str]:
        view = frame.view
        out: list[str] = []
        if LAYER_EVENTS in view.layers:
            hexes = self._hexes
            if hexes is not None:
                out.append(hexes.describe())
            else:
                out.append(plural(len(frame.placed), "event") + " on the map")
            if self._events_outside:
                out.append(
                    plural(self._events_outside, "event") + " of the window outside this frame"
                )
            if frame.unplaced:
                out.append(plural(frame.unplaced, "event") + " without a known place (not drawn)")
            fat = (
                pd.to_numeric(frame.events.get(schema.FATALITIES), errors="coerce")
                if len(frame.events)
                else pd.Series(dtype=float)
            )
            known = int(fat.sum()) if len(fat) else 0
            unknown = int(fat.isna().sum()) if len(fat) else 0
            if len(frame.events) and unknown == len(frame.events):
                out.append("Fatalities unknown for every event")
            elif len(frame.events):
                text = plural(known, "fatality", "fatalities") + " reported"
                if unknown:
                    text += f" (unknown for {plural(unknown, 'event')})"
                out.append(text)
            if frame.selection.hidden_total:
                out.append(
                    f"{frame.selection.hidden_total} of {frame.selection.in_window} "
                    "events in the window hidden by filters"
                )
        if LAYER_AREAS in view.layers:
            options = self.data.options
            if options.areas_cover(view.as_of):
                out.append(plural(len(frame.areas), "control area"))
            else:
                cover = " to ".join(
                    d.isoformat() if d else "open"
                    for d in (options.areas_first, options.areas_last)
                )
                out.append(f"No control areas on this date (the area files cover {cover})")
        return out


class LegendPen:
    """Writes a legend's rows from the top of its axes down (units: points from the top-left
    corner, every size times ``k`` so a legend too tall for its box can be drawn smaller).

    ``y`` is the top of the next row; :meth:`heading` moves it down, a row's writer adds
    ``line`` after drawing its swatch and :meth:`label`.
    """

    def __init__(self, figure: MapFigure, k: float) -> None:
        self.figure = figure
        self.ax = figure.legend_ax
        self.k = k
        self.width = figure.legend_size[0] / k
        self.ax.set_xlim(0, self.width)
        self.ax.set_ylim(figure.legend_size[1] / k, 0)
        self.y = 4.0
        self.line = LEGEND_PT * 1.55
        self.sw = 16.0  # swatch width
        self.text_x = self.sw + 7

    def heading(self, text: str) -> None:
        self.figure._add(
            draw_text(
                self.ax,
                0,
                self.y,
                text,
                fontsize=HEADING_PT * self.k,
                fontweight="bold",
                color=INK,
                va="top",
                ha="left",
                family=FONT_FAMILY,
            )
        )
        self.y += HEADING_PT * 1.75

    def label(self, text: str, x: float | None = None, colour: str = INK) -> None:
        artist = self.figure._add(
            draw_text(
                self.ax,
                self.text_x if x is None else x,
                self.y + self.line * 0.42,
                text,
                fontsize=LEGEND_PT * self.k,
                color=colour,
                va="center",
                ha="left",
                family=FONT_FAMILY,
            )
        )
        # A long name (a controller, an actor) stays inside the legend's column.
        renderer = self.figure.canvas.get_renderer()
        right = self.ax.get_window_extent(renderer).x1
        room = right - artist.get_window_extent(renderer).x0
        fit_width(artist, room, renderer, min_size=LEGEND_PT * self.k * 0.85)

    def rule(self) -> None:
        """A thin line across the legend, above its counts."""
        self.figure._add(self.ax.add_line(_legend_rule(0, self.width, self.y)))
        self.y += 5

    def notes(self, lines: Sequence[str]) -> None:
        """Lines of text across the legend's width, wrapped."""
        chars = max(24, int(self.width / (LEGEND_PT * 0.55)))
        for text in lines:
            for part in textwrap.wrap(text, chars):
                self.label(part, x=0, colour="#333333")
                self.y += self.line * 0.92


#: Town labels of capitals and cities are a little larger (points).
TOWN_PT_EXTRA: dict[str, float] = {"capital": 1.0, "city": 0.4}
#: Room kept free around a town label, in points, by rank: capitals, towns near the
#: window's events, cities, other towns.
LABEL_PAD: tuple[float, ...] = (1.0, 1.0, 3.0, 6.0)

# Label positions around a town's dot, in points: right, left, above, below, diagonals.
_CANDIDATES: tuple[tuple[float, float, str, str], ...] = (
    (4.5, 0.0, "left", "center"),
    (-4.5, 0.0, "right", "center"),
    (0.0, 4.0, "center", "bottom"),
    (0.0, -4.0, "center", "top"),
    (3.5, 3.0, "left", "bottom"),
    (3.5, -3.0, "left", "top"),
    (-3.5, 3.0, "right", "bottom"),
    (-3.5, -3.0, "right", "top"),
)


def clip(geom: shapely.Geometry, box: shapely.Geometry) -> shapely.Geometry:
    """``geom`` cut to ``box``, in Web Mercator. A polygon valid in lon/lat can come out of
    the projection with a self-touching ring (real control maps do: GEOS then refuses the
    cut with a TopologyException); such a one is made valid first."""
    try:
        return shapely.intersection(geom, box)
    except shapely.errors.GEOSException:
        return shapely.intersection(shapely.make_valid(geom), box)


def fit_width(artist: Any, room: float, renderer: Any, *, min_size: float) -> None:
    """Make a text artist at most ``room`` pixels wide: a smaller font (not below
    ``min_size`` points), then the text cut with "…"."""
    width = artist.get_window_extent(renderer).width
    if width <= room:
        return
    artist.set_fontsize(max(artist.get_fontsize() * room / width, min_size))
    text = artist.get_text()
    if artist.get_window_extent(renderer).width <= room:
        return
    lo, hi = 0, len(text)  # the longest prefix that fits, with the ellipsis
    while lo < hi:
        mid = (lo + hi + 1) // 2
        artist.set_text(text[:mid].rstrip() + "\u2026")
        if artist.get_window_extent(renderer).width <= room:
            lo = mid
        else:
            hi = mid - 1
    artist.set_text(text[:lo].rstrip() + "\u2026")


def _offset(ax: Any, dx_pt: float, dy_pt: float) -> Any:
    """Data coordinates shifted by a distance in points (right for PNG and PDF alike)."""
    return ax.transData + ScaledTranslation(dx_pt / 72, dy_pt / 72, ax.figure.dpi_scale_trans)


#: A town "has" the events within this ground distance of it.
NEAR_KM = 25.0


def _near_metres(latitudes: np.ndarray) -> float:
    """:data:`NEAR_KM` in Web Mercator metres at the median of ``latitudes``."""
    middle = float(np.nanmedian(latitudes)) if len(latitudes) else 0.0
    return NEAR_KM * 1000 / max(math.cos(math.radians(middle)), 0.05)


def _spaced(text: str) -> str:
    return "\u2009".join(text)


def plural(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count:,} {singular if count == 1 else (plural or singular + 's')}"


def _hline(fig: Figure, y: float, x0: float, x1: float, colour: str, width: float) -> Any:
    from matplotlib.lines import Line2D

    return Line2D([x0, x1], [y, y], transform=fig.transFigure, color=colour, linewidth=width)


def _legend_rule(x0: float, x1: float, y: float) -> Any:
    from matplotlib.lines import Line2D

    return Line2D([x0, x1], [y, y], color=RULE, linewidth=0.6)


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
