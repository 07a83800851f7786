"""`kpi-workbook init`: a new workspace, empty or a copy of the sample organization."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from kpi_workbook.cli.app import app, fail
from kpi_workbook.core.model import Framework, Metadata
from kpi_workbook.core.paths import SAMPLE_ORG_DIR
from kpi_workbook.workspace.files import ACTUALS_DB, save_framework


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder for the new workspace (must be empty or new).")],
    sample: Annotated[bool, typer.Option("--sample", help="Copy the sample organization.")] = False,
    organization: Annotated[str, typer.Option(help="Organization name for an empty workspace.")] = "My organization",
) -> None:
    """Create a new workspace: an empty framework template, or a copy of the sample organization."""
    if directory.exists() and any(directory.iterdir()):
        fail(f"{directory}: folder exists and is not empty; choose a new folder")
    if sample:
        shutil.copytree(SAMPLE_ORG_DIR, directory, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns(ACTUALS_DB, f"{ACTUALS_DB}.wal"))
    else:
        save_framework(Framework(metadata=Metadata(organization=organization, date=date.today())), directory)
    typer.echo(f"created workspace {directory}")
