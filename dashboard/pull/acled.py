"""ACLED through its current API: an OAuth token, the read endpoint paged, the deleted
endpoint, and the updates that keep a local copy current.

The API as ACLED documents it (https://acleddata.com/api-documentation/getting-started, and
its R package ``acledR``: ``acled_api``, ``acled_update``, ``acled_deletions_api``):

* ``POST {base}/oauth/token`` with ``username``, ``password``, ``grant_type=password``,
  ``client_id=acled`` (and ``scope=authenticated``) gives an access token (a bearer token,
  valid ``expires_in`` seconds: a day) and a refresh token; ``grant_type=refresh_token``
  with the refresh token gives new ones without the password.
* ``GET {base}/api/acled/read?_format=json`` answers
  ``{"status": 200, "success": true, "count": N, "data": [...]}``. Filters: ``country``
  (several joined with ``|``), ``event_date`` with ``event_date_where=BETWEEN``
  (``FROM|TO``) or ``>=``/``<=``, ``event_type``, ``timestamp`` with
  ``timestamp_where=>=`` (rows added or changed since a Unix time); ``limit`` rows per
  ``page`` (1-based). A page may hold fewer rows than the limit before the last (a server
  that caps its pages below the ``limit`` asked, silently): only an empty page ends the
  paging, at the cost of one request more.
* ``GET {base}/api/deleted/read?_format=json`` with ``deleted_timestamp`` and
  ``deleted_timestamp_where=>=`` lists ``event_id_cnty`` and ``deleted_timestamp`` of the
  events ACLED removed since then.

An update asks for the rows whose ``timestamp`` is at or after the copy's newest one and
for the deletions since then, as ``acledR::acled_update`` does, and merges them by
``event_id_cnty`` (:func:`dashboard.pull.merge.merge_changes`).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dashboard import schema
from dashboard.errors import CredentialsError, PullError
from dashboard.pull.http import BadAnswer, Client
from dashboard.pull.merge import (
    CsvSink,
    Row,
    atomic_output,
    merge_changes,
    newest,
    open_table,
    read_record,
    text_row,
    write_record,
)
from dashboard.pull.secrets import Credentials

DEFAULT_API_URL = "https://acleddata.com"
API_URL_ENV = "ACLED_API_URL"
USERNAME_NAMES = ("ACLED_USERNAME", "ACLED_EMAIL")
PASSWORD_NAME = "ACLED_PASSWORD"
CREDENTIAL_NAMES = (*USERNAME_NAMES, PASSWORD_NAME)
TOKEN_PATH = "/oauth/token"
READ_PATH = "/api/acled/read"
DELETED_PATH = "/api/deleted/read"
#: ACLED's own default page: the most rows one page holds.
DEFAULT_PAGE_SIZE = 5_000
#: Seconds before its expiry at which a token is renewed, not used.
TOKEN_MARGIN = 60.0
#: ACLED's event types (as its data spell them).
EVENT_TYPES: tuple[str, ...] = (
    "Battles",
    "Violence against civilians",
    "Explosions/Remote violence",
    "Protests",
    "Riots",
    "Strategic developments",
)
ID = schema.ACLED_ID
TIMESTAMP = schema.ACLED_TIMESTAMP

Progress = Callable[[str, int, int], None]


def event_type_name(text: str) -> str:
    """ACLED's spelling of an event type given in any letter case.

    Raises
    ------
    PullError
        Not one of :data:`EVENT_TYPES` (all listed).
    """
    wanted = " ".join(text.split()).casefold()
    for name in EVENT_TYPES:
        if name.casefold() == wanted:
            return name
    raise PullError(f"event type {text!r} is not ACLED's; choose from: {', '.join(EVENT_TYPES)}")


@dataclass(frozen=True)
class AcledQuery:
    """What to ask ACLED for: countries, event dates, event types (all optional)."""

    countries: tuple[str, ...] = ()
    since: dt.date | None = None
    until: dt.date | None = None
    event_types: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.since and self.until and self.since > self.until:
            raise PullError(f"--since {self.since} is after --until {self.until}")

    def is_empty(self) -> bool:
        return not (self.countries or self.since or self.until or self.event_types)

    def params(self) -> dict[str, str]:
        """The read endpoint's filter parameters."""
        params: dict[str, str] = {}
        if self.countries:
            params["country"] = "|".join(self.countries)
        if self.since and self.until:
            params["event_date"] = f"{self.since.isoformat()}|{self.until.isoformat()}"
            params["event_date_where"] = "BETWEEN"
        elif self.since:
            params["event_date"] = self.since.isoformat()
            params["event_date_where"] = ">="
        elif self.until:
            params["event_date"] = self.until.isoformat()
            params["event_date_where"] = "<="
        if self.event_types:
            params["event_type"] = "|".join(self.event_types)
        return params

    def describe(self) -> str:
        parts = [", ".join(self.countries) if self.countries else "every country"]
        if self.since or self.until:
            parts.append(f"{self.since or '…'} to {self.until or 'today'}")
        if self.event_types:
            parts.append(", ".join(self.event_types))
        return "; ".join(parts)

    def to_record(self) -> dict[str, Any]:
        return {
            "countries": list(self.countries),
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "event_types": list(self.event_types),
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> AcledQuery:
        """The query a pull record holds.

        Raises
        ------
        PullError
            The record's query is not readable.
        """
        try:
            return cls(
                countries=tuple(str(c) for c in record.get("countries") or ()),
                since=_date(record.get("since")),
                until=_date(record.get("until")),
                event_types=tuple(event_type_name(t) for t in record.get("event_types") or ()),
            )
        except (TypeError, ValueError) as exc:
            raise PullError(f"the pull record's query is not readable ({exc})") from None


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(str(value)) if value else None


class AcledToken:
    """ACLED's OAuth tokens for one session: the password grant first, then the refresh
    grant when the access token expires (by its ``expires_in``, or a 401 saying so); the
    password grant again when the refresh token is refused.

    Parameters
    ----------
    client
        Sends the token requests (with the client's retries).
    base_url
        ACLED's address (``https://acleddata.com``).
    credentials
        Holds ``ACLED_USERNAME`` (or ``ACLED_EMAIL``) and ``ACLED_PASSWORD``.
    clock
        Seconds, for expiry (``time.monotonic``).

    Raises
    ------
    CredentialsError
        The user name or the password is missing.
    """

    def __init__(
        self,
        client: Client,
        base_url: str,
        credentials: Credentials,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        user = credentials.first(*USERNAME_NAMES)
        password = credentials.first(PASSWORD_NAME)
        if user is None or password is None:
            missing = " and ".join(
                label
                for label, value in (
                    ("ACLED_USERNAME (or ACLED_EMAIL)", user),
                    ("ACLED_PASSWORD", password),
                )
                if value is None
            )
            raise CredentialsError(
                f"ACLED needs your myACLED email and password: set {missing} in the "
                "environment, or name a secrets file holding them with --secrets FILE "
                "(never on the command line)"
            )
        self._client = client
        self._url = base_url + TOKEN_PATH
        self._user = user[1]
        self._password = password[1]
        self._where = credentials.where(user[0], PASSWORD_NAME)
        self._clock = clock
        self._access: str | None = None
        self._refresh: str | None = None
        self._expires_at = 0.0
        self._margin = TOKEN_MARGIN
        self.grants: list[str] = []
        """The grants used, in order ("password", "refresh_token"), for the report."""

    def __repr__(self) -> str:  # never the tokens nor the password
        return f"AcledToken(url={self._url!r}, credentials from {self._where})"

    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self._password, self._user, self._access, self._refresh) if s)

    def headers(self) -> dict[str, str]:
        if self._access is None or self._clock() >= self._expires_at - self._margin:
            self._obtain()
        return {"Authorization": f"Bearer {self._access}"}

    def renew(self) -> bool:
        self._obtain()
        return True

    def refused(self, status: int, reason: str) -> CredentialsError:
        if status == 403:
            return CredentialsError(
                f"ACLED refused access (HTTP 403{': ' + reason if reason else ''}) for the "
                f"account in {self._where}: the account may lack API access or not have "
                "accepted ACLED's terms (log in at https://acleddata.com to check)"
            )
        return CredentialsError(
            f"ACLED rejected the credentials in {self._where} (HTTP {status}"
            f"{': ' + reason if reason else ''}), even with a new token"
        )

    def _obtain(self) -> None:
        if self._refresh is not None:
            try:
                self._grant(
                    {"grant_type": "refresh_token", "refresh_token": self._refresh},
                    kind="refresh_token",
                )
                return
            except _RefreshRefused:
                self._refresh = None  # expired too: sign in again with the password
        self._grant(
            {
                "grant_type": "password",
                "username": self._user,
                "password": self._password,
                "scope": "authenticated",
            },
            kind="password",
        )

    def _grant(self, form: dict[str, str], *, kind: str) -> None:
        def refused(status: int, reason: str) -> Exception:
            if kind == "refresh_token":
                return _RefreshRefused()
            return CredentialsError(
                f"ACLED rejected the credentials in {self._where} (HTTP {status}"
                f"{': ' + reason if reason else ''}); check the email and password you use "
                "at https://acleddata.com"
            )

        answer = self._client.post_form(
            self._url,
            {**form, "client_id": "acled"},
            what="ACLED token",
            on_refusal=refused,
            secrets=self.secrets(),
        )
        payload = answer.data
        if not isinstance(payload, dict) or not isinstance(payload.get("access_token"), str):
            raise PullError("ACLED's token endpoint answered without an access_token")
        self._access = payload["access_token"]
        refresh = payload.get("refresh_token")
        self._refresh = refresh if isinstance(refresh, str) and refresh else self._refresh
        try:
            lifetime = float(payload.get("expires_in") or 86_400)
        except (TypeError, ValueError):
            lifetime = 86_400.0
        self._expires_at = self._clock() + lifetime
        # A token that lives less than two minutes is renewed half-way, not at every use.
        self._margin = min(TOKEN_MARGIN, lifetime / 2)
        self.grants.append(kind)


