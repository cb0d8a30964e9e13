"""Many dashboards on one SQLite store while the real ingest writes a 60 Hz race.

The real ``f1dash-tui ingest`` process receives a simulated 22-car race over UDP at
the game's pace (60 Hz motion, lap data and telemetry, ~220 datagrams/s). Meanwhile N
viewer processes poll the store exactly as the dashboard's live poll does every 0.5 s
(latest_session, timing_tower, positions, car_state and incremental car_samples of
the car they follow, incremental events; best_laps and pipeline_health every 5 s),
each through its own read-only connection.

Prints: lock errors (goal 0) and any other error, poll time p50/p95/max (goal p95
under 50 ms), the ingest lag -- how long the oldest sent-but-not-yet-visible frame has
been waiting, sampled every 0.25 s (goal under 1 s) -- and the ingest's own
receive-to-commit lag and drop counts.

    python benchmarks/many_viewers.py [--viewers 20] [--duration-s 300]

``tests/test_many_viewers.py`` runs 5 viewers for 15 s.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.queues import Queue
from pathlib import Path

import numpy as np

from f1dash_tui.settings import StoreSettings
from f1dash_tui.store import open_store
from f1dash_tui.store.queries import DashboardQueries
from f1dash_tui.telemetry import packets
from f1dash_tui.telemetry.simulator import SimulationOptions, simulate

CARS = 22
RATE_HZ = 60
PACKET_FORMAT = 2025
LIVE_POLL_S = 0.5
"""UISettings.live_poll_interval_s default."""
SLOW_POLL_S = 5.0
"""UISettings.slow_poll_interval_s default."""
LAG_SAMPLE_S = 0.25
OVERALL_FRAME_OFFSET = 23
"""2023+ header: overallFrameIdentifier u32 at byte 23."""
START_TIMEOUT_S = 60.0


@dataclass
class ViewerResult:
    """One viewer process's polls."""

    viewer: int
    poll_ms: list[float] = field(default_factory=list)
    lock_errors: int = 0
    errors: list[str] = field(default_factory=list)
    first_frame: int | None = None
    last_frame: int | None = None
    samples: int = 0
    events: int = 0


def _is_lock_error(error: BaseException) -> bool:
    text = f"{error} {error.__cause__ or ''}".lower()
    return "locked" in text or "busy" in text


def viewer_main(
    path: str, viewer: int, duration_s: float, results: Queue[ViewerResult]
) -> None:
    """Poll the store as one dashboard does until ``duration_s`` has passed."""
    result = ViewerResult(viewer)
    car = viewer % CARS
    deadline = time.monotonic() + duration_s
    store = None
    try:
        while store is None and time.monotonic() < deadline:
            try:
                store = open_store(
                    StoreSettings(sqlite_path=Path(path)), read_only=True
                )
            except Exception as error:  # noqa: BLE001 -- the store may not exist yet
                if _is_lock_error(error):
                    result.lock_errors += 1
                time.sleep(LIVE_POLL_S)
        if store is None:
            result.errors.append("the store never opened")
            return
        queries = DashboardQueries(store)
        held: tuple[int, int] | None = None  # (uid, lap) of the samples held
        after_frame = after_overall = None
        last_event: int | None = None
        next_slow = 0.0
        next_poll = time.monotonic()
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                session = queries.latest_session()
                if session is not None:
                    uid = session.session_uid
                    tower = queries.timing_tower(uid)
                    queries.positions(uid)
                    row = None
                    if tower is not None:
                        if result.first_frame is None:
                            result.first_frame = tower.frame
                        result.last_frame = tower.frame
                        row = next((r for r in tower.rows if r.car_index == car), None)
                    if row is not None:
                        if held != (uid, row.lap_number):
                            held, after_frame, after_overall = (
                                (uid, row.lap_number),
                                None,
                                None,
                            )
                        queries.car_state(uid, car)
                        samples = queries.car_samples(
                            uid,
                            car,
                            row.lap_number,
                            after_frame=after_frame,
                            after_overall_frame=after_overall,
                        )
                        if len(samples.frame):
                            result.samples += len(samples.frame)
                            after_frame = samples.last_frame
                            after_overall = samples.last_overall_frame
                    events = queries.events(uid, after_event_id=last_event)
                    if events:
                        result.events += len(events)
                        last_event = events[-1].event_id
                    if time.monotonic() >= next_slow:
                        queries.best_laps(session.track_id)
                        queries.pipeline_health()
                        next_slow = time.monotonic() + SLOW_POLL_S
            except Exception as error:  # noqa: BLE001 -- counted and reported
                if _is_lock_error(error):
                    result.lock_errors += 1
                else:
                    result.errors.append(f"{type(error).__name__}: {error}")
                continue
            finally:
                result.poll_ms.append((time.perf_counter() - started) * 1000)
            next_poll += LIVE_POLL_S
            time.sleep(max(0.0, next_poll - time.monotonic()))
    finally:
        if store is not None:
            store.close()
        results.put(result)


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
    raise RuntimeError(f"ingest did not listen on UDP {port}")


