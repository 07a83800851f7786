"""Evidence that a framework works, on generated histories with planted answers, and the command on the sample."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from kpi_workbook.analysis.evidence import framework_evidence
from kpi_workbook.analysis.evidence.calibration import score_calibration
from kpi_workbook.analysis.evidence.difficulty import EASIER, HARDER, target_difficulty
from kpi_workbook.analysis.evidence.gaming import (
    ALPHA,
    BUNCHING_EXCESS,
    bunching,
    bunching_findings,
    collapse_findings,
    guardrail_findings,
)
from kpi_workbook.analysis.evidence.leading import ALPHA as LEAD_ALPHA
from kpi_workbook.analysis.evidence.leading import (
    DOES_NOT_LEAD,
    LEADS,
    NO_EVIDENCE,
    candidate_pairs,
    lagged_relation,
    lead_evidence,
    needed_observations,
)
from kpi_workbook.core.errors import InputError
from kpi_workbook.core.model import Framework, KpiDefinition, Metadata, Role, RoleKpi, Team

SEEDS = 200


def _kpi(ident: str, indicator: str = "lagging", polarity: str = "higher_is_better", **extra: object) -> KpiDefinition:
    return KpiDefinition(id=ident, name=ident, polarity=polarity, category="output", indicator=indicator, **extra)


def _framework(kpis: list[KpiDefinition], roles: dict[str, list[RoleKpi]], teams: dict[str, str]) -> Framework:
    """Roles (id → assignments) each working in the team `teams` names for it."""
    return Framework(metadata=Metadata(organization="Test"), kpis=kpis,
                     teams=[Team(id=t, name=t) for t in sorted(set(teams.values()))],
                     roles=[Role(id=r, title=r, teams=[teams[r]], kpis=a) for r, a in roles.items()])


def _people(role: str, team: str, count: int) -> pd.DataFrame:
    ids = [f"{role}-{i:02d}" for i in range(count)]
    return pd.DataFrame({"employee_id": ids, "name": ids, "team": team, "role": role})


def _periods(count: int) -> list[str]:
    return [f"{2018 + i // 4}Q{i % 4 + 1}" for i in range(count)]


def _actuals(people: pd.DataFrame, kpi: str, values: np.ndarray, periods: list[str]) -> pd.DataFrame:
    """Long actuals of one KPI from a people × periods matrix (NaN left out)."""
    frame = pd.DataFrame(values, index=people["employee_id"], columns=periods).stack().rename("value")
    frame = frame.reset_index().rename(columns={"level_1": "period"})
    frame["team"] = frame["employee_id"].map(people.set_index("employee_id")["team"])
    frame["kpi_id"] = kpi
    return frame[["period", "team", "employee_id", "kpi_id", "value"]]


def _lead_case(people: int, periods: int, effect: float, seed: int) -> tuple[Framework, pd.DataFrame, pd.DataFrame]:
    """A leading KPI `calls` that drives `sales` two periods later with `effect`, plus an idle leading KPI."""
    rng = np.random.default_rng(seed)
    kpis = [_kpi("calls", "leading", leads=["sales"]), _kpi("sales"), _kpi("morale", "leading"), _kpi("churn")]
    roles = {"seller": [RoleKpi(kpi=k, weight=25, target=0) for k in ("calls", "sales", "morale", "churn")]}
    framework = _framework(kpis, roles, {"seller": "north"})
    staff = _people("seller", "north", people)
    labels = _periods(periods)
    calls = rng.normal(size=(people, periods))
    sales = rng.normal(size=(people, periods)) + 3
    sales[:, 2:] += effect * calls[:, :-2]
    noise = rng.normal(size=(people, periods))
    actuals = pd.concat([_actuals(staff, "calls", calls, labels), _actuals(staff, "sales", sales, labels),
                         _actuals(staff, "morale", noise, labels), _actuals(staff, "churn", noise[::-1], labels)])
    return framework, actuals.reset_index(drop=True), staff


# --- 1. do the leading KPIs lead? --------------------------------------------------------------------------------

def test_a_leading_kpi_that_drives_its_lagging_kpi_two_periods_later_is_found_at_lag_two():
    framework, actuals, staff = _lead_case(people=30, periods=10, effect=0.8, seed=1)
    evidence = lead_evidence(framework, actuals)
    pair = next(p for p in evidence.pairs if (p.leading, p.lagging) == ("calls", "sales"))
    assert pair.declared and pair.verdict == LEADS
    assert pair.relation.lag == 2 and pair.relation.low > 0.2 and pair.relation.n == 30 * 7
    assert pair.relation.low <= pair.relation.r <= pair.relation.high
    assert evidence.idle_leading == ["morale"]
    assert evidence.undriven_lagging == ["churn"]


def test_a_strong_relation_among_a_few_people_is_not_yet_called_a_lead():
    framework, actuals, _ = _lead_case(people=6, periods=10, effect=1.5, seed=1)
    pair = next(p for p in lead_evidence(framework, actuals).pairs if p.leading == "calls")
    assert pair.relation.units == 6 and pair.relation.r > 0.5 and pair.q < LEAD_ALPHA  # strong, and significant
    assert pair.verdict == NO_EVIDENCE and "only 6 people or teams" in pair.note


def test_an_unrelated_pair_is_found_to_lead_at_the_stated_rate():
    """Over SEEDS independent histories the test says 'leads' about ALPHA (5 %) of the time; measured over 1000
    other seeds: 5.4 %."""
    found = 0
    for seed in range(SEEDS):
        rng = np.random.default_rng(seed)
        relation = lagged_relation(rng.normal(size=(30, 8)), rng.normal(size=(30, 8)), rng, permutations=199,
                                   bootstraps=20)
        found += relation.p < LEAD_ALPHA and relation.r > 0
    assert found / SEEDS <= 2 * LEAD_ALPHA  # 5 % expected; above 10 % has a chance below 0.2 %


def test_with_enough_data_and_no_relation_the_verdict_is_does_not_lead():
    framework, actuals, _ = _lead_case(people=40, periods=8, effect=0.0, seed=3)
    pair = next(p for p in lead_evidence(framework, actuals).pairs if p.leading == "calls")
    assert pair.verdict == DOES_NOT_LEAD and pair.relation.n >= 68 and pair.relation.high < 0.3


def test_a_short_history_has_no_evidence_yet_and_says_how_many_periods_are_needed():
    framework, actuals, _ = _lead_case(people=10, periods=3, effect=0.8, seed=2)
    pair = next(p for p in lead_evidence(framework, actuals).pairs if p.leading == "calls")
    assert pair.verdict == NO_EVIDENCE
    assert pair.relation.n == 10 and pair.periods_needed >= 6  # at least (68 - 10) / 10 pairs a period
    framework, actuals, _ = _lead_case(people=10, periods=2, effect=0.8, seed=2)
    pair = next(p for p in lead_evidence(framework, actuals).pairs if p.leading == "calls")
    assert pair.verdict == NO_EVIDENCE and pair.relation is None and pair.periods_needed == 1


def test_without_leads_the_candidates_are_lagging_kpis_serving_the_same_objective():
    kpis = [_kpi("calls", "leading"), _kpi("sales"), _kpi("cost")]
    roles = {"seller": [RoleKpi(kpi="calls", weight=40, objectives=["grow"]),
                        RoleKpi(kpi="sales", weight=30, objectives=["grow"]),
                        RoleKpi(kpi="cost", weight=30, objectives=["save"])]}
    assert candidate_pairs(_framework(kpis, roles, {"seller": "north"})) == [("calls", "sales", False)]


@pytest.mark.parametrize("field, value", [("leads", ["nope"]), ("guardrail", "nope"), ("leads", ["calls"])])
def test_unknown_or_self_links_are_errors_naming_the_file_kpi_and_field(field, value):
    with pytest.raises(InputError) as error:
        Framework(metadata=Metadata(organization="Test"), kpis=[_kpi("calls", "leading", **{field: value})])
    assert f"kpis.yaml, KPI 'calls', field '{field}'" in str(error.value)


# --- 2. are targets equally hard? --------------------------------------------------------------------------------

TARGETS = {"steady_a": 97.5, "steady_b": 97.5, "steady_c": 97.5, "steady_d": 97.5, "easy": 85.0, "hard": 113.0}


def _difficulty_case(seed: int = 0) -> tuple[Framework, pd.DataFrame, pd.DataFrame]:
    """Six roles with the same history; four targets met about 60 % of the time, one about 93 %, one about 10 %.

    Each role has a higher-is-better KPI and a lower-is-better one mirrored around 100 (same difficulty)."""
    rng = np.random.default_rng(seed)
    kpis = [_kpi("output"), _kpi("errors", polarity="lower_is_better")]
    roles = {role: [RoleKpi(kpi="output", weight=50, target=t), RoleKpi(kpi="errors", weight=50, target=200 - t)]
             for role, t in TARGETS.items()}
    framework = _framework(kpis, roles, {role: f"team_{role}" for role in TARGETS})
    staff = pd.concat([_people(role, f"team_{role}", 12) for role in TARGETS], ignore_index=True)
    labels = _periods(8)
    output = 100 + rng.normal(0, 4, (len(staff), 1)) + rng.normal(0, 9, (len(staff), 8))
    errors = 100 + rng.normal(0, 4, (len(staff), 1)) + rng.normal(0, 9, (len(staff), 8))
    actuals = pd.concat([_actuals(staff, "output", output, labels), _actuals(staff, "errors", errors, labels)])
    return framework, actuals.reset_index(drop=True), staff


def test_roles_with_planted_easy_and_hard_targets_are_flagged_in_the_right_direction():
    framework, actuals, staff = _difficulty_case()
    result = target_difficulty(framework, actuals, staff)
    roles = result.flags[result.flags["level"] == "role"].set_index("group")
    assert sorted(roles.index) == ["easy", "hard"]
    assert roles.loc["easy", "direction"] == EASIER and roles.loc["hard", "direction"] == HARDER
    assert 0.5 < result.organization < 0.62 and result.spread["role"] > 0.7
    changes = result.changes.set_index(["level", "group", "kpi_id"])
    old, new = changes.loc[("role", "easy", "output"), ["target", "even_target"]]
    assert old == 85.0 and new > 95  # a higher target evens out an easy higher-is-better KPI
    old, new = changes.loc[("role", "easy", "errors"), ["target", "even_target"]]
    assert old == 115.0 and new < 105  # and a lower one an easy lower-is-better KPI
    assert roles.loc["easy", "target_changes"] == "; ".join(  # the same changes in words, for reading
        f"{kpi}: {np.format_float_positional(o, 4, unique=False, fractional=False, trim='-')} → "
        f"{np.format_float_positional(n, 4, unique=False, fractional=False, trim='-')}"
        for (_, group, kpi), (o, n) in changes[["target", "even_target"]].iterrows() if group == "easy")
    teams = result.flags[result.flags["level"] == "team"]
    assert sorted(teams["group"]) == ["team_easy", "team_hard"]


def test_a_manager_whose_people_score_higher_is_marked_and_people_are_counted_not_named():
    framework, actuals, staff = _difficulty_case()
    staff["manager"] = np.where(staff["role"] == "easy", "Mia", "Ola")
    frame = score_calibration(framework, actuals, staff)
    managers = frame[frame["level"] == "manager"].set_index("group")
    assert managers.loc["Mia", "mark"] == "high" and managers.loc["Ola", "mark"] == "low"
    assert not frame.astype(str).apply(lambda c: c.str.contains("easy-0")).any().any()


# --- 3. is a KPI being gamed? ------------------------------------------------------------------------------------

def test_values_pushed_over_the_target_are_flagged_as_bunching():
    rng = np.random.default_rng(5)
    values = rng.normal(100, 10, 3000)
    short = (values >= 96) & (values < 100)
    values[short & (rng.random(values.size) < 0.6)] = 100.2  # most of those just short report just over
    result = bunching(values, 100.0)
    assert result.p < ALPHA and result.excess >= BUNCHING_EXCESS and result.above > result.below


def test_bunching_s_p_value_is_the_binomial_tail_of_the_count_above_the_cut():
    """P(at least `above` of the values near the cut fall above it), the share above being the smooth density's."""
    from scipy import stats  # here, not at collection: every test worker would import it
    rng = np.random.default_rng(11)
    for values, cut in ((rng.normal(100, 10, 3000), 100.0), (rng.gamma(4, 5, 2000), 18.0)):
        result = bunching(values, cut)
        near = result.below + result.above
        assert result.p == pytest.approx(stats.binom.sf(result.above - 1, near, result.expected_above / near),
                                         rel=1e-9)


