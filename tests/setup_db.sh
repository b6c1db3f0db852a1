#!/usr/bin/env bash
# Make sure PostgreSQL 15 with PostGIS is on this machine for tests/test_db.py.
# Debian's packages are used. The tests start their own throw-away cluster (or use
# CONFLICTMAP_TEST_DB when set), so nothing here starts a server.
set -euo pipefail
PGBIN=/usr/lib/postgresql/15/bin
PGEXT=/usr/share/postgresql/15/extension
if [ -x "$PGBIN/initdb" ] && [ -f "$PGEXT/postgis.control" ]; then
  exit 0
fi
if [ -n "${CONFLICTMAP_TEST_DB:-}" ]; then
  exit 0  # the tests use that database; no local server is needed
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's PostgreSQL 15 + PostGIS 3 for the database tests..."
  if apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    postgresql-15 postgresql-15-postgis-3 >/dev/null; then
    exit 0
  fi
  echo "apt-get could not install PostgreSQL 15 with PostGIS." >&2
fi
echo "PostgreSQL 15 with PostGIS is missing: install it (Debian: apt-get install" \
  "postgresql-15-postgis-3) or set CONFLICTMAP_TEST_DB to run the database tests." >&2
# Without it the rest of the suite still runs: the database tests are skipped and the end of
# the run says so loudly. A CI machine must run everything.
if [ "${CI:-}" = "true" ] || [ "${CI:-}" = "1" ]; then
  exit 1
fi
echo "*** The database tests will be SKIPPED on this machine (CI=true makes this an error). ***" >&2
exit 0
