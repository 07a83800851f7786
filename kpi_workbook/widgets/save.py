"""The save panel: check the framework, show the findings, and write the files (or a draft, when asked); reload
the files when someone else saved the same entries meanwhile."""

from __future__ import annotations

__all__ = ["SNAKE", "SavePanel", "findings_table", "reload_message"]

import html
import re

import ipywidgets as w

from kpi_workbook.analysis.checks import Finding, has_errors, sort_findings, summary
from kpi_workbook.core.errors import InputError
from kpi_workbook.core.model import Framework
from kpi_workbook.editing.editor import FrameworkEditor, SaveResult
from kpi_workbook.widgets.common import button, plain, set_status
from kpi_workbook.widgets.places import concerns, place

SNAKE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")  # a code word such as higher_is_better


class SavePanel(w.VBox):
    """Check, then save: errors block a normal save; "Save draft" writes anyway, on purpose; nothing typed is lost.

    "Reload" takes the files as they are now (after someone else saved the same entries), keeping the changes made
    here that do not clash. Every form on the editor follows a discard or a reload at once. With a `team`, the
    findings of other teams' roles are counted, not listed.
    """

    def __init__(self, editor: FrameworkEditor, team: str = ""):
        self.editor = editor
        self.team = team
        self.check_button = button("Check", tooltip="run the checks without saving")
        self.save_button = button("Save", "primary", "check, then save when there are no errors")
        self.draft_button = button("Save draft (with errors)", "warning",
                                   "save even though the checks found errors, to finish later")
        self.discard_button = button("Discard changes", "danger", "go back to the files as last saved")
        self.reload_button = button("Reload", tooltip="take the files as they are now (saved by someone else "
                                    "meanwhile), keeping your changes that do not clash with them")
        self.status = w.HTML()
        self.findings = w.HTML()
        self.last_result: SaveResult | None = None
        self.check_button.on_click(lambda _b: self._check())
        self.save_button.on_click(lambda _b: self._save(draft=False))
        self.draft_button.on_click(lambda _b: self._save(draft=True))
        self.discard_button.on_click(lambda _b: self._discard())
        self.reload_button.on_click(lambda _b: self._reload())
        super().__init__([
            w.HBox([self.check_button, self.save_button, self.draft_button, self.discard_button, self.reload_button]),
            self.status, self.findings,
        ])

    def _ours(self, findings: list[Finding]) -> list[Finding]:
        framework = self.editor.framework
        return [f for f in findings if not self.team or concerns(f, framework, self.team)]

    def _show(self, findings: list[Finding]) -> None:
        self.findings.value = findings_table(findings, self.editor.framework, self.team)

    def _summary(self, findings: list[Finding]) -> str:
        """The count of this team's findings, and a word when other teams' errors are what blocks a save."""
        ours = self._ours(findings)
        blocked = has_errors(findings) and not has_errors(ours)
        return f"Checks: {summary(ours)}" + ("; other teams' roles have errors, which block a save" if blocked else "")

    def _check(self) -> None:
        found = self.editor.findings()
        set_status(self.status, self._summary(found), ok=not has_errors(found))
        self._show(found)

    def _save(self, draft: bool) -> None:
        result = self.editor.save(draft=draft)
        self.last_result = result
        set_status(self.status, f"{result.message}. {self._summary(result.findings)}", ok=result.saved)
        self._show(result.findings)

    def _discard(self) -> None:
        self.editor.discard()
        set_status(self.status, "changes discarded: every form shows the framework as last saved")
        self.findings.value = ""

    def _reload(self) -> None:
        try:
            clashes = self.editor.reload()
        except InputError as exc:
            set_status(self.status, f"not reloaded: the files cannot be read:\n{plain(exc)}", ok=False)
            return
        set_status(self.status, reload_message(self.editor, clashes))
        self.findings.value = ""


def reload_message(editor: FrameworkEditor, clashes: list[str]) -> str:
    """What a reload did, in plain words: the version now loaded, what the files' version replaced, what stays."""
    lines = [f"reloaded the files as they are now (version {editor.framework.metadata.version})"]
    if clashes:
        lines += ["the files' version replaced your changes to:", *(f"- {clash}" for clash in clashes)]
    if editor.dirty:
        lines.append("your other changes are kept here, not saved yet: press Save to save them")
    return "\n".join([*lines, "every form shows it now"])


def findings_table(findings: list[Finding], framework: Framework, team: str = "") -> str:
    """The findings as an HTML table with every text in full (wrapped, never cut): where (in words), what, the fix.

    With a `team`, only the findings that concern it are listed and the others are counted in a line below.
    """
    listed = [f for f in findings if not team or concerns(f, framework, team)]
    elsewhere = len(findings) - len(listed)
    note = (f"<p><i>{elsewhere} finding{'s' if elsewhere != 1 else ''} concern{'s' if elsewhere == 1 else ''} other "
            "teams.</i></p>") if elsewhere else ""
    if not listed:
        return note
    rows = "".join(
        f'<tr><td style="white-space:nowrap">{_esc(str(f.severity))}</td><td>{_esc(place(f, framework))}</td>'
        f"<td>{_esc(f.message)}</td><td>{_esc(f.fix)}</td></tr>" for f in sort_findings(listed))
    cell = "border:1px solid #ddd;padding:2px 6px;vertical-align:top;white-space:normal;line-height:1.35"
    return (f'<style>.kpi-findings td, .kpi-findings th {{{cell}}}</style><table class="kpi-findings" '
            'style="border-collapse:collapse;width:100%;font-size:90%">'
            f"<tr><th>severity</th><th>where</th><th>what</th><th>fix</th></tr>{rows}</table>{note}")


def _esc(text: str) -> str:
    """A finding's text escaped, its code words read as words (higher_is_better, <=)."""
    for code, word in (("<=", "≤"), (">=", "≥")):
        text = text.replace(code, word)
    return html.escape(SNAKE.sub(lambda found: found.group(0).replace("_", " "), text), quote=False)
