"""Validating actuals against the framework and employees with a pandera schema; every bad row gets a reason.

Values must be plain numbers with a decimal point ("12.5", "-3", "1e3"). Rejected on purpose, because they
are ambiguous: a decimal comma or thousands separator ("1,5", "1,200"), a percent sign ("12%": give the
number in the KPI's unit), text, an empty value (leave the row out when there is no data) and NaN/infinity.
A value must count for someone by the rule of `workspace.assignments`, whose reasons the report gives.

The rows stay in the import's scratch DuckDB database: each pandera schema checks the distinct values it reads
(a few hundred periods, teams, people and KPIs rather than millions of rows), and SQL joins the failures back
onto the rows that hold those values, so the report names the same rows, columns and reasons row by row.
"""

from __future__ import annotations

__all__ = [
    "ActualsSchema", "DUPLICATE", "NOT_A_PERIOD", "ROW_CHECK_COLUMNS", "actuals_schema", "not_a_period",
    "validate_actuals",
]

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa

from kpi_workbook.core.model import Framework
from kpi_workbook.core.periods import EXAMPLES, period_table
from kpi_workbook.workspace.actuals_checked import PLAIN_NUMBER, ValidatedActuals, team_ids
from kpi_workbook.workspace.actuals_reader import LONG_COLUMNS, RawActuals
from kpi_workbook.workspace.assignments import (
    NOT_THE_ROLE,
    NOT_THE_TEAM,
    OTHER_TEAM,
    TEAM_LEVEL,
    UNKNOWN_EMPLOYEE,
    KpiHolders,
)
from kpi_workbook.workspace.scratch import Scratch, literal

DUPLICATE = "duplicate: another row has the same period, team, employee and KPI"
NOT_A_PERIOD = (f"not a period (write e.g. {EXAMPLES}; give dates in another format, such as 4/15/2025, with "
                "--date-format '%m/%d/%Y')")


def not_a_period(date_formats: Sequence[str] = ()) -> str:
    """Why a period cell is rejected: with date formats given, that it is no date in any of them either."""
    if not date_formats:
        return NOT_A_PERIOD
    return f"not a period, nor a date in the format {' or '.join(date_formats)} (periods are written e.g. {EXAMPLES})"
ROW_CHECK_COLUMNS = {OTHER_TEAM: "employee_id", NOT_THE_ROLE: "kpi_id", NOT_THE_TEAM: "kpi_id"}
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


@dataclass(frozen=True)
class ActualsSchema:
    """The pandera schemas of an actuals table, split by the cells each rule reads, so that each runs once per
    distinct value rather than once per row: `period` (the period column), `keys` (team, employee_id, kpi_id and
    extra, with the rules across them) and `value` (the value column). Duplicates (DUPLICATE) span all rows and
    are found with SQL in validate_actuals."""

    period: pa.DataFrameSchema
    keys: pa.DataFrameSchema
    value: pa.DataFrameSchema

    def ranks(self) -> dict[str, int]:
        """Each reason's place in the order the rules are listed (period, team, employee, KPI, value, extra, the
        rules across columns, duplicates): the order of a row's reasons in the report."""
        columns = {**self.period.columns, **self.keys.columns, **self.value.columns}
        order = [columns[c] for c in [*LONG_COLUMNS, "extra"]]
        reasons = [check.error for column in order for check in column.checks] + [c.error for c in self.keys.checks]
        return {reason: rank for rank, reason in enumerate([*reasons, DUPLICATE])}


