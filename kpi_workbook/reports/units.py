"""KPI values as a manager reads them: the KPI's unit beside the number (30.6 %, 54.1 days, 4,852,451 EUR), thousands
separators, as many decimals as the size of the numbers needs (the same for figures read side by side), and changes
with their sign (+0.8 pts for a percentage)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from kpi_workbook.reports.tables import EMPTY_TEXT

PERCENT = "%"
CURRENCY = "currency"  # money without a currency code: shown as a bare amount
CURRENCY_CODE = re.compile(r"[A-Z]{3}")  # a KPI unit that is an ISO 4217 code, e.g. EUR
PLAIN_UNITS = {"", "count", "number"}  # a bare number says it all
BARE_UNITS = {*PLAIN_UNITS, CURRENCY, "ratio"}  # shown as bare numbers
MINUS = "\u2212"
UNIT_SPACE = "\u00a0"  # no-break space: a number and its unit stay on one line
NO_CHANGE = "no change"


def _is_money(unit: str) -> bool:
    return unit == CURRENCY or bool(CURRENCY_CODE.fullmatch(unit))


def shows_unit(unit: str) -> bool:
    """Whether value_text writes the unit beside the number."""
    return unit == PERCENT or bool(CURRENCY_CODE.fullmatch(unit)) or (unit not in BARE_UNITS and "(" not in unit)


def label_unit(unit: str) -> str:
    """The unit a label should name because the values are shown without it ('currency', 'rating (1-5)'), or ""."""
    return "" if shows_unit(unit) or unit in PLAIN_UNITS else unit


def _suffix(unit: str, change: bool = False) -> str:
    if unit == PERCENT:
        return UNIT_SPACE + ("pts" if change else "%")
    return UNIT_SPACE + unit if shows_unit(unit) else ""


def _known(value: float | None) -> bool:
    return value is not None and not math.isnan(value)


def decimals(values: Iterable[float], unit: str) -> int:
    """Decimals worth showing for figures read side by side: one for a percentage; none for whole numbers or when
    the largest is 100 or more; one when it is 10 or more, else two."""
    known = [v for v in values if _known(v)]
    size = max((abs(v) for v in known), default=0.0)
    if unit == PERCENT:
        return 1
    if all(float(v).is_integer() for v in known) or size >= 100:
        return 0
    return 2 if _is_money(unit) or size < 10 else 1


def _number(value: float, places: int, sign: bool = False) -> str:
    text = f"{value:{'+' if sign else ''},.{places}f}"
    return text.replace("-", MINUS)


def value_text(value: float, unit: str, places: int | None = None) -> str:
    """A value with its unit: '30.6 %', '54.1 days', '4,852,451' (money without a code), '4,852,451 EUR'; with
    `places` decimals (as many as it needs when None)."""
    if not _known(value):
        return EMPTY_TEXT
    return _number(value, decimals([value], unit) if places is None else places) + _suffix(unit)


def change_text(value: float, previous: float, unit: str, places: int) -> str:
    """The change from `previous` to `value` as the two are shown with `places` decimals, so that the figures add up:
    '+1.2 days', '−0.4 pts' for a percentage; 'no change' when both show the same."""
    if not (_known(value) and _known(previous)):
        return EMPTY_TEXT
    change = round(round(value, places) - round(previous, places), places)
    return NO_CHANGE if change == 0 else _number(change, places, sign=True) + _suffix(unit, change=True)
