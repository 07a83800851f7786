"""The aggregate and duration kinds: one aggregation of a source's rows each (`aggregate: {source, function,
column, where, date, at, per_entity}`; `duration: {source, start, end, function, unit, where, per_entity}`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["SingleKind"]


from kpi_workbook.analysis.measures.kinds.base import Columns, Valued, parts_misfits, single
from kpi_workbook.analysis.measures.shapes import Misfit
from kpi_workbook.core.measures import Aggregate, Duration, Measure
from kpi_workbook.workspace.sources import Source

if TYPE_CHECKING:
    import ibis.expr.types as ir


class SingleKind:
    """A kind whose measure is the one aggregation in its field (`aggregate` or `duration`)."""

    def __init__(self, name: str):
        self.name = name

    def parts(self, measure: Measure) -> list[tuple[str, Aggregate | Duration]]:
        return [(self.name, getattr(measure, self.name))]

    def misfits(self, measure: Measure, sources: dict[str, Source]) -> list[Misfit]:
        return parts_misfits(self, measure, sources)

    def value(self, table: ir.Table, measure: Measure, columns: Columns) -> Valued:
        return single(table, measure, columns, self.name, getattr(measure, self.name))

    def describe(self, measure: Measure) -> str:
        return getattr(measure, self.name).describe()
