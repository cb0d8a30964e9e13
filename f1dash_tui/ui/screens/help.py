"""The help screen: every key of every screen, from their BINDINGS."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from f1dash_tui.render import formatting as fmt
from f1dash_tui.ui import labels

TIME_LETTERS = (
    (fmt.OVERALL_BEST.symbol, "fastest lap of anyone in the session (purple)"),
    (fmt.PERSONAL_BEST.symbol, "the driver's own best lap (green)"),
    (fmt.INVALID.symbol, "lap invalidated (track limits, a penalty; red)"),
)
"""The letter after a lap time in the timing tower, so colour is not needed."""

PENALTY_EXAMPLES = (
    (fmt.format_penalties(5, 0), "5 s of time penalties"),
    (fmt.format_penalties(0, 2), "2 warnings (track limits, corner cutting)"),
)
"""The tower's Pen column, shown by example (``+5s W2`` when both)."""

KEY_NAMES = {
    "question_mark": "?",
    "plus": "+",
    "equals_sign": "=",
    "minus": "-",
    "enter": "Enter",
    "escape": "Esc",
    "tab": "Tab",
    "down": "↓",
    "up": "↑",
    "ctrl+c": "Ctrl+C",
    "ctrl+q": "Ctrl+Q",
    "home": "Home",
    "end": "End",
    "pageup": "PgUp",
    "pagedown": "PgDn",
}


def key_rows(
    sections: Iterable[tuple[str, Iterable[BindingType]]],
) -> list[tuple[str, str, str]]:
    """(where, keys, what) for every binding with a description."""
    rows = []
    for where, bindings in sections:
        for binding in bindings:
            if not isinstance(binding, Binding) or not binding.description:
                continue
            keys = " ".join(KEY_NAMES.get(key, key) for key in binding.key.split(","))
            rows.append((where, keys, binding.description))
    return rows


def time_letters_table() -> Table:
    """What the letters after lap times in the tower mean."""
    table = Table(box=None, show_header=True, header_style="bold")
    table.add_column("after a lap time")
    table.add_column("means")
    for letter, meaning in TIME_LETTERS:
        table.add_row(letter, meaning)
    return table


def tower_legend_table() -> Table:
    """What the tower's Pen column and Tags column show."""
    table = Table(box=None, show_header=True, header_style="bold")
    table.add_column("in the tower")
    table.add_column("means")
    for shown, meaning in PENALTY_EXAMPLES:
        table.add_row(f"Pen {shown}", meaning)
    for tag, meaning in labels.tower_tag_legend():
        table.add_row(f"Tags {tag}", meaning)
    table.add_row("", "tags combine: PIT IN is pitting at the end of an in lap")
    return table


class HelpScreen(ModalScreen[None]):
    """Lists the keys; any of escape, ? or q closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark,q", "close", "Close help"),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > #help-scroll { width: 64; max-width: 95%; height: 90%;
        border: thick $accent; background: $surface; padding: 0 1; }
    HelpScreen #help-keys, HelpScreen #help-letters, HelpScreen #help-tower {
        width: 100%; height: auto; }
    HelpScreen #help-letters, HelpScreen #help-tower { margin-top: 1; }
    """

    def __init__(self, sections: list[tuple[str, Iterable[BindingType]]]) -> None:
        super().__init__()
        self.sections = sections

    def compose(self) -> ComposeResult:
        """One table of keys."""
        table = Table(box=None, show_header=True, header_style="bold")
        table.add_column("screen")
        table.add_column("keys")
        table.add_column("does")
        for where, keys, what in key_rows(self.sections):
            table.add_row(where, keys, what)
        with VerticalScroll(id="help-scroll") as scroll:
            scroll.border_title = (
                "Keys (Esc closes, arrows scroll; Ctrl+P: every action)"
            )
            yield Static(table, id="help-keys")
            yield Static(time_letters_table(), id="help-letters")
            yield Static(tower_legend_table(), id="help-tower")

    def action_close(self) -> None:
        """Back to the dashboard."""
        self.dismiss(None)
