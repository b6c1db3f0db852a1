"""The map in a real browser, on hand-made inputs whose answers are known (app_fixtures).

Mosul (36.34 N, 43.13 E) is held by the Islamic State until 2017-07-10, then by the Iraqi
government. The default view is the last date, 2017-11-15, with a 30-day window: five
events (IRQ3, IRQ4, IRQ5, SYR2, IRQ6), two control areas (Mosul, Raqqa).
"""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest
from browser_helpers import (
    controllers_at,
    map_frame,
    map_state,
    open_app,
    parse_runs,
    runs_text,
    wait_for_map,
    wait_idle,
)
from mapdate import (
    SLIDER_ON_MAP_DATE_JS,
    date_slider,
    expect_settled_on,
    expect_view_on,
    map_date,
    wait_for_map_date,
    wait_for_map_date_from,
)
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

MOSUL = (36.34, 43.13)
BAGHDAD_EVENT = (33.31, 44.36)  # IRQ6, alone on the map, source "Reuters"


def _slider(page):
    return page.locator('[data-testid="stSlider"] input[type="range"]').first


def _summary(page):
    return page.locator(".st-key-view-summary")


def test_map_shows_the_expected_points_and_polygons(page, tiny_server):
    frame, state = open_app(
        page, tiny_server, predicate_js="s => s.points === 5 && s.polygons === 2"
    )
    assert state["points"] == 5 and state["pointLayers"] == 1
    assert sorted(state["controllers"]) == ["Iraqi government", "Islamic State"]
    assert "Control of territory on 2017-11-15" in state["title"]
    expect(_summary(page)).to_contain_text("As of 2017-11-15: 2 control areas")
    assert controllers_at(frame, *MOSUL) == ["Iraqi government"]
    assert page.page_errors == []


def test_moving_the_slider_changes_areas_and_points_in_place(page, tiny_server):
    frame, _ = open_app(page, tiny_server, "date=2017-11-15&window=30")
    wait_for_map_date(frame, "2017-11-15")
    frame.evaluate("() => { window.__mountMark = 'still-here'; }")
    date_slider(page).focus()
    page.keyboard.press("Home")  # the first date: 2015-06-01
    # Waits on the date the map's layers are drawn for (data-cm-as-of), whatever runs the
    # page still has under way: the map must end on the slider's last value.
    expect_view_on(page, frame, "2015-06-01")
    state = map_state(frame)
    # 2015-05-03..2015-06-01: SYR1 only; Mosul and Raqqa both held by the Islamic State.
    assert state["points"] == 1
    assert controllers_at(frame, *MOSUL) == ["Islamic State"]
    assert "2015-06-01" in state["title"]
    expect(page).to_have_url(re.compile(r"date=2015-06-01"))
    # Same iframe, same map: the layers were swapped, the map was not remounted.
    assert frame.evaluate("() => window.__mountMark") == "still-here"
    page.keyboard.press("End")
    expect_view_on(page, frame, "2017-11-15")
    assert controllers_at(frame, *MOSUL) == ["Iraqi government"]
    assert map_state(frame)["points"] == 5
    expect(page).to_have_url(re.compile(r"date=2017-11-15"))
    assert frame.evaluate("() => window.__mountMark") == "still-here"


def test_step_buttons_rerun_only_the_view(page, tiny_server):
    frame, _ = open_app(page, tiny_server, "date=2017-11-15&window=30&step=week")
    expect(page).to_have_url(re.compile(r"lat=.*lon=.*zoom="))  # the map's one report
    wait_idle(page)
    before = parse_runs(runs_text(page))
    page.get_by_role("button", name="◀").click()
    frame.wait_for_function(
        "() => document.querySelector('.cm-title').innerText.includes('2017-11-08')"
    )
    expect(page.locator(".st-key-diagnostics")).not_to_have_text(re.compile(rf"view {before[1]}\b"))
    wait_idle(page)
    after = parse_runs(runs_text(page))
    assert after[0] == before[0], "a step must not rerun the whole page"
    # The view reran for the step; the map's own report of its centre may add one more
    # view run under load, which is a fragment run too, never a page run.
    assert before[1] + 1 <= after[1] <= before[1] + 2


