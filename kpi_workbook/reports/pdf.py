"""Reports for handing out: each scope's executed notebooks as one pack (the review with its summary first), saved as
one self-contained HTML page and printed to an A4 PDF with headless Chromium: tagged, with an outline (bookmarks)
from the headings and "page N of M" in the footer (the report's @page rules)."""

from __future__ import annotations

__all__ = [
    "CHROMIUM_ENV", "CHROMIUM_FLAGS", "CHROMIUM_NAMES", "FIRST_NOTEBOOK", "PACKS_FOLDER", "PRINTERS", "PRINT_TIMEOUT",
    "PdfError", "Run", "Summary", "find_chromium", "pack_notebook", "pack_order", "print_packs", "print_pdf",
    "print_run_packs", "write_pack",
]

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

import nbformat

from kpi_workbook.core.atomic_files import write_text_atomically
from kpi_workbook.core.errors import KpiWorkbookError
from kpi_workbook.reports.html import ReportHeading, notebook_to_html, step_title

CHROMIUM_ENV = "KPI_WORKBOOK_CHROMIUM"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                  "--generate-pdf-document-outline", "--disable-background-networking", "--disable-component-update",
                  "--no-first-run")
PRINT_TIMEOUT = 180.0
PRINTERS = max(2, min(4, os.cpu_count() or 1))  # packs printed at once
PACKS_FOLDER = "pdf"  # <period>/pdf/<scope>.pdf and .html: the files to hand out
FIRST_NOTEBOOK = "05_review"  # a pack opens with the review: its summary is what a manager reads first


class PdfError(KpiWorkbookError):
    """A pack could not be printed (no Chromium, or Chromium failed)."""


def find_chromium() -> Path:
    """The Chromium to print with: $KPI_WORKBOOK_CHROMIUM, else the first of CHROMIUM_NAMES on the PATH."""
    given = os.environ.get(CHROMIUM_ENV, "").strip()
    found = given or next((p for p in map(shutil.which, CHROMIUM_NAMES) if p), "")
    if not found or not Path(found).is_file():
        where = f"${CHROMIUM_ENV} names {given}, which is not a file" if given else "no Chromium on the PATH"
        raise PdfError(f"cannot print PDFs: {where}. Install Chromium (Debian: apt-get install chromium) or set "
                       f"{CHROMIUM_ENV} to its path")
    return Path(found)


def pack_order(stems: Sequence[str]) -> list[str]:
    """The notebooks of a pack in reading order: the review first, then the steps in their order."""
    return sorted(stems, key=lambda stem: (stem != FIRST_NOTEBOOK, stem))


def pack_notebook(notebooks: Sequence[Path]) -> nbformat.NotebookNode:
    """One notebook holding the cells of the executed notebooks, in the order given (each starts a new page)."""
    if not notebooks:
        raise ValueError("a pack needs at least one notebook")
    parts = [nbformat.read(path, as_version=4) for path in notebooks]
    pack = nbformat.v4.new_notebook(metadata=parts[0].metadata)
    pack.cells = [cell for part in parts for cell in part.cells]
    for number, cell in enumerate(pack.cells):  # ids repeat across notebooks; a notebook's must be unique
        cell["id"] = f"cell-{number}"
    return pack


def print_pdf(html: Path, pdf: Path, chromium: Path | None = None, timeout: float = PRINT_TIMEOUT) -> Path:
    """Print an HTML file to a PDF with headless Chromium (paper size and margins from the page's @page rule).

    The PDF appears complete or not at all: Chromium writes a staged file that replaces `pdf` when done; returns
    `pdf`.
    """
    chromium = chromium or find_chromium()
    staged = pdf.with_name(f".{pdf.name}.partial")
    with tempfile.TemporaryDirectory(prefix="kpi-pdf-") as profile:
        command = [str(chromium), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={staged}",
                   html.resolve().as_uri()]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            staged.unlink(missing_ok=True)
            raise PdfError(f"{html}: Chromium did not print within {timeout:g} s") from None
    if done.returncode != 0 or not staged.is_file() or staged.stat().st_size == 0:
        staged.unlink(missing_ok=True)
        detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise PdfError(f"{html}: Chromium could not print it (exit {done.returncode}): {detail[0]}")
    os.replace(staged, pdf)
    return pdf


