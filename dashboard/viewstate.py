"""The view state and its URL form: every query parameter parsed into an allowlisted value.

The URL is the permalink. :func:`parse_query` turns the query string into a typed
:class:`ViewState` plus a list of :class:`Notice` for every value it had to drop;
:func:`to_query` writes a state back. Both are plain functions (no Streamlit) so they are
tested directly; the app calls them once per session (parse) and on every run (write).

Parameters (all optional)::

    date=YYYY-MM-DD          as-of date (drives the control areas); inside the data's range
    window=N                 days of events up to and including the date, 1..3660
    type=, subtype=,         event type, sub-event type, actor, country, admin1: repeat the
    actor=, country=,        parameter for several values; only values present in the data
    admin1=
    min_fatalities=N         0..100000
    precision=1,2            location precision levels shown (1 precise .. 3 region)
    layers=areas,events,...  map layers shown (see LAYERS)
    points=auto|points|clusters|hexagons
                             auto: every event up to POINTS_MAX (20,000), hexagons above
    basemap=osm|none
    lat=, lon=, zoom=        map centre and zoom
    step=day|week|month      step of the step buttons and of Play
    timeline=all|window      timeline of all dates (weekly) or around the window (daily)
    mode=compare, from=, to=, focus=, compare_map=, tolerance=
                             the compare mode (``dashboard.app.compare``)
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from dashboard import schema
from dashboard.timewindow import (
    MAX_WINDOW_DAYS,
    STEPS,
    WINDOW_PRESETS,
    DateIndex,
    Filters,
    build_date_index,
    clamp_date,
    data_bounds,
    from_day,
    to_day,
    window_bounds,
)

# --- parameter names -----------------------------------------------------------------------
DATE = "date"
WINDOW = "window"
TYPE = "type"
SUBTYPE = "subtype"
ACTOR = "actor"
COUNTRY = "country"
ADMIN1 = "admin1"
MIN_FATALITIES = "min_fatalities"
PRECISION = "precision"
LAYERS_PARAM = "layers"
POINTS = "points"
BASEMAP = "basemap"
LAT = "lat"
LON = "lon"
ZOOM = "zoom"
STEP = "step"
TIMELINE = "timeline"
PLACE = "place"
#: The longest place name a permalink may carry (characters; longer ones are cut).
PLACE_MAX_CHARS = 100
#: The compare mode's parameters, parsed by :func:`parse_compare_query`.
COMPARE_PARAMS: tuple[str, ...] = ("mode", "from", "to", "focus", "compare_map", "tolerance")

KNOWN_PARAMS: tuple[str, ...] = (
    DATE,
    WINDOW,
    TYPE,
    SUBTYPE,
    ACTOR,
    COUNTRY,
    ADMIN1,
    MIN_FATALITIES,
    PRECISION,
    LAYERS_PARAM,
    POINTS,
    BASEMAP,
    LAT,
    LON,
    ZOOM,
    STEP,
    TIMELINE,
    PLACE,
    *COMPARE_PARAMS,
)

# --- allowlists ----------------------------------------------------------------------------
LAYER_AREAS = "areas"
LAYER_EVENTS = "events"
LAYER_HEATMAP = "heatmap"
LAYER_CONTEXT = "context"
LAYERS: tuple[str, ...] = (LAYER_AREAS, LAYER_EVENTS, LAYER_HEATMAP, LAYER_CONTEXT)
LAYER_LABELS: dict[str, str] = {
    LAYER_AREAS: "Control areas",
    LAYER_EVENTS: "Events",
    LAYER_HEATMAP: "Event density (heat map)",
    LAYER_CONTEXT: "Country outlines and towns",
}
DEFAULT_LAYERS: tuple[str, ...] = (LAYER_AREAS, LAYER_EVENTS, LAYER_CONTEXT)

#: How events are drawn. "hexagons" aggregates them on the server (dashboard.aggregate);
#: "auto" picks points or hexagons by the number of events (``layers.default_point_mode``).
POINT_MODES: tuple[str, ...] = ("auto", "points", "clusters", "hexagons")
POINT_MODE_LABELS: dict[str, str] = {
    "auto": "Auto (by count)",
    "points": "Points",
    "clusters": "Clusters",
    "hexagons": "Hexagons (aggregated on the server)",
}
TIMELINE_MODES: tuple[str, ...] = ("all", "window")
BASEMAPS: tuple[str, ...] = ("osm", "none")
BASEMAP_LABELS: dict[str, str] = {"osm": "OpenStreetMap tiles", "none": "No tiles (offline)"}

DEFAULT_WINDOW = 30
MAX_FATALITIES_FILTER = 100_000
MIN_ZOOM, MAX_ZOOM = 2, 18
MAX_LIST_VALUES = 200  # more values than this in one parameter is not a real view
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_INT_RE = re.compile(r"\d{1,7}")
_FLOAT_RE = re.compile(r"-?\d{1,3}(\.\d{1,10})?")


@dataclass(frozen=True)
class ViewState:
    """Everything a permalink reproduces."""

    as_of: dt.date
    window: int = DEFAULT_WINDOW
    filters: Filters = field(default_factory=Filters)
    layers: tuple[str, ...] = DEFAULT_LAYERS
    points: str = "auto"
    basemap: str = "osm"
    center: tuple[float, float] | None = None
    zoom: int | None = None
    step: str = "week"
    timeline: str = "all"
    place: str = ""
    """The place search's text ("" when none): the page searches it again on opening."""


