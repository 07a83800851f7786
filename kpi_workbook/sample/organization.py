"""Seeded, vectorized generator of a sample organization's people and quarterly actuals, for demos and benchmarks.

Values are drawn per role KPI assignment in *band units*: 0 is the target, -1 the threshold and +1 the stretch
level (for ``within_range`` KPIs: signed distance from the middle of the target range, 1 = its edge). Each
value mixes the assignment's level and trend, the employee's skill, the team's season and noise, and is then
rounded to the precision of its unit and clipped to the unit's valid range. A few KPIs of the sample
organization are given deliberate patterns (always exceeded, never met, flat, discontinued, team-level) so that
target setting and the review have something to find, and relations between KPIs and roles (sample.relations) so
that the evidence that the framework works has something to find.
"""

from __future__ import annotations

__all__ = [
    "ACTUALS_COLUMNS", "ALWAYS_EXCEEDED_KPIS", "DISCONTINUED_KPIS", "FIRST_NAMES", "FLAT_KPIS", "LAST_NAMES",
    "MISSING_SHARE", "NEVER_MET_KPIS", "ROLE_SHARES", "SEASONALITY", "SampleSummary", "TEAM_LEVEL_KPIS",
    "generate_actuals", "generate_employees", "quarter_labels", "team_level_kpis", "with_computed_values",
    "write_sample",
]

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypedDict

import duckdb
import numpy as np
import pandas as pd

from kpi_workbook.core.atomic_files import staged_path, write_files_atomically
from kpi_workbook.core.errors import InputError, Problem
from kpi_workbook.core.measures import Per
from kpi_workbook.core.model import Category, Framework, Frequency, KpiDefinition, MeasureType, Polarity, Role, RoleKpi
from kpi_workbook.core.paths import SAMPLE_ORG_DIR
from kpi_workbook.core.periods import PeriodError, parse_period
from kpi_workbook.sample.exports import EXPORTS_DIR, generate_exports, sources_yaml
from kpi_workbook.sample.relations import Planter
from kpi_workbook.workspace.employees import EMPLOYEE_COLUMNS, employee_problems
from kpi_workbook.workspace.files import (
    ACTUALS_CSV,
    ACTUALS_DB,
    EMPLOYEES_FILE,
    ROLES_DIR,
    framework_files,
    load_framework,
)
from kpi_workbook.workspace.sources import SOURCES_FILE

ACTUALS_COLUMNS = ["period", "team", "employee_id", "kpi_id", "value"]

FIRST_NAMES = (
    "Aisha", "Alejandro", "Amara", "Anna", "Arjun", "Astrid", "Ben", "Carla", "Chen", "Clara", "Daniel", "Elif",
    "Emma", "Fatima", "Felix", "Giulia", "Hannah", "Hugo", "Ines", "Ivan", "Jakob", "Julia", "Kai", "Karin",
    "Lars", "Laura", "Leon", "Lina", "Lucas", "Maja", "Marco", "Maria", "Mateo", "Mia", "Nadia", "Niklas",
    "Noah", "Olga", "Omar", "Paula", "Pieter", "Priya", "Rafael", "Sara", "Sofia", "Tomas", "Yara", "Yusuf",
)
LAST_NAMES = (
    "Andersen", "Bauer", "Becker", "Bianchi", "Costa", "Da Silva", "Dubois", "Eriksson", "Fischer", "Garcia",
    "Hansen", "Hoffmann", "Horvath", "Ivanova", "Jansen", "Kaya", "Keller", "Kowalski", "Larsen", "Lehmann",
    "Lopez", "Martin", "Meyer", "Moreau", "Müller", "Nielsen", "Novak", "O'Brien", "Peeters", "Petrov",
    "Richter", "Rossi", "Santos", "Schmidt", "Schneider", "Singh", "Svensson", "Tanaka", "Van Dijk", "Vogel",
    "Wagner", "Weber", "Wójcik", "Yilmaz", "Zimmermann",
)

