"""packetFormat 2023 (F1 23, and F1 24/25 set to send 2023 packets): 22 cars.

Differences the normalisers must know: Lap Data and Session History send times as
``..._in_ms`` plus ``..._minutes`` (renamed ``..._ms_part``/``..._minutes_part`` in
2024), and the Lap Data deltas have no minutes part; no speed trap in Lap Data.
"""

from __future__ import annotations

import numpy as np

from f1dash_tui.telemetry.layouts.common import (
    HEADER_2023,
    Rows,
    car_array,
    lap_data_common,
    laps_present,
    packet,
    per_car_rows,
    seconds_from_ms,
    seconds_from_parts,
    session_history_rows,
    struct,
    union,
)

PACKET_FORMAT = 2023
NUM_CARS = 22
HEADER = HEADER_2023
PACKET_ID_OFFSET = 6

CAR_MOTION = struct(
    "world_position_x f4 world_position_y f4 world_position_z f4 "
    "world_velocity_x f4 world_velocity_y f4 world_velocity_z f4 "
    "world_forward_dir_x i2 world_forward_dir_y i2 world_forward_dir_z i2 "
    "world_right_dir_x i2 world_right_dir_y i2 world_right_dir_z i2 "
    "g_force_lateral f4 g_force_longitudinal f4 g_force_vertical f4 "
    "yaw f4 pitch f4 roll f4"
)
MARSHAL_ZONE = struct("zone_start f4 zone_flag i1")
WEATHER_FORECAST_SAMPLE = struct(
    "session_type u1 time_offset u1 weather u1 track_temperature i1 "
    "track_temperature_change i1 air_temperature i1 air_temperature_change i1 "
    "rain_percentage u1"
)
SESSION_START = (
    "weather u1 track_temperature i1 air_temperature i1 total_laps u1 "
    "track_length u2 session_type u1 track_id i1 formula u1 session_time_left u2 "
    "session_duration u2 pit_speed_limit u1 game_paused u1 is_spectating u1 "
    "spectator_car_index u1 sli_pro_native_support u1 num_marshal_zones u1 "
    "marshal_zones MarshalZone[21] safety_car_status u1 network_game u1 "
    "num_weather_forecast_samples u1 "
)
"""Session fields up to the forecast array, the same from 2023 to 2026."""
SESSION_AFTER_FORECAST = (
    "forecast_accuracy u1 ai_difficulty u1 season_link_identifier u4 "
    "weekend_link_identifier u4 session_link_identifier u4 "
    "pit_stop_window_ideal_lap u1 pit_stop_window_latest_lap u1 "
    "pit_stop_rejoin_position u1 steering_assist u1 braking_assist u1 "
    "gearbox_assist u1 pit_assist u1 pit_release_assist u1 ers_assist u1 "
    "drs_assist u1 dynamic_racing_line u1 dynamic_racing_line_type u1 game_mode u1 "
    "rule_set u1 time_of_day u4 session_length u1 speed_units_lead_player u1 "
    "temperature_units_lead_player u1 speed_units_secondary_player u1 "
    "temperature_units_secondary_player u1 num_safety_car_periods u1 "
    "num_virtual_safety_car_periods u1 num_red_flag_periods u1 "
)
LAP_DATA = struct(
    "last_lap_time_in_ms u4 current_lap_time_in_ms u4 sector1_time_in_ms u2 "
    "sector1_time_minutes u1 sector2_time_in_ms u2 sector2_time_minutes u1 "
    "delta_to_car_in_front_in_ms u2 delta_to_race_leader_in_ms u2 lap_distance f4 "
    "total_distance f4 safety_car_delta f4 car_position u1 current_lap_num u1 "
    "pit_status u1 num_pit_stops u1 sector u1 current_lap_invalid u1 penalties u1 "
    "total_warnings u1 corner_cutting_warnings u1 num_unserved_drive_through_pens u1 "
    "num_unserved_stop_go_pens u1 grid_position u1 driver_status u1 result_status u1 "
    "pit_lane_timer_active u1 pit_lane_time_in_lane_in_ms u2 pit_stop_timer_in_ms u2 "
    "pit_stop_should_serve_pen u1"
)
EVENT_MEMBERS: dict[str, np.dtype] = {
    "fastest_lap": struct("vehicle_idx u1 lap_time f4"),
    "retirement": struct("vehicle_idx u1"),
    "team_mate_in_pits": struct("vehicle_idx u1"),
    "race_winner": struct("vehicle_idx u1"),
    "penalty": struct(
        "penalty_type u1 infringement_type u1 vehicle_idx u1 other_vehicle_idx u1 "
        "time u1 lap_num u1 places_gained u1"
    ),
    "speed_trap": struct(
        "vehicle_idx u1 speed f4 is_overall_fastest_in_session u1 "
        "is_driver_fastest_in_session u1 fastest_vehicle_idx_in_session u1 "
        "fastest_speed_in_session f4"
    ),
    "start_lights": struct("num_lights u1"),
    "drive_through_penalty_served": struct("vehicle_idx u1"),
    "stop_go_penalty_served": struct("vehicle_idx u1"),
    "flashback": struct("flashback_frame_identifier u4 flashback_session_time f4"),
    "buttons": struct("button_status u4"),
    "overtake": struct("overtaking_vehicle_idx u1 being_overtaken_vehicle_idx u1"),
}
EVENT_DETAILS_SIZE = 12
"""The details union is as large as its largest member (speed trap, 12 bytes)."""

