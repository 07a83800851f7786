"""Machine-readable measures of KPI definitions: how a KPI's value is computed from source records.

A measure is one of four kinds, written in a KPI definition's ``measure`` field::

    measure:                                  # an aggregation of a source column
      aggregate: {source: crm_opportunities, function: sum, column: amount, where: 'stage == "won"'}
      per: employee
    measure:                                  # a ratio of two aggregations, here × 100
      ratio:
        numerator: {source: crm_opportunities, function: count, where: 'stage == "won"'}
        denominator: {source: crm_opportunities, function: count, where: 'stage in ("won", "lost")'}
      scale: 100
    measure:                                  # a duration between two date columns, aggregated
      duration: {source: requisitions, start: approved_on, end: offer_accepted_on, function: median}
    measure:                                  # derived from other KPIs of the same scope
      derived: new_business_revenue / headcount
      per: team
    measure:                                  # leavers ÷ average headcount over the trailing 4 quarters
      ratio:
        numerator: {source: roster, function: count, date: termination_date}
        denominator: {source: roster, function: headcount, at: average}
      per: team
      scale: 100
      window: 4
    measure:                                  # mean order value: each order's lines summed, then averaged
      aggregate: {source: order_lines, function: mean, column: amount, per_entity: {column: order_id, function: sum}}
    measure:                                  # share of tickets resolved within 2 days
      ratio:
        numerator: {source: tickets, function: count, where: 'days(opened_at, resolved_at) <= 2'}
        denominator: {source: tickets, function: count}
      scale: 100
    measure:                                  # the same measure a year earlier (for growth as a derived KPI)
      aggregate: {source: crm_opportunities, function: sum, column: amount}
      offset: year

A headcount counts the rows of a source with validity spans (`start`/`end` in sources.yaml) that are active on given
days of each period; `date` places each row in a period by another date column than the source's `when` (rows
without a date there are not events yet); `window` aggregates the trailing periods instead of one, `year_to_date`
the periods of the year so far; `offset` gives a period the value of the period `offset` periods (or a year) before.

Filters (``where``) and derived expressions are parsed with Python's ``ast`` into small trees; nothing is ever
evaluated as code.
"""

from __future__ import annotations

__all__ = [
    "Aggregate", "At", "Column", "ColumnName", "Compare", "Condition", "DERIVED_HELP", "Duration", "DurationUnit",
    "FILTER_HELP", "FilterError", "Function", "Literal", "Logical", "MAX_EXPRESSION_CHARS", "MAX_EXPRESSION_PARTS",
    "MEASURE_KINDS", "Measure", "NUMERIC_FUNCTIONS", "Operation", "Per", "PerEntity", "Ratio", "SPAN_UNITS",
    "SourceName", "Span", "Term", "ZERO_WHEN_NONE_MATCH", "derived_kpis", "filter_columns", "parse_derived",
    "parse_filter",
]

import ast
import hashlib
import json
import math
import typing
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field, model_validator

from kpi_workbook.core.errors import KpiWorkbookError
from kpi_workbook.core.issue_codes import Code
from kpi_workbook.core.strict import Strict

SourceName = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
ColumnName = Annotated[str, Field(min_length=1)]


class Function(StrEnum):
    """How the rows of a group are aggregated."""

    SUM = "sum"
    COUNT = "count"
    COUNT_DISTINCT = "count_distinct"
    MEAN = "mean"
    MEDIAN = "median"
    MIN = "min"
    MAX = "max"
    HEADCOUNT = "headcount"


#: Aggregations that are 0 (not "no data") over a group where the filter matches no row.
ZERO_WHEN_NONE_MATCH = frozenset({Function.SUM, Function.COUNT, Function.COUNT_DISTINCT, Function.HEADCOUNT})
#: Aggregations that need a number column.
NUMERIC_FUNCTIONS = frozenset({Function.SUM, Function.MEAN, Function.MEDIAN, Function.MIN, Function.MAX})


