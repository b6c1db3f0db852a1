"""Names on the static map: the countries' names and the towns', placed by priority so that
none overlaps another, the map's furniture or the events drawn.

:func:`town_table` ranks the towns once per export (the story's places, where the data has
most events, first); :func:`town_candidates` orders them for one frame (capitals, towns
near the window's events, cities, the rest); :class:`LabelPlacer` puts each name at the
first of a few positions around its dot that is free, or leaves it out.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.transforms import Bbox

from dashboard import schema, style
from dashboard.export.ink import COUNTRY_PT, FONT_FAMILY, INK, TOWN_PT, halo, offset
from dashboard.export.text import draw_text
from dashboard.export.view import Frame, placed_rows, to_mercator
from dashboard.viewstate import LAYER_EVENTS

#: Town labels of capitals and cities are a little larger (points).
TOWN_PT_EXTRA: dict[str, float] = {"capital": 1.0, "city": 0.4}
#: Room kept free around a town label, in points, by rank: capitals, towns near the
#: window's events, cities, other towns.
LABEL_PAD: tuple[float, ...] = (1.0, 1.0, 3.0, 6.0)
#: A town "has" the events within this ground distance of it.
NEAR_KM = 25.0

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

#: A country label: name, Web Mercator x and y, the area shown and the country's width.
CountryLabel = tuple[str, float, float, float, float]
#: A town to label: rank (see :data:`LABEL_PAD`), label, Web Mercator x and y, kind.
TownCandidate = tuple[int, str, float, float, str]


def _near_metres(latitudes: np.ndarray) -> float:
    """:data:`NEAR_KM` in Web Mercator metres at the median of ``latitudes``."""
    middle = float(np.nanmedian(latitudes)) if len(latitudes) else 0.0
    return NEAR_KM * 1000 / max(math.cos(math.radians(middle)), 0.05)


def _spaced(text: str) -> str:
    return "\u2009".join(text)


def town_table(towns: pd.DataFrame | None, events: pd.DataFrame, *, arabic: bool) -> pd.DataFrame:
    """Towns with their Mercator position, label (with the Arabic name when the fonts can
    draw it), kind and how many of ``events`` lie near them."""
    columns = ["x", "y", "name", "label", "kind", "weight"]
    if towns is None or not len(towns) or not {"name", "latitude", "longitude"} <= set(towns):
        return pd.DataFrame(columns=columns)
    lat = pd.to_numeric(towns["latitude"], errors="coerce").to_numpy(dtype=float)
    lon = pd.to_numeric(towns["longitude"], errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
    names = towns["name"].where(towns["name"].notna(), "").astype(str).str.strip()
    ok &= (names != "").to_numpy()
    towns, lat, lon, names = towns.loc[ok], lat[ok], lon[ok], names[ok]
    x, y = to_mercator(lon, lat)
    arabic_names = (
        towns["name_ar"].where(towns["name_ar"].notna(), "").astype(str).str.strip()
        if "name_ar" in towns and arabic
        else pd.Series("", index=towns.index)
    )
    roles = (
        towns["role"].where(towns["role"].notna(), "").astype(str).str.strip().str.lower()
        if "role" in towns
        else pd.Series("", index=towns.index)
    )
    kinds = ["capital" if "capital" in r else ("city" if r == "city" else "town") for r in roles]
    placed = placed_rows(events)
    ex, ey = to_mercator(
        pd.to_numeric(placed[schema.LONGITUDE]).to_numpy(dtype=float),
        pd.to_numeric(placed[schema.LATITUDE]).to_numpy(dtype=float),
    )
    near = _near_metres(lat)
    weight = [int((np.hypot(ex - tx, ey - ty) < near).sum()) for tx, ty in zip(x, y, strict=True)]
    labels = [f"{n}  {a}" if a else n for n, a in zip(names, arabic_names, strict=True)]
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


def town_candidates(towns: pd.DataFrame, frame: Frame) -> list[TownCandidate]:
    """Towns to label, most important first, with their rank (see LABEL_PAD): capitals,
    towns near the window's events, cities, then the rest by events nearby."""
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
    kinds, labels = towns["kind"].tolist(), towns["label"].tolist()
    weights, names = towns["weight"].tolist(), towns["name"].tolist()
    rank = [
        0 if k == "capital" else (1 if a else (2 if k == "city" else 3))
        for k, a in zip(kinds, active, strict=True)
    ]
    order = sorted(
        range(len(towns)),
        key=lambda i: (rank[i], -int(weights[i]), names[i]),
    )
    return [(rank[i], labels[i], float(x[i]), float(y[i]), kinds[i]) for i in order]


