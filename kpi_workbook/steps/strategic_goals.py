"""Step 1, strategic objectives: objectives by perspective, and which role KPIs serve each (with the cascade)."""

from __future__ import annotations

__all__ = [
    "COVERAGE_PALETTE", "PERSPECTIVE_COLORS", "coverage_chart", "coverage_report", "objective_coverage",
    "objective_links", "objectives_by_perspective", "objectives_report", "perspective_report", "perspective_summary",
    "strategy_map", "unlinked_kpis", "unlinked_report",
]

from collections.abc import Sequence

import pandas as pd
from IPython.display import Markdown
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from kpi_workbook.analysis.scoring import score_actuals
from kpi_workbook.analysis.strategy_map import strategy_map as strategy_map_data
from kpi_workbook.core.model import Framework, Role
from kpi_workbook.reports.alt_text import stacked_alt
from kpi_workbook.reports.figures import ChartFigure
from kpi_workbook.reports.strategy_map import PERSPECTIVE_LABELS, StrategyMapSVG, strategy_map_view
from kpi_workbook.reports.tables import Col, ReportTable
from kpi_workbook.steps.context import StepContext

PERSPECTIVE_COLORS = {
    "Financial": "#1f77b4",
    "Customer": "#2ca02c",
    "Internal process": "#ff7f0e",
    "Learning & growth": "#9467bd",
}
_PERSPECTIVE_ORDER = pd.CategoricalDtype(list(PERSPECTIVE_LABELS.values()), ordered=True)


def _scope_roles(ctx: StepContext, framework: Framework) -> list[Role] | None:
    """The roles of the scope's teams in `framework` (None for the whole organization: every objective shows)."""
    if ctx.is_organization:
        return None
    return [r for r in framework.roles if set(r.teams) & set(ctx.team_ids)]


def strategy_map(ctx: StepContext, framework: Framework | None = None) -> StrategyMapSVG | Markdown:
    """The strategy map of the scope (analysis.strategy_map), statuses of the scope's period from its people's scores;
    `framework` is one being edited (default: the workspace's)."""
    framework = framework or ctx.framework
    scores = (score_actuals(ctx.actuals_to_date, ctx.employees, framework, periods=[ctx.period]) if ctx.period
              else None)
    data = strategy_map_data(framework, scores, ctx.period, _scope_roles(ctx, framework))
    return strategy_map_view(data, ctx.name)


def _ancestors(framework: Framework) -> pd.DataFrame:
    """Pairs (objective, ancestor) including each objective itself; a cycle in parents stops the walk."""
    parent = {o.id: o.parent for o in framework.objectives}
    rows = []
    for objective in parent:
        seen: list[str | None] = []
        current: str | None = objective
        while current in parent and current not in seen:
            seen.append(current)
            current = parent[current]
        rows += [(objective, ancestor, depth) for depth, ancestor in enumerate(seen)]
    return pd.DataFrame(rows, columns=["objective", "ancestor", "distance"])


def objectives_by_perspective(framework: Framework) -> pd.DataFrame:
    """One row per objective, grouped by perspective; `level` is 0 for a top objective, 1 for its children..."""
    ancestors = _ancestors(framework)
    levels = ancestors.groupby("objective")["distance"].max()
    frame = pd.DataFrame(
        [(PERSPECTIVE_LABELS[o.perspective], o.id, o.title, o.parent or "", o.owner, o.horizon, o.description)
         for o in framework.objectives],
        columns=["perspective", "objective", "title", "parent", "owner", "horizon", "description"],
    )
    frame["level"] = frame["objective"].map(levels).fillna(0).astype(int)
    frame["perspective"] = frame["perspective"].astype(_PERSPECTIVE_ORDER)
    return frame.sort_values(["perspective", "level"], kind="stable").reset_index(drop=True)


def objective_links(framework: Framework, roles: Sequence[Role] | None = None) -> pd.DataFrame:
    """One row per (role KPI, objective it serves): which KPI of which role serves which objective."""
    roles = framework.roles if roles is None else roles
    rows = [
        (objective, role.id, assignment.kpi, getattr(framework.kpi(assignment.kpi), "name", ""), assignment.weight)
        for role in roles
        for assignment in role.kpis
        for objective in assignment.objectives
    ]
    return pd.DataFrame(rows, columns=["objective", "role", "kpi", "kpi_name", "weight"])


def objective_coverage(framework: Framework, roles: Sequence[Role] | None = None) -> pd.DataFrame:
    """For each objective, the role KPIs serving it directly and through its child objectives (the cascade).

    `coverage` is "direct" when a KPI serves the objective itself, "cascade" when only KPIs of child
    objectives serve it, and "none" otherwise. Only the given roles count (every role by default).
    """
    objectives = objectives_by_perspective(framework)
    links = objective_links(framework, roles)
    ancestors = _ancestors(framework)
    links["assignment"] = links["role"] + "/" + links["kpi"]
    cascaded = links.merge(ancestors, on="objective").groupby("ancestor")
    direct = links.groupby("objective")
    frame = objectives[["perspective", "objective", "title", "parent", "level"]].copy()
    frame["direct_kpis"] = frame["objective"].map(direct["assignment"].nunique()).fillna(0).astype(int)
    frame["cascaded_kpis"] = frame["objective"].map(cascaded["assignment"].nunique()).fillna(0).astype(int)
    roles_of = cascaded["role"].agg(lambda r: ", ".join(sorted(set(r))))
    frame["roles"] = [roles_of.get(o, "") for o in frame["objective"]]
    frame["coverage"] = "none"
    frame.loc[frame["cascaded_kpis"] > 0, "coverage"] = "cascade"
    frame.loc[frame["direct_kpis"] > 0, "coverage"] = "direct"
    return frame


