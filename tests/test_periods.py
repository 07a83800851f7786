"""Periods: accepted spellings, canonical labels, first and last days, order and errors."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import pytest

from kpi_workbook.core.errors import InputError
from kpi_workbook.core.model import Frequency
from kpi_workbook.core.periods import Period, PeriodError, parse_period, period_table, sort_periods


@pytest.mark.parametrize(("text", "label", "start", "end", "frequency"), [
    ("2026Q3", "2026Q3", "2026-07-01", "2026-09-30", Frequency.QUARTERLY),
    ("2026-Q3", "2026Q3", "2026-07-01", "2026-09-30", Frequency.QUARTERLY),
    ("q3 2026", "2026Q3", "2026-07-01", "2026-09-30", Frequency.QUARTERLY),
    (" Q1-2025 ", "2025Q1", "2025-01-01", "2025-03-31", Frequency.QUARTERLY),
    ("2026-09", "2026-09", "2026-09-01", "2026-09-30", Frequency.MONTHLY),
    ("2026-9", "2026-09", "2026-09-01", "2026-09-30", Frequency.MONTHLY),
    ("2024/02", "2024-02", "2024-02-01", "2024-02-29", Frequency.MONTHLY),
    ("2026-12", "2026-12", "2026-12-01", "2026-12-31", Frequency.MONTHLY),
    ("2026-09-30", "2026-09", "2026-09-01", "2026-09-30", Frequency.MONTHLY),
    ("2026H2", "2026H2", "2026-07-01", "2026-12-31", Frequency.HALF_YEARLY),
    ("H1 2026", "2026H1", "2026-01-01", "2026-06-30", Frequency.HALF_YEARLY),
    ("2026", "2026", "2026-01-01", "2026-12-31", Frequency.YEARLY),
    ("FY2026", "2026", "2026-01-01", "2026-12-31", Frequency.YEARLY),
    ("2026-W01", "2026-W01", "2025-12-29", "2026-01-04", Frequency.WEEKLY),
    ("2026w5", "2026-W05", "2026-01-26", "2026-02-01", Frequency.WEEKLY),
])
def test_accepted_spellings_give_canonical_periods(text, label, start, end, frequency):
    period = parse_period(text)
    assert period.label == label
    assert period.start == dt.date.fromisoformat(start)
    assert period.end == dt.date.fromisoformat(end)
    assert period.frequency is frequency
    assert str(period) == label
    assert parse_period(label) == period


def test_a_date_object_means_its_month_and_a_period_passes_through():
    assert parse_period(dt.date(2025, 11, 3)).label == "2025-11"
    assert parse_period(dt.datetime(2025, 11, 30, 0, 0)).label == "2025-11"
    period = parse_period("2025Q4")
    assert parse_period(period) is period


@pytest.mark.parametrize(("text", "message"), [
    ("2026Q5", "not a period"),
    ("2026-13", "month 13 is not between 1 and 12"),
    ("2026-00", "month 0"),
    ("2026-02-30", "not a valid period"),
    ("2026-W54", "week 54 does not exist"),
    ("sometime", "not a period"),
    ("", "not a period"),
    ("26Q3", "not a period"),
])
def test_bad_periods_raise_a_value_error_naming_the_text_and_the_forms(text, message):
    with pytest.raises(PeriodError) as caught:
        parse_period(text)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value, InputError)
    assert message in str(caught.value)
    assert f"'{text}'" in str(caught.value)
    if message == "not a period":
        assert "2026Q3" in str(caught.value) and "2026-09" in str(caught.value)


def test_periods_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        parse_period("2026Q3").label = "2026Q4"  # type: ignore[misc]
    assert isinstance(parse_period("2026Q3"), Period)


def test_sort_periods_is_chronological_with_shorter_periods_first_on_the_same_start():
    labels = ["2026", "2026Q1", "2025-12", "2026-01", "2025H2", "2025 Q4", "2024Q2"]
    assert sort_periods(labels) == ["2024Q2", "2025H2", "2025Q4", "2025-12", "2026-01", "2026Q1", "2026"]
    quarters = [f"{y}Q{q}" for y in (2025, 2024) for q in (4, 3, 2, 1)]
    assert sort_periods(quarters) == sorted(quarters)


def test_period_table_parses_a_column_once_per_distinct_value():
    values = pd.Series(["2025Q1", "2025-Q1", "nonsense", None, "2025-03-31"], index=[10, 11, 12, 13, 14])
    table = period_table(values)
    assert list(table.index) == [10, 11, 12, 13, 14]
    assert table["label"].tolist()[:2] == ["2025Q1", "2025Q1"]
    assert table["label"].isna().tolist() == [False, False, True, True, False]
    assert table.loc[14, "label"] == "2025-03"
    assert table.loc[10, "start"] == pd.Timestamp("2025-01-01")
