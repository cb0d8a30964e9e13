"""What every dashboard screen shares: the header, the render cache, map layers."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import numpy as np
from rich.text import Text
from textual.screen import Screen

from f1dash_tui.render.track_map import MapCar, MapLayer, track_map_rows
from f1dash_tui.ui.labels import team_colour_of
from f1dash_tui.ui.live_data import LiveData
from f1dash_tui.ui.widgets.panel_status import show_status
from f1dash_tui.ui.widgets.session_header import SessionHeader, header_text

if TYPE_CHECKING:
    from f1dash_tui.ui.app import F1DashApp

R = TypeVar("R")


class DashboardScreen(Screen[None]):
    """A screen fed by the app's LiveData; ``show_data`` runs on every change."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._cache: dict[str, tuple[Hashable, Any]] = {}
        self._header_text: Text | None = None

    @property
    def dash(self) -> F1DashApp:
        """The app, typed."""
        return cast("F1DashApp", self.app)

    @property
    def live(self) -> LiveData:
        """The data on screen."""
        return self.dash.live

    def cached(self, name: str, key: Hashable, build: Callable[[], R]) -> R:
        """Build a renderable once per (data version, size) key."""
        held = self._cache.get(name)
        if held is not None and held[0] == key:
            return cast(R, held[1])
        value = build()
        self._cache[name] = (key, value)
        return value

    def on_screen_resume(self) -> None:
        """Coming back to this screen: show everything as it is now."""
        self.show_data({"live", "car", "events", "slow", "reference", "status"})

    def show_data(self, parts: set[str]) -> None:
        """Update the widgets for the parts of LiveData that changed."""
        self.update_header()

    def update_header(self) -> None:
        """Header text and its freshness state."""
        headers = self.query(SessionHeader)
        if not headers:
            return
        header = headers.first()
        app = self.dash
        error, retry = app.first_error() or (None, "")
        text = header_text(
            self.live.session,
            self.live.tower,
            source_label=app.source_label,
            feed_name=app.feed_name,
            data_age_s=app.data_age_s(),
            units=app.settings.ui.units,
            polling=app.polling_label(),
            error=error,
            retry=retry,
            health=self.live.health,
            health_read_unix_s=self.live.health_read_unix_s,
            now_unix_s=app.clock(),
            width=header.content_size.width or None,
        )
        # Unchanged text (the usual case between polls) must not repaint the header.
        if text != self._header_text:
            self._header_text = text
            header.update(text, layout=False)
        show_status(
            header,
            app.pollers["live"].status,
            data_age_s=app.data_age_s(),
            now_unix_s=app.clock(),
            paused=app.paused,
        )

    def map_rows(self, width: int, height: int, *, compare: bool = False) -> list[Text]:
        """The track map's rows for this size (cached by data versions and size)."""
        live = self.live
        versions = live.versions
        key = (
            versions["live"],
            versions["car"],
            versions["reference"],
            live.selected_car,
            width,
            height,
            compare,
            self.dash.map_style,
        )
        return self.cached("map", key, lambda: self._draw_map(width, height, compare))

    def _draw_map(self, width: int, height: int, compare: bool) -> list[Text]:
        live = self.live
        layers: list[MapLayer] = []
        trail_x, trail_z = self.dash.trail()
        if len(trail_x):
            layers.append(MapLayer(trail_x, trail_z, "dim", dots_only=True))
        reference = live.reference.samples if live.reference else None
        if reference is not None and len(reference.frame):
            layers.append(
                MapLayer(
                    reference.world_position_x_m,
                    reference.world_position_z_m,
                    "cyan" if compare else "dim",
                )
            )
        if live.samples is not None and len(live.samples.frame):
            layers.append(
                MapLayer(
                    live.samples.world_position_x_m,
                    live.samples.world_position_z_m,
                    "bold yellow",
                )
            )
        cars: list[MapCar] = []
        positions = live.positions
        if positions is not None:
            for index, x_m, z_m in zip(
                positions.car_index.tolist(),
                positions.world_position_x_m.tolist(),
                positions.world_position_z_m.tolist(),
                strict=False,
            ):
                if not (np.isfinite(x_m) and np.isfinite(z_m)):
                    continue
                row = live.row_for(index)
                if row is None:
                    continue
                short_name = row.driver_name[:3].upper() or f"car {index}"
                label = (
                    f"P{row.position} {short_name}"
                    if index == live.selected_car
                    else ""
                )
                style = f"bold {team_colour_of(self.dash.packet_format, row.team_id)}"
                if index == live.selected_car:
                    style = "bold reverse"
                cars.append(MapCar(index, x_m, z_m, style, label))
        return track_map_rows(
            width,
            height,
            layers,
            cars,
            selected_car=live.selected_car,
            style=self.dash.map_style,
        )
