"""Built -> decoded with chosen values: units made uniform across 2023-2026 (times in
seconds from ms and minutes parts, direction and g-force quantisation, clutch, wheel
order) and every kind's rows."""

from __future__ import annotations

import numpy as np
import pytest

from f1dash_tui.telemetry.build import build_packet
from f1dash_tui.telemetry.decode import Decoder

CARS = {2023: 22, 2024: 22, 2025: 22, 2026: 24}


def decode_one(raw: bytes, kind: str) -> dict[str, np.ndarray]:
    decoder = Decoder()
    batch = decoder.decode([raw])
    assert not decoder.bad
    return batch.tables[kind]


@pytest.mark.parametrize("packet_format", [2024, 2025, 2026])
def test_lap_times_from_ms_and_minutes_parts(packet_format: int) -> None:
    raw = build_packet(
        packet_format,
        2,
        lap_data={
            "last_lap_time_in_ms": 83_456,
            "current_lap_time_in_ms": 12_345,
            "sector1_time_ms_part": 23_456,
            "sector1_time_minutes_part": 1,
            "sector2_time_ms_part": 59_999,
            "sector2_time_minutes_part": 0,
            "delta_to_car_in_front_ms_part": 500,
            "delta_to_car_in_front_minutes_part": 0,
            "delta_to_race_leader_ms_part": 1_500,
            "delta_to_race_leader_minutes_part": 2,
            "pit_lane_time_in_lane_in_ms": 20_150,
            "pit_stop_timer_in_ms": 2_400,
            "speed_trap_fastest_speed": 321.5,
            "car_position": np.arange(1, CARS[packet_format] + 1),
        },
    )
    table = decode_one(raw, "lap_data")
    assert table["last_lap_time_s"][0] == pytest.approx(83.456)
    assert table["current_lap_time_s"][0] == pytest.approx(12.345)
    assert table["sector1_time_s"][0] == pytest.approx(83.456)
    assert table["sector2_time_s"][0] == pytest.approx(59.999)
    assert table["delta_to_car_in_front_s"][0] == pytest.approx(0.5)
    assert table["delta_to_race_leader_s"][0] == pytest.approx(121.5)
    assert table["pit_lane_time_in_lane_s"][0] == pytest.approx(20.15)
    assert table["pit_stop_timer_s"][0] == pytest.approx(2.4)
    assert table["speed_trap_fastest_kph"][0] == pytest.approx(321.5)
    assert table["car_position"].tolist() == list(range(1, CARS[packet_format] + 1))


def test_lap_times_2023_have_minutes_but_deltas_in_ms_only() -> None:
    raw = build_packet(
        2023,
        2,
        lap_data={
            "sector1_time_in_ms": 23_456,
            "sector1_time_minutes": 1,
            "sector2_time_in_ms": 30_000,
            "sector2_time_minutes": 0,
            "delta_to_car_in_front_in_ms": 1_500,
            "delta_to_race_leader_in_ms": 65_000,
        },
    )
    table = decode_one(raw, "lap_data")
    assert table["sector1_time_s"][0] == pytest.approx(83.456)
    assert table["sector2_time_s"][0] == pytest.approx(30.0)
    assert table["delta_to_car_in_front_s"][0] == pytest.approx(1.5)
    assert table["delta_to_race_leader_s"][0] == pytest.approx(65.0)
    assert np.isnan(table["speed_trap_fastest_kph"]).all()


@pytest.mark.parametrize("packet_format", [2023, 2024, 2025, 2026])
def test_motion_quantisation(packet_format: int) -> None:
    g_force = -1500 if packet_format == 2026 else -1.5  # 2026: thousandths of a g
    raw = build_packet(
        packet_format,
        0,
        car_motion_data={
            "world_forward_dir_x": 32767,
            "world_forward_dir_y": -16384,
            "world_right_dir_z": -32767,
            "g_force_lateral": g_force,
            "yaw": 1.25,
            "world_position_x": -123.5,
        },
    )
    table = decode_one(raw, "motion")
    assert len(table["car_index"]) == CARS[packet_format]
    assert table["world_forward_dir_x"][0] == pytest.approx(1.0)
    assert table["world_forward_dir_y"][0] == pytest.approx(-0.5, abs=1e-4)
    assert table["world_right_dir_z"][0] == pytest.approx(-1.0)
    assert table["g_force_lateral"][0] == pytest.approx(-1.5)
    assert table["yaw_rad"][0] == 1.25
    assert table["world_position_x_m"][0] == -123.5


