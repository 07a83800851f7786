"""Charts for the targets and review steps: KPI history with bands, a scorecard, and score trends.

Each function builds its own matplotlib Figure with the object API (no pyplot, no global state) and returns it;
notebooks display the returned figure and reports save it with ``fig.savefig(path)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from kpi_workbook.model import Polarity
from kpi_workbook.periods import sort_periods
from kpi_workbook.targets import history_frame

COLOURS = {"green": "#2e7d32", "amber": "#f9a825", "red": "#c62828", "grey": "#9e9e9e"}
BAND_STYLES = {
    "threshold": {"color": COLOURS["red"], "linestyle": "--"},
    "target": {"color": COLOURS["green"], "linestyle": "-"},
    "stretch": {"color": "#1565c0", "linestyle": ":"},
}
TARGET_SCORE = 100.0


def _bands(source: Any) -> dict[str, Any]:
    """Band values from a RoleKpi, a TargetSuggestion or a mapping such as a suggestion table row (missing or NaN
    bands are None)."""
    names = ("threshold", "target", "stretch", "target_range", "threshold_range")
    raw = {n: source.get(n) if isinstance(source, Mapping) else getattr(source, n, None) for n in names}
    for name in names[:3]:
        if raw[name] is not None and pd.isna(raw[name]):
            raw[name] = None
    for name in names[3:]:
        if not isinstance(raw[name], tuple | list):
            raw[name] = None
    return raw


def history_chart(history: Any, polarity: Polarity | str, bands: Any = None, suggested: Any = None,
                  title: str = "", unit: str = "") -> Figure:
    """A KPI's history per period: the median across people (line) and the middle 50 % (shaded), with the
    threshold, target and stretch as horizontal lines, or the target and threshold ranges as shaded bands.

    history: anything `targets.history_frame` accepts (e.g. DataFrame[period, employee_id, value]);
    bands: the current bands (RoleKpi, TargetSuggestion or mapping); suggested: optional second bands, drawn thin.
    """
    frame = history_frame(history)
    stats = frame.groupby("period", observed=False)["value"].describe()[["25%", "50%", "75%"]]
    labels = [str(p) for p in stats.index]
    positions = range(len(labels))
    fig = Figure(figsize=(8, 4), layout="constrained")
    ax = fig.subplots()
    ax.plot(positions, stats["50%"], marker="o", color="#37474f", label="median")
    if (frame.groupby("period", observed=False)["value"].count() > 1).any():
        ax.fill_between(positions, stats["25%"], stats["75%"], color="#90a4ae", alpha=0.35, label="middle 50 %")
    polarity = Polarity(polarity)
    for source, width, prefix in ((bands, 1.6, ""), (suggested, 1.0, "suggested ")):
        if source is None:
            continue
        values = _bands(source)
        if polarity is Polarity.WITHIN_RANGE:
            for name, colour in (("threshold_range", COLOURS["amber"]), ("target_range", COLOURS["green"])):
                if values[name]:
                    low, high = values[name]
                    ax.axhspan(low, high, color=colour, alpha=0.12 if prefix else 0.2,
                               label=f"{prefix}{name.replace('_', ' ')}")
            continue
        for name, style in BAND_STYLES.items():
            if values[name] is not None:
                ax.axhline(values[name], linewidth=width, alpha=0.6 if prefix else 1.0, label=f"{prefix}{name}",
                           **style)
    ax.set_xticks(list(positions), labels, rotation=45 if len(labels) > 8 else 0)
    ax.set_xlabel("period")
    ax.set_ylabel(unit or "value")
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    ax.grid(axis="y", alpha=0.3)
    return fig


def scorecard_chart(rows: pd.DataFrame, label: str = "kpi_id", title: str = "") -> Figure:
    """Horizontal bars of scores (one per row of `rows`, labelled by column `label`) against the 100 % target,
    coloured by status (green/amber/red; grey rows have no data and show as 'no data')."""
    table = rows.reset_index(drop=True)
    scores = table["score"].astype(float).fillna(0.0)
    colours = [COLOURS.get(str(s), COLOURS["grey"]) for s in table["status"]]
    fig = Figure(figsize=(8, max(2.5, 0.45 * len(table) + 1)), layout="constrained")
    ax = fig.subplots()
    positions = range(len(table))
    ax.barh(positions, scores, color=colours)
    for y, (score, status) in enumerate(zip(table["score"], table["status"].astype(str), strict=True)):
        ax.text(max(float(score) if pd.notna(score) else 0.0, 0.0) + 2, y,
                "no data" if status == "grey" or pd.isna(score) else f"{score:.0f} %", va="center", fontsize="small")
    ax.axvline(TARGET_SCORE, color="#37474f", linestyle="--", linewidth=1, label="target (100 %)")
    ax.set_yticks(list(positions), table[label].astype(str))
    ax.invert_yaxis()
    ax.set_xlabel("score (%)")
    ax.set_xlim(0, max(160.0, float(scores.max()) + 20))
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize="small")
    return fig


def trend_chart(trend: pd.DataFrame, group: str = "team", title: str = "") -> Figure:
    """One line per group (e.g. team or role) of weighted scores over periods, with the 100 % target line.

    trend: a long table with period, the `group` column and score (e.g. `review.trends(scores, "team")`).
    """
    periods = sort_periods(trend["period"].astype(str).unique())
    wide = trend.assign(period=trend["period"].astype(str)).pivot_table(
        index="period", columns=group, values="score", observed=True).reindex(periods)
    fig = Figure(figsize=(8, 4), layout="constrained")
    ax = fig.subplots()
    positions = range(len(periods))
    for name in wide.columns:
        ax.plot(positions, wide[name], marker="o", label=str(name))
    ax.axhline(TARGET_SCORE, color="#37474f", linestyle="--", linewidth=1, label="target (100 %)")
    ax.set_xticks(list(positions), periods, rotation=45 if len(periods) > 8 else 0)
    ax.set_xlabel("period")
    ax.set_ylabel("weighted score (%)")
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    ax.grid(axis="y", alpha=0.3)
    return fig
