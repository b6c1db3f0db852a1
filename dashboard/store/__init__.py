"""PostGIS as a shared store: the write side (tables, loads, the join in SQL) and the read
side (the app's and the exports' queries), each in its own module.

The embedded default (files and the Parquet cache) needs none of this; the package is only
imported when a database URL is given, and needs the ``db`` extra (SQLAlchemy 2, psycopg 3).

Tables (all in the PostgreSQL schema :data:`SCHEMA`):

* ``events``: one row per ``event_id`` with the canonical columns, the join's columns,
  the point geometry (EPSG:4326; NULL where unlocated), other columns of the build in
  ``extra`` (jsonb), and the data version that last wrote the row.
* ``control_areas``: one row per area version, ``ord`` its position in the list the join
  used (the "first-listed" of the tie-break rules), geometry and ``[valid_from, valid_to)``.
* ``data_versions``: one row per load: the file, what it inserted, updated, left alone,
  and how many rows of the database it did not hold.

Modules:

* :mod:`~dashboard.store.connection`: the URL, the engine, the check that the tables exist.
* :mod:`~dashboard.store.tables`: the stored columns and their SQL types; the DDL.
* :mod:`~dashboard.store.load`: :func:`load_build` runs in one transaction: rows are copied
  into a temporary table in batches, then merged by ``event_id``. A load that fails half-way
  leaves the previous version untouched. Events in the database but not in the file are
  counted and listed, never removed; only ``delete_ids`` (a source's own deletions) are.
* :mod:`~dashboard.store.join`: :func:`join_in_db` runs the spatial-temporal join inside
  PostGIS with the rules of :mod:`dashboard.spatial` (half-open validity; strict interiors
  of different controllers overlapping: Contested; on a border only: the first-listed area;
  outside: Unknown).
* :mod:`~dashboard.store.sync`: what an update from a source's API needs: the newest stored
  ACLED ``timestamp`` and countries (:func:`acled_state`), and removing the events the
  source deleted (:func:`delete_events`; ``load_build(delete_ids=...)`` removes them in the
  load's own transaction). These are the only deletions the store makes.
* :mod:`~dashboard.store.read`: :class:`DbStore` answers the map's question (a date window,
  the filters, the map's bounding box) with one parameterised query, so only what the map
  shows leaves the database.
"""

from __future__ import annotations

from dashboard.errors import DatabaseError
from dashboard.store.connection import DB_ENV, SCHEMA, connect, first_line, safe_url
from dashboard.store.join import join_in_db, joined_in_db
from dashboard.store.load import LoadResult, load_build
from dashboard.store.read import (
    AGGREGATE_COLUMNS,
    LIGHT_COLUMNS,
    MAX_ACTORS,
    SELECT_COLUMNS,
    DbStore,
    DbView,
    StoreFacts,
    WindowCounts,
    no_events,
)
from dashboard.store.sync import AcledState, DeleteResult, acled_state, delete_events
from dashboard.store.tables import init_schema

__all__ = [
    "AGGREGATE_COLUMNS",
    "AcledState",
    "DB_ENV",
    "LIGHT_COLUMNS",
    "MAX_ACTORS",
    "SCHEMA",
    "SELECT_COLUMNS",
    "DatabaseError",
    "DbStore",
    "DbView",
    "DeleteResult",
    "LoadResult",
    "StoreFacts",
    "WindowCounts",
    "acled_state",
    "connect",
    "delete_events",
    "first_line",
    "init_schema",
    "join_in_db",
    "joined_in_db",
    "load_build",
    "no_events",
    "safe_url",
]
