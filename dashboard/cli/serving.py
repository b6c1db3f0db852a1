"""``conflictmap serve``: the dashboard in a Streamlit server, with its access policy checked
before the server starts."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from dashboard import paths
from dashboard.cli.common import (
    CliError,
    check_exists,
)
from dashboard.cli.options import (
    area_read_options,
    areas_option,
    date_format_option,
    encoding_option,
    events_option,
)
from dashboard.errors import DashboardError, InputFileError

if TYPE_CHECKING:  # pandas/geopandas load when a command runs: `--help` stays quick
    from dashboard.pipeline import AreaOptions


def streamlit_command(*, port: int, address: str) -> list[str]:
    """The ``streamlit run`` command line of the dashboard (also used by tests and benchmarks).

    The options live here rather than in ``.streamlit/config.toml`` because Streamlit reads
    that file from the current directory only.
    """
    script = paths.PACKAGE_DIR / "app" / "main.py"
    return [
        # streamlit run, plus the data loading as the server starts (dashboard/app/server.py)
        sys.executable,
        "-m",
        "dashboard.app.server",
        "run",
        str(script),
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        "true",
        "--server.enableStaticServing",
        "true",
        "--server.enableXsrfProtection",
        "true",
        "--server.maxUploadSize",
        "200",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        "--client.toolbarMode",
        "minimal",
    ]


@click.command()
@events_option
@encoding_option
@date_format_option
@areas_option
@area_read_options
@click.option("--port", default=8501, show_default=True, type=click.IntRange(1, 65535))
@click.option("--address", default="localhost", show_default=True, help="Interface to listen on.")
@click.option(
    "--insecure-public",
    is_flag=True,
    help="Allow a non-loopback --address without a login or password: anyone "
    "who can reach the server sees the data.",
)
@click.option(
    "--db",
    "db_url",
    default=None,
    help="Read the events from this PostgreSQL/PostGIS URL (loaded with "
    "`conflictmap db load`; default: $DASHBOARD_DB, else the files).",
)
@click.option(
    "--websocket-compression",
    "compression",
    type=click.Choice(["auto", "on", "off"]),
    default="auto",
    show_default=True,
    help="Compress what the page receives (permessage-deflate): a slider step at 200,000 "
    "events goes from 1.4 MB to 0.3 MB, for about 20 ms more server CPU. auto: on when "
    "--address is not a loopback address, where the bytes cross a network.",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 32),
    help="Server processes behind the one port, each browser kept on one of them. More "
    "than one when a team shares the server and one process is busy: see the README, "
    "Deployment.",
)
def serve(
    events_file: str | None,
    encoding: str | None,
    date_format: str | None,
    area_paths: tuple[str, ...],
    area_options: AreaOptions,
    port: int,
    address: str,
    insecure_public: bool,
    db_url: str | None,
    compression: str,
    workers: int,
) -> None:
    """Start the dashboard in a browser-ready Streamlit server.

    On an address other than localhost it needs access control: a login ([auth] in
    .streamlit/secrets.toml) or a shared password ([access] password there, or
    DASHBOARD_PASSWORD); see the README, Deployment.
    """
    from dashboard import access

    for path in [events_file, *area_paths, *area_options.source_files()]:
        if path:
            check_exists(path)
    try:
        policy = access.policy_from(
            access.read_secret_files(access.default_secret_files()), os.environ
        )
    except access.AccessConfigError as exc:
        raise CliError(str(exc)) from exc
    public = access.is_public_address(address)
    if public and policy.mode == access.LOCAL and not insecure_public:
        raise CliError(
            f"refusing to serve on {address!r} without access control: anyone who can reach "
            "it would see the data. Configure a login ([auth] in .streamlit/secrets.toml) or "
            "a password ([access] password there, or DASHBOARD_PASSWORD), or pass "
            "--insecure-public to serve it to everyone."
        )
    env = dict(os.environ)
    # Only this flag opens a public server without access control, never an inherited value.
    env.pop(access.INSECURE_ENV, None)
    env.pop(access.LISTEN_ENV, None)  # set only for the workers of --workers, never inherited
    if insecure_public:
        env[access.INSECURE_ENV] = "1"
    db_url = db_url or os.environ.get("DASHBOARD_DB", "").strip() or None
    if db_url:  # unreachable at start: one line, exit 2, before the server starts
        from dashboard import store as pgstore

        try:
            pgstore.DbStore(db_url).engine.dispose()
        except DashboardError as exc:
            raise CliError(str(exc)) from None
        env["DASHBOARD_DB"] = db_url
    if events_file:
        env["CONFLICTMAP_EVENTS"] = str(Path(events_file).resolve())
    if area_paths:
        env["CONFLICTMAP_AREAS"] = os.pathsep.join(str(Path(p).resolve()) for p in area_paths)
    from dashboard.pipeline import READ_SETTINGS_ENV, BuildSettings, read_settings_json

    settings = BuildSettings(encoding=encoding, date_format=date_format, areas=area_options)
    env.pop(READ_SETTINGS_ENV, None)
    if settings != BuildSettings():
        env[READ_SETTINGS_ENV] = read_settings_json(settings)
    _prepare_static_files()
    command = streamlit_command(port=port, address=address)
    if public or policy.mode != access.LOCAL:
        # Served to others: tracebacks stay in the server log.
        command += ["--client.showErrorDetails", "none"]
    compress = compression == "on" or (compression == "auto" and public)
    command += ["--server.enableWebsocketCompression", "true" if compress else "false"]
    if workers > 1:
        from dashboard.cli.workers import serve_workers

        extra = command[len(streamlit_command(port=port, address=address)) :]
        serve_workers(
            workers,
            env,
            address=address,
            port=port,
            command_for=lambda p, a: [*streamlit_command(port=p, address=a), *extra],
            policy=policy,
        )
        return
    click.echo(f"Dashboard on http://{address}:{port} (Ctrl+C to stop)", nl=True)
    sys.stdout.flush()
    # Become the server, so a signal sent to this process (Ctrl+C, kill) reaches it.
    os.execve(command[0], command, env)


def _prepare_static_files() -> None:
    """Leaflet, its plugins and the map's script in the served static folder before the
    server starts (the page would write them on its first run; a file asked for before
    that would be missing). Unchanged files are not rewritten."""
    from dashboard.assets import APP_STATIC_DIR, ensure_static_assets

    try:
        ensure_static_assets(APP_STATIC_DIR)
    except InputFileError as exc:  # a package or a module of the map's script is missing
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(
            f"cannot write the map's scripts into {str(APP_STATIC_DIR / 'vendor')!r} "
            f"({exc.strerror or exc}): run conflictmap serve once as the owner of that "
            "folder, or install the package where the server can write"
        ) from None
