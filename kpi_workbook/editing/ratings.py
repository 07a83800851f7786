"""Ratings decided in a review meeting (behaviour and competency KPIs, e.g. 1-5): entered per person and KPI for a
period, checked against the KPI's scale, and stored through the actuals import, with who rated and when.

Each period × team × KPI is one file, ``ratings/<period>_<team>_<kpi>.csv`` in the workspace (columns period,
team, employee_id, kpi_id, value, rated_by, rated_at): the record of the meeting, imported like any actuals file,
so the store's slice for that period, team and KPI becomes exactly what the file holds. Only the ratings entered
(new or changed) are recorded as rated by the person saving, now; the others keep what was recorded for them
(nothing, for ratings that came from an actuals import). The texts typed in (``rated_by``) are written so that a
spreadsheet never reads them as a formula (see ``reports.safe_cells``); the ids are the import's keys and are
checked by it against employees.csv and the framework.
"""

from __future__ import annotations

__all__ = [
    "NOT_RECORDED", "RATINGS_FOLDER", "RATING_COLUMNS", "RatingSheet", "SCALE", "TYPED_COLUMNS", "is_rated",
    "rating_scale", "ratings_csv",
]

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from kpi_workbook.core.atomic_files import write_text_atomically
from kpi_workbook.core.errors import InputError, Problem
from kpi_workbook.core.model import Category, KpiDefinition, MeasureType
from kpi_workbook.editing.messages import FORM
from kpi_workbook.reports.safe_cells import neutralize
from kpi_workbook.workspace.importer import ImportResult, import_actuals
from kpi_workbook.workspace.opener import Workspace

RATINGS_FOLDER = "ratings"
RATING_COLUMNS = ["period", "team", "employee_id", "kpi_id", "value", "rated_by", "rated_at"]
TYPED_COLUMNS = ["rated_by", "rated_at"]
NOT_RECORDED = ("", "")
SCALE = re.compile(r"(-?\d+(?:\.\d+)?)\s*(?:-|–|to)\s*(-?\d+(?:\.\d+)?)")


def rating_scale(definition: KpiDefinition) -> tuple[float, float] | None:
    """The scale a rated KPI's unit names, e.g. ``rating (1-5)`` -> (1, 5); None when the unit names none."""
    found = SCALE.search(definition.unit or "")
    return (float(found.group(1)), float(found.group(2))) if found else None


def is_rated(definition: KpiDefinition) -> bool:
    """True for a KPI decided by people (qualitative, or a behaviour KPI) on a scale its unit names."""
    decided = definition.measure_type is MeasureType.QUALITATIVE or definition.category is Category.BEHAVIOUR
    return decided and rating_scale(definition) is not None


