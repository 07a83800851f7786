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
    """`mount(name, size="300k", read_only=False)`: a fresh tmpfs at tmp_path/name."""
    mounted: list[Path] = []

    def mount(name: str, size: str = "300k", read_only: bool = False) -> Path:
        point = tmp_path / name
        point.mkdir()
        options = f"size={size}" + (",ro" if read_only else "")
        if shutil.which("mount") is None:
            pytest.skip("no mount command")
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], capture_output=True,
                              text=True, timeout=30)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        subprocess.run(["umount", "-l", str(point)], capture_output=True, timeout=30)
