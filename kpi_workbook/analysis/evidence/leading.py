"""Do the leading KPIs lead? A lagged correlation of within-unit changes, tested by shuffling within periods.

The method in words is METHOD, which `kpi-workbook evidence` prints with the results.
"""

from __future__ import annotations

__all__ = [
    "ALPHA", "BOOTSTRAPS", "DOES_NOT_LEAD", "LEADS", "LeadEvidence", "MAX_LAG", "MEANINGFUL_R", "METHOD", "MIN_UNITS",
    "MIN_UNITS_TO_LEAD", "NO_EVIDENCE", "PAIR_COLUMNS", "PERMUTATIONS", "POWER", "PairResult", "Relation",
    "benjamini_hochberg", "candidate_pairs", "lagged_relation", "lead_evidence", "needed_observations", "pair_relation",
]

import math
import warnings
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special  # the normal quantile without importing scipy.stats (half a second)

from kpi_workbook.analysis.evidence.panel import Panels, paired_panels
from kpi_workbook.core.model import Framework, Indicator

METHOD = """\
For every person (or team, when the two KPIs are not measured on the same people) take how much each KPI changed
from one period to the next, better counted as up. Take away, per period, everyone's average change (a good or
bad quarter for all is not evidence). Then ask: do the people whose leading KPI improved more than others see the
lagging KPI improve more than others 1, 2 or 3 periods later? The size is the correlation r at the lag where it
is strongest. To judge chance, shuffle which person's leading history goes with which person's lagging history
(999 times) and count how often a relation as strong turns up at any lag: that share is p. The 95 % interval
comes from re-drawing people with replacement (bootstrap). Over all pairs, p is adjusted for the number of pairs
tested (Benjamini-Hochberg q). Verdicts: "leads" when q is below 5 %, r is positive and at least 10 people (or
teams) were compared (with fewer, a few people can make a chance relation look strong); "does not lead" when
there are at least the pairs of changes needed to see r = 0.3 four times out of five (about 68) and the interval
rules out r = 0.3 or more; otherwise "no evidence yet", with the periods still needed (at least those 68 pairs,
and as many as it takes for the interval, narrowing with more data, to exclude 0 or 0.3).
"""

ALPHA = 0.05
MAX_LAG = 3
MIN_UNITS = 3
MIN_UNITS_TO_LEAD = 10  # people or teams compared before a relation is called a lead
MEANINGFUL_R = 0.3
POWER = 0.8
PERMUTATIONS = 999
BOOTSTRAPS = 999
LEADS = "leads"
NO_EVIDENCE = "no evidence yet"
DOES_NOT_LEAD = "does not lead"
PAIR_COLUMNS = ["leading", "lagging", "declared", "level", "units", "lag", "r", "low", "high", "n", "p", "q",
                "verdict", "periods_needed", "note"]


@dataclass(frozen=True)
class Relation:
    """The strongest lagged relation of two change matrices and its uncertainty."""

    lag: int
    r: float
    low: float
    high: float
    n: int
    p: float
    units: int
    per_period: float


@dataclass(frozen=True)
class PairResult:
    """The verdict on one leading → lagging pair."""

    leading: str
    lagging: str
    declared: bool
    level: str
    relation: Relation | None
    verdict: str
    q: float = math.nan
    periods_needed: int | None = None
    note: str = ""

    def as_row(self) -> dict[str, object]:
        """The result as one row of PAIR_COLUMNS."""
        rel = self.relation
        return {"leading": self.leading, "lagging": self.lagging, "declared": self.declared, "level": self.level,
                "units": rel.units if rel else 0, "lag": rel.lag if rel else None, "r": rel.r if rel else None,
                "low": rel.low if rel else None, "high": rel.high if rel else None, "n": rel.n if rel else 0,
                "p": rel.p if rel else None, "q": None if math.isnan(self.q) else self.q, "verdict": self.verdict,
                "periods_needed": self.periods_needed, "note": self.note}


@dataclass(frozen=True)
class LeadEvidence:
    """Every pair's result, leading KPIs that lead nothing and lagging KPIs no leading KPI drives."""

    pairs: list[PairResult]
    idle_leading: list[str]
    undriven_lagging: list[str]

    def frame(self) -> pd.DataFrame:
        """Every pair's result as a table of PAIR_COLUMNS."""
        return pd.DataFrame([p.as_row() for p in self.pairs], columns=PAIR_COLUMNS)


