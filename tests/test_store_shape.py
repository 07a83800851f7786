"""A DuckDB file that is not a store of this tool (no `actuals` table, a column missing, values held as text) is
named as such, with what to do, by every command that reads it: exit 2, no traceback, the file left as it was."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from cli_in_process import run_cli_in_process

from kpi_workbook.core.paths import SAMPLE_ORG_DIR
from kpi_workbook.workspace.files import ACTUALS_DB

BREAKS = {
    "no actuals table": ("ALTER TABLE actuals RENAME TO old_actuals", "it has no table 'actuals'"),
    "a column missing": ("ALTER TABLE actuals DROP COLUMN period_start",
                         "its table 'actuals' lacks the column(s) period_start"),
    "values as text": ("ALTER TABLE actuals ALTER value TYPE VARCHAR", "its column 'value' holds VARCHAR, not numbers"),
}


@pytest.fixture(scope="module")
def computed(tmp_path_factory) -> Path:
    """The sample organization with its store computed once."""
    root = tmp_path_factory.mktemp("shape") / "ws"
    shutil.copytree(SAMPLE_ORG_DIR, root)
    if not (root / ACTUALS_DB).exists():
        assert run_cli_in_process("compute", "-w", str(root))[0] == 0
    return root


@pytest.mark.parametrize(("broken", "command"), [*((b, "score") for b in BREAKS), ("values as text", "targets"),
                                                 ("no actuals table", "review"), ("a column missing", "compute")])
def test_a_store_of_the_wrong_shape_is_named_with_the_fix(computed: Path, tmp_path: Path, broken: str, command: str):
    root = tmp_path / "ws"
    shutil.copytree(computed, root)
    statement, said = BREAKS[broken]
    with duckdb.connect(str(root / ACTUALS_DB)) as con:
        con.execute(statement)
    before = (root / ACTUALS_DB).read_bytes()
    code, out, err = run_cli_in_process(command, "-w", str(root))
    assert code == 2, out + err
    assert "Traceback" not in out + err
    assert f"{root / ACTUALS_DB}: not an actuals store of kpi-workbook: {said}" in err
    assert "run compute (or import-actuals) to build it again" in err
    assert (root / ACTUALS_DB).read_bytes() == before
