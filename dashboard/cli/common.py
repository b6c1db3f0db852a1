"""What every ``conflictmap`` command shares: its one error, exit codes, date options, the
input-file check and the progress bar."""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import click

from dashboard.errors import DashboardError

EXIT_OK = 0
#: The command ran, and something disagrees or was left out (said in its output).
EXIT_ERRORS = 1
#: Unusable input: a file, an option or a database the command cannot use.
EXIT_UNUSABLE = 2

CONTEXT_SETTINGS: dict[str, Any] = {
    "help_option_names": ["-h", "--help"],
    "max_content_width": 100,
}

_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")

#: A progress callback: (stage, done, total).
Progress = Callable[[str, int, int], None]


class CliError(click.ClickException):
    """One line naming the command, exit status 2 (unusable input); never a traceback::

    conflictmap export: --date '2017-13-01': expected a date YYYY-MM-DD
    """

    exit_code = EXIT_UNUSABLE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        # The command's path is known while it runs, not when click shows the error.
        ctx = click.get_current_context(silent=True)
        self.command_path = ctx.command_path if ctx is not None else "conflictmap"

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(f"{self.command_path}: {self.format_message()}", err=True, file=file)


class OneLineCommand(click.Command):
    """Usage errors (a bad choice, a missing value) as one :class:`CliError` line too, not a
    usage page."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            raise CliError(exc.format_message()) from None


def parse_date(value: str | None, option: str) -> dt.date | None:
    """``YYYY-MM-DD`` (surrounding spaces allowed), None for None.

    Raises
    ------
    CliError
        Anything else, naming the option and the value.
    """
    if value is None:
        return None
    text = value.strip()
    try:
        if not _DATE_RE.fullmatch(text):
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise CliError(f"{option} {value!r}: expected a date YYYY-MM-DD") from None


def check_exists(path: str | Path) -> None:
    """Refuse, in one line, an input that is missing, a folder or unreadable."""
    from dashboard.paths import check_input_file

    try:
        check_input_file(Path(path))
    except DashboardError as exc:
        raise CliError(str(exc)) from exc


@contextmanager
def progress_bar() -> Iterator[Progress | None]:
    """A bar per stage on a terminal (rich); None when stderr is piped, so logs and scripts
    get no control characters."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TimeElapsedColumn

    tasks: dict[str, TaskID] = {}
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=False,
    ) as bar:

        def update(stage: str, done: int, total: int) -> None:
            # a total of 0 is not known yet (a paged API that does not count): no bar's end
            known = total if total > 0 else None
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=known)
            bar.update(tasks[stage], completed=done, total=known)

        yield update
