"""The Melbourne 2026 clip (F1 25 with the 2026 Season Pack, 24-car arrays, 22 cars)
decoded as one batch, checked against SOURCES.md and against values read by hand
at the byte offsets the 2026 specification gives (header 29 bytes; per car: motion
54, lap data 57, participant 60, telemetry 59 bytes)."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from f1dash_tui.telemetry import enums
from f1dash_tui.telemetry.decode import DecodedBatch, Decoder
from f1dash_tui.telemetry.pcap import read_pcap

HEADER = 29
ACTIVE_CARS = 22
PLAYER = 21
SURNAMES = {
    "PIASTRI", "ALONSO", "HULKENBERG", "LAWSON", "ANTONELLI", "VERSTAPPEN",
    "HADJAR", "COLAPINTO", "PÉREZ", "BEARMAN", "SAINZ", "BORTOLETO", "OCON",
    "RUSSELL", "LINDBLAD", "ALBON", "HAMILTON", "LECLERC", "STROLL", "GASLY",
    "BOTTAS", "NORRIS",
}  # fmt: skip


@pytest.fixture(scope="module")
def datagrams(melbourne_pcap: Path) -> list[bytes]:
    return [captured.payload for captured in read_pcap(melbourne_pcap)]


@pytest.fixture(scope="module")
def decoded(datagrams: list[bytes]) -> tuple[Decoder, DecodedBatch]:
    decoder = Decoder()
    return decoder, decoder.decode(datagrams)


def _of_id(datagrams: list[bytes], packet_id: int) -> list[bytes]:
    return [d for d in datagrams if d[6] == packet_id]


def test_every_datagram_decodes(decoded: tuple[Decoder, DecodedBatch]) -> None:
    decoder, batch = decoded
    assert batch.num_datagrams == 7124  # SOURCES.md
    assert batch.num_decoded == 7124
    assert not decoder.bad
    # no Final Classification, Lobby Info or Time Trial in a race clip (their
    # sizes are the "?" of SOURCES.md)
    assert {pid for _, pid in decoder.decoded} == set(range(17)) - {8, 9, 14}
    for table in batch.tables.values():
        assert set(table["packet_format"].tolist()) == {2026}
        assert set(table["player_car_index"].tolist()) == {PLAYER}
        assert table["session_time_s"].min() >= 82.0
        assert table["session_time_s"].max() <= 104.0


def test_session_is_a_five_lap_race_at_melbourne(
    decoded: tuple[Decoder, DecodedBatch], datagrams: list[bytes]
) -> None:
    session = decoded[1].tables["session"]
    assert len(session["track_id"]) == len(_of_id(datagrams, 1))
    assert set(session["track_id"].tolist()) == {0}
    assert enums.track_name(0) == "Melbourne"
    assert set(session["session_type"].tolist()) == {15}
    assert enums.session_type_name(2026, 15) == "Race"
    assert set(session["total_laps"].tolist()) == {5}
    assert set(session["track_length_m"].tolist()) == {5276}
    raw = _of_id(datagrams, 1)[0]
    assert struct.unpack_from("<BbbBHBb", raw, HEADER) == (
        session["weather"][0],
        session["track_temperature_c"][0],
        session["air_temperature_c"][0],
        5,
        5276,
        15,
        0,
    )
    # sector starts (2024+) lie inside the 5,276 m lap, sector 2 before sector 3
    assert session["sector2_lap_distance_start_m"][0] > 0
    assert (
        session["sector2_lap_distance_start_m"][0]
        < (session["sector3_lap_distance_start_m"][0])
    )
    assert session["sector3_lap_distance_start_m"][0] < 5276


def test_participants_are_the_22_drivers(
    decoded: tuple[Decoder, DecodedBatch], datagrams: list[bytes]
) -> None:
    table = decoded[1].tables["participants"]
    raw_packets = _of_id(datagrams, 4)
    assert len(table["name"]) == 24 * len(raw_packets)  # all 24 slots are rows
    assert set(table["num_active_cars"].tolist()) == {ACTIVE_CARS}
    active = table["car_index"] < ACTIVE_CARS
    assert set(table["name"][active].tolist()) == SURNAMES
    assert set(table["name"][~active].tolist()) == {""}
    raw = raw_packets[0]
    assert raw[HEADER] == ACTIVE_CARS
    for car in range(ACTIVE_CARS):
        base = HEADER + 1 + car * 60
        name = raw[base + 10 : base + 42].split(b"\0")[0].decode()
        assert table["name"][car] == name
        driver_id, network_id, team_id = struct.unpack_from("<HHH", raw, base + 1)
        assert table["driver_id"][car] == driver_id
        assert table["network_id"][car] == (network_id if network_id < 32768 else -1)
        assert table["team_id"][car] == team_id
        assert table["race_number"][car] == raw[base + 8]
        assert table["nationality"][car] == raw[base + 9]
    assert table["name"][PLAYER] == "NORRIS"


def test_car_telemetry_in_range_and_at_spec_offsets(
    decoded: tuple[Decoder, DecodedBatch], datagrams: list[bytes]
) -> None:
    table = decoded[1].tables["car_telemetry"]
    raw_packets = _of_id(datagrams, 6)
    assert len(table["speed_kph"]) == 24 * len(raw_packets)
    assert table["speed_kph"].min() >= 0 and table["speed_kph"].max() <= 360
    assert table["gear"].min() >= -1 and table["gear"].max() <= 8
    active = table["car_index"] < ACTIVE_CARS
    assert table["speed_kph"][active].max() > 250  # a race at racing speed
    assert np.all((table["throttle"] >= 0) & (table["throttle"] <= 1))
    assert np.all((table["clutch"] >= 0) & (table["clutch"] <= 1))
    for packet_number in (0, len(raw_packets) // 2, len(raw_packets) - 1):
        raw = raw_packets[packet_number]
        row = packet_number * 24 + PLAYER
        base = HEADER + PLAYER * 59
        speed, throttle, steer, brake, clutch, gear, rpm = struct.unpack_from(
            "<HfffBbH", raw, base
        )
        assert table["car_index"][row] == PLAYER
        assert table["speed_kph"][row] == speed
        assert table["throttle"][row] == np.float32(throttle)
        assert table["steer"][row] == np.float32(steer)
        assert table["brake"][row] == np.float32(brake)
        assert table["clutch"][row] == pytest.approx(clutch / 100)
        assert table["gear"][row] == gear
        assert table["engine_rpm"][row] == rpm
        brakes = struct.unpack_from("<4H", raw, base + 22)
        assert table["brakes_temperature_c_rl"][row] == brakes[0]
        assert table["brakes_temperature_c_fr"][row] == brakes[3]
        assert table["engine_temperature_c"][row] == raw[base + 38]
        pressures = struct.unpack_from("<4f", raw, base + 39)
        assert table["tyres_pressure_psi_rr"][row] == np.float32(pressures[1])


def test_lap_data_positions_laps_and_times(
    decoded: tuple[Decoder, DecodedBatch], datagrams: list[bytes]
) -> None:
    table = decoded[1].tables["lap_data"]
    raw_packets = _of_id(datagrams, 2)
    positions = table["car_position"].reshape(len(raw_packets), 24)
    for packet_positions in positions:
        # the 22 active cars hold positions 1..22 exactly once
        assert sorted(packet_positions[:ACTIVE_CARS].tolist()) == list(range(1, 23))
    laps = table["current_lap_num"].reshape(len(raw_packets), 24)[:, :ACTIVE_CARS]
    assert laps.min() >= 1 and laps.max() <= 5
    raw = raw_packets[-1]
    base = HEADER + PLAYER * 57
    last_ms, current_ms, s1_ms, s1_min, s2_ms, s2_min = struct.unpack_from(
        "<IIHBHB", raw, base
    )
    row = (len(raw_packets) - 1) * 24 + PLAYER
    assert table["last_lap_time_s"][row] == pytest.approx(last_ms / 1000)
    assert table["current_lap_time_s"][row] == pytest.approx(current_ms / 1000)
    assert table["sector1_time_s"][row] == pytest.approx(s1_min * 60 + s1_ms / 1000)
    assert table["sector2_time_s"][row] == pytest.approx(s2_min * 60 + s2_ms / 1000)
    (lap_distance,) = struct.unpack_from("<f", raw, base + 20)
    assert table["lap_distance_m"][row] == np.float32(lap_distance)
    assert table["current_lap_time_s"][row] > 0


def test_motion_directions_are_unit_vectors(
    decoded: tuple[Decoder, DecodedBatch], datagrams: list[bytes]
) -> None:
    table = decoded[1].tables["motion"]
    active = table["car_index"] < ACTIVE_CARS
    forward = np.stack([table[f"world_forward_dir_{a}"][active] for a in "xyz"])
    right = np.stack([table[f"world_right_dir_{a}"][active] for a in "xyz"])
    # int16 / 32767 gives unit vectors, perpendicular to each other
    assert np.allclose(np.linalg.norm(forward, axis=0), 1, atol=0.01)
    assert np.allclose(np.linalg.norm(right, axis=0), 1, atol=0.01)
    assert np.allclose((forward * right).sum(axis=0), 0, atol=0.02)
    # quantised g-forces (thousandths of a g in 2026) stay within a few g
    for component in ("lateral", "longitudinal", "vertical"):
        assert np.abs(table[f"g_force_{component}"][active]).max() < 8
    raw = _of_id(datagrams, 0)[0]
    base = HEADER + PLAYER * 54
    x, y, z = struct.unpack_from("<3f", raw, base)
    g_lat, g_long, g_vert = struct.unpack_from("<3h", raw, base + 36)
    assert table["world_position_x_m"][PLAYER] == np.float32(x)
    assert table["world_position_y_m"][PLAYER] == np.float32(y)
    assert table["world_position_z_m"][PLAYER] == np.float32(z)
    assert table["g_force_longitudinal"][PLAYER] == pytest.approx(g_long / 1000)
    assert table["g_force_lateral"][PLAYER] == pytest.approx(g_lat / 1000)
    assert table["g_force_vertical"][PLAYER] == pytest.approx(g_vert / 1000)


def test_events_of_the_clip(decoded: tuple[Decoder, DecodedBatch]) -> None:
    events = decoded[1].tables["event"]
    assert set(events["event_code"].tolist()) == {"BUTN", "FTLP", "OVTK", "SPTP"}
    speed_traps = events["event_code"] == "SPTP"
    assert np.all(events["speed_kph"][speed_traps] > 200)
    assert np.all(events["speed_kph"][speed_traps] < 360)
    overtakes = events["event_code"] == "OVTK"
    assert np.all(events["vehicle_index"][overtakes] < ACTIVE_CARS)
    assert np.all(events["other_vehicle_index"][overtakes] < ACTIVE_CARS)
    fastest = events["event_code"] == "FTLP"
    # a Melbourne lap is over 75 s
    assert np.all(events["lap_time_s"][fastest] > 75)
    assert np.all(events["button_status"][events["event_code"] == "BUTN"] >= 0)


def test_status_damage_history_and_2026_kinds(
    decoded: tuple[Decoder, DecodedBatch],
) -> None:
    tables = decoded[1].tables
    status = tables["car_status"]
    active = status["car_index"] < ACTIVE_CARS
    assert set(status["actual_tyre_compound"][active].tolist()) <= set(
        enums.ACTUAL_COMPOUNDS
    )
    assert np.all(status["max_rpm"][active] > status["idle_rpm"][active])
    damage = tables["car_damage"]
    assert damage["tyres_wear_pct_rl"].min() >= 0
    assert damage["tyres_wear_pct_fr"].max() <= 100
    history = tables["session_history"]
    assert history["lap_number"].min() == 1 and history["lap_number"].max() <= 5
    assert set(history["car_index"].tolist()) <= set(range(ACTIVE_CARS))
    telemetry_2 = tables["car_telemetry_2"]
    assert set(telemetry_2["regulations_2026"][telemetry_2["car_index"] < 22]) == {1}
    tyre_sets = tables["tyre_sets"]
    assert set(tyre_sets["set_index"].tolist()) == set(range(20))
    positions = tables["lap_positions"]
    assert positions["lap_number"].min() >= 1
