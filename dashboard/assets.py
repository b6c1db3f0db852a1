"""Leaflet and its plugins, served by the app itself: no CDN at run time.

The JavaScript and CSS come from installed Python packages, never from the network:

* ``xstatic-leaflet`` (Leaflet 1.9.3, the version folium 0.20 is written against),
* ``xstatic-leaflet-markercluster`` (Leaflet.markercluster 1.4.1),
* folium's own copy of Leaflet.heat (``folium/templates/leaflet_heat.min.js``),
* the project's own layers, ``dashboard/app/static/js/``: the modules of
  :data:`MAP_MODULES` (``core.js``, ``points.js``, ...), served joined as one script
  (:data:`MAP_SCRIPT`), and ``conflictmap.css``.

:func:`ensure_static_assets` copies the package files into ``<static_dir>/vendor/`` (not
committed), and writes the map's script there, when the app starts; Streamlit serves that folder at ``<base>/app/static/`` when
``server.enableStaticServing`` is on. The URLs it returns are relative to the page that
loads them: streamlit-folium draws the map in a component iframe at
``<base>/component/streamlit_folium.st_folium/index.html``, so ``../../app/static/`` reaches
the app's static folder whatever ``server.baseUrlPath`` is.

:func:`inline_asset_urls` gives ``data:`` URLs instead, for a map saved as one HTML file that
must open anywhere (about 0.25 MB of script per page; see the module docstring of
``dashboard.layers`` for the trade-off).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dashboard.errors import InputFileError
from dashboard.paths import BUNDLED_BASEMAP, PACKAGE_DIR

#: The app's static folder (served at ``<base>/app/static/``).
APP_STATIC_DIR = PACKAGE_DIR / "app" / "static"
#: Where the package files are copied, inside the static folder.
VENDOR_SUBDIR = "vendor"
#: Base URL of the static folder as seen from streamlit-folium's component iframe.
COMPONENT_STATIC_URL = "../../app/static/"


@dataclass(frozen=True)
class Asset:
    """One file the map page loads: where it comes from and where it is served."""

    name: str  # key in the URL mapping (folium's link name)
    package: str | None  # importable package that ships it; None = committed in static/
    source: str  # path inside the package's data folder, or inside static/
    target: str  # path under the static folder
    kind: str  # "js" or "css"


#: The modules of the map's own script (``L.ConflictMap``, in ``static/js/<module>.js``), each
#: with every module it uses, in load order: a page loads a module after those it needs.
#: Each module is one function that adds to ``L.ConflictMap``, which ``core.js`` defines
#: with the helpers the others share; ``clusters.js`` draws the events the way
#: ``points.js`` does (payload, symbols, popups). Layers name the modules they use with
#: :func:`map_scripts`.
MAP_MODULES: dict[str, tuple[str, ...]] = {
    "core": (),
    "points": ("core",),
    "clusters": ("core", "points"),
    "heat": ("core",),
    "labels": ("core",),
    "basemap": ("core",),
    "legend": ("core",),
    "hexagons": ("core",),
}


#: The map's script as pages load it: every module of :data:`MAP_MODULES`, in that order, in
#: one file written beside the vendor copies. streamlit-folium adds a page's scripts one at a
#: time, each once the one before has loaded: in Chromium here each small file took about
#: 46 ms, so eight modules as eight files held the first map back by about a third of a
#: second. Each module stays its own source file (and is linted as one).
MAP_SCRIPT = "conflictmap_js"
MAP_SCRIPT_TARGET = "vendor/conflictmap/conflictmap.js"


def map_scripts(*modules: str) -> tuple[str, ...]:
    """Asset names that give a page ``modules`` and the modules they need: the map's one
    script, which holds them all in load order."""
    for module in modules:
        if module not in MAP_MODULES:
            raise ValueError(f"the map's script has no module {module!r}: {list(MAP_MODULES)}")
    return (MAP_SCRIPT,)


def map_script_bytes() -> bytes:
    """The map's script: the modules' files joined in load order, each after a line naming
    it."""
    parts = []
    for module in MAP_MODULES:
        path = APP_STATIC_DIR / "js" / f"{module}.js"
        if not path.is_file():
            raise InputFileError(f"the map's module {module!r} is missing: {str(path)!r}")
        parts.append(f"/* {module}.js */\n".encode() + path.read_bytes().rstrip(b"\n") + b"\n")
    return b"\n".join(parts)


# Order matters: scripts load in this order, Leaflet first.
ASSETS: tuple[Asset, ...] = (
    Asset("leaflet", "xstatic.pkg.leaflet", "leaflet.js", "vendor/leaflet/leaflet.js", "js"),
    Asset("leaflet_css", "xstatic.pkg.leaflet", "leaflet.css", "vendor/leaflet/leaflet.css", "css"),
    Asset(
        "markerclusterjs",
        "xstatic.pkg.leaflet_markercluster",
        "leaflet.markercluster.js",
        "vendor/leaflet.markercluster/leaflet.markercluster.js",
        "js",
    ),
    Asset(
        "markerclustercss",
        "xstatic.pkg.leaflet_markercluster",
        "MarkerCluster.css",
        "vendor/leaflet.markercluster/MarkerCluster.css",
        "css",
    ),
    Asset(
        "markerclusterdefaultcss",
        "xstatic.pkg.leaflet_markercluster",
        "MarkerCluster.Default.css",
        "vendor/leaflet.markercluster/MarkerCluster.Default.css",
        "css",
    ),
    Asset(
        "leaflet-heat.js",
        "folium",
        "templates/leaflet_heat.min.js",
        "vendor/leaflet-heat/leaflet-heat.min.js",
        "js",
    ),
    Asset(MAP_SCRIPT, None, "js/<module>.js", MAP_SCRIPT_TARGET, "js"),
    Asset("conflictmap_css", None, "js/conflictmap.css", "js/conflictmap.css", "css"),
)
# Leaflet's CSS refers to these (layer-control icon, default marker).
_LEAFLET_IMAGES: tuple[str, ...] = (
    "layers.png",
    "layers-2x.png",
    "marker-icon.png",
    "marker-icon-2x.png",
    "marker-shadow.png",
)
_MIME = {"js": "text/javascript", "css": "text/css", "png": "image/png"}


def _package_dir(package: str) -> Path:
    """Folder of an installed package's files, found without importing folium itself."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise InputFileError(
            f"package {package!r} is not installed: the map's JavaScript comes from it "
            "(reinstall the project: pip install -e .)"
        )
    base = Path(next(iter(spec.submodule_search_locations)))
    # xstatic packages keep their files in data/; folium keeps its own next to the code.
    return base / "data" if package.startswith("xstatic.") else base


