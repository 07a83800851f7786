"""One KPI's suggestion: a method's bands fitted to the evidence (rounded, clipped at zero, moved into the achievable
band) and judged on it, with the probability of attainment, the verdict and notes."""

from __future__ import annotations

__all__ = ["MIN_OBSERVATIONS", "TargetSuggestion", "suggest_from", "suggest_targets"]

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from kpi_workbook.analysis.targets.evidence import NO_DATA, Evidence, Range, attainment_probability, verdict
from kpi_workbook.analysis.targets.methods import Bands, target_method
from kpi_workbook.core.model import Polarity
from kpi_workbook.core.numbers import number_text

MIN_OBSERVATIONS = 5


@dataclass(frozen=True)
class TargetSuggestion:
    """Suggested bands for one KPI from one method, with the evidence behind them.

    ``probability`` is the share of the reference observations (see `kpi_workbook.analysis.targets`) that meet the
    target; ``observations`` is their number and ``periods`` the number of periods with data.
    """

    method: str
    polarity: Polarity
    threshold: float | None = None
    target: float | None = None
    stretch: float | None = None
    target_range: Range | None = None
    threshold_range: Range | None = None
    probability: float | None = None
    verdict: str = NO_DATA
    periods: int = 0
    observations: int = 0
    notes: tuple[str, ...] = ()
    reference: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False, compare=False)

    def probability_for(self, target: float | None = None, target_range: Range | None = None) -> float | None:
        """The probability of attainment of another target (or target range) on this suggestion's evidence."""
        return attainment_probability(self.reference, self.polarity, target, target_range)

    def as_row(self) -> dict[str, Any]:
        """The suggestion as a flat dict (one table row); notes joined with '; '."""
        return {
            "method": self.method, "polarity": self.polarity.value, "threshold": self.threshold,
            "target": self.target, "stretch": self.stretch, "target_range": self.target_range,
            "threshold_range": self.threshold_range, "probability": self.probability, "verdict": self.verdict,
            "periods": self.periods, "observations": self.observations, "notes": "; ".join(self.notes),
        }


def suggest_targets(
    history: Any, polarity: Polarity | str, method: str = "percentile", *, periods: Sequence[Any] | None = None,
    achievable_low: float = 0.5, achievable_high: float = 0.8, round_values: bool = True, fit_band: bool = False,
    **params: Any,
) -> TargetSuggestion:
    """Suggest threshold/target/stretch (or target and threshold ranges) for one KPI from its history.

    history: values (see `history_frame`); polarity: the KPI's polarity; method: one of METHODS;
    periods: the full period axis (periods missing from history are gaps); achievable_low/high: the verdict band;
    round_values: round to a tenth of the data's spread; fit_band: move a target outside the achievable band
    into it (see `kpi_workbook.analysis.targets`; never for the fixed method); params: the method's options, the
    fields of its options class in `methods` — baseline(last=1, improvement=0.05, window),
    percentile(levels=(25, 40, 80), range_levels=(20, 80), outer_levels=(5, 95), window),
    trend(window=8, horizon=1, levels, range_levels, outer_levels),
    peer(latest=1, levels=(25, 50, 75), range_levels, outer_levels, min_peers=5),
    fixed(threshold, target, stretch, target_range, threshold_range, window).
    """
    polarity = Polarity(polarity)
    return suggest_from(Evidence.of(history, polarity, periods), polarity, method, achievable_low=achievable_low,
                        achievable_high=achievable_high, round_values=round_values, fit_band=fit_band, **params)


