"""The territorial-change check: do events that record a change of control agree with the
control layer?

An event whose sub-event type records a change of control (ACLED's "Government regains
territory", "Non-state actor overtakes territory", "Non-violent transfer of territory")
says that its **actor 1** took the place on its date *D*. ACLED codes the side that gains
the ground as actor 1 for all three; actor 2, when present, is the side that lost it. The
check looks up the controller the layer gives the event's place on *D* + tolerance (a week
by default: the layer may date a capture a few days after the first report) and compares.

Actor names are mapped onto the layer's controller names by a small table,
:data:`DEFAULT_ACTOR_CONTROLLERS` (matching ignores case, spacing and a trailing ACLED year
range such as "(2014-)"). An actor the table does not name is *not* guessed: the event's
verdict is ``actor not mapped`` and the actor is listed in
:attr:`CheckResult.unmapped_actors`. Callers override or extend the table
(:func:`load_actor_map`, ``conflictmap check --actor-map FILE --actor NAME=CONTROLLER``);
an empty controller removes an actor from it.

Verdicts (:data:`VERDICTS`), one per event checked:

* ``agrees``: the layer gives the claimed controller on D + tolerance;
* ``disagrees``: the layer gives someone else;
* ``contested in the layer``: the layer shows the place contested (listed, not counted as a
  disagreement);
* ``actor not mapped``: actor 1 is not in the mapping table;
* ``outside every area``: no area covers the place on D + tolerance;
* ``outside the layer's dates``: D + tolerance falls outside the layer's period;
* ``no position``: the event has no coordinates.

D is the event's last day: ``date_end`` when it is later than ``event_date`` (an event
dated only to the week or month), else ``event_date``. The controller the day before the
event's first day is given too (``layer_before``): when it is already the claimed
controller, the layer dates the change earlier than the event (a note says so).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from dashboard import schema
from dashboard.errors import ActorMapError, InputFileError
from dashboard.spatial import join_events_to_areas

__all__ = [
    "DEFAULT_ACTOR_CONTROLLERS",
    "DEFAULT_TOLERANCE_DAYS",
    "TERRITORY_SUB_EVENT_TYPES",
    "VERDICTS",
    "ActorMapError",
    "CheckResult",
    "CheckSettings",
    "check_territorial_changes",
    "load_actor_map",
    "normalise_actor",
    "parse_actor_items",
]

#: ACLED sub-event types that record a change of control.
TERRITORY_SUB_EVENT_TYPES: tuple[str, ...] = (
    "Government regains territory",
    "Non-state actor overtakes territory",
    "Non-violent transfer of territory",
)
DEFAULT_TOLERANCE_DAYS = 7

#: Actor 1 (as written in the bundled events and in ACLED/UCDP exports) -> the bundled
#: layer's controller. Matching is by :func:`normalise_actor`. Left out on purpose: foreign
#: air forces and the US-led coalition (they hold no ground in the layer), "Free Syrian
#: Army" (both the opposition and the Turkey-backed forces used the name).
DEFAULT_ACTOR_CONTROLLERS: Mapping[str, str] = MappingProxyType(
    {
        # Islamic State
        "Islamic State": schema.ISLAMIC_STATE,
        "Islamic State (Iraq)": schema.ISLAMIC_STATE,
        "Islamic State (Syria)": schema.ISLAMIC_STATE,
        "IS": schema.ISLAMIC_STATE,
        "ISIS": schema.ISLAMIC_STATE,
        "ISIL": schema.ISLAMIC_STATE,
        "Khalid ibn al-Walid Army": schema.ISLAMIC_STATE,  # drawn as IS (geodata/README.md)
        # Syrian government
        "Syrian government forces": schema.SYRIAN_GOVERNMENT,
        "Government of Syria": schema.SYRIAN_GOVERNMENT,
        "Military Forces of Syria": schema.SYRIAN_GOVERNMENT,
        "Police Forces of Syria": schema.SYRIAN_GOVERNMENT,
        "Syrian Arab Army": schema.SYRIAN_GOVERNMENT,
        "NDF: National Defense Forces": schema.SYRIAN_GOVERNMENT,
        # SDF (the layer's SDF also stands for the YPG before October 2015)
        "SDF": schema.SDF,
        "Syrian Democratic Forces": schema.SDF,
        "SDF: Syrian Democratic Forces": schema.SDF,
        "YPG": schema.SDF,
        "YPG: People's Protection Units": schema.SDF,
        "People's Protection Units": schema.SDF,
        # Syrian opposition (the layer lumps rebels and jihadists other than IS together)
        "Syrian opposition": schema.SYRIAN_OPPOSITION,
        "Hayat Tahrir al-Sham": schema.SYRIAN_OPPOSITION,
        "HTS: Hayat Tahrir al Sham": schema.SYRIAN_OPPOSITION,
        "Jabhat al-Nusra": schema.SYRIAN_OPPOSITION,
        # Iraqi government (the Popular Mobilization Forces included, as drawn)
        "Iraqi Security Forces": schema.IRAQI_GOVERNMENT,
        "Government of Iraq": schema.IRAQI_GOVERNMENT,
        "Military Forces of Iraq": schema.IRAQI_GOVERNMENT,
        "Police Forces of Iraq": schema.IRAQI_GOVERNMENT,
        "Popular Mobilization Forces": schema.IRAQI_GOVERNMENT,
        "PMF: Popular Mobilization Forces": schema.IRAQI_GOVERNMENT,
        # Kurdistan Regional Government
        "Peshmerga": schema.KRG,
        "Kurdistan Regional Government": schema.KRG,
        "KRG": schema.KRG,
        # Turkey and the forces it backs
        "Turkish Armed Forces": schema.TURKEY_BACKED,
        "Military Forces of Turkey": schema.TURKEY_BACKED,
        "Syrian National Army": schema.TURKEY_BACKED,
        "Turkey-backed opposition": schema.TURKEY_BACKED,
    }
)

AGREES = "agrees"
DISAGREES = "disagrees"
CONTESTED_IN_LAYER = "contested in the layer"
UNMAPPED = "actor not mapped"
OUTSIDE_AREAS = "outside every area"
OUTSIDE_DATES = "outside the layer's dates"
NO_POSITION = "no position"
VERDICTS: tuple[str, ...] = (
    DISAGREES,
    CONTESTED_IN_LAYER,
    UNMAPPED,
    OUTSIDE_AREAS,
    OUTSIDE_DATES,
    NO_POSITION,
    AGREES,
)

# Output columns (next to the schema's event columns).
CLAIMED = "claimed_controller"
CHECK_DATE = "check_date"
LAYER_CONTROLLER = "layer_controller"
LAYER_BEFORE = "layer_before"
VERDICT = "verdict"
NOTE = "note"
ROW_COLUMNS: tuple[str, ...] = (
    schema.EVENT_ID,
    schema.EVENT_DATE,
    schema.LOCATION,
    schema.COUNTRY,
    schema.SUB_EVENT_TYPE,
    schema.ACTOR1,
    CLAIMED,
    CHECK_DATE,
    LAYER_CONTROLLER,
    LAYER_BEFORE,
    VERDICT,
    NOTE,
    schema.LATITUDE,
    schema.LONGITUDE,
)

_YEARS = re.compile(r"\s*\(\s*\d{4}\s*-\s*(\d{4})?\s*\)\s*$")


def normalise_actor(name: object) -> str:
    """The matching key of an actor name: NFKC, case and spacing folded, curly quotes
    straightened, a trailing ACLED year range ("(2014-)", "(2000-2024)") dropped.

    >>> normalise_actor("Military Forces of Iraq (2014-)")
    'military forces of iraq'
    """
    text = unicodedata.normalize("NFKC", str(name)).replace("\u2019", "'")
    text = _YEARS.sub("", text)
    return " ".join(text.casefold().split())


@dataclass(frozen=True)
class CheckSettings:
    """What the check compares: tolerance, actor table, which sub-event types count."""

    tolerance_days: int = DEFAULT_TOLERANCE_DAYS
    actor_controllers: Mapping[str, str] = field(
        default_factory=lambda: dict(DEFAULT_ACTOR_CONTROLLERS)
    )
    sub_event_types: tuple[str, ...] = TERRITORY_SUB_EVENT_TYPES

    def with_overrides(self, overrides: Mapping[str, str]) -> CheckSettings:
        """A copy whose actor table has ``overrides`` applied (an empty controller removes
        the actor)."""
        table = {normalise_actor(k): v for k, v in self.actor_controllers.items()}
        for actor, controller in overrides.items():
            key = normalise_actor(actor)
            if controller.strip():
                table[key] = controller.strip()
            else:
                table.pop(key, None)
        return CheckSettings(self.tolerance_days, table, self.sub_event_types)


def parse_actor_items(items: Iterable[str]) -> dict[str, str]:
    """``["NAME=CONTROLLER", ...]`` (the CLI's ``--actor``) as a dict.

    The last ``=`` splits (controller names never contain one); an empty CONTROLLER
    removes the actor from the table."""
    out: dict[str, str] = {}
    for item in items:
        actor, sep, controller = item.rpartition("=")
        if not sep or not actor.strip():
            raise ActorMapError(f"expected NAME=CONTROLLER, got {item!r}")
        out[actor.strip()] = controller.strip()
    return out


def load_actor_map(path: str | Path) -> dict[str, str]:
    """Read an actor mapping: a CSV with columns ``actor,controller`` (UTF-8, header row).

    An empty ``controller`` removes the actor from the default table.

    Raises
    ------
    InputFileError
        Missing, unreadable or without the two columns; the message names the file.
    """
    from dashboard.paths import check_input_file

    p = Path(path)
    check_input_file(p)
    try:
        frame = pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputFileError(f"{p}: not a readable CSV ({exc})") from exc
    columns = {c.strip().lower(): c for c in frame.columns}
    missing = [c for c in ("actor", "controller") if c not in columns]
    if missing:
        raise InputFileError(
            f"{p}: missing column {', '.join(missing)} (found: {', '.join(frame.columns)})"
        )
    out: dict[str, str] = {}
    for i, (actor, controller) in enumerate(
        zip(frame[columns["actor"]], frame[columns["controller"]], strict=True), start=1
    ):
        if not actor.strip():
            raise InputFileError(f"{p}: row {i}: empty actor")
        out[actor.strip()] = controller.strip()
    return out


@dataclass
class CheckResult:
    """The check's outcome.

    Attributes
    ----------
    rows
        One row per event checked (:data:`ROW_COLUMNS`), disagreements first, then by date.
    unmapped_actors
        ``actor`` and ``events``: the actor-1 names the table does not map, most frequent
        first.
    counts
        Events per verdict (every verdict listed, zeros included).
    notes
        Plain-text remarks (a claimed controller the layer never uses, say).
    settings
        What was compared.
    """

    rows: pd.DataFrame
    unmapped_actors: pd.DataFrame
    counts: dict[str, int]
    notes: list[str]
    settings: CheckSettings

    @property
    def disagreements(self) -> pd.DataFrame:
        return self.rows[self.rows[VERDICT] == DISAGREES]

    def to_dict(self) -> dict[str, Any]:
        from dashboard.report import plain_value

        rows = self.rows.copy()
        for column in (schema.EVENT_DATE, CHECK_DATE):
            rows[column] = pd.to_datetime(rows[column]).dt.strftime("%Y-%m-%d")
        return {
            "tolerance_days": self.settings.tolerance_days,
            "sub_event_types": list(self.settings.sub_event_types),
            "counts": dict(self.counts),
            "unmapped_actors": [
                {"actor": str(a), "events": int(n)}
                for a, n in zip(
                    self.unmapped_actors["actor"], self.unmapped_actors["events"], strict=True
                )
            ],
            "notes": list(self.notes),
            "rows": [
                {str(k): plain_value(v) for k, v in r.items()}
                for r in rows.astype(object).to_dict(orient="records")
            ],
        }


def _check_targets(table: Mapping[str, str], known: Collection[str]) -> None:
    bad = sorted({c for c in table.values() if c not in known})
    if bad:
        raise ActorMapError(
            f"actor mapping names controller(s) {', '.join(repr(b) for b in bad)} that the "
            f"control layer does not know (known: {', '.join(sorted(known))})"
        )


def _controller_at(frame: pd.DataFrame, areas: gpd.GeoDataFrame, day: pd.Series) -> pd.Series:
    probe = pd.DataFrame(
        {
            schema.LATITUDE: frame[schema.LATITUDE].to_numpy(dtype=float),
            schema.LONGITUDE: frame[schema.LONGITUDE].to_numpy(dtype=float),
            schema.EVENT_DATE: day.to_numpy(),
        },
        index=frame.index,
    )
    return join_events_to_areas(probe, areas)[schema.CONTROLLER].astype("string")


def check_territorial_changes(
    events: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    *,
    settings: CheckSettings | None = None,
) -> CheckResult:
    """Check events that record a change of control against the control layer.

    Parameters
    ----------
    events
        Events with the canonical columns (EVENT_ID, EVENT_DATE, SUB_EVENT_TYPE, ACTOR1,
        LATITUDE, LONGITUDE; DATE_START, DATE_END, LOCATION, COUNTRY when present), e.g.
        ``dashboard.pipeline.build(...).events``. Not modified.
    areas
        Control-area versions (:func:`dashboard.areas.read_control_areas`), EPSG:4326.
    settings
        Tolerance, actor table and sub-event types; the defaults of :class:`CheckSettings`.

    Returns
    -------
    CheckResult

    Raises
    ------
    ActorMapError
        The actor table names a controller that is neither one of the bundled controllers
        nor in the layer.
    """
    settings = settings or CheckSettings()
    if settings.tolerance_days < 0:
        raise ValueError(f"tolerance_days must be 0 or more, got {settings.tolerance_days!r}")
    layer_names = set(areas[schema.CONTROLLER].dropna().astype(str)) if len(areas) else set()
    table = {normalise_actor(k): v for k, v in settings.actor_controllers.items()}
    _check_targets(table, set(schema.CONTROLLERS) | layer_names)

    subtypes = {s.casefold() for s in settings.sub_event_types}
    sub = events.get(schema.SUB_EVENT_TYPE)
    if sub is None:
        chosen = events.iloc[0:0]
    else:
        chosen = events[
            sub.astype("string").str.strip().str.casefold().isin(subtypes).fillna(False)
        ]
    frame = pd.DataFrame(
        {c: chosen[c] for c in chosen.columns if c != "geometry"}, index=chosen.index
    )
    for column in (schema.EVENT_ID, schema.LOCATION, schema.COUNTRY, schema.ACTOR1):
        if column not in frame:
            frame[column] = pd.NA
    for column in (schema.LATITUDE, schema.LONGITUDE):
        if column in frame:
            frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
        else:
            frame[column] = np.nan
    first = pd.to_datetime(frame[schema.EVENT_DATE], errors="coerce").dt.normalize()
    last = first
    if schema.DATE_START in frame:
        start = pd.to_datetime(frame[schema.DATE_START], errors="coerce").dt.normalize()
        first = first.where(first.notna() & ~(start < first), start)
    if schema.DATE_END in frame:
        end = pd.to_datetime(frame[schema.DATE_END], errors="coerce").dt.normalize()
        last = last.where(last.notna() & ~(end > last), end)
    tolerance = pd.Timedelta(days=settings.tolerance_days)
    check_day = (last + tolerance).astype("datetime64[s]")
    before_day = (first - pd.Timedelta(days=1)).astype("datetime64[s]")

    actor = frame[schema.ACTOR1].astype("string")
    claimed = pd.Series(
        [table.get(normalise_actor(a)) if pd.notna(a) else None for a in actor],
        index=frame.index,
        dtype="string",
    )
    after = _controller_at(frame, areas, check_day)
    before = _controller_at(frame, areas, before_day)

    cover_first, cover_last = _coverage(areas)
    inside_dates = check_day.notna()
    if cover_first is not None:
        inside_dates &= check_day >= pd.Timestamp(cover_first)
    if cover_last is not None:
        inside_dates &= check_day <= pd.Timestamp(cover_last)
    placed = frame[schema.LATITUDE].notna() & frame[schema.LONGITUDE].notna()

    verdict = np.select(
        [
            ~placed.to_numpy(),
            claimed.isna().to_numpy(),
            ~inside_dates.to_numpy(),
            (after == schema.UNKNOWN).fillna(True).to_numpy(),
            (after == schema.CONTESTED).fillna(False).to_numpy(),
            (after == claimed).fillna(False).to_numpy(),
        ],
        [NO_POSITION, UNMAPPED, OUTSIDE_DATES, OUTSIDE_AREAS, CONTESTED_IN_LAYER, AGREES],
        default=DISAGREES,
    )
    notes_col = [
        (f"the layer already shows {c} there the day before" if v == AGREES and b == c else "")
        for v, b, c in zip(verdict, before.fillna(""), claimed.fillna(""), strict=True)
    ]
    rows = pd.DataFrame(
        {
            schema.EVENT_ID: frame[schema.EVENT_ID].astype("string"),
            schema.EVENT_DATE: last,
            schema.LOCATION: frame[schema.LOCATION].astype("string"),
            schema.COUNTRY: frame[schema.COUNTRY].astype("string"),
            schema.SUB_EVENT_TYPE: frame[schema.SUB_EVENT_TYPE].astype("string"),
            schema.ACTOR1: actor,
            CLAIMED: claimed,
            CHECK_DATE: check_day,
            LAYER_CONTROLLER: after.where(placed & inside_dates),
            LAYER_BEFORE: before.where(placed),
            VERDICT: verdict,
            NOTE: notes_col,
            schema.LATITUDE: frame[schema.LATITUDE],
            schema.LONGITUDE: frame[schema.LONGITUDE],
        },
        index=frame.index,
    )
    rank = {v: i for i, v in enumerate(VERDICTS)}
    rows = rows.assign(_rank=rows[VERDICT].map(rank)).sort_values(
        ["_rank", schema.EVENT_DATE], kind="stable"
    )
    rows = rows.drop(columns="_rank").reset_index(drop=True)

    unmapped = actor[claimed.isna() & actor.notna()]
    unmapped_actors = (
        unmapped.value_counts().rename_axis("actor").reset_index(name="events")
        if len(unmapped)
        else pd.DataFrame({"actor": pd.Series(dtype="string"), "events": pd.Series(dtype=int)})
    )
    missing_actor = int((claimed.isna() & actor.isna()).sum())
    notes = []
    if missing_actor:
        notes.append(f"{missing_actor} event(s) have no actor 1")
    never = sorted({c for c in claimed.dropna().unique() if c not in layer_names})
    for name in never:
        notes.append(
            f"the layer never names {name!r}: events claimed for it can only disagree "
            "(map the actor onto one of the layer's controllers, or rename the layer's "
            "controllers to the bundled names)"
        )
    stale = _read_after_last_change(areas, check_day[placed & inside_dates])
    if stale:
        notes.append(stale)
    counts = {v: int((rows[VERDICT] == v).sum()) for v in VERDICTS}
    return CheckResult(
        rows=rows,
        unmapped_actors=unmapped_actors,
        counts=counts,
        notes=notes,
        settings=settings,
    )


def _read_after_last_change(areas: gpd.GeoDataFrame, days: pd.Series) -> str | None:
    """A note when the layer ends open (a last snapshot without end date) and some events
    are read after its last change: the layer may simply not know what happened since."""
    if not len(areas) or not len(days) or not areas[schema.VALID_TO].isna().any():
        return None
    last_change = pd.to_datetime(areas[schema.VALID_FROM]).max()
    if pd.isna(last_change):
        return None
    later = int((days > last_change).sum())
    if not later:
        return None
    return (
        f"{later} event(s) are read after the layer's last change "
        f"({last_change.date().isoformat()}, valid with no end date): the layer may not "
        "know what happened since (restrict the events to the layer's dates)"
    )


def _coverage(areas: gpd.GeoDataFrame) -> tuple[dt.date | None, dt.date | None]:
    if not len(areas):
        return None, None
    from dashboard.compare import layer_coverage

    return layer_coverage(areas)
