"""Team and tyre colours and letters: data, not CSS, so themes never need hex codes.

Colours are Rich colour strings used for the team stripe and the tyre letter; the
letter (tyre) and the text beside a stripe (driver name) carry the meaning on their
own, so nothing is lost with NO_COLOR.
"""

from __future__ import annotations

from dataclasses import dataclass

TEAM_COLOURS: dict[int, str] = {
    # Team ids from the game's UDP appendix (F1 24/25; 2026 pack keeps 0-9).
    0: "#27f4d2",  # Mercedes
    1: "#e8002d",  # Ferrari
    2: "#3671c6",  # Red Bull Racing
    3: "#64c4ff",  # Williams
    4: "#229971",  # Aston Martin
    5: "#0093cc",  # Alpine
    6: "#6692ff",  # RB
    7: "#b6babd",  # Haas
    8: "#ff8000",  # McLaren
    9: "#52e252",  # Sauber / Audi
}
UNKNOWN_TEAM_COLOUR = "#9e9e9e"


def team_colour(team_id: int | None) -> str:
    """The team's colour (grey for teams the mapping does not know)."""
    if team_id is None:
        return UNKNOWN_TEAM_COLOUR
    return TEAM_COLOURS.get(team_id, UNKNOWN_TEAM_COLOUR)


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
