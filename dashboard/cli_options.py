"""Options several ``conflictmap`` commands share, spelled once."""

from __future__ import annotations

import click

from dashboard import schema

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
#: How to read the area files' fields (``build``, ``validate``, ``compare``, ``check``).
controller_field_option = click.option(
    "--controller-field",
    default=schema.CONTROLLER,
    show_default=True,
    help="Area field naming who controls it.",
)
from_field_option = click.option(
    "--from-field",
    default=schema.VALID_FROM,
    show_default=True,
    help="Area validity start field.",
)
to_field_option = click.option(
    "--to-field", default=schema.VALID_TO, show_default=True, help="Area validity end field."
)
date_field_option = click.option(
    "--date-field",
    default=None,
    help="Area field holding a snapshot date (snapshots become intervals).",
)
repair_option = click.option(
    "--repair", is_flag=True, help="Repair invalid polygons with make_valid (reported)."
)
