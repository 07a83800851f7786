"""The framework's targets table: for every role KPI its current bands and the suggested ones, each with its
probability of attainment and verdict, and the bands as compact text."""

from __future__ import annotations

__all__ = ["SUGGESTION_COLUMNS", "apply_suggestion", "bands_text", "current_bands", "suggest_for_framework"]

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from kpi_workbook.analysis.history import HISTORY_COLUMNS, role_history
from kpi_workbook.analysis.target_methods import METHODS
from kpi_workbook.analysis.targets.evidence import Evidence, chronological, verdict
from kpi_workbook.analysis.targets.fitting import TargetSuggestion, suggest_from
from kpi_workbook.analysis.targets.methods import BAND_FIELDS, METHOD_REGISTRY
from kpi_workbook.core.model import Framework, Polarity, RoleKpi
from kpi_workbook.core.numbers import number_text

SUGGESTION_COLUMNS = [
    "role", "kpi_id", "kpi_name", "polarity", "weight", "method", "periods", "observations",
    "current_threshold", "current_target", "current_stretch", "current_target_range", "current_threshold_range",
    "current_probability", "current_verdict", "threshold", "target", "stretch", "target_range", "threshold_range",
    "probability", "verdict", "notes",
]


def current_bands(assignment: RoleKpi) -> dict[str, Any]:
    """The bands of a role KPI assignment as the options of the fixed method."""
    return {name: getattr(assignment, name) for name in BAND_FIELDS}


def apply_suggestion(assignment: RoleKpi, suggestion: TargetSuggestion) -> RoleKpi:
    """A copy of a role KPI assignment with the suggested bands (validated by the model)."""
    return RoleKpi.model_validate({**assignment.model_dump(), **{name: getattr(suggestion, name)
                                                                  for name in BAND_FIELDS}})


def _bands_columns(prefix: str, source: Mapping[str, Any]) -> dict[str, Any]:
    return {f"{prefix}{name}": source.get(name) for name in BAND_FIELDS}


def suggest_for_framework(
    framework: Framework, actuals: pd.DataFrame, employees: pd.DataFrame,
    method: str | Sequence[str] = "percentile", roles: Sequence[str] | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None, fit_band: bool = True,
) -> pd.DataFrame:
    """One row per role × KPI × method: current bands and their probability and verdict, suggested bands and
    theirs, and notes. `params` maps a method name to its options (see `suggest_targets`); with `fit_band` each
    suggestion lands inside the framework's achievable band, or its notes say why it cannot."""
    methods = [method] if isinstance(method, str) else list(method)
    unknown = [name for name in methods if name not in METHOD_REGISTRY]
    if unknown:
        raise ValueError(f"unknown method(s) {', '.join(unknown)}; choose from {', '.join(METHODS)}")
    settings = framework.metadata.settings
    history = role_history(framework, actuals, employees)
    axis = chronological(pd.unique(history["period"].astype(object).dropna()))
    positions = history.groupby(["role", "kpi_id"], sort=False, observed=True).indices
    history = history[HISTORY_COLUMNS]  # what a suggestion reads: each KPI's rows are taken from these columns only
    empty = np.empty(0, dtype=int)
    records = []
    for assignment in framework.assignments:
        if roles is not None and assignment.role not in roles:
            continue
        definition = framework.kpi(assignment.kpi.kpi)
        if definition is None:
            continue
        rows = history.iloc[positions.get((assignment.role, assignment.kpi.kpi), empty)]
        current = current_bands(assignment.kpi)
        evidence = Evidence.of(rows, definition.polarity, axis)  # one history for every method
        for name in methods:
            options = dict((params or {}).get(name, {}))
            if name == "fixed" and not options:
                options = current
            suggestion = suggest_from(
                evidence, definition.polarity, name, achievable_low=settings.achievable_low,
                achievable_high=settings.achievable_high, fit_band=fit_band, **options)
            current_probability = suggestion.probability_for(assignment.kpi.target, assignment.kpi.target_range)
            records.append({
                "role": assignment.role, "kpi_id": definition.id, "kpi_name": definition.name,
                "polarity": definition.polarity.value, "weight": assignment.kpi.weight, "method": name,
                "periods": suggestion.periods, "observations": suggestion.observations,
                **_bands_columns("current_", current), "current_probability": current_probability,
                "current_verdict": verdict(current_probability, settings.achievable_low, settings.achievable_high),
                **_bands_columns("", suggestion.as_row()), "probability": suggestion.probability,
                "verdict": suggestion.verdict, "notes": "; ".join(suggestion.notes),
            })
    return pd.DataFrame.from_records(records, columns=SUGGESTION_COLUMNS)


def _number(value: Any) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else number_text(value)


def _pair(pair: Any) -> str:
    return f"{_number(pair[0])} to {_number(pair[1])}" if isinstance(pair, tuple | list) else "-"


def bands_text(row: Mapping[str, Any], prefix: str = "") -> str:
    """Compact bands of a suggestion table row: '20/25/32' (threshold/target/stretch), or for a range KPI
    '75 to 85 in 65 to 92' (target range in threshold range); `prefix` 'current_' for the current bands."""
    if row["polarity"] == Polarity.WITHIN_RANGE.value:
        return f"{_pair(row[f'{prefix}target_range'])} in {_pair(row[f'{prefix}threshold_range'])}"
    return "/".join(_number(row[f"{prefix}{name}"]) for name in ("threshold", "target", "stretch"))
