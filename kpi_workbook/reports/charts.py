"""Charts for the targets and review steps: KPI history with bands, a scorecard, and score trends.

Each function builds its own matplotlib Figure with the object API (no pyplot, no global state) and returns it,
a `figures.ChartFigure` that a notebook shows as one PNG; reports save it with ``fig.savefig(path)``.
"""

from __future__ import annotations

__all__ = [
    "BACKGROUND_LINE", "BAND_NAMES", "BAND_STYLES", "COLOURS", "LINE_COLOURS", "LINE_MARKERS", "MARGINS",
    "PANELS_PER_ROW", "PANEL_SIZE", "QUARTILES", "TARGET_LABEL", "TARGET_SCORE", "history_chart", "role_history_charts",
    "scorecard_chart", "trend_chart",
]

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypedDict

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from kpi_workbook.analysis.history import HISTORY_COLUMNS
from kpi_workbook.analysis.targets import history_frame
from kpi_workbook.core.model import Polarity
from kpi_workbook.core.periods import sort_periods
from kpi_workbook.reports.alt_text import history_alt, score_text, scores_alt, trend_alt
from kpi_workbook.reports.figures import ChartFigure

if TYPE_CHECKING:
    from matplotlib.axes import Axes


class _LineStyle(TypedDict, total=False):
    """Keyword arguments of a matplotlib line."""

    color: str
    linestyle: str
    linewidth: float
    zorder: int


COLOURS = {"green": "#2e7d32", "amber": "#f9a825", "red": "#c62828", "grey": "#9e9e9e"}
BAND_STYLES: dict[str, _LineStyle] = {
    "threshold": {"color": COLOURS["red"], "linestyle": "--"},
    "target": {"color": COLOURS["green"], "linestyle": "-"},
    "stretch": {"color": "#1565c0", "linestyle": ":"},
}
TARGET_SCORE = 100.0
TARGET_LABEL = "target (100 pts)"
BAND_NAMES = ("threshold", "target", "stretch", "target_range", "threshold_range")
QUARTILES = [0.25, 0.5, 0.75]
PANELS_PER_ROW = 3
# Small multiples, in inches: a panel with its share of the space between panels; margins around the panels (the
# figure is not cropped, so everything has its place); the legend's rows and columns.
PANEL_SIZE = (4.2, 2.2)
MARGINS = {"left": 0.7, "right": 0.1, "title": 0.3, "top": 0.75, "bottom": 0.6, "between": 0.75, "text": 0.1}
LEGEND_ROW_HEIGHT, LEGEND_COLUMN_WIDTH = 0.22, 2.1
# Trend lines: colours that are none of the status colours (green, amber, red, grey), each with its own marker; with
# more lines than colours, the lowest and the highest scores of the last period are drawn in colour, the rest thin
# and light
LINE_COLOURS = ("#1565c0", "#6a1b9a", "#6d4c41", "#00838f", "#ad1457", "#283593")
LINE_MARKERS = ("o", "s", "^", "D", "v", "P")
BACKGROUND_LINE: _LineStyle = {"color": "#cfd8dc", "linewidth": 1.0, "zorder": 1}


def _bands(source: Any) -> dict[str, Any]:
    """Band values from a RoleKpi, a TargetSuggestion or a mapping such as a suggestion table row (missing or NaN
    bands are None)."""
    raw = {n: source.get(n) if isinstance(source, Mapping) else getattr(source, n, None) for n in BAND_NAMES}
    for name in BAND_NAMES[:3]:
        if raw[name] is not None and pd.isna(raw[name]):
            raw[name] = None
    for name in BAND_NAMES[3:]:
        if not isinstance(raw[name], tuple | list):
            raw[name] = None
    return raw


def _draw_history(ax: Axes, frame: pd.DataFrame, polarity: Polarity | str, bands: Any = None, suggested: Any = None,
                  title: str = "", markersize: float = 6.0) -> None:
    """Draw one KPI history (a `targets.history_frame`) with its bands into `ax`."""
    values = frame.groupby("period", observed=False)["value"]
    stats = values.quantile(QUARTILES).unstack().reindex(columns=QUARTILES)  # one row per period, gaps as NaN
    positions = range(len(stats))
    ax.plot(positions, stats[0.5], marker="o", markersize=markersize, color="#37474f", label="median")
    if (values.count() > 1).any():
        ax.fill_between(positions, stats[0.25], stats[0.75], color="#90a4ae", alpha=0.35, label="middle 50 %")
    polarity = Polarity(polarity)
    for source, width, prefix in ((bands, 1.6, ""), (suggested, 1.0, "suggested ")):
        if source is None:
            continue
        band_values = _bands(source)
        if polarity is Polarity.WITHIN_RANGE:
            for name, colour in (("threshold_range", COLOURS["amber"]), ("target_range", COLOURS["green"])):
                if band_values[name]:
                    low, high = band_values[name]
                    ax.axhspan(low, high, color=colour, alpha=0.12 if prefix else 0.2,
                               label=f"{prefix}{name.replace('_', ' ')}")
            continue
        for name, style in BAND_STYLES.items():
            if band_values[name] is not None:
                ax.axhline(band_values[name], linewidth=width, alpha=0.6 if prefix else 1.0, label=f"{prefix}{name}",
                           **style)
    ax.set_title(title, y=1.0)  # placed, not fitted: fitting measures the tick labels once more per panel
    ax.grid(axis="y", alpha=0.3)


