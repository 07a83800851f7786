"""Step 3: role KPI table, category balance, leading/lagging mix, findings per role, library suggestions."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from kpi_workbook.analysis.evidence.gaming import guardrail_findings
from kpi_workbook.analysis.evidence.leading import lead_evidence
from kpi_workbook.core.measures import Measure
from kpi_workbook.core.model import Framework, Responsibility
from kpi_workbook.core.paths import SAMPLE_ORG_DIR
from kpi_workbook.steps import open_step
from kpi_workbook.steps.context import StepContext
from kpi_workbook.steps.design_evidence import (
    APART,
    DECLARED,
    DesignEvidence,
    evidence_view,
    guardrails_report,
    lead_pairs_report,
    scope_evidence,
)
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
from kpi_workbook.workspace.files import ACTUALS_DB, load_framework
from kpi_workbook.workspace.opener import open_workspace


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
    assert "balance.weights" in set(mine["code"])
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


# --- step 3's evidence: the pairs and guardrails the analysis finds, for the scope's roles -----------------------


@pytest.fixture(scope="module")
def sample_copy(tmp_path_factory) -> Path:
    """A copy of the sample organization with its actuals store built."""
    root = tmp_path_factory.mktemp("design") / "sample_org"
    shutil.copytree(SAMPLE_ORG_DIR, root, ignore=shutil.ignore_patterns(f"{ACTUALS_DB}*"))
    open_workspace(root, notice=lambda _: None).store().periods()
    return root


@pytest.fixture(scope="module")
def sales(sample_copy) -> tuple[StepContext, DesignEvidence]:
    ctx = open_step(sample_copy, "sales")
    return ctx, scope_evidence(ctx)


def _role_kpis(root: Path, team: str) -> set[str]:
    """The KPIs of the team's roles, read from the role files."""
    roles = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in (root / "roles").glob("*.yaml")]
    return {k["kpi"] for r in roles if team in r["teams"] for k in r["kpis"]}


def test_step3_shows_the_pairs_the_analysis_finds_for_the_teams_kpis(sample_copy, sales):
    ctx, evidence = sales
    used = _role_kpis(sample_copy, "sales")
    found = lead_evidence(ctx.framework, ctx.actuals_to_date)
    expected = {(p.leading, p.lagging, p.verdict, p.relation.lag if p.relation else None) for p in found.pairs
                if {p.leading, p.lagging} & used}
    shown = evidence.pairs
    assert set(zip(shown["leading"], shown["lagging"], shown["verdict"], shown["lag"].astype("Int64").
                   astype(object).where(shown["tested"], None), strict=True)) == expected
    names = {k.id: k.name for k in ctx.framework.kpis}
    assert evidence.idle_leading == [names[k] for k in found.idle_leading if k in used]
    assert evidence.undriven_lagging == [names[k] for k in found.undriven_lagging if k in used]


def test_step3_report_names_the_tested_pairs_and_counts_the_others(sales):
    ctx, evidence = sales
    html = lead_pairs_report(evidence.pairs)._repr_html_()
    tested = evidence.pairs[evidence.pairs["tested"]]
    assert f"{len(tested)} tested pair" in html
    assert f"{len(evidence.pairs) - len(tested)} more pair" in html
    for leading, lagging in zip(tested["leading"], tested["lagging"], strict=True):
        assert ctx.framework.kpi(leading).name in html and ctx.framework.kpi(lagging).name in html
    declared = [(k.id, other) for k in ctx.framework.kpis for other in k.leads]
    assert {(a, b) for a, b, p in zip(tested["leading"], tested["lagging"], tested["pairing"], strict=True)
            if p == DECLARED} == {pair for pair in declared if pair in set(zip(tested["leading"], tested["lagging"],
                                                                              strict=True))}


def test_step3_guardrails_show_the_finding_in_its_team_by_name(sample_copy):
    ctx = open_step(sample_copy, "")
    evidence = scope_evidence(ctx)
    findings = guardrail_findings(ctx.framework, ctx.actuals_to_date)
    declared = {(k.id, k.guardrail) for k in ctx.framework.kpis if k.guardrail}
    rows = evidence.guardrails
    assert set(zip(rows["kpi"], rows["guardrail"], strict=True)) == declared
    apart = rows[rows["status"] == APART]
    teams = {t.id: t.name for t in ctx.framework.teams}
    assert sorted(zip(apart["kpi"], apart["where"], strict=True)) == sorted(
        (f.kpi_id, f"team {teams[f.scope.removeprefix('team ')]}") for f in findings)
    html = guardrails_report(rows)._repr_html_()
    assert all(ctx.framework.kpi(k).name in html for k, _ in declared)


def test_the_live_view_draws_the_evidence_of_the_framework_it_is_given(sample_copy, sales):
    ctx, evidence = sales
    draw = evidence_view(ctx, evidence)
    shown = draw(ctx.framework)[1].frame
    assert shown[["leading", "lagging", "verdict"]].equals(lead_pairs_report(evidence.pairs).frame[
        ["leading", "lagging", "verdict"]])
    # a KPI that names a lagging KPI in `leads` makes their tested pair a declared one
    assert set(shown.loc[shown["pairing"] != DECLARED, "leading"]) == {"learning_plan_completion", "mentoring_hours"}
    learning = ctx.framework.kpi("learning_plan_completion").model_copy(update={"leads": ["collaboration_rating"]})
    edited = ctx.framework.model_copy(update={"kpis": [learning if k.id == learning.id else k
                                                       for k in ctx.framework.kpis]})
    pairs = draw(edited)[1].frame
    declared = pairs[pairs["pairing"] == DECLARED]
    assert set(zip(declared["leading"], declared["lagging"], strict=True)) == {
        ("pipeline_coverage", "quota_attainment"), ("learning_plan_completion", "collaboration_rating")}
