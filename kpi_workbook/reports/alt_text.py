"""What a chart shows, in words made from its data: the text alternative a report gives each chart image."""

from __future__ import annotations

__all__ = ["LISTED", "TARGET_TEXT", "history_alt", "listing", "score_text", "scores_alt", "stacked_alt", "trend_alt"]

from collections.abc import Iterable

import pandas as pd

from kpi_workbook.core.numbers import number_text
from kpi_workbook.reports.units import SCORE_UNIT, UNIT_SPACE
from kpi_workbook.reports.units import score_text as _score_with_unit

LISTED = 12  # items an alternative text names before it says how many more there are


def listing(items: Iterable[str]) -> str:
    """Items joined by semicolons, the first LISTED of them and the count of the rest."""
    items = list(items)
    more = len(items) - LISTED
    return "; ".join(items[:LISTED]) + (f"; and {more} more" if more > 0 else "")


TARGET_TEXT = f"the 100{UNIT_SPACE}{SCORE_UNIT} target"


def score_text(score: object) -> str:
    """A score as the charts label it (94.2 pts), or 'no data'."""
    return "no data" if pd.isna(score) else _score_with_unit(score)


def scores_alt(title: str, labels: Iterable[str], scores: Iterable[object], statuses: Iterable[str]) -> str:
    """A bar chart of scores: each bar's label, score and status."""
    bars = [f"{label} {score_text(score)}" + ("" if pd.isna(score) else f" ({status})")
            for label, score, status in zip(labels, scores, statuses, strict=True)]
    return f"Bar chart{f' {title}' if title else ''}, score against {TARGET_TEXT}: {listing(bars)}."


def trend_alt(title: str, wide: pd.DataFrame) -> str:
    """A line chart of scores over periods (rows: periods, columns: lines): each line's first and last score."""
    periods = [str(p) for p in wide.index]
    lines = []
    for name in wide.columns:
        known = wide[name].dropna()
        if known.empty:
            lines.append(f"{name} no data")
        else:
            lines.append(f"{name} from {score_text(known.iloc[0])} in {known.index[0]} to "
                         f"{score_text(known.iloc[-1])} in {known.index[-1]}")
    span = f" from {periods[0]} to {periods[-1]}" if periods else ""
    return f"Line chart{f' {title}' if title else ''}{span}, against {TARGET_TEXT}: {listing(lines)}."


def history_alt(role: str, panels: Iterable[tuple[str, float, str, float | None]]) -> str:
    """KPI histories of a role (kpi, latest median, its period, target per panel): each latest median against its
    target."""
    parts = []
    for kpi, median, period, target in panels:
        latest = "no values" if pd.isna(median) else f"median {number_text(float(median))} in {period}"
        goal = "" if target is None or pd.isna(target) else f", target {number_text(float(target))}"
        parts.append(f"{kpi}: {latest}{goal}")
    return (f"Line charts of {role}'s KPIs by period, the median of its people with the middle half shaded, "
            f"against threshold, target and stretch: {listing(parts)}.")


def stacked_alt(title: str, table: pd.DataFrame, unit: str = "") -> str:
    """Stacked bars (rows: bars, columns: parts): each bar's non-zero parts."""
    bars = []
    for name, row in table.iterrows():
        parts = ", ".join(f"{column} {number_text(float(value))}{unit}" for column, value in row.items() if value)
        bars.append(f"{name}: {parts or 'nothing'}")
    return f"Bar chart {title}: {listing(bars)}."
