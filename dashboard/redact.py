"""Secrets hidden from every URL the product shows or logs.

A database URL can carry its password in two places: the user information
(``postgresql://user:secret@host/db``) and the query (``?password=secret``, which libpq
reads too, as it reads ``sslpassword``). A tile or service URL carries keys in its query
(``?access_token=…``, ``?apikey=…``). :func:`mask_url` replaces each such value with
``***`` and leaves the rest readable, so a message still says which server and which
database it is about.

Plain string work, no URL library: an unparseable URL (a typo in a password with a ``/``
in it) must be masked too, and it is exactly the one a parser refuses.
"""

from __future__ import annotations

import re

MASK = "***"

# The password of the user information: after "scheme://user:" up to the last "@" before
# the path. A password may hold ":" or "/" when the user did not percent-encode it, so
# the match runs to the last "@" of the authority-looking part.
_USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^/?#@\s:]*):(?P<secret>[^\s]*)@")

# Query or connection-string keys whose values are secrets (matched case-insensitively,
# anywhere in the key: "sslpassword", "client_secret", "X-Amz-Signature", "access_token").
_SECRET_KEY = r"[\w.-]*(?:pass|pwd|secret|token|key|auth|credential|signature|sig)[\w.-]*"
_KEY_VALUE = re.compile(
    rf"(?P<key>(?:(?<=[?&;#\s])|^){_SECRET_KEY})=(?P<value>'[^']*'|[^&\s#;]*)",
    re.IGNORECASE,
)


def mask_url(url: str) -> str:
    """``url`` with its password and secret-looking query values replaced by ``***``.

    Works on libpq connection strings too (``host=db password=secret``).

    Examples
    --------
    >>> mask_url("postgresql://me:hunter2@db.example/events?sslmode=require&password=x")
    'postgresql://me:***@db.example/events?sslmode=require&password=***'
    """
    text = str(url)
    text = _USERINFO.sub(lambda m: f"{m.group('head')}:{MASK}@", text)
    return _KEY_VALUE.sub(lambda m: f"{m.group('key')}={MASK}", text)
