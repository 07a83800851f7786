"""The strategy map's data: the objectives by balanced-scorecard perspective, their cascade (parent → child), the KPIs
serving each objective, and each objective's status in a period.

An objective's *KPIs* are the KPIs of the role KPI assignments that name it in their `objectives` (each KPI once,
in file order). Its status is rolled up from its KPIs' scores like every other roll-up (`scoring.roll_up`): the
weighted score Σ weight × score / Σ weight over the scored rows (people × KPI) of those assignments in the period,
and the status colour of that score (grey: no KPI, or no score). A KPI's status on an objective is the same roll-up
over its own rows.

A scope of roles (a team's, a department's) shows the objectives its roles' KPIs serve, with their parents up to
the top of the cascade; the whole organization shows every objective.
"""

from __future__ import annotations

__all__ = ["LINK_COLUMNS", "MapKpi", "MapObjective", "StrategyMap", "objective_kpi_links", "strategy_map"]

import math
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from kpi_workbook.analysis.scoring import STATUSES, roll_up
from kpi_workbook.core.model import Framework, Perspective, Role

LINK_COLUMNS = ["objective", "role", "kpi_id"]


@dataclass(frozen=True)
class MapKpi:
    """A KPI serving an objective, with its weighted score (NaN: no data) and status on that objective."""

    id: str
    name: str
    score: float = math.nan
    status: str = "grey"


@dataclass(frozen=True)
class MapObjective:
    """An objective on the map: its perspective, its parent on the map (None at the top), KPIs and status."""

    id: str
    title: str
    perspective: Perspective
    parent: str | None
    kpis: tuple[MapKpi, ...]
    score: float = math.nan
    status: str = "grey"


@dataclass(frozen=True)
class StrategyMap:
    """The objectives of a scope, in the framework's order, and the period their statuses are of ("" for none)."""

    objectives: tuple[MapObjective, ...]
    period: str = ""

    @property
    def edges(self) -> list[tuple[str, str]]:
        """The cascade as (parent, child) objective ids."""
        return [(o.parent, o.id) for o in self.objectives if o.parent is not None]

    def in_perspective(self, perspective: Perspective) -> list[MapObjective]:
        """The objectives of one perspective."""
        return [o for o in self.objectives if o.perspective is perspective]

    def status_counts(self) -> dict[str, int]:
        """How many objectives have each status, in green, amber, red, grey order (zeros included)."""
        return {status: sum(o.status == status for o in self.objectives) for status in STATUSES}


def objective_kpi_links(framework: Framework, roles: Sequence[Role]) -> pd.DataFrame:
    """One row per (objective, role, KPI) the roles' assignments name, defined objectives only, in file order."""
    known = {o.id for o in framework.objectives}
    rows = [(objective, role.id, a.kpi) for role in roles for a in role.kpis for objective in a.objectives
            if objective in known]
    return pd.DataFrame(rows, columns=LINK_COLUMNS).drop_duplicates(ignore_index=True)


def _with_ancestors(framework: Framework, objective_ids: set[str]) -> set[str]:
    """The objectives and every objective above them in the cascade (a cycle of parents stops the walk)."""
    parent = {o.id: o.parent for o in framework.objectives}
    found: set[str] = set()
    for start in objective_ids:
        current: str | None = start  # None above a top objective
        while current is not None and current in parent and current not in found:
            found.add(current)
            current = parent[current]
    return found


def _rolled(scores: pd.DataFrame | None, links: pd.DataFrame, period: str, by: tuple[str, ...]) -> dict:
    """(score, status) per group of `by` over the period's score rows of the linked role KPIs."""
    if scores is None or not period or links.empty:
        return {}
    rows = scores.loc[scores["period"].astype(str) == period, ["period", "role", "kpi_id", "score", "weight"]]
    rows = rows.astype({"role": str, "kpi_id": str}).merge(links, on=["role", "kpi_id"])
    if rows.empty:
        return {}
    rolled = roll_up(rows, by)
    keys = zip(*(rolled[k].astype(str) for k in by), strict=True)
    return {key if len(by) > 1 else key[0]: (score, str(status))
            for key, score, status in zip(keys, rolled["score"], rolled["status"], strict=True)}


def strategy_map(framework: Framework, scores: pd.DataFrame | None = None, period: str = "",
                 roles: Sequence[Role] | None = None) -> StrategyMap:
    """The strategy map of `roles` (None: every objective, served by every role) with statuses in `period`.

    `scores` are `scoring.score_actuals` of the scope's people (None or no `period`: every status grey).
    """
    links = objective_kpi_links(framework, framework.roles if roles is None else roles)
    shown = ({o.id for o in framework.objectives} if roles is None
             else _with_ancestors(framework, set(links["objective"])))
    by_objective = _rolled(scores, links, period, ("objective",))
    by_kpi = _rolled(scores, links, period, ("objective", "kpi_id"))
    names = {k.id: k.name for k in framework.kpis}
    objectives = []
    for objective in (o for o in framework.objectives if o.id in shown):
        kpi_ids = dict.fromkeys(links.loc[links["objective"] == objective.id, "kpi_id"])
        kpis = tuple(MapKpi(k, names.get(k, k), *by_kpi.get((objective.id, k), (math.nan, "grey"))) for k in kpi_ids)
        parent = objective.parent if objective.parent in shown else None
        objectives.append(MapObjective(objective.id, objective.title, Perspective(objective.perspective), parent,
                                       kpis, *by_objective.get(objective.id, (math.nan, "grey"))))
    return StrategyMap(tuple(objectives), period if scores is not None else "")
