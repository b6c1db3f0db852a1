"""read -> validate -> geocode -> join: the one function both the CLI and the app call."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from dashboard import paths, schema
from dashboard.arealedger import AreaLedger, ledger_table
from dashboard.areas import AreasResult, last_change, read_control_areas
from dashboard.areasources import describe_sources, read_area_sources
from dashboard.errors import SchemaError
from dashboard.gazetteer import DEFAULT_THRESHOLD
from dashboard.geocoding import GeocodeResult, geocode_events
from dashboard.readers import read_events
from dashboard.report import WARNING, Problem, Report, json_records
from dashboard.spatial import join_events_to_areas
from dashboard.tableexport import write_csv
from dashboard.validation import ValidationResult, validate_events

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class AreaOptions:
    """How control-area files are read (field names, snapshot dates, repairs).

    The command line's area options, one field each (see ``dashboard.cli.options``).
    """

    controller_field: str = schema.CONTROLLER
    from_field: str = schema.VALID_FROM
    to_field: str = schema.VALID_TO
    date_field: str | None = None
    as_of: str | None = None
    """``--as-of DATE``: the snapshot date of every file without a date field."""
    as_of_by_file: Mapping[str, str] | None = None
    """``--as-of FILE=DATE``: the snapshot date of one file."""
    controller: str | None = None
    """``--controller NAME``: the controller of files without a controller field."""
    controller_names: Mapping[str, str] | None = None
    repair: bool = True
    """Repair self-intersecting polygons (the default); ``--no-repair`` sets them aside."""
    assume_crs: str | None = None
    """``--assume-crs``: the CRS of files that declare none."""
    table: str | None = None
    """``--areas-table``: a table of control per administrative unit."""
    boundaries: str | None = None
    """``--boundaries``: the polygons of the table's units."""
    unit_field: str | None = None
    """``--unit-field``: the table's column naming the units (default: found)."""
    unit_matches: Mapping[str, str] | None = None
    """``--unit-match NAME=PCODE``: the analyst's answers for units the table names loosely."""
    points: str | None = None
    """``--areas-points``: a list of localities and their controllers."""
    outline: str | None = None
    """``--outline``: the ground the localities' cells are clipped to (default: countries)."""
    max_distance_km: float = 25.0
    """``--max-distance``: the farthest ground a locality speaks for."""

    def source_files(self) -> tuple[str, ...]:
        """The files other than ``--areas`` that the areas are read from."""
        files = (self.table, self.boundaries, self.points, self.outline)
        return tuple(f for f in files if f)


@dataclass(frozen=True)
class BuildSettings:
    """Everything that changes what a build produces, passed explicitly."""

    format: str | None = None
    mapping: Mapping[str, str] | None = None
    dayfirst: bool = True
    fuzzy_threshold: float = DEFAULT_THRESHOLD
    countries: tuple[str, ...] = ()
    """Countries (names or ISO codes) the gazetteer is restricted to; empty: those named in
    the rows to geocode (the whole world, with a note, when none is recognised)."""
    areas: AreaOptions = field(default_factory=AreaOptions)
    encoding: str | None = None
    """The events file's encoding (``--encoding``); None: detected."""
    date_format: str | None = None
    """A strftime format every date must match (``--date-format``); None: inferred."""


class BuildSummary:
    """What a build tells a person first, the same from a single-process build
    (:class:`BuildResult`) and a partitioned one (``distributed.DistributedBuildResult``): rows,
    geocoding, controllers, control-area features used and set aside, problems and notes."""

    event_report: Report
    input_format: str
    geocode_counts: dict[str, int]
    area_ledger: AreaLedger
    area_table: pd.DataFrame
    notes: list[Problem]

    def controller_counts(self) -> dict[str, int]:
        """Events per controller."""
        raise NotImplementedError

    def extra_summary(self) -> dict[str, object]:
        """Keys a kind of build adds to :meth:`summary`."""
        return {}

    def area_sources(self) -> list[str]:
        """Each control-area source in a line (``areasources.describe_sources``)."""
        raise NotImplementedError

    def summary(self) -> dict[str, object]:
        """Counts a person reads first: rows, geocoding, controllers, rejects, and notes."""
        return {
            "rows_in": self.event_report.rows_in,
            "rows_loaded": self.event_report.rows_loaded,
            "rows_rejected": self.event_report.rows_rejected,
            "input_format": self.input_format,
            "geocoded": dict(self.geocode_counts),
            "controllers": self.controller_counts(),
            "areas_in": self.area_ledger.features_in,
            "areas_loaded": self.area_ledger.used + self.area_ledger.repaired,
            "areas_repaired": self.area_ledger.repaired,
            "areas_rejected": self.area_ledger.set_aside,
            "control_areas": self.area_ledger.to_dict(),
            "area_sources": self.area_sources(),
            # file, feature, reason and km² of each (OUT.rejected-areas.csv holds the same)
            "control_area_features_not_used_as_read": json_records(self.area_table),
            "errors": len(self.event_report.errors),
            "warnings": len(self.event_report.warnings),
            "file_problems": [
                f"{p.severity}: {p.message}" for p in self.event_report.problems if p.row is None
            ],
            "notes": [p.message for p in self.notes],
        } | self.extra_summary()


