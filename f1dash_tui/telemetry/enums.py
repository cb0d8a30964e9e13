"""Names a person reads for the integers the game sends.

Decoded columns keep the integers; the dashboard asks here for names. Tables whose
numbering changed between formats are looked up with the packetFormat:
``team_name(packet_format, team_id)``, ``session_type_name(packet_format, value)``,
``actual_compound_name(packet_format, value)``. Unknown values give a readable
fallback (``"Team 123"``), never an exception.

Values come from the published UDP specification appendices; where a table was
filled from the real captures (2026 team ids, recent driver ids) the capture is
named in the comment.
"""

from __future__ import annotations

from collections.abc import Mapping

TRACKS: dict[int, str] = {
    0: "Melbourne",
    1: "Paul Ricard",
    2: "Shanghai",
    3: "Sakhir (Bahrain)",
    4: "Catalunya",
    5: "Monaco",
    6: "Montreal",
    7: "Silverstone",
    8: "Hockenheim",
    9: "Hungaroring",
    10: "Spa",
    11: "Monza",
    12: "Singapore",
    13: "Suzuka",
    14: "Abu Dhabi",
    15: "Texas",
    16: "Brazil",
    17: "Austria",
    18: "Sochi",
    19: "Mexico",
    20: "Baku (Azerbaijan)",
    21: "Sakhir Short",
    22: "Silverstone Short",
    23: "Texas Short",
    24: "Suzuka Short",
    25: "Hanoi",
    26: "Zandvoort",
    27: "Imola",
    28: "Portimão",
    29: "Jeddah",
    30: "Miami",
    31: "Las Vegas",
    32: "Losail",
    39: "Silverstone (Reverse)",
    40: "Austria (Reverse)",
    41: "Zandvoort (Reverse)",
    42: "Madrid",
}
"""trackId -> circuit (the same numbering in every format; -1 = unknown)."""

_TEAMS_2018_2019_BASE = {
    0: "Mercedes",
    1: "Ferrari",
    2: "Red Bull Racing",
    3: "Williams",
    5: "Renault",
    6: "Toro Rosso",
    7: "Haas",
    8: "McLaren",
}
_TEAMS_2021_2023 = {
    0: "Mercedes",
    1: "Ferrari",
    2: "Red Bull Racing",
    3: "Williams",
    4: "Aston Martin",
    5: "Alpine",
    6: "Alpha Tauri",
    7: "Haas",
    8: "McLaren",
    9: "Alfa Romeo",
    104: "F1 Custom Team",
}
TEAMS: dict[int, dict[int, str]] = {
    2018: {**_TEAMS_2018_2019_BASE, 4: "Force India", 9: "Sauber"},
    2019: {**_TEAMS_2018_2019_BASE, 4: "Racing Point", 9: "Alfa Romeo"},
    2020: {
        **_TEAMS_2018_2019_BASE,
        4: "Racing Point",
        6: "AlphaTauri",
        9: "Alfa Romeo",
    },
    2021: _TEAMS_2021_2023,
    2022: _TEAMS_2021_2023,
    2023: _TEAMS_2021_2023,
    2024: {**_TEAMS_2021_2023, 6: "RB", 9: "Sauber", 41: "F1 Generic"},
    2025: {**_TEAMS_2021_2023, 6: "Racing Bulls", 9: "Sauber", 41: "F1 Generic"},
    # 2026 Season Pack: the teams moved to 476-486; read from the Melbourne 2026
    # capture, where each id carries its two drivers (e.g. 485 Hulkenberg and
    # Bortoleto, 486 Perez and Bottas).
    2026: {
        476: "Mercedes",
        477: "Ferrari",
        478: "Red Bull Racing",
        479: "Williams",
        480: "Aston Martin",
        481: "Alpine",
        482: "Racing Bulls",
        483: "Haas",
        484: "McLaren",
        485: "Audi",
        486: "Cadillac",
    },
}
"""packetFormat -> teamId -> team. Formats 2023/2024 sent by a newer game use
that game's team line-up with the old numbering (6 and 9 stay the slots of the
Red Bull junior team and the Sauber entry)."""

