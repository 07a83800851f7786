"""Importing an actuals file into the workspace's store: every row is checked, then all go in or none do."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from kpi_workbook.core.atomic_files import write_text_atomically
from kpi_workbook.core.errors import InputError, Problem
from kpi_workbook.core.periods import period_table, sort_periods
from kpi_workbook.workspace.actuals_reader import LONG_COLUMNS, ColumnMap, RawActuals, read_actuals_file
from kpi_workbook.workspace.actuals_schema import RejectedRowsError, ValidatedActuals, validate_actuals
from kpi_workbook.workspace.employees import load_employees
from kpi_workbook.workspace.files import ACTUALS_CSV, EMPLOYEES_FILE, load_framework
from kpi_workbook.workspace.sources import parse_dates
from kpi_workbook.workspace.store import workspace_store

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
    write_text_atomically(path, validated.rejected[REJECT_COLUMNS].to_csv(index=False))
    return path


def _slice_keys(frame: pd.DataFrame, periods: pd.Series) -> pd.Series:
    return periods.astype(str) + "\x1f" + frame["team"].astype(str) + "\x1f" + frame["kpi_id"].astype(str)


def hold_back_slices(validated: ValidatedActuals) -> ValidatedActuals:
    """Move valid rows to the rejected ones when a row of the same period × team × KPI was rejected.

    An import replaces whole period × team × KPI slices, so a slice goes in complete or not at all; the
    rejects file then holds every row of the slice, and importing it once fixed restores the slice whole.
    """
    rejected = validated.rejected
    labels = period_table(rejected["period"])["label"]
    keys = _slice_keys(rejected, labels)[labels.notna()]
    first_row = rejected.loc[keys.index, "row"].groupby(keys.to_numpy()).min()
    valid_keys = _slice_keys(validated.valid, validated.valid["period"])
    held = valid_keys.isin(first_row.index)
    if not held.any():
        return validated
    rows = validated.source.loc[validated.valid.index[held]]
    reasons = ("held back with rejected row " + valid_keys[held].map(first_row).astype(str)
               + " (same period, team and KPI); fix that row and import the rejects file")
    report = pd.DataFrame({"row": rows["row"], "column": "kpi_id", "value": rows["kpi_id"], "reason": reasons})
    return replace(
        validated,
        valid=validated.valid[~held],
        report=pd.concat([validated.report, report]).sort_values("row", kind="stable").reset_index(drop=True),
        rejected=pd.concat([rejected, rows.assign(reason="kpi_id: " + reasons)]).sort_values("row", kind="stable"),
    )


def dates_to_periods(raw: RawActuals, formats: list[str]) -> RawActuals:
    """Period cells that are dates in one of `formats` (e.g. '%m/%d/%Y') as ISO dates, which mean their month
    (see core.periods); cells that are periods already stay. InputError for a date two formats read differently."""
    if not formats:
        return raw
    frame = raw.frame
    text = frame["period"].astype(str)
    dated = period_table(text)["label"].isna() & (text != "")
    parsed, _, ambiguous = parse_dates(text[dated], formats, with_time=False)
    if len(ambiguous):
        shown = frame.loc[ambiguous.index[:SHOWN_PROBLEMS]]
        raise InputError([Problem(file=raw.file, entry=f"row {r.row}", field="period", message=(
            f"ambiguous date {r.period!r}: the formats {' and '.join(formats)} read it differently"))
            for r in shown.itertuples(index=False)])
    iso = parsed.dt.strftime("%Y-%m-%d").where(parsed.notna(), text[dated])
    return replace(raw, frame=frame.assign(period=text.where(~dated, iso)))


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
    be ids or names; `date_formats` read period cells that are dates (see dates_to_periods).
    Unreadable files, framework files, employees.csv or actuals store raise InputError.
    """
    if rejects is not None:
        check_rejects_path(rejects, workspace, overwrite_rejects)
    framework = load_framework(workspace)
    raw = read_actuals_file(path, layout=layout, sheet=sheet, header_row=header_row, columns=columns,
                            kpis={k.id for k in framework.kpis})
    raw = dates_to_periods(raw, date_formats or [])
    checked = validate_actuals(raw, framework, load_employees(workspace, framework))
    kept = hold_back_slices(checked)
    validated = kept if skip_invalid else checked
    rejects_path = None
    if len(validated.rejected) and (skip_invalid or rejects is not None):
        rejects_path = write_rejects(validated, rejects or default_rejects_path(path))
    if len(validated.rejected) and (not skip_invalid or validated.valid.empty):
        raise RejectedRowsError(validated, importable=len(kept.valid),
                                held_back=len(kept.rejected) - len(checked.rejected))
    result = workspace_store(workspace).replace_periods(validated.valid)
    return ImportResult(
        file=raw.file, read=len(raw.frame), imported=result.inserted, rejected=len(validated.rejected),
        replaced=result.removed, periods=sort_periods(pd.unique(validated.valid["period"])),
        report=validated.report, rejects_path=rejects_path,
    )
