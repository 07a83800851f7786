"""Reporting periods: parse labels such as 2026Q3, 2026-09, 2026H2, 2026 or 2026-W05 into canonical periods."""

from __future__ import annotations

__all__ = [
    "EXAMPLES", "Period", "PeriodError", "calendar", "month_ends", "next_period", "parse_period", "period_of",
    "period_table", "sort_periods",
]

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from kpi_workbook.core.errors import InputError
from kpi_workbook.core.issue_codes import Code
from kpi_workbook.core.model import Frequency

EXAMPLES = "2026Q3 (quarter), 2026-09 (month), 2026H2 (half year), 2026 (year) or 2026-W05 (ISO week)"

_SEP = r"[\s\-/_]?"
_PATTERNS: list[tuple[Frequency | None, re.Pattern[str]]] = [
    (Frequency.YEARLY, re.compile(r"(?:FY)?(?P<year>\d{4})")),
    (Frequency.QUARTERLY, re.compile(rf"(?P<year>\d{{4}}){_SEP}Q(?P<n>[1-4])|Q(?P<n2>[1-4]){_SEP}(?P<year2>\d{{4}})")),
    (Frequency.HALF_YEARLY, re.compile(rf"(?P<year>\d{{4}}){_SEP}H(?P<n>[12])|H(?P<n2>[12]){_SEP}(?P<year2>\d{{4}})")),
    (Frequency.MONTHLY, re.compile(r"(?P<year>\d{4})[\-/](?P<n>\d{1,2})")),
    (Frequency.WEEKLY, re.compile(rf"(?P<year>\d{{4}}){_SEP}W(?P<n>\d{{1,2}})")),
    (None, re.compile(r"(?P<year>\d{4})-(?P<n>\d{2})-(?P<day>\d{2})(?:[T ]00:00(?::00)?)?")),
]


class PeriodError(InputError, ValueError):
    """A text that is not a period; the message says which forms are accepted."""

    def __init__(self, message: str):
        super().__init__(message, code=Code.INPUT_PERIOD)


@dataclass(frozen=True)
class Period:
    """A reporting period: its canonical label, first and last day, and how often such periods recur."""

    label: str
    start: dt.date
    end: dt.date
    frequency: Frequency

    def __str__(self) -> str:
        return self.label

    @property
    def sort_key(self) -> tuple[dt.date, dt.date, str]:
        """Chronological order: by first day, then shorter periods first."""
        return self.start, self.end, self.label


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)


def _build(frequency: Frequency, year: int, n: int) -> Period:
    if frequency is Frequency.YEARLY:
        return Period(f"{year}", dt.date(year, 1, 1), dt.date(year, 12, 31), frequency)
    if frequency is Frequency.QUARTERLY:
        first = 3 * n - 2
        return Period(f"{year}Q{n}", dt.date(year, first, 1), _month_end(year, first + 2), frequency)
    if frequency is Frequency.HALF_YEARLY:
        first = 6 * n - 5
        return Period(f"{year}H{n}", dt.date(year, first, 1), _month_end(year, first + 5), frequency)
    if frequency is Frequency.MONTHLY:
        if not 1 <= n <= 12:
            raise ValueError(f"month {n} is not between 1 and 12")
        return Period(f"{year}-{n:02d}", dt.date(year, n, 1), _month_end(year, n), frequency)
    try:
        monday = dt.date.fromisocalendar(year, n, 1)
    except ValueError:
        raise ValueError(f"week {n} does not exist in ISO year {year}") from None
    return Period(f"{year}-W{n:02d}", monday, monday + dt.timedelta(days=6), frequency)


