"""Writing and reading back on every backend: atomic batches, hostile text, NaN,
event ids, flashbacks and ingest statistics."""

from __future__ import annotations

import json

import numpy as np
import pytest
from store_fixtures import blank_table, one_row

from f1dash_tui.settings import StoreSettings
from f1dash_tui.store.base import Store, open_store
from f1dash_tui.store.queries import DashboardQueries
from f1dash_tui.store.schema import SCHEMA_VERSION, TABLES

UID = 7_000_000_000_000_000_123  # above 2**62: the int64 bits of a uint64 UID
UID_INT64 = UID - 2**64 if UID >= 2**63 else UID

HOSTILE_NAME = 'O\'Brien "Bob"; DROP TABLE participants;-- Ünïcødé 周冠宇 🏁 مرحبا'


def _participants(names: list[str], frame: int) -> dict[str, np.ndarray]:
    columns = blank_table("participants", len(names))
    columns["session_uid"][:] = UID_INT64
    columns["frame"][:] = frame
    columns["overall_frame"][:] = frame
    columns["car_index"][:] = np.arange(len(names))
    columns["name"][:] = names
    columns["num_active_cars"][:] = len(names)
    columns["team_id"][:] = [3, 7][: len(names)]
    return columns


def _lap_data(frame: int, cars: int) -> dict[str, np.ndarray]:
    columns = blank_table("lap_data", cars)
    columns["session_uid"][:] = UID_INT64
    columns["frame"][:] = frame
    columns["overall_frame"][:] = frame
    columns["car_index"][:] = np.arange(cars)
    columns["car_position"][:] = np.arange(1, cars + 1)
    columns["current_lap_num"][:] = 1
    columns["result_status"][:] = 2
    columns["delta_to_race_leader_s"][:] = [0.0, 1.25][:cars]
    columns["delta_to_car_in_front_s"][:] = [0.0, 1.25][:cars]
    return columns


def test_a_new_store_records_its_schema_version(writer_store: Store) -> None:
    assert writer_store.schema_version == SCHEMA_VERSION
    rows = writer_store.fetch(
        "SELECT meta_value FROM store_meta WHERE meta_key = ?", ("schema_version",)
    )
    assert rows == [(str(SCHEMA_VERSION),)]
    for table in TABLES:
        assert writer_store.fetch(f"SELECT COUNT(*) FROM {table}")[0][0] == (
            1 if table == "store_meta" else 0
        )


def test_hostile_driver_names_survive_intact(
    writer_store: Store, store_settings: StoreSettings
) -> None:
    names = [HOSTILE_NAME, "Player"]
    writer_store.write_batch(
        {
            "participants": _participants(names, frame=10),
            "lap_data": _lap_data(frame=10, cars=2),
            "event": one_row(
                "event",
                session_uid=UID_INT64,
                frame=11,
                overall_frame=11,
                event_code="OVTK",
                vehicle_index=0,
                other_vehicle_index=1,
            ),
            "laps": one_row(
                "laps",
                session_uid=UID_INT64,
                car_index=0,
                lap_number=1,
                lap_time_s=88.5,
                is_valid=1,
                track_id=3,
                driver_name=HOSTILE_NAME,
                tags="first",
            ),
        }
    )
    reader = open_store(store_settings, read_only=True)
    try:
        queries = DashboardQueries(reader)
        tower = queries.timing_tower(UID_INT64)
        assert tower is not None
        assert [row.driver_name for row in tower.rows] == names
        assert tower.rows[1].gap_to_leader_s == pytest.approx(1.25)
        (event,) = queries.events(UID_INT64)
        assert event.driver_name == HOSTILE_NAME
        assert event.other_driver_name == "Player"
        (lap,) = queries.best_laps(track_id=3)
        assert lap.driver_name == HOSTILE_NAME and lap.tags == "first"
        # The name as a bound parameter finds exactly its row.
        rows = reader.fetch(
            "SELECT car_index FROM participants WHERE name = ?", (HOSTILE_NAME,)
        )
        assert rows == [(0,)]
        assert reader.fetch("SELECT COUNT(*) FROM participants")[0][0] == 2
    finally:
        reader.close()


