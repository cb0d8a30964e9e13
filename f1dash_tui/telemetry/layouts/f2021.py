"""packetFormat 2021 (F1 2021): 24-byte header, 22-car arrays, packet ids 0-11.

Changes from 2020 (F1 2021 UDP specification): lap times become uint32 milliseconds
(Lap Data, Final Classification); Lap Data adds pit stops, warnings and pit-lane
timers and drops the best-lap block; tyre wear and wing damage move from Car Status to
the new Car Damage packet (10), tyre wear as float percent; the new Session History
packet (11) carries one car's laps; the Session packet grows a 56-sample forecast and
assist settings; Participants add network id and "my team"; the button status moves
from Car Telemetry to the BUTN event; new events STLG, LGOT, DTSV, SGSV, FLBK, BUTN.
"""

from __future__ import annotations

import numpy as np

from f1dash_tui.telemetry.layouts import f2018, f2020
from f1dash_tui.telemetry.layouts.common import (
    Rows,
    car_array,
    laps_present,
    per_car_rows,
    seconds_from_ms,
    session_history_rows,
    union,
)

PACKET_FORMAT = 2021
NUM_CARS = 22
PACKET_ID_OFFSET = 5

HEADER = f2020.HEADER

WEATHER_FORECAST_SAMPLE = np.dtype(
    [
        ("session_type", "u1"),
        ("time_offset", "u1"),  # minutes
        ("weather", "u1"),
        ("track_temperature", "i1"),
        ("track_temperature_change", "i1"),  # 0 up, 1 down, 2 no change
        ("air_temperature", "i1"),
        ("air_temperature_change", "i1"),
        ("rain_percentage", "u1"),
    ]
)

SESSION_FIELDS_AFTER_FORECAST = [
    ("forecast_accuracy", "u1"),  # 0 perfect, 1 approximate
    ("ai_difficulty", "u1"),
    ("season_link_identifier", "<u4"),
    ("weekend_link_identifier", "<u4"),
    ("session_link_identifier", "<u4"),
    ("pit_stop_window_ideal_lap", "u1"),
    ("pit_stop_window_latest_lap", "u1"),
    ("pit_stop_rejoin_position", "u1"),
    ("steering_assist", "u1"),
    ("braking_assist", "u1"),
    ("gearbox_assist", "u1"),
    ("pit_assist", "u1"),
    ("pit_release_assist", "u1"),
    ("ers_assist", "u1"),
    ("drs_assist", "u1"),
    ("dynamic_racing_line", "u1"),
    ("dynamic_racing_line_type", "u1"),
]

SESSION_FIELDS = [
    *f2018.SESSION_FIELDS_TO_MARSHAL_ZONES,
    ("formula", "u1"),
    *f2018.SESSION_TIMING_FIELDS,
    ("num_weather_forecast_samples", "u1"),
    ("weather_forecast_samples", WEATHER_FORECAST_SAMPLE, (56,)),
    *SESSION_FIELDS_AFTER_FORECAST,
]

LAP_DATA = np.dtype(
    [
        ("last_lap_time_in_ms", "<u4"),
        ("current_lap_time_in_ms", "<u4"),
        ("sector1_time_in_ms", "<u2"),
        ("sector2_time_in_ms", "<u2"),
        ("lap_distance", "<f4"),
        ("total_distance", "<f4"),
        ("safety_car_delta", "<f4"),
        ("car_position", "u1"),
        ("current_lap_num", "u1"),
        ("pit_status", "u1"),
        ("num_pit_stops", "u1"),
        ("sector", "u1"),
        ("current_lap_invalid", "u1"),
        ("penalties", "u1"),  # seconds
        ("warnings", "u1"),
        ("num_unserved_drive_through_pens", "u1"),
        ("num_unserved_stop_go_pens", "u1"),
        ("grid_position", "u1"),
        ("driver_status", "u1"),
        ("result_status", "u1"),
        ("pit_lane_timer_active", "u1"),
        ("pit_lane_time_in_lane_in_ms", "<u2"),
        ("pit_stop_timer_in_ms", "<u2"),
        ("pit_stop_should_serve_pen", "u1"),
    ]
)

