"""Report tables: labels in words, formats per column, no index, full text, colours, counts, sections, empty text."""

from __future__ import annotations

from html import escape
from html.parser import HTMLParser

import pandas as pd
import pytest

from kpi_workbook.analysis import review
from kpi_workbook.reports.charts import scorecard_chart, trend_chart
from kpi_workbook.reports.tables import STATUS_COLOURS, Col, ReportTable, count_text, styled
from kpi_workbook.steps import review as review_step


class Cells(HTMLParser):
    """The text of every header and data cell of a page, and the number of row headers (an index column)."""

    def __init__(self) -> None:
        super().__init__()
        self.headers: list[str] = []
        self.cells: list[str] = []
        self.row_headers = 0
        self._in: str = ""
        self._section = ""

    def handle_starttag(self, tag, attrs):
        if tag in ("thead", "tbody"):
            self._section = tag
        if tag in ("th", "td"):
            self._in = tag
            self.row_headers += tag == "th" and self._section == "tbody"
            (self.headers if tag == "th" else self.cells).append("")

    def handle_endtag(self, tag):
        if tag in ("th", "td"):
            self._in = ""

    def handle_data(self, data):
        if self._in:
            (self.headers if self._in == "th" else self.cells)[-1] += data


def cells_of(html: str) -> Cells:
    parser = Cells()
    parser.feed(html)
    return parser


LONG_TEXT = ("Renew at least 92 % of customer contracts each year, reach a customer satisfaction score of 90 % and a "
             "net promoter score of 40, and keep every complaint answered within two working days, without exception.")


def test_labels_units_formats_and_full_text():
    frame = pd.DataFrame({"name": ["A", "B"], "note": [LONG_TEXT, ""], "score": [123.456, float("nan")],
                          "coverage": [0.9612, 1.0], "weight": [1234567, 3], "in_role": [True, False]})
    html = styled(frame, {"name": Col("Name"), "note": Col("Note"), "score": Col("Score", "score"),
                          "coverage": Col("Data coverage", "share"), "weight": Col("Amount", "count", "EUR"),
                          "in_role": Col("In the role", "yesno")}).to_html()
    cells = cells_of(html)
    assert cells.headers == ["Name", "Note", "Score", "Data coverage", "Amount (EUR)", "In the role"]
    assert cells.row_headers == 0, "no index column"
    # a blank text cell and a missing number both show a dash
    assert cells.cells == ["A", LONG_TEXT, "123.5\u00a0pts", "96 %", "1,234,567", "yes",  # a score has its unit
                           "B", "—", "—", "100 %", "3", "no"]


def test_status_cells_are_coloured_by_their_value(scored_sample):
    framework, employees, _, scores = scored_sample
    people = review.scorecard(scores, "2025Q4", "employee")
    html = review_step.people_table(people, employees, framework)._repr_html_()
    for status in set(people["status"].astype(str)):
        background, colour = STATUS_COLOURS[status]
        assert f"background-color: {background};\n  color: {colour};" in html


def test_a_long_table_is_complete_in_sections_with_counts(scored_sample):
    framework, employees, _, scores = scored_sample
    people = review.scorecard(scores, "2025Q4", "employee")
    table = review_step.people_table(people, employees, framework)
    html = table._repr_html_()
    teams = people["team"].astype(str).nunique()
    assert table.grouped and f"{len(people)} people, in {teams} sections." in html
    names = dict(zip(employees["employee_id"], employees["name"], strict=True))
    shown = [escape(f"{names[e]} ({e})").replace("&#x27;", "&#39;") for e in people["employee_id"].astype(str)]
    assert all(person in html for person in shown), "every person, by name and id"
    for team in framework.teams:
        count = int((people["team"].astype(str) == team.id).sum())
        if count:
            assert f"<h4>{escape(team.name)} · {count_text(count, ('person', 'people'))}</h4>" in html
    assert "rows ×" not in html and "..." not in html


def test_an_empty_table_is_a_sentence_not_a_bare_header():
    html = ReportTable(pd.DataFrame(columns=["flag"]), {"flag": Col("Flag")}, empty="No flags.")._repr_html_()
    assert html == '<p class="kpi-table-empty">No flags.</p>'


def test_text_is_escaped():
    html = styled(pd.DataFrame({"t": ["<script>alert(1)</script>"]}), {"t": Col("Text")}).to_html()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_an_unknown_column_names_the_columns_there_are():
    with pytest.raises(KeyError, match="has no column.*missing.*it has a"):
        styled(pd.DataFrame({"a": [1]}), {"missing": Col("Missing")})


def test_charts_and_their_text_alternatives_give_scores_in_points(scored_sample):
    """A score is plotted, labelled and described with its unit: one decimal and pts."""
    *_, scores = scored_sample
    roles = review.scorecard(scores, "2025Q4", "role")
    labels = roles["team"].astype(str) + " " + roles["role"].astype(str)
    fig = scorecard_chart(roles.assign(label=labels), label="label", title="Roles")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "score (pts)"
    expected = ["no data" if status == "grey" else f"{score:.1f}\u00a0pts"
                for score, status in zip(roles["score"], roles["status"].astype(str), strict=True)]
    assert [t.get_text() for t in ax.texts] == expected
    assert expected[0] in fig.alt and "the 100\u00a0pts target" in fig.alt
    trend = trend_chart(review.trends(scores, "team"), group="team", title="Teams")
    assert trend.axes[0].get_ylabel() == "weighted score (pts)" and " %" not in trend.alt