def _period_ticks(ax: Axes, labels: Sequence[str]) -> None:
    ax.set_xticks(range(len(labels)), labels, rotation=45 if len(labels) > 8 else 0)


def history_chart(history: Any, polarity: Polarity | str, bands: Any = None, suggested: Any = None,
                  title: str = "", unit: str = "") -> Figure:
    """A KPI's history per period: the median across people (line) and the middle 50 % (shaded), with the
    threshold, target and stretch as horizontal lines, or the target and threshold ranges as shaded bands.

    history: anything `targets.history_frame` accepts (e.g. DataFrame[period, employee_id, value]);
    bands: the current bands (RoleKpi, TargetSuggestion or mapping); suggested: optional second bands, drawn thin.
    """
    frame = history_frame(history)
    fig = ChartFigure(figsize=(8, 4), layout="constrained")
    ax = fig.subplots()
    _draw_history(ax, frame, polarity, bands, suggested, title)
    _period_ticks(ax, [str(p) for p in frame["period"].cat.categories])
    ax.set_xlabel("period")
    ax.set_ylabel(unit or "value")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    fig.alt = history_alt(title or "the KPI", [(title or "the KPI", *_latest(frame), _bands(bands)["target"])])
    return fig


def _latest(frame: pd.DataFrame) -> tuple[float, str]:
    """The median of a history's last period with values, and that period (NaN and '' without values)."""
    medians = frame.groupby("period", observed=False)["value"].median().dropna()
    return (medians.iloc[-1], str(medians.index[-1])) if len(medians) else (float("nan"), "")


