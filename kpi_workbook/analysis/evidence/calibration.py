"""Calibration view: score distributions per team and per manager, with groups that stand out marked.

The method in words is METHOD, which `kpi-workbook evidence` prints with the results.
"""

from __future__ import annotations

__all__ = ["CALIBRATION_COLUMNS", "METHOD", "Z", "person_scores", "score_calibration"]

import numpy as np
import pandas as pd

from kpi_workbook.analysis.scoring import roll_up, score_actuals
from kpi_workbook.core.model import Framework

METHOD = """\
Each person's score is their weighted score averaged over the periods they were scored in. A team, or a
manager's people (when employees.csv has a manager column), is marked high or low when its mean differs from
everyone else's by more than chance (z beyond 2.58, from both groups' spreads and sizes). People beyond the
organization's Tukey fences (1.5 interquartile ranges outside the quartiles) are counted per group, never named.
"""

Z = 2.58
CALIBRATION_COLUMNS = ["level", "group", "people", "median", "p25", "p75", "on_target", "outliers", "z", "mark"]


def person_scores(framework: Framework, actuals: pd.DataFrame, employees: pd.DataFrame) -> pd.DataFrame:
    """Each person's mean weighted score over the periods scored: employee_id, team and score."""
    scores = roll_up(score_actuals(actuals, employees, framework), ("employee_id", "team"))
    scores = scores.astype({"employee_id": str, "team": str}).dropna(subset=["score"])
    return scores.groupby(["employee_id", "team"], as_index=False)["score"].mean()


def _row(level: str, group: str, scores: np.ndarray, rest: np.ndarray, fences: tuple[float, float]) -> dict:
    spread = np.var(scores, ddof=1) / scores.size + np.var(rest, ddof=1) / rest.size \
        if scores.size > 1 and rest.size > 1 else np.nan
    z = (scores.mean() - rest.mean()) / np.sqrt(spread) if spread and np.isfinite(spread) else np.nan
    mark = ("high" if z > 0 else "low") if np.isfinite(z) and abs(z) >= Z else ""
    return {"level": level, "group": group, "people": scores.size, "median": float(np.median(scores)),
            "p25": float(np.percentile(scores, 25)), "p75": float(np.percentile(scores, 75)),
            "on_target": float(np.mean(scores >= 100)),
            "outliers": int(np.sum((scores < fences[0]) | (scores > fences[1]))), "z": z, "mark": mark}


def score_calibration(framework: Framework, actuals: pd.DataFrame, employees: pd.DataFrame) -> pd.DataFrame:
    """Score distribution per team and, when employees have a `manager` column, per manager."""
    people = person_scores(framework, actuals, employees)
    if people.empty:
        return pd.DataFrame(columns=CALIBRATION_COLUMNS)
    if "manager" in employees:
        managers = employees.set_index(employees["employee_id"].astype(str))["manager"].fillna("").astype(str)
        people["manager"] = people["employee_id"].map(managers).fillna("")
    q1, q3 = np.percentile(people["score"], [25, 75])
    fences = (q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1))
    rows = []
    for level in [c for c in ("team", "manager") if c in people]:
        for group, members in people[people[level] != ""].groupby(level, sort=True):
            scores = members["score"].to_numpy()
            rest = people.loc[people[level] != group, "score"].to_numpy()
            rows.append(_row(level, str(group), scores, rest, fences))
    return pd.DataFrame(rows, columns=CALIBRATION_COLUMNS)