class _RefreshRefused(Exception):
    """The refresh token was refused: fall back to the password grant."""


@dataclass
class PageCount:
    """Pages and rows one paged request received."""

    pages: int = 0
    rows: int = 0
    duplicates: int = 0


class AcledSession:
    """The read and deleted endpoints of one ACLED address, with one token.

    Parameters
    ----------
    client
        Sends the requests (retries, back-off).
    auth
        The token (:class:`AcledToken`).
    base_url
        ACLED's address.
    page_size
        Rows per page (``limit``).
    progress
        Called as ``progress(stage, rows so far, rows in all)`` after each page; the total
        is 0 (unknown) until the last page.
    """

    def __init__(
        self,
        client: Client,
        auth: AcledToken,
        base_url: str,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        progress: Progress | None = None,
    ) -> None:
        if page_size < 1:
            raise PullError(f"page size must be positive, got {page_size!r}")
        self.client = client
        self.auth = auth
        self.base_url = base_url
        self.page_size = page_size
        self.progress = progress

    def pages(
        self, path: str, params: Mapping[str, str], *, what: str, count: PageCount
    ) -> Iterator[list[dict[str, Any]]]:
        """The ``data`` of each page of ``path`` until one is empty.

        A page shorter than the limit does not end the paging: a server may serve fewer
        rows per page than asked without saying so, and stopping there would cut the data
        short. The price is one request more, answered with no rows. (A server that ignores
        ``page`` is caught by the callers, which refuse a page of rows already received.)
        """
        page = 1
        while True:
            answer = self.client.get_json(
                self.base_url + path,
                what=f"{what}, page {page}",
                params={"_format": "json", **params, "limit": self.page_size, "page": page},
                auth=self.auth,
                check=check_page,
            )
            rows = answer.data["data"]
            count.pages += 1
            count.rows += len(rows)
            if self.progress is not None:
                # ACLED does not say how many rows match: no total until the empty page
                self.progress(what, count.rows, 0 if rows else count.rows)
            if not rows:
                return
            yield rows
            page += 1

    def events(self, params: Mapping[str, str], *, what: str, count: PageCount) -> Iterator[Row]:
        """Every row the read endpoint gives for ``params``, as cell texts, each id once.

        Raises
        ------
        PullError
            A row without ``event_id_cnty``, or a page that repeats only rows already
            received (a server that ignores ``page`` would loop for ever).
        """
        seen: set[str] = set()
        for number, rows in enumerate(
            self.pages(READ_PATH, params, what=what, count=count), start=1
        ):
            fresh = 0
            for record in rows:
                row = text_row(record)
                key = row.get(ID, "")
                if not key:
                    raise PullError(f"{what}, page {number}: a row without {ID}")
                if key in seen:
                    count.duplicates += 1  # paging over data that changed meanwhile
                    continue
                seen.add(key)
                fresh += 1
                yield row
            if rows and not fresh:
                raise PullError(
                    f"{what}, page {number} repeats rows already received: the server does "
                    "not page; try again later"
                )

    def changed_since(
        self, query: AcledQuery, timestamp: int, *, count: PageCount
    ) -> dict[str, Row]:
        """Rows matching ``query`` added or changed at or after ``timestamp``, by id."""
        params = {**query.params(), TIMESTAMP: str(timestamp), "timestamp_where": ">="}
        changes: dict[str, Row] = {}
        for row in self.events(params, what="ACLED changes", count=count):
            changes[row[ID]] = row
        return changes

    def deleted_since(self, timestamp: int, *, count: PageCount) -> dict[str, int | None]:
        """Ids ACLED deleted at or after ``timestamp``, with when.

        Raises
        ------
        PullError
            An entry without ``event_id_cnty``, or a page that repeats only entries already
            received (a server that ignores ``page``).
        """
        params = {"deleted_timestamp": str(timestamp), "deleted_timestamp_where": ">="}
        deleted: dict[str, int | None] = {}
        seen: set[tuple[str, str]] = set()
        pages = self.pages(DELETED_PATH, params, what="ACLED deletions", count=count)
        for number, rows in enumerate(pages, start=1):
            fresh = 0
            for record in rows:
                key = str(record.get(ID) or "")
                if not key:
                    raise PullError(f"ACLED deletions: an entry without {ID}")
                when = str(record.get("deleted_timestamp") or "")
                if (key, when) not in seen:
                    seen.add((key, when))
                    fresh += 1
                stamp = newest(None, when)
                earlier = deleted.get(key)
                deleted[key] = stamp if earlier is None or stamp is None else max(earlier, stamp)
            if not fresh:
                raise PullError(
                    f"ACLED deletions, page {number} repeats entries already received: the "
                    "server does not page; try again later"
                )
        return deleted


