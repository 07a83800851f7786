"""`kpi-workbook compute`: evaluate the KPIs' measures on the workspace's sources and store the values."""

from __future__ import annotations

__all__ = ["SHOWN_CHANGES", "compute"]

from typing import TYPE_CHECKING, Annotated

import typer

from kpi_workbook.cli.app import app, echo_table, fail, open_workspace_option
from kpi_workbook.cli.options import WorkspaceOption
from kpi_workbook.core.errors import InputError, KpiWorkbookError

if TYPE_CHECKING:
    import pandas as pd

SHOWN_CHANGES = 20


def _summary(frame: pd.DataFrame) -> str:
    return frame.to_string(index=False) if len(frame) else "(no measured KPI has values in these periods)"


def _no_data_notes(no_data: pd.DataFrame) -> list[str]:
    """One line per KPI and reason it has no data: how many groups, and the first of them."""
    notes = []
    for (kpi_id, reason), groups in no_data.groupby(["kpi_id", "reason"], sort=False):
        first = groups.iloc[0]
        where = " ".join(str(first[c]) for c in ("period", "team", "employee_id") if first[c])
        notes.append(f"note: {kpi_id}: no data in {len(groups)} group(s): {reason} (first: {where})")
    return notes


@app.command()
def compute(
    workspace: WorkspaceOption = "",
    period: Annotated[str | None, typer.Option(help="Only this period, e.g. 2025Q4.")] = None,
    first: Annotated[str | None, typer.Option("--from", help="First period of a range.")] = None,
    last: Annotated[str | None, typer.Option("--to", help="Last period of a range.")] = None,
    kpi: Annotated[list[str] | None, typer.Option("--kpi", help="Only this KPI id (repeatable).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show new, changed and removed values; store "
                                                            "nothing.")] = False,
) -> None:
    """Compute the KPIs that have a measure from the sources in sources.yaml and store them.

    Each period × team × KPI computed replaces what the store held for it, in one transaction; values keep their
    lineage (source, number of source rows, when computed, definition hash). Exit codes: 0 done, 2 bad input.
    """
    from kpi_workbook.analysis.measures import changes, span_of, write
    from kpi_workbook.analysis.measures import compute as run
    from kpi_workbook.core.periods import PeriodError
    from kpi_workbook.workspace.store import DuckDBStore

    if period is not None and (first is not None or last is not None):
        fail("give either --period or --from/--to, not both")
    try:
        opened = open_workspace_option(workspace)
        span = span_of(period or first, period or last)
        store = opened.store()
        result = run(opened.root, opened.framework, opened.employees, kpis=kpi or None, span=span, store=store)
        summary, detail = changes(result, store, detail=dry_run)
    except (InputError, PeriodError) as exc:
        fail(exc)
    echo_table(_summary(summary))
    for row in result.skipped.itertuples(index=False):
        typer.echo(f"note: {row.kpi_id}: {row.values} value(s) left out: {row.reason}", err=True)
    for note in _no_data_notes(result.no_data):
        typer.echo(note, err=True)
    if dry_run:
        if len(detail):
            echo_table("\n" + detail.head(SHOWN_CHANGES).to_string(index=False, na_rep=""))
            if len(detail) > SHOWN_CHANGES:
                typer.echo(f"... and {len(detail) - SHOWN_CHANGES} more changes")
        typer.echo("dry run: nothing stored")
        return
    if not isinstance(store, DuckDBStore):
        fail(f"the actuals store {store.location} is read only; compute writes into a workspace's actuals.duckdb")
    try:
        opened.require_writable()
        stored = write(result, store)
    except KpiWorkbookError as exc:
        fail(str(exc))
    typer.echo(f"stored {stored.inserted} computed value(s) in {stored.slices} period × team × KPI slice(s) "
               f"(replaced {stored.removed} stored value(s)), and {len(result.scopes)} value(s) of departments and "
               "the organization")
