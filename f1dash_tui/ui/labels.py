"""Names a person reads for the game's enumerations, as the dashboard shows them.

The game's enum values and their names live in ``telemetry.enums``; this module only
shortens them to fit a column (a tag of two to four letters) where the tower needs it.
"""

from __future__ import annotations

import importlib

SAFETY_CAR = {0: "", 1: "SC", 2: "VSC", 3: "FORMATION"}
"""safetyCarStatus: 0 none, 1 full, 2 virtual, 3 formation lap."""

PIT_STATUS = {0: "", 1: "PIT", 2: "PIT LANE"}
"""pitStatus: 0 none, 1 pitting, 2 in the pit area."""

DRIVER_STATUS_TAG = {0: "GAR", 1: "FLY", 2: "IN", 3: "OUT", 4: ""}
"""driverStatus: 0 in garage, 1 flying lap, 2 in lap, 3 out lap, 4 on track."""

RESULT_STATUS_TAG = {
    0: "",
    1: "",
    2: "",
    3: "FIN",
    4: "DNF",
    5: "DSQ",
    6: "NC",
    7: "RET",
}
"""resultStatus: 2 active, 3 finished, 4 did not finish, 5 disqualified,
6 not classified, 7 retired."""

DRS_STATE = {0: "closed", 1: "OPEN"}


def _enum_name(kind: str, value: int | None) -> str:
    if value is None:
        return "—"
    try:
        enums = importlib.import_module("f1dash_tui.telemetry.enums")
    except ImportError:
        return f"{kind} {value}"
    lookup = getattr(enums, f"{kind}_name", None)
    if lookup is None:
        return f"{kind} {value}"
    return str(lookup(value))


def track_name(track_id: int | None) -> str:
    """The circuit's name (``track 7`` if the enum table does not know it)."""
    return _enum_name("track", track_id)


def session_type_name(session_type: int | None) -> str:
    """Race, Qualifying 1, Time Trial..."""
    return _enum_name("session_type", session_type)


def weather_name(weather: int | None) -> str:
    """Clear, light cloud, overcast, light rain, heavy rain, storm."""
    return _enum_name("weather", weather)


def team_name(team_id: int | None) -> str:
    """The team's name."""
    return _enum_name("team", team_id)


def tower_tags(
    pit_status: int, driver_status: int, result_status: int, lap_invalid: bool
) -> str:
    """Short tags for the tower's last column: ``PIT OUT X`` and the like."""
    tags = [
        PIT_STATUS.get(pit_status, ""),
        RESULT_STATUS_TAG.get(result_status, "")
        or DRIVER_STATUS_TAG.get(driver_status, ""),
        "X" if lap_invalid else "",
    ]
    return " ".join(tag for tag in tags if tag)
