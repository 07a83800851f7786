"""The shared frame of histories: one KPI's values as a units × periods matrix, oriented so that up is good.

A *unit* is a person (rows with an employee id, keyed by team and employee) or a team (its team-level value, or
else the mean of its people's values). Periods are the store's period labels in chronological order.
"""

from __future__ import annotations

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

    def changes(self) -> np.ndarray:
        """Period-on-period changes within each unit (units × periods-1)."""
        return np.diff(self.values, axis=1)


def periods_of(actuals: pd.DataFrame) -> list[str]:
    """The periods of the actuals, oldest first."""
    return sort_periods(pd.unique(actuals["period"].astype(str)))


def orientation(framework: Framework, kpi: str) -> float:
    """+1 when a higher value is good (and for ranges, taken as measured), -1 when a lower value is good."""
    definition = framework.kpi(kpi)
    return -1.0 if definition is not None and definition.polarity is Polarity.LOWER_IS_BETTER else 1.0


def _person_rows(actuals: pd.DataFrame) -> np.ndarray:
    return actuals["employee_id"].fillna("").astype(str).str.strip().to_numpy() != ""


def panel(framework: Framework, actuals: pd.DataFrame, kpi: str, level: str, periods: list[str]) -> Panel:
    """The oriented panel of a KPI at the level of people or of teams."""
    rows = actuals[actuals["kpi_id"].astype(str) == kpi]
    person = _person_rows(rows)
    if level == PEOPLE:
        rows = rows[person]
        keys = rows["team"].astype(str) + "/" + rows["employee_id"].astype(str)
    else:
        own = rows[~person].groupby([rows["team"][~person].astype(str), rows["period"][~person].astype(str)])
        mean = rows[person].groupby([rows["team"][person].astype(str), rows["period"][person].astype(str)])
        team_values = own["value"].mean().combine_first(mean["value"].mean())
        rows = team_values.rename("value").rename_axis(["team", "period"]).reset_index()
        keys = rows["team"].astype(str)
    table = pd.DataFrame({"unit": keys.to_numpy(), "team": rows["team"].astype(str).to_numpy(),
                          "period": rows["period"].astype(str).to_numpy(),
                          "value": rows["value"].to_numpy(dtype=float)})
    wide = table.pivot_table(index="unit", columns="period", values="value", aggfunc="mean")
    wide = wide.reindex(columns=periods)
    teams = table.drop_duplicates("unit").set_index("unit")["team"].reindex(wide.index).to_numpy(dtype=object)
    values = wide.to_numpy(dtype=float) * orientation(framework, kpi)
    return Panel(kpi, level, periods, wide.index, teams, values)


def common_units(a: Panel, b: Panel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rows of both panels for the units they share: (values of a, values of b, teams)."""
    shared = a.units.intersection(b.units)
    ia, ib = a.units.get_indexer(shared), b.units.get_indexer(shared)
    return a.values[ia], b.values[ib], a.teams[ia]


def paired_panels(framework: Framework, actuals: pd.DataFrame, first: str, second: str, periods: list[str],
                  min_units: int) -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
    """Two KPIs on the same units: people who have both when at least `min_units` do, else teams.

    Returns the level, the two value matrices (units × periods, oriented) and each unit's team.
    """
    a, b, teams = common_units(panel(framework, actuals, first, PEOPLE, periods),
                               panel(framework, actuals, second, PEOPLE, periods))
    both = (np.isfinite(a) & np.isfinite(b)).any(axis=1)
    if both.sum() >= min_units:
        return PEOPLE, a[both], b[both], teams[both]
    a, b, teams = common_units(panel(framework, actuals, first, TEAMS, periods),
                               panel(framework, actuals, second, TEAMS, periods))
    return TEAMS, a, b, teams
