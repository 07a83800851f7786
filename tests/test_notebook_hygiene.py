"""Notebooks in notebooks/ are committed clean (no outputs, no execution counts) and match their .py twins."""

from __future__ import annotations

import copy
import tomllib

import jupytext
import nbformat
import pytest
from nbstripout import strip_output
from papermill.cli import papermill as papermill_cli
from papermill.inspection import inspect_notebook

from kpi_workbook.core.paths import CHECKOUT_DIR as PROJECT_ROOT
from kpi_workbook.core.paths import NOTEBOOKS_DIR

NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
PARAMETERS = {"workspace": "str", "team": "str", "department": "str", "period": "str", "interactive": "bool"}
OWN_PARAMETERS = {"05_review": {"people": "bool"}}  # each person's score: only the review has it, off by default


def test_five_numbered_step_notebooks_with_python_twins():
    assert [p.stem for p in NOTEBOOKS] == [
        "01_strategic_goals", "02_job_descriptions", "03_kpi_design", "04_targets", "05_review"]
    assert all(p.with_suffix(".py").is_file() for p in NOTEBOOKS)
    config = tomllib.loads((NOTEBOOKS_DIR / "jupytext.toml").read_text())
    assert config["formats"] == "ipynb,py:percent"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_has_no_outputs_or_execution_counts(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
             and (cell.outputs or cell.execution_count is not None or "execution" in cell.metadata)]
    assert dirty == [], f"{path.name}: cells {dirty} have outputs; run nbstripout {path.relative_to(PROJECT_ROOT)}"
    stripped = strip_output(copy.deepcopy(nb), keep_output=False, keep_count=False, keep_id=False)
    assert stripped == nb, f"{path.name} is not as nbstripout leaves it; run nbstripout on it"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_and_its_python_twin_are_in_sync(path):
    notebook = jupytext.read(path)
    twin = jupytext.read(path.with_suffix(".py"))
    def cells(nb):
        return [(c.cell_type, c.source, c.metadata.get("tags", [])) for c in nb.cells]
    assert cells(notebook) == cells(twin), f"run: jupytext --sync {path.relative_to(PROJECT_ROOT)}"
    assert notebook.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_are_typed_and_documented_for_papermill(path, capsys):
    params = inspect_notebook(str(path))
    expected = {**PARAMETERS, **OWN_PARAMETERS.get(path.stem, {})}
    assert {name: p["inferred_type_name"] for name, p in params.items()} == expected
    assert all(params[name]["default"] == "False" for name in OWN_PARAMETERS.get(path.stem, {}))
    assert all(p["help"] for p in params.values())
    assert params["team"]["default"] == params["department"]["default"] == params["period"]["default"] == '""'
    assert params["workspace"]["default"] == '"sample"' and params["interactive"]["default"] == "True"
    with pytest.raises(SystemExit) as done:
        papermill_cli.main(["--help-notebook", str(path)], prog_name="papermill", standalone_mode=False)
    assert not done.value.code
    printed = capsys.readouterr().out  # what `papermill --help-notebook` prints
    assert all(f"{name}: {kind}" in printed for name, kind in expected.items())
    assert "empty means the whole organization" in printed


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_thin(path):
    nb = nbformat.read(path, as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    imports = [i for i, src in enumerate(code) if any(ln.startswith(("import ", "from ")) for ln in src.splitlines())]
    assert len(imports) == 1, "one import cell"
    assert max(len(src.splitlines()) for src in code) <= 8, "code cells stay a few lines long"
    assert nb.cells[0].source.startswith("# Step")
    parameters = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    introduction = [c.source for c in nb.cells[:parameters] if c.cell_type == "markdown"]
    assert any("-r team 007" in text for text in introduction), "the introduction says how to pass ids like 007"
