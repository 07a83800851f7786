"""The type check: mypy passes on the files pyproject.toml's [tool.mypy] lists, it sees the package's hints, and the
package says it is typed (PEP 561)."""

from __future__ import annotations

import subprocess
import sys
import tomllib

from kpi_workbook.core.paths import CHECKOUT_DIR, PACKAGE_DIR

CHECKED = ["kpi_workbook"]


def _mypy(*args: str) -> subprocess.CompletedProcess[str]:
    """mypy with the project's configuration, run from the checkout (its cache, .mypy_cache, ignores itself)."""
    return subprocess.run([sys.executable, "-m", "mypy", *args], capture_output=True, text=True, cwd=CHECKOUT_DIR,
                          timeout=600)


def _config() -> dict:
    return tomllib.loads((CHECKOUT_DIR / "pyproject.toml").read_text())


def test_the_checked_packages_have_no_type_errors():
    assert _config()["tool"]["mypy"]["files"] == CHECKED
    done = _mypy()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success: no issues found" in done.stdout


def test_a_call_against_the_hints_is_a_type_error(tmp_path):
    user = tmp_path / "user.py"
    user.write_text("from kpi_workbook.analysis.targets import suggest_targets\n\nsuggest_targets([1.0, 2.0], 5)\n")
    done = _mypy(str(user))
    assert done.returncode == 1
    assert 'Argument 2 to "suggest_targets" has incompatible type "int"' in done.stdout


def test_the_package_is_marked_typed_and_the_marker_is_package_data():
    assert (PACKAGE_DIR / "py.typed").is_file()
    assert "py.typed" in _config()["tool"]["setuptools"]["package-data"]["kpi_workbook"]
