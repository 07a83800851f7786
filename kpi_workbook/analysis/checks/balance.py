"""Balance rules per role: how many KPIs, weights that add up, development and leading/lagging mix."""

from __future__ import annotations

__all__ = ["WEIGHT_TOLERANCE", "development", "kpi_count", "leading_lagging", "weights"]

import math
from collections.abc import Iterator

from kpi_workbook.analysis.checks.common import resolved, role_file
from kpi_workbook.analysis.checks.findings import Finding, Severity
from kpi_workbook.analysis.checks.registry import Found, rule
from kpi_workbook.core.model import Category, Framework, Indicator

ERROR, WARNING = Severity.ERROR, Severity.WARNING
WEIGHT_TOLERANCE = 0.01


@rule("balance.kpi_count")
def kpi_count(framework: Framework, found: Found) -> Iterator[Finding]:
    """Warning: a role has fewer or more KPIs than metadata.settings allows (min_kpis_per_role..max_kpis_per_role)."""
    settings = framework.metadata.settings
    for role in framework.roles:
        n = len(role.kpis)
        if not settings.min_kpis_per_role <= n <= settings.max_kpis_per_role:
            action = "add KPIs" if n < settings.min_kpis_per_role else "drop or merge the least important KPIs"
            yield found(WARNING, f"the role has {n} KPI(s); the framework asks for {settings.min_kpis_per_role}"
                        f" to {settings.max_kpis_per_role}", f"{action} (or change min_kpis_per_role/"
                        "max_kpis_per_role in framework.yaml settings)", file=role_file(role.id), role=role.id,
                        field="kpis")


@rule("balance.weights")
def weights(framework: Framework, found: Found) -> Iterator[Finding]:
    """Error: the weights of a role's KPIs do not sum to settings.weight_total (default 100, tolerance 0.01)."""
    total = framework.metadata.settings.weight_total
    for role in framework.roles:
        if not role.kpis:
            continue
        weight_sum = math.fsum(a.weight for a in role.kpis)
        if abs(weight_sum - total) > WEIGHT_TOLERANCE:
            yield found(ERROR, f"the KPI weights sum to {weight_sum:g}, not {total:g}",
                        f"{'raise' if weight_sum < total else 'lower'} the weights by {abs(total - weight_sum):g} "
                        "in total", file=role_file(role.id), role=role.id, field="weight")


@rule("balance.development")
def development(framework: Framework, found: Found) -> Iterator[Finding]:
    """Warning: a role has no learning/development KPI (category development)."""
    for role in framework.roles:
        categories = {r.definition.category for r in resolved(framework, role)}
        if categories and Category.DEVELOPMENT not in categories:
            yield found(WARNING, "the role has no learning/development KPI",
                        "add a development KPI (e.g. training hours or certifications completed)",
                        file=role_file(role.id), role=role.id, field="kpis")


@rule("balance.leading_lagging")
def leading_lagging(framework: Framework, found: Found) -> Iterator[Finding]:
    """Warning: a role's KPIs are all leading or all lagging indicators."""
    for role in framework.roles:
        indicators = {r.definition.indicator for r in resolved(framework, role)}
        if len(indicators) == 1:
            only = indicators.pop()
            other = Indicator.LAGGING if only is Indicator.LEADING else Indicator.LEADING
            yield found(WARNING, f"all of the role's KPIs are {only} indicators",
                        f"add a {other} indicator so the role is measured on "
                        f"{'outcomes' if other is Indicator.LAGGING else 'what drives its outcomes'} too",
                        file=role_file(role.id), role=role.id, field="kpis")
