"""Scoring: exact values at every band edge for each polarity, zero targets, missing data, roll-ups and the CLI."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from kpi_workbook.analysis.scoring import (
    SCORE_COLUMNS,
    ScoringConfig,
    band_table,
    banded_scores,
    roll_up,
    score_actuals,
    status_of,
    trend,
)
from kpi_workbook.core.model import Framework, KpiDefinition, Role, RoleKpi, Team
from kpi_workbook.workspace.employees import load_employees
from kpi_workbook.workspace.files import load_framework
from kpi_workbook.workspace.opener import open_workspace


def scored(framework: Framework, kpi: str, values: list[float], config: ScoringConfig | None = None,
           role: str = "account_executive") -> tuple[np.ndarray, np.ndarray]:
    """Achievement and score of `values` for one role KPI."""
    bands = band_table(framework)
    row = bands.index[(bands["role"] == role) & (bands["kpi_id"] == kpi)][0]
    return banded_scores(np.array(values, dtype=float), bands, np.full(len(values), row), config or ScoringConfig())


def add_role(framework: Framework, *kpis: tuple[KpiDefinition, RoleKpi]) -> Framework:
    """The framework plus KPI definitions and a role 'analyst' in team sales holding them."""
    framework = framework.model_copy(deep=True)
    framework.kpis = [*framework.kpis, *(k for k, _ in kpis)]
    framework.roles = [*framework.roles, Role(id="analyst", title="Analyst", teams=["sales"],
                                              kpis=[a for _, a in kpis])]
    return framework


def kpi(ident: str, polarity: str) -> KpiDefinition:
    return KpiDefinition(id=ident, name=ident, polarity=polarity, category="output", indicator="lagging")


def test_band_table_has_one_row_per_role_kpi_with_its_bands(small_framework):
    bands = band_table(small_framework)
    assert len(bands) == 5
    assert bands["kpi_id"].tolist() == ["win_rate", "pipeline_coverage", "sales_cycle_days", "average_discount",
                                        "training_hours"]
    row = bands.set_index("kpi_id").loc["average_discount"]
    assert row["polarity"] == "within_range"
    assert (row["range_low"], row["range_high"], row["threshold_low"], row["threshold_high"]) == (5, 10, 2, 15)
    assert np.isnan(row["target"])
    cycle = bands.set_index("kpi_id").loc["sales_cycle_days"]
    assert cycle[["threshold", "target", "stretch"]].tolist() == [90, 75, 60]
    assert bands["weight"].sum() == 100


def test_higher_is_better_band_edges(small_framework):
    # win_rate: threshold 20, target 25, stretch 30
    achievement, score = scored(small_framework, "win_rate", [0, 19.99, 20, 22.5, 25, 27.5, 30, 45])
    assert score.tolist() == pytest.approx([0, 0, 50, 75, 100, 125, 150, 150])
    assert achievement.tolist() == pytest.approx([0, 19.99 / 25, 0.8, 0.9, 1.0, 1.1, 1.2, 1.8])


def test_lower_is_better_band_edges_and_achievement(small_framework):
    # sales_cycle_days: threshold 90, target 75, stretch 60
    achievement, score = scored(small_framework, "sales_cycle_days", [200, 90.01, 90, 82.5, 75, 67.5, 60, 0])
    assert score.tolist() == pytest.approx([0, 0, 50, 75, 100, 125, 150, 150])
    # 2 - actual / target, clipped at 0; finite at an actual of 0
    assert achievement.tolist() == pytest.approx([0, 2 - 90.01 / 75, 0.8, 0.9, 1.0, 1.1, 1.2, 2.0])


def test_within_range_band_edges_and_achievement(small_framework):
    # average_discount: target range 5..10, threshold range 2..15
    values = [0, 1.99, 2, 3.5, 5, 7.5, 10, 12.5, 15, 15.01, 40]
    achievement, score = scored(small_framework, "average_discount", values)
    assert score.tolist() == pytest.approx([0, 0, 50, 75, 100, 100, 100, 75, 50, 0, 0])
    expected = [0, 1.99 / 5, 0.4, 0.7, 1, 1, 1, 0.75, 0.5, 1 - 5.01 / 10, 0]
    assert achievement.tolist() == pytest.approx(expected)


def test_config_moves_floor_scores_and_cap(small_framework):
    config = ScoringConfig(floor=10, threshold_score=60, target_score=100, stretch_score=120, cap=140)
    _, score = scored(small_framework, "win_rate", [10, 20, 25, 30, 32.5, 35, 50], config)
    # beyond stretch the target→stretch slope (4 points per unit) goes on until the cap
    assert score.tolist() == pytest.approx([10, 60, 100, 120, 130, 140, 140])
    _, lower = scored(small_framework, "sales_cycle_days", [100, 90, 75, 60, 0], config)
    assert lower.tolist() == pytest.approx([10, 60, 100, 120, 140])


def test_missing_stretch_or_threshold_removes_that_zone(small_framework):
    framework = add_role(
        small_framework,
        (kpi("no_stretch", "higher_is_better"), RoleKpi(kpi="no_stretch", weight=50, threshold=10, target=20)),
        (kpi("no_threshold", "lower_is_better"), RoleKpi(kpi="no_threshold", weight=30, target=5, stretch=2)),
        (kpi("no_bands", "higher_is_better"), RoleKpi(kpi="no_bands", weight=20)),
    )
    _, score = scored(framework, "no_stretch", [5, 10, 15, 20, 100], role="analyst")
    assert score.tolist() == pytest.approx([0, 50, 75, 100, 100])
    _, score = scored(framework, "no_threshold", [5.01, 5, 3.5, 2, 0], role="analyst")
    assert score.tolist() == pytest.approx([0, 100, 125, 150, 150])
    achievement, score = scored(framework, "no_bands", [1, 2], role="analyst")
    assert np.isnan(score).all() and np.isnan(achievement).all()


def test_zero_and_negative_targets(small_framework):
    framework = add_role(
        small_framework,
        (kpi("net_change", "higher_is_better"), RoleKpi(kpi="net_change", weight=40, threshold=-10, target=0,
                                                        stretch=10)),
        (kpi("loss", "higher_is_better"), RoleKpi(kpi="loss", weight=30, threshold=-20, target=-10, stretch=-5)),
        (kpi("variance", "lower_is_better"), RoleKpi(kpi="variance", weight=30, threshold=4, target=0, stretch=-2)),
    )
    achievement, score = scored(framework, "net_change", [-20, -10, 0, 5, 10], role="analyst")
    assert score.tolist() == pytest.approx([0, 50, 100, 125, 150])
    assert np.isnan(achievement).all()  # a ratio to a zero target is undefined; the band score still works
    achievement, score = scored(framework, "loss", [-20, -10, -5], role="analyst")
    assert score.tolist() == pytest.approx([50, 100, 150])
    assert achievement.tolist() == pytest.approx([0.0, 1.0, 1.5])  # 1 + (actual - target) / |target|
    achievement, score = scored(framework, "variance", [4, 2, 0, -1, -2], role="analyst")
    assert score.tolist() == pytest.approx([50, 75, 100, 125, 150])
    assert np.isnan(achievement).all()


def test_missing_values_are_no_data_not_zero(small_framework):
    achievement, score = scored(small_framework, "win_rate", [np.nan, 30])
    assert np.isnan(score[0]) and np.isnan(achievement[0])
    assert status_of(score).tolist() == ["grey", "green"]


def test_status_edges():
    scores = np.array([150, 100, 99.99, 50, 49.99, 0, np.nan])
    assert status_of(scores).tolist() == ["green", "green", "amber", "amber", "red", "red", "grey"]
    relaxed = ScoringConfig(green_at=90, amber_at=40)
    assert status_of(np.array([90, 89, 40, 39]), relaxed).tolist() == ["green", "amber", "amber", "red"]


@pytest.mark.parametrize("bad", [
    {"floor": 60}, {"stretch_score": 90}, {"cap": 90}, {"amber_at": 120}, {"cap": float("nan")},
])
def test_config_rejects_inconsistent_numbers(bad):
    with pytest.raises(ValueError, match="scoring"):
        ScoringConfig(**bad)


@pytest.fixture
def people() -> pd.DataFrame:
    return pd.DataFrame({"employee_id": ["E1", "E2", "E3"], "name": ["Ann", "Bo", "Cy"],
                         "team": ["sales", "sales", "sales"], "role": ["account_executive"] * 3})


def actuals_frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["period", "team", "employee_id", "kpi_id", "value"])


def test_score_actuals_gives_every_assigned_kpi_a_row_and_grey_where_there_is_no_data(small_framework, people):
    actuals = actuals_frame([
        ("2025Q1", "sales", "E1", "win_rate", 25.0),
        ("2025-Q2", "sales", "E1", "win_rate", 30.0),  # any accepted spelling of a period
        ("2025Q1", "sales", "E2", "sales_cycle_days", 90.0),
        ("2025Q1", "sales", "E9", "win_rate", 99.0),  # unknown employee: left out
    ])
    scores = score_actuals(actuals, people, small_framework)
    assert list(scores.columns) == SCORE_COLUMNS
    assert len(scores) == 2 * 3 * 5  # periods × employees × assigned KPIs
    assert scores["period"].cat.categories.tolist() == ["2025Q1", "2025Q2"]
    e1 = scores[(scores["employee_id"] == "E1") & (scores["kpi_id"] == "win_rate")]
    assert e1["score"].tolist() == [100, 150]
    assert e1["status"].tolist() == ["green", "green"]
    e2 = scores[(scores["employee_id"] == "E2") & (scores["kpi_id"] == "sales_cycle_days")]
    assert e2["status"].tolist() == ["amber", "grey"]
    assert e2["score"].iloc[0] == 50 and np.isnan(e2["score"].iloc[1])
    grey = scores[scores["value"].isna()]
    assert len(grey) == 30 - 3
    assert grey["score"].isna().all() and (grey["status"] == "grey").all()
    assert (scores["role"] == "account_executive").all() and (scores["team"] == "sales").all()


def test_team_level_values_apply_to_each_member_and_an_own_value_wins(small_framework, people):
    actuals = actuals_frame([
        ("2025Q1", "sales", "", "pipeline_coverage", 3.0),
        ("2025Q1", "sales", "E2", "pipeline_coverage", 4.0),
        ("2025Q1", "sales", None, "training_hours", 6.0),
    ])
    scores = score_actuals(actuals, people, small_framework).set_index(["employee_id", "kpi_id"])
    assert scores.loc[("E1", "pipeline_coverage"), "score"] == 100
    assert scores.loc[("E2", "pipeline_coverage"), "score"] == 150
    assert scores.loc[("E3", "pipeline_coverage"), "value"] == 3.0
    assert scores.loc[("E3", "training_hours"), "score"] == 50


def test_roll_up_renormalizes_over_kpis_with_data_and_reports_coverage(small_framework, people):
    actuals = actuals_frame([
        ("2025Q1", "sales", "E1", "win_rate", 25.0),  # weight 30, score 100
        ("2025Q1", "sales", "E1", "sales_cycle_days", 90.0),  # weight 20, score 50
        ("2025Q1", "sales", "E2", "training_hours", 16.0),  # weight 15, score 150
    ])
    scores = score_actuals(actuals, people, small_framework)
    employees = roll_up(scores).set_index("employee_id")
    assert employees.loc["E1", "score"] == pytest.approx((30 * 100 + 20 * 50) / 50)
    assert employees.loc["E1", "coverage"] == pytest.approx(0.5)
    assert employees.loc["E1", "status"] == "amber"
    assert employees.loc["E2", "score"] == pytest.approx(150) and employees.loc["E2", "status"] == "green"
    assert np.isnan(employees.loc["E3", "score"]) and employees.loc["E3", "coverage"] == 0
    assert employees.loc["E3", "status"] == "grey"
    organization = roll_up(scores, ())
    assert organization["score"].iloc[0] == pytest.approx((3000 + 1000 + 15 * 150) / 65)
    assert organization["coverage"].iloc[0] == pytest.approx(65 / 300)
    pd.testing.assert_frame_equal(roll_up(scores, "organization"), organization)
    team = roll_up(scores, "team")
    assert team["score"].iloc[0] == pytest.approx(organization["score"].iloc[0])
    assert roll_up(scores, ("role",))["role"].tolist() == ["account_executive"]


def test_trend_has_periods_as_columns_oldest_first(small_framework, people):
    actuals = actuals_frame([(p, "sales", "E1", "win_rate", v)
                             for p, v in [("2025Q3", 30.0), ("2024Q4", 20.0), ("2025Q1", 25.0)]])
    scores = score_actuals(actuals, people, small_framework)
    table = trend(scores, "employee_id")
    assert table.columns.tolist() == ["2024Q4", "2025Q1", "2025Q3"]
    assert table.loc["E1"].tolist() == [50, 100, 150]
    assert table.loc["E2"].isna().all()
    assert trend(scores, ()).index.tolist() == ["organization"]


def test_score_actuals_with_given_periods_scores_periods_without_actuals_as_grey(small_framework, people):
    scores = score_actuals(actuals_frame([]), people, small_framework, periods=["2025Q2", "2025-Q1"])
    assert scores["period"].cat.categories.tolist() == ["2025Q1", "2025Q2"]
    assert len(scores) == 30 and (scores["status"] == "grey").all()


def test_kpi_without_definition_scores_no_data(small_framework, people):
    framework = small_framework.model_copy(deep=True)
    framework.kpis = [k for k in framework.kpis if k.id != "win_rate"]
    scores = score_actuals(actuals_frame([("2025Q1", "sales", "E1", "win_rate", 25.0)]), people, framework)
    assert scores.loc[scores["kpi_id"] == "win_rate", "status"].eq("grey").all()


def test_sample_organization_scores_every_employee_kpi_and_period(sample_workspace):
    framework = load_framework(sample_workspace)
    employees = load_employees(sample_workspace, framework)
    actuals = open_workspace(sample_workspace).store().read_actuals()
    scores = score_actuals(actuals, employees, framework)
    kpis_per_role = {r.id: len(r.kpis) for r in framework.roles}
    periods = actuals["period"].nunique()
    assert len(scores) == employees["role"].map(kpis_per_role).sum() * periods
    assert scores["score"].dropna().between(0, 150).all()
    assert set(scores["status"].unique()) == {"green", "amber", "red", "grey"}
    assert scores["value"].notna().sum() >= 0.8 * len(scores)
    teams = roll_up(scores, "team")
    assert set(teams["team"]) == {t.id for t in framework.teams if (employees["team"] == t.id).any()}
    assert teams["coverage"].between(0, 1).all()


def test_cli_score_prints_roll_ups_and_clear_errors(sample_workspace, cli):
    code, out, err = cli("score", "--workspace", sample_workspace, "--by", "team", "--period", "2025Q4")
    assert code == 0, err
    assert "2025Q4" in out and "sales" in out and "coverage" in out
    code, out, err = cli("score", "-w", sample_workspace, "--by", "organization", "--period", "all", "--format", "csv")
    assert code == 0, err
    table = pd.read_csv(io.StringIO(out))
    assert list(table.columns) == ["period", "score", "coverage", "status"] and len(table) == 8
    code, out, err = cli("score", "-w", sample_workspace, "--team", "nowhere")
    assert code == 2 and "unknown team 'nowhere'" in err and "sales" in err and "Traceback" not in err
    code, out, err = cli("score", "-w", sample_workspace, "--period", "2025Q9")
    assert code == 2 and "'2025Q9' is not a period" in err and "Traceback" not in err


def test_cli_score_of_a_department_covers_only_its_teams(sample_workspace, cli):
    framework = load_framework(sample_workspace)
    commercial = {t.id for t in framework.teams if t.department == "Commercial"}
    code, out, err = cli("score", "-w", sample_workspace, "--department", "commercial", "--by", "team",
                         "--format", "csv")
    assert code == 0, err
    assert set(pd.read_csv(io.StringIO(out))["team"]) == commercial
    code, out, err = cli("score", "-w", sample_workspace, "--department", "Commercial", "--by", "department",
                         "--format", "csv")
    assert code == 0, err
    assert pd.read_csv(io.StringIO(out))["department"].tolist() == ["Commercial"]
    code, _, err = cli("score", "-w", sample_workspace, "--department", "Legal")
    assert code == 2 and "unknown department 'Legal'" in err and "commercial (Commercial)" in err


def test_team_level_kpi_of_another_team_does_not_leak(small_framework):
    framework = small_framework.model_copy(deep=True)
    framework.teams = [*framework.teams, Team(id="hr", name="HR")]
    people = pd.DataFrame({"employee_id": ["E1", "H1"], "name": ["Ann", "Hal"], "team": ["sales", "hr"],
                           "role": ["account_executive", "account_executive"]})
    scores = score_actuals(actuals_frame([("2025Q1", "hr", "", "win_rate", 30.0)]), people, framework)
    win = scores[scores["kpi_id"] == "win_rate"].set_index("employee_id")
    assert win.loc["H1", "score"] == 150
    assert np.isnan(win.loc["E1", "score"])
