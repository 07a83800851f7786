"""Each step's tables and charts as a room reads them (titles and names, no ids in charts), drawn from a framework:
what `views.StepPage.show` shows higher up a notebook and `live.redrawn` under the forms, drawn again after each
save."""

from __future__ import annotations

__all__ = [
    "Draw", "HEADING", "balance", "balance_chart", "coverage", "design_evidence", "evidence", "findings", "gaps",
    "guardrails", "history_charts", "kpi_tables", "lead_pairs", "levels", "measures", "mix", "objectives",
    "objectives_tables", "perspectives", "responsibilities", "role_kpis", "roles", "roles_tables", "strategy_map",
    "suggestions", "targets_tables", "uncovered", "unlinked",
]

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar, cast

import pandas as pd
from IPython.display import Markdown

from kpi_workbook.core.model import Framework, Role
from kpi_workbook.reports import charts
from kpi_workbook.steps import job_descriptions, kpi_design, strategic_goals, targets
from kpi_workbook.steps.context import StepContext

if TYPE_CHECKING:
    from kpi_workbook.steps.design_evidence import DesignEvidence

Draw = Callable[[Framework], tuple[object, ...]]
_Drawn = TypeVar("_Drawn")
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


def _coverage(ctx: StepContext, framework: Framework) -> pd.DataFrame:
    """Step 1's coverage of each objective by the scope's role KPIs, the roles said by their titles."""
    found = strategic_goals.objective_coverage(framework, _roles(ctx, framework))
    titles = {r.id: r.title for r in framework.roles}
    return found.assign(roles=[", ".join(titles.get(r, r) for r in ids.split(", ") if r) for ids in found["roles"]])


def _once(ctx: StepContext, framework: Framework, name: str, draw: Callable[[Framework], _Drawn]) -> _Drawn:
    """`draw(framework)`, drawn once for the framework as opened and kept in `ctx.kept` under `name` (the same
    chart higher up the page and beside or under the forms); drawn anew for any other framework."""
    if framework != ctx.framework:
        return draw(framework)
    if name not in ctx.kept:
        ctx.kept[name] = draw(framework)
    return cast("_Drawn", ctx.kept[name])


def _coverage_chart(coverage: pd.DataFrame, framework: Framework) -> object:
    """The coverage chart with each objective said by its title."""
    titles = {o.id: o.title for o in framework.objectives}
    return strategic_goals.coverage_chart(coverage.assign(objective=coverage["objective"].map(titles)))


def strategy_map(ctx: StepContext) -> Draw:
    """Step 1: the scope's strategy map (drawn once for the framework as opened)."""
    return lambda framework: (_once(ctx, framework, "strategy map",
                                    lambda drawn: strategic_goals.strategy_map(ctx, drawn)),)


def objectives(_ctx: StepContext) -> Draw:
    """Step 1: the objectives by perspective."""
    return lambda framework: (strategic_goals.objectives_report(strategic_goals.objectives_by_perspective(framework)),)


def perspectives(ctx: StepContext) -> Draw:
    """Step 1: objectives per perspective and how many a KPI of the scope serves."""
    return lambda framework: (strategic_goals.perspective_report(
        strategic_goals.perspective_summary(_coverage(ctx, framework))),)


def _covered(ctx: StepContext, framework: Framework) -> tuple[pd.DataFrame, object]:
    """Step 1's coverage table and chart (drawn once for the framework as opened)."""
    def draw(drawn: Framework) -> tuple[pd.DataFrame, object]:
        found = _coverage(ctx, drawn)
        return found, _coverage_chart(found, drawn)
    return _once(ctx, framework, "coverage", draw)


def coverage(ctx: StepContext) -> Draw:
    """Step 1: each objective's coverage by the scope's role KPIs, as a table and as a chart."""
    def draw(framework: Framework) -> tuple[object, ...]:
        found, chart = _covered(ctx, framework)
        return strategic_goals.coverage_report(found), chart
    return draw


def unlinked(ctx: StepContext) -> Draw:
    """Step 1: the scope's role KPIs that serve no objective."""
    return lambda framework: (strategic_goals.unlinked_report(
        strategic_goals.unlinked_kpis(framework, _roles(ctx, framework))),)


