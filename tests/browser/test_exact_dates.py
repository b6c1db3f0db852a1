"""Exact dates: a date typed beside the slider, or a bar of the timeline clicked, moves the
view there (the map is drawn for that date); a date that cannot be shown is said.

Waits are on the map's own record of the date it is drawn for (``data-cm-as-of``).
"""

from __future__ import annotations

import datetime as dt
import io
import re

import numpy as np
import pytest
from browser_helpers import open_app, wait_idle
from mapdate import expect_view_on, slider_date
from PIL import Image
from playwright.sync_api import expect

from dashboard import style

pytestmark = pytest.mark.browser


def test_a_date_typed_beside_the_slider_moves_the_view_there(page, bundled_server):
    frame, _ = open_app(page, bundled_server, "date=2016-01-15&window=30&basemap=none")
    wait_idle(page)
    field = page.get_by_role("textbox", name="Go to date")
    field.fill("2017-11-09")
    field.press("Enter")
    expect_view_on(page, frame, "2017-11-09")
    expect(field).to_have_value("")
    # The permalink follows.
    expect(page).to_have_url(re.compile(r"date=2017-11-09"))


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("9/11/2017", "“9/11/2017” is not a date written YYYY-MM-DD"),
        ("2030-01-01", "2030-01-01 is outside the data's dates"),
    ],
)
def test_a_date_that_cannot_be_shown_is_said_and_the_view_stays(page, bundled_server, typed, said):
    open_app(page, bundled_server, "date=2016-01-15&window=30&basemap=none")
    wait_idle(page)
    field = page.get_by_role("textbox", name="Go to date")
    field.fill(typed)
    field.press("Enter")
    expect(page.get_by_text(said)).to_be_visible()
    assert slider_date(page) == "2016-01-15"


def test_a_click_on_a_timeline_bar_moves_the_date_to_that_week(page, bundled_server):
    frame, _ = open_app(page, bundled_server, "date=2016-01-15&window=30&basemap=none")
    wait_idle(page)
    chart = page.locator("[data-testid='stVegaLiteChart']").first
    chart.scroll_into_view_if_needed()
    expect(chart.locator("canvas, svg").first).to_be_visible()
    # Find a bar by its colour (Battles, the commonest type) in a picture of the chart.
    image = np.asarray(Image.open(io.BytesIO(chart.screenshot())).convert("RGB")).astype(int)
    rgb = np.array([int(style.EVENT_TYPE_COLOURS["Battles"][i : i + 2], 16) for i in (1, 3, 5)])
    ys, xs = np.nonzero(np.abs(image - rgb).max(axis=2) <= 12)
    # Bars stand on the axis, in the lower part; the legend's swatch is high on the right.
    low = ys > image.shape[0] * 0.55
    ys, xs = ys[low], xs[low]
    assert len(xs), "no Battles bar found in the timeline"
    # The rightmost bar: far from the current date (January 2016).
    x = int(xs.max()) - 1
    y = int(ys[xs == xs.max()].mean())
    chart.click(position={"x": x, "y": y})
    page.wait_for_function(
        "() => { const s = document.querySelector('[data-testid=\"stSlider\"] input');"
        " return s && s.getAttribute('aria-valuetext') !== '2016-01-15'; }"
    )
    day = slider_date(page)
    assert day is not None and day > "2017-01-01", day
    # A week's bar starts on a Monday: the view moves to its Sunday (or the data's last day).
    assert dt.date.fromisoformat(day).weekday() == 6 or day == "2019-10-08", day
    expect_view_on(page, frame, day)
