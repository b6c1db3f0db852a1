"""Shared pieces of the layer builders: served assets, stable element ids, the JSON layer."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from typing import Any

from branca.element import Element, Figure
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Template

from dashboard import assets

#: Where the map page finds Leaflet, the plugins and the map's own scripts when nobody says
#: otherwise: the app's static folder as seen from streamlit-folium's iframe.
DEFAULT_ASSETS: Mapping[str, str] = assets.asset_urls(assets.COMPONENT_STATIC_URL)
_KIND = {a.name: a.kind for a in assets.ASSETS}
ALL_JS: tuple[str, ...] = tuple(a.name for a in assets.ASSETS if a.kind == "js")
ALL_CSS: tuple[str, ...] = tuple(a.name for a in assets.ASSETS if a.kind == "css")


def _root_assets(element: Element) -> Mapping[str, str]:
    """The asset URLs of the map an element belongs to (``build_map(assets=...)``)."""
    node: Element | None = element
    while node is not None:
        found = getattr(node, "_cm_assets", None)
        if found is not None:
            return found
        node = node._parent
    return DEFAULT_ASSETS


class AssetLinks(JSCSSMixin):
    """Links to the app's own copies of the scripts an element needs, never a CDN.

    ``default_js``/``default_css`` are computed when read (by folium at render time, by
    streamlit-folium when it collects the scripts to load), from the URLs given to the map
    the element was added to; an element not yet on such a map uses :data:`DEFAULT_ASSETS`.
    """

    _asset_js: tuple[str, ...] = ()
    _asset_css: tuple[str, ...] = ()

    @property
    def default_js(self) -> list[tuple[str, str]]:
        urls = _root_assets(self)
        return [(name, urls[name]) for name in self._asset_js]

    @default_js.setter
    def default_js(self, value: Any) -> None:
        raise AttributeError("asset links come from build_map(assets=...), not default_js")

    @property
    def default_css(self) -> list[tuple[str, str]]:
        urls = _root_assets(self)
        return [(name, urls[name]) for name in self._asset_css]

    @default_css.setter
    def default_css(self, value: Any) -> None:
        raise AttributeError("asset links come from build_map(assets=...), not default_css")


def stable_id(seed: str) -> str:
    """A 32-hex-digit id derived from ``seed`` (same shape as folium's random ids).

    Long hex ids matter for streamlit-folium: it rewrites every ``_<id>`` it knows in the
    script, so a short id such as ``1`` could also match text inside the data.
    """
    return hashlib.sha256(seed.encode("utf-8")).hexdigest()[:32]


def _walk(element: Element, path: str) -> Iterator[tuple[Element, str]]:
    yield element, path
    for index, child in enumerate(list(element._children.values())):
        yield from _walk(child, f"{path}/{index}")


def stabilise_ids(element: Element, seed: str) -> Element:
    """Replace the random ids of ``element`` and its descendants with ids from ``seed``.

    folium names each JavaScript variable after a random id, so the same map would render
    differently on every run: the page could not be compared, cached or tested, and
    streamlit-folium would see a "new" map. Ids here depend only on ``seed`` and the
    element's position in the tree.
    """
    for node, path in _walk(element, ""):
        node._id = stable_id(f"{seed}{path}:{type(node).__name__}")
    element._cm_seeded = True  # type: ignore[attr-defined]  # build_map leaves these alone
    return element


def content_seed(kind: str, name: str, *parts: str | bytes) -> str:
    """Seed for :func:`stabilise_ids`: the builder, the layer name and a digest of its data."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8") if isinstance(part, str) else part)
        digest.update(b"\0")
    return f"{kind}:{name}:{digest.hexdigest()[:16]}"


class _Raw(Element):
    """Text put into the page as it is (no second Jinja pass, see ``JsonLayer.render``)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Raw"
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


_PLACEHOLDER = "/*cm-payload*/null"

#: The module of the map's script (``assets.MAP_MODULES``) that defines each
#: ``L.ConflictMap.<factory>`` a :class:`JsonLayer` calls (a factory no module defines is
#: refused when the layer is made, not when a browser runs it).
FACTORY_MODULES: Mapping[str, str] = {
    "points": "points",
    "cluster": "clusters",
    "heat": "heat",
    "hexagons": "hexagons",
    "labels": "labels",
    "remoteBasemap": "basemap",
    "legend": "legend",
    "viewDate": "core",
}


class JsonLayer(AssetLinks, Layer):
    """A layer made by one ``L.ConflictMap.<factory>(json)`` call of the map's script.

    The payload is already JavaScript source (``safety.script_json``); the template puts it
    in verbatim. Everything is in the ``script`` macro because streamlit-folium keeps only
    that macro of layers passed as ``feature_group_to_add`` (their header and html macros
    are never sent to the browser). The layer links Leaflet, :attr:`_plugin_js`, and the
    map's script (``assets.map_scripts``: one file holding every module).
    """

    #: Leaflet plugins the factory uses (asset names), loaded before the map's modules.
    _plugin_js: tuple[str, ...] = ()
    _asset_css: tuple[str, ...] = ("leaflet_css", "conflictmap_css")
    #: What the layer holds and what its builder set aside (rows without coordinates).
    n_points: int = 0
    skipped: int = 0
    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.ConflictMap.{{ this.factory }}(
                {{ this._placeholder if this._placeholder else this.payload }}
            );
        {% endmacro %}
        """
    )
    _placeholder: str | None = None

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Render as folium does, but keep the payload out of folium's second Jinja pass.

        folium turns each element's script into a new Jinja template and renders that too:
        compiling a multi-megabyte payload as a template costs seconds (1.7 s for 100k
        events), and evaluates any ``{{ }}`` in it. The script is first rendered around a
        placeholder, then swapped for the finished text. streamlit-folium calls the
        ``script`` macro directly and gets the payload inline.
        """
        self._placeholder = _PLACEHOLDER
        try:
            super().render(**kwargs)
        finally:
            self._placeholder = None
        figure = self.get_root()
        assert isinstance(figure, Figure)
        script = self._template.module.__dict__["script"]
        figure.script.add_child(_Raw(script(self, kwargs)), name=self.get_name())

    def __init__(
        self,
        factory: str,
        payload: str,
        *,
        name: str,
        overlay: bool = True,
        control: bool = True,
        show: bool = True,
    ) -> None:
        if factory not in FACTORY_MODULES:
            raise ValueError(f"no module of the map's script defines L.ConflictMap.{factory}")
        super().__init__(name=name, overlay=overlay, control=control, show=show)
        self._name = "ConflictMap" + factory.capitalize()
        self.factory = factory
        module = assets.map_scripts(FACTORY_MODULES[factory])
        self._asset_js = ("leaflet", *self._plugin_js, *module)
        self.payload = payload
