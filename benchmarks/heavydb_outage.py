"""Does ingest lose anything when the HeavyDB server is down for 10 s mid-race?

The real ``f1dash-tui ingest`` process (configured for HeavyDB by a config file)
receives a simulated 22-car race over UDP at the game's pace (60 Hz motion, lap data
and telemetry). The HeavyDB test server (wire-compatible, tests/heavydb_server) is
killed for ``--outage-s`` in the middle of the stream and restarted on the same port
and database. Ingest must spool while it is down and backfill after.

Prints, per 60 Hz table, the rows expected (frames sent x 22 cars), stored, missing
and duplicated, counted by (frame, car) (goal 0 missing, 0 duplicated); the most
rows spooled; and how long the backfill took after the server came back.

    python benchmarks/heavydb_outage.py [--outage-s 10] [--before-s 8] [--after-s 10]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "tests"))

from heavydb_server import HeavyDBServerProcess  # noqa: E402 -- after the path

from f1dash_tui.store import open_store  # noqa: E402
from f1dash_tui.store.queries import DashboardQueries  # noqa: E402
from f1dash_tui.telemetry import packets  # noqa: E402
from f1dash_tui.telemetry.simulator import SimulationOptions, simulate  # noqa: E402

CARS = 22
RATE_HZ = 60
PACKET_FORMAT = 2025
"""22-slot arrays: every slot is a car."""
PASSWORD = "outage-bench"
# Motion is stored at most 10 packets/s since schema 2 (car_telemetry carries the
# positions), so only lap data and telemetry have every frame.
TABLES = {
    packets.PacketId.LAP_DATA: "lap_data",
    packets.PacketId.CAR_TELEMETRY: "car_telemetry",
}
OVERALL_FRAME_OFFSET = 23
"""2023+ header: overallFrameIdentifier u32 at byte 23."""
BACKFILL_TIMEOUT_S = 300.0


def free_port(kind: int) -> int:
    """A port nothing listens on."""
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class OutageResult:
    """What the outage cost."""

    sent: int = 0
    expected_frames: dict[str, set[int]] = field(default_factory=dict)
    stored: dict[str, dict[tuple[int, int], int]] = field(default_factory=dict)
    spooled_peak_rows: int = 0
    backfill_s: float | None = None
    sessions: int = 0
    packets_total: int = 0

    def missing(self, table: str) -> int:
        """Rows (frame, car) sent and not stored."""
        keys = self.stored[table]
        return sum(
            1
            for frame in self.expected_frames[table]
            for car in range(CARS)
            if (frame, car) not in keys
        )

    def duplicated(self, table: str) -> int:
        """Rows stored more than once."""
        return sum(count - 1 for count in self.stored[table].values() if count > 1)


def _config(path: Path, server_port: int, udp_port: int) -> Path:
    path.write_text(
        "\n".join(
            [
                "[store]",
                'kind = "heavydb"',
                "[store.heavydb]",
                'host = "127.0.0.1"',
                f"port = {server_port}",
                f'password = "{PASSWORD}"',
                "connect_timeout_s = 2.0",
                "[ingest]",
                'listen_host = "127.0.0.1"',
                f"listen_port = {udp_port}",
                f'spool_dir = "{path.parent / "spool"}"',
            ]
        )
        + "\n"
    )
    path.chmod(0o600)
    return path


def run(
    folder: Path, *, before_s: float, outage_s: float, after_s: float
) -> OutageResult:
    """Stream for before + outage + after seconds, the server down in the middle."""
    result = OutageResult()
    server = HeavyDBServerProcess(
        folder / "heavy.sqlite3",
        password=PASSWORD,
        port=free_port(socket.SOCK_STREAM),
    )
    server.start()
    udp_port = free_port(socket.SOCK_DGRAM)
    config = _config(folder / "config.toml", server.port, udp_port)
    env = {k: v for k, v in os.environ.items() if not k.startswith("F1DASH_")}
    env.update(XDG_STATE_HOME=str(folder / "state"), XDG_DATA_HOME=str(folder / "data"))
    ingest = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "f1dash-tui"),
            "--config",
            str(config),
            "ingest",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    frames: dict[str, set[int]] = {table: set() for table in TABLES.values()}
    total_s = before_s + outage_s + after_s

    def send() -> None:
        options = SimulationOptions(
            cars=CARS,
            laps=max(2, int(total_s // 60) + 2),
            send_rate_hz=RATE_HZ,
            packet_format=PACKET_FORMAT,
        )
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            started = time.monotonic()
            first_s: float | None = None
            for session_time_s, payload in simulate(options):
                first_s = session_time_s if first_s is None else first_s
                due_s = session_time_s - first_s
                if due_s >= total_s:
                    return
                wait_s = due_s - (time.monotonic() - started)
                if wait_s > 0:
                    time.sleep(wait_s)
                sock.sendto(payload, ("127.0.0.1", udp_port))
                result.sent += 1
                key = packets.peek_format_and_id(payload)
                table = TABLES.get(key[1]) if key else None
                if table is not None:
                    start = OVERALL_FRAME_OFFSET
                    frames[table].add(
                        int.from_bytes(payload[start : start + 4], "little")
                    )

    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(
            line.split()[1].endswith(f":{udp_port:04X}")
            for line in Path("/proc/net/udp").read_text().splitlines()[1:]
        ):
            time.sleep(0.05)
        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        time.sleep(before_s)
        server.kill()
        time.sleep(outage_s)
        server.start()  # same port, same database file
        back_at = time.monotonic()
        back_unix_s = time.time()
        store = open_store(server.store_settings(), read_only=True)
        try:
            queries = DashboardQueries(store)
            # Watch the statistics ingest writes (about once a second) from the
            # server's return: the spool's size, then when it is empty again.
            deadline = time.monotonic() + BACKFILL_TIMEOUT_S
            while time.monotonic() < deadline:
                health = queries.pipeline_health()
                result.spooled_peak_rows = max(
                    result.spooled_peak_rows, health.spooled_rows
                )
                # Rows from before the return (also the spooled statistics) say
                # nothing about the backfill: wait for one about newer data.
                fresh = (health.last_packet_unix_s or 0.0) > back_unix_s
                if result.backfill_s is None and fresh and health.spooled_rows == 0:
                    result.backfill_s = time.monotonic() - back_at
                done = health.packets_total >= result.sent and not sender.is_alive()
                if done and health.spooled_rows == 0:
                    break
                time.sleep(0.25)
            sender.join()
            ingest.send_signal(signal.SIGTERM)
            ingest.wait(timeout=120)
            result.packets_total = queries.pipeline_health().packets_total
            rows = store.fetch("SELECT MAX(spooled_rows) FROM ingest_stats")
            result.spooled_peak_rows = max(
                result.spooled_peak_rows, int(rows[0][0] or 0)
            )
            for table in TABLES.values():
                result.stored[table] = {
                    (int(frame), int(car)): int(count)
                    for frame, car, count in store.fetch(
                        f"SELECT overall_frame, car_index, COUNT(*) FROM {table} "
                        "GROUP BY overall_frame, car_index"
                    )
                }
            result.sessions = store.fetch("SELECT COUNT(*) FROM sessions")[0][0]
        finally:
            store.close()
    finally:
        if ingest.poll() is None:
            ingest.kill()
            ingest.wait()
        server.stop()
    result.expected_frames = frames
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Run the outage and print the figures; exit 1 if a row was lost or doubled."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outage-s", type=float, default=10.0)
    parser.add_argument("--before-s", type=float, default=8.0)
    parser.add_argument("--after-s", type=float, default=10.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="f1dash-outage-") as folder:
        result = run(
            Path(folder),
            before_s=args.before_s,
            outage_s=args.outage_s,
            after_s=args.after_s,
        )
    print(
        f"HeavyDB test server killed for {args.outage_s:.0f} s after "
        f"{args.before_s:.0f} s of a {CARS}-car {RATE_HZ} Hz stream into "
        f"`f1dash-tui ingest`; {args.after_s:.0f} s more after it came back"
    )
    print(f"datagrams sent / counted by ingest: {result.sent} / {result.packets_total}")
    print(f"most rows spooled: {result.spooled_peak_rows}")
    backfill = "never" if result.backfill_s is None else f"{result.backfill_s:.1f} s"
    print(f"spool empty after the server's return: {backfill}")
    print(
        "table           expected    stored   missing  duplicated  (rows by frame, car)"
    )
    lost = 0
    for table in TABLES.values():
        expected = len(result.expected_frames[table]) * CARS
        stored = sum(result.stored[table].values())
        missing, duplicated = result.missing(table), result.duplicated(table)
        lost += missing + duplicated
        print(f"{table:<14} {expected:>9} {stored:>9} {missing:>9} {duplicated:>11}")
    print(f"sessions: {result.sessions} (goal 1)")
    print(f"rows lost or doubled: {lost} (goal 0)")
    return 1 if lost or result.sessions != 1 else 0


if __name__ == "__main__":
    sys.exit(main())
