"""KPI values as a manager reads them: the KPI's unit beside the number (30.6 %, 54.1 days, 4,852,451 EUR), thousands
separators, as many decimals as the size of the numbers needs (the same for figures read side by side), changes with
their sign (+0.8 pts for a percentage), band levels as they are set (10 min, 3.5) and gaps to a target signed in the
KPI's good direction (−1.3 min (−13 %) short); scores in points with one decimal (94.2 pts, changes −5.1 pts).
Never scientific notation."""

from __future__ import annotations

__all__ = [
    "BARE_UNITS", "CURRENCY", "CURRENCY_CODE", "EMPTY_TEXT", "IN_RANGE", "LEVEL_DECIMALS", "MINUS", "NO_CHANGE",
    "ON_TARGET", "PERCENT", "PLAIN_UNITS", "SCORE_UNIT", "UNIT_SPACE", "change_text", "decimals", "gap_text",
    "label_unit", "level_text", "range_text", "score_change_text", "score_text", "shows_unit", "value_text",
]

import math
import re
from collections.abc import Iterable
from typing import TypeGuard

EMPTY_TEXT = "—"  # what a report shows where there is no value
PERCENT = "%"
CURRENCY = "currency"  # money without a currency code: shown as a bare amount
CURRENCY_CODE = re.compile(r"[A-Z]{3}")  # a KPI unit that is an ISO 4217 code, e.g. EUR
PLAIN_UNITS = {"", "count", "number"}  # a bare number says it all
BARE_UNITS = {*PLAIN_UNITS, CURRENCY, "ratio"}  # shown as bare numbers
MINUS = "\u2212"
UNIT_SPACE = "\u00a0"  # no-break space: a number and its unit stay on one line
NO_CHANGE = "no change"
ON_TARGET = "on target"
IN_RANGE = "in range"
LEVEL_DECIMALS = 2  # at most, for a band level
SCORE_UNIT = "pts"  # a score's unit: points, 100 = every target met


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


def _known(value: float | None) -> TypeGuard[float]:
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


def level_text(value: float | None, unit: str) -> str:
    """A band level as it is set, with its unit: '10\u00a0min', '3.5', '200,000' (up to LEVEL_DECIMALS decimals)."""
    if not _known(value):
        return EMPTY_TEXT
    text = _number(value, LEVEL_DECIMALS)
    return (text.rstrip("0").rstrip(".") if "." in text else text) + _suffix(unit)


def range_text(low: float | None, high: float | None, unit: str) -> str:
    """A range of levels with its unit once: '40 to 60\u00a0%', '−3 to 3\u00a0%'."""
    if not (_known(low) and _known(high)):
        return EMPTY_TEXT
    return f"{level_text(low, '')} to {level_text(high, unit)}"


def _share_text(share: float | None) -> str:
    """A share of the target as a signed percentage: '−13 %', '+2.5 %' (one decimal below 10 %)."""
    if not _known(share):
        return ""
    percent = 100 * share
    return f" ({_number(percent, 1 if abs(percent) < 10 else 0, sign=True)}{UNIT_SPACE}%)"


def gap_text(gap: float | None, share: float | None, unit: str, places: int, side: str | None = None) -> str:
    """A gap to the target in the KPI's good direction, as the figures are shown with `places` decimals: '−1.3 min
    (−13 %) short', '+2.0 pts (+2.2 %) ahead', 'on target'. For a within-range KPI `side` is 'below' or 'above' the
    target range ("" inside it): '−2.0 pts below range', 'in range'."""
    if not _known(gap):
        return EMPTY_TEXT
    shown = round(gap, places)
    change = _number(shown, places, sign=True) + _suffix(unit, change=True)
    if side is not None:
        return f"{change} {side} range" if side and shown else IN_RANGE
    if shown == 0:
        return ON_TARGET
    return f"{change}{_share_text(share)} {'short' if shown < 0 else 'ahead'}"


def _as_float(value: object) -> float:
    """A number as a float; NaN for anything that is none (None, NaN, pandas' NA)."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def score_text(score: object) -> str:
    """A score with its unit and one decimal: '94.2\u00a0pts'; a dash when unknown."""
    value = _as_float(score)
    return EMPTY_TEXT if math.isnan(value) else _number(value, 1) + UNIT_SPACE + SCORE_UNIT


def score_change_text(change: object) -> str:
    """A change of a score, signed, with its unit and one decimal: '−5.1\u00a0pts', '+0.3\u00a0pts'."""
    value = round(_as_float(change), 1) + 0.0  # + 0.0: a change of −0.04 shows as +0.0, not −0.0
    return EMPTY_TEXT if math.isnan(value) else _number(value, 1, sign=True) + UNIT_SPACE + SCORE_UNIT
