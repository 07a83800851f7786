"""The ratings file of a review meeting (ratings/PERIOD_TEAM_KPI.csv): no cell a spreadsheet runs as a formula,
and only the ratings entered are recorded as rated by the person saving, now."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from kpi_workbook.editing.ratings import RatingSheet
from kpi_workbook.workspace.opener import open_workspace

TEAM, KPI = "sales", "collaboration_rating"
FORMULA = '=HYPERLINK("http://example.com/x","details")'


def _sheet(workspace: Path) -> RatingSheet:
    opened = open_workspace(workspace)
    period = opened.scope(team=TEAM).periods[-1]
    return RatingSheet(opened, period, TEAM, opened.framework.kpi(KPI))


def _rows(sheet: RatingSheet) -> dict[str, dict[str, str]]:
    with sheet.path.open(newline="", encoding="utf-8") as file:
        return {row["employee_id"]: row for row in csv.DictReader(file)}


def _other(value: float) -> float:
    """A rating on the 1-5 scale other than `value`."""
    return 2.0 if value != 2.0 else 3.0


@pytest.fixture
def sheet(sample_workspace: Path) -> RatingSheet:
    return _sheet(sample_workspace)


def test_a_rater_that_looks_like_a_formula_is_stored_inert(sheet, sample_workspace):
    stored = sheet.current()
    person = next(iter(stored))
    sheet.save({person: _other(stored[person])}, FORMULA)
    cell = _rows(sheet)[person]["rated_by"]
    assert cell == "'" + FORMULA  # a spreadsheet shows it as text
    again = _sheet(sample_workspace)
    second = next(p for p in stored if p != person)
    again.save({second: _other(stored[second])}, "sales review meeting")
    assert _rows(again)[person]["rated_by"] == "'" + FORMULA  # kept as recorded, not quoted twice


def test_only_the_ratings_entered_are_recorded_as_rated_now(sheet, sample_workspace):
    stored = sheet.current()
    changed, untouched = list(stored)[:2]
    typed = {person: value for person, value in stored.items()}  # the form sends every field, as shown
    typed[changed] = _other(stored[changed])
    sheet.save(typed, "sales review meeting")
    rows = _rows(sheet)
    assert rows[changed]["rated_by"] == "sales review meeting" and rows[changed]["rated_at"]
    assert (rows[untouched]["rated_by"], rows[untouched]["rated_at"]) == ("", "")  # from the import: no rater
    assert float(rows[untouched]["value"]) == stored[untouched]

    later = _sheet(sample_workspace)
    now = later.current()
    typed = dict(now)
    typed[untouched] = _other(now[untouched])
    later.save(typed, "J. Smith")
    after = _rows(later)
    assert (after[changed]["rated_by"], after[changed]["rated_at"]) == (
        "sales review meeting", rows[changed]["rated_at"])  # kept as first recorded
    assert after[untouched]["rated_by"] == "J. Smith"
