"""Benchmark of `compute`: order lines of many employees over 10 quarters, every measure kind, against hand-written SQL.

    .venv/bin/python benchmarks/bench_compute.py [--rows 1000000] [--employees 100000] [--repeat 1]

Writes the order lines as Parquet, computes every measure with kpi_workbook.analysis.measures.compute (DuckDB
backend) and the same values with one hand-written DuckDB SQL query per measure in the same run, checks they agree,
and prints both median times, their ratio and the peak RSS. Goal: ratio <= 1.2, peak RSS <= 2 GB.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from kpi_workbook.analysis.measures import compute
from kpi_workbook.core.model import Framework, KpiDefinition, Metadata, Objective, Role, RoleKpi, Team
from kpi_workbook.workspace.files import save_framework

TEAMS = [f"team_{i:02d}" for i in range(10)]
WON, CLOSED = "status == 'won'", "status in ('won', 'lost')"
MEASURES = {
    "revenue": ("currency", {"aggregate": {"source": "orders", "function": "sum", "column": "amount", "where": WON}}),
    "orders": ("count", {"aggregate": {"source": "orders", "function": "count"}}),
    "customers": ("count", {"aggregate": {"source": "orders", "function": "count_distinct", "column": "customer"}}),
    "mean_order": ("currency", {"aggregate": {"source": "orders", "function": "mean", "column": "amount"}}),
    "median_order": ("currency", {"aggregate": {"source": "orders", "function": "median", "column": "amount"}}),
    "smallest_order": ("currency", {"aggregate": {"source": "orders", "function": "min", "column": "amount"}}),
    "largest_order": ("currency", {"aggregate": {"source": "orders", "function": "max", "column": "amount"}}),
    "win_rate": ("%", {"ratio": {"numerator": {"source": "orders", "function": "count", "where": WON},
                                 "denominator": {"source": "orders", "function": "count", "where": CLOSED}},
                       "scale": 100}),
    "days_to_ship": ("days", {"duration": {"source": "orders", "start": "ordered_on", "end": "shipped_on"}}),
    "revenue_per_order": ("currency", {"derived": "revenue / orders"}),
}
HAND_WRITTEN = """
SELECT year(ordered_on) AS y, quarter(ordered_on) AS q, team, employee,
    coalesce(sum(amount) FILTER (WHERE status = 'won'), 0) AS revenue,
    count(*) AS orders,
    count(DISTINCT customer) AS customers,
    avg(amount) AS mean_order,
    median(amount) AS median_order,
    min(amount) AS smallest_order,
    max(amount) AS largest_order,
    100 * count(*) FILTER (WHERE status = 'won') / nullif(count(*) FILTER (WHERE status IN ('won', 'lost')), 0)
        AS win_rate,
    median(date_diff('day', ordered_on, shipped_on)::DOUBLE) FILTER (WHERE shipped_on IS NOT NULL) AS days_to_ship,
    coalesce(sum(amount) FILTER (WHERE status = 'won'), 0) / count(*) AS revenue_per_order