@pytest.mark.parametrize("packet_format", [2023, 2026])
def test_telemetry_wheels_in_rl_rr_fl_fr_order(packet_format: int) -> None:
    raw = build_packet(
        packet_format,
        6,
        car_telemetry_data={
            "brakes_temperature": [100, 200, 300, 400],
            "tyres_surface_temperature": [81, 82, 83, 84],
            "tyres_inner_temperature": [91, 92, 93, 94],
            "tyres_pressure": [21.5, 22.5, 23.5, 24.5],
            "clutch": 50,
            "gear": -1,
            "speed": 312,
            "engine_temperature": 110,
        },
    )
    table = decode_one(raw, "car_telemetry")
    row = 5
    assert [
        table[f"brakes_temperature_c_{w}"][row] for w in ("rl", "rr", "fl", "fr")
    ] == [
        100,
        200,
        300,
        400,
    ]
    assert table["tyres_surface_temperature_c_fl"][row] == 83
    assert table["tyres_inner_temperature_c_fr"][row] == 94
    assert table["tyres_pressure_psi_rr"][row] == 22.5
    assert table["clutch"][row] == pytest.approx(0.5)
    assert table["gear"][row] == -1
    assert table["speed_kph"][row] == 312
    assert table["engine_temperature_c"][row] == 110


def test_participants_2026_wide_ids() -> None:
    raw = build_packet(
        2026,
        4,
        num_active_cars=2,
        participants={
            "driver_id": [65535, 9] + [0] * 22,
            "team_id": [476, 486] + [0] * 22,
            "network_id": [40000, 7] + [0] * 22,
            "name": ["PLAYER", "VERSTAPPEN"] + [""] * 22,
            "platform": 3,
        },
    )
    table = decode_one(raw, "participants")
    assert table["driver_id"][:2].tolist() == [255, 9]  # 65535 = network human
    assert table["team_id"][:2].tolist() == [476, 486]
    assert table["network_id"][:2].tolist() == [-1, 7]  # beyond int16: unknown
    assert table["name"][:2].tolist() == ["PLAYER", "VERSTAPPEN"]
    assert set(table["num_active_cars"].tolist()) == {2}
    assert set(table["platform"].tolist()) == {3}


@pytest.mark.parametrize("packet_format", [2023, 2024, 2025, 2026])
def test_session_history_one_row_per_lap(packet_format: int) -> None:
    laps = {
        "lap_time_in_ms": [90_000, 88_500, 87_250] + [0] * 97,
        "lap_valid_bit_flags": [15, 15, 14] + [0] * 97,
    }
    if packet_format == 2023:
        laps |= {"sector1_time_in_ms": 29_000, "sector3_time_minutes": 1}
    else:
        laps |= {"sector1_time_ms_part": 29_000, "sector3_time_minutes_part": 1}
    raw = build_packet(
        packet_format,
        11,
        car_idx=7,
        num_laps=3,
        best_lap_time_lap_num=3,
        lap_history_data=laps,
    )
    table = decode_one(raw, "session_history")
    assert table["lap_number"].tolist() == [1, 2, 3]
    assert table["car_index"].tolist() == [7, 7, 7]
    assert table["lap_time_s"].tolist() == pytest.approx([90.0, 88.5, 87.25])
    assert table["sector1_time_s"].tolist() == pytest.approx([29.0] * 3)
    assert table["sector3_time_s"].tolist() == pytest.approx([60.0] * 3)
    assert table["lap_valid_flags"].tolist() == [15, 15, 14]
    assert table["best_lap_time_lap_num"].tolist() == [3, 3, 3]


