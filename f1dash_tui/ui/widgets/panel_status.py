"""Freshness and error badges shared by every panel (border subtitle + CSS classes)."""

from __future__ import annotations

from textual.widget import Widget

from f1dash_tui.render.formatting import format_age, format_retry
from f1dash_tui.ui.pollers import PollStatus

STALE_AFTER_S = 5.0
"""Data older than this dims its panel: ten polls at the default 0.5 s missed."""


def coarse_age(age_s: float) -> str:
    """Whole seconds, and one text for "under a second": a new subtitle repaints the
    whole panel, so live data (always < 1 s at a 0.5 s poll) must not change it."""
    if age_s < 1.0:
        return "<1s"
    if age_s < 60:
        return f"{int(age_s)}s"
    return format_age(age_s)


def show_status(
    widget: Widget,
    status: PollStatus,
    *,
    data_age_s: float | None,
    now_unix_s: float,
    paused: bool = False,
) -> None:
    """Put the data age or the error with its next retry on the panel's border.

    ``-stale`` dims the panel when the data is old or the last poll failed; ``-error``
    marks a failing poll. Both are CSS classes, so the theme decides the look.
    """
    failing = status.error is not None
    stale = failing or (data_age_s is not None and data_age_s > STALE_AFTER_S)
    # Class changes restyle the widget's subtree: only touch them on a change.
    if widget.has_class("-stale") != stale:
        widget.set_class(stale, "-stale")
    if widget.has_class("-error") != failing:
        widget.set_class(failing, "-error")
    if failing:
        retry_in_s = (
            None
            if paused or status.next_try_unix_s is None
            else status.next_try_unix_s - now_unix_s
        )
        last_ok = (
            f", last good {format_age(now_unix_s - status.last_ok_unix_s)} ago"
            if status.last_ok_unix_s is not None
            else ""
        )
        subtitle = f"! {status.error} - {format_retry(retry_in_s)}{last_ok}"
    elif paused:
        subtitle = "paused"
    elif data_age_s is not None:
        subtitle = f"data {coarse_age(data_age_s)} old"
    else:
        subtitle = "waiting for data"
    if widget.border_subtitle != subtitle:
        widget.border_subtitle = subtitle
