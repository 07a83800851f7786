"""Executed notebook → self-contained HTML report: code hidden, nothing fetched from the network, nothing run.

Workspace text (names, titles, descriptions) reaches markdown and HTML outputs. nbconvert's ``sanitize_html``
passes every markdown cell, HTML and markdown output through its ``clean_html`` filter; that filter is replaced
here by one allowlist made for reports (headings, tables, lists, inline images as data: URIs, links): event
handlers, scripts, frames, forms, ``<meta>``, ``<base>``, remote images and CSS that loads anything are removed.
A Content-Security-Policy in every page forbids scripts and remote loads even if something slipped through.
"""

from __future__ import annotations

__all__ = [
    "ACRONYMS", "ALLOWED_TAGS", "BREAK_AFTER", "BREAK_CHARACTERS", "CONTENTS_MARK", "CONTENT_SECURITY_POLICY",
    "CSP_META", "DISPLAY_PRIORITY", "HEADING", "INDEX_LABEL", "REMOVE_CELL_TAGS", "REMOVE_OUTPUT_TAGS",
    "REPORT_TEMPLATE", "ReportHeading", "STEP_STEM", "TITLED_SECTIONS", "WIDGET_STATE", "WIDGET_VIEW", "contents",
    "css_string", "notebook_to_html", "sanitize_html", "step_links", "step_title", "strip_widgets",
]

import copy
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import bleach
import nbformat
import tinycss2
from bleach.css_sanitizer import ALLOWED_CSS_PROPERTIES, CSSSanitizer
from bleach.html5lib_shim import Filter
from nbconvert import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
from nbconvert.preprocessors import TagRemovePreprocessor
from traitlets.config import Config

from kpi_workbook.reports.links import current_item, link_item
from kpi_workbook.reports.record import RECORD_MIME

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

# Richest first; widget views and JavaScript are left out: both need scripts that are not in the file.
DISPLAY_PRIORITY = ["text/html", "text/markdown", "image/svg+xml", "image/png", "image/jpeg", "text/latex",
                    "text/plain"]

CONTENTS_MARK = "<!-- kpi-contents -->"  # where the contents list goes, once the headings are known
HEADING = re.compile(r'<h([12]) id="([^"]+)"[^>]*>(.*?)</h\1>', re.DOTALL)
STEP_STEM = re.compile(r"^(\d\d)_(\w+)$")
ACRONYMS = {"kpi": "KPI", "kpis": "KPIs"}
INDEX_LABEL = "All reports (index)"
TITLED_SECTIONS = {"summary", "scope-values"}  # headings that go on with the scope's name and period

# What an offline report needs: its own inline styles and data: images; no script, no request, no frame, no form.
CONTENT_SECURITY_POLICY = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
                           "script-src 'none'; object-src 'none'; frame-src 'none'; base-uri 'none'; "
                           "form-action 'none'")
CSP_META = f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'

