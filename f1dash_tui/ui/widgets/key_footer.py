"""The footer: the keys that apply, with ? and q kept however narrow the terminal."""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

ALWAYS_SHOWN = ("help", "quit")
"""Actions whose keys never leave the footer: a new user needs ? and q first."""

DROPPED_FIRST = ("next_screen", "toggle_pause")
"""Shown while there is room, hidden first when there is not (Tab, p): they still
work and the help screen (?) lists them."""

KEY_PADDING_CELLS = 3
"""A footer key takes its key, a space and its description plus 3 cells
("q Quit" is 8 wide)."""


class KeyFooter(Footer):
    """Textual's footer without the palette hint (Ctrl+P is in the help screen's
    title), dropping the least needed keys first when they would not fit.

    At 80 columns lap compare needs 76 cells for its six keys, so Textual's
    right-docked "^p palette" was drawn over "q Quit"; at 60 columns ? and q fell off.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("show_command_palette", False)
        super().__init__(**kwargs)

    def compose(self) -> ComposeResult:
        """The keys Footer would show, less the ones the width has no room for."""
        widgets = list(super().compose())
        keys = [widget for widget in widgets if isinstance(widget, FooterKey)]
        width = self.size.width or self.app.size.width
        needed = sum(_cells(key) for key in keys)
        dropped: set[int] = set()
        order = [
            *(key for action in DROPPED_FIRST for key in keys if key.action == action),
            *(
                key
                for key in reversed(keys)
                if key.action not in DROPPED_FIRST + ALWAYS_SHOWN
            ),
        ]
        for key in order:
            if needed <= width:
                break
            dropped.add(id(key))
            needed -= _cells(key)
        shown: list[Widget] = [w for w in widgets if id(w) not in dropped]
        self.styles.grid_size_columns = len(shown)
        yield from shown

    def on_resize(self) -> None:
        """Another width may fit more (or fewer) keys."""
        self.refresh(recompose=True)


def _cells(key: FooterKey) -> int:
    return cell_len(key.key_display) + cell_len(key.description) + KEY_PADDING_CELLS
