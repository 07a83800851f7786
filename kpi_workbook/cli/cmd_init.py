"""`kpi-workbook init`: a new workspace, empty or a copy of the sample organization."""

from __future__ import annotations

__all__ = ["init"]

from pathlib import Path
from typing import Annotated

import typer

from kpi_workbook.cli.app import app, fail
from kpi_workbook.cli.git_workspace import echo_git_setup
from kpi_workbook.core.errors import InputError


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder for the new workspace (new, empty, or a fresh git "
                                                   "repository).")],
    sample: Annotated[bool, typer.Option("--sample", help="Copy the sample organization.")] = False,
    organization: Annotated[str, typer.Option(help="Organization name for an empty workspace.")] = "My organization",
) -> None:
    """Create a new workspace: an empty framework template, or a copy of the sample organization.

    The workspace is made for review in git: a .gitignore for the store and run outputs, and a .gitattributes
    that commits notebooks without outputs and diffs them with nbdime (configured when the folder is in a
    git repository already; otherwise run kpi-workbook notebooks --git-setup after git init).
    """
    from kpi_workbook.workspace.creation import create_workspace

    try:
        create_workspace(directory, sample=sample, organization=organization)
    except InputError as exc:
        fail(exc)
    typer.echo(f"created workspace {directory}")
    echo_git_setup(directory)
