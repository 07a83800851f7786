"""The save panel: check the framework, show the findings, and write the files (or a draft, when asked)."""

from __future__ import annotations

import ipywidgets as w
from IPython.display import display

from kpi_workbook.analysis.checks import findings_frame, has_errors, summary
from kpi_workbook.editing.editor import FrameworkEditor, SaveResult
from kpi_workbook.widgets.common import button, set_status


class SavePanel(w.VBox):
    """Check, then save: errors block a normal save; "Save draft" writes anyway, on purpose; nothing typed is lost."""

    def __init__(self, editor: FrameworkEditor):
        self.editor = editor
        self.check_button = button("Check", tooltip="run the checks without saving")
        self.save_button = button("Save", "primary", "check, then save when there are no errors")
        self.draft_button = button("Save draft (with errors)", "warning",
                                   "save even though the checks found errors, to finish later")
        self.discard_button = button("Discard changes", "danger", "go back to the files as last saved")
        self.status = w.HTML()
        self.findings = w.Output()
        self.last_result: SaveResult | None = None
        self.check_button.on_click(lambda _b: self._check())
        self.save_button.on_click(lambda _b: self._save(draft=False))
        self.draft_button.on_click(lambda _b: self._save(draft=True))
        self.discard_button.on_click(lambda _b: self._discard())
        super().__init__([
            w.HBox([self.check_button, self.save_button, self.draft_button, self.discard_button]),
            self.status, self.findings,
        ])

    def _show(self, findings: list) -> None:
        self.findings.clear_output()
        with self.findings:
            if findings:
                display(findings_frame(findings)[["severity", "rule", "role", "kpi", "field", "message", "fix"]])

    def _check(self) -> None:
        found = self.editor.findings()
        set_status(self.status, f"Checks: {summary(found)}", ok=not has_errors(found))
        self._show(found)

    def _save(self, draft: bool) -> None:
        result = self.editor.save(draft=draft)
        self.last_result = result
        set_status(self.status, f"{result.message}. Checks: {summary(result.findings)}", ok=result.saved)
        self._show(result.findings)

    def _discard(self) -> None:
        self.editor.discard()
        set_status(self.status, "changes discarded; re-run this cell to reload the forms")
        self.findings.clear_output()
