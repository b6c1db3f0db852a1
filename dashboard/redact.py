"""Secrets hidden from every URL the product shows or logs.

A database URL can carry its password in two places: the user information
(``postgresql://user:secret@host/db``) and the query (``?password=secret``, which libpq
reads too, as it reads ``sslpassword``). A tile or service URL carries keys in its query
(``?access_token=…``, ``?apikey=…``). :func:`mask_url` replaces each such value with
``***`` and leaves the rest readable, so a message still says which server and which
database it is about.

:func:`mask_values` hides values the product knows are secret (a password, a token) wherever
they appear in a message, for the API pulls, whose servers may quote them back.

Plain string work, no URL library: an unparseable URL (a typo in a password with a ``/``
in it) must be masked too, and it is exactly the one a parser refuses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "***"

# Where a URL starts, and the token it runs to (up to white space).
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S*")

# Query or connection-string keys whose values are secrets (matched case-insensitively,
# anywhere in the key: "sslpassword", "client_secret", "X-Amz-Signature", "access_token").
# libpq allows white space around "=" and quoted values with backslash escapes.
_SECRET_KEY = r"[\w.-]*(?:pass|pwd|secret|token|key|auth|credential|signature|sig)[\w.-]*"
_KEY_VALUE = re.compile(
    rf"(?P<key>(?:(?<=[?&;#\s])|^){_SECRET_KEY})\s*=\s*(?P<value>'(?:[^'\\]|\\.)*'?|[^&\s#;]*)",
    re.IGNORECASE,
)


def _mask_userinfo(url: str) -> str:
    """``scheme://user:***@host…``: the password is what follows the first ":" of the user
    information, which ends at the last "@" before the query (a user name or a password
    typed without percent-encoding may hold "@", "/" or ":")."""
    start = url.index("://") + 3
    ends = [i for i in (url.find("?", start), url.find("#", start)) if i >= 0]
    at = url.rfind("@", start, min(ends) if ends else len(url))
    if at < 0:
        return url
    userinfo = url[start:at]
    if ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return f"{url[:start]}{user}:{MASK}{url[at:]}"


def mask_url(url: str) -> str:
    """``url`` with its password and secret-looking query values replaced by ``***``.

    Works on libpq connection strings too (``host=db password=secret``), and on a whole
    message that quotes URLs (a driver's error text).

    Examples
    --------
    >>> mask_url("postgresql://me:hunter2@db.example/events?sslmode=require&password=x")
    'postgresql://me:***@db.example/events?sslmode=require&password=***'
    """
    text = _URL.sub(lambda m: _mask_userinfo(m.group(0)), str(url))
    return _KEY_VALUE.sub(lambda m: f"{m.group('key')}={MASK}", text)


def mask_values(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every occurrence of each secret value replaced by ``***``, and its URLs
    masked as :func:`mask_url` does.

    For messages that may quote a value the product holds (a server's error text echoing a
    token, a password typed into the wrong field): the values are known, so they are
    replaced wherever they appear, not only where a URL would carry them. Values shorter than
    four characters are left alone (masking every "a" would garble the message and hide
    nothing a guess would not find).

    Examples
    --------
    >>> mask_values("token abc123 refused", ["abc123"])
    'token *** refused'
    """
    masked = mask_url(str(text))
    # Longest first: a secret that contains another is replaced whole.
    for value in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        masked = masked.replace(value, MASK)
    return masked
