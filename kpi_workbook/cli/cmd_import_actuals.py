"""`kpi-workbook import-actuals`: validate a CSV or Excel file of actuals and store it in the workspace."""

from __future__ import annotations

__all__ = ["EXIT_REJECTED", "Layout", "SHOWN_PROBLEMS", "import_actuals_command"]

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kpi_workbook.cli.app import app, fail, open_workspace_option
from kpi_workbook.cli.options import WorkspaceOption
from kpi_workbook.core.errors import KpiWorkbookError

if TYPE_CHECKING:
    from kpi_workbook.workspace.actuals_checked import RejectedRowsError

EXIT_REJECTED = 1
SHOWN_PROBLEMS = 50


class Layout(StrEnum):
    """How the file is laid out."""

    LONG = "long"
    WIDE = "wide"


def _pairs(options: list[str], option: str) -> dict[str, str]:
    """'NAME=VALUE' options as a dict; a malformed one stops the command with a message."""
    pairs = {}
    for text in options:
        name, sep, value = text.partition("=")
        if not sep or not name.strip() or not value.strip():
            fail(f"{option} '{text}': expected NAME=VALUE")
        pairs[name.strip()] = value.strip()
    return pairs


def _rejected_summary(exc: RejectedRowsError, skip_invalid: bool) -> str:
    """What was rejected and, truthfully, what --skip-invalid would import and hold back."""
    rows = exc.report["row"].nunique()
    said = f"{rows} row(s) rejected; nothing imported."
    if skip_invalid or not exc.importable:
        return (f"{said} No row can be imported: every row is rejected or shares its period, team and KPI with a "
                "rejected row (a slice goes in whole or not at all). Fix the rows listed above.")
    held = (f" and hold back {exc.held_back} valid row(s) that share a period, team and KPI with a rejected row"
            if exc.held_back else "")
    return (f"{said} Fix them, or use --skip-invalid: it would import {exc.importable} value(s){held}, writing the "
            "rejected and held-back rows to a rejects file.")


@app.command("import-actuals")
def import_actuals_command(
    file: Annotated[Path, typer.Argument(help="CSV or Excel (.xlsx) file of actuals.")],
    workspace: WorkspaceOption = "",
    skip_invalid: Annotated[bool, typer.Option(
        "--skip-invalid", help="Import the valid rows; write the rejected ones to a file.")] = False,
    layout: Annotated[Layout, typer.Option(help="long: period, team, employee_id, kpi_id, value; "
                                                "wide: period, team, employee_id, then one column per KPI id.")]
    = Layout.LONG,
    sheet: Annotated[str | None, typer.Option(help="Excel sheet (default: the first).")] = None,
    header_row: Annotated[int | None, typer.Option("--header-row", min=1,
                                                   help="Row number of the header (default: found).")] = None,
    rejects: Annotated[Path | None, typer.Option(help="File for rejected rows (default: FILE.rejects.csv).")] = None,
    overwrite_rejects: Annotated[bool, typer.Option(
        "--overwrite-rejects", help="Let --rejects replace an existing file.")] = False,
    column: Annotated[list[str] | None, typer.Option(
        "--column", help="Map a header of the file onto a column or KPI id: 'HEADER=period' (repeatable).")] = None,
    fixed: Annotated[list[str] | None, typer.Option(
        "--set", help="One value for every row of a column the file lacks: 'period=2025Q3', 'team=sales' "
                      "(repeatable).")] = None,
    ignore: Annotated[list[str] | None, typer.Option(
        "--ignore", help="A header of the file to leave out, e.g. a name column (repeatable).")] = None,
    date_format: Annotated[list[str] | None, typer.Option(
        "--date-format", help="Format of dates in the period column, e.g. '%m/%d/%Y' for 4/15/2025 (repeatable; "
                              "each date must match one; a date means its month).")] = None,
) -> None:
    """Import actuals; each period × team × KPI in the file replaces what was stored for it.

    Exit codes: 0 imported; 1 rows rejected, nothing imported; 2 the file or the workspace cannot be read, or
    the workspace is the read-only bundled sample.
    """
    from kpi_workbook.core.periods import parse_period
    from kpi_workbook.workspace.actuals_checked import RejectedRowsError
    from kpi_workbook.workspace.actuals_reader import ColumnMap
    from kpi_workbook.workspace.files import ACTUALS_CSV
    from kpi_workbook.workspace.importer import default_rejects_path, import_actuals
    from kpi_workbook.workspace.store import built_message, workspace_store

    columns = ColumnMap(rename=_pairs(column or [], "--column"), fixed=_pairs(fixed or [], "--set"),
                        ignore=tuple(ignore or ()))
    try:
        opened = open_workspace_option(workspace)
        opened.require_writable()
        result = import_actuals(file, opened.root, layout=layout.value, sheet=sheet, header_row=header_row,
                                skip_invalid=skip_invalid, rejects=rejects, columns=columns,
                                overwrite_rejects=overwrite_rejects, date_formats=date_format or [])
    except RejectedRowsError as exc:
        for problem in exc.problems[:SHOWN_PROBLEMS]:
            typer.echo(f"error: {problem}", err=True)
        if len(exc.problems) > SHOWN_PROBLEMS:
            typer.echo(f"... and {len(exc.problems) - SHOWN_PROBLEMS} more problems", err=True)
        typer.echo(_rejected_summary(exc, skip_invalid), err=True)
        written = rejects if rejects is not None else default_rejects_path(file) if skip_invalid else None
        if written is not None:
            typer.echo(f"the rejected rows are in {written}", err=True)
        raise typer.Exit(EXIT_REJECTED) from None
    except KpiWorkbookError as exc:
        fail(str(exc))
    periods = ", ".join(result.periods)
    if result.built:
        store = workspace_store(opened.root)
        typer.echo(f"kpi-workbook: {built_message(store, opened.root / ACTUALS_CSV, result.built)} before importing",
                   err=True)
    typer.echo(f"imported {result.imported} value(s) for {periods} from {result.file} "
               f"(replaced {result.replaced} stored value(s))")
    future = [label for label in result.periods if parse_period(label).start > dt.date.today()]
    if future:
        typer.echo(f"note: period(s) not begun yet (today is {dt.date.today()}): {', '.join(future)}; their values are "
                   "stored, but check the period column: score and the reports show the latest period by default",
                   err=True)
    if result.rejects_path is not None:
        invalid = result.report["row"].nunique() - result.held_back
        held = (f" and held back {result.held_back} valid row(s) that may share a period, team and KPI with them"
                if result.held_back else "")
        typer.echo(f"rejected {invalid} invalid row(s){held}; all are in {result.rejects_path} with the reasons: fix "
                   "them there and import that file")
