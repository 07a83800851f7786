"""`kpi-workbook library`: list, filter and search the KPI library, or suggest KPIs for a responsibility."""

from __future__ import annotations

__all__ = ["TABLE_COLUMNS", "aligned_table", "library"]

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kpi_workbook.analysis.families import FAMILIES
from kpi_workbook.cli.app import OutputFormat, app, echo_table, fail, render_table
from kpi_workbook.core.errors import InputError
from kpi_workbook.core.paths import LIBRARY_FILE

if TYPE_CHECKING:
    import pandas as pd

TABLE_COLUMNS = ["id", "name", "family", "category", "polarity", "unit"]




def aligned_table(frame: pd.DataFrame) -> str:
    """Left-aligned text columns with a header, two spaces apart."""
    text = frame.astype(str)
    widths = {c: max(len(c), int(text[c].str.len().max())) for c in text.columns}
    formatters = {c: f"{{:<{w}}}".format for c, w in widths.items()}
    lines = text.to_string(index=False, justify="left", formatters=formatters).splitlines()
    return "\n".join(line.rstrip() for line in lines)


@app.command()
def library(
    family: Annotated[list[str] | None, typer.Option(
        "--family", "-f", metavar="FAMILY",
        help=f"Role family: {', '.join(FAMILIES)} (repeat for several).")] = None,
    category: Annotated[list[str] | None, typer.Option(
        "--category", "-c", metavar="CATEGORY",
        help="output, quality, efficiency, behaviour or development (repeatable).")] = None,
    polarity: Annotated[list[str] | None, typer.Option(
        "--polarity", "-p", metavar="POLARITY",
        help="higher_is_better, lower_is_better or within_range (repeatable).")] = None,
    search: Annotated[str | None, typer.Option(
        "--search", "-s", metavar="WORDS",
        help="Keywords that must all occur in the id, name, description or formula.")] = None,
    suggest: Annotated[str | None, typer.Option(
        "--suggest", metavar="TEXT",
        help="Rank the (filtered) KPIs by text similarity to a responsibility and its outcome.")] = None,
    top: Annotated[int, typer.Option("--top", min=1, metavar="N", help="How many suggestions to show.")] = 5,
    fmt: Annotated[OutputFormat, typer.Option(
        "--format", help="text (key columns), csv or json (all fields).")] = OutputFormat.TEXT,
    library_file: Annotated[Path, typer.Option(
        "--library", metavar="FILE", help="KPI library file to read.")] = LIBRARY_FILE,
) -> None:
    """List the KPI library, filtered by family, category, polarity and keywords, or suggest KPIs for a text."""
    from kpi_workbook.analysis.library import library_frame, load_library, search_library, suggest_kpis

    frame = library_frame() if library_file == LIBRARY_FILE else library_frame(load_library(library_file))
    try:
        found = search_library(family=family, category=category, polarity=polarity, text=search, frame=frame)
    except InputError as exc:
        fail(str(exc))
    if suggest is not None:
        ranked = suggest_kpis(suggest, candidates=found, top=top)
        similarity = ranked["similarity"].astype(float)
        ranked["similarity"] = similarity.map("{:.3f}".format) if fmt is OutputFormat.TEXT else similarity.round(3)
        found, columns = ranked, list(ranked.columns)
    else:
        columns = TABLE_COLUMNS
    if found.empty:
        typer.echo("no KPI matches", err=True)
        return
    echo_table(render_table(found, fmt, lambda: aligned_table(found[columns])))
