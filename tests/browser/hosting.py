"""Helpers of the hosting tests: a server started with extra options, and a fake identity
provider.

:func:`run_app` starts the app as ``browser_helpers.run_server`` does, with a chosen
listening address and extra ``streamlit run`` options (``--secrets.files``,
``--server.baseUrlPath``). Each server gets its own secrets file, so a developer's
``.streamlit/secrets.toml`` never changes what a test sees.

:class:`FakeIdP` is a small OpenID Connect provider on 127.0.0.1: discovery document,
an authorize page with a form ("sign in as"), a token endpoint that checks the client, the
code, the redirect URI and PKCE, and answers with an ID token signed by a test RSA key
(joserfc, the JOSE library Authlib uses), and the JWKS with that key's public half.
Nothing leaves the machine.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import html
import json
import secrets
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from browser_helpers import Server, run_server

#: Option names of ``streamlit run`` this module adds to the dashboard's command line.
SECRETS_OPTION = "--secrets.files"
BASE_PATH_OPTION = "--server.baseUrlPath"


@contextlib.contextmanager
def run_app(
    env_extra: dict[str, str],
    log_path: Path,
    *,
    secrets_file: Path,
    address: str = "127.0.0.1",
    base_path: str = "",
    port: int | None = None,
) -> Iterator[Server]:
    """Start the app (as ``conflictmap serve`` does) and stop it by pid afterwards.

    ``Server.url`` includes the base path (no trailing slash); the browser always talks
    to 127.0.0.1, whatever ``address`` the server listens on.
    """
    # Authlib's calls to the fake provider go straight to 127.0.0.1, never via a proxy.
    env = {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost", **env_extra}
    extra = [SECRETS_OPTION, str(secrets_file)]
    if base_path:
        extra += [BASE_PATH_OPTION, base_path]
    with run_server(
        env, log_path, address=address, extra_args=extra, url_path=base_path, port=port
    ) as server:
        yield server


def write_secrets(path: Path, text: str = "") -> Path:
    """A secrets file for one server (empty: no access control configured)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class _Grant:
    email: str
    nonce: str | None
    redirect_uri: str
    code_challenge: str | None


