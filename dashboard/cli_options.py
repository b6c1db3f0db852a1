"""Options several ``conflictmap`` commands share, spelled once."""

from __future__ import annotations

import click

#: ``--events FILE``: an events file instead of the bundled demo.
events_option = click.option(
    "--events",
    "events_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Events file (default: the bundled demo events).",
)
#: ``--areas FILE`` (repeatable): control-area files instead of the bundled ones.
areas_option = click.option(
    "--areas",
    "area_paths",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Control-area file (repeatable; default: the bundled areas).",
)