def test_session_history_num_laps_beyond_100_is_capped() -> None:
    raw = build_packet(2026, 11, num_laps=250)
    assert len(decode_one(raw, "session_history")["lap_number"]) == 100


@pytest.mark.parametrize("packet_format", [2023, 2025])
def test_final_classification(packet_format: int) -> None:
    raw = build_packet(
        packet_format,
        8,
        num_cars=20,
        classification_data={
            "position": np.arange(1, 23),
            "best_lap_time_in_ms": 81_234,
            "total_race_time": 5_432.125,
            "result_status": 3,
            "penalties_time": 5,
        },
    )
    table = decode_one(raw, "final_classification")
    assert table["position"].tolist() == list(range(1, 23))
    assert table["best_lap_time_s"][0] == pytest.approx(81.234)
    assert table["total_race_time_s"][0] == 5_432.125
    assert table["penalties_time_s"][0] == 5


def test_tyre_sets_time_trial_lap_positions() -> None:
    tyre_sets = decode_one(
        build_packet(
            2026, 12, car_idx=3, tyre_set_data={"lap_delta_time": -250, "wear": 12}
        ),
        "tyre_sets",
    )
    assert len(tyre_sets["set_index"]) == 20
    assert set(tyre_sets["car_index"].tolist()) == {3}
    assert tyre_sets["lap_delta_time_s"][0] == pytest.approx(-0.25)
    time_trial = decode_one(
        build_packet(
            2026,
            14,
            personal_best_data_set={"lap_time_in_ms": 78_900, "team_id": 484},
            rival_data_set={"sector2_time_in_ms": 25_000},
        ),
        "time_trial",
    )
    assert time_trial["data_set"].tolist() == [0, 1, 2]
    assert time_trial["lap_time_s"][1] == pytest.approx(78.9)
    assert time_trial["team_id"][1] == 484
    assert time_trial["sector2_time_s"][2] == pytest.approx(25.0)
    positions = np.zeros((50, 22), dtype=np.uint8)
    positions[0] = np.arange(1, 23)
    positions[1] = np.arange(22, 0, -1)
    lap_positions = decode_one(
        build_packet(
            2025, 15, num_laps=2, lap_start=3, position_for_vehicle_idx=positions
        ),
        "lap_positions",
    )
    assert len(lap_positions["position"]) == 2 * 22
    assert lap_positions["lap_number"].tolist() == [4] * 22 + [5] * 22
    assert lap_positions["position"][:22].tolist() == list(range(1, 23))
    assert lap_positions["position"][22] == 22


def test_motion_ex_and_car_telemetry_2() -> None:
    motion_ex = decode_one(
        build_packet(
            2025,
            13,
            header={"player_car_index": 4},
            wheel_speed=[10.0, 11.0, 12.0, 13.0],
            chassis_pitch=0.01,
            wheel_camber=[-0.05, -0.05, -0.06, -0.06],
        ),
        "motion_ex",
    )
    assert motion_ex["car_index"].tolist() == [4]
    assert motion_ex["wheel_speed_fl"][0] == 12.0
    assert motion_ex["chassis_pitch_rad"][0] == pytest.approx(0.01)
    assert motion_ex["wheel_camber_rad_fr"][0] == pytest.approx(-0.06)
    older = decode_one(build_packet(2023, 13), "motion_ex")
    assert np.isnan(older["chassis_pitch_rad"][0])
    assert np.isnan(older["wheel_camber_rad_rl"][0])
    telemetry_2 = decode_one(
        build_packet(
            2026,
            16,
            car_telemetry2_data={
                "overtake_activation_distance": 350,
                "2026_regulations": 1,
            },
        ),
        "car_telemetry_2",
    )
    assert len(telemetry_2["car_index"]) == 24
    assert set(telemetry_2["overtake_activation_distance_m"].tolist()) == {350}
    assert set(telemetry_2["regulations_2026"].tolist()) == {1}


