"""A workspace made for review in git: ignored store and outputs, notebooks committed without outputs, paired with
Python files, diffed by source with nbdime; real git on real files."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest
from cli_in_process import run_cli_in_process
from conftest import cli_environment
from python_tools import environment_without_iri_grammar, papermill_command

from kpi_workbook.core.errors import InputError
from kpi_workbook.workspace.git_setup import BEGIN, END, merged_block, repository_settings

BIN = Path(sys.executable).parent
GIT_ENV = {"GIT_AUTHOR_NAME": "Reviewer", "GIT_AUTHOR_EMAIL": "r@example.org", "GIT_COMMITTER_NAME": "Reviewer",
           "GIT_COMMITTER_EMAIL": "r@example.org", "GIT_CONFIG_NOSYSTEM": "1", "MPLBACKEND": "Agg"}
STEP = Path("notebooks") / "01_strategic_goals.ipynb"
ADDED = "Reviewed by the strategy team in the 2025 cycle."
ANSI = re.compile(r"\x1b\[[0-9;]*m")


CELL_SECONDS = 120  # far above the slowest cell of a step notebook on a busy machine

def _environment() -> dict[str, str]:
    """GIT_ENV; and git's nbstripout filter and nbdime drivers, nbdiff and papermill read notebooks without
    jsonschema's IRI grammar (tests/python_tools.py): the same work, a second less of imports in each."""
    return environment_without_iri_grammar(cli_environment(GIT_ENV))


def _run(*command: object, cwd: Path) -> subprocess.CompletedProcess:
    done = subprocess.run([str(c) for c in command], cwd=cwd, env=_environment(), capture_output=True, text=True)
    assert done.returncode == 0, f"{command}: {done.stderr}"
    return done


def _papermill_in_place(notebook: str, workspace: Path) -> None:
    """Run a step notebook in place with papermill; a cell without an answer within CELL_SECONDS fails the test."""
    command = papermill_command(notebook, notebook, "--cwd", "notebooks", "--kernel", "python3",
                                "--no-progress-bar", "--execution-timeout", CELL_SECONDS)
    done = subprocess.run(command, cwd=workspace, env=_environment(), capture_output=True, text=True,
                          timeout=3 * CELL_SECONDS)
    assert done.returncode == 0, done.stderr


def _git(repo: Path, *args: str) -> str:
    return _run("git", *args, cwd=repo).stdout


def _kpi(*args: object, cwd: Path) -> subprocess.CompletedProcess:
    """`kpi-workbook ARGS...` run by its entry point in this process (tests/cli_in_process.py), as from `cwd`."""
    code, out, err = run_cli_in_process(*args, cwd=cwd, env=GIT_ENV)
    assert code == 0, f"kpi-workbook {args}: {err}"
    return subprocess.CompletedProcess(["kpi-workbook", *map(str, args)], code, out, err)


def _outputs(notebook: dict) -> list[dict]:
    return [output for cell in notebook["cells"] for output in cell.get("outputs", [])]


def _add_line(notebook_path: Path, text: str) -> None:
    """Add a line to the notebook's first cell and save its jupytext pair, as JupyterLab with jupytext does."""
    notebook = nbformat.read(notebook_path, as_version=4)
    notebook.cells[0].source += f"\n\n{text}"
    nbformat.write(notebook, notebook_path)
    jupytext.write(notebook, notebook_path.with_suffix(".py"), fmt="py:percent",
                   config=jupytext.config.load_jupytext_config(str(notebook_path.parent)))


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """A workspace my_org (from init --sample) made a repository after its step 1 copy has run headless in place
    with papermill, in its own folder, and committed with the rest."""
    root = tmp_path_factory.mktemp("review")
    workspace = root / "my_org"
    made = _kpi("init", workspace, "--sample", cwd=root)
    assert "not in a git repository yet" in made.stderr and "--git-setup" in made.stderr
    _kpi("notebooks", "-w", workspace, cwd=root)
    _papermill_in_place(STEP, workspace)
    _git(workspace, "init", "-q", "-b", "main")
    done = _kpi("notebooks", "-w", workspace, "--git-setup", cwd=root)
    assert f"configured git in {workspace.resolve()}" in done.stderr
    _git(workspace, "add", ".")
    _git(workspace, "commit", "-q", "-m", "framework and step notebooks")
    return workspace


def test_the_workspace_ignores_its_store_and_declares_how_notebooks_are_kept(repo):
    ignored = (repo / ".gitignore").read_text()
    for line in ("actuals.duckdb", "actuals.duckdb.wal", ".actuals.duckdb.lock", "/reports/", ".ipynb_checkpoints/"):
        assert line in ignored.splitlines()
    attributes = (repo / ".gitattributes").read_text().splitlines()
    assert "*.ipynb filter=nbstripout" in attributes
    assert "*.ipynb diff=jupyternotebook merge=jupyternotebook" in attributes
    configured = _git(repo, "config", "--local", "--list").splitlines()
    assert f"filter.nbstripout.clean={repository_settings()['filter.nbstripout.clean']}" in configured
    assert any(line.startswith("diff.jupyternotebook.command=") for line in configured)


def test_each_copy_has_a_jupytext_pair_and_finds_the_workspace_from_its_own_folder(repo):
    folder = repo / "notebooks"
    copies = sorted(folder.glob("0[1-5]_*.ipynb"))
    assert len(copies) == 5 and (folder / "jupytext.toml").is_file()
    for path in copies:
        notebook = nbformat.read(path, as_version=4)
        pair = jupytext.read(path.with_suffix(".py"))
        assert [c.source for c in pair.cells] == [c.source for c in notebook.cells], path.name
        [parameters] = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
        assert 'workspace: str = ".."' in parameters.source


