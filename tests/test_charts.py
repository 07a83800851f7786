"""Charts on the sample organization: rendered to PNG, with the lines, bands and labels they promise."""

from __future__ import annotations

import base64
import struct

import matplotlib.colors as mcolors
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.core.pylabtools import select_figure_formats
from IPython.utils.capture import capture_output
from matplotlib.figure import Figure

from kpi_workbook.analysis.history import kpi_history, role_history
from kpi_workbook.analysis.review import kpi_scorecard, trends
from kpi_workbook.analysis.targets import suggest_for_framework, suggest_targets
from kpi_workbook.reports.charts import (
    COLOURS,
    LINE_COLOURS,
    history_chart,
    role_history_charts,
    scorecard_chart,
    trend_chart,
)
from kpi_workbook.sample import quarter_labels

PERIODS = quarter_labels("2024Q1", 8)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def history_of(scored_sample, role, kpi):
    framework, employees, actuals, _ = scored_sample
    assignment = next(a.kpi for a in framework.assignments if a.role == role and a.kpi.kpi == kpi)
    return kpi_history(framework, actuals, employees, role, kpi), assignment


def render(fig: Figure, path) -> None:
    fig.savefig(path)
    assert path.read_bytes()[:8] == PNG_MAGIC and path.stat().st_size > 5000


def legend_texts(ax) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_history_chart_with_current_and_suggested_bands(scored_sample, tmp_path):
    history, assignment = history_of(scored_sample, "account_executive", "win_rate")
    suggestion = suggest_targets(history, "higher_is_better", "percentile")
    fig = history_chart(history, "higher_is_better", assignment, suggestion, title="Win rate", unit="%")
    render(fig, tmp_path / "history.png")
    ax = fig.axes[0]
    assert len(ax.lines) == 1 + 3 + 3  # median, current bands, suggested bands
    assert ax.lines[0].get_ydata().size == len(PERIODS)
    targets = [line for line in ax.lines if line.get_label() == "target"]
    assert targets[0].get_ydata()[0] == assignment.target
    assert legend_texts(ax)[:4] == ["median", "middle 50 %", "threshold", "target"]
    assert "suggested stretch" in legend_texts(ax)
    assert [t.get_text() for t in ax.get_xticklabels()] == PERIODS
    assert ax.get_title() == "Win rate" and ax.get_ylabel() == "%"


def test_history_chart_shades_ranges_for_within_range_kpis(scored_sample, tmp_path):
    history, assignment = history_of(scored_sample, "operations_manager", "capacity_utilization")
    fig = history_chart(history, "within_range", assignment, title="Capacity utilization")
    render(fig, tmp_path / "range.png")
    ax = fig.axes[0]
    assert len(ax.lines) == 1
    spans = {p.get_label(): (p.get_y(), p.get_y() + p.get_height()) for p in ax.patches}
    assert spans["target range"] == pytest.approx(assignment.target_range)
    assert spans["threshold range"] == pytest.approx(assignment.threshold_range)


def test_history_chart_of_one_value_per_period_has_no_spread(tmp_path):
    fig = history_chart([3.0, 4.0, 5.0], "lower_is_better", {"target": 4.0})
    render(fig, tmp_path / "team.png")
    ax = fig.axes[0]
    assert len(ax.lines) == 2 and "middle 50 %" not in legend_texts(ax)


def test_scorecard_chart_colours_bars_by_status(scored_sample, tmp_path):
    framework, _, _, scores = scored_sample
    card = kpi_scorecard(scores, framework, PERIODS[-1])
    person = card[card["employee_id"] == card["employee_id"].iloc[0]]
    fig = scorecard_chart(person, label="kpi_name", title="Scorecard")
    render(fig, tmp_path / "scorecard.png")
    ax = fig.axes[0]
    bars = ax.patches
    assert len(bars) == len(person)
    for bar, status in zip(bars, person["status"].astype(str), strict=True):
        assert mcolors.to_hex(bar.get_facecolor()) == COLOURS[status]
    assert [t.get_text() for t in ax.get_yticklabels()] == person["kpi_name"].tolist()
    assert ax.lines[0].get_xdata()[0] == 100
    assert ax.get_xlabel() == "score (pts)"


def test_scorecard_chart_marks_missing_data(scored_sample, tmp_path):
    framework, _, _, scores = scored_sample
    card = kpi_scorecard(scores, framework, PERIODS[-1])
    grey = card[card["status"].astype(str) == "grey"].head(3)
    fig = scorecard_chart(grey)
    render(fig, tmp_path / "grey.png")
    assert [t.get_text() for t in fig.axes[0].texts] == ["no data"] * len(grey)


