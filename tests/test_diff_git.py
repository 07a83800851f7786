"""`kpi-workbook diff` on git revisions of a workspace, and as git's external diff driver for framework files."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import CLI_SCRIPT, cli_environment

ROLE_FILE = Path("roles") / "account_executive.yaml"


def _git(repo: Path, *args: str) -> str:
    env = cli_environment({"GIT_AUTHOR_NAME": "Reviewer", "GIT_AUTHOR_EMAIL": "r@example.org",
                           "GIT_COMMITTER_NAME": "Reviewer", "GIT_COMMITTER_EMAIL": "r@example.org"})
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True, text=True).stdout


def _set(workspace: Path, kpi: str, **fields: float) -> None:
    path = workspace / ROLE_FILE
    role = yaml.safe_load(path.read_text())
    next(k for k in role["kpis"] if k["kpi"] == kpi).update(fields)
    path.write_text(yaml.safe_dump(role, sort_keys=False))


@pytest.fixture
def repo(sample_workspace: Path) -> Path:
    """A git repository holding the sample as my_org on main, and a branch feature that changes two levels."""
    root = sample_workspace.parent / "repo"
    workspace = root / "my_org"
    workspace.parent.mkdir()
    sample_workspace.rename(workspace)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "framework 2025.1")
    _git(root, "checkout", "-q", "-b", "feature")
    _set(workspace, "win_rate", weight=20)
    _set(workspace, "quota_attainment", weight=25, target=105)
    _git(root, "commit", "-q", "-am", "review cycle 2025Q4: weights and quota target")
    return root


def _run(*args: object, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(CLI_SCRIPT), *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          env=cli_environment())


def test_diff_compares_two_branches_of_a_workspace(repo):
    done = _run("diff", "main", "feature", "-w", "my_org", "--words", cwd=repo)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "weight of win_rate for account_executive: 15 → 20" in lines
    assert "target of quota_attainment for account_executive: 100 → 105 %" in lines
    assert len(lines) == 3
    table = _run("diff", "main", "feature", "-w", "my_org", cwd=repo)
    assert "~ account_executive/win_rate" in table.stdout and "weight: 15 -> 20" in table.stdout


def test_diff_of_one_revision_compares_it_with_the_files_now(repo):
    _set(repo / "my_org", "win_rate", target=27)  # not committed
    done = _run("diff", "HEAD~1", "--words", cwd=repo / "my_org")
    assert done.returncode == 0, done.stderr
    assert "target of win_rate for account_executive: 25 → 27 %" in done.stdout.splitlines()
    assert "weight of win_rate for account_executive: 15 → 20" in done.stdout.splitlines()


def test_unknown_revisions_and_folders_outside_git_are_clear_errors(repo, tmp_path):
    done = _run("diff", "no_such_branch", "-w", "my_org", cwd=repo)
    assert done.returncode == 2 and "error:" in done.stderr and "Traceback" not in done.stderr
    outside = tmp_path / "plain"
    outside.mkdir()
    done = _run("diff", "HEAD", "-w", outside, cwd=tmp_path)
    assert done.returncode == 2 and "not a git repository" in done.stderr


def test_git_diff_shows_framework_files_in_words_once_configured(repo):
    assert "diff.kpi-workbook.command" in _run("diff", "--git-setup", cwd=repo).stdout
    (repo / ".gitattributes").write_text("my_org/*.yaml diff=kpi-workbook\nmy_org/roles/*.yaml diff=kpi-workbook\n")
    _git(repo, "config", "diff.kpi-workbook.command", f"{CLI_SCRIPT} diff --git-driver")
    shown = _git(repo, "diff", "main", "feature")
    assert "weight of win_rate for account_executive: 15 → 20" in shown
    assert "target of quota_attainment for account_executive: 100 → 105" in shown
    assert "+  weight: 20" not in shown and "-  weight: 15" not in shown  # no YAML lines
    plain = _git(repo, "diff", "--no-ext-diff", "main", "feature")
    assert "weight: 20" in plain  # opt-in: without the driver git shows the YAML as before
