"""`kpi-workbook diff`: what changed between two framework versions: two folders, or two git revisions of one.

Reviewing in pull requests (opt-in): let git show framework files as changes in words instead of YAML lines,
e.g. "weight of win_rate for account_executive: 15 → 20". Once per clone::

    git config diff.kpi-workbook.command "kpi-workbook diff --git-driver"

and in the repository's ``.gitattributes`` (``kpi-workbook diff --git-setup`` prints both)::

    my_org/*.yaml diff=kpi-workbook
    my_org/roles/*.yaml diff=kpi-workbook

``git difftool -x "kpi-workbook diff --difftool"`` does the same on demand, without configuration.
"""

from __future__ import annotations

__all__ = ["GIT_SETUP", "diff"]

import dataclasses
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from kpi_workbook.cli.app import OutputFormat, app, echo_table, fail, render_table
from kpi_workbook.core.errors import InputError, Problem

if TYPE_CHECKING:
    import pandas as pd

    from kpi_workbook.core.model import Framework

GIT_SETUP = """# let git show framework files as changes in words (run once per clone):
git config diff.kpi-workbook.command "kpi-workbook diff --git-driver"
# and add to .gitattributes (WORKSPACE: the workspace folder in the repository):
WORKSPACE/*.yaml diff=kpi-workbook
WORKSPACE/roles/*.yaml diff=kpi-workbook
"""


def _located(problem: Problem, side: str, root: Path) -> Problem:
    """The problem with its file named inside its workspace and the side (old/new) it belongs to."""
    file = problem.file if problem.file.startswith(str(root)) else str(root / problem.file)
    return dataclasses.replace(problem, file=f"{file} ({side})")


def _load(side: str, given: str, workspace: str, folders: bool) -> tuple[Framework, str]:
    """A framework version and its label: the folder `given` (with `folders`), else revision `given` of
    `workspace` (in git), or with `given` empty the workspace's files as they are now."""
    from kpi_workbook.analysis.git_versions import framework_at
    from kpi_workbook.workspace.files import load_framework

    folder = Path(given) if given else Path(workspace or ".")
    if folders or not given:
        try:
            return load_framework(folder), str(folder)
        except InputError as exc:
            raise InputError([_located(p, side, folder) for p in exc.problems]) from None
    return framework_at(given, workspace or "."), given


def _file_pair(path: str, old: str, new: str) -> None:
    """Print one framework file's changes in words (git passes the file name and its two versions)."""
    from kpi_workbook.analysis.diff import changes_in_words, diff_frameworks
    from kpi_workbook.analysis.git_versions import framework_part

    before, after = framework_part(old, path), framework_part(new, path)
    lines = changes_in_words(diff_frameworks(before, after), after)
    typer.echo(f"kpi-workbook diff {path}")
    typer.echo("\n".join(f"  {line}" for line in lines) if lines else "  no change to the framework")


def _record(table: pd.DataFrame, after: Framework, workspace: str, not_the_files_now: bool, why: str) -> None:
    """Append a change log entry for the workspace's files now, with the diff's changes in words."""
    from kpi_workbook.analysis.diff import changes_in_words
    from kpi_workbook.workspace.changelog import ChangeEntry, record_change
    from kpi_workbook.workspace.opener import open_workspace

    if not_the_files_now:
        fail("--record compares a git revision with the workspace's files now: diff REV -w DIR --record WHY")
    opened = open_workspace(workspace or None)
    opened.require_writable()
    entry = ChangeEntry(version=after.metadata.version or "(no version)", date=date.today(), why=why,
                        changes=changes_in_words(table, after))
    record_change(opened.root, entry)
    typer.echo(f"recorded version {entry.version} in the change log ({len(entry.changes)} change(s))", err=True)


@app.command()
def diff(
    old: Annotated[str, typer.Argument(help="Older version: a workspace folder, or a git revision (branch, tag, "
                                            "commit, HEAD~1) of the -w workspace.", show_default=False)] = "",
    new: Annotated[str, typer.Argument(help="Newer version: a folder or a revision (default with a revision: the "
                                            "workspace's files as they are now).", show_default=False)] = "",
    workspace: Annotated[str, typer.Option("--workspace", "-w", help="The workspace whose git revisions OLD and "
                                           "NEW are (default: the current folder).")] = "",
    words: Annotated[bool, typer.Option("--words", help="One sentence per change, e.g. 'weight of win_rate for "
                                        "account_executive: 15 → 20'.")] = False,
    output: Annotated[OutputFormat, typer.Option("--format", help="text (grouped, +/-/~), csv or json.")] = (
        OutputFormat.TEXT
    ),
    git_driver: Annotated[bool, typer.Option("--git-driver", hidden=True)] = False,
    difftool: Annotated[bool, typer.Option("--difftool", hidden=True)] = False,
    git_setup: Annotated[bool, typer.Option("--git-setup", help="Print the opt-in git configuration that shows "
                                            "framework files as changes in words in git diff.")] = False,
    record: Annotated[str | None, typer.Option(
        "--record", help="Record this review cycle in the workspace's change log (changelog.yaml): why the "
                         "framework changed; the changes in words come from this diff of a revision against the "
                         "files now.")] = None,
    driver_args: Annotated[list[str] | None, typer.Argument(hidden=True)] = None,
) -> None:
    """Show added (+), removed (-) and changed (~) objectives, teams, KPIs, roles, responsibilities and
    assignments (weights, bands) between two framework versions: two workspace folders (diff OLD_DIR NEW_DIR),
    two git revisions of a workspace (diff main feature -w my_org), or a revision and the files now (diff HEAD~1).

    Exit code 0 whenever both versions load (with or without differences), 2 when either cannot be read.
    """
    from kpi_workbook.analysis.diff import changes_in_words, diff_frameworks, format_diff

    if git_setup:
        typer.echo(GIT_SETUP, nl=False)
        return
    if git_driver:  # git: path old-file old-hex old-mode new-file new-hex new-mode
        rest = driver_args or []
        _file_pair(old, new, rest[2] if len(rest) > 2 else "")
        return
    if difftool:  # git difftool -x: old-file new-file (the file's name is in $BASE)
        import os

        _file_pair(os.environ.get("BASE", new), old, new)
        return
    if not old:
        fail("give two workspace folders (diff OLD NEW), or a git revision (diff HEAD~1 -w my_org)")
    if record is not None and not record.strip():
        fail("--record needs the reason for this review cycle, e.g. --record \"2025 Q4 review: quota raised\"")
    versions, problems = [], []
    folders = not workspace and Path(old).is_dir()  # diff OLD_DIR NEW_DIR; otherwise revisions
    for side, given in (("old", old), ("new", new)):
        try:
            versions.append(_load(side, given, workspace, folders))
        except InputError as exc:
            problems += exc.problems
    if problems:
        fail(InputError(problems))
    (before, old_label), (after, new_label) = versions
    table = diff_frameworks(before, after)
    if record is not None:
        _record(table, after, workspace, folders or bool(new), record.strip())
    if words and output is OutputFormat.TEXT:
        lines = changes_in_words(table, after)
        echo_table("\n".join(lines) if lines else f"No changes between {old_label} and {new_label}.")
        return
    echo_table(render_table(table, output, lambda: format_diff(
        table, f"{old_label} (version {before.metadata.version})", f"{new_label} (version {after.metadata.version})")))
