"""Import validation, scoring, role history and compute agree on who every value counts for (workspace.assignments).

Small frameworks (roles listing some teams, holding some KPIs), employees in any team and role (also a team their
role does not list) and actuals of people and teams (some of KPIs, teams or people that do not hold them) are
checked against a reference written here from the rule in the module's docstring.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kpi_workbook.analysis.history import role_history
from kpi_workbook.analysis.measures.assign import Assignments
from kpi_workbook.analysis.scoring import score_actuals
from kpi_workbook.core.measures import Per
from kpi_workbook.core.model import Framework, KpiDefinition, Metadata, Role, RoleKpi, Team
from kpi_workbook.workspace.actuals_reader import read_actuals_file
from kpi_workbook.workspace.actuals_schema import validate_actuals
from kpi_workbook.workspace.assignments import (
    NOT_THE_ROLE,
    NOT_THE_TEAM,
    OTHER_TEAM,
    REASONS,
    UNKNOWN_EMPLOYEE,
    KpiHolders,
)
from kpi_workbook.workspace.scratch import Scratch

TEAMS = ["t0", "t1", "t2"]
ROLES = ["r0", "r1", "r2"]
KPIS = ["k0", "k1", "k2", "k3"]
PERIODS = ["2025Q1", "2025Q2"]
STRANGER = "X9"  # an employee id that is not in employees.csv
EMPLOYEE_COLUMNS = ["employee_id", "name", "team", "role"]


def framework_of(teams_of: dict[str, list[str]], kpis_of: dict[str, list[str]]) -> Framework:
    """Teams t0..t2, KPIs k0..k3, and a role per entry of `teams_of` with its teams and KPIs."""
    kpis = [KpiDefinition(id=k, name=f"KPI {k}", polarity="higher_is_better", category="output",
                          indicator="lagging") for k in KPIS]
    roles = [Role(id=r, title=f"Role {r}", teams=teams, kpis=[RoleKpi(kpi=k, weight=10, target=1) for k in kpis_of[r]])
             for r, teams in teams_of.items()]
    return Framework(metadata=Metadata(organization="Org"), teams=[Team(id=t, name=t.upper()) for t in TEAMS],
                     kpis=kpis, roles=roles)


def employees_of(people: list[tuple[str, str]]) -> pd.DataFrame:
    """employees.csv as read: E0, E1, ... with their (team, role)."""
    return pd.DataFrame([(f"E{i}", f"Person {i}", team, role) for i, (team, role) in enumerate(people)],
                        columns=EMPLOYEE_COLUMNS, dtype="string")


@st.composite
def cases(draw: st.DrawFn) -> tuple[Framework, pd.DataFrame, pd.DataFrame]:
    """A framework, employees and actuals (value = the row's number, so every score names the row it came from)."""
    subsets = st.lists(st.sampled_from(TEAMS), unique=True)
    teams_of = {r: draw(subsets) for r in ROLES}
    kpis_of = {r: draw(st.lists(st.sampled_from(KPIS), unique=True)) for r in ROLES}
    people = draw(st.lists(st.tuples(st.sampled_from(TEAMS), st.sampled_from(ROLES)), max_size=5))
    ids = ["", STRANGER, *(f"E{i}" for i in range(len(people)))]
    keys = draw(st.lists(st.tuples(st.sampled_from(PERIODS), st.sampled_from(TEAMS), st.sampled_from(ids),
                                   st.sampled_from(KPIS)), unique=True, min_size=1, max_size=30))
    actuals = pd.DataFrame(keys, columns=["period", "team", "employee_id", "kpi_id"], dtype=object)
    actuals["value"] = np.arange(1, len(actuals) + 1, dtype="float64")
    return framework_of(teams_of, kpis_of), employees_of(people), actuals


def reference(framework: Framework, employees: pd.DataFrame, row: pd.Series) -> tuple[str | None, set[str]]:
    """The rule as the module's docstring states it: why the value is left out, or the roles it counts for."""
    holding = {r.id for r in framework.roles if any(k.kpi == row["kpi_id"] for k in r.kpis)}
    people = {e: (t, r) for e, t, r in zip(employees["employee_id"], employees["team"], employees["role"],
                                            strict=True)}
    if row["employee_id"] == "":
        team_roles = {r.id for r in framework.roles if row["team"] in r.teams}
        team_roles |= {r for t, r in people.values() if t == row["team"]}
        counted = team_roles & holding
        return (None, counted) if counted else (NOT_THE_TEAM, set())
    if row["employee_id"] not in people:
        return UNKNOWN_EMPLOYEE, set()
    team, role = people[row["employee_id"]]
    if team != row["team"]:
        return OTHER_TEAM, set()
    return (None, {role}) if role in holding else (NOT_THE_ROLE, set())


def imported(framework: Framework, employees: pd.DataFrame, actuals: pd.DataFrame) -> tuple[set[int], pd.DataFrame]:
    """The rows (0-based) import validation accepts, and its report (row 0-based, column, value, reason)."""
    with tempfile.TemporaryDirectory() as folder, Scratch() as scratch:
        path = Path(folder) / "actuals.csv"
        actuals.to_csv(path, index=False)
        checked = validate_actuals(read_actuals_file(path, scratch=scratch), framework, employees)
        valid = checked.scratch.frame(f"SELECT row FROM {checked.valid_table}")["row"]
        report = checked.report.assign(row=checked.report["row"] - 2)  # the header is row 1 of the file
        return set((valid - 2).tolist()), report


def computed_reasons(framework: Framework, employees: pd.DataFrame, actuals: pd.DataFrame) -> list[str | None]:
    """Compute's left-out reason of each row, on DuckDB: per team for team-level rows, else per employee."""
    assignments = Assignments(framework, employees)
    rows = ibis.memtable(actuals[["team", "employee_id", "kpi_id"]].assign(n=np.arange(len(actuals))),
                         schema={"team": "string", "employee_id": "string", "kpi_id": "string", "n": "int64"})
    table = rows.left_join(assignments.staff, rows.employee_id == assignments.staff["__staff"])
    team_level = table.employee_id == ""
    reason = ibis.cases(*[((table.kpi_id == kpi) & team_level, assignments.left_out(table, kpi, Per.TEAM))
                          for kpi in KPIS],
                        *[((table.kpi_id == kpi) & ~team_level, assignments.left_out(table, kpi, Per.EMPLOYEE))
                          for kpi in KPIS], else_=ibis.literal("no case"))
    con = ibis.duckdb.connect()
    frame = con.execute(table.select("n", reason=reason).order_by("n"))
    con.disconnect()
    return [None if pd.isna(r) else r for r in frame["reason"]]


def expected_scores(framework: Framework, employees: pd.DataFrame, actuals: pd.DataFrame,
                    counts: pd.Series) -> pd.DataFrame:
    """Every period × employee × KPI of the role: its own counting value, else its team's, else NaN."""
    value = {(a.period, a.team, a.employee_id, a.kpi_id): a.value
             for a in actuals[counts].itertuples(index=False)}
    rows = [(p, e.employee_id, k.kpi, value.get((p, e.team, e.employee_id, k.kpi), value.get((p, e.team, "", k.kpi))))
            for p in PERIODS for e in employees.itertuples(index=False) for k in framework.role(e.role).kpis]
    return pd.DataFrame(rows, columns=["period", "employee_id", "kpi_id", "value"]).astype({"value": "float64"})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_import_scoring_history_and_compute_agree_on_every_value(case):
    framework, employees, actuals = case
    expected = [reference(framework, employees, row) for _, row in actuals.iterrows()]
    reasons = [reason for reason, _ in expected]
    counts = pd.Series([reason is None for reason in reasons], dtype=bool)

    assert KpiHolders.of(framework, employees).left_out(actuals).tolist() == reasons

    accepted, report = imported(framework, employees, actuals)
    assert accepted == set(np.flatnonzero(counts))
    assert set(report["reason"]) <= set(REASONS)
    for n, reason in enumerate(reasons):
        assert (reason is None) == (n not in set(report["row"]))
        assert reason is None or reason in set(report.loc[report["row"] == n, "reason"])

    scores = score_actuals(actuals, employees, framework, periods=PERIODS)
    got = scores[["period", "employee_id", "kpi_id", "value"]].astype(
        {c: str for c in ("period", "employee_id", "kpi_id")}).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, expected_scores(framework, employees, actuals, counts), check_dtype=False)
    assert set(scores["value"].dropna()) <= set(actuals.loc[counts, "value"])

    history = role_history(framework, actuals, employees)
    got_history = sorted(zip(history["value"].astype(int) - 1, history["role"].astype(str), strict=True))
    assert got_history == sorted((n, role) for n, (_, roles) in enumerate(expected) for role in roles)

    assert computed_reasons(framework, employees, actuals) == reasons


def test_a_team_level_value_counts_for_the_roles_the_teams_people_hold():
    """The team t1 is listed by no role, yet its person holds r0: its team-level value is accepted, scored for
    that person and in r0's history, and compute keeps it (it used to be missing from the history)."""
    framework = framework_of({"r0": ["t0"], "r1": [], "r2": []}, {"r0": ["k0"], "r1": [], "r2": []})
    employees = employees_of([("t0", "r0"), ("t1", "r0")])
    actuals = pd.DataFrame({"period": ["2025Q1"], "team": ["t1"], "employee_id": [""], "kpi_id": ["k0"],
                            "value": [42.0]})
    accepted, report = imported(framework, employees, actuals)
    assert accepted == {0} and report.empty
    scores = score_actuals(actuals, employees, framework).set_index("employee_id")
    assert scores.loc["E1", "value"] == 42.0 and np.isnan(scores.loc["E0", "value"])
    history = role_history(framework, actuals, employees)
    assert history[["role", "team", "value"]].astype({"role": str}).values.tolist() == [["r0", "t1", 42.0]]
    assert computed_reasons(framework, employees, actuals) == [None]
