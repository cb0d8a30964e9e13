"""A new user's list of dashboard problems, each driven with Pilot on a real store.

The store is filled from the bundled Melbourne capture (the ``melbourne_store``
fixture of test_ui_app), so every value shown comes from the real pipeline.
"""

from __future__ import annotations

import io
import re
import sqlite3
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
import test_render_traces
from rich.console import Console
from store_fixtures import tower_row
from test_ui_app import plain, wait_until
from textual.command import CommandPalette
from textual.widgets import DataTable
from textual.widgets._footer import FooterKey

from f1dash_tui.ingest.service import ingest_datagrams, replay_to_store
from f1dash_tui.render import traces
from f1dash_tui.settings import IngestSettings, Settings, StoreSettings, UISettings
from f1dash_tui.store import open_store
from f1dash_tui.telemetry.pcap import read_pcap
from f1dash_tui.telemetry.simulator import SimulationOptions, simulate
from f1dash_tui.ui import labels
from f1dash_tui.ui.app import create_app
from f1dash_tui.ui.screens.help import HelpScreen
from f1dash_tui.ui.widgets.car_panel import CarPanel
from f1dash_tui.ui.widgets.session_header import SessionHeader
from f1dash_tui.ui.widgets.timing_tower import (
    COLUMNS,
    TimingTower,
    _title_line,
    tower_cells,
    tower_line,
    visible_columns,
)
from f1dash_tui.ui.widgets.track_map_view import TrackMapView

SIZE_LARGE = (160, 48)


def _settings(path: Path) -> Settings:
    return Settings(store=StoreSettings(sqlite_path=path))


async def test_ctrl_c_quits_and_ctrl_q_still_does(melbourne_store: Path) -> None:
    for key in ("ctrl+c", "ctrl+q"):
        app = create_app(_settings(melbourne_store))
        async with app.run_test(size=SIZE_LARGE) as pilot:
            await pilot.press(key)
            await pilot.pause()
            assert app.return_code == 0, key
            assert not app._notifications, key  # no "press ctrl+q to quit" notice


async def _help_screen_lines(store: Path) -> list[str]:
    """The lines of the help screen (``?``) of a dashboard on ``store``."""
    app = create_app(_settings(store))
    async with app.run_test(size=SIZE_LARGE) as pilot:
        await pilot.press("question_mark")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))
        return "\n".join(
            plain(static.content, 200) for static in app.screen.query("Static")
        ).splitlines()


async def test_help_lists_ctrl_c_and_explains_lap_time_letters(
    melbourne_store: Path,
) -> None:
    lines = await _help_screen_lines(melbourne_store)
    shown = "\n".join(lines)
    assert any(line.split()[1:] == ["Ctrl+C", "Ctrl+Q", "Quit"] for line in lines), (
        shown
    )
    # The tower's letters after lap times (formatting.lap_time_state) are
    # explained: P fastest of anyone, B the driver's own best.
    assert "fastest lap of anyone" in shown
    assert "own best lap" in shown
    assert any(line.split()[:1] == ["P"] and "anyone" in line for line in lines)
    assert any(line.split()[:1] == ["B"] and "own best" in line for line in lines)


def _simulated_store(folder: Path, **options: int) -> Path:
    """A store filled as `f1dash-tui simulate` fills it (the whole race, at once)."""
    path = folder / "simulated.sqlite3"
    store = open_store(StoreSettings(sqlite_path=path))
    try:
        ingest_datagrams(
            simulate(SimulationOptions(**options)),
            store,
            speed=None,
            is_synthetic=True,
            settings=IngestSettings(spool_dir=folder / "spool"),
        )
    finally:
        store.close()
    return path


@pytest.mark.parametrize("packet_format", [2025, 2026])
async def test_header_counts_a_finished_one_lap_race_in_laps(
    tmp_path: Path, packet_format: int
) -> None:
    # A 1-lap race every car has finished: the header says so in laps, never as the
    # session clock ("1:58:27 left" in the 2025 format's Session packet).
    path = _simulated_store(tmp_path, laps=1, cars=5, packet_format=packet_format)
    app = create_app(_settings(path))
    async with app.run_test(size=SIZE_LARGE) as pilot:
        header = app.screen.query_one(SessionHeader)
        await wait_until(pilot, lambda: "Race" in plain(header.render()))
        await wait_until(pilot, lambda: app.live.tower is not None)
        text = plain(header.render())
        assert "lap 1/1 finished" in text, text
        assert " left" not in text, text


