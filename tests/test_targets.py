"""Evidence-based targets: each method, polarity mirroring, attainment probability, verdicts, and the sample org."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi_workbook.analysis.history import kpi_history, role_history
from kpi_workbook.analysis.target_methods import METHODS
from kpi_workbook.analysis.targets import (
    CHALLENGING,
    NO_DATA,
    SUGGESTION_COLUMNS,
    TOO_EASY,
    UNREALISTIC,
    apply_suggestion,
    attainment_probability,
    bands_text,
    history_frame,
    suggest_for_framework,
    suggest_targets,
    verdict,
)
from kpi_workbook.analysis.targets.methods import METHOD_REGISTRY, TrendOptions
from kpi_workbook.core.model import Polarity
from kpi_workbook.core.paths import SAMPLE_ORG_DIR
from kpi_workbook.sample import generate_actuals, generate_employees, quarter_labels, write_sample
from kpi_workbook.workspace.files import load_framework

PERIODS = quarter_labels("2024Q1", 8)
PERIOD_VALUES = [10.0, 12.0, 13.0, 15.0, 16.0, 18.0, 19.0, 21.0]  # one value per period, rising


def people_history(level: float = 50.0, slope: float = 0.0, spread: float = 5.0, people: int = 20,
                   periods: list[str] = PERIODS, seed: int = 1) -> pd.DataFrame:
    """Values per person and period: a level, a linear trend per period and normal noise."""
    rng = np.random.default_rng(seed)
    rows = [(p, f"E{j:03d}", level + slope * i + rng.normal(0, spread))
            for i, p in enumerate(periods) for j in range(people)]
    return pd.DataFrame(rows, columns=["period", "employee_id", "value"])


@pytest.fixture(scope="module")
def sample():
    framework = load_framework(SAMPLE_ORG_DIR)
    employees = generate_employees(framework, 180, 42)
    actuals = generate_actuals(framework, employees, PERIODS, 42)
    return framework, employees, actuals


# --- probability and verdict ---------------------------------------------------------------------------------------


def test_attainment_probability_per_polarity():
    values = [1, 2, 3, 4, np.nan]
    assert attainment_probability(values, "higher_is_better", target=3) == 0.5
    assert attainment_probability(values, "lower_is_better", target=3) == 0.75
    assert attainment_probability(values, "within_range", target_range=(2, 3)) == 0.5
    assert attainment_probability([], "higher_is_better", target=3) is None
    assert attainment_probability(values, "higher_is_better") is None


def test_verdict_edges_follow_the_achievable_band():
    assert verdict(0.5) == CHALLENGING and verdict(0.8) == CHALLENGING
    assert verdict(0.81) == TOO_EASY
    assert verdict(0.49) == UNREALISTIC
    assert verdict(None) == NO_DATA
    assert verdict(0.7, low=0.75, high=0.9) == UNREALISTIC


# --- methods ---------------------------------------------------------------------------------------------------


def test_percentile_bands_are_good_direction_percentiles():
    history = people_history()
    values = history["value"].to_numpy()
    s = suggest_targets(history, "higher_is_better", "percentile", round_values=False)
    assert (s.threshold, s.target, s.stretch) == pytest.approx(tuple(np.percentile(values, [25, 40, 80])))
    assert s.probability == pytest.approx(0.6, abs=0.01)
    assert s.verdict == CHALLENGING
    assert s.observations == len(values) and s.periods == 8


def test_lower_is_better_mirrors_higher_is_better():
    history = people_history()
    mirrored = history.assign(value=-history["value"])
    for method in ("percentile", "baseline", "trend", "peer"):
        high = suggest_targets(history, "higher_is_better", method, round_values=False)
        low = suggest_targets(mirrored, "lower_is_better", method, round_values=False)
        assert (low.threshold, low.target, low.stretch) == pytest.approx((-high.threshold, -high.target, -high.stretch))
        assert low.probability == pytest.approx(high.probability)
        assert low.threshold >= low.target >= low.stretch


def test_within_range_gets_nested_ranges_and_share_inside():
    history = people_history(level=80, spread=4)
    s = suggest_targets(history, "within_range", "percentile")
    (lo, hi), (outer_lo, outer_hi) = s.target_range, s.threshold_range
    assert outer_lo <= lo < hi <= outer_hi
    values = history["value"].to_numpy()
    assert s.probability == pytest.approx(np.mean((values >= lo) & (values <= hi)))
    assert s.threshold is None and s.target is None


def test_baseline_improves_the_last_median():
    history = people_history(level=100, spread=1)
    last = history.loc[history["period"] == PERIODS[-1], "value"].median()
    s = suggest_targets(history, "higher_is_better", "baseline", improvement=0.1, round_values=False)
    assert s.target == pytest.approx(last * 1.1)
    assert s.threshold == pytest.approx(last * 0.9) and s.stretch == pytest.approx(last * 1.2)
    lower = suggest_targets(history, "lower_is_better", "baseline", improvement=0.1, round_values=False)
    assert lower.target == pytest.approx(last * 0.9)


def test_baseline_on_a_negative_base_still_improves_and_says_so():
    s = suggest_targets([-10.0, -8.0, -6.0, -4.0], "higher_is_better", "baseline", round_values=False)
    assert s.target == pytest.approx(-4 + 0.2)
    assert any("negative" in note for note in s.notes)


def test_baseline_of_zero_is_reported():
    s = suggest_targets([0.0, 0.0, 0.0, 0.0], "lower_is_better", "baseline")
    assert s.target == 0
    assert any("baseline is 0" in note for note in s.notes)


def test_trend_projects_the_distribution_to_the_next_period():
    history = people_history(level=50, slope=3, spread=2, people=30)
    s = suggest_targets(history, "higher_is_better", "trend", round_values=False)
    projected_median = 50 + 3 * len(PERIODS)
    assert np.median(s.reference) == pytest.approx(projected_median, abs=1.5)
    assert s.target > history["value"].max() - 6  # far above the all-time percentile target
    assert s.probability == pytest.approx(0.6, abs=0.02)
    flat = suggest_targets(history, "higher_is_better", "percentile")
    assert s.target > flat.target + 5


def test_trend_going_the_wrong_way_is_noted():
    s = suggest_targets(people_history(slope=-2), "higher_is_better", "trend")
    assert any("wrong way" in note for note in s.notes)


def test_trend_needs_two_periods():
    s = suggest_targets([5.0], "higher_is_better", "trend")
    assert s.target is None and s.verdict == NO_DATA
    assert any("at least 2 periods" in note for note in s.notes)


def test_trend_projection_below_zero_is_clipped_for_non_negative_kpis():
    s = suggest_targets([10.0, 7.0, 4.0, 1.0], "lower_is_better", "trend")
    assert min(s.threshold, s.target, s.stretch) >= 0
    assert any("clipped at 0" in note for note in s.notes)


def test_peer_benchmark_uses_each_peer_once_in_the_latest_periods():
    history = people_history(level=60, slope=1, spread=5, people=12)
    s = suggest_targets(history, "higher_is_better", "peer", latest=2, round_values=False)
    latest = history[history["period"].isin(PERIODS[-2:])].groupby("employee_id")["value"].mean()
    assert s.observations == 12
    assert s.target == pytest.approx(latest.median())
    assert s.stretch == pytest.approx(np.percentile(latest, 75))
    assert s.probability == pytest.approx(0.5)


def test_peer_needs_employees():
    s = suggest_targets(pd.Series([1.0, 2.0, 3.0, 4.0], index=PERIODS[:4]), "higher_is_better", "peer")
    assert s.target is None
    assert any("per-employee" in note for note in s.notes)


def test_fixed_bands_are_judged_on_history():
    history = people_history(level=50, spread=5)
    s = suggest_targets(history, "higher_is_better", "fixed", threshold=40, target=45, stretch=60)
    assert (s.threshold, s.target, s.stretch) == (40, 45, 60)
    assert s.probability == pytest.approx((history["value"] >= 45).mean())
    assert s.verdict == TOO_EASY
    wrong = suggest_targets(history, "higher_is_better", "fixed", threshold=60, target=45, stretch=40)
    assert any("out of order" in note for note in wrong.notes)


def test_probability_for_another_target_uses_the_same_evidence():
    history = people_history()
    s = suggest_targets(history, "higher_is_better", "percentile")
    assert s.probability_for(target=-1e9) == 1.0
    assert s.probability_for(target=history["value"].median()) == pytest.approx(0.5, abs=0.01)


# --- gaps, short and missing history -----------------------------------------------------------------------------


def test_gaps_and_short_history_are_said():
    s = suggest_targets(pd.Series([10.0, np.nan, 12.0], index=PERIODS[:3]), "higher_is_better", "percentile",
                        periods=PERIODS[:4])
    notes = " | ".join(s.notes)
    assert "1 missing value(s)" in notes
    assert "no data in period(s) 2024Q2, 2024Q4" in notes
    assert "short history: 2 period(s)" in notes
    assert "only 2 observation(s)" in notes


def test_no_history_gives_no_data():
    for history in ([], [np.nan, np.nan]):
        s = suggest_targets(history, "higher_is_better", "percentile")
        assert s.verdict == NO_DATA and s.target is None and s.probability is None
        assert any("no history" in note for note in s.notes)


def test_history_frame_orders_periods_chronologically():
    frame = history_frame(pd.DataFrame({"period": ["2025Q1", "2024Q4", "2024Q3"], "value": [3, 2, 1]}))
    assert list(frame["period"].astype(str)) == ["2024Q3", "2024Q4", "2025Q1"]
    with pytest.raises(ValueError, match="value"):
        history_frame(pd.DataFrame({"period": ["2025Q1"], "amount": [1]}))


def test_unknown_method_or_option_is_refused():
    with pytest.raises(ValueError, match="unknown method 'magic'"):
        suggest_targets([1.0, 2.0], "higher_is_better", "magic")
    with pytest.raises(ValueError, match="method 'peer' has no option.s. window; its options: latest"):
        suggest_targets([1.0, 2.0], "higher_is_better", "peer", window=2)


def test_every_method_declares_its_options_and_is_listed_by_name():
    assert tuple(METHOD_REGISTRY) == METHODS  # the names the CLI offers without loading the methods
    assert METHOD_REGISTRY["trend"].option_names == ["window", "horizon", "levels", "range_levels", "outer_levels"]
    assert METHOD_REGISTRY["trend"].options_from({"horizon": 2}) == TrendOptions(window=8, horizon=2)
    for name, method in METHOD_REGISTRY.items():
        assert method.name == name
        with pytest.raises(ValueError, match=f"method '{name}' has no option.s. nonsense"):
            suggest_targets(PERIOD_VALUES, "higher_is_better", name, nonsense=1)


def test_a_declared_option_changes_the_suggestion():
    history = pd.Series(PERIOD_VALUES, index=PERIODS)
    near, far = (suggest_targets(history, "higher_is_better", "trend", horizon=h, round_values=False) for h in (1, 4))
    assert far.target > near.target  # a rising history projected further ahead asks for more


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e4, 1e4, allow_nan=False), min_size=1, max_size=40),
       st.sampled_from(["percentile", "baseline", "trend"]))
def test_bands_are_ordered_and_probability_is_a_share(values, method):
    for polarity in ("higher_is_better", "lower_is_better"):
        s = suggest_targets(values, polarity, method)
        if s.target is None:
            continue
        ordered = [s.threshold, s.target, s.stretch]
        assert ordered == sorted(ordered, reverse=polarity == "lower_is_better")
        assert 0.0 <= s.probability <= 1.0


# --- the whole framework on the sample organization ----------------------------------------------------------------


def test_role_history_gives_team_level_values_to_the_team_roles(sample):
    framework, employees, actuals = sample
    history = role_history(framework, actuals, employees)
    availability = history[history["kpi_id"] == "system_availability"]
    assert not availability.empty and (availability["employee_id"] == "").all()
    assigned = {(a.role, a.kpi.kpi) for a in framework.assignments}
    assert set(zip(history["role"], history["kpi_id"], strict=True)) <= assigned


def test_suggest_for_framework_covers_every_assignment_and_method(sample):
    framework, employees, actuals = sample
    table = suggest_for_framework(framework, actuals, employees, method=["percentile", "peer"])
    assert list(table.columns) == SUGGESTION_COLUMNS
    assert len(table) == 2 * len(framework.assignments)
    judged = table["probability"].dropna()
    assert judged.between(0, 1).all() and len(judged) >= len(table) - 12  # no peers for the 12 team-level ones
    by_kpi = table[table["method"] == "percentile"].set_index(["role", "kpi_id"])
    assert by_kpi.loc[("sales_development_rep", "meetings_booked"), "current_verdict"] == TOO_EASY
    assert by_kpi.loc[("recruiter", "time_to_hire"), "current_verdict"] == UNREALISTIC
    assert by_kpi.loc[("recruiter", "time_to_hire"), "current_probability"] == 0.0
    suggested = by_kpi.loc[("recruiter", "time_to_hire")]
    assert suggested["verdict"] == CHALLENGING and suggested["target"] > suggested["current_target"]
    capacity = by_kpi.loc[("operations_manager", "capacity_utilization")]
    assert capacity["target_range"][0] < capacity["target_range"][1]
    assert " in " in bands_text(capacity.to_dict())


def test_suggest_for_framework_limits_roles_and_refuses_unknown_methods(sample):
    framework, employees, actuals = sample
    table = suggest_for_framework(framework, actuals, employees, roles=["recruiter"])
    assert set(table["role"]) == {"recruiter"}
    with pytest.raises(ValueError, match="unknown method"):
        suggest_for_framework(framework, actuals, employees, method="guess")


def test_fixed_method_in_the_framework_judges_the_current_bands(sample):
    framework, employees, actuals = sample
    table = suggest_for_framework(framework, actuals, employees, method="fixed")
    same = table.dropna(subset=["current_target"])
    assert (same["target"] == same["current_target"]).all()
    assert (same["probability"].fillna(-1) == same["current_probability"].fillna(-1)).all()


def test_a_kpi_without_actuals_is_no_data(sample):
    framework, employees, actuals = sample
    without = actuals[actuals["kpi_id"].astype(str) != "win_rate"]
    table = suggest_for_framework(framework, without, employees, roles=["account_executive"])
    row = table.set_index("kpi_id").loc["win_rate"]
    assert row["verdict"] == NO_DATA and row["current_verdict"] == NO_DATA and "no history" in row["notes"]


def test_apply_suggestion_keeps_the_assignment_and_sets_the_bands(sample):
    framework, employees, actuals = sample
    assignment = next(a.kpi for a in framework.assignments if a.kpi.kpi == "time_to_hire")
    history = kpi_history(framework, actuals, employees, "recruiter", "time_to_hire")
    assert list(history.columns) == ["period", "employee_id", "value"] and history["employee_id"].str.len().gt(0).all()
    suggestion = suggest_targets(history, Polarity.LOWER_IS_BETTER)
    updated = apply_suggestion(assignment, suggestion)
    assert updated.target == suggestion.target and updated.weight == assignment.weight
    assert updated.objectives == assignment.objectives


# --- CLI -----------------------------------------------------------------------------------------------------------


def test_cli_targets_prints_suggestions_for_a_team(tmp_path, cli):
    workspace = tmp_path / "ws"
    write_sample(workspace)
    code, out, err = cli("targets", "--workspace", workspace, "--team", "hr", "--method", "percentile",
                         "--method", "peer")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["role", "kpi", "method", "current"]
    assert any("time_to_hire" in line and "50/42/35" in line and "unrealistic" in line for line in lines)
    code, out, err = cli("targets", "--workspace", workspace, "--team", "hr", "--format", "csv")
    assert code == 0, err
    table = pd.read_csv(io.StringIO(out))
    assert list(table.columns) == SUGGESTION_COLUMNS and set(table["role"]) == {"hr_business_partner", "recruiter"}
    code, _, err = cli("targets", "--workspace", workspace, "--team", "legal")
    assert code == 2 and "unknown team 'legal'" in err
    framework = load_framework(workspace)
    technology = [t.id for t in framework.teams if t.department == "Technology"]
    code, out, err = cli("targets", "-w", workspace, "--department", "Technology", "--format", "csv")
    assert code == 0, err
    roles = {r.id for r in framework.roles if set(r.teams) & set(technology)}
    assert set(pd.read_csv(io.StringIO(out))["role"]) == roles


def test_one_evidence_serves_every_method_and_is_left_as_it_was():
    from kpi_workbook.analysis.targets.evidence import Evidence
    from kpi_workbook.analysis.targets.fitting import suggest_from

    framework = load_framework(SAMPLE_ORG_DIR)
    actuals = pd.read_csv(SAMPLE_ORG_DIR / "actuals.csv", dtype={"employee_id": str})
    employees = pd.read_csv(SAMPLE_ORG_DIR / "employees.csv", dtype=str)
    history = role_history(framework, actuals, employees)
    compared = 0
    for (role, kpi), rows in history.groupby(["role", "kpi_id"]):
        polarity = framework.kpi(kpi).polarity
        rows = rows[["period", "employee_id", "value"]].iloc[: len(rows) // 2]  # gaps and short histories too
        evidence = Evidence.of(rows, polarity, None)
        notes = list(evidence.notes)
        for method in [m for m in METHODS if m != "fixed"]:
            alone = suggest_targets(rows, polarity, method, fit_band=True)
            shared = suggest_from(evidence, polarity, method, fit_band=True)
            assert (shared.as_row(), shared.probability, shared.notes) == (alone.as_row(), alone.probability,
                                                                         alone.notes), (role, kpi, method)
            compared += 1
        assert evidence.notes == notes
    assert compared > 100