# The lab template without the blocks that load require.js, MathJax, Mermaid and the widget renderer from
# a CDN, with a heading that says whose report it is, links to the scope's other reports and back to the index, a
# contents list (filled in after the export), charts with their text alternatives and body text of at least 14 px.
REPORT_TEMPLATE = """\
{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}""" + CSP_META + """{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}
{%- set report = resources.get('kpi_report') -%}
<style type="text/css">
.kpi-report-header { font-family: var(--jp-ui-font-family); color: var(--jp-ui-font-color1);
  border-bottom: 1px solid var(--jp-border-color2); padding: 8px 0 10px; margin-bottom: 12px; }
.kpi-report-header a { color: var(--jp-content-link-color); }
.kpi-report-header .kpi-report-meta { color: var(--jp-ui-font-color2); }
.kpi-report-header nav ol { display: inline; margin: 0; padding: 0; }
.kpi-report-header nav li { display: inline; }
.kpi-report-header nav li:not([hidden]) ~ li:not([hidden])::before { content: " · "; color: var(--jp-ui-font-color2); }
.kpi-report-header nav [hidden] { display: none; }
html .jp-Cell.jp-mod-noOutputs.jp-mod-noInput { display: none; }  /* a code cell that shows nothing takes no space */
.kpi-report-header nav { margin-top: 4px; }
@media screen {
  html body.jp-Notebook, html .jp-RenderedHTMLCommon, html .jp-RenderedHTMLCommon :is(p, li, td, th),
  html .kpi-report-header { font-size: 15px; }
  html .jp-RenderedHTMLCommon :is(small, .small) { font-size: 14px; }
}
@page { size: A4; margin: 12mm 10mm 14mm 10mm;
  @bottom-left { content: {{ report.footer_css if report else '""' }}; font: 8pt sans-serif; color: #59636e; }
  @bottom-right { content: "page " counter(page) " of " counter(pages); font: 8pt sans-serif; color: #59636e; } }
@media print {  /* "html" first: these rules outweigh the lab stylesheet that comes after them */
  html .kpi-screen-only { display: none; }  /* links to other files: a PDF would turn them into file:// addresses */
  html .kpi-report-header { font-size: 10pt; }
  html body.jp-Notebook { margin: 0; padding: 0; }
  html .jp-Cell { padding: 2px 0; }
  html .jp-MarkdownCell h1 { break-before: page; }
  html main > .jp-Cell:first-of-type h1 { break-before: auto; }
  html :is(h1, h2, h3, h4), html .jp-MarkdownCell { break-after: avoid; }  /* stays with what follows */
  html main .jp-OutputArea-child { break-inside: auto; }  /* long outputs run on; rows, charts, the summary do not */
  html :is(.jp-OutputArea-output img, .kpi-summary, .kpi-first li, tr) { break-inside: avoid; }
  html thead { display: table-header-group; }
  /* every table fits the page: no prompt column, smaller type, text wraps between words and after underscores and
     slashes (_BreakableCells) in any cell, nothing is clipped */
  html :is(.jp-OutputArea-child, .jp-OutputArea-output) { display: block; width: auto; padding: 0; overflow: visible; }
  /* no scroll bar: an output area runs over pages as a scroll box, and a bar's width would cut off the last column
     of its tables (the boxes stay: the PDF's outline is made from what they hold) */
  html * { scrollbar-width: none; }
  html .jp-OutputArea-prompt { display: none; }
  html .jp-OutputArea-output table { font-size: 8pt; max-width: 100%; }
  html .jp-OutputArea-output :is(td, th) { padding: 2px 4px !important; white-space: normal !important; }
  html .jp-OutputArea-output table:has(th:nth-child(9)) { font-size: 7pt; }
}
</style>
{%- endblock extra_css -%}
{%- block body_header -%}
{{ super() }}
{%- set report = resources.get('kpi_report') -%}
{%- if report %}
<header class="kpi-report-header">
  <div><strong>{{ report.team | e }}</strong>{% if report.title %} · {{ report.title | e }}{% endif %}</div>
  <div class="kpi-report-meta">Period {{ report.period | e }}</div>
  <nav class="kpi-screen-only" aria-label="Reports of this scope"><ol>{{ report.nav_items }}</ol></nav>
  """ + CONTENTS_MARK + """
</header>
{%- endif %}
{%- endblock body_header -%}
{% block data_svg scoped %}
<div class="jp-RenderedSVG jp-OutputArea-output {{ extra_class }}">
<img src="data:image/svg+xml;base64,{{ output.data['image/svg+xml'] | text_base64 | escape_html }}"
 alt="{{ ((output | get_metadata('alt', 'image/svg+xml')) or output.data.get('text/plain', 'Chart')) | escape_html }}">
</div>
{%- endblock data_svg %}
{% block data_png scoped %}
<div class="jp-RenderedImage jp-OutputArea-output {{ extra_class }}">
<img src="data:image/png;base64,{{ output.data['image/png'] | escape_html }}"
 alt="{{ ((output | get_metadata('alt', 'image/png')) or 'Chart') | escape_html }}">
</div>
{%- endblock data_png %}
"""

