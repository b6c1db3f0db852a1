"""The legend beside the static map: what it lists (:func:`legend_spec`), the pen that writes
its rows (:class:`LegendPen`), the keys it is made of (controllers, hexagon counts, event
types and symbols) and the counts under them, each saying what the frame leaves out."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, Rectangle, RegularPolygon

from dashboard import aggregate, schema, style
from dashboard.areasources import approximation_notes
from dashboard.export.ink import (
    FONT_FAMILY,
    HEADING_PT,
    INK,
    LEGEND_PT,
    MUTED,
    PX,
    RULE,
    blend,
    fit_width,
    plural,
    rgba,
)
from dashboard.export.text import draw_text
from dashboard.export.view import Frame
from dashboard.viewstate import LAYER_AREAS, LAYER_EVENTS, Options

#: Fatality counts drawn in the legend's size key (as the app's legend).
LEGEND_SIZES: tuple[int, ...] = (0, 10, 100)
#: The grey of the symbols' key (size, dashed, hollow): no event type's colour.
_KEY_GREY = "#777777"


@dataclass(frozen=True)
class LegendSpec:
    """What the legend lists: controllers and event types (an animation passes the union
    over its frames, so the legend stays still)."""

    controllers: tuple[str, ...]
    event_types: tuple[str, ...]


def sorted_controllers(values: Sequence[Any]) -> list[str]:
    """Controller names in the legend's order (Contested and Unknown last), one each."""
    names = list(dict.fromkeys(schema.UNKNOWN if style.is_missing(v) else str(v) for v in values))
    names.sort(key=lambda c: (c in (schema.CONTESTED, schema.UNKNOWN, schema.NO_INFORMATION), c))
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
    return LegendSpec(tuple(sorted_controllers(controllers)), tuple(types))


class LegendHost(Protocol):
    """What the pen needs of the figure it writes on (``figure.MapFigure`` is one)."""

    legend_ax: Any
    legend_size: tuple[float, float]
    """Width and height of the legend's axes, in points."""
    canvas: Any

    def add(self, artist: Any) -> Any: ...


