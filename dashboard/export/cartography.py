"""Map furniture and geometry helpers for the static exports (matplotlib, no pyplot).

Geometries are drawn in Web Mercator metres (the app's projection), so a PNG frames the
same shapes the app shows. The scale bar measures ground distance at the map's middle
latitude (a Mercator metre is ``cos(latitude)`` metres on the ground) and says so.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import shapely
from matplotlib.axes import Axes
from matplotlib.patches import Polygon, Rectangle
from matplotlib.path import Path

from dashboard.export.text import draw_text
from dashboard.export.view import from_mercator, to_mercator


def mercator_geometries(geoms: Iterable[shapely.Geometry]) -> np.ndarray:
    """Lon/lat geometries reprojected to Web Mercator metres (missing stay missing)."""
    array = np.asarray(list(geoms), dtype=object)
    if not len(array):
        return array

    def project(xy: np.ndarray) -> np.ndarray:
        x, y = to_mercator(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(array, project)


def polygon_path(geom: shapely.Geometry) -> Path | None:
    """A matplotlib Path of a (Multi)Polygon, holes included; None when nothing to draw."""
    if geom is None or shapely.is_empty(geom):
        return None
    vertices: list[np.ndarray] = []
    codes: list[np.ndarray] = []
    for part in shapely.get_parts(geom):
        if part.geom_type != "Polygon" or part.is_empty:
            continue
        for ring in (part.exterior, *part.interiors):
            xy = np.asarray(ring.coords, dtype=float)
            if len(xy) < 3 or not np.isfinite(xy).all():
                continue
            ring_codes = np.full(len(xy), Path.LINETO, dtype=Path.code_type)
            ring_codes[0] = Path.MOVETO
            ring_codes[-1] = Path.CLOSEPOLY
            vertices.append(xy)
            codes.append(ring_codes)
    if not vertices:
        return None
    return Path(np.concatenate(vertices), np.concatenate(codes))


def nice_length(limit: float) -> float:
    """The largest 1, 2 or 5 times a power of ten not above ``limit`` (> 0)."""
    power = 10 ** math.floor(math.log10(limit))
    for mantissa in (5, 2, 1):
        if mantissa * power <= limit:
            return mantissa * power
    return power


def ground_metres_per_unit(extent: tuple[float, float, float, float]) -> tuple[float, float]:
    """Ground metres per Mercator metre at the extent's middle latitude, and that latitude."""
    _, lat = from_mercator(
        np.array([(extent[0] + extent[2]) / 2]), np.array([(extent[1] + extent[3]) / 2])
    )
    latitude = float(lat[0])
    return math.cos(math.radians(latitude)), latitude


def scale_bar(
    ax: Axes,
    extent: tuple[float, float, float, float],
    *,
    fontsize: float,
    zorder: float = 20,
) -> list[object]:
    """A two-colour scale bar in kilometres in the bottom-left corner of the map."""
    factor, latitude = ground_metres_per_unit(extent)
    width = extent[2] - extent[0]
    height = extent[3] - extent[1]
    km = nice_length(width * factor * 0.22 / 1000)
    length = km * 1000 / factor  # Mercator metres
    x0 = extent[0] + 0.03 * width
    y0 = extent[1] + 0.06 * height
    bar_h = 0.011 * height
    artists: list[object] = []
    pad_x, pad_y = 0.012 * width, 0.014 * height
    box = Rectangle(
        (x0 - pad_x, y0 - pad_y - 0.022 * height),
        length + 2 * pad_x + 0.05 * width,
        bar_h + 0.05 * height + pad_y + 0.022 * height,
        facecolor="white",
        edgecolor="#999999",
        linewidth=0.4,
        alpha=0.82,
        zorder=zorder,
    )
    ax.add_patch(box)
    artists.append(box)
    segments = 4 if km / 4 == int(km / 4) else 2
    for i in range(segments):
        rect = Rectangle(
            (x0 + i * length / segments, y0),
            length / segments,
            bar_h,
            facecolor="#222222" if i % 2 == 0 else "white",
            edgecolor="#222222",
            linewidth=0.6,
            zorder=zorder + 1,
        )
        ax.add_patch(rect)
        artists.append(rect)
    for fraction, label in ((0.0, "0"), (0.5, _km_text(km / 2, unit=False)), (1.0, _km_text(km))):
        artists.append(
            draw_text(
                ax,
                x0 + fraction * length,
                y0 + bar_h + 0.008 * height,
                label,
                ha="center" if fraction < 1 else "left",
                va="bottom",
                fontsize=fontsize,
                color="#222222",
                zorder=zorder + 1,
            )
        )
    hemisphere = "N" if latitude >= 0 else "S"
    artists.append(
        draw_text(
            ax,
            x0,
            y0 - 0.006 * height,
            f"distances true at {abs(latitude):.0f}°{hemisphere}",
            ha="left",
            va="top",
            fontsize=fontsize * 0.8,
            color="#555555",
            zorder=zorder + 1,
        )
    )
    return artists


def _km_text(value: float, *, unit: bool = True) -> str:
    text = f"{value:g}" if value >= 1 else f"{value * 1000:g}"
    if not unit:
        return text
    return f"{text} km" if value >= 1 else f"{text} m"


def north_arrow(
    ax: Axes,
    extent: tuple[float, float, float, float],
    *,
    fontsize: float,
    zorder: float = 20,
) -> list[object]:
    """A north arrow in the top-right corner (north is up everywhere in Web Mercator)."""
    width = extent[2] - extent[0]
    height = extent[3] - extent[1]
    x = extent[2] - 0.035 * width
    y_top = extent[3] - 0.05 * height
    h = 0.07 * height
    w = 0.018 * width
    left = Polygon(
        [(x, y_top), (x - w, y_top - h), (x, y_top - 0.72 * h)],
        closed=True,
        facecolor="#222222",
        edgecolor="#222222",
        linewidth=0.6,
        zorder=zorder,
    )
    right = Polygon(
        [(x, y_top), (x + w, y_top - h), (x, y_top - 0.72 * h)],
        closed=True,
        facecolor="white",
        edgecolor="#222222",
        linewidth=0.6,
        zorder=zorder,
    )
    ax.add_patch(left)
    ax.add_patch(right)
    label = draw_text(
        ax,
        x,
        y_top + 0.008 * height,
        "N",
        ha="center",
        va="bottom",
        fontsize=fontsize,
        fontweight="bold",
        color="#222222",
        zorder=zorder,
    )
    return [left, right, label]
