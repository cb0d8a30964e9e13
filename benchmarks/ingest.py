"""Ingest speed: a simulated race replayed into SQLite flat out, and the CPU share of a
live UDP ingest at the game's pace.

    python benchmarks/ingest.py [--laps 44] [--minutes M] [--cars 22] [--rate 60]
                                [--format 2026] [--live-seconds 20] [--batch-s 0.1]
                                [--skip-replay] [--skip-live] [--skip-stages]

1. Replay: the simulator's race (default about one hour at Melbourne: 44 laps of
   ~81 s, 22 cars, 60 Hz) is written to a pcap file, then ``replay_to_store`` ingests
   it into a fresh SQLite store as fast as possible. Prints datagrams/s, rows/s and
   the real-time factor (race seconds per wall second, and per CPU second of this
   process, which is what a loaded machine does not distort). Goal: at least 100x.
   ``--minutes 5`` replays only the race's first 5 minutes (for quick iteration).
2. Live: ``f1dash-tui ingest``'s ``run_listener`` runs in a subprocess on a loopback
   port; this process sends ``--live-seconds`` of the race to it at the recorded pace
   (60 Hz) and psutil reads the subprocess's CPU time over that window. Prints the
   CPU share of one core. Goal: under 5%.
3. Stages: the same first ``--live-seconds``, cut into ``--batch-s`` batches, through
   decode, the session logic and ``SQLiteStore.write_batch`` in one thread (no
   socket, no queues), timed per stage; then each stored table's rows written in
   20,000-row batches, timed per row. Prints where a live core's time goes, and
   the real-time factor the SQLite writes alone allow a flat-out replay (rows per
   race second x CPU time per row), which bounds what step 1 can reach.
"""

from __future__ import annotations

import argparse
import itertools
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

from f1dash_tui.ingest.service import replay_to_store
from f1dash_tui.ingest.session import SessionTracker
from f1dash_tui.settings import IngestSettings, StoreSettings
from f1dash_tui.store import open_store
from f1dash_tui.store.schema import TABLES as STORE_TABLES
from f1dash_tui.telemetry.decode import Decoder
from f1dash_tui.telemetry.pcap import PcapWriter
from f1dash_tui.telemetry.replay import send_udp
from f1dash_tui.telemetry.simulator import SimulationOptions, simulate

LISTENER_SCRIPT = """
import sys, threading, signal
from pathlib import Path
from f1dash_tui.ingest.service import run_listener
from f1dash_tui.settings import IngestSettings, Settings, StoreSettings
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
run_listener(
    Settings(
        store=StoreSettings(sqlite_path=Path(sys.argv[1])),
        ingest=IngestSettings(
            listen_host="127.0.0.1", listen_port=int(sys.argv[2]),
            spool_dir=Path(sys.argv[3]), batch_max_s=float(sys.argv[4]),
        ),
    ),
    stop_event=stop,
)
"""


def _options(args: argparse.Namespace, laps: int) -> SimulationOptions:
    return SimulationOptions(
        cars=args.cars,
        laps=laps,
        send_rate_hz=args.rate,
        packet_format=args.packet_format,
    )