def actuals_schema(framework: Framework, employees: pd.DataFrame, date_formats: Sequence[str] = ()) -> ActualsSchema:
    """The pandera schemas of an actuals table for this framework and these employees (`date_formats`: those the
    period cells' dates were read with, for the message of a cell that is neither)."""
    teams = sorted(t.id for t in framework.teams)
    kpis = {k.id for k in framework.kpis}
    holders = KpiHolders.of(framework, employees)
    known_teams = ", ".join(teams) if len(teams) <= 12 else f"{len(teams)} teams in teams.yaml"

    def person(frame: pd.DataFrame) -> pd.Series:
        return pd.Series(holders.knows(frame["employee_id"]), index=frame.index)

    # each rule across columns speaks only when the cells it reads are valid on their own (else those are reported)
    def in_team(frame: pd.DataFrame) -> pd.Series:
        return ~person(frame) | ~frame["team"].isin(teams) | holders.in_home_team(frame["team"], frame["employee_id"])

    def role_has_kpi(frame: pd.DataFrame) -> pd.Series:
        known = frame["kpi_id"].isin(kpis) & person(frame)
        return ~known | holders.role_holds(frame["employee_id"], frame["kpi_id"])

    def team_has_kpi(frame: pd.DataFrame) -> pd.Series:
        team_level = (frame["employee_id"] == TEAM_LEVEL) & frame["kpi_id"].isin(kpis) & frame["team"].isin(teams)
        return ~team_level | holders.team_holds(frame["team"], frame["kpi_id"])

    period = pa.DataFrameSchema({"period": pa.Column(str, pa.Check(
        lambda s: period_table(s)["label"].notna(), ignore_na=False, error=not_a_period(date_formats)))})
    keys = pa.DataFrameSchema(
        {
            "team": pa.Column(str, [
                pa.Check(lambda s: s != "", error="team is empty"),
                pa.Check(lambda s: (s == "") | s.isin(teams),
                         error=f"unknown team: not a team id or name of teams.yaml (ids: {known_teams})"),
            ]),
            "employee_id": pa.Column(str, pa.Check(lambda s: (s == TEAM_LEVEL) | holders.knows(s),
                                                   error=UNKNOWN_EMPLOYEE)),
            "kpi_id": pa.Column(str, [
                pa.Check(lambda s: s != "", error="KPI id is empty"),
                pa.Check(lambda s: (s == "") | s.isin(kpis), error="unknown KPI id (not in kpis.yaml)"),
            ]),
            "extra": pa.Column(str, pa.Check(lambda s: s == "", error="more cells than the header has columns "
                                                                       "(an unquoted comma, as in 1,5?)")),
        },
        checks=[
            pa.Check(in_team, error=OTHER_TEAM),
            pa.Check(role_has_kpi, error=NOT_THE_ROLE),
            pa.Check(team_has_kpi, error=NOT_THE_TEAM),
        ],
        strict=False,
        coerce=False,
    )
    value = pa.DataFrameSchema({"value": pa.Column(str, _value_checks())})
    return ActualsSchema(period=period, keys=keys, value=value)


