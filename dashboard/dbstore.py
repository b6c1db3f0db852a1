"""PostGIS as a shared store: schema, idempotent loads, the join in SQL, and map queries.

The embedded default (files and the Parquet cache) needs none of this; this module is only
imported when a database URL is given, and needs the ``db`` extra (SQLAlchemy 2, psycopg 3).

Tables (all in the PostgreSQL schema :data:`SCHEMA`):

* ``events``: one row per ``event_id`` with the canonical columns, the join's columns,
  the point geometry (EPSG:4326; NULL where unlocated), other columns of the build in
  ``extra`` (jsonb), and the data version that last wrote the row.
* ``control_areas``: one row per area version, ``ord`` its position in the list the join
  used (the "first-listed" of the tie-break rules), geometry and ``[valid_from, valid_to)``.
* ``data_versions``: one row per load: the file, what it inserted, updated, left alone,
  and how many rows of the database it did not hold.

A load (:func:`load_build`) runs in one transaction: rows are copied into a temporary
table in batches, then merged by ``event_id``. A load that fails half-way leaves the
previous version untouched. Nothing is deleted: events in the database but not in the file
are counted and listed, never removed.

:func:`join_in_db` runs the spatial-temporal join inside PostGIS with the rules of
:mod:`dashboard.spatial` (half-open validity; strict interiors of different controllers
overlapping: Contested; on a border only: the first-listed area; outside: Unknown).
:class:`DbStore` answers the map's question (a date window, the filters, the map's bounding
box) with one parameterised query, so only what the map shows leaves the database.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from dashboard import schema
from dashboard.errors import DatabaseError, SchemaError
from dashboard.redact import mask_url
from dashboard.timewindow import FILTER_LABELS, Filters, Selection, window_bounds

__all__ = [
    "DB_ENV",
    "SCHEMA",
    "DatabaseError",
    "DbStore",
    "LoadResult",
    "connect",
    "init_schema",
    "join_in_db",
    "load_build",
]

#: The environment variable the app reads the database URL from.
DB_ENV = "DASHBOARD_DB"
#: The PostgreSQL schema (namespace) holding the tables.
SCHEMA = "conflictmap"
#: Rows copied per batch during a load.
DEFAULT_BATCH = 5_000

_TEXT = (
    schema.EVENT_TYPE, schema.SUB_EVENT_TYPE, schema.ACTOR1, schema.ACTOR2, schema.COUNTRY,
    schema.ADMIN1, schema.ADMIN2, schema.LOCATION, schema.SOURCE, schema.NOTES,
    schema.SOURCE_FORMAT, schema.GEOCODE_METHOD, schema.GEOCODE_MATCH, schema.CONTROLLER,
    schema.AREA_ID, schema.CONTROLLER_CONFIDENCE,
)  # fmt: skip
_DATES = (schema.EVENT_DATE, schema.DATE_START, schema.DATE_END)
_SMALLINT = (schema.TIME_PRECISION, schema.GEO_PRECISION)
_FLOAT = (schema.LATITUDE, schema.LONGITUDE, schema.FATALITIES, schema.GEOCODE_SCORE)
_BOOL = (schema.CONTROLLER_CHANGED,)
#: Stored event columns (besides event_id, geom, extra, version), with their SQL types.
_EVENT_TYPES: dict[str, str] = {
    **{c: "date" for c in _DATES},
    **{c: "text" for c in _TEXT},
    **{c: "smallint" for c in _SMALLINT},
    **{c: "double precision" for c in _FLOAT},
    **{c: "boolean" for c in _BOOL},
}
_EVENT_COLUMNS: tuple[str, ...] = tuple(_EVENT_TYPES)
#: Build columns not kept: they describe the file, not the event (a re-load would differ).
_NOT_STORED = {schema.SOURCE_ROW, "geometry"}
_EXTRA = "extra"


@dataclass(frozen=True)
class LoadResult:
    """What one load did to the database."""

    version: int
    rows_in_file: int
    inserted: int
    updated: int
    unchanged: int
    areas: int
    not_in_file: int
    not_in_file_ids: tuple[str, ...] = field(default=())
    """Up to 50 ids of events in the database that the file did not hold (kept)."""
    rejoined: int = 0
    """Of those, how many got a different controller (or area, or confidence) from the join
    with this load's control areas."""

    def summary(self) -> dict[str, object]:
        return {
            "version": self.version,
            "rows_in_file": self.rows_in_file,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "areas": self.areas,
            "not_in_file": self.not_in_file,
            "not_in_file_ids": list(self.not_in_file_ids),
            "rejoined": self.rejoined,
        }


# --------------------------------------------------------------------------------------------
# connecting


def _sqlalchemy() -> Any:
    try:
        import sqlalchemy
    except ImportError as exc:  # the embedded default needs none of this
        raise DatabaseError(
            "the database store needs the 'db' extra: pip install 'conflictmap[db]'"
        ) from exc
    return sqlalchemy


def safe_url(url: str) -> str:
    """The URL with its password hidden (user information and query), for messages."""
    return mask_url(url)


def first_line(exc: BaseException) -> str:
    """The first line of the driver's message (the SQLAlchemy wrapper adds a page)."""
    reason = str(getattr(exc, "orig", exc) or exc).strip().splitlines()
    # A driver may quote the connection string it was given: never with its password.
    return mask_url(reason[0]) if reason else type(exc).__name__


def connect(url: str, *, check: bool = True) -> Any:
    """A SQLAlchemy engine for ``url`` (``postgresql://`` is driven by psycopg 3).

    Raises
    ------
    DatabaseError
        The URL is not a PostgreSQL URL, or (with ``check``) the server cannot be reached.
    """
    sa = _sqlalchemy()
    try:
        parsed = sa.engine.make_url(url)
    except Exception as exc:
        raise DatabaseError(f"not a database URL: {safe_url(url)!r}") from exc
    if parsed.get_backend_name() != "postgresql":
        raise DatabaseError(
            f"only PostgreSQL (with PostGIS) is supported, got {parsed.drivername!r}"
        )
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    engine = sa.create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": 10})
    if check:
        try:
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
        except sa.exc.SQLAlchemyError as exc:
            raise DatabaseError(
                f"cannot reach the database {safe_url(url)}: {first_line(exc)}"
            ) from None
    return engine


# --------------------------------------------------------------------------------------------
# schema