EVENTS = {
    "FTLP": ("fastest_lap", {"vehicle_idx": 5, "lap_time": 80.5}),
    "PENA": (
        "penalty",
        {
            "penalty_type": 4,
            "infringement_type": 7,
            "vehicle_idx": 2,
            "other_vehicle_idx": 255,
            "time": 5,
            "lap_num": 12,
            "places_gained": 1,
        },
    ),
    "SPTP": ("speed_trap", {"vehicle_idx": 9, "speed": 330.25}),
    "STLG": ("start_lights", {"num_lights": 4}),
    "FLBK": (
        "flashback",
        {"flashback_frame_identifier": 4_000_000_000, "flashback_session_time": 61.5},
    ),
    "BUTN": ("buttons", {"button_status": 0x80000001}),
    "OVTK": (
        "overtake",
        {"overtaking_vehicle_idx": 3, "being_overtaken_vehicle_idx": 8},
    ),
    "SCAR": ("safety_car", {"safety_car_type": 2, "event_type": 1}),
    "COLL": ("collision", {"vehicle1_idx": 11, "vehicle2_idx": 12}),
    "RTMT": ("retirement", {"vehicle_idx": 6, "reason": 8}),
    "DRSD": ("drs_disabled", {"reason": 1}),
    "SGSV": ("stop_go_penalty_served", {"vehicle_idx": 4, "stop_time": 10.5}),
}
EXPECTED = {
    "FTLP": {"vehicle_index": 5, "lap_time_s": 80.5},
    "PENA": {
        "penalty_type": 4,
        "infringement_type": 7,
        "vehicle_index": 2,
        "other_vehicle_index": -1,
        "time_s": 5,
        "lap_number": 12,
        "places_gained": 1,
    },
    "SPTP": {"vehicle_index": 9, "speed_kph": 330.25},
    "STLG": {"num_lights": 4},
    "FLBK": {"flashback_frame": 4_000_000_000, "flashback_session_time_s": 61.5},
    "BUTN": {"button_status": 0x80000001},
    "OVTK": {"vehicle_index": 3, "other_vehicle_index": 8},
    "SCAR": {"safety_car_type": 2, "safety_car_event_type": 1},
    "COLL": {"vehicle_index": 11, "other_vehicle_index": 12},
    "RTMT": {"vehicle_index": 6, "reason": 8},
    "DRSD": {"reason": 1},
    "SGSV": {"vehicle_index": 4, "time_s": 10.5},
}
SINCE = {"SCAR": 2024, "COLL": 2024, "DRSD": 2025}


@pytest.mark.parametrize("packet_format", [2023, 2024, 2025, 2026])
def test_event_details_round_trip(packet_format: int) -> None:
    codes = [code for code in EVENTS if SINCE.get(code, 2023) <= packet_format]
    datagrams = []
    for code in codes:
        member, fields = EVENTS[code]
        if packet_format < 2025 and code in ("RTMT", "SGSV"):
            fields = {"vehicle_idx": fields["vehicle_idx"]}  # reason/time from 2025
        datagrams.append(
            build_packet(
                packet_format,
                3,
                event_string_code=code,
                event_details={member: fields},
            )
        )
    decoder = Decoder()
    table = decoder.decode(datagrams).tables["event"]
    assert not decoder.bad
    assert table["event_code"].tolist() == codes
    for row, code in enumerate(codes):
        expected = dict(EXPECTED[code])
        if packet_format < 2025 and code in ("RTMT", "SGSV"):
            # the reason and the stop time arrived in 2025
            expected.pop("reason", None)
            expected.pop("time_s", None)
        for column, value in expected.items():
            assert table[column][row] == pytest.approx(value), (code, column)


