"""The README's picture of the dashboard is made here, from the running app, so it shows
the page as it is: the opening view of 9 November 2017 without tiles, with the control
history of Abu Kamal opened by the place search.

The picture in the repository is replaced only when the new one differs visibly (more
than 1% of its pixels), so a run that changes nothing leaves the file alone.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from browser_helpers import LABELS_SETTLED_JS, map_frame, open_app, wait_idle
from PIL import Image
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PICTURE = Path(__file__).resolve().parents[2] / "docs" / "dashboard.png"
README = Path(__file__).resolve().parents[2] / "README.md"


def _differs(new: bytes, old_path: Path) -> bool:
    if not old_path.is_file():
        return True
    a = np.asarray(Image.open(io.BytesIO(new)).convert("RGB")).astype(int)
    b = np.asarray(Image.open(old_path).convert("RGB")).astype(int)
    if a.shape != b.shape:
        return True
    return float((np.abs(a - b).max(axis=2) > 24).mean()) > 0.01


def test_the_readme_picture_is_the_page_as_it_is(page, bundled_server, artifacts):
    page.set_viewport_size({"width": 1600, "height": 1000})
    open_app(page, bundled_server, "date=2017-11-09&window=30&basemap=none")
    wait_idle(page)
    box = page.get_by_role("textbox", name="Find a place")
    box.fill("Abu Kamal")
    box.press("Enter")
    panel = page.locator(".st-key-control-history")
    expect(panel).to_contain_text("Syrian government")
    wait_idle(page)
    # The map has flown to the place and settled (a picture taken during the flight shows
    # the last zoom's shapes scaled up and blurred).
    frame = map_frame(page)
    frame.wait_for_function(
        "() => window.map.getZoom() === 10 && !window.map._animatingZoom"
        " && !window.map._panAnim?._inProgress"
        " && document.querySelectorAll('.cm-label').length > 0"
    )
    frame.wait_for_function(LABELS_SETTLED_JS, polling=100)
    shot = page.screenshot()
    (artifacts / "readme-dashboard.png").write_bytes(shot)
    if _differs(shot, PICTURE):
        PICTURE.parent.mkdir(exist_ok=True)
        PICTURE.write_bytes(shot)
    assert PICTURE.is_file()
    assert "docs/dashboard.png" in README.read_text(encoding="utf-8")
