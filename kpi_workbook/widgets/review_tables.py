"""Step 5's tables and charts as `views.StepPage.show` draws them: from what the review computed once (scores,
flags, the KPI board), with names from the framework. The review edits no framework, so each is drawn once; the
evidence of whether the framework works is tested once, when it is first drawn (in a workshop, when a button asks
for it), and shared by the section and the appendix that show it."""

from __future__ import annotations

__all__ = [
    "evidence", "evidence_appendix", "evidence_section", "flags", "kpis", "lineage", "people", "ratings_form",
    "roles", "roles_chart", "summary", "teams", "trends",
]

from collections.abc import Callable
from typing import TYPE_CHECKING

import pandas as pd

from kpi_workbook.core.model import Framework
from kpi_workbook.reports import charts
from kpi_workbook.steps import review as step
from kpi_workbook.steps.context import StepContext
from kpi_workbook.widgets.views import OneAtATime

if TYPE_CHECKING:
    from kpi_workbook.reports.evidence_section import ScopeEvidence

Draw = Callable[[Framework], tuple[object, ...]]
Evidence = Callable[[], "ScopeEvidence | None"]


def summary(ctx: StepContext, scores: pd.DataFrame, flags: pd.DataFrame, board: pd.DataFrame) -> Draw:
    """The review's first section: the summary box, each KPI's actual against its target, what needs attention."""
    return lambda _framework: (step.summary(ctx, scores, flags, board, step.scope_values(ctx, scores)),)


def teams(table: pd.DataFrame) -> Draw:
    """The team scorecard of the period."""
    return lambda framework: (step.team_table(table, framework),)


def roles(table: pd.DataFrame) -> Draw:
    """The role scorecards of the period, per team."""
    return lambda framework: (step.role_table(table, framework),)


def roles_chart(table: pd.DataFrame, ctx: StepContext) -> Draw:
    """The chart of the role scores, each role said by its team's name and its title."""
    def draw(framework: Framework) -> tuple[object, ...]:
        named = step.with_names(table, framework)
        labels = named["team_name"] + " / " + named["role_name"]
        return (charts.scorecard_chart(named.assign(label=labels), label="label", title=f"Role scores, {ctx.period}"),)
    return draw


def kpis(board: pd.DataFrame, rolled: pd.DataFrame, ctx: StepContext) -> Draw:
    """Each team's role KPIs against their targets and, for a team, one chart per role of its KPIs' mean scores
    (`rolled`: the period's scores rolled up per team, role and KPI): in a workshop one role's chart at a time,
    each drawn when its role is picked (views.OneAtATime)."""
    def chart(rows: pd.DataFrame, title: str) -> Callable[[], object]:
        return lambda: charts.scorecard_chart(rows, label="kpi_id_name", title=title)

    def draw(framework: Framework) -> tuple[object, ...]:
        shown: list[object] = [step.kpi_section(board, ctx)]
        if ctx.team:
            named = step.with_names(rolled, framework).groupby(["team_name", "role_name"])
            shown.append(OneAtATime("Chart of", {f"{team} / {role}": chart(rows, f"{team} / {role}, {ctx.period}")
                                                 for (team, role), rows in named}))
        return tuple(shown)
    return draw


def trends(trend: pd.DataFrame, level: str) -> Draw:
    """The weighted scores over the past periods, one line per role (a team) or per team (`level`)."""
    def draw(framework: Framework) -> tuple[object, ...]:
        named = step.with_names(trend, framework)
        return (charts.trend_chart(named, group=f"{level}_name", title="Weighted score by period"),)
    return draw


def people(scorecards: pd.DataFrame, ctx: StepContext, shown: bool) -> Draw:
    """Each person's scorecard when `shown`, else a line saying they are left out."""
    return lambda _framework: (step.people_section(scorecards, ctx, shown),)


def flags(table: pd.DataFrame) -> Draw:
    """The review's flags with their recommendations."""
    return lambda framework: (step.flags_table(table, framework),)


def evidence(ctx: StepContext) -> Evidence:
    """Whether the framework works for the scope (steps.review.scope_evidence), tested on the first call only."""
    found: list[ScopeEvidence | None] = []

    def tested() -> ScopeEvidence | None:
        if not found:
            found.append(step.scope_evidence(ctx))
        return found[0]
    return tested


def evidence_section(ctx: StepContext, tested: Evidence) -> Draw:
    """The section "Is the framework working?"."""
    return lambda _framework: (step.evidence_section(tested(), ctx),)


def evidence_appendix(ctx: StepContext, tested: Evidence) -> Draw:
    """The evidence in detail: every pair tested, attainment per role and team, scores per team."""
    return lambda _framework: (step.evidence_appendix(tested(), ctx),)


def lineage(values: pd.DataFrame, ctx: StepContext, shown: bool) -> Draw:
    """Where the period's values come from, per KPI and team, and each computed value (the team values only,
    unless people are `shown`)."""
    def draw(framework: Framework) -> tuple[object, ...]:
        summary = step.lineage_summary_table(step.lineage_summary(values), framework,
                                             step.current_definitions(ctx.root, framework))
        return summary, step.computed_values_section(values, ctx, shown)
    return draw



def ratings_form(ctx: StepContext) -> Draw:
    """The live form to enter the period's ratings of the team's people (a workshop only: ipywidgets loads here)."""
    def draw(_framework: Framework) -> tuple[object, ...]:
        from kpi_workbook.widgets.ratings import RatingsForm

        return (RatingsForm(ctx.workspace, ctx.team, ctx.periods),)
    return draw
