"""The ``conflictmap`` command line: one group, and one module per family of commands.

- ``common``: the one error (:class:`~dashboard.cli.common.CliError`, one line, exit 2),
  the exit codes, date options, the input-file check and the progress bar;
- ``options``: the reading options several commands share (``--events``, ``--areas``,
  ``--encoding``, ``--date-format``, the control-area repair options);
- ``building``: ``validate``, ``geocode``, ``build``, ``synth``;
- ``serving``: ``serve``;
- ``comparing``: ``compare``, ``check``, ``history``;
- ``exporting``: ``export``;
- ``store``: ``db`` (PostGIS);
- ``pulling``: ``pull`` (ACLED's and UCDP's APIs).

Every module loads pandas, geopandas and the rest only when its command runs, so
``conflictmap --help`` stays quick.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

import click

from dashboard.cli.building import build, build_exit_status, geocode, synth, validate
from dashboard.cli.common import CONTEXT_SETTINGS, EXIT_UNUSABLE
from dashboard.cli.comparing import check, compare, history
from dashboard.cli.exporting import export
from dashboard.cli.pulling import pull
from dashboard.cli.serving import serve, streamlit_command
from dashboard.cli.store import db
from dashboard.errors import DashboardError

__all__ = ["build_exit_status", "cli", "main", "streamlit_command"]


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(package_name="conflictmap")
def cli() -> None:
    """Conflict events, geocoded offline and joined with who controlled the ground."""


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: project errors and OS errors become one line and exit status 2."""
    try:
        cli.main(args=argv, prog_name="conflictmap")
    except (DashboardError, OSError) as exc:
        click.echo(f"conflictmap: {exc}", err=True)
        sys.exit(EXIT_UNUSABLE)
    except Exception as exc:  # a bug: say so plainly, traceback only on request
        if os.environ.get("CONFLICTMAP_DEBUG"):
            raise
        click.echo(
            f"conflictmap: unexpected error ({type(exc).__name__}: {exc}); "
            "set CONFLICTMAP_DEBUG=1 to see the traceback",
            err=True,
        )
        sys.exit(EXIT_UNUSABLE)


for _command in (
    validate, geocode, build, synth, serve, compare, check, history, export, db, pull
):  # fmt: skip
    cli.add_command(_command)
