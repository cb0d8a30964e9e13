"""A capture replayed into a store that already holds its session resumes it: rows
the store has are not written again, and a replay stopped part-way and started again
ends with exactly what one whole replay stores. On both backends. The same holds
for one running ingest that is sent the same session twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from f1dash_tui.ingest.pipeline import IngestStats
from f1dash_tui.ingest.service import ingest_datagrams, replay_to_store
from f1dash_tui.settings import StoreSettings
from f1dash_tui.store import open_store
from f1dash_tui.store.schema import TABLES
from f1dash_tui.telemetry.pcap import read_pcap

TABLES_WITH_ROWS = ("lap_data", "car_telemetry", "motion", "event", "laps")


def row_counts(settings: StoreSettings) -> dict[str, int]:
    store = open_store(settings, read_only=True)
    try:
        return {
            table: int(store.fetch(f"SELECT COUNT(*) FROM {table}")[0][0])
            for table in sorted(TABLES)
            if table != "ingest_stats"  # one row per stats interval of each run
        }
    finally:
        store.close()


def distinct_lap_samples(settings: StoreSettings) -> int:
    store = open_store(settings, read_only=True)
    try:
        rows = store.fetch(
            "SELECT COUNT(*) FROM (SELECT DISTINCT session_uid, overall_frame, "
            "car_index FROM lap_data) AS samples"
        )
    finally:
        store.close()
    return int(rows[0][0])


def cut_capture(melbourne_pcap: Path, tmp_path: Path, datagrams: int) -> Path:
    """The first ``datagrams`` whole records of the clip (a replay stopped there)."""
    whole = list(read_pcap(melbourne_pcap))
    end = 24 + sum(16 + 42 + len(d.payload) for d in whole[:datagrams])
    cut = tmp_path / "first-part.pcap"
    cut.write_bytes(melbourne_pcap.read_bytes()[:end])
    return cut


def replay(pcap: Path, settings: StoreSettings) -> IngestStats:
    store = open_store(settings)
    try:
        stats = replay_to_store(pcap, store, speed=None)
    finally:
        store.close()
    assert stats.spooled_rows == 0
    return stats


@pytest.fixture
def once(
    melbourne_pcap: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, int]:
    """Row counts of one whole replay of the clip into a fresh SQLite store."""
    path = tmp_path_factory.mktemp("once") / "once.sqlite3"
    settings = StoreSettings(kind="sqlite", sqlite_path=path)
    replay(melbourne_pcap, settings)
    return row_counts(settings)


def test_replaying_the_same_capture_again_adds_nothing(
    melbourne_pcap: Path, store_settings: StoreSettings, once: dict[str, int]
) -> None:
    first = replay(melbourne_pcap, store_settings)
    assert first.laps_completed == once["laps"] and first.rows_already_stored == 0
    assert row_counts(store_settings) == once
    again = replay(melbourne_pcap, store_settings)
    assert row_counts(store_settings) == once
    # Its summary said "20 laps completed" though none was written.
    assert again.laps_completed == 0
    # Every row the first wrote is held already, but for its one sessions row
    # (a known session gets none, so none is skipped). The summary once said
    # "2 rows": the run's own ingest_stats rows.
    assert again.rows_already_stored == first.rows_written - 1
    assert str(again) == (
        f"{first.packets_total:,} packets, 0 rows, 0 laps completed, 0 bad, "
        f"{first.rows_written - 1:,} rows the store held already (not written again)"
    )
    # 22 cars at every frame of the clip, each once.
    assert distinct_lap_samples(store_settings) == once["lap_data"]
    assert all(once[table] > 0 for table in TABLES_WITH_ROWS), once


def test_a_replay_stopped_part_way_resumes_where_the_store_ends(
    melbourne_pcap: Path,
    store_settings: StoreSettings,
    once: dict[str, int],
    tmp_path: Path,
) -> None:
    # 3,000 of the clip's 7,124 datagrams: before its lap change (laps come later).
    replay(cut_capture(melbourne_pcap, tmp_path, 3000), store_settings)
    part = row_counts(store_settings)
    assert 0 < part["lap_data"] < once["lap_data"]
    replay(melbourne_pcap, store_settings)
    assert row_counts(store_settings) == once


def test_one_running_ingest_sent_the_same_session_twice_stores_it_once(
    melbourne_pcap: Path, store_settings: StoreSettings, once: dict[str, int]
) -> None:
    """`replay --to-udp` run twice at one live ingest: the second pass's overall
    frames go back to the start of the session. It used to be stored again (every
    lap sample and completed lap twice, the tower stuck on the first pass)."""
    payloads = [d.payload for d in read_pcap(melbourne_pcap)]
    twice = [(float(i), payload) for i, payload in enumerate(payloads + payloads)]
    store = open_store(store_settings)
    try:
        stats = ingest_datagrams(twice, store, source="udp")
    finally:
        store.close()
    assert stats.packets_total == 2 * len(payloads)
    assert row_counts(store_settings) == once
    assert distinct_lap_samples(store_settings) == once["lap_data"]


def test_one_datagram_far_ahead_does_not_make_the_rest_look_sent_again(
    melbourne_pcap: Path, store_settings: StoreSettings, once: dict[str, int]
) -> None:
    """A copy of a lap-data datagram with its overall frame (bytes 23-26 of the
    2026 header) set to 4,000,000,000: the datagrams after it are behind it, but
    are not a resend. It is counted and left out; the store holds what one clean
    replay stores."""
    payloads = [d.payload for d in read_pcap(melbourne_pcap)]
    middle = next(
        i for i in range(len(payloads) // 2, len(payloads)) if payloads[i][6] == 2
    )
    far_ahead = bytearray(payloads[middle])
    far_ahead[23:27] = (4_000_000_000).to_bytes(4, "little")
    stream = [*payloads[: middle + 1], bytes(far_ahead), *payloads[middle + 1 :]]
    store = open_store(store_settings)
    try:
        stats = ingest_datagrams(
            [(float(i), p) for i, p in enumerate(stream)], store, source="udp"
        )
    finally:
        store.close()
    assert stats.bad_by_reason == {"ingest: overall frame far ahead": 1}
    assert row_counts(store_settings) == once
