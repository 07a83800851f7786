"""Small pieces the forms share: a status line, running an edit safely, and option lists."""

from __future__ import annotations

import html
from collections.abc import Callable, Iterable
from typing import Any

import ipywidgets as w

from kpi_workbook.core.errors import InputError

NEW = ""  # the "(new …)" choice of a picker
WIDTH = "36em"
STYLE = {"description_width": "10em"}


def text(description: str, value: str = "", placeholder: str = "", area: bool = False) -> w.Text | w.Textarea:
    """A labelled text field (a text area when area is true)."""
    kind = w.Textarea if area else w.Text
    return kind(value=value, description=description, placeholder=placeholder, layout=w.Layout(width=WIDTH),
                style=STYLE)


def dropdown(description: str, options: Iterable[Any], value: Any = None) -> w.Dropdown:
    """A labelled dropdown; options are values or (label, value) pairs."""
    options = list(options)
    field = w.Dropdown(options=options, description=description, layout=w.Layout(width=WIDTH), style=STYLE)
    if value is not None:
        field.value = value
    return field


def button(description: str, style: str = "", tooltip: str = "") -> w.Button:
    """A button (style: '', 'primary', 'success', 'warning' or 'danger')."""
    return w.Button(description=description, button_style=style, tooltip=tooltip or description)


def set_status(status: w.HTML, message: str, ok: bool = True) -> None:
    """Show a one-line message, green for success and red for a problem."""
    color = "#2e7d32" if ok else "#c62828"
    lines = "<br>".join(html.escape(line) for line in message.splitlines())
    status.value = f'<span style="color:{color}">{lines}</span>'


def attempt(status: w.HTML, action: Callable[[], Any], success: str) -> bool:
    """Run an edit; show `success`, or every problem of a rejected edit (the form keeps what was typed)."""
    try:
        action()
    except InputError as exc:
        set_status(status, "\n".join(str(p) for p in exc.problems), ok=False)
        return False
    set_status(status, success)
    return True