class At(StrEnum):
    """On which days of a period a headcount counts the active rows: its last day, its first day, the average of the
    two (SHRM's average headcount) or the average of every month's last day in the period."""

    END = "end"
    START = "start"
    AVERAGE = "average"
    MONTH_ENDS = "month_ends"


class Per(StrEnum):
    """Whose value a measure gives: each employee's or each team's."""

    EMPLOYEE = "employee"
    TEAM = "team"


class DurationUnit(StrEnum):
    """The unit of a duration between two date (or date-time) columns."""

    DAYS = "days"
    HOURS = "hours"


class _Strict(Strict):
    model_config = ConfigDict(frozen=True)  # a measure is a value: hashed into each computed value's lineage


class PerEntity(_Strict):
    """Aggregate the rows of each entity first (e.g. the lines of one order, by `column: order_id`) with `function`,
    then the entities' values with the measure's own function: a mean over orders, not over order lines."""

    column: ColumnName
    """The column that names each entity, e.g. `order_id`."""
    function: Function
    """How each entity's rows are aggregated first: sum, count, mean, median, min or max."""

    @model_validator(mode="after")
    def _per_row(self) -> PerEntity:
        if self.function in (Function.HEADCOUNT, Function.COUNT_DISTINCT):
            raise ValueError(f"an entity's rows are aggregated with sum, count, mean, median, min or max, not "
                             f"'{self.function}'")
        return self

    def describe(self) -> str:
        """E.g. 'per order_id (sum)'."""
        return f"per {self.column} ({self.function.value.replace('_', ' ')})"


class Aggregate(_Strict):
    """An aggregation of a source's rows: `function` of `column` over the rows matching `where`, each row placed in
    a period by its `date` (the source's `when` unless given). A headcount counts the rows active on the days `at`
    says (or sums `column` over them, e.g. FTE)."""

    source: SourceName
    """Name of the source in sources.yaml."""
    function: Function
    """sum, count, count_distinct, mean, median, min, max or headcount."""
    column: ColumnName | None = None
    """The column aggregated (count and headcount may leave it out; a headcount with a column sums it, e.g. FTE)."""
    where: str | None = None
    """A filter: comparisons joined by and, or, not, e.g. `stage == "won"` (parsed, never run as code)."""
    date: ColumnName | None = None
    """The date column placing each row in a period instead of the source's `when` (e.g. `termination_date`)."""
    at: At | None = None
    """For a headcount: the days it counts on, `end`, `start`, `average` (default) or `month_ends`."""
    per_entity: PerEntity | None = None
    """Aggregate each entity's rows first (e.g. the lines of one order), then the entities' values."""

    @model_validator(mode="after")
    def _column_needed(self) -> Aggregate:
        if self.per_entity is not None:
            if self.function in (Function.HEADCOUNT, Function.COUNT_DISTINCT):
                raise ValueError(f"'{self.function}' is not taken over entities; per_entity goes with sum, count, "
                                 "mean, median, min or max")
            if self.column is None and self.per_entity.function is not Function.COUNT:
                raise ValueError(f"per_entity function '{self.per_entity.function}' needs a column (only count may "
                                 "leave it out)")
            return self
        if self.column is None and self.function not in (Function.COUNT, Function.HEADCOUNT):
            raise ValueError(f"'{self.function}' needs a column (only count and headcount may leave it out)")
        if self.at is not None and self.function is not Function.HEADCOUNT:
            raise ValueError("`at` is for function: headcount")
        if self.date is not None and self.function is Function.HEADCOUNT:
            raise ValueError("a headcount counts the rows active on the days `at` says; it takes no `date`")
        return self

    @property
    def counted_at(self) -> At:
        """The days a headcount counts (the average of a period's first and last day unless `at` says)."""
        return self.at or At.AVERAGE

    def describe(self) -> str:
        """The aggregation in words, e.g. 'sum of amount in crm_opportunities where stage == "won"'."""
        if self.function is Function.HEADCOUNT:
            days = {At.END: "on the period's last day", At.START: "on the period's first day",
                    At.AVERAGE: "averaged over the period's first and last day",
                    At.MONTH_ENDS: "averaged over the month ends"}[self.counted_at]
            what = f"sum of {self.column} of the rows active" if self.column else "rows active"
            text = f"{what} {days} in {self.source}"
        elif self.per_entity is not None:
            inner = self.per_entity
            what = f"{inner.function.value} of {self.column}" if self.column else "number of rows"
            text = (f"{self.function.value} of the {what} per {inner.column} in {self.source}"
                    + (f" by {self.date}" if self.date else ""))
        else:
            what = f"{self.function.value.replace('_', ' ')} of {self.column}" if self.column else "number of rows"
            text = f"{what} in {self.source}" + (f" by {self.date}" if self.date else "")
        return text + (f" where {self.where}" if self.where else "")