def test_the_observations_needed_follow_the_one_sided_fisher_z_power_formula():
    from scipy import stats
    z = stats.norm.ppf(1 - 0.05) + stats.norm.ppf(0.8)
    assert needed_observations(0.3, 0.05, 0.8) == int(np.ceil((z / np.arctanh(0.3)) ** 2 + 3)) == 68


def test_a_smooth_distribution_is_flagged_as_bunching_at_the_stated_rate():
    """Across SEEDS smooth samples and cuts the check flags at most ALPHA (1 %); measured over 1000 other seeds, and
    over 1000 samples of whole numbers: none."""
    flagged = 0
    for seed in range(SEEDS):
        rng = np.random.default_rng(seed)
        values = rng.normal(100, 10, 3000) if seed % 2 else rng.gamma(4, 5, 3000)
        cut = float(np.percentile(values, rng.uniform(20, 80)))
        result = bunching(values, cut)
        flagged += result.p < ALPHA and result.excess >= BUNCHING_EXCESS
    assert flagged / SEEDS <= 3 * ALPHA


def test_bunching_in_a_roles_values_is_a_finding_about_the_role_not_a_person():
    rng = np.random.default_rng(8)
    framework = _framework([_kpi("output")], {"seller": [RoleKpi(kpi="output", weight=100, threshold=80,
                                                                 target=100)]}, {"seller": "north"})
    staff = _people("seller", "north", 60)
    values = rng.normal(100, 10, (60, 12))
    values[(values >= 96) & (values < 100)] = 100.5
    findings = bunching_findings(framework, _actuals(staff, "output", values, _periods(12)), staff)
    assert [(f.check, f.kpi_id, f.scope) for f in findings] == [("bunching", "output", "role seller")]
    assert "target 100" in findings[0].evidence and "seller-" not in findings[0].evidence


