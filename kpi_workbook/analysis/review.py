"""The periodic review: scorecards per employee, role and team, each KPI's actual against its target, trends, the
KPIs' values over a whole department or the organization, what needs attention first, and flags with
recommendations.

Actual against target (`kpi_actuals`), per team, role and KPI: the *actual* is the team's own value of a KPI measured
per team (a value without an employee), else the median of the role's people's values. Its *gap* to the target is
signed in the KPI's good direction (negative: short of the target, for higher- and lower-is-better alike; within a
range: the distance outside the target range, negative, or 0 inside it). The *shortfall* is that gap in band widths
(target to threshold), so KPIs of any unit compare; `attention` ranks weight × shortfall, and the KPIs that worsened
most since the previous period (in band widths) after them.

Flags (one row each: flag, severity, objective, role, team, kpi_id, message, recommendation). The data flags
look at each team's people of a role (a *group*) and the group's median value per period:

- ``target_too_easy`` (warning): the median is at or beyond the stretch for the last `n` periods running
  (within a range: every value of the group inside the target range, `n` periods running);
- ``never_met`` (warning): the median is short of the threshold (of the target when there is no threshold)
  for `n` periods running (within a range: outside the threshold range);
- ``no_data``: no value at all for the period (info), or none in the last `n` periods (warning);
- ``no_variation`` (info): the values up to the period hardly vary across people and periods: their standard
  deviation is below 5 % of the band span (threshold to stretch), too little to move the score. It is judged
  on the values measured: a value every member of a team shares in a period (a team-level value applied to
  each) counts once;
- ``not_judged`` (info): what the period's history is too short to judge, and why (streaks need `n` periods,
  variation needs two values).
- ``objective_all_red`` (warning): every KPI of a team serving an objective is red in the period (KPI status =
  the status of the group's mean score; KPIs without data are not counted).

The framework flags: ``kpi_without_objective`` (warning) and ``role_without_development_kpi`` (warning), one per
team of the role.
"""

from __future__ import annotations

__all__ = [
    "ATTENTION_MOVERS", "ATTENTION_SHORT", "DATA_FLAGS", "FLAG_COLUMNS", "GROUP", "KPI_ACTUAL_COLUMNS", "LEVELS",
    "MOVED", "NO_VARIATION_SHARE", "RECENT_PERIODS", "RECOMMENDATIONS", "SCOPE_KPI_COLUMNS", "SEVERITIES",
    "STATUS_ORDER", "SUMS", "attention", "format_flags", "kpi_actuals", "kpi_scorecard", "review_flags",
    "scope_kpi_values", "scope_kpis", "scorecard", "target_gaps", "trends",
]

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from kpi_workbook.analysis.scoring import BAND_COLUMNS, ORGANIZATION, band_table, banded_scores, roll_up, status_of
from kpi_workbook.core.errors import InputError, Problem
from kpi_workbook.core.measures import Function, Measure, Per
from kpi_workbook.core.model import Category, Framework, KpiDefinition, Polarity, Role
from kpi_workbook.core.periods import parse_period, sort_periods
from kpi_workbook.workspace.assignments import is_team_level

DATA_FLAGS = ("no_data", "no_variation", "not_judged")  # flags about the data rather than the targets or the work
FLAG_COLUMNS = ["flag", "severity", "objective", "role", "team", "kpi_id", "message", "recommendation"]
SEVERITIES = ("warning", "info")
NO_VARIATION_SHARE = 0.05
GROUP = ["team", "role", "kpi_id"]
LEVELS = {
    "employee": ("team", "role", "employee_id"),
    "role": ("team", "role"),
    "team": ("team",),
    "department": ("department",),  # needs the column from scoring.with_departments
    "organization": (),
}
RECOMMENDATIONS = {
    "target_too_easy": "raise the target and the stretch to an evidence-based level (targets step, "
                       "`kpi-workbook targets`): a target everyone beats no longer steers",
    "never_met": "check the data first; then lower the bands to an evidence-based level or remove what blocks the "
                 "role (training, tools, workload): a target nobody reaches demotivates",
    "no_data": "connect the KPI's data source and import the actuals, or drop the KPI if it is no longer measured",
    "no_variation": "check the data source (a constant or default value?); a KPI that never varies cannot "
                    "tell good from weak performance: replace it or measure it differently",
    "kpi_without_objective": "link the assignment to the objective(s) it serves, or drop it",
    "objective_all_red": "the objective is off track for this team: review its resources and plan, and whether the "
                         "KPIs' targets are realistic",
    "role_without_development_kpi": "add a learning and development KPI (e.g. training hours completed, "
                                    "learning plan completion)",
    "not_judged": "import the earlier periods' actuals (`kpi-workbook import-actuals`), or judge again when more "
                  "periods have passed",
}


