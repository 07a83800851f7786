"""The strategy map drawn with Graphviz: one band per perspective (financial at the top, learning & growth at the
bottom), one box per objective with its title, its status (colour, symbol and word) and the KPIs serving it, and
arrows from each objective to its child objectives.

The picture is SVG made here from `analysis.strategy_map` data: every text is escaped into Graphviz's HTML-like
labels, and the SVG is rewritten with names rather than ids in its titles, a title and an aria-label saying what it
shows, and nothing that links or loads. Without Graphviz's `dot` program a one-line note says how to install it.
"""

from __future__ import annotations

__all__ = [
    "BREAK", "EMPTY_BAND", "FILL_ABOVE", "FONT", "KPIS_PER_COLUMN", "KPI_WIDTH", "MISSING_DOT", "MUTED_COLOUR", "NBSP",
    "NO_KPI", "PERSPECTIVE_LABELS", "SCORING", "STATUS_WORDS", "SVG_NS", "SYMBOL_FONT", "StrategyMapSVG", "TEXT_COLOUR",
    "TITLE_WIDTH", "XLINK_NS", "alt_text", "legend_label", "objective_label", "status_word", "strategy_map_svg",
    "strategy_map_view",
]

import html
import re
import textwrap
from xml.etree import ElementTree

import graphviz
from IPython.display import HTML, SVG, Markdown, display

from kpi_workbook.analysis.scoring import ScoringConfig
from kpi_workbook.analysis.strategy_map import MapKpi, MapObjective, StrategyMap
from kpi_workbook.core.model import Perspective
from kpi_workbook.reports.tables import STATUS_COLOURS, STATUS_SYMBOLS
from kpi_workbook.reports.units import SCORE_UNIT, score_text

PERSPECTIVE_LABELS = {
    Perspective.FINANCIAL: "Financial",
    Perspective.CUSTOMER: "Customer",
    Perspective.INTERNAL_PROCESS: "Internal process",
    Perspective.LEARNING_GROWTH: "Learning & growth",
}
STATUS_WORDS = {"green": "green", "amber": "amber", "red": "red", "grey": "no data"}
NO_KPI = "no KPI"
SCORING = ScoringConfig()  # the statuses' limits, as analysis.strategy_map rolls them up
FONT = "Arial"
SYMBOL_FONT = "DejaVu Sans Mono"  # one width for every status symbol, so the KPI names line up
NBSP = "\u00a0"
BREAK = '<BR ALIGN="LEFT"/>'
TEXT_COLOUR = "#1f2328"
MUTED_COLOUR = "#59636e"
TITLE_WIDTH = 30  # characters per line of an objective's title
KPI_WIDTH = 28  # characters per line of a KPI's name
KPIS_PER_COLUMN = 9
EMPTY_BAND = "empty_"  # node name prefix of the line a band without objectives shows
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_LINKS = {"href", f"{{{XLINK_NS}}}href", "src"}
FILL_ABOVE = 1000  # pixels: a map wider than this takes the width it is given (shrinks to fit) instead of its own
MISSING_DOT = ("**Strategy map not drawn:** Graphviz's `dot` program is not installed; install it "
               "(`apt-get install graphviz` or `conda install graphviz`) and run the notebook again.")


def _text(value: str) -> str:
    """Text for an HTML-like label: characters XML cannot hold dropped, markup characters escaped."""
    return html.escape(_NOT_XML.sub("", value), quote=False)


def _lines(value: str, width: int) -> str:
    """Escaped text wrapped into left-aligned lines."""
    return BREAK.join(_text(line) for line in textwrap.wrap(_NOT_XML.sub("", value), width) or [""])


def status_word(objective: MapObjective) -> str:
    """The status of an objective in words: green, amber, red, no data, or no KPI (none serves it)."""
    return STATUS_WORDS[objective.status] if objective.kpis else NO_KPI


def _status_cell(objective: MapObjective, columns: int) -> str:
    """The status row: symbol, word and weighted score, white on the status's dark colour."""
    score = "" if objective.score != objective.score else f" · score {score_text(objective.score)}"
    text = f"{STATUS_SYMBOLS[objective.status]} {status_word(objective)}{score}"
    dark = STATUS_COLOURS[objective.status][1]
    return (f'<TR><TD ALIGN="LEFT" COLSPAN="{columns}" BGCOLOR="{dark}">'
            f'<FONT COLOR="white"><B>{_text(text)}</B></FONT></TD></TR>')