def test_trend_chart_has_one_line_per_team_and_highlights_the_lowest_and_highest(scored_sample, tmp_path):
    framework, _, _, scores = scored_sample
    trend = trends(scores, "team")
    fig = trend_chart(trend, group="team", title="Team scores")
    render(fig, tmp_path / "trend.png")
    ax = fig.axes[0]
    teams = {t.id for t in framework.teams}
    drawn = [line for line in ax.lines if len(line.get_xdata()) == len(PERIODS)]
    assert len(drawn) == len(teams)
    coloured = {line.get_label() for line in drawn if line.get_color() in LINE_COLOURS}
    last = trend[trend["period"].astype(str) == PERIODS[-1]].sort_values("score")["team"].astype(str).tolist()
    assert coloured == {*last[:3], *last[-3:]}, "the three lowest and the three highest in colour"
    assert f"{len(teams) - 6} others" in [line.get_label() for line in ax.lines]
    assert not {line.get_color() for line in ax.lines} & set(COLOURS.values()), "no status colour"
    assert all(team in fig.alt for team in teams) and fig.alt.startswith("Line chart Team scores from")
    assert [t.get_text() for t in ax.get_xticklabels()] == PERIODS
    assert ax.get_ylabel() == "weighted score (pts)"


def test_history_chart_takes_a_suggestion_table_row(scored_sample, tmp_path):
    framework, employees, actuals, _ = scored_sample
    table = suggest_for_framework(framework, actuals, employees, roles=["operations_manager"])
    rows = table.set_index("kpi_id")
    capacity = rows.loc["capacity_utilization"].to_dict()
    history, assignment = history_of(scored_sample, "operations_manager", "capacity_utilization")
    fig = history_chart(history, "within_range", assignment, suggested=capacity)
    render(fig, tmp_path / "row.png")
    assert "suggested target range" in legend_texts(fig.axes[0]) and len(fig.axes[0].lines) == 1
    missing = {**rows.iloc[0].to_dict(), "threshold": float("nan"), "target": float("nan"), "stretch": None}
    fig = history_chart([1.0, 2.0], "higher_is_better", suggested=missing)
    assert len(fig.axes[0].lines) == 1


def test_role_history_charts_draw_one_figure_per_role_with_a_panel_per_kpi(scored_sample, tmp_path):
    framework, employees, actuals, _ = scored_sample
    roles = ["account_executive", "operations_manager"]
    table = suggest_for_framework(framework, actuals, employees, roles=roles)
    figures = role_history_charts(role_history(framework, actuals, employees), table)
    assert len(figures) == len(roles)
    for fig, role in zip(figures, roles, strict=True):
        render(fig, tmp_path / f"{role}.png")
        rows = table[table["role"] == role]
        panels = [ax for ax in fig.axes if ax.get_visible()]
        assert fig.texts[0].get_text() == role
        assert [ax.get_title() for ax in panels] == rows["kpi_name"].tolist()
        for ax, row in zip(panels, rows.to_dict("records"), strict=True):
            history, assignment = history_of(scored_sample, role, row["kpi_id"])
            alone = history_chart(history, row["polarity"], assignment, row).axes[0]
            assert ax.lines[0].get_ydata() == pytest.approx(alone.lines[0].get_ydata())
            assert [line.get_label() for line in ax.lines] == [line.get_label() for line in alone.lines]
            assert [line.get_ydata()[0] for line in ax.lines[1:]] == [line.get_ydata()[0] for line in alone.lines[1:]]
            assert [p.get_label() for p in ax.patches] == [p.get_label() for p in alone.patches]
        labelled = [ax for ax in panels if ax.xaxis.get_tick_params()["labelbottom"]]
        assert labelled and all([t.get_text() for t in ax.get_xticklabels()] == PERIODS for ax in labelled)
        legend = [t.get_text() for t in fig.legends[0].get_texts()]
        assert legend[:2] == ["median", "middle 50 %"] and "suggested target" in legend


def test_a_chart_shows_as_one_png_of_the_whole_figure_even_with_the_inline_formatter(scored_sample):
    shell = InteractiveShell.instance()
    select_figure_formats(shell, {"png"})  # what %matplotlib inline registers: Figures as tight-cropped PNGs
    plain = Figure(figsize=(4, 3))
    plain.subplots()
    assert "image/png" in shell.display_formatter.format(plain)[0], "the inline formatter is active"
    fig = trend_chart(trends(scored_sample[3], "team"), group="team")
    with capture_output() as shown:
        assert shell.display_formatter.format(fig) == ({}, {})  # the chart displays itself
    [output] = shown.outputs
    png = base64.b64decode(output.data["image/png"])
    assert png[:8] == PNG_MAGIC
    assert struct.unpack(">II", png[16:24]) == (round(fig.get_figwidth() * fig.dpi),
                                                round(fig.get_figheight() * fig.dpi))
    assert output.data["text/plain"].startswith("<ChartFigure")
