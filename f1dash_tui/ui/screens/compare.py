"""Lap compare: the selected car's lap against a reference lap, by lap distance."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.events import Resize

from f1dash_tui.render import formatting as fmt
from f1dash_tui.render.traces import compare_plot, lap_delta
from f1dash_tui.store.snapshots import LapKey
from f1dash_tui.ui.screens.base import DashboardScreen
from f1dash_tui.ui.screens.reference_picker import ReferencePicker
from f1dash_tui.ui.widgets.compare_view import ComparePlot
from f1dash_tui.ui.widgets.key_footer import KeyFooter
from f1dash_tui.ui.widgets.line_view import LineView
from f1dash_tui.ui.widgets.panel_status import show_status
from f1dash_tui.ui.widgets.session_header import SessionHeader
from f1dash_tui.ui.widgets.track_map_view import TrackMapView


class CompareScreen(DashboardScreen):
    """Traces of one metric for the current and the reference lap, plus both lines."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("m", "cycle_metric", "Metric"),
        Binding("r", "pick_reference", "Reference lap"),
    ]

    def compose(self) -> ComposeResult:
        """Header, plot, side column (lap info and map), footer."""
        yield SessionHeader(id="compare-header")
        with Horizontal(id="compare-body"):
            yield ComparePlot(id="compare-plot")
            with Vertical(id="compare-side"):
                yield LineView(auto_height=True, wrap=True, id="compare-info")
                yield TrackMapView(id="compare-map")
        yield KeyFooter()

    def on_mount(self) -> None:
        """Titles."""
        self.query_one("#compare-plot").border_title = "Lap compare"
        self.query_one("#compare-info").border_title = "Laps"
        self.query_one("#compare-map").border_title = "Racing lines"

    def on_resize(self, event: Resize) -> None:
        """Stack on narrow terminals."""
        self.set_class(event.size.width < 110, "-narrow")
        self.show_data({"car", "reference"})

    def action_cycle_metric(self) -> None:
        """Show the next metric (speed, throttle, brake, gear, RPM, steer)."""
        self.dash.cycle_metric()
        self.show_data({"car"})

    def action_pick_reference(self) -> None:
        """Choose the reference lap from the best laps across sessions."""

        def chosen(key: LapKey | None) -> None:
            if key is not None:
                self.dash.set_reference(key)

        self.app.push_screen(
            ReferencePicker(self.live.best_laps, self.dash.packet_format), chosen
        )

    def info_text(self) -> Text:
        """Which laps are compared and the running delta."""
        live = self.live
        text = Text()
        text.append(f"metric: {self.dash.metric.label}\n", style="bold")
        row = live.selected_row
        if row is not None:
            text.append(f"current: P{row.position} {row.driver_name} lap ")
            text.append(f"{row.lap_number}\n")
        else:
            text.append("current: no car selected\n")
        reference = live.reference
        if reference is not None:
            lap = reference.lap
            if live.reference_key is not None:
                chosen = "picked"
            elif live.best_laps and lap.key != live.best_laps[0].key:
                chosen = "fastest recorded in full"
            else:
                chosen = "fastest"
            text.append(
                f"reference ({chosen}): {lap.driver_name} lap {lap.key.lap_number} "
                f"{fmt.format_lap_time(lap.lap_time_s)}\n"
            )
        elif live.session is None:
            # An empty store: "reading the best laps" would wait for ever.
            text.append("reference: none until a session is in the store\n")
        elif live.best_laps_track_id != live.session.track_id:
            # The best laps of this track have not been read yet: "none" would be
            # a claim the Best laps screen contradicts a moment later.
            text.append("reference: reading the best laps at this track…\n")
        elif live.best_laps:
            text.append("reference: loading the fastest lap at this track…\n")
        else:
            text.append("reference: no completed valid lap at this track yet\n")
        text.append("delta: ")
        if reference is None:
            text.append(fmt.format_delta(None), style="bold")
            return text
        if live.samples is None:
            text.append(fmt.format_delta(None), style="bold")
            text.append(" (current lap has no samples yet)")
            return text
        delta = lap_delta(live.samples, reference.samples)
        text.append(fmt.format_delta(delta.delta_s), style="bold")
        if delta.delta_s is None:
            # One clause a line: a folded line would outgrow the panel's height.
            first, *rest = delta.why.split("; ")
            text.append(f" ({first})")
            for clause in rest:
                text.append(f"\n{clause}")
            if delta.reference_partial:
                text.append("\nr: pick another reference lap")
        else:
            text.append(" (ahead)" if delta.delta_s < 0 else " (behind)")
            if delta.from_m > 0:
                text.append(f" since {delta.from_m:,.0f} m")
        return text

    def show_data(self, parts: set[str]) -> None:
        """Redraw plot, info and map when their data changed."""
        super().show_data(parts)
        live, app = self.live, self.dash
        now, age = app.clock(), app.data_age_s()
        plot = self.query_one_optional(ComparePlot)
        info = self.query_one_optional("#compare-info", LineView)
        track_map = self.query_one_optional("#compare-map", TrackMapView)
        if plot is None or info is None or track_map is None:
            return  # the screen is being taken down: its widgets are gone
        if parts & {"car", "reference", "live"}:
            size = plot.content_size
            if size.width > 10 and size.height > 4:
                key = (
                    live.versions["car"],
                    live.versions["reference"],
                    app.metric.key,
                    size.width,
                    size.height,
                )
                track_length = live.session.track_length_m if live.session else 0
                plot.update(
                    self.cached(
                        "plot",
                        key,
                        lambda: compare_plot(
                            live.samples,
                            live.reference.samples if live.reference else None,
                            app.metric,
                            size.width,
                            size.height,
                            track_length_m=float(track_length or 0),
                            marker=app.plot_marker,
                            colour=not app.no_color,
                            units=app.settings.ui.units,
                        ),
                    ),
                    layout=False,
                )
            # Re-laid out only when its number of lines changes (a Static's update
            # re-lays the whole screen every poll).
            info.show_lines(list(self.info_text().split("\n")))
        show_status(
            plot,
            app.pollers["live"].status,
            data_age_s=age,
            now_unix_s=now,
            paused=app.paused,
        )
        if parts & {"car", "live", "reference"}:
            size = track_map.content_size
            if size.width > 2 and size.height > 2:
                track_map.show_lines(
                    self.map_rows(size.width, size.height, compare=True)
                )
