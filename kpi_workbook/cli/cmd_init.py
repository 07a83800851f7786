"""`kpi-workbook init`: a new workspace, empty or a copy of the sample organization."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from kpi_workbook.cli.app import app, fail
from kpi_workbook.cli.git_workspace import echo_git_setup
from kpi_workbook.core.model import Framework, Metadata
from kpi_workbook.core.paths import SAMPLE_ORG_DIR
from kpi_workbook.workspace.files import ACTUALS_DB, save_framework


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
    if directory.exists() and any(entry.name != ".git" for entry in directory.iterdir()):
        fail(f"{directory}: folder exists and is not empty; choose a new folder (or one holding only .git)")
    if sample:
        shutil.copytree(SAMPLE_ORG_DIR, directory, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(ACTUALS_DB, f"{ACTUALS_DB}.wal"))
    else:
        save_framework(Framework(metadata=Metadata(organization=organization, date=date.today())), directory)
    typer.echo(f"created workspace {directory}")
    echo_git_setup(directory)