def _period_axis(scores: pd.DataFrame) -> list[str]:
    column = scores["period"]
    if isinstance(column.dtype, pd.CategoricalDtype) and column.cat.ordered:
        return [str(p) for p in column.cat.categories]
    return sort_periods(column.astype(str).unique())


def _check_period(scores: pd.DataFrame, period: str) -> tuple[str, list[str]]:
    """The canonical period label and the periods up to it, oldest first; InputError if there is no such period."""
    axis = _period_axis(scores)
    label = parse_period(period).label
    if label not in axis:
        available = ", ".join(axis) if axis else "(none)"
        raise InputError(Problem(file="parameters", field="period",
                                 message=f"no scores for period '{period}'. Periods with scores: {available}"))
    return label, axis[: axis.index(label) + 1]


def scorecard(scores: pd.DataFrame, period: str, level: str = "employee") -> pd.DataFrame:
    """Weighted scores of one period per employee, role (within team), team or the organization.

    `scores` comes from `scoring.score_actuals`; returns the level's key columns, score, coverage and status.
    """
    if level not in LEVELS:
        raise ValueError(f"unknown level '{level}'; choose one of {', '.join(LEVELS)}")
    label, _ = _check_period(scores, period)
    rows = scores[scores["period"] == label]
    table = roll_up(rows, LEVELS[level]).drop(columns="period")
    return table.assign(**{ORGANIZATION: ORGANIZATION}) if level == "organization" else table.reset_index(drop=True)


def kpi_scorecard(scores: pd.DataFrame, framework: Framework, period: str) -> pd.DataFrame:
    """Employee × KPI rows of one period with the KPI's name, unit, polarity and the assignment's bands."""
    label, _ = _check_period(scores, period)
    rows = scores[scores["period"] == label].astype({c: str for c in ["period", *GROUP, "employee_id"]})
    bands = band_table(framework).drop_duplicates(["role", "kpi_id"]).drop(columns=["weight"])
    names = pd.DataFrame([(k.id, k.name, k.unit) for k in framework.kpis], columns=["kpi_id", "kpi_name", "unit"])
    table = rows.merge(names, on="kpi_id", how="left").merge(bands, on=["role", "kpi_id"], how="left")
    return table.reset_index(drop=True)


SCOPE_KPI_COLUMNS = ["kpi_id", "measured", "period", "value", "previous_period", "previous_value", "change",
                     "score", "status", "roles", "compared", *BAND_COLUMNS[2:], "gap", "gap_share"]
# How a scope's value relates to its KPI's target (column `compared`): compared with it, or not, and why.
COMPARED, BY_ROLE, PER_PERSON, PER_TEAM = "compared", "by role", "per person", "per team"
SUMS = frozenset({Function.SUM, Function.COUNT, Function.COUNT_DISTINCT, Function.HEADCOUNT})


def scope_kpis(framework: Framework, roles: Sequence[Role]) -> list[str]:
    """The KPIs assigned to `roles`, in the framework's order."""
    assigned = {a.kpi for role in roles for a in role.kpis}
    return [k.id for k in framework.kpis if k.id in assigned]


def _sums_up(measure: Measure) -> bool:
    """Whether a scope's value of the measure adds up its people's or teams' values (a total, a count, a headcount,
    a formula): such a value is not compared with a target set per person or per team."""
    if measure.ratio is not None:
        return False
    if measure.duration is not None:
        return measure.duration.function in SUMS
    if measure.aggregate is not None:
        return measure.aggregate.function in SUMS
    return measure.derived is not None


