"""Evidence-based targets: threshold, target and stretch suggested from history, peers and trends.

Every suggestion carries a **probability of attainment**: the share of *reference observations* that meet or
beat the target (``value >= target`` for higher-is-better, ``value <= target`` for lower-is-better,
``lo <= value <= hi`` for a ``target_range``). The reference observations depend on the method:

- ``baseline``, ``percentile``, ``fixed``: every non-missing value (one per person and period, or one per period
  for a team-level KPI) in the last ``window`` periods (default: all periods);
- ``trend``: the same values, each shifted along the fitted trend line to the projected period (detrended), so a
  growing KPI is not judged on last year's level;
- ``peer``: one value per peer (employee of the role), the peer's mean over the ``latest`` periods with data
  (default 1).

The verdict compares that probability with the framework's ``achievable_low`` / ``achievable_high`` settings
(default 50 % / 80 %): above high → *too easy*, below low → *unrealistic*, otherwise *challenging but
achievable*. Without reference observations the verdict is *no data*.

Why 50 % to 80 % by default: motivation peaks where success is about as likely as not, near a 50 % chance
(Atkinson, 1957), so a target met less often than that discourages; aspirational goals are best met about
60 to 70 % of the time (Google's OKR guidance); and specific, difficult goals beat "do your best" (Locke &
Latham), so a target nearly everyone meets is too easy. Each organization sets its own band in
``framework.yaml`` → ``settings`` (``achievable_low``, ``achievable_high``).

A suggestion lands inside that band: when a method's target falls outside it, the target moves to the past
value whose probability of attainment is nearest the middle of the band (threshold and stretch move with it
to keep their order), and a note says so. When no value can land inside (too few distinct values, or a
bounded scale such as a 1-5 rating where the best value is common), the note says why and which target comes
nearest.

Lower-is-better KPIs are mirrored: the methods work on the negated values, so "improve" means "go down" and the
bands come out as threshold ≥ target ≥ stretch.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kpi_workbook.analysis.history import HISTORY_COLUMNS, role_history
from kpi_workbook.analysis.target_methods import METHODS
from kpi_workbook.core.model import Framework, Polarity, RoleKpi
from kpi_workbook.core.numbers import number_text
from kpi_workbook.core.periods import parse_period

SHORT_HISTORY = 4
MIN_OBSERVATIONS = 5
TOO_EASY = "too easy"
CHALLENGING = "challenging but achievable"
UNREALISTIC = "unrealistic"
NO_DATA = "no data"
SUGGESTION_COLUMNS = [
    "role", "kpi_id", "kpi_name", "polarity", "weight", "method", "periods", "observations",
    "current_threshold", "current_target", "current_stretch", "current_target_range", "current_threshold_range",
    "current_probability", "current_verdict", "threshold", "target", "stretch", "target_range", "threshold_range",
    "probability", "verdict", "notes",
]

# Default levels: percentiles in the good direction (P40 → 60 % of observations meet the target).
PERCENTILE_LEVELS = (25.0, 40.0, 80.0)
PEER_LEVELS = (25.0, 50.0, 75.0)
RANGE_LEVELS = (20.0, 80.0)
OUTER_LEVELS = (5.0, 95.0)

Range = tuple[float, float]


@dataclass(frozen=True)
class TargetSuggestion:
    """Suggested bands for one KPI from one method, with the evidence behind them.

    ``probability`` is the share of the reference observations (see the module docstring) that meet the target;
    ``observations`` is their number and ``periods`` the number of periods with data.
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


def attainment_probability(
    reference: Iterable[float], polarity: Polarity | str, target: float | None = None,
    target_range: Range | None = None,
) -> float | None:
    """Share of reference values meeting the target (or inside the target range); None without values or target."""
    values = np.asarray(list(reference) if not isinstance(reference, np.ndarray) else reference, dtype=float)
    values = values[~np.isnan(values)]
    polarity = Polarity(polarity)
    if values.size == 0:
        return None
    tolerance = 1e-9 * max(1.0, float(np.max(np.abs(values))))  # float residue of detrending counts as met
    if polarity is Polarity.WITHIN_RANGE:
        if target_range is None:
            return None
        low, high = sorted(target_range)
        return float(np.mean((values >= low - tolerance) & (values <= high + tolerance)))
    if target is None:
        return None
    met = values >= target - tolerance if polarity is Polarity.HIGHER_IS_BETTER else values <= target + tolerance
    return float(np.mean(met))


