"""Computing every measured KPI of a workspace from its sources, in the engine.

Each source is aggregated once per grain (frequency × employee or team) with all its KPIs' aggregates as columns,
where its records are; ratios, scale, "no data" reasons, period labels, derived KPIs and the framework's
assignments are then SQL over those groups in a local DuckDB connection. Only each grouped table's KPI columns come
back, as Arrow (one query per table, in no order); the long tables are assembled from them with Arrow compute and
numpy (collect.py), which also puts the groups in order.
"""

from __future__ import annotations

__all__ = ["OPERAND_COLUMNS", "OPERAND_SCHEMA", "compute", "scope_levels"]

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ibis
import ibis.backends.duckdb  # the default engine, loaded with the module rather than on first use
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from kpi_workbook.analysis.measures.assign import Assignments
from kpi_workbook.analysis.measures.attribution import attributed
from kpi_workbook.analysis.measures.collect import SCOPE_COLUMNS, Computation, KpiColumns, collect
from kpi_workbook.analysis.measures.derived import derived_columns, derived_table
from kpi_workbook.analysis.measures.evaluate import KEYS, START, Grain, SourceQuery, check_kpi, joined, temp_name
from kpi_workbook.analysis.measures.fetching import literal_texts, to_arrow
from kpi_workbook.analysis.measures.kinds import kind_of
from kpi_workbook.analysis.measures.placement import Placement, coverage, placement_of
from kpi_workbook.analysis.measures.plan import evaluation_order, measure_of, operands
from kpi_workbook.core.bulk_memory import bulk_allocations
from kpi_workbook.core.errors import InputError, Problem
from kpi_workbook.core.measures import Aggregate, At, Duration, Function, Measure, Per
from kpi_workbook.core.model import Framework, KpiDefinition
from kpi_workbook.core.periods import parse_period
from kpi_workbook.workspace.database_tables import reason as engine_reason
from kpi_workbook.workspace.database_urls import scrub
from kpi_workbook.workspace.scope import ScopeKind, departments
from kpi_workbook.workspace.sources import TEAM, ReadSource, Source, definition_hash, load_sources, read_source
from kpi_workbook.workspace.store import ActualsStore

OPERAND_SCHEMA = ibis.schema({"period": "string", "team": "string", "employee_id": "string", "kpi_id": "string",
                              "value": "float64"})
OPERAND_COLUMNS: tuple[str, ...] = tuple(OPERAND_SCHEMA)  # its names (ibis's hints do not type Schema.names)


def _in_span(frame: pd.DataFrame, span: tuple[dt.date, dt.date] | None) -> pd.DataFrame:
    if span is None or frame.empty:
        return frame
    inside = {p: span[0] <= parse_period(p).start and parse_period(p).end <= span[1]
              for p in frame["period"].unique()}
    return frame[frame["period"].map(inside).astype(bool).to_numpy()]


#: A grouped query: the source, grain and placement, and the aggregation it is of if that goes per entity first.
_QueryKey = tuple[str, Grain, Placement, Aggregate | Duration | None]


@dataclass
class _Output:
    """One table of groups (in period, team, employee order) and, per KPI on it, its columns as ibis expressions."""

    table: ir.Table
    columns: dict[str, Any] = field(default_factory=dict)
    kpis: list[tuple[int, KpiColumns]] = field(default_factory=list)
    _names: dict[Any, str] = field(default_factory=dict)

    def column(self, name: str, expr: Any) -> str:
        """The name of the column holding `expr`: `name`, or that of an identical column already on the table (KPIs
        with the same roles share their left-out reasons, aggregates over the same rows their row counts)."""
        node = expr.op()
        if node not in self._names:
            self._names[node] = name
            self.columns[name] = expr
        return self._names[node]


class _ToldOnce(Exception):
    """A source that failed to read earlier in the run: its problems are told once, whichever KPIs use it."""


