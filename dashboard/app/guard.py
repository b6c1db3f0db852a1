"""The server's own endpoints behind the access gate, and uploads within a memory budget.

The page's gate (``auth.require_access``) runs inside the page script; Streamlit's server
answers some requests without running it. :func:`install` (called by ``server.py`` before
``streamlit run`` starts) wraps Streamlit's ASGI app in :class:`AccessGuard`:

``PUT /_stcore/upload_file/<session>/<file>``
    403 unless the session was admitted by the gate (``gate.GRANTS``; in local mode the
    gate admits every session it shows the page to). Then 413, with a log line, when the
    upload would take the session's or the server's uploads held in memory over their
    budget (:func:`upload_budgets`).
``GET /_stcore/metrics`` and ``GET /media/...``
    In the password and OIDC modes, 403 without the access cookie of an admitted browser
    session (``auth.ACCESS_COOKIE``). In local mode they answer as Streamlit does.

and replaces two of Streamlit's stores, so that what a session holds ends with it:

:class:`UploadStore`
    Streamlit's in-memory upload store, counting what each session holds.
:class:`EndingSessionStorage`
    Where disconnected sessions wait for their browser to reconnect. Streamlit's drops a
    session whose wait is over without shutting it down, so its uploaded files stayed in
    the upload store for the life of the process; this one shuts it down.

Every :data:`SWEEP_S` seconds, on the server's event loop, the guard ends the sessions
whose wait is over, drops the uploaded files of sessions that are no longer connected (the
page keeps what it accepted in the session itself), forgets the grants of ended sessions,
and hands freed memory back to the system.

Streamlit 1.67 internals this relies on (checked by ``tests/browser/test_upload_gate.py``):
the three names :func:`install` replaces, ``MemoryUploadedFileManager.file_storage``, and,
best effort, ``AppSession._fragment_storage``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import Any

from streamlit.runtime.memory_uploaded_file_manager import MemoryUploadedFileManager
from streamlit.runtime.session_manager import SessionInfo, SessionStorage
from streamlit.runtime.uploaded_file_manager import UploadedFileRec

log = logging.getLogger(__name__)

MB = 1024 * 1024
#: Megabytes of uploads one session may hold in memory (default: twice server.maxUploadSize).
UPLOAD_SESSION_ENV = "CONFLICTMAP_UPLOAD_SESSION_MB"
#: Megabytes of uploads all sessions together may hold (default: 4 x server.maxUploadSize).
UPLOAD_SERVER_ENV = "CONFLICTMAP_UPLOAD_SERVER_MB"
SESSION_FACTOR = 2
SERVER_FACTOR = 4
#: Seconds between two sweeps of ended sessions.
SWEEP_S = 5.0

_UPLOAD = ("_stcore", "upload_file")
_METRICS = "_stcore/metrics"
_MEDIA = "media/"


class BudgetError(ValueError):
    """An upload budget in the environment is not a positive whole number of megabytes."""


def upload_budgets(max_upload_mb: int, environ: Mapping[str, str]) -> tuple[int, int]:
    """Bytes of uploads one session, and the whole server, may hold in memory.

    Defaults follow ``server.maxUploadSize`` (the largest single file): a session may hold
    two such files (an events file and an areas file, or one replacing another), the
    server four.

    Raises
    ------
    BudgetError
        A variable is set to something other than a positive whole number.
    """
    values = []
    for name, factor in ((UPLOAD_SESSION_ENV, SESSION_FACTOR), (UPLOAD_SERVER_ENV, SERVER_FACTOR)):
        text = environ.get(name, "").strip()
        if not text:
            values.append(factor * max_upload_mb * MB)
            continue
        try:
            megabytes = int(text)
        except ValueError:
            megabytes = 0
        if megabytes <= 0:
            raise BudgetError(f"{name}={text!r}: give a positive whole number of megabytes")
        values.append(megabytes * MB)
    return values[0], values[1]


class UploadStore(MemoryUploadedFileManager):
    """Streamlit's upload store, with what each session holds and what is on its way in."""

    def __init__(self, upload_endpoint: str, *, session_budget: int, server_budget: int) -> None:
        super().__init__(upload_endpoint)
        self.session_budget = session_budget
        self.server_budget = server_budget
        self._budget_lock = threading.Lock()
        self._held: dict[str, int] = {}
        self._coming: dict[str, int] = {}

    # Every change to the files goes through these, under the budget lock, so that the
    # counts always match the files.
    def add_file(self, session_id: str, file: UploadedFileRec) -> None:
        with self._budget_lock:
            old = self.file_storage.get(session_id, {}).get(file.file_id)
            super().add_file(session_id, file)
            change = len(file.data) - (len(old.data) if old is not None else 0)
            self._held[session_id] = self._held.get(session_id, 0) + change

    def remove_file(self, session_id: str, file_id: str) -> None:
        with self._budget_lock:
            old = self.file_storage.get(session_id, {}).get(file_id)
            super().remove_file(session_id, file_id)
            if old is not None:
                self._count(session_id, -len(old.data))

    def remove_session_files(self, session_id: str) -> None:
        with self._budget_lock:
            super().remove_session_files(session_id)
            self._held.pop(session_id, None)

    def _count(self, session_id: str, change: int) -> None:
        left = self._held.get(session_id, 0) + change
        if left > 0:
            self._held[session_id] = left
        else:
            self._held.pop(session_id, None)

    def held(self, session_id: str | None = None) -> int:
        """Bytes held for one session (None: all sessions)."""
        with self._budget_lock:
            if session_id is None:
                return sum(self._held.values())
            return self._held.get(session_id, 0)

    def reserve(self, session_id: str, size: int) -> str | None:
        """Count ``size`` bytes on their way into the session's store; None when within
        budget, else why not (the upload is then refused and nothing is counted)."""
        with self._budget_lock:
            mine = self._held.get(session_id, 0) + self._coming.get(session_id, 0)
            if mine + size > self.session_budget:
                return (
                    f"this session's uploads would hold {(mine + size) / MB:,.0f} MB, over "
                    f"its {self.session_budget / MB:,.0f} MB ({UPLOAD_SESSION_ENV})"
                )
            everyone = sum(self._held.values()) + sum(self._coming.values())
            if everyone + size > self.server_budget:
                return (
                    f"the server's uploads would hold {(everyone + size) / MB:,.0f} MB, over "
                    f"its {self.server_budget / MB:,.0f} MB ({UPLOAD_SERVER_ENV})"
                )
            self._coming[session_id] = self._coming.get(session_id, 0) + size
            return None

    def release(self, session_id: str, size: int) -> None:
        """The upload counted by :meth:`reserve` has ended (stored or not)."""
        with self._budget_lock:
            left = self._coming.get(session_id, 0) - size
            if left > 0:
                self._coming[session_id] = left
            else:
                self._coming.pop(session_id, None)

    def drop_unless(self, keep: Callable[[str], bool]) -> int:
        """Remove the files of every session ``keep`` refuses; the bytes freed."""
        with self._budget_lock:
            sessions = [sid for sid in self.file_storage if not keep(sid)]
        freed = 0
        for sid in sessions:
            freed += self.held(sid)
            self.remove_session_files(sid)
        return freed