async def test_a_poll_asked_for_while_running_runs_again_at_once(
    melbourne_store: Path,
) -> None:
    # At start-up the slow poll (best laps) runs before the session's track is
    # known; the live poll then asks for it again. That request must not be dropped,
    # or lap compare says "no completed valid lap" for a whole 5 s slow interval
    # while the Best laps screen lists laps a moment later.
    app = create_app(_settings(melbourne_store))
    async with app.run_test(size=SIZE_LARGE) as pilot:
        await wait_until(pilot, lambda: bool(app.live.best_laps))
        poller = app.pollers["slow"]
        assert app.settings.ui.slow_poll_interval_s >= 1.0
        poller.running = True  # as if a poll were in flight
        poller.poll_soon()
        poller.finished(ok=True)
        assert poller.status.next_try_unix_s is not None
        assert poller.status.next_try_unix_s - app.clock() < 0.1
        await pilot.press("2")
        await wait_until(pilot, lambda: app.live.reference is not None)
        info = plain(app.screen.info_text())
        best = app.live.best_laps[0]
        assert f"reference (fastest): {best.driver_name} lap {best.key.lap_number}" in (
            info
        )


async def test_compare_says_why_the_demo_reference_gives_no_delta(
    melbourne_store: Path,
) -> None:
    # The bundled 21 s capture: every completed lap was recorded only over its
    # last few hundred metres, so no delta can be had; the panel says why and how
    # to pick another lap.
    app = create_app(_settings(melbourne_store))
    async with app.run_test(size=SIZE_LARGE) as pilot:
        await pilot.press("2")
        await wait_until(
            pilot,
            lambda: app.live.reference is not None and app.live.samples is not None,
        )
        reference = app.live.reference
        assert reference is not None
        first_m = float(reference.samples.lap_distance_m.min())
        assert first_m > 1000  # recorded from mid-lap
        info = " ".join(plain(app.screen.info_text()).split())
        assert "reference recorded only over" in info, info
        assert f"{first_m:,.0f}-" in info, info
        assert "r: pick another reference lap" in info
        # Each line fits the 60-column side panel (56 inside border and padding),
        # so nothing has to fold and outgrow the panel.
        lines = plain(app.screen.info_text()).splitlines()
        assert all(len(line.rstrip()) <= 56 for line in lines), lines


async def test_imperial_units_reach_events_and_fuel(melbourne_store: Path) -> None:
    # F1DASH_UI_UNITS=imperial: the speed-trap events the capture holds are shown
    # in mph (km/h / 1.609344) and the car panel's fuel in lb, nothing in km/h or kg.
    with sqlite3.connect(melbourne_store) as db:
        trap_kph = [
            row[0]
            for row in db.execute(
                "SELECT speed_kph FROM event WHERE event_code = 'SPTP' ORDER BY rowid"
            )
        ]
    assert trap_kph  # the capture has speed traps
    settings = Settings(
        store=StoreSettings(sqlite_path=melbourne_store),
        ui=UISettings(units="imperial"),
    )
    app = create_app(settings)
    async with app.run_test(size=SIZE_LARGE) as pilot:
        await wait_until(
            pilot,
            lambda: (
                app.live.car_state is not None
                and app.live.car_state.fuel_in_tank_kg is not None
            ),
        )
        panel = " ".join(line.plain for line in app.screen.query_one(CarPanel).lines)
        fuel_lb = app.live.car_state.fuel_in_tank_kg * 2.2046226218
        assert f"{fuel_lb:.1f} lb" in panel, panel
        assert " kg" not in panel
        await pilot.press("4")
        table = app.screen.query_one(DataTable)
        await wait_until(pilot, lambda: table.row_count > 0)
        cells = [
            str(cell)
            for row in range(table.row_count)
            for cell in table.get_row_at(row)
        ]
        assert not any("km/h" in cell for cell in cells)
        shown_mph = [
            float(cell[: -len(" mph")]) for cell in cells if cell.endswith(" mph")
        ]
        assert len(shown_mph) == len(trap_kph)
        # The store's detail text holds km/h to 0.1 (0.03 mph): within 0.1 mph.
        for mph, kph in zip(shown_mph, trap_kph, strict=True):
            assert abs(mph - kph / 1.609344) < 0.1, (mph, kph)


