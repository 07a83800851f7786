"""The change log of review cycles: recorded by `diff REV --record WHY` from git, shown in step 5's summary."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from kpi_workbook.analysis.review import review_flags
from kpi_workbook.analysis.scoring import score_actuals
from kpi_workbook.core.errors import InputError
from kpi_workbook.steps import open_step
from kpi_workbook.steps.review import kpi_board, scope_values, summary
from kpi_workbook.workspace.changelog import CHANGELOG_FILE, read_changelog

GIT = shutil.which("git")


def _git(folder: Path, *args: str) -> None:
    subprocess.run([GIT, "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=folder, check=True,
                   capture_output=True)


@pytest.mark.skipif(GIT is None, reason="needs git")
def test_a_review_cycle_is_recorded_from_git_and_shown_in_the_summary(sample_workspace: Path, cli) -> None:
    _git(sample_workspace, "init", "-q")
    _git(sample_workspace, "add", "-A")
    _git(sample_workspace, "commit", "-qm", "2024.1")
    role = sample_workspace / "roles" / "account_executive.yaml"
    data = yaml.safe_load(role.read_text())
    first = data["kpis"][0]
    data["kpis"][0]["target"] = first["target"] * 2
    role.write_text(yaml.safe_dump(data, sort_keys=False))

    code, out, err = cli("diff", "HEAD", "-w", sample_workspace, "--record", "Targets doubled after the review")
    assert code == 0, err
    (entry,) = read_changelog(sample_workspace)
    assert entry.why == "Targets doubled after the review"
    assert any(first["kpi"] in line and "target" in line for line in entry.changes), entry.changes

    step = open_step(sample_workspace, "sales")
    scores = score_actuals(step.actuals_to_date, step.employees, step.framework)
    flags = review_flags(step.framework, scores, step.period, teams=["sales"])
    board = kpi_board(step, scores)
    page = summary(step, scores, flags, board, scope_values(step, scores))._repr_html_()
    assert "What changed in the framework" in page and "Targets doubled after the review" in page
    assert first["kpi"] in page


def test_record_needs_a_revision_against_the_files_now(sample_workspace: Path, tmp_path: Path, cli) -> None:
    other = tmp_path / "other"
    shutil.copytree(sample_workspace, other)
    code, _, err = cli("diff", sample_workspace, other, "--record", "why")
    assert code == 2 and "--record compares a git revision" in err
    assert not (sample_workspace / CHANGELOG_FILE).exists()


@pytest.mark.parametrize("why", ["", "   "])
def test_record_without_a_reason_is_refused(sample_workspace: Path, tmp_path: Path, cli, why: str) -> None:
    code, out, err = cli("diff", "HEAD", "-w", sample_workspace, "--record", why)
    assert code == 2 and out == "" and "--record needs the reason for this review cycle" in err
    assert not (sample_workspace / CHANGELOG_FILE).exists()


def test_a_bad_change_log_names_the_entry_and_field(sample_workspace: Path) -> None:
    (sample_workspace / CHANGELOG_FILE).write_text("entries:\n- version: '1'\n  date: someday\n  why: x\n")
    with pytest.raises(InputError) as error:
        read_changelog(sample_workspace)
    assert "changelog.yaml" in str(error.value) and "date" in str(error.value)