def _guardrail_case(guardrail_trend: float) -> tuple[Framework, pd.DataFrame]:
    rng = np.random.default_rng(4)
    kpis = [_kpi("sales", guardrail="satisfaction"), _kpi("satisfaction")]
    framework = _framework(kpis, {"seller": [RoleKpi(kpi="sales", weight=50), RoleKpi(kpi="satisfaction",
                                                                                      weight=50)]},
                           {"seller": "north"})
    staff = _people("seller", "north", 20)
    steps = np.arange(8)
    sales = 100 + 2.0 * steps + rng.normal(0, 2, (20, 8))
    satisfaction = 80 + guardrail_trend * steps + rng.normal(0, 2, (20, 8))
    labels = _periods(8)
    return framework, pd.concat([_actuals(staff, "sales", sales, labels),
                                 _actuals(staff, "satisfaction", satisfaction, labels)])


def test_a_kpi_improving_while_its_guardrail_worsens_is_a_finding_for_the_team():
    framework, actuals = _guardrail_case(guardrail_trend=-1.5)
    findings = guardrail_findings(framework, actuals)
    assert [(f.check, f.kpi_id, f.scope) for f in findings] == [("guardrail", "sales", "team north")]
    framework, actuals = _guardrail_case(guardrail_trend=1.5)
    assert guardrail_findings(framework, actuals) == []


