"""The files a workspace reads stay inside it (or in the folders sources.yaml allows), are regular files, and no error
quotes what is in them: real files, symlinks and a FIFO on a copy of the sample organization, through the Python API
and the CLI."""

from __future__ import annotations

import os
import shutil
import threading
import zipfile
from pathlib import Path

import ibis
import openpyxl
import pandas as pd
import pytest

from kpi_workbook.core.errors import InputError
from kpi_workbook.workspace.actuals_reader import read_actuals_file
from kpi_workbook.workspace.employees import load_employees
from kpi_workbook.workspace.files import load_framework
from kpi_workbook.workspace.source_paths import SourcePathError
from kpi_workbook.workspace.sources import load_sources, read_source

SECRET = "SECRET-MARKER-7f3a9c"
CRM = "crm_opportunities"
CRM_FILE = "exports/crm_opportunities.csv"
WHERE = "sources.yaml, source 'crm_opportunities', field 'file'"
OUTSIDE = "is outside the workspace"


def set_crm_file(root: Path, file: str, allowed: list[str] | None = None) -> None:
    """Point the CRM source of the sample's sources.yaml at `file`, with `allowed` folders listed above."""
    text = (root / "sources.yaml").read_text(encoding="utf-8")
    assert f"file: {CRM_FILE}\n" in text
    text = text.replace(f"file: {CRM_FILE}\n", f"file: '{file}'\n")
    if allowed is not None:
        text = "allowed_folders:\n" + "".join(f"- '{folder}'\n" for folder in allowed) + text
    (root / "sources.yaml").write_text(text, encoding="utf-8")


@pytest.fixture
def outside(sample_workspace: Path) -> Path:
    """A CSV beside the workspace (not in it) whose first line is a secret marker, then the CRM export's rows."""
    crm = (sample_workspace / CRM_FILE).read_text(encoding="utf-8")
    path = sample_workspace.parent / "elsewhere" / "secret.csv"
    path.parent.mkdir()
    path.write_text(f"{SECRET}\n{crm}", encoding="utf-8")
    return path


def read_crm(root: Path) -> int:
    """Read the CRM source through the Python API; its number of rows."""
    framework = load_framework(root)
    employees = load_employees(root, framework)
    return read_source(load_sources(root)[CRM], root, framework, employees, ibis.duckdb.connect()).rows


def refused(root: Path) -> str:
    """The message load_sources or reading the CRM source refuses the workspace with (it must refuse)."""
    with pytest.raises(InputError) as caught:
        read_crm(root)
    return str(caught.value)


def clean_exit_2(cli, command: str, root: Path, *names: str) -> str:
    """Run a command on `root`: exit 2, every line of `names` on an `error:` line, no traceback, no secret."""
    code, out, err = cli(command, "-w", root)
    output = out + err
    assert code == 2, output
    assert "Traceback" not in output and SECRET not in output, output
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert all(any(name in line for line in errors) for name in names), output
    return output


# --- where a source's file may be ---------------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["relative", "absolute", "symlinked file", "symlinked folder"])
def test_a_source_file_outside_the_workspace_is_refused_before_it_is_read(sample_workspace, outside, how, cli):
    root = sample_workspace
    if how == "relative":
        set_crm_file(root, "../elsewhere/secret.csv")
    elif how == "absolute":
        set_crm_file(root, str(outside))
    elif how == "symlinked file":
        (root / "exports" / "crm_link.csv").symlink_to(outside)
        set_crm_file(root, "exports/crm_link.csv")
    else:
        (root / "shared").symlink_to(outside.parent, target_is_directory=True)
        set_crm_file(root, "shared/secret.csv")
    with pytest.raises(SourcePathError) as caught:
        load_sources(root)
    message = str(caught.value)
    assert message.startswith(WHERE) and OUTSIDE in message and "allowed_folders" in message
    assert str(outside) in message and SECRET not in message
    for command in ("validate", "compute"):
        clean_exit_2(cli, command, root, WHERE, OUTSIDE)


def test_etc_passwd_is_never_read(sample_workspace, cli):
    set_crm_file(sample_workspace, "/etc/passwd")
    assert refused(sample_workspace).startswith(f"{WHERE}: '/etc/passwd' is outside the workspace")
    output = clean_exit_2(cli, "compute", sample_workspace, WHERE)
    assert "root:" not in output