# Markup that markdown, pandas tables and the notebooks' HTML outputs use; everything else is shown as text.
ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "col", "colgroup", "dd", "del", "div", "dl", "dt", "em",
    "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol",
    "p", "pre", "q", "s", "small", "span", "strong", "style", "sub", "sup", "table", "tbody", "td", "tfoot", "th",
    "thead", "tr", "u", "ul",
}
_GLOBAL_ATTRIBUTES = {"class", "id", "title", "lang", "dir", "style"}
_TAG_ATTRIBUTES = {
    "a": {"href"}, "img": {"src", "alt", "width", "height"}, "style": {"scoped", "type"}, "table": {"border"},
    "td": {"colspan", "rowspan", "align"}, "th": {"colspan", "rowspan", "align", "scope"}, "col": {"span"},
    "colgroup": {"span"}, "ol": {"start"},
}
_IMAGE_DATA = ("data:image/png;", "data:image/jpeg;", "data:image/gif;", "data:image/webp;")
# CSS functions that fetch or build images; at-rules (@import, @font-face) are refused wholesale.
_LOADING_CSS_FUNCTIONS = {"url", "image", "image-set", "-webkit-image-set", "cross-fade", "element", "expression",
                          "src"}

# Report mode: cells tagged workshop (how-to text, live-form headings and cells) stay in JupyterLab, not in reports.
REMOVE_CELL_TAGS = {"remove-cell", "remove_cell", "workshop"}
REMOVE_OUTPUT_TAGS = {"remove-output", "remove_output"}
BREAK_CHARACTERS = ("_", "/")  # a table cell's text may wrap after these, besides its spaces
BREAK_AFTER = re.compile(r"(?<=[_/])")


def css_string(text: str) -> str:
    """Text as a CSS string literal that cannot end the string, its rule or the <style> element (every character but
    letters, digits, spaces and a few marks is written as a CSS escape)."""
    return '"' + "".join(c if c.isalnum() or c in " ·.,_-()" else f"\\{ord(c):x} " for c in text) + '"'


def step_title(stem: str) -> str:
    """A step notebook's name as a reader sees it: 03_kpi_design → 'Step 3 · KPI design'; any other name as it is."""
    found = STEP_STEM.match(stem)
    if not found:
        return stem
    words = " ".join(ACRONYMS.get(word, word) for word in found[2].split("_"))
    return f"Step {int(found[1])} · {words[:1].upper()}{words[1:]}"


def step_links(current: str, source_dir: str | Path) -> tuple[tuple[str, str], ...]:
    """Links to the step reports beside a step report (one per step notebook of `source_dir`); the current one
    without an address."""
    stems = sorted(p.stem for p in Path(source_dir).glob("[0-9][0-9]_*.ipynb")) if str(source_dir) else []
    return tuple((step_title(stem), "" if stem == current else f"{stem}.html") for stem in stems)


@dataclass(frozen=True)
class ReportHeading:
    """What the heading of a report says: whose it is, which step and period; where the index is and the links to
    the scope's other reports (shown on screen only; by default the step reports beside a step report)."""

    team: str
    notebook: str
    period: str
    index_href: str = "../index.html"
    links: tuple[tuple[str, str], ...] | None = None
    title: str | None = None

    @property
    def nav_items(self) -> str:
        """The heading's links as list items: the index, then the scope's reports (the current one as text), each
        marked so that `links.relink_reports` can hide those whose file a run did not make."""
        steps = [link_item(href, label) if href else current_item(label) for label, href in self.links or ()]
        return link_item(self.index_href, INDEX_LABEL) + "".join(steps)

    @property
    def footer_css(self) -> str:
        """The printed footer's text as a CSS string: whose report and which period."""
        return css_string(f"{self.team} · {self.period}")


