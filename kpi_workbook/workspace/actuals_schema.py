"""Validating actuals against the framework and employees with a pandera schema; every bad row gets a reason.

Values must be plain numbers with a decimal point ("12.5", "-3", "1e3"). Rejected on purpose, because they
are ambiguous: a decimal comma or thousands separator ("1,5", "1,200"), a percent sign ("12%": give the
number in the KPI's unit), text, an empty value (leave the row out when there is no data) and NaN/infinity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa

from kpi_workbook.core.errors import InputError, Problem
from kpi_workbook.core.model import Framework
from kpi_workbook.core.periods import EXAMPLES, period_table
from kpi_workbook.workspace.actuals_reader import LONG_COLUMNS, RawActuals
from kpi_workbook.workspace.sources import fold

STORE_COLUMNS = ["period", "period_start", "team", "employee_id", "kpi_id", "value"]
REPORT_COLUMNS = ["row", "column", "value", "reason"]
OTHER_TEAM = "employee belongs to another team in employees.csv"
NOT_IN_ROLE = "KPI is not assigned to the employee's role"
NOT_IN_TEAM = "team-level value (no employee id) for a KPI that no role of the team has"
DUPLICATE = "duplicate: another row has the same period, team, employee and KPI"
NOT_A_PERIOD = (f"not a period (write e.g. {EXAMPLES}; give dates in another format, such as 4/15/2025, with "
                "--date-format '%m/%d/%Y')")
ROW_CHECK_COLUMNS = {OTHER_TEAM: "employee_id", NOT_IN_ROLE: "kpi_id", NOT_IN_TEAM: "kpi_id", DUPLICATE: "kpi_id"}


@dataclass(frozen=True)
class ValidatedActuals:
    """The rows that passed (store columns, indexed like `source`), the problems (row, column, value, reason),
    the rejected rows (as read, with a reason column) and the table as read."""

    file: str
    valid: pd.DataFrame
    report: pd.DataFrame
    rejected: pd.DataFrame
    source: pd.DataFrame


class RejectedRowsError(InputError):
    """Rows of an actuals file failed validation; nothing was imported. `report` lists every problem.

    `importable` and `held_back` say what an import of the valid rows would do: how many values it would store,
    and how many valid rows it would hold back with the rejected ones (same period, team and KPI).
    """

    def __init__(self, validated: ValidatedActuals, importable: int = 0, held_back: int = 0):
        self.report = validated.report
        self.importable, self.held_back = importable, held_back
        problems = [Problem(file=validated.file, entry=f"row {r.row}", field=r.column,
                            message=f"{r.reason} (got {r.value!r})")
                    for r in validated.report.itertuples(index=False)]
        super().__init__(problems)


def _text(values: pd.Series) -> pd.Series:
    return values.astype(str).str.strip()


def _numbers(values: pd.Series) -> pd.Series:
    return pd.to_numeric(_text(values), errors="coerce").astype("float64")


def _value_checks() -> list[pa.Check]:
    """One check per reason a value is refused, each silent about the cases another check names."""
    def nan_text(s: pd.Series) -> pd.Series:
        return _text(s).str.lower().isin(["nan", "-nan", "+nan"])

    def plain(s: pd.Series) -> pd.Series:
        text = _text(s)
        return (text != "") & ~text.str.contains(",", regex=False) & ~text.str.endswith("%") & ~nan_text(s)

    return [
        pa.Check(lambda s: _text(s) != "", error="value is empty (leave the row out when there is no data)"),
        pa.Check(lambda s: ~_text(s).str.contains(",", regex=False),
                 error="a comma in a number: write decimals with a point and no thousands separator (1234.5)"),
        pa.Check(lambda s: ~_text(s).str.endswith("%"),
                 error="a percent sign: give the number in the KPI's unit without % (12, not 12%)"),
        pa.Check(lambda s: ~plain(s) | _numbers(s).notna(), error="not a number"),
        pa.Check(lambda s: ~(np.isinf(_numbers(s)) | nan_text(s)), error="not a finite number (NaN or infinity)"),
    ]


def _pair(left: pd.Series, right: pd.Series) -> pd.Series:
    return left.astype(str) + "\x1f" + right.astype(str)


def actuals_schema(framework: Framework, employees: pd.DataFrame) -> pa.DataFrameSchema:
    """The pandera schema of an actuals table for this framework and these employees."""
    teams = sorted(t.id for t in framework.teams)
    kpis = {k.id for k in framework.kpis}
    people = employees.drop_duplicates("employee_id").set_index("employee_id")
    kpis_of_role: dict[str, set[str]] = {}
    for assignment in framework.assignments:
        kpis_of_role.setdefault(assignment.role, set()).add(assignment.kpi.kpi)
    team_roles = {(team, r.id) for r in framework.roles for team in r.teams}
    team_roles |= set(zip(people["team"], people["role"], strict=True))
    team_kpis = pd.Index({f"{t}\x1f{k}" for t, r in team_roles for k in kpis_of_role.get(r, ())})
    role_kpis = pd.Index({f"{r}\x1f{k}" for r, ks in kpis_of_role.items() for k in ks})
    known_teams = ", ".join(teams) if len(teams) <= 12 else f"{len(teams)} teams in teams.yaml"

    def person(frame: pd.DataFrame) -> pd.Series:
        return frame["employee_id"].isin(people.index)

    def in_team(frame: pd.DataFrame) -> pd.Series:
        return ~person(frame) | ~frame["team"].isin(teams) | (frame["employee_id"].map(people["team"]) == frame["team"])

    def role_has_kpi(frame: pd.DataFrame) -> pd.Series:
        known = frame["kpi_id"].isin(kpis) & person(frame)
        role = frame["employee_id"].map(people["role"])
        return ~known | _pair(role, frame["kpi_id"]).isin(role_kpis)

    def team_has_kpi(frame: pd.DataFrame) -> pd.Series:
        team_level = (frame["employee_id"] == "") & frame["kpi_id"].isin(kpis) & frame["team"].isin(teams)
        return ~team_level | _pair(frame["team"], frame["kpi_id"]).isin(team_kpis)

    def unique(frame: pd.DataFrame) -> pd.Series:
        labels = period_table(frame["period"])["label"]
        key = frame[["team", "employee_id", "kpi_id"]].assign(period=labels)
        return ~key.duplicated(keep=False) | labels.isna()

    return pa.DataFrameSchema(
        {
            "period": pa.Column(str, pa.Check(lambda s: period_table(s)["label"].notna(), ignore_na=False,
                                              error=NOT_A_PERIOD)),
            "team": pa.Column(str, [
                pa.Check(lambda s: s != "", error="team is empty"),
                pa.Check(lambda s: (s == "") | s.isin(teams),
                         error=f"unknown team: not a team id or name of teams.yaml (ids: {known_teams})"),
            ]),
            "employee_id": pa.Column(str, pa.Check(lambda s: (s == "") | s.isin(people.index),
                                                   error="unknown employee (not in employees.csv)")),
            "kpi_id": pa.Column(str, [
                pa.Check(lambda s: s != "", error="KPI id is empty"),
                pa.Check(lambda s: (s == "") | s.isin(kpis), error="unknown KPI id (not in kpis.yaml)"),
            ]),
            "value": pa.Column(str, _value_checks()),
            "extra": pa.Column(str, pa.Check(lambda s: s == "", error="more cells than the header has columns "
                                                                       "(an unquoted comma, as in 1,5?)")),
        },
        checks=[
            pa.Check(in_team, error=OTHER_TEAM),
            pa.Check(role_has_kpi, error=NOT_IN_ROLE),
            pa.Check(team_has_kpi, error=NOT_IN_TEAM),
            pa.Check(unique, error=DUPLICATE),
        ],
        strict=False,
        coerce=False,
    )


def _failures(error: pa.errors.SchemaErrors) -> pd.DataFrame:
    """Failure cases as (index, column, reason); a check over whole rows is named once, on its column."""
    cases = error.failure_cases
    cases = cases[cases["index"].notna()]
    row_check = cases["schema_context"] == "DataFrameSchema"
    column = cases["column"].where(~row_check, cases["check"].map(ROW_CHECK_COLUMNS))
    failures = pd.DataFrame({"index": cases["index"].astype(int), "column": column,
                             "reason": cases["check"].astype(str)})
    return failures.drop_duplicates().reset_index(drop=True)


def team_ids(values: pd.Series, framework: Framework) -> pd.Series:
    """Team values as team ids: an id stays, a team name (case, accents and spaces ignored) becomes its id, any
    other value is kept for the schema to reject (the same rules as a source's `team_match: name`)."""
    ids = {t.id for t in framework.teams}
    names = {fold(t.name): t.id for t in framework.teams}
    lookup = {v: v if v in ids else names.get(fold(v), v) for v in pd.unique(values.astype(str))}
    return values.astype(str).map(lookup)


def validate_actuals(raw: RawActuals, framework: Framework, employees: pd.DataFrame) -> ValidatedActuals:
    """Check every row; returns the valid rows ready for the store and a report of the rejected ones.

    Teams may be given by id or by name (see team_ids)."""
    frame = raw.frame.assign(team=team_ids(raw.frame["team"], framework))
    try:
        actuals_schema(framework, employees).validate(frame[[*LONG_COLUMNS, "extra"]], lazy=True)
        failures = pd.DataFrame({"index": pd.Series(dtype=int), "column": pd.Series(dtype=str),
                                 "reason": pd.Series(dtype=str)})
    except pa.errors.SchemaErrors as exc:
        failures = _failures(exc)
    located = frame.loc[failures["index"]].reset_index(drop=True)
    values = pd.Series("", index=located.index, dtype="object")
    for column in failures["column"].unique():
        at = failures["column"] == column
        values[at] = located.loc[at, column]
    shown_column = failures["column"].where(failures["column"] != "value", located["column"])
    report = pd.DataFrame({"row": located["row"], "column": shown_column, "value": values,
                           "reason": failures["reason"]})
    order = report.sort_values(["row", "column"], kind="stable").index
    report = report.loc[order, REPORT_COLUMNS].reset_index(drop=True)

    reasons = (shown_column + ": " + failures["reason"]).groupby(failures["index"].to_numpy()).agg("; ".join)
    bad = frame.index.isin(failures["index"])
    rejected = frame[bad].assign(reason=lambda f: f.index.map(reasons))

    good = frame[~bad]
    periods = period_table(good["period"])
    valid = pd.DataFrame({
        "period": periods["label"].astype(str),
        "period_start": periods["start"].dt.date,
        "team": good["team"].astype(str),
        "employee_id": good["employee_id"].astype(str),
        "kpi_id": good["kpi_id"].astype(str),
        "value": _numbers(good["value"]),
    })
    return ValidatedActuals(file=raw.file, valid=valid[STORE_COLUMNS], report=report, rejected=rejected,
                            source=frame)
