"""Copies of the step notebooks: paired with Python files, the workspace relative to them, the team set in both."""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest

from kpi_workbook.core.errors import InputError
from kpi_workbook.steps.notebook_copies import JUPYTEXT_TOML, copy_step_notebooks, set_team
from kpi_workbook.workspace.opener import open_workspace


def _parameters(path: Path) -> str:
    notebook = nbformat.read(path, as_version=4)
    return next(c.source for c in notebook.cells if "parameters" in c.metadata.get("tags", []))


def test_copies_elsewhere_lead_back_to_the_workspace(sample_workspace, tmp_path):
    out = tmp_path / "elsewhere" / "copies"
    copies = copy_step_notebooks(open_workspace(sample_workspace), out)
    expected = Path("..", "..", sample_workspace.relative_to(tmp_path)).as_posix()
    assert all(f'workspace: str = "{expected}"' in _parameters(path) for path in copies)
    assert (out / expected).resolve() == sample_workspace.resolve()


def test_a_team_is_set_in_each_copy_and_its_pair(sample_workspace):
    folder = sample_workspace / "notebooks"
    copies = copy_step_notebooks(open_workspace(sample_workspace), folder)
    set_team(copies, "sales")
    for path in copies:
        assert 'team: str = "sales"' in _parameters(path)
        pair = jupytext.read(path.with_suffix(".py"))
        assert [c.source for c in pair.cells] == [c.source for c in nbformat.read(path, as_version=4).cells]


def test_an_existing_pair_clashes_and_the_user_s_jupytext_toml_is_kept(sample_workspace):
    folder = sample_workspace / "notebooks"
    folder.mkdir()
    (folder / JUPYTEXT_TOML).write_text('formats = "ipynb,md"\n')
    (folder / "03_kpi_design.py").write_text("# my own script\n")
    with pytest.raises(InputError, match="exists already"):
        copy_step_notebooks(open_workspace(sample_workspace), folder)
    assert not list(folder.glob("*.ipynb"))
    copy_step_notebooks(open_workspace(sample_workspace), folder, force=True)
    assert (folder / JUPYTEXT_TOML).read_text() == 'formats = "ipynb,md"\n'