DRIVERS: dict[int, str] = {
    0: "Carlos Sainz",
    1: "Daniil Kvyat",
    2: "Daniel Ricciardo",
    3: "Fernando Alonso",
    6: "Kimi Räikkönen",
    7: "Lewis Hamilton",
    9: "Max Verstappen",
    10: "Nico Hülkenberg",
    11: "Kevin Magnussen",
    12: "Romain Grosjean",
    13: "Sebastian Vettel",
    14: "Sergio Pérez",
    15: "Valtteri Bottas",
    17: "Esteban Ocon",
    19: "Lance Stroll",
    50: "George Russell",
    54: "Lando Norris",
    58: "Charles Leclerc",
    59: "Pierre Gasly",
    62: "Alexander Albon",
    80: "Guanyu Zhou",
    94: "Yuki Tsunoda",
    112: "Oscar Piastri",
    113: "Liam Lawson",
    132: "Logan Sargeant",
    147: "Oliver Bearman",
    149: "Isack Hadjar",
    161: "Gabriel Bortoleto",
    162: "Franco Colapinto",
    165: "Andrea Kimi Antonelli",
    188: "Arvid Lindblad",
}
"""driverId -> driver, for the drivers seen in the real captures (2023-2026) and the
long-standing low ids. 255 (65535 in 2026) = a network human: use the name."""

NATIONALITIES: dict[int, str] = dict(
    enumerate(
        (
            "Unknown",
            "American",
            "Argentinean",
            "Australian",
            "Austrian",
            "Azerbaijani",
            "Bahraini",
            "Belgian",
            "Bolivian",
            "Brazilian",
            "British",
            "Bulgarian",
            "Cameroonian",
            "Canadian",
            "Chilean",
            "Chinese",
            "Colombian",
            "Costa Rican",
            "Croatian",
            "Cypriot",
            "Czech",
            "Danish",
            "Dutch",
            "Ecuadorian",
            "English",
            "Emirian",
            "Estonian",
            "Finnish",
            "French",
            "German",
            "Ghanaian",
            "Greek",
            "Guatemalan",
            "Honduran",
            "Hong Konger",
            "Hungarian",
            "Icelander",
            "Indian",
            "Indonesian",
            "Irish",
            "Israeli",
            "Italian",
            "Jamaican",
            "Japanese",
            "Jordanian",
            "Kuwaiti",
            "Latvian",
            "Lebanese",
            "Lithuanian",
            "Luxembourger",
            "Malaysian",
            "Maltese",
            "Mexican",
            "Monegasque",
            "New Zealander",
            "Nicaraguan",
            "Northern Irish",
            "Norwegian",
            "Omani",
            "Pakistani",
            "Panamanian",
            "Paraguayan",
            "Peruvian",
            "Polish",
            "Portuguese",
            "Qatari",
            "Romanian",
            "Russian",
            "Salvadoran",
            "Saudi",
            "Scottish",
            "Serbian",
            "Singaporean",
            "Slovakian",
            "Slovenian",
            "South Korean",
            "South African",
            "Spanish",
            "Swedish",
            "Swiss",
            "Thai",
            "Turkish",
            "Uruguayan",
            "Ukrainian",
            "Venezuelan",
            "Barbadian",
            "Welsh",
            "Vietnamese",
            "Algerian",
            "Bosnian",
            "Filipino",
        )
    )
)
"""nationality -> adjective (alphabetical in the spec: 1 American ... 90 Filipino;
0 is not assigned)."""

_SESSION_TYPES_BEFORE_2023 = {
    0: "Unknown",
    1: "Practice 1",
    2: "Practice 2",
    3: "Practice 3",
    4: "Short Practice",
    5: "Qualifying 1",
    6: "Qualifying 2",
    7: "Qualifying 3",
    8: "Short Qualifying",
    9: "One-Shot Qualifying",
    10: "Race",
    11: "Race 2",
}
SESSION_TYPES: dict[str, dict[int, str]] = {
    "2018-2020": {**_SESSION_TYPES_BEFORE_2023, 12: "Time Trial"},
    "2021-2022": {**_SESSION_TYPES_BEFORE_2023, 12: "Race 3", 13: "Time Trial"},
    "2023+": {
        **{key: name for key, name in _SESSION_TYPES_BEFORE_2023.items() if key < 10},
        10: "Sprint Shootout 1",
        11: "Sprint Shootout 2",
        12: "Sprint Shootout 3",
        13: "Short Sprint Shootout",
        14: "One-Shot Sprint Shootout",
        15: "Race",
        16: "Race 2",
        17: "Race 3",
        18: "Time Trial",
    },
}
"""Session type numbering: 2023 added the sprint shootout and moved the races to
15-17 (a 2026 race is 15, a 2022 race 10)."""

RACE_SESSION_TYPES: dict[str, frozenset[int]] = {
    "2018-2020": frozenset({10, 11}),
    "2021-2022": frozenset({10, 11, 12}),
    "2023+": frozenset({15, 16, 17}),
}

