"""The target-suggestion methods. Each turns the evidence into bands (in the KPI's own direction) and the reference
values they are judged on; its options are a frozen dataclass, so they are declared, defaulted and checked once."""

from __future__ import annotations

__all__ = [
    "BAND_FIELDS", "METHOD_REGISTRY", "BaselineOptions", "Bands", "FixedOptions", "PeerOptions", "PercentileOptions",
    "TargetMethod", "TrendOptions", "baseline", "fixed", "peer", "percentile", "target_method", "trend",
]

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from kpi_workbook.analysis.target_methods import METHODS
from kpi_workbook.analysis.targets.evidence import Evidence, Range
from kpi_workbook.core.model import Polarity
from kpi_workbook.core.numbers import number_text

# Default levels: percentiles in the good direction (P40 → 60 % of observations meet the target).
PERCENTILE_LEVELS = (25.0, 40.0, 80.0)
PEER_LEVELS = (25.0, 50.0, 75.0)
RANGE_LEVELS = (20.0, 80.0)
OUTER_LEVELS = (5.0, 95.0)
BAND_FIELDS = ("threshold", "target", "stretch", "target_range", "threshold_range")


@dataclass(frozen=True)
class Bands:
    """Threshold, target and stretch, or for a within-range KPI the target range inside the threshold range."""

    threshold: float | None = None
    target: float | None = None
    stretch: float | None = None
    target_range: Range | None = None
    threshold_range: Range | None = None


MethodResult = tuple[Bands | None, np.ndarray]


@dataclass(frozen=True)
class BaselineOptions:
    """baseline: the mean of the `last` period medians improved by `improvement` (a fraction); the reference is the
    observations of the last `window` periods (all with None)."""

    last: int = 1
    improvement: float = 0.05
    window: int | None = None


@dataclass(frozen=True)
class PercentileOptions:
    """percentile: good-direction percentiles `levels` of (threshold, target, stretch), or for a range KPI the inner
    `range_levels` and outer `outer_levels`, of the observations of the last `window` periods."""

    levels: Sequence[float] = PERCENTILE_LEVELS
    range_levels: Sequence[float] = RANGE_LEVELS
    outer_levels: Sequence[float] = OUTER_LEVELS
    window: int | None = None


@dataclass(frozen=True)
class TrendOptions:
    """trend: a line fitted over the last `window` periods, projected `horizon` periods ahead; then percentiles as
    the percentile method's."""

    window: int | None = 8
    horizon: int = 1
    levels: Sequence[float] = PERCENTILE_LEVELS
    range_levels: Sequence[float] = RANGE_LEVELS
    outer_levels: Sequence[float] = OUTER_LEVELS


@dataclass(frozen=True)
class PeerOptions:
    """peer: each peer's mean over the `latest` periods with data, then percentiles across peers; fewer than
    `min_peers` peers is noted as a weak benchmark."""

    latest: int = 1
    levels: Sequence[float] = PEER_LEVELS
    range_levels: Sequence[float] = RANGE_LEVELS
    outer_levels: Sequence[float] = OUTER_LEVELS
    min_peers: int = 5


@dataclass(frozen=True)
class FixedOptions(Bands):
    """fixed: the given bands, judged on the observations of the last `window` periods."""

    window: int | None = None


def _percentiles(values: np.ndarray, levels: Sequence[float]) -> list[float]:
    return [float(v) for v in np.percentile(values, list(levels))]


def _ordered_bands(sign: float, low: float, mid: float, high: float) -> Bands:
    """Bands from good-direction values, forced into threshold ≤ target ≤ stretch (good direction)."""
    low, high = min(low, mid), max(high, mid)
    return Bands(threshold=sign * low, target=sign * mid, stretch=sign * high)


def _range_bands(values: np.ndarray, range_levels: Sequence[float], outer_levels: Sequence[float]) -> Bands:
    """Target range at the inner percentiles, threshold range at the outer ones (never narrower than the target's)."""
    inner = _percentiles(values, range_levels)
    outer = _percentiles(values, outer_levels)
    return Bands(target_range=(inner[0], inner[1]),
                 threshold_range=(min(outer[0], inner[0]), max(outer[1], inner[1])))


