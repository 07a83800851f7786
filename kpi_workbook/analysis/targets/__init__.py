"""Evidence-based targets: threshold, target and stretch suggested from history, peers and trends.

The package, one responsibility a module: `evidence` (a KPI's history, the probability of attainment, the
verdict), `methods` (the suggestion methods, each with a dataclass of its options), `fitting` (one KPI's
suggestion: rounding, clipping, moving the target into the achievable band) and `table` (every role KPI of a
framework, and the bands as text). The names below are its public interface.

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

__all__ = [
    "CHALLENGING", "METHODS", "NO_DATA", "SUGGESTION_COLUMNS", "TOO_EASY", "UNREALISTIC", "TargetSuggestion",
    "apply_suggestion", "attainment_probability", "bands_text", "current_bands", "history_frame",
    "suggest_for_framework", "suggest_targets", "verdict",
]

from kpi_workbook.analysis.target_methods import METHODS
from kpi_workbook.analysis.targets.evidence import (
    CHALLENGING,
    NO_DATA,
    TOO_EASY,
    UNREALISTIC,
    attainment_probability,
    history_frame,
    verdict,
)
from kpi_workbook.analysis.targets.fitting import TargetSuggestion, suggest_targets
from kpi_workbook.analysis.targets.table import (
    SUGGESTION_COLUMNS,
    apply_suggestion,
    bands_text,
    current_bands,
    suggest_for_framework,
)
