"""Town labels on the map without tiles, on the app's opening view: the towns the bundled
story turns on are named, and no label covers another label or a town's dot.

Abu Kamal, Baghuz and Al-Qaim lie within 7 km of one another: at the opening zoom their
dots are a few pixels apart, so their names must go on different sides.
"""

from __future__ import annotations

import pandas as pd
import pytest
from browser_helpers import LABELS_SETTLED_JS, open_app, wait_idle

from dashboard import paths

pytestmark = pytest.mark.browser

#: JS: every label on the map: its name, whether its text shows, the text's box and the
#: town dot's box (container pixels).
LABELS_JS = """
() => {
  const origin = window.map.getContainer().getBoundingClientRect();
  const box = (el) => { const r = el.getBoundingClientRect();
    return [r.left - origin.left, r.top - origin.top, r.right - origin.left, r.bottom - origin.top]; };
  const inView = (b) => b && b[2] > 0 && b[3] > 0 && b[0] < origin.width && b[1] < origin.height;
  return Array.from(document.querySelectorAll('.cm-label')).map(l => {
    const text = l.querySelector('.cm-label-text');
    const dot = l.querySelector('.cm-town-dot');
    const shown = l.getAttribute('data-side') !== 'none';
    const textBox = shown ? box(text) : null;
    return {name: l.querySelector('.cm-label-name').textContent, shown: shown,
            country: l.classList.contains('cm-label-country'), onScreen: inView(textBox),
            text: textBox, dot: dot ? box(dot) : null};
  });
}
"""


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("zoom", [None, 6, 7, 8])
def test_the_story_towns_are_named_and_no_label_covers_another(
    page, bundled_server, artifacts, zoom
):
    query = "date=2017-11-09&basemap=none" + (f"&zoom={zoom}" if zoom else "")
    frame, _ = open_app(page, bundled_server, query, predicate_js="s => s.polygons > 0")
    wait_idle(page)
    frame.wait_for_function("() => document.querySelectorAll('.cm-label').length > 10")
    frame.wait_for_function(LABELS_SETTLED_JS, polling=100)
    labels = frame.evaluate(LABELS_JS)
    towns = pd.read_csv(paths.BUNDLED_TOWNS)
    key = set(towns.loc[towns["role"] == "key", "name"])
    assert len(key) == 8
    shown = {lab["name"] for lab in labels if lab["shown"]}
    assert key <= shown, f"not named: {sorted(key - shown)}"
    # What a reader sees: labels off the map's edge (Abu Kamal's at zoom 8 from the default
    # centre) are laid out again when the map moves there.
    texts = [lab for lab in labels if lab["shown"] and lab["onScreen"]]
    for i, a in enumerate(texts):
        for b in texts[i + 1 :]:
            assert not _overlap(a["text"], b["text"]), (a["name"], b["name"])
        for other in labels:
            if other["dot"] is not None and other is not a:
                assert not _overlap(a["text"], other["dot"]), (a["name"], "dot of", other["name"])
    if zoom is None:
        page.screenshot(path=str(artifacts / "labels-default.png"))
