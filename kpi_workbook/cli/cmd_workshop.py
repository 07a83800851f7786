"""`kpi-workbook workshop`: open the step notebooks of a workspace in JupyterLab, or as a Voilà app for a room."""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import sys
from importlib.util import find_spec
from pathlib import Path
from typing import Annotated

import nbformat
import typer

from kpi_workbook.cli.app import WorkspaceOption, app, fail, open_workspace_option
from kpi_workbook.core.atomic_files import write_text_atomically
from kpi_workbook.steps.notebook_copies import NOTEBOOK_GLOB, copy_step_notebooks
from kpi_workbook.workspace.opener import Workspace

NOTEBOOKS_FOLDER = "notebooks"
HOST = "127.0.0.1"
TEAM_LINE = re.compile(r"^team(: str)? = .*$", re.M)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def workshop_notebooks(opened: Workspace, team: str) -> list[Path]:
    """The workspace's step notebooks (copied into its notebooks/ folder on first use), their team set to `team`.

    Copies made earlier are kept as they are, apart from the team parameter when a team is given.
    """
    folder = opened.root / NOTEBOOKS_FOLDER
    copies = sorted(folder.glob(NOTEBOOK_GLOB))
    if not copies:
        copies = copy_step_notebooks(opened, folder)
    if team:
        line = f"team: str = {json.dumps(team)}  # the team this workshop is for"
        for path in copies:
            notebook = nbformat.read(path, as_version=4)
            cell = next((c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])), None)
            if cell is not None and TEAM_LINE.search(cell.source):
                cell.source = TEAM_LINE.sub(lambda _: line, cell.source, count=1)
                write_text_atomically(path, nbformat.writes(notebook))
    return copies


def server_command(folder: Path, port: int, token: str, as_app: bool, browser: bool) -> list[str]:
    """The command that serves `folder` on 127.0.0.1:`port` with `token`: JupyterLab, or Voilà for `as_app`."""
    if as_app:
        return [sys.executable, "-m", "voila", str(folder), f"--Voila.ip={HOST}", f"--port={port}",
                f"--token={token}", "--Voila.port_retries=0", *([] if browser else ["--no-browser"])]
    return [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={folder}", f"--ServerApp.ip={HOST}",
            f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
            f"--ServerApp.open_browser={browser}"]


@app.command()
def workshop(
    workspace: WorkspaceOption = "",
    team: Annotated[str, typer.Option("--team", "-t", help="The team the workshop is for (its roles and people).")]
    = "",
    as_app: Annotated[bool, typer.Option("--app", help="Serve the notebooks as a Voilà app: forms and results, "
                                         "no code (for projecting to a room).")] = False,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (default: a free one).")] = 0,
    token: Annotated[str, typer.Option(help="Token that the address must carry (default: a new random one).")]
    = "",
    browser: Annotated[bool, typer.Option("--browser/--no-browser", help="Open a web browser.")] = True,
) -> None:
    """Open the step notebooks on a workspace of your own, for one team, in JupyterLab or as a Voilà app.

    The notebooks are copied into the workspace's notebooks/ folder the first time, pointing at the workspace;
    the server listens on 127.0.0.1 only and runs until you stop it (Ctrl+C).
    """
    opened = open_workspace_option(workspace)
    if opened.is_sample:
        fail("a workshop saves what the room decides, and the bundled sample is read only: make a workspace of "
             "your own with: kpi-workbook init my_org --sample, then run: kpi-workbook workshop -w my_org")
    if team:
        opened.scope(team=team)  # an unknown team is an error that lists the valid ones
    if as_app and find_spec("voila") is None:
        fail("--app needs Voilà: install it with: pip install voila")
    copies = workshop_notebooks(opened, team)
    port, token = port or free_port(), token or secrets.token_urlsafe(16)
    path = "" if as_app else "lab"
    typer.echo(f"{len(copies)} step notebooks for {team or 'the whole organization'} in {copies[0].parent}")
    typer.echo(f"open: http://{HOST}:{port}/{path}?token={token}")
    command = server_command(copies[0].parent, port, token, as_app, browser)
    sys.stdout.flush()
    os.execv(command[0], command)  # the server takes this process over: its PID is the one to stop
