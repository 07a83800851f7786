"""Importing an actuals file into the workspace's store: every row is checked, then all go in or none do."""

from __future__ import annotations

__all__ = [
    "ImportResult", "REJECT_COLUMNS", "SHOWN_PROBLEMS", "check_rejects_path", "dates_to_periods",
    "default_rejects_path", "hold_back_slices", "import_actuals", "write_rejects",
]

from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from kpi_workbook.core.atomic_files import write_text_atomically
from kpi_workbook.core.errors import InputError, Problem
from kpi_workbook.core.issue_codes import Code
from kpi_workbook.core.model import Framework
from kpi_workbook.core.periods import period_table, sort_periods
from kpi_workbook.workspace.actuals_checked import RejectedRowsError, ValidatedActuals
from kpi_workbook.workspace.actuals_precheck import clean_actuals
from kpi_workbook.workspace.actuals_reader import LONG_COLUMNS, ColumnMap, RawActuals, read_actuals_file
from kpi_workbook.workspace.employees import load_employees
from kpi_workbook.workspace.files import ACTUALS_CSV, EMPLOYEES_FILE, load_framework
from kpi_workbook.workspace.scratch import Scratch, literal
from kpi_workbook.workspace.sources import parse_dates, workspace_file
from kpi_workbook.workspace.store import build_missing, workspace_store

REJECT_COLUMNS = ["row", *LONG_COLUMNS, "reason"]
SHOWN_PROBLEMS = 20


@dataclass(frozen=True)
class ImportResult:
    """What an import did."""

    file: str
    read: int
    imported: int
    rejected: int
    replaced: int
    periods: list[str]
    report: pd.DataFrame
    rejects_path: Path | None
    held_back: int = 0  # valid rows written to the rejects file with the rejected rows they share a slice with
    built: int = 0  # values of the workspace's actuals.csv stored first, when the store was not built yet


def default_rejects_path(path: str | Path) -> Path:
    """Where rejected rows go by default: next to the input, e.g. q3.csv → q3.rejects.csv."""
    path = Path(path)
    return path.with_name(f"{path.stem}.rejects.csv")


def check_rejects_path(path: str | Path, workspace: str | Path, overwrite: bool = False) -> Path:
    """InputError unless `path` may receive rejected rows: not a folder, not a file of the workspace's framework,
    employees, actuals or sources, and not an existing file unless `overwrite`."""
    path = Path(path)
    shown = Problem(file=str(path), field="--rejects", message="")
    if path.is_dir():
        raise InputError(replace(shown, message="is a folder; give a file name such as q3.rejects.csv"))
    root = Path(workspace).resolve()
    target = path.resolve()
    if target.parent == root or root in target.parents:
        inside = target.relative_to(root)
        if inside.suffix in (".yaml", ".yml", ".duckdb") or inside.name in (EMPLOYEES_FILE, ACTUALS_CSV):
            raise InputError(replace(shown, message="is a file of the workspace; rejected rows never overwrite it"))
    if path.exists() and not overwrite:
        raise InputError(replace(shown, message="exists; choose another file or pass --overwrite-rejects"))
    return path


def write_rejects(validated: ValidatedActuals, path: str | Path) -> Path:
    """Write the rejected rows (row number as in the input, the five fields, the reasons) to a CSV file."""
    path = Path(path)
    write_text_atomically(path, validated.rejected_rows()[REJECT_COLUMNS].to_csv(index=False))
    return path


_SLICE_FIELDS = {"period": "period", "team": "team", "kpi_id": "KPI"}


def _held_sql(valid: str, known: tuple[str, ...]) -> str:
    """The valid rows that may share a slice with a rejected row whose readable slice fields are exactly `known`:
    equal in those, whatever the others (the first such rejected row named)."""
    unknown = [f for f in _SLICE_FIELDS if f not in known]
    exactly = " AND ".join([*(f"{f} IS NOT NULL" for f in known), *(f"{f} IS NULL" for f in unknown)])
    grouped = f"SELECT {', '.join([*known, 'min(row) AS first_row'])} FROM rejected_keys WHERE {exactly}"
    if known:
        grouped += " GROUP BY ALL"
    if not unknown:
        why = "(same period, team and KPI)"
    else:
        why = (f"(its {' and '.join(_SLICE_FIELDS[f] for f in unknown)} cannot be read, so every row with the same "
               f"{' and '.join(_SLICE_FIELDS[f] for f in known) or 'file'} waits with it)")
    join = f"JOIN ({grouped}) s USING ({', '.join(known)})" if known else f"CROSS JOIN ({grouped}) s"
    return (f"SELECT v.id, v.row, v.kpi_id, s.first_row, {literal(why)} AS why FROM {valid} v {join} "
            "WHERE s.first_row IS NOT NULL")