PARTICIPANT_DATA = np.dtype(
    [
        ("ai_controlled", "u1"),
        ("driver_id", "u1"),  # 255 = network human
        ("network_id", "u1"),
        ("team_id", "u1"),
        ("my_team", "u1"),
        ("race_number", "u1"),
        ("nationality", "u1"),
        ("name", "S48"),
        ("your_telemetry", "u1"),
    ]
)

CAR_TELEMETRY_DATA = np.dtype(
    [
        *f2020.CAR_TELEMETRY_DATA.descr[:9],  # speed .. rev_lights_percent
        ("rev_lights_bit_value", "<u2"),  # bit 0 leftmost LED .. bit 14 rightmost
        *f2020.CAR_TELEMETRY_DATA.descr[9:],  # brake temperatures .. surface type
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
        ("drs_activation_distance", "<u2"),
        ("actual_tyre_compound", "u1"),
        ("visual_tyre_compound", "u1"),
        ("tyres_age_laps", "u1"),
        ("vehicle_fia_flags", "i1"),
        ("ers_store_energy", "<f4"),
        ("ers_deploy_mode", "u1"),
        ("ers_harvested_this_lap_mguk", "<f4"),
        ("ers_harvested_this_lap_mguh", "<f4"),
        ("ers_deployed_this_lap", "<f4"),
        ("network_paused", "u1"),
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
        ("best_lap_time_in_ms", "<u4"),
        ("total_race_time", "<f8"),  # seconds, without penalties
        ("penalties_time", "u1"),
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
        ("car_number", "u1"),
        ("ready_status", "u1"),
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
        ("gear_box_damage", "u1"),
        ("engine_damage", "u1"),
        ("engine_mguh_wear", "u1"),
        ("engine_es_wear", "u1"),
        ("engine_ce_wear", "u1"),
        ("engine_ice_wear", "u1"),
        ("engine_mguk_wear", "u1"),
        ("engine_tc_wear", "u1"),
    ]
)

LAP_HISTORY_DATA = np.dtype(
    [
        ("lap_time_in_ms", "<u4"),
        ("sector1_time_in_ms", "<u2"),
        ("sector2_time_in_ms", "<u2"),
        ("sector3_time_in_ms", "<u2"),
        ("lap_valid_bit_flags", "u1"),  # bit 0 lap, 1 sector 1, 2 sector 2, 3 sector 3
    ]
)

TYRE_STINT_HISTORY_DATA = np.dtype(
    [
        ("end_lap", "u1"),  # 255 = current tyre
        ("tyre_actual_compound", "u1"),
        ("tyre_visual_compound", "u1"),
    ]
)

SESSION_HISTORY_FIELDS = [
    ("car_idx", "u1"),
    ("num_laps", "u1"),
    ("num_tyre_stints", "u1"),
    ("best_lap_time_lap_num", "u1"),
    ("best_sector1_lap_num", "u1"),
    ("best_sector2_lap_num", "u1"),
    ("best_sector3_lap_num", "u1"),
    ("lap_history_data", LAP_HISTORY_DATA, (100,)),
    ("tyre_stints_history_data", TYRE_STINT_HISTORY_DATA, (8,)),
]

EVENT_DETAILS_SIZE = 8  # the largest member of the union: flashback

EVENT_MEMBERS: dict[str, np.dtype] = {
    **f2020.EVENT_MEMBERS,
    "speed_trap": np.dtype(  # SPTP
        [
            ("vehicle_idx", "u1"),
            ("speed", "<f4"),  # km/h
            ("is_overall_fastest_in_session", "u1"),
            ("is_driver_fastest_in_session", "u1"),
        ]
    ),
    "start_lights": np.dtype([("num_lights", "u1")]),  # STLG
    "drive_through_penalty_served": np.dtype([("vehicle_idx", "u1")]),  # DTSV
    "stop_go_penalty_served": np.dtype([("vehicle_idx", "u1")]),  # SGSV
    "flashback": np.dtype(  # FLBK
        [("flashback_frame_identifier", "<u4"), ("flashback_session_time", "<f4")]
    ),
    "buttons": np.dtype([("button_status", "<u4")]),  # BUTN
}
"""Members of the event details union (names as in common.EVENT_DETAILS)."""

