"""Scoring benchmark: score_actuals + roll_up on ~10M actuals against a hand-written DuckDB SQL query.

By default the data comes from the sample organization's framework and its generator
(``kpi_workbook.sample.generate_employees`` / ``generate_actuals``), with as many employees as the roles'
KPI counts need to reach ``--rows`` (employees × assigned KPIs × periods). ``--source synthetic`` builds
instead a framework whose roles each have 10 KPIs (all three polarities; one role has a team-level KPI),
100,000 employees and 10 quarters, with 2 % of the person values missing. Both sides compute the weighted
score and coverage per employee, team and organization and period from the same DataFrames; the script
checks that they agree, and prints the median time of each over ``--repeat`` runs, their ratio and the
peak resident memory of the process.

    .venv/bin/python benchmarks/bench_scoring.py [--rows 10000000] [--repeat 3] [--source sample|synthetic]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from collections.abc import Callable

import duckdb
import numpy as np
import pandas as pd

from kpi_workbook.analysis.scoring import ScoringConfig, band_table, roll_up, score_actuals
from kpi_workbook.core.model import (
    Category,
    Framework,
    Indicator,
    KpiDefinition,
    Metadata,
    Polarity,
    Role,
    RoleKpi,
    Team,
)
from kpi_workbook.core.periods import sort_periods

KPIS_PER_ROLE = 10
TEAMS = ["sales", "marketing", "hr", "operations", "it", "finance", "customer_support", "product"]
TEAM_KPI = "team_engagement"

FLOOR_SQL = """
CREATE OR REPLACE TEMP MACRO ramp(x, t, g, s) AS
  CASE
    WHEN x IS NULL OR g IS NULL THEN NULL
    WHEN x >= g THEN least($cap, $target_score + (x - g) *
         CASE WHEN s > g THEN ($stretch_score - $target_score) / (s - g) ELSE 0 END)
    WHEN x >= CASE WHEN t IS NULL OR t > g THEN g ELSE t END
         THEN $threshold_score + (x - t) * ($target_score - $threshold_score) / (g - t)
    ELSE $floor
  END;
WITH periods AS (SELECT DISTINCT period FROM actuals),
grid AS (
  SELECT p.period, e.team, e.employee_id, b.kpi_id, b.polarity, b.weight, b.threshold, b.target, b.stretch,
         b.range_low, b.range_high, b.threshold_low, b.threshold_high
  FROM employees e JOIN bands b ON b.role = e.role CROSS JOIN periods p
),
person AS (SELECT period, employee_id, kpi_id, value FROM actuals WHERE coalesce(employee_id, '') <> ''),
team_level AS (SELECT period, team, kpi_id, value FROM actuals WHERE coalesce(employee_id, '') = ''),
valued AS (
  SELECT g.*, coalesce(a.value, t.value) AS value
  FROM grid g
  LEFT JOIN person a ON a.period = g.period AND a.employee_id = g.employee_id AND a.kpi_id = g.kpi_id
  LEFT JOIN team_level t ON t.period = g.period AND t.team = g.team AND t.kpi_id = g.kpi_id
),
scored AS (
  SELECT period, team, employee_id, weight,
    CASE polarity
      WHEN 'higher_is_better' THEN ramp(value, threshold, target, stretch)
      WHEN 'lower_is_better' THEN ramp(-value, -threshold, -target, -stretch)
      WHEN 'within_range' THEN least(ramp(value, threshold_low, range_low, NULL),
                                     ramp(-value, -threshold_high, -range_high, NULL))
    END AS score
  FROM valued
)
SELECT period::VARCHAR AS period, team::VARCHAR AS team, employee_id::VARCHAR AS employee_id,
       grouping(team, employee_id) AS level,
       sum(weight * score) / nullif(sum(weight) FILTER (WHERE score IS NOT NULL), 0) AS score,
       sum(weight) FILTER (WHERE score IS NOT NULL) / sum(weight) AS coverage
