"""The fast paths give what the simple ones give, on small data.

* ``timewindow.select`` (binary search on the sorted date index, masks over the window's
  rows only) against a plain pandas filter over the whole frame, for many random as-of
  dates, windows and filter combinations;
* the canvas layer (``dashboard.layers.encode_events`` / ``events_layer``) holds exactly the
  selected rows that have usable coordinates: its ``kept`` positions, point count and
  set-aside count. (The payload's encoding is compared through those, not decoded here:
  it has no public decoder; ``tests/browser/test_scale.py`` decodes one event in the
  browser and checks its id, date and type.)

(The chunked spatial join against the one-shot join is ``tests/test_spatial.py::
test_chunked_join_equals_one_shot_join_on_random_data`` and its irregular-polygon twin.)
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

from dashboard import schema
from dashboard.layers import encode_events, events_layer
from dashboard.synth import town_events
from dashboard.timewindow import Filters, build_date_index, select, window_bounds

N_CASES = 150
TEXT_FILTERS = {
    "event_types": (schema.EVENT_TYPE,),
    "sub_event_types": (schema.SUB_EVENT_TYPE,),
    "actors": (schema.ACTOR1, schema.ACTOR2),
    "countries": (schema.COUNTRY,),
    "admin1": (schema.ADMIN1,),
}


# --- data ----------------------------------------------------------------------------------


def _synthetic() -> pd.DataFrame:
    """3,000 synthetic events, with the awkward rows the app meets added by hand.

    Location-only rows (no coordinates) come from the generator; here some rows also lose
    their date, their precision or their fatalities, a few get coordinates out of range,
    and the index is not 0..n-1 (positions and labels must not be confused).
    """
    frame = town_events(3_000, seed=11)
    rng = np.random.default_rng(11)
    n = len(frame)
    frame.loc[rng.random(n) < 0.02, schema.EVENT_DATE] = pd.NaT
    frame[schema.GEO_PRECISION] = frame[schema.GEO_PRECISION].mask(rng.random(n) < 0.03)
    frame.loc[rng.random(n) < 0.03, schema.FATALITIES] = np.nan
    placed = frame[schema.LATITUDE].notna().to_numpy()
    bad = np.flatnonzero(placed)[:: n // 7][:6]
    frame.loc[frame.index[bad[:3]], schema.LATITUDE] = 95.0
    frame.loc[frame.index[bad[3:]], schema.LONGITUDE] = -200.0
    frame.index = pd.Index(np.arange(n)[::-1] * 3 + 7)
    return frame


def _as_categories(frame: pd.DataFrame) -> pd.DataFrame:
    """The same rows with every text column categorical (a compact in-memory form)."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or isinstance(out[column].dtype, pd.StringDtype):
            out[column] = out[column].astype("category")
    return out


@pytest.fixture(scope="module")
def bundled() -> pd.DataFrame:
    from dashboard.pipeline import build

    result = build()  # the bundled events, built as the app builds them
    assert len(result.events) > 0, result.event_report.to_text(limit=5)
    return result.events


@pytest.fixture(
    scope="module", params=["synthetic", "synthetic-categorical", "bundled", "bundled-compact"]
)
def events(request: pytest.FixtureRequest) -> pd.DataFrame:
    """The frames ``select`` meets: as built, and in the compact form the app keeps
    (``dashboard.columnar``: date-sorted, text as categoricals, no geometry)."""
    if request.param.startswith("bundled"):
        from dashboard.columnar import compact_events

        built = request.getfixturevalue("bundled")
        return compact_events(built) if request.param.endswith("compact") else built
    frame = _synthetic()
    return _as_categories(frame) if request.param.endswith("categorical") else frame


# --- the simple reading --------------------------------------------------------------------


