"""Run every benchmark and write benchmarks/RESULTS.md (machine, versions, figures)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import platform
import sys
import traceback
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = [
    "bench_join", "bench_geocode", "bench_build", "bench_layers", "bench_slider", "bench_app",
    "bench_dask", "bench_db", "bench_buildcache", "bench_tableexport", "bench_headers",
    "bench_popup_text",
]
PACKAGES = ["pandas", "numpy", "geopandas", "shapely", "pyogrio", "rapidfuzz", "folium",
            "streamlit", "streamlit-folium"]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(HERE))
    spec.loader.exec_module(module)
    return module


def _versions() -> str:
    found = []
    for name in PACKAGES:
        try:
            found.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pass
    return ", ".join(found)


def main() -> int:
    rows: list[tuple[str, dict | str]] = []
    for name in BENCHES:
        if not (HERE / f"{name}.py").exists():
            continue
        print(f"== {name}", flush=True)
        try:
            rows.append((name, _load(name).main()))
        except Exception:  # one failing benchmark must not hide the others' figures
            rows.append((name, "FAILED:\n" + traceback.format_exc()))
    lines = [
        "# Benchmark results",
        "",
        f"- date: {dt.datetime.now().isoformat(timespec='seconds')}",
        f"- machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}",
        f"- versions: {_versions()}",
        "",
        "The machine is shared and noisy: compare the ratios, which are measured in one run.",
        "",
    ]
    for name, figures in rows:
        lines.append(f"## {name}")
        lines.append("")
        if isinstance(figures, str):
            lines += ["```", figures, "```", ""]
            continue
        lines += ["| figure | value |", "|---|---|"]
        for key, value in figures.items():
            if isinstance(value, float):
                value = f"{value:.3g}"
            lines.append(f"| {key} | {json.dumps(value) if isinstance(value, (dict, list)) else value} |")
        lines.append("")
    (HERE / "RESULTS.md").write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {HERE / 'RESULTS.md'}")
    return 1 if any(isinstance(f, str) for _, f in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
