"""Database sources on a real PostgreSQL server and in a DuckDB file: a table, a table of another schema and a query
(a join and a WHERE), with numeric(10,2) amounts summed, averaged and divided, must give the figures plain pandas
computes from the same rows. A query needs no TEMP privilege; both spellings of a PostgreSQL URL work for sources
and for the actuals store; and no message, from Python or from the command line, ever shows a URL's password.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import subprocess
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from cli_in_process import run_cli_in_process
from conftest import CLI_SCRIPT, cli_environment

from kpi_workbook.analysis.measures import compute
from kpi_workbook.core.errors import InputError
from kpi_workbook.core.model import Framework, KpiDefinition, Metadata, Objective, Role, RoleKpi, Team
from kpi_workbook.workspace.employees import load_employees
from kpi_workbook.workspace.files import load_framework, save_framework
from kpi_workbook.workspace.store import SqlStore, open_store

TEAMS = {"sales": "Sales", "rd": "Research"}
EMPLOYEES = {"E1": "sales", "E2": "sales", "R1": "rd", "R2": "rd"}
REGIONS = [("N", "North", True), ("S", "South", True), ("X", "Closed region", False)]
QUERY = ("SELECT d.owner, d.team, d.stage, d.amount, d.closed_on, r.name AS region\n"
         "FROM crm.deals AS d JOIN crm.regions AS r ON r.code = d.region_code\n"
         "WHERE r.active AND d.stage <> 'test'  -- a comment at the end must not swallow what follows\n")
DEAL_COLUMNS = ("deal_id integer, owner text, team text, stage text, amount numeric(10,2), closed_on date, "
                "region_code text")
SOURCE_NAMES = ("flat", "crm", "joined")  # a table of the default schema, the same table in schema crm, QUERY
KPI_IDS = [f"{source}_{figure}" for source in SOURCE_NAMES for figure in ("revenue", "mean_deal", "won_share")]


def deals(seed: int = 7) -> pd.DataFrame:
    """Deals of 2025 in cents that no binary fraction holds exactly (means of thirds), in three regions (one closed)
    and four stages (one 'test'), every team in every quarter."""
    rng = np.random.default_rng(seed)
    rows = []
    for number in range(240):
        owner = list(EMPLOYEES)[number % len(EMPLOYEES)]
        rows.append({"deal_id": number, "owner": owner, "team": EMPLOYEES[owner],
                     "stage": rng.choice(["won", "lost", "open", "test"]),
                     "amount": Decimal(int(rng.integers(1, 10_000_000))) / 100 + Decimal("0.01"),
                     "closed_on": dt.date(2025, 1, 1) + dt.timedelta(days=int(number * 364 / 240)),
                     "region_code": rng.choice([code for code, _, _ in REGIONS])})
    return pd.DataFrame(rows)


def joined(frame: pd.DataFrame) -> pd.DataFrame:
    """QUERY's rows, in pandas."""
    regions = pd.DataFrame(REGIONS, columns=["region_code", "region", "active"])
    rows = frame.merge(regions, on="region_code")
    return rows[rows["active"] & (rows["stage"] != "test")]


# --- the workspace ------------------------------------------------------------------------------------------------

def _source(name: str, url: str, where: str) -> str:
    return (f"- name: {name}\n  url: {url}\n{where}  when: closed_on\n  employee: owner\n  team: team\n"
            "  columns: {stage: text, amount: number}\n")


def _query_source(url: str) -> str:
    return _source("joined", url, "  query: |\n" + "".join(f"    {line}\n" for line in QUERY.splitlines()))


def sources_yaml(url: str) -> str:
    """The three SOURCE_NAMES, all at `url`."""
    return ("sources:\n" + _source("flat", url, "  table: deals\n")
            + _source("crm", url, "  schema: crm\n  table: deals\n") + _query_source(url))


def framework() -> Framework:
    """Per source: revenue (sum), mean deal (mean) and the won share of revenue (a ratio of sums), per team."""
    kpis = []
    for source in SOURCE_NAMES:
        amount = {"source": source, "column": "amount"}
        measures = {"revenue": {"aggregate": amount | {"function": "sum"}},
                    "mean_deal": {"aggregate": amount | {"function": "mean"}},
                    "won_share": {"ratio": {"numerator": amount | {"function": "sum", "where": 'stage == "won"'},
                                            "denominator": amount | {"function": "sum"}}, "scale": 100}}
        kpis += [KpiDefinition(id=f"{source}_{figure}", name=f"{source} {figure}".capitalize(), unit="EUR",
                               polarity="higher_is_better", category="output", indicator="lagging",
                               frequency="quarterly", measure=measure | {"per": "team"})
                 for figure, measure in measures.items()]
    role = Role(id="seller", title="Seller", teams=list(TEAMS),
                kpis=[RoleKpi(kpi=k.id, weight=100 / len(kpis), target=1) for k in kpis])
    return Framework(metadata=Metadata(organization="Deals Ltd"),
                     objectives=[Objective(id="grow", title="Grow", perspective="financial")],
                     teams=[Team(id=t, name=n) for t, n in TEAMS.items()], kpis=kpis, roles=[role])


