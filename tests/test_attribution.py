"""Attribution as of the event date: tickets counted under the team their agent was in on the ticket's date (from a
team history with validity spans), against plain pandas; rows the history cannot place are errors, never guesses."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_roster_measures import assert_same, computed

from kpi_workbook.analysis.checks.measures import source_findings
from kpi_workbook.analysis.measures import compute
from kpi_workbook.core.errors import InputError
from kpi_workbook.core.model import Framework, KpiDefinition, Metadata, Objective, Role, RoleKpi, Team
from kpi_workbook.workspace.employees import load_employees
from kpi_workbook.workspace.files import load_framework, save_framework

TEAMS = {"north": "Field", "south": "Field", "desk": "Office"}
FIRST, LAST = dt.date(2024, 1, 1), dt.date(2025, 12, 31)
SOURCES = """sources:
- name: moves
  file: exports/moves.csv
  start: valid_from
  end: valid_to
  employee: agent
  team: team
- name: tickets
  file: exports/tickets.csv
  when: opened_on
  employee: agent
  team_as_of: moves
  columns: {minutes: number}
"""
MEASURES = {"tickets": {"aggregate": {"source": "tickets", "function": "count"}},
            "minutes": {"aggregate": {"source": "tickets", "function": "sum", "column": "minutes"}}}


def records(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Agents moving between teams (back-to-back spells, the last one open), and their tickets."""
    rng = np.random.default_rng(seed)
    spells, tickets = [], []
    for number in range(24):
        agent, start = f"A{number:02d}", FIRST
        while start <= LAST:
            end = start + dt.timedelta(days=int(rng.integers(20, 400)))
            end = None if end > LAST else end
            spells.append({"agent": agent, "team": rng.choice(list(TEAMS)), "valid_from": start, "valid_to": end})
            start = LAST + dt.timedelta(days=1) if end is None else end + dt.timedelta(days=1)
        for _ in range(int(rng.integers(10, 60))):
            tickets.append({"agent": agent, "opened_on": FIRST + dt.timedelta(days=int(rng.integers(0, 731))),
                            "minutes": float(rng.integers(1, 90))})
    tickets[0]["opened_on"], tickets[1]["opened_on"] = FIRST, LAST
    return pd.DataFrame(spells), pd.DataFrame(tickets)


def write(root: Path, spells: pd.DataFrame, tickets: pd.DataFrame) -> Path:
    kpis = [KpiDefinition(id=k, name=k.title(), unit="n", polarity="higher_is_better", category="output",
                          indicator="lagging", frequency="quarterly", measure=m | {"per": "team"})
            for k, m in MEASURES.items()]
    role = Role(id="agent", title="Agent", teams=list(TEAMS), kpis=[RoleKpi(kpi=k, weight=50, target=1)
                                                                     for k in MEASURES])
    save_framework(Framework(metadata=Metadata(organization="Desk Ltd"), objectives=[
        Objective(id="serve", title="Serve", perspective="customer")], teams=[
        Team(id=t, name=t.title(), department=d) for t, d in TEAMS.items()], kpis=kpis, roles=[role]), root)
    people = "\n".join(f"{a},{a},{t},agent" for a, t in spells.groupby("agent")["team"].last().items())
    (root / "employees.csv").write_text(f"employee_id,name,team,role\n{people}\n", encoding="utf-8")
    (root / "exports").mkdir()
    spells.assign(valid_to=spells["valid_to"].map(lambda d: d.isoformat() if d else "")).to_csv(
        root / "exports" / "moves.csv", index=False)
    tickets.to_csv(root / "exports" / "tickets.csv", index=False)
    (root / "sources.yaml").write_text(SOURCES, encoding="utf-8")
    return root


