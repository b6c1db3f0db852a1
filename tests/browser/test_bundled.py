"""The app on the bundled data: counts on the map match the data, Mosul changes hands, and
screenshots of three views are saved to test-artifacts/ for a person to look at."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest
from browser_helpers import controllers_at, map_state, open_app, wait_idle
from playwright.sync_api import expect

from dashboard import paths, schema
from dashboard.pipeline import build

pytestmark = pytest.mark.browser

MOSUL = (36.34, 43.13)
SHOT_VIEWPORT = {"width": 1600, "height": 1000}


@pytest.fixture(scope="module")
def bundled():
    """The bundled data built in the test process (the expected answers come from here)."""
    assert paths.BUNDLED_EVENTS.is_file(), "bundled events.csv is missing"
    return build(paths.BUNDLED_EVENTS, [paths.BUNDLED_AREAS])


def _expected(bundled, day: dt.date, window: int) -> tuple[int, int]:
    """Points (dated in the window, with coordinates) and areas valid on ``day``."""
    ev = bundled.events
    dates = pd.to_datetime(ev[schema.EVENT_DATE])
    start = pd.Timestamp(day - dt.timedelta(days=window - 1))
    in_window = (dates >= start) & (dates <= pd.Timestamp(day))
    placed = ev[schema.LATITUDE].notna() & ev[schema.LONGITUDE].notna()
    areas = bundled.areas
    vf = pd.to_datetime(areas[schema.VALID_FROM])
    vt = pd.to_datetime(areas[schema.VALID_TO])
    valid = (vf.isna() | (vf <= pd.Timestamp(day))) & (vt.isna() | (pd.Timestamp(day) < vt))
    drawable = areas.geometry.notna() & ~areas.geometry.is_empty
    return int((in_window & placed).sum()), int((valid & drawable).sum())


@pytest.mark.parametrize(("day", "window"), [("2015-06-15", 365), ("2017-11-15", 90)])
def test_map_counts_match_the_data(page, bundled_server, bundled, day, window):
    points, polygons = _expected(bundled, dt.date.fromisoformat(day), window)
    _, state = open_app(
        page,
        bundled_server,
        f"date={day}&window={window}&basemap=none&points=points",
        predicate_js=f"s => s.title && s.title.includes('{day}') && s.points === {points}"
        f" && s.polygons === {polygons}",
    )
    assert state["points"] == points and state["polygons"] == polygons
    assert points > 0 and polygons > 0
    expect(page.locator(".st-key-view-summary")).to_contain_text(f"As of {day}")


def test_mosul_changes_hands_when_the_slider_moves(page, bundled_server):
    frame, _ = open_app(
        page,
        bundled_server,
        "date=2015-06-15&window=30&basemap=none",
        predicate_js="s => s.polygons > 0",
    )
    wait_idle(page)
    assert controllers_at(frame, *MOSUL) == ["Islamic State"]
    before = map_state(frame)
    slider = page.locator('[data-testid="stSlider"] input[type="range"]').first
    box = slider.locator("xpath=../../..").bounding_box()  # the slider's track
    first = dt.date.fromisoformat(slider.get_attribute("aria-valuetext") or "2015-06-15")
    lo = int(slider.get_attribute("min")) // 86_400_000_000
    hi = int(slider.get_attribute("max")) // 86_400_000_000
    target = (dt.date(2017, 11, 15) - dt.date(1970, 1, 1)).days
    assert lo < target < hi and first.isoformat() == "2015-06-15"
    x = box["x"] + box["width"] * (target - lo) / (hi - lo)
    page.mouse.click(x, box["y"] + box["height"] / 2)
    frame.wait_for_function(
        "() => /on 2017-1[01]-\\d\\d/.test(document.querySelector('.cm-title').innerText)"
    )
    wait_idle(page)
    assert controllers_at(frame, *MOSUL) == ["Iraqi government"]
    after = map_state(frame)
    assert after["controllers"] != before["controllers"]
    expect(page).to_have_url(re.compile(r"date=2017-1[01]-\d\d"))


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("default-view", ""),
        ("view-2015-06-15", "date=2015-06-15&window=30&basemap=none"),
        ("view-2017-11-15", "date=2017-11-15&window=30&basemap=none"),
    ],
)
def test_screenshots(browser, bundled_server, artifacts, name, query):
    page = browser.new_context(viewport=SHOT_VIEWPORT).new_page()
    try:
        frame, _ = open_app(page, bundled_server, query)
        wait_idle(page)
        frame.wait_for_function(
            "() => (window.L.ConflictMap.layers || []).every(l => l.stats.draws > 0)"
        )
        page.screenshot(path=str(artifacts / f"{name}.png"))
        page.locator('iframe[title="streamlit_folium.st_folium"]').screenshot(
            path=str(artifacts / f"{name}-map.png")
        )
    finally:
        page.context.close()


def test_idle_page_on_bundled_data_does_not_rerun(page, bundled_server):
    from browser_helpers import parse_runs, runs_text
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    open_app(page, bundled_server)
    expect(page).to_have_url(re.compile(r"lat=.*lon=.*zoom="))  # the map's one report
    wait_idle(page)
    text = runs_text(page)
    assert parse_runs(text)[0] == 1, text
    with pytest.raises(PlaywrightTimeout):
        page.wait_for_function(
            "t => document.querySelector('.st-key-diagnostics').innerText !== t",
            arg=text,
            timeout=6000,
        )
