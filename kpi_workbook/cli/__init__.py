"""Command-line interface `kpi-workbook`: a thin wrapper over the package's functions."""

from __future__ import annotations

import importlib
import pkgutil
import sys

from kpi_workbook.cli.app import EXIT_UNREADABLE, app
from kpi_workbook.errors import KpiWorkbookError


def _register_commands() -> None:
    """Import every command module in this package; each registers its commands on `app`."""
    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("cmd_"):
            importlib.import_module(f"{__name__}.{module.name}")


def main() -> None:
    """Entry point of the console script: known errors become messages, never tracebacks."""
    _register_commands()
    try:
        app()
    except KpiWorkbookError as exc:
        for line in str(exc).splitlines():
            print(f"error: {line}", file=sys.stderr)
        raise SystemExit(EXIT_UNREADABLE) from None
