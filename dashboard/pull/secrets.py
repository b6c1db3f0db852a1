"""Credentials for the pulls, from the environment or a small secrets file, never from the
command line (where they would stay in the shell's history and in ``ps`` output).

A secrets file (``--secrets FILE``) is either a JSON object or ``KEY=VALUE`` lines (blank
lines, ``#`` comments, an ``export`` prefix and quotes around the value are allowed), with
the names of the environment variables as keys, in any letter case::

    ACLED_USERNAME=analyst@example.org
    ACLED_PASSWORD='correct horse battery staple'
    UCDP_ACCESS_TOKEN=...

A name the file holds wins over the environment; a name it lacks is read from the
environment. Messages say where a value came from (``$ACLED_PASSWORD``, ``ACLED_PASSWORD in
secrets file 'x.env'``), never the value.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dashboard.errors import CredentialsError

#: A secrets file larger than this is not a secrets file.
MAX_SECRETS_BYTES = 64 * 1024


@dataclass(frozen=True)
class Credentials:
    """Named secret values and where each was read from.

    ``repr`` shows the names only, so a credentials object in a log or a traceback gives
    nothing away.
    """

    values: Mapping[str, str] = field(default_factory=dict, repr=False)
    origins: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    """Warnings about the secrets file (readable by other users)."""

    def first(self, *names: str) -> tuple[str, str] | None:
        """The first of ``names`` that is set (not empty), with its value."""
        for name in names:
            value = self.values.get(name.upper())
            if value:
                return name.upper(), value
        return None

    def where(self, *names: str) -> str:
        """Where the values of ``names`` come from, or where they were looked for."""
        found = [self.origins[n.upper()] for n in names if n.upper() in self.origins]
        if found:
            return " and ".join(dict.fromkeys(found))
        return " or ".join(f"${n.upper()}" for n in names)

    def all_values(self) -> tuple[str, ...]:
        """Every value, for masking in messages."""
        return tuple(v for v in self.values.values() if v)


def load_credentials(
    secrets_file: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    names: tuple[str, ...] = (),
) -> Credentials:
    """Read ``names`` from ``secrets_file`` (when given) and the environment.

    Parameters
    ----------
    secrets_file
        A JSON or ``KEY=VALUE`` file; its names win.
    environ
        The environment (default ``os.environ``).
    names
        The variables wanted (upper case), e.g. ``("ACLED_USERNAME", "ACLED_PASSWORD")``.

    Raises
    ------
    CredentialsError
        The file is missing, too large, or not in either form (the message names the line,
        never its text).
    """
    environ = os.environ if environ is None else environ
    values: dict[str, str] = {}
    origins: dict[str, str] = {}
    notes: list[str] = []
    if secrets_file is not None:
        path = Path(secrets_file)
        from_file = read_secrets_file(path)
        notes += _permission_notes(path)
        for name in names:
            if from_file.get(name):
                values[name] = from_file[name]
                origins[name] = f"{name} in secrets file {str(path)!r}"
    for name in names:
        if name not in values and environ.get(name):
            values[name] = environ[name]
            origins[name] = f"${name}"
    return Credentials(values=values, origins=origins, notes=tuple(notes))


def read_secrets_file(path: Path) -> dict[str, str]:
    """The file's names (upper case) and values.

    Raises
    ------
    CredentialsError
        As :func:`load_credentials`.
    """
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise CredentialsError(f"secrets file {str(path)!r} is not a file")
        if size > MAX_SECRETS_BYTES:
            raise CredentialsError(
                f"secrets file {str(path)!r} is {size:,} bytes; a secrets file holds a few "
                f"names (at most {MAX_SECRETS_BYTES:,} bytes)"
            )
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CredentialsError(f"secrets file {str(path)!r} not found") from None
    except UnicodeDecodeError:
        raise CredentialsError(f"secrets file {str(path)!r} is not UTF-8 text") from None
    except OSError as exc:
        raise CredentialsError(f"secrets file {str(path)!r}: {exc.strerror}") from None
    if text.lstrip().startswith("{"):
        return _json_secrets(text, path)
    return _line_secrets(text, path)


def _json_secrets(text: str, path: Path) -> dict[str, str]:
    try:
        payload = json.loads(text)
    except ValueError as exc:
        # The position, not the parser's excerpt: the excerpt could be a password.
        raise CredentialsError(
            f"secrets file {str(path)!r} is not valid JSON (line {getattr(exc, 'lineno', '?')})"
        ) from None
    if not isinstance(payload, dict):
        raise CredentialsError(f"secrets file {str(path)!r}: expected a JSON object of names")
    out: dict[str, str] = {}
    for key, value in payload.items():
        if not isinstance(value, str):
            raise CredentialsError(
                f"secrets file {str(path)!r}: the value of {key!r} is not a string"
            )
        out[str(key).strip().upper()] = value
    return out


def _line_secrets(text: str, path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("export "):
            stripped = stripped[len("export ") :].lstrip()
        key, sep, value = stripped.partition("=")
        key = key.strip()
        if not sep or not key or not key.replace("_", "").isalnum():
            raise CredentialsError(
                f"secrets file {str(path)!r}, line {number}: expected NAME=VALUE (or a JSON object)"
            )
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        out[key.upper()] = value
    return out


def _permission_notes(path: Path) -> list[str]:
    """A warning when others than the owner may read the file (POSIX modes only)."""
    if os.name != "posix":
        return []
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return []
    if mode & 0o077:
        return [
            f"secrets file {str(path)!r} can be read by other users (mode {mode:o}): "
            f"chmod 600 {path}"
        ]
    return []
