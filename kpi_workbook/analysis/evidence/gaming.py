"""Is a KPI being gamed? Three checks, each reported per role or team (never per person).

The method in words is METHOD, which `kpi-workbook evidence` prints with the results.
"""

from __future__ import annotations

__all__ = [
    "ALPHA", "BIN_SHARE", "BUNCHING_EXCESS", "Bunching", "COLLAPSE_ALPHA", "COLLAPSE_RATIO", "GUARDRAIL_ALPHA",
    "GamingSignal", "METHOD", "MIN_BIN_VALUES", "MIN_PER_PERIOD", "MIN_UNITS", "SIGNAL_COLUMNS", "SIGN_FLIPS",
    "WIDENINGS", "bunching", "bunching_findings", "collapse_findings", "collapse_p", "findings_frame",
    "guardrail_findings", "sign_flip_p",
]

import itertools
import math
import warnings
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import special  # the binomial tail without importing scipy.stats (half a second)

from kpi_workbook.analysis.evidence.difficulty import hits
from kpi_workbook.analysis.evidence.panel import Panels, paired_panels, periods_of
from kpi_workbook.analysis.history import role_history
from kpi_workbook.analysis.scoring import band_table
from kpi_workbook.core.model import Framework, MeasureType, Polarity

METHOD = """\
Bunching at a target or threshold: a role's values near the band are cut into six narrow bins (a tenth of the
values' spread wide, widened until each bin can hold two distinct values; rated KPIs and ranges are not tested).
A straight line through the four outer bins predicts how the two middle bins, just short of the band and just
past it, would share their values under a smooth distribution. A finding needs more values just past the band
than that (binomial test, p below 1 %) and at least 1.25 times the predicted count. Note: ratios of small
counts heap at simple fractions (1/4 = 25 %), so a target set at one can show bunching that is nobody's doing.
Guardrail moving the wrong way: for the people measured on both a KPI and its guardrail, each one's average
change per period, better counted as up and in units of the KPI's spread. Within a team, "the KPI improved"
and "the guardrail worsened" are each tested by flipping the signs of people's changes at random (when nothing
is going on, a change is as likely up as down); both must hold at p below 5 %.
Variance collapse after the target was set: the spread of a role's values across people, per period, averaged
on a log scale from the period the targets were set (framework.yaml's date) on, against the periods before.
Every other choice of as many "after" periods gives the chance distribution. A finding needs the spread to have
fallen to half or less, with p below 5 %.
"""

ALPHA = 0.01
BIN_SHARE = 0.1
WIDENINGS = 3
MIN_BIN_VALUES = 20
BUNCHING_EXCESS = 1.25
GUARDRAIL_ALPHA = 0.05
SIGN_FLIPS = 2000
MIN_UNITS = 5
COLLAPSE_RATIO = 0.5
COLLAPSE_ALPHA = 0.05
MIN_PER_PERIOD = 3
SIGNAL_COLUMNS = ["check", "kpi_id", "scope", "evidence", "look_at", "p"]


@dataclass(frozen=True)
class GamingSignal:
    """One gaming signal: which check, KPI and role or team, the evidence and what to look at."""

    check: str
    kpi_id: str
    scope: str
    evidence: str
    look_at: str
    p: float


@dataclass(frozen=True)
class Bunching:
    """Counts just below and just above a cut, the count a smooth density predicts above, and the p-value."""

    below: int
    above: int
    expected_above: float
    width: float
    p: float

    @property
    def excess(self) -> float:
        """How many times the predicted count the good-side bin holds."""
        return self.above / self.expected_above if self.expected_above > 0 else math.inf


