"""The figure the package's charts return: a matplotlib Figure that a notebook shows as one PNG, drawn once."""

from __future__ import annotations

__all__ = ["ChartFigure", "PNG"]

import base64
import io

from matplotlib.figure import Figure

PNG = "image/png"


class ChartFigure(Figure):
    """A matplotlib Figure that shows itself in a notebook as a PNG of the whole figure.

    IPython's inline backend would crop the figure to its tight bounding box, which costs one more full drawing
    pass; the package's charts keep every label on the canvas (constrained layout or margins set in inches), so
    there is nothing to crop. A chart shows the same way whatever the matplotlib backend is, also with
    MPLBACKEND=Agg. ``savefig`` works as for any Figure.

    ``alt`` says what the chart shows, in words made from its data: a report gives it to the image as its text
    alternative.
    """

    alt: str = ""

    def png(self) -> bytes:
        """The figure as PNG bytes, at the figure's size and dpi."""
        buffer = io.BytesIO()
        self.savefig(buffer, format="png")
        return buffer.getvalue()

    def display_bundle(self) -> dict[str, str]:
        """What a notebook shows: the PNG (base64) and a text line for plain-text viewers."""
        return {PNG: base64.b64encode(self.png()).decode("ascii"), "text/plain": repr(self)}

    def display_metadata(self) -> dict[str, dict[str, str]]:
        """The PNG's metadata: its text alternative."""
        return {PNG: {"alt": self.alt}} if self.alt else {}

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.display_bundle(), metadata=self.display_metadata(), raw=True)
