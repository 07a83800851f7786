"""The evidence a suggestion stands on: a KPI's history in the good direction, the share of it that meets a target
(the probability of attainment) and the verdict on that share."""

from __future__ import annotations

__all__ = [
    "CHALLENGING", "NO_DATA", "TOO_EASY", "UNREALISTIC", "Evidence", "Range", "attainment_probability",
    "chronological", "history_frame", "verdict",
]

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kpi_workbook.analysis.history import HISTORY_COLUMNS
from kpi_workbook.core.model import Polarity
from kpi_workbook.core.periods import parse_period

SHORT_HISTORY = 4
TOO_EASY = "too easy"
CHALLENGING = "challenging but achievable"
UNREALISTIC = "unrealistic"
NO_DATA = "no data"

Range = tuple[float, float]


def attainment_probability(
    reference: Iterable[float], polarity: Polarity | str, target: float | None = None,
    target_range: Range | None = None,
) -> float | None:
    """Share of reference values meeting the target (or inside the target range); None without values or target."""
    values = np.asarray(list(reference) if not isinstance(reference, np.ndarray) else reference, dtype=float)
    values = values[~np.isnan(values)]
    polarity = Polarity(polarity)
    if values.size == 0:
        return None
    tolerance = 1e-9 * max(1.0, float(np.max(np.abs(values))))  # float residue of detrending counts as met
    if polarity is Polarity.WITHIN_RANGE:
        if target_range is None:
            return None
        low, high = sorted(target_range)
        return float(np.mean((values >= low - tolerance) & (values <= high + tolerance)))
    if target is None:
        return None
    met = values >= target - tolerance if polarity is Polarity.HIGHER_IS_BETTER else values <= target + tolerance
    return float(np.mean(met))


def verdict(probability: float | None, low: float = 0.5, high: float = 0.8) -> str:
    """Too easy above `high`, unrealistic below `low`, challenging but achievable in between, no data for None."""
    if probability is None or math.isnan(probability):
        return NO_DATA
    if probability > high:
        return TOO_EASY
    if probability < low:
        return UNREALISTIC
    return CHALLENGING


def history_frame(history: Any, periods: Sequence[Any] | None = None) -> pd.DataFrame:
    """Normalize a history into DataFrame[period, employee_id, value] with an ordered categorical period.

    Accepted: a sequence of numbers (one per period, in order), a Series (index = period; repeated labels for
    several people), or a DataFrame with a ``value`` column plus ``period`` (or the index) and optionally
    ``employee_id``. Period labels must sort chronologically (canonical labels such as 2025Q3 do); `periods`,
    when given, is the full period axis, so periods without any row count as gaps.
    """
    if isinstance(history, pd.DataFrame):
        if "value" not in history.columns:
            raise ValueError("a history table needs a 'value' column")
        frame = history if "period" in history.columns else history.rename_axis("period").reset_index()
        frame = frame.assign(employee_id=frame["employee_id"] if "employee_id" in frame.columns else "")
    else:
        series = history if isinstance(history, pd.Series) else pd.Series(list(history), dtype=float)
        frame = pd.DataFrame({"period": series.index, "employee_id": "", "value": series.to_numpy()})
    frame = frame[HISTORY_COLUMNS].copy()
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype(float)
    frame["employee_id"] = frame["employee_id"].astype(object).fillna("").astype(str)
    axis = chronological(set(pd.unique(frame["period"].astype(object).dropna())) | set(periods or ()))
    frame["period"] = pd.Categorical(frame["period"], categories=axis, ordered=True)
    return frame.sort_values("period", kind="stable").reset_index(drop=True)


def chronological(labels: Iterable[Any]) -> list[Any]:
    """Period labels oldest first (text labels parsed as periods; other labels such as positions sorted as is)."""
    labels = list(labels)
    if labels and all(isinstance(label, str) for label in labels):
        return sorted(labels, key=lambda label: parse_period(label).sort_key)
    return sorted(labels)


@dataclass
class Evidence:
    """A normalized history (see `history_frame`) seen in the good direction (`sign` -1 negates a lower-is-better
    KPI) and the notes gathered about it while a suggestion is made."""

    frame: pd.DataFrame
    sign: float
    notes: list[str]

    @classmethod
    def of(cls, history: Any, polarity: Polarity, periods: Sequence[Any] | None = None) -> Evidence:
        """The evidence of a history (anything `history_frame` accepts), noting its gaps and a short history."""
        frame = history_frame(history, periods)
        sign = -1.0 if polarity is Polarity.LOWER_IS_BETTER else 1.0
        return cls(frame, sign, _describe_gaps(frame, list(frame["period"].cat.categories)))

    @property
    def axis(self) -> list[Any]:
        """Every period of the history, oldest first (with the ones without data)."""
        return list(self.frame["period"].cat.categories)

    @property
    def periods_with_data(self) -> int:
        """How many periods hold at least one value."""
        return int(self.frame.loc[self.frame["value"].notna(), "period"].nunique())

    @property
    def levels(self) -> pd.Series:
        """Median value per period in the good direction (NaN for a period without data)."""
        return self.sign * self.frame.groupby("period", observed=False)["value"].median()

    def window(self, window: int | None) -> pd.DataFrame:
        """Rows of the last `window` periods of the axis (all with None), missing values dropped."""
        axis = self.axis if window is None else self.axis[-window:]
        rows = self.frame[self.frame["period"].isin(axis)]
        return rows[rows["value"].notna()]


def _describe_gaps(frame: pd.DataFrame, axis: list[Any]) -> list[str]:
    """Notes on missing values, periods without data and a history shorter than SHORT_HISTORY periods."""
    notes = []
    missing = int(frame["value"].isna().sum())
    if missing:
        notes.append(f"{missing} missing value(s) (gaps) ignored")
    with_data = set(frame.loc[frame["value"].notna(), "period"].tolist())
    empty = [str(p) for p in axis if p not in with_data]
    if empty and with_data:
        notes.append(f"no data in period(s) {', '.join(empty)}")
    if 0 < len(with_data) < SHORT_HISTORY:
        notes.append(f"short history: {len(with_data)} period(s) with data (fewer than {SHORT_HISTORY}); "
                     "treat the suggestion as provisional")
    return notes