def suggest_from(
    evidence: Evidence, polarity: Polarity, method: str = "percentile", *, achievable_low: float = 0.5,
    achievable_high: float = 0.8, round_values: bool = True, fit_band: bool = False, **params: Any,
) -> TargetSuggestion:
    """`suggest_targets` on the evidence of a history made once (`Evidence.of` with the same polarity), e.g. for
    several methods; `evidence` is left as it is (each suggestion gathers its notes on a copy)."""
    evidence = replace(evidence, notes=list(evidence.notes))
    chosen = target_method(method)
    periods_with_data = evidence.periods_with_data
    if periods_with_data == 0 and method != "fixed":
        return TargetSuggestion(method, polarity, notes=("no history: nothing to base a suggestion on; set bands by "
                                                         "hand (method fixed)",))
    suggested, reference = chosen.suggest(evidence, polarity, chosen.options_from(params))
    reference = np.asarray(reference, dtype=float)
    if periods_with_data == 0:
        evidence.notes.append("no history: the bands cannot be judged")
    if suggested is None:
        return TargetSuggestion(method, polarity, periods=periods_with_data, notes=tuple(evidence.notes),
                                reference=reference)
    bands = suggested
    if method != "fixed":
        bands = _clipped_at_zero(_rounded(bands, _decimals(reference)) if round_values else bands, evidence)
    if 0 < reference.size < MIN_OBSERVATIONS:
        evidence.notes.append(f"probability of attainment from only {reference.size} observation(s)")
    if method != "fixed" and fit_band:
        bands = _into_band(bands, reference, polarity, achievable_low, achievable_high, evidence)
    probability = attainment_probability(reference, polarity, bands.target, bands.target_range)
    evidence.notes.extend(_evidence_notes(reference, probability))
    return TargetSuggestion(
        method=method, polarity=polarity, threshold=bands.threshold, target=bands.target, stretch=bands.stretch,
        target_range=bands.target_range, threshold_range=bands.threshold_range, probability=probability,
        verdict=verdict(probability, achievable_low, achievable_high), periods=periods_with_data,
        observations=int(reference.size), notes=tuple(evidence.notes), reference=reference,
    )


def _clipped_at_zero(bands: Bands, evidence: Evidence) -> Bands:
    """Bands below 0 of a KPI whose past values are all ≥ 0 (counts, rates, durations) are clipped at 0."""
    if not (evidence.frame["value"].dropna() >= 0).all():
        return bands

    def clip(value: float | None) -> float | None:
        return None if value is None else max(value, 0.0)

    def clip_pair(pair: Range | None) -> Range | None:
        return None if pair is None else (max(pair[0], 0.0), max(pair[1], 0.0))

    clipped = Bands(clip(bands.threshold), clip(bands.target), clip(bands.stretch), clip_pair(bands.target_range),
                    clip_pair(bands.threshold_range))
    if clipped != bands:
        evidence.notes.append("suggested band(s) below 0 although no past value is: clipped at 0")
    return clipped


def _percent(share: float) -> str:
    return f"{share:.0%}"


def _band_text(low: float, high: float) -> str:
    return f"{_percent(low)} to {_percent(high)}"


def _into_band(bands: Bands, reference: np.ndarray, polarity: Polarity, low: float, high: float,
               evidence: Evidence) -> Bands:
    """The bands with the target moved inside the achievable band [low, high] when it is outside, or unchanged
    with a note saying why no target can land there (see `kpi_workbook.analysis.targets`)."""
    if polarity is Polarity.WITHIN_RANGE:
        return _range_into_band(bands, reference, low, high, evidence)
    probability = attainment_probability(reference, polarity, bands.target)
    if bands.target is None or probability is None or low <= probability <= high:
        return bands
    aim, band = (low + high) / 2, _band_text(low, high)
    values = np.unique(reference[~np.isnan(reference)])
    shares = np.array([attainment_probability(reference, polarity, float(v)) for v in values])
    inside = (shares >= low) & (shares <= high)
    if not inside.any():
        nearest = int(np.argmin(np.abs(shares - aim)))
        reason = (f"only {values.size} distinct past value(s)" if values.size < MIN_OBSERVATIONS else
                  "the past values cluster on a few levels (a bounded scale or a cap)")
        evidence.notes.append(f"no target can land in the achievable band ({band}): {reason}; the nearest is "
                              f"{number_text(values[nearest])}, met by {_percent(shares[nearest])} of past values")
        return bands
    candidates = np.flatnonzero(inside)
    best = candidates[int(np.argmin(np.abs(shares[candidates] - aim)))]
    target = float(values[best])
    sign = -1.0 if polarity is Polarity.LOWER_IS_BETTER else 1.0
    better = [float(v) for v in values if sign * v > sign * target]
    threshold = bands.threshold if bands.threshold is not None and sign * bands.threshold < sign * target else None
    if threshold is None:
        worse = [float(v) for v in values if sign * v < sign * target]
        threshold = max(worse, key=lambda v: sign * v) if worse else target
    stretch = bands.stretch if bands.stretch is not None and sign * bands.stretch > sign * target else None
    if stretch is None:
        stretch = min(better, key=lambda v: sign * v) if better else target
    evidence.notes.append(f"target moved from {number_text(bands.target)} ({_percent(probability)} of past values "
                          f"met it) to {number_text(target)} ({_percent(shares[best])}), inside the achievable band "
                          f"({band})")
    return Bands(threshold=threshold, target=target, stretch=stretch)