def role_history_charts(history: pd.DataFrame, suggestions: pd.DataFrame, periods: Sequence[str] | None = None,
                        columns: int = PANELS_PER_ROW) -> list[Figure]:
    """Small multiples of role KPI histories: one figure per role, with one panel per KPI as in `history_chart`
    (median, middle 50 %, the current bands drawn thick and the suggested ones thin) and one legend per figure.

    history: the values of each role KPI, DataFrame[role, kpi_id, period, employee_id, value] (e.g.
    `StepContext.role_history`); suggestions: rows of a suggestion table for one method (role, kpi_id, kpi_name,
    polarity, the current_* bands and the suggested ones, as `targets.suggest_for_framework` gives), one panel
    each, in their order; periods: the period axis every panel shares, besides the periods in `history`;
    columns: panels per row.
    """
    axis = sort_periods({*(periods or ()), *history["period"].astype(str).unique()})
    by_kpi = dict(iter(history.groupby([history["role"].astype(str), history["kpi_id"].astype(str)],
                                       observed=True, sort=False)))
    empty = history.iloc[:0]
    figures: list[Figure] = []
    for role, rows in suggestions.groupby(suggestions["role"].astype(str), sort=False):
        panels = []
        count = len(rows)
        width, height = min(columns, count), -(-count // min(columns, count))
        fig = ChartFigure()
        # Not sharex: matplotlib would measure every sibling's tick labels for each panel. The panels share the
        # period axis all the same, and only the lowest panel of each column labels it.
        axes = fig.subplots(height, width, squeeze=False).ravel()
        for index, (ax, row) in enumerate(zip(axes, rows.to_dict("records"), strict=False)):
            frame = history_frame(by_kpi.get((role, str(row["kpi_id"])), empty)[HISTORY_COLUMNS], axis)
            current = {name: row.get(f"current_{name}") for name in BAND_NAMES}
            _draw_history(ax, frame, row["polarity"], current, row, title=str(row["kpi_name"]), markersize=4)
            panels.append((str(row["kpi_name"]), *_latest(frame), _bands(current)["target"]))
            ax.yaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))  # few, round values
            ax.set_xticks(range(len(axis)))
            ax.set_xlim(-0.5, len(axis) - 0.5)
            if index + width >= count:
                ax.set_xticklabels(axis, fontsize="small", rotation=45 if len(axis) > 4 else 0)
            else:
                ax.tick_params(axis="x", labelbottom=False)
        for ax in axes[count:]:
            ax.set_visible(False)
        labelled = {label: handle for ax in axes[:count]
                    for handle, label in zip(*ax.get_legend_handles_labels(), strict=True)}
        columns_of_legend = _legend_columns(width)
        _panel_layout(fig, width, height, legend_rows=-(-len(labelled) // columns_of_legend))
        inches_high = fig.get_figheight()
        fig.text(MARGINS["text"] / fig.get_figwidth(), 1 - MARGINS["text"] / inches_high, role, va="top",
                 fontweight="bold")
        fig.legend(labelled.values(), labelled.keys(), loc="upper center",
                   bbox_to_anchor=(0.5, 1 - MARGINS["title"] / inches_high), ncols=columns_of_legend,
                   fontsize="small", frameon=False)
        fig.alt = history_alt(role, panels)
        figures.append(fig)
    return figures


def _legend_columns(panels_across: int) -> int:
    return max(1, int((MARGINS["left"] + PANEL_SIZE[0] * panels_across) / LEGEND_COLUMN_WIDTH))


def _panel_layout(fig: Figure, width: int, height: int, legend_rows: int) -> None:
    """Size a figure of `width` × `height` panels and place them with margins in inches: the role's name and below
    it the legend above the panels, the periods below them, the values to their left."""
    header = MARGINS["top"] + LEGEND_ROW_HEIGHT * max(legend_rows, 1)
    inches_wide = MARGINS["left"] + PANEL_SIZE[0] * width
    inches_high = header + PANEL_SIZE[1] * height + MARGINS["bottom"]
    fig.set_size_inches(inches_wide, inches_high)
    fig.subplots_adjust(left=MARGINS["left"] / inches_wide, right=1 - MARGINS["right"] / inches_wide,
                        top=1 - header / inches_high, bottom=MARGINS["bottom"] / inches_high,
                        wspace=MARGINS["between"] / (PANEL_SIZE[0] - MARGINS["between"]), hspace=0.3)


def scorecard_chart(rows: pd.DataFrame, label: str = "kpi_id", title: str = "") -> Figure:
    """Horizontal bars of scores (one per row of `rows`, labelled by column `label`) against the 100 pts target,
    coloured by status (green/amber/red; grey rows have no data and show as 'no data')."""
    table = rows.reset_index(drop=True)
    scores = table["score"].astype(float).fillna(0.0)
    colours = [COLOURS.get(str(s), COLOURS["grey"]) for s in table["status"]]
    fig = ChartFigure(figsize=(8, max(2.5, 0.45 * len(table) + 1)), layout="constrained")
    ax = fig.subplots()
    positions = range(len(table))
    ax.barh(positions, scores, color=colours)
    for y, (score, status) in enumerate(zip(table["score"], table["status"].astype(str), strict=True)):
        ax.text(max(float(score) if pd.notna(score) else 0.0, 0.0) + 2, y,
                "no data" if status == "grey" else score_text(score), va="center", fontsize="small")
    ax.axvline(TARGET_SCORE, color="#37474f", linestyle="--", linewidth=1, label=TARGET_LABEL)
    ax.set_yticks(list(positions), table[label].astype(str))
    ax.invert_yaxis()
    ax.set_xlabel("score (pts)")
    ax.set_xlim(0, max(160.0, float(scores.max()) + 20))
    ax.set_title(title)
    fig.legend(loc="outside lower right", fontsize="small")  # below the axes: never over a bar's value label
    fig.alt = scores_alt(title, table[label].astype(str), table["score"], table["status"].astype(str))
    return fig


def trend_chart(trend: pd.DataFrame, group: str = "team", title: str = "") -> Figure:
    """One line per group (e.g. team or role) of weighted scores over periods, with the 100 pts target line.

    trend: a long table with period, the `group` column and score (e.g. `review.trends(scores, "team")`).
    """
    periods = sort_periods(trend["period"].astype(str).unique())
    wide = trend.assign(period=trend["period"].astype(str)).pivot_table(
        index="period", columns=group, values="score", observed=True).reindex(periods)
    fig = ChartFigure(figsize=(8, 4), layout="constrained")
    ax = fig.subplots()
    positions = range(len(periods))
    highlighted = _highlighted(wide)
    for name in wide.columns:
        if name not in highlighted:
            ax.plot(positions, wide[name], **BACKGROUND_LINE)
    for index, name in enumerate(highlighted):
        ax.plot(positions, wide[name], marker=LINE_MARKERS[index], color=LINE_COLOURS[index], linewidth=2,
                label=str(name), zorder=2)
    if len(highlighted) < len(wide.columns):
        ax.plot([], [], label=f"{len(wide.columns) - len(highlighted)} others", **BACKGROUND_LINE)
    ax.axhline(TARGET_SCORE, color="#37474f", linestyle="--", linewidth=1, label=TARGET_LABEL)
    ax.set_xticks(list(positions), periods, rotation=45 if len(periods) > 8 else 0)
    ax.set_xlabel("period")
    ax.set_ylabel("weighted score (pts)")
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    ax.grid(axis="y", alpha=0.3)
    fig.alt = trend_alt(title, wide)
    return fig


def _highlighted(wide: pd.DataFrame) -> list:
    """The lines drawn in colour: all when they are few, else the lowest and the highest in the last period."""
    if len(wide.columns) <= len(LINE_COLOURS):
        return list(wide.columns)
    last = wide.ffill().iloc[-1].sort_values()
    half = len(LINE_COLOURS) // 2
    return [*last.index[:half], *last.index[-half:]]
