"""Properties of the banded score for any bands and values: bounds, monotonicity and mirror symmetry."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from kpi_workbook.analysis.scoring import BAND_COLUMNS, ScoringConfig, banded_scores

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
values = st.lists(finite, min_size=1, max_size=40)


@st.composite
def configs(draw: st.DrawFn) -> ScoringConfig:
    floor, threshold, target, stretch = sorted(draw(st.lists(st.floats(0, 300), min_size=4, max_size=4)))
    cap = draw(st.floats(target, 400))
    return ScoringConfig(floor=floor, threshold_score=threshold, target_score=target, stretch_score=stretch,
                         cap=cap, green_at=target, amber_at=threshold)


@st.composite
def ordered_bands(draw: st.DrawFn) -> tuple[float, float, float]:
    """threshold <= target <= stretch (some missing) for a higher-is-better KPI."""
    threshold, target, stretch = sorted(draw(st.lists(finite, min_size=3, max_size=3)))
    missing = draw(st.sampled_from(["", "threshold", "stretch"]))
    return (np.nan if missing == "threshold" else threshold, target, np.nan if missing == "stretch" else stretch)


def bands_frame(polarity: str, threshold=np.nan, target=np.nan, stretch=np.nan, target_range=(np.nan, np.nan),
                threshold_range=(np.nan, np.nan)) -> pd.DataFrame:
    row = ["role", "kpi", polarity, 100.0, threshold, target, stretch, *target_range, *threshold_range]
    return pd.DataFrame([row], columns=BAND_COLUMNS)


def score(bands: pd.DataFrame, xs: list[float], config: ScoringConfig) -> tuple[np.ndarray, np.ndarray]:
    array = np.sort(np.array(xs, dtype=float))
    return banded_scores(array, bands, np.zeros(len(array), dtype=int), config)


@settings(max_examples=300, deadline=None)
@given(ordered_bands(), values, configs())
def test_higher_is_better_is_bounded_and_never_falls_as_the_actual_rises(band, xs, config):
    achievement, result = score(bands_frame("higher_is_better", *band), xs, config)
    assert np.all((result >= config.floor) & (result <= config.cap))
    assert np.all(np.diff(result) >= -1e-9)
    assert np.all(np.isnan(achievement) | (achievement >= 0))


@settings(max_examples=300, deadline=None)
@given(ordered_bands(), values, configs())
def test_lower_is_better_is_bounded_and_never_rises_as_the_actual_rises(band, xs, config):
    threshold, target, stretch = (-v for v in band)
    _, result = score(bands_frame("lower_is_better", threshold, target, stretch), xs, config)
    assert np.all((result >= config.floor) & (result <= config.cap))
    assert np.all(np.diff(result) <= 1e-9)


@settings(max_examples=200, deadline=None)
@given(ordered_bands(), values)
def test_lower_is_better_mirrors_higher_is_better(band, xs):
    threshold, target, stretch = band
    _, higher = score(bands_frame("higher_is_better", threshold, target, stretch), xs, ScoringConfig())
    _, lower = score(bands_frame("lower_is_better", -threshold, -target, -stretch), [-x for x in xs],
                     ScoringConfig())
    assert np.allclose(higher, lower[::-1])


@settings(max_examples=300, deadline=None)
@given(st.lists(finite, min_size=4, max_size=4), values, configs())
def test_within_range_peaks_inside_the_target_range(edges, xs, config):
    outer_low, low, high, outer_high = sorted(edges)
    bands = bands_frame("within_range", target_range=(low, high), threshold_range=(outer_low, outer_high))
    _, result = score(bands, xs, config)
    ordered = np.sort(np.array(xs, dtype=float))
    assert np.all((result >= config.floor) & (result <= config.target_score))
    inside = (ordered >= low) & (ordered <= high)
    assert np.all(result[inside] == config.target_score)
    assert np.all(np.diff(result[ordered <= low]) >= -1e-9)
    assert np.all(np.diff(result[ordered >= high]) <= 1e-9)


@settings(max_examples=100, deadline=None)
@given(ordered_bands(), st.lists(st.one_of(finite, st.just(float("nan"))), min_size=1, max_size=20))
def test_missing_actuals_stay_missing(band, xs):
    array = np.array(xs, dtype=float)
    achievement, result = banded_scores(array, bands_frame("higher_is_better", *band), np.zeros(len(array), int))
    assert np.array_equal(np.isnan(result), np.isnan(array))
    assert np.all(np.isnan(achievement[np.isnan(array)]))
