"""Command-line interface `kpi-workbook`: a thin wrapper over the package's functions."""

from __future__ import annotations

__all__ = ["EXIT_UNREADABLE", "KpiWorkbookError", "app", "echo_errors", "main"]

import importlib
import pkgutil
import sys

from kpi_workbook.cli.app import EXIT_UNREADABLE, app, echo_errors
from kpi_workbook.core.errors import KpiWorkbookError
from kpi_workbook.core.lean_imports import leave_out_iri_grammar


def _register_commands(argv: list[str] | None = None) -> None:
    """Import the command modules (`cmd_<command>.py`); each registers its command on `app`.

    When `argv` names a command, only its module is imported, so a command does not pay for the
    imports of all the others; otherwise (help, a misspelled command) every module is.
    """
    modules = [m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith("cmd_")]
    command = next((arg for arg in argv or [] if not arg.startswith("-")), "")
    wanted = f"cmd_{command.replace('-', '_')}"
    for name in [wanted] if wanted in modules else modules:
        importlib.import_module(f"{__name__}.{name}")


def main() -> None:
    """Entry point of the console script: known errors become messages, never tracebacks."""
    leave_out_iri_grammar()  # before anything imports nbformat
    _register_commands(sys.argv[1:])
    try:
        app()
    except KpiWorkbookError as exc:
        echo_errors(exc)
        raise SystemExit(EXIT_UNREADABLE) from None
