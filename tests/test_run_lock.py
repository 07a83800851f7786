"""One runner per period folder, and a record that survives a killed runner."""

from __future__ import annotations

import json
import signal
import socket
from pathlib import Path

import psutil
import pytest
from batch_fixtures import people_and_second_notebook
from run_processes import Run, finish, kill_all, start_run, stop, wait_for

from kpi_workbook.batch.lock import LOCK_FILE, run_lock
from kpi_workbook.batch.records import load_runs
from kpi_workbook.core.errors import InputError

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("runner")]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    return people_and_second_notebook(tmp_path_factory.mktemp("lock"), "02_slow.ipynb", "import time\ntime.sleep(300)")


def start(setup, out: Path, *args: str) -> Run:
    workspace, notebooks = setup
    return start_run("run", "--no-progress", "-w", workspace, "--notebooks-dir", notebooks, "--out", out, *args)


def test_a_second_runner_on_the_same_period_folder_is_refused(setup, tmp_path):
    out = tmp_path / "out"
    first = start(setup, out, "--team", "alpha", "--notebooks", "02")
    try:
        wait_for(lambda: (out / "2025Q4" / LOCK_FILE).exists(), what="the first runner's lock")
        second = start(setup, out, "--team", "beta", "--notebooks", "01")
        _, err = finish(second, 120)
        assert second.returncode == 2
        assert f"another kpi-workbook run (PID {first.pid}, started " in err
        assert "wait for it to finish or choose another --out" in err
        assert not (out / "2025Q4" / "beta").exists()  # nothing of the second run was written
        assert first.poll() is None  # and the first runs on
    finally:
        stop(first)
    assert first.returncode == 130
    assert not (out / "2025Q4" / LOCK_FILE).exists()  # released when the first runner ends


def test_a_killed_runner_keeps_every_finished_run_and_its_stale_lock_is_taken_over(setup, tmp_path):
    out, period_dir = tmp_path / "out", tmp_path / "out" / "2025Q4"
    runner = start(setup, out, "--team", "alpha,beta", "--jobs", "2")
    try:
        wait_for(lambda: (period_dir / "runs.json").exists() and len(load_runs(period_dir)) == 2,
                 what="two recorded runs")
        runner.send_signal(signal.SIGKILL)  # the runner only: no chance to write anything more
        runner.wait(timeout=30)  # its workers and kernels may hold its pipes: not communicate
    finally:
        kill_all(runner)  # then whatever it left
    kept = {(r.team, r.notebook): r.status.value for r in load_runs(period_dir)}
    assert kept == {("alpha", "01_people"): "ok", ("beta", "01_people"): "ok"}
    assert json.loads((period_dir / LOCK_FILE).read_text())["pid"] == runner.pid  # left behind by the dead runner

    again = start(setup, out, "--team", "gamma", "--notebooks", "01")
    _, err = finish(again, 300)
    assert again.returncode == 0, err
    assert {(r.team, r.notebook) for r in load_runs(period_dir)} == {*kept, ("gamma", "01_people")}
    assert not (period_dir / LOCK_FILE).exists()


def test_a_lock_of_a_reused_pid_is_stale_and_a_live_one_is_not(tmp_path):
    lock = tmp_path / LOCK_FILE
    me = psutil.Process()
    lock.write_text(json.dumps({"pid": me.pid, "host": socket.gethostname(), "process_started": me.create_time() - 50}))
    with run_lock(tmp_path):  # same PID, another process start time: a PID reused after the holder died
        holder = json.loads(lock.read_text())
        assert holder["pid"] == me.pid and abs(holder["process_started"] - me.create_time()) < 1
        with pytest.raises(InputError, match=f"another kpi-workbook run \\(PID {me.pid}, started "), run_lock(tmp_path):
            pass
    assert not lock.exists()