def _screen_text(app: object) -> str:
    """What the terminal shows, as plain text."""
    width = app.size.width  # type: ignore[attr-defined]
    update = app.screen._compositor.render_update(full=True)  # type: ignore[attr-defined]
    console = Console(width=width, file=io.StringIO(), color_system=None)
    with console.capture() as capture:
        console.print(update)
    return capture.get()


@pytest.mark.parametrize("size", [(80, 24), (60, 20)])
async def test_footer_keeps_keys_and_quit_whole_on_every_screen(
    melbourne_store: Path, size: tuple[int, int]
) -> None:
    app = create_app(_settings(melbourne_store))
    async with app.run_test(size=size) as pilot:
        for screen_key in "1234":
            await pilot.press(screen_key)
            await pilot.pause(0.1)
            keys = sorted(
                (key.region.x, key.region.right, key.key)
                for key in app.screen.query(FooterKey)
                if key.display and key.region.width > 0
            )
            shown = {key for _, _, key in keys}
            assert {"question_mark", "q"} <= shown, (size, screen_key, keys)
            assert all(right <= size[0] for _, right, _ in keys), keys
            # No key drawn over another (the palette hint covered "q Quit").
            for (_, right, _), (left, _, _) in pairwise(keys):
                assert right <= left, (size, screen_key, keys)
            footer = _screen_text(app).splitlines()[size[1] - 1]
            assert "? Keys" in footer and "q Quit" in footer, footer


async def test_best_laps_fit_80_columns_with_every_sector(
    melbourne_store: Path,
) -> None:
    with sqlite3.connect(melbourne_store) as db:
        sector3_s = [
            row[0]
            for row in db.execute(
                "SELECT sector3_s FROM laps WHERE is_valid = 1 AND lap_time_s > 0 "
                "ORDER BY lap_time_s LIMIT 5"
            )
        ]
    assert sector3_s
    app = create_app(_settings(melbourne_store))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        table = app.screen.query_one(DataTable)
        await wait_until(pilot, lambda: table.row_count > 0)
        await pilot.pause(0.1)
        text = _screen_text(app)
        for seconds in sector3_s:
            assert f"{seconds:06.3f}"[-6:] in text, (seconds, text)


async def test_empty_best_laps_say_no_laps_yet(
    melbourne_pcap: Path, tmp_path: Path
) -> None:
    # The capture's first 600 datagrams: a session, no lap completed yet.
    datagrams = [(d.timestamp_s, d.payload) for d in read_pcap(melbourne_pcap)]
    path = tmp_path / "no-laps.sqlite3"
    store = open_store(StoreSettings(sqlite_path=path))
    try:
        ingest_datagrams(
            datagrams[:600],
            store,
            speed=None,
            source="replay",
            is_synthetic=False,
            settings=IngestSettings(spool_dir=tmp_path / "spool"),
        )
    finally:
        store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT COUNT(*) FROM laps").fetchone() == (0,)
    app = create_app(_settings(path))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("3")
        await wait_until(
            pilot, lambda: app.pollers["slow"].status.last_ok_unix_s is not None
        )
        await wait_until(pilot, lambda: "no laps yet" in _screen_text(app))


async def test_lap_compare_on_an_empty_store_says_there_is_no_session(
    tmp_path: Path,
) -> None:
    # It said "reference: reading the best laps at this track…" for ever.
    path = tmp_path / "empty.sqlite3"
    open_store(StoreSettings(sqlite_path=path)).close()
    app = create_app(_settings(path))
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.press("2")
        await wait_until(
            pilot, lambda: app.pollers["slow"].status.last_ok_unix_s is not None
        )
        await wait_until(
            pilot, lambda: "none until a session is in the store" in _screen_text(app)
        )
        assert "reading the best laps" not in _screen_text(app)