def check_page(payload: Any) -> None:
    """Refuse a read or deleted page that cannot be used.

    Raises
    ------
    BadAnswer
        Not the documented shape, or ``count`` disagrees with the rows (a page cut short):
        tried again.
    PullError
        ACLED says the request failed (``success: false``): asking again would not help.
    """
    if not isinstance(payload, dict):
        raise BadAnswer("expected a JSON object with a 'data' list")
    if payload.get("success") is False or payload.get("status") not in (None, 200, "200"):
        messages = payload.get("messages") or payload.get("message") or payload.get("error")
        raise PullError(f"ACLED answered with an error: {messages or payload.get('status')}")
    rows = payload.get("data")
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise BadAnswer("the answer has no 'data' list of rows")
    count = payload.get("count")
    if count is not None and str(count).isdigit() and int(count) != len(rows):
        raise BadAnswer(f"the page holds {len(rows)} rows where its count says {count}")


def acled_columns(first: Mapping[str, str]) -> list[str]:
    """A copy's header from its first row: ACLED's columns in their order, then others."""
    known = [c for c in schema.ACLED_COLUMNS if c in first]
    return known + [c for c in first if c not in known]


@dataclass
class PullReport:
    """What a pull wrote."""

    path: str
    rows: int
    pages: int
    seconds: float
    content_hash: str
    newest: int | None = None
    duplicates: int = 0
    requests: int = 0
    retries: int = 0
    query: str = ""
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return dict(self.__dict__)


