"""``f1dash-tui demo``: the dashboard on a throwaway store fed in the same process.

A temporary SQLite store is created, a background thread replays the bundled real
capture into it at its recorded pace (or runs the synthetic race), and the dashboard
opens on it. Quitting stops the thread and deletes the store.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import os
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from f1dash_tui.errors import F1DashError
from f1dash_tui.settings import Settings
from f1dash_tui.simulate_feed import RaceRequest, simulated_race_into_store

logger = logging.getLogger(__name__)

BUNDLED_CAPTURE_NAME = "melbourne-2026-race.pcap"
SOURCE_LABEL_REAL = "real capture: Melbourne 2026 (F1 25)"
SOURCE_LABEL_SYNTHETIC = "synthetic race"
FEED_JOIN_TIMEOUT_S = 5.0
"""How long quitting waits for the feed thread: one paced sleep is at most ~20 ms and
a write batch at most ~100 ms, so 5 s only runs out if the store hangs."""
APP_START_WAIT_S = 10.0
"""How long a feed error waits for the dashboard to start before it is only logged."""
SIGNAL_EXIT_GRACE_S = 5.0
"""After SIGHUP/SIGTERM, how long the dashboard gets to shut down before the process
ends anyway: a normal shutdown takes well under 1 s, but with the terminal gone
Textual's writer thread can die and its shutdown then blocks forever on a full queue."""


class DemoError(F1DashError):
    """The demo's feed failed (the message says why)."""


@contextmanager
def bundled_capture() -> Iterator[Path]:
    """A filesystem path to the bundled real capture (also from a zipped install)."""
    resource = resources.files("f1dash_tui") / "data" / BUNDLED_CAPTURE_NAME
    if not resource.is_file():
        raise DemoError(f"the bundled capture {BUNDLED_CAPTURE_NAME} is missing")
    with resources.as_file(resource) as path:
        yield Path(path)


def demo_settings(settings: Settings, store_dir: Path) -> Settings:
    """The user's settings with the store swapped for a SQLite file in ``store_dir``."""
    store = dataclasses.replace(
        settings.store, kind="sqlite", sqlite_path=store_dir / "demo.sqlite3"
    )
    return dataclasses.replace(settings, store=store)


class DemoFeed(threading.Thread):
    """Feeds the demo store from a background thread until stopped or finished.

    The thread opens its own store connection (SQLite connections belong to the thread
    that made them); the dashboard reads through another.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        capture_path: Path | None,
        loop: bool,
        speed: float | None,
        on_error: Callable[[str], None] | None = None,
        race: RaceRequest | None = None,
    ) -> None:
        super().__init__(name="demo-feed", daemon=True)
        self._race = race or RaceRequest()
        self._on_error = on_error
        self._settings = settings
        self._capture_path = capture_path
        self._loop = loop
        self._speed = speed
        self.stop_event = threading.Event()
        self.error: BaseException | None = None
        self.passes_completed = 0

    def run(self) -> None:
        try:
            self._feed()
        except Exception as error:  # shown in the app now and on stderr after it
            logger.exception("demo feed failed")
            self.error = error
            if self._on_error is not None:
                self._on_error(f"demo feed failed: {error}")

    def stop(self) -> None:
        self.stop_event.set()
        self.join(FEED_JOIN_TIMEOUT_S)
        if self.is_alive():
            logger.warning("demo feed did not stop within %.0f s", FEED_JOIN_TIMEOUT_S)

    def _feed(self) -> None:
        from f1dash_tui.store import open_store

        store = open_store(self._settings.store)
        try:
            salt = 0
            while not self.stop_event.is_set():
                self._one_pass(store, salt)
                if self.stop_event.is_set():
                    break
                self.passes_completed += 1
                logger.info("demo pass %d finished", self.passes_completed)
                if not self._loop:
                    break
                # A new salt makes the replayed capture a new session, as a new race.
                salt += 1
        finally:
            store.close()

    def _one_pass(self, store: Any, salt: int) -> None:
        service = importlib.import_module("f1dash_tui.ingest.service")
        if self._capture_path is not None:
            service.replay_to_store(
                self._capture_path,
                store,
                speed=self._speed,
                session_uid_salt=salt,
                stop_event=self.stop_event,
                source="demo",
                settings=self._settings.ingest,
            )
            return
        # Each pass of --loop is a different race (seed) and a new session (salt).
        simulated_race_into_store(
            store,
            request=dataclasses.replace(self._race, seed=self._race.seed + salt),
            speed=self._speed,
            session_uid_salt=salt,
            stop_event=self.stop_event,
            ingest_settings=self._settings.ingest,
        )


class _SignalQuit:
    """SIGTERM and SIGHUP (terminal closed, ssh dropped) quit the demo: the throwaway
    store is deleted first, then the app is asked to exit, and a watchdog ends the
    process if the app's shutdown has not finished after ``grace_s``.
    """

    def __init__(
        self,
        app: Any,
        store_dir: Path,
        stop_event: threading.Event,
        *,
        grace_s: float = SIGNAL_EXIT_GRACE_S,
    ) -> None:
        self._app = app
        self._store_dir = store_dir
        self._stop_event = stop_event
        self._grace_s = grace_s
        self.signum: int | None = None

    def handle(self, signum: int, frame: object) -> None:
        """Signal handler (runs in the main thread between bytecodes)."""
        if self.signum is not None:  # a second signal: the watchdog already runs
            return
        self.signum = signum
        logger.info("signal %d: quitting the demo", signum)
        self._stop_event.set()
        # Before anything that could block: nothing else may run after this.
        shutil.rmtree(self._store_dir, ignore_errors=True)
        threading.Thread(
            target=self._watchdog, name="demo-exit-watchdog", daemon=True
        ).start()
        self._app.exit()

    def _watchdog(self) -> None:
        time.sleep(self._grace_s)
        assert self.signum is not None
        logger.warning(
            "the dashboard did not shut down within %.0f s of signal %d: exiting",
            self._grace_s,
            self.signum,
        )
        # The feed may have created files again (a journal) after the first delete.
        shutil.rmtree(self._store_dir, ignore_errors=True)
        os._exit(128 + self.signum)

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Install the handlers for the block, then restore the previous ones."""
        previous = {
            signum: signal.signal(signum, self.handle)
            for signum in (signal.SIGTERM, signal.SIGHUP)
        }
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


