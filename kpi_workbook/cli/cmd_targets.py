"""`kpi-workbook targets`: evidence-based threshold/target/stretch suggestions for a team's (or every) role KPI."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from kpi_workbook.analysis.targets import METHODS
from kpi_workbook.cli.app import OutputFormat, app, echo_table, render_table

Method = StrEnum("Method", {m.upper(): m for m in METHODS})




def _percent(value: float | None) -> str:
    return "-" if value is None or pd.isna(value) else f"{value:.0%}"


@app.command()
def targets(
    workspace: Annotated[Path, typer.Option(help="Workspace folder.")] = Path("data/sample_org"),
    team: Annotated[str, typer.Option(help="Team id (default: the whole organization).")] = "",
    method: Annotated[list[Method] | None, typer.Option(help="Method; repeat for several (default percentile).")] = (
        None
    ),
    output: Annotated[OutputFormat, typer.Option("--format", help="text (readable), csv or json (every column).")] = (
        OutputFormat.TEXT
    ),
) -> None:
    """Suggest bands per role KPI from the actuals, with the probability of attainment of the current and the
    suggested target and a verdict (too easy / challenging but achievable / unrealistic)."""
    from kpi_workbook.analysis.targets import bands_text, suggest_for_framework
    from kpi_workbook.steps.context import open_step

    step = open_step(workspace, team)
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
