"""Suggested targets land inside the achievable band they are judged against, or say why they cannot; degenerate
bands (3/3/3, target = stretch) are warned about with the fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kpi_workbook.analysis.checks import check_framework
from kpi_workbook.analysis.targets import CHALLENGING, suggest_for_framework, suggest_targets
from kpi_workbook.workspace.files import load_framework, save_framework
from kpi_workbook.workspace.opener import open_workspace


@pytest.fixture(scope="module")
def sample_suggestions() -> tuple[pd.DataFrame, float, float]:
    opened = open_workspace("sample")
    scope = opened.scope()
    settings = opened.framework.metadata.settings
    table = suggest_for_framework(opened.framework, scope.actuals, scope.employees,
                                  method=["baseline", "percentile", "trend", "peer"])
    return table, settings.achievable_low, settings.achievable_high


def test_every_sample_suggestion_lands_in_the_band_or_says_why(sample_suggestions):
    table, low, high = sample_suggestions
    judged = table[table["probability"].notna()]
    assert len(judged) > 100
    outside = judged[(judged["probability"] < low) | (judged["probability"] > high)]
    unexplained = outside[~outside["notes"].str.contains("no target can land|no target range can land")]
    assert unexplained.empty, unexplained[["role", "kpi_id", "method", "target", "probability"]].head().to_string()
    assert (judged["verdict"] == CHALLENGING).mean() > 0.8


def test_a_moved_target_keeps_the_band_order_and_says_so(sample_suggestions):
    table, _, _ = sample_suggestions
    moved = table[table["notes"].str.contains("target moved from")]
    assert not moved.empty
    for row in moved.itertuples():
        sign = -1 if row.polarity == "lower_is_better" else 1
        assert sign * row.threshold <= sign * row.target <= sign * row.stretch


def test_a_too_easy_percentile_target_moves_into_the_band():
    # 20 people, most at 2 and a few at 3: P40 is 2, met by 95 % (too easy, as the issue found)
    values = [2.0] * 19 + [3.0]
    history = pd.DataFrame({"period": "2025Q4", "employee_id": [f"e{i}" for i in range(20)], "value": values})
    plain = suggest_targets(history, "higher_is_better", "percentile")
    assert plain.probability == 1.0
    fitted = suggest_targets(history, "higher_is_better", "percentile", fit_band=True)
    assert "no target can land" in "; ".join(fitted.notes)  # 2 is met by all, 3 by 5 %: nothing in 50-80 %
    spread = pd.DataFrame({"period": "2025Q4", "employee_id": [f"e{i}" for i in range(20)],
                           "value": np.linspace(1, 5, 20)})
    fitted = suggest_targets(spread, "higher_is_better", "baseline", improvement=0.4, fit_band=True)
    assert 0.5 <= fitted.probability <= 0.8 and "target moved from" in "; ".join(fitted.notes)
    assert fitted.threshold <= fitted.target <= fitted.stretch


def test_a_bounded_rating_scale_says_why_no_target_fits():
    ratings = pd.DataFrame({"period": "2025Q4", "employee_id": [f"e{i}" for i in range(10)],
                            "value": [5.0] * 9 + [4.0]})
    fitted = suggest_targets(ratings, "higher_is_better", "percentile", fit_band=True)
    notes = "; ".join(fitted.notes)
    assert "no target can land in the achievable band (50% to 80%)" in notes and "only 2 distinct" in notes


def _bands_findings(workspace: Path, **bands: float):
    framework = load_framework(workspace)
    assignment = next(k for k in framework.role("account_executive").kpis if k.kpi == "win_rate")
    for name, value in bands.items():
        setattr(assignment, name, value)
    save_framework(framework, workspace)
    return [f for f in check_framework(load_framework(workspace))
            if f.code == "smart.achievable" and f.kpi == "win_rate" and f.role == "account_executive"]


def test_degenerate_bands_are_warned_with_the_fix(sample_workspace, cli):
    [flat] = _bands_findings(sample_workspace, threshold=3, target=3, stretch=3)
    assert (str(flat.severity), flat.field) == ("warning", "target")
    assert "all 3" in flat.message and "spread the levels" in flat.fix
    [same] = _bands_findings(sample_workspace, threshold=2, target=3, stretch=3)
    assert (str(same.severity), same.field) == ("warning", "stretch") and "beyond the target" in same.fix
    code, out, err = cli("validate", "-w", sample_workspace)
    assert "stretch equals target" in out + err
    assert not _bands_findings(sample_workspace, threshold=2, target=3, stretch=4)
