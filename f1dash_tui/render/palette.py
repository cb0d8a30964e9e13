"""Team and tyre colours and letters: data, not CSS, so themes never need hex codes.

Colours are Rich colour strings used for the team stripe and the tyre letter; the
letter (tyre) and the text beside a stripe (driver name) carry the meaning on their
own, so nothing is lost with NO_COLOR.
"""

from __future__ import annotations

from dataclasses import dataclass

TEAM_COLOURS: dict[str, str] = {
    # By team name (``telemetry.enums.team_name``), because the game renumbers teams:
    # Mercedes is 0 up to 2025 and 476 in the 2026 Season Pack.
    "Mercedes": "#27f4d2",
    "Ferrari": "#e8002d",
    "Red Bull Racing": "#3671c6",
    "Red Bull": "#3671c6",
    "Williams": "#64c4ff",
    "Aston Martin": "#229971",
    "Racing Point": "#f596c8",
    "Force India": "#f596c8",
    "Alpine": "#0093cc",
    "Renault": "#fff500",
    "RB": "#6692ff",
    "Racing Bulls": "#6692ff",
    "AlphaTauri": "#5e8faa",
    "Toro Rosso": "#469bff",
    "Haas": "#b6babd",
    "McLaren": "#ff8000",
    "Sauber": "#52e252",
    "Alfa Romeo": "#c92d4b",
    "Audi": "#c0c0c0",
    "Cadillac": "#d4af37",
}
UNKNOWN_TEAM_COLOUR = "#9e9e9e"


def team_colour(team_name: str | None) -> str:
    """The team's colour (grey for teams the mapping does not know)."""
    if team_name is None:
        return UNKNOWN_TEAM_COLOUR
    return TEAM_COLOURS.get(team_name, UNKNOWN_TEAM_COLOUR)


@dataclass(frozen=True)
class TyreLook:
    """How a visual tyre compound is shown: one letter and a colour."""

    letter: str
    colour: str
    name: str


TYRES: dict[int, TyreLook] = {
    # Visual compound ids from the UDP spec (F1 2019 onwards; 2018 used other ids).
    16: TyreLook("S", "red", "soft"),
    17: TyreLook("M", "yellow", "medium"),
    18: TyreLook("H", "white", "hard"),
    7: TyreLook("I", "green", "intermediate"),
    8: TyreLook("W", "blue", "wet"),
    # F2 and classic compounds seen in older formats.
    19: TyreLook("S", "red", "super soft"),
    20: TyreLook("S", "red", "soft"),
    21: TyreLook("M", "yellow", "medium"),
    22: TyreLook("H", "white", "hard"),
}


def tyre_look(visual_compound: int | None) -> TyreLook:
    """Letter and colour of a visual compound (``?`` when unknown)."""
    if visual_compound is None:
        return TyreLook("?", "default", "unknown")
    return TYRES.get(visual_compound, TyreLook("?", "default", f"#{visual_compound}"))
