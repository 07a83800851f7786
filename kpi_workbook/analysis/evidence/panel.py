"""The shared frame of histories: one KPI's values as a units × periods matrix, oriented so that up is good.

A *unit* is a person (rows with an employee id, keyed by team and employee) or a team (its team-level value, or
else the mean of its people's values). Periods are the store's period labels in chronological order.
"""

from __future__ import annotations

__all__ = ["PEOPLE", "Panel", "Panels", "TEAMS", "common_units", "orientation", "paired_panels", "periods_of"]

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kpi_workbook.core.model import Framework, Polarity
from kpi_workbook.core.periods import sort_periods

PEOPLE = "people"
TEAMS = "teams"


@dataclass(frozen=True)
class Panel:
    """Values of one KPI per unit (rows) and period (columns); NaN where a unit has no value in a period."""

    kpi: str
    level: str
    periods: list[str]
    units: pd.Index
    teams: np.ndarray
    values: np.ndarray


def periods_of(actuals: pd.DataFrame) -> list[str]:
    """The periods of the actuals, oldest first."""
    return sort_periods(pd.unique(actuals["period"].astype(str)))


def orientation(framework: Framework, kpi: str) -> float:
    """+1 when a higher value is good (and for ranges, taken as measured), -1 when a lower value is good."""
    definition = framework.kpi(kpi)
    return -1.0 if definition is not None and definition.polarity is Polarity.LOWER_IS_BETTER else 1.0


def _person_rows(actuals: pd.DataFrame) -> np.ndarray:
    return actuals["employee_id"].fillna("").astype(str).str.strip().to_numpy() != ""


class Panels:
    """Every KPI's panel at both levels, from one reshaping of the actuals."""

    def __init__(self, framework: Framework, actuals: pd.DataFrame, periods: list[str] | None = None):
        self.framework = framework
        self.periods = periods if periods is not None else periods_of(actuals)
        rows = pd.DataFrame({"kpi": actuals["kpi_id"].astype(str).to_numpy(),
                             "team": actuals["team"].astype(str).to_numpy(),
                             "employee": actuals["employee_id"].fillna("").astype(str).to_numpy(),
                             "period": actuals["period"].astype(str).to_numpy(),
                             "value": actuals["value"].to_numpy(dtype=float)})
        person = _person_rows(actuals)
        people = rows[person].assign(unit=lambda f: f["team"] + "/" + f["employee"])
        by_team = ["kpi", "team", "period"]
        team_values = rows[~person].groupby(by_team)["value"].mean().combine_first(
            rows[person].groupby(by_team)["value"].mean())
        self._wide = {
            PEOPLE: people.groupby(["kpi", "unit", "period"])["value"].mean().unstack("period"),
            TEAMS: team_values.rename_axis(["kpi", "unit", "period"]).unstack("period"),
        }
        self._kpis = {level: set(wide.index.get_level_values(0)) for level, wide in self._wide.items()}
        self._made: dict[tuple[str, str], Panel] = {}

    def of(self, kpi: str, level: str) -> Panel:
        """The oriented panel of a KPI at the level of people or of teams (no rows without values), made once (its
        values are read only)."""
        if (kpi, level) not in self._made:
            wide = self._wide[level]
            table = wide.loc[kpi] if kpi in self._kpis[level] else wide.iloc[:0].droplevel(0)
            table = table.reindex(columns=self.periods)
            units = pd.Index(table.index.astype(str))
            teams = np.asarray([unit.partition("/")[0] for unit in units], dtype=object)
            values = table.to_numpy(dtype=float) * orientation(self.framework, kpi)
            values.setflags(write=False)
            self._made[kpi, level] = Panel(kpi, level, self.periods, units, teams, values)
        return self._made[kpi, level]


def common_units(a: Panel, b: Panel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows of both panels for the units they share: (values of a, values of b, teams)."""
    shared = a.units.intersection(b.units)
    ia, ib = a.units.get_indexer(shared), b.units.get_indexer(shared)
    return a.values[ia], b.values[ib], a.teams[ia]


def paired_panels(panels: Panels, first: str, second: str,
                  min_units: int) -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
    """Two KPIs on the same units: people who have both when at least `min_units` do, else teams.

    Returns the level, the two value matrices (units × periods, oriented) and each unit's team.
    """
    a, b, teams = common_units(panels.of(first, PEOPLE), panels.of(second, PEOPLE))
    both = (np.isfinite(a) & np.isfinite(b)).any(axis=1)
    if both.sum() >= min_units:
        return PEOPLE, a[both], b[both], teams[both]
    a, b, teams = common_units(panels.of(first, TEAMS), panels.of(second, TEAMS))
    return TEAMS, a, b, teams
