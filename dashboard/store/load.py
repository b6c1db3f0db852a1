"""Loading a build into the store: rows copied in batches into a staging table, merged by
``event_id`` in one transaction, the control areas replaced, and a data version recorded."""

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from dashboard import schema
from dashboard.errors import SchemaError
from dashboard.store.connection import SCHEMA, load_sqlalchemy, require_schema, vacuum_events
from dashboard.store.join import write_join
from dashboard.store.staging import EXTRAS_AS_JSON, Staged, stage
from dashboard.store.sync import delete_in
from dashboard.store.tables import (
    BOOL_COLUMNS,
    DATE_COLUMNS,
    EVENT_COLUMNS,
    EVENT_INDEXES,
    EVENT_KEYS,
    EVENT_TYPES,
    EXTRA_COLUMN,
    FLOAT_COLUMNS,
    NOT_STORED,
    SMALLINT_COLUMNS,
    WINDOW_INDEX_TEXT,
    add_provenance_columns,
    event_index_sql,
    event_key_sql,
)

#: Rows copied per batch during a load.
DEFAULT_BATCH = 50_000
#: From this many events, a load into an empty events table builds its secondary indexes
#: after the rows instead of growing them row by row.
REBUILD_INDEXES_AT = 10_000


@dataclass(frozen=True)
class LoadResult:
    """What one load did to the database."""

    version: int
    rows_in_file: int
    inserted: int
    updated: int
    unchanged: int
    areas: int
    not_in_file: int | None
    """Events in the database that the file did not hold (kept); None for an incremental
    load (``load_build(incremental=True)``), whose file holds only what changed."""
    not_in_file_ids: tuple[str, ...] = field(default=())
    """Up to 50 ids of events in the database that the file did not hold (kept)."""
    rejoined: int = 0
    """Of those, how many got a different controller (or area, or confidence) from the join
    with this load's control areas."""
    deleted_ids: tuple[str, ...] = ()
    """Events removed by this load because their source deleted them (``delete_ids``)."""
    version_kept: bool = True
    """False when the load changed nothing and was rolled back (``skip_unchanged``): no
    data version was recorded, and ``version`` is the one the store already had."""

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
            "deleted": len(self.deleted_ids),
            "deleted_ids": list(self.deleted_ids),
            "version_kept": self.version_kept,
        }


class _Unchanged(Exception):
    """Raised inside a load's transaction to roll it back: it changed nothing."""

    def __init__(self, missing: int | None, missing_ids: tuple[str, ...]) -> None:
        super().__init__("the load changed nothing")
        self.missing = missing
        self.missing_ids = missing_ids


def _python_values(frame: pd.DataFrame, column: str) -> list[Any]:
    """A column as Python values for COPY: None for every kind of missing."""
    values = frame[column]
    if column in DATE_COLUMNS:
        parsed = pd.to_datetime(values, errors="coerce")
        return [None if pd.isna(v) else v.date() for v in parsed]
    if column in SMALLINT_COLUMNS:
        numbers = pd.to_numeric(values, errors="coerce")
        return [None if pd.isna(v) else int(v) for v in numbers]
    if column in FLOAT_COLUMNS:
        floats = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        return [None if not np.isfinite(v) else float(v) for v in floats]
    if column in BOOL_COLUMNS:
        return [None if pd.isna(v) else bool(v) for v in values]
    return [None if pd.isna(v) else str(v) for v in values.astype(object)]


def _event_columns(events: pd.DataFrame) -> tuple[list[str], list[str]]:
    """The stored columns the build has (besides event_id) and the build's columns that go
    into ``extra``; refuses events without a unique event_id."""
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
    _check_indexed_text(events)
    stored = [c for c in EVENT_COLUMNS if c in events]
    extras = [
        c for c in events.columns
        if c not in EVENT_TYPES and c != schema.EVENT_ID and c not in NOT_STORED
        and str(events[c].dtype) != "geometry"
    ]  # fmt: skip
    return stored, extras


#: The most characters the indexed text of one event (its id, type and controller, held in
#: the window index) may have together: an index entry holds at most 2,704 bytes.
MAX_INDEXED_CHARS = 600