def baseline(evidence: Evidence, polarity: Polarity, options: BaselineOptions) -> MethodResult:
    """Mean of the last period medians; target = baseline improved by the improvement (a fraction).

    Threshold is one step worse than the baseline, stretch two steps better. Within a range the target range is
    baseline ± improvement and the threshold range twice as wide. The step is a share of the baseline's magnitude,
    so a negative baseline still improves in the good direction.
    """
    levels = evidence.levels.dropna()
    reference = evidence.window(options.window)["value"].to_numpy()
    if levels.empty:
        return None, reference
    base = float(levels.iloc[-options.last:].mean())
    raw = evidence.sign * base
    if raw == 0:
        evidence.notes.append("baseline is 0: a relative improvement changes nothing; set absolute bands (method "
                              "fixed) or use the percentile method")
    elif raw < 0:
        evidence.notes.append(f"baseline is negative ({number_text(raw)}): the improvement is applied to its "
                              "magnitude, in the good direction")
    if options.improvement < 0:
        evidence.notes.append(f"improvement is negative ({number_text(options.improvement)}): the target is below "
                              "the baseline")
    step = abs(base) * options.improvement
    if polarity is Polarity.WITHIN_RANGE:
        return Bands(target_range=(raw - step, raw + step),
                     threshold_range=(raw - 2 * step, raw + 2 * step)), reference
    return Bands(threshold=evidence.sign * (base - step), target=evidence.sign * (base + step),
                 stretch=evidence.sign * (base + 2 * step)), reference


def percentile(evidence: Evidence, polarity: Polarity, options: PercentileOptions) -> MethodResult:
    """Percentiles of the observations in the window (see PercentileOptions)."""
    reference = evidence.window(options.window)["value"].to_numpy()
    if reference.size == 0:
        return None, reference
    if polarity is Polarity.WITHIN_RANGE:
        return _range_bands(reference, options.range_levels, options.outer_levels), reference
    return _ordered_bands(evidence.sign, *_percentiles(evidence.sign * reference, options.levels)), reference


def trend(evidence: Evidence, polarity: Polarity, options: TrendOptions) -> MethodResult:
    """Linear fit (numpy polyfit) of the period medians over the window, projected `horizon` periods past the last
    one. Every observation is shifted along the line to that period (detrended) and the bands are the percentile
    method's percentiles of these projected values."""
    rows = evidence.window(options.window)
    position = {p: i for i, p in enumerate(evidence.axis)}
    medians = evidence.levels.dropna()
    medians = medians[medians.index.isin(rows["period"].unique())]
    if len(medians) < 2:
        evidence.notes.append(f"trend needs at least 2 periods with data, found {len(medians)}")
        return None, np.empty(0)
    x = np.array([position[p] for p in medians.index], dtype=float)
    slope, _ = np.polyfit(x, medians.to_numpy(), 1)
    if abs(slope) <= 1e-9 * max(1.0, float(np.max(np.abs(medians)))):
        slope = 0.0  # float residue of a flat history
    projected_x = len(evidence.axis) - 1 + options.horizon
    observed_x = np.array([position[p] for p in rows["period"]], dtype=float)
    projected = evidence.sign * rows["value"].to_numpy() + slope * (projected_x - observed_x)
    if len(medians) == 2:
        evidence.notes.append("trend from 2 periods only")
    median = round(evidence.sign * float(np.median(projected)), 9)
    evidence.notes.append(f"trend {number_text(evidence.sign * slope, 3, sign=True)} per period; "
                          f"projected median {number_text(median)}")
    if slope < 0:
        evidence.notes.append("the trend goes the wrong way: the projection is worse than today; consider the "
                              "baseline method")
    reference = evidence.sign * projected
    if polarity is Polarity.WITHIN_RANGE:
        return _range_bands(reference, options.range_levels, options.outer_levels), reference
    return _ordered_bands(evidence.sign, *_percentiles(projected, options.levels)), reference


