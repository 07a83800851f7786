"""Files written all or nothing: to a temporary sibling first, renamed into place only when complete."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path


def _file_mode(target: Path) -> int:
    """The mode a new file should get: the existing file's, else what the umask allows."""
    if target.exists():
        return target.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def write_files_atomically(files: Iterable[tuple[Path, str]], remove: Iterable[Path] = ()) -> None:
    """Write every file to a temporary sibling, then rename all into place; all or nothing.

    If a write fails, no target is touched. If a rename fails, the files already replaced are
    restored from backups, so the folder is left as it was. Temporaries never stay behind.
    """
    staged: list[tuple[Path, Path]] = []
    backups: list[tuple[Path, Path | None]] = []
    try:
        for target, text in files:
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_dir():
                raise IsADirectoryError(f"{target} is a folder; cannot save a file there")
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            staged.append((Path(tmp), target))
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
            os.chmod(tmp, _file_mode(target))
        for tmp, target in staged:
            backup = None
            if target.exists():
                backup = target.with_name(f".{target.name}.bak")
                os.replace(target, backup)
            backups.append((target, backup))
            os.replace(tmp, target)
    except BaseException:
        for target, backup in reversed(backups):
            if backup is not None:
                os.replace(backup, target)
            else:
                target.unlink(missing_ok=True)
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    for _, backup in backups:
        if backup is not None:
            backup.unlink(missing_ok=True)
    for path in remove:
        path.unlink(missing_ok=True)


def write_text_atomically(path: Path, text: str) -> None:
    """Write one text file atomically."""
    write_files_atomically([(path, text)])


@contextmanager
def staged_path(target: Path) -> Iterator[Path]:
    """A not-yet-existing temporary sibling of `target` for a writer that wants a path (Excel, DuckDB, CSV).

    When the block ends normally the file is renamed over `target` (keeping the mode an existing target had);
    when it raises, the temporary file is removed and `target` is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp{target.suffix}")
    try:
        yield tmp
        os.chmod(tmp, _file_mode(target))
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
