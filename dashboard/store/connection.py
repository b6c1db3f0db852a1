"""Connecting to the PostGIS store: the URL, the engine, and the check that its tables exist."""

from typing import Any

from dashboard.errors import DatabaseError
from dashboard.redact import mask_url

#: The environment variable the app reads the database URL from.
DB_ENV = "DASHBOARD_DB"
#: The PostgreSQL schema (namespace) holding the tables.
SCHEMA = "conflictmap"


def load_sqlalchemy() -> Any:
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
    sa = load_sqlalchemy()
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


def require_schema(conn: Any) -> None:
    sa = load_sqlalchemy()
    found = conn.execute(
        sa.text("SELECT to_regclass(:name)"), {"name": f"{SCHEMA}.events"}
    ).scalar()
    if found is None:
        raise DatabaseError(
            f"the database has no {SCHEMA}.events table: run `conflictmap db init --db URL`"
        )


def vacuum_events(engine: Any) -> None:
    """Mark the events table's pages all-visible after a load or a join (VACUUM, outside any
    transaction): a view's counts and aggregated map then read the window index alone
    instead of every page holding an event of the window (at a million events, about 1 s
    spent once here against a year-long view's 0.3 s saved each time until autovacuum
    would have done it). PostgreSQL skips it with a warning for a role that does not own
    the table; a failure here leaves the committed data as it is, and is not reported."""
    sa = load_sqlalchemy()
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql(f"VACUUM (SKIP_LOCKED) {SCHEMA}.events")
    except sa.exc.DBAPIError:
        pass  # the views stay right; they read the pages until autovacuum runs
