"""Freshness and error badges shared by every panel (border subtitle + CSS classes)."""

from __future__ import annotations

from textual.widget import Widget

from f1dash_tui.render.formatting import format_age
from f1dash_tui.ui.pollers import PollStatus

STALE_AFTER_S = 5.0
"""Data older than this dims its panel: ten polls at the default 0.5 s missed."""


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
    widget.set_class(stale, "-stale")
    widget.set_class(failing, "-error")
    if failing:
        retry_in_s = (
            max(0.0, status.next_try_unix_s - now_unix_s)
            if status.next_try_unix_s is not None
            else None
        )
        last_ok = (
            f", last good {format_age(now_unix_s - status.last_ok_unix_s)} ago"
            if status.last_ok_unix_s is not None
            else ""
        )
        widget.border_subtitle = (
            f"! {status.error} - retry in {format_age(retry_in_s)}{last_ok}"
        )
    elif paused:
        widget.border_subtitle = "paused"
    elif data_age_s is not None:
        widget.border_subtitle = f"data {format_age(data_age_s)} old"
    else:
        widget.border_subtitle = "waiting for data"