def write_rows(out: Any, rows: Iterator[Row], *, neutralise: bool = True) -> CsvSink:
    """Stream ACLED rows into ``out``, the header from the first row (ACLED's 31 columns
    when there is none)."""
    sink: CsvSink | None = None
    for row in rows:
        if sink is None:
            sink = CsvSink(out, acled_columns(row), track=TIMESTAMP, neutralise=neutralise)
        sink.write(row)
    if sink is None:
        sink = CsvSink(out, schema.ACLED_COLUMNS, track=TIMESTAMP, neutralise=neutralise)
    sink.flush()
    return sink


def pull_acled(
    path: str | Path,
    query: AcledQuery,
    *,
    session: AcledSession,
    neutralise: bool = True,
    record: bool = True,
) -> PullReport:
    """Pull every event matching ``query`` into the CSV at ``path``, page by page.

    The file is replaced only when the whole pull succeeded (see
    :func:`~dashboard.pull.merge.atomic_output`); ``FILE.pull.json`` records the query and
    the data version, for :func:`update_acled`.

    Parameters
    ----------
    path
        The CSV to write (ACLED's layout, read back by ``conflictmap build``).
    query
        The filters.
    session
        The API, its token and page size.
    neutralise
        Make cells a spreadsheet would run harmless (as every table the product writes);
        False for a file only the build reads.
    record
        Write ``FILE.pull.json`` (False for a temporary file).

    Raises
    ------
    CredentialsError, PullError
        The pull failed; the file at ``path`` is as it was.
    """
    started = time.perf_counter()
    count = PageCount()
    with atomic_output(path) as out:
        sink = write_rows(
            out,
            session.events(query.params(), what="ACLED events", count=count),
            neutralise=neutralise,
        )
    report = PullReport(
        path=str(path),
        rows=sink.rows,
        pages=count.pages,
        seconds=round(time.perf_counter() - started, 3),
        content_hash=sink.hash.hexdigest(),
        newest=sink.newest,
        duplicates=count.duplicates,
        requests=session.client.requests,
        retries=session.client.retries,
        query=query.describe(),
    )
    if not sink.rows:
        report.notes.append(
            "ACLED returned no events: check the country names (ACLED's spelling, e.g. "
            "'Syria', 'Iraq') and the dates"
        )
    if record:
        write_record(path, _record(query, report))
    return report