def hold_back_slices(validated: ValidatedActuals, framework: Framework) -> ValidatedActuals:
    """Move valid rows to the rejected ones when a row of the same period × team × KPI was rejected.

    An import replaces whole period × team × KPI slices, so a slice goes in complete or not at all; the
    rejects file then holds every row of the slice, and importing it once fixed restores the slice whole. A
    rejected row whose period, team or KPI cannot be read (an unknown KPI id, say) may belong to any slice that
    agrees with its other fields: the valid rows of all of those wait with it.
    """
    scratch = validated.scratch
    if not validated.rejected_count:
        return validated
    valid = validated.valid_table
    scratch.table("known_teams", pd.DataFrame({"team": [t.id for t in framework.teams]}, dtype=str))
    scratch.table("known_kpis", pd.DataFrame({"kpi_id": [k.id for k in framework.kpis]}, dtype=str))
    scratch.con.execute(f"""CREATE OR REPLACE TABLE rejected_keys AS
        SELECT r.row, p.label AS period,
               CASE WHEN r.team IN (SELECT team FROM known_teams) THEN r.team END AS team,
               CASE WHEN r.kpi_id IN (SELECT kpi_id FROM known_kpis) THEN r.kpi_id END AS kpi_id
        FROM {validated.rejected_table} r LEFT JOIN periods p USING (period)""")
    patterns = scratch.frame("SELECT DISTINCT period IS NOT NULL AS p, team IS NOT NULL AS t, "
                             "kpi_id IS NOT NULL AS k FROM rejected_keys")
    parts = [_held_sql(valid, tuple(f for f, on in zip(_SLICE_FIELDS, flags, strict=True) if on))
             for flags in patterns.itertuples(index=False)]
    scratch.con.execute(f"""CREATE OR REPLACE TABLE held AS
        SELECT id, row, kpi_id, 'held back with rejected row ' || arg_min(first_row, first_row) || ' '
               || arg_min(why, first_row) || '; fix that row and import the rejects file' AS reason
        FROM ({" UNION ALL ".join(parts)}) GROUP BY id, row, kpi_id""")
    held = scratch.frame("SELECT row, 'kpi_id' AS \"column\", kpi_id AS value, reason FROM held ORDER BY row, id")
    if held.empty:
        return validated
    scratch.con.execute(f"""CREATE OR REPLACE VIEW valid_kept AS
        SELECT * FROM {valid} v WHERE NOT EXISTS (SELECT 1 FROM held h WHERE h.id = v.id)""")
    scratch.con.execute(f"""CREATE OR REPLACE TABLE rejected_kept AS
        SELECT * FROM {validated.rejected_table}
        UNION ALL BY NAME SELECT r.*, 'kpi_id: ' || h.reason AS reason FROM raw r JOIN held h USING (id)""")
    report = pd.concat([validated.report, held]).sort_values("row", kind="stable").reset_index(drop=True)
    return replace(validated, report=report, valid_table="valid_kept", rejected_table="rejected_kept")


def dates_to_periods(raw: RawActuals, formats: list[str]) -> RawActuals:
    """Period cells that are dates in one of `formats` (e.g. '%m/%d/%Y') as ISO dates, which mean their month
    (see core.periods); cells that are periods already stay. InputError for a date two formats read differently."""
    if not formats:
        return raw
    scratch = raw.scratch
    text = scratch.frame("SELECT DISTINCT period FROM raw")["period"].astype(str)
    dated = text[period_table(text)["label"].isna() & (text != "")]
    parsed, _, ambiguous = parse_dates(dated, formats, with_time=False)
    if len(ambiguous):
        scratch.table("ambiguous", pd.DataFrame({"period": dated[ambiguous.index].astype(str)}))
        shown = scratch.frame("SELECT row, period FROM raw WHERE period IN (SELECT period FROM ambiguous) "
                              f"ORDER BY id LIMIT {SHOWN_PROBLEMS}")
        raise InputError([Problem(file=raw.file, row=int(r.row), field="period", code=Code.INPUT_PERIOD, message=(
            f"ambiguous date {r.period!r}: the formats {' and '.join(formats)} read it differently"))
            for r in shown.itertuples(index=False)])
    iso = parsed.dt.strftime("%Y-%m-%d").where(parsed.notna(), dated)
    scratch.table("dated", pd.DataFrame({"period": dated.astype(str), "iso": iso.astype(str)}))
    raw.recode("period", "dated", old="period", new="iso")
    return raw


