"""The reference-lap picker: the fastest valid laps at this track across sessions."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from f1dash_tui.render import formatting as fmt
from f1dash_tui.render.palette import tyre_look
from f1dash_tui.store.snapshots import BestLap, LapKey
from f1dash_tui.ui import labels
from f1dash_tui.ui.widgets.list_table import ListTable


def session_label(lap: BestLap, packet_format: int | None) -> str:
    """When and what the lap's session was: ``2026-03-08 14:02 Race``."""
    when = (
        datetime.fromtimestamp(lap.session_started_unix_s, tz=timezone.utc).strftime(
            "%Y-%m-%d %H:%M"
        )
        if lap.session_started_unix_s
        else "—"
    )
    return f"{when} {labels.session_type_name(packet_format, lap.session_type)}"


class ReferencePicker(ModalScreen[LapKey | None]):
    """Pick a lap with up/down (or j/k) and Enter; Escape keeps the current one."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]
    DEFAULT_CSS = """
    ReferencePicker { align: center middle; }
    ReferencePicker > #picker-box { width: 90%; height: 80%; border: thick $accent;
        background: $surface; }
    """

    def __init__(
        self, best_laps: tuple[BestLap, ...], packet_format: int | None
    ) -> None:
        super().__init__()
        self.best_laps = best_laps
        self.packet_format = packet_format

    def compose(self) -> ComposeResult:
        """A title and the table of laps."""
        table = ListTable(id="picker-box")
        table.border_title = "Reference lap: Enter picks, Escape cancels"
        yield table
        if not self.best_laps:
            yield Label("no completed valid laps at this track in the store yet")

    def on_mount(self) -> None:
        """Fill the table (fastest first)."""
        table = self.query_one(DataTable)
        table.add_columns(
            "#", "Time", "Driver", "Lap", "Session", "Tyre", "Tags", "Source"
        )
        for rank, lap in enumerate(self.best_laps, start=1):
            table.add_row(
                str(rank),
                fmt.format_lap_time(lap.lap_time_s),
                lap.driver_name,
                str(lap.key.lap_number),
                session_label(lap, self.packet_format),
                tyre_look(lap.visual_tyre_compound).letter,
                lap.tags,
                labels.lap_source(lap),
                key=str(rank - 1),
            )
        table.focus()

    def action_cursor_down(self) -> None:
        """Next lap."""
        self.query_one(DataTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        """Previous lap."""
        self.query_one(DataTable).action_cursor_up()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """Enter: use this lap as the reference."""
        event.stop()
        if event.row_key.value is not None:
            self.dismiss(self.best_laps[int(event.row_key.value)].key)

    def action_cancel(self) -> None:
        """Close without changing the reference."""
        self.dismiss(None)