class _Run:
    """One computation: the sources read, their grouped queries, and each KPI's rows as a table of `con`."""

    def __init__(self, root: Path, framework: Framework, employees: pd.DataFrame, sources: dict[str, Source],
                 span: tuple[dt.date, dt.date] | None, store: ActualsStore | None, con: Any):
        self.root, self.framework, self.employees, self.sources = root, framework, employees, sources
        self.span, self.store, self.con = span, store, con
        self.assignments = Assignments(framework, employees)
        self.read: dict[str, ReadSource] = {}
        self.queries: dict[_QueryKey, SourceQuery] = {}
        self.columns: dict[str, dict[str, tuple[str, str]]] = {}
        self.query_keys: dict[str, list[_QueryKey]] = {}
        self.covered: dict[tuple[str, str | None], tuple[dt.date, dt.date] | None] = {}
        self.grouped: dict[object, ir.Table] = {}
        self.outputs: dict[object, _Output] = {}
        self.rows: dict[str, ir.Table] = {}
        self.on_table: dict[str, tuple[object, Any, Any]] = {}
        self.unreadable: set[str] = set()
        self.counted: dict[tuple[str, Grain, tuple], frozenset[At]] = {}

    def _source(self, kpi: KpiDefinition, name: str) -> ReadSource:
        if name not in self.read:
            if name not in self.sources:
                raise InputError(Problem(file="kpis.yaml", entry=f"KPI '{kpi.id}'", field="measure",
                                         message=f"unknown source '{name}' (sources.yaml has: "
                                                 f"{', '.join(self.sources) or 'none'})"))
            if name in self.unreadable:  # read once: its problems are told once, whichever KPIs use it
                raise _ToldOnce(name)
            try:
                read = read_source(self.sources[name], self.root, self.framework, self.employees, self.con)
                history = self.sources[name].team_as_of
                self.read[name] = read if history is None else attributed(read, self._source(kpi, history))
            except (InputError, _ToldOnce):
                self.unreadable.add(name)
                raise
        return self.read[name]

    def above(self, levels: dict[str, dict[str, str]]) -> _Run:
        """A run of the levels up (`levels`: for each, each team's scope there) on this run's connection, sources as
        read and coverage: every measure per scope, over all the scope's records. All levels go in one run, each
        scope named by `_scope_key` (a record counts once at each level)."""
        run = _Run(self.root, _per_scope(self.framework), self.employees, self.sources, self.span, None, self.con)
        keys = {level: {team: _scope_key(level, scope) for team, scope in scope_of.items()}
                for level, scope_of in levels.items()}
        scopes_of: dict[str, tuple[str, ...]] = {}
        for scope_of in keys.values():
            for team, key in scope_of.items():
                scopes_of[team] = (*scopes_of.get(team, ()), key)
        run.assignments = self.assignments.in_scopes(scopes_of)
        run.read = {name: _in_scopes(read, list(keys.values())) for name, read in self.read.items()}
        run.covered = self.covered  # the records' days do not depend on the level
        return run

    def evaluate(self, kpis: list[str] | None) -> list[tuple[pa.Table, KpiColumns]]:
        """Plan, run and fetch the measured KPIs (all, or `kpis`); every KPI's problems at once, as validate lists
        them."""
        order = evaluation_order(self.framework, kpis)
        self.counted = _headcounts(order, self.framework)
        problems: list[Problem] = []
        for kpi in order:
            if measure_of(kpi).derived is None:
                try:
                    self.plan(kpi)
                except InputError as exc:
                    problems += exc.problems
                except _ToldOnce:
                    pass
        if problems:
            raise InputError(problems)
        self.run_queries()
        for index, kpi in enumerate(order):
            (self.add_measured if measure_of(kpi).derived is None else self.add_derived)(index, kpi)
        return self.fetch(set(kpis) if kpis else {k.id for k in order})

    def plan(self, kpi: KpiDefinition) -> None:
        """Read the KPI's sources and add its aggregations to their grouped queries (errors name the KPI)."""
        measure = measure_of(kpi)
        grain = Grain(self.framework.frequency_of(kpi), measure.per)
        for name in measure.sources:
            check_kpi(kpi, self._source(kpi, name), grain.frequency)
        columns, keys = {}, []
        for part, spec in kind_of(measure).parts(measure):
            read = self.read[spec.source]
            placement = placement_of(spec, measure, read.source, kpi.id, part,
                                     self.counted.get((spec.source, grain, _shifts(measure)), frozenset()))
            each = spec if spec.per_entity is not None else None
            key = (spec.source, grain, placement, each)
            if key not in self.queries:
                source = read.source  # a date the records' days already include needs no query of its own
                extra = None if placement.date in (source.when, source.start, source.end) else placement.date
                covered = (spec.source, extra)
                if covered not in self.covered:
                    self.covered[covered] = coverage(read, extra)
                self.queries[key] = SourceQuery(read, grain, self.span, placement, self.covered[covered],
                                                prefix=f"{spec.source}_q{len(self.queries)}",
                                                entity=(spec, kpi.id, part) if each else None)
            columns[part] = self.queries[key].add(spec, kpi.id, part)
            keys.append(key)
        self.columns[kpi.id] = columns
        self.query_keys[kpi.id] = list(dict.fromkeys(keys))

    def run_queries(self) -> None:
        """Run each source's grouped query once, into a temporary table; an engine's error names the source and
        KPIs."""
        for key, query in self.queries.items():
            try:
                self.grouped[key] = query.materialize(self.con, self.assignments)
            except InputError:
                raise
            except Exception as exc:  # noqa: BLE001 - ibis, DuckDB, pyarrow and drivers raise their own types
                source = query.read.source
                raise InputError(Problem(file=source.location, entry=f"source '{source.name}'", message=(
                    f"the engine could not compute {', '.join(sorted(query.kpis))}: "
                    f"{scrub(engine_reason(exc), source.url or '')}"))) from None

    def _hash(self, kpi: KpiDefinition) -> str:
        return definition_hash(kpi, self.framework, self.sources)

    def _add(self, key: object, table: ir.Table, index: int, kpi: KpiDefinition, value: Any, reason: Any,
             rows: Any, source: str, exists: Any = None) -> None:
        """Put the KPI's columns on the output table `key`, and keep its values as operands of derived KPIs."""
        output = self.outputs.setdefault(key, _Output(table))
        value, reason = value.cast("float64"), reason.cast("string")
        columns = {"value": value, "rows": rows.cast("int64"), "reason": reason,
                   "left_out": self.assignments.left_out(table, kpi.id, measure_of(kpi).per).cast("string"),
                   "team_has": self.assignments.team_has(table.team, kpi.id)}
        columns |= {} if exists is None else {"exists": exists}
        named = {c: output.column(f"__k{index}_{c}", expr) for c, expr in columns.items()}
        names = KpiColumns(kpi.id, source, self._hash(kpi), value=named["value"], rows=named["rows"],
                           reason=named["reason"], left_out=named["left_out"], team_has=named["team_has"],
                           exists=named.get("exists"), teams=self.assignments.teams_with(kpi.id))
        output.kpis.append((index, names))
        self.on_table[kpi.id] = (key, ibis.ifelse(reason.isnull(), value, ibis.null("float64")),
                                 reason.isnull() if exists is None else reason.isnull() & exists)
        rows_of = table if exists is None else table.filter(exists)
        self.rows[kpi.id] = rows_of.select(*KEYS, kpi_id=ibis.literal(kpi.id, "string"), value=value,
                                           reason=reason)

    def add_measured(self, index: int, kpi: KpiDefinition) -> None:
        """The KPI's rows: value, reason and rows used for each group of its sources."""
        keys = self.query_keys[kpi.id]
        key = tuple(keys)
        if key not in self.grouped:
            self.grouped[key] = joined([self.grouped[k] for k in keys], self.con)
        table = self.grouped[key]
        measure = measure_of(kpi)
        value, reason, rows = kind_of(measure).value(table, measure, self.columns[kpi.id])
        self._add(key, table, index, kpi, value, reason, rows, ", ".join(measure.sources))

    def _operands(self, names: list[str]) -> ir.Table:
        parts = [self.rows[n].filter(self.rows[n].reason.isnull()).select(*OPERAND_COLUMNS)
                 for n in names if n in self.rows]
        entered = [n for n in names if n not in self.rows]
        if entered and self.store is not None:
            frame = _in_span(self.store.read_actuals(kpis=entered), self.span)
            frame = frame[list(OPERAND_COLUMNS)].astype({"value": "float64"})
            parts.append(ibis.memtable(frame, schema=OPERAND_SCHEMA))
        if not parts:
            return ibis.memtable(pd.DataFrame(columns=list(OPERAND_COLUMNS)), schema=OPERAND_SCHEMA)
        return ibis.union(*parts, distinct=False)

    def add_derived(self, index: int, kpi: KpiDefinition) -> None:
        """The KPI's rows from its operands' values of this run and the store's (for KPIs entered by hand)."""
        names = operands(kpi)
        keys = {self.on_table[n][0] for n in names if n in self.on_table}
        key = next(iter(keys)) if len(keys) == 1 and all(n in self.on_table for n in names) else None
        if isinstance(key, tuple) and key[0][1].per is measure_of(kpi).per:  # all operands measured on one table
            value, reason = derived_columns(kpi, lambda name: self.on_table[name][1])
            exists = self.on_table[names[0]][2]
            for name in names[1:]:
                exists = exists | self.on_table[name][2]
            self._add(key, self.outputs[key].table, index, kpi, value, reason, ibis.literal(len(names), "int64"),
                      "derived: " + ", ".join(names), exists=exists)
            return
        table, value, reason = derived_table(kpi, self._operands(names))
        table = table.mutate(value=value.cast("float64"), reason=reason.cast("string"))
        staff = self.assignments.staff
        if measure_of(kpi).per is Per.EMPLOYEE:
            table = table.left_join(staff, table.employee_id == staff["__staff"]).drop("__staff")
        table = self.con.create_table(temp_name(kpi.id), table.order_by(KEYS), temp=True)
        self._add(kpi.id, table, index, kpi, table.value, table.reason, ibis.literal(len(names), "int64"),
                  "derived: " + ", ".join(names))

    def fetch(self, wanted: set[str]) -> list[tuple[pa.Table, KpiColumns]]:
        """Each output table with its wanted KPIs' columns as Arrow (one query per table), in KPI order."""
        parts = []
        for output in self.outputs.values():
            kpis = [(i, k) for i, k in output.kpis if k.kpi_id in wanted]
            if not kpis:
                continue
            names = dict.fromkeys(n for _, k in kpis for n in (k.value, k.rows, k.reason, k.left_out, k.team_has,
                                                                k.exists) if n)
            start = [START] if START in output.table.columns else []  # collect orders periods by their first day
            reasons = {n for _, k in kpis for n in (k.reason, k.left_out)}
            texts = {n: found for n in reasons if (found := literal_texts(output.columns[n])) is not None}
            table = to_arrow(self.con, output.table.select(*KEYS, *start, **{n: output.columns[n] for n in names}),
                             texts)
            parts += [(i, table, k) for i, k in kpis]
        return [(table, kpi) for _, table, kpi in sorted(parts, key=lambda part: part[0])]