def objectives_tables(ctx: StepContext) -> Draw:
    """Step 1: the objectives by perspective and their coverage by the scope's role KPIs."""
    def draw(framework: Framework) -> tuple[object, ...]:
        return (Markdown(HEADING.format(what="The objectives and their coverage")),
                strategic_goals.objectives_report(strategic_goals.objectives_by_perspective(framework)),
                _covered(ctx, framework)[1])
    return draw


def roles(ctx: StepContext) -> Draw:
    """Step 2: the scope's roles and how many people hold each."""
    return lambda framework: (job_descriptions.roles_report(
        job_descriptions.roles_table(_roles(ctx, framework), ctx.employees)),)


def responsibilities(ctx: StepContext) -> Draw:
    """Step 2: every responsibility of the scope's roles, with its expected outcome and KPIs."""
    return lambda framework: (job_descriptions.responsibilities_report(
        job_descriptions.responsibilities_table(_roles(ctx, framework))),)


def uncovered(ctx: StepContext) -> Draw:
    """Step 2: the responsibilities no KPI measures yet."""
    return lambda framework: (job_descriptions.responsibilities_report(
        job_descriptions.uncovered_responsibilities(_roles(ctx, framework)), empty="Every responsibility has a KPI."),)


def gaps(ctx: StepContext) -> Draw:
    """Step 2: responsibilities without an expected outcome, and KPIs without a responsibility."""
    def draw(framework: Framework) -> tuple[object, ...]:
        scoped = _roles(ctx, framework)
        return (job_descriptions.responsibilities_report(job_descriptions.missing_outcomes(scoped),
                                                         empty="Every responsibility has an expected outcome."),
                job_descriptions.orphans_report(job_descriptions.kpis_without_responsibility(scoped)))
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


def _role_kpis(ctx: StepContext, framework: Framework) -> pd.DataFrame:
    """Step 3's table of the scope's role KPIs in `framework`."""
    return kpi_design.role_kpi_table(framework, _roles(ctx, framework))


def _opened(ctx: StepContext, framework: Framework, opened: pd.DataFrame,
            find: Callable[[Framework], pd.DataFrame]) -> pd.DataFrame:
    """`find(framework)`, or `opened` (what it found for the files as opened) while nothing was saved."""
    return opened if framework == ctx.framework else find(framework)


def role_kpis(ctx: StepContext) -> Draw:
    """Step 3: each role's KPIs with their category, weight and what they serve."""
    return lambda framework: (kpi_design.role_kpis_report(_role_kpis(ctx, framework)),)


def measures(ctx: StepContext, opened: pd.DataFrame) -> Draw:
    """Step 3: whether each KPI of the scope is computed or entered by hand, and where from (`opened`: the table
    for the files as opened)."""
    def find(framework: Framework) -> pd.DataFrame:
        return kpi_design.measure_table(framework, _roles(ctx, framework), ctx.root)
    return lambda framework: (kpi_design.measures_report(_opened(ctx, framework, opened, find)),)


def balance(ctx: StepContext) -> Draw:
    """Step 3: each role's weight total and the share of its weight in each category."""
    return lambda framework: (kpi_design.balance_report(kpi_design.category_balance(_role_kpis(ctx, framework))),)


def mix(ctx: StepContext) -> Draw:
    """Step 3: each role's leading, lagging, qualitative and development KPIs."""
    return lambda framework: (kpi_design.mix_report(kpi_design.indicator_mix(_role_kpis(ctx, framework))),)


def _balance_chart(ctx: StepContext, framework: Framework) -> object:
    """The chart of each role's weight by category (drawn once for the framework as opened)."""
    return _once(ctx, framework, "balance chart",
                 lambda drawn: kpi_design.balance_chart(_titled(_role_kpis(ctx, drawn), drawn)))


def balance_chart(ctx: StepContext) -> Draw:
    """Step 3: the chart of each role's weight by category, the roles said by their titles."""
    return lambda framework: (_balance_chart(ctx, framework),)


