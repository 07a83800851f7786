"""Headcount, leavers and turnover from an HRIS roster (hire and termination dates), against plain pandas.

A generated roster has rehires, people hired and gone on the same day, blank termination dates, department names with
stray spaces and case, and status text; every team, department and organization value, zeros included, must equal
what pandas computes from the same rows — in DuckDB and in a real PostgreSQL server.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kpi_workbook.analysis.measures import compute
from kpi_workbook.core.model import Framework, KpiDefinition, Metadata, Objective, Role, RoleKpi, Team
from kpi_workbook.workspace.employees import load_employees
from kpi_workbook.workspace.files import load_framework, save_framework

TEAMS = {"sales": ("Sales", "Commercial"), "marketing": ("Marketing", "Commercial"), "ops": ("Operations", "Ops"),
         "quiet": ("Quiet Corner", "Ops")}
AS_OF = dt.date(2025, 12, 31)
VOLUNTARY = "Voluntarily Terminated"
SOURCES = f"""sources:
- name: roster
  file: exports/roster.csv
  start: hire_date
  end: termination_date
  as_of: {AS_OF.isoformat()}
  date_formats: ['%m/%d/%Y']
  team: department
  team_match: name
  where: 'status != "Contractor"'
  columns: {{status: text, fte: number}}