def _schema_sql() -> list[str]:
    cols = ",\n  ".join(f"{c} {t}" for c, t in _EVENT_TYPES.items())
    s = SCHEMA
    return [
        "CREATE EXTENSION IF NOT EXISTS postgis",
        f"CREATE SCHEMA IF NOT EXISTS {s}",
        f"""CREATE TABLE IF NOT EXISTS {s}.data_versions (
  version serial PRIMARY KEY,
  loaded_at timestamptz NOT NULL DEFAULT now(),
  source text,
  area_sources text,
  rows_in_file integer,
  inserted integer,
  updated integer,
  unchanged integer,
  not_in_file integer,
  areas integer,
  complete boolean NOT NULL DEFAULT false
)""",
        f"""CREATE TABLE IF NOT EXISTS {s}.events (
  event_id text PRIMARY KEY,
  {cols},
  {_EXTRA} jsonb,
  geom geometry(Point, 4326),
  version integer REFERENCES {s}.data_versions(version)
)""",
        f"""CREATE TABLE IF NOT EXISTS {s}.control_areas (
  ord integer PRIMARY KEY,
  area_id text,
  controller text,
  valid_from date,
  valid_to date,
  area_source text,
  geom geometry(Geometry, 4326),
  version integer REFERENCES {s}.data_versions(version)
)""",
        f"CREATE INDEX IF NOT EXISTS events_geom_gist ON {s}.events USING gist (geom)",
        f"CREATE INDEX IF NOT EXISTS events_date_idx ON {s}.events (event_date)",
        f"CREATE INDEX IF NOT EXISTS areas_geom_gist ON {s}.control_areas USING gist (geom)",
        f"CREATE INDEX IF NOT EXISTS areas_valid_idx ON {s}.control_areas (valid_from, valid_to)",
    ]


def init_schema(engine: Any) -> None:
    """Create the PostGIS extension (if allowed), the schema, tables and indexes; idempotent."""
    sa = _sqlalchemy()
    with engine.begin() as conn:
        for statement in _schema_sql():
            conn.execute(sa.text(statement))


def _require_schema(conn: Any) -> None:
    sa = _sqlalchemy()
    found = conn.execute(
        sa.text("SELECT to_regclass(:name)"), {"name": f"{SCHEMA}.events"}
    ).scalar()
    if found is None:
        raise DatabaseError(
            f"the database has no {SCHEMA}.events table: run `conflictmap db init --db URL`"
        )


# --------------------------------------------------------------------------------------------
# loading


def _python_values(frame: pd.DataFrame, column: str) -> list[Any]:
    """A column as Python values for COPY: None for every kind of missing."""
    values = frame[column]
    if column in _DATES:
        parsed = pd.to_datetime(values, errors="coerce")
        return [None if pd.isna(v) else v.date() for v in parsed]
    if column in _SMALLINT:
        numbers = pd.to_numeric(values, errors="coerce")
        return [None if pd.isna(v) else int(v) for v in numbers]
    if column in _FLOAT:
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        return [None if not np.isfinite(v) else float(v) for v in numbers]
    if column in _BOOL:
        return [None if pd.isna(v) else bool(v) for v in values]
    return [None if pd.isna(v) else str(v) for v in values.astype(object)]


