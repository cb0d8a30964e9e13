"""What a fresh-eyes tester found in the dashboard, driven with Pilot on real stores."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_ui_app import wait_until
from textual import events
from textual.widgets import DataTable

from f1dash_tui.ingest.service import replay_to_store
from f1dash_tui.settings import IngestSettings, Settings, StoreSettings, UISettings
from f1dash_tui.store import open_store
from f1dash_tui.ui.app import F1DashApp, create_app

SIZE_LARGE = (160, 48)


@pytest.fixture(scope="module")
def race_store(melbourne_pcap: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real Melbourne capture ingested at full speed."""
    folder = tmp_path_factory.mktemp("fresh-eyes-store")
    path = folder / "race.sqlite3"
    store = open_store(StoreSettings(sqlite_path=path))
    try:
        replay_to_store(
            melbourne_pcap,
            store,
            speed=None,
            settings=IngestSettings(spool_dir=folder / "spool"),
        )
    finally:
        store.close()
    return path


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
    race_store: Path,
) -> None:
    app = create_app(_settings(race_store))
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
