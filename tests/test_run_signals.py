"""SIGTERM, SIGHUP and SIGKILL end a run as Ctrl-C does: the finished runs recorded, the others left planned for
--retry-failed, the index written, the lock released, and no process of the run left behind."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest
from batch_fixtures import people_and_second_notebook
from run_processes import Run, finish, kill_all, processes_of, start_run, stop, wait_for

from kpi_workbook.batch.lock import LOCK_FILE
from kpi_workbook.batch.records import RUNS_FILE, load_planned, load_runs

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("runner")]

RELEASE = "KPI_TEST_RELEASE"  # the file whose creation lets every waiting notebook finish
WAIT_CELL = (
    "import os, pathlib, time\n"
    f"release = pathlib.Path(os.environ['{RELEASE}'])\n"
    "while not release.exists():\n"
    "    time.sleep(0.1)"
)
FINISHED = {("alpha", "01_people"), ("beta", "01_people")}
UNFINISHED = {("alpha", "02_wait"), ("beta", "02_wait")}
LEFT_SECONDS = 15  # how long the processes of a stopped or killed run may take to end


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    return people_and_second_notebook(tmp_path_factory.mktemp("signals"), "02_wait.ipynb", WAIT_CELL)


def start(setup, out: Path, release: Path, *args: str) -> Run:
    workspace, notebooks = setup
    return start_run("run", "--no-progress", "-w", workspace, "--notebooks-dir", notebooks, "--out", out,
                     "--team", "alpha,beta", "--jobs", "2", *args, env={RELEASE: str(release)})


def recorded(period_dir: Path) -> set[tuple[str, str]]:
    return {(r.team, r.notebook) for r in load_runs(period_dir)} if (period_dir / RUNS_FILE).exists() else set()


def started_and_waiting(tmp_path: Path, setup) -> tuple[Run, Path]:
    """A run of alpha and beta whose people notebooks are recorded and whose second notebooks wait."""
    out = tmp_path / "out"
    run = start(setup, out, tmp_path / "release")
    wait_for(lambda: recorded(out / "2025Q4") == FINISHED or run.poll() is not None, what="the first two runs")
    assert run.poll() is None, finish(run, 10)
    return run, out / "2025Q4"


def assert_nothing_left(run: Run) -> None:
    wait_for(lambda: not processes_of(run), timeout=LEFT_SECONDS, what="every process of the run to end")


@pytest.mark.parametrize(("signum", "code", "whole_group"), [
    (signal.SIGTERM, 143, False),  # `kill PID`
    (signal.SIGTERM, 143, True),  # a service manager stopping every process
    (signal.SIGHUP, 129, True),  # the terminal closed: its whole foreground job
])
def test_a_stop_signal_ends_the_run_as_ctrl_c_does(setup, tmp_path, signum, code, whole_group):
    run, period_dir = started_and_waiting(tmp_path, setup)
    try:
        if whole_group:
            _, err = stop(run, signum)
        else:
            run.send_signal(signum)
            _, err = finish(run, 60, f"end after {signal.Signals(signum).name}")
        assert run.returncode == code, err
        assert f"interrupted ({signal.Signals(signum).name})" in err
        assert recorded(period_dir) == FINISHED
        assert load_planned(period_dir) == UNFINISHED
        assert (period_dir / "index.html").is_file()
        assert not (period_dir / LOCK_FILE).exists()
        assert_nothing_left(run)
    finally:
        kill_all(run)


def test_a_killed_runner_leaves_no_process_and_retry_runs_what_it_did_not_finish(setup, tmp_path):
    run, period_dir = started_and_waiting(tmp_path, setup)
    try:
        run.send_signal(signal.SIGKILL)  # the runner only: its workers, fork servers and kernels must follow it
        run.wait(timeout=30)
        assert_nothing_left(run)
    finally:
        kill_all(run)
    assert recorded(period_dir) == FINISHED
    assert load_planned(period_dir) == UNFINISHED
    assert not (period_dir / "index.html").exists()  # the killed runner wrote none

    (tmp_path / "release").touch()
    retry = start(setup, tmp_path / "out", tmp_path / "release", "--retry-failed")
    out, err = finish(retry, 300)
    assert retry.returncode == 0, err
    assert "2 of 2 runs ok" in out
    assert recorded(period_dir) == FINISHED | UNFINISHED
    assert load_planned(period_dir) == set()
    assert (period_dir / "index.html").is_file()
    assert json.loads((period_dir / RUNS_FILE).read_text())["planned"] == []
    assert_nothing_left(retry)


def test_a_run_started_with_stop_signals_ignored_keeps_them_ignored(setup, tmp_path):
    """nohup (SIGHUP ignored) is honoured: the hang-up does not end the run, which finishes on its own."""
    workspace, notebooks = setup
    release = tmp_path / "release"
    run = start_run("run", "--no-progress", "-w", workspace, "--notebooks-dir", notebooks, "--out", tmp_path / "out",
                    "--team", "alpha", env={RELEASE: str(release)}, ignore=(signal.SIGHUP,))
    try:
        wait_for(lambda: recorded(tmp_path / "out" / "2025Q4") == {("alpha", "01_people")}, what="the first run")
        os.killpg(run.pid, signal.SIGHUP)
        release.touch()
        out, err = finish(run, 120)
    finally:
        kill_all(run)
    assert run.returncode == 0, err
    assert "2 of 2 runs ok" in out