def needed_observations(r: float = MEANINGFUL_R, alpha: float = ALPHA, power: float = POWER) -> int:
    """Pairs of changes needed to find a correlation `r` with the given power (one-sided Fisher z)."""
    z = special.ndtri(1 - alpha) + special.ndtri(power)  # standard normal quantiles
    return math.ceil((z / math.atanh(r)) ** 2 + 3)


def _correlation(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pearson r over the last two axes where both are finite (NaN below 3 pairs), and the number of pairs."""
    mask = np.isfinite(a) & np.isfinite(b)
    n = mask.sum(axis=(-2, -1))
    a, b = np.where(mask, a, 0.0), np.where(mask, b, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        ma = a.sum(axis=(-2, -1)) / n
        mb = b.sum(axis=(-2, -1)) / n
        da = np.where(mask, a - ma[..., None, None], 0.0)
        db = np.where(mask, b - mb[..., None, None], 0.0)
        r = (da * db).sum(axis=(-2, -1)) / np.sqrt((da**2).sum(axis=(-2, -1)) * (db**2).sum(axis=(-2, -1)))
    return np.where(n >= 3, r, np.nan), n


def _demeaned_changes(values: np.ndarray) -> np.ndarray:
    """Within-unit changes less each period's mean change (period effects)."""
    changes = np.diff(values, axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a period without changes stays NaN
        return changes - np.nanmean(changes, axis=0, keepdims=True)


def _lagged(dx: np.ndarray, dy: np.ndarray, lags: range) -> np.ndarray:
    """r at each lag: leading changes (… × units × changes) against lagging changes `lag` periods later."""
    width = dx.shape[-1]
    return np.stack([_correlation(dx[..., :width - lag], dy[..., lag:])[0] for lag in lags], axis=-1)


def lagged_relation(leading: np.ndarray, lagging: np.ndarray, rng: np.random.Generator, max_lag: int = MAX_LAG,
                    permutations: int = PERMUTATIONS, bootstraps: int = BOOTSTRAPS) -> Relation | None:
    """The strongest positive lagged relation of two oriented panels (units × periods); None without data."""
    dx, dy = _demeaned_changes(leading), _demeaned_changes(lagging)
    lags = range(1, min(max_lag, dx.shape[1] - 1) + 1)
    if not lags:
        return None
    observed = _lagged(dx, dy, lags)
    if np.all(np.isnan(observed)):
        return None
    best = int(np.nanargmax(observed))
    lag = lags[best]
    units, width = dx.shape
    shuffled = dx[np.argsort(rng.random((permutations, units)), axis=1)]  # whole histories change hands
    null = np.nan_to_num(np.nanmax(_lagged(shuffled, dy, lags), axis=-1), nan=-np.inf)
    p = (1 + np.sum(null >= observed[best])) / (permutations + 1)
    draw = rng.integers(0, units, (bootstraps, units))
    boot = _correlation(dx[draw][..., :width - lag], dy[draw][..., lag:])[0]
    low, high = np.nanpercentile(boot, [2.5, 97.5])
    n = int(_correlation(dx[:, :width - lag], dy[:, lag:])[1])
    return Relation(lag, float(observed[best]), float(low), float(high), n, float(p), units, n / (width - lag))


def candidate_pairs(framework: Framework) -> list[tuple[str, str, bool]]:
    """(leading, lagging, declared): each KPI's `leads`; for a leading KPI naming none, the lagging KPIs that
    serve one of the same objectives in some role."""
    served: dict[str, set[str]] = {}
    for a in framework.assignments:
        served.setdefault(a.kpi.kpi, set()).update(a.kpi.objectives)
    lagging = [k.id for k in framework.kpis if k.indicator is Indicator.LAGGING]
    pairs = []
    for kpi in framework.kpis:
        if kpi.leads:
            pairs += [(kpi.id, other, True) for other in kpi.leads]
        elif kpi.indicator is Indicator.LEADING:
            mine = served.get(kpi.id, set())
            pairs += [(kpi.id, other, False) for other in lagging if mine & served.get(other, set())]
    return pairs


def benjamini_hochberg(p: Iterable[float]) -> np.ndarray:
    """False-discovery-rate adjusted p-values (q); NaN stays NaN."""
    p = np.asarray(list(p), dtype=float)
    q = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    if ok.size:
        order = ok[np.argsort(p[ok])]
        ranked = p[order] * ok.size / np.arange(1, ok.size + 1)
        q[order] = np.minimum(1.0, np.minimum.accumulate(ranked[::-1])[::-1])
    return q


def _periods_needed(rel: Relation, needed: int) -> int:
    """Periods more until the interval could settle it: at least `needed` pairs, and enough for it to shrink
    (as one over the square root of the pairs) to a half-width that excludes 0 or MEANINGFUL_R."""
    half, settling = (rel.high - rel.low) / 2, max(rel.r, MEANINGFUL_R - rel.r)
    target = max(needed, rel.n * (half / settling) ** 2)
    return max(1, math.ceil((target - rel.n) / max(rel.per_period, 1.0)))


def _judged(pair: PairResult, q: float, needed: int) -> PairResult:
    rel = pair.relation
    if rel is None:
        return pair

    def judged(verdict: str, note: str = "", periods_needed: int | None = None) -> PairResult:
        return PairResult(pair.leading, pair.lagging, pair.declared, pair.level, rel, verdict, q=q,
                          periods_needed=periods_needed, note=note)

    if q < ALPHA and rel.r > 0 and rel.units >= MIN_UNITS_TO_LEAD:
        return judged(LEADS)
    if q < ALPHA and rel.r > 0:
        return judged(NO_EVIDENCE, note=(
            f"a strong relation, but among only {rel.units} people or teams: at least {MIN_UNITS_TO_LEAD} are needed "
            "before it is called a lead"))
    if rel.n >= needed and rel.high < MEANINGFUL_R:
        return judged(DOES_NOT_LEAD, note=f"r = {MEANINGFUL_R} or more is ruled out")
    note = (f"{rel.n} pairs of changes; about {needed} are needed to see r = {MEANINGFUL_R}" if rel.n < needed
            else f"the interval still spans both 0 and {MEANINGFUL_R}" if rel.low <= 0 else "not significant "
            "after adjusting for the number of pairs tested")
    return judged(NO_EVIDENCE, note=note, periods_needed=_periods_needed(rel, needed))


def pair_relation(panels: Panels, leading: str, lagging: str, declared: bool,
                  rng: np.random.Generator) -> PairResult:
    """The relation of one pair, before the verdict (see `lead_evidence`)."""
    level, x, y, _ = paired_panels(panels, leading, lagging, MIN_UNITS)
    if len(x) < MIN_UNITS:
        return PairResult(leading, lagging, declared, level, None, NO_EVIDENCE,
                          note=f"measured on the same people or teams in fewer than {MIN_UNITS} cases: the test "
                               "compares units within a period")
    relation = lagged_relation(x, y, rng)
    if relation is None:
        periods = len(panels.periods)
        return PairResult(leading, lagging, declared, level, None, NO_EVIDENCE, periods_needed=3 - periods
                          if periods < 3 else None, note="too few periods with both KPIs to see a lag")
    return PairResult(leading, lagging, declared, level, relation, NO_EVIDENCE)


def lead_evidence(framework: Framework, actuals: pd.DataFrame, seed: int = 0) -> LeadEvidence:
    """Test every candidate pair; a pair *leads* when its q-value (Benjamini-Hochberg over the pairs) is below
    ALPHA, has *no evidence yet* when it has fewer pairs of changes than `needed_observations`, else *does not
    lead*."""
    rng = np.random.default_rng(seed)
    panels = Panels(framework, actuals)
    tested = [pair_relation(panels, a, b, d, rng) for a, b, d in candidate_pairs(framework)]
    q = benjamini_hochberg([t.relation.p if t.relation else np.nan for t in tested])
    needed = needed_observations()
    pairs = [_judged(t, float(qi), needed) for t, qi in zip(tested, q, strict=True)]
    used = {a.kpi.kpi for a in framework.assignments}
    leading = {p.leading for p in pairs if p.verdict == LEADS}
    driven = {p.lagging for p in pairs if p.verdict == LEADS}
    idle = [k.id for k in framework.kpis if k.indicator is Indicator.LEADING and k.id in used and k.id not in leading]
    undriven = [k.id for k in framework.kpis
                if k.indicator is Indicator.LAGGING and k.id in used and k.id not in driven]
    return LeadEvidence(pairs, idle, undriven)