async def test_lap_trace_extents_tell_a_mid_lap_recording_from_a_full_lap(
    melbourne_store: Path, tmp_path: Path
) -> None:
    from f1dash_tui.store.queries import DashboardQueries

    # The bundled capture starts ~5 km into the lap, so its completed laps hold
    # only their last few hundred metres; the simulator records whole laps.
    simulated = _simulated_store(tmp_path, laps=2, cars=3, packet_format=2026)
    for path, whole in ((melbourne_store, False), (simulated, True)):
        store = open_store(StoreSettings(sqlite_path=path))
        try:
            queries = DashboardQueries(store)
            session = queries.latest_session()
            assert session is not None and session.track_length_m
            laps = queries.best_laps(session.track_id)
            assert laps
            extents = queries.lap_trace_extents([lap.key for lap in laps])
            assert set(extents) == {lap.key for lap in laps}
            for first_m, last_m in extents.values():
                assert -100 <= first_m < last_m <= session.track_length_m + 1
                covered = (last_m - first_m) / session.track_length_m
                assert (covered > 0.95) if whole else (covered < 0.25), covered
        finally:
            store.close()


async def test_default_reference_is_the_fastest_lap_recorded_in_full(
    melbourne_pcap: Path, tmp_path: Path
) -> None:
    # The real capture (laps 1:25-1:33, each recorded over its last ~300 m only),
    # then a simulated 2-lap race at the same track (slower, recorded whole).
    # The fastest lap cannot give a delta; the default reference is the fastest
    # lap whose trace covers the lap, and a delta is shown.
    path = tmp_path / "mixed.sqlite3"
    store = open_store(StoreSettings(sqlite_path=path))
    try:
        replay_to_store(
            melbourne_pcap,
            store,
            speed=None,
            settings=IngestSettings(spool_dir=tmp_path / "spool2"),
        )
        datagrams = simulate(SimulationOptions(laps=2, cars=3, seed=2))
        ingest_datagrams(
            datagrams,
            store,
            speed=None,
            is_synthetic=True,
            session_uid_salt=3,
            settings=IngestSettings(spool_dir=tmp_path / "spool3"),
        )
    finally:
        store.close()
    with sqlite3.connect(path) as db:
        synthetic = {
            uid
            for (uid,) in db.execute(
                "SELECT session_uid FROM sessions WHERE is_synthetic = 1"
            )
        }
        laps = db.execute(
            "SELECT session_uid, car_index, lap_number FROM laps "
            "WHERE is_valid = 1 AND lap_time_s > 0 ORDER BY lap_time_s"
        ).fetchall()
    assert laps[0][0] not in synthetic  # the fastest lap is the real, partial one
    fastest_whole = next(lap for lap in laps if lap[0] in synthetic)
    app = create_app(_settings(path))
    async with app.run_test(size=SIZE_LARGE) as pilot:
        await pilot.press("2")
        await wait_until(
            pilot,
            lambda: app.live.reference is not None and app.live.samples is not None,
        )
        key = app.live.reference.lap.key
        assert (key.session_uid, key.car_index, key.lap_number) == fastest_whole
        info = " ".join(plain(app.screen.info_text()).split())
        assert "reference (fastest recorded in full)" in info, info
        assert "delta: —" not in info, info


async def test_palette_screenshot_saves_in_the_working_directory(
    melbourne_store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Over ssh on a server there is rarely a ~/Downloads (Textual's default
    # folder): the screenshot goes to the directory the dashboard was started in,
    # and the notice names the file.
    home, cwd = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    cwd.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.delenv("XDG_DOWNLOAD_DIR", raising=False)
    monkeypatch.chdir(cwd)
    app = create_app(_settings(melbourne_store))
    async with app.run_test(size=SIZE_LARGE) as pilot:
        await wait_until(pilot, lambda: app.live.tower is not None)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"screenshot")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(list(cwd.glob("*.svg"))))
        (saved,) = cwd.glob("*.svg")
        assert "<svg" in saved.read_text(encoding="utf-8")
        await wait_until(pilot, lambda: bool(app._notifications))
        messages = [str(n.message) for n in app._notifications]
        assert any(str(saved) in message for message in messages), messages
        assert not (home / "Downloads").exists()


