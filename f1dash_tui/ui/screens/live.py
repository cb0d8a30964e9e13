"""The live screen: header, timing tower, selected car's panel and the track map."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, Vertical
from textual.events import Resize

from f1dash_tui.ui.screens.base import DashboardScreen
from f1dash_tui.ui.widgets.car_panel import CarPanel, car_panel_lines
from f1dash_tui.ui.widgets.key_footer import KeyFooter
from f1dash_tui.ui.widgets.panel_status import show_status
from f1dash_tui.ui.widgets.session_header import SessionHeader
from f1dash_tui.ui.widgets.timing_tower import TimingTower
from f1dash_tui.ui.widgets.track_map_view import TrackMapView

NARROW_BELOW_COLUMNS = 120
"""Under 120 columns the tower (~95 columns) and the side panels cannot sit side by
side: they stack."""
SHORT_BELOW_ROWS = 34
"""Under 34 rows the map has too few rows to read (it needs ~10): it folds away."""


class LiveScreen(DashboardScreen):
    """Everything about the session now."""

    # The tower's own bindings (up/down, j/k, Enter) apply while it has focus,
    # which it always has on this screen.
    BINDINGS: ClassVar[list[BindingType]] = []

    def compose(self) -> ComposeResult:
        """Header, body (tower + side column), footer."""
        yield SessionHeader(id="header")
        with Horizontal(id="live-body"):
            yield TimingTower(id="tower")
            with Vertical(id="side"):
                yield CarPanel(id="car-panel")
                yield TrackMapView(id="track-map")
        yield KeyFooter()

    def on_mount(self) -> None:
        """Titles and the first focus."""
        self.query_one("#tower").border_title = "Timing"
        self.query_one("#car-panel").border_title = "Car"
        self.query_one("#track-map").border_title = "Track"
        self.query_one(TimingTower).focus()

    def on_resize(self, event: Resize) -> None:
        """Stack panels on narrow terminals, fold the map on short ones."""
        self.set_class(event.size.width < NARROW_BELOW_COLUMNS, "-narrow")
        self.set_class(event.size.height < SHORT_BELOW_ROWS, "-short")
        self.show_data({"car", "live"})

    def action_select_car(self) -> None:
        """Make the car under the cursor the selected car."""
        self.query_one(TimingTower).action_choose()

    def on_timing_tower_car_chosen(self, event: TimingTower.CarChosen) -> None:
        """Enter in the tower: that car becomes the selected car."""
        event.stop()
        self.dash.select_car(event.car_index)

    def show_data(self, parts: set[str]) -> None:
        """Refresh the panels whose data changed."""
        super().show_data(parts)
        live, app = self.live, self.dash
        now = app.clock()
        age = app.data_age_s()
        tower = self.query_one_optional(TimingTower)
        panel = self.query_one_optional(CarPanel)
        track_map = self.query_one_optional(TrackMapView)
        if tower is None or panel is None or track_map is None:
            return  # the screen is being taken down: its widgets are gone
        if "live" in parts and live.tower is not None:
            tower.show_tower(live.tower, live.selected_car, app.packet_format)
        show_status(
            tower,
            app.pollers["live"].status,
            data_age_s=age,
            now_unix_s=now,
            paused=app.paused,
        )
        if parts & {"car", "live"}:
            width = max(20, panel.size.width - 4)
            compact = self.has_class("-short")
            track_length = live.session.track_length_m if live.session else 0
            key = (
                live.versions["car"],
                live.versions["live"],
                live.selected_car,
                width,
                compact,
            )
            content = self.cached(
                "car",
                key,
                lambda: car_panel_lines(
                    live.selected_row,
                    live.car_state,
                    live.samples,
                    track_length_m=track_length or 5000.0,
                    width=width,
                    units=app.settings.ui.units,
                    spark_style=app.spark_style,
                    compact=compact,
                    packet_format=app.packet_format,
                ),
            )
            # The panel's height follows its lines: re-laid only when their count
            # changes; otherwise only the rows that changed are repainted.
            panel.show_lines(content)
        show_status(
            panel,
            app.pollers["live"].status,
            data_age_s=age,
            now_unix_s=now,
            paused=app.paused,
        )
        # Positions arrive with "live"; redrawing on "car" too would draw twice a poll.
        if track_map.display and parts & {"live", "reference"}:
            size = track_map.content_size
            if size.width > 2 and size.height > 2:
                track_map.show_lines(self.map_rows(size.width, size.height))
        show_status(
            track_map,
            app.pollers["live"].status,
            data_age_s=age,
            now_unix_s=now,
            paused=app.paused,
        )
