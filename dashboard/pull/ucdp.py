"""UCDP GED through UCDP's API: one versioned release, paged, into the 49-column CSV the
project's UCDP reader recognises.

The API as UCDP documents it (https://ucdp.uu.se/apidocs/):

* ``GET {base}/api/gedevents/{version}?pagesize=N&page=P`` with the token in the
  ``x-ucdp-access-token`` header (required since February 2026; tokens are given by the
  API's maintainer). Pages are numbered from 0; ``pagesize`` is at most 1,000.
* The answer is ``{"TotalCount", "TotalPages", "PreviousPageUrl", "NextPageUrl",
  "Result": [...]}``: follow ``NextPageUrl`` until it is empty.
* Filters: ``Country`` takes Gleditsch-Ward country codes, several joined with ``,``
  (Syria 652, Iraq 645); ``StartDate`` and ``EndDate`` take ``YYYY-MM-DD``.
* Versions: the yearly release is ``YY.1`` (``25.1``: events up to the end of 2024); the
  monthly GED Candidate releases are ``YY.0.M`` (``25.0.10``: the tenth of 2025). A version
  never changes once published, so a pull of one version is always the same data.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dashboard import schema
from dashboard.errors import CredentialsError, PullError
from dashboard.pull.http import BadAnswer, Client
from dashboard.pull.merge import CsvSink, Row, atomic_output, text_row, write_record
from dashboard.pull.secrets import Credentials

DEFAULT_API_URL = "https://ucdpapi.pcr.uu.se"
API_URL_ENV = "UCDP_API_URL"
TOKEN_NAME = "UCDP_ACCESS_TOKEN"
TOKEN_HEADER = "x-ucdp-access-token"
#: The largest page UCDP serves.
MAX_PAGE_SIZE = 1_000
DEFAULT_VERSION = "25.1"
_YEARLY = re.compile(r"\d{2}\.1")
_CANDIDATE = re.compile(r"\d{2}\.0\.\d{1,2}")

#: Gleditsch-Ward codes of the countries around the bundled story (UCDP's ``country_id``);
#: any other country can be given by its code.
GW_CODES: dict[str, int] = {
    "Syria": 652,
    "Iraq": 645,
    "Turkey": 640,
    "Iran": 630,
    "Lebanon": 660,
    "Jordan": 663,
    "Israel": 666,
    "Saudi Arabia": 670,
    "Yemen": 678,
    "Kuwait": 690,
    "Egypt": 651,
    "Libya": 620,
    "Afghanistan": 700,
}
_ALIASES = {
    "syrian arab republic": "Syria",
    "türkiye": "Turkey",
    "turkiye": "Turkey",
    "iran (islamic republic of)": "Iran",
    "yemen (north yemen)": "Yemen",
}

Progress = Callable[[str, int, int], None]


def country_code(text: str) -> tuple[str, int]:
    """A country (name in any letter case, or a Gleditsch-Ward code) and its code.

    Raises
    ------
    PullError
        An unknown name: the message lists the known ones and says a code may be given.
    """
    value = " ".join(text.split())
    if value.isdigit():
        code = int(value)
        names = [n for n, c in GW_CODES.items() if c == code]
        return (names[0] if names else value), code
    key = value.casefold()
    name = _ALIASES.get(key) or next((n for n in GW_CODES if n.casefold() == key), None)
    if name is None:
        known = ", ".join(f"{n} {c}" for n, c in sorted(GW_CODES.items()))
        raise PullError(
            f"UCDP names countries by Gleditsch-Ward code and {value!r} is not in the "
            f"table: give its code instead (e.g. --country 652). Known: {known}"
        )
    return name, GW_CODES[name]


def check_version(version: str, *, candidate: bool) -> str:
    """``version`` checked against UCDP's naming.

    Raises
    ------
    PullError
        Not ``YY.1`` (yearly) or ``YY.0.M`` (candidate), or ``--candidate`` with a yearly
        version.
    """
    text = version.strip()
    if candidate and not _CANDIDATE.fullmatch(text):
        raise PullError(
            f"--candidate: {text!r} is not a GED Candidate version; those are named YY.0.M "
            "(e.g. 25.0.10, the tenth monthly release of 2025)"
        )
    if not (_YEARLY.fullmatch(text) or _CANDIDATE.fullmatch(text)):
        raise PullError(
            f"--version {text!r}: UCDP GED versions are YY.1 for the yearly release (e.g. "
            "25.1) and YY.0.M for a monthly candidate release (e.g. 25.0.10)"
        )
    return text


def is_candidate(version: str) -> bool:
    return bool(_CANDIDATE.fullmatch(version))


class UcdpToken:
    """UCDP's access token, sent in its header; UCDP does not renew it.

    Raises
    ------
    CredentialsError
        No token in the secrets file or the environment.
    """

    def __init__(self, credentials: Credentials) -> None:
        found = credentials.first(TOKEN_NAME)
        if found is None:
            raise CredentialsError(
                f"UCDP's API needs an access token: set {TOKEN_NAME} in the environment, or "
                "name a secrets file holding it with --secrets FILE (tokens are given by the "
                "API's maintainer, see https://ucdp.uu.se/apidocs/)"
            )
        self._token = found[1]
        self._where = credentials.where(TOKEN_NAME)

    def __repr__(self) -> str:
        return f"UcdpToken(from {self._where})"

    def headers(self) -> dict[str, str]:
        return {TOKEN_HEADER: self._token}

    def renew(self) -> bool:
        return False

    def refused(self, status: int, reason: str) -> CredentialsError:
        what = "rejected the access token" if status == 401 else "refused access with the token"
        return CredentialsError(
            f"UCDP {what} in {self._where} (HTTP {status}{': ' + reason if reason else ''}); "
            "check it with the API's maintainer (https://ucdp.uu.se/apidocs/)"
        )

    def secrets(self) -> tuple[str, ...]:
        return (self._token,)


@dataclass(frozen=True)
class UcdpQuery:
    """One GED version, for some countries (codes), between two dates (both optional)."""

    version: str = DEFAULT_VERSION
    countries: tuple[tuple[str, int], ...] = ()
    since: dt.date | None = None
    until: dt.date | None = None

    def params(self) -> dict[str, str]:
        params: dict[str, str] = {}
        if self.countries:
            params["Country"] = ",".join(str(code) for _, code in self.countries)
        if self.since:
            params["StartDate"] = self.since.isoformat()
        if self.until:
            params["EndDate"] = self.until.isoformat()
        return params

    def describe(self) -> str:
        kind = "candidate" if is_candidate(self.version) else "yearly"
        where = ", ".join(f"{n} {c}" for n, c in self.countries) or "every country"
        dates = f"; {self.since or '…'} to {self.until or '…'}" if self.since or self.until else ""
        return f"GED {self.version} ({kind}); {where}{dates}"


@dataclass
class UcdpReport:
    """What a UCDP pull wrote."""

    path: str
    version: str
    rows: int
    pages: int
    total_count: int | None
    seconds: float
    content_hash: str
    requests: int = 0
    retries: int = 0
    query: str = ""
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return dict(self.__dict__)


class UcdpSession:
    """GED pages from one UCDP address.

    Parameters
    ----------
    client
        Sends the requests.
    auth
        The token.
    base_url
        UCDP's address.
    page_size
        Rows per page, at most :data:`MAX_PAGE_SIZE`.
    progress
        Called as ``progress(stage, rows so far, rows in all)`` after each page.
    """

    def __init__(
        self,
        client: Client,
        auth: UcdpToken,
        base_url: str,
        *,
        page_size: int = MAX_PAGE_SIZE,
        progress: Progress | None = None,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise PullError(f"UCDP pages hold 1 to {MAX_PAGE_SIZE:,} rows, not {page_size!r}")
        self.client = client
        self.auth = auth
        self.base_url = base_url
        self.page_size = page_size
        self.progress = progress
        self.pages = 0
        self.total_count: int | None = None

    def events(self, query: UcdpQuery) -> Iterator[Row]:
        """Every event of ``query``, page after page, as cell texts.

        Raises
        ------
        PullError
            A ``NextPageUrl`` to another server, a page that repeats, more pages than
            ``TotalPages`` said, or fewer rows than ``TotalCount`` said.
        """
        version = urllib.parse.quote(query.version, safe=".")
        url: str | None = f"{self.base_url}/api/gedevents/{version}"
        params: dict[str, object] | None = {
            "pagesize": self.page_size,
            "page": 0,
            **query.params(),
        }
        visited: set[str] = set()
        rows = 0
        total_pages: int | None = None
        while url:
            if url in visited:
                raise PullError(f"UCDP's NextPageUrl points back to a page already read: {url}")
            visited.add(url)
            answer = self.client.get_json(
                url,
                what=f"UCDP GED {query.version}, page {self.pages + 1}",
                params=params,
                auth=self.auth,
                check=_check_page(self.page_size),
            )
            payload = answer.data
            self.pages += 1
            total_pages = _whole(payload.get("TotalPages"), total_pages)
            self.total_count = _whole(payload.get("TotalCount"), self.total_count)
            result = payload["Result"]
            rows += len(result)
            for record in result:
                yield text_row(record)
            if self.progress is not None:
                self.progress(f"UCDP GED {query.version}", rows, self.total_count or rows)
            url = self._next(payload.get("NextPageUrl"))
            params = None  # the next page's URL carries every parameter
            if total_pages is not None and self.pages >= total_pages:
                url = None  # the last page, whatever NextPageUrl says
            if url and not result:
                raise PullError(f"UCDP page {self.pages} is empty but names a next page")
        if self.total_count is not None and rows != self.total_count:
            raise PullError(
                f"UCDP said {self.total_count:,} events but {rows:,} arrived: the data "
                "changed during the pull or a page was cut short; pull again"
            )

    def _next(self, link: Any) -> str | None:
        """The next page's URL, refused when it leaves UCDP's address (the token would go
        along)."""
        if not link:
            return None
        text = str(link)
        here, there = urllib.parse.urlsplit(self.base_url), urllib.parse.urlsplit(text)
        if (there.hostname, there.port) != (here.hostname, here.port):
            raise PullError(
                f"UCDP's NextPageUrl leads to another server ({there.hostname}); not "
                "followed, the access token would go along"
            )
        # The address asked, whatever scheme the link spells: never down to plain http.
        return urllib.parse.urlunsplit(there._replace(scheme=here.scheme, netloc=here.netloc))


def _whole(value: Any, fallback: int | None) -> int | None:
    try:
        return int(value) if value is not None else fallback
    except (TypeError, ValueError):
        return fallback


def _check_page(page_size: int) -> Callable[[Any], None]:
    def check(payload: Any) -> None:
        if not isinstance(payload, dict) or not isinstance(payload.get("Result"), list):
            raise BadAnswer("expected a JSON object with a 'Result' list")
        result = payload["Result"]
        if not all(isinstance(r, dict) for r in result):
            raise BadAnswer("'Result' holds something other than events")
        if len(result) > page_size:
            raise BadAnswer(f"a page of {len(result)} events where {page_size} were asked")
        # A page that is not the last must be full: a shorter one was cut short. Full is
        # the server's own page size (TotalCount over TotalPages), should it serve fewer
        # per page than were asked.
        full = page_size
        total, pages = (
            _whole(payload.get("TotalCount"), None),
            _whole(payload.get("TotalPages"), None),
        )
        if total is not None and pages:
            full = min(page_size, -(-total // pages))
        if payload.get("NextPageUrl") and len(result) < full:
            raise BadAnswer(f"a page of {len(result)} events before the last one (full: {full})")

    return check


def ged_columns(first: Sequence[str]) -> list[str]:
    """The GED release's 49 columns in order, then any others the API added."""
    return list(schema.UCDP_GED_COLUMNS) + [c for c in first if c not in schema.UCDP_GED_COLUMNS]