def test_a_batch_is_written_whole_or_not_at_all(writer_store: Store) -> None:
    broken = _lap_data(frame=1, cars=2)
    del broken["car_position"]
    with pytest.raises(ValueError, match="car_position"):
        writer_store.write_batch(
            {"participants": _participants(["A", "B"], frame=1), "lap_data": broken}
        )
    assert writer_store.fetch("SELECT COUNT(*) FROM participants") == [(0,)]
    written = writer_store.write_batch(
        {
            "participants": _participants(["A", "B"], frame=1),
            "lap_data": _lap_data(frame=1, cars=2),
        }
    )
    assert written == 4
    assert writer_store.fetch("SELECT COUNT(*) FROM lap_data") == [(2,)]


def test_nan_reads_back_as_missing(writer_store: Store) -> None:
    lap_data = _lap_data(frame=5, cars=2)
    lap_data["delta_to_race_leader_s"][:] = np.nan  # before 2023: not sent
    lap_data["delta_to_car_in_front_s"][:] = np.nan
    lap_data["total_distance_m"][:] = [1000.0, 900.0]
    lap_data["lap_distance_m"][:] = [1000.0, 900.0]
    lap_data["current_lap_time_s"][:] = [20.0, 20.0]
    writer_store.write_batch({"lap_data": lap_data})
    rows = writer_store.fetch(
        "SELECT delta_to_race_leader_s FROM lap_data WHERE session_uid = ?",
        (UID_INT64,),
    )
    assert rows == [(None,), (None,)]
    tower = DashboardQueries(writer_store).timing_tower(UID_INT64)
    assert tower is not None
    # Estimated from distance at the car's own pace: 100 m at 900 m / 20 s.
    assert tower.rows[1].gap_to_leader_s == pytest.approx(100 / 45.0)
    assert tower.rows[1].interval_s == pytest.approx(100 / 45.0)


def test_event_ids_rise_across_batches_and_reopening(
    store_settings: StoreSettings,
) -> None:
    def events(count: int, first_frame: int) -> dict[str, np.ndarray]:
        columns = blank_table("event", count)
        columns["session_uid"][:] = UID_INT64
        columns["frame"][:] = np.arange(first_frame, first_frame + count)
        columns["overall_frame"][:] = columns["frame"]
        columns["event_code"][:] = "SPTP"
        columns["vehicle_index"][:] = -1
        columns["other_vehicle_index"][:] = -1
        columns["speed_kph"][:] = 301.5
        return columns

    store = open_store(store_settings)
    store.write_batch({"event": events(3, 0)})
    store.write_batch({"event": events(2, 3)})
    store.close()
    store = open_store(store_settings)
    store.write_batch({"event": events(2, 5)})
    found = DashboardQueries(store).events(UID_INT64)
    store.close()
    ids = [event.event_id for event in found]
    assert len(ids) == 7 and ids == sorted(ids) and len(set(ids)) == 7
    assert [event.frame for event in found] == list(range(7))
    assert found[0].detail == "301.5 km/h"
    assert found[0].driver_name is None