class Sender(threading.Thread):
    """Sends the simulated race at its pace; remembers when each frame was sent."""

    def __init__(self, port: int, duration_s: float) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.duration_s = duration_s
        self.sent = 0
        self.frame_sent_unix_s: dict[int, float] = {}
        self.behind_s = 0.0
        """Most the sender fell behind the race's pace (a loaded machine)."""

    def run(self) -> None:
        laps = max(2, int(self.duration_s // 60) + 2)  # a lap takes ~80 s
        options = SimulationOptions(
            cars=CARS, laps=laps, send_rate_hz=RATE_HZ, packet_format=PACKET_FORMAT
        )
        telemetry = (PACKET_FORMAT, packets.PacketId.CAR_TELEMETRY)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            started = time.monotonic()
            first_s: float | None = None
            for session_time_s, payload in simulate(options):
                first_s = session_time_s if first_s is None else first_s
                due_s = session_time_s - first_s
                if due_s >= self.duration_s:
                    return
                wait_s = due_s - (time.monotonic() - started)
                if wait_s > 0:
                    time.sleep(wait_s)
                else:
                    self.behind_s = max(self.behind_s, -wait_s)
                sock.sendto(payload, ("127.0.0.1", self.port))
                self.sent += 1
                if packets.peek_format_and_id(payload) == telemetry:
                    frame = int.from_bytes(
                        payload[OVERALL_FRAME_OFFSET : OVERALL_FRAME_OFFSET + 4],
                        "little",
                    )
                    self.frame_sent_unix_s[frame] = time.time()


@dataclass
class ViewersRun:
    """Everything the run measured."""

    viewers: list[ViewerResult]
    lag_s: list[float]
    write_lag_s: list[float]
    sent: int
    packets_total: int
    bad_by_reason: dict[str, int]
    sender_behind_s: float
    duration_s: float

    @property
    def lock_errors(self) -> int:
        """Lock errors over all viewers."""
        return sum(v.lock_errors for v in self.viewers)

    @property
    def poll_ms(self) -> np.ndarray:
        """Every poll's duration, all viewers."""
        return np.array([ms for v in self.viewers for ms in v.poll_ms])


def _visible_frame(path: Path) -> int | None:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        row = connection.execute(
            "SELECT MAX(overall_frame) FROM car_telemetry"
        ).fetchone()
        return None if row[0] is None else int(row[0])
    except sqlite3.OperationalError:
        return None  # tables not created yet
    finally:
        connection.close()


def run(viewers: int, duration_s: float, folder: Path) -> ViewersRun:
    """Ingest for ``duration_s`` with ``viewers`` polling processes."""
    store_path = folder / "viewers.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith("F1DASH_")}
    env.update(
        XDG_CONFIG_HOME=str(folder / "config"),
        XDG_DATA_HOME=str(folder / "data"),
        XDG_STATE_HOME=str(folder / "state"),
    )
    port = free_udp_port()
    ingest = subprocess.Popen(
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
    # Fork the viewers before any thread starts (fork copies only the caller).
    context = multiprocessing.get_context("fork")
    results: Queue[ViewerResult] = context.Queue()
    processes = []
    try:
        wait_for_udp_listener(port, ingest)
        sender = Sender(port, duration_s)
        for viewer in range(viewers):
            process = context.Process(
                target=viewer_main,
                args=(str(store_path), viewer, duration_s + 1.0, results),
            )
            process.start()
            processes.append(process)
        sender.start()
        lag_s: list[float] = []
        write_lag_s: list[float] = []
        while sender.is_alive():
            time.sleep(LAG_SAMPLE_S)
            visible = _visible_frame(store_path)
            if visible is None:
                continue
            now = time.time()
            waiting = [
                sent_at
                for frame, sent_at in list(sender.frame_sent_unix_s.items())
                if frame > visible
            ]
            lag_s.append(now - min(waiting) if waiting else 0.0)
        sender.join()
        collected = [results.get(timeout=duration_s + 120) for _ in processes]
        for process in processes:
            process.join(timeout=30)
        time.sleep(0.5)  # the last batches reach the store
        ingest.send_signal(signal.SIGTERM)
        ingest.wait(timeout=60)
        store = open_store(StoreSettings(sqlite_path=store_path), read_only=True)
        try:
            health = DashboardQueries(store).pipeline_health()
            write_lag_s = [
                float(row[0])
                for row in store.fetch(
                    "SELECT write_lag_s FROM ingest_stats WHERE write_lag_s IS NOT NULL"
                )
            ]
        finally:
            store.close()
    finally:
        for process in processes:
            if process.is_alive():
                process.kill()
        if ingest.poll() is None:
            ingest.kill()
            ingest.wait()
    return ViewersRun(
        viewers=sorted(collected, key=lambda v: v.viewer),
        lag_s=lag_s,
        write_lag_s=write_lag_s,
        sent=sender.sent,
        packets_total=health.packets_total,
        bad_by_reason=dict(health.bad_by_reason),
        sender_behind_s=sender.behind_s,
        duration_s=duration_s,
    )


def _percentiles(values: Sequence[float] | np.ndarray) -> str:
    if len(values) == 0:
        return "no samples"
    array = np.asarray(values)
    return (
        f"p50 {np.percentile(array, 50):.1f}  p95 {np.percentile(array, 95):.1f}  "
        f"max {array.max():.1f}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run and print the figures; exit 1 on any lock error."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=20)
    parser.add_argument("--duration-s", type=float, default=300.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="f1dash-viewers-") as folder:
        result = run(args.viewers, args.duration_s, Path(folder))
    polls = result.poll_ms
    errors = [e for v in result.viewers for e in v.errors]
    print(
        f"{args.viewers} viewer processes polling every {LIVE_POLL_S} s for "
        f"{args.duration_s:.0f} s while `f1dash-tui ingest` received {CARS} cars at "
        f"{RATE_HZ} Hz over UDP"
    )
    print(f"lock errors:             {result.lock_errors} (goal 0)")
    print(f"other errors:            {len(errors)}")
    for error in sorted(set(errors))[:5]:
        print(f"  {error}")
    print(f"polls:                   {len(polls)}")
    print(f"poll time ms:            {_percentiles(polls)} (goal p95 < 50)")
    lag_ms = [lag * 1000 for lag in result.lag_s]
    print(f"ingest lag ms (visible): {_percentiles(lag_ms)} (goal < 1000)")
    write_ms = [lag * 1000 for lag in result.write_lag_s]
    print(f"ingest write lag ms:     {_percentiles(write_ms)}")
    print(
        f"datagrams sent / ingested: {result.sent} / {result.packets_total}  "
        f"bad: {result.bad_by_reason or 0}"
    )
    print(f"sender fell behind pace by at most {result.sender_behind_s * 1000:.0f} ms")
    advanced = sum(
        1
        for v in result.viewers
        if v.first_frame is not None
        and v.last_frame is not None
        and v.last_frame > v.first_frame
    )
    print(f"viewers that saw the race move on: {advanced} / {len(result.viewers)}")
    return 1 if result.lock_errors or errors else 0


if __name__ == "__main__":
    sys.exit(main())
