"""The HeavyDB password never leaks: not in any process's argument list, not in log
files at DEBUG, not on the terminal (the real dashboard in a pty, and every screen
in a Pilot test, also while showing a connection error), not in `config show`.

Real processes throughout: the HeavyDB test server, `f1dash-tui ingest` fed real
datagrams over UDP, `f1dash-tui replay` at the recorded pace, and the dashboard.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import socket
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from heavydb_server import HeavyDBServerProcess

from f1dash_tui.settings import HeavyDBSettings, Settings, StoreSettings, UISettings
from f1dash_tui.store import open_store
from f1dash_tui.telemetry.pcap import read_pcap
from f1dash_tui.ui.app import create_app

SECRET = "Pw-7f3c'9;x\"Zq"
"""Quotes and a semicolon: a password that would break naive quoting, too."""
RUN_S = 6.0
"""How long the processes run while their argument lists are scanned."""


def script() -> str:
    return str(Path(sys.executable).parent / "f1dash-tui")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def closed_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[HeavyDBServerProcess]:
    process = HeavyDBServerProcess(tmp_path / "heavy.sqlite3", password=SECRET)
    process.start()
    try:
        yield process
    finally:
        process.stop()


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("F1DASH_")}
    env.update(
        XDG_CONFIG_HOME=str(tmp_path / "xdg-config"),
        XDG_DATA_HOME=str(tmp_path / "xdg-data"),
        XDG_STATE_HOME=str(tmp_path / "xdg-state"),
        **extra,
    )
    return env


def write_config(
    path: Path, port: int, *, listen_port: int, log_file: Path, password: bool
) -> Path:
    """A config for the HeavyDB store at ``port``, logging at DEBUG; the password in
    the file when ``password`` (then the file is private, as the README says)."""
    escaped = SECRET.replace("\\", "\\\\").replace('"', '\\"')
    lines = [
        "[store]",
        'kind = "heavydb"',
        "[store.heavydb]",
        'host = "127.0.0.1"',
        f"port = {port}",
        "connect_timeout_s = 2.0",
        *([f'password = "{escaped}"'] if password else []),
        "[ingest]",
        'listen_host = "127.0.0.1"',
        f"listen_port = {listen_port}",
        f'spool_dir = "{path.parent / "spool"}"',
        "[log]",
        f'file = "{log_file}"',
        'level = "DEBUG"',
    ]
    path.write_text("\n".join(lines) + "\n")
    path.chmod(0o600)
    return path


def every_cmdline() -> list[bytes]:
    """The argument list of every process on the machine."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found.append((entry / "cmdline").read_bytes())
            except OSError:
                continue  # the process ended between listing and reading
    return found


class PtyReader:
    """Reads everything a process writes to its terminal, in a thread."""

    def __init__(self, master: int) -> None:
        self.master = master
        self.data = b""
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while True:
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.data += chunk

    def join(self) -> None:
        self._thread.join(timeout=5)


