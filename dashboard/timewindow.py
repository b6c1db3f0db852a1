"""Time windows, filters and the counts the dashboard shows: plain pandas/numpy, no UI.

The app keeps one :class:`DateIndex` per loaded dataset. Selecting the events of a window is
two binary searches on the sorted day numbers (``np.searchsorted``), so moving the slider
costs O(log n) plus the size of the window, not a scan of every event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dashboard import schema

#: Window lengths offered as presets (days).
WINDOW_PRESETS: tuple[int, ...] = (7, 30, 90, 365)
#: Longest custom window, in days (about ten years).
MAX_WINDOW_DAYS = 3660
#: Step sizes of the step buttons and of Play.
STEPS: tuple[str, ...] = ("day", "week", "month")

_EPOCH = dt.date(1970, 1, 1)


def to_day(value: dt.date) -> int:
    """Day number (days since 1970-01-01) of a date."""
    return (value - _EPOCH).days


def from_day(day: int) -> dt.date:
    """The date of a day number."""
    return _EPOCH + dt.timedelta(days=int(day))


def _day_numbers(dates: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Day numbers of a date column and a mask of the rows that have a date."""
    values = pd.to_datetime(dates, errors="coerce")
    valid = values.notna().to_numpy()
    days = np.zeros(len(values), dtype=np.int64)
    if valid.any():
        days[valid] = values[valid].to_numpy().astype("datetime64[D]").astype(np.int64)
    return days, valid


@dataclass(frozen=True)
class DateIndex:
    """Rows of an events frame sorted by date, for binary-search window selection.

    Attributes
    ----------
    days
        Day numbers of the dated rows, ascending.
    positions
        Row positions (``iloc``) into the frame, in the same order as ``days``.
    undated
        Row positions of rows without a usable date (never in any window).
    """

    days: np.ndarray
    positions: np.ndarray
    undated: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))

    def __len__(self) -> int:
        return len(self.days)

    @property
    def first(self) -> dt.date | None:
        """The earliest date, or None when no row has a date."""
        return from_day(self.days[0]) if len(self.days) else None

    @property
    def last(self) -> dt.date | None:
        """The latest date, or None when no row has a date."""
        return from_day(self.days[-1]) if len(self.days) else None


def build_date_index(dates: pd.Series) -> DateIndex:
    """Sort the rows of a date column once; every window is then two binary searches.

    Parameters
    ----------
    dates
        The ``event_date`` column (datetime-like; unparseable values count as undated).

    Returns
    -------
    DateIndex
    """
    days, valid = _day_numbers(dates)
    dated = np.flatnonzero(valid)
    order = np.argsort(days[dated], kind="stable")
    return DateIndex(
        days=days[dated][order],
        positions=dated[order].astype(np.int64),
        undated=np.flatnonzero(~valid).astype(np.int64),
    )


def window_bounds(as_of: dt.date, days: int) -> tuple[dt.date, dt.date]:
    """First and last date (both inclusive) of the ``days``-day window ending on ``as_of``."""
    if days < 1:
        raise ValueError(f"a window lasts at least one day, got {days!r}")
    return as_of - dt.timedelta(days=days - 1), as_of


def window_positions(index: DateIndex, as_of: dt.date, days: int) -> np.ndarray:
    """Row positions of the events dated in the window, in date order.

    The window is the ``days`` days ending on ``as_of``, both ends inclusive.
    """
    start, end = window_bounds(as_of, days)
    lo = np.searchsorted(index.days, to_day(start), side="left")
    hi = np.searchsorted(index.days, to_day(end), side="right")
    return index.positions[lo:hi]


def window_mask(index: DateIndex, n_rows: int, as_of: dt.date, days: int) -> np.ndarray:
    """Boolean mask (length ``n_rows``) of the rows in the window."""
    mask = np.zeros(n_rows, dtype=bool)
    mask[window_positions(index, as_of, days)] = True
    return mask


# --- filters -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What the analyst chose to see. An empty tuple means "no restriction"."""

    event_types: tuple[str, ...] = ()
    sub_event_types: tuple[str, ...] = ()
    actors: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    admin1: tuple[str, ...] = ()
    min_fatalities: int = 0
    precisions: tuple[int, ...] = ()

    @property
    def active(self) -> bool:
        return any(
            (
                self.event_types,
                self.sub_event_types,
                self.actors,
                self.countries,
                self.admin1,
                self.min_fatalities > 0,
                self.precisions and set(self.precisions) != set(schema.GEO_PRECISIONS),
            )
        )


#: Filter names in the order the sidebar shows them, with a label for people.
FILTER_LABELS: dict[str, str] = {
    "event_types": "Event type",
    "sub_event_types": "Sub-event type",
    "actors": "Actor",
    "countries": "Country",
    "admin1": "Admin1",
    "min_fatalities": "Minimum fatalities",
    "precisions": "Location precision",
}


def _isin(column: pd.Series, values: Sequence[str]) -> np.ndarray:
    return column.isin(list(values)).to_numpy(dtype=bool, na_value=False)