class LabelPlacer:
    """Places names on one frame's map axes, each in room no other name, piece of furniture
    (scale bar, north arrow) or drawn event takes.

    ``markers`` are the events drawn (Mercator x, y and radius in points); ``add`` keeps an
    artist as part of the frame (removed before the next one).
    """

    def __init__(
        self,
        ax: Any,
        renderer: Any,
        *,
        furniture: Sequence[Any],
        markers: Sequence[tuple[float, float, float]],
        map_px_per_unit: float,
        add: Callable[[Any], Any],
    ) -> None:
        self.ax = ax
        self.renderer = renderer
        self.add = add
        self.map_px_per_unit = map_px_per_unit
        self.dpi_scale = ax.figure.dpi / 72
        self.taken: list[Bbox] = [
            a.get_window_extent(renderer) for a in furniture if hasattr(a, "get_window_extent")
        ]
        to_px = ax.transData
        self.markers_px = [(*to_px.transform((mx, my)), r) for mx, my, r in markers]
        # The box inscribed in each circle: a label may graze a circle, not cover it.
        self.marker_boxes = [
            Bbox.from_extents(mx - 0.7 * rr, my - 0.7 * rr, mx + 0.7 * rr, my + 0.7 * rr)
            for mx, my, rr in ((mx, my, r * self.dpi_scale) for mx, my, r in self.markers_px)
        ]
        self.axes_box = ax.get_window_extent(renderer)

    def fits(self, box: Bbox) -> bool:
        """Inside the map (2 px in) and over no name or furniture placed before."""
        inner = self.axes_box
        return (
            box.x0 >= inner.x0 + 2
            and box.x1 <= inner.x1 - 2
            and box.y0 >= inner.y0 + 2
            and box.y1 <= inner.y1 - 2
            and not any(box.overlaps(t) for t in self.taken)
        )

    def countries(self, labels: Sequence[CountryLabel]) -> None:
        """Country names, largest shown area first: large, pale and fixed in place."""
        for name, cx, cy, _area, width in sorted(labels, key=lambda t: -t[3]):
            text = draw_text(
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
                path_effects=halo(2.0),
            )
            box = text.get_window_extent(self.renderer).padded(2)
            # A name much wider than its country would read as the neighbour's.
            narrow = box.width <= 1.2 * width * self.map_px_per_unit
            if self.fits(box) and narrow:
                self.taken.append(box)
                self.add(text)
            else:
                text.remove()

    def towns(self, candidates: Sequence[TownCandidate]) -> None:
        """Town names and dots, in the order given, each where it fits."""
        to_px = self.ax.transData
        dpi_scale = self.dpi_scale
        inner = self.axes_box
        for rank, label, tx, ty, kind in candidates:
            px, py = to_px.transform((tx, ty))
            if not (inner.x0 < px < inner.x1 and inner.y0 < py < inner.y1):
                continue
            # An event drawn on the town itself pushes the label out past its circle.
            local = [
                r for mx, my, r in self.markers_px if math.hypot(mx - px, my - py) < r * dpi_scale
            ]
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
                path_effects=halo(),
            )
            # Less important towns keep more room around them: fewer, clearer labels.
            box = self._place(text, push, LABEL_PAD[rank] * dpi_scale)
            if box is None:
                text.remove()
                continue
            self.taken.append(box)
            self.add(text)
            dot = 2.4 * dpi_scale
            self.taken.append(Bbox.from_extents(px - dot, py - dot, px + dot, py + dot))
            self.add(
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

    def _place(self, text: Any, push: float, pad: float) -> Bbox | None:
        """Put ``text`` at the first candidate position that fits and covers no event, else
        at the first that fits; None when none fits. Returns the box it takes."""
        fallback: tuple[float, float, str, str, Bbox] | None = None
        for dx, dy, ha, va in _CANDIDATES:
            dx += math.copysign(push, dx) if dx else 0.0
            dy += math.copysign(push, dy) if dy else 0.0
            text.set_ha(ha)
            text.set_va(va)
            text.set_transform(offset(self.ax, dx, dy))
            box = text.get_window_extent(self.renderer).padded(pad)
            if not self.fits(box):
                continue
            if not any(box.overlaps(m) for m in self.marker_boxes):
                return box
            if fallback is None:
                fallback = (dx, dy, ha, va, box)
        if fallback is None:
            return None
        dx, dy, ha, va, box = fallback
        text.set_ha(ha)
        text.set_va(va)
        text.set_transform(offset(self.ax, dx, dy))
        return box