@dataclass(frozen=True)
class RatingSheet:
    """One period's ratings of one KPI for the people of one team who hold a role with that KPI."""

    workspace: Workspace
    period: str
    team: str
    kpi: KpiDefinition

    @property
    def scale(self) -> tuple[float, float]:
        scale = rating_scale(self.kpi)
        if scale is None:
            raise InputError(Problem(file="kpis.yaml", entry=f"KPI '{self.kpi.id}'", field="unit", message=(
                "The unit names no rating scale: write it as e.g. 'rating (1-5)' to enter ratings in a form.")))
        return scale

    @property
    def path(self) -> Path:
        return self.workspace.root / RATINGS_FOLDER / f"{self.period}_{self.team}_{self.kpi.id}.csv"

    def people(self) -> pd.DataFrame:
        """employee_id and name of the team's people whose role has the KPI, in employees.csv order."""
        framework = self.workspace.framework
        roles = {r.id for r in framework.roles if any(k.kpi == self.kpi.id for k in r.kpis)}
        staff = self.workspace.employees
        return staff[(staff["team"] == self.team) & staff["role"].isin(roles)][["employee_id", "name"]]

    def current(self) -> dict[str, float]:
        """The ratings stored for the period, team and KPI, by employee id."""
        actuals = self.workspace.scope(team=self.team).actuals
        rows = actuals[(actuals["period"].astype(str) == self.period) & (actuals["kpi_id"] == self.kpi.id)
                       & actuals["value"].notna()]
        return dict(zip(rows["employee_id"].astype(str), rows["value"].astype(float), strict=True))

    def check(self, ratings: dict[str, float | None]) -> list[Problem]:
        """A plain-words problem for each rating off the KPI's scale or for someone not on the sheet."""
        low, high = self.scale
        names = dict(zip(self.people()["employee_id"], self.people()["name"], strict=True))
        problems = []
        for person, value in ratings.items():
            if person not in names:
                problems.append(Problem(file=FORM, entry=f"person '{person}'", field="employee_id", message=(
                    f"{person} is not one of the {self.team} team's people rated on {self.kpi.name}.")))
            elif value is not None and not low <= value <= high:
                problems.append(Problem(file=FORM, entry=f"person '{person}'", field="value", message=(
                    f"{names[person]}: {value:g} is off the scale of {self.kpi.name}; give a rating from {low:g} "
                    f"to {high:g}, or leave it blank for no rating.")))
        return problems

    def save(self, ratings: dict[str, float | None], rated_by: str) -> ImportResult:
        """Store the sheet: `ratings` (blank = no rating) for every person on it, replacing the stored slice.

        The ratings file records who rated and when for each rating entered, new or changed (unchanged ones keep
        what was recorded for them, or nothing).
        InputError, with nothing written or imported, for a rating off the scale or an empty `rated_by`;
        KpiWorkbookError for the read-only bundled sample.
        """
        self.workspace.require_writable()
        problems = self.check(ratings)
        if not rated_by.strip():
            problems.append(Problem(file=FORM, field="rated_by", message=(
                "Say who rates (a name or a role, e.g. 'review meeting, sales, 2025-01-15'): it is kept with "
                "each rating.")))
        if problems:
            raise InputError(problems)
        frame = self._rows(ratings, (rated_by.strip(), dt.datetime.now(dt.UTC).isoformat(timespec="seconds")))
        if frame.empty:
            raise InputError(Problem(file=FORM, field="value", message=(
                "There is no rating to save: type at least one rating.")))
        previous = self.path.read_text() if self.path.exists() else None
        write_text_atomically(self.path, ratings_csv(frame))
        try:
            return import_actuals(self.path, self.workspace.root)
        except InputError:
            if previous is None:
                self.path.unlink()
            else:
                write_text_atomically(self.path, previous)
            raise

    def _rows(self, ratings: dict[str, float | None], entered: tuple[str, str]) -> pd.DataFrame:
        """The sheet's rows: a rating entered (not the one stored) gets `entered` (who, when); the others keep what
        was recorded for them, or nothing."""
        stored, earlier = self.current(), self._recorded()
        rows = []
        for person in self.people()["employee_id"]:
            value = ratings.get(person, stored.get(person))
            if value is None:
                continue
            unchanged = person in stored and stored[person] == value
            who, when = earlier.get(person, NOT_RECORDED) if unchanged else entered
            rows.append((self.period, self.team, person, self.kpi.id, value, who, when))
        return pd.DataFrame(rows, columns=RATING_COLUMNS)

    def _recorded(self) -> dict[str, tuple[str, str]]:
        """Who rated each person and when, from the sheet's file as last saved."""
        if not self.path.exists():
            return {}
        frame = pd.read_csv(self.path, dtype=str, keep_default_na=False)
        return {row.employee_id: (row.rated_by, row.rated_at) for row in frame.itertuples()}


def ratings_csv(frame: pd.DataFrame) -> str:
    """A ratings sheet as CSV text, its typed-in texts never read as a formula by a spreadsheet."""
    safe = frame.copy()
    for column in TYPED_COLUMNS:
        safe[column] = safe[column].astype(object).map(neutralize)
    return safe.to_csv(index=False)
