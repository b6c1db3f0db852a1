"""The server's own endpoints behind the access gate, and uploads within a memory budget.

The page's gate (``auth.require_access``) runs inside the page script; Streamlit's server
answers some requests without running it. :func:`install` (called by ``server.py`` before
``streamlit run`` starts) wraps Streamlit's ASGI app in :class:`AccessGuard`:

``PUT /_stcore/upload_file/<session>/<file>``
    403 unless the session was admitted by the gate (``gate.GRANTS``; in local mode the
    gate admits every session it shows the page to). Then 413, with a log line, when the
    upload would take the session's or the server's uploads held in memory over their
    budget (:func:`upload_budgets`); the page says which budget on the session's next run
    (:func:`take_upload_refusal`), and the guard asks for that run.
``/_stcore/metrics`` and ``/media/...`` (any method but OPTIONS)
    In the password and OIDC modes, 403 without a valid access token in the request's
    cookie (``auth.ACCESS_COOKIE``, ``gate.TOKENS``). In local mode they answer as
    Streamlit does.

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
and hands freed memory back to the system. The sweep stops when the server shuts down.

Paths are compared after squeezing repeated slashes, dropping a trailing one and folding
case: Streamlit matches none of those variants itself, but a proxy in front may normalise
them, and refusing too much here costs nothing. A refused request's body is read up to
:data:`DRAIN_BYTES` (so that a small request's client reads the answer); the answer then
closes the connection, leaving the rest unread.

The websocket's incoming frames are capped at ``server.maxWidgetStateSize`` (25 MB), the
size Streamlit itself refuses them at, instead of ``server.maxMessageSize`` (200 MB, which
stays the limit of what the server sends): uvicorn reads a frame whole before Streamlit
looks at it, so any client, logged in or not, could make the server hold 200 MB per
connection.

Streamlit 1.67 internals this relies on (checked by ``tests/browser/test_upload_gate.py``):
the four names :func:`install` replaces (it refuses to start if one is missing),
``MemoryUploadedFileManager.file_storage``, and, best effort,
``AppSession._fragment_storage`` and ``AppSession._client_state``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import logging
import os
import re
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
#: Bytes of a refused request's body read before answering (the rest is left unread).
DRAIN_BYTES = 64 * 1024

_UPLOAD = ("_stcore", "upload_file")
_METRICS = "_stcore/metrics"
_MEDIA = "media"
#: What a route is to the guard.
UPLOAD = "upload"
GUARDED = "guarded"


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
        # One message per admitted session at most (only those reach the budgets).
        self._refusals: dict[str, str] = {}

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
            self._refusals.pop(session_id, None)

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

    def note_refusal(self, session_id: str, message: str) -> bool:
        """Keep why the session's last upload was refused, for its page to say; whether
        none was waiting to be said (else this one replaces it)."""
        with self._budget_lock:
            first = session_id not in self._refusals
            self._refusals[session_id] = message
            return first

    def take_refusal(self, session_id: str) -> str | None:
        """Why the session's last upload was refused, once; None if none was since."""
        with self._budget_lock:
            return self._refusals.pop(session_id, None)

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
            for sid in [sid for sid in self._refusals if not keep(sid)]:
                del self._refusals[sid]
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
class GuardParts:
    """What :func:`install` made for the one server this process runs."""

    environ: Mapping[str, str]
    store: UploadStore | None = None
    storage: EndingSessionStorage | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


