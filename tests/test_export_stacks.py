"""Pictures mark a point that stands for several events with their count, as the page does.

In November 2017 Abu Kamal changed hands three times (events.csv: CM079, CM080, CM082),
drawn on one spot. The expected counts are worked out here from the bundled data, not
written down.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from matplotlib.text import Text

from dashboard import paths, schema
from dashboard.export import load_export_data, resolve_frame
from dashboard.export.figure import STACK_COUNT_ZORDER, MapFigure
from dashboard.export.view import to_mercator, view_extent
from dashboard.viewstate import ViewState

WHEN = dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def bundled():
    return load_export_data()


def _abu_kamal() -> tuple[float, float]:
    towns = pd.read_csv(paths.BUNDLED_TOWNS)
    row = towns[towns["name"] == "Abu Kamal"].iloc[0]
    return float(row["latitude"]), float(row["longitude"])


def _counts(bundled, view: ViewState) -> tuple[MapFigure, list[Text]]:
    figure = MapFigure(
        bundled,
        width_in=10,
        height_in=6.25,
        dpi=160,
        extent=view_extent(bundled, view),
        view=view,
        exported_at=WHEN,
    )
    figure.draw(resolve_frame(bundled, view))
    return figure, [t for t in figure.ax.texts if t.get_zorder() == STACK_COUNT_ZORDER]


@pytest.mark.parametrize("day", ["2017-11-19", "2017-11-09"])
def test_a_point_standing_for_several_events_shows_their_count(bundled, day) -> None:
    view = ViewState(as_of=dt.date.fromisoformat(day), window=30)
    lat, lon = _abu_kamal()
    frame = resolve_frame(bundled, view)
    placed = frame.placed
    near = (placed[schema.LATITUDE] - lat).abs() + (placed[schema.LONGITUDE] - lon).abs() < 0.01
    expected = int(near.sum())
    assert expected >= 1
    figure, counts = _counts(bundled, view)
    x, y = to_mercator(np.array([lon]), np.array([lat]))
    at_town = [
        a
        for a in counts
        if np.hypot(a.get_position()[0] - x[0], a.get_position()[1] - y[0]) < 1_000  # metres
    ]
    if expected == 1:
        assert at_town == []
    else:
        assert [a.get_text() for a in at_town] == [str(expected)]
        # The count is beside the point, not on it, and no town label covers it.
        renderer = figure.fig.canvas.get_renderer()
        box = at_town[0].get_window_extent(renderer)
        point = figure.ax.transData.transform((x[0], y[0]))
        assert not box.contains(*point)
        labels = [t for t in figure.ax.texts if t.get_zorder() == 8]
        assert not any(box.overlaps(t.get_window_extent(renderer)) for t in labels)
    # Every count is of events on one pixel: the counts add up to at most the events.
    assert sum(int(a.get_text()) for a in counts) <= len(placed)


def test_a_framed_export_draws_no_count_for_events_outside_its_frame(bundled) -> None:
    """The Abu Kamal stack lies outside a frame around Hasakah: its count is neither on the
    map nor on the footer or the legend beside it."""
    view = ViewState(as_of=dt.date(2017, 11, 19), window=30)
    x, y = to_mercator(np.array([39.5, 42.0]), np.array([34.8, 37.2]))
    figure = MapFigure(
        bundled,
        width_in=10,
        height_in=6.25,
        dpi=160,
        extent=(float(x[0]), float(y[0]), float(x[1]), float(y[1])),
        view=view,
        exported_at=WHEN,
    )
    figure.draw(resolve_frame(bundled, view))
    figure.canvas.draw()
    box = figure.ax.get_window_extent()
    counts = [t for t in figure.ax.texts if t.get_zorder() == STACK_COUNT_ZORDER]
    outside = [
        t.get_text()
        for t in counts
        if not box.contains(*t.get_window_extent(figure.canvas.get_renderer()).get_points()[0])
    ]
    assert outside == []
