"""The outcome of checking an actuals file: its valid and rejected rows in the import's scratch database, the error
that lists the rejected ones, and the rules both checks share (plain numbers, team ids). Kept apart from the
pandera schema (actuals_schema), which only a file that may hold a bad row needs."""

from __future__ import annotations

__all__ = ["PLAIN_NUMBER", "RejectedRowsError", "STORE_COLUMNS", "ValidatedActuals", "team_ids"]

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from kpi_workbook.core.errors import InputError, Problem
from kpi_workbook.core.issue_codes import Code
from kpi_workbook.core.model import Framework
from kpi_workbook.workspace.actuals_reader import LONG_COLUMNS
from kpi_workbook.workspace.scratch import Scratch, literal
from kpi_workbook.workspace.sources import fold

STORE_COLUMNS = ["period", "period_start", "team", "employee_id", "kpi_id", "value"]
PLAIN_NUMBER = r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"  # DuckDB reads these as pandas does


@dataclass(frozen=True)
class ValidatedActuals:
    """The outcome of validation, kept in `scratch`: the view `valid_table` (STORE_COLUMNS, `id` and `row`), the
    table `rejected_table` (the rows as read with a reason column), and the problems (row, column, value, reason)."""

    file: str
    scratch: Scratch
    report: pd.DataFrame
    valid_table: str = "valid"
    rejected_table: str = "rejected"

    @property
    def valid_count(self) -> int:
        """How many rows passed."""
        return self.scratch.value(f"SELECT count(*) FROM {self.valid_table}")

    @property
    def rejected_count(self) -> int:
        """How many rows were rejected."""
        return self.scratch.value(f"SELECT count(*) FROM {self.rejected_table}")

    def valid_rows(self) -> Path:
        """The valid rows in STORE_COLUMNS, written to a Parquet file in the scratch folder for the store."""
        path = self.scratch.folder / f"{self.valid_table}.parquet"
        self.scratch.con.execute(f"COPY (SELECT {', '.join(STORE_COLUMNS)} FROM {self.valid_table}) "
                                 f"TO {literal(str(path))} (FORMAT parquet)")
        return path

    def rejected_rows(self) -> pd.DataFrame:
        """The rejected rows (row, the five fields, reason) in file order."""
        return self.scratch.frame(f"SELECT row, {', '.join(LONG_COLUMNS)}, reason FROM {self.rejected_table} "
                                  "ORDER BY row, id")


class RejectedRowsError(InputError):
    """Rows of an actuals file failed validation; nothing was imported. `report` lists every problem.

    `importable` and `held_back` say what an import of the valid rows would do: how many values it would store,
    and how many valid rows it would hold back with the rejected ones (same period, team and KPI).
    """

    def __init__(self, validated: ValidatedActuals, importable: int = 0, held_back: int = 0):
        self.report = validated.report
        self.importable, self.held_back = importable, held_back
        problems = [Problem(file=validated.file, row=int(r.row), field=r.column, code=Code.INPUT_REJECTED_ROW,
                            message=f"{r.reason} (got {r.value!r})")
                    for r in validated.report.itertuples(index=False)]
        super().__init__(problems)


def team_ids(values: pd.Series, framework: Framework) -> pd.Series:
    """Team values as team ids: an id stays, a team name or id in other case, accents or spacing (`SALES`,
    `Customer_Support`) becomes its id (a name first), any other value is kept for the schema to reject."""
    ids = {t.id for t in framework.teams}
    folded = {fold(t.id): t.id for t in framework.teams} | {fold(t.name): t.id for t in framework.teams}
    lookup = {v: v if v in ids else folded.get(fold(v), v) for v in pd.unique(values.astype(str))}
    return values.astype(str).map(lookup)
