"""The process's record of access (``dashboard.app.gate``) and the server guard's parts
(``dashboard.app.guard``), without a server: a fake clock, fake sessions.

The same promises against a running server are in ``tests/browser/test_upload_gate.py``.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from streamlit.runtime.context import StreamlitHeaders
from streamlit.runtime.uploaded_file_manager import UploadedFileRec

from dashboard import access
from dashboard.app import auth, gate, guard

MB = 1024 * 1024


def _run(coroutine) -> None:
    """Run ``coroutine`` to its end on a loop of its own, in a thread of its own.

    The browser tests' driver keeps an event loop running in the main thread for the whole
    session; ``asyncio.run`` refuses to start inside it.
    """
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coroutine).result()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- password attempts per address -------------------------------------------------------


def test_an_address_is_locked_after_its_free_attempts_whatever_the_session():
    clock = Clock()
    limiter = gate.AttemptLimiter(clock=clock)
    for n in range(1, gate.ADDRESS_FREE_ATTEMPTS):
        assert limiter.begin("10.0.0.1") == (0.0, n, False)
    # The last free attempt goes ahead, and locks the address for the first wait.
    assert limiter.begin("10.0.0.1") == (0.0, gate.ADDRESS_FREE_ATTEMPTS, False)
    wait, tried, server_wide = limiter.begin("10.0.0.1")
    assert wait == pytest.approx(gate.ADDRESS_FIRST_LOCK_S)
    assert tried == gate.ADDRESS_FREE_ATTEMPTS  # a refused attempt is not counted again
    assert not server_wide
    # Another address is not affected.
    assert limiter.begin("10.0.0.2") == (0.0, 1, False)
    # After the wait, one more attempt, then twice the wait.
    clock.now += gate.ADDRESS_FIRST_LOCK_S
    assert limiter.begin("10.0.0.1").wait == 0.0
    assert limiter.begin("10.0.0.1").wait == pytest.approx(2 * gate.ADDRESS_FIRST_LOCK_S)


def test_the_address_wait_doubles_up_to_its_cap():
    free = gate.ADDRESS_FREE_ATTEMPTS
    assert gate.address_lock_seconds(free - 1) == 0
    assert gate.address_lock_seconds(free) == gate.ADDRESS_FIRST_LOCK_S
    assert gate.address_lock_seconds(free + 1) == 2 * gate.ADDRESS_FIRST_LOCK_S
    assert gate.address_lock_seconds(free + 50) == gate.ADDRESS_MAX_LOCK_S


def test_waits_after_any_number_of_wrong_passwords_stay_at_their_cap():
    """Before: 5.0 * 2 ** (failures - free) raised OverflowError past 1023 doublings."""
    for failures in (1030, 1034, 5000, 10**9):
        assert gate.address_lock_seconds(failures) == gate.ADDRESS_MAX_LOCK_S
        assert access.lock_seconds(failures) == access.MAX_LOCK_S
    assert gate.doubling_wait(2, free=3, first=5.0, cap=300.0) == 0.0
    assert gate.doubling_wait(3, free=3, first=5.0, cap=300.0) == 5.0
    assert gate.doubling_wait(4, free=3, first=5.0, cap=300.0) == 10.0


def test_the_right_password_and_a_long_quiet_forget_an_address():
    clock = Clock()
    limiter = gate.AttemptLimiter(clock=clock)
    for _ in range(5):
        limiter.begin("a")
    limiter.succeeded("a")
    assert limiter.failures("a") == 0
    for _ in range(gate.ADDRESS_FREE_ATTEMPTS + 3):
        limiter.begin("b")
    clock.now += gate.ADDRESS_FORGET_S + 1
    assert limiter.begin("b") == (0.0, 1, False)


def test_the_attempt_record_is_bounded():
    limiter = gate.AttemptLimiter(clock=Clock(), max_addresses=3)
    for address in "abcd":
        limiter.begin(address)
    assert len(limiter) == 3
    assert limiter.failures("a") == 0  # the least recently seen went first
    assert limiter.failures("d") == 1


def test_past_the_servers_wrong_attempts_a_minute_every_attempt_waits():
    """Addresses enough to cycle the per-address record (or a /64 each) get no more than
    the server's ceiling of guesses a minute between them."""
    clock = Clock()
    limiter = gate.AttemptLimiter(clock=clock, max_addresses=10, per_minute=20)
    for i in range(20):  # 20 addresses, one guess each, a second apart
        assert limiter.begin(f"198.51.100.{i}").wait == 0.0
        clock.now += 1.0
    # The 21st guess, from a new address, waits until the first guess is a minute old.
    wait, _, server_wide = limiter.begin("203.0.113.7")
    assert server_wide
    assert wait == pytest.approx(gate.SERVER_WINDOW_S - 20.0)
    assert limiter.failures("203.0.113.7") == 0  # a refused attempt is not counted
    clock.now += wait
    assert limiter.begin("203.0.113.7").wait == 0.0  # one slot free again
    assert limiter.begin("203.0.113.8").server_wide


