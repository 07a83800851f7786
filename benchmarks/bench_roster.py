"""Benchmark of `compute` on an HRIS roster: person-intervals over monthly periods, against hand-written DuckDB SQL.

    .venv/bin/python benchmarks/bench_roster.py [--rows 1000000] [--repeat 3]

Writes a roster of `rows` employment spells (hire and termination dates, a blank termination date for people still
employed) over 40 months as Parquet, then in each repeat computes headcount at month end, average headcount,
leavers and turnover per team with kpi_workbook.analysis.measures.compute (DuckDB backend, team values only) and the
same values with one hand-written DuckDB query, each in a fresh process of its own (alternating the order) so that
time and peak RSS are each side's own; checks the values agree and prints the median times, the ratio and each
side's peak RSS. Goal: ratio <= 1.2, peak RSS <= 2 GB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from kpi_workbook.analysis.measures import compute
from kpi_workbook.core.model import Framework, KpiDefinition, Metadata, Objective, Role, RoleKpi, Team
from kpi_workbook.workspace.files import load_framework, save_framework

TEAMS = [f"team_{i:02d}" for i in range(20)]
FIRST, LAST = dt.date(2022, 1, 1), dt.date(2025, 4, 30)  # 40 months
LEAVERS = {"source": "roster", "function": "count", "date": "left_on"}
AVERAGE = {"source": "roster", "function": "headcount", "at": "average"}
MEASURES = {
    "headcount": ("people", {"aggregate": {"source": "roster", "function": "headcount", "at": "end"}, "per": "team"}),
    "average_headcount": ("people", {"aggregate": AVERAGE, "per": "team"}),
    "leavers": ("people", {"aggregate": LEAVERS, "per": "team"}),
    "turnover": ("%", {"ratio": {"numerator": LEAVERS, "denominator": AVERAGE}, "per": "team", "scale": 100}),
}
SOURCES = f"""sources:
- name: roster
  file: roster.parquet
  start: hired_on
  end: left_on
  as_of: {LAST.isoformat()}
  team: team
"""
HAND_WRITTEN = """
WITH months AS (
    SELECT strftime(m, '%Y-%m') AS period, m::DATE AS first_day,
           (m + INTERVAL 1 MONTH - INTERVAL 1 DAY)::DATE AS last_day
    FROM range(DATE '{first}', DATE '{last}' + INTERVAL 1 DAY, INTERVAL 1 MONTH) t(m)
), days AS (
    SELECT period, first_day AS day, 0.5 AS w, 0.0 AS e FROM months
    UNION ALL SELECT period, last_day, 0.5, 1.0 FROM months
), heads AS (
    SELECT period, team, sum(w) AS average_headcount, sum(e) AS headcount
    FROM read_parquet('{path}') r JOIN days ON r.hired_on <= days.day AND (r.left_on IS NULL OR r.left_on >= days.day)
    GROUP BY ALL
), gone AS (
    SELECT strftime(left_on, '%Y-%m') AS period, team, count(*) AS leavers FROM read_parquet('{path}')
    WHERE left_on BETWEEN DATE '{first}' AND DATE '{last}' GROUP BY ALL
), grid AS (SELECT period, team FROM months, (SELECT unnest({teams}) AS team))
SELECT grid.period, grid.team, coalesce(headcount, 0) AS headcount,
       coalesce(average_headcount, 0) AS average_headcount, coalesce(leavers, 0) AS leavers,
       100 * coalesce(leavers, 0) / nullif(coalesce(average_headcount, 0), 0) AS turnover
