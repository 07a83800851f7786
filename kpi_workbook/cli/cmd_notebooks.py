"""`kpi-workbook notebooks`: copy the step notebooks next to a workspace, ready to open in JupyterLab."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kpi_workbook.cli.app import WorkspaceOption, app, fail, open_workspace_option
from kpi_workbook.steps.notebook_copies import copy_step_notebooks

NOTEBOOKS_FOLDER = "notebooks"


@app.command()
def notebooks(
    workspace: WorkspaceOption = "",
    out: Annotated[Path | None, typer.Option(
        help="Folder for the copies (default: the workspace's notebooks/ folder).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace copies that exist already.")] = False,
) -> None:
    """Copy the five step notebooks into a folder of the workspace, each pointing at that workspace."""
    opened = open_workspace_option(workspace)
    if out is None:
        if opened.is_sample:
            fail("the bundled sample is read only: give --out DIR for the copies, or make a workspace of your own "
                 "with: kpi-workbook init my_org --sample")
        out = opened.root / NOTEBOOKS_FOLDER
    written = copy_step_notebooks(opened, out, force=force)
    typer.echo(f"copied {len(written)} step notebooks to {out}; open them with: jupyter lab {out}")
