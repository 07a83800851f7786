"""Benchmark of `compute`: order lines of many employees over 10 quarters, every measure kind, against hand-written SQL.

    .venv/bin/python benchmarks/bench_compute.py [--rows 1000000] [--employees 100000] [--repeat 3]

Writes the order lines as Parquet, then in each repeat computes every measure with
kpi_workbook.analysis.measures.compute (DuckDB backend, team and employee values) and the same values with
hand-written DuckDB SQL, zeros of each employee's quarters without orders included: one query giving a wide frame of
the values only, and one giving what compute gives (a row per value with its number of source
rows), each in a fresh process of its own (alternating the order) so that time and peak RSS are each side's own;
checks the values (and source rows) agree and prints the median times, the ratios and each side's peak RSS.
Goal: ratio <= 1.2, peak RSS <= 2 GB.

The sides of a round run within seconds of each other, so the median of the rounds' own ratios is also printed: on a
machine whose speed drifts during the run it moves less than the ratio of the medians.
"""

from __future__ import annotations

import argparse
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
import pyarrow as pa
import pyarrow.parquet as pq

from kpi_workbook.analysis.measures import compute
from kpi_workbook.core.model import Framework, KpiDefinition, Metadata, Objective, Role, RoleKpi, Team
from kpi_workbook.workspace.files import load_framework, save_framework

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
#: Every employee's groups from the quarter of their first order on: a quarter without orders is a group too, where
#: sums and counts are 0 (as compute gives them) and the other measures have no value.
SPINE = """
quarters AS (SELECT year(d) AS y, quarter(d) AS q
             FROM range(DATE '2023-01-01', DATE '2025-07-01', INTERVAL 3 MONTH) t(d)),
firsts AS (SELECT team, employee, min(y * 4 + q) AS first FROM grouped GROUP BY ALL),
grid AS (SELECT quarters.y, quarters.q, team, employee
         FROM firsts JOIN quarters ON quarters.y * 4 + quarters.q >= first)
"""
HAND_WRITTEN = """
WITH grouped AS (
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
    FROM read_parquet('{path}') GROUP BY ALL),
""" + SPINE + """
SELECT grid.y, grid.q, grid.team, grid.employee, coalesce(revenue, 0) AS revenue, coalesce(orders, 0) AS orders,
    coalesce(customers, 0) AS customers, mean_order, median_order, smallest_order, largest_order, win_rate,
    days_to_ship, revenue_per_order
FROM grid LEFT JOIN grouped USING (y, q, team, employee)
"""
#: The same values with what compute gives besides them: one row per value (no-data groups left out) with the number
#: of source rows it uses, as compute's result and the store hold them.
HAND_WRITTEN_LONG = """
WITH grouped AS (
    SELECT year(ordered_on) AS y, quarter(ordered_on) AS q, team, employee,
        coalesce(sum(amount) FILTER (WHERE status = 'won'), 0) AS revenue,
        count(amount) FILTER (WHERE status = 'won') AS revenue_rows,
        count(*) AS orders, count(DISTINCT customer) AS customers, count(customer) AS customers_rows,
        avg(amount) AS mean_order, median(amount) AS median_order, min(amount) AS smallest_order,
        max(amount) AS largest_order, count(amount) AS amount_rows,
        count(*) FILTER (WHERE status = 'won') AS won, count(*) FILTER (WHERE status IN ('won', 'lost')) AS closed,
        median(date_diff('day', ordered_on, shipped_on)::DOUBLE) FILTER (WHERE shipped_on IS NOT NULL)
            AS days_to_ship,
        count(*) FILTER (WHERE shipped_on IS NOT NULL) AS days_to_ship_rows
    FROM read_parquet('{path}') GROUP BY ALL),
""" + SPINE + """,
measured AS (
    SELECT grid.y::VARCHAR || 'Q' || grid.q::VARCHAR AS period, grid.team, grid.employee AS employee_id,
        coalesce(revenue, 0) AS revenue, coalesce(revenue_rows, 0) AS revenue_rows,
        coalesce(orders, 0)::DOUBLE AS orders, coalesce(orders, 0) AS orders_rows,
        coalesce(customers, 0)::DOUBLE AS customers, coalesce(customers_rows, 0) AS customers_rows,
        mean_order, amount_rows AS mean_order_rows, median_order, amount_rows AS median_order_rows, smallest_order,
        amount_rows AS smallest_order_rows, largest_order, amount_rows AS largest_order_rows,
        100 * won / nullif(closed, 0) AS win_rate, won + closed AS win_rate_rows, days_to_ship, days_to_ship_rows,
        revenue / orders AS revenue_per_order, 2 AS revenue_per_order_rows
    FROM grid LEFT JOIN grouped USING (y, q, team, employee))
SELECT * FROM (UNPIVOT measured ON {pairs} INTO NAME kpi_id VALUE value, source_rows) WHERE value IS NOT NULL
"""


