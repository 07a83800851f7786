"""Numbers as people read them: never scientific notation, thousands grouped, a few significant digits."""

from __future__ import annotations

import numpy as np
import pytest

from kpi_workbook.analysis.targets import suggest_targets
from kpi_workbook.core.model import Polarity
from kpi_workbook.core.numbers import number_text


@pytest.mark.parametrize(("value", "kwargs", "shown"), [
    (5030.2, {}, "5,030"), (5030.2, {"significant": 3, "sign": True}, "+5,030"), (0.000123, {}, "0.000123"),
    (12.3456, {}, "12.35"), (1_500_000.0, {"significant": 6}, "1,500,000"), (-2.5, {}, "-2.5"), (0.0, {}, "0"),
    (160000.0, {"significant": 15, "grouped": False}, "160000"), (0.1 + 0.2, {"significant": 15}, "0.3"),
])
def test_number_text(value, kwargs, shown):
    assert number_text(value, **kwargs) == shown


def test_step_4_notes_of_large_values_have_no_exponent():
    rng = np.random.default_rng(3)
    history = 1_000_000 + 5_000 * np.arange(8) + rng.normal(0, 20_000, 8)
    evidence = suggest_targets(history, Polarity.HIGHER_IS_BETTER, method="trend")
    notes = "; ".join(evidence.notes)
    assert "trend +" in notes and "e+" not in notes and "," in notes
