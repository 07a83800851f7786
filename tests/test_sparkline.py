"""The trend column of the review's KPI table: each row's actuals over the last periods, drawn as text."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from kpi_workbook.analysis.review import RECENT_PERIODS, kpi_actuals
from kpi_workbook.reports.sparkline import sparkline
from kpi_workbook.reports.tables import EMPTY_TEXT

NAN = math.nan


@pytest.mark.parametrize(("values", "line"), [
    ([1, 2, 3, 4], "▁▃▆█ rising"),
    ([NAN, NAN, 5, 3, NAN, 1], "█▅·▁ falling"),  # before the first value: no trend yet; a gap: a dot
    ([2, 2, 2], "▁▁▁ level"),
    ([4.5, 1, 4.5], "█▁█ level"),
    ([NAN, 7], EMPTY_TEXT),
    ([], EMPTY_TEXT),
])
def test_a_sparkline_draws_the_values_lowest_to_highest_and_says_the_direction(values, line):
    assert sparkline(values) == line


def test_each_row_of_the_board_carries_its_recent_actuals_oldest_first(scored_sample):
    framework, _employees, actuals, scores = scored_sample
    periods = sorted(actuals["period"].astype(str).unique())
    board = kpi_actuals(scores, actuals, framework, periods[-1])
    assert board["recent"].map(len).eq(RECENT_PERIODS).all()
    last = np.array([r[-1] for r in board["recent"]], dtype=float)
    before = np.array([r[-2] for r in board["recent"]], dtype=float)
    np.testing.assert_allclose(last, board["actual"].to_numpy(dtype=float), equal_nan=True)
    np.testing.assert_allclose(before, board["previous_actual"].to_numpy(dtype=float), equal_nan=True)
    # an earlier period, straight from the scores: the median of the people's values of a person-level KPI
    row = board[board["basis"] == "median"].iloc[0]
    people = scores[(scores["period"].astype(str) == periods[-RECENT_PERIODS]) & (scores["team"] == row["team"])
                    & (scores["role"] == row["role"]) & (scores["kpi_id"] == row["kpi_id"])]
    assert row["recent"][0] == pytest.approx(pd.to_numeric(people["value"]).median())


def test_money_kpis_are_shown_in_the_framework_s_currency(scored_sample):
    framework, _employees, _actuals, _scores = scored_sample
    money = next(k for k in framework.kpis if k.unit == "currency")
    assert framework.metadata.currency == "EUR" and framework.unit_of(money) == "EUR"
    plain = framework.model_copy(update={"metadata": framework.metadata.model_copy(update={"currency": None})})
    assert plain.unit_of(money) == "currency"  # no code: a bare amount, as before
    other = next(k for k in framework.kpis if k.unit not in ("currency", ""))
    assert framework.unit_of(other) == other.unit
