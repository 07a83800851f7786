"""The ratio kind: one aggregation divided by another, each over its own rows (Σ numerator ÷ Σ denominator over
any scope); no data where the denominator is 0."""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["RatioKind"]


from kpi_workbook.analysis.measures.kinds.base import Columns, Valued, metric, parts_misfits, scaled
from kpi_workbook.analysis.measures.shapes import Misfit
from kpi_workbook.core.measures import Aggregate, Duration, Measure, Ratio
from kpi_workbook.workspace.sources import Source

if TYPE_CHECKING:
    import ibis.expr.types as ir

NUMERATOR, DENOMINATOR = "ratio.numerator", "ratio.denominator"


def _ratio(measure: Measure) -> Ratio:
    """The numerator and denominator of a ratio measure."""
    if measure.ratio is None:
        raise ValueError("not a ratio measure")
    return measure.ratio


class RatioKind:
    """`ratio: {numerator: <aggregate>, denominator: <aggregate>}`."""

    name = "ratio"

    def parts(self, measure: Measure) -> list[tuple[str, Aggregate | Duration]]:
        ratio = _ratio(measure)
        return [(NUMERATOR, ratio.numerator), (DENOMINATOR, ratio.denominator)]

    def misfits(self, measure: Measure, sources: dict[str, Source]) -> list[Misfit]:
        return parts_misfits(self, measure, sources)

    def value(self, table: ir.Table, measure: Measure, columns: Columns) -> Valued:
        import ibis  # only when computing: checking a measure needs no engine

        numerator, why_n, rows_n = metric(table, columns[NUMERATOR], _ratio(measure).numerator)
        denominator, why_d, rows_d = metric(table, columns[DENOMINATOR], _ratio(measure).denominator)
        reason = ibis.coalesce(why_d, why_n)
        zero = f"division by zero: {_ratio(measure).denominator.describe()} is 0"
        reason = ibis.ifelse(reason.isnull() & (denominator == 0), ibis.literal(zero), reason)
        value = numerator / ibis.ifelse(denominator == 0, ibis.null("float64"), denominator)
        return scaled(value, reason, rows_n + rows_d, measure)

    def describe(self, measure: Measure) -> str:
        return f"({_ratio(measure).numerator.describe()}) / ({_ratio(measure).denominator.describe()})"