def test_right_passwords_do_not_count_against_the_server():
    clock = Clock()
    limiter = gate.AttemptLimiter(clock=clock, per_minute=3)
    for i in range(10):  # ten users logging in the same minute
        address = f"10.0.0.{i}"
        assert limiter.begin(address).wait == 0.0
        limiter.succeeded(address)
        clock.now += 0.5
    assert limiter.begin("10.0.1.1").wait == 0.0


def test_the_server_ceiling_is_generous_and_documented():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert gate.SERVER_ATTEMPTS_PER_MINUTE >= 100
    assert f"{gate.SERVER_ATTEMPTS_PER_MINUTE} wrong passwords a minute" in readme


# --- the client's address --------------------------------------------------------------------


def test_the_client_address_comes_from_a_proxy_header_only_when_trusted():
    headers = {"X-Forwarded-For": "6.6.6.6, 203.0.113.9"}
    # Not configured: a client's own header is ignored.
    assert access.client_address("198.51.100.1", headers, None) == "198.51.100.1"
    assert access.client_address(None, headers, None) == "loopback"
    # Configured: the entry the nearest proxy added (the last), not the client's claim.
    assert access.client_address("10.0.0.5", headers, "X-Forwarded-For") == "203.0.113.9"
    assert access.client_address("10.0.0.5", {}, "X-Forwarded-For") == "10.0.0.5"


def test_a_proxy_that_adds_its_own_header_line_is_the_one_believed():
    """HAProxy's ``option forwardfor`` adds a header line after the client's. Streamlit's
    ``st.context.headers.get`` returns the FIRST line: the client's own claim decided the
    address, and every guess could come from another "client"."""
    headers = StreamlitHeaders(
        [
            ("X-Forwarded-For", "6.6.6.6"),  # written by the client
            ("Host", "maps.example.org"),
            ("x-forwarded-for", "7.7.7.7, 203.0.113.9"),  # the proxy's, added last
        ]
    )
    assert headers.get("X-Forwarded-For") == "6.6.6.6"  # what was read before
    assert access.client_address("10.0.0.5", headers, "X-Forwarded-For") == "203.0.113.9"
    assert access.header_values(headers, "X-FORWARDED-FOR")[-1] == "7.7.7.7, 203.0.113.9"


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("2001:db8:1:2::5", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("[2001:db8:1:2::5]:443", "2001:db8:1:2::/64"),
        ("2001:DB8:1:3::1", "2001:db8:1:3::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        ("::ffff:192.0.2.7", "192.0.2.7"),
        ("192.0.2.7", "192.0.2.7"),
        ("192.0.2.7:5678", "192.0.2.7"),
        ("unknown", "unknown"),
        ("x" * 100, "x" * 64),
    ],
)
def test_ipv6_clients_are_counted_by_their_64(address, key):
    assert access.address_key(address) == key