def workspace(root: Path, url: str, sources: str | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    save_framework(framework(), root)
    people = "".join(f"{e},{e},{t},seller\n" for e, t in EMPLOYEES.items())
    (root / "employees.csv").write_text("employee_id,name,team,role\n" + people, encoding="utf-8")
    (root / "sources.yaml").write_text(sources or sources_yaml(url), encoding="utf-8")
    return root


def computed(root: Path, kpis: list[str] | None = None) -> pd.Series:
    """Every team value compute gives (of all KPIs, or `kpis`), by (period, team, KPI)."""
    fw = load_framework(root)
    values = compute(root, fw, load_employees(root, fw), kpis=kpis).values
    return values.set_index(["period", "team", "kpi_id"])["value"].astype(float).sort_index()


def expected_of(kpis: list[str]) -> pd.Series:
    wanted = expected(deals())
    return wanted[wanted.index.get_level_values("kpi_id").isin(kpis)]


def expected(frame: pd.DataFrame) -> pd.Series:
    """The same figures in plain pandas, from the rows as Decimal (exact), to float at the end."""
    rows = {"flat": frame, "crm": frame, "joined": joined(frame)}
    figures = {}
    for source, chosen in rows.items():
        quarter = pd.PeriodIndex(pd.to_datetime(chosen["closed_on"]), freq="Q")
        for (period, team), group in chosen.groupby([quarter, chosen["team"]]):
            label = f"{period.year}Q{period.quarter}"
            total = sum(group["amount"], Decimal(0))
            won = sum(group.loc[group["stage"] == "won", "amount"], Decimal(0))
            figures[(label, team, f"{source}_revenue")] = float(total)
            figures[(label, team, f"{source}_mean_deal")] = float(total / len(group))
            figures[(label, team, f"{source}_won_share")] = float(100 * won / total)
    return pd.Series(figures, name="value").rename_axis(["period", "team", "kpi_id"]).sort_index()


def assert_same(found: pd.Series, wanted: pd.Series) -> None:
    assert list(found.index) == list(wanted.index)
    close = np.isclose(found.to_numpy(), wanted.to_numpy(), rtol=1e-12, atol=0)
    assert close.all(), f"values that differ:\n{pd.concat([found, wanted], axis=1)[~close]}"


# --- the databases ---------------------------------------------------------------------------------------------------

def _psycopg_url(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def load_postgres(url: str, frame: pd.DataFrame) -> None:
    """The deals as public.deals and crm.deals, and crm.regions, in PostgreSQL (numeric(10,2) amounts)."""
    import psycopg

    rows = [tuple(r) for r in frame.itertuples(index=False)]
    with psycopg.connect(_psycopg_url(url)) as con, con.cursor() as cursor:
        cursor.execute("DROP SCHEMA IF EXISTS crm CASCADE; DROP TABLE IF EXISTS deals; CREATE SCHEMA crm")
        cursor.execute("CREATE TABLE crm.regions (code text, name text, active boolean)")
        cursor.executemany("INSERT INTO crm.regions VALUES (%s, %s, %s)", REGIONS)
        for table in ("deals", "crm.deals"):
            cursor.execute(f"CREATE TABLE {table} ({DEAL_COLUMNS})")
            cursor.executemany(f"INSERT INTO {table} VALUES (%s, %s, %s, %s, %s, %s, %s)", rows)


def load_duckdb(path: Path, frame: pd.DataFrame) -> None:
    """The same tables in a DuckDB file (DECIMAL(10,2) amounts)."""
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE SCHEMA crm")
        con.execute("CREATE TABLE crm.regions (code TEXT, name TEXT, active BOOLEAN)")
        con.executemany("INSERT INTO crm.regions VALUES (?, ?, ?)", REGIONS)
        for table in ("deals", "crm.deals"):
            con.execute(f"CREATE TABLE {table} ({DEAL_COLUMNS})")
            con.executemany(f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?, ?)",
                            [tuple(r) for r in frame.itertuples(index=False)])


@pytest.fixture(scope="module")
def warehouse(postgres_url: str) -> str:
    """The PostgreSQL server with the deals loaded."""
    load_postgres(postgres_url, deals())
    return postgres_url


@pytest.fixture
def duckdb_file(tmp_path: Path) -> str:
    path = tmp_path / "warehouse.duckdb"
    load_duckdb(path, deals())
    return f"duckdb:///{path}"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- the figures -----------------------------------------------------------------------------------------------------

def test_table_schema_table_and_query_on_postgresql_equal_pandas(tmp_path, warehouse):
    found = computed(workspace(tmp_path / "ws", warehouse))
    assert_same(found, expected(deals()))
    assert set(found.index.get_level_values("kpi_id")) == set(KPI_IDS)


def test_table_schema_table_and_query_in_a_duckdb_file_equal_pandas(tmp_path, duckdb_file):
    assert_same(computed(workspace(tmp_path / "ws", duckdb_file)), expected(deals()))


def test_the_query_filters_and_joins_where_the_records_are(tmp_path, warehouse):
    found = computed(workspace(tmp_path / "ws", warehouse))
    flat, query = found.xs("flat_revenue", level="kpi_id"), found.xs("joined_revenue", level="kpi_id")
    assert (query < flat).all()  # the closed region and the test deals are left out


# --- privileges ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def reader_url(warehouse: str) -> str:
    """A role that may only connect and read crm's tables: no TEMP privilege (revoked from PUBLIC too)."""
    import psycopg

    with psycopg.connect(_psycopg_url(warehouse), autocommit=True) as con:
        con.execute("DROP ROLE IF EXISTS reader")
        con.execute("CREATE ROLE reader LOGIN PASSWORD 'reader-pw'")
        database = con.execute("SELECT quote_ident(current_database())").fetchone()[0]  # the module's own
        con.execute(f"REVOKE ALL ON DATABASE {database} FROM PUBLIC")
        con.execute(f"GRANT CONNECT ON DATABASE {database} TO reader")
        con.execute("GRANT USAGE ON SCHEMA crm TO reader")
        con.execute("GRANT SELECT ON ALL TABLES IN SCHEMA crm TO reader")
    return warehouse.replace("postgres://postgres@", "postgres://reader:reader-pw@", 1)


def test_a_query_needs_no_temp_privilege(tmp_path, reader_url):
    import psycopg

    with psycopg.connect(_psycopg_url(reader_url)) as con, pytest.raises(psycopg.errors.InsufficientPrivilege):
        con.execute("CREATE TEMPORARY TABLE scratch (x integer)")  # the role really has no TEMP
    root = workspace(tmp_path / "ws", reader_url, "sources:\n" + _query_source(reader_url))
    kpis = [k for k in KPI_IDS if k.startswith("joined")]
    assert_same(computed(root, kpis), expected_of(kpis))


# --- schemas and URLs ----------------------------------------------------------------------------------------------

def _read_error(root: Path) -> InputError:
    """What compute says about the workspace's source 'crm' (read by the KPI crm_revenue)."""
    fw = load_framework(root)
    with pytest.raises(InputError) as raised:
        compute(root, fw, load_employees(root, fw), kpis=["crm_revenue"])
    return raised.value


def test_a_dotted_table_name_says_how_to_name_the_schema(tmp_path, duckdb_file):
    sources = "sources:\n" + _source("crm", duckdb_file, "  table: crm.deals\n")
    error = _read_error(workspace(tmp_path / "ws", duckdb_file, sources))
    [problem] = error.problems
    assert (problem.entry, problem.field) == ("source 'crm'", "table")
    assert "write `schema: crm` and `table: deals`" in problem.message


def test_a_missing_schema_table_is_named(tmp_path, warehouse):
    sources = "sources:\n" + _source("crm", warehouse, "  schema: sales\n  table: deals\n")
    [problem] = _read_error(workspace(tmp_path / "ws", warehouse, sources)).problems
    assert problem.file == f"sales.deals at {warehouse}"
    assert problem.message == "cannot read the source: no table 'deals' in schema 'sales'"


SPELLINGS: list[Callable[[str], str]] = [
    lambda url: url,
    lambda url: url.replace("postgres://", "postgresql://", 1),
    lambda url: url.replace("postgres://", "postgresql+psycopg://", 1),
]


@pytest.mark.parametrize("spell", SPELLINGS, ids=["postgres", "postgresql", "postgresql+psycopg"])
def test_every_spelling_of_a_postgresql_url_reads_sources(tmp_path, warehouse, spell):
    sources = "sources:\n" + _source("crm", spell(warehouse), "  schema: crm\n  table: deals\n")
    root = workspace(tmp_path / "ws", warehouse, sources)
    assert_same(computed(root, ["crm_revenue"]), expected_of(["crm_revenue"]))


@pytest.fixture(scope="module")
def actuals_in_postgres(warehouse: str) -> str:
    import psycopg

    with psycopg.connect(_psycopg_url(warehouse), autocommit=True) as con:
        con.execute("DROP TABLE IF EXISTS actuals")
        con.execute("CREATE TABLE actuals (period text, team text, employee_id text, kpi_id text, value float8)")
        con.execute("INSERT INTO actuals VALUES ('2025Q1', 'sales', 'E1', 'crm_revenue', 12.5), "
                    "('2025Q2', 'rd', NULL, 'crm_revenue', 7)")
    return warehouse


@pytest.mark.parametrize("spell", SPELLINGS, ids=["postgres", "postgresql", "postgresql+psycopg"])
def test_every_spelling_of_a_postgresql_url_reads_the_actuals_store(tmp_path, actuals_in_postgres, spell):
    with open_store(tmp_path, url=spell(actuals_in_postgres)) as store:
        assert isinstance(store, SqlStore)
        assert store.periods() == ["2025Q1", "2025Q2"]
        assert store.read_actuals(team="sales")["value"].tolist() == [12.5]


# --- passwords -------------------------------------------------------------------------------------------------------

SECRET = "s3cret-Pa55"


def _unreachable(scheme: str = "postgres") -> str:
    return f"{scheme}://reader:{SECRET}@127.0.0.1:{_free_port()}/hr"


@pytest.mark.parametrize("scheme", ["postgres", "postgresql+psycopg", "nosuchdb"])
def test_a_source_error_never_shows_the_password(tmp_path, scheme):
    url = _unreachable(scheme)
    sources = "sources:\n" + _source("crm", url, "  schema: crm\n  table: deals\n")
    root = workspace(tmp_path / "ws", url, sources)
    [problem] = _read_error(root).problems
    assert SECRET not in str(problem)
    assert problem.file.endswith(f"at {scheme}://reader:***@127.0.0.1:{url.rsplit(':', 1)[1]}")
    assert (problem.entry, problem.field) == ("source 'crm'", "url")
    done = subprocess.run([str(CLI_SCRIPT), "compute", "-w", str(root)], capture_output=True, text=True,
                          env=cli_environment(), timeout=300)
    assert done.returncode != 0
    assert SECRET not in done.stdout + done.stderr
    assert "reader:***@127.0.0.1" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("scheme", ["postgres", "postgresql+psycopg", "nosuchdb"])
def test_an_actuals_store_error_never_shows_the_password(tmp_path, scheme):
    url = _unreachable(scheme)
    with pytest.raises(InputError) as raised, open_store(tmp_path, url=url) as store:
        store.read_actuals()
    assert SECRET not in str(raised.value)
    assert "reader:***@127.0.0.1" in str(raised.value)
    done = subprocess.run([str(CLI_SCRIPT), "compute", "-w", str(workspace(tmp_path / "ws", url, "sources: []\n"))],
                          capture_output=True, text=True, env=cli_environment({"KPI_WORKBOOK_ACTUALS_URL": url}),
                          timeout=300)
    assert SECRET not in done.stdout + done.stderr


# --- validate --connect ----------------------------------------------------------------------------------------------

def test_validate_connect_reaches_every_database_source_and_names_the_ones_that_fail(tmp_path, reader_url):
    closed = f"postgres://reader:reader-pw@127.0.0.1:{_free_port()}/postgres"  # nothing listens there
    sources = ("sources:\n" + _source("crm", reader_url, "  schema: crm\n  table: deals\n")
               + _source("flat", reader_url, "  table: deals\n")  # the reader may not read the default schema
               + _source("joined", closed, "  table: deals\n"))
    root = workspace(tmp_path / "ws", reader_url, sources)
    code, out, err = run_cli_in_process("validate", "-w", str(root), "--connect", "--format", "json")
    assert code == 1, out + err
    found = {(f["entry"], f["field"]): f["message"] for f in json.loads(out) if f["code"] == "measures.source"}
    assert set(found) == {("source 'flat'", "table"), ("source 'joined'", "url")}, found
    assert "permission denied" in found["source 'flat'", "table"]
    assert "Connection refused" in found["source 'joined'", "url"]
    assert "reader-pw" not in out + err
    code, out, err = run_cli_in_process("validate", "-w", str(root), "--format", "json")  # without --connect
    assert not [f for f in json.loads(out) if f["code"] == "measures.source"], out


def test_validate_connect_names_a_column_the_table_does_not_have(tmp_path, warehouse):
    sources = "sources:\n" + _source("flat", warehouse, "  table: deals\n").replace("amount: number",
                                                                                    "amount: number, region: text")
    root = workspace(tmp_path / "ws", warehouse, sources)
    code, out, err = run_cli_in_process("validate", "-w", str(root), "--connect", "--format", "json")
    [finding] = [f for f in json.loads(out) if f["file"] == "sources.yaml"]  # the KPIs of crm and joined aside
    assert (finding["entry"], code) == ("source 'flat'", 1)
    assert "region" in finding["message"]
