"""100,000 events on the canvas layer: all drawn, and one of them clicked open.

The page is built as the app builds its map (``build_map(basemap="none")`` + ``events_layer``)
from 99,999 synthetic events (``dashboard.synth``) plus one isolated event with a
distinctive id, served from 127.0.0.1 with the app's local assets; every request that
leaves 127.0.0.1 is aborted. Waits are on conditions in the page only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import pandas as pd
import pytest
from static_site import serve_static

from dashboard import assets, schema
from dashboard.layers import build_map, events_layer
from dashboard.synth import town_events

N_POINTS = 100_000
#: One event far from every synthetic one (they cluster around towns of Syria and Iraq),
#: so a click on it can only hit it.
LONE = {
    schema.EVENT_ID: "LONE-4242",
    schema.EVENT_DATE: pd.Timestamp("2016-05-17"),
    schema.TIME_PRECISION: 1,
    schema.EVENT_TYPE: "Violence against civilians",
    schema.LATITUDE: 30.2,
    schema.LONGITUDE: 39.6,
    schema.GEO_PRECISION: 1,
    schema.FATALITIES: 4.0,
}
CENTER, ZOOM = (33.3, 42.0), 6  # the whole of Syria and Iraq on a 1200 x 800 map
VIEWPORT = {"width": 1200, "height": 800}
WAIT_MS = 40_000


def _events() -> pd.DataFrame:
    """99,999 synthetic events with coordinates, then the lone one."""
    synthetic = town_events(115_000, seed=3)
    placed = synthetic[synthetic[schema.LATITUDE].notna()].iloc[: N_POINTS - 1]
    assert len(placed) == N_POINTS - 1
    events = pd.concat([placed, pd.DataFrame([LONE])], ignore_index=True)
    # the lone event is alone: nothing within a degree (about 45 px at zoom 6)
    others = events.iloc[:-1]
    gap = np.hypot(
        others[schema.LATITUDE] - LONE[schema.LATITUDE],
        others[schema.LONGITUDE] - LONE[schema.LONGITUDE],
    )
    assert gap.min() > 1.0
    return events


@pytest.mark.browser
def test_100k_points_are_drawn_and_one_opens_its_popup(
    chromium_browser: Any, tmp_path: Path
) -> None:
    events = _events()
    urls = assets.ensure_static_assets(tmp_path / "static", base_url="static/")
    layer = events_layer(events)
    assert (layer.n_points, layer.skipped) == (N_POINTS, 0)
    fmap = build_map(center=CENTER, zoom=ZOOM, basemap="none", assets=urls, layers=[layer])
    (tmp_path / "scale.html").write_text(fmap.get_root().render(), encoding="utf-8")

    left: list[str] = []
    errors: list[str] = []

    def route(r: Any) -> None:
        if urlparse(r.request.url).hostname == "127.0.0.1":
            r.continue_()
        else:
            left.append(r.request.url)
            r.abort()

    page = chromium_browser.new_page(viewport=VIEWPORT)
    page.set_default_timeout(WAIT_MS)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.route("**/*", route)
    try:
        with serve_static(tmp_path) as base:
            page.goto(f"{base}/scale.html")
            page.wait_for_function(
                "(n) => window.L && L.ConflictMap && L.ConflictMap.layers.length === 1"
                " && L.ConflictMap.layers[0].stats.drawn === n",
                arg=N_POINTS,
            )
            stats = page.evaluate("() => L.ConflictMap.layers[0].stats")
            assert stats["n"] == N_POINTS and stats["drawn"] == N_POINTS

            x, y = page.evaluate(
                f"""([lat, lon]) => {{
                    const m = {fmap.get_name()}, p = m.latLngToContainerPoint([lat, lon]);
                    const r = m.getContainer().getBoundingClientRect();
                    return [p.x + r.left, p.y + r.top];
                }}""",
                [LONE[schema.LATITUDE], LONE[schema.LONGITUDE]],
            )
            assert 0 < x < VIEWPORT["width"] and 0 < y < VIEWPORT["height"]
            page.mouse.click(x, y)
            page.wait_for_function(
                "(id) => { const p = document.querySelector('.cm-popup');"
                " return p !== null && p.innerText.includes(id); }",
                arg=LONE[schema.EVENT_ID],
            )
            text = page.inner_text(".cm-popup")
            assert page.inner_text(".cm-popup-title") == LONE[schema.EVENT_TYPE]
            assert "2016-05-17" in text
            assert LONE[schema.EVENT_ID] in text
            assert page.locator(".cm-popup").count() == 1
    finally:
        page.close()
    assert errors == [] and left == []
