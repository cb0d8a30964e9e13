"""Fuzzing the decoder: nothing a datagram holds escapes Decoder.decode, every bad
datagram is counted, and packets built with random values decode to those values.

The bounded mutation run below is the CI version of benchmarks/fuzz_decoder.py
(which runs 1,000,000 datagrams).
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from f1dash_tui.telemetry import build, packets
from f1dash_tui.telemetry.decode import Decoder

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "fuzz_decoder.py"
CI_DATAGRAMS = 20_000
CI_SEED = 20_777
REASONS = {"truncated", "unknown_format", "unknown_id", "wrong_size"}
"""Decoder.bad reasons a datagram may earn; normalise_error would be a decoder bug."""


def _fuzz_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fuzz_decoder", BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("fuzz_decoder", module)
    spec.loader.exec_module(module)
    return module


fuzz_decoder = _fuzz_module()
SIZES = {key: packets.layout_for(*key).itemsize for key in packets.known_layouts()}


def test_mutants_of_every_real_packet_never_escape(
    f1_udp_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    seeds = fuzz_decoder.real_datagrams(f1_udp_dir)
    # 203 raw payloads + 7,124 Melbourne + 9-17 per legacy sample pcap.
    assert len(seeds) > 7_300
    with caplog.at_level(logging.ERROR, logger="f1dash_tui"):
        result = fuzz_decoder.fuzz(seeds, CI_DATAGRAMS, CI_SEED, batch_size=500)
    assert result.escaped == []
    assert result.violations == {}
    assert result.datagrams == CI_DATAGRAMS
    # Every datagram is either decoded or counted, never silently lost.
    assert result.decoded + sum(result.bad.values()) == CI_DATAGRAMS
    assert set(result.bad_by_reason()) == REASONS
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    # Every mutation ran, and the unchanged real packets (5 %) decoded.
    assert set(result.mutations) == {*fuzz_decoder.MUTATIONS, "splice", "unchanged"}
    assert result.decoded >= result.mutations["unchanged"]


def test_every_real_packet_decodes_unmutated(f1_udp_dir: Path) -> None:
    seeds = fuzz_decoder.real_datagrams(f1_udp_dir)
    decoder = Decoder()
    batch = decoder.decode(seeds)
    # SOURCES.md: the two hand-edited 2024 event files have the wrong size.
    assert decoder.bad == {(2024, 3, "wrong_size"): 2}
    assert batch.num_decoded == len(seeds) - 2
    assert fuzz_decoder.contract_violations(batch, seeds) == {}


@pytest.mark.parametrize("packet_format", packets.PACKET_FORMATS)
def test_player_index_255_never_indexes_a_car_array(packet_format: int) -> None:
    """Spectating (playerCarIndex 255) in every packet of a format: all decode,
    per-car rows stay within the car arrays, and the player-only kinds carry 255
    as a value rather than reading car 255 (which would raise IndexError)."""
    datagrams = [
        build.build_packet(
            packet_format,
            packet_id,
            **{"header.player_car_index": 255},
        )
        for fmt, packet_id in packets.known_layouts()
        if fmt == packet_format
    ]
    decoder = Decoder()
    batch = decoder.decode(datagrams)
    assert not decoder.bad
    assert batch.num_decoded == len(datagrams)
    assert fuzz_decoder.contract_violations(batch, datagrams) == {}
    cars = fuzz_decoder.CARS_PER_FORMAT[packet_format]
    for kind, table in batch.tables.items():
        assert set(table["player_car_index"].tolist()) == {255}, kind
        if (
            "car_index" in table
            and kind not in fuzz_decoder.CAR_INDEX_FROM_PACKET_FIELD
        ):
            assert table["car_index"].max() < cars, kind
    if "motion_ex" in batch.tables:
        assert set(batch.tables["motion_ex"]["car_index"].tolist()) == {255}


@st.composite
def _headed_bodies(draw: st.DrawFn) -> bytes:
    """A known format's header prefix with any packetId and a random body, of the
    layout's size, one byte off, or any length."""
    packet_format = draw(st.sampled_from(packets.PACKET_FORMATS))
    packet_id = draw(st.integers(0, 255))
    size = SIZES.get((packet_format, packet_id), 1000)
    length = draw(
        st.one_of(
            st.sampled_from((size, size - 1, size + 1)),
            st.integers(0, 2000),
        )
    )
    body = bytearray(draw(st.binary(min_size=length, max_size=length)))
    offset = packets.PACKET_ID_OFFSETS[packet_format]
    if length >= 2:
        body[0:2] = packet_format.to_bytes(2, "little")
    if length > offset:
        body[offset] = packet_id
    return bytes(body)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_headed_bodies(), min_size=1, max_size=12))
def test_random_headers_and_bodies_are_decoded_or_counted(
    datagrams: list[bytes],
) -> None:
    decoder = Decoder()
    batch = decoder.decode(datagrams)
    assert batch.num_decoded + sum(decoder.bad.values()) == len(datagrams)
    assert {reason for _, _, reason in decoder.bad} <= REASONS
    assert fuzz_decoder.contract_violations(batch, datagrams) == {}
    # Right-size datagrams of a known layout always decode, whatever their body.
    right_size = sum(
        1
        for datagram in datagrams
        if (key := packets.peek_format_and_id(datagram)) in SIZES
        and len(datagram) == SIZES[key]
    )
    assert batch.num_decoded == right_size


_TELEMETRY_FORMATS = st.sampled_from(packets.PACKET_FORMATS)