def design_evidence(ctx: StepContext) -> Callable[[Framework], DesignEvidence]:
    """Step 3's evidence for a framework (steps.design_evidence.EvidenceOf), its module and the statistics loaded
    when it is first asked for: a workshop draws it when a button asks for it, so the step opens without them."""
    kept: list[Callable[[Framework], DesignEvidence]] = []

    def evidence(framework: Framework) -> DesignEvidence:
        if not kept:
            from kpi_workbook.steps.design_evidence import EvidenceOf

            kept.append(EvidenceOf(ctx))
        return kept[0](framework)
    return evidence


def lead_pairs(evidence: Callable[[Framework], DesignEvidence]) -> Draw:
    """Step 3: the tested leading → lagging pairs, and the KPIs not shown to lead or to be driven (`evidence`:
    the analysis of a framework, see design_evidence)."""
    def draw(framework: Framework) -> tuple[object, ...]:
        from kpi_workbook.steps.design_evidence import lead_gaps, lead_pairs_report

        found = evidence(framework)
        return lead_pairs_report(found.pairs), lead_gaps(found)
    return draw


def guardrails(evidence: Callable[[Framework], DesignEvidence]) -> Draw:
    """Step 3: each declared guardrail of the scope's KPIs, holding or not."""
    def draw(framework: Framework) -> tuple[object, ...]:
        from kpi_workbook.steps.design_evidence import guardrails_report

        return (guardrails_report(evidence(framework).guardrails),)
    return draw


def findings(ctx: StepContext, opened: pd.DataFrame) -> Draw:
    """Step 3: the checks' findings on the scope's roles (`opened`: those for the files as opened)."""
    def find(framework: Framework) -> pd.DataFrame:
        return kpi_design.design_findings(framework, _roles(ctx, framework))
    return lambda framework: (kpi_design.findings_report(_opened(ctx, framework, opened, find)),)


def suggestions(ctx: StepContext, opened: pd.DataFrame) -> Draw:
    """Step 3: the library's suggestions for each responsibility (`opened`: those for the files as opened)."""
    def find(framework: Framework) -> pd.DataFrame:
        return kpi_design.responsibility_suggestions(framework, _roles(ctx, framework), top=3)
    return lambda framework: (kpi_design.suggestions_report(_opened(ctx, framework, opened, find)),)


def kpi_tables(ctx: StepContext) -> Draw:
    """Step 3: each role's KPIs and the balance of their weights across categories."""
    def draw(framework: Framework) -> tuple[object, ...]:
        table = _titled(_served(kpi_design.role_kpi_table(framework, _roles(ctx, framework)), framework), framework)
        return (Markdown(HEADING.format(what="Each role's KPIs")), kpi_design.role_kpis_report(table),
                _balance_chart(ctx, framework))
    return draw


def levels(ctx: StepContext) -> Draw:
    """Step 4: each role KPI's weight and levels, per role."""
    return lambda framework: (targets.bands_report(kpi_design.role_kpi_table(framework, _roles(ctx, framework))),)


def _evidence(ctx: StepContext, framework: Framework, opened: pd.DataFrame) -> pd.DataFrame:
    """Step 4's suggestions for `framework`: `opened` (those for the files as opened) while nothing was saved."""
    return opened if framework == ctx.framework else targets.evidence(ctx, framework)


def evidence(ctx: StepContext, opened: pd.DataFrame) -> Draw:
    """Step 4: the current levels judged on the evidence, and each method's suggestion."""
    def draw(framework: Framework) -> tuple[object, ...]:
        found = _evidence(ctx, framework, opened)
        return targets.current_report(targets.current(found)), targets.evidence_report(found)
    return draw


def history_charts(ctx: StepContext, opened: pd.DataFrame) -> Draw:
    """Step 4: one chart per role of its KPIs' history against the levels (for a team; none for wider scopes)."""
    def draw(framework: Framework) -> tuple[object, ...]:
        charted = targets.current(_evidence(ctx, framework, opened)) if ctx.team else opened.iloc[:0]
        return tuple(charts.role_history_charts(ctx.role_history, charted))
    return draw


def targets_tables(ctx: StepContext) -> Draw:
    """Step 4: each role KPI's weight and levels."""
    def draw(framework: Framework) -> tuple[object, ...]:
        table = _titled(kpi_design.role_kpi_table(framework, _roles(ctx, framework)), framework)
        return Markdown(HEADING.format(what="Weights and levels")), targets.bands_report(table)
    return draw
