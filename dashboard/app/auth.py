"""Who may see the data: decided at the top of every run, before anything of it is sent.

Three modes, chosen from the secrets (``.streamlit/secrets.toml``) and the environment:

``oidc``
    ``[auth]`` is configured: Streamlit's OpenID Connect login (``st.login``) guards the
    app, and the signed-in address must be on the allowlist ``[access] allowed`` (whole
    addresses, ``"@domain"`` for a whole domain, ``"*"`` for anyone the identity provider
    lets in). The list is checked on every run; a user who is not on it sees a refusal
    and a logout button, never the data. An empty list lets nobody in.
``password``
    No ``[auth]``, but a shared password in ``[access] password`` or ``DASHBOARD_PASSWORD``:
    a password box, and nothing else, until the password is right. Wrong attempts are
    rate-limited per session, across sessions per client address, and for the whole
    server per minute (``gate.ATTEMPTS``); the password itself is never kept in the
    session.
``local``
    Neither: only for a server listening on a loopback address. On any other address the
    page refuses to show data unless ``conflictmap serve --insecure-public`` said so
    (through :data:`INSECURE_ENV`).

The policy functions (no Streamlit) come first: ``conflictmap serve`` uses them before the
server starts. The gate, :func:`require_access`, imports Streamlit when it runs.

Every session the gate admits is recorded in ``gate.GRANTS`` (by session id), so that the
server's own endpoints, which run outside the page, can tell: uploads are accepted only
from admitted sessions. In the password and OIDC modes the browser also gets an access
cookie (:data:`ACCESS_COOKIE`) holding a signed token (``gate.TOKENS``) without which
``/_stcore/metrics`` and ``/media/...`` answer 403 (``guard.py``). The token is the
browser's, not a session's: closing one tab leaves the others' downloads working. A run
of an admitted session writes a new one when the token it knows the browser holds is
missing, revoked, or within ``gate.TOKEN_RENEW_S`` of its expiry. Logging out, and the
login screen or the allowlist's refusal, revoke the token the browser presents.

A login leaves the page (identity provider, then ``/oauth2callback``, which always
redirects to the app's root), so the session and the URL's view state would be lost. The
login screen therefore keeps the query string in a short-lived cookie (scoped to the
app's base path) and the first run after the login puts it back into the URL, before the
view is read from it.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import math
import os
import re
import time
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import parse_qs, unquote

from dashboard.app.gate import doubling_wait
from dashboard.errors import DashboardError

log = logging.getLogger(__name__)

OIDC = "oidc"
PASSWORD = "password"
LOCAL = "local"

#: Environment variable holding the shared password (when the secrets have none).
PASSWORD_ENV = "DASHBOARD_PASSWORD"
#: Set to "1" by ``conflictmap serve --insecure-public``: data on a public address, no login.
INSECURE_ENV = "CONFLICTMAP_INSECURE_PUBLIC"
#: Header naming the client's address, set by a trusted reverse proxy (e.g.
#: ``X-Forwarded-For``); unset, the address of the connection is used. Also
#: ``[access] client_address_header`` in the secrets.
ADDRESS_HEADER_ENV = "CONFLICTMAP_CLIENT_ADDRESS_HEADER"
#: Allowlist entry that admits every user the identity provider signs in.
ANY_USER = "*"

#: Wrong passwords allowed before each further attempt has to wait.
FREE_ATTEMPTS = 3
#: First wait after the free attempts (doubles with each further wrong one), and the cap.
FIRST_LOCK_S = 5.0
MAX_LOCK_S = 300.0

#: Cookie carrying the access token of an admitted browser (see ``gate.TOKENS``).
ACCESS_COOKIE = "conflictmap_access"
#: Cookie carrying the query string through the login redirect.
VIEW_COOKIE = "conflictmap_view"
VIEW_COOKIE_MAX_AGE_S = 600
#: Longest query string kept (cookies hold about 4 kB); longer views are not kept.
MAX_SAVED_QUERY = 2000
MAX_SAVED_KEYS = 40

# Session keys (per session; never module globals).
K_GRANTED = "auth_granted"  # the mode access was granted in
K_FAILURES = "auth_failures"  # wrong passwords so far
K_LOCKED_UNTIL = "auth_locked_until"  # clock value before which no attempt is checked
K_VIEW_RESTORED = "auth_view_restored"  # the saved view was looked at (once per session)
K_ACCESS_SET = "auth_access_set"  # the access token this session last wrote into the cookie

_SAFE_PATH = re.compile(r"[A-Za-z0-9._~/-]*")

#: The clock the rate limit reads (monotonic; tests replace it).
_clock = time.monotonic


class AccessConfigError(DashboardError, ValueError):
    """The access settings in the secrets (or the environment) cannot be used."""


@dataclass(frozen=True)
class Policy:
    """The access mode the secrets and environment ask for."""

    mode: str
    #: Normalised allowlist entries (OIDC only).
    allowed: tuple[str, ...] = ()
    #: Provider names to offer (OIDC only); None is the unnamed ``[auth]`` provider.
    providers: tuple[str | None, ...] = (None,)
    password: str | None = field(default=None, repr=False)
    #: Header a trusted proxy puts the client's address in; None: the connection's address.
    address_header: str | None = None

    @property
    def guarded(self) -> bool:
        """Whether a login or a password guards the data (the server's endpoints too)."""
        return self.mode in (OIDC, PASSWORD)


@dataclass(frozen=True)
class Access:
    """What the gate granted: the page uses it to decide what to show (attribution)."""

    mode: str
    #: Served to others: any access-controlled mode, or bound to a non-loopback address.
    hosted: bool
    user: str | None = None


# --- policy (plain Python) -------------------------------------------------------------


def is_public_address(address: str | None) -> bool:
    """Whether a server listening on ``address`` can be reached from other machines.

    ``None`` means no HTTP server runs the script (AppTest, bare mode): nothing listens.
    An empty address is Streamlit's default, every interface. Host names other than
    ``localhost`` count as public: what they resolve to is not known here.
    """
    if address is None:
        return False
    text = address.strip().strip("[]").lower()
    if text == "localhost":
        return False
    if not text:
        return True
    try:
        return not ipaddress.ip_address(text).is_loopback
    except ValueError:
        return True


def normalise_allowlist(value: object) -> tuple[str, ...]:
    """The ``[access] allowed`` entries, trimmed and lower-cased.

    Raises
    ------
    AccessConfigError
        An entry that is neither ``"*"``, ``"@domain"`` nor ``"name@domain"``.
    """
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, Sequence):
        raise AccessConfigError(
            f"[access] allowed must be a list of e-mail addresses or '@domain' entries, "
            f"not {type(value).__name__}"
        )
    out: list[str] = []
    for item in items:
        entry = str(item).strip().lower()
        if entry == ANY_USER:
            out.append(entry)
            continue
        local, at, domain = entry.rpartition("@")
        if not at or not domain or "@" in local or any(c.isspace() for c in entry):
            raise AccessConfigError(
                f"[access] allowed: {str(item)!r} is neither an e-mail address nor '@domain'"
            )
        out.append(entry)
    return tuple(out)


