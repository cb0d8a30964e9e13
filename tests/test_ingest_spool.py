"""The outage spool on disk: whole batches in order, and what an earlier ingest left
behind is backfilled first by the next one."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from f1dash_tui.ingest.service import ingest_datagrams
from f1dash_tui.ingest.session import SessionTracker
from f1dash_tui.ingest.spool import Spool
from f1dash_tui.settings import IngestSettings, StoreSettings
from f1dash_tui.store import open_store
from f1dash_tui.store.schema import TABLES
from f1dash_tui.telemetry.decode import Decoder
from f1dash_tui.telemetry.pcap import read_pcap


def test_spool_keeps_batches_in_order_across_reopening(tmp_path: Path) -> None:
    spool = Spool.for_backend(tmp_path, "heavydb")
    for start in (0, 10, 20):
        spool.append({"lap_data": {"frame": np.arange(start, start + 10)}})
    spool.append(
        {"event": {"event_code": np.array(["FLBK"], object)}}, uncertain="event"
    )
    spool.close()

    reopened = Spool.for_backend(tmp_path, "heavydb")
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
    connection = sqlite3.connect(tmp_path / "spool-heavydb.sqlite3")
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
    spool = Spool.for_backend(tmp_path / "spool", "sqlite")
    spool.append({k: v for k, v in first_half.items() if k in TABLES})
    spool.close()

    store = open_store(StoreSettings(sqlite_path=tmp_path / "store.sqlite3"))
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
    assert Spool.for_backend(tmp_path / "spool", "sqlite").pending_batches == 0