def peer(evidence: Evidence, polarity: Polarity, options: PeerOptions) -> MethodResult:
    """Peer benchmark: each employee's mean over the latest periods with data, then percentiles across peers
    (default threshold P25, target median, stretch top quartile)."""
    people = evidence.frame[(evidence.frame["employee_id"] != "") & evidence.frame["value"].notna()]
    if people.empty:
        evidence.notes.append("peer benchmark needs per-employee values; this history has none")
        return None, np.empty(0)
    recent_periods = [p for p in evidence.axis if p in set(people["period"].tolist())][-options.latest:]
    recent = people[people["period"].isin(recent_periods)]
    reference = recent.groupby("employee_id")["value"].mean().to_numpy()
    if reference.size < 2:
        evidence.notes.append(f"peer benchmark needs at least 2 peers, found {reference.size}")
        return None, reference
    if reference.size < options.min_peers:
        evidence.notes.append(f"only {reference.size} peers: a weak benchmark")
    evidence.notes.append(f"peers: {reference.size} employee(s) in {', '.join(str(p) for p in recent_periods)}")
    if polarity is Polarity.WITHIN_RANGE:
        return _range_bands(reference, options.range_levels, options.outer_levels), reference
    return _ordered_bands(evidence.sign, *_percentiles(evidence.sign * reference, options.levels)), reference


def fixed(evidence: Evidence, polarity: Polarity, options: FixedOptions) -> MethodResult:
    """Given bands, judged on the observations in the window."""
    bands = Bands(options.threshold, options.target, options.stretch,
                  _pair(options.target_range), _pair(options.threshold_range))
    if polarity is Polarity.WITHIN_RANGE and bands.target_range is None:
        evidence.notes.append("no target range given")
    elif polarity is not Polarity.WITHIN_RANGE and options.target is None:
        evidence.notes.append("no target given")
    else:
        given = [evidence.sign * v for v in (options.threshold, options.target, options.stretch) if v is not None]
        if polarity is not Polarity.WITHIN_RANGE and given != sorted(given):
            evidence.notes.append(f"bands out of order for {polarity.value}")
    return bands, evidence.window(options.window)["value"].to_numpy()


def _pair(values: Sequence[float] | None) -> Range | None:
    """A given range (a list from YAML or JSON, or a tuple) as a tuple; None for none."""
    return (values[0], values[1]) if values else None


@dataclass(frozen=True)
class TargetMethod:
    """A suggestion method: its name, the dataclass of its options and the function that suggests bands with them."""

    name: str
    options: type[Any]
    suggest: Callable[[Evidence, Polarity, Any], MethodResult]

    @property
    def option_names(self) -> list[str]:
        """The names of the method's options, in declaration order."""
        return [option.name for option in fields(self.options)]

    def options_from(self, params: Mapping[str, Any]) -> Any:
        """The method's options set from `params`, the others at their defaults (ValueError for an unknown one)."""
        unknown = sorted(set(params) - set(self.option_names))
        if unknown:
            raise ValueError(f"method '{self.name}' has no option(s) {', '.join(unknown)}; its options: "
                             f"{', '.join(self.option_names)}")
        return self.options(**params)


METHOD_REGISTRY: dict[str, TargetMethod] = {method.name: method for method in (
    TargetMethod("baseline", BaselineOptions, baseline),
    TargetMethod("percentile", PercentileOptions, percentile),
    TargetMethod("trend", TrendOptions, trend),
    TargetMethod("peer", PeerOptions, peer),
    TargetMethod("fixed", FixedOptions, fixed),
)}


def target_method(name: str) -> TargetMethod:
    """The method of this name (ValueError naming the methods for an unknown one)."""
    if name not in METHOD_REGISTRY:
        raise ValueError(f"unknown method '{name}'; choose one of {', '.join(METHODS)}")
    return METHOD_REGISTRY[name]