def test_a_spread_that_collapsed_after_the_target_was_set_is_a_finding():
    rng = np.random.default_rng(6)
    framework = _framework([_kpi("output")], {"seller": [RoleKpi(kpi="output", weight=100, target=100)]},
                           {"seller": "north"})
    staff = _people("seller", "north", 15)
    labels = _periods(8)
    spread = np.where(np.arange(8) >= 4, 2.0, 10.0)
    actuals = _actuals(staff, "output", 100 + rng.normal(size=(15, 8)) * spread, labels)
    findings = collapse_findings(framework, actuals, staff, labels[4])
    assert [(f.check, f.scope) for f in findings] == [("variance collapse", "role seller")]
    steady = _actuals(staff, "output", 100 + rng.normal(size=(15, 8)) * 10, labels)
    assert collapse_findings(framework, steady, staff, labels[4]) == []
    assert collapse_findings(framework, actuals, staff, None) == []


def test_all_three_questions_run_together_on_a_generated_history():
    framework, actuals, staff = _lead_case(people=30, periods=10, effect=0.8, seed=1)
    evidence = framework_evidence(framework, actuals, staff)
    assert [p.verdict for p in evidence.leads.pairs if p.leading == "calls"] == [LEADS]
    assert evidence.since is None and len(evidence.difficulty.attainment) == 1


# --- the command -------------------------------------------------------------------------------------------------

def test_the_command_prints_the_three_sections_with_their_methods_on_the_sample(cli, sample_workspace):
    code, out, err = cli("evidence", "-w", sample_workspace)
    assert code == 0, err
    for heading in ("1. Do the leading KPIs lead?", "2. Are targets equally hard?", "3. Is a KPI being gamed?"):
        assert heading in out
    assert "shuffle which person's leading history" in out and "Tukey fences" in out and "binomial" in out
    assert "pipeline_coverage" in out and "Organization:" in out
    code, out, err = cli("evidence", "-w", sample_workspace, "--format", "json")
    assert code == 0, err
    sections = json.loads(out)
    assert {"leading", "targets", "target_flags", "target_changes", "calibration", "gaming"} <= set(sections)
    assert {p["verdict"] for p in sections["leading"]} <= {LEADS, NO_EVIDENCE, DOES_NOT_LEAD}
