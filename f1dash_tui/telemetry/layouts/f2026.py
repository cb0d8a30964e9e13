"""packetFormat 2026 (F1 25 with the 2026 Season Pack): 24-car arrays.

Changes from 2025: every car array holds 24 cars; Motion g-forces are int16 in
thousandths of a g; Session gains active-aero and DRS zones and more assists;
Collision events gain a severity; Participant driver, network and team ids and the
Lobby/Time Trial team ids widen to uint16; Car Telemetry's engine temperature
shrinks to uint8; Car Status gains the per-lap harvest limit; Car Telemetry 2
(id 16) appears.
"""

from __future__ import annotations

import numpy as np

from f1dash_tui.telemetry.layouts import f2023, f2024, f2025
from f1dash_tui.telemetry.layouts.common import HEADER_2023, packet, struct, union

PACKET_FORMAT = 2026
NUM_CARS = 24
HEADER = HEADER_2023
PACKET_ID_OFFSET = 6

CAR_MOTION = struct(
    "world_position_x f4 world_position_y f4 world_position_z f4 "
    "world_velocity_x f4 world_velocity_y f4 world_velocity_z f4 "
    "world_forward_dir_x i2 world_forward_dir_y i2 world_forward_dir_z i2 "
    "world_right_dir_x i2 world_right_dir_y i2 world_right_dir_z i2 "
    "g_force_lateral i2 g_force_longitudinal i2 g_force_vertical i2 "
    "yaw f4 pitch f4 roll f4"
)
ZONE = struct("zone_start f4 zone_end f4")
SESSION_2026_TAIL = (
    "active_aero_track_status u1 num_active_aero_zones_full u1 "
    "active_aero_zones_full Zone[8] num_active_aero_zones_partial u1 "
    "active_aero_zones_partial Zone[8] num_drs_zones u1 drs_zones Zone[4] "
    "start_reaction_time f4 anti_lock_brakes_assist u1 traction_control_assist u1 "
    "dynamic_racing_line_hi_vis u1 dynamic_racing_line_colour_blind u1 "
    "recurring_rewind_prompt u1"
)
EVENT_MEMBERS: dict[str, np.dtype] = {
    **f2025.EVENT_MEMBERS,
    "collision": struct("vehicle1_idx u1 vehicle2_idx u1 severity u1"),
}
PARTICIPANT = struct(
    "ai_controlled u1 driver_id u2 network_id u2 team_id u2 my_team u1 "
    "race_number u1 nationality u1 name S32 your_telemetry u1 show_online_names u1 "
    "tech_level u2 platform u1 num_colours u1 livery_colours Colour[4]",
    Colour=f2025.LIVERY_COLOUR,
)
CAR_TELEMETRY = struct(
    "speed u2 throttle f4 steer f4 brake f4 clutch u1 gear i1 engine_rpm u2 drs u1 "
    "rev_lights_percent u1 rev_lights_bit_value u2 brakes_temperature u2[4] "
    "tyres_surface_temperature u1[4] tyres_inner_temperature u1[4] "
    "engine_temperature u1 tyres_pressure f4[4] surface_type u1[4]"
)
CAR_STATUS = struct(
    "traction_control u1 anti_lock_brakes u1 fuel_mix u1 front_brake_bias u1 "
    "pit_limiter_status u1 fuel_in_tank f4 fuel_capacity f4 fuel_remaining_laps f4 "
    "max_rpm u2 idle_rpm u2 max_gears u1 drs_allowed u1 drs_activation_distance u2 "
    "actual_tyre_compound u1 visual_tyre_compound u1 tyres_age_laps u1 "
    "vehicle_fia_flags i1 engine_power_ice f4 engine_power_mguk f4 "
    "ers_store_energy f4 ers_deploy_mode u1 ers_harvested_this_lap_mguk f4 "
    "ers_harvested_this_lap_mguh f4 ers_harvest_limit_per_lap f4 "
    "ers_deployed_this_lap f4 network_paused u1"
)
LOBBY_INFO = struct(
    "ai_controlled u1 team_id u2 nationality u1 platform u1 name S32 car_number u1 "
    "your_telemetry u1 show_online_names u1 tech_level u2 ready_status u1"
)
TIME_TRIAL_DATA_SET = struct(
    "car_idx u1 team_id u2 lap_time_in_ms u4 sector1_time_in_ms u4 "
    "sector2_time_in_ms u4 sector3_time_in_ms u4 traction_control u1 gearbox_assist u1 "
    "anti_lock_brakes u1 equal_car_performance u1 custom_setup u1 valid u1"
)
CAR_TELEMETRY_2 = struct(
    "active_aero_mode u1 active_aero_available u1 active_aero_activation_distance u2 "
    "overtake_available u1 overtake_active u1 overtake_activation_distance u2 "
    "2026_regulations u1 driving_wrong_way u1"
)

LAYOUTS: dict[int, np.dtype] = {
    0: packet(HEADER, "car_motion_data Car[24]", Car=CAR_MOTION),
    1: packet(
        HEADER,
        f2024.SESSION_2024 + SESSION_2026_TAIL,
        MarshalZone=f2023.MARSHAL_ZONE,
        Forecast=f2023.WEATHER_FORECAST_SAMPLE,
        Zone=ZONE,
    ),
    2: packet(
        HEADER,
        "lap_data Car[24] time_trial_pb_car_idx u1 time_trial_rival_car_idx u1",
        Car=f2024.LAP_DATA,
    ),
    3: packet(
        HEADER,
        "event_string_code S4 event_details Details",
        Details=union(f2023.EVENT_DETAILS_SIZE, **EVENT_MEMBERS),
    ),
    4: packet(HEADER, "num_active_cars u1 participants Car[24]", Car=PARTICIPANT),
    5: packet(
        HEADER, "car_setup_data Car[24] next_front_wing_value f4", Car=f2024.CAR_SETUP
    ),
    6: packet(
        HEADER,
        "car_telemetry_data Car[24] " + f2023.CAR_TELEMETRY_TRAILER,
        Car=CAR_TELEMETRY,
    ),
    7: packet(HEADER, "car_status_data Car[24]", Car=CAR_STATUS),
    8: packet(
        HEADER,
        "num_cars u1 classification_data Car[24]",
        Car=f2025.FINAL_CLASSIFICATION,
    ),
    9: packet(HEADER, "num_players u1 lobby_players Car[24]", Car=LOBBY_INFO),
    10: packet(HEADER, "car_damage_data Car[24]", Car=f2025.CAR_DAMAGE),
    11: f2025.LAYOUTS[11],
    12: f2025.LAYOUTS[12],
    13: f2025.LAYOUTS[13],
    14: packet(HEADER, f2024.TIME_TRIAL, Set=TIME_TRIAL_DATA_SET),
    15: packet(HEADER, "num_laps u1 lap_start u1 position_for_vehicle_idx u1[50][24]"),
    16: packet(HEADER, "car_telemetry2_data Car[24]", Car=CAR_TELEMETRY_2),
}
