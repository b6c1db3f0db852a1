"""Benchmark: the analyst's page in headless Chromium, on the bundled data.

Run::

    .venv/bin/python benchmarks/bench_page.py [--repeat 5]

Each figure is the median of ``--repeat`` tries, in seconds, from the user's action to
what the user waits for:

- click -> popup: a click on the three Abu Kamal events of November 2017 until the list
  popup shows;
- place search -> map moved: "Abu Kamal" typed in *Find a place* and Enter, until the map
  is centred there at zoom 10 (its control history opens in the same run);
- date typed -> map repainted: a date typed in *Go to date* and Enter, until the map is
  drawn for it (``data-cm-as-of``);
- export click -> file: *Make PNG* until *Download PNG* is offered (the file exists);
- change map export -> file: the same under compare mode's change map (May to November
  2017, the Islamic State's losses across both countries);
- upload of 1,000 rows -> map: a CSV of 1,000 place names with no coordinates and no
  country column chosen in the uploader, until the map shows the new events.

Baseline, measured in the same run: one step of the slider (▶, until the map is drawn
for the next date), the page's ordinary round trip. Each figure is also given as a ratio
to it. The machine is shared and noisy: compare ratios.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from bench_slider import CHROMIUM, CHROMIUM_ARGS, _idle, _open, _server

from dashboard import paths

DATE_JS = "() => window.map && window.map.getContainer().getAttribute('data-cm-as-of')"
TIMEOUT_MS = 120_000


def _seconds(action, wait) -> float:
    t0 = time.perf_counter()
    action()
    wait()
    return time.perf_counter() - t0


def _town(name: str) -> tuple[float, float]:
    towns = pd.read_csv(paths.BUNDLED_TOWNS).set_index("name")
    return float(towns.at[name, "latitude"]), float(towns.at[name, "longitude"])


def _step(page, frame) -> float:
    before = frame.evaluate(DATE_JS)
    return _seconds(
        lambda: page.get_by_role("button", name="▶").click(),
        lambda: frame.wait_for_function(
            f"d => ({DATE_JS})() && ({DATE_JS})() !== d", arg=before, timeout=TIMEOUT_MS
        ),
    )


def _popup(page, frame) -> float:
    lat, lon = _town("Abu Kamal")
    frame.evaluate(f"() => window.map.setView([{lat}, {lon}], 9, {{animate: false}})")
    frame.wait_for_function("() => window.map.getZoom() === 9")
    _idle(page)
    point = frame.evaluate(
        f"() => {{ const p = window.map.latLngToContainerPoint([{lat}, {lon}]);"
        " return {x: p.x, y: p.y}; }"
    )
    took = _seconds(
        lambda: frame.locator("#map_div").click(position=point),
        lambda: frame.wait_for_selector(".cm-popup", timeout=TIMEOUT_MS),
    )
    frame.locator(".leaflet-popup-close-button").click()
    return took


def _search(page, frame) -> float:
    lat, lon = _town("Abu Kamal")
    box = page.get_by_role("textbox", name="Find a place")
    box.fill("")
    box.press("Enter")
    _idle(page)
    frame.evaluate("() => window.map.setView([35, 40], 6, {animate: false})")
    box.fill("Abu Kamal")
    return _seconds(
        lambda: box.press("Enter"),
        lambda: frame.wait_for_function(
            "([lat, lon]) => { const c = window.map.getCenter(); return window.map.getZoom()"
            " === 10 && Math.abs(c.lat - lat) < 0.05 && Math.abs(c.lng - lon) < 0.05; }",
            arg=[lat, lon],
            timeout=TIMEOUT_MS,
        ),
    )


def _typed(page, frame, day: str) -> float:
    field = page.get_by_role("textbox", name="Go to date")
    field.fill(day)
    return _seconds(
        lambda: field.press("Enter"),
        lambda: frame.wait_for_function(f"d => ({DATE_JS})() === d", arg=day, timeout=TIMEOUT_MS),
    )


def _export(page) -> float:
    _idle(page)
    took = _seconds(
        lambda: page.get_by_role("button", name="Make PNG").click(),
        lambda: page.get_by_role("button", name="Download PNG").wait_for(timeout=TIMEOUT_MS),
    )
    return took


def _change_export(browser, url: str) -> float:
    page, _, _ = _open(browser, url, "mode=compare&from=2017-05-01&to=2017-11-30&basemap=none")
    took = _export(page)
    page.close()
    return took


def _upload_csv(folder: Path) -> Path:
    towns = ["Mosul", "Tikrit", "Ramadi", "Fallujah", "Kirkuk", "Raqqa", "Manbij", "Palmyra"]
    rows = [
        f"U{i},2017-11-{1 + i % 9:02d},Battles,{towns[i % len(towns)]},{i % 4}" for i in range(1000)
    ]
    path = folder / "places.csv"
    path.write_text(
        "event_id,event_date,event_type,location,fatalities\n" + "\n".join(rows) + "\n",
        encoding="utf-8",
    )
    return path


def _upload(page, frame, csv_path: Path) -> float:
    page.get_by_text("Data", exact=True).first.click()
    chooser = page.locator("[data-testid='stFileUploaderDropzoneInput']").first
    return _seconds(
        lambda: chooser.set_input_files(str(csv_path)),
        lambda: frame.wait_for_function(
            "() => (window.L.ConflictMap.layers || []).some(l => l._map && l.stats.n >= 100)",
            timeout=TIMEOUT_MS,
        ),
    )


def run(repeat: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    figures: dict[str, list[float]] = {
        k: [] for k in ("step", "popup", "search", "typed", "export", "change", "upload")
    }
    with tempfile.TemporaryDirectory() as tmp, _server(None, []) as url:
        csv_path = _upload_csv(Path(tmp))
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            for k in range(repeat):
                page, frame, _ = _open(browser, url, "date=2017-11-19&window=30&basemap=none")
                figures["step"].append(_step(page, frame))
                figures["popup"].append(_popup(page, frame))
                figures["search"].append(_search(page, frame))
                day = f"2017-10-{10 + k:02d}"
                figures["typed"].append(_typed(page, frame, day))
                figures["export"].append(_export(page))
                figures["upload"].append(_upload(page, frame, csv_path))
                page.close()
                figures["change"].append(_change_export(browser, url))
            browser.close()
    median = {k: statistics.median(v) for k, v in figures.items()}
    out: dict[str, Any] = {"repeat": repeat, "baseline: slider step (s)": median["step"]}
    names = {
        "popup": "click -> popup",
        "search": "place search -> map moved",
        "typed": "date typed -> map repainted",
        "export": "export click -> PNG offered",
        "change": "change map export -> PNG offered",
        "upload": "upload 1,000 rows -> map",
    }
    for key, label in names.items():
        out[f"{label} (s)"] = median[key]
        out[f"{label} / slider step"] = median[key] / median["step"]
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    figures = run(args.repeat)
    for key, value in figures.items():
        print(f"{key:45} {value:.3g}" if isinstance(value, float) else f"{key:45} {value}")
    return figures


if __name__ == "__main__":
    main()
