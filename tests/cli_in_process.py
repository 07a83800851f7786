"""The `kpi-workbook` console script's entry point, run inside the test process.

A subprocess pays the imports of pandas, DuckDB and pydantic on every call; this runs the very function the
console script runs (`kpi_workbook.cli.main`), with its own argv, working folder, environment and captured
output. An exception that escapes it is not turned into an exit code: it fails the test with its traceback.
Commands that start kernels, servers or locks held across processes keep using the subprocess `cli` fixture.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path

from kpi_workbook.cli import main


@contextmanager
def _argv(args: list[str]) -> Iterator[None]:
    saved = sys.argv
    sys.argv = ["kpi-workbook", *args]
    try:
        yield
    finally:
        sys.argv = saved


@contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def _working_folder(folder: Path | None) -> Iterator[None]:
    saved = Path.cwd()
    if folder is not None:
        os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(saved)


def _exit_code(exit_: SystemExit) -> int:
    if exit_.code is None:
        return 0
    return exit_.code if isinstance(exit_.code, int) else 1


def run_cli_in_process(*args: object, cwd: Path | None = None,
                       env: Mapping[str, str] | None = None) -> tuple[int, str, str]:
    """Run `kpi-workbook ARGS...` as the console script would and return (exit code, stdout, stderr)."""
    stdout, stderr = io.StringIO(), io.StringIO()
    code = 0
    with _argv([str(a) for a in args]), _environment(env or {}), _working_folder(cwd), \
            redirect_stdout(stdout), redirect_stderr(stderr):
        try:
            main()
        except SystemExit as exit_:
            code = _exit_code(exit_)
    return code, stdout.getvalue(), stderr.getvalue()