def _kpi_line(kpi: MapKpi) -> str:
    """A KPI's status symbol (in its status colour, one width for all symbols) and its name, wrapped under itself."""
    colour = STATUS_COLOURS[kpi.status][1]
    symbol = f'<FONT FACE="{SYMBOL_FONT}" COLOR="{colour}"><B>{_text(STATUS_SYMBOLS[kpi.status])}</B></FONT>'
    indent = f'<BR ALIGN="LEFT"/><FONT FACE="{SYMBOL_FONT}">{NBSP * 2}</FONT>'
    return f'{symbol}{NBSP}{_lines(kpi.name, KPI_WIDTH).replace(BREAK, indent)}{BREAK}'


def _kpi_rows(kpis: tuple[MapKpi, ...], columns: int) -> str:
    """The KPIs serving an objective under a heading, in `columns` columns filled top to bottom."""
    if not kpis:
        return ""
    rows = -(-len(kpis) // columns)
    cells = "".join(f'<TD ALIGN="LEFT" BALIGN="LEFT" VALIGN="TOP">{"".join(map(_kpi_line, kpis[i:i + rows]))}</TD>'
                    for i in range(0, len(kpis), rows))
    return (f'<TR><TD ALIGN="LEFT" COLSPAN="{columns}"><FONT COLOR="{MUTED_COLOUR}" POINT-SIZE="11">'
            f'KPIs serving it</FONT></TD></TR><TR>{cells}</TR>')


def objective_label(objective: MapObjective) -> str:
    """An objective's box: its title in bold, its status, and the KPIs serving it."""
    columns = max(1, -(-len(objective.kpis) // KPIS_PER_COLUMN))
    wrap = TITLE_WIDTH + (columns - 1) * KPI_WIDTH
    title = (f'<TR><TD ALIGN="LEFT" BALIGN="LEFT" COLSPAN="{columns}"><B>{_lines(objective.title, wrap)}</B>'
             f'</TD></TR>')
    return (f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="1" CELLPADDING="3">{title}'
            f'{_status_cell(objective, columns)}{_kpi_rows(objective.kpis, columns)}</TABLE>>')


def legend_label(period: str, config: ScoringConfig = SCORING) -> str:
    """What the colours, symbols and arrows mean, and which period the statuses are of."""
    when = f"Status in {period}" if period else "Status (no actuals yet)"
    meaning = {"green": f"green: score ≥ {config.green_at:.0f} {SCORE_UNIT}",
               "amber": f"amber: ≥ {config.amber_at:.0f} {SCORE_UNIT}",
               "red": f"red: below {config.amber_at:.0f} {SCORE_UNIT}", "grey": "no data"}
    chips = "".join(f'<TD BGCOLOR="{STATUS_COLOURS[s][0]}"><FONT COLOR="{STATUS_COLOURS[s][1]}"><B>'
                    f'{_text(STATUS_SYMBOLS[s] + " " + text)}</B></FONT></TD>' for s, text in meaning.items())
    return (f'<<TABLE BORDER="0" CELLSPACING="4" CELLPADDING="4"><TR><TD>{_text(when)}, the weighted score of the '
            f'KPIs serving each objective:</TD>{chips}</TR><TR><TD ALIGN="LEFT" COLSPAN="5">Arrows lead from an '
            f'objective to its child objectives (the cascade).</TD></TR></TABLE>>')


def alt_text(data: StrategyMap, scope: str = "") -> str:
    """What the map shows in one sentence, e.g. 'Strategy map: 7 objectives in 4 perspectives; 2 red, 3 amber …'."""
    perspectives = sum(bool(data.in_perspective(p)) for p in Perspective)
    counts = data.status_counts()
    statuses = ", ".join(f"{n} {STATUS_WORDS[s]}" for s, n in counts.items() if n)
    objectives = f"{len(data.objectives)} objective{'s' * (len(data.objectives) != 1)}"
    whose = f" of {scope}" if scope else ""
    when = f" in {data.period}" if data.period else ""
    return (f"Strategy map{whose}: {objectives} in {perspectives} perspective{'s' * (perspectives != 1)}"
            f"{f'; {statuses}{when}' if statuses else ''}; {len(data.edges)} cascade link"
            f"{'s' * (len(data.edges) != 1)}")


def _graph(data: StrategyMap) -> tuple[graphviz.Digraph, dict[str, str]]:
    """The DOT graph of the map, and the title each node, edge and band should carry in the SVG."""
    graph = graphviz.Digraph("strategy_map", graph_attr={
        "newrank": "true", "rankdir": "TB", "nodesep": "0.3", "ranksep": "0.45", "fontname": FONT,
        "labelloc": "b", "labeljust": "l", "label": legend_label(data.period), "fontsize": "13",
        "fontcolor": TEXT_COLOUR, "bgcolor": "white", "pad": "0.2"})
    graph.attr("node", shape="box", style="rounded,filled", fontname=FONT, fontsize="13", fontcolor=TEXT_COLOUR,
               penwidth="2", margin="0.1,0.06")
    graph.attr("edge", color=MUTED_COLOUR, penwidth="1.6", arrowsize="0.9")
    node = {o.id: f"o{i}" for i, o in enumerate(data.objectives)}
    titles = {node[o.id]: o.title for o in data.objectives}
    firsts = []
    for perspective, label in PERSPECTIVE_LABELS.items():
        members = data.in_perspective(perspective)
        name = f"cluster_{perspective.value}"
        titles[name] = label
        with graph.subgraph(name=name) as band:
            band.attr(label=f"<<B>{_text(label)}</B>>", rank="same", style="rounded,filled", fillcolor="#f6f8fa",
                      color="#d1d9e0", fontsize="16", labeljust="l", labelloc="t", margin="12")
            for objective in members:
                light, dark = STATUS_COLOURS[objective.status]
                band.node(node[objective.id], objective_label(objective), fillcolor=light, color=dark)
            for left, right in zip(members, members[1:], strict=False):  # left to right in the framework's order
                band.edge(node[left.id], node[right.id], style="invis")
            if not members:
                empty = f"{EMPTY_BAND}{perspective.value}"
                titles[empty] = f"No {label.lower()} objective"
                band.node(empty, f"<<I>{_text(titles[empty])}</I>>", shape="plaintext", style="",
                          fontcolor=MUTED_COLOUR)
            firsts.append(node[members[0].id] if members else f"{EMPTY_BAND}{perspective.value}")
    for upper, lower in zip(firsts, firsts[1:], strict=False):
        graph.edge(upper, lower, style="invis", weight="10")
    for parent, child in data.edges:
        graph.edge(node[parent], node[child])
        titles[f"{node[parent]}->{node[child]}"] = f"{titles[node[parent]]} → {titles[node[child]]}"
    return graph, titles


def _clean_svg(svg: str, titles: dict[str, str], alt: str) -> str:
    """The SVG with names instead of ids in its titles, its own title and aria-label, and no link or load."""
    ElementTree.register_namespace("", SVG_NS)
    ElementTree.register_namespace("xlink", XLINK_NS)
    root = ElementTree.fromstring(re.sub(r"^.*?(?=<svg\b)", "", svg, flags=re.DOTALL))
    for element in root.iter():
        for name in _LINKS & set(element.attrib):
            del element.attrib[name]
        title = element.find(f"{{{SVG_NS}}}title")
        if title is not None:
            if (title.text or "").startswith(EMPTY_BAND):  # a band's "no objective" line is no objective's node
                element.set("class", "note")
            title.text = titles.get(title.text or "", alt)
    _fit(root)
    root.set("role", "img")
    root.set("aria-label", alt)
    heading = ElementTree.Element(f"{{{SVG_NS}}}title")
    heading.text = alt
    root.insert(0, heading)
    return ElementTree.tostring(root, encoding="unicode")


def _fit(root: ElementTree.Element) -> None:
    """A wide map fills the width of the page instead of its own size: no height, width 100 % (the viewBox keeps
    its proportions), so that a report or notebook shows it whole."""
    width = float(root.get("width", "0").removesuffix("pt") or 0) * 4 / 3
    if width > FILL_ABOVE:
        root.set("width", "100%")
        root.attrib.pop("height", None)


def strategy_map_svg(data: StrategyMap, scope: str = "") -> str:
    """The map as SVG text (raises graphviz.ExecutableNotFound without Graphviz's dot program)."""
    graph, titles = _graph(data)
    return _clean_svg(graph.pipe(format="svg", encoding="utf-8", quiet=True), titles, alt_text(data, scope))


class StrategyMapSVG(SVG):
    """The map shown as an SVG image under a caption that says what it shows (its alt text, also its plain text)."""

    def __init__(self, svg: str, alt: str):
        super().__init__(data=svg)
        self.alt = alt

    def __repr__(self) -> str:
        return self.alt

    def _ipython_display_(self) -> None:
        display(HTML(f"<p><strong>{html.escape(self.alt)}</strong></p>"))
        display({"image/svg+xml": self.data, "text/plain": self.alt}, raw=True)


def strategy_map_view(data: StrategyMap, scope: str = "") -> StrategyMapSVG | Markdown:
    """The map to display, or a one-line note on installing Graphviz when its dot program is missing."""
    try:
        return StrategyMapSVG(strategy_map_svg(data, scope), alt_text(data, scope))
    except graphviz.ExecutableNotFound:
        return Markdown(MISSING_DOT)
