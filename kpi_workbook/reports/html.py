"""Executed notebook → self-contained HTML report: code hidden, nothing fetched from the network."""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import TagRemovePreprocessor
from traitlets.config import Config

from kpi_workbook.reports.record import RECORD_MIME

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

# Richest first; widget views and JavaScript are left out: both need scripts that are not in the file.
DISPLAY_PRIORITY = ["text/html", "text/markdown", "image/svg+xml", "image/png", "image/jpeg", "text/latex",
                    "text/plain"]

# The lab template without the blocks that load require.js, MathJax, Mermaid and the widget renderer from
# a CDN, with a heading that says whose report it is and a link back to the index.
REPORT_TEMPLATE = """\
{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}
<style type="text/css">
.kpi-report-header { font-family: var(--jp-ui-font-family); color: var(--jp-ui-font-color1);
  border-bottom: 1px solid var(--jp-border-color2); padding: 8px 0 10px; margin-bottom: 12px; }
.kpi-report-header a { color: var(--jp-content-link-color); }
.kpi-report-header .kpi-report-meta { color: var(--jp-ui-font-color2); font-size: 0.9em; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  .jp-MarkdownCell h1 { break-before: page; }
  .jp-MarkdownCell h2, .jp-MarkdownCell h3 { break-after: avoid; }
  .jp-OutputArea-output img, .kpi-summary, tr { break-inside: avoid; }
  thead { display: table-header-group; }
}
</style>
{%- endblock extra_css -%}
{%- block body_header -%}
{{ super() }}
{%- set report = resources.get('kpi_report') -%}
{%- if report %}
<header class="kpi-report-header">
  <div><strong>{{ report.team | e }}</strong> · {{ report.notebook | e }}</div>
  <div class="kpi-report-meta">Period {{ report.period | e }} ·
    <a href="{{ report.index_href | e }}">all reports</a></div>
</header>
{%- endif %}
{%- endblock body_header -%}
"""

# Report mode: cells tagged workshop (how-to text, live-form headings and cells) stay in JupyterLab, not in reports.
REMOVE_CELL_TAGS = {"remove-cell", "remove_cell", "workshop"}
REMOVE_OUTPUT_TAGS = {"remove-output", "remove_output"}


@dataclass(frozen=True)
class ReportHeading:
    """What the heading of a report says: whose it is, which step and period, and where the index is."""

    team: str
    notebook: str
    period: str
    index_href: str = "../index.html"


def _quiet_logger() -> logging.Logger:
    logger = logging.getLogger("kpi_workbook.reports.html")
    logger.setLevel(logging.ERROR)  # nbconvert warns about every chart without alt text
    return logger


@cache
def _exporter() -> HTMLExporter:
    """One exporter per process: building it compiles the templates, which costs more than an export."""
    exporter = HTMLExporter(
        template_name="lab",
        raw_template=REPORT_TEMPLATE,
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
        log=_quiet_logger(),
        config=Config({"NbConvertBase": {"display_data_priority": DISPLAY_PRIORITY}}),
    )
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_cell_tags=REMOVE_CELL_TAGS, remove_all_outputs_tags=REMOVE_OUTPUT_TAGS),
        enabled=True,
    )
    return exporter


def _is_widget_only(output: nbformat.NotebookNode) -> bool:
    data = output.get("data", {})
    return WIDGET_VIEW in data and not (set(data) - {WIDGET_VIEW, "text/plain"})


def strip_widgets(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of the notebook without live widgets and recorded key figures: widget-only outputs, the saved widget
    state and record outputs go.

    A widget's text/plain form is its Python repr, which means nothing to a reader; outputs that carry a
    real fallback (HTML, an image) keep it.
    """
    clean = copy.deepcopy(nb)
    clean.metadata.pop("widgets", None)
    for cell in clean.cells:
        if cell.cell_type == "code":  # recorded key figures are for tests and the index, not for readers
            cell.outputs = [out for out in cell.get("outputs", [])
                            if not _is_widget_only(out) and RECORD_MIME not in out.get("data", {})]
            for out in cell.outputs:
                out.get("data", {}).pop(WIDGET_VIEW, None)
    return clean


def notebook_to_html(
    nb: nbformat.NotebookNode, heading: ReportHeading | None = None, source_dir: str | Path = ""
) -> str:
    """Render an executed notebook as one HTML page that opens offline: code hidden, images inline.

    ``source_dir`` is the folder of the source notebook, where images linked from markdown are found.
    """
    name = f"{heading.team} · {heading.notebook} · {heading.period}" if heading else nb.metadata.get("title", "report")
    resources: dict = {"metadata": {"name": name, "path": str(source_dir)}}
    if heading:
        resources["kpi_report"] = heading
    html, _ = _exporter().from_notebook_node(strip_widgets(nb), resources=resources)
    return html