def email_allowed(email: object, allowed: Sequence[str], *, verified: object = None) -> bool:
    """Whether a signed-in user's e-mail address is on the allowlist.

    ``verified`` is the provider's ``email_verified`` claim: an address the provider says
    it has not verified is refused; a provider that does not send the claim is trusted.
    Domains match exactly (``@team.org`` admits ``a@team.org``, not ``a@sub.team.org``).
    """
    if verified is False or str(verified).strip().lower() == "false":
        return False
    if not isinstance(email, str):
        return False
    address = email.strip().lower()
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or "@" in local:
        return False
    for entry in allowed:
        if entry == ANY_USER:
            return True
        if entry.startswith("@") and domain == entry[1:]:
            return True
        if entry == address:
            return True
    return False


def _providers(auth: Mapping[str, Any], access: Mapping[str, Any]) -> tuple[str | None, ...]:
    chosen = access.get("provider")
    if chosen:
        return (str(chosen),)
    named = tuple(
        str(name)
        for name, value in auth.items()
        if isinstance(value, Mapping) and ("client_id" in value or "server_metadata_url" in value)
    )
    if "client_id" in auth or not named:
        return (None, *named)
    return named


def policy_from(secrets: Mapping[str, Any], environ: Mapping[str, str]) -> Policy:
    """The access mode asked for by the secrets and the environment.

    ``[auth]`` (OIDC) wins; then ``[access] password``, then ``DASHBOARD_PASSWORD``;
    else local mode.

    Raises
    ------
    AccessConfigError
        ``[access]`` is not a table, or an allowlist entry is malformed.
    """
    access = secrets.get("access") or {}
    if not isinstance(access, Mapping):
        raise AccessConfigError("[access] in the secrets must be a table")
    header = str(access.get("client_address_header") or "").strip()
    header = header or environ.get(ADDRESS_HEADER_ENV, "").strip()
    if header and not re.fullmatch(r"[A-Za-z0-9-]+", header):
        raise AccessConfigError(f"client_address_header: {header!r} is not a header name")
    address_header = header or None
    auth = secrets.get("auth")
    if auth:
        if not isinstance(auth, Mapping):
            raise AccessConfigError("[auth] in the secrets must be a table")
        return Policy(
            OIDC,
            allowed=normalise_allowlist(access.get("allowed")),
            providers=_providers(auth, access),
            address_header=address_header,
        )
    password = str(access.get("password") or "") or environ.get(PASSWORD_ENV, "")
    if password:
        return Policy(PASSWORD, password=password, address_header=address_header)
    return Policy(LOCAL, address_header=address_header)