@lru_cache(maxsize=512)  # the tables' own stylesheet comes with every table of a report
def _css_loads_nothing(css: str) -> bool:
    """True when a stylesheet or declaration list has no at-rule, url() or other function that fetches."""
    pending = list(tinycss2.parse_component_value_list(css, skip_comments=True))
    while pending:
        token = pending.pop()
        if token.type in ("url", "at-keyword", "error") or (
                token.type == "function" and token.lower_name in _LOADING_CSS_FUNCTIONS):
            return False
        pending += getattr(token, "content", None) or []
        pending += getattr(token, "arguments", None) or []
    return True


class _ReportCssSanitizer(CSSSanitizer):
    """bleach's property allowlist for style attributes, and nothing that fetches (bleach keeps url())."""

    def sanitize_css(self, style: str) -> str:
        return super().sanitize_css(style) if _css_loads_nothing(style) else ""


class _DropLoadingStylesheets(Filter):
    """Drops a <style> element whose CSS could fetch anything (bleach passes <style> text through unchecked)."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        held: list[dict[str, Any]] | None = None
        for token in super().__iter__():
            if token["type"] == "StartTag" and token["name"] == "style":
                held = [token]
            elif held is not None:
                held.append(token)
                if token["type"] == "EndTag" and token["name"] == "style":
                    css = "".join(t.get("data", "") for t in held if t["type"] in ("Characters", "SpaceCharacters"))
                    if _css_loads_nothing(css):
                        yield from held
                    held = None
            else:
                yield token


class _BreakableCells(Filter):
    """Puts a line-break opportunity (<wbr>) after each underscore and slash of a table cell's text, so that an id
    such as sales_development_rep or levels such as 214000/222000/248000 can wrap in a narrow column of a printed
    page instead of widening the table past its edge."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        depth = 0
        for token in super().__iter__():
            if token["type"] in ("StartTag", "EndTag") and token["name"] in ("td", "th"):
                depth = max(0, depth + (1 if token["type"] == "StartTag" else -1))
            if depth and token["type"] == "Characters" and BREAK_AFTER.search(token["data"]):
                for part in filter(None, BREAK_AFTER.split(token["data"])):
                    yield {"type": "Characters", "data": part}
                    if part.endswith(BREAK_CHARACTERS):
                        yield {"type": "EmptyTag", "name": "wbr", "data": {}}
            else:
                yield token


def _allowed_attribute(tag: str, name: str, value: str) -> bool:
    if name not in _GLOBAL_ATTRIBUTES and name not in _TAG_ATTRIBUTES.get(tag, ()):
        return False
    if tag == "img" and name == "src":
        return value.strip().lower().startswith(_IMAGE_DATA)
    if name == "href":
        return not value.strip().lower().startswith("data:")
    return True


