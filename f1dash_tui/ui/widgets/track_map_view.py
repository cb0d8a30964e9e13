"""The track map widget: every car on the track, the selected one marked."""

from __future__ import annotations

from textual.widgets import Static


class TrackMapView(Static):
    """Shows a renderable from ``render.track_map``; the screen decides what to draw."""

    DEFAULT_CSS = """
    TrackMapView { border: round $primary; height: 1fr; }
    """