#: Relative headcount of the sample organization's roles.
ROLE_SHARES = {
    "account_executive": 22, "sales_development_rep": 14, "sales_manager": 3,
    "marketing_specialist": 10, "marketing_manager": 2,
    "hr_business_partner": 4, "recruiter": 4,
    "operations_coordinator": 20, "operations_manager": 3,
    "software_engineer": 30, "site_reliability_engineer": 6, "product_manager": 6,
    "financial_analyst": 6, "accounts_receivable_specialist": 5,
    "support_agent": 36, "support_team_lead": 4,
}
#: Relative headcount of other roles: leading roles are rarer than the roles they lead.
STAFF_SHARE, LEAD_SHARE = 4, 1
_LEAD_ROLE = re.compile(r"manager|lead|head|director|chief")

#: KPIs entered once per team and period (employee_id empty) rather than per person; so are those measured per team.
TEAM_LEVEL_KPIS = frozenset({"system_availability", "deployment_frequency", "net_promoter_score"})
#: KPIs whose targets are too easy: every value is at or beyond the stretch level.
ALWAYS_EXCEEDED_KPIS = frozenset({"meetings_booked", "system_availability"})
#: KPIs whose targets are out of reach: every value falls short of the threshold.
NEVER_MET_KPIS = frozenset({"time_to_hire", "days_sales_outstanding"})
#: KPIs that hardly vary between people or periods (everybody gets the same rating).
FLAT_KPIS = frozenset({"values_behaviour_rating"})
#: KPIs that stopped being measured: no values in the last N periods.
DISCONTINUED_KPIS = {"content_engagement_rate": 2}
#: Share of values missing at random in the KPIs without a deliberate pattern.
MISSING_SHARE = 0.025
#: Seasonal performance offset per quarter (Q1..Q4) in band units, by team.
SEASONALITY = {
    "sales": (-0.35, -0.1, 0.0, 0.45),  # year-end budgets: Q4 peak
    "marketing": (0.15, 0.05, -0.3, 0.1),  # summer dip in campaigns and events
    "operations": (0.05, 0.1, -0.3, 0.15),  # summer holidays thin the shop floor
    "customer_support": (-0.3, 0.1, 0.15, 0.05),  # January ticket surge after year-end shutdowns
}
_SEASONAL = {Category.OUTPUT, Category.QUALITY, Category.EFFICIENCY}
_TRENDS = np.array([-0.08, -0.04, 0.0, 0.04, 0.08, 0.12])  # per period, in band units
_UNIT_RANGE = re.compile(r"\(\s*(-?\d+(?:\.\d+)?)\s*(?:-|to)\s*(-?\d+(?:\.\d+)?)\s*\)")


@dataclass(frozen=True)
class SampleSummary:
    """What write_sample wrote: where, how many employees and actual values, which periods."""

    out_dir: Path
    employees: int
    actuals: int
    periods: list[str]
    exports: list[str]


@dataclass(frozen=True)
class _Scale:
    """How band units map to values of one assignment: band levels, precision and valid range."""

    low: float  # value at -1 (threshold); for ranges the middle minus half the target range
    mid: float  # value at 0 (target); for ranges the middle of the target range
    high: float  # value at +1 (stretch); for ranges the middle plus half the target range
    decimals: int
    lower: float
    upper: float
    logarithmic: bool  # interpolate in log space: positive quantities (times, costs) never reach zero

    def values(self, z: np.ndarray) -> np.ndarray:
        """Piecewise-linear map from band units to values (in log space if logarithmic), rounded and clipped."""
        low, mid, high = (np.log([self.low, self.mid, self.high]) if self.logarithmic
                          else (self.low, self.mid, self.high))
        raw = np.where(z < 0, mid + z * (mid - low), mid + z * (high - mid))
        raw = np.exp(raw) if self.logarithmic else raw
        return np.clip(np.round(raw, self.decimals), self.lower, self.upper)

    def beyond(self, values: np.ndarray, level: float, side: int) -> np.ndarray:
        """Push values to the better (side=+1, at least `level`) or worse (side=-1, short of it) side."""
        sign = 1.0 if self.high >= self.low else -1.0
        step = 0.0 if side > 0 else 10.0 ** -self.decimals
        bound = sign * level - step
        pushed = np.maximum(sign * values, bound) if side > 0 else np.minimum(sign * values, bound)
        return np.clip(np.round(sign * pushed, self.decimals), self.lower, self.upper)


