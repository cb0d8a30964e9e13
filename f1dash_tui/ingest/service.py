"""Ingest entry points the CLI, the demo, the simulator and the benchmarks call.

- ``run_listener``: live UDP -> store, until stopped.
- ``record_udp``: live UDP -> pcap file.
- ``replay_to_udp``: pcap -> UDP, at the recorded pace, N times it, or flat out.
- ``replay_to_store``: pcap -> store, same pacing, no socket in between.
- ``ingest_datagrams``: any ``(time_s, payload)`` stream -> store (simulator, bench).

Errors a user can cause come out as the typed one-line errors of ``f1dash_tui.errors``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO, TypeVar

import numpy as np

from f1dash_tui.errors import StoreUnavailableError
from f1dash_tui.ingest.pipeline import (
    QUEUE_FULL_REASON,
    SENDER_REFUSED_REASON,
    IngestPipeline,
    IngestStats,
    feed,
)
from f1dash_tui.settings import HeavyDBSettings, IngestSettings, Settings
from f1dash_tui.store import open_store
from f1dash_tui.store.base import Store
from f1dash_tui.telemetry.listener import ReceivedDatagram, UdpListener
from f1dash_tui.telemetry.pcap import CaptureStats, PcapWriter, read_pcap
from f1dash_tui.telemetry.replay import paced, send_udp, shorten_pauses

log = logging.getLogger(__name__)

SENDER_REJECTED_REASON = SENDER_REFUSED_REASON
"""The earlier name of the allow-list reason (kept for callers)."""

Item = TypeVar("Item")

STATUS_INTERVAL_S = 0.5
"""How often the one-line status is redrawn on a terminal."""

REPLAY_CHUNK = 256
"""Datagrams per queue item when replaying as fast as possible (one queue operation
per chunk instead of per datagram)."""


def run_listener(
    settings: Settings,
    *,
    status_stream: TextIO | None = None,
    stop_event: threading.Event | None = None,
    on_listening: Callable[[], None] | None = None,
    on_store_change: Callable[[str], None] | None = None,
) -> IngestStats | None:
    """Receive the game's UDP telemetry and write it to the configured store.

    Runs until ``stop_event`` is set (or Ctrl-C); returns the final counters (None
    if ingest never started). ``on_listening`` is called once the port is bound.
    With ``status_stream`` (the CLI passes stderr when it is a terminal) a one-line
    status is redrawn there. ``on_store_change`` gets the store's error when writes
    start failing (data is spooled meanwhile) and "" when they succeed again: once
    per change, never per failed retry. Raises ListenError (port busy) or
    StoreError (store cannot be opened).
    """
    stats: IngestStats | None = None
    stop = stop_event or threading.Event()
    ingest = settings.ingest
    received: queue.Queue[Any] = queue.Queue(ingest.queue_max_datagrams)
    listener = UdpListener(
        ingest.listen_host,
        ingest.listen_port,
        received,
        allowed_senders=ingest.allowed_senders,
    )
    # Bind before the store opens: a busy port must not leave a new, empty store.
    listener.bind()
    try:
        store, reopen = _open_or_defer(settings)
    except BaseException:
        listener.stop()
        raise
    pipeline: IngestPipeline | None = None
    try:
        pipeline = IngestPipeline(
            store,
            ingest,
            source="udp",
            reopen_store=reopen,
            extra_drop_counts=lambda: _listener_drops(listener),
            datagram_queue=received,
        )
        listener.start()
        if on_listening is not None:
            on_listening()
        pipeline.start()
        _wait_with_status(stop, pipeline, status_stream, on_store_change)
    except KeyboardInterrupt:
        log.info("ingest interrupted")
    finally:
        listener.stop()
        try:
            if pipeline is not None and pipeline.running:
                # Ctrl-C or the stop event: never wait on a failing store.
                stats = pipeline.stop(drain_s=0.0)
                log.info("ingest stopped: %s", stats.status_line())
                if status_stream is not None:
                    # Clear to the end of the line: the last redraw may be longer.
                    status_stream.write("\r" + stats.status_line() + "\x1b[K\n")
                    if stats.spooled_rows:
                        status_stream.write(
                            f"{stats.spooled_rows:,} rows are kept in the spool "
                            f"{pipeline.spool_path} for backfill by the next ingest\n"
                        )
                    status_stream.flush()
        finally:
            pipeline_store = pipeline.store if pipeline is not None else store
            pipeline_store.close()
    return stats


def _with_status(
    items: Iterator[Item], pipeline: IngestPipeline, status_stream: TextIO
) -> Iterator[Item]:
    """``items`` unchanged, redrawing the pipeline's status line every
    ``STATUS_INTERVAL_S`` while they are taken; the line is cleared at the end so
    the caller's summary takes its place."""
    next_redraw_s = time.monotonic() + STATUS_INTERVAL_S
    try:
        for count, item in enumerate(items):
            # The clock is read every 256 items: ~1 us each would cost 1% at full
            # speed (~100k datagrams/s).
            if count % 256 == 0 and time.monotonic() >= next_redraw_s:
                status_stream.write("\r" + pipeline.stats().status_line() + "\x1b[K")
                status_stream.flush()
                next_redraw_s = time.monotonic() + STATUS_INTERVAL_S
            yield item
    finally:
        status_stream.write("\r\x1b[K")
        status_stream.flush()


