"""packets/s over a recent wall-clock window, allow-list refusals counted apart,
and a prompt stop while the HeavyDB store is down (real sockets, real SQLite)."""

from __future__ import annotations

import io
import itertools
import logging
import queue
import socket
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from f1dash_tui.ingest.pipeline import IngestPipeline, IngestStats
from f1dash_tui.ingest.service import replay_to_store, run_listener
from f1dash_tui.settings import HeavyDBSettings, IngestSettings, Settings, StoreSettings
from f1dash_tui.store import open_store
from f1dash_tui.telemetry.listener import ReceivedDatagram, UdpListener
from f1dash_tui.telemetry.pcap import read_pcap

SEND_RATE_HZ = 200


def test_rate_follows_the_stream_and_falls_to_zero_when_it_stops(
    tmp_path: Path, melbourne_pcap: Path
) -> None:
    payloads = [d.payload for d in read_pcap(melbourne_pcap)][:600]
    store = open_store(StoreSettings(sqlite_path=tmp_path / "store.sqlite3"))
    pipeline = IngestPipeline(
        store, IngestSettings(spool_dir=tmp_path / "spool"), source="udp"
    )
    pipeline.start()
    try:
        # 200 datagrams/s for 2.5 s, in 10 ms steps of 2.
        started = time.monotonic()
        for step, index in enumerate(range(0, 500, 2)):
            time.sleep(max(0.0, started + step * 0.01 - time.monotonic()))
            for payload in payloads[index : index + 2]:
                pipeline.submit(time.time(), payload)
        time.sleep(0.3)  # > batch_max_s: the last batch reached the writer
        flowing = pipeline.stats().packets_per_s
        stopped_at = time.time()
        time.sleep(4.5)  # > the 3 s window + one idle stats row
        idle = pipeline.stats().packets_per_s
    finally:
        pipeline.stop()
    rows = store.fetch(
        "SELECT unix_s, packets_per_s FROM ingest_stats ORDER BY unix_s", ()
    )
    store.close()
    assert 0.6 * SEND_RATE_HZ <= flowing <= 1.4 * SEND_RATE_HZ, flowing
    assert idle == 0.0
    idle_rows = [(t, rate) for t, rate in rows if t > stopped_at + 3.5]
    assert idle_rows and all(rate == 0.0 for _, rate in idle_rows), rows
    # A stats row at least every second while idle, so readers see the drop.
    idle_times = [t for t, _ in rows if t > stopped_at]
    gaps = [b - a for a, b in itertools.pairwise(idle_times)]
    assert len(idle_times) >= 4 and max(gaps) <= 1.2, idle_times
    flowing_rows = [rate for t, rate in rows if t < stopped_at and rate > 0]
    assert flowing_rows and max(flowing_rows) <= 1.4 * SEND_RATE_HZ, rows


def test_replay_at_pace_reports_its_rate_and_zero_once_it_ends(
    tmp_path: Path, melbourne_pcap: Path
) -> None:
    # The clip: 21 s of the game's stream; at 4x about 5 s.
    datagrams = list(read_pcap(melbourne_pcap))
    clip_rate = len(datagrams) / (datagrams[-1].timestamp_s - datagrams[0].timestamp_s)
    store = open_store(StoreSettings(sqlite_path=tmp_path / "store.sqlite3"))
    try:
        replay_to_store(
            melbourne_pcap,
            store,
            speed=4.0,
            settings=IngestSettings(spool_dir=tmp_path / "spool"),
        )
        rates = [
            rate
            for (rate,) in store.fetch(
                "SELECT packets_per_s FROM ingest_stats ORDER BY unix_s", ()
            )
        ]
    finally:
        store.close()
    # After the first 3 s window fills, the rows show ~4x the clip's rate.
    steady = rates[3:-1]
    assert steady, rates
    assert all(0.6 * 4 * clip_rate <= r <= 1.4 * 4 * clip_rate for r in steady), (
        clip_rate,
        rates,
    )
    assert rates[-1] == 0.0