def _compared(kpi: KpiDefinition, bands: pd.DataFrame) -> str:
    """How a scope's value of the KPI relates to the targets of the scope's roles that hold it (`bands`)."""
    if len(bands[BAND_COLUMNS[4:]].drop_duplicates()) > 1:
        return BY_ROLE
    if kpi.measure is not None and _sums_up(kpi.measure):
        return PER_TEAM if kpi.measure.per is Per.TEAM else PER_PERSON
    return COMPARED


def _scope_targets(framework: Framework, roles: Sequence[Role], kpis: Sequence[str]) -> pd.DataFrame:
    """Per KPI of `kpis`: the roles of `roles` that hold it, how the scope's value relates to their targets, and
    the bands of the first of them."""
    bands = band_table(framework)
    bands = bands[bands["role"].isin([r.id for r in roles])].drop(columns="weight")
    defined = {k.id: k for k in framework.kpis}
    rows = []
    for kpi in kpis:
        held = bands[bands["kpi_id"] == kpi]
        first = held.drop(columns=["role", "kpi_id"]).head(1).to_dict("records") or [{}]
        rows.append({"kpi_id": kpi, "roles": ", ".join(held["role"]), "compared": _compared(defined[kpi], held),
                     **first[0]})
    return pd.DataFrame(rows, columns=["kpi_id", "roles", "compared", *BAND_COLUMNS[2:]]).astype(
        dict.fromkeys(BAND_COLUMNS[4:], float))


def scope_kpi_values(values: pd.DataFrame, scores: pd.DataFrame, framework: Framework, kpis: Sequence[str],
                     period: str, roles: Sequence[Role] = ()) -> pd.DataFrame:
    """One row per KPI of `kpis` (SCOPE_KPI_COLUMNS, in that order): its value over a whole department or the
    organization in `period` and in the period before it (the scores' periods), the change, and the KPI's score in
    the period rolled up over the scope's people (NaN, grey without data).

    `values` are the scope's stored values (the store's read_scope_values for one level and scope); `measured` says
    whether the KPI has a measure: a KPI entered by hand has no scope value. With the scope's `roles`: the roles
    holding each KPI, the bands of the first, and `compared`: COMPARED when the value is compared with the target
    (then `gap` and `gap_share` are set, signed as in kpi_actuals), BY_ROLE when the roles' targets differ,
    PER_PERSON or PER_TEAM when the value is a total of the scope and the target one person's or team's.
    """
    label, upto = _check_period(scores, period)
    previous = upto[-2] if len(upto) > 1 else ""
    stored = values.astype({"period": str, "kpi_id": str})
    now = stored[stored["period"] == label].set_index("kpi_id")["value"]
    before = stored[stored["period"] == previous].set_index("kpi_id")["value"]
    rolled = roll_up(scores[scores["period"] == label], ("kpi_id",)).astype({"kpi_id": str, "status": str})
    rolled = rolled.set_index("kpi_id")
    measured = {k.id for k in framework.kpis if k.measure is not None}
    table = pd.DataFrame({"kpi_id": pd.Series(list(kpis), dtype="object")})
    table = table.assign(
        measured=table["kpi_id"].isin(measured), period=label, value=table["kpi_id"].map(now),
        previous_period=previous, previous_value=table["kpi_id"].map(before),
        score=table["kpi_id"].map(rolled["score"]), status=table["kpi_id"].map(rolled["status"]).fillna("grey"),
    )
    table["change"] = table["value"] - table["previous_value"]
    table = table.merge(_scope_targets(framework, roles, kpis), on="kpi_id", how="left")
    gap, _ = target_gaps(table["value"].astype(float), table)
    shown = table["compared"] == COMPARED
    table["gap"] = gap.where(shown)
    table["gap_share"] = (gap / table["target"].abs().where(table["target"] != 0)).where(shown)
    return table[SCOPE_KPI_COLUMNS]


TEAM_VALUE, MEDIAN = "team value", "median"
KPI_ACTUAL_COLUMNS = [*GROUP, *BAND_COLUMNS[2:], "actual", "basis", "people", "short_people", "red_people",
                      "previous_period", "previous_actual", "gap", "gap_share", "shortfall", "movement", "status",
                      "recent"]
