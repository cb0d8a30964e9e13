"""The outage spool on disk: whole batches in order, and what an earlier ingest left
behind is backfilled first by the next one."""

from __future__ import annotations

import logging
import pickle
import socket
import sqlite3
import threading
import time
from pathlib import Path
from socket import SOCK_DGRAM, SOCK_STREAM

import numpy as np
import pytest
from heavydb_server import HeavyDBServerProcess

from f1dash_tui.ingest.service import ingest_datagrams, run_listener
from f1dash_tui.ingest.session import SessionTracker
from f1dash_tui.ingest.spool import Spool, store_target
from f1dash_tui.settings import IngestSettings, Settings, StoreSettings
from f1dash_tui.store import open_store
from f1dash_tui.store.schema import TABLES
from f1dash_tui.telemetry.decode import Decoder
from f1dash_tui.telemetry.pcap import read_pcap

TARGET = "admin@127.0.0.1:6274/heavyai"


def test_spool_keeps_batches_in_order_across_reopening(tmp_path: Path) -> None:
    spool = Spool.for_target(tmp_path, "heavydb", TARGET)
    for start in (0, 10, 20):
        spool.append({"lap_data": {"frame": np.arange(start, start + 10)}})
    spool.append(
        {"event": {"event_code": np.array(["FLBK"], object)}}, uncertain="event"
    )
    spool.close()

    reopened = Spool.for_target(tmp_path, "heavydb", TARGET)
    assert (reopened.pending_batches, reopened.pending_rows) == (4, 31)
    frames = []
    for _ in range(3):
        oldest = reopened.oldest()
        assert oldest is not None and oldest.uncertain is None
        frames.extend(oldest.tables["lap_data"]["frame"].tolist())
        reopened.remove(oldest.seq)
    assert frames == list(range(30))
    last = reopened.oldest()
    assert last is not None and last.uncertain == "event"
    assert last.tables["event"]["event_code"].tolist() == ["FLBK"]
    reopened.remove(last.seq)
    assert reopened.oldest() is None and reopened.pending_rows == 0
    reopened.close()
    connection = sqlite3.connect(reopened.path)
    assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    connection.close()


def test_a_spool_left_behind_is_backfilled_before_new_data(
    tmp_path: Path, melbourne_pcap: Path
) -> None:
    datagrams = list(read_pcap(melbourne_pcap))
    half = len(datagrams) // 2
    # What an ingest that could not reach its store spooled before it stopped.
    tracker = SessionTracker(source="udp")
    decoded = Decoder().decode([d.payload for d in datagrams[:half]])
    first_half = tracker.process(
        decoded.tables, np.array([d.timestamp_s for d in datagrams[:half]])
    )
    store = open_store(StoreSettings(sqlite_path=tmp_path / "store.sqlite3"))
    target = store_target(store)
    spool = Spool.for_target(tmp_path / "spool", "sqlite", target)
    spool.append({k: v for k, v in first_half.items() if k in TABLES})
    spool.close()

    try:
        stats = ingest_datagrams(
            ((d.timestamp_s, d.payload) for d in datagrams[half:]),
            store,
            source="udp",
            settings=IngestSettings(spool_dir=tmp_path / "spool"),
        )
        assert stats.spooled_rows == 0
        lap_frames = sorted(
            {
                int.from_bytes(d.payload[19:23], "little")
                for d in datagrams
                if d.payload[6] == 2
            }
        )
        stored = store.fetch("SELECT DISTINCT frame FROM lap_data ORDER BY frame")
        assert [frame for (frame,) in stored] == lap_frames
        assert store.fetch("SELECT COUNT(*) FROM lap_data") == [(22 * len(lap_frames),)]
        # One session, started by the spooled (older) half.
        assert store.fetch("SELECT COUNT(*) FROM sessions") == [(1,)]
    finally:
        store.close()
    assert Spool.for_target(tmp_path / "spool", "sqlite", target).pending_batches == 0