@dataclass
class BuildResult(BuildSummary):
    """The joined events, the areas they were joined with, and what was set aside."""

    events: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    rejected: pd.DataFrame
    event_report: Report
    area_report: Report
    geocode_counts: dict[str, int]
    unmatched: pd.DataFrame
    input_format: str
    notes: list[Problem] = field(default_factory=list)
    area_ledger: AreaLedger = field(default_factory=AreaLedger)
    """Control-area features used, repaired and set aside, with their ground."""
    area_table: pd.DataFrame = field(default_factory=pd.DataFrame)
    """One row per control-area feature set aside or repaired (``OUT.rejected-areas.csv``)."""

    def area_sources(self) -> list[str]:
        return describe_sources(self.areas)

    def controller_counts(self) -> dict[str, int]:
        counts = self.events[schema.CONTROLLER].value_counts().to_dict()
        return {str(k): int(v) for k, v in counts.items()}


#: The environment variable ``conflictmap serve`` passes its reading options in.
READ_SETTINGS_ENV = "CONFLICTMAP_READ_SETTINGS"


def read_settings_json(settings: BuildSettings) -> str:
    """How files are read (encoding, date format, area options) as one JSON text.

    ``conflictmap serve`` hands the command line's options to the app this way, and the app
    keys its build cache on it.
    """
    areas = settings.areas
    return json.dumps(
        {
            "encoding": settings.encoding,
            "date_format": settings.date_format,
            "areas": {
                "controller_field": areas.controller_field,
                "from_field": areas.from_field,
                "to_field": areas.to_field,
                "date_field": areas.date_field,
                "as_of": areas.as_of,
                "as_of_by_file": dict(areas.as_of_by_file or {}),
                "controller": areas.controller,
                "controller_names": dict(areas.controller_names or {}),
                "repair": areas.repair,
                "assume_crs": areas.assume_crs,
                "table": areas.table,
                "boundaries": areas.boundaries,
                "unit_field": areas.unit_field,
                "unit_matches": dict(areas.unit_matches or {}),
                "points": areas.points,
                "outline": areas.outline,
                "max_distance_km": areas.max_distance_km,
            },
        },
        sort_keys=True,
        ensure_ascii=False,
    )


def read_settings_from_json(text: str | None) -> BuildSettings:
    """The :class:`BuildSettings` :func:`read_settings_json` wrote (defaults where empty).

    Raises
    ------
    SchemaError
        Not JSON of that shape.
    """
    if not text:
        return BuildSettings()
    try:
        data = json.loads(text)
        areas = dict(data.get("areas") or {})
        return BuildSettings(
            encoding=data.get("encoding"),
            date_format=data.get("date_format"),
            areas=AreaOptions(
                controller_field=areas.get("controller_field") or schema.CONTROLLER,
                from_field=areas.get("from_field") or schema.VALID_FROM,
                to_field=areas.get("to_field") or schema.VALID_TO,
                date_field=areas.get("date_field"),
                as_of=areas.get("as_of"),
                as_of_by_file=areas.get("as_of_by_file") or None,
                controller=areas.get("controller"),
                controller_names=areas.get("controller_names") or None,
                repair=bool(areas.get("repair", True)),
                assume_crs=areas.get("assume_crs"),
                table=areas.get("table"),
                boundaries=areas.get("boundaries"),
                unit_field=areas.get("unit_field"),
                unit_matches=areas.get("unit_matches") or None,
                points=areas.get("points"),
                outline=areas.get("outline"),
                max_distance_km=float(areas.get("max_distance_km", 25.0)),
            ),
        )
    except (ValueError, TypeError, AttributeError) as exc:
        raise SchemaError(f"reading options {text[:80]!r} are not valid: {exc}") from exc


