"""Every real packet of formats 2023-2026 under ../shared/data/f1-udp decodes; the
layout comes from packetFormat (not gameYear); every event code decodes its details,
checked at the byte offsets of the specification (details start at byte 33: a
29-byte header and the 4-letter code)."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from f1dash_tui.telemetry.decode import Decoder
from f1dash_tui.telemetry.pcap import read_pcap

MY_FORMATS = (2023, 2024, 2025, 2026)
HAND_EDITED = {"2024-03-RDFL.bin", "2024-03-SCAR.bin"}  # SOURCES.md: wrong size
DETAILS = 33


def _packet_files(f1_udp_dir: Path) -> list[Path]:
    files = sorted((f1_udp_dir / "packets").rglob("*.bin"))
    return [p for p in files if int.from_bytes(p.read_bytes()[:2], "little") >= 2023]


def test_every_packet_file_of_2023_to_2026_decodes(f1_udp_dir: Path) -> None:
    files = _packet_files(f1_udp_dir)
    assert len(files) > 100
    for path in files:
        raw = path.read_bytes()
        decoder = Decoder()
        batch = decoder.decode([raw])
        packet_format, packet_id = int.from_bytes(raw[:2], "little"), raw[6]
        assert packet_format in MY_FORMATS, path
        if path.name in HAND_EDITED:
            assert dict(decoder.bad) == {(2024, 3, "wrong_size"): 1}, path
            assert batch.num_decoded == 0
            continue
        assert not decoder.bad, (path, decoder.bad)
        assert batch.num_decoded == 1, path
        assert batch.tables, path
        for table in batch.tables.values():
            assert set(table["packet_format"].tolist()) == {packet_format}
        assert decoder.decoded == {(packet_format, packet_id): 1}


def test_all_files_in_one_batch_decode_the_same(f1_udp_dir: Path) -> None:
    """A mixed batch of every format and id gives each datagram's rows once."""
    files = [p for p in _packet_files(f1_udp_dir) if p.name not in HAND_EDITED]
    raws = [path.read_bytes() for path in files]
    decoder = Decoder()
    batch = decoder.decode(raws)
    assert not decoder.bad
    assert batch.num_decoded == len(raws)
    seen = set()
    for table in batch.tables.values():
        index = table["datagram_index"]
        assert np.all(np.diff(index) >= 0)  # rows in input order across formats
        seen |= set(index.tolist())
    assert seen == set(range(len(raws)))


@pytest.mark.parametrize("packet_format", [2023, 2024])
def test_old_format_sent_by_f1_25_uses_the_old_layout(
    f1_udp_dir: Path, packet_format: int
) -> None:
    """GamesDat: F1 25 1.17 sending 2023/2024 packets (gameYear byte 0 or 25) of a
    Silverstone time trial."""
    folder = f1_udp_dir / "packets" / "gamesdat" / str(packet_format)
    lap_raw = (folder / "packet-2.bin").read_bytes()
    assert lap_raw[2] in (0, 25)  # gameYear says nothing about the layout
    assert len(lap_raw) == {2023: 1131, 2024: 1285}[packet_format]
    participants_raw = (folder / "packet-4.bin").read_bytes()
    decoder = Decoder()
    batch = decoder.decode([lap_raw, participants_raw])
    assert not decoder.bad
    participants = batch.tables["participants"]
    # a time-trial session: one car, an online player's name, no driver id
    assert participants["num_active_cars"][0] == 1
    assert participants["name"][0] == "aSx_edoc"
    assert participants["driver_id"][0] == 255
    # the ghost slots (personal best, rival) follow at the 2023/2024 record size
    # of 58/60 bytes with 48-byte names
    assert participants["name"][1:5].tolist() == [
        "Personal Best",
        "Personal Best",
        "Stupy",
        "Stupy",
    ]
    lap = batch.tables["lap_data"]
    assert lap["car_position"][0] == 1
    # car 0 at the offsets of its format: 2023 sends sector 1 as ms + minutes at
    # bytes 8-10 of a 50-byte car record; 2024 at the same place in a 57-byte one
    ms, minutes = struct.unpack_from("<HB", lap_raw, 29 + 8)
    assert lap["sector1_time_s"][0] == pytest.approx(minutes * 60 + ms / 1000)
    (lap_distance,) = struct.unpack_from(
        "<f", lap_raw, 29 + {2023: 18, 2024: 20}[packet_format]
    )
    assert lap["lap_distance_m"][0] == np.float32(lap_distance)
    if packet_format == 2023:
        assert np.isnan(lap["speed_trap_fastest_kph"]).all()  # not in 2023


