"""A whole-file check, mostly in SQL, that no row of an actuals file can be rejected, so that a clean file skips
the row-by-row validation (see actuals_schema) and its report.

The check is stricter than validation, never looser: it passes only a file whose every period reads as a period,
whose every team, employee and KPI combination is one that counts by the rule of `workspace.assignments`, whose
every value is plainly a finite number (actuals_checked.PLAIN_NUMBER) and whose keys each name a period once. Any
doubt, and validate_actuals runs as before: its rows, reasons and report stay the only word on a bad file.
"""

from __future__ import annotations

__all__ = ["PERIOD_BITS", "REJECTED_TABLE", "VALID_VIEW", "clean_actuals"]

import pandas as pd

from kpi_workbook.core.model import Framework
from kpi_workbook.core.periods import period_table
from kpi_workbook.workspace.actuals_checked import PLAIN_NUMBER, ValidatedActuals, team_ids
from kpi_workbook.workspace.actuals_reader import RawActuals
from kpi_workbook.workspace.assignments import TEAM_LEVEL, KpiHolders
from kpi_workbook.workspace.scratch import Scratch, literal

VALID_VIEW = "clean_valid"
PERIOD_BITS = 62  # periods per bit set: a BIGINT's bits but the sign
REJECTED_TABLE = "clean_rejected"


def clean_actuals(raw: RawActuals, framework: Framework, employees: pd.DataFrame) -> ValidatedActuals | None:
    """The scratch table `raw` as validated actuals when no row can be rejected (teams given by name become ids, as
    validation does); None when a row may be rejected (`raw` is then as validation leaves it after its first step)."""
    scratch = raw.scratch
    teams = scratch.frame("SELECT DISTINCT team FROM raw")["team"].astype(str)
    ids = team_ids(teams, framework).astype(str)
    if not ids.isin([t.id for t in framework.teams]).all():
        return None
    periods = scratch.frame("SELECT DISTINCT period FROM raw")["period"].astype(str)
    table = period_table(periods)
    if table["label"].isna().any() or table["label"].duplicated().any():
        return None  # a cell that is not a period, or a period spelled two ways (keys then compare by label)
    renamed = teams != ids
    if renamed.any():  # as validation does first (then again, finding nothing left to rename)
        scratch.table("team_ids", pd.DataFrame({"team": teams[renamed], "id": ids[renamed]}))
        raw.recode("team", "team_ids", old="team", new="id")
    scratch.table("periods", pd.DataFrame({"period": periods, "label": table["label"].astype(str),
                                           "start": table["start"].dt.date, "number": range(len(periods))}))
    if not _keys_count_once(scratch, framework, employees) or not _values_plain(scratch):
        return None
    scratch.con.execute(f"""CREATE OR REPLACE VIEW {VALID_VIEW} AS
        SELECT r.id, r.row, p.label AS period, p.start AS period_start, r.team, r.employee_id, r.kpi_id,
               CAST(r.value AS DOUBLE) AS value
        FROM raw r JOIN periods p USING (period)""")
    scratch.con.execute(f"CREATE OR REPLACE TABLE {REJECTED_TABLE} AS SELECT *, '' AS reason FROM raw LIMIT 0")
    report = pd.DataFrame({"row": pd.Series(dtype="int64"), "column": pd.Series(dtype="str"),
                           "value": pd.Series(dtype="str"), "reason": pd.Series(dtype="str")})
    return ValidatedActuals(file=raw.file, scratch=scratch, report=report, valid_table=VALID_VIEW,
                            rejected_table=REJECTED_TABLE)


def _keys_count_once(scratch: Scratch, framework: Framework, employees: pd.DataFrame) -> bool:
    """Whether every distinct team, employee, KPI (and no extra cell) of `raw` is a value that counts (a known team
    and KPI, and a team-level value or a known employee of that team whose role holds the KPI) in no period twice.

    One grouping by key finds both: per key and block of PERIOD_BITS periods, the rows are counted and their periods
    set as bits of a number (the table `periods` numbers them); fewer bits than rows is a period given twice."""
    keys = scratch.frame(f"""SELECT team, employee_id, kpi_id, extra, bool_or(rows <> periods) AS repeated FROM (
            SELECT team, employee_id, kpi_id, extra, count(*) AS rows,
                   bit_count(bit_or(1::BIGINT << (p.number % {PERIOD_BITS}))) AS periods
            FROM raw JOIN periods p USING (period) GROUP BY team, employee_id, kpi_id, extra, p.number // {PERIOD_BITS})
        GROUP BY ALL""")
    if keys["repeated"].any():
        return False
    keys = keys.drop(columns="repeated").astype(str)
    holders = KpiHolders.of(framework, employees)
    known = (keys["team"].isin([t.id for t in framework.teams]) & keys["kpi_id"].isin([k.id for k in framework.kpis])
             & (keys["extra"] == "") & ((keys["employee_id"] == TEAM_LEVEL) | holders.knows(keys["employee_id"])))
    return bool(known.all() and holders.left_out(keys).isna().all())


def _values_plain(scratch: Scratch) -> bool:
    """Whether every distinct value of `raw` is plainly a finite number."""
    plain = f"regexp_full_match(value, {literal(PLAIN_NUMBER)}) AND isfinite(TRY_CAST(value AS DOUBLE))"
    return not scratch.value(f"SELECT count(*) FROM (SELECT DISTINCT value FROM raw) "
                             f"WHERE NOT coalesce({plain}, false)")
