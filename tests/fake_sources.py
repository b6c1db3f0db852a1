"""Fake ACLED and UCDP APIs on 127.0.0.1, for the pull tests and ``bench_pull``.

One ``http.server`` in a thread (port 0: the system picks a free one) serving what the
sources document:

* ACLED (https://acleddata.com/api-documentation/getting-started; ``acledR``):
  ``POST /oauth/token`` (``grant_type=password`` with ``username``, ``password``,
  ``client_id=acled``; ``grant_type=refresh_token``), answering ``access_token``,
  ``refresh_token``, ``expires_in``; a wrong password is a 401. ``GET /api/acled/read``
  with a bearer token (401 when unknown or used up: tokens expire after
  ``token_uses`` requests or ``token_seconds`` seconds), filters ``country`` (``|``),
  ``event_date`` + ``event_date_where`` (``BETWEEN a|b``, ``>=``, ``<=``, ``=``),
  ``event_type`` (``|``), ``timestamp`` + ``timestamp_where`` (default ``>=``), ``limit``
  (default 5,000; silently at most ``acled_max_limit``) and ``page`` (from 1), newest
  event date first; answer ``{"status": 200, "success": true, "count": N, "data": [...]}``.
  ``GET /api/deleted/read`` with ``deleted_timestamp`` + ``deleted_timestamp_where``, paged the
  same way, listing ``event_id_cnty`` and ``deleted_timestamp``.
* UCDP (https://ucdp.uu.se/apidocs/): ``GET /api/gedevents/<version>`` with the
  ``x-ucdp-access-token`` header, ``pagesize`` (at most 1,000), ``page`` (from 0),
  ``Country`` (Gleditsch-Ward codes joined with ``,``), ``StartDate``/``EndDate``; answer
  ``{"TotalCount", "TotalPages", "PreviousPageUrl", "NextPageUrl", "Result"}``.

Faults are queued per route (``"token"``, ``"acled"``, ``"deleted"``, ``"ucdp"``) with
:meth:`FakeSources.fail`: a status (429 with ``Retry-After``, 500, 503, 403...), a body cut
short (fewer bytes than its ``Content-Length``), malformed JSON, a page whose ``count``
disagrees with its rows, or a connection reset. Every request is logged (method, path,
query, headers, form) for the tests' assertions.

Registered as a pytest plugin in ``conftest.py``: the ``fake_sources`` fixture starts a
server with seeded data and stops it after the test.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import socket
import struct
import threading
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

ACLED_USER = "analyst@example.org"
ACLED_PASSWORD = "Corr3ct-H0rse-Battery!"
UCDP_TOKEN = "ucdp-token-7f3a9c2e41"
FIRST_TIMESTAMP = 1_600_000_000
#: A fault body that makes the server quote the request's credentials in its error.
ECHO_AUTH = "echo the credentials"

_TOWNS = (
    # (country, iso, admin1, location, latitude, longitude)
    ("Syria", "760", "Ar-Raqqa", "Ar-Raqqa", "35.9500", "39.0100"),
    ("Syria", "760", "Deir-ez-Zor", "Deir-ez-Zor", "35.3359", "40.1408"),
    ("Syria", "760", "Deir-ez-Zor", "Abu Kamal", "34.4506", "40.9171"),
    ("Syria", "760", "Aleppo", "Aleppo", "36.2021", "37.1343"),
    ("Iraq", "368", "Ninewa", "Mosul", "36.3400", "43.1300"),
    ("Iraq", "368", "Al Anbar", "Al Qaim", "34.3700", "41.0900"),
    ("Iraq", "368", "Al Anbar", "Falluja", "33.3500", "43.7800"),
    ("Iraq", "368", "Kirkuk", "Kirkuk", "35.4681", "44.3922"),
    ("Turkey", "792", "Sanliurfa", "Akcakale", "36.7111", "38.9478"),
)
_TYPES = (
    ("Battles", "Armed clash"),
    ("Explosions/Remote violence", "Air/drone strike"),
    ("Violence against civilians", "Attack"),
    ("Strategic developments", "Non-state actor overtakes territory"),
    ("Protests", "Peaceful protest"),
    ("Riots", "Violent demonstration"),
)
_ACTORS = (
    "Islamic State (Iraq and Syria)",
    "Military Forces of Syria (2000-)",
    "Military Forces of Iraq (2014-2018)",
    "SDF: Syrian Democratic Forces",
    "@Raqqa_SL",  # a handle: a spreadsheet would read a formula
)
_NOTES = (
    "On {date}, clashes were reported near {place}.",
    '=HYPERLINK("http://example.invalid","click")',
    "اشتباكات في {place}; -5 reported",
    'Line one\r\nline two with a "quote"',
    "",
)


def acled_events(
    n: int, *, seed: int = 0, first_timestamp: int = FIRST_TIMESTAMP
) -> list[dict[str, Any]]:
    """``n`` ACLED rows in the current 31-column layout, as the API's JSON holds them
    (text values; ``timestamp`` a number), around the bundled story's towns."""
    rng = random.Random(seed)
    start = dt.date(2014, 1, 1)
    rows = []
    for i in range(n):
        country, iso, admin1, place, lat, lon = _TOWNS[rng.randrange(len(_TOWNS))]
        event_type, sub_type = _TYPES[rng.randrange(len(_TYPES))]
        day = start + dt.timedelta(days=rng.randrange(6 * 365))
        prefix = {"Syria": "SYR", "Iraq": "IRQ", "Turkey": "TUR"}[country]
        rows.append(
            {
                "event_id_cnty": f"{prefix}{100000 + i}",
                "event_date": day.isoformat(),
                "year": str(day.year),
                "time_precision": "1",
                "disorder_type": "Political violence",
                "event_type": event_type,
                "sub_event_type": sub_type,
                "actor1": _ACTORS[rng.randrange(len(_ACTORS))],
                "assoc_actor_1": "",
                "inter1": "Rebel group",
                "actor2": _ACTORS[rng.randrange(len(_ACTORS))],
                "assoc_actor_2": "",
                "inter2": "State forces",
                "interaction": "State forces-Rebel group",
                "civilian_targeting": "",
                "iso": iso,
                "region": "Middle East",
                "country": country,
                "admin1": admin1,
                "admin2": "",
                "admin3": "",
                "location": place,
                "latitude": lat,
                "longitude": lon,
                "geo_precision": "1",
                "source": "Reuters; SOHR",
                "source_scale": "International",
                "notes": _NOTES[rng.randrange(len(_NOTES))].format(date=day, place=place),
                "fatalities": str(rng.randrange(0, 12)),
                "tags": "",
                "timestamp": first_timestamp + i,
            }
        )
    return rows


