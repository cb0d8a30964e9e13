"""The dashboard driven with Pilot on a store filled from the real Melbourne capture.

Expected values come from decoding the capture directly (positions, names, speeds),
not from the dashboard's queries, so a wrong query or a wrong widget fails here.
"""

from __future__ import annotations

import asyncio
import io
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console
from textual.pilot import Pilot

from f1dash_tui.ingest.service import ingest_datagrams
from f1dash_tui.settings import IngestSettings, Settings, StoreSettings, UISettings
from f1dash_tui.store import open_store
from f1dash_tui.store.queries import DashboardQueries
from f1dash_tui.telemetry.decode import Decoder
from f1dash_tui.telemetry.pcap import read_pcap
from f1dash_tui.ui.app import F1DashApp, create_app, glyphs_for_terminal
from f1dash_tui.ui.screens.compare import CompareScreen
from f1dash_tui.ui.screens.reference_picker import ReferencePicker
from f1dash_tui.ui.widgets.car_panel import CarPanel
from f1dash_tui.ui.widgets.compare_view import ComparePlot
from f1dash_tui.ui.widgets.line_view import LineView
from f1dash_tui.ui.widgets.session_header import SessionHeader
from f1dash_tui.ui.widgets.timing_tower import TimingTower

SIZE_LARGE = (160, 48)


@pytest.fixture(scope="module")
def capture_truth(melbourne_pcap: Path) -> dict[str, object]:
    """Order, names and last speeds decoded straight from the capture."""
    payloads = [d.payload for d in read_pcap(melbourne_pcap)]
    tables = Decoder().decode(payloads).tables
    laps = tables["lap_data"]
    last = laps["overall_frame"] == laps["overall_frame"].max()
    cars = laps["car_index"][last]
    positions = laps["car_position"][last]
    active = positions > 0
    by_position = cars[active][np.argsort(positions[active])]
    parts = tables["participants"]
    newest = parts["overall_frame"] == parts["overall_frame"].max()
    names = dict(
        zip(
            parts["car_index"][newest].tolist(),
            parts["name"][newest].tolist(),
            strict=True,
        )
    )
    telemetry = tables["car_telemetry"]
    last_speed = {}
    for car in by_position.tolist():
        mine = telemetry["car_index"] == car
        frames = telemetry["overall_frame"][mine]
        last_speed[car] = float(telemetry["speed_kph"][mine][np.argmax(frames)])
    return {
        "order": [int(c) for c in by_position],
        "names": names,
        "speed": last_speed,
    }


def _settings(path: Path) -> Settings:
    # Polls every 2 s: between polls the app is idle, so Pilot key presses (which
    # wait for an idle process, up to 1 s each) do not stall the tests.
    ui = UISettings(live_poll_interval_s=2.0)
    return Settings(store=StoreSettings(sqlite_path=path), ui=ui)


def plain(renderable: object, width: int = 160) -> str:
    """A Rich renderable as plain text."""
    console = Console(width=width, file=io.StringIO(), color_system=None)
    with console.capture() as capture:
        console.print(renderable)
    return capture.get()


async def wait_until(
    pilot: Pilot[None], condition: Callable[[], bool], timeout_s: float = 15.0
) -> None:
    """Let workers finish and messages settle until ``condition`` holds."""
    app = pilot.app
    steps = int(timeout_s / 0.05)
    for _ in range(steps):
        await app.workers.wait_for_complete()
        await pilot.pause(0.05)
        if condition():
            return
    raise AssertionError("condition not met in time")


def _screen_lines(app: F1DashApp) -> list[str]:
    """The screen as the terminal would be sent it, one string a line."""
    update = app.screen._compositor.render_full_update()
    return ["".join(segment.text for segment in strip) for strip in update.strips]


def _tower_names(app: F1DashApp) -> list[str]:
    table = app.screen.query_one(TimingTower)
    return [table.row_text(i)[2].lstrip("▌") for i in range(table.row_count)]


async def test_tower_lists_22_drivers_in_position_order(
    melbourne_store: Path, capture_truth: dict[str, object]
) -> None:
    app = create_app(_settings(melbourne_store), source_label="real capture: test")
    async with app.run_test(size=SIZE_LARGE) as pilot:
        await wait_until(pilot, lambda: app.screen.query_one(TimingTower).row_count)
        order = capture_truth["order"]
        names = capture_truth["names"]
        assert isinstance(order, list) and isinstance(names, dict)
        assert len(order) == 22
        assert _tower_names(app) == [names[car] for car in order]
        positions = [
            app.screen.query_one(TimingTower).row_text(i)[0].strip("▶ ")
            for i in range(22)
        ]
        assert positions == [str(p) for p in range(1, 23)]


