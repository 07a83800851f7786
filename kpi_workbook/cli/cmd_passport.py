"""`kpi-workbook passport`: a KPI's passport (one offline HTML page), or every KPI's with an index; optionally PDF."""

from __future__ import annotations

__all__ = ["ALL_PASSPORTS", "HTML_SUFFIXES", "passport"]

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kpi_workbook.cli.app import app, fail, open_workspace_option
from kpi_workbook.cli.options import WorkspaceOption

if TYPE_CHECKING:
    from kpi_workbook.workspace.opener import Workspace

HTML_SUFFIXES = (".html", ".htm")
ALL_PASSPORTS = "passports"  # with --all --pdf: DIR/passports.html (every passport, one per page) and its PDF


def _check_out(out: Path, all_kpis: bool) -> None:
    """Fail before anything is computed or written when `out` cannot take the output."""
    parent = next((p for p in out.absolute().parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        fail(f"{out}: {parent} is a file, not a folder")
    if all_kpis:
        if out.exists() and not out.is_dir():
            fail(f"{out}: is a file; with --all, --out names the folder for the passports")
    elif out.is_dir():
        fail(f"{out}: is a folder; --out names the HTML file to write (or give --all for every KPI)")
    elif out.suffix.lower() not in HTML_SUFFIXES:
        fail(f"{out}: --out names an HTML file (ending in .html)")


@app.command()
def passport(
    kpi: Annotated[str, typer.Argument(help="Id of the KPI (kpis.yaml); leave out with --all.", show_default=False)]
    = "",
    out: Annotated[Path, typer.Option(help="HTML file to write; with --all, the folder for the pages.",
                                      show_default=False)] = Path(),
    all_kpis: Annotated[bool, typer.Option("--all", help="Every KPI's passport (passport-<id>.html) and an index "
                                                         "(index.html) in the folder --out.")] = False,
    pdf: Annotated[bool, typer.Option("--pdf", help="Also print a PDF with Chromium: beside the HTML file, or with "
                                                    "--all every passport in OUT/passports.pdf.")] = False,
    workspace: WorkspaceOption = "",
    seed: Annotated[int, typer.Option(help="Seed of the evidence's random shuffles.")] = 0,
) -> None:
    """A KPI's passport: its purpose, objectives, question, measure in words, source and lineage, unit, direction,
    frequency, owner, targets with their evidence, roles and weights, leading/lagging evidence, gaming checks and
    change history, generated from the workspace (one offline HTML page)."""
    from kpi_workbook.core.errors import KpiWorkbookError

    if bool(kpi.strip()) == all_kpis:
        fail("give either a KPI id or --all (every KPI's passport)")
    if out == Path():
        fail("--out is needed: the HTML file to write (with --all, the folder)")
    _check_out(out, all_kpis)
    try:
        written = _write(open_workspace_option(workspace), kpi.strip(), out, all_kpis, pdf, seed)
    except KpiWorkbookError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{out}: cannot write the passport ({exc.strerror or exc}); nothing was written")
    if all_kpis:
        typer.echo(f"wrote {len(written) - 1 - pdf * 2} passport(s) and {out / 'index.html'}"
                   + (f", and all of them in {out / (ALL_PASSPORTS + '.pdf')}" if pdf else ""))
        return
    for path in written:
        typer.echo(f"wrote {path}")


def _write(opened: Workspace, kpi: str, out: Path, all_kpis: bool, pdf: bool, seed: int) -> list[Path]:
    """Write the passport(s) and, with `pdf`, print them; the files written."""
    from kpi_workbook.reports.passport_words import find_kpi

    if not all_kpis:
        find_kpi(opened.framework, kpi)  # an unknown id fails before anything slow is loaded or computed

    from kpi_workbook.core.atomic_files import write_files_atomically, write_text_atomically
    from kpi_workbook.reports.passport import gather
    from kpi_workbook.reports.passport_page import html_page, passport_html, passport_pages, passports_appendix_html
    from kpi_workbook.reports.pdf import find_chromium, print_pdf

    chromium = find_chromium() if pdf else None  # no Chromium: fail before computing anything
    if not all_kpis:
        sources = gather(opened, seed)
        write_text_atomically(out, passport_html(sources, kpi))
        if chromium is None:
            return [out]
        print_pdf(out, out.with_suffix(".pdf"), chromium)
        return [out, out.with_suffix(".pdf")]
    sources = gather(opened, seed)
    pages = passport_pages(sources)
    if chromium is not None:
        title = f"KPI passports · {sources.framework.metadata.organization}"
        pages[f"{ALL_PASSPORTS}.html"] = html_page(title, passports_appendix_html(sources))
    stale = [p for p in out.glob("passport-*.html") if p.name not in pages] if out.is_dir() else []
    write_files_atomically([(out / name, text) for name, text in pages.items()], remove=stale)
    written = [out / name for name in pages]
    if chromium is not None:
        print_pdf(out / f"{ALL_PASSPORTS}.html", out / f"{ALL_PASSPORTS}.pdf", chromium)
        written.append(out / f"{ALL_PASSPORTS}.pdf")
    return written
