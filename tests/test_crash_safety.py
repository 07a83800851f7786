"""A framework save killed with SIGKILL at any step leaves the old version or the new one, whole.

The savers run in a subprocess: this file run as a script, which imports the package once and forks one child
per kill point. Through the private seam ``atomic_files._after_step`` a child kills itself with SIGKILL right
after its k-th file-system operation, for every k the save has. The test then loads each workspace, which
finishes or cleans up the interrupted save, and compares it with both versions. The editor's draft saves are
killed from outside at random moments.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from kpi_workbook.core import atomic_files
from kpi_workbook.core.model import Framework
from kpi_workbook.core.paths import SAMPLE_ORG_DIR
from kpi_workbook.workspace.files import ROLES_DIR, load_framework, save_framework

THIS_FILE = Path(__file__).resolve()
RANDOM_KILLS = 20
EDITOR_VERSIONS = {"Version 0": 95.0, "Version 1": 5.0}  # organization name → weight of the first role KPI


def evolve(framework: Framework) -> Framework:
    """The new version: every file changes, one role is removed (its file deleted) and one role is added."""
    new = framework.model_copy(deep=True)
    new.metadata.organization += " (revised)"
    for entries, field in ((new.objectives, "title"), (new.teams, "name"), (new.kpis, "name"),
                           (new.roles, "title")):
        for entry in entries:
            setattr(entry, field, getattr(entry, field) + " v2")
    removed = new.roles.pop()
    added = removed.model_copy(update={"id": "new_" + removed.id, "title": "New " + removed.title})
    new.roles = sorted([*new.roles, added], key=lambda role: role.id)  # as loading orders them: by file name
    return new


def _copy_framework(target: Path) -> Path:
    shutil.copytree(SAMPLE_ORG_DIR, target, ignore=shutil.ignore_patterns("*.csv", "*.duckdb*"))
    return target


def _hidden_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob(".*"))


def _helper(*args: object) -> list:
    done = subprocess.run([sys.executable, str(THIS_FILE), *map(str, args)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


# --- the helper process -----------------------------------------------------------------------------------

def _in_child(k: int, work: Callable[[], object]) -> int:
    """Fork; the child runs `work` and SIGKILLs itself right after its k-th file-system operation (0: never).

    Returns the child's wait status: -signal number when killed, else its exit code.
    """
    pid = os.fork()
    if pid == 0:
        steps: list[str] = []

        def after(what: str) -> None:
            steps.append(what)
            if len(steps) == k:
                os.kill(os.getpid(), signal.SIGKILL)

        atomic_files._after_step = after
        try:
            work()
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def _count_steps(work: Callable[[], object]) -> list[str]:
    """The file-system operations `work` makes, run in a forked child."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        steps: list[str] = []
        atomic_files._after_step = steps.append
        work()
        os.write(write, json.dumps(steps).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        steps = json.loads(pipe.read())
    os.waitpid(pid, 0)
    return steps


def _save_kills(folder: str) -> list:
    """`save FOLDER`: FOLDER/template is a workspace; save its evolved version once per kill point, each in a copy."""
    template = Path(folder) / "template"
    new = evolve(load_framework(template))
    steps = _count_steps(lambda: save_framework(new, _copy(template, Path(folder) / "dry")))
    results = []
    for k in range(1, len(steps) + 1):
        root = _copy(template, Path(folder) / f"kill{k}")
        results.append([k, steps[k - 1], _in_child(k, lambda root=root: save_framework(new, root))])
    return results


def _replay_kills(folder: str, after: str) -> list:
    """`replay FOLDER STEP`: kill a save right after STEP, then kill the load that finishes it at every step."""
    template = Path(folder) / "template"
    new = evolve(load_framework(template))
    steps = _count_steps(lambda: save_framework(new, _copy(template, Path(folder) / "dry")))
    interrupted = _copy(template, Path(folder) / "interrupted")
    assert _in_child(steps.index(after) + 1, lambda: save_framework(new, interrupted)) == -signal.SIGKILL
    replay = _count_steps(lambda: load_framework(_copy(interrupted, Path(folder) / "dry-replay")))
    results = []
    for j in range(1, len(replay) + 1):
        root = _copy(interrupted, Path(folder) / f"replay{j}")
        results.append([j, replay[j - 1], _in_child(j, lambda root=root: load_framework(root))])
    return results


EDITOR_LOOP_SECONDS = 30


def _editor_kills(folder: str, rounds: str, seed: str) -> list:
    """`editor FOLDER ROUNDS SEED`: draft saves of two alternating versions, the saver killed at random moments."""
    from kpi_workbook.editing.editor import FrameworkEditor

    root = Path(folder)
    rng = random.Random(int(seed))
    results = []
    for _ in range(int(rounds)):
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            editor = FrameworkEditor(root)
            role = editor.framework.roles[0]
            deadline = time.monotonic() + EDITOR_LOOP_SECONDS
            for i in range(1_000_000):
                name = f"Version {i % 2}"
                editor.framework.metadata.organization = name
                editor.set_weight(role.id, role.kpis[0].kpi, EDITOR_VERSIONS[name])  # off 100: a draft
                if not editor.save(draft=True).saved or time.monotonic() > deadline:
                    os._exit(1)
                if i == 1:
                    os.write(write, b"ready")
        os.close(write)
        os.read(read, 5)
        os.close(read)
        time.sleep(rng.uniform(0, 0.3))
        os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
        framework = load_framework(root)
        results.append([-os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status),
                        framework.metadata.organization, framework.roles[0].kpis[0].weight, _hidden_files(root)])
    return results


