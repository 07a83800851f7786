"""Where a KPI's values come from, for its passport: the declared data source, the sources its measure reads, and
what the store holds of it (values, periods, computed or imported, source rows, when and by which definition)."""

from __future__ import annotations

__all__ = ["HASH_SHOWN", "Lineage", "NOT_COMPUTED", "NO_DATA_SOURCE", "kpi_lineage"]

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from kpi_workbook.core.model import KpiDefinition
from kpi_workbook.core.periods import sort_periods

if TYPE_CHECKING:
    from kpi_workbook.workspace.sources import Source

NO_DATA_SOURCE = "no data source named (kpis.yaml: data_source)"
NOT_COMPUTED = "not computed: no measure"
HASH_SHOWN = 8


@dataclass(frozen=True)
class Lineage:
    """A KPI's source and lineage in words, and the counts behind them."""

    data_source: str
    computed_from: tuple[str, ...]
    values: int
    periods: str
    computed: int
    imported: int
    source_rows: int
    computed_at: str
    definition: str


def _computed_from(kpi: KpiDefinition, sources: Mapping[str, Source]) -> tuple[str, ...]:
    """Each source the measure reads, with its file or table; a derived measure's expression."""
    measure = kpi.measure
    if measure is None:
        return ()
    if measure.derived:
        return (f"other KPIs of the same period and team or person: {measure.derived}",)
    return tuple(f"{name} ({sources[name].location})" if name in sources else f"{name} (not declared in sources.yaml)"
                 for name in measure.sources)


def _definition(kpi: KpiDefinition, stored: pd.Series, current: Mapping[str, str]) -> str:
    """Whether the stored values were computed by today's definition of the measure."""
    hashes = list(dict.fromkeys(stored.dropna().astype(str)))
    if not hashes:
        return NOT_COMPUTED if kpi.measure is None else "no computed values stored (run kpi-workbook compute)"
    shown = ", ".join(h[:HASH_SHOWN] for h in hashes)
    if kpi.id not in current:
        return f"definition {shown}; the KPI has no measure now"
    if hashes == [current[kpi.id]]:
        return f"definition {shown}: today's measure and sources"
    return f"definition {shown}: the measure or its sources changed since; run kpi-workbook compute again"


def kpi_lineage(kpi: KpiDefinition, sources: Mapping[str, Source], actuals: pd.DataFrame, lineage: pd.DataFrame,
                current: Mapping[str, str]) -> Lineage:
    """The KPI's lineage from the store's values (ACTUALS_COLUMNS) and lineage (LINEAGE_COLUMNS) and today's
    definition hashes (`current`, KPI id → hash)."""
    values = actuals[actuals["kpi_id"].astype(str) == kpi.id]
    computed = lineage[lineage["kpi_id"].astype(str) == kpi.id]
    periods = sort_periods(values["period"].astype(str).unique())
    span = "none stored" if not periods else periods[0] if len(periods) == 1 else f"{periods[0]} to {periods[-1]}"
    latest = pd.to_datetime(computed["computed_at"]).max() if len(computed) else None
    return Lineage(
        data_source=kpi.data_source or NO_DATA_SOURCE, computed_from=_computed_from(kpi, sources),
        values=len(values), periods=span, computed=len(computed), imported=len(values) - len(computed),
        source_rows=int(pd.to_numeric(computed["source_rows"]).sum()) if len(computed) else 0,
        computed_at=f"{latest:%Y-%m-%d %H:%M}" if latest is not None else "",
        definition=_definition(kpi, computed["definition_hash"], current),
    )
