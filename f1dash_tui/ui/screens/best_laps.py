"""Best laps: the fastest valid laps at the current track across every session."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from f1dash_tui.render import formatting as fmt
from f1dash_tui.render.palette import tyre_look
from f1dash_tui.ui import labels
from f1dash_tui.ui.screens.base import DashboardScreen
from f1dash_tui.ui.screens.reference_picker import session_label
from f1dash_tui.ui.widgets.key_footer import KeyFooter
from f1dash_tui.ui.widgets.list_table import ListTable
from f1dash_tui.ui.widgets.panel_status import show_status
from f1dash_tui.ui.widgets.session_header import SessionHeader


class BestLapsTable(ListTable):
    """The best laps table, leaving Enter to the screen (it shows in the footer)."""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The table's own hidden Enter is off, so the screen's binding shows."""
        return action != "select_cursor"


class BestLapsScreen(DashboardScreen):
    """A table of best laps; Enter makes the lap under the cursor the reference."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        # Not a priority binding: those run as the app reads the key, before the
        # moves already queued for the table ("j j Enter" in one read used the
        # row the cursor was on before the moves).
        Binding("enter", "use_as_reference", "Use as reference"),
    ]

    def compose(self) -> ComposeResult:
        """Header, table, footer."""
        yield SessionHeader(id="best-header")
        table = BestLapsTable(id="best-laps")
        table.border_title = "Best laps at this track"
        yield table
        yield Static(id="best-empty")
        yield KeyFooter()

    def on_mount(self) -> None:
        """Columns."""
        self.query_one(DataTable).add_columns(
            "#",
            "Time",
            "Driver",
            "Lap",
            "S1",
            "S2",
            "S3",
            "Tyre",
            # The session (~21 cells) after the sectors: at 80 columns the times
            # must fit, the rest may scroll sideways.
            "Session",
            "Weather",
            "Tags",
            "Source",
        )

    def action_cursor_down(self) -> None:
        """Next lap."""
        self.query_one(DataTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        """Previous lap."""
        self.query_one(DataTable).action_cursor_up()

    def action_use_as_reference(self) -> None:
        """Make the lap under the cursor the lap-compare reference."""
        table = self.query_one(DataTable)
        if 0 <= table.cursor_row < len(self.live.best_laps):
            self.dash.set_reference(self.live.best_laps[table.cursor_row].key)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """A click on the highlighted row."""
        event.stop()
        self.action_use_as_reference()

    def show_data(self, parts: set[str]) -> None:
        """Refill the table when the best laps changed."""
        super().show_data(parts)
        table = self.query_one_optional(DataTable)
        note = self.query_one_optional("#best-empty", Static)
        if table is None or note is None:
            return  # the screen is being taken down: its widgets are gone
        if "slow" in parts:
            cursor = table.cursor_row
            table.clear()
            for rank, lap in enumerate(self.live.best_laps, start=1):
                table.add_row(
                    str(rank),
                    fmt.format_lap_time(lap.lap_time_s),
                    lap.driver_name,
                    str(lap.key.lap_number),
                    fmt.format_lap_time(lap.sector1_s),
                    fmt.format_lap_time(lap.sector2_s),
                    fmt.format_lap_time(lap.sector3_s),
                    tyre_look(lap.visual_tyre_compound).name,
                    session_label(lap, self.dash.packet_format),
                    labels.weather_name(lap.weather),
                    lap.tags,
                    labels.lap_source(lap),
                )
            if table.row_count:
                table.move_cursor(row=min(cursor, table.row_count - 1))
        app = self.dash
        status = app.pollers["slow"].status
        self._show_empty(
            note, table.row_count == 0, looked_up=status.last_ok_unix_s is not None
        )
        # Once this panel's poll has succeeded it shows data: give the data's age
        # (the session's), never "waiting for data".
        show_status(
            table,
            status,
            data_age_s=app.data_age_s() if status.last_ok_unix_s is not None else None,
            now_unix_s=app.clock(),
            paused=app.paused,
        )

    def _show_empty(self, note: Static, empty: bool, *, looked_up: bool) -> None:
        """An empty table says why it is empty instead of showing bare headings."""
        note.display = empty
        if not empty:
            return
        session = self.live.session
        if not looked_up or (
            session is not None and self.live.best_laps_track_id != session.track_id
        ):
            note.update("reading the best laps at this track…")
        else:
            note.update("no laps yet: no valid lap completed at this track")
