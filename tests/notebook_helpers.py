"""The figures the step notebooks record, computed again from a workspace's files without the package.

The files are read with PyYAML and pandas, and the rules that the README and the module docstrings state (what a
team's scope holds, the banded score, weighted roll-ups, status colours, review flags, the probability of
attainment) are written out once more in plain pandas. A notebook's recorded figure is then compared with this
independent computation instead of with the same function call the notebook makes.

Only what the sample organization uses is covered: complete threshold/target/stretch bands, or a target range
with a threshold range; anything else stops with ValueError instead of being scored by a guess.
"""

from __future__ import annotations

from collections import Counter
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

THRESHOLD_SCORE, TARGET_SCORE, STRETCH_SCORE, CAP = 50.0, 100.0, 150.0, 150.0
STREAK = 3  # periods running that make a review streak (target too easy, never met)
NO_VARIATION_SHARE = 0.05  # of the band span
GROUP = ["team", "role", "kpi_id"]
BAND_FIELDS = ["threshold", "target", "stretch", "range_low", "range_high", "threshold_low", "threshold_high"]


def _yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


class WorkspaceFiles:
    """A workspace folder's framework files, employees.csv and actuals.csv as plain Python and pandas."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @cached_property
    def settings(self) -> dict[str, Any]:
        return _yaml(self.root / "framework.yaml")["settings"]

    @cached_property
    def objectives(self) -> list[dict[str, Any]]:
        return _yaml(self.root / "objectives.yaml")["objectives"]

    @cached_property
    def kpis(self) -> dict[str, dict[str, Any]]:
        return {k["id"]: k for k in _yaml(self.root / "kpis.yaml")["kpis"]}

    @cached_property
    def roles(self) -> list[dict[str, Any]]:
        return [_yaml(path) for path in sorted((self.root / "roles").glob("*.yaml"))]

    @cached_property
    def employees(self) -> pd.DataFrame:
        return pd.read_csv(self.root / "employees.csv", dtype=str, keep_default_na=False)

    @cached_property
    def actuals(self) -> pd.DataFrame:
        frame = pd.read_csv(self.root / "actuals.csv", dtype=str, keep_default_na=False)
        return frame.assign(value=frame["value"].astype(float))


def band_score(value: float, bands: pd.Series) -> float:
    """The banded score of one value: 0 below the threshold, 50 → 100 up to the target, 100 → 150 up to the
    stretch, capped at 150; lower-is-better mirrored; a range scores 100 inside, 50 → 100 from the threshold
    range's edges and 0 beyond them; NaN without a value."""
    if np.isnan(value):
        return np.nan
    if bands["polarity"] == "within_range":
        low, high, outer_low, outer_high = (bands[f] for f in BAND_FIELDS[3:])
        if np.isnan([low, high, outer_low, outer_high]).any():
            raise ValueError(f"incomplete range bands for {bands['role']}/{bands['kpi_id']}")
        if low <= value <= high:
            return TARGET_SCORE
        if value < outer_low or value > outer_high:
            return 0.0
        edge, outer = (low, outer_low) if value < low else (high, outer_high)
        return THRESHOLD_SCORE + (TARGET_SCORE - THRESHOLD_SCORE) * (value - outer) / (edge - outer)
    sign = {"higher_is_better": 1.0, "lower_is_better": -1.0}[bands["polarity"]]
    x, threshold, target, stretch = (sign * v for v in (value, bands["threshold"], bands["target"], bands["stretch"]))
    if np.isnan([threshold, target, stretch]).any():
        raise ValueError(f"incomplete bands for {bands['role']}/{bands['kpi_id']}")
    if x < threshold:
        return 0.0
    if x < target:
        return THRESHOLD_SCORE + (TARGET_SCORE - THRESHOLD_SCORE) * (x - threshold) / (target - threshold)
    return min(CAP, TARGET_SCORE + (STRETCH_SCORE - TARGET_SCORE) * (x - target) / (stretch - target))


def status(score: float) -> str:
    """Green at 100 or more, amber at 50 or more, red below, grey without a score."""
    if np.isnan(score):
        return "grey"
    return "green" if score >= TARGET_SCORE else "amber" if score >= THRESHOLD_SCORE else "red"


def weighted_score(rows: pd.DataFrame) -> float:
    """Σ weight × score / Σ weight over the rows that have a score (NaN when none has)."""
    scored = rows[rows["score"].notna()]
    return float((scored["weight"] * scored["score"]).sum() / scored["weight"].sum()) if len(scored) else np.nan


def _per_group(rows: pd.DataFrame, keys: list[str]) -> pd.Series:
    return rows.groupby(keys)[["weight", "score"]].apply(weighted_score)