def write_pack(notebooks: Sequence[Path], heading: ReportHeading, html: Path, pdf: Path | None = None,
               chromium: Path | None = None, appendix: str = "") -> None:
    """Write a scope's pack as one HTML page and, when `pdf` is given, print it there; `appendix` (HTML, such as
    the scope's KPI passports) closes the pack."""
    pack = pack_notebook(notebooks)
    if appendix:
        output = nbformat.v4.new_output("display_data", data={"text/html": appendix})
        pack.cells.append(nbformat.v4.new_code_cell(outputs=[output], id=f"cell-{len(pack.cells)}"))
    write_text_atomically(html, notebook_to_html(pack, heading, notebooks[0].parent))
    if pdf is not None:
        print_pdf(html, pdf, chromium)


class Run(Protocol):
    """What printing needs of a run record (batch.records.RunResult): whose it is, and its executed notebook."""

    @property
    def team_name(self) -> str:
        """The scope's name."""

    @property
    def notebook(self) -> str:
        """The step notebook's stem, e.g. 05_review."""

    @property
    def ipynb(self) -> str:
        """The executed notebook, relative to the period folder."""

    @property
    def status(self) -> str:
        """ok, failed or timed_out."""


def print_packs(period_dir: Path, runs: Iterable[Run], period: str,
                appendix: Callable[[str], str] | None = None) -> list[Path]:
    """Print one pack per scope folder of a period (from its notebooks that ran without error) to
    <period>/pdf/<scope>.pdf, with the pack's HTML beside it; returns the PDFs. PdfError when one cannot be printed.
    `appendix` gives the HTML that closes the pack of a scope folder (e.g. "sales", "_organization").
    """
    chromium = find_chromium()
    scopes: dict[str, list[Run]] = {}
    for run in runs:
        if run.ipynb and run.status == "ok":
            scopes.setdefault(Path(run.ipynb).parent.as_posix(), []).append(run)
    out = period_dir / PACKS_FOLDER
    out.mkdir(parents=True, exist_ok=True)
    # Chromium prints one page per process and waits on its renderer much of the time: a few print at once, each as
    # soon as its page is written (the pages are written one after the other, in this thread)
    with ThreadPoolExecutor(max_workers=PRINTERS) as printers:
        done = []
        for folder, found in sorted(scopes.items()):
            by_stem = {run.notebook: run for run in found}
            order = pack_order(list(by_stem))
            notebooks = [period_dir / by_stem[stem].ipynb for stem in order]
            html = out / f"{folder.lstrip('_')}.html"
            links = tuple((step_title(stem), f"../{by_stem[stem].ipynb.removesuffix('.ipynb')}.html")
                          for stem in order)
            heading = ReportHeading(team=found[0].team_name, notebook="report", period=period, links=links, title="")
            write_pack(notebooks, heading, html, appendix=appendix(folder) if appendix else "")
            done.append(printers.submit(print_pdf, html, html.with_suffix(".pdf"), chromium))
    for future in done:  # the first scope's PdfError, once every print has ended
        future.result()
    return [future.result() for future in done]


class Summary(Protocol):
    """What printing needs of a batch run's summary (batch.runner.RunSummary)."""

    period: str
    period_dir: Path

    @property
    def results(self) -> Sequence[Run]:
        """The runs of this invocation."""

    @property
    def runs(self) -> Sequence[Run]:
        """Every recorded run of the period."""


def print_run_packs(summary: Summary, on_error: Callable[[str], object],
                    appendix: Callable[[str], str] | None = None) -> str:
    """Print the packs of the scopes a batch run covered (all their recorded notebooks), each closed by `appendix`
    of its scope folder when given; returns a line saying where they are. A PdfError goes to `on_error` (the
    command's way to fail with a message)."""
    folders = {Path(r.ipynb).parent for r in summary.results if r.ipynb}
    try:
        printed = print_packs(summary.period_dir, [r for r in summary.runs if Path(r.ipynb).parent in folders],
                              summary.period or "undated", appendix)
    except PdfError as exc:
        on_error(str(exc))
        return ""
    return f"{len(printed)} PDF report(s) in {summary.period_dir / PACKS_FOLDER}"