@dataclass
class CopyFacts:
    """What one read of a local ACLED copy says: its newest timestamp and its countries."""

    rows: int = 0
    newest: int | None = None
    countries: tuple[str, ...] = ()


def scan_copy(path: str | Path) -> CopyFacts:
    """The newest ``timestamp`` and the countries of the copy at ``path`` (one pass).

    Raises
    ------
    PullError
        The file cannot be read, or has no ``event_id_cnty`` or ``timestamp`` column.
    """
    facts = CopyFacts()
    countries: set[str] = set()
    with open_table(path, only=(TIMESTAMP, "country")) as (columns, rows):
        for needed in (ID, TIMESTAMP):
            if needed not in columns:
                raise PullError(
                    f"{path} has no {needed!r} column: an update merges ACLED rows by "
                    f"{ID} and asks for what changed since the newest {TIMESTAMP}; pull "
                    "the file again without --update"
                )
        for row in rows:
            facts.rows += 1
            facts.newest = newest(facts.newest, row.get(TIMESTAMP))
            if row.get("country"):
                countries.add(row["country"])
    facts.countries = tuple(sorted(countries))
    return facts


#: The query's fields with the option that gives each, in the order they are reported.
QUERY_OPTIONS: tuple[tuple[str, str], ...] = (
    ("countries", "--country"),
    ("since", "--since"),
    ("until", "--until"),
    ("event_types", "--event-type"),
)


