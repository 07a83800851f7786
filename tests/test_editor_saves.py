"""What a save writes besides the edits: no empty review_period, and the framework's version moved on."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from kpi_workbook.editing.versions import next_version
from kpi_workbook.widgets import FrameworkEditor
from kpi_workbook.workspace.files import load_framework

ROLE = "account_executive"


def _assignment_on_disk(workspace: Path, role: str, kpi: str) -> dict:
    data = yaml.safe_load((workspace / "roles" / f"{role}.yaml").read_text(encoding="utf-8"))
    return next(k for k in data["kpis"] if k["kpi"] == kpi)


@pytest.fixture
def editor(sample_workspace: Path) -> FrameworkEditor:
    return FrameworkEditor(sample_workspace)


def test_a_new_assignment_is_saved_without_an_empty_review_period(editor, sample_workspace):
    editor.add_kpi(ROLE, "expansion_revenue", 0, objectives=["revenue_growth"])
    editor.add_kpi(ROLE, "average_deal_size", 0, objectives=["revenue_growth"], review_period="half_yearly")
    assert editor.save(draft=True).saved
    assert "review_period" not in _assignment_on_disk(sample_workspace, ROLE, "expansion_revenue")
    assert _assignment_on_disk(sample_workspace, ROLE, "average_deal_size")["review_period"] == "half_yearly"
    assert "review_period: ''" not in (sample_workspace / "roles" / f"{ROLE}.yaml").read_text(encoding="utf-8")
    assert load_framework(sample_workspace) == editor.framework  # left out means empty: the framework's cycle


@pytest.mark.parametrize(("version", "after"), [
    ("1.2", "1.3"), ("1.2.0", "1.2.1"), ("1.9", "1.10"), ("2024.1", "2024.2"), ("1", "2"), ("v3-draft", "v4-draft"),
    ("draft", "draft.1"), ("", "1"),
])
def test_the_next_version_is_one_patch_level_on(version, after):
    assert next_version(version) == after


def test_a_save_that_changes_the_framework_moves_its_version_on(editor, sample_workspace):
    assert editor.framework.metadata.version == "2024.1"
    editor.set_bands(ROLE, "win_rate", 20, 26, 32)
    result = editor.save()
    assert result.saved and "version 2024.2" in result.message
    assert load_framework(sample_workspace).metadata.version == "2024.2" == editor.framework.metadata.version
    assert not editor.dirty


def test_a_save_without_changes_keeps_the_version(editor, sample_workspace):
    before = (sample_workspace / "framework.yaml").read_bytes()
    result = editor.save()
    assert result.saved and "nothing had changed" in result.message
    assert (sample_workspace / "framework.yaml").read_bytes() == before


def test_a_version_set_by_hand_is_kept(editor, sample_workspace):
    editor.framework.metadata.version = "2025.0"
    editor.update_objective("revenue_growth", owner="CFO")
    assert editor.save().saved
    assert load_framework(sample_workspace).metadata.version == "2025.0"
