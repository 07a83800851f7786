"""Steps 3 and 5 on widgets.StepPage: a report draws every table at once; a workshop draws the tests on the stored
history when a button asks for them, once for all the tables that show them; step 5 has no editor and shows its
role charts one at a time in a workshop (all in a report); opening either step loads no statistics library; and a
kernel Voilà warms loads the forms before the page is asked for."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from kpi_workbook.reports.tables import ReportTable
from kpi_workbook.steps import design_evidence, open_step
from kpi_workbook.steps import review as step
from kpi_workbook.steps.context import WARMED_KERNEL
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


def _role_charts(ctx, interactive: bool, shown: list[object]) -> list[object]:
    """What step 5's section "Each role's KPIs in the period" displays for `ctx`."""
    from kpi_workbook.analysis import scoring

    scores = scoring.score_actuals(ctx.actuals_to_date, ctx.employees, ctx.framework)
    rolled = scoring.roll_up(scores[scores["period"].astype(str) == ctx.period], ("team", "role", "kpi_id"))
    StepPage(ctx, interactive, editing=False).show(review_tables.kpis(step.kpi_board(ctx, scores), rolled, ctx))
    return shown


def test_step_5_s_role_charts_show_one_at_a_time_in_a_workshop_each_drawn_when_picked(sample_workspace, shown,
                                                                                       monkeypatch):
    from IPython.core.interactiveshell import InteractiveShell

    from kpi_workbook.reports import charts

    InteractiveShell.instance()  # what the outputs are filled from, as in a kernel
    drawn = _counted(monkeypatch, charts, "scorecard_chart")
    ctx = open_step(sample_workspace, "sales")
    table, picker = _role_charts(ctx, True, shown)
    chosen, output = picker.children
    assert not hasattr(table, "children") and len(chosen.options) > 1 and drawn == [1]
    assert [o["data"].keys() >= {"image/png"} for o in output.outputs] == [True]
    first = output.outputs
    chosen.value = chosen.options[1]
    assert drawn == [1, 1] and output.outputs != first
    chosen.value = chosen.options[0]
    assert drawn == [1, 1] and output.outputs == first, "a chart once drawn is shown again, not drawn again"


def test_step_5_s_report_draws_every_role_chart(sample_workspace, shown):
    from kpi_workbook.reports.figures import ChartFigure

    ctx = open_step(sample_workspace, "sales")
    table, *figures = _role_charts(ctx, False, shown)
    roles = {(r.id, t) for r in ctx.framework.roles for t in r.teams if t in ctx.team_ids}
    assert not hasattr(table, "children") and len(figures) == len(roles) > 1
    assert all(isinstance(figure, ChartFigure) for figure in figures)


def test_a_kernel_voila_warms_loads_every_form_before_the_page_is_asked_for(tmp_path: Path):
    code = ("import sys\n"
            "from kpi_workbook import widgets\n"
            "from kpi_workbook.analysis import library\n"
            "wanted = ('ipywidgets', 'kpi_workbook.editing.editor', 'kpi_workbook.widgets.kpis',"
            " 'kpi_workbook.widgets.ratings', 'kpi_workbook.widgets.views', 'matplotlib.backends.backend_agg')\n"
            "print([m for m in wanted if m not in sys.modules], library._default_model.cache_info().currsize)")
    env = {**os.environ, WARMED_KERNEL: "True"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path,
                          env=env)
    assert done.stdout.split() == ["[]", "1"]
    cold = subprocess.run([sys.executable, "-c", "import sys\nfrom kpi_workbook import widgets\n"
                           "print('ipywidgets' in sys.modules)"], capture_output=True, text=True, check=True,
                          cwd=tmp_path, env={k: v for k, v in os.environ.items() if k != WARMED_KERNEL})
    assert cold.stdout.strip() == "False", "a report or a page opened cold loads no form on import"


def test_a_chart_shown_twice_on_a_page_is_drawn_once_for_the_framework_as_opened(sample_workspace, monkeypatch):
    from kpi_workbook.steps import kpi_design

    drawn = _counted(monkeypatch, kpi_design, "balance_chart")
    ctx = open_step(sample_workspace, "sales")
    (top,) = step_tables.balance_chart(ctx)(ctx.framework)
    *_, under = step_tables.kpi_tables(ctx)(ctx.framework.model_copy(deep=True))  # the editor's copy
    assert under is top and drawn == [1]
    changed = ctx.framework.model_copy(deep=True)
    changed.objectives = changed.objectives[:-1]
    (other,) = step_tables.balance_chart(ctx)(changed)
    assert other is not top and drawn == [1, 1], "a framework changed since the page opened is drawn anew"


def test_a_step_notebook_s_kernel_loads_neither_the_measure_engine_nor_scikit_learn(tmp_path: Path):
    """What every batch kernel loads ahead (the notebooks' import cells and the libraries they use), in a fresh
    interpreter: ibis compiles measures only in `compute`, and suggestions read cached vectors without
    scikit-learn."""
    code = ("import sys\n"
            "from kpi_workbook.batch.forkserver import LIBRARIES, notebook_imports\n"
            "from kpi_workbook.core.paths import NOTEBOOKS_DIR\n"
            "for name in LIBRARIES:\n"
            "    __import__(name)\n"
            "for statement in notebook_imports(NOTEBOOKS_DIR):\n"
            "    exec(statement, {})\n"
            "import kpi_workbook.analysis.checks, kpi_workbook.reports.passport\n"
            "print(len(notebook_imports(NOTEBOOKS_DIR)),\n"
            "      [m for m in ('ibis', 'sqlglot', 'sklearn') if m in sys.modules])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path)
    count, loaded = done.stdout.split(maxsplit=1)
    assert int(count) > 5 and loaded.strip() == "[]"
