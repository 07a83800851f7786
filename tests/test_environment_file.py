"""environment.yml mirrors pyproject.toml: the same dependencies and extras, with the same versions, for conda users."""

import re
import tomllib

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from kpi_workbook.core.paths import CHECKOUT_DIR as PROJECT_ROOT

PROJECT_NAME = "kpi-workbook"
# conda-forge's name for a distribution where it differs from the Python package index's.
CONDA_NAMES = {"duckdb": "python-duckdb", "psycopg2-binary": "psycopg2", "build": "python-build"}
CONDA_ONLY = {"python", "pip"}


def _pyproject_requirements() -> dict[str, str]:
    """Every requirement of the project and its extras (not the extras' references to the project) as conda name →
    version specifier."""
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    lines = project["dependencies"] + [req for extra in project["optional-dependencies"].values() for req in extra]
    wanted: dict[str, str] = {}
    for line in lines:
        req = Requirement(line)
        name = canonicalize_name(req.name)
        if name != PROJECT_NAME:
            wanted[CONDA_NAMES.get(name, name)] = str(req.specifier)
    return wanted


def _conda_requirements() -> dict[str, str]:
    """environment.yml's conda packages (not the pip section) as name → version specifier."""
    env = yaml.safe_load((PROJECT_ROOT / "environment.yml").read_text())
    specs = (re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*(.*)", line.strip()) for line in env["dependencies"]
             if isinstance(line, str))
    return {canonicalize_name(spec[1]): spec[2] for spec in specs if canonicalize_name(spec[1]) not in CONDA_ONLY}


def test_environment_yml_lists_every_pyproject_requirement_with_its_version():
    wanted, conda = _pyproject_requirements(), _conda_requirements()
    missing = sorted(set(wanted) - set(conda))
    assert not missing, f"environment.yml lacks: {missing}"
    differing = {name: (wanted[name], conda[name]) for name in wanted if wanted[name] != conda[name]}
    assert not differing, f"versions differ (pyproject.toml, environment.yml): {differing}"


def test_environment_yml_lists_nothing_pyproject_does_not():
    extra = sorted(set(_conda_requirements()) - set(_pyproject_requirements()))
    assert not extra, f"environment.yml has packages pyproject.toml does not declare: {extra}"
