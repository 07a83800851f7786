"""Comparing computed values with the store, and writing them with their lineage in one transaction."""

from __future__ import annotations

__all__ = ["CHANGE_COLUMNS", "changes", "write"]

import numpy as np
import pandas as pd

from kpi_workbook.analysis.measures.collect import SLICE, Computation
from kpi_workbook.analysis.measures.evaluate import KEYS
from kpi_workbook.workspace.store import ActualsStore, DuckDBStore, ReplaceResult

CHANGE_COLUMNS = ["kpi_id", "new", "changed", "removed", "unchanged", "zero_no_rows", "no_data"]


def changes(computation: Computation, store: ActualsStore) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per KPI: new, changed, removed and unchanged values, zeros of groups without rows, and groups with no data;
    every value that would change).

    The detail has period, team, employee_id, kpi_id, old, new and change ('new', 'changed' or 'removed').
    """
    kpi_ids = list(dict.fromkeys(computation.slices["kpi_id"]))
    stored = store.read_actuals(kpis=kpi_ids) if kpi_ids else pd.DataFrame(columns=[*KEYS, "kpi_id", "value"])
    stored = stored.merge(computation.slices, on=SLICE)
    merged = stored.rename(columns={"value": "old"}).merge(
        computation.values[[*KEYS, "kpi_id", "value"]].rename(columns={"value": "new"}),
        on=[*KEYS, "kpi_id"], how="outer")
    same = np.isclose(merged["old"], merged["new"], rtol=1e-12, atol=0) & merged["old"].notna()
    merged["change"] = np.select([merged["old"].isna(), merged["new"].isna(), ~same],
                                 ["new", "removed", "changed"], "unchanged")
    counts = merged.groupby(["kpi_id", "change"]).size().unstack(fill_value=0)
    counts = counts.reindex(columns=["new", "changed", "removed", "unchanged"], fill_value=0)
    counts = counts.reindex(kpi_ids, fill_value=0)
    values = computation.values
    zeros = values[(values["value"] == 0) & (values["source_rows"] == 0)]
    counts["zero_no_rows"] = zeros.groupby("kpi_id").size().reindex(counts.index, fill_value=0)
    counts["no_data"] = computation.no_data.groupby("kpi_id").size().reindex(counts.index, fill_value=0)
    summary = counts.rename_axis("kpi_id").reset_index()
    detail = merged[merged["change"] != "unchanged"].reset_index(drop=True)
    return summary[CHANGE_COLUMNS], detail


def write(computation: Computation, store: DuckDBStore) -> ReplaceResult:
    """Store the computed values with their lineage in one transaction, replacing exactly the computed slices."""
    values = computation.values
    lineage = values[[*KEYS, "kpi_id", "source", "source_rows"]].assign(
        computed_at=pd.Timestamp(computation.computed_at), definition_hash=values["definition_hash"])
    return store.replace_periods(values[[*KEYS, "kpi_id", "value"]], slices=computation.slices, lineage=lineage,
                                 scopes=computation.scopes)