def load_areas(
    area_paths: Sequence[str | Path] | None = None, *, options: AreaOptions | None = None
) -> AreasResult:
    """Read the control areas: files, a table per unit, localities; the bundled file when
    none is given."""
    options = options or AreaOptions()
    files = list(area_paths or [])
    if not files and not options.source_files():
        files = [paths.BUNDLED_AREAS]

    def read_files(sources: Sequence[str | Path]) -> AreasResult:
        return read_control_areas(
            sources,
            controller_field=options.controller_field,
            from_field=options.from_field,
            to_field=options.to_field,
            date_field=options.date_field,
            as_of=options.as_of,
            as_of_by_file=options.as_of_by_file,
            controller=options.controller,
            controller_names=options.controller_names,
            repair=options.repair,
            assume_crs=options.assume_crs,
        )

    return read_area_sources(
        files,
        read_files=read_files,
        table=options.table,
        boundaries=options.boundaries,
        points=options.points,
        outline=options.outline,
        max_distance_km=options.max_distance_km,
        unit_field=options.unit_field,
        unit_matches=options.unit_matches,
        controller_names=options.controller_names,
    )


def build(
    events_path: str | Path = paths.BUNDLED_EVENTS,
    area_paths: Sequence[str | Path] | None = None,
    *,
    settings: BuildSettings | None = None,
    areas: AreasResult | None = None,
    progress: Progress | None = None,
) -> BuildResult:
    """Run read -> validate -> geocode -> join on one events file.

    Parameters
    ----------
    events_path
        An events file in any format the readers know (canonical, ACLED, UCDP GED, or a
        CSV with ``settings.mapping``).
    area_paths
        Control-area files; the bundled ``geodata/control_areas.geojson`` when omitted.
    settings
        Reader, geocoder and area options.
    areas
        Already-read control areas (the app reuses them between uploads).
    progress
        Called as ``progress(stage, done, total)`` so a caller can draw a progress bar:
        ``"read"`` (read and validate) and ``"areas"`` (load the control areas, when not
        given) coarsely as ``0`` then ``1`` of ``1``; ``"geocode"`` and ``"join"`` by rows.

    Returns
    -------
    BuildResult
        One output row per loaded event; rows set aside are in ``rejected`` with reasons,
        and ``rows_in == rows_loaded + rows_rejected``.
    """
    settings = settings or BuildSettings()
    checked = read_checked(events_path, settings=settings, progress=progress)
    if areas is None:
        _report(progress, "areas", 0)
        areas = load_areas(area_paths, options=settings.areas)
        _report(progress, "areas", 1)
    # Rows that name no country are looked up in the areas' countries, not the world: the
    # map is of those, and the world's namesakes would be confident wrong answers.
    geocoded = geocode_checked(
        checked,
        settings=settings,
        progress=progress,
        fallback_countries=area_countries(areas.areas),
    )
    total = len(geocoded.events)
    joined = join_events_to_areas(
        geocoded.events,
        areas.areas,
        progress=None if progress is None else lambda done: progress("join", done, total),
    )
    last = last_change(areas.areas)
    notes = list(geocoded.notes) + carried_forward_notes(events_after(joined, last), last)
    return BuildResult(
        events=joined,
        areas=areas.areas,
        rejected=checked.rejected,
        event_report=checked.report,
        area_report=areas.report,
        geocode_counts=dict(geocoded.counts),
        unmatched=geocoded.unmatched,
        input_format=checked.format,
        notes=notes,
        area_ledger=areas.ledger,
        area_table=ledger_table(areas.rejected, areas.repaired),
    )


def events_after(events: pd.DataFrame, last: dt.date | None) -> tuple[int, dt.date | None]:
    """How many events are dated after ``last`` (the areas' last change), and the latest
    of them; ``(0, None)`` when ``last`` is None. Counts of partitions add up."""
    if last is None or not len(events) or schema.EVENT_DATE not in events:
        return 0, None
    dates = pd.to_datetime(events[schema.EVENT_DATE])
    later = dates > pd.Timestamp(last)
    count = int(later.sum())
    return count, (dates[later].max().date() if count else None)