def _bin_width(values: np.ndarray, cut: float) -> float | None:
    """A tenth of the values' spread (a whole number of their smallest step), doubled (at most WIDENINGS times)
    until each of the six bins around the cut can hold two distinct values (so a scale's steps are not mistaken
    for bunching); None if never."""
    distinct = np.unique(values)
    q1, q3 = np.percentile(values, [25, 75])
    width = BIN_SHARE * (q3 - q1) / 1.349
    steps = np.diff(distinct)
    if steps.size and width > 0:  # a whole number of the values' steps, so no bin holds one step more
        width = math.ceil(width / steps.min() - 1e-9) * steps.min()
    for _ in range(WIDENINGS + 1):
        if width > 0:
            per_bin = np.histogram(distinct, bins=cut + width * np.arange(-3, 4))[0]
            if per_bin.min() >= 2:
                return float(width)
        width = 2 * width
    return None


def bunching(values: np.ndarray, cut: float) -> Bunching | None:
    """The bunching test of values (good = higher) at a cut; None when it cannot be made (too few values near the
    cut, or too few distinct values)."""
    values = values[np.isfinite(values)]
    width = _bin_width(values, cut) if values.size >= 2 * MIN_BIN_VALUES else None
    if width is None:
        return None
    counts = np.histogram(values, bins=cut + width * np.arange(-3, 4))[0]
    below, above = int(counts[2]), int(counts[3])
    if below + above < MIN_BIN_VALUES:
        return None
    slope, intercept = np.polyfit([-2.5, -1.5, 1.5, 2.5], counts[[0, 1, 4, 5]], 1)
    fitted = np.clip(intercept + slope * np.array([-0.5, 0.5]), 0.5, None)
    share = float(fitted[1] / fitted.sum())
    p = float(special.bdtrc(above - 1, below + above, share))  # P(X >= above), X ~ Binomial(below + above, share)
    return Bunching(below, above, share * (below + above), width, p)


def bunching_findings(framework: Framework, actuals: pd.DataFrame, employees: pd.DataFrame) -> list[GamingSignal]:
    """Bunching on the good side of each role KPI's target and threshold (people's values, all periods)."""
    met = hits(framework, actuals, employees)
    people = met[~met["unit"].str.endswith("/")]
    bands = band_table(framework).set_index(["role", "kpi_id"])
    rated = {k.id for k in framework.kpis if k.measure_type is MeasureType.QUALITATIVE}
    found = []
    for (role, kpi), rows in people.groupby(["role", "kpi_id"], sort=True):
        polarity = rows["polarity"].iloc[0]
        if polarity == Polarity.WITHIN_RANGE.value or kpi in rated:
            continue
        sign = -1.0 if polarity == Polarity.LOWER_IS_BETTER.value else 1.0
        for band in ("target", "threshold"):
            cut = bands.loc[(role, kpi), band]
            result = bunching(sign * rows["value"].to_numpy(), sign * cut) if np.isfinite(cut) else None
            if result and result.p < ALPHA and result.excess >= BUNCHING_EXCESS:
                side = "at or above" if sign > 0 else "at or below"
                found.append(GamingSignal(
                    "bunching", kpi, f"role {role}",
                    f"{result.above} values {side} the {band} {cut:.4g} within {result.width:.3g}, against "
                    f"{result.expected_above:.1f} a smooth distribution predicts ({result.below} just short of it)",
                    f"how values near the {band} are recorded and timed (deals closed at period end, "
                    "re-categorised cases, rounding)", result.p))
    return found


def sign_flip_p(changes: np.ndarray, rng: np.random.Generator, flips: int = SIGN_FLIPS) -> float:
    """One-sided p-value that the mean change is above zero, by flipping signs at random."""
    signs = rng.choice([-1.0, 1.0], size=(flips, changes.size))
    null = (signs * changes).mean(axis=1)
    return float((1 + np.sum(null >= changes.mean())) / (flips + 1))


