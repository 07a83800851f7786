"""`kpi-workbook review`: the period's review flags (too easy, never met, no data, ...) with recommendations."""

from __future__ import annotations

__all__ = ["review"]

from typing import Annotated

import typer

from kpi_workbook.cli.app import OutputFormat, app, echo_table, open_workspace_option, render_table
from kpi_workbook.cli.options import DepartmentOption, PeriodOption, TeamOption, WorkspaceOption


@app.command()
def review(
    workspace: WorkspaceOption = "",
    period: PeriodOption = "",
    team: TeamOption = "",
    department: DepartmentOption = "",
    n: Annotated[int, typer.Option("--n", min=1, help="Periods running that make a streak.")] = 3,
    output: Annotated[OutputFormat, typer.Option("--format", help="text (scores and flags), csv or json (flags).")] = (
        OutputFormat.TEXT
    ),
) -> None:
    """Print the team scores of the period and every review flag with its recommendation (of the whole
    organization unless --team or --department narrows it)."""
    from kpi_workbook.analysis.review import format_flags, review_flags, scorecard
    from kpi_workbook.analysis.scoring import score_actuals

    scope = open_workspace_option(workspace).scope(team=team, department=department, period=period)
    scores = score_actuals(scope.actuals_to_date, scope.employees, scope.framework)
    teams = None if scope.is_organization else list(scope.team_ids)
    flags = review_flags(scope.framework, scores, scope.period, n=n, teams=teams)
    if output is not OutputFormat.TEXT:
        echo_table(render_table(flags, output, str))
        return
    table = scorecard(scores, scope.period, "team")
    table = table.assign(score=table["score"].round(1), coverage=(100 * table["coverage"]).round(0))
    echo_table(f"Review of {scope.period} ({scope.name})\n\n{table.to_string(index=False)}\n\n" + format_flags(flags))
