"""SVG snapshots of the live screen on the real Melbourne capture (80x24, 160x48).

Update them deliberately with ``pytest tests/test_ui_snapshots.py --snapshot-update``
after checking the new SVGs by eye.
"""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot

from f1dash_tui.settings import Settings, StoreSettings
from f1dash_tui.ui.app import F1DashApp, create_app


async def _settle(pilot: Pilot[None]) -> None:
    """Wait until every panel has its data, then freeze polls and the clock."""
    app = pilot.app
    assert isinstance(app, F1DashApp)
    for _ in range(300):
        await app.workers.wait_for_complete()
        await pilot.pause(0.05)
        live = app.live
        if (
            live.tower is not None
            and live.samples is not None
            and live.car_state is not None
            and live.reference is not None
            and live.events
        ):
            break
    else:
        raise AssertionError("the dashboard did not fill in time")
    for poller in app.pollers.values():
        poller.pause()
    await app.workers.wait_for_complete()
    session = app.live.session
    assert session is not None and session.last_packet_unix_s is not None
    frozen_now = session.last_packet_unix_s + 1.5
    app.clock = lambda: frozen_now
    for poller in app.pollers.values():
        poller.status.last_ok_unix_s = frozen_now
    # Ingest's packets/s depends on how fast this machine ingested the capture.
    app.live.health = None
    app._show({"live", "car", "events", "slow", "reference", "status"})
    await pilot.pause()


def _app(path: Path) -> F1DashApp:
    return create_app(
        Settings(store=StoreSettings(sqlite_path=path)),
        source_label="real capture: melbourne-2026-race.pcap",
    )


def test_live_screen_160x48(snap_compare, melbourne_store: Path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(
        _app(melbourne_store), terminal_size=(160, 48), run_before=_settle
    )


def test_live_screen_80x24(snap_compare, melbourne_store: Path) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(
        _app(melbourne_store), terminal_size=(80, 24), run_before=_settle
    )
