"""Evaluating measures in the engine: one grouped aggregation per source × grain holding every KPI's aggregates as
columns, and each KPI's value, "no data" reason and number of source rows as ibis expressions over it.

The aggregation runs in the source's backend (so raw rows never leave a warehouse); the grouped result is kept as a
temporary table of the local DuckDB connection, where period labels, ratios and reasons are computed.
"""

from __future__ import annotations

__all__ = [
    "GROUP_ORDER", "Grain", "KEYS", "NO_DATA_COLUMNS", "START", "SourceQuery", "VALUE_COLUMNS", "check_kpi", "joined",
    "temp_name",
]

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from kpi_workbook.analysis.measures.assign import HOME, ROLE, Assignments
from kpi_workbook.analysis.measures.compile import (
    aggregation,
    duration,
    entities,
    headcount,
    over_entities,
    period_keys,
    period_of_keys,
    source_filter,
)
from kpi_workbook.analysis.measures.placement import (
    LABEL,
    PERIOD_START,
    SLOT,
    Placement,
    dated,
    period_slots,
    periods_frame,
    placed,
    target_periods,
)
from kpi_workbook.analysis.measures.plan import measure_of
from kpi_workbook.core.errors import InputError, Problem
from kpi_workbook.core.measures import Aggregate, Duration, Function, Per
from kpi_workbook.core.model import Frequency, KpiDefinition
from kpi_workbook.core.periods import Period
from kpi_workbook.workspace.database_tables import backend_of
from kpi_workbook.workspace.sources import EMPLOYEE, TEAM, WHEN, ReadSource

KEYS = ["period", "team", "employee_id"]
VALUE_COLUMNS = [*KEYS, "kpi_id", "value", "source", "source_rows"]
NO_DATA_COLUMNS = [*KEYS, "kpi_id", "reason"]
#: The first day of a row's period (for ordering).
START = "__start"
#: The order of a grouped table's rows: at one grain a period's first day stands for its label (no text to compare).
GROUP_ORDER = [START, "team", "employee_id"]

_names = itertools.count()


def temp_name(prefix: str) -> str:
    """A fresh name for a temporary table of the local connection."""
    return f"__kpi_{prefix}_{next(_names)}"


@dataclass(frozen=True)
class Grain:
    """Whose values a query gives, per which periods."""

    frequency: Frequency
    per: Per


def _local(expr: ir.Table, con: Any) -> ir.Table:
    """`expr` itself when the local connection can run it, else its (grouped, small) result brought over as Arrow."""
    backend = backend_of(expr)  # None: only in-memory tables, which the local connection runs
    return expr if backend is None or backend is con else ibis.memtable(backend.to_pyarrow(expr))


