"""The tower's gaps agree with the running order, also after the chequered flag.

A simulated one-lap race goes through the real pipeline (simulator -> UDP packets ->
ingest -> SQLite) and stops at the first Lap Data frame after the flag where the
game's per-car deltas contradict the order (a running car "ahead" of the finished
car in front of it). The store holds those deltas as sent; the tower must not show
them that way.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from store_fixtures import tower_row

from f1dash_tui.ingest.service import ingest_datagrams
from f1dash_tui.render import formatting as fmt
from f1dash_tui.render.gaps import ordered_gaps
from f1dash_tui.settings import IngestSettings, Settings, StoreSettings, UISettings
from f1dash_tui.store import open_store
from f1dash_tui.store.queries import DashboardQueries
from f1dash_tui.store.snapshots import TowerRow
from f1dash_tui.telemetry.decode import Decoder
from f1dash_tui.telemetry.packets import PacketId
from f1dash_tui.telemetry.pcap import read_pcap
from f1dash_tui.telemetry.simulator import SimulationOptions, simulate
from f1dash_tui.ui.app import create_app
from f1dash_tui.ui.widgets.timing_tower import TimingTower

PACKET_ID_BYTE = 6
"""Offset of packetId in the 2026 header (after format, year, major, minor, version)."""
GAP_COLUMN, INTERVAL_COLUMN = 3, 4


def _contradicting_frame(lap_data: dict[str, np.ndarray]) -> int | None:
    """The first frame where a car on the same lap as the car in front is sent with
    a smaller gap to the leader than that car."""
    for frame in np.unique(lap_data["frame"]):
        mine = lap_data["frame"] == frame
        position = lap_data["car_position"][mine]
        active = (position >= 1) & ~np.isin(lap_data["result_status"][mine], (0, 1))
        order = np.argsort(position[active])
        gap = lap_data["delta_to_race_leader_s"][mine][active][order]
        lap = lap_data["current_lap_num"][mine][active][order]
        for i in range(2, len(gap)):
            if lap[i] == lap[i - 1] and gap[i] < gap[i - 1]:
                return int(frame)
    return None


@pytest.fixture(scope="module")
def finish_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store ending at a frame whose sent gaps contradict the order."""
    stream = list(simulate(SimulationOptions(cars=22, laps=1, send_rate_hz=10)))
    lap_packets = [
        payload for _, payload in stream if payload[PACKET_ID_BYTE] == PacketId.LAP_DATA
    ]
    lap_data = Decoder().decode(lap_packets).tables["lap_data"]
    frame = _contradicting_frame(lap_data)
    assert frame is not None, "the simulated finish should send contradicting gaps"
    # Lap Data packets in stream order, to find the one of that frame.
    frames = iter(lap_data["frame"][lap_data["car_index"] == 0].tolist())
    cut = next(
        index + 1
        for index, (_, payload) in enumerate(stream)
        if payload[PACKET_ID_BYTE] == PacketId.LAP_DATA and next(frames) == frame
    )
    folder = tmp_path_factory.mktemp("finish-store")
    path = folder / "telemetry.sqlite3"
    store = open_store(StoreSettings(sqlite_path=path))
    try:
        ingest_datagrams(
            stream[:cut],
            store,
            speed=None,
            source="simulator",
            settings=IngestSettings(spool_dir=folder / "spool"),
        )
    finally:
        store.close()
    return path


def _seconds(cell: str) -> float | None:
    """``+1.234`` or ``+1:15.500`` as seconds (None for a placeholder)."""
    if not cell.startswith("+"):
        return None
    minutes, _, seconds = cell[1:].rpartition(":")
    return (int(minutes) * 60 if minutes else 0) + float(seconds)


def _assert_consistent(
    rows: tuple[TowerRow, ...], gaps: list[tuple[float | None, float | None]]
) -> None:
    for index in range(1, len(rows)):
        gap, interval = gaps[index]
        assert interval is None or interval >= 0, f"P{index + 1} interval {interval}"
        previous = gaps[index - 1][0] if index > 1 else 0.0
        if rows[index].lap_number == rows[index - 1].lap_number:
            assert gap is not None and previous is not None
            assert gap >= previous, f"P{index + 1} {gap} ahead of P{index} {previous}"


