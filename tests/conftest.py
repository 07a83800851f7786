"""Shared fixtures: a copy of the sample organization, a small valid framework, and the CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest
from cli_in_process import run_cli_in_process
from python_tools import leave_out_iri_grammar

from kpi_workbook.core.model import (
    Framework,
    KpiDefinition,
    Metadata,
    Objective,
    Responsibility,
    Role,
    RoleKpi,
    Team,
)
from kpi_workbook.core.paths import SAMPLE_ORG_DIR
from kpi_workbook.workspace.files import ACTUALS_DB
from kpi_workbook.workspace.opener import WORKSPACE_ENV

# Before any test imports jsonschema (through nbformat): no IRI grammar, see tests/python_tools.py. The nbval plugin,
# which would import it at start-up, is left out of the suite's own runs (addopts); tests/test_nbval.py loads it.
leave_out_iri_grammar()

# a throw-away PostgreSQL server; tmpfs mounts; the workshop app and a browser page (tests/test_workshop_*.py)
pytest_plugins = ["postgres_cluster", "small_filesystems", "workshop_browser"]
CLI_SCRIPT = Path(sys.executable).parent / "kpi-workbook"
# Commands that start kernels or servers, or hold locks across processes, run as a subprocess of the console script.
SUBPROCESS_COMMANDS = {"run", "workshop"}

RunCli = Callable[..., tuple[int, str, str]]

# The test files of a minute or more (notebook runs, browsers, runners), longest first as measured with
# `pytest --durations`. `pytest -n 2 --dist loadfile` (with --no-loadscope-reorder, see pyproject.toml) hands files
# to its workers in collection order, so these go first and the short files even out the two workers at the end.
# Any other file keeps its place after them; the order of the tests within a file never changes.
LONGEST_FIRST = (
    "test_report_browser.py", "test_notebooks.py", "test_notebooks_sales.py", "test_opener.py",
    "test_workshop_facilitators.py", "test_workshop_step3.py", "test_workshop_browser.py", "test_runner.py",
    "test_nbval.py", "test_injection.py", "test_batch_executors.py", "test_wheel.py", "test_workspace_git.py",
    "test_batch_isolation.py", "test_run_lock.py", "test_run_signals.py", "test_crash_safety.py",
    "test_report_links.py", "test_roster_measures.py", "test_measure_shapes.py", "test_warehouse_sources.py",
    "test_assignments_agree.py", "test_measure_lineage_view.py", "test_sample_compute.py", "test_export.py",
    "test_types.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The files of LONGEST_FIRST first, in its order (a stable sort: nothing else moves)."""
    rank = {name: place for place, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture
def sample_workspace(tmp_path: Path) -> Path:
    """A private copy of data/sample_org (without the actuals store) that a test may change."""
    if not SAMPLE_ORG_DIR.is_dir():
        pytest.skip("data/sample_org is not there")
    target = tmp_path / "sample_org"
    shutil.copytree(SAMPLE_ORG_DIR, target, ignore=shutil.ignore_patterns(f"{ACTUALS_DB}*"))
    return target


@pytest.fixture(autouse=True)
def _no_workspace_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test opens the workspace the developer's shell names: $KPI_WORKBOOK_WORKSPACE is unset in every test."""
    monkeypatch.delenv(WORKSPACE_ENV, raising=False)


def cli_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a CLI subprocess runs with: this one without $KPI_WORKBOOK_WORKSPACE, plus `env`."""
    clean = {k: v for k, v in os.environ.items() if k != WORKSPACE_ENV}
    return {**clean, **(env or {})}


@pytest.fixture(scope="session")
def cli() -> RunCli:
    """Run `kpi-workbook ARGS...` in `cwd` (default: this process's) and return (exit code, stdout, stderr).

    $KPI_WORKBOOK_WORKSPACE is unset unless `env` sets it; `env` adds to (or overrides) the environment. Most commands
    run the console script's entry point in this process (see cli_in_process); SUBPROCESS_COMMANDS run the script.
    """
    def run(*args: object, cwd: Path | None = None, env: Mapping[str, str] | None = None,
            timeout: float = 600) -> tuple[int, str, str]:
        if not args or str(args[0]) not in SUBPROCESS_COMMANDS:
            return run_cli_in_process(*args, cwd=cwd, env=env)
        done = subprocess.run([str(CLI_SCRIPT), *map(str, args)], capture_output=True, text=True, cwd=cwd,
                              env=cli_environment(env), timeout=timeout)
        return done.returncode, done.stdout, done.stderr
    return run


def _kpi(ident: str, name: str, polarity: str, category: str, indicator: str, unit: str) -> KpiDefinition:
    return KpiDefinition(
        id=ident, name=name, description=f"{name} of the account executive, per quarter", unit=unit,
        formula=f"{name.lower()} as recorded at quarter end", polarity=polarity, category=category,
        indicator=indicator, frequency="quarterly", data_source="CRM", owner="Sales operations", family="sales",
    )


@pytest.fixture
def small_framework() -> Framework:
    """A small framework, built in code, that passes every check without a single finding."""
    return Framework(
        metadata=Metadata(organization="Example Ltd", version="2025.1", review_cycle="quarterly"),
        objectives=[
            Objective(id="grow_revenue", title="Grow revenue 15 % a year", perspective="financial"),
            Objective(id="skilled_people", title="A skilled workforce", perspective="learning_growth"),
        ],
        teams=[Team(id="sales", name="Sales", department="Commercial")],
        kpis=[
            _kpi("win_rate", "Win rate", "higher_is_better", "output", "lagging", "%"),
            _kpi("pipeline_coverage", "Pipeline coverage ratio", "higher_is_better", "efficiency", "leading", "x"),
            _kpi("sales_cycle_days", "Sales cycle length in days", "lower_is_better", "efficiency", "lagging",
                 "days"),
            _kpi("average_discount", "Average discount", "within_range", "quality", "lagging", "%"),
            _kpi("training_hours", "Training hours", "higher_is_better", "development", "leading", "hours"),
        ],
        roles=[
            Role(
                id="account_executive", title="Account executive", teams=["sales"], purpose="Win new customers.",
                responsibilities=[
                    Responsibility(id="close_deals", description="Close new business"),
                    Responsibility(id="build_pipeline", description="Build a qualified pipeline"),
                    Responsibility(id="price_deals", description="Price deals within policy"),
                    Responsibility(id="learn", description="Keep sales skills current"),
                ],
                kpis=[
                    RoleKpi(kpi="win_rate", weight=30, threshold=20, target=25, stretch=30,
                            objectives=["grow_revenue"], responsibility="close_deals"),
                    RoleKpi(kpi="pipeline_coverage", weight=20, threshold=2.5, target=3, stretch=4,
                            objectives=["grow_revenue"], responsibility="build_pipeline"),
                    RoleKpi(kpi="sales_cycle_days", weight=20, threshold=90, target=75, stretch=60,
                            objectives=["grow_revenue"], responsibility="close_deals"),
                    RoleKpi(kpi="average_discount", weight=15, target_range=(5, 10), threshold_range=(2, 15),
                            objectives=["grow_revenue"], responsibility="price_deals"),
                    RoleKpi(kpi="training_hours", weight=15, threshold=6, target=10, stretch=16,
                            objectives=["skilled_people"], responsibility="learn", review_period="quarterly"),
                ],
            )
        ],
    )


@pytest.fixture(scope="session")
def scored_sample():
    """The sample framework, 180 generated people, their 8 quarters of actuals (seed 42) and the scores."""
    from kpi_workbook.analysis.scoring import score_actuals
    from kpi_workbook.sample import generate_actuals, generate_employees, quarter_labels
    from kpi_workbook.workspace.files import load_framework

    framework = load_framework(SAMPLE_ORG_DIR)
    employees = generate_employees(framework, 180, 42)
    actuals = generate_actuals(framework, employees, quarter_labels("2024Q1", 8), 42)
    return framework, employees, actuals, score_actuals(actuals, employees, framework)
