"""Scoring: achievement and banded score per employee, KPI and period; weighted roll-ups, status and trends.

Everything is vectorized with numpy over whole columns; no Python loop runs per actual or per employee.

Achievement (a ratio to the target, 1.0 = on target; clipped at 0 below, open above; NaN for a zero target):

* higher is better: ``actual / target`` (for a negative target the same deviation rule, ``1 + (actual - target)
  / |target|``, so a smaller loss scores above 1);
* lower is better: ``2 - actual / target`` (``1 - (actual - target) / |target|``). Chosen over
  ``target / actual`` because it is linear and symmetric with higher-is-better (10 % under target counts as
  much as 10 % over it does for the opposite polarity) and stays finite when the actual is 0 (zero defects);
* within a range: 1 inside the target range; below it ``1 - (low - actual) / |low|``, above it
  ``1 - (actual - high) / |high|``.

Banded score (all numbers in ScoringConfig; defaults in brackets):

* higher is better: below threshold → floor [0]; threshold → target linear from threshold_score [50] to
  target_score [100]; target → stretch linear to stretch_score [150]; beyond stretch the same slope goes
  on until the cap [150]. A missing threshold (or one above the target) means no threshold zone: below
  the target scores the floor. A missing stretch (or one not above the target) means no stretch zone: at
  or above the target scores target_score;
* lower is better: the mirror image (threshold ≥ target ≥ stretch, smaller actuals score higher);
* within a range: target_score inside target_range, linear down to threshold_score at the edges of
  threshold_range, floor beyond them (no stretch zone);
* a KPI without a target (or target_range) cannot be scored: its score is NaN, like missing data.

Status: grey when there is no score, green at or above green_at [100], amber at or above amber_at [50],
red below.
"""

from __future__ import annotations

__all__ = [
    "BAND_COLUMNS", "DENSE_GROUPS", "ORGANIZATION", "SCORE_COLUMNS", "STATUSES", "ScoringConfig", "band_table",
    "banded_scores", "roll_up", "score_actuals", "status_of", "trend", "with_departments",
]

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from kpi_workbook.core.model import Framework, Polarity
from kpi_workbook.core.periods import period_table, sort_periods
from kpi_workbook.workspace.assignments import KpiHolders, is_team_level

STATUSES = ("green", "amber", "red", "grey")
SCORE_COLUMNS = ["period", "team", "employee_id", "role", "kpi_id", "value", "achievement", "score", "status",
                 "weight"]
BAND_COLUMNS = ["role", "kpi_id", "polarity", "weight", "threshold", "target", "stretch", "range_low", "range_high",
                "threshold_low", "threshold_high"]
ORGANIZATION = "organization"
DENSE_GROUPS = 1 << 22


@dataclass(frozen=True)
class ScoringConfig:
    """The numbers of the banded score and of the status colours."""

    floor: float = 0.0
    threshold_score: float = 50.0
    target_score: float = 100.0
    stretch_score: float = 150.0
    cap: float = 150.0
    green_at: float = 100.0
    amber_at: float = 50.0

    def __post_init__(self) -> None:
        order = [self.floor, self.threshold_score, self.target_score, self.stretch_score]
        if not all(np.isfinite(v) for v in [*order, self.cap, self.green_at, self.amber_at]):
            raise ValueError("scoring numbers must be finite")
        if order != sorted(order):
            raise ValueError("scoring config needs floor <= threshold_score <= target_score <= stretch_score")
        if self.cap < self.target_score:
            raise ValueError("scoring config needs cap >= target_score")
        if self.amber_at > self.green_at:
            raise ValueError("scoring config needs amber_at <= green_at")


def band_table(framework: Framework) -> pd.DataFrame:
    """One row per role and assigned KPI (in file order): polarity, weight and the band values."""
    polarity = {k.id: k.polarity.value for k in framework.kpis}
    rows = []
    for a in framework.assignments:
        kpi = a.kpi
        low, high = kpi.target_range or (np.nan, np.nan)
        t_low, t_high = kpi.threshold_range or (np.nan, np.nan)
        rows.append((a.role, kpi.kpi, polarity.get(kpi.kpi), kpi.weight, kpi.threshold, kpi.target, kpi.stretch,
                     low, high, t_low, t_high))
    frame = pd.DataFrame(rows, columns=BAND_COLUMNS)
    numbers = BAND_COLUMNS[3:]
    frame[numbers] = frame[numbers].astype("float64")
    return frame