PARTICIPANT = struct(
    "ai_controlled u1 driver_id u1 network_id u1 team_id u1 my_team u1 "
    "race_number u1 nationality u1 name S48 your_telemetry u1 show_online_names u1 "
    "platform u1"
)
CAR_SETUP = struct(
    "front_wing u1 rear_wing u1 on_throttle u1 off_throttle u1 front_camber f4 "
    "rear_camber f4 front_toe f4 rear_toe f4 front_suspension u1 rear_suspension u1 "
    "front_anti_roll_bar u1 rear_anti_roll_bar u1 front_suspension_height u1 "
    "rear_suspension_height u1 brake_pressure u1 brake_bias u1 "
    "rear_left_tyre_pressure f4 rear_right_tyre_pressure f4 "
    "front_left_tyre_pressure f4 front_right_tyre_pressure f4 ballast u1 fuel_load f4"
)
CAR_TELEMETRY = struct(
    "speed u2 throttle f4 steer f4 brake f4 clutch u1 gear i1 engine_rpm u2 drs u1 "
    "rev_lights_percent u1 rev_lights_bit_value u2 brakes_temperature u2[4] "
    "tyres_surface_temperature u1[4] tyres_inner_temperature u1[4] "
    "engine_temperature u2 tyres_pressure f4[4] surface_type u1[4]"
)
CAR_TELEMETRY_TRAILER = (
    "mfd_panel_index u1 mfd_panel_index_secondary_player u1 suggested_gear i1"
)
CAR_STATUS = struct(
    "traction_control u1 anti_lock_brakes u1 fuel_mix u1 front_brake_bias u1 "
    "pit_limiter_status u1 fuel_in_tank f4 fuel_capacity f4 fuel_remaining_laps f4 "
    "max_rpm u2 idle_rpm u2 max_gears u1 drs_allowed u1 drs_activation_distance u2 "
    "actual_tyre_compound u1 visual_tyre_compound u1 tyres_age_laps u1 "
    "vehicle_fia_flags i1 engine_power_ice f4 engine_power_mguk f4 "
    "ers_store_energy f4 ers_deploy_mode u1 ers_harvested_this_lap_mguk f4 "
    "ers_harvested_this_lap_mguh f4 ers_deployed_this_lap f4 network_paused u1"
)
FINAL_CLASSIFICATION = struct(
    "position u1 num_laps u1 grid_position u1 points u1 num_pit_stops u1 "
    "result_status u1 best_lap_time_in_ms u4 total_race_time f8 penalties_time u1 "
    "num_penalties u1 num_tyre_stints u1 tyre_stints_actual u1[8] "
    "tyre_stints_visual u1[8] tyre_stints_end_laps u1[8]"
)
LOBBY_INFO = struct(
    "ai_controlled u1 team_id u1 nationality u1 platform u1 name S48 car_number u1 "
    "ready_status u1"
)
CAR_DAMAGE_WHEELS = "tyres_wear f4[4] tyres_damage u1[4] brakes_damage u1[4] "
CAR_DAMAGE_REST = (
    "front_left_wing_damage u1 front_right_wing_damage u1 rear_wing_damage u1 "
    "floor_damage u1 diffuser_damage u1 sidepod_damage u1 drs_fault u1 ers_fault u1 "
    "gear_box_damage u1 engine_damage u1 engine_mguh_wear u1 engine_es_wear u1 "
    "engine_ce_wear u1 engine_ice_wear u1 engine_mguk_wear u1 engine_tc_wear u1 "
    "engine_blown u1 engine_seized u1"
)
CAR_DAMAGE = struct(CAR_DAMAGE_WHEELS + CAR_DAMAGE_REST)
LAP_HISTORY = struct(
    "lap_time_in_ms u4 sector1_time_in_ms u2 sector1_time_minutes u1 "
    "sector2_time_in_ms u2 sector2_time_minutes u1 sector3_time_in_ms u2 "
    "sector3_time_minutes u1 lap_valid_bit_flags u1"
)
TYRE_STINT_HISTORY = struct(
    "end_lap u1 tyre_actual_compound u1 tyre_visual_compound u1"
)
SESSION_HISTORY_START = (
    "car_idx u1 num_laps u1 num_tyre_stints u1 best_lap_time_lap_num u1 "
    "best_sector1_lap_num u1 best_sector2_lap_num u1 best_sector3_lap_num u1 "
    "lap_history_data LapHistory[100] tyre_stints_history_data TyreStint[8]"
)
TYRE_SET = struct(
    "actual_tyre_compound u1 visual_tyre_compound u1 wear u1 available u1 "
    "recommended_session u1 life_span u1 usable_life u1 lap_delta_time i2 fitted u1"
)
MOTION_EX_2023 = (
    "suspension_position f4[4] suspension_velocity f4[4] "
    "suspension_acceleration f4[4] wheel_speed f4[4] wheel_slip_ratio f4[4] "
    "wheel_slip_angle f4[4] wheel_lat_force f4[4] wheel_long_force f4[4] "
    "height_of_cog_above_ground f4 local_velocity_x f4 local_velocity_y f4 "
    "local_velocity_z f4 angular_velocity_x f4 angular_velocity_y f4 "
    "angular_velocity_z f4 angular_acceleration_x f4 angular_acceleration_y f4 "
    "angular_acceleration_z f4 front_wheels_angle f4 wheel_vert_force f4[4] "
)

