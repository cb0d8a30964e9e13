"""The command line: help, version, one-line errors, config show, doctor, secrets.

Most tests drive the click group in-process (CliRunner); the ``installed_cli`` tests
run the real ``f1dash-tui`` console script in a subprocess.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import socket
import subprocess
import sys
import termios
import time
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from f1dash_tui import __version__
from f1dash_tui.cli import cli
from f1dash_tui.errors import StoreError
from f1dash_tui.store.schema import SCHEMA_VERSION
from f1dash_tui.store.sqlite import SQLiteStore

ERROR_PREFIX = "f1dash-tui: error: "


@pytest.fixture
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """No F1DASH_* variables; platform dirs under tmp_path (no user config leaks in)."""
    for name in list(os.environ):
        if name.startswith("F1DASH_") and name != "F1DASH_TEST_DATA":
            monkeypatch.delenv(name)
    dirs = {
        "XDG_CONFIG_HOME": tmp_path / "config",
        "XDG_DATA_HOME": tmp_path / "data",
        "XDG_STATE_HOME": tmp_path / "state",
    }
    for name, path in dirs.items():
        monkeypatch.setenv(name, str(path))
    return {name: str(path) for name, path in dirs.items()}


def run(args: list[str], env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, args, env=env)


def assert_one_line_error(result: Result, fragment: str, exit_code: int) -> None:
    assert result.exit_code == exit_code, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(ERROR_PREFIX), lines[0]
    assert fragment in lines[0]
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def closed_tcp_port() -> int:
    """A loopback TCP port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple]:
    for name, command in sorted(group.commands.items()):
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from command_paths(command, (*prefix, name))


ALL_COMMANDS = [(), *command_paths(cli)]


def test_every_documented_subcommand_exists() -> None:
    names = {" ".join(path) for path in ALL_COMMANDS if path}
    assert names == {
        "config",
        "config show",
        "demo",
        "doctor",
        "ingest",
        "record",
        "replay",
        "simulate",
    }


@pytest.mark.parametrize("path", ALL_COMMANDS, ids=lambda p: " ".join(p) or "top")
def test_help_for_every_command(path: tuple[str, ...], isolated_env: dict) -> None:
    result = run([*path, "--help"])
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"Usage: f1dash-tui {' '.join(path)}".rstrip())
    assert "-h, --help" in result.stdout
    assert result.stderr == ""


def test_simulate_laps_limit_is_the_simulators() -> None:
    # The --laps range in the help is written out in cli.py; it must be the limit
    # the simulator checks.
    from f1dash_tui.cli import simulate
    from f1dash_tui.telemetry.simulator import MAX_LAPS

    laps = next(p for p in simulate.params if p.name == "laps")
    assert isinstance(laps.type, click.IntRange)
    assert (laps.type.min, laps.type.max) == (1, MAX_LAPS)


@pytest.mark.parametrize(
    ("path", "shown_defaults"),
    [
        ((), ["[default: sqlite]", "[default: 6274;", "[default: 0.5;"]),
        (("demo",), ["[default: 1.0;"]),
        (("ingest",), ["0.0.0.0:20777"]),
        (("record",), ["[default: until Ctrl-C; x>0]"]),
        (("replay",), ["[default: 1.0;", "into the configured store"]),
        (
            ("simulate",),
            [
                "[default: the full grid: 20 (2025) or 22 (2026); x>=1]",
                "at most 22 (--format 2025) or 24 (2026)",
                "[default: 5; 1<=x<=100]",
                "[default: 60;",
                "[default: 2026]",
            ],
        ),
    ],
)
def test_help_shows_defaults(
    path: tuple[str, ...], shown_defaults: list[str], isolated_env: dict
) -> None:
    text = " ".join(run([*path, "--help"]).stdout.split())
    for shown in shown_defaults:
        assert shown in text
    # A described default is not wrapped in click's extra parentheses.
    assert "[default: (" not in text


def test_top_level_help_states_the_precedence(isolated_env: dict) -> None:
    text = run(["--help"]).stdout
    assert "default < config file < F1DASH_* environment < command-line option" in text
    assert "_F1DASH_TUI_COMPLETE" not in text  # completion is documented in the README


