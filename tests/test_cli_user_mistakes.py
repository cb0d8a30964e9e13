"""What the command line does with the mistakes a new user makes: overwriting a
recording, stopping a replay early, a capture of the wrong traffic, an option in the
wrong place, a dashboard piped into a file. Each gets one clear line and an exit code
a script can act on; nothing is lost or destroyed silently."""

from __future__ import annotations

import os
import pty
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from f1dash_tui.cli import cli
from f1dash_tui.telemetry.pcap import PcapWriter

ERROR_PREFIX = "f1dash-tui: error: "


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """No F1DASH_* variables; config, data and state under tmp_path."""
    for name in list(os.environ):
        if name.startswith("F1DASH_"):
            monkeypatch.delenv(name)
    dirs = {
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    for name, value in dirs.items():
        monkeypatch.setenv(name, value)
    return {**os.environ, **dirs}


def run(args: list[str]) -> Result:
    return CliRunner().invoke(cli, args)


def script() -> str:
    return str(Path(sys.executable).parent / "f1dash-tui")


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_record_refuses_to_overwrite_a_capture(tmp_path: Path, env: dict) -> None:
    capture = tmp_path / "race.pcap"
    capture.write_bytes(b"an earlier recording")
    result = run(["record", str(capture), "--duration", "0.2"])
    assert result.exit_code == 1
    assert result.stderr == (
        f"{ERROR_PREFIX}{capture} exists; give another file name, or --force to "
        "overwrite it\n"
    )
    assert capture.read_bytes() == b"an earlier recording"


def test_simulate_refuses_to_overwrite_a_capture(tmp_path: Path, env: dict) -> None:
    capture = tmp_path / "sim.pcap"
    capture.write_bytes(b"keep me")
    result = run(["simulate", "--laps", "1", "--cars", "2", "--pcap", str(capture)])
    assert result.exit_code == 1
    assert f"{capture} exists; give another file name, or --force" in result.stderr
    assert capture.read_bytes() == b"keep me"


def test_record_of_nothing_fails_with_a_hint(tmp_path: Path, env: dict) -> None:
    """--force overwrites; a recording that received nothing says what to check."""
    capture = tmp_path / "race.pcap"
    capture.write_bytes(b"old")
    port = free_udp_port()
    result = run(
        [
            "record",
            str(capture),
            "--listen",
            f"127.0.0.1:{port}",
            "--duration",
            "0.3",
            "--force",
        ]
    )
    assert result.exit_code == 1
    assert result.stderr == (
        f"{ERROR_PREFIX}nothing arrived on UDP 127.0.0.1:{port} ({capture} is "
        "removed; --force had already emptied the old file): is the game's UDP "
        "telemetry on, and set to this machine's address and port?\n"
    )
    assert not capture.exists()


def test_a_recording_of_nothing_leaves_no_file_to_block_the_retry(
    tmp_path: Path, env: dict
) -> None:
    """An empty capture (24 bytes, the pcap header) left behind made the retry
    fail with "race.pcap exists; ... --force" instead of listening again."""
    capture = tmp_path / "race.pcap"
    port = free_udp_port()
    record_args = ["record", str(capture), "--duration", "0.3"]
    for attempt in range(2):
        done = subprocess.run(
            [script(), *record_args, "--listen", f"127.0.0.1:{port}"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 1, done.stderr
        assert done.stderr == (
            f"{ERROR_PREFIX}nothing arrived on UDP 127.0.0.1:{port} ({capture} is "
            "not kept): is the game's UDP telemetry on, and set to this machine's "
            "address and port?\n"
        ), f"attempt {attempt + 1}"
        assert not capture.exists()


def test_replay_stopped_by_ctrl_c_exits_130(
    melbourne_pcap: Path, tmp_path: Path, env: dict
) -> None:
    store_option = ["--sqlite-path", str(tmp_path / "s.sqlite3")]
    replay = subprocess.Popen(
        # The 21 s clip at its recorded pace.
        [script(), *store_option, "replay", str(melbourne_pcap)],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(2.0)
    replay.send_signal(signal.SIGINT)
    _, stderr = replay.communicate(timeout=60)
    assert replay.returncode == 130, stderr
    # One line, saying first that the replay is not whole; the totals are not
    # those of a live ingest (no pkt/s, no write lag).
    (line,) = stderr.splitlines()
    assert line.startswith(
        f"f1dash-tui: replay interrupted before the end; replayed {melbourne_pcap} "
        "into SQLite"
    )
    assert " packets, " in line and " rows, " in line
    assert "lag" not in line and "pkt/s" not in line


def test_ingest_says_when_it_listens_and_stops_without_a_terminal(
    tmp_path: Path, env: dict
) -> None:
    """Under nohup or a service manager stderr is a file: the first and last lines
    still reach it (the redrawn status line needs a terminal)."""
    port = free_udp_port()
    store = tmp_path / "s.sqlite3"
    listen_option = ["--listen", f"127.0.0.1:{port}"]
    ingest = subprocess.Popen(
        [script(), "--sqlite-path", str(store), "ingest", *listen_option],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(2.5)
    ingest.send_signal(signal.SIGINT)
    _, stderr = ingest.communicate(timeout=60)
    assert ingest.returncode == 0, stderr
    lines = stderr.splitlines()
    assert lines[0] == (
        f"listening on UDP 127.0.0.1:{port}, writing to SQLite {store}; Ctrl-C stops"
    )
    assert lines[1].startswith("ingest stopped: ingest: 0 packets")
    assert len(lines) == 2


def test_a_capture_of_other_traffic_is_an_error(tmp_path: Path, env: dict) -> None:
    capture = tmp_path / "junk.pcap"
    with PcapWriter(capture) as writer:
        for number in range(50):
            writer.write(
                1.0 + number / 60,
                bytes(range(number % 7, number % 7 + 120)),  # not an F1 header
                src=("10.0.0.2", 5000),
                dst=("10.0.0.1", 20777),
            )
    result = run(
        [
            "--sqlite-path",
            str(tmp_path / "s.sqlite3"),
            "replay",
            str(capture),
            "--as-fast-as-possible",
        ]
    )
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        f"{ERROR_PREFIX}none of the 50 datagrams in {capture} is F1 telemetry (see "
        "the bad counts above); is it a capture of the game's UDP port?"
    )


def test_a_group_without_its_subcommand_shows_its_help(env: dict) -> None:
    result = run(["config"])
    assert "Usage: f1dash-tui config [OPTIONS] COMMAND [ARGS]..." in result.stdout
    assert "show" in result.stdout
    assert "error" not in result.stderr


def test_a_global_option_after_the_subcommand_says_where_it_goes(env: dict) -> None:
    result = run(["ingest", "--sqlite-path", "x.sqlite3"])
    assert result.exit_code == 2
    assert result.stderr == (
        f"{ERROR_PREFIX}No such option '--sqlite-path'. It is an option of "
        "f1dash-tui itself: put it before the subcommand (f1dash-tui --sqlite-path "
        "... ingest ...) (see 'f1dash-tui ingest --help')\n"
    )
    # An option nobody has gets no such hint.
    assert "itself" not in run(["ingest", "--no-such-thing"]).stderr


def test_the_dashboard_refuses_a_pipe(tmp_path: Path, env: dict) -> None:
    """Under the test runner stdout is not a terminal, as in `f1dash-tui > file`."""
    for args in ([], ["demo"]):
        result = run(["--sqlite-path", str(tmp_path / "s.sqlite3"), *args])
        assert result.exit_code == 1
        assert result.stderr.startswith(ERROR_PREFIX)
        assert "needs a terminal, and stdout is not one" in result.stderr
        assert result.stderr.count("\n") == 1


def test_simulate_speed_without_udp_is_refused(env: dict) -> None:
    result = run(["simulate", "--speed", "3", "--pcap", "x.pcap"])
    assert result.exit_code == 2
    assert "--speed paces --to-udp only" in result.stderr
    assert not Path("x.pcap").exists()


def test_replay_at_a_terminal_redraws_a_status_line(
    melbourne_pcap: Path, tmp_path: Path, env: dict
) -> None:
    """On a terminal a replay shows how far it is (one line redrawn in place), then
    clears it for the summary; off a terminal (above) only the summary is printed."""
    master, slave = pty.openpty()
    replay_args = ["replay", str(melbourne_pcap), "--speed", "8"]  # 21 s in ~2.6 s
    replay = subprocess.Popen(
        [script(), "--sqlite-path", str(tmp_path / "s.sqlite3"), *replay_args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        close_fds=True,
    )
    os.close(slave)
    received = b""
    try:
        deadline = time.monotonic() + 60
        while replay.poll() is None or select.select([master], [], [], 0)[0]:
            if time.monotonic() > deadline:
                break
            if select.select([master], [], [], 0.2)[0]:
                try:
                    received += os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
    finally:
        if replay.poll() is None:
            replay.kill()
        replay.wait()
        os.close(master)
    text = received.decode(errors="replace")
    assert replay.returncode == 0, text
    redraws = [part for part in text.split("\r") if part.startswith("ingest: ")]
    assert len(redraws) >= 2, text  # ~5 redraws in 2.6 s
    assert all("packets" in line and "pkt/s" in line for line in redraws)
    assert f"replayed {melbourne_pcap} into SQLite" in text


def test_a_negative_seed_is_an_option_error_not_a_traceback(env: dict) -> None:
    result = run(["simulate", "--seed", "-5", "--pcap", "x.pcap"])
    assert result.exit_code == 2
    assert "Invalid value for '--seed': -5 is not in the range x>=0." in result.stderr
    assert "Traceback" not in result.output
    assert not Path("x.pcap").exists()


def test_recording_into_a_folder_says_so_before_offering_force(
    tmp_path: Path, env: dict
) -> None:
    folder = tmp_path / "adir.pcap"
    folder.mkdir()
    for extra in ([], ["--force"]):
        result = run(["record", str(folder), "--duration", "0.2", *extra])
        assert result.exit_code == 1
        assert result.stderr == f"{ERROR_PREFIX}{folder} is a folder, not a file\n"


def test_a_paced_replay_does_not_wait_out_a_pause_of_days(
    melbourne_pcap: Path, tmp_path: Path, env: dict
) -> None:
    """Captures joined together hold gaps of days (one in the shared collection
    holds 14.7 days); a paced replay shortens each to 10 s and says so."""
    from f1dash_tui.telemetry.pcap import read_pcap

    datagrams = list(read_pcap(melbourne_pcap))[:400]
    spliced = tmp_path / "spliced.pcap"
    two_days_s = 2 * 86_400.0
    with PcapWriter(spliced) as writer:
        for number, datagram in enumerate(datagrams):
            shift_s = two_days_s if number >= 200 else 0.0
            writer.write(datagram.timestamp_s + shift_s, datagram.payload)
    store = tmp_path / "s.sqlite3"
    started = time.monotonic()
    result = run(["--sqlite-path", str(store), "replay", str(spliced), "--speed", "20"])
    elapsed_s = time.monotonic() - started
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"replayed {spliced} into SQLite {store}: 400 packets, ")
    assert lines[1] == (
        f"f1dash-tui: note: {spliced} pauses 1 time for longer than 10 s (48h00m in "
        "all); the replay shortened each to 10 s"
    )
    # Two days at 20x would be 2.4 hours; 10 s at 20x is half a second.
    assert elapsed_s < 60


def test_a_capture_without_udp_is_one_error_and_no_store(
    tmp_path: Path, env: dict
) -> None:
    """It printed a "replayed ... 0 packets, 1 rows" summary before the error, and
    had created the store for nothing."""
    capture = tmp_path / "empty.pcap"
    PcapWriter(capture).close()  # the file header, no datagram
    store = tmp_path / "s.sqlite3"
    for target in ([], ["--to-udp", f"127.0.0.1:{free_udp_port()}"]):
        done = subprocess.run(
            [script(), "--sqlite-path", str(store), "replay", str(capture), *target],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 1
        assert done.stderr == (
            f"{ERROR_PREFIX}{capture} holds no UDP datagrams: nothing to replay (is "
            "it a capture of the game's UDP port?)\n"
        )
        assert not store.exists()


@pytest.mark.parametrize(
    ("target", "advice"),
    [
        ("nohost.invalid:20777", "(check the host name in --to-udp)"),
        (
            "255.255.255.255:20777",
            "(a broadcast address, or a firewall, refuses it; check --to-udp: give "
            "the address of the machine running `f1dash-tui ingest`)",
        ),
    ],
)
def test_a_udp_target_that_cannot_be_reached_is_named_with_the_fix(
    melbourne_pcap: Path, tmp_path: Path, env: dict, target: str, advice: str
) -> None:
    """simulate said only "error: Name or service not known" / "Permission denied"."""
    commands = (
        ["simulate", "--laps", "1", "--cars", "2", "--to-udp", target],
        ["replay", str(melbourne_pcap), "--to-udp", target],
    )
    for command in commands:
        done = subprocess.run(
            [script(), *command], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 1, done.stderr
        (line,) = done.stderr.splitlines()
        assert line.startswith(f"{ERROR_PREFIX}cannot send UDP to {target}: ")
        assert line.endswith(advice), line


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["record", "r.pcap", "--duration", "nan"], "--duration"),
        # inf once reached the recording's timer: OverflowError in a thread.
        (["record", "r.pcap", "--duration", "inf"], "--duration"),
        (["record", "r.pcap", "--duration", "1e300"], "--duration"),
        (["replay", "r.pcap", "--speed", "nan"], "--speed"),
        (["demo", "--speed", "inf"], "--speed"),
        (["simulate", "--to-udp", "127.0.0.1:9", "--speed", "nan"], "--speed"),
        (["--poll-interval", "nan", "doctor"], "--poll-interval"),
    ],
)
def test_numbers_that_are_no_numbers_are_one_error_line(
    args: list[str],
    option: str,
    env: dict,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    # NaN passed click's range checks (every comparison with it is false): a
    # replay at --speed nan ran flat out, a recording of --duration nan stopped at
    # once saying nothing had arrived.
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith(ERROR_PREFIX)
    assert f"Invalid value for '{option}'" in lines[0]
    assert not (tmp_path / "r.pcap").exists()


def test_a_store_path_that_is_no_file_says_so_and_leaves_nothing(
    melbourne_pcap: Path, tmp_path: Path, env: dict
) -> None:
    # /dev/null said "disk I/O error" and left /dev/null-journal and -lock in /dev;
    # a path under a file said "File exists".
    before = set(os.listdir("/dev"))
    result = run(["--sqlite-path", "/dev/null", "replay", str(melbourne_pcap)])
    assert result.exit_code == 1
    assert result.output == (
        f"{ERROR_PREFIX}/dev/null is not a regular file; set store.sqlite_path "
        "(--sqlite-path) to a store file\n"
    )
    assert set(os.listdir("/dev")) == before
    a_file = tmp_path / "notes.txt"
    a_file.write_text("not a folder")
    under = a_file / "store.sqlite3"
    result = run(["--sqlite-path", str(under), "replay", str(melbourne_pcap)])
    assert result.exit_code == 1
    assert result.output == (
        f"{ERROR_PREFIX}cannot create the folder for {under}: {a_file} is not a "
        "folder\n"
    )
