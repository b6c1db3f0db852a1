"""One port in front of several dashboard server processes, each browser kept on one of
them (``conflictmap serve --workers N``).

A Streamlit session lives in the memory of the process that holds its websocket: its
state, its uploads and its downloads. Every request of a browser must therefore reach the
same process. The proxy gives each new browser the least busy worker and a cookie naming
it; later requests carrying the cookie go to that worker. A worker that cannot be reached
is replaced by another (the browser gets a new cookie; its session starts again).

What it forwards:

- each plain HTTP request on a connection of its own (``Connection: close`` towards the
  worker), so every request is routed and can carry the client's address;
- a websocket upgrade as it is, then the bytes both ways until either side closes;
- the client's address in ``X-Forwarded-For`` (which the workers are told to read:
  they listen on loopback, reachable only through the proxy), replacing whatever the
  client wrote there. Behind another proxy that sets the header, pass
  ``trust_forwarded=True``: the header then goes through as that proxy wrote it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

COOKIE = "conflictmap_worker"
#: The largest request or response head accepted (Streamlit's own limit is 64 KB too).
HEAD_LIMIT = 64 * 1024
_BUFFER = 256 * 1024
_CONNECT_TIMEOUT_S = 10.0
_CLOSE_GRACE_S = 30.0


@dataclass
class Backend:
    host: str
    port: int
    #: Client connections open to it now (a session's websocket stays open: sessions).
    active: int = 0


@dataclass
class StickyProxy:
    """See the module's docstring. ``backends``: the workers' (host, port)."""

    backends: Sequence[tuple[str, int]]
    trust_forwarded: bool = False
    _pool: list[Backend] = field(init=False)
    _turn: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        if not self.backends:
            raise ValueError("a proxy needs at least one worker")
        self._pool = [Backend(h, p) for h, p in self.backends]

    # --- routing ----------------------------------------------------------------------

    def choose(self, head: bytes) -> tuple[int, bool]:
        """The worker for a request: (index, whether the browser must be told by cookie)."""
        named = cookie_worker(head, len(self._pool))
        if named is not None:
            return named, False
        return self._least_busy(), True

    def _least_busy(self, avoid: int | None = None) -> int:
        order = [(i + self._turn) % len(self._pool) for i in range(len(self._pool))]
        self._turn += 1  # ties go round
        candidates = [i for i in order if i != avoid] or order
        return min(candidates, key=lambda i: self._pool[i].active)

    # --- a connection -----------------------------------------------------------------

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one client connection (an ``asyncio.start_server`` callback)."""
        peer = writer.get_extra_info("peername")
        client = peer[0] if isinstance(peer, tuple) and peer else ""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            return
        except asyncio.LimitOverrunError:
            await _refuse(writer, 431, "Request Header Fields Too Large")
            return
        index, tell = self.choose(head)
        upstream = await self._connect(index)
        if upstream is None:
            other = self._least_busy(avoid=index)
            upstream = await self._connect(other) if other != index else None
            if upstream is None:
                await _refuse(writer, 502, "Bad Gateway")
                return
            index, tell = other, True
        up_reader, up_writer = upstream
        backend = self._pool[index]
        backend.active += 1
        try:
            up_writer.write(rewrite_request(head, client, trust_forwarded=self.trust_forwarded))
            await up_writer.drain()
            to_worker = asyncio.create_task(_pump(reader, up_writer))
            if tell:
                try:
                    answer = await up_reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    to_worker.cancel()
                    return
                writer.write(with_cookie(answer, index))
                await writer.drain()
            to_client = asyncio.create_task(_pump(up_reader, writer))
            # The worker's answer ending ends the exchange. The client's side ending (a
            # closed tab) is passed on, and the worker gets a moment to close its side.
            done, _ = await asyncio.wait(
                {to_worker, to_client}, return_when=asyncio.FIRST_COMPLETED
            )
            if to_client not in done:
                await asyncio.wait({to_client}, timeout=_CLOSE_GRACE_S)
            for task in (to_worker, to_client):
                task.cancel()
        finally:
            backend.active -= 1
            for w in (up_writer, writer):
                with contextlib.suppress(Exception):
                    w.close()

    async def _connect(
        self, index: int
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        backend = self._pool[index]
        try:
            return await asyncio.wait_for(
                asyncio.open_connection(backend.host, backend.port, limit=HEAD_LIMIT),
                _CONNECT_TIMEOUT_S,
            )
        except (TimeoutError, OSError):
            log.warning("worker %d (%s:%d) cannot be reached", index, backend.host, backend.port)
            return None

    async def serve(self, host: str, port: int) -> None:
        """Listen on (host, port) until cancelled."""
        server = await asyncio.start_server(self.handle, host, port, limit=HEAD_LIMIT)
        async with server:
            await server.serve_forever()


# --- the bytes ------------------------------------------------------------------------------


def cookie_worker(head: bytes, n: int) -> int | None:
    """The worker a request's cookie names, when it names one of ``n``."""
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() != b"cookie":
            continue
        for part in value.split(b";"):
            key, _, text = part.strip().partition(b"=")
            if key == COOKIE.encode() and text.isdigit() and int(text) < n:
                return int(text)
    return None


_HOP = re.compile(rb"^(connection|x-forwarded-for)\s*:", re.IGNORECASE)


def rewrite_request(head: bytes, client: str, *, trust_forwarded: bool = False) -> bytes:
    """The request head as the worker gets it: a plain request on a connection of its own,
    a websocket upgrade as it is; the client's address in ``X-Forwarded-For`` unless an
    outer proxy's header is trusted."""
    lines = head[:-4].split(b"\r\n")
    upgrade = any(line.partition(b":")[0].strip().lower() == b"upgrade" for line in lines[1:])
    kept = [lines[0]]
    for line in lines[1:]:
        if _HOP.match(line):
            name = line.partition(b":")[0].strip().lower()
            if name == b"connection" and upgrade or name == b"x-forwarded-for" and trust_forwarded:
                kept.append(line)
            continue
        kept.append(line)
    if not upgrade:
        kept.append(b"Connection: close")
    if not trust_forwarded and client:
        kept.append(b"X-Forwarded-For: " + client.encode("ascii", "replace"))
    return b"\r\n".join(kept) + b"\r\n\r\n"


def with_cookie(head: bytes, index: int) -> bytes:
    """A response head with the cookie that keeps the browser on worker ``index``."""
    cookie = f"Set-Cookie: {COOKIE}={index}; Path=/; HttpOnly; SameSite=Lax".encode()
    return head[:-4] + b"\r\n" + cookie + b"\r\n\r\n"


async def _pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, asyncio.CancelledError):
        while True:
            data = await source.read(_BUFFER)
            if not data:
                break
            sink.write(data)
            await sink.drain()
    with contextlib.suppress(Exception):
        if sink.can_write_eof():
            sink.write_eof()


async def _refuse(writer: asyncio.StreamWriter, status: int, reason: str) -> None:
    body = f"{status} {reason}\n".encode()
    writer.write(
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )
    with contextlib.suppress(ConnectionError):
        await writer.drain()
    writer.close()
