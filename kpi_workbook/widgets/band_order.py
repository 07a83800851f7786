"""Bands typed in the wrong order, said with their fix as the facilitator types (before any save refuses them)."""

from __future__ import annotations

__all__ = ["order_problems"]

from collections.abc import Mapping

from kpi_workbook.core.model import Polarity
from kpi_workbook.reports.units import level_text, range_text

_HIGHER = {"target": ("threshold", "raise the target to at least {low}, or lower the threshold"),
           "stretch": ("target", "raise the stretch above {low} (an exceptional result), or lower the target")}
_LOWER = {"target": ("threshold", "lower the target to at most {low}, or raise the threshold (for a lower-is-better "
                     "KPI the target is the smaller value)"),
          "stretch": ("target", "lower the stretch below {low} (an exceptional result), or raise the target")}


def _levels(bands: Mapping[str, object], polarity: Polarity, unit: str) -> list[str]:
    rules, side = (_HIGHER, "below") if polarity is Polarity.HIGHER_IS_BETTER else (_LOWER, "above")
    sign = 1 if polarity is Polarity.HIGHER_IS_BETTER else -1
    problems = []
    for level, (under, fix) in rules.items():
        value, bound = bands.get(level), bands.get(under)
        if isinstance(value, float | int) and isinstance(bound, float | int) and sign * (value - bound) < 0:
            shown, limit = level_text(value, unit), level_text(bound, unit)
            problems.append(f"The {level} ({shown}) is {side} the {under} ({limit}): "
                            f"{fix.format(low=limit)}.")
    return problems


def _ranges(bands: Mapping[str, object], unit: str) -> list[str]:
    problems = []
    for name in ("target_range", "threshold_range"):
        pair = bands.get(name)
        if isinstance(pair, tuple) and pair[0] > pair[1]:
            words = name.replace("_", " ")
            problems.append(f"The {words} runs from {level_text(pair[0], unit)} down to {level_text(pair[1], unit)}: "
                            f"type the lower end in “from” and the higher in “to”.")
    target, threshold = bands.get("target_range"), bands.get("threshold_range")
    if not problems and isinstance(target, tuple) and isinstance(threshold, tuple) and not (
            threshold[0] <= target[0] and target[1] <= threshold[1]):
        problems.append(f"The threshold range ({range_text(threshold[0], threshold[1], unit)}) does not contain the "
                        f"target range ({range_text(target[0], target[1], unit)}): widen the threshold range to at "
                        f"least {range_text(min(threshold[0], target[0]), max(threshold[1], target[1]), unit)}.")
    return problems


def order_problems(bands: Mapping[str, object], polarity: Polarity, unit: str) -> list[str]:
    """One sentence per level out of order for the KPI's polarity, each with its fix (none when the order is right
    or a level is not set yet)."""
    if polarity is Polarity.WITHIN_RANGE:
        return _ranges(bands, unit)
    return _levels(bands, polarity, unit)
