"""Step 3: role KPI table, category balance, leading/lagging mix, findings per role, library suggestions."""

from __future__ import annotations

import pytest

from kpi_workbook.core.measures import Measure
from kpi_workbook.core.model import Framework, Responsibility
from kpi_workbook.steps.kpi_design import (
    BAND_COLUMNS,
    CATEGORIES,
    DESIGN_COLUMNS,
    balance_chart,
    category_balance,
    design_findings,
    indicator_mix,
    measure_table,
    responsibility_suggestions,
    role_kpi_table,
)
from kpi_workbook.workspace.files import load_framework


def test_role_kpi_table_joins_definitions_and_assignments(small_framework: Framework):
    table = role_kpi_table(small_framework).set_index("kpi")
    assert len(table) == 5 and set(DESIGN_COLUMNS + BAND_COLUMNS) <= set(table.reset_index().columns)
    assert table.loc["win_rate", ["category", "indicator", "weight", "threshold", "target", "stretch"]].tolist() == [
        "output", "lagging", 30.0, 20.0, 25.0, 30.0]
    assert table.loc["average_discount", ["target_range", "threshold_range"]].tolist() == ["5–10", "2–15"]
    assert table.loc["training_hours", "objectives"] == "skilled_people"


def test_unknown_kpi_shows_with_empty_classification(small_framework):
    role = small_framework.roles[0]
    role.kpis[0] = role.kpis[0].model_copy(update={"kpi": "not_defined"})
    table = role_kpi_table(small_framework).set_index("kpi")
    assert table.loc["not_defined", ["name", "category", "weight"]].tolist() == ["", "", 30.0]


def test_category_balance_shares_of_weight(small_framework):
    balance = category_balance(role_kpi_table(small_framework)).set_index("role")
    row = balance.loc["account_executive"]
    assert row["kpis"] == 5 and row["weight_total"] == 100
    assert [row[f"{c} %"] for c in CATEGORIES] == [30.0, 15.0, 40.0, 0.0, 15.0]


def test_indicator_mix_on_the_sample_and_a_role_without_leading_kpis(sample_workspace, small_framework):
    fw = load_framework(sample_workspace)
    mix = indicator_mix(role_kpi_table(fw))
    assert len(mix) == len(fw.roles)
    assert (mix["leading"] + mix["lagging"]).tolist() == [len(r.kpis) for r in fw.roles]
    role = small_framework.roles[0]
    role.kpis = [k for k in role.kpis if k.kpi not in ("pipeline_coverage", "training_hours")]
    row = indicator_mix(role_kpi_table(small_framework)).iloc[0]
    assert (row["leading"], row["lagging"], row["development"], row["mixes_leading_and_lagging"]) == (0, 3, 0, False)


def test_design_findings_are_limited_to_the_roles(sample_workspace):
    fw = load_framework(sample_workspace)
    role = fw.role("account_executive")
    role.kpis[0] = role.kpis[0].model_copy(update={"weight": role.kpis[0].weight + 7})
    everything = design_findings(fw)
    mine = design_findings(fw, [role])
    assert set(mine["role"]) == {"account_executive"}
    assert "balance.weights" in set(mine["rule"])
    assert len(everything) > len(mine)
    assert mine["severity"].astype(str).iloc[0] == "error"  # errors first


@pytest.mark.parametrize(("description", "outcome", "expected"), [
    ("Close new business", "Quarterly quota met and at least one in four qualified deals won",
     {"win_rate", "quota_attainment"}),
    ("Fill open positions quickly", "Offers accepted within 45 days of opening", {"time_to_hire",
                                                                                 "offer_acceptance_rate"}),
    ("Ship changes safely and often", "Weekly deployments, few failed changes",
     {"deployment_frequency", "change_failure_rate"}),
])
def test_suggestions_rank_matching_library_kpis_first(small_framework, description, outcome, expected):
    role = small_framework.roles[0]
    role.responsibilities = [Responsibility(id="r1", description=description, expected_outcome=outcome)]
    found = responsibility_suggestions(small_framework, top=5)
    assert found["rank"].tolist() == [1, 2, 3, 4, 5]
    assert found["similarity"].is_monotonic_decreasing
    assert expected <= set(found["kpi_id"])


def test_suggestions_mark_kpis_the_role_already_has(sample_workspace):
    fw = load_framework(sample_workspace)
    roles = fw.roles_of_team("sales")
    found = responsibility_suggestions(fw, roles, top=3)
    assert len(found) == 3 * sum(len(r.responsibilities) for r in roles)
    hit = found[(found["role"] == "account_executive") & (found["kpi_id"] == "pipeline_coverage")
                & (found["responsibility"] == "build_pipeline")]
    assert hit[["in_role", "measures_it"]].values.tolist() == [[True, True]]
    assert not found.loc[~found["in_role"], "measures_it"].any()


def test_no_responsibilities_give_an_empty_table(small_framework):
    small_framework.roles[0].responsibilities = []
    assert responsibility_suggestions(small_framework).empty


def test_balance_chart_stacks_the_categories(small_framework):
    ax = balance_chart(role_kpi_table(small_framework)).axes[0]
    assert len(ax.patches) == len(CATEGORIES)
    assert sum(p.get_width() for p in ax.patches) == 100


def test_measure_table_names_a_derived_kpis_operands_and_leaves_out_undefined_ids(small_framework):
    kpis = {k.id: i for i, k in enumerate(small_framework.kpis)}
    derived = Measure(derived="win_rate / training_hours", per="team")
    small_framework.kpis[kpis["pipeline_coverage"]] = small_framework.kpis[kpis["pipeline_coverage"]].model_copy(
        update={"measure": derived})
    role = small_framework.roles[0]
    role.kpis[1:2] = [role.kpis[1], role.kpis[1].model_copy(update={"kpi": "not_defined"})]
    table = measure_table(small_framework).set_index("kpi")
    assert "not_defined" not in table.index and table.index[0] == "pipeline_coverage"
    assert table.loc["pipeline_coverage", ["origin", "measure", "source"]].tolist() == [
        "computed", "derived: win_rate / training_hours, per team", "the KPIs Win rate, Training hours"]
    assert table.loc["win_rate", ["origin", "measure", "source"]].tolist() == ["entered by hand"] * 2 + ["CRM"]