class Ratio(_Strict):
    """A ratio of two aggregations; no data when the denominator is 0."""

    numerator: Aggregate
    """The aggregation above the line."""
    denominator: Aggregate
    """The aggregation below the line; a group where it is 0 has no value."""


class Duration(_Strict):
    """Time from a start date column to an end date column of each row, aggregated (rows without both are left out)."""

    source: SourceName
    """Name of the source in sources.yaml."""
    start: ColumnName
    """The date (or date-time) column where each row's duration starts."""
    end: ColumnName
    """The date (or date-time) column where it ends."""
    function: Function = Function.MEDIAN
    """How the durations are aggregated: sum, mean, median (default), min or max."""
    unit: DurationUnit = DurationUnit.DAYS
    """`days` (default) or `hours`."""
    where: str | None = None
    """A filter on the rows, as for an aggregate."""
    per_entity: PerEntity | None = None
    """Aggregate each entity's rows first, then the entities' values."""

    @model_validator(mode="after")
    def _numeric(self) -> Duration:
        for function in (self.function, *([self.per_entity.function] if self.per_entity else [])):
            if function not in NUMERIC_FUNCTIONS:
                raise ValueError(f"a duration is aggregated with sum, mean, median, min or max, not '{function}'")
        return self

    def describe(self) -> str:
        """The duration in words."""
        each = f" {self.per_entity.describe()}" if self.per_entity else ""
        return (f"{self.function.value} {self.unit.value} from {self.start} to {self.end}{each} in {self.source}"
                + (f" where {self.where}" if self.where else ""))


#: The kinds of measure, one field of Measure each (analysis.measures.kinds has a module per kind).
MEASURE_KINDS = ("aggregate", "ratio", "duration", "derived")


