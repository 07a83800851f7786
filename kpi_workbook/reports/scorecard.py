"""Actual against target as a manager reads it: one row per KPI of a team's roles (or of every team of a department or
the organization) with the actual in its unit and what it is (the team's value or the median of its people), the
threshold, target and stretch (or ranges), the gap to the target, the status (symbol, word and colour) and step 4's
verdict on the target where it is too easy or unrealistic; and what needs attention first, one next action each."""

from __future__ import annotations

__all__ = [
    "GAP_HEADING", "TREND_HEADING", "VERDICTS_SHOWN", "actual_text", "attention_items", "attention_line", "band_texts",
    "basis_text", "kpi_actuals_table", "next_action", "row_gap_text", "verdict_text",
]

import html
import math
from collections.abc import Mapping

import pandas as pd

from kpi_workbook.analysis.review import RECENT_PERIODS, RECOMMENDATIONS, STATUS_ORDER, TEAM_VALUE
from kpi_workbook.analysis.targets import TOO_EASY, UNREALISTIC
from kpi_workbook.core.model import Framework, KpiDefinition, Polarity
from kpi_workbook.reports.sparkline import sparkline
from kpi_workbook.reports.tables import EMPTY_TEXT, Col, ReportTable
from kpi_workbook.reports.units import decimals, gap_text, level_text, range_text, value_text

VERDICTS_SHOWN = (TOO_EASY, UNREALISTIC)  # step 4's verdicts a review shows
GAP_HEADING = "Gap to target (− short of it)"
TREND_HEADING = f"Last {RECENT_PERIODS} periods"


def _known(value: object) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _edges(row: Mapping) -> list[float]:
    """The levels the actual is read against: the target, or the target range's ends."""
    return [row["target"], row["range_low"], row["range_high"]]


def _places(row: Mapping, unit: str) -> int:
    """Decimals of the actual and its gap: as many as the actual and the target, read side by side, need."""
    return decimals([row["actual"], *_edges(row)], unit)


def _side(row: Mapping) -> str | None:
    """Where a within-range KPI's actual is: 'below' or 'above' the target range, "" inside; None for other KPIs."""
    if row["polarity"] != Polarity.WITHIN_RANGE.value:
        return None
    actual = row["actual"]
    return "below" if actual < row["range_low"] else "above" if actual > row["range_high"] else ""


def actual_text(row: Mapping, unit: str) -> str:
    """The actual with its unit, as many decimals as it and its target need: '11.3 min'."""
    return value_text(row["actual"], unit, _places(row, unit))


def basis_text(row: Mapping) -> str:
    """What the actual is: 'team value', 'median of 35 people', '1 person'."""
    if not _known(row["actual"]):
        return "no data"
    if row["basis"] == TEAM_VALUE:
        return TEAM_VALUE
    people = int(row["people"])
    return "1 person" if people == 1 else f"median of {people} people"


def band_texts(row: Mapping, unit: str) -> tuple[str, str, str]:
    """Threshold, target and stretch as set, with the unit; ranges for a within-range KPI (no stretch)."""
    if row["polarity"] == Polarity.WITHIN_RANGE.value:
        return (range_text(row["threshold_low"], row["threshold_high"], unit),
                range_text(row["range_low"], row["range_high"], unit), EMPTY_TEXT)
    return (level_text(row["threshold"], unit), level_text(row["target"], unit), level_text(row["stretch"], unit))


def row_gap_text(row: Mapping, unit: str) -> str:
    """The gap to the target as text (see units.gap_text), in the actual's decimals."""
    if not _known(row["actual"]):
        return EMPTY_TEXT
    return gap_text(row["gap"], row["gap_share"], unit, _places(row, unit), _side(row))


def verdict_text(row: Mapping) -> str:
    """Step 4's verdict on the target where it is too easy or unrealistic: 'unrealistic (met 31 % of the time)'."""
    verdict = row.get("current_verdict")
    if verdict not in VERDICTS_SHOWN:
        return ""
    return f"{verdict} (met {100 * row['current_probability']:.0f} % of the time)"


def _shown(board: pd.DataFrame, framework: Framework) -> pd.DataFrame:
    """The board's rows, worst status first and furthest short first, with every cell as text."""
    kpis = {k.id: k for k in framework.kpis}
    order = board["status"].astype(str).map({s: i for i, s in enumerate(STATUS_ORDER)})
    rows = board.assign(order=order, rank=-(board["weight"] * board["shortfall"]).fillna(0))
    rows = rows.sort_values(["order", "rank"], kind="stable").drop(columns=["order", "rank"])
    records = rows.to_dict("records")
    units = [framework.unit_of(kpis[r["kpi_id"]]) for r in records]
    bands = [band_texts(r, u) for r, u in zip(records, units, strict=True)]
    return rows.assign(
        kpi_name=[kpis[r["kpi_id"]].name for r in records],
        actual_text=[actual_text(r, u) for r, u in zip(records, units, strict=True)],
        basis_text=[basis_text(r) for r in records], threshold_text=[b[0] for b in bands],
        target_text=[b[1] for b in bands], stretch_text=[b[2] for b in bands],
        gap_text=[row_gap_text(r, u) for r, u in zip(records, units, strict=True)],
        verdict_text=[verdict_text(r) for r in records],
        trend_text=[sparkline(r["recent"]) for r in records],
    )


