"""An optional tile background for the static exports (off unless asked for).

Tiles are the only network use of an export: they are fetched only with
``ExportSettings(tiles=True)`` (``conflictmap export --tiles``), each with a short timeout,
and any failure (no network, a refused request, a broken image) gives a map without tiles
and a warning, never an error. The attribution OpenStreetMap asks for goes in the footer.
"""

from __future__ import annotations

import io
import logging
import math
import urllib.request
from collections.abc import Callable, Sequence

import numpy as np

from dashboard import __version__
from dashboard.export.view import EARTH_RADIUS

log = logging.getLogger(__name__)

OSM_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
TILE_PX = 256
#: At most this many tiles per picture (the OSM tile policy asks for restraint).
MAX_TILES = 48
TIMEOUT_S = 4.0
_WORLD = 2 * math.pi * EARTH_RADIUS

Fetch = Callable[[str], bytes]


def _http_get(url: str) -> bytes:
    request = urllib.request.Request(
        url, headers={"User-Agent": f"conflictmap/{__version__} (briefing export)"}
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
        return bytes(response.read())


def tile_zoom(extent: Sequence[float], width_px: int) -> int:
    """The tile zoom whose pixels are about as fine as the output's, within MAX_TILES."""
    span = max(float(extent[2] - extent[0]), 1.0)
    zoom = max(0, min(18, math.ceil(math.log2(width_px * _WORLD / (TILE_PX * span)))))
    while zoom > 0 and _count(extent, zoom) > MAX_TILES:
        zoom -= 1
    return zoom


def _index(x: float, y: float, zoom: int) -> tuple[int, int]:
    n = 2**zoom
    tx = math.floor((x + _WORLD / 2) / _WORLD * n)
    ty = math.floor((_WORLD / 2 - y) / _WORLD * n)
    return max(0, min(n - 1, tx)), max(0, min(n - 1, ty))


def _count(extent: Sequence[float], zoom: int) -> int:
    x0, y0 = _index(extent[0], extent[3], zoom)
    x1, y1 = _index(extent[2], extent[1], zoom)
    return (x1 - x0 + 1) * (y1 - y0 + 1)


def fetch_background(
    extent: Sequence[float],
    size_px: tuple[int, int],
    *,
    url: str = OSM_URL,
    fetch: Fetch | None = None,
) -> tuple[np.ndarray, tuple[float, float, float, float]] | None:
    """A mosaic of tiles covering ``extent`` (Web Mercator metres) and the extent it covers.

    Returns None, with a warning in the log, when any tile cannot be had.
    """
    from PIL import Image

    get = fetch or _http_get
    zoom = tile_zoom(extent, size_px[0])
    x0, y0 = _index(extent[0], extent[3], zoom)
    x1, y1 = _index(extent[2], extent[1], zoom)
    mosaic = Image.new("RGB", ((x1 - x0 + 1) * TILE_PX, (y1 - y0 + 1) * TILE_PX), "white")
    try:
        for tx in range(x0, x1 + 1):
            for ty in range(y0, y1 + 1):
                data = get(url.format(z=zoom, x=tx, y=ty))
                tile = Image.open(io.BytesIO(data)).convert("RGB")
                mosaic.paste(
                    tile.resize((TILE_PX, TILE_PX)), ((tx - x0) * TILE_PX, (ty - y0) * TILE_PX)
                )
    except Exception as exc:  # noqa: BLE001 - offline, refused, or not an image: no tiles
        log.warning("map tiles unavailable (%s); exporting without a tile background", exc)
        return None
    tile_m = _WORLD / 2**zoom
    covered = (
        x0 * tile_m - _WORLD / 2,
        _WORLD / 2 - (y1 + 1) * tile_m,
        (x1 + 1) * tile_m - _WORLD / 2,
        _WORLD / 2 - y0 * tile_m,
    )
    return np.asarray(mosaic), covered
