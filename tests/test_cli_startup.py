"""`kpi-workbook --help` and every command's `--help` load none of the slow modules (the start-up stays fast).

A fresh interpreter imports every command module, runs the console script's entry point for the application's help
and then for each command's help, and reports after each call which of HEAVY are loaded; every command imports the
libraries it works with inside the function that runs it. Nothing is timed here: benchmarks/bench_startup.py
measures the start-up.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from kpi_workbook.core.paths import PACKAGE_DIR

HEAVY = (
    "pandas", "numpy", "pyarrow", "duckdb", "ibis", "sqlglot", "pandera", "scipy", "sklearn", "matplotlib",
    "openpyxl", "nbformat", "jsonschema", "nbconvert", "papermill", "jupyter_client", "ipywidgets", "IPython",
    "dask", "psycopg",
    "kpi_workbook.core.model",  # builds the framework's pydantic models
)
PROBE = """
import contextlib, io, json, sys
import typer
from kpi_workbook.cli import _register_commands, app, main

heavy = sys.argv[1].split(",")
_register_commands()
names = sorted(name for name, command in typer.main.get_command(app).commands.items() if not command.hidden)
report = []
for args in [["--help"], *([name, "--help"] for name in names)]:
    sys.argv = ["kpi-workbook", *args]
    shown = io.StringIO()
    with contextlib.redirect_stdout(shown), contextlib.suppress(SystemExit):
        main()
    report.append({"args": args, "usage": "Usage:" in shown.getvalue(),
                   "loaded": [module for module in heavy if module in sys.modules]})
print(json.dumps(report))
"""


def _help_report(package_parent: Path | None = None) -> list[dict]:
    """What each help call of a fresh `kpi-workbook` loaded: [{args, usage (printed), loaded (of HEAVY)}, ...];
    the package is the one in `package_parent` when given (run from there, ahead of the installed one)."""
    env = {**os.environ, "COLUMNS": "120"}
    if package_parent is not None:
        env["PYTHONPATH"] = str(package_parent)
    done = subprocess.run([sys.executable, "-c", PROBE, ",".join(HEAVY)], capture_output=True, text=True,
                          cwd=package_parent, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_help_of_the_app_and_of_every_command_loads_no_heavy_library():
    report = _help_report()

    commands = [entry["args"][0] for entry in report[1:]]
    assert report[0]["args"] == ["--help"]
    assert {"compute", "import-actuals", "library", "notebooks", "run", "targets", "workshop"} <= set(commands)
    assert all(entry["usage"] for entry in report), report
    assert {" ".join(e["args"]): e["loaded"] for e in report if e["loaded"]} == {}


def test_a_command_module_that_imports_pandas_at_the_top_is_caught(tmp_path: Path):
    shutil.copytree(PACKAGE_DIR, tmp_path / "kpi_workbook", ignore=shutil.ignore_patterns("__pycache__"))
    review = tmp_path / "kpi_workbook" / "cli" / "cmd_review.py"
    review.write_text(review.read_text() + "\nimport pandas  # noqa: E402, F401\n")

    loaded = {" ".join(e["args"]): e["loaded"] for e in _help_report(tmp_path)}

    assert "pandas" in loaded["--help"]
    assert "pandas" in loaded["review --help"]
