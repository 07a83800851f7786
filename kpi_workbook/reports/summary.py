"""The first section of a review, what a manager acts on: the scope's score and status for the period with the change
from the previous period, how many KPIs and people are green, amber, red or grey and why, each KPI's actual against
its target, what needs attention first (one next action each), the data-quality flags, and what changed in the
framework."""

from __future__ import annotations

__all__ = ["ReportSummary", "STEADY", "ScopeFigures", "TOP_FLAGS", "scope_figures"]

import html
import math
import re
from dataclasses import dataclass, field

import pandas as pd

from kpi_workbook.analysis.review import GROUP
from kpi_workbook.analysis.scoring import roll_up
from kpi_workbook.reports.mode import for_readers, report_mode
from kpi_workbook.reports.tables import REPORT_CSS, STATUS_COLOURS, STATUS_SYMBOLS, status_counts
from kpi_workbook.reports.units import score_change_text, score_text
from kpi_workbook.workspace.changelog import ChangeEntry

TOP_FLAGS = 5  # data-quality flags listed in the first section
STEADY = 0.5  # a change of the score smaller than this (points) shows as steady


@dataclass(frozen=True)
class ScopeFigures:
    """The figures of one scope in one period, as the summary and the index dashboard show them."""

    period: str
    score: float  # NaN when no KPI of the scope has data
    status: str
    previous_period: str = ""
    previous_score: float = math.nan
    kpis: dict[str, int] = field(default_factory=dict)  # status → count of (team, role, KPI) groups
    people: dict[str, int] = field(default_factory=dict)  # status → count of people

    @property
    def change(self) -> float:
        """Score points gained since the previous period (NaN without one)."""
        return self.score - self.previous_score

    @property
    def trend(self) -> str:
        """An arrow for the change: ▲ up, ▼ down, ► steady, or "" when there is nothing to compare."""
        if math.isnan(self.change):
            return ""
        return "►" if abs(self.change) < STEADY else ("▲" if self.change > 0 else "▼")

    @property
    def red_kpis(self) -> int:
        return self.kpis.get("red", 0)


def scope_figures(scores: pd.DataFrame, period: str) -> ScopeFigures:
    """The figures of the scores of one scope (`scoring.score_actuals` of its people, up to and beyond `period`)."""
    periods = [str(p) for p in scores["period"].cat.categories] if len(scores) else []
    if period not in periods:
        return ScopeFigures(period=period, score=math.nan, status="grey")
    now = scores[scores["period"] == period]
    total = roll_up(now, ())
    score = float(total["score"].iloc[0]) if len(total) else math.nan
    status = str(total["status"].iloc[0]) if len(total) else "grey"
    before = periods[: periods.index(period)]
    previous = roll_up(scores[scores["period"] == before[-1]], ()) if before else pd.DataFrame()
    return ScopeFigures(
        period=period, score=score, status=status, previous_period=before[-1] if before else "",
        previous_score=float(previous["score"].iloc[0]) if len(previous) else math.nan,
        kpis=status_counts(roll_up(now, GROUP)["status"]),
        people=status_counts(roll_up(now, ("employee_id",))["status"]),
    )


def _chip(status: str, text: str) -> str:
    """A status chip: its colour, and its symbol before the text (never colour alone)."""
    background, colour = STATUS_COLOURS.get(status, STATUS_COLOURS["grey"])
    shown = f"{STATUS_SYMBOLS.get(status, '')} {text}".strip()
    return f'<span class="kpi-chip" style="background-color:{background};color:{colour}">{html.escape(shown)}</span>'


def _counts(counts: dict[str, int], noun: str) -> str:
    chips = " ".join(_chip(status, f"{n} {status}") for status, n in counts.items())
    return f"<div><strong>{sum(counts.values())} {noun}:</strong> {chips}</div>"