LAYOUTS: dict[int, np.dtype] = {
    0: packet(HEADER, "car_motion_data Car[22]", Car=CAR_MOTION),
    1: packet(
        HEADER,
        SESSION_START
        + "weather_forecast_samples Forecast[56] "
        + SESSION_AFTER_FORECAST,
        MarshalZone=MARSHAL_ZONE,
        Forecast=WEATHER_FORECAST_SAMPLE,
    ),
    2: packet(
        HEADER,
        "lap_data Car[22] time_trial_pb_car_idx u1 time_trial_rival_car_idx u1",
        Car=LAP_DATA,
    ),
    3: packet(
        HEADER,
        "event_string_code S4 event_details Details",
        Details=union(EVENT_DETAILS_SIZE, **EVENT_MEMBERS),
    ),
    4: packet(HEADER, "num_active_cars u1 participants Car[22]", Car=PARTICIPANT),
    5: packet(HEADER, "car_setups Car[22]", Car=CAR_SETUP),
    6: packet(
        HEADER, "car_telemetry_data Car[22] " + CAR_TELEMETRY_TRAILER, Car=CAR_TELEMETRY
    ),
    7: packet(HEADER, "car_status_data Car[22]", Car=CAR_STATUS),
    8: packet(
        HEADER, "num_cars u1 classification_data Car[22]", Car=FINAL_CLASSIFICATION
    ),
    9: packet(HEADER, "num_players u1 lobby_players Car[22]", Car=LOBBY_INFO),
    10: packet(HEADER, "car_damage_data Car[22]", Car=CAR_DAMAGE),
    11: packet(
        HEADER,
        SESSION_HISTORY_START,
        LapHistory=LAP_HISTORY,
        TyreStint=TYRE_STINT_HISTORY,
    ),
    12: packet(HEADER, "car_idx u1 tyre_set_data Set[20] fitted_idx u1", Set=TYRE_SET),
    13: packet(HEADER, MOTION_EX_2023),
}


def normalise_lap_data(records: np.ndarray) -> dict[str, Rows]:
    """Lap Data 2023: sector times in ms + minutes, deltas in ms only."""
    cars = car_array(records)
    packet_row, car_index = per_car_rows(records, cars)
    columns = {
        "car_index": car_index,
        "last_lap_time_s": seconds_from_ms(cars["last_lap_time_in_ms"]),
        "current_lap_time_s": seconds_from_ms(cars["current_lap_time_in_ms"]),
        "sector1_time_s": seconds_from_parts(
            cars["sector1_time_in_ms"], cars["sector1_time_minutes"]
        ),
        "sector2_time_s": seconds_from_parts(
            cars["sector2_time_in_ms"], cars["sector2_time_minutes"]
        ),
        "delta_to_car_in_front_s": seconds_from_ms(cars["delta_to_car_in_front_in_ms"]),
        "delta_to_race_leader_s": seconds_from_ms(cars["delta_to_race_leader_in_ms"]),
        **lap_data_common(cars),
    }
    return {"lap_data": Rows(columns, packet_row, cars.shape[1])}


def normalise_session_history(records: np.ndarray) -> dict[str, Rows]:
    """Session History 2023: sector times as ``..._in_ms`` + ``..._minutes``."""
    packet_row, lap_offset, laps = laps_present(records)
    sector_times_s = [
        seconds_from_parts(
            laps[f"sector{n}_time_in_ms"], laps[f"sector{n}_time_minutes"]
        )
        for n in (1, 2, 3)
    ]
    return {
        "session_history": session_history_rows(
            records, packet_row, lap_offset, laps, sector_times_s
        )
    }


NORMALISERS = {2: normalise_lap_data, 11: normalise_session_history}