async def test_a_retry_under_a_second_away_reads_sensibly(
    melbourne_store: Path,
) -> None:
    # A failing poll's panel subtitle and the header say when the next try is, in
    # the same words: never "retry in 0s" (header) or "retry in 0.4s" (panel).
    app = create_app(_settings(melbourne_store))
    async with app.run_test(size=SIZE_LARGE) as pilot:
        await wait_until(pilot, lambda: app.live.tower is not None)
        for poller in app.pollers.values():
            poller.pause()
        await app.workers.wait_for_complete()
        now = app.clock()
        app.clock = lambda: now
        status = app.pollers["live"].status
        status.error = "store gone"
        tower = app.screen.query_one(TimingTower)
        for retry_in_s, words in (
            (4.6, "retry in 4s"),
            (0.4, "retry in <1s"),
            (0.0, "retrying now"),
            (-2.0, "retrying now"),  # the retry is running (a slow reconnect)
        ):
            status.next_try_unix_s = now + retry_in_s
            app._show({"status"})
            await pilot.pause()
            subtitle = str(tower.border_subtitle)
            assert f"! store gone - {words}" in subtitle, subtitle
            assert app.first_error() == ("store gone", words)
        # Paused, no retry is coming until p resumes polling.
        app.paused = True
        app._show({"status"})
        await pilot.pause()
        assert "! store gone - retry on resume" in str(tower.border_subtitle)
        assert app.first_error() == ("store gone", "retry on resume")


def _without_participants(store_path: Path, folder: Path) -> Path:
    """A copy of the store with no Participants rows (none arrived yet)."""
    path = folder / "no-participants.sqlite3"
    with sqlite3.connect(store_path) as source, sqlite3.connect(path) as copy:
        source.backup(copy)
        copy.execute("DELETE FROM participants")
    return path


async def test_car_without_participants_row_is_named_by_its_slot(
    melbourne_store: Path, tmp_path: Path
) -> None:
    # Lap Data can arrive before the first Participants packet: the car is "car N"
    # (as in the tower), its number and team are unknown, never "#-1" or "Team -1".
    path = _without_participants(melbourne_store, tmp_path)
    app = create_app(_settings(path))
    async with app.run_test(size=SIZE_LARGE) as pilot:
        panel = app.screen.query_one(CarPanel)
        await wait_until(
            pilot, lambda: app.live.tower is not None and len(panel.lines) > 1
        )
        car = app.live.selected_car
        assert car is not None
        title = panel.lines[0].plain
        assert f"P1 car {car} " in title, title
        assert "-1" not in title and "Team" not in title, title
        tower = app.screen.query_one(TimingTower)
        cells = tower.row_text(0)
        assert cells[2] == f"▌car {car}", cells
        assert "-1" not in cells, cells
        # The map's label of the selected car too (was a bare "P1").
        track = app.screen.query_one(TrackMapView)
        await wait_until(
            pilot, lambda: any(f"P1 car {car}" in line.plain for line in track.lines)
        )


def _tower_header(app: object) -> str:
    """The tower's title row as the terminal shows it (inside its border)."""
    tower = app.screen.query_one(TimingTower)  # type: ignore[attr-defined]
    region = tower.content_region
    line = _screen_text(app).splitlines()[region.y]
    return line[region.x : region.right]


@pytest.mark.parametrize("size", [(120, 40), (80, 24), (160, 48)])
async def test_tower_columns_fit_the_tower_at_common_sizes(
    melbourne_store: Path, size: tuple[int, int]
) -> None:
    app = create_app(_settings(melbourne_store))
    async with app.run_test(size=size) as pilot:
        await wait_until(pilot, lambda: app.live.tower is not None)
        await pilot.pause(0.1)
        header = _tower_header(app)
        assert " Int " in header, header
        tower = app.screen.query_one(TimingTower)
        titles = [COLUMNS[i].title for i in visible_columns(tower.content_size.width)]
        assert header.split() == titles, (header, titles)
        if size[0] >= 160:
            assert titles == [column.title for column in COLUMNS]


