"""A step notebook's tables and charts: drawn once from the files in a report, and in a workshop drawn again after
each save or reload of the step's editor, wherever they are in the notebook.

ipywidgets and the editor are imported only in a workshop, so a report never loads them; a step that edits nothing
(the review) has no editor, and its tables are drawn once in a workshop too.
"""

from __future__ import annotations

__all__ = ["OneAtATime", "StepPage", "drawn_on_click"]

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


class OneAtATime:
    """Charts or tables of a step that a workshop shows one at a time, each drawn when first picked from a list
    labelled `label` (the first drawn at once): a page opens without drawing the others. A report shows them all,
    in order. `draws` maps each one's name, as the list says it, to what draws it."""

    def __init__(self, label: str, draws: dict[str, Callable[[], object]]) -> None:
        self.label = label
        self.draws = draws

    def every(self) -> tuple[object, ...]:
        """All of them, drawn now, in order (a report)."""
        return tuple(shown for draw in self.draws.values() for shown in _shown(draw()))

    def picker(self) -> w.VBox:
        """The list and, under it, the one picked (a workshop); each is drawn the first time it is picked."""
        import ipywidgets as w

        from kpi_workbook.widgets.common import dropdown
        from kpi_workbook.widgets.live import filled

        output = w.Output(layout=w.Layout(width="100%"))
        drawn: dict[str, tuple[object, ...]] = {}

        def show(name: str) -> None:
            if name not in drawn:
                drawn[name] = _shown(self.draws[name]())
            filled(output, drawn[name])

        chosen = dropdown(self.label, list(self.draws))
        chosen.observe(lambda change: show(change["new"]), names="value")
        if self.draws:
            show(chosen.value)
        return w.VBox([chosen, output], layout=w.Layout(width="100%"))


def drawn_on_click(draw: Callable[[], object], label: str, tooltip: str = "draw it now") -> w.VBox:
    """A button labelled `label` that, when pressed, gives its place to what `draw()` returns, drawn once: for a
    part of a step that takes long to draw and does not follow an editor."""
    import ipywidgets as w

    from kpi_workbook.widgets.common import button
    from kpi_workbook.widgets.live import filled

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
        is pressed, when given); there, what comes as OneAtATime shows one at a time in a workshop, all in a
        report."""
        if self.editor is None:
            if self.interactive and on_demand:
                display(drawn_on_click(lambda: draw(self.ctx.framework), on_demand))
                return
            display(*(one for shown in _shown(draw(self.ctx.framework)) for one in self._one_at_a_time(shown)))
            return
        from kpi_workbook.widgets.live import on_demand as on_click
        from kpi_workbook.widgets.live import redrawn

        display(on_click(self.editor, draw, on_demand) if on_demand else redrawn(self.editor, draw))

    def _one_at_a_time(self, shown: object) -> tuple[object, ...]:
        """`shown`, or for OneAtATime its picker in a workshop and all of it in a report."""
        if not isinstance(shown, OneAtATime):
            return (shown,)
        return (shown.picker(),) if self.interactive else shown.every()