def test_the_commit_holds_no_store_and_no_outputs(repo):
    assert (repo / "actuals.duckdb").is_file()  # the run built the store inside the workspace
    assert _git(repo, "status", "--porcelain", "--untracked-files=all") == ""
    tracked = _git(repo, "ls-files").splitlines()
    assert "notebooks/01_strategic_goals.py" in tracked
    assert not [path for path in tracked if "duckdb" in path or path.endswith(".lock")]
    ran = json.loads((repo / STEP).read_text())
    assert _outputs(ran) and str(repo) in json.dumps(_outputs(ran))  # outputs name the absolute path
    committed = _git(repo, "show", f"HEAD:{STEP.as_posix()}")
    notebook = json.loads(committed)
    assert _outputs(notebook) == []
    assert all(c.get("execution_count") is None for c in notebook["cells"] if c["cell_type"] == "code")
    metadata = [notebook["metadata"], *(c["metadata"] for c in notebook["cells"])]
    assert not [m for m in metadata if "papermill" in m or "execution" in m or "language_info" in m]
    assert str(repo) not in committed


def test_a_source_change_diffs_as_source_in_git_and_in_nbdiff(repo, tmp_path):
    path = repo / STEP
    _add_line(path, ADDED)
    shown = ANSI.sub("", _git(repo, "diff", "--", STEP.as_posix()))  # nbdime, the filter applied
    assert ADDED in shown and "/cells/0/source" in shown
    assert "outputs" not in shown and "execution_count" not in shown and "papermill" not in shown
    plain = _git(repo, "diff", "--no-ext-diff", "--", STEP.as_posix())
    changed = [line for line in plain.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed and all(line[1:].lstrip().startswith('"') for line in changed)  # lines of the source list
    assert any(ADDED in line for line in changed) and len(changed) <= 4
    paired = _git(repo, "diff", "--", "notebooks/01_strategic_goals.py")
    assert f"+# {ADDED}" in paired.splitlines()
    _git(repo, "commit", "-q", "-am", "step 1: reviewed")
    assert _git(repo, "status", "--porcelain") == ""
    versions = []
    for revision in ("HEAD~1", "HEAD"):
        versions.append(tmp_path / f"{revision.replace('~', '_')}.ipynb")
        versions[-1].write_text(_git(repo, "show", f"{revision}:{STEP.as_posix()}"))
    assert _outputs(json.loads(versions[-1].read_text())) == []
    compared = ANSI.sub("", _run(BIN / "nbdiff", *versions, cwd=tmp_path).stdout)
    assert "modified /cells/0/source" in compared and f"+{ADDED}" in compared
    assert "outputs" not in compared


def test_setting_up_again_keeps_the_user_s_lines_and_one_block(tmp_path):
    workspace = tmp_path / "org"
    _kpi("init", workspace, cwd=tmp_path)
    ignore = workspace / ".gitignore"
    ignore.write_text("# my own\nexports/\n" + ignore.read_text() + "drafts/\n")
    _kpi("notebooks", "-w", workspace, cwd=tmp_path)
    _kpi("notebooks", "-w", workspace, "--force", cwd=tmp_path)
    text = ignore.read_text()
    assert text.startswith("# my own\nexports/\n") and text.endswith(f"{END}\ndrafts/\n")
    assert text.count(BEGIN) == 1 and text.count("actuals.duckdb\n") == 1


def test_a_block_is_replaced_in_place_and_a_damaged_one_is_an_error():
    old = f"mine\n{BEGIN}\nold line\n{END}\nalso mine\n"
    assert merged_block(old, ("new line",), ".gitignore") == f"mine\n{BEGIN}\nnew line\n{END}\nalso mine\n"
    assert merged_block("mine", ("new line",), ".gitignore") == f"mine\n\n{BEGIN}\nnew line\n{END}\n"
    with pytest.raises(InputError, match="damaged"):
        merged_block(f"mine\n{BEGIN}\nold line\n", ("new line",), ".gitignore")


def test_init_in_a_fresh_repository_configures_it_at_once(tmp_path):
    workspace = tmp_path / "org"
    workspace.mkdir()
    _git(workspace, "init", "-q")
    done = _kpi("init", workspace, cwd=tmp_path)
    assert "configured git" in done.stderr and (workspace / ".gitattributes").is_file()
    assert _git(workspace, "config", "--local", "filter.nbstripout.required").strip() == "true"


def test_init_inside_another_repository_leaves_its_configuration_until_asked(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    _git(project, "init", "-q")
    config = project / ".git" / "config"
    before = config.read_bytes()
    workspace = project / "reports" / "sample_org"
    made = _kpi("init", workspace, "--sample", cwd=project)
    _kpi("notebooks", "-w", workspace, cwd=project)
    assert config.read_bytes() == before  # the enclosing project's .git/config, byte for byte
    assert f"inside the git repository {project.resolve()}" in made.stderr and "--git-setup" in made.stderr
    assert (workspace / ".gitattributes").is_file() and (workspace / ".gitignore").is_file()
    asked = _kpi("notebooks", "-w", workspace, "--git-setup", cwd=project)  # configured when asked for
    assert asked.returncode == 0, asked.stderr
    assert _git(project, "config", "--local", "filter.nbstripout.required").strip() == "true"