def test_tower_columns_keep_int_whole_at_every_width() -> None:
    # Int is as wide as Gap (both can be over a minute: "+1:05.400"); columns of
    # lower priority give way first, and the columns shown always fit.
    row = tower_row(
        7, 9, 3, gap_to_leader_s=130.5, interval_s=65.4, driver_name="BOTTAS"
    )
    cells = tower_cells(row, is_selected=False, overall_best_s=None)
    int_index = [column.title for column in COLUMNS].index("Int")
    for width in range(36, 120):
        shown = visible_columns(width)
        used = sum(COLUMNS[i].width for i in shown) + len(shown) - 1
        assert used <= width, (width, shown)
        assert int_index in shown, width
        line = tower_line(cells, shown).plain
        assert "+2:10.500" in line and "+1:05.400" in line, (width, line)
        assert "Int" in _title_line(shown).plain.split(), (width, shown)


async def test_palette_lists_the_keys_once(melbourne_store: Path) -> None:
    # Textual's own "Keys" (its key panel) and the dashboard's "Help: keys" were
    # two entries for one thing: the palette keeps the dashboard's help screen.
    app = create_app(_settings(melbourne_store))
    async with app.run_test(size=SIZE_LARGE) as pilot:
        commands = list(app.get_system_commands(app.screen))
        titles = [command.title for command in commands]
        keys = [c for c in commands if "key" in c.title.lower()]
        assert [c.title for c in keys] == ["Keys"], titles
        keys[0].callback()
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen))


