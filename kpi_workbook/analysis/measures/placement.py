"""Placing a source's rows in periods, against the period calendar (a time spine).

A row is placed by a date column (the source's `when`, or the aggregate's own `date`), over one period or over each
window that holds it (trailing periods, the year to date, or periods before, for an offset); a headcount instead
counts the rows whose validity span holds the days it counts.
The periods a query gives are those the source's records cover (from their first date to the export's `as_of` day
or their last date) within the span asked for, so a period without rows is still a period: counts and sums in it
are 0, not missing.
"""

from __future__ import annotations

__all__ = [
    "NEVER", "Placement", "SLOT", "counted_together", "coverage", "dated", "period_slots", "periods_frame", "placed",
    "placement_of", "target_periods", "weight_column",
]

import datetime as dt
from dataclasses import dataclass
from functools import partial
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from kpi_workbook.analysis.measures.shapes import spec_misfits
from kpi_workbook.core.errors import InputError, Problem
from kpi_workbook.core.measures import Aggregate, At, Duration, Function, Measure
from kpi_workbook.core.model import Frequency
from kpi_workbook.core.periods import Period, calendar, month_ends, next_period
from kpi_workbook.workspace.sources import SPAN_END, SPAN_START, WHEN, ReadSource, Source

#: The column a calendar join adds to each row: its period's position among the query's periods (a number is lighter
#: to carry through the join and to group by than the period's label and first day, which `period_slots` holds).
SLOT = "__slot"
#: A period's label and first day.
LABEL, PERIOD_START = "__label", "__period_start"
#: An end of span after every date: an open span (no end) compared as one that never ends.
NEVER = dt.date(9999, 12, 31)


def weight_column(at: At) -> str:
    """The column of a row's weight in a headcount counted `at` (0 on the days that headcount does not count)."""
    return f"__weight_{at.value}"


def counted_together(at: At) -> frozenset[At]:
    """The headcounts whose days one calendar join serves: those counted on a period's last day or its month ends
    (a period counts only once the records reach its last day), and those on its first day."""
    return frozenset({At.START}) if at is At.START else frozenset({At.END, At.AVERAGE, At.MONTH_ENDS})


@dataclass(frozen=True)
class Placement:
    """How one query places its source's rows: by the date column `date`, or (headcounts) on the days of the ways of
    counting `at`, one weight column each; in one period, or in each window that holds it: the trailing `window`
    periods, the year to date, and `offset` periods (or a year) before the period the value is for."""

    date: str | None = None
    at: frozenset[At] | None = None
    window: int | None = None
    year_to_date: bool = False
    offset: int | str | None = None

    @property
    def by_calendar(self) -> bool:
        """Whether rows are placed by a join with the calendar (headcounts, windows, offsets) rather than by the
        period keys of their date."""
        return self.at is not None or bool(self.window or self.year_to_date or self.offset)

    def sources(self, period: Period) -> list[Period]:
        """The periods whose rows make `period`'s value, in order (the period alone unless windowed or offset)."""
        back = self.offset if isinstance(self.offset, int) else _PER_YEAR[period.frequency] if self.offset else 0
        last = next_period(period, -back)
        if self.year_to_date:
            periods = [last]
            while next_period(periods[0], -1).label[:4] == last.label[:4]:
                periods.insert(0, next_period(periods[0], -1))
            return periods
        return [next_period(last, -before) for before in range((self.window or 1) - 1, -1, -1)]


#: Periods in a year, for `offset: year` (a week 52 weeks before).
_PER_YEAR = {Frequency.YEARLY: 1, Frequency.HALF_YEARLY: 2, Frequency.QUARTERLY: 4, Frequency.MONTHLY: 12,
             Frequency.WEEKLY: 52}


def placement_of(spec: Aggregate | Duration, measure: Measure, source: Source, kpi: str, field: str,
                 counted: frozenset[At] = frozenset()) -> Placement:
    """The placement of one aggregation of a measure; InputError naming the KPI when the source cannot place it. A
    headcount's query also serves the `counted` ways of counting of the run's other headcounts that go together."""
    misfits = spec_misfits(source, spec, measure, field)
    if misfits:
        raise InputError([Problem(file="kpis.yaml", entry=f"KPI '{kpi}'", field=f"measure.{m.field}",
                                  message=f"{m.message}; {m.fix}") for m in misfits])
    shifted = partial(Placement, window=measure.window, year_to_date=measure.year_to_date, offset=measure.offset)
    if isinstance(spec, Aggregate) and spec.function is Function.HEADCOUNT:
        return shifted(at=frozenset({spec.counted_at}) | (counted & counted_together(spec.counted_at)))
    return shifted(date=spec.date if isinstance(spec, Aggregate) else None)


