"""Every step notebook under pytest's nbval plugin (``--nbval-lax``): copies parameterized with papermill, each
pointing at a private copy of the sample organization, headless (steps 1, 3 and 5 for a team, 2 and 4 for the whole
organization) and (steps 1 and 4, for the team) with the live forms; one pytest subprocess runs them all and every
code cell must pass.

Each notebook runs once headless here: that every step runs clean for each scope, period and team, with every
figure it records checked, is the papermill runs' part (tests/notebook_runs.py); this file checks the notebooks
under nbval's own kernel client and cell-by-cell harness, where the scope changes nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import xml.etree.ElementTree as ElementTree
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import nbformat
import pytest
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook
from python_tools import pytest_command

from kpi_workbook.core.paths import NOTEBOOKS_DIR, SAMPLE_ORG_DIR
from kpi_workbook.workspace.files import ACTUALS_DB

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("notebooks")]

NOTEBOOKS = ["01_strategic_goals", "02_job_descriptions", "03_kpi_design", "04_targets", "05_review"]
TEAM = "sales"
CASES = [(name, TEAM if name[:2] in ("01", "03", "05") else "", False) for name in NOTEBOOKS] + [
    (name, TEAM, True) for name in ("01_strategic_goals", "04_targets")]
CELL_TIMEOUT = 300


def _parameterized_copy(name: str, team: str, interactive: bool, workspace: Path, folder: Path) -> tuple[str, int]:
    """Write the notebook with papermill's injected parameters cell; return the copy's file name and its code
    cells."""
    nb = load_notebook_node(str(NOTEBOOKS_DIR / f"{name}.ipynb"))
    nb = parameterize_notebook(nb, {"workspace": str(workspace), "team": team, "interactive": interactive})
    path = folder / f"{name}-{team or 'organization'}-{'live' if interactive else 'headless'}.ipynb"
    nbformat.write(nb, path)
    return path.name, sum(cell.cell_type == "code" for cell in nb.cells)


def _results(report: Path, notebooks: Iterable[str]) -> tuple[Counter[str], list[str]]:
    """Passed cells per notebook file (junit names a cell's class after its file), and the cells that failed,
    errored or were skipped."""
    passed: Counter[str] = Counter()
    other = []
    for case in ElementTree.parse(report).iter("testcase"):
        notebook = next(name for name in notebooks if case.get("classname", "").endswith(name))
        if any(case.find(tag) is not None for tag in ("failure", "error", "skipped")):
            other.append(f"{notebook}::{case.get('name')}")
        else:
            passed[notebook] += 1
    return passed, other


def test_every_step_notebook_passes_nbval_lax(tmp_path):
    workspace = tmp_path / "sample_org"
    shutil.copytree(SAMPLE_ORG_DIR, workspace, ignore=shutil.ignore_patterns(f"{ACTUALS_DB}*"))
    folder = tmp_path / "notebooks"
    folder.mkdir()
    cells = dict(_parameterized_copy(*case, workspace, folder) for case in CASES)
    config, report = tmp_path / "pytest.ini", tmp_path / "nbval.xml"
    config.write_text("[pytest]\n", encoding="utf-8")  # keeps the project's own configuration and conftest out
    done = subprocess.run(
        pytest_command("--nbval-lax", "--nbval-current-env", f"--nbval-cell-timeout={CELL_TIMEOUT}", "-p",
                       "no:cacheprovider", "-q", "-c", config, "--rootdir", tmp_path, f"--junitxml={report}",
                       *sorted(cells)),
        cwd=folder, env={**os.environ, "MPLBACKEND": "Agg"}, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    passed, other = _results(report, cells)
    assert other == []
    assert dict(passed) == cells, "every code cell of every copy ran and passed"
    assert len(cells) == len(CASES)
