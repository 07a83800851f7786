"""The framework editor behind the forms, and the forms driven as a person would (set values, click buttons)."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd
import pytest

from kpi_workbook import widgets
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
    assert any(f.code == "balance.weights" and f.role == "account_executive" for f in result.findings)
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
    assert float(form.fields["target"].value) == _assignment(editor, "account_executive", "win_rate").target
    form.fields["target"].value = "25"
    assert "50% of 4 values" in form.probability.value
    assert form.figure is not None and any(line.get_label() == "target" for line in form.figure.axes[0].lines)
    form.fields["threshold"].value, form.fields["stretch"].value = "21", "29"
    kpi = _assignment(editor, "account_executive", "win_rate")
    assert (kpi.threshold, kpi.target, kpi.stretch) == (21, 25, 29)


@pytest.mark.parametrize(("typed", "applied"), [("160,000", None), ("1,5", None), ("12%", None),
                                                ("160000", 160000.0), ("160 000", 160000.0), ("2.5", 2.5)])
def test_bands_form_reads_typed_levels_as_strictly_as_the_import(editor, typed, applied):
    form = BandsForm(editor, *_sales_history(), team="sales")
    form.role.value, form.kpi.value = "account_executive", "win_rate"
    before = _assignment(editor, "account_executive", "win_rate").stretch
    form.fields["stretch"].value = typed
    kpi = _assignment(editor, "account_executive", "win_rate")
    if applied is None:  # a comma or a % sign is refused, never guessed: the level stays as it was
        assert kpi.stretch == before and f'"{typed}"' in html.unescape(form.status.value)
    else:
        assert kpi.stretch == applied


def test_bands_form_uses_ranges_for_within_range_kpis(editor):
    role = next(r for r in editor.framework.roles
                if any(editor.framework.kpi(k.kpi).polarity == "within_range" for k in r.kpis))
    kpi = next(k for k in role.kpis if editor.framework.kpi(k.kpi).polarity == "within_range")
    form = BandsForm(editor, pd.DataFrame(columns=["period", "team", "employee_id", "kpi_id", "value"]),
                     pd.DataFrame(columns=["employee_id", "name", "team", "role"]))
    form.role.value, form.kpi.value = role.id, kpi.kpi
    assert form.rows["target"].layout.display == "none" and form.rows["target_low"].layout.display == ""
    assert "no history" in form.probability.value
    low, high = kpi.target_range
    form.fields["target_high"].value = f"{high + 1:g}"
    assert _assignment(editor, role.id, kpi.kpi).target_range == (low, high + 1)


# --- forms as a room of managers uses them ------------------------------------------------------------------------

def _widgets_in(box) -> list:
    found, queue = [], [box]
    while queue:
        node = queue.pop()
        found.append(node)
        queue += list(getattr(node, "children", ()))
    return found


def _sales_history() -> tuple[pd.DataFrame, pd.DataFrame]:
    employees = pd.DataFrame({"employee_id": ["e1", "e2"], "name": ["A", "B"], "team": ["sales"] * 2,
                              "role": ["account_executive"] * 2})
    actuals = pd.DataFrame({"period": ["2025Q1"] * 2, "team": ["sales"] * 2, "employee_id": ["e1", "e2"],
                            "kpi_id": ["win_rate"] * 2, "value": [20.0, 30.0]})
    return actuals, employees


def test_bands_form_opens_on_a_real_kpi_with_its_current_levels(editor):
    form = BandsForm(editor, *_sales_history(), team="sales")
    assignment = _assignment(editor, form.role.value, form.kpi.value)
    assert form.kpi.value is not None and form.kpi.label == editor.framework.kpi(form.kpi.value).name
    assert float(form.fields["target"].value) == assignment.target and form.figure is not None
    other = next(v for _, v in form.role.options if v != form.role.value and editor.framework.role(v).kpis)
    form.role.value = other
    assert form.kpi.value == editor.role(other).kpis[0].kpi
    assert float(form.fields["target"].value) == editor.role(other).kpis[0].target


def test_a_message_goes_when_its_cause_does(editor):
    form = BandsForm(editor, *_sales_history(), team="sales")
    form.fields["target"].value = "abc"
    assert "is not a number" in form.status.value and "#c62828" in form.status.value
    form.kpi.value = next(v for _, v in form.kpi.options if v != form.kpi.value)
    assert form.status.value == ""
    objectives = ObjectivesForm(editor)
    objectives.add_button.click()
    assert "empty" in objectives.status.value
    objectives.title.value = "Grow"
    assert objectives.status.value == ""


def test_fields_update_as_you_type(editor):
    forms = [ObjectivesForm(editor), RolesForm(editor), KpiPicker(editor), WeightsForm(editor),
             BandsForm(editor, *_sales_history())]
    typed = [c for form in forms for c in _widgets_in(form) if hasattr(c, "continuous_update")]
    assert len(typed) > 15 and all(c.continuous_update for c in typed)


def test_a_bad_id_is_explained_with_a_suggestion(editor):
    form = ObjectivesForm(editor)
    form.id.value, form.title.value = "Grow Revenue!", "Grow recurring revenue by 15 %"
    form.add_button.click()
    status = form.status.value
    assert "String should" not in status and "pattern" not in status and status.count("Grow Revenue!") == 1
    assert "letters, digits" in status and "grow_recurring_revenue_by_15" in status
    form.id.value, form.title.value = "grow", ""
    form.add_button.click()
    assert "The title is empty" in form.status.value and "at least 1 character" not in form.status.value


def test_out_of_range_weights_are_refused_not_clamped(editor):
    form = WeightsForm(editor, team="sales")
    form.role.value = "account_executive"
    before = _assignment(editor, "account_executive", "win_rate").weight
    form.weights["win_rate"].value = 150
    assert form.weights["win_rate"].value == 150  # what was typed stays on screen
    assert _assignment(editor, "account_executive", "win_rate").weight == before
    assert "out of range" in form.status.value and "at most 100" in form.status.value
    form.weights["win_rate"].value = -5
    assert "at least 0" in form.status.value
    assert _assignment(editor, "account_executive", "win_rate").weight == before


def test_weight_fields_are_labelled_with_kpi_names(editor):
    form = WeightsForm(editor, team="sales")
    form.role.value = "account_executive"
    labels = [row.children[0].value for row in form.rows.children]
    assert any("Win rate" in label for label in labels)


def test_step_4_has_one_role_picker_for_weights_and_bands(editor):
    form = widgets.TargetsForm(editor, *_sales_history(), team="sales")
    pickers = [c for c in _widgets_in(form) if getattr(c, "description", "") == "Role"]
    assert pickers == [form.role]
    other = next(v for _, v in form.role.options if v != form.role.value and editor.framework.role(v).kpis)
    form.role.value = other
    assert set(form.weights.weights) == {k.kpi for k in editor.role(other).kpis}
    assert form.bands.kpi.value == editor.role(other).kpis[0].kpi


def test_save_panel_shows_findings_in_full_and_names_the_objective(editor):
    editor.add_objective("open_asia", "Open two offices in Asia", "customer")
    panel = SavePanel(editor)
    panel.check_button.click()
    finding = next(f for f in editor.findings() if f.code == "coverage.objective" and "open_asia" in f.entry)
    assert "objective Open two offices in Asia" in panel.findings.value
    assert "open_asia" not in panel.findings.value and ".yaml" not in panel.findings.value
    assert html.escape(finding.message, quote=False) in panel.findings.value
    assert html.escape(finding.fix, quote=False) in panel.findings.value


def test_parent_starts_at_none_a_top_objective(editor):
    form = ObjectivesForm(editor)
    assert (form.parent.label, form.parent.value) == ("(none: a top objective)", "")
    form.choice.value = "new_customer_growth"
    form.choice.value = ""
    assert form.parent.label == "(none: a top objective)"


# --- step 5: ratings decided in the review meeting ----------------------------------------------------------------

def test_ratings_form_checks_the_scale_and_saves_through_the_import(sample_workspace):
    from kpi_workbook.workspace.opener import open_workspace

    opened = open_workspace(sample_workspace)
    scope = opened.scope(team="sales")
    form = widgets.RatingsForm(opened, "sales", scope.periods)
    form.kpi.value = "collaboration_rating"
    assert form.period.value == scope.periods[-1] and "from <b>1</b> to <b>5</b>" in form.scale.value
    person, field = next(iter(form.fields.items()))
    stored = form.sheet().current()
    assert field.value == f"{stored[person]:g}"  # the form opens on what is stored
    field.value = "7"
    assert "off the scale" in form.status.value and "from 1 to 5" in form.status.value
    form.save_button.click()
    assert "off the scale" in form.status.value
    assert form.sheet().current()[person] == stored[person]  # nothing stored
    field.value = "4.5"
    assert form.status.value == ""
    form.save_button.click()
    assert "Say who rates" in form.status.value
    form.rated_by.value = "sales review meeting"
    form.save_button.click()
    assert "saved (rated by sales review meeting)" in form.status.value
    reopened = open_workspace(sample_workspace)
    sheet = widgets.RatingsForm(reopened, "sales", scope.periods).sheet()
    assert sheet.current()[person] == 4.5
    others = {p: v for p, v in stored.items() if p != person}
    assert {p: v for p, v in sheet.current().items() if p != person} == others  # the rest unchanged
    record = pd.read_csv(sheet.path, dtype=str, keep_default_na=False).set_index("employee_id")
    assert record.loc[person, "rated_by"] == "sales review meeting" and record.loc[person, "rated_at"]