"""
ROSTER = {"source": "roster"}
LEAVERS = ROSTER | {"function": "count", "date": "termination_date"}
AVERAGE = ROSTER | {"function": "headcount", "at": "average"}
MEASURES = {
    "headcount_end": ("people", {"aggregate": ROSTER | {"function": "headcount", "at": "end"}, "per": "team"}),
    "headcount_average": ("people", {"aggregate": AVERAGE, "per": "team"}),
    "fte_month_ends": ("FTE", {"aggregate": ROSTER | {"function": "headcount", "at": "month_ends", "column": "fte"},
                               "per": "team"}),
    "leavers": ("people", {"aggregate": LEAVERS, "per": "team"}),
    "voluntary_leavers": ("people", {"aggregate": LEAVERS | {"where": f'status == "{VOLUNTARY}"'}, "per": "team"}),
    "hires": ("people", {"aggregate": ROSTER | {"function": "count", "date": "hire_date"}, "per": "team"}),
    "turnover": ("%", {"ratio": {"numerator": LEAVERS, "denominator": AVERAGE}, "per": "team", "scale": 100}),
    "turnover_t12m": ("%", {"ratio": {"numerator": LEAVERS, "denominator": AVERAGE}, "per": "team", "scale": 100,
                            "window": 4}),
}


def roster(seed: int, people: int = 160) -> pd.DataFrame:
    """A roster export: one row per employment spell, some people twice (rehired), some gone the day they came."""
    rng = np.random.default_rng(seed)
    rows = []
    for person in range(people):
        team = rng.choice([t for t in TEAMS if t != "quiet"])
        start = dt.date(2022, 6, 1) + dt.timedelta(days=int(rng.integers(0, 1200)))
        for _ in range(2 if rng.random() < 0.15 else 1):
            if start > AS_OF:
                break
            gone = rng.random() < 0.45
            end = start + dt.timedelta(days=int(rng.integers(0, 700))) if gone else None
            end = start if gone and rng.random() < 0.05 else end
            end = None if end is not None and end > AS_OF else end
            status = ("Active" if end is None else VOLUNTARY if rng.random() < 0.6 else "Terminated for Cause")
            status = "Contractor" if rng.random() < 0.05 else status
            name = TEAMS[team][0]
            shown = rng.choice([name, f"{name}  ", name.upper(), f" {name.lower()}"])
            rows.append({"employee": f"P{person:04d}", "department": shown, "hire_date": start,
                         "termination_date": end, "status": status, "fte": float(rng.choice([1.0, 0.5, 0.8])),
                         "team": team})
            if end is None:
                break
            start = end + dt.timedelta(days=int(rng.integers(1, 300)))
    return pd.DataFrame(rows)


def framework() -> Framework:
    kpis = [KpiDefinition(id=k, name=k.replace("_", " ").capitalize(), unit=unit, polarity="lower_is_better",
                          category="output", indicator="lagging", frequency="quarterly", measure=m)
            for k, (unit, m) in MEASURES.items()]
    role = Role(id="manager", title="Manager", teams=list(TEAMS),
                kpis=[RoleKpi(kpi=k.id, weight=100 / len(kpis), target=1) for k in kpis])
    return Framework(metadata=Metadata(organization="Roster Ltd"),
                     objectives=[Objective(id="people", title="Keep people", perspective="learning_growth")],
                     teams=[Team(id=t, name=name, department=dept) for t, (name, dept) in TEAMS.items()],
                     kpis=kpis, roles=[role])


def write(root: Path, frame: pd.DataFrame) -> Path:
    save_framework(framework(), root)
    (root / "employees.csv").write_text("employee_id,name,team,role\nM1,Mo,sales,manager\n", encoding="utf-8")
    (root / "exports").mkdir()
    export = frame.drop(columns="team").assign(
        hire_date=frame["hire_date"].map(lambda d: d.strftime("%m/%d/%Y")),
        termination_date=frame["termination_date"].map(lambda d: d.strftime("%m/%d/%Y") if d else ""))
    export.to_csv(root / "exports" / "roster.csv", index=False)
    (root / "sources.yaml").write_text(SOURCES, encoding="utf-8")
    return root


# --- the same figures in plain pandas ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Quarter:
    label: str
    start: dt.date
    end: dt.date


def _active(rows: pd.DataFrame, day: dt.date) -> pd.Series:
    return (rows["hire_date"] <= day) & (rows["termination_date"].isna() | (rows["termination_date"] >= day))


def _between(dates: pd.Series, period: Quarter) -> pd.Series:
    return dates.notna() & (dates >= period.start) & (dates <= period.end)


def by_hand(rows: pd.DataFrame, periods: list[Quarter]) -> dict[str, dict[str, float]]:
    """Every KPI's value per period over `rows`; absent where pandas has no value (a zero divisor, a window that
    starts before the records)."""
    rows = rows[rows["status"] != "Contractor"]
    leaving = rows["termination_date"].astype(object)
    out: dict[str, dict[str, float]] = {k: {} for k in MEASURES}
    average: dict[str, float] = {}
    for index, period in enumerate(periods):
        month_ends = pd.date_range(period.start, period.end, freq="ME").date
        average[period.label] = (_active(rows, period.start).sum() + _active(rows, period.end).sum()) / 2
        leavers = _between(leaving, period)
        values = {
            "headcount_end": float(_active(rows, period.end).sum()),
            "headcount_average": average[period.label],
            "fte_month_ends": float(np.mean([rows.loc[_active(rows, d), "fte"].sum() for d in month_ends])),
            "leavers": float(leavers.sum()),
            "voluntary_leavers": float((leavers & (rows["status"] == VOLUNTARY)).sum()),
            "hires": float(_between(rows["hire_date"].astype(object), period).sum()),
        }
        if average[period.label]:
            values["turnover"] = 100 * values["leavers"] / average[period.label]
        window = periods[index - 3:index + 1] if index >= 3 else []
        if window:
            left = sum(_between(leaving, p).sum() for p in window)
            mean = np.mean([(_active(rows, p.start).sum() + _active(rows, p.end).sum()) / 2 for p in window])
            if mean:
                values["turnover_t12m"] = 100 * left / mean
        for kpi, value in values.items():
            out[kpi][period.label] = float(value)
    return out


def expected(frame: pd.DataFrame, first: dt.date | None = None) -> pd.DataFrame:
    periods = [Quarter(f"{q.year}Q{q.quarter}", q.start_time.date(), q.end_time.date())
               for q in pd.period_range(first or frame["hire_date"].min(), AS_OF, freq="Q")]
    scopes = {("team", t): [t] for t in TEAMS}
    scopes |= {("department", d.lower()): [t for t, (_, dd) in TEAMS.items() if dd == d]
               for d in {d for _, d in TEAMS.values()}}
    scopes |= {("organization", "organization"): list(TEAMS)}
    rows = []
    for (level, scope), teams in scopes.items():
        for kpi, values in by_hand(frame[frame["team"].isin(teams)], periods).items():
            rows += [(level, scope, period, kpi, value) for period, value in values.items()]
    return pd.DataFrame(rows, columns=["level", "scope", "period", "kpi_id", "value"])


def computed(root: Path) -> pd.DataFrame:
    fw = load_framework(root)
    result = compute(root, fw, load_employees(root, fw))
    teams = result.values.astype({"period": str, "team": str, "kpi_id": str}).rename(columns={"team": "scope"})
    teams = teams.assign(level="team")[["level", "scope", "period", "kpi_id", "value"]]
    return pd.concat([teams, result.scopes[["level", "scope", "period", "kpi_id", "value"]]], ignore_index=True)


def assert_same(found: pd.DataFrame, wanted: pd.DataFrame) -> None:
    keys = ["level", "scope", "period", "kpi_id"]
    merged = found.merge(wanted, on=keys, how="outer", suffixes=("_found", "_wanted"), indicator=True)
    extra, missing = merged[merged["_merge"] == "left_only"], merged[merged["_merge"] == "right_only"]
    assert extra.empty, f"values pandas does not have:\n{extra.head(10)}"
    assert missing.empty, f"values missing:\n{missing.head(10)}"
    close = np.isclose(merged["value_found"], merged["value_wanted"], rtol=1e-12, atol=1e-12)
    assert close.all(), f"values that differ:\n{merged[~close].head(10)}"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_roster_measures_equal_pandas_at_every_level_zeros_included(tmp_path, seed):
    frame = roster(seed)
    found = computed(write(tmp_path / "ws", frame))
    wanted = expected(frame)
    assert_same(found, wanted)
    quiet = found[(found["scope"] == "quiet") & (found["kpi_id"] == "leavers")]
    assert len(quiet) and (quiet["value"] == 0).all()  # a team nobody works in: zeros, every quarter


def test_covers_from_starts_the_periods_where_the_export_is_complete(tmp_path):
    frame = roster(8)  # hires from mid-2022 on; say the export is complete (every leaver in it) from 2024 only
    root = write(tmp_path / "ws", frame)
    (root / "sources.yaml").write_text(SOURCES.replace("  as_of:", "  covers_from: 2024-01-01\n  as_of:"),
                                       encoding="utf-8")
    found = computed(root)
    assert_same(found, expected(frame, dt.date(2024, 1, 1)))
    assert found["period"].min() == "2024Q1"
    assert found.loc[found["kpi_id"] == "turnover_t12m", "period"].min() == "2024Q4"


def test_a_period_when_nobody_left_is_zero_and_turnover_zero(tmp_path):
    frame = roster(4)
    frame = frame[~frame["termination_date"].map(lambda d: d is not None and dt.date(2024, 4, 1) <= d
                                                  <= dt.date(2024, 6, 30))]
    found = computed(write(tmp_path / "ws", frame)).set_index(["level", "scope", "period", "kpi_id"])["value"]
    assert found[("organization", "organization", "2024Q2", "leavers")] == 0
    assert found[("organization", "organization", "2024Q2", "turnover")] == 0


NO_SPANS = "a headcount needs rows valid over spans of days, but source 'roster' has no `start` (and `end`) column"


def test_a_headcount_on_a_source_without_spans_is_an_input_error(tmp_path):
    from kpi_workbook.core.errors import InputError

    root = write(tmp_path / "ws", roster(5))
    text = SOURCES.replace("  start: hire_date\n  end: termination_date\n", "  when: hire_date\n")
    (root / "sources.yaml").write_text(text, encoding="utf-8")
    fw = load_framework(root)
    with pytest.raises(InputError) as raised:
        compute(root, fw, load_employees(root, fw))
    said = str(raised.value)
    assert f"KPI 'headcount_end', field 'measure.aggregate': {NO_SPANS}" in said
    from kpi_workbook.analysis.checks.measures import source_findings  # validate says the same

    assert ("headcount_end", "measure.aggregate", NO_SPANS) in {
        (f.kpi, f.field, f.message) for f in source_findings(root, fw)}


def test_roster_measures_on_postgresql_equal_duckdb(tmp_path, postgres_url):
    import psycopg

    frame = roster(6)
    local = write(tmp_path / "local", frame)
    with psycopg.connect(postgres_url.replace("postgres://", "postgresql://")) as con:
        con.execute("DROP TABLE IF EXISTS roster")
        con.execute("CREATE TABLE roster (employee text, department text, hire_date date, termination_date date, "
                    "status text, fte numeric(4, 2))")
        with con.cursor() as cursor:
            cursor.executemany("INSERT INTO roster VALUES (%s, %s, %s, %s, %s, %s)",
                               [(r.employee, r.department, r.hire_date, r.termination_date, r.status, r.fte)
                                for r in frame.itertuples(index=False)])
    remote = write(tmp_path / "remote", frame)
    text = SOURCES.replace("  file: exports/roster.csv\n", f"  url: {postgres_url}\n  table: roster\n").replace(
        "  date_formats: ['%m/%d/%Y']\n", "")
    (remote / "sources.yaml").write_text(text, encoding="utf-8")
    assert_same(computed(remote), expected(frame))
    assert_same(computed(local), expected(frame))


def test_validate_names_a_headcount_without_spans_an_unknown_date_and_a_bad_source_filter(tmp_path):
    from kpi_workbook.analysis.checks.measures import source_findings

    root = write(tmp_path / "ws", roster(7))
    text = SOURCES.replace("  start: hire_date\n  end: termination_date\n", "  when: hire_date\n").replace(
        'where: \'status != "Contractor"\'', 'where: \'state != "Contractor"\'').replace(
        "columns: {status: text, fte: number}", "columns: {status: text, fte: number, termination_date: text}")
    (root / "sources.yaml").write_text(text, encoding="utf-8")
    found = {(f.kpi or f.entry, f.field, f.message) for f in source_findings(root, load_framework(root))}
    assert ("headcount_end", "measure.aggregate", NO_SPANS) in found
    assert ("leavers", "measure.aggregate.date", "`date: termination_date` is not a date column of source "
            "'roster' (its date columns: hire_date)") in found
    assert any(entry == "source 'roster'" and field == "where" and "no column 'state'" in message
               for entry, field, message in found)