@dataclass
class FakeIdP:
    """An OpenID Connect provider for one registered client, on 127.0.0.1."""

    client_id: str
    client_secret: str
    redirect_uri: str
    #: Every request path it served, in order (for diagnostics and assertions).
    requests: list[str] = field(default_factory=list)
    #: Why requests were refused (a test that fails shows them).
    refusals: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        from joserfc.jwk import RSAKey

        self.kid = "conflictmap-test-key"
        self.key = RSAKey.generate_key(
            2048, parameters={"kid": self.kid, "use": "sig", "alg": "RS256"}, private=True
        )
        self._grants: dict[str, _Grant] = {}
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self.issuer = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    # --- life ----------------------------------------------------------------------------

    def __enter__(self) -> FakeIdP:  # noqa: PYI034 (a dataclass, never subclassed)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def metadata(self) -> dict:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "email", "email_verified", "name"],
        }

    # --- protocol ------------------------------------------------------------------------

    def _check_authorize(self, params: dict[str, str]) -> str | None:
        """Why an authorization request is refused, or None."""
        if params.get("response_type") != "code":
            return "response_type must be code"
        if params.get("client_id") != self.client_id:
            return "unknown client"
        if params.get("redirect_uri") != self.redirect_uri:
            return f"unregistered redirect_uri {params.get('redirect_uri')!r}"
        if "openid" not in params.get("scope", "").split():
            return "scope must include openid"
        if not params.get("state"):
            return "state missing"
        if params.get("code_challenge") and params.get("code_challenge_method") != "S256":
            return "only S256 PKCE"
        return None

    def _sign_in_page(self, query: str) -> str:
        return (
            "<!doctype html><html><head><meta charset='utf-8'><title>Fake identity provider"
            "</title></head><body><h1>Sign in</h1>"
            "<form method='post' action='/authorize'>"
            "<label>E-mail <input name='email' type='email' required></label>"
            f"<input type='hidden' name='request' value='{html.escape(query, quote=True)}'>"
            "<button type='submit'>Sign in</button></form></body></html>"
        )

    def _grant(self, email: str, params: dict[str, str]) -> str:
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._grants[code] = _Grant(
                email=email,
                nonce=params.get("nonce"),
                redirect_uri=params["redirect_uri"],
                code_challenge=params.get("code_challenge"),
            )
        return code

    def _client_ok(self, headers, form: dict[str, str]) -> bool:
        auth_header = headers.get("Authorization", "")
        if auth_header.startswith("Basic "):
            decoded = base64.b64decode(auth_header[6:]).decode("utf-8")
            client_id, _, client_secret = decoded.partition(":")
            client_id, client_secret = unquote(client_id), unquote(client_secret)
        else:
            client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        return client_id == self.client_id and secrets.compare_digest(
            client_secret, self.client_secret
        )

    def _token(self, headers, form: dict[str, str]) -> tuple[int, dict]:
        if not self._client_ok(headers, form):
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") != "authorization_code":
            return 400, {"error": "unsupported_grant_type"}
        with self._lock:
            grant = self._grants.pop(form.get("code", ""), None)  # a code works once
        if grant is None:
            return 400, {"error": "invalid_grant", "error_description": "unknown code"}
        if form.get("redirect_uri") != grant.redirect_uri:
            return 400, {"error": "invalid_grant", "error_description": "redirect_uri"}
        if grant.code_challenge is not None:
            verifier = form.get("code_verifier", "")
            if _b64url(hashlib.sha256(verifier.encode("ascii")).digest()) != grant.code_challenge:
                return 400, {"error": "invalid_grant", "error_description": "PKCE"}
        from joserfc import jwt

        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": hashlib.sha256(grant.email.encode()).hexdigest()[:16],
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "email": grant.email,
            "email_verified": True,
            "name": grant.email.split("@")[0].title(),
        }
        if grant.nonce:
            claims["nonce"] = grant.nonce
        id_token = jwt.encode({"alg": "RS256", "kid": self.kid}, claims, self.key)
        return 200, {
            "access_token": secrets.token_urlsafe(24),
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "openid email profile",
            "id_token": id_token,
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass  # quiet test output

            def _send(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                for name, value in headers.items():
                    self.send_header(name.replace("_", "-"), value)
                self.end_headers()
                self.wfile.write(body)

            def _json(self, status: int, data: dict) -> None:
                self._send(status, json.dumps(data).encode(), "application/json")

            def _refuse(self, status: int, reason: str) -> None:
                idp.refusals.append(reason)
                self._send(status, reason.encode(), "text/plain; charset=utf-8")

            def _form(self) -> dict[str, str]:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8")
                return {k: v[0] for k, v in parse_qs(body).items()}

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                idp.requests.append(f"GET {parts.path}")
                if parts.path == "/.well-known/openid-configuration":
                    self._json(200, idp.metadata())
                elif parts.path == "/jwks":
                    self._json(200, {"keys": [idp.key.as_dict(private=False)]})
                elif parts.path == "/authorize":
                    params = {k: v[0] for k, v in parse_qs(parts.query).items()}
                    reason = idp._check_authorize(params)
                    if reason:
                        self._refuse(400, reason)
                    else:
                        page = idp._sign_in_page(parts.query).encode()
                        self._send(200, page, "text/html; charset=utf-8")
                else:
                    self._refuse(404, f"no such page {parts.path}")

            def do_POST(self) -> None:
                parts = urlsplit(self.path)
                idp.requests.append(f"POST {parts.path}")
                form = self._form()
                if parts.path == "/authorize":
                    params = {k: v[0] for k, v in parse_qs(form.get("request", "")).items()}
                    reason = idp._check_authorize(params)
                    email = form.get("email", "").strip()
                    if reason or not email:
                        self._refuse(400, reason or "email missing")
                        return
                    code = idp._grant(email, params)
                    query = urlencode({"code": code, "state": params["state"]})
                    self._send(302, b"", "text/plain", Location=f"{params['redirect_uri']}?{query}")
                elif parts.path == "/token":
                    status, data = idp._token(self.headers, form)
                    if status != 200:
                        idp.refusals.append(f"token: {data}")
                    self._json(status, data)
                else:
                    self._refuse(404, f"no such page {parts.path}")

        return Handler


def oidc_secrets(
    *, redirect_uri: str, idp: FakeIdP, allowed: Sequence[str], cookie_secret: str
) -> str:
    """The secrets.toml text of a dashboard that logs in with ``idp``."""
    allowed_list = ", ".join(json.dumps(a) for a in allowed)
    return (
        "[auth]\n"
        f"redirect_uri = {json.dumps(redirect_uri)}\n"
        f"cookie_secret = {json.dumps(cookie_secret)}\n"
        f"client_id = {json.dumps(idp.client_id)}\n"
        f"client_secret = {json.dumps(idp.client_secret)}\n"
        f"server_metadata_url = {json.dumps(idp.metadata_url)}\n"
        "\n[access]\n"
        f"allowed = [{allowed_list}]\n"
    )
