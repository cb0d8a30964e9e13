"""Does a SIGKILLed ingest leave the SQLite store whole, and how much does it lose?

Runs the real ``f1dash-tui ingest`` process on a SQLite store and feeds it a
simulated 22-car race over UDP at the game's pace (60 Hz motion, lap data and
telemetry: ~220 datagrams/s), SIGKILLs it at random moments, restarts it, and
keeps sending. After every kill:

- ``PRAGMA integrity_check`` is ``ok``;
- no batch is half-written: every frame in lap_data and car_telemetry has
  all 22 cars, and what is stored is exactly a prefix of what was sent (no datagram
  missing before the last one stored, across the two tables);
- rows lost = rows of datagrams sent to the killed process but not stored (goal: at
  most the unflushed batch, batch_max_s = 0.1 s = 6 frames x 22 cars per table).

At the end one session row covers the whole stream: each restart continued the same
session.

    python benchmarks/crash_safety.py [--kills 10] [--seed 1] [--min-run-s 0.5]
        [--max-run-s 4]

``tests/test_crash_safety.py`` runs 2 kills.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from f1dash_tui.telemetry import packets
from f1dash_tui.telemetry.simulator import SimulationOptions, simulate

CARS = 22
RATE_HZ = 60
PACKET_FORMAT = 2025
"""22-slot arrays: with 22 cars every slot is a car, so every frame has 22 rows."""
# Motion is stored at most 10 packets/s since schema 2 (car_telemetry carries the
# positions), so only lap data and telemetry have every frame.
PER_FRAME_TABLES = {
    packets.PacketId.LAP_DATA: "lap_data",
    packets.PacketId.CAR_TELEMETRY: "car_telemetry",
}
"""The 60 Hz per-car packets and the tables they fill."""
OVERALL_FRAME_OFFSET = 23
"""2023+ header: ... sessionTime f4 @15, frameIdentifier u4 @19, overallFrameIdentifier
u4 @23."""
BATCH_MAX_S = 0.1
"""IngestSettings.batch_max_s default: the unflushed batch is at most this old."""
START_TIMEOUT_S = 60.0


def script() -> str:
    """The installed console script next to this interpreter."""
    return str(Path(sys.executable).parent / "f1dash-tui")


def free_udp_port() -> int:
    """A UDP port nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_udp_listener(port: int, process: subprocess.Popen[bytes]) -> None:
    """Until the process has bound the port (or fail if it ended)."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"ingest ended with {process.returncode} at start")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                return
        time.sleep(0.05)
    raise RuntimeError(f"ingest did not listen on UDP {port} in {START_TIMEOUT_S} s")


@dataclass(frozen=True)
class Sent:
    """One datagram sent: its table (None: not a per-frame table) and frame."""

    table: str | None
    overall_frame: int


def describe(payload: bytes) -> Sent:
    """Which per-frame table a datagram fills, and its overall frame."""
    key = packets.peek_format_and_id(payload)
    table = PER_FRAME_TABLES.get(key[1]) if key else None
    frame = int.from_bytes(
        payload[OVERALL_FRAME_OFFSET : OVERALL_FRAME_OFFSET + 4], "little"
    )
    return Sent(table, frame)


@dataclass
class KillResult:
    """What one kill left behind."""

    run_s: float
    sent_datagrams: int
    integrity: str
    split_frames: int
    """Frames with a number of cars other than 22 (goal 0)."""
    prefix_holes: int
    """Datagrams of this run missing before the last stored one (goal 0)."""
    lost_frames: dict[str, int]
    """Per table: frames sent to this process and not stored."""

    @property
    def lost_rows(self) -> int:
        """Rows lost over the per-frame tables."""
        return sum(self.lost_frames.values()) * CARS

    @property
    def ok(self) -> bool:
        """Store whole and no batch split."""
        return (
            self.integrity == "ok" and self.split_frames == 0 and not self.prefix_holes
        )


@dataclass
class CrashRun:
    """The whole run."""

    kills: list[KillResult] = field(default_factory=list)
    session_uids: list[int] = field(default_factory=list)
    final_frames_stored: int = 0
    final_frames_sent: int = 0


def stored_frames(path: Path) -> dict[str, set[int]]:
    """Per per-frame table, the overall frames stored."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        return {
            table: {
                row[0]
                for row in connection.execute(
                    f"SELECT DISTINCT overall_frame FROM {table}"
                )
            }
            for table in PER_FRAME_TABLES.values()
        }
    finally:
        connection.close()


def check_store(path: Path) -> tuple[str, int]:
    """(integrity_check result, frames whose car count is not 22)."""
    connection = sqlite3.connect(path, timeout=30)
    try:
        integrity = ";".join(
            row[0] for row in connection.execute("PRAGMA integrity_check")
        )
        split = 0
        for table in PER_FRAME_TABLES.values():
            split += connection.execute(
                "SELECT COUNT(*) FROM (SELECT session_uid, overall_frame, "
                f"COUNT(*) AS n FROM {table} GROUP BY session_uid, overall_frame "
                "HAVING n != ?)",
                (CARS,),
            ).fetchone()[0]
        return integrity, split
    finally:
        connection.close()