def _event_columns(events: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The staging columns (event_id, the stored columns, extra) and the build's columns
    that go into ``extra``; refuses events without a unique event_id."""
    if schema.EVENT_ID not in events:
        raise SchemaError("the database store needs an event_id column to merge loads")
    ids = events[schema.EVENT_ID].astype(object)
    blank = ids.isna() | (ids.astype(str).str.strip() == "")
    if blank.any():
        raise SchemaError(
            f"{int(blank.sum())} events have no event_id (e.g. data row "
            f"{_row_of(events, blank)}): the database merges loads by event_id"
        )
    dupes = ids[ids.duplicated(keep=False)]
    if len(dupes):
        raise SchemaError(
            f"duplicate event_id values, e.g. {str(dupes.iloc[0])!r}: the database merges "
            "loads by event_id"
        )
    columns = [c for c in _EVENT_COLUMNS if c in events]
    extras = [
        c for c in events.columns
        if c not in _EVENT_TYPES and c != schema.EVENT_ID and c not in _NOT_STORED
        and str(events[c].dtype) != "geometry"
    ]  # fmt: skip
    return [schema.EVENT_ID, *columns, _EXTRA], extras


def _event_rows(
    events: pd.DataFrame, columns: Sequence[str], extras: Sequence[str], size: int
) -> Iterator[list[tuple[Any, ...]]]:
    """The staging rows, ``size`` at a time: Python values are made for one batch only
    (a million rows as tuples at once would take gigabytes)."""
    stored = [c for c in columns if c not in (schema.EVENT_ID, _EXTRA)]
    for start in range(0, len(events), size):
        part = events.iloc[start : start + size]
        values = [[str(v) for v in part[schema.EVENT_ID].astype(object)]]
        values += [_python_values(part, c) for c in stored]
        if extras:
            text = part[list(extras)].to_json(orient="records", lines=True, date_format="iso")
            values.append(text.splitlines())
        else:
            values.append([None] * len(part))
        yield list(zip(*values, strict=True))


def _row_of(events: pd.DataFrame, mask: pd.Series) -> object:
    if schema.SOURCE_ROW in events:
        return events.loc[mask, schema.SOURCE_ROW].iloc[0]
    return int(np.flatnonzero(mask.to_numpy())[0]) + 1


def load_build(
    engine: Any,
    result: Any,
    *,
    source: str = "",
    area_sources: Sequence[str] = (),
    batch_size: int = DEFAULT_BATCH,
    on_batch: Callable[[int, int], None] | None = None,
) -> LoadResult:
    """Merge a :class:`dashboard.pipeline.BuildResult` into the database, in one transaction.

    Events are matched by ``event_id``: new ones inserted, changed ones updated, the same
    ones left alone. Events in the database that the build does not hold are kept and
    counted (``not_in_file``). The control areas are replaced by the build's (the ones its
    events were joined with), and the kept events are joined again inside PostGIS with them
    (``rejoined`` counts the answers that changed). A data version row records the load.

    Parameters
    ----------
    engine
        From :func:`connect`; the schema must exist (:func:`init_schema`).
    result
        The build to load (``pipeline.build``).
    source, area_sources
        Recorded in the data version.
    batch_size
        Rows copied per batch.
    on_batch
        Called as ``on_batch(done, total)`` after each batch of events is copied (a
        progress bar). An exception raised by it aborts the load and rolls everything back.

    Raises
    ------
    SchemaError
        An event has no ``event_id``, or two share one.
    DatabaseError
        The schema is missing.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size!r}")
    sa = _sqlalchemy()
    columns, extras = _event_columns(result.events)
    total = len(result.events)
    s = SCHEMA
    with engine.begin() as conn:
        _require_schema(conn)
        version = conn.execute(
            sa.text(
                f"INSERT INTO {s}.data_versions (source, area_sources, rows_in_file) "
                "VALUES (:source, :areas, :rows) RETURNING version"
            ),
            {"source": source, "areas": "\n".join(area_sources), "rows": total},
        ).scalar_one()
        raw = conn.connection.driver_connection  # psycopg: COPY in the same transaction
        with raw.cursor() as cur:
            stage_cols = ", ".join(f"{c} {_stage_type(c)}" for c in columns)
            cur.execute(f"CREATE TEMP TABLE cm_stage ({stage_cols}) ON COMMIT DROP")
            done = 0
            for batch in _event_rows(result.events, columns, extras, batch_size):
                with cur.copy(f"COPY cm_stage ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in batch:
                        copy.write_row(row)
                done += len(batch)
                if on_batch is not None:
                    on_batch(done, total)
            cur.execute("ANALYZE cm_stage")
        inserted, updated = _merge(conn, columns, version)
        missing_count, missing_ids = _not_in_file(conn)
        n_areas = _replace_areas(conn, result.areas, version)
        # The events the file lacks were joined with the areas of an earlier load: join
        # them with the areas just written, so that every stored answer follows one set.
        rejoined = (
            _write_join(
                conn,
                f"NOT EXISTS (SELECT 1 FROM cm_stage s WHERE s.event_id = {SCHEMA}.events.event_id)",
            )
            if missing_count
            else 0
        )
        conn.execute(
            sa.text(
                f"UPDATE {s}.data_versions SET inserted = :i, updated = :u, unchanged = :same, "
                "not_in_file = :missing, areas = :areas, complete = true WHERE version = :v"
            ),
            {
                "i": inserted,
                "u": updated,
                "same": total - inserted - updated,
                "missing": missing_count,
                "areas": n_areas,
                "v": version,
            },
        )
        # Fresh statistics for the planner: the views after a large load should not wait
        # for autovacuum to learn the new dates and places.
        conn.execute(sa.text(f"ANALYZE {s}.events"))
        conn.execute(sa.text(f"ANALYZE {s}.control_areas"))
    return LoadResult(
        version=int(version),
        rows_in_file=total,
        inserted=inserted,
        updated=updated,
        unchanged=total - inserted - updated,
        areas=n_areas,
        not_in_file=missing_count,
        not_in_file_ids=missing_ids,
        rejoined=rejoined,
    )


def _stage_type(column: str) -> str:
    if column == schema.EVENT_ID:
        return "text"
    return "jsonb" if column == _EXTRA else _EVENT_TYPES[column]


def _merge(conn: Any, columns: Sequence[str], version: int) -> tuple[int, int]:
    sa = _sqlalchemy()
    s = SCHEMA
    data = [c for c in columns if c != schema.EVENT_ID]
    geom = (
        "CASE WHEN longitude BETWEEN -180 AND 180 AND latitude BETWEEN -90 AND 90 "
        "THEN ST_SetSRID(ST_MakePoint(longitude, latitude), 4326) END"
        if schema.LATITUDE in columns and schema.LONGITUDE in columns
        else "NULL::geometry"
    )
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in [*data, "geom", "version"])
    old = ", ".join(f"e.{c}" for c in data)
    new = ", ".join(f"EXCLUDED.{c}" for c in data)
    statement = f"""
INSERT INTO {s}.events AS e ({", ".join(columns)}, geom, version)
SELECT {", ".join(columns)}, {geom}, :version FROM cm_stage
ON CONFLICT (event_id) DO UPDATE SET {updates}
WHERE ROW({old}) IS DISTINCT FROM ROW({new})
RETURNING (xmax = 0) AS inserted"""
    flags = conn.execute(sa.text(statement), {"version": version}).scalars().all()
    inserted = sum(1 for f in flags if f)
    return inserted, len(flags) - inserted


def _not_in_file(conn: Any, limit: int = 50) -> tuple[int, tuple[str, ...]]:
    sa = _sqlalchemy()
    rows = conn.execute(
        sa.text(
            f"SELECT e.event_id, count(*) OVER () FROM {SCHEMA}.events e "
            "WHERE NOT EXISTS (SELECT 1 FROM cm_stage s WHERE s.event_id = e.event_id) "
            "ORDER BY e.event_id LIMIT :limit"
        ),
        {"limit": limit},
    ).all()
    return (int(rows[0][1]) if rows else 0), tuple(str(r[0]) for r in rows)


def _replace_areas(conn: Any, areas: gpd.GeoDataFrame, version: int) -> int:
    sa = _sqlalchemy()
    s = SCHEMA
    conn.execute(sa.text(f"DELETE FROM {s}.control_areas"))
    if areas is None or not len(areas):
        return 0
    geoms = np.asarray(areas.geometry.array, dtype=object)
    usable = ~(shapely.is_missing(geoms))
    wkb = np.full(len(geoms), None, dtype=object)
    wkb[usable] = shapely.to_wkb(geoms[usable])
    frame = pd.DataFrame(areas.drop(columns=areas.geometry.name))
    params = [
        {
            "ord": i,
            "area_id": a,
            "controller": c,
            "valid_from": f,
            "valid_to": t,
            "area_source": src,
            "wkb": w,
            "version": version,
        }
        for i, (a, c, f, t, src, w) in enumerate(
            zip(
                _python_values(frame, schema.AREA_ID),
                _python_values(frame, schema.CONTROLLER),
                _dates(frame[schema.VALID_FROM]),
                _dates(frame[schema.VALID_TO]),
                _python_values(frame, schema.AREA_SOURCE)
                if schema.AREA_SOURCE in frame
                else [None] * len(frame),
                wkb,
                strict=True,
            )
        )
    ]
    conn.execute(
        sa.text(
            f"INSERT INTO {s}.control_areas "
            "(ord, area_id, controller, valid_from, valid_to, area_source, geom, version) "
            "VALUES (:ord, :area_id, :controller, :valid_from, :valid_to, :area_source, "
            "ST_SetSRID(ST_GeomFromWKB(:wkb), 4326), :version)"
        ),
        params,
    )
    return len(params)


def _dates(values: pd.Series) -> list[dt.date | None]:
    parsed = pd.to_datetime(values, errors="coerce")
    return [None if pd.isna(v) else v.date() for v in parsed]


