"""Computing every measured KPI of a workspace from its sources, in the engine.

Each source is aggregated once per grain (frequency × employee or team) with all its KPIs' aggregates as columns,
where its records are; ratios, scale, "no data" reasons, period labels, derived KPIs and the framework's
assignments are then SQL over those groups in a local DuckDB connection, and only the final long tables come back,
as Arrow.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from kpi_workbook.analysis.measures.assign import Assignments
from kpi_workbook.analysis.measures.derived import derived_table
from kpi_workbook.analysis.measures.evaluate import (
    KEYS,
    NO_DATA_COLUMNS,
    START,
    VALUE_COLUMNS,
    Grain,
    SourceQuery,
    check_kpi,
    joined,
    measured,
    specs,
    temp_name,
)
from kpi_workbook.analysis.measures.plan import evaluation_order, frequency_of, operands
from kpi_workbook.core.errors import InputError, Problem
from kpi_workbook.core.measures import Per
from kpi_workbook.core.model import Framework, KpiDefinition
from kpi_workbook.core.periods import parse_period
from kpi_workbook.workspace.sources import ReadSource, Source, load_sources, read_source
from kpi_workbook.workspace.store import ActualsStore

SLICE = ["period", "team", "kpi_id"]
ORDER, LEFT_OUT, TEAM_HAS = "__order", "__left_out", "__team_has"
ROW_SCHEMA = ibis.schema({ORDER: "int64", START: "date", "period": "string", "team": "string",
                          "employee_id": "string", "kpi_id": "string", "value": "float64", "reason": "string",
                          "source": "string", "source_rows": "int64", "definition_hash": "string",
                          LEFT_OUT: "string", TEAM_HAS: "boolean"})
OPERAND_SCHEMA = ibis.schema({"period": "string", "team": "string", "employee_id": "string", "kpi_id": "string",
                              "value": "float64"})


@dataclass(frozen=True)
class Computation:
    """What compute found: values (with lineage), no-data groups with reasons, the slices it covers, and values
    left out because the framework does not assign the KPI there (kpi_id, reason, values)."""

    values: pd.DataFrame
    no_data: pd.DataFrame
    slices: pd.DataFrame
    skipped: pd.DataFrame
    computed_at: dt.datetime


def _in_span(frame: pd.DataFrame, span: tuple[dt.date, dt.date] | None) -> pd.DataFrame:
    if span is None or frame.empty:
        return frame
    inside = {p: span[0] <= parse_period(p).start and parse_period(p).end <= span[1]
              for p in frame["period"].unique()}
    return frame[frame["period"].map(inside).astype(bool).to_numpy()]


class _Run:
    """One computation: the sources read, their grouped queries, and each KPI's rows as a table of `con`."""

    def __init__(self, root: Path, framework: Framework, employees: pd.DataFrame, sources: dict[str, Source],
                 span: tuple[dt.date, dt.date] | None, store: ActualsStore | None, con: Any):
        self.root, self.framework, self.employees, self.sources = root, framework, employees, sources
        self.span, self.store, self.con = span, store, con
        self.assignments = Assignments(framework, employees)
        self.read: dict[str, ReadSource] = {}
        self.queries: dict[tuple[str, Grain], SourceQuery] = {}
        self.columns: dict[str, dict[str, str]] = {}
        self.grouped: dict[tuple[str, Grain], ir.Table] = {}
        self.rows: dict[str, ir.Table] = {}

    def _source(self, kpi: KpiDefinition, name: str) -> ReadSource:
        if name not in self.read:
            if name not in self.sources:
                raise InputError(Problem(file="kpis.yaml", entry=f"KPI '{kpi.id}'", field="measure",
                                         message=f"unknown source '{name}' (sources.yaml has: "
                                                 f"{', '.join(self.sources) or 'none'})"))
            self.read[name] = read_source(self.sources[name], self.root, self.framework, self.employees, self.con)
        return self.read[name]

    def plan(self, kpi: KpiDefinition) -> None:
        """Read the KPI's sources and add its aggregations to their grouped queries (errors name the KPI)."""
        grain = Grain(frequency_of(kpi, self.framework), kpi.measure.per)
        for name in kpi.measure.sources:
            check_kpi(kpi, self._source(kpi, name), grain.frequency)
        columns = {}
        for spec_name, spec in specs(kpi.measure):
            key = (spec.source, grain)
            if key not in self.queries:
                self.queries[key] = SourceQuery(self.read[spec.source], grain, self.span)
            field = spec_name if spec_name in ("aggregate", "duration") else f"ratio.{spec_name}"
            columns[spec_name] = self.queries[key].add(spec, kpi.id, field)
        self.columns[kpi.id] = columns

    def run_queries(self) -> None:
        """Run each source's grouped query once, into a temporary table."""
        for key, query in self.queries.items():
            self.grouped[key] = query.materialize(self.con, self.assignments.staff)

    def _hash(self, kpi: KpiDefinition) -> str:
        extra = {"frequency": frequency_of(kpi, self.framework).value,
                 "sources": [self.sources[s].model_dump(mode="json") for s in kpi.measure.sources
                             if s in self.sources]}
        return kpi.measure.digest(extra)

    def _select(self, index: int, kpi: KpiDefinition, table: ir.Table, value: Any, reason: Any, rows: Any,
                source: str, start: Any) -> ir.Table:
        literal = ibis.literal
        return table.select(**{
            ORDER: literal(index, "int64"), START: start, "period": table.period, "team": table.team,
            "employee_id": table.employee_id, "kpi_id": literal(kpi.id, "string"), "value": value.cast("float64"),
            "reason": reason.cast("string"), "source": literal(source, "string"), "source_rows": rows.cast("int64"),
            "definition_hash": literal(self._hash(kpi), "string"),
            LEFT_OUT: self.assignments.left_out(table, kpi.id, kpi.measure.per).cast("string"),
            TEAM_HAS: self.assignments.team_has(table.team, kpi.id)})

    def add_measured(self, index: int, kpi: KpiDefinition) -> None:
        """The KPI's rows: value, reason and rows used for each group of its sources."""
        grain = Grain(frequency_of(kpi, self.framework), kpi.measure.per)
        key = (tuple(kpi.measure.sources), grain)
        if key not in self.grouped:
            self.grouped[key] = joined([self.grouped[(s, grain)] for s in kpi.measure.sources], self.con)
        table = self.grouped[key]
        value, reason, rows = measured(table, kpi.measure, self.columns[kpi.id])
        self.rows[kpi.id] = self._select(index, kpi, table, value, reason, rows, ", ".join(kpi.measure.sources),
                                         table[START])

    def _operands(self, names: list[str]) -> ir.Table:
        parts = [self.rows[n].filter(self.rows[n].reason.isnull()).select(*OPERAND_SCHEMA.names)
                 for n in names if n in self.rows]
        entered = [n for n in names if n not in self.rows]
        if entered and self.store is not None:
            frame = _in_span(self.store.read_actuals(kpis=entered), self.span)
            frame = frame[list(OPERAND_SCHEMA.names)].astype({"value": "float64"})
            parts.append(ibis.memtable(frame, schema=OPERAND_SCHEMA))
        if not parts:
            return ibis.memtable(pd.DataFrame(columns=list(OPERAND_SCHEMA.names)), schema=OPERAND_SCHEMA)
        return ibis.union(*parts, distinct=False)

    def add_derived(self, index: int, kpi: KpiDefinition) -> None:
        """The KPI's rows from its operands' values of this run and the store's (for KPIs entered by hand)."""
        names = operands(kpi)
        table, value, reason = derived_table(kpi, self._operands(names))
        table = table.mutate(value=value, reason=reason)
        staff = self.assignments.staff
        if kpi.measure.per is Per.EMPLOYEE:
            table = table.left_join(staff, table.employee_id == staff["__staff"]).drop("__staff")
        rows = self._select(index, kpi, table, table.value, table.reason, ibis.literal(len(names), "int64"),
                            "derived: " + ", ".join(names), ibis.null("date"))
        self.rows[kpi.id] = self.con.create_table(temp_name(kpi.id), rows, temp=True)