def test_flashback_supersedes_the_rewound_samples(writer_store: Store) -> None:
    # Frames 1..100 driven, then a flashback at overall frame 101 back to frame 50,
    # then frames 51..80 driven again (overall 101..130) at another speed.
    def telemetry(frames: np.ndarray, overall: np.ndarray, speed: float):
        columns = blank_table("car_telemetry", len(frames))
        columns["session_uid"][:] = UID_INT64
        columns["frame"][:] = frames
        columns["overall_frame"][:] = overall
        columns["speed_kph"][:] = speed
        columns["lap_number"][:] = 2
        columns["lap_distance_m"][:] = frames * 10.0
        return columns

    first = np.arange(1, 101)
    again = np.arange(51, 81)
    writer_store.write_batch({"car_telemetry": telemetry(first, first, 100.0)})
    queries = DashboardQueries(writer_store)
    held = queries.car_samples(UID_INT64, 0, 2)
    assert held.last_frame == 100 and held.last_overall_frame == 100
    assert held.replaces_after_frame is None
    writer_store.write_batch(
        {
            "car_telemetry": telemetry(again, again + 50, 200.0),
            "rewinds": one_row(
                "rewinds",
                session_uid=UID_INT64,
                at_overall_frame=101,
                to_frame=50,
                unix_s=1.0,
            ),
        }
    )
    samples = queries.car_samples(UID_INT64, 0, 2)
    np.testing.assert_array_equal(samples.frame, np.arange(1, 81))
    assert set(samples.speed_kph[:50]) == {100.0}
    assert set(samples.speed_kph[50:]) == {200.0}
    state = queries.car_state(UID_INT64, 0)
    assert state is not None and state.frame == 80 and state.speed_kph == 200.0
    # A poller holding frames up to 100 is told to drop those above 50 and append.
    newer = queries.car_samples(
        UID_INT64, 0, 2, after_frame=100, after_overall_frame=100
    )
    assert newer.replaces_after_frame == 50
    np.testing.assert_array_equal(newer.frame, again)
    assert set(newer.speed_kph) == {200.0} and newer.last_overall_frame == 130
    # Once it holds the replayed frames, nothing is replaced again.
    latest = queries.car_samples(
        UID_INT64, 0, 2, after_frame=80, after_overall_frame=130
    )
    assert latest.replaces_after_frame is None and latest.last_frame is None
    # Without the overall frame the old contract holds: only frames above 100.
    assert queries.car_samples(UID_INT64, 0, 2, after_frame=100).last_frame is None


def test_pipeline_health_reads_the_latest_statistics(writer_store: Store) -> None:
    def stats(unix_s: float, total: int, bad: dict[str, int]) -> dict[str, np.ndarray]:
        return one_row(
            "ingest_stats",
            unix_s=unix_s,
            last_packet_unix_s=unix_s - 0.25,
            session_uid=UID_INT64,
            packets_total=total,
            packets_per_s=360.0,
            bad_total=sum(bad.values()),
            bad_by_reason=json.dumps(bad),
            write_lag_s=0.04,
            spooled_rows=0,
        )

    writer_store.write_batch({"ingest_stats": stats(1000.0, 10, {})})
    writer_store.write_batch(
        {"ingest_stats": stats(1001.0, 370, {"2024/3 wrong size": 2, "truncated": 5})}
    )
    health = DashboardQueries(writer_store).pipeline_health()
    assert health.packets_total == 370
    assert health.last_packet_unix_s == pytest.approx(1000.75)
    assert health.bad_packets == 7
    assert health.bad_by_reason == (("truncated", 5), ("2024/3 wrong size", 2))
    assert health.write_lag_s == pytest.approx(0.04)
    assert health.written_unix_s == pytest.approx(1001.0)


def test_penalty_and_safety_car_events_read_as_text(writer_store: Store) -> None:
    common = {"session_uid": UID_INT64, "vehicle_index": 0, "other_vehicle_index": 255}
    # Spec: penalty type 4 = time penalty, infringement 7 = corner cutting gained
    # time; safety car type 1 = full, event type 0 = deployed.
    penalty = one_row(
        "event",
        **common,
        frame=1,
        event_code="PENA",
        penalty_type=4,
        infringement_type=7,
        time_s=5.0,
        lap_number=3,
    )
    safety_car = one_row(
        "event",
        **common,
        frame=2,
        event_code="SCAR",
        safety_car_type=1,
        safety_car_event_type=0,
    )
    events = {
        name: np.concatenate([penalty[name], safety_car[name]]) for name in penalty
    }
    writer_store.write_batch({"event": events})
    read_penalty, read_safety_car = DashboardQueries(writer_store).events(UID_INT64)
    assert (
        read_penalty.detail == "+5 s, Time penalty, corner cutting gained time, lap 3"
    )
    assert read_penalty.other_vehicle_index is None  # 255 = no second car
    assert read_safety_car.detail == "Full safety car: deployed"


def test_a_repeated_lap_data_packet_does_not_double_the_tower(
    writer_store: Store,
) -> None:
    writer_store.write_batch({"lap_data": _lap_data(frame=9, cars=2)})
    writer_store.write_batch({"lap_data": _lap_data(frame=9, cars=2)})  # duplicate
    tower = DashboardQueries(writer_store).timing_tower(UID_INT64)
    assert tower is not None
    assert [row.car_index for row in tower.rows] == [0, 1]
