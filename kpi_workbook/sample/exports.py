"""Raw exports of the sample organization's systems (CRM, HRIS, recruiting, help desk, deployments, time tracking,
learning), seeded.

The records are drawn around the actual values `organization.generate_actuals` gave the KPIs they measure, and those
KPIs' actuals are then replaced by what the records give (the answer of each KPI's `measure` in kpis.yaml), so
that `kpi-workbook compute` on the sample reproduces its actuals.csv exactly. Durations are whole days, whole
minutes or quarter hours, medians are taken over odd counts, FTE are 1, 0.75 or 0.5 and training hours whole or
half hours (binary fractions, so sums do not depend on the order of addition), so every engine computes the same
floating-point numbers.
"""

from __future__ import annotations

__all__ = [
    "ACTIVE", "COURSES", "EXPORTS", "EXPORTS_DIR", "INVOLUNTARY", "QUARTER_HOUR", "ROSTER_KPIS", "SampleExports",
    "VALUE_COLUMNS", "VOLUNTARY", "WORKING_DAYS", "generate_exports", "sources_yaml",
]

import copy
import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kpi_workbook.core.model import Framework
from kpi_workbook.core.periods import Period, parse_period

EXPORTS_DIR = "exports"
VALUE_COLUMNS = ["period", "team", "employee_id", "kpi_id", "value"]
US_DATE, EU_DATE, ISO_MINUTES = "%m/%d/%Y", "%d.%m.%Y", "%Y-%m-%d %H:%M"
QUARTER_HOUR = 900  # seconds

#: Status of an employment spell in the HRIS roster: still employed, or why it ended (voluntary or not).
ACTIVE = "Active"
VOLUNTARY = ("Voluntarily Terminated", "Retired")
INVOLUNTARY = ("Terminated for Cause", "Position Eliminated")
#: Full-time equivalents of the spells and how common each is.
FTES, FTE_SHARES = (1.0, 0.75, 0.5), (0.82, 0.12, 0.06)
#: Scheduled working days of one FTE in a quarter (250 a year): the absence rate is absence days over these.
WORKING_DAYS = 62.5
#: KPIs computed from the roster (alone or as the FTE denominator).
ROSTER_KPIS = ("headcount", "turnover_rate", "voluntary_turnover_rate_t12m", "absenteeism_rate",
               "training_hours_per_fte")
ABSENCE_REASONS, ABSENCE_SHARES = ("Illness", "Sick child care", "Work accident"), (0.88, 0.09, 0.03)
COURSES = ("Workplace safety refresher", "Data protection basics", "AlderLink product update", "Negotiation skills",
           "Lean manufacturing", "Leading remote teams", "Spreadsheet modelling", "Customer conversations",
           "Secure coding", "First aid")


