"""The timeline under the map: events per week (or per day) stacked by event type, with the
window shaded and the as-of date marked; and the small table of controllers."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import pandas as pd

from dashboard import schema
from dashboard.app.viewcache import shared_cache
from dashboard.timewindow import window_bounds

#: Above this many days on screen the chart counts weeks, below it days.
DAILY_MAX_DAYS = 120
#: At most this many labelled ticks on the time axis.
MAX_TICKS = 12
#: Tick steps tried in order (unit, step), the first giving at most MAX_TICKS ticks wins,
#: each with a label format that names every tick differently.
_TICK_STEPS: tuple[tuple[str, int, str], ...] = (
    ("day", 1, "%d %b"),
    ("day", 7, "%d %b"),
    ("day", 14, "%d %b"),
    ("month", 1, "%b %Y"),
    ("month", 2, "%b %Y"),
    ("month", 3, "%b %Y"),
    ("month", 6, "%b %Y"),
    ("year", 1, "%Y"),
    ("year", 2, "%Y"),
    ("year", 5, "%Y"),
    ("year", 10, "%Y"),
)
#: The name of the chart's click selection (a bar's period): the page moves the date to it.
PICK = "pick"


def time_ticks(first: dt.date, last: dt.date) -> tuple[list[dt.date], str]:
    """Tick dates between ``first`` and ``last`` and their label format: at most
    :data:`MAX_TICKS`, on whole days, months or years, and no two labels alike (Vega's own
    ticks on a weekly axis labelled "%b %Y" repeat a month's name once a week)."""
    if last < first:
        first, last = last, first
    # The finest step that gives few enough ticks (else the last, yearly one).
    unit, step, label = next(
        (s for s in _TICK_STEPS if len(_ticks(first, last, s[0], s[1])) <= MAX_TICKS),
        _TICK_STEPS[-1],
    )
    ticks = _ticks(first, last, unit, step)
    if unit == "day" and first.year != last.year:
        return ticks, "%d %b %Y"
    return ticks, label


def _ticks(first: dt.date, last: dt.date, unit: str, step: int) -> list[dt.date]:
    if unit == "day":
        return [first + dt.timedelta(days=d) for d in range(0, (last - first).days + 1, step)]
    if unit == "month":
        months = first.year * 12 + first.month - 1
        if first.day != 1:
            months += 1
        months += (-months) % step  # months of the same phase every year (Jan, Apr, ...)
        out: list[dt.date] = []
        while True:
            day = dt.date(months // 12, months % 12 + 1, 1)
            if day > last:
                return out
            out.append(day)
            months += step
    year = first.year + (first.month != 1 or first.day != 1)
    year += (-year) % step
    return [dt.date(y, 1, 1) for y in range(year, last.year + 1, step)]


#: The names the chart's data go by in its spec (Vega-Lite named datasets).
COUNTS_DATA = "counts"
MARKS_DATA = "marks"


def timeline_chart(
    counts: pd.DataFrame,
    *,
    as_of: dt.date,
    window_days: int,
    colours: Mapping[str, str],
    type_order: Sequence[str],
    freq: str,
    domain: tuple[pd.Timestamp, pd.Timestamp] | None = None,
    height: int = 260,
) -> dict[str, Any]:
    """The Vega-Lite spec of ``counts`` (from :func:`period_counts`) with the window marked,
    its data as named datasets (``st.vega_lite_chart`` sends them as Arrow).

    Colours come from the shared palette so the chart matches the map's legend; types
    without a palette entry are grey. A click on a bar selects its period
    (:data:`PICK`): the page moves the date there.

    The chart's shape depends on the types, colours and time range only, not on the date:
    it is made once (with altair, whose schema validation costs more than the rest of a
    slider step) and shared by every session and step that shows the same range; a step
    fills in its data.
    """
    types = list(type_order)
    for value in counts[schema.EVENT_TYPE].unique() if len(counts) else []:
        if value not in types:
            types.append(value)
    if domain:
        lo, hi = pd.Timestamp(domain[0]).date(), pd.Timestamp(domain[1]).date()
    elif len(counts):
        lo, hi = counts["period"].min().date(), counts["period"].max().date()
    else:
        lo = hi = as_of
    shape = (
        tuple((t, colours.get(t, "#9e9e9e")) for t in types),
        freq,
        (domain[0].isoformat(), domain[1].isoformat()) if domain else None,
        lo.isoformat(),
        hi.isoformat(),
        height,
    )
    template = shared_cache().get(("timeline-spec", shape), lambda: _template(*shape))
    spec: dict[str, Any] = json.loads(template)
    start, end = window_bounds(as_of, window_days)
    marks = pd.DataFrame(
        {
            "start": [pd.Timestamp(start)],
            "end": [pd.Timestamp(end) + pd.Timedelta(days=1)],
            "as_of": [pd.Timestamp(as_of)],
        }
    )
    spec["datasets"] = {COUNTS_DATA: counts, MARKS_DATA: marks}
    return spec


def _template(
    colours: tuple[tuple[str, str], ...],
    freq: str,
    domain: tuple[str, str] | None,
    lo: str,
    hi: str,
    height: int,
) -> str:
    """The chart's spec without its data, as JSON (see :func:`timeline_chart`)."""
    types = [t for t, _ in colours]
    scale = alt.Scale(domain=types, range=[c for _, c in colours])
    unit = "week of" if freq == "W" else "day"
    ticks, tick_format = time_ticks(dt.date.fromisoformat(lo), dt.date.fromisoformat(hi))
    pick = alt.selection_point(name=PICK, fields=["period"], on="click", empty=False)
    bars = (
        alt.Chart(alt.NamedData(name=COUNTS_DATA))
        .mark_bar()
        .encode(
            x=alt.X(
                "period:T",
                title=None,
                axis=alt.Axis(
                    format=tick_format,
                    values=[alt.DateTime(year=t.year, month=t.month, date=t.day) for t in ticks],
                    labelOverlap=True,
                ),
                scale=alt.Scale(domain=list(domain)) if domain else alt.Undefined,
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
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.85)),
            tooltip=[
                alt.Tooltip("period:T", title=unit, format="%Y-%m-%d"),
                alt.Tooltip(f"{schema.EVENT_TYPE}:N", title="type"),
                alt.Tooltip("events:Q", title="events"),
            ],
        )
        .add_params(pick)
    )
    marks = alt.NamedData(name=MARKS_DATA)
    # The window: a band that reads at a glance, edged so a one-week window still shows.
    window = (
        alt.Chart(marks)
        .mark_rect(opacity=0.28, color="#1f3b73", stroke="#1f3b73", strokeWidth=1.5)
        .encode(x="start:T", x2="end:T")
    )
    rule = (
        alt.Chart(marks)
        .mark_rule(color="#1f3b73", strokeWidth=2)
        .encode(x="as_of:T", tooltip=[alt.Tooltip("as_of:T", title="as of", format="%Y-%m-%d")])
    )
    return json.dumps((window + bars + rule).properties(height=height).to_dict())


def range_freq(first: dt.date, last: dt.date) -> str:
    """``D`` (per day) when the range is short, else ``W`` (per week)."""
    return "D" if (last - first).days <= DAILY_MAX_DAYS else "W"