def test_password_in_no_argv_log_or_terminal(
    server: HeavyDBServerProcess, tmp_path: Path, melbourne_pcap: Path
) -> None:
    listen_port = free_udp_port()
    ingest_log = tmp_path / "ingest.log"
    ingest_config = write_config(
        tmp_path / "ingest.toml",
        server.port,
        listen_port=listen_port,
        log_file=ingest_log,
        password=True,
    )
    replay_log = tmp_path / "replay.log"
    # The replay takes its password from the environment instead of the file.
    replay_config = write_config(
        tmp_path / "replay.toml",
        server.port,
        listen_port=free_udp_port(),
        log_file=replay_log,
        password=False,
    )
    dashboard_log = tmp_path / "dashboard.log"
    dashboard_config = write_config(
        tmp_path / "dashboard.toml",
        server.port,
        listen_port=free_udp_port(),
        log_file=dashboard_log,
        password=True,
    )
    env = clean_env(tmp_path)
    processes: list[subprocess.Popen[bytes]] = []
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    try:
        ingest = subprocess.Popen(
            [script(), "--config", str(ingest_config), "ingest"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        processes.append(ingest)
        replay = subprocess.Popen(
            [script(), "--config", str(replay_config), "replay", str(melbourne_pcap)],
            env=clean_env(tmp_path, F1DASH_HEAVYDB_PASSWORD=SECRET),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        processes.append(replay)
        dashboard = subprocess.Popen(
            [script(), "--config", str(dashboard_config)],
            env=dict(env, TERM="xterm-256color"),
            stdin=slave,
            stdout=slave,
            stderr=slave,
            close_fds=True,
        )
        processes.append(dashboard)
        os.close(slave)
        slave = -1
        terminal = PtyReader(master)

        # Feed the live ingest real datagrams while scanning every argument list.
        payloads = [d.payload for d in read_pcap(melbourne_pcap)][:3000]
        sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        scans = 0
        deadline = time.monotonic() + RUN_S
        sent = 0
        try:
            while time.monotonic() < deadline:
                for payload in payloads[sent : sent + 200]:
                    sender.sendto(payload, ("127.0.0.1", listen_port))
                sent = min(sent + 200, len(payloads))
                leaks = [c for c in every_cmdline() if SECRET.encode() in c]
                assert leaks == []
                scans += 1
                time.sleep(0.2)
        finally:
            sender.close()
        assert scans >= 10
        for process in processes:
            assert process.poll() is None, "every process is still running"
        own = [Path(f"/proc/{p.pid}/cmdline").read_bytes() for p in processes]
        assert all(b"f1dash-tui" in cmdline for cmdline in own)
        assert server.pid is not None
        server_cmdline = Path(f"/proc/{server.pid}/cmdline").read_bytes()
        assert SECRET.encode() not in server_cmdline
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        outputs = []
        for process in processes:
            try:
                out, _ = process.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                out, _ = process.communicate()
            outputs.append(out or b"")
        if slave >= 0:
            os.close(slave)
    terminal.join()
    os.close(master)

    # The ingest really connected and wrote: the server holds its rows.
    store = open_store(server.store_settings(), read_only=True)
    try:
        rows = store.fetch("SELECT COUNT(*) FROM car_telemetry", ())[0][0]
    finally:
        store.close()
    assert rows > 0
    # Nothing the processes printed or drew holds the password.
    for output in outputs:
        assert SECRET.encode() not in output
    screen = terminal.data
    assert b"Timing" in screen, screen[-2000:]  # the dashboard did draw
    assert SECRET.encode() not in screen
    # The logs were written at DEBUG and hold no password.
    for log in (ingest_log, replay_log, dashboard_log):
        text = log.read_text(encoding="utf-8")
        assert "DEBUG" in text, log
        assert SECRET not in text, log
        assert SECRET.replace("'", "\\'") not in text  # not even repr()-escaped


@pytest.mark.parametrize("source", ["file", "environment"])
def test_config_show_never_prints_the_password(tmp_path: Path, source: str) -> None:
    config = write_config(
        tmp_path / "config.toml",
        6274,
        listen_port=20777,
        log_file=tmp_path / "log.txt",
        password=source == "file",
    )
    extra = {"F1DASH_HEAVYDB_PASSWORD": SECRET} if source == "environment" else {}
    done = subprocess.run(
        [script(), "--config", str(config), "config", "show"],
        env=clean_env(tmp_path, **extra),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert SECRET not in done.stdout + done.stderr
    password_lines = [line for line in done.stdout.splitlines() if "password" in line]
    assert password_lines, done.stdout
    assert all("redacted" in line for line in password_lines), password_lines


def screen_text(app: object) -> str:
    """Every character on the app's screen (what the terminal shows)."""
    strips = app.screen._compositor.render_strips()  # type: ignore[attr-defined]
    return "\n".join(strip.text for strip in strips)


async def _every_screen_text(app: object, pilot: object) -> list[str]:
    texts = []
    for key in ("1", "2", "3", "4", "question_mark", "escape", "1"):
        await pilot.press(key)  # type: ignore[attr-defined]
        for _ in range(10):
            await app.workers.wait_for_complete()  # type: ignore[attr-defined]
            await pilot.pause(0.05)  # type: ignore[attr-defined]
        texts.append(screen_text(app))
    return texts


async def test_password_never_on_screen(
    server: HeavyDBServerProcess, tmp_path: Path, melbourne_pcap: Path
) -> None:
    from f1dash_tui.ingest.service import ingest_datagrams
    from f1dash_tui.settings import IngestSettings

    # The capture's first ~4.5 s: participants, lap data and telemetry to show.
    stream = [(d.timestamp_s, d.payload) for d in read_pcap(melbourne_pcap)][:1500]
    writer = open_store(server.store_settings())
    try:
        payload_count = ingest_datagrams(
            stream,
            writer,
            source="replay",
            settings=IngestSettings(spool_dir=tmp_path / "spool"),
        ).packets_total
    finally:
        writer.close()
    assert payload_count == len(stream)
    settings = Settings(store=server.store_settings(), ui=UISettings())
    app = create_app(settings, source_label="HeavyDB")
    async with app.run_test(size=(160, 48)) as pilot:
        texts = await _every_screen_text(app, pilot)
    assert any("Timing" in text for text in texts)
    assert any(str(server.port) in text or "HeavyDB" in text for text in texts)
    for text in texts:
        assert SECRET not in text


async def test_password_not_in_the_connection_error_on_screen(tmp_path: Path) -> None:
    port = closed_tcp_port()
    heavydb = HeavyDBSettings(
        host="127.0.0.1", port=port, password=SECRET, connect_timeout_s=1.0
    )
    settings = Settings(store=StoreSettings(kind="heavydb", heavydb=heavydb))
    app = create_app(settings)
    async with app.run_test(size=(160, 48)) as pilot:
        text = ""
        for _ in range(200):
            await app.workers.wait_for_complete()
            await pilot.pause(0.05)
            text = screen_text(app)
            if str(port) in text and "!" in text:
                break
        texts = [text, *await _every_screen_text(app, pilot)]
    # The error is on screen (naming the server) and the password is not.
    assert str(port) in texts[0], texts[0]
    for text in texts:
        assert SECRET not in text


def test_wrong_password_with_debug_traceback_leaks_nothing(
    server: HeavyDBServerProcess, tmp_path: Path
) -> None:
    """A rejected password, with --debug (tracebacks) and DEBUG logging: the typed
    password is in no output, log or the server's log."""
    wrong = "Wr0ng;'Pit\"Pw"
    log = tmp_path / "debug.log"
    config = tmp_path / "empty.toml"
    config.touch()
    done = subprocess.run(
        [
            script(),
            "--config",
            str(config),
            "--debug",
            "--log-level",
            "DEBUG",
            "--log-file",
            str(log),
            "--store",
            "heavydb",
            "--heavydb-host",
            "127.0.0.1",
            "--heavydb-port",
            str(server.port),
            "replay",
            "--as-fast-as-possible",
            str(Path(__file__).resolve().parent.parent / "f1dash_tui" / "data")
            + "/melbourne-2026-race.pcap",
        ],
        env=clean_env(tmp_path, F1DASH_HEAVYDB_PASSWORD=wrong),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "Traceback" in done.stderr  # --debug did show the traceback
    texts = [done.stdout, done.stderr, log.read_text(encoding="utf-8")]
    texts.append(server.log_path.read_text(errors="replace"))
    for text in texts:
        assert wrong not in text
        assert SECRET not in text
