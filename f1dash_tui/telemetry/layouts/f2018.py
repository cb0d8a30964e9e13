"""packetFormat 2018 (F1 2018): 21-byte header, 20-car arrays, packet ids 0-7.

Layouts from the F1 2018 UDP specification. What sets 2018 apart from later years:
no game version in the header; throttle and brake are uint8 0..100 and steer int8
-100..100 in Car Telemetry; tyre temperatures are uint16; lap and sector times are float
seconds; the Event packet carries only its four-letter code; Car Status has one tyre
compound (uint8) and an exhaust damage byte, and carries tyre wear and wing damage.
"""

from __future__ import annotations

import numpy as np
from numpy.lib import recfunctions

from f1dash_tui.telemetry.layouts import common
from f1dash_tui.telemetry.layouts.common import (
    ColumnValues,
    Rows,
    car_array,
    field_or,
    names,
    per_car_rows,
    wheels,
)

PACKET_FORMAT = 2018
NUM_CARS = 20
PACKET_ID_OFFSET = 3

HEADER = np.dtype(
    [
        ("packet_format", "<u2"),
        ("packet_version", "u1"),
        ("packet_id", "u1"),
        ("session_uid", "<u8"),
        ("session_time", "<f4"),
        ("frame_identifier", "<u4"),
        ("player_car_index", "u1"),
    ]
)

CAR_MOTION_DATA = np.dtype(
    [
        ("world_position_x", "<f4"),
        ("world_position_y", "<f4"),
        ("world_position_z", "<f4"),
        ("world_velocity_x", "<f4"),
        ("world_velocity_y", "<f4"),
        ("world_velocity_z", "<f4"),
        # Normalised direction vectors sent as int16; divide by 32767 for the float.
        ("world_forward_dir_x", "<i2"),
        ("world_forward_dir_y", "<i2"),
        ("world_forward_dir_z", "<i2"),
        ("world_right_dir_x", "<i2"),
        ("world_right_dir_y", "<i2"),
        ("world_right_dir_z", "<i2"),
        ("g_force_lateral", "<f4"),
        ("g_force_longitudinal", "<f4"),
        ("g_force_vertical", "<f4"),
        ("yaw", "<f4"),
        ("pitch", "<f4"),
        ("roll", "<f4"),
    ]
)

# The player car's extra motion data, wheel arrays in RL, RR, FL, FR order.
PLAYER_MOTION_EXTRA = [
    ("suspension_position", "<f4", (4,)),
    ("suspension_velocity", "<f4", (4,)),
    ("suspension_acceleration", "<f4", (4,)),
    ("wheel_speed", "<f4", (4,)),
    ("wheel_slip", "<f4", (4,)),
    ("local_velocity_x", "<f4"),
    ("local_velocity_y", "<f4"),
    ("local_velocity_z", "<f4"),
    ("angular_velocity_x", "<f4"),
    ("angular_velocity_y", "<f4"),
    ("angular_velocity_z", "<f4"),
    ("angular_acceleration_x", "<f4"),
    ("angular_acceleration_y", "<f4"),
    ("angular_acceleration_z", "<f4"),
    ("front_wheels_angle", "<f4"),
]

MARSHAL_ZONE = np.dtype([("zone_start", "<f4"), ("zone_flag", "i1")])

SESSION_FIELDS_TO_MARSHAL_ZONES = [
    ("weather", "u1"),
    ("track_temperature", "i1"),
    ("air_temperature", "i1"),
    ("total_laps", "u1"),
    ("track_length", "<u2"),
    ("session_type", "u1"),
    ("track_id", "i1"),
]

SESSION_TIMING_FIELDS = [
    ("session_time_left", "<u2"),
    ("session_duration", "<u2"),
    ("pit_speed_limit", "u1"),
    ("game_paused", "u1"),
    ("is_spectating", "u1"),
    ("spectator_car_index", "u1"),
    ("sli_pro_native_support", "u1"),
    ("num_marshal_zones", "u1"),
    ("marshal_zones", MARSHAL_ZONE, (21,)),
    ("safety_car_status", "u1"),
    ("network_game", "u1"),
]

