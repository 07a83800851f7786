"""The sample organization's People KPIs (headcount, turnover, voluntary turnover over twelve months, absence rate,
training hours per FTE): its HRIS roster, absence and training exports look like real ones, and what `compute` gives
from them equals the same figures worked out in plain pandas, for every team, period and the organization, zeros
included."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from kpi_workbook.analysis.measures import compute
from kpi_workbook.core.paths import SAMPLE_ORG_DIR
from kpi_workbook.sample import quarter_labels
from kpi_workbook.workspace.employees import load_employees
from kpi_workbook.workspace.files import ACTUALS_CSV, load_framework
from kpi_workbook.workspace.sources import load_sources

PEOPLE = ["headcount", "turnover_rate", "voluntary_turnover_rate_t12m", "absenteeism_rate", "training_hours_per_fte"]
WINDOW_START, AS_OF = dt.date(2024, 1, 1), dt.date(2025, 12, 31)
VOLUNTARY = {"Voluntarily Terminated", "Retired"}
WORKING_DAYS = 62.5  # a quarter's scheduled working days per FTE (250 a year)


def _export(name: str) -> pd.DataFrame:
    return pd.read_csv(SAMPLE_ORG_DIR / "exports" / name, dtype=str, keep_default_na=False)


def _days(text: pd.Series, fmt: str) -> pd.Series:
    return pd.to_datetime(text.where(text != ""), format=fmt).dt.date


@pytest.fixture(scope="module")
def framework():
    return load_framework(SAMPLE_ORG_DIR)


@pytest.fixture(scope="module")
def roster(framework) -> pd.DataFrame:
    """The roster as exported, with dates parsed and each department name matched to its team by hand."""
    frame = _export("hris_roster.csv")
    by_name = {" ".join(t.name.lower().split()): t.id for t in framework.teams}
    return frame.assign(team=frame["department"].map(lambda d: by_name[" ".join(d.lower().split())]),
                        hired=_days(frame["hire_date"], "%d.%m.%Y"),
                        last=_days(frame["termination_date"], "%d.%m.%Y"), fte=frame["fte"].astype(float))


@pytest.fixture(scope="module")
def computed(framework) -> pd.DataFrame:
    """The People KPIs as compute gives them: team values, and the organization's as team 'organization'."""
    result = compute(SAMPLE_ORG_DIR, framework, load_employees(SAMPLE_ORG_DIR, framework), kpis=PEOPLE)
    teams = result.values[["period", "team", "kpi_id", "value"]].astype({"period": str, "team": str, "kpi_id": str})
    whole = result.scopes[result.scopes["level"] == "organization"].rename(columns={"scope": "team"})
    return pd.concat([teams, whole[["period", "team", "kpi_id", "value"]]], ignore_index=True)


# --- the same figures in plain pandas ------------------------------------------------------------------------

def _quarters() -> list[tuple[str, dt.date, dt.date]]:
    return [(q, p.start_time.date(), p.end_time.date())
            for q, p in zip(quarter_labels("2024Q1", 8), pd.period_range("2024Q1", periods=8, freq="Q"), strict=True)]


def _active(rows: pd.DataFrame, day: dt.date) -> pd.Series:
    """Employed on the day: hired by then, and no termination date or one on or after it (the last day counts)."""
    return (rows["hired"] <= day) & (rows["last"].isna() | (rows["last"] >= day))


def _dated(dates: pd.Series, first: dt.date, last: dt.date) -> pd.Series:
    return dates.notna() & (dates >= first) & (dates <= last)


