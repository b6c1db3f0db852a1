"""The process's record of access: the one deliberate piece of process-wide state.

Everything else of a user lives in their session (``st.session_state``); these facts
cannot, because they must outlive a session or be read where no session is:

:data:`ATTEMPTS`
    Wrong passwords per client address, across sessions, and for the whole server. The
    page's per-session back-off (``access.lock_seconds``) ends with the session, and a new
    session is one request away; this one does not. Keyed on the client's address
    (``access.client_address``: an IPv6 client by its /64).
:data:`GRANTS`
    The sessions the access gate admitted. The upload endpoint runs outside any page run:
    it asks here whether a session was admitted.
:data:`TOKENS`
    The access tokens given to admitted browsers (their ``conflictmap_access`` cookie):
    signed with a key made when the process starts, valid until they expire or are
    revoked, whatever became of the session that wrote them. ``/_stcore/metrics`` and
    ``/media/...`` ask here whether a request's cookie holds one.

All are bounded (oldest entries dropped first), guarded by one lock each, and hold no
data, no password and no personal detail beyond the client address. This module imports
no Streamlit: the tests use it directly, with their own clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

from dashboard.access import doubling_wait

#: Wrong passwords one client address may try (over any number of sessions) freely.
ADDRESS_FREE_ATTEMPTS = 10
#: First wait after them (doubling with each further wrong one), and the cap.
ADDRESS_FIRST_LOCK_S = 5.0
ADDRESS_MAX_LOCK_S = 300.0
#: An address with no attempt for this long starts again from zero.
ADDRESS_FORGET_S = 3600.0
#: Addresses remembered at most (the least recently seen are forgotten first).
MAX_ADDRESSES = 10_000
#: Wrong passwords per minute the whole server takes, from all addresses together; past
#: them every attempt waits until the oldest of the minute is a minute old.
SERVER_ATTEMPTS_PER_MINUTE = 300
SERVER_WINDOW_S = 60.0
#: Admitted sessions remembered at most (sessions that ended are dropped first).
MAX_GRANTS = 10_000
#: How long an access token is valid, and the time left under which a run renews it.
TOKEN_LIFETIME_S = 24 * 3600.0
TOKEN_RENEW_S = 12 * 3600.0
#: Revoked tokens remembered until they expire; past this many, every token is revoked.
MAX_REVOKED = 10_000
TOKEN_VERSION = "v1"

_TOKEN = re.compile(
    rf"{TOKEN_VERSION}\.(?P<expiry>\d{{1,12}})\.(?P<mode>[a-z]{{1,16}})"
    r"\.(?P<nonce>[A-Za-z0-9_-]{16,64})\.(?P<mac>[A-Za-z0-9_-]{43})"
)


def address_lock_seconds(failures: int) -> float:
    """How long one address waits after ``failures`` wrong passwords in a row."""
    return doubling_wait(
        failures, free=ADDRESS_FREE_ATTEMPTS, first=ADDRESS_FIRST_LOCK_S, cap=ADDRESS_MAX_LOCK_S
    )


@dataclass
class _Record:
    failures: int
    locked_until: float
    seen: float


class Attempt(NamedTuple):
    """What :meth:`AttemptLimiter.begin` decided."""

    #: Seconds to wait before trying again; 0 when the attempt may go ahead.
    wait: float
    #: Wrong attempts counted for the address so far (this one included when it goes ahead).
    failures: int
    #: The wait is the whole server's (too many wrong attempts from everyone this minute).
    server_wide: bool = False


class AttemptLimiter:
    """Password attempts per client address, shared by every session of the process, and
    a ceiling on wrong attempts per minute for the whole server.

    An attempt is counted as wrong when it starts (:meth:`begin`) and forgiven when the
    password was right (:meth:`succeeded`): attempts made at the same moment from many
    sessions cannot all slip through between a check and its record. The per-address
    record holds at most ``max_addresses`` (an attacker with more addresses than that
    cycles it); the server-wide ceiling is what bounds such an attacker.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_addresses: int = MAX_ADDRESSES,
        per_minute: int = SERVER_ATTEMPTS_PER_MINUTE,
    ) -> None:
        self._clock = clock
        self._max = max_addresses
        self._per_minute = per_minute
        self._lock = threading.Lock()
        self._records: OrderedDict[str, _Record] = OrderedDict()
        # Start times of the attempts of the last minute not known to be right.
        self._recent: deque[float] = deque()

    def begin(self, address: str) -> Attempt:
        """Start an attempt from ``address``: whether it may go ahead, or how long to wait."""
        now = self._clock()
        with self._lock:
            record = self._records.get(address)
            if record is not None and now - record.seen > ADDRESS_FORGET_S:
                record = None
            if record is None:
                record = _Record(failures=0, locked_until=0.0, seen=now)
            if record.locked_until > now:
                self._keep(address, record)
                return Attempt(record.locked_until - now, record.failures)
            while self._recent and now - self._recent[0] >= SERVER_WINDOW_S:
                self._recent.popleft()
            if len(self._recent) >= self._per_minute:
                self._keep(address, record)
                return Attempt(self._recent[0] + SERVER_WINDOW_S - now, record.failures, True)
            self._recent.append(now)
            record.failures += 1
            record.seen = now
            record.locked_until = now + address_lock_seconds(record.failures)
            self._keep(address, record)
            return Attempt(0.0, record.failures)

    def succeeded(self, address: str) -> None:
        """The attempt begun from ``address`` had the right password: forget its record."""
        with self._lock:
            record = self._records.pop(address, None)
            if record is not None and record.seen in self._recent:
                self._recent.remove(record.seen)

    def failures(self, address: str) -> int:
        """Wrong attempts remembered for ``address``."""
        with self._lock:
            record = self._records.get(address)
            return 0 if record is None else record.failures

    def __len__(self) -> int:
        with self._lock:
            return len(self._records)

    def _keep(self, address: str, record: _Record) -> None:
        self._records[address] = record
        self._records.move_to_end(address)
        while len(self._records) > self._max:
            self._records.popitem(last=False)