class _NoContentLinks(Filter):
    """Keeps the text of every link and drops the link: text from the framework and the data (a name holding an
    <a> element, a URL that markdown turns into a link) never becomes something to click; the heading anchors
    (¶) go with their text."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        anchor = 0
        for token in super().__iter__():
            if token["type"] in ("StartTag", "EndTag") and token["name"] == "a":
                if token["type"] == "StartTag" and "anchor-link" in token["data"].get((None, "class"), ""):
                    anchor += 1
                elif token["type"] == "EndTag" and anchor:
                    anchor -= 1
                continue
            if not anchor:
                yield token


_CLEANER = bleach.Cleaner(
    tags=ALLOWED_TAGS, attributes=_allowed_attribute, protocols={"http", "https", "mailto", "data"},
    strip=False, strip_comments=True, filters=[_DropLoadingStylesheets, _BreakableCells, _NoContentLinks],
    css_sanitizer=_ReportCssSanitizer(allowed_css_properties=ALLOWED_CSS_PROPERTIES),
)


def sanitize_html(html: str) -> str:
    """Rendered markdown or an HTML output made safe to show: see the module docstring for what goes."""
    return _CLEANER.clean(str(html))


def _quiet_logger() -> logging.Logger:
    logger = logging.getLogger("kpi_workbook.reports.html")
    logger.setLevel(logging.ERROR)  # nbconvert warns about every chart without alt text
    return logger


# A numeric character reference, as nbconvert writes the text of markdown headings (Step 5 &#183; Review).
_CHARACTER_REFERENCE = re.compile(r"&#(?:([0-9]+)|[xX]([0-9a-fA-F]+));")
# The boxes of cells and outputs, as nbconvert's lab template writes them: each is given a tabindex (as nbconvert
# does), so that a box that scrolls (a wide table on a narrow screen) can be scrolled from the keyboard.
_CELL_BOX = re.compile(r'<div (?=(?:id="[^"]*" )?class="[^"]*\b(?:jp-OutputArea-output|jp-Cell-inputWrapper)\b)')


class _ReportExporter(HTMLExporter):
    """nbconvert's HTML exporter without the pass that parses each page again after rendering it (BeautifulSoup,
    nearly half an export's time) to give images without a text alternative a placeholder, a tabindex to the boxes of
    cells and outputs, and characters for the references of headings: a report's images have theirs
    (REPORT_TEMPLATE), and the rest is done here."""

    def from_notebook_node(  # type: ignore[override]  # a page, as nbconvert's own exporters return
            self, nb: nbformat.NotebookNode, resources: dict[str, Any] | None = None, **kw: Any
    ) -> tuple[str, dict[str, Any]]:
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata,
                                                                       parent=self, resources=resources))
        html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        return _CELL_BOX.sub('<div tabindex="0" ', _CHARACTER_REFERENCE.sub(_character, html)), resources


def _character(found: re.Match[str]) -> str:
    """A reference to a character past ASCII and its controls, which may stand as it is in text and in attribute
    values, as that character; the others (markup characters, quotes, controls) stay references."""
    code = int(found[1]) if found[1] else int(found[2], 16)
    return chr(code) if 0xA0 <= code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else found[0]


@cache
def _exporter() -> HTMLExporter:
    """One exporter per process: building it compiles the templates, which costs more than an export."""
    exporter = _ReportExporter(
        template_name="lab",
        raw_template=REPORT_TEMPLATE,
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
        sanitize_html=True,
        filters={"clean_html": sanitize_html},
        log=_quiet_logger(),
        config=Config({"NbConvertBase": {"display_data_priority": DISPLAY_PRIORITY}}),
    )
    exporter.register_filter("highlight_code", Highlight2HTML(parent=exporter))  # inputs are never shown
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
    name = (f"{heading.team} · {step_title(heading.notebook)} · {heading.period}" if heading
            else nb.metadata.get("title", "report"))
    resources: dict = {"metadata": {"name": name, "path": str(source_dir)}}
    if heading:
        resources["kpi_report"] = replace(
            heading, title=step_title(heading.notebook) if heading.title is None else heading.title,
            links=step_links(heading.notebook, source_dir) if heading.links is None else heading.links)
    html, _ = _exporter().from_notebook_node(strip_widgets(nb), resources=resources)
    return html.replace(CONTENTS_MARK, contents(html), 1)


def _label(anchor: str, heading: str) -> str:
    """A heading as the contents list names it: its text without markup; the review's own sections (the summary,
    the scope's KPI values) without the scope's name and period that follow their title, which the header says."""
    text = bleach.clean(heading, tags=set(), strip=True).strip()
    return text.split(" · ")[0] if anchor in TITLED_SECTIONS else text


def contents(html: str) -> str:
    """A contents list linking the page's headings: its h1 when it has several (a pack of steps), else its h2."""
    headings = [(int(level), anchor, text) for level, anchor, text in HEADING.findall(html)]
    level = 1 if sum(h[0] == 1 for h in headings) > 1 else 2
    items = "".join(f'<li><a href="#{anchor}">{_label(anchor, text)}</a></li>' for found, anchor, text in headings
                    if found == level)
    return f'<nav class="kpi-screen-only" aria-label="Contents">Contents: <ol>{items}</ol></nav>' if items else ""