def _failures(schema: pa.DataFrameSchema, frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of `frame` that fail `schema`, as (index, column, reason); a rule across columns is named on the
    column ROW_CHECK_COLUMNS gives it."""
    try:
        schema.validate(frame, lazy=True)
        return pd.DataFrame({"index": pd.Series(dtype="int64"), "column": pd.Series(dtype="str"),
                             "reason": pd.Series(dtype="str")})
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    cases = cases[cases["index"].notna()]
    row_check = cases["schema_context"] == "DataFrameSchema"
    column = cases["column"].where(~row_check, cases["check"].map(ROW_CHECK_COLUMNS))
    failures = pd.DataFrame({"index": cases["index"].astype("int64"), "column": column.astype(str),
                             "reason": cases["check"].astype(str)})
    return failures.drop_duplicates().reset_index(drop=True)


def _failed(scratch: Scratch, name: str, schema: pa.DataFrameSchema, distinct: pd.DataFrame,
            ranks: dict[str, int]) -> None:
    """Run `schema` on the distinct cells and store their failures as the scratch table `name` (the cells, column,
    reason, rank)."""
    failures = _failures(schema, distinct)
    cells = distinct.loc[failures["index"]].reset_index(drop=True).astype(str)
    scratch.table(name, cells.assign(field=failures["column"].to_numpy(), reason=failures["reason"].to_numpy(),
                                     rank=failures["reason"].map(ranks).astype("int64").to_numpy()))


def _distinct(scratch: Scratch, columns: str, where: str = "") -> pd.DataFrame:
    frame = scratch.frame(f"SELECT DISTINCT {columns} FROM raw {where}")
    return frame.astype(str).reset_index(drop=True)


def _duplicates(scratch: Scratch) -> str:
    """SQL (a FROM clause with the rows as `r`) for the rows that share period, team, employee and KPI with another
    row; periods are compared by label, and by the cell itself when each label is spelled one way (faster)."""
    spellings = scratch.value("SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM periods "
                              "WHERE label IS NOT NULL GROUP BY label)")
    if spellings <= 1:  # rows whose key hashes collide, then those whose keys are equal (grouping text is slow)
        return """raw r JOIN (SELECT period, team, employee_id, kpi_id FROM raw
                  WHERE hash(period, team, employee_id, kpi_id) IN (
                      SELECT hash(period, team, employee_id, kpi_id) AS key FROM raw
                      WHERE period IN (SELECT period FROM periods WHERE label IS NOT NULL)
                      GROUP BY key HAVING count(*) > 1)
                  AND period IN (SELECT period FROM periods WHERE label IS NOT NULL)
                  GROUP BY ALL HAVING count(*) > 1) d USING (period, team, employee_id, kpi_id)"""
    return """raw r JOIN periods p USING (period)
        JOIN (SELECT p.label, r.team, r.employee_id, r.kpi_id FROM raw r JOIN periods p USING (period)
              WHERE p.label IS NOT NULL GROUP BY ALL HAVING count(*) > 1) d
          ON d.label = p.label AND d.team = r.team AND d.employee_id = r.employee_id AND d.kpi_id = r.kpi_id"""


def validate_actuals(raw: RawActuals, framework: Framework, employees: pd.DataFrame,
                     date_formats: Sequence[str] = ()) -> ValidatedActuals:
    """Check every row of the scratch table `raw`; the valid rows (ready for the store) and the rejected ones go to
    scratch tables, the problems to a report (row, column, value, reason) ordered by row.

    Teams may be given by id or by name (see team_ids). Each rule runs on the distinct values it reads; a value
    that is plainly a finite number (PLAIN_NUMBER) passes without one."""
    scratch = raw.scratch
    schema = actuals_schema(framework, employees, date_formats)
    ranks = schema.ranks()
    teams = _distinct(scratch, "team")["team"]
    scratch.table("team_ids", pd.DataFrame({"team": teams, "id": team_ids(teams, framework).astype(str)}))
    raw.recode("team", "team_ids", old="team", new="id")
    periods = _distinct(scratch, "period")
    table = period_table(periods["period"])
    scratch.table("periods", periods.assign(label=table["label"], start=table["start"].dt.date))
    _failed(scratch, "period_failures", schema.period, periods, ranks)
    _failed(scratch, "key_failures", schema.keys, _distinct(scratch, "team, employee_id, kpi_id, extra"), ranks)
    odd = _distinct(scratch, "value", f"WHERE NOT coalesce(regexp_full_match(value, {literal(PLAIN_NUMBER)}) "
                                      "AND isfinite(TRY_CAST(value AS DOUBLE)), false)")
    _failed(scratch, "value_failures", schema.value, odd, ranks)
    scratch.table("odd_values", odd.assign(number=_numbers(odd["value"])))
    parts = {
        "period_failures": """SELECT r.id, r.row, f.field AS shown, r.period AS value, f.reason, f.rank
            FROM raw r JOIN period_failures f USING (period)""",
        "key_failures": """SELECT r.id, r.row, f.field AS shown, CASE f.field WHEN 'team' THEN r.team
            WHEN 'employee_id' THEN r.employee_id WHEN 'kpi_id' THEN r.kpi_id ELSE r.extra END AS value, f.reason,
            f.rank
            FROM raw r JOIN key_failures f USING (team, employee_id, kpi_id, extra)""",
        "value_failures": """SELECT r.id, r.row, r."column" AS shown, r.value, f.reason, f.rank
            FROM raw r JOIN value_failures f USING (value)""",
    }
    found = [sql for table, sql in parts.items() if scratch.value(f"SELECT count(*) FROM {table}")]
    scratch.con.execute("CREATE OR REPLACE TABLE failures AS " + " UNION ALL ".join([*found, f"""
        SELECT r.id, r.row, 'kpi_id' AS shown, r.kpi_id AS value, {literal(DUPLICATE)} AS reason,
               {ranks[DUPLICATE]} AS rank
        FROM {_duplicates(scratch)}"""]))
    report = scratch.frame('SELECT row, shown AS "column", value, reason FROM failures ORDER BY row, shown, rank')
    scratch.con.execute("""CREATE OR REPLACE TABLE rejected AS
        SELECT r.*, f.reason FROM raw r JOIN (SELECT id, string_agg(shown || ': ' || reason, '; ' ORDER BY rank)
                                              AS reason FROM failures GROUP BY id) f USING (id)""")
    scratch.con.execute("""CREATE OR REPLACE VIEW valid AS
        SELECT r.id, r.row, p.label AS period, p.start AS period_start, r.team, r.employee_id, r.kpi_id,
               CASE WHEN o.number IS NOT NULL THEN o.number ELSE TRY_CAST(r.value AS DOUBLE) END AS value
        FROM raw r JOIN periods p USING (period) LEFT JOIN odd_values o USING (value)
        WHERE NOT EXISTS (SELECT 1 FROM failures f WHERE f.id = r.id)""")
    return ValidatedActuals(file=raw.file, scratch=scratch, report=report.astype({"row": "int64"}))
