"""The timeline under the map: events per week (or per day) stacked by event type, with the
window shaded and the as-of date marked; and the small table of controllers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import altair as alt
import pandas as pd

from dashboard import schema
from dashboard.timewindow import window_bounds

#: Above this many days on screen the chart counts weeks, below it days.
DAILY_MAX_DAYS = 120


def timeline_chart(
    counts: pd.DataFrame,
    *,
    as_of: dt.date,
    window_days: int,
    colours: Mapping[str, str],
    type_order: Sequence[str],
    freq: str,
    domain: tuple[pd.Timestamp, pd.Timestamp] | None = None,
    height: int = 190,
) -> alt.LayerChart:
    """An altair chart of ``counts`` (from :func:`period_counts`) with the window marked.

    Colours come from the shared palette so the chart matches the map's legend; types
    without a palette entry are grey.
    """
    start, end = window_bounds(as_of, window_days)
    types = list(type_order)
    for value in counts[schema.EVENT_TYPE].unique() if len(counts) else []:
        if value not in types:
            types.append(value)
    scale = alt.Scale(domain=types, range=[colours.get(t, "#9e9e9e") for t in types])
    unit = "week of" if freq == "W" else "day"
    bars = (
        alt.Chart(counts)
        .mark_bar()
        .encode(
            x=alt.X(
                "period:T",
                title=None,
                axis=alt.Axis(format="%b %Y" if freq == "W" else "%d %b %Y", labelOverlap=True),
                scale=alt.Scale(domain=[d.isoformat() for d in domain])
                if domain
                else alt.Undefined,
            ),
            y=alt.Y(
                "sum(events):Q",
                title=f"events per {'week' if freq == 'W' else 'day'}",
                axis=alt.Axis(format="d", tickMinStep=1),
            ),
            color=alt.Color(
                f"{schema.EVENT_TYPE}:N",
                scale=scale,
                title="Event type",
                legend=alt.Legend(orient="right", labelLimit=220),
            ),
            order=alt.Order(f"{schema.EVENT_TYPE}:N"),
            tooltip=[
                alt.Tooltip("period:T", title=unit, format="%Y-%m-%d"),
                alt.Tooltip(f"{schema.EVENT_TYPE}:N", title="type"),
                alt.Tooltip("events:Q", title="events"),
            ],
        )
    )
    marks = pd.DataFrame(
        {
            "start": [pd.Timestamp(start)],
            "end": [pd.Timestamp(end) + pd.Timedelta(days=1)],
            "as_of": [pd.Timestamp(as_of)],
        }
    )
    window = (
        alt.Chart(marks).mark_rect(opacity=0.15, color="#1f3b73").encode(x="start:T", x2="end:T")
    )
    rule = (
        alt.Chart(marks)
        .mark_rule(color="#1f3b73", strokeWidth=2)
        .encode(x="as_of:T", tooltip=[alt.Tooltip("as_of:T", title="as of", format="%Y-%m-%d")])
    )
    return (window + bars + rule).properties(height=height)


def range_freq(first: dt.date, last: dt.date) -> str:
    """``D`` (per day) when the range is short, else ``W`` (per week)."""
    return "D" if (last - first).days <= DAILY_MAX_DAYS else "W"
