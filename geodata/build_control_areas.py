"""Build the bundled control areas and country outlines from authored inputs.

Reads ``geodata/control_inputs.yaml`` (hand-typed outlines, rivers and per-piece timelines;
see the comments at its top) and writes:

- ``geodata/control_areas.geojson``: one feature per controller, country and interval in
  which that controller's area did not change. Properties: ``area_id``, ``controller``,
  ``country``, ``valid_from`` (inclusive), ``valid_to`` (exclusive: the day the next state
  begins), ``note``.
- ``geodata/countries.geojson``: coarse outlines of Syria and Iraq and of their neighbours
  (partial where marked), for a basemap without tiles.

Run from anywhere::

    python geodata/build_control_areas.py           # rewrite both files
    python geodata/build_control_areas.py --check   # exit 1 if the files are out of date

Needs shapely, numpy and PyYAML only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
import yaml
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, mapping
from shapely.geometry.base import BaseGeometry

HERE = Path(__file__).resolve().parent
INPUTS = HERE / "control_inputs.yaml"
AREAS_OUT = HERE / "control_areas.geojson"
COUNTRIES_OUT = HERE / "countries.geojson"

GRID = 0.001  # degrees, about 100 m: every output vertex lies on this grid
DECIMALS = 3
KM_PER_DEG_LAT = 110.57
KM_PER_DEG_LON_AT_EQUATOR = 111.32
CRS84 = "urn:ogc:def:crs:OGC:1.3:CRS84"

Timeline = tuple[tuple[str, str | None], ...]


@dataclass(frozen=True)
class Piece:
    """One authored area and who held it from which date (None: not painted then)."""

    id: str
    clip: str
    geometry: BaseGeometry
    timeline: Timeline

    def controller_on(self, day: str) -> str | None:
        """The controller painted on ``day``; None before the first date or after a null."""
        current: str | None = None
        for since, controller in self.timeline:
            if since > day:
                break
            current = controller
        return current


@dataclass(frozen=True)
class Faces:
    """The study area cut by every authored boundary into small disjoint faces.

    Each face lies wholly inside or wholly outside every piece, so one date's map is a
    choice of controller per face. Dissolving faces that share exact edges cannot make
    two controllers overlap, which snapping every overlay operation separately can.
    """

    geometries: np.ndarray  # Polygons
    country: np.ndarray  # domain name per face
    inside: Mapping[str, np.ndarray]  # piece id -> bool per face


# --- reading the inputs ---------------------------------------------------------------------


def load_inputs(path: Path = INPUTS) -> dict[str, Any]:
    """Parse the YAML inputs."""
    with path.open(encoding="utf-8") as handle:
        data: dict[str, Any] = yaml.safe_load(handle)
    return data


def _iso(value: Any) -> str:
    """YAML reads bare dates as ``datetime.date``; keep every date as an ISO string."""
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    dt.date.fromisoformat(text)  # raises on a malformed date
    return text


def _ring(
    segments: Mapping[str, Sequence[Sequence[float]]], names: Sequence[str]
) -> list[tuple[float, float]]:
    """Join named border segments ("-name" walks one backwards) into a closed ring."""
    coords: list[tuple[float, float]] = []
    for name in names:
        key = name.removeprefix("-")
        if key not in segments:
            raise KeyError(f"unknown border segment {key!r}")
        part = [(float(x), float(y)) for x, y in segments[key]]
        if name.startswith("-"):
            part.reverse()
        if coords and coords[-1] != part[0]:
            raise ValueError(
                f"segment {name!r} starts at {part[0]}, not where the last ended: {coords[-1]}"
            )
        coords.extend(part[1:] if coords else part)
    if coords[0] != coords[-1]:
        raise ValueError(f"ring {list(names)!r} is not closed: {coords[0]} != {coords[-1]}")
    return coords


def build_countries(inputs: Mapping[str, Any]) -> dict[str, Polygon]:
    """Country polygons from the shared border segments."""
    countries: dict[str, Polygon] = {}
    for name, spec in inputs["countries"].items():
        polygon = Polygon(_ring(inputs["segments"], spec["segments"]))
        if not polygon.is_valid:
            raise ValueError(f"outline of {name!r} is invalid: {shapely.is_valid_reason(polygon)}")
        countries[name] = polygon
    return countries


def _buffer_km(geometry: BaseGeometry, km: float, lat: float) -> BaseGeometry:
    """Buffer a lon/lat geometry by ``km``, using the local scale at latitude ``lat``."""
    scale = np.array([KM_PER_DEG_LON_AT_EQUATOR * math.cos(math.radians(lat)), KM_PER_DEG_LAT])
    local = shapely.transform(geometry, lambda xy: xy * scale)
    return shapely.transform(local.buffer(km, quad_segs=4), lambda xy: xy / scale)


def make_shape(spec: Mapping[str, Any], inputs: Mapping[str, Any]) -> BaseGeometry:
    """One shape spec (poly, circle, band, side, ref, and, minus, or) as a geometry."""
    if len(spec) != 1:
        raise ValueError(f"a shape spec has exactly one key, got {sorted(spec)!r}")
    kind, value = next(iter(spec.items()))
    geometry: BaseGeometry
    if kind == "poly":
        geometry = Polygon([(float(x), float(y)) for x, y in value])
    elif kind == "circle":
        lon, lat = value["at"]
        geometry = _buffer_km(Point(lon, lat), float(value["km"]), lat)
    elif kind == "band":
        line = LineString(value["line"])
        geometry = _buffer_km(line, float(value["km"]), line.centroid.y)
    elif kind == "side":  # the area on one side of a river or front line
        geometry = Polygon([*inputs["lines"][value["line"]], *value["close"]])
    elif kind == "ref":
        geometry = make_shape(inputs["shapes"][value], inputs)
    elif kind == "and":
        geometry = shapely.intersection_all([make_shape(s, inputs) for s in value])
    elif kind == "or":
        geometry = shapely.union_all([make_shape(s, inputs) for s in value])
    elif kind == "minus":
        first, *rest = (make_shape(s, inputs) for s in value)
        geometry = first.difference(shapely.union_all(rest))
    else:
        raise ValueError(f"unknown shape kind {kind!r}")
    if not geometry.is_valid:
        raise ValueError(f"shape {spec!r} is invalid: {shapely.is_valid_reason(geometry)}")
    return geometry


def build_domains(
    inputs: Mapping[str, Any], countries: Mapping[str, Polygon]
) -> dict[str, tuple[BaseGeometry, str]]:
    """Where control areas are drawn in each country, and who holds it by default."""
    domains: dict[str, tuple[BaseGeometry, str]] = {}
    for name, spec in inputs["domains"].items():
        area: BaseGeometry = countries[spec["country"]]
        if "minus" in spec:
            area = area.difference(Polygon(spec["minus"]))
        domains[name] = (shapely.set_precision(area, GRID), spec["base"])
    return domains


def build_pieces(
    inputs: Mapping[str, Any], domains: Mapping[str, tuple[BaseGeometry, str]]
) -> list[Piece]:
    """All pieces clipped to their country, in painting order."""
    pieces: list[Piece] = []
    for spec in inputs["pieces"]:
        if any(p.id == spec["id"] for p in pieces):
            raise ValueError(f"duplicate piece id {spec['id']!r}")
        timeline = tuple((_iso(day), controller) for day, controller in spec["timeline"])
        days = [day for day, _ in timeline]
        if days != sorted(set(days)):
            raise ValueError(f"timeline of {spec['id']!r} is not in strict date order")
        domain, _ = domains[spec["clip"]]
        geometry = make_shape(spec["shape"], inputs).intersection(domain)
        if geometry.is_empty:
            raise ValueError(f"piece {spec['id']!r} lies outside {spec['clip']!r}")
        pieces.append(Piece(spec["id"], spec["clip"], geometry, timeline))
    return pieces


def snapshot_dates(inputs: Mapping[str, Any], pieces: Iterable[Piece]) -> list[str]:
    """The start date and every date on which some piece changes."""
    days = {_iso(inputs["start"])}
    for piece in pieces:
        days.update(day for day, _ in piece.timeline)
    return sorted(days)


# --- painting -------------------------------------------------------------------------------


def _polygonal(geometry: BaseGeometry) -> BaseGeometry:
    """Drop the points and lines an overlay operation can leave behind."""
    if isinstance(geometry, (Polygon, MultiPolygon)):
        return geometry
    parts = [g for g in getattr(geometry, "geoms", ()) if isinstance(g, (Polygon, MultiPolygon))]
    return shapely.union_all(parts) if parts else Polygon()


def build_faces(domains: Mapping[str, tuple[BaseGeometry, str]], pieces: Sequence[Piece]) -> Faces:
    """Node every boundary on the grid, polygonize, and record which pieces hold each face."""
    lines = [domain.boundary for domain, _ in domains.values()] + [
        p.geometry.boundary for p in pieces
    ]
    noded = shapely.union_all(lines, grid_size=GRID)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(noded)))
    faces = faces[shapely.area(faces) > 0]
    points = shapely.point_on_surface(faces)
    country = np.full(len(faces), "", dtype=object)
    for name, (domain, _) in domains.items():
        shapely.prepare(domain)
        country[(country == "") & shapely.contains(domain, points)] = name
    keep = country != ""
    faces, points, country = faces[keep], points[keep], country[keep]
    inside = {}
    for piece in pieces:
        shapely.prepare(piece.geometry)
        inside[piece.id] = shapely.contains(piece.geometry, points) & (country == piece.clip)
    return Faces(faces, country, inside)


def paint(
    day: str, country: str, base: str, pieces: Iterable[Piece], faces: Faces
) -> dict[str, BaseGeometry]:
    """Controller -> area in one country on ``day``; together the areas tile the country."""
    owner = np.full(len(faces.geometries), None, dtype=object)
    owner[faces.country == country] = base
    for piece in pieces:  # in painting order: a later piece wins
        controller = piece.controller_on(day)
        if controller is not None:
            owner[faces.inside[piece.id]] = controller
    return {
        controller: _polygonal(shapely.union_all(faces.geometries[owner == controller]))
        for controller in sorted({o for o in owner if o is not None})
    }


def build_features(inputs: Mapping[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Control-area features and country features, as GeoJSON dicts."""
    countries = build_countries(inputs)
    domains = build_domains(inputs, countries)
    pieces = build_pieces(inputs, domains)
    days = snapshot_dates(inputs, pieces)
    notes = {_iso(day): str(text) for day, text in inputs["dates"].items()}
    missing = [day for day in days if day not in notes]
    if missing:
        raise ValueError(f"snapshot dates without a note under `dates`: {missing!r}")
    end = _iso(inputs["end"])
    faces = build_faces(domains, pieces)

    features: list[dict[str, Any]] = []
    for country, (_, base) in domains.items():
        own = [p for p in pieces if p.clip == country]
        still_open: dict[str, tuple[str, BaseGeometry]] = {}  # controller -> (since, area)
        previous: tuple[str | None, ...] | None = None
        for day in days:
            state = tuple(p.controller_on(day) for p in own)
            if state == previous:
                continue  # nothing changed in this country on this day
            previous = state
            areas = paint(day, country, base, own, faces)
            for controller in sorted(set(still_open) | set(areas)):
                now = areas.get(controller)
                if controller in still_open:
                    since, before = still_open[controller]
                    if now is not None and now.equals(before):
                        continue
                    features.append(_feature(controller, country, since, day, before, notes[since]))
                    del still_open[controller]
                if now is not None:
                    still_open[controller] = (day, now)
        for controller, (since, area) in sorted(still_open.items()):
            features.append(_feature(controller, country, since, end, area, notes[since]))
    features.sort(
        key=lambda f: (
            f["properties"]["valid_from"],
            f["properties"]["country"],
            f["properties"]["controller"],
        )
    )

    outlines = []
    for name, polygon in countries.items():
        spec = inputs["countries"][name]
        props = {"name": name, "role": spec["role"], "partial": bool(spec.get("partial", False))}
        if "note" in spec:
            props["note"] = spec["note"]
        outlines.append({"type": "Feature", "properties": props, "geometry": _geojson(polygon)})
    return features, outlines