class Measure(_Strict):
    """How a KPI's value is computed: exactly one of aggregate, ratio, duration or derived, per employee or team."""

    aggregate: Aggregate | None = None
    """An aggregation of one source's rows."""
    ratio: Ratio | None = None
    """A ratio of two aggregations."""
    duration: Duration | None = None
    """A duration between two date columns, aggregated."""
    derived: str | None = None
    """Arithmetic over other KPIs of the same period and team or employee, e.g. `revenue / headcount`."""
    per: Per = Per.EMPLOYEE
    """Whose values it gives: each `employee`'s (default) or each `team`'s."""
    scale: float = Field(default=1.0, allow_inf_nan=False, gt=0)
    """A factor applied to the value, e.g. 100 for a percentage."""
    unit: str | None = None
    """The unit of the computed values, if it must be checked against the KPI's unit."""
    polarity: str | None = None
    """The polarity the measure assumes, if it must be checked against the KPI's polarity."""
    window: int | None = Field(default=None, ge=2, le=120)
    """Compute each period's value over the trailing N periods (2-120) ending with it."""
    year_to_date: bool = False
    """Compute each period's value over the calendar year's periods up to and including it."""
    offset: Annotated[int, Field(ge=1, le=120)] | typing.Literal["year"] | None = None
    """Give each period the value of the period N before it, or `year` for the same period a year before."""

    @model_validator(mode="after")
    def _one_kind(self) -> Measure:
        kinds = [k for k in MEASURE_KINDS if getattr(self, k) is not None]
        if len(kinds) != 1:
            found = ", ".join(kinds) or "none"
            raise ValueError(f"give exactly one of aggregate, ratio, duration or derived (found: {found})")
        if self.derived is not None and (self.window or self.year_to_date or self.offset):
            raise ValueError("a derived measure takes its operands' periods; give `window`, `year_to_date` or "
                             "`offset` to the KPIs it is derived from")
        if self.window is not None and self.year_to_date:
            raise ValueError("give either `window` (trailing periods) or `year_to_date`, not both")
        return self

    @property
    def kind(self) -> str:
        """aggregate, ratio, duration or derived."""
        return next(k for k in MEASURE_KINDS if getattr(self, k) is not None)

    @property
    def aggregates(self) -> list[Aggregate]:
        """The aggregations the measure needs (none for duration and derived)."""
        if self.aggregate is not None:
            return [self.aggregate]
        return [self.ratio.numerator, self.ratio.denominator] if self.ratio is not None else []

    @property
    def sources(self) -> list[str]:
        """Names of the sources it reads, in order, without repeats."""
        names = [a.source for a in self.aggregates] + ([self.duration.source] if self.duration else [])
        return list(dict.fromkeys(names))

    def digest(self, extra: object = None) -> str:
        """A short hash of the definition (and of `extra`, e.g. the sources and frequency it depends on)."""
        payload = json.dumps([self.model_dump(mode="json", exclude_defaults=True), extra], sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


# --- filters -------------------------------------------------------------------------------------------------

class FilterError(KpiWorkbookError, ValueError):
    """A filter or derived expression that does not parse; the message says what is allowed."""

    code = Code.INPUT_FILTER


@dataclass(frozen=True)
class Column:
    """A column named in a filter."""

    name: str


@dataclass(frozen=True)
class Literal:
    """A constant in a filter: text, number, true/false, null, or a tuple of those (for `in`)."""

    value: object


@dataclass(frozen=True)
class Span:
    """The time from one date column to another in a filter, `days(start, end)` or `hours(start, end)`."""

    unit: str
    start: str
    end: str


@dataclass(frozen=True)
class Compare:
    """`left op right`; op is one of ==, !=, <, <=, >, >=, in, not in."""

    left: Column | Literal | Span
    op: str
    right: Column | Literal | Span


@dataclass(frozen=True)
class Logical:
    """`and` / `or` of several conditions, or `not` of one."""

    op: str
    items: tuple[Condition, ...]


Condition = Compare | Logical

_COMPARISONS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=",
                ast.In: "in", ast.NotIn: "not in"}
_NAMED_CONSTANTS = {"null": None, "true": True, "false": False}
FILTER_HELP = ('write comparisons of columns with text in quotes, numbers, true, false or null, joined by and, or, '
               'not, e.g. stage == "won" and amount >= 1000, or region in ("West", "North"), or the time between two '
               'date columns with a number, e.g. days(opened_on, closed_on) <= 30 (or hours(...)); a column name '
               'with spaces or symbols goes in backticks, e.g. `Ship Mode` == "First Class"')
SPAN_UNITS = ("days", "hours")
_QUOTED_NAME = "__column_{}"  # what a backticked column name stands as while Python's parser reads the filter


def _span(node: ast.Call, text: str) -> Span:
    unit = node.func.id if isinstance(node.func, ast.Name) else ""
    if unit not in SPAN_UNITS or getattr(node.func, "quoted", False):
        raise FilterError(f"'{text}': '{ast.unparse(node.func)}' is not a function of filters (only days(start, end) "
                          f"and hours(start, end)); {FILTER_HELP}")
    columns = [a.id for a in node.args if isinstance(a, ast.Name)]
    if node.keywords or len(node.args) != 2 or len(columns) != 2:
        raise FilterError(f"'{text}': {unit}() takes two date columns, e.g. {unit}(opened_on, closed_on)")
    return Span(unit, columns[0], columns[1])