@dataclass(frozen=True)
class ChosenQuery:
    """The filters an update asks with, and where each comes from.

    Attributes
    ----------
    query
        The filters.
    origin
        One phrase for the report ("the filters of the recorded pull", "--since given,
        --country from the recorded pull").
    fields
        Each filter used (``countries``, ``since``, ``until``, ``event_types``) and where
        it came from: ``"the command line"``, ``"the recorded pull"`` or ``"the countries
        the copy holds"`` (``database`` for the store). A filter not listed is not used.
    """

    query: AcledQuery
    origin: str
    fields: dict[str, str]


def choose_query(
    given: AcledQuery,
    *,
    record: Mapping[str, Any] | None,
    countries: tuple[str, ...],
    holder: str = "copy",
) -> ChosenQuery:
    """The filters an update asks with, field by field: each filter given on the command
    line replaces that filter only; the others come from the pull's record, and the
    countries, when the record names none (or there is no record), from the countries the
    copy holds (as ``acledR::acled_update``).

    An update that named a filter without ``--country`` (``--since 2020-01-01``) thus still
    asks for the copy's countries, never for the whole world.

    Raises
    ------
    PullError
        Nothing names a country, the record's query is unreadable, or the dates merged
        from the command line and the record are reversed.
    """
    recorded = (
        AcledQuery.from_record(record["query"])
        if record and isinstance(record.get("query"), dict)
        else None
    )
    held = f"the countries the {holder} holds"
    base: dict[str, Any] = {}
    fields: dict[str, str] = {}
    if recorded is not None:
        for name, _ in QUERY_OPTIONS:
            value = getattr(recorded, name)
            if value:
                base[name], fields[name] = value, "the recorded pull"
    if not base.get("countries") and countries:
        base["countries"], fields["countries"] = countries, held
    for name, _ in QUERY_OPTIONS:
        value = getattr(given, name)
        if value:
            base[name], fields[name] = value, "the command line"
    if not base.get("countries"):
        raise PullError(
            "nothing says which countries to ask ACLED for (no --country, no record of the "
            f"original pull naming one, and the {holder} holds none): give --country (and "
            "--since/--until) as for the original pull"
        )
    try:
        query = AcledQuery(**base)
    except PullError as exc:
        whence = ", ".join(
            f"{option} from {fields[name]}"
            for name, option in QUERY_OPTIONS[1:3]
            if fields.get(name, "the command line") != "the command line"
        )
        raise PullError(f"{exc} ({whence})" if whence else str(exc)) from None
    origin = _origin(fields, held, had_record=recorded is not None)
    return ChosenQuery(query=query, origin=origin, fields=fields)