def _free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_spool_is_backfilled_only_into_its_own_server(
    tmp_path: Path, melbourne_pcap: Path, caplog: pytest.LogCaptureFixture
) -> None:
    datagrams = list(read_pcap(melbourne_pcap))
    half = len(datagrams) // 2
    first_frames = {
        int.from_bytes(d.payload[19:23], "little") for d in datagrams[:half]
    }
    spool_dir = tmp_path / "spool"
    # Server A is down while the first half arrives: ingest spools it for A.
    server_a = HeavyDBServerProcess(
        tmp_path / "a.sqlite3", password="a-secret", port=_free_port(SOCK_STREAM)
    )
    udp_port = _free_port(SOCK_DGRAM)
    settings_a = Settings(
        store=server_a.store_settings(),
        ingest=IngestSettings(
            listen_host="127.0.0.1", listen_port=udp_port, spool_dir=spool_dir
        ),
    )
    stop = threading.Event()
    listener = threading.Thread(
        target=run_listener, args=(settings_a,), kwargs={"stop_event": stop}
    )
    listener.start()
    time.sleep(1.0)
    with socket.socket(socket.AF_INET, SOCK_DGRAM) as sender:
        for datagram in datagrams[:half]:
            sender.sendto(datagram.payload, ("127.0.0.1", udp_port))
            time.sleep(0.001)
    time.sleep(1.0)
    stop.set()
    listener.join(timeout=30)
    (spool_a,) = spool_dir.glob("spool-heavydb*.sqlite3")
    rows_for_a = Spool(spool_a, target=store_target_of(server_a)).pending_rows
    assert rows_for_a > 0
    assert "a-secret" not in spool_a.name
    assert b"a-secret" not in spool_a.read_bytes()

    # The next ingest goes to server B: A's spool stays put, said in one line.
    server_b = HeavyDBServerProcess(
        tmp_path / "b.sqlite3", password="b-secret", port=_free_port(SOCK_STREAM)
    )
    server_b.start()
    try:
        store_b = open_store(server_b.store_settings())
        caplog.set_level(logging.WARNING, logger="f1dash_tui.ingest.pipeline")
        stats = ingest_datagrams(
            ((d.timestamp_s, d.payload) for d in datagrams[half:]),
            store_b,
            source="udp",
            settings=IngestSettings(spool_dir=spool_dir),
        )
        frames_b = {f for (f,) in store_b.fetch("SELECT DISTINCT frame FROM lap_data")}
        store_b.close()
    finally:
        server_b.stop()
    assert frames_b and not frames_b & first_frames
    target_a = store_target_of(server_a)
    assert target_a in stats.spool_note and target_a in stats.status_line()
    notes = [r for r in caplog.records if target_a in r.getMessage()]
    assert len(notes) == 1, [r.getMessage() for r in caplog.records]
    assert Spool(spool_a, target=target_a).pending_rows == rows_for_a

    # Server A back: its own spool is backfilled there, before the new rows.
    server_a.start()
    try:
        store_a = open_store(server_a.store_settings())
        stats = ingest_datagrams(
            ((d.timestamp_s, d.payload) for d in datagrams[half:]),
            store_a,
            source="udp",
            settings=IngestSettings(spool_dir=spool_dir),
        )
        frames_a = {f for (f,) in store_a.fetch("SELECT DISTINCT frame FROM lap_data")}
        store_a.close()
    finally:
        server_a.stop()
    assert stats.spool_note == ""
    # Every first-half frame the spool held landed in A (it only has lap data
    # frames of the first half from the spool: the new half is the same as B's).
    lap_frames_first = {
        int.from_bytes(d.payload[19:23], "little")
        for d in datagrams[:half]
        if d.payload[6] == 2
    }
    assert lap_frames_first and lap_frames_first <= frames_a
    assert Spool(spool_a, target=target_a).pending_rows == 0


def store_target_of(server: HeavyDBServerProcess) -> str:
    """user@host:port/database of a test server, as the spool names it."""
    heavy = server.store_settings().heavydb
    return f"{heavy.user}@{heavy.host}:{heavy.port}/{heavy.database}"


def test_a_spool_that_names_no_target_is_left_alone_and_reported(
    tmp_path: Path, melbourne_pcap: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A spool as written before spools named their store: no way to tell where
    # its rows belong, so they must not be backfilled into whatever store is next.
    spool_dir = tmp_path / "spool"
    spool_dir.mkdir()
    legacy = spool_dir / "spool-sqlite.sqlite3"
    with sqlite3.connect(legacy) as connection:
        connection.execute(
            "CREATE TABLE batches (seq INTEGER PRIMARY KEY, rows INTEGER NOT NULL, "
            "payload BLOB NOT NULL)"
        )
        connection.execute(
            "INSERT INTO batches (rows, payload) VALUES (?, ?)",
            (7, pickle.dumps({"tables": {}, "uncertain": None})),
        )
    connection.close()
    payloads = [(d.timestamp_s, d.payload) for d in read_pcap(melbourne_pcap)][:50]
    store = open_store(StoreSettings(sqlite_path=tmp_path / "store.sqlite3"))
    try:
        stats = ingest_datagrams(
            payloads, store, source="udp", settings=IngestSettings(spool_dir=spool_dir)
        )
    finally:
        store.close()
    assert "7 rows spooled for an unknown store" in stats.spool_note
    assert stats.spool_note in stats.status_line()
    assert any(str(legacy) in r.getMessage() for r in caplog.records)
    with sqlite3.connect(legacy) as connection:
        assert connection.execute(
            "SELECT COUNT(*), SUM(rows) FROM batches"
        ).fetchone() == (
            1,
            7,
        )
    connection.close()