def _plain_masks(events: pd.DataFrame, filters: Filters) -> dict[str, np.ndarray]:
    """Each filter as a straightforward boolean test over the whole frame."""
    n = len(events)
    masks: dict[str, np.ndarray] = {}
    for name, columns in TEXT_FILTERS.items():
        chosen = set(getattr(filters, name))
        if not chosen:
            masks[name] = np.ones(n, dtype=bool)
            continue
        hit = np.zeros(n, dtype=bool)
        for column in columns:
            values = events[column].astype(object)
            hit |= np.array([v in chosen for v in values.where(values.notna(), None)])
        masks[name] = hit
    fat = pd.to_numeric(events[schema.FATALITIES], errors="coerce").to_numpy(
        dtype=float, na_value=np.nan
    )
    # NaN >= x is False: unknown fatalities never pass a minimum above 0.
    masks["min_fatalities"] = (
        fat >= filters.min_fatalities if filters.min_fatalities > 0 else np.ones(n, dtype=bool)
    )
    chosen = set(filters.precisions)
    if chosen and chosen != {1, 2, 3}:
        prec = pd.to_numeric(events[schema.GEO_PRECISION], errors="coerce")
        prec = prec.to_numpy(dtype=float, na_value=np.nan)
        prec = np.where(np.isnan(prec), 3, prec)  # unknown precision counts as the least
        masks["precisions"] = np.isin(prec, sorted(chosen))
    else:
        masks["precisions"] = np.ones(n, dtype=bool)
    return masks


def _plain_window(events: pd.DataFrame, as_of: dt.date, days: int) -> np.ndarray:
    start, end = window_bounds(as_of, days)
    dates = pd.to_datetime(events[schema.EVENT_DATE], errors="coerce")
    inside = (dates >= pd.Timestamp(start)) & (dates <= pd.Timestamp(end))  # NaT: False
    return inside.to_numpy(dtype=bool, copy=True)


def _usable_coordinates(events: pd.DataFrame) -> np.ndarray:
    lat = pd.to_numeric(events[schema.LATITUDE], errors="coerce").to_numpy(dtype=float)
    lon = pd.to_numeric(events[schema.LONGITUDE], errors="coerce").to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        return np.isfinite(lat) & np.isfinite(lon) & (abs(lat) <= 90) & (abs(lon) <= 180)


# --- random views --------------------------------------------------------------------------


def _views(events: pd.DataFrame, seed: int) -> Iterator[tuple[dt.date, int, Filters]]:
    """Random (as-of date, window, filters), most of them built around a random event.

    Filters chosen independently of the data would select nothing most of the time; so
    each view starts from an anchor event: the window usually covers its date, and a list
    filter usually keeps its value among one or two others (sometimes one not in the
    data). The rest of the views are dates anywhere around the data's range.
    """
    rng = np.random.default_rng(seed)
    dates = pd.to_datetime(events[schema.EVENT_DATE], errors="coerce")
    dated = np.flatnonzero(dates.notna().to_numpy())
    first, last = dates.min().date(), dates.max().date()
    span = (last - first).days

    def values(*columns: str) -> list[str]:
        found: set[str] = set()
        for column in columns:
            found |= {str(v) for v in events[column].dropna().unique()}
        return sorted(found)

    choices = {name: values(*columns) for name, columns in TEXT_FILTERS.items()}
    for _ in range(N_CASES):
        anchor = events.iloc[int(rng.choice(dated))]
        days = int(rng.choice([1, 7, 30, 90, 365, int(rng.integers(1, 3661))]))
        if rng.random() < 0.75:
            as_of = dates[anchor.name].date() + dt.timedelta(days=int(rng.integers(0, days)))
        else:
            as_of = first + dt.timedelta(days=int(rng.integers(-30, span + 31)))
        chosen: dict[str, tuple[str, ...]] = {}
        for name, columns in TEXT_FILTERS.items():
            if rng.random() < 0.6 or not choices[name]:
                chosen[name] = ()
                continue
            own = [str(anchor[c]) for c in columns if pd.notna(anchor[c])][:1]
            others = rng.choice(choices[name], size=int(rng.integers(0, 3)))
            extra = ["not in the data"] if rng.random() < 0.15 else []
            chosen[name] = tuple(dict.fromkeys([*own, *map(str, others), *extra]))
        filters = Filters(
            **chosen,
            min_fatalities=int(rng.choice([0, 0, 0, 1, 5, 50])),
            precisions=tuple(int(p) for p in (1, 2, 3) if rng.random() < 0.5),
        )
        yield as_of, days, filters


