"""packetFormat 2020 (F1 2020): 24-byte header, 22-car arrays, packet ids 0-9.

Changes from 2019 (F1 2020 UDP specification): 22 cars; the header adds the secondary
player's car index; Lap Data sends sector times as uint16 milliseconds (lap times stay
float seconds) and adds best-lap and best-sector data; tyre temperatures become uint8;
Car Status adds DRS activation distance, tyre age and DRS fault; Car Setups give four
tyre pressures; the Session packet adds a 20-sample weather forecast; new packets
Final Classification (8) and Lobby Info (9); new events PENA and SPTP.
"""

from __future__ import annotations

import numpy as np

from f1dash_tui.telemetry.layouts import f2018, f2019
from f1dash_tui.telemetry.layouts.common import (
    Rows,
    car_array,
    names,
    per_car_rows,
    seconds_from_ms,
    union,
)

PACKET_FORMAT = 2020
NUM_CARS = 22
PACKET_ID_OFFSET = 5

HEADER = np.dtype(
    [
        *f2019.HEADER.descr,
        ("secondary_player_car_index", "u1"),  # 255 if no second player
    ]
)

WEATHER_FORECAST_SAMPLE = np.dtype(
    [
        ("session_type", "u1"),
        ("time_offset", "u1"),  # minutes
        ("weather", "u1"),
        ("track_temperature", "i1"),
        ("air_temperature", "i1"),
    ]
)

LAP_DATA = np.dtype(
    [
        ("last_lap_time", "<f4"),  # seconds
        ("current_lap_time", "<f4"),  # seconds
        ("sector1_time_in_ms", "<u2"),
        ("sector2_time_in_ms", "<u2"),
        ("best_lap_time", "<f4"),  # seconds
        ("best_lap_num", "u1"),
        ("best_lap_sector1_time_in_ms", "<u2"),
        ("best_lap_sector2_time_in_ms", "<u2"),
        ("best_lap_sector3_time_in_ms", "<u2"),
        ("best_overall_sector1_time_in_ms", "<u2"),
        ("best_overall_sector1_lap_num", "u1"),
        ("best_overall_sector2_time_in_ms", "<u2"),
        ("best_overall_sector2_lap_num", "u1"),
        ("best_overall_sector3_time_in_ms", "<u2"),
        ("best_overall_sector3_lap_num", "u1"),
        ("lap_distance", "<f4"),
        ("total_distance", "<f4"),
        ("safety_car_delta", "<f4"),
        ("car_position", "u1"),
        ("current_lap_num", "u1"),
        ("pit_status", "u1"),
        ("sector", "u1"),
        ("current_lap_invalid", "u1"),
        ("penalties", "u1"),
        ("grid_position", "u1"),
        ("driver_status", "u1"),
        ("result_status", "u1"),
    ]
)

CAR_SETUP_DATA = np.dtype(
    [
        *f2018.CAR_SETUP_DATA.descr[:16],  # front_wing .. brake_bias as before
        ("rear_left_tyre_pressure", "<f4"),
        ("rear_right_tyre_pressure", "<f4"),
        ("front_left_tyre_pressure", "<f4"),
        ("front_right_tyre_pressure", "<f4"),
        ("ballast", "u1"),
        ("fuel_load", "<f4"),
    ]
)

