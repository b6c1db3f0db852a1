"""One port in front of several dashboard server processes, each browser kept on one of
them (``conflictmap serve --workers N``).

A Streamlit session lives in the memory of the process that holds its websocket: its
state, its uploads and its downloads. Every request of a browser must therefore reach the
same process. The proxy gives each new browser the least busy worker and a cookie naming
it; later requests carrying the cookie go to that worker. A worker that cannot be reached
is replaced by another (the browser gets a new cookie; its session starts again).

What it forwards, one request per client connection (the worker sees nothing else on it):

- a plain HTTP request with ``Connection: close`` towards the worker, and its body of the
  length it declares, no more (a body sent in chunks is refused: 411);
- a websocket handshake (``Upgrade: websocket``) as it is, then the bytes both ways until
  either side closes; after a refused handshake nothing more goes through;
- the client's address in ``X-Forwarded-For`` (which the workers are told to read:
  they listen on loopback, reachable only through the proxy), replacing whatever the
  client wrote there. Behind another proxy that sets the header, pass
  ``trust_forwarded=True``: the header then goes through as that proxy wrote it.

A head with a lone CR or LF is refused (400): a worker might read lines the proxy did not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

COOKIE = "conflictmap_worker"
#: The largest request or response head accepted (Streamlit's own limit is 64 KB too).
HEAD_LIMIT = 64 * 1024
_BUFFER = 256 * 1024
_CONNECT_TIMEOUT_S = 10.0
#: A client has this long to send a request's head.
_HEAD_TIMEOUT_S = 30.0
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

    def _least_busy(self) -> int:
        order = [(i + self._turn) % len(self._pool) for i in range(len(self._pool))]
        self._turn += 1  # ties go round
        return min(order, key=lambda i: self._pool[i].active)

    # --- a connection -----------------------------------------------------------------

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one client connection (an ``asyncio.start_server`` callback)."""
        peer = writer.get_extra_info("peername")
        client = peer[0] if isinstance(peer, tuple) and peer else ""
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), _HEAD_TIMEOUT_S)
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
            writer.close()
            return
        except asyncio.LimitOverrunError:
            await _refuse(writer, 431, "Request Header Fields Too Large")
            return
        if not well_formed(head):
            # A lone line feed or carriage return: the worker might read lines the proxy
            # did not (a header it never saw, a connection kept open behind its back).
            await _refuse(writer, 400, "Bad Request")
            return
        upgrade = is_websocket_upgrade(head)
        length = 0 if upgrade else body_length(head)
        if length is None:
            # A body without a length (chunked): its end, and so where a second request
            # would start, is not known here. Browsers send lengths.
            await _refuse(writer, 411, "Length Required")
            return
        index, tell = self.choose(head)
        connected = await self._connect_any(index)
        if connected is None:
            await _refuse(writer, 502, "Bad Gateway")
            return
        chosen, (up_reader, up_writer) = connected
        tell = tell or chosen != index
        backend = self._pool[chosen]
        backend.active += 1
        tasks: list[asyncio.Task[None]] = []
        try:
            up_writer.write(rewrite_request(head, client, trust_forwarded=self.trust_forwarded))
            await up_writer.drain()
            if not upgrade:  # the request's body (an upload) follows its head, and no more
                tasks.append(asyncio.create_task(_copy(reader, up_writer, length)))
            # Interim answers (100 Continue) go through as they are; the cookie goes on
            # the final answer's head.
            while True:
                try:
                    answer = await up_reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                status = response_status(answer)
                if 100 <= status < 200 and status != 101:
                    writer.write(answer)
                    await writer.drain()
                    continue
                break
            writer.write(with_cookie(answer, chosen) if tell else answer)
            await writer.drain()
            if upgrade and status == 101:  # a websocket: both ways until either closes
                tasks.append(asyncio.create_task(_pump(reader, up_writer)))
            # Anything else the client sends after a refused upgrade is not passed on: the
            # worker sees exactly one request per connection.
            to_client = asyncio.create_task(_pump(up_reader, writer))
            tasks.append(to_client)
            # The worker's answer ending ends the exchange. The client's side ending (a
            # closed tab) is passed on, and the worker gets a moment to close its side.
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            if to_client not in done:
                await asyncio.wait({to_client}, timeout=_CLOSE_GRACE_S)
        except ConnectionError:
            pass
        finally:
            for task in tasks:
                task.cancel()
            backend.active -= 1
            for w in (up_writer, writer):
                with contextlib.suppress(Exception):
                    w.close()

    async def _connect_any(
        self, first: int
    ) -> tuple[int, tuple[asyncio.StreamReader, asyncio.StreamWriter]] | None:
        """A connection to worker ``first``, else to the least busy one that answers."""
        others = sorted(
            (i for i in range(len(self._pool)) if i != first), key=lambda i: self._pool[i].active
        )
        for index in (first, *others):
            connection = await self._connect(index)
            if connection is not None:
                return index, connection
        return None

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
    for value in _header(head, b"cookie"):
        for part in value.split(b";"):
            key, _, text = part.strip().partition(b"=")
            if key == COOKIE.encode() and text.isdigit() and int(text) < n:
                return int(text)
    return None


