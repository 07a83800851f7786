"""Raw exports of the sample organization's systems (CRM, HRIS, recruiting, help desk, deployments), seeded.

The records are drawn around the actual values `sample.generate_actuals` gave the KPIs they measure, and those
KPIs' actuals are then replaced by what the records give (the answer of each KPI's `measure` in kpis.yaml), so
that `kpi-workbook compute` on the sample reproduces its actuals.csv exactly. Durations are whole days, whole
minutes or quarter hours and medians are taken over odd counts, so every engine computes the same floating-point
numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kpi_workbook.core.model import Framework
from kpi_workbook.core.periods import parse_period

EXPORTS_DIR = "exports"
VALUE_COLUMNS = ["period", "team", "employee_id", "kpi_id", "value"]
US_DATE, EU_DATE, ISO_MINUTES = "%m/%d/%Y", "%d.%m.%Y", "%Y-%m-%d %H:%M"
QUARTER_HOUR = 900  # seconds

#: The sample's sources.yaml: where each export is and which columns say when, who and what.
SOURCES_YAML = f"""\
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
    """What the generator needs: the drawn values, who holds which KPI, the quarters and a random generator."""

    def __init__(self, framework: Framework, employees: pd.DataFrame, actuals: pd.DataFrame, periods: list[str],
                 rng: np.random.Generator):
        self.framework, self.employees, self.rng = framework, employees, rng
        self.periods = [parse_period(p) for p in periods]
        people = actuals[actuals["employee_id"].astype(str) != ""]
        keys = zip(people["period"].astype(str), people["employee_id"].astype(str), people["kpi_id"].astype(str),
                   strict=True)
        self.drawn = dict(zip(keys, people["value"].astype(float), strict=True))
        self.role = dict(zip(employees["employee_id"], employees["role"], strict=True))
        self.team = dict(zip(employees["employee_id"], employees["team"], strict=True))
        self.kpis_of_role: dict[str, set[str]] = {}
        for assignment in framework.assignments:
            self.kpis_of_role.setdefault(assignment.role, set()).add(assignment.kpi.kpi)

    def holders(self, *kpis: str) -> list[str]:
        """Employees whose role has any of the KPIs, in file order."""
        return [e for e in self.employees["employee_id"] if self.kpis_of_role.get(self.role[e], set()) & set(kpis)]

    def has(self, employee: str, kpi: str) -> bool:
        return kpi in self.kpis_of_role.get(self.role[employee], set())

    def value(self, period: str, employee: str, kpi: str) -> float | None:
        return self.drawn.get((period, employee, kpi))

    def typical(self, kpi: str, default: float) -> float:
        """The median drawn value of a KPI (for records of people whose role does not hold it)."""
        values = [v for (_, _, k), v in self.drawn.items() if k == kpi]
        return float(np.median(values)) if values else default

    def day(self, period: object) -> dt.date:
        start, end = period.start, period.end
        return start + dt.timedelta(days=int(self.rng.integers(0, (end - start).days + 1)))

    def moment(self, period: object, latest_hour: int = 17) -> dt.datetime:
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


def _hris(d: _Draw, values: list[dict]) -> pd.DataFrame:
    """Quarterly HRIS snapshots (everyone employed in the quarter, leavers with their date and reason), each
    person with their HR business partner (people dealt out in turn): voluntary turnover per partner."""
    partners = d.holders("voluntary_turnover_rate")
    if not partners:
        return pd.DataFrame()
    staff = d.employees.assign(partner=[partners[i % len(partners)] for i in range(len(d.employees))])
    teams_of = staff.groupby("partner")["team"].agg(lambda t: sorted(set(t))).to_dict()
    base_of = staff["partner"].value_counts()
    first = d.periods[0].start
    hired = {e: first - dt.timedelta(days=int(d.rng.integers(30, 3650))) for e in staff["employee_id"]}
    leavers = []  # (id, team, partner, left_on, reason, quarter index)
    number = len(d.employees)
    for q, period in enumerate(d.periods):
        for partner in partners:
            base = int(base_of.get(partner, 0))
            rate = d.value(period.label, partner, "voluntary_turnover_rate")
            voluntary = round((rate or 0.0) / 100 * base)
            involuntary = int(d.rng.random() < 0.2)
            for reason in ["voluntary"] * voluntary + ["involuntary"] * involuntary:
                number += 1
                team = str(d.rng.choice(teams_of[partner]))
                leavers.append((f"E{number:05d}", team, partner, d.day(period), reason, q))
                hired[f"E{number:05d}"] = first - dt.timedelta(days=int(d.rng.integers(30, 3650)))
    rows = []
    for q, period in enumerate(d.periods):
        as_of = period.end.strftime(EU_DATE)
        for person in staff.itertuples(index=False):
            rows.append((period.label, as_of, person.employee_id, person.team, person.partner,
                         hired[person.employee_id].strftime(EU_DATE), "", ""))
        for person, team, partner, left_on, reason, quarter in leavers:
            if quarter >= q:
                left = (left_on.strftime(EU_DATE), reason) if quarter == q else ("", "")
                rows.append((period.label, as_of, person, team, partner, hired[person].strftime(EU_DATE), *left))
    frame = pd.DataFrame(rows, columns=["period", "as_of", "employee_id", "team", "hr_partner_id", "hire_date",
                                        "leave_date", "leave_reason"])
    rates = frame.assign(voluntary=frame["leave_reason"] == "voluntary").groupby(
        ["period", "hr_partner_id"], sort=False)["voluntary"].agg(["sum", "size"])
    for (label, partner), (voluntary, headcount) in rates.iterrows():
        rate = int(voluntary) / int(headcount) * 100
        _value(values, label, partner, d.team[partner], "voluntary_turnover_rate", rate)
    return frame.drop(columns="period")


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
}


def generate_exports(framework: Framework, employees: pd.DataFrame, actuals: pd.DataFrame, periods: list[str],
                     seed: int) -> SampleExports:
    """The raw exports for these people and periods, and the actuals (VALUE_COLUMNS) their records give.

    An export whose KPIs no role of the framework holds is left out; the same arguments give the same bytes.
    """
    files: dict[str, str] = {}
    values: list[dict] = []
    for number, (name, make) in enumerate(EXPORTS.items()):
        frame = make(_Draw(framework, employees, actuals, periods, np.random.default_rng([seed, 2, number])), values)
        if len(frame):
            files[f"{EXPORTS_DIR}/{name}"] = frame.to_csv(index=False, lineterminator="\n")
    return SampleExports(files, pd.DataFrame(values, columns=VALUE_COLUMNS))