@dataclass(frozen=True)
class Options:
    """What the loaded data allows: the date range and the values each filter can take."""

    first: dt.date
    last: dt.date
    event_types: tuple[str, ...] = ()
    sub_event_types: tuple[str, ...] = ()
    actors: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    admin1: tuple[str, ...] = ()
    #: First and last day the control areas cover (None: open-ended on that side).
    areas_first: dt.date | None = None
    areas_last: dt.date | None = None
    #: Window (days) of a URL without one: chosen for the data by ``default_window``.
    default_window: int = 30
    #: Distinct event days (day numbers since 1970-01-01, sorted), to tell whether a window
    #: holds any event; empty when unknown.
    event_days: tuple[int, ...] = field(default=(), repr=False, compare=False)

    def window_has_events(self, as_of: dt.date, days: int) -> bool | None:
        """Whether the ``days``-day window ending on ``as_of`` holds an event (None: unknown)."""
        if not self.event_days:
            return None
        end = to_day(as_of)
        i = bisect.bisect_left(self.event_days, end - max(1, days) + 1)
        return i < len(self.event_days) and self.event_days[i] <= end

    @property
    def default_date(self) -> dt.date:
        """The latest date with events that the control areas also cover.

        The last event date, unless the area files stop earlier: an opening view with no
        control areas at all would read as "nobody held anything".
        """
        day = self.last
        if self.areas_last is not None and self.areas_last < day:
            day = max(self.first, self.areas_last)
        return day

    def areas_cover(self, day: dt.date) -> bool:
        """Whether ``day`` lies inside the period the control-area files describe."""
        if self.areas_first is not None and day < self.areas_first:
            return False
        return not (self.areas_last is not None and day > self.areas_last)


@dataclass(frozen=True)
class Notice:
    """One query parameter that could not be used, and what was used instead."""

    param: str
    value: str
    message: str

    def text(self) -> str:
        return f"URL parameter {_short(self.param)}={_short(self.value)!r} ignored: {self.message}"


#: The reason given for a parameter the page does not know.
UNKNOWN_PARAM = "unknown parameter"
#: Lines of URL notices shown at most; the rest are counted in one closing line.
MAX_NOTICE_LINES = 8
#: Values quoted in one merged notice line.
QUOTED_VALUES = 3


def notice_lines(notices: Sequence[Notice]) -> list[str]:
    """The notices as a few lines: the values refused for one reason merged, the total capped.

    A crafted link can carry thousands of bad values; one warning each would flood the
    page and slow every later run of the session. Values of one parameter refused for the
    same reason make one line (unknown parameters, whatever their names, make one line),
    and at most :data:`MAX_NOTICE_LINES` lines are kept, the last one counting the rest.
    """
    groups: dict[tuple[str, str], list[Notice]] = {}
    for notice in notices:
        param = "" if notice.message == UNKNOWN_PARAM else notice.param
        groups.setdefault((param, notice.message), []).append(notice)
    lines: list[str] = []
    for (param, message), group in groups.items():
        if len(group) == 1:
            lines.append(group[0].text())
            continue
        if param:
            quoted = ", ".join(repr(_short(n.value)) for n in group[:QUOTED_VALUES])
            what = f"URL parameter {param}: {len(group):,} values ignored ({quoted}"
        else:
            quoted = ", ".join(repr(_short(n.param)) for n in group[:QUOTED_VALUES])
            what = f"URL parameters ignored: {len(group):,} unknown parameters ({quoted}"
        more = "…" if len(group) > QUOTED_VALUES else ""
        lines.append(f"{what}{', ' + more if more else ''}): {message}")
    if len(lines) > MAX_NOTICE_LINES:
        hidden = len(lines) - (MAX_NOTICE_LINES - 1)
        lines = [*lines[: MAX_NOTICE_LINES - 1], f"… and {hidden:,} more URL notices."]
    return lines