def test_addresses_of_one_64_share_one_lock():
    """Before: each of an attacker's 2^64 addresses had ten free guesses."""
    limiter = gate.AttemptLimiter(clock=Clock())
    for i in range(gate.ADDRESS_FREE_ATTEMPTS):
        address = access.client_address(f"2001:db8:7:7::{i + 1:x}", {}, None)
        assert limiter.begin(address).wait == 0.0
    other = access.client_address("2001:db8:7:7:abcd::1", {}, None)
    assert limiter.begin(other).wait > 0
    assert limiter.begin(access.client_address("2001:db8:7:8::1", {}, None)).wait == 0.0


def test_the_trusted_header_is_read_from_the_secrets_or_the_environment():
    env = {access.ADDRESS_HEADER_ENV: "X-Real-IP", access.PASSWORD_ENV: "pw"}
    assert access.policy_from({}, env).address_header == "X-Real-IP"
    secrets = {"access": {"password": "pw", "client_address_header": "X-Forwarded-For"}}
    assert access.policy_from(secrets, env).address_header == "X-Forwarded-For"
    assert access.policy_from({}, {access.PASSWORD_ENV: "pw"}).address_header is None
    with pytest.raises(access.AccessConfigError, match="not a header name"):
        access.policy_from({"access": {"client_address_header": "X-Forwarded-For: x"}}, {})


# --- admitted sessions ----------------------------------------------------------------------


def test_revoked_and_ended_sessions_are_forgotten():
    grants = gate.Grants()
    grants.admit("s1", access.OIDC)
    grants.admit("s2", access.OIDC)
    assert grants.mode("s1") == access.OIDC
    grants.revoke("s1")
    assert grants.mode("s1") is None
    assert grants.prune(lambda sid: False) == 1
    assert len(grants) == 0


def test_the_grant_record_is_bounded_dead_sessions_first():
    grants = gate.Grants(max_sessions=2)
    for sid in ("a", "b", "c"):
        grants.admit(sid, access.LOCAL)
    assert len(grants) == 2
    assert grants.mode("a") is None
    grants.admit("d", access.LOCAL, alive={"b", "d"}.__contains__)
    assert (grants.mode("b"), grants.mode("c"), grants.mode("d")) == ("local", None, "local")


# --- access tokens ----------------------------------------------------------------------------


def test_a_token_is_the_browsers_whatever_became_of_the_session_that_wrote_it():
    """Before: a token was valid while a live session held it. Two tabs logged in one
    after the other wrote two tokens; closing the second voided the one the browser kept,
    and the first tab's downloads answered 403."""
    tokens = gate.AccessTokens(clock=Clock())
    first = tokens.issue(access.PASSWORD)  # tab A
    second = tokens.issue(access.PASSWORD)  # tab B, which saw no cookie, writes over it
    assert first != second
    # Nothing about sessions: both stay valid until they expire.
    assert tokens.mode(first) == tokens.mode(second) == access.PASSWORD
    assert re.fullmatch(r"v1\.\d+\.password\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}", second)


def test_a_token_is_signed_by_this_process():
    clock = Clock()
    tokens = gate.AccessTokens(clock=clock)
    token = tokens.issue(access.OIDC)
    version, expiry, mode, nonce, mac = token.split(".")
    assert tokens.mode(token) == access.OIDC
    later = f"{version}.{int(expiry) + 10**6}.{mode}.{nonce}.{mac}"
    other_mode = f"{version}.{expiry}.password.{nonce}.{mac}"
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    for forged in (later, other_mode, flipped, "made-up", "", None, "v1." + "x" * 300):
        assert tokens.mode(forged) is None, forged
    # Another process (a restart: another key) does not take it.
    assert gate.AccessTokens(clock=clock).mode(token) is None


