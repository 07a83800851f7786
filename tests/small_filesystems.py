"""Small real file systems for out-of-space and read-only cases: a tmpfs mounted for the test and unmounted after
(needs root with the right to mount, as on the CI machine; skipped elsewhere)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

Mount = Callable[..., Path]


@pytest.fixture
def small_filesystem(tmp_path: Path) -> Iterator[Mount]:
    """`mount(name, size="300k", read_only=False, content=None)`: a fresh tmpfs at tmp_path/name, holding a copy
    of the folder `content` (as `content.name`) if given, made read-only after the copy if asked."""
    mounted: list[Path] = []

    def run(*command: str) -> None:
        if shutil.which(command[0]) is None:
            pytest.skip(f"no {command[0]} command")
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")

    def mount(name: str, size: str = "300k", read_only: bool = False, content: Path | None = None) -> Path:
        point = tmp_path / name
        point.mkdir()
        run("mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point))
        mounted.append(point)
        if content is not None:
            shutil.copytree(content, point / content.name)
        if read_only:
            run("mount", "-o", "remount,ro", str(point))
        return point

    yield mount
    for point in mounted:
        subprocess.run(["umount", "-l", str(point)], capture_output=True, timeout=30)