def header_values(headers: Mapping[str, str], name: str) -> list[str]:
    """Every value of the header ``name``, in the order received.

    Streamlit's ``st.context.headers`` returns the FIRST of repeated headers from ``get``
    and ``[]``; its ``get_all`` has them all. A plain mapping has one value per name.
    """
    get_all = getattr(headers, "get_all", None)
    if callable(get_all):
        return [str(value) for value in get_all(name)]
    for key, value in headers.items():
        if key.lower() == name.lower() and isinstance(value, str):
            return [value]
    return []


_BRACKETED = re.compile(r"\[([^\]]+)\](?::\d+)?")
_IPV4_PORT = re.compile(r"(\d{1,3}(?:\.\d{1,3}){3}):\d+")


def address_key(address: str) -> str:
    """What attempts from ``address`` are counted under: an IPv4 address as it is, an IPv6
    address by its /64 (the block one subscriber gets: 2^64 addresses to cycle through), a
    port or brackets a proxy wrote dropped; anything else as written (at most 64 chars).
    """
    text = address.strip()
    bracketed = _BRACKETED.fullmatch(text) or _IPV4_PORT.fullmatch(text)
    if bracketed:
        text = bracketed.group(1)
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return text[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(ip) >> 64 << 64, 64)))
    return str(ip)


def client_address(
    remote: str | None, headers: Mapping[str, str], trusted_header: str | None
) -> str:
    """The address password attempts are counted against (see :func:`address_key`).

    ``remote`` is the connection's address (None for a loopback connection, as Streamlit
    reports it). ``trusted_header`` is read only when configured: a client can write any
    header, so it counts only behind a proxy that sets it. The proxy's word is the last
    entry of the last such header: a proxy appends its entry to the list (nginx's
    ``$proxy_add_x_forwarded_for``) or adds a header line of its own after the client's
    (HAProxy's ``option forwardfor``); earlier entries and lines are the client's word.
    """
    if trusted_header:
        values = header_values(headers, trusted_header)
        if values:
            last = values[-1].split(",")[-1].strip()
            if last:
                return address_key(last)
    # Anything but a text address (no server: AppTest's stand-in) counts as this machine.
    return address_key(remote) if isinstance(remote, str) and remote else "loopback"


def default_secret_files(cwd: Path | None = None) -> list[Path]:
    """Where Streamlit looks for secrets by default: the user's, then the working folder's."""
    base = Path.cwd() if cwd is None else cwd
    return [Path.home() / ".streamlit" / "secrets.toml", base / ".streamlit" / "secrets.toml"]


def current_policy() -> Policy:
    """The policy of the running server (its secrets and environment).

    Raises
    ------
    AccessConfigError
        The secrets cannot be read or describe no usable mode.
    """
    return policy_from(_app_secrets(), os.environ)


def read_secret_files(paths: Sequence[Path]) -> dict[str, Any]:
    """The secrets of the TOML files that exist, later files overriding earlier ones.

    Raises
    ------
    AccessConfigError
        A file exists but is not valid TOML (the message names it, not its contents).
    """
    secrets: dict[str, Any] = {}
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise AccessConfigError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
        try:
            secrets.update(tomllib.loads(text))
        except tomllib.TOMLDecodeError as exc:
            raise AccessConfigError(f"{path}: not valid TOML ({exc})") from None
    return secrets