def replay_benchmark(args: argparse.Namespace, workdir: Path) -> None:
    """Simulated race -> pcap -> SQLite as fast as possible."""
    pcap_path = workdir / "race.pcap"
    started = time.perf_counter()
    datagrams = 0
    race_s = 0.0
    with PcapWriter(pcap_path) as writer:
        for race_s, datagram in simulate(_options(args, args.laps)):
            if args.minutes is not None and race_s > args.minutes * 60:
                break
            writer.write(1_800_000_000.0 + race_s, datagram)
            datagrams += 1
    print(
        f"race: {args.cars} cars, {args.laps} laps, {args.rate} Hz, format "
        f"{args.packet_format}: {race_s:,.0f} s of session time, {datagrams:,} "
        f"datagrams, {pcap_path.stat().st_size / 1e6:,.0f} MB pcap "
        f"(simulated in {time.perf_counter() - started:,.0f} s)"
    )
    store = open_store(StoreSettings(sqlite_path=workdir / "replay.sqlite3"))
    wall_start, cpu_start = time.perf_counter(), time.process_time()
    stats = replay_to_store(
        pcap_path,
        store,
        speed=None,
        settings=IngestSettings(spool_dir=workdir / "spool"),
    )
    wall_s = time.perf_counter() - wall_start
    cpu_s = time.process_time() - cpu_start
    store.close()
    print(
        f"replay into SQLite: {wall_s:,.1f} s wall, {cpu_s:,.1f} s CPU; "
        f"{stats.packets_total / wall_s:,.0f} datagrams/s, "
        f"{stats.rows_written / wall_s:,.0f} rows/s ({stats.rows_written:,} rows), "
        f"real-time factor {race_s / wall_s:,.1f}x (goal >= 100x), "
        f"{race_s / cpu_s:,.1f}x per CPU second ({stats.rows_written / cpu_s:,.0f} "
        f"rows per CPU second); load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores"
    )
    size_mb = (workdir / "replay.sqlite3").stat().st_size / 1e6
    print(f"store size {size_mb:,.0f} MB; laps {stats.laps_completed:,}")