def test_allowed_folders_let_a_workspace_read_outside_it_absolute_relative_or_home(sample_workspace, outside,
                                                                                    monkeypatch):
    rows = read_crm(sample_workspace)
    (outside.parent / "crm.csv").write_text((sample_workspace / CRM_FILE).read_text(encoding="utf-8"))
    (sample_workspace / CRM_FILE).unlink()
    monkeypatch.setenv("HOME", str(outside.parent.parent))
    for number, allowed in enumerate([str(outside.parent), "../elsewhere", "~/elsewhere"]):
        root = shutil.copytree(sample_workspace, sample_workspace.parent / f"copy{number}")
        set_crm_file(root, "../elsewhere/crm.csv", allowed=[allowed])
        assert read_crm(root) == rows


def test_an_allowed_folder_does_not_allow_its_neighbours(sample_workspace, outside):
    other = sample_workspace.parent / "other"
    other.mkdir()
    set_crm_file(sample_workspace, str(outside), allowed=[str(other)])
    assert OUTSIDE in refused(sample_workspace)


def test_an_allowed_folder_that_is_not_a_folder_is_named_with_its_place(sample_workspace, outside, cli):
    set_crm_file(sample_workspace, CRM_FILE, allowed=["../nowhere", str(outside)])
    with pytest.raises(SourcePathError) as caught:
        load_sources(sample_workspace)
    assert [str(p) for p in caught.value.problems] == [
        f"sources.yaml, field 'allowed_folders[1]': '../nowhere' is not a folder (looked for "
        f"{sample_workspace.parent / 'nowhere'})",
        f"sources.yaml, field 'allowed_folders[2]': '{outside}' is not a folder (looked for {outside})"]
    clean_exit_2(cli, "validate", sample_workspace, "field 'allowed_folders[1]'", "field 'allowed_folders[2]'")


def test_a_symlink_that_stays_inside_the_workspace_is_read(sample_workspace):
    rows = read_crm(sample_workspace)
    (sample_workspace / "current.csv").symlink_to(sample_workspace / CRM_FILE)
    set_crm_file(sample_workspace, "current.csv")
    assert read_crm(sample_workspace) == rows


def test_a_symlink_loop_is_an_error_not_a_hang(sample_workspace, cli):
    (sample_workspace / "loop.csv").symlink_to(sample_workspace / "loop.csv")
    set_crm_file(sample_workspace, "loop.csv")
    assert refused(sample_workspace) == f"{WHERE}: 'loop.csv' cannot be resolved (a symlink loop)"
    clean_exit_2(cli, "validate", sample_workspace, WHERE, "symlink loop")


def test_a_missing_file_is_named_with_its_source_when_read(sample_workspace, cli):
    set_crm_file(sample_workspace, "exports/gone.csv")
    assert set(load_sources(sample_workspace)) >= {CRM}  # validate does not ask for the exports
    assert refused(sample_workspace) == f"{WHERE}: 'exports/gone.csv': file not found"
    clean_exit_2(cli, "compute", sample_workspace, WHERE, "file not found")


# --- what a source's file may be ----------------------------------------------------------------------------------

def fifo(path: Path) -> Path:
    os.mkfifo(path)
    return path