def lock_seconds(failures: int) -> float:
    """How long the next attempt waits after ``failures`` wrong passwords in a row."""
    return doubling_wait(failures, free=FREE_ATTEMPTS, first=FIRST_LOCK_S, cap=MAX_LOCK_S)


def saved_view_params(raw: str | None) -> dict[str, list[str]]:
    """The query parameters kept in the view cookie (untrusted: parsed again by the page)."""
    if not raw or len(raw) > 3 * MAX_SAVED_QUERY:
        return {}
    query = unquote(raw)
    if len(query) > MAX_SAVED_QUERY:
        return {}
    parsed = parse_qs(query, keep_blank_values=False)
    if len(parsed) > MAX_SAVED_KEYS:
        return {}
    return {key: values for key, values in parsed.items() if key and values}


# --- the gate (Streamlit) --------------------------------------------------------------


def require_access() -> Access:
    """Stop the run unless this session may see the data; say how access was granted.

    Called first thing on every run of the page: until it returns, nothing of the data
    has been loaded or sent.
    """
    import streamlit as st

    try:
        policy = current_policy()
    except AccessConfigError as exc:
        log.error("access settings unusable: %s", exc)
        _revoke(browser=True)
        _refuse(f"Access control is misconfigured, so no data is shown: {exc}")
    public = is_public_address(listen_address())
    if policy.mode == OIDC:
        user = _oidc_gate(policy)
        _admit(OIDC)
        return Access(OIDC, hosted=True, user=user)
    if policy.mode == PASSWORD:
        _password_gate(policy)
        _admit(PASSWORD)
        return Access(PASSWORD, hosted=True)
    if public:
        if os.environ.get(INSECURE_ENV) != "1":
            _revoke()
            _refuse(
                "This dashboard listens on a public address without access control, so it "
                "shows no data. Configure a login or a password (see the README, "
                "Deployment), or start it with `conflictmap serve --insecure-public`."
            )
        st.warning(
            "Open to anyone who can reach this server: no login or password is configured "
            "(started with --insecure-public)."
        )
    _admit(LOCAL)
    return Access(LOCAL, hosted=public)


def listen_address() -> str | None:
    """The address the server listens on ("" = every interface); None with no HTTP server.

    A script run by a real server always has the request headers of its websocket;
    AppTest and bare runs have none.
    """
    import streamlit as st

    if not st.context.headers:
        return None
    return str(st.get_option("server.address") or "")


def show_attribution(access: Access, dataset: object, sources: object = None) -> None:
    """In hosted mode, credit the data's sources under the title (licence terms ask it).

    ``sources`` (the sidebar's ``Sources``) says where the files are, so that only the
    bundled files are credited as the bundled demo; an upload is named as one.
    """
    if not access.hosted:
        return
    import streamlit as st

    from dashboard.app.safetext import md
    from dashboard.attribution import attribution_lines

    options: dict[str, Any] = {}
    events_ref = getattr(sources, "events", None)
    area_refs = getattr(sources, "areas", None)
    if events_ref is not None:
        if events_ref.path:
            options["events_path"] = events_ref.path
        else:
            options["events_name"] = f"{events_ref.name} (uploaded)"
    if area_refs:
        if all(ref.path for ref in area_refs):
            options["area_paths"] = [ref.path for ref in area_refs]
        else:
            options["areas_names"] = [
                ref.name if ref.path else f"{ref.name} (uploaded)" for ref in area_refs
            ]
    lines = attribution_lines(dataset, **options)
    if lines:
        st.caption("  \n".join(md(line, limit=None) for line in lines))


def _app_secrets() -> dict[str, Any]:
    import streamlit as st
    from streamlit.errors import StreamlitSecretNotFoundError

    try:
        return st.secrets.to_dict()
    except StreamlitSecretNotFoundError as exc:
        if getattr(exc, "error_id", None) == "no-secrets-found":
            return {}
        # A secrets file that exists but cannot be read: refuse rather than fall back.
        raise AccessConfigError("the secrets file could not be read") from exc


def _heading() -> None:
    import streamlit as st

    st.markdown("#### Conflict map")


def _refuse(message: str) -> NoReturn:
    import streamlit as st

    from dashboard.app.safetext import md

    _heading()
    st.error(md(message, limit=None))
    st.stop()
    raise AssertionError("st.stop() returned")  # pragma: no cover


