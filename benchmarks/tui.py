"""How heavy is the dashboard on a long race fed live, and how fresh is what it shows?

Simulates a 22-car race at 60 Hz (the project's simulator), ingests the first hour
through the real ingest pipeline into an SQLite store as fast as it can, then replays
the next ``--live`` seconds at real pace from a separate process (through the same
pipeline) while the app runs headless at 160x48 on its default poll intervals.

Prints, for the live phase:
- refresh time: applying one poll result and updating the widgets on the main thread
  (p50/p95; the goal is p95 < 30 ms);
- CPU share of the app's process, worker threads included (goal < 10% of one core);
- resident memory at the end (goal < 150 MB);
- write-to-screen latency, the issue's measure: for each batch ingest committed, the
  time until a tower frame at least that new was drawn (the refresh after the poll
  that fetched it; p50/p95/max; goal <= poll interval + 150 ms);
- receive-to-screen latency: ingest receiving the newest packet of a stats row ->
  the widgets showing it; adds ingest's batching (0.1 s) and the stats row's
  one-batch delay to the above, for comparison with earlier runs.

    python benchmarks/tui.py [--minutes 60] [--live 60] [--keep DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, cast

import numpy as np
import psutil

from f1dash_tui.ingest.service import ingest_datagrams
from f1dash_tui.settings import IngestSettings, Settings, StoreSettings
from f1dash_tui.store import Store, open_store
from f1dash_tui.telemetry.pcap import PcapWriter, read_pcap
from f1dash_tui.telemetry.simulator import SimulationOptions, simulate
from f1dash_tui.ui.app import create_app

LAP_S = 81.0
"""About one simulated Melbourne lap, to size the race."""
SIZE = (160, 48)
WARM_UP_S = 5.0
"""Seconds of the live phase left out of the CPU figure (first queries, first paint)."""


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def build_store(folder: Path, prefill_s: float, live_s: float) -> tuple[Path, Path]:
    """Ingest ``prefill_s`` of race into a store; keep the next ``live_s`` as a pcap."""
    store_path = folder / "prefill.sqlite3"
    live_pcap = folder / "live.pcap"
    if store_path.exists() and live_pcap.exists():
        print(f"prefill: reusing {store_path}")
        return store_path, live_pcap
    laps = math.ceil((prefill_s + live_s) / LAP_S) + 1
    stream = simulate(SimulationOptions(cars=22, laps=laps, send_rate_hz=60))
    writer = PcapWriter(live_pcap)
    with writer:

        def head() -> Iterator[tuple[float, bytes]]:
            for session_time_s, payload in stream:
                if session_time_s >= prefill_s:
                    writer.write(session_time_s, payload)
                    return
                yield session_time_s, payload

        store = open_store(StoreSettings(sqlite_path=store_path))
        started = time.perf_counter()
        try:
            stats = ingest_datagrams(
                head(),
                store,
                speed=None,
                source="simulator",
                settings=IngestSettings(spool_dir=folder / "spool"),
            )
        finally:
            store.close()
        print(
            f"prefill: {prefill_s / 60:.0f} min of race, {stats.packets_total:,} "
            f"packets, {stats.rows_written:,} rows in "
            f"{time.perf_counter() - started:.0f} s"
        )
        for session_time_s, payload in stream:
            if session_time_s > prefill_s + live_s:
                break
            writer.write(session_time_s, payload)
    return store_path, live_pcap


class CommitClock:
    """The feeder's store, noting when each batch holding Lap Data was committed
    and the newest lap-data frame in it (``write_batch`` returns after the commit).
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self.commits: list[tuple[float, int]] = []

    def write_batch(self, tables: Mapping[str, Mapping[str, np.ndarray]]) -> int:
        rows = self._store.write_batch(tables)
        frames = tables.get("lap_data", {}).get("frame")
        if frames is not None and len(frames):
            self.commits.append((time.time(), int(np.max(frames))))
        return rows

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def feed_live(store_path: str, live_pcap: str, spool_dir: str, commits: str) -> None:
    """In a child process: replay the live part at real pace through ingest."""
    store = open_store(StoreSettings(sqlite_path=Path(store_path)))
    clock = CommitClock(store)
    try:
        ingest_datagrams(
            ((d.timestamp_s, d.payload) for d in read_pcap(Path(live_pcap))),
            cast(Store, clock),
            speed=1.0,
            source="simulator",
            settings=IngestSettings(spool_dir=Path(spool_dir)),
        )
    finally:
        store.close()
        Path(commits).write_text(json.dumps(clock.commits))


def write_to_screen_ms(
    commits: list[tuple[float, int]], shown: list[tuple[float, int]]
) -> list[float]:
    """For each commit, the time until a tower frame at least as new was drawn."""
    shown = sorted(shown)
    latencies = []
    for committed_unix_s, frame in commits:
        first = next(
            (
                drawn_unix_s
                for drawn_unix_s, drawn_frame in shown
                if drawn_frame >= frame and drawn_unix_s >= committed_unix_s
            ),
            None,
        )
        if first is not None:
            latencies.append(1000 * (first - committed_unix_s))
    return latencies


