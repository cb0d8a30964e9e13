"""The lap-compare plot widget (plotext traces rendered by ``render.traces``)."""

from __future__ import annotations

from textual.widgets import Static


class ComparePlot(Static):
    """Shows the current lap against the reference lap for one metric."""

    DEFAULT_CSS = """
    ComparePlot { border: round $primary; height: 1fr; width: 1fr; }
    """