FROM scored
GROUP BY GROUPING SETS ((period, employee_id), (period, team), (period))
"""


def synthetic_framework() -> Framework:
    """Ten roles of ten KPIs each (weight 10 each): higher, lower and within-range KPIs; role0 has a team-level KPI."""
    kpis = [KpiDefinition(id=TEAM_KPI, name="Team engagement", polarity=Polarity.HIGHER_IS_BETTER,
                          category=Category.BEHAVIOUR, indicator=Indicator.LEADING)]
    polarities = [Polarity.HIGHER_IS_BETTER] * 6 + [Polarity.LOWER_IS_BETTER] * 3 + [Polarity.WITHIN_RANGE]
    for family in range(4):
        kpis += [KpiDefinition(id=f"k{family}_{i}", name=f"KPI {family}.{i}", polarity=polarity,
                               category=Category.OUTPUT, indicator=Indicator.LAGGING)
                 for i, polarity in enumerate(polarities)]
    bands = {
        Polarity.HIGHER_IS_BETTER: {"threshold": 80, "target": 100, "stretch": 120},
        Polarity.LOWER_IS_BETTER: {"threshold": 120, "target": 100, "stretch": 80},
        Polarity.WITHIN_RANGE: {"target_range": (40, 60), "threshold_range": (30, 70)},
    }
    roles = []
    for r in range(10):
        assigned = [RoleKpi(kpi=f"k{r % 4}_{i}", weight=10, **bands[polarity]) for i, polarity in enumerate(polarities)]
        if r == 0:
            assigned[0] = RoleKpi(kpi=TEAM_KPI, weight=10, threshold=60, target=75, stretch=90)
        roles.append(Role(id=f"role{r}", title=f"Role {r}", teams=[TEAMS[r % len(TEAMS)]], kpis=assigned))
    teams = [Team(id=t, name=t.title()) for t in TEAMS]
    return Framework(metadata=Metadata(organization="Benchmark"), teams=teams, kpis=kpis, roles=roles)


def synthetic_data(framework: Framework, employees: int, periods: list[str], missing: float = 0.02,
                   seed: int = 7) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Employees and long-format actuals (categoricals), a share `missing` of person values left out."""
    rng = np.random.default_rng(seed)
    roles = pd.Index([r.id for r in framework.roles])
    role = rng.integers(0, len(roles), employees)
    role_team = np.array([TEAMS.index(r.teams[0]) for r in framework.roles])
    team = role_team[role]
    ids = pd.Index([f"E{i:06d}" for i in range(employees)])
    people = pd.DataFrame({"employee_id": ids, "name": ids, "team": np.array(TEAMS)[team], "role": roles[role]})

    bands = band_table(framework)
    kpi_ids = pd.Index(pd.unique(bands["kpi_id"]))
    person = bands[bands["kpi_id"] != TEAM_KPI].reset_index(drop=True)
    per_role = np.bincount(roles.get_indexer(person["role"]), minlength=len(roles))
    first = np.cumsum(per_role) - per_role
    emp = np.repeat(np.arange(employees), per_role[role])
    band = first[role[emp]] + np.arange(emp.size) - np.repeat(np.cumsum(per_role[role]) - per_role[role],
                                                              per_role[role])
    center = person["target"].fillna((person["range_low"] + person["range_high"]) / 2).to_numpy()
    kpi_of_band = kpi_ids.get_indexer(person["kpi_id"]).astype(np.int16)
    team_teams = np.unique(role_team[roles.get_indexer(bands.loc[bands["kpi_id"] == TEAM_KPI, "role"])])
    frames = []
    for p in range(len(periods)):
        keep = rng.random(emp.size) >= missing
        frames.append(pd.DataFrame({
            "period": np.int8(p), "team": team[emp[keep]].astype(np.int8), "employee_id": emp[keep].astype(np.int32),
            "kpi_id": kpi_of_band[band[keep]], "value": center[band[keep]] * rng.normal(1.0, 0.2, keep.sum()),
        }))
        frames.append(pd.DataFrame({
            "period": np.int8(p), "team": team_teams.astype(np.int8), "employee_id": np.int32(-1),
            "kpi_id": np.int16(kpi_ids.get_loc(TEAM_KPI)), "value": rng.normal(75, 12, team_teams.size),
        }))
    codes = pd.concat(frames, ignore_index=True)
    actuals = pd.DataFrame({
        "period": pd.Categorical.from_codes(codes["period"], categories=periods),
        "team": pd.Categorical.from_codes(codes["team"], categories=TEAMS),
        "employee_id": pd.Categorical.from_codes(codes["employee_id"], categories=ids),
        "kpi_id": pd.Categorical.from_codes(codes["kpi_id"], categories=kpi_ids),
        "value": codes["value"].to_numpy(),
    })
    return people, actuals


def sample_data(rows: int, periods: int) -> tuple[Framework, pd.DataFrame, pd.DataFrame]:
    """The sample organization's framework, with employees and actuals from its generator."""
    from kpi_workbook.core.paths import SAMPLE_ORG_DIR
    from kpi_workbook.sample import generate_actuals, generate_employees, quarter_labels
    from kpi_workbook.workspace.files import load_framework

    framework = load_framework(SAMPLE_ORG_DIR)
    per_role = {r.id: len(r.kpis) for r in framework.roles}
    probe = generate_employees(framework, 1000, seed=1)
    mean_kpis = probe["role"].map(per_role).mean()
    people = generate_employees(framework, int(rows / periods / mean_kpis), seed=1)
    actuals = generate_actuals(framework, people, quarter_labels("2024Q1", periods), seed=1)
    return framework, people, actuals


