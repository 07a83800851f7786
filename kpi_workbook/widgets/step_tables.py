"""Each step's main tables and charts as a room reads them (titles and names, no ids), drawn from a framework: what
`live.redrawn` shows under the forms and draws again after each save."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from IPython.display import Markdown

from kpi_workbook.core.model import Framework, Role
from kpi_workbook.steps import job_descriptions, kpi_design, strategic_goals, targets
from kpi_workbook.steps.context import StepContext

Draw = Callable[[Framework], tuple[object, ...]]
HEADING = "#### {what}, as saved\n*Drawn again after each **Save** and **Reload**.*"


def _roles(ctx: StepContext, framework: Framework) -> list[Role]:
    """The scope's roles as `framework` holds them (a role added to the team is one of them)."""
    if ctx.is_organization:
        return list(framework.roles)
    return [r for r in framework.roles if set(r.teams) & set(ctx.team_ids)]


def _titled(table: pd.DataFrame, framework: Framework, column: str = "role") -> pd.DataFrame:
    """`table` with the role ids of `column` replaced by the roles' titles."""
    titles = {r.id: r.title for r in framework.roles}
    return table.assign(**{column: table[column].map(titles).fillna(table[column])})


def objectives_tables(ctx: StepContext) -> Draw:
    """Step 1: the objectives by perspective and their coverage by the scope's role KPIs."""
    def draw(framework: Framework) -> tuple[object, ...]:
        coverage = strategic_goals.objective_coverage(framework, _roles(ctx, framework))
        titles = {o.id: o.title for o in framework.objectives}
        return (Markdown(HEADING.format(what="The objectives and their coverage")),
                strategic_goals.objectives_report(strategic_goals.objectives_by_perspective(framework)),
                strategic_goals.coverage_chart(coverage.assign(objective=coverage["objective"].map(titles))))
    return draw


def roles_tables(ctx: StepContext) -> Draw:
    """Step 2: the scope's roles and their responsibilities with expected outcomes."""
    def draw(framework: Framework) -> tuple[object, ...]:
        roles = _roles(ctx, framework)
        return (Markdown(HEADING.format(what="The roles and responsibilities")),
                job_descriptions.roles_report(job_descriptions.roles_table(roles, ctx.employees)),
                job_descriptions.responsibilities_report(
                    _titled(job_descriptions.responsibilities_table(roles), framework)))
    return draw


def _served(table: pd.DataFrame, framework: Framework) -> pd.DataFrame:
    """A role KPI table whose objectives and responsibility are said by their titles and descriptions."""
    titles = {o.id: o.title for o in framework.objectives}
    duties = {(r.id, d.id): d.description for r in framework.roles for d in r.responsibilities}
    return table.assign(
        objectives=[", ".join(titles.get(o, o) for o in ids.split(", ") if o) for ids in table["objectives"]],
        responsibility=[duties.get((role, duty), duty) for role, duty in zip(table["role"], table["responsibility"],
                                                                             strict=True)])


def kpi_tables(ctx: StepContext) -> Draw:
    """Step 3: each role's KPIs and the balance of their weights across categories."""
    def draw(framework: Framework) -> tuple[object, ...]:
        table = _titled(_served(kpi_design.role_kpi_table(framework, _roles(ctx, framework)), framework), framework)
        return (Markdown(HEADING.format(what="Each role's KPIs")), kpi_design.role_kpis_report(table),
                kpi_design.balance_chart(table))
    return draw


def targets_tables(ctx: StepContext) -> Draw:
    """Step 4: each role KPI's weight and levels."""
    def draw(framework: Framework) -> tuple[object, ...]:
        table = _titled(kpi_design.role_kpi_table(framework, _roles(ctx, framework)), framework)
        return Markdown(HEADING.format(what="Weights and levels")), targets.bands_report(table)
    return draw