def coverage(read: ReadSource, date: str | None = None) -> tuple[dt.date, dt.date] | None:
    """The first and last day the source's records cover (None: it has no dated row): from its `covers_from` day, or
    else its earliest date (of `when`, the validity spans and the `date` column a measure places rows by), to its
    `as_of` day, or else its latest date (one query where the records are)."""
    source, table = read.source, read.table
    snapshot = source.fixed_period
    if snapshot is not None:
        return snapshot.start, snapshot.end
    dates = [table[c] for c in (WHEN, SPAN_START, SPAN_END) if c in table.columns]
    if date is not None:
        dates.append(_as_date(table[date]))
    bounds = table.aggregate(**{f"__min{i}": d.min() for i, d in enumerate(dates)},
                             **{f"__max{i}": d.max() for i, d in enumerate(dates)}).to_pyarrow().to_pylist()[0]
    firsts = [_day(v) for k, v in bounds.items() if k.startswith("__min") and v is not None]
    lasts = [_day(v) for k, v in bounds.items() if k.startswith("__max") and v is not None]
    if not firsts:
        return None
    return source.covers_from or min(firsts), source.as_of or max(lasts)


def _as_date(column: Any) -> Any:
    """A date or date-time column as dates."""
    return column.cast("date") if column.type().is_timestamp() else column


def _day(value: Any) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def target_periods(frequency: Frequency, covered: tuple[dt.date, dt.date] | None,
                   span: tuple[dt.date, dt.date] | None, placement: Placement) -> list[Period]:
    """The periods a query gives values for: those the records cover within `span`; a window's first periods only
    once the window lies inside the records, a headcount's only when the records reach the days it counts."""
    if covered is None:
        return []
    periods = calendar(frequency, *covered)
    first = periods[0].start if periods else covered[0]
    periods = [p for p in periods if placement.sources(p)[0].start >= first]
    if placement.at is not None:
        periods = [p for p in periods if max(day for at in placement.at
                                             for day, _ in _points(placement.sources(p)[-1], at)) <= covered[1]]
    if span is not None:
        periods = [p for p in periods if span[0] <= p.start and p.end <= span[1]]
    return periods


def _points(period: Period, at: At) -> list[tuple[dt.date, float]]:
    """The days a headcount counts in a period, each with its weight in the period's value."""
    if at is At.END:
        return [(period.end, 1.0)]
    if at is At.START:
        return [(period.start, 1.0)]
    if at is At.AVERAGE:
        return [(period.start, 0.5), (period.end, 0.5)]
    ends = month_ends(period)
    return [(day, 1.0 / len(ends)) for day in ends]


def placed(table: ir.Table, placement: Placement, periods: list[Period]) -> ir.Table:
    """The rows of `table` each with the position (SLOT, see period_slots) of every target period it counts in and,
    for headcounts, its weight there in each (weight_column): a calendar join run where the records are."""
    if placement.at is not None:
        ats = sorted(placement.at)
        weights: dict[tuple[int, dt.date], list[float]] = {}
        for slot, p in enumerate(periods):
            windows = placement.sources(p)
            for index, at in enumerate(ats):
                for w in windows:
                    for day, weight in _points(w, at):
                        weights.setdefault((slot, day), [0.0] * len(ats))[index] += weight / len(windows)
        frame = pd.DataFrame([(*key, *values) for key, values in weights.items()],
                             columns=[SLOT, "__day", *map(weight_column, ats)])
        days = ibis.memtable(frame.astype({SLOT: "int32", "__day": "datetime64[s]"}))
        days = days.mutate(__day=days["__day"].cast("date"))
        start = table[SPAN_START]
        end = table[SPAN_END].fill_null(NEVER) if SPAN_END in table.columns else None
        active = start <= days["__day"]  # two inequalities, no OR: the engine's range join (IEJoin) takes them
        if end is not None:
            active = active & (end >= days["__day"])
        return table.join(days, active).drop("__day")
    frame = pd.DataFrame([(slot, placement.sources(p)[0].start, placement.sources(p)[-1].end)
                          for slot, p in enumerate(periods)], columns=[SLOT, "__first", "__last"])
    bounds = ibis.memtable(frame.astype({SLOT: "int32", "__first": "datetime64[s]", "__last": "datetime64[s]"}))
    bounds = bounds.mutate(**{c: bounds[c].cast("date") for c in ("__first", "__last")})
    when = table[WHEN]
    return table.join(bounds, (when >= bounds["__first"]) & (when <= bounds["__last"])).drop("__first", "__last")


def period_slots(periods: list[Period]) -> ir.Table:
    """The label (LABEL) and first day (PERIOD_START) of each period of a calendar join by its position (SLOT)."""
    frame = pd.DataFrame({SLOT: range(len(periods)), LABEL: [p.label for p in periods],
                          PERIOD_START: pd.to_datetime([p.start for p in periods]).astype("datetime64[s]")})
    slots = ibis.memtable(frame.astype({SLOT: "int32"}))
    return slots.mutate(**{PERIOD_START: slots[PERIOD_START].cast("date")})


def dated(table: ir.Table, placement: Placement) -> ir.Table:
    """`table` with WHEN taken from the placement's date column (rows without a date there left out: not yet)."""
    if placement.date is None:
        return table
    day = _as_date(table[placement.date])
    return table.mutate(**{WHEN: day}).filter(day.notnull())


def periods_frame(periods: list[Period]) -> pd.DataFrame:
    """Label and first day of each period, for the spine of zero groups."""
    return pd.DataFrame({"period": [p.label for p in periods],
                         PERIOD_START: pd.to_datetime([p.start for p in periods]).astype("datetime64[s]")})