FROM read_parquet('{path}') GROUP BY ALL
"""


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_orders(path: Path, rows: int, employees: int, seed: int = 7) -> None:
    """Order lines of `employees` people over 2023Q1-2025Q2, written as Parquet in row groups."""
    rng = np.random.default_rng(seed)
    first = np.datetime64("2023-01-01")
    days = (np.datetime64("2025-07-01") - first).astype(int)
    chunk = 2_000_000
    writer = None
    for start in range(0, rows, chunk):
        n = min(chunk, rows - start)
        person = rng.integers(0, employees, n)
        ordered = first + rng.integers(0, days, n).astype("timedelta64[D]")
        shipped = ordered + rng.integers(0, 30, n).astype("timedelta64[D]")
        status = rng.choice(np.array(["won", "lost", "open"]), n, p=[0.5, 0.3, 0.2])
        table = pa.table({
            "employee": pa.array(np.char.add("E", np.char.zfill(person.astype(str), 6))),
            "team": pa.array(np.array(TEAMS)[person % len(TEAMS)]),
            "customer": rng.integers(0, 50_000, n),
            "status": pa.array(status),
            "amount": np.round(rng.gamma(2.0, 400.0, n), 2),
            "ordered_on": pa.array(ordered.astype("datetime64[D]"), pa.date32()),
            "shipped_on": pa.array(np.where(status == "open", np.datetime64("NaT"), shipped).astype("datetime64[D]"),
                                   pa.date32()),
        })
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    writer.close()


def write_workspace(root: Path, employees: int) -> tuple[Framework, pd.DataFrame]:
    kpis = [KpiDefinition(id=k, name=k.replace("_", " ").capitalize(), unit=u, polarity="higher_is_better",
                          category="output", indicator="lagging", frequency="quarterly", measure=m)
            for k, (u, m) in MEASURES.items()]
    framework = Framework(
        metadata=Metadata(organization="Benchmark Ltd"),
        objectives=[Objective(id="grow", title="Grow", perspective="financial")],
        teams=[Team(id=t, name=t) for t in TEAMS], kpis=kpis,
        roles=[Role(id="seller", title="Seller", teams=TEAMS,
                    kpis=[RoleKpi(kpi=k.id, weight=10, target=1) for k in kpis])])
    save_framework(framework, root)
    ids = np.arange(employees)
    people = pd.DataFrame({"employee_id": np.char.add("E", np.char.zfill(ids.astype(str), 6)), "name": "x",
                           "team": np.array(TEAMS)[ids % len(TEAMS)], "role": "seller"})
    people.to_csv(root / "employees.csv", index=False)
    (root / "sources.yaml").write_text(
        "sources:\n- name: orders\n  file: orders.parquet\n  when: ordered_on\n  employee: employee\n  team: team\n"
        "  columns: {customer: integer, status: text, amount: number, shipped_on: date}\n", encoding="utf-8")
    return framework, people


def hand_written(path: Path) -> pd.DataFrame:
    con = duckdb.connect()
    try:
        return con.execute(HAND_WRITTEN.format(path=str(path).replace("'", "''"))).df()
    finally:
        con.close()


def check(result, expected: pd.DataFrame) -> None:
    """The computed values equal the hand-written SQL's, KPI by KPI."""
    expected = expected.assign(period=expected["y"].astype(str) + "Q" + expected["q"].astype(str))
    long = expected.melt(id_vars=["period", "team", "employee"], value_vars=list(MEASURES), var_name="kpi_id")
    long = long.dropna(subset=["value"]).rename(columns={"employee": "employee_id"})
    merged = long.merge(result.values, on=["period", "team", "employee_id", "kpi_id"], how="outer",
                        suffixes=("_sql", "_computed"))
    assert len(merged) == len(long) == len(result.values), (len(merged), len(long), len(result.values))
    assert np.allclose(merged["value_sql"], merged["value_computed"], rtol=1e-9), "values differ"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-compute-") as folder:
        root = Path(folder)
        started = time.perf_counter()
        write_orders(root / "orders.parquet", args.rows, args.employees)
        framework, people = write_workspace(root, args.employees)
        print(f"{args.rows:,} order lines of {args.employees:,} employees written in "
              f"{time.perf_counter() - started:.1f} s")
        ours, theirs = [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            result = compute(root, framework, people)
            ours.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            expected = hand_written(root / "orders.parquet")
            theirs.append(time.perf_counter() - t0)
        check(result, expected)
    a, b = statistics.median(ours), statistics.median(theirs)
    print(f"compute (ibis, every measure kind): median {a:.2f} s over {args.repeat} run(s), "
          f"{len(result.values):,} values")
    print(f"hand-written DuckDB SQL:            median {b:.2f} s")
    print(f"ratio {a / b:.2f} (goal <= 1.2); peak RSS {peak_rss_mb():,.0f} MB (goal <= 2048)")


if __name__ == "__main__":
    main()
