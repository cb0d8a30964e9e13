"""The ingest, record and replay commands end to end: real sockets, files, processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from heavydb_server import HeavyDBServerProcess, HeavyDBTestServer

from f1dash_tui.cli import cli
from f1dash_tui.settings import StoreSettings
from f1dash_tui.store import open_store
from f1dash_tui.telemetry.pcap import read_pcap

CAPTURE_DATAGRAMS = 7124
"""Packets in the bundled Melbourne capture (NOTICE, SOURCES.md)."""


@pytest.fixture(autouse=True)
def no_f1dash_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process runs see no F1DASH_* configuration from the developer's shell."""
    for name in list(os.environ):
        if name.startswith("F1DASH_") and not name.startswith("F1DASH_TEST_"):
            monkeypatch.delenv(name)


@pytest.fixture
def clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("F1DASH_")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    return env


def script() -> str:
    return str(Path(sys.executable).parent / "f1dash-tui")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def sessions(path: Path) -> list[tuple]:
    store = open_store(StoreSettings(kind="sqlite", sqlite_path=path), read_only=True)
    try:
        return store.fetch("SELECT session_uid, source, track_id FROM sessions")
    finally:
        store.close()


def test_busy_port_is_one_line(clean_env: dict[str, str], tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", 0))
        port = busy.getsockname()[1]
        done = subprocess.run(
            [
                script(),
                "--sqlite-path",
                str(tmp_path / "s.sqlite3"),
                "ingest",
                "--listen",
                f"127.0.0.1:{port}",
            ],
            env=clean_env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode != 0
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("f1dash-tui: error: ")
    assert str(port) in done.stderr
    assert "Traceback" not in done.stderr
    # The port is bound before the store opens: no new, empty store is left behind.
    assert not (tmp_path / "s.sqlite3").exists()


def test_replay_into_the_store(melbourne_pcap: Path, tmp_path: Path) -> None:
    store_path = tmp_path / "replayed.sqlite3"
    result = CliRunner().invoke(
        cli,
        [
            "--sqlite-path",
            str(store_path),
            "replay",
            str(melbourne_pcap),
            "--as-fast-as-possible",
        ],
        env={"XDG_CONFIG_HOME": str(tmp_path / "config")},
    )
    assert result.exit_code == 0, result.stderr
    assert f"replayed {melbourne_pcap}" in result.stderr
    assert result.stderr.count("\n") == 1  # the summary; logs never reach the terminal
    rows = sessions(store_path)
    assert len(rows) == 1
    assert rows[0][1] == f"replay:{melbourne_pcap.name}"
    assert rows[0][2] == 0  # Melbourne


def test_replay_of_a_cut_capture_warns_in_one_line(
    melbourne_pcap: Path, tmp_path: Path
) -> None:
    """A capture cut short (a copy that did not finish) replays its whole records
    and says, in one warning line, that the rest is missing."""
    whole = list(read_pcap(melbourne_pcap))
    # 24-byte file header; each record: 16-byte header, 42 bytes of Ethernet, IPv4
    # and UDP headers, the payload. Cut 30 bytes into the 101st record.
    cut_at = 24 + sum(16 + 42 + len(d.payload) for d in whole[:100]) + 30
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(melbourne_pcap.read_bytes()[:cut_at])
    store_path = tmp_path / "cut.sqlite3"
    result = CliRunner().invoke(
        cli,
        ["--sqlite-path", str(store_path), "replay", str(cut), "--as-fast-as-possible"],
        env={"XDG_CONFIG_HOME": str(tmp_path / "config")},
    )
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr
    assert lines[0].startswith(f"replayed {cut}")
    assert lines[1] == (
        f"f1dash-tui: warning: {cut}: the file ends inside a record after 100 "
        "datagrams (it was cut short)"
    )


def test_record_what_replay_sends(
    melbourne_pcap: Path, tmp_path: Path, clean_env: dict[str, str]
) -> None:
    """`record` on one port receives `replay --to-udp`: the same payloads, in order."""
    port = free_udp_port()
    recorded = tmp_path / "recorded.pcap"
    recorder = subprocess.Popen(
        [script(), "record", str(recorded), "--listen", f"127.0.0.1:{port}"],
        env=clean_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1.5)  # the recorder binds its socket during start-up
        assert recorder.poll() is None, recorder.communicate()
        sent = subprocess.run(
            [
                script(),
                "replay",
                str(melbourne_pcap),
                "--to-udp",
                f"127.0.0.1:{port}",
                "--speed",
                "20",
            ],
            env=clean_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert sent.returncode == 0, sent.stderr
        assert f"sent {CAPTURE_DATAGRAMS:,} datagrams" in sent.stderr
        time.sleep(0.5)
        recorder.send_signal(signal.SIGTERM)
        _, recorder_stderr = recorder.communicate(timeout=30)
    finally:
        if recorder.poll() is None:
            recorder.kill()
            recorder.wait()
    assert recorder.returncode == 0, recorder_stderr
    original = [datagram.payload for datagram in read_pcap(melbourne_pcap)]
    copied = [datagram.payload for datagram in read_pcap(recorded)]
    assert len(original) == CAPTURE_DATAGRAMS
    # Loopback at 20x pace (~1,700 datagrams/s) loses nothing on an idle machine; allow
    # a sliver for a loaded CI runner, but what arrived must be the capture, in order.
    assert len(copied) >= 0.99 * CAPTURE_DATAGRAMS
    assert f"recorded {len(copied):,} datagrams" in recorder_stderr
    iterator = iter(original)
    assert all(
        any(payload == candidate for candidate in iterator) for payload in copied
    )


def start_ingest(
    store_path: Path, port: int, env: dict[str, str], *options: str
) -> subprocess.Popen[str]:
    """`f1dash-tui ingest` on 127.0.0.1:``port`` from 127.0.0.1 into ``store_path``."""
    return subprocess.Popen(
        [
            script(),
            "--sqlite-path",
            str(store_path),
            *options,
            "ingest",
            "--listen",
            f"127.0.0.1:{port}",
            "--allow-sender",
            "127.0.0.1",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def send_to_udp(pcap: Path, port: int, env: dict[str, str]) -> None:
    """`replay --to-udp` of ``pcap`` at 20x its pace (the clip in about 1 s)."""
    subprocess.run(
        [
            script(),
            "replay",
            str(pcap),
            "--to-udp",
            f"127.0.0.1:{port}",
            "--speed",
            "20",
        ],
        env=env,
        capture_output=True,
        timeout=120,
        check=True,
    )


def stop_ingest(ingest: subprocess.Popen[str]) -> tuple[str, str]:
    """SIGTERM after at least one more write batch (0.1 s); its stdout and stderr."""
    try:
        time.sleep(1.0)
        ingest.send_signal(signal.SIGTERM)
        return ingest.communicate(timeout=30)
    finally:
        if ingest.poll() is None:
            ingest.kill()
            ingest.wait()


def test_ingest_live_then_stop_with_sigterm(
    melbourne_pcap: Path, tmp_path: Path, clean_env: dict[str, str]
) -> None:
    """The live path: game -> UDP -> `f1dash-tui ingest` -> SQLite, password unseen."""
    secret = "Ingest-Secret-99"
    port = free_udp_port()
    store_path = tmp_path / "live.sqlite3"
    log_file = tmp_path / "ingest.log"
    env = dict(clean_env, F1DASH_HEAVYDB_PASSWORD=secret)
    ingest = start_ingest(
        store_path,
        port,
        env,
        "--log-file",
        str(log_file),
        "--log-level",
        "DEBUG",
    )
    try:
        time.sleep(1.5)
        assert ingest.poll() is None, ingest.communicate()
        cmdline = Path(f"/proc/{ingest.pid}/cmdline").read_bytes()
        assert secret.encode() not in cmdline
        send_to_udp(melbourne_pcap, port, clean_env)
    finally:
        stdout, stderr = stop_ingest(ingest)
    assert ingest.returncode == 0, stderr
    assert stdout == ""  # nothing on the terminal but the status line (not a tty here)
    rows = sessions(store_path)
    assert len(rows) == 1
    assert rows[0][1] == "udp"
    assert rows[0][2] == 0
    store = open_store(StoreSettings(kind="sqlite", sqlite_path=store_path))
    try:
        (cars,) = store.fetch(
            "SELECT COUNT(DISTINCT car_index) FROM participants WHERE session_uid = ?",
            (rows[0][0],),
        )[0]
    finally:
        store.close()
    assert cars == 22
    if log_file.exists():
        assert secret not in log_file.read_text(encoding="utf-8")


def heavydb_config(
    tmp_path: Path, server_settings: StoreSettings, password: str
) -> Path:
    heavydb = server_settings.heavydb
    path = tmp_path / "heavydb.toml"
    path.write_text(
        "[store]\n"
        'kind = "heavydb"\n'
        "[store.heavydb]\n"
        f'host = "{heavydb.host}"\n'
        f"port = {heavydb.port}\n"
        f'user = "{heavydb.user}"\n'
        f'database = "{heavydb.database}"\n'
        f"password = {json.dumps(password)}\n"
        "connect_timeout_s = 2.0\n",
        encoding="utf-8",
    )
    path.chmod(0o600)
    return path


def test_replay_into_heavydb_with_the_password_from_the_file(
    melbourne_pcap: Path, tmp_path: Path
) -> None:
    password = 'pit wall; "pw" ñ'
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config"), "F1DASH_HEAVYDB_PASSWORD": None}
    with HeavyDBTestServer(tmp_path / "server.sqlite3", password=password) as server:
        config = heavydb_config(tmp_path, server.store_settings(), password)
        result = CliRunner().invoke(
            cli,
            [
                "--config",
                str(config),
                "replay",
                str(melbourne_pcap),
                "--as-fast-as-possible",
            ],
            env=env,
        )
        assert result.exit_code == 0, result.stderr
        assert result.stderr.count("\n") == 1  # the summary line; logs go nowhere
        assert password not in result.stdout + result.stderr
        store = open_store(server.store_settings(), read_only=True)
        try:
            rows = store.fetch("SELECT session_uid, track_id FROM sessions")
            (cars,) = store.fetch("SELECT COUNT(DISTINCT car_index) FROM participants")[
                0
            ]
        finally:
            store.close()
        assert len(rows) == 1
        assert rows[0][1] == 0
        assert cars == 22

        doctor = CliRunner().invoke(cli, ["--config", str(config), "doctor"], env=env)
        store_line = next(
            line for line in doctor.stdout.splitlines() if " store " in line
        )
        assert store_line.startswith("[  ok]"), store_line
        assert f"HeavyDB {server.host}:{server.port}/heavyai" in store_line
        assert "schema version" in store_line

        wrong = heavydb_config(tmp_path, server.store_settings(), "not-the-password")
        result = CliRunner().invoke(
            cli, ["--config", str(wrong), "replay", str(melbourne_pcap)], env=env
        )
    assert result.exit_code != 0
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("f1dash-tui: error: ")
    assert "not-the-password" not in result.stderr
    assert "Traceback" not in result.stderr


def test_store_file_that_is_not_a_database(
    melbourne_pcap: Path, tmp_path: Path
) -> None:
    not_a_store = tmp_path / "notes.sqlite3"
    not_a_store.write_text("pit notes, not a database\n" * 200)
    result = CliRunner().invoke(
        cli,
        ["--sqlite-path", str(not_a_store), "replay", str(melbourne_pcap)],
        env={"XDG_CONFIG_HOME": str(tmp_path / "config")},
    )
    assert result.exit_code != 0
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("f1dash-tui: error: ")
    assert str(not_a_store) in result.stderr
    assert "Traceback" not in result.stderr


def test_replay_that_leaves_rows_in_the_spool_fails_and_says_where_they_are(
    melbourne_pcap: Path, tmp_path: Path, clean_env: dict[str, str]
) -> None:
    """HeavyDB killed in the middle of a replay: the rows go to the local spool, and
    the replay says so in one error line and exits non-zero instead of 0."""
    server = HeavyDBServerProcess(tmp_path / "heavy.sqlite3", password="spool")
    server.start()
    config = heavydb_config(tmp_path, server.store_settings(), "spool")
    replay_args = ["replay", str(melbourne_pcap), "--speed", "8"]  # 21 s in ~2.6 s
    replay = subprocess.Popen(
        [script(), "--config", str(config), *replay_args],
        env=clean_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1.5)
        server.kill()
        _, stderr = replay.communicate(timeout=60)
    finally:
        replay.kill()
        server.stop()
    assert replay.returncode == 1, stderr
    lines = stderr.splitlines()
    assert len(lines) == 2, stderr
    assert lines[0].startswith(f"replayed {melbourne_pcap} into HeavyDB")
    assert lines[1].startswith("f1dash-tui: error: the store failed (")
    spooled = int(lines[1].split("): ")[1].split(" rows")[0].replace(",", ""))
    assert spooled > 0
    assert lines[1].endswith(
        "rows are kept in the local spool and go in with the next ingest or replay "
        "into this store"
    )
    assert list((tmp_path / "state").rglob("spool-*")), "no spool file on disk"


def test_a_simulated_race_stays_synthetic_through_a_pcap(tmp_path: Path) -> None:
    """The simulator tags its session UID; a replay of its pcap is marked synthetic
    (and best laps keep its laps apart from real ones), the real clip is not."""
    capture = tmp_path / "sim.pcap"
    env = {"XDG_CONFIG_HOME": str(tmp_path / "config")}
    simulated = CliRunner().invoke(
        cli,
        [
            "simulate",
            "--laps",
            "1",
            "--cars",
            "2",
            "--rate",
            "10",
            "--pcap",
            str(capture),
        ],
        env=env,
    )
    assert simulated.exit_code == 0, simulated.stderr
    store_path = tmp_path / "replayed.sqlite3"
    replayed = CliRunner().invoke(
        cli,
        [
            "--sqlite-path",
            str(store_path),
            "replay",
            str(capture),
            "--as-fast-as-possible",
        ],
        env=env,
    )
    assert replayed.exit_code == 0, replayed.stderr
    with sqlite3.connect(store_path) as connection:
        rows = connection.execute(
            "SELECT source, is_synthetic FROM sessions"
        ).fetchall()
    assert rows == [(f"replay:{capture.name}", 1)]


def test_ingest_says_once_why_the_store_is_down_and_when_it_is_back(
    tmp_path: Path, clean_env: dict[str, str]
) -> None:
    """A HeavyDB server that cannot be reached: ingest spooled in silence (only the
    status line's "store down, spooled N rows", with no reason). One warning line
    with the store's error when writes start failing, one when they work again,
    nothing per retry."""
    server = HeavyDBServerProcess(tmp_path / "heavy.sqlite3", password="down")
    server.start()
    server.kill()  # the port is known now, and nothing answers on it
    config = heavydb_config(tmp_path, server.store_settings(), "down")
    port = free_udp_port()
    ingest = subprocess.Popen(
        [
            script(),
            "--config",
            str(config),
            "ingest",
            "--listen",
            f"127.0.0.1:{port}",
        ],
        env=clean_env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(6.0)  # several failed retries (0.5, 1, 2 s apart)
        server.start()
        time.sleep(8.0)  # the next retry is at most 5 s away
        ingest.send_signal(signal.SIGINT)
        _, stderr = ingest.communicate(timeout=60)
    finally:
        ingest.kill()
        server.stop()
    assert ingest.returncode == 0, stderr
    lines = stderr.splitlines()
    warnings = [line for line in lines if "store down" in line or "back" in line]
    assert len(warnings) == 2, stderr
    assert warnings[0].startswith(
        "f1dash-tui: warning: store down, spooling received data until it is back: "
    )
    assert f"HeavyDB at 127.0.0.1:{server.port} is unreachable" in warnings[0]
    assert warnings[1] == "f1dash-tui: store is back; writing again"
    assert lines[-1].startswith("ingest stopped: ")


def test_the_same_capture_sent_twice_to_one_ingest_is_stored_once(
    melbourne_pcap: Path, tmp_path: Path, clean_env: dict[str, str]
) -> None:
    """`replay --to-udp` run twice at one running ingest: no lap sample, event or
    completed lap is stored twice (the second pass used to be written again)."""
    port = free_udp_port()
    store_path = tmp_path / "twice.sqlite3"
    ingest = start_ingest(store_path, port, clean_env)
    try:
        time.sleep(1.5)
        assert ingest.poll() is None, ingest.communicate()
        send_to_udp(melbourne_pcap, port, clean_env)
        send_to_udp(melbourne_pcap, port, clean_env)
    finally:
        _, stderr = stop_ingest(ingest)
    assert ingest.returncode == 0, stderr
    assert len(sessions(store_path)) == 1
    with sqlite3.connect(store_path) as db:
        samples, distinct_samples = db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT car_index * 1000000 + overall_frame) "
            "FROM lap_data"
        ).fetchone()
        (events,) = db.execute("SELECT COUNT(*) FROM event").fetchone()
        laps, distinct_laps = db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT car_index * 1000 + lap_number) FROM laps"
        ).fetchone()
    # Loopback at 20x may drop a few datagrams of a pass, never add any.
    assert 0.9 * 22 * 1000 < samples == distinct_samples <= 22 * 1000
    # Event packets (id 3 at byte 6 of the 2026 header) of the session.
    sent_events = sum(
        1
        for datagram in read_pcap(melbourne_pcap)
        if datagram.payload[6] == 3 and any(datagram.payload[7:15])
    )
    assert 0.9 * sent_events < events <= sent_events
    assert 0 < laps == distinct_laps


def test_a_second_writer_on_a_store_is_refused_and_named(
    melbourne_pcap: Path, tmp_path: Path, clean_env: dict[str, str]
) -> None:
    """Two ingests on one store (each on its own port) both ran and stored every
    session twice, with two sessions rows of one UID. A second writer is now
    refused at once, naming the first; once that one stops, it may write."""
    store_path = tmp_path / "one-writer.sqlite3"
    ingest = start_ingest(store_path, free_udp_port(), clean_env)
    try:
        time.sleep(1.5)
        assert ingest.poll() is None, ingest.communicate()
        for args in (
            ["ingest", "--listen", f"127.0.0.1:{free_udp_port()}"],
            ["replay", str(melbourne_pcap), "--as-fast-as-possible"],
        ):
            second = subprocess.run(
                [script(), "--sqlite-path", str(store_path), *args],
                env=clean_env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert second.returncode == 1, second.stderr
            assert second.stderr == (
                f"f1dash-tui: error: another f1dash-tui (pid {ingest.pid}) is "
                f"writing to {store_path}: one writer per store (ingest, replay or "
                "simulate), so stop it first or use another --sqlite-path\n"
            )
    finally:
        _, stderr = stop_ingest(ingest)
    assert ingest.returncode == 0, stderr
    after = subprocess.run(
        [
            script(),
            "--sqlite-path",
            str(store_path),
            "replay",
            str(melbourne_pcap),
            "--as-fast-as-possible",
        ],
        env=clean_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert after.returncode == 0, after.stderr
    assert len(sessions(store_path)) == 1
