"""What a review can and cannot judge: a short history says which flags it could not raise and why, and
variation is judged on the values measured, not on a team's value copied to each member."""

from __future__ import annotations

import pandas as pd

from kpi_workbook.analysis.review import format_flags, review_flags
from kpi_workbook.analysis.scoring import score_actuals

PEOPLE = pd.DataFrame({"employee_id": [f"e{i:02d}" for i in range(11)], "name": [f"P{i}" for i in range(11)],
                       "team": "sales", "role": "account_executive"})


def _actuals(periods: list[str], team_level_win_rate: bool) -> pd.DataFrame:
    rows = []
    for n, period in enumerate(periods):
        for i, person in enumerate(PEOPLE["employee_id"]):
            for kpi, value in (("pipeline_coverage", 2.5 + 0.2 * i + n), ("sales_cycle_days", 60 + 3 * i - n),
                               ("training_hours", 6 + i), ("average_discount", 5 + 0.5 * i)):
                rows.append((period, "sales", person, kpi, value))
            if not team_level_win_rate:
                rows.append((period, "sales", person, "win_rate", 20.0 + i + n))
        if team_level_win_rate:
            rows.append((period, "sales", "", "win_rate", 24.0 + 2 * n))  # one value for the whole team
    return pd.DataFrame(rows, columns=["period", "team", "employee_id", "kpi_id", "value"])


def test_a_single_period_says_what_could_not_be_judged(small_framework):
    scores = score_actuals(_actuals(["2025Q4"], False), PEOPLE, small_framework)
    flags = review_flags(small_framework, scores, "2025Q4")
    gaps = flags[flags["flag"] == "not_judged"]
    assert not gaps.empty and (gaps["severity"] == "info").all()
    assert gaps["message"].str.contains("need 3 periods running").any()
    assert gaps["message"].str.contains("only 1 period (2025Q4)", regex=False).any()
    text = format_flags(flags)
    assert "nothing to change" not in text and "not_judged" in text
    three = score_actuals(_actuals(["2025Q2", "2025Q3", "2025Q4"], False), PEOPLE, small_framework)
    assert "not_judged" not in set(review_flags(small_framework, three, "2025Q4")["flag"])


def test_a_team_value_copied_to_each_member_is_no_lack_of_variation(small_framework):
    scores = score_actuals(_actuals(["2025Q4"], True), PEOPLE, small_framework)
    assert scores.loc[scores["kpi_id"] == "win_rate", "value"].notna().sum() == 11  # copied to every member
    flags = review_flags(small_framework, scores, "2025Q4")
    assert flags[(flags["flag"] == "no_variation") & (flags["kpi_id"] == "win_rate")].empty


def test_a_value_that_never_varies_is_still_flagged(small_framework):
    actuals = _actuals(["2025Q3", "2025Q4"], True)
    actuals.loc[actuals["kpi_id"] == "win_rate", "value"] = 24.0  # the team's value is the same both quarters
    scores = score_actuals(actuals, PEOPLE, small_framework)
    flags = review_flags(small_framework, scores, "2025Q4")
    [flat] = flags[(flags["flag"] == "no_variation") & (flags["kpi_id"] == "win_rate")]["message"]
    assert flat.startswith("the 2 values of 2025Q3-2025Q4 hardly vary")


def test_score_says_why_a_workspace_without_people_has_nothing_to_score(sample_workspace, cli):
    (sample_workspace / "employees.csv").unlink()
    actuals = pd.read_csv(sample_workspace / "actuals.csv", dtype=str, keep_default_na=False)
    actuals[actuals["employee_id"] == ""].to_csv(sample_workspace / "actuals.csv", index=False)  # team-level only
    code, out, err = cli("score", "-w", sample_workspace)
    assert code == 2 and out.strip() == ""
    assert "nothing to score" in err and "no one in employees.csv" in err and "team-level value" in err