def sources_yaml(covers_from: dt.date, as_of: dt.date) -> str:
    """The sample's sources.yaml: where each export is and which columns say when, who and what; the HRIS roster
    lists every spell from `covers_from` on and was exported on `as_of`."""
    return f"""\
# Raw exports of Alderbrook's systems, written by `kpi-workbook sample` (see README, "Computed KPIs").
sources:
- name: crm_opportunities
  file: {EXPORTS_DIR}/crm_opportunities.csv
  when: closed_on
  date_formats: ['{US_DATE}']
  employee: owner_employee_id
  team: team_name
  team_match: name
  columns: {{deal_id: text, stage: text, amount: number, created_on: date}}
- name: hris_employees
  file: {EXPORTS_DIR}/hris_employees.csv
  when: as_of
  date_formats: ['{EU_DATE}']
  employee: hr_partner_id
  columns: {{employee_id: text, hire_date: date, leave_date: date, leave_reason: text}}
- name: requisitions
  file: {EXPORTS_DIR}/requisitions.csv
  when: offer_accepted_on
  employee: recruiter_id
  columns: {{requisition_id: text, hiring_team: text, opened_on: date}}
- name: helpdesk_tickets
  file: {EXPORTS_DIR}/helpdesk_tickets.csv
  when: created_at
  date_formats: ['{ISO_MINUTES}']
  employee: agent_id
  columns: {{ticket_id: text, created_at: datetime, first_response_at: datetime, contacts: integer,
            handle_minutes: number}}
- name: deployments
  file: {EXPORTS_DIR}/deployments.csv
  when: deployed_at
  date_formats: ['{ISO_MINUTES}']
  employee: engineer_id
  team: team
  columns: {{deployment_id: text, committed_at: datetime, deployed_at: datetime, change_failed: text}}
# The HRIS report of the employment spells in the reporting window: one row per spell, from its hire date to its
# termination date (empty while employed). People who left before the window are not in it, so its records are
# complete from the window's first day on (see README, "HR rosters").
- name: hris_roster
  file: {EXPORTS_DIR}/hris_roster.csv
  start: hire_date
  end: termination_date
  as_of: {as_of.isoformat()}
  covers_from: {covers_from.isoformat()}
  date_formats: ['{EU_DATE}']
  team: department
  team_match: name
  columns: {{employee_id: text, status: text, fte: number}}
- name: absences
  file: {EXPORTS_DIR}/absences.csv
  when: first_day
  team: team
  columns: {{employee_id: text, days: integer, reason: text}}
- name: training
  file: {EXPORTS_DIR}/training.csv
  when: completed_on
  team: team
  columns: {{employee_id: text, course: text, hours: number}}
"""


@dataclass(frozen=True)
class SampleExports:
    """The exports (path relative to the workspace → CSV text) and the actuals their records give."""

    files: dict[str, str]
    values: pd.DataFrame

    @property
    def kpis(self) -> set[str]:
        """The KPIs whose actuals come from the exports."""
        return set(self.values["kpi_id"])


