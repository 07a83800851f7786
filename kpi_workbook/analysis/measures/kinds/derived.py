"""The derived kind: arithmetic over other KPIs' values of the same period and team or employee (evaluated on the
operands' values by `measures.derived`, not on a source's groups)."""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["DerivedKind"]


from kpi_workbook.analysis.measures.kinds.base import Columns, Valued
from kpi_workbook.analysis.measures.shapes import Misfit
from kpi_workbook.core.measures import Aggregate, Duration, Measure
from kpi_workbook.workspace.sources import Source

if TYPE_CHECKING:
    import ibis.expr.types as ir


class DerivedKind:
    """`derived: new_business_revenue / headcount`; its expression and KPI ids are checked by validate's
    `measures.parse` rule, which needs the framework rather than the sources."""

    name = "derived"

    def parts(self, measure: Measure) -> list[tuple[str, Aggregate | Duration]]:
        return []

    def misfits(self, measure: Measure, sources: dict[str, Source]) -> list[Misfit]:
        return []

    def value(self, table: ir.Table, measure: Measure, columns: Columns) -> Valued:
        raise TypeError("a derived measure is valued from its operands (measures.derived), not from a source's groups")

    def describe(self, measure: Measure) -> str:
        return f"derived: {measure.derived}"