EVENT_CODES = (*f2020.EVENT_CODES, "STLG", "LGOT", "DTSV", "SGSV", "FLBK", "BUTN")
"""The event codes of 2021 and 2022; LGOT carries no details."""


LAYOUTS: dict[int, np.dtype] = {
    0: f2020.LAYOUTS[0],
    1: np.dtype([("header", HEADER), *SESSION_FIELDS]),
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
            ("participants", PARTICIPANT_DATA, (NUM_CARS,)),
        ]
    ),
    5: f2020.LAYOUTS[5],
    6: np.dtype(
        [
            ("header", HEADER),
            ("car_telemetry_data", CAR_TELEMETRY_DATA, (NUM_CARS,)),
            ("mfd_panel_index", "u1"),
            ("mfd_panel_index_secondary_player", "u1"),
            ("suggested_gear", "i1"),
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
    10: np.dtype(
        [("header", HEADER), ("car_damage_data", CAR_DAMAGE_DATA, (NUM_CARS,))]
    ),
    11: np.dtype([("header", HEADER), *SESSION_HISTORY_FIELDS]),
}
"""packetId -> dtype of the whole packet (little-endian, packed)."""


normalise_header = f2018.normalise_header


def normalise_lap_data(records: np.ndarray) -> dict[str, Rows]:
    """2021-2022 Lap Data: times in milliseconds, no minutes parts or deltas; the
    warnings count is "warnings" (totalWarnings from 2023)."""
    cars = car_array(records)
    packet_row, car_index = per_car_rows(records, cars)
    columns = {
        "car_index": car_index,
        "last_lap_time_s": seconds_from_ms(cars["last_lap_time_in_ms"]),
        "current_lap_time_s": seconds_from_ms(cars["current_lap_time_in_ms"]),
        "sector1_time_s": seconds_from_ms(cars["sector1_time_in_ms"]),
        "sector2_time_s": seconds_from_ms(cars["sector2_time_in_ms"]),
        "lap_distance_m": cars["lap_distance"],
        "total_distance_m": cars["total_distance"],
        "safety_car_delta_s": cars["safety_car_delta"],
        "car_position": cars["car_position"],
        "current_lap_num": cars["current_lap_num"],
        "pit_status": cars["pit_status"],
        "num_pit_stops": cars["num_pit_stops"],
        "sector": cars["sector"],
        "current_lap_invalid": cars["current_lap_invalid"],
        "penalties_s": cars["penalties"],
        "total_warnings": cars["warnings"],
        "grid_position": cars["grid_position"],
        "driver_status": cars["driver_status"],
        "result_status": cars["result_status"],
        "pit_lane_timer_active": cars["pit_lane_timer_active"],
        "pit_lane_time_in_lane_s": seconds_from_ms(cars["pit_lane_time_in_lane_in_ms"]),
        "pit_stop_timer_s": seconds_from_ms(cars["pit_stop_timer_in_ms"]),
    }
    return {"lap_data": Rows(columns, packet_row)}


def normalise_session_history(records: np.ndarray) -> dict[str, Rows]:
    """2021-2022 Session History: sector times in uint16 ms, no minutes parts."""
    packet_row, lap_offset, laps = laps_present(records)
    sector_times_s = [seconds_from_ms(laps[f"sector{n}_time_in_ms"]) for n in (1, 2, 3)]
    return {
        "session_history": session_history_rows(
            records, packet_row, lap_offset, laps, sector_times_s
        )
    }


NORMALISERS = {
    0: f2018.normalise_motion,
    2: normalise_lap_data,
    11: normalise_session_history,
}
"""packetId -> normaliser where 2021 differs from common.DEFAULT_NORMALISERS."""