def compute(root: str | Path, framework: Framework, employees: pd.DataFrame, kpis: list[str] | None = None,
            span: tuple[dt.date, dt.date] | None = None, store: ActualsStore | None = None,
            sources: dict[str, Source] | None = None) -> Computation:
    """Evaluate the measured KPIs (all, or `kpis`) in `span` (all periods when None).

    Derived KPIs use this run's values of the KPIs they name, and the store's for KPIs entered by hand.
    """
    order = evaluation_order(framework, kpis)
    wanted = set(kpis) if kpis else {k.id for k in order}
    sources = load_sources(root) if sources is None else sources
    con = ibis.duckdb.connect()
    try:
        run = _Run(Path(root), framework, employees, sources, span, store, con)
        for kpi in order:
            if kpi.measure.derived is None:
                run.plan(kpi)
        run.run_queries()
        for index, kpi in enumerate(order):
            (run.add_measured if kpi.measure.derived is None else run.add_derived)(index, kpi)
        return _collect(con, [run.rows[k.id] for k in order if k.id in wanted])
    finally:
        con.disconnect()


def _frame(con: Any, expr: ir.Table) -> pd.DataFrame:
    return con.to_pyarrow(expr).to_pandas()


def _collect(con: Any, tables: list[ir.Table]) -> Computation:
    """The values, no-data rows, slices and left-out counts of the wanted KPIs' rows, in KPI and period order
    (counts of a KPI: most first, ties in the order their first rows come)."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    if not tables:
        values = pd.DataFrame(columns=[*VALUE_COLUMNS, "definition_hash"])
        return Computation(values, pd.DataFrame(columns=NO_DATA_COLUMNS), pd.DataFrame(columns=SLICE),
                           pd.DataFrame(columns=["kpi_id", "reason", "values"]), now)
    rows = ibis.union(*tables, distinct=False) if len(tables) > 1 else tables[0]
    order = [ORDER, START, *KEYS]
    is_value = rows.reason.isnull() & rows[LEFT_OUT].isnull()
    is_no_data = rows.reason.notnull() & rows[TEAM_HAS]
    values = _frame(con, rows.filter(is_value).order_by(order).select(*VALUE_COLUMNS, "definition_hash"))
    no_data = _frame(con, rows.filter(is_no_data).order_by(order).select(*NO_DATA_COLUMNS))
    no_data["reason"] = no_data["reason"].astype(object)
    covered = rows.filter(is_value | is_no_data)
    slices = covered.group_by([ORDER, "period", "team", "kpi_id"]).aggregate(
        __later=ibis.ifelse(covered.reason.isnull() & covered[LEFT_OUT].isnull(), 0, 1).min(),
        **{START: covered[START].min()})
    slices = _frame(con, slices.order_by(["__later", ORDER, START, "period", "team"]).select(*SLICE))
    left_out = rows.filter(rows.reason.isnull() & rows[LEFT_OUT].notnull())
    first = ibis.literal("\x00").join([left_out[START].cast("string").fill_null(""), *(left_out[k] for k in KEYS)])
    counts = _frame(con, left_out.group_by([ORDER, "kpi_id", LEFT_OUT]).aggregate(
        values=left_out.count(), __first=first.min()).order_by([ORDER, ibis.desc("values"), "__first"]))
    found = zip(counts["kpi_id"], counts[LEFT_OUT], counts["values"], strict=True)
    skipped = pd.DataFrame([{"kpi_id": kpi, "reason": reason, "values": int(n)} for kpi, reason, n in found],
                           columns=["kpi_id", "reason", "values"])
    return Computation(values, no_data, slices, skipped, now)
