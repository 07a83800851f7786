"""The actuals store: DuckDB round trip, slice replacement, concurrency, the workspace's one-time build, SQLAlchemy."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from kpi_workbook.core.errors import InputError, KpiWorkbookError
from kpi_workbook.workspace.actuals_checked import RejectedRowsError
from kpi_workbook.workspace.files import ACTUALS_CSV, ACTUALS_DB
from kpi_workbook.workspace.opener import open_workspace
from kpi_workbook.workspace.store import ACTUALS_COLUMNS, URL_ENV, DuckDBStore, SqlStore, open_store


def frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=ACTUALS_COLUMNS)


BASE = frame([
    ("2025Q1", "sales", "E1", "win_rate", 20.0),
    ("2025Q1", "sales", "E2", "win_rate", 30.0),
    ("2025Q1", "sales", "", "pipeline_coverage", 3.0),
    ("2025-Q2", "sales", "E1", "win_rate", 25.0),
    ("2025Q1", "hr", "H1", "win_rate", 10.0),
])


@pytest.fixture
def store(tmp_path: Path) -> DuckDBStore:
    store = DuckDBStore(tmp_path / ACTUALS_DB)
    store.replace_periods(BASE)
    return store


def test_a_missing_store_reads_as_empty(tmp_path):
    store = DuckDBStore(tmp_path / ACTUALS_DB)
    empty = store.read_actuals()
    assert list(empty.columns) == ACTUALS_COLUMNS and empty.empty
    assert store.periods() == [] and store.count() == 0
    assert not store.path.exists()


def test_round_trip_with_canonical_periods_and_empty_team_level_ids(store):
    actuals = store.read_actuals()
    assert list(actuals.columns) == ACTUALS_COLUMNS
    assert len(actuals) == 5
    assert actuals["period"].tolist() == ["2025Q1"] * 4 + ["2025Q2"]
    assert actuals.loc[actuals["kpi_id"] == "pipeline_coverage", "employee_id"].tolist() == [""]
    assert actuals["value"].dtype == "float64"
    assert store.periods() == ["2025Q1", "2025Q2"]
    with duckdb.connect(str(store.path), read_only=True) as con:
        columns = con.execute("DESCRIBE actuals").fetchall()
        nulls = con.execute("SELECT count(*) FROM actuals WHERE employee_id IS NULL").fetchone()[0]
    assert [(c[0], c[1]) for c in columns] == [("period", "VARCHAR"), ("period_start", "DATE"), ("team", "VARCHAR"),
                                               ("employee_id", "VARCHAR"), ("kpi_id", "VARCHAR"), ("value", "DOUBLE")]
    assert nulls == 1



def test_categorical_rows_are_stored_as_their_text_and_read_back_as_an_arrow_table(tmp_path):
    rows = BASE.assign(employee_id=BASE["employee_id"].replace("", None))  # a missing id is a team-level value
    categorical = rows.astype({c: pd.CategoricalDtype([*rows[c].dropna().unique(), "not a period"])
                               for c in ACTUALS_COLUMNS[:-1]})  # unused categories are never read
    texts, categories = DuckDBStore(tmp_path / "text.duckdb"), DuckDBStore(tmp_path / "categories.duckdb")
    texts.replace_periods(rows)
    categories.replace_periods(categorical)
    assert categories.read_actuals().equals(texts.read_actuals())
    table = categories.actuals_table(["win_rate", "pipeline_coverage"]).to_pandas()
    assert sorted(table.itertuples(index=False)) == sorted(texts.read_actuals().itertuples(index=False))
    with pytest.raises(InputError, match="not a period: 'someday'"):
        texts.replace_periods(frame([("someday", "sales", "E1", "win_rate", 1.0)]).astype("category"))

def test_read_filters_by_team_period_and_kpi(store):
    assert set(store.read_actuals(team="hr")["employee_id"]) == {"H1"}
    assert len(store.read_actuals(team=["sales", "hr"], periods=["2025-Q1"])) == 4
    assert store.read_actuals(periods="Q2 2025")["value"].tolist() == [25.0]
    assert store.read_actuals(kpis=["pipeline_coverage"])["value"].tolist() == [3.0]
    assert store.read_actuals(team="nobody").empty


def test_replacing_touches_only_the_period_team_kpi_slices_in_the_new_rows(store):
    result = store.replace_periods(frame([("2025Q1", "sales", "E1", "win_rate", 22.0)]))
    assert (result.removed, result.inserted, result.slices) == (2, 1, 1)
    actuals = store.read_actuals()
    assert len(actuals) == 4  # E2's value of the replaced slice is gone; other slices kept
    kept = actuals.set_index(["period", "team", "employee_id", "kpi_id"])["value"]
    assert kept[("2025Q1", "sales", "E1", "win_rate")] == 22.0
    assert kept[("2025Q1", "sales", "", "pipeline_coverage")] == 3.0
    assert kept[("2025Q1", "hr", "H1", "win_rate")] == 10.0
    assert kept[("2025Q2", "sales", "E1", "win_rate")] == 25.0


def test_storing_the_same_rows_twice_never_duplicates(store):
    store.replace_periods(BASE)
    store.replace_periods(BASE)
    assert store.count() == len(BASE)


def test_duplicates_or_bad_periods_are_refused_and_leave_the_store_unchanged(store):
    before = store.path.read_bytes()
    duplicated = frame([("2025Q3", "sales", "E1", "win_rate", 1.0), ("2025-Q3", "sales", "E1", "win_rate", 2.0)])
    with pytest.raises(InputError, match="more than one value for period 2025Q3"):
        store.replace_periods(duplicated)
    with pytest.raises(InputError, match="not a period: 'someday'"):
        store.replace_periods(frame([("someday", "sales", "E1", "win_rate", 1.0)]))
    assert store.path.read_bytes() == before
    assert sorted(p.name for p in store.path.parent.iterdir()) == [f".{ACTUALS_DB}.lock", ACTUALS_DB]


def run_python(code: str, *args: object) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_concurrent_first_opens_build_the_store_once_and_say_so_once(sample_workspace):
    expected = sum(1 for _ in (sample_workspace / ACTUALS_CSV).open()) - 1
    code = """
        import sys
        from kpi_workbook.workspace.opener import open_workspace
        print(len(open_workspace(sys.argv[1]).store().read_actuals()))
    """
    processes = [run_python(code, sample_workspace) for _ in range(4)]
    outputs = [p.communicate(timeout=300) for p in processes]
    assert [p.returncode for p in processes] == [0] * 4, [err for _, err in outputs]
    assert [int(out) for out, _ in outputs] == [expected] * 4
    notices = [err for _, err in outputs if err]
    assert notices == [f"kpi-workbook: built the actuals store {sample_workspace / ACTUALS_DB} from "
                       f"{sample_workspace / ACTUALS_CSV} ({expected} values)\n"]
    assert DuckDBStore(sample_workspace / ACTUALS_DB).count() == expected
    assert not list(sample_workspace.glob("*.tmp"))


def test_readers_see_a_whole_store_while_another_process_writes(tmp_path):
    store = DuckDBStore(tmp_path / ACTUALS_DB)
    store.replace_periods(BASE)
    store.replace_periods(frame([("2025Q1", "sales", f"E{n}", "win_rate", -1.0) for n in range(1, 201)]))
    writer = run_python("""
        import sys
        import pandas as pd
        from kpi_workbook.workspace.store import DuckDBStore
        store = DuckDBStore(sys.argv[1])
        for i in range(15):
            rows = [("2025Q1", "sales", f"E{n}", "win_rate", float(i)) for n in range(1, 201)]
            store.replace_periods(pd.DataFrame(rows, columns=["period", "team", "employee_id", "kpi_id", "value"]))
    """, store.path)
    reader = run_python("""
        import sys
        from kpi_workbook.workspace.store import DuckDBStore
        store = DuckDBStore(sys.argv[1])
        sizes = set()
        for _ in range(40):
            frame = store.read_actuals(team="sales", periods=["2025Q1"], kpis=["win_rate"])
            assert frame["value"].nunique() == 1, frame["value"].unique()
            sizes.add(len(frame))
        print(sorted(sizes))
    """, store.path)
    _, writer_err = writer.communicate(timeout=300)
    out, reader_err = reader.communicate(timeout=300)
    assert writer.returncode == 0, writer_err
    assert reader.returncode == 0, reader_err
    assert out.strip() == "[200]"
    assert store.count() == 200 + 3


def test_opening_a_store_never_builds_it(sample_workspace):
    store = open_store(sample_workspace)
    assert isinstance(store, DuckDBStore) and store.path == sample_workspace / ACTUALS_DB
    assert store.read_actuals().empty and store.periods() == [] and store.count() == 0
    assert not store.path.exists()


def test_the_workspace_builds_its_store_from_the_csv_once_and_says_so(sample_workspace):
    said: list[str] = []
    workspace = open_workspace(sample_workspace, notice=said.append)
    store = workspace.store()
    assert isinstance(store, DuckDBStore) and store.path == sample_workspace / ACTUALS_DB
    actuals = store.read_actuals()
    csv = pd.read_csv(sample_workspace / ACTUALS_CSV, dtype={"employee_id": str}, keep_default_na=False)
    assert len(actuals) == len(csv)
    assert store.periods() == sorted(csv["period"].unique())
    assert actuals["value"].sum() == pytest.approx(csv["value"].sum())
    assert said == [f"built the actuals store {store.path} from {sample_workspace / ACTUALS_CSV} ({len(csv)} values)"]
    stamp = store.path.stat().st_mtime_ns
    open_workspace(sample_workspace, notice=said.append).store().read_actuals()
    assert store.path.stat().st_mtime_ns == stamp and len(said) == 1


def test_an_invalid_workspace_csv_is_reported_and_no_store_is_made(sample_workspace):
    csv = sample_workspace / ACTUALS_CSV
    lines = csv.read_text().splitlines()
    lines[3] = lines[3].rsplit(",", 1)[0] + ",lots"
    csv.write_text("\n".join(lines) + "\n")
    before = sorted(p.name for p in sample_workspace.iterdir())
    said: list[str] = []
    with pytest.raises(RejectedRowsError) as caught:
        open_workspace(sample_workspace, notice=said.append).store()
    assert "actuals.csv, row 4, field 'value': not a number (got 'lots')" in str(caught.value)
    assert not (sample_workspace / ACTUALS_DB).exists() and said == []
    assert sorted(p.name for p in sample_workspace.iterdir()) == before


def test_sqlalchemy_url_reads_the_actuals_table(store, tmp_path):
    with SqlStore(f"duckdb:///{store.path}") as warehouse:
        actuals = warehouse.read_actuals(team=["sales"], kpis="win_rate")
        assert actuals["employee_id"].tolist() == ["E1", "E2", "E1"]
        assert warehouse.periods() == ["2025Q1", "2025Q2"]
        assert warehouse.read_actuals(periods=["2025Q2"])["value"].tolist() == [25.0]
        assert warehouse.read_actuals().equals(store.read_actuals())
        with pytest.raises(KpiWorkbookError, match="read only"):
            warehouse.replace_periods(BASE)


def test_sqlalchemy_custom_query_maps_other_names_and_dates(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE kpi_facts (month DATE, unit TEXT, person TEXT, metric TEXT, amount DOUBLE)")
        con.execute("INSERT INTO kpi_facts VALUES ('2025-01-31', 'sales', 'E1', 'win_rate', 21), "
                    "('2025-02-28', 'sales', NULL, 'pipeline_coverage', 2.5)")
    query = ("SELECT month AS period, unit AS team, person AS employee_id, metric AS kpi_id, amount AS value "
             "FROM kpi_facts")
    store = open_store(tmp_path, url=f"duckdb:///{path}", query=query)
    actuals = store.read_actuals()
    assert actuals["period"].tolist() == ["2025-01", "2025-02"]
    assert actuals["employee_id"].tolist() == ["E1", ""]
    assert store.read_actuals(periods="2025-02")["kpi_id"].tolist() == ["pipeline_coverage"]
    store.close()


def test_url_from_the_environment_and_clear_errors(tmp_path, monkeypatch, store):
    monkeypatch.setenv(URL_ENV, f"duckdb:///{store.path}")
    assert isinstance(open_store(tmp_path / "elsewhere"), SqlStore)
    monkeypatch.delenv(URL_ENV)
    with pytest.raises(InputError, match="cannot use 'nosuchdb://x'"):
        open_store(tmp_path, url="nosuchdb://x")
    missing = SqlStore(f"duckdb:///{store.path}", query="SELECT * FROM no_such_table")
    with pytest.raises(InputError, match="cannot read actuals: .*no_such_table"):
        missing.read_actuals()


def test_store_in_a_workspace_copy_keeps_file_mode(store, tmp_path):
    store.path.chmod(0o644)
    store.replace_periods(BASE)
    assert store.path.stat().st_mode & 0o777 == 0o644
    copy = tmp_path / "copy"
    copy.mkdir()
    shutil.copy(store.path, copy / ACTUALS_DB)
    assert open_store(copy).count() == len(BASE)
    assert open_store(copy / ACTUALS_DB).count() == len(BASE)