def peak_rss_mb() -> float:
    """The peak resident memory of this process so far, in MB."""
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


def run_ours(root: Path, out: Path | None) -> dict:
    """Time `compute` on the workspace (framework and employees read before the clock starts), team and employee
    values only: the hand-written SQL computes no department or organization values."""
    framework = load_framework(root)
    people = pd.read_csv(root / "employees.csv", dtype=str)
    started = time.perf_counter()
    result = compute(root, framework, people, scopes=False)
    seconds, rss = time.perf_counter() - started, peak_rss_mb()
    if out is not None:
        result.values.to_parquet(out)
    return {"seconds": seconds, "peak_rss_mb": rss, "values": len(result.values)}


def run_hand_written(root: Path, out: Path | None) -> dict:
    """Time the hand-written DuckDB SQL, its result fetched as a pandas frame like compute's."""
    con = duckdb.connect()
    started = time.perf_counter()
    frame = con.execute(HAND_WRITTEN.format(path=_quoted(root / "orders.parquet"))).df()
    seconds, rss = time.perf_counter() - started, peak_rss_mb()
    con.close()
    if out is not None:
        frame.to_parquet(out)
    return {"seconds": seconds, "peak_rss_mb": rss, "values": int(frame[list(MEASURES)].notna().to_numpy().sum())}


def run_hand_written_long(root: Path, out: Path | None) -> dict:
    """Time the hand-written DuckDB SQL of compute's long values with their source rows, fetched as Arrow into a
    pandas frame (DuckDB's fastest way to a frame of many text cells)."""
    con = duckdb.connect()
    pairs = ", ".join(f"({k}, {k}_rows) AS {k}" for k in MEASURES)
    started = time.perf_counter()
    frame = con.sql(HAND_WRITTEN_LONG.format(path=_quoted(root / "orders.parquet"), pairs=pairs)).to_arrow_table(
        ).to_pandas()
    seconds, rss = time.perf_counter() - started, peak_rss_mb()
    con.close()
    if out is not None:
        frame.to_parquet(out)
    return {"seconds": seconds, "peak_rss_mb": rss, "values": len(frame)}


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def in_process(side: str, root: Path, out: Path | None) -> dict:
    """Run one side in a fresh Python process, so that its time and peak RSS are its own."""
    command = [sys.executable, __file__, "--side", side, "--root", str(root)] + (["--out", str(out)] if out else [])
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{side} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def check(ours: Path, theirs: Path) -> None:
    """The computed values equal the hand-written SQL's, value by value (compared in DuckDB)."""
    columns = ", ".join(f"{k}::DOUBLE AS {k}" for k in MEASURES)
    query = f"""
        WITH sql AS (
            UNPIVOT (SELECT y::VARCHAR || 'Q' || q::VARCHAR AS period, team, employee AS employee_id, {columns}
                     FROM read_parquet('{_quoted(theirs)}'))
            ON {", ".join(MEASURES)} INTO NAME kpi_id VALUE value),
        ours AS (SELECT period, team, employee_id, kpi_id, value FROM read_parquet('{_quoted(ours)}'))
        SELECT count(*) FILTER (WHERE sql.value IS NULL OR ours.value IS NULL) AS unmatched,
               count(*) FILTER (WHERE abs(sql.value - ours.value) > 1e-9 * abs(sql.value)) AS different,
               count(*) AS total
        FROM sql FULL OUTER JOIN ours USING (period, team, employee_id, kpi_id)"""
    (unmatched, different, total), = duckdb.sql(query).fetchall()
    assert unmatched == 0 and different == 0, f"{unmatched} values only on one side, {different} differ of {total}"


