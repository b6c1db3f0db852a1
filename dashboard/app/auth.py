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

The policy itself (the modes, the allowlist, the client address, the wait after wrong
passwords) is :mod:`dashboard.access`, with no Streamlit: ``conflictmap serve`` checks it
before the server starts. The gate here, :func:`require_access`, applies it on every run.

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
import logging
import math
import os
import re
import time
from typing import Any, NoReturn

from dashboard.access import (
    INSECURE_ENV,
    LISTEN_ENV,
    LOCAL,
    MAX_SAVED_QUERY,
    OIDC,
    PASSWORD,
    Access,
    AccessConfigError,
    Policy,
    client_address,
    email_allowed,
    is_public_address,
    lock_seconds,
    policy_from,
    saved_view_params,
)

log = logging.getLogger(__name__)


#: Cookie carrying the access token of an admitted browser (see ``gate.TOKENS``).
ACCESS_COOKIE = "conflictmap_access"
#: Cookie carrying the query string through the login redirect.
VIEW_COOKIE = "conflictmap_view"
VIEW_COOKIE_MAX_AGE_S = 600

# Session keys (per session; never module globals).
K_GRANTED = "auth_granted"  # the mode access was granted in
K_FAILURES = "auth_failures"  # wrong passwords so far
K_LOCKED_UNTIL = "auth_locked_until"  # clock value before which no attempt is checked
K_VIEW_RESTORED = "auth_view_restored"  # the saved view was looked at (once per session)
K_ACCESS_SET = "auth_access_set"  # the access token this session last wrote into the cookie

_SAFE_PATH = re.compile(r"[A-Za-z0-9._~/-]*")

#: The clock the rate limit reads (monotonic; tests replace it).
_clock = time.monotonic


# --- policy (plain Python) -------------------------------------------------------------


def current_policy() -> Policy:
    """The policy of the running server (its secrets and environment).

    Raises
    ------
    AccessConfigError
        The secrets cannot be read or describe no usable mode.
    """
    return policy_from(_app_secrets(), os.environ)


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
    own = str(st.get_option("server.address") or "")
    # A worker of `serve --workers` (on loopback) takes its proxy's address as its own;
    # the variable never makes a server on a public address pass for a local one.
    behind = os.environ.get(LISTEN_ENV)
    if behind is not None and not is_public_address(own):
        return behind
    return own


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