@settings(max_examples=60, deadline=None)
@given(
    packet_format=_TELEMETRY_FORMATS,
    session_uid=st.integers(0, 2**64 - 1),
    frame=st.integers(0, 2**32 - 1),
    data=st.data(),
)
def test_built_car_telemetry_round_trips(
    packet_format: int, session_uid: int, frame: int, data: st.DataObject
) -> None:
    cars = fuzz_decoder.CARS_PER_FORMAT[packet_format]
    speed = data.draw(st.lists(st.integers(0, 65535), min_size=cars, max_size=cars))
    gear = data.draw(st.lists(st.integers(-128, 127), min_size=cars, max_size=cars))
    rpm = data.draw(st.lists(st.integers(0, 65535), min_size=cars, max_size=cars))
    player = data.draw(st.integers(0, 255))
    datagram = build.build_packet(
        packet_format,
        packets.PacketId.CAR_TELEMETRY,
        header={
            "session_uid": session_uid,
            "frame_identifier": frame,
            "player_car_index": player,
        },
        car_telemetry_data={"speed": speed, "gear": gear, "engine_rpm": rpm},
    )
    decoder = Decoder()
    table = decoder.decode([datagram]).tables["car_telemetry"]
    assert not decoder.bad
    assert table["car_index"].tolist() == list(range(cars))
    assert table["speed_kph"].tolist() == speed
    assert table["gear"].tolist() == gear
    assert table["engine_rpm"].tolist() == rpm
    assert {int(uid) % 2**64 for uid in table["session_uid"]} == {session_uid}
    assert set(table["frame"].tolist()) == {frame}
    assert set(table["player_car_index"].tolist()) == {player}
    assert set(table["packet_format"].tolist()) == {packet_format}


_NAME_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"),
    max_size=20,
).filter(lambda name: len(name.encode("utf-8")) < 32)


@settings(max_examples=60, deadline=None)
@given(
    packet_format=st.sampled_from(range(2019, 2027)),
    names=st.lists(_NAME_TEXT, min_size=1, max_size=3),
)
def test_built_participant_names_round_trip(
    packet_format: int, names: list[str]
) -> None:
    """Any text up to 31 UTF-8 bytes (the 32-byte field keeps a NUL) comes back
    exactly -- quotes, SQL, emoji, right-to-left scripts -- except control
    characters, which come back as U+FFFD (they would be terminal escapes)."""
    cars = fuzz_decoder.CARS_PER_FORMAT[packet_format]
    padded = (names * cars)[:cars]
    datagram = build.build_packet(
        packet_format,
        packets.PacketId.PARTICIPANTS,
        num_active_cars=cars,
        participants={"name": padded},
    )
    decoder = Decoder()
    table = decoder.decode([datagram]).tables["participants"]
    assert not decoder.bad
    assert table["name"].tolist() == [_without_controls(name) for name in padded]


def _without_controls(text: str) -> str:
    """C0, DEL and C1 control characters replaced by U+FFFD."""
    return "".join(
        "\ufffd" if ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 else c for c in text
    )


@given(st.floats(allow_nan=True, allow_infinity=True, width=32))
@settings(max_examples=40, deadline=None)
def test_any_float_in_every_car_is_kept(value: float) -> None:
    datagram = build.build_packet(
        2026, packets.PacketId.CAR_TELEMETRY, car_telemetry_data={"throttle": value}
    )
    table = Decoder().decode([datagram]).tables["car_telemetry"]
    throttle = table["throttle"]
    assert len(throttle) == 24
    expected = np.float32(value)
    if np.isnan(expected):
        assert np.isnan(throttle).all()
    else:
        assert (throttle == expected).all()


INGEST_DATAGRAMS = 5_000


def test_mutants_through_ingest_and_every_dashboard_query(
    f1_udp_dir: Path, tmp_path: Path
) -> None:
    """Value mutants (extreme integers and floats, playerCarIndex 255, flipped bits)
    of every real packet through the whole ingest into SQLite: ingest never stops,
    the store stays whole, and every dashboard query answers for every session."""
    import random

    from f1dash_tui.ingest.service import ingest_datagrams
    from f1dash_tui.settings import IngestSettings, StoreSettings
    from f1dash_tui.store import open_store
    from f1dash_tui.store.queries import DashboardQueries

    seeds = fuzz_decoder.real_datagrams(f1_udp_dir)
    rng = random.Random(CI_SEED)
    value_mutations = (
        "integer_extremes",
        "header_extremes",
        "player_index_255",
        "float_specials",
        "bit_flips",
    )
    stream = []
    for number in range(INGEST_DATAGRAMS):
        datagram = rng.choice(seeds)
        if rng.random() < 0.5:
            mutation = fuzz_decoder.MUTATIONS[rng.choice(value_mutations)]
            datagram = mutation(rng, datagram)
        stream.append((number * 0.003, datagram))
    store = open_store(StoreSettings(sqlite_path=tmp_path / "fuzz.sqlite3"))
    try:
        stats = ingest_datagrams(
            stream,
            store,
            source="replay",
            settings=IngestSettings(spool_dir=tmp_path / "spool"),
        )
        assert stats.packets_total == INGEST_DATAGRAMS
        assert stats.store_error == ""
        assert stats.rows_written > 0
        assert store.fetch("PRAGMA integrity_check") == [("ok",)]
        queries = DashboardQueries(store)
        uids = [row[0] for row in store.fetch("SELECT session_uid FROM sessions")]
        assert uids
        for uid in uids:
            queries.session(uid)
            tower = queries.timing_tower(uid)
            queries.positions(uid)
            queries.events(uid)
            for car in (0, 19, 21):
                queries.car_state(uid, car)
            if tower is not None and tower.rows:
                row = tower.rows[0]
                queries.car_samples(uid, row.car_index, row.lap_number)
        queries.pipeline_health()
    finally:
        store.close()