def source_path(asset: Asset) -> Path:
    """Where an asset's file is on this machine (the map's script is made, see
    :func:`asset_bytes`)."""
    if asset.name == MAP_SCRIPT:
        raise ValueError("the map's script is made from its modules: use asset_bytes()")
    if asset.package is None:
        return APP_STATIC_DIR / asset.source
    return _package_dir(asset.package) / asset.source


def asset_bytes(asset: Asset) -> bytes:
    """An asset's content, as served."""
    if asset.name == MAP_SCRIPT:
        return map_script_bytes()
    return source_path(asset).read_bytes()


def _leaflet_images() -> list[tuple[Path, str]]:
    images = _package_dir("xstatic.pkg.leaflet") / "images"
    return [(images / name, f"vendor/leaflet/images/{name}") for name in _LEAFLET_IMAGES]


def _write_if_changed(data: bytes, dest: Path) -> bool:
    """Write atomically unless ``dest`` already has the same bytes; True if it wrote."""
    if (
        dest.is_file()
        and dest.stat().st_size == len(data)
        and hashlib.sha256(dest.read_bytes()).digest() == hashlib.sha256(data).digest()
    ):
        return False
    dest.parent.mkdir(parents=True, exist_ok=True)
    # Several server processes may start at once: write a temp file, then rename over.
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True


#: Where the page's basemap (``geodata/basemap.geojson``) is served from, under the static
#: folder: fetched once by the browser instead of sent with every run of the map.
BASEMAP_TARGET = "vendor/basemap/basemap.geojson"


def basemap_url(base_url: str = COMPONENT_STATIC_URL) -> str:
    """URL of the served basemap (copied there by :func:`ensure_static_assets`)."""
    return (base_url if base_url.endswith("/") else base_url + "/") + BASEMAP_TARGET


def asset_urls(base_url: str = COMPONENT_STATIC_URL) -> dict[str, str]:
    """URL of every asset under ``base_url`` (the static folder's URL), copying nothing."""
    base = base_url if base_url.endswith("/") else base_url + "/"
    return {asset.name: base + asset.target for asset in ASSETS}


def ensure_static_assets(
    static_dir: Path = APP_STATIC_DIR, *, base_url: str = COMPONENT_STATIC_URL
) -> dict[str, str]:
    """Copy Leaflet and the plugins from their packages into ``static_dir`` and name their URLs.

    Parameters
    ----------
    static_dir
        The folder Streamlit serves at ``<base>/app/static/`` (beside the app's script).
    base_url
        URL of ``static_dir`` as seen by the page that loads the map; the default suits
        streamlit-folium's component iframe.

    Returns
    -------
    dict
        ``{name: url}`` for every entry of :data:`ASSETS`, in load order; pass it to
        ``dashboard.layers.build_map(assets=...)`` (the same URLs are its default).

    Raises
    ------
    InputFileError
        A package that ships an asset is not installed, or a committed file is missing.
    """
    static_dir = Path(static_dir)
    copies: list[tuple[Path, str]] = []
    for asset in ASSETS:
        if asset.name == MAP_SCRIPT:
            _write_if_changed(map_script_bytes(), static_dir / asset.target)
            continue
        src = source_path(asset)
        if not src.is_file():
            raise InputFileError(f"map asset {asset.name!r} not found at {str(src)!r}")
        copies.append((src, asset.target))
    copies.extend(_leaflet_images())
    if BUNDLED_BASEMAP.is_file():
        copies.append((BUNDLED_BASEMAP, BASEMAP_TARGET))
    for src, target in copies:
        dest = static_dir / target
        if dest.resolve() != src.resolve():  # committed files already live in static/
            _write_if_changed(src.read_bytes(), dest)
    return asset_urls(base_url)


def _data_url(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def inline_asset_urls() -> dict[str, str]:
    """Every asset as a ``data:`` URL: a saved map needs no server and no network.

    Leaflet's CSS refers to its images by relative URL, which means nothing inside a
    ``data:`` URL, so those references are inlined too.
    """
    images = {path.name: path for path, _ in _leaflet_images()}

    def inline_image(match: re.Match[str]) -> str:
        path = images.get(match.group(1))
        if path is None:
            return match.group(0)
        return f"url({_data_url(path.read_bytes(), _MIME['png'])})"

    out: dict[str, str] = {}
    for asset in ASSETS:
        data = asset_bytes(asset)
        if asset.name == "leaflet_css":
            text = re.sub(r"url\(images/([\w.-]+)\)", inline_image, data.decode("utf-8"))
            data = text.encode("utf-8")
        out[asset.name] = _data_url(data, _MIME[asset.kind])
    return out