def _origin(fields: Mapping[str, str], held: str, *, had_record: bool) -> str:
    """One phrase saying where the filters came from."""
    given = [option for name, option in QUERY_OPTIONS if fields.get(name) == "the command line"]
    recorded = [option for name, option in QUERY_OPTIONS if fields.get(name) == "the recorded pull"]
    from_copy = fields.get("countries") == held
    if not given:
        if recorded and not from_copy:
            return "the filters of the recorded pull"
        if not recorded:
            why = (
                "the recorded pull names no filter"
                if had_record
                else "no record of the original pull"
            )
            return f"{why}: asking for {held}"
    if given and not recorded and not from_copy:
        return "the filters given"
    parts = [f"{' and '.join(given)} given"] if given else []
    if recorded:
        parts.append(f"{' and '.join(recorded)} from the recorded pull")
    if from_copy:
        parts.append(f"--country from {held}")
    return ", ".join(parts)


@dataclass
class UpdateReport:
    """What an update did to a local copy."""

    path: str
    since: int
    query: str
    query_origin: str
    fetched: int
    pages: int
    deletions_fetched: int
    added: int
    changed: int
    unchanged: int
    deleted_ids: list[str]
    rows: int
    content_hash: str
    newest: int | None
    seconds: float
    superseded: int = 0
    requests: int = 0
    retries: int = 0
    notes: list[str] = field(default_factory=list)
    query_fields: dict[str, str] = field(default_factory=dict)
    """Each filter used and where it came from (see :class:`ChosenQuery`)."""

    @property
    def deleted(self) -> int:
        return len(self.deleted_ids)

    def summary(self) -> dict[str, Any]:
        return {**self.__dict__, "deleted": self.deleted}


def update_acled(path: str | Path, given: AcledQuery, *, session: AcledSession) -> UpdateReport:
    """Bring the copy at ``path`` up to date: rows changed or added since its newest
    ``timestamp`` merged by ``event_id_cnty``, deleted events removed.

    The copy is replaced atomically, so an update that fails leaves it as it was.

    Parameters
    ----------
    path
        A copy :func:`pull_acled` wrote (or an ACLED export in UTF-8 CSV).
    given
        Filters from the command line: each one given replaces that filter of the recorded
        pull, the others are the recorded pull's (see :func:`choose_query`).
    session
        The API.

    Raises
    ------
    CredentialsError, PullError
        As :func:`pull_acled`.
    """
    started = time.perf_counter()
    facts = scan_copy(path)
    if facts.newest is None:
        raise PullError(
            f"{path}: no row has a {TIMESTAMP}, so nothing says what is new; pull the file "
            "again without --update"
        )
    chosen = choose_query(given, record=read_record(path), countries=facts.countries)
    query = chosen.query
    changed, removed = PageCount(), PageCount()
    changes = session.changed_since(query, facts.newest, count=changed)
    deleted = session.deleted_since(facts.newest, count=removed)
    with atomic_output(path) as out:
        merged = merge_changes(
            path, out, changes=changes, deleted=deleted, id_column=ID, track=TIMESTAMP
        )
    report = UpdateReport(
        path=str(path),
        since=facts.newest,
        query=query.describe(),
        query_origin=chosen.origin,
        fetched=len(changes),
        pages=changed.pages + removed.pages,
        deletions_fetched=len(deleted),
        added=merged.added,
        changed=merged.changed,
        unchanged=merged.unchanged,
        deleted_ids=merged.deleted_ids,
        rows=merged.rows,
        content_hash=merged.content_hash,
        newest=merged.newest,
        seconds=round(time.perf_counter() - started, 3),
        superseded=merged.superseded,
        requests=session.client.requests,
        retries=session.client.retries,
        query_fields=dict(chosen.fields),
    )
    if merged.superseded:
        report.notes.append(
            f"{merged.superseded} older versions of changed events were in the copy and "
            "are replaced by the one new version"
        )
    write_record(path, _record(query, report))
    return report


def _record(query: AcledQuery, report: PullReport | UpdateReport) -> dict[str, Any]:
    """What ``FILE.pull.json`` keeps of a pull or an update: its filters and data version."""
    return {
        "source": "acled",
        "query": query.to_record(),
        "rows": report.rows,
        "newest_timestamp": report.newest,
        "content_hash": report.content_hash,
    }
