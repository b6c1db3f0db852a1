"""The access policy: who may see the data, decided from the secrets and the environment.

Plain functions (no Streamlit): ``conflictmap serve`` checks the policy before the server
starts, and the page's gate (``dashboard.app.auth.require_access``) applies it on every run.
The three modes (``oidc``, ``password``, ``local``) are described in ``dashboard.app.auth``
and in the README's Deployment section.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from dashboard.errors import AccessConfigError

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
#: Set by ``conflictmap serve --workers``: the address its proxy listens on, which each
#: worker (listening on loopback behind it) treats as its own.
LISTEN_ENV = "CONFLICTMAP_LISTEN_ADDRESS"
#: Allowlist entry that admits every user the identity provider signs in.
ANY_USER = "*"
#: Wrong passwords allowed before each further attempt has to wait.
FREE_ATTEMPTS = 3
#: First wait after the free attempts (doubles with each further wrong one), and the cap.
FIRST_LOCK_S = 5.0
MAX_LOCK_S = 300.0
#: Longest query string kept (cookies hold about 4 kB); longer views are not kept.
MAX_SAVED_QUERY = 2000
MAX_SAVED_KEYS = 40


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


def doubling_wait(failures: int, *, free: int, first: float, cap: float) -> float:
    """Seconds to wait after ``failures`` wrong passwords in a row: none for the first
    ``free - 1``, then ``first``, doubling with each further one, never more than ``cap``.

    Any count is fine: the exponent is bounded before ``2 **`` (an unbounded one raised
    OverflowError past 1023 doublings, long after the cap was reached).
    """
    if failures < free:
        return 0.0
    # 2.0 ** 64 times any sensible first wait is far past any sensible cap.
    exponent = min(failures - free, 64)
    return float(min(cap, first * 2.0**exponent))
