"""A real PostgreSQL with PostGIS for the database tests.

``CONFLICTMAP_TEST_DB`` (a URL) is used when set. Otherwise a throw-away cluster is made:
``initdb`` into a temporary folder, ``pg_ctl start`` on a free loopback port (socket in the
same folder), a database with ``CREATE EXTENSION postgis``; all removed afterwards
(``pgcluster.throwaway_cluster``, shared with the benchmarks). PostgreSQL refuses to run
as root: as root, the cluster runs as the ``postgres`` user.
Without PostgreSQL and PostGIS on the machine the database tests are skipped, said loudly
at the end of the run with how to get them (``bash tests/setup_db.sh``, which ``make
test`` runs as root on Debian); under ``CI=true`` they fail instead. A cluster that is
installed but does not start is a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack

import pytest
from pgcluster import TEST_DB_ENV, missing_server, throwaway_cluster
from suites import suite_missing

__all__ = ["TEST_DB_ENV", "empty_db", "pg_url"]


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose database has PostGIS."""
    configured = os.environ.get(TEST_DB_ENV, "").strip()
    if configured:
        yield configured
        return
    missing = missing_server()
    if missing is not None:
        suite_missing("database", missing)
    with ExitStack() as stack:
        # Only starting the cluster turns into a test failure with its install hint; the
        # stack stops the cluster after the session whatever happened.
        try:
            url = stack.enter_context(throwaway_cluster())
        except RuntimeError as exc:
            pytest.fail(str(exc))
        yield url


@pytest.fixture()
def empty_db(pg_url: str) -> Iterator[str]:
    """The test database with the project's tables dropped and created again."""
    from dashboard import store as pgstore

    engine = pgstore.connect(pg_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP SCHEMA IF EXISTS {pgstore.SCHEMA} CASCADE")
    pgstore.init_schema(engine)
    engine.dispose()
    yield pg_url
