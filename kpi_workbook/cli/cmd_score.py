"""`kpi-workbook score`: weighted scores and status per employee, role, team or organization for a period."""

from __future__ import annotations

__all__ = ["GROUPS", "Level", "PATTERNS", "score"]

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from kpi_workbook.cli.app import OutputFormat, app, echo_table, fail, open_workspace_option, render_table
from kpi_workbook.cli.options import DepartmentOption, PeriodOption, TeamOption, WorkspaceOption

if TYPE_CHECKING:
    import pandas as pd


class Level(StrEnum):
    """What the scores are rolled up to."""

    KPI = "kpi"
    EMPLOYEE = "employee"
    ROLE = "role"
    TEAM = "team"
    DEPARTMENT = "department"
    ORGANIZATION = "organization"


PATTERNS = {"score": "{:.1f}", "value": "{:.4g}", "achievement": "{:.2f}", "coverage": "{:.0%}"}
GROUPS = {
    Level.EMPLOYEE: ("team", "role", "employee_id"),
    Level.ROLE: ("role",),
    Level.TEAM: ("team",),
    Level.DEPARTMENT: ("department",),
    Level.ORGANIZATION: (),
}


def _text(frame: pd.DataFrame) -> str:
    import pandas as pd

    shown = frame.copy()
    for column, pattern in PATTERNS.items():
        if column in shown:
            shown[column] = shown[column].map(lambda v, p=pattern: "" if pd.isna(v) else p.format(v))
    return shown.to_string(index=False)


@app.command()
def score(
    workspace: WorkspaceOption = "",
    team: TeamOption = "",
    department: DepartmentOption = "",
    period: PeriodOption = "",
    by: Annotated[Level, typer.Option(help="Roll the scores up to this level.")] = Level.EMPLOYEE,
    output: Annotated[OutputFormat, typer.Option("--format", help="text, csv or json.")] = OutputFormat.TEXT,
) -> None:
    """Score actuals against the framework's bands and print weighted scores with red/amber/green/grey status.

    The whole organization unless --team or --department narrows it; --period all scores every period. Missing
    actuals are 'no data' (grey), never zero; coverage is the share of KPI weight that has data.
    """
    from kpi_workbook.analysis.scoring import roll_up, score_actuals, with_departments

    opened = open_workspace_option(workspace)
    scope = opened.scope(team=team, department=department, period="" if period == "all" else period)
    if not scope.periods:
        fail(f"{opened.name}: no actuals stored for {scope.name}; import them with: "
             f"kpi-workbook import-actuals FILE -w {workspace or '.'}")
    if scope.employees.empty:
        fail(f"{opened.name}: nothing to score for {scope.name}: scores are per person, and there is no one in "
             f"employees.csv{' for it' if team or department else ''}. A team-level value (empty employee_id) is "
             "scored for each member of the team, so the team's people are needed: add them to employees.csv "
             "(employee_id, name, team, role)")
    wanted = scope.periods if period == "all" else [scope.period]
    scores = with_departments(score_actuals(scope.actuals, scope.employees, scope.framework, periods=wanted),
                              scope.framework)
    frame = scores if by is Level.KPI else roll_up(scores, GROUPS[by])
    frame = frame.astype({c: "object" for c in frame.select_dtypes("category").columns})
    echo_table(render_table(frame, output, lambda: _text(frame)))
