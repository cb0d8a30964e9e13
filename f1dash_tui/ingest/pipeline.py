"""The ingest pipeline: bounded queues, batching by time and size, one writer thread.

    listener / replay ──datagrams──▶ [queue] ──▶ batcher thread ──tables──▶ [queue]
        ──▶ writer thread ──▶ store (or the outage spool)

The batcher collects datagrams for at most ``IngestSettings.batch_max_s`` (0.1 s: the
dashboard polls every 0.5 s, so data is at most one poll old) or until a batch holds
``batch_max_rows / ROWS_PER_DATAGRAM`` datagrams, decodes them in one vectorised call
and runs the session logic. The writer is the only thread that touches the store: at
60 Hz a 0.1 s batch is ~30 datagrams and ~130 rows per per-car table, one transaction
each, so writes stay batched at any send rate.

Both queues are bounded. A live source that outruns the writer loses datagrams at the
first queue (counted as drops), never memory; a replay waits instead (``block=True``).
"""

from __future__ import annotations

import collections
import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import tenacity

from f1dash_tui.errors import StoreError
from f1dash_tui.ingest import resume
from f1dash_tui.ingest.session import SessionTracker
from f1dash_tui.ingest.spool import Spool, foreign_spools, spool_path, store_target
from f1dash_tui.settings import IngestSettings
from f1dash_tui.store.base import Store
from f1dash_tui.store.schema import INGEST_STATS_INTERVAL_S
from f1dash_tui.store.schema import TABLES as STORE_TABLES
from f1dash_tui.telemetry.decode import Decoder

log = logging.getLogger(__name__)

ROWS_PER_DATAGRAM = 20
"""Rows a datagram decodes into, for sizing batches: per-car packets give 20-24 rows
(one per car slot), the rest one; the size limit only matters for fast replays."""

BATCH_QUEUE_MAX = 16
"""Decoded batches waiting for the writer: 16 x 0.1 s = 1.6 s of live data."""

STATS_INTERVAL_S = INGEST_STATS_INTERVAL_S
"""How often an ``ingest_stats`` row is written (the dashboard polls it every 5 s)."""

BACKOFF_MAX_S = 5.0
BACKOFF = tenacity.wait_exponential(multiplier=0.5, min=0.5, max=BACKOFF_MAX_S)
"""Retry delays after a failed write: 0.5, 1, 2, 4, then every 5 s, so a store that
comes back is written to again within 5 s."""

STOP_DRAIN_S = 2 * BACKOFF_MAX_S
"""When a replay ends, how long to keep trying to backfill before leaving the rest
on disk (the next ingest backfills it first). A stop the user asked for (Ctrl-C)
passes ``drain_s=0`` instead: a failing store is not retried then, so it exits
within ~2 s."""

RATE_WINDOW_S = 3.0
"""packets/s is counted over the datagrams received in the last 3 s of wall-clock
time, so it follows the stream within seconds and falls to 0 when it stops."""

BACKFILL_BATCHES_PER_TURN = 8
"""Spooled batches written between two new batches while backfilling, so the writer
keeps up with live data (16 queued batches) and still drains the spool."""

QUEUE_FULL_REASON = "ingest: queue full"
"""The ``bad_by_reason`` key of datagrams dropped because the queue was full."""

SENDER_REFUSED_REASON = "sender not allowed"
"""Datagrams refused by the allow-list: counted apart from bad packets (they are
not broken, just from elsewhere); the key in the ingest_stats ``bad_by_reason``
JSON, not part of ``bad_total``."""

_STOP = object()