RECENT_PERIODS = 6  # the trend of a KPI's actual: this many periods, up to and including the reported one
STATUS_ORDER = ("red", "amber", "grey", "green")  # worst first
ATTENTION_SHORT = 5  # KPIs short of target in "what needs attention"
ATTENTION_MOVERS = 3  # and KPIs that worsened most since the previous period
MOVED = 0.25  # a worsening of at least this many band widths counts as a move


def _group_actuals(scores: pd.DataFrame, actuals: pd.DataFrame, periods: list[str]) -> pd.DataFrame:
    """Per period (of `periods`), team, role and KPI of the scores: the actual (the team's own value of the KPI, else
    the median of the people's values), its basis, how many people have a value, and how many are short of the
    target (amber or red) and below the threshold (red). One grouping for all the periods."""
    rows = scores[scores["period"].astype(str).isin(periods)]
    status = rows["status"].astype(str)
    groups = rows.assign(period=rows["period"].astype(str), short=status.isin(["amber", "red"]),
                         red=status.eq("red")).groupby(["period", *GROUP], observed=True, sort=False)
    table = groups.agg(actual=("value", "median"), people=("value", "count"), short_people=("short", "sum"),
                       red_people=("red", "sum")).reset_index().astype(dict.fromkeys(GROUP, str))
    period = actuals["period"].astype(str)
    mine = actuals[period.isin(periods) & is_team_level(actuals["employee_id"])]
    team_values = mine.astype({"period": str, "team": str, "kpi_id": str}).set_index(["period", "team", "kpi_id"])
    found = pd.MultiIndex.from_frame(table[["period", "team", "kpi_id"]]).map(
        team_values["value"].to_dict().get).to_numpy(dtype=float)
    own = ~np.isnan(found)
    return table.assign(actual=np.where(own, found, table["actual"]), basis=np.where(own, TEAM_VALUE, MEDIAN))


def _in_period(grouped: pd.DataFrame, period: str) -> pd.DataFrame:
    """The rows of one period of `_group_actuals`, without the period."""
    return grouped[grouped["period"] == period].drop(columns="period").reset_index(drop=True)