def filter_masks(events: pd.DataFrame, filters: Filters) -> dict[str, np.ndarray]:
    """One boolean mask per filter: True where the row passes that filter.

    Rows with an unknown value fail a filter that restricts that value: unknown fatalities
    are never "at least 1", a missing precision counts as the least precise level (3).
    """
    n = len(events)
    keep_all = np.ones(n, dtype=bool)
    masks: dict[str, np.ndarray] = {}

    def _text(name: str, column: str, values: tuple[str, ...]) -> None:
        if values and column in events:
            masks[name] = _isin(events[column], values)
        else:
            masks[name] = keep_all

    _text("event_types", schema.EVENT_TYPE, filters.event_types)
    _text("sub_event_types", schema.SUB_EVENT_TYPE, filters.sub_event_types)
    _text("countries", schema.COUNTRY, filters.countries)
    _text("admin1", schema.ADMIN1, filters.admin1)

    if filters.actors:
        hit = np.zeros(n, dtype=bool)
        for column in (schema.ACTOR1, schema.ACTOR2):
            if column in events:
                hit |= _isin(events[column], filters.actors)
        masks["actors"] = hit
    else:
        masks["actors"] = keep_all

    if filters.min_fatalities > 0 and schema.FATALITIES in events:
        fat = pd.to_numeric(events[schema.FATALITIES], errors="coerce")
        masks["min_fatalities"] = (fat >= filters.min_fatalities).to_numpy(
            dtype=bool, na_value=False
        )
    else:
        masks["min_fatalities"] = keep_all

    chosen = set(filters.precisions)
    if chosen and chosen != set(schema.GEO_PRECISIONS) and schema.GEO_PRECISION in events:
        prec = pd.to_numeric(events[schema.GEO_PRECISION], errors="coerce")
        prec = prec.fillna(schema.IMPRECISE_GEO)
        masks["precisions"] = prec.isin(sorted(chosen)).to_numpy(dtype=bool)
    else:
        masks["precisions"] = keep_all
    return masks


def combine(masks: dict[str, np.ndarray], n_rows: int) -> np.ndarray:
    """Rows that pass every filter."""
    keep = np.ones(n_rows, dtype=bool)
    for mask in masks.values():
        keep &= mask
    return keep


@dataclass(frozen=True)
class Selection:
    """The events of one view: the window, then the filters, with what each filter hid."""

    positions: np.ndarray  # row positions shown (window and filters), in date order
    in_window: int  # events dated in the window before filters
    hidden_by: dict[str, int]  # per filter: window rows that filter rejects
    hidden_only_by: dict[str, int]  # per filter: window rows rejected by that filter alone
    hidden_total: int  # window rows rejected by at least one filter
    #: Rows shown when counted elsewhere (a database) and ``positions`` is left empty.
    count: int | None = None

    @property
    def shown(self) -> int:
        return len(self.positions) if self.count is None else self.count


def select(
    events: pd.DataFrame,
    index: DateIndex,
    *,
    as_of: dt.date,
    window_days: int,
    filters: Filters,
) -> Selection:
    """Events in the window that pass the filters, and how many each filter hides.

    Only the window's rows are tested against the filters, so the cost follows the window,
    not the dataset.
    """
    in_window = window_positions(index, as_of, window_days)
    subset = events.iloc[in_window]
    masks = filter_masks(subset, filters)
    keep = combine(masks, len(subset))
    hidden_by = {name: int((~mask).sum()) for name, mask in masks.items()}
    fail_counts = np.zeros(len(subset), dtype=np.int64)
    for mask in masks.values():
        fail_counts += ~mask
    hidden_only_by = {
        name: int(((~mask) & (fail_counts == 1)).sum()) for name, mask in masks.items()
    }
    return Selection(
        positions=in_window[keep],
        in_window=len(in_window),
        hidden_by=hidden_by,
        hidden_only_by=hidden_only_by,
        hidden_total=int((~keep).sum()),
    )


# --- stepping through time -----------------------------------------------------------------


def step_date(
    current: dt.date,
    step: str,
    direction: int,
    *,
    first: dt.date | None = None,
    last: dt.date | None = None,
) -> dt.date:
    """Move a date one step (``day``, ``week`` or ``month``) forward (+1) or back (-1).

    A month step keeps the day of the month where it exists (31 Jan + 1 month = 28/29 Feb).
    The result is clamped to ``[first, last]`` when those are given.
    """
    if step not in STEPS:
        raise ValueError(f"unknown step {step!r}; expected one of {STEPS}")
    if direction not in (-1, 1):
        raise ValueError(f"direction must be -1 or 1, got {direction!r}")
    if step == "day":
        moved = current + dt.timedelta(days=direction)
    elif step == "week":
        moved = current + dt.timedelta(days=7 * direction)
    else:
        moved = (pd.Timestamp(current) + pd.DateOffset(months=direction)).date()
    if first is not None and moved < first:
        moved = first
    if last is not None and moved > last:
        moved = last
    return moved


def clamp_date(value: dt.date, first: dt.date, last: dt.date) -> dt.date:
    """``value`` limited to ``[first, last]``."""
    return min(max(value, first), last)