def test_store_keeps_the_contradicting_gaps_the_game_sent(finish_store: Path) -> None:
    store = open_store(StoreSettings(sqlite_path=finish_store), read_only=True)
    try:
        queries = DashboardQueries(store)
        session = queries.latest_session()
        assert session is not None
        tower = queries.timing_tower(session.session_uid)
    finally:
        store.close()
    assert tower is not None and len(tower.rows) == 22
    sent = [(row.gap_to_leader_s, row.interval_s) for row in tower.rows]
    with pytest.raises(AssertionError):
        _assert_consistent(tower.rows, sent)
    assert any(row.result_status == 3 for row in tower.rows), "someone has finished"
    _assert_consistent(tower.rows, ordered_gaps(tower.rows))


async def test_tower_never_shows_a_car_ahead_of_the_car_in_front(
    finish_store: Path,
) -> None:
    settings = Settings(
        store=StoreSettings(sqlite_path=finish_store),
        ui=UISettings(live_poll_interval_s=2.0),
    )
    app = create_app(settings, source_label="synthetic race")
    async with app.run_test(size=(160, 48)) as pilot:
        tower = app.screen.query_one(TimingTower)
        for _ in range(200):
            await app.workers.wait_for_complete()
            await pilot.pause(0.05)
            if tower.row_count == 22:
                break
        assert tower.row_count == 22
        assert app.live.tower is not None
        rows = app.live.tower.rows
        shown = [
            (
                _seconds(tower.row_text(i)[GAP_COLUMN]),
                _seconds(tower.row_text(i)[INTERVAL_COLUMN]),
            )
            for i in range(tower.row_count)
        ]
    assert tower.row_text(0)[GAP_COLUMN] == "LEADER"
    _assert_consistent(rows, shown)


def _shown_ms(text: str) -> int:
    """``+1:05.386`` or ``+2.150`` as whole milliseconds."""
    minutes, _, seconds = text.removeprefix("+").rpartition(":")
    return int(minutes or 0) * 60_000 + round(float(seconds) * 1000)


def test_int_column_is_the_difference_of_the_shown_gaps(melbourne_pcap: Path) -> None:
    """Every Lap Data frame of the real Melbourne capture, as the tower shows it."""
    payloads = [d.payload for d in read_pcap(melbourne_pcap)]
    laps = Decoder().decode(payloads).tables["lap_data"]
    checked = 0
    first_frame_seen: list[str] = []
    for frame in np.unique(laps["frame"]):
        mine = (laps["frame"] == frame) & (laps["car_position"] >= 1)
        order = np.argsort(laps["car_position"][mine])
        columns = (
            laps[name][mine][order]
            for name in (
                "car_index",
                "car_position",
                "current_lap_num",
                "delta_to_race_leader_s",
                "delta_to_car_in_front_s",
            )
        )
        rows = [
            tower_row(
                int(car),
                int(position),
                int(lap),
                gap_to_leader_s=float(gap),
                interval_s=float(interval),
            )
            for car, position, lap, gap, interval in zip(*columns, strict=True)
        ]
        shown = [
            (fmt.format_gap(gap), fmt.format_gap(interval))
            for gap, interval in ordered_gaps(rows)[1:]
        ]
        if frame == 4869:
            first_frame_seen = [interval for _, interval in shown[:3]]
        for (front_gap, _), (gap, interval) in itertools.pairwise(shown):
            if _shown_ms(gap) >= _shown_ms(front_gap):
                assert _shown_ms(interval) == _shown_ms(gap) - _shown_ms(front_gap), (
                    frame,
                    front_gap,
                    gap,
                    interval,
                )
                checked += 1
    assert checked > 15_000
    # Frame 4869 sends P2 +1.033, P3 +2.150 with an interval of +1.134.
    assert first_frame_seen[:2] == ["+1.033", "+1.117"]
