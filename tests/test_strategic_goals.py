"""Step 1: objectives by perspective, objective → KPI coverage with the cascade, KPIs serving no objective."""

from __future__ import annotations

import pytest

from kpi_workbook.core.model import Framework, Objective
from kpi_workbook.steps.strategic_goals import (
    PERSPECTIVE_LABELS,
    coverage_chart,
    objective_coverage,
    objective_links,
    objectives_by_perspective,
    perspective_summary,
    unlinked_kpis,
)
from kpi_workbook.workspace.files import load_framework


@pytest.fixture
def cascade(small_framework: Framework) -> Framework:
    """The small framework with a parent above grow_revenue and an objective nothing serves."""
    fw = small_framework.model_copy(deep=True)
    fw.objectives = [
        Objective(id="market_leader", title="Lead the market", perspective="customer"),
        fw.objectives[0].model_copy(update={"parent": "market_leader"}),
        fw.objectives[1],
        Objective(id="lean_ops", title="Lean operations", perspective="internal_process"),
    ]
    return fw


def test_objectives_are_grouped_by_perspective_in_scorecard_order(sample_workspace):
    fw = load_framework(sample_workspace)
    table = objectives_by_perspective(fw)
    assert sorted(table["objective"]) == sorted(o.id for o in fw.objectives)
    order = list(PERSPECTIVE_LABELS.values())
    positions = [order.index(p) for p in table["perspective"].astype(str)]
    assert positions == sorted(positions)
    children = table[table["parent"] != ""]
    assert len(children) > 0 and (children["level"] == 1).all()


def test_coverage_counts_direct_and_cascaded_kpis(cascade):
    coverage = objective_coverage(cascade).set_index("objective")
    # four KPIs serve grow_revenue directly; its parent is served only through it
    assert coverage.loc["grow_revenue", ["direct_kpis", "cascaded_kpis", "coverage"]].tolist() == [4, 4, "direct"]
    assert coverage.loc["market_leader", ["direct_kpis", "cascaded_kpis", "coverage"]].tolist() == [0, 4, "cascade"]
    assert coverage.loc["skilled_people", "coverage"] == "direct"
    assert coverage.loc["lean_ops", ["cascaded_kpis", "coverage", "roles"]].tolist() == [0, "none", ""]
    assert coverage.loc["market_leader", "roles"] == "account_executive"


def test_a_kpi_serving_parent_and_child_counts_once_for_the_parent(cascade):
    role = cascade.roles[0]
    role.kpis[0] = role.kpis[0].model_copy(update={"objectives": ["grow_revenue", "market_leader"]})
    coverage = objective_coverage(cascade).set_index("objective")
    assert coverage.loc["market_leader", ["direct_kpis", "cascaded_kpis"]].tolist() == [1, 4]
    assert len(objective_links(cascade)) == 6


def test_coverage_counts_only_the_given_roles(cascade):
    coverage = objective_coverage(cascade, roles=[]).set_index("objective")
    assert (coverage["coverage"] == "none").all()
    assert coverage["cascaded_kpis"].sum() == 0


def test_perspective_summary_lists_every_perspective(cascade):
    summary = perspective_summary(objective_coverage(cascade)).set_index("perspective")
    assert list(summary.index.astype(str)) == list(PERSPECTIVE_LABELS.values())
    assert summary.loc["Customer", ["objectives", "covered"]].tolist() == [1, 1]
    assert summary.loc["Internal process", ["objectives", "covered", "kpis_direct"]].tolist() == [1, 0, 0]
    assert summary.loc["Financial", "kpis_direct"] == 4


def test_unlinked_kpis_include_unknown_objective_ids(small_framework):
    role = small_framework.roles[0]
    role.kpis[0] = role.kpis[0].model_copy(update={"objectives": []})
    role.kpis[1] = role.kpis[1].model_copy(update={"objectives": ["no_such_objective"]})
    found = unlinked_kpis(small_framework)
    assert found["kpi"].tolist() == ["win_rate", "pipeline_coverage"]
    assert found["objectives"].tolist() == ["", "no_such_objective"]


def test_a_cycle_of_parents_does_not_hang(small_framework):
    fw = small_framework
    fw.objectives = [fw.objectives[0].model_copy(update={"parent": "skilled_people"}),
                     fw.objectives[1].model_copy(update={"parent": "grow_revenue"})]
    coverage = objective_coverage(fw).set_index("objective")
    assert coverage.loc["grow_revenue", "cascaded_kpis"] == 5


def test_coverage_chart_has_one_bar_pair_per_objective(cascade):
    coverage = objective_coverage(cascade)
    ax = coverage_chart(coverage).axes[0]
    assert len(ax.patches) == 2 * len(cascade.objectives)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[-1] == "↳ grow_revenue" and coverage.loc[0, "objective"] == "grow_revenue"  # first row on top