# --------------------------------------------------------------------------------------------
# the join in PostGIS

# The rules of dashboard.spatial, in SQL. The day of an event is its date, else its first,
# then its last day; its window [first, last] runs from date_start to date_end (either
# missing: the day; reversed: read forwards). "hits" are the versions whose polygon holds
# the point, whatever their dates. Each event is probed on its day (kind 0: its controller)
# and, when its window spans several days and any version holds it, on the window's first
# day and on every day inside (first, last] where one of those versions starts or ends
# (kind 1): between those days nothing changes, so the controller changed in the window
# exactly when the kind-1 probes disagree. On each probe day, among the versions valid then
# (half-open, NULL = open): the first interior version wins, else the first-listed border
# one; interiors of two or more controllers make it Contested; none: Unknown. A missing
# controller counts as Unknown. Confidence is low for an imprecise place (precision 3), a
# change in the window, no usable coordinates or no date.
_JOIN_SQL = f"""
WITH e AS (
  SELECT event_id, geom, {schema.GEO_PRECISION} AS precision, longitude, latitude,
         coalesce(event_date, date_start, date_end) AS day, date_start, date_end
  FROM {SCHEMA}.events /*only*/
),
ev AS (
  SELECT event_id, geom, precision, longitude, latitude, day,
         least(coalesce(date_start, day), coalesce(date_end, day)) AS first,
         greatest(coalesce(date_start, day), coalesce(date_end, day)) AS last
  FROM e
),
hits AS (
  SELECT ev.event_id, a.ord, a.area_id, coalesce(a.controller, '{schema.UNKNOWN}') AS controller,
         a.valid_from, a.valid_to, ST_Contains(a.geom, ev.geom) AS interior
  FROM ev JOIN {SCHEMA}.control_areas a
    ON ev.geom IS NOT NULL AND ev.day IS NOT NULL AND ST_Intersects(a.geom, ev.geom)
),
probes AS (
  SELECT event_id, day AS probe_day, 0 AS kind FROM ev WHERE day IS NOT NULL
  UNION
  SELECT ev.event_id, ev.first, 1 FROM ev
   WHERE ev.first < ev.last AND EXISTS (SELECT 1 FROM hits h WHERE h.event_id = ev.event_id)
  UNION
  SELECT h.event_id, edge.day, 1
    FROM hits h JOIN ev ON ev.event_id = h.event_id,
         LATERAL (VALUES (h.valid_from), (h.valid_to)) AS edge(day)
   WHERE ev.first < ev.last AND edge.day > ev.first AND edge.day <= ev.last
),
picked AS (
  SELECT p.event_id, p.kind, p.probe_day,
         (array_agg(h.area_id ORDER BY NOT h.interior, h.ord))[1] AS area_id,
         (array_agg(h.controller ORDER BY NOT h.interior, h.ord))[1] AS controller,
         count(DISTINCT h.controller) FILTER (WHERE h.interior) AS interior_controllers
  FROM probes p LEFT JOIN hits h
    ON h.event_id = p.event_id
   AND (h.valid_from IS NULL OR h.valid_from <= p.probe_day)
   AND (h.valid_to IS NULL OR p.probe_day < h.valid_to)
  GROUP BY p.event_id, p.kind, p.probe_day
),
labelled AS (
  SELECT event_id, kind, area_id,
         CASE WHEN controller IS NULL THEN '{schema.UNKNOWN}'
              WHEN interior_controllers > 1 THEN '{schema.CONTESTED}'
              ELSE controller END AS controller
  FROM picked
),
changed AS (
  SELECT event_id, count(DISTINCT controller) > 1 AS changed
  FROM labelled WHERE kind = 1 GROUP BY event_id
)
SELECT ev.event_id,
       coalesce(l.controller, '{schema.UNKNOWN}') AS controller,
       l.area_id,
       coalesce(c.changed, false) AS changed,
       CASE WHEN coalesce(ev.precision = {schema.IMPRECISE_GEO}, false)
              OR coalesce(c.changed, false)
              OR ev.day IS NULL
              OR NOT coalesce(abs(ev.longitude) <= 180 AND abs(ev.latitude) <= 90, false)
            THEN '{schema.CONFIDENCE_LOW}' ELSE '{schema.CONFIDENCE_HIGH}' END AS confidence
FROM ev
LEFT JOIN labelled l ON l.event_id = ev.event_id AND l.kind = 0
LEFT JOIN changed c ON c.event_id = ev.event_id
"""
#: What the join writes, in the order _JOIN_SQL returns it after event_id.
_JOINED = (
    schema.CONTROLLER, schema.AREA_ID, schema.CONTROLLER_CHANGED, schema.CONTROLLER_CONFIDENCE
)  # fmt: skip


def joined_in_db(engine: Any) -> pd.DataFrame:
    """The join computed inside PostGIS for every event in the database, without writing.

    Returns
    -------
    pandas.DataFrame
        ``event_id``, ``controller``, ``area_id`` (None where no area),
        ``controller_changed_in_window`` and ``controller_confidence``, sorted by event_id.
    """
    sa = _sqlalchemy()
    with engine.connect() as conn:
        _require_schema(conn)
        rows = conn.execute(sa.text(_JOIN_SQL + " ORDER BY 1")).all()
    return pd.DataFrame(rows, columns=[schema.EVENT_ID, *_JOINED]).astype(object)


def join_in_db(engine: Any) -> tuple[int, int]:
    """Re-run the join inside PostGIS and write its four columns (see :data:`_JOINED`).

    Returns
    -------
    (events, changed)
        How many events were joined, and how many of them got a different answer.
    """
    sa = _sqlalchemy()
    with engine.begin() as conn:
        _require_schema(conn)
        total = conn.execute(sa.text(f"SELECT count(*) FROM {SCHEMA}.events")).scalar_one()
        changed = _write_join(conn, "")
    return int(total), int(changed)


def _write_join(conn: Any, only: str) -> int:
    """Write the join of the events matching ``only`` (a fixed SQL condition on the events
    table, or "" for all of them); returns how many rows got a different answer."""
    sa = _sqlalchemy()
    c, a, ch, cf = _JOINED
    joined = _JOIN_SQL.replace("/*only*/", f"WHERE {only}" if only else "")
    return int(
        conn.execute(
            sa.text(
                f"UPDATE {SCHEMA}.events e SET {c} = j.controller, {a} = j.area_id, "
                f"{ch} = j.changed, {cf} = j.confidence "
                f"FROM ({joined}) j WHERE j.event_id = e.event_id "
                f"AND (e.{c}, e.{a}, e.{ch}, e.{cf}) IS DISTINCT FROM "
                "(j.controller, j.area_id, j.changed, j.confidence)"
            )
        ).rowcount
    )


