"""``conflictmap pull``: events from ACLED's and UCDP's APIs into a local copy (or the
PostGIS store), and ACLED copies kept current.

Credentials come from the environment or ``--secrets FILE``, never from an option: an
argument stays in the shell's history and in every ``ps`` listing.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any

import click

from dashboard.cli.common import CliError, OneLineCommand, Progress, parse_date, progress_bar
from dashboard.cli.options import area_read_options, areas_option
from dashboard.errors import DashboardError

if TYPE_CHECKING:  # the pipeline loads when a command runs: `--help` stays quick
    from dashboard.pipeline import AreaOptions
    from dashboard.pull import Client

#: Ids of deleted events listed in the text report (--json lists all).
LISTED_IDS = 20


def _network_options(func: Any) -> Any:
    """``--secrets``, ``--api-url``, ``--retries``, ``--retry-wait``, ``--json``."""
    options = (
        click.option(
            "--secrets",
            "secrets_file",
            type=click.Path(dir_okay=False),
            default=None,
            help="A KEY=VALUE or JSON file holding the credentials (names as the environment "
            "variables); its names win over the environment.",
        ),
        click.option(
            "--api-url",
            default=None,
            metavar="URL",
            help="The API's address (default: the environment variable below, else the "
            "source's own).",
        ),
        click.option(
            "--retries",
            default=4,
            show_default=True,
            type=click.IntRange(min=0, max=20),
            help="Tries after the first for each request (network errors, 429, 5xx, a "
            "page cut short).",
        ),
        click.option(
            "--retry-wait",
            default=1.0,
            show_default=True,
            type=click.FloatRange(min=0, max=600),
            metavar="SECONDS",
            help="Wait before the first retry; doubles each time (a server's Retry-After wins).",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print what was done as JSON."),
    )
    for option in reversed(options):
        func = option(func)
    return func


@click.group()
def pull() -> None:
    """Pull events from ACLED's or UCDP's API into a CSV the build reads, and keep it current.

    \b
    ACLED: the email and password of a myACLED account in ACLED_USERNAME (or ACLED_EMAIL)
    and ACLED_PASSWORD. UCDP: an access token in UCDP_ACCESS_TOKEN. Or a --secrets FILE.
    """


def _client(retries: int, retry_wait: float, secrets: tuple[str, ...]) -> Client:
    from dashboard.pull import Client, RetryPolicy

    return Client(policy=RetryPolicy(attempts=retries + 1, base_delay=retry_wait), secrets=secrets)


def _base_url(given: str | None, env: str, default: str) -> str:
    from dashboard.pull import check_base_url

    if given:
        return check_base_url(given, name="--api-url")
    if os.environ.get(env):
        return check_base_url(os.environ[env], name=f"${env}")
    return check_base_url(default, name="the API address")


def _warn(lines: list[str] | tuple[str, ...]) -> None:
    for line in lines:
        click.echo(f"warning: {line}", err=True)


def _emit(summary: dict[str, Any]) -> None:
    click.echo(json.dumps(summary, indent=2, default=str))


def _ids(ids: list[str]) -> str:
    shown = ", ".join(ids[:LISTED_IDS])
    more = f" … ({len(ids) - LISTED_IDS:,} more; --json lists all)" if len(ids) > LISTED_IDS else ""
    return f": {shown}{more}" if ids else ""


@pull.command("acled", cls=OneLineCommand)
@click.option(
    "--country",
    "countries",
    multiple=True,
    metavar="NAME",
    help="A country as ACLED names it, e.g. Syria (repeatable; required for a new pull).",
)
@click.option("--since", default=None, metavar="DATE", help="First event date, YYYY-MM-DD.")
@click.option("--until", default=None, metavar="DATE", help="Last event date, YYYY-MM-DD.")
@click.option(
    "--event-type",
    "event_types",
    multiple=True,
    metavar="TYPE",
    help="Only this event type, e.g. Battles (repeatable).",
)
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(dir_okay=False),
    default=None,
    help="The CSV to write (replaced only when the whole pull succeeded).",
)
@click.option(
    "--update",
    "update",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[FILE]",
    help="Bring FILE (or -o FILE, or --db) up to date: what ACLED changed or added since "
    "its newest timestamp, merged by event_id_cnty, and the events ACLED deleted removed. "
    "A filter given replaces that filter only; the others are the recorded pull's (the "
    "countries: else those the copy or the database holds).",
)
@click.option(
    "--db",
    "db_url",
    is_flag=False,
    flag_value="",
    default=None,
    metavar="[URL]",
    help="Load into the PostGIS store instead of a file (--db alone: $DASHBOARD_DB), "
    "through the same build as `db load`.",
)
@click.option(
    "--page-size",
    default=5000,
    show_default=True,
    type=click.IntRange(min=1, max=5000),
    help="Rows per request (ACLED's limit).",
)
@areas_option
@area_read_options
@_network_options
def acled(
    countries: tuple[str, ...],
    since: str | None,
    until: str | None,
    event_types: tuple[str, ...],
    output: str | None,
    update: str | None,
    db_url: str | None,
    page_size: int,
    area_paths: tuple[str, ...],
    area_options: AreaOptions,
    secrets_file: str | None,
    api_url: str | None,
    retries: int,
    retry_wait: float,
    as_json: bool,
) -> None:
    """Pull ACLED events, or update a copy, through ACLED's API (OAuth).

    \b
      conflictmap pull acled --country Syria --country Iraq --since 2014-01-01 -o acled.csv
      conflictmap pull acled --update acled.csv
      conflictmap pull acled --country Syria --db postgresql://me@host/db
      conflictmap pull acled --update --db postgresql://me@host/db [--areas FILE ...]

    The address is --api-url, else $ACLED_API_URL, else https://acleddata.com. A file
    written gets FILE.pull.json beside it: the filters (an update asks with the same, each
    filter given replacing its own) and the data version (newest timestamp, content hash).
    The area options (--areas, --areas-table, --areas-points...) are for --db.

    Exit status: 0 done; 1 (--db) rows set aside by validation, loaded without them;
    2 nothing done (credentials, network, server, bad options): a file is left as it was,
    the database too.
    """
    from dashboard.pull import AcledQuery
    from dashboard.pull.acled import event_type_name

    target = _acled_target(output, update, db_url)
    try:
        query = AcledQuery(
            countries=tuple(" ".join(c.split()) for c in countries if c.strip()),
            since=parse_date(since, "--since"),
            until=parse_date(until, "--until"),
            event_types=tuple(event_type_name(t) for t in event_types),
        )
    except DashboardError as exc:
        raise CliError(str(exc)) from None
    if update is None and not query.countries:
        raise CliError(
            "--country is required for a new pull (repeatable, as ACLED names countries, "
            "e.g. --country Syria --country Iraq)"
        )
    if target[0] != "db":
        given = _area_options_given(area_paths, area_options)
        if given:
            verb = "is" if len(given) == 1 else "are"
            raise CliError(
                f"{' and '.join(given)} {verb} for --db: a file pull writes ACLED's rows as "
                "they are"
            )
    else:
        _check_area_files(area_paths, area_options)
    try:
        session = _acled_session(secrets_file, api_url, retries, retry_wait, page_size)
        with progress_bar() as progress:
            session.progress = progress
            if target[0] == "db":
                _acled_into_db(
                    target[1], query, session, update is not None, area_paths, area_options,
                    as_json, progress,
                )  # fmt: skip
                return
            _acled_into_file(target[1], query, session, update is not None, as_json)
    except DashboardError as exc:
        raise CliError(str(exc)) from None


#: The command line's name of each area option (``AreaOptions`` field: option).
_AREA_OPTION_NAMES = {
    "controller_field": "--controller-field",
    "from_field": "--from-field",
    "to_field": "--to-field",
    "date_field": "--date-field",
    "as_of": "--as-of",
    "as_of_by_file": "--as-of",
    "controller": "--controller",
    "controller_names": "--rename-controller/--ocha-names",
    "repair": "--no-repair",
    "assume_crs": "--assume-crs",
    "table": "--areas-table",
    "boundaries": "--boundaries",
    "unit_field": "--unit-field",
    "unit_matches": "--unit-match",
    "points": "--areas-points",
    "outline": "--outline",
    "max_distance_km": "--max-distance",
}


def _area_options_given(area_paths: tuple[str, ...], area_options: AreaOptions) -> list[str]:
    """The area options given on the command line (those that differ from the defaults)."""
    import dataclasses

    from dashboard.pipeline import AreaOptions

    default = AreaOptions()
    given = ["--areas"] if area_paths else []
    for item in dataclasses.fields(area_options):
        if getattr(area_options, item.name) != getattr(default, item.name):
            given.append(_AREA_OPTION_NAMES.get(item.name, "--" + item.name.replace("_", "-")))
    return list(dict.fromkeys(given))


def _check_area_files(area_paths: tuple[str, ...], area_options: AreaOptions) -> None:
    """Refuse a missing or unreadable area file before asking ACLED for anything."""
    from pathlib import Path

    from dashboard.paths import check_input_file

    for path in (*area_paths, *area_options.source_files()):
        try:
            check_input_file(Path(path))
        except DashboardError as exc:
            raise CliError(str(exc)) from None


def _acled_target(output: str | None, update: str | None, db_url: str | None) -> tuple[str, str]:
    """("file", path) or ("db", url), from -o, --update FILE and --db."""
    if db_url is not None:
        if output or update:
            raise CliError("give either a file (-o or --update FILE) or --db, not both")
        url = db_url or os.environ.get("DASHBOARD_DB", "")
        if not url:
            raise CliError("--db: give a database URL (or set DASHBOARD_DB)")
        return "db", url
    if update and output and os.path.abspath(update) != os.path.abspath(output):
        raise CliError(f"--update {update!r} and -o {output!r} name different files")
    path = update or output
    if not path:
        raise CliError("say where the events go: -o FILE, --update FILE or --db URL")
    return "file", path


def _acled_session(
    secrets_file: str | None, api_url: str | None, retries: int, retry_wait: float, page_size: int
) -> Any:
    from dashboard.pull import AcledSession, AcledToken, load_credentials
    from dashboard.pull.acled import API_URL_ENV, CREDENTIAL_NAMES, DEFAULT_API_URL

    credentials = load_credentials(secrets_file, names=CREDENTIAL_NAMES)
    _warn(credentials.notes)
    base = _base_url(api_url, API_URL_ENV, DEFAULT_API_URL)
    client = _client(retries, retry_wait, credentials.all_values())
    token = AcledToken(client, base, credentials)
    return AcledSession(client, token, base, page_size=page_size)


def _acled_into_file(path: str, query: Any, session: Any, update: bool, as_json: bool) -> None:
    from dashboard.pull import pull_acled, update_acled

    if update:
        report = update_acled(path, query, session=session)
        if as_json:
            _emit(report.summary())
            return
        click.echo(
            f"updated {path}: {report.added:,} added, {report.changed:,} changed, "
            f"{report.deleted:,} deleted{_ids(report.deleted_ids)}"
        )
        click.echo(
            f"  asked ACLED for what changed since timestamp {_when(report.since)} "
            f"({report.query_origin}: {report.query}): {report.fetched:,} rows "
            f"({report.unchanged:,} as the copy had them), {report.deletions_fetched:,} "
            f"deletions ({report.deletions_fetched - report.deleted:,} of events the copy "
            f"did not hold)"
        )
        click.echo(f"  {report.rows:,} events in the copy; {report.seconds} s")
        _version_lines(report.notes, report.newest, report.content_hash, report.retries)
        return
    pulled = pull_acled(path, query, session=session)
    if as_json:
        _emit(pulled.summary())
        return
    repeated = f"; {pulled.duplicates:,} repeated rows dropped" if pulled.duplicates else ""
    click.echo(
        f"pulled {pulled.rows:,} ACLED events ({pulled.query}) into {path} in "
        f"{pulled.pages:,} pages, {pulled.seconds} s{repeated}"
    )
    _version_lines(pulled.notes, pulled.newest, pulled.content_hash, pulled.retries)


def _when(timestamp: int | None) -> str:
    from dashboard.pull import describe_timestamp

    return describe_timestamp(timestamp)


def _version_lines(notes: list[str], newest: int | None, content: str, retries: int) -> None:
    for note in notes:
        click.echo(f"  note: {note}")
    click.echo(f"data version: newest timestamp {_when(newest)}, content {content}")
    if retries:
        click.echo(f"  ({retries} requests were retried)")


def _acled_into_db(
    db_url: str,
    query: Any,
    session: Any,
    update: bool,
    area_paths: tuple[str, ...],
    area_options: AreaOptions,
    as_json: bool,
    progress: Progress | None,
) -> None:
    from dashboard import store as pgstore
    from dashboard.pull.todb import pull_into_store

    engine = pgstore.connect(db_url)
    report = pull_into_store(
        engine,
        query,
        session=session,
        update=update,
        area_paths=area_paths,
        area_options=area_options,
        progress=progress,
    )
    status = 1 if report.rows_set_aside else 0
    if as_json:
        _emit({**report.summary(), "exit_status": status})
        sys.exit(status)
    where = pgstore.safe_url(db_url)
    version = f"version {report.version}" if report.version else "no new version"
    click.echo(
        f"{where}: {report.added:,} added, {report.changed:,} changed, {report.deleted:,} "
        f"deleted{_ids(report.deleted_ids)} ({version})"
    )
    since = f"since timestamp {_when(report.since)} " if update else ""
    click.echo(
        f"  asked ACLED {since}({report.query_origin}: {report.query}): {report.fetched:,} "
        f"rows, {report.unchanged:,} as stored; {report.deletions_fetched:,} deletions"
    )
    if report.not_in_pull:
        click.echo(
            f"  {report.not_in_pull:,} events in the database are not in this pull (kept); "
            f"{report.rejoined:,} of them changed controller with these control areas"
        )
    elif update and report.rejoined:
        click.echo(
            f"  the control areas changed: {report.rejoined:,} stored events changed "
            "controller with them"
        )
    for note in report.notes:
        click.echo(f"  note: {note}")
    click.echo(f"data version: newest stored timestamp {_when(report.newest)}")
    sys.exit(status)


@pull.command("ucdp", cls=OneLineCommand)
@click.option(
    "--country",
    "countries",
    multiple=True,
    required=True,
    metavar="NAME|CODE",
    help="A country name (Syria, Iraq, ...) or Gleditsch-Ward code (652); repeatable.",
)
@click.option(
    "--version",
    "version",
    default="25.1",
    show_default=True,
    help="GED version: YY.1 the yearly release, YY.0.M a monthly candidate release.",
)
@click.option(
    "--candidate",
    is_flag=True,
    help="Say that --version is a GED Candidate release (checked: YY.0.M, e.g. 25.0.10).",
)
@click.option("--since", default=None, metavar="DATE", help="First event date, YYYY-MM-DD.")
@click.option("--until", default=None, metavar="DATE", help="Last event date, YYYY-MM-DD.")
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    type=click.Path(dir_okay=False),
    help="The CSV to write (the GED release's 49 columns; replaced only on success).",
)
@click.option(
    "--page-size",
    default=1000,
    show_default=True,
    type=click.IntRange(min=1, max=1000),
    help="Events per request (UCDP's limit).",
)
@_network_options
def ucdp(
    countries: tuple[str, ...],
    version: str,
    candidate: bool,
    since: str | None,
    until: str | None,
    output: str,
    page_size: int,
    secrets_file: str | None,
    api_url: str | None,
    retries: int,
    retry_wait: float,
    as_json: bool,
) -> None:
    """Pull UCDP GED events of one version through UCDP's API.

    \b
      conflictmap pull ucdp --country Syria --country Iraq --version 25.1 -o ged.csv
      conflictmap pull ucdp --country 652 --version 25.0.10 --candidate -o candidate.csv

    The token is read from $UCDP_ACCESS_TOKEN (or --secrets FILE); the address is
    --api-url, else $UCDP_API_URL, else https://ucdpapi.pcr.uu.se. A version never
    changes once published: pull a newer version to get newer events.

    Exit status: 0 done; 2 nothing done (the file is left as it was).
    """
    from dashboard.pull import UcdpQuery, UcdpSession, UcdpToken, load_credentials, pull_ucdp
    from dashboard.pull.ucdp import (
        API_URL_ENV,
        DEFAULT_API_URL,
        TOKEN_NAME,
        check_version,
        country_code,
    )

    try:
        first, last = parse_date(since, "--since"), parse_date(until, "--until")
        if first and last and first > last:
            raise CliError(f"--since {first} is after --until {last}")
        query = UcdpQuery(
            version=check_version(version, candidate=candidate),
            countries=tuple(dict.fromkeys(country_code(c) for c in countries)),
            since=first,
            until=last,
        )
        credentials = load_credentials(secrets_file, names=(TOKEN_NAME,))
        _warn(credentials.notes)
        base = _base_url(api_url, API_URL_ENV, DEFAULT_API_URL)
        client = _client(retries, retry_wait, credentials.all_values())
        with progress_bar() as progress:
            session = UcdpSession(
                client, UcdpToken(credentials), base, page_size=page_size, progress=progress
            )
            report = pull_ucdp(output, query, session=session)
    except DashboardError as exc:
        raise CliError(str(exc)) from None
    if as_json:
        _emit(report.summary())
        return
    click.echo(
        f"pulled {report.rows:,} UCDP events ({report.query}) into {output} in "
        f"{report.pages:,} pages, {report.seconds} s"
    )
    for note in report.notes:
        click.echo(f"  note: {note}")
    click.echo(f"data version: GED {report.version}, content {report.content_hash}")
    if report.retries:
        click.echo(f"  ({report.retries} requests were retried)")


__all__ = ["pull"]