def _operand(node: ast.expr, text: str) -> Column | Literal | Span:
    if isinstance(node, ast.Call):
        return _span(node, text)
    if isinstance(node, ast.Name):
        if node.id in _NAMED_CONSTANTS and not getattr(node, "quoted", False):
            return Literal(_NAMED_CONSTANTS[node.id])
        return Column(node.id)
    if isinstance(node, ast.Constant) and isinstance(node.value, str | int | float | bool) or (
            isinstance(node, ast.Constant) and node.value is None):
        return Literal(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) \
            and isinstance(node.operand.value, int | float) and not isinstance(node.operand.value, bool):
        return Literal(-node.operand.value)
    if isinstance(node, ast.Tuple | ast.List):
        items = [_operand(e, text) for e in node.elts]
        constants = [i for i in items if isinstance(i, Literal)]
        if len(constants) != len(items):
            raise FilterError(f"'{text}': a list in a filter holds only constants")
        return Literal(tuple(i.value for i in constants))
    raise FilterError(f"'{text}': '{ast.unparse(node)}' is not a column or a constant; {FILTER_HELP}")


def _condition(node: ast.expr, text: str) -> Condition:
    if isinstance(node, ast.BoolOp):
        return Logical("and" if isinstance(node.op, ast.And) else "or",
                       tuple(_condition(v, text) for v in node.values))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return Logical("not", (_condition(node.operand, text),))
    if isinstance(node, ast.Compare):
        parts = [node.left, *node.comparators]
        items = []
        for left, op, right in zip(parts, node.ops, parts[1:], strict=False):
            if type(op) not in _COMPARISONS:
                raise FilterError(f"'{text}': '{ast.unparse(node)}' uses an operator filters do not have; "
                                  f"{FILTER_HELP}")
            a, b = _operand(left, text), _operand(right, text)
            if not isinstance(a, Column | Span) and not isinstance(b, Column | Span):
                raise FilterError(f"'{text}': '{ast.unparse(node)}' compares no column")
            symbol = _COMPARISONS[type(op)]
            spans = [side for side in (a, b) if isinstance(side, Span)]
            number = next((s.value for s in (a, b) if isinstance(s, Literal)), None)
            if spans and (len(spans) == 2 or not isinstance(number, int | float) or isinstance(number, bool)
                          or symbol in ("in", "not in")):
                raise FilterError(f"'{text}': {spans[0].unit}(...) is compared with a number, e.g. "
                                  f"{spans[0].unit}({spans[0].start}, {spans[0].end}) <= 2")
            if symbol in ("in", "not in") and not (isinstance(b, Literal) and isinstance(b.value, tuple)):
                raise FilterError(f"'{text}': '{symbol}' needs a list such as (\"won\", \"lost\")")
            items.append(Compare(a, symbol, b))
        return items[0] if len(items) == 1 else Logical("and", tuple(items))
    raise FilterError(f"'{text}' is not a condition; {FILTER_HELP}")


def _backticked_names(text: str) -> tuple[str, dict[str, str]]:
    """The filter with each `quoted column name` (outside text in quotes) replaced by a placeholder name, and the
    names each placeholder stands for."""
    out: list[str] = []
    names: dict[str, str] = {}
    quote, i = "", 0
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\":
                out.append(text[i:i + 2])
                i += 2
                continue
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "`":
            end = text.find("`", i + 1)
            if end < 0:
                raise FilterError(f"'{text}': a column name in backticks is not closed; {FILTER_HELP}")
            name = text[i + 1:end]
            if not name.strip():
                raise FilterError(f"'{text}': empty backticks name no column; {FILTER_HELP}")
            placeholder = _QUOTED_NAME.format(len(names))
            names[placeholder] = name
            out.append(f" {placeholder} ")
            i = end + 1
            continue
        out.append(char)
        i += 1
    return "".join(out), names


class _Renamed(ast.NodeTransformer):
    """Puts the column names that backticks quoted back in place of their placeholders."""

    def __init__(self, names: dict[str, str]):
        self.names = names

    def visit_Name(self, node: ast.Name) -> ast.Name:
        if node.id not in self.names:
            return node
        renamed = ast.copy_location(ast.Name(id=self.names[node.id], ctx=node.ctx), node)
        # a column even when named like a constant (`null`): a mark of this node that ast.Name does not declare
        vars(renamed)["quoted"] = True
        return renamed


