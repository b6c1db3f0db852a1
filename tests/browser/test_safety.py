"""Hostile text in the data stays text, and the page needs nothing from the internet."""

from __future__ import annotations

import csv
import json
import re
from urllib.parse import urlparse

import pytest
from app_fixtures import EVENTS_HEADER, areas_doc
from browser_helpers import map_state, open_app, run_server, wait_idle
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PAYLOADS = [
    '<img src=x onerror="window.__xss=1">',
    '"><svg onload="window.__xss=2">',
    "${window.__xss=3}",
    "`;window.__xss=4;`",
    "</script><script>window.__xss=5</script>",
    "C:\\users\\x \\ backslash",
    "{{ 7*7 }} {% raw %}",
    "' onmouseover='window.__xss=6",
    "[link](http://evil.example) ![i](http://evil.example/p.png)",
    "<b onclick=alert(7)>bold</b>\u2028line",
]
FIELDS = ("actor1", "actor2", "admin2", "location", "source", "notes")


@pytest.fixture(scope="module")
def xss_server(tmp_path_factory, artifacts):
    folder = tmp_path_factory.mktemp("xss")
    events = folder / "hostile events.csv"
    with events.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=EVENTS_HEADER.split(","))
        writer.writeheader()
        for i, payload in enumerate(PAYLOADS):
            row = {
                "event_id": f"X{i}",
                "event_date": f"2017-11-{10 + i % 6:02d}",
                "event_type": "Battles",
                "sub_event_type": "Armed clash",
                "country": "Iraq",
                "admin1": "Ninewa",
                "latitude": f"{35.2 + 0.3 * i:.4f}",
                "longitude": f"{41.0 + 0.4 * i:.4f}",
                "geo_precision": "1",
                "time_precision": "1",
                "fatalities": str(i),
            }
            row.update({field: payload for field in FIELDS})
            writer.writerow(row)
    doc = areas_doc({"mosul-is": PAYLOADS[0], "mosul-gov": PAYLOADS[2], "raqqa-is": PAYLOADS[4]})
    doc["features"][1]["properties"]["area_id"] = PAYLOADS[1]
    areas = folder / "areas.geojson"
    areas.write_text(json.dumps(doc), encoding="utf-8")
    env = {"CONFLICTMAP_EVENTS": str(events), "CONFLICTMAP_AREAS": str(areas)}
    with run_server(env, artifacts / "server-xss.log") as server:
        yield server


INJECTED_JS = """
() => {
  const attrs = ['onerror', 'onload', 'onmouseover', 'onclick'];
  const hits = [];
  for (const el of document.querySelectorAll('*')) {
    for (const a of attrs) { if (el.hasAttribute(a)) hits.push(el.tagName + '[' + a + ']'); }
  }
  for (const a of document.querySelectorAll('a[href*="evil.example"], img[src*="evil.example"]')) {
    hits.push(a.tagName + ' to evil.example');
  }
  return {xss: window.__xss === undefined ? null : window.__xss, hits: hits};
}
"""


def test_payloads_stay_inert_and_every_row_renders(page, xss_server, artifacts):
    frame, state = open_app(
        page,
        xss_server,
        "date=2017-11-15&window=30&basemap=none",
        predicate_js=f"s => s.points === {len(PAYLOADS)} && s.polygons === 2",
    )
    wait_idle(page)
    # Every row is drawn, whatever its text.
    assert state["points"] == len(PAYLOADS)
    # Area names with markup are in the legend as text.
    legend = frame.locator(".cm-legend")
    expect(legend).to_contain_text("${window.__xss=3}")
    expect(legend).to_contain_text("</script><script>window.__xss=5</script>")
    # Open a popup for each event and read its text back.
    for i, payload in enumerate(PAYLOADS):
        lat, lon = 35.2 + 0.3 * i, 41.0 + 0.4 * i
        point = frame.evaluate(
            "([lat, lon]) => { window.map.closePopup(); window.map.setView([lat, lon], 9, {animate: false});"
            " const p = window.map.latLngToContainerPoint([lat, lon]); return {x: p.x, y: p.y}; }",
            [lat, lon],
        )
        expect(frame.locator(".cm-popup")).to_have_count(0)  # the last one has faded out
        frame.locator("#map_div").click(position=point)
        popup = frame.locator(".cm-popup")
        expect(popup).to_have_count(1)
        text = popup.inner_text()
        shown = " ".join(payload.replace("\u2028", " ").split())
        assert shown.split(" ")[0] in text, (payload, text)
        assert f"X{i}" in text
    page.screenshot(path=str(artifacts / "xss-view.png"))
    for where in (page, frame):
        result = where.evaluate(INJECTED_JS)
        assert result == {"xss": None, "hits": []}, result
    # The event table holds every row (st.dataframe draws on a canvas: no HTML at all).
    expect(page.get_by_text(f"Events in the window ({len(PAYLOADS)})")).to_be_visible()
    assert page.page_errors == []


def test_filter_options_with_markup_are_plain_text(page, xss_server):
    open_app(page, xss_server, "date=2017-11-15&window=30&basemap=none")
    wait_idle(page)
    page.get_by_role("combobox", name="Actor").click()
    option = page.get_by_role("option", name=re.compile(re.escape("<img src=x")))
    expect(option.first).to_be_visible()
    assert page.evaluate(INJECTED_JS) == {"xss": None, "hits": []}