class _UnreachableStore:
    """Stands in for a HeavyDB server that was unreachable when ingest started, so
    received data is spooled from the first datagram until the server answers."""

    backend = "heavydb"
    read_only = False

    def __init__(self, error: StoreUnavailableError, settings: HeavyDBSettings) -> None:
        self._error = error
        self.settings = settings
        """Names the spool's target, as the real store's settings do."""

    @property
    def schema_version(self) -> int:
        raise self._error

    def write_batch(self, tables: Mapping[str, Mapping[str, np.ndarray]]) -> int:
        raise self._error

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise self._error

    def close(self) -> None:
        """Nothing is open."""


def _open_or_defer(
    settings: Settings,
) -> tuple[Store, Callable[[], Store] | None]:
    """Open the store; a HeavyDB server that cannot be reached yet is retried by
    the pipeline (with back-off) while ingest spools."""
    try:
        return open_store(settings.store), None
    except StoreUnavailableError as error:
        if settings.store.kind != "heavydb":
            raise
        log.warning("%s; spooling until it can be reached", error)
        return _UnreachableStore(error, settings.store.heavydb), lambda: open_store(
            settings.store
        )


def _listener_drops(listener: UdpListener | None) -> dict[str, int]:
    if listener is None:
        return {}
    return {
        QUEUE_FULL_REASON: listener.dropped_queue_full,
        SENDER_REFUSED_REASON: listener.rejected_senders,
    }


def _wait_with_status(
    stop: threading.Event,
    pipeline: IngestPipeline,
    status_stream: TextIO | None,
    on_store_change: Callable[[str], None] | None = None,
) -> None:
    store_error = ""
    while not stop.wait(STATUS_INTERVAL_S):
        if pipeline.failed is not None:
            raise pipeline.failed
        stats = pipeline.stats()
        if on_store_change is not None and bool(stats.store_error) != bool(store_error):
            on_store_change(stats.store_error)
        store_error = stats.store_error
        if status_stream is not None:
            status_stream.write("\r" + stats.status_line() + "\x1b[K")
            status_stream.flush()


def record_udp(
    settings: Settings, pcap_path: Path, *, stop_event: threading.Event | None = None
) -> int:
    """Write every datagram received on the listen address to a pcap file, with its
    receive time, until stopped; return how many were written."""
    stop = stop_event or threading.Event()
    ingest = settings.ingest
    received: queue.Queue[ReceivedDatagram] = queue.Queue(ingest.queue_max_datagrams)
    listener = UdpListener(
        ingest.listen_host,
        ingest.listen_port,
        received,
        allowed_senders=ingest.allowed_senders,
    )
    written = 0
    # Bind first: a busy port must not leave an empty capture file behind.
    with listener, PcapWriter(pcap_path) as writer:
        destination = listener.address
        try:
            while not (stop.is_set() and received.empty()):
                try:
                    datagram = received.get(timeout=STATUS_INTERVAL_S)
                except queue.Empty:
                    continue
                writer.write(
                    datagram.recv_unix_s,
                    datagram.payload,
                    src=datagram.sender,
                    dst=destination,
                )
                written += 1
        except KeyboardInterrupt:
            log.info("recording interrupted")
    if listener.dropped_queue_full:
        log.warning("%d datagrams dropped: queue full", listener.dropped_queue_full)
    return written


