"""The track map widget: every car on the track, the selected one marked."""

from __future__ import annotations

from f1dash_tui.ui.widgets.line_view import LineView


class TrackMapView(LineView):
    """Shows the rows from ``render.track_map``; the screen decides what to draw.

    Its size comes from the layout (1fr), so new rows never need a layout pass, and
    only the rows a car moved in are repainted.
    """

    DEFAULT_CSS = """
    TrackMapView { border: round $primary; height: 1fr; }
    """