def test_page_renders_with_every_non_local_request_blocked(page, tiny_server, artifacts):
    blocked: list[str] = []

    def gate(route):
        host = urlparse(route.request.url).hostname or ""
        if host in ("127.0.0.1", "localhost") or route.request.url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.context.route("**/*", gate)
    frame, _ = open_app(
        page,
        tiny_server,
        "date=2017-11-15&window=30",
        predicate_js="s => s.points === 5 && s.polygons === 2",
    )
    wait_idle(page)
    expect(frame.locator(".cm-legend")).to_be_visible()
    expect(frame.locator(".cm-title")).to_contain_text("2017-11-15")
    expect(page.locator('[data-testid="stVegaLiteChart"]').first).to_be_visible()
    page.screenshot(path=str(artifacts / "offline-osm-blocked.png"))
    # The only thing the page asked the internet for is map tiles (the OSM basemap).
    others = [u for u in blocked if "tile.openstreetmap.org" not in u]
    assert others == [], others
    assert page.page_errors == []
    # And with the no-tiles basemap it asks for nothing at all.
    blocked.clear()
    frame, _ = open_app(
        page,
        tiny_server,
        "date=2017-11-15&window=30&basemap=none",
        predicate_js="s => s.points === 5 && s.polygons === 2",
    )
    wait_idle(page)
    assert blocked == []
    assert map_state(frame)["polygons"] == 2


# --- very long text -----------------------------------------------------------------------

LONG = 100_000


@pytest.fixture(scope="module")
def long_text_server(tmp_path_factory, artifacts):
    """One event whose actor and notes are 100,000 characters without a space."""
    folder = tmp_path_factory.mktemp("long")
    events = folder / "long events.csv"
    with events.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=EVENTS_HEADER.split(","))
        writer.writeheader()
        writer.writerow(
            {
                "event_id": "LONG1",
                "event_date": "2017-11-10",
                "event_type": "Battles",
                "sub_event_type": "Armed clash",
                "actor1": "A" * LONG,
                "actor2": "Islamic State",
                "country": "Iraq",
                "admin1": "Ninewa",
                "location": "Mosul",
                "latitude": "36.0",
                "longitude": "42.0",
                "geo_precision": "1",
                "time_precision": "1",
                "fatalities": "500",  # a big circle: easy to click
                "source": "Reuters",
                "notes": "n" * LONG,
            }
        )
    areas = folder / "areas.geojson"
    areas.write_text(json.dumps(areas_doc()), encoding="utf-8")
    env = {"CONFLICTMAP_EVENTS": str(events), "CONFLICTMAP_AREAS": str(areas)}
    with run_server(env, artifacts / "server-long-text.log") as server:
        yield server


def test_popup_of_100k_character_text_opens_and_reveals_it_on_demand(page, long_text_server):
    """The popup shows the start of each long value and a "Show more" button (laying out
    100,000 unbreakable characters froze the tab for half a minute); each click shows four
    times as much, and the whole note can be read."""
    frame, _ = open_app(
        page,
        long_text_server,
        # The point sits low in the view, so the popup (and each "Show more") fits without the
        # map panning: a pan moves the buttons under the pointer and reruns the page.
        "date=2017-11-10&window=30&basemap=none&lat=36.42&lon=42&zoom=9",
        predicate_js="s => s.points === 1",
    )
    wait_idle(page)
    point = frame.evaluate(
        "() => { const p = window.map.latLngToContainerPoint([36, 42]); return {x: p.x, y: p.y}; }"
    )
    frame.locator("#map_div").click(position=point)
    popup = frame.locator(".cm-popup")
    expect(popup).to_be_visible()
    center_js = "() => [window.map.getCenter().lat, window.map.getCenter().lng]"
    center = frame.evaluate(center_js)
    assert center == pytest.approx([36.42, 42], abs=0.01)  # opening it did not pan
    assert popup.evaluate("p => p.textContent.length") < 3000  # not 200,000
    expect(popup.locator(".cm-more-button")).to_have_count(2)  # the actors and the notes
    # The popup scrolls within its own height.
    assert popup.evaluate(
        "p => getComputedStyle(p).overflowY === 'auto' && p.scrollHeight > p.clientHeight"
    )
    notes = popup.locator("tr", has_text="Notes").locator("td")
    shown_js = "td => td.querySelector('.cm-text').textContent.length"
    assert notes.evaluate(shown_js) == 600
    for expected in (2_400, 9_600, 38_400):
        notes.locator(".cm-more-button").click()
        notes.locator(".cm-text").evaluate("t => t.offsetHeight")  # lays it out
        assert notes.evaluate(shown_js) == expected
    assert frame.evaluate(center_js) == center  # the map never moved under the clicks
    notes.locator(".cm-more-button").click()
    expect(notes.locator(".cm-more-button")).to_have_count(0)
    assert notes.evaluate(f"td => td.textContent === 'n'.repeat({LONG})")
    # The page still answers, and nothing in it broke.
    assert frame.evaluate("() => document.querySelectorAll('.cm-popup').length") == 1
    assert page.page_errors == []
