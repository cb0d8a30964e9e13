"""packetFormat 2024 (F1 24, and F1 25 set to send 2024 packets): 22 cars.

Changes from 2023: Session gains 64 forecast samples, the assist/rule settings and
the sector start distances; Lap Data times become ``..._ms_part`` plus
``..._minutes_part`` (deltas too) and gain the speed trap; Event gains SCAR and COLL;
Participants and Lobby Info gain the tech level; Car Setups gain engine braking and
the next front wing value; Motion Ex gains aero heights, roll angles and chassis
yaw; Time Trial (id 14) appears.
"""

from __future__ import annotations

import numpy as np

from f1dash_tui.telemetry.layouts import f2023
from f1dash_tui.telemetry.layouts.common import HEADER_2023, packet, struct, union

PACKET_FORMAT = 2024
NUM_CARS = 22
HEADER = HEADER_2023
PACKET_ID_OFFSET = 6

SESSION_2024_TAIL = (
    "equal_car_performance u1 recovery_mode u1 flashback_limit u1 surface_type u1 "
    "low_fuel_mode u1 race_starts u1 tyre_temperature u1 pit_lane_tyre_sim u1 "
    "car_damage u1 car_damage_rate u1 collisions u1 "
    "collisions_off_for_first_lap_only u1 mp_unsafe_pit_release u1 "
    "mp_off_for_griefing u1 corner_cutting_stringency u1 parc_ferme_rules u1 "
    "pit_stop_experience u1 safety_car u1 safety_car_experience u1 formation_lap u1 "
    "formation_lap_experience u1 red_flags u1 affects_licence_level_solo u1 "
    "affects_licence_level_mp u1 num_sessions_in_weekend u1 weekend_structure u1[12] "
    "sector2_lap_distance_start f4 sector3_lap_distance_start f4 "
)
SESSION_2024 = (
    f2023.SESSION_START
    + "weather_forecast_samples Forecast[64] "
    + f2023.SESSION_AFTER_FORECAST
    + SESSION_2024_TAIL
)
LAP_DATA = struct(
    "last_lap_time_in_ms u4 current_lap_time_in_ms u4 sector1_time_ms_part u2 "
    "sector1_time_minutes_part u1 sector2_time_ms_part u2 sector2_time_minutes_part u1 "
    "delta_to_car_in_front_ms_part u2 delta_to_car_in_front_minutes_part u1 "
    "delta_to_race_leader_ms_part u2 delta_to_race_leader_minutes_part u1 "
    "lap_distance f4 total_distance f4 safety_car_delta f4 car_position u1 "
    "current_lap_num u1 pit_status u1 num_pit_stops u1 sector u1 "
    "current_lap_invalid u1 penalties u1 total_warnings u1 corner_cutting_warnings u1 "
    "num_unserved_drive_through_pens u1 num_unserved_stop_go_pens u1 grid_position u1 "
    "driver_status u1 result_status u1 pit_lane_timer_active u1 "
    "pit_lane_time_in_lane_in_ms u2 pit_stop_timer_in_ms u2 "
    "pit_stop_should_serve_pen u1 speed_trap_fastest_speed f4 speed_trap_fastest_lap u1"
)
EVENT_MEMBERS: dict[str, np.dtype] = {
    **f2023.EVENT_MEMBERS,
    "safety_car": struct("safety_car_type u1 event_type u1"),
    "collision": struct("vehicle1_idx u1 vehicle2_idx u1"),
}
PARTICIPANT = struct(
    "ai_controlled u1 driver_id u1 network_id u1 team_id u1 my_team u1 "
    "race_number u1 nationality u1 name S48 your_telemetry u1 show_online_names u1 "
    "tech_level u2 platform u1"
)
CAR_SETUP = struct(
    "front_wing u1 rear_wing u1 on_throttle u1 off_throttle u1 front_camber f4 "
    "rear_camber f4 front_toe f4 rear_toe f4 front_suspension u1 rear_suspension u1 "
    "front_anti_roll_bar u1 rear_anti_roll_bar u1 front_suspension_height u1 "
    "rear_suspension_height u1 brake_pressure u1 brake_bias u1 engine_braking u1 "
    "rear_left_tyre_pressure f4 rear_right_tyre_pressure f4 "
    "front_left_tyre_pressure f4 front_right_tyre_pressure f4 ballast u1 fuel_load f4"
)
LOBBY_INFO = struct(
    "ai_controlled u1 team_id u1 nationality u1 platform u1 name S48 car_number u1 "
    "your_telemetry u1 show_online_names u1 tech_level u2 ready_status u1"
)
LAP_HISTORY = struct(
    "lap_time_in_ms u4 sector1_time_ms_part u2 sector1_time_minutes_part u1 "
    "sector2_time_ms_part u2 sector2_time_minutes_part u1 sector3_time_ms_part u2 "
    "sector3_time_minutes_part u1 lap_valid_bit_flags u1"
)
MOTION_EX_2024 = f2023.MOTION_EX_2023 + (
    "front_aero_height f4 rear_aero_height f4 front_roll_angle f4 rear_roll_angle f4 "
    "chassis_yaw f4 "
)
TIME_TRIAL_DATA_SET = struct(
    "car_idx u1 team_id u1 lap_time_in_ms u4 sector1_time_in_ms u4 "
    "sector2_time_in_ms u4 sector3_time_in_ms u4 traction_control u1 gearbox_assist u1 "
    "anti_lock_brakes u1 equal_car_performance u1 custom_setup u1 valid u1"
)
TIME_TRIAL = (
    "player_session_best_data_set Set personal_best_data_set Set rival_data_set Set"
)

LAYOUTS: dict[int, np.dtype] = {
    **f2023.LAYOUTS,
    1: packet(
        HEADER,
        SESSION_2024,
        MarshalZone=f2023.MARSHAL_ZONE,
        Forecast=f2023.WEATHER_FORECAST_SAMPLE,
    ),
    2: packet(
        HEADER,
        "lap_data Car[22] time_trial_pb_car_idx u1 time_trial_rival_car_idx u1",
        Car=LAP_DATA,
    ),
    3: packet(
        HEADER,
        "event_string_code S4 event_details Details",
        Details=union(f2023.EVENT_DETAILS_SIZE, **EVENT_MEMBERS),
    ),
    4: packet(HEADER, "num_active_cars u1 participants Car[22]", Car=PARTICIPANT),
    5: packet(HEADER, "car_setups Car[22] next_front_wing_value f4", Car=CAR_SETUP),
    9: packet(HEADER, "num_players u1 lobby_players Car[22]", Car=LOBBY_INFO),
    11: packet(
        HEADER,
        f2023.SESSION_HISTORY_START,
        LapHistory=LAP_HISTORY,
        TyreStint=f2023.TYRE_STINT_HISTORY,
    ),
    13: packet(HEADER, MOTION_EX_2024),
    14: packet(HEADER, TIME_TRIAL, Set=TIME_TRIAL_DATA_SET),
}
