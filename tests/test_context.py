"""The step context: team and department scopes seeing only their own people and actuals, periods, parameters."""

from __future__ import annotations

from pathlib import Path

import pytest

from kpi_workbook.core.errors import InputError, UnknownTeamError
from kpi_workbook.core.issue_codes import Code
from kpi_workbook.core.model import Team
from kpi_workbook.sample import write_sample
from kpi_workbook.steps.context import open_step
from kpi_workbook.workspace.employees import read_employees
from kpi_workbook.workspace.files import load_framework, save_framework
from kpi_workbook.workspace.scope import department_id, departments


@pytest.fixture(scope="module")
def org(tmp_path_factory) -> Path:
    """A generated organization: the sample framework, 60 people, four quarters of actuals (2024Q1–2024Q4)."""
    root = tmp_path_factory.mktemp("org")
    write_sample(root, employees=60, periods=4, seed=7)
    return root


def test_whole_organization(org):
    ctx = open_step(org)
    assert ctx.team == "" and len(ctx.roles) == len(ctx.framework.roles)
    assert len(ctx.employees) == 60
    assert ctx.periods == ["2024Q1", "2024Q2", "2024Q3", "2024Q4"] and ctx.period == "2024Q4"
    assert set(ctx.actuals["team"]) == {t.id for t in ctx.framework.teams}
    assert "whole organization" in ctx.describe().data


def test_a_team_sees_only_its_people_and_their_actuals(org):
    everyone = read_employees(org)
    ctx = open_step(org, "sales")
    assert set(ctx.employees["team"]) == {"sales"}
    assert len(ctx.employees) == (everyone["team"] == "sales").sum()
    assert [r.id for r in ctx.roles] == [r.id for r in ctx.framework.roles_of_team("sales")]
    assert set(ctx.actuals["team"]) == {"sales"}
    people = set(ctx.actuals["employee_id"]) - {""}
    assert people and people <= set(ctx.employees["employee_id"])
    others = set(everyone.loc[everyone["team"] != "sales", "employee_id"])
    assert not people & others
    assert set(ctx.role_history["employee_id"]) - {""} <= people
    assert "Sales" in ctx.describe().data and "(sales)" not in ctx.describe().data


def test_unknown_team_lists_the_valid_ones(org):
    with pytest.raises(UnknownTeamError) as error:
        open_step(org, "salez")
    valid = sorted(t.id for t in load_framework(org).teams)
    assert error.value.valid == valid and error.value.problems[0].code is Code.INPUT_UNKNOWN_TEAM
    assert "unknown team 'salez'" in str(error.value) and ", ".join(valid) in str(error.value)


def test_a_number_instead_of_a_team_id_explains_raw_parameters(org):
    with pytest.raises(InputError, match="-r team 007"):
        open_step(org, 7)


def test_team_ids_that_look_like_numbers_stay_text(org, tmp_path):
    fw = load_framework(org)
    fw.teams.append(Team(id="007", name="Special projects"))
    fw.roles[0].teams.append("007")
    save_framework(fw, tmp_path)
    people = read_employees(org).head(3).assign(team="007", role=fw.roles[0].id)
    people.to_csv(tmp_path / "employees.csv", index=False)
    ctx = open_step(tmp_path, "007")
    assert ctx.team == "007" and ctx.employees["employee_id"].tolist() == people["employee_id"].tolist()
    assert ctx.actuals.empty and ctx.period == ""


def test_periods_are_parsed_and_checked(org):
    assert open_step(org, "hr", "Q2 2024").period == "2024Q2"
    with pytest.raises(InputError) as caught:
        open_step(org, "hr", "2026Q1").period  # noqa: B018  (the period resolves on first use)
    assert [p.code for p in caught.value.problems] == [Code.INPUT_UNKNOWN_PERIOD]
    with pytest.raises(InputError) as caught:
        open_step(org, "hr", "last quarter")
    assert [p.code for p in caught.value.problems] == [Code.INPUT_PERIOD]


def test_actuals_to_date_and_history_stop_at_the_period(org):
    ctx = open_step(org, "sales", "2024Q2")
    assert sorted(ctx.actuals_to_date["period"].unique()) == ["2024Q1", "2024Q2"]
    assert set(ctx.actuals["period"]) > set(ctx.actuals_to_date["period"])
    history = ctx.history("account_executive", "win_rate")
    assert list(history.columns) == ["period", "employee_id", "value"] and len(history) > 0
    assert set(history["period"]) <= {"2024Q1", "2024Q2"}
    assert ctx.assignment("account_executive", "win_rate").kpi == "win_rate"
    with pytest.raises(InputError, match="has no KPI 'defect_rate'"):
        ctx.assignment("account_executive", "defect_rate")


