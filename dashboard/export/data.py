"""What an export draws from: the built events, the control areas and the context layers.

The app already holds a built dataset (``dashboard.app.loaders.Dataset``); the command line
builds one with :func:`dashboard.pipeline.build`, or asks a PostGIS store for the dates it
draws (:func:`open_db_source`). Both end up as an :class:`ExportData`
holding the events in the app's compact, date-sorted form and the same :class:`DateIndex`,
so ``timewindow.select`` picks exactly the events the app shows for the same view.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd

from dashboard import basemap, paths, schema, style
from dashboard.arealedger import AreaLedger
from dashboard.columnar import compact_events
from dashboard.errors import InputFileError
from dashboard.viewstate import Options, dataset_options

if TYPE_CHECKING:
    from dashboard.pipeline import BuildSettings
from dashboard.timewindow import (
    DateIndex,
    Filters,
    build_date_index,
)


@dataclass(frozen=True)
class Context:
    """Country outlines and towns drawn under the data (either may be None)."""

    countries: gpd.GeoDataFrame | None
    towns: pd.DataFrame | None


@dataclass(frozen=True)
class ExportData:
    """A built dataset, as the exports need it.

    Attributes
    ----------
    events
        Events sorted by date (``columnar.compact_events``), as the app keeps them.
    index
        The date index of ``events`` (``timewindow.build_date_index``).
    areas
        Control-area versions (EPSG:4326).
    options
        Date range and filter values (the allowlists of ``viewstate.parse_query``).
    context
        Country outlines and towns.
    events_name, areas_names
        File names of the inputs, for the footer.
    bundled_events, bundled_areas
        Whether the inputs are the bundled demo files (their provenance is known).
    events_extent
        Lon/lat bounds of every located event of the data, when ``events`` holds only the
        dates an export draws (a database); None: ``events`` is the whole data.
    area_ledger
        Control-area features used, repaired and set aside: the footer says what the map
        leaves out (None: not known, a database).
    """

    events: pd.DataFrame
    index: DateIndex
    areas: gpd.GeoDataFrame
    options: Options
    context: Context = field(default_factory=lambda: Context(None, None))
    events_name: str = ""
    areas_names: tuple[str, ...] = ()
    bundled_events: bool = False
    bundled_areas: bool = False
    events_extent: tuple[float, float, float, float] | None = None
    area_ledger: AreaLedger | None = None

    @cached_property
    def palette(self) -> dict[str, str]:
        """Each controller's colour, the same on every date of the data (as in the app)."""
        return style.areas_palette(self.areas)

    @property
    def type_order(self) -> tuple[str, ...]:
        """Event types in the app's colour order: the palette's first, then the data's."""
        in_data = set(self.options.event_types)
        types = [t for t in style.EVENT_TYPE_COLOURS if t in in_data]
        types += [t for t in self.options.event_types if t not in types]
        return tuple(types)

    @property
    def type_colours(self) -> dict[str, str]:
        """``{event type: colour}`` exactly as the app's map, legend and timeline use them."""
        return style.event_type_colours(self.type_order)

    @property
    def source_formats(self) -> tuple[str, ...]:
        """Input layouts of the events (``canonical``, ``acled``, ``ucdp``, ``mapped``)."""
        if schema.SOURCE_FORMAT not in self.events or not len(self.events):
            return ()
        values = self.events[schema.SOURCE_FORMAT].dropna().astype(str).unique()
        return tuple(sorted(values))


def load_context() -> Context:
    """The bundled basemap and towns (``geodata/``); None where a file is missing."""
    countries = towns = None
    if paths.BUNDLED_BASEMAP.is_file():
        countries = basemap.read_basemap(paths.BUNDLED_BASEMAP)
    if paths.BUNDLED_TOWNS.is_file():
        towns = pd.read_csv(
            paths.BUNDLED_TOWNS, keep_default_na=False, na_values=list(schema.NA_VALUES)
        )
    return Context(countries, towns)