# --------------------------------------------------------------------------------------------
# what the map shows

#: Columns the app's map, table and exports read.
SELECT_COLUMNS: tuple[str, ...] = (schema.EVENT_ID, *_EVENT_COLUMNS)

BBox = tuple[float, float, float, float]
#: Columns of the events the exports and the comparison read (no free text: notes, sources).
LIGHT_COLUMNS: tuple[str, ...] = tuple(
    c for c in SELECT_COLUMNS if c not in (schema.NOTES, schema.SOURCE, schema.GEOCODE_MATCH)
)
#: What the map needs of each event to aggregate them (hexagons, heat map): no text to read.
AGGREGATE_COLUMNS: tuple[str, ...] = (
    schema.EVENT_ID, schema.EVENT_DATE, schema.EVENT_TYPE, schema.LATITUDE, schema.LONGITUDE,
    schema.FATALITIES,
)  # fmt: skip
#: The actor filter's choices: at most this many names, the most frequent (as the app).
MAX_ACTORS = 5000


def bbox_from_view(
    center: tuple[float, float] | None,
    zoom: int | None,
    *,
    width_px: int = 1600,
    height_px: int = 1000,
) -> BBox | None:
    """A bounding box (degrees) that holds a web map of about this size at ``center``/``zoom``.

    Generous on purpose (the map's real size is not known on the server): a little more than
    the view crosses the wire, never less. None when there is no view yet.
    """
    if center is None or zoom is None:
        return None
    lat, lon = float(center[0]), float(center[1])
    degrees_per_px = 360.0 / (256.0 * 2.0 ** max(0, int(zoom)))
    half_w = width_px / 2 * degrees_per_px
    # web mercator: a pixel spans fewer degrees of latitude away from the equator
    half_h = height_px / 2 * degrees_per_px * max(math.cos(math.radians(min(abs(lat), 85.0))), 0.05)
    if half_w >= 180:
        return (-180.0, max(-90.0, lat - half_h), 180.0, min(90.0, lat + half_h))
    return (
        max(-180.0, lon - half_w),
        max(-90.0, lat - half_h),
        min(180.0, lon + half_w),
        min(90.0, lat + half_h),
    )


@dataclass(frozen=True)
class WindowCounts:
    """What the page says of one view, counted inside the database over the whole window
    (not only the part of it the map shows)."""

    in_window: int
    shown: int
    """Events of the window that pass every filter."""
    hidden_by: dict[str, int]
    """Per filter (the names of :data:`dashboard.timewindow.FILTER_LABELS`): events of the
    window it rejects."""
    hidden_only_by: dict[str, int]
    """Per filter: events of the window rejected by that filter and no other."""
    hidden_total: int
    fatalities: int
    """The known tolls of the shown events, summed."""
    unknown_fatalities: int
    unplaced: int
    """Shown events without coordinates (not on the map)."""
    controllers: pd.DataFrame
    """As :func:`dashboard.timewindow.controller_summary` gives it for the shown events."""

    def selection(self) -> Selection:
        """The counts as a :class:`~dashboard.timewindow.Selection` without row positions."""
        return Selection(
            positions=np.empty(0, dtype=np.int64),
            in_window=self.in_window,
            hidden_by=dict(self.hidden_by),
            hidden_only_by=dict(self.hidden_only_by),
            hidden_total=self.hidden_total,
            count=self.shown,
        )


@dataclass(frozen=True)
class DbView:
    """One view of the app (:meth:`DbStore.view`)."""

    counts: WindowCounts
    events: pd.DataFrame
    """Inside the map's box: every column, or :data:`AGGREGATE_COLUMNS` when aggregated."""
    newest: pd.DataFrame | None
    """When aggregated: the most recent events with every column (the table), newest first."""


@dataclass(frozen=True)
class StoreFacts:
    """What the app needs to know of the whole store before the first view: the dates with
    events, the filters' choices with their counts, and the data version."""

    token: str
    """The version and its load time (:meth:`DbStore.token`)."""
    daily: pd.Series
    """Events per day (a date index, ascending)."""
    values: dict[str, pd.Series]
    """Per text column with a filter: count per value, most frequent first."""
    actors: pd.Series
    """Count per actor (actor 1 and actor 2 together), the :data:`MAX_ACTORS` most frequent."""
    extent: BBox | None
    """Bounding box of the located events (None: none is located)."""
    total: int = 0
    """Events stored (dated or not)."""
    source_formats: tuple[str, ...] = ()
    """The layouts the events were read from (``acled``, ``ucdp``...): whom to credit."""
    geocode_methods: tuple[str, ...] = ()
    """How the events were placed (``exact``, ``alias``...: some from the gazetteer)."""

    @property
    def version(self) -> int:
        """The data version (0 before the first load)."""
        return _version_of(self.token)


