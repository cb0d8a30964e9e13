"""packetFormat 2022 (F1 22): 24-byte header, 22-car arrays, packet ids 0-11.

Changes from 2021 (F1 22 UDP specification): the Session packet adds game mode, rule
set, time of day and session length; Lap Data ends with the time-trial personal-best
and rival car indices; Final Classification adds the lap each tyre stint ended; Car
Damage adds ERS fault, engine blown and engine seized; the SPTP event adds the
session's fastest car and speed.
"""

from __future__ import annotations

import numpy as np

from f1dash_tui.telemetry.layouts import f2021
from f1dash_tui.telemetry.layouts.common import union

PACKET_FORMAT = 2022
NUM_CARS = 22
PACKET_ID_OFFSET = 5

HEADER = f2021.HEADER

FINAL_CLASSIFICATION_DATA = np.dtype(
    [
        *f2021.FINAL_CLASSIFICATION_DATA.descr,
        ("tyre_stints_end_laps", "u1", (8,)),
    ]
)

CAR_DAMAGE_DATA = np.dtype(
    [
        ("tyres_wear", "<f4", (4,)),  # percent
        ("tyres_damage", "u1", (4,)),
        ("brakes_damage", "u1", (4,)),
        ("front_left_wing_damage", "u1"),
        ("front_right_wing_damage", "u1"),
        ("rear_wing_damage", "u1"),
        ("floor_damage", "u1"),
        ("diffuser_damage", "u1"),
        ("sidepod_damage", "u1"),
        ("drs_fault", "u1"),
        ("ers_fault", "u1"),
        ("gear_box_damage", "u1"),
        ("engine_damage", "u1"),
        ("engine_mguh_wear", "u1"),
        ("engine_es_wear", "u1"),
        ("engine_ce_wear", "u1"),
        ("engine_ice_wear", "u1"),
        ("engine_mguk_wear", "u1"),
        ("engine_tc_wear", "u1"),
        ("engine_blown", "u1"),
        ("engine_seized", "u1"),
    ]
)

EVENT_DETAILS_SIZE = 12  # the largest member of the union: speed trap

EVENT_MEMBERS: dict[str, np.dtype] = {
    **f2021.EVENT_MEMBERS,
    "speed_trap": np.dtype(  # SPTP
        [
            *f2021.EVENT_MEMBERS["speed_trap"].descr,
            ("fastest_vehicle_idx_in_session", "u1"),
            ("fastest_speed_in_session", "<f4"),
        ]
    ),
}
"""Members of the event details union (names as in common.EVENT_DETAILS)."""

EVENT_CODES = f2021.EVENT_CODES

LAYOUTS: dict[int, np.dtype] = {
    **f2021.LAYOUTS,
    1: np.dtype(
        [
            ("header", HEADER),
            *f2021.SESSION_FIELDS,
            ("game_mode", "u1"),
            ("rule_set", "u1"),
            ("time_of_day", "<u4"),  # minutes since midnight
            ("session_length", "u1"),
        ]
    ),
    2: np.dtype(
        [
            ("header", HEADER),
            ("lap_data", f2021.LAP_DATA, (NUM_CARS,)),
            ("time_trial_pb_car_idx", "u1"),
            ("time_trial_rival_car_idx", "u1"),
        ]
    ),
    3: np.dtype(
        [
            ("header", HEADER),
            ("event_string_code", "S4"),
            ("event_details", union(EVENT_DETAILS_SIZE, **EVENT_MEMBERS)),
        ]
    ),
    8: np.dtype(
        [
            ("header", HEADER),
            ("num_cars", "u1"),
            ("classification_data", FINAL_CLASSIFICATION_DATA, (NUM_CARS,)),
        ]
    ),
    10: np.dtype(
        [("header", HEADER), ("car_damage_data", CAR_DAMAGE_DATA, (NUM_CARS,))]
    ),
}
"""packetId -> dtype of the whole packet (little-endian, packed)."""


normalise_header = f2021.normalise_header
NORMALISERS = f2021.NORMALISERS
"""The same overrides as 2021 (Lap Data and Session History names and units)."""
