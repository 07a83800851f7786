"""Files written all or nothing, even when the process is killed half way through.

A set of files under one folder (the deepest folder holding them all, e.g. a workspace and its ``roles/``)
is written as one transaction:

1. every new file is written and flushed to disk as a hidden sibling ``.NAME.TXID.staged``;
2. the journal ``.kpi-workbook-journal`` (staged → target pairs, files to remove) is written under a temporary
   name and renamed into place: that rename is the commit point;
3. the staged files are renamed over their targets, removed files are deleted, and the journal is deleted.

A kill before step 2 leaves the old files; a kill after it leaves a journal. The next write into the folder,
and :func:`consistent_folder` (what loaders read under), first replay a journal (every replay step can be
repeated) and delete the leftovers of interrupted writes: staged files, temporary journals, and the ``.bak`` and
temporary files of the earlier rename-one-by-one scheme. Writers hold an exclusive lock on the folder (``flock``
on the folder itself), readers a shared one, so nobody reads a half-applied transaction and only leftovers of
dead writers are cleaned. :func:`writing_folder` holds the writer lock over a whole block (read, compare, then
write): reads and writes of that folder inside the block, by the same thread, run under the lock it holds.

Private seam for the crash tests: ``_after_step``, when set, is called after every file-system operation of a
write or a replay with a short description; a test sets it in a subprocess to kill that process at a chosen step.
"""

from __future__ import annotations

__all__ = [
    "JOURNAL", "STAGED_SUFFIX", "consistent_folder", "staged_folder", "staged_path", "write_files_atomically",
    "write_text_atomically", "writing_folder",
]

import fcntl
import json
import os
import re
import shutil
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from kpi_workbook.core.errors import InputError, Problem

JOURNAL = ".kpi-workbook-journal"
STAGED_SUFFIX = ".staged"
# Leftovers of interrupted writes: staged files, temporary journals, and .bak / mkstemp files of the old scheme.
_LEFTOVER = re.compile(rf"^\..+\.[0-9a-f]{{12}}{re.escape(STAGED_SUFFIX)}$|^{re.escape(JOURNAL)}\.[0-9a-f]{{12}}$"
                       r"|^\.(?P<name>.+)(?:\.bak|\.[a-z0-9_]{8}\.tmp)$")

_after_step: Callable[[str], None] | None = None
_held = threading.local()  # .folders: (process id, device, inode) of a folder -> descriptor holding its writer lock


def _step(what: str) -> None:
    if _after_step is not None:
        _after_step(what)


def _file_mode(target: Path) -> int:
    """The mode a new file should get: the existing file's, else what the umask allows."""
    if target.exists():
        return target.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_durably(path: Path, data: bytes, mode: int) -> None:
    """Create `path` (it must not exist) with `data`, flushed to disk."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fchmod(fd, mode)
        os.fsync(fd)
    finally:
        os.close(fd)
    _step(f"write {path.name}")


def _held_folders() -> dict[tuple[int, int, int], int]:
    """The writer locks this thread holds; keyed by process too, as a forked child holds none of its parent's."""
    if not hasattr(_held, "folders"):
        _held.folders = {}
    return _held.folders


@contextmanager
def _locked(folder: Path, exclusive: bool) -> Iterator[int]:
    """Hold a lock on a folder: exclusive for writers, shared for readers (released when the process dies).

    Inside a block of this thread that holds the folder's writer lock, the lock is already there: no second lock.
    """
    fd = os.open(folder, os.O_RDONLY)
    stat = os.fstat(fd)
    key, held = (os.getpid(), stat.st_dev, stat.st_ino), _held_folders()
    if key in held:
        os.close(fd)
        yield held[key]
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        if exclusive:
            held[key] = fd
        yield fd
    finally:
        if held.get(key) == fd:
            del held[key]
        os.close(fd)