WEATHER = {
    0: "Clear",
    1: "Light cloud",
    2: "Overcast",
    3: "Light rain",
    4: "Heavy rain",
    5: "Storm",
}
FORMULA = {
    0: "F1 Modern",
    1: "F1 Classic",
    2: "F2",
    3: "F1 Generic",
    4: "Beta",
    5: "Supercars",
    6: "Esports",
    7: "F2 2021",
    8: "F1 World",
    9: "F1 Elimination",
    13: "F1 26",
}
PIT_STATUS = {0: "None", 1: "Pitting", 2: "In pit area"}
DRIVER_STATUS = {
    0: "In garage",
    1: "Flying lap",
    2: "In lap",
    3: "Out lap",
    4: "On track",
}
RESULT_STATUS = {
    0: "Invalid",
    1: "Inactive",
    2: "Active",
    3: "Finished",
    4: "Did not finish",
    5: "Disqualified",
    6: "Not classified",
    7: "Retired",
}
RESULT_REASON = {
    0: "Invalid",
    1: "Retired",
    2: "Finished",
    3: "Terminal damage",
    4: "Inactive",
    5: "Not enough laps completed",
    6: "Black flagged",
    7: "Red flagged",
    8: "Mechanical failure",
    9: "Session skipped",
    10: "Session simulated",
}
SAFETY_CAR_STATUS = {0: "None", 1: "Full", 2: "Virtual", 3: "Formation lap"}
SAFETY_CAR_EVENT_TYPES = {
    0: "Deployed",
    1: "Returning",
    2: "Returned",
    3: "Resume race",
}
FIA_FLAGS = {-1: "Invalid", 0: "None", 1: "Green", 2: "Blue", 3: "Yellow", 4: "Red"}

ACTUAL_COMPOUNDS: dict[int, str] = {
    7: "Inter",
    8: "Wet",
    9: "Dry (classic)",
    10: "Wet (classic)",
    11: "Super soft (F2)",
    12: "Soft (F2)",
    13: "Medium (F2)",
    14: "Hard (F2)",
    15: "Wet (F2)",
    16: "C5",
    17: "C4",
    18: "C3",
    19: "C2",
    20: "C1",
    21: "C0",
    22: "C6",
}
"""actualTyreCompound from 2019 on (C6 from 2025)."""
VISUAL_COMPOUNDS: dict[int, str] = {
    7: "Inter",
    8: "Wet",
    15: "Wet (F2)",
    16: "Soft",
    17: "Medium",
    18: "Hard",
    19: "Super soft (F2)",
    20: "Soft (F2)",
    21: "Medium (F2)",
    22: "Hard (F2)",
}
"""visualTyreCompound from 2019 on."""
COMPOUNDS_2018: dict[int, str] = {
    0: "Hyper soft",
    1: "Ultra soft",
    2: "Super soft",
    3: "Soft",
    4: "Medium",
    5: "Hard",
    6: "Super hard",
    7: "Inter",
    8: "Wet",
}
"""F1 2018's single tyreCompound (sent in both compound columns)."""

PENALTY_TYPES: dict[int, str] = dict(
    enumerate(
        (
            "Drive through",
            "Stop go",
            "Grid penalty",
            "Penalty reminder",
            "Time penalty",
            "Warning",
            "Disqualified",
            "Removed from formation lap",
            "Parked too long timer",
            "Tyre regulations",
            "This lap invalidated",
            "This and next lap invalidated",
            "This lap invalidated without reason",
            "This and next lap invalidated without reason",
            "This and previous lap invalidated",
            "This and previous lap invalidated without reason",
            "Retired",
            "Black flag timer",
        )
    )
)
INFRINGEMENT_TYPES: dict[int, str] = dict(
    enumerate(
        (
            "Blocking by slow driving",
            "Blocking by wrong way driving",
            "Reversing off the start line",
            "Big collision",
            "Small collision",
            "Collision failed to hand back position single",
            "Collision failed to hand back position multiple",
            "Corner cutting gained time",
            "Corner cutting overtake single",
            "Corner cutting overtake multiple",
            "Crossed pit exit lane",
            "Ignoring blue flags",
            "Ignoring yellow flags",
            "Ignoring drive through",
            "Too many drive throughs",
            "Drive through reminder serve within n laps",
            "Drive through reminder serve this lap",
            "Pit lane speeding",
            "Parked for too long",
            "Ignoring tyre regulations",
            "Too many penalties",
            "Multiple warnings",
            "Approaching disqualification",
            "Tyre regulations select single",
            "Tyre regulations select multiple",
            "Lap invalidated corner cutting",
            "Lap invalidated running wide",
            "Corner cutting ran wide gained time minor",
            "Corner cutting ran wide gained time significant",
            "Corner cutting ran wide gained time extreme",
            "Lap invalidated wall riding",
            "Lap invalidated flashback used",
            "Lap invalidated reset to track",
            "Blocking the pitlane",
            "Jump start",
            "Safety car to car collision",
            "Safety car illegal overtake",
            "Safety car exceeding allowed pace",
            "Virtual safety car exceeding allowed pace",
            "Formation lap below allowed speed",
            "Formation lap parking",
            "Retired mechanical failure",
            "Retired terminally damaged",
            "Safety car falling too far back",
            "Black flag timer",
            "Unserved stop go penalty",
            "Unserved drive through penalty",
            "Engine component change",
            "Gearbox change",
            "Parc fermé change",
            "League grid penalty",
            "Retry penalty",
            "Illegal time gain",
            "Mandatory pitstop",
            "Attribute assigned",
        )
    )
)

