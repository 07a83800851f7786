"""Tables and charts of a step drawn from the editor's framework, and drawn again when it changes."""

from __future__ import annotations

__all__ = ["AFTER_SAVE", "ALWAYS", "beside", "filled", "on_demand", "redrawn"]

from collections.abc import Callable, Iterable
from weakref import WeakKeyDictionary

import ipywidgets as w
from IPython.display import display as publish
from IPython.utils.capture import capture_output

from kpi_workbook.core.model import Framework
from kpi_workbook.editing.editor import FrameworkEditor
from kpi_workbook.editing.observers import Event
from kpi_workbook.reports.figures import ChartFigure
from kpi_workbook.widgets.common import button

AFTER_SAVE = (Event.SAVED, Event.RELOADED)  # what the files hold: a table or chart of the saved framework
ALWAYS = tuple(Event)  # the working copy, as it is typed


def _published(shown: object) -> list[dict[str, object]]:
    """The outputs displaying `shown` would send, as an Output widget holds them."""
    with capture_output(stdout=False, stderr=False) as captured:  # in the kernel: what display would send
        publish(shown)
    return [{"output_type": "display_data", "data": found.data, "metadata": found.metadata or {}}
            for found in captured.outputs]


_RENDERED: WeakKeyDictionary[ChartFigure, list[dict[str, object]]] = WeakKeyDictionary()


def filled(output: w.Output, shown: tuple[object, ...]) -> None:
    """Show `shown` in `output`, all at once, as its outputs: set from the kernel in one message, never captured
    from the cell that runs (an Output widget capturing a cell's display messages while Voilà runs the notebook has
    been seen to leave the page waiting for the cell's reply). A chart shown again (one a page keeps, see
    step_tables) is not drawn again: its PNG is kept with it."""
    outputs: list[dict[str, object]] = []
    for one in shown:
        if not isinstance(one, ChartFigure):
            outputs += _published(one)
            continue
        if one not in _RENDERED:
            _RENDERED[one] = _published(one)
        outputs += _RENDERED[one]
    output.outputs = tuple(outputs)


def redrawn(editor: FrameworkEditor, draw: Callable[[Framework], object], on: Iterable[Event] = AFTER_SAVE) -> w.Output:
    """An output showing `draw(editor.framework)` (a table, a chart, or several in a tuple), drawn again after each
    event in `on`: by default after a save or a reload, so a step's tables show what was saved, with no re-run. Each
    drawing is set as the output's contents in one message (`filled`), never captured from a running cell."""
    output = w.Output(layout=w.Layout(width="100%"))
    events = set(on)

    def show(event: Event | None = None) -> None:
        if event is not None and event not in events:
            return
        drawn = draw(editor.framework)
        filled(output, drawn if isinstance(drawn, tuple) else (drawn,))

    editor.subscribe(show)
    show()
    return output


def on_demand(editor: FrameworkEditor, draw: Callable[[Framework], object], label: str) -> w.VBox:
    """A button labelled `label` that, when pressed, gives its place to `redrawn(editor, draw)`: for charts that
    take long to draw and that a room does not need the moment a step opens."""
    box = w.VBox(layout=w.Layout(width="100%", align_items="flex-start"))  # the button as wide as its label
    show = button(label, tooltip="draw them now; they are drawn again after each save")
    show.on_click(lambda _button: setattr(box, "children", (redrawn(editor, draw),)))
    box.children = (show,)
    return box


def beside(form: w.Widget, chart: w.Widget, chart_width: str = "760px") -> w.HBox:
    """A form with its chart to its right, the chart going under the form when the screen has no room for it at
    `chart_width` (a projector at 1280 pixels shows the chart under the form, a wide screen beside it)."""
    form.layout.flex = "0 0 38em"
    chart.layout.flex = f"1 1 {chart_width}"
    chart.layout.min_width = chart_width
    return w.HBox([form, chart], layout=w.Layout(flex_flow="row wrap", align_items="flex-start", width="100%"))