def verdict(probability: float | None, low: float = 0.5, high: float = 0.8) -> str:
    """Too easy above `high`, unrealistic below `low`, challenging but achievable in between, no data for None."""
    if probability is None or math.isnan(probability):
        return NO_DATA
    if probability > high:
        return TOO_EASY
    if probability < low:
        return UNREALISTIC
    return CHALLENGING


# --- history --------------------------------------------------------------------------------------------------


def history_frame(history: Any, periods: Sequence[Any] | None = None) -> pd.DataFrame:
    """Normalize a history into DataFrame[period, employee_id, value] with an ordered categorical period.

    Accepted: a sequence of numbers (one per period, in order), a Series (index = period; repeated labels for
    several people), or a DataFrame with a ``value`` column plus ``period`` (or the index) and optionally
    ``employee_id``. Period labels must sort chronologically (canonical labels such as 2025Q3 do); `periods`,
    when given, is the full period axis, so periods without any row count as gaps.
    """
    if isinstance(history, pd.DataFrame):
        if "value" not in history.columns:
            raise ValueError("a history table needs a 'value' column")
        frame = history if "period" in history.columns else history.rename_axis("period").reset_index()
        frame = frame.assign(employee_id=frame["employee_id"] if "employee_id" in frame.columns else "")
    else:
        series = history if isinstance(history, pd.Series) else pd.Series(list(history), dtype=float)
        frame = pd.DataFrame({"period": series.index, "employee_id": "", "value": series.to_numpy()})
    frame = frame[HISTORY_COLUMNS].copy()
    frame["value"] = pd.to_numeric(frame["value"], errors="coerce").astype(float)
    frame["employee_id"] = frame["employee_id"].astype(object).fillna("").astype(str)
    axis = _chronological(set(pd.unique(frame["period"].astype(object).dropna())) | set(periods or ()))
    frame["period"] = pd.Categorical(frame["period"], categories=axis, ordered=True)
    return frame.sort_values("period", kind="stable").reset_index(drop=True)


def _chronological(labels: Iterable[Any]) -> list[Any]:
    """Period labels oldest first (text labels parsed as periods; other labels such as positions sorted as is)."""
    labels = list(labels)
    if labels and all(isinstance(label, str) for label in labels):
        return sorted(labels, key=lambda label: parse_period(label).sort_key)
    return sorted(labels)


@dataclass
class _Evidence:
    """A normalized history in the good direction (lower-is-better negated) and what was noticed about it."""

    frame: pd.DataFrame
    sign: float
    notes: list[str]

    @property
    def axis(self) -> list[Any]:
        return list(self.frame["period"].cat.categories)

    @property
    def levels(self) -> pd.Series:
        """Median value per period in the good direction (NaN for a period without data)."""
        return self.sign * self.frame.groupby("period", observed=False)["value"].median()

    def window(self, window: int | None) -> pd.DataFrame:
        """Rows of the last `window` periods of the axis (all with None), missing values dropped."""
        axis = self.axis if window is None else self.axis[-window:]
        rows = self.frame[self.frame["period"].isin(axis)]
        return rows[rows["value"].notna()]


def _describe_gaps(frame: pd.DataFrame, axis: list[Any]) -> list[str]:
    notes = []
    missing = int(frame["value"].isna().sum())
    if missing:
        notes.append(f"{missing} missing value(s) (gaps) ignored")
    with_data = set(frame.loc[frame["value"].notna(), "period"].tolist())
    empty = [str(p) for p in axis if p not in with_data]
    if empty and with_data:
        notes.append(f"no data in period(s) {', '.join(empty)}")
    if 0 < len(with_data) < SHORT_HISTORY:
        notes.append(f"short history: {len(with_data)} period(s) with data (fewer than {SHORT_HISTORY}); "
                     "treat the suggestion as provisional")
    return notes