def test_version(isolated_env: dict) -> None:
    result = run(["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"f1dash-tui, version {__version__}\n"


def test_no_password_option_anywhere(isolated_env: dict) -> None:
    for path in ALL_COMMANDS:
        text = run([*path, "--help"]).stdout
        assert "--heavydb-password" not in text
        assert "--password" not in text
    result = run(["--heavydb-password", "x", "config", "show"])
    assert_one_line_error(result, "No such option", 2)


@pytest.fixture
def not_a_pcap(tmp_path: Path) -> Path:
    path = tmp_path / "notes.pcap"
    path.write_text("lap times, not a capture\n")
    return path


@pytest.fixture
def config_with_unknown_key(tmp_path: Path) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text('[store]\nsqlite_pth = "x.sqlite3"\n')
    path.chmod(0o600)
    return path


def test_bad_listen_address(isolated_env: dict) -> None:
    result = run(["ingest", "--listen", "no-port-here"])
    assert_one_line_error(result, "Invalid value for '--listen'", 2)
    result = run(["record", "out.pcap", "--listen", "127.0.0.1:99999"])
    assert_one_line_error(result, "port must be 1-65535, got 99999", 2)


def test_bad_sender_address(isolated_env: dict) -> None:
    result = run(["ingest", "--allow-sender", "pit-wall"])
    assert_one_line_error(result, "not an IP address: 'pit-wall'", 2)


def test_missing_capture_file(tmp_path: Path, isolated_env: dict) -> None:
    missing = tmp_path / "missing.pcap"
    result = run(["replay", str(missing)])
    assert_one_line_error(result, "does not exist", 2)
    assert str(missing) in result.stderr


def test_file_that_is_not_a_capture(not_a_pcap: Path, isolated_env: dict) -> None:
    result = run(["replay", str(not_a_pcap)])
    assert_one_line_error(result, f"{not_a_pcap} is not a pcap or pcapng capture", 1)


def test_speed_and_as_fast_as_possible_exclude_each_other(
    melbourne_pcap: Path, isolated_env: dict
) -> None:
    result = run(
        ["replay", str(melbourne_pcap), "--speed", "2", "--as-fast-as-possible"]
    )
    assert_one_line_error(result, "exclude each other", 2)


def test_unknown_config_key_is_one_line(
    config_with_unknown_key: Path, isolated_env: dict
) -> None:
    result = run(["--config", str(config_with_unknown_key), "config", "show"])
    assert_one_line_error(result, "did you mean 'store.sqlite_path'?", 2)


def test_debug_adds_the_traceback(
    config_with_unknown_key: Path, isolated_env: dict
) -> None:
    result = run(
        ["--debug", "--config", str(config_with_unknown_key), "config", "show"]
    )
    assert result.exit_code == 2
    assert "Traceback (most recent call last)" in result.stderr
    assert "ConfigError" in result.stderr
    assert result.stderr.splitlines()[-1].startswith(ERROR_PREFIX)


def test_heavydb_unreachable_is_one_line(
    melbourne_pcap: Path, isolated_env: dict
) -> None:
    port = closed_tcp_port()
    env = {
        "F1DASH_HEAVYDB_PASSWORD": "not-needed",
        "F1DASH_HEAVYDB_CONNECT_TIMEOUT_S": "2",
    }
    args = [
        "--store",
        "heavydb",
        "--heavydb-host",
        "127.0.0.1",
        "--heavydb-port",
        str(port),
    ]
    result = run([*args, "replay", str(melbourne_pcap)], env=env)
    assert_one_line_error(result, f"127.0.0.1:{port}", 1)
    assert "unreachable" in result.stderr
    assert "not-needed" not in result.stderr


def test_config_show_sources_and_option_precedence(isolated_env: dict) -> None:
    env = {"F1DASH_STORE_KIND": "heavydb", "F1DASH_UI_THEME": "nord"}
    result = run(["config", "show"], env=env)
    assert result.exit_code == 0, result.stderr
    lines = {line.split(" = ")[0]: line for line in result.stdout.splitlines()}
    assert '"heavydb"' in lines["store.kind"]
    assert lines["store.kind"].endswith("# env (F1DASH_STORE_KIND)")
    assert lines["ui.units"].endswith("# default")
    # A typed option beats the environment; an untyped one does not.
    result = run(["--store", "sqlite", "config", "show"], env=env)
    lines = {line.split(" = ")[0]: line for line in result.stdout.splitlines()}
    assert '"sqlite"' in lines["store.kind"]
    assert lines["store.kind"].endswith("# option (--store)")
    assert '"nord"' in lines["ui.theme"]
    assert lines["ui.theme"].endswith("# env (F1DASH_UI_THEME)")


def test_config_show_names_the_default_file(isolated_env: dict) -> None:
    result = run(["config", "show"])
    expected = Path(isolated_env["XDG_CONFIG_HOME"]) / "f1dash-tui" / "config.toml"
    assert result.stdout.splitlines()[0] == (
        f"# config file: {expected} (not found: defaults apply)"
    )
    expected.parent.mkdir(parents=True)
    expected.write_text('[ui]\nunits = "imperial"\n')
    result = run(["config", "show"])
    assert result.stdout.splitlines()[0] == f"# config file: {expected}"
    assert 'ui.units = "imperial"' in result.stdout
    assert f"# file ({expected})" in result.stdout


def test_config_show_redacts_the_password(tmp_path: Path, isolated_env: dict) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[store.heavydb]\npassword = "file-pa55"\n')
    path.chmod(0o600)
    result = run(["--config", str(path), "config", "show"])
    assert result.exit_code == 0
    assert "file-pa55" not in result.stdout + result.stderr
    assert "store.heavydb.password = <redacted>" in result.stdout
    assert f"# file ({path})" in result.stdout
    env = {"F1DASH_HEAVYDB_PASSWORD": "env-pa55"}
    result = run(["--config", str(path), "config", "show"], env=env)
    assert "env-pa55" not in result.stdout + result.stderr
    assert "file-pa55" not in result.stdout + result.stderr
    assert "# env (F1DASH_HEAVYDB_PASSWORD)" in result.stdout


def test_permission_warning_on_stderr(tmp_path: Path, isolated_env: dict) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[store.heavydb]\npassword = "pa55"\n')
    path.chmod(0o644)
    result = run(["--config", str(path), "config", "show"])
    assert result.exit_code == 0
    warning_lines = result.stderr.splitlines()
    assert len(warning_lines) == 1
    assert warning_lines[0].startswith(f"f1dash-tui: warning: {path} holds ")
    assert f"chmod 600 {path}" in warning_lines[0]
    path.chmod(0o600)
    assert run(["--config", str(path), "config", "show"]).stderr == ""


def test_doctor_reports_the_store_schema_version(
    tmp_path: Path, isolated_env: dict
) -> None:
    store_path = tmp_path / "store.sqlite3"
    from f1dash_tui.settings import StoreSettings
    from f1dash_tui.store import open_store

    open_store(StoreSettings(kind="sqlite", sqlite_path=store_path)).close()
    port = free_udp_port()
    env = {
        "F1DASH_INGEST_LISTEN_HOST": "127.0.0.1",
        "F1DASH_INGEST_LISTEN_PORT": str(port),
    }
    result = run(["--sqlite-path", str(store_path), "doctor"], env=env)
    assert result.exit_code == 0, result.stdout
    lines = {line[7:].split()[0]: line for line in result.stdout.splitlines()[:-1]}
    assert lines["store"].startswith("[  ok]")
    assert f"schema version {SCHEMA_VERSION}" in lines["store"]
    assert lines["udp"].startswith("[  ok]")
    assert f"127.0.0.1:{port} is free" in lines["udp"]
    assert f"Python {sys.version_info.major}.{sys.version_info.minor}" in result.stdout
    # Under the test runner stdout is not a terminal: the one warning.
    assert lines["terminal"].startswith("[warn]")
    assert result.stdout.splitlines()[-1] == "no problems; 1 warning(s) above"


def test_doctor_fails_on_a_broken_store_and_warns_of_a_busy_port(
    tmp_path: Path, isolated_env: dict
) -> None:
    not_a_store = tmp_path / "notes.sqlite3"
    not_a_store.write_text("this is not a database " * 100)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", 0))
        port = busy.getsockname()[1]
        env = {
            "F1DASH_INGEST_LISTEN_HOST": "127.0.0.1",
            "F1DASH_INGEST_LISTEN_PORT": str(port),
        }
        result = run(["--sqlite-path", str(not_a_store), "doctor"], env=env)
    assert result.exit_code == 1
    lines = {line[7:].split()[0]: line for line in result.stdout.splitlines()[:-1]}
    assert lines["udp"].startswith("[warn]")
    assert f"127.0.0.1:{port} in use" in lines["udp"]
    assert lines["store"].startswith("[FAIL]")
    assert str(not_a_store) in lines["store"]
    assert result.stdout.splitlines()[-1] == "1 problem(s) found"


def test_doctor_passes_while_an_ingest_holds_the_port(
    installed_cli: str, tmp_path: Path, isolated_env: dict[str, str]
) -> None:
    """An ingest running is the normal setup: doctor failed with "in use ... choose
    another with --listen", an option doctor does not have."""
    port = free_udp_port()
    store = tmp_path / "s.sqlite3"
    env = {
        **os.environ,
        **isolated_env,
        "F1DASH_INGEST_LISTEN_HOST": "127.0.0.1",
        "F1DASH_INGEST_LISTEN_PORT": str(port),
        "F1DASH_STORE_SQLITE_PATH": str(store),
    }
    ingest = subprocess.Popen(
        [installed_cli, "ingest"], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 30
        while not store.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # the tables are created right after the file
        done = subprocess.run(
            [installed_cli, "doctor"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        ingest.terminate()
        ingest.communicate(timeout=60)
    assert done.returncode == 0, done.stdout
    (udp_line,) = [line for line in done.stdout.splitlines() if "udp port" in line]
    assert udp_line.startswith("[warn] udp port")
    assert udp_line.endswith(
        f"127.0.0.1:{port} in use: fine if that is your running ingest; otherwise "
        "give ingest another port with `f1dash-tui ingest --listen HOST:PORT` (or "
        "listen_port under [ingest] in the config file)"
    )


def test_doctor_fails_on_a_store_with_damaged_pages(
    melbourne_pcap: Path, tmp_path: Path, isolated_env: dict
) -> None:
    """A store that opens and reads its schema version can still hold damaged
    pages (a disk fault, a copy cut short); doctor runs SQLite's page check."""
    store_path = tmp_path / "store.sqlite3"
    replayed = run(
        [
            "--sqlite-path",
            str(store_path),
            "replay",
            str(melbourne_pcap),
            "--as-fast-as-possible",
        ]
    )
    assert replayed.exit_code == 0, replayed.output
    healthy = run(["--sqlite-path", str(store_path), "doctor"])
    assert "schema version 2, integrity ok" in healthy.stdout
    size = store_path.stat().st_size
    assert size > 1_000_000  # the clip's 22 cars fill some MB
    with store_path.open("r+b") as damaged:
        damaged.seek(size // 2)
        damaged.write(bytes(range(256)) * 800)  # 200 KB in the middle
    result = run(["--sqlite-path", str(store_path), "doctor"])
    assert result.exit_code == 1
    lines = {line[7:].split()[0]: line for line in result.stdout.splitlines()[:-1]}
    assert lines["store"].startswith(
        f"[FAIL] store     SQLite {store_path} is damaged ("
    )
    assert lines["store"].endswith(
        "); move it aside and start a new store (recordings replay into it)"
    )


def test_doctor_heavydb_unreachable(isolated_env: dict) -> None:
    port = closed_tcp_port()
    env = {
        "F1DASH_HEAVYDB_PASSWORD": "x",
        "F1DASH_INGEST_LISTEN_PORT": str(free_udp_port()),
        "F1DASH_INGEST_LISTEN_HOST": "127.0.0.1",
    }
    args = [
        "--store",
        "heavydb",
        "--heavydb-host",
        "127.0.0.1",
        "--heavydb-port",
        str(port),
    ]
    result = run([*args, "doctor"], env=env)
    assert result.exit_code == 1
    store_line = next(line for line in result.stdout.splitlines() if " store " in line)
    assert store_line.startswith("[FAIL]")
    assert f"HeavyDB 127.0.0.1:{port}/heavyai" in store_line


# --- the installed console script, in real subprocesses -----------------------------


@pytest.fixture(scope="module")
def installed_cli() -> str:
    # The script installed beside this interpreter: the venv need not be on PATH, and
    # another install on PATH must not stand in for it.
    found = Path(sys.executable).parent / "f1dash-tui"
    assert found.exists(), f"the f1dash-tui console script is not installed ({found})"
    return str(found)


def subprocess_env(isolated_env: dict[str, str], **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("F1DASH_")}
    env.update(isolated_env)
    env.update(extra)
    return env


def test_installed_script_version_and_one_line_error(
    installed_cli: str, tmp_path: Path, isolated_env: dict[str, str]
) -> None:
    env = subprocess_env(isolated_env)
    done = subprocess.run(
        [installed_cli, "--version"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0
    assert done.stdout == f"f1dash-tui, version {__version__}\n"
    missing = tmp_path / "nope.pcap"
    done = subprocess.run(
        [installed_cli, "replay", str(missing)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith(ERROR_PREFIX)
    assert "does not exist" in done.stderr


def test_installed_script_keeps_the_password_out_of_output_and_args(
    installed_cli: str, tmp_path: Path, isolated_env: dict[str, str]
) -> None:
    """The password travels by environment; it shows in no output and no argv."""
    secret = "Pit-Wall-Secret-42"
    env = subprocess_env(isolated_env, F1DASH_HEAVYDB_PASSWORD=secret)
    done = subprocess.run(
        [installed_cli, "--store", "heavydb", "config", "show"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0
    assert secret not in done.stdout + done.stderr
    assert "store.heavydb.password = <redacted>" in done.stdout

    # A command that waits (for a HeavyDB password at a terminal prompt): while it
    # runs, its argument list holds no secret; the typed password is not echoed.
    master, slave = pty.openpty()
    port = closed_tcp_port()
    log_file = tmp_path / "f1dash.log"
    env = subprocess_env(isolated_env, F1DASH_INGEST_LISTEN_PORT=str(free_udp_port()))
    process = subprocess.Popen(
        [
            installed_cli,
            "--log-file",
            str(log_file),
            "--log-level",
            "DEBUG",
            "--store",
            "heavydb",
            "--heavydb-host",
            "127.0.0.1",
            "--heavydb-port",
            str(port),
            "doctor",
        ],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        close_fds=True,
        # The pty must be the child's controlling terminal: a hidden prompt reads
        # /dev/tty, which would otherwise be the terminal pytest runs in.
        start_new_session=True,
        preexec_fn=make_stdin_the_controlling_terminal,
    )
    os.close(slave)
    try:
        # Generous timeouts: CI shares 2 cores with many other test processes.
        screen = read_until(master, b"HeavyDB password for admin@127.0.0.1", 90)
        cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes().split(b"\0")
        assert all(secret.encode() not in part for part in cmdline)
        os.write(master, f"{secret}\n".encode())
        screen += read_until(master, b"problem(s) found", 90)
        assert process.wait(timeout=60) == 1
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
    text = screen.decode(errors="replace")
    assert secret not in text
    assert f"HeavyDB 127.0.0.1:{port}/heavyai" in text
    if log_file.exists():
        assert secret not in log_file.read_text(encoding="utf-8")


def make_stdin_the_controlling_terminal() -> None:
    """In the child, after setsid: take the pty on fd 0 as the controlling terminal."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def read_until(fd: int, marker: bytes, timeout_s: float) -> bytes:
    """Read a pty until ``marker`` appears (or fail after ``timeout_s``)."""
    received = b""
    deadline = time.monotonic() + timeout_s
    while marker not in received:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"{marker!r} not seen; got {received!r}"
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        received += chunk
    assert marker in received, received
    return received


def test_shell_completion_as_documented(
    installed_cli: str, isolated_env: dict[str, str]
) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert "_F1DASH_TUI_COMPLETE=bash_source f1dash-tui" in readme
    env = subprocess_env(
        isolated_env,
        _F1DASH_TUI_COMPLETE="bash_complete",
        COMP_WORDS="f1dash-tui re",
        COMP_CWORD="1",
    )
    done = subprocess.run(
        [installed_cli], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0
    assert done.stdout.splitlines() == ["plain,record", "plain,replay"]
    source = subprocess.run(
        [installed_cli],
        env=subprocess_env(isolated_env, _F1DASH_TUI_COMPLETE="bash_source"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "complete -o nosort -F _f1dash_tui_completion f1dash-tui" in source.stdout


def test_installed_script_errors_go_to_the_log_file_not_the_terminal(
    installed_cli: str, tmp_path: Path, isolated_env: dict[str, str], not_a_pcap: Path
) -> None:
    env = subprocess_env(isolated_env, F1DASH_HEAVYDB_PASSWORD="x")
    # An error before logging is set up: still one line, nothing else.
    done = subprocess.run(
        [installed_cli, "replay", str(not_a_pcap)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr == (
        f"{ERROR_PREFIX}{not_a_pcap} is not a pcap or pcapng capture\n"
    )
    # An error after it: one line on the terminal, the traceback in the log file.
    log_file = tmp_path / "f1dash.log"
    port = closed_tcp_port()
    done = subprocess.run(
        [
            installed_cli,
            "--log-file",
            str(log_file),
            "--store",
            "heavydb",
            "--heavydb-host",
            "127.0.0.1",
            "--heavydb-port",
            str(port),
            "simulate",
            "--laps",
            "1",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(ERROR_PREFIX)
    assert f"127.0.0.1:{port}" in done.stderr
    logged = log_file.read_text(encoding="utf-8")
    assert "ERROR f1dash_tui.cli" in logged
    assert "Traceback (most recent call last)" in logged


async def test_dashboard_never_shows_the_password(isolated_env: dict[str, str]) -> None:
    """On an unreachable HeavyDB the dashboard shows the error, never the password."""
    from f1dash_tui.settings import HeavyDBSettings, Settings, StoreSettings
    from f1dash_tui.ui.app import create_app

    secret = "Sup3r-Secret-Pw"
    port = closed_tcp_port()
    heavydb = HeavyDBSettings(
        host="127.0.0.1", port=port, password=secret, connect_timeout_s=1.0
    )
    settings = Settings(store=StoreSettings(kind="heavydb", heavydb=heavydb))
    app = create_app(settings, source_label="HeavyDB")
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause(3.0)  # several 0.5 s polls, each failing
        screen = app.export_screenshot()
    assert "unreachable" in screen
    assert str(port) in screen
    assert secret not in screen


def test_debug_is_accepted_after_the_subcommand(
    config_with_unknown_key: Path, isolated_env: dict
) -> None:
    result = run(["config", "show", "--debug"])
    assert result.exit_code == 0, result.stderr
    assert "ui.theme" in result.stdout
    result = run(
        ["--config", str(config_with_unknown_key), "config", "show", "--debug"]
    )
    assert result.exit_code == 2
    assert "Traceback (most recent call last)" in result.stderr
    assert "ConfigError" in result.stderr
    assert "No such option" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith(ERROR_PREFIX)


def test_a_log_file_that_cannot_be_created_is_one_line_and_nothing_else(
    installed_cli: str, tmp_path: Path, isolated_env: dict[str, str]
) -> None:
    not_a_directory = tmp_path / "plain-file"
    not_a_directory.write_text("x")
    log_file = not_a_directory / "f1dash.log"
    done = subprocess.run(
        [installed_cli, "--log-file", str(log_file), "doctor"],
        env=subprocess_env(isolated_env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(ERROR_PREFIX)
    assert str(not_a_directory) in done.stderr
    assert done.stdout == ""


def test_a_store_sqlite_cannot_open_says_why(
    tmp_path: Path, isolated_env: dict, melbourne_pcap: Path
) -> None:
    in_the_way = tmp_path / "telemetry.sqlite3"
    in_the_way.mkdir()  # a folder where the database file should be
    result = run(
        ["replay", str(melbourne_pcap)],
        env={"F1DASH_STORE_SQLITE_PATH": str(in_the_way)},
    )
    assert_one_line_error(
        result,
        f"cannot write to {in_the_way} ({in_the_way}: Is a directory)",
        result.exit_code,
    )
    assert result.exit_code != 0


@pytest.fixture
def write_protect() -> Iterator[object]:
    """Make a file or folder unwritable for this process: chmod for a normal user;
    for root, whom modes do not stop, the immutable attribute (``chattr +i``)."""
    protected: list[Path] = []

    def protect(path: Path) -> None:
        if os.geteuid() != 0:
            path.chmod(0o555 if path.is_dir() else 0o444)
        else:
            done = subprocess.run(
                ["chattr", "+i", str(path)], capture_output=True, text=True
            )
            if done.returncode != 0:
                pytest.skip(f"cannot write-protect as root here: {done.stderr}")
        protected.append(path)

    yield protect
    for path in protected:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        else:
            path.chmod(0o755 if path.is_dir() else 0o644)


def test_ingest_into_a_write_protected_store_fails_at_once_and_says_why(
    tmp_path: Path, isolated_env: dict, melbourne_pcap: Path, write_protect
) -> None:
    """SQLite opens a write-protected file read-only without a word: the store must
    refuse it before ingest starts, not spool every row and exit 0."""
    store_path = tmp_path / "telemetry.sqlite3"
    env = {"F1DASH_STORE_SQLITE_PATH": str(store_path)}
    first = run(["replay", str(melbourne_pcap), "--as-fast-as-possible"], env=env)
    assert first.exit_code == 0, first.stderr
    write_protect(store_path)
    result = run(["replay", str(melbourne_pcap), "--as-fast-as-possible"], env=env)
    assert_one_line_error(result, f"cannot write to {store_path} ({store_path}: ", 1)
    # Replay, not ingest, was run: the message names neither, only the setting.
    assert "writing to the store needs a writable store.sqlite_path" in result.stderr
    assert "ingest needs" not in result.stderr


def test_a_store_in_a_write_protected_folder_names_the_folder(
    tmp_path: Path, isolated_env: dict, melbourne_pcap: Path, write_protect
) -> None:
    """A writable file in a folder where SQLite cannot create its -wal and -shm
    files: the error names the folder, for the writer and for a viewer."""
    folder = tmp_path / "store"
    store_path = folder / "telemetry.sqlite3"
    env = {"F1DASH_STORE_SQLITE_PATH": str(store_path)}
    first = run(["replay", str(melbourne_pcap), "--as-fast-as-possible"], env=env)
    assert first.exit_code == 0, first.stderr
    assert not (folder / "telemetry.sqlite3-shm").exists()  # removed on close
    write_protect(folder)
    result = run(["replay", str(melbourne_pcap), "--as-fast-as-possible"], env=env)
    denied = "Permission denied" if os.geteuid() != 0 else "Operation not permitted"
    assert_one_line_error(
        result,
        f"(SQLite cannot create telemetry.sqlite3-shm in {folder}: {denied})",
        1,
    )
    with pytest.raises(StoreError) as viewer_error:
        SQLiteStore(store_path, read_only=True)
    # What is wrong before the path: the dashboard's header cut it off.
    assert str(viewer_error.value) == (
        f"cannot open the store: SQLite cannot create telemetry.sqlite3-shm in "
        f"{folder}: {denied} ({store_path})"
    )


def test_doctor_fails_on_a_store_that_cannot_be_created(
    tmp_path: Path, isolated_env: dict, write_protect
) -> None:
    """It said the store "does not exist yet (ingest, replay or simulate creates
    it)" and "no problems" for a folder none of them can write to."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    write_protect(folder)
    store_path = folder / "new" / "telemetry.sqlite3"
    result = run(["--sqlite-path", str(store_path), "doctor"])
    assert result.exit_code == 1
    lines = {line[7:].split()[0]: line for line in result.stdout.splitlines()[:-1]}
    assert lines["store"].startswith(f"[FAIL] store     SQLite {store_path} cannot ")
    # The folder that cannot be made is named, not its parent alone.
    assert f"({folder / 'new'} cannot be made in {folder}: " in lines["store"]
    assert "writable folder" in lines["store"]
    assert not (folder / "new").exists()


def test_doctor_fails_on_an_empty_file_nothing_can_write(isolated_env: dict) -> None:
    # /proc/version is an empty-looking file SQLite can read but never write: it
    # passed as "still empty (ingest ... creates the store in it)", exit 0.
    result = run(["--sqlite-path", "/proc/version", "doctor"])
    assert result.exit_code == 1
    lines = {line[7:].split()[0]: line for line in result.stdout.splitlines()[:-1]}
    assert lines["store"].startswith(
        "[FAIL] store     SQLite /proc/version is empty and cannot be written ("
    )


def test_doctor_reports_the_theme(isolated_env: dict) -> None:
    result = run(["--theme", "nord", "doctor"])
    theme_lines = [
        line for line in result.stdout.splitlines() if line[7:13] == "theme "
    ]
    assert theme_lines == ["[  ok] theme     nord"]
    result = run(["--theme", "nosuchtheme", "doctor"])
    assert_one_line_error(result, "ui.theme must be one of ", 2)
    assert "textual-dark" in result.stderr


def test_a_poll_interval_too_long_to_ever_poll_is_one_line_error(
    installed_cli: str, tmp_path: Path, isolated_env: dict[str, str]
) -> None:
    """1e308 was taken from the file and the option: the header showed "polling
    1e+308s" and the panels never updated."""
    config = tmp_path / "config.toml"
    config.write_text("[ui]\nlive_poll_interval_s = 1e308\n", encoding="utf-8")
    env = {**os.environ, **isolated_env}
    expected = {
        "--config": f"{config}: ui.live_poll_interval_s must be between 0.05 and 60, "
        "got 1e+308",
        "--poll-interval": "Invalid value for '--poll-interval': 1e+308 is not in "
        "the range 0.05<=x<=60.0. (see 'f1dash-tui --help')",
    }
    for option, value in (("--config", str(config)), ("--poll-interval", "1e308")):
        done = subprocess.run(
            [installed_cli, option, value, "config", "show"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2, done.stdout
        assert done.stderr == f"{ERROR_PREFIX}{expected[option]}\n"


def test_wording_of_a_config_folder_a_corrupt_store_and_an_empty_store(
    installed_cli: str, tmp_path: Path, isolated_env: dict[str, str]
) -> None:
    """A folder as F1DASH_CONFIG was "config file X does not exist"; a corrupt store
    said what it is not, not what to do; doctor on an empty store file named the
    path twice."""
    env = {**os.environ, **isolated_env}

    def run_installed(*args: str, **extra_env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [installed_cli, *args],
            env={**env, **extra_env},
            capture_output=True,
            text=True,
            timeout=60,
        )

    folder = tmp_path / "settings"
    folder.mkdir()
    done = run_installed("config", "show", F1DASH_CONFIG=str(folder))
    assert done.returncode == 2
    assert done.stderr == (
        f"{ERROR_PREFIX}config file {folder} is a folder, not a file: point "
        f"F1DASH_CONFIG at a TOML file (such as {folder / 'config.toml'})\n"
    )

    corrupt = tmp_path / "corrupt.sqlite3"
    corrupt.write_bytes(b"\x00\x13garbage, not SQLite " * 300)
    done = run_installed("--sqlite-path", str(corrupt), "simulate", "--laps", "1")
    assert done.returncode == 1
    assert done.stderr == (
        f"{ERROR_PREFIX}{corrupt} is not an f1dash-tui SQLite store (file is not a "
        "database); if it is a damaged store, move it aside and start a new one "
        "(recordings replay into it), else set store.sqlite_path to the store file\n"
    )

    empty = tmp_path / "empty.sqlite3"
    empty.touch()
    done = run_installed("--sqlite-path", str(empty), "doctor")
    (store_line,) = [line for line in done.stdout.splitlines() if " store " in line]
    assert store_line == (
        f"[warn] store     SQLite {empty} is still empty (ingest, replay or simulate "
        "creates the store in it)"
    )
    assert str(empty) not in store_line.replace(f"SQLite {empty}", "", 1)


@pytest.mark.parametrize(
    ("command", "said"),
    [
        (["replay", "MELBOURNE", "--speed", "1"], "sending melbourne-2026-race.pcap"),
        (["simulate", "--laps", "1", "--speed", "1"], "sending a simulated race"),
    ],
)
def test_a_paced_send_to_udp_says_so_on_a_terminal(
    command: list[str],
    said: str,
    installed_cli: str,
    isolated_env: dict[str, str],
    melbourne_pcap: Path,
) -> None:
    # A paced send runs as long as the race; it printed nothing until the end.
    port = free_udp_port()
    arguments = [
        str(melbourne_pcap) if part == "MELBOURNE" else part for part in command
    ]
    master, slave = pty.openpty()
    process = subprocess.Popen(
        [installed_cli, *arguments, "--to-udp", f"127.0.0.1:{port}"],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        env=subprocess_env(isolated_env),
        close_fds=True,
    )
    os.close(slave)
    try:
        screen = read_until(master, b"Ctrl-C stops", 60)
        process.send_signal(2)  # SIGINT, as Ctrl-C
        assert process.wait(timeout=30) == 130
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
    line = screen.decode().strip().splitlines()[-1]
    assert line == f"{said} to UDP 127.0.0.1:{port} at 1x its pace; Ctrl-C stops"
