"""The process's record of access (``dashboard.app.gate``) and the server guard's parts
(``dashboard.app.guard``), without a server: a fake clock, fake sessions.

The same promises against a running server are in ``tests/browser/test_upload_gate.py``.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from streamlit.runtime.uploaded_file_manager import UploadedFileRec

from dashboard.app import auth, gate, guard

MB = 1024 * 1024


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
        assert limiter.begin("10.0.0.1") == (0.0, n)
    # The last free attempt goes ahead, and locks the address for the first wait.
    assert limiter.begin("10.0.0.1") == (0.0, gate.ADDRESS_FREE_ATTEMPTS)
    wait, tried = limiter.begin("10.0.0.1")
    assert wait == pytest.approx(gate.ADDRESS_FIRST_LOCK_S)
    assert tried == gate.ADDRESS_FREE_ATTEMPTS  # a refused attempt is not counted again
    # Another address is not affected.
    assert limiter.begin("10.0.0.2") == (0.0, 1)
    # After the wait, one more attempt, then twice the wait.
    clock.now += gate.ADDRESS_FIRST_LOCK_S
    assert limiter.begin("10.0.0.1")[0] == 0.0
    assert limiter.begin("10.0.0.1")[0] == pytest.approx(2 * gate.ADDRESS_FIRST_LOCK_S)


def test_the_address_wait_doubles_up_to_its_cap():
    free = gate.ADDRESS_FREE_ATTEMPTS
    assert gate.address_lock_seconds(free - 1) == 0
    assert gate.address_lock_seconds(free) == gate.ADDRESS_FIRST_LOCK_S
    assert gate.address_lock_seconds(free + 1) == 2 * gate.ADDRESS_FIRST_LOCK_S
    assert gate.address_lock_seconds(free + 50) == gate.ADDRESS_MAX_LOCK_S


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
    assert limiter.begin("b") == (0.0, 1)


def test_the_attempt_record_is_bounded():
    limiter = gate.AttemptLimiter(clock=Clock(), max_addresses=3)
    for address in "abcd":
        limiter.begin(address)
    assert len(limiter) == 3
    assert limiter.failures("a") == 0  # the least recently seen went first
    assert limiter.failures("d") == 1


def test_the_client_address_comes_from_a_proxy_header_only_when_trusted():
    headers = {"X-Forwarded-For": "6.6.6.6, 203.0.113.9"}
    # Not configured: a client's own header is ignored.
    assert auth.client_address("198.51.100.1", headers, None) == "198.51.100.1"
    assert auth.client_address(None, headers, None) == "loopback"
    # Configured: the entry the nearest proxy added (the last), not the client's claim.
    assert auth.client_address("10.0.0.5", headers, "X-Forwarded-For") == "203.0.113.9"
    assert auth.client_address("10.0.0.5", {}, "X-Forwarded-For") == "10.0.0.5"


def test_the_trusted_header_is_read_from_the_secrets_or_the_environment():
    env = {auth.ADDRESS_HEADER_ENV: "X-Real-IP", auth.PASSWORD_ENV: "pw"}
    assert auth.policy_from({}, env).address_header == "X-Real-IP"
    secrets = {"access": {"password": "pw", "client_address_header": "X-Forwarded-For"}}
    assert auth.policy_from(secrets, env).address_header == "X-Forwarded-For"
    assert auth.policy_from({}, {auth.PASSWORD_ENV: "pw"}).address_header is None
    with pytest.raises(auth.AccessConfigError, match="not a header name"):
        auth.policy_from({"access": {"client_address_header": "X-Forwarded-For: x"}}, {})


# --- admitted sessions and their tokens ----------------------------------------------------


def test_a_token_is_valid_while_a_session_it_was_given_to_is_alive():
    grants = gate.Grants()
    alive = {"s1", "s2"}
    token = grants.admit("s1", auth.PASSWORD, alive=alive.__contains__)
    assert grants.mode("s1") == auth.PASSWORD
    assert grants.token_valid(token, alive.__contains__)
    assert not grants.token_valid("made-up", alive.__contains__)
    assert not grants.token_valid(None, alive.__contains__)
    # A second tab of the same browser presents the token and keeps it.
    assert grants.admit("s2", auth.PASSWORD, token=token, alive=alive.__contains__) == token
    alive.discard("s1")
    assert grants.token_valid(token, alive.__contains__)  # the second tab still lives
    alive.discard("s2")
    assert not grants.token_valid(token, alive.__contains__)


def test_a_token_of_no_live_session_is_not_adopted():
    grants = gate.Grants()
    stale = grants.admit("old", auth.PASSWORD)
    fresh = grants.admit("new", auth.PASSWORD, token=stale, alive={"new"}.__contains__)
    assert fresh != stale
    assert grants.admit("x", auth.PASSWORD, token="invented") != "invented"


def test_an_admitted_session_keeps_its_token_whatever_cookie_it_connected_with():
    grants = gate.Grants()
    first = grants.admit("s", auth.PASSWORD, token="stale")
    assert first != "stale"
    for _ in range(3):  # every run of the page admits again, with the same old cookie
        assert grants.admit("s", auth.PASSWORD, token="stale") == first


def test_revoked_and_ended_sessions_are_forgotten():
    grants = gate.Grants()
    token = grants.admit("s1", auth.OIDC)
    grants.admit("s2", auth.OIDC)
    grants.revoke("s1")
    assert grants.mode("s1") is None
    assert not grants.token_valid(token, lambda sid: True)
    assert grants.prune(lambda sid: False) == 1
    assert len(grants) == 0


def test_the_grant_record_is_bounded():
    grants = gate.Grants(max_sessions=2)
    for sid in ("a", "b", "c"):
        grants.admit(sid, auth.LOCAL)
    assert len(grants) == 2
    assert grants.mode("a") is None


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
