"""Events: the session's events in order, with readable details."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType

from f1dash_tui.render import formatting as fmt
from f1dash_tui.telemetry import enums
from f1dash_tui.ui.screens.base import DashboardScreen
from f1dash_tui.ui.widgets.key_footer import KeyFooter
from f1dash_tui.ui.widgets.list_table import ListTable
from f1dash_tui.ui.widgets.panel_status import show_status
from f1dash_tui.ui.widgets.session_header import SessionHeader


class EventsScreen(DashboardScreen):
    """Fastest laps, penalties, retirements, safety car, DRS, flags, flashbacks.

    Like a log it follows the newest event while the cursor is on the last row (as
    it is on first opening); a cursor moved up stays where it is.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._shown_restarts: int | None = None
        self._last_shown_event_id = -1

    def compose(self) -> ComposeResult:
        """Header, table, footer."""
        yield SessionHeader(id="events-header")
        table = ListTable(id="events")
        table.border_title = "Events"
        yield table
        yield KeyFooter()

    def on_mount(self) -> None:
        """Columns."""
        self.query_one(ListTable).add_columns(
            "Time", "Event", "Driver", "Other", "Detail"
        )

    def on_resize(self) -> None:
        """Smaller, a table following the newest event keeps it in view (the view
        stayed where it was and the newest rows went below the screen)."""
        table = self.query_one_optional(ListTable)
        following = table is not None and table.cursor_row >= table.row_count - 1
        if table is not None and table.row_count and following:
            table.call_after_refresh(table.scroll_end, animate=False)

    def action_cursor_down(self) -> None:
        """Next event."""
        self.query_one(ListTable).action_cursor_down()

    def action_cursor_up(self) -> None:
        """Previous event."""
        self.query_one(ListTable).action_cursor_up()

    def show_data(self, parts: set[str]) -> None:
        """Append new events (or start again for a new session)."""
        super().show_data(parts)
        table = self.query_one_optional(ListTable)
        if table is None:
            return  # the screen is being taken down: its widgets are gone
        if "events" in parts:
            self._append_events(table)
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

    def _append_events(self, table: ListTable) -> None:
        live = self.live
        if live.events_restarts != self._shown_restarts:
            table.clear()
            self._shown_restarts = live.events_restarts
            self._last_shown_event_id = -1
        # Ids, not a count: LiveData keeps the newest 2,000 events, so at the cap
        # its length stays the same while new events arrive.
        new = [e for e in live.events if e.event_id > self._last_shown_event_id]
        if not new:
            return
        following = table.row_count == 0 or table.cursor_row >= table.row_count - 1
        units = self.dash.settings.ui.units
        for event in new:
            table.add_row(
                fmt.format_clock(event.session_time_s),
                f"{event.event_code} {enums.event_name(event.event_code)}",
                event.driver_name or "",
                event.other_driver_name or "",
                fmt.speeds_in_units(event.detail, units),
            )
        self._last_shown_event_id = new[-1].event_id
        if following:
            last = table.row_count - 1
            table.move_cursor(row=last, animate=False)
            # Again once laid out: a detail wider than the screen adds a horizontal
            # scrollbar, one line less to show rows in, and the last row was under it.
            table.call_after_refresh(table.scroll_end, animate=False)
