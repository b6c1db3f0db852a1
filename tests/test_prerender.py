"""Map layers rendered once and shared (``app/prerender.py``) reach the browser exactly as
streamlit-folium would have written them: the same script, the same name in the layer
control, the same linked scripts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import folium
import pandas as pd
from streamlit_folium import _get_feature_group_string, _get_layer_control_string

from dashboard import layers
from dashboard.app.prerender import PrerenderedGroup, prerendered, render_group
from dashboard.app.viewcache import shared_cache
from dashboard.areas import areas_at, read_control_areas

ROOT = Path(__file__).resolve().parents[1]


def _groups() -> list[folium.FeatureGroup]:
    areas = areas_at(
        read_control_areas(ROOT / "geodata" / "control_areas.geojson").areas, dt.date(2017, 11, 15)
    )
    events = pd.read_csv(ROOT / "events.csv").head(20)
    area_group = layers.control_areas_layer(areas, simplify=0.01)
    events_group = folium.FeatureGroup(name="Events")
    layers.events_layer(events, event_types=["Battles"]).add_to(events_group)
    return [area_group, events_group]


def _as_sent(groups: list[folium.FeatureGroup]) -> tuple[str, str, list, list]:
    """What streamlit-folium sends for ``groups``: their script, the layer control's, and
    the links it gathers from the map."""
    fmap = layers.build_map(center=(34, 40), zoom=6, basemap="none")
    script = "".join(_get_feature_group_string(g, fmap, i) for i, g in enumerate(groups))
    control = _get_layer_control_string(folium.LayerControl(collapsed=True), fmap)
    js, css = [], []
    stack = [fmap]
    while stack:
        element = stack.pop()
        js += [tuple(x) for x in getattr(element, "default_js", [])]
        css += [tuple(x) for x in getattr(element, "default_css", [])]
        stack.extend(element._children.values())
    return script, control, sorted(set(js)), sorted(set(css))


def test_a_prerendered_group_is_sent_as_the_group_itself():
    built = _as_sent(_groups())
    shared = _as_sent([PrerenderedGroup(render_group(g, i)) for i, g in enumerate(_groups())])
    assert shared[0] == built[0]
    assert shared[1] == built[1]
    assert "Control areas" in shared[1] and "Events" in shared[1]
    assert shared[2] == built[2] and shared[3] == built[3]
    assert any("conflictmap" in url for _, url in shared[2])


def test_a_view_is_rendered_once_and_a_view_without_a_key_every_time():
    made: list[int] = []

    def make() -> folium.FeatureGroup:
        made.append(1)
        return _groups()[1]

    key = ("test-view", dt.datetime.now().isoformat())  # new to this process's cache
    first = prerendered(key, 0, make)
    again = prerendered(key, 0, make)
    assert len(made) == 1
    assert isinstance(first, PrerenderedGroup) and first.script == again.script
    assert first is not again  # each run its own element, sharing only the text
    assert prerendered(key, 1, make) is not None and len(made) == 2  # another position
    assert not isinstance(prerendered(None, 0, make), PrerenderedGroup)
    assert len(made) == 3
    assert shared_cache().stats().entries >= 2
