"""The package installs anywhere: every imported library is declared, the built wheel carries the bundled files,
and in a fresh venv outside the checkout a new user makes a workspace, copies the notebooks, runs reports and a
notebook."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from dataclasses import dataclass
from importlib.metadata import packages_distributions
from pathlib import Path

import nbformat
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from kpi_workbook.core.paths import CHECKOUT_DIR, DATA_DIR, NOTEBOOKS_DIR, PACKAGE_DIR

PYPROJECT = tomllib.loads((CHECKOUT_DIR / "pyproject.toml").read_text())
BUNDLED_PACKAGES = {"kpi_workbook.data", "kpi_workbook.notebooks"}
STEP_NOTEBOOKS = sorted(path.name for path in NOTEBOOKS_DIR.glob("*.ipynb"))
BUNDLED_FILES = ["kpi_library.yaml", "categories.yaml", "sample_org/framework.yaml", "sample_org/teams.yaml",
                 "sample_org/kpis.yaml", "sample_org/employees.csv", "sample_org/actuals.csv"]
WARNING_WORDS = ("deprecat", "setuptoolswarning", "buildbackendwarning")
TIMEOUT = 600
FULL_INSTALL = "KPI_WORKBOOK_WHEEL_FULL_INSTALL"  # set it to install the dependencies from the package index
RUN_NOTEBOOKS = ("01_strategic_goals", "05_review")  # the first and the heaviest step
RUN_TEAMS = 2  # the sample's first teams: each scope runs in a kernel of its own, so two show the scopes apart


def _top_level_imports(path: Path) -> set[str]:
    """The top-level names of the absolute imports in one Python file."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _declared_distributions() -> set[str]:
    """The distributions the package requires, in its core list or in a user-facing extra (not dev)."""
    project = PYPROJECT["project"]
    extras = [req for name, reqs in project["optional-dependencies"].items() if name != "dev" for req in reqs]
    return {canonicalize_name(Requirement(line).name) for line in project["dependencies"] + extras}


def test_every_imported_library_is_declared():
    sources = [*PACKAGE_DIR.rglob("*.py"), *NOTEBOOKS_DIR.glob("*.py")]
    imported = set().union(*map(_top_level_imports, sources)) - set(sys.stdlib_module_names) - {"kpi_workbook"}
    providers = packages_distributions()
    declared = _declared_distributions()
    undeclared = {name: providers.get(name, ["(not installed)"]) for name in sorted(imported)
                  if not declared & {canonicalize_name(dist) for dist in providers.get(name, [])}}
    assert not undeclared, f"imported but not declared in pyproject.toml: {undeclared}"


def test_the_wheel_lists_every_subpackage():
    on_disk = {".".join(init.parent.relative_to(CHECKOUT_DIR).parts) for init in PACKAGE_DIR.rglob("__init__.py")}
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    assert not on_disk - listed, f"add to pyproject.toml's [tool.setuptools] packages: {sorted(on_disk - listed)}"
    assert listed == on_disk | BUNDLED_PACKAGES


@dataclass(frozen=True)
class Installed:
    """A fresh venv with the built wheel installed, and what building and installing printed."""

    wheel: Path
    bin: Path
    build_log: str
    install_log: str


