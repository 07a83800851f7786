"""`kpi-workbook score`: weighted scores and status per employee, role, team or organization for a period."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from kpi_workbook.analysis.scoring import roll_up, score_actuals
from kpi_workbook.cli.app import OutputFormat, app, echo_table, fail, render_table
from kpi_workbook.core.errors import InputError
from kpi_workbook.core.periods import PeriodError, parse_period
from kpi_workbook.workspace.employees import load_employees
from kpi_workbook.workspace.files import load_framework
from kpi_workbook.workspace.store import open_store


class Level(StrEnum):
    """What the scores are rolled up to."""

    KPI = "kpi"
    EMPLOYEE = "employee"
    ROLE = "role"
    TEAM = "team"
    ORGANIZATION = "organization"




PATTERNS = {"score": "{:.1f}", "value": "{:.4g}", "achievement": "{:.2f}", "coverage": "{:.0%}"}
GROUPS = {
    Level.EMPLOYEE: ("team", "role", "employee_id"),
    Level.ROLE: ("role",),
    Level.TEAM: ("team",),
    Level.ORGANIZATION: (),
}


def _text(frame: pd.DataFrame) -> str:
    shown = frame.copy()
    for column, pattern in PATTERNS.items():
        if column in shown:
            shown[column] = shown[column].map(lambda v, p=pattern: "" if pd.isna(v) else p.format(v))
    return shown.to_string(index=False)


@app.command()
def score(
    workspace: Annotated[Path, typer.Option("--workspace", "-w", help="Workspace folder.")] = Path("."),
    team: Annotated[str, typer.Option(help="Only this team (default: the whole organization).")] = "",
    period: Annotated[str, typer.Option(help="Period, e.g. 2025Q4 (default: the latest with actuals); "
                                             "'all' for every period.")] = "",
    by: Annotated[Level, typer.Option(help="Roll the scores up to this level.")] = Level.EMPLOYEE,
    output: Annotated[OutputFormat, typer.Option("--format", help="text, csv or json.")] = OutputFormat.TEXT,
) -> None:
    """Score actuals against the framework's bands and print weighted scores with red/amber/green/grey status.

    Missing actuals are 'no data' (grey), never zero; coverage is the share of KPI weight that has data.
    """
    try:
        framework = load_framework(workspace)
        employees = load_employees(workspace, framework)
        store = open_store(workspace)
        available = store.periods()
    except InputError as exc:
        fail(exc)
    if team and framework.team(team) is None:
        fail(f"--team: unknown team '{team}'; valid teams: {', '.join(sorted(t.id for t in framework.teams))}")
    if not available:
        fail(f"{workspace}: no actuals stored; import them with: kpi-workbook import-actuals FILE -w {workspace}")
    try:
        wanted = available if period == "all" else [parse_period(period).label] if period else available[-1:]
    except PeriodError as exc:
        fail(f"--period: {exc}")
    if wanted[0] not in available:
        fail(f"--period: no actuals for {wanted[0]}; periods with actuals: {', '.join(available)}")
    with store:
        actuals = store.read_actuals(team=team or None, periods=wanted)
    if team:
        employees = employees[employees["team"] == team]
    scores = score_actuals(actuals, employees, framework, periods=wanted)
    frame = scores if by is Level.KPI else roll_up(scores, GROUPS[by])
    frame = frame.astype({c: "object" for c in frame.select_dtypes("category").columns})
    echo_table(render_table(frame, output, lambda: _text(frame)))
