"""The header line: track, session, weather, temperatures, laps, safety car, age."""

from __future__ import annotations

import re

from rich.text import Text
from textual.widgets import Static

from f1dash_tui.render.formatting import (
    format_clock,
    format_temperature,
)
from f1dash_tui.store.schema import INGEST_STATS_INTERVAL_S
from f1dash_tui.store.snapshots import PipelineHealth, SessionInfo, TimingTower
from f1dash_tui.telemetry import enums
from f1dash_tui.ui import labels
from f1dash_tui.ui.widgets.panel_status import STALE_AFTER_S, coarse_age

SYNTHETIC_LABEL = "synthetic race"

MIN_ERROR_CELLS = 24
"""A failed poll's message is cut to leave the data's age on the header line, but
never below this: "! the store file is gon…" still says what happened."""
MIN_ERROR_TEXT_WITH_RETRY = 20
"""The retry ("(retry in 4s)") stays after a cut error only while the error keeps
this many characters; on a narrower line the error alone is shown (the panels'
borders say when the retry is)."""
KEPT_DATA_NOTE = "; showing the last good data"
"""Said after the error when the line has room: the panels keep the last good data."""

INGEST_SILENT_AFTER_S = 5 * INGEST_STATS_INTERVAL_S
"""A running ingest writes a stats row every second, idle or not, so five missed rows
mean it has stopped: a busy writer's rows are late by under a second (write lag p95
421 ms with 20 viewers, the README's benchmark). An ingest spooling through a store
outage writes none either, and looks stopped from the store."""


def header_text(
    session: SessionInfo | None,
    tower: TimingTower | None,
    *,
    source_label: str,
    data_age_s: float | None,
    units: str,
    polling: str,
    error: str | None,
    retry: str = "",
    health: PipelineHealth | None = None,
    health_read_unix_s: float | None = None,
    now_unix_s: float | None = None,
    width: int | None = None,
    feed_name: str = "",
) -> Text:
    """The header's two lines as text (pure, so it is easy to test and cache).

    ``error`` is what failed and ``retry`` when it is tried again ("retry in 4s").
    ``health`` was read at ``health_read_unix_s``; ``now_unix_s`` dates how long
    ago a stopped ingest wrote its last statistics. ``feed_name`` names what
    writes the store when it is not a separate ingest (the demo's "replay").
    """
    text = Text(no_wrap=True, overflow="ellipsis")
    if session is None and error:
        # Not "no session": a store that cannot be opened may hold many.
        text.append("no data: the store cannot be read (below)", style="bold")
    elif session is None:
        text.append("no session in the store yet", style="bold")
    else:
        for piece, style in session_line(session, tower, units=units, width=width):
            text.append(piece, style=style)
    text.append("\n")
    status = Text()
    if session is not None and session.is_synthetic and "synthetic" not in source_label:
        # Whatever the label says (a store path, "live UDP"), simulated data is
        # never shown as if it were a real race.
        status.append(f"{SYNTHETIC_LABEL}  ", style="bold reverse")
    status.append(source_label or "store", style="italic")
    if data_age_s is None:
        status.append("  data — old")
    elif data_age_s > STALE_AFTER_S:
        # A replay or capture that ran out, or ingest that stopped: say so in words.
        status.append(
            f"  no new data for {coarse_age(data_age_s)}", style="bold reverse"
        )
    else:
        status.append(f"  data {coarse_age(data_age_s)} old")
    status.append(f"  {polling}")
    if error:
        room = None if width is None else width - len(status.plain)
        text.append(_error_message(error, retry, room), style="bold reverse")
    text.append_text(status)
    if health is not None:
        # Last on the line: the first thing cut on a narrow terminal.
        used = len(text.plain.rsplit("\n", 1)[-1])
        parts, style = _ingest_parts(health, health_read_unix_s, now_unix_s, feed_name)
        # Never cut mid-figure: the whole ingest part, the short one, or nothing.
        for part in parts:
            if width is None or used + len(part) <= width:
                text.append(part, style=style)
                break
    return text


def _error_message(error: str, retry: str, room: int | None) -> str:
    """``! <what failed> (<retry>)`` fitted to ``room`` cells (None: no limit).

    What failed comes first: it is the news. The note that the last good data stays
    goes first when the line is short; then the error is cut, keeping its retry,
    where it would push the data's age off the line (the panels' borders carry the
    whole error).
    """
    when = f" ({retry})" if retry else ""
    if room is None:
        return f"! {error}{when}{KEPT_DATA_NOTE}  "
    for note in (KEPT_DATA_NOTE, ""):
        message = f"! {error}{when}{note}  "
        if len(message) <= room:
            return message
    kept = room - len(f"! …{when}  ")
    if kept < MIN_ERROR_TEXT_WITH_RETRY:
        when = ""
        kept = max(room, MIN_ERROR_CELLS) - len("! …  ")
    return f"! {error[:kept].rstrip()}…{when}  "


def _ingest_parts(
    health: PipelineHealth,
    read_unix_s: float | None,
    now_unix_s: float | None,
    feed_name: str = "",
) -> tuple[tuple[str, ...], str]:
    """The ingest part of the header, longest first, and its style: the figures,
    or that ingest (or ``feed_name``) stopped when its last statistics were old
    when read."""
    written = health.written_unix_s
    if (
        written is not None
        and read_unix_s is not None
        and read_unix_s - written > INGEST_SILENT_AFTER_S
    ):
        # Its last figures (a rate, a lag) describe an ingest long gone.
        age = "" if now_unix_s is None else coarse_age(max(0.0, now_unix_s - written))
        stopped = f"  {feed_name} ended" if feed_name else "  ingest not running"
        parts = (f"{stopped} (last seen {age} ago)", stopped) if age else (stopped,)
        return parts, "bold"
    # A lag of minutes or more is a replayed capture's old timestamps, not a slow
    # writer: not worth the room.
    lag = (
        f" lag {health.write_lag_s:.2f}s"
        if health.write_lag_s is not None and health.write_lag_s < 60
        else ""
    )
    ingest = f"  ingest {health.packets_per_s:,.0f} pkt/s, {health.bad_packets} bad"
    return (ingest + lag, ingest), "dim"


