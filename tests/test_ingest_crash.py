"""SIGKILL an ingest process in the middle of a replay: the SQLite store stays whole
(integrity check, no partial batch) and a restarted ingest continues the session."""

from __future__ import annotations

import os
import signal
import sqlite3
import struct
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from f1dash_tui.ingest.service import ingest_datagrams
from f1dash_tui.settings import IngestSettings, StoreSettings
from f1dash_tui.store import open_store
from f1dash_tui.telemetry.decode import Decoder
from f1dash_tui.telemetry.pcap import read_pcap

REPO_ROOT = Path(__file__).resolve().parent.parent
CARS = 22
# Tables whose rows say how many packets of their id were stored: one row per car
# for per-car packets, one per packet for the others.
PACKETS_BY_TABLE = {
    "motion": (0, CARS),
    "session": (1, 1),
    "lap_data": (2, CARS),
    "event": (3, 1),
    "participants": (4, CARS),
    "car_telemetry": (6, CARS),
    "car_status": (7, CARS),
    "car_damage": (10, CARS),
}

THINNED_TABLES = {"motion", "car_status", "car_damage"}
"""Kept for at most one packet per 0.1 s of session time (96 ms apart, whole packets):
their rows count the packets ingest keeps, not every packet sent."""


def _kept_by_thinning(session_times_s: list[float]) -> np.ndarray:
    """Which packets of a thinned kind ingest keeps, in stream order."""
    kept = np.zeros(len(session_times_s), dtype=bool)
    last_s: float | None = None
    for position, time_s in enumerate(session_times_s):
        if last_s is None or time_s >= last_s + (0.1 - 0.004) or time_s < last_s:
            kept[position] = True
            last_s = time_s
    return kept


INGEST_SCRIPT = """
import sys
from pathlib import Path
from f1dash_tui.ingest.service import replay_to_store
from f1dash_tui.settings import IngestSettings, StoreSettings
from f1dash_tui.store import open_store

store = open_store(StoreSettings(sqlite_path=Path(sys.argv[1])))
replay_to_store(
    Path(sys.argv[2]), store, speed=1.0,
    settings=IngestSettings(spool_dir=Path(sys.argv[3])),
)
"""


def _stored_prefix(
    connection: sqlite3.Connection, packet_ids: list[int], session_times_s: list[float]
) -> range:
    """The datagram counts K for which the store holds exactly the first K
    datagrams of the capture, table by table (empty: not a prefix)."""
    ids = np.array(packet_ids)
    candidates = range(len(ids) + 1)
    for table, (packet_id, rows_per_packet) in PACKETS_BY_TABLE.items():
        (rows,) = connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
        assert rows % rows_per_packet == 0, f"{table}: a packet's rows are split"
        stored = rows // rows_per_packet
        counted = ids == packet_id
        if table in THINNED_TABLES:
            positions = np.flatnonzero(counted)
            counted = np.zeros(len(ids), dtype=bool)
            counted[positions] = _kept_by_thinning(
                [session_times_s[i] for i in positions.tolist()]
            )
        seen = np.concatenate(([0], np.cumsum(counted)))
        matching = np.flatnonzero(seen == stored)
        if not len(matching):
            return range(0)
        low, high = (
            max(candidates.start, matching[0]),
            min(candidates.stop, matching[-1] + 1),
        )
        candidates = range(int(low), int(max(low, high)))
    return candidates


def _completed_lap_times(payloads: list[bytes]) -> dict[int, float]:
    """Car -> the time of the lap it completes in ``payloads`` (the clip holds
    one lap change per car), from the lap data after its lap number advances."""
    lap = Decoder().decode(payloads).tables["lap_data"]
    times = {}
    for car in range(CARS):
        rows = np.flatnonzero(lap["car_index"] == car)
        numbers = lap["current_lap_num"][rows]
        for i in np.flatnonzero(numbers[1:] > numbers[:-1]).tolist():
            times[car] = round(float(lap["last_lap_time_s"][rows[i + 1]]), 3)
    return times


def _count(path: Path, sql: str) -> int:
    if not path.exists():
        return 0
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return int(connection.execute(sql).fetchone()[0])
    except sqlite3.OperationalError:  # its tables are not created yet
        return 0
    finally:
        connection.close()


