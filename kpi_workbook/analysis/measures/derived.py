"""Derived measures: arithmetic over other KPIs' values of the same period, team and employee."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kpi_workbook.analysis.measures.evaluate import KEYS, NO_DATA_COLUMNS, VALUE_COLUMNS, Evaluation
from kpi_workbook.core.measures import Column, Literal, Per, Term, derived_kpis, parse_derived
from kpi_workbook.core.model import KpiDefinition


def _value(term: Term, table: pd.DataFrame, reasons: pd.Series) -> pd.Series:
    """The term's values over the aligned operand table; division by zero writes a reason and gives NaN."""
    if isinstance(term, Literal):
        return pd.Series(float(term.value), index=table.index)
    if isinstance(term, Column):
        return table[term.name]
    parts = [_value(item, table, reasons) for item in term.items]
    if term.op == "-" and len(parts) == 1:
        return -parts[0]
    left, right = parts
    if term.op == "/":
        zero = (right == 0) & (reasons == "")
        reasons[zero] = "division by zero: the divisor is 0"
        with np.errstate(divide="ignore", invalid="ignore"):
            return left / right.where(right != 0)
    return {"+": left + right, "-": left - right, "*": left * right}[term.op]


def evaluate_derived(kpi: KpiDefinition, operands: pd.DataFrame) -> Evaluation:
    """Evaluate a derived measure; `operands` holds the values (period, team, employee_id, kpi_id, value) of the
    KPIs it uses. A group missing one of them, or dividing by zero, is no data with the reason."""
    measure = kpi.measure
    term = parse_derived(measure.derived)
    names = derived_kpis(term)
    level = operands["employee_id"] != "" if measure.per is Per.EMPLOYEE else operands["employee_id"] == ""
    used = operands[level & operands["kpi_id"].isin(names)]
    table = used.pivot_table(index=KEYS, columns="kpi_id", values="value", aggfunc="first").reset_index()
    for name in names:
        if name not in table:
            table[name] = np.nan
    reasons = pd.Series("", index=table.index, dtype="object")
    for name in reversed(names):
        reasons[table[name].isna()] = f"no value of KPI {name}"
    value = _value(term, table, reasons) * measure.scale
    reasons[~np.isfinite(value) & (reasons == "")] = "not a finite number"
    ok = reasons == ""
    values = table.loc[ok, KEYS].assign(kpi_id=kpi.id, value=value[ok].astype("float64"),
                                        source="derived: " + ", ".join(names), source_rows=len(names))
    no_data = table.loc[~ok, KEYS].assign(kpi_id=kpi.id, reason=reasons[~ok])
    return Evaluation(values[VALUE_COLUMNS].reset_index(drop=True), no_data[NO_DATA_COLUMNS].reset_index(drop=True))