def kpi_actuals_table(board: pd.DataFrame, framework: Framework, names: Mapping[str, Mapping[str, str]],
                      with_team: bool = False) -> ReportTable:
    """The board (steps.review.kpi_board) as a table: KPI, role, actual, what it is, bands, gap, status and the
    target's verdict, and the trend of the last periods; with `with_team` a team column instead of the trend, and one
    section per team when long."""
    shown = _shown(board, framework)
    shown = shown.assign(role_name=shown["role"].map(names["role"]), team_name=shown["team"].map(names["team"]))
    team = {"team_name": Col("Team")} if with_team else {}
    trend = {} if with_team else {"trend_text": Col(TREND_HEADING)}  # a page holds a team column or a trend, not both
    return ReportTable(shown, {
        **team, "kpi_name": Col("KPI"), "role_name": Col("Role"), "actual_text": Col("Actual", "figure"),
        "basis_text": Col("Actual is"), "threshold_text": Col("Threshold", "figure"),
        "target_text": Col("Target", "figure"), "stretch_text": Col("Stretch", "figure"),
        "gap_text": Col(GAP_HEADING, "figure"), "status": Col("Status", "status"), **trend,
        "verdict_text": Col("Target on past values"),
    }, noun=("KPI", "KPIs"), empty="No role KPI in this scope.", group_by="team_name" if with_team else "")


# --- what needs attention --------------------------------------------------------------------------------------


def _people_action(row: Mapping) -> str:
    short, red, people = int(row["short_people"]), int(row["red_people"]), int(row["people"])
    below = f", {red} below the threshold" if red else ""
    first = "starting with those below the threshold" if red else "starting with the furthest short"
    return f"{short} of {people} people are short of the target{below}: go through their cases one to one, {first}"


def next_action(row: Mapping, kpi: KpiDefinition) -> str:
    """One next action for a KPI that needs attention (a row of `attention` frames, see attention_items), from what
    the data says about it: an unrealistic target first, then a threshold missed period after period, a worsening,
    the people short of it, or the team's value."""
    if row.get("current_verdict") == UNREALISTIC:
        suggestion = f"; step 4 suggests {row['suggested']}" if row["suggested"] != EMPTY_TEXT else ""
        return (f"review the target: past values met it only {100 * row['current_probability']:.0f} % of the time"
                f"{suggestion}")
    if row["never_met"]:
        return f"short of the threshold period after period: {RECOMMENDATIONS['never_met']}"
    if row["reason"] == "worse":
        return f"find out with the team what changed since {row['previous_period']}, before it gets worse"
    if row["basis"] != TEAM_VALUE and row["people"] > 1 and row["short_people"]:
        return _people_action(row)
    owner = f" with its owner ({kpi.owner})" if kpi.owner else ""
    return f"agree a plan to close the gap{owner}"


def attention_line(row: Mapping, kpi: KpiDefinition, where: str, unit: str) -> str:
    """What the row's KPI stands at in `unit`, as HTML: 'Average handle time · Customer Support Agent: 11.3 min
    (median of 35 people) against a target of 10 min (−1.3 min (−13 %) short); 10.6 min in 2025Q3.'"""
    against = "a target range of" if row["polarity"] == Polarity.WITHIN_RANGE.value else "a target of"
    before = ""
    if _known(row["previous_actual"]):
        before = f"; {value_text(row['previous_actual'], unit, _places(row, unit))} in {row['previous_period']}"
    text = (f"{where}: {actual_text(row, unit)} ({basis_text(row)}) against {against} {band_texts(row, unit)[1]} "
            f"({row_gap_text(row, unit)}){before}.")
    return f"<strong>{html.escape(kpi.name)}</strong> · {html.escape(text)}"


def attention_items(ranked: pd.DataFrame, framework: Framework) -> str:
    """The ranked KPIs (analysis.review.attention, with the board's verdicts) as an HTML list, one next action each.
    Besides the board's columns a row has `where` (whose KPI, in words), `suggested` (step 4's target, as text) and
    `never_met` (whether the threshold was missed period after period)."""
    if ranked.empty:
        return "<p>Nothing is short of its target or getting worse: keep the course.</p>"
    kpis = {k.id: k for k in framework.kpis}
    items = []
    for _, row in ranked.iterrows():
        kpi = kpis[row["kpi_id"]]
        action = html.escape(next_action(row, kpi))
        line = attention_line(row, kpi, row["where"], framework.unit_of(kpi))
        items.append(f"<li>{line}<br><em>Next:</em> {action}.</li>")
    return f"<ol>{''.join(items)}</ol>"