class _Where(TypedDict):
    """Where a role KPI assignment is, for its errors: the role's file and the entry in it."""

    file: str
    entry: str


def _decimals(values: list[float]) -> int:
    """Decimal places needed to write each of the values exactly (at most 6)."""
    return max(next((d for d in range(6) if round(v, d) == v), 6) for v in values)


def _scale(kpi: KpiDefinition, assignment: RoleKpi, where: _Where) -> _Scale:
    """Band levels, rounding and valid range of one role KPI assignment (`where`: file and entry for errors)."""
    if kpi.polarity is Polarity.WITHIN_RANGE:
        if assignment.target_range is None:
            raise InputError(Problem(message="a within-range KPI needs a target range to generate values",
                                     field="target_range", **where))
        lo, hi = assignment.target_range
        half = (hi - lo) / 2 or max(abs(lo), 1.0) * 0.05
        low, mid, high = (lo + hi) / 2 - half, (lo + hi) / 2, (lo + hi) / 2 + half
        bands = [lo, hi, *(assignment.threshold_range or ())]
    else:
        if assignment.target is None:
            raise InputError(Problem(message="a target is needed to generate values", field="target", **where))
        mid = assignment.target
        sign = 1.0 if kpi.polarity is Polarity.HIGHER_IS_BETTER else -1.0
        spread = max(abs(mid) * 0.1, 1.0)
        low = assignment.threshold if assignment.threshold is not None else mid - sign * spread
        high = assignment.stretch if assignment.stretch is not None else mid + sign * spread
        if low == mid == high:
            low, high = mid - sign * spread, mid + sign * spread
        low, high = (low if low != mid else 2 * mid - high), (high if high != mid else 2 * mid - low)
        bands = [low, mid, high]
    unit = kpi.unit.lower()
    explicit = _UNIT_RANGE.search(unit)
    if explicit:
        lower, upper = float(explicit.group(1)), float(explicit.group(2))
    elif kpi.measure_type is MeasureType.QUALITATIVE:
        lower, upper = 1.0, 5.0
    elif "%" in unit or "percent" in unit:
        lower = 0.0 if min(bands) >= 0 else -100.0
        upper = 100.0 if max(bands) <= 100 else np.inf
    else:
        lower, upper = (0.0 if min(bands) >= 0 else -np.inf), np.inf
    if "count" in unit or "number" in unit:
        decimals = 0
    else:
        unit_decimals = 2 if "ratio" in unit or "per" in unit else 0 if abs(mid) >= 1000 else 1
        gap = min(abs(mid - low), abs(high - mid))
        decimals = max(unit_decimals, _decimals(bands), int(np.ceil(-np.log10(gap / 5))))
    positive = kpi.polarity is not Polarity.WITHIN_RANGE and min(low, mid, high) > 0
    return _Scale(low, mid, high, decimals, lower, upper, positive)


def quarter_labels(first: str = "2024Q1", n: int = 8) -> list[str]:
    """`n` consecutive quarter labels starting at `first`, e.g. 2024Q1, 2024Q2, ..."""
    period = parse_period(first)
    if period.frequency is not Frequency.QUARTERLY:
        raise PeriodError(f"first period '{first}' is not a quarter; write e.g. 2024Q1")
    if n < 1:
        raise InputError(f"number of periods must be at least 1 (got {n})")
    return [str(p) for p in pd.period_range(start=period.label, periods=n, freq="Q")]


