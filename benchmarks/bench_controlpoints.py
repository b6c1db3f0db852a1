"""Benchmark: control areas from a town list, ours against a per-month, per-locality loop.

Run::

    .venv/bin/python benchmarks/bench_controlpoints.py [--localities 8000 --months 60]

Data: ``--localities`` made-up localities scattered at random over the bundled outlines
of Syria and Iraq (``geodata/countries.geojson``), each with one row per month for
``--months`` months from January 2014 (8,000 x 60 = 480,000 rows), its controller drawn
from four sides and changing two to four times over the span; written once as a CSV with
dates ``01/03/2015`` (day first), as analysts' sheets hold them.

Ours: :func:`dashboard.controlpoints.areas_from_points` on that file, end to end (reading
and checking every row, the day/month order, the runs by pandas/numpy, one
``voronoi_polygons`` call, vectorised clips with shapely arrays).

Baseline: what a script does without the vectorised steps, on the rows ours has read:
for each month, the Voronoi cells of the localities with a status that month (one
``voronoi_polygons`` call per month, in the same projection as ours), then for each
locality its cell clipped to its disc and to the outline one geometry at a time, then the monthly pieces of a locality merged
while its controller stays the same (a loop over the months). It is slow, so by default it
runs on a sample of ``--baseline-sample`` localities (all their months) and its time is
scaled linearly to all localities; the output says so. On the sample both must give the
same versions: the same (locality, controller, valid_from, valid_to) and the same cells
(areas within 0.01 %, ours run on the sample file too).

Figures: wall-clock and CPU seconds of both, the ratio, and the peak RSS of the process
before and after ours (the difference is what ours added on top of the setup). This is not
a timed test: the machine is shared and noisy, read the ratio.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from dashboard.controlpoints import LOCALITY, areas_from_points
from dashboard.measure import area_km2
from dashboard.paths import BUNDLED_COUNTRIES
from dashboard.schema import (
    CONTROLLER,
    IRAQI_GOVERNMENT,
    ISLAMIC_STATE,
    NO_INFORMATION,
    SDF,
    SYRIAN_GOVERNMENT,
    VALID_FROM,
    VALID_TO,
)

SIDES = (ISLAMIC_STATE, SYRIAN_GOVERNMENT, SDF, IRAQI_GOVERNMENT)
FIRST_MONTH = pd.Timestamp("2014-01-01")


def study_outline() -> gpd.GeoDataFrame:
    """Syria and Iraq from the bundled outlines."""
    countries = gpd.read_file(BUNDLED_COUNTRIES)
    return countries[countries["role"] == "study area"].reset_index(drop=True)


def town_list(localities: int, months: int, *, seed: int = 0) -> pd.DataFrame:
    """One row per locality and month: name, longitude, latitude, controller, date."""
    rng = np.random.default_rng(seed)
    ground = shapely.union_all(np.asarray(study_outline().geometry.array))
    x0, y0, x1, y1 = ground.bounds
    lon: list[float] = []
    lat: list[float] = []
    while len(lon) < localities:  # rejection sampling inside the outline
        x = rng.uniform(x0, x1, localities)
        y = rng.uniform(y0, y1, localities)
        inside = shapely.contains_xy(ground, x, y)
        lon.extend(np.round(x[inside], 5))
        lat.extend(np.round(y[inside], 5))
    lon_a, lat_a = np.array(lon[:localities]), np.array(lat[:localities])
    # each locality: a first side, then 2-4 changes at random months
    status = np.empty((localities, months), dtype=np.int64)
    status[:, 0] = rng.integers(0, len(SIDES), localities)
    change = np.zeros((localities, months), dtype=bool)
    for i, k in enumerate(rng.integers(2, 5, localities)):
        change[i, rng.choice(np.arange(1, months), size=k, replace=False)] = True
    shift = np.where(change, rng.integers(1, len(SIDES), (localities, months)), 0)
    status = (status[:, :1] + np.cumsum(shift, axis=1)) % len(SIDES)
    days = pd.date_range(FIRST_MONTH, periods=months, freq="MS")
    return pd.DataFrame(
        {
            "name": np.repeat([f"locality {i:05d}" for i in range(localities)], months),
            "longitude": np.repeat(lon_a, months),
            "latitude": np.repeat(lat_a, months),
            "controller": np.asarray(SIDES, dtype=object)[status.ravel()],
            "date": np.tile(days.strftime("%d/%m/%Y"), localities),
        }
    )


def naive(rows: pd.DataFrame, outline: shapely.Geometry, km: float) -> pd.DataFrame:
    """The baseline: per month, per locality; then the months merged per locality."""
    lon0 = (rows["longitude"].min() + rows["longitude"].max()) / 2
    lat0 = (rows["latitude"].min() + rows["latitude"].max()) / 2
    crs = CRS.from_proj4(f"+proj=laea +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m")
    fwd = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    back = Transformer.from_crs(crs, "EPSG:4326", always_xy=True)

    def move(g: shapely.Geometry, t: Transformer) -> shapely.Geometry:
        return shapely.transform(g, lambda c: np.column_stack(t.transform(c[:, 0], c[:, 1])))

    days = pd.to_datetime(rows["date"], format="%d/%m/%Y")
    pieces = []
    for day, month in rows.groupby(days, sort=True):
        x, y = fwd.transform(month["longitude"].to_numpy(), month["latitude"].to_numpy())
        points = shapely.points(x, y)
        frame = shapely.box(x.min() - 2 * km * 1e3, y.min() - 2 * km * 1e3,
                            x.max() + 2 * km * 1e3, y.max() + 2 * km * 1e3)  # fmt: skip
        cells = shapely.get_parts(
            shapely.voronoi_polygons(shapely.multipoints(points), extend_to=frame, ordered=True)
        )
        for name, controller, point, cell in zip(
            month["name"], month["controller"], points, cells, strict=True
        ):
            piece = move(cell.intersection(point.buffer(km * 1e3, quad_segs=16)), back)
            pieces.append((name, controller, day, piece.intersection(outline)))
    out = []
    monthly = pd.DataFrame(pieces, columns=["name", CONTROLLER, "day", "geometry"])
    for name, group in monthly.groupby("name", sort=False):
        run_start, run_controller, run_geom = None, None, None
        for controller, day, geom in zip(group[CONTROLLER], group["day"], group["geometry"],
                                         strict=True):  # fmt: skip
            if controller != run_controller:
                if run_controller is not None:
                    out.append((name, run_controller, run_start, day, run_geom))
                run_start, run_controller, run_geom = day, controller, geom
        out.append((name, run_controller, run_start, pd.NaT, run_geom))
    return pd.DataFrame(out, columns=[LOCALITY, CONTROLLER, VALID_FROM, VALID_TO, "geometry"])


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _agreement(ours: gpd.GeoDataFrame, base: pd.DataFrame) -> tuple[int, int, float]:
    """(versions of ours, versions that differ, largest relative area difference)."""
    mine = ours[ours[CONTROLLER] != NO_INFORMATION]
    key = [LOCALITY, CONTROLLER, VALID_FROM, VALID_TO]
    left = mine[key].astype(str).assign(_a=area_km2(mine.geometry))
    right = base[key].astype(str).assign(_b=area_km2(base["geometry"]))
    both = left.merge(right, on=key, how="outer", indicator=True)
    differ = int((both["_merge"] != "both").sum())
    matched = both[both["_merge"] == "both"]
    rel = (matched["_a"] - matched["_b"]).abs() / matched["_b"].where(matched["_b"] > 0, 1.0)
    return len(mine), differ, float(rel.max()) if len(rel) else 0.0


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the figures and return them as a dict.

    ``argv`` None means the defaults (as when ``benchmarks/run_all.py`` calls ``main()``).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--localities", type=int, default=8_000)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--max-distance", type=float, default=25.0)
    parser.add_argument(
        "--baseline-sample",
        type=int,
        default=400,
        help="localities the baseline is timed on (0 = all); time scaled linearly",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args([] if argv is None else argv)

    outline = study_outline()
    ground = shapely.union_all(np.asarray(outline.geometry.array))
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        rows = town_list(args.localities, args.months, seed=args.seed)
        big = Path(tmp) / "towns.csv"
        rows.to_csv(big, index=False)
        setup_seconds = time.perf_counter() - t

        rss_before = _peak_rss_mb()
        t, cpu = time.perf_counter(), time.process_time()
        ours = areas_from_points(big, outline=outline, max_distance_km=args.max_distance)
        ours_seconds = time.perf_counter() - t
        ours_cpu = time.process_time() - cpu
        rss_after = _peak_rss_mb()

        k = args.localities if args.baseline_sample <= 0 else min(args.baseline_sample,
                                                                   args.localities)  # fmt: skip
        sample_rows = rows[rows["name"].isin(rows["name"].unique()[:k])]
        small = Path(tmp) / "sample.csv"
        sample_rows.to_csv(small, index=False)
        t = time.perf_counter()
        ours_sample = areas_from_points(small, outline=outline, max_distance_km=args.max_distance)
        ours_sample_seconds = time.perf_counter() - t
        t, cpu = time.perf_counter(), time.process_time()
        base = naive(sample_rows, ground, args.max_distance)
        base_sample_seconds = time.perf_counter() - t
        base_sample_cpu = time.process_time() - cpu
    baseline_seconds = base_sample_seconds * args.localities / k
    baseline_cpu = base_sample_cpu * args.localities / k
    versions, differ, area_diff = _agreement(ours_sample.areas, base)

    figures: dict[str, Any] = {
        "rows": len(rows),
        "localities": args.localities,
        "months": args.months,
        "versions": len(ours.areas),
        "rows_set_aside": len(ours.rejected),
        "setup_seconds": round(setup_seconds, 2),
        "ours_seconds": round(ours_seconds, 2),
        "ours_cpu_seconds": round(ours_cpu, 2),
        "baseline_seconds": round(baseline_seconds, 1),
        "baseline_cpu_seconds": round(baseline_cpu, 1),
        "baseline_measured_on_localities": k,
        "baseline_extrapolated": k < args.localities,
        "ratio": round(baseline_seconds / ours_seconds, 1),
        "cpu_ratio": round(baseline_cpu / ours_cpu, 1),
        "ours_sample_seconds": round(ours_sample_seconds, 2),
        "baseline_sample_seconds": round(base_sample_seconds, 2),
        "ratio_on_sample": round(base_sample_seconds / ours_sample_seconds, 1),
        "sample_versions": versions,
        "sample_versions_differing": differ,
        "sample_max_relative_area_difference": area_diff,
        "peak_rss_mb_before_ours": round(rss_before, 0),
        "peak_rss_mb_after_ours": round(rss_after, 0),
    }
    print(
        f"{len(rows):,} rows: {args.localities:,} localities x {args.months} months -> "
        f"{len(ours.areas):,} versions ({len(ours.rejected):,} rows set aside)"
    )
    print(f"ours:     {ours_seconds:8.2f} s  ({ours_cpu:.2f} s CPU)")
    how = (
        f"measured on {k:,} localities ({base_sample_seconds:.2f} s), scaled linearly"
        if k < args.localities
        else "measured"
    )
    print(f"baseline: {baseline_seconds:8.2f} s  ({baseline_cpu:.2f} s CPU; {how})")
    print(
        f"ratio:    {figures['ratio']:8.1f} x   (CPU: {figures['cpu_ratio']:.1f} x; on the "
        f"sample alone: {figures['ratio_on_sample']:.1f} x)"
    )
    print(
        f"agreement on the sample: {versions - differ:,}/{versions:,} versions the same, "
        f"areas within {area_diff:.2e} of each other"
    )
    print(f"peak RSS: {rss_before:,.0f} MB before ours, {rss_after:,.0f} MB after")
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