def target_gaps(actual: pd.Series, table: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """The gap to the target in the good direction (negative: short; within a range: the distance outside the target
    range) and the band width it is measured in (target to threshold, else the target's own size)."""
    sign = table["polarity"].map({Polarity.HIGHER_IS_BETTER.value: 1.0, Polarity.LOWER_IS_BETTER.value: -1.0})
    gap = sign * (actual - table["target"])
    span = (table["target"] - table["threshold"]).abs()
    low, high = table["range_low"], table["range_high"]
    below, above = actual < low, actual > high
    inside = (actual >= low) & (actual <= high)
    range_gap = np.select([below, above, inside], [actual - low, high - actual, 0.0], np.nan)
    range_span = np.where(above, table["threshold_high"] - high, low - table["threshold_low"])
    within = table["polarity"] == Polarity.WITHIN_RANGE.value
    gap = gap.where(~within, range_gap)
    span = span.where(~within, range_span)
    edge = table["target"].where(~within, np.where(above, high, low)).abs()
    return gap, span.where(span > 0, edge).where(lambda s: s > 0)


def kpi_actuals(scores: pd.DataFrame, actuals: pd.DataFrame, framework: Framework, period: str) -> pd.DataFrame:
    """Each KPI's actual against its target per team and role in `period` (KPI_ACTUAL_COLUMNS; see the module
    docstring): the bands, the actual and its basis, the people behind it, the previous period's actual, the gap
    (gap_share: as a share of the target), the shortfall and movement in band widths, and the status of the actual
    scored against the bands (grey without data).

    `scores` come from `scoring.score_actuals` of `actuals` (the scope's actuals to date, team values included)."""
    label, upto = _check_period(scores, period)
    previous = upto[-2] if len(upto) > 1 else ""
    bands = band_table(framework).drop_duplicates(["role", "kpi_id"])
    recent = upto[-RECENT_PERIODS:]
    grouped = _group_actuals(scores, actuals, sorted({*recent, previous} - {""}))
    table = _in_period(grouped, label).merge(bands, on=["role", "kpi_id"], how="left")
    before = _in_period(grouped, previous) if previous else pd.DataFrame(columns=[*GROUP, "actual"])
    table = table.merge(before[[*GROUP, "actual"]].rename(columns={"actual": "previous_actual"}), on=GROUP,
                        how="left").assign(previous_period=previous)
    gap, span = target_gaps(table["actual"], table)
    previous_gap, _ = target_gaps(table["previous_actual"].astype(float), table)
    _, score = banded_scores(table["actual"].to_numpy(dtype=float), table, np.arange(len(table)))
    table = table.assign(
        gap=gap, gap_share=gap / table["target"].abs().where(table["target"] != 0),
        shortfall=(-gap).clip(lower=0) / span, movement=(gap - previous_gap) / span, status=status_of(score))
    table.loc[table["polarity"] == Polarity.WITHIN_RANGE.value, "gap_share"] = np.nan
    return _with_recent(table, grouped, recent)[KPI_ACTUAL_COLUMNS]


def _with_recent(table: pd.DataFrame, grouped: pd.DataFrame, periods: list[str]) -> pd.DataFrame:
    """`table` with `recent`: each row's actual in `periods` (oldest first; NaN where it has none), as a tuple, from
    `grouped` (`_group_actuals` of those periods)."""
    history = grouped[grouped["period"].isin(periods)]
    wide = history.pivot_table(index=GROUP, columns="period", values="actual", aggfunc="first")
    wide = wide.reindex(columns=periods)
    recent = {key: tuple(row) for key, row in zip(wide.index, wide.to_numpy(dtype=float), strict=True)}
    empty = (math.nan,) * len(periods)
    keys = zip(*(table[column].astype(str) for column in GROUP), strict=True)
    return table.assign(recent=[recent.get(key, empty) for key in keys])


def attention(board: pd.DataFrame, short: int = ATTENTION_SHORT, movers: int = ATTENTION_MOVERS) -> pd.DataFrame:
    """What needs attention first, from `kpi_actuals` rows: the `short` KPIs furthest short of their target by weight ×
    shortfall, then the `movers` others that worsened most since the previous period (by weight × band widths, at
    least MOVED); `reason` says which ("short" or "worse"), `priority` the product."""
    ranked = board.assign(priority=board["weight"] * board["shortfall"])
    first = ranked[ranked["priority"] > 0].sort_values("priority", ascending=False, kind="stable").head(short)
    worse = ranked.drop(first.index).assign(priority=lambda f: -f["weight"] * f["movement"])
    worse = worse[worse["movement"] <= -MOVED].sort_values("priority", ascending=False, kind="stable").head(movers)
    return pd.concat([first.assign(reason="short"), worse.assign(reason="worse")])


def trends(scores: pd.DataFrame, level: str = "team") -> pd.DataFrame:
    """Weighted score per period (oldest first) and role, team or the organization: a long table for charts."""
    if level not in LEVELS:
        raise ValueError(f"unknown level '{level}'; choose one of {', '.join(LEVELS)}")
    table = roll_up(scores, LEVELS[level])
    table = table.assign(period=table["period"].astype(str))
    return table.assign(**{ORGANIZATION: ORGANIZATION}) if level == "organization" else table


# --- flags --------------------------------------------------------------------------------------------------------


def _trailing_run(flags: pd.DataFrame) -> pd.Series:
    """Per row of a wide boolean table (periods as columns, oldest first): how many last columns are True."""
    matrix = flags.to_numpy(dtype=bool)[:, ::-1]
    return pd.Series(np.cumprod(matrix, axis=1).sum(axis=1), index=flags.index)


def _group_stats(scores: pd.DataFrame, framework: Framework, upto: list[str]) -> pd.DataFrame:
    """Per team, role, KPI and period up to the review period: median, count, lowest and highest value, and the
    assignment's bands."""
    rows = scores[scores["period"].isin(upto)]
    stats = rows.groupby([*GROUP, "period"], observed=True, sort=False)["value"].agg(
        ["median", "count", "min", "max"]).reset_index()
    stats = stats.astype({c: str for c in [*GROUP, "period"]})
    bands = band_table(framework).drop_duplicates(["role", "kpi_id"])
    return stats.merge(bands, on=["role", "kpi_id"], how="left")


def _band_conditions(stats: pd.DataFrame) -> pd.DataFrame:
    """Per group and period: at or beyond stretch (too easy) and short of threshold (not met), polarity-aware."""
    sign = stats["polarity"].map({Polarity.HIGHER_IS_BETTER.value: 1.0, Polarity.LOWER_IS_BETTER.value: -1.0})
    within = stats["polarity"] == Polarity.WITHIN_RANGE.value
    floor = stats["threshold"].fillna(stats["target"])
    median = stats["median"]
    easy = (sign * median >= sign * stats["stretch"]) & stats["stretch"].notna()
    easy_range = (stats["min"] >= stats["range_low"]) & (stats["max"] <= stats["range_high"]) & (stats["count"] > 0)
    missed = (sign * median < sign * floor) & floor.notna()
    outer_low = stats["threshold_low"].fillna(stats["range_low"])
    outer_high = stats["threshold_high"].fillna(stats["range_high"])
    missed_range = (median < outer_low) | (median > outer_high)
    return stats.assign(too_easy=np.where(within, easy_range, easy), not_met=np.where(within, missed_range, missed))


def _objectives(framework: Framework) -> pd.DataFrame:
    """Per role and KPI: the objectives the assignment serves, as text."""
    rows = [(a.role, a.kpi.kpi, ", ".join(a.kpi.objectives)) for a in framework.assignments]
    return pd.DataFrame(rows, columns=["role", "kpi_id", "objective"]).drop_duplicates(["role", "kpi_id"])


def _fmt(value: float) -> str:
    """A value in a flag's message: four significant digits, never scientific notation (230,774 not 2.308e+05)."""
    if pd.isna(value):
        return "-"
    short = f"{value:.4g}"
    if "e" not in short:
        return short
    return f"{value:,.0f}" if abs(value) >= 1 else f"{value:.8f}".rstrip("0")


def _streak_flags(stats: pd.DataFrame, upto: list[str], n: int) -> pd.DataFrame:
    """target_too_easy and never_met rows for groups whose condition held for the last n periods running."""
    conditions = _band_conditions(stats)
    last = conditions[conditions["period"] == upto[-1]].set_index(GROUP)
    found = []
    for column, flag in (("too_easy", "target_too_easy"), ("not_met", "never_met")):
        wide = conditions.pivot_table(index=GROUP, columns="period", values=column, aggfunc="any", fill_value=False)
        run = _trailing_run(wide.reindex(columns=upto, fill_value=False).astype(bool))
        hit = last.loc[run[run >= n].index.intersection(last.index)]
        if hit.empty:
            continue
        within = hit["polarity"] == Polarity.WITHIN_RANGE.value
        runs = run.loc[hit.index]
        if flag == "target_too_easy":
            inside = ("every value inside the target range " + hit["range_low"].map(_fmt) + " to "
                      + hit["range_high"].map(_fmt))
            band = np.where(within, inside, "median at or beyond the stretch " + hit["stretch"].map(_fmt))
        else:
            band = np.where(within, "median outside the threshold range",
                            "median short of the threshold " + hit["threshold"].fillna(hit["target"]).map(_fmt))
        message = (pd.Series(band, index=hit.index) + " for " + runs.astype(str) + " periods running (median "
                   + hit["median"].map(_fmt) + " in " + upto[-1] + ")")
        found.append(pd.DataFrame({"flag": flag, "severity": "warning", "message": message}).reset_index())
    return pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=[*GROUP, "flag", "severity",
                                                                                    "message"])