def _check_indexed_text(events: pd.DataFrame) -> None:
    """Refuse, naming the row, an event whose id, type and controller are too long to index
    together: a value that long is another column's text (notes shifted by a stray
    delimiter), not a name."""
    columns = [c for c in WINDOW_INDEX_TEXT if c in events]
    if not columns:
        return
    lengths = pd.Series(0, index=events.index)
    for c in columns:
        lengths = lengths + events[c].astype("string").str.len().fillna(0)
    long: pd.Series = lengths > MAX_INDEXED_CHARS
    if long.any():
        first = long.idxmax()
        widest = max(columns, key=lambda c: len(str(events.at[first, c])))
        raise SchemaError(
            f"data row {_row_of(events, long)}: its {widest} is "
            f"{len(str(events.at[first, widest])):,} characters long; the database indexes "
            f"an event's {', '.join(columns)} (at most {MAX_INDEXED_CHARS} characters "
            "together). Is a column shifted in the file? `conflictmap validate` shows the row"
        )


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
    delete_ids: Sequence[str] = (),
    incremental: bool = False,
    skip_unchanged: bool = False,
) -> LoadResult:
    """Merge a :class:`dashboard.pipeline.BuildResult` into the database, in one transaction.

    Events are matched by ``event_id``: new ones inserted, changed ones updated, the same
    ones left alone. Events in the database that the build does not hold are kept and
    counted (``not_in_file``). The control areas are replaced by the build's (the ones its
    events were joined with), and the kept events are joined again inside PostGIS with them
    (``rejoined`` counts the answers that changed). A data version row records the load.

    An incremental load (``incremental=True``: the build holds only the rows its source
    changed or added, as ``pull acled --update`` gives) does not count the events it lacks
    (``not_in_file`` is None, recorded as NULL): nearly every stored event would be one.
    It joins them again only when the control areas changed (compared with the stored
    ones, provenance included, before they are replaced): with the same areas their
    answers cannot change.

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
    delete_ids
        Events to remove in the same transaction, before the merge: those their source
        deleted (an ACLED update). A load that fails removes none of them. Ids the store
        does not hold are ignored; ``deleted_ids`` lists the ones removed.
    incremental
        The build holds only changed rows (see above): no ``not_in_file``, and no join of
        the kept events unless the control areas changed.
    skip_unchanged
        Roll the load back when it inserts, updates and deletes nothing and leaves the
        control areas as they were: no data version is recorded (so app replicas do not
        reload for nothing); ``version_kept`` is then False and ``version`` the newest
        version the store holds (0 when none).

    Raises
    ------
    SchemaError
        An event has no ``event_id``, or two share one.
    DatabaseError
        The schema is missing.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size!r}")
    sa = load_sqlalchemy()
    staged = stage(result.events, *_event_columns(result.events))
    total = len(result.events)
    s = SCHEMA
    try:
        loaded = _load(
            engine,
            result,
            staged,
            source=source,
            area_sources=area_sources,
            batch_size=batch_size,
            on_batch=on_batch,
            delete_ids=delete_ids,
            incremental=incremental,
            skip_unchanged=skip_unchanged,
        )
        vacuum_events(engine)
        return loaded
    except _Unchanged as unchanged:
        with engine.connect() as conn:
            newest = conn.execute(
                sa.text(f"SELECT coalesce(max(version), 0) FROM {s}.data_versions")
            ).scalar_one()
        return LoadResult(
            version=int(newest),
            rows_in_file=total,
            inserted=0,
            updated=0,
            unchanged=total,
            areas=len(result.areas) if result.areas is not None else 0,
            not_in_file=unchanged.missing,
            not_in_file_ids=unchanged.missing_ids,
            version_kept=False,
        )


def _load(
    engine: Any,
    result: Any,
    staged: Staged,
    *,
    source: str,
    area_sources: Sequence[str],
    batch_size: int,
    on_batch: Callable[[int, int], None] | None,
    delete_ids: Sequence[str],
    incremental: bool,
    skip_unchanged: bool,
) -> LoadResult:
    """:func:`load_build`'s transaction; raises :class:`_Unchanged` to roll it back."""
    sa = load_sqlalchemy()
    total = len(result.events)
    s = SCHEMA
    with engine.begin() as conn:
        require_schema(conn)
        # One load at a time, readers not held: whether the table is empty stays true until
        # this load commits, and versions are numbered in the order loads commit. Taken
        # before anything else (a load holding data_versions while it waits for the events
        # would deadlock with a first load adding back its key to data_versions).
        conn.execute(sa.text(f"LOCK TABLE {s}.events IN SHARE ROW EXCLUSIVE MODE"))
        version = conn.execute(
            sa.text(
                f"INSERT INTO {s}.data_versions (source, area_sources, rows_in_file) "
                "VALUES (:source, :areas, :rows) RETURNING version"
            ),
            {"source": source, "areas": "\n".join(area_sources), "rows": total},
        ).scalar_one()
        # The source's deletions go in the same transaction: a failed load removes nothing.
        deleted = delete_in(conn, delete_ids)
        _copy_stage(conn, staged, batch_size, on_batch)
        fresh = _no_events(conn)
        owner = _owns_events(conn)
        rebuild = fresh and owner and total >= REBUILD_INDEXES_AT and _hold_empty_table(conn)
        if rebuild:
            for name in EVENT_INDEXES:
                conn.execute(sa.text(f"DROP INDEX IF EXISTS {s}.{name}"))
            for name in reversed(EVENT_KEYS):
                conn.execute(sa.text(f"ALTER TABLE {s}.events DROP CONSTRAINT IF EXISTS {name}"))
        inserted, updated = _merge(conn, staged, version, fresh=fresh)
        if rebuild:
            for statement in event_key_sql():
                conn.execute(sa.text(statement))
        # The indexes dropped above, or one a store made before it lacks: only the owner
        # may make them (CREATE INDEX checks ownership even when the index exists).
        for statement in event_index_sql() if owner else ():
            conn.execute(sa.text(statement))
        missing_count: int | None
        missing_ids: tuple[str, ...]
        if incremental:
            missing_count, missing_ids = None, ()
        else:
            missing_count, missing_ids = _not_in_file(conn)
        watch = incremental or skip_unchanged
        areas_before = _areas_fingerprint(conn) if watch else ""
        n_areas = _replace_areas(conn, result.areas, version)
        areas_changed = not watch or _areas_fingerprint(conn) != areas_before
        if skip_unchanged and not (inserted or updated or deleted or areas_changed):
            raise _Unchanged(
                missing_count, missing_ids
            )  # rolls back the version row, the stage and the areas' rewrite
        # The events the file lacks were joined with the areas of an earlier load: join
        # them with the areas just written, so that every stored answer follows one set.
        # (An incremental load lacks nearly every event: they are joined again only when
        # the areas changed.)
        rejoin = areas_changed if incremental else bool(missing_count)
        rejoined = (
            write_join(
                conn,
                f"NOT EXISTS (SELECT 1 FROM cm_stage s WHERE s.event_id = {SCHEMA}.events.event_id)",
            )
            if rejoin
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
        deleted_ids=tuple(deleted),
    )


