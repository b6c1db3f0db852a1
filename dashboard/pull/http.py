"""HTTP for the pulls: JSON over ``urllib`` with bounded retries, back-off and token renewal.

What is retried, up to :attr:`RetryPolicy.attempts` tries per request:

* the network: a refused or reset connection, a timeout, a body cut short
  (``http.client.IncompleteRead``, a connection closed mid-answer);
* the server: HTTP 429, 500, 502, 503 and 504, waiting as ``Retry-After`` says (seconds
  or an HTTP date, capped at :attr:`RetryPolicy.max_retry_after`) or else
  ``base_delay * 2 ** (try - 1)`` capped at :attr:`RetryPolicy.max_delay`;
* an answer that is not the JSON it should be (malformed, truncated, or refused by the
  caller's ``check``: a page whose row count disagrees with its own ``count``).

HTTP 401 asks the :class:`Auth` to renew its token once (ACLED's access tokens expire); a
second 401, or a 403, is a :class:`~dashboard.errors.CredentialsError`. Any other 4xx is a
:class:`~dashboard.errors.PullError` at once: asking again would get the same answer.

Secrets: tokens travel in headers only, never in a URL; every message that leaves the
client (its own, the ``check``'s, the :class:`Auth`'s) goes through
:func:`dashboard.redact.mask_values` with the secrets the client was given and the auth's; a redirect to
another host (or from HTTPS to HTTP) is followed without the secret headers. A URL whose
host is the loopback address is fetched without a proxy (the tests' fake servers).
"""

from __future__ import annotations

import email.utils
import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import IO, Any, Protocol

from dashboard.errors import CredentialsError, PullError
from dashboard.redact import mask_values

#: Statuses worth asking again: too many requests, and the server's own failures.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
#: Headers that carry a secret; never sent on to another host.
SECRET_HEADERS = frozenset({"authorization", "x-ucdp-access-token"})
USER_AGENT = "conflictmap-pull/1 (Python urllib)"
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
#: Characters of a server's error text quoted in a message.
_QUOTED = 200


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one request is tried.

    Attributes
    ----------
    attempts
        Tries per request, the first included (at least 1).
    base_delay
        Seconds before the second try; doubles on each further one.
    max_delay
        Cap on the computed back-off.
    max_retry_after
        Cap on a server's ``Retry-After`` (a server asking for an hour gets this long).
    timeout
        Seconds to wait for a connection or a read.
    """

    attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 60.0
    max_retry_after: float = 300.0
    timeout: float = 120.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {self.attempts!r}")
        if min(self.base_delay, self.max_delay, self.max_retry_after) < 0:
            raise ValueError("delays cannot be negative")

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed try number ``attempt`` (1-based)."""
        return min(self.max_delay, self.base_delay * 2 ** (attempt - 1))


class Auth(Protocol):
    """Credentials the client sends with each request, and renews on a 401."""

    def headers(self) -> dict[str, str]:
        """The headers that authenticate one request (a fresh token when the last expired)."""
        ...

    def renew(self) -> bool:
        """Get new credentials after the server said the current ones expired; False when
        there is nothing to renew (a fixed token)."""
        ...

    def refused(self, status: int, reason: str) -> CredentialsError:
        """The error for a 401 that renewing did not cure, or a 403."""
        ...

    def secrets(self) -> tuple[str, ...]:
        """Values to mask in every message."""
        ...


class BadAnswer(ValueError):
    """Raised by a caller's ``check``: the JSON parsed but is not a usable answer (a page
    cut short, a missing field). Retried like a truncated body."""


@dataclass(frozen=True)
class Answer:
    """A parsed JSON answer and how it was obtained."""

    status: int
    data: Any
    attempts: int