class DbStore:
    """The events and control areas of a PostGIS database, queried per view.

    One instance holds one connection pool; it keeps no other state, so one store can serve
    every session of the app, and any number of app processes can share one database.
    Every method raises :class:`DatabaseError` when the server cannot be reached.
    """

    def __init__(self, url: str, *, engine: Any | None = None) -> None:
        self.url = url
        self.engine = engine if engine is not None else connect(url)
        self._local = threading.local()  # the connection a snapshot pins, per thread
        with self._connection() as conn:
            _require_schema(conn)

    @contextmanager
    def _connection(self, *, snapshot: bool = False) -> Iterator[Any]:
        """A pooled connection; any database error becomes DatabaseError (a server gone
        away: "lost the database"). With ``snapshot``, one REPEATABLE READ transaction that
        every query of this thread inside the block shares: they all see one version of
        the data, even when a load commits meanwhile."""
        pinned = getattr(self._local, "conn", None)
        if pinned is not None:
            yield pinned
            return
        sa = _sqlalchemy()
        try:
            with self.engine.connect() as conn:
                if not snapshot:
                    yield conn
                    return
                conn.execution_options(isolation_level="REPEATABLE READ")
                with conn.begin():
                    self._local.conn = conn
                    try:
                        yield conn
                    finally:
                        self._local.conn = None
        except sa.exc.OperationalError as exc:
            raise DatabaseError(
                f"lost the database {safe_url(self.url)}: {first_line(exc)}"
            ) from None
        except sa.exc.DBAPIError as exc:  # e.g. the tables dropped while the app runs
            raise DatabaseError(
                f"the database {safe_url(self.url)} refused a query: {first_line(exc)}"
            ) from None

    def select(
        self,
        as_of: dt.date,
        window_days: int,
        filters: Filters | None = None,
        bbox: BBox | None = None,
        *,
        columns: Sequence[str] = (),
        limit: int | None = None,
        newest_first: bool = False,
    ) -> pd.DataFrame:
        """The events dated in the ``window_days`` days ending ``as_of`` that pass ``filters``
        and lie inside ``bbox`` (minx, miny, maxx, maxy in degrees), in date order.

        The same rules as :func:`dashboard.timewindow.filter_masks`: unknown fatalities are
        never "at least n"; a missing precision counts as the least precise level. With a
        bounding box, unlocated events are not returned (they are not on the map). Every
        value travels as a bound parameter. ``columns``: only these (default: all of
        :data:`SELECT_COLUMNS`); ``limit`` with ``newest_first``: the most recent ones.
        """
        sa = _sqlalchemy()
        names = _known_columns(columns or SELECT_COLUMNS)
        where, params = _view_where(as_of, window_days, filters, bbox)
        order = "event_date DESC, event_id DESC" if newest_first else "event_date, event_id"
        query = f"SELECT {', '.join(names)} FROM {SCHEMA}.events WHERE {where} ORDER BY {order}"
        if limit is not None:
            query += " LIMIT :limit"
            params["limit"] = int(limit)
        with self._connection() as conn:
            rows = conn.execute(sa.text(query), params).all()
        return _frame(rows, names)

    def view(
        self,
        as_of: dt.date,
        window_days: int,
        filters: Filters | None = None,
        bbox: BBox | None = None,
        *,
        aggregate: bool | None = None,
        points_max: int = 20_000,
        table_rows: int = 1000,
    ) -> DbView:
        """Everything one view of the app asks: the window's counts, the events inside
        ``bbox`` for the map, and the rows of the events table.

        ``aggregate``: whether the map aggregates the events (hexagons, heat map); None:
        when more than ``points_max`` events fall inside the box (as the app's "auto").
        Aggregated, the map's events carry :data:`AGGREGATE_COLUMNS` only and ``newest``
        holds the ``table_rows`` most recent events with every column; otherwise the map's
        events carry every column and ``newest`` is None (the table lists them).
        """
        filters = filters or Filters()
        args = (as_of, window_days, filters, bbox)
        with self._connection(snapshot=True):  # counts and events of one data version
            counts = self.window_counts(as_of, window_days, filters)
            if aggregate is None:
                aggregate = self.count(*args) > points_max
            if not aggregate:
                return DbView(counts=counts, events=self.select(*args), newest=None)
            events = self.select(*args, columns=AGGREGATE_COLUMNS)
            newest = self.select(*args, limit=table_rows, newest_first=True)
        return DbView(counts=counts, events=events, newest=newest)

    def count(
        self,
        as_of: dt.date,
        window_days: int,
        filters: Filters | None = None,
        bbox: BBox | None = None,
    ) -> int:
        """How many events :meth:`select` would return (one count, no rows)."""
        sa = _sqlalchemy()
        where, params = _view_where(as_of, window_days, filters, bbox)
        query = f"SELECT count(*) FROM {SCHEMA}.events WHERE {where}"
        with self._connection() as conn:
            return int(conn.execute(sa.text(query), params).scalar_one())

    def window_counts(
        self, as_of: dt.date, window_days: int, filters: Filters | None = None
    ) -> WindowCounts:
        """The counts of one view (see :class:`WindowCounts`) in two aggregate queries: only
        numbers cross the wire, whatever the size of the window."""
        sa = _sqlalchemy()
        window, params = _window(as_of, window_days)
        passes, filter_params = _filter_conditions(filters or Filters())
        params.update(filter_params)
        fails = {name: f"NOT coalesce({sql}, false)" for name, sql in passes.items()}
        every = " AND ".join(passes.values()) or "true"
        aggregates = ["count(*)", f"count(*) FILTER (WHERE NOT coalesce({every}, false))"]
        for name in FILTER_LABELS:
            if name in fails:
                others = [sql for other, sql in passes.items() if other != name]
                alone = " AND ".join([fails[name], *others])
                aggregates += [f"count(*) FILTER (WHERE {fails[name]})",
                               f"count(*) FILTER (WHERE {alone})"]  # fmt: skip
        shown = f"{window} AND {every}"
        per_controller = (
            f"SELECT coalesce({schema.CONTROLLER}, :no_area) AS controller, count(*), "
            f"sum({schema.FATALITIES}), count(*) - count({schema.FATALITIES}), "
            "count(*) FILTER (WHERE geom IS NULL) "
            f"FROM {SCHEMA}.events WHERE {shown} GROUP BY 1"
        )
        with self._connection() as conn:
            totals = conn.execute(
                sa.text(f"SELECT {', '.join(aggregates)} FROM {SCHEMA}.events WHERE {window}"),
                params,
            ).one()
            groups = conn.execute(
                sa.text(per_controller), {**params, "no_area": NO_CONTROL_AREA}
            ).all()
        hidden_by = dict.fromkeys(FILTER_LABELS, 0)
        only_by = dict.fromkeys(FILTER_LABELS, 0)
        for i, name in enumerate(n for n in FILTER_LABELS if n in fails):
            hidden_by[name] = int(totals[2 + 2 * i])
            only_by[name] = int(totals[3 + 2 * i])
        controllers = pd.DataFrame(
            [(str(g[0]), int(g[1]), None if g[2] is None else round(float(g[2])), int(g[3]))
             for g in groups],
            columns=["controller", "events", "fatalities", "unknown_fatalities"],
        )  # fmt: skip
        controllers = controllers.astype(
            {"events": "int64", "fatalities": "Int64", "unknown_fatalities": "int64"}
        ).sort_values(["events", "controller"], ascending=[False, True], ignore_index=True)
        return WindowCounts(
            in_window=int(totals[0]),
            shown=int(controllers["events"].sum()),
            hidden_by=hidden_by,
            hidden_only_by=only_by,
            hidden_total=int(totals[1]),
            fatalities=int(sum(float(g[2]) for g in groups if g[2] is not None)),
            unknown_fatalities=int(controllers["unknown_fatalities"].sum()),
            unplaced=int(sum(int(g[4]) for g in groups)),
            controllers=controllers,
        )

    def daily_counts(self, filters: Filters | None = None) -> pd.DataFrame:
        """Events per day and event type over all dates, passing ``filters``: the frame of
        :func:`dashboard.timewindow.period_counts` with ``freq="D"`` (missing types
        labelled Unknown)."""
        sa = _sqlalchemy()
        passes, params = _filter_conditions(filters or Filters())
        where = " AND ".join(["event_date IS NOT NULL", *passes.values()])
        query = (
            f"SELECT event_date, coalesce({schema.EVENT_TYPE}, :unknown), count(*) "
            f"FROM {SCHEMA}.events WHERE {where} GROUP BY 1, 2 ORDER BY 1, 2"
        )
        with self._connection() as conn:
            rows = conn.execute(sa.text(query), {**params, "unknown": schema.UNKNOWN}).all()
        frame = pd.DataFrame(rows, columns=["period", schema.EVENT_TYPE, "events"])
        frame["period"] = pd.to_datetime(frame["period"]).astype("datetime64[ns]")
        frame["events"] = frame["events"].astype("int64")
        frame[schema.EVENT_TYPE] = frame[schema.EVENT_TYPE].astype(object)
        return frame

    def facts(self) -> StoreFacts:
        """The data version, events per day, the filters' choices and the extent: one scan
        of the events with grouping sets (a row per day and per distinct value, never one
        per event)."""
        sa = _sqlalchemy()
        texts = (*_CHOICE_COLUMNS, *_ACTOR_COLUMNS, *_SOURCE_COLUMNS)
        grouped = ["event_date", *(f"btrim({c})" for c in texts)]
        located = "FILTER (WHERE geom IS NOT NULL)"
        query = (
            f"SELECT GROUPING({', '.join(grouped)}), {', '.join(grouped)}, count(*), "
            f"min(longitude) {located}, min(latitude) {located}, "
            f"max(longitude) {located}, max(latitude) {located} "
            f"FROM {SCHEMA}.events GROUP BY GROUPING SETS "
            f"((), {', '.join(f'({g})' for g in grouped)})"
        )
        with self._connection() as conn:
            token = _token(conn.execute(sa.text(_NEWEST_VERSION)).first())
            rows = conn.execute(sa.text(query)).all()
        # GROUPING() has a 1 bit for every expression a row is not grouped by, the first
        # expression the highest bit: a row of the set (grouped[k]) lacks bit k from the top.
        width = len(grouped)
        by_set: list[list[tuple[Any, int]]] = [[] for _ in grouped]
        extent: BBox | None = None
        total = 0
        for row in rows:
            mask, count = int(row[0]), int(row[1 + width])
            if mask == (1 << width) - 1:  # the grand total: the count and the extent
                total = count
                box = row[2 + width : 6 + width]
                extent = None if box[0] is None else tuple(float(v) for v in box)  # type: ignore[assignment]
                continue
            k = width - (~mask & ((1 << width) - 1)).bit_length()
            value = row[1 + k]
            if value is not None and (k == 0 or str(value) != ""):
                by_set[k].append((value, count))
        days = sorted(by_set[0])
        daily = pd.Series(
            [n for _, n in days],
            index=pd.DatetimeIndex([pd.Timestamp(d) for d, _ in days]),
            dtype="int64",
        )
        values = {
            column: _counts(sorted(by_set[1 + i], key=lambda vn: (-vn[1], str(vn[0]))))
            for i, column in enumerate(_CHOICE_COLUMNS)
        }
        actors: dict[str, int] = {}
        for i in range(len(_ACTOR_COLUMNS)):
            for name, n in by_set[1 + len(_CHOICE_COLUMNS) + i]:
                actors[str(name)] = actors.get(str(name), 0) + n
        ranked = sorted(actors.items(), key=lambda vn: (-vn[1], vn[0]))[:MAX_ACTORS]
        first_source = 1 + len(_CHOICE_COLUMNS) + len(_ACTOR_COLUMNS)
        sources = {
            column: tuple(sorted(str(v) for v, _ in by_set[first_source + i]))
            for i, column in enumerate(_SOURCE_COLUMNS)
        }
        return StoreFacts(
            token=token,
            daily=daily,
            values=values,
            actors=_counts(ranked),
            extent=extent,
            total=total,
            source_formats=sources[schema.SOURCE_FORMAT],
            geocode_methods=sources[schema.GEOCODE_METHOD],
        )

    def version(self) -> int:
        """The newest data version (0 before the first load)."""
        return _version_of(self.token())

    def token(self) -> str:
        """The newest data version and the time it was loaded, as one string (``"0:"``
        before the first load): one cheap query, so that a page can tell on every run
        whether any process loaded new data. The time tells apart the same version number
        in a database that was emptied and loaded again."""
        sa = _sqlalchemy()
        with self._connection() as conn:
            return _token(conn.execute(sa.text(_NEWEST_VERSION)).first())

    def events_frame(
        self,
        columns: Sequence[str] = LIGHT_COLUMNS,
        *,
        start: dt.date | None = None,
        end: dt.date | None = None,
        filters: Filters | None = None,
    ) -> pd.DataFrame:
        """The events dated ``start`` to ``end`` (inclusive; None: open) passing
        ``filters``, with only ``columns``, in date order (for exports and comparisons,
        which need a span of dates rather than the map's view)."""
        sa = _sqlalchemy()
        names = _known_columns(columns)
        passes, params = _filter_conditions(filters or Filters())
        where = list(passes.values())
        if start is not None:
            where.append("event_date >= :start")
            params["start"] = start
        if end is not None:
            where.append("event_date <= :end")
            params["end"] = end
        query = f"SELECT {', '.join(names)} FROM {SCHEMA}.events"
        if where:
            query += f" WHERE {' AND '.join(where)}"
        with self._connection() as conn:
            rows = conn.execute(sa.text(query + " ORDER BY event_date, event_id"), params).all()
        return _frame(rows, names)

    def areas_at(self, as_of: dt.date | None, bbox: BBox | None = None) -> gpd.GeoDataFrame:
        """The control-area versions valid on ``as_of`` (every version when None) touching
        ``bbox``, in list order (the order the join's "first listed" refers to)."""
        sa = _sqlalchemy()
        params: dict[str, Any] = {}
        where = ["true"]
        if as_of is not None:
            params["day"] = as_of
            where += [
                "(valid_from IS NULL OR valid_from <= :day)",
                "(valid_to IS NULL OR :day < valid_to)",
            ]
        if bbox is not None:
            where.append("geom && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326)")
            params.update(_bbox_params(bbox))
        query = (
            "SELECT area_id, controller, valid_from, valid_to, area_source, "
            f"ST_AsBinary(geom) AS wkb FROM {SCHEMA}.control_areas "
            f"WHERE {' AND '.join(where)} ORDER BY ord"
        )
        with self._connection() as conn:
            rows = conn.execute(sa.text(query), params).all()
        frame = pd.DataFrame(
            [r[:5] for r in rows],
            columns=[schema.AREA_ID, schema.CONTROLLER, schema.VALID_FROM, schema.VALID_TO,
                     schema.AREA_SOURCE],
        )  # fmt: skip
        for c in (schema.VALID_FROM, schema.VALID_TO):
            frame[c] = pd.to_datetime(frame[c])
        geometry = shapely.from_wkb([None if r[5] is None else bytes(r[5]) for r in rows])
        return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")

    def versions(self) -> pd.DataFrame:
        """The loads, newest first."""
        sa = _sqlalchemy()
        with self._connection() as conn:
            result = conn.execute(
                sa.text(f"SELECT * FROM {SCHEMA}.data_versions ORDER BY version DESC")
            )
            return pd.DataFrame(result.all(), columns=list(result.keys()))


