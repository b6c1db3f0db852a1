"""The app's and the exports' queries: one view (a date window, the filters, the map's
box) answered inside the database, so only what the map shows leaves it."""

import datetime as dt
import io
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import shapely

from dashboard import schema
from dashboard.errors import DatabaseError, SchemaError
from dashboard.store.connection import (
    SCHEMA,
    connect,
    first_line,
    load_sqlalchemy,
    require_schema,
    safe_url,
)
from dashboard.store.tables import (
    BOOL_COLUMNS,
    DATE_COLUMNS,
    EVENT_COLUMNS,
    FLOAT_COLUMNS,
    SMALLINT_COLUMNS,
    provenance_columns,
)
from dashboard.timewindow import FILTER_LABELS, Filters, Selection, window_bounds

#: Columns the app's map, table and exports read.
SELECT_COLUMNS: tuple[str, ...] = (schema.EVENT_ID, *EVENT_COLUMNS)

BBox = tuple[float, float, float, float]
#: Where a fetch through COPY leaves, in the connection's ``info``, how many bytes it read
#: (a COPY's result holds no rows for a listener to count).
COPIED_BYTES = "conflictmap_copied_bytes"
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
#: The actor filter's choices: at most this many names, the most frequent (as the app).


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
    in_box: int | None = None
    """Shown events inside the map's box, when one was given (what the map will draw)."""

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
            require_schema(conn)

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
        sa = load_sqlalchemy()
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
        names = _known_columns(columns or SELECT_COLUMNS)
        where, params = _view_where(as_of, window_days, filters, bbox)
        order = "event_date DESC, event_id DESC" if newest_first else "event_date, event_id"
        query = f"SELECT {', '.join(names)} FROM {SCHEMA}.events WHERE {where} ORDER BY {order}"
        if limit is not None:
            query += " LIMIT :limit"
            params["limit"] = int(limit)
        return self._fetched(query, params, names)

    def _fetched(self, query: str, params: dict[str, Any], names: Sequence[str]) -> pd.DataFrame:
        """The rows of ``query`` typed as :func:`_frame` types them, fetched as CSV through
        ``COPY ... TO STDOUT`` and read by Arrow: a year's view of 170,000 events makes no
        Python object per value (0.3 s of the view's 0.45 s before). Parameters are bound
        by psycopg on this side (COPY takes none), quoted as values."""
        import psycopg  # with the database's extra, as SQLAlchemy

        sa = load_sqlalchemy()
        with self._connection() as conn:
            compiled = (
                sa.text(query)
                .bindparams(**params)
                .compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
            )
            statement = f"COPY ({compiled.string}) TO STDOUT (FORMAT csv, ENCODING 'UTF8')"
            raw = conn.connection.driver_connection
            out = io.BytesIO()
            # what listeners of SQLAlchemy's execution events read of a statement's context
            context = SimpleNamespace(compiled=compiled, executemany=False, statement=statement)
            try:
                with raw.cursor() as cur:
                    # ISO dates whatever the database's or the role's DateStyle (Arrow reads
                    # no other); for this transaction only
                    cur.execute("SET LOCAL DateStyle = 'ISO, YMD'")
                    # told to SQLAlchemy's listeners as any statement is (audits, tests)
                    conn.dispatch.before_cursor_execute(
                        conn, cur, statement, compiled.params, context, False
                    )
                    with cur.copy(statement, compiled.params) as copy:
                        for block in copy:
                            out.write(block)
                    conn.info[COPIED_BYTES] = out.tell()
                    conn.dispatch.after_cursor_execute(
                        conn, cur, statement, compiled.params, context, False
                    )
            except psycopg.Error as exc:
                if raw.closed or raw.broken:
                    conn.invalidate()  # the pool must not hand this connection out again
                if isinstance(exc, psycopg.OperationalError):
                    raise DatabaseError(
                        f"lost the database {safe_url(self.url)}: {first_line(exc)}"
                    ) from None
                raise DatabaseError(
                    f"the database {safe_url(self.url)} refused a query: {first_line(exc)}"
                ) from None
        try:
            return _csv_frame(out.getvalue(), names)
        except pa.ArrowInvalid as exc:
            raise DatabaseError(
                f"could not read the rows the database {safe_url(self.url)} sent: {first_line(exc)}"
            ) from None

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
            counts = self.window_counts(as_of, window_days, filters, bbox)
            if aggregate is None:
                in_box = counts.shown if counts.in_box is None else counts.in_box
                aggregate = in_box > points_max
            if not aggregate:
                return DbView(counts=counts, events=self.select(*args), newest=None)
            events = self.select(*args, columns=AGGREGATE_COLUMNS)
            newest = self.select(*args, limit=table_rows, newest_first=True)
        return DbView(counts=counts, events=events, newest=newest)

    def window_counts(
        self,
        as_of: dt.date,
        window_days: int,
        filters: Filters | None = None,
        bbox: BBox | None = None,
    ) -> WindowCounts:
        """The counts of one view (see :class:`WindowCounts`) in two aggregate queries: only
        numbers cross the wire, whatever the size of the window. With ``bbox``, also how
        many of the shown events lie inside it (counted in the same pass)."""
        sa = load_sqlalchemy()
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
        in_box = "0"
        if bbox is not None:
            in_box = f"count(*) FILTER (WHERE {_BBOX_SQL})"
            params.update(_bbox_params(bbox))
        per_controller = (
            f"SELECT coalesce({schema.CONTROLLER}, :no_area) AS controller, count(*), "
            f"sum({schema.FATALITIES}), count(*) - count({schema.FATALITIES}), "
            f"count(*) FILTER (WHERE geom IS NULL), {in_box} "
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
            in_box=None if bbox is None else sum(int(g[5]) for g in groups),
        )

    def daily_counts(self, filters: Filters | None = None) -> pd.DataFrame:
        """Events per day and event type over all dates, passing ``filters``: the frame of
        :func:`dashboard.timewindow.period_counts` with ``freq="D"`` (missing types
        labelled Unknown)."""
        sa = load_sqlalchemy()
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
        sa = load_sqlalchemy()
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
        sa = load_sqlalchemy()
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
        return self._fetched(query + " ORDER BY event_date, event_id", params, names)

    def areas_at(self, as_of: dt.date | None, bbox: BBox | None = None) -> gpd.GeoDataFrame:
        """The control-area versions valid on ``as_of`` (every version when None) touching
        ``bbox``, in list order (the order the join's "first listed" refers to)."""
        sa = load_sqlalchemy()
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
        with self._connection() as conn:
            columns = [schema.AREA_ID, schema.CONTROLLER, schema.VALID_FROM, schema.VALID_TO,
                       schema.AREA_SOURCE, *provenance_columns(conn)]  # fmt: skip
            query = (
                f"SELECT {', '.join(columns)}, ST_AsBinary(geom) AS wkb "
                f"FROM {SCHEMA}.control_areas WHERE {' AND '.join(where)} ORDER BY ord"
            )
            rows = conn.execute(sa.text(query), params).all()
        n = len(columns)
        frame = pd.DataFrame([r[:n] for r in rows], columns=columns)
        for c in (schema.VALID_FROM, schema.VALID_TO):
            frame[c] = pd.to_datetime(frame[c])
        geometry = shapely.from_wkb([None if r[n] is None else bytes(r[n]) for r in rows])
        return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")

    def versions(self) -> pd.DataFrame:
        """The loads, newest first."""
        sa = load_sqlalchemy()
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


