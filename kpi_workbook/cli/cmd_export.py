"""`kpi-workbook export`: a team's scorecard, KPI definitions, targets and flags as Excel (or CSV files)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from kpi_workbook.cli.app import app, fail


class ExportFormat(StrEnum):
    """Output formats of the export command."""

    XLSX = "xlsx"
    CSV = "csv"


@app.command()
def export(
    team: Annotated[str, typer.Option(help="Team id: the export holds only this team's people.")],
    out: Annotated[Path, typer.Option(help="Excel file to write (a folder for --format csv).")],
    workspace: Annotated[Path, typer.Option(help="Workspace folder.")] = Path("data/sample_org"),
    period: Annotated[str, typer.Option(help="Period of the scorecard (default: the latest with actuals).")] = "",
    output: Annotated[ExportFormat, typer.Option("--format", help="xlsx (one workbook) or csv (one file per sheet).")]
    = ExportFormat.XLSX,
) -> None:
    """Export a team's scorecard (with RAG colours), KPI definitions, targets (with attainment probability) and
    review flags; text that a spreadsheet would run as a formula is neutralized."""
    from kpi_workbook.context import open_step
    from kpi_workbook.export import export_team

    if not team.strip():
        fail("--team is required: an export is made for one team")
    step = open_step(workspace, team, period)
    try:
        written = export_team(step.framework, step.employees, step.actuals, step.team, out, period=step.period,
                              fmt=output.value)
    except OSError as exc:
        fail(f"{out}: cannot write the export ({exc.strerror or exc})")
    typer.echo("wrote " + ", ".join(str(p) for p in written))