def _shifts(measure: Measure) -> tuple:
    return measure.window, measure.year_to_date, measure.offset


def _headcounts(kpis: list[KpiDefinition], framework: Framework) -> dict[tuple[str, Grain, tuple], frozenset[At]]:
    """The ways of counting of the headcounts of each source, grain and window: one calendar join serves those that
    go together (placement.counted_together)."""
    counted: dict[tuple[str, Grain, tuple], frozenset[At]] = {}
    for kpi in kpis:
        measure = measure_of(kpi)
        grain = Grain(framework.frequency_of(kpi), measure.per)
        for spec in measure.aggregates:
            if spec.function is Function.HEADCOUNT:
                key = (spec.source, grain, _shifts(measure))
                counted[key] = counted.get(key, frozenset()) | {spec.counted_at}
    return counted


#: Between a level and a scope id in the scope keys of the levels' run: a character no id or name holds.
_LEVEL_END = "\x1f"


def _scope_key(level: str, scope: str) -> str:
    return f"{level}{_LEVEL_END}{scope}"


def _in_scopes(read: ReadSource, levels: list[dict[str, str]]) -> ReadSource:
    """A read source with each row once per level (each of `levels` maps a team to its scope key there), its team
    column holding the row's scope key instead of its team; rows of teams in no scope of a level are left out of
    that level. One SQL expression on any engine: a UNION ALL of the levels, no table to upload."""
    table = read.table
    parts = []
    for scope_of in levels:
        scope = table[TEAM].substitute(scope_of, else_=ibis.null("string"))
        parts.append(table.mutate(**{TEAM: scope}).filter(scope.notnull()))
    return ReadSource(read.source, ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0], read.rows)


