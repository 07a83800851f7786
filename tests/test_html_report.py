"""HTML reports from executed notebooks: code hidden, widgets and CDN scripts gone, everything inline."""

from __future__ import annotations

import base64
from html.parser import HTMLParser

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from kpi_workbook.reports.html import WIDGET_STATE, WIDGET_VIEW, ReportHeading, notebook_to_html, strip_widgets

# A 1×1 PNG.
PIXEL = base64.b64encode(bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8ffff3f0005fe02fea7d6a4f50000000049454e44ae426082"
)).decode()


class References(HTMLParser):
    """Collects every element with a src or href, and the script and link tags, of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []
        self.scripts: list[dict] = []
        self.links: list[dict] = []
        self.images: list[str] = []
        self.tags: set[str] = set()
        self.attributes: set[str] = set()
        self.styles: list[str] = []
        self.policy = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags.add(tag)
        self.attributes |= set(values)
        if tag == "meta" and (values.get("http-equiv") or "").lower() == "content-security-policy":
            self.policy = values.get("content") or ""
        for name in ("src", "href"):
            if values.get(name) is not None:
                self.refs.append((tag, name, values[name]))
        if tag == "script":
            self.scripts.append(values)
        if tag == "link":
            self.links.append(values)
        if tag == "img":
            self.images.append(values.get("src") or "")

    def handle_data(self, data: str) -> None:
        if self.lasttag == "style":
            self.styles.append(data.strip())


def parse(html: str) -> References:
    refs = References()
    refs.feed(html)
    return refs


def external_references(html: str) -> list[tuple[str, str, str]]:
    """Every src or href that would make a browser fetch something: all but #anchors and data: URIs."""
    return [(tag, name, value) for tag, name, value in parse(html).refs
            if not (value.startswith("#") or value.startswith("data:"))]


@pytest.fixture
def executed(tmp_path) -> nbformat.NotebookNode:
    """An executed notebook as a kernel leaves it: a widget, a chart, JavaScript, math, a markdown image."""
    (tmp_path / "logo.png").write_bytes(base64.b64decode(PIXEL))
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["widgets"] = {WIDGET_STATE: {"state": {"abc": {"model_name": "IntSliderModel"}},
                                             "version_major": 2, "version_minor": 0}}
    slider = new_code_cell("secret_code_marker = IntSlider(3)\nsecret_code_marker", execution_count=1, outputs=[
        new_output("execute_result", execution_count=1, data={
            WIDGET_VIEW: {"model_id": "abc", "version_major": 2, "version_minor": 0},
            "text/plain": "IntSlider(value=3)"})])
    chart = new_code_cell("plot()", execution_count=2, outputs=[
        new_output("display_data", data={WIDGET_VIEW: {"model_id": "def"}, "image/png": PIXEL,
                                          "text/plain": "<Figure size 640x480 with 1 Axes>"})])
    script = new_code_cell("display(Javascript(...))", execution_count=3, outputs=[
        new_output("display_data", data={"application/javascript": "fetch('https://example.com/x.js')",
                                          "text/plain": "<IPython.core.display.Javascript object>"})])
    hidden = new_code_cell("setup()", execution_count=4, outputs=[
        new_output("stream", name="stdout", text="setup output nobody should see\n")])
    hidden.metadata["tags"] = ["remove-cell"]
    nb.cells = [
        new_markdown_cell("# Weights\n\nThe weights $w_i$ sum to 100. ![logo](logo.png)"),
        slider, chart, script, hidden,
        new_code_cell("table()", execution_count=5, outputs=[
            new_output("execute_result", execution_count=5, data={
                "text/html": "<table><tr><td>E0001</td></tr></table>", "text/plain": "E0001"})]),
    ]
    return nb


@pytest.fixture
def html(executed, tmp_path) -> str:
    return notebook_to_html(executed, ReportHeading(team="Sales", notebook="04_targets", period="2025Q4"), tmp_path)


def test_strip_widgets_drops_widget_only_outputs_and_state_but_keeps_fallbacks(executed):
    clean = strip_widgets(executed)
    assert "widgets" not in clean.metadata
    assert clean.cells[1].outputs == []
    assert set(clean.cells[2].outputs[0].data) == {"image/png", "text/plain"}
    assert WIDGET_VIEW in executed.cells[1].outputs[0].data  # the input notebook is left as it was