def _bbox_params(bbox: BBox) -> dict[str, float]:
    minx, miny, maxx, maxy = (float(v) for v in bbox)
    if not all(np.isfinite([minx, miny, maxx, maxy])) or minx > maxx or miny > maxy:
        raise ValueError(f"not a bounding box (minx, miny, maxx, maxy): {bbox!r}")
    return {"minx": minx, "miny": miny, "maxx": maxx, "maxy": maxy}


_BBOX_SQL = "geom && ST_MakeEnvelope(:minx, :miny, :maxx, :maxy, 4326)"
#: Text columns whose values the filters offer.
_CHOICE_COLUMNS = (schema.EVENT_TYPE, schema.SUB_EVENT_TYPE, schema.COUNTRY, schema.ADMIN1)
_ACTOR_COLUMNS = (schema.ACTOR1, schema.ACTOR2)
#: Text columns whose values tell whom the page must credit.
_SOURCE_COLUMNS = (schema.SOURCE_FORMAT, schema.GEOCODE_METHOD)
#: The controller label of events outside every control area (as controller_summary).
NO_CONTROL_AREA = "No control area"


_NEWEST_VERSION = (
    f"SELECT version, loaded_at FROM {SCHEMA}.data_versions ORDER BY version DESC LIMIT 1"
)


