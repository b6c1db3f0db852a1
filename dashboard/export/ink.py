"""The type sizes, inks and small drawing helpers that the export's figure, legend and labels
share (sizes in points; symbol sizes in ``dashboard.style`` are CSS pixels)."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib import colors as mcolors
from matplotlib import patheffects
from matplotlib.transforms import ScaledTranslation

FONT_FAMILY = ["DejaVu Sans"]
#: One CSS pixel (the unit of ``style``'s symbol sizes) in points.
PX = 0.75
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


def rgba(colour: str, alpha: float) -> tuple[float, float, float, float]:
    return mcolors.to_rgba(colour, alpha)


def blend(colour: str, alpha: float, under: str) -> str:
    """``colour`` at ``alpha`` over ``under``, as an opaque colour (for legend swatches)."""
    top = np.array(mcolors.to_rgb(colour))
    base = np.array(mcolors.to_rgb(under))
    mixed = alpha * top + (1 - alpha) * base
    return mcolors.to_hex((float(mixed[0]), float(mixed[1]), float(mixed[2])))


def halo(width: float = 2.2) -> list[patheffects.AbstractPathEffect]:
    """A white outline that keeps text legible over areas and tiles."""
    return [patheffects.withStroke(linewidth=width, foreground="white", alpha=0.9)]


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


def offset(ax: Any, dx_pt: float, dy_pt: float) -> Any:
    """Data coordinates shifted by a distance in points (right for PNG and PDF alike)."""
    return ax.transData + ScaledTranslation(dx_pt / 72, dy_pt / 72, ax.figure.dpi_scale_trans)


def plural(count: int, singular: str, plural: str | None = None) -> str:
    return f"{count:,} {singular if count == 1 else (plural or singular + 's')}"