@dataclass(frozen=True)
class _Ramp:
    """A higher-is-better ramp per band row: where the threshold and target sit and the slopes after each."""

    threshold: np.ndarray
    target: np.ndarray
    climb: np.ndarray
    up: np.ndarray

    @classmethod
    def of(cls, threshold: np.ndarray, target: np.ndarray, stretch: np.ndarray, config: ScoringConfig) -> _Ramp:
        """No threshold zone when the threshold is missing or above the target; no stretch zone likewise."""
        threshold = np.where(np.isnan(threshold) | (threshold > target), target, threshold)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            climb = np.where(target > threshold,
                             (config.target_score - config.threshold_score) / (target - threshold), 0.0)
            up = np.where(stretch > target, (config.stretch_score - config.target_score) / (stretch - target), 0.0)
        largest = np.finfo("float64").max  # bands a hair apart: steep but finite, so 0 × slope stays 0
        return cls(threshold, target, np.minimum(climb, largest), np.minimum(up, largest))

    def score(self, x: np.ndarray, rows: np.ndarray, config: ScoringConfig) -> np.ndarray:
        """Banded score of values `x` on the ramps of band rows `rows` (NaN where x or the target is missing)."""
        threshold, target = self.threshold[rows], self.target[rows]
        score = np.full(x.shape, config.floor, dtype="float64")
        with np.errstate(over="ignore", invalid="ignore"):  # overflow only where the cap applies anyway
            part = np.subtract(x, threshold)
            part *= self.climb[rows]
            part += config.threshold_score
            np.copyto(score, part, where=x >= threshold)
            np.subtract(x, target, out=part)
            part *= self.up[rows]
            part += config.target_score
            np.copyto(score, part, where=x >= target)
        np.minimum(score, config.cap, out=score)
        score[np.isnan(x) | np.isnan(target)] = np.nan
        return score