LAP_DATA = np.dtype(
    [
        ("last_lap_time", "<f4"),  # seconds
        ("current_lap_time", "<f4"),
        ("best_lap_time", "<f4"),
        ("sector1_time", "<f4"),
        ("sector2_time", "<f4"),
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

PARTICIPANT_DATA = np.dtype(
    [
        ("ai_controlled", "u1"),
        ("driver_id", "u1"),
        ("team_id", "u1"),
        ("race_number", "u1"),
        ("nationality", "u1"),
        ("name", "S48"),
    ]
)

CAR_SETUP_DATA = np.dtype(
    [
        ("front_wing", "u1"),
        ("rear_wing", "u1"),
        ("on_throttle", "u1"),
        ("off_throttle", "u1"),
        ("front_camber", "<f4"),
        ("rear_camber", "<f4"),
        ("front_toe", "<f4"),
        ("rear_toe", "<f4"),
        ("front_suspension", "u1"),
        ("rear_suspension", "u1"),
        ("front_anti_roll_bar", "u1"),
        ("rear_anti_roll_bar", "u1"),
        ("front_suspension_height", "u1"),
        ("rear_suspension_height", "u1"),
        ("brake_pressure", "u1"),
        ("brake_bias", "u1"),
        ("front_tyre_pressure", "<f4"),
        ("rear_tyre_pressure", "<f4"),
        ("ballast", "u1"),
        ("fuel_load", "<f4"),
    ]
)

CAR_TELEMETRY_DATA = np.dtype(
    [
        ("speed", "<u2"),  # km/h
        ("throttle", "u1"),  # 0..100
        ("steer", "i1"),  # -100 (full left) .. 100 (full right)
        ("brake", "u1"),  # 0..100
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
        ("max_rpm", "<u2"),
        ("idle_rpm", "<u2"),
        ("max_gears", "u1"),
        ("drs_allowed", "u1"),
        ("tyres_wear", "u1", (4,)),  # percent
        ("tyre_compound", "u1"),
        ("tyres_damage", "u1", (4,)),  # percent
        ("front_left_wing_damage", "u1"),
        ("front_right_wing_damage", "u1"),
        ("rear_wing_damage", "u1"),
        ("engine_damage", "u1"),
        ("gear_box_damage", "u1"),
        ("exhaust_damage", "u1"),
        ("vehicle_fia_flags", "i1"),
        ("ers_store_energy", "<f4"),
        ("ers_deploy_mode", "u1"),
        ("ers_harvested_this_lap_mguk", "<f4"),
        ("ers_harvested_this_lap_mguh", "<f4"),
        ("ers_deployed_this_lap", "<f4"),
    ]
)

LAYOUTS: dict[int, np.dtype] = {
    0: np.dtype(
        [
            ("header", HEADER),
            ("car_motion_data", CAR_MOTION_DATA, (NUM_CARS,)),
            *PLAYER_MOTION_EXTRA,
        ]
    ),
    1: np.dtype(
        [
            ("header", HEADER),
            *SESSION_FIELDS_TO_MARSHAL_ZONES,
            ("era", "u1"),  # 0 modern, 1 classic
            *SESSION_TIMING_FIELDS,
        ]
    ),
    2: np.dtype([("header", HEADER), ("lap_data", LAP_DATA, (NUM_CARS,))]),
    3: np.dtype([("header", HEADER), ("event_string_code", "S4")]),
    4: np.dtype(
        [
            ("header", HEADER),
            ("num_active_cars", "u1"),  # m_numCars in the 2018 specification
            ("participants", PARTICIPANT_DATA, (NUM_CARS,)),
        ]
    ),
    5: np.dtype([("header", HEADER), ("car_setups", CAR_SETUP_DATA, (NUM_CARS,))]),
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

EVENT_CODES = ("SSTA", "SEND")
"""The event codes of 2018; neither carries details."""

# --- normalisation: what differs from common.DEFAULT_NORMALISERS ------------------


def normalise_header(headers: np.ndarray) -> dict[str, np.ndarray]:
    """Header columns for 2018-2022 headers: no overall frame before 2023, so the
    overall frame is the frame identifier."""
    return {
        "packet_format": headers["packet_format"],
        "session_uid": headers["session_uid"].view("<i8"),
        "session_time_s": headers["session_time"].astype(np.float64),
        "frame": headers["frame_identifier"],
        "overall_frame": headers["frame_identifier"],
        "player_car_index": headers["player_car_index"],
    }


def normalise_motion(records: np.ndarray) -> dict[str, Rows]:
    """Motion 2018-2022: every car's motion rows, plus one motion_ex row for the
    player's wheel and body data, which these formats send inside the Motion
    packet (2023 moved it to Motion Ex). "wheelSlip" there is the slip ratio."""
    kinds = common.normalise_motion(records)
    kinds.update(
        common.normalise_motion_ex(
            recfunctions.rename_fields(records, {"wheel_slip": "wheel_slip_ratio"})
        )
    )
    return kinds


def normalise_session(records: np.ndarray) -> dict[str, Rows]:
    """2018 calls formula "era" (0 modern, 1 classic: the same values)."""
    return common.normalise_session(
        recfunctions.rename_fields(records, {"era": "formula"})
    )


def lap_data_rows(
    records: np.ndarray, sector1_time_s: ColumnValues, sector2_time_s: ColumnValues
) -> dict[str, Rows]:
    """Lap Data rows of 2018-2020 (float-second lap times, no pit-stop counts or
    pit-lane timers: those columns are filled as not sent)."""
    cars = car_array(records)
    packet_row, car_index = per_car_rows(records, cars)
    columns = {
        "car_index": car_index,
        "last_lap_time_s": cars["last_lap_time"],
        "current_lap_time_s": cars["current_lap_time"],
        "sector1_time_s": sector1_time_s,
        "sector2_time_s": sector2_time_s,
        "lap_distance_m": cars["lap_distance"],
        "total_distance_m": cars["total_distance"],
        "safety_car_delta_s": cars["safety_car_delta"],
        "car_position": cars["car_position"],
        "current_lap_num": cars["current_lap_num"],
        "pit_status": cars["pit_status"],
        "sector": cars["sector"],
        "current_lap_invalid": cars["current_lap_invalid"],
        "penalties_s": cars["penalties"],
        "grid_position": cars["grid_position"],
        "driver_status": cars["driver_status"],
        "result_status": cars["result_status"],
    }
    return {"lap_data": Rows(columns, packet_row)}


def normalise_lap_data(records: np.ndarray) -> dict[str, Rows]:
    """2018-2019 Lap Data: every time in float seconds."""
    cars = car_array(records)
    return lap_data_rows(records, cars["sector1_time"], cars["sector2_time"])


def normalise_event(records: np.ndarray) -> dict[str, Rows]:
    """2018 events are a code and nothing else; detail columns are not sent."""
    codes = np.array(
        [raw.decode("ascii", errors="replace") for raw in records["event_string_code"]],
        dtype=object,
    )
    return {"event": Rows({"event_code": codes}, np.arange(len(records)))}


def normalise_participants(records: np.ndarray) -> dict[str, Rows]:
    """Participants 2018-2020: no network id or "my team" (2021+); 2018 has no
    "your telemetry" either."""
    cars = car_array(records)
    packet_row, car_index = per_car_rows(records, cars)
    columns = {
        "car_index": car_index,
        "num_active_cars": records["num_active_cars"][packet_row],
        "ai_controlled": cars["ai_controlled"],
        "driver_id": cars["driver_id"],
        "team_id": cars["team_id"],
        "race_number": cars["race_number"],
        "nationality": cars["nationality"],
        "name": names(cars["name"]),
        "your_telemetry": field_or(cars, "your_telemetry", -1),
    }
    return {"participants": Rows(columns, packet_row)}


def normalise_car_setups(records: np.ndarray) -> dict[str, Rows]:
    """Car Setups 2018-2019: one front and one rear tyre pressure."""
    cars = car_array(records)
    packet_row, car_index = per_car_rows(records, cars)
    columns = {
        "car_index": car_index,
        **{name: cars[name] for name in _SETUP_FIELDS_KEPT},
        **{f"{name}_pct": cars[name] for name in _SETUP_FIELDS_PCT},
        **{f"{name}_deg": cars[name] for name in _SETUP_FIELDS_DEG},
        "tyre_pressure_psi_rl": cars["rear_tyre_pressure"],
        "tyre_pressure_psi_rr": cars["rear_tyre_pressure"],
        "tyre_pressure_psi_fl": cars["front_tyre_pressure"],
        "tyre_pressure_psi_fr": cars["front_tyre_pressure"],
        "fuel_load_kg": cars["fuel_load"],
    }
    return {"car_setups": Rows(columns, packet_row)}


_SETUP_FIELDS_KEPT = (
    "front_wing",
    "rear_wing",
    "front_suspension",
    "rear_suspension",
    "front_anti_roll_bar",
    "rear_anti_roll_bar",
    "front_suspension_height",
    "rear_suspension_height",
    "ballast",
)
_SETUP_FIELDS_PCT = ("on_throttle", "off_throttle", "brake_pressure", "brake_bias")
_SETUP_FIELDS_DEG = ("front_camber", "rear_camber", "front_toe", "rear_toe")


def normalise_car_telemetry(records: np.ndarray) -> dict[str, Rows]:
    """2018 sends throttle and brake as 0..100 and steer as -100..100."""
    rows = common.normalise_car_telemetry(records)["car_telemetry"]
    cars = car_array(records)
    percent = np.float32(0.01)
    rows.columns["throttle"] = cars["throttle"] * percent
    rows.columns["steer"] = cars["steer"] * percent
    rows.columns["brake"] = cars["brake"] * percent
    return {"car_telemetry": rows}


def normalise_car_status(records: np.ndarray) -> dict[str, Rows]:
    """Car Status 2018-2020, which also carries tyre wear and damage: it yields
    car_status rows and car_damage rows, so the dashboard reads one damage table
    in every format. Damage fields the format lacks are filled as not sent."""
    cars = car_array(records)
    packet_row, car_index = per_car_rows(records, cars)
    field_names = cars.dtype.names or ()
    if "actual_tyre_compound" in field_names:
        actual, visual = cars["actual_tyre_compound"], cars["visual_tyre_compound"]
    else:  # 2018: one compound in its own numbering (enums.COMPOUNDS_2018)
        actual = visual = cars["tyre_compound"]
    status = {
        "car_index": car_index,
        "traction_control": cars["traction_control"],
        "anti_lock_brakes": cars["anti_lock_brakes"],
        "fuel_mix": cars["fuel_mix"],
        "front_brake_bias_pct": cars["front_brake_bias"],
        "pit_limiter_status": cars["pit_limiter_status"],
        "fuel_in_tank_kg": cars["fuel_in_tank"],
        "fuel_capacity_kg": cars["fuel_capacity"],
        "fuel_remaining_laps": field_or(cars, "fuel_remaining_laps"),
        "max_rpm": cars["max_rpm"],
        "idle_rpm": cars["idle_rpm"],
        "max_gears": cars["max_gears"],
        "drs_allowed": cars["drs_allowed"],
        "drs_activation_distance_m": field_or(cars, "drs_activation_distance", -1),
        "actual_tyre_compound": actual,
        "visual_tyre_compound": visual,
        "tyres_age_laps": field_or(cars, "tyres_age_laps", -1),
        "vehicle_fia_flags": cars["vehicle_fia_flags"],
        "ers_store_energy_j": cars["ers_store_energy"],
        "ers_deploy_mode": cars["ers_deploy_mode"],
        "ers_harvested_this_lap_mguk_j": cars["ers_harvested_this_lap_mguk"],
        "ers_harvested_this_lap_mguh_j": cars["ers_harvested_this_lap_mguh"],
        "ers_deployed_this_lap_j": cars["ers_deployed_this_lap"],
    }
    damage = {
        "car_index": car_index,
        **wheels("tyres_wear_pct", cars["tyres_wear"]),
        **wheels("tyres_damage_pct", cars["tyres_damage"]),
        "front_left_wing_damage_pct": cars["front_left_wing_damage"],
        "front_right_wing_damage_pct": cars["front_right_wing_damage"],
        "rear_wing_damage_pct": cars["rear_wing_damage"],
        "drs_fault": field_or(cars, "drs_fault", -1),
        "gearbox_damage_pct": cars["gear_box_damage"],
        "engine_damage_pct": cars["engine_damage"],
    }
    return {
        "car_status": Rows(status, packet_row),
        "car_damage": Rows(damage, packet_row),
    }


NORMALISERS = {
    0: normalise_motion,
    1: normalise_session,
    2: normalise_lap_data,
    3: normalise_event,
    4: normalise_participants,
    5: normalise_car_setups,
    6: normalise_car_telemetry,
    7: normalise_car_status,
}
"""packetId -> normaliser where 2018 differs from common.DEFAULT_NORMALISERS."""
