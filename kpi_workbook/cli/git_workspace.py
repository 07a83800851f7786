"""The git set-up that `init`, `notebooks` and `workshop` share: run it on a workspace and say what it did."""

from __future__ import annotations

__all__ = ["echo_git_setup"]

from pathlib import Path

import typer


def echo_git_setup(root: Path, enclosing: bool = False) -> None:
    """Set `root` up for review in git (see workspace.git_setup) and print what was done on stderr.

    The repository holding `root` is configured when `root` is its top folder, or when `enclosing` asks for it
    (`notebooks --git-setup`); otherwise its .git/config is left as it is.
    """
    from kpi_workbook.workspace.git_setup import set_up_for_git

    for line in set_up_for_git(root, enclosing=enclosing).notes(root):
        typer.echo(line, err=True)