def test_streams_2026_capture_decodes(f1_udp_dir: Path) -> None:
    path = f1_udp_dir / "streams" / "f1-25-2026pack-melbourne-race-22cars.pcap"
    datagrams = [captured.payload for captured in read_pcap(path)]
    decoder = Decoder()
    batch = decoder.decode(datagrams)
    assert not decoder.bad
    assert batch.num_decoded == len(datagrams) == 7124


def _event_files(f1_udp_dir: Path) -> list[Path]:
    packets = f1_udp_dir / "packets"
    files = sorted((packets / "f1-game-packet-parser").glob("202[34]-03-*.bin"))
    files += sorted((packets / "gamesdat" / "2025").glob("packet-3-*.bin"))
    return [path for path in files if path.name not in HAND_EDITED]


def _expected_details(code: str, raw: bytes, packet_format: int) -> dict[str, float]:
    """The event columns a code fills, read by hand at the spec's offsets."""

    def u8(offset: int) -> int:
        value = raw[DETAILS + offset]
        return -1 if value == 255 else value  # 255 = no car

    def f32(offset: int) -> float:
        return struct.unpack_from("<f", raw, DETAILS + offset)[0]

    def u32(offset: int) -> int:
        return struct.unpack_from("<I", raw, DETAILS + offset)[0]

    if code == "FTLP":
        return {"vehicle_index": u8(0), "lap_time_s": f32(1)}
    if code == "RTMT":
        expected = {"vehicle_index": u8(0)}
        if packet_format >= 2025:
            expected["reason"] = raw[DETAILS + 1]
        return expected
    if code in ("TMPT", "RCWN", "DTSV"):
        return {"vehicle_index": u8(0)}
    if code == "SGSV":
        expected = {"vehicle_index": u8(0)}
        if packet_format >= 2025:
            expected["time_s"] = f32(1)
        return expected
    if code == "PENA":
        return {
            "penalty_type": raw[DETAILS],
            "infringement_type": raw[DETAILS + 1],
            "vehicle_index": u8(2),
            "other_vehicle_index": u8(3),
            "time_s": raw[DETAILS + 4],
            "lap_number": raw[DETAILS + 5],
            "places_gained": raw[DETAILS + 6],
        }
    if code == "SPTP":
        return {"vehicle_index": u8(0), "speed_kph": f32(1)}
    if code == "STLG":
        return {"num_lights": raw[DETAILS]}
    if code == "FLBK":
        return {"flashback_frame": u32(0), "flashback_session_time_s": f32(4)}
    if code == "BUTN":
        return {"button_status": u32(0)}
    if code == "OVTK":
        return {"vehicle_index": u8(0), "other_vehicle_index": u8(1)}
    if code == "COLL":
        return {"vehicle_index": u8(0), "other_vehicle_index": u8(1)}
    if code == "DRSD" and packet_format >= 2025:
        return {"reason": raw[DETAILS]}
    return {}  # SSTA, SEND, DRSE, DRSD (before 2025), CHQF, LGOT, RDFL


def test_every_event_code_decodes_its_details(f1_udp_dir: Path) -> None:
    files = _event_files(f1_udp_dir)
    codes = {path.stem.rsplit("-", 1)[1] for path in files}
    assert {"FTLP", "PENA", "SPTP", "FLBK", "BUTN", "OVTK", "COLL", "RTMT"} <= codes
    for path in files:
        raw = path.read_bytes()
        code = path.stem.rsplit("-", 1)[1]
        packet_format = int.from_bytes(raw[:2], "little")
        decoder = Decoder()
        event = decoder.decode([raw]).tables["event"]
        assert not decoder.bad
        assert event["event_code"][0] == code == raw[29:33].decode()
        expected = _expected_details(code, raw, packet_format)
        if code not in ("SSTA", "SEND", "DRSE", "CHQF", "LGOT", "RDFL", "DRSD"):
            assert expected, code
        for column, value in expected.items():
            assert event[column][0] == pytest.approx(value), (path.name, column)
        untouched = {"vehicle_index", "other_vehicle_index", "num_lights", "reason"}
        for column in untouched - set(expected):
            assert event[column][0] == -1, (path.name, column)


def test_gamesdat_2025_race_events(f1_udp_dir: Path) -> None:
    """Hand-read values of the 2025 race: Bortoleto-era grid, 18 cars."""
    folder = f1_udp_dir / "packets" / "gamesdat" / "2025"
    event = Decoder().decode([(folder / "packet-3-RTMT.bin").read_bytes()])
    table = event.tables["event"]
    assert (table["vehicle_index"][0], table["reason"][0]) == (10, 3)  # damage
    flashback = Decoder().decode([(folder / "packet-3-FLBK.bin").read_bytes()])
    assert flashback.tables["event"]["flashback_frame"][0] == 57980
