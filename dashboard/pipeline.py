"""read -> validate -> geocode -> join: the one function both the CLI and the app call."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from dashboard import paths, schema
from dashboard.areas import AreasResult, read_control_areas
from dashboard.geocoding import DEFAULT_THRESHOLD, GeocodeResult, geocode_events
from dashboard.readers import read_events
from dashboard.report import Problem, Report
from dashboard.spatial import join_events_to_areas
from dashboard.tableexport import export_frame
from dashboard.validation import ValidationResult, validate_events

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class AreaOptions:
    """How control-area files are read (field names and snapshot handling)."""

    controller_field: str = schema.CONTROLLER
    from_field: str = schema.VALID_FROM
    to_field: str = schema.VALID_TO
    date_field: str | None = None
    as_of: str | None = None
    controller_names: Mapping[str, str] | None = None
    repair: bool = False


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


@dataclass
class BuildResult:
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

    def summary(self) -> dict[str, object]:
        """Counts a person reads first: rows, geocoding, controllers, rejects, and notes."""
        controllers = self.events[schema.CONTROLLER].value_counts().to_dict()
        return {
            "rows_in": self.event_report.rows_in,
            "rows_loaded": self.event_report.rows_loaded,
            "rows_rejected": self.event_report.rows_rejected,
            "input_format": self.input_format,
            "geocoded": dict(self.geocode_counts),
            "controllers": {str(k): int(v) for k, v in controllers.items()},
            "areas_loaded": self.area_report.rows_loaded,
            "areas_rejected": self.area_report.rows_rejected,
            "errors": len(self.event_report.errors),
            "warnings": len(self.event_report.warnings),
            "notes": [p.message for p in self.notes],
        }


def load_areas(
    area_paths: Sequence[str | Path] | None = None, *, options: AreaOptions | None = None
) -> AreasResult:
    """Read control-area files (the bundled ones when none are given)."""
    options = options or AreaOptions()
    sources = list(area_paths) if area_paths else [paths.BUNDLED_AREAS]
    return read_control_areas(
        sources,
        controller_field=options.controller_field,
        from_field=options.from_field,
        to_field=options.to_field,
        date_field=options.date_field,
        as_of=options.as_of,
        controller_names=options.controller_names,
        repair=options.repair,
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
    checked, geocoded = read_and_geocode(events_path, settings=settings, progress=progress)
    if areas is None:
        _report(progress, "areas", 0)
        areas = load_areas(area_paths, options=settings.areas)
        _report(progress, "areas", 1)
    total = len(geocoded.events)
    joined = join_events_to_areas(
        geocoded.events,
        areas.areas,
        progress=None if progress is None else lambda done: progress("join", done, total),
    )
    return BuildResult(
        events=joined,
        areas=areas.areas,
        rejected=checked.rejected,
        event_report=checked.report,
        area_report=areas.report,
        geocode_counts=dict(geocoded.counts),
        unmatched=geocoded.unmatched,
        input_format=checked.format,
        notes=list(geocoded.notes),
    )


def read_and_geocode(
    events_path: str | Path,
    *,
    settings: BuildSettings | None = None,
    progress: Progress | None = None,
) -> tuple[ValidationResult, GeocodeResult]:
    """Read, validate and geocode one events file (the first three steps of :func:`build`).

    The gazetteer is loaded only when some row needs coordinates, for
    ``settings.countries`` or else the countries the rows name.

    Returns
    -------
    (ValidationResult, GeocodeResult)
        The validated file (``rejected`` and ``report`` account for every row) and its
        loaded rows geocoded.
    """
    settings = settings or BuildSettings()
    _report(progress, "read", 0)
    read = read_events(
        events_path, format=settings.format, mapping=settings.mapping, encoding=settings.encoding
    )
    checked = validate_events(read, dayfirst=settings.dayfirst, date_format=settings.date_format)
    _report(progress, "read", 1)
    total = len(checked.events)
    geocoded = geocode_events(
        checked.events,
        countries=settings.countries,
        threshold=settings.fuzzy_threshold,
        progress=None if progress is None else lambda done: progress("geocode", done, total),
    )
    return checked, geocoded


def _report(progress: Progress | None, stage: str, done: int) -> None:
    """A coarse stage (no row counts inside it): 0 of 1 at its start, 1 of 1 at its end."""
    if progress is not None:
        progress(stage, done, 1)


def write_outputs(result: BuildResult, out_path: str | Path) -> tuple[Path, Path]:
    """Write the joined events as GeoParquet and the set-aside rows beside it.

    Returns the two paths: ``OUT.parquet`` and ``OUT.rejected.csv``.
    """
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    result.events.to_parquet(out, index=False)
    return out, write_rejected(result.rejected, out)


def write_rejected(rejected: pd.DataFrame, out_path: str | Path) -> Path:
    """Write the rows set aside (with ``reject_reason``) beside an output: OUT.rejected.csv."""
    path = Path(out_path).with_suffix(".rejected.csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    # Set-aside rows hold whatever the file held: neutralise formulas for spreadsheets.
    export_frame(rejected).to_csv(path, index=False)
    return path