def check_long(ours: Path, theirs: Path) -> None:
    """The computed values and their source rows equal the long hand-written SQL's, row by row."""
    query = f"""
        SELECT count(*) FILTER (WHERE sql.value IS NULL OR ours.value IS NULL) AS unmatched,
               count(*) FILTER (WHERE abs(sql.value - ours.value) > 1e-9 * abs(sql.value)
                                OR sql.source_rows <> ours.source_rows) AS different,
               count(*) AS total
        FROM read_parquet('{_quoted(theirs)}') AS sql
        FULL OUTER JOIN read_parquet('{_quoted(ours)}') AS ours USING (period, team, employee_id, kpi_id)"""
    (unmatched, different, total), = duckdb.sql(query).fetchall()
    assert unmatched == 0 and different == 0, f"{unmatched} values only on one side, {different} differ of {total}"


SIDES = {"ours": run_ours, "sql": run_hand_written, "long": run_hand_written_long}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--side", choices=list(SIDES), help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side is not None:
        print(json.dumps(SIDES[args.side](args.root, args.out)))
        return
    with tempfile.TemporaryDirectory(prefix="bench-compute-") as folder:
        root = Path(folder)
        started = time.perf_counter()
        write_orders(root / "orders.parquet", args.rows, args.employees)
        write_workspace(root, args.employees)
        print(f"{args.rows:,} order lines of {args.employees:,} employees written in "
              f"{time.perf_counter() - started:.1f} s")
        runs: dict[str, list[dict]] = {side: [] for side in SIDES}
        for i in range(args.repeat):
            for side in list(SIDES) if i % 2 == 0 else list(SIDES)[::-1]:
                out = root / f"{side}.parquet" if i == 0 else None
                runs[side].append(in_process(side, root, out))
                print(f"  run {i + 1} {side:4}: {runs[side][-1]['seconds']:.2f} s, "
                      f"peak RSS {runs[side][-1]['peak_rss_mb']:,.0f} MB", flush=True)
        check(root / "ours.parquet", root / "sql.parquet")
        check_long(root / "ours.parquet", root / "long.parquet")
    ours, theirs, long = (statistics.median(r["seconds"] for r in runs[s]) for s in SIDES)
    paired = statistics.median(o["seconds"] / h["seconds"] for o, h in zip(runs["ours"], runs["long"], strict=True))
    rss = {s: max(r["peak_rss_mb"] for r in runs[s]) for s in runs}
    print(f"compute (ibis, every measure kind): median {ours:.2f} s over {args.repeat} run(s), "
          f"{runs['ours'][0]['values']:,} values, peak RSS {rss['ours']:,.0f} MB")
    print(f"hand-written DuckDB SQL:            median {theirs:.2f} s, {runs['sql'][0]['values']:,} values, "
          f"peak RSS {rss['sql']:,.0f} MB")
    print(f"hand-written DuckDB SQL, long:      median {long:.2f} s, {runs['long'][0]['values']:,} values with "
          f"source rows, peak RSS {rss['long']:,.0f} MB")
    print(f"ratio {ours / theirs:.2f} to the wide SQL, {ours / long:.2f} to the long SQL (goal <= 1.2); median of "
          f"the rounds' own ratios to the long SQL {paired:.2f}; compute's peak RSS {rss['ours']:,.0f} MB "
          "(goal <= 2048); each run in its own process, values checked equal")


if __name__ == "__main__":
    main()
