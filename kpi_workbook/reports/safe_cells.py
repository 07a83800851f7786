"""Text cells made safe for spreadsheets: no cell may start a formula (OWASP advice against CSV injection)."""

from __future__ import annotations

__all__ = ["FORMULA_PREFIXES", "neutralize", "neutralize_frame", "safe_csv"]

import csv
from typing import Any

import pandas as pd

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: Any) -> Any:
    """A text that a spreadsheet would read as a formula, prefixed with a single quote; anything else as is."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def neutralize_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of a table with every text cell and column label neutralized (numbers stay numbers)."""
    out = frame.copy()
    for column in out.columns:
        if not pd.api.types.is_numeric_dtype(out[column]) or isinstance(out[column].dtype, pd.CategoricalDtype):
            out[column] = out[column].astype(object).map(neutralize)
    out.columns = [neutralize(str(c)) for c in out.columns]
    return out


def safe_csv(frame: pd.DataFrame) -> str:
    """A table as CSV text: text cells neutralized and quoted, so a line break in a text never starts a row."""
    return neutralize_frame(frame).to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC)
