"""Helpers of the browser tests: start the server, read the map frame's state, wait on it.

The server is started exactly as ``conflictmap serve`` starts it (same flags, data chosen by
CONFLICTMAP_EVENTS / CONFLICTMAP_AREAS). Every wait is on a condition: the health endpoint,
``expect(...)``, ``wait_for_function``; never a fixed sleep.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from procs import free_port, stop

from dashboard import paths
from dashboard.cli import streamlit_command

REPO = paths.PROJECT_DIR
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = os.environ.get("CONFLICTMAP_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
STARTUP_TIMEOUT_S = 90
PAGE_TIMEOUT_MS = 90_000
FIRST_MAP_TIMEOUT_MS = 240_000
MAP_FRAME_TITLE = "streamlit_folium.st_folium"
T = TypeVar("T")


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


@contextlib.contextmanager
def run_server(
    env_extra: dict[str, str],
    log_path: Path,
    *,
    address: str = "127.0.0.1",
    extra_args: Sequence[str] = (),
    url_path: str = "",
    port: int | None = None,
) -> Iterator[Server]:
    """Start ``streamlit run`` as ``conflictmap serve`` does; stop it (by pid) afterwards.

    ``address`` is where the server listens (the browser always talks to 127.0.0.1);
    ``extra_args`` are more ``streamlit run`` options; ``url_path`` is the base path the
    server is reached under (it ends up in ``Server.url``, without a trailing slash).
    """
    port = port or free_port()
    # A developer's password or secrets must not switch these servers into a guarded mode.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CONFLICTMAP_") and k != "DASHBOARD_PASSWORD"
    }
    # Builds kept on disk go beside the log, not into the user's cache.
    env["CONFLICTMAP_CACHE_DIR"] = str(log_path.parent / "build-cache")
    env.update(env_extra)
    command = [*streamlit_command(port=port, address=address), *extra_args]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_file = log_path.open("w", encoding="utf-8")
    process = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=log_file, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}" + (f"/{url_path.strip('/')}" if url_path else "")
    server = Server(url=url, process=process, log_path=log_path)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        # Poll the health endpoint until it answers (the condition), or the server dies.
        while not _healthy(server.url):
            if process.poll() is not None:
                raise RuntimeError(f"streamlit exited with {process.returncode}:\n{server.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"streamlit not healthy after {STARTUP_TIMEOUT_S}s:\n{server.log()}"
                )
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=0.2)  # returns early only if the server exits
        yield server
    finally:
        stop(process)
        log_file.close()


def wait_until(
    condition: Callable[[], T], what: str, server: Server, *, timeout: float = 120.0
) -> T:
    """Ask ``condition`` until it gives something true, and return that.

    Fails, naming ``what`` and showing the end of the server's log, at the deadline or as
    soon as the server has exited. Between two looks it waits on the server's process,
    which returns early only if the server exits.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        code = server.process.poll()
        if code is not None:
            raise AssertionError(
                f"the server exited ({code}) while waiting for {what}:\n{server.log()[-4000:]}"
            )
        if time.monotonic() > deadline:
            raise AssertionError(
                f"still waiting for {what} after {timeout:.0f} s:\n{server.log()[-4000:]}"
            )
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.process.wait(timeout=0.25)


#: JS: true once the labels have kept the same sides and boxes for a second. The page lays
#: them out again whenever a text's size or the map changes (fonts arriving, the frame
#: taking its width); on a loaded machine that settles later, and a read in between sees
#: a layout the reader never does.
LABELS_SETTLED_JS = """
() => {
  const now = performance.now();
  const sig = Array.from(document.querySelectorAll('.cm-label')).map(l => {
    const t = l.querySelector('.cm-label-text').getBoundingClientRect();
    return [l.getAttribute('data-side'), Math.round(t.left), Math.round(t.top),
            Math.round(t.width)].join(',');
  }).join(';');
  if (window.__cmLabelSig !== sig) { window.__cmLabelSig = sig; window.__cmLabelSince = now; }
  return sig.length > 0 && now - window.__cmLabelSince > 1000;
}
"""


def map_frame(page):
    """The streamlit-folium iframe (a Playwright Frame), once its map exists."""
    # A page's first map (a new session: the data, the component and Leaflet's files) is
    # the slowest wait of a test; on a machine loaded by a full run it took over 90 s.
    page.wait_for_selector(
        f'iframe[title="{MAP_FRAME_TITLE}"]', state="attached", timeout=FIRST_MAP_TIMEOUT_MS
    )
    handle = page.query_selector(f'iframe[title="{MAP_FRAME_TITLE}"]')
    frame = handle.content_frame()
    try:
        frame.wait_for_function(
            "() => window.map && window.L && window.L.ConflictMap", timeout=FIRST_MAP_TIMEOUT_MS
        )
    except PlaywrightTimeoutError:
        # Say how far the frame got: streamlit-folium adds the map's scripts one at a time
        # and draws the map after the last; the last one listed is the one it waited on.
        state = frame.evaluate(MAP_FRAME_STATE_JS) if not frame.is_detached() else "detached"
        raise AssertionError(f"the map never appeared in its frame: {state}") from None
    return frame