async def run_app(store_path: Path, live_s: float) -> dict[str, Any]:
    """Run the app headless while the live feed runs; return the measurements."""
    app = create_app(
        Settings(store=StoreSettings(sqlite_path=store_path)),
        source_label="synthetic race",
    )
    process = psutil.Process()
    marks: dict[str, float] = {}

    def warm() -> None:
        marks["warm_unix_s"] = time.time()
        cpu = process.cpu_times()
        marks["cpu0"] = cpu.user + cpu.system
        marks["wall0"] = time.perf_counter()
        marks["refresh0"] = len(app.refresh_seconds)
        marks["latency0"] = len(app.packet_to_screen_s)

    def finish() -> None:
        cpu = process.cpu_times()
        marks["cpu1"] = cpu.user + cpu.system
        marks["wall1"] = time.perf_counter()
        marks["rss_mb"] = process.memory_info().rss / 1e6
        marks["end_unix_s"] = time.time()
        app.exit()

    def on_ready() -> None:
        app.set_timer(WARM_UP_S, warm)
        app.set_timer(live_s, finish)

    app.call_later(on_ready)
    await app.run_async(headless=True, size=SIZE)
    refresh_ms = [1000 * s for s in list(app.refresh_seconds)[int(marks["refresh0"]) :]]
    refresh_cpu_ms = [
        1000 * s for s in list(app.refresh_cpu_seconds)[int(marks["refresh0"]) :]
    ]
    latency_ms = [
        1000 * s for s in list(app.packet_to_screen_s)[int(marks["latency0"]) :]
    ]
    cpu_share = (marks["cpu1"] - marks["cpu0"]) / (marks["wall1"] - marks["wall0"])
    poll_ms = [1000 * s for s in list(app.pollers["live"].poll_seconds)[10:]]
    return {
        "warm_unix_s": marks["warm_unix_s"],
        "end_unix_s": marks["end_unix_s"],
        "shown": list(app.frames_on_screen),
        "poll_p50_ms": statistics.median(poll_ms),
        "poll_p95_ms": _percentile(poll_ms, 0.95),
        "refreshes": len(refresh_ms),
        "refresh_p50_ms": statistics.median(refresh_ms),
        "refresh_p95_ms": _percentile(refresh_ms, 0.95),
        "refresh_cpu_p50_ms": statistics.median(refresh_cpu_ms),
        "refresh_cpu_p95_ms": _percentile(refresh_cpu_ms, 0.95),
        "load_average": os.getloadavg()[0],
        "cpu_share_pct": 100 * cpu_share,
        "rss_mb": marks["rss_mb"],
        "latency_samples": len(latency_ms),
        "latency_p50_ms": statistics.median(latency_ms),
        "latency_p95_ms": _percentile(latency_ms, 0.95),
        "latency_max_ms": max(latency_ms),
        "poll_interval_ms": 1000 * app.settings.ui.live_poll_interval_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="race in store")
    parser.add_argument("--live", type=float, default=60.0, help="seconds fed live")
    parser.add_argument("--keep", type=Path, help="build the store here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="f1dash-tui-bench-") as temporary:
        folder = args.keep or Path(temporary)
        folder.mkdir(parents=True, exist_ok=True)
        # Build in a child process, so the app's resident memory is its own.
        context = multiprocessing.get_context("spawn")
        with context.Pool(1) as pool:
            prefill_path, live_pcap = pool.apply(
                build_store, (folder, args.minutes * 60, args.live)
            )
        # The live feed appends: run on a copy so --keep can reuse the prefill.
        store_path = folder / "race.sqlite3"
        for leftover in folder.glob("race.sqlite3*"):
            leftover.unlink()  # a stale -wal beside a fresh copy would corrupt it
        shutil.copy(prefill_path, store_path)
        commits_path = folder / "commits.json"
        feeder = context.Process(
            target=feed_live,
            args=(
                str(store_path),
                str(live_pcap),
                str(folder / "spool-live"),
                str(commits_path),
            ),
        )
        feeder.start()
        try:
            result = asyncio.run(run_app(store_path, args.live))
        finally:
            feeder.join(timeout=args.live + 30)
            if feeder.is_alive():
                feeder.terminate()
        # Commits during the measured part of the live phase (after warm-up, and
        # early enough that a poll could still show them before the app stopped).
        commits = [
            (at, frame)
            for at, frame in json.loads(commits_path.read_text())
            if result["warm_unix_s"] <= at <= result["end_unix_s"] - 2.0
        ]
        written_ms = write_to_screen_ms(commits, result["shown"])
    interval = result["poll_interval_ms"]
    print(f"app at {SIZE[0]}x{SIZE[1]}, poll {interval:.0f} ms, {args.live:.0f} s live")
    print(
        f"refresh   p50 {result['refresh_p50_ms']:.1f} ms  p95 "
        f"{result['refresh_p95_ms']:.1f} ms  ({result['refreshes']:.0f} refreshes; "
        "goal p95 < 30 ms)"
    )
    print(
        f"  (main-thread CPU time per refresh: p50 {result['refresh_cpu_p50_ms']:.1f}"
        f" ms  p95 {result['refresh_cpu_p95_ms']:.1f} ms; load average "
        f"{result['load_average']:.1f} on {os.cpu_count()} cores)"
    )
    print(f"cpu       {result['cpu_share_pct']:.1f}% of one core (goal < 10%)")
    print(f"memory    {result['rss_mb']:.0f} MB resident (goal < 150 MB)")
    print(
        f"write-to-screen  p50 {statistics.median(written_ms):.0f} ms  p95 "
        f"{_percentile(written_ms, 0.95):.0f} ms  max {max(written_ms):.0f} ms "
        f"({len(written_ms)} commits; goal <= {interval + 150:.0f} ms)"
    )
    print(
        f"  (live poll, launch to applied: p50 {result['poll_p50_ms']:.0f} ms  "
        f"p95 {result['poll_p95_ms']:.0f} ms)"
    )
    print(
        f"receive-to-screen p50 {result['latency_p50_ms']:.0f} ms  p95 "
        f"{result['latency_p95_ms']:.0f} ms  max {result['latency_max_ms']:.0f} ms "
        f"({result['latency_samples']:.0f} writes seen; "
        f"goal <= {interval + 150:.0f} ms)"
    )


if __name__ == "__main__":
    main()