def _capture_payloads(
    pcap_path: Path, capture_stats: CaptureStats | None
) -> Iterator[tuple[float, bytes]]:
    """The capture's (timestamp, payload) pairs, its long pauses shortened to
    ``MAX_PAUSE_S`` (and counted in ``capture_stats``): the timestamps only pace a
    replay; stored rows carry the time they were ingested."""

    def count_pause(pause_s: float) -> None:
        if capture_stats is not None:
            capture_stats.long_pauses += 1
            capture_stats.long_pause_s += pause_s

    return shorten_pauses(
        (
            (datagram.timestamp_s, datagram.payload)
            for datagram in read_pcap(pcap_path, stats=capture_stats)
        ),
        on_pause=count_pause,
    )


def replay_to_udp(
    pcap_path: Path,
    host: str,
    port: int,
    *,
    speed: float | None,
    stop_event: threading.Event | None = None,
    capture_stats: CaptureStats | None = None,
) -> int:
    """Send a capture's datagrams to ``host:port`` at ``speed`` x the recorded pace
    (None: as fast as possible); return how many were sent. What the capture held
    besides those datagrams is counted in ``capture_stats``. Raises F1DashError
    naming the target when the datagrams cannot go there."""
    return send_udp(
        _capture_payloads(Path(pcap_path), capture_stats),
        host,
        port,
        speed=speed,
        stop_event=stop_event,
    )


def replay_to_store(
    pcap_path: Path,
    store: Store,
    *,
    speed: float | None,
    session_uid_salt: int = 0,
    stop_event: threading.Event | None = None,
    source: str = "replay",
    settings: IngestSettings | None = None,
    capture_stats: CaptureStats | None = None,
    status_stream: TextIO | None = None,
) -> IngestStats:
    """Ingest a capture straight into ``store`` at ``speed`` x its recorded pace
    (None: as fast as possible). A non-zero ``session_uid_salt`` makes it a new
    session (``demo --loop``). Raises CaptureError for a file that is not a capture;
    a file cut short is counted in ``capture_stats``."""
    pcap_path = Path(pcap_path)
    label = f"replay:{pcap_path.name}" if source == "replay" else source
    return ingest_datagrams(
        _capture_payloads(pcap_path, capture_stats),
        store,
        speed=speed,
        source=label,
        session_uid_salt=session_uid_salt,
        stop_event=stop_event,
        settings=settings,
        status_stream=status_stream,
    )


def ingest_datagrams(
    datagrams_with_times: Iterable[tuple[float, bytes]],
    store: Store,
    *,
    speed: float | None = None,
    source: str = "simulator",
    is_synthetic: bool | None = None,
    session_uid_salt: int = 0,
    stop_event: threading.Event | None = None,
    settings: IngestSettings | None = None,
    status_stream: TextIO | None = None,
) -> IngestStats:
    """Ingest ``(time_s, payload)`` pairs into ``store``; return the counters.

    ``time_s`` only paces the stream (differences matter, not the origin); rows are
    stamped with the wall-clock time they were ingested. With ``speed=None`` nothing
    waits and nothing is dropped. ``is_synthetic`` defaults to ``source ==
    "simulator"``. With ``status_stream`` (a terminal) the one-line status is redrawn
    there while it runs and cleared at the end.
    """
    pipeline = IngestPipeline(
        store,
        settings or IngestSettings(),
        source=source,
        is_synthetic=source == "simulator" if is_synthetic is None else is_synthetic,
        session_uid_salt=session_uid_salt,
    )
    pipeline.start()
    started = time.monotonic()
    finished = False
    try:
        timed = paced(datagrams_with_times, speed, stop_event=stop_event)
        if status_stream is not None:
            timed = _with_status(timed, pipeline, status_stream)
        if speed is None:
            clock = time.time
            feed(
                pipeline,
                ((clock(), payload) for _, payload in timed),
                chunk=REPLAY_CHUNK,
            )
        else:
            for _, payload in timed:
                pipeline.submit(time.time(), payload)
        finished = stop_event is None or not stop_event.is_set()
    finally:
        # A replay that ran to its end waits a while for a failing store; one
        # stopped by the user (stop event, Ctrl-C) leaves the spool for later.
        stats = pipeline.stop() if finished else pipeline.stop(drain_s=0.0)
    log.info(
        "ingested %d datagrams in %.1f s: %s",
        stats.packets_total,
        time.monotonic() - started,
        stats.status_line(),
    )
    return stats