def _role_counts(framework: Framework, n: int) -> tuple[list[Role], np.ndarray]:
    """Roles that have a team and how many of `n` employees each gets (every role at least one when n allows)."""
    roles = [r for r in framework.roles if r.teams]
    if not roles:
        raise InputError(Problem(file=ROLES_DIR, message="no role names a team, so no employee can be placed"))
    shares = np.array([ROLE_SHARES.get(r.id, LEAD_SHARE if _LEAD_ROLE.search(r.id) else STAFF_SHARE)
                       for r in roles], dtype=float)
    floor = np.ones(len(roles), dtype=np.int64) if n >= len(roles) else np.zeros(len(roles), dtype=np.int64)
    exact = (n - floor.sum()) * shares / shares.sum()
    counts = floor + np.floor(exact).astype(np.int64)
    remainder = n - counts.sum()
    counts[np.argsort(-(exact - np.floor(exact)), kind="stable")[:remainder]] += 1
    return roles, counts


def generate_employees(framework: Framework, n: int, seed: int) -> pd.DataFrame:
    """`n` fictional employees (employee_id, name, team, role) spread over the roles like a real company."""
    if n < 1:
        raise InputError(f"number of employees must be at least 1 (got {n})")
    rng = np.random.default_rng(seed)
    roles, counts = _role_counts(framework, n)
    role_index = rng.permutation(np.repeat(np.arange(len(roles)), counts))
    team_ids = [t for r in roles for t in r.teams]
    offsets = np.cumsum([0] + [len(r.teams) for r in roles])
    team_pick = rng.integers(0, np.array([len(r.teams) for r in roles])[role_index])
    first = np.array(FIRST_NAMES, dtype=object)[rng.integers(0, len(FIRST_NAMES), n)]
    last = np.array(LAST_NAMES, dtype=object)[rng.integers(0, len(LAST_NAMES), n)]
    width = max(5, len(str(n)))
    return pd.DataFrame({
        "employee_id": "E" + pd.Series(np.arange(1, n + 1)).astype(str).str.zfill(width),
        "name": first + " " + last,
        "team": np.array(team_ids, dtype=object)[offsets[role_index] + team_pick],
        "role": np.array([r.id for r in roles], dtype=object)[role_index],
    }, columns=EMPLOYEE_COLUMNS).astype("str")


def team_level_kpis(framework: Framework) -> frozenset[str]:
    """The KPIs with one value per team and period: TEAM_LEVEL_KPIS and every KPI whose measure is per team."""
    return TEAM_LEVEL_KPIS | {k.id for k in framework.kpis if k.measure is not None and k.measure.per is Per.TEAM}


