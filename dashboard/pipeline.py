"""read -> validate -> geocode -> join: the one function both the CLI and the app call."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd

from dashboard import paths, schema
from dashboard.areas import AreasResult, read_control_areas
from dashboard.geocoding import geocode_events, load_gazetteer
from dashboard.readers import read_events
from dashboard.report import Report
from dashboard.spatial import join_events_to_areas
from dashboard.validation import validate_events

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
    fuzzy_threshold: float | None = None
    areas: AreaOptions = field(default_factory=AreaOptions)


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

    def summary(self) -> dict[str, object]:
        """Counts a person reads first: rows, geocoding, controllers, rejects."""
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
        Called as ``progress(stage, done, total)`` so a caller can draw a progress bar.

    Returns
    -------
    BuildResult
        One output row per loaded event; rows set aside are in ``rejected`` with reasons,
        and ``rows_in == rows_loaded + rows_rejected``.
    """
    settings = settings or BuildSettings()
    read = read_events(events_path, format=settings.format, mapping=settings.mapping)
    checked = validate_events(read, dayfirst=settings.dayfirst)
    events = checked.events
    total = len(events)

    countries = _countries_of(events)
    gazetteer = load_gazetteer(countries=countries or None)
    geo_kwargs: dict[str, object] = {"gazetteer": gazetteer}
    if settings.fuzzy_threshold is not None:
        geo_kwargs["threshold"] = settings.fuzzy_threshold
    if progress is not None:
        geo_kwargs["progress"] = lambda done: progress("geocode", done, total)
    geocoded = geocode_events(events, **geo_kwargs)

    if areas is None:
        areas = load_areas(area_paths, options=settings.areas)
    join_kwargs: dict[str, object] = {}
    if progress is not None:
        join_kwargs["progress"] = lambda done: progress("join", done, total)
    joined = join_events_to_areas(geocoded.events, areas.areas, **join_kwargs)

    return BuildResult(
        events=joined,
        areas=areas.areas,
        rejected=checked.rejected,
        event_report=checked.report,
        area_report=areas.report,
        geocode_counts=dict(geocoded.counts),
        unmatched=geocoded.unmatched,
        input_format=read.format,
    )


def _countries_of(events: pd.DataFrame) -> list[str]:
    if schema.COUNTRY not in events:
        return []
    return sorted(str(c) for c in events[schema.COUNTRY].dropna().unique())


def write_outputs(result: BuildResult, out_path: str | Path) -> tuple[Path, Path]:
    """Write the joined events as GeoParquet and the set-aside rows beside it.

    Returns the two paths: ``OUT.parquet`` and ``OUT.rejected.csv``.
    """
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    result.events.to_parquet(out, index=False)
    rejected_path = out.with_suffix(".rejected.csv")
    result.rejected.to_csv(rejected_path, index=False)
    return out, rejected_path
