"""Names a person reads for the game's enumerations, as the dashboard shows them.

The names come from ``telemetry.enums``; this module adds the short tags (two to four
letters) the timing tower has room for.
"""

from __future__ import annotations

from functools import lru_cache

from f1dash_tui.render.palette import team_colour
from f1dash_tui.store.snapshots import BestLap
from f1dash_tui.telemetry import enums

DEFAULT_PACKET_FORMAT = 2025
"""Numbering used before the first Session packet says which format the game sends."""

SAFETY_CAR_TAG = {0: "", 1: "SC", 2: "VSC", 3: "FORMATION"}
"""safetyCarStatus: 0 none, 1 full, 2 virtual, 3 formation lap."""

PIT_TAG = {0: "", 1: "PIT", 2: "PIT LANE"}
"""pitStatus: 0 none, 1 pitting, 2 in the pit area."""

DRIVER_STATUS_TAG = {0: "GAR", 1: "FLY", 2: "IN", 3: "OUT", 4: ""}
"""driverStatus: 0 in garage, 1 flying lap, 2 in lap, 3 out lap, 4 on track."""

RESULT_STATUS_TAG = {3: "FIN", 4: "DNF", 5: "DSQ", 6: "NC", 7: "RET"}
"""resultStatus: 3 finished, 4 did not finish, 5 disqualified, 6 not classified,
7 retired (2 active and the rest get no tag)."""

LAP_INVALID_TAG = "X"
"""In the tower's Tags column: the lap being driven is already invalid."""

TAG_MEANINGS = {
    "PIT": "pitting",
    "PIT LANE": "in the pit lane",
    "GAR": "in the garage",
    "FLY": "on a flying lap",
    "IN": "on an in lap (to the pits)",
    "OUT": "on an out lap (from the pits)",
    "FIN": "finished the race",
    "DNF": "did not finish",
    "DSQ": "disqualified",
    "NC": "not classified",
    "RET": "retired",
    LAP_INVALID_TAG: "the lap being driven is already invalid (track limits)",
}
"""What each tag of the tower's Tags column means (the help screen lists them)."""

DRS_STATE = {0: "closed", 1: "OPEN"}


def track_name(track_id: int | None) -> str:
    """The circuit's name."""
    return "—" if track_id is None else enums.track_name(track_id)


def session_type_name(packet_format: int | None, session_type: int | None) -> str:
    """Race, Qualifying 1, Time Trial... in the format's numbering."""
    if session_type is None:
        return "—"
    return enums.session_type_name(packet_format or DEFAULT_PACKET_FORMAT, session_type)


def weather_name(weather: int | None) -> str:
    """Clear, light cloud, overcast, light rain, heavy rain, storm."""
    return "—" if weather is None else enums.weather_name(weather)


@lru_cache(maxsize=256)
def team_name(packet_format: int | None, team_id: int | None) -> str:
    """The team's name in the format's numbering."""
    if team_id is None:
        return "—"
    return enums.team_name(packet_format or DEFAULT_PACKET_FORMAT, team_id)


@lru_cache(maxsize=256)
def team_colour_of(packet_format: int | None, team_id: int | None) -> str:
    """The team's colour (via its name: the ids changed between formats)."""
    return team_colour(team_name(packet_format, team_id))


def tower_tags(
    pit_status: int, driver_status: int, result_status: int, lap_invalid: bool
) -> str:
    """Short tags for the tower's last column: ``PIT OUT X`` and the like."""
    status = RESULT_STATUS_TAG.get(result_status, "") or DRIVER_STATUS_TAG.get(
        driver_status, ""
    )
    tags = [PIT_TAG.get(pit_status, ""), status, LAP_INVALID_TAG if lap_invalid else ""]
    return " ".join(tag for tag in tags if tag)


def tower_tag_legend() -> list[tuple[str, str]]:
    """(tag, meaning) for every tag ``tower_tags`` can show, in its order.

    Tags combine: ``PIT IN`` is a car pitting at the end of its in lap.
    """
    tags = [
        *PIT_TAG.values(),
        *DRIVER_STATUS_TAG.values(),
        *RESULT_STATUS_TAG.values(),
        LAP_INVALID_TAG,
    ]
    return [(tag, TAG_MEANINGS[tag]) for tag in dict.fromkeys(tags) if tag]


def lap_source(lap: BestLap) -> str:
    """``SIM`` for a simulated lap, ``real`` for one from the game: simulated laps
    share the best-laps table with real ones and must not pass for them."""
    return "SIM" if lap.is_synthetic else "real"