def _per_scope(framework: Framework) -> Framework:
    """The framework with every measure per team: a scope's value is over all its records, whoever they are of."""
    kpis = [k if k.measure is None or k.measure.per is Per.TEAM
            else k.model_copy(update={"measure": k.measure.model_copy(update={"per": Per.TEAM})})
            for k in framework.kpis]
    return framework.model_copy(update={"kpis": kpis})


def scope_levels(framework: Framework) -> dict[str, dict[str, str]]:
    """For each level above teams (department, organization): each team's scope id at that level."""
    by_department = {team: key for key, (_, teams) in departments(framework).items() for team in teams}
    return {ScopeKind.DEPARTMENT.value: by_department,
            ScopeKind.ORGANIZATION.value: {t.id: ScopeKind.ORGANIZATION.value for t in framework.teams}}


def compute(root: str | Path, framework: Framework, employees: pd.DataFrame, kpis: list[str] | None = None,
            span: tuple[dt.date, dt.date] | None = None, store: ActualsStore | None = None,
            sources: dict[str, Source] | None = None, scopes: bool = True) -> Computation:
    """Evaluate the measured KPIs (all, or `kpis`) in `span` (all periods when None), per team and employee, and
    (with `scopes`) per department and for the organization, each over all its records.

    Derived KPIs use this run's values of the KPIs they name, and the store's for KPIs entered by hand (team and
    employee values only). Each source is read once for every level.
    """
    with bulk_allocations():
        return _compute(root, framework, employees, kpis, span, store, sources, scopes)


