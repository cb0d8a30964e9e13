"""Session logic on streams built from real packets (F1 25 in the 2025 format, F1 22):
flashbacks, UID 0, impossible Session packets, synthesised overall frames."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable
from pathlib import Path

import pytest

from f1dash_tui.ingest.service import ingest_datagrams
from f1dash_tui.settings import IngestSettings, StoreSettings
from f1dash_tui.store import open_store
from f1dash_tui.store.base import Store
from f1dash_tui.store.queries import DashboardQueries
from f1dash_tui.telemetry import enums
from f1dash_tui.telemetry.pcap import read_pcap
from f1dash_tui.telemetry.simulator import SimulationOptions, simulate

# 2023+ header: format, year, major, minor, version, id, uid, time, frame, overall.
HEADER_2023 = struct.Struct("<HBBBBBQfII")
FRAMES_2023_OFFSET = 19  # frame (u32) then overall frame (u32)
UID_2023_OFFSET = 7
# 2022 header: format, major, minor, version, id, uid, time, frame.
FRAME_2022_OFFSET = 18
SESSION_TRACK_LENGTH_OFFSET = 29 + 4  # after weather, two temperatures, total laps
SESSION_TRACK_ID_OFFSET = 29 + 7  # after track length (u16) and session type

# The real FLBK event (F1 25, 2025 format): sent at frame 58,793 / overall 59,585,
# back to frame 57,980; the game's next packets carry frame 57,980 / overall 59,585.
FLBK_FRAME, FLBK_OVERALL, FLBK_TO_FRAME = 58793, 59585, 57980
UNSUPERSEDED_FRAMES_SQL = (
    "SELECT DISTINCT frame FROM lap_data l WHERE NOT EXISTS (SELECT 1 FROM rewinds r "
    "WHERE r.session_uid = l.session_uid AND l.frame > r.to_frame "
    "AND l.overall_frame < r.at_overall_frame) ORDER BY frame"
)


@pytest.fixture
def gamesdat(f1_udp_dir: Path) -> Path:
    return f1_udp_dir / "packets" / "gamesdat" / "2025"


def _with_frames(packet: bytes, frame: int, overall_frame: int) -> bytes:
    edited = bytearray(packet)
    struct.pack_into("<II", edited, FRAMES_2023_OFFSET, frame, overall_frame)
    return bytes(edited)


def _with_uid(packet: bytes, uid: int) -> bytes:
    edited = bytearray(packet)
    struct.pack_into("<Q", edited, UID_2023_OFFSET, uid)
    return bytes(edited)


def _ingest(tmp_path: Path, packets: Iterable[bytes], source: str = "udp") -> Store:
    store = open_store(StoreSettings(sqlite_path=tmp_path / "store.sqlite3"))
    ingest_datagrams(
        ((0.0, packet) for packet in packets),
        store,
        source=source,
        settings=IngestSettings(spool_dir=tmp_path / "spool"),
    )
    return store


def _flashback_stream(gamesdat: Path, *, event: bool, after: bool) -> list[bytes]:
    session = (gamesdat / "packet-1.bin").read_bytes()
    lap = (gamesdat / "packet-2.bin").read_bytes()
    offset = FLBK_OVERALL - FLBK_FRAME  # earlier flashbacks of this session
    stream = [_with_frames(session, FLBK_FRAME - 20, FLBK_FRAME - 20 + offset)]
    stream += [
        _with_frames(lap, f, f + offset) for f in range(FLBK_FRAME - 3, FLBK_FRAME + 1)
    ]
    if event:
        stream.append((gamesdat / "packet-3-FLBK.bin").read_bytes())
    if after:
        stream += [
            _with_frames(lap, FLBK_TO_FRAME + i, FLBK_OVERALL + i) for i in range(6)
        ]
    return stream


@pytest.mark.parametrize(
    ("event", "after"),
    [(True, True), (False, True), (True, False)],
    ids=["event-and-frames", "frames-only", "event-only"],
)
def test_flashback_writes_one_rewind_that_supersedes_the_replayed_frames(
    tmp_path: Path, gamesdat: Path, event: bool, after: bool
) -> None:
    store = _ingest(tmp_path, _flashback_stream(gamesdat, event=event, after=after))
    try:
        uid = store.fetch("SELECT session_uid FROM sessions")[0][0]
        assert store.fetch(
            "SELECT session_uid, to_frame, at_overall_frame FROM rewinds"
        ) == [(uid, FLBK_TO_FRAME, FLBK_OVERALL + 1)]
        kept = [frame for (frame,) in store.fetch(UNSUPERSEDED_FRAMES_SQL)]
        if after:
            # Traces never double back: only the frames after the rewind remain.
            assert kept == list(range(FLBK_TO_FRAME, FLBK_TO_FRAME + 6))
        else:
            assert kept == []
        assert store.fetch("SELECT COUNT(*) FROM laps") == [(0,)]
        if event:
            assert store.fetch(
                "SELECT flashback_frame FROM event WHERE event_code = 'FLBK'"
            ) == [(FLBK_TO_FRAME,)]
    finally:
        store.close()


def test_session_uid_zero_is_dropped_counted_and_never_starts_a_session(
    tmp_path: Path, gamesdat: Path
) -> None:
    session = (gamesdat / "packet-1.bin").read_bytes()
    lap = (gamesdat / "packet-2.bin").read_bytes()
    uid = HEADER_2023.unpack_from(session)[6]
    zero = [_with_uid(session, 0), _with_uid(lap, 0), _with_uid(lap, 0)]
    store = _ingest(tmp_path, [*zero, session, lap, *zero])
    try:
        signed = struct.unpack("<q", struct.pack("<Q", uid))[0]
        assert store.fetch("SELECT session_uid FROM sessions") == [(signed,)]
        for table in ("session", "lap_data"):
            assert store.fetch(f"SELECT DISTINCT session_uid FROM {table}") == [
                (signed,)
            ]
        # One packet's cars: 20 of the 22 slots hold a car (18 running, 2 retired);
        # the two empty slots (result status 0) are left out.
        assert store.fetch("SELECT COUNT(*) FROM lap_data") == [(20,)]
        (reasons,) = store.fetch(
            "SELECT bad_by_reason FROM ingest_stats ORDER BY unix_s DESC LIMIT 1"
        )[0]
        assert json.loads(reasons) == {"ingest: session UID 0": 6}
    finally:
        store.close()


def _impossible(
    session: bytes, *, track_id: int | None = None, length_m: int | None = None
) -> bytes:
    edited = bytearray(session)
    if track_id is not None:
        struct.pack_into("<b", edited, SESSION_TRACK_ID_OFFSET, track_id)
    if length_m is not None:
        struct.pack_into("<H", edited, SESSION_TRACK_LENGTH_OFFSET, length_m)
    return bytes(edited)


def test_impossible_session_packets_do_not_replace_good_data(
    tmp_path: Path, gamesdat: Path
) -> None:
    session = (gamesdat / "packet-1.bin").read_bytes()
    good_track = struct.unpack_from("<b", session, SESSION_TRACK_ID_OFFSET)[0]
    good_length = struct.unpack_from("<H", session, SESSION_TRACK_LENGTH_OFFSET)[0]
    assert good_track == 0 and good_length > 5000  # the real Melbourne race
    unknown_track = 99
    assert unknown_track not in enums.TRACKS
    other_uid = 424242
    stream = [
        # A new UID whose first Session packet is impossible does not start yet...
        _with_uid(_impossible(session, length_m=0), other_uid),
        _with_uid(session, other_uid),
        session,
        _impossible(session, track_id=unknown_track),
        _impossible(session, length_m=0),
    ]
    store = _ingest(tmp_path, stream)
    try:
        sessions = store.fetch(
            "SELECT session_uid, track_id FROM sessions ORDER BY started_unix_s"
        )
        assert [track for _, track in sessions] == [0, 0]
        assert sessions[0][0] == other_uid
        assert store.fetch(
            "SELECT COUNT(*), MIN(track_id), MIN(track_length_m) FROM session"
        ) == [(2, 0, good_length)]
        (reasons,) = store.fetch(
            "SELECT bad_by_reason FROM ingest_stats ORDER BY unix_s DESC LIMIT 1"
        )[0]
        assert json.loads(reasons) == {"ingest: impossible session values": 3}
    finally:
        store.close()


def test_formats_without_overall_frame_get_a_monotonic_one(
    tmp_path: Path, f1_udp_dir: Path
) -> None:
    packets = f1_udp_dir / "packets" / "f1-game-packet-parser"
    lap = (packets / "2022-02.bin").read_bytes()

    def at_frame(frame: int) -> bytes:
        edited = bytearray(lap)
        struct.pack_into("<I", edited, FRAME_2022_OFFSET, frame)
        return bytes(edited)

    # Frames 100..103, then a flashback to 50 and on to 52.
    frames = [100, 101, 102, 103, 50, 51, 52]
    store = _ingest(tmp_path, [at_frame(frame) for frame in frames])
    try:
        stored = store.fetch(
            "SELECT DISTINCT frame, overall_frame FROM lap_data ORDER BY overall_frame"
        )
        assert stored == list(
            zip(frames, [100, 101, 102, 103, 104, 105, 106], strict=True)
        )
        assert store.fetch("SELECT to_frame, at_overall_frame FROM rewinds") == [
            (50, 105)
        ]
        kept = [frame for (frame,) in store.fetch(UNSUPERSEDED_FRAMES_SQL)]
        assert kept == [50, 51, 52]
    finally:
        store.close()


def test_race_end_stores_final_classification_without_a_false_flashback(
    tmp_path: Path, f1_udp_dir: Path
) -> None:
    # Real F1 22 packets ending a 3-lap race: chequered flag and two Final
    # Classification packets, sent with frame 0 after frame 16,247.
    capture = f1_udp_dir / "streams" / "samples-2022.pcap"
    payloads = [datagram.payload for datagram in read_pcap(capture)]
    store = _ingest(tmp_path, payloads)
    try:
        assert store.fetch("SELECT COUNT(*) FROM sessions") == [(1,)]
        rows = store.fetch(
            "SELECT car_index, classified_position, num_laps, result_status "
            "FROM final_classification"
        )
        # 20 cars twice (the two empty slots of the 22-car arrays are left out).
        assert len(rows) == 40
        assert sorted(position for _, position, _, _ in rows) == sorted(
            list(range(1, 21)) * 2
        )
        assert {(laps, status) for _, _, laps, status in rows} == {(3, 3)}
        assert store.fetch("SELECT COUNT(*) FROM rewinds") == [(0,)]
    finally:
        store.close()


def test_simulated_race_laps_and_pit_tags_agree_with_the_game_counters(
    tmp_path: Path,
) -> None:
    options = SimulationOptions(cars=6, laps=5, send_rate_hz=10, seed=1)
    datagrams = (datagram for _, datagram in simulate(options))
    store = _ingest(tmp_path, datagrams, source="simulator")
    try:
        assert store.fetch("SELECT is_synthetic, track_id FROM sessions") == [(1, 0)]
        laps = store.fetch(
            "SELECT car_index, lap_number, lap_time_s, tags FROM laps "
            "ORDER BY car_index, lap_number"
        )
        # Every car completes laps 1..5 (lap 5 ends at the flag: the game's lap
        # number stays at 5, result status turns finished).
        by_car: dict[int, list[tuple[int, float, list[str]]]] = {}
        for car, number, lap_s, tags in laps:
            by_car.setdefault(car, []).append((number, lap_s, tags.split(",")))
        assert sorted(by_car) == list(range(6))
        for car, car_laps in by_car.items():
            assert [number for number, _, _ in car_laps] == [1, 2, 3, 4, 5], car
            assert "first" in car_laps[0][2]
            assert all(60 < lap_s < 200 for _, lap_s, _ in car_laps)
            # The game's pit-stop counter at the end equals the laps tagged "pit",
            # and each such lap starts in the lane after an in-lap.
            (stops,) = store.fetch(
                "SELECT num_pit_stops FROM lap_data WHERE car_index = ? "
                "ORDER BY overall_frame DESC LIMIT 1",
                (car,),
            )[0]
            numbers = [number for number, _, tags in car_laps if "pit" in tags]
            assert len(numbers) <= stops
            for number in numbers:
                previous = [tags for n, _, tags in car_laps if n == number - 1]
                assert previous and "in" in previous[0], (car, number)
                assert "out" in next(t for n, _, t in car_laps if n == number)
        total_stops = store.fetch(
            "SELECT SUM(stops) FROM (SELECT car_index, MAX(num_pit_stops) AS stops "
            "FROM lap_data GROUP BY car_index)"
        )[0][0]
        tagged = sum("pit" in tags.split(",") for *_, tags in laps)
        assert total_stops > 0 and tagged > 0
    finally:
        store.close()


@pytest.mark.parametrize("race_laps", [3, 1])
def test_the_final_lap_of_a_race_is_stored_with_the_game_s_history_time(
    tmp_path: Path, race_laps: int
) -> None:
    options = SimulationOptions(cars=4, laps=race_laps, send_rate_hz=20, seed=7)
    datagrams = (datagram for _, datagram in simulate(options))
    store = _ingest(tmp_path, datagrams, source="simulator")
    try:
        laps = store.fetch(
            "SELECT car_index, lap_number, lap_time_s FROM laps "
            "ORDER BY car_index, lap_number"
        )
        # The game's own record of each lap: the last Session History row per lap.
        history: dict[tuple[int, int], float] = {}
        for car, number, lap_s in store.fetch(
            "SELECT car_index, lap_number, lap_time_s FROM session_history "
            "WHERE lap_time_s > 0 ORDER BY rowid"
        ):
            history[(car, number)] = lap_s
        finished = store.fetch(
            "SELECT car_index, num_laps, best_lap_time_s FROM final_classification "
            "WHERE result_status = 3"
        )
        tower = DashboardQueries(store).timing_tower(
            store.fetch("SELECT session_uid FROM sessions")[0][0]
        )
    finally:
        store.close()
    assert {car for car, _, _ in finished} == {0, 1, 2, 3}
    by_car: dict[int, dict[int, float]] = {}
    for car, number, lap_s in laps:
        by_car.setdefault(car, {})[number] = lap_s
    for car, num_laps, best_s in finished:
        assert num_laps == race_laps
        assert sorted(by_car[car]) == list(range(1, race_laps + 1)), car
        final_s = by_car[car][race_laps]
        assert final_s == pytest.approx(history[(car, race_laps)], abs=1e-6), car
        # Final Classification's best lap is among the stored laps.
        assert min(by_car[car].values()) == pytest.approx(best_s, abs=1e-3), car
    # The tower's best lap is never slower than its last lap once the race ends.
    assert tower is not None
    for row in tower.rows:
        assert row.best_lap_s is not None and row.last_lap_s is not None
        assert row.best_lap_s <= row.last_lap_s + 1e-6, row