def _copy_stage(
    conn: Any, staged: Staged, batch_size: int, on_batch: Callable[[int, int], None] | None
) -> None:
    """The staging table (dropped at commit), filled by COPY in CSV batches."""
    raw = conn.connection.driver_connection  # psycopg: COPY in the same transaction
    total = staged.table.num_rows
    with raw.cursor() as cur:
        typed = ", ".join(f"{c} {t}" for c, t in zip(staged.names, staged.sql_types, strict=True))
        cur.execute(f"CREATE TEMP TABLE cm_stage ({typed}) ON COMMIT DROP")
        names = ", ".join(staged.names)
        # the bytes are UTF-8 whatever the connection's client encoding
        copy_sql = f"COPY cm_stage ({names}) FROM STDIN (FORMAT csv, ENCODING 'UTF8')"
        done = 0
        for rows, text in staged.csv_batches(batch_size):
            with cur.copy(copy_sql) as copy:
                copy.write(text)
            done += rows
            if on_batch is not None:
                on_batch(done, total)
        cur.execute("ANALYZE cm_stage")


def _owns_events(conn: Any) -> bool:
    """Whether this role owns the events table (may drop and create its indexes)."""
    sa = load_sqlalchemy()
    return bool(
        conn.execute(
            sa.text(
                "SELECT pg_has_role(current_user, c.relowner, 'USAGE') FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = :s AND c.relname = 'events'"
            ),
            {"s": SCHEMA},
        ).scalar_one()
    )


def _hold_empty_table(conn: Any) -> bool:
    """Whether this load (by the table's owner) may build the empty events table's indexes
    and check its keys after its rows, once, rather than row by row (twice as fast at a
    million events): only when no reader holds the table at this moment. The table is then
    held until the load commits: a replica reading the empty store waits for the load
    instead of showing nothing. A failed load rolls the drop back."""
    sa = load_sqlalchemy()
    held = conn.begin_nested()
    try:
        conn.execute(sa.text(f"LOCK TABLE {SCHEMA}.events IN ACCESS EXCLUSIVE MODE NOWAIT"))
    except sa.exc.OperationalError:  # a reader holds it: grow the indexes row by row
        held.rollback()
        return False
    held.commit()
    return True


def _no_events(conn: Any) -> bool:
    sa = load_sqlalchemy()
    return not conn.execute(sa.text(f"SELECT EXISTS (SELECT 1 FROM {SCHEMA}.events)")).scalar_one()


#: Pairs per jsonb_build_object call: a function takes at most 100 arguments.
_PAIRS_PER_CALL = 50


