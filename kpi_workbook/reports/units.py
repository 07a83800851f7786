"""KPI values as a manager reads them: the KPI's unit beside the number (30.6 %, 54.1 days, 4,852,451 EUR), thousands
separators, as many decimals as the size of the number needs, and changes with their sign (+0.8 pts for a
percentage)."""

from __future__ import annotations

import math
import re

from kpi_workbook.reports.tables import EMPTY_TEXT

PERCENT = "%"
CURRENCY = "currency"  # money without a currency code: shown as a bare amount
CURRENCY_CODE = re.compile(r"[A-Z]{3}")  # a KPI unit that is an ISO 4217 code, e.g. EUR
BARE_UNITS = {"", "count", CURRENCY, "ratio", "number"}  # shown as bare numbers: a label names the unit
MINUS = "\u2212"
UNIT_SPACE = "\u00a0"  # no-break space: a number and its unit stay on one line
NO_CHANGE = "no change"


def _is_money(unit: str) -> bool:
    return unit == CURRENCY or bool(CURRENCY_CODE.fullmatch(unit))


def shows_unit(unit: str) -> bool:
    """Whether value_text writes the unit beside the number (if not, the KPI's label should name it)."""
    return unit == PERCENT or bool(CURRENCY_CODE.fullmatch(unit)) or (unit not in BARE_UNITS and "(" not in unit)


def _suffix(unit: str, change: bool = False) -> str:
    if unit == PERCENT:
        return UNIT_SPACE + ("pts" if change else "%")
    return UNIT_SPACE + unit if shows_unit(unit) else ""


def decimals(value: float, unit: str) -> int:
    """Decimals worth showing: one for a percentage; none for whole numbers and from 100 up; one from 10, else two."""
    size = abs(value)
    if unit == PERCENT:
        return 1
    if float(value).is_integer() or size >= 100:
        return 0
    return 2 if _is_money(unit) or size < 10 else 1


def _number(value: float, places: int, sign: bool = False) -> str:
    text = f"{value:{'+' if sign else ''},.{places}f}"
    return text.replace("-", MINUS)


def value_text(value: float, unit: str) -> str:
    """A value with its unit: '30.6 %', '54.1 days', '4,852,451' (money without a code), '4,852,451 EUR'."""
    if value is None or math.isnan(value):
        return EMPTY_TEXT
    return _number(value, decimals(value, unit)) + _suffix(unit)


def change_text(change: float, unit: str, reference: float) -> str:
    """A change with its sign and unit, as precise as `reference` (the value it changed to) is shown: '+1.2 days',
    '−0.4 pts' for a percentage; 'no change' when it rounds to nothing."""
    if change is None or math.isnan(change):
        return EMPTY_TEXT
    places = decimals(reference, unit) if not math.isnan(reference) else decimals(change, unit)
    if round(change, places) == 0:
        return NO_CHANGE
    return _number(change, places, sign=True) + _suffix(unit, change=True)
