"""Poll loops, one per panel group, each on its own interval, in worker threads.

A poll schedules the next one only when it has finished (a timer set on completion,
never ``set_interval``), so a slow database never stacks queries. A failed poll backs
off exponentially (1 s, 2 s, 4 s ... capped at 30 s) and the panel keeps its last
good data. A store that does not exist yet (or any more) is no failure to back off
from: it is retried at the poll interval (at most 2 s), so data shows as soon as
ingest starts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from textual.app import App
from textual.timer import Timer

from f1dash_tui.errors import F1DashError, StoreError, StoreMissingError
from f1dash_tui.settings import StoreSettings
from f1dash_tui.store import Store, open_store
from f1dash_tui.ui.messages import PollFailed, PollPayload, PollSucceeded

if TYPE_CHECKING:
    from f1dash_tui.store.queries import DashboardQueries

log = logging.getLogger(__name__)

FIRST_BACKOFF_S = 1.0
MAX_WAIT_FOR_STORE_S = 2.0
"""Retry interval while the store file does not exist yet: ingest creates it on its
first write, and the dashboard should show data within ~2 s of that."""
MAX_BACKOFF_S = 30.0
"""A store down for minutes is retried every 30 s: often enough to notice it is back,
rare enough that 8 viewers over ssh do not hammer a struggling server."""

T = TypeVar("T")


def describe_error(error: BaseException) -> str:
    """One line saying what failed: our typed errors already are; others get a type."""
    if isinstance(error, F1DashError):
        return str(error)
    return f"{type(error).__name__}: {error}"


class StoreAccess:
    """The store and its queries, shared by every poller, one query at a time.

    Opens the store read-only on first use (so the app starts even when the store is
    down) and, when a query fails on a store it opened itself, closes it so the next
    try reconnects. A store passed in by the caller is never closed here. A SQLite
    store whose file went away is kept: it opens the next file at its path itself.
    """

    def __init__(self, settings: StoreSettings, store: Store | None = None) -> None:
        self._settings = settings
        self._store = store
        self._owns_store = store is None
        self._queries: DashboardQueries | None = None
        # One lock for every query: the SQLite connection serialises anyway, and a
        # reconnect must not race with a query running in another worker thread.
        self._lock = threading.Lock()

    def run(self, job: Callable[[DashboardQueries], T]) -> T:
        """Run ``job`` with the queries (in the caller's thread); re-raise failures."""
        with self._lock:
            queries = self._ensure_open()
            try:
                return job(queries)
            except StoreMissingError:
                raise
            except Exception:
                self._drop()
                raise

    def is_store_missing(self, error: BaseException) -> bool:
        """Whether ``error`` is only "no store yet": a SQLite file not created yet
        (or gone, or without its tables yet)."""
        if isinstance(error, StoreMissingError):
            return True
        if not self._owns_store or not isinstance(error, StoreError):
            return False
        if self._settings.kind != "sqlite":
            return False
        return not Path(self._settings.sqlite_path).expanduser().exists()

    def _ensure_open(self) -> DashboardQueries:
        if self._queries is None:
            from f1dash_tui.store.queries import DashboardQueries

            if self._store is None:
                self._store = open_store(self._settings, read_only=True)
            self._queries = DashboardQueries(self._store)
        return self._queries

    def _drop(self) -> None:
        if not self._owns_store:
            return
        store, self._store, self._queries = self._store, None, None
        if store is not None:
            try:
                store.close()
            except Exception as error:  # noqa: BLE001 - a broken store may not close
                log.warning("closing the failed store: %s", describe_error(error))

    def close(self) -> None:
        """Close the store if this object opened it."""
        with self._lock:
            self._drop()


@dataclass
class PollStatus:
    """What a panel shows about its poller (main thread only)."""

    last_ok_unix_s: float | None = None
    error: str | None = None
    failures: int = 0
    next_try_unix_s: float | None = None


class Poller:
    """One group's poll loop: make a job on the main thread, run it in a thread.

    ``make_job`` runs on the main thread and captures what the query needs (session,
    car, last frame held) in a closure; it returns None when there is nothing to ask
    yet. The closure runs in a worker thread and returns a payload.
    """

    def __init__(
        self,
        app: App[Any],
        group: str,
        interval_s: Callable[[], float],
        make_job: Callable[[], Callable[[], PollPayload] | None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app = app
        self.group = group
        self.interval_s = interval_s
        self.make_job = make_job
        self.clock = clock
        self.status = PollStatus()
        self.paused = False
        self.running = False
        self.max_backoff_s = MAX_BACKOFF_S
        self.is_store_missing: Callable[[BaseException], bool] = lambda _: False
        self._timer: Timer | None = None
        self._again_soon = False
        self._launched_monotonic = 0.0
        self.polls = 0
        self.poll_seconds: deque[float] = deque(maxlen=10_000)
        """Launch to result applied, per successful poll (benchmark)."""

    def start(self) -> None:
        """Poll now, then keep polling."""
        self._schedule(0.0)

    def poll_soon(self) -> None:
        """Poll as soon as the current poll (if any) finishes: the query changed."""
        if self.running:
            # The running poll asked with the old query (at start-up the slow poll
            # runs before the session's track is known: dropping this made lap
            # compare wait a whole 5 s slow interval for its reference lap).
            self._again_soon = True
        elif not self.paused:
            self._schedule(0.0)

    def pause(self) -> None:
        """Stop scheduling polls (a running one still completes)."""
        self.paused = True
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    def resume(self) -> None:
        """Restart polling at once."""
        self.paused = False
        if not self.running:
            self._schedule(0.0)

    def _schedule(self, delay_s: float) -> None:
        if self._timer is not None:
            self._timer.stop()
        # Textual's Timer divides by its delay: "now" is 10 ms from now.
        self._timer = self.app.set_timer(
            max(delay_s, 0.01), self._launch, name=self.group
        )

    def _launch(self) -> None:
        self._timer = None
        if self.paused or self.running:
            return
        job = self.make_job()
        if job is None:
            self._schedule(self.interval_s())
            return
        self.running = True
        self._launched_monotonic = time.monotonic()
        self.app.run_worker(
            partial(self._run_job, job),
            name=f"poll-{self.group}",
            group=self.group,
            thread=True,
            exit_on_error=False,
        )

    def _run_job(self, job: Callable[[], PollPayload]) -> None:
        """In the worker thread: run the query and post the result as a message."""
        try:
            payload = job()
        except Exception as error:  # noqa: BLE001 - shown in the panel, then retried
            log.warning("poll %s failed: %s", self.group, describe_error(error))
            missing = self.is_store_missing(error)
            self.app.post_message(
                PollFailed(self.group, describe_error(error), missing)
            )
            return
        self.app.post_message(PollSucceeded(self.group, payload))

    def finished(
        self, ok: bool, error: str | None = None, store_missing: bool = False
    ) -> None:
        """On the main thread, after the result was applied: schedule the next poll."""
        self.running = False
        self.polls += 1
        now = self.clock()
        if ok:
            self.status.last_ok_unix_s = now
            self.status.error = None
            self.status.failures = 0
            # Keep the cadence at the interval (a 40 ms query must not make a 0.5 s
            # poll a 0.54 s one), but always leave a fifth of it idle, so a query
            # slower than the interval never turns into back-to-back polling.
            elapsed_s = time.monotonic() - self._launched_monotonic
            self.poll_seconds.append(elapsed_s)
            interval_s = self.interval_s()
            delay_s = max(interval_s / 5, interval_s - elapsed_s)
        else:
            self.status.error = error
            self.status.failures += 1
            if store_missing:
                delay_s = min(MAX_WAIT_FOR_STORE_S, self.interval_s())
            else:
                delay_s = min(
                    self.max_backoff_s,
                    max(FIRST_BACKOFF_S, self.interval_s())
                    * 2 ** (self.status.failures - 1),
                )
        if ok and self._again_soon:
            delay_s = 0.0
        self._again_soon = False
        self.status.next_try_unix_s = now + delay_s
        if not self.paused:
            self._schedule(delay_s)
