"""Measure shapes of real order and ticket exports against plain pandas: per-order aggregation of order lines, shares
within an SLA (days between two dates), ratings written as text, year to date, the previous period and the same
period last year (and growth derived from them), at team, department and organization level, zeros included, in
DuckDB and in a real PostgreSQL server. Shapes that do not fit their columns are refused by validate and compute in
the same words, without a traceback.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_roster_measures import assert_same, computed

from kpi_workbook.analysis.checks.measures import source_findings
from kpi_workbook.analysis.measures import compute
from kpi_workbook.core.errors import InputError
from kpi_workbook.core.model import Framework, KpiDefinition, Metadata, Objective, Role, RoleKpi, Team
from kpi_workbook.workspace.employees import load_employees
from kpi_workbook.workspace.files import load_framework, save_framework

TEAMS = {"sales": "Commercial", "support": "Commercial", "ops": "Operations", "quiet": "Operations"}
RATINGS = {"Exceeds": 4.0, "Fully Meets": 3.0, "Needs Improvement": 2.0, "PIP": 1.0}
SOURCES = """sources:
- name: lines
  file: exports/order_lines.csv
  when: order_date
  team: team
  columns: {order_id: text, ship_date: date, amount: number, rating: text}
  text_to_number:
    rating_points: {column: rating, values: {Exceeds: 4, Fully Meets: 3, Needs Improvement: 2, PIP: 1}}
"""
LINES = {"source": "lines"}
REVENUE = LINES | {"function": "sum", "column": "amount"}
SHIPPED = LINES | {"function": "count", "where": "ship_date != null"}
MEASURES = {
    "revenue": ("EUR", {"aggregate": REVENUE}),
    "order_value": ("EUR", {"aggregate": LINES | {"function": "mean", "column": "amount",
                                                  "per_entity": {"column": "order_id", "function": "sum"}}}),
    "lines_per_order": ("lines", {"aggregate": LINES | {"function": "mean",
                                                         "per_entity": {"column": "order_id", "function": "count"}}}),
    "orders": ("orders", {"aggregate": LINES | {"function": "count",
                                                 "per_entity": {"column": "order_id", "function": "count"}}}),
    "lead_time": ("days", {"duration": LINES | {"start": "order_date", "end": "ship_date", "function": "mean",
                                                "per_entity": {"column": "order_id", "function": "max"}}}),
    "shipped_in_5_days": ("%", {"ratio": {"numerator": SHIPPED | {"where": "days(order_date, ship_date) <= 5"},
                                          "denominator": SHIPPED}, "scale": 100}),
    "rating": ("points", {"aggregate": LINES | {"function": "mean", "column": "rating_points"}}),
    "revenue_ytd": ("EUR", {"aggregate": REVENUE, "year_to_date": True}),
    "revenue_previous": ("EUR", {"aggregate": REVENUE, "offset": 1}),
    "revenue_last_year": ("EUR", {"aggregate": REVENUE, "offset": "year"}),
    "growth": ("%", {"derived": "(revenue - revenue_last_year) / revenue_last_year * 100"}),
}


def order_lines(seed: int) -> pd.DataFrame:
    """Orders of 1–4 lines each, shipped 0–12 days later or not yet, rated in text with stray case and blanks."""
    rng = np.random.default_rng(seed)
    rows = []
    first, days = dt.date(2023, 1, 2), (dt.date(2025, 6, 28) - dt.date(2023, 1, 2)).days
    for number in range(700):
        team = rng.choice(["sales", "support", "ops"])
        ordered = first + dt.timedelta(days=int(rng.integers(0, days + 1)))
        shipped = None if rng.random() < 0.1 else ordered + dt.timedelta(days=int(rng.integers(0, 13)))
        for _ in range(int(rng.integers(1, 5))):
            rating = rng.choice([*RATINGS, ""])
            shown = rng.choice([rating, rating.upper(), f" {rating.lower()} "]) if rating else ""
            rows.append({"order_id": f"SO-{number:05d}", "team": team, "order_date": ordered, "ship_date": shipped,
                         "amount": float(rng.integers(1, 400)) * 2.5, "rating": shown})
    rows[0]["order_date"], rows[-1]["order_date"] = first, first + dt.timedelta(days=days)  # the records' span
    return pd.DataFrame(rows)


def framework() -> Framework:
    kpis = [KpiDefinition(id=k, name=k.replace("_", " ").capitalize(), unit=unit, polarity="higher_is_better",
                          category="output", indicator="lagging", frequency="quarterly", measure=m | {"per": "team"})
            for k, (unit, m) in MEASURES.items()]
    role = Role(id="lead", title="Lead", teams=list(TEAMS),
                kpis=[RoleKpi(kpi=k.id, weight=100 / len(kpis), target=1) for k in kpis])
    return Framework(metadata=Metadata(organization="Orders Ltd"),
                     objectives=[Objective(id="grow", title="Grow", perspective="financial")],
                     teams=[Team(id=t, name=t.title(), department=d) for t, d in TEAMS.items()],
                     kpis=kpis, roles=[role])


def write(root: Path, frame: pd.DataFrame, sources: str = SOURCES) -> Path:
    save_framework(framework(), root)
    (root / "employees.csv").write_text("employee_id,name,team,role\nL1,Lee,sales,lead\n", encoding="utf-8")
    (root / "exports").mkdir()
    frame.assign(ship_date=frame["ship_date"].map(lambda d: d.isoformat() if d else "")).to_csv(
        root / "exports" / "order_lines.csv", index=False)
    (root / "sources.yaml").write_text(sources, encoding="utf-8")
    return root


# --- the same figures in plain pandas ---------------------------------------------------------------------------

def _by_quarter(rows: pd.DataFrame, quarters: list[pd.Period]) -> dict[str, dict[pd.Period, float]]:
    """The KPIs that need only one quarter's rows."""
    out: dict[str, dict[pd.Period, float]] = {k: {} for k in MEASURES}
    for quarter in quarters:
        lines = rows[rows["quarter"] == quarter]
        orders = lines.groupby("order_id")
        shipped = lines[lines["ship_date"].notna()]
        waits = (pd.to_datetime(shipped["ship_date"]) - pd.to_datetime(shipped["order_date"])).dt.days
        mapped = lines["rating"].str.strip().str.lower().map({k.lower(): v for k, v in RATINGS.items()})
        values = {"revenue": lines["amount"].sum(), "orders": float(orders.ngroups)}
        if len(lines):
            values |= {"order_value": orders["amount"].sum().mean(), "lines_per_order": orders.size().mean()}
        if len(shipped):
            values["lead_time"] = waits.groupby(shipped["order_id"]).max().mean()
            values["shipped_in_5_days"] = 100 * (waits <= 5).sum() / len(shipped)
        if mapped.notna().any():
            values["rating"] = mapped.mean()
        for kpi, value in values.items():
            out[kpi][quarter] = float(value)
    return out


