"""What keeping the store current from a source's API needs: the newest ACLED timestamp and
the countries the stored ACLED events cover, and the removal of events the source deleted.

``conflictmap pull acled --update --db URL`` asks ACLED for what changed since
:func:`acled_state`'s timestamp, merges the changed rows with :func:`~dashboard.store.load_build`
(passing the deleted ids, which it removes in the same transaction), or, when nothing but
deletions came, calls :func:`delete_events`, which records a data version of its own so that
every app replica sees the change, and none when nothing was deleted (ACLED's deleted
endpoint is not filtered by country: most of what it lists the store never held, and an
empty version would make every replica reload for nothing).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dashboard import schema
from dashboard.store.connection import SCHEMA, load_sqlalchemy, require_schema

#: Ids listed in a report (the count is always whole).
LISTED = 50


@dataclass(frozen=True)
class AcledState:
    """The stored ACLED events: how many, the newest ``timestamp``, their countries."""

    events: int
    newest: int | None
    countries: tuple[str, ...]


def acled_state(engine: Any) -> AcledState:
    """What the store holds of ACLED (events whose build read an ACLED file).

    The timestamp is ACLED's own column, kept in ``extra`` (it is not a canonical column);
    a value that is not a whole number is ignored.

    Raises
    ------
    DatabaseError
        The schema is missing.
    """
    sa = load_sqlalchemy()
    with engine.connect() as conn:
        require_schema(conn)
        row = conn.execute(
            sa.text(
                f"SELECT count(*), max(CASE WHEN extra->>'{schema.ACLED_TIMESTAMP}' ~ '^[0-9]{{1,18}}$' "
                f"THEN (extra->>'{schema.ACLED_TIMESTAMP}')::bigint END) "
                f"FROM {SCHEMA}.events WHERE {schema.SOURCE_FORMAT} = 'acled'"
            )
        ).one()
        countries = conn.execute(
            sa.text(
                f"SELECT DISTINCT {schema.COUNTRY} FROM {SCHEMA}.events "
                f"WHERE {schema.SOURCE_FORMAT} = 'acled' AND {schema.COUNTRY} IS NOT NULL "
                f"ORDER BY {schema.COUNTRY}"
            )
        ).scalars()
        return AcledState(
            events=int(row[0]),
            newest=None if row[1] is None else int(row[1]),
            countries=tuple(str(c) for c in countries),
        )


def delete_in(conn: Any, ids: Sequence[str]) -> list[str]:
    """Delete the events with these ids inside the caller's transaction.

    Returns
    -------
    list of str
        The ids that were stored (and are now deleted), sorted; ids the store did not hold
        are left out.
    """
    if not ids:
        return []
    sa = load_sqlalchemy()
    gone = conn.execute(
        sa.text(f"DELETE FROM {SCHEMA}.events WHERE event_id = ANY(:ids) RETURNING event_id"),
        {"ids": list(dict.fromkeys(str(i) for i in ids))},
    ).scalars()
    return sorted(str(i) for i in gone)


@dataclass(frozen=True)
class DeleteResult:
    """What :func:`delete_events` did."""

    version: int | None
    """The data version recorded; None when nothing was deleted (none recorded)."""
    deleted_ids: tuple[str, ...]

    @property
    def deleted(self) -> int:
        return len(self.deleted_ids)


def delete_events(engine: Any, ids: Sequence[str], *, source: str = "") -> DeleteResult:
    """Delete events by id in one transaction, recorded as a data version of its own when
    any was deleted (``not_in_file`` NULL: there is no file); when the store held none of
    them, nothing is recorded and ``version`` is None.

    Parameters
    ----------
    engine
        From :func:`~dashboard.store.connect`; the schema must exist.
    ids
        The ids to delete; ids the store does not hold are ignored.
    source
        Recorded in the data version (e.g. ``ACLED deletions since 1718646153``).

    Raises
    ------
    DatabaseError
        The schema is missing.
    """
    sa = load_sqlalchemy()
    with engine.begin() as conn:
        require_schema(conn)
        gone = delete_in(conn, ids)
        if not gone:
            return DeleteResult(version=None, deleted_ids=())  # nothing written to commit
        version = conn.execute(
            sa.text(
                f"INSERT INTO {SCHEMA}.data_versions (source, area_sources, rows_in_file) "
                "VALUES (:source, '', 0) RETURNING version"
            ),
            {"source": source},
        ).scalar_one()
        conn.execute(
            sa.text(
                f"UPDATE {SCHEMA}.data_versions SET inserted = 0, updated = 0, unchanged = 0, "
                "not_in_file = NULL, areas = NULL, complete = true WHERE version = :v"
            ),
            {"v": version},
        )
    return DeleteResult(version=int(version), deleted_ids=tuple(gone))
