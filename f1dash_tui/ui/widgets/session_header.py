"""The header line: track, session, weather, temperatures, laps, safety car, age."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from f1dash_tui.render.formatting import (
    format_clock,
    format_temperature,
)
from f1dash_tui.store.snapshots import PipelineHealth, SessionInfo, TimingTower
from f1dash_tui.ui import labels
from f1dash_tui.ui.widgets.panel_status import STALE_AFTER_S, coarse_age

SYNTHETIC_LABEL = "synthetic race"


def header_text(
    session: SessionInfo | None,
    tower: TimingTower | None,
    *,
    source_label: str,
    data_age_s: float | None,
    units: str,
    polling: str,
    error: str | None,
    health: PipelineHealth | None = None,
    width: int | None = None,
) -> Text:
    """The header's two lines as text (pure, so it is easy to test and cache)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    if session is None:
        text.append("no session in the store yet", style="bold")
    else:
        text.append(labels.track_name(session.track_id), style="bold")
        text.append(
            f"  {labels.session_type_name(session.packet_format, session.session_type)}"
        )
        text.append(f"  {labels.weather_name(session.weather)}")
        text.append(
            f"  air {format_temperature(session.air_temperature_c, units)}"
            f" track {format_temperature(session.track_temperature_c, units)}"
        )
        leader_lap = tower.rows[0].lap_number if tower and tower.rows else None
        if session.total_laps and session.total_laps > 1 and leader_lap:
            text.append(f"  lap {leader_lap}/{session.total_laps}", style="bold")
        else:
            text.append(f"  {format_clock(session.session_time_left_s)} left")
        safety_car = labels.SAFETY_CAR_TAG.get(session.safety_car_status, "")
        if safety_car:
            text.append(f"  [{safety_car}]", style="bold reverse")
    text.append("\n")
    if error:
        # What failed comes first: the rest of the line may be cut at 80 columns.
        text.append(f"! {error}; showing the last good data  ", style="bold reverse")
    if session is not None and session.is_synthetic and "synthetic" not in source_label:
        # Whatever the label says (a store path, "live UDP"), simulated data is
        # never shown as if it were a real race.
        text.append(f"{SYNTHETIC_LABEL}  ", style="bold reverse")
    text.append(source_label or "store", style="italic")
    if data_age_s is None:
        text.append("  data — old")
    elif data_age_s > STALE_AFTER_S:
        # A replay or capture that ran out, or ingest that stopped: say so in words.
        text.append(f"  no new data for {coarse_age(data_age_s)}", style="bold reverse")
    else:
        text.append(f"  data {coarse_age(data_age_s)} old")
    text.append(f"  {polling}")
    if health is not None:
        # Last on the line: the first thing cut on a narrow terminal.
        # A lag of minutes or more is a replayed capture's old timestamps, not a
        # slow writer: not worth the room.
        lag = (
            f" lag {health.write_lag_s:.2f}s"
            if health.write_lag_s is not None and health.write_lag_s < 60
            else ""
        )
        ingest = f"  ingest {health.packets_per_s:,.0f} pkt/s, {health.bad_packets} bad"
        used = len(text.plain.rsplit("\n", 1)[-1])
        # Never cut mid-figure: the whole ingest part, the short one, or nothing.
        for part in (ingest + lag, ingest):
            if width is None or used + len(part) <= width:
                text.append(part, style="dim")
                break
    return text


class SessionHeader(Static):
    """Two lines at the top of every dashboard screen."""

    DEFAULT_CSS = """
    SessionHeader { height: 2; padding: 0 1; background: $panel; }
    SessionHeader.-stale { color: $text-muted; }
    SessionHeader.-error { background: $error 30%; }
    """