CAR_TELEMETRY_DATA = np.dtype(
    [
        ("speed", "<u2"),
        ("throttle", "<f4"),
        ("steer", "<f4"),
        ("brake", "<f4"),
        ("clutch", "u1"),
        ("gear", "i1"),
        ("engine_rpm", "<u2"),
        ("drs", "u1"),
        ("rev_lights_percent", "u1"),
        ("brakes_temperature", "<u2", (4,)),
        ("tyres_surface_temperature", "u1", (4,)),
        ("tyres_inner_temperature", "u1", (4,)),
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
        ("drs_activation_distance", "<u2"),  # metres; 0 = not available
        ("tyres_wear", "u1", (4,)),
        ("actual_tyre_compound", "u1"),
        ("visual_tyre_compound", "u1"),
        ("tyres_age_laps", "u1"),
        ("tyres_damage", "u1", (4,)),
        ("front_left_wing_damage", "u1"),
        ("front_right_wing_damage", "u1"),
        ("rear_wing_damage", "u1"),
        ("drs_fault", "u1"),
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

FINAL_CLASSIFICATION_DATA = np.dtype(
    [
        ("position", "u1"),
        ("num_laps", "u1"),
        ("grid_position", "u1"),
        ("points", "u1"),
        ("num_pit_stops", "u1"),
        ("result_status", "u1"),
        ("best_lap_time", "<f4"),  # seconds
        ("total_race_time", "<f8"),  # seconds, without penalties
        ("penalties_time", "u1"),  # seconds
        ("num_penalties", "u1"),
        ("num_tyre_stints", "u1"),
        ("tyre_stints_actual", "u1", (8,)),
        ("tyre_stints_visual", "u1", (8,)),
    ]
)

LOBBY_INFO_DATA = np.dtype(
    [
        ("ai_controlled", "u1"),
        ("team_id", "u1"),
        ("nationality", "u1"),
        ("name", "S48"),
        ("ready_status", "u1"),
    ]
)

EVENT_DETAILS_SIZE = 7  # the largest member of the union: penalty

EVENT_MEMBERS: dict[str, np.dtype] = {
    **f2019.EVENT_MEMBERS,
    "penalty": np.dtype(  # PENA
        [
            ("penalty_type", "u1"),
            ("infringement_type", "u1"),
            ("vehicle_idx", "u1"),
            ("other_vehicle_idx", "u1"),
            ("time", "u1"),  # seconds
            ("lap_num", "u1"),
            ("places_gained", "u1"),
        ]
    ),
    "speed_trap": np.dtype([("vehicle_idx", "u1"), ("speed", "<f4")]),  # SPTP, km/h
}
"""Members of the event details union (names as in common.EVENT_DETAILS)."""

EVENT_CODES = (*f2019.EVENT_CODES, "PENA", "SPTP")
"""The event codes of 2020."""


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
            ("formula", "u1"),
            *f2018.SESSION_TIMING_FIELDS,
            ("num_weather_forecast_samples", "u1"),
            ("weather_forecast_samples", WEATHER_FORECAST_SAMPLE, (20,)),
        ]
    ),
    2: np.dtype([("header", HEADER), ("lap_data", LAP_DATA, (NUM_CARS,))]),
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
            ("participants", f2019.PARTICIPANT_DATA, (NUM_CARS,)),
        ]
    ),
    5: np.dtype([("header", HEADER), ("car_setups", CAR_SETUP_DATA, (NUM_CARS,))]),
    6: np.dtype(
        [
            ("header", HEADER),
            ("car_telemetry_data", CAR_TELEMETRY_DATA, (NUM_CARS,)),
            ("button_status", "<u4"),
            ("mfd_panel_index", "u1"),
            ("mfd_panel_index_secondary_player", "u1"),
            ("suggested_gear", "i1"),  # 0 = no suggestion
        ]
    ),
    7: np.dtype(
        [("header", HEADER), ("car_status_data", CAR_STATUS_DATA, (NUM_CARS,))]
    ),
    8: np.dtype(
        [
            ("header", HEADER),
            ("num_cars", "u1"),
            ("classification_data", FINAL_CLASSIFICATION_DATA, (NUM_CARS,)),
        ]
    ),
    9: np.dtype(
        [
            ("header", HEADER),
            ("num_players", "u1"),
            ("lobby_players", LOBBY_INFO_DATA, (NUM_CARS,)),
        ]
    ),
}
"""packetId -> dtype of the whole packet (little-endian, packed)."""


normalise_header = f2018.normalise_header


def normalise_lap_data(records: np.ndarray) -> dict[str, Rows]:
    """2020 Lap Data: lap times in float seconds, sector times in uint16 ms."""
    cars = car_array(records)
    return f2018.lap_data_rows(
        records,
        seconds_from_ms(cars["sector1_time_in_ms"]),
        seconds_from_ms(cars["sector2_time_in_ms"]),
    )


def normalise_final_classification(records: np.ndarray) -> dict[str, Rows]:
    """2020 sends the best lap as float seconds (milliseconds from 2021)."""
    cars = car_array(records)
    packet_row, car_index = per_car_rows(records, cars)
    columns = {
        "car_index": car_index,
        "position": cars["position"],
        "num_laps": cars["num_laps"],
        "grid_position": cars["grid_position"],
        "points": cars["points"],
        "num_pit_stops": cars["num_pit_stops"],
        "result_status": cars["result_status"],
        "best_lap_time_s": cars["best_lap_time"],
        "total_race_time_s": cars["total_race_time"],
        "penalties_time_s": cars["penalties_time"],
        "num_penalties": cars["num_penalties"],
        "num_tyre_stints": cars["num_tyre_stints"],
    }
    return {"final_classification": Rows(columns, packet_row)}


def normalise_lobby_info(records: np.ndarray) -> dict[str, Rows]:
    """2020 Lobby Info has no car number (2021+)."""
    players = car_array(records)
    packet_row, car_index = per_car_rows(records, players)
    columns = {
        "car_index": car_index,
        "num_players": records["num_players"][packet_row],
        "ai_controlled": players["ai_controlled"],
        "team_id": players["team_id"],
        "nationality": players["nationality"],
        "name": names(players["name"]),
        "ready_status": players["ready_status"],
    }
    return {"lobby_info": Rows(columns, packet_row)}


NORMALISERS = {
    0: f2018.normalise_motion,
    2: normalise_lap_data,
    4: f2018.normalise_participants,
    7: f2018.normalise_car_status,
    8: normalise_final_classification,
    9: normalise_lobby_info,
}
"""packetId -> normaliser where 2020 differs from common.DEFAULT_NORMALISERS."""
