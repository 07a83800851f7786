"""`kpi-workbook targets`: evidence-based threshold/target/stretch suggestions for a team's (or every) role KPI."""

from __future__ import annotations

__all__ = ["Method", "targets"]

from enum import StrEnum
from typing import Annotated

import typer

from kpi_workbook.analysis.target_methods import METHODS
from kpi_workbook.cli.app import OutputFormat, app, echo_table, open_workspace_option, render_table
from kpi_workbook.cli.options import DepartmentOption, TeamOption, WorkspaceOption

# The choices of --method, one per name of METHODS (mypy cannot list the members of an enum made from a variable).
Method = StrEnum("Method", {m.upper(): m for m in METHODS})  # type: ignore[misc]


def _percent(value: float | None) -> str:
    import pandas as pd

    return "-" if value is None or pd.isna(value) else f"{value:.0%}"


@app.command()
def targets(
    workspace: WorkspaceOption = "",
    team: TeamOption = "",
    department: DepartmentOption = "",
    method: Annotated[list[Method] | None, typer.Option(help="Method; repeat for several (default percentile).")] = (
        None
    ),
    output: Annotated[OutputFormat, typer.Option("--format", help="text (readable), csv or json (every column).")] = (
        OutputFormat.TEXT
    ),
) -> None:
    """Suggest bands per role KPI from the actuals, with the probability of attainment of the current and the
    suggested target and a verdict (too easy / challenging but achievable / unrealistic); every role of the
    organization unless --team or --department narrows it."""
    import pandas as pd

    from kpi_workbook.analysis.targets import bands_text, suggest_for_framework

    step = open_workspace_option(workspace).scope(team=team, department=department)
    methods = [m.value for m in method] if method else ["percentile"]
    roles = [r.id for r in step.roles]
    table = suggest_for_framework(step.framework, step.actuals, step.employees, method=methods, roles=roles)
    if output is not OutputFormat.TEXT:
        echo_table(render_table(table, output, str))
        return
    rows = table.to_dict("records")
    view = pd.DataFrame({
        "role": table["role"], "kpi": table["kpi_id"], "method": table["method"],
        "current": [bands_text(r, "current_") for r in rows],
        "p(current)": table["current_probability"].map(_percent), "current verdict": table["current_verdict"],
        "suggested": [bands_text(r) for r in rows], "p": table["probability"].map(_percent),
        "verdict": table["verdict"], "notes": table["notes"],
    })
    echo_table(view.to_string(index=False, max_colwidth=70))