def _names(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except OSError:  # an unreadable subfolder holds nothing we wrote
        return []


def _leftovers(folder: Path) -> list[Path]:
    """Leftovers of interrupted writes in `folder` and its direct subfolders (a .bak only beside its file)."""
    found = []
    for place in [folder, *(p for p in _names(folder) if p.is_dir() and not p.name.startswith("."))]:
        for path in _names(place):
            match = _LEFTOVER.match(path.name)
            if match and (match["name"] is None or (place / match["name"]).exists()):
                found.append(path)
    return found


def _needs_recovery(folder: Path) -> bool:
    return (folder / JOURNAL).exists() or bool(_leftovers(folder))


def _replay(folder: Path) -> None:
    """Finish a committed transaction whose journal is still there; every step can be repeated."""
    journal = folder / JOURNAL
    try:
        entries = json.loads(journal.read_text(encoding="utf-8"))
        replace = [(folder / staged, folder / target) for staged, target in entries["replace"]]
        remove = [folder / name for name in entries["remove"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(Problem(file=str(journal), message=f"unreadable journal of an interrupted save ({exc}); "
                                 "check the files, then delete it")) from None
    for staged, target in replace:
        if staged.exists():
            os.replace(staged, target)
            _step(f"replace {target.name}")
    for path in remove:
        if path.exists():
            path.unlink()
            _step(f"remove {path.name}")
    for place in {folder, *(target.parent for _, target in replace)}:
        _fsync_folder(place)
    journal.unlink()
    _step("remove journal")


def _idle(folder: Path) -> bool:
    """Whether no writer holds `folder` (a subfolder another process may be writing into under its own lock)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(fd)  # closing releases the lock taken here


def _recover(folder: Path) -> None:
    """Replay an interrupted transaction and delete the leftovers of interrupted writes (caller holds the lock).

    Leftovers in a subfolder are deleted only while no writer holds that subfolder: a concurrent write of a file
    there (e.g. a report of one team while the index beside it is written) stages its file under its own lock.
    """
    if (folder / JOURNAL).exists():
        _replay(folder)
    idle: dict[Path, bool] = {folder: True}
    for path in _leftovers(folder):
        if idle.setdefault(path.parent, _idle(path.parent)):
            path.unlink(missing_ok=True)
            _step(f"remove leftover {path.name}")


@contextmanager
def consistent_folder(folder: Path) -> Iterator[None]:
    """Read a folder under a shared lock, after finishing or cleaning any interrupted write into it."""
    folder = Path(folder)
    with _locked(folder, exclusive=False) as fd:
        if _needs_recovery(folder):
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                _recover(folder)
            except OSError as exc:
                raise InputError(Problem(file=str(folder), message="cannot finish or clean up an interrupted save "
                                         f"({exc.strerror or exc}); make the folder writable and retry")) from None
        yield


@contextmanager
def writing_folder(folder: Path) -> Iterator[None]:
    """Hold a folder's writer lock over a block, after finishing or cleaning interrupted writes into it.

    Nobody else writes into the folder meanwhile, so what the block reads there stays true until its own writes
    (``write_files_atomically`` and ``consistent_folder`` inside the block use the lock it holds).
    """
    folder = Path(folder)
    with _locked(folder, exclusive=True):
        _recover(folder)
        yield


def _unchanged(target: Path, data: bytes) -> bool:
    try:
        return target.is_file() and target.stat().st_size == len(data) and target.read_bytes() == data
    except OSError:
        return False


def _common_folder(paths: list[Path]) -> Path:
    return Path(os.path.commonpath([str(p.parent.absolute()) for p in paths]))


def write_files_atomically(files: Iterable[tuple[Path, str]], remove: Iterable[Path] = ()) -> None:
    """Write every file and delete every file in `remove`, all or nothing, even if the process is killed.

    If anything fails before the commit point, no target is touched and the staged files are removed.
    A file whose bytes would not change is left alone.
    """
    pending = [(Path(target).absolute(), text.encode("utf-8")) for target, text in files]
    gone = [Path(p).absolute() for p in remove]
    if not pending and not gone:
        return
    root = _common_folder([target for target, _ in pending] + gone)
    root.mkdir(parents=True, exist_ok=True)
    with _locked(root, exclusive=True):
        _recover(root)
        txid = uuid.uuid4().hex[:12]
        staged: list[tuple[Path, Path]] = []
        try:
            for target, data in pending:
                target.parent.mkdir(parents=True, exist_ok=True)
                if target.is_dir():
                    raise IsADirectoryError(f"{target} is a folder; cannot save a file there")
                if _unchanged(target, data):
                    continue
                tmp = target.with_name(f".{target.name}.{txid}{STAGED_SUFFIX}")
                staged.append((tmp, target))
                _write_durably(tmp, data, _file_mode(target))
            gone = [p for p in gone if p.exists()]
            if not staged and not gone:
                return
            if len(staged) == 1 and not gone:  # one rename is atomic by itself
                os.replace(*staged[0])
                _step(f"replace {staged[0][1].name}")
            else:
                entries = {"replace": [[str(s.relative_to(root)), str(t.relative_to(root))] for s, t in staged],
                           "remove": [str(p.relative_to(root)) for p in gone]}
                journal_tmp = root / f"{JOURNAL}.{txid}"
                _write_durably(journal_tmp, json.dumps(entries, indent=1).encode("utf-8"), 0o644)
                os.replace(journal_tmp, root / JOURNAL)
                _step("commit journal")
        except BaseException:
            for tmp, _ in staged:
                tmp.unlink(missing_ok=True)
            (root / f"{JOURNAL}.{txid}").unlink(missing_ok=True)
            raise
        _fsync_folder(root)
        if (root / JOURNAL).exists():
            _replay(root)


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


def _replace_entry(staged: Path, target: Path) -> None:
    """Put `staged` (a file or folder) where `target` is, removing what was there."""
    if target.is_dir() and not target.is_symlink():
        old = target.with_name(f".{target.name}.{uuid.uuid4().hex}.old")
        os.rename(target, old)
        os.rename(staged, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staged, target)


@contextmanager
def staged_folder(target: Path) -> Iterator[Path]:
    """A new temporary sibling folder of `target` for a writer of several files (one export per team).

    When the block ends normally each entry of it replaces the same-named entry of `target` (made if missing) by
    renames, which need no space; when it raises, the temporary folder is removed and `target` is left as it was.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    staging.mkdir()
    try:
        yield staging
        target.mkdir(exist_ok=True)
        for entry in sorted(staging.iterdir()):
            _replace_entry(entry, target / entry.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