def run_demo(
    settings: Settings, *, loop: bool, simulate: bool, speed: float | None
) -> None:
    """Run the demo until the user quits the dashboard."""
    try:
        app_module = importlib.import_module("f1dash_tui.ui.app")
    except ImportError as error:
        raise DemoError(
            f"the dashboard is not available in this build ({error})"
        ) from error
    from f1dash_tui.store import open_store

    label = SOURCE_LABEL_SYNTHETIC if simulate else SOURCE_LABEL_REAL
    # The store directory may already be gone: a signal deletes it before quitting.
    with tempfile.TemporaryDirectory(
        prefix="f1dash-demo-", ignore_cleanup_errors=True
    ) as store_dir:
        settings = demo_settings(settings, Path(store_dir))
        # Create the schema before the dashboard opens its own (reading) connection.
        open_store(settings.store).close()
        with bundled_capture() as capture_path:
            app = app_module.create_app(
                settings,
                store=None,
                source_label=label,
                feed_name="simulation" if simulate else "replay",
            )

            def tell_app(message: str) -> None:
                # The feed can fail before the app has started: wait for it (briefly).
                deadline_s = time.monotonic() + APP_START_WAIT_S
                while not app.is_running and time.monotonic() < deadline_s:
                    time.sleep(0.05)
                try:
                    app.call_from_thread(
                        app.notify, message, severity="error", timeout=30
                    )
                except RuntimeError:  # the app is not running (yet or any more)
                    logger.warning("could not show in the app: %s", message)

            feed = DemoFeed(
                settings,
                capture_path=None if simulate else capture_path,
                loop=loop,
                speed=speed,
                on_error=tell_app,
            )
            signal_quit = _SignalQuit(app, Path(store_dir), feed.stop_event)
            feed.start()
            try:
                with signal_quit.installed():
                    app.run()
            finally:
                feed.stop()
    if signal_quit.signum is not None:
        if feed.error is not None:  # expected: its store was deleted under it
            logger.info("demo feed ended after signal: %s", feed.error)
        raise SystemExit(128 + signal_quit.signum)
    if feed.error is not None:
        if isinstance(feed.error, F1DashError):
            raise feed.error
        raise DemoError(f"the demo feed failed: {feed.error}") from feed.error