async def _refuse(
    receive: Callable[..., Any], send: Callable[..., Any], status: int, text: str
) -> None:
    """Answer a refused request and close its connection.

    Up to :data:`DRAIN_BYTES` of its body are read and dropped first, so that a client
    that sends a small body before reading the answer gets the answer; a larger body is
    left unread (an upload of 200 MB is not worth reading to refuse it), and the
    ``Connection: close`` answer ends the connection it would have kept busy.
    """
    seen = 0
    while seen <= DRAIN_BYTES:
        message = await receive()
        if message.get("type") != "http.request":
            break
        seen += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = text.encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _header(scope: Mapping[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _cookie(scope: Mapping[str, Any], name: str) -> str | None:
    # Every Cookie header: an HTTP/2 proxy may pass one per cookie.
    raw = "; ".join(
        value.decode("latin-1")
        for key, value in scope.get("headers", [])
        if key.lower() == b"cookie"
    )
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except CookieError:
        return None
    morsel = jar.get(name)
    return None if morsel is None else morsel.value


def route_of(path: str, prefix: str) -> tuple[str | None, list[str]]:
    """What the guard makes of a request path: (:data:`UPLOAD`, :data:`GUARDED` or None;
    the path's parts below the base path ``prefix``, e.g. ``"/base/"`` or ``"/"``, or for
    an upload its session and file ids as sent).

    Repeated slashes are squeezed, a trailing one dropped and case folded before
    comparing; a path outside the base path is compared as it is.
    """
    squeezed = re.sub(r"/+", "/", path).rstrip("/").lower()
    base = prefix.lower().rstrip("/")
    rel = squeezed[len(base) :] if base and squeezed.startswith(base + "/") else squeezed
    parts = [part for part in rel.split("/") if part]
    # The session and file ids as sent (the store's keys), not folded.
    original = [part for part in path.split("/") if part][-2:]
    if tuple(parts[:2]) == _UPLOAD and len(parts) == 4:
        return UPLOAD, original
    if "/".join(parts[:2]) == _METRICS or (parts[:1] == [_MEDIA]):
        return GUARDED, parts
    return None, parts


class AccessGuard:
    """ASGI middleware in front of Streamlit's app (see the module's docstring).

    ``base_path`` (``server.baseUrlPath``), ``max_upload_mb`` (``server.maxUploadSize``)
    and ``policy`` (the access policy of the running server) default to the server's own;
    the tests give their own.
    """

    def __init__(
        self,
        app: Any,
        runtime: Any,
        parts: GuardParts,
        *,
        base_path: str | None = None,
        max_upload_mb: int | None = None,
        policy: Callable[[], Any] | None = None,
    ) -> None:
        from streamlit import config

        self.app = app
        self.runtime = runtime
        self.parts = parts
        if base_path is None:
            base_path = str(config.get_option("server.baseUrlPath") or "")
        base = base_path.strip("/")
        self.prefix = f"/{base}/" if base else "/"
        if max_upload_mb is None:
            max_upload_mb = int(config.get_option("server.maxUploadSize"))
        self.max_upload = max_upload_mb * MB
        self._policy = policy
        self._stopped = False

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, self._watch_lifespan(receive), send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self._start_sweeping()
        method = str(scope.get("method", "GET")).upper()
        kind, parts = route_of(str(scope.get("path", "")), self.prefix)
        if kind == UPLOAD and method == "PUT":
            await self._upload(parts[0], scope, receive, send)
            return
        if kind == GUARDED and method != "OPTIONS" and not self._token_ok(scope):
            log.info("refused %s %s: no valid access token", method, str(scope.get("path"))[:200])
            await _refuse(receive, send, 403, "Log in to the dashboard first.")
            return
        await self.app(scope, receive, send)

    # --- uploads ----------------------------------------------------------------------

    async def _upload(
        self, session_id: str, scope: dict[str, Any], receive: Any, send: Any
    ) -> None:
        from dashboard.app.gate import GRANTS

        if GRANTS.mode(session_id) is None:
            log.warning(
                "upload refused (403): session %s has not passed the access gate",
                session_id[:8] or "?",
            )
            await _refuse(receive, send, 403, "This session has not been granted access.")
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
            # One run per message said: refusals in a row (a script's, or several files)
            # do not start a run each.
            if store.note_refusal(session_id, f"{problem}: {_advice(problem)}"):
                self._rerun(session_id)
            await _refuse(receive, send, 413, f"Upload refused: {problem}.")
            return
        try:
            await self.app(scope, receive, send)
        finally:
            store.release(session_id, size)

    def _rerun(self, session_id: str) -> None:
        """Ask the session for a run, so that its page says why the upload was refused
        (Streamlit's uploader shows only the status code). Best effort: the run uses the
        session's last widget states and URL, as a rerun for a changed script does."""
        try:
            session = self.runtime.get_app_session(session_id)
            state = getattr(session, "_client_state", None)
            if session is not None and state is not None:
                session.request_rerun(state)
        except Exception:  # the message then waits for the user's next action
            log.debug("could not ask session %s for a run", session_id[:8], exc_info=True)

    # --- metrics and media --------------------------------------------------------------

    def _token_ok(self, scope: Mapping[str, Any]) -> bool:
        from dashboard.access import AccessConfigError
        from dashboard.app.auth import ACCESS_COOKIE, current_policy
        from dashboard.app.gate import TOKENS

        try:
            policy = (self._policy or current_policy)()
        except AccessConfigError:
            return False  # misconfigured: the page shows nothing, neither does this
        if not policy.guarded:
            return True
        return TOKENS.mode(_cookie(scope, ACCESS_COOKIE)) == policy.mode

    # --- the sweep ------------------------------------------------------------------------

    def _watch_lifespan(self, receive: Any) -> Callable[[], Any]:
        async def watched() -> Any:
            message = await receive()
            if message.get("type") == "lifespan.startup":
                self._start_sweeping()
            elif message.get("type") == "lifespan.shutdown":
                await self.stop_sweeping()
            return message

        return watched

    def _start_sweeping(self) -> None:
        if not self.parts.tasks and not self._stopped:
            self.parts.tasks.append(asyncio.get_running_loop().create_task(self._sweep_loop()))

    async def stop_sweeping(self) -> None:
        """Cancel the sweep (the server is shutting down) and wait until it has stopped."""
        self._stopped = True
        tasks, self.parts.tasks[:] = list(self.parts.tasks), []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

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


def _advice(problem: str) -> str:
    if UPLOAD_SESSION_ENV in problem:
        return (
            "remove a file you uploaded, or ask whoever runs the server to raise "
            f"{UPLOAD_SESSION_ENV}"
        )
    return (
        "other sessions' uploads fill the server's budget; try again later, or ask whoever "
        f"runs the server to raise {UPLOAD_SERVER_ENV}"
    )


def take_upload_refusal() -> str | None:
    """Why this session's last upload was refused (once), or None.

    Streamlit's uploader shows only "status code 413"; the page shows this instead. None
    outside a server run by :func:`install` (AppTest, a plain ``streamlit run``).
    """
    from streamlit.runtime import Runtime
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    if ctx is None or not Runtime.exists():
        return None
    store = Runtime.instance().uploaded_file_mgr
    if not isinstance(store, UploadStore):
        return None
    return store.take_refusal(ctx.session_id)


def incoming_frame_limit(ws_max_size: int | None) -> int:
    """The largest websocket frame the server reads: Streamlit's own limit of what a
    client sends (``server.maxWidgetStateSize``), or uvicorn's if that is smaller."""
    from streamlit.runtime.runtime_util import get_max_widget_state_size_bytes

    cap = int(get_max_widget_state_size_bytes())
    return cap if ws_max_size is None else min(int(ws_max_size), cap)


def install(environ: Mapping[str, str] | None = None) -> GuardParts:
    """Put the guard and the stores in place of Streamlit's, before its server starts.

    Streamlit 1.67 builds its server from four names this replaces: the upload store and
    the session storage of ``streamlit.web.server.server``, and the app factory and the
    uvicorn settings of ``streamlit.web.server.starlette.starlette_server``.

    Raises
    ------
    RuntimeError
        One of those names is missing (another Streamlit version).
    """
    import streamlit.web.server.server as st_server
    import streamlit.web.server.starlette.starlette_server as st_starlette
    from streamlit import config

    parts = GuardParts(environ=os.environ if environ is None else environ)

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

    def uvicorn_kwargs() -> dict[str, Any]:
        kwargs = dict(server_kwargs())
        kwargs["ws_max_size"] = incoming_frame_limit(kwargs.get("ws_max_size"))
        return kwargs

    replaced = (
        (st_server, "MemoryUploadedFileManager", upload_store),
        (st_server, "MemorySessionStorage", session_storage),
        (st_starlette, "create_starlette_app", create_app),
        (st_starlette, "_get_uvicorn_config_kwargs", uvicorn_kwargs),
    )
    # All or none: a server with part of the guard would look guarded.
    for module, name, _ in replaced:
        if getattr(module, name, None) is None:
            raise RuntimeError(
                f"{module.__name__}.{name} not found: the server guard needs Streamlit "
                "1.67's server internals (see dashboard/app/guard.py)"
            )
    make_app = st_starlette.create_starlette_app
    server_kwargs = st_starlette._get_uvicorn_config_kwargs
    for module, name, new in replaced:
        setattr(module, name, new)
    return parts
