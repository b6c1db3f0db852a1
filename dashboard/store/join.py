"""The join of events and control areas inside PostGIS, with the rules of
:mod:`dashboard.spatial`."""

from typing import Any

import pandas as pd

from dashboard import schema
from dashboard.store.connection import SCHEMA, load_sqlalchemy, require_schema, vacuum_events

# The rules of dashboard.spatial, in SQL. The day of an event is its date, else its first,
# then its last day; its window [first, last] runs from date_start to date_end (either
# missing: the day; reversed: read forwards). "hits" are the versions whose polygon holds
# the point, whatever their dates. Each event is probed on its day (kind 0: its controller)
# and, when its window spans several days and any version holds it, on the window's first
# day and on every day inside (first, last] where one of those versions starts or ends
# (kind 1): between those days nothing changes, so the controller changed in the window
# exactly when the kind-1 probes disagree. On each probe day, among the versions valid then
# (half-open, NULL = open), "No information" ground last (it yields to any other version
# holding the point and contests nothing): the first interior version wins, else the first-listed border
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
         (array_agg(h.area_id ORDER BY h.controller = '{schema.NO_INFORMATION}', NOT h.interior,
                    h.ord))[1] AS area_id,
         (array_agg(h.controller ORDER BY h.controller = '{schema.NO_INFORMATION}',
                    NOT h.interior, h.ord))[1] AS controller,
         count(DISTINCT h.controller)
           FILTER (WHERE h.interior AND h.controller <> '{schema.NO_INFORMATION}')
           AS interior_controllers
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
    sa = load_sqlalchemy()
    with engine.connect() as conn:
        require_schema(conn)
        rows = conn.execute(sa.text(_JOIN_SQL + " ORDER BY 1")).all()
    return pd.DataFrame(rows, columns=[schema.EVENT_ID, *_JOINED]).astype(object)


def join_in_db(engine: Any) -> tuple[int, int]:
    """Re-run the join inside PostGIS and write its four columns (see :data:`_JOINED`).

    Returns
    -------
    (events, changed)
        How many events were joined, and how many of them got a different answer.
    """
    sa = load_sqlalchemy()
    with engine.begin() as conn:
        require_schema(conn)
        total = conn.execute(sa.text(f"SELECT count(*) FROM {SCHEMA}.events")).scalar_one()
        changed = write_join(conn, "")
    vacuum_events(engine)
    return int(total), int(changed)


def write_join(conn: Any, only: str) -> int:
    """Write the join of the events matching ``only`` (a fixed SQL condition on the events
    table, or "" for all of them); returns how many rows got a different answer."""
    sa = load_sqlalchemy()
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
