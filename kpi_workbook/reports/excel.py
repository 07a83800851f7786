"""Per-team exports: an Excel workbook (or one CSV file per sheet) with scorecard, KPI definitions, targets, flags.

Every text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with a single
quote (the OWASP advice against CSV/formula injection), so a spreadsheet shows it as text and never runs it; in
CSV files every text is also quoted, so a line break inside a name cannot start a new row.
Files are written to a temporary sibling first and renamed into place, so a failed export leaves nothing behind.
"""

from __future__ import annotations

__all__ = [
    "FILLED_COLUMNS", "KPI_COLUMNS", "LINEAGE_COLUMNS", "MAX_WIDTH", "PERCENT_COLUMNS", "SCORECARD_COLUMNS", "SHEETS",
    "STATUS_FILLS", "VERDICT_FILLS", "export_team", "team_tables", "with_lineage", "write_csv", "write_excel",
]

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from kpi_workbook.analysis.review import kpi_scorecard, review_flags
from kpi_workbook.analysis.scoring import score_actuals
from kpi_workbook.analysis.targets import suggest_for_framework
from kpi_workbook.core.atomic_files import staged_path, write_files_atomically
from kpi_workbook.core.errors import InputError, Problem, UnknownTeamError
from kpi_workbook.core.model import Framework
from kpi_workbook.reports.safe_cells import neutralize_frame, safe_csv

STATUS_FILLS = {"green": "C6EFCE", "amber": "FFEB9C", "red": "FFC7CE", "grey": "D9D9D9"}
VERDICT_FILLS = {"challenging but achievable": "C6EFCE", "too easy": "FFEB9C", "unrealistic": "FFC7CE",
                 "no data": "D9D9D9"}
FILLED_COLUMNS = {"status": STATUS_FILLS, "verdict": VERDICT_FILLS, "current_verdict": VERDICT_FILLS}
SHEETS = {"Scorecard": "scorecard", "KPI definitions": "kpi_definitions", "Targets": "targets", "Flags": "flags"}
MAX_WIDTH = 60
PERCENT_COLUMNS = {"achievement", "probability", "current_probability"}
SCORECARD_COLUMNS = [
    "period", "team", "employee_id", "name", "role", "kpi_id", "kpi_name", "unit", "polarity", "weight", "value",
    "threshold", "target", "stretch", "range_low", "range_high", "threshold_low", "threshold_high", "achievement",
    "score", "status",
]
#: Where each scorecard value comes from: empty for imported values, filled for values `compute` stored.
LINEAGE_COLUMNS = ["source", "source_rows", "computed_at"]
_LINEAGE_KEYS = ["period", "team", "employee_id", "kpi_id"]
KPI_COLUMNS = ["id", "name", "description", "formula", "unit", "polarity", "category", "indicator", "measure_type",
               "frequency", "data_source", "owner", "family"]


def _split_ranges(frame: pd.DataFrame) -> pd.DataFrame:
    """Range columns holding (low, high) pairs become two numeric columns, <name>_low and <name>_high."""
    columns: dict[str, pd.Series] = {}
    for column in frame.columns:
        values = frame[column]
        if not str(column).endswith("_range"):
            columns[column] = values
            continue
        for i, end in enumerate(("low", "high")):
            columns[f"{column}_{end}"] = values.map(lambda p, i=i: p[i] if isinstance(p, tuple | list) else None)
    return pd.DataFrame(columns).astype({c: float for c in columns if c.endswith(("_range_low", "_range_high"))})


def with_lineage(card: pd.DataFrame, lineage: pd.DataFrame | None) -> pd.DataFrame:
    """The scorecard with the lineage of each value (source, source rows, computed at; empty when imported)."""
    keys = card[_LINEAGE_KEYS].astype(str)
    if lineage is None or lineage.empty:
        found = pd.DataFrame(index=card.index, columns=LINEAGE_COLUMNS)
    else:
        found = keys.merge(lineage[[*_LINEAGE_KEYS, *LINEAGE_COLUMNS]].astype({k: str for k in _LINEAGE_KEYS}),
                           on=_LINEAGE_KEYS, how="left", validate="many_to_one").set_index(card.index)
    return card.assign(source=found["source"].astype("object"),
                       source_rows=pd.array(found["source_rows"], dtype="Int64"),
                       computed_at=pd.to_datetime(found["computed_at"]))