def live_benchmark(args: argparse.Namespace, workdir: Path) -> None:
    """CPU share of a live ingest subprocess receiving 60 Hz over UDP."""
    timed = list(
        itertools.takewhile(
            lambda item: item[0] <= args.live_seconds + 1.0,
            simulate(_options(args, 2)),
        )
    )
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store_path = workdir / "live.sqlite3"
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            LISTENER_SCRIPT,
            str(store_path),
            str(port),
            str(workdir / "spool"),
            str(args.batch_s),
        ],
        env=dict(os.environ),
    )
    try:
        ready_by = time.monotonic() + 60
        while time.monotonic() < ready_by and not _has_stats(store_path):
            time.sleep(0.2)
        listener = psutil.Process(process.pid)
        before = listener.cpu_times()
        wall_start = time.perf_counter()
        sent = send_udp(timed, "127.0.0.1", port, speed=1.0)
        time.sleep(0.5)  # the last batch commits
        wall_s = time.perf_counter() - wall_start
        after = listener.cpu_times()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    cpu_s = (after.user - before.user) + (after.system - before.system)
    store = open_store(StoreSettings(sqlite_path=store_path), read_only=True)
    ((packets, lag_s),) = store.fetch(
        "SELECT packets_total, write_lag_s FROM ingest_stats "
        "ORDER BY unix_s DESC LIMIT 1"
    )
    store.close()
    print(
        f"live ingest at {args.rate} Hz, {args.cars} cars, batches <= "
        f"{args.batch_s * 1000:.0f} ms: {sent:,} datagrams in "
        f"{wall_s:.1f} s ({sent / wall_s:,.0f}/s), {packets:,} stored; CPU "
        f"{cpu_s:.2f} s = {100 * cpu_s / wall_s:.1f}% of one core (goal < 5%); "
        f"last write lag {1000 * (lag_s or 0):.0f} ms; load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )


def stage_benchmark(args: argparse.Namespace, workdir: Path) -> None:
    """Decode, session logic and SQLite writes of live-sized batches, per stage."""
    race = list(
        itertools.takewhile(
            lambda item: item[0] <= args.live_seconds,
            simulate(_options(args, 2)),
        )
    )
    batches: list[list[bytes]] = [[]]
    batch_start_s = race[0][0]
    for session_time_s, datagram in race:
        if session_time_s - batch_start_s >= args.batch_s and batches[-1]:
            batches.append([])
            batch_start_s = session_time_s
        batches[-1].append(datagram)
    store = open_store(StoreSettings(sqlite_path=workdir / "stages.sqlite3"))
    decoder = Decoder()
    tracker = SessionTracker(source="benchmark", is_synthetic=True)
    spent_s = {"decode": 0.0, "session logic": 0.0, "SQLite write": 0.0}
    written: dict[str, list[dict[str, np.ndarray]]] = {}
    clock = time.thread_time
    for datagrams in batches:
        started = clock()
        decoded = decoder.decode(datagrams)
        decoded_at = clock()
        processed = tracker.process(decoded.tables, np.full(len(datagrams), 0.0))
        tables = {kind: t for kind, t in processed.items() if kind in STORE_TABLES}
        processed_at = clock()
        store.write_batch(tables)
        spent_s["decode"] += decoded_at - started
        spent_s["session logic"] += processed_at - decoded_at
        spent_s["SQLite write"] += clock() - processed_at
        for kind, columns in tables.items():
            written.setdefault(kind, []).append(dict(columns))
    store.close()
    race_s = race[-1][0] - race[0][0]
    shares = ", ".join(
        f"{name} {1000 * cpu_s / len(batches):.2f} ms = {100 * cpu_s / race_s:.1f}%"
        for name, cpu_s in spent_s.items()
    )
    print(
        f"stages, {len(batches)} batches of <= {args.batch_s * 1000:.0f} ms over "
        f"{race_s:.0f} s of race, one thread, CPU per batch and share of one core: "
        f"{shares}; together {100 * sum(spent_s.values()) / race_s:.1f}%"
    )
    _write_cost_per_row(written, race_s, workdir)


def _write_cost_per_row(
    written: dict[str, list[dict[str, np.ndarray]]], race_s: float, workdir: Path
) -> None:
    """Each table's rows written alone in 20,000-row batches: CPU per row, and the
    real-time factor the writes alone allow."""
    store = open_store(StoreSettings(sqlite_path=workdir / "per-table.sqlite3"))
    costs = []
    total_cpu_per_race_s = 0.0
    for kind, parts in sorted(written.items()):
        columns = {
            name: np.concatenate([part[name] for part in parts]) for name in parts[0]
        }
        rows = len(columns["session_uid"])
        started = time.thread_time()
        for first in range(0, rows, 20_000):
            store.write_batch(
                {kind: {n: a[first : first + 20_000] for n, a in columns.items()}}
            )
        cpu_s = time.thread_time() - started
        total_cpu_per_race_s += cpu_s / race_s
        if rows >= race_s:  # the tables written at least once a second
            costs.append(
                f"{kind} {rows / race_s:,.0f} rows/s x {1e6 * cpu_s / rows:.1f} us"
            )
    store.close()
    print(
        "SQLite write CPU per row (20,000-row batches): "
        + ", ".join(costs)
        + f"; {1000 * total_cpu_per_race_s:.1f} ms per race second, so the writes "
        f"alone allow a flat-out replay {1 / total_cpu_per_race_s:,.0f}x real time"
    )


def _has_stats(store_path: Path) -> bool:
    if not store_path.exists():
        return False
    try:
        store = open_store(StoreSettings(sqlite_path=store_path), read_only=True)
    except Exception:  # noqa: BLE001 - not created yet; the caller polls again
        return False
    try:
        return bool(store.fetch("SELECT COUNT(*) FROM ingest_stats")[0][0])
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--laps", type=int, default=44)
    parser.add_argument(
        "--minutes",
        type=float,
        default=None,
        help="replay only the race's first MINUTES of session time",
    )
    parser.add_argument("--cars", type=int, default=22)
    parser.add_argument("--rate", type=int, default=60)
    parser.add_argument("--format", type=int, default=2026, dest="packet_format")
    parser.add_argument("--live-seconds", type=float, default=20.0)
    parser.add_argument(
        "--batch-s",
        type=float,
        default=IngestSettings().batch_max_s,
        help="the live ingest's batch_max_s (default: the configured default)",
    )
    parser.add_argument("--skip-replay", action="store_true")
    parser.add_argument("--skip-live", action="store_true")
    parser.add_argument("--skip-stages", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="f1dash-bench-") as tmp:
        workdir = Path(tmp)
        if not args.skip_live:
            live_benchmark(args, workdir)
        if not args.skip_stages:
            stage_benchmark(args, workdir)
        if not args.skip_replay:
            replay_benchmark(args, workdir)


if __name__ == "__main__":
    main()
