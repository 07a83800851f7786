"""environment.yml mirrors pyproject.toml for conda users: every dependency and extra (a package extra being a package
of its own on conda-forge), with the same version range, in the same section (the main dependencies, or the extra's).
"""

import re
import tomllib

import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from kpi_workbook.core.paths import CHECKOUT_DIR as PROJECT_ROOT

PROJECT_NAME = "kpi-workbook"
MAIN = "main"
# conda-forge's name for a requirement (name, extras) where it differs from the Python package index's. An extra of a
# package is a package of its own there; conda-forge's psycopg brings conda's libpq, as psycopg[binary] does its own.
CONDA_NAMES = {
    ("duckdb", ()): "python-duckdb",
    ("build", ()): "python-build",
    ("graphviz", ()): "python-graphviz",
    ("ibis-framework", ("duckdb",)): "ibis-duckdb",
    ("ibis-framework", ("postgres",)): "ibis-postgres",
    ("bleach", ("css",)): "bleach-with-css",
    ("psycopg", ("binary",)): "psycopg",
}
CONDA_ONLY = {"python", "pip"}
SECTION = re.compile(r"^\s*#\s*(?P<extra>[\w-]+) extra\s*$")
PACKAGE = re.compile(r"^\s*-\s*(?P<name>[A-Za-z0-9_.\-]+)\s*(?P<spec>[<>=!~][^#]*)?$")


def _conda_name(req: Requirement) -> str:
    name, extras = canonicalize_name(req.name), tuple(sorted(req.extras))
    assert (name, extras) in CONDA_NAMES or not extras, f"no conda-forge package named for {req} (add to CONDA_NAMES)"
    return CONDA_NAMES.get((name, extras), name)


def _pyproject_requirements() -> dict[str, tuple[str, SpecifierSet]]:
    """Every requirement of the project and its extras (not the extras' references to the project) as conda name →
    (section, version range)."""
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    groups = {MAIN: project["dependencies"], **project["optional-dependencies"]}
    wanted: dict[str, tuple[str, SpecifierSet]] = {}
    for section, lines in groups.items():
        for req in map(Requirement, lines):
            if canonicalize_name(req.name) != PROJECT_NAME:
                wanted[_conda_name(req)] = (section, req.specifier)
    return wanted


def _sections(text: str) -> dict[str, str]:
    """The section of each package line of environment.yml: main, until a comment '# NAME extra' starts NAME's."""
    sections, section = {}, MAIN
    for line in text.splitlines():
        if heading := SECTION.match(line):
            section = heading["extra"]
        elif package := PACKAGE.match(line):
            sections[canonicalize_name(package["name"])] = section
    return sections


def _conda_requirements() -> dict[str, tuple[str, SpecifierSet]]:
    """environment.yml's conda packages (not the pip section) as name → (section, version range)."""
    text = (PROJECT_ROOT / "environment.yml").read_text()
    sections = _sections(text)
    found: dict[str, tuple[str, SpecifierSet]] = {}
    for line in yaml.safe_load(text)["dependencies"]:
        package = PACKAGE.match(f"- {line}") if isinstance(line, str) else None
        if package and canonicalize_name(package["name"]) not in CONDA_ONLY:
            name = canonicalize_name(package["name"])
            found[name] = (sections[name], SpecifierSet((package["spec"] or "").strip()))
    return found


def test_environment_yml_lists_every_pyproject_requirement_and_extra_with_its_range():
    wanted, conda = _pyproject_requirements(), _conda_requirements()
    missing = sorted(set(wanted) - set(conda))
    assert not missing, f"environment.yml lacks: {missing}"
    differing = {name: (str(wanted[name][1]), str(conda[name][1])) for name in wanted
                 if wanted[name][1] != conda[name][1]}
    assert not differing, f"version ranges differ (pyproject.toml, environment.yml): {differing}"


def test_environment_yml_files_each_package_under_its_section():
    wanted, conda = _pyproject_requirements(), _conda_requirements()
    misplaced = {name: (wanted[name][0], conda[name][0]) for name in wanted.keys() & conda.keys()
                 if wanted[name][0] != conda[name][0]}
    assert not misplaced, f"sections differ (pyproject.toml, environment.yml): {misplaced}"


def test_environment_yml_lists_nothing_pyproject_does_not():
    extra = sorted(set(_conda_requirements()) - set(_pyproject_requirements()))
    assert not extra, f"environment.yml has packages pyproject.toml does not declare: {extra}"