async def test_home_end_and_page_keys_move_through_the_tower(
    melbourne_store: Path,
) -> None:
    # At 80x24 the tower shows 9 of the 22 cars; End and the page keys did nothing.
    app = create_app(_settings(melbourne_store))
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.screen.query_one(TimingTower).row_count)
        tower = app.screen.query_one(TimingTower)
        shown = tower.content_size.height - 1  # below its title line
        assert 0 < shown < 22
        await pilot.press("end")
        assert tower.cursor_row == 21
        last_line = _screen_lines(app)[tower.content_region.bottom - 1]
        assert tower.row_text(21)[2].lstrip("▌") in last_line
        await pilot.press("home")
        assert tower.cursor_row == 0
        await pilot.press("pagedown")
        assert tower.cursor_row == shown
        await pilot.press("pagedown", "pagedown", "pagedown")
        assert tower.cursor_row == 21
        await pilot.press("pageup")
        assert tower.cursor_row == 21 - shown


async def test_down_three_times_and_enter_selects_fourth_car(
    melbourne_store: Path, capture_truth: dict[str, object]
) -> None:
    app = create_app(_settings(melbourne_store))
    async with app.run_test(size=SIZE_LARGE) as pilot:
        await wait_until(pilot, lambda: app.screen.query_one(TimingTower).row_count)
        for _ in range(3):
            await pilot.press("down")
        await pilot.press("enter")
        order = capture_truth["order"]
        names = capture_truth["names"]
        speeds = capture_truth["speed"]
        assert isinstance(order, list) and isinstance(names, dict)
        assert isinstance(speeds, dict)
        fourth = order[3]
        assert app.live.selected_car == fourth
        await wait_until(
            pilot,
            lambda: (
                app.live.car_state is not None
                and app.live.car_state.car_index == fourth
            ),
        )
        panel_text = plain(app.screen.query_one(CarPanel).content)
        assert names[fourth] in panel_text
        assert f"Speed {speeds[fourth]:.0f} km/h" in panel_text
        # The tower marks the selected car with a symbol, not only a colour.
        row = app.screen.query_one(TimingTower).row_text(3)
        assert row[0].startswith("▶")


async def test_j_k_move_like_down_up(melbourne_store: Path) -> None:
    app = create_app(_settings(melbourne_store))
    async with app.run_test(size=SIZE_LARGE) as pilot:
        tower = app.screen.query_one(TimingTower)
        await wait_until(pilot, lambda: tower.row_count)
        await pilot.press("j", "j", "k")
        assert tower.cursor_row == 1


async def test_m_cycles_the_compare_metric(melbourne_store: Path) -> None:
    app = create_app(_settings(melbourne_store))
    async with app.run_test(size=SIZE_LARGE) as pilot:
        await wait_until(pilot, lambda: app.live.tower is not None)
        await pilot.press("2")
        await wait_until(pilot, lambda: isinstance(app.screen, CompareScreen))
        await wait_until(pilot, lambda: app.live.samples is not None)
        plot = app.screen.query_one(ComparePlot)
        assert "Speed" in plain(plot.content)
        await pilot.press("m")
        assert app.metric.label == "Throttle"
        assert "Throttle" in plain(plot.content)
        await pilot.press("m")
        assert "Brake" in plain(plot.content)