def _range_into_band(bands: Bands, reference: np.ndarray, low: float, high: float, evidence: Evidence) -> Bands:
    """A within-range KPI's target range, when outside the achievable band, re-cut around the median to hold the
    middle share of past values."""
    probability = attainment_probability(reference, Polarity.WITHIN_RANGE, target_range=bands.target_range)
    if probability is None or low <= probability <= high:
        return bands
    aim, band = (low + high) / 2, _band_text(low, high)
    values = reference[~np.isnan(reference)]
    half = aim * 50
    target_range = (float(np.percentile(values, 50 - half)), float(np.percentile(values, 50 + half)))
    share = attainment_probability(values, Polarity.WITHIN_RANGE, target_range=target_range)
    if share is None or not low <= share <= high:
        evidence.notes.append(f"no target range can land in the achievable band ({band}): the past values cluster "
                              "on a few levels")
        return bands
    outer = bands.threshold_range or target_range
    evidence.notes.append(f"target range re-cut to {number_text(target_range[0])} to {number_text(target_range[1])} "
                          f"({_percent(share)} of past values inside), in the achievable band ({band})")
    return Bands(target_range=target_range,
                 threshold_range=(min(outer[0], target_range[0]), max(outer[1], target_range[1])))


def _evidence_notes(reference: np.ndarray, probability: float | None) -> list[str]:
    """What the reader should know about the evidence: few distinct values, a target nobody or everybody met."""
    notes = []
    distinct = np.unique(reference).size
    if 0 < distinct < MIN_OBSERVATIONS:
        notes.append(f"only {distinct} distinct past value(s): bands fall on the same values and the probability "
                     "moves in steps")
    if probability == 0:
        notes.append("no past observation met the target")
    elif probability == 1:
        notes.append("every past observation met the target")
    return notes


def _decimals(reference: np.ndarray) -> int:
    """Rounding precision: a tenth of the spread's order of magnitude (3 significant digits without spread)."""
    if reference.size == 0:
        return 6
    spread = float(np.std(reference))
    scale = float(np.max(np.abs(reference)))
    if spread > 0:
        return int(np.clip(1 - math.floor(math.log10(spread)), -6, 10))
    if scale > 0:
        return int(np.clip(2 - math.floor(math.log10(scale)), -6, 10))
    return 0


def _rounded(bands: Bands, decimals: int) -> Bands:
    """The bands rounded to `decimals` (and -0.0 written as 0.0)."""
    def rounded(value: float) -> float:
        return float(round(value, decimals)) + 0.0

    def rounded_value(value: float | None) -> float | None:
        return None if value is None else rounded(value)

    def rounded_pair(pair: Range | None) -> Range | None:
        return None if pair is None else (rounded(pair[0]), rounded(pair[1]))

    return Bands(rounded_value(bands.threshold), rounded_value(bands.target), rounded_value(bands.stretch),
                 rounded_pair(bands.target_range), rounded_pair(bands.threshold_range))