def expected(spells: pd.DataFrame, tickets: pd.DataFrame) -> pd.DataFrame:
    """Each ticket under the team of its agent's spell on its date; per team, department and organization."""
    to = spells["valid_to"].fillna(dt.date.max)
    team = [spells.loc[(spells["agent"] == r.agent) & (spells["valid_from"] <= r.opened_on) & (to >= r.opened_on),
                       "team"].item() for r in tickets.itertuples(index=False)]
    placed = tickets.assign(team=team, period=[f"{d.year}Q{(d.month - 1) // 3 + 1}" for d in tickets["opened_on"]])
    periods = [f"{y}Q{q}" for y in (2024, 2025) for q in range(1, 5)]
    scopes = {("team", t): [t] for t in TEAMS} | {("department", d.lower()): [t for t in TEAMS if TEAMS[t] == d]
                                                  for d in set(TEAMS.values())}
    scopes[("organization", "organization")] = list(TEAMS)
    rows = []
    for (level, scope), teams in scopes.items():
        mine = placed[placed["team"].isin(teams)]
        for period in periods:
            rows.append((level, scope, period, "tickets", float((mine["period"] == period).sum())))
            rows.append((level, scope, period, "minutes", float(mine.loc[mine["period"] == period, "minutes"].sum())))
    return pd.DataFrame(rows, columns=["level", "scope", "period", "kpi_id", "value"])


@pytest.mark.parametrize("seed", [1, 2])
def test_tickets_count_under_the_team_their_agent_was_in_that_day(tmp_path, seed):
    spells, tickets = records(seed)
    assert_same(computed(write(tmp_path / "ws", spells, tickets)), expected(spells, tickets))


def test_a_ticket_outside_every_spell_or_inside_two_is_an_error_naming_agent_and_day(tmp_path):
    spells, tickets = records(3)
    first = spells.iloc[0]
    spells = pd.concat([spells, pd.DataFrame([{**first, "team": "desk"}])], ignore_index=True)  # overlapping
    tickets = pd.concat([tickets, pd.DataFrame([{"agent": first["agent"], "opened_on": first["valid_from"],
                                                 "minutes": 5.0}])], ignore_index=True)
    root = write(tmp_path / "ws", spells, tickets)
    fw = load_framework(root)
    with pytest.raises(InputError) as raised:
        compute(root, fw, load_employees(root, fw))
    said = str(raised.value)
    assert f"employee '{first['agent']}' has 2 team spell(s) in source 'moves' on {first['valid_from']}" in said
    assert "source 'tickets', field 'team_as_of'" in said


def test_validate_names_a_team_history_that_is_not_one(tmp_path):
    spells, tickets = records(4)
    root = write(tmp_path / "ws", spells, tickets)
    (root / "sources.yaml").write_text(SOURCES.replace("team_as_of: moves", "team_as_of: tickets"), encoding="utf-8")
    found = [(f.entry, f.field, f.message) for f in source_findings(root, load_framework(root))]
    assert found == [("source 'tickets'", "team_as_of", "source 'tickets' is not a team history: it needs `start` "
                      "(and `end`), an employee column and a team column")]


def test_a_warehouse_source_with_a_file_history_is_an_error_with_the_way_out(tmp_path, postgres_url):
    import psycopg

    spells, tickets = records(5)
    with psycopg.connect(postgres_url.replace("postgres://", "postgresql://")) as con:
        con.execute("DROP TABLE IF EXISTS tickets")
        con.execute("CREATE TABLE tickets (agent text, opened_on date, minutes double precision)")
        with con.cursor() as cursor:
            cursor.executemany("INSERT INTO tickets VALUES (%s, %s, %s)",
                               [(r.agent, r.opened_on, r.minutes) for r in tickets.itertuples(index=False)])
    root = write(tmp_path / "ws", spells, tickets)
    (root / "sources.yaml").write_text(SOURCES.replace("  file: exports/tickets.csv\n",
                                                       f"  url: {postgres_url}\n  table: tickets\n"), encoding="utf-8")
    fw = load_framework(root)
    with pytest.raises(InputError) as raised:
        compute(root, fw, load_employees(root, fw))
    [problem] = raised.value.problems
    assert (problem.entry, problem.field) == ("source 'tickets'", "team_as_of")
    assert "both must be files, or tables of one database" in problem.message
