"""Copies of the step notebooks for one workspace: where a facilitator opens them, pointing at that workspace.

Each copy is paired with a percent-format Python file by jupytext (a `jupytext.toml` beside them says so), so a
review in git reads the notebooks' source; the `workspace` parameter is relative to the copies' folder, so the
workspace can move or be cloned elsewhere.
"""

from __future__ import annotations

__all__ = [
    "JUPYTEXT_SETTINGS", "JUPYTEXT_TOML", "NOTEBOOK_GLOB", "PAIR_FORMAT", "TEAM_LINE", "WORKSPACE_LINE",
    "copy_step_notebooks", "copy_targets", "set_team", "workspace_parameter",
]

import json
import os
import re
import tomllib
from pathlib import Path

import jupytext
import nbformat
from jupytext.config import JupytextConfiguration

from kpi_workbook.core.atomic_files import write_files_atomically
from kpi_workbook.core.errors import InputError, Problem
from kpi_workbook.core.paths import NOTEBOOKS_DIR, SAMPLE_WORKSPACE_NAME
from kpi_workbook.workspace.opener import Workspace

NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
WORKSPACE_LINE = re.compile(r'^workspace(: str)? = .*$', re.M)
TEAM_LINE = re.compile(r"^team(: str)? = .*$", re.M)
PAIR_FORMAT = "py:percent"
JUPYTEXT_TOML = "jupytext.toml"
JUPYTEXT_SETTINGS = """\
# Every notebook here is paired with a percent-format Python file, so diffs and reviews read as code.
formats = "ipynb,py:percent"
notebook_metadata_filter = "kernelspec,-jupytext"
cell_metadata_filter = "tags"
"""


def _parameters_cell(notebook: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    cell = next((c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])), None)
    if cell is None or not WORKSPACE_LINE.search(cell.source):
        raise InputError(Problem(file=name, field="parameters", message="the notebook has no workspace parameter"))
    return cell


def workspace_parameter(workspace: Workspace, out: Path) -> str:
    """The copies' `workspace` value: the workspace's folder relative to `out` (the folder a kernel started for a
    copy works in), absolute only where no relative path leads there; the bundled sample by its name."""
    if workspace.is_sample:
        return SAMPLE_WORKSPACE_NAME
    try:
        return Path(os.path.relpath(workspace.root.resolve(), out.resolve())).as_posix()
    except ValueError:  # another drive
        return str(workspace.root.resolve())


def _pair_text(notebook: nbformat.NotebookNode) -> str:
    """A notebook's jupytext pair, written as the copies' jupytext.toml says."""
    return jupytext.writes(notebook, fmt=PAIR_FORMAT, config=JupytextConfiguration(**tomllib.loads(JUPYTEXT_SETTINGS)))


def set_team(copies: list[Path], team: str) -> None:
    """Set the `team` parameter of each copy that has one, in the notebook and its jupytext pair together."""
    line = f"team: str = {json.dumps(team)}  # the team this workshop is for"
    files: list[tuple[Path, str]] = []
    for path in copies:
        notebook = nbformat.read(path, as_version=4)
        cell = next((c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])), None)
        if cell is not None and TEAM_LINE.search(cell.source):
            cell.source = TEAM_LINE.sub(lambda _: line, cell.source, count=1)
            files += [(path, nbformat.writes(notebook)), (path.with_suffix(".py"), _pair_text(notebook))]
    write_files_atomically(files)


def copy_targets(sources: list[Path], out: Path) -> list[Path]:
    """The copies of `sources` in `out` and their Python pairs."""
    return [path for source in sources for path in (out / source.name, (out / source.name).with_suffix(".py"))]


def copy_step_notebooks(workspace: Workspace, out: Path, force: bool = False) -> list[Path]:
    """Copy the bundled step notebooks into `out`, their `workspace` parameter leading from `out` to this
    workspace, each with its jupytext pair; the notebooks copied.

    An existing copy or pair is kept (and reported as an error) unless `force`; nothing is written when any would
    clash. An existing `jupytext.toml` is the user's and is kept.
    """
    sources = sorted(NOTEBOOKS_DIR.glob(NOTEBOOK_GLOB))
    clashes = [t for t in copy_targets(sources, out) if t.exists()]
    if clashes and not force:
        raise InputError([Problem(file=str(t), message="exists already; add --force to replace it") for t in clashes])
    location = workspace_parameter(workspace, out)
    where = ("the bundled sample organization (read only)" if workspace.is_sample
             else "the workspace folder, absolute" if Path(location).is_absolute()
             else "the workspace folder, relative to this notebook's folder")
    line = f"workspace: str = {json.dumps(location)}  # {where}"
    files: list[tuple[Path, str]] = []
    for source in sources:
        notebook = nbformat.read(source, as_version=4)
        cell = _parameters_cell(notebook, source.name)
        cell.source = WORKSPACE_LINE.sub(lambda _: line, cell.source, count=1)
        target = out / source.name
        files += [(target, nbformat.writes(notebook)),
                  (target.with_suffix(".py"), _pair_text(notebook))]
    if not (out / JUPYTEXT_TOML).exists():
        files.append((out / JUPYTEXT_TOML, JUPYTEXT_SETTINGS))
    out.mkdir(parents=True, exist_ok=True)
    write_files_atomically(files)
    return [out / source.name for source in sources]