# --- methods: each returns bands in the raw direction and the reference values --------------------------------


@dataclass
class _Bands:
    threshold: float | None = None
    target: float | None = None
    stretch: float | None = None
    target_range: Range | None = None
    threshold_range: Range | None = None


def _percentiles(values: np.ndarray, levels: Sequence[float]) -> list[float]:
    return [float(v) for v in np.percentile(values, list(levels))]


def _ordered_bands(sign: float, low: float, mid: float, high: float) -> _Bands:
    """Bands from good-direction values, forced into threshold ≤ target ≤ stretch (good direction)."""
    low, high = min(low, mid), max(high, mid)
    return _Bands(threshold=sign * low, target=sign * mid, stretch=sign * high)


def _range_bands(values: np.ndarray, range_levels: Sequence[float], outer_levels: Sequence[float]) -> _Bands:
    inner = _percentiles(values, range_levels)
    outer = _percentiles(values, outer_levels)
    return _Bands(target_range=(inner[0], inner[1]),
                  threshold_range=(min(outer[0], inner[0]), max(outer[1], inner[1])))


def _baseline(ev: _Evidence, polarity: Polarity, *, last: int = 1, improvement: float = 0.05,
              window: int | None = None) -> tuple[_Bands | None, np.ndarray]:
    """Mean of the last `last` period medians; target = baseline improved by `improvement` (a fraction).

    Threshold is one step worse than the baseline, stretch two steps better. Within a range the target range is
    baseline ± improvement and the threshold range twice as wide. The step is a share of the baseline's magnitude,
    so a negative baseline still improves in the good direction.
    """
    levels = ev.levels.dropna()
    reference = ev.window(window)["value"].to_numpy()
    if levels.empty:
        return None, reference
    base = float(levels.iloc[-last:].mean())
    raw = ev.sign * base
    if raw == 0:
        ev.notes.append("baseline is 0: a relative improvement changes nothing; set absolute bands (method fixed) "
                        "or use the percentile method")
    elif raw < 0:
        ev.notes.append(f"baseline is negative ({number_text(raw)}): the improvement is applied to its magnitude, "
                        "in the good direction")
    if improvement < 0:
        ev.notes.append(f"improvement is negative ({number_text(improvement)}): the target is below the baseline")
    step = abs(base) * improvement
    if polarity is Polarity.WITHIN_RANGE:
        return _Bands(target_range=(raw - step, raw + step),
                      threshold_range=(raw - 2 * step, raw + 2 * step)), reference
    return _Bands(threshold=ev.sign * (base - step), target=ev.sign * (base + step),
                  stretch=ev.sign * (base + 2 * step)), reference


def _percentile(ev: _Evidence, polarity: Polarity, *, levels: Sequence[float] = PERCENTILE_LEVELS,
                range_levels: Sequence[float] = RANGE_LEVELS, outer_levels: Sequence[float] = OUTER_LEVELS,
                window: int | None = None) -> tuple[_Bands | None, np.ndarray]:
    """Percentiles of the observations in the window: `levels` are good-direction percentiles of
    (threshold, target, stretch); a range KPI gets the inner and outer percentile ranges."""
    reference = ev.window(window)["value"].to_numpy()
    if reference.size == 0:
        return None, reference
    if polarity is Polarity.WITHIN_RANGE:
        return _range_bands(reference, range_levels, outer_levels), reference
    return _ordered_bands(ev.sign, *_percentiles(ev.sign * reference, levels)), reference


