"""The store's tables: the stored event columns with their SQL types, and the DDL that
creates the tables and indexes (idempotent)."""

from typing import Any

from dashboard import schema
from dashboard.store.connection import SCHEMA, load_sqlalchemy

TEXT_COLUMNS = (
    schema.EVENT_TYPE, schema.SUB_EVENT_TYPE, schema.ACTOR1, schema.ACTOR2, schema.COUNTRY,
    schema.ADMIN1, schema.ADMIN2, schema.LOCATION, schema.SOURCE, schema.NOTES,
    schema.SOURCE_FORMAT, schema.GEOCODE_METHOD, schema.GEOCODE_MATCH, schema.CONTROLLER,
    schema.AREA_ID, schema.CONTROLLER_CONFIDENCE,
)  # fmt: skip
DATE_COLUMNS = (schema.EVENT_DATE, schema.DATE_START, schema.DATE_END)
SMALLINT_COLUMNS = (schema.TIME_PRECISION, schema.GEO_PRECISION)
FLOAT_COLUMNS = (schema.LATITUDE, schema.LONGITUDE, schema.FATALITIES, schema.GEOCODE_SCORE)
BOOL_COLUMNS = (schema.CONTROLLER_CHANGED,)
#: Stored event columns (besides event_id, geom, extra, version), with their SQL types.
EVENT_TYPES: dict[str, str] = {
    **{c: "date" for c in DATE_COLUMNS},
    **{c: "text" for c in TEXT_COLUMNS},
    **{c: "smallint" for c in SMALLINT_COLUMNS},
    **{c: "double precision" for c in FLOAT_COLUMNS},
    **{c: "boolean" for c in BOOL_COLUMNS},
}
EVENT_COLUMNS: tuple[str, ...] = tuple(EVENT_TYPES)
#: Build columns not kept: they describe the file, not the event (a re-load would differ).
NOT_STORED = {schema.SOURCE_ROW, "geometry"}
EXTRA_COLUMN = "extra"


def schema_sql() -> list[str]:
    cols = ",\n  ".join(f"{c} {t}" for c, t in EVENT_TYPES.items())
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
  {EXTRA_COLUMN} jsonb,
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
  area_kind text,
  area_provenance text,
  geom geometry(Geometry, 4326),
  version integer REFERENCES {s}.data_versions(version)
)""",
        *area_provenance_sql(),
        *event_index_sql(),
        f"CREATE INDEX IF NOT EXISTS areas_geom_gist ON {s}.control_areas USING gist (geom)",
        f"CREATE INDEX IF NOT EXISTS areas_valid_idx ON {s}.control_areas (valid_from, valid_to)",
    ]


#: The events table's indexes besides its primary key.
EVENT_INDEXES = ("events_geom_gist", "events_date_idx", "events_window_idx")
#: What a view's counts and its aggregated map read of every event in its window: held in
#: the window index itself, so those queries read the index only (once the table is
#: vacuumed), not every page that holds an event of the window.
WINDOW_INDEX_COLUMNS = (
    schema.EVENT_ID, schema.EVENT_TYPE, schema.LATITUDE, schema.LONGITUDE, schema.FATALITIES,
    schema.CONTROLLER, "geom",
)  # fmt: skip
#: The text of the window index (its entries are limited in size: see ``load``).
WINDOW_INDEX_TEXT = (schema.EVENT_ID, schema.EVENT_TYPE, schema.CONTROLLER)
#: The events table's primary key and its key to the data versions, as PostgreSQL names
#: them for the table above.
EVENT_KEYS = ("events_pkey", "events_version_fkey")


def event_key_sql() -> list[str]:
    """Give the events table back its keys (:data:`EVENT_KEYS`), checked once over every
    row: for a first load that inserted its rows without them."""
    s = SCHEMA
    primary, version = EVENT_KEYS
    return [
        f"ALTER TABLE {s}.events ADD CONSTRAINT {primary} PRIMARY KEY (event_id)",
        f"ALTER TABLE {s}.events ADD CONSTRAINT {version} FOREIGN KEY (version) "
        f"REFERENCES {s}.data_versions(version)",
    ]


def event_index_sql() -> list[str]:
    """Create the events table's secondary indexes (:data:`EVENT_INDEXES`) where missing."""
    s = SCHEMA
    gist, by_date, window = EVENT_INDEXES
    return [
        f"CREATE INDEX IF NOT EXISTS {gist} ON {s}.events USING gist (geom)",
        f"CREATE INDEX IF NOT EXISTS {by_date} ON {s}.events (event_date)",
        f"CREATE INDEX IF NOT EXISTS {window} ON {s}.events (event_date) "
        f"INCLUDE ({', '.join(WINDOW_INDEX_COLUMNS)})",
    ]


#: Columns of the control-area table a store made before them lacks.
PROVENANCE_COLUMNS: tuple[str, ...] = (schema.AREA_KIND, schema.AREA_PROVENANCE)


def area_provenance_sql() -> list[str]:
    """Add the provenance columns to a control-area table made before they existed."""
    s = SCHEMA
    return [
        f"ALTER TABLE {s}.control_areas ADD COLUMN IF NOT EXISTS {column} text"
        for column in PROVENANCE_COLUMNS
    ]


def provenance_columns(conn: Any) -> list[str]:
    """The provenance columns the store's control-area table has, in their order."""
    sa = load_sqlalchemy()
    found = conn.execute(
        sa.text(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = :s "
            "AND table_name = 'control_areas' AND column_name IN (:kind, :line)"
        ),
        {"s": SCHEMA, "kind": schema.AREA_KIND, "line": schema.AREA_PROVENANCE},
    ).all()
    present = {str(r[0]) for r in found}
    return [c for c in PROVENANCE_COLUMNS if c in present]


def add_provenance_columns(conn: Any) -> None:
    """Give a store made before the provenance columns existed those columns. ALTER TABLE
    locks the table even when there is nothing to add, so it runs only then."""
    if len(provenance_columns(conn)) == len(PROVENANCE_COLUMNS):
        return
    sa = load_sqlalchemy()
    for statement in area_provenance_sql():
        conn.execute(sa.text(statement))


def init_schema(engine: Any) -> None:
    """Create the PostGIS extension (if allowed), the schema, tables and indexes; idempotent."""
    sa = load_sqlalchemy()
    with engine.begin() as conn:
        for statement in schema_sql():
            conn.execute(sa.text(statement))
