"""The periodic review on the sample organization: scorecards, trends, every flag, and the review CLI."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from kpi_workbook.analysis.review import (
    FLAG_COLUMNS,
    RECOMMENDATIONS,
    format_flags,
    kpi_scorecard,
    review_flags,
    scorecard,
    trends,
)
from kpi_workbook.analysis.scoring import roll_up, score_actuals, with_departments
from kpi_workbook.core.errors import InputError
from kpi_workbook.sample import generate_actuals, generate_employees, quarter_labels, write_sample
from kpi_workbook.workspace.files import load_framework

PERIODS = quarter_labels("2024Q1", 8)
LAST = PERIODS[-1]


def keys(flags: pd.DataFrame, flag: str) -> set[tuple[str, str, str]]:
    rows = flags[flags["flag"] == flag]
    return set(zip(rows["team"], rows["role"], rows["kpi_id"], strict=True))


# --- scorecards and trends -----------------------------------------------------------------------------------------


def test_scorecards_per_level(scored_sample):
    framework, employees, _, scores = scored_sample
    people = scorecard(scores, LAST, "employee")
    assert len(people) == len(employees) and people["employee_id"].is_unique
    assert list(people.columns) == ["team", "role", "employee_id", "score", "coverage", "status"]
    teams = scorecard(scores, LAST, "team")
    assert set(teams["team"]) == {t.id for t in framework.teams}
    organization = scorecard(scores, LAST, "organization")
    assert len(organization) == 1
    expected = roll_up(scores[scores["period"] == LAST], ())["score"].iloc[0]
    assert organization["score"].iloc[0] == pytest.approx(expected)
    roles = scorecard(scores, "2025-Q4", "role")
    assert ("sales", "account_executive") in set(zip(roles["team"], roles["role"], strict=True))


def test_scorecard_refuses_unknown_periods_and_levels(scored_sample):
    *_, scores = scored_sample
    with pytest.raises(InputError, match="no scores for period '2030Q1'"):
        scorecard(scores, "2030Q1")
    with pytest.raises(ValueError, match="unknown level 'division'; choose one of .*department"):
        scorecard(scores, LAST, "division")


def test_department_scorecard_rolls_up_the_teams_of_each_department(scored_sample):
    framework, *_, scores = scored_sample
    card = scorecard(with_departments(scores, framework), LAST, "department").set_index("department")
    assert set(card.index) == {t.department for t in framework.teams}
    for name in card.index:
        teams = [t.id for t in framework.teams if t.department == name]
        rows = scores[(scores["period"] == LAST) & scores["team"].isin(teams)]
        assert card.loc[name, "score"] == pytest.approx(roll_up(rows, ())["score"].iloc[0])


def test_kpi_scorecard_has_the_bands_of_each_assignment(scored_sample):
    framework, employees, _, scores = scored_sample
    card = kpi_scorecard(scores, framework, LAST)
    assert (card["period"] == LAST).all()
    row = card[(card["role"] == "account_executive") & (card["kpi_id"] == "win_rate")].iloc[0]
    assert (row["threshold"], row["target"], row["stretch"]) == (20, 25, 32) and row["kpi_name"] == "Win rate"
    capacity = card[card["kpi_id"] == "capacity_utilization"].iloc[0]
    assert (capacity["range_low"], capacity["range_high"]) == (75, 85)


def test_trends_are_long_and_chronological(scored_sample):
    _, _, _, scores = scored_sample
    table = trends(scores, "team")
    assert list(table["period"].unique()) == PERIODS
    assert len(table) == 8 * len(PERIODS)
    assert set(trends(scores, "organization")["organization"]) == {"organization"}


# --- flags ---------------------------------------------------------------------------------------------------------


def test_sample_flags_find_the_deliberate_patterns(scored_sample):
    framework, _, _, scores = scored_sample
    flags = review_flags(framework, scores, LAST)
    assert list(flags.columns) == FLAG_COLUMNS
    assert keys(flags, "target_too_easy") == {("sales", "sales_development_rep", "meetings_booked"),
                                              ("it", "site_reliability_engineer", "system_availability"),
                                              # one drawn headcount per team, inside its staffing plan's range
                                              ("sales", "sales_manager", "headcount"),
                                              ("marketing", "marketing_manager", "headcount"),
                                              # the sample's planted easier targets of marketing specialists
                                              ("marketing", "marketing_specialist", "collaboration_rating")}
    assert keys(flags, "never_met") == {("hr", "recruiter", "time_to_hire"),
                                        ("finance", "accounts_receivable_specialist", "days_sales_outstanding")}
    assert ("marketing", "marketing_specialist", "content_engagement_rate") in keys(flags, "no_data")
    assert {r for _, r, k in keys(flags, "no_variation") if k == "values_behaviour_rating"} == {
        a.role for a in framework.assignments if a.kpi.kpi == "values_behaviour_rating"}
    easy = flags[flags["kpi_id"] == "meetings_booked"].iloc[0]
    assert easy["severity"] == "warning" and "8 periods running" in easy["message"]
    assert easy["objective"] and easy["recommendation"] == RECOMMENDATIONS["target_too_easy"]
    assert flags["severity"].astype(str).tolist() == sorted(flags["severity"].astype(str), key=["warning",
                                                                                                  "info"].index)


def test_streaks_need_n_periods_running(scored_sample):
    framework, _, _, scores = scored_sample
    assert keys(review_flags(framework, scores, "2024Q2", n=3), "target_too_easy") == set()
    early = {k for _, _, k in keys(review_flags(framework, scores, "2024Q2", n=2), "target_too_easy")}
    assert {"meetings_booked", "system_availability"} <= early


def test_a_period_short_of_the_stretch_breaks_the_streak(scored_sample):
    framework, employees, actuals, _ = scored_sample
    broken = actuals.copy()
    hit = (broken["kpi_id"] == "meetings_booked") & (broken["period"] == "2025Q3")
    broken.loc[hit, "value"] = 35.0
    flags = review_flags(framework, score_actuals(broken, employees, framework), LAST, n=3)
    assert "meetings_booked" not in set(flags.loc[flags["flag"] == "target_too_easy", "kpi_id"])
    flags = review_flags(framework, score_actuals(broken, employees, framework), LAST, n=1)
    assert "meetings_booked" in set(flags.loc[flags["flag"] == "target_too_easy", "kpi_id"])


def test_no_data_is_info_for_the_period_and_a_warning_over_n_periods(scored_sample):
    framework, _, _, scores = scored_sample
    for n, severity in ((3, "info"), (2, "warning")):
        flags = review_flags(framework, scores, LAST, n=n)
        row = flags[(flags["flag"] == "no_data") & (flags["kpi_id"] == "content_engagement_rate")].iloc[0]
        assert row["severity"] == severity


def test_constant_values_have_no_variation(scored_sample):
    framework, employees, actuals, _ = scored_sample
    flat = actuals.copy()
    flat.loc[flat["kpi_id"] == "win_rate", "value"] = 25.0
    flags = review_flags(framework, score_actuals(flat, employees, framework), LAST)
    assert ("sales", "account_executive", "win_rate") in keys(flags, "no_variation")
    assert ("sales", "account_executive", "quota_attainment") not in keys(flags, "no_variation")


def test_objective_all_red_per_team(scored_sample):
    framework, employees, actuals, scores = scored_sample
    flags = review_flags(framework, scores, LAST)
    red = flags[flags["flag"] == "objective_all_red"]
    assert set(zip(red["team"], red["objective"], strict=True)) == {("finance", "revenue_growth")}
    assert "days_sales_outstanding" in red["message"].iloc[0]
    fixed = actuals.copy()
    fixed.loc[fixed["kpi_id"] == "days_sales_outstanding", "value"] = 40.0
    flags = review_flags(framework, score_actuals(fixed, employees, framework), LAST)
    assert "objective_all_red" not in set(flags["flag"])


def test_within_range_bands_are_flagged_too(scored_sample):
    framework, employees, actuals, _ = scored_sample
    wide = framework.model_copy(deep=True)
    capacity = next(a for a in wide.role("operations_manager").kpis if a.kpi == "capacity_utilization")
    capacity.target_range, capacity.threshold_range = (0.0, 200.0), (-10.0, 210.0)
    flags = review_flags(wide, score_actuals(actuals, employees, wide), LAST)
    assert ("operations", "operations_manager", "capacity_utilization") in keys(flags, "target_too_easy")
    capacity.target_range, capacity.threshold_range = (10.0, 12.0), (8.0, 14.0)
    flags = review_flags(wide, score_actuals(actuals, employees, wide), LAST)
    assert ("operations", "operations_manager", "capacity_utilization") in keys(flags, "never_met")


def test_framework_flags(scored_sample):
    framework, employees, actuals, _ = scored_sample
    changed = framework.model_copy(deep=True)
    recruiter = changed.role("recruiter")
    recruiter.kpis[0].objectives = []
    recruiter.kpis = [a for a in recruiter.kpis if changed.kpi(a.kpi).category.value != "development"]
    flags = review_flags(changed, score_actuals(actuals, employees, changed), LAST)
    orphan = flags[flags["flag"] == "kpi_without_objective"]
    assert set(zip(orphan["team"], orphan["role"], orphan["kpi_id"], strict=True)) == {
        ("hr", "recruiter", recruiter.kpis[0].kpi)}
    assert keys(flags, "role_without_development_kpi") == {("hr", "recruiter", "")}
    assert keys(review_flags(framework, score_actuals(actuals, employees, framework), LAST),
                "role_without_development_kpi") == set()


def test_flags_limited_to_teams(scored_sample):
    framework, _, _, scores = scored_sample
    flags = review_flags(framework, scores, LAST, teams=["hr"])
    assert set(flags["team"]) == {"hr"}
    assert format_flags(flags).startswith(f"{len(flags)} flag(s)")
    assert format_flags(flags.iloc[:0]).startswith("No flags")


def test_review_refuses_a_bad_n(scored_sample):
    framework, _, _, scores = scored_sample
    with pytest.raises(ValueError, match="n must be"):
        review_flags(framework, scores, LAST, n=0)


def test_flags_come_from_data_without_python_loops_over_rows(scored_sample):
    """A larger organization (1,500 people) reviews in one pass and flags the same deliberate patterns."""
    framework, _, _, _ = scored_sample
    employees = generate_employees(framework, 1500, 7)
    actuals = generate_actuals(framework, employees, PERIODS, 7)
    flags = review_flags(framework, score_actuals(actuals, employees, framework), LAST)
    # and the planted evidence: marketing specialists' easier targets, code review turnaround improving in IT
    assert {k for _, _, k in keys(flags, "target_too_easy")} == {"meetings_booked", "system_availability", "headcount",
                                                                 "collaboration_rating", "code_review_turnaround"}
    assert not np.isin(flags["severity"].astype(str), ["warning", "info"], invert=True).any()


# --- CLI -----------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("review") / "ws"
    write_sample(root)
    return root


def test_cli_review_prints_scores_and_flags(workspace, cli):
    code, out, err = cli("review", "--workspace", workspace, "--period", LAST, "--team", "hr")
    assert code == 0, err
    assert out.startswith(f"Review of {LAST} (People & Talent)\n")
    assert "never_met (warning)" in out and "hr/recruiter/time_to_hire" in out
    code, out, err = cli("review", "--workspace", workspace, "--period", LAST, "--format", "csv")
    assert code == 0, err
    table = pd.read_csv(io.StringIO(out), keep_default_na=False)
    assert list(table.columns) == FLAG_COLUMNS and "target_too_easy" in set(table["flag"])


def test_cli_review_defaults_to_the_latest_period(workspace, cli):
    code, latest, err = cli("review", "-w", workspace, "--team", "hr")
    assert code == 0, err
    _, explicit, _ = cli("review", "-w", workspace, "--team", "hr", "--period", LAST)
    assert latest == explicit and latest.startswith(f"Review of {LAST} ")


def test_cli_review_of_a_department_flags_only_its_teams(workspace, cli):
    code, out, err = cli("review", "-w", workspace, "--period", LAST, "--department", "Commercial", "--format", "csv")
    assert code == 0, err
    table = pd.read_csv(io.StringIO(out), keep_default_na=False)
    commercial = {t.id for t in load_framework(workspace).teams if t.department == "Commercial"}
    teams = set(table.loc[table["team"] != "", "team"])
    assert teams and teams <= commercial
    code, out, err = cli("review", "-w", workspace, "--period", LAST, "--department", "commercial")
    assert code == 0, err
    assert out.startswith(f"Review of {LAST} (Commercial department)")


def test_cli_review_unknown_period_exits_2(workspace, cli):
    code, _, err = cli("review", "--workspace", workspace, "--period", "2031Q1")
    assert code == 2
    assert "no actuals for period '2031Q1'" in err and "Traceback" not in err
    assert f"Periods with actuals: {', '.join(PERIODS)}" in err
