"""Benchmark: opening the popup of an event whose actor and notes are very long, without a space.

Run::

    .venv/bin/python benchmarks/bench_popup_text.py [--chars 10000 30000 100000] [--repeat 3]

A page with Leaflet and ``core.js``/``points.js`` (the app's own files) and one event whose actor
and notes are each N characters with no space is opened in headless Chromium (Debian's,
``CONFLICTMAP_CHROMIUM`` or ``/usr/bin/chromium``). Timed in the page (``performance.now``):

* ours: the popup as the map builds it (``L.ConflictMap.popupContent``: the first 600
  characters of each value and a "Show more" button), opened and laid out;
* ours, all shown: then "Show more" clicked until the whole of both values is on screen;
* baseline, measured in the same run: the popup as it was built before, every value whole
  in its cell with the cell's old CSS (``white-space: pre-wrap; overflow-wrap: break-word;
  word-break: break-word``).

Before the fix a 100,000-character note froze the tab for 20-30 s when its popup opened.
The machine is shared and noisy: each figure is the median of ``--repeat`` runs (the
baseline runs once above 30,000 characters: it takes tens of seconds); read the ratios.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

import pandas as pd

from dashboard.layers.events import encode_events
from dashboard.layers.safety import script_json

STATIC = ROOT / "dashboard" / "app" / "static"
CHROMIUM = os.environ.get("CONFLICTMAP_CHROMIUM", "/usr/bin/chromium")

# The popup of before: every value whole, as text, in a cell with the CSS of then.
_OLD_CSS = """
.cm-old { min-width: 220px; max-width: 320px; font: 12px/1.35 system-ui, -apple-system,
  "Segoe UI", Roboto, "Noto Sans", "Noto Sans Arabic", sans-serif; }
.cm-old table { border-collapse: collapse; }
.cm-old th { text-align: left; vertical-align: top; padding: 1px 8px 1px 0; color: #555;
  font-weight: 500; white-space: nowrap; }
.cm-old td { padding: 1px 0; white-space: pre-wrap; overflow-wrap: break-word;
  word-break: break-word; min-width: 160px; }
"""

_TIME_JS = """([which]) => {
    const CM = L.ConflictMap, layer = CM.layers[0], d = layer._data;
    let root;
    const t0 = performance.now();
    if (which === 'ours') {
        root = layer.popupContent(0);
    } else {
        const r = CM.record(d, 0);
        root = document.createElement('div');
        root.className = 'cm-old';
        const title = document.createElement('div');
        title.textContent = r.title;
        root.appendChild(title);
        const table = document.createElement('table');
        for (const [label, text] of r.rows) {
            if (!text) { continue; }
            const tr = document.createElement('tr'), th = document.createElement('th');
            const td = document.createElement('td');
            th.textContent = label;
            td.textContent = text;
            tr.append(th, td);
            table.appendChild(tr);
        }
        root.appendChild(table);
    }
    L.popup({minWidth: 240, maxWidth: 340, maxHeight: 360})
        .setLatLng([36, 42]).setContent(root).openOn(window.map);
    root.getBoundingClientRect();  // layout
    const opened = performance.now() - t0;
    const shown = root.textContent.length;
    let all = null;
    if (which === 'ours') {
        const t1 = performance.now();
        let button;
        while ((button = root.querySelector('.cm-more-button'))) {
            button.click();
            root.getBoundingClientRect();
        }
        all = performance.now() - t1;
    }
    window.map.closePopup();
    return {opened: opened, all: all, shown: shown};
}"""


def _page(folder: Path, chars: int) -> Path:
    events = pd.DataFrame(
        {
            "event_id": ["L1"],
            "event_date": ["2017-11-10"],
            "event_type": ["Battles"],
            "actor1": ["A" * chars],
            "actor2": ["Islamic State"],
            "latitude": [36.0],
            "longitude": [42.0],
            "fatalities": [5],
            "geo_precision": [1],
            "notes": ["n" * chars],
        }
    )
    payload = script_json(encode_events(events, notes_budget_bytes=None).payload)
    scripts = "".join(
        f'<script src="{(STATIC / f"js/{module}.js").as_uri()}"></script>'
        for module in ("core", "points")
    )
    page = folder / f"popup-{chars}.html"
    page.write_text(
        f"""<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="{(STATIC / "vendor/leaflet/leaflet.css").as_uri()}">
<link rel="stylesheet" href="{(STATIC / "js/conflictmap.css").as_uri()}">
<style>{_OLD_CSS}</style>
<script src="{(STATIC / "vendor/leaflet/leaflet.js").as_uri()}"></script>
{scripts}</head>
<body><div id="map" style="width:980px;height:620px"></div><script>
window.map = L.map('map').setView([36, 42], 9);
L.ConflictMap.points({payload}).addTo(window.map);
</script></body></html>""",
        encoding="utf-8",
    )
    return page


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmark, print the figures and return them as a dict.

    ``argv`` None means the defaults (as when ``benchmarks/run_all.py`` calls ``main()``).
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, nargs="+", default=[10_000, 30_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args([] if argv is None else argv)

    from dashboard.assets import ensure_static_assets

    ensure_static_assets(STATIC)  # Leaflet into static/vendor, as the app does at start
    from playwright.sync_api import sync_playwright

    figures: dict[str, Any] = {}
    print(
        f"{'chars':>8} {'ours ms':>9} {'all shown ms':>13} {'before ms':>10} {'ratio':>7} "
        f"{'in DOM (ours)':>14}"
    )
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--allow-file-access-from-files"],
            headless=True,
        )
        try:
            for chars in args.chars:
                page = browser.new_page(viewport={"width": 1200, "height": 800})
                page.set_default_timeout(600_000)
                page.goto(_page(Path(tmp), chars).as_uri())
                page.wait_for_function("() => window.L && L.ConflictMap.layers.length === 1")
                ours = [page.evaluate(_TIME_JS, ["ours"]) for _ in range(args.repeat)]
                before_runs = 1 if chars > 30_000 else args.repeat
                before = [page.evaluate(_TIME_JS, ["before"]) for _ in range(before_runs)]
                page.close()
                row = {
                    "ours_ms": statistics.median(r["opened"] for r in ours),
                    "all_shown_ms": statistics.median(r["all"] for r in ours),
                    "before_ms": statistics.median(r["opened"] for r in before),
                    "ours_chars_in_dom": ours[0]["shown"],
                }
                row["ratio"] = row["before_ms"] / max(row["ours_ms"], 0.1)
                figures[f"chars_{chars}"] = row
                print(
                    f"{chars:>8,} {row['ours_ms']:>9.1f} {row['all_shown_ms']:>13.1f} "
                    f"{row['before_ms']:>10.1f} {row['ratio']:>6.0f}x "
                    f"{row['ours_chars_in_dom']:>14,}"
                )
        finally:
            browser.close()
    return figures


if __name__ == "__main__":
    main(sys.argv[1:])