def _compute(root: str | Path, framework: Framework, employees: pd.DataFrame, kpis: list[str] | None,
             span: tuple[dt.date, dt.date] | None, store: ActualsStore | None, sources: dict[str, Source] | None,
             scopes: bool) -> Computation:
    sources = load_sources(root) if sources is None else sources
    levels = {level: teams for level, teams in scope_levels(framework).items() if teams} if scopes else {}
    con = ibis.duckdb.connect()
    con.raw_sql("SET arrow_large_buffer_size = true")  # large_string: what pandas' str columns hold
    try:
        run = _Run(Path(root), framework, employees, sources, span, store, con)
        parts = run.evaluate(kpis)
        above = run.above(levels).evaluate(kpis) if levels else None
    finally:
        con.disconnect()  # the engine's memory goes before the long tables are built
    result = collect(parts)
    if above is None:
        return result
    found = collect(above).values[["period", "team", "kpi_id", "value", "source_rows"]].astype(
        {"period": "str", "team": "str", "kpi_id": "str"})
    keys = found["team"].str.split(_LEVEL_END, n=1, expand=True, regex=False)
    found = found.drop(columns="team").assign(scope=keys[1], level=keys[0])
    frames = [found[(keys[0] == name).to_numpy()] for name in levels]  # each level's groups in their order
    return dataclasses.replace(result, scopes=pd.concat(frames, ignore_index=True)[SCOPE_COLUMNS])