class _Retry(Exception):
    """One failed try worth another: what went wrong, and the server's wait if it gave one."""

    def __init__(self, problem: str, wait: float | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.wait = wait


class _KeepSecretsOnHost(urllib.request.HTTPRedirectHandler):
    """Follow redirects, but send secret headers only to the host that was asked (urllib
    would copy ``Authorization`` to any host a server redirects to)."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is None:
            return None
        old, moved = urllib.parse.urlsplit(req.full_url), urllib.parse.urlsplit(new.full_url)
        downgraded = old.scheme == "https" and moved.scheme != "https"
        if moved.netloc != old.netloc or downgraded:
            for name in list(new.headers):
                if name.lower() in SECRET_HEADERS:
                    del new.headers[name]
        return new


def is_loopback(url: str) -> bool:
    """Whether ``url`` points at this machine (127.0.0.1, ::1, localhost)."""
    host = urllib.parse.urlsplit(url).hostname or ""
    return host in _LOOPBACK or host.startswith("127.")


def check_base_url(url: str, *, name: str) -> str:
    """A usable API base URL, without a trailing slash.

    Raises
    ------
    PullError
        Not http(s), no host, or plain HTTP to another machine (credentials would cross the
        network unencrypted).
    """
    text = url.strip().rstrip("/")
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PullError(f"{name} {mask_values(url, [])!r} is not an http(s) URL with a host")
    if parts.username or parts.password:
        raise PullError(f"{name} must not carry credentials: give them in the environment")
    if parts.scheme == "http" and not is_loopback(text):
        raise PullError(
            f"{name} {mask_values(url, [])!r}: plain http is only allowed to this machine "
            "(127.0.0.1); use https"
        )
    return text


def with_query(url: str, params: Mapping[str, object] | None) -> str:
    """``url`` with ``params`` appended to its query (values as text, in the given order)."""
    if not params:
        return url
    query = urllib.parse.urlencode([(k, str(v)) for k, v in params.items()], safe="|,:")
    return f"{url}{'&' if urllib.parse.urlsplit(url).query else '?'}{query}"


def retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delta-seconds or an HTTP date), None
    when absent or unreadable."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class Client:
    """JSON over HTTP with the retries of the module docstring.

    Parameters
    ----------
    policy
        Tries, back-off and timeouts.
    sleep
        Called with the seconds to wait between tries (``time.sleep``; tests pass a
        recorder, so that back-off costs no time).
    secrets
        Values masked in every message (besides those an :class:`Auth` gives).
    """

    def __init__(
        self,
        *,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        secrets: Iterable[str] = (),
    ) -> None:
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self._secrets = tuple(secrets)
        self.requests = 0
        """Requests sent (every try counts)."""
        self.retries = 0
        """Tries that failed and were tried again."""

    def scrub(self, text: str, auth: Auth | None = None, extra: Iterable[str] = ()) -> str:
        """``text`` with every secret this client knows (and ``extra``) masked."""
        held = auth.secrets() if auth is not None else ()
        return mask_values(text, (*self._secrets, *held, *extra))

    def get_json(
        self,
        url: str,
        *,
        what: str,
        params: Mapping[str, object] | None = None,
        auth: Auth | None = None,
        headers: Mapping[str, str] | None = None,
        check: Callable[[Any], None] | None = None,
    ) -> Answer:
        """GET ``url`` with ``params`` and parse the JSON answer.

        Parameters
        ----------
        url, params
            The address and its query parameters.
        what
            Names the request in messages ("ACLED events, page 3").
        auth
            Sends its headers; renewed once on a 401.
        headers
            Further headers.
        check
            Called with the parsed JSON; raises :class:`BadAnswer` when the answer cannot be
            used, which is retried.

        Raises
        ------
        CredentialsError
            401 after renewal, or 403.
        PullError
            Any other refusal, or retries exhausted.
        """
        full = with_query(url, params)
        return self._send(full, what=what, auth=auth, headers=headers, check=check)

    def post_form(
        self,
        url: str,
        form: Mapping[str, str],
        *,
        what: str,
        on_refusal: Callable[[int, str], Exception],
        secrets: Iterable[str] = (),
    ) -> Answer:
        """POST ``form`` (URL-encoded) and parse the JSON answer; a 4xx other than 429 is
        turned into an exception by ``on_refusal(status, reason)`` (a token endpoint's
        answer to wrong credentials). ``secrets`` (the form's password) are masked in every
        message, the reason given to ``on_refusal`` included."""
        body = urllib.parse.urlencode(form).encode("ascii")
        return self._send(url, what=what, body=body, on_refusal=on_refusal, secrets=tuple(secrets))

    # --- one request, tried until it succeeds or the policy gives up -------------------

    def _send(
        self,
        url: str,
        *,
        what: str,
        auth: Auth | None = None,
        headers: Mapping[str, str] | None = None,
        check: Callable[[Any], None] | None = None,
        body: bytes | None = None,
        on_refusal: Callable[[int, str], Exception] | None = None,
        secrets: tuple[str, ...] = (),
    ) -> Answer:
        try:
            return self._tries(
                url,
                what=what,
                auth=auth,
                headers=headers,
                check=check,
                body=body,
                on_refusal=on_refusal,
                secrets=secrets,
            )
        except PullError as exc:
            # Every message that leaves the client is scrubbed, whoever raised it: the
            # caller's ``check`` (an error a server put in a 200 answer, quoting a token or
            # the account's email), the auth (a refusal), or the tries below.
            text = str(exc)
            clean = self.scrub(text, auth, secrets)
            if clean == text:
                raise
            raise type(exc)(clean) from None

    def _tries(
        self,
        url: str,
        *,
        what: str,
        auth: Auth | None,
        headers: Mapping[str, str] | None,
        check: Callable[[Any], None] | None,
        body: bytes | None,
        on_refusal: Callable[[int, str], Exception] | None,
        secrets: tuple[str, ...],
    ) -> Answer:
        renewed = False
        attempt = 0
        started = time.monotonic()
        while True:
            attempt += 1
            try:
                status, data = self._try_once(url, auth=auth, headers=headers, body=body)
                if check is not None:
                    check(data)
                return Answer(status=status, data=data, attempts=attempt)
            except urllib.error.HTTPError as exc:
                reason = self.scrub(_reason(exc), auth, secrets)
                exc.close()
                if exc.code == 401 and auth is not None and not renewed and auth.renew():
                    renewed = True  # a renewed token is a new start, not a failed try
                    attempt -= 1
                    continue
                if exc.code in (401, 403) and auth is not None:
                    raise auth.refused(exc.code, reason) from None
                if exc.code not in RETRY_STATUSES:
                    if on_refusal is not None and 400 <= exc.code < 500:
                        raise on_refusal(exc.code, reason) from None
                    raise PullError(
                        f"{what}: HTTP {exc.code} {reason} ({self.scrub(url, auth, secrets)})"
                    ) from None
                problem = _Retry(
                    f"HTTP {exc.code} {reason}".strip(), retry_after(exc.headers.get("Retry-After"))
                )
            except _Retry as exc:
                problem = exc
            except BadAnswer as exc:
                problem = _Retry(f"unusable answer: {self.scrub(str(exc), auth, secrets)}")
            if attempt >= self.policy.attempts:
                seconds = time.monotonic() - started
                raise PullError(
                    f"{what}: {problem.problem}; gave up after {attempt} attempts in "
                    f"{seconds:.0f} s ({self.scrub(url, auth, secrets)})"
                )
            wait = (
                min(problem.wait, self.policy.max_retry_after)
                if problem.wait is not None
                else self.policy.backoff(attempt)
            )
            self.retries += 1
            self.sleep(wait)

    def _try_once(
        self,
        url: str,
        *,
        auth: Auth | None,
        headers: Mapping[str, str] | None,
        body: bytes | None,
    ) -> tuple[int, Any]:
        """One request: (status, parsed JSON), or :class:`_Retry` for a transient fault;
        an ``HTTPError`` for any status the caller decides on."""
        request = urllib.request.Request(url, data=body, method="POST" if body else "GET")
        request.add_header("Accept", "application/json")
        request.add_header("User-Agent", USER_AGENT)
        if body is not None:
            request.add_header("Content-Type", "application/x-www-form-urlencoded")
        for name, value in {**(auth.headers() if auth else {}), **(headers or {})}.items():
            request.add_header(name, value)
        self.requests += 1
        try:
            with _opener(url).open(request, timeout=self.policy.timeout) as response:
                status = response.status
                raw = response.read()
        except urllib.error.HTTPError:
            raise
        except urllib.error.URLError as exc:
            raise _Retry(f"cannot reach the server: {self.scrub(str(exc.reason), auth)}") from None
        except (http.client.HTTPException, ConnectionError, TimeoutError) as exc:
            raise _Retry(
                f"the connection failed ({type(exc).__name__}: {self.scrub(str(exc), auth)})"
            ) from None
        try:
            return status, json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            size = f"{len(raw):,} bytes"
            raise _Retry(f"the answer is not complete JSON ({size}: {exc})") from None


def _opener(url: str) -> urllib.request.OpenerDirector:
    handlers: list[urllib.request.BaseHandler] = [_KeepSecretsOnHost()]
    if is_loopback(url):  # a proxy from the environment must not swallow the fake servers
        handlers.append(urllib.request.ProxyHandler({}))
    return urllib.request.build_opener(*handlers)


def _reason(exc: urllib.error.HTTPError) -> str:
    """The status's reason and the server's own message, short and on one line."""
    text = ""
    try:
        raw = exc.read(4096)
    except (OSError, http.client.HTTPException):
        raw = b""
    if raw:
        try:
            payload = json.loads(raw.decode("utf-8", "replace"))
        except ValueError:
            text = raw.decode("utf-8", "replace")
        else:
            text = _message_of(payload)
    text = " ".join(text.split())[:_QUOTED]
    base = (exc.reason or "").strip() if isinstance(exc.reason, str) else ""
    return f"{base}: {text}" if text and base else (text or base)


def _message_of(payload: Any) -> str:
    """The human part of an API's error JSON (ACLED: ``message``/``messages``; OAuth:
    ``error_description``/``error``; UCDP: ``Message``)."""
    if not isinstance(payload, dict):
        return str(payload)
    for key in ("error_description", "message", "Message", "messages", "error"):
        value = payload.get(key)
        if value:
            return "; ".join(map(str, value)) if isinstance(value, list) else str(value)
    return json.dumps(payload)[:_QUOTED]
