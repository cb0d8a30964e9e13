"""The decoder's output contract: format-independent column sets, one per packet kind.

Every packetFormat (2018-2026) decodes into these same columns, with the same units, so
ingest, the store and the dashboard never ask which game sent a packet. A value the
format does not send is NaN for floats and -1 for signed integers.

Conventions:
- Every table starts with HEADER_COLUMNS. Per-car tables add ``car_index``.
- ``session_uid`` is the header's uint64 reinterpreted as int64 (same 8 bytes), because
  neither SQLite nor HeavyDB has an unsigned 64-bit integer. 0 means "no session".
- Times are float64 seconds (``_s``), whether the game sent float seconds or an
  uint16/uint32 milliseconds part plus a minutes part.
- Wheel arrays become four columns, suffixed in the game's order ``_rl _rr _fl _fr``.
- Enumerations stay integers; ``telemetry.enums`` has their names.
- Text (driver names, event codes) is a numpy object array of ``str``.

The store's schema (``store.schema``) is built from these definitions plus the
columns ingest adds (``lap_number``, ``lap_distance_m`` on telemetry and motion rows).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WHEELS = ("rl", "rr", "fl", "fr")
"""Wheel suffixes in the order the game sends wheel arrays (rear-left first)."""


@dataclass(frozen=True)
class Column:
    """One output column: its name, numpy dtype, unit and meaning."""

    name: str
    dtype: str
    unit: str = ""
    doc: str = ""

    @property
    def numpy_dtype(self) -> np.dtype:
        """The numpy dtype of the column (``object`` for text)."""
        return np.dtype(self.dtype)


def _wheels(prefix: str, dtype: str, unit: str, doc: str) -> tuple[Column, ...]:
    return tuple(Column(f"{prefix}_{w}", dtype, unit, f"{doc} ({w})") for w in WHEELS)


HEADER_COLUMNS: tuple[Column, ...] = (
    Column("packet_format", "u2", "", "packetFormat from the header (2018..2026)"),
    Column("session_uid", "i8", "", "session UID (uint64 bits as int64); 0 = none"),
    Column("session_time_s", "f8", "s", "session timestamp"),
    Column("frame", "u4", "", "frame identifier; goes back after a flashback"),
    Column(
        "overall_frame", "u4", "", "overall frame (never goes back); = frame pre-2023"
    ),
    Column("player_car_index", "u1", "", "player car index; 255 = spectating"),
)

CAR_INDEX = Column("car_index", "u1", "", "index of the car in the packet's arrays")

MOTION: tuple[Column, ...] = (
    CAR_INDEX,
    Column("world_position_x_m", "f4", "m"),
    Column("world_position_y_m", "f4", "m"),
    Column("world_position_z_m", "f4", "m"),
    Column("world_velocity_x_mps", "f4", "m/s"),
    Column("world_velocity_y_mps", "f4", "m/s"),
    Column("world_velocity_z_mps", "f4", "m/s"),
    Column("world_forward_dir_x", "f4", "", "normalised forward direction"),
    Column("world_forward_dir_y", "f4"),
    Column("world_forward_dir_z", "f4"),
    Column("world_right_dir_x", "f4", "", "normalised right direction"),
    Column("world_right_dir_y", "f4"),
    Column("world_right_dir_z", "f4"),
    Column("g_force_lateral", "f4", "g"),
    Column("g_force_longitudinal", "f4", "g"),
    Column("g_force_vertical", "f4", "g"),
    Column("yaw_rad", "f4", "rad"),
    Column("pitch_rad", "f4", "rad"),
    Column("roll_rad", "f4", "rad"),
)

SESSION: tuple[Column, ...] = (
    Column("weather", "i2", "", "enums.WEATHER"),
    Column("track_temperature_c", "i2", "degC"),
    Column("air_temperature_c", "i2", "degC"),
    Column("total_laps", "i2", "laps"),
    Column("track_length_m", "i4", "m"),
    Column("session_type", "i2", "", "enums.session_type_name(format, value)"),
    Column("track_id", "i2", "", "enums.TRACKS; -1 = unknown"),
    Column("formula", "i2", "", "enums.FORMULA"),
    Column("session_time_left_s", "f8", "s"),
    Column("session_duration_s", "f8", "s"),
    Column("pit_speed_limit_kph", "i2", "km/h"),
    Column("game_paused", "i2"),
    Column("is_spectating", "i2"),
    Column("spectator_car_index", "i2"),
    Column("safety_car_status", "i2", "", "0 none, 1 full, 2 virtual, 3 formation lap"),
    Column("network_game", "i2"),
    Column("sector2_lap_distance_start_m", "f4", "m", "2024+"),
    Column("sector3_lap_distance_start_m", "f4", "m", "2024+"),
)

LAP_DATA: tuple[Column, ...] = (
    CAR_INDEX,
    Column("last_lap_time_s", "f8", "s"),
    Column("current_lap_time_s", "f8", "s"),
    Column("sector1_time_s", "f8", "s", "current lap; 0 until set"),
    Column("sector2_time_s", "f8", "s", "current lap; 0 until set"),
    Column("delta_to_car_in_front_s", "f8", "s", "2023+; NaN before"),
    Column("delta_to_race_leader_s", "f8", "s", "2023+; NaN before"),
    Column("lap_distance_m", "f4", "m", "may be negative before the line"),
    Column("total_distance_m", "f4", "m"),
    Column("safety_car_delta_s", "f4", "s"),
    Column("car_position", "i2"),
    Column("current_lap_num", "i2"),
    Column("pit_status", "i2", "", "0 none, 1 pitting, 2 in pit area"),
    Column("num_pit_stops", "i2", "", "2021+; -1 before"),
    Column("sector", "i2", "", "0 = sector 1"),
    Column("current_lap_invalid", "i2", "", "1 = invalid"),
    Column("penalties_s", "i2", "s"),
    Column("total_warnings", "i2"),
    Column("grid_position", "i2"),
    Column("driver_status", "i2", "", "enums.DRIVER_STATUS"),
    Column("result_status", "i2", "", "enums.RESULT_STATUS"),
    Column("pit_lane_timer_active", "i2"),
    Column("pit_lane_time_in_lane_s", "f8", "s"),
    Column("pit_stop_timer_s", "f8", "s"),
    Column("speed_trap_fastest_kph", "f4", "km/h", "2022+"),
)

EVENT: tuple[Column, ...] = (
    Column("event_code", "O", "", "four ASCII letters, e.g. FTLP"),
    Column("vehicle_index", "i2", "", "car the event is about; -1 = none"),
    Column("other_vehicle_index", "i2", "", "second car (overtaken, collided); -1"),
    Column("lap_time_s", "f8", "s", "FTLP lap time"),
    Column("speed_kph", "f4", "km/h", "SPTP speed"),
    Column("penalty_type", "i2", "", "enums.PENALTY_TYPES"),
    Column("infringement_type", "i2", "", "enums.INFRINGEMENT_TYPES"),
    Column("time_s", "f4", "s", "penalty time"),
    Column("lap_number", "i2"),
    Column("places_gained", "i2"),
    Column("num_lights", "i2", "", "STLG"),
    Column("flashback_frame", "i8", "", "FLBK frame identifier; -1"),
    Column("flashback_session_time_s", "f8", "s", "FLBK"),
    Column("button_status", "i8", "", "BUTN bit flags; -1"),
    Column("safety_car_type", "i2", "", "SCAR"),
    Column("safety_car_event_type", "i2", "", "SCAR"),
    Column("reason", "i2", "", "RTMT/DRSD reason where the format sends one"),
)

PARTICIPANTS: tuple[Column, ...] = (
    CAR_INDEX,
    Column("num_active_cars", "i2"),
    Column("ai_controlled", "i2"),
    Column("driver_id", "i2", "", "enums.DRIVERS; 255 = network human"),
    Column("network_id", "i2"),
    Column("team_id", "i2", "", "enums.team_name(format, value)"),
    Column("my_team", "i2"),
    Column("race_number", "i2"),
    Column("nationality", "i2", "", "enums.NATIONALITIES"),
    Column("name", "O", "", "UTF-8, cut at the first NUL, invalid bytes replaced"),
    Column("your_telemetry", "i2", "", "0 restricted, 1 public"),
    Column("platform", "i2", "", "2023+"),
)

CAR_TELEMETRY: tuple[Column, ...] = (
    CAR_INDEX,
    Column("speed_kph", "f4", "km/h"),
    Column("throttle", "f4", "", "0..1"),
    Column("steer", "f4", "", "-1 (full left) .. 1 (full right)"),
    Column("brake", "f4", "", "0..1"),
    Column("clutch", "f4", "", "0..1"),
    Column("gear", "i2", "", "-1 reverse, 0 neutral"),
    Column("engine_rpm", "i4", "rpm"),
    Column("drs", "i2", "", "1 = open"),
    Column("rev_lights_percent", "i2", "%"),
    *_wheels("brakes_temperature_c", "f4", "degC", "brake temperature"),
    *_wheels("tyres_surface_temperature_c", "f4", "degC", "tyre surface temperature"),
    *_wheels("tyres_inner_temperature_c", "f4", "degC", "tyre inner temperature"),
    Column("engine_temperature_c", "f4", "degC"),
    *_wheels("tyres_pressure_psi", "f4", "psi", "tyre pressure"),
)

CAR_STATUS: tuple[Column, ...] = (
    CAR_INDEX,
    Column("traction_control", "i2"),
    Column("anti_lock_brakes", "i2"),
    Column("fuel_mix", "i2"),
    Column("front_brake_bias_pct", "i2", "%"),
    Column("pit_limiter_status", "i2"),
    Column("fuel_in_tank_kg", "f4", "kg"),
    Column("fuel_capacity_kg", "f4", "kg"),
    Column("fuel_remaining_laps", "f4", "laps"),
    Column("max_rpm", "i4", "rpm"),
    Column("idle_rpm", "i4", "rpm"),
    Column("max_gears", "i2"),
    Column("drs_allowed", "i2"),
    Column("drs_activation_distance_m", "i4", "m", "0 = DRS not available"),
    Column("actual_tyre_compound", "i2", "", "enums.ACTUAL_COMPOUNDS"),
    Column("visual_tyre_compound", "i2", "", "enums.VISUAL_COMPOUNDS"),
    Column("tyres_age_laps", "i2", "laps"),
    Column(
        "vehicle_fia_flags", "i2", "", "-1 invalid, 0 none, 1 green, 2 blue, 3 yellow"
    ),
    Column("ers_store_energy_j", "f4", "J"),
    Column("ers_deploy_mode", "i2"),
    Column("ers_harvested_this_lap_mguk_j", "f4", "J"),
    Column("ers_harvested_this_lap_mguh_j", "f4", "J"),
    Column("ers_deployed_this_lap_j", "f4", "J"),
)

CAR_DAMAGE: tuple[Column, ...] = (
    # Before 2021 these values came in the Car Status packet; the decoder emits
    # car_damage rows from it so the dashboard reads one table in every format.
    CAR_INDEX,
    *_wheels("tyres_wear_pct", "f4", "%", "tyre wear"),
    *_wheels("tyres_damage_pct", "f4", "%", "tyre damage"),
    *_wheels("brakes_damage_pct", "f4", "%", "brake damage"),
    Column("front_left_wing_damage_pct", "f4", "%"),
    Column("front_right_wing_damage_pct", "f4", "%"),
    Column("rear_wing_damage_pct", "f4", "%"),
    Column("floor_damage_pct", "f4", "%"),
    Column("diffuser_damage_pct", "f4", "%"),
    Column("sidepod_damage_pct", "f4", "%"),
    Column("drs_fault", "i2"),
    Column("ers_fault", "i2"),
    Column("gearbox_damage_pct", "f4", "%"),
    Column("engine_damage_pct", "f4", "%"),
)

FINAL_CLASSIFICATION: tuple[Column, ...] = (
    CAR_INDEX,
    Column("position", "i2"),
    Column("num_laps", "i2"),
    Column("grid_position", "i2"),
    Column("points", "i2"),
    Column("num_pit_stops", "i2"),
    Column("result_status", "i2", "", "enums.RESULT_STATUS"),
    Column("best_lap_time_s", "f8", "s"),
    Column("total_race_time_s", "f8", "s", "without penalties"),
    Column("penalties_time_s", "f4", "s"),
    Column("num_penalties", "i2"),
    Column("num_tyre_stints", "i2"),
)

SESSION_HISTORY: tuple[Column, ...] = (
    # One row per lap present in a Session History packet (one packet = one car).
    CAR_INDEX,
    Column("lap_number", "i2", "", "1-based"),
    Column("lap_time_s", "f8", "s"),
    Column("sector1_time_s", "f8", "s"),
    Column("sector2_time_s", "f8", "s"),
    Column("sector3_time_s", "f8", "s"),
    Column("lap_valid_flags", "i2", "", "bit 0 lap, 1 s1, 2 s2, 3 s3"),
    Column("best_lap_time_lap_num", "i2"),
)

TABLES: dict[str, tuple[Column, ...]] = {
    "motion": MOTION,
    "session": SESSION,
    "lap_data": LAP_DATA,
    "event": EVENT,
    "participants": PARTICIPANTS,
    "car_telemetry": CAR_TELEMETRY,
    "car_status": CAR_STATUS,
    "car_damage": CAR_DAMAGE,
    "final_classification": FINAL_CLASSIFICATION,
    "session_history": SESSION_HISTORY,
}
"""Decoded kinds the store keeps. The decoder may emit further kinds (car_setups,
lobby_info, tyre_sets, motion_ex, time_trial, lap_positions, car_telemetry_2); their
columns are defined next to their layouts."""


def columns_of(kind: str) -> tuple[Column, ...]:
    """All columns of a decoded kind in ``TABLES``, header first."""
    return HEADER_COLUMNS + TABLES[kind]