FROM grid LEFT JOIN heads USING (period, team) LEFT JOIN gone USING (period, team)
"""


def write_roster(path: Path, rows: int) -> None:
    """Spells hired from 5 years before the first month on; 40 % left, some before the period, some after."""
    rng = np.random.default_rng(7)
    hired = pd.Timestamp(FIRST) - pd.to_timedelta(rng.integers(0, 1800, rows), unit="D")
    hired = hired + pd.to_timedelta(rng.integers(0, 1200, rows), unit="D")
    left = hired + pd.to_timedelta(rng.integers(0, 1500, rows), unit="D")
    gone = (rng.random(rows) < 0.4) & (left.date <= np.datetime64(LAST))
    frame = pd.DataFrame({"team": rng.choice(TEAMS, rows), "hired_on": hired.date,
                          "left_on": pd.Series(left.date).where(gone, None)})
    frame = frame[frame["hired_on"] <= LAST]
    duckdb.from_df(frame).write_parquet(str(path))


def write_workspace(root: Path, rows: int) -> None:
    kpis = [KpiDefinition(id=k, name=k, unit=unit, polarity="lower_is_better", category="output",
                          indicator="lagging", frequency="monthly", measure=m) for k, (unit, m) in MEASURES.items()]
    role = Role(id="manager", title="Manager", teams=TEAMS,
                kpis=[RoleKpi(kpi=k.id, weight=100 / len(kpis), target=1) for k in kpis])
    save_framework(Framework(metadata=Metadata(organization="Bench"), objectives=[Objective(
        id="keep", title="Keep people", perspective="learning_growth")], teams=[Team(id=t, name=t) for t in TEAMS],
        kpis=kpis, roles=[role]), root)
    (root / "employees.csv").write_text("employee_id,name,team,role\nM1,M,team_00,manager\n", encoding="utf-8")
    (root / "sources.yaml").write_text(SOURCES, encoding="utf-8")
    write_roster(root / "roster.parquet", rows)


def run_side(side: str, root: Path, out: Path) -> None:
    """One side in this process: its values to `out` (Parquet), then its time and peak RSS on stdout."""
    started = time.perf_counter()
    if side == "compute":
        framework = load_framework(root)
        result = compute(root, framework, pd.DataFrame({"employee_id": ["M1"], "name": ["M"], "team": ["team_00"],
                                                         "role": ["manager"]}), span=(FIRST, LAST), scopes=False)
        values = result.values.astype({"period": str, "team": str, "kpi_id": str})
        frame = values.pivot_table(index=["period", "team"], columns="kpi_id", values="value").reset_index()
    else:
        sql = HAND_WRITTEN.format(path=root / "roster.parquet", first=FIRST, last=LAST, teams=TEAMS)
        frame = duckdb.sql(sql).df()
    seconds = time.perf_counter() - started
    frame.to_parquet(out)
    print(json.dumps({"seconds": seconds, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--side", choices=["compute", "hand"], help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        run_side(args.side, args.root, args.out)
        return
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        write_workspace(root, args.rows)
        times: dict[str, list[float]] = {"compute": [], "hand": []}
        rss: dict[str, float] = {}
        for repeat in range(args.repeat):
            for side in (["compute", "hand"] if repeat % 2 == 0 else ["hand", "compute"]):
                done = subprocess.run([sys.executable, __file__, "--side", side, "--root", str(root), "--out",
                                       str(root / f"{side}.parquet")], capture_output=True, text=True, check=True)
                figures = json.loads(done.stdout.strip().splitlines()[-1])
                times[side].append(figures["seconds"])
                rss[side] = max(rss.get(side, 0.0), figures["rss_mb"])
        ours = pd.read_parquet(root / "compute.parquet").sort_values(["period", "team"]).reset_index(drop=True)
        hand = pd.read_parquet(root / "hand.parquet").sort_values(["period", "team"]).reset_index(drop=True)
        for kpi in MEASURES:
            assert np.allclose(ours[kpi], hand[kpi], rtol=1e-12, equal_nan=True), f"{kpi} differs"
        assert len(ours) == len(hand) == 40 * len(TEAMS), (len(ours), len(hand))
    median = {side: statistics.median(t) for side, t in times.items()}
    print(f"roster of {args.rows:,} spells × 40 months × {len(TEAMS)} teams, {len(MEASURES)} KPIs; values equal")
    print(f"compute {median['compute']:.2f} s, hand-written SQL {median['hand']:.2f} s (medians of {args.repeat}); "
          f"ratio {median['compute'] / median['hand']:.2f} (goal <= 1.2)")
    print(f"peak RSS: compute {rss['compute']:.0f} MB, hand-written SQL {rss['hand']:.0f} MB (goal <= 2048 MB)")


if __name__ == "__main__":
    main()
