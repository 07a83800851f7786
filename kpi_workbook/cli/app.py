"""The typer application every command module registers on, and the shared error exit."""

from __future__ import annotations

__all__ = [
    "EXIT_UNREADABLE", "OutputFormat", "SHOWN_ERRORS", "app", "echo_errors", "echo_table", "fail",
    "open_workspace_option", "render_table",
]

import sys
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, NoReturn

import typer

from kpi_workbook.core.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

    from kpi_workbook.workspace.opener import Workspace

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


def open_workspace_option(given: str) -> Workspace:
    """Open the workspace of a command's --workspace option (cli.options.WorkspaceOption); say so when it is the
    sample."""
    from kpi_workbook.workspace.opener import open_workspace

    workspace = open_workspace(given)
    if workspace.is_sample:
        typer.echo("note: using the bundled sample organization (read only)", err=True)
    return workspace


SHOWN_ERRORS = 50


def echo_errors(error: Exception | str) -> None:
    """Print the problems of an error on stderr, one per line: the first SHOWN_ERRORS, then how many more."""
    lines = str(error).splitlines()
    for line in lines[:SHOWN_ERRORS]:
        typer.echo(f"error: {line}", err=True)
    if len(lines) > SHOWN_ERRORS:
        typer.echo(f"error: ... and {len(lines) - SHOWN_ERRORS} more problems", err=True)


def fail(error: InputError | str, code: int = EXIT_UNREADABLE) -> NoReturn:
    """Print every problem of an error on stderr (see echo_errors) and exit with `code`."""
    echo_errors(error)
    raise typer.Exit(code)


def echo_table(text: str) -> None:
    """Print report text to stdout, tolerating a closed pipe (e.g. `| head`)."""
    try:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        pass


class OutputFormat(StrEnum):
    """How a command prints a table: readable text, CSV (spreadsheet-safe) or JSON records."""

    TEXT = "text"
    CSV = "csv"
    JSON = "json"


def render_table(frame: pd.DataFrame, output: OutputFormat, text: Callable[[], str]) -> str:
    """A table in the chosen format; `text` makes the readable form. CSV cells never start a formula."""
    if output is OutputFormat.CSV:
        from kpi_workbook.reports.safe_cells import safe_csv

        return safe_csv(frame)
    if output is OutputFormat.JSON:
        return frame.to_json(orient="records", indent=2, force_ascii=False)
    return text()
