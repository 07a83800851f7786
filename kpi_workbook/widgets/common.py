"""Small pieces the forms share: a status line, running an edit safely, and option lists."""

from __future__ import annotations

__all__ = [
    "NEW", "STYLE", "WIDTH", "attempt", "button", "clear_on_change", "dropdown", "plain", "role_options", "set_status",
    "text", "typed_number",
]

import html
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from kpi_workbook.core.errors import InputError, Problem
from kpi_workbook.editing.messages import FORM

if TYPE_CHECKING:  # an annotation only: the review's ratings form opens without the editor and its checks
    from kpi_workbook.editing.editor import FrameworkEditor

NEW = ""  # the "(new …)" choice of a picker
WIDTH = "36em"
STYLE = {"description_width": "10em"}


_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def typed_number(label: str, typed: str, example: str = "25 or 0.5") -> float | None:
    """The number typed in a field (blank: None), read as strictly as the actuals import reads a file: a comma is
    either a decimal comma or a thousands separator ("1,200"), so it is refused rather than guessed."""
    text = typed.strip().replace(" ", "").replace("\u202f", "").replace("\u00a0", "")
    if not text:
        return None
    if _PLAIN_NUMBER.fullmatch(text):
        return float(text)
    if "," in text:
        raise InputError(Problem(file=FORM, field="value", message=(
            f'{label}: "{typed.strip()}" is ambiguous (a comma may separate thousands or decimals): type '
            f"{text.replace(',', '')} or {text.replace(',', '.')}, without a comma.")))
    raise InputError(Problem(file=FORM, field="value", message=(
        f'{label}: "{typed.strip()}" is not a number; type digits such as {example}'
        + (" (without the % sign)." if "%" in text else "."))))


def text(description: str, value: str = "", placeholder: str = "", area: bool = False) -> w.Text | w.Textarea:
    """A labelled text field; a text area (when area is true) spans the form's width and wraps its text."""
    if area:
        return w.Textarea(value=value, description=description, placeholder=placeholder, continuous_update=True,
                          rows=3, layout=w.Layout(width="100%", max_width="72em"), style=STYLE)
    return w.Text(value=value, description=description, placeholder=placeholder, continuous_update=True,
                  layout=w.Layout(width=WIDTH), style=STYLE)


def role_options(editor: FrameworkEditor, team: str = "") -> list[tuple[str, str]]:
    """The roles a form offers, as (title, id): the team's roles, or every role; roles with KPIs first. A title two
    roles share is told apart by the id."""
    framework = editor.framework
    roles = sorted(framework.roles_of_team(team) if team else framework.roles, key=lambda r: not r.kpis)
    titles = [r.title for r in roles]
    return [(r.title if titles.count(r.title) == 1 else f"{r.title} ({r.id})", r.id) for r in roles]


def dropdown(description: str, options: Iterable[Any], value: Any = None) -> w.Dropdown:
    """A labelled dropdown; options are values or (label, value) pairs."""
    options = list(options)
    field = w.Dropdown(options=options, description=description, layout=w.Layout(width=WIDTH), style=STYLE)
    if value is not None:
        field.value = value
    return field


def button(description: str, style: str = "", tooltip: str = "") -> w.Button:
    """A button (style: '', 'primary', 'success', 'warning' or 'danger'), as wide as its label."""
    return w.Button(description=description, button_style=style, tooltip=tooltip or description,
                    layout=w.Layout(width="auto", min_width="8em"))


def clear_on_change(status: w.HTML, *controls: w.Widget) -> None:
    """Clear `status` as soon as any of `controls` changes: a message goes when its cause may have gone."""
    for control in controls:
        control.observe(lambda _change: setattr(status, "value", ""), names="value")


def plain(error: InputError) -> str:
    """The problems of an error as a form shows them: a form edit's own sentence, a file's problem in full."""
    return "\n".join(p.message if p.file == FORM else str(p) for p in error.problems)


def set_status(status: w.HTML, message: str, ok: bool = True) -> None:
    """Show a one-line message, green for success and red for a problem."""
    color = "#2e7d32" if ok else "#c62828"
    lines = "<br>".join(html.escape(line) for line in message.splitlines())
    status.value = f'<span style="color:{color}">{lines}</span>'


def attempt(status: w.HTML, action: Callable[[], Any], success: str, then: Callable[[], Any] | None = None) -> bool:
    """Run an edit; then (when it worked) `then`, e.g. reload the form, and show `success`; or show every problem
    of a rejected edit in plain words (the form keeps what was typed)."""
    try:
        action()
    except InputError as exc:
        set_status(status, plain(exc), ok=False)
        return False
    if then is not None:
        then()
    set_status(status, success)
    return True