def parse_period(text: str | Period | dt.date) -> Period:
    """Parse a period label; raise PeriodError (a ValueError) naming the text and the accepted forms.

    Accepted (case-insensitive, surrounding spaces ignored): years ``2026`` (or ``FY2026``), quarters ``2026Q3``,
    ``2026-Q3``, ``Q3 2026``; half years ``2026H2``, ``H2 2026``; months ``2026-09``, ``2026-9``, ``2026/09``;
    ISO weeks ``2026-W05``, ``2026W5``. A calendar date such as ``2026-09-30`` (or a date object) means the month
    it falls in (``2026-09``), since exports often stamp a month with its last day. Canonical labels are
    ``2026``, ``2026Q3``, ``2026H2``, ``2026-09`` and ``2026-W05``.
    """
    if isinstance(text, Period):
        return text
    if isinstance(text, dt.date):
        return _build(Frequency.MONTHLY, text.year, text.month)
    raw = str(text).strip()
    cleaned = raw.upper()
    for frequency, pattern in _PATTERNS:
        match = pattern.fullmatch(cleaned)
        if not match:
            continue
        parts = {k: int(v) for k, v in match.groupdict().items() if v is not None}
        year = parts["year"] if "year" in parts else parts["year2"]  # every pattern has one of the two
        n = parts.get("n", parts.get("n2", 0))
        try:
            if frequency is None:
                day = dt.date(year, n, parts["day"])
                return _build(Frequency.MONTHLY, day.year, day.month)
            return _build(frequency, year, n)
        except ValueError as exc:
            raise PeriodError(f"'{raw}' is not a valid period: {exc}") from None
    raise PeriodError(f"'{raw}' is not a period; write e.g. {EXAMPLES}")


def sort_periods(labels: Iterable[str | Period]) -> list[str]:
    """Canonical labels in chronological order (by first day; a month before the quarter starting with it)."""
    return [p.label for p in sorted((parse_period(x) for x in labels), key=lambda p: p.sort_key)]


def period_table(values: pd.Series) -> pd.DataFrame:
    """Canonical label and first day for each value of a column (NA where a value is not a period).

    Parses each distinct value once, so it is cheap on long columns with few periods.
    """
    uniques = pd.Series(pd.unique(values.astype("object")))
    labels, starts = [], []
    for value in uniques:
        try:
            period = None if pd.isna(value) else parse_period(value)
        except PeriodError:
            period = None
        labels.append(period.label if period else None)
        starts.append(period.start if period else None)
    lookup = pd.DataFrame({"label": labels, "start": pd.to_datetime(pd.Series(starts, dtype="object"))})
    index = pd.Index(uniques).get_indexer(values.astype("object"))
    result = lookup.iloc[index].reset_index(drop=True)
    result.index = values.index
    return result


# --- the calendar: every period of a frequency, with its bounds ---------------------------------------------------

_MONTHS_PER = {Frequency.MONTHLY: 1, Frequency.QUARTERLY: 3, Frequency.HALF_YEARLY: 6, Frequency.YEARLY: 12}


def period_of(day: dt.date, frequency: Frequency) -> Period:
    """The period of the frequency that a day falls in."""
    if frequency is Frequency.WEEKLY:
        year, week, _ = day.isocalendar()
        return _build(frequency, year, week)
    months = _MONTHS_PER[frequency]
    return _build(frequency, day.year, (day.month - 1) // months + 1)


def next_period(period: Period, steps: int = 1) -> Period:
    """The period `steps` periods after `period` (before it for a negative number), of the same frequency."""
    if period.frequency is Frequency.WEEKLY:
        return period_of(period.start + dt.timedelta(days=7 * steps), period.frequency)
    months = _MONTHS_PER[period.frequency] * steps
    index = period.start.year * 12 + period.start.month - 1 + months
    return period_of(dt.date(index // 12, index % 12 + 1, 1), period.frequency)


def calendar(frequency: Frequency, first_day: dt.date, last_day: dt.date) -> list[Period]:
    """Every period of the frequency that overlaps the days from `first_day` to `last_day`, in order (a time spine:
    a period without records is still a period)."""
    periods: list[Period] = []
    period = period_of(first_day, frequency)
    while period.start <= last_day:
        periods.append(period)
        period = next_period(period)
    return periods


def month_ends(period: Period) -> list[dt.date]:
    """The last day of every month in a period (for a week: its last day)."""
    if period.frequency is Frequency.WEEKLY:
        return [period.end]
    ends, month = [], period_of(period.start, Frequency.MONTHLY)
    while month.start <= period.end:
        ends.append(month.end)
        month = next_period(month)
    return ends