def _validated(raw: RawActuals, framework: Framework, employees: pd.DataFrame,
               date_formats: list[str]) -> ValidatedActuals:
    """Every row of `raw` checked by the schema (see actuals_schema.validate_actuals)."""
    # imported here: pandera is needed only for a file with a row clean_actuals cannot vouch for
    from kpi_workbook.workspace.actuals_schema import validate_actuals

    return validate_actuals(raw, framework, employees, date_formats)


def import_actuals(path: str | Path, workspace: str | Path = ".", *, layout: str = "long", sheet: str | None = None,
                   header_row: int | None = None, skip_invalid: bool = False,
                   rejects: str | Path | None = None, columns: ColumnMap | None = None,
                   overwrite_rejects: bool = False, date_formats: list[str] | None = None) -> ImportResult:
    """Validate an actuals file against the workspace and store it in the workspace's actuals.duckdb.

    Each period × team × KPI in the file replaces what the store held for it (other teams, KPIs and periods
    are kept), so importing a file twice gives the same store. When rows are rejected, nothing is imported
    and RejectedRowsError lists them (row as in the file, column, value, reason) and says what `skip_invalid`
    would import and hold back; with `skip_invalid` the
    valid rows are imported and the rejected ones written to `rejects` (default: next to the input, see
    default_rejects_path) with the valid rows of any period × team × KPI that had a rejected row (see
    hold_back_slices). `rejects` given without `skip_invalid` also receives the rejected rows; it may not be a
    folder or a workspace file, nor an existing file unless `overwrite_rejects` (see check_rejects_path).
    `columns` maps the file's own header names onto the import format (see actuals_reader.ColumnMap); teams may
    be ids or names; `date_formats` read period cells that are dates (see dates_to_periods). The rows are read,
    checked and stored through a scratch DuckDB database, so a file of millions of rows never sits in memory as
    Python objects.
    Unreadable files, framework files, employees.csv or actuals store raise InputError.
    """
    if rejects is not None:
        check_rejects_path(rejects, workspace, overwrite_rejects)
    framework = load_framework(workspace)
    employees = load_employees(workspace, framework)
    history = workspace_file(workspace, ACTUALS_CSV)
    with Scratch() as scratch:
        raw = read_actuals_file(path, layout=layout, sheet=sheet, header_row=header_row, columns=columns,
                                kpis={k.id: k.name for k in framework.kpis}, scratch=scratch)
        raw = dates_to_periods(raw, date_formats or [])
        checked = (clean_actuals(raw, framework, employees)  # a file without a bad row needs no report
                   or _validated(raw, framework, employees, date_formats or []))
        kept = hold_back_slices(checked, framework)
        validated = kept if skip_invalid else checked
        rejected = validated.rejected_count
        rejects_path = None
        if rejected and (skip_invalid or rejects is not None):
            rejects_path = write_rejects(validated, rejects or default_rejects_path(path))
        if rejected and (not skip_invalid or not validated.valid_count):
            raise RejectedRowsError(validated, importable=kept.valid_count,
                                    held_back=kept.rejected_count - checked.rejected_count)
        read, held_back = len(raw), rejected - checked.rejected_count
        periods = scratch.frame("SELECT DISTINCT label AS period FROM periods" if not rejected else  # all rows valid
                                f"SELECT DISTINCT period FROM {validated.valid_table}")["period"]
        store = workspace_store(workspace)
        built = build_missing(store, history, framework, employees)  # the history first
        # written from the scratch database itself; validation rejected every duplicate
        result = store.replace_from(scratch.con, validated.valid_table, unique=True)
        return ImportResult(
            file=raw.file, read=read, imported=result.inserted, rejected=rejected, replaced=result.removed,
            periods=sort_periods(periods), report=validated.report, rejects_path=rejects_path,
            held_back=held_back, built=built,
        )
