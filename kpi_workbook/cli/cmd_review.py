"""`kpi-workbook review`: the period's review flags (too easy, never met, no data, ...) with recommendations."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kpi_workbook.cli.app import OutputFormat, app, echo_table, render_table


@app.command()
def review(
    period: Annotated[str, typer.Option(help="Period to review, e.g. 2025Q4.")],
    workspace: Annotated[Path, typer.Option(help="Workspace folder.")] = Path("data/sample_org"),
    team: Annotated[str, typer.Option(help="Team id (default: the whole organization).")] = "",
    n: Annotated[int, typer.Option("--n", min=1, help="Periods running that make a streak.")] = 3,
    output: Annotated[OutputFormat, typer.Option("--format", help="text (scores and flags), csv or json (flags).")] = (
        OutputFormat.TEXT
    ),
) -> None:
    """Print the team scores of the period and every review flag with its recommendation."""
    from kpi_workbook.analysis.review import format_flags, review_flags, scorecard
    from kpi_workbook.analysis.scoring import score_actuals
    from kpi_workbook.steps.context import open_step

    step = open_step(workspace, team, period)
    scores = score_actuals(step.actuals, step.employees, step.framework)
    flags = review_flags(step.framework, scores, step.period, n=n, teams=[step.team] if step.team else None)
    if output is not OutputFormat.TEXT:
        echo_table(render_table(flags, output, str))
        return
    teams = scorecard(scores, step.period, "team")
    teams = teams.assign(score=teams["score"].round(1), coverage=(100 * teams["coverage"]).round(0))
    echo_table(f"Review of {step.period} ({step.team_name})\n\n{teams.to_string(index=False)}\n\n"
               + format_flags(flags))