def _short(value: str, limit: int = 60) -> str:
    return value if len(value) <= limit else value[: limit - 1] + "…"


def default_state(options: Options) -> ViewState:
    """The view a URL without parameters shows: the latest date the areas cover, and a
    window long enough to show something (``Options.default_window``)."""
    return ViewState(as_of=options.default_date, window=options.default_window)


#: The default window is the shortest preset holding at least this many events.
DEFAULT_WINDOW_MIN_EVENTS = 10


def pick_default_window(count_in: Callable[[int], int], presets: Sequence[int]) -> int:
    """The shortest preset window holding ``DEFAULT_WINDOW_MIN_EVENTS`` events, else the one
    holding the most (the shortest of those); ``count_in(days)`` counts a window's events."""
    counts = [(count_in(days), days) for days in sorted(presets)]
    for n, days in counts:
        if n >= DEFAULT_WINDOW_MIN_EVENTS:
            return days
    best = max(n for n, _ in counts)
    return min(days for n, days in counts if n == best)


def _last(values: Sequence[str]) -> str:
    return values[-1] if values else ""


def _split(values: Sequence[str]) -> list[str]:
    """Repeated parameters and comma-separated lists both work for small allowlists."""
    out: list[str] = []
    for value in values:
        out.extend(part.strip() for part in value.split(","))
    return [v for v in out if v]


