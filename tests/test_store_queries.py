"""Every dashboard query on a store holding the real Melbourne capture.

The capture goes through ingest (``replay_to_store``) into each backend; the tests
read it back through a read-only connection, as a viewer does.

The capture (F1 25, 2026 pack, packetFormat 2026) is a 5-lap race at Melbourne
(trackId 0, sessionType 15) with 22 active cars in 24-slot arrays, player car 21
(../shared/data/f1-udp/SOURCES.md). Expected values come from the decoded packets,
read here independently of the store, or from that description.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pytest
from store_fixtures import kept_packets

from f1dash_tui.settings import StoreSettings
from f1dash_tui.store.base import open_store
from f1dash_tui.store.queries import DashboardQueries
from f1dash_tui.store.snapshots import LapKey

Decoded = dict[str, dict[str, np.ndarray]]

PLAYER_CAR = 21
ACTIVE_CARS = 22


@pytest.fixture
def queries(melbourne_store_settings: StoreSettings) -> Iterator[DashboardQueries]:
    """Queries through a read-only connection, as a viewer process has."""
    store = open_store(melbourne_store_settings, read_only=True)
    try:
        yield DashboardQueries(store)
    finally:
        store.close()


def _latest(table: dict[str, np.ndarray]) -> np.ndarray:
    """Row indices of the table's highest overall frame."""
    return np.flatnonzero(table["overall_frame"] == table["overall_frame"].max())


def _row_of_car(table: dict[str, np.ndarray], car: int) -> int:
    rows = _latest(table)
    return int(rows[table["car_index"][rows] == car][0])


def _session_uid(decoded: Decoded) -> int:
    return int(decoded["session"]["session_uid"][0])


def _names(decoded: Decoded) -> dict[int, str]:
    people = decoded["participants"]
    rows = _latest(people)
    return {
        int(car): str(name)
        for car, name in zip(
            people["car_index"][rows], people["name"][rows], strict=True
        )
    }


def test_latest_session_is_the_melbourne_race(
    queries: DashboardQueries, melbourne_decoded: Decoded
) -> None:
    info = queries.latest_session()
    assert info is not None
    assert info.session_uid == _session_uid(melbourne_decoded)
    assert (info.packet_format, info.track_id, info.session_type) == (2026, 0, 15)
    assert info.total_laps == 5
    lap_data = melbourne_decoded["lap_data"]
    assert info.latest_frame == int(lap_data["frame"][_latest(lap_data)[0]])
    assert info.track_length_m == int(
        melbourne_decoded["session"]["track_length_m"][-1]
    )
    assert info.is_synthetic is False
    assert queries.session(12345) is None


def test_timing_tower_lists_22_drivers_in_position_order(
    queries: DashboardQueries, melbourne_decoded: Decoded
) -> None:
    uid = _session_uid(melbourne_decoded)
    tower = queries.timing_tower(uid)
    assert tower is not None
    assert [row.position for row in tower.rows] == list(range(1, ACTIVE_CARS + 1))
    assert sorted(row.car_index for row in tower.rows) == list(range(ACTIVE_CARS))
    lap_data = melbourne_decoded["lap_data"]
    assert tower.frame == int(lap_data["frame"][_latest(lap_data)[0]])
    names = _names(melbourne_decoded)
    # Ingest keeps at most 10 car status packets per second: the tower shows the
    # latest one kept.
    status = kept_packets(melbourne_decoded["car_status"])
    laps = melbourne_decoded["session_history"]
    for row in tower.rows:
        at = _row_of_car(lap_data, row.car_index)
        assert row.driver_name == names[row.car_index]
        assert row.driver_name  # real names, not empty slots
        assert row.position == lap_data["car_position"][at]
        assert row.lap_number == lap_data["current_lap_num"][at]
        assert row.sector == lap_data["sector"][at]
        assert row.pit_status == lap_data["pit_status"][at]
        if row.position == 1:
            assert row.gap_to_leader_s is None and row.interval_s is None
        else:
            # packetFormat 2026 sends both gaps (ms + minutes parts, in seconds here)
            assert row.gap_to_leader_s == pytest.approx(
                lap_data["delta_to_race_leader_s"][at]
            )
            assert row.interval_s == pytest.approx(
                lap_data["delta_to_car_in_front_s"][at]
            )
        tyres = _row_of_car(status, row.car_index)
        assert row.visual_tyre_compound == status["visual_tyre_compound"][tyres]
        assert row.tyres_age_laps == status["tyres_age_laps"][tyres]
        mine = (laps["car_index"] == row.car_index) & (laps["lap_time_s"] > 0)
        mine &= (laps["lap_valid_flags"] & 1) == 1
        expected_best = laps["lap_time_s"][mine].min() if mine.any() else None
        assert row.best_lap_s == pytest.approx(expected_best)
    gaps = [row.gap_to_leader_s for row in tower.rows[1:]]
    assert gaps == sorted(gaps), "gaps to the leader grow down the order"


