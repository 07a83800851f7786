"""Step 4, weights and targets: the current levels and the evidence-based suggestions as tables a report shows,
built on `analysis.targets`."""

from __future__ import annotations

__all__ = [
    "METHODS", "POLARITY_WORDS", "VERDICT_PALETTE", "bands_report", "current", "current_report", "evidence",
    "evidence_report",
]

import pandas as pd

from kpi_workbook.analysis.targets import CHALLENGING, NO_DATA, TOO_EASY, UNREALISTIC, bands_text, suggest_for_framework
from kpi_workbook.core.model import Framework
from kpi_workbook.reports.tables import Col, ReportTable
from kpi_workbook.steps.context import StepContext

METHODS = ["percentile", "trend", "peer"]

VERDICT_PALETTE = {CHALLENGING: "green", TOO_EASY: "amber", UNREALISTIC: "red", NO_DATA: "grey"}
POLARITY_WORDS = {"higher_is_better": "higher is better", "lower_is_better": "lower is better",
                  "within_range": "within a range"}


def evidence(ctx: StepContext, framework: Framework | None = None) -> pd.DataFrame:
    """Suggestions of each of METHODS for every role KPI of the scope, from its history up to the period;
    `framework` is one being edited (default: the workspace's, as opened)."""
    framework = framework or ctx.framework
    roles = [r.id for r in framework.roles if ctx.is_organization or set(r.teams) & set(ctx.team_ids)]
    return suggest_for_framework(framework, ctx.actuals_to_date, ctx.employees, method=METHODS, roles=roles)


def current(evidence: pd.DataFrame) -> pd.DataFrame:
    """The rows of `evidence` that judge the current levels (one per role KPI)."""
    return evidence[evidence["method"] == "percentile"]


def bands_report(bands: pd.DataFrame) -> ReportTable:
    """Each role KPI's weight and levels (threshold, target, stretch, or the ranges of a within-range KPI)."""
    ranges = {c: bands[c].str.replace("–", " to ") for c in ("target_range", "threshold_range")}
    shown = bands.assign(polarity=bands["polarity"].map(POLARITY_WORDS).fillna(bands["polarity"]), **ranges)
    return ReportTable(shown, {
        "role": Col("Role"), "name": Col("KPI"), "polarity": Col("Direction"), "unit": Col("Unit"),
        "weight": Col("Weight", "count"), "threshold": Col("Threshold", "level"), "target": Col("Target", "level"),
        "stretch": Col("Stretch", "level"), "target_range": Col("Target range"),
        "threshold_range": Col("Threshold range"),
    }, noun=("role KPI", "role KPIs"), empty="No role KPIs in this scope.", group_by="role")


def current_report(current: pd.DataFrame) -> ReportTable:
    """The current levels of each role KPI judged on the evidence: the chance past values meet the target."""
    shown = current.assign(current_levels=[bands_text(r, "current_") for r in current.to_dict("records")])
    return ReportTable(shown, {
        "role": Col("Role"), "kpi_name": Col("KPI"), "current_levels": Col("Current levels"),
        "current_probability": Col("Chance met", "share"),
        "current_verdict": Col("Verdict", "status", palette=VERDICT_PALETTE),
    }, noun=("role KPI", "role KPIs"), empty="No role KPIs with history in this scope.", group_by="role")


def evidence_report(evidence: pd.DataFrame) -> ReportTable:
    """The suggestion of each method, with its probability of attainment, verdict and notes.

    Levels read threshold/target/stretch (or 'target range in threshold range' for a within-range KPI).
    """
    shown = evidence.assign(levels=[bands_text(r) for r in evidence.to_dict("records")])
    return ReportTable(shown, {
        "role": Col("Role"), "kpi_name": Col("KPI"), "method": Col("Method"), "levels": Col("Suggested levels"),
        "probability": Col("Chance met", "share"), "verdict": Col("Verdict", "status", palette=VERDICT_PALETTE),
        "notes": Col("Notes"),
    }, noun=("suggestion", "suggestions"), empty="No role KPIs with history in this scope.", group_by="role",
        group_above=12)