def _score_line(figures: ScopeFigures) -> str:
    if math.isnan(figures.score):
        return f"<p>No KPI has data for {html.escape(figures.period)}: the score is not known (grey).</p>"
    if math.isnan(figures.change):
        change = "no earlier period to compare with"
    else:
        change = (f"{figures.trend} {score_change_text(figures.change)} from {figures.previous_period} "
                  f"({score_text(figures.previous_score)})")
    return (f'<p class="kpi-score">Score <strong>{score_text(figures.score)}</strong> '
            f"{_chip(figures.status, figures.status)}"
            f' <span class="kpi-change">{html.escape(change)}</span></p>')


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _prose(text: str) -> str:
    """Text escaped for HTML, with `code` spans shown as code (in a report, without commands and backticks)."""
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(for_readers(text)))


def _flag_items(flags: pd.DataFrame, names: dict[str, dict[str, str]]) -> str:
    if flags.empty:
        return "<p>No data-quality flag: the period's data can be read as it is.</p>"
    top = flags.head(TOP_FLAGS)
    items = []
    for row in top.itertuples():
        parts = [names.get(column, {}).get(str(value), str(value))
                 for column, value in (("team", row.team), ("role", row.role), ("kpi_id", row.kpi_id)) if value]
        items.append(f"<li><strong>{html.escape(row.flag.replace('_', ' '))}</strong> · "
                     f"{html.escape(' / '.join(parts))}: {_prose(row.message)}.<br>"
                     f"<em>Recommendation:</em> {_prose(row.recommendation)}.</li>")
    more = len(flags) - len(top)
    rest = f"<p>{_plural(more, 'more flag')} in the table of flags at the end.</p>" if more else ""
    return f"<ol>{''.join(items)}</ol>{rest}"


def _change_items(change: ChangeEntry | None) -> str:
    """What changed in the framework in its latest review cycle, from the change log."""
    if change is None:
        how = "" if report_mode() else (": record a review cycle with "
                                         "<code>kpi-workbook diff REV -w DIR --record WHY</code>")
        return f"<h3>What changed in the framework</h3><p>No change log yet{how}.</p>"
    items = "".join(f"<li>{html.escape(line)}</li>" for line in change.changes) or "<li>no change to the framework</li>"
    return (f"<h3>What changed in the framework · version {html.escape(change.version)}, {change.date:%Y-%m-%d}</h3>"
            f"<p>{html.escape(change.why)}</p><ul>{items}</ul>")


@dataclass(frozen=True)
class ReportSummary:
    """The first section of a review report, opening with the summary box; shows as HTML.

    `kpis` counts the statuses of the KPI table's rows (the figures' roll-up counts without one), `why` lists (HTML
    list items) why the status is what it is, `table` is the KPI table (anything that shows as HTML),
    `attention` the list of what needs attention (HTML) and `flags` the data-quality flags.
    """

    name: str
    figures: ScopeFigures
    flags: pd.DataFrame
    names: dict[str, dict[str, str]] = field(default_factory=dict)  # "team"/"role"/"kpi_id" → id → name
    change: ChangeEntry | None = None  # the framework's latest change log entry
    kpis: dict[str, int] | None = None
    why: str = ""
    table: object | None = None
    table_title: str = ""
    attention: str = ""

    def _box(self) -> str:
        """The summary box: score, change, counts and why; kept on one page in print."""
        why = f'<ul class="kpi-why">{self.why}</ul>' if self.why else ""
        return (f'<div class="kpi-summary"><h2 id="summary">Summary · {html.escape(self.name)} · '
                f'{html.escape(self.figures.period)}</h2>{_score_line(self.figures)}'
                f"{_counts(self.kpis if self.kpis is not None else self.figures.kpis, 'KPIs (per team and role)')}"
                f"{_counts(self.figures.people, 'people')}{why}</div>")

    def _repr_html_(self) -> str:
        table = getattr(self.table, "_repr_html_", lambda: "")()
        title = f"<h3>{html.escape(self.table_title)}</h3>" if self.table_title and table else ""
        attention = f"<h3>What needs attention</h3>{self.attention}" if self.attention else ""
        return (f'{REPORT_CSS}<div class="kpi-first">{self._box()}{title}{table}{attention}'
                f"<h3>Data quality ({_plural(len(self.flags), 'flag')})</h3>{_flag_items(self.flags, self.names)}"
                f"{_change_items(self.change)}</div>")

    def __repr__(self) -> str:
        return f"<summary of {self.name}, {self.figures.period}: score {score_text(self.figures.score)}>"