# --- summaries for the charts and tables ---------------------------------------------------


def period_counts(
    events: pd.DataFrame, *, freq: str = "W", by: str = schema.EVENT_TYPE
) -> pd.DataFrame:
    """Events per period (``W`` weeks starting Monday, or ``D`` days) and per ``by`` value.

    Returns a long frame with columns ``period`` (the period's first day), ``by`` and
    ``events``, sorted by period then label; missing ``by`` values are labelled
    ``"Unknown"``. Counted on integer codes (a million rows in tens of milliseconds), not
    by grouping a million strings.
    """
    if freq not in ("W", "D"):
        raise ValueError(f"freq must be 'W' or 'D', got {freq!r}")
    parsed = pd.to_datetime(events[schema.EVENT_DATE], errors="coerce")
    unit = parsed.dtype
    dates = parsed.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    ok = ~np.isnat(dates)
    days = dates[ok].astype(np.int64)
    if freq == "W":
        days = days - (days + 3) % 7  # 1970-01-01 was a Thursday: back to the Monday
    if by in events:
        column = events[by]
        if not isinstance(column.dtype, pd.CategoricalDtype):
            column = column.astype("category")
        names = [str(c) for c in column.cat.categories]
        codes = column.cat.codes.to_numpy()[ok].astype(np.int64)
    else:
        names, codes = [], np.full(len(days), -1, dtype=np.int64)
    codes = np.where(codes < 0, len(names), codes)  # missing: the extra "Unknown" label
    width = len(names) + 1
    keys, counts = np.unique(days * width + codes, return_counts=True)
    labels = np.array([*names, schema.UNKNOWN], dtype=object)[keys % width]
    period = (keys // width).astype("datetime64[D]").astype("datetime64[ns]")
    frame = pd.DataFrame({"period": period, by: labels, "events": counts.astype(np.int64)})
    frame["period"] = frame["period"].astype(unit)
    # A real "Unknown" category and missing values share a label: add them up.
    return frame.groupby(["period", by], sort=True)["events"].sum().reset_index()


def weekly_counts(daily: pd.DataFrame, *, by: str = schema.EVENT_TYPE) -> pd.DataFrame:
    """Daily counts (the frame of :func:`period_counts` with ``freq="D"``) summed into weeks
    starting Monday: what ``period_counts(..., freq="W")`` gives for the same events."""
    if daily.empty:
        return daily.copy()
    unit = daily["period"].dtype
    days = daily["period"].to_numpy(dtype="datetime64[D]").astype(np.int64)
    monday = (days - (days + 3) % 7).astype("datetime64[D]").astype("datetime64[ns]")
    frame = pd.DataFrame({"period": monday, by: daily[by].to_numpy(), "events": daily["events"]})
    out = frame.groupby(["period", by], sort=True)["events"].sum().reset_index()
    out["period"] = out["period"].astype(unit)
    out["events"] = out["events"].astype(np.int64)
    return out


def controller_summary(events: pd.DataFrame) -> pd.DataFrame:
    """Events and known fatalities per controller, most events first.

    ``fatalities`` sums the known values (NA when none is known: never a false zero);
    ``unknown_fatalities`` counts the events whose toll is unknown.
    """
    if events.empty:
        return pd.DataFrame(
            {"controller": [], "events": [], "fatalities": [], "unknown_fatalities": []}
        ).astype({"events": "int64", "fatalities": "Int64", "unknown_fatalities": "int64"})
    controller = (
        events[schema.CONTROLLER].astype("object")
        if schema.CONTROLLER in events
        else pd.Series(None, index=events.index, dtype="object")
    )
    controller = controller.where(controller.notna(), "No control area")
    fat = (
        pd.to_numeric(events[schema.FATALITIES], errors="coerce")
        if schema.FATALITIES in events
        else pd.Series(np.nan, index=events.index)
    )
    frame = pd.DataFrame(
        {"controller": controller.astype(str).to_numpy(), "fat": fat.to_numpy(dtype=float)}
    )
    grouped = frame.groupby("controller", sort=False)
    out = pd.DataFrame(
        {
            "events": grouped.size(),
            "fatalities": grouped["fat"].sum(min_count=1).round().astype("Int64"),
            "unknown_fatalities": grouped["fat"].apply(lambda s: int(s.isna().sum())),
        }
    ).reset_index()
    return out.sort_values(["events", "controller"], ascending=[False, True], ignore_index=True)


def data_bounds(
    events_index: DateIndex, areas: pd.DataFrame | None = None
) -> tuple[dt.date, dt.date]:
    """The date range the slider covers: the events' dates.

    Without dated events, the control areas' validity dates; without either, today.
    """
    if events_index.first is not None and events_index.last is not None:
        return events_index.first, events_index.last
    if areas is not None and not areas.empty:
        values = pd.concat(
            [
                pd.to_datetime(areas[c], errors="coerce")
                for c in (schema.VALID_FROM, schema.VALID_TO)
            ]
        ).dropna()
        if len(values):
            return values.min().date(), values.max().date()
    today = dt.date.today()
    return today, today
