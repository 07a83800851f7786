"""Comparing computed values with the store, and writing them with their lineage in one transaction."""

from __future__ import annotations

__all__ = ["CHANGE_COLUMNS", "DETAIL_COLUMNS", "changes", "write"]

import duckdb
import pandas as pd

from kpi_workbook.analysis.measures.collect import SLICE, Computation
from kpi_workbook.analysis.measures.evaluate import KEYS
from kpi_workbook.workspace.arrow_results import arrow_table
from kpi_workbook.workspace.store import ActualsStore, DuckDBStore, ReplaceResult

CHANGE_COLUMNS = ["kpi_id", "new", "changed", "removed", "unchanged", "zero_no_rows", "no_data"]


def changes(computation: Computation, store: ActualsStore, detail: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(per KPI: new, changed, removed and unchanged values, zeros of groups without rows, and groups with no data;
    every value that would change).

    The detail has period, team, employee_id, kpi_id, old, new and change ('new', 'changed' or 'removed'), in that
    order of its keys; without `detail` it is left empty (a first computation's detail is every value). The stored
    values of the computed slices are compared with the computed ones in DuckDB, so that millions of values are
    never Python objects.
    """
    kpi_ids = list(dict.fromkeys(computation.slices["kpi_id"]))
    with duckdb.connect() as con:
        con.register("stored", store.actuals_table(kpi_ids))
        con.register("slices", computation.slices[SLICE])
        con.register("computed", computation.values[[*KEYS, "kpi_id", "value"]])
        con.execute(f"CREATE TABLE merged AS {_MERGED}")
        counts = con.execute("SELECT kpi_id, change, count(*) AS n FROM merged GROUP BY ALL").df()
        changed = arrow_table(con.sql(  # through Arrow: text columns stay Arrow strings, not Python objects
            f"SELECT {', '.join(DETAIL_COLUMNS)} FROM merged WHERE change <> 'unchanged' "
            f"{'' if detail else 'AND false '}ORDER BY period, team, employee_id, kpi_id")).to_pandas()
    counts = counts.pivot(index="kpi_id", columns="change", values="n")
    counts = counts.reindex(index=kpi_ids, columns=["new", "changed", "removed", "unchanged"]).fillna(0)
    counts = counts.astype("int64")
    values = computation.values
    zeros = values[(values["value"] == 0) & (values["source_rows"] == 0)]
    counts["zero_no_rows"] = zeros.groupby("kpi_id", observed=True).size().reindex(counts.index, fill_value=0)
    counts["no_data"] = computation.no_data.groupby("kpi_id", observed=True).size().reindex(counts.index,
                                                                                             fill_value=0)
    summary = counts.rename_axis("kpi_id").reset_index()
    return summary[CHANGE_COLUMNS], changed


DETAIL_COLUMNS = [*KEYS, "kpi_id", "old", "new", "change"]
# stored values of the computed slices against the computed values (keys as text: computed ones are categoricals);
# equal within a relative 1e-12 is unchanged
_MERGED = """
    SELECT period, team, employee_id, kpi_id, s.value AS old, c.value AS new,
           CASE WHEN s.value IS NULL THEN 'new' WHEN c.value IS NULL THEN 'removed'
                WHEN s.value = c.value OR abs(s.value - c.value) <= 1e-12 * abs(c.value) THEN 'unchanged'
                ELSE 'changed' END AS change
    FROM (SELECT s.period, s.team, s.employee_id, s.kpi_id, s.value FROM stored s
          JOIN (SELECT DISTINCT CAST(period AS VARCHAR) AS period, CAST(team AS VARCHAR) AS team,
                                CAST(kpi_id AS VARCHAR) AS kpi_id FROM slices) USING (period, team, kpi_id)) s
    FULL OUTER JOIN (SELECT CAST(period AS VARCHAR) AS period, CAST(team AS VARCHAR) AS team,
                            CAST(employee_id AS VARCHAR) AS employee_id, CAST(kpi_id AS VARCHAR) AS kpi_id, value
                     FROM computed) c
    USING (period, team, employee_id, kpi_id)"""


def write(computation: Computation, store: DuckDBStore) -> ReplaceResult:
    """Store the computed values with their lineage in one transaction, replacing exactly the computed slices
    (a computation has one value per group and KPI, so the store does not look for two)."""
    values = computation.values
    lineage = values[[*KEYS, "kpi_id", "source", "source_rows"]].assign(
        computed_at=pd.Timestamp(computation.computed_at), definition_hash=values["definition_hash"])
    return store.replace_periods(values[[*KEYS, "kpi_id", "value"]], slices=computation.slices, lineage=lineage,
                                 scopes=computation.scopes, unique=True)
