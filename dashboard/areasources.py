"""Control areas from every kind of source, read together, each version saying where it is from.

Three shapes of control data come in:

* polygon files (:func:`dashboard.areas.read_control_areas`): ``--areas FILE``;
* a table of status per administrative unit joined to boundaries
  (:func:`dashboard.controltable.areas_from_table`): ``--areas-table FILE --boundaries FILE``;
* a list of localities with their status (:func:`dashboard.controlpoints.areas_from_points`):
  ``--areas-points FILE``, ground given to the nearest locality within ``--max-distance``.

:func:`read_area_sources` reads what was given and stacks the versions; every version keeps
its ``area_source`` (the file), ``area_kind`` and ``area_provenance`` (the file's row or
feature, in a line), and :func:`describe_sources` says per source what it covers, for the
popups, the control history, the exports' footers and ``compare``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd

from dashboard import schema
from dashboard.arealedger import AreaLedger
from dashboard.areas import AreasResult, check_overlaps
from dashboard.report import Report

__all__ = [
    "KIND_FILE",
    "KIND_POINTS",
    "approximation_notes",
    "combine_results",
    "describe_sources",
    "read_area_sources",
]

KIND_FILE = schema.KIND_POLYGONS
KIND_POINTS = schema.KIND_POINTS
_KIND_WORDS = {
    KIND_FILE: "control polygons",
    schema.KIND_TABLE: "status per administrative unit",
    KIND_POINTS: "status per locality, ground to the nearest locality (an approximation)",
}


def read_area_sources(
    files: Sequence[str | Path],
    *,
    read_files: Callable[[Sequence[str | Path]], AreasResult],
    table: str | Path | None = None,
    boundaries: str | Path | None = None,
    points: str | Path | None = None,
    outline: str | Path | None = None,
    max_distance_km: float = 25.0,
    unit_field: str | None = None,
    unit_matches: Mapping[str, str] | None = None,
    controller_names: Mapping[str, str] | None = None,
) -> AreasResult:
    """Read every control-area source given, one result for all.

    Parameters
    ----------
    files
        Polygon files, read by ``read_files`` (the caller's reading options apply to them).
    table, boundaries
        A control table per unit and the units' polygons: both or neither.
    points
        A locality list; ``outline`` (a polygon file) bounds its ground, ``max_distance_km``
        the ground one locality speaks for.
    unit_field, unit_matches
        For the table: its unit column, and the analyst's name -> P-code answers.
    controller_names
        Renames applied to the table's statuses and the localities' controllers.

    Raises
    ------
    SchemaError
        A table without boundaries, or boundaries without a table.
    """
    from dashboard.errors import SchemaError

    if (table is None) != (boundaries is None):
        given, missing = (
            ("--areas-table", "--boundaries") if table else ("--boundaries", "--areas-table")
        )
        raise SchemaError(
            f"{given} needs {missing}: a control table is joined to its units' polygons"
        )
    if outline is not None and points is None:
        raise SchemaError("--outline bounds the ground of a town list: it needs --areas-points")
    results: list[AreasResult] = []
    if files:
        results.append(read_files(files))
    if table is not None and boundaries is not None:
        from dashboard.controltable import areas_from_table

        results.append(
            areas_from_table(
                table,
                boundaries,
                unit_field=unit_field,
                unit_matches=unit_matches,
                controller_names=controller_names,
            )
        )
    if points is not None:
        from dashboard.controlpoints import areas_from_points

        results.append(
            areas_from_points(
                points,
                outline=outline,
                max_distance_km=max_distance_km,
                controller_names=controller_names,
            )
        )
    return combine_results(results)


def combine_results(results: Sequence[AreasResult]) -> AreasResult:
    """The versions of several reads stacked, their reports and ledgers added up."""
    if len(results) == 1:
        return results[0]
    if not results:
        raise ValueError("no control-area source")
    areas = gpd.GeoDataFrame(
        pd.concat([r.areas for r in results], ignore_index=True), geometry="geometry",
        crs="EPSG:4326",
    )  # fmt: skip
    rejected = pd.concat([r.rejected for r in results if len(r.rejected)] or [results[0].rejected],
                         ignore_index=True)  # fmt: skip
    repaired_frames = [r.repaired for r in results if len(r.repaired)]
    repaired = pd.concat(repaired_frames, ignore_index=True) if repaired_frames else pd.DataFrame()
    report = Report(source=", ".join(r.report.source for r in results))
    for r in results:
        report.extend(r.report.problems)
    # where two sources give the ground to different sides, events there are Contested
    check_overlaps(areas, report, between_sources=True)
    report.rows_in = sum(r.report.rows_in for r in results)
    report.rows_loaded = sum(r.report.rows_loaded for r in results)
    report.rows_rejected = sum(r.report.rows_rejected for r in results)
    nouns = {r.ledger.noun for r in results}
    ledger = AreaLedger.of(
        features_in=sum(r.ledger.features_in for r in results),
        set_aside=rejected,
        repaired=repaired,
        notes=tuple(n for r in results for n in r.ledger.notes),
        noun=nouns.pop() if len(nouns) == 1 else "control-area features and rows",
    )
    return AreasResult(
        areas=areas, rejected=rejected, report=report, repaired=repaired, ledger=ledger
    )


def approximation_notes(areas: pd.DataFrame) -> list[str]:
    """What a map drawn from ``areas`` must say of their kind: areas made from locality
    points are an approximation, one line per such source."""
    if not len(areas) or schema.AREA_KIND not in areas:
        return []
    from_points = areas[areas[schema.AREA_KIND] == KIND_POINTS]
    out = []
    for source, part in from_points.groupby(schema.AREA_SOURCE, sort=False):
        km = part["max_distance_km"].dropna() if "max_distance_km" in part else pd.Series([])
        within = f"within {km.iloc[0]:g} km" if len(km) else "within a set distance"
        out.append(
            f"Areas from {source} are an approximation: ground goes to the nearest listed "
            f"locality {within}; farther ground is '{schema.NO_INFORMATION}'"
        )
    return out


def describe_sources(areas: pd.DataFrame) -> list[str]:
    """One line per source of the areas: its file, what kind, how many versions, which dates.

    ``"control.csv: status per administrative unit, 120 versions, 2014-01-24 to 2015-11-06"``
    """
    if not len(areas) or schema.AREA_SOURCE not in areas:
        return []
    kinds = (
        areas[schema.AREA_KIND]
        if schema.AREA_KIND in areas
        else pd.Series(KIND_FILE, index=areas.index)
    )
    out = []
    for (source, kind), part in areas.groupby([areas[schema.AREA_SOURCE], kinds], sort=False):
        start = pd.to_datetime(part[schema.VALID_FROM]).min()
        end = pd.to_datetime(part[schema.VALID_FROM]).max()
        span = (
            ""
            if pd.isna(start)
            else (f", {start.date()}" + ("" if end == start else f" to {end.date()}"))
        )
        words = _KIND_WORDS.get(str(kind), str(kind))
        out.append(f"{source}: {words}, {len(part):,} versions{span}")
    return out
