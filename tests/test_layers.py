"""The package's layers hold: import-linter's contracts in pyproject.toml (imports only go down, no cycles) pass."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from kpi_workbook.core.paths import CHECKOUT_DIR, PACKAGE_DIR

LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_imports(project: Path, *, package_parent: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` with `project`'s configuration, on the kpi_workbook package found in `package_parent`."""
    env = {**os.environ, "PYTHONPATH": str(package_parent)}
    return subprocess.run([str(LINT_IMPORTS), "--no-cache", "--no-logo", str(project / "pyproject.toml")],
                          cwd=project, env=env, capture_output=True, text=True, timeout=120)


def test_the_package_keeps_its_layers_and_has_no_import_cycle():
    done = _lint_imports(CHECKOUT_DIR, package_parent=CHECKOUT_DIR)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 2 kept, 0 broken." in done.stdout


def test_an_upward_import_and_a_new_unlayered_subpackage_break_the_contracts(tmp_path: Path):
    shutil.copytree(PACKAGE_DIR, tmp_path / "kpi_workbook", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(CHECKOUT_DIR / "pyproject.toml", tmp_path)
    errors = tmp_path / "kpi_workbook" / "core" / "errors.py"
    errors.write_text(errors.read_text() + "\nimport kpi_workbook.cli.app  # noqa: E402\n")
    (tmp_path / "kpi_workbook" / "extras").mkdir()
    (tmp_path / "kpi_workbook" / "extras" / "__init__.py").write_text('"""A subpackage in no layer."""\n')

    done = _lint_imports(tmp_path, package_parent=tmp_path)

    assert done.returncode == 1, done.stdout + done.stderr
    assert "kpi_workbook.core.errors -> kpi_workbook.cli.app" in done.stdout
    assert "kpi_workbook.extras" in done.stdout