def _session_id() -> str | None:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return None if ctx is None else ctx.session_id


def _alive() -> Any:
    """The runtime's test of a live session, or None where no runtime serves (AppTest)."""
    from streamlit.runtime import Runtime

    return Runtime.instance().is_active_session if Runtime.exists() else None


def _admit(mode: str) -> None:
    """Record this session as admitted; in the guarded modes, see that the browser holds
    a valid access token."""
    import streamlit as st

    from dashboard.app.gate import GRANTS, TOKENS

    session_id = _session_id()
    if session_id is None:
        return
    GRANTS.admit(session_id, mode, alive=_alive())
    if mode == LOCAL:
        return
    ss = st.session_state
    # The cookie as the browser sent it when this session connected, unless this session
    # wrote one since. Another tab may have written a newer one: never an older one, so
    # when this one is fresh, so is the browser's.
    known = ss.get(K_ACCESS_SET) or _browser_token()
    if TOKENS.fresh(known, mode):
        return
    token = TOKENS.issue(mode)
    ss[K_ACCESS_SET] = token
    # A session cookie (no Max-Age): the browser forgets it when it closes, and the token
    # itself expires. Only the server's own signed token (letters, digits, "._-") is
    # written into the script.
    st.html(
        "<script>(function(){"
        "var secure = window.location.protocol === 'https:' ? '; Secure' : '';"
        f"document.cookie = '{ACCESS_COOKIE}={token}; Path={_cookie_path()}; "
        "SameSite=Strict' + secure;"
        "})();</script>",
        unsafe_allow_javascript=True,
    )


def _browser_token() -> str | None:
    """The access cookie the browser sent when this session connected (Streamlit reads
    cookies once, at connection)."""
    import streamlit as st

    value = st.context.cookies.get(ACCESS_COOKIE)
    return value if isinstance(value, str) else None  # AppTest gives a stand-in object


def _revoke(*, browser: bool = False) -> None:
    """This session is not admitted (any more). ``browser``: nor is its browser, whose
    access tokens (the one it connected with, the one this session wrote) are revoked.

    The password box does not revoke the browser's token: another tab of the same browser
    may hold the password, and each new session asks for it again.
    """
    import streamlit as st

    from dashboard.app.gate import GRANTS, TOKENS

    session_id = _session_id()
    if session_id is not None:
        GRANTS.revoke(session_id)
    if browser:
        TOKENS.revoke(_browser_token())
        TOKENS.revoke(st.session_state.pop(K_ACCESS_SET, None))


def _attempt_address(policy: Policy) -> str:
    import streamlit as st

    return client_address(st.context.ip_address, st.context.headers, policy.address_header)


def _password_gate(policy: Policy) -> None:
    import streamlit as st

    from dashboard.app.gate import ATTEMPTS, SERVER_ATTEMPTS_PER_MINUTE

    password = policy.password or ""
    ss = st.session_state
    if ss.get(K_GRANTED) == PASSWORD:
        return
    _revoke()
    _heading()
    st.write("This dashboard is shared with a password.")
    with st.form("conflictmap_password", clear_on_submit=True):
        entered = st.text_input("Password", type="password", autocomplete="current-password")
        submitted = st.form_submit_button("Open the dashboard", type="primary")
    if submitted:
        wait = float(ss.get(K_LOCKED_UNTIL, 0.0)) - _clock()
        if wait > 0:
            st.error(f"Too many wrong passwords: try again in {math.ceil(wait)} s.")
            st.stop()
        # Counted before the comparison, across sessions: a new session does not reset it.
        address = _attempt_address(policy)
        address_wait, tried, server_wide = ATTEMPTS.begin(address)
        if address_wait > 0 and server_wide:
            log.warning(
                "password attempt from %s refused: over %d wrong attempts a minute on the "
                "whole server",
                address,
                SERVER_ATTEMPTS_PER_MINUTE,
            )
            st.error(
                "Too many wrong passwords on this server just now (from everyone): try "
                f"again in {math.ceil(address_wait)} s."
            )
        elif address_wait > 0:
            log.warning(
                "password attempt refused: %d wrong from %s, locked %d s more",
                tried,
                address,
                math.ceil(address_wait),
            )
            st.error(
                "Too many wrong passwords from your network address: try again in "
                f"{math.ceil(address_wait)} s."
            )
        elif hmac.compare_digest(entered.encode("utf-8"), password.encode("utf-8")):
            ATTEMPTS.succeeded(address)
            for key in (K_FAILURES, K_LOCKED_UNTIL):
                ss.pop(key, None)
            ss[K_GRANTED] = PASSWORD
            st.rerun()
        else:
            failures = int(ss.get(K_FAILURES, 0)) + 1
            ss[K_FAILURES] = failures
            ss[K_LOCKED_UNTIL] = _clock() + lock_seconds(failures)
            log.warning(
                "wrong dashboard password (%d in this session, %d from %s)",
                failures,
                tried,
                address,
            )
            st.error("Wrong password.")
    st.stop()


