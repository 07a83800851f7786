"""A step notebook's tables and charts: drawn once from the files in a report, and in a workshop drawn again after
each save or reload of the step's editor, wherever they are in the notebook.

ipywidgets and the editor are imported only in a workshop, so a report never loads them; a step that edits nothing
(the review) has no editor, and its tables are drawn once in a workshop too.
"""

from __future__ import annotations

__all__ = ["StepPage", "drawn_on_click", "filled", "redrawn", "redrawn_on_click"]

from collections.abc import Callable
from typing import TYPE_CHECKING

from IPython.display import display

from kpi_workbook.core.model import Framework
from kpi_workbook.steps.context import StepContext

if TYPE_CHECKING:
    import ipywidgets as w

    from kpi_workbook.editing.editor import FrameworkEditor

Draw = Callable[[Framework], object]


def _shown(drawn: object) -> tuple[object, ...]:
    """What a draw returned, as the objects to display (a table, a chart, or several in a tuple)."""
    return drawn if isinstance(drawn, tuple) else (drawn,)


def drawn_on_click(draw: Callable[[], object], label: str, tooltip: str = "draw it now") -> w.VBox:
    """A button labelled `label` that, when pressed, gives its place to what `draw()` returns, drawn once: for a
    part of a step that takes long to draw and does not follow an editor."""
    import ipywidgets as w

    from kpi_workbook.widgets.common import button

    box = w.VBox(layout=w.Layout(width="100%", align_items="flex-start"))  # the button as wide as its label
    show = button(label, tooltip=tooltip)

    def shown(_button: object) -> None:
        show.disabled = True
        drawn = draw()
        if isinstance(drawn, w.Output):
            box.children = (drawn,)
            return
        output = w.Output(layout=w.Layout(width="100%"))
        filled(output, _shown(drawn))
        box.children = (output,)

    show.on_click(shown)
    box.children = (show,)
    return box


def filled(output: w.Output, shown: tuple[object, ...]) -> None:
    """Show `shown` in `output`, all at once, as its outputs: set from the kernel in one message, never captured
    from the cell that runs (an Output widget capturing a cell's display messages while Voilà runs the notebook has
    been seen to leave the page waiting for the cell's reply)."""
    from IPython.display import display as publish
    from IPython.utils.capture import capture_output

    with capture_output(stdout=False, stderr=False) as captured:  # in the kernel: what display would send
        publish(*shown)
    output.outputs = tuple({"output_type": "display_data", "data": found.data, "metadata": found.metadata or {}}
                           for found in captured.outputs)


def redrawn(editor: FrameworkEditor, draw: Draw) -> w.Output:
    """An output showing `draw(editor.framework)`, drawn again after each save or reload of `editor`."""
    import ipywidgets as w

    from kpi_workbook.widgets.live import AFTER_SAVE

    output = w.Output(layout=w.Layout(width="100%"))

    def show(event: object = None) -> None:
        if event is None or event in AFTER_SAVE:
            filled(output, _shown(draw(editor.framework)))

    editor.subscribe(show)
    show()
    return output


def redrawn_on_click(editor: FrameworkEditor, draw: Draw, label: str) -> w.VBox:
    """A button labelled `label` that, when pressed, gives its place to `redrawn(editor, draw)`: for charts and
    tests that take long and that a room does not need the moment a step opens."""
    return drawn_on_click(lambda: redrawn(editor, draw), label, "draw them now; they are drawn again after each save")


class StepPage:
    """The live state of one step notebook: its context and, in a workshop (`interactive`) of a step that edits the
    framework (`editing`), the editor every form and every table of the notebook follows."""

    def __init__(self, ctx: StepContext, interactive: bool, editing: bool = True) -> None:
        self.ctx = ctx
        self.interactive = interactive
        self.editor: FrameworkEditor | None = None
        if interactive and editing:
            from kpi_workbook.editing.editor import FrameworkEditor

            self.editor = FrameworkEditor(ctx.workspace)

    def show(self, draw: Draw, on_demand: str = "") -> None:
        """Display `draw(framework)` (a table, a chart, or several in a tuple): in a workshop as an output drawn
        again after each save and reload (once a button labelled `on_demand` is pressed, when given), in a report
        once, from the files as opened. A workshop of a step without an editor draws it once too (when the button
        is pressed, when given)."""
        if self.editor is None:
            if self.interactive and on_demand:
                display(drawn_on_click(lambda: draw(self.ctx.framework), on_demand))
                return
            display(*_shown(draw(self.ctx.framework)))
            return
        display(redrawn_on_click(self.editor, draw, on_demand) if on_demand else redrawn(self.editor, draw))
