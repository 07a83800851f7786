"""The framework editor behind the forms, and the forms driven as a person would (set values, click buttons)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kpi_workbook.analysis.checks import has_errors
from kpi_workbook.widgets import (
    BandsForm,
    EditError,
    FrameworkEditor,
    KpiPicker,
    ObjectivesForm,
    RolesForm,
    SavePanel,
    WeightsForm,
)
from kpi_workbook.workspace.files import load_framework


def _snapshot(workspace: Path) -> dict[str, bytes]:
    return {str(p.relative_to(workspace)): p.read_bytes() for p in sorted(workspace.rglob("*.yaml"))}


def _assignment(editor: FrameworkEditor, role: str, kpi: str):
    return next(k for k in editor.role(role).kpis if k.kpi == kpi)


@pytest.fixture
def editor(sample_workspace: Path) -> FrameworkEditor:
    return FrameworkEditor(sample_workspace)


# --- the editor ---------------------------------------------------------------------------------------------------

def test_objective_edits_and_save_round_trip(editor, sample_workspace):
    editor.add_objective("expand_abroad", "Open two new countries by 2026", "customer", owner="CEO",
                         parent="customer_retention")
    editor.update_objective("expand_abroad", title="Open three new countries by 2026")
    assert editor.dirty
    result = editor.save()
    assert result.saved and not result.draft and not has_errors(result.findings)
    saved = load_framework(sample_workspace).objective("expand_abroad")
    assert (saved.title, saved.parent, saved.owner) == ("Open three new countries by 2026", "customer_retention", "CEO")
    assert not editor.dirty


def test_rejected_edits_leave_the_state_unchanged(editor):
    before = editor.framework.model_copy(deep=True)
    with pytest.raises(EditError, match="exists already"):
        editor.add_objective("revenue_growth", "Again", "financial")
    with pytest.raises(EditError, match="perspective"):
        editor.add_objective("new_one", "A title", "no_such_perspective")
    with pytest.raises(EditError, match="cycle"):
        editor.update_objective("revenue_growth", parent="new_customer_growth")
    with pytest.raises(EditError, match="weight"):
        editor.set_weight("account_executive", "win_rate", -5)
    with pytest.raises(EditError, match="unknown team"):
        editor.add_role("analyst", "Analyst", teams=["nowhere"])
    assert editor.framework == before and not editor.dirty


def test_removing_an_objective_relinks_kpis_and_children(editor):
    editor.remove_objective("revenue_growth")
    fw = editor.framework
    assert fw.objective("revenue_growth") is None
    assert fw.objective("new_customer_growth").parent is None
    assert all("revenue_growth" not in a.kpi.objectives for a in fw.assignments)


def test_roles_and_responsibilities(editor):
    editor.add_role("data_analyst", "Data Analyst", teams=["it"], purpose="Turn data into decisions.")
    editor.add_responsibility("data_analyst", "build_reports", "Build the monthly reports", "Reports out by day 3")
    editor.update_responsibility("data_analyst", "build_reports", expected_outcome="Reports out by day 2")
    editor.add_kpi("data_analyst", "training_hours_completed", 20, responsibility="build_reports",
                   objectives=["skilled_workforce"], threshold=4, target=8, stretch=12)
    role = editor.role("data_analyst")
    assert role.responsibilities[0].expected_outcome == "Reports out by day 2"
    editor.remove_responsibility("data_analyst", "build_reports")
    assert editor.role("data_analyst").kpis[0].responsibility is None
    editor.remove_role("data_analyst")
    assert editor.framework.role("data_analyst") is None


def test_a_role_people_hold_cannot_be_removed(editor, sample_workspace):
    pd.DataFrame({"employee_id": ["007"], "name": ["Ann"], "team": ["sales"], "role": ["account_executive"]}).to_csv(
        sample_workspace / "employees.csv", index=False)
    with pytest.raises(EditError, match="1 people in employees.csv hold this role"):
        editor.remove_role("account_executive")
    assert editor.framework.role("account_executive") is not None


def test_a_kpi_from_the_library_joins_the_framework(editor):
    assert editor.framework.kpi("expansion_revenue") is None
    editor.add_kpi("account_executive", "expansion_revenue", 0, objectives=["revenue_growth"])
    assert editor.framework.kpi("expansion_revenue").family == "sales"
    with pytest.raises(EditError, match="not defined in the framework nor in the KPI library"):
        editor.add_kpi("account_executive", "no_such_kpi")
    with pytest.raises(EditError, match="assigned already"):
        editor.add_kpi("account_executive", "win_rate")
    editor.remove_kpi("account_executive", "expansion_revenue")
    assert "expansion_revenue" not in [k.kpi for k in editor.role("account_executive").kpis]


def test_weights_bands_and_categories(editor):
    total, old = editor.weight_total("account_executive"), _assignment(editor, "account_executive", "win_rate").weight
    editor.set_weight("account_executive", "win_rate", old - 5)
    assert editor.weight_total("account_executive") == total - 5
    editor.set_bands("account_executive", "win_rate", threshold=18, target=24, stretch=30)
    assert _assignment(editor, "account_executive", "win_rate").target == 24
    editor.set_category("win_rate", "output")
    assert editor.framework.kpi("win_rate").category == "output"
    with pytest.raises(EditError, match="category"):
        editor.set_category("win_rate", "fun")


def test_errors_block_the_save_until_a_draft_is_asked_for(editor, sample_workspace):
    before = _snapshot(sample_workspace)
    old = _assignment(editor, "account_executive", "win_rate").weight
    editor.set_weight("account_executive", "win_rate", old - 10)
    result = editor.save()
    assert not result.saved and has_errors(result.findings)
    assert any(f.rule == "balance.weights" and f.role == "account_executive" for f in result.findings)
    assert _snapshot(sample_workspace) == before
    assert editor.weight_total("account_executive") == 90  # what was typed is kept
    draft = editor.save(draft=True)
    assert draft.saved and draft.draft
    saved = load_framework(sample_workspace).role("account_executive")
    assert sum(k.weight for k in saved.kpis) == 90


def test_a_failed_write_keeps_the_edits(editor, tmp_path):
    editor.update_objective("revenue_growth", title="Grow revenue to EUR 70 million")
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    editor.workspace = blocker
    result = editor.save()
    assert not result.saved and result.message.startswith("not saved")
    assert editor.framework.objective("revenue_growth").title == "Grow revenue to EUR 70 million"
    assert editor.dirty and blocker.read_text() == "x"


def test_discard_goes_back_to_the_saved_files(editor):
    editor.remove_objective("revenue_growth")
    editor.discard()
    assert editor.framework.objective("revenue_growth") is not None and not editor.dirty


# --- the forms ----------------------------------------------------------------------------------------------------

def test_objectives_form_adds_edits_and_keeps_input_on_error(editor):
    form = ObjectivesForm(editor)
    form.id.value, form.title.value, form.perspective.value = "happy_staff", "Engaged staff", "learning_growth"
    form.add_button.click()
    assert editor.framework.objective("happy_staff").perspective == "learning_growth"
    assert form.choice.value == "happy_staff" and form.id.disabled
    form.title.value = "Highly engaged staff"
    form.update_button.click()
    assert editor.framework.objective("happy_staff").title == "Highly engaged staff"
    form.choice.value = ""
    form.id.value, form.title.value = "revenue_growth", "Duplicate"
    form.add_button.click()
    assert "exists already" in form.status.value
    assert (form.id.value, form.title.value) == ("revenue_growth", "Duplicate")
    form.choice.value = "happy_staff"
    form.remove_button.click()
    assert editor.framework.objective("happy_staff") is None


def test_roles_form_for_a_team(editor):
    form = RolesForm(editor, team="hr")
    assert {v for _, v in form.choice.options} - {""} == {r.id for r in editor.framework.roles_of_team("hr")}
    assert form.teams.value == ["hr"]
    form.id.value, form.title.value = "people_analyst", "People Analyst"
    form.add_button.click()
    assert editor.role("people_analyst").teams == ["hr"]
    form.responsibility_id.value = "measure_engagement"
    form.description.value, form.outcome.value = "Run the engagement survey", "Two surveys a year, 80 % response"
    form.add_responsibility_button.click()
    assert editor.role("people_analyst").responsibilities[0].expected_outcome == "Two surveys a year, 80 % response"
    form.outcome.value = "Two surveys a year, 85 % response"
    form.update_responsibility_button.click()
    assert editor.role("people_analyst").responsibilities[0].expected_outcome.endswith("85 % response")


def test_kpi_picker_filters_the_library_and_adds_to_a_role(editor):
    picker = KpiPicker(editor, team="sales")
    picker.family.value, picker.category.value = "sales", "output"
    options = [v for _, v in picker.results.options]
    assert "expansion_revenue" in options and "win_rate" not in options  # win rate is a quality KPI
    picker.search.value = "expansion"
    assert [v for _, v in picker.results.options] == ["expansion_revenue"]
    picker.results.value = "expansion_revenue"
    assert "Expansion revenue" in picker.details.value
    picker.role.value = "account_executive"
    picker.responsibility.value = "grow_accounts"
    picker.objectives.value = ("revenue_growth",)
    picker.weight.value = 5
    picker.add_button.click()
    added = editor.role("account_executive").kpis[-1]
    assert (added.kpi, added.weight, added.responsibility, added.objectives) == (
        "expansion_revenue", 5, "grow_accounts", ["revenue_growth"])
    picker.assigned.value = "expansion_revenue"
    picker.kpi_category.value = "quality"
    picker.classify_button.click()
    assert editor.framework.kpi("expansion_revenue").category == "quality"
    picker.remove_button.click()
    assert "expansion_revenue" not in [k.kpi for k in editor.role("account_executive").kpis]


def test_weights_form_shows_a_live_total(editor):
    form = WeightsForm(editor, team="sales")
    form.role.value = "account_executive"
    assert "100 / 100" in form.total.value and "complete" in form.total.value
    form.weights["win_rate"].value -= 10
    assert editor.weight_total("account_executive") == 90
    assert "90 / 100" in form.total.value and "add 10" in form.total.value


def test_save_panel_refuses_errors_then_saves_a_draft(editor, sample_workspace):
    before = _snapshot(sample_workspace)
    editor.set_weight("account_executive", "win_rate", 0)
    panel = SavePanel(editor)
    panel.save_button.click()
    assert not panel.last_result.saved and "not saved" in panel.status.value
    assert _snapshot(sample_workspace) == before
    panel.draft_button.click()
    assert panel.last_result.saved and panel.last_result.draft
    assert _snapshot(sample_workspace) != before


def test_bands_form_previews_against_history(editor):
    employees = pd.DataFrame({"employee_id": ["e1", "e2"], "name": ["A", "B"], "team": ["sales"] * 2,
                              "role": ["account_executive"] * 2})
    actuals = pd.DataFrame({
        "period": ["2025Q1", "2025Q1", "2025Q2", "2025Q2"], "team": ["sales"] * 4, "employee_id": ["e1", "e2"] * 2,
        "kpi_id": ["win_rate"] * 4, "value": [20.0, 24.0, 26.0, 30.0],
    })
    form = BandsForm(editor, actuals, employees, team="sales")
    form.role.value, form.kpi.value = "account_executive", "win_rate"
    assert form.fields["target"].value == _assignment(editor, "account_executive", "win_rate").target
    form.fields["target"].value = 25
    assert "50% of 4 values" in form.probability.value
    assert form.figure is not None and any(line.get_label() == "target" for line in form.figure.axes[0].lines)
    form.fields["threshold"].value, form.fields["stretch"].value = 21, 29
    form.apply_button.click()
    kpi = _assignment(editor, "account_executive", "win_rate")
    assert (kpi.threshold, kpi.target, kpi.stretch) == (21, 25, 29)


def test_bands_form_uses_ranges_for_within_range_kpis(editor):
    role = next(r for r in editor.framework.roles
                if any(editor.framework.kpi(k.kpi).polarity == "within_range" for k in r.kpis))
    kpi = next(k for k in role.kpis if editor.framework.kpi(k.kpi).polarity == "within_range")
    form = BandsForm(editor, pd.DataFrame(columns=["period", "team", "employee_id", "kpi_id", "value"]),
                     pd.DataFrame(columns=["employee_id", "name", "team", "role"]))
    form.role.value, form.kpi.value = role.id, kpi.kpi
    assert form.fields["target"].layout.display == "none" and form.fields["target_low"].layout.display == ""
    assert "no history" in form.probability.value
    low, high = kpi.target_range
    form.fields["target_high"].value = high + 1
    form.apply_button.click()
    assert _assignment(editor, role.id, kpi.kpi).target_range == (low, high + 1)
