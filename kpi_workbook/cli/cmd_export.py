"""`kpi-workbook export`: a team's scorecard, KPI definitions, targets and flags as Excel (or CSV files)."""

from __future__ import annotations

__all__ = ["ExportFormat", "export"]

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from kpi_workbook.cli.app import app, fail, open_workspace_option
from kpi_workbook.cli.options import PeriodOption, TeamOption, WorkspaceOption


class ExportFormat(StrEnum):
    """Output formats of the export command."""

    XLSX = "xlsx"
    CSV = "csv"


@app.command()
def export(
    out: Annotated[Path, typer.Option(help="Excel file to write; a folder for --format csv or --all-teams.")],
    team: TeamOption = "",
    all_teams: Annotated[bool, typer.Option("--all-teams", help="One export per team: OUT/<team>.xlsx "
                                                                "(OUT/<team>/ for csv).")] = False,
    workspace: WorkspaceOption = "",
    period: PeriodOption = "",
    output: Annotated[ExportFormat, typer.Option("--format", help="xlsx (one workbook) or csv (one file per sheet).")]
    = ExportFormat.XLSX,
) -> None:
    """Export a team's scorecard (with RAG colours), KPI definitions, targets (with attainment probability) and
    review flags; text that a spreadsheet would run as a formula is neutralized."""
    from kpi_workbook.core.atomic_files import staged_folder
    from kpi_workbook.reports.excel import export_team
    from kpi_workbook.workspace.store import DuckDBStore

    if bool(team.strip()) == all_teams:
        fail("give either --team T (one team) or --all-teams: an export is made per team")
    opened = open_workspace_option(workspace)
    if all_teams and out.exists() and not out.is_dir():
        fail(f"{out}: is a file; --all-teams writes one export per team into a folder")
    teams = [t.id for t in opened.framework.teams] if all_teams else [team]
    store = opened.store()
    lineage = store.read_lineage() if isinstance(store, DuckDBStore) else None  # imported values have none

    def write(folder: Path | None) -> list[Path]:
        """Each team's export, into `folder` (all teams) or at `out` (one team); the files written."""
        written = []
        for team_id in teams:
            target = out if folder is None else folder / (team_id if output is ExportFormat.CSV else f"{team_id}.xlsx")
            step = opened.scope(team=team_id, period=period)
            written += export_team(step.framework, step.employees, step.actuals, step.team, target,
                                   period=step.period, fmt=output.value, lineage=lineage)
        return written

    try:
        if all_teams:  # all or nothing: a failure half-way leaves no team's new export
            with staged_folder(out) as staging:
                written = [out / path.relative_to(staging) for path in write(staging)]
        else:
            written = write(None)
    except OSError as exc:
        fail(f"{out}: cannot write the export ({exc.strerror or exc}); nothing was written")
    for path in written:
        typer.echo(f"wrote {path}")