def _replay_and_kill_when(
    tmp_path: Path, pcap: Path, store_path: Path, sql: str, at_least: int
) -> None:
    """Replay ``pcap`` at its pace into ``store_path`` in a subprocess and SIGKILL
    it as soon as ``sql`` (one count) reads ``at_least`` from the store."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            INGEST_SCRIPT,
            str(store_path),
            str(pcap),
            str(tmp_path / "spool"),
        ],
        cwd=REPO_ROOT,
        env=dict(os.environ),
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            if _count(store_path, sql) >= at_least:
                break
            time.sleep(0.02)
        assert process.poll() is None, "the ingest ended before it could be killed"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL


def test_sigkill_mid_replay_leaves_whole_batches_and_restart_continues(
    tmp_path: Path, melbourne_pcap: Path
) -> None:
    store_path = tmp_path / "store.sqlite3"
    # Kill it after ~1 s of the clip (50 lap-data frames), well before the first
    # car crosses the line (3.5 s in).
    _replay_and_kill_when(
        tmp_path,
        melbourne_pcap,
        store_path,
        "SELECT COUNT(*) FROM lap_data",
        50 * CARS,
    )

    datagrams = list(read_pcap(melbourne_pcap))
    payloads = [d.payload for d in datagrams]
    packet_ids = [struct.unpack_from("<B", p, 6)[0] for p in payloads]
    # 2026 header: session time (float32) at byte 15.
    session_times_s = [float(struct.unpack_from("<f", p, 15)[0]) for p in payloads]
    connection = sqlite3.connect(store_path)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        prefix = _stored_prefix(connection, packet_ids, session_times_s)
        assert len(prefix) > 0, "the store does not hold a prefix of the stream"
        stored_datagrams = prefix.stop - 1
        # ~5 datagrams per lap-data frame in this capture.
        assert 50 * 4 <= stored_datagrams < len(payloads) // 2
        ((uid,),) = connection.execute("SELECT session_uid FROM sessions").fetchall()
    finally:
        connection.close()

    # The restarted ingest gets the stream from 1 s later (what the game sent while
    # no ingest was running is lost, as it would be live).
    restart_at = stored_datagrams + 300
    store = open_store(StoreSettings(sqlite_path=store_path))
    try:
        stats = ingest_datagrams(
            ((d.timestamp_s, d.payload) for d in datagrams[restart_at:]),
            store,
            source="udp",
            settings=IngestSettings(spool_dir=tmp_path / "spool"),
        )
        assert stats.packets_total == len(payloads) - restart_at
        assert store.fetch("SELECT session_uid FROM sessions") == [(uid,)]
        last_frame = max(
            struct.unpack_from("<I", p, 23)[0]
            for p, packet_id in zip(payloads, packet_ids, strict=True)
            if packet_id == PACKETS_BY_TABLE["lap_data"][0]
        )
        assert store.fetch(
            "SELECT MAX(overall_frame), COUNT(DISTINCT session_uid) FROM lap_data"
        ) == [(last_frame, 1)]
        # Laps complete after the restart as if nothing had happened.
        expected = _completed_lap_times(payloads[restart_at:])
        laps = store.fetch(
            "SELECT car_index, lap_time_s FROM laps WHERE session_uid = ? "
            "AND lap_number = 1",
            (uid,),
        )
        assert len(expected) == 20
        assert {car: round(t, 3) for car, t in laps} == expected
    finally:
        store.close()


def test_laps_held_back_when_killed_are_written_by_the_restarted_ingest(
    tmp_path: Path, melbourne_pcap: Path
) -> None:
    """A completed lap waits up to 3 s for its Session History row before it is
    written. Killed then, a restarted ingest reads the store's last seconds back and
    completes those laps again: none is lost, none is written twice, each has its
    driver's name (lost laps and a nameless lap were found by a tester)."""
    store_path = tmp_path / "store.sqlite3"
    # The leaders have crossed the line (3.5 s into the clip); their laps wait.
    _replay_and_kill_when(
        tmp_path,
        melbourne_pcap,
        store_path,
        "SELECT COUNT(DISTINCT car_index) FROM lap_data WHERE current_lap_num = 2",
        3,
    )
    crossed = _count(
        store_path,
        "SELECT COUNT(DISTINCT car_index) FROM lap_data WHERE current_lap_num = 2",
    )
    held_back = crossed - _count(store_path, "SELECT COUNT(*) FROM laps")
    assert held_back > 0, "no lap was waiting when the ingest was killed"

    datagrams = list(read_pcap(melbourne_pcap))
    payloads = [d.payload for d in datagrams]
    connection = sqlite3.connect(store_path)
    try:
        packet_ids = [struct.unpack_from("<B", p, 6)[0] for p in payloads]
        session_times_s = [float(struct.unpack_from("<f", p, 15)[0]) for p in payloads]
        prefix = _stored_prefix(connection, packet_ids, session_times_s)
        assert len(prefix) > 0, "the store does not hold a prefix of the stream"
    finally:
        connection.close()
    # The game goes on sending from where the store ends.
    store = open_store(StoreSettings(sqlite_path=store_path))
    try:
        ingest_datagrams(
            ((d.timestamp_s, d.payload) for d in datagrams[prefix.stop - 1 :]),
            store,
            source="udp",
            settings=IngestSettings(spool_dir=tmp_path / "spool"),
        )
        laps = store.fetch(
            "SELECT car_index, lap_number, lap_time_s, driver_name FROM laps"
        )
    finally:
        store.close()
    # Every car's first lap, timed as the capture's next lap data says.
    expected = _completed_lap_times(payloads)
    assert len(expected) == 20
    assert sorted((car, number) for car, number, _, _ in laps) == [
        (car, 1) for car in sorted(expected)
    ]
    assert {car: round(time_s, 3) for car, _, time_s, _ in laps} == expected
    assert all(name for _, _, _, name in laps), laps
