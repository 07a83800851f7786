"""Copies of the step notebooks: paired with Python files, the workspace relative to them, the team set in both."""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest
from cli_in_process import run_cli_in_process

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


def test_copies_into_a_file_or_onto_a_full_disk_are_refused_and_leave_nothing(sample_workspace, tmp_path,
                                                                             small_filesystem):
    taken = tmp_path / "taken.txt"
    taken.write_text("mine")
    code, _out, err = run_cli_in_process("notebooks", "-w", str(sample_workspace), "--out", str(taken))
    assert code == 2 and f"error: {taken}: is a file; --out names a folder for the copies" in err
    assert taken.read_text() == "mine"
    disk = small_filesystem("disk", size="100k")  # less than the five notebooks and their pairs
    code, out, err = run_cli_in_process("notebooks", "-w", str(sample_workspace), "--out", str(disk / "nb"))
    assert code == 2 and "Traceback" not in out + err
    assert f"error: {disk / 'nb'}: cannot write the copies (No space left on device); nothing was written" in err
    assert list(disk.iterdir()) == []