# --- select == plain filter ----------------------------------------------------------------


def test_select_gives_the_rows_a_plain_filter_gives(events: pd.DataFrame) -> None:
    index = build_date_index(events[schema.EVENT_DATE])
    dates = pd.to_datetime(events[schema.EVENT_DATE], errors="coerce").to_numpy()
    non_empty = 0
    for as_of, days, filters in _views(events, seed=len(events)):
        view = f"{as_of} {days} days {filters}"
        sel = select(events, index, as_of=as_of, window_days=days, filters=filters)
        window = _plain_window(events, as_of, days)
        masks = _plain_masks(events, filters)
        keep = window.copy()
        for mask in masks.values():
            keep &= mask
        expected = np.flatnonzero(keep)

        assert sorted(sel.positions.tolist()) == expected.tolist(), view
        assert len(set(sel.positions.tolist())) == len(sel.positions), view
        assert np.all(np.diff(dates[sel.positions]) >= np.timedelta64(0)), view  # date order
        # the counts the sidebar shows
        assert sel.in_window == int(window.sum()), view
        assert sel.hidden_total == int(window.sum() - keep.sum()), view
        fails = sum((~m).astype(int) for m in masks.values())
        for name, mask in masks.items():
            assert sel.hidden_by[name] == int((window & ~mask).sum()), (name, view)
            assert sel.hidden_only_by[name] == int((window & ~mask & (fails == 1)).sum()), (
                name,
                view,
            )
        non_empty += bool(len(expected))
    # the random views do reach the data: most of them select something
    assert non_empty > N_CASES // 5  # (about 60 % on the synthetic data, 30 % on the bundled)


def test_select_of_every_event_in_range_without_filters(events: pd.DataFrame) -> None:
    index = build_date_index(events[schema.EVENT_DATE])
    dates = pd.to_datetime(events[schema.EVENT_DATE], errors="coerce")
    first, last = dates.min().date(), dates.max().date()
    sel = select(events, index, as_of=last, window_days=(last - first).days + 1, filters=Filters())
    assert sorted(sel.positions.tolist()) == np.flatnonzero(dates.notna().to_numpy()).tolist()
    assert sel.hidden_total == 0


# --- the canvas layer holds exactly the selected rows --------------------------------------


def test_the_canvas_layer_holds_exactly_the_selected_rows_with_coordinates(
    events: pd.DataFrame,
) -> None:
    index = build_date_index(events[schema.EVENT_DATE])
    usable = _usable_coordinates(events)
    set_aside = 0
    for case, (as_of, days, filters) in enumerate(_views(events, seed=7)):
        if case >= 40:  # rendering is slower than selecting: fewer views suffice
            break
        view = f"{as_of} {days} days {filters}"
        sel = select(events, index, as_of=as_of, window_days=days, filters=filters)
        keep = _plain_window(events, as_of, days)
        for mask in _plain_masks(events, filters).values():
            keep &= mask
        expected = np.flatnonzero(keep & usable)

        selected = events.iloc[sel.positions]
        encoded = encode_events(selected)
        drawn = sel.positions[encoded.kept]  # back to positions in the whole frame
        assert sorted(drawn.tolist()) == expected.tolist(), view
        assert encoded.payload["n"] == len(expected), view
        assert encoded.skipped == len(sel.positions) - len(expected), view
        set_aside += encoded.skipped

        # in payload order: the selection's (date) order, nothing reordered or repeated
        assert np.all(np.diff(encoded.kept) > 0), view

        if case % 8 == 0:
            layer = events_layer(selected)
            assert (layer.n_points, layer.skipped) == (len(expected), encoded.skipped), view
    if len(events) > 1000:  # the synthetic frame: rows without usable coordinates were met
        assert set_aside > 0
