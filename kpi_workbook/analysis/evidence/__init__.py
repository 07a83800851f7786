"""Evidence that a framework works: do leading KPIs lead, are targets equally hard, is a KPI being gamed.

Pure functions over the framework, the actuals (period, team, employee_id, kpi_id, value) and employees.csv;
`framework_evidence` runs all three questions.
"""

from __future__ import annotations

__all__ = ["Evidence", "framework_evidence", "targets_set_in"]

from dataclasses import dataclass

import pandas as pd

from kpi_workbook.analysis.evidence.calibration import score_calibration
from kpi_workbook.analysis.evidence.difficulty import Difficulty, target_difficulty
from kpi_workbook.analysis.evidence.gaming import (
    GamingSignal,
    bunching_findings,
    collapse_findings,
    guardrail_findings,
)
from kpi_workbook.analysis.evidence.leading import LeadEvidence, lead_evidence
from kpi_workbook.core.model import Framework
from kpi_workbook.core.periods import period_of


@dataclass(frozen=True)
class Evidence:
    """The answers to the three questions."""

    leads: LeadEvidence
    difficulty: Difficulty
    calibration: pd.DataFrame
    gaming: list[GamingSignal]
    since: str | None


def targets_set_in(framework: Framework) -> str | None:
    """The period the framework's targets were set in: that of its date (framework.yaml), if it has one."""
    date = framework.metadata.date
    return period_of(date, framework.metadata.review_cycle).label if date else None


def framework_evidence(framework: Framework, actuals: pd.DataFrame, employees: pd.DataFrame,
                       seed: int = 0) -> Evidence:
    """All three questions over the stored history (`seed` fixes the random shuffles)."""
    since = targets_set_in(framework)
    gaming = [*bunching_findings(framework, actuals, employees), *guardrail_findings(framework, actuals, seed),
              *collapse_findings(framework, actuals, employees, since)]
    return Evidence(lead_evidence(framework, actuals, seed), target_difficulty(framework, actuals, employees),
                    score_calibration(framework, actuals, employees), gaming, since)