def pull_ucdp(path: str | Path, query: UcdpQuery, *, session: UcdpSession) -> UcdpReport:
    """Pull every event of ``query`` into the CSV at ``path`` (the GED release's layout).

    Replaced atomically: a pull that fails leaves the file as it was. ``FILE.pull.json``
    records the version and the countries.

    Raises
    ------
    CredentialsError, PullError
        The pull failed; the file at ``path`` is as it was.
    """
    started = time.perf_counter()
    with atomic_output(path) as out:
        sink: CsvSink | None = None
        for row in session.events(query):
            if sink is None:
                sink = CsvSink(out, ged_columns(list(row)))
            sink.write(row)
        if sink is None:
            sink = CsvSink(out, schema.UCDP_GED_COLUMNS)
        sink.flush()
    report = UcdpReport(
        path=str(path),
        version=query.version,
        rows=sink.rows,
        pages=session.pages,
        total_count=session.total_count,
        seconds=round(time.perf_counter() - started, 3),
        content_hash=sink.hash.hexdigest(),
        requests=session.client.requests,
        retries=session.client.retries,
        query=query.describe(),
    )
    if is_candidate(query.version):
        report.notes.append(
            "a GED Candidate release: preliminary events, some of which the yearly release "
            "will drop or change"
        )
    write_record(
        path,
        {
            "source": "ucdp",
            "version": query.version,
            "countries": [code for _, code in query.countries],
            "since": query.since.isoformat() if query.since else None,
            "until": query.until.isoformat() if query.until else None,
            "rows": report.rows,
            "content_hash": report.content_hash,
        },
    )
    return report
