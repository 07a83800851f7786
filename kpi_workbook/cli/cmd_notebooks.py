"""`kpi-workbook notebooks`: copy the step notebooks next to a workspace, ready to open in JupyterLab."""

from __future__ import annotations

__all__ = ["NOTEBOOKS_FOLDER", "notebooks"]

from pathlib import Path
from typing import Annotated

import typer

from kpi_workbook.cli.app import app, fail, open_workspace_option
from kpi_workbook.cli.git_workspace import echo_git_setup
from kpi_workbook.cli.options import WorkspaceOption

NOTEBOOKS_FOLDER = "notebooks"


@app.command()
def notebooks(
    workspace: WorkspaceOption = "",
    out: Annotated[Path | None, typer.Option(
        help="Folder for the copies (default: the workspace's notebooks/ folder).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace copies that exist already.")] = False,
    git_setup: Annotated[bool, typer.Option("--git-setup", help="Copy nothing: configure the git repository that "
                                            "holds the workspace (after git init, or in a new clone) to commit "
                                            "notebooks without outputs and diff them with nbdime.")] = False,
) -> None:
    """Copy the five step notebooks into a folder of the workspace, each pointing at that workspace.

    Each copy is paired with a percent-format Python file (jupytext), and the workspace is set up for git:
    .gitignore, .gitattributes and, when it is in a repository, the repository's nbstripout filter and nbdime
    drivers.
    """
    opened = open_workspace_option(workspace)
    if git_setup:
        from kpi_workbook.workspace.git_setup import repository_of

        opened.require_writable()
        if repository_of(opened.root) is None:
            fail(f"{opened.root}: not in a git repository; run git init there first (or clone the repository)")
        echo_git_setup(opened.root, enclosing=True)  # asked for: the repository holding the workspace, too
        return
    from kpi_workbook.steps.notebook_copies import copy_step_notebooks

    if out is None:
        if opened.is_sample:
            fail("the bundled sample is read only: give --out DIR for the copies, or make a workspace of your own "
                 "with: kpi-workbook init my_org --sample")
        out = opened.root / NOTEBOOKS_FOLDER
    if out.exists() and not out.is_dir():
        fail(f"{out}: is a file; --out names a folder for the copies")
    if not opened.is_sample:
        echo_git_setup(opened.root)
    made = not out.exists()
    try:
        written = copy_step_notebooks(opened, out, force=force)
    except OSError as exc:
        if made and out.is_dir() and not any(out.iterdir()):
            out.rmdir()  # the folder made for the copies, empty: as if never made
        fail(f"{out}: cannot write the copies ({exc.strerror or exc}); nothing was written")
    typer.echo(f"copied {len(written)} step notebooks (with their .py pairs) to {out}; open them with: "
               f"jupyter lab {out}")