def carried_forward_notes(later: tuple[int, dt.date | None], last: dt.date | None) -> list[Problem]:
    """The note for events dated after the control areas' last change (none if no such)."""
    count, latest = later
    if not count or last is None or latest is None:
        return []
    return [
        Problem(
            None,
            schema.CONTROLLER,
            count,
            f"{count:,} events are dated after the control areas' last change "
            f"({last.isoformat()}), up to {(latest - last).days:,} days later: their "
            f"controller is the map of {last.isoformat()} carried forward, not observed",
            WARNING,
        )
    ]


def read_and_geocode(
    events_path: str | Path,
    *,
    settings: BuildSettings | None = None,
    progress: Progress | None = None,
    fallback_countries: Sequence[str] = (),
) -> tuple[ValidationResult, GeocodeResult]:
    """Read, validate and geocode one events file (the first three steps of :func:`build`).

    The gazetteer is loaded only when some row needs coordinates, for
    ``settings.countries``, else the countries the rows name, else ``fallback_countries``
    (said in a note), else the whole world (said in a note).

    Returns
    -------
    (ValidationResult, GeocodeResult)
        The validated file (``rejected`` and ``report`` account for every row) and its
        loaded rows geocoded.
    """
    settings = settings or BuildSettings()
    checked = read_checked(events_path, settings=settings, progress=progress)
    geocoded = geocode_checked(
        checked, settings=settings, progress=progress, fallback_countries=fallback_countries
    )
    return checked, geocoded


def read_checked(
    events_path: str | Path, *, settings: BuildSettings, progress: Progress | None = None
) -> ValidationResult:
    """Read and validate one events file (the ``read`` stage)."""
    _report(progress, "read", 0)
    read = read_events(
        events_path, format=settings.format, mapping=settings.mapping, encoding=settings.encoding
    )
    checked = validate_events(read, dayfirst=settings.dayfirst, date_format=settings.date_format)
    _report(progress, "read", 1)
    return checked


def geocode_checked(
    checked: ValidationResult,
    *,
    settings: BuildSettings,
    progress: Progress | None = None,
    fallback_countries: Sequence[str] = (),
) -> GeocodeResult:
    """Geocode the loaded rows of a validated file (the ``geocode`` stage)."""
    total = len(checked.events)
    return geocode_events(
        checked.events,
        countries=settings.countries,
        fallback_countries=fallback_countries,
        threshold=settings.fuzzy_threshold,
        progress=None if progress is None else lambda done: progress("geocode", done, total),
    )


def area_countries(areas: pd.DataFrame) -> tuple[str, ...]:
    """The countries the control areas name (their ``country`` column), sorted; () when
    they have none."""
    if schema.COUNTRY not in areas.columns:
        return ()
    names = areas[schema.COUNTRY].dropna().astype(str).str.strip()
    return tuple(sorted({n for n in names if n}))


def _report(progress: Progress | None, stage: str, done: int) -> None:
    """A coarse stage (no row counts inside it): 0 of 1 at its start, 1 of 1 at its end."""
    if progress is not None:
        progress(stage, done, 1)


def write_outputs(result: BuildResult, out_path: str | Path) -> tuple[Path, Path]:
    """Write the joined events as GeoParquet and what was set aside beside it.

    Returns the two paths: ``OUT.parquet`` and ``OUT.rejected.csv``; the control-area
    features set aside or repaired go to ``OUT.rejected-areas.csv``
    (:func:`write_rejected_areas`). With no event loaded, no GeoParquet is written (an empty
    one would pass for a result): only the reasons.
    """
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    if len(result.events):
        result.events.to_parquet(out, index=False)
    elif out.is_file():  # an earlier build's output would pass for this one's
        out.unlink()
    write_rejected_areas(result.area_table, out)
    return out, write_rejected(result.rejected, out)


def rejected_areas_path(out_path: str | Path) -> Path:
    """Where the control-area features set aside or repaired are listed."""
    return Path(out_path).with_suffix(".rejected-areas.csv")


def write_rejected_areas(table: pd.DataFrame, out_path: str | Path) -> Path:
    """Write :func:`dashboard.arealedger.ledger_table` rows: OUT.rejected-areas.csv."""
    path = rejected_areas_path(out_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_csv(table, path)
    return path


def write_rejected(rejected: pd.DataFrame, out_path: str | Path) -> Path:
    """Write the rows set aside (with ``reject_reason``) beside an output: OUT.rejected.csv."""
    path = Path(out_path).with_suffix(".rejected.csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    # Set-aside rows hold whatever the file held: neutralise formulas for spreadsheets.
    write_csv(rejected, path)
    return path
