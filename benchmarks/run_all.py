"""Run every benchmark and write benchmarks/RESULTS.md (machine, versions, figures).

``BENCH_ONLY=bench_headers,bench_popup_text`` runs just those and replaces only their
sections of RESULTS.md (each section names the date it was measured).
"""

from __future__ import annotations

import contextlib
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
    "bench_join",
    "bench_geocode",
    "bench_build",
    "bench_layers",
    "bench_slider",
    "bench_app",
    "bench_dask",
    "bench_db",
    "bench_buildcache",
    "bench_tableexport",
    "bench_headers",
    "bench_popup_text",
    "bench_upload_memory",
    "bench_basemap",
    "bench_page",
    "bench_controlpoints",
    "bench_pull",
    "bench_load",
    "bench_chromium",
]
PACKAGES = [
    "pandas",
    "numpy",
    "geopandas",
    "shapely",
    "pyogrio",
    "rapidfuzz",
    "folium",
    "streamlit",
    "streamlit-folium",
]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(HERE))
    spec.loader.exec_module(module)
    return module


def _versions() -> str:
    found = []
    for name in PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found.append(f"{name} {metadata.version(name)}")
    return ", ".join(found)


def _sections(text: str) -> dict[str, list[str]]:
    """The "## name" sections of an earlier RESULTS.md, by name."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("## "):
            current = found.setdefault(line[3:].strip(), [])
        if current is not None:
            current.append(line)
    return found


def main() -> int:
    only = [n.strip() for n in os.environ.get("BENCH_ONLY", "").split(",") if n.strip()]
    unknown = sorted(set(only) - set(BENCHES))
    if unknown:
        print(f"BENCH_ONLY names no benchmark: {', '.join(unknown)}", file=sys.stderr)
        return 2
    rows: list[tuple[str, dict | str]] = []
    for name in only or BENCHES:
        if not (HERE / f"{name}.py").exists():
            continue
        print(f"== {name}", flush=True)
        try:
            # An empty argument list: a benchmark's own options keep their defaults.
            module = _load(name)
            takes_argv = (
                "argv" in module.main.__code__.co_varnames[: module.main.__code__.co_argcount]
            )
            rows.append((name, module.main([]) if takes_argv else module.main()))
        except Exception:  # noqa: BLE001 - one failing benchmark must not hide the others' figures
            rows.append((name, "FAILED:\n" + traceback.format_exc()))
    today = dt.datetime.now().isoformat(timespec="seconds")
    results = HERE / "RESULTS.md"
    earlier = _sections(results.read_text(encoding="utf-8")) if only and results.exists() else {}
    lines = [
        "# Benchmark results",
        "",
        f"- date: {today}"
        + (f" ({', '.join(only)} only; the rest as measured before)" if only else ""),
        (
            f"- machine: {platform.machine()}, {os.cpu_count()} cores, "
            f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
        ),
        f"- versions: {_versions()}",
        "",
        "The machine is shared and noisy: compare the ratios, which are measured in one run.",
        "",
    ]
    measured = dict(rows)
    for name in BENCHES:
        if name not in measured:
            if name in earlier:  # BENCH_ONLY: the other sections as they were
                lines += earlier[name]
            continue
        figures = measured[name]
        lines.append(f"## {name}")
        lines.append("")
        lines.append(f"measured {today}")
        lines.append("")
        if isinstance(figures, str):
            lines += ["```", figures, "```", ""]
            continue
        lines += ["| figure | value |", "|---|---|"]
        for key, value in figures.items():
            if isinstance(value, float):
                value = f"{value:.3g}"
            lines.append(
                f"| {key} | {json.dumps(value) if isinstance(value, (dict, list)) else value} |"
            )
        lines.append("")
    (HERE / "RESULTS.md").write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {HERE / 'RESULTS.md'}")
    return 1 if any(isinstance(f, str) for _, f in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
