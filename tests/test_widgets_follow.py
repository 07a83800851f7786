"""Every form of a step follows one editor: an edit in one form, a discard, a reload or a save shows in all of them
at once; levels out of order are flagged as they are typed; a finding's place is said in words."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd
import pytest

from kpi_workbook.editing.observers import Event
from kpi_workbook.widgets import (
    BandsForm,
    FrameworkEditor,
    KpiPicker,
    ObjectivesForm,
    RolesForm,
    SavePanel,
    TargetsForm,
    WeightsForm,
    redrawn,
)
from kpi_workbook.widgets.live import ALWAYS

ROLE = "account_executive"
GREEN, RED = "#2e7d32", "#c62828"


@pytest.fixture
def editor(sample_workspace: Path) -> FrameworkEditor:
    return FrameworkEditor(sample_workspace)


def _no_history() -> tuple[pd.DataFrame, pd.DataFrame]:
    return (pd.DataFrame(columns=["period", "team", "employee_id", "kpi_id", "value"]),
            pd.DataFrame(columns=["employee_id", "name", "team", "role"]))


def _step_3(editor: FrameworkEditor) -> tuple[KpiPicker, WeightsForm]:
    picker = KpiPicker(editor, team="sales")
    picker.role.value = ROLE
    return picker, WeightsForm(editor, role=picker.role)


def _add_expansion_revenue(picker: KpiPicker, weight: float = 10) -> None:
    picker.search.value = "expansion"
    picker.results.value = "expansion_revenue"
    picker.weight.value = weight
    picker.add_button.click()


def test_the_editor_tells_its_listeners_what_happened(editor):
    heard: list[Event] = []
    editor.subscribe(heard.append)
    editor.set_weight(ROLE, "win_rate", 20)
    with pytest.raises(Exception, match="out of range"):
        editor.set_weight(ROLE, "win_rate", 150)  # refused: nobody is told
    editor.discard()
    editor.set_weight(ROLE, "win_rate", 15)
    editor.save()
    editor.reload()
    assert heard == [Event.CHANGED, Event.DISCARDED, Event.CHANGED, Event.SAVED, Event.RELOADED]


def test_a_kpi_added_in_the_picker_shows_in_the_weights_form_and_its_total(editor):
    picker, weights = _step_3(editor)
    assert len(weights.weights) == 6 and "100 / 100" in weights.total.value
    _add_expansion_revenue(picker)
    assert len(weights.weights) == 7 and "expansion_revenue" in weights.weights
    assert "110 / 100" in weights.total.value and "remove 10" in weights.total.value
    assert "complete" not in weights.total.value
    weights.weights["win_rate"].value = 5  # and back: the picker's list shows the weight typed below
    assert "Win rate (weight 5)" in [label for label, _ in picker.assigned.options]
    assert "100 / 100" in weights.total.value and "added Expansion revenue to Account Executive" in picker.added.value


def test_a_kpi_added_in_step_4_s_role_is_offered_for_its_levels(editor):
    form = TargetsForm(editor, *_no_history(), team="sales")
    form.role.value = ROLE
    editor.add_kpi(ROLE, "expansion_revenue", 0)
    assert "expansion_revenue" in [v for _, v in form.bands.kpi.options]
    assert "expansion_revenue" in form.weights.weights


def test_discard_reloads_every_form_with_the_saved_values(editor):
    picker, weights = _step_3(editor)
    bands = BandsForm(editor, *_no_history(), team="sales", role=picker.role)
    panel = SavePanel(editor)
    _add_expansion_revenue(picker)
    weights.weights["win_rate"].value = 40
    bands.kpi.value = "win_rate"
    bands.fields["target"].value = "27"
    assert editor.dirty
    panel.discard_button.click()
    assert not editor.dirty
    assert set(weights.weights) == {k.kpi for k in editor.role(ROLE).kpis} and len(weights.weights) == 6
    assert weights.weights["win_rate"].value == 15 and "100 / 100" in weights.total.value
    assert "expansion_revenue" not in [v for _, v in picker.assigned.options]
    assert bands.fields["target"].value == "25"
    assert "re-run" not in panel.status.value and "every form" in panel.status.value


def test_discard_reloads_the_objectives_and_roles_forms_and_the_live_map(editor):
    objectives, roles, panel = ObjectivesForm(editor), RolesForm(editor, team="sales"), SavePanel(editor)
    drawn: list[int] = []
    redrawn(editor, lambda framework: drawn.append(len(framework.objectives)) or "map", ALWAYS)
    objectives.id.value, objectives.title.value = "open_asia", "Open two offices in Asia"
    objectives.add_button.click()
    assert objectives.choice.value == "open_asia" and "added objective “Open two offices in Asia”" in \
        objectives.status.value
    roles.choice.value = ROLE
    roles.title.value = "Senior Account Executive"
    roles.update_button.click()
    assert roles.choice.label == "Senior Account Executive"
    panel.discard_button.click()
    assert "open_asia" not in [v for _, v in objectives.choice.options] and objectives.choice.value == ""
    assert roles.choice.value == ROLE and roles.title.value == "Account Executive"
    assert drawn == [7, 8, 8, 7]  # as loaded, the objective added, the role renamed, discarded


def test_a_target_below_the_threshold_is_flagged_with_its_fix_as_it_is_typed(editor):
    form = BandsForm(editor, *_no_history(), team="sales")
    form.role.value, form.kpi.value = ROLE, "win_rate"  # threshold 20, target 25, stretch 32 (%)
    form.fields["target"].value = "15"
    status = form.status.value
    assert RED in status and GREEN not in status and "applied" not in status
    assert "target (15 %) is below the threshold (20 %)" in status.replace("\xa0", " ")
    assert "raise the target to at least 20" in status and "Save refuses" in status
    form.fields["target"].value = "26"
    assert GREEN in form.status.value and "applied" in form.status.value
    form.fields["stretch"].value = "24"
    assert "stretch (24 %) is below the target (26 %)" in form.status.value.replace("\xa0", " ")


def test_lower_is_better_and_range_levels_are_flagged_in_their_own_direction(editor):
    form = BandsForm(editor, *_no_history())
    form.role.value, form.kpi.value = "accounts_receivable_specialist", "days_sales_outstanding"  # 55 / 45 / 40 days
    form.fields["target"].value = "60"
    assert "target (60 days) is above the threshold (55 days)" in form.status.value.replace("\xa0", " ")
    assert "lower the target to at most 55" in form.status.value.replace("\xa0", " ")
    form.role.value, form.kpi.value = "financial_analyst", "budget_variance"  # target range -3 to 3 (%)
    form.fields["threshold_low"].value, form.fields["threshold_high"].value = "-2", "5"
    status = form.status.value.replace("\xa0", " ")
    assert RED in status and "does not contain the target range" in status and "at least −3 to 5 %" in status


def test_a_typed_level_is_echoed_in_the_kpi_s_unit(editor):
    form = BandsForm(editor, *_no_history(), team="sales")
    form.role.value, form.kpi.value = ROLE, "new_business_revenue"
    form.fields["target"].value = "160000"
    assert editor.framework.metadata.currency == "EUR"  # the sample's money KPIs have unit: currency
    assert "understood: <b>160,000\xa0EUR</b>" in form.echoes["target"].value
    form.kpi.value = "win_rate"
    form.fields["target"].value = "27.5"
    assert "understood: <b>27.5\xa0%</b>" in form.echoes["target"].value
    form.fields["target"].value = "27,5"
    assert "not a number" in form.echoes["target"].value


def test_a_redrawn_table_follows_saves_not_typing(editor):
    drawn: list[float] = []
    redrawn(editor, lambda framework: drawn.append(framework.role(ROLE).kpis[0].weight) or "table")
    editor.set_weight(ROLE, "quota_attainment", 25)
    editor.set_weight(ROLE, "win_rate", 20)
    assert drawn == [30]  # drawn once, as loaded; typing does not redraw what the files hold
    assert editor.save().saved
    assert drawn == [30, 25]


def test_the_save_panel_says_where_in_words_and_counts_other_teams_findings(editor):
    editor.set_weight(ROLE, "win_rate", 5)  # a sales finding: the weights no longer add up
    panel = SavePanel(editor, team="sales")
    panel.check_button.click()
    shown = panel.findings.value
    assert "Account Executive" in shown and ".yaml" not in shown and "field '" not in shown
    assert "Support Team Lead" not in shown and "Financial Analyst" not in shown
    assert "2 findings concern other teams" in shown  # the financial analyst's and the support team lead's


def test_a_weight_typed_in_step_4_leaves_the_chart_and_levels_change_it(editor):
    form = TargetsForm(editor, *_no_history(), team="sales")
    form.role.value = ROLE
    form.bands.kpi.value = "win_rate"
    figure = form.bands.figure
    form.weights.weights["win_rate"].value = 20
    assert form.bands.figure is figure  # no redraw of the chart for a weight
    editor.set_bands(ROLE, "win_rate", threshold=20, target=27, stretch=32)  # e.g. a reload or another form
    assert form.bands.figure is not figure and form.bands.fields["target"].value == "27"


def test_other_teams_errors_that_block_a_save_are_said(editor):
    editor.set_bands("recruiter", "time_to_hire", threshold=50, target=60, stretch=35)  # hr: out of order
    panel = SavePanel(editor, team="sales")
    panel.save_button.click()
    assert not panel.last_result.saved
    status = html.unescape(panel.status.value)
    assert "Checks: 0 errors" in status and "other teams' roles have errors, which block a save" in status
    assert "Recruiter" not in panel.findings.value and "concern other teams" in panel.findings.value


def test_a_table_higher_up_a_step_follows_saves_in_a_workshop_and_is_drawn_once_in_a_report(sample_workspace):
    from kpi_workbook.steps import open_step
    from kpi_workbook.widgets import StepPage

    ctx = open_step(sample_workspace, "sales")
    workshop, report = StepPage(ctx, interactive=True), StepPage(ctx, interactive=False)
    drawn: list[tuple[str, int]] = []
    for name, page in (("workshop", workshop), ("report", report)):
        page.show(lambda framework, name=name: drawn.append((name, len(framework.objectives))) or "table")
    count = len(ctx.framework.objectives)
    assert drawn == [("workshop", count), ("report", count)] and report.editor is None
    workshop.editor.add_objective("open_asia", "Open two offices in Asia", "financial")
    assert workshop.editor.save().saved
    assert drawn[-1] == ("workshop", count + 1) and len(drawn) == 3  # the report's table is not a live one


def test_step_1_s_coverage_chart_names_objectives_by_title(sample_workspace):
    from kpi_workbook.steps import open_step
    from kpi_workbook.widgets import step_tables

    ctx = open_step(sample_workspace, "sales")
    _table, chart = step_tables.coverage(ctx)(ctx.framework)
    labels = [label.get_text().removeprefix("↳ ") for label in chart.axes[0].get_yticklabels()]
    assert sorted(labels) == sorted(o.title for o in ctx.framework.objectives)


def test_charts_on_demand_are_drawn_when_asked_then_after_each_save(editor):
    from kpi_workbook.widgets.live import on_demand

    drawn: list[int] = []
    box = on_demand(editor, lambda framework: drawn.append(len(framework.objectives)) or "charts", "Show the charts")
    assert drawn == [] and box.children[0].description == "Show the charts"  # nothing drawn as the step opens
    box.children[0].click()
    count = len(editor.framework.objectives)
    assert drawn == [count] and box.children[0].__class__.__name__ == "Output"
    editor.add_objective("open_asia", "Open two offices in Asia", "financial")
    assert editor.save().saved and drawn == [count, count + 1]
