"""Bad input never gives a traceback: a table of broken workspaces and imports, each run through the CLI.

Every case starts from a copy of the sample organization, breaks one thing, runs a command through the console
script's entry point (in this process: an exception that escapes it fails the case) and checks the exit code, that
the message names the file and the row, entry or field, that no traceback is printed, and that the workspace's bytes
are unchanged.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cli_in_process import run_cli_in_process

from kpi_workbook.core.paths import SAMPLE_ORG_DIR
from kpi_workbook.workspace.files import ACTUALS_DB

UNREADABLE, FINDINGS, REJECTED = 2, 1, 1
AE = "roles/account_executive.yaml"
FA = "roles/financial_analyst.yaml"
HEADER = "period,team,employee_id,kpi_id,value\n"
Edit = Callable[[Path], None]


def replace(file: str, old: str, new: str) -> Edit:
    """Replace the first `old` in a workspace file (which must hold it) by `new`."""
    def edit(root: Path) -> None:
        text = (root / file).read_text(encoding="utf-8")
        assert old in text, f"{file} does not hold {old!r}"
        (root / file).write_text(text.replace(old, new, 1), encoding="utf-8")
    return edit


def write(file: str, content: str | bytes) -> Edit:
    def edit(root: Path) -> None:
        target = root / file
        target.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return edit


def delete(name: str) -> Edit:
    def edit(root: Path) -> None:
        shutil.rmtree(root / name) if (root / name).is_dir() else (root / name).unlink(missing_ok=True)
    return edit


def make_folder(name: str) -> Edit:
    def edit(root: Path) -> None:
        delete(name)(root)
        (root / name).mkdir()
    return edit


def symlink(name: str, target: str) -> Edit:
    def edit(root: Path) -> None:
        (root / name).symlink_to(target)
    return edit


def named_pipe(name: str) -> Edit:
    def edit(root: Path) -> None:
        os.mkfifo(root / name)
    return edit


CRM_FILE_FIELD = ("sources.yaml", "source 'crm_opportunities'", "field 'file'")


def crm_file(file: str) -> Edit:
    """Point the sample's CRM source at another file."""
    return replace("sources.yaml", "file: exports/crm_opportunities.csv", f"file: {file}")


def add_source(entry: str) -> Edit:
    """Add a source (its lines under `- name: …`) to the end of the sample's sources.yaml."""
    def edit(root: Path) -> None:
        path = root / "sources.yaml"
        path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\n" + entry, encoding="utf-8")
    return edit


def duckdb_source(where: str, url: str = "duckdb:///{ws}/warehouse.duckdb") -> Edit:
    """A source 'warehouse' at `url` ({ws}: the workspace) reading `where` (its table: or query: line)."""
    def edit(root: Path) -> None:
        add_source(f"- name: warehouse\n  url: '{url.replace('{ws}', str(root))}'\n  {where}\n  when: closed_on\n"
                   "  employee: owner\n  columns: {amount: number}\n")(root)
    return edit


def duckdb_file(name: str, *statements: str) -> Edit:
    """A real DuckDB file `name` in the workspace, made by `statements`."""
    def edit(root: Path) -> None:
        import duckdb

        with duckdb.connect(str(root / name)) as con:
            for statement in statements:
                con.execute(statement)
    return edit


WAREHOUSE = "warehouse.duckdb"
DEALS = "CREATE TABLE deals (owner TEXT, closed_on DATE, amount DOUBLE)"
WAREHOUSE_QUERY = ("sources.yaml", "source 'warehouse', field `query`", "reads only the tables and views of its own "
                   "database")


def validate_command(root: Path) -> list[str]:
    """The one place that knows how validate names its workspace."""
    return ["validate", "-w", str(root)]


@dataclass(frozen=True)
class Case:
    """One bad input: how to break the workspace, what to run, the exit code and what the message must name."""

    id: str
    edits: tuple[Edit, ...]
    code: int
    names: tuple[str, ...]
    actuals: str | bytes | None = None  # import this file (written beside the workspace) instead of validating
    options: tuple[str, ...] = ()  # of import-actuals, or of validate when nothing is imported
    marks: tuple = field(default=())


