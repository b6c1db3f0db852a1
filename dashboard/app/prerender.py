"""Map layers rendered to script once per view, and shared by every session showing it.

streamlit-folium turns each feature group it is given into script on every run: the layer
builders encode the events and outlines, Jinja renders them, and the variable names are
rewritten. For one view that work gives the same text every time (the layers' ids are fixed
by their content: ``layers.stabilise_ids``), so it is done once per process for each view
and position in the map's list of groups, kept in the shared view cache as text, and handed
to streamlit-folium as a group whose script is that text.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from textwrap import dedent
from typing import Any

import folium
from branca.element import Element
from folium.elements import JSCSSMixin
from jinja2 import Template
from streamlit_folium import generate_leaflet_string, get_full_id

from dashboard.app.viewcache import through_cache

#: A group's script, its script and style links, and (name, overlay, control, show).
Rendered = tuple[
    str, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...], tuple[str, bool, bool, bool]
]


class PrerenderedGroup(JSCSSMixin, folium.FeatureGroup):
    """A feature group whose script is already written (see the module's docstring).

    It has the name, place in the layer control and visibility of the group it was written
    from, links the scripts and styles its layers linked (streamlit-folium gathers them
    from the map's elements), and renders nothing more itself.
    """

    _template = Template("{% macro script(this, kwargs) %}{{ this.script }}{% endmacro %}")

    def __init__(self, rendered: Rendered) -> None:
        script, js, css, (name, overlay, control, show) = rendered
        super().__init__(name=name, overlay=overlay, control=control, show=show)
        self.script = script
        self.default_js = list(js)
        self.default_css = list(css)

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Nothing to render: the script is written."""


def _links(element: Element) -> Iterator[tuple[list[tuple[str, str]], list[tuple[str, str]]]]:
    if isinstance(element, JSCSSMixin):
        yield list(element.default_js), list(element.default_css)
    for child in element._children.values():
        yield from _links(child)


def render_group(group: folium.FeatureGroup, idx: int) -> Rendered:
    """The script streamlit-folium writes for ``group`` at position ``idx`` of the groups
    (without the lines that add it to the map, which it writes for every group), the
    scripts and styles it links, and its layer name, overlay, control and show flags."""
    identity = (str(group.layer_name), bool(group.overlay), bool(group.control), bool(group.show))
    host = folium.Map(tiles=None)  # the group needs a map; its name becomes "map_div"
    group._id = f"feature_group_{idx}"
    group.add_to(host)
    group.render()
    script = generate_leaflet_string(group, base_id=f"feature_group_{idx}")
    script = dedent(script.replace(get_full_id(host), "map_div"))
    js: dict[tuple[str, str], None] = {}
    css: dict[tuple[str, str], None] = {}
    for element_js, element_css in _links(group):
        js.update(dict.fromkeys((name, url) for name, url in element_js))
        css.update(dict.fromkeys((name, url) for name, url in element_css))
    return script, tuple(js), tuple(css), identity


def prerendered(
    key: Hashable | None, idx: int, make: Callable[[], folium.FeatureGroup]
) -> folium.FeatureGroup:
    """The group ``make()`` builds, as shared prerendered script when ``key`` names the
    view it shows (everything the group derives from, the data version first); without a
    key, the group itself."""
    if key is None:
        return make()
    return PrerenderedGroup(
        through_cache(("map-group", key, idx), lambda: render_group(make(), idx))
    )