def team_tables(framework: Framework, employees: pd.DataFrame, actuals: pd.DataFrame, team: str,
                period: str | None = None, method: str = "percentile", n: int = 3,
                lineage: pd.DataFrame | None = None) -> dict[str, pd.DataFrame]:
    """The sheets of a team's export, built only from the team's people and the team's actuals.

    Scorecard (employee × KPI of the period; default the latest period with actuals; with `lineage`, a
    store's `read_lineage`, each computed value's source, source rows and time computed), KPI definitions (of the
    team's roles), Targets (suggestions of `method` from the team's history, with attainment probabilities) and
    Flags (review flags of the team for the period, `n` periods running).
    """
    if framework.team(team) is None:
        raise UnknownTeamError(team, sorted(t.id for t in framework.teams))
    people = employees[employees["team"].astype(str) == team].reset_index(drop=True)
    rows = actuals[actuals["team"].astype(str) == team]
    person = rows["employee_id"].astype(object).fillna("").astype(str)
    rows = rows[person.isin(people["employee_id"]) | (person == "")].reset_index(drop=True)
    if rows["value"].notna().sum() == 0:
        raise InputError(Problem(file="actuals", field="team", message=f"no actuals for team '{team}'; import "
                                                                       "actuals first (kpi-workbook import-actuals)"))
    scores = score_actuals(rows, people, framework)
    with_data = scores.loc[scores["value"].notna(), "period"].astype(str)
    label = period or [p for p in scores["period"].cat.categories if p in set(with_data)][-1]
    card = kpi_scorecard(scores, framework, label).merge(people[["employee_id", "name"]], on="employee_id",
                                                         how="left")
    roles = [r.id for r in framework.roles_of_team(team)]
    used = dict.fromkeys(a.kpi.kpi for a in framework.assignments if a.role in roles)
    definitions = pd.DataFrame([kpi.model_dump(mode="json") for k in used if (kpi := framework.kpi(k))],
                               columns=KPI_COLUMNS)
    targets = suggest_for_framework(framework, rows, people, method=method, roles=roles)
    flags = review_flags(framework, scores, label, n=n, teams=[team])
    return {
        "Scorecard": with_lineage(card[SCORECARD_COLUMNS], lineage),
        "KPI definitions": definitions,
        "Targets": _split_ranges(targets),
        "Flags": flags.astype({"severity": str}),
    }


def _style_sheet(sheet: Any, frame: pd.DataFrame) -> None:
    """Bold frozen header, auto filter, number formats, column widths from the content, RAG fills on status and
    verdict cells."""
    sheet.freeze_panes = "A2"
    if frame.shape[1]:
        sheet.auto_filter.ref = sheet.dimensions
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for i, column in enumerate(frame.columns, start=1):
        values = frame[column]
        cells = [row[0] for row in sheet.iter_rows(min_row=2, min_col=i, max_col=i)]
        if pd.api.types.is_float_dtype(values):
            number_format = "0%" if column in PERCENT_COLUMNS else "#,##0.00"
            for cell in cells:
                cell.number_format = number_format
            text = values.map(lambda v: "" if pd.isna(v) else f"{v:,.2f}")
        else:
            text = values.astype(str).where(values.notna(), "")
        width = max([len(str(column)), *text.str.len().tolist()])
        sheet.column_dimensions[get_column_letter(i)].width = min(width + 2, MAX_WIDTH)
        fills = FILLED_COLUMNS.get(str(column))
        if fills:
            for cell, value in zip(cells, values.astype(str), strict=True):
                if value in fills:
                    cell.fill = PatternFill("solid", start_color=fills[value])


def write_excel(tables: Mapping[str, pd.DataFrame], path: str | Path) -> Path:
    """Write tables as the sheets of one Excel workbook, atomically; every text cell neutralized."""
    target = Path(path)
    with staged_path(target) as tmp, pd.ExcelWriter(tmp, engine="openpyxl") as writer:
        for name, frame in tables.items():
            safe = neutralize_frame(frame)
            safe.to_excel(writer, sheet_name=name, index=False)
            _style_sheet(writer.sheets[name], safe)
    return target


def write_csv(tables: Mapping[str, pd.DataFrame], folder: str | Path) -> list[Path]:
    """Write each table as <folder>/<sheet>.csv (UTF-8), all files atomically; every text cell neutralized and
    quoted (a line break inside a text must never start a new row)."""
    root = Path(folder)
    files = [(root / f"{SHEETS.get(name, name)}.csv", safe_csv(frame)) for name, frame in tables.items()]
    write_files_atomically(files)
    return [path for path, _ in files]


def export_team(framework: Framework, employees: pd.DataFrame, actuals: pd.DataFrame, team: str, out: str | Path,
                period: str | None = None, fmt: str = "xlsx", method: str = "percentile",
                lineage: pd.DataFrame | None = None) -> list[Path]:
    """Export a team to an Excel workbook (fmt xlsx) or a folder of CSV files (fmt csv); returns the files.

    `lineage` (DuckDBStore.read_lineage) fills the scorecard's source, source_rows and computed_at columns."""
    if fmt not in ("xlsx", "csv"):
        raise ValueError(f"unknown export format '{fmt}'; use xlsx or csv")
    tables = team_tables(framework, employees, actuals, team, period=period or None, method=method, lineage=lineage)
    return write_csv(tables, out) if fmt == "csv" else [write_excel(tables, out)]
