"""Report mode without a browser: the printed text a report gets (no command, backtick or code-like formula), content
that never becomes a link, charts' text alternatives in the page, step titles instead of file names, and the people's
scores only when asked. The sample's reports in a browser are in test_report_browser."""

from __future__ import annotations

import re

import nbformat
import pandas as pd
import pytest
from bs4 import BeautifulSoup
from IPython.display import Markdown

from kpi_workbook.analysis import review, scoring
from kpi_workbook.reports import mode
from kpi_workbook.reports.figures import ChartFigure
from kpi_workbook.reports.html import ReportHeading, notebook_to_html, step_title
from kpi_workbook.reports.tables import ReportTable
from kpi_workbook.steps import open_step
from kpi_workbook.steps import review as step

HOSTILE = 'Sales <a href="https://evil.example/x">click</a> "quoted" & more'


@pytest.fixture
def report():
    mode.set_report_mode(True)
    yield
    mode.set_report_mode(False)


def test_the_workshop_keeps_commands_and_formulas_a_report_drops_them(report):
    text = "raise the target (targets step, `kpi-workbook targets`): import (`kpi-workbook import-actuals`) `x`"
    assert mode.for_readers(text) == "raise the target (targets step): import x"
    assert mode.formula_text('sum of amount where stage == "Closed Won" and days >= 3') == (
        'sum of amount where stage is "Closed Won" and days at least 3')
    mode.set_report_mode(False)
    assert mode.for_readers(text) == text and mode.formula_text("a == b") == "a == b"


def test_the_scope_line_names_the_workspace_only_in_the_workshop(report):
    ctx = open_step("sample", "sales")
    assert "Workspace" not in mode.scope_line(ctx).data and "**Scope:** Sales · **Roles:**" in mode.scope_line(ctx).data
    mode.set_report_mode(False)
    assert mode.scope_line(ctx).data.startswith("**Workspace:** `sample")


def _page(*cells: nbformat.NotebookNode, notebook: str = "05_review") -> str:
    nb = nbformat.v4.new_notebook(cells=list(cells))
    return notebook_to_html(nb, ReportHeading(team="Sales", notebook=notebook, period="2025Q4"))


def _main(html: str) -> str:
    """The page's content: what follows the report's header."""
    return html[html.index("</header>"):]


def test_no_link_from_content_bare_urls_and_names_stay_text():
    code = nbformat.v4.new_code_cell("", outputs=[nbformat.v4.new_output(
        "display_data", data={"text/markdown": f"**Team:** {HOSTILE}", "text/html": f"<p>{HOSTILE}</p>"})])
    html = _page(nbformat.v4.new_markdown_cell("## Sources\n\nSee https://example.com/data and www.example.org."),
                 code)
    main = _main(html)
    assert "<a " not in main, "no link in the content"
    assert "https://example.com/data" in main and "click" in main, "the text stays"
    assert "¶" not in main, "no heading anchors"


def test_a_report_has_a_contents_list_and_links_to_its_steps_and_the_index(tmp_path):
    for stem in ("01_strategic_goals", "05_review"):
        (tmp_path / f"{stem}.ipynb").write_text("{}")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text) for text in (
        "# Step 5 · Review", "## Trends", "## Flags <b>now</b>")])
    html = notebook_to_html(nb, ReportHeading(team="Sales", notebook="05_review", period="2025Q4"), tmp_path)
    header = html[html.index('<header class="kpi-report-header">'):html.index("</header>")]
    assert '<a href="../index.html">All reports' in header
    assert '<a href="01_strategic_goals.html">Step 1 · Strategic goals</a>' in header
    assert '<strong aria-current="page">Step 5 · Review</strong>' in header
    assert re.findall(r'<a href="#([^"]+)">([^<]+)</a>', header) == [("Trends", "Trends"), ("Flags-now", "Flags now")]
    assert "05_review" not in html.replace("05_review.html", ""), "no file name shown"


def test_a_chart_image_has_its_text_alternative_escaped():
    fig = ChartFigure(figsize=(2, 1))
    fig.subplots()
    fig.alt = f"Bar chart of {HOSTILE}"
    output = nbformat.v4.new_output("display_data", data=fig.display_bundle(), metadata=fig.display_metadata())
    html = _page(nbformat.v4.new_code_cell("", outputs=[output]))
    [image] = BeautifulSoup(html, "html.parser").select("main img")
    assert image["alt"] == fig.alt, "the whole text, inside the attribute"
    assert len(image.attrs) == 2, "src and alt, nothing the text could add"


def test_step_titles_replace_file_names():
    assert [step_title(s) for s in ("01_strategic_goals", "03_kpi_design", "report")] == [
        "Step 1 · Strategic goals", "Step 3 · KPI design", "report"]


def test_people_scores_only_when_asked_lowest_first():
    ctx = open_step("sample", "sales")
    scores = scoring.score_actuals(ctx.actuals_to_date, ctx.employees, ctx.framework)
    people = review.scorecard(scores, ctx.period, "employee")
    left_out = step.people_section(people, ctx, shown=False)
    assert isinstance(left_out, Markdown) and "left out" in left_out.data
    assert not any(e in left_out.data for e in people["employee_id"])
    table = step.people_section(people, ctx, shown=True)
    assert isinstance(table, ReportTable)
    shown = table.frame["score"].dropna().tolist()
    assert shown == sorted(shown) and len(table.frame) == len(people)
    assert pd.isna(table.frame["score"]).sum() == people["score"].isna().sum()