def test_a_token_expires_and_is_renewed_before():
    clock = Clock()
    tokens = gate.AccessTokens(clock=clock, lifetime_s=100, renew_s=40)
    token = tokens.issue(access.PASSWORD)
    assert tokens.fresh(token, access.PASSWORD)
    assert not tokens.fresh(token, access.OIDC)  # another mode: written again
    clock.now += 61  # less than renew_s left: the next run writes a new one
    assert tokens.mode(token) == access.PASSWORD
    assert not tokens.fresh(token, access.PASSWORD)
    clock.now += 40
    assert tokens.mode(token) is None


def test_a_revoked_token_stays_revoked_even_past_the_record():
    clock = Clock()
    tokens = gate.AccessTokens(clock=clock, max_revoked=3)
    kept = tokens.issue(access.OIDC)
    revoked = [tokens.issue(access.OIDC) for _ in range(3)]
    for token in revoked:
        assert tokens.revoke(token)
    assert not tokens.revoke("made-up")  # only genuine tokens take a place
    assert [tokens.mode(t) for t in revoked] == [None] * 3
    assert tokens.mode(kept) == access.OIDC
    # One more than the record holds: every token issued so far is void, none revived.
    assert tokens.revoke(tokens.issue(access.OIDC))
    assert tokens.mode(kept) is None
    assert [tokens.mode(t) for t in revoked] == [None] * 3
    assert tokens.mode(tokens.issue(access.OIDC)) == access.OIDC


# --- upload budgets -------------------------------------------------------------------------


def test_budgets_follow_the_largest_upload_unless_set():
    assert guard.upload_budgets(200, {}) == (400 * MB, 800 * MB)
    env = {guard.UPLOAD_SESSION_ENV: "50", guard.UPLOAD_SERVER_ENV: " 120 "}
    assert guard.upload_budgets(200, env) == (50 * MB, 120 * MB)


@pytest.mark.parametrize("value", ["0", "-5", "lots", "1.5"])
def test_a_budget_that_is_not_a_positive_number_is_named(value):
    with pytest.raises(guard.BudgetError, match=rf"{guard.UPLOAD_SESSION_ENV}='{value}'"):
        guard.upload_budgets(200, {guard.UPLOAD_SESSION_ENV: value})


def _rec(file_id: str, size: int) -> UploadedFileRec:
    return UploadedFileRec(
        file_id=file_id, name=f"{file_id}.csv", type="text/csv", data=b"x" * size
    )


def test_the_upload_store_counts_each_session_and_refuses_past_the_budgets():
    store = guard.UploadStore("/upload", session_budget=10, server_budget=15)
    assert store.reserve("a", 6) is None
    store.add_file("a", _rec("f1", 6))
    store.release("a", 6)
    assert store.held("a") == 6
    assert "this session's uploads would hold" in (store.reserve("a", 5) or "")
    assert store.reserve("b", 8) is None  # on its way: counted against the server
    assert "the server's uploads" in (store.reserve("c", 2) or "")
    store.release("b", 8)
    store.add_file("a", _rec("f1", 2))  # the same file again, smaller
    assert store.held("a") == 2
    store.remove_file("a", "f1")
    assert store.held() == 0
    store.add_file("a", _rec("f2", 3))
    store.add_file("gone", _rec("f3", 4))
    assert store.drop_unless(lambda sid: sid == "a") == 4
    assert store.held() == 3
    assert store.get_files("gone", ["f3"]) == []


# --- ended sessions -------------------------------------------------------------------------


class FakeSession:
    def __init__(self, sid: str) -> None:
        self.id = sid
        self.shut = False
        self.session_state = SimpleNamespace(clear=lambda: None)

    def flush_browser_queue(self) -> list:
        return []

    def shutdown(self) -> None:
        self.shut = True