def test_idle_page_does_not_rerun(page, tiny_server):
    open_app(page, tiny_server)
    # The map reports its centre once after mounting (one view rerun); wait for that.
    expect(page).to_have_url(re.compile(r"lat=.*lon=.*zoom="))
    wait_idle(page)
    text = runs_text(page)
    page_runs, view_runs = parse_runs(text)
    assert page_runs == 1 and view_runs <= 2, text
    # The condition "the run counter changed" must not come true while nobody touches it.
    with pytest.raises(PlaywrightTimeout):
        page.wait_for_function(
            "t => document.querySelector('.st-key-diagnostics').innerText !== t",
            arg=text,
            timeout=6000,
        )
    assert runs_text(page) == text


def test_popup_shows_date_type_and_source(page, tiny_server):
    frame, _ = open_app(page, tiny_server, "date=2017-11-15&window=30&basemap=none")
    point = frame.evaluate(
        "([lat, lon]) => { const p = window.map.latLngToContainerPoint([lat, lon]);"
        " return {x: p.x, y: p.y}; }",
        list(BAGHDAD_EVENT),
    )
    frame.locator("#map_div").click(position=point)
    popup = frame.locator(".cm-popup")
    expect(popup).to_be_visible()
    expect(popup).to_contain_text("Source")
    expect(popup).to_contain_text("Reuters")
    expect(popup).to_contain_text("2017-11-15")
    expect(popup).to_contain_text("Battles")
    expect(popup).to_contain_text("Outside every area")


def test_permalink_reproduces_the_view(page, browser, tiny_server):
    open_app(
        page,
        tiny_server,
        "date=2015-06-15&window=90&basemap=none&min_fatalities=1"
        "&type=Battles&layers=areas,events&lat=35.5&lon=41.0&zoom=7",
    )
    expect(page).to_have_url(re.compile(r"lat=35\.5"))
    wait_idle(page)
    url = page.url
    frame = map_frame(page)
    first = map_state(frame)
    summary = _summary(page).inner_text()
    view = frame.evaluate(
        "() => [window.map.getCenter().lat, window.map.getCenter().lng, window.map.getZoom()]"
    )
    assert first["points"] == 2  # IRQ1 (5 killed), SYR1 (12): battles with >= 1 killed

    other = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
    try:
        other.goto(url)
        frame2, second = wait_for_map(other, "s => s.points === 2 && s.polygons === 2")
        assert second["title"] == first["title"]
        assert sorted(second["controllers"]) == sorted(first["controllers"])
        expect(_summary(other)).to_have_text(summary)
        view2 = frame2.evaluate(
            "() => [window.map.getCenter().lat, window.map.getCenter().lng, window.map.getZoom()]"
        )
        assert view2[2] == view[2] == 7
        assert abs(view2[0] - view[0]) < 1e-3 and abs(view2[1] - view[1]) < 1e-3
        # The widgets show the same state.
        expect(other.locator('[data-testid="stSlider"]').first).to_contain_text("2015-06-15")
        expect(other.get_by_role("combobox", name="Event window")).to_have_value("Last 90 days")
        expect(other.get_by_role("radio", name="No tiles (offline)")).to_be_checked()
        assert other.url == url
    finally:
        other.context.close()


def test_bad_url_values_show_a_notice_and_no_link(page, tiny_server):
    open_app(page, tiny_server, "date=2099-13-45&window=-3&basemap=%5Bx%5D(http://evil.example)")
    alerts = page.locator('[data-testid="stAlert"]')
    expect(alerts.first).to_be_visible()
    assert alerts.count() == 3
    assert page.locator('[data-testid="stAlert"] a').count() == 0
    assert page.locator('[data-testid="stAlert"] img').count() == 0
    expect(alerts.nth(2)).to_contain_text("[x](http://evil.example)")
    expect(page).to_have_url(re.compile(r"basemap=osm"))


