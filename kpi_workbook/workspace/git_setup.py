"""A workspace made for review in git: what git ignores, how it stores and diffs notebooks (.gitignore and
.gitattributes blocks of our own, beside the user's lines), and the repository's configuration of the nbstripout
filter and the nbdime drivers those attributes name.

The files are written inside or outside a git repository. Git reads the filter and drivers from the repository's
own configuration, never from a tracked file, so outside a repository (or in a fresh clone) `.gitattributes` names
a filter git does not know yet, and git stores notebooks as they are until `configure_repository` has run there.
A repository's configuration is changed only when the workspace is its top folder, or when asked: a workspace made
inside another project (a scratch copy under its reports/ folder, say) leaves that project's .git/config alone.
"""

from __future__ import annotations

__all__ = [
    "ATTRIBUTES", "BEGIN", "END", "EXTRA_KEYS", "GitSetup", "IGNORED", "configure_repository", "merged_block",
    "repository_of", "repository_settings", "set_up_for_git", "write_git_files",
]

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from kpi_workbook.core.atomic_files import write_files_atomically
from kpi_workbook.core.errors import InputError, Problem

BEGIN = "# kpi-workbook: begin (this block is rewritten by kpi-workbook; keep your own lines outside it)"
END = "# kpi-workbook: end"
IGNORED = (
    "# the store of actuals, its write-ahead log and lock: a database, not for review line by line",
    "actuals.duckdb",
    "actuals.duckdb.wal",
    ".actuals.duckdb.lock",
    "# batch runs (kpi-workbook run): reports and the run lock",
    "/reports/",
    ".run.lock",
    "# caches and JupyterLab's checkpoints",
    "__pycache__/",
    ".ipynb_checkpoints/",
    ".virtual_documents/",
)
ATTRIBUTES = (
    "# notebooks are committed without outputs (nbstripout) and diffed and merged cell by cell (nbdime)",
    "*.ipynb filter=nbstripout",
    "*.ipynb diff=jupyternotebook merge=jupyternotebook",
)
# Besides nbstripout's defaults: what a run adds that is no source (papermill's paths and timings, the Python
# version a kernel reports).
EXTRA_KEYS = "metadata.papermill metadata.language_info cell.metadata.papermill"


@dataclass(frozen=True)
class GitSetup:
    """What setting a workspace up for git did: the files it wrote, the repository it configured, if any, and the
    repository holding the workspace that it left as it was, if any."""

    written: tuple[Path, ...]
    repository: Path | None
    left_alone: Path | None = None

    def notes(self, workspace: Path) -> list[str]:
        """Lines telling a user what was done and, when git is not configured yet, what is still to do."""
        lines = [f"wrote {path.name}" for path in self.written]
        if self.repository is not None:
            lines.append(f"configured git in {self.repository}: notebooks are committed without outputs "
                         "(nbstripout) and diffed and merged with nbdime")
        elif self.left_alone is not None:
            lines.append(f"{workspace} is inside the git repository {self.left_alone}, whose configuration is left "
                         f"as it is; to commit its notebooks without outputs and diff them with nbdime there, run "
                         f"kpi-workbook notebooks -w {workspace} --git-setup")
        else:
            lines.append(f"{workspace} is not in a git repository yet: after git init (or in each new clone) run "
                         f"kpi-workbook notebooks -w {workspace} --git-setup; until then git would commit "
                         "notebooks with their outputs")
        return lines


def merged_block(existing: str, lines: tuple[str, ...], name: str) -> str:
    """`existing` file text with our block set to `lines`: replaced where it is, appended where it is not.

    Every line outside the block is kept as it is.
    """
    block = "\n".join((BEGIN, *lines, END)) + "\n"
    kept = existing.splitlines(keepends=True)
    starts = [i for i, line in enumerate(kept) if line.rstrip("\r\n") == BEGIN]
    ends = [i for i, line in enumerate(kept) if line.rstrip("\r\n") == END]
    if not starts and not ends:
        before = "".join(kept)
        gap = "" if not before else ("\n" if before.endswith("\n") else "\n\n")
        return before + gap + block
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        raise InputError(Problem(file=name, message=f"the kpi-workbook block is damaged: keep one '{BEGIN}' line "
                                 f"and one '{END}' line after it, or remove both"))
    return "".join(kept[:starts[0]]) + block + "".join(kept[ends[0] + 1:])


def write_git_files(root: Path) -> tuple[Path, ...]:
    """Set our blocks of `root`'s .gitignore and .gitattributes; the files that changed (written together)."""
    changes = []
    for name, lines in ((".gitignore", IGNORED), (".gitattributes", ATTRIBUTES)):
        path = root / name
        old = path.read_text(encoding="utf-8") if path.is_file() else ""
        new = merged_block(old, lines, str(path))
        if new != old:
            changes.append((path, new))
    write_files_atomically(changes)
    return tuple(path for path, _ in changes)


def repository_of(root: Path) -> Path | None:
    """The top folder of the git work tree holding `root`, or None (not in one, or git is not installed)."""
    git = shutil.which("git")
    if git is None:
        return None
    found = subprocess.run([git, "-C", str(root), "rev-parse", "--show-toplevel"], capture_output=True, text=True)
    return Path(found.stdout.strip()) if found.returncode == 0 and found.stdout.strip() else None


def repository_settings(python: str = sys.executable) -> dict[str, str]:
    """The git configuration the attributes name: nbstripout's filter (as `nbstripout --install` sets it, with
    papermill's metadata stripped too) and nbdime's diff and merge drivers, all run by `python`."""
    run = f'"{Path(python).as_posix()}" -m'
    return {
        "filter.nbstripout.clean": f"{run} nbstripout",
        "filter.nbstripout.smudge": "cat",
        "filter.nbstripout.required": "true",
        "filter.nbstripout.extrakeys": EXTRA_KEYS,
        "diff.jupyternotebook.command": f"{run} nbdime.vcs.git.diffdriver diff --use-filter",
        "merge.jupyternotebook.driver": f"{run} nbdime.vcs.git.mergedriver merge %O %A %B %L %P",
        "merge.jupyternotebook.name": "jupyter notebook merge driver",
    }


def configure_repository(root: Path, repository: Path) -> None:
    """Write the filter and drivers into the local configuration of `repository`, the one holding `root`."""
    for key, value in repository_settings().items():
        done = subprocess.run(["git", "-C", str(root), "config", "--local", key, value], capture_output=True,
                              text=True)
        if done.returncode != 0:
            raise InputError(Problem(file=str(repository / ".git" / "config"), field=key,
                                     message=f"git config failed: {done.stderr.strip() or done.returncode}"))


def set_up_for_git(root: Path, enclosing: bool = False) -> GitSetup:
    """Make `root` ready for review in git (idempotent): its .gitignore and .gitattributes blocks, and the
    configuration of the repository holding it when `root` is that repository's top folder, or when `enclosing`
    asks for it (a workspace in a folder of a larger repository)."""
    written = write_git_files(root)
    repository = repository_of(root)
    if repository is None:
        return GitSetup(written=written, repository=None)
    if not enclosing and repository.resolve() != Path(root).resolve():
        return GitSetup(written=written, repository=None, left_alone=repository)
    configure_repository(root, repository)
    return GitSetup(written=written, repository=repository)
