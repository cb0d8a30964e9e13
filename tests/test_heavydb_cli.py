"""The installed command against a HeavyDB test server process, as a user runs it.

A wrong password and a stopped server are one line on stderr with a non-zero exit and
no traceback; a replay of the real Melbourne capture into HeavyDB holds the same rows
as the same replay into SQLite.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from heavydb_server import HeavyDBServerProcess

from f1dash_tui.settings import StoreSettings
from f1dash_tui.store import open_store
from f1dash_tui.store.schema import TABLES

PASSWORD = "right;'pw"
LAP_DATA_PACKETS = 1_000
"""SOURCES.md: the clip holds up to 1,000 packets of each type (~21 s at ~50 Hz)."""
ACTIVE_CARS = 22


@pytest.fixture
def server(tmp_path: Path) -> Iterator[HeavyDBServerProcess]:
    process = HeavyDBServerProcess(tmp_path / "heavy.sqlite3", password=PASSWORD)
    process.start()
    try:
        yield process
    finally:
        process.stop()


def _run(
    tmp_path: Path, store_options: list[str], password: str, *command: str
) -> subprocess.CompletedProcess[str]:
    # The script installed beside this interpreter (the venv need not be on PATH).
    beside = Path(sys.executable).with_name("f1dash-tui")
    executable = str(beside) if beside.exists() else shutil.which("f1dash-tui")
    assert executable is not None, "the project is installed with its script"
    config = tmp_path / "config.toml"
    config.touch()
    env = dict(os.environ, F1DASH_CONFIG=str(config), F1DASH_HEAVYDB_PASSWORD=password)
    return subprocess.run(
        [executable, *store_options, *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


def _heavydb_options(server: HeavyDBServerProcess) -> list[str]:
    return [
        "--store",
        "heavydb",
        "--heavydb-host",
        server.host,
        "--heavydb-port",
        str(server.port),
    ]


def test_wrong_password_and_stopped_server_are_one_line(
    tmp_path: Path, server: HeavyDBServerProcess, melbourne_pcap: Path
) -> None:
    replay = ("replay", "--as-fast-as-possible", str(melbourne_pcap))
    options = _heavydb_options(server)
    wrong = _run(tmp_path, options, "guessed'pw", *replay)
    assert wrong.returncode != 0
    assert wrong.stderr.count("\n") == 1, wrong.stderr
    assert "Traceback" not in wrong.stderr
    assert f"HeavyDB at 127.0.0.1:{server.port} rejected user 'admin'" in wrong.stderr
    assert "guessed'pw" not in wrong.stderr + wrong.stdout
    server.stop()
    down = _run(tmp_path, options, PASSWORD, *replay)
    assert down.returncode != 0
    assert down.stderr.count("\n") == 1, down.stderr
    assert f"HeavyDB at 127.0.0.1:{server.port} is unreachable" in down.stderr
    assert PASSWORD not in down.stderr + down.stdout


def test_replay_into_heavydb_holds_what_sqlite_holds(
    tmp_path: Path, server: HeavyDBServerProcess, melbourne_pcap: Path
) -> None:
    replay = ("replay", "--as-fast-as-possible", str(melbourne_pcap))
    into_heavydb = _run(tmp_path, _heavydb_options(server), PASSWORD, *replay)
    assert into_heavydb.returncode == 0, into_heavydb.stderr
    sqlite_path = tmp_path / "same.sqlite3"
    into_sqlite = _run(
        tmp_path, ["--store", "sqlite", "--sqlite-path", str(sqlite_path)], "", *replay
    )
    assert into_sqlite.returncode == 0, into_sqlite.stderr

    heavydb = open_store(server.store_settings(), read_only=True)
    sqlite = open_store(
        StoreSettings(kind="sqlite", sqlite_path=sqlite_path), read_only=True
    )
    try:
        for table in TABLES:
            if table == "ingest_stats":
                continue  # one row per report second: depends on each run's speed
            count = f"SELECT COUNT(*) FROM {table}"
            assert heavydb.fetch(count) == sqlite.fetch(count), table
        assert heavydb.fetch("SELECT COUNT(*) FROM lap_data") == [
            (LAP_DATA_PACKETS * ACTIVE_CARS,)
        ]
        assert heavydb.fetch("SELECT COUNT(DISTINCT car_index) FROM lap_data") == [
            (ACTIVE_CARS,)
        ]
        assert heavydb.fetch("SELECT track_id FROM sessions") == [(0,)]
        names = "SELECT car_index, name FROM participants ORDER BY overall_frame, 1"
        assert heavydb.fetch(names) == sqlite.fetch(names)
        events = "SELECT event_seq, event_code, frame FROM event ORDER BY event_seq"
        assert heavydb.fetch(events) == sqlite.fetch(events)
    finally:
        heavydb.close()
        sqlite.close()
