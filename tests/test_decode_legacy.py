"""Packet formats 2018-2022: layout sizes, decoding of every real packet, values read
by hand at the specification's byte offsets, and build -> decode round trips."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from f1dash_tui.telemetry import build, packets
from f1dash_tui.telemetry.decode import DecodedBatch, Decoder
from f1dash_tui.telemetry.layouts import f2018, f2019, f2020, f2021, f2022
from f1dash_tui.telemetry.pcap import read_pcap

LEGACY_FORMATS = (2018, 2019, 2020, 2021, 2022)
MODULES = {2018: f2018, 2019: f2019, 2020: f2020, 2021: f2021, 2022: f2022}
HEADER_SIZES = {2018: 21, 2019: 23, 2020: 24, 2021: 24, 2022: 24}
NUM_CARS = {2018: 20, 2019: 20, 2020: 22, 2021: 22, 2022: 22}
PLAYER_CAR_IN_RS_TELEMETRY = 19  # SOURCES.md: the player is car 19 in 2019/2020


def sources_size_table(f1_udp_dir: Path) -> dict[tuple[int, int], int]:
    """(packetFormat, packetId) -> size from the table in SOURCES.md."""
    sizes: dict[tuple[int, int], int] = {}
    lines = (f1_udp_dir / "SOURCES.md").read_text().splitlines()
    start = lines.index("## Packet sizes (bytes) by packetFormat and packetId")
    header = next(line for line in lines[start:] if line.startswith("| id |"))
    years = [int(cell) for cell in header.strip("|").split("|")[2:]]
    for line in lines[start:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not cells[0].isdigit():
            continue
        for year, cell in zip(years, cells[2:], strict=True):
            if cell.isdigit():
                sizes[(year, int(cells[0]))] = int(cell)
    return sizes


def test_layout_sizes_are_the_sources_table(f1_udp_dir: Path) -> None:
    table = sources_size_table(f1_udp_dir)
    assert len([key for key in table if key[0] == 2022]) == 12  # the parse worked
    for packet_format in LEGACY_FORMATS:
        expected = {
            pid: size for (fmt, pid), size in table.items() if fmt == packet_format
        }
        layouts = MODULES[packet_format].LAYOUTS
        assert set(layouts) == set(expected), packet_format
        for packet_id, size in expected.items():
            assert packets.layout_for(packet_format, packet_id).itemsize == size, (
                packet_format,
                packet_id,
            )


@pytest.mark.parametrize("packet_format", LEGACY_FORMATS)
def test_header_and_car_array_lengths(packet_format: int) -> None:
    module = MODULES[packet_format]
    assert module.HEADER.itemsize == HEADER_SIZES[packet_format]
    assert module.HEADER.fields["packet_id"][1] == module.PACKET_ID_OFFSET
    assert packets.PACKET_ID_OFFSETS[packet_format] == module.PACKET_ID_OFFSET
    for packet_id, layout in module.LAYOUTS.items():
        assert layout.names[0] == "header"
        assert layout["header"] == module.HEADER
        car_arrays = [
            layout[name].shape[0]
            for name in layout.names
            if layout[name].shape
            and layout[name].base.names is not None
            and layout[name].shape[0] >= 20
        ]
        if packet_id not in (1, 3, 11):  # session, event, session history
            assert car_arrays == [NUM_CARS[packet_format]], packet_id


def legacy_datagrams(f1_udp_dir: Path) -> Iterator[tuple[str, bytes]]:
    """(source, payload) of every real 2018-2022 packet in the shared data."""
    folders = {
        "f1-telemetry-rs": "*.bin",
        "ris-f12021": "*.bin",
        "f1-game-packet-parser": "2022-*.bin",
    }
    for folder, pattern in folders.items():
        for path in sorted((f1_udp_dir / "packets" / folder).glob(pattern)):
            yield f"{folder}/{path.name}", path.read_bytes()
    for year in LEGACY_FORMATS:
        stream = f1_udp_dir / "streams" / f"samples-{year}.pcap"
        for number, datagram in enumerate(read_pcap(stream)):
            yield f"{stream.name}#{number}", datagram.payload


def test_every_real_legacy_packet_decodes(f1_udp_dir: Path) -> None:
    _sources, datagrams = zip(*legacy_datagrams(f1_udp_dir), strict=True)
    # 42 f1-telemetry-rs + 11 ris-f12021 + 28 f1-game-packet-parser 2022 files, and
    # 13 + 9 + 9 + 9 + 17 sample datagrams.
    assert len(datagrams) == 42 + 11 + 28 + 57
    decoder = Decoder()
    batch = decoder.decode(list(datagrams))
    assert decoder.bad == {}
    assert sum(decoder.decoded.values()) == len(datagrams)
    formats = {int.from_bytes(d[:2], "little") for d in datagrams}
    assert formats == set(LEGACY_FORMATS)
    # Every packet id each format has is among the real packets.
    for packet_format in LEGACY_FORMATS:
        decoded_ids = {pid for fmt, pid in decoder.decoded if fmt == packet_format}
        assert decoded_ids == set(MODULES[packet_format].LAYOUTS), packet_format
    # Physical ranges on every car row of every real telemetry packet.
    telemetry = batch.tables["car_telemetry"]
    assert np.all((telemetry["speed_kph"] >= 0) & (telemetry["speed_kph"] <= 360))
    assert np.all((telemetry["gear"] >= -1) & (telemetry["gear"] <= 8))
    assert np.all((telemetry["throttle"] >= 0) & (telemetry["throttle"] <= 1))
    assert np.all((telemetry["brake"] >= 0) & (telemetry["brake"] <= 1))
    assert np.all(np.abs(telemetry["steer"]) <= 1.0001)
    assert np.all(telemetry["engine_rpm"] <= 15000)
    lap_data = batch.tables["lap_data"]
    assert np.all(lap_data["last_lap_time_s"] < 400)  # seconds, never milliseconds
    assert np.all(lap_data["sector1_time_s"] < 200)
    assert np.all(lap_data["car_position"] <= 22)


def decode_one(datagram: bytes) -> DecodedBatch:
    decoder = Decoder()
    batch = decoder.decode([datagram])
    assert decoder.bad == {}
    return batch


@pytest.mark.parametrize(
    ("year", "header_size", "car_size"), [(2019, 23, 66), (2020, 24, 58)]
)
def test_player_car_19_telemetry_read_at_spec_offsets(
    f1_udp_dir: Path, year: int, header_size: int, car_size: int
) -> None:
    path = f1_udp_dir / "packets" / "f1-telemetry-rs"
    raw = (path / f"test_parse_{year}_car_telemetry_packet.bin").read_bytes()
    table = decode_one(raw).tables["car_telemetry"]
    assert len(table["car_index"]) == NUM_CARS[year]
    player = PLAYER_CAR_IN_RS_TELEMETRY
    assert table["player_car_index"][0] == player
    # CarTelemetryData starts: speed u16, throttle/steer/brake f32, clutch u8,
    # gear i8, engineRPM u16.
    offset = header_size + player * car_size
    speed, throttle, steer, brake, _clutch, gear, rpm = struct.unpack_from(
        "<HfffBbH", raw, offset
    )
    row = table["car_index"].tolist().index(player)
    assert table["speed_kph"][row] == speed
    assert table["gear"][row] == gear
    assert table["engine_rpm"][row] == rpm
    assert table["throttle"][row] == throttle and table["brake"][row] == brake
    assert table["steer"][row] == pytest.approx(steer)
    # What those bytes say, read by hand: 219 km/h in 5th at 11,264 rpm (2019,
    # frame 873, off throttle); 14 km/h in 1st at 4,319 rpm (2020, frame 2974).
    expected = {2019: (219, 5, 11264, 873), 2020: (14, 1, 4319, 2974)}[year]
    assert (speed, gear, rpm, table["frame"][0]) == expected


@pytest.mark.parametrize("year", [2019, 2020, 2021, 2022])
def test_player_motion_agrees_with_player_telemetry(
    f1_udp_dir: Path, year: int
) -> None:
    """The Motion and Car Telemetry files of each year are of the same frame: the
    player's forward velocity (Motion's player block, emitted as motion_ex) must
    be the speed Car Telemetry reports, which the game truncates to whole km/h."""
    folder = f1_udp_dir / "packets" / "f1-telemetry-rs"
    tables = (
        Decoder()
        .decode(
            [
                (folder / f"test_parse_{year}_motion_packet.bin").read_bytes(),
                (folder / f"test_parse_{year}_car_telemetry_packet.bin").read_bytes(),
            ]
        )
        .tables
    )
    motion_ex, telemetry = tables["motion_ex"], tables["car_telemetry"]
    assert motion_ex["frame"][0] == telemetry["frame"][0]
    player = int(motion_ex["car_index"][0])
    assert player == PLAYER_CAR_IN_RS_TELEMETRY
    forward_kph = abs(float(motion_ex["local_velocity_z_mps"][0])) * 3.6
    assert 0 <= forward_kph - telemetry["speed_kph"][player] < 1.0
    assert len(tables["motion"]["car_index"]) == NUM_CARS[year]


def test_2018_samples_race_at_monza(f1_udp_dir: Path) -> None:
    datagrams = [d.payload for d in read_pcap(f1_udp_dir / "streams/samples-2018.pcap")]
    batch = Decoder().decode(datagrams)
    session = batch.tables["session"]
    # Monza (trackId 11), race (sessionType 10), 5 laps, modern era (formula 0).
    assert session["track_id"].tolist() == [11]
    assert session["session_type"].tolist() == [10]
    assert session["total_laps"].tolist() == [5]
    assert session["formula"].tolist() == [0]
    assert batch.tables["event"]["event_code"].tolist() == ["SSTA"]
    participants = batch.tables["participants"]
    assert participants["num_active_cars"][0] == 20
    assert "L. HAMILTON" in participants["name"].tolist()
    assert np.all(participants["your_telemetry"] == -1)  # not in 2018
    assert np.all(participants["network_id"] == -1)
    # The overall frame is the frame before 2023.
    assert np.array_equal(session["overall_frame"], session["frame"])


def test_pre_2021_car_status_also_yields_damage_rows(f1_udp_dir: Path) -> None:
    # CarStatusData offsets of tyresWear[4] by the specifications: 2018 after
    # 5 u8 + 2 f32 + 2 u16 + 2 u8 = 19; 2019 adds fuelRemainingLaps (23); 2020
    # adds drsActivationDistance (25). Wing damage follows tyresDamage[4].
    layouts = {
        2018: (21, 52, 19, 28, 23),
        2019: (23, 56, 23, 33, 27),
        2020: (24, 60, 25, 36, 29),
    }
    for year, (header_size, car_size, wear_at, wing_at, compound_at) in layouts.items():
        stream = f1_udp_dir / "streams" / f"samples-{year}.pcap"
        raw = next(
            d.payload
            for d in read_pcap(stream)
            if packets.peek_format_and_id(d.payload) == (year, 7)
        )
        batch = decode_one(raw)
        status, damage = batch.tables["car_status"], batch.tables["car_damage"]
        assert len(damage["car_index"]) == len(status["car_index"]) == NUM_CARS[year]
        for car in (0, 7, NUM_CARS[year] - 1):
            base = header_size + car * car_size
            wear = struct.unpack_from("<4B", raw, base + wear_at)
            decoded_wear = [damage[f"tyres_wear_pct_{w}"][car] for w in WHEEL_ORDER]
            assert decoded_wear == list(wear)
            assert damage["front_left_wing_damage_pct"][car] == raw[base + wing_at]
            assert status["actual_tyre_compound"][car] == raw[base + compound_at]
        assert np.all(damage["floor_damage_pct"] != damage["floor_damage_pct"])  # NaN
        assert np.all(damage["tyres_wear_pct_rl"] <= 100)


WHEEL_ORDER = ("rl", "rr", "fl", "fr")


@pytest.mark.parametrize(
    ("year", "car_size", "fmt", "to_seconds"),
    [
        (2019, 41, "<ffff", (1, 1, 1, 1)),  # last, current, best, sector1: float s
        (2020, 53, "<ffHH", (1, 1, 1e-3, 1e-3)),  # last, current f32; sectors ms
        (2021, 43, "<IIHH", (1e-3, 1e-3, 1e-3, 1e-3)),  # all ms
        (2022, 43, "<IIHH", (1e-3, 1e-3, 1e-3, 1e-3)),
    ],
)
def test_lap_times_in_seconds_in_every_format(
    f1_udp_dir: Path,
    year: int,
    car_size: int,
    fmt: str,
    to_seconds: tuple[float, ...],
) -> None:
    raw = (
        f1_udp_dir / "packets" / "f1-telemetry-rs" / f"test_parse_{year}_lap_packet.bin"
    ).read_bytes()
    laps = decode_one(raw).tables["lap_data"]
    header_size = HEADER_SIZES[year]
    for car in range(NUM_CARS[year]):
        values = struct.unpack_from(fmt, raw, header_size + car * car_size)
        seconds = [
            value * scale for value, scale in zip(values, to_seconds, strict=True)
        ]
        assert laps["last_lap_time_s"][car] == pytest.approx(seconds[0], abs=1e-4)
        assert laps["current_lap_time_s"][car] == pytest.approx(seconds[1], abs=1e-4)
        sector1 = seconds[3] if year == 2019 else seconds[2]
        assert laps["sector1_time_s"][car] == pytest.approx(sector1, abs=1e-4)
    assert np.all(laps["last_lap_time_s"] < 300)
    if year >= 2021:
        assert np.all(laps["num_pit_stops"] >= 0)
    else:
        assert np.all(laps["num_pit_stops"] == -1)  # not sent before 2021
        assert np.all(np.isnan(laps["pit_lane_time_in_lane_s"]))


def test_2022_sample_holds_a_race_end(f1_udp_dir: Path) -> None:
    datagrams = [d.payload for d in read_pcap(f1_udp_dir / "streams/samples-2022.pcap")]
    batch = Decoder().decode(datagrams)
    session = batch.tables["session"]
    assert session["session_type"].tolist() == [10]  # race in 2021-2022 numbering
    assert session["track_id"].tolist() == [29]  # Jeddah
    events = batch.tables["event"]
    codes = events["event_code"].tolist()
    assert "CHQF" in codes and "SEND" in codes and "RCWN" in codes
    winner = int(events["vehicle_index"][codes.index("RCWN")])
    lights = int(events["num_lights"][codes.index("STLG")])
    assert 1 <= lights <= 5
    classification = batch.tables["final_classification"]
    first = classification["datagram_index"] == classification["datagram_index"][0]
    num_cars = int((classification["position"][first] > 0).sum())
    assert num_cars == 20
    positions = classification["position"][first][:num_cars]
    assert sorted(positions.tolist()) == list(range(1, num_cars + 1))
    assert np.all(classification["result_status"][first][:num_cars] == 3)  # finished
    assert np.all(classification["num_laps"][first][:num_cars] == 3)
    car_of = dict(zip(positions.tolist(), range(num_cars), strict=True))
    assert car_of[1] == winner  # the RCWN event names the classified winner
    points = classification["points"][first]
    assert points[car_of[1]] == 25
    assert points[car_of[2]] in (18, 19)  # 19 with the fastest-lap point
    race_time = classification["total_race_time_s"][first]
    assert race_time[car_of[1]] == race_time[:num_cars].min()
    # The session history of one car agrees with its classified best lap.
    history = batch.tables["session_history"]
    car = int(history["car_index"][0])
    best = history["lap_time_s"][
        (history["car_index"] == car) & (history["lap_time_s"] > 0)
    ]
    assert classification["best_lap_time_s"][first][car] == pytest.approx(best.min())


def test_2022_event_files_decode_their_details(f1_udp_dir: Path) -> None:
    folder = f1_udp_dir / "packets" / "f1-game-packet-parser"
    paths = sorted(folder.glob("2022-03-*.bin"))
    codes_in_names = [path.stem.split("-")[2] for path in paths]
    assert set(codes_in_names) <= set(f2022.EVENT_CODES)
    for path, code in zip(paths, codes_in_names, strict=True):
        raw = path.read_bytes()
        event = decode_one(raw).tables["event"]
        assert event["event_code"].tolist() == [code]
        details = 24 + 4  # header, code
        vehicle = raw[details]
        if code in ("FTLP", "RTMT", "TMPT", "RCWN", "SPTP", "DTSV", "SGSV"):
            assert event["vehicle_index"][0] == vehicle < 22, code
        if code == "PENA":  # penaltyType, infringementType, vehicleIdx, ...
            assert event["penalty_type"][0] == raw[details]
            assert event["vehicle_index"][0] == raw[details + 2]
            assert event["time_s"][0] == raw[details + 4]
        if code == "FTLP":
            (lap_time,) = struct.unpack_from("<f", raw, details + 1)
            assert event["lap_time_s"][0] == pytest.approx(lap_time)
            assert 60 < lap_time < 200
        if code == "SPTP":
            (speed,) = struct.unpack_from("<f", raw, details + 1)
            assert event["speed_kph"][0] == pytest.approx(speed)
            assert 150 < speed < 360
        if code == "STLG":
            assert 1 <= event["num_lights"][0] == raw[details] <= 5
        if code == "FLBK":
            frame, session_time = struct.unpack_from("<If", raw, details)
            assert event["flashback_frame"][0] == frame
            assert event["flashback_session_time_s"][0] == pytest.approx(session_time)
        if code == "BUTN":
            assert (
                event["button_status"][0] == struct.unpack_from("<I", raw, details)[0]
            )
        if code in ("SSTA", "SEND", "DRSE", "DRSD", "CHQF", "LGOT"):
            assert event["vehicle_index"][0] == -1  # no details


EVENTS_WITH_VEHICLE = ("FTLP", "RTMT", "TMPT", "RCWN", "SPTP", "DTSV", "SGSV")


@pytest.mark.parametrize(
    "name",
    [
        "f1-telemetry-rs/test_parse_2019_event_packet.bin",
        "f1-telemetry-rs/test_parse_2020_event_packet.bin",
        "f1-telemetry-rs/test_parse_2021_event_packet.bin",
        "f1-telemetry-rs/test_parse_2022_event_packet.bin",
        "ris-f12021/event_packet.bin",
        "ris-f12021/event_sptp.bin",
    ],
)
def test_event_files_decode_their_code_and_details(f1_udp_dir: Path, name: str) -> None:
    raw = (f1_udp_dir / "packets" / name).read_bytes()
    packet_format = int.from_bytes(raw[:2], "little")
    header_size = HEADER_SIZES[packet_format]
    code = raw[header_size : header_size + 4].decode("ascii")
    assert code in MODULES[packet_format].EVENT_CODES
    event = decode_one(raw).tables["event"]
    assert event["event_code"].tolist() == [code]
    details = header_size + 4
    if code in EVENTS_WITH_VEHICLE:
        assert event["vehicle_index"][0] == raw[details] < NUM_CARS[packet_format]
    if code == "SPTP":
        (speed,) = struct.unpack_from("<f", raw, details + 1)
        assert event["speed_kph"][0] == pytest.approx(speed) and 100 < speed < 370
    if code == "BUTN":
        (buttons,) = struct.unpack_from("<I", raw, details)
        assert event["button_status"][0] == buttons
    if code == "FTLP":
        (lap_time,) = struct.unpack_from("<f", raw, details + 1)
        assert event["lap_time_s"][0] == pytest.approx(lap_time) and 60 < lap_time < 200
    if code == "PENA":  # penaltyType, infringementType, vehicleIdx, otherVehicleIdx
        assert event["penalty_type"][0] == raw[details]
        assert event["infringement_type"][0] == raw[details + 1]
        assert event["vehicle_index"][0] == raw[details + 2] < NUM_CARS[packet_format]


# --- build -> decode round trips ----------------------------------------------


SESSION_UID = 0xF1F1_0000_0000_2018


def _header_values(packet_format: int) -> dict[str, object]:
    return {
        "session_uid": SESSION_UID,
        "session_time": 123.5,
        "frame_identifier": 4567,
        "player_car_index": 3,
    }


def _round_trip(
    packet_format: int, packet_id: int, **fields: object
) -> dict[str, dict[str, np.ndarray]]:
    raw = build.build_packet(
        packet_format, packet_id, header=_header_values(packet_format), **fields
    )
    batch = decode_one(raw)
    for table in batch.tables.values():
        assert table["packet_format"][0] == packet_format
        # The uint64 UID's bits as int64 (the top bit is set: a negative int64).
        uid_bits = np.array([SESSION_UID], dtype=np.uint64).view(np.int64)[0]
        assert table["session_uid"][0] == uid_bits < 0
        assert table["session_time_s"][0] == 123.5
        assert table["frame"][0] == table["overall_frame"][0] == 4567
        assert table["player_car_index"][0] == 3
    return batch.tables


def _per_car(packet_format: int, scale: float, offset: float = 0) -> np.ndarray:
    return np.arange(NUM_CARS[packet_format]) * scale + offset


@pytest.mark.parametrize("packet_format", LEGACY_FORMATS)
def test_round_trip_motion_and_session(packet_format: int) -> None:
    cars = NUM_CARS[packet_format]
    motion_tables = _round_trip(
        packet_format,
        0,
        car_motion_data={
            "world_position_x": _per_car(packet_format, 10, 0.5),
            "world_forward_dir_y": -32767,
            "world_right_dir_z": 16384,
            "g_force_lateral": 2.5,
            "yaw": -1.25,
        },
        wheel_speed=[61.0, 62.0, 63.0, 64.0],
        wheel_slip=[0.0, 0.0, 0.25, 0.0],
        front_wheels_angle=0.125,
    )
    motion, player = motion_tables["motion"], motion_tables["motion_ex"]
    assert player["car_index"].tolist() == [3]  # the header's player car
    speeds = [player[f"wheel_speed_{wheel}"][0] for wheel in WHEEL_ORDER]
    assert speeds == [61.0, 62.0, 63.0, 64.0]
    assert player["wheel_slip_ratio_fl"][0] == 0.25
    assert player["front_wheels_angle_rad"][0] == 0.125
    assert motion["car_index"].tolist() == list(range(cars))
    assert (
        motion["world_position_x_m"].tolist()
        == _per_car(packet_format, 10, 0.5).tolist()
    )
    assert np.all(motion["world_forward_dir_y"] == -1.0)
    assert np.allclose(motion["world_right_dir_z"], 16384 / 32767)
    assert np.all(motion["g_force_lateral"] == 2.5) and np.all(
        motion["yaw_rad"] == -1.25
    )
    formula_field = "era" if packet_format == 2018 else "formula"
    session = _round_trip(
        packet_format,
        1,
        track_id=7,
        total_laps=52,
        track_length=5891,
        session_type=10,
        air_temperature=-3,
        session_time_left=3600,
        pit_speed_limit=80,
        **{formula_field: 1},
    )["session"]
    assert session["track_id"][0] == 7 and session["total_laps"][0] == 52
    assert session["track_length_m"][0] == 5891 and session["session_type"][0] == 10
    assert session["air_temperature_c"][0] == -3 and session["formula"][0] == 1
    assert session["session_time_left_s"][0] == 3600.0
    assert session["pit_speed_limit_kph"][0] == 80


LAP_FIELDS = {
    # format: (fields of LapData setting last lap 83.5 s and sector 1 30.123 s)
    2018: {"last_lap_time": 83.5, "sector1_time": 30.123},
    2019: {"last_lap_time": 83.5, "sector1_time": 30.123},
    2020: {"last_lap_time": 83.5, "sector1_time_in_ms": 30123},
    2021: {"last_lap_time_in_ms": 83500, "sector1_time_in_ms": 30123},
    2022: {"last_lap_time_in_ms": 83500, "sector1_time_in_ms": 30123},
}


@pytest.mark.parametrize("packet_format", LEGACY_FORMATS)
def test_round_trip_lap_data(packet_format: int) -> None:
    laps = _round_trip(
        packet_format,
        2,
        lap_data={
            **LAP_FIELDS[packet_format],
            "lap_distance": -12.5,
            "car_position": _per_car(packet_format, 1, 1),
            "current_lap_num": 4,
            "result_status": 2,
        },
    )["lap_data"]
    assert np.all(laps["last_lap_time_s"] == 83.5)
    assert np.allclose(laps["sector1_time_s"], 30.123, atol=1e-5)
    assert np.all(laps["lap_distance_m"] == -12.5)
    assert laps["car_position"].tolist() == list(range(1, NUM_CARS[packet_format] + 1))
    assert np.all(laps["current_lap_num"] == 4) and np.all(laps["result_status"] == 2)


EVENT_ROUND_TRIPS = {
    # code: (union member, its fields, expected event columns), first format sent
    "FTLP": ("fastest_lap", {"vehicle_idx": 5, "lap_time": 81.25}, 2019),
    "PENA": ("penalty", {"vehicle_idx": 6, "penalty_type": 4, "time": 5}, 2020),
    "SPTP": ("speed_trap", {"vehicle_idx": 7, "speed": 331.5}, 2020),
    "STLG": ("start_lights", {"num_lights": 4}, 2021),
    "FLBK": (
        "flashback",
        {"flashback_frame_identifier": 999, "flashback_session_time": 45.5},
        2021,
    ),
    "BUTN": ("buttons", {"button_status": 0x1001}, 2021),
}
EVENT_COLUMNS = {
    "vehicle_idx": "vehicle_index",
    "lap_time": "lap_time_s",
    "penalty_type": "penalty_type",
    "time": "time_s",
    "speed": "speed_kph",
    "num_lights": "num_lights",
    "flashback_frame_identifier": "flashback_frame",
    "flashback_session_time": "flashback_session_time_s",
    "button_status": "button_status",
}


@pytest.mark.parametrize("packet_format", LEGACY_FORMATS)
def test_round_trip_events(packet_format: int) -> None:
    assert _round_trip(packet_format, 3, event_string_code="SSTA")["event"][
        "event_code"
    ].tolist() == ["SSTA"]
    for code, (member, values, since) in EVENT_ROUND_TRIPS.items():
        if packet_format < since:
            continue
        event = _round_trip(
            packet_format,
            3,
            event_string_code=code,
            event_details={member: values},
        )["event"]
        assert event["event_code"].tolist() == [code]
        for field, value in values.items():
            assert event[EVENT_COLUMNS[field]][0] == value, (code, field)


@pytest.mark.parametrize("packet_format", LEGACY_FORMATS)
def test_round_trip_participants_and_setups(packet_format: int) -> None:
    names = [f"DRIVER {n}" for n in range(NUM_CARS[packet_format])]
    names[1] = "RÄIKKÖNEN"
    participants = _round_trip(
        packet_format,
        4,
        num_active_cars=18,
        participants={"name": names, "team_id": 3, "race_number": 44},
    )["participants"]
    assert participants["name"].tolist() == names
    assert np.all(participants["num_active_cars"] == 18)
    assert np.all(participants["team_id"] == 3) and np.all(
        participants["race_number"] == 44
    )
    pressures = (
        {"front_tyre_pressure": 23.5, "rear_tyre_pressure": 21.5}
        if packet_format <= 2019
        else {
            "front_left_tyre_pressure": 23.5,
            "front_right_tyre_pressure": 23.5,
            "rear_left_tyre_pressure": 21.5,
            "rear_right_tyre_pressure": 21.5,
        }
    )
    setups = _round_trip(
        packet_format, 5, car_setups={**pressures, "front_wing": 7, "fuel_load": 10.5}
    )["car_setups"]
    assert np.all(setups["tyre_pressure_psi_fl"] == 23.5)
    assert np.all(setups["tyre_pressure_psi_rr"] == 21.5)
    assert np.all(setups["front_wing"] == 7) and np.all(setups["fuel_load_kg"] == 10.5)


@pytest.mark.parametrize("packet_format", LEGACY_FORMATS)
def test_round_trip_car_telemetry(packet_format: int) -> None:
    # 2018 sends throttle/brake 0..100 and steer -100..100; later years floats.
    pedals = (
        {"throttle": 50, "brake": 100, "steer": -100}
        if packet_format == 2018
        else {"throttle": 0.5, "brake": 1.0, "steer": -1.0}
    )
    telemetry = _round_trip(
        packet_format,
        6,
        car_telemetry_data={
            **pedals,
            "speed": _per_car(packet_format, 15),
            "gear": -1,
            "engine_rpm": 11500,
            "clutch": 40,
            "brakes_temperature": [300, 310, 320, 330],
            "tyres_pressure": [21.0, 21.5, 23.0, 23.5],
        },
    )["car_telemetry"]
    assert telemetry["speed_kph"].tolist() == _per_car(packet_format, 15).tolist()
    assert np.all(telemetry["throttle"] == 0.5) and np.all(telemetry["brake"] == 1.0)
    assert np.all(telemetry["steer"] == -1.0) and np.all(telemetry["gear"] == -1)
    assert np.allclose(telemetry["clutch"], 0.4)
    assert np.all(telemetry["engine_rpm"] == 11500)
    assert np.all(telemetry["brakes_temperature_c_rl"] == 300)
    assert np.all(telemetry["brakes_temperature_c_fr"] == 330)
    assert np.all(telemetry["tyres_pressure_psi_fl"] == 23.0)


@pytest.mark.parametrize("packet_format", LEGACY_FORMATS)
def test_round_trip_car_status_and_damage(packet_format: int) -> None:
    status_fields: dict[str, object] = {
        "fuel_in_tank": 12.5,
        "max_rpm": 13000,
        "vehicle_fia_flags": -1,
        "ers_store_energy": 4e6,
    }
    if packet_format == 2018:
        status_fields["tyre_compound"] = 3
    else:
        status_fields |= {"actual_tyre_compound": 18, "visual_tyre_compound": 16}
    damage_fields = {
        "tyres_wear": [10, 20, 30, 40],
        "front_left_wing_damage": 15,
        "engine_damage": 5,
    }
    if packet_format <= 2020:
        tables = _round_trip(
            packet_format, 7, car_status_data={**status_fields, **damage_fields}
        )
    else:
        tables = _round_trip(packet_format, 7, car_status_data=status_fields)
        tables |= _round_trip(packet_format, 10, car_damage_data=damage_fields)
    status, damage = tables["car_status"], tables["car_damage"]
    assert np.all(status["fuel_in_tank_kg"] == 12.5) and np.all(
        status["max_rpm"] == 13000
    )
    assert np.all(status["vehicle_fia_flags"] == -1)
    compounds = (3, 3) if packet_format == 2018 else (18, 16)
    assert np.all(status["actual_tyre_compound"] == compounds[0])
    assert np.all(status["visual_tyre_compound"] == compounds[1])
    assert len(damage["car_index"]) == NUM_CARS[packet_format]
    wear = [damage[f"tyres_wear_pct_{wheel}"][0] for wheel in WHEEL_ORDER]
    assert wear == [10, 20, 30, 40]
    assert np.all(damage["front_left_wing_damage_pct"] == 15)
    assert np.all(damage["engine_damage_pct"] == 5)


@pytest.mark.parametrize("packet_format", [2020, 2021, 2022])
def test_round_trip_classification_lobby_history(packet_format: int) -> None:
    best = (
        {"best_lap_time": 90.5}
        if packet_format == 2020
        else {"best_lap_time_in_ms": 90500}
    )
    classification = _round_trip(
        packet_format,
        8,
        num_cars=20,
        classification_data={
            **best,
            "position": _per_car(packet_format, 1, 1),
            "total_race_time": 5400.25,
            "points": 25,
        },
    )["final_classification"]
    assert np.all(classification["best_lap_time_s"] == 90.5)
    assert np.all(classification["total_race_time_s"] == 5400.25)
    assert classification["position"].tolist() == list(range(1, 23))
    lobby = _round_trip(
        packet_format, 9, num_players=2, lobby_players={"name": "PLAYER", "team_id": 4}
    )["lobby_info"]
    assert set(lobby["name"].tolist()) == {"PLAYER"} and np.all(lobby["team_id"] == 4)
    assert np.all(lobby["num_players"] == 2)
    if packet_format < 2021:
        return
    laps = np.zeros(100, dtype=f2021.LAP_HISTORY_DATA)
    laps["lap_time_in_ms"][:3] = [95000, 91250, 90500]
    laps["sector1_time_in_ms"][:3] = 30000
    laps["sector3_time_in_ms"][:3] = [32000, 30000, 29500]
    laps["lap_valid_bit_flags"][:3] = 15
    history = _round_trip(
        packet_format,
        11,
        car_idx=9,
        num_laps=3,
        best_lap_time_lap_num=3,
        lap_history_data=laps,
    )["session_history"]
    assert history["lap_number"].tolist() == [1, 2, 3]
    assert history["lap_time_s"].tolist() == [95.0, 91.25, 90.5]
    assert history["sector3_time_s"].tolist() == [32.0, 30.0, 29.5]
    assert np.all(history["car_index"] == 9) and np.all(
        history["lap_valid_flags"] == 15
    )


def test_random_bytes_of_every_legacy_layout_decode_without_error() -> None:
    """Any content of the right size decodes: no normaliser raises on random
    values (NaN floats, invalid UTF-8 names, lap counts over 100, odd codes)."""
    rng = np.random.default_rng(2018)
    datagrams = []
    for packet_format in LEGACY_FORMATS:
        offset = packets.PACKET_ID_OFFSETS[packet_format]
        for packet_id, layout in MODULES[packet_format].LAYOUTS.items():
            for _ in range(20):
                raw = bytearray(rng.integers(0, 256, layout.itemsize, dtype=np.uint8))
                raw[0:2] = packet_format.to_bytes(2, "little")
                raw[offset] = packet_id
                datagrams.append(bytes(raw))
    decoder = Decoder()
    batch = decoder.decode(datagrams)
    assert decoder.bad == {}
    assert sum(decoder.decoded.values()) == len(datagrams)
    # car_damage rows: from Car Status in 2018-2020, from Car Damage in 2021-2022.
    assert batch.num_rows("car_damage") == 20 * sum(NUM_CARS.values())
