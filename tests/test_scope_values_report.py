"""The review's table of a department's and the organization's KPI values, on the computed sample organization: each
value against the same figure computed with plain pandas from the sample's raw exports (a rate of the department is
its total of won deals ÷ its total of closed deals, not the mean of its teams' or people's rates), the report section
as a manager reads it, and the figures formatted with their units."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
import yaml

from kpi_workbook.analysis.scoring import score_actuals
from kpi_workbook.core.measures import Measure
from kpi_workbook.core.model import KpiDefinition
from kpi_workbook.reports.scope_values import computed_as, kpi_label
from kpi_workbook.reports.units import change_text, decimals, value_text
from kpi_workbook.steps import open_step
from kpi_workbook.steps import review as step

EXACT = 1e-9
NB = "\u00a0"  # between a number and its unit


@pytest.fixture(scope="module")
def computed(tmp_path_factory, cli) -> Path:
    """A fresh copy of the sample organization, computed from its raw exports as `make run` does."""
    root = tmp_path_factory.mktemp("scope_values") / "sample_org"
    for command in (("init", root, "--sample"), ("compute", "-w", root)):
        code, _, stderr = cli(*command)
        assert code == 0, stderr
    return root


def _yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _department_teams(root: Path, department: str) -> list[str]:
    """The ids of the teams teams.yaml puts in the department (by name)."""
    return [t["id"] for t in _yaml(root / "teams.yaml")["teams"] if t.get("department", "").strip() == department]


def _quarter(dates: pd.Series, pattern: str) -> pd.Series:
    return pd.to_datetime(dates, format=pattern).dt.to_period("Q").astype(str)


def _deals(root: Path) -> pd.DataFrame:
    """The CRM export with each deal's quarter (by its closing date), team id (by team name) and whether it was won."""
    deals = pd.read_csv(root / "exports" / "crm_opportunities.csv", dtype=str)
    ids = {t["name"]: t["id"] for t in _yaml(root / "teams.yaml")["teams"]}
    return deals.assign(quarter=_quarter(deals["closed_on"], "%m/%d/%Y"), team=deals["team_name"].map(ids),
                        hit=deals["stage"] == "Closed Won")


def _deployments(root: Path) -> pd.DataFrame:
    """The deployments export with each deployment's quarter, whether it failed and its lead time in hours."""
    deployments = pd.read_csv(root / "exports" / "deployments.csv", dtype=str)
    deployed = pd.to_datetime(deployments["deployed_at"], format="%Y-%m-%d %H:%M")
    committed = pd.to_datetime(deployments["committed_at"], format="%Y-%m-%d %H:%M")
    return deployments.assign(quarter=deployed.dt.to_period("Q").astype(str), hit=deployments["change_failed"] == "yes",
                              hours=(deployed - committed).dt.total_seconds() / 3600)


def _rate(rows: pd.DataFrame, by: list[str]) -> pd.Series:
    """100 × the share of rows that are hits, per group."""
    return 100 * rows.groupby(by)["hit"].sum() / rows.groupby(by)["hit"].size()


def _review(root: Path, department: str = "") -> tuple[pd.DataFrame, str]:
    """The department's (or the organization's) table of values in its review, and the section's HTML."""
    ctx = open_step(root, "", "", department)
    scores = score_actuals(ctx.actuals_to_date, ctx.employees, ctx.framework)
    values = step.scope_values(ctx, scores)
    return values.set_index("kpi_id"), step.scope_values_section(values, ctx)._repr_html_()


def _check(table: pd.DataFrame, kpi: str, expected: pd.Series) -> None:
    """The table's value and previous value of the KPI are the expected quarters' figures, and the change theirs."""
    row = table.loc[kpi]
    now, before = expected[row["period"]], expected[row["previous_period"]]
    assert row["value"] == pytest.approx(now, abs=EXACT) and row["previous_value"] == pytest.approx(before, abs=EXACT)
    assert row["change"] == pytest.approx(now - before, abs=EXACT)


def test_a_departments_win_rate_is_its_won_deals_over_its_closed_deals(computed):
    teams = _department_teams(computed, "Commercial")
    deals = _deals(computed)
    deals = deals[deals["team"].isin(teams)]
    table, shown = _review(computed, "Commercial")
    department = _rate(deals, ["quarter"])
    _check(table, "win_rate", department)
    won = deals[deals["hit"]].astype({"amount": float}).groupby("quarter")["amount"].sum()
    _check(table, "new_business_revenue", won)
    sellers = _rate(deals, ["quarter", "owner_employee_id"]).groupby("quarter").mean()
    period = table.loc["win_rate", "period"]
    assert not math.isclose(department[period], sellers[period]), "a ratio of totals, not the people's mean rate"
    assert f"{department[period]:.1f}{NB}%" in shown and f"{won[period]:,.0f}" in shown


def test_a_departments_change_failure_rate_is_not_the_mean_of_its_teams_rates(computed):
    teams = _department_teams(computed, "Technology")
    deployments = _deployments(computed)
    deployments = deployments[deployments["team"].isin(teams)]
    assert deployments["team"].nunique() >= 2, "the sample's Technology department deploys from two teams"
    table, shown = _review(computed, "Technology")
    department = _rate(deployments, ["quarter"])
    _check(table, "change_failure_rate", department)
    _check(table, "lead_time_for_changes", deployments.groupby("quarter")["hours"].median())
    team_mean = _rate(deployments, ["quarter", "team"]).groupby("quarter").mean()
    differ = [q for q in department.index if not math.isclose(department[q], team_mean[q])]
    period, previous = table.loc["change_failure_rate", ["period", "previous_period"]]
    assert {period, previous} & set(differ), "the teams' rates average to something else in the periods shown"
    for quarter, column in ((period, "value"), (previous, "previous_value")):
        if quarter in differ:
            assert not math.isclose(table.loc["change_failure_rate", column], team_mean[quarter])
    assert f"{department[period]:.1f}{NB}%" in shown and "ratio of totals" in shown