def test_a_disconnected_session_is_shut_down_when_its_wait_is_over():
    clock = Clock()
    storage = guard.EndingSessionStorage(maxsize=2, ttl_seconds=120, clock=clock)
    kept, taken_back, waiting = FakeSession("k"), FakeSession("t"), FakeSession("w")
    storage.save(SimpleNamespace(session=kept))
    storage.save(SimpleNamespace(session=taken_back))
    assert storage.get("t").session is taken_back
    storage.delete("t")  # the browser came back: the runtime has it again
    clock.now += 121
    storage.save(SimpleNamespace(session=waiting))
    assert kept.shut  # its wait was over
    assert not taken_back.shut
    assert storage.get("k") is None
    assert storage.waiting("w") and not storage.waiting("k")
    assert [info.session for info in storage.list()] == [waiting]
    # Past the size limit the oldest waiting session ends too.
    storage.save(SimpleNamespace(session=FakeSession("x")))
    storage.save(SimpleNamespace(session=FakeSession("y")))
    assert waiting.shut


# --- the guard's routes, called as uvicorn calls it -------------------------------------------


class Inner:
    """Streamlit's app behind the guard: records what reached it, answers 200."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    async def __call__(self, scope, receive, send) -> None:
        self.paths.append(scope.get("path", scope["type"]))
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"streamlit"})


class FakeRuntime:
    def __init__(self, alive=()) -> None:
        self.alive = set(alive)
        self.reruns: list[str] = []

    def is_active_session(self, session_id: str) -> bool:
        return session_id in self.alive

    def get_app_session(self, session_id: str):
        runtime = self

        class Session:
            _client_state = object()

            def request_rerun(self, state) -> None:
                runtime.reruns.append(session_id)

        return Session() if session_id in self.alive else None


class Body:
    """A request body of ``chunks`` messages of ``size`` bytes, counting what was read."""

    def __init__(self, chunks: int = 1, size: int = 0) -> None:
        self.chunks, self.size, self.read = chunks, size, 0

    async def __call__(self) -> dict:
        if self.read >= self.chunks:
            return {"type": "http.disconnect"}
        self.read += 1
        more = self.read < self.chunks
        return {"type": "http.request", "body": b"x" * self.size, "more_body": more}


def _call(app, method: str, path: str, *, headers=(), body: Body | None = None):
    """Call the ASGI ``app`` once; (status, headers, body) of its answer."""

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "headers": [(k.encode(), v.encode()) for k, v in headers],
    }
    _run(app(scope, body or Body(), send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], dict(start["headers"]), content


def _guard(*, base_path: str = "conflictmap", mode: str = access.PASSWORD, store=None, alive=()):
    policy = access.Policy(mode, password="pw" if mode == access.PASSWORD else None)
    inner = Inner()
    parts = guard.GuardParts(environ={}, store=store)
    app = guard.AccessGuard(
        inner,
        FakeRuntime(alive),
        parts,
        base_path=base_path,
        max_upload_mb=200,
        policy=lambda: policy,
    )
    return app, inner, parts


@pytest.fixture
def tokens(monkeypatch):
    tokens = gate.AccessTokens()
    monkeypatch.setattr(gate, "TOKENS", tokens)
    monkeypatch.setattr(gate, "GRANTS", gate.Grants())
    return tokens


GUARDED_PATHS = [
    "/conflictmap/_stcore/metrics",
    "/conflictmap/_stcore/metrics/",  # trailing slash
    "/conflictmap/_STCORE/Metrics",  # letter case
    "/CONFLICTMAP/_stcore/metrics",
    "//conflictmap//_stcore/metrics",  # repeated slashes
    "/conflictmap/_stcore//metrics",
    "/conflictmap/media/0123abcd.csv",
    "/conflictmap/MEDIA/0123abcd.csv",
    "/conflictmap//media/0123abcd.csv",
    "/conflictmap/media/0123abcd.csv/",
    "/_stcore/metrics",  # outside the base path: refused all the same
]


@pytest.mark.parametrize("path", GUARDED_PATHS)
@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
def test_metrics_and_media_need_a_token_under_any_spelling(tokens, path, method):
    app, inner, _ = _guard()
    status, headers, _ = _call(app, method, path)
    assert status == 403
    assert headers[b"connection"] == b"close"
    assert inner.paths == []
    cookie = ("Cookie", f"other=1; {auth.ACCESS_COOKIE}={tokens.issue(access.PASSWORD)}")
    assert _call(app, method, path, headers=[cookie])[0] == 200
    assert inner.paths == [path]


def test_a_token_of_another_mode_or_revoked_opens_nothing(tokens):
    app, _inner, _ = _guard(mode=access.OIDC)
    password_token = tokens.issue(access.PASSWORD)
    oidc_token = tokens.issue(access.OIDC)
    metrics = "/conflictmap/_stcore/metrics"
    assert (
        _call(app, "GET", metrics, headers=[("Cookie", f"conflictmap_access={password_token}")])[0]
        == 403
    )
    assert (
        _call(app, "GET", metrics, headers=[("Cookie", f"conflictmap_access={oidc_token}")])[0]
        == 200
    )
    tokens.revoke(oidc_token)
    assert (
        _call(app, "GET", metrics, headers=[("Cookie", f"conflictmap_access={oidc_token}")])[0]
        == 403
    )


@pytest.mark.parametrize(
    "path",
    [
        "/conflictmap/",
        "/conflictmap/_stcore/health",
        "/conflictmap/_stcore/host-config",
        "/conflictmap/static/media/logo.svg",
        "/conflictmap/app/static/leaflet.js",
        "/conflictmap/_stcore/metricsx",
    ],
)
def test_other_paths_reach_streamlit(tokens, path):
    app, inner, _ = _guard()
    assert _call(app, "GET", path)[0] == 200
    assert inner.paths == [path]


def test_options_and_local_mode_reach_streamlit(tokens):
    app, _inner, _ = _guard()
    assert _call(app, "OPTIONS", "/conflictmap/media/0123abcd.csv")[0] == 200
    local, _inner_local, _ = _guard(mode=access.LOCAL, base_path="")
    assert _call(local, "GET", "/_stcore/metrics")[0] == 200
    assert _call(local, "HEAD", "/media/0123abcd.csv")[0] == 200


@pytest.mark.parametrize(
    "path",
    [
        "/conflictmap/_stcore/upload_file/s1/f1",
        "/conflictmap/_stcore//upload_file/s1/f1",
        "/conflictmap/_STCORE/upload_file/s1/f1/",
    ],
)
def test_uploads_of_a_session_not_admitted_are_refused(tokens, path):
    app, inner, _ = _guard()
    assert _call(app, "PUT", path)[0] == 403
    gate.GRANTS.admit("s1", access.PASSWORD)
    assert _call(app, "PUT", path)[0] == 200
    assert inner.paths == [path]


def test_a_refused_upload_is_not_read_to_its_end(tokens):
    """Before: the guard read a refused body up to server.maxUploadSize (200 MB here)
    before answering, keeping the connection busy for all of it."""
    app, _inner, _ = _guard()
    body = Body(chunks=200, size=MB)  # 200 MB, in 1 MB messages
    status, headers, text = _call(
        app,
        "PUT",
        "/conflictmap/_stcore/upload_file/nobody/f1",
        headers=[("Content-Length", str(200 * MB))],
        body=body,
    )
    assert status == 403
    assert headers[b"connection"] == b"close"
    assert b"not been granted access" in text
    assert body.read * MB <= guard.DRAIN_BYTES + MB
    # A small refused body is read to its end (its client then reads the answer).
    small = Body(chunks=3, size=1000)
    assert _call(app, "PUT", "/conflictmap/_stcore/upload_file/nobody/f2", body=small)[0] == 403
    assert small.read == 3


def test_an_upload_over_budget_is_said_on_the_page_and_asks_for_a_run(tokens):
    store = guard.UploadStore("/upload", session_budget=2 * MB, server_budget=3 * MB)
    app, _inner, _ = _guard(store=store, alive={"s1"})
    gate.GRANTS.admit("s1", access.PASSWORD)
    body = Body(chunks=50, size=MB)
    status, _headers, text = _call(
        app,
        "PUT",
        "/conflictmap/_stcore/upload_file/s1/f1",
        headers=[("Content-Length", str(50 * MB))],
        body=body,
    )
    assert status == 413
    assert b"CONFLICTMAP_UPLOAD_SESSION_MB" in text
    assert body.read * MB <= guard.DRAIN_BYTES + MB
    assert app.runtime.reruns == ["s1"]
    # Another refusal before the page said the first: the message is replaced, no new run.
    over = [("Content-Length", str(3 * MB))]
    assert _call(app, "PUT", "/conflictmap/_stcore/upload_file/s1/f3", headers=over)[0] == 413
    assert app.runtime.reruns == ["s1"]
    said = store.take_refusal("s1")
    assert said is not None
    assert "over its 2 MB (CONFLICTMAP_UPLOAD_SESSION_MB)" in said
    assert "remove a file you uploaded" in said
    assert store.take_refusal("s1") is None  # said once
    assert store.held() == 0  # nothing stays reserved


def test_the_sweep_stops_when_the_server_shuts_down(tokens):
    """Before: the sweep task was left pending when the event loop closed."""
    import asyncio

    app, _, parts = _guard()

    async def lifespan_app(scope, receive, send) -> None:  # Starlette's lifespan, in short
        assert (await receive())["type"] == "lifespan.startup"
        await send({"type": "lifespan.startup.complete"})
        assert (await receive())["type"] == "lifespan.shutdown"
        await send({"type": "lifespan.shutdown.complete"})

    app.app = lifespan_app
    messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    seen: list[asyncio.Task] = []

    async def receive() -> dict:
        await asyncio.sleep(0)
        seen.extend(parts.tasks)
        return next(messages)

    async def send(message: dict) -> None:
        pass

    async def run() -> None:
        await app({"type": "lifespan"}, receive, send)

    _run(run())
    assert seen, "the sweep should run while the server does"
    assert all(task.cancelled() for task in seen)
    assert parts.tasks == []


def test_incoming_websocket_frames_are_capped_at_streamlits_widget_state_limit(monkeypatch):
    """uvicorn's ws_max_size was server.maxMessageSize (200 MB): a frame that large was
    read whole, before login, before Streamlit refused it at 25 MB."""
    import streamlit.web.server.server as st_server
    import streamlit.web.server.starlette.starlette_server as st_starlette
    from streamlit.runtime.runtime_util import (
        get_max_message_size_bytes,
        get_max_widget_state_size_bytes,
    )

    for module, name in (
        (st_server, "MemoryUploadedFileManager"),
        (st_server, "MemorySessionStorage"),
        (st_starlette, "create_starlette_app"),
        (st_starlette, "_get_uvicorn_config_kwargs"),
    ):
        monkeypatch.setattr(module, name, getattr(module, name))  # put back afterwards
    before = st_starlette._get_uvicorn_config_kwargs()
    assert before["ws_max_size"] == get_max_message_size_bytes()
    guard.install({})
    after = st_starlette._get_uvicorn_config_kwargs()
    assert after["ws_max_size"] == get_max_widget_state_size_bytes() < before["ws_max_size"]
    # The server's own messages keep their limit.
    assert get_max_message_size_bytes() == before["ws_max_size"]
    assert {k: v for k, v in after.items() if k != "ws_max_size"} == {
        k: v for k, v in before.items() if k != "ws_max_size"
    }


def test_install_refuses_a_streamlit_without_the_names_it_replaces(monkeypatch):
    import streamlit.web.server.server as st_server
    import streamlit.web.server.starlette.starlette_server as st_starlette

    store = st_server.MemoryUploadedFileManager
    monkeypatch.setattr(st_server, "MemoryUploadedFileManager", store)  # put back afterwards
    monkeypatch.delattr(st_starlette, "_get_uvicorn_config_kwargs")
    with pytest.raises(RuntimeError, match="_get_uvicorn_config_kwargs not found"):
        guard.install({})
    assert st_server.MemoryUploadedFileManager is store  # nothing half-installed