def ours(actuals: pd.DataFrame, people: pd.DataFrame, framework: Framework,
         config: ScoringConfig) -> dict[str, pd.DataFrame]:
    """The package: score_actuals, then roll-ups per employee, team and organization."""
    scores = score_actuals(actuals, people, framework, config)
    return {"employee": roll_up(scores, ("employee_id",), config), "team": roll_up(scores, ("team",), config),
            "organization": roll_up(scores, (), config)}


def floor(actuals: pd.DataFrame, people: pd.DataFrame, framework: Framework,
          config: ScoringConfig) -> dict[str, pd.DataFrame]:
    """The same roll-ups from one hand-written DuckDB query over the same DataFrames."""
    sql = FLOOR_SQL
    for name in ("floor", "threshold_score", "target_score", "stretch_score", "cap"):
        sql = sql.replace(f"${name}", repr(float(getattr(config, name))))
    with duckdb.connect() as con:
        con.register("actuals", actuals)
        con.register("employees", people)
        con.register("bands", band_table(framework))
        macro, query = sql.split(";", 1)
        con.execute(macro)
        result = con.sql(query).df()
    level = result.pop("level")
    return {"employee": result[level == 2].drop(columns="team"), "team": result[level == 1].drop(columns="employee_id"),
            "organization": result[level == 3].drop(columns=["team", "employee_id"])}


def check_agreement(mine: dict[str, pd.DataFrame], theirs: dict[str, pd.DataFrame]) -> float:
    """Largest difference in score or coverage between the two results; raises if rows differ."""
    worst = 0.0
    for level, frame in mine.items():
        keys = [c for c in frame.columns if c not in ("score", "coverage", "status")]
        left = frame[[*keys, "score", "coverage"]].astype({k: str for k in keys})
        both = left.merge(theirs[level], on=keys, how="outer", suffixes=("", "_sql"), indicator=True)
        if (both["_merge"] != "both").any() or len(both) != len(frame):
            raise SystemExit(f"{level}: the two results have different rows")
        for column in ("score", "coverage"):
            a, b = both[column].to_numpy(), both[f"{column}_sql"].to_numpy()
            if not np.array_equal(np.isnan(a), np.isnan(b)):
                raise SystemExit(f"{level}: {column} is missing on one side only")
            worst = max(worst, float(np.nanmax(np.abs(a - b), initial=0.0)))
    return worst


def timed(function: Callable[[], dict[str, pd.DataFrame]], repeat: int) -> tuple[float, dict[str, pd.DataFrame]]:
    """Median wall time of `repeat` runs and the last result."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000, help="employees × KPIs × periods to score")
    parser.add_argument("--periods", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--source", choices=["sample", "synthetic"], default="sample")
    args = parser.parse_args(argv)
    config = ScoringConfig()

    start = time.perf_counter()
    if args.source == "sample":
        framework, people, actuals = sample_data(args.rows, args.periods)
    else:
        framework = synthetic_framework()
        labels = sort_periods(f"{2020 + q // 4}Q{q % 4 + 1}" for q in range(args.periods))
        people, actuals = synthetic_data(framework, max(1, args.rows // (KPIS_PER_ROLE * args.periods)), labels)
    print(f"data: {len(people):,} employees, {len(actuals):,} actual rows, {args.periods} periods "
          f"({time.perf_counter() - start:.1f} s to generate)")

    ours_time, mine = timed(lambda: ours(actuals, people, framework, config), args.repeat)
    floor_time, theirs = timed(lambda: floor(actuals, people, framework, config), args.repeat)
    difference = check_agreement(mine, theirs)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    scored = len(score_actuals(actuals.head(0), people, framework, config, periods=actuals["period"].unique()))
    print(f"scored rows: {scored:,}; employee roll-up rows: {len(mine['employee']):,}")
    print(f"score_actuals + roll_up: {ours_time:.2f} s (median of {args.repeat})")
    print(f"hand-written DuckDB SQL: {floor_time:.2f} s (median of {args.repeat})")
    print(f"ratio: {ours_time / floor_time:.2f} (goal <= 1.5)")
    print(f"results agree: largest difference {difference:.2e}")
    print(f"peak RSS: {peak_mb:,.0f} MB (goal <= 3072 MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