def no_hang(test, *args) -> None:
    """Run `test` in a thread and fail if it is still running after a minute (a FIFO opened for reading waits for a
    writer forever)."""
    failure: list[BaseException] = []

    def run() -> None:
        try:
            test(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the test's thread
            failure.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(60)
    if thread.is_alive():
        with open(args[-1], "wb"):  # a writer frees a reader stuck on the FIFO, so the test process can end
            pass
        pytest.fail("hung on the FIFO")
    if failure:
        raise failure[0]


@pytest.mark.parametrize("how", ["fifo", "symlink to a fifo"])
def test_a_fifo_is_not_a_regular_file_and_is_never_opened(sample_workspace, how, cli):
    pipe = fifo(sample_workspace / "exports" / "pipe.csv")
    if how == "fifo":
        set_crm_file(sample_workspace, "exports/pipe.csv")
    else:
        (sample_workspace / "exports" / "latest.csv").symlink_to(pipe)
        set_crm_file(sample_workspace, "exports/latest.csv")

    def check(root: Path, _pipe: Path) -> None:
        message = refused(root)
        assert message.startswith(WHERE) and message.endswith("is not a regular file but a named pipe (FIFO)")
        for command in ("validate", "compute"):
            clean_exit_2(cli, command, root, WHERE, "not a regular file")

    no_hang(check, sample_workspace, pipe)


def test_a_folder_is_not_a_regular_file(sample_workspace, cli):
    set_crm_file(sample_workspace, "exports")
    assert refused(sample_workspace) == f"{WHERE}: 'exports' is not a regular file but a folder"
    clean_exit_2(cli, "validate", sample_workspace, WHERE, "not a regular file but a folder")


def test_a_device_is_not_a_regular_file(sample_workspace):
    set_crm_file(sample_workspace, "/dev/null", allowed=["/dev"])
    assert refused(sample_workspace) == f"{WHERE}: '/dev/null' is not a regular file but a device"


def test_import_actuals_of_a_fifo_says_so_without_waiting(sample_workspace, tmp_path, cli):
    pipe = fifo(tmp_path / "actuals.csv")

    def check(_pipe: Path) -> None:
        with pytest.raises(InputError, match="not a regular file but a named pipe"):
            read_actuals_file(pipe)
        code, out, err = cli("import-actuals", pipe, "-w", sample_workspace)
        assert code == 2 and f"error: {pipe}: not a regular file but a named pipe (FIFO)" in err, out + err

    no_hang(check, pipe)


def test_import_actuals_still_reads_the_file_the_user_names_wherever_it_is(sample_workspace, tmp_path, cli):
    mine = tmp_path / "elsewhere.csv"
    mine.write_text("period,team,employee_id,kpi_id,value\n2025Q1,sales,E00003,quota_attainment,97\n")
    code, out, err = cli("import-actuals", mine, "-w", sample_workspace)
    assert code == 0 and "imported 1 value(s)" in out, out + err


# --- what a file holds: a duplicated header, and errors that never quote it ---------------------------------------

def test_a_duplicated_header_name_is_an_error_naming_the_file_and_columns(sample_workspace, cli):
    crm = sample_workspace / CRM_FILE
    lines = crm.read_text(encoding="utf-8").splitlines(keepends=True)
    header = lines[0].rstrip("\n").split(",")
    doubled = [header[0], header[1], *header[2:], header[0], header[1]]
    crm.write_text(",".join(doubled) + "\n" + "".join(line.rstrip("\n") + ",x,y\n" for line in lines[1:]))
    expected = (f"{CRM_FILE}, row 1, field 'header': column(s) named twice: {header[0]}, {header[1]}; give each "
                "column its own name")
    assert refused(sample_workspace) == expected
    clean_exit_2(cli, "compute", sample_workspace, expected)


def test_a_duplicated_header_name_of_an_excel_source(sample_workspace):
    book = openpyxl.Workbook()
    book.active.append(["owner_employee_id", "closed_on", "owner_employee_id"])
    book.active.append(["E00003", SECRET, "E00004"])
    book.save(sample_workspace / "exports" / "crm.xlsx")
    set_crm_file(sample_workspace, "exports/crm.xlsx")
    message = refused(sample_workspace)
    assert message == ("exports/crm.xlsx, row 1, field 'header': column(s) named twice: owner_employee_id; give each "
                       "column its own name")


def test_the_missing_column_error_lists_the_header_never_a_data_line(sample_workspace):
    (sample_workspace / "exports" / "crm.csv").write_text(f"id,note\n1,{SECRET}\n", encoding="utf-8")
    set_crm_file(sample_workspace, "exports/crm.csv")
    message = refused(sample_workspace)
    assert "field 'closed_on': missing column; the columns are: id, note" in message and SECRET not in message


def test_a_broken_excel_sheet_is_named_without_its_cells(sample_workspace, tmp_path):
    book = openpyxl.Workbook()
    book.active.append(["period", "team"])
    book.active.append([SECRET, 1.5])
    good = tmp_path / "good.xlsx"
    book.save(good)
    broken = sample_workspace / "exports" / "crm.xlsx"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(broken, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":  # a number cell holding text
                data = data.replace(b'<c r="B2" t="n"><v>1.5</v>', f'<c r="B2" t="n"><v>{SECRET}</v>'.encode())
                assert SECRET.encode() in data
            target.writestr(item, data)
    set_crm_file(sample_workspace, "exports/crm.xlsx")
    message = refused(sample_workspace)
    assert "cannot be read as an Excel workbook (.xlsx)" in message and SECRET not in message


def test_a_csv_error_of_the_fast_reader_never_quotes_the_line(tmp_path):
    path = tmp_path / "actuals.csv"
    path.write_bytes(b"period,team,employee_id,kpi_id,value\n"
                     + f"2025Q1,sales,E1,{SECRET}".encode() + b"\xff\xfe,1\n")
    with pytest.raises(InputError) as caught:
        read_actuals_file(path)
    assert str(caught.value) == "actuals.csv: not UTF-8 text; save it as 'CSV UTF-8'"


def test_a_csv_name_holding_glob_characters_is_read_as_named(tmp_path):
    header = "period,team,employee_id,kpi_id,value\n"
    (tmp_path / "q1.csv").write_text(header + "2025Q1,sales,E1,win_rate,1\n")  # what DuckDB's pattern [1] matches
    named = tmp_path / "q[1].csv"
    named.write_text(header + "2025Q2,sales,E2,win_rate,2\n2025Q2,sales,E3,win_rate,3\n")
    assert read_actuals_file(named).frame["employee_id"].tolist() == ["E2", "E3"]


def test_a_parquet_path_holding_glob_characters_is_refused(sample_workspace):
    pd.DataFrame({"closed_on": ["2025-01-01"]}).to_parquet(sample_workspace / "exports" / "crm[1].parquet")
    set_crm_file(sample_workspace, "exports/crm[1].parquet")
    message = refused(sample_workspace)
    assert message.startswith(WHERE) and "holds one of the characters * ? [" in message


# --- the workspace's own files: employees.csv and actuals.csv follow the same rule ---------------------------------

def test_employees_csv_symlinked_out_of_the_workspace_is_refused_unread(sample_workspace, outside, cli):
    (sample_workspace / "employees.csv").unlink()
    (sample_workspace / "employees.csv").symlink_to(outside)
    with pytest.raises(SourcePathError) as caught:
        load_employees(sample_workspace, load_framework(sample_workspace))
    message = str(caught.value)
    assert message.startswith("employees.csv: 'employees.csv' is outside the workspace")
    assert str(outside) in message and "allowed_folders" in message and SECRET not in message
    clean_exit_2(cli, "compute", sample_workspace, "employees.csv", OUTSIDE)
    clean_exit_2(cli, "validate", sample_workspace, "employees.csv", OUTSIDE)  # unreadable, as a source's file is


def test_employees_csv_symlinked_into_an_allowed_folder_is_read(sample_workspace, outside):
    framework = load_framework(sample_workspace)
    people = load_employees(sample_workspace, framework)
    shared = outside.parent / "people.csv"
    (sample_workspace / "employees.csv").rename(shared)
    (sample_workspace / "employees.csv").symlink_to(shared)
    set_crm_file(sample_workspace, CRM_FILE, allowed=[str(outside.parent)])
    pd.testing.assert_frame_equal(load_employees(sample_workspace, framework), people)


def test_employees_csv_symlinked_inside_the_workspace_is_read(sample_workspace):
    framework = load_framework(sample_workspace)
    people = load_employees(sample_workspace, framework)
    (sample_workspace / "employees.csv").rename(sample_workspace / "people.csv")
    (sample_workspace / "employees.csv").symlink_to(sample_workspace / "people.csv")
    pd.testing.assert_frame_equal(load_employees(sample_workspace, framework), people)


def test_actuals_csv_symlinked_out_builds_no_store_and_is_named(sample_workspace, outside, tmp_path, cli):
    (sample_workspace / "actuals.csv").unlink()
    (sample_workspace / "actuals.csv").symlink_to(outside)
    output = clean_exit_2(cli, "compute", sample_workspace, "actuals.csv", OUTSIDE)
    assert str(outside) in output
    mine = tmp_path / "q1.csv"
    mine.write_text("period,team,employee_id,kpi_id,value\n2025Q1,sales,E00003,quota_attainment,97\n")
    code, out, err = cli("import-actuals", mine, "-w", sample_workspace)
    assert code == 2 and "actuals.csv" in err and OUTSIDE in err and SECRET not in out + err, out + err
    assert not (sample_workspace / "actuals.duckdb").exists()


# --- DuckDB sources read only their own database --------------------------------------------------------------------

def duckdb_warehouse(path: Path, secret: Path) -> Path:
    """A real DuckDB file: a table of deals of the sample's people, and a view that reads the file `secret`."""
    import duckdb

    with duckdb.connect(str(path)) as con:
        con.execute("CREATE TABLE deals (owner TEXT, closed_on DATE, amount DOUBLE)")
        con.execute("INSERT INTO deals VALUES ('E00003', DATE '2025-02-03', 1200), ('E00004', DATE '2025-03-04', 80)")
        con.execute(f"CREATE VIEW leak AS SELECT * FROM read_csv('{secret}', header = false)")
    return path


def add_database_source(root: Path, url: str, where: str) -> None:
    """Add the source 'warehouse' at `url` (`where`: its table: or query: lines) to the sample's sources.yaml."""
    entry = (f"- name: warehouse\n  url: '{url}'\n{where}  when: closed_on\n  employee: owner\n"
             "  columns: {amount: number}\n")
    path = root / "sources.yaml"
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\n" + entry, encoding="utf-8")


def read_warehouse(root: Path) -> int:
    framework = load_framework(root)
    employees = load_employees(root, framework)
    return read_source(load_sources(root)["warehouse"], root, framework, employees, ibis.duckdb.connect()).rows


WAREHOUSE_QUERIES = {
    "read_csv of /etc/passwd": "select * from read_csv('/etc/passwd')",
    "read_csv of a secret file": "select * from read_csv('{secret}', header = false)",
    "read_json": "select * from read_json('{secret}')",
    "read_parquet": "select * from read_parquet('{secret}')",
    "read_text": "select * from read_text('{secret}')",
    "glob": "select file from glob('/etc/*')",
}


@pytest.mark.parametrize("database", ["file", "in memory"])
@pytest.mark.parametrize("query", list(WAREHOUSE_QUERIES.values()), ids=list(WAREHOUSE_QUERIES))
def test_a_duckdb_query_cannot_read_a_file_of_the_machine(sample_workspace, outside, database, query, cli):
    path = duckdb_warehouse(sample_workspace / "warehouse.duckdb", outside)
    url = f"duckdb:///{path}" if database == "file" else "duckdb://"
    add_database_source(sample_workspace, url, f"  query: \"{query.format(secret=outside)}\"\n")
    with pytest.raises(InputError) as caught:
        read_warehouse(sample_workspace)
    [problem] = caught.value.problems
    assert (problem.entry, problem.field) == ("source 'warehouse'", "query")
    assert "reads only the tables and views of its own database" in problem.message
    assert SECRET not in str(caught.value) and "root:" not in str(caught.value)
    code, out, err = cli("validate", "--connect", "-w", sample_workspace)
    assert code != 0 and "Traceback" not in out + err and SECRET not in out + err and "root:" not in out + err
    assert "source 'warehouse', field `query`" in out and "reads only the tables" in out, out + err


def test_a_view_of_a_duckdb_file_cannot_read_a_file_of_the_machine(sample_workspace, outside):
    path = duckdb_warehouse(sample_workspace / "warehouse.duckdb", outside)
    add_database_source(sample_workspace, f"duckdb:///{path}", "  table: leak\n")
    with pytest.raises(InputError) as caught:
        read_warehouse(sample_workspace)
    [problem] = caught.value.problems
    assert (problem.entry, problem.field) == ("source 'warehouse'", "table")
    assert "reads only the tables and views of its own database" in problem.message
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize("where", ["  table: deals\n", "  query: select owner, closed_on, amount * 2 AS amount "
                                                        "from deals where amount > 100\n"])
def test_a_duckdb_table_or_query_of_its_own_database_is_still_read(sample_workspace, outside, where):
    path = duckdb_warehouse(sample_workspace / "warehouse.duckdb", outside)
    add_database_source(sample_workspace, f"duckdb:///{path}", where)
    assert read_warehouse(sample_workspace) == (2 if "table" in where else 1)


def test_a_duckdb_query_cannot_attach_another_database(sample_workspace, outside, tmp_path):
    other = duckdb_warehouse(tmp_path / "other.duckdb", outside)
    path = duckdb_warehouse(sample_workspace / "warehouse.duckdb", outside)
    add_database_source(sample_workspace, f"duckdb:///{path}",
                        f"  query: select * from deals union all select * from '{other}'.main.deals\n")
    with pytest.raises(InputError) as caught:
        read_warehouse(sample_workspace)
    assert caught.value.problems[0].field == "query"
