"""What a fresh-eyes tester found in the dashboard, driven with Pilot on real stores."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

from store_fixtures import ingest_capture
from test_ui_app import plain, wait_until
from textual import events
from textual.widgets import DataTable

from f1dash_tui.ingest.service import ingest_datagrams, replay_to_store
from f1dash_tui.settings import IngestSettings, Settings, StoreSettings, UISettings
from f1dash_tui.store import open_store
from f1dash_tui.store.queries import DashboardQueries
from f1dash_tui.store.sqlite import FILE_CHECK_INTERVAL_S
from f1dash_tui.telemetry.pcap import read_pcap
from f1dash_tui.ui.app import F1DashApp, create_app
from f1dash_tui.ui.widgets.session_header import SessionHeader

SIZE_LARGE = (160, 48)


def _settings(path: Path) -> Settings:
    return Settings(
        store=StoreSettings(sqlite_path=path), ui=UISettings(live_poll_interval_s=2.0)
    )


def _burst(app: F1DashApp, *keys: str) -> None:
    """Keys as a terminal delivers them in one read (``tmux send-keys j j Enter``):
    all queued before the app handles the first."""
    driver = app._driver
    assert driver is not None
    for key in keys:
        event = events.Key(key, "\r" if key == "enter" else key)
        event.set_sender(app)
        driver.send_message(event)


async def test_enter_right_after_moves_uses_the_highlighted_lap(
    melbourne_store: Path,
) -> None:
    app = create_app(_settings(melbourne_store))
    async with app.run_test(size=SIZE_LARGE) as pilot:
        await wait_until(pilot, lambda: len(app.live.best_laps) >= 4)
        await pilot.press("3")
        table = app.screen.query_one(DataTable)
        await wait_until(pilot, lambda: table.row_count >= 4)
        assert table.cursor_row == 0
        _burst(app, "j", "j", "enter")
        await wait_until(pilot, lambda: app.live.reference_key is not None)
        assert table.cursor_row == 2
        lap = app.live.best_laps[2]
        assert app.live.reference_key == lap.key
        assert [n.message for n in app._notifications] == [
            f"reference lap: {lap.driver_name} lap {lap.key.lap_number}"
        ]


async def test_a_replaced_store_file_is_followed(
    melbourne_pcap: Path, tmp_path: Path
) -> None:
    """The store is moved aside while the dashboard is open; a new ingest creates
    another file at the same path (empty at first), then fills it."""
    path = tmp_path / "store.sqlite3"
    ingest_capture(path, melbourne_pcap)
    app = create_app(_settings(path))
    async with app.run_test(size=SIZE_LARGE) as pilot:
        await wait_until(pilot, lambda: app.live.session is not None)
        assert app.live.session is not None
        old_uid = app.live.session.session_uid
        live = app.pollers["live"]
        header = app.screen.query_one(SessionHeader)

        path.rename(tmp_path / "moved-aside.sqlite3")
        await wait_until(pilot, lambda: "moved or deleted" in (live.status.error or ""))
        assert (live.status.error or "").endswith(
            f"was moved or deleted; start ingest again to make a new one: {path}"
        )
        await wait_until(
            pilot, lambda: "moved or deleted" in plain(header.render(), 400)
        )
        assert app.live.session.session_uid == old_uid  # the last good data stays

        # A new ingest's file exists a moment before its tables do.
        path.touch()
        await wait_until(pilot, lambda: "still empty" in (live.status.error or ""))
        # Not backed off: retried at the 2 s poll interval, like a missing file.
        assert live.status.next_try_unix_s is not None
        assert live.status.next_try_unix_s - app.clock() <= 2.1

        await asyncio.to_thread(
            ingest_capture, path, melbourne_pcap, session_uid_salt=7
        )
        await wait_until(
            pilot,
            lambda: (
                app.live.session is not None and app.live.session.session_uid != old_uid
            ),
        )
        await wait_until(pilot, lambda: live.status.error is None)
        reader = open_store(StoreSettings(sqlite_path=path), read_only=True)
        try:
            (row,) = reader.fetch("SELECT DISTINCT session_uid FROM sessions")
        finally:
            reader.close()
        assert app.live.session.session_uid == row[0]


def test_a_reader_follows_a_file_put_in_place_of_its_store(
    melbourne_pcap: Path, tmp_path: Path
) -> None:
    """``mv new.sqlite3 store.sqlite3``: the path names another file at once, with no
    moment without one; a store the caller opened (not the app) follows it too."""
    path = tmp_path / "store.sqlite3"
    ingest_capture(path, melbourne_pcap)
    newer = tmp_path / "newer" / "store.sqlite3"
    newer.parent.mkdir()
    ingest_capture(newer, melbourne_pcap, session_uid_salt=7)
    sessions = "SELECT DISTINCT session_uid FROM sessions"
    reader = open_store(StoreSettings(sqlite_path=path), read_only=True)
    try:
        (old_uid,) = reader.fetch(sessions)
        newer.replace(path)
        time.sleep(FILE_CHECK_INTERVAL_S + 0.1)
        (new_uid,) = reader.fetch(sessions)
    finally:
        reader.close()
    assert new_uid != old_uid
    check = open_store(StoreSettings(sqlite_path=path), read_only=True)
    try:
        assert check.fetch(sessions) == [new_uid]
    finally:
        check.close()


def _header_line(app: F1DashApp) -> str:
    """The header's second line (source, data age, polling, ingest)."""
    header = app.screen.query_one(SessionHeader)
    return plain(header.render(), 400).split("\n")[1]


