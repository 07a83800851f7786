"""environment.yml mirrors pyproject.toml's dependencies, so conda users get the same set."""

import re
import tomllib

import yaml

from kpi_workbook.core.paths import CHECKOUT_DIR as PROJECT_ROOT

CONDA_NAMES = {"duckdb": "python-duckdb"}


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[ ]", req, maxsplit=1)[0].lower() for req in requirements}


def test_environment_yml_lists_every_pyproject_dependency():
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    wanted = _names(project["dependencies"] + project["optional-dependencies"]["dev"])
    env = yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text())
    conda = _names([d for d in env["dependencies"] if isinstance(d, str)])
    missing = {name for name in wanted if CONDA_NAMES.get(name, name) not in conda}
    assert not missing, f"environment.yml lacks: {sorted(missing)}"