class _Draw:
    """What the generator needs: the drawn values (of people, and of teams for team-level KPIs), who holds which KPI,
    the quarters, the employment spells (see _spells) and a random generator. `using` gives each export the same
    facts with a generator of its own."""

    def __init__(self, framework: Framework, employees: pd.DataFrame, actuals: pd.DataFrame, periods: list[str],
                 rng: np.random.Generator, spells: pd.DataFrame | None = None):
        self.framework, self.employees, self.rng, self._given_spells = framework, employees, rng, spells
        self.periods = [parse_period(p) for p in periods]
        whose = actuals["employee_id"].astype(str)
        self.drawn, self.team_drawn = (
            dict(zip(zip(rows["period"].astype(str), rows[who].astype(str), rows["kpi_id"].astype(str), strict=True),
                     rows["value"].astype(float), strict=True))
            for rows, who in ((actuals[whose != ""], "employee_id"), (actuals[whose == ""], "team")))
        self.ids = employees["employee_id"].tolist()
        self.role = dict(zip(self.ids, employees["role"], strict=True))
        self.team = dict(zip(self.ids, employees["team"], strict=True))
        self.kpis_of_role: dict[str, set[str]] = {}
        for assignment in framework.assignments:
            self.kpis_of_role.setdefault(assignment.role, set()).add(assignment.kpi.kpi)
        self._holders: dict[tuple[str, ...], list[str]] = {}
        self._teams_with: dict[str, list[str]] = {}
        self._team_spells: dict[str, pd.DataFrame] = {}

    def using(self, rng: np.random.Generator, spells: pd.DataFrame) -> _Draw:
        """The same facts with the random generator `rng` and the employment spells `spells`."""
        draw = copy.copy(self)
        draw.rng, draw._given_spells, draw._team_spells = rng, spells, {}
        return draw

    @property
    def spells(self) -> pd.DataFrame:
        """The employment spells (every draw has them but the one that draws them, in _spells)."""
        if self._given_spells is None:
            raise AttributeError("this draw has no employment spells")
        return self._given_spells

    def holders(self, *kpis: str) -> list[str]:
        """Employees whose role has any of the KPIs, in file order."""
        if kpis not in self._holders:
            self._holders[kpis] = [e for e in self.ids if self.kpis_of_role.get(self.role[e], set()) & set(kpis)]
        return list(self._holders[kpis])

    def team_spells(self, team: str) -> pd.DataFrame:
        """The employment spells of one team."""
        if team not in self._team_spells:
            self._team_spells[team] = self.spells[self.spells["team"] == team]
        return self._team_spells[team]

    def has(self, employee: str, kpi: str) -> bool:
        return kpi in self.kpis_of_role.get(self.role[employee], set())

    def value(self, period: str, employee: str, kpi: str) -> float | None:
        return self.drawn.get((period, employee, kpi))

    def team_value(self, period: str, team: str, kpi: str) -> float | None:
        """The value drawn for a team-level KPI of the team."""
        return self.team_drawn.get((period, team, kpi))

    def typical(self, kpi: str, default: float) -> float:
        """The median drawn value of a KPI (for records of people or teams whose roles do not hold it)."""
        values = [v for drawn in (self.drawn, self.team_drawn) for (_, _, k), v in drawn.items() if k == kpi]
        return float(np.median(values)) if values else default

    def teams_with(self, kpi: str) -> list[str]:
        """The teams where a role has the KPI (those its per-team values are for), in teams.yaml order."""
        if kpi not in self._teams_with:
            roles = {a.role for a in self.framework.assignments if a.kpi.kpi == kpi}
            teams = {t for r in self.framework.roles if r.id in roles for t in r.teams} | {
                self.team[e] for e in self.holders(kpi)}
            self._teams_with[kpi] = [t.id for t in self.framework.teams if t.id in teams]
        return list(self._teams_with[kpi])

    def day(self, period: Period) -> dt.date:
        start, end = period.start, period.end
        return start + dt.timedelta(days=int(self.rng.integers(0, (end - start).days + 1)))

    def moment(self, period: Period, latest_hour: int = 17) -> dt.datetime:
        """A working-hours date-time within the period, on whole minutes."""
        day = self.day(period)
        return dt.datetime(day.year, day.month, day.day, int(self.rng.integers(8, latest_hour + 1)),
                           int(self.rng.integers(0, 60)))

    def split(self, total: int, n: int, low: int = 1) -> np.ndarray:
        """`n` whole numbers of at least `low` that add up to `total` exactly, in random proportions."""
        total = max(total, n * low)
        weights = self.rng.gamma(3.0, size=n)
        parts = low + np.floor((total - n * low) * weights / weights.sum()).astype(np.int64)
        parts[int(self.rng.integers(0, n))] += total - parts.sum()
        return parts

    def spread(self, middle: int, n: int, low: int, below: int, above: int) -> np.ndarray:
        """`n` (odd) whole numbers of at least `low` whose median is `middle`, in random order."""
        half = n // 2
        smaller = np.maximum(low, middle - self.rng.integers(0, below + 1, half))
        larger = middle + self.rng.integers(0, above + 1, half)
        return self.rng.permutation(np.concatenate([smaller, [middle], larger]))


def _us(day: dt.date) -> str:
    return f"{day.month}/{day.day}/{day.year}"


def _value(values: list[dict], period: str, employee: str, team: str, kpi: str, value: float) -> None:
    values.append({"period": period, "team": team, "employee_id": employee, "kpi_id": kpi, "value": float(value)})


def _held_values(d: _Draw, values: list[dict], period: str, employee: str, results: dict[str, float]) -> None:
    """The results of the KPIs that the employee's role holds, as values of the period."""
    for kpi, value in results.items():
        if d.has(employee, kpi):
            _value(values, period, employee, d.team[employee], kpi, value)