def _extra_sql(extras: Sequence[str]) -> tuple[str, dict[str, str]]:
    """The expression making ``extra`` from the staged ``x0``, ``x1``... columns, and its
    parameters (the keys, passed as values: any column name is safe)."""
    if not extras:
        return "NULL::jsonb", {}
    keys = {f"k{i}": name for i, name in enumerate(extras)}
    calls = []
    for first in range(0, len(extras), _PAIRS_PER_CALL):
        pairs = ", ".join(
            f"CAST(:k{i} AS text), x{i}"
            for i in range(first, min(first + _PAIRS_PER_CALL, len(extras)))
        )
        calls.append(f"jsonb_build_object({pairs})")
    return " || ".join(calls), keys


def _merge(conn: Any, staged: Staged, version: int, *, fresh: bool) -> tuple[int, int]:
    """Insert the new events, update the changed ones; counted in the database (a million
    flags need not cross the wire). Into an empty table (``fresh``) every event is new."""
    sa = load_sqlalchemy()
    s = SCHEMA
    stored = [c for c in staged.names if c in EVENT_TYPES]
    geom = (
        "CASE WHEN longitude BETWEEN -180 AND 180 AND latitude BETWEEN -90 AND 90 "
        "THEN ST_SetSRID(ST_MakePoint(longitude, latitude), 4326) END"
        if schema.LATITUDE in stored and schema.LONGITUDE in stored
        else "NULL::geometry"
    )
    extra, keys = (EXTRAS_AS_JSON, {}) if staged.extras_as_json else _extra_sql(staged.extras)
    data = [*stored, EXTRA_COLUMN]
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in [*data, "geom", "version"])
    old = ", ".join(f"e.{c}" for c in data)
    new = ", ".join(f"EXCLUDED.{c}" for c in data)
    picked = ", ".join([schema.EVENT_ID, *stored, extra, geom, ":version"])
    insert = f"""INSERT INTO {s}.events AS e ({schema.EVENT_ID}, {", ".join(data)}, geom, version)
SELECT {picked} FROM cm_stage"""
    if fresh:
        added = conn.execute(sa.text(insert), {"version": version, **keys}).rowcount
        return int(added), 0
    statement = f"""
WITH merged AS (
{insert}
ON CONFLICT (event_id) DO UPDATE SET {updates}
WHERE ROW({old}) IS DISTINCT FROM ROW({new})
RETURNING (xmax = 0) AS inserted)
SELECT count(*) FILTER (WHERE inserted), count(*) FROM merged"""
    inserted, changed = conn.execute(sa.text(statement), {"version": version, **keys}).one()
    return int(inserted), int(changed) - int(inserted)


def _areas_fingerprint(conn: Any) -> str:
    """A digest of the stored control areas (order, every column but ``version``, the
    geometry's exact bytes): equal before and after a load when it left them as they were."""
    sa = load_sqlalchemy()
    add_provenance_columns(conn)  # the same columns before and after
    return str(
        conn.execute(
            sa.text(
                "SELECT md5(coalesce(string_agg((to_jsonb(a) - 'version' - 'geom')::text "
                "|| ':' || coalesce(encode(ST_AsEWKB(a.geom), 'hex'), ''), E'\\n' ORDER BY a.ord), "
                f"'')) FROM {SCHEMA}.control_areas a"
            )
        ).scalar_one()
    )


def _not_in_file(conn: Any, limit: int = 50) -> tuple[int, tuple[str, ...]]:
    sa = load_sqlalchemy()
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
    sa = load_sqlalchemy()
    s = SCHEMA
    add_provenance_columns(conn)
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
            "area_kind": kind,
            "area_provenance": line,
            "wkb": w,
            "version": version,
        }
        for i, (a, c, f, t, src, kind, line, w) in enumerate(
            zip(
                _python_values(frame, schema.AREA_ID),
                _python_values(frame, schema.CONTROLLER),
                _dates(frame[schema.VALID_FROM]),
                _dates(frame[schema.VALID_TO]),
                *(
                    _python_values(frame, column) if column in frame else [None] * len(frame)
                    for column in (schema.AREA_SOURCE, schema.AREA_KIND, schema.AREA_PROVENANCE)
                ),
                wkb,
                strict=True,
            )
        )
    ]
    conn.execute(
        sa.text(
            f"INSERT INTO {s}.control_areas "
            "(ord, area_id, controller, valid_from, valid_to, area_source, area_kind, "
            "area_provenance, geom, version) "
            "VALUES (:ord, :area_id, :controller, :valid_from, :valid_to, :area_source, "
            ":area_kind, :area_provenance, ST_SetSRID(ST_GeomFromWKB(:wkb), 4326), :version)"
        ),
        params,
    )
    return len(params)


def _dates(values: pd.Series) -> list[dt.date | None]:
    parsed = pd.to_datetime(values, errors="coerce")
    return [None if pd.isna(v) else v.date() for v in parsed]