@pytest.mark.parametrize("packet_format", [2023, 2024, 2025, 2026])
def test_car_status_and_damage(packet_format: int) -> None:
    status = decode_one(
        build_packet(
            packet_format,
            7,
            car_status_data={
                "fuel_in_tank": 42.5,
                "front_brake_bias": 56,
                "max_rpm": 13_000,
                "idle_rpm": 4_000,
                "drs_activation_distance": 450,
                "actual_tyre_compound": 18,
                "visual_tyre_compound": 17,
                "tyres_age_laps": 7,
                "vehicle_fia_flags": -1,
                "ers_store_energy": 3.5e6,
                "ers_deployed_this_lap": 1.25e6,
            },
        ),
        "car_status",
    )
    assert len(status["car_index"]) == CARS[packet_format]
    assert status["fuel_in_tank_kg"][3] == 42.5
    assert status["front_brake_bias_pct"][3] == 56
    assert (status["max_rpm"][3], status["idle_rpm"][3]) == (13_000, 4_000)
    assert status["drs_activation_distance_m"][3] == 450
    assert (status["actual_tyre_compound"][3], status["visual_tyre_compound"][3]) == (
        18,
        17,
    )
    assert status["tyres_age_laps"][3] == 7
    assert status["vehicle_fia_flags"][3] == -1
    assert status["ers_store_energy_j"][3] == 3.5e6
    assert status["ers_deployed_this_lap_j"][3] == 1.25e6
    damage = decode_one(
        build_packet(
            packet_format,
            10,
            car_damage_data={
                "tyres_wear": [10.5, 20.5, 30.5, 40.5],
                "tyres_damage": [1, 2, 3, 4],
                "brakes_damage": [5, 6, 7, 8],
                "front_left_wing_damage": 25,
                "rear_wing_damage": 9,
                "floor_damage": 11,
                "drs_fault": 1,
                "gear_box_damage": 33,
                "engine_damage": 44,
            },
        ),
        "car_damage",
    )
    assert damage["tyres_wear_pct_fl"][0] == 30.5
    assert damage["tyres_damage_pct_rr"][0] == 2
    assert damage["brakes_damage_pct_fr"][0] == 8
    assert damage["front_left_wing_damage_pct"][0] == 25
    assert damage["rear_wing_damage_pct"][0] == 9
    assert damage["floor_damage_pct"][0] == 11
    assert damage["drs_fault"][0] == 1
    assert damage["gearbox_damage_pct"][0] == 33
    assert damage["engine_damage_pct"][0] == 44


@pytest.mark.parametrize("packet_format", [2023, 2024, 2025, 2026])
def test_car_setups_and_lobby_info(packet_format: int) -> None:
    array = "car_setups" if packet_format < 2025 else "car_setup_data"
    setups = decode_one(
        build_packet(
            packet_format,
            5,
            **{
                array: {
                    "front_wing": 30,
                    "rear_camber": -1.5,
                    "brake_bias": 55,
                    "rear_left_tyre_pressure": 21.0,
                    "front_right_tyre_pressure": 23.5,
                    "fuel_load": 10.5,
                }
            },
        ),
        "car_setups",
    )
    assert setups["front_wing"][1] == 30
    assert setups["rear_camber_deg"][1] == -1.5
    assert setups["brake_bias_pct"][1] == 55
    assert setups["tyre_pressure_psi_rl"][1] == 21.0
    assert setups["tyre_pressure_psi_fr"][1] == 23.5
    assert setups["fuel_load_kg"][1] == 10.5
    assert setups["engine_braking_pct"][1] == (-1 if packet_format == 2023 else 0)
    lobby = decode_one(
        build_packet(
            packet_format,
            9,
            num_players=2,
            lobby_players={
                "name": ["HOST", "GUEST"] + [""] * (CARS[packet_format] - 2),
                "team_id": 8,
                "ready_status": [1, 2] + [0] * (CARS[packet_format] - 2),
                "car_number": 44,
            },
        ),
        "lobby_info",
    )
    assert lobby["name"][:2].tolist() == ["HOST", "GUEST"]
    assert lobby["ready_status"][:2].tolist() == [1, 2]
    assert set(lobby["team_id"].tolist()) == {8}
    assert set(lobby["num_players"].tolist()) == {2}
    assert lobby["car_number"][0] == 44