@dataclass
class SourceQuery:
    """The grouped aggregation of one source at one grain and placement; KPIs add their aggregates, identical ones
    are shared. Its groups are every (period, team or employee) the records cover, rows or not (see placement.py)."""

    read: ReadSource
    grain: Grain
    span: tuple[dt.date, dt.date] | None
    placement: Placement
    covered: tuple[dt.date, dt.date] | None
    prefix: str = ""
    entity: tuple[Aggregate | Duration, str, str] | None = None  # (spec aggregated per entity, KPI, field)
    metrics: dict[str, Any] = field(default_factory=dict)
    kpis: set[str] = field(default_factory=set)
    _columns: dict[Any, str] = field(default_factory=dict)
    _table: ir.Table | None = None
    _periods: list[Period] = field(default_factory=list)

    def __post_init__(self) -> None:
        table = dated(source_filter(self.read.table, self.read.source), self.placement)
        snapshot = self.read.source.fixed_period
        if snapshot is not None:
            inside = self.span is None or (self.span[0] <= snapshot.start and snapshot.end <= self.span[1])
            self._periods = [snapshot] if inside else []
            table = table if inside else table.filter(ibis.literal(False))
        else:
            self._periods = target_periods(self.grain.frequency, self.covered, self.span, self.placement)
            if self.placement.by_calendar:
                table = placed(table, self.placement, self._periods)
            elif self._periods:
                first, last = self._periods[0].start, self._periods[-1].end
                table = table.filter((table[WHEN] >= first) & (table[WHEN] <= last))
            else:
                table = table.filter(ibis.literal(False))
        self._table = table if self.entity is None else self._entities(table, self.entity)

    @property
    def _placed(self) -> ir.Table:
        """The source's rows as placed (set when the query is made)."""
        if self._table is None:
            raise ValueError("the query's rows are not placed")
        return self._table

    def _entities(self, table: ir.Table, entity: tuple[Aggregate | Duration, str, str]) -> ir.Table:
        """The placed rows as one row per group and `entity` (see compile.entities), keeping what places them."""
        spec, kpi, field_name = entity
        keys = {TEAM: table[TEAM]} | ({EMPLOYEE: table[EMPLOYEE]} if self.grain.per is Per.EMPLOYEE else {})
        keep = {}
        if self.placement.by_calendar:
            keys[SLOT] = table[SLOT]
        elif self.read.source.fixed_period is None:
            keys |= period_keys(table, self.grain.frequency)
            keep[WHEN] = table[WHEN].min()  # every row of a group is in one period: its first day places it there
        return entities(table, self.read.source, spec, kpi, field_name, keys, keep)

    def add(self, spec: Aggregate | Duration, kpi: str, field_name: str) -> tuple[str, str]:
        """The columns of `spec`'s aggregate and of its number of rows; InputError naming the KPI. Aggregates that
        several KPIs share (the same expression) are one column."""
        table, source = self._placed, self.read.source
        if self.entity is not None:
            value, used = over_entities(table, spec)
        elif isinstance(spec, Duration):
            value, used = duration(table, source, spec, kpi)
        elif spec.function is Function.HEADCOUNT:
            value, used = headcount(table, source, spec, kpi, field_name)
        else:
            value, used = aggregation(table, source, spec, kpi, field_name)
        self.kpis.add(kpi)
        return self._column(value), self._column(used)

    def _column(self, expr: Any) -> str:
        node = expr.op()
        if node not in self._columns:
            self._columns[node] = f"{self.prefix or self.read.source.name}__m{len(self._columns)}"
            self.metrics[self._columns[node]] = expr
        return self._columns[node]

    def materialize(self, con: Any, assignments: Assignments) -> ir.Table:
        """Run the aggregation into a temporary table of `con`; the groups keyed by period, team and employee (with
        home and role) and the period's first day, with a group for every team or employee of the query's KPIs in
        every period the records cover (counts and sums 0 there). Unordered: the final fetch sorts once."""
        table, snapshot = self._placed, self.read.source.fixed_period
        if snapshot is not None:
            keys = {}
        elif self.placement.by_calendar:
            keys = {SLOT: table[SLOT]}
        else:
            keys = period_keys(table, self.grain.frequency)
        keys[TEAM] = table[TEAM]
        if self.grain.per is Per.EMPLOYEE:
            keys[EMPLOYEE] = table[EMPLOYEE]
        grouped = _local(table.group_by(**keys).aggregate(**self.metrics), con)
        if self.placement.by_calendar and snapshot is None:
            grouped = grouped.join(period_slots(self._periods), SLOT)
        if snapshot is not None:
            label, start = ibis.literal(snapshot.label, "string"), ibis.literal(snapshot.start, "date")
        elif self.placement.by_calendar:
            label, start = grouped[LABEL].cast("string"), grouped[PERIOD_START].cast("date")
        else:
            label, start = period_of_keys(grouped, self.grain.frequency)
        employee = grouped[EMPLOYEE].cast("string") if self.grain.per is Per.EMPLOYEE else ibis.literal("", "string")
        shaped = grouped.select(period=label, team=grouped[TEAM].cast("string"), employee_id=employee,
                                **{START: start}, **{name: grouped[name] for name in self.metrics})
        staff = assignments.staff
        if self.grain.per is Per.EMPLOYEE:
            shaped = shaped.left_join(staff, shaped.employee_id == staff["__staff"]).drop("__staff")
        groups = con.create_table(temp_name(self.read.source.name), shaped, temp=True)
        return self._with_empty_groups(groups, assignments)  # reads the groups again: computed once, kept above

    def _with_empty_groups(self, shaped: ir.Table, assignments: Assignments) -> ir.Table:
        """`shaped` and a group without rows for each team of the query's KPIs (per team), or each of their people
        from the period of the person's first row in the source on (per employee), in every period it covers."""
        if not self._periods:
            return shaped
        lacking = self._missing_teams if self.grain.per is Per.TEAM else self._missing_people
        missing = lacking(shaped, assignments)
        if missing is None:
            return shaped
        empty = {name: ibis.null(shaped[name].type()) for name in self.metrics}
        return shaped.union(missing.select(*[missing[c] if c in missing.columns else empty[c].name(c)
                                             for c in shaped.columns]), distinct=False)

    def _missing_teams(self, shaped: ir.Table, assignments: Assignments) -> ir.Table | None:
        """The (period, team) of the query's periods and its KPIs' teams that `shaped` lacks; None without teams."""
        teams = sorted({t for k in self.kpis for t in assignments.teams_with(k)})
        if not teams:
            return None
        grid = periods_frame(self._periods).merge(pd.DataFrame({"team": teams}), how="cross").assign(employee_id="")
        spine = ibis.memtable(grid.rename(columns={PERIOD_START: START}))
        spine = spine.mutate(**{START: spine[START].cast("date")})
        keys = shaped.select("period", "team", "employee_id")
        return spine.anti_join(keys, [spine[k] == keys[k] for k in ("period", "team", "employee_id")])

    def _missing_people(self, shaped: ir.Table, assignments: Assignments) -> ir.Table | None:
        """The groups (in their home team) of the people with a role of the query's KPIs that `shaped` lacks, in
        each period from that of their first group on; None without roles. Each person's first day and the first
        days of their periods in their home team are one aggregation of `shaped`, so that no join of the groups'
        text keys is needed."""
        roles = sorted({r for k in self.kpis for r in assignments.roles_with(k)})
        if not roles:
            return None
        periods = ibis.memtable(periods_frame(self._periods))
        periods = periods.mutate(**{PERIOD_START: periods[PERIOD_START].cast("date")})
        staff = assignments.staff.filter(assignments.staff[ROLE].isin(roles))
        firsts = shaped.group_by(__who="employee_id").aggregate(
            __first=shaped[START].min(), __seen=shaped[START].collect(where=shaped.team == shaped[HOME]))
        pairs = staff.join(firsts, staff["__staff"] == firsts["__who"]).cross_join(periods)
        seen = pairs["__seen"].contains(pairs[PERIOD_START]).fill_null(False)
        pairs = pairs.filter((pairs[PERIOD_START] >= pairs["__first"]) & ~seen)
        return pairs.select("period", team=pairs[HOME], employee_id=pairs["__staff"],
                            **{START: pairs[PERIOD_START], HOME: pairs[HOME], ROLE: pairs[ROLE]})


