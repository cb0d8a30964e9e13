"""packetFormat 2019 (F1 2019): 23-byte header, 20-car arrays, packet ids 0-7.

Changes from 2018 (F1 2019 UDP specification): the header gains the game's major and
minor version; throttle, steer and brake become floats (0..1, -1..1); Car Telemetry
adds the surface type per wheel; Car Status gains fuel laps remaining and separate
actual/visual tyre compounds and loses exhaust damage; the Session packet's era becomes
formula; Participants add "your telemetry"; the Event packet carries details.
"""

from __future__ import annotations

import numpy as np

from f1dash_tui.telemetry.layouts import f2018
from f1dash_tui.telemetry.layouts.common import union

PACKET_FORMAT = 2019
NUM_CARS = 20
PACKET_ID_OFFSET = 5

HEADER = np.dtype(
    [
        ("packet_format", "<u2"),
        ("game_major_version", "u1"),
        ("game_minor_version", "u1"),
        ("packet_version", "u1"),
        ("packet_id", "u1"),
        ("session_uid", "<u8"),
        ("session_time", "<f4"),
        ("frame_identifier", "<u4"),
        ("player_car_index", "u1"),
    ]
)

PARTICIPANT_DATA = np.dtype(
    [*f2018.PARTICIPANT_DATA.descr, ("your_telemetry", "u1")]  # 0 restricted, 1 public
)

CAR_TELEMETRY_DATA = np.dtype(
    [
        ("speed", "<u2"),  # km/h
        ("throttle", "<f4"),  # 0..1
        ("steer", "<f4"),  # -1..1
        ("brake", "<f4"),  # 0..1
        ("clutch", "u1"),  # 0..100
        ("gear", "i1"),
        ("engine_rpm", "<u2"),
        ("drs", "u1"),
        ("rev_lights_percent", "u1"),
        ("brakes_temperature", "<u2", (4,)),
        ("tyres_surface_temperature", "<u2", (4,)),
        ("tyres_inner_temperature", "<u2", (4,)),
        ("engine_temperature", "<u2"),
        ("tyres_pressure", "<f4", (4,)),
        ("surface_type", "u1", (4,)),
    ]
)

CAR_STATUS_DATA = np.dtype(
    [
        ("traction_control", "u1"),
        ("anti_lock_brakes", "u1"),
        ("fuel_mix", "u1"),
        ("front_brake_bias", "u1"),
        ("pit_limiter_status", "u1"),
        ("fuel_in_tank", "<f4"),
        ("fuel_capacity", "<f4"),
        ("fuel_remaining_laps", "<f4"),
        ("max_rpm", "<u2"),
        ("idle_rpm", "<u2"),
        ("max_gears", "u1"),
        ("drs_allowed", "u1"),
        ("tyres_wear", "u1", (4,)),  # percent
        ("actual_tyre_compound", "u1"),
        ("visual_tyre_compound", "u1"),
        ("tyres_damage", "u1", (4,)),  # percent
        ("front_left_wing_damage", "u1"),
        ("front_right_wing_damage", "u1"),
        ("rear_wing_damage", "u1"),
        ("engine_damage", "u1"),
        ("gear_box_damage", "u1"),
        ("vehicle_fia_flags", "i1"),
        ("ers_store_energy", "<f4"),
        ("ers_deploy_mode", "u1"),
        ("ers_harvested_this_lap_mguk", "<f4"),
        ("ers_harvested_this_lap_mguh", "<f4"),
        ("ers_deployed_this_lap", "<f4"),
    ]
)

EVENT_DETAILS_SIZE = 5  # the largest member of the union: fastest lap

EVENT_MEMBERS: dict[str, np.dtype] = {
    "fastest_lap": np.dtype([("vehicle_idx", "u1"), ("lap_time", "<f4")]),  # FTLP
    "retirement": np.dtype([("vehicle_idx", "u1")]),  # RTMT
    "team_mate_in_pits": np.dtype([("vehicle_idx", "u1")]),  # TMPT
    "race_winner": np.dtype([("vehicle_idx", "u1")]),  # RCWN
}
"""Members of the event details union (names as in common.EVENT_DETAILS)."""

EVENT_CODES = ("SSTA", "SEND", "FTLP", "RTMT", "DRSE", "DRSD", "TMPT", "CHQF", "RCWN")
"""The event codes of 2019; SSTA, SEND, DRSE, DRSD and CHQF carry no details."""


LAYOUTS: dict[int, np.dtype] = {
    0: np.dtype(
        [
            ("header", HEADER),
            ("car_motion_data", f2018.CAR_MOTION_DATA, (NUM_CARS,)),
            *f2018.PLAYER_MOTION_EXTRA,
        ]
    ),
    1: np.dtype(
        [
            ("header", HEADER),
            *f2018.SESSION_FIELDS_TO_MARSHAL_ZONES,
            ("formula", "u1"),  # 0 modern, 1 classic, 2 F2, 3 F1 generic
            *f2018.SESSION_TIMING_FIELDS,
        ]
    ),
    2: np.dtype([("header", HEADER), ("lap_data", f2018.LAP_DATA, (NUM_CARS,))]),
    3: np.dtype(
        [
            ("header", HEADER),
            ("event_string_code", "S4"),
            ("event_details", union(EVENT_DETAILS_SIZE, **EVENT_MEMBERS)),
        ]
    ),
    4: np.dtype(
        [
            ("header", HEADER),
            ("num_active_cars", "u1"),
            ("participants", PARTICIPANT_DATA, (NUM_CARS,)),
        ]
    ),
    5: np.dtype(
        [("header", HEADER), ("car_setups", f2018.CAR_SETUP_DATA, (NUM_CARS,))]
    ),
    6: np.dtype(
        [
            ("header", HEADER),
            ("car_telemetry_data", CAR_TELEMETRY_DATA, (NUM_CARS,)),
            ("button_status", "<u4"),
        ]
    ),
    7: np.dtype(
        [("header", HEADER), ("car_status_data", CAR_STATUS_DATA, (NUM_CARS,))]
    ),
}
"""packetId -> dtype of the whole packet (little-endian, packed)."""

normalise_header = f2018.normalise_header

NORMALISERS = {
    0: f2018.normalise_motion,
    2: f2018.normalise_lap_data,
    4: f2018.normalise_participants,
    5: f2018.normalise_car_setups,
    7: f2018.normalise_car_status,
}
"""packetId -> normaliser where 2019 differs from common.DEFAULT_NORMALISERS."""
