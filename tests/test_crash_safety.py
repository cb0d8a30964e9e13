"""Crashes and outages.

SIGKILL the real ingest process twice while a simulated 60 Hz, 22-car race arrives
over UDP: the SQLite store stays whole, no batch is split, what is stored is a
prefix of what was sent, and each restart continues the same session (the bounded CI
version of benchmarks/crash_safety.py, whose 10 kills print the rows lost per kill).

Kill the HeavyDB server while the dashboard is open: it shows the error and the
data's age, answers keys, and is live again at the first retry after the server
returns.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

from heavydb_server import HeavyDBServerProcess
from textual.app import App
from textual.pilot import Pilot

from f1dash_tui.ingest.service import ingest_datagrams
from f1dash_tui.settings import IngestSettings, Settings, UISettings
from f1dash_tui.store import open_store
from f1dash_tui.telemetry.pcap import read_pcap
from f1dash_tui.ui.app import create_app
from f1dash_tui.ui.widgets.timing_tower import TimingTower

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "crash_safety.py"


def _crash_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("crash_safety", BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("crash_safety", module)
    spec.loader.exec_module(module)
    return module


crash_safety = _crash_module()


def test_two_sigkills_leave_a_whole_store_and_one_session(tmp_path: Path) -> None:
    result = crash_safety.run(2, seed=7, folder=tmp_path, min_run_s=1.0, max_run_s=2.5)
    assert len(result.kills) == 2
    for kill in result.kills:
        assert kill.integrity == "ok"
        assert kill.split_frames == 0
        assert kill.prefix_holes == 0
        # ~220 datagrams/s were sent for at least 1 s (a loaded box sends late).
        assert kill.sent_datagrams >= 100
    # How much a kill loses depends on how far the writer is behind (a timing
    # figure): benchmarks/crash_safety.py prints it per kill.
    assert len(result.session_uids) == 1
    # Stored frames: everything sent except what each kill lost.
    lost = sum(kill.lost_frames["car_telemetry"] for kill in result.kills)
    assert result.final_frames_stored == result.final_frames_sent - lost


# --- the HeavyDB server stops while the dashboard is open ----------------------------

OUTAGE_S = 4.0
"""Long enough for three failed polls (back-off 1 s, 2 s, then a 4 s step)."""


def _screen_text(app: App[None]) -> str:
    # The compositor's strips are what Textual writes to the terminal.
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text for strip in strips)


async def _settle(
    pilot: Pilot[None], done: Callable[[], bool], timeout_s: float
) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        await pilot.pause(0.05)
        if done():
            return True
    return done()


async def test_dashboard_survives_a_heavydb_outage(
    tmp_path: Path, melbourne_pcap: Path
) -> None:
    """Server killed while the dashboard is open: the panels show the error, its
    retry and the data's age; keys still work; the first retry after the server is
    back succeeds (live again within one back-off step)."""
    payloads = [(d.timestamp_s, d.payload) for d in read_pcap(melbourne_pcap)]
    server = HeavyDBServerProcess(tmp_path / "heavy.sqlite3", password="outage")
    server.start()
    try:
        writer = open_store(server.store_settings())
        try:
            ingest_datagrams(
                payloads[:1500],
                writer,
                source="replay",
                settings=IngestSettings(spool_dir=tmp_path / "spool"),
            )
        finally:
            writer.close()
        app = create_app(Settings(store=server.store_settings(), ui=UISettings()))
        async with app.run_test(size=(160, 48)) as pilot:
            live = app.pollers["live"]
            assert await _settle(
                pilot, lambda: live.status.last_ok_unix_s is not None, 30
            )
            assert await _settle(pilot, lambda: "LEADER" in _screen_text(app), 15)

            server.kill()
            killed_at = time.monotonic()
            assert await _settle(pilot, lambda: live.status.error is not None, 30)
            assert await _settle(pilot, lambda: "retry in" in _screen_text(app), 5)
            text = _screen_text(app)
            assert "unreachable" in text, text  # the error, on the panel borders
            # The header keeps the data's age beside the error.
            assert re.search(r"data \S+ old", text), text
            assert "LEADER" in text, "the last good tower stays on screen"
            assert app.is_running

            # Keys work while the store is down: the cursor moves, help opens and
            # closes, and the cursor moves on afterwards.
            tower = app.screen.query_one(TimingTower)
            await pilot.press("down")
            assert await _settle(pilot, lambda: tower.cursor_row == 1, 5)
            await pilot.press("question_mark")
            assert await _settle(pilot, lambda: "Keys" in _screen_text(app), 5)
            await pilot.press("escape")
            assert await _settle(pilot, lambda: "Timing" in _screen_text(app), 5)
            await pilot.press("down")
            assert await _settle(pilot, lambda: tower.cursor_row == 2, 5)

            remaining_s = OUTAGE_S - (time.monotonic() - killed_at)
            await pilot.pause(max(0.0, remaining_s))
            assert live.status.error is not None
            server.start()  # same port and database file
            failures_at_return = live.status.failures
            next_try_s = (live.status.next_try_unix_s or time.time()) - time.time()
            assert next_try_s <= live.max_backoff_s
            # Live again at the next try: no further failure.
            assert await _settle(pilot, lambda: live.status.error is None, 60)
            assert live.status.failures == 0
            assert failures_at_return >= 2, "the outage spanned several retries"
            # Every other poller (events, best laps) is back at its next try too.
            pollers = list(app.pollers.values())
            assert await _settle(
                pilot, lambda: all(p.status.error is None for p in pollers), 60
            )
            assert await _settle(pilot, lambda: "retry in" not in _screen_text(app), 5)
            assert "LEADER" in _screen_text(app)
    finally:
        server.stop()