def _ratio(x: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """1 + (x - reference) / |reference| for higher-is-better values, clipped at 0; NaN for a zero reference."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        inverse = np.where(reference != 0, 1 / np.abs(reference), np.nan)
        return np.maximum(np.multiply(x - reference, inverse) + 1, 0.0)


def banded_scores(values: np.ndarray, bands: pd.DataFrame, rows: np.ndarray,
                  config: ScoringConfig = ScoringConfig()) -> tuple[np.ndarray, np.ndarray]:
    """Achievement and banded score of each value, scored against the band table row `rows[i]`.

    Lower-is-better is scored as higher-is-better on negated values and bands; within-range as the lower
    of a rising ramp to the target range's low end and a falling one from its high end.
    """
    rows = np.asarray(rows)
    polarity = bands["polarity"].to_numpy(dtype="object")
    band = {c: bands[c].to_numpy(dtype="float64") for c in BAND_COLUMNS[3:]}
    sign = np.select([polarity == Polarity.HIGHER_IS_BETTER.value, polarity == Polarity.LOWER_IS_BETTER.value],
                     [1.0, -1.0], np.nan)
    ramp = _Ramp.of(band["threshold"] * sign, band["target"] * sign, band["stretch"] * sign, config)
    x = np.asarray(values, dtype="float64") * sign[rows]
    score = ramp.score(x, rows, config)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        inverse = np.where(band["target"] != 0, 1 / np.abs(band["target"]), np.nan)
        achievement = np.subtract(x, ramp.target[rows])
        achievement *= inverse[rows]
    achievement += 1
    np.maximum(achievement, 0.0, out=achievement)

    within = np.flatnonzero((polarity == Polarity.WITHIN_RANGE.value)[rows])
    if within.size:
        x, at = np.asarray(values, dtype="float64")[within], rows[within]
        no_stretch = np.full(len(bands), np.nan)
        rising = _Ramp.of(band["threshold_low"], band["range_low"], no_stretch, config)
        falling = _Ramp.of(-band["threshold_high"], -band["range_high"], no_stretch, config)
        score[within] = np.minimum(rising.score(x, at, config), falling.score(-x, at, config))
        low, high = band["range_low"][at], band["range_high"][at]
        ratio = np.where(x < low, _ratio(x, low), np.where(x > high, _ratio(-x, -high), 1.0))
        ratio[np.isnan(x) | np.isnan(low) | np.isnan(high)] = np.nan
        achievement[within] = ratio
    return achievement, score


def status_of(score: np.ndarray, config: ScoringConfig = ScoringConfig()) -> pd.Categorical:
    """Status colour of each score: green, amber, red, or grey where there is no score."""
    codes = np.select([np.isnan(score), score >= config.green_at, score >= config.amber_at], [3, 0, 1], 2)
    return pd.Categorical.from_codes(codes, categories=list(STATUSES))


def _factor(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes (-1 for NA) and the distinct values of a column; cheap for categoricals."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy(), pd.Index(values.cat.categories)
    codes, uniques = pd.factorize(values)
    return codes, pd.Index(uniques)


def _codes_in(values: pd.Series, index: pd.Index, periods: bool = False) -> np.ndarray:
    """Position of each value in `index` (-1 when absent or NA); periods are matched by canonical label."""
    codes, uniques = _factor(values)
    keys = pd.Series(uniques, dtype="object")
    if periods:
        keys = period_table(keys)["label"]
    return np.append(index.get_indexer(keys), -1)[codes]


def _period_labels(actuals: pd.Series, periods: Iterable[str] | None) -> pd.Index:
    if periods is not None:
        return pd.Index(sort_periods(dict.fromkeys(periods)))
    _, uniques = _factor(actuals)
    labels = period_table(pd.Series(uniques, dtype="object"))["label"].dropna()
    return pd.Index(sort_periods(dict.fromkeys(labels)))


@dataclass(frozen=True)
class _Grid:
    """Every period × employee × assigned KPI, as integer codes: per period, each employee's KPIs in role order."""

    period: np.ndarray
    employee: np.ndarray
    band: np.ndarray
    per_period: int
    first_slot: np.ndarray  # per employee: where its KPIs start within a period
    slot_of: np.ndarray  # per role and KPI: the KPI's place in the role (-1: not assigned)

    @classmethod
    def build(cls, emp_role: np.ndarray, band_role: np.ndarray, band_kpi: np.ndarray, n_kpis: int,
              n_periods: int) -> _Grid:
        n_roles = int(band_role.max()) + 1 if band_role.size else 0
        per_role = np.bincount(band_role, minlength=n_roles)
        first_band = np.cumsum(per_role) - per_role
        per_emp = per_role[emp_role]
        first_slot = np.cumsum(per_emp) - per_emp
        per_period = int(per_emp.sum())
        employee = np.repeat(np.arange(len(emp_role), dtype=np.int32), per_emp)
        band = (first_band[emp_role[employee]] + np.arange(per_period) - first_slot[employee]).astype(np.int32)
        slot_of = np.full((n_roles, n_kpis + 1), -1, dtype=np.int64)
        slot_of[band_role, band_kpi] = np.arange(len(band_role)) - first_band[band_role]
        return cls(period=np.repeat(np.arange(n_periods, dtype=np.int32), per_period),
                   employee=np.tile(employee, n_periods), band=np.tile(band, n_periods), per_period=per_period,
                   first_slot=first_slot, slot_of=slot_of)


def _categorical(codes: np.ndarray, categories: pd.Index, ordered: bool = False) -> pd.Categorical:
    return pd.Categorical.from_codes(codes, categories=categories, ordered=ordered, validate=False)


def score_actuals(actuals: pd.DataFrame, employees: pd.DataFrame, framework: Framework,
                  config: ScoringConfig = ScoringConfig(), periods: Iterable[str] | None = None) -> pd.DataFrame:
    """Score every employee × assigned KPI × period; assigned KPIs without an actual are grey with NaN score.

    `actuals` has period, team, employee_id, kpi_id and value (one value per period, employee and KPI, as the
    store keeps them). Who a value counts for is the rule of `workspace.assignments`: a person's value counts in
    the person's own team; a row with an empty employee_id is a team-level value: it applies to every employee
    of that team whose role has the KPI, unless the employee has an own value, which wins. `employees` has
    employee_id, team and role. `periods` defaults to the periods present in `actuals`. Employees whose role
    has no KPIs, and actuals of unknown employees, of another team than the employee's, of unassigned KPIs or of
    other periods, are left out.

    Returns SCORE_COLUMNS, ordered by period, employee (as in `employees`) and KPI (as in the role file); the
    text columns are categoricals (period ordered chronologically).
    """
    bands = band_table(framework)
    roles = pd.Index(pd.unique(bands["role"]))
    kpis = pd.Index(pd.unique(bands["kpi_id"]))
    people = KpiHolders.of(framework, employees).staff
    people = people[people["role"].isin(roles)].reset_index(drop=True)
    ids = pd.Index(people["employee_id"].astype("object"))
    teams = pd.Index(list(dict.fromkeys([*(t.id for t in framework.teams), *people["team"].astype(str)])))
    labels = _period_labels(actuals["period"], periods)
    emp_role = roles.get_indexer(people["role"].astype("object")).astype(np.int32)
    emp_team = teams.get_indexer(people["team"].astype("object")).astype(np.int32)
    band_kpi = kpis.get_indexer(bands["kpi_id"]).astype(np.int32)
    grid = _Grid.build(emp_role, roles.get_indexer(bands["role"]), band_kpi, len(kpis), len(labels))

    value = np.full(len(grid.band), np.nan)
    if grid.per_period and len(actuals):
        p = _codes_in(actuals["period"], labels, periods=True)
        k = _codes_in(actuals["kpi_id"], kpis)
        e = _codes_in(actuals["employee_id"], ids)
        t = _codes_in(actuals["team"], teams)
        raw = actuals["value"].to_numpy(dtype="float64")
        # own values in the employee's own team: straight into the employee's slot for the KPI (-2: not an employee)
        at = np.flatnonzero((p >= 0) & (np.append(emp_team, -2)[e] == t))
        slot = grid.slot_of[emp_role[e[at]], k[at]]
        at, slot = at[slot >= 0], slot[slot >= 0]
        value[p[at] * grid.per_period + grid.first_slot[e[at]] + slot] = raw[at]
        # team-level values (empty employee_id): a period × team × KPI cube, read where an own value is missing
        codes, uniques = _factor(actuals["employee_id"])
        at = np.flatnonzero(np.append(is_team_level(pd.Series(uniques, dtype="object")), True)[codes])
        if at.size:
            at = at[(p[at] >= 0) & (k[at] >= 0) & (t[at] >= 0)]
            cube = np.full((len(labels), len(teams), len(kpis)), np.nan)
            cube[p[at], t[at], k[at]] = raw[at]
            empty = np.flatnonzero(np.isnan(value))
            value[empty] = cube[grid.period[empty], emp_team[grid.employee[empty]], band_kpi[grid.band[empty]]]

    achievement, score = banded_scores(value, bands, grid.band, config)
    return pd.DataFrame({
        "period": _categorical(grid.period, labels, ordered=True),
        "team": _categorical(emp_team[grid.employee], teams),
        "employee_id": _categorical(grid.employee, ids),
        "role": _categorical(emp_role[grid.employee], roles),
        "kpi_id": _categorical(band_kpi[grid.band], kpis),
        "value": value,
        "achievement": achievement,
        "score": score,
        "status": status_of(score, config),
        "weight": bands["weight"].to_numpy()[grid.band],
    }, copy=False)


def with_departments(scores: pd.DataFrame, framework: Framework) -> pd.DataFrame:
    """The scores with a `department` column (the department of each row's team; "" for a team without one)."""
    department_of = {t.id: t.department.strip() for t in framework.teams}
    names = [department_of.get(str(team), "") for team in scores["team"].cat.categories]
    department = pd.Categorical(np.asarray(names, dtype=object)[scores["team"].cat.codes.to_numpy()])
    return scores.assign(department=department)


def _keys(by: str | Sequence[str]) -> list[str]:
    by = [by] if isinstance(by, str) else list(by)
    return [k for k in by if k != ORGANIZATION]


def roll_up(scores: pd.DataFrame, by: str | Sequence[str] = ("employee_id",),
            config: ScoringConfig = ScoringConfig()) -> pd.DataFrame:
    """Weighted score per period and group (e.g. employee_id, role, team; empty or "organization" = everyone).

    score = Σ weight × score / Σ weight over the group's KPI rows that have a score (the weights of KPIs
    without data are left out and the rest renormalized); coverage = that covered weight / all weight.
    Teams, roles and the organization are scored the same way over all their people's KPI rows, so each
    person counts with the weight they have data for. No data at all → score NaN, status grey.
    Returns period, the group columns, score, coverage, status.
    """
    keys = ["period", *_keys(by)]
    group, columns = _groups(scores, keys)
    score = scores["score"].to_numpy(dtype="float64")
    weight = scores["weight"].to_numpy(dtype="float64")
    has = ~np.isnan(score)
    keep = group >= 0
    size = int(group.max()) + 1 if keep.any() else 0
    with np.errstate(invalid="ignore"):
        weighted = np.bincount(group[keep], np.where(has, weight * score, 0.0)[keep], minlength=size)
    covered = np.bincount(group[keep], np.where(has, weight, 0.0)[keep], minlength=size)
    total = np.bincount(group[keep], weight[keep], minlength=size)
    with np.errstate(divide="ignore", invalid="ignore"):
        result = np.where(covered > 0, weighted / covered, np.nan)
        coverage = np.where(total > 0, covered / total, np.nan)
    return pd.DataFrame({**columns, "score": result, "coverage": coverage, "status": status_of(result, config)})


def _groups(scores: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, dict[str, pd.Series]]:
    """A group number per row (-1 where a key is missing), groups ordered by the keys, and each group's keys.

    Categorical keys keep their category order (periods are chronological); other keys are sorted.
    """
    flat = np.zeros(len(scores), dtype=np.int64)
    missing = np.zeros(len(scores), dtype=bool)
    combinations = 1
    factors = []
    for key in keys:
        values = scores[key]
        if isinstance(values.dtype, pd.CategoricalDtype):
            codes, uniques = values.cat.codes.to_numpy(), values.cat.categories
        else:
            codes, uniques = pd.factorize(values, sort=True)
        factors.append((key, uniques, values.dtype))
        missing |= codes < 0
        flat = flat * max(len(uniques), 1) + codes
        combinations *= max(len(uniques), 1)
    flat[missing] = -1
    if combinations <= max(len(flat), DENSE_GROUPS):  # few possible groups: count them without hashing
        present = np.flatnonzero(np.bincount(flat[~missing], minlength=combinations))
        number = np.full(combinations + 1, -1, dtype=np.int64)  # the extra last entry maps flat -1 to -1
        number[present] = np.arange(len(present))
        group = number[flat]
    else:
        group, present = pd.factorize(flat, sort=True)
        if len(present) and present[0] == -1:
            group, present = group - 1, present[1:]
    columns: dict[str, pd.Series] = {}
    for key, uniques, dtype in reversed(factors):
        size = max(len(uniques), 1)
        codes, present = present % size, present // size
        values = (pd.Categorical.from_codes(codes, dtype=dtype) if isinstance(dtype, pd.CategoricalDtype)
                  else uniques.take(codes))
        columns = {key: pd.Series(values), **columns}
    return group, columns


def trend(scores: pd.DataFrame, by: str | Sequence[str] = ("team",),
          config: ScoringConfig = ScoringConfig()) -> pd.DataFrame:
    """Weighted score per group (rows) and period (columns, oldest first); one "organization" row for by=()."""
    keys = _keys(by)
    rolled = roll_up(scores, keys, config)
    rolled["period"] = rolled["period"].astype("object").astype(str)
    if not keys:
        rolled = rolled.assign(group=ORGANIZATION)
        keys = ["group"]
    table = rolled.pivot_table(index=keys, columns="period", values="score", observed=True, dropna=False)
    table = table.reindex(columns=sort_periods(table.columns))
    table.columns.name = "period"
    return table