def _data_flags(stats: pd.DataFrame, upto: list[str], n: int) -> pd.DataFrame:
    """no_data rows: groups without any value in the period (a warning when none in the last n periods)."""
    window = upto[-n:]
    counts = stats.pivot_table(index=GROUP, columns="period", values="count", aggfunc="sum", fill_value=0)
    counts = counts.reindex(columns=upto, fill_value=0)
    now, recent = counts[upto[-1]], counts[window].sum(axis=1)
    missing = counts.index[(now == 0).to_numpy()]
    none_recent = recent.loc[missing] == 0
    no_data = pd.DataFrame({
        "flag": "no_data",
        "severity": np.where(none_recent, "warning", "info"),
        "message": np.where(none_recent, f"no actual in the last {len(window)} period(s) ({', '.join(window)})",
                            f"no actual for {upto[-1]}"),
    }, index=missing)
    return no_data.reset_index()


def _band_span(bands: pd.DataFrame) -> pd.Series:
    """The width of each assignment's scoring zone: threshold to stretch (or the widest band pair available)."""
    pairs = [("threshold", "stretch"), ("threshold", "target"), ("target", "stretch"),
             ("threshold_low", "threshold_high"), ("range_low", "range_high")]
    span = pd.Series(np.nan, index=bands.index)
    for low, high in pairs:
        span = span.fillna((bands[high] - bands[low]).abs().replace(0, np.nan))
    return span


