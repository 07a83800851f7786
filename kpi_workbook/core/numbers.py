"""Numbers in words for people: never in scientific notation, thousands grouped, a few significant digits."""

from __future__ import annotations

__all__ = ["number_text"]

import math


def number_text(value: float, significant: int = 4, sign: bool = False, grouped: bool = True) -> str:
    """`value` with about `significant` significant digits, thousands grouped (unless not `grouped`: a form field
    reads back what it shows) and no exponent: 5030.2 → '5,030', 0.000123 → '0.000123', 12.3456 → '12.35'; with
    `sign`, '+' before a positive number."""
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if value == 0:
        return "0"
    decimals = max(0, significant - 1 - math.floor(math.log10(abs(value))))
    text = f"{value:{'+' if sign else ''}{',' if grouped else ''}.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "+0") else text