def _run(command: list[str | Path], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(part) for part in command], capture_output=True, text=True, timeout=TIMEOUT, **kwargs)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """Build the sdist and from it the wheel, and install the wheel into a new venv (no system site packages) outside
    the checkout. Building from the sdist leaves no build/ folder in the checkout whose stale modules a later wheel
    would carry.

    The wheel's dependencies come from this test run's own environment (a .pth line in the new venv; the editable
    install of the checkout is not among them, since a path line does not run that environment's .pth files), so the
    test needs no download; with KPI_WORKBOOK_WHEEL_FULL_INSTALL=1 pip installs them from the package index instead.
    """
    root = tmp_path_factory.mktemp("wheel")
    assert not root.is_relative_to(CHECKOUT_DIR)
    build = _run([sys.executable, "-m", "build", "--outdir", root / "dist", CHECKOUT_DIR])
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = (root / "dist").glob("kpi_workbook-*.whl")
    venv = _run([sys.executable, "-m", "venv", "--without-pip", root / "venv"])
    assert venv.returncode == 0, venv.stderr
    python = root / "venv" / "bin" / "python"
    options = []
    if not os.environ.get(FULL_INSTALL):
        site = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
        Path(site, "_test_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
        options = ["--no-deps"]
    install = _run([sys.executable, "-m", "pip", "--python", python, "install", *options, wheel])
    assert install.returncode == 0, install.stdout + install.stderr
    return Installed(wheel, root / "venv" / "bin", build.stdout + build.stderr, install.stdout + install.stderr)


def _user_env(installed: Installed, scratch: Path) -> dict[str, str]:
    """A new user's environment: the venv first on PATH, their own caches, nothing that points at the checkout."""
    env = {key: value for key, value in os.environ.items()
           if key not in {"PYTHONPATH", "VIRTUAL_ENV"} and not key.startswith("KPI_WORKBOOK_")}
    # the borrowed dependencies' data files (nbconvert's templates)
    borrowed = {} if os.environ.get(FULL_INSTALL) else {
        "JUPYTER_PATH": str(Path(sys.prefix) / "share" / "jupyter")}
    return {**env, "PATH": f"{installed.bin}{os.pathsep}{env['PATH']}", "XDG_CACHE_HOME": str(scratch / ".cache"),
            "JUPYTER_DATA_DIR": str(scratch / ".jupyter"), "MPLCONFIGDIR": str(scratch / ".matplotlib"), **borrowed}


def _tree(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(path): (path.stat().st_mtime_ns, path.stat().st_size) for path in folder.rglob("*") if path.is_file()}


@pytest.mark.slow
def test_the_wheel_carries_the_bundled_files_and_builds_and_installs_without_warnings(installed: Installed, tmp_path):
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    assert {f"kpi_workbook/data/{name}" for name in BUNDLED_FILES} <= names
    assert {name for name in names if name.startswith("kpi_workbook/notebooks/") and name.endswith(".ipynb")} == {
        f"kpi_workbook/notebooks/{name}" for name in STEP_NOTEBOOKS}
    assert len(STEP_NOTEBOOKS) == 5
    assert not [name for name in names if "__pycache__" in name or ".duckdb" in name]
    assert "kpi_workbook/py.typed" in names  # type checkers of projects that use the package read its hints
    modules = {name for name in names if name.endswith(".py") and not name.startswith("kpi_workbook/notebooks/")}
    assert modules == {path.relative_to(CHECKOUT_DIR).as_posix() for path in PACKAGE_DIR.rglob("*.py")}
    for log in (installed.build_log, installed.install_log):
        assert not [line for line in log.splitlines() if any(word in line.lower() for word in WARNING_WORDS)], log

    show = ("import json; from kpi_workbook.core import paths; from kpi_workbook.analysis.library import load_library;"
            "from kpi_workbook.analysis.categories import load_categories;"
            "print(json.dumps({'package': str(paths.PACKAGE_DIR), 'kpis': len(load_library()),"
            "'categories': bool(load_categories()),"
            "'sample': paths.SAMPLE_ORG_DIR.joinpath('framework.yaml').is_file(),"
            "'notebooks': sorted(p.name for p in paths.NOTEBOOKS_DIR.glob('*.ipynb'))}))")
    done = _run([installed.bin / "python", "-c", show], cwd=tmp_path, env=_user_env(installed, tmp_path))
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert Path(found["package"]).is_relative_to(installed.bin.parent)
    assert found["kpis"] == len(yaml.safe_load((DATA_DIR / "kpi_library.yaml").read_text())["kpis"])
    assert found["categories"] and found["sample"]
    assert found["notebooks"] == STEP_NOTEBOOKS


def _failed_runs(scratch: Path) -> str:
    """The full error of every failed run recorded under scratch/reports (the CLI's table shortens them)."""
    records = [json.loads(path.read_text()) for path in scratch.glob("reports/*/runs.json")]
    return "\n".join(f"{run['team']}/{run['notebook']}: {run['error']} {run['message']}"
                     for record in records for run in record["runs"] if run["status"] != "ok")


def _parameter(notebook: Path, name: str) -> object:
    """The value a notebook's papermill parameters cell gives `name`."""
    cells = [cell for cell in nbformat.read(notebook, as_version=4).cells
             if "parameters" in cell.metadata.get("tags", [])]
    assert len(cells) == 1, f"{notebook.name}: expected one parameters cell"
    values: dict[str, object] = {}
    exec(cells[0].source, {}, values)  # the notebook's own assignments of its default parameters
    return values[name]


@pytest.mark.slow
def test_a_new_user_makes_a_workspace_and_runs_reports_and_a_notebook_outside_the_checkout(installed: Installed,
                                                                                           tmp_path: Path):
    env, checkout_data = _user_env(installed, tmp_path), _tree(DATA_DIR)

    def user(*command: str) -> subprocess.CompletedProcess[str]:
        done = _run(list(command), cwd=tmp_path, env=env)
        assert done.returncode == 0, f"{' '.join(command)}\n{done.stdout}\n{done.stderr}\n{_failed_runs(tmp_path)}"
        return done

    user("kpi-workbook", "init", "my_org", "--sample")
    workspace = tmp_path / "my_org"
    assert (workspace / "framework.yaml").is_file()

    user("kpi-workbook", "notebooks", "-w", "my_org")
    copies = sorted((workspace / "notebooks").glob("*.ipynb"))
    assert [path.name for path in copies] == STEP_NOTEBOOKS
    for copy in copies:
        assert (copy.parent / str(_parameter(copy, "workspace"))).resolve() == workspace.resolve(), copy.name

    teams = [team["id"] for team in yaml.safe_load((workspace / "teams.yaml").read_text())["teams"]][:RUN_TEAMS]
    user("kpi-workbook", "run", "-w", "my_org", *(f"--team={team}" for team in teams), "--notebooks",
         ",".join(RUN_NOTEBOOKS), "--out", "reports")
    (period_dir,) = [path for path in (tmp_path / "reports").iterdir() if path.is_dir()]
    assert (period_dir / "index.html").is_file()
    missing = [f"{team}/{name}.html" for team in teams for name in RUN_NOTEBOOKS
               if not (period_dir / team / f"{name}.html").is_file()]
    assert not missing, f"reports missing under {period_dir}: {missing}"

    user(str(installed.bin / "python"), "-m", "papermill", "my_org/notebooks/05_review.ipynb", "out.ipynb",
         "--cwd", "my_org/notebooks", "-p", "team", "sales", "-p", "interactive", "False")
    assert nbformat.read(tmp_path / "out.ipynb", as_version=4).cells

    outputs = [*period_dir.rglob("*.html"), *period_dir.rglob("*.json"), tmp_path / "out.ipynb"]
    mentions = [path.name for path in outputs if str(CHECKOUT_DIR) in path.read_text(errors="replace")]
    assert not mentions, f"outputs that name the checkout: {mentions}"
    assert _tree(DATA_DIR) == checkout_data, "the run changed the checkout's data/"