def guardrail_findings(framework: Framework, actuals: pd.DataFrame, seed: int = 0) -> list[GamingSignal]:
    """Teams where a KPI improves while its declared guardrail worsens for the same people."""
    rng = np.random.default_rng(seed)
    panels = Panels(framework, actuals)
    found = []
    for kpi in framework.kpis:
        if not kpi.guardrail:
            continue
        level, x, y, teams = paired_panels(panels, kpi.id, kpi.guardrail, MIN_UNITS)
        dx, dy = np.diff(x, axis=1), np.diff(y, axis=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a unit without changes stays NaN
            mx = np.nanmean(dx, axis=1) / np.nanstd(dx)
            my = np.nanmean(dy, axis=1) / np.nanstd(dy)
        both = np.isfinite(mx) & np.isfinite(my)
        scopes = {f"team {t}": both & (teams == t) for t in sorted(set(teams[both]))} if level == "people" \
            else {"teams": both}
        for scope, rows in scopes.items():
            if rows.sum() < MIN_UNITS:
                continue
            improves, worsens = sign_flip_p(mx[rows], rng), sign_flip_p(-my[rows], rng)
            if max(improves, worsens) < GUARDRAIL_ALPHA:
                found.append(GamingSignal(
                    "guardrail", kpi.id, scope,
                    f"{kpi.id} improved by {mx[rows].mean():+.2f} SD per period while {kpi.guardrail} moved "
                    f"{my[rows].mean():+.2f} SD (better = up) across {int(rows.sum())} {level}",
                    f"whether {kpi.id} is being reached at the expense of {kpi.guardrail}",
                    max(improves, worsens)))
    return found


def _period_spread(rows: pd.DataFrame, periods: list[str]) -> np.ndarray:
    grouped = rows.groupby("period")["value"]
    spread = grouped.std(ddof=1).where(grouped.size() >= MIN_PER_PERIOD)
    return spread.reindex(periods).to_numpy(dtype=float)


def collapse_p(log_spread: np.ndarray, after: np.ndarray) -> float:
    """Share of the ways to pick as many 'after' periods whose drop in mean log spread is as large."""
    observed = log_spread[after].mean() - log_spread[~after].mean()
    picks = list(itertools.combinations(range(log_spread.size), int(after.sum())))
    drops = np.array([log_spread[list(p)].mean() - np.delete(log_spread, list(p)).mean() for p in picks])
    return float(np.mean(drops <= observed + 1e-12))


def collapse_findings(framework: Framework, actuals: pd.DataFrame, employees: pd.DataFrame,
                      since: str | None) -> list[GamingSignal]:
    """Role KPIs whose spread across people collapsed from the period `since` (when the targets were set)."""
    periods = periods_of(actuals)
    if since is None or since not in periods:
        return []
    history = role_history(framework, actuals, employees).astype({"role": str, "kpi_id": str, "period": str})
    history = history[history["employee_id"].fillna("").astype(str) != ""]
    is_after = np.array([periods.index(p) >= periods.index(since) for p in periods])
    found = []
    for (role, kpi), rows in history.groupby(["role", "kpi_id"], sort=True):
        spread = _period_spread(rows, periods)
        ok = np.isfinite(spread) & (spread > 0)
        after = is_after[ok]
        if after.sum() < 2 or (~after).sum() < 2:
            continue
        log_spread = np.log(spread[ok])
        ratio = math.exp(log_spread[after].mean() - log_spread[~after].mean())
        p = collapse_p(log_spread, after)
        if ratio <= COLLAPSE_RATIO and p < COLLAPSE_ALPHA:
            found.append(GamingSignal(
                "variance collapse", kpi, f"role {role}",
                f"spread across people from {since} on is {ratio:.0%} of what it was before", "whether values are "
                "being managed towards the target (adjusted, capped or reported as the target)", p))
    return found


def findings_frame(findings: list[GamingSignal]) -> pd.DataFrame:
    """The findings as a table of SIGNAL_COLUMNS."""
    return pd.DataFrame([asdict(f) for f in findings], columns=SIGNAL_COLUMNS)