def parse_query(
    params: Mapping[str, Sequence[str]], options: Options
) -> tuple[ViewState, list[Notice]]:
    """Parse query parameters into a :class:`ViewState`.

    Parameters
    ----------
    params
        Every parameter with all its values (``st.query_params.get_all`` for each key).
    options
        The loaded data's date range and filter values (the allowlists).

    Returns
    -------
    (ViewState, list of Notice)
        Every value that is missing, malformed, out of range or not in the data falls back
        to the default; each such value produces one notice.
    """
    notices: list[Notice] = []
    state = default_state(options)

    def bad(param: str, value: str, message: str) -> None:
        notices.append(Notice(param, value, message))

    for key in params:
        if key not in KNOWN_PARAMS:
            bad(key, _last(params[key]), UNKNOWN_PARAM)

    # date
    raw = params.get(DATE)
    if raw:
        value = _last(raw)
        parsed = _parse_date(value)
        if parsed is None:
            bad(DATE, value, f"expected a date YYYY-MM-DD; showing {state.as_of.isoformat()}")
        elif not options.first <= parsed <= options.last:
            bad(
                DATE,
                value,
                f"outside the data ({options.first.isoformat()} to {options.last.isoformat()}); "
                f"showing {state.as_of.isoformat()}",
            )
        else:
            state = replace(state, as_of=parsed)

    # window
    raw = params.get(WINDOW)
    if raw:
        value = _last(raw)
        number = _parse_int(value)
        if number is None or not 1 <= number <= MAX_WINDOW_DAYS:
            bad(
                WINDOW,
                value,
                f"expected whole days from 1 to {MAX_WINDOW_DAYS}; showing {state.window}",
            )
        else:
            state = replace(state, window=number)

    # list filters: only values present in the data
    chosen: dict[str, tuple[str, ...]] = {}
    for param, allowed in (
        (TYPE, options.event_types),
        (SUBTYPE, options.sub_event_types),
        (ACTOR, options.actors),
        (COUNTRY, options.countries),
        (ADMIN1, options.admin1),
    ):
        values = [v for v in params.get(param, ()) if v != ""]
        if len(values) > MAX_LIST_VALUES:
            bad(param, f"{len(values)} values", f"more than {MAX_LIST_VALUES} values")
            values = []
        allowed_set = set(allowed)
        kept: list[str] = []
        for value in values:
            if value in allowed_set:
                if value not in kept:
                    kept.append(value)
            else:
                bad(param, value, "not in the loaded data")
        chosen[param] = tuple(kept)

    min_fatalities = 0
    raw = params.get(MIN_FATALITIES)
    if raw:
        value = _last(raw)
        number = _parse_int(value)
        if number is None or not 0 <= number <= MAX_FATALITIES_FILTER:
            bad(MIN_FATALITIES, value, f"expected a whole number 0 to {MAX_FATALITIES_FILTER}")
        else:
            min_fatalities = number

    precisions: tuple[int, ...] = ()
    raw = params.get(PRECISION)
    if raw:
        levels: list[int] = []
        for value in _split(raw):
            number = _parse_int(value)
            if number in schema.GEO_PRECISIONS:
                if number not in levels:
                    levels.append(number)
            else:
                bad(PRECISION, value, "expected 1, 2 or 3")
        precisions = tuple(sorted(levels))

    state = replace(
        state,
        filters=Filters(
            event_types=chosen[TYPE],
            sub_event_types=chosen[SUBTYPE],
            actors=chosen[ACTOR],
            countries=chosen[COUNTRY],
            admin1=chosen[ADMIN1],
            min_fatalities=min_fatalities,
            precisions=precisions,
        ),
    )

    # layers
    raw = params.get(LAYERS_PARAM)
    if raw is not None:
        expected = f"expected some of {', '.join(LAYERS)} (or none)"
        values = _split(raw)
        layers: list[str] = []
        for value in values:
            if value in LAYERS:
                if value not in layers:
                    layers.append(value)
            elif value != "none":
                bad(LAYERS_PARAM, value, expected)
        if not values:
            bad(LAYERS_PARAM, "", expected)
        # Only an explicit "none" turns every layer off; nothing valid keeps the default.
        if layers or "none" in values:
            state = replace(state, layers=tuple(v for v in LAYERS if v in layers))

    choices: dict[str, str] = {}
    for param, allowed in (
        (POINTS, POINT_MODES),
        (BASEMAP, BASEMAPS),
        (STEP, STEPS),
        (TIMELINE, TIMELINE_MODES),
    ):
        raw = params.get(param)
        if raw:
            value = _last(raw)
            if value in allowed:
                choices[param] = value
            else:
                bad(param, value, f"expected one of {', '.join(allowed)}")
    state = replace(
        state,
        points=choices.get(POINTS, state.points),
        basemap=choices.get(BASEMAP, state.basemap),
        step=choices.get(STEP, state.step),
        timeline=choices.get(TIMELINE, state.timeline),
    )

    # the place search: free text (a name in any script), searched again by the page;
    # control characters dropped and long text cut, so a link cannot flood the page
    raw_place = params.get(PLACE)
    if raw_place:
        text = "".join(ch for ch in _last(raw_place) if ch.isprintable()).strip()
        if len(text) > PLACE_MAX_CHARS:
            bad(PLACE, text[:40] + "…", f"a place name of at most {PLACE_MAX_CHARS} characters")
            text = text[:PLACE_MAX_CHARS]
        state = replace(state, place=text)

    # map view: lat and lon come as a pair
    lat_raw, lon_raw = params.get(LAT), params.get(LON)
    if lat_raw or lon_raw:
        lat = _parse_float(_last(lat_raw or []), -85.0, 85.0)
        lon = _parse_float(_last(lon_raw or []), -180.0, 180.0)
        if lat is None or lon is None:
            shown = f"lat={_last(lat_raw or [])} lon={_last(lon_raw or [])}"
            bad("lat/lon", shown, "expected latitude -85..85 and longitude -180..180")
        else:
            state = replace(state, center=(lat, lon))
    raw = params.get(ZOOM)
    if raw:
        value = _last(raw)
        number = _parse_int(value)
        if number is None or not MIN_ZOOM <= number <= MAX_ZOOM:
            bad(ZOOM, value, f"expected a whole number {MIN_ZOOM} to {MAX_ZOOM}")
        else:
            state = replace(state, zoom=number)
    return state, notices


