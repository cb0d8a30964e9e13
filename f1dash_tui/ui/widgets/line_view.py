"""A widget that shows one line of Rich text per row and repaints only changed rows.

The live panels change a few rows per poll (the cars' markers on the map, the
sparklines and values of the car panel), but a ``Static`` re-renders all its content
on every update: converting the map's ~30 braille rows and the car panel to Textual
content took most of the main thread's time per poll (py-spy on benchmarks/tui.py:
two thirds of it in the compositor re-rendering Statics). Here a row that compares
equal to the one shown keeps its cached Strip and is not repainted.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

_SINGLE_CELL_TEXT = re.compile(r"[\x20-\x7e\u00b0\u2014\u2500-\u25ff\u2800-\u28ff]*")
"""Text made only of characters one cell wide: ASCII, the degree sign, the dash, box
drawing, blocks and shapes (sparklines, team bars, the cursor mark) and braille."""


def line_strip(segments: list[Segment], width: int, base_style: Style) -> Strip:
    """One line of segments as a Strip of exactly ``width`` cells on ``base_style``.

    For text whose width is its length (the map's braille, the panels' figures) the
    Strip is made in one step with its length given: crop_extend and apply_style
    each made a new Strip (seven caches each) and measured the cell widths of every
    braille character again.
    """
    plain = "".join(segment.text for segment in segments)
    if len(plain) <= width and _SINGLE_CELL_TEXT.fullmatch(plain):
        styled = list(Segment.apply_style(segments, base_style))
        if len(plain) < width:
            styled.append(Segment(" " * (width - len(plain)), base_style))
        return Strip(styled, width)
    return Strip(segments).crop_extend(0, width, base_style).apply_style(base_style)


class LineView(Widget):
    """Rows of text set with ``show_lines``; each row one line, cropped to the width.

    With ``auto_height`` the widget is as tall as its rows and re-lays the screen
    only when their number changes; otherwise its size comes from the CSS and new
    rows never need a layout pass.
    """

    def __init__(
        self, *, auto_height: bool = False, wrap: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.auto_height = auto_height
        self.wrap = wrap
        """Fold lines longer than the width onto the next rows (as a Static does),
        again whenever the width changes; without it long lines are cropped."""
        self._source: list[Text] = []
        self._lines: list[Text] = []
        self._strips: dict[int, Strip] = {}
        self._strips_for: tuple[int, Style] | None = None
        self._base_style = Style()

    @property
    def lines(self) -> list[Text]:
        """The rows shown (for tests and screen readers)."""
        return list(self._lines)

    @property
    def content(self) -> Text:
        """All rows as one Text."""
        return Text("\n").join(self._lines)

    def show_lines(self, lines: Sequence[Text]) -> None:
        """Show these rows, repainting only those that differ from the rows shown."""
        self._source = list(lines)
        self._show(self._wrapped(self._source))

    def on_resize(self) -> None:
        """A new width folds long lines differently."""
        if self.wrap and self._source:
            self._show(self._wrapped(self._source))

    def _wrapped(self, lines: list[Text]) -> list[Text]:
        width = self.content_size.width
        if not self.wrap or width <= 0:
            return lines
        folded: list[Text] = []
        for line in lines:
            plain = line.plain
            # Most lines are single-cell text shorter than the width: no need to
            # measure each character's cells.
            fits = len(plain) <= width and _SINGLE_CELL_TEXT.fullmatch(plain)
            if fits or line.cell_len <= width:
                folded.append(line)
            else:
                folded.extend(line.wrap(self.app.console, width))
        return folded

    def _show(self, new: list[Text]) -> None:
        old = self._lines
        self._lines = new
        if len(old) != len(new):
            self._strips.clear()
            self.refresh(layout=self.auto_height)
            return
        changed = [y for y, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]
        if not changed:
            return
        for y in changed:
            self._strips.pop(y, None)
        width = max(1, self.content_size.width)
        self.refresh(*(Region(0, y, width, 1) for y in changed))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """As many rows as there are lines."""
        return len(self._lines)

    def render_lines(self, crop: Region) -> list[Strip]:
        """Note the widget's base style (dims when stale), then draw the rows."""
        self._base_style = self.rich_style
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        """One row as a Strip, built once per text, width and base style."""
        width = self.content_size.width
        key = (width, self._base_style)
        if key != self._strips_for:
            self._strips.clear()
            self._strips_for = key
        strip = self._strips.get(y)
        if strip is None:
            if y < len(self._lines):
                segments = list(self._lines[y].render(self.app.console))
                strip = line_strip(segments, width, self._base_style)
            else:
                strip = Strip.blank(width, self._base_style)
            self._strips[y] = strip
        return strip