def alias_bomb(levels: int = 9) -> str:
    lines = ["organization: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"x{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


CASES = [
    # --- YAML that cannot be parsed or is not plain data
    Case("malformed framework.yaml", (write("framework.yaml", "organization: [unclosed\n"),), UNREADABLE,
         ("framework.yaml", "line")),
    Case("tab indentation in kpis.yaml", (replace("kpis.yaml", "  name: Quota attainment", "\tname: Quota"),),
         UNREADABLE, ("kpis.yaml", "line")),
    Case("duplicate key in objectives.yaml", (replace("objectives.yaml", "  perspective: financial",
                                                      "  perspective: financial\n  perspective: customer"),),
         UNREADABLE, ("objectives.yaml", "duplicate key 'perspective'", "line")),
    Case("alias bomb in framework.yaml", (write("framework.yaml", alias_bomb()),), UNREADABLE,
         ("framework.yaml", "line 1", "anchor")),
    Case("alias in kpis.yaml", (replace("kpis.yaml", "  owner: Head of Sales", "  owner: &lead Head of Sales"),
                                replace("kpis.yaml", "- id: win_rate", "- id: win_rate\n  owner: *lead")),
         UNREADABLE, ("kpis.yaml", "line", "anchor")),
    Case("merge key in a role", (replace(AE, "- kpi: quota_attainment\n", "- kpi: quota_attainment\n  <<: *base\n"),),
         UNREADABLE, (AE, "line", "alias")),
    Case("invalid date", (replace("framework.yaml", "date: 2024-01-15", "date: 2024-02-30"),), UNREADABLE,
         ("framework.yaml", "invalid date", "line")),
    Case("not UTF-8", (write("teams.yaml", "teams:\n- id: sales\n  name: Caf\xe9\n".encode("latin-1")),), UNREADABLE,
         ("teams.yaml", "cannot be read")),
    Case("misspelled top key", (replace("objectives.yaml", "objectives:", "objective:"),), UNREADABLE,
         ("objectives.yaml", "single key 'objectives'")),
    Case("list at the top of teams.yaml", (write("teams.yaml", "- id: sales\n  name: Sales\n"),), UNREADABLE,
         ("teams.yaml", "single key 'teams'")),
    Case("kpis not a list", (write("kpis.yaml", "kpis:\n  id: x\n"),), UNREADABLE, ("kpis.yaml", "field 'kpis'",
                                                                                    "list")),
    Case("role file is a list", (write(AE, "- id: account_executive\n"),), UNREADABLE, (AE, "role")),
    # --- required files
    Case("missing framework.yaml", (delete("framework.yaml"),), UNREADABLE, ("framework.yaml", "workspace")),
    *[Case(f"missing {name}", (delete(name),), UNREADABLE, (name, "required file not found"))
      for name in ("objectives.yaml", "teams.yaml", "kpis.yaml")],
    Case("missing roles folder", (delete("roles"),), UNREADABLE, ("roles/", "required folder not found")),
    Case("roles is a file", (delete("roles"), write("roles", "x")), UNREADABLE, ("roles/", "not found")),
    Case("framework.yaml is a folder", (make_folder("framework.yaml"),), UNREADABLE, ("framework.yaml",)),
    # --- metadata and settings
    Case("organization missing", (replace("framework.yaml", "organization: Alderbrook Instruments\n", ""),),
         UNREADABLE, ("framework.yaml", "metadata", "field 'organization'", "required")),
    Case("currency not a code", (replace("framework.yaml", "currency: EUR", "currency: euro"),), UNREADABLE,
         ("framework.yaml", "field 'currency'", "ISO 4217", "(got 'euro')")),
    Case("organization empty", (replace("framework.yaml", "organization: Alderbrook Instruments", "organization: ''"),),
         UNREADABLE, ("framework.yaml", "field 'organization'")),
    Case("weight_total NaN", (replace("framework.yaml", "weight_total: 100", "weight_total: .nan"),), UNREADABLE,
         ("framework.yaml", "metadata", "field 'settings.weight_total'", "finite")),
    Case("weight_total infinite", (replace("framework.yaml", "weight_total: 100", "weight_total: .inf"),),
         UNREADABLE, ("framework.yaml", "field 'settings.weight_total'")),
    Case("weight_total quoted", (replace("framework.yaml", "weight_total: 100", "weight_total: '100'"),), UNREADABLE,
         ("framework.yaml", "field 'settings.weight_total'", "valid number")),
    Case("weight_total zero", (replace("framework.yaml", "weight_total: 100", "weight_total: 0"),), UNREADABLE,
         ("framework.yaml", "field 'settings.weight_total'", "greater than 0")),
    Case("min above max", (replace("framework.yaml", "min_kpis_per_role: 3", "min_kpis_per_role: 30"),), UNREADABLE,
         ("framework.yaml", "field 'settings.min_kpis_per_role'", "above max_kpis_per_role")),
    Case("min quoted", (replace("framework.yaml", "min_kpis_per_role: 3", "min_kpis_per_role: '3'"),), UNREADABLE,
         ("framework.yaml", "field 'settings.min_kpis_per_role'", "valid integer")),
    Case("min boolean", (replace("framework.yaml", "min_kpis_per_role: 3", "min_kpis_per_role: true"),), UNREADABLE,
         ("framework.yaml", "field 'settings.min_kpis_per_role'")),
    Case("min fractional", (replace("framework.yaml", "min_kpis_per_role: 3", "min_kpis_per_role: 2.5"),),
         UNREADABLE, ("framework.yaml", "field 'settings.min_kpis_per_role'")),
    Case("max zero", (replace("framework.yaml", "max_kpis_per_role: 8", "max_kpis_per_role: 0"),), UNREADABLE,
         ("framework.yaml", "field 'settings.max_kpis_per_role'")),
    Case("achievable low above high", (replace("framework.yaml", "achievable_low: 0.5", "achievable_low: 0.9"),),
         UNREADABLE, ("framework.yaml", "field 'settings.achievable_low'", "above achievable_high")),
    Case("achievable high above 1", (replace("framework.yaml", "achievable_high: 0.8", "achievable_high: 1.5"),),
         UNREADABLE, ("framework.yaml", "field 'settings.achievable_high'")),
    Case("achievable quoted", (replace("framework.yaml", "achievable_low: 0.5", "achievable_low: '0.5'"),),
         UNREADABLE, ("framework.yaml", "field 'settings.achievable_low'")),
    Case("unknown review cycle", (replace("framework.yaml", "review_cycle: quarterly", "review_cycle: sometimes"),),
         UNREADABLE, ("framework.yaml", "field 'review_cycle'")),
    Case("unknown setting", (replace("framework.yaml", "  weight_total: 100", "  weight_totl: 100"),), UNREADABLE,
         ("framework.yaml", "field 'settings.weight_totl'", "did you mean")),
    Case("unknown metadata field", (replace("framework.yaml", "review_cycle:", "reviewcycle:"),), UNREADABLE,
         ("framework.yaml", "field 'reviewcycle'")),
    Case("settings not a mapping", (replace("framework.yaml", "settings:\n", "settings: strict\nx:\n"),), UNREADABLE,
         ("framework.yaml", "field 'settings'")),
    # --- objectives and teams
    Case("unknown perspective", (replace("objectives.yaml", "perspective: financial", "perspective: money"),),
         UNREADABLE, ("objectives.yaml", "objective 'revenue_growth'", "field 'perspective'")),
    Case("objective id with a space", (replace("objectives.yaml", "id: revenue_growth", "id: revenue growth"),),
         UNREADABLE, ("objectives.yaml", "objective 'revenue growth'", "field 'id'")),
    Case("objective id too long", (replace("objectives.yaml", "id: revenue_growth", "id: " + "r" * 65),),
         UNREADABLE, ("objectives.yaml", "field 'id'")),
    Case("objective title missing", (replace("objectives.yaml", "  title: Grow revenue to EUR 60 million by the end"
                                                                " of 2025\n", ""),),
         UNREADABLE, ("objectives.yaml", "objective 'revenue_growth'", "field 'title'", "required")),
    Case("objective title a number", (replace("objectives.yaml", "  title: Grow revenue to EUR 60 million by the "
                                                                 "end of 2025", "  title: 60"),),
         UNREADABLE, ("objectives.yaml", "objective 'revenue_growth'", "field 'title'")),
    Case("objective parent not an id", (replace("objectives.yaml", "parent: revenue_growth", "parent: '#1'"),),
         UNREADABLE, ("objectives.yaml", "objective 'new_customer_growth'", "field 'parent'")),
    Case("team name missing", (replace("teams.yaml", "  name: Sales\n", ""),), UNREADABLE,
         ("teams.yaml", "team 'sales'", "field 'name'")),
    Case("team unknown field", (replace("teams.yaml", "  name: Sales", "  name: Sales\n  size: 12"),), UNREADABLE,
         ("teams.yaml", "team 'sales'", "field 'size'")),
    Case("team without id", (replace("teams.yaml", "- id: sales\n  name: Sales", "- name: Sales"),), UNREADABLE,
         ("teams.yaml", "team #1", "field 'id'")),
    # --- KPI definitions
    Case("unknown polarity", (replace("kpis.yaml", "polarity: higher_is_better", "polarity: up"),), UNREADABLE,
         ("kpis.yaml", "kpi 'quota_attainment'", "field 'polarity'")),
    Case("category missing", (replace("kpis.yaml", "  category: output\n", ""),), UNREADABLE,
         ("kpis.yaml", "kpi 'quota_attainment'", "field 'category'", "required")),
    Case("KPI name empty", (replace("kpis.yaml", "name: Quota attainment", "name: ''"),), UNREADABLE,
         ("kpis.yaml", "kpi 'quota_attainment'", "field 'name'")),
    Case("unknown frequency", (replace("kpis.yaml", "frequency: quarterly", "frequency: hourly"),), UNREADABLE,
         ("kpis.yaml", "kpi 'quota_attainment'", "field 'frequency'")),
    Case("unknown indicator", (replace("kpis.yaml", "indicator: lagging", "indicator: late"),), UNREADABLE,
         ("kpis.yaml", "kpi 'quota_attainment'", "field 'indicator'")),
    # --- measures that do not fit their sources' columns (validate says what compute would refuse)
    Case("filter compares a number column with text",
         (replace("kpis.yaml", '      column: amount\n      where: stage == "Closed Won"',
                  '      column: amount\n      where: amount == "Closed Won"'),), FINDINGS,
         ("kpis.yaml", "new_business_revenue", "measure.aggregate.where", "compares the number column 'amount'")),
    Case("sum of a text column",
         (replace("kpis.yaml", '      column: amount\n      where: stage == "Closed Won"',
                  '      column: stage\n      where: stage == "Closed Won"'),), FINDINGS,
         ("kpis.yaml", "new_business_revenue", "measure.aggregate.column", "sum of 'stage', a text column")),
    Case("days() of a text column",
         (replace("kpis.yaml", '      where: stage == "Closed Won"', '      where: days(created_on, stage) <= 30'),),
         FINDINGS, ("kpis.yaml", "win_rate", "measure.ratio.numerator.where", "needs two date columns")),
    Case("text_to_number of a number column",
         (replace("sources.yaml", "  columns: {deal_id: text, stage: text, amount: number, created_on: date}",
                  "  columns: {deal_id: text, stage: text, amount: number, created_on: date}\n"
                  "  text_to_number: {points: {column: amount, values: {high: 1}}}"),), FINDINGS,
         ("sources.yaml", "crm_opportunities", "'amount' must be a text column")),
    # --- files sources.yaml names: inside the workspace (or an allowed folder), and regular files
    Case("source file outside the workspace", (crm_file("../../outside.csv"),), UNREADABLE,
         (*CRM_FILE_FIELD, "outside the workspace", "allowed_folders")),
    Case("source file /etc/passwd", (crm_file("/etc/passwd"),), UNREADABLE, (*CRM_FILE_FIELD, "outside the workspace")),
    Case("source file a symlink out of the workspace", (symlink("exports/crm.csv", "/etc/passwd"),
                                                        crm_file("exports/crm.csv")),
         UNREADABLE, (*CRM_FILE_FIELD, "resolves to /etc/passwd")),
    Case("source file a FIFO", (named_pipe("exports/crm.csv"), crm_file("exports/crm.csv")), UNREADABLE,
         (*CRM_FILE_FIELD, "not a regular file")),
    Case("source file a folder", (crm_file("exports"),), UNREADABLE, (*CRM_FILE_FIELD, "not a regular file")),
    Case("allowed folder not a folder", (replace("sources.yaml", "sources:\n", "allowed_folders: [x]\nsources:\n"),),
         UNREADABLE, ("sources.yaml", "field 'allowed_folders[1]'", "not a folder")),
    Case("employees.csv a symlink out of the workspace", (delete("employees.csv"), symlink("employees.csv",
                                                                                     "/etc/passwd")),
         UNREADABLE, ("employees.csv", "outside the workspace", "resolves to /etc/passwd"),
         actuals=HEADER + "2025Q1,sales,E00003,quota_attainment,1\n"),
    Case("actuals.csv a symlink out of the workspace", (symlink("actuals.csv", "/etc/passwd"),), UNREADABLE,
         ("'actuals.csv' is outside the workspace", "resolves to /etc/passwd"),
         actuals=HEADER + "2025Q1,sales,E00003,quota_attainment,1\n"),
    Case("duckdb query reads /etc/passwd", (duckdb_source("query: select * from read_csv('/etc/passwd')",
                                                          "duckdb://"),),
         FINDINGS, (*WAREHOUSE_QUERY, "/etc/passwd"), options=("--connect",)),
    Case("duckdb file query globs the machine", (duckdb_file(WAREHOUSE, DEALS),
                                                 duckdb_source("query: select file from glob('/etc/*')")),
         FINDINGS, WAREHOUSE_QUERY, options=("--connect",)),
    Case("duckdb file view reads /etc/passwd",
         (duckdb_file(WAREHOUSE, DEALS, "CREATE VIEW leak AS SELECT * FROM read_csv('/etc/passwd')"),
          duckdb_source("table: leak")),
         FINDINGS, ("sources.yaml", "source 'warehouse', field `table`", "reads only the tables"),
         options=("--connect",)),
    Case("allowed_folders not a list", (replace("sources.yaml", "sources:\n", "allowed_folders: x\nsources:\n"),),
         UNREADABLE, ("sources.yaml", "field 'allowed_folders'", "list of folders")),
    # --- roles and their KPI assignments
    Case("weight quoted", (replace(AE, "weight: 30", "weight: '30'"),), UNREADABLE,
         (AE, "role 'account_executive'", "kpis[1] (quota_attainment).weight", "valid number")),
    Case("weight boolean", (replace(AE, "weight: 30", "weight: true"),), UNREADABLE,
         (AE, "role 'account_executive'", "kpis[1] (quota_attainment).weight")),
    Case("weight NaN", (replace(AE, "weight: 30", "weight: .nan"),), UNREADABLE,
         (AE, "kpis[1] (quota_attainment).weight", "finite")),
    Case("weight negative", (replace(AE, "weight: 30", "weight: -5"),), UNREADABLE,
         (AE, "kpis[1] (quota_attainment).weight")),
    Case("weight above 100", (replace(AE, "weight: 30", "weight: 150"),), UNREADABLE,
         (AE, "kpis[1] (quota_attainment).weight")),
    Case("weight missing", (replace(AE, "  weight: 30\n", ""),), UNREADABLE,
         (AE, "kpis[1] (quota_attainment).weight", "required")),
    Case("threshold quoted", (replace(AE, "threshold: 80", "threshold: '80'"),), UNREADABLE,
         (AE, "kpis[1] (quota_attainment).threshold")),
    Case("target a list", (replace(AE, "target: 100", "target: [100]"),), UNREADABLE,
         (AE, "kpis[1] (quota_attainment).target")),
    Case("target_range of one value", (replace(FA, "target_range: [-3, 3]", "target_range: [-3]"),), UNREADABLE,
         (FA, "role 'financial_analyst'", "target_range")),
    Case("target_range of words", (replace(FA, "target_range: [-3, 3]", "target_range: [low, high]"),), UNREADABLE,
         (FA, "target_range")),
    Case("threshold_range quoted", (replace(FA, "threshold_range: [-6, 6]", "threshold_range: ['-6', '6']"),),
         UNREADABLE, (FA, "threshold_range")),
    Case("role file named after another id", (replace(AE, "id: account_executive", "id: seller"),), UNREADABLE,
         (AE, "role 'seller'", "field 'id'", "roles/seller.yaml")),
    Case("assignment without kpi", (replace(AE, "- kpi: quota_attainment\n", "- weight_x: 1\n"),), UNREADABLE,
         (AE, "role 'account_executive'", "kpis[1]", "kpi")),
    Case("misspelled assignment field", (replace(AE, "weight: 30", "wieght: 30"),), UNREADABLE,
         (AE, "kpis[1] (quota_attainment).wieght", "did you mean 'weight'")),
    Case("responsibility without description", (replace(AE, "  description: Build and qualify a pipeline of "
                                                           "opportunities in the assigned territory\n", ""),),
         UNREADABLE, (AE, "responsibilities[1] (build_pipeline).description", "required")),
    Case("role title missing", (replace(AE, "title: Account Executive\n", ""),), UNREADABLE,
         (AE, "role 'account_executive'", "field 'title'")),
    Case("role teams not a list", (replace(AE, "teams: [sales]", "teams: {sales: 1}"),), UNREADABLE,
         (AE, "field 'teams'")),
    Case("empty role file", (write(AE, ""),), UNREADABLE, (AE, "field 'id'", "required")),
    # --- findings of the checks (the files load; the framework is wrong)
    Case("weights sum to 165", (replace(AE, "weight: 30", "weight: 95"),), FINDINGS,
         (AE, "account_executive", "weight")),
    Case("unknown objective", (replace(AE, "objectives: [revenue_growth]", "objectives: [world_peace]"),), FINDINGS,
         ("account_executive", "world_peace")),
    Case("unknown KPI in a role", (replace(AE, "- kpi: quota_attainment", "- kpi: happiness"),), FINDINGS,
         ("account_executive", "happiness")),
    # --- employees
    Case("empty employees.csv", (write("employees.csv", ""),), FINDINGS, ("employees.csv", "row 1", "empty")),
    Case("employees.csv without role column", (write("employees.csv", "employee_id,name,team\nE1,Ann,sales\n"),),
         FINDINGS, ("employees.csv", "role")),
    Case("employee of an unknown team", (replace("employees.csv", "E00001,Tomas Lehmann,customer_support",
                                                 "E00001,Tomas Lehmann,nowhere"),),
         FINDINGS, ("employees.csv", "row 2", "team", "nowhere")),
    Case("duplicate employee id", (replace("employees.csv", "E00002,", "E00001,"),), FINDINGS,
         ("employees.csv", "row 3", "employee_id", "duplicate")),
    Case("employees.csv not UTF-8", (write("employees.csv", "employee_id,name,team,role\nE1,Jos\xe9,sales,"
                                                            "account_executive\n".encode("latin-1")),),
         FINDINGS, ("employees.csv", "not UTF-8")),
    # --- import-actuals
    Case("actuals: unknown KPI", (), REJECTED, ("actuals.csv", "row 2", "kpi_id"),
         actuals=HEADER + "2025Q1,sales,E00003,happiness,1\n"),
    Case("actuals: value not a number", (), REJECTED, ("actuals.csv", "row 2", "value"),
         actuals=HEADER + "2025Q1,sales,E00003,quota_attainment,lots\n"),
    Case("actuals: unknown team", (), REJECTED, ("actuals.csv", "row 2", "team"),
         actuals=HEADER + "2025Q1,nowhere,E00003,quota_attainment,1\n"),
    Case("actuals: bad period", (), REJECTED, ("actuals.csv", "row 2", "period"),
         actuals=HEADER + "2025-Q9,sales,E00003,quota_attainment,1\n"),
    Case("actuals: empty file", (), UNREADABLE, ("actuals.csv",), actuals=""),
    Case("actuals: missing column", (), UNREADABLE, ("actuals.csv", "value"),
         actuals="period,team,employee_id,kpi_id\n2025Q1,sales,E00003,quota_attainment\n"),
    Case("actuals: 200,000 characters in row 2", (), UNREADABLE, ("actuals.csv", "row 2"),
         actuals=HEADER + "2025Q1,sales,E00003,quota_attainment," + "9" * 200_000 + "\n"),
    Case("actuals: rejects onto a framework file", (), UNREADABLE, ("kpis.yaml", "--rejects"),
         actuals=HEADER + "2025Q1,sales,E00003,happiness,1\n",
         options=("--skip-invalid", "--rejects", "{ws}/kpis.yaml")),
    Case("actuals: rejects is a folder", (), UNREADABLE, ("rejects",),
         actuals=HEADER + "2025Q1,sales,E00003,happiness,1\n", options=("--skip-invalid", "--rejects", "{ws}/roles")),
    Case("actuals: corrupt store", (write(ACTUALS_DB, b"not a database" * 100),), UNREADABLE, (ACTUALS_DB,),
         actuals=HEADER + "2025Q1,sales,E00003,quota_attainment,1\n"),
    Case("actuals: store is a folder", (make_folder(ACTUALS_DB),), UNREADABLE, (ACTUALS_DB,),
         actuals=HEADER + "2025Q1,sales,E00003,quota_attainment,1\n"),
    Case("actuals into a workspace with a broken role", (replace(AE, "weight: 30", "weight: '30'"),), UNREADABLE,
         (AE, "kpis[1] (quota_attainment).weight"), actuals=HEADER + "2025Q1,sales,E00003,quota_attainment,1\n"),
]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("pristine") / "ws"
    shutil.copytree(SAMPLE_ORG_DIR, root, ignore=shutil.ignore_patterns(f"{ACTUALS_DB}*", "actuals.csv"))
    return root


def _snapshot(root: Path) -> dict[str, bytes | None]:
    """Every file's bytes; the store's empty lock file (taken by a write that was refused) is not content."""
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None) for p in sorted(root.rglob("*"))
            if p.name != f".{ACTUALS_DB}.lock"}


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=c.marks) for c in CASES])
def test_bad_input_gives_a_clean_message_naming_where_and_changes_nothing(case: Case, pristine: Path, tmp_path):
    root = tmp_path / "ws"
    shutil.copytree(pristine, root)
    for edit in case.edits:
        edit(root)
    before = _snapshot(root)
    if case.actuals is None:
        command = [*validate_command(root), *case.options]
    else:
        source = tmp_path / "actuals.csv"
        source.write_bytes(case.actuals if isinstance(case.actuals, bytes) else case.actuals.encode("utf-8"))
        command = ["import-actuals", str(source), "-w", str(root),
                   *(option.replace("{ws}", str(root)) for option in case.options)]
    code, stdout, stderr = run_cli_in_process(*command)
    output = stdout + stderr
    assert "Traceback" not in output, output
    assert code == case.code, output
    missing = [name for name in case.names if name not in output]
    assert missing == [], output
    assert _snapshot(root) == before


def test_the_table_is_large_enough():
    assert len(CASES) >= 60 and len({c.id for c in CASES}) == len(CASES)