def test_car_state_is_the_latest_decoded_packet(
    queries: DashboardQueries, melbourne_decoded: Decoded
) -> None:
    uid = _session_uid(melbourne_decoded)
    telemetry = melbourne_decoded["car_telemetry"]
    # Car status and damage are kept for at most 10 packets per second of session
    # time (this capture sends status every frame, damage at ~10 Hz).
    status = kept_packets(melbourne_decoded["car_status"])
    damage = kept_packets(melbourne_decoded["car_damage"])
    assert len(status["frame"]) < len(melbourne_decoded["car_status"]["frame"])
    for car in (PLAYER_CAR, 0):
        state = queries.car_state(uid, car)
        assert state is not None
        t = _row_of_car(telemetry, car)
        assert state.speed_kph == pytest.approx(float(telemetry["speed_kph"][t]))
        assert state.gear == telemetry["gear"][t]
        assert state.engine_rpm == telemetry["engine_rpm"][t]
        assert state.throttle == pytest.approx(float(telemetry["throttle"][t]))
        assert state.tyres_surface_temperature_c == pytest.approx(
            [float(telemetry[f"tyres_surface_temperature_c_{w}"][t]) for w in WHEELS]
        )
        s = _row_of_car(status, car)
        assert state.fuel_in_tank_kg == pytest.approx(
            float(status["fuel_in_tank_kg"][s])
        )
        assert state.max_rpm == status["max_rpm"][s]
        d = _row_of_car(damage, car)
        assert state.tyres_wear_pct == pytest.approx(
            [float(damage[f"tyres_wear_pct_{w}"][d]) for w in WHEELS]
        )
    # Speeds of a race car at speed: the player is racing, 0..400 km/h.
    player = queries.car_state(uid, PLAYER_CAR)
    assert player is not None and player.speed_kph is not None
    assert 0 < player.speed_kph < 400
    assert queries.car_state(uid + 1, 0) is None


WHEELS = ("rl", "rr", "fl", "fr")


def _expected_lap_samples(decoded: Decoded, car: int) -> tuple[int, np.ndarray]:
    """(current lap, telemetry row indices of that lap by frame) of one car."""
    from store_fixtures import with_lap_positions

    telemetry = with_lap_positions(decoded["car_telemetry"], decoded["lap_data"])
    lap = int(telemetry["lap_number"][_row_of_car(telemetry, car)])
    rows = np.flatnonzero(
        (telemetry["car_index"] == car) & (telemetry["lap_number"] == lap)
    )
    return lap, rows[np.argsort(telemetry["frame"][rows], kind="stable")]