def by_hand(rows: pd.DataFrame, quarters: list[pd.Period]) -> dict[str, dict[pd.Period, float]]:
    out = _by_quarter(rows, quarters)
    revenue = out["revenue"]
    for quarter in quarters:
        out["revenue_ytd"][quarter] = sum(v for q, v in revenue.items() if q.year == quarter.year and q <= quarter)
        for kpi, back in (("revenue_previous", 1), ("revenue_last_year", 4)):
            if quarter - back in revenue:
                out[kpi][quarter] = revenue[quarter - back]
        last = out["revenue_last_year"].get(quarter)
        if last:
            out["growth"][quarter] = (revenue[quarter] - last) / last * 100
    return out


def expected(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.assign(quarter=pd.PeriodIndex(pd.to_datetime(frame["order_date"]), freq="Q"))
    quarters = list(pd.period_range(frame["quarter"].min(), frame["quarter"].max(), freq="Q"))
    scopes = {("team", t): [t] for t in TEAMS}
    scopes |= {("department", d.lower()): [t for t, dd in TEAMS.items() if dd == d] for d in set(TEAMS.values())}
    scopes |= {("organization", "organization"): list(TEAMS)}
    rows = []
    for (level, scope), teams in scopes.items():
        for kpi, values in by_hand(frame[frame["team"].isin(teams)], quarters).items():
            rows += [(level, scope, f"{q.year}Q{q.quarter}", kpi, v) for q, v in values.items()]
    return pd.DataFrame(rows, columns=["level", "scope", "period", "kpi_id", "value"])


@pytest.mark.parametrize("seed", [1, 2])
def test_order_measures_equal_pandas_at_every_level(tmp_path, seed):
    frame = order_lines(seed)
    found = computed(write(tmp_path / "ws", frame))
    assert_same(found, expected(frame))
    by_key = found.set_index(["level", "scope", "period", "kpi_id"])["value"]
    assert by_key[("team", "quiet", "2024Q3", "revenue_last_year")] == 0  # a true zero a year before
    assert ("team", "sales", "2023Q4", "revenue_last_year") not in by_key  # before the records: no value
    assert ("team", "sales", "2023Q1", "revenue_previous") not in by_key


def test_order_measures_on_postgresql_equal_pandas(tmp_path, postgres_url):
    import psycopg

    frame = order_lines(3)
    with psycopg.connect(postgres_url.replace("postgres://", "postgresql://")) as con:
        con.execute("DROP TABLE IF EXISTS order_lines")
        con.execute("CREATE TABLE order_lines (order_id text, team text, order_date date, ship_date date, "
                    "amount numeric(10, 2), rating text)")
        with con.cursor() as cursor:
            cursor.executemany("INSERT INTO order_lines VALUES (%s, %s, %s, %s, %s, %s)",
                               [(r.order_id, r.team, r.order_date, r.ship_date, r.amount, r.rating or None)
                                for r in frame.itertuples(index=False)])
    sources = SOURCES.replace("  file: exports/order_lines.csv\n", f"  url: {postgres_url}\n  table: order_lines\n")
    assert_same(computed(write(tmp_path / "ws", frame, sources)), expected(frame))


def test_a_rating_no_mapping_names_is_an_error_naming_file_column_text_and_rows(tmp_path):
    frame = order_lines(4)
    frame.loc[frame.index[:3], "rating"] = "Outstanding"
    root = write(tmp_path / "ws", frame)
    fw = load_framework(root)
    with pytest.raises(InputError) as raised:
        compute(root, fw, load_employees(root, fw))
    [problem] = raised.value.problems
    assert (problem.file, problem.field) == ("exports/order_lines.csv", "rating")
    assert problem.message.startswith("'Outstanding' in 3 rows is not in text_to_number 'rating_points'")


MISFITS = [  # (KPI, measure, field, the words validate and compute both use)
    ("won", {"aggregate": LINES | {"function": "count", "where": 'amount == "high"'}}, "measure.aggregate.where",
     "compares the number column 'amount' with 'high'"),
    ("typed", {"aggregate": LINES | {"function": "count", "where": "rating == 4"}}, "measure.aggregate.where",
     "compares the text column 'rating' with 4, which is not text"),
    ("mean_text", {"aggregate": LINES | {"function": "mean", "column": "rating"}}, "measure.aggregate.column",
     "mean of 'rating', a text column"),
    ("sla_text", {"aggregate": LINES | {"function": "count", "where": "days(order_date, rating) <= 2"}},
     "measure.aggregate.where", "days(order_date, rating) needs two date columns, but 'rating' is a text column"),
    ("late", {"aggregate": LINES | {"function": "count", "where": 'ship_date > "soon"'}}, "measure.aggregate.where",
     "compares the date column 'ship_date' with 'soon'"),
    ("each_text", {"aggregate": LINES | {"function": "mean", "column": "rating",
                                         "per_entity": {"column": "order_id", "function": "sum"}}},
     "measure.aggregate.column", "sum of 'rating', a text column"),
]


@pytest.mark.parametrize(("kpi", "measure", "field", "words"), MISFITS, ids=[m[0] for m in MISFITS])
def test_a_measure_that_does_not_fit_its_columns_is_refused_by_validate_and_compute_alike(tmp_path, kpi, measure,
                                                                                           field, words):
    root = write(tmp_path / "ws", order_lines(5))
    fw = load_framework(root)
    bad = KpiDefinition(id=kpi, name="Bad", unit="n", polarity="higher_is_better", category="output",
                        indicator="lagging", frequency="quarterly", measure=measure | {"per": "team"})
    fw = fw.model_copy(update={"kpis": [*fw.kpis, bad]})
    found = [f for f in source_findings(root, fw) if f.kpi == kpi]
    assert [(f.field, words in f.message) for f in found] == [(field, True)]
    with pytest.raises(InputError) as raised:
        compute(root, fw, load_employees(root, fw), kpis=[kpi])
    assert any(p.entry == f"KPI '{kpi}'" and p.field == field and words in p.message
               for p in raised.value.problems)
