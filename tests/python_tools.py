"""Python tools the tests start as processes of their own (papermill, pytest), without jsonschema's IRI grammar.

nbformat validates every notebook with jsonschema, and jsonschema compiles the grammar of rfc3987_syntax at import
when that package is installed: more than a second of CPU in each process that reads a notebook, for the `iri`
formats that no notebook schema uses. The kpi-workbook console script leaves it out
(kpi_workbook/core/lean_imports.py); these commands do the same, then call the tool's own console-script entry point
in a fresh interpreter with the arguments as given. The kernels the tools start are not affected (they never import
jsonschema). For the Python processes that others start (git's filters and diff drivers), an environment puts a
stand-in that cannot be imported first on the module path (tests/without_iri_grammar/)."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

# a module set to None in sys.modules is one that cannot be imported, which jsonschema expects and handles
WITHOUT_IRI_GRAMMAR = "import sys; sys.modules.setdefault('rfc3987_syntax', None); "
STAND_IN_FOLDER = Path(__file__).parent / "without_iri_grammar"
# kpi_workbook.batch.papermill_engine.ENGINE_NAME, spelled out: importing it would load papermill in every worker
ENGINE_NAME = "kpi_workbook_rechecking"


def leave_out_iri_grammar() -> None:
    """The same for this process: call before anything imports jsonschema."""
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]


def papermill_command(*args: object) -> list[str]:
    """`papermill ARGS... --engine kpi_workbook_rechecking`: the entry point of papermill's console script, with the
    engine whose kernel client cannot miss a cell's reply (kpi_workbook/batch/kernel_client.py)."""
    entry = "from papermill.__main__ import papermill; papermill(prog_name='papermill')"
    return [sys.executable, "-c", WITHOUT_IRI_GRAMMAR + entry, *map(str, args), "--engine", ENGINE_NAME]


def pytest_command(*args: object) -> list[str]:
    """`python -m pytest ARGS...`: the entry point of pytest's console script."""
    entry = "import pytest; raise SystemExit(pytest.console_main())"
    return [sys.executable, "-c", WITHOUT_IRI_GRAMMAR + entry, *map(str, args)]


def environment_without_iri_grammar(env: Mapping[str, str]) -> dict[str, str]:
    """`env` with the stand-in folder first on PYTHONPATH, for every Python process started with it."""
    path = [str(STAND_IN_FOLDER), *filter(None, [env.get("PYTHONPATH")])]
    return {**env, "PYTHONPATH": os.pathsep.join(path)}