_GW = {"Syria": 652, "Iraq": 645}


def ucdp_events(n: int, *, seed: int = 0) -> list[dict[str, Any]]:
    """``n`` UCDP GED events as the API's JSON holds them (numbers, booleans, nulls)."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        country = "Syria" if i % 3 else "Iraq"
        town = [t for t in _TOWNS if t[0] == country][rng.randrange(4)]
        day = dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(4 * 365))
        best = rng.randrange(1, 30)
        lat, lon = float(town[4]), float(town[5])
        rows.append(
            {
                "id": 400000 + i,
                "relid": f"{country[:3].upper()}-{day.year}-1-{i}",
                "year": day.year,
                "active_year": True,
                "code_status": "Clear",
                "type_of_violence": 1 + i % 3,
                "conflict_dset_id": "299",
                "conflict_new_id": 299,
                "conflict_name": f"{country}: Government",
                "dyad_dset_id": "10",
                "dyad_new_id": 10,
                "dyad_name": f"Government of {country} - IS",
                "side_a_dset_id": "1",
                "side_a_new_id": 1,
                "side_a": f"Government of {country}",
                "side_b_dset_id": "234",
                "side_b_new_id": 234,
                "side_b": "IS",
                "number_of_sources": 2,
                "source_article": '"Reuters,2017-05-13,Clashes";"AFP"',
                "source_office": "Reuters;AFP",
                "source_date": day.isoformat(),
                "source_headline": "-Clashes near " + town[3] if i % 50 == 0 else "Clashes",
                "source_original": "",
                "where_prec": 1 + i % 4,
                "where_coordinates": f"{town[3]} town",
                "where_description": town[3],
                "adm_1": f"{town[2]} governorate",
                "adm_2": None,
                "latitude": lat,
                "longitude": lon,
                "geom_wkt": f"POINT ({lon} {lat})",
                "priogrid_gid": 150000 + i % 100,
                "country": country,
                "country_id": _GW[country],
                "region": "Middle East",
                "event_clarity": 1,
                "date_prec": 1,
                "date_start": f"{day.isoformat()}T00:00:00",
                "date_end": f"{day.isoformat()}T00:00:00",
                "deaths_a": 0,
                "deaths_b": best,
                "deaths_civilians": 0,
                "deaths_unknown": 0,
                "best": best,
                "high": best + 2,
                "low": best,
                "gwnoa": str(_GW[country]),
                "gwnob": None,
            }
        )
    return rows


@dataclass
class Fault:
    """One injected failure. ``kind``: ``status`` (``status``, ``headers``, ``body``),
    ``truncate`` (half the body under the full ``Content-Length``), ``malformed`` (JSON cut
    off, whole length), ``short`` (a page whose rows disagree with its count, or a UCDP page
    that is not full), ``reset`` (the connection reset, no answer)."""

    kind: str = "status"
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None


@dataclass
class Logged:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    form: dict[str, str]


class FakeSources:
    """The fake APIs' state and server. Use as a context manager, or start()/stop()."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.users = {ACLED_USER: ACLED_PASSWORD}
        self.acled: dict[str, dict[str, Any]] = {}
        self.deleted: list[dict[str, Any]] = []
        self.ucdp: dict[str, list[dict[str, Any]]] = {}
        self.ucdp_tokens = {UCDP_TOKEN}
        self.token_uses = 10_000
        self.token_seconds = 86_400.0
        self.echo_password = False
        """A careless server: a refused password is quoted back in the token endpoint's
        error, and an ``ECHO_AUTH`` fault quotes the account's email too."""
        self.acled_max_limit = 5000
        """ACLED pages hold at most this many rows, whatever ``limit`` was asked (a silent
        cap: the pages are counted with it, ``count`` agrees with the rows)."""
        self.ucdp_max_pagesize = 1000
        """UCDP pages hold at most this many events, whatever was asked (a silent cap)."""
        self.next_page_base: str | None = None
        """Where UCDP's NextPageUrl points (default: this server)."""
        self.clock = FIRST_TIMESTAMP
        self.tokens: dict[str, list[float]] = {}  # token -> [uses left, expires at]
        self.refresh_tokens: set[str] = set()
        self.issued: list[str] = []
        """Every access and refresh token ever issued (the secret-leak tests look for them)."""
        self.grants: list[str] = []
        self.faults: dict[str, list[tuple[int, Fault]]] = {}
        self.requests: list[Logged] = []
        self._counter = 0
        self._sorted: list[dict[str, Any]] | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- data -----------------------------------------------------------------------

    def load_acled(self, rows: list[dict[str, Any]]) -> None:
        with self.lock:
            for row in rows:
                self.acled[row["event_id_cnty"]] = dict(row)
                self.clock = max(self.clock, int(row["timestamp"]))
            self._sorted = None

    def tick(self) -> int:
        """A new ACLED timestamp, later than every one so far."""
        with self.lock:
            self.clock += 1
            return self.clock

    def change(self, ids: list[str], **fields: Any) -> None:
        """Edit events as ACLED does: new values, a new timestamp."""
        with self.lock:
            stamp = self.tick()
            for key in ids:
                self.acled[key].update(fields)
                self.acled[key]["timestamp"] = stamp
            self._sorted = None

    def add(self, rows: list[dict[str, Any]]) -> None:
        with self.lock:
            stamp = self.tick()
            for row in rows:
                self.acled[row["event_id_cnty"]] = {**row, "timestamp": stamp}
            self._sorted = None

    def delete(self, ids: list[str]) -> None:
        with self.lock:
            stamp = self.tick()
            for key in ids:
                self.acled.pop(key, None)
                self.deleted.append({"event_id_cnty": key, "deleted_timestamp": str(stamp)})
            self._sorted = None

    def fail(self, route: str, *faults: Fault, after: int = 0) -> None:
        """Queue ``faults`` for the next requests to ``route``, one request each, after
        ``after`` requests that succeed (``after=1``: the second page fails, then its
        retries meet the further faults)."""
        with self.lock:
            queue = self.faults.setdefault(route, [])
            for number, fault in enumerate(faults):
                queue.append((after if number == 0 else 0, fault))

    def logged(self, path: str) -> list[Logged]:
        with self.lock:
            return [r for r in self.requests if r.path.startswith(path)]

    # --- server ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeSources:
        handler = type("Handler", (_Handler,), {"sources": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeSources:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what the handler asks ------------------------------------------------------

    def next_fault(self, route: str) -> Fault | None:
        with self.lock:
            queue = self.faults.get(route) or []
            if not queue:
                return None
            skip, fault = queue[0]
            if skip:
                queue[0] = (skip - 1, fault)
                return None
            queue.pop(0)
            return fault

    def issue(self, kind: str) -> dict[str, Any]:
        with self.lock:
            self._counter += 1
            access = f"acc-{self._counter:06d}-{random.getrandbits(48):012x}"
            refresh = f"ref-{self._counter:06d}-{random.getrandbits(48):012x}"
            self.tokens[access] = [self.token_uses, time.monotonic() + self.token_seconds]
            self.refresh_tokens.add(refresh)
            self.issued += [access, refresh]
            self.grants.append(kind)
        return {
            "token_type": "Bearer",
            "expires_in": int(self.token_seconds),
            "access_token": access,
            "refresh_token": refresh,
        }

    def use_token(self, header: str) -> str | None:
        """None when the bearer token is good (one use spent), else why not."""
        token = header[len("Bearer ") :] if header.startswith("Bearer ") else ""
        with self.lock:
            state = self.tokens.get(token)
            if state is None:
                return "Invalid token"
            if state[0] <= 0 or time.monotonic() > state[1]:
                del self.tokens[token]
                return "The access token expired"
            state[0] -= 1
            return None

    def sorted_acled(self) -> list[dict[str, Any]]:
        with self.lock:
            if self._sorted is None:
                rows = sorted(self.acled.values(), key=lambda r: r["event_id_cnty"])
                self._sorted = sorted(rows, key=lambda r: r["event_date"], reverse=True)
            return self._sorted


def _compare(value: str, where: str, wanted: str, *, number: bool = False) -> bool:
    def conv(x: str) -> Any:
        return int(x) if number else x

    if where.upper() == "BETWEEN":
        low, _, high = wanted.partition("|")
        return conv(low) <= conv(value) <= conv(high)
    ops = {
        ">=": lambda a, b: a >= b,
        "<=": lambda a, b: a <= b,
        ">": lambda a, b: a > b,
        "<": lambda a, b: a < b,
        "=": lambda a, b: a == b,
    }
    return ops[where](conv(value), conv(wanted))


def matches(row: dict[str, Any], query: dict[str, str]) -> bool:
    """Whether an ACLED row passes the read endpoint's filters."""
    if "country" in query and row["country"] not in query["country"].split("|"):
        return False
    if "event_type" in query and row["event_type"] not in query["event_type"].split("|"):
        return False
    if "event_date" in query and not _compare(
        row["event_date"], query.get("event_date_where", "="), query["event_date"]
    ):
        return False
    return not (
        "timestamp" in query
        and not _compare(
            str(row["timestamp"]),
            query.get("timestamp_where", ">="),
            query["timestamp"],
            number=True,
        )
    )


class _Handler(BaseHTTPRequestHandler):
    sources: FakeSources
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    # --- plumbing -------------------------------------------------------------------

    def _log(self, form: dict[str, str]) -> tuple[str, dict[str, str]]:
        parts = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
        with self.sources.lock:
            self.sources.requests.append(
                Logged(self.command, parts.path, query, dict(self.headers.items()), form)
            )
        return parts.path, query

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _fault(self, route: str, payload: Any) -> bool:
        """Answer with the next queued fault of ``route`` instead of ``payload``; False
        when none is queued."""
        fault = self.sources.next_fault(route)
        if fault is None:
            return False
        body = json.dumps(payload).encode("utf-8")
        if fault.kind == "status":
            message = fault.body or {"message": "injected"}
            if message == ECHO_AUTH:  # a careless server quoting the request's credentials
                said = self.headers.get("Authorization") or self.headers.get("x-ucdp-access-token")
                text = f"bad request with credentials {said}"
                if self.sources.echo_password:
                    text += f" for account {ACLED_USER}"
                message = {"message": text}
                if fault.status == 200:  # ACLED's way: HTTP 200, the error in the body
                    message = {"status": 400, "success": False, "messages": [text], "data": []}
            self._send(fault.status, message, fault.headers)
        elif fault.kind == "truncate":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_WR)
        elif fault.kind == "malformed":
            self._send(200, body[: len(body) // 2])
        elif fault.kind == "short":
            self._send(200, _shortened(payload))
        elif fault.kind == "reset":
            # SO_LINGER 0: close sends a reset, the client sees ECONNRESET.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
        else:
            raise ValueError(f"unknown fault {fault.kind!r}")
        return True

    # --- routes ---------------------------------------------------------------------

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode("utf-8")))
        path, _ = self._log(form)
        if path != "/oauth/token":
            self._send(404, {"message": "not found"})
            return
        sources = self.sources
        if sources.next_fault("token") is not None:
            self._send(503, {"message": "injected"}, {"Retry-After": "0"})
            return
        grant = form.get("grant_type")
        if form.get("client_id") != "acled":
            self._send(400, {"error": "invalid_client"})
        elif grant == "password":
            if sources.users.get(form.get("username", "")) == form.get("password"):
                self._send(200, sources.issue("password"))
            else:
                said = form.get("password", "") if sources.echo_password else ""
                self._send(
                    401,
                    {
                        "error": "invalid_grant",
                        "error_description": f"The user credentials were incorrect. {said}",
                    },
                )
        elif grant == "refresh_token":
            token = form.get("refresh_token", "")
            with sources.lock:
                known = token in sources.refresh_tokens
                sources.refresh_tokens.discard(token)
            if known:
                self._send(200, sources.issue("refresh_token"))
            else:
                self._send(401, {"error": "invalid_grant", "error_description": "expired"})
        else:
            self._send(400, {"error": "unsupported_grant_type"})

    def do_GET(self) -> None:
        path, query = self._log({})
        if path == "/api/acled/read" or path == "/api/deleted/read":
            self._acled(path, query)
        elif path.startswith("/api/gedevents/"):
            self._ucdp(path.rsplit("/", 1)[1], query)
        else:
            self._send(404, {"message": "not found"})

    def _acled(self, path: str, query: dict[str, str]) -> None:
        why = self.sources.use_token(self.headers.get("Authorization", ""))
        if why is not None:
            self._send(401, {"status": 401, "success": False, "message": why})
            return
        limit = min(int(query.get("limit") or 5000), self.sources.acled_max_limit)
        page = int(query.get("page") or 1)
        if path == "/api/acled/read":
            route = "acled"
            rows = [r for r in self.sources.sorted_acled() if matches(r, query)]
        else:
            route = "deleted"
            with self.sources.lock:
                rows = list(self.sources.deleted)
            if "deleted_timestamp" in query:
                where = query.get("deleted_timestamp_where", ">=")
                wanted = query["deleted_timestamp"]
                rows = [
                    r
                    for r in rows
                    if _compare(str(r["deleted_timestamp"]), where, wanted, number=True)
                ]
        chunk = rows[(page - 1) * limit : page * limit] if limit else rows
        payload = {
            "status": 200,
            "success": True,
            "last_update": 0,
            "count": len(chunk),
            "messages": [],
            "data": chunk,
            "filename": "acled_export",
        }
        if not self._fault(route, payload):
            self._send(200, payload)

    def _ucdp(self, version: str, query: dict[str, str]) -> None:
        sources = self.sources
        if self.headers.get("x-ucdp-access-token") not in sources.ucdp_tokens:
            self._send(401, {"Message": "Authorization has been denied for this request."})
            return
        if version not in sources.ucdp:
            self._send(404, {"Message": f"No such resource version: {version}"})
            return
        size = int(query.get("pagesize") or 100)
        page = int(query.get("page") or 0)
        if size > 1000:
            self._send(400, {"Message": "pagesize must be at most 1000"})
            return
        size = min(size, sources.ucdp_max_pagesize)
        rows = sources.ucdp[version]
        if query.get("Country"):
            codes = {int(c) for c in query["Country"].split(",")}
            rows = [r for r in rows if r["country_id"] in codes]
        if query.get("StartDate"):
            rows = [r for r in rows if r["date_start"][:10] >= query["StartDate"]]
        if query.get("EndDate"):
            rows = [r for r in rows if r["date_end"][:10] <= query["EndDate"]]
        pages = max(1, math.ceil(len(rows) / size))
        base = f"{sources.next_page_base or sources.url}/api/gedevents/{version}"

        def link(number: int) -> str:
            others = {k: v for k, v in query.items() if k not in ("page", "pagesize")}
            return f"{base}?{urllib.parse.urlencode({'pagesize': size, 'page': number, **others})}"

        payload = {
            "TotalCount": len(rows),
            "TotalPages": pages,
            "PreviousPageUrl": link(page - 1) if page > 0 else "",
            "NextPageUrl": link(page + 1) if page + 1 < pages else "",
            "Result": rows[page * size : (page + 1) * size],
        }
        if not self._fault("ucdp", payload):
            self._send(200, payload)


def _shortened(payload: Any) -> Any:
    """A page one row short of what it claims (ACLED's ``count``; a UCDP page before the
    last is not full)."""
    out = dict(payload)
    key = "data" if "data" in out else "Result"
    out[key] = out[key][:-1]
    return out


@pytest.fixture()
def fake_sources() -> Iterator[FakeSources]:
    """Fake ACLED and UCDP servers with seeded data, stopped after the test: 1,234 ACLED
    events (Syria, Iraq, Turkey; 2014-2019), GED 25.1 (900 events) and the candidate
    25.0.10 (75)."""
    sources = FakeSources()
    sources.load_acled(acled_events(1_234))
    sources.ucdp["25.1"] = ucdp_events(900)
    sources.ucdp["25.0.10"] = ucdp_events(75, seed=1)
    with sources:
        yield sources


@pytest.fixture()
def source_env(fake_sources: FakeSources) -> dict[str, str]:
    """Environment for ``conflictmap pull`` against the fake servers."""
    return {
        "ACLED_USERNAME": ACLED_USER,
        "ACLED_PASSWORD": ACLED_PASSWORD,
        "ACLED_API_URL": fake_sources.url,
        "UCDP_ACCESS_TOKEN": UCDP_TOKEN,
        "UCDP_API_URL": fake_sources.url,
    }