def _csv_types(columns: Sequence[str]) -> dict[str, pa.DataType]:
    types: dict[str, pa.DataType] = {}
    for c in columns:
        if c in DATE_COLUMNS:
            types[c] = pa.date32()
        elif c in SMALLINT_COLUMNS:
            types[c] = pa.int16()
        elif c in FLOAT_COLUMNS:
            types[c] = pa.float64()
        elif c in BOOL_COLUMNS:
            types[c] = pa.bool_()
        else:
            types[c] = pa.large_string()
    return types


def _csv_frame(data: bytes, columns: Sequence[str]) -> pd.DataFrame:
    """PostgreSQL's CSV (an unquoted empty field NULL, a quoted one an empty string,
    booleans ``t``/``f``) as :func:`_frame` types a query's rows."""
    if not data:
        return _frame([], columns)
    table = pacsv.read_csv(
        io.BytesIO(data),
        # one block: a value longer than a block (1 MiB by default) cannot straddle two
        read_options=pacsv.ReadOptions(
            column_names=list(columns), block_size=min(len(data) + 1, 2**31 - 1)
        ),
        # a row of one NULL value is an empty line, not a line to skip
        parse_options=pacsv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False),
        convert_options=pacsv.ConvertOptions(
            column_types=_csv_types(columns),
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            true_values=["t"],
            false_values=["f"],
        ),
    )
    return _typed(table.to_pandas())


def _frame(rows: Sequence[Any], columns: Sequence[str] = SELECT_COLUMNS) -> pd.DataFrame:
    return _typed(pd.DataFrame([tuple(r) for r in rows], columns=list(columns)))


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    for c in frame.columns:
        if c in DATE_COLUMNS:
            frame[c] = pd.to_datetime(frame[c])
        elif c in SMALLINT_COLUMNS:
            # pd.array takes a Series; pandas-stubs' overloads name only sequences and arrays.
            frame[c] = pd.array(frame[c], dtype="Int8")  # type: ignore[call-overload]
        elif c in FLOAT_COLUMNS:
            frame[c] = pd.to_numeric(frame[c]).astype(float)
        elif c in BOOL_COLUMNS:
            frame[c] = frame[c].fillna(False).astype(bool)
    return frame
