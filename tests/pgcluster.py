"""A throw-away PostgreSQL cluster with PostGIS, as a plain context manager.

``initdb`` into a temporary folder, ``pg_ctl start`` on a free loopback port (its socket in
the same folder), one database with ``CREATE EXTENSION postgis``; on exit the server is
stopped and the folder removed. PostgreSQL refuses to run as root: as root, the cluster
runs as the ``postgres`` user.

No pytest here: the database tests (``db_fixtures.py``) and the benchmarks
(``benchmarks/bench_db.py``) both use it. A missing PostgreSQL or PostGIS raises
:class:`RuntimeError` whose message says how to get them.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: Where the tests look for a PostgreSQL they may use instead of a throw-away cluster.
TEST_DB_ENV = "CONFLICTMAP_TEST_DB"
PG_BIN_DIRS = ("/usr/lib/postgresql/15/bin", "/usr/local/bin", "/usr/bin")
DB_NAME = "conflictmap_test"
SETUP_HINT = "run `bash tests/setup_db.sh` (as root)"
#: Where PostgreSQL's extension folders are looked for (``<share>/<version>/extension``).
SHARE_DIRS = (Path("/usr/share/postgresql"), Path("/usr/local/share/postgresql"))


def pg_tool(name: str) -> str:
    """The path of a PostgreSQL server program (``initdb``, ``pg_ctl``).

    Raises
    ------
    RuntimeError
        Not installed; the message says how to install it.
    """
    for folder in PG_BIN_DIRS:
        path = Path(folder) / name
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(
            f"PostgreSQL's {name} not found: {SETUP_HINT} or set "
            f"{TEST_DB_ENV} to a PostgreSQL URL with PostGIS"
        )
    return found


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cluster_user() -> str | None:
    """Who runs the server: ``postgres`` when we are root, else ourselves (None)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise RuntimeError("running as root and no 'postgres' user to run PostgreSQL as") from None
    return "postgres"


def _as_cluster_user(argv: list[str], user: str | None) -> list[str]:
    return ["runuser", "-u", user, "--", *argv] if user else argv


def _run(argv: list[str], what: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"{what} failed ({done.returncode}): {done.stderr.strip() or done.stdout}"
        )


def missing_server() -> str | None:
    """Why no throw-away cluster can be made on this machine (no ``initdb``/``pg_ctl``, no
    PostGIS extension files), or None when the programs are there."""
    try:
        initdb = pg_tool("initdb")
        pg_tool("pg_ctl")
    except RuntimeError as exc:
        return str(exc)
    # The extension's files sit in the server's share folder: on Debian
    # /usr/share/postgresql/15/extension for /usr/lib/postgresql/15/bin.
    places = [d / "extension" for d in SHARE_DIRS]
    places += [p for d in SHARE_DIRS for p in d.glob("*/extension")]
    if not any((place / "postgis.control").is_file() for place in places):
        return f"PostGIS is not installed for the PostgreSQL at {initdb}: {SETUP_HINT}"
    return None


def _create_database(port: int, name: str) -> None:
    import psycopg

    with psycopg.connect(
        f"host=127.0.0.1 port={port} user=postgres dbname=postgres", autocommit=True
    ) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    with psycopg.connect(
        f"host=127.0.0.1 port={port} user=postgres dbname={name}", autocommit=True
    ) as conn:
        try:
            conn.execute("CREATE EXTENSION postgis")
        except psycopg.Error as exc:
            raise RuntimeError(
                f"PostGIS is not installed for this PostgreSQL ({exc}): {SETUP_HINT} "
                "(apt-get install postgresql-15-postgis-3)"
            ) from None


@contextmanager
def throwaway_cluster(*, db_name: str = DB_NAME, settings: str = "") -> Iterator[str]:
    """Start a private PostgreSQL with a PostGIS database; yield its URL; remove it all.

    Parameters
    ----------
    db_name
        The database made inside the cluster (a plain identifier).
    settings
        More server options, as ``pg_ctl -o`` takes them (e.g. ``"-c shared_buffers=256MB"``).
        Durability is off (``fsync``, ``full_page_writes``): the cluster is thrown away.

    Raises
    ------
    RuntimeError
        PostgreSQL or PostGIS missing, or the server did not start; the message says why.
    """
    initdb, pg_ctl = pg_tool("initdb"), pg_tool("pg_ctl")
    user = _cluster_user()
    folder = Path(tempfile.mkdtemp(prefix="conflictmap-pg-"))
    data = folder / "data"
    if user:
        shutil.chown(folder, user=user)
    port = _free_port()
    started = False
    try:
        _run(
            _as_cluster_user(
                [initdb, "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                 "--no-sync"],
                user,
            ),
            "initdb",
        )  # fmt: skip
        options = (
            f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off "
            f"-c full_page_writes=off {settings}"
        ).strip()
        _run(
            _as_cluster_user(
                [pg_ctl, "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w",
                 "-t", "60", "start"],
                user,
            ),
            "pg_ctl start",
        )  # fmt: skip
        started = True
        _create_database(port, db_name)
        yield f"postgresql://postgres@127.0.0.1:{port}/{db_name}"
    finally:
        if started:
            subprocess.run(
                _as_cluster_user([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"], user),
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(folder, ignore_errors=True)
