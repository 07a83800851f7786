"""A KPI's recent actuals as a line of text a table cell, a PDF and a screen reader can all carry: block characters
from lowest to highest ("▂▃▅█"), a dot for a period without a value, and the direction in a word."""

from __future__ import annotations

__all__ = ["sparkline"]

import math
from collections.abc import Sequence
from typing import TypeGuard

from kpi_workbook.reports.tables import EMPTY_TEXT

BLOCKS = "▁▂▃▄▅▆▇█"
GAP = "·"


def _known(value: float | None) -> TypeGuard[float]:
    return value is not None and not math.isnan(value)


def sparkline(values: Sequence[float | None]) -> str:
    """'▁▃▅█ rising' for values oldest first: the first and last known values say rising, falling or level; fewer
    than two known values make no line."""
    first = next((i for i, v in enumerate(values) if _known(v)), len(values))
    shown = list(values[first:])  # periods before the KPI's first value are not part of its trend
    known = [float(v) for v in shown if _known(v)]
    if len(known) < 2:
        return EMPTY_TEXT
    low, high = min(known), max(known)
    steps = len(BLOCKS) - 1
    line = "".join(GAP if not _known(v) else BLOCKS[0 if high == low else round((float(v) - low) / (high - low)
                                                                                 * steps)] for v in shown)
    word = "rising" if known[-1] > known[0] else "falling" if known[-1] < known[0] else "level"
    return f"{line} {word}"  # an ordinary space: a narrow column puts the word under the line
