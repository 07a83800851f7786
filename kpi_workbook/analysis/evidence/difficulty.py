"""Are targets equally hard? How often each role's and team's people reach target, against the organization.

The method in words is METHOD, which `kpi-workbook evidence` prints with the results.
"""

from __future__ import annotations

__all__ = [
    "ATTAINMENT_COLUMNS", "CHANGE_COLUMNS", "Difficulty", "EASIER", "FLAG_COLUMNS", "GAP", "HARDER", "METHOD",
    "MIN_PEOPLE", "Z", "hits", "plain_number", "target_difficulty",
]

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kpi_workbook.analysis.history import role_history
from kpi_workbook.analysis.scoring import band_table
from kpi_workbook.core.model import Framework, Polarity

METHOD = """\
Every past value of a role's KPI is compared with the role's current target (met or not, the rule of step 4's
probability of attainment). A group's attainment is the share of its values that meet target, each KPI counted
by its weight. Every group is measured against its own history, so a gap between groups is not explained by some
simply performing at another level: it is where their targets sit. A role or team is flagged when its attainment
differs from the organization's by at least 15 points and by more than chance (z beyond 2.58, the margin taken
from the spread of its people's own rates). For a flagged group, each of its KPIs on the flagged side is given
the target its history would meet as often as the organization meets its targets.
"""

GAP = 0.15
Z = 2.58
MIN_PEOPLE = 3
EASIER = "easier"
HARDER = "harder"
ATTAINMENT_COLUMNS = ["role", "team", "people", "observations", "attainment"]
FLAG_COLUMNS = ["level", "group", "people", "attainment", "organization", "z", "direction", "target_changes"]
#: A flagged group's KPI and the change of its target that evens the group out: from `target` to `even_target`.
CHANGE_COLUMNS = ["level", "group", "kpi_id", "target", "even_target"]


@dataclass(frozen=True)
class Difficulty:
    """Attainment per role and team, the organization's, its spread, the groups flagged (their `target_changes`
    in words, for reading) and the target changes that would even each flagged group out (CHANGE_COLUMNS)."""

    attainment: pd.DataFrame
    organization: float
    spread: dict[str, float]
    flags: pd.DataFrame
    changes: pd.DataFrame


def hits(framework: Framework, actuals: pd.DataFrame, employees: pd.DataFrame) -> pd.DataFrame:
    """Each past value of a role KPI with a target: role, team, unit, kpi_id, weight, value, polarity and met."""
    history = role_history(framework, actuals, employees).astype({"role": str, "kpi_id": str, "team": str})
    bands = band_table(framework)
    rows = history.merge(bands, on=["role", "kpi_id"])
    value = rows["value"].to_numpy(dtype=float)
    ranged = rows["polarity"].to_numpy() == Polarity.WITHIN_RANGE.value
    lower = rows["polarity"].to_numpy() == Polarity.LOWER_IS_BETTER.value
    target = rows["target"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        met = np.where(ranged, (value >= rows["range_low"]) & (value <= rows["range_high"]),
                       np.where(lower, value <= target, value >= target))
    has_band = np.where(ranged, rows["range_low"].notna(), rows["target"].notna()) & np.isfinite(value)
    unit = rows["team"] + "/" + rows["employee_id"].fillna("").astype(str)
    return pd.DataFrame({"role": rows["role"], "team": rows["team"], "unit": unit, "kpi_id": rows["kpi_id"],
                         "weight": rows["weight"], "value": value, "polarity": rows["polarity"],
                         "target": target, "met": met.astype(float)})[has_band].reset_index(drop=True)


def _attainment(frame: pd.DataFrame) -> float:
    return float(np.average(frame["met"], weights=frame["weight"])) if frame["weight"].sum() > 0 else np.nan


def _unit_rates(frame: pd.DataFrame) -> pd.Series:
    weighted = (frame["met"] * frame["weight"]).groupby(frame["unit"]).sum()
    return weighted / frame["weight"].groupby(frame["unit"]).sum()


def _even_target(values: np.ndarray, polarity: str, share: float) -> float | None:
    """The target the values would meet with the given share (None for a range KPI)."""
    if polarity == Polarity.WITHIN_RANGE.value or values.size == 0:
        return None
    return float(np.quantile(values, share if polarity == Polarity.LOWER_IS_BETTER.value else 1 - share))


def _changes(group: pd.DataFrame, share: float, easier: bool) -> list[tuple[str, float, float]]:
    """The KPIs of the group on its side of `share`, each with its target and the one that brings it to `share`."""
    found = []
    for kpi, rows in group.groupby("kpi_id", sort=False):
        if (_attainment(rows) > share) != easier:
            continue
        new = _even_target(rows["value"].to_numpy(), rows["polarity"].iloc[0], share)
        if new is not None:
            found.append((str(kpi), float(rows["target"].iloc[0]), new))
    return found


def plain_number(value: float) -> str:
    """A level in words: four significant digits, never in scientific notation (160000, 59.85)."""
    return np.format_float_positional(value, precision=4, unique=False, fractional=False, trim="-")


def _in_words(changes: list[tuple[str, float, float]]) -> str:
    return "; ".join(f"{kpi}: {plain_number(old)} → {plain_number(new)}" for kpi, old, new in changes)


def target_difficulty(framework: Framework, actuals: pd.DataFrame, employees: pd.DataFrame) -> Difficulty:
    """Attainment per role × team, its spread across roles and teams, and roles or teams flagged as easier or
    harder than the organization, with the target changes that would even them out."""
    met = hits(framework, actuals, employees)
    organization = _attainment(met) if len(met) else np.nan
    table = pd.DataFrame([
        {"role": role, "team": team, "people": rows["unit"].nunique(), "observations": len(rows),
         "attainment": _attainment(rows)}
        for (role, team), rows in met.groupby(["role", "team"], sort=True)], columns=ATTAINMENT_COLUMNS)
    flags, changes, spread = [], [], {}
    for level in ("role", "team"):
        rates = {}
        for group, rows in met.groupby(level, sort=True):
            rates[group] = rate = _attainment(rows)
            units = _unit_rates(rows)
            margin = units.std(ddof=1) / np.sqrt(len(units)) if len(units) >= MIN_PEOPLE else np.nan
            z = (rate - organization) / max(margin, 1e-9) if np.isfinite(margin) else np.nan
            if abs(rate - organization) >= GAP and abs(z) >= Z:
                found = _changes(rows, organization, z > 0)
                flags.append({"level": level, "group": group, "people": len(units), "attainment": rate,
                              "organization": organization, "z": z, "direction": EASIER if z > 0 else HARDER,
                              "target_changes": _in_words(found)})
                changes += [(level, group, *change) for change in found]
        values = np.array(list(rates.values()))
        spread[level] = float(values.max() - values.min()) if values.size else np.nan
    return Difficulty(table, organization, spread, pd.DataFrame(flags, columns=FLAG_COLUMNS),
                      pd.DataFrame(changes, columns=CHANGE_COLUMNS))
