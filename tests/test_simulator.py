"""The simulator: a synthetic race as real game packets, checked through the decoder.

Races are short (3 cars, 2 laps, 20 Hz: ~4,000 ticks) so the whole file runs in
seconds. Expected values come from the game's specification (value ranges, enums)
and from the real Melbourne capture (track length, outline), never from a run of the
simulator itself.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from f1dash_tui.errors import ConfigError
from f1dash_tui.telemetry.decode import Decoder
from f1dash_tui.telemetry.pcap import read_pcap
from f1dash_tui.telemetry.simulation.packing import HeaderValues, PacketBuilder
from f1dash_tui.telemetry.simulation.race import POWER_UNITS, RaceModel
from f1dash_tui.telemetry.simulation.track import load_track
from f1dash_tui.telemetry.simulator import (
    SimulationOptions,
    is_synthetic_session,
    simulate,
    write_pcap,
)

CARS, LAPS, RATE_HZ = 3, 2, 20
MELBOURNE_LENGTH_M = 5276  # the game's Session packets in the real capture
RACE_SESSION_TYPE = 15  # 2024+ enum
VISUAL_SOFT_MEDIUM_HARD = {16, 17, 18}


def _race(packet_format: int) -> dict:
    options = SimulationOptions(
        cars=CARS, laps=LAPS, send_rate_hz=RATE_HZ, packet_format=packet_format
    )
    stream = list(simulate(options))
    decoder = Decoder()
    batch = decoder.decode([datagram for _, datagram in stream])
    return {"stream": stream, "tables": batch.tables, "bad": decoder.bad}


@pytest.fixture(scope="module", params=[2025, 2026])
def race(request: pytest.FixtureRequest) -> dict:
    """A decoded 3-car, 2-lap race in each packet format."""
    result = _race(request.param)
    result["packet_format"] = request.param
    return result


def _active(table: dict, cars: int = CARS) -> dict:
    keep = table["car_index"] < cars
    return {name: values[keep] for name, values in table.items()}


def test_every_datagram_decodes_without_bad_packets(race: dict) -> None:
    assert race["bad"] == {}
    tables = race["tables"]
    for kind in (
        "motion",
        "lap_data",
        "car_telemetry",
        "car_status",
        "car_damage",
        "session",
        "participants",
        "event",
        "session_history",
        "final_classification",
    ):
        assert len(tables[kind]["frame"]) > 0, kind
    assert set(tables["motion"]["packet_format"]) == {race["packet_format"]}


def test_times_rise_and_frames_rise_by_one_per_tick(race: dict) -> None:
    times = np.array([time_s for time_s, _ in race["stream"]])
    assert np.all(np.diff(times) >= 0)
    motion = race["tables"]["motion"]
    frames = np.unique(motion["frame"])
    assert frames[0] == 0
    assert np.all(np.diff(frames) == 1)
    assert np.array_equal(motion["frame"], motion["overall_frame"])
    tick_s = np.diff(np.unique(motion["session_time_s"]))
    assert np.allclose(tick_s, 1 / RATE_HZ, atol=1e-3)


def test_session_packet_describes_a_melbourne_race(race: dict) -> None:
    session = race["tables"]["session"]
    assert set(session["track_id"]) == {0}
    assert set(session["track_length_m"]) == {MELBOURNE_LENGTH_M}
    assert set(session["total_laps"]) == {LAPS}
    assert set(session["session_type"]) == {RACE_SESSION_TYPE}
    assert set(session["network_game"]) == {0}
    assert np.all(np.diff(session["session_time_left_s"]) <= 0)
    assert set(session["weather"]) <= {0, 1, 2}  # dry: clear, light or overcast
    assert np.all(
        (session["air_temperature_c"] >= 10) & (session["air_temperature_c"] <= 35)
    )
    assert np.all(session["track_temperature_c"] > session["air_temperature_c"])
    # The capture's sector boundaries at Melbourne.
    assert session["sector2_lap_distance_start_m"][0] == pytest.approx(1757.05, 0.01)


def test_session_is_marked_synthetic_and_real_capture_is_not(
    race: dict, melbourne_pcap: Path
) -> None:
    session = race["tables"]["session"]
    uid = int(session["session_uid"][0])
    assert uid != 0
    assert is_synthetic_session(uid, int(session["network_game"][0]))
    assert is_synthetic_session(uid & 0xFFFF_FFFF_FFFF_FFFF, 0)
    assert not is_synthetic_session(uid, 1)
    real = Decoder().decode([d.payload for d in read_pcap(melbourne_pcap)])
    real_session = real.tables["session"]
    for real_uid, network_game in zip(
        real_session["session_uid"], real_session["network_game"], strict=True
    ):
        assert not is_synthetic_session(int(real_uid), int(network_game))


def test_participants_name_every_car(race: dict) -> None:
    people = race["tables"]["participants"]
    assert set(people["num_active_cars"]) == {CARS}
    active = _active(people)
    assert all(isinstance(name, str) and name for name in active["name"])
    assert len(set(active["name"])) == CARS


def test_speeds_gears_and_inputs_are_in_the_game_ranges(race: dict) -> None:
    telemetry = _active(race["tables"]["car_telemetry"])
    assert telemetry["speed_kph"].min() >= 0
    assert telemetry["speed_kph"].max() <= 360
    assert telemetry["speed_kph"].max() > 250  # Albert Park's straights
    assert telemetry["gear"].min() >= -1
    assert telemetry["gear"].max() <= 8
    for name in ("throttle", "brake"):
        assert telemetry[name].min() >= 0 and telemetry[name].max() <= 1
        assert telemetry[name].max() > 0.5
    assert telemetry["steer"].min() >= -1 and telemetry["steer"].max() <= 1
    # Hard braking happens where the car slows down, not on the straights.
    braking = telemetry["brake"] > 0.5
    assert telemetry["speed_kph"][braking].mean() < telemetry["speed_kph"].max()
    assert np.all(telemetry["engine_rpm"] <= 13000)


def test_every_car_completes_every_lap(race: dict) -> None:
    laps = _active(race["tables"]["lap_data"])
    for car in range(CARS):
        lap_numbers = laps["current_lap_num"][laps["car_index"] == car]
        assert lap_numbers[0] == 1
        assert lap_numbers.max() == LAPS
        assert np.all(np.diff(lap_numbers) >= 0)
    final = _active(race["tables"]["final_classification"])
    assert sorted(final["position"]) == list(range(1, CARS + 1))
    assert set(final["num_laps"]) == {LAPS}
    assert set(final["result_status"]) == {3}  # finished


def test_positions_are_a_permutation_every_frame(race: dict) -> None:
    laps = _active(race["tables"]["lap_data"])
    order = np.lexsort((laps["car_index"], laps["frame"]))
    positions = laps["car_position"][order].reshape(-1, CARS)
    assert np.all(np.sort(positions, axis=1) == np.arange(1, CARS + 1))


def test_gaps_are_zero_for_the_leader_and_grow_down_the_order(race: dict) -> None:
    laps = _active(race["tables"]["lap_data"])
    leader = laps["car_position"] == 1
    assert np.all(laps["delta_to_race_leader_s"][leader] == 0)
    assert np.all(laps["delta_to_race_leader_s"] >= 0)
    second = laps["car_position"] == 2
    assert laps["delta_to_race_leader_s"][second].max() > 0
    racing = second & (laps["current_lap_num"] >= 1)
    assert np.allclose(
        laps["delta_to_car_in_front_s"][racing],
        laps["delta_to_race_leader_s"][racing],
        atol=0.002,
    )


def test_lap_times_are_plausible_for_melbourne(race: dict) -> None:
    history = _active(race["tables"]["session_history"])
    final = history["frame"] == history["frame"].max()
    # The race ends with one Session History packet per car (maybe after a periodic
    # one in the same frame): one row per car and lap.
    rows = {
        (int(car), int(lap)): (lap_time, s1, s2, s3)
        for car, lap, lap_time, s1, s2, s3 in zip(
            history["car_index"][final],
            history["lap_number"][final],
            history["lap_time_s"][final],
            history["sector1_time_s"][final],
            history["sector2_time_s"][final],
            history["sector3_time_s"][final],
            strict=True,
        )
    }
    assert sorted(rows) == [(car, lap) for car in range(CARS) for lap in (1, 2)]
    lap_times = np.array([row[0] for row in rows.values()])
    # A race lap at Albert Park takes 80-90 s; the laps into and out of a pit stop
    # up to ~20 s more (both laps of this race have one).
    assert np.all((lap_times > 75) & (lap_times < 110))
    sectors = np.array([row[1] + row[2] + row[3] for row in rows.values()])
    assert np.allclose(sectors, lap_times, atol=0.003)
    laps = _active(race["tables"]["lap_data"])
    last = laps["last_lap_time_s"][laps["last_lap_time_s"] > 0]
    assert np.all((last > 75) & (last < 110))


def test_pit_stops_change_compound_and_reset_tyre_age(race: dict) -> None:
    status = _active(race["tables"]["car_status"])
    laps = _active(race["tables"]["lap_data"])
    for car in range(CARS):
        mine = status["car_index"] == car
        compound = status["visual_tyre_compound"][mine]
        age = status["tyres_age_laps"][mine]
        assert set(compound) <= VISUAL_SOFT_MEDIUM_HARD
        changes = np.nonzero(np.diff(compound) != 0)[0]
        assert len(changes) == 1, f"car {car}: one stop in a 2-lap race"
        before, after = changes[0], changes[0] + 1
        assert age[before] >= 1
        assert age[after] == 0
        stops = laps["num_pit_stops"][laps["car_index"] == car]
        assert stops[0] == 0 and stops[-1] == 1
        pit_status = laps["pit_status"][laps["car_index"] == car]
        assert {0, 1, 2} <= set(pit_status)


def test_tyres_wear_and_fuel_burns(race: dict) -> None:
    status = _active(race["tables"]["car_status"])
    damage = _active(race["tables"]["car_damage"])
    telemetry = _active(race["tables"]["car_telemetry"])
    for car in range(CARS):
        fuel = status["fuel_in_tank_kg"][status["car_index"] == car]
        assert fuel[-1] < fuel[0]
        wear = damage["tyres_wear_pct_rl"][damage["car_index"] == car]
        assert wear.max() > 0.5
    assert telemetry["tyres_surface_temperature_c_fl"].min() >= 60
    assert telemetry["tyres_surface_temperature_c_fl"].max() <= 140
    assert status["ers_store_energy_j"].max() <= 4.0e6  # the rules' store size
    assert status["ers_deployed_this_lap_j"].max() > 0


def test_race_events_from_start_to_flag(race: dict) -> None:
    events = race["tables"]["event"]
    codes = list(events["event_code"])
    for code in ("SSTA", "LGOT", "FTLP", "CHQF", "SEND"):
        assert code in codes, code
    assert codes[0] == "SSTA"
    assert codes[-1] == "SEND"
    assert codes.index("LGOT") < codes.index("FTLP") < codes.index("CHQF")
    lights = events["num_lights"][events["event_code"] == "STLG"]
    assert list(lights) == [1, 2, 3, 4, 5]
    fastest = events["lap_time_s"][events["event_code"] == "FTLP"]
    assert np.all(np.diff(fastest) < 0)  # each fastest lap beats the previous one


def test_cars_stay_on_the_outline(race: dict) -> None:
    track = load_track("melbourne")
    outline = np.column_stack([track.x_m, track.z_m])
    motion = _active(race["tables"]["motion"])
    laps = _active(race["tables"]["lap_data"])
    points = np.column_stack(
        [motion["world_position_x_m"], motion["world_position_z_m"]]
    )[::7]
    in_pit_lane = (laps["pit_status"] > 0)[::7]
    nearest = np.array([np.min(np.hypot(*(outline - point).T)) for point in points])
    assert np.all(nearest[~in_pit_lane] < 6.0)  # lane offsets of up to 2.5 m
    assert np.all(nearest[in_pit_lane] < 20.0)  # the pit lane beside the straight
    speed = np.hypot(motion["world_velocity_x_mps"], motion["world_velocity_z_mps"])
    telemetry = _active(race["tables"]["car_telemetry"])
    assert np.allclose(speed * 3.6, telemetry["speed_kph"], atol=1.0)
    forward = np.hypot(motion["world_forward_dir_x"], motion["world_forward_dir_z"])
    assert np.allclose(forward, 1.0, atol=1e-3)


def test_outline_follows_the_real_capture(melbourne_pcap: Path) -> None:
    """The outline file was derived from the capture: real cars drive along it."""
    track = load_track("melbourne")
    assert track.length_m == MELBOURNE_LENGTH_M
    segments = np.hypot(
        np.diff(np.append(track.x_m, track.x_m[0])),
        np.diff(np.append(track.z_m, track.z_m[0])),
    )
    assert abs(segments.sum() - MELBOURNE_LENGTH_M) < 0.03 * MELBOURNE_LENGTH_M
    assert segments.max() < 15.0  # closed: no jump back to the start
    tables = Decoder().decode([d.payload for d in read_pcap(melbourne_pcap)]).tables
    motion, laps = tables["motion"], tables["lap_data"]
    active = laps["car_position"][: len(motion["frame"])] > 0
    points = np.column_stack(
        [motion["world_position_x_m"], motion["world_position_z_m"]]
    )[active][::50]
    outline = np.column_stack([track.x_m, track.z_m])
    nearest = np.array([np.min(np.hypot(*(outline - p).T)) for p in points])
    assert np.median(nearest) < 4.0
    assert np.percentile(nearest, 95) < 10.0


def test_speed_profile_brakes_before_corners() -> None:
    track = load_track("melbourne")
    assert 75 < track.lap_time_s < 90
    tightest = np.argsort(np.abs(track.curvature_right_per_m))[-5:]
    fastest = track.speed_mps.max()
    for index in tightest:
        assert track.speed_mps[index] < 0.7 * fastest
        before = [(index - k) % len(track.brake) for k in range(1, 25)]
        assert track.brake[before].max() > 0.5


def test_write_pcap_round_trips(tmp_path: Path) -> None:
    options = SimulationOptions(cars=2, laps=1, send_rate_hz=10, packet_format=2025)
    path = tmp_path / "race.pcap"
    count = write_pcap(options, path, start_unix_s=1_767_225_600.0)
    captured = list(read_pcap(path))
    expected = list(simulate(options))
    assert count == len(captured) == len(expected)
    assert [c.payload for c in captured] == [datagram for _, datagram in expected]
    assert captured[0].timestamp_s == pytest.approx(1_767_225_600.0)
    assert captured[-1].timestamp_s == pytest.approx(
        1_767_225_600.0 + expected[-1][0], abs=1e-5
    )


def test_same_seed_same_race_other_seed_other_race() -> None:
    def first_datagrams(seed: int) -> list[bytes]:
        options = SimulationOptions(cars=4, laps=1, send_rate_hz=10, seed=seed)
        stream = simulate(options)
        return [next(stream)[1] for _ in range(400)]

    assert first_datagrams(7) == first_datagrams(7)
    assert first_datagrams(7) != first_datagrams(8)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (SimulationOptions(packet_format=2024), "2025 or 2026"),
        (SimulationOptions(cars=23, packet_format=2025), "1..22"),
        (SimulationOptions(cars=25, packet_format=2026), "1..24"),
        (SimulationOptions(send_rate_hz=5), "10..120"),
        (SimulationOptions(laps=0), "laps"),
        (SimulationOptions(track="monza"), "melbourne"),
    ],
)
def test_impossible_options_are_one_line_errors(
    options: SimulationOptions, message: str
) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        simulate(options)
    assert "\n" not in str(caught.value)


def test_default_grid_follows_the_format() -> None:
    assert SimulationOptions(packet_format=2025).num_cars == 20
    assert SimulationOptions(packet_format=2026).num_cars == 22


def _seed_with_virtual_safety_car(cars: int, laps: int) -> int:
    """The first seed whose race plans a virtual safety car (about half do)."""
    track = load_track("melbourne")
    for seed in range(1, 50):
        model = RaceModel(
            track, cars, laps, np.random.default_rng(seed), power_unit=POWER_UNITS[2025]
        )
        if model.vsc_window_s is not None:
            return seed
    raise AssertionError("no seed with a virtual safety car in 50")


def test_virtual_safety_car_slows_the_field_and_is_announced() -> None:
    laps = 8
    seed = _seed_with_virtual_safety_car(3, laps)
    model = RaceModel(
        load_track("melbourne"),
        3,
        laps,
        np.random.default_rng(seed),
        power_unit=POWER_UNITS[2025],
    )
    model.slow_every = 1
    builder = PacketBuilder(HeaderValues(2025, 1 << 40), model, laps)
    samples, datagrams = [], []
    while not model.all_finished:
        model.step(0.25)
        samples.append((model.time_s, model.safety_car_status, model.speed_mps.mean()))
        for event in model.events:
            datagrams.append(builder.event(event, model.time_s, 0))
        model.events.clear()
        if model.safety_car_status and len(datagrams) < 100:
            datagrams.append(builder.session(model.time_s, 0))
    tables = Decoder().decode(datagrams).tables
    events = tables["event"]
    scar = events["event_code"] == "SCAR"
    assert list(events["safety_car_type"][scar]) == [2, 2]  # virtual
    assert list(events["safety_car_event_type"][scar]) == [0, 3]  # deployed, resume
    assert "DRSD" in set(events["event_code"])
    assert set(tables["session"]["safety_car_status"]) == {2}
    times, status, mean_speed = np.array(samples).T
    deployed_s, resumed_s = events["session_time_s"][scar]
    assert 55 <= resumed_s - deployed_s <= 125
    under = (times > deployed_s + 10) & (times < resumed_s)
    green = (times > deployed_s - 200) & (times < deployed_s)
    assert set(status[under]) == {2}
    assert mean_speed[under].mean() < 0.85 * mean_speed[green].mean()


def test_pace_differs_per_car_and_gaps_open_and_close() -> None:
    track = load_track("melbourne")
    model = RaceModel(
        track, 8, 4, np.random.default_rng(3), power_unit=POWER_UNITS[2026]
    )
    gaps_to_leader = []
    while not model.all_finished:
        model.step(0.25)
        if model.race_started and model.chequered_s is None:
            gaps_to_leader.append(model.delta_leader_s.copy())
    best = np.array([min(h.lap_times_s) for h in model.history])
    # Same cars, different drivers: 0.3-4 s a lap between the fastest and slowest.
    assert 0.3 < best.max() - best.min() < 4.0
    gaps = np.array(gaps_to_leader)[::20]  # every 5 s
    changes = np.diff(gaps, axis=0)
    opened = (changes > 0.05).any(axis=0)
    closed = (changes < -0.05).any(axis=0)
    assert np.sum(opened & closed) >= 3  # several cars both lose and gain time


def test_world_positions_advance_at_the_speed_shown(race: dict) -> None:
    motion = race["tables"]["motion"]
    telemetry = race["tables"]["car_telemetry"]
    for car in range(CARS):
        mine = motion["car_index"] == car
        xz = np.column_stack(
            [motion["world_position_x_m"][mine], motion["world_position_z_m"][mine]]
        )
        step_m = np.hypot(*np.diff(xz, axis=0).T)
        speed_mps = telemetry["speed_kph"][telemetry["car_index"] == car][1:] / 3.6
        moving = speed_mps > 20
        ratio = step_m[moving] / (speed_mps[moving] / RATE_HZ)
        # Along the outline a metre of lap distance is a metre of world distance,
        # give or take where smoothing the capture cut a hairpin short (~25 %).
        assert 0.98 < np.median(ratio) < 1.02
        assert np.percentile(ratio, 1) > 0.7
        assert np.percentile(ratio, 99) < 1.25
