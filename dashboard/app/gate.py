"""The process's record of access: the one deliberate piece of process-wide state.

Everything else of a user lives in their session (``st.session_state``); these two facts
cannot, because they must outlive a session or be read where no session is:

:data:`ATTEMPTS`
    Wrong passwords per client address, across sessions. The page's per-session back-off
    (``auth.lock_seconds``) ends with the session, and a new session is one request away;
    this one does not. Keyed on the client's address (``auth.client_address``).
:data:`GRANTS`
    The sessions the access gate admitted, and the access token each was given. The
    server's own endpoints (uploads, ``/_stcore/metrics``, ``/media/...``, wrapped in
    ``server.py``) run outside any page run: they ask here whether a session, or the
    token in a request's cookie, was admitted.

Both are bounded (oldest entries dropped first), guarded by one lock each, and hold no
data, no password and no personal detail beyond the client address. This module imports
no Streamlit: the tests use it directly, with their own clock.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

#: Wrong passwords one client address may try (over any number of sessions) freely.
ADDRESS_FREE_ATTEMPTS = 10
#: First wait after them (doubling with each further wrong one), and the cap.
ADDRESS_FIRST_LOCK_S = 5.0
ADDRESS_MAX_LOCK_S = 300.0
#: An address with no attempt for this long starts again from zero.
ADDRESS_FORGET_S = 3600.0
#: Addresses remembered at most (the least recently seen are forgotten first).
MAX_ADDRESSES = 10_000
#: Admitted sessions remembered at most (sessions that ended are dropped first).
MAX_GRANTS = 10_000


def address_lock_seconds(failures: int) -> float:
    """How long one address waits after ``failures`` wrong passwords in a row."""
    if failures < ADDRESS_FREE_ATTEMPTS:
        return 0.0
    return min(ADDRESS_MAX_LOCK_S, ADDRESS_FIRST_LOCK_S * 2 ** (failures - ADDRESS_FREE_ATTEMPTS))


@dataclass
class _Record:
    failures: int
    locked_until: float
    seen: float


class AttemptLimiter:
    """Password attempts per client address, shared by every session of the process.

    An attempt is counted as wrong when it starts (:meth:`begin`) and forgiven when the
    password was right (:meth:`succeeded`): attempts made at the same moment from many
    sessions cannot all slip through between a check and its record.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_addresses: int = MAX_ADDRESSES,
    ) -> None:
        self._clock = clock
        self._max = max_addresses
        self._lock = threading.Lock()
        self._records: OrderedDict[str, _Record] = OrderedDict()

    def begin(self, address: str) -> tuple[float, int]:
        """Start an attempt from ``address``: (seconds to wait, 0 when it may go ahead;
        the wrong attempts counted so far, this one included when it goes ahead)."""
        now = self._clock()
        with self._lock:
            record = self._records.get(address)
            if record is not None and now - record.seen > ADDRESS_FORGET_S:
                record = None
            if record is None:
                record = _Record(failures=0, locked_until=0.0, seen=now)
            if record.locked_until > now:
                self._keep(address, record)
                return record.locked_until - now, record.failures
            record.failures += 1
            record.seen = now
            record.locked_until = now + address_lock_seconds(record.failures)
            self._keep(address, record)
            return 0.0, record.failures

    def succeeded(self, address: str) -> None:
        """The attempt begun from ``address`` had the right password: forget its record."""
        with self._lock:
            self._records.pop(address, None)

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
    """Sessions the access gate admitted, and the access tokens given to their browsers.

    A token is valid while one of the sessions it was given to is alive (``alive``: the
    server's runtime knows the session). Tabs of one browser share one token: a session
    admitted with a valid token in its cookie keeps it (:meth:`admit` with ``token``), so
    closing one tab does not lock the others out of their downloads.
    """

    def __init__(self, *, max_sessions: int = MAX_GRANTS) -> None:
        self._max = max_sessions
        self._lock = threading.Lock()
        self._sessions: OrderedDict[str, tuple[str, str]] = OrderedDict()  # id: (mode, token)
        self._tokens: dict[str, set[str]] = {}  # token: session ids

    def admit(
        self,
        session_id: str,
        mode: str,
        *,
        token: str | None = None,
        alive: Callable[[str], bool] | None = None,
    ) -> str:
        """Record ``session_id`` as admitted in ``mode``; return its access token.

        ``token`` is the one the browser already holds (its cookie): kept when some live
        session was given it, else a new one is made. ``alive`` lets dead sessions be
        dropped when the record is full.
        """
        with self._lock:
            current = self._sessions.get(session_id)
            # Once admitted, a session keeps its token: the cookie its browser sent when it
            # connected may be an older one, and must not make it change on every run.
            if current is not None and current[0] == mode:
                return current[1]
            if current is not None:
                self._forget(session_id)
            if not (token and token in self._tokens and self._live(token, alive)):
                token = secrets.token_urlsafe(32)
            self._sessions[session_id] = (mode, token)
            self._tokens.setdefault(token, set()).add(session_id)
            self._bound(alive)
            return token

    def revoke(self, session_id: str) -> None:
        """The session is no longer admitted (logged out, refused, or ended)."""
        with self._lock:
            self._forget(session_id)

    def mode(self, session_id: str) -> str | None:
        """The mode ``session_id`` was admitted in, or None."""
        with self._lock:
            found = self._sessions.get(session_id)
            return None if found is None else found[0]

    def token_valid(self, token: str | None, alive: Callable[[str], bool]) -> bool:
        """Whether ``token`` was given to a session that is still alive."""
        if not token:
            return False
        with self._lock:
            return token in self._tokens and self._live(token, alive)

    def prune(self, alive: Callable[[str], bool]) -> int:
        """Forget the sessions that are no longer alive; how many were forgotten."""
        with self._lock:
            dead = [sid for sid in self._sessions if not alive(sid)]
            for sid in dead:
                self._forget(sid)
            return len(dead)

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    def _live(self, token: str, alive: Callable[[str], bool] | None) -> bool:
        sessions = self._tokens.get(token, set())
        return bool(sessions) if alive is None else any(alive(sid) for sid in sessions)

    def _forget(self, session_id: str) -> None:
        found = self._sessions.pop(session_id, None)
        if found is None:
            return
        holders = self._tokens.get(found[1])
        if holders is not None:
            holders.discard(session_id)
            if not holders:
                del self._tokens[found[1]]

    def _bound(self, alive: Callable[[str], bool] | None) -> None:
        if len(self._sessions) <= self._max:
            return
        if alive is not None:
            for sid in [s for s in self._sessions if not alive(s)]:
                self._forget(sid)
        while len(self._sessions) > self._max:
            self._forget(next(iter(self._sessions)))


#: Wrong passwords per client address, for the whole process.
ATTEMPTS = AttemptLimiter()
#: Admitted sessions and their access tokens, for the whole process.
GRANTS = Grants()