def test_refused_senders_are_counted_apart_and_logged_once_per_address(
    caplog: pytest.LogCaptureFixture,
) -> None:
    received: queue.Queue[ReceivedDatagram] = queue.Queue(100)
    caplog.set_level(logging.WARNING, logger="f1dash_tui.telemetry.listener")
    with (
        UdpListener(
            "127.0.0.1", 0, received, allowed_senders=("192.0.2.7",)
        ) as listener,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender,
    ):
        for _ in range(30):
            sender.sendto(b"x" * 29, listener.address)
        deadline = time.monotonic() + 5
        while listener.rejected_senders < 30 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert listener.rejected_senders == 30
    assert received.empty()
    warnings = [r for r in caplog.records if "127.0.0.1" in r.getMessage()]
    assert len(warnings) == 1 and "not allowed" in warnings[0].getMessage()
    stats = IngestStats(packets_total=0, refused_senders=30)
    assert stats.bad_packets == 0
    assert "30 refused (sender not allowed)" in stats.status_line()
    assert "bad 0" in stats.status_line()


def _closed_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_stop_with_the_store_down_is_prompt_and_keeps_the_spool(
    tmp_path: Path, melbourne_pcap: Path
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        udp_port = probe.getsockname()[1]
    settings = Settings(
        store=StoreSettings(
            kind="heavydb",
            heavydb=HeavyDBSettings(
                host="127.0.0.1", port=_closed_tcp_port(), password="x"
            ),
        ),
        ingest=IngestSettings(
            listen_host="127.0.0.1",
            listen_port=udp_port,
            spool_dir=tmp_path / "spool",
        ),
    )
    status = io.StringIO()
    stop = threading.Event()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            run_listener(settings, status_stream=status, stop_event=stop)
        except Exception as error:  # noqa: BLE001 - handed to the test thread
            errors.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    payloads = [d.payload for d in read_pcap(melbourne_pcap)][:300]
    time.sleep(1.0)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for payload in payloads:
            sender.sendto(payload, ("127.0.0.1", udp_port))
            time.sleep(0.002)
    time.sleep(2.0)  # spooled, and the writer is backing off between retries
    stopping = time.monotonic()
    stop.set()
    thread.join(timeout=30)
    took_s = time.monotonic() - stopping
    assert not errors
    assert took_s < 2.5, took_s
    text = status.getvalue()
    # Every redraw clears what a longer earlier one left on the line.
    redraws = text.split("\r")[1:]
    assert redraws and all("\x1b[K" in line for line in redraws), text
    kept = [line for line in text.splitlines() if "kept in the spool" in line]
    assert len(kept) == 1, text
    spools = list((tmp_path / "spool").glob("spool-heavydb*.sqlite3"))
    assert len(spools) == 1
    with sqlite3.connect(spools[0]) as connection:
        rows = connection.execute("SELECT COALESCE(SUM(rows), 0) FROM batches")
        assert rows.fetchone()[0] > 0


def test_each_stats_row_names_the_newest_packet_written_with_it(
    tmp_path: Path, melbourne_pcap: Path
) -> None:
    """The dashboard's data age comes from ingest_stats.last_packet_unix_s: the row
    written with a batch must carry that batch's newest packet, not the previous
    batch's (which is ~0.1 s older, or none at all for the first row)."""
    payloads = [d.payload for d in read_pcap(melbourne_pcap)][:300]
    store = open_store(StoreSettings(sqlite_path=tmp_path / "store.sqlite3"))
    pipeline = IngestPipeline(
        store,
        IngestSettings(spool_dir=tmp_path / "spool"),
        source="udp",
        stats_interval_s=0.0,  # a stats row with every batch
    )
    recv_times = [1_000_000.0 + number * 0.001 for number in range(len(payloads))]
    pipeline.start()
    try:
        for recv_unix_s, payload in zip(recv_times, payloads, strict=True):
            pipeline.submit(recv_unix_s, payload)
    finally:
        pipeline.stop()
        store.close()
    with sqlite3.connect(tmp_path / "store.sqlite3") as connection:
        stamped = connection.execute(
            "SELECT last_packet_unix_s FROM ingest_stats WHERE packets_total > 0 "
            "ORDER BY unix_s"
        ).fetchall()
    assert stamped, "no ingest_stats row counts a packet"
    first = stamped[0][0]
    assert first is not None, "the first stats row with packets names none of them"
    assert first in recv_times
    assert stamped[-1][0] == recv_times[-1]
