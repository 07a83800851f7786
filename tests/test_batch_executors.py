"""Executors: the local pool and a real Dask LocalCluster give the same records, failures and timeouts included."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import dask
import nbformat
import pytest
from batch_fixtures import CLI, PEOPLE_CELLS, make_workspace, write_notebook
from run_processes import finish, kill_all, start_run, wait_for

from kpi_workbook.batch.executors import DASK_SCHEDULER_ENV, DASK_WORKER_TIMEOUT_ENV, NO_WORKER_ERROR
from kpi_workbook.batch.records import Status, load_runs
from kpi_workbook.batch.runner import RunRequest, run_reports
from kpi_workbook.core.errors import InputError

distributed = pytest.importorskip("distributed")

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("runner")]

EXPECTED = {  # gamma has no people (its people notebook fails); alpha's 03 sleeps past the cell limit
    ("alpha", "01_people"): (Status.OK, ""),
    ("beta", "01_people"): (Status.OK, ""),
    ("gamma", "01_people"): (Status.FAILED, "ZeroDivisionError"),
    ("alpha", "02_after"): (Status.OK, ""),
    ("beta", "02_after"): (Status.OK, ""),
    ("gamma", "02_after"): (Status.OK, ""),  # a failure fails only its own notebook, in a new kernel
    ("alpha", "03_slow"): (Status.TIMED_OUT, "CellTimeoutError"),
    ("beta", "03_slow"): (Status.OK, ""),  # the same notebook times out for one team only
    ("gamma", "03_slow"): (Status.OK, ""),
}


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("executors")
    workspace = make_workspace(root / "workspace")
    notebooks = root / "notebooks"
    write_notebook(notebooks / "01_people.ipynb", *PEOPLE_CELLS)
    write_notebook(notebooks / "02_after.ipynb", "print('after', team)")
    write_notebook(notebooks / "03_slow.ipynb", "import time\ntime.sleep(120 if team == 'alpha' else 0)")
    return root, workspace, notebooks


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster:
        yield cluster


def outcome(summary) -> dict:
    return {r.key: (r.status, r.error) for r in summary.results}


def request(setup, out: str, **kwargs) -> RunRequest:
    root, workspace, notebooks = setup
    return RunRequest(**{"workspace": workspace, "notebooks_dir": notebooks, "out": root / out, "all_teams": True,
                         "jobs": 2, "cell_timeout": 5, "progress": False, **kwargs})


@pytest.fixture(scope="module")
def dask_run(setup, cluster):
    return run_reports(request(setup, "dask", executor="dask", scheduler=cluster.scheduler_address))


@pytest.fixture(scope="module")
def local_run(setup):
    return run_reports(request(setup, "local"))


def test_dask_runs_every_job_and_records_failure_and_timeout(dask_run):
    assert outcome(dask_run) == EXPECTED
    record = {r.key: r for r in load_runs(dask_run.period_dir)}  # written by the client
    assert set(record) == set(outcome(dask_run))
    assert record["gamma", "01_people"].message == "division by zero"
    assert record["alpha", "03_slow"].message == "the cell did not finish within 5 s"
    nb = nbformat.read(dask_run.period_dir / "alpha" / "03_slow.ipynb", as_version=4)
    assert any("papermill-error-cell-tag" in c.metadata.get("tags", []) for c in nb.cells)
    assert (dask_run.period_dir / "index.html").is_file()
    assert (dask_run.period_dir / "beta" / "01_people.html").is_file()


def test_local_pool_and_dask_give_the_same_records(dask_run, local_run):
    assert outcome(local_run) == outcome(dask_run)
    for result in local_run.results:
        mine = nbformat.read(local_run.period_dir / result.ipynb, as_version=4)
        theirs = nbformat.read(dask_run.period_dir / result.ipynb, as_version=4)
        assert [c.get("outputs") and [o.get("text", o.get("ename")) for o in c.outputs] for c in mine.cells] == [
            c.get("outputs") and [o.get("text", o.get("ename")) for o in c.outputs] for c in theirs.cells]


def test_dask_retry_failed_reruns_only_the_failures(setup, cluster, dask_run):
    before = {r.key: r for r in load_runs(dask_run.period_dir)}
    summary = run_reports(request(setup, "dask", executor="dask", scheduler=cluster.scheduler_address,
                                  retry_failed=True, all_teams=False))
    rerun = {r.key for r in summary.results}
    assert rerun == {k for k, r in before.items() if r.status is not Status.OK}
    after = {r.key: r for r in load_runs(dask_run.period_dir)}
    assert all(after[k] == before[k] for k in before if k not in rerun)
    assert all(after[k].finished >= before[k].finished for k in rerun)


def test_cli_sends_jobs_to_the_scheduler_from_the_environment(setup, cluster):
    root, workspace, notebooks = setup
    proc = subprocess.run(
        [str(CLI), "run", "--no-progress", "-w", str(workspace), "--notebooks-dir", str(notebooks), "--notebooks",
         "02", "--team", "alpha,beta", "--out", str(root / "cli"), "--executor", "dask"],
        capture_output=True, text=True, timeout=300, env={**os.environ, DASK_SCHEDULER_ENV: cluster.scheduler_address})
    assert proc.returncode == 0, proc.stderr
    assert "2 of 2 runs ok" in proc.stdout
    runs = json.loads((root / "cli" / "2025Q4" / "runs.json").read_text())["runs"]
    assert sorted((r["team"], r["notebook"], r["status"]) for r in runs) == [
        ("alpha", "02_after", "ok"), ("beta", "02_after", "ok")]


def test_dask_without_a_scheduler_or_unreachable_is_a_clear_error(setup, monkeypatch):
    monkeypatch.delenv(DASK_SCHEDULER_ENV, raising=False)
    monkeypatch.setitem(dask.config.config["distributed"]["comm"]["timeouts"], "connect", "2s")  # Dask's own setting
    with pytest.raises(InputError, match="needs a scheduler address: --scheduler tcp://HOST:PORT"):
        run_reports(request(setup, "nowhere", executor="dask"))
    with pytest.raises(InputError, match="cannot reach the Dask scheduler"):
        run_reports(request(setup, "nowhere", executor="dask", scheduler="tcp://127.0.0.1:9"))
    with pytest.raises(InputError, match="unknown executor 'spark'. Valid: local, dask"):
        run_reports(request(setup, "nowhere", executor="spark"))


def test_progress_shows_done_failed_running_and_time_left_without_kernel_noise(setup, tmp_path):
    root, workspace, notebooks = setup
    command = (f"{CLI} run -w {workspace} --notebooks-dir {notebooks} --notebooks 01,02 --all-teams -j 2 "
               f"--out {tmp_path}")
    proc = subprocess.run(["script", "-qec", f"stty cols 150 rows 40; {command}", "/dev/null"], capture_output=True,
                          text=True, timeout=300)
    screen = proc.stdout.replace("\r", "\n")  # what a terminal shows: the bar is drawn only there
    assert "notebooks: 6/6 done, 1 failed, 0 running [" in screen and " left]" in screen
    assert re.search(r"notebooks: [0-5]/6 done, [01] failed, [12] running \[", screen), screen
    assert "without encryption" not in screen and "Traceback" not in screen


# --- a cluster without workers, and a worker lost during a run -------------------------------------------------

RELEASE = "KPI_TEST_RELEASE"  # a file the waiting notebook waits for (never created here), and tells it started
WAIT_CELL = (
    "import os, pathlib, time\n"
    f"release = pathlib.Path(os.environ['{RELEASE}'])\n"
    "release.with_suffix('.started').touch()\n"
    "while not release.exists():\n"
    "    time.sleep(0.1)"
)


@pytest.fixture
def empty_scheduler():
    """A Dask scheduler no worker has joined."""
    with distributed.LocalCluster(n_workers=0, processes=True, host="127.0.0.1", dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def test_dask_without_a_worker_fails_after_the_worker_timeout_naming_the_scheduler(setup, empty_scheduler):
    root, workspace, notebooks = setup
    started = time.monotonic()
    with pytest.raises(InputError, match=(f"no Dask worker joined the scheduler {re.escape(empty_scheduler)} "
                                          f"within 2 s \\(--worker-timeout or {DASK_WORKER_TIMEOUT_ENV}\\)")):
        run_reports(request(setup, "no-worker", executor="dask", scheduler=empty_scheduler, worker_timeout=2))
    assert time.monotonic() - started < 60  # the 2 s, the connection and the planning; never a hang
    assert not (root / "no-worker").exists()  # nothing written

    run = start_run("run", "--no-progress", "-w", workspace, "--notebooks-dir", notebooks, "--notebooks", "02",
                    "--out", root / "no-worker", "--executor", "dask", "--scheduler", empty_scheduler,
                    env={DASK_WORKER_TIMEOUT_ENV: "2"})
    try:
        _, err = finish(run, 120)
    finally:
        kill_all(run)
    assert run.returncode == 2
    assert f"no Dask worker joined the scheduler {empty_scheduler} within 2 s" in " ".join(err.split())


def test_a_lost_dask_worker_is_counted_and_its_runs_fail_after_the_worker_timeout(setup, empty_scheduler,
                                                                                  tmp_path):
    _, workspace, _ = setup
    notebooks = tmp_path / "notebooks"
    write_notebook(notebooks / "01_wait.ipynb", WAIT_CELL)
    release = tmp_path / "release"
    worker = subprocess.Popen([str(Path(sys.executable).parent / "dask"), "worker", empty_scheduler, "--no-nanny",
                               "--nthreads", "1"], env={**os.environ, RELEASE: str(release)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    run = start_run("run", "--no-progress", "-w", workspace, "--notebooks-dir", notebooks, "--team", "alpha",
                    "--out", tmp_path / "out", "--executor", "dask", "--scheduler", empty_scheduler,
                    "--worker-timeout", "3")
    try:
        wait_for(lambda: release.with_suffix(".started").exists() or run.poll() is not None, timeout=240,
                 what="the notebook to start on the worker")
        worker.kill()
        out, err = finish(run, 120)
    finally:
        worker.kill()
        worker.wait(timeout=30)
        kill_all(run)
    assert run.returncode == 1, err
    assert "Dask workers lost during the run: 1" in out
    [record] = load_runs(tmp_path / "out" / "2025Q4")
    assert (record.notebook, record.error) == ("01_wait", NO_WORKER_ERROR)
    assert record.message == (f"no Dask worker on the scheduler {empty_scheduler} for 3 s "
                              f"(--worker-timeout or {DASK_WORKER_TIMEOUT_ENV})")