SEPARATOR = "  "

_SESSION_ABBREVIATIONS = (
    (re.compile(r"Sprint Shootout"), "SSO"),
    (re.compile(r"Qualifying (\d)"), r"Q\1"),
    (re.compile(r"Qualifying"), "Quali"),
    (re.compile(r"Practice (\d)"), r"FP\1"),
)
"""Shorter session names for narrow terminals: "One-Shot Sprint Shootout" (24
cells) becomes "One-Shot SSO"."""


def _short_track(name: str) -> str:
    """A shorter track name: "Silverstone rev.", "Sakhir" (for "Sakhir (Bahrain)")."""
    name = name.replace(" (Reverse)", " rev.")
    return re.sub(r" \(.*\)$", "", name)


def _short_session(name: str) -> str:
    for pattern, replacement in _SESSION_ABBREVIATIONS:
        name = pattern.sub(replacement, name)
    return name


Piece = tuple[str, str]
"""A run of header text and its Rich style."""


FINISHED_RESULT_STATUS = 3
"""resultStatus 3: the car has taken the chequered flag."""


def _progress(session: SessionInfo, tower: TimingTower | None) -> Piece:
    """``lap 12/58`` for a race (``lap 58/58 finished`` once the leader is home),
    else the session time left.

    A race is counted in laps whatever its length: a 1-lap race's Session packet
    still carries the session clock (2 h in the 2025 format), which says nothing
    about how far the race is.
    """
    leader = tower.rows[0] if tower and tower.rows else None
    total = session.total_laps or 0
    race = session.session_type is not None and enums.is_race(
        session.packet_format or labels.DEFAULT_PACKET_FORMAT, session.session_type
    )
    if leader is not None and leader.lap_number and total > 0 and (race or total > 1):
        if leader.result_status == FINISHED_RESULT_STATUS:
            # After the flag the lap counter runs one past the last lap.
            return (f"lap {total}/{total} finished", "bold")
        return (f"lap {min(leader.lap_number, total)}/{total}", "bold")
    return (f"{format_clock(session.session_time_left_s)} left", "")


def session_line(
    session: SessionInfo,
    tower: TimingTower | None,
    *,
    units: str,
    width: int | None = None,
) -> list[Piece]:
    """The header's first line as pieces, fitted to ``width`` without cutting a word.

    The whole line at 80 columns can need ~110 cells ("Silverstone (Reverse)  One-Shot
    Sprint Shootout  Light cloud  air 100°F track 122°F  lap 58/58  [FORMATION]"), so
    it degrades step by step: shorter track and session names, shorter temperature
    labels, then without temperatures, then without weather, then without the session
    type. Laps (or time left) and the safety car stay to the last; if even those do
    not fit, whole words are dropped from the end.
    """
    track = labels.track_name(session.track_id)
    kind = labels.session_type_name(session.packet_format, session.session_type)
    air = format_temperature(session.air_temperature_c, units)
    track_temperature = format_temperature(session.track_temperature_c, units)
    progress = _progress(session, tower)
    safety_car = labels.SAFETY_CAR_TAG.get(session.safety_car_status, "")
    flag: list[Piece] = [(f"[{safety_car}]", "bold reverse")] if safety_car else []
    name: Piece = (track, "bold")
    short_name: Piece = (_short_track(track), "bold")
    weather: Piece = (labels.weather_name(session.weather), "")
    temperatures: Piece = (f"air {air} track {track_temperature}", "")
    short_temperatures: Piece = (f"air {air} trk {track_temperature}", "")
    short_kind: Piece = (_short_session(kind), "")
    variants: list[list[Piece]] = [
        [name, (kind, ""), weather, temperatures, progress, *flag],
        [short_name, short_kind, weather, temperatures, progress, *flag],
        [short_name, short_kind, weather, short_temperatures, progress, *flag],
        [short_name, short_kind, weather, progress, *flag],
        [short_name, short_kind, progress, *flag],
        [short_name, progress, *flag],
    ]
    if width is None:
        return _joined(variants[0])
    for variant in variants:
        line = _joined(variant)
        if sum(len(piece) for piece, _ in line) <= width:
            return line
    return _whole_words(_joined(variants[-1]), width)


def _joined(pieces: list[Piece]) -> list[Piece]:
    # Each separator leads its piece and takes its style (as the header always did).
    return [
        (text if i == 0 else SEPARATOR + text, style)
        for i, (text, style) in enumerate(pieces)
    ]


def _whole_words(line: list[Piece], width: int) -> list[Piece]:
    """The pieces that fit in ``width`` whole ("lap" without its number says
    nothing); only the first (the track's name) may lose words from its end."""
    kept: list[Piece] = []
    used = 0
    for piece, style in line:
        if used + len(piece) > width:
            if not kept:
                cut = piece[: width + 1].rfind(" ")
                kept.append((piece[:cut] if cut > 0 else "", style))
            break
        kept.append((piece, style))
        used += len(piece)
    while kept and not kept[-1][0].strip():
        kept.pop()
    return kept


class SessionHeader(Static):
    """Two lines at the top of every dashboard screen."""

    DEFAULT_CSS = """
    SessionHeader { height: 2; padding: 0 1; background: $panel; }
    SessionHeader.-stale { color: $text-muted; }
    SessionHeader.-error { background: $error 30%; }
    """