def _parse_date(value: str) -> dt.date | None:
    if not _DATE_RE.fullmatch(value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _parse_int(value: str) -> int | None:
    value = value.strip()
    return int(value) if _INT_RE.fullmatch(value) else None


def _parse_float(value: str, low: float, high: float) -> float | None:
    value = value.strip()
    if not _FLOAT_RE.fullmatch(value):
        return None
    number = float(value)
    if not math.isfinite(number) or not low <= number <= high:
        return None
    return number


def to_query(state: ViewState) -> dict[str, list[str]]:
    """The query parameters of a state, in a stable order (the permalink).

    Date, window, layers, basemap and points are always written, so a link keeps meaning
    the same view when the data later grows; empty filters are left out.
    """
    f = state.filters
    query: dict[str, list[str]] = {
        DATE: [state.as_of.isoformat()],
        WINDOW: [str(state.window)],
    }
    for param, values in (
        (TYPE, f.event_types),
        (SUBTYPE, f.sub_event_types),
        (ACTOR, f.actors),
        (COUNTRY, f.countries),
        (ADMIN1, f.admin1),
    ):
        if values:
            query[param] = list(values)
    if f.min_fatalities:
        query[MIN_FATALITIES] = [str(f.min_fatalities)]
    if f.precisions and set(f.precisions) != set(schema.GEO_PRECISIONS):
        query[PRECISION] = [",".join(str(p) for p in sorted(f.precisions))]
    query[LAYERS_PARAM] = [",".join(state.layers) if state.layers else "none"]
    query[POINTS] = [state.points]
    query[BASEMAP] = [state.basemap]
    query[STEP] = [state.step]
    query[TIMELINE] = [state.timeline]
    if state.center is not None:
        query[LAT] = [f"{state.center[0]:.4f}"]
        query[LON] = [f"{state.center[1]:.4f}"]
    if state.zoom is not None:
        query[ZOOM] = [str(state.zoom)]
    if state.place:
        query[PLACE] = [state.place]
    return query


def restrict_to(state: ViewState, options: Options) -> tuple[ViewState, list[str]]:
    """``state`` made valid for other data (after an upload): the date clamped into the new
    range, filter values the new data lacks dropped. Returns what changed, for a notice."""
    changes: list[str] = []
    as_of = clamp_date(state.as_of, options.first, options.last)
    if as_of != state.as_of:
        changes.append(f"date moved to {as_of.isoformat()}")
    f = state.filters
    kept: dict[str, tuple[str, ...]] = {}
    for name, values, allowed in (
        ("event_types", f.event_types, options.event_types),
        ("sub_event_types", f.sub_event_types, options.sub_event_types),
        ("actors", f.actors, options.actors),
        ("countries", f.countries, options.countries),
        ("admin1", f.admin1, options.admin1),
    ):
        allowed_set = set(allowed)
        kept[name] = tuple(v for v in values if v in allowed_set)
        dropped = len(values) - len(kept[name])
        if dropped:
            changes.append(f"{dropped} {name.replace('_', ' ')} filter value(s) not in the data")
    filters = replace(
        f,
        event_types=kept["event_types"],
        sub_event_types=kept["sub_event_types"],
        actors=kept["actors"],
        countries=kept["countries"],
        admin1=kept["admin1"],
    )
    return replace(state, as_of=as_of, filters=filters), changes


# --- the compare mode (``dashboard.app.compare``) --------------------------------------------
# Its parameters are COMPARE_PARAMS; the others (layers, basemap, filters) keep their
# single-date meaning and are written by to_query.

MODE_SINGLE = "single"
MODE_COMPARE = "compare"
MODES: tuple[str, ...] = (MODE_SINGLE, MODE_COMPARE)
MODE_LABELS = {MODE_SINGLE: "One date", MODE_COMPARE: "Compare two dates"}
MAP_CHANGES = "changes"
MAP_SIDE = "side"
MAPS: tuple[str, ...] = (MAP_CHANGES, MAP_SIDE)
MAP_LABELS = {MAP_CHANGES: "What changed hands", MAP_SIDE: "Side by side"}
FOCUS_ALL = "all"
#: Date A of a compare URL without one: this many days before date B.
DEFAULT_SPAN_DAYS = 182
MAX_TOLERANCE_DAYS = 365

P_MODE, P_FROM, P_TO, P_FOCUS, P_MAP, P_TOLERANCE = COMPARE_PARAMS


@dataclass(frozen=True)
class CompareView:
    """What a compare permalink reproduces."""

    mode: str
    day_a: dt.date
    day_b: dt.date
    focus: str = FOCUS_ALL
    map: str = MAP_CHANGES
    tolerance: int = 7


def default_compare(first: dt.date, last: dt.date, default_b: dt.date) -> CompareView:
    """The compare view of a URL without compare parameters: half a year up to ``default_b``."""
    day_b = min(max(default_b, first), last)
    day_a = max(first, day_b - dt.timedelta(days=DEFAULT_SPAN_DAYS))
    return CompareView(mode=MODE_SINGLE, day_a=day_a, day_b=day_b)


def parse_compare_query(
    params: Mapping[str, Sequence[str]],
    *,
    first: dt.date,
    last: dt.date,
    default_b: dt.date,
    controllers: Sequence[str],
) -> tuple[CompareView, list[Notice]]:
    """Parse the compare parameters; every unusable value falls back with a notice.

    Parameters
    ----------
    params
        Every query parameter with all its values.
    first, last
        The period the control areas cover (the dates allowed).
    default_b
        Date B when the URL has none (the single-date view's date).
    controllers
        The controllers ``focus`` may name.
    """
    notices: list[Notice] = []
    view = default_compare(first, last, default_b)

    raw = params.get(P_MODE)
    if raw:
        value = _last(raw)
        if value in MODES:
            view = replace(view, mode=value)
        else:
            notices.append(Notice(P_MODE, value, f"expected one of {', '.join(MODES)}"))

    days: dict[str, dt.date] = {}
    for param in (P_FROM, P_TO):
        raw = params.get(param)
        if not raw:
            continue
        value = _last(raw)
        parsed = _parse_date(value.strip())
        if parsed is None:
            notices.append(Notice(param, value, "expected a date YYYY-MM-DD"))
        elif not first <= parsed <= last:
            notices.append(
                Notice(
                    param,
                    value,
                    f"outside the control areas ({first.isoformat()} to {last.isoformat()})",
                )
            )
        else:
            days[param] = parsed
    day_b = days.get(P_TO, view.day_b)
    day_a = days.get(
        P_FROM,
        view.day_a
        if P_TO not in days
        else max(first, day_b - dt.timedelta(days=DEFAULT_SPAN_DAYS)),
    )
    if day_a > day_b:
        notices.append(
            Notice(
                P_FROM,
                day_a.isoformat(),
                f"after {P_TO}={day_b.isoformat()}; the two dates were swapped",
            )
        )
        day_a, day_b = day_b, day_a
    view = replace(view, day_a=day_a, day_b=day_b)

    raw = params.get(P_FOCUS)
    if raw:
        value = _last(raw)
        if value == FOCUS_ALL or value in controllers:
            view = replace(view, focus=value)
        else:
            notices.append(Notice(P_FOCUS, value, "not a controller of the loaded areas"))
    raw = params.get(P_MAP)
    if raw:
        value = _last(raw)
        if value in MAPS:
            view = replace(view, map=value)
        else:
            notices.append(Notice(P_MAP, value, f"expected one of {', '.join(MAPS)}"))
    raw = params.get(P_TOLERANCE)
    if raw:
        value = _last(raw).strip()
        if value.isdigit() and len(value) <= 3 and int(value) <= MAX_TOLERANCE_DAYS:
            view = replace(view, tolerance=int(value))
        else:
            notices.append(
                Notice(P_TOLERANCE, value, f"expected whole days 0 to {MAX_TOLERANCE_DAYS}")
            )
    return view, notices


def compare_query(view: CompareView) -> dict[str, list[str]]:
    """The compare parameters of a view (none in single-date mode, the default)."""
    if view.mode != MODE_COMPARE:
        return {}
    return {
        P_MODE: [MODE_COMPARE],
        P_FROM: [view.day_a.isoformat()],
        P_TO: [view.day_b.isoformat()],
        P_FOCUS: [view.focus],
        P_MAP: [view.map],
        P_TOLERANCE: [str(view.tolerance)],
    }


# --- what a dataset offers (the filters' choices, its dates, the default window) ----------

#: The actor filter offers at most this many names (the most frequent): the URL parser
#: checks actors against this list, and a list of 100,000 names helps nobody.
MAX_ACTOR_OPTIONS = 5000


def _text_counts(values: pd.Series) -> pd.Series:
    """How often each non-blank text value occurs (stripped), most frequent first."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        # Count the codes, then strip the (few) distinct values: a million rows in ms.
        counts = values.value_counts(dropna=True)
        counts = counts[counts > 0]
        counts.index = pd.Index([str(v).strip() for v in counts.index])
    else:
        text = values.dropna().astype(str).str.strip()
        counts = text.value_counts()
    counts = counts[counts.index != ""]
    return counts.groupby(level=0, sort=False).sum().sort_values(ascending=False, kind="stable")


def choices(counts: pd.Series, limit: int | None = None) -> tuple[str, ...]:
    """A filter's choices from the count of each value: the ``limit`` most frequent (all
    when None), in alphabetical order."""
    counts = counts.sort_values(ascending=False, kind="stable")
    if limit is not None and len(counts) > limit:
        counts = counts.iloc[:limit]  # the most frequent ones
    return tuple(sorted((str(v) for v in counts.index), key=str.casefold))


def area_coverage(areas: pd.DataFrame) -> tuple[dt.date | None, dt.date | None]:
    """First and last day any control area is valid (valid_to is exclusive; NaT = open)."""
    if areas.empty:
        return None, None
    start = pd.to_datetime(areas[schema.VALID_FROM], errors="coerce")
    end = pd.to_datetime(areas[schema.VALID_TO], errors="coerce")
    first = None if start.isna().any() else start.min().date()
    last = None if end.isna().any() else (end.max() - pd.Timedelta(days=1)).date()
    return first, last


def dataset_options(events: pd.DataFrame, index: DateIndex, areas: pd.DataFrame) -> Options:
    """The :class:`Options` of a dataset: its dates, the filters' choices, the default window.

    ``events`` are date-sorted (``index`` built on them); the app and the exports both
    call this, so an exported view offers what the page offers. Counted here, then made by
    :func:`counted_options` (which a database's counts go through too).
    """
    days, per_day = np.unique(index.days, return_counts=True)
    daily = pd.Series(
        per_day.astype(np.int64),
        index=pd.DatetimeIndex(days.astype("datetime64[D]").astype("datetime64[ns]")),
    )
    values = {
        name: _text_counts(events[name])
        for name in (schema.EVENT_TYPE, schema.SUB_EVENT_TYPE, schema.COUNTRY, schema.ADMIN1)
        if name in events
    }
    parts = [_text_counts(events[c]) for c in (schema.ACTOR1, schema.ACTOR2) if c in events]
    actors = (
        pd.concat(parts).groupby(level=0, sort=False).sum()
        if parts
        else pd.Series([], dtype="int64")
    )
    return counted_options(daily, values, actors, areas)


def counted_options(
    daily: pd.Series,
    values: Mapping[str, pd.Series],
    actors: pd.Series,
    areas: pd.DataFrame,
) -> Options:
    """The :class:`Options` of a dataset known only by its counts (a database): events per
    day (``daily``, a date index), the count of each value of the text columns with a
    filter (``values``, by column) and of each actor. The same choices, dates and default
    window as :func:`dataset_options` gives for the events themselves."""
    dated = daily[daily > 0].sort_index()
    days = np.array([to_day(d.date()) for d in dated.index], dtype=np.int64)
    total = np.concatenate([[0], np.cumsum(dated.to_numpy(dtype=np.int64))])
    areas_first, areas_last = area_coverage(areas)
    if len(days):
        first, last = from_day(int(days[0])), from_day(int(days[-1]))
    else:
        first, last = data_bounds(build_date_index(pd.Series([], dtype="datetime64[ns]")), areas)

    def column(name: str) -> tuple[str, ...]:
        return choices(values.get(name, pd.Series([], dtype="int64")))

    options = Options(
        default_window=DEFAULT_WINDOW,
        first=first,
        last=last,
        areas_first=areas_first,
        areas_last=areas_last,
        event_types=column(schema.EVENT_TYPE),
        sub_event_types=column(schema.SUB_EVENT_TYPE),
        actors=choices(actors, MAX_ACTOR_OPTIONS),
        countries=column(schema.COUNTRY),
        admin1=column(schema.ADMIN1),
    )
    day = options.default_date

    def count_in(window: int) -> int:
        start, end = window_bounds(day, window)
        lo = np.searchsorted(days, to_day(start), side="left")
        hi = np.searchsorted(days, to_day(end), side="right")
        return int(total[hi] - total[lo])

    window = pick_default_window(count_in, WINDOW_PRESETS[1:])
    return replace(options, default_window=window, event_days=tuple(int(d) for d in days))