def check_kpi(kpi: KpiDefinition, read: ReadSource, frequency: Frequency) -> None:
    """InputError when a KPI cannot be computed from a source at its grain."""
    source = read.source
    if measure_of(kpi).per is Per.EMPLOYEE and source.employee is None:
        raise InputError(Problem(file="kpis.yaml", entry=f"KPI '{kpi.id}'", field="measure.per",
                                 message=f"per employee, but source '{source.name}' has no employee column"))
    snapshot = source.fixed_period
    if snapshot is not None and snapshot.frequency is not frequency:
        raise InputError(Problem(file="kpis.yaml", entry=f"KPI '{kpi.id}'", field="frequency", message=(
            f"the KPI is {frequency.value} but source '{source.name}' is a snapshot of {snapshot.label}")))


def joined(tables: list[ir.Table], con: Any) -> ir.Table:
    """The grouped tables of several sources side by side: every group of any of them (outer join, as a table)."""
    result = tables[0]
    for other in tables[1:]:
        on = [result[k] == other[k] for k in KEYS]
        both = result.outer_join(other, on, rname="{name}__other")
        keep = [*KEYS, START, *(c for c in (HOME, ROLE) if c in result.columns)]
        result = both.select(**{c: ibis.coalesce(both[c], both[f"{c}__other"]) for c in keep},
                             **{c: both[c] for c in both.columns if c not in keep and not c.endswith("__other")})
    if len(tables) == 1:
        return result
    return con.create_table(temp_name("joined"), result.order_by(GROUP_ORDER), temp=True)