class EndingSessionStorage(SessionStorage):
    """Disconnected sessions kept for ``ttl_seconds`` for their browser to come back, then
    shut down (files, media and state released). Used on the server's event loop only,
    as Streamlit uses its own."""

    def __init__(
        self,
        maxsize: int = 128,
        ttl_seconds: float = 120,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._maxsize = maxsize
        self._ttl = ttl_seconds
        self._clock = clock
        self._sessions: OrderedDict[str, tuple[SessionInfo, float]] = OrderedDict()

    def get(self, session_id: str) -> SessionInfo | None:
        self.reap()
        found = self._sessions.get(session_id)
        return None if found is None else found[0]

    def save(self, session_info: SessionInfo) -> None:
        self.reap()
        sid = session_info.session.id
        self._sessions.pop(sid, None)
        self._sessions[sid] = (session_info, self._clock() + self._ttl)
        while len(self._sessions) > self._maxsize:
            _, (oldest, _) = self._sessions.popitem(last=False)
            _end(oldest)

    def delete(self, session_id: str) -> None:
        # The runtime took the session back (a reconnect) or is closing it itself.
        self._sessions.pop(session_id, None)

    def list(self) -> list[SessionInfo]:
        self.reap()
        return [info for info, _ in self._sessions.values()]

    def waiting(self, session_id: str) -> bool:
        """Whether the session waits here for its browser (its wait not yet over)."""
        found = self._sessions.get(session_id)
        return found is not None and found[1] > self._clock()

    def reap(self) -> int:
        """Shut down the sessions whose wait is over; how many."""
        now = self._clock()
        ended = [sid for sid, (_, until) in self._sessions.items() if until <= now]
        for sid in ended:
            info, _ = self._sessions.pop(sid)
            _end(info)
        return len(ended)


def _end(info: SessionInfo) -> None:
    try:
        info.session.shutdown()
        # Streamlit's runtime loop keeps the last session it flushed referenced until it
        # flushes another: what the session held (its state, and its fragments, which
        # hold the page's arguments) goes now all the same.
        info.session.session_state.clear()
        info.session.flush_browser_queue()  # messages no browser will read
        fragments = getattr(info.session, "_fragment_storage", None)
        if fragments is not None:
            fragments.clear()
    except Exception:  # one broken session must not stop the others' release
        log.warning("could not shut down an expired session", exc_info=True)


def _give_back_memory() -> None:
    """Collect cycles now and return freed heap pages to the system (glibc only)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


@dataclass
class _Parts:
    """What :func:`install` made for the one server this process runs."""

    environ: Mapping[str, str]
    store: UploadStore | None = None
    storage: EndingSessionStorage | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


async def _answer(send: Callable[..., Any], status: int, text: str) -> None:
    body = text.encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _drain(receive: Callable[..., Any], limit: int) -> None:
    """Read and drop a refused request's body (up to ``limit`` bytes), so that the client
    reads the answer instead of a reset connection; nothing of it is kept."""
    seen = 0
    while seen <= limit:
        message = await receive()
        if message.get("type") != "http.request":
            return
        seen += len(message.get("body", b""))
        if not message.get("more_body"):
            return


def _header(scope: Mapping[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _cookie(scope: Mapping[str, Any], name: str) -> str | None:
    raw = _header(scope, b"cookie")
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except CookieError:
        return None
    morsel = jar.get(name)
    return None if morsel is None else morsel.value


class AccessGuard:
    """ASGI middleware in front of Streamlit's app (see the module's docstring)."""

    def __init__(self, app: Any, runtime: Any, parts: _Parts) -> None:
        from streamlit import config

        self.app = app
        self.runtime = runtime
        self.parts = parts
        base = str(config.get_option("server.baseUrlPath") or "").strip("/")
        self.prefix = f"/{base}/" if base else "/"
        self.max_upload = int(config.get_option("server.maxUploadSize")) * MB

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        self._start_sweeping()
        rel = path[len(self.prefix) :]
        method = scope.get("method", "GET")
        if method == "PUT" and tuple(rel.split("/")[:2]) == _UPLOAD:
            await self._upload(rel, scope, receive, send)
            return
        guarded_path = rel == _METRICS or rel.startswith(_MEDIA)
        if method in ("GET", "HEAD") and guarded_path and not self._token_ok(scope):
            log.info("refused %s /%s: no access token of an admitted session", method, rel)
            await _answer(send, 403, "Log in to the dashboard first.")
            return
        await self.app(scope, receive, send)

    # --- uploads ----------------------------------------------------------------------

    async def _upload(self, rel: str, scope: dict[str, Any], receive: Any, send: Any) -> None:
        from dashboard.app.gate import GRANTS

        parts = rel.split("/")
        session_id = parts[2] if len(parts) == 4 else ""
        if not session_id or GRANTS.mode(session_id) is None:
            log.warning(
                "upload refused (403): session %s has not passed the access gate",
                session_id[:8] or "?",
            )
            await _drain(receive, self.max_upload)
            await _answer(send, 403, "This session has not been granted access.")
            return
        store = self.parts.store
        if store is None:  # another upload store than ours: Streamlit's limits only
            await self.app(scope, receive, send)
            return
        try:
            size = int(_header(scope, b"content-length") or self.max_upload)
        except ValueError:
            size = self.max_upload
        size = max(0, min(size, self.max_upload))
        problem = store.reserve(session_id, size)
        if problem:
            log.warning("upload refused (413): %s", problem)
            await _drain(receive, self.max_upload)
            await _answer(send, 413, f"Upload refused: {problem}.")
            return
        try:
            await self.app(scope, receive, send)
        finally:
            store.release(session_id, size)

    # --- metrics and media --------------------------------------------------------------

    def _token_ok(self, scope: Mapping[str, Any]) -> bool:
        from dashboard.app.auth import ACCESS_COOKIE, AccessConfigError, current_policy
        from dashboard.app.gate import GRANTS

        try:
            guarded = current_policy().guarded
        except AccessConfigError:
            guarded = True  # misconfigured: the page shows nothing, neither does this
        if not guarded:
            return True
        return GRANTS.token_valid(_cookie(scope, ACCESS_COOKIE), self.runtime.is_active_session)

    # --- the sweep ------------------------------------------------------------------------

    def _start_sweeping(self) -> None:
        if not self.parts.tasks:
            self.parts.tasks.append(asyncio.get_running_loop().create_task(self._sweep_loop()))

    async def _sweep_loop(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_S)
            try:
                self.sweep()
            except Exception:  # the next sweep tries again
                log.warning("sweep of ended sessions failed", exc_info=True)

    def sweep(self) -> None:
        """End expired sessions, drop uploads of disconnected ones, forget ended grants."""
        from dashboard.app.gate import GRANTS

        alive = self.runtime.is_active_session
        storage = self.parts.storage
        ended = storage.reap() if storage is not None else 0
        # Uploaded files are needed only while the page takes them in (what it accepted
        # lives in the session): a disconnected session's go at once.
        freed = self.parts.store.drop_unless(alive) if self.parts.store is not None else 0
        # A grant stays while its browser may come back: a resumed session is admitted.
        forgotten = GRANTS.prune(
            lambda sid: alive(sid) or (storage is not None and storage.waiting(sid))
        )
        if ended or freed:
            _give_back_memory()
            log.info(
                "released %d ended session(s), %.0f MB of uploads, %d grant(s)",
                ended,
                freed / MB,
                forgotten,
            )


def install(environ: Mapping[str, str] | None = None) -> _Parts:
    """Put the guard and the stores in place of Streamlit's, before its server starts.

    Streamlit 1.67 builds its server from three names this replaces: the upload store and
    the session storage of ``streamlit.web.server.server``, and the app factory of
    ``streamlit.web.server.starlette.starlette_server``.
    """
    import streamlit.web.server.server as st_server
    import streamlit.web.server.starlette.starlette_server as st_starlette
    from streamlit import config

    parts = _Parts(environ=os.environ if environ is None else environ)
    make_app = st_starlette.create_starlette_app

    def upload_store(endpoint: str) -> UploadStore:
        session, server = upload_budgets(
            int(config.get_option("server.maxUploadSize")), parts.environ
        )
        parts.store = UploadStore(endpoint, session_budget=session, server_budget=server)
        return parts.store

    def session_storage(maxsize: int = 128, ttl_seconds: float = 120) -> EndingSessionStorage:
        parts.storage = EndingSessionStorage(maxsize, ttl_seconds)
        return parts.storage

    def create_app(runtime: Any) -> AccessGuard:
        return AccessGuard(make_app(runtime), runtime, parts)

    st_server.MemoryUploadedFileManager = upload_store  # type: ignore[misc,assignment]
    st_server.MemorySessionStorage = session_storage  # type: ignore[misc,assignment]
    st_starlette.create_starlette_app = create_app  # type: ignore[assignment]
    return parts