@pytest.mark.parametrize(
    ("low", "high", "max_ticks", "ticks"),
    [
        (0.0, 360.0, 6, [0, 100, 200, 300]),
        (0.0, 360.0, 8, [0, 50, 100, 150, 200, 250, 300, 350]),
        (0.0, 360 / 1.609344, 6, [0, 50, 100, 150, 200]),  # mph
        (0.0, 360 / 1.609344, 3, [0, 100, 200]),
        (0.0, 1.0, 6, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (-1.0, 8.0, 6, [0, 2, 4, 6, 8]),
        (-1.0, 1.0, 5, [-1.0, -0.5, 0, 0.5, 1.0]),
        (0.0, 13_500.0, 4, [0, 5000, 10_000]),
    ],
)
def test_axis_ticks_are_round_and_evenly_spaced(
    low: float, high: float, max_ticks: int, ticks: list[float]
) -> None:
    assert traces.axis_ticks(low, high, max_ticks) == ticks


def test_compare_plot_in_mph_labels_round_speeds() -> None:
    distance = np.linspace(0, 5000, 500)
    lap = test_render_traces._lap(distance, 200 + 100 * np.sin(distance / 400))
    text = traces.compare_plot(
        lap,
        lap,
        traces.METRICS[0],
        80,
        20,
        track_length_m=5000,
        colour=False,
        units="imperial",
    ).plain
    labels = [line.split("┤")[0].strip() for line in text.splitlines() if "┤" in line]
    assert labels == ["200", "150", "100", "50", "0"], labels


ALL_PARTS = {"live", "car", "events", "slow", "reference", "status"}


@pytest.mark.parametrize("mode", ["live", "compare", "best", "events"])
async def test_show_paths_skip_a_screen_whose_widgets_are_gone(
    melbourne_store: Path, mode: str
) -> None:
    # The 1 s age tick once raised NoMatches for the TimingTower of a LiveScreen
    # being torn down: its widgets were already removed, the screen still mounted.
    app = create_app(_settings(melbourne_store))
    async with app.run_test(size=SIZE_LARGE) as pilot:
        await wait_until(pilot, lambda: app.live.tower is not None)
        app.switch_mode(mode)
        await pilot.pause()
        screen = app.screen
        await screen.remove_children()
        assert screen.is_mounted
        app._tick_ages()
        app._show(ALL_PARTS)
        screen.show_data(ALL_PARTS)
        await pilot.pause(1.1)  # the age tick's own timer fires too
        assert screen.is_mounted


def test_an_invalid_last_lap_reads_x_even_when_it_is_the_fastest() -> None:
    row = tower_row(0, 1, 3, last_lap_s=80.0, best_lap_s=81.0, last_lap_invalid=True)
    cells = tower_cells(row, is_selected=False, overall_best_s=81.0)
    last = [c.title for c in COLUMNS].index("Last")
    assert str(cells[last]).split() == ["1:20.000", "X"]


@pytest.mark.parametrize(
    ("stored_best_s", "letter"),
    [
        # Just over the line: the store's laps do not hold the 1:20.000 yet (its
        # best valid lap is 1:21.000), so it may still be invalidated: no letter.
        (81.0, None),
        # Confirmed: the 1:20.000 is now the best valid lap in the store.
        (80.0, "P"),
    ],
)
def test_a_last_lap_reads_p_or_b_only_once_the_store_confirms_it(
    stored_best_s: float, letter: str | None
) -> None:
    # A fresh-eyes user saw KARLSSON's invalidated lap read B for ~2 s, then X.
    row = tower_row(0, 1, 3, last_lap_s=80.0, best_lap_s=stored_best_s)
    cells = tower_cells(row, is_selected=False, overall_best_s=stored_best_s)
    last = [c.title for c in COLUMNS].index("Last")
    assert str(cells[last]).split()[1:] == ([letter] if letter else [])


async def test_tower_marks_an_invalidated_last_lap_with_x(tmp_path: Path) -> None:
    # Seed 1 over 5 laps: a penalty event invalidates SVOBODA's lap 5, the last.
    path = _simulated_store(tmp_path, laps=5, seed=1)
    with sqlite3.connect(path) as db:
        invalid = db.execute(
            "SELECT driver_name, lap_number FROM laps WHERE is_valid = 0"
        ).fetchall()
    assert ("SVOBODA", 5) in invalid
    app = create_app(_settings(path))
    async with app.run_test(size=SIZE_LARGE) as pilot:
        await wait_until(pilot, lambda: app.live.tower is not None)
        tower = app.screen.query_one(TimingTower)
        last = [c.title for c in COLUMNS].index("Last")
        rows = {
            tower.row_text(i)[2].lstrip("▌"): tower.row_text(i)
            for i in range(tower.row_count)
        }
        assert rows["SVOBODA"][last].split()[-1] == "X", rows["SVOBODA"]
        # Only invalid last laps read X: every other car's is a time, P or B.
        for name, cells in rows.items():
            if name not in ("SVOBODA",) and (name, 5) not in invalid:
                assert not cells[last].endswith("X"), (name, cells)


def _ingest_part(path: Path, datagrams: list[bytes]) -> None:
    """Ingest more of a session into the store at ``path`` (as a live ingest does)."""
    store = open_store(StoreSettings(sqlite_path=path))
    try:
        ingest_datagrams(
            iter(datagrams),
            store,
            speed=None,
            is_synthetic=True,
            settings=IngestSettings(spool_dir=path.parent / "spool"),
        )
    finally:
        store.close()


def _events_on_screen(app: object, table: DataTable[str]) -> list[str]:
    """The Time cells of the event rows the table shows now."""
    text = _screen_text(app)
    return [
        str(table.get_row_at(row)[0])
        for row in range(table.row_count)
        if f"{table.get_row_at(row)[0]}  {table.get_row_at(row)[1]}" in text
    ]


async def test_events_follow_the_newest_until_the_cursor_moves_up(
    tmp_path: Path,
) -> None:
    # 3 laps of 10 cars: 10 events in the first half, 15 by three quarters, 20 in
    # all; at 100x14 the table shows fewer than 10 rows.
    datagrams = list(simulate(SimulationOptions(seed=1, laps=3, cars=10)))
    half, three_quarters = len(datagrams) // 2, 3 * len(datagrams) // 4
    path = tmp_path / "live.sqlite3"
    _ingest_part(path, datagrams[:half])
    settings = Settings(
        store=StoreSettings(sqlite_path=path),
        ui=UISettings(live_poll_interval_s=0.5),
    )
    app = create_app(settings)
    async with app.run_test(size=(100, 14)) as pilot:
        await wait_until(pilot, lambda: len(app.live.events) >= 10)
        await pilot.press("4")
        table = app.screen.query_one(DataTable)
        await wait_until(pilot, lambda: table.row_count == len(app.live.events))
        assert table.row_count > table.scrollable_content_region.height
        newest = str(table.get_row_at(table.row_count - 1)[0])
        await wait_until(pilot, lambda: newest in _events_on_screen(app, table))
        # End goes to the last row, Home to the first, straight after opening.
        await pilot.press("home")
        assert table.cursor_row == 0
        await pilot.press("end")
        assert table.cursor_row == table.row_count - 1

        _ingest_part(path, datagrams[half:three_quarters])
        shown = table.row_count
        await wait_until(pilot, lambda: table.row_count > shown)
        newest = str(table.get_row_at(table.row_count - 1)[0])
        await wait_until(pilot, lambda: newest in _events_on_screen(app, table))
        assert table.cursor_row == table.row_count - 1

        # Moved up, the view stays put while events arrive.
        await pilot.press("home")
        on_screen = _events_on_screen(app, table)
        shown = table.row_count
        _ingest_part(path, datagrams[three_quarters:])
        await wait_until(pilot, lambda: table.row_count > shown)
        await pilot.pause(0.2)
        assert table.cursor_row == 0
        assert _events_on_screen(app, table) == on_screen


async def test_events_keep_the_newest_in_view_when_the_terminal_shrinks(
    tmp_path: Path,
) -> None:
    datagrams = list(simulate(SimulationOptions(seed=1, laps=3, cars=10)))
    path = tmp_path / "race.sqlite3"
    _ingest_part(path, datagrams)
    settings = Settings(store=StoreSettings(sqlite_path=path))
    app = create_app(settings)
    async with app.run_test(size=(160, 48)) as pilot:
        await wait_until(pilot, lambda: len(app.live.events) >= 20)
        await pilot.press("4")
        table = app.screen.query_one(DataTable)
        await wait_until(pilot, lambda: table.row_count == len(app.live.events))
        newest = str(table.get_row_at(table.row_count - 1)[0])
        await wait_until(pilot, lambda: newest in _events_on_screen(app, table))
        await pilot.resize_terminal(100, 14)
        assert table.row_count > table.scrollable_content_region.height
        await wait_until(pilot, lambda: newest in _events_on_screen(app, table))
        assert table.cursor_row == table.row_count - 1


async def test_header_at_120_columns_says_the_store_file_was_moved(
    melbourne_store: Path, tmp_path: Path
) -> None:
    # The header once read "! live poll failed, retry in <1s: the store file i…":
    # the news was lost behind the poller's name and the retry.
    path = tmp_path / "telemetry.sqlite3"
    path.write_bytes(melbourne_store.read_bytes())
    app = create_app(_settings(path))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_until(pilot, lambda: app.live.tower is not None)
        path.unlink()
        header = app.screen.query_one(SessionHeader)
        await wait_until(
            pilot, lambda: "moved or deleted" in plain(header.render(), 120)
        )
        second = plain(header.render(), 120).split("\n")[1]
        assert len(second) <= 120
        assert second.startswith("! the store file was moved or deleted")
        assert re.search(r"\(retry in \S+\)  ", second), second
        assert "poll failed" not in second
        # The data's age stays (in words once it is old: the shared store was
        # written when the test run started).
        age = r"(data \S+ old|no new data for \S+)"
        assert re.search(rf"{age}  polling \S+$", second.rstrip()), second


def _every_tower_tag() -> set[str]:
    """Every tag the tower's Tags column can show, from tower_tags itself."""
    shown = {
        labels.tower_tags(pit, driver, result, invalid)
        for pit in range(4)
        for driver in range(6)
        for result in range(9)
        for invalid in (False, True)
    }
    # "PIT LANE" is one tag; the others are single words.
    words = {w for tags in shown for w in tags.replace("PIT LANE", "").split()}
    return words | ({"PIT LANE"} if any("PIT LANE" in t for t in shown) else set())


async def test_help_explains_every_tower_tag_pen_and_list_keys(
    melbourne_store: Path,
) -> None:
    lines = await _help_screen_lines(melbourne_store)

    def explained(*words: str) -> bool:
        return any(line.split()[: len(words)] == list(words) for line in lines)

    tags = _every_tower_tag()
    assert {"OUT", "FIN", "IN", "PIT", "X"} <= tags
    for tag in tags:
        assert explained("Tags", *tag.split()), tag
    assert any("PIT IN" in line for line in lines)
    assert explained("Pen", "W2") and explained("Pen", "+5s")
    for key, what in (("Home", "First"), ("End", "Last"), ("PgDn", "Page")):
        assert explained("lists", key, what) or explained(key, what), key
