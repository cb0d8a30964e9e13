"""The SQLite backend: files, versions, read-only viewers, and index-driven queries."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from store_fixtures import capture_store_tables

from f1dash_tui.errors import SchemaVersionError, StoreError, StoreUnavailableError
from f1dash_tui.settings import StoreSettings
from f1dash_tui.store import open_store
from f1dash_tui.store.queries import DashboardQueries
from f1dash_tui.store.schema import SCHEMA_VERSION
from f1dash_tui.store.snapshots import LapKey
from f1dash_tui.store.sqlite import WAL_AUTOCHECKPOINT_PAGES, SQLiteStore


def _settings(path: Path) -> StoreSettings:
    return StoreSettings(kind="sqlite", sqlite_path=path)


def test_creates_the_folder_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "f1.sqlite3"
    store = open_store(_settings(path))
    try:
        assert store.backend == "sqlite"
        assert store.fetch("PRAGMA journal_mode") == [("wal",)]
    finally:
        store.close()
    assert path.is_file()


def test_another_schema_version_says_what_to_do_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    open_store(_settings(path)).close()
    connection = sqlite3.connect(path)
    with connection:
        connection.execute(
            "INSERT INTO store_meta (meta_key, meta_value) VALUES (?, ?)",
            ("schema_version", str(SCHEMA_VERSION + 1)),
        )
    connection.close()
    for read_only in (False, True):
        with pytest.raises(SchemaVersionError) as caught:
            open_store(_settings(path), read_only=read_only)
        message = str(caught.value)
        assert "\n" not in message
        assert str(path) in message
        assert f"schema version {SCHEMA_VERSION + 1}" in message
        assert "sqlite_path" in message and "delete" in message


def test_a_file_that_is_not_a_database_is_one_line_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"lap times: 1:20.235, 1:20.412\n" * 200)
    for read_only in (False, True):
        with pytest.raises(StoreError) as caught:
            open_store(_settings(path), read_only=read_only)
        assert "\n" not in str(caught.value)
        assert str(path) in str(caught.value)
    assert path.read_bytes().startswith(b"lap times")  # left untouched


def test_an_empty_file_is_a_store_not_created_yet(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    sqlite3.connect(path).close()  # exists, no tables: a writer just started
    with pytest.raises(StoreUnavailableError, match="not created the store yet"):
        open_store(_settings(path), read_only=True)
    open_store(_settings(path)).close()
    open_store(_settings(path), read_only=True).close()


def test_another_programs_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite3"
    connection = sqlite3.connect(path)
    with connection:
        connection.execute("CREATE TABLE cars (name TEXT)")
    connection.close()
    with pytest.raises(SchemaVersionError, match="not an f1dash-tui store"):
        open_store(_settings(path))


def test_viewers_open_read_only(tmp_path: Path) -> None:
    path = tmp_path / "f1.sqlite3"
    with pytest.raises(StoreError, match="no store at"):
        open_store(_settings(path), read_only=True)
    assert not path.exists()
    open_store(_settings(path)).close()
    viewer = open_store(_settings(path), read_only=True)
    try:
        with pytest.raises(StoreError, match="read-only"):
            viewer.write_batch({})
        with pytest.raises(StoreError, match=r"readonly|read-only"):
            viewer.fetch("DELETE FROM sessions")
    finally:
        viewer.close()


class _RecordingStore:
    """Passes queries to a store and remembers every (sql, params)."""

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store
        self.backend = store.backend
        self.read_only = True
        self.statements: list[tuple[str, tuple[Any, ...]]] = []

    @property
    def schema_version(self) -> int:
        return self.store.schema_version

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self.statements.append((sql, tuple(params)))
        return self.store.fetch(sql, params)

    def write_batch(self, tables: object) -> int:
        raise AssertionError("queries never write")

    def close(self) -> None:
        self.store.close()


def test_every_dashboard_query_is_an_index_search(
    tmp_path: Path, melbourne_decoded: dict[str, Any]
) -> None:
    path = tmp_path / "f1.sqlite3"
    with SQLiteStore(path) as writer:
        writer.write_batch(capture_store_tables(melbourne_decoded, "test"))
    store = SQLiteStore(path, read_only=True)
    recording = _RecordingStore(store)
    queries = DashboardQueries(recording)  # type: ignore[arg-type]
    info = queries.latest_session()
    assert info is not None
    uid = info.session_uid
    tower = queries.timing_tower(uid)
    assert tower is not None
    queries.car_samples(uid, 21, tower.rows[0].lap_number, after_frame=0)
    queries.car_state(uid, 21)
    queries.positions(uid)
    best = queries.best_laps(0)
    queries.reference_lap(LapKey(uid, best[0].key.car_index, best[0].key.lap_number))
    queries.events(uid, after_event_id=3)
    queries.pipeline_health()
    assert len(recording.statements) > 15
    try:
        for sql, params in recording.statements:
            plan = [row[3] for row in store.fetch(f"EXPLAIN QUERY PLAN {sql}", params)]
            # A SCAN is only fine along an index with a LIMIT (the newest row).
            scans = [step for step in plan if step.startswith("SCAN")]
            for step in scans:
                assert "INDEX" in step and "LIMIT" in sql, f"{sql}\n{plan}"
            assert any("USING" in step for step in plan), f"{sql}\n{plan}"
    finally:
        store.close()


def test_a_second_writer_is_told_the_store_is_locked(tmp_path: Path) -> None:
    path = tmp_path / "f1.sqlite3"
    open_store(_settings(path)).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer mid-transaction
    try:
        started = time.monotonic()
        with pytest.raises(StoreUnavailableError, match="locked by another writer"):
            open_store(_settings(path))
        assert time.monotonic() - started >= 4.5  # waited busy_timeout (5 s) first
        viewer = open_store(_settings(path), read_only=True)  # readers never wait
        assert viewer.fetch("SELECT COUNT(*) FROM sessions") == [(0,)]
        viewer.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def _idle_stats_row(unix_s: float) -> dict[str, dict[str, np.ndarray]]:
    """The ingest_stats row an ingest with nothing to receive writes each second."""
    return {
        "ingest_stats": {
            "unix_s": np.array([unix_s]),
            "last_packet_unix_s": np.array([np.nan]),
            "session_uid": np.array([0], "i8"),
            "packets_total": np.array([9], "i8"),
            "packets_per_s": np.array([0.0]),
            "bad_total": np.array([0], "i8"),
            "bad_by_reason": np.array(["{}"], object),
            "write_lag_s": np.array([np.nan]),
            "spooled_rows": np.array([0], "i8"),
        }
    }


def test_an_idle_ingests_write_ahead_log_stays_bounded(tmp_path: Path) -> None:
    """An ingest with nothing to receive still commits a statistics row a second,
    and the WAL grows by a few pages each time. SQLite folds it into the file every
    WAL_AUTOCHECKPOINT_PAGES pages and then reuses it: the -wal file levels off at
    ~40 MB instead of growing for as long as the ingest runs."""
    path = tmp_path / "idle.sqlite3"
    store = SQLiteStore(path)
    page_bytes = store.fetch("PRAGMA page_size")[0][0]
    file_before = path.stat().st_size
    wal = path.with_name(path.name + "-wal")
    wal_sizes = []
    for second in range(8_000):  # over two hours of one row a second
        store.write_batch(_idle_stats_row(1.8e9 + second))
        if second % 500 == 499:
            wal_sizes.append(wal.stat().st_size)
    store.close()
    # Each WAL frame is a page plus a 24-byte header; 32 KB of WAL file header.
    ceiling = (WAL_AUTOCHECKPOINT_PAGES + 50) * (page_bytes + 24) + 32
    assert max(wal_sizes) <= ceiling
    assert wal_sizes[-1] == max(wal_sizes)  # reused, no longer growing
    assert wal_sizes.count(max(wal_sizes)) >= 2
    assert path.stat().st_size > file_before  # checkpoints moved the rows in


def test_closing_the_writer_folds_the_log_into_the_file_while_a_viewer_reads(
    tmp_path: Path,
) -> None:
    """SQLite folds the WAL into the file when the last connection closes, not
    while a dashboard keeps the store open: without a checkpoint of its own, the
    writer's close left the newest rows only in the -wal file, and a copy of the
    .sqlite3 file alone lost them."""
    path = tmp_path / "live.sqlite3"
    writer = SQLiteStore(path)
    viewer = SQLiteStore(path, read_only=True)
    try:
        for second in range(200):
            writer.write_batch(_idle_stats_row(1.8e9 + second))
            if second % 50 == 0:
                viewer.fetch("SELECT COUNT(*) FROM ingest_stats")
        started = time.monotonic()
        writer.close()
        assert time.monotonic() - started < 2.0  # an open viewer never holds it up
        assert viewer.fetch("SELECT COUNT(*) FROM ingest_stats") == [(200,)]
        copy = tmp_path / "elsewhere" / "copy.sqlite3"
        copy.parent.mkdir()
        shutil.copyfile(path, copy)  # the main file only, not its -wal
        connection = sqlite3.connect(copy)
        try:
            rows = connection.execute("SELECT COUNT(*) FROM ingest_stats").fetchone()
        finally:
            connection.close()
        assert rows == (200,)
    finally:
        viewer.close()


def test_a_reader_mid_query_does_not_hold_up_the_writers_close(tmp_path: Path) -> None:
    path = tmp_path / "live.sqlite3"
    writer = SQLiteStore(path)
    writer.write_batch({})
    reader = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM sessions").fetchall()  # holds a snapshot
        started = time.monotonic()
        writer.close()
        assert time.monotonic() - started < 2.0  # not BUSY_TIMEOUT_MS (5 s)
    finally:
        reader.close()


READER_LOOP = """
import sys, time
from pathlib import Path
from f1dash_tui.errors import StoreError
from f1dash_tui.store.sqlite import SQLiteStore
reader = SQLiteStore(Path(sys.argv[1]), read_only=True)
print("ready", flush=True)
until = time.monotonic() + float(sys.argv[2])
while time.monotonic() < until:
    try:
        reader.fetch("SELECT COUNT(*), SUM(speed_kph) FROM car_telemetry")
    except StoreError:
        pass  # the file is garbage for a moment: an error, as the app shows it
print("survived", flush=True)
"""


def test_a_store_overwritten_in_place_under_a_reader_is_an_error_not_a_crash(
    melbourne_store: Path, tmp_path: Path
) -> None:
    """``cp other.sqlite3 store.sqlite3`` truncates the file in place: a reader that
    mapped it died of SIGBUS on its next read (a whole test run did)."""
    path = tmp_path / "store.sqlite3"
    shutil.copyfile(melbourne_store, path)
    original = path.read_bytes()
    reader = subprocess.Popen(
        [sys.executable, "-c", READER_LOOP, str(path), "6"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout is not None
        assert reader.stdout.readline().strip() == "ready"
        time.sleep(0.5)
        for _ in range(5):
            with path.open("r+b") as file:
                file.truncate(4096)  # cut short under the reader's feet
            time.sleep(0.3)
            path.write_bytes(original)
            time.sleep(0.3)
        out, _ = reader.communicate(timeout=60)
    finally:
        if reader.poll() is None:
            reader.kill()
            reader.wait()
    assert reader.returncode == 0, f"reader died: {reader.returncode} ({out!r})"
    assert out.strip() == "survived"