#: JS: how far a map frame got (what map_frame reports when the map never appears).
MAP_FRAME_STATE_JS = """
() => ({
  leaflet: !!window.L,
  conflictMap: !!(window.L && window.L.ConflictMap),
  map: !!window.map,
  scripts: Array.from(document.scripts).map(s => s.src.split('/').pop() || 'inline'),
  mapDiv: !!document.getElementById('map_div'),
})
"""


#: JS: what the map shows now (points drawn by the canvas layer, control polygons, legend).
MAP_STATE_JS = """
() => {
  const L = window.L, map = window.map;
  const pts = (L.ConflictMap.layers || []).filter(l => l._map);
  let polygons = 0, controllers = [];
  map.eachLayer(l => {
    if (l.feature && l.feature.properties && l.feature.properties.controller !== undefined
        && typeof l.getLatLngs === 'function') {
      polygons += 1;
      controllers.push(String(l.feature.properties.controller));
    }
  });
  const title = document.querySelector('.cm-title');
  return {
    points: pts.reduce((n, l) => n + l.stats.n, 0),
    pointLayers: pts.length,
    polygons: polygons,
    controllers: controllers,
    title: title ? title.innerText : null,
  };
}
"""


def map_state(frame) -> dict:
    return frame.evaluate(MAP_STATE_JS)


def wait_for_map(page, predicate_js: str = "s => s.pointLayers > 0 || s.polygons > 0"):
    """Wait until the map frame's state satisfies ``predicate_js``; returns (frame, state)."""
    frame = map_frame(page)
    frame.wait_for_function(f"() => ({predicate_js})(({MAP_STATE_JS})())")
    return frame, map_state(frame)


def wait_idle(page) -> None:
    """Wait until Streamlit has finished running the script (status widget gone)."""
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')")


def runs_text(page) -> str:
    locator = page.locator(".st-key-diagnostics")
    return locator.inner_text()


def parse_runs(text: str) -> tuple[int, int]:
    match = re.search(r"page (\d+), view (\d+)", text)
    assert match, text
    return int(match.group(1)), int(match.group(2))


#: JS: is the point (lat, lon) inside a polygon layer? Returns the controllers of those that
#: contain it (ray casting over every ring; holes count as outside).
CONTROLLERS_AT_JS = """
([lat, lon]) => {
  const inRing = (ring) => {
    let inside = false;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const yi = ring[i].lat, xi = ring[i].lng, yj = ring[j].lat, xj = ring[j].lng;
      if (((yi > lat) !== (yj > lat)) && (lon < (xj - xi) * (lat - yi) / (yj - yi) + xi)) {
        inside = !inside;
      }
    }
    return inside;
  };
  const inPolygon = (rings) => {
    if (!rings.length) return false;
    if (!inRing(rings[0])) return false;
    for (let k = 1; k < rings.length; k++) { if (inRing(rings[k])) return false; }
    return true;
  };
  const found = [];
  window.map.eachLayer(l => {
    if (!(l.feature && l.feature.properties && l.feature.properties.controller !== undefined
          && typeof l.getLatLngs === 'function')) return;
    let ll = l.getLatLngs();
    // Polygon: [ring, hole...]; MultiPolygon: [[ring, hole...], ...]
    const polys = (ll.length && Array.isArray(ll[0]) && ll[0].length && Array.isArray(ll[0][0]))
      ? ll : [ll];
    if (polys.some(inPolygon)) {
      // The property is HTML-escaped text; decode it in an inert document (nothing runs).
      const doc = new DOMParser().parseFromString(String(l.feature.properties.controller), 'text/html');
      found.push(doc.documentElement.textContent);
    }
  });
  return found;
}
"""


def controllers_at(frame, lat: float, lon: float) -> list[str]:
    return frame.evaluate(CONTROLLERS_AT_JS, [lat, lon])


def open_app(page, server: Server, query: str = "", predicate_js: str | None = None):
    """Open the app and wait until its map shows something; returns (frame, state)."""
    page.goto(f"{server.url}/{('?' + query) if query else ''}")
    if predicate_js is None:
        return wait_for_map(page)
    return wait_for_map(page, predicate_js)