def test_the_organizations_values_are_over_all_records(computed):
    table, shown = _review(computed)
    _check(table, "change_failure_rate", _rate(_deployments(computed), ["quarter"]))
    _check(table, "win_rate", _rate(_deals(computed), ["quarter"]))
    assert "Alderbrook Instruments" in shown


def test_kpis_entered_by_hand_are_named_in_a_sentence_not_shown_as_empty_rows(computed):
    kpis = {k["id"]: k for k in _yaml(computed / "kpis.yaml")["kpis"]}
    teams = set(_department_teams(computed, "Commercial"))
    roles = [_yaml(p) for p in (computed / "roles").glob("*.yaml")]
    assigned = {a["kpi"] for r in roles if teams & set(r["teams"]) for a in r["kpis"]}
    by_hand = {k for k in assigned if "measure" not in kpis[k]}
    table, shown = _review(computed, "Commercial")
    assert set(table.index) == assigned and set(table.index[~table["measured"]]) == by_hand
    assert table.loc[list(by_hand), "value"].isna().all()
    assert f"{len(by_hand)} of the {len(assigned)} KPIs of the Commercial department are entered by hand" in shown
    assert shown.count("<tr") == 1 + len(assigned - by_hand), "a header row and one row per computed KPI"


def test_a_team_report_has_no_such_section(computed):
    ctx = open_step(computed, "sales")
    values = step.scope_values(ctx, score_actuals(ctx.actuals_to_date, ctx.employees, ctx.framework))
    assert values.empty and step.scope_values_section(values, ctx) is None


def test_a_workspace_never_computed_says_so_instead_of_a_table_of_dashes(sample_workspace):
    ctx = open_step(sample_workspace, "", "", "Commercial")
    values = step.scope_values(ctx, score_actuals(ctx.actuals_to_date, ctx.employees, ctx.framework))
    shown = step.scope_values_section(values, ctx)._repr_html_()
    assert values["value"].isna().all() and "<table" not in shown
    assert "No value of the Commercial department as a whole is available yet: kpi-workbook compute" in shown


@pytest.mark.parametrize(("value", "unit", "text"), [
    (30.57325, "%", f"30.6{NB}%"), (4852451.0, "currency", "4,852,451"), (4852451.4, "EUR", f"4,852,451{NB}EUR"),
    (54.1111, "days", f"54.1{NB}days"), (1.950448, "hours", f"1.95{NB}hours"), (1234.0, "count", "1,234"),
    (-20.0, "score (-100 to 100)", "\u221220"), (float("nan"), "%", "—"),
])
def test_values_show_with_their_unit_and_separators(value, unit, text):
    assert value_text(value, unit) == text


@pytest.mark.parametrize(("value", "previous", "unit", "text"), [
    (9.935, 10.373, "%", f"\u22120.5{NB}pts"), (12.38, 12.33, "%", f"+0.1{NB}pts"),
    (4852451.0, 4495378.0, "currency", "+357,073"), (57.18, 50.22, "hours", f"+7.0{NB}hours"),
    (11.9, 9.94, "hours", f"+2.0{NB}hours"), (9.98, 9.97, "minutes", f"+0.01{NB}minutes"),
    (54.11, 54.1, "days", "no change"), (180.0, 186.0, "count", "\u22126"),
    (float("nan"), 1.0, "%", "—"), (1.0, float("nan"), "%", "—"),
])
def test_changes_are_those_of_the_figures_shown_with_their_sign_and_unit(value, previous, unit, text):
    assert change_text(value, previous, unit, decimals([value, previous], unit)) == text


@pytest.mark.parametrize(("measure", "text"), [
    ({"ratio": {"numerator": {"source": "s", "function": "count", "where": "a == 1"},
                "denominator": {"source": "s", "function": "count"}}}, "ratio of totals"),
    ({"aggregate": {"source": "s", "function": "sum", "column": "amount"}}, "total"),
    ({"aggregate": {"source": "s", "function": "headcount"}}, "headcount"),
    ({"duration": {"source": "s", "start": "a", "end": "b", "function": "median"}}, "median of all records"),
    ({"duration": {"source": "s", "start": "a", "end": "b", "function": "sum"}, "window": 4}, "total, last 4 periods"),
    ({"aggregate": {"source": "s", "function": "count"}, "year_to_date": True, "offset": "year"},
     "total, year to date, a year before"),
])
def test_each_kind_of_measure_says_how_a_scope_value_is_computed(measure, text):
    assert computed_as(Measure.model_validate(measure)) == text


@pytest.mark.parametrize(("unit", "label"), [
    ("%", "A KPI"), ("count", "A KPI"), ("", "A KPI"), ("currency", "A KPI (currency)"), ("EUR", "A KPI"),
    ("rating (1-5)", "A KPI, rating (1-5)"),
])
def test_a_label_names_the_unit_only_where_the_values_do_not(unit, label):
    kpi = KpiDefinition(id="a", name="A KPI", unit=unit, polarity="higher_is_better", category="output",
                        indicator="lagging")
    assert kpi_label(kpi) == label