class Grants:
    """Sessions the access gate admitted, and the mode each was admitted in."""

    def __init__(self, *, max_sessions: int = MAX_GRANTS) -> None:
        self._max = max_sessions
        self._lock = threading.Lock()
        self._sessions: OrderedDict[str, str] = OrderedDict()  # id: mode

    def admit(
        self, session_id: str, mode: str, *, alive: Callable[[str], bool] | None = None
    ) -> None:
        """Record ``session_id`` as admitted in ``mode``. ``alive`` lets dead sessions be
        dropped first when the record is full."""
        with self._lock:
            self._sessions[session_id] = mode
            self._sessions.move_to_end(session_id)
            if len(self._sessions) <= self._max:
                return
            if alive is not None:
                for sid in [s for s in self._sessions if not alive(s)]:
                    del self._sessions[sid]
            while len(self._sessions) > self._max:
                self._sessions.popitem(last=False)

    def revoke(self, session_id: str) -> None:
        """The session is no longer admitted (logged out, refused, or ended)."""
        with self._lock:
            self._sessions.pop(session_id, None)

    def mode(self, session_id: str) -> str | None:
        """The mode ``session_id`` was admitted in, or None."""
        with self._lock:
            return self._sessions.get(session_id)

    def prune(self, alive: Callable[[str], bool]) -> int:
        """Forget the sessions that are no longer alive; how many were forgotten."""
        with self._lock:
            dead = [sid for sid in self._sessions if not alive(sid)]
            for sid in dead:
                del self._sessions[sid]
            return len(dead)

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)


class AccessTokens:
    """Access tokens ``v1.<expiry>.<mode>.<nonce>.<mac>``, signed with HMAC-SHA256.

    The key is random, made when the process starts: a restart voids every token (the
    browsers' next page runs get new ones). A token is valid until its expiry (seconds
    since the epoch) unless revoked. Revoked tokens are remembered until they expire; when
    more than ``max_revoked`` are, the key's generation moves on and every token issued
    so far is void at once, so that no revoked token ever becomes valid again.
    """

    def __init__(
        self,
        *,
        key: bytes | None = None,
        clock: Callable[[], float] = time.time,
        lifetime_s: float = TOKEN_LIFETIME_S,
        renew_s: float = TOKEN_RENEW_S,
        max_revoked: int = MAX_REVOKED,
    ) -> None:
        self._key = key if key is not None else secrets.token_bytes(32)
        self._clock = clock
        self._lifetime = lifetime_s
        self._renew = renew_s
        self._max_revoked = max_revoked
        self._lock = threading.Lock()
        self._generation = 0
        self._revoked: OrderedDict[str, int] = OrderedDict()  # nonce: expiry

    def issue(self, mode: str) -> str:
        """A new token for a browser admitted in ``mode``."""
        expiry = int(self._clock() + self._lifetime)
        body = f"{TOKEN_VERSION}.{expiry}.{mode}.{secrets.token_urlsafe(16)}"
        with self._lock:
            return f"{body}.{self._mac(body)}"

    def mode(self, token: str | None) -> str | None:
        """The mode ``token`` was issued for, if it is genuine, unexpired and not revoked."""
        parsed = self._check(token)
        return None if parsed is None else parsed[1]

    def fresh(self, token: str | None, mode: str) -> bool:
        """Whether ``token`` is valid for ``mode`` and far enough from its expiry to keep."""
        parsed = self._check(token)
        return parsed is not None and parsed[1] == mode and parsed[0] - self._clock() > self._renew

    def revoke(self, token: str | None) -> bool:
        """Make a valid ``token`` invalid from now on; whether it was valid."""
        parsed = self._check(token)
        if parsed is None:
            return False
        expiry, _, nonce = parsed
        now = self._clock()
        with self._lock:
            for old in [n for n, until in self._revoked.items() if until <= now]:
                del self._revoked[old]
            self._revoked[nonce] = expiry
            if len(self._revoked) > self._max_revoked:
                self._generation += 1
                self._revoked.clear()
        return True

    def _mac(self, body: str) -> str:
        message = f"{self._generation}|{body}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def _check(self, token: str | None) -> tuple[int, str, str] | None:
        if not isinstance(token, str) or not token or len(token) > 200:
            return None
        found = _TOKEN.fullmatch(token)
        if found is None:
            return None
        body = token[: found.start("mac") - 1]
        expiry = int(found["expiry"])
        with self._lock:
            genuine = hmac.compare_digest(self._mac(body), found["mac"])
            if not genuine or found["nonce"] in self._revoked:
                return None
        if expiry <= self._clock():
            return None
        return expiry, found["mode"], found["nonce"]


#: Wrong passwords per client address, and for the whole server, for the whole process.
ATTEMPTS = AttemptLimiter()
#: Admitted sessions, for the whole process.
GRANTS = Grants()
#: Access tokens of admitted browsers, signed with this process's key.
TOKENS = AccessTokens()
