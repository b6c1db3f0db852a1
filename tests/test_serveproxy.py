"""The proxy of ``serve --workers``: which worker a request goes to, and the request and
response heads as they are passed on (``serveproxy.py``)."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from dashboard.serveproxy import COOKIE, StickyProxy, cookie_worker, rewrite_request, with_cookie

GET = (
    b"GET /app HTTP/1.1\r\nHost: maps\r\nConnection: keep-alive\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n"
)
UPGRADE = (
    b"GET /_stcore/stream HTTP/1.1\r\nHost: maps\r\nConnection: Upgrade\r\n"
    b"Upgrade: websocket\r\nCookie: a=b; " + COOKIE.encode() + b"=1\r\n\r\n"
)


def test_a_browser_with_a_cookie_stays_on_its_worker_and_a_new_one_goes_to_the_least_busy():
    proxy = StickyProxy([("127.0.0.1", 1), ("127.0.0.1", 2)])
    assert proxy.choose(UPGRADE) == (1, False)
    proxy._pool[0].active = 3
    assert proxy.choose(GET) == (1, True)  # told by cookie
    proxy._pool[1].active = 5
    assert proxy.choose(GET) == (0, True)


def test_a_cookie_naming_no_worker_is_ignored():
    assert cookie_worker(b"GET / HTTP/1.1\r\nCookie: " + COOKIE.encode() + b"=7\r\n\r\n", 2) is None
    assert cookie_worker(b"GET / HTTP/1.1\r\nCookie: " + COOKIE.encode() + b"=x\r\n\r\n", 2) is None
    assert cookie_worker(b"GET / HTTP/1.1\r\nCookie: other=1\r\n\r\n", 2) is None


def test_a_plain_request_goes_alone_with_the_clients_address_not_the_clients_word():
    out = rewrite_request(GET, "10.1.2.3")
    lines = out.split(b"\r\n")
    assert b"Connection: close" in lines and b"Connection: keep-alive" not in lines
    assert [x for x in lines if x.lower().startswith(b"x-forwarded-for")] == [
        b"X-Forwarded-For: 10.1.2.3"
    ]
    assert out.endswith(b"\r\n\r\n") and lines[0] == b"GET /app HTTP/1.1"


def test_an_upgrade_keeps_its_connection_header_and_an_outer_proxys_address_can_be_trusted():
    out = rewrite_request(UPGRADE, "10.1.2.3")
    assert b"Connection: Upgrade" in out and b"Connection: close" not in out
    trusted = rewrite_request(GET, "10.9.9.9", trust_forwarded=True)
    assert b"X-Forwarded-For: 6.6.6.6" in trusted and b"10.9.9.9" not in trusted


def test_the_first_answer_carries_the_cookie():
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"
    out = with_cookie(head, 1)
    assert out.startswith(b"HTTP/1.1 200 OK\r\n") and out.endswith(b"\r\n\r\n")
    assert f"Set-Cookie: {COOKIE}=1; Path=/; HttpOnly; SameSite=Lax".encode() in out


def test_a_proxy_needs_a_worker():
    with pytest.raises(ValueError):
        StickyProxy([])


def test_heads_with_a_lone_line_feed_are_not_well_formed():
    from dashboard.serveproxy import well_formed

    assert well_formed(GET)
    assert not well_formed(b"GET / HTTP/1.1\r\nHost: a\nConnection: keep-alive\r\n\r\n")
    assert not well_formed(b"GET / HTTP/1.1\r\nHost: a\rX: y\r\n\r\n")


def test_only_a_websocket_handshake_keeps_its_connection():
    from dashboard.serveproxy import is_websocket_upgrade

    odd = b"GET /_stcore/health HTTP/1.1\r\nHost: x\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n"
    assert not is_websocket_upgrade(odd)
    out = rewrite_request(odd, "10.1.2.3")
    assert b"Connection: close" in out and b"Connection: Upgrade" not in out
    assert is_websocket_upgrade(UPGRADE)


def _in_own_loop(coroutine: Any) -> Any:
    """Run ``coroutine`` in a thread of its own with its own event loop (the suite's
    browser tests leave one running in the main thread)."""
    import asyncio
    import threading

    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = asyncio.run(coroutine)
        except BaseException as exc:  # noqa: BLE001 - raised again below, in the test
            out["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive(), "the exchange did not end"
    if "error" in out:
        raise out["error"]
    return out["value"]


async def _exchange(requests: bytes, answers: list[bytes]) -> tuple[list[bytes], bytes]:
    """Send ``requests`` through a proxy to one fake worker that answers ``answers`` (then
    closes); the heads the worker received, and everything the client received."""
    import asyncio

    received: list[bytes] = []

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        received.append(await reader.readuntil(b"\r\n\r\n"))
        for answer in answers:
            writer.write(answer)
        await writer.drain()
        with contextlib.suppress(asyncio.TimeoutError, asyncio.IncompleteReadError):
            # Whatever else arrives on this connection is a head too.
            received.append(await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 0.5))
        writer.close()

    backend = await asyncio.start_server(worker, "127.0.0.1", 0)
    port = backend.sockets[0].getsockname()[1]
    proxy = StickyProxy([("127.0.0.1", port)])
    front = await asyncio.start_server(proxy.handle, "127.0.0.1", 0)
    front_port = front.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", front_port)
    writer.write(requests)
    await writer.drain()
    got = await asyncio.wait_for(reader.read(), 30)
    writer.close()
    front.close()
    backend.close()
    return received, got


def test_a_client_cannot_send_a_second_request_past_the_proxy_on_one_connection():

    first = b"GET /_stcore/health HTTP/1.1\r\nHost: x\r\nUpgrade: x\r\n\r\n"
    second = (
        b"GET /_stcore/stream HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nX-Forwarded-For: 9.9.9.9\r\n\r\n"
    )
    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
    received, got = _in_own_loop(_exchange(first + second, [answer]))
    assert len(received) == 1  # the second head never reached the worker
    assert b"X-Forwarded-For: 127.0.0.1" in received[0] and b"9.9.9.9" not in received[0]
    assert got.startswith(b"HTTP/1.1 200 OK") and got.endswith(b"ok")


def test_the_cookie_goes_on_the_final_answer_not_on_100_continue():

    put = (
        b"PUT /_stcore/upload_file/s/f HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
        b"Expect: 100-continue\r\n\r\nab"
    )
    answers = [b"HTTP/1.1 100 Continue\r\n\r\n", b"HTTP/1.1 204 No Content\r\n\r\n"]
    _received, got = _in_own_loop(_exchange(put, answers))
    interim, _, final = got.partition(b"\r\n\r\n")
    assert interim == b"HTTP/1.1 100 Continue" and COOKIE.encode() not in interim
    assert final.startswith(b"HTTP/1.1 204") and f"{COOKIE}=0".encode() in final


def test_a_bad_head_is_refused_before_any_worker_sees_it():
    received, got = _in_own_loop(
        _exchange(b"GET / HTTP/1.1\r\nHost: a\nX-Forwarded-For: 1.2.3.4\r\n\r\n", [b""])
    )
    assert received == [] and got.startswith(b"HTTP/1.1 400")