def start_ingest(
    store_path: Path, port: int, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    """The real ingest process on ``store_path``, listening on 127.0.0.1:port."""
    return subprocess.Popen(
        [
            script(),
            "--sqlite-path",
            str(store_path),
            "ingest",
            "--listen",
            f"127.0.0.1:{port}",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def send_paced(
    sock: socket.socket,
    port: int,
    stream: Iterator[tuple[float, bytes]],
    duration_s: float,
    sent: list[bytes],
) -> None:
    """Send the stream at its recorded pace for ``duration_s``; append to ``sent``."""
    started = time.monotonic()
    first_time_s: float | None = None
    while True:
        elapsed_s = time.monotonic() - started
        if elapsed_s >= duration_s:
            return
        session_time_s, payload = next(stream)
        if first_time_s is None:
            first_time_s = session_time_s
        wait_s = (session_time_s - first_time_s) - elapsed_s
        if wait_s > 0:
            time.sleep(wait_s)
        sock.sendto(payload, ("127.0.0.1", port))
        sent.append(payload)


def run(
    kills: int,
    seed: int,
    folder: Path,
    *,
    min_run_s: float = 0.5,
    max_run_s: float = 4.0,
) -> CrashRun:
    """Kill the ingest ``kills`` times at random moments; check after each."""
    rng = random.Random(seed)
    store_path = folder / "crash.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith("F1DASH_")}
    env.update(
        XDG_CONFIG_HOME=str(folder / "config"),
        XDG_DATA_HOME=str(folder / "data"),
        XDG_STATE_HOME=str(folder / "state"),
    )
    options = SimulationOptions(
        cars=CARS, laps=20, send_rate_hz=RATE_HZ, packet_format=PACKET_FORMAT, seed=seed
    )
    stream = iter(simulate(options))
    port = free_udp_port()
    result = CrashRun()
    all_sent: list[Sent] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _ in range(kills):
            process = start_ingest(store_path, port, env)
            try:
                wait_for_udp_listener(port, process)
                run_s = rng.uniform(min_run_s, max_run_s)
                sent_now: list[bytes] = []
                send_paced(sock, port, stream, run_s, sent_now)
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=30)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait()
            described = [describe(payload) for payload in sent_now]
            all_sent.extend(described)
            integrity, split = check_store(store_path)
            frames = stored_frames(store_path)
            stored_flags = [
                s.table is not None and s.overall_frame in frames[s.table]
                for s in described
            ]
            relevant = [i for i, s in enumerate(described) if s.table is not None]
            last_stored = max((i for i in relevant if stored_flags[i]), default=-1)
            holes = sum(1 for i in relevant if i < last_stored and not stored_flags[i])
            lost = {
                table: len(
                    {s.overall_frame for s in described if s.table == table}
                    - frames[table]
                )
                for table in PER_FRAME_TABLES.values()
            }
            result.kills.append(
                KillResult(run_s, len(sent_now), integrity, split, holes, lost)
            )
        # A last restart: the session goes on; stop it cleanly.
        process = start_ingest(store_path, port, env)
        try:
            wait_for_udp_listener(port, process)
            sent_now = []
            send_paced(sock, port, stream, 2.0, sent_now)
            all_sent.extend(describe(payload) for payload in sent_now)
            time.sleep(4 * BATCH_MAX_S)
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    connection = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True)
    try:
        result.session_uids = [
            row[0] for row in connection.execute("SELECT session_uid FROM sessions")
        ]
    finally:
        connection.close()
    frames = stored_frames(store_path)
    result.final_frames_stored = len(frames["car_telemetry"])
    result.final_frames_sent = len(
        {s.overall_frame for s in all_sent if s.table == "car_telemetry"}
    )
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Run the kills and print the figures; exit 1 if the store was ever damaged."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--min-run-s", type=float, default=0.5)
    parser.add_argument("--max-run-s", type=float, default=4.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="f1dash-crash-") as folder:
        result = run(
            args.kills,
            args.seed,
            Path(folder),
            min_run_s=args.min_run_s,
            max_run_s=args.max_run_s,
        )
    batch_frames = round(BATCH_MAX_S * RATE_HZ)
    print(
        f"{len(result.kills)} SIGKILLs of `f1dash-tui ingest` fed {CARS} cars at "
        f"{RATE_HZ} Hz over UDP (unflushed batch <= {batch_frames} frames "
        f"= {batch_frames * CARS} rows per table)"
    )
    print(
        " kill  ran_s  sent  integrity  split_frames  holes  lost_frames(m/l/t)"
        "  lost_rows"
    )
    for number, kill in enumerate(result.kills, 1):
        lost = "/".join(str(kill.lost_frames[t]) for t in PER_FRAME_TABLES.values())
        print(
            f" {number:>4}  {kill.run_s:>5.2f}  {kill.sent_datagrams:>4}  "
            f"{kill.integrity:>9}  {kill.split_frames:>12}  {kill.prefix_holes:>5}  "
            f"{lost:>18}  {kill.lost_rows:>9}"
        )
    worst = max(max(k.lost_frames.values()) for k in itertools.chain(result.kills))
    print(f"worst loss: {worst} frames per table ({worst / RATE_HZ:.2f} s of data)")
    print(
        f"sessions after {len(result.kills)} restarts: "
        f"{len(result.session_uids)} (goal 1)"
    )
    print(
        f"telemetry frames stored / sent over the whole run: "
        f"{result.final_frames_stored} / {result.final_frames_sent}"
    )
    damaged = [k for k in result.kills if not k.ok]
    print(
        f"kills that left the store damaged or a batch split: {len(damaged)} (goal 0)"
    )
    return 1 if damaged or len(result.session_uids) != 1 else 0


if __name__ == "__main__":
    sys.exit(main())