def _trend(ev: _Evidence, polarity: Polarity, *, window: int | None = 8, horizon: int = 1,
           levels: Sequence[float] = PERCENTILE_LEVELS, range_levels: Sequence[float] = RANGE_LEVELS,
           outer_levels: Sequence[float] = OUTER_LEVELS) -> tuple[_Bands | None, np.ndarray]:
    """Linear fit (numpy polyfit) of the period medians over the last `window` periods, projected `horizon`
    periods past the last one. Every observation is shifted along the line to that period (detrended) and the
    bands are the percentile method's percentiles of these projected values."""
    rows = ev.window(window)
    position = {p: i for i, p in enumerate(ev.axis)}
    medians = ev.levels.dropna()
    medians = medians[medians.index.isin(rows["period"].unique())]
    if len(medians) < 2:
        ev.notes.append(f"trend needs at least 2 periods with data, found {len(medians)}")
        return None, np.empty(0)
    x = np.array([position[p] for p in medians.index], dtype=float)
    slope, intercept = np.polyfit(x, medians.to_numpy(), 1)
    if abs(slope) <= 1e-9 * max(1.0, float(np.max(np.abs(medians)))):
        slope = 0.0  # float residue of a flat history
    x_next = len(ev.axis) - 1 + horizon
    obs_x = np.array([position[p] for p in rows["period"]], dtype=float)
    projected = ev.sign * rows["value"].to_numpy() + slope * (x_next - obs_x)
    if len(medians) == 2:
        ev.notes.append("trend from 2 periods only")
    median = round(ev.sign * float(np.median(projected)), 9)
    ev.notes.append(f"trend {number_text(ev.sign * slope, 3, sign=True)} per period; "
                    f"projected median {number_text(median)}")
    if slope < 0:
        ev.notes.append("the trend goes the wrong way: the projection is worse than today; consider the baseline "
                        "method")
    reference = ev.sign * projected
    if polarity is Polarity.WITHIN_RANGE:
        return _range_bands(reference, range_levels, outer_levels), reference
    return _ordered_bands(ev.sign, *_percentiles(projected, levels)), reference


def _peer(ev: _Evidence, polarity: Polarity, *, latest: int = 1, levels: Sequence[float] = PEER_LEVELS,
          range_levels: Sequence[float] = RANGE_LEVELS, outer_levels: Sequence[float] = OUTER_LEVELS,
          min_peers: int = 5) -> tuple[_Bands | None, np.ndarray]:
    """Peer benchmark: each employee's mean over the `latest` periods with data, then percentiles across
    peers (default threshold P25, target median, stretch top quartile)."""
    people = ev.frame[(ev.frame["employee_id"] != "") & ev.frame["value"].notna()]
    if people.empty:
        ev.notes.append("peer benchmark needs per-employee values; this history has none")
        return None, np.empty(0)
    recent_periods = [p for p in ev.axis if p in set(people["period"].tolist())][-latest:]
    recent = people[people["period"].isin(recent_periods)]
    reference = recent.groupby("employee_id")["value"].mean().to_numpy()
    if reference.size < 2:
        ev.notes.append(f"peer benchmark needs at least 2 peers, found {reference.size}")
        return None, reference
    if reference.size < min_peers:
        ev.notes.append(f"only {reference.size} peers: a weak benchmark")
    ev.notes.append(f"peers: {reference.size} employee(s) in {', '.join(str(p) for p in recent_periods)}")
    if polarity is Polarity.WITHIN_RANGE:
        return _range_bands(reference, range_levels, outer_levels), reference
    return _ordered_bands(ev.sign, *_percentiles(ev.sign * reference, levels)), reference


def _fixed(ev: _Evidence, polarity: Polarity, *, threshold: float | None = None, target: float | None = None,
           stretch: float | None = None, target_range: Range | None = None, threshold_range: Range | None = None,
           window: int | None = None) -> tuple[_Bands | None, np.ndarray]:
    """Given bands, judged on the observations in the window."""
    bands = _Bands(threshold, target, stretch, tuple(target_range) if target_range else None,
                   tuple(threshold_range) if threshold_range else None)
    if polarity is Polarity.WITHIN_RANGE and bands.target_range is None:
        ev.notes.append("no target range given")
    elif polarity is not Polarity.WITHIN_RANGE and target is None:
        ev.notes.append("no target given")
    else:
        given = [ev.sign * v for v in (threshold, target, stretch) if v is not None]
        if polarity is not Polarity.WITHIN_RANGE and given != sorted(given):
            ev.notes.append(f"bands out of order for {polarity.value}")
    return bands, ev.window(window)["value"].to_numpy()