def test_car_samples_hold_the_lap_and_come_incrementally(
    queries: DashboardQueries, melbourne_decoded: Decoded
) -> None:
    uid = _session_uid(melbourne_decoded)
    lap, rows = _expected_lap_samples(melbourne_decoded, PLAYER_CAR)
    telemetry = melbourne_decoded["car_telemetry"]
    samples = queries.car_samples(uid, PLAYER_CAR, lap)
    assert len(samples.frame) == len(rows) > 100
    np.testing.assert_array_equal(samples.frame, telemetry["frame"][rows])
    np.testing.assert_allclose(samples.speed_kph, telemetry["speed_kph"][rows])
    np.testing.assert_allclose(samples.throttle, telemetry["throttle"][rows])
    np.testing.assert_array_equal(samples.gear, telemetry["gear"][rows])
    assert np.all(np.diff(samples.frame) > 0)
    # Positions come from the car's motion packet of that frame or the one before
    # (the capture holds motion and telemetry packets of different frames), stored
    # on the telemetry row by ingest.
    motion = melbourne_decoded["motion"]
    last = int(samples.frame[-1])
    mine = np.flatnonzero(
        (motion["car_index"] == PLAYER_CAR) & (motion["frame"] <= last)
    )
    at = mine[np.argmax(motion["frame"][mine])]
    assert samples.world_position_x_m[-1] == pytest.approx(
        float(motion["world_position_x_m"][at])
    )
    assert samples.world_position_z_m[-1] == pytest.approx(
        float(motion["world_position_z_m"][at])
    )
    assert not samples.frame.flags.writeable

    middle = int(samples.frame[len(samples.frame) // 2])
    newer = queries.car_samples(uid, PLAYER_CAR, lap, after_frame=middle)
    assert newer.frame[0] > middle
    np.testing.assert_array_equal(
        np.concatenate([samples.frame[samples.frame <= middle], newer.frame]),
        samples.frame,
    )
    assert (
        queries.car_samples(uid, PLAYER_CAR, lap, after_frame=last).last_frame is None
    )


def test_positions_of_all_cars_at_the_latest_telemetry_frame(
    queries: DashboardQueries, melbourne_decoded: Decoded
) -> None:
    uid = _session_uid(melbourne_decoded)
    positions = queries.positions(uid)
    assert positions is not None
    telemetry = melbourne_decoded["car_telemetry"]
    motion = melbourne_decoded["motion"]
    rows = _latest(telemetry)
    assert positions.frame == int(telemetry["frame"][rows[0]])
    assert list(positions.car_index) == list(range(ACTIVE_CARS))
    latest_overall = int(telemetry["overall_frame"][rows[0]])
    for car, x_m, z_m in zip(
        positions.car_index,
        positions.world_position_x_m,
        positions.world_position_z_m,
        strict=True,
    ):
        # The car's last motion row at or before the telemetry frame.
        mine = np.flatnonzero(
            (motion["car_index"] == car) & (motion["overall_frame"] <= latest_overall)
        )
        at = mine[np.argmax(motion["overall_frame"][mine])]
        assert x_m == pytest.approx(float(motion["world_position_x_m"][at]))
        assert z_m == pytest.approx(float(motion["world_position_z_m"][at]))


def test_events_come_in_order_with_names_and_details(
    queries: DashboardQueries, melbourne_decoded: Decoded
) -> None:
    uid = _session_uid(melbourne_decoded)
    events = queries.events(uid)
    decoded = melbourne_decoded["event"]
    shown = [code for code in decoded["event_code"] if code != "BUTN"]
    assert [event.event_code for event in events] == shown
    assert {"FTLP", "OVTK", "SPTP"} <= {event.event_code for event in events}
    ids = [event.event_id for event in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    names = _names(melbourne_decoded)
    for event in events:
        if event.vehicle_index is not None:
            assert event.driver_name == names[event.vehicle_index]
        if event.event_code == "FTLP":
            minutes, seconds = event.detail.split(":")
            row = np.flatnonzero(decoded["event_code"] == "FTLP")[0]
            expected = float(decoded["lap_time_s"][row])
            assert int(minutes) * 60 + float(seconds) == pytest.approx(
                expected, abs=5e-4
            )
        if event.event_code == "OVTK":
            assert event.other_driver_name == names[event.other_vehicle_index]
    assert queries.events(uid, after_event_id=ids[-1]) == []
    assert queries.events(uid, after_event_id=ids[-2]) == events[-1:]


def test_best_laps_are_valid_and_fastest_first(
    queries: DashboardQueries, melbourne_decoded: Decoded
) -> None:
    best = queries.best_laps(track_id=0, limit=50)
    history = melbourne_decoded["session_history"]
    valid = (history["lap_time_s"] > 0) & ((history["lap_valid_flags"] & 1) == 1)
    assert best, "the capture's Session History holds completed first laps"
    times = [lap.lap_time_s for lap in best]
    assert times == sorted(times)
    assert times[0] == pytest.approx(float(history["lap_time_s"][valid].min()))
    names = _names(melbourne_decoded)
    for lap in best:
        assert lap.driver_name == names[lap.key.car_index]
        assert lap.track_id == 0 and lap.session_type == 15
        # Ingest stamps a session with the wall-clock time it first saw it.
        assert lap.session_started_unix_s is not None
        assert time.time() - 3600 < lap.session_started_unix_s <= time.time()
    assert queries.best_laps(track_id=0, limit=3) == best[:3]
    assert queries.best_laps(track_id=17) == []


def test_reference_lap_is_ordered_by_lap_distance(
    queries: DashboardQueries, melbourne_decoded: Decoded
) -> None:
    best = queries.best_laps(track_id=0, limit=1)[0]
    reference = queries.reference_lap(best.key)
    assert reference.lap == best
    distances = reference.samples.lap_distance_m
    assert len(distances) > 0
    assert np.all(np.diff(distances) >= 0)
    with pytest.raises(Exception, match="not a completed lap"):
        queries.reference_lap(LapKey(best.key.session_uid, 0, 99))


def test_pipeline_health_counts_every_packet_of_the_capture(
    queries: DashboardQueries,
) -> None:
    health = queries.pipeline_health()
    assert health.packets_total == 7_124  # SOURCES.md: 7,124 packets
    assert health.bad_packets == 0 and health.bad_by_reason == ()
    assert health.last_packet_unix_s is not None
    assert time.time() - 3600 < health.last_packet_unix_s <= time.time()
    assert health.write_lag_s is not None and health.write_lag_s >= 0