def by_hand(rows: pd.DataFrame, absences: pd.DataFrame, training: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Each People KPI per quarter over the rows of one team (or all of them); absent where there is no value."""
    out: dict[str, dict[str, float]] = {k: {} for k in PEOPLE}
    average, quits = {}, {}
    quarters = _quarters()
    for index, (label, first, last) in enumerate(quarters):
        average[label] = (_active(rows, first).sum() + _active(rows, last).sum()) / 2
        fte = (rows.loc[_active(rows, first), "fte"].sum() + rows.loc[_active(rows, last), "fte"].sum()) / 2
        left = _dated(rows["last"], first, last)
        quits[label] = (left & rows["status"].isin(VOLUNTARY)).sum()
        out["headcount"][label] = float(_active(rows, last).sum())
        out["turnover_rate"][label] = 100 * left.sum() / average[label]
        days = absences.loc[_dated(absences["first_day"], first, last), "days"].astype(int).sum()
        out["absenteeism_rate"][label] = 100 * days / (fte * WORKING_DAYS)
        out["training_hours_per_fte"][label] = training.loc[
            _dated(training["completed_on"], first, last), "hours"].astype(float).sum() / fte
        if index >= 3:  # four quarters of records: 2024Q4 on
            window = [q for q, _, _ in quarters[index - 3:index + 1]]
            out["voluntary_turnover_rate_t12m"][label] = (
                100 * sum(quits[q] for q in window) / np.mean([average[q] for q in window]))
    return out


@pytest.fixture(scope="module")
def expected(framework, roster) -> pd.DataFrame:
    """Every People KPI of every team that holds it, and of the organization, worked out in pandas."""
    absences, training = _export("absences.csv"), _export("training.csv")
    absences["first_day"] = _days(absences["first_day"], "%Y-%m-%d")
    training["completed_on"] = _days(training["completed_on"], "%Y-%m-%d")
    holders = {kpi: {t for r in framework.roles if any(k.kpi == kpi for k in r.kpis) for t in r.teams}
               for kpi in PEOPLE}
    rows = []
    for team in [t.id for t in framework.teams] + ["organization"]:
        frames = [f if team == "organization" else f[f["team"] == team] for f in (roster, absences, training)]
        for kpi, values in by_hand(*frames).items():
            if team == "organization" or team in holders[kpi]:
                rows += [(period, team, kpi, value) for period, value in values.items()]
    return pd.DataFrame(rows, columns=["period", "team", "kpi_id", "value"])


# --- the exports -------------------------------------------------------------------------------------------

def test_the_roster_has_one_row_per_employment_spell_as_an_hris_exports_it(roster, framework):
    assert list(roster.columns[:6]) == ["employee_id", "department", "hire_date", "termination_date", "status",
                                        "fte"]
    assert set(roster["status"]) == {"Active", "Voluntarily Terminated", "Retired", "Terminated for Cause",
                                     "Position Eliminated"}
    assert ((roster["status"] == "Active") == roster["last"].isna()).all()  # blank while employed
    assert set(roster["fte"]) == {1.0, 0.75, 0.5}
    assert (roster["hired"] < WINDOW_START).sum() > 100 and (roster["hired"] >= WINDOW_START).sum() > 5
    assert (roster["hired"] == roster["last"]).any()  # hired and gone the same day
    assert (roster["employee_id"].value_counts() > 1).sum() >= 3  # rehired: a row per spell
    assert (roster["last"].dropna() <= AS_OF).all()
    names = {t.name for t in framework.teams}
    messy = ~roster["department"].isin(names)
    assert 0.2 < messy.mean() < 0.8 and roster.loc[messy, "department"].str.endswith(" ").any()


def test_everyone_in_employees_csv_is_employed_through_every_quarter(roster):
    employees = pd.read_csv(SAMPLE_ORG_DIR / "employees.csv", dtype=str)
    current = roster[roster["employee_id"].isin(employees["employee_id"])]
    assert set(current["employee_id"]) == set(employees["employee_id"])
    assert (current["status"] == "Active").all() and current["employee_id"].is_unique
    assert (current["team"].to_numpy() == employees.set_index("employee_id").loc[current["employee_id"],
                                                                                  "team"].to_numpy()).all()
    assert all(_active(current, last).all() for _, _, last in _quarters())


def test_the_roster_and_the_quarterly_snapshots_name_the_same_leavers(roster):
    snapshots = _export("hris_employees.csv")
    left = snapshots[snapshots["leave_date"] != ""]
    gone = roster[roster["last"].notna()]
    assert sorted(zip(left["employee_id"], _days(left["leave_date"], "%d.%m.%Y"), strict=True)) == sorted(
        zip(gone["employee_id"], gone["last"], strict=True))
    voluntary = dict(zip(zip(gone["employee_id"], gone["last"], strict=True), gone["status"].isin(VOLUNTARY),
                         strict=True))
    assert all(voluntary[(e, d)] == (reason == "voluntary") for e, d, reason in zip(
        left["employee_id"], _days(left["leave_date"], "%d.%m.%Y"), left["leave_reason"], strict=True))


def test_the_roster_source_is_declared_with_spans_and_its_export_day():
    roster = load_sources(SAMPLE_ORG_DIR)["hris_roster"]
    assert (roster.start, roster.end, roster.as_of) == ("hire_date", "termination_date", AS_OF)
    assert roster.covers_from == WINDOW_START  # complete from the first quarter on: no values before it
    assert (roster.team, roster.team_match.value) == ("department", "name")


# --- the figures -------------------------------------------------------------------------------------------

def test_computed_people_kpis_equal_pandas_for_every_team_period_and_the_organization(computed, expected):
    keys = ["period", "team", "kpi_id"]
    merged = computed.merge(expected, on=keys, how="outer", suffixes=("_found", "_wanted"), indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"].head(10)
    close = np.isclose(merged["value_found"], merged["value_wanted"], rtol=1e-12, atol=0)
    assert close.all(), merged[~close].head(10)
    teams = merged[merged["team"] != "organization"].groupby("kpi_id")["team"].unique().map(sorted).to_dict()
    assert teams == {"headcount": ["marketing", "sales"], "turnover_rate": ["marketing", "operations", "sales"],
                     "voluntary_turnover_rate_t12m": ["customer_support"],
                     "absenteeism_rate": ["customer_support", "operations"], "training_hours_per_fte": ["marketing"]}


def test_a_quarter_without_leavers_is_a_turnover_of_zero(computed, roster):
    values = computed.set_index(["period", "team", "kpi_id"])["value"]
    marketing = roster[roster["team"] == "marketing"]
    for label, first, last in _quarters():
        if not _dated(marketing["last"], first, last).any():
            assert values[(label, "marketing", "turnover_rate")] == 0.0
    turnover = computed[(computed["kpi_id"] == "turnover_rate") & (computed["team"] != "organization")]
    assert (turnover["value"] == 0).sum() >= 4 and (turnover["value"] > 0).sum() >= 10


def test_trailing_twelve_months_start_once_four_quarters_are_on_record(computed):
    t12m = computed[(computed["kpi_id"] == "voluntary_turnover_rate_t12m") & (computed["team"] == "customer_support")]
    assert sorted(t12m["period"]) == ["2024Q4", "2025Q1", "2025Q2", "2025Q3", "2025Q4"]


def test_the_sample_actuals_hold_exactly_what_compute_gives(computed):
    actuals = pd.read_csv(SAMPLE_ORG_DIR / ACTUALS_CSV, dtype={"employee_id": str}, keep_default_na=False)
    stored = actuals[actuals["kpi_id"].isin(PEOPLE)]
    assert (stored["employee_id"] == "").all()
    teams = computed[computed["team"] != "organization"]
    merged = stored.merge(teams, on=["period", "team", "kpi_id"], how="outer", indicator=True)
    assert (merged["_merge"] == "both").all() and len(merged) == 69  # 16 + 24 + 5 + 16 + 8
    assert (merged["value_x"] == merged["value_y"]).all()  # bit for bit: whole days, half hours, FTE in quarters
