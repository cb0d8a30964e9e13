"""Nothing a datagram contains raises out of Decoder.decode: every bad datagram is
counted by (packetFormat, packetId, reason) and skipped, the good ones around it
still decode."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from f1dash_tui.telemetry import build, packets
from f1dash_tui.telemetry.decode import Decoder

GOOD = build.build_packet(2026, 6, car_telemetry_data={"speed": 200})


def test_empty_batch() -> None:
    decoder = Decoder()
    batch = decoder.decode([])
    assert batch.tables == {} and batch.num_datagrams == 0 and not decoder.bad


def test_truncated_datagrams_are_counted() -> None:
    decoder = Decoder()
    datagrams = [b"", b"\x01", GOOD, b"\xea\x07", GOOD[:6], GOOD[:28], GOOD]
    batch = decoder.decode(datagrams)
    assert decoder.bad == {
        (-1, -1, "truncated"): 2,  # not even a packetFormat
        (2026, -1, "truncated"): 2,  # a format but no packetId byte
        (2026, 6, "truncated"): 1,  # 28 of the 29 header bytes
    }
    assert batch.num_decoded == 2
    index = batch.tables["car_telemetry"]["datagram_index"]
    assert sorted(set(index.tolist())) == [2, 6]


@pytest.mark.parametrize("packet_format", packets.PACKET_FORMATS)
def test_header_shorter_than_its_format_is_truncated(packet_format: int) -> None:
    size = packets.HEADER_SIZES[packet_format]
    raw = packet_format.to_bytes(2, "little") + bytes(size - 3)
    decoder = Decoder()
    decoder.decode([raw])
    reasons = {reason for _, _, reason in decoder.bad}
    assert reasons == {"truncated"}
    assert sum(decoder.bad.values()) == 1


def test_unknown_formats_and_ids() -> None:
    decoder = Decoder()
    datagrams = [
        (2017).to_bytes(2, "little") + bytes(1000),
        (2027).to_bytes(2, "little") + bytes(1000),
        b"\xff\xff" + bytes(1000),
        build.build_packet(2026, 16)[:6] + bytes([17]) + bytes(300),
        build.build_packet(2023, 0)[:6] + bytes([14]) + bytes(100),
        build.build_packet(2025, 0)[:6] + bytes([16]) + bytes(300),
        build.build_packet(2024, 0)[:6] + bytes([255]) + bytes(300),
        GOOD,
    ]
    batch = decoder.decode(datagrams)
    assert decoder.bad == {
        (2017, -1, "unknown_format"): 1,
        (2027, -1, "unknown_format"): 1,
        (65535, -1, "unknown_format"): 1,
        (2026, 17, "unknown_id"): 1,
        (2023, 14, "unknown_id"): 1,
        (2025, 16, "unknown_id"): 1,
        (2024, 255, "unknown_id"): 1,
    }
    assert batch.num_decoded == 1
    assert set(batch.tables["car_telemetry"]["datagram_index"].tolist()) == {7}


@pytest.mark.parametrize(
    ("packet_format", "packet_id"),
    [key for key in packets.known_layouts() if key[0] >= 2023],
)
def test_wrong_size_is_counted(packet_format: int, packet_id: int) -> None:
    raw = build.build_packet(packet_format, packet_id)
    decoder = Decoder()
    batch = decoder.decode([raw + b"\0", raw[:-1], raw, raw + bytes(100)])
    assert decoder.bad == {(packet_format, packet_id, "wrong_size"): 3}
    assert batch.num_decoded == 1
    for table in batch.tables.values():
        assert set(table["datagram_index"].tolist()) == {2}


def test_bad_counts_accumulate_across_batches() -> None:
    decoder = Decoder()
    decoder.decode([b"x"])
    decoder.decode([b"y", GOOD])
    assert decoder.bad == {(-1, -1, "truncated"): 2}
    assert decoder.decoded == {(2026, 6): 1}


def test_nan_floats_are_kept_not_counted() -> None:
    raw = build.build_packet(
        2026,
        6,
        car_telemetry_data={"throttle": [np.nan, np.inf] + [0.5] * 22},
        header={"session_time": np.nan},
    )
    decoder = Decoder()
    table = decoder.decode([raw]).tables["car_telemetry"]
    assert not decoder.bad
    assert np.isnan(table["throttle"][0]) and np.isinf(table["throttle"][1])
    assert table["throttle"][2] == 0.5
    assert np.isnan(table["session_time_s"]).all()


def test_names_cut_at_nul_and_invalid_utf8_replaced() -> None:
    names = [b"NORRIS\0garbage", b"\xff\xfeBAD", "PÉREZ".encode(), b"A" * 32]
    names += [b""] * 20
    raw = build.build_packet(2026, 4, num_active_cars=4, participants={"name": names})
    table = Decoder().decode([raw]).tables["participants"]
    assert table["name"][0] == "NORRIS"
    assert table["name"][1] == "\ufffd\ufffdBAD"
    assert table["name"][2] == "PÉREZ"
    assert table["name"][3] == "A" * 32
    assert table["name"].dtype == object


def test_spectating_player_index_255_is_kept_as_a_value() -> None:
    datagrams = [
        build.build_packet(packet_format, packet_id, header={"player_car_index": 255})
        for packet_format, packet_id in packets.known_layouts()
        if packet_format >= 2023
    ]
    decoder = Decoder()
    batch = decoder.decode(datagrams)
    assert not decoder.bad
    for table in batch.tables.values():
        assert set(table["player_car_index"].tolist()) == {255}
    assert set(batch.tables["motion_ex"]["car_index"].tolist()) == {255}


def test_a_failing_normaliser_is_logged_and_counted(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from f1dash_tui.telemetry.layouts import f2026

    def broken(records: np.ndarray) -> dict:
        raise RuntimeError("bug")

    monkeypatch.setattr(f2026, "NORMALISERS", {6: broken}, raising=False)
    decoder = Decoder()
    with caplog.at_level(logging.ERROR):
        batch = decoder.decode([GOOD, build.build_packet(2026, 7)])
    assert decoder.bad == {(2026, 6, "normalise_error"): 1}
    assert "car_status" in batch.tables and "car_telemetry" not in batch.tables
    assert "packetFormat 2026 packetId 6" in caplog.text


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=64), max_size=20))
def test_random_bytes_never_raise(datagrams: list[bytes]) -> None:
    decoder = Decoder()
    batch = decoder.decode(datagrams)
    assert batch.num_decoded + sum(decoder.bad.values()) == len(datagrams)


_SIZED = [key for key in packets.known_layouts()]


@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_SIZED), st.binary(min_size=2000, max_size=2000))
def test_random_bodies_of_the_right_size_decode(
    key: tuple[int, int], noise: bytes
) -> None:
    """Garbage with a valid header prefix and the right size decodes (NaN, huge
    values, any event code) without raising."""
    packet_format, packet_id = key
    size = packets.layout_for(packet_format, packet_id).itemsize
    header = build.build_packet(packet_format, packet_id)
    offset = packets.PACKET_ID_OFFSETS[packet_format] + 1
    raw = (header[:offset] + noise)[:size]
    raw += bytes(size - len(raw))
    decoder = Decoder()
    batch = decoder.decode([raw, raw])
    assert not decoder.bad
    assert batch.num_decoded == 2
