"""The footer of an export: where the data comes from, the attribution its licences ask
for (``dashboard.attribution``: ACLED's and UCDP's wording among them), the context layers'
provenance, and when and of which view the export was made."""

from __future__ import annotations

import datetime as dt

from dashboard import __version__, attribution, paths
from dashboard.export.data import ExportData

CONTEXT_TEXT = (
    "Context: land, borders, lakes and rivers from Natural Earth (public domain); town "
    "positions from GeoNames, www.geonames.org (CC BY 4.0)."
)


def attribution_lines(data: ExportData, *, tiles: bool = False) -> list[str]:
    """One line per source of the dataset (events, gazetteer, control areas, tiles), then
    the context layers."""
    # dashboard.attribution knows the bundled demo by its file names; a user's file that
    # happens to share a name must not be credited as the demo.
    events_name = data.events_name or None
    if events_name == paths.BUNDLED_EVENTS.name and not data.bundled_events:
        events_name = f"{events_name} (user file)"
    areas_names = data.areas_names
    if areas_names == (paths.BUNDLED_AREAS.name,) and not data.bundled_areas:
        areas_names = (f"{paths.BUNDLED_AREAS.name} (user file)",)
    lines = attribution.attribution_lines(
        data,
        events_name=events_name,
        areas_names=areas_names,
        basemap="osm" if tiles else None,
    )
    if data.context.countries is not None or data.context.towns is not None:
        lines.append(CONTEXT_TEXT)
    ledger = data.area_ledger
    if ledger is not None and (ledger.set_aside or ledger.repaired):
        # a map for a brief must say what its control areas leave out
        lines.append(f"Control areas: {ledger.sentence()}.")
    return lines


def exported_line(when: dt.datetime, permalink: str) -> str:
    """``Exported 2024-05-01 09:30 UTC with conflictmap 0.1.0 · view: ?date=...``."""
    stamp = when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"Exported {stamp} with conflictmap {__version__} · view: ?{permalink}"
