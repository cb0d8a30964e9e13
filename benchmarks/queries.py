"""How fast are the dashboard's polls on a long race, and do they grow with it?

Builds an SQLite store holding a synthetic 22-car race sent at 60 Hz (one hour is
216,000 frames x 22 cars = about 4.75 M rows in each per-car table), written with
numpy straight into ``write_batch``, then times every ``DashboardQueries`` method
through a read-only connection, as a viewer process polls, at 5 minutes and at 60
minutes of data. Goals: p95 under 20 ms, and p95(60 min) / p95(5 min) <= 1.5.

"car_samples (whole lap)" and "reference_lap" fetch a whole 80 s lap (4,800
telemetry samples with positions at 60 Hz), which the store serves at a bounded
resolution (every 3rd frame, at most ``queries.WHOLE_LAP_MAX_SAMPLES``): the dashboard
does that once per lap, car or reference change; its 0.5 s polls are the incremental
queries.

    python benchmarks/queries.py [--minutes 60] [--path /tmp/bench.sqlite3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from f1dash_tui.store.base import TableColumns
from f1dash_tui.store.queries import DashboardQueries
from f1dash_tui.store.schema import EVENT_SEQ, TABLES
from f1dash_tui.store.sqlite import SQLiteStore

CARS = 22
RATE_HZ = 60
CHUNK_S = 10
"""Rows of 10 s go into one write_batch (ingest batches every 0.1 s; bigger chunks
only make building the hour faster, the stored rows are the same)."""
SESSION_UID = 0x5EED_F1_2026
TRACK_ID = 0  # Melbourne
TRACK_LENGTH_M = 5278.0
FORMAT = 2025
REPEATS = 200


def _blank(table: str, rows: int) -> dict[str, np.ndarray]:
    """Every stored column of ``table`` with neutral values."""
    columns: dict[str, np.ndarray] = {}
    for column in TABLES[table].columns:
        if column is EVENT_SEQ:  # the store numbers events
            continue
        if column.type == "text":
            columns[column.input_name] = np.full(rows, "", dtype=object)
        else:
            columns[column.input_name] = np.zeros(rows, dtype=column.numpy_dtype)
    return columns


class SyntheticRace:
    """Cars lapping at slightly different constant paces around a circle."""

    def __init__(self) -> None:
        rng = np.random.default_rng(2026)
        self.lap_time_s = 80.0 + np.arange(CARS) * 0.12 + rng.uniform(0, 0.05, CARS)
        self.frame = 0
        self.event_frame_step = RATE_HZ * 7  # an event every 7 s
        self.laps_done = np.zeros(CARS, dtype=int)

    def chunk(self, seconds: float) -> dict[str, TableColumns]:
        """The next ``seconds`` of the race as store tables."""
        frames = np.arange(self.frame, self.frame + int(seconds * RATE_HZ))
        self.frame = int(frames[-1]) + 1
        frame = np.repeat(frames, CARS)
        car = np.tile(np.arange(CARS), len(frames))
        time_s = frame / RATE_HZ
        distance = time_s * TRACK_LENGTH_M / self.lap_time_s[car]
        lap = (distance // TRACK_LENGTH_M).astype("i2") + 1
        lap_distance = distance % TRACK_LENGTH_M
        angle = lap_distance / TRACK_LENGTH_M * 2 * np.pi
        radius = TRACK_LENGTH_M / (2 * np.pi)
        # Position = rank of total distance within each frame.
        order = np.argsort(-distance.reshape(len(frames), CARS), axis=1)
        position = np.empty((len(frames), CARS), dtype="i2")
        np.put_along_axis(position, order, np.arange(1, CARS + 1), axis=1)

        def header(table: str, rows: int) -> dict[str, np.ndarray]:
            columns = _blank(table, rows)
            columns["packet_format"][:] = FORMAT
            columns["session_uid"][:] = SESSION_UID
            return columns

        def per_car(table: str, step: int = 1) -> dict[str, np.ndarray]:
            pick = (frame % step) == 0
            columns = header(table, int(pick.sum()))
            columns["session_time_s"][:] = time_s[pick]
            columns["frame"][:] = frame[pick]
            columns["overall_frame"][:] = frame[pick]
            columns["car_index"][:] = car[pick]
            return columns

        lap_data = per_car("lap_data")
        lap_data["car_position"][:] = position.ravel()
        lap_data["current_lap_num"][:] = lap
        lap_data["lap_distance_m"][:] = lap_distance
        lap_data["total_distance_m"][:] = distance
        lap_data["current_lap_time_s"][:] = (
            lap_distance / TRACK_LENGTH_M * (self.lap_time_s[car])
        )
        lap_data["last_lap_time_s"][:] = np.where(lap > 1, self.lap_time_s[car], 0)
        lap_data["result_status"][:] = 2
        lap_data["delta_to_race_leader_s"][:] = np.nan
        lap_data["delta_to_car_in_front_s"][:] = np.nan

        telemetry = per_car("car_telemetry")
        speed = 200 + 100 * np.sin(angle * 7)
        telemetry["speed_kph"][:] = speed
        telemetry["throttle"][:] = (speed > 200).astype("f4")
        telemetry["brake"][:] = (speed < 150).astype("f4")
        telemetry["gear"][:] = np.clip(speed // 40, 1, 8)
        telemetry["engine_rpm"][:] = 9000 + speed * 10
        telemetry["lap_number"][:] = lap
        telemetry["lap_distance_m"][:] = lap_distance
        telemetry["world_position_x_m"][:] = radius * np.cos(angle)
        telemetry["world_position_z_m"][:] = radius * np.sin(angle)

        # Ingest keeps motion, car status and damage at most 10 packets per second.
        motion = per_car("motion", step=RATE_HZ // 10)

        status_step = RATE_HZ // 10
        status = per_car("car_status", step=status_step)
        status_rows = (frame % status_step) == 0
        status["visual_tyre_compound"][:] = 16
        status["tyres_age_laps"][:] = lap[status_rows] - 1
        status["fuel_in_tank_kg"][:] = 100 - time_s[status_rows] / 36
        status["max_rpm"][:] = 13_000

        # The game sends Car Damage 10 times a second whatever the send rate.
        damage = per_car("car_damage", step=RATE_HZ // 10)
        damage["tyres_wear_pct_rl"][:] = damage["session_time_s"] / 100

        tables: dict[str, TableColumns] = {
            "lap_data": lap_data,
            "car_telemetry": telemetry,
            "motion": motion,
            "car_status": status,
            "car_damage": damage,
        }
        first = int(frames[0])
        if first == 0:
            tables["sessions"] = {
                **_blank("sessions", 1),
                "session_uid": np.array([SESSION_UID]),
                "started_unix_s": np.array([time.time()]),
                "source": np.array(["benchmark"], dtype=object),
                "is_synthetic": np.array([1]),
                "packet_format": np.array([FORMAT]),
                "track_id": np.array([TRACK_ID]),
                "session_type": np.array([15]),
            }
        # Participants every 5 s, Session every 2 s (the game's rates).
        starts = frames[frames % (5 * RATE_HZ) == 0]
        if len(starts):
            people = header("participants", len(starts) * CARS)
            people["frame"][:] = np.repeat(starts, CARS)
            people["overall_frame"][:] = np.repeat(starts, CARS)
            people["car_index"][:] = np.tile(np.arange(CARS), len(starts))
            people["name"][:] = [f"DRIVER {c:02d}" for c in people["car_index"]]
            people["num_active_cars"][:] = CARS
            people["race_number"][:] = people["car_index"] + 1
            tables["participants"] = people
        ticks = frames[frames % (2 * RATE_HZ) == 0]
        if len(ticks):
            session = header("session", len(ticks))
            session["frame"][:] = ticks
            session["overall_frame"][:] = ticks
            session["track_length_m"][:] = int(TRACK_LENGTH_M)
            session["track_id"][:] = TRACK_ID
            session["session_type"][:] = 15
            session["total_laps"][:] = 45
            tables["session"] = session
        events = frames[frames % self.event_frame_step == 0]
        if len(events):
            event = header("event", len(events))
            event["frame"][:] = events
            event["overall_frame"][:] = events
            event["event_code"][:] = "OVTK"
            event["vehicle_index"][:] = events % CARS
            event["other_vehicle_index"][:] = (events + 1) % CARS
            tables["event"] = event
        tables["laps"] = self._completed_laps(lap.reshape(len(frames), CARS), frames)
        tables["ingest_stats"] = {
            **_blank("ingest_stats", 1),
            "unix_s": np.array([time.time()]),
            "last_packet_unix_s": np.array([time.time()]),
            "session_uid": np.array([SESSION_UID]),
            "packets_total": np.array([self.frame * 6]),
            "packets_per_s": np.array([RATE_HZ * 6.0]),
            "bad_by_reason": np.array([json.dumps({"2025/3/wrong size": 1})], object),
        }
        return tables

    def _completed_laps(self, laps: np.ndarray, frames: np.ndarray) -> TableColumns:
        done = laps[-1] - 1
        cars = [c for c in range(CARS) for _ in range(self.laps_done[c], done[c])]
        numbers = [
            n + 1 for c in range(CARS) for n in range(self.laps_done[c], done[c])
        ]
        self.laps_done = done.copy()
        columns = _blank("laps", len(cars))
        columns["session_uid"][:] = SESSION_UID
        columns["car_index"][:] = cars
        columns["lap_number"][:] = numbers
        columns["lap_time_s"][:] = self.lap_time_s[cars] if cars else []
        columns["is_valid"][:] = 1
        columns["track_id"][:] = TRACK_ID
        columns["session_type"][:] = 15
        columns["driver_name"][:] = [f"DRIVER {c:02d}" for c in cars]
        columns["completed_frame"][:] = int(frames[-1])
        return columns


def _percentiles(samples_ms: list[float]) -> tuple[float, float]:
    ordered = sorted(samples_ms)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


Timings = dict[str, tuple[float, float, float]]


def dashboard_calls(queries: DashboardQueries) -> dict[str, Callable[[], object]]:
    """Every dashboard query as the live dashboard makes it, on the latest session."""
    info = queries.latest_session()
    assert info is not None
    uid, frame = info.session_uid, info.latest_frame
    tower = queries.timing_tower(uid)
    assert tower is not None and len(tower.rows) == CARS
    lap = tower.rows[0].lap_number
    best = queries.best_laps(TRACK_ID)
    assert best, "no completed laps"
    (last_event,) = queries.store.fetch(
        "SELECT MAX(event_seq) FROM event WHERE session_uid = ?", (uid,)
    )[0]
    # A poll every 0.5 s at 60 Hz holds all but the last 30 frames.
    return {
        "latest_session": queries.latest_session,
        "timing_tower": lambda: queries.timing_tower(uid),
        "car_samples (incremental)": lambda: queries.car_samples(
            uid, 0, lap, after_frame=frame - 30
        ),
        "car_samples (whole lap)": lambda: queries.car_samples(uid, 0, lap - 1),
        "car_state": lambda: queries.car_state(uid, 0),
        "positions": lambda: queries.positions(uid),
        "best_laps": lambda: queries.best_laps(TRACK_ID),
        "reference_lap": lambda: queries.reference_lap(best[0].key),
        "events (incremental)": lambda: queries.events(uid, int(last_event) - 2),
        "pipeline_health": queries.pipeline_health,
    }


def time_queries(early_path: Path, late_path: Path) -> tuple[Timings, Timings]:
    """Wall-clock p50 and p95 and CPU-time p95 (ms) of every dashboard query on
    both stores, through read-only connections as a viewer has.

    Calls on the two stores alternate, so load from other processes falls on both
    alike; CPU time shows a query's own cost when other processes share the cores
    (wall-clock p95 then includes waiting for a core)."""
    readers = [SQLiteStore(path, read_only=True) for path in (early_path, late_path)]
    try:
        calls = [dashboard_calls(DashboardQueries(reader)) for reader in readers]
        results: tuple[Timings, Timings] = ({}, {})
        for name in calls[0]:
            wall_ms: list[list[float]] = [[], []]
            cpu_ms: list[list[float]] = [[], []]
            for side in (0, 1):
                calls[side][name]()  # warm the page cache, as a live viewer has it
            for _ in range(REPEATS):
                for side in (0, 1):
                    start, start_cpu = time.perf_counter(), time.thread_time()
                    calls[side][name]()
                    wall_ms[side].append((time.perf_counter() - start) * 1000)
                    cpu_ms[side].append((time.thread_time() - start_cpu) * 1000)
            for side in (0, 1):
                p50, p95 = _percentiles(wall_ms[side])
                results[side][name] = (p50, p95, _percentiles(cpu_ms[side])[1])
        return results
    finally:
        for reader in readers:
            reader.close()


def race_seconds(path: Path) -> float:
    """How much of the race a store holds (0 if it does not exist)."""
    if not path.exists():
        return 0.0
    store = SQLiteStore(path, read_only=True)
    try:
        (frame,) = store.fetch("SELECT MAX(overall_frame) FROM lap_data")[0]
    finally:
        store.close()
    return 0.0 if frame is None else (int(frame) + 1) / RATE_HZ


def build(race: SyntheticRace, store: SQLiteStore, until_s: float) -> None:
    """Append race chunks until the race reaches ``until_s`` seconds."""
    started = time.perf_counter()
    rows = 0
    while race.frame < until_s * RATE_HZ:
        rows += store.write_batch(race.chunk(CHUNK_S))
    elapsed = time.perf_counter() - started
    print(
        f"  wrote up to {race.frame / RATE_HZ / 60:.0f} min: {rows:,} rows in "
        f"{elapsed:.0f} s ({rows / max(elapsed, 1e-9):,.0f} rows/s)",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--early-minutes", type=float, default=5.0)
    parser.add_argument(
        "--path",
        type=Path,
        default=None,
        help="the long store; kept, and reused when it already holds the whole race",
    )
    parser.add_argument(
        "--skip-heavydb-load",
        action="store_true",
        help="leave out the HeavyDB columnar-vs-INSERT load figures",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        # The race is deterministic, so the early store is the first minutes of the
        # long one; building them apart lets a rerun reuse the hour-long store.
        early_path = Path(scratch) / "early.sqlite3"
        print(f"early store: {early_path}")
        with SQLiteStore(early_path) as writer:
            build(SyntheticRace(), writer, args.early_minutes * 60)
        path = args.path or Path(scratch) / "bench.sqlite3"
        print(f"long store: {path}")
        if race_seconds(path) < args.minutes * 60 - 1:
            for stale in path.parent.glob(path.name + "*"):
                stale.unlink()
            with SQLiteStore(path) as writer:
                build(SyntheticRace(), writer, args.minutes * 60)
        else:
            print("  reusing it: it holds the whole race")
        early, late = time_queries(early_path, path)
        per_car = writer_rows(path, "car_telemetry")
        print(f"car_telemetry rows at the end: {per_car:,}")
        early_label = f"{args.early_minutes:g} min"
        late_label = f"{args.minutes:g} min"
        print(
            f"{'query':26} {early_label + ' p50/p95':>17} {late_label + ' p50/p95':>17}"
            f" {'ratio':>6} {'cpu p95 ' + early_label:>14} {late_label:>7} {'ratio':>6}"
        )
        worst_p95, worst_ratio, worst_cpu_ratio = 0.0, 0.0, 0.0
        for name, (p50_early, p95_early, cpu_early) in early.items():
            p50_late, p95_late, cpu_late = late[name]
            ratio = p95_late / p95_early if p95_early else float("inf")
            cpu_ratio = cpu_late / cpu_early if cpu_early else float("inf")
            worst_p95 = max(worst_p95, p95_late)
            worst_ratio = max(worst_ratio, ratio)
            worst_cpu_ratio = max(worst_cpu_ratio, cpu_ratio)
            print(
                f"{name:26} {p50_early:8.2f}/{p95_early:8.2f} "
                f"{p50_late:8.2f}/{p95_late:8.2f} {ratio:6.2f} "
                f"{cpu_early:14.2f} {cpu_late:7.2f} {cpu_ratio:6.2f}"
            )
        print(
            f"worst p95 {worst_p95:.2f} ms (goal < 20), worst p95 ratio "
            f"{worst_ratio:.2f} (goal <= 1.5), worst CPU-time ratio "
            f"{worst_cpu_ratio:.2f}; load average {os.getloadavg()[0]:.1f} "
            f"on {os.cpu_count()} cores"
        )
    if not args.skip_heavydb_load:
        # The HeavyDB half lives beside this file (benchmarks/heavydb_load.py).
        import heavydb_load

        heavydb_load.main([])
    return 0


def writer_rows(path: Path, table: str) -> int:
    """Row count of one table (MAX(rowid) is O(1) on an append-only table)."""
    store = SQLiteStore(path, read_only=True)
    try:
        return int(store.fetch(f"SELECT MAX(rowid) FROM {table}")[0][0] or 0)
    finally:
        store.close()


if __name__ == "__main__":
    sys.exit(main())