def _slug(text: str) -> str:
    return "-".join(text.lower().split())


def _feature(
    controller: str, country: str, since: str, until: str, area: BaseGeometry, note: str
) -> dict[str, Any]:
    props = {
        "area_id": f"{_slug(country)}_{_slug(controller)}_{since}",
        "controller": controller,
        "country": country,
        "valid_from": since,
        "valid_to": until,
        "note": note,
    }
    return {"type": "Feature", "properties": props, "geometry": _geojson(area)}


def _geojson(geometry: BaseGeometry) -> dict[str, Any]:
    """GeoJSON geometry, outer rings counter-clockwise, coordinates rounded to the grid."""
    gj = mapping(shapely.orient_polygons(geometry))

    def rounded(value: Any) -> Any:
        if value and isinstance(value[0], float):
            return [round(v, DECIMALS) for v in value]
        return [rounded(v) for v in value]

    return {"type": gj["type"], "coordinates": rounded(gj["coordinates"])}


# --- writing --------------------------------------------------------------------------------


def render(features: Sequence[Mapping[str, Any]], name: str) -> str:
    """A FeatureCollection with one feature per line (small diffs, still plain JSON)."""
    head = json.dumps(
        {
            "type": "FeatureCollection",
            "name": name,
            "crs": {"type": "name", "properties": {"name": CRS84}},
        }
    )
    body = ",\n".join(json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features)
    return head[:-1] + ', "features": [\n' + body + "\n]}\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Write (or with ``--check`` only compare) the two generated files."""
    parser = argparse.ArgumentParser(
        description="Build geodata/control_areas.geojson and countries.geojson."
    )
    parser.add_argument("--check", action="store_true", help="only compare with the files on disk")
    args = parser.parse_args(argv)
    areas, countries = build_features(load_inputs())
    outputs = {
        AREAS_OUT: render(areas, "control_areas"),
        COUNTRIES_OUT: render(countries, "countries"),
    }
    if args.check:
        stale = [
            p.name
            for p, text in outputs.items()
            if not p.exists() or p.read_text(encoding="utf-8") != text
        ]
        if stale:
            print(
                f"out of date: {', '.join(stale)}; run python geodata/build_control_areas.py",
                file=sys.stderr,
            )
            return 1
        return 0
    for path, text in outputs.items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.name}: {len(text) / 1024:.0f} KiB")
    print(f"{len(areas)} control-area features")
    return 0


if __name__ == "__main__":
    sys.exit(main())
