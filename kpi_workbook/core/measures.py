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

A headcount counts the rows of a source with validity spans (`start`/`end` in sources.yaml) that are active on given
days of each period; `date` places each row in a period by another date column than the source's `when` (rows
without a date there are not events yet); `window` aggregates the trailing periods instead of one.

Filters (``where``) and derived expressions are parsed with Python's ``ast`` into small trees; nothing is ever
evaluated as code.
"""

from __future__ import annotations

import ast
import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field, model_validator

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


class Aggregate(_Strict):
    """An aggregation of a source's rows: `function` of `column` over the rows matching `where`, each row placed in
    a period by its `date` (the source's `when` unless given). A headcount counts the rows active on the days `at`
    says (or sums `column` over them, e.g. FTE)."""

    source: SourceName
    function: Function
    column: ColumnName | None = None
    where: str | None = None
    date: ColumnName | None = None
    at: At | None = None

    @model_validator(mode="after")
    def _column_needed(self) -> Aggregate:
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
        else:
            what = f"{self.function.value.replace('_', ' ')} of {self.column}" if self.column else "number of rows"
            text = f"{what} in {self.source}" + (f" by {self.date}" if self.date else "")
        return text + (f" where {self.where}" if self.where else "")


class Ratio(_Strict):
    """A ratio of two aggregations; no data when the denominator is 0."""

    numerator: Aggregate
    denominator: Aggregate


class Duration(_Strict):
    """Time from a start date column to an end date column of each row, aggregated (rows without both are left out)."""

    source: SourceName
    start: ColumnName
    end: ColumnName
    function: Function = Function.MEDIAN
    unit: DurationUnit = DurationUnit.DAYS
    where: str | None = None

    @model_validator(mode="after")
    def _numeric(self) -> Duration:
        if self.function not in NUMERIC_FUNCTIONS:
            raise ValueError(f"a duration is aggregated with sum, mean, median, min or max, not '{self.function}'")
        return self


class Measure(_Strict):
    """How a KPI's value is computed: exactly one of aggregate, ratio, duration or derived, per employee or team."""

    aggregate: Aggregate | None = None
    ratio: Ratio | None = None
    duration: Duration | None = None
    derived: str | None = None
    per: Per = Per.EMPLOYEE
    scale: float = Field(default=1.0, allow_inf_nan=False, gt=0)
    unit: str | None = None
    polarity: str | None = None
    window: int | None = Field(default=None, ge=2, le=120)

    @model_validator(mode="after")
    def _one_kind(self) -> Measure:
        kinds = [k for k in ("aggregate", "ratio", "duration", "derived") if getattr(self, k) is not None]
        if len(kinds) != 1:
            found = ", ".join(kinds) or "none"
            raise ValueError(f"give exactly one of aggregate, ratio, duration or derived (found: {found})")
        if self.window is not None and self.derived is not None:
            raise ValueError("a derived measure takes its operands' windows; give `window` to the operands")
        return self

    @property
    def kind(self) -> str:
        """aggregate, ratio, duration or derived."""
        return next(k for k in ("aggregate", "ratio", "duration", "derived") if getattr(self, k) is not None)

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

    def describe(self) -> str:
        """The measure in words, for step 3's tables and reports."""
        scale = f" × {self.scale:g}" if self.scale != 1 else ""
        if self.aggregate is not None:
            text = self.aggregate.describe()
        elif self.ratio is not None:
            text = f"({self.ratio.numerator.describe()}) / ({self.ratio.denominator.describe()})"
        elif self.duration is not None:
            d = self.duration
            text = (f"{d.function.value} {d.unit.value} from {d.start} to {d.end} in {d.source}"
                    + (f" where {d.where}" if d.where else ""))
        else:
            text = f"derived: {self.derived}"
        window = f" over the trailing {self.window} periods" if self.window else ""
        return f"{text}{scale}{window}, per {self.per.value}"

    def digest(self, extra: object = None) -> str:
        """A short hash of the definition (and of `extra`, e.g. the sources and frequency it depends on)."""
        payload = json.dumps([self.model_dump(mode="json"), extra], sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


# --- filters -------------------------------------------------------------------------------------------------

class FilterError(ValueError):
    """A filter or derived expression that does not parse; the message says what is allowed."""


@dataclass(frozen=True)
class Column:
    """A column named in a filter."""

    name: str


@dataclass(frozen=True)
class Literal:
    """A constant in a filter: text, number, true/false, null, or a tuple of those (for `in`)."""

    value: object


@dataclass(frozen=True)
class Compare:
    """`left op right`; op is one of ==, !=, <, <=, >, >=, in, not in."""

    left: Column | Literal
    op: str
    right: Column | Literal


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
               'not, e.g. stage == "won" and amount >= 1000, or region in ("West", "North"); a column name with '
               'spaces or symbols goes in backticks, e.g. `Ship Mode` == "First Class"')
_QUOTED_NAME = "__column_{}"  # what a backticked column name stands as while Python's parser reads the filter


def _operand(node: ast.expr, text: str) -> Column | Literal:
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
        if not all(isinstance(i, Literal) for i in items):
            raise FilterError(f"'{text}': a list in a filter holds only constants")
        return Literal(tuple(i.value for i in items))
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
            if not isinstance(a, Column) and not isinstance(b, Column):
                raise FilterError(f"'{text}': '{ast.unparse(node)}' compares no column")
            symbol = _COMPARISONS[type(op)]
            if symbol in ("in", "not in") and not (isinstance(b, Literal) and isinstance(b.value, tuple)):
                raise FilterError(f"'{text}': '{symbol}' needs a list such as (\"won\", \"lost\")")
            items.append(Compare(a, symbol, b))
        return items[0] if len(items) == 1 else Logical("and", tuple(items))
    raise FilterError(f"'{text}' is not a condition; {FILTER_HELP}")


def _backticked_names(text: str) -> tuple[str, dict[str, str]]:
    """The filter with each `quoted column name` (outside text in quotes) replaced by a placeholder name, and the
    names each placeholder stands for."""
    out, names, quote, i = [], {}, "", 0
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
        renamed.quoted = True  # a column even when named like a constant (`null`)
        return renamed


def _parse(text: str) -> ast.expr:
    plain, names = _backticked_names(text)
    try:
        tree = ast.parse(plain.strip(), mode="eval").body
    except SyntaxError as exc:
        raise FilterError(f"'{text}' does not parse ({exc.msg}); {FILTER_HELP}") from None
    return _Renamed(names).visit(tree) if names else tree


def parse_filter(text: str) -> Condition:
    """The condition tree of a filter such as ``stage == "won" and amount > 0``; FilterError if it does not parse."""
    return _condition(_parse(text), text)


def filter_columns(condition: Condition) -> set[str]:
    """The columns a condition reads."""
    if isinstance(condition, Logical):
        return set().union(*(filter_columns(c) for c in condition.items))
    return {side.name for side in (condition.left, condition.right) if isinstance(side, Column)}


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
    try:
        return _term(ast.parse(text.strip(), mode="eval").body, text)
    except SyntaxError as exc:
        raise FilterError(f"'{text}' does not parse ({exc.msg}); {DERIVED_HELP}") from None


def derived_kpis(term: Term) -> list[str]:
    """The KPI ids a derived expression uses, in order."""
    if isinstance(term, Operation):
        return list(dict.fromkeys(k for item in term.items for k in derived_kpis(item)))
    return [term.name] if isinstance(term, Column) else []