def _crm(d: _Draw, values: list[dict]) -> pd.DataFrame:
    """Closed opportunities of the account executives: won revenue and win rate."""
    rows = []
    names = {t.id: t.name for t in d.framework.teams}
    revenue_default, rate_default = d.typical("new_business_revenue", 200000), d.typical("win_rate", 25)
    for employee in d.holders("new_business_revenue", "win_rate"):
        for period in d.periods:
            revenue = d.value(period.label, employee, "new_business_revenue")
            rate = d.value(period.label, employee, "win_rate")
            if revenue is None and rate is None:
                continue
            revenue = int(round(revenue if revenue is not None else revenue_default))
            closed = int(d.rng.integers(10, 21))
            won = int(np.clip(round((rate if rate is not None else rate_default) / 100 * closed), 1, closed - 1))
            amounts = np.concatenate([d.split(revenue, won, low=1000),
                                      d.rng.integers(revenue // (3 * won), revenue // won + 2, closed - won)])
            stages = ["Closed Won"] * won + ["Closed Lost"] * (closed - won)
            for i in d.rng.permutation(closed):
                closed_on = d.day(period)
                created_on = closed_on - dt.timedelta(days=int(d.rng.integers(14, 150)))
                rows.append({"owner_employee_id": employee, "team_name": names[d.team[employee]],
                             "stage": stages[i], "amount": int(amounts[i]), "created_on": _us(created_on),
                             "closed_on": _us(closed_on)})
            team = d.team[employee]
            if d.has(employee, "new_business_revenue"):
                _value(values, period.label, employee, team, "new_business_revenue", float(amounts[:won].sum()))
            if d.has(employee, "win_rate"):
                _value(values, period.label, employee, team, "win_rate", won / closed * 100)
    frame = pd.DataFrame(rows)
    frame.insert(0, "deal_id", [f"OPP-{i:06d}" for i in range(100001, 100001 + len(frame))])
    return frame


def _fte(d: _Draw) -> float:
    return float(d.rng.choice(FTES, p=FTE_SHARES))


def _spell(employee: str, team: str, partner: str, hired: dt.date, last_day: dt.date | None, status: str,
           fte: float) -> dict:
    return {"employee_id": employee, "team": team, "partner": partner, "hired": hired, "last_day": last_day,
            "status": status, "fte": fte}


def _staff_hire(d: _Draw, first: dt.date) -> dt.date:
    """The hire date of someone still employed: in the first six weeks for a few, up to ten years before for most."""
    if d.rng.random() < 0.04:
        return first + dt.timedelta(days=int(d.rng.integers(0, 42)))
    return first - dt.timedelta(days=int(d.rng.integers(30, 3650)))


def _leaver_spells(d: _Draw, employee: str, team: str, partner: str, left: dt.date, status: str) -> list[dict]:
    """The spells of one leaver: hired before the first quarter, during the quarters or on the day they left; some
    left once before and were rehired."""
    first, fte = d.periods[0].start, _fte(d)
    draw = d.rng.random()
    if draw < 0.04:  # gone the day they came
        hired = left
    elif draw < 0.3:
        hired = first + dt.timedelta(days=int(d.rng.integers(0, (left - first).days + 1)))
    else:
        hired = first - dt.timedelta(days=int(d.rng.integers(30, 3650)))
    earlier = []
    if hired < first and (left - first).days > 150 and d.rng.random() < 0.15:
        gone = first + dt.timedelta(days=int(d.rng.integers(10, (left - first).days - 120)))
        earlier = [_spell(employee, team, partner, hired, gone, VOLUNTARY[0], fte)]
        hired = gone + dt.timedelta(days=int(d.rng.integers(30, (left - gone).days - 30)))
    return [*earlier, _spell(employee, team, partner, hired, left, status, fte)]


def _spells(d: _Draw) -> pd.DataFrame:
    """Employment spells: each employee's (hired before the first quarter or early in it, still employed) and those of
    the people who left, each with team, HR business partner (people dealt out in turn), hire date, last day (NaT
    while employed), status and FTE. Per partner and quarter, the voluntary leavers follow the partner's drawn
    voluntary turnover; one in five quarters also has an involuntary leaver."""
    partners = d.holders("voluntary_turnover_rate") or [""]
    first = d.periods[0].start
    staff = d.employees.assign(partner=[partners[i % len(partners)] for i in range(len(d.employees))])
    spells = [_spell(person.employee_id, person.team, person.partner, _staff_hire(d, first), None, ACTIVE, _fte(d))
              for person in staff.itertuples(index=False)]
    teams_of = staff.groupby("partner")["team"].agg(lambda t: sorted(set(t))).to_dict()
    base_of = staff["partner"].value_counts()
    typical, number = d.typical("voluntary_turnover_rate", 2.5), len(d.employees)
    for period in d.periods:
        for partner in partners:
            rate = d.value(period.label, partner, "voluntary_turnover_rate") if partner else typical
            voluntary = round((rate or 0.0) / 100 * int(base_of.get(partner, 0)))
            involuntary = int(d.rng.random() < 0.2)
            for leaves_voluntarily in [True] * voluntary + [False] * involuntary:
                number += 1
                reasons = VOLUNTARY if leaves_voluntarily else INVOLUNTARY
                status = reasons[int(d.rng.random() < (0.15 if leaves_voluntarily else 0.5))]
                spells += _leaver_spells(d, f"E{number:05d}", str(d.rng.choice(teams_of[partner])), partner,
                                         d.day(period), status)
    frame = pd.DataFrame(spells)
    return frame.assign(hired=pd.to_datetime(frame["hired"]), last_day=pd.to_datetime(frame["last_day"]))


def _active(spells: pd.DataFrame, day: dt.date) -> pd.Series:
    """Which spells are active on the day: hired by then and not gone before it (the last day still counts)."""
    day = pd.Timestamp(day)
    return (spells["hired"] <= day) & (spells["last_day"].isna() | (spells["last_day"] >= day))


def _in_period(spells: pd.DataFrame, period: Period) -> pd.Series:
    """Which spells are active on some day of the period."""
    return (spells["hired"] <= pd.Timestamp(period.end)) & (
        spells["last_day"].isna() | (spells["last_day"] >= pd.Timestamp(period.start)))


def _left_in(spells: pd.DataFrame, period: Period) -> pd.Series:
    """Which spells ended in the period (their last day is in it)."""
    return spells["last_day"].between(pd.Timestamp(period.start), pd.Timestamp(period.end))


def _average(spells: pd.DataFrame, period: Period, fte: bool = False) -> float:
    """The mean of the headcount (or FTE) on the period's first and last day (SHRM's average headcount)."""
    hired, last_day = spells["hired"].to_numpy(), spells["last_day"].to_numpy()
    counted = spells["fte"].to_numpy(dtype="float64") if fte else np.ones(len(spells))

    def on(day: dt.date) -> float:
        when = np.datetime64(day)
        active = (hired <= when) & (np.isnat(last_day) | (last_day >= when))
        return float(counted[active].sum())

    return 0.5 * on(period.start) + 0.5 * on(period.end)


def _eu(days: pd.Series) -> pd.Series:
    """Dates as the HRIS writes them (31.03.2024); empty for no date."""
    return days.dt.strftime(EU_DATE).fillna("")


def _hris(d: _Draw, values: list[dict]) -> pd.DataFrame:
    """Quarterly HRIS snapshots (every spell active in the quarter, leavers with their last day and whether they left
    voluntarily), each person with their HR business partner: voluntary turnover per partner."""
    spells = d.spells[d.spells["partner"] != ""]
    if spells.empty:
        return pd.DataFrame()
    parts = []
    for period in d.periods:
        rows = spells[_in_period(spells, period)]
        left = _left_in(rows, period)
        parts.append(pd.DataFrame({
            "period": period.label, "as_of": period.end.strftime(EU_DATE), "employee_id": rows["employee_id"],
            "team": rows["team"], "hr_partner_id": rows["partner"], "hire_date": _eu(rows["hired"]),
            "leave_date": _eu(rows["last_day"].where(left)),
            "leave_reason": np.where(left, np.where(rows["status"].isin(VOLUNTARY), "voluntary", "involuntary"), "")}))
    frame = pd.concat(parts, ignore_index=True)
    rates = frame.assign(voluntary=frame["leave_reason"] == "voluntary").groupby(
        ["period", "hr_partner_id"], sort=False)["voluntary"].agg(["sum", "size"])
    for (label, partner), (voluntary, headcount) in rates.iterrows():
        rate = int(voluntary) / int(headcount) * 100
        _value(values, label, partner, d.team[partner], "voluntary_turnover_rate", rate)
    return frame.drop(columns="period")


def _messy(d: _Draw, name: str) -> str:
    """A department name as people type it into an HRIS: mostly as in teams.yaml, else with stray spaces or case."""
    return [name, name, name, f"{name} ", name.upper(), f" {name.lower()}", name.replace(" ", "  ")][
        int(d.rng.integers(0, 7))]


def _team_values(d: _Draw, values: list[dict], team: str, label: str, results: dict[str, float]) -> None:
    """The results of the KPIs a role of the team holds, as the team's values of the period."""
    for kpi, value in results.items():
        if team in d.teams_with(kpi):
            _value(values, label, "", team, kpi, value)


def _turnover(d: _Draw, values: list[dict], team: str, spells: pd.DataFrame) -> None:
    """Headcount at each quarter's end, turnover (leavers ÷ average headcount × 100) and voluntary turnover over the
    trailing four quarters of one team's spells."""
    averages: list[float] = []
    quits: list[int] = []
    voluntary = spells["status"].isin(VOLUNTARY)
    for period in d.periods:
        left = _left_in(spells, period)
        averages.append(_average(spells, period))
        quits.append(int((left & voluntary).sum()))
        results = {"headcount": float(_active(spells, period.end).sum())}
        if averages[-1]:
            results["turnover_rate"] = int(left.sum()) / averages[-1] * 100
        year: float = sum(averages[-4:])
        if len(averages) >= 4 and year:
            results["voluntary_turnover_rate_t12m"] = sum(quits[-4:]) / (year / 4) * 100
        _team_values(d, values, team, period.label, results)


def _roster(d: _Draw, values: list[dict]) -> pd.DataFrame:
    """The HRIS roster of the quarters' employment spells: department as typed, hire date, termination date (empty
    while employed), status and FTE; headcount and turnover per team."""
    if not d.holders(*ROSTER_KPIS):
        return pd.DataFrame()
    spells = d.spells.sort_values(["employee_id", "hired"], kind="stable")
    names = {t.id: t.name for t in d.framework.teams}
    for team in names:
        _turnover(d, values, team, spells[spells["team"] == team])
    return pd.DataFrame({
        "employee_id": spells["employee_id"], "department": [_messy(d, names[t]) for t in spells["team"]],
        "hire_date": _eu(spells["hired"]), "termination_date": _eu(spells["last_day"]), "status": spells["status"],
        "fte": spells["fte"]})


def _team_quarters(d: _Draw) -> Iterator[tuple[Period, str, float, pd.DataFrame]]:
    """Each quarter and team with people in it: the team's average FTE and its spells active in the quarter."""
    for period in d.periods:
        for team in [t.id for t in d.framework.teams]:
            spells = d.team_spells(team)
            fte = _average(spells, period, fte=True)
            present = spells[_in_period(spells, period)]
            if fte and not present.empty:
                yield period, team, fte, present


def _someone(d: _Draw, spells: pd.DataFrame, period: Period, n: int) -> tuple[np.ndarray, np.ndarray]:
    """`n` of the spells (at random, with repeats) as employee ids, and for each a weekday of the period it is active
    on (its first day there if that span has no weekday) as ISO dates."""
    picked = spells.iloc[d.rng.integers(0, len(spells), n)]
    first = np.maximum(picked["hired"].to_numpy("datetime64[D]"), np.datetime64(period.start))
    last = np.minimum(picked["last_day"].fillna(pd.Timestamp(period.end)).to_numpy("datetime64[D]"),
                      np.datetime64(period.end))
    weekdays = np.busday_count(first, last + 1)
    offsets = np.floor(d.rng.random(n) * weekdays).astype(np.int64)
    days = np.where(weekdays > 0, np.busday_offset(first, offsets, roll="forward"), first)
    return picked["employee_id"].to_numpy(), np.datetime_as_string(days)


def _absences(d: _Draw, values: list[dict]) -> pd.DataFrame:
    """Unplanned absences from the time-tracking system, one row per absence (first day, working days), placed in the
    quarter of their first day: absence rate per team, days ÷ (average FTE × working days) × 100."""
    if not d.holders("absenteeism_rate"):
        return pd.DataFrame()
    frames, typical = [], d.typical("absenteeism_rate", 3.5)
    for period, team, fte, present in _team_quarters(d):
        rate = d.team_value(period.label, team, "absenteeism_rate") or typical * d.rng.uniform(0.7, 1.3)
        total = max(1, round(rate / 100 * fte * WORKING_DAYS))
        lengths = d.split(total, max(1, total // 3))
        employees, days = _someone(d, present, period, len(lengths))
        frames.append(pd.DataFrame({"employee_id": employees, "team": team, "first_day": days, "days": lengths,
                                    "reason": d.rng.choice(ABSENCE_REASONS, len(lengths), p=ABSENCE_SHARES)}))
        _team_values(d, values, team, period.label, {"absenteeism_rate": float(lengths.sum()) / fte
                                                     * (100 / WORKING_DAYS)})
    return pd.concat(frames, ignore_index=True)


def _training(d: _Draw, values: list[dict]) -> pd.DataFrame:
    """Completed courses from the learning management system, one row per course (whole or half hours): training
    hours per FTE per team, hours ÷ average FTE."""
    if not d.holders("training_hours_per_fte"):
        return pd.DataFrame()
    frames, typical = [], d.typical("training_hours_per_fte", 8.0)
    for period, team, fte, present in _team_quarters(d):
        hours = d.team_value(period.label, team, "training_hours_per_fte") or typical * d.rng.uniform(0.6, 1.4)
        halves = max(2, round(2 * hours * fte))
        parts = d.split(halves, max(1, halves // 8), low=2)  # half hours, a course of 4 hours on average
        employees, days = _someone(d, present, period, len(parts))
        frames.append(pd.DataFrame({"employee_id": employees, "team": team, "completed_on": days,
                                    "course": d.rng.choice(COURSES, len(parts)), "hours": parts / 2}))
        _team_values(d, values, team, period.label, {"training_hours_per_fte": float(parts.sum()) / 2 / fte})
    return pd.concat(frames, ignore_index=True)


def _requisitions(d: _Draw, values: list[dict]) -> pd.DataFrame:
    """Filled requisitions per recruiter: opened and offer-accepted dates give the mean days to hire."""
    rows = []
    teams = sorted(set(d.employees["team"]))
    for employee in d.holders("time_to_hire"):
        for period in d.periods:
            days = d.value(period.label, employee, "time_to_hire")
            if days is None:
                continue
            hires = int(d.rng.choice([3, 4, 5, 6, 7]))
            spans = d.split(int(np.ceil(days * hires)), hires, low=7)
            for span in spans:
                accepted = d.day(period)
                rows.append({"hiring_team": str(d.rng.choice(teams)), "recruiter_id": employee,
                             "opened_on": (accepted - dt.timedelta(days=int(span))).isoformat(),
                             "offer_accepted_on": accepted.isoformat()})
            _value(values, period.label, employee, d.team[employee], "time_to_hire", float(spans.sum()) / hires)
    frame = pd.DataFrame(rows)
    frame.insert(0, "requisition_id", [f"REQ-{i:05d}" for i in range(1, len(frame) + 1)])
    return frame


def _tickets(d: _Draw, values: list[dict]) -> pd.DataFrame:
    """Help-desk tickets per agent (and team lead): first-contact resolution, handle time, first response."""
    rows = []
    kpis = ("first_contact_resolution_rate", "average_handle_time", "first_response_time")
    defaults = {"first_contact_resolution_rate": d.typical(kpis[0], 70), "average_handle_time": d.typical(kpis[1], 10),
                "first_response_time": d.typical(kpis[2], 3)}
    for employee in d.holders(*kpis):
        for period in d.periods:
            drawn = {k: d.value(period.label, employee, k) for k in kpis}
            if all(v is None for v in drawn.values()):
                continue
            fcr, handle, response = (v if v is not None else defaults[k] for k, v in drawn.items())
            n = int(d.rng.integers(15, 32))
            first = int(np.clip(round(fcr / 100 * n), 0, n))
            contacts = d.rng.permutation([1] * first + list(d.rng.integers(2, 5, n - first)))
            minutes = d.split(int(round(handle * n)), n, low=2)
            quarters = d.split(int(round(response * 4 * n)), n, low=1)  # quarter hours
            for i in range(n):
                created = d.moment(period)
                rows.append({"agent_id": employee, "created_at": created.strftime(ISO_MINUTES),
                             "first_response_at": (created + dt.timedelta(seconds=int(quarters[i]) * QUARTER_HOUR)
                                                   ).strftime(ISO_MINUTES),
                             "contacts": int(contacts[i]), "handle_minutes": int(minutes[i])})
            _held_values(d, values, period.label, employee,
                         {kpis[0]: first / n * 100, kpis[1]: float(minutes.sum()) / n,
                          kpis[2]: float(quarters.sum()) * QUARTER_HOUR / 3600.0 / n})
    frame = pd.DataFrame(rows)
    frame.insert(0, "ticket_id", [f"T{i:06d}" for i in range(1, len(frame) + 1)])
    return frame


def _deployments(d: _Draw, values: list[dict]) -> pd.DataFrame:
    """Production deployments per engineer: change failure rate and the median lead time from commit."""
    rows = []
    kpis = ("change_failure_rate", "lead_time_for_changes")
    defaults = {kpis[0]: d.typical(kpis[0], 15), kpis[1]: d.typical(kpis[1], 30)}
    for employee in d.holders(*kpis):
        for period in d.periods:
            drawn = {k: d.value(period.label, employee, k) for k in kpis}
            if all(v is None for v in drawn.values()):
                continue
            failure, lead = (v if v is not None else defaults[k] for k, v in drawn.items())
            n = int(d.rng.choice([9, 11, 13, 15, 17, 19]))
            failed = int(np.clip(round(failure / 100 * n), 0, n))
            flags = d.rng.permutation(["yes"] * failed + ["no"] * (n - failed))
            middle = max(1, int(round(lead * 60)))
            waits = d.spread(middle, n, low=5, below=middle // 2, above=middle)  # minutes
            for i in range(n):
                deployed = d.moment(period, latest_hour=18)
                rows.append({"team": d.team[employee], "engineer_id": employee,
                             "committed_at": (deployed - dt.timedelta(minutes=int(waits[i]))).strftime(ISO_MINUTES),
                             "deployed_at": deployed.strftime(ISO_MINUTES), "change_failed": flags[i]})
            _held_values(d, values, period.label, employee,
                         {kpis[0]: failed / n * 100, kpis[1]: float(middle * 60) / 3600.0})
    frame = pd.DataFrame(rows)
    frame.insert(0, "deployment_id", [f"DEP-{i:05d}" for i in range(1, len(frame) + 1)])
    return frame


EXPORTS: dict[str, Callable[[_Draw, list[dict]], pd.DataFrame]] = {
    "crm_opportunities.csv": _crm,
    "hris_employees.csv": _hris,
    "requisitions.csv": _requisitions,
    "helpdesk_tickets.csv": _tickets,
    "deployments.csv": _deployments,
    "hris_roster.csv": _roster,
    "absences.csv": _absences,
    "training.csv": _training,
}


def generate_exports(framework: Framework, employees: pd.DataFrame, actuals: pd.DataFrame, periods: list[str],
                     seed: int) -> SampleExports:
    """The raw exports for these people and periods, and the actuals (VALUE_COLUMNS) their records give.

    An export whose KPIs no role of the framework holds is left out; the same arguments give the same bytes.
    """
    files: dict[str, str] = {}
    values: list[dict] = []
    draw = _Draw(framework, employees, actuals, periods, np.random.default_rng([seed, 3]))
    spells = _spells(draw)
    for number, (name, make) in enumerate(EXPORTS.items()):
        frame = make(draw.using(np.random.default_rng([seed, 2, number]), spells), values)
        if len(frame):
            files[f"{EXPORTS_DIR}/{name}"] = frame.to_csv(index=False, lineterminator="\n")
    return SampleExports(files, pd.DataFrame(values, columns=VALUE_COLUMNS))