def _measured(rows: pd.DataFrame) -> pd.DataFrame:
    """The values as measured: where every member of a team's role has the same value in a period (a team-level
    value applied to each), one row stands for them."""
    keys = ["period", *GROUP]
    present = rows[rows["value"].notna()]
    shared = present.groupby(keys, observed=True)["value"].transform("nunique").eq(1)
    return pd.concat([present[~shared], present[shared].drop_duplicates(keys)])


def _not_judged(upto: list[str], n: int) -> pd.DataFrame:
    """not_judged rows: what a history of fewer than `n` periods up to the period cannot tell, and why."""
    if len(upto) >= n:
        return pd.DataFrame()
    held = f"{len(upto)} period{'s' if len(upto) != 1 else ''} ({', '.join(upto)})"
    messages = [f"target_too_easy and never_met need {n} periods running; the actuals hold only {held} up to "
                f"{upto[-1]}"]
    if len(upto) == 1:
        messages.append("no_variation across periods needs at least two periods; judged across people only")
    return pd.DataFrame({"team": "", "role": "", "kpi_id": "", "objective": "", "flag": "not_judged",
                         "severity": "info", "message": messages})


def _variation_flags(scores: pd.DataFrame, framework: Framework, window: list[str]) -> pd.DataFrame:
    """no_variation rows: groups with at least two values in the window whose standard deviation is below
    NO_VARIATION_SHARE of the band span (exactly constant values when the assignment has no bands)."""
    rows = _measured(scores[scores["period"].isin(window)])
    values = rows.groupby(GROUP, observed=True)["value"]
    spread = pd.concat([values.count().rename("n"), values.mean().rename("mean"), values.std(ddof=0).rename("std")],
                       axis=1).reset_index().astype({c: str for c in GROUP})
    bands = band_table(framework).drop_duplicates(["role", "kpi_id"])
    bands = bands.assign(span=_band_span(bands))[["role", "kpi_id", "span"]]
    spread = spread.merge(bands, on=["role", "kpi_id"], how="left")
    limit = (NO_VARIATION_SHARE * spread["span"]).fillna(0.0) + 1e-9 * np.maximum(1, spread["mean"].abs())
    flat = spread[(spread["n"] >= 2) & (spread["std"] <= limit)]
    span = window[0] if len(window) == 1 else f"{window[0]}-{window[-1]}"
    message = [f"the {int(n)} values of {span} hardly vary (mean {_fmt(mean)}, standard deviation {_fmt(std)}, "
               f"band span {_fmt(band)})" for n, mean, std, band in flat[["n", "mean", "std", "span"]].to_numpy()]
    return flat[GROUP].assign(flag="no_variation", severity="info", message=message)


