"""The options several commands share (`kpi_workbook.cli.options`) read the same in every command's help, and the
commands narrow their scope with them."""

from __future__ import annotations

import typer

from kpi_workbook.cli import _register_commands, app

SHARED = ("--workspace", "--team", "--department", "--period")
# Options of the same name that mean something else in one command, so they have their own help.
OWN_MEANING = {
    ("compute", "--period"),  # only this period of the sources is computed (with --from/--to for a range)
    ("diff", "--workspace"),  # the git repository of two revisions, never the sample
    ("run", "--team"),  # several teams, repeated or comma-separated
    ("run", "--department"),
    ("workshop", "--team"),  # required: the team the workshop is for
}


def _helps() -> dict[str, dict[str, str]]:
    """Help text of each shared option, per option name, per command that has it."""
    _register_commands()
    helps: dict[str, dict[str, str]] = {name: {} for name in SHARED}
    for command_name, command in typer.main.get_command(app).commands.items():
        for param in command.params:
            for name in set(param.opts) & set(SHARED):
                if (command_name, name) not in OWN_MEANING:
                    helps[name][command_name] = getattr(param, "help", "") or ""
    return helps


def test_every_shared_option_has_one_help_text_in_every_command():
    helps = _helps()
    for name, by_command in helps.items():
        assert len(set(by_command.values())) == 1, f"{name}: {by_command}"


def test_the_shared_options_are_used_by_the_commands_that_narrow_their_scope():
    helps = _helps()
    assert {"review", "score", "targets", "export"} <= set(helps["--team"])
    assert {"review", "score", "targets"} <= set(helps["--department"])
    assert {"review", "score", "export", "run"} <= set(helps["--period"])
    assert {"compute", "score", "validate", "run"} <= set(helps["--workspace"])


def test_team_and_department_narrow_the_targets_table(cli):
    code, whole, _ = cli("targets", "-w", "sample", "--format", "csv")
    assert code == 0
    code, team, _ = cli("targets", "-w", "sample", "--team", "sales", "--format", "csv")
    assert code == 0
    assert 1 < len(team.splitlines()) < len(whole.splitlines())
    code, _, err = cli("targets", "-w", "sample", "--department", "no_such_department")
    assert code == 2 and "no_such_department" in err
    code, department, _ = cli("targets", "-w", "sample", "--department", "Technology", "--format", "csv")
    assert code == 0
    assert 1 < len(department.splitlines()) < len(whole.splitlines())
    rows = {name: set(table.splitlines()[1:]) for name, table in
            (("whole", whole), ("team", team), ("department", department))}
    assert rows["team"] < rows["whole"] and rows["department"] < rows["whole"]
    assert not rows["team"] & rows["department"]  # sales is in Commercial, not in Technology