def _token(row: Any) -> str:
    return "0:" if row is None else f"{int(row[0])}:{row[1].isoformat()}"


def _version_of(token: str) -> int:
    return int(token.split(":", 1)[0])


def _known_columns(columns: Sequence[str]) -> list[str]:
    unknown = [c for c in columns if c not in SELECT_COLUMNS]
    if unknown:
        raise SchemaError(f"not an events column of the database: {unknown[0]!r}")
    return list(columns)


def _counts(rows: Sequence[Any]) -> pd.Series:
    return pd.Series(
        [int(r[1]) for r in rows], index=pd.Index([str(r[0]) for r in rows]), dtype="int64"
    )


def _window(as_of: dt.date, window_days: int) -> tuple[str, dict[str, Any]]:
    start, end = window_bounds(as_of, window_days)
    return "event_date BETWEEN :start AND :end", {"start": start, "end": end}


def _view_where(
    as_of: dt.date, window_days: int, filters: Filters | None, bbox: BBox | None
) -> tuple[str, dict[str, Any]]:
    """The WHERE clause of one view's events (window, filters, box) and its parameters."""
    window, params = _window(as_of, window_days)
    passes, filter_params = _filter_conditions(filters or Filters())
    where = [window, *passes.values()]
    if bbox is not None:
        where.append(_BBOX_SQL)
        params.update(_bbox_params(bbox))
    return " AND ".join(where), {**params, **filter_params}


def _filter_conditions(filters: Filters) -> tuple[dict[str, str], dict[str, Any]]:
    """One SQL condition per filter that restricts anything (keyed by its name in
    :data:`~dashboard.timewindow.FILTER_LABELS`), from fixed fragments; every value is a
    bound parameter. A condition is NULL or false for a row the filter rejects."""
    conditions: dict[str, str] = {}
    params: dict[str, Any] = {}
    for name, column, values in (
        ("event_types", schema.EVENT_TYPE, filters.event_types),
        ("sub_event_types", schema.SUB_EVENT_TYPE, filters.sub_event_types),
        ("countries", schema.COUNTRY, filters.countries),
        ("admin1", schema.ADMIN1, filters.admin1),
    ):
        if values:
            conditions[name] = f"{column} = ANY(:{name})"
            params[name] = [str(v) for v in values]
    if filters.actors:
        conditions["actors"] = f"({schema.ACTOR1} = ANY(:actors) OR {schema.ACTOR2} = ANY(:actors))"
        params["actors"] = [str(v) for v in filters.actors]
    if filters.min_fatalities > 0:
        conditions["min_fatalities"] = f"{schema.FATALITIES} >= :min_fatalities"
        params["min_fatalities"] = int(filters.min_fatalities)
    chosen = {int(p) for p in filters.precisions}
    if chosen and chosen != set(schema.GEO_PRECISIONS):
        conditions["precisions"] = (
            f"coalesce({schema.GEO_PRECISION}, {schema.IMPRECISE_GEO}) = ANY(:precisions)"
        )
        params["precisions"] = sorted(chosen)
    return conditions, params


def no_events(columns: Sequence[str] = SELECT_COLUMNS) -> pd.DataFrame:
    """An events frame with these columns, typed as the queries type them, and no rows."""
    return _frame([], _known_columns(columns))


def _frame(rows: Sequence[Any], columns: Sequence[str] = SELECT_COLUMNS) -> pd.DataFrame:
    frame = pd.DataFrame([tuple(r) for r in rows], columns=list(columns))
    for c in frame.columns:
        if c in _DATES:
            frame[c] = pd.to_datetime(frame[c])
        elif c in _SMALLINT:
            frame[c] = pd.array(frame[c], dtype="Int8")
        elif c in _FLOAT:
            frame[c] = pd.to_numeric(frame[c]).astype(float)
        elif c in _BOOL:
            frame[c] = frame[c].fillna(False).astype(bool)
    return frame
