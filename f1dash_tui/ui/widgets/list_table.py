"""A table of rows with a row cursor, for the dashboard's lists."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import DataTable


class ListTable(DataTable[str]):
    """A DataTable of rows where Home and End go to the first and the last row.

    Textual's DataTable gives Home and End to its columns (leftmost, rightmost) and
    the rows to Ctrl+Home and Ctrl+End: on these lists, whose columns fit, End did
    nothing. The page keys are listed again only to name them in the help screen.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("home", "scroll_top", "First row", show=False),
        Binding("end", "scroll_bottom", "Last row", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="row", **kwargs)
