"""`kpi-workbook workshop`: open the step notebooks of a workspace in JupyterLab, or as a Voilà app for a room."""

from __future__ import annotations

__all__ = [
    "HOST", "MAX_PORT", "NOTEBOOKS_FOLDER", "POLL_SECONDS", "chosen_port", "free_port", "serve", "server_command",
    "workshop", "workshop_notebooks",
]

import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from kpi_workbook.cli.app import app, fail, open_workspace_option
from kpi_workbook.cli.git_workspace import echo_git_setup
from kpi_workbook.cli.options import WorkspaceOption
from kpi_workbook.widgets.app_config import write_config

if TYPE_CHECKING:
    from kpi_workbook.workspace.opener import Workspace

NOTEBOOKS_FOLDER = "notebooks"
HOST = "127.0.0.1"
MAX_PORT = 65535
POLL_SECONDS = 0.3


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def workshop_notebooks(opened: Workspace, team: str) -> list[Path]:
    """The workspace's step notebooks (copied into its notebooks/ folder on first use), their team set to `team`.

    Copies made earlier are kept as they are, apart from the team parameter (in each notebook and its jupytext
    pair) when a team is given.
    """
    from kpi_workbook.steps.notebook_copies import NOTEBOOK_GLOB, copy_step_notebooks, set_team

    folder = opened.root / NOTEBOOKS_FOLDER
    copies = sorted(folder.glob(NOTEBOOK_GLOB))
    if not copies:
        copies = copy_step_notebooks(opened, folder)
    if team:
        set_team(copies, team)
    return copies


#: How the server's interpreter starts: without jsonschema's IRI grammar (core.lean_imports), then the server's own
#: entry point (what `python -m voila` and `python -m jupyterlab` run).
_LEAN = "import sys; from kpi_workbook.core.lean_imports import leave_out_iri_grammar; leave_out_iri_grammar(); "


def server_command(folder: Path, port: int, token: str, as_app: bool, browser: bool,
                   as_root: bool = False, app_config: Path | None = None) -> list[str]:
    """The command that serves `folder` on 127.0.0.1:`port` with `token`: JupyterLab, or Voilà for `as_app`
    (configured by the voila.py in `app_config`: a time limit per cell, warmed kernels on request, see
    widgets.app_config).

    JupyterLab refuses to run as root unless told to (`as_root`); Voilà does not ask.
    """
    if as_app:
        return [sys.executable, "-c", _LEAN + "from voila.app import main; main()", str(folder),
                f"--Voila.ip={HOST}", f"--port={port}", f"--token={token}", "--Voila.port_retries=0",
                *([] if browser else ["--no-browser"]),
                *([f"--Voila.config_file_paths={app_config}"] if app_config else [])]
    return [sys.executable, "-c", _LEAN + "from jupyterlab.labapp import main; sys.exit(main())",
            f"--ServerApp.root_dir={folder}", f"--ServerApp.ip={HOST}",
            f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
            f"--ServerApp.open_browser={browser}", *(["--ServerApp.allow_root=True"] if as_root else [])]


def chosen_port(given: str) -> int:
    """The port --port names: a whole number from 1 to 65535, or 0 (the default) for a free one; exit 2 otherwise,
    or when something listens there already."""
    text = given.strip()
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_PORT:
        fail(f"--port must be a whole number from 1 to {MAX_PORT}, or 0 for a free one (got {given!r})")
    port = int(text)
    if port == 0:
        return free_port()
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            fail(f"--port {port}: cannot listen on {HOST}:{port} ({exc.strerror}); choose another port, or leave "
                 "--port out for a free one")
    return port


def _answers(url: str) -> bool:
    """Whether a web server answers at `url` (any HTTP status), asked directly, never through a proxy."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        opener.open(url, timeout=5).close()
    except urllib.error.HTTPError:
        return True
    except (OSError, ValueError):
        return False
    return True


def serve(command: list[str], url: str) -> NoReturn:
    """Run the server `command`; print `url` once the server answers there; stop it on SIGTERM, SIGINT or SIGHUP
    (sent to this process or its process group); exit with the server's exit code."""
    server = subprocess.Popen(command)
    stopped: list[int] = []

    def forward(received: int, _frame: object) -> None:
        stopped.append(received)
        server.send_signal(received)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, forward)
    while not _answers(url):
        if server.poll() is not None:
            if not stopped:
                fail(f"the server stopped before it answered (exit {server.returncode}); its messages are above",
                     code=1)
            raise typer.Exit(_exit_code(server.returncode))
        time.sleep(POLL_SECONDS)
    typer.echo(f"open: {url}")
    raise typer.Exit(_exit_code(server.wait()))


def _exit_code(code: int) -> int:
    """A server's exit code as a shell gives it: 128 + N when signal N stopped it."""
    return code if code >= 0 else 128 - code


@app.command()
def workshop(
    workspace: WorkspaceOption = "",
    team: Annotated[str, typer.Option("--team", "-t", help="The team the workshop is for (its roles and people).")]
    = "",
    as_app: Annotated[bool, typer.Option("--app", help="Serve the notebooks as a Voilà app: forms and results, "
                                         "no code (for projecting to a room).")] = False,
    port: Annotated[str, typer.Option(help="Port on 127.0.0.1, 1-65535 (default, or 0: a free one).")] = "0",
    token: Annotated[str, typer.Option(help="Token that the address must carry (default: a new random one).")]
    = "",
    browser: Annotated[bool, typer.Option("--browser/--no-browser", help="Open a web browser.")] = True,
    warm: Annotated[bool, typer.Option("--warm/--cold", help="With --app: keep a kernel warmed per step ahead of "
                                       "the click, so a step opens in 2-3 s (--cold: start a step's kernel when its "
                                       "page is opened, 4-6 s, less memory).")] = True,
) -> None:
    """Open the step notebooks on a workspace of your own, for one team, in JupyterLab or as a Voilà app.

    The notebooks are copied into the workspace's notebooks/ folder the first time, pointing at the workspace;
    the server listens on 127.0.0.1 only, its address is printed once it answers, and it runs until you stop it
    (Ctrl+C, or a signal to this process). As root, JupyterLab is started with --allow-root (and says so).
    """
    number = chosen_port(port)
    opened = open_workspace_option(workspace)
    if opened.is_sample:
        fail("a workshop saves what the room decides, and the bundled sample is read only: make a workspace of "
             "your own with: kpi-workbook init my_org --sample, then run: kpi-workbook workshop -w my_org")
    if team:
        opened.scope(team=team)  # an unknown team is an error that lists the valid ones
    if as_app and find_spec("voila") is None:
        fail("--app needs Voilà: install it with: pip install 'kpi-workbook[app]' (or: pip install voila)")
    echo_git_setup(opened.root)
    copies = workshop_notebooks(opened, team)
    token = token or secrets.token_urlsafe(16)
    as_root = os.geteuid() == 0 and not as_app
    typer.echo(f"{len(copies)} step notebooks for {team or 'the whole organization'} in {copies[0].parent}")
    if as_root:
        typer.echo("running as root: JupyterLab is started with --allow-root", err=True)
    typer.echo(f"starting {'Voilà' if as_app else 'JupyterLab'} on {HOST}:{number} ...")
    sys.stdout.flush()
    url = f"http://{HOST}:{number}/{'' if as_app else 'lab'}?token={token}"
    with tempfile.TemporaryDirectory(prefix="kpi-workbook-voila-") as scratch:
        app_config = write_config(Path(scratch), warm) if as_app else None
        serve(server_command(copies[0].parent, number, token, as_app, browser, as_root, app_config), url)
