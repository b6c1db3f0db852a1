"""A real PostgreSQL with PostGIS for the database tests.

``CONFLICTMAP_TEST_DB`` (a URL) is used when set. Otherwise a throw-away cluster is made:
``initdb`` into a temporary folder, ``pg_ctl start`` on a free loopback port (socket in the
same folder), a database with ``CREATE EXTENSION postgis``; all removed afterwards.
PostgreSQL refuses to run as root: as root, the cluster runs as the ``postgres`` user.
Nothing is skipped: without PostgreSQL and PostGIS the tests fail and say how to get them
(``bash tests/setup_db.sh``, which ``make test`` runs).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

TEST_DB_ENV = "CONFLICTMAP_TEST_DB"
PG_BIN_DIRS = ("/usr/lib/postgresql/15/bin", "/usr/local/bin", "/usr/bin")
DB_NAME = "conflictmap_test"


def _pg_tool(name: str) -> str:
    for folder in PG_BIN_DIRS:
        path = Path(folder) / name
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    found = shutil.which(name)
    if found is None:
        pytest.fail(
            f"PostgreSQL's {name} not found: run `bash tests/setup_db.sh` (as root) or set "
            f"{TEST_DB_ENV} to a PostgreSQL URL with PostGIS"
        )
    return found


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_cluster_user(argv: list[str], user: str | None) -> list[str]:
    return ["runuser", "-u", user, "--", *argv] if user else argv


def _run(argv: list[str], what: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        pytest.fail(f"{what} failed ({done.returncode}): {done.stderr.strip() or done.stdout}")


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose database has PostGIS."""
    configured = os.environ.get(TEST_DB_ENV, "").strip()
    if configured:
        yield configured
        return
    initdb, pg_ctl = _pg_tool("initdb"), _pg_tool("pg_ctl")
    user = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            pytest.fail("running as root and no 'postgres' user to run PostgreSQL as")
        user = "postgres"
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
            "-c full_page_writes=off"
        )
        _run(
            _as_cluster_user(
                [pg_ctl, "-D", str(data), "-o", options, "-l", str(folder / "log"), "-w",
                 "-t", "60", "start"],
                user,
            ),
            "pg_ctl start",
        )  # fmt: skip
        started = True
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f"CREATE DATABASE {DB_NAME}")
        with psycopg.connect(
            f"host=127.0.0.1 port={port} user=postgres dbname={DB_NAME}", autocommit=True
        ) as conn:
            try:
                conn.execute("CREATE EXTENSION postgis")
            except psycopg.Error as exc:
                pytest.fail(
                    f"PostGIS is not installed for this PostgreSQL ({exc}): run "
                    "`bash tests/setup_db.sh` as root (apt-get install postgresql-15-postgis-3)"
                )
        yield f"postgresql://postgres@127.0.0.1:{port}/{DB_NAME}"
    finally:
        if started:
            subprocess.run(
                _as_cluster_user([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"], user),
                capture_output=True,
                timeout=60,
                check=False,
            )
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture()
def empty_db(pg_url: str) -> Iterator[str]:
    """The test database with the project's tables dropped and created again."""
    from dashboard import dbstore

    engine = dbstore.connect(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {dbstore.SCHEMA} CASCADE")
    dbstore.init_schema(engine)
    engine.dispose()
    yield pg_url