def test_play_animates_and_pause_stops(page, tiny_server):
    frame, _ = open_app(page, tiny_server, "date=2017-10-01&window=30&step=day")
    wait_for_map_date(frame, "2017-10-01")
    page.get_by_role("button", name="Play").click()
    # Play moves one step (a day) per tick: two ticks on, the map is drawn for 2017-10-03.
    wait_for_map_date_from(frame, "2017-10-03")
    before = map_date(frame)
    page.get_by_role("button", name="Pause").click()
    after = map_date(frame)
    expect(page.get_by_role("button", name="Play")).to_be_visible()
    # Paused at the date the map showed at the click: the map only moves forward while
    # playing, so that date lies between the two reads around the click.
    page.wait_for_function(SLIDER_ON_MAP_DATE_JS)
    stopped = map_date(frame)
    assert before is not None and after is not None and stopped is not None
    assert "2017-10-03" <= before <= stopped <= after, (before, stopped, after)
    # Paused: the slider, the map and the URL stay on that date once everything is answered.
    expect_settled_on(page, frame, stopped)
    expect(frame.locator(".cm-title")).to_contain_text(f"on {stopped}")


def test_filter_counts_follow_the_slider(page, tiny_server):
    open_app(page, tiny_server, "date=2017-11-15&window=30&type=Battles")
    sidebar = page.locator('[data-testid="stSidebar"]')
    # Window 2017-10-17..2017-11-15 holds 5 events; 3 are not battles.
    expect(sidebar).to_contain_text("Hides 3 of 5 events in the window")
    expect(sidebar).to_contain_text("2 of 5 events in the window pass the filters")
    wait_idle(page)
    _slider(page).focus()
    page.keyboard.press("Home")  # 2015-06-01: only SYR1, a battle
    expect(sidebar).to_contain_text("No filter hides any of the 1 event in the window")
    expect(sidebar).not_to_contain_text("Hides 3 of 5")


def test_moving_the_map_while_playing_takes_no_extra_step(page, tiny_server):
    """Play steps on its timer only: a pan (the map reports its new extent, which runs the
    page) is not a step. On a loaded machine ticks come late, never early, so the number of
    steps stays within the ticks the elapsed time allows whatever the load."""
    frame, _ = open_app(page, tiny_server, "date=2017-01-01&window=30&step=day")
    wait_for_map_date(frame, "2017-01-01")
    speed = page.get_by_label("Play speed")
    speed.click()
    page.get_by_role("option", name="2 s per step").click()
    expect(speed).to_have_value("2 s per step")
    wait_idle(page)
    started = time.monotonic()
    page.get_by_role("button", name="Play").click()
    wait_for_map_date_from(frame, "2017-01-02")  # playing
    # At least 6 s and 3 pans, however slowly a loaded machine answers them.
    pans, panning = 0, time.monotonic()
    while time.monotonic() - panning < 6.0 or pans < 3:
        frame.evaluate("(k) => window.map.panBy([k % 2 ? 60 : -60, 0], {animate: false})", pans)
        pans += 1
        page.wait_for_timeout(250)
    page.get_by_role("button", name="Pause").click()
    elapsed = time.monotonic() - started
    expect(page.get_by_role("button", name="Play")).to_be_visible()
    page.wait_for_function(SLIDER_ON_MAP_DATE_JS)
    stopped = map_date(frame)
    assert stopped is not None
    steps = (dt.date.fromisoformat(stopped) - dt.date(2017, 1, 1)).days
    # one step when Play starts, then one per 2 s tick at most
    allowed = 1 + int(elapsed // 2.0) + 1
    assert 1 <= steps <= allowed, (steps, allowed, elapsed, pans)