@dataclass(frozen=True)
class IngestStats:
    """Counters of one ingest run (also the source of ``ingest_stats`` rows)."""

    packets_total: int = 0
    packets_per_s: float = 0.0
    bad_by_reason: Mapping[str, int] = field(default_factory=dict)
    dropped_queue_full: int = 0
    rows_written: int = 0
    """Rows of telemetry and derived tables written; not ingest's own statistics."""
    batches_written: int = 0
    spooled_rows: int = 0
    """Rows waiting in the outage spool now."""
    spooled_batches: int = 0
    write_lag_s: float | None = None
    """Receive-to-commit time of the oldest datagram of the last batch written."""
    last_packet_unix_s: float | None = None
    session_uid: int = 0
    laps_completed: int = 0
    """Completed laps written (or to be written): not those the store held."""
    rows_already_stored: int = 0
    """Rows of a session the store held already (a capture replayed again)."""
    rewinds: int = 0
    store_error: str = ""
    """The last write error while the store is failing; empty when writes succeed."""
    refused_senders: int = 0
    """Datagrams refused because their sender is not in the allow-list."""
    spool_note: str = ""
    """A spool left for another store target (not backfilled here), in one line."""

    @property
    def bad_packets(self) -> int:
        """Datagrams dropped or rejected, all reasons together."""
        return sum(self.bad_by_reason.values())

    def __str__(self) -> str:
        laps = "lap" if self.laps_completed == 1 else "laps"
        text = (
            f"{self.packets_total:,} packets, {self.rows_written:,} rows, "
            f"{self.laps_completed:,} {laps} completed, {self.bad_packets:,} bad"
        )
        if self.rows_already_stored:
            text += (
                f", {self.rows_already_stored:,} rows the store held already "
                "(not written again)"
            )
        if self.refused_senders:
            text += f", {self.refused_senders:,} refused (sender not allowed)"
        if self.spooled_rows:
            text += f", {self.spooled_rows:,} rows still spooled"
        return text

    def status_line(self) -> str:
        """One line for a terminal: packets, rate, bad, lag, and any outage."""
        lag = "-" if self.write_lag_s is None else f"{self.write_lag_s * 1000:.0f} ms"
        line = (
            f"ingest: {self.packets_total:,} packets  {self.packets_per_s:,.0f} pkt/s"
            f"  bad {self.bad_packets:,}  lag {lag}"
        )
        if self.refused_senders:
            line += f"  {self.refused_senders:,} refused (sender not allowed)"
        if self.spooled_rows or self.store_error:
            line += f"  store down, spooled {self.spooled_rows:,} rows"
        if self.spool_note:
            line += f"  [{self.spool_note}]"
        return line


@dataclass
class _Batch:
    tables: dict[str, dict[str, np.ndarray]]
    oldest_recv_unix_s: float
    newest_recv_unix_s: float
    datagrams: int
    counts: IngestStats
    final: bool = False


def _format_reason(key: object) -> str:
    if isinstance(key, tuple) and len(key) == 3:
        packet_format, packet_id, reason = key
        return f"{packet_format}/{packet_id}: {reason}"
    return str(key)