async def test_header_says_ingest_is_not_running_after_its_last_stats_row(
    melbourne_store: Path,
) -> None:
    reader = open_store(StoreSettings(sqlite_path=melbourne_store), read_only=True)
    try:
        ((written_unix_s,),) = reader.fetch("SELECT MAX(unix_s) FROM ingest_stats")
    finally:
        reader.close()
    app = create_app(_settings(melbourne_store))
    app.clock = lambda: written_unix_s + 0.5
    async with app.run_test(size=SIZE_LARGE) as pilot:
        await wait_until(pilot, lambda: "pkt/s" in _header_line(app))
        assert "not running" not in _header_line(app)
        # The same row read 12 minutes after ingest wrote it: ingest has stopped.
        app.clock = lambda: written_unix_s + 12 * 60
        app.pollers["slow"].poll_soon()
        await wait_until(pilot, lambda: "not running" in _header_line(app))
        line = _header_line(app)
        assert line.endswith("ingest not running (last seen 12m00s ago)"), line
        assert "pkt/s" not in line and "lag" not in line


async def test_header_tells_a_running_ingest_from_one_that_stopped(
    melbourne_pcap: Path, tmp_path: Path
) -> None:
    """A replay at the capture's own pace writes a stats row a second; the header
    shows its rate while it runs and says it stopped a few seconds after it does."""
    path = tmp_path / "live.sqlite3"
    writer = open_store(StoreSettings(sqlite_path=path))
    stop = threading.Event()
    feed = threading.Thread(
        target=replay_to_store,
        args=(melbourne_pcap, writer),
        kwargs={
            "speed": 1.0,
            "stop_event": stop,
            "settings": IngestSettings(spool_dir=tmp_path / "spool"),
        },
    )
    settings = Settings(
        store=StoreSettings(sqlite_path=path),
        ui=UISettings(live_poll_interval_s=2.0, slow_poll_interval_s=1.0),
    )
    app = create_app(settings)
    feed.start()
    try:
        async with app.run_test(size=SIZE_LARGE) as pilot:
            await wait_until(pilot, lambda: "pkt/s" in _header_line(app))
            # Running: five slow polls never call it stopped.
            running_until = time.monotonic() + 5.0
            while time.monotonic() < running_until:
                await pilot.pause(0.1)
                assert "not running" not in _header_line(app)
            assert "pkt/s" in _header_line(app)
            stop.set()
            await asyncio.to_thread(feed.join)
            await wait_until(pilot, lambda: "not running" in _header_line(app))
            assert "ingest not running (last seen " in _header_line(app)
    finally:
        stop.set()
        feed.join()
        writer.close()


async def test_events_of_a_replaced_store_with_the_same_session_are_taken_afresh(
    melbourne_pcap: Path, tmp_path: Path
) -> None:
    """The store is replaced by one holding the same session ingested again, but
    only its first part: its events are numbered from 1 and are fewer than those
    shown. The events screen shows the new file's events, not the old file's."""
    path = tmp_path / "store.sqlite3"
    ingest_capture(path, melbourne_pcap)
    datagrams = [(d.timestamp_s, d.payload) for d in read_pcap(melbourne_pcap)]
    shorter = tmp_path / "shorter" / "store.sqlite3"
    shorter.parent.mkdir()
    store = open_store(StoreSettings(sqlite_path=shorter))
    try:
        ingest_datagrams(
            datagrams[: len(datagrams) // 2],
            store,
            source="test",
            is_synthetic=False,
            settings=IngestSettings(spool_dir=shorter.parent / "spool"),
        )
        (uid,) = store.fetch("SELECT DISTINCT session_uid FROM sessions")[0]
        new_events = DashboardQueries(store).events(uid)
    finally:
        store.close()
    assert new_events
    app = create_app(_settings(path))
    async with app.run_test(size=SIZE_LARGE) as pilot:
        await wait_until(pilot, lambda: len(app.live.events) > len(new_events))
        assert app.live.events_session_uid == uid  # the same session in both files
        shorter.replace(path)
        await wait_until(pilot, lambda: len(app.live.events) == len(new_events))
        assert [e.event_id for e in app.live.events] == [e.event_id for e in new_events]