def _all_red_flags(scores: pd.DataFrame, framework: Framework, label: str) -> pd.DataFrame:
    """objective_all_red rows: per team, objectives whose KPIs with data are all red in the period."""
    rows = scores[scores["period"] == label]
    status = roll_up(rows, GROUP).astype({c: str for c in GROUP})
    status = status[status["status"].astype(str) != "grey"]
    served = pd.DataFrame([(a.role, a.kpi.kpi, o) for a in framework.assignments for o in a.kpi.objectives],
                          columns=["role", "kpi_id", "objective"])
    linked = status.merge(served, on=["role", "kpi_id"])
    linked = linked.assign(red=linked["status"].astype(str) == "red")
    per = linked.groupby(["team", "objective"]).agg(all_red=("red", "all"), kpis=("kpi_id", lambda s: ", ".join(
        sorted(set(s)))))
    red = per[per["all_red"]].reset_index()
    return pd.DataFrame({
        "flag": "objective_all_red", "severity": "warning", "team": red["team"], "objective": red["objective"],
        "role": "", "kpi_id": "",
        "message": "objective " + red["objective"] + f": every KPI serving it is red in {label} (" + red["kpis"] + ")",
    })


def _framework_flags(framework: Framework) -> pd.DataFrame:
    """kpi_without_objective and role_without_development_kpi, one row per team of the role."""
    rows = []
    categories = {k.id: k.category for k in framework.kpis}
    for role in framework.roles:
        teams = role.teams or [""]
        for assignment in role.kpis:
            if not assignment.objectives:
                rows += [("kpi_without_objective", team, role.id, assignment.kpi,
                          f"assignment of {assignment.kpi} to {role.id} serves no objective") for team in teams]
        if not any(categories.get(a.kpi) is Category.DEVELOPMENT for a in role.kpis):
            rows += [("role_without_development_kpi", team, role.id, "",
                      f"role {role.id} has no learning and development KPI") for team in teams]
    frame = pd.DataFrame(rows, columns=["flag", "team", "role", "kpi_id", "message"])
    return frame.assign(severity="warning", objective="")


def review_flags(framework: Framework, scores: pd.DataFrame, period: str, n: int = 3,
                 teams: Sequence[str] | None = None) -> pd.DataFrame:
    """Every review flag for `period` (see the module docstring), warnings first, with a recommendation each.

    `scores` comes from `scoring.score_actuals` (its grid holds every assigned KPI, grey where data is missing);
    `n` is how many periods running make a streak and how far back "no data" looks;
    `teams` limits the flags to those teams (the framework flags included).
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    label, upto = _check_period(scores, period)
    stats = _group_stats(scores, framework, upto)
    parts = [_streak_flags(stats, upto, n), _data_flags(stats, upto, n), _variation_flags(scores, framework, upto)]
    data = pd.concat([p for p in parts if not p.empty], ignore_index=True) if any(not p.empty for p in parts) else (
        pd.DataFrame(columns=[*GROUP, "flag", "severity", "message"]))
    data = data.merge(_objectives(framework), on=["role", "kpi_id"], how="left")
    flags = pd.concat([data, _all_red_flags(scores, framework, label), _framework_flags(framework)],
                      ignore_index=True)
    if teams is not None:
        flags = flags[flags["team"].isin(list(teams))]
    gaps = _not_judged(upto, n)
    if not gaps.empty:
        flags = pd.concat([flags, gaps], ignore_index=True)
    flags = flags.assign(recommendation=flags["flag"].map(RECOMMENDATIONS), objective=flags["objective"].fillna(""))
    flags["severity"] = pd.Categorical(flags["severity"], categories=list(SEVERITIES), ordered=True)
    flags = flags.sort_values(["severity", "flag", "team", "role", "kpi_id"], kind="stable")
    return flags[FLAG_COLUMNS].reset_index(drop=True)


def format_flags(flags: pd.DataFrame) -> str:
    """A readable list of flags grouped by flag, with the recommendation once per group."""
    if flags.empty:
        return "No flags: nothing to change this period.\n"
    lines = [f"{len(flags)} flag(s): " + ", ".join(f"{n} {f}" for f, n in flags["flag"].value_counts().items())]
    for flag, rows in flags.groupby("flag", sort=False):
        lines += ["", f"{flag} ({rows['severity'].iloc[0]}): {RECOMMENDATIONS[flag]}"]
        for row in rows.itertuples():
            where = "/".join(part for part in (row.team, row.role, row.kpi_id) if part)
            lines.append(f"  - {where}: {row.message}")
    return "\n".join(lines) + "\n"