MAX_EXPRESSION_CHARS = 20_000
MAX_EXPRESSION_PARTS = 200  # conditions of a filter, operations of a derived expression
_LARGEST_INTEGER = 2**63 - 1  # what every engine stores as a whole number


def _short(text: str, width: int = 80) -> str:
    return text if len(text) <= width else f"{text[:width - 1]}… ({len(text):,} characters)"


def _parsed_expression(text: str, helper: str) -> ast.expr:
    """Python's parse of `text` (mode eval), refusing what no engine could run: too long, too deep, numbers too
    large."""
    if len(text) > MAX_EXPRESSION_CHARS:
        raise FilterError(f"'{_short(text)}' is longer than {MAX_EXPRESSION_CHARS:,} characters; split the rule into "
                          "smaller measures (e.g. a source's where: and the KPI's filter)")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise FilterError(f"'{_short(text)}' does not parse ({exc.msg}); {helper}") from None
    except (RecursionError, MemoryError, ValueError) as exc:  # nesting too deep, an integer of > 4300 digits
        raise FilterError(f"'{_short(text)}' does not parse ({exc}); {helper}") from None
    parts = sum(isinstance(n, ast.cmpop | ast.UnaryOp | ast.BinOp | ast.BoolOp) for n in ast.walk(tree))
    if parts > MAX_EXPRESSION_PARTS:
        raise FilterError(f"'{_short(text)}' has {parts:,} operations; at most {MAX_EXPRESSION_PARTS} are allowed: "
                          "use `in (...)` for a list of values, or split the rule into smaller measures")
    for node in ast.walk(tree):
        number = node.value if isinstance(node, ast.Constant) else None
        if isinstance(number, int) and not isinstance(number, bool) and abs(number) > _LARGEST_INTEGER or (
                isinstance(number, float) and not math.isfinite(number)):
            raise FilterError(f"'{_short(text)}': the number {_short(str(number), 24)} is too large for any "
                              f"engine; numbers are at most {_LARGEST_INTEGER:,}")
    return tree


def _parse(text: str) -> ast.expr:
    plain, names = _backticked_names(text)
    tree = _parsed_expression(plain, FILTER_HELP)
    return _Renamed(names).visit(tree) if names else tree


def parse_filter(text: str) -> Condition:
    """The condition tree of a filter such as ``stage == "won" and amount > 0``; FilterError if it does not parse."""
    return _condition(_parse(text), text)


def filter_columns(condition: Condition) -> set[str]:
    """The columns a condition reads."""
    if isinstance(condition, Logical):
        return set().union(*(filter_columns(c) for c in condition.items))
    names = set()
    for side in (condition.left, condition.right):
        if isinstance(side, Column):
            names.add(side.name)
        elif isinstance(side, Span):
            names |= {side.start, side.end}
    return names


# --- derived expressions -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Operation:
    """An arithmetic operation of a derived measure: +, -, *, / on two operands, or unary '-'."""

    op: str
    items: tuple[Term, ...]


Term = Operation | Column | Literal
_ARITHMETIC = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
DERIVED_HELP = "write KPI ids and numbers joined by + - * / and parentheses, e.g. new_business_revenue / headcount"


def _term(node: ast.expr, text: str) -> Term:
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        return Operation(_ARITHMETIC[type(node.op)], (_term(node.left, text), _term(node.right, text)))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return Operation("-", (_term(node.operand, text),))
    if isinstance(node, ast.Name):
        return Column(node.id)
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return Literal(float(node.value))
    raise FilterError(f"'{text}': '{ast.unparse(node)}' is not allowed; {DERIVED_HELP}")


def parse_derived(text: str) -> Term:
    """The arithmetic tree of a derived measure; its names (Column) are KPI ids. FilterError if it does not parse."""
    return _term(_parsed_expression(text, DERIVED_HELP), text)


def derived_kpis(term: Term) -> list[str]:
    """The KPI ids a derived expression uses, in order."""
    if isinstance(term, Operation):
        return list(dict.fromkeys(k for item in term.items for k in derived_kpis(item)))
    return [term.name] if isinstance(term, Column) else []