async def test_picker_sets_the_reference_lap(melbourne_store: Path) -> None:
    app = create_app(_settings(melbourne_store))
    async with app.run_test(size=SIZE_LARGE) as pilot:
        await wait_until(pilot, lambda: len(app.live.best_laps) >= 2)
        # Default reference: the fastest lap at the track.
        await wait_until(pilot, lambda: app.live.reference is not None)
        assert app.live.reference is not None
        fastest = min(app.live.best_laps, key=lambda lap: lap.lap_time_s)
        assert app.live.reference.lap.key == fastest.key
        await pilot.press("2")
        await pilot.press("r")
        await wait_until(pilot, lambda: isinstance(app.screen, ReferencePicker))
        await pilot.press("down", "enter")
        second = app.live.best_laps[1]
        assert app.live.reference_key == second.key
        await wait_until(
            pilot,
            lambda: (
                app.live.reference is not None
                and app.live.reference.lap.key == second.key
            ),
        )
        assert isinstance(app.screen, CompareScreen)
        info = plain(app.screen.info_text())
        assert f"reference (picked): {second.driver_name}" in info
        # The panel folds long lines (the delta's reason) instead of cutting them:
        # every word of the text is on screen, at 160 and at 80 columns.
        for size in (SIZE_LARGE, (80, 24)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
            await pilot.pause()
            panel = app.screen.query_one("#compare-info", LineView)
            shown = " ".join(line.plain for line in panel.lines).split()
            assert shown == info.split(), size
            assert all(
                line.cell_len <= panel.content_size.width for line in panel.lines
            )


async def test_store_failure_shows_error_keeps_data_and_recovers(
    melbourne_store: Path, tmp_path: Path
) -> None:
    path = tmp_path / "copy.sqlite3"
    shutil.copy(melbourne_store, path)
    app = create_app(_settings(path))
    async with app.run_test(size=SIZE_LARGE) as pilot:
        tower = app.screen.query_one(TimingTower)
        await wait_until(pilot, lambda: tower.row_count == 22)
        names_before = _tower_names(app)
        for poller in app.pollers.values():
            poller.max_backoff_s = 1.0  # keep the test short; the cap is 30 s
        # A real failure: the file (and its shared-memory index) overwritten.
        original = path.read_bytes()
        path.write_bytes(b"\0" * len(original))
        shm = path.with_name(path.name + "-shm")
        if shm.exists():
            shm.write_bytes(b"\0" * len(shm.read_bytes()))
        await wait_until(pilot, lambda: app.pollers["live"].status.error is not None)
        assert app.is_running
        error = app.pollers["live"].status.error or ""
        assert "not a database" in error or "not an f1dash-tui" in error
        assert tower.has_class("-error") and tower.has_class("-stale")
        assert "retry in" in str(tower.border_subtitle)
        # Last good data stays on screen.
        assert _tower_names(app) == names_before
        # Back: the next try reconnects and the error clears.
        path.write_bytes(original)
        await wait_until(pilot, lambda: app.pollers["live"].status.error is None)
        assert not tower.has_class("-error")
        assert _tower_names(app) == names_before
        assert app.is_running


async def test_help_lists_every_key(melbourne_store: Path) -> None:
    app = create_app(_settings(melbourne_store))
    async with app.run_test(size=SIZE_LARGE) as pilot:
        await pilot.press("question_mark")
        await pilot.pause()
        text = plain(app.screen.query_one("#help-keys").content)
        lines = text.splitlines()

        def documented(key: str, what: str) -> bool:
            return any(key in line and what in line for line in lines)

        for key, what in [
            ("1", "Live"),
            ("2", "Compare"),
            ("3", "Best laps"),
            ("4", "Events"),
            ("Tab", "Next screen"),
            ("p", "Pause/resume"),
            ("+ =", "Longer poll interval"),
            ("-", "Shorter poll interval"),
            ("?", "Keys"),
            ("q", "Quit"),
            ("↓ j", "Down"),
            ("↑ k", "Up"),
            ("Enter", "Select car"),
            ("m", "Metric"),
            ("r", "Reference lap"),
        ]:
            assert documented(key, what), (key, what)
        # The command palette offers every dashboard action too.
        titles = {command.title for command in app.get_system_commands(app.screen)}
        assert {
            "Screen: Live",
            "Screen: Lap compare",
            "Screen: Best laps",
            "Screen: Events",
            "Next screen",
            "Pause / resume polling",
            "Longer poll interval",
            "Shorter poll interval",
            "Cycle metric",
            "Pick reference lap",
            "Select car under cursor",
            "Keys",
            "Quit",
        } <= titles


async def test_pause_and_interval_keys(melbourne_store: Path) -> None:
    app = create_app(_settings(melbourne_store))
    async with app.run_test(size=SIZE_LARGE) as pilot:
        await wait_until(pilot, lambda: app.live.tower is not None)
        await pilot.press("p")
        assert app.paused
        polls = app.pollers["live"].polls
        await pilot.pause(1.2)
        await app.workers.wait_for_complete()
        assert app.pollers["live"].polls <= polls + 1
        await pilot.press("p")
        assert not app.paused
        # Steps: 0.1, 0.25, 0.5, 1, 2, 5, 10 s; these tests start at 2 s.
        await pilot.press("plus")
        assert app.live_interval_s == 5.0
        await pilot.press("minus", "minus")
        assert app.live_interval_s == 1.0


def test_glyphs_follow_the_terminal() -> None:
    # The Linux console has half blocks but no braille; non-UTF-8 gets ASCII.
    assert glyphs_for_terminal("xterm-256color", "utf-8") == "braille"
    assert glyphs_for_terminal("tmux-256color", "UTF-8") == "braille"
    assert glyphs_for_terminal("linux", "utf-8") == "block"
    assert glyphs_for_terminal("xterm", "ANSI_X3.4-1968") == "ascii"
    assert glyphs_for_terminal("dumb", "utf-8") == "ascii"


def test_no_color_is_honoured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app = create_app(_settings(tmp_path / "absent.sqlite3"))
    assert app.no_color


async def test_traces_grow_incrementally_while_the_store_is_fed(
    melbourne_pcap: Path, tmp_path: Path
) -> None:
    datagrams = [(d.timestamp_s, d.payload) for d in read_pcap(melbourne_pcap)]
    half = len(datagrams) // 2
    path = tmp_path / "fed.sqlite3"
    ingest = IngestSettings(spool_dir=tmp_path / "spool")
    writer = open_store(StoreSettings(sqlite_path=path))
    try:
        ingest_datagrams(datagrams[:half], writer, speed=None, settings=ingest)
        app = create_app(_settings(path))
        async with app.run_test(size=SIZE_LARGE) as pilot:
            await wait_until(pilot, lambda: app.live.samples is not None)
            assert app.live.samples is not None
            first_last_frame = app.live.samples.last_frame
            assert first_last_frame is not None
            await asyncio.to_thread(
                ingest_datagrams, datagrams[half:], writer, speed=None, settings=ingest
            )
            reader = DashboardQueries(writer)
            session = reader.latest_session()
            assert session is not None
            tower = reader.timing_tower(session.session_uid)
            assert tower is not None
            leader, lap = tower.rows[0].car_index, tower.rows[0].lap_number
            whole = reader.car_samples(session.session_uid, leader, lap)
            # The app catches up by fetching only newer frames, poll after poll.
            await wait_until(
                pilot,
                lambda: (
                    app.live.samples is not None
                    and app.live.samples.car_index == leader
                    and app.live.samples.lap_number == lap
                    and app.live.samples.last_frame == whole.last_frame
                ),
            )
            held = app.live.samples
            assert held is not None
            assert held.last_frame is not None and held.last_frame > first_last_frame
            # What was pieced together equals one fetch of the whole lap.
            assert held.frame.tolist() == whole.frame.tolist()
            assert np.array_equal(held.speed_kph, whole.speed_kph, equal_nan=True)
            # Panels repaint only the rows that changed: what the screen holds
            # (a full composite of every widget's cached lines) is the newest data.
            await pilot.pause()
            screen = _screen_lines(app)
            tower_widget = app.screen.query_one(TimingTower)
            for index in range(tower_widget.row_count):
                cells = [cell for cell in tower_widget.row_text(index) if cell]
                name, gap = cells[2], cells[3]
                assert any(name in line and gap in line for line in screen), name
            state = app.live.car_state
            assert state is not None and state.speed_kph is not None
            assert any(f"Speed {state.speed_kph:.0f} km/h" in line for line in screen)
    finally:
        writer.close()


async def test_app_starts_without_a_store_and_picks_it_up(
    melbourne_store: Path, tmp_path: Path
) -> None:
    path = tmp_path / "later.sqlite3"
    app = create_app(_settings(path))
    async with app.run_test(size=SIZE_LARGE) as pilot:
        for poller in app.pollers.values():
            poller.max_backoff_s = 1.0
        await wait_until(pilot, lambda: app.pollers["live"].status.error is not None)
        error = app.pollers["live"].status.error or ""
        assert "no store at" in error, error
        assert app.is_running
        # The store appears whole (copy, then rename), as ingest's first write would.
        partial = tmp_path / "partial.sqlite3"
        shutil.copy(melbourne_store, partial)
        partial.replace(path)
        tower = app.screen.query_one(TimingTower)
        await wait_until(pilot, lambda: tower.row_count == 22)
        assert app.pollers["live"].status.error is None


async def test_header_first_line_fits_80_columns_on_every_screen(
    melbourne_store: Path,
) -> None:
    app = create_app(_settings(melbourne_store), source_label="real capture: test")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: app.live.tower is not None)
        for key in ("1", "2", "3", "4"):
            await pilot.press(key)
            await pilot.pause()
            header = app.screen.query_one(SessionHeader)
            first = plain(header.render(), width=200).split("\n")[0].rstrip()
            assert len(first) <= header.content_size.width, (key, first)
            # trackId 0, session type 15 (race) and the leader's lap of 5.
            assert first.startswith("Melbourne  Race")
            assert "lap 2/5" in first and "…" not in first
