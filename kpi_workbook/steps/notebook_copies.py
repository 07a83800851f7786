"""Copies of the step notebooks for one workspace: where a facilitator opens them, pointing at that workspace."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat

from kpi_workbook.core.atomic_files import write_text_atomically
from kpi_workbook.core.errors import InputError, Problem
from kpi_workbook.core.paths import NOTEBOOKS_DIR, SAMPLE_WORKSPACE_NAME
from kpi_workbook.workspace.opener import Workspace

NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
WORKSPACE_LINE = re.compile(r'^workspace(: str)? = .*$', re.M)


def _parameters_cell(notebook: nbformat.NotebookNode, name: str) -> nbformat.NotebookNode:
    cell = next((c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])), None)
    if cell is None or not WORKSPACE_LINE.search(cell.source):
        raise InputError(Problem(file=name, field="parameters", message="the notebook has no workspace parameter"))
    return cell


def copy_step_notebooks(workspace: Workspace, out: Path, force: bool = False) -> list[Path]:
    """Copy the bundled step notebooks into `out`, their `workspace` parameter set to this workspace's folder.

    An existing copy is kept (and reported as an error) unless `force`; nothing is written when any would clash.
    """
    sources = sorted(NOTEBOOKS_DIR.glob(NOTEBOOK_GLOB))
    targets = [out / source.name for source in sources]
    clashes = [t for t in targets if t.exists()]
    if clashes and not force:
        raise InputError([Problem(file=str(t), message="exists already; add --force to replace it") for t in clashes])
    location = SAMPLE_WORKSPACE_NAME if workspace.is_sample else str(workspace.root)
    line = f"workspace: str = {json.dumps(location)}  # the workspace these copies work on"
    texts = []
    for source in sources:
        notebook = nbformat.read(source, as_version=4)
        cell = _parameters_cell(notebook, source.name)
        cell.source = WORKSPACE_LINE.sub(lambda _: line, cell.source, count=1)
        texts.append(nbformat.writes(notebook))
    out.mkdir(parents=True, exist_ok=True)
    for target, text in zip(targets, texts, strict=True):
        write_text_atomically(target, text)
    return targets