def _season_table(teams: list[str], periods: list[str]) -> np.ndarray:
    """Seasonal offset per team (rows) and period (columns), in band units."""
    quarters = [(parse_period(p).start.month - 1) // 3 for p in periods]
    return np.array([[SEASONALITY.get(t, (0.0,) * 4)[q] for q in quarters] for t in teams])


def _band_units(kpi: KpiDefinition, entity_teams: np.ndarray, skill: np.ndarray, season: np.ndarray,
                rng: np.random.Generator, team_level: bool) -> np.ndarray:
    """Performance in band units, one row per employee (or team) and one column per period."""
    n, p = len(entity_teams), season.shape[1]
    t = np.arange(p) - (p - 1) / 2
    spread = 0.15 if team_level else 0.35
    if kpi.polarity is Polarity.WITHIN_RANGE:
        bias = rng.normal(0.0, 0.35, (n, 1)) + rng.choice([-0.3, 0.0, 0.3])
        return bias + 0.5 * season[entity_teams] + rng.normal(0.0, 0.45, (n, p))
    level = rng.normal(0.15, 0.3)
    trend = rng.choice(_TRENDS) + rng.normal(0.0, 0.03, (n, 1))
    seasonal = season[entity_teams] if kpi.category in _SEASONAL else 0.0
    z = level + 0.5 * skill[:, None] + rng.normal(0.0, spread, (n, 1)) + trend * t + seasonal
    z = z + rng.normal(0.0, spread, (n, p))
    if kpi.id in ALWAYS_EXCEEDED_KPIS:
        return 1.2 + 0.3 * np.abs(z - level)
    if kpi.id in NEVER_MET_KPIS:
        return -1.3 - 0.3 * np.abs(z - level)
    if kpi.id in FLAT_KPIS:
        return np.full((n, p), 0.6) + rng.normal(0.0, 0.05, (n, p))
    return z


def _missing(kpi_id: str, shape: tuple[int, int], rng: np.random.Generator, team_level: bool) -> np.ndarray:
    """Which values are absent: random gaps in the regular KPIs, the last periods of discontinued ones."""
    missing = np.zeros(shape, dtype=bool)
    special = ALWAYS_EXCEEDED_KPIS | NEVER_MET_KPIS | FLAT_KPIS
    if not team_level and kpi_id not in special:
        missing |= rng.random(shape) < MISSING_SHARE
    dropped = DISCONTINUED_KPIS.get(kpi_id, 0)
    if dropped and shape[1] > dropped:
        missing[:, shape[1] - dropped:] = True
    return missing


def _assignment_block(kpi: KpiDefinition, scale: _Scale, teams: np.ndarray, skill: np.ndarray,
                      codes: np.ndarray, season: np.ndarray, rng: np.random.Generator,
                      team_level: bool, plant: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, ...]:
    """Rows of one assignment as arrays (period, team, employee code, value); codes are -1 for team-level rows.
    `plant` adds the planted relations (sample.relations) to the performance of a regular person-level KPI with
    a target (band units of a range measure distance from its middle, not how good a value is)."""
    z = _band_units(kpi, teams, skill, season, rng, team_level)
    regular = kpi.id not in ALWAYS_EXCEEDED_KPIS | NEVER_MET_KPIS | FLAT_KPIS
    if regular and not team_level and kpi.polarity is not Polarity.WITHIN_RANGE:
        z = plant(z)
    values = scale.values(z)
    if kpi.id in ALWAYS_EXCEEDED_KPIS:
        values = scale.beyond(values, scale.high, +1)
    elif kpi.id in NEVER_MET_KPIS:
        values = scale.beyond(values, scale.low, -1)
    keep = ~_missing(kpi.id, z.shape, rng, team_level)
    rows, cols = np.nonzero(keep)
    return cols.astype(np.int16), teams[rows].astype(np.int16), (codes[rows] + 1).astype(np.int32), values[keep]


def _concatenate(blocks: list[tuple[np.ndarray, ...]]) -> list[np.ndarray]:
    """Concatenate the blocks column by column, freeing each column's parts as it goes (lower peak memory)."""
    parts = [list(column) for column in zip(*blocks, strict=True)]
    blocks.clear()
    columns = []
    for i in range(len(parts)):
        columns.append(np.concatenate(parts[i]))
        parts[i] = []
    return columns


def generate_actuals(framework: Framework, employees: pd.DataFrame, periods: list[str], seed: int) -> pd.DataFrame:
    """Actuals in the long import format (period, team, employee_id, kpi_id, value), one loop per assignment.

    String columns are categoricals; team-level KPIs (team_level_kpis) have an empty employee_id and one value
    per team and period. Rows are ordered by period, team, employee and the KPI's place in the role.
    """
    problems = employee_problems(employees, framework)
    if not periods or len(set(periods)) != len(periods):
        problems.append(Problem(file="periods", message=f"periods must be distinct and not empty (got {periods})"))
    if problems:
        raise InputError(problems)
    teams = [t.id for t in framework.teams]
    team_code = pd.Categorical(employees["team"], categories=teams).codes.astype(np.int64)
    role_code = pd.Categorical(employees["role"], categories=[r.id for r in framework.roles]).codes
    season = _season_table(teams, periods)
    skill = np.random.default_rng([seed, 0]).normal(0.0, 1.0, len(employees))
    kpi_ids = list(dict.fromkeys([k.id for k in framework.kpis] + [a.kpi.kpi for a in framework.assignments]))
    team_level_ids = team_level_kpis(framework)
    # KPIs measured per team are drawn last (the records' values replace theirs), so that measuring one leaves the
    # draws of every other assignment as they were
    drawn_last = team_level_ids - TEAM_LEVEL_KPIS
    planter = Planter(framework, teams, seed)
    blocks: list[tuple[np.ndarray, ...]] = []
    measured_teams: set[tuple[int, str]] = set()
    numbered = enumerate(sorted(framework.assignments, key=lambda a: a.kpi.kpi in drawn_last))
    # a KPI driven by another of its role's is drawn after it, with the number (and so the draws) it always had
    for number, assignment in sorted(numbered, key=lambda pair: planter.follows(pair[1])):
        where: _Where = {"file": f"{ROLES_DIR}/{assignment.role}.yaml",
                         "entry": f"role '{assignment.role}', KPI #{assignment.index + 1} ({assignment.kpi.kpi})"}
        kpi = framework.kpi(assignment.kpi.kpi)
        if kpi is None:
            raise InputError(Problem(message="unknown KPI (not defined in kpis.yaml)", field="kpi", **where))
        scale = _scale(kpi, assignment.kpi, where)
        members = np.flatnonzero(role_code == [r.id for r in framework.roles].index(assignment.role))
        team_level = kpi.id in team_level_ids
        if team_level:  # one value per team the role works in, measured once even if several roles share it
            entity_teams = np.array([t for t in np.unique(team_code[members]) if (t, kpi.id) not in measured_teams],
                                    dtype=np.int64)
            measured_teams.update((t, kpi.id) for t in entity_teams)
            entity_skill, entity_code = np.zeros(len(entity_teams)), np.full(len(entity_teams), -1)
        else:
            entity_teams, entity_skill, entity_code = team_code[members], skill[members], members
        if len(entity_teams):
            rng = np.random.default_rng([seed, 1, number])
            block = _assignment_block(kpi, scale, entity_teams, entity_skill, entity_code, season, rng, team_level,
                                      partial(planter.planted, assignment, number, entity_teams))
            size = len(block[0])
            blocks.append((*block[:3], np.full(size, kpi_ids.index(kpi.id), dtype=np.int16),
                           np.full(size, assignment.index, dtype=np.int16), block[3]))
    columns = _concatenate(blocks) if blocks else [np.zeros(0, dtype=np.int16)] * 5 + [np.zeros(0)]
    order = np.lexsort((columns[4], columns[2], columns[1], columns[0]))
    del columns[4]  # the KPI's position in its role only orders the rows
    for i, column in enumerate(columns):  # reorder one column at a time, to keep the peak memory low
        columns[i] = column[order]
    period, team, employee, kpi_code, value = columns
    return pd.DataFrame(dict(zip(ACTUALS_COLUMNS, [
        pd.Categorical.from_codes(period, categories=list(periods)),
        pd.Categorical.from_codes(team, categories=teams),
        pd.Categorical.from_codes(employee, categories=["", *employees["employee_id"].astype(str)]),
        pd.Categorical.from_codes(kpi_code, categories=kpi_ids),
        value,
    ], strict=True)), copy=False)


def _write_actuals_csv(actuals: pd.DataFrame, path: Path) -> None:
    """Write actuals as CSV with DuckDB (fast, ordered): empty employee_id for team-level rows, integers without .0."""
    con = duckdb.connect()
    try:
        con.register("actuals", actuals)
        target = str(path).replace("'", "''")
        con.execute(
            "COPY (SELECT period, team, NULLIF(CAST(employee_id AS VARCHAR), '') AS employee_id, kpi_id,"
            " CASE WHEN value = round(value) AND abs(value) < 1e15 THEN CAST(CAST(value AS BIGINT) AS VARCHAR)"
            " ELSE CAST(value AS VARCHAR) END AS value FROM actuals)"
            f" TO '{target}' (FORMAT csv, HEADER, DELIMITER ',')"
        )
    finally:
        con.close()


def with_computed_values(actuals: pd.DataFrame, computed: pd.DataFrame, framework: Framework,
                         employees: pd.DataFrame) -> pd.DataFrame:
    """The actuals with every value of the KPIs in `computed` replaced by `computed`'s, in generate_actuals' order
    (period, team, employee, the KPI's place in the role)."""
    if computed.empty:
        return actuals
    kept = actuals[~actuals["kpi_id"].isin(set(computed["kpi_id"]))]
    merged = pd.concat([kept.astype({c: "object" for c in ACTUALS_COLUMNS[:-1]}), computed], ignore_index=True)
    place = {(a.role, a.kpi.kpi): a.index for a in framework.assignments}
    role = merged["employee_id"].map(dict(zip(employees["employee_id"], employees["role"], strict=True)))
    position = pd.Series([place.get(k, -1) for k in zip(role, merged["kpi_id"], strict=True)], index=merged.index)
    codes = [pd.Categorical(merged[c], categories=actuals[c].cat.categories).codes for c in ACTUALS_COLUMNS[:4]]
    order = np.lexsort((position.to_numpy(), codes[2], codes[1], codes[0]))
    result = merged.iloc[order].reset_index(drop=True)
    for column in ACTUALS_COLUMNS[:4]:
        result[column] = pd.Categorical(result[column], categories=actuals[column].cat.categories)
    return result


def write_sample(out_dir: str | Path, employees: int = 180, periods: int = 8, seed: int = 42,
                 template: str | Path = SAMPLE_ORG_DIR, first_period: str = "2024Q1") -> SampleSummary:
    """Write a sample workspace: the template's framework files, generated employees.csv, the raw exports of its
    systems under exports/ with the sources.yaml that declares them, and actuals.csv.

    The actuals of the KPIs the exports measure are the values their records give (see sample.exports), so that
    `kpi-workbook compute` reproduces them. `employees` people and `periods` quarters from `first_period`; the same
    arguments give byte-identical files. All files are written to temporaries first and renamed into place
    together; an existing actuals store in `out_dir` is removed, since it would no longer match actuals.csv.
    """
    framework = load_framework(template)
    labels = quarter_labels(first_period, periods)
    people = generate_employees(framework, employees, seed)
    actuals = generate_actuals(framework, people, labels, seed)
    exports = generate_exports(framework, people, actuals, labels, seed)
    actuals = with_computed_values(actuals, exports.values, framework, people)
    root = Path(out_dir)
    if (root / ACTUALS_CSV).is_dir():
        raise InputError(Problem(file=str(root / ACTUALS_CSV), message="is a folder; remove it or choose another one"))
    root.mkdir(parents=True, exist_ok=True)
    files = framework_files(framework)
    files[EMPLOYEES_FILE] = people.to_csv(index=False, lineterminator="\n")
    if exports.files:
        files[SOURCES_FILE] = sources_yaml(parse_period(labels[0]).start, parse_period(labels[-1]).end)
        files.update(exports.files)
    stale = [f for f in (root / ROLES_DIR).glob("*.yaml") if f"{ROLES_DIR}/{f.name}" not in files]
    stale += [f for f in (root / EXPORTS_DIR).glob("*.csv") if f"{EXPORTS_DIR}/{f.name}" not in files]
    stale += [root / ACTUALS_DB, root / f"{ACTUALS_DB}.wal"]
    if not exports.files:
        stale.append(root / SOURCES_FILE)
    with staged_path(root / ACTUALS_CSV) as staged:
        _write_actuals_csv(actuals, staged)
        write_files_atomically(((root / name, text) for name, text in files.items()), remove=stale)
    return SampleSummary(root, len(people), len(actuals), labels, sorted(exports.files))
