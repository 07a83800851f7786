"""The measure kinds: what each needs, what does not fit, its value and its words (aggregate and duration share a
module: each is one aggregation).

Adding a kind: its typed model in `core.measures` (and its name in `MEASURE_KINDS`), and one module here registered
in `KINDS`; `tests/test_measure_kinds.py` checks every kind is registered with all it must provide.
"""

from __future__ import annotations

__all__ = ["KINDS", "MeasureKind", "describe_measure", "kind_of"]

from kpi_workbook.analysis.measures.kinds.base import MeasureKind
from kpi_workbook.analysis.measures.kinds.derived import DerivedKind
from kpi_workbook.analysis.measures.kinds.ratio import RatioKind
from kpi_workbook.analysis.measures.kinds.single import SingleKind
from kpi_workbook.core.measures import Measure

KINDS: dict[str, MeasureKind] = {kind.name: kind for kind in (SingleKind("aggregate"), RatioKind(),
                                                             SingleKind("duration"), DerivedKind())}


def kind_of(measure: Measure) -> MeasureKind:
    """The kind module of a measure."""
    return KINDS[measure.kind]


def describe_measure(measure: Measure) -> str:
    """The measure in words, for step 3's tables and reports: its kind's words, scale, window or offset, and grain."""
    scale = f" × {measure.scale:g}" if measure.scale != 1 else ""
    window = f" over the trailing {measure.window} periods" if measure.window else ""
    window += " over the year to date" if measure.year_to_date else ""
    offsets: dict[int | str | None, str] = {None: "", "year": ", a year before"}
    offset = offsets.get(measure.offset, f", {measure.offset} period(s) before")
    return f"{kind_of(measure).describe(measure)}{scale}{window}{offset}, per {measure.per.value}"