_METHODS = {"baseline": _baseline, "percentile": _percentile, "trend": _trend, "peer": _peer, "fixed": _fixed}


def _clipped_at_zero(bands: _Bands, ev: _Evidence) -> _Bands:
    """Bands below 0 of a KPI whose past values are all ≥ 0 (counts, rates, durations) are clipped at 0."""
    if not (ev.frame["value"].dropna() >= 0).all():
        return bands

    def clip(value: float | None) -> float | None:
        return None if value is None else max(value, 0.0)

    def clip_pair(pair: Range | None) -> Range | None:
        return None if pair is None else (max(pair[0], 0.0), max(pair[1], 0.0))

    clipped = _Bands(clip(bands.threshold), clip(bands.target), clip(bands.stretch), clip_pair(bands.target_range),
                     clip_pair(bands.threshold_range))
    if clipped != bands:
        ev.notes.append("suggested band(s) below 0 although no past value is: clipped at 0")
    return clipped


def _percent(share: float) -> str:
    return f"{share:.0%}"


def _into_band(bands: _Bands, reference: np.ndarray, polarity: Polarity, low: float, high: float,
               ev: _Evidence) -> _Bands:
    """The bands with the target moved inside the achievable band [low, high] when it is outside, or unchanged
    with a note saying why no target can land there (see the module docstring)."""
    probability = attainment_probability(reference, polarity, bands.target, bands.target_range)
    if probability is None or low <= probability <= high:
        return bands
    aim, band = (low + high) / 2, f"{_percent(low)} to {_percent(high)}"
    if polarity is Polarity.WITHIN_RANGE:
        return _range_into_band(bands, reference, low, high, aim, band, ev)
    values = np.unique(reference[~np.isnan(reference)])
    shares = np.array([attainment_probability(reference, polarity, float(v)) for v in values])
    inside = (shares >= low) & (shares <= high)
    if not inside.any():
        nearest = int(np.argmin(np.abs(shares - aim)))
        reason = (f"only {values.size} distinct past value(s)" if values.size < MIN_OBSERVATIONS else
                  "the past values cluster on a few levels (a bounded scale or a cap)")
        ev.notes.append(f"no target can land in the achievable band ({band}): {reason}; the nearest is "
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
    ev.notes.append(f"target moved from {number_text(bands.target)} ({_percent(probability)} of past values met it) to "
                    f"{number_text(target)} ({_percent(shares[best])}), inside the achievable band ({band})")
    return _Bands(threshold=threshold, target=target, stretch=stretch)


def _range_into_band(bands: _Bands, reference: np.ndarray, low: float, high: float, aim: float, band: str,
                     ev: _Evidence) -> _Bands:
    """A within-range KPI's target range re-cut around the median to hold the middle share of past values."""
    values = reference[~np.isnan(reference)]
    half = aim * 50
    target_range = (float(np.percentile(values, 50 - half)), float(np.percentile(values, 50 + half)))
    share = attainment_probability(values, Polarity.WITHIN_RANGE, target_range=target_range)
    if share is None or not low <= share <= high:
        ev.notes.append(f"no target range can land in the achievable band ({band}): the past values cluster on "
                        "a few levels")
        return bands
    outer = bands.threshold_range or target_range
    ev.notes.append(f"target range re-cut to {number_text(target_range[0])} to {number_text(target_range[1])} "
                    f"({_percent(share)} of past values inside), in the achievable band ({band})")
    return _Bands(target_range=target_range,
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


def _rounded(bands: _Bands, decimals: int) -> _Bands:
    def r(value: float | None) -> float | None:
        return None if value is None else float(round(value, decimals)) + 0.0

    def rr(pair: Range | None) -> Range | None:
        return None if pair is None else (r(pair[0]), r(pair[1]))

    return _Bands(r(bands.threshold), r(bands.target), r(bands.stretch), rr(bands.target_range),
                  rr(bands.threshold_range))


def suggest_targets(
    history: Any, polarity: Polarity | str, method: str = "percentile", *, periods: Sequence[Any] | None = None,
    achievable_low: float = 0.5, achievable_high: float = 0.8, round_values: bool = True, fit_band: bool = False,
    **params: Any,
) -> TargetSuggestion:
    """Suggest threshold/target/stretch (or target and threshold ranges) for one KPI from its history.

    history: values (see `history_frame`); polarity: the KPI's polarity; method: one of METHODS;
    periods: the full period axis (periods missing from history are gaps); achievable_low/high: the verdict band;
    round_values: round to a tenth of the data's spread; fit_band: move a target outside the achievable band
    into it (see the module docstring; never for the fixed method); params: the method's options —
    baseline(last=1, improvement=0.05, window), percentile(levels=(25, 40, 80), range_levels=(20, 80),
    outer_levels=(5, 95), window), trend(window=8, horizon=1, levels, range_levels, outer_levels),
    peer(latest=1, levels=(25, 50, 75), range_levels, outer_levels, min_peers=5),
    fixed(threshold, target, stretch, target_range, threshold_range, window).
    """
    if method not in _METHODS:
        raise ValueError(f"unknown method '{method}'; choose one of {', '.join(METHODS)}")
    polarity = Polarity(polarity)
    frame = history_frame(history, periods)
    sign = -1.0 if polarity is Polarity.LOWER_IS_BETTER else 1.0
    ev = _Evidence(frame, sign, _describe_gaps(frame, list(frame["period"].cat.categories)))
    n_periods = int(frame.loc[frame["value"].notna(), "period"].nunique())
    if n_periods == 0 and method != "fixed":
        return TargetSuggestion(method, polarity, notes=("no history: nothing to base a suggestion on; set bands by "
                                                         "hand (method fixed)",))
    options = [name for name in inspect.signature(_METHODS[method]).parameters if name not in ("ev", "polarity")]
    unknown = sorted(set(params) - set(options))
    if unknown:
        raise ValueError(f"method '{method}' has no option(s) {', '.join(unknown)}; its options: {', '.join(options)}")
    bands, reference = _METHODS[method](ev, polarity, **params)
    reference = np.asarray(reference, dtype=float)
    if n_periods == 0:
        ev.notes.append("no history: the bands cannot be judged")
    if bands is None:
        return TargetSuggestion(method, polarity, periods=n_periods, notes=tuple(ev.notes), reference=reference)
    if method != "fixed":
        bands = _clipped_at_zero(_rounded(bands, _decimals(reference)) if round_values else bands, ev)
    if 0 < reference.size < MIN_OBSERVATIONS:
        ev.notes.append(f"probability of attainment from only {reference.size} observation(s)")
    if method != "fixed" and fit_band:
        bands = _into_band(bands, reference, polarity, achievable_low, achievable_high, ev)
    probability = attainment_probability(reference, polarity, bands.target, bands.target_range)
    ev.notes += _evidence_notes(reference, probability)
    return TargetSuggestion(
        method=method, polarity=polarity, threshold=bands.threshold, target=bands.target, stretch=bands.stretch,
        target_range=bands.target_range, threshold_range=bands.threshold_range, probability=probability,
        verdict=verdict(probability, achievable_low, achievable_high), periods=n_periods,
        observations=int(reference.size), notes=tuple(ev.notes), reference=reference,
    )


# --- whole framework -------------------------------------------------------------------------------------------


def current_bands(assignment: RoleKpi) -> dict[str, Any]:
    """The bands of a role KPI assignment as keyword arguments of the fixed method."""
    return {
        "threshold": assignment.threshold, "target": assignment.target, "stretch": assignment.stretch,
        "target_range": assignment.target_range, "threshold_range": assignment.threshold_range,
    }


def _bands_columns(prefix: str, source: Mapping[str, Any]) -> dict[str, Any]:
    return {f"{prefix}{k}": source.get(k) for k in ("threshold", "target", "stretch", "target_range",
                                                    "threshold_range")}


def suggest_for_framework(
    framework: Framework, actuals: pd.DataFrame, employees: pd.DataFrame,
    method: str | Sequence[str] = "percentile", roles: Sequence[str] | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None, fit_band: bool = True,
) -> pd.DataFrame:
    """One row per role × KPI × method: current bands and their probability and verdict, suggested bands and
    theirs, and notes. `params` maps a method name to its options (see `suggest_targets`); with `fit_band` each
    suggestion lands inside the framework's achievable band, or its notes say why it cannot."""
    methods = [method] if isinstance(method, str) else list(method)
    unknown = [m for m in methods if m not in _METHODS]
    if unknown:
        raise ValueError(f"unknown method(s) {', '.join(unknown)}; choose from {', '.join(METHODS)}")
    settings = framework.metadata.settings
    history = role_history(framework, actuals, employees)
    axis = _chronological(pd.unique(history["period"].astype(object).dropna()))
    positions = history.groupby(["role", "kpi_id"], sort=False, observed=True).indices
    empty = np.empty(0, dtype=int)
    records = []
    for assignment in framework.assignments:
        if roles is not None and assignment.role not in roles:
            continue
        definition = framework.kpi(assignment.kpi.kpi)
        if definition is None:
            continue
        rows = history.iloc[positions.get((assignment.role, assignment.kpi.kpi), empty)]
        current = current_bands(assignment.kpi)
        for name in methods:
            options = dict((params or {}).get(name, {}))
            if name == "fixed" and not options:
                options = current
            suggestion = suggest_targets(
                rows[HISTORY_COLUMNS], definition.polarity, name, periods=axis,
                achievable_low=settings.achievable_low, achievable_high=settings.achievable_high, fit_band=fit_band,
                **options)
            current_p = suggestion.probability_for(assignment.kpi.target, assignment.kpi.target_range)
            records.append({
                "role": assignment.role, "kpi_id": definition.id, "kpi_name": definition.name,
                "polarity": definition.polarity.value, "weight": assignment.kpi.weight, "method": name,
                "periods": suggestion.periods, "observations": suggestion.observations,
                **_bands_columns("current_", current), "current_probability": current_p,
                "current_verdict": verdict(current_p, settings.achievable_low, settings.achievable_high),
                **_bands_columns("", suggestion.as_row()), "probability": suggestion.probability,
                "verdict": suggestion.verdict, "notes": "; ".join(suggestion.notes),
            })
    return pd.DataFrame.from_records(records, columns=SUGGESTION_COLUMNS)



def apply_suggestion(assignment: RoleKpi, suggestion: TargetSuggestion) -> RoleKpi:
    """A copy of a role KPI assignment with the suggested bands (validated by the model)."""
    fields = {k: getattr(suggestion, k) for k in ("threshold", "target", "stretch", "target_range",
                                                  "threshold_range")}
    return RoleKpi.model_validate({**assignment.model_dump(), **fields})



def _number(value: Any) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else number_text(value)


def _pair(pair: Any) -> str:
    return f"{_number(pair[0])} to {_number(pair[1])}" if isinstance(pair, tuple | list) else "-"


def bands_text(row: Mapping[str, Any], prefix: str = "") -> str:
    """Compact bands of a suggestion table row: '20/25/32' (threshold/target/stretch), or for a range KPI
    '75 to 85 in 65 to 92' (target range in threshold range); `prefix` 'current_' for the current bands."""
    if row["polarity"] == Polarity.WITHIN_RANGE.value:
        return f"{_pair(row[f'{prefix}target_range'])} in {_pair(row[f'{prefix}threshold_range'])}"
    return "/".join(_number(row[f"{prefix}{k}"]) for k in ("threshold", "target", "stretch"))


def show_bands(row: Mapping[str, Any], prefix: str = "") -> str:
    """Bands of a suggestion table row in words, e.g. 'threshold/target/stretch 20/25/32'."""
    if row["polarity"] == Polarity.WITHIN_RANGE.value:
        return (f"target range {_pair(row[f'{prefix}target_range'])} "
                f"(threshold range {_pair(row[f'{prefix}threshold_range'])})")
    return f"threshold/target/stretch {bands_text(row, prefix)}"