def perspective_summary(coverage: pd.DataFrame) -> pd.DataFrame:
    """Per perspective: how many objectives, how many are served by at least one KPI, and how many KPIs."""
    grouped = coverage.groupby("perspective", observed=False)
    return pd.DataFrame({
        "objectives": grouped.size(),
        "covered": grouped["coverage"].agg(lambda c: int((c != "none").sum())),
        "kpis_direct": grouped["direct_kpis"].sum(),
    }).reset_index()


def unlinked_kpis(framework: Framework, roles: Sequence[Role] | None = None) -> pd.DataFrame:
    """Role KPIs that serve no objective (or only objective ids the framework does not define)."""
    roles = framework.roles if roles is None else roles
    known = {o.id for o in framework.objectives}
    rows = [
        (role.id, a.kpi, getattr(framework.kpi(a.kpi), "name", ""), ", ".join(a.objectives))
        for role in roles
        for a in role.kpis
        if not known.intersection(a.objectives)
    ]
    return pd.DataFrame(rows, columns=["role", "kpi", "kpi_name", "objectives"])


def coverage_chart(coverage: pd.DataFrame) -> Figure:
    """Horizontal bars per objective: role KPIs serving it directly (solid) and through its children (light)."""
    frame = coverage.iloc[::-1]
    fig = ChartFigure(figsize=(9, 0.35 * len(frame) + 1.4), layout="constrained")
    ax = fig.subplots()
    colors = frame["perspective"].astype(str).map(PERSPECTIVE_COLORS).fillna("grey").tolist()
    labels = [("↳ " if level else "") + ident for level, ident in zip(frame["level"], frame["objective"], strict=True)]
    ax.barh(labels, frame["cascaded_kpis"], color=colors, alpha=0.35)
    ax.barh(labels, frame["direct_kpis"], color=colors)
    ax.set_xlabel("role KPIs serving the objective (solid: directly, light: through child objectives)")
    ax.set_title("Objective → KPI coverage")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # counts: whole ticks
    handles = [Patch(color=color, label=label) for label, color in PERSPECTIVE_COLORS.items()]
    fig.legend(handles=handles, loc="outside right upper", frameon=False)
    counts = coverage.set_index("objective")[["direct_kpis", "cascaded_kpis"]]
    fig.alt = stacked_alt("of the role KPIs serving each objective", counts.set_axis(
        ["directly", "in all, with child objectives"], axis=1), unit=" KPIs")
    return fig


# --- the step's tables as a report shows them ---------------------------------------------------------------------

COVERAGE_PALETTE = {"direct": "green", "cascade": "amber", "none": "red"}


def objectives_report(objectives: pd.DataFrame) -> ReportTable:
    """The objectives by perspective, with their full titles and descriptions."""
    return ReportTable(objectives, {
        "perspective": Col("Perspective"), "objective": Col("Id"), "title": Col("Objective"),
        "parent": Col("Part of"), "owner": Col("Owner"), "horizon": Col("Horizon"), "description": Col("Description"),
    }, noun=("objective", "objectives"), empty="The framework has no objectives yet.")


def perspective_report(summary: pd.DataFrame) -> ReportTable:
    """Objectives per perspective and how many of them a KPI serves."""
    return ReportTable(summary.assign(perspective=summary["perspective"].astype(str)), {
        "perspective": Col("Perspective"), "objectives": Col("Objectives", "count"),
        "covered": Col("Served by a KPI", "count"), "kpis_direct": Col("KPIs serving directly", "count"),
    }, noun=("perspective", "perspectives"))


def coverage_report(coverage: pd.DataFrame) -> ReportTable:
    """Per objective: KPIs serving it directly and through its children, the roles, and the coverage as a colour."""
    return ReportTable(coverage, {
        "perspective": Col("Perspective"), "title": Col("Objective"), "objective": Col("Id"),
        "direct_kpis": Col("KPIs directly", "count"), "cascaded_kpis": Col("KPIs incl. child objectives", "count"),
        "roles": Col("Roles"), "coverage": Col("Coverage", "status", palette=COVERAGE_PALETTE),
    }, noun=("objective", "objectives"), empty="The framework has no objectives yet.")


def unlinked_report(unlinked: pd.DataFrame) -> ReportTable:
    """Role KPIs that serve no objective."""
    return ReportTable(unlinked.assign(objectives=unlinked["objectives"].replace("", "(none)")), {
        "role": Col("Role"), "kpi_name": Col("KPI"), "kpi": Col("KPI id"), "objectives": Col("Objectives named"),
    }, noun=("role KPI", "role KPIs"), empty="Every role KPI serves an objective.")