class LegendPen:
    """Writes a legend's rows from the top of its axes down (units: points from the top-left
    corner, every size times ``k`` so a legend too tall for its box can be drawn smaller).

    ``y`` is the top of the next row; :meth:`heading` moves it down, a row's writer adds
    ``line`` after drawing its swatch and :meth:`label`.
    """

    def __init__(self, figure: LegendHost, k: float) -> None:
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

    def add(self, artist: Any) -> Any:
        """Keep ``artist`` as part of the frame's legend."""
        return self.figure.add(artist)

    def heading(self, text: str) -> None:
        self.add(
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
        artist = self.add(
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
        self.add(self.ax.add_line(Line2D([0, self.width], [self.y, self.y], color=RULE, lw=0.6)))
        self.y += 5

    def notes(self, lines: Sequence[str]) -> None:
        """Lines of text across the legend's width, wrapped."""
        chars = max(24, int(self.width / (LEGEND_PT * 0.55)))
        for text in lines:
            for part in textwrap.wrap(text, chars):
                self.label(part, x=0, colour="#333333")
                self.y += self.line * 0.92


def controller_key(pen: LegendPen, controllers: Sequence[str], colours: Mapping[str, str]) -> None:
    """ "Controlled by": a swatch per controller as the map fills it (Contested hatched)."""
    line, sw = pen.line, pen.sw
    pen.heading("Controlled by")
    for name in controllers:
        colour = colours[name]
        contested = name == schema.CONTESTED
        if name == schema.NO_INFORMATION:
            veil = Rectangle(
                (0, pen.y + 1),
                sw,
                line - 3.5,
                facecolor=blend(colour, style.NO_INFORMATION_FILL_OPACITY, style.LAND_FILL),
                edgecolor=style.NO_INFORMATION_EDGE,
                linewidth=1.0 * PX,
                linestyle=(0, (2, 2)),
            )
            pen.add(pen.ax.add_patch(veil))
            pen.label(name)
            pen.y += line
            continue
        rect = Rectangle(
            (0, pen.y + 1),
            sw,
            line - 3.5,
            facecolor=blend(
                colour, 0.15 if contested else style.AREA_FILL_OPACITY, style.LAND_FILL
            ),
            edgecolor=colour,
            linewidth=(2.0 if contested else 1.0) * PX,
            linestyle=(0, (3, 2)) if contested else "solid",
            hatch="////" if contested else None,
        )
        if contested:
            rect.set_hatchcolor(rgba(colour, 0.65))
            rect.set_hatch_linewidth(1.2)
        pen.add(pen.ax.add_patch(rect))
        pen.label(name)
        pen.y += line
    pen.y += line * 0.6


def hexagon_key(pen: LegendPen, hexes: aggregate.HexBins) -> None:
    """The count classes of the hexagons drawn."""
    line, sw = pen.line, pen.sw
    pen.heading(style.HEX_LEGEND_HEADING)
    top = int(hexes.cells[aggregate.COUNT].max())
    for low, high, fill, _ in style.count_classes(top):
        pen.add(
            pen.ax.add_patch(
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
        pen.label(style.count_class_label(low, high))
        pen.y += line
    pen.y += line * 0.6


def event_key(
    pen: LegendPen, event_types: Sequence[str], title: str, colours: Mapping[str, str]
) -> None:
    """The colours of the event types drawn, then the symbols (size, dashed, hollow)."""
    line, sw = pen.line, pen.sw
    pen.heading(title)
    for name in event_types:
        colour = colours.get(name) or style.event_type_colours([name])[name]
        pen.add(
            pen.ax.add_patch(
                Circle(
                    (sw / 2, pen.y + line * 0.42),
                    4.2,
                    facecolor=rgba(colour, style.POINT_FILL_OPACITY),
                    edgecolor=style.POINT_OUTLINE,
                    linewidth=0.7 * PX,
                )
            )
        )
        pen.label(name)
        pen.y += line
    pen.y += line * 0.6
    pen.heading("Symbols")
    _size_key(pen)
    for text, hollow, dashed in (
        ("fatalities unknown (dashed)", False, True),
        ("approximate location (hollow)", True, False),
    ):
        pen.add(
            pen.ax.add_patch(
                Circle(
                    (sw / 2, pen.y + line * 0.42),
                    4.2,
                    facecolor=rgba(
                        _KEY_GREY,
                        style.HOLLOW_FILL_OPACITY if hollow else style.POINT_FILL_OPACITY,
                    ),
                    edgecolor=_KEY_GREY if hollow else style.POINT_OUTLINE,
                    linewidth=(2.0 if hollow else 1.2) * PX,
                    linestyle=(0, (2, 2)) if dashed else "solid",
                )
            )
        )
        pen.label(text)
        pen.y += line
    pen.y += line * 0.6


def _size_key(pen: LegendPen) -> None:
    """Circles for :data:`LEGEND_SIZES` fatalities, with their counts under them."""
    ax, y, sw, k = pen.ax, pen.y, pen.sw, pen.k
    radii = [style.point_radius(n) * PX for n in LEGEND_SIZES]
    row = 2 * max(radii) + 4
    x = 0.0
    labels = []
    for n, r in zip(LEGEND_SIZES, radii, strict=True):
        cx = x + max(r, sw / 2)
        pen.add(
            ax.add_patch(
                Circle(
                    (cx, y + row / 2),
                    r,
                    facecolor=rgba(_KEY_GREY, style.POINT_FILL_OPACITY),
                    edgecolor=style.POINT_OUTLINE,
                    linewidth=0.7 * PX,
                )
            )
        )
        labels.append((cx, f"{n:,}"))
        x = cx + r + 10
    for cx, text in labels:
        pen.add(
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
    pen.add(
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
    pen.y = y + row + LEGEND_PT * 1.9


def view_counts(
    frame: Frame,
    *,
    hexes: aggregate.HexBins | None,
    events_outside: int,
    options: Options,
) -> list[str]:
    """The legend's counts for one frame: what the map draws and what it leaves out (events
    outside the frame, without a place, hidden by filters; dates without control areas)."""
    view = frame.view
    out: list[str] = []
    if LAYER_EVENTS in view.layers:
        if hexes is not None:
            out.append(hexes.describe())
        else:
            out.append(plural(len(frame.placed), "event") + " on the map")
        if events_outside:
            out.append(plural(events_outside, "event") + " of the window outside this frame")
        if frame.unplaced:
            out.append(plural(frame.unplaced, "event") + " without a known place (not drawn)")
        fatalities = frame.events.get(schema.FATALITIES)
        fat = (
            pd.to_numeric(fatalities, errors="coerce")
            if fatalities is not None
            else pd.Series(float("nan"), index=frame.events.index)  # every count unknown
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
        if options.areas_cover(view.as_of):
            out.append(plural(len(frame.areas), "control area"))
        else:
            cover = " to ".join(
                d.isoformat() if d else "open" for d in (options.areas_first, options.areas_last)
            )
            out.append(f"No control areas on this date (the area files cover {cover})")
        out += approximation_notes(frame.areas)
    return out
