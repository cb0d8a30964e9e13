"""Events: the session's events in order, with readable details."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from f1dash_tui.render import formatting as fmt
from f1dash_tui.telemetry import enums
from f1dash_tui.ui.screens.base import DashboardScreen
from f1dash_tui.ui.widgets.key_footer import KeyFooter
from f1dash_tui.ui.widgets.panel_status import show_status
from f1dash_tui.ui.widgets.session_header import SessionHeader


class EventsScreen(DashboardScreen):
    """Fastest laps, penalties, retirements, safety car, DRS, flags, flashbacks."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    def compose(self) -> ComposeResult:
        """Header, table, footer."""
        yield SessionHeader(id="events-header")
        table: DataTable[str] = DataTable(id="events", cursor_type="row")
        table.border_title = "Events"
        yield table
        yield KeyFooter()

    def on_mount(self) -> None:
        """Columns."""
        self.query_one(DataTable).add_columns(
            "Time", "Event", "Driver", "Other", "Detail"
        )
        self._shown = 0

    def action_cursor_down(self) -> None:
        """Next event."""
        self.query_one(DataTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        """Previous event."""
        self.query_one(DataTable).action_cursor_up()

    def show_data(self, parts: set[str]) -> None:
        """Append new events (or start again for a new session)."""
        super().show_data(parts)
        table = self.query_one_optional(DataTable)
        if table is None:
            return  # the screen is being taken down: its widgets are gone
        events = self.live.events
        if "events" in parts:
            if len(events) < self._shown:
                table.clear()
                self._shown = 0
            for event in events[self._shown :]:
                table.add_row(
                    fmt.format_clock(event.session_time_s),
                    f"{event.event_code} {enums.event_name(event.event_code)}",
                    event.driver_name or "",
                    event.other_driver_name or "",
                    fmt.speeds_in_units(event.detail, self.dash.settings.ui.units),
                )
            self._shown = len(events)
        app = self.dash
        status = app.pollers["events"].status
        # Once this panel's poll has succeeded it shows data: give the data's age
        # (the session's), never "waiting for data".
        show_status(
            table,
            status,
            data_age_s=app.data_age_s() if status.last_ok_unix_s is not None else None,
            now_unix_s=app.clock(),
            paused=app.paused,
        )
