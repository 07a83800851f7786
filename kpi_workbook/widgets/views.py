"""A step notebook's tables and charts: drawn once from the files in a report, and in a workshop drawn again after
each save or reload of the step's editor, wherever they are in the notebook.

ipywidgets is imported only in a workshop (with an editor), so a report never loads it.
"""

from __future__ import annotations

from collections.abc import Callable

from IPython.display import display

from kpi_workbook.core.model import Framework
from kpi_workbook.editing.editor import FrameworkEditor
from kpi_workbook.steps.context import StepContext

Draw = Callable[[Framework], object]


class StepPage:
    """The live state of one step notebook: its context and, in a workshop (`interactive`), the editor every form
    and every table of the notebook follows."""

    def __init__(self, ctx: StepContext, interactive: bool) -> None:
        self.ctx = ctx
        self.editor: FrameworkEditor | None = FrameworkEditor(ctx.workspace) if interactive else None

    def show(self, draw: Draw, on_demand: str = "") -> None:
        """Display `draw(framework)` (a table, a chart, or several in a tuple): in a workshop as an output drawn
        again after each save and reload (once a button labelled `on_demand` is pressed, when given), in a report
        once, from the files as opened."""
        if self.editor is None:
            drawn = draw(self.ctx.framework)
            display(*(drawn if isinstance(drawn, tuple) else (drawn,)))
            return
        from kpi_workbook.widgets import live

        display(live.on_demand(self.editor, draw, on_demand) if on_demand else live.redrawn(self.editor, draw))