def test_report_has_no_reference_to_the_network(html):
    refs = parse(html)
    assert external_references(html) == [("a", "href", "../index.html")]  # the link back to the index
    assert refs.links == []
    assert [s for s in refs.scripts if "src" in s] == []
    for marker in ("cdnjs", "unpkg", "jsdelivr", "require.js", "MathJax.Hub", "mermaid.esm", "embed-amd"):
        assert marker not in html


def test_images_are_embedded_as_data_uris(html):
    images = parse(html).images
    assert len(images) == 2  # the chart, and the markdown image read from the notebook's folder
    assert all(src.startswith("data:image/png;base64,") for src in images)


def test_widgets_javascript_and_code_are_not_in_the_report(html):
    assert WIDGET_VIEW not in html and WIDGET_STATE not in html and "IntSliderModel" not in html
    assert "IntSlider(value=3)" not in html
    assert "example.com" not in html  # JavaScript output shown as its text form, not run
    assert "secret_code_marker" not in html  # code cells are hidden
    assert "setup output nobody should see" not in html  # remove-cell tag honoured


def test_report_keeps_markdown_tables_and_heading(html):
    assert "The weights" in html and "<td>E0001</td>" in html
    assert "<strong>Sales</strong> · Step 4 · Targets" in html and "Period 2025Q4" in html
    assert "<title>Sales · Step 4 · Targets · 2025Q4</title>" in html


def test_markdown_and_html_outputs_are_sanitized_but_keep_tables_headings_and_inline_images(executed, tmp_path):
    executed.cells.append(new_code_cell("describe()", execution_count=6, outputs=[
        new_output("display_data", data={"text/markdown": (
            "## Team People <img src=x onerror=alert(1)> <svg onload=alert(2)>\n\n"
            "![remote](http://127.0.0.1:9/x.png) [js](javascript:alert(3)) <details open ontoggle=alert(4)>"),
            "text/plain": "..."})]))
    executed.cells.append(new_code_cell("table()", execution_count=7, outputs=[
        new_output("execute_result", execution_count=7, data={"text/html": (
            "<style scoped>.dataframe th { text-align: right; }</style>"
            "<style>@import url(http://127.0.0.1:9/x.css);</style>"
            '<table class="dataframe"><thead><tr style="text-align: right;"><th>Name</th></tr></thead>'
            '<tbody><tr><td style="cursor: url(http://127.0.0.1:9/c.cur)">Ann <b onclick="alert(5)">B</b></td>'
            "</tr></tbody></table>"), "text/plain": "..."})]))
    html = notebook_to_html(executed, ReportHeading(team="Sales", notebook="05_review", period="2025Q4"), tmp_path)
    elements = parse(html)
    assert [a for a in elements.attributes if a.startswith("on")] == []
    assert {"svg", "details", "script", "iframe"} & elements.tags == set()
    assert [ref for ref in elements.refs if "127.0.0.1" in ref[2] or "javascript:" in ref[2]] == []
    assert "127.0.0.1" not in "".join(elements.styles)
    assert "&lt;svg onload" in html  # the text is shown, not run
    assert "<h2" in html and '<tr style="text-align: right;">' in html and "<th>Name</th>" in html
    assert ".dataframe th { text-align: right; }" in elements.styles
    assert all(src.startswith("data:image/png;base64,") for src in parse(html).images if src)


def test_every_report_carries_a_content_security_policy_without_scripts_or_remote_loads(html):
    policy = parse(html).policy
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["default-src"] == "'none'" and directives["script-src"] == "'none'"
    assert directives["img-src"] == "data:" and "http" not in policy
    assert html.index("Content-Security-Policy") < html.index("<style")


def test_headings_keep_their_characters_and_markup_stays_escaped_and_every_box_takes_the_keyboard():
    nb = new_notebook(cells=[
        new_markdown_cell("# Step 5 · Review — “Q4” & <b>more</b>"),
        new_code_cell("table", outputs=[new_output("display_data", data={"text/html": "<table><tr><td>1</td></tr>"
                                                                                     "</table>"})]),
    ])
    page = notebook_to_html(nb)
    assert "Step 5 · Review — “Q4” &amp; " in page  # characters as they are, the ampersand a reference
    assert "<b>more</b>" in page and "&#183;" not in page
    boxes = [line for line in page.splitlines() if 'class="jp-' in line and ("jp-OutputArea-output" in line
                                                                          or "jp-Cell-inputWrapper" in line)]
    assert boxes and all('tabindex="0"' in line for line in boxes), boxes
