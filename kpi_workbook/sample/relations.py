"""Relations planted in the sample organization's performance, so that `kpi-workbook evidence` has something to find:
a leading KPI that drives a lagging one some periods later, a role whose targets are easier and one whose targets
are harder than the others', values bunched at a target, and a KPI improving while its guardrail worsens.

Every plant works on an assignment's performance in band units (0 the target, +1 the stretch level, better = up)
before its values are made; the random draws of bunching come from a stream of their own, so every other value of
the sample stays as it was. A plant whose roles or KPIs the framework lacks does nothing.
"""

from __future__ import annotations

__all__ = ["BUNCHED", "Bunch", "DRIFTS", "LEADS", "Lead", "Planter", "ROLE_OFFSETS"]

from dataclasses import dataclass

import numpy as np

from kpi_workbook.core.model import Assignment, Framework


@dataclass(frozen=True)
class Lead:
    """A leading KPI whose change shows in a lagging KPI of the same people `lag` periods later."""

    leading: str
    lagging: str
    lag: int
    strength: float  # band units of the lagging KPI per band unit of the leading one


@dataclass(frozen=True)
class Bunch:
    """Values up to `reach` band units short of the target, reported at the target `share` of the time."""

    reach: float
    share: float


#: Leading KPIs that drive a lagging KPI (kpis.yaml declares them in `leads`).
LEADS = (Lead("pipeline_coverage", "quota_attainment", lag=2, strength=0.6),)
#: Roles whose targets are easier (+) or harder (-) than the others': their values sit this many band units off.
ROLE_OFFSETS = {"marketing_specialist": 0.6, "product_manager": -0.6}
#: (role, KPI) whose values just short of the target are reported at the target.
BUNCHED = {("operations_coordinator", "on_time_delivery_rate"): Bunch(reach=0.6, share=0.6)}
#: (role, team): KPIs that drift this many band units per period (kpis.yaml names the second the first's guardrail).
DRIFTS = {("software_engineer", "it"): {"code_review_turnaround": 0.15, "escaped_defects": -0.15}}


class Planter:
    """Applies the plants to one sample's assignments, in the order generate_actuals draws them."""

    def __init__(self, framework: Framework, teams: list[str], seed: int):
        self.teams, self.seed = teams, seed
        self.held = {(a.role, a.kpi.kpi) for a in framework.assignments}
        self.leading: dict[tuple[str, str], np.ndarray] = {}

    def follows(self, assignment: Assignment) -> bool:
        """Whether the assignment is driven by another of its role's (and so is drawn after it)."""
        return any(assignment.kpi.kpi == lead.lagging and (assignment.role, lead.leading) in self.held
                   for lead in LEADS)

    def planted(self, assignment: Assignment, number: int, teams: np.ndarray, z: np.ndarray) -> np.ndarray:
        """The performance (people × periods, band units) of a person-level assignment with its plants; `teams`
        holds each person's team code and `number` the assignment's place in the draws."""
        role, kpi = assignment.role, assignment.kpi.kpi
        z = z + ROLE_OFFSETS.get(role, 0.0)
        z = z + self._drift(role, kpi, teams, z.shape[1])
        for lead in LEADS:
            if lead.leading == kpi:
                self.leading[(role, kpi)] = z
            elif lead.lagging == kpi and (role, lead.leading) in self.leading:
                z = z + lead.strength * _lagged(self.leading[(role, lead.leading)], lead.lag)
        bunch = BUNCHED.get((role, kpi))
        if bunch is not None:
            rng = np.random.default_rng([self.seed, 4, number])
            short = (z >= -bunch.reach) & (z < 0) & (rng.random(z.shape) < bunch.share)
            z = np.where(short, 0.0, z)
        return z

    def _drift(self, role: str, kpi: str, teams: np.ndarray, periods: int) -> np.ndarray:
        """Each person's drift from the first period on, zero outside DRIFTS."""
        t = np.arange(periods)
        drift = np.zeros((len(teams), periods))
        for (drifting, team), rates in DRIFTS.items():
            if drifting == role and kpi in rates and team in self.teams:
                drift[teams == self.teams.index(team)] = rates[kpi] * t
        return drift


def _lagged(leading: np.ndarray, lag: int) -> np.ndarray:
    """The leading performance `lag` periods earlier (the first period's before that), less each person's mean."""
    earlier = leading[:, np.maximum(np.arange(leading.shape[1]) - lag, 0)]
    return earlier - earlier.mean(axis=1, keepdims=True)
