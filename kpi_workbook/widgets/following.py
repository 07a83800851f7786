"""Forms that follow one editor: each redraws when another form, a save, a discard or a reload changes the state."""

from __future__ import annotations

__all__ = ["Following", "refresh_options"]

from collections.abc import Callable
from typing import Any

import ipywidgets as w

from kpi_workbook.editing.editor import FrameworkEditor
from kpi_workbook.editing.observers import Event
from kpi_workbook.widgets.common import attempt


class Following:
    """Mixin for a form on `self.editor`: `follow()` subscribes it; `redraw(event)` then runs after every event the
    form did not cause itself (its own edits go through `edit`, which redraws what it needs with `then`)."""

    editor: FrameworkEditor
    _own_edit = False

    def follow(self) -> None:
        """Redraw this form whenever the editor's state changes by another hand."""
        self.editor.subscribe(self._heard)

    def _heard(self, event: Event) -> None:
        if not self._own_edit:
            self.redraw(event)

    def redraw(self, event: Event) -> None:
        """Show the editor's state again (selections kept where they still exist)."""
        raise NotImplementedError

    def edit(self, status: w.HTML, action: Callable[[], Any], success: str,
             then: Callable[[], Any] | None = None) -> bool:
        """Run an edit of this form (see `common.attempt`) without redrawing the form on its own news."""
        self._own_edit = True
        try:
            return attempt(status, action, success, then)
        finally:
            self._own_edit = False


def refresh_options(picker: w.Dropdown | w.Select, options: list[tuple[str, Any]], default: Any = None) -> None:
    """New options for a picker, keeping its choice while it is still offered (else `default`, else the first)."""
    values = [value for _label, value in options]
    keep = picker.value if picker.value in values else default if default in values else (values or [None])[0]
    if list(picker.options) != options:
        picker.options = options
    picker.value = keep
