"""The proxy of ``serve --workers``: which worker a request goes to, and the request and
response heads as they are passed on (``serveproxy.py``)."""

from __future__ import annotations

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