def _copy(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target



# --- the tests ---------------------------------------------------------------------------------------------

@pytest.fixture
def template(tmp_path) -> Path:
    return _copy_framework(tmp_path / "template")


def test_a_save_killed_at_any_step_leaves_one_whole_version(tmp_path, template):
    old = load_framework(template)
    new = evolve(old)
    results = _helper("save", tmp_path)
    assert load_framework(tmp_path / "dry") == new and _hidden_files(tmp_path / "dry") == []
    assert len(results) >= len(new.roles) * 2 + 6  # every file staged and renamed, a role file removed, the journal
    seen = {"old": 0, "new": 0}
    for k, step, status in results:
        root = tmp_path / f"kill{k}"
        assert status == -signal.SIGKILL, (k, step)
        loaded = load_framework(root)
        assert loaded in (old, new), f"kill after step {k} ({step}) left a mixed framework"
        seen["old" if loaded == old else "new"] += 1
        assert _hidden_files(root) == [], f"kill after step {k} ({step}): leftovers after the next load"
        assert {p.name for p in (root / ROLES_DIR).iterdir()} == {f"{r.id}.yaml" for r in loaded.roles}
    assert seen["old"] > 0 and seen["new"] > 0  # kills landed both before and after the commit point


def test_a_load_killed_while_finishing_an_interrupted_save_is_finished_by_the_next_load(tmp_path, template):
    new = evolve(load_framework(template))
    results = _helper("replay", tmp_path, "commit journal")
    assert len(results) >= len(new.roles) + 2  # the staged files renamed, a role file removed, the journal removed
    for j, step, status in results:
        assert status == -signal.SIGKILL, (j, step)
        root = tmp_path / f"replay{j}"
        assert load_framework(root) == new, f"kill after replay step {j} ({step})"
        assert _hidden_files(root) == []


def test_editor_draft_saves_killed_at_random_moments_leave_one_whole_version(tmp_path, template):
    results = _helper("editor", template, RANDOM_KILLS, 11)
    assert len(results) == RANDOM_KILLS
    for status, organization, weight, leftovers in results:
        assert status == -signal.SIGKILL
        assert EDITOR_VERSIONS.get(organization) == weight, "a killed draft save mixed two versions"
        assert leftovers == []
    assert {organization for _, organization, _, _ in results} == set(EDITOR_VERSIONS)


if __name__ == "__main__":
    modes = {"save": _save_kills, "replay": _replay_kills, "editor": _editor_kills}
    print(json.dumps(modes[sys.argv[1]](*sys.argv[2:])))
