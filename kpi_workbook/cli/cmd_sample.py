"""`kpi-workbook sample`: write a sample workspace with generated employees and quarterly actuals."""

from __future__ import annotations

__all__ = ["sample"]

from pathlib import Path
from typing import Annotated

import typer

from kpi_workbook.cli.app import app, fail
from kpi_workbook.core.errors import InputError
from kpi_workbook.core.paths import SAMPLE_ORG_DIR


@app.command()
def sample(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the workspace to.")] = Path("sample_org"),
    employees: Annotated[int, typer.Option(min=1, help="Number of employees.")] = 180,
    periods: Annotated[int, typer.Option(min=1, help="Number of quarters of actuals.")] = 8,
    seed: Annotated[int, typer.Option(min=0, help="Random seed; the same seed gives identical files.")] = 42,
    first_period: Annotated[str, typer.Option(help="First quarter, e.g. 2024Q1.")] = "2024Q1",
    template: Annotated[Path, typer.Option(help="Workspace whose framework files are used.")] = SAMPLE_ORG_DIR,
    force: Annotated[bool, typer.Option("--force", help="Write into a folder that is not empty.")] = False,
) -> None:
    """Generate a sample workspace: the template framework plus employees.csv and actuals.csv (seeded)."""
    from kpi_workbook.sample import quarter_labels, write_sample

    if out.exists() and not out.is_dir():
        fail(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not force:
        fail(f"{out}: folder exists and is not empty; choose a new folder or add --force")
    try:
        quarter_labels(first_period, periods)
    except InputError as exc:
        fail(f"--first-period: {exc}")
    try:
        summary = write_sample(out, employees=employees, periods=periods, seed=seed, template=template,
                               first_period=first_period)
    except OSError as exc:
        fail(f"{out}: cannot write the sample workspace: {exc.strerror or exc}")
    typer.echo(f"wrote {summary.out_dir}: {summary.employees} employees, {summary.actuals} actual values, "
               f"{summary.periods[0]}..{summary.periods[-1]}")