def _oidc_gate(policy: Policy) -> str:
    import streamlit as st

    from dashboard.app.safetext import md

    user = st.user
    if not user.get("is_logged_in"):
        # Also after a logout: the new session's browser presents the old token.
        _revoke(browser=True)
        _heading()
        st.write("Sign in to see the dashboard.")
        _remember_view()
        for provider in policy.providers:
            label = "Log in" if provider is None else f"Log in with {provider}"
            if st.button(label, key=f"auth_login_{provider or 'default'}", type="primary"):
                try:
                    st.login(provider)
                except Exception as exc:  # noqa: BLE001 - misconfigured [auth]: say so, show nothing else
                    log.error("st.login failed: %s", exc)
                    st.error(f"Login is not configured correctly: {md(exc, limit=300)}")
        st.stop()
    email = user.get("email")
    if not email_allowed(email, policy.allowed, verified=user.get("email_verified")):
        _revoke(browser=True)
        log.warning("signed-in user not on the allowlist: %r", email)
        _heading()
        who = md(email) if isinstance(email, str) and email else "an account without an e-mail"
        st.error(
            f"You are signed in as {who}, which may not see this dashboard. Ask its owner "
            "to add the address, or log out and sign in with another account."
        )
        if st.button("Log out", key="auth_logout_refused"):
            _log_out()
        st.stop()
    _restore_view()
    with st.sidebar:
        st.caption(f"Signed in as {md(email)}")
        if st.button("Log out", key="auth_logout"):
            _log_out()
    return str(email)


def _log_out() -> NoReturn:
    """Revoke this browser's access, then Streamlit's logout (the browser then leaves the
    page for the provider's logout); nothing more of this run is sent."""
    import streamlit as st

    _revoke(browser=True)
    st.logout()
    st.stop()
    raise AssertionError("st.stop() returned")  # pragma: no cover


def _cookie_path() -> str:
    import streamlit as st

    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    if not _SAFE_PATH.fullmatch(base):
        return "/"  # an odd base path: a wider cookie path rather than a broken script
    return f"/{base}" if base else "/"


def _remember_view() -> None:
    """Keep the URL's query string in a cookie for the first run after the login."""
    import streamlit as st

    if not st.query_params:
        return
    # The script copies the page's own query string; no server value is written into it.
    st.html(
        "<script>(function(){"
        "var q = window.location.search.replace(/^\\?/, '');"
        f"if (!q || q.length > {MAX_SAVED_QUERY}) return;"
        "var secure = window.location.protocol === 'https:' ? '; Secure' : '';"
        f"document.cookie = '{VIEW_COOKIE}=' + encodeURIComponent(q) + "
        f"'; Path={_cookie_path()}; Max-Age={VIEW_COOKIE_MAX_AGE_S}; SameSite=Lax' + secure;"
        "})();</script>",
        unsafe_allow_javascript=True,
    )


def _restore_view() -> None:
    """Once per session: put the view kept before the login back into an empty URL."""
    import streamlit as st

    ss = st.session_state
    if ss.get(K_VIEW_RESTORED):
        return
    ss[K_VIEW_RESTORED] = True
    raw = st.context.cookies.get(VIEW_COOKIE)
    if raw is None:
        return
    # A link opened after the login keeps its own view.
    if not st.query_params:
        params = saved_view_params(raw)
        if params:
            st.query_params.from_dict(params)
    st.html(
        f"<script>document.cookie = '{VIEW_COOKIE}=; Path={_cookie_path()}; Max-Age=0; "
        "SameSite=Lax';</script>",
        unsafe_allow_javascript=True,
    )
