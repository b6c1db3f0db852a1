"""The change map of the compare mode, as the page and the exports draw it.

A :class:`Change` holds two dates compared (:func:`dashboard.compare.compare`) and the
events of the span inside the ground that changed hands; it says which pieces and events a
map shows (with a focus controller: only its gains and losses) and where the map looks
(:func:`change_bounds`). The page (``dashboard.app.compare``) and the PNG/PDF export
(``dashboard.export.change``) both draw from it, so the file shows what the screen shows.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from dashboard import compare as cmp
from dashboard import schema, style
from dashboard.timewindow import Filters, combine, filter_masks
from dashboard.viewstate import FOCUS_ALL, CompareView


@dataclass(frozen=True)
class Change:
    """Two dates compared, as the change map draws them.

    Attributes
    ----------
    compare
        The compare view (dates A and B, the focus controller).
    result
        :func:`dashboard.compare.compare` of the two dates.
    events
        The events dated A to B that pass the view's filters and lie in changed ground
        (:func:`dashboard.compare.events_in_changes`).
    """

    compare: CompareView
    result: cmp.Comparison
    events: pd.DataFrame

    @property
    def focus(self) -> str | None:
        return None if self.compare.focus == FOCUS_ALL else self.compare.focus

    def shown_events(self) -> pd.DataFrame:
        """The events the map draws: all of :attr:`events`, or with a focus those in ground
        the focus controller gained or lost (the others lie in ground the map leaves out)."""
        events = self.events
        if self.focus is None or not len(events):
            return events
        keep = (events[cmp.TO] == self.focus) | (events[cmp.FROM] == self.focus)
        return events[keep.to_numpy()]

    def pieces(self) -> gpd.GeoDataFrame:
        """The pieces the map draws: all, or those the focus controller gained or lost."""
        pieces = self.result.pieces
        if self.focus is None or not len(pieces):
            return pieces
        keep = (pieces[cmp.TO] == self.focus) | (pieces[cmp.FROM] == self.focus)
        return pieces[keep.to_numpy()]


def controller_name(value: object) -> str:
    """A piece's controller as drawn and listed: ``Unknown`` where none is named."""
    return schema.UNKNOWN if style.is_missing(value) or not str(value).strip() else str(value)


def km2_text(value: object) -> str:
    """``12,345 km²`` (a decimal below 10 km²); "" for no number."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    return f"{number:,.0f} km²" if number >= 10 else f"{number:,.1f} km²"


def change_of(
    areas: gpd.GeoDataFrame, events: pd.DataFrame, filters: Filters, compare: CompareView
) -> Change:
    """Compare the control areas on the view's two dates, and find the events of the span
    that pass ``filters`` inside the ground that changed hands.

    Raises
    ------
    dashboard.compare.CompareError
        A date the control areas do not cover.
    """
    result = cmp.compare(areas, compare.day_a, compare.day_b)
    keep = combine(filter_masks(events, filters), len(events))
    inside = cmp.events_in_changes(
        events[keep], result.pieces, start=result.day_a, end=result.day_b
    )
    return Change(compare, result, inside)


def change_bounds(
    change: Change, *, events: bool = True
) -> tuple[float, float, float, float] | None:
    """Lon/lat bounds (west, south, east, north) of the pieces the map shows and, with
    ``events``, of the placed events it shows; None when there are none."""
    boxes = []
    pieces = change.pieces()
    if len(pieces):
        boxes.append(np.asarray(pieces.to_crs(4326).total_bounds, dtype=float))
    shown = change.shown_events() if events else change.events.iloc[:0]
    if len(shown):
        lat = pd.to_numeric(shown[schema.LATITUDE], errors="coerce").to_numpy(dtype=float)
        lon = pd.to_numeric(shown[schema.LONGITUDE], errors="coerce").to_numpy(dtype=float)
        ok = np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
        if ok.any():
            boxes.append(np.array([lon[ok].min(), lat[ok].min(), lon[ok].max(), lat[ok].max()]))
    boxes = [b for b in boxes if np.isfinite(b).all()]
    if not boxes:
        return None
    return (
        float(min(b[0] for b in boxes)),
        float(min(b[1] for b in boxes)),
        float(max(b[2] for b in boxes)),
        float(max(b[3] for b in boxes)),
    )
