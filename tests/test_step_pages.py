"""Steps 3 and 5 on widgets.StepPage: a report draws every table at once; a workshop draws the tests on the stored
history when a button asks for them, once for all the tables that show them; step 5 has no editor; and opening
either step loads no statistics library."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from kpi_workbook.reports.tables import ReportTable
from kpi_workbook.steps import design_evidence, open_step
from kpi_workbook.steps import review as step
from kpi_workbook.widgets import review_tables, step_tables, views
from kpi_workbook.widgets.views import StepPage


@pytest.fixture
def shown(monkeypatch) -> list[object]:
    """What the step pages display, in order."""
    found: list[object] = []
    monkeypatch.setattr(views, "display", lambda *objects: found.extend(objects))
    return found


def _counted(monkeypatch, module, name: str) -> list[int]:
    """Count the calls of `module.name`, still calling it."""
    calls: list[int] = []
    real = getattr(module, name)
    monkeypatch.setattr(module, name, lambda *args, **kwargs: calls.append(1) or real(*args, **kwargs))
    return calls


def test_step_3_s_history_tests_run_when_asked_in_a_workshop_and_once_for_both_tables(sample_workspace, shown,
                                                                                      monkeypatch):
    analysed = _counted(monkeypatch, design_evidence, "design_evidence")
    ctx = open_step(sample_workspace, "sales")
    page = StepPage(ctx, interactive=True)
    evidence = step_tables.design_evidence(ctx)
    page.show(step_tables.lead_pairs(evidence), on_demand="Test the leading KPIs on past periods")
    page.show(step_tables.guardrails(evidence), on_demand="Test the guardrails on past periods")
    assert analysed == [] and [box.children[0].description for box in shown] == [
        "Test the leading KPIs on past periods", "Test the guardrails on past periods"]
    for box in shown:
        box.children[0].click()
        assert box.children[0].__class__.__name__ == "Output"
    assert analysed == [1], "the history is analysed once for the pairs and the guardrails"


def test_step_3_s_report_draws_its_tables_at_once(sample_workspace, shown):
    ctx = open_step(sample_workspace, "sales")
    page = StepPage(ctx, interactive=False)
    evidence = step_tables.design_evidence(ctx)
    page.show(step_tables.lead_pairs(evidence), on_demand="Test the leading KPIs on past periods")
    page.show(step_tables.guardrails(evidence))
    page.show(step_tables.role_kpis(ctx))
    assert page.editor is None and len(shown) == 4 and all(not hasattr(s, "children") for s in shown)
    assert "tested pair" in shown[0]._repr_html_() and "guardrail" in shown[2]._repr_html_()


def test_step_5_s_page_has_no_editor_and_tests_the_framework_once_when_asked(sample_workspace, shown, monkeypatch):
    tested = _counted(monkeypatch, step, "scope_evidence")
    ctx = open_step(sample_workspace, "sales")
    page = StepPage(ctx, interactive=True, editing=False)
    evidence = review_tables.evidence(ctx)
    page.show(review_tables.flags(pd.DataFrame(columns=["severity", "flag", "team", "role", "kpi_id", "objective",
                                                        "message", "recommendation"])))
    page.show(review_tables.evidence_section(ctx, evidence), on_demand="Test whether the framework works")
    page.show(review_tables.evidence_appendix(ctx, evidence), on_demand="Show the evidence in detail")
    assert page.editor is None and isinstance(shown[0], ReportTable), "a table drawn at once, no editor"
    assert tested == []
    for box in shown[1:]:
        box.children[0].click()
        assert box.children[0].__class__.__name__ == "Output"  # the button gave its place to the section
    assert tested == [1], "the section and the appendix share one test of the history"


def test_opening_step_3_or_5_loads_no_statistics(tmp_path: Path):
    code = ("import sys\n"
            "from kpi_workbook.steps import kpi_design, open_step, review\n"
            "from kpi_workbook.widgets import review_tables, step_tables, ratings\n"
            "heavy = ('scipy.stats', 'sklearn', 'kpi_workbook.analysis.evidence')\n"
            "print(sorted(m for m in heavy if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert done.stdout.strip() == "[]"


def test_step_3_s_balance_chart_names_the_roles_by_their_titles(sample_workspace):
    ctx = open_step(sample_workspace, "sales")
    (chart,) = step_tables.balance_chart(ctx)(ctx.framework)
    roles = [r for r in ctx.framework.roles if "sales" in r.teams]
    labels = [label.get_text() for label in chart.axes[0].get_yticklabels()]
    assert sorted(label.split(" (")[0] for label in labels) == sorted(r.title for r in roles)
    assert not [r.id for r in roles if r.id in chart.alt]