class IngestPipeline:
    """Decodes, runs the session logic and writes to a store on its own threads.

    Feed it with ``submit``/``submit_many`` (or let a ``UdpListener`` put
    ``ReceivedDatagram`` items on ``pipeline.queue``), then ``stop()`` to flush.
    ``reopen_store`` (optional) opens the real store when ``store`` is a stand-in
    for one that could not be reached at start: everything is spooled until it
    succeeds (a HeavyDB store reconnects by itself after that).
    """

    def __init__(
        self,
        store: Store,
        settings: IngestSettings,
        *,
        source: str,
        is_synthetic: bool = False,
        session_uid_salt: int = 0,
        reopen_store: Callable[[], Store] | None = None,
        extra_drop_counts: Callable[[], Mapping[str, int]] | None = None,
        stats_interval_s: float = STATS_INTERVAL_S,
        datagram_queue: queue.Queue[Any] | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.queue: queue.Queue[Any] = (
            queue.Queue(settings.queue_max_datagrams)
            if datagram_queue is None
            else datagram_queue
        )
        self._batches: queue.Queue[Any] = queue.Queue(BATCH_QUEUE_MAX)
        self._decoder = Decoder()
        known_sessions = resume.known_sessions(store)
        through = resume.stored_through(store, known_sessions)
        self._tracker = SessionTracker(
            source=source,
            is_synthetic=is_synthetic,
            known_sessions=known_sessions,
            stored_through=through,
            stored_laps=resume.stored_laps(store, known_sessions),
            session_uid_salt=session_uid_salt,
        )
        # Laps a stopped (killed) ingest held back: written first when started.
        self._caught_up = self._tracker.catch_up(
            *resume.catch_up_tables(store, through)
        )
        self._reopen_store = reopen_store
        self._extra_drop_counts = extra_drop_counts
        self._stats_interval_s = stats_interval_s
        self._max_datagrams = max(1, settings.batch_max_rows // ROWS_PER_DATAGRAM)
        self._spool: Spool | None = None
        self._spool_target = store_target(store)
        own_spool = spool_path(settings.spool_dir, store.backend, self._spool_target)
        spool_note = ""
        if settings.spool_dir.is_dir():
            others = foreign_spools(
                settings.spool_dir, store.backend, self._spool_target
            )
            for other in others:
                log.warning("%s", other.describe())
            if others:
                spool_note = others[0].short()
                if len(others) > 1:
                    spool_note += f" (+{len(others) - 1} more, see log)"
        if own_spool.exists():
            self._spool = Spool(own_spool, target=self._spool_target)
            if self._spool.pending_batches:
                self._tracker.add_known_sessions(self._spool.spooled_sessions())
                log.warning(
                    "%d batches (%d rows) left in the spool %s; backfilling first",
                    self._spool.pending_batches,
                    self._spool.pending_rows,
                    own_spool,
                )
        self._packets_total = 0
        self._dropped_queue_full = 0
        self._stats = IngestStats(spool_note=spool_note)
        self._stats_lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._retry_attempt = 0
        self._next_retry_monotonic = 0.0
        self._last_stats_row_monotonic = 0.0
        self._rate_started_monotonic = time.monotonic()
        self._rate_samples: collections.deque[tuple[float, int]] = collections.deque()
        """(monotonic time written, datagrams) per batch in the rate window."""
        self.failed: BaseException | None = None
        self._stop_drain_s = STOP_DRAIN_S

    # -- feeding ------------------------------------------------------------------

    def start(self) -> None:
        """Start the batcher and writer threads."""
        if self._caught_up:
            now = time.time()
            self._batches.put(_Batch(self._caught_up, now, now, 0, self._counts()))
            self._caught_up = {}
        for target, name in (
            (self._batch_loop, "ingest-batcher"),
            (self._write_loop, "ingest-writer"),
        ):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    @property
    def running(self) -> bool:
        """Whether the threads were started and not yet stopped."""
        return bool(self._threads)

    def submit(self, recv_unix_s: float, payload: bytes, *, block: bool = True) -> bool:
        """Queue one datagram; with ``block=False`` a full queue drops and counts."""
        if not block:
            try:
                self.queue.put_nowait((recv_unix_s, payload))
            except queue.Full:
                self._dropped_queue_full += 1
                return False
            return True
        self._put_waiting((recv_unix_s, payload))
        return True

    def submit_many(self, datagrams: list[tuple[float, bytes]]) -> None:
        """Queue several datagrams as one item (a replay's chunk); waits when full."""
        if datagrams:
            self._put_waiting(datagrams)

    def _put_waiting(self, item: object) -> None:
        """Put on the datagram queue, waiting while it is full, unless the
        pipeline has failed (its threads no longer take anything)."""
        while True:
            if self.failed is not None:
                raise self.failed
            try:
                self.queue.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def stop(self, *, drain_s: float = STOP_DRAIN_S) -> IngestStats:
        """Flush every queued datagram and pending lap, stop the threads, return
        the final counters. Call once, after the last submit.

        With rows spooled, retry the store for up to ``drain_s`` before leaving
        them on disk; 0 (a user's stop) only writes them if the store is answering.
        """
        self._stop_drain_s = drain_s
        if self.failed is None:
            try:
                self._put_waiting(_STOP)
            except BaseException:  # noqa: BLE001 - raised below, after the join
                log.debug("pipeline failed before stop")
        for thread in self._threads:
            thread.join()
        self._threads.clear()
        if self._spool is not None:
            self._spool.close()
        if self.failed is not None:
            raise self.failed
        return self.stats()

    def stats(self) -> IngestStats:
        """The counters now (thread-safe snapshot)."""
        with self._stats_lock:
            return self._stats

    # -- batcher thread -------------------------------------------------------------

    def _batch_loop(self) -> None:
        try:
            self._batch_loop_inner()
        except BaseException as error:
            log.exception("ingest batcher failed")
            self.failed = error
            self._batches.put(_STOP)
            raise

    def _batch_loop_inner(self) -> None:
        times: list[float] = []
        payloads: list[bytes] = []
        deadline: float | None = None
        next_tick = time.monotonic() + self._stats_interval_s
        get = self.queue.get
        while True:
            now = time.monotonic()
            wait_until = next_tick if deadline is None else min(deadline, next_tick)
            try:
                item = get(timeout=max(0.0, wait_until - now))
            except queue.Empty:
                item = None
            if item is _STOP:
                break
            if item is not None:
                if isinstance(item, list):
                    for recv_unix_s, payload in item:
                        times.append(recv_unix_s)
                        payloads.append(payload)
                else:
                    times.append(item[0])
                    payloads.append(item[1])
                if deadline is None:
                    deadline = time.monotonic() + self.settings.batch_max_s
                if not isinstance(item, list) and self._collect_until(
                    deadline, times, payloads
                ):
                    break
            now = time.monotonic()
            if payloads and (
                len(payloads) >= self._max_datagrams or now >= (deadline or now)
            ):
                self._emit(times, payloads)
                times, payloads, deadline = [], [], None
                next_tick = now + self._stats_interval_s
            elif now >= next_tick:
                # Idle: an empty batch lets the writer still write a stats row
                # (twice per interval, so a row is never more than one apart).
                self._batches.put(_Batch({}, now, now, 0, self._counts()))
                next_tick = now + self._stats_interval_s / 2
        if payloads:
            self._emit(times, payloads)
        flushed = self._tracker.flush()
        now = time.time()
        self._batches.put(_Batch(flushed, now, now, 0, self._counts(), final=True))
        self._batches.put(_STOP)

    def _collect_until(
        self, deadline: float, times: list[float], payloads: list[bytes]
    ) -> bool:
        """Sleep to the batch's deadline, then take every queued datagram at once;
        True when the stop mark came with them.

        A live listener queues datagrams one by one (~220/s at 60 Hz x 22 cars):
        waking for each cost this thread ~1% of a core in queue waits and thread
        switches; this wakes once per batch (measured with benchmarks/ingest.py).
        """
        time.sleep(max(0.0, deadline - time.monotonic()))
        get_nowait = self.queue.get_nowait
        while len(payloads) < self._max_datagrams:
            try:
                item = get_nowait()
            except queue.Empty:
                return False
            if item is _STOP:
                return True
            if isinstance(item, list):
                for recv_unix_s, payload in item:
                    times.append(recv_unix_s)
                    payloads.append(payload)
            else:
                times.append(item[0])
                payloads.append(item[1])
        return False

    def _emit(self, times: list[float], payloads: list[bytes]) -> None:
        decoded = self._decoder.decode(payloads)
        recv_unix_s = np.asarray(times, dtype="f8")
        processed = self._tracker.process(decoded.tables, recv_unix_s)
        # Kinds the store has no table for (car setups, tyre sets, motion ex, ...)
        # were decoded alongside; the dashboard does not read them.
        tables = {kind: t for kind, t in processed.items() if kind in STORE_TABLES}
        self._packets_total += len(payloads)
        self._batches.put(
            _Batch(
                tables,
                float(recv_unix_s.min()),
                float(recv_unix_s.max()),
                len(payloads),
                self._counts(),
            )
        )

    def _counts(self) -> IngestStats:
        """Counters owned by the batcher (and the listener), as of now."""
        reasons = {_format_reason(k): v for k, v in self._decoder.bad.items() if v}
        for reason, count in self._tracker.counters.as_reasons().items():
            if count:
                reasons[reason] = count
        extra = dict(self._extra_drop_counts()) if self._extra_drop_counts else {}
        dropped = self._dropped_queue_full + extra.pop(QUEUE_FULL_REASON, 0)
        if dropped:
            reasons[QUEUE_FULL_REASON] = dropped
        refused = extra.pop(SENDER_REFUSED_REASON, 0)
        reasons.update((reason, count) for reason, count in extra.items() if count)
        counters = self._tracker.counters
        return IngestStats(
            refused_senders=refused,
            packets_total=self._packets_total,
            bad_by_reason=reasons,
            dropped_queue_full=dropped,
            session_uid=self._tracker.latest_session_uid,
            laps_completed=counters.laps_completed - counters.laps_already_stored,
            rows_already_stored=counters.rows_already_stored,
            rewinds=counters.rewinds,
        )

    # -- writer thread ------------------------------------------------------------

    def _write_loop(self) -> None:
        try:
            while True:
                batch = self._batches.get()
                if batch is _STOP:
                    break
                self._write(batch)
            self._drain_spool_at_stop()
        except BaseException as error:
            log.exception("ingest writer failed")
            self.failed = error
            # Keep taking batches so the batcher never blocks on a dead writer.
            while self._batches.get() is not _STOP:
                continue
            raise

    def _write(self, batch: _Batch) -> None:
        now_unix_s = time.time()
        counts = batch.counts
        self._update_rate(batch.datagrams)
        tables = batch.tables
        monotonic_now = time.monotonic()
        since_stats_row_s = monotonic_now - self._last_stats_row_monotonic
        # Idle batches come every half interval, not exactly on it: 0.75 keeps
        # the rows at most one interval apart without writing one per batch.
        if batch.final or since_stats_row_s >= 0.75 * self._stats_interval_s:
            self._last_stats_row_monotonic = monotonic_now
            tables = {
                **tables,
                "ingest_stats": self._stats_row(counts, batch, now_unix_s),
            }
        if not tables:
            return
        if self._spool is not None and self._spool.pending_batches:
            self._backfill()
        if self._spool is not None and self._spool.pending_batches:
            self._spool.append(tables)
            self._publish(counts, batch, written_rows=0)
            return
        try:
            rows = self.store.write_batch(tables)
        except StoreError as error:
            self._on_write_failure(error)
            rest, uncertain = _unwritten(tables, error)
            self._spool_batch(rest, uncertain)
            self._publish(counts, batch, written_rows=0)
            return
        lag_s = time.time() - batch.oldest_recv_unix_s if batch.datagrams else None
        stats_rows = len(tables.get("ingest_stats", {}).get("unix_s", ()))
        self._publish(
            counts, batch, written_rows=rows, lag_s=lag_s, stats_rows=stats_rows
        )

    def _spool_batch(
        self, tables: Mapping[str, Mapping[str, np.ndarray]], uncertain: str | None
    ) -> None:
        if self._spool is None:
            self._spool = Spool.for_target(
                self.settings.spool_dir, self.store.backend, self._spool_target
            )
            log.warning("spooling to %s until the store is back", self._spool.path)
        self._spool.append(tables, uncertain=uncertain)

    def _on_write_failure(self, error: StoreError) -> None:
        self._retry_attempt += 1
        retry_state = tenacity.RetryCallState(None, None, (), {})  # type: ignore[arg-type]
        retry_state.attempt_number = self._retry_attempt
        delay_s = BACKOFF(retry_state)
        self._next_retry_monotonic = time.monotonic() + delay_s
        log.warning("store write failed (%s); retrying in %.1f s", error, delay_s)
        with self._stats_lock:
            self._stats = replace(self._stats, store_error=str(error))

    def _backfill(self, *, at_stop: bool = False) -> None:
        """Write spooled batches oldest first while the store takes them."""
        assert self._spool is not None
        if time.monotonic() < self._next_retry_monotonic:
            return
        if self._reopen_store is not None:
            try:
                fresh = self._reopen_store()
            except StoreError as error:
                self._on_write_failure(error)
                return
            try:
                self.store.close()
            except StoreError as error:
                log.info("closing the failed store connection: %s", error)
            self.store = fresh
            self._reopen_store = None
            self._tracker.add_known_sessions(resume.known_sessions(fresh))
        turns = None if at_stop else BACKFILL_BATCHES_PER_TURN
        while turns is None or turns > 0:
            oldest = self._spool.oldest()
            if oldest is None:
                break
            seq, tables = oldest.seq, oldest.tables
            try:
                if oldest.uncertain is not None and _already_stored(
                    self.store, oldest.uncertain, tables[oldest.uncertain]
                ):
                    log.info("the cut-off load of %s was stored", oldest.uncertain)
                    tables = {n: t for n, t in tables.items() if n != oldest.uncertain}
                rows = self.store.write_batch(tables)
            except StoreError as error:
                self._on_write_failure(error)
                rest, uncertain = _unwritten(tables, error)
                if rest.keys() != oldest.tables.keys() or uncertain != oldest.uncertain:
                    # Part of it landed (HeavyDB loads table by table): keep the rest.
                    self._spool.replace(seq, rest, uncertain=uncertain)
                return
            self._spool.remove(seq)
            if turns is not None:
                turns -= 1
            with self._stats_lock:
                self._stats = replace(
                    self._stats,
                    rows_written=self._stats.rows_written + rows,
                    spooled_rows=self._spool.pending_rows,
                    spooled_batches=self._spool.pending_batches,
                )
        if not self._spool.pending_batches:
            log.warning("store is back; spool drained")
            self._retry_attempt = 0
            with self._stats_lock:
                self._stats = replace(self._stats, store_error="")

    @property
    def spool_path(self) -> Path | None:
        """The outage spool file in use, if any."""
        return self._spool.path if self._spool is not None else None

    def _drain_spool_at_stop(self) -> None:
        """At stop, backfill once more if the store was answering, then keep
        retrying for the stop's drain time (none for a user's stop: each try can
        wait for a connection). What remains stays spooled on disk for the next
        ingest."""
        if self._spool is None or not self._spool.pending_batches:
            return
        give_up = time.monotonic() + self._stop_drain_s
        if not self._retry_attempt:
            self._backfill(at_stop=True)
        while self._spool.pending_batches and time.monotonic() < give_up:
            time.sleep(max(0.0, self._next_retry_monotonic - time.monotonic()))
            self._backfill(at_stop=True)
        if self._spool.pending_batches:
            log.warning(
                "store unreachable: %d rows are kept in the spool %s for backfill "
                "by the next ingest",
                self._spool.pending_rows,
                self._spool.path,
            )
        with self._stats_lock:
            self._stats = replace(
                self._stats,
                spooled_rows=self._spool.pending_rows,
                spooled_batches=self._spool.pending_batches,
            )

    def _update_rate(self, datagrams: int) -> None:
        """packets/s over the last ``RATE_WINDOW_S``; every batch (idle ones too,
        one a second) updates it, so it decays to 0 when nothing arrives."""
        now = time.monotonic()
        samples = self._rate_samples
        if datagrams:
            samples.append((now, datagrams))
        while samples and samples[0][0] <= now - RATE_WINDOW_S:
            samples.popleft()
        # Early in a run the window is only as long as the run so far.
        window_s = min(RATE_WINDOW_S, now - self._rate_started_monotonic)
        in_window = sum(count for _, count in samples)
        rate = in_window / window_s if window_s > 0 else 0.0
        with self._stats_lock:
            self._stats = replace(self._stats, packets_per_s=rate)

    def _stats_row(
        self, counts: IngestStats, batch: _Batch, now_unix_s: float
    ) -> dict[str, np.ndarray]:
        current = self.stats()
        # The stopping run's last row: nothing arrives after it, so a reader
        # that keeps showing the latest row must not show a rate minutes later.
        rate = 0.0 if batch.final else current.packets_per_s
        spooled = self._spool.pending_rows if self._spool is not None else 0
        # The row goes in with this batch: its newest packet is the newest stored
        # (the published stats still hold the previous batch's, ~0.1 s older).
        last_packet = (
            batch.newest_recv_unix_s if batch.datagrams else current.last_packet_unix_s
        )
        return {
            "unix_s": np.array([now_unix_s]),
            "last_packet_unix_s": np.array(
                [np.nan if last_packet is None else last_packet]
            ),
            "session_uid": np.array([counts.session_uid], "i8"),
            "packets_total": np.array([counts.packets_total], "i8"),
            "packets_per_s": np.array([rate]),
            "bad_total": np.array([counts.bad_packets], "i8"),
            "bad_by_reason": np.array(
                [json.dumps(_reasons_with_refused(counts), sort_keys=True)], object
            ),
            "write_lag_s": np.array(
                [np.nan if current.write_lag_s is None else current.write_lag_s]
            ),
            "spooled_rows": np.array([spooled], "i8"),
        }

    def _publish(
        self,
        counts: IngestStats,
        batch: _Batch,
        *,
        written_rows: int,
        lag_s: float | None = None,
        stats_rows: int = 0,
    ) -> None:
        """The counters after a batch: ``written_rows`` rows written (0: none,
        the store failing), ``stats_rows`` of them ingest's own statistics, which
        ``rows_written`` leaves out (a replay of nothing new wrote "2 rows")."""
        with self._stats_lock:
            previous = self._stats
            self._stats = replace(
                counts,
                packets_per_s=previous.packets_per_s,
                rows_written=previous.rows_written + written_rows - stats_rows,
                batches_written=previous.batches_written + (1 if written_rows else 0),
                spooled_rows=self._spool.pending_rows if self._spool else 0,
                spooled_batches=self._spool.pending_batches if self._spool else 0,
                write_lag_s=lag_s if lag_s is not None else previous.write_lag_s,
                last_packet_unix_s=(
                    batch.newest_recv_unix_s
                    if batch.datagrams
                    else previous.last_packet_unix_s
                ),
                store_error=previous.store_error if not written_rows else "",
                spool_note=previous.spool_note,
            )


def _reasons_with_refused(counts: IngestStats) -> dict[str, int]:
    reasons = dict(counts.bad_by_reason)
    if counts.refused_senders:
        reasons[SENDER_REFUSED_REASON] = counts.refused_senders
    return reasons


def _unwritten(
    tables: Mapping[str, Mapping[str, np.ndarray]], error: StoreError
) -> tuple[dict[str, Mapping[str, np.ndarray]], str | None]:
    """The tables of a failed batch the store did not take, and the one whose
    load was cut off (None when the store is transactional).

    A backend without multi-table transactions (HeavyDB) loads table by table and
    names the tables it finished before failing in ``error.tables_written``;
    spooling those again would duplicate their rows. The next table's load was in
    flight: the server may have committed it before the connection dropped.
    """
    if not hasattr(error, "tables_written"):
        return dict(tables), None
    written = set(error.tables_written)
    rest = {name: columns for name, columns in tables.items() if name not in written}
    in_flight = next((name for name, columns in rest.items() if _rows(columns)), None)
    return rest, in_flight


def _rows(columns: Mapping[str, np.ndarray]) -> int:
    return len(next(iter(columns.values()))) if columns else 0


_STORED_CHECK_KEYS = {"laps": "completed_frame", "rewinds": "at_overall_frame"}
"""The column that places a derived table's rows in the stream; decoded kinds use
overall_frame, sessions are checked by UID, statistics rows are simply written
again (a repeated one is harmless)."""


def _already_stored(
    store: Store, table: str, columns: Mapping[str, np.ndarray]
) -> bool:
    """Whether a table whose load was cut off reached the store after all.

    A spooled batch's rows are newer than everything written before them and
    nothing after them has been written yet, so the store holds as many rows as
    the batch in their session(s) and frame range only if that load committed.
    """
    rows = _rows(columns)
    if not rows or table == "ingest_stats":
        return False
    uids = sorted(int(uid) for uid in np.unique(columns["session_uid"]))
    marks = ", ".join("?" * len(uids))
    if table == "sessions":
        found = store.fetch(
            f"SELECT COUNT(*) FROM sessions WHERE session_uid IN ({marks})", uids
        )
        return int(found[0][0]) >= rows
    key = _STORED_CHECK_KEYS.get(table, "overall_frame")
    low, high = int(columns[key].min()), int(columns[key].max())
    found = store.fetch(
        f"SELECT COUNT(*) FROM {table} WHERE session_uid IN ({marks}) "
        f"AND {key} >= ? AND {key} <= ?",
        [*uids, low, high],
    )
    return int(found[0][0]) >= rows


def feed(
    pipeline: IngestPipeline,
    timed_payloads: Iterable[tuple[float, bytes]],
    *,
    chunk: int = 256,
) -> int:
    """Submit ``(recv_unix_s, payload)`` pairs in chunks; return how many."""
    pending: list[tuple[float, bytes]] = []
    count = 0
    for item in timed_payloads:
        pending.append(item)
        if len(pending) >= chunk:
            pipeline.submit_many(pending)
            count += len(pending)
            pending = []
    pipeline.submit_many(pending)
    return count + len(pending)