def well_formed(head: bytes) -> bool:
    """Whether every line of a head ends with CR LF and no CR or LF stands alone."""
    inner = head.replace(b"\r\n", b"")
    return b"\n" not in inner and b"\r" not in inner


def _header(head: bytes, name: bytes) -> list[bytes]:
    found = []
    for line in head.split(b"\r\n")[1:]:
        key, _, value = line.partition(b":")
        if key.strip().lower() == name:
            found.append(value.strip())
    return found


def is_websocket_upgrade(head: bytes) -> bool:
    """A websocket handshake: ``Upgrade: websocket`` and ``upgrade`` among the tokens of
    ``Connection`` (any other ``Upgrade`` is a plain request)."""
    upgrades = [v.lower() for v in _header(head, b"upgrade")]
    tokens = {t.strip().lower() for v in _header(head, b"connection") for t in v.split(b",")}
    return b"websocket" in upgrades and b"upgrade" in tokens


def body_length(head: bytes) -> int | None:
    """The length of a request's body: its Content-Length, 0 without one, None when it is
    sent in chunks or its length is unreadable."""
    if _header(head, b"transfer-encoding"):
        return None
    lengths = set(_header(head, b"content-length"))
    if not lengths:
        return 0
    if len(lengths) > 1 or not next(iter(lengths)).isdigit():
        return None
    return int(next(iter(lengths)))


def response_status(head: bytes) -> int:
    """The status code of a response head (0 when it has none)."""
    parts = head.split(b"\r\n", 1)[0].split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def rewrite_request(head: bytes, client: str, *, trust_forwarded: bool = False) -> bytes:
    """The request head as the worker gets it: a plain request on a connection of its own,
    a websocket upgrade as it is; the client's address in ``X-Forwarded-For`` unless an
    outer proxy's header is trusted."""
    lines = head[:-4].split(b"\r\n")
    upgrade = is_websocket_upgrade(head)
    kept = [lines[0]]
    for line in lines[1:]:
        name = line.partition(b":")[0].strip().lower()
        if name == b"connection" and not upgrade:
            continue
        if name == b"x-forwarded-for" and not trust_forwarded:
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


async def _copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter, n: int) -> None:
    """Exactly ``n`` bytes from ``source`` to ``sink`` (what follows is never passed on)."""
    left = n
    with contextlib.suppress(ConnectionError, asyncio.CancelledError, asyncio.IncompleteReadError):
        while left > 0:
            data = await source.read(min(left, _BUFFER))
            if not data:
                break
            sink.write(data)
            await sink.drain()
            left -= len(data)
    # The client side may stay open: the exchange ends when the worker has answered.
    await asyncio.Event().wait()


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