def test_a_department_sees_the_people_of_its_teams(org):
    framework = load_framework(org)
    everyone = read_employees(org)
    name = next(t.department for t in framework.teams if t.department)
    teams = {t.id for t in framework.teams if t.department == name}
    ctx = open_step(org, department=name.upper())
    assert ctx.team == "" and ctx.department == department_id(name) and ctx.name == f"{name} department"
    assert set(ctx.team_ids) == teams
    assert sorted(ctx.employees["employee_id"]) == sorted(everyone.loc[everyone["team"].isin(teams), "employee_id"])
    assert set(ctx.actuals["team"]) == teams
    assert set(ctx.actuals["employee_id"]) - {""} <= set(ctx.employees["employee_id"])
    assert {r.id for r in ctx.roles} == {r.id for r in framework.roles if set(r.teams) & teams}


def test_unknown_department_and_team_with_department_are_refused(org):
    with pytest.raises(InputError, match="unknown department 'Nowhere'. Valid departments: .*") as error:
        open_step(org, department="Nowhere")
    for key, (name, _) in departments(load_framework(org)).items():
        assert f"{key} ({name})" in str(error.value)
    with pytest.raises(InputError) as caught:
        open_step(org, "sales", department="Commercial")
    assert [(p.code, p.field) for p in caught.value.problems] == [(Code.INPUT_PARAMETER, "team")]


def test_a_folder_that_is_not_a_workspace_is_refused(tmp_path):
    with pytest.raises(InputError, match="not a kpi-workbook workspace") as error:
        open_step(tmp_path)
    assert str(tmp_path) in str(error.value) and "kpi-workbook init" in str(error.value)


def _warmed(monkeypatch, during_the_wait=lambda: None) -> None:
    """open_step as in a kernel Voilà warms ahead of the click, with `during_the_wait` done while it waits."""
    from kpi_workbook.steps import context

    monkeypatch.setenv(context.WARMED_KERNEL, "True")
    monkeypatch.setattr(context, "wait_for_the_page", during_the_wait)


def test_a_warmed_kernel_reads_the_step_ahead_and_keeps_it_when_nothing_changed(org, monkeypatch):
    _warmed(monkeypatch)
    ahead = open_step(org, "sales")
    assert {"actuals_to_date", "employees"} <= set(vars(ahead)), "read before the page asked for it"
    monkeypatch.delenv("VOILA_PREHEAT")
    fresh = open_step(org, "sales")
    assert "actuals_to_date" not in vars(fresh)
    assert ahead.actuals_to_date.equals(fresh.actuals_to_date) and ahead.employees.equals(fresh.employees)


@pytest.mark.parametrize("saved", ["teams.yaml", "employees.csv", "actuals.duckdb"])
def test_a_save_while_a_warmed_kernel_waits_is_read_again(tmp_path, monkeypatch, saved):
    write_sample(tmp_path, employees=30, periods=2, seed=3)
    before = open_step(tmp_path, "sales")
    before.actuals_to_date  # noqa: B018 - builds the store from actuals.csv

    def save() -> None:
        if saved == "teams.yaml":
            framework = load_framework(tmp_path)
            framework.teams[0].name = "Renamed while waiting"
            save_framework(framework, tmp_path)
        elif saved == "employees.csv":
            people = read_employees(tmp_path)
            people.drop(index=people.index[people["team"] == "sales"][0]).to_csv(tmp_path / "employees.csv",
                                                                                index=False)
        else:
            import duckdb

            with duckdb.connect(str(tmp_path / "actuals.duckdb")) as con:
                con.execute("DELETE FROM actuals WHERE team = 'sales' AND period = '2024Q2'")

    _warmed(monkeypatch, save)
    after = open_step(tmp_path, "sales")
    if saved == "teams.yaml":
        assert before.framework.teams[0].name != "Renamed while waiting" == after.framework.teams[0].name
    elif saved == "employees.csv":
        assert len(after.employees) == len(before.employees) - 1
    else:
        assert after.periods == ["2024Q1"] != before.periods


def test_a_warmed_kernel_reads_no_warehouse_ahead(org, monkeypatch):
    _warmed(monkeypatch)
    monkeypatch.setenv("KPI_WORKBOOK_ACTUALS_URL", "duckdb:///nowhere.duckdb")
    assert "actuals_to_date" not in vars(open_step(org, "sales")), "a warehouse's rows may change unseen"


def test_a_warmed_kernel_does_the_step_s_own_work_ahead_and_keeps_it(org, monkeypatch):
    from kpi_workbook.steps import review

    _warmed(monkeypatch)
    ctx = open_step(org, "sales", ahead=review.analysis)
    assert "analysis" in ctx.kept, "worked out before the page asked for it"
    scores, flags, board = review.analysis(ctx)
    monkeypatch.delenv("VOILA_PREHEAT")
    fresh = open_step(org, "sales", ahead=review.analysis)
    assert "analysis" not in fresh.kept, "opened for a page or a report, the work is done when asked for"
    again = review.analysis(fresh)
    assert scores.equals(again[0]) and flags.equals(again[1]) and board.equals(again[2])
