"""A HeavyDB server (the wire-compatible test server, as a process) stopped for
several seconds in the middle of a stream: ingest spools, then backfills in order,
and every row arrives exactly once, counted by frame and car."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections import Counter
from pathlib import Path

from heavydb_server import HeavyDBServerProcess

from f1dash_tui.ingest.pipeline import IngestStats
from f1dash_tui.ingest.service import replay_to_store, run_listener
from f1dash_tui.settings import IngestSettings, Settings
from f1dash_tui.store import open_store
from f1dash_tui.telemetry.pcap import read_pcap

PASSWORD = "outage-test"
CARS = 22
PER_CAR_TABLES = {"motion": 0, "lap_data": 2, "car_telemetry": 6, "car_status": 7}
THINNED_TABLES = {"motion", "car_status"}
"""Kept for at most one packet per 0.1 s of session time (96 ms apart)."""
OUTAGE_S = 4.0


def _kept_frames(packets: list[tuple[float, int]]) -> list[int]:
    """Frames of the packets ingest keeps of a thinned kind: the first, then each
    one at least 96 ms of session time after the last kept (or before it)."""
    kept: list[int] = []
    last_s: float | None = None
    for time_s, frame in packets:
        if last_s is None or time_s >= last_s + (0.1 - 0.004) or time_s < last_s:
            kept.append(frame)
            last_s = time_s
    return kept


def test_heavydb_outage_mid_stream_loses_no_row(
    tmp_path: Path, melbourne_pcap: Path
) -> None:
    # (packet id, frame, session time) from the 2026 header: id at byte 6, frame
    # at byte 19, session time (float32) at byte 15.
    headers = [
        (
            d.payload[6],
            struct.unpack_from("<I", d.payload, 19)[0],
            float(struct.unpack_from("<f", d.payload, 15)[0]),
        )
        for d in read_pcap(melbourne_pcap)
    ]
    expected_frames = {}
    for table, wanted in PER_CAR_TABLES.items():
        packets = [(time_s, frame) for kind, frame, time_s in headers if kind == wanted]
        frames = (
            _kept_frames(packets)
            if table in THINNED_TABLES
            else [frame for _, frame in packets]
        )
        expected_frames[table] = Counter(frames)
    events_in_capture = sum(1 for packet_id, _, _ in headers if packet_id == 3)

    server = HeavyDBServerProcess(tmp_path / "heavy.sqlite3", password=PASSWORD)
    server.start()
    try:
        store = open_store(server.store_settings())
        results: list[IngestStats] = []
        spool_dir = tmp_path / "spool"

        def replay() -> None:
            # 2x the recorded pace: the 21 s clip takes ~10.5 s.
            results.append(
                replay_to_store(
                    melbourne_pcap,
                    store,
                    speed=2.0,
                    settings=IngestSettings(spool_dir=spool_dir),
                )
            )

        feeder = threading.Thread(target=replay)
        feeder.start()
        time.sleep(2.5)
        server.kill()  # a crashed server: connections refused from here on
        time.sleep(OUTAGE_S)
        assert list(spool_dir.glob("spool-heavydb-*.sqlite3")), "nothing spooled"
        server.start()  # same port, same database file
        feeder.join(timeout=120)
        assert not feeder.is_alive()
        (stats,) = results
        assert stats.spooled_rows == 0 and stats.store_error == ""
        assert stats.packets_total == len(headers)

        for table, frames in expected_frames.items():
            rows = store.fetch(
                f"SELECT frame, car_index, COUNT(*) FROM {table} "
                "GROUP BY frame, car_index"
            )
            per_frame = Counter(int(frame) for frame, _, _ in rows)
            assert all(count == 1 for _, _, count in rows), f"{table}: duplicates"
            assert per_frame == Counter(dict.fromkeys(frames, CARS)), table
        assert store.fetch("SELECT COUNT(*) FROM event") == [(events_in_capture,)]
        assert store.fetch("SELECT COUNT(*) FROM sessions") == [(1,)]
        spooled_seen = store.fetch("SELECT MAX(spooled_rows) FROM ingest_stats")
        assert spooled_seen[0][0] > 0  # the outage was reported in the statistics
        store.close()
    finally:
        server.stop()


def _free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_server_unreachable_at_start_spools_until_it_comes_up(
    tmp_path: Path, melbourne_pcap: Path
) -> None:
    datagrams = list(read_pcap(melbourne_pcap))
    lap_frames = Counter(
        struct.unpack_from("<I", d.payload, 19)[0]
        for d in datagrams
        if d.payload[6] == PER_CAR_TABLES["lap_data"]
    )
    server = HeavyDBServerProcess(
        tmp_path / "heavy.sqlite3",
        password=PASSWORD,
        port=_free_port(socket.SOCK_STREAM),
    )
    udp_port = _free_port(socket.SOCK_DGRAM)
    settings = Settings(
        store=server.store_settings(),
        ingest=IngestSettings(
            listen_host="127.0.0.1", listen_port=udp_port, spool_dir=tmp_path / "spool"
        ),
    )
    stop = threading.Event()
    errors: list[Exception] = []

    def listen() -> None:
        try:
            run_listener(settings, stop_event=stop)
        except Exception as error:  # noqa: BLE001 - handed to the test thread
            errors.append(error)

    listener = threading.Thread(target=listen)
    listener.start()
    try:
        suffix = f":{udp_port:04X}"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any(
            line.split()[1].endswith(suffix)
            for line in Path("/proc/net/udp").read_text().splitlines()[1:]
        ):
            time.sleep(0.05)
        half = len(datagrams) // 2
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            for datagram in datagrams[:half]:
                sender.sendto(datagram.payload, ("127.0.0.1", udp_port))
                time.sleep(0.001)
            time.sleep(1.0)
            assert list((tmp_path / "spool").glob("spool-heavydb-*.sqlite3"))
            server.start()
            for datagram in datagrams[half:]:
                sender.sendto(datagram.payload, ("127.0.0.1", udp_port))
                time.sleep(0.001)
        store = open_store(server.store_settings())
        deadline = time.monotonic() + 60
        rows: list = []
        while time.monotonic() < deadline:
            rows = store.fetch("SELECT MAX(packets_total) FROM ingest_stats")
            if rows and rows[0][0] == len(datagrams):
                break
            time.sleep(0.5)
        assert rows == [(len(datagrams),)]
        assert not errors
        per_frame = Counter(
            dict(store.fetch("SELECT frame, COUNT(*) FROM lap_data GROUP BY frame"))
        )
        assert per_frame == Counter(dict.fromkeys(lap_frames, CARS))
        assert store.fetch("SELECT COUNT(*) FROM sessions") == [(1,)]
        store.close()
    finally:
        stop.set()
        listener.join(timeout=60)
        server.stop()
