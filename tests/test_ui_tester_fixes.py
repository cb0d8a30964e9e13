"""What a new user tripped over, driven with Pilot on real stores.

One store holds the real Melbourne capture and, after it, the same capture ingested
again as a simulated session (as `f1dash-tui simulate` marks its sessions): real and
synthetic laps at the same track, the synthetic session the latest.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from test_ui_app import plain, wait_until
from textual.widgets import DataTable
from textual.widgets._footer import FooterKey

from f1dash_tui.ingest.service import ingest_datagrams, replay_to_store
from f1dash_tui.settings import IngestSettings, Settings, StoreSettings, UISettings
from f1dash_tui.store import open_store
from f1dash_tui.telemetry.pcap import read_pcap
from f1dash_tui.ui.app import create_app
from f1dash_tui.ui.screens.reference_picker import ReferencePicker
from f1dash_tui.ui.widgets.session_header import SessionHeader

SIZE_LARGE = (160, 48)
SIZE_SMALL = (80, 24)


@pytest.fixture(scope="module")
def mixed_store(melbourne_pcap: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real capture, then the same capture as a synthetic session."""
    folder = tmp_path_factory.mktemp("mixed-store")
    path = folder / "sim2.sqlite3"
    ingest = IngestSettings(spool_dir=folder / "spool")
    store = open_store(StoreSettings(sqlite_path=path))
    try:
        replay_to_store(melbourne_pcap, store, speed=None, settings=ingest)
        datagrams = [(d.timestamp_s, d.payload) for d in read_pcap(melbourne_pcap)]
        ingest_datagrams(
            datagrams,
            store,
            speed=None,
            source="simulator",
            is_synthetic=True,
            session_uid_salt=7,
            settings=ingest,
        )
    finally:
        store.close()
    return path


def _settings(path: Path) -> Settings:
    ui = UISettings(live_poll_interval_s=2.0)
    return Settings(store=StoreSettings(sqlite_path=path), ui=ui)


def _synthetic_uids(path: Path) -> set[int]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT session_uid, is_synthetic FROM sessions").fetchall()
    uids = {int(uid) for uid, synthetic in rows if synthetic}
    assert uids and len(uids) < len({int(uid) for uid, _ in rows})
    return uids


def _table_rows(table: DataTable[str]) -> list[list[str]]:
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_synthetic_session_and_laps_are_marked(mixed_store: Path) -> None:
    synthetic = _synthetic_uids(mixed_store)
    app = create_app(_settings(mixed_store), source_label="SQLite sim2.sqlite3")
    async with app.run_test(size=SIZE_LARGE) as pilot:
        await wait_until(pilot, lambda: len(app.live.best_laps) >= 4)
        assert app.live.session is not None
        assert app.live.session.session_uid in synthetic
        header = app.screen.query_one(SessionHeader)
        await wait_until(pilot, lambda: "synthetic race" in plain(header.render()))
        laps = app.live.best_laps
        assert {lap.key.session_uid in synthetic for lap in laps} == {True, False}
        assert all(
            lap.is_synthetic == (lap.key.session_uid in synthetic) for lap in laps
        )
        await pilot.press("3")
        table = app.screen.query_one(DataTable)
        await wait_until(pilot, lambda: table.row_count == len(laps))
        for lap, row in zip(laps, _table_rows(table), strict=True):
            assert row[-1] == ("SIM" if lap.key.session_uid in synthetic else "real")
        # The picker carries the same marker.
        await pilot.press("2", "r")
        await wait_until(pilot, lambda: isinstance(app.screen, ReferencePicker))
        picker = app.screen.query_one(DataTable)
        for lap, row in zip(laps, _table_rows(picker), strict=True):
            assert row[-1] == ("SIM" if lap.key.session_uid in synthetic else "real")


async def test_best_laps_and_events_borders_do_not_say_waiting(
    mixed_store: Path,
) -> None:
    app = create_app(_settings(mixed_store))
    async with app.run_test(size=SIZE_LARGE) as pilot:
        await wait_until(pilot, lambda: len(app.live.best_laps) >= 2)
        await wait_until(pilot, lambda: len(app.live.events) >= 1)
        await pilot.press("3")
        table = app.screen.query_one(DataTable)
        await wait_until(pilot, lambda: table.row_count > 0)
        assert table.border_subtitle != "waiting for data"
        assert str(table.border_subtitle).startswith(("data ", "no new data"))
        await pilot.press("4")
        events = app.screen.query_one(DataTable)
        await wait_until(pilot, lambda: events.row_count > 0)
        assert events.border_subtitle != "waiting for data"


