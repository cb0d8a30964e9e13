"""The real Melbourne 2026 capture through the whole ingest into a real SQLite store:
replayed straight into the store, and received by the real listener over UDP."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from f1dash_tui.errors import ListenError, StoreError
from f1dash_tui.ingest.service import replay_to_store, replay_to_udp, run_listener
from f1dash_tui.settings import IngestSettings, Settings, StoreSettings
from f1dash_tui.store import open_store
from f1dash_tui.store.base import Store
from f1dash_tui.telemetry.decode import Decoder
from f1dash_tui.telemetry.pcap import read_pcap

# The 22 drivers of the capture's Participants packets, by car index (SOURCES.md:
# 22 active cars in 24-slot arrays, the player is car 21).
MELBOURNE_NAMES = (
    *("PIASTRI", "ALONSO", "HULKENBERG", "LAWSON", "ANTONELLI", "VERSTAPPEN"),
    *("HADJAR", "COLAPINTO", "PÉREZ", "BEARMAN", "SAINZ", "BORTOLETO", "OCON"),
    *("RUSSELL", "LINDBLAD", "ALBON", "HAMILTON", "LECLERC", "STROLL", "GASLY"),
    *("BOTTAS", "NORRIS"),
)

HEADER_2023 = struct.Struct("<HBBBBBQfIIBB")  # the 29-byte header of 2023+ formats
LAP_DATA_ID, EVENT_ID = 2, 3


class CaptureFacts:
    """What the capture holds, read from the raw bytes (headers and event codes)."""

    def __init__(self, path: Path) -> None:
        self.payloads = [datagram.payload for datagram in read_pcap(path)]
        headers = [HEADER_2023.unpack_from(p) for p in self.payloads]
        self.packet_ids = [h[5] for h in headers]
        self.session_uid = headers[0][6]
        self.lap_data_frames = sorted({h[8] for h in headers if h[5] == LAP_DATA_ID})
        self.telemetry_frames = sorted({h[8] for h in headers if h[5] == 6})
        self.event_codes = Counter(
            p[29:33].decode()
            for p, h in zip(self.payloads, headers, strict=True)
            if h[5] == EVENT_ID
        )


@pytest.fixture(scope="module")
def capture(melbourne_pcap: Path) -> CaptureFacts:
    return CaptureFacts(melbourne_pcap)


def _lap_changes(payloads: list[bytes]) -> dict[int, tuple[int, float]]:
    """car -> (completed lap, the next lap's last-lap time), from the lap data."""
    lap = Decoder().decode(payloads).tables["lap_data"]
    changes = {}
    for car in np.unique(lap["car_index"]).tolist():
        rows = np.flatnonzero(lap["car_index"] == car)
        numbers = lap["current_lap_num"][rows]
        advanced = np.flatnonzero(numbers[1:] > numbers[:-1])
        for i in advanced.tolist():
            changes[car] = (
                int(numbers[i]),
                float(lap["last_lap_time_s"][rows[i + 1]]),
            )
    return changes


def _check_melbourne_store(store: Store, capture: CaptureFacts) -> None:
    uid = struct.unpack("<q", struct.pack("<Q", capture.session_uid))[0]
    sessions = store.fetch(
        "SELECT session_uid, track_id, session_type, packet_format, is_synthetic "
        "FROM sessions"
    )
    assert sessions == [(uid, 0, 15, 2026, 0)]  # Melbourne, race, 2026 format

    names = store.fetch(
        "SELECT car_index, name FROM participants WHERE session_uid = ? "
        "ORDER BY overall_frame DESC, car_index LIMIT 22",
        (uid,),
    )
    assert sorted(names) == list(enumerate(MELBOURNE_NAMES))

    # Lap samples for every car at every frame of the capture.
    per_frame = store.fetch(
        "SELECT frame, COUNT(*), COUNT(DISTINCT car_index), MIN(car_index), "
        "MAX(car_index) FROM lap_data WHERE session_uid = ? GROUP BY frame "
        "ORDER BY frame",
        (uid,),
    )
    assert [row[0] for row in per_frame] == capture.lap_data_frames
    assert all(row[1:] == (22, 22, 0, 21) for row in per_frame)

    events = Counter(
        dict(
            store.fetch(
                "SELECT event_code, COUNT(*) FROM event WHERE session_uid = ? "
                "GROUP BY event_code",
                (uid,),
            )
        )
    )
    assert events == capture.event_codes
    assert set(events) == {"BUTN", "FTLP", "OVTK", "SPTP"}

    # Completed laps exactly where the lap data changes lap, with its times.
    expected = _lap_changes(capture.payloads)
    laps = store.fetch(
        "SELECT car_index, lap_number, lap_time_s, sector1_s, sector2_s, sector3_s, "
        "is_valid, tags, driver_name, track_id FROM laps WHERE session_uid = ?",
        (uid,),
    )
    assert len(expected) == 20  # all but the last two cars cross the line
    assert {row[0]: (row[1], row[2]) for row in laps} == {
        car: (number, pytest.approx(time_s, abs=1e-3))
        for car, (number, time_s) in expected.items()
    }
    for car, number, lap_s, s1, s2, s3, valid, tags, name, track in laps:
        assert number == 1 and valid == 1 and track == 0
        assert "first" in tags.split(",")  # a race's first lap, from the grid
        assert s1 > 0 and s2 > 0 and s3 > 0
        # The game rounds each sector to the millisecond on its own.
        assert s1 + s2 + s3 == pytest.approx(lap_s, abs=0.004)
        assert name == MELBOURNE_NAMES[car]
    # The FTLP event names the fastest of these laps.
    ((ftlp_car, ftlp_s),) = store.fetch(
        "SELECT vehicle_index, lap_time_s FROM event WHERE event_code = 'FTLP'"
    )
    assert min(laps, key=lambda row: row[2])[:3:2] == (
        ftlp_car,
        pytest.approx(ftlp_s, abs=1e-3),
    )

    # Session History repeats every lap of a car in each packet; only rows that say
    # something new are kept: one per distinct (car, lap, values) in the capture.
    history = Decoder().decode(capture.payloads).tables["session_history"]
    distinct = {
        row
        for row in zip(
            *(
                history[name].tolist()
                for name in (
                    "car_index",
                    "lap_number",
                    "lap_time_s",
                    "sector1_time_s",
                    "sector2_time_s",
                    "sector3_time_s",
                    "lap_valid_flags",
                )
            ),
            strict=True,
        )
    }
    stored_history = store.fetch(
        "SELECT car_index, lap_number, lap_time_s, sector1_time_s, sector2_time_s, "
        "sector3_time_s, lap_valid_flags FROM session_history"
    )
    assert len(stored_history) == len(distinct) < len(history["car_index"])
    assert set(stored_history) == distinct

    # Telemetry and motion rows carry the car's lap number and distance; in this
    # capture each frame's lap data precedes its telemetry and motion packets... except
    # motion, which comes first in a frame and so carries the previous frame's values.
    lap_at = {
        (frame, car): (number, distance)
        for frame, car, number, distance in store.fetch(
            "SELECT overall_frame, car_index, current_lap_num, lap_distance_m "
            "FROM lap_data"
        )
    }
    telemetry = store.fetch(
        "SELECT overall_frame, car_index, lap_number, lap_distance_m FROM car_telemetry"
    )
    # Where the capture has lap data for the telemetry's frame, the values match.
    same_frame = [row for row in telemetry if (row[0], row[1]) in lap_at]
    shared = set(capture.lap_data_frames) & set(capture.telemetry_frames)
    assert len(same_frame) == 22 * len(shared) > 0
    assert all(lap_at[(f, car)] == (n, d) for f, car, n, d in same_frame)
    unfilled = store.fetch(
        "SELECT COUNT(*) FROM motion WHERE lap_number < 1 OR lap_distance_m IS NULL"
    )
    assert unfilled[0][0] <= 22  # at most the very first motion packet


def test_replay_into_store_gives_the_session_cars_laps_and_events(
    tmp_path: Path, capture: CaptureFacts, melbourne_pcap: Path
) -> None:
    store = open_store(StoreSettings(sqlite_path=tmp_path / "store.sqlite3"))
    try:
        stats = replay_to_store(
            melbourne_pcap,
            store,
            speed=None,
            settings=IngestSettings(spool_dir=tmp_path / "spool"),
        )
        assert stats.packets_total == len(capture.payloads) == 7124
        assert stats.bad_packets == 0
        assert stats.laps_completed == 20
        _check_melbourne_store(store, capture)
        source = store.fetch("SELECT source FROM sessions")
        assert source == [("replay:melbourne-2026-race.pcap",)]
        last_stats = store.fetch(
            "SELECT packets_total, bad_total, bad_by_reason, spooled_rows "
            "FROM ingest_stats ORDER BY unix_s DESC LIMIT 1"
        )
        assert last_stats == [(7124, 0, "{}", 0)]
    finally:
        store.close()


def test_salt_makes_a_replay_a_new_session(
    tmp_path: Path, melbourne_pcap: Path
) -> None:
    store = open_store(StoreSettings(sqlite_path=tmp_path / "store.sqlite3"))
    settings = IngestSettings(spool_dir=tmp_path / "spool")
    try:
        for salt in (0, 1):
            replay_to_store(
                melbourne_pcap,
                store,
                speed=None,
                session_uid_salt=salt,
                settings=settings,
            )
        sessions = store.fetch("SELECT session_uid FROM sessions")
        assert len({uid for (uid,) in sessions}) == 2
        per_session = store.fetch(
            "SELECT session_uid, COUNT(*) FROM laps GROUP BY session_uid"
        )
        assert sorted(count for _, count in per_session) == [20, 20]
    finally:
        store.close()


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run_listener_in_thread(
    settings: Settings,
) -> tuple[threading.Thread, threading.Event, list]:
    stop = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            run_listener(settings, stop_event=stop)
        except Exception as error:  # noqa: BLE001 - handed to the test thread
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, stop, errors


def _wait_for(store_path: Path, sql: str, expected: object, timeout_s: float) -> object:
    deadline = time.monotonic() + timeout_s
    found: object = None
    while time.monotonic() < deadline:
        try:
            reader = open_store(StoreSettings(sqlite_path=store_path), read_only=True)
        except StoreError:  # not created yet, or its schema is being written
            time.sleep(0.1)
            continue
        try:
            found = reader.fetch(sql)
        finally:
            reader.close()
        if found == expected:
            return found
        time.sleep(0.2)
    return found


def _wait_until_listening(store_path: Path) -> None:
    # The pipeline starts after the socket is bound and writes its first
    # ingest_stats row a second later.
    ready = _wait_for(store_path, "SELECT COUNT(*) > 0 FROM ingest_stats", [(1,)], 15)
    assert ready == [(1,)]


def test_listener_receives_the_capture_over_udp(
    tmp_path: Path, capture: CaptureFacts, melbourne_pcap: Path
) -> None:
    port = _free_udp_port()
    store_path = tmp_path / "store.sqlite3"
    settings = Settings(
        store=StoreSettings(sqlite_path=store_path),
        ingest=IngestSettings(
            listen_host="127.0.0.1", listen_port=port, spool_dir=tmp_path / "spool"
        ),
    )
    thread, stop, errors = _run_listener_in_thread(settings)
    try:
        _wait_until_listening(store_path)
        # 5x the recorded pace: ~350 datagrams/s, 4 s for the 21 s clip.
        sent = replay_to_udp(melbourne_pcap, "127.0.0.1", port, speed=5.0)
        assert sent == 7124
        _wait_for(
            store_path,
            "SELECT MAX(packets_total) FROM ingest_stats",
            [(7124,)],
            10,
        )
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not errors
    store = open_store(StoreSettings(sqlite_path=store_path), read_only=True)
    try:
        _check_melbourne_store(store, capture)
        assert store.fetch("SELECT source FROM sessions") == [("udp",)]
        (reasons,) = store.fetch(
            "SELECT bad_by_reason FROM ingest_stats ORDER BY unix_s DESC LIMIT 1"
        )[0]
        assert json.loads(reasons) == {}
    finally:
        store.close()


def test_allow_list_drops_and_counts_other_senders(
    tmp_path: Path, melbourne_pcap: Path
) -> None:
    port = _free_udp_port()
    store_path = tmp_path / "store.sqlite3"
    settings = Settings(
        store=StoreSettings(sqlite_path=store_path),
        ingest=IngestSettings(
            listen_host="127.0.0.1",
            listen_port=port,
            allowed_senders=("192.0.2.7",),  # TEST-NET-1: never this machine
            spool_dir=tmp_path / "spool",
        ),
    )
    payloads = [d.payload for d in read_pcap(melbourne_pcap)][:500]
    thread, stop, errors = _run_listener_in_thread(settings)
    try:
        _wait_until_listening(store_path)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            for payload in payloads:
                sender.sendto(payload, ("127.0.0.1", port))
        found = _wait_for(
            store_path,
            "SELECT bad_by_reason FROM ingest_stats ORDER BY unix_s DESC LIMIT 1",
            [(json.dumps({"sender not allowed": 500}),)],
            10,
        )
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not errors
    assert found == [(json.dumps({"sender not allowed": 500}),)]
    store = open_store(StoreSettings(sqlite_path=store_path), read_only=True)
    try:
        assert store.fetch("SELECT COUNT(*) FROM lap_data") == [(0,)]
        assert store.fetch("SELECT COUNT(*) FROM sessions") == [(0,)]
    finally:
        store.close()


def test_busy_port_is_a_one_line_listen_error(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as occupier:
        occupier.bind(("127.0.0.1", 0))
        port = occupier.getsockname()[1]
        settings = Settings(
            store=StoreSettings(sqlite_path=tmp_path / "store.sqlite3"),
            ingest=IngestSettings(
                listen_host="127.0.0.1", listen_port=port, spool_dir=tmp_path
            ),
        )
        with pytest.raises(ListenError) as caught:
            run_listener(settings, stop_event=threading.Event())
    message = str(caught.value)
    assert "\n" not in message
    assert str(port) in message and "--listen HOST:PORT" in message
