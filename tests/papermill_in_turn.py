"""Run notebooks with papermill one after another in one process: `python tests/papermill_in_turn.py JOBS.json`.

JOBS.json lists the runs, each with its notebook (`source`), where the executed notebook goes (`output`), its
`parameters` and the time limit of each cell (`cell_seconds`). Each run is what papermill's command does with
`-k python3 --no-progress-bar --no-request-save-on-cell-execute --execution-timeout N --engine kpi_workbook_rechecking`
(a kernel of its own, started for the notebook and shut down after it); a run whose cell fails is written with the
cell's error, as the command writes it, and the next run goes on. One process for several runs loads papermill once.
"""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path

from python_tools import ENGINE_NAME, leave_out_iri_grammar

leave_out_iri_grammar()  # before papermill loads nbformat, and with it jsonschema

import papermill  # noqa: E402
from papermill.exceptions import PapermillExecutionError  # noqa: E402


def main(jobs_file: str) -> int:
    """Run every job; 1 when a run failed otherwise than in a cell (its error is on stderr), else 0."""
    failed = 0
    for job in json.loads(Path(jobs_file).read_text(encoding="utf-8")):
        try:
            papermill.execute_notebook(job["source"], job["output"], parameters=job["parameters"],
                                       kernel_name="python3", progress_bar=False, request_save_on_cell_execute=False,
                                       execution_timeout=job["cell_seconds"], engine_name=ENGINE_NAME)
        except PapermillExecutionError:
            continue  # written with the failed cell's error: the test reads it
        except Exception:
            failed = 1
            print(f"{job['source']} -> {job['output']}:\n{traceback.format_exc()}", file=sys.stderr)
    return failed


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