async def test_picked_reference_is_announced_by_driver_name(
    mixed_store: Path,
) -> None:
    app = create_app(_settings(mixed_store))
    async with app.run_test(size=SIZE_LARGE) as pilot:
        await wait_until(pilot, lambda: len(app.live.best_laps) >= 2)
        await pilot.press("3", "down", "enter")
        lap = app.live.best_laps[1]
        assert app.live.reference_key == lap.key
        messages = [n.message for n in app._notifications]
        assert messages == [
            f"reference lap: {lap.driver_name} lap {lap.key.lap_number}"
        ]


async def test_interval_keys_leave_one_notification(mixed_store: Path) -> None:
    app = create_app(_settings(mixed_store))
    async with app.run_test(size=SIZE_LARGE) as pilot:
        await pilot.press("plus", "plus", "minus", "minus", "minus", "minus")
        # Steps 0.1, 0.25, 0.5, 1, 2, 5, 10 s from 2 s: up two, down four = 0.5 s.
        assert app.live_interval_s == 0.5
        messages = [n.message for n in app._notifications]
        assert messages == ["live panels poll every 0.5 s"]


@pytest.mark.parametrize(
    ("start_s", "keys", "after_s"),
    [
        # --poll-interval takes 0.05-60 s, the steps 0.1-10 s: + from 60 s once
        # went to 10 s and - from 0.05 s to 0.1 s, the other way from the key.
        (60.0, ("plus",), 60.0),
        (60.0, ("minus",), 10.0),
        (0.05, ("minus",), 0.05),
        (0.05, ("plus",), 0.1),
        (3.0, ("plus",), 5.0),
        (3.0, ("minus",), 2.0),
    ],
)
async def test_interval_keys_never_go_the_other_way(
    mixed_store: Path, start_s: float, keys: tuple[str, ...], after_s: float
) -> None:
    ui = UISettings(live_poll_interval_s=start_s)
    app = create_app(Settings(store=StoreSettings(sqlite_path=mixed_store), ui=ui))
    async with app.run_test(size=SIZE_LARGE) as pilot:
        await pilot.press(*keys)
        assert app.live_interval_s == after_s


def _footer_keys(app: object) -> dict[str, tuple[str, int]]:
    """Each visible footer key: its description and right edge (in columns)."""
    screen = app.screen  # type: ignore[attr-defined]
    return {
        key.key: (key.description, key.region.right)
        for key in screen.query(FooterKey)
        if key.display and key.region.width > 0
    }


@pytest.mark.parametrize("screen_key", ["1", "2", "3", "4"])
async def test_footer_shows_keys_and_quit_at_80_columns(
    mixed_store: Path, screen_key: str
) -> None:
    app = create_app(_settings(mixed_store))
    async with app.run_test(size=SIZE_SMALL) as pilot:
        await pilot.press(screen_key)
        await pilot.pause(0.1)
        keys = _footer_keys(app)
        assert keys.get("question_mark", ("", 0))[0] == "Keys", keys
        assert keys.get("q", ("", 0))[0] == "Quit", keys
        assert keys["question_mark"][1] <= 80 and keys["q"][1] <= 80
        if screen_key == "3":
            assert keys.get("enter", ("", 0))[0] == "Use as reference", keys
            assert keys["enter"][1] <= 80


async def test_stale_data_is_said_and_dims_the_header(mixed_store: Path) -> None:
    app = create_app(_settings(mixed_store))
    async with app.run_test(size=SIZE_SMALL) as pilot:
        await wait_until(pilot, lambda: app.live.session is not None)
        session = app.live.session
        assert session is not None and session.last_packet_unix_s is not None
        written = session.last_packet_unix_s
        app.clock = lambda: written + 74.0
        header = app.screen.query_one(SessionHeader)
        await wait_until(
            pilot, lambda: "no new data for 1m14s" in plain(header.render())
        )
        assert header.has_class("-stale")


async def test_missing_store_is_retried_at_the_poll_interval(
    mixed_store: Path, tmp_path: Path
) -> None:
    path = tmp_path / "later.sqlite3"
    settings = Settings(
        store=StoreSettings(sqlite_path=path),
        ui=UISettings(live_poll_interval_s=0.5),
    )
    app = create_app(settings)
    async with app.run_test(size=SIZE_LARGE) as pilot:
        live = app.pollers["live"]
        await wait_until(pilot, lambda: live.status.failures >= 5)
        assert "no store at" in (live.status.error or "")
        assert live.status.next_try_unix_s is not None
        # Backing off would wait 16 s after the fifth failure; no store yet is
        # retried at the 0.5 s poll interval.
        assert live.status.next_try_unix_s - app.clock() <= 0.6
        shutil.copy(mixed_store, tmp_path / "partial.sqlite3")
        (tmp_path / "partial.sqlite3").replace(path)
        await wait_until(pilot, lambda: live.status.error is None, timeout_s=3.0)
        assert app.live.session is not None
