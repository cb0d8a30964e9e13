"""`f1dash-tui demo`: the bundled capture, the feed thread, the real thing in tmux."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from f1dash_tui.demo import (
    SOURCE_LABEL_REAL,
    DemoFeed,
    bundled_capture,
    demo_settings,
)
from f1dash_tui.settings import HeavyDBSettings, Settings, StoreSettings
from f1dash_tui.simulate_feed import RaceRequest
from f1dash_tui.store import open_store

PCAP_MAGIC_LE = bytes.fromhex("d4c3b2a1")

# The 22 drivers in the bundled capture's Participants packets (F1 25, 2026 pack).
CAPTURE_DRIVERS = [
    "PIASTRI",
    "ALONSO",
    "HULKENBERG",
    "LAWSON",
    "ANTONELLI",
    "VERSTAPPEN",
    "HADJAR",
    "COLAPINTO",
    "PÉREZ",
    "BEARMAN",
    "SAINZ",
    "BORTOLETO",
    "OCON",
    "RUSSELL",
    "LINDBLAD",
    "ALBON",
    "HAMILTON",
    "LECLERC",
    "STROLL",
    "GASLY",
    "BOTTAS",
    "NORRIS",
]


def test_bundled_capture_is_the_packaged_pcap(melbourne_pcap: Path) -> None:
    with bundled_capture() as path:
        data = path.read_bytes()
    assert data[:4] == PCAP_MAGIC_LE
    assert data == melbourne_pcap.read_bytes()


def test_demo_store_is_always_a_temporary_sqlite_file(tmp_path: Path) -> None:
    user = Settings(
        store=StoreSettings(
            kind="heavydb", heavydb=HeavyDBSettings(host="db.example", password="pw")
        )
    )
    settings = demo_settings(user, tmp_path)
    assert settings.store.kind == "sqlite"
    assert settings.store.sqlite_path == tmp_path / "demo.sqlite3"
    assert settings.ui == user.ui


def sessions_in(path: Path) -> list[tuple]:
    store = open_store(StoreSettings(kind="sqlite", sqlite_path=path), read_only=True)
    try:
        return store.fetch(
            "SELECT session_uid, source, is_synthetic, packet_format, track_id "
            "FROM sessions ORDER BY session_uid"
        )
    finally:
        store.close()


def run_feed(feed: DemoFeed, timeout_s: float) -> None:
    feed.start()
    feed.join(timeout_s)
    assert not feed.is_alive(), "the demo feed did not finish"
    assert feed.error is None, feed.error


def test_feed_replays_the_capture_as_one_session(
    tmp_path: Path, melbourne_pcap: Path
) -> None:
    settings = demo_settings(Settings(), tmp_path)
    open_store(settings.store).close()
    feed = DemoFeed(settings, capture_path=melbourne_pcap, loop=False, speed=None)
    run_feed(feed, timeout_s=60)
    assert feed.passes_completed == 1
    sessions = sessions_in(settings.store.sqlite_path)
    assert len(sessions) == 1
    _, source, is_synthetic, packet_format, track_id = sessions[0]
    assert source == "demo"
    assert is_synthetic == 0
    assert packet_format == 2026
    assert track_id == 0  # Melbourne in the game's track ids


def test_loop_replays_again_as_a_new_session(
    tmp_path: Path, melbourne_pcap: Path
) -> None:
    settings = demo_settings(Settings(), tmp_path)
    open_store(settings.store).close()
    feed = DemoFeed(settings, capture_path=melbourne_pcap, loop=True, speed=None)
    feed.start()
    deadline_s = time.monotonic() + 90
    while feed.passes_completed < 2 and time.monotonic() < deadline_s:
        assert feed.error is None, feed.error
        time.sleep(0.1)
    feed.stop()
    assert not feed.is_alive()
    assert feed.error is None, feed.error
    assert feed.passes_completed >= 2
    sessions = sessions_in(settings.store.sqlite_path)
    uids = {row[0] for row in sessions}
    assert len(uids) == len(sessions) >= 2
    assert {row[4] for row in sessions} == {0}


def test_stop_ends_a_paced_replay_promptly(
    tmp_path: Path, melbourne_pcap: Path
) -> None:
    settings = demo_settings(Settings(), tmp_path)
    open_store(settings.store).close()
    feed = DemoFeed(settings, capture_path=melbourne_pcap, loop=True, speed=1.0)
    feed.start()
    time.sleep(1.5)
    started_s = time.monotonic()
    feed.stop()
    stopped_in_s = time.monotonic() - started_s
    assert not feed.is_alive()
    assert feed.error is None, feed.error
    # The capture covers ~21 s of session time: at recorded pace, 1.5 s in, the
    # first pass cannot have finished.
    assert feed.passes_completed == 0
    assert stopped_in_s < 3.0
    assert len(sessions_in(settings.store.sqlite_path)) == 1


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
def test_demo_in_a_real_terminal(tmp_path: Path) -> None:
    """`f1dash-tui demo` shows the capture's drivers live, and quitting cleans up."""
    script = str(Path(sys.executable).parent / "f1dash-tui")
    session = f"f1dash-demo-test-{os.getpid()}"
    temp_root = tmp_path / "tmp"
    temp_root.mkdir()
    done_marker = tmp_path / "exit-code"
    env_prefix = (
        f"TMPDIR={temp_root} XDG_CONFIG_HOME={tmp_path / 'config'} "
        f"XDG_DATA_HOME={tmp_path / 'data'}"
    )
    command = (
        f"{env_prefix} {script} --log-file {tmp_path / 'demo.log'} demo; "
        f"echo $? > {done_marker}"
    )
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "48", command],
        check=True,
    )
    try:
        screen = ""
        deadline_s = time.monotonic() + 45
        seen: set[str] = set()
        while time.monotonic() < deadline_s:
            screen = subprocess.run(
                ["tmux", "capture-pane", "-p", "-t", session],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            seen = {name for name in CAPTURE_DRIVERS if name in screen.upper()}
            if SOURCE_LABEL_REAL in screen and len(seen) >= 15:
                break
            time.sleep(0.5)
        assert SOURCE_LABEL_REAL in screen, screen
        assert len(seen) >= 15, screen
        # While it runs, the throwaway store exists under TMPDIR.
        assert [p.name for p in temp_root.iterdir() if p.name.startswith("f1dash-demo")]
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
        deadline_s = time.monotonic() + 20
        while not done_marker.exists() and time.monotonic() < deadline_s:
            time.sleep(0.2)
        assert done_marker.exists(), "the demo did not quit on q"
        assert done_marker.read_text().strip() == "0"
        assert not [p for p in temp_root.iterdir() if p.name.startswith("f1dash-demo")]
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def test_simulate_feed_writes_a_synthetic_session(tmp_path: Path) -> None:
    settings = demo_settings(Settings(), tmp_path)
    open_store(settings.store).close()
    race = RaceRequest(cars=2, laps=1, rate_hz=10, packet_format=2025)
    feed = DemoFeed(settings, capture_path=None, loop=False, speed=None, race=race)
    run_feed(feed, timeout_s=120)
    sessions = sessions_in(settings.store.sqlite_path)
    assert len(sessions) == 1
    _, _, is_synthetic, packet_format, track_id = sessions[0]
    assert is_synthetic == 1
    assert packet_format == 2025
    assert track_id == 0  # the simulator drives the Melbourne outline by default


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
def test_closing_the_terminal_still_deletes_the_demo_store(tmp_path: Path) -> None:
    """SIGHUP (the terminal or ssh session goes away) quits like q: no store left."""
    script = str(Path(sys.executable).parent / "f1dash-tui")
    session = f"f1dash-demo-hup-{os.getpid()}"
    temp_root = tmp_path / "tmp"
    temp_root.mkdir()
    command = f"TMPDIR={temp_root} XDG_CONFIG_HOME={tmp_path / 'config'} {script} demo"
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "100", "-y", "30", command],
        check=True,
    )
    try:
        deadline_s = time.monotonic() + 45
        screen = ""
        while SOURCE_LABEL_REAL not in screen and time.monotonic() < deadline_s:
            time.sleep(0.5)
            screen = subprocess.run(
                ["tmux", "capture-pane", "-p", "-t", session],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        assert SOURCE_LABEL_REAL in screen, screen
        assert [p for p in temp_root.iterdir() if p.name.startswith("f1dash-demo")]
    finally:
        # Killing the session hangs up the demo's terminal (SIGHUP).
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    deadline_s = time.monotonic() + 20
    while time.monotonic() < deadline_s and any(temp_root.iterdir()):
        time.sleep(0.2)
    assert not [p for p in temp_root.iterdir() if p.name.startswith("f1dash-demo")]


def _tmux(socket: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["tmux", "-L", socket, *args], capture_output=True, text=True, timeout=10
    )


@pytest.mark.timeout(90)
def test_a_signal_ends_the_demo_even_when_its_terminal_stops_reading(
    tmp_path: Path,
) -> None:
    """The hang CI saw: the terminal no longer takes output, so Textual's writer
    thread blocks and the app's shutdown waits on it forever. Stopping the (private)
    tmux server makes that happen every time; SIGHUP must still end the demo with
    128 + 1 and delete its store."""
    script = str(Path(sys.executable).parent / "f1dash-tui")
    socket = f"f1dash-demo-stuck-{os.getpid()}"
    temp_root = tmp_path / "tmp"
    temp_root.mkdir()
    exit_file = tmp_path / "exit-code"
    command = (
        f"TMPDIR={temp_root} XDG_CONFIG_HOME={tmp_path / 'config'} {script} demo;"
        f" echo $? > {exit_file}"
    )
    started = _tmux(
        socket, "new-session", "-d", "-s", "demo", "-x", "100", "-y", "30", command
    )
    assert started.returncode == 0, started.stderr
    server_pid = int(_tmux(socket, "display", "-p", "#{pid}").stdout)
    try:
        deadline_s = time.monotonic() + 45
        screen = ""
        while SOURCE_LABEL_REAL not in screen and time.monotonic() < deadline_s:
            time.sleep(0.5)
            screen = _tmux(socket, "capture-pane", "-p", "-t", "demo").stdout
        assert SOURCE_LABEL_REAL in screen, screen
        shell_pid = _tmux(socket, "list-panes", "-F", "#{pane_pid}").stdout.strip()
        demo_pids = subprocess.run(
            ["pgrep", "-P", shell_pid], capture_output=True, text=True, timeout=10
        ).stdout.split()
        assert len(demo_pids) == 1, demo_pids
        demo_pid = int(demo_pids[0])
        os.kill(server_pid, signal.SIGSTOP)  # the terminal stops reading
        # The live dashboard redraws several times a second: in 3 s its output fills
        # the pty buffer (4 KiB) and Textual's 30-write queue.
        time.sleep(3)
        os.kill(demo_pid, signal.SIGHUP)
        # The pane's shell writes the demo's exit code once it has ended.
        deadline_s = time.monotonic() + 20
        while not exit_file.exists() and time.monotonic() < deadline_s:
            time.sleep(0.2)
        if not exit_file.exists():
            os.kill(demo_pid, signal.SIGKILL)
            pytest.fail("the demo still ran 20 s after SIGHUP")
        time.sleep(0.2)  # the shell may not have written the number yet
        assert exit_file.read_text().strip() == str(128 + signal.SIGHUP)
        assert not [p for p in temp_root.iterdir() if p.name.startswith("f1dash-demo")]
    finally:
        os.kill(server_pid, signal.SIGCONT)
        _tmux(socket, "kill-server")