def export_data(
    events: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    *,
    index: DateIndex | None = None,
    options: Options | None = None,
    context: Context | None = None,
    events_name: str = "",
    areas_names: Sequence[str] = (),
) -> ExportData:
    """An :class:`ExportData` from events and areas already built (the app's dataset).

    ``events`` must already be date-sorted when ``index`` is given (the app's are).
    """
    if index is None:
        events = compact_events(events)
        index = build_date_index(events[schema.EVENT_DATE])
    if options is None:
        options = dataset_options(events, index, areas)
    # By name here (the app's dataset keeps names only); load_export_data checks the paths.
    bundled_events = events_name == paths.BUNDLED_EVENTS.name
    bundled_areas = tuple(areas_names) == (paths.BUNDLED_AREAS.name,)
    return ExportData(
        events=events,
        index=index,
        areas=areas,
        options=options,
        context=context if context is not None else load_context(),
        events_name=events_name,
        areas_names=tuple(areas_names),
        bundled_events=bundled_events,
        bundled_areas=bundled_areas,
    )


def load_export_data(
    events_path: str | Path | None = None,
    area_paths: Sequence[str | Path] = (),
    *,
    settings: BuildSettings | None = None,
) -> ExportData:
    """Build an events file (the bundled demo by default) with its control areas, read
    with ``settings`` (the command line's reading and area options).

    Raises
    ------
    dashboard.errors.DashboardError
        An input cannot be read; the message names the file.
    """
    from dashboard.pipeline import build

    events_file = Path(events_path) if events_path else paths.BUNDLED_EVENTS
    extra = settings.areas.source_files() if settings else ()
    area_files = [Path(p) for p in area_paths] or ([] if extra else [paths.BUNDLED_AREAS])
    for path in (events_file, *area_files, *map(Path, extra)):
        paths.check_input_file(path)
    result = build(events_file, area_files or None, settings=settings)
    if not len(result.events):
        raise InputFileError(f"{events_file}: no event could be loaded")
    data = export_data(
        result.events,
        result.areas,
        events_name=events_file.name,
        areas_names=tuple(p.name for p in [*area_files, *map(Path, extra)]),
    )
    same_events = events_file.resolve() == paths.BUNDLED_EVENTS.resolve()
    same_areas = [p.resolve() for p in area_files] == [paths.BUNDLED_AREAS.resolve()]
    return replace(
        data,
        bundled_events=same_events,
        bundled_areas=same_areas,
        area_ledger=result.area_ledger,
    )


@dataclass(frozen=True)
class DbSource:
    """A PostGIS store as a source of views (the app's and the exports'): what it holds at
    one data version (``facts``: aggregates, no event), the :class:`Options` made from
    them, and its control areas; the events are asked per view or export (:meth:`data`:
    only the dates drawn)."""

    store: Any
    facts: Any
    """``store.StoreFacts`` of the version read."""
    options: Options
    areas: gpd.GeoDataFrame
    name: str
    """The URL without its password."""

    @property
    def events_name(self) -> str:
        return f"{self.name} (version {self.facts.version})"

    def data(self, start: dt.date, end: dt.date, filters: Filters) -> ExportData:
        """The :class:`ExportData` of the events dated ``start`` to ``end`` that pass
        ``filters`` (every column), with the store's options and areas."""
        from dashboard.store import SELECT_COLUMNS

        events = self.store.events_frame(SELECT_COLUMNS, start=start, end=end, filters=filters)
        data = export_data(
            events,
            self.areas,
            options=self.options,
            events_name=self.events_name,
            areas_names=(self.name,),
        )
        # frame all the data, as from files
        return replace(data, events_extent=self.facts.extent)


def db_source(store: Any) -> DbSource:
    """What a ``store.DbStore`` holds now (a handful of aggregate queries and the areas).

    Raises
    ------
    dashboard.store.DatabaseError
        The database cannot be reached (one-line message).
    """
    from dashboard.store import safe_url
    from dashboard.viewstate import counted_options

    facts = store.facts()
    areas = store.areas_at(None).reset_index(drop=True)
    options = counted_options(facts.daily, facts.values, facts.actors, areas)
    return DbSource(
        store=store, facts=facts, options=options, areas=areas, name=safe_url(store.url)
    )


def open_db_source(url: str) -> DbSource:
    """Connect to a PostGIS store for exports (see :func:`db_source`).

    Raises
    ------
    dashboard.store.DatabaseError
        The database cannot be reached or holds no tables of ours (one-line message).
    """
    from dashboard.store import DbStore

    return db_source(DbStore(url))
