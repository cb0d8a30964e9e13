"""packetFormat 2025 (F1 25): 22 cars.

Changes from 2024: Event details gain the retirement and DRS-disabled reasons and
the stop-go time; Participants names shrink to 32 bytes and gain livery colours;
Final Classification gains the result reason; Lobby Info names shrink to 32 bytes;
Car Damage gains tyre blisters; Motion Ex gains chassis pitch and wheel camber;
Lap Positions (id 15) appears.
"""

from __future__ import annotations

import numpy as np

from f1dash_tui.telemetry.layouts import f2023, f2024
from f1dash_tui.telemetry.layouts.common import HEADER_2023, packet, struct, union

PACKET_FORMAT = 2025
NUM_CARS = 22
HEADER = HEADER_2023
PACKET_ID_OFFSET = 6

EVENT_MEMBERS: dict[str, np.dtype] = {
    **f2024.EVENT_MEMBERS,
    "retirement": struct("vehicle_idx u1 reason u1"),
    "drs_disabled": struct("reason u1"),
    "stop_go_penalty_served": struct("vehicle_idx u1 stop_time f4"),
}
LIVERY_COLOUR = struct("red u1 green u1 blue u1")
PARTICIPANT = struct(
    "ai_controlled u1 driver_id u1 network_id u1 team_id u1 my_team u1 "
    "race_number u1 nationality u1 name S32 your_telemetry u1 show_online_names u1 "
    "tech_level u2 platform u1 num_colours u1 livery_colours Colour[4]",
    Colour=LIVERY_COLOUR,
)
FINAL_CLASSIFICATION = struct(
    "position u1 num_laps u1 grid_position u1 points u1 num_pit_stops u1 "
    "result_status u1 result_reason u1 best_lap_time_in_ms u4 total_race_time f8 "
    "penalties_time u1 num_penalties u1 num_tyre_stints u1 tyre_stints_actual u1[8] "
    "tyre_stints_visual u1[8] tyre_stints_end_laps u1[8]"
)
LOBBY_INFO = struct(
    "ai_controlled u1 team_id u1 nationality u1 platform u1 name S32 car_number u1 "
    "your_telemetry u1 show_online_names u1 tech_level u2 ready_status u1"
)
CAR_DAMAGE = struct(
    f2023.CAR_DAMAGE_WHEELS + "tyre_blisters u1[4] " + f2023.CAR_DAMAGE_REST
)
MOTION_EX_2025 = f2024.MOTION_EX_2024 + (
    "chassis_pitch f4 wheel_camber f4[4] wheel_camber_gain f4[4]"
)

LAYOUTS: dict[int, np.dtype] = {
    **f2024.LAYOUTS,
    3: packet(
        HEADER,
        "event_string_code S4 event_details Details",
        Details=union(f2023.EVENT_DETAILS_SIZE, **EVENT_MEMBERS),
    ),
    4: packet(HEADER, "num_active_cars u1 participants Car[22]", Car=PARTICIPANT),
    5: packet(
        HEADER, "car_setup_data Car[22] next_front_wing_value f4", Car=f2024.CAR_SETUP
    ),
    8: packet(
        HEADER, "num_cars u1 classification_data Car[22]", Car=FINAL_CLASSIFICATION
    ),
    9: packet(HEADER, "num_players u1 lobby_players Car[22]", Car=LOBBY_INFO),
    10: packet(HEADER, "car_damage_data Car[22]", Car=CAR_DAMAGE),
    13: packet(HEADER, MOTION_EX_2025),
    15: packet(HEADER, "num_laps u1 lap_start u1 position_for_vehicle_idx u1[50][22]"),
}