class ScopeFigures:
    """What a notebook run for `team` ("" = the whole organization) and `period` ("" = latest) must see."""

    def __init__(self, files: WorkspaceFiles, team: str, period: str) -> None:
        self.files, self.team, self.requested_period = files, team, period

    # --- who and what is in scope --------------------------------------------------------------------------

    @cached_property
    def roles(self) -> list[dict[str, Any]]:
        return [r for r in self.files.roles if not self.team or self.team in r["teams"]]

    @cached_property
    def employees(self) -> pd.DataFrame:
        people = self.files.employees
        return people[people["team"] == self.team] if self.team else people

    @cached_property
    def actuals(self) -> pd.DataFrame:
        """The team's rows of its own people and its team-level rows (every row for the organization)."""
        rows = self.files.actuals
        if not self.team:
            return rows
        mine = rows["employee_id"].isin(self.employees["employee_id"]) | rows["employee_id"].eq("")
        return rows[(rows["team"] == self.team) & mine]

    @cached_property
    def periods(self) -> list[str]:
        return sorted(self.actuals["period"].unique())

    @property
    def period(self) -> str:
        return self.requested_period or self.periods[-1]

    @cached_property
    def periods_to_date(self) -> list[str]:
        return [p for p in self.periods if p <= self.period]

    @cached_property
    def to_date(self) -> pd.DataFrame:
        return self.actuals[self.actuals["period"].isin(self.periods_to_date)]

    @cached_property
    def assignments(self) -> pd.DataFrame:
        """One row per KPI of a role in scope, with the definition's classification and the assignment's bands."""
        rows = []
        for role in self.roles:
            for a in role.get("kpis", []):
                definition = self.files.kpis.get(a["kpi"], {})
                low, high = a.get("target_range") or (np.nan, np.nan)
                outer_low, outer_high = a.get("threshold_range") or (np.nan, np.nan)
                rows.append({
                    "role": role["id"], "role_teams": role["teams"], "kpi_id": a["kpi"], "weight": float(a["weight"]),
                    "threshold": a.get("threshold", np.nan), "target": a.get("target", np.nan),
                    "stretch": a.get("stretch", np.nan), "range_low": low, "range_high": high,
                    "threshold_low": outer_low, "threshold_high": outer_high,
                    "objectives": a.get("objectives", []), "responsibility": a.get("responsibility") or "",
                    "polarity": definition.get("polarity"), "category": definition.get("category"),
                    "indicator": definition.get("indicator"),
                })
        frame = pd.DataFrame(rows)
        return frame.astype(dict.fromkeys(BAND_FIELDS, float))

    def header(self) -> dict[str, Any]:
        """The figures every step records first."""
        return {"team": self.team, "roles": len(self.roles), "people": len(self.employees)}

    # --- step 1: objectives ---------------------------------------------------------------------------------

    def covered_objectives(self) -> set[str]:
        """Objectives a KPI in scope serves, directly or through a child objective (the cascade)."""
        parent = {o["id"]: o.get("parent") for o in self.files.objectives}
        covered: set[str] = set()
        for objective in {o for served in self.assignments["objectives"] for o in served}:
            while objective in parent and objective not in covered:
                covered.add(objective)
                objective = parent[objective]
        return covered

    def unlinked_assignments(self) -> int:
        known = {o["id"] for o in self.files.objectives}
        return int(sum(not known.intersection(served) for served in self.assignments["objectives"]))

    # --- step 2: job descriptions ---------------------------------------------------------------------------

    def responsibilities(self) -> pd.DataFrame:
        """One row per responsibility in scope: role, id, expected outcome and how many of the role's KPIs name it."""
        rows = [(role["id"], resp["id"], resp.get("expected_outcome") or "",
                 sum(a.get("responsibility") == resp["id"] for a in role.get("kpis", [])))
                for role in self.roles for resp in role.get("responsibilities", [])]
        return pd.DataFrame(rows, columns=["role", "responsibility", "expected_outcome", "kpis"])

    def kpis_without_responsibility(self) -> int:
        return sum(a.get("responsibility") not in {r["id"] for r in role.get("responsibilities", [])}
                   for role in self.roles for a in role.get("kpis", []))

    # --- step 3: KPI design ---------------------------------------------------------------------------------

    def roles_where(self, condition: Any) -> list[str]:
        """Roles in scope (file order) whose KPI rows meet `condition(rows)`."""
        return [role for role, rows in self.assignments.groupby("role", sort=False) if condition(rows)]

    # --- step 4: targets ------------------------------------------------------------------------------------

    def current_verdicts(self) -> Counter[str]:
        """Per role KPI: the share of the role's values to date (its people's, and its teams' team-level values)
        meeting the current target, judged against the framework's achievable band."""
        low, high = self.files.settings["achievable_low"], self.files.settings["achievable_high"]
        rows = self.to_date.merge(self.employees[["employee_id", "role"]], on="employee_id", how="left")
        verdicts: Counter[str] = Counter()
        for a in self.assignments.itertuples():
            own = (rows["role"] == a.role) & (rows["employee_id"] != "")
            shared = (rows["employee_id"] == "") & rows["team"].isin(a.role_teams)
            values = rows.loc[(own | shared) & (rows["kpi_id"] == a.kpi_id), "value"].dropna()
            if a.polarity == "within_range":
                met = values.between(a.range_low, a.range_high)
            else:
                met = values >= a.target if a.polarity == "higher_is_better" else values <= a.target
            share = met.mean() if len(values) else None
            verdicts["no data" if share is None else "too easy" if share > high else "unrealistic" if share < low
                     else "challenging but achievable"] += 1
        return verdicts

    # --- step 5: review -------------------------------------------------------------------------------------

    @cached_property
    def scores(self) -> pd.DataFrame:
        """Every person in scope × their role's KPIs × period to date: the value that counts (their own, else
        their team's team-level value) and its banded score."""
        grid = (self.employees[["employee_id", "team", "role"]]
                .merge(self.assignments, on="role")
                .merge(pd.DataFrame({"period": self.periods_to_date}), how="cross"))
        actuals = self.to_date
        own = actuals.loc[actuals["employee_id"] != "", ["period", "employee_id", "kpi_id", "value"]]
        shared = actuals.loc[actuals["employee_id"] == "", ["period", "team", "kpi_id", "value"]]
        grid = grid.merge(own, on=["period", "employee_id", "kpi_id"], how="left").merge(
            shared.rename(columns={"value": "team_value"}), on=["period", "team", "kpi_id"], how="left")
        grid["value"] = grid["value"].fillna(grid["team_value"])
        grid["score"] = [band_score(row["value"], row) for _, row in grid.iterrows()]
        return grid

    @cached_property
    def period_scores(self) -> pd.DataFrame:
        return self.scores[self.scores["period"] == self.period]

    def scores_by(self, keys: list[str]) -> pd.Series:
        """Weighted score of the period per group."""
        return _per_group(self.period_scores, keys)

    def statuses_by(self, keys: list[str]) -> Counter[str]:
        return Counter(status(s) for s in self.scores_by(keys))

    def flags(self) -> pd.DataFrame:
        """The review flags of the period, one row each: flag, team, role, kpi_id, objective."""
        stats = self.scores.groupby([*GROUP, "period"])["value"].agg(["median", "count", "min", "max"]).reset_index()
        bands = self.assignments.drop(columns=["weight", "objectives", "responsibility"])
        stats = stats.merge(bands, on=["role", "kpi_id"])
        sign = stats["polarity"].map({"higher_is_better": 1.0, "lower_is_better": -1.0})
        within = stats["polarity"] == "within_range"
        stats["too_easy"] = np.where(within, (stats["count"] > 0) & (stats["min"] >= stats["range_low"])
                                     & (stats["max"] <= stats["range_high"]),
                                     sign * stats["median"] >= sign * stats["stretch"])
        stats["not_met"] = np.where(within, (stats["median"] < stats["threshold_low"])
                                    | (stats["median"] > stats["threshold_high"]),
                                    sign * stats["median"] < sign * stats["threshold"])
        rows = []
        recent = self.periods_to_date[-STREAK:]
        for key, group in stats.groupby(GROUP):
            by_period = group.set_index("period")
            if len(self.periods_to_date) >= STREAK:
                for column, flag in (("too_easy", "target_too_easy"), ("not_met", "never_met")):
                    if by_period[column].reindex(recent, fill_value=False).all():
                        rows.append((flag, *key, ""))
            if by_period["count"].get(self.period, 0) == 0:
                rows.append(("no_data", *key, ""))
        rows += self._variation_flags() + self._all_red_flags() + self._framework_flags()
        return pd.DataFrame(rows, columns=["flag", *GROUP, "objective"])

    def _variation_flags(self) -> list[tuple[str, ...]]:
        """Groups with two or more values to date whose spread is under 5 % of the band span."""
        rows = []
        for key, group in self.scores.groupby(GROUP):
            values = group["value"].dropna()
            band = group.iloc[0]
            span = (abs(band["threshold_high"] - band["threshold_low"]) if band["polarity"] == "within_range"
                    else abs(band["stretch"] - band["threshold"]))
            limit = NO_VARIATION_SHARE * span + 1e-9 * max(1.0, abs(values.mean()))
            if len(values) >= 2 and values.std(ddof=0) <= limit:
                rows.append(("no_variation", *key, ""))
        return rows

    def _all_red_flags(self) -> list[tuple[str, ...]]:
        """Per team, objectives whose KPIs with data are all red in the period (KPI = mean over the role's people)."""
        kpis = self.scores_by(GROUP).dropna().map(status).rename("status").reset_index()
        served = self.assignments[["role", "kpi_id", "objectives"]].explode("objectives").dropna()
        linked = kpis.merge(served, on=["role", "kpi_id"])
        red = linked.groupby(["team", "objectives"])["status"].agg(lambda s: (s == "red").all())
        return [("objective_all_red", team, "", "", objective) for (team, objective), all_red in red.items()
                if all_red]

    def _framework_flags(self) -> list[tuple[str, ...]]:
        """Assignments serving no objective and roles without a development KPI, once per team of the role."""
        rows = []
        for role in self.files.roles:
            teams = [t for t in role["teams"] if not self.team or t == self.team]
            for a in role.get("kpis", []):
                rows += [("kpi_without_objective", t, role["id"], a["kpi"], "") for t in teams
                         if not a.get("objectives")]
            if not any(self.files.kpis.get(a["kpi"], {}).get("category") == "development" for a in role["kpis"]):
                rows += [("role_without_development_kpi", t, role["id"], "", "") for t in teams]
        return rows
