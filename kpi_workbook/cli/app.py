"""The typer application every command module registers on, and the shared error exit."""

from __future__ import annotations

import sys
from typing import NoReturn

import typer

from kpi_workbook.errors import InputError

app = typer.Typer(
    name="kpi-workbook",
    help="Design, target, score and review role-based KPI frameworks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Design, target, score and review role-based KPI frameworks."""

EXIT_UNREADABLE = 2


def fail(error: InputError | str, code: int = EXIT_UNREADABLE) -> NoReturn:
    """Print every problem of an error on stderr, one per line, and exit with `code`."""
    for line in str(error).splitlines():
        typer.echo(f"error: {line}", err=True)
    raise typer.Exit(code)


def echo_table(text: str) -> None:
    """Print report text to stdout, tolerating a closed pipe (e.g. `| head`)."""
    try:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        pass