EVENT_CODES: dict[str, str] = {
    "SSTA": "Session started",
    "SEND": "Session ended",
    "FTLP": "Fastest lap",
    "RTMT": "Retirement",
    "DRSE": "DRS enabled",
    "DRSD": "DRS disabled",
    "TMPT": "Team mate in pits",
    "CHQF": "Chequered flag",
    "RCWN": "Race winner",
    "PENA": "Penalty issued",
    "SPTP": "Speed trap triggered",
    "STLG": "Start lights",
    "LGOT": "Lights out",
    "DTSV": "Drive through served",
    "SGSV": "Stop go served",
    "FLBK": "Flashback",
    "BUTN": "Button status",
    "RDFL": "Red flag",
    "OVTK": "Overtake",
    "SCAR": "Safety car",
    "COLL": "Collision",
}
"""Event string code -> what happened (codes of every format, 2018 to 2026)."""


def _lookup(table: Mapping[int, str], value: int, what: str) -> str:
    return table.get(int(value), f"{what} {int(value)}")


def _session_numbering(packet_format: int) -> str:
    if packet_format >= 2023:
        return "2023+"
    if packet_format >= 2021:
        return "2021-2022"
    return "2018-2020"


def track_name(track_id: int) -> str:
    """The circuit of a trackId (``"Unknown track"`` for -1)."""
    if int(track_id) < 0:
        return "Unknown track"
    return _lookup(TRACKS, track_id, "Track")


def team_name(packet_format: int, team_id: int) -> str:
    """The team of a teamId in a packetFormat's numbering."""
    table = TEAMS.get(int(packet_format), TEAMS[2025])
    return _lookup(table, team_id, "Team")


def driver_name(driver_id: int) -> str:
    """The driver of a driverId; the participant's name is better for humans."""
    return _lookup(DRIVERS, driver_id, "Driver")


def nationality_name(nationality: int) -> str:
    """The nationality adjective of a nationality id."""
    return _lookup(NATIONALITIES, nationality, "Nationality")


def session_type_name(packet_format: int, value: int) -> str:
    """The session type in a packetFormat's numbering (15 = Race from 2023)."""
    return _lookup(SESSION_TYPES[_session_numbering(packet_format)], value, "Session")


def is_race(packet_format: int, session_type: int) -> bool:
    """Whether a session type is a race in a packetFormat's numbering."""
    return int(session_type) in RACE_SESSION_TYPES[_session_numbering(packet_format)]


def weather_name(value: int) -> str:
    """Clear, light cloud, overcast, light rain, heavy rain or storm."""
    return _lookup(WEATHER, value, "Weather")


def actual_compound_name(packet_format: int, value: int) -> str:
    """The actual tyre compound (C0-C6, inter, wet; F1 2018 had its own list)."""
    table = COMPOUNDS_2018 if packet_format == 2018 else ACTUAL_COMPOUNDS
    return _lookup(table, value, "Compound")


def visual_compound_name(packet_format: int, value: int) -> str:
    """The visual tyre compound (soft, medium, hard, inter, wet)."""
    table = COMPOUNDS_2018 if packet_format == 2018 else VISUAL_COMPOUNDS
    return _lookup(table, value, "Compound")


def pit_status_name(value: int) -> str:
    """None, pitting or in pit area."""
    return _lookup(PIT_STATUS, value, "Pit status")


def driver_status_name(value: int) -> str:
    """In garage, flying lap, in lap, out lap or on track."""
    return _lookup(DRIVER_STATUS, value, "Driver status")


def result_status_name(value: int) -> str:
    """Invalid, inactive, active, finished, DNF, DSQ, not classified, retired."""
    return _lookup(RESULT_STATUS, value, "Result status")


def penalty_type_name(value: int) -> str:
    """The penalty type of a PENA event."""
    return _lookup(PENALTY_TYPES, value, "Penalty")


def infringement_type_name(value: int) -> str:
    """The infringement type of a PENA event."""
    return _lookup(INFRINGEMENT_TYPES, value, "Infringement")


def event_name(code: str) -> str:
    """What an event code means (``"FTLP"`` -> ``"Fastest lap"``)."""
    return EVENT_CODES.get(code, f"Event {code}")
