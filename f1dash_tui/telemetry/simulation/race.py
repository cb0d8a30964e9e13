"""The race model: every car's state, advanced one tick at a time, vectorised per car.

Physical units throughout (m, s, m/s, kg, J, degC, %); ``packing`` turns a state into
the game's packets. Things that happen rarely (a lap completed, a pit stop, a
penalty) are handled per car in Python; everything per tick is numpy over all cars.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from f1dash_tui.telemetry.simulation.track import (
    BRAKING_MPS2,
    GRAVITY_MPS2,
    LAUNCH_ACCELERATION_MPS2,
    TOP_SPEED_MPS,
    TrackModel,
)

# Tyre compounds as the game numbers them (2025 and 2026): at Melbourne the soft is
# C5, the medium C4 and the hard C3.
SOFT, MEDIUM, HARD = 0, 1, 2
ACTUAL_COMPOUND = np.array([16, 17, 18])
VISUAL_COMPOUND = np.array([16, 17, 18])
COMPOUND_TIME_FACTOR = np.array([-0.007, 0.0, 0.005])
"""Soft ~0.55 s a lap quicker than the medium, hard ~0.4 s slower, at 80 s a lap."""
WEAR_PCT_PER_LAP = np.array([3.0, 2.0, 1.4])
WEAR_TIME_FACTOR_PER_PCT = 0.0008
"""20 % average wear costs ~1.3 s a lap."""
FUEL_TIME_FACTOR_PER_KG = 0.00035
"""~0.03 s a lap per kg of fuel, the usual rule of thumb."""
FUEL_KG_PER_LAP = 1.65
FUEL_CAPACITY_KG = 110.0
ERS_STORE_MAX_J = 4.0e6


@dataclass(frozen=True)
class PowerUnit:
    """The hybrid rules a format's cars race under."""

    mguk_power_w: float
    ers_deploy_per_lap_j: float
    mguh_power_w: float
    """Heat recovery while flat out; 0 under the 2026 rules (no MGU-H)."""


POWER_UNITS = {
    # 2014-2025 rules: 120 kW MGU-K, 4 MJ a lap from the store, an MGU-H.
    2025: PowerUnit(mguk_power_w=120e3, ers_deploy_per_lap_j=4.0e6, mguh_power_w=40e3),
    # 2026 rules: 350 kW MGU-K, no MGU-H; the capture's cars use ~7 MJ a lap (its
    # ers_harvest_limit_per_lap field says 7 MJ).
    2026: PowerUnit(mguk_power_w=350e3, ers_deploy_per_lap_j=7.0e6, mguh_power_w=0.0),
}

PIT_LANE_OFFSET_M = -14.0
"""The pit lane runs beside the main straight, ~14 m left of the racing line."""
GRID_SLOT_M = 8.0
"""F1 grid slots are 8 m apart."""

# Gear top speeds (km/h at ~12,000 rpm) for an 8-speed F1 gearbox.
GEAR_TOP_KPH = np.array([1.0, 95, 128, 160, 192, 225, 258, 293, 340])
IDLE_RPM, SHIFT_RPM, MAX_RPM = 4000, 12000, 13000

# Driver statuses and result statuses (the game's values).
IN_LAP, OUT_LAP, ON_TRACK = 2, 3, 4
RESULT_ACTIVE, RESULT_FINISHED = 2, 3


@dataclass
class RaceEvent:
    """An event to send: the 4-letter code and its details (physical units)."""

    code: str
    vehicle_index: int = 255
    other_vehicle_index: int = 255
    lap_time_s: float = 0.0
    num_lights: int = 0
    penalty_type: int = 0
    infringement_type: int = 0
    time_s: int = 255
    lap_number: int = 0
    places_gained: int = 0
    safety_car_type: int = 0
    safety_car_event_type: int = 0
    reason: int = 0


@dataclass
class CarHistory:
    """Completed laps and tyre stints of one car (for Session History packets)."""

    lap_times_s: list[float] = field(default_factory=list)
    sector_times_s: list[tuple[float, float, float]] = field(default_factory=list)
    lap_valid: list[bool] = field(default_factory=list)
    stints: list[tuple[int, int]] = field(default_factory=list)
    """(end lap or 255 while running, compound index)."""


class RaceModel:
    """State of all cars in a race at Melbourne (or another outline) and its rules."""

    def __init__(
        self,
        track: TrackModel,
        num_cars: int,
        total_laps: int,
        rng: np.random.Generator,
        *,
        power_unit: PowerUnit,
    ) -> None:
        self.track = track
        self.n = num_cars
        self.total_laps = total_laps
        self.rng = rng
        self.power_unit = power_unit
        self.time_s = 0.0
        self.lights_out_s = 5.0 + float(rng.uniform(0.2, 1.2))
        self.events: list[RaceEvent] = [RaceEvent("SSTA")]
        self._lights_shown = 0
        self.length_m = track.length_m
        n = num_cars
        # Pace: best car ~1.0, the slowest ~2.5 % (2 s a lap) off; grid roughly by pace.
        self.base_time_factor = 1.0 + np.sort(rng.uniform(0.0, 0.025, n))
        self.base_time_factor += rng.normal(0.0, 0.002, n)  # qualifying is not the race
        self.wobble_amplitude = rng.uniform(0.002, 0.006, n)
        self.wobble_period_s = rng.uniform(180.0, 480.0, n)
        self.wobble_phase = rng.uniform(0.0, 2 * np.pi, n)
        self.lane_offset_m = rng.uniform(-2.5, 2.5, n)
        self.grid_position = np.arange(1, n + 1)
        self.total_distance_m = -(GRID_SLOT_M * np.arange(n) + 6.0)
        self.speed_mps = np.zeros(n)
        self.acceleration_mps2 = np.zeros(n)
        self.completed_laps = np.zeros(n, dtype=np.int64)
        self.line_crossings = np.zeros(n, dtype=np.int64)
        """Times over the line since the start (counts on after the flag)."""
        self.lap_start_s = np.zeros(n)
        self.sector = np.zeros(n, dtype=np.int64)
        self.sector1_s = np.zeros(n)
        self.sector2_s = np.zeros(n)
        self.last_lap_s = np.zeros(n)
        self.best_lap_s = np.full(n, np.inf)
        self.best_lap_num = np.zeros(n, dtype=np.int64)
        self.fastest_lap_s = np.inf
        self.lap_invalid = np.zeros(n, dtype=bool)
        self.penalties_s = np.zeros(n, dtype=np.int64)
        self.num_penalties = np.zeros(n, dtype=np.int64)
        self.warnings = np.zeros(n, dtype=np.int64)
        self.next_penalty_s = float(rng.exponential(90.0)) + 30.0
        self.driver_status = np.full(n, ON_TRACK)
        self.result_status = np.full(n, RESULT_ACTIVE)
        self.finished = np.zeros(n, dtype=bool)
        self.finish_order = np.zeros(n, dtype=np.int64)
        self.finish_time_s = np.zeros(n)
        self.race_time_s = np.zeros(n)
        self.chequered_s: float | None = None
        self.drs_enabled = False
        # A virtual safety car in about half the races of 8 laps or more, somewhere
        # between 30 % and 70 % of the distance, for 60-120 s.
        self.safety_car_status = 0  # 0 none, 2 virtual (as the Session packet)
        self.virtual_safety_cars = 0
        self.vsc_window_s: tuple[float, float] | None = None
        if total_laps >= 8 and rng.random() < 0.5:
            start_s = self.lights_out_s + rng.uniform(0.3, 0.7) * total_laps * 82.0
            self.vsc_window_s = (start_s, start_s + rng.uniform(60.0, 120.0))
        # Weather: clear or light cloud (dry: the tyre model has no wet compounds);
        # an Albert Park afternoon, the track ~10 degC above the air, warming slowly.
        self.weather = int(rng.choice([0, 0, 1]))
        self.air_temperature_c = float(rng.uniform(17.0, 27.0))
        self.track_temperature_c = self.air_temperature_c + float(
            rng.uniform(7.0, 13.0)
        )
        # Tyres: half the grid starts on mediums, a quarter each on softs and hards.
        self.compound = rng.choice([SOFT, MEDIUM, MEDIUM, HARD], n)
        self.tyre_age_laps = np.zeros(n, dtype=np.int64)
        self.wear_pct = np.zeros((n, 4))
        self.wear_rate = rng.uniform(0.9, 1.1, n)
        self.brake_heat = np.zeros(n)
        self.fuel_kg = np.full(
            n, min(FUEL_CAPACITY_KG, FUEL_KG_PER_LAP * total_laps + 3)
        )
        self.ers_store_j = np.full(n, ERS_STORE_MAX_J)
        self.ers_deployed_lap_j = np.zeros(n)
        self.ers_harvest_k_lap_j = np.zeros(n)
        self.ers_harvest_h_lap_j = np.zeros(n)
        self.ers_deploy_mode = np.ones(n, dtype=np.int64)

        # Pit stops (the lap at whose end a car comes in): one per car between 30 %
        # and 70 % of the distance, or in races of 30+ laps two for ~40 % of the
        # cars, at about a third and two thirds; a 2-lap race stops after lap 1.
        def lap_between(low: float, high: float) -> int:
            first = max(1, round(low * total_laps))
            last = max(first, min(total_laps - 1, round(high * total_laps)))
            return int(rng.integers(first, last + 1))

        self.planned_stops: list[list[int]] = []
        for _ in range(n):
            stops: list[int] = []
            if total_laps >= 30 and rng.random() < 0.4:
                stops = [lap_between(0.25, 0.4), lap_between(0.55, 0.75)]
            elif total_laps >= 2:
                stops = [lap_between(0.3, 0.7)]
            self.planned_stops.append(stops)
        self.num_pit_stops = np.zeros(n, dtype=np.int64)
        self.pit_phase = np.zeros(n, dtype=np.int64)  # 0 on track, 1 in lane, 2 in box
        self.pit_serviced = np.zeros(n, dtype=bool)
        self.pit_stop_left_s = np.zeros(n)
        self.pit_lane_time_s = np.zeros(n)
        self.pit_stop_time_s = np.zeros(n)
        self.history = [CarHistory() for _ in range(n)]
        for car in range(n):
            self.history[car].stints.append((255, int(self.compound[car])))
        self.positions = np.arange(1, n + 1)
        self._one_to_n = np.arange(1, n + 1)
        self.delta_front_s = np.zeros(n)
        self.delta_leader_s = np.zeros(n)
        self.drs_open = np.zeros(n, dtype=bool)
        self.drs_allowed = np.zeros(n, dtype=bool)
        self.drs_zones = self._drs_zones()
        self.lap_distance_m = self.total_distance_m.copy()
        # Per-tick work is ~30 small numpy operations on 20-24 values, so their count,
        # not their size, sets the speed: slow-changing things (tyre wear, fuel, ERS,
        # DRS, gaps) are updated at ~10 Hz (every `slow_every` ticks).
        self.slow_every = 1
        self._ticks = 0
        self._time_factor: np.ndarray | None = None
        self._travelled_m = np.zeros(n)
        self._slow_dt_s = 0.0
        self._inverse_length = 1.0 / self.length_m
        self._build_metre_tables()
        self._pit_limit_mps = track.info.pit_speed_limit_kph / 3.6
        self._inverse_top_speed = 1.0 / (TOP_SPEED_MPS * 1.04)  # as track.py's limit
        self._gear_shift_kph = GEAR_TOP_KPH * 0.96
        self._inputs: dict[str, np.ndarray] = {}
        self._inputs_time_s = -1.0
        self.version = 0
        """Rises whenever lap-level state changes (laps, sectors, pits, penalties)."""
        self._car_ahead = np.arange(n)
        self._effective_factor = self.base_time_factor
        self._passing = np.zeros(n, dtype=bool)
        self._factor_version = -1
        self._order_by_position = np.arange(n)
        self._on_grid = True
        self.metre = np.zeros(n, dtype=np.int64)
        self._locate()

    # ----------------------------------------------------------------- helpers
    def _build_metre_tables(self) -> None:
        """The outline and profile resampled every metre of lap distance.

        Each tick then looks every car up with one integer index (the metre it is
        in) instead of interpolating a dozen arrays: half a metre of position error
        for about a third of the per-tick work.
        """
        track = self.track
        metres = np.arange(int(np.ceil(self.length_m)) + 1, dtype=np.float64)
        coarse = np.append(np.arange(len(track.x_m)) * track.step_m, self.length_m)

        def resample(values: np.ndarray) -> np.ndarray:
            return np.interp(metres, coarse, np.append(values, values[0]))

        forward_x, forward_z = resample(track.forward_x), resample(track.forward_z)
        norm = np.hypot(forward_x, forward_z)
        forward_x, forward_z = forward_x / norm, forward_z / norm
        curvature = resample(track.curvature_right_per_m)
        self._pose_table = np.column_stack(
            [
                resample(track.x_m),
                resample(track.z_m),
                forward_x,
                forward_z,
                np.arctan2(forward_x, forward_z),
            ]
        )
        self.speed_table_mps = resample(track.speed_mps)
        self.throttle_table = resample(track.throttle)
        self.brake_table = resample(track.brake)
        self.curvature_table = curvature
        self._steer_table = np.minimum(np.maximum(curvature * 30.0, -1.0), 1.0)
        self._last_metre = len(metres) - 1

    def _drs_zones(self) -> list[tuple[float, float]]:
        """Straights: runs of >= 400 m at >= 85 % of top speed, DRS from 80 m in."""
        fast = self.track.speed_mps >= 0.85 * self.track.speed_mps.max()
        step = self.track.step_m
        zones, count = [], len(fast)
        start = int(np.argmin(fast))  # scan from a slow point so runs do not wrap
        i = 0
        while i < count:
            k = (start + i) % count
            if fast[k]:
                length = 0
                while length < count and fast[(k + length) % count]:
                    length += 1
                if length * step >= 400:
                    zones.append(
                        ((k * step + 80.0) % self.length_m, length * step - 80)
                    )
                i += length
            else:
                i += 1
        return [(begin, (begin + run) % self.length_m) for begin, run in zones]

    def _in_zones(self, lap_distance_m: np.ndarray) -> np.ndarray:
        inside = np.zeros(len(lap_distance_m), dtype=bool)
        for begin, end in self.drs_zones:
            if begin <= end:
                inside |= (lap_distance_m >= begin) & (lap_distance_m < end)
            else:
                inside |= (lap_distance_m >= begin) | (lap_distance_m < end)
        return inside

    def current_lap_num(self) -> np.ndarray:
        """Lap number as the game shows it (1-based, held at the last lap)."""
        return np.minimum(self.completed_laps + 1, self.total_laps)

    @property
    def race_started(self) -> bool:
        """Whether the lights have gone out."""
        return self.time_s >= self.lights_out_s

    @property
    def all_finished(self) -> bool:
        """Every car has taken the chequered flag (or the leader finished long ago)."""
        if self.chequered_s is None:
            return False
        return bool(self.finished.all()) or self.time_s > self.chequered_s + 180.0

    # -------------------------------------------------------------------- step
    def step(self, dt_s: float) -> None:
        """Advance the race by one tick."""
        self.time_s += dt_s
        t = self.time_s
        if not self.race_started:
            while self._lights_shown < 5 and t >= 1.0 + self._lights_shown:
                self._lights_shown += 1
                self.events.append(RaceEvent("STLG", num_lights=self._lights_shown))
            return
        if t - dt_s < self.lights_out_s:
            self.events.append(RaceEvent("LGOT"))
            self.lap_start_s[:] = self.lights_out_s
        self._ticks += 1
        slow = self._ticks % self.slow_every == 0
        if slow or self._time_factor is None:
            self._time_factor = self._pace_time_factor(t)
        profile = self.speed_table_mps[self.metre]
        if slow or self.version != self._factor_version:
            self._effective_factor = self._effective_time_factor()
            self._factor_version = self.version
        target = profile / self._effective_factor
        if self.drs_enabled:
            target = np.where(self._passing, target * 1.01, target)
        if self.chequered_s is not None:
            target = np.where(self.finished, target * 0.7, target)
        in_lane = self.pit_phase > 0
        if in_lane.any():
            target = np.where(in_lane, np.minimum(target, self._pit_limit_mps), target)
            target = np.where(self.pit_phase == 2, 0.0, target)
        speed = self.speed_mps
        share = np.minimum(speed * self._inverse_top_speed, 1.0)
        accel = np.maximum(LAUNCH_ACCELERATION_MPS2 * (1.0 - share * share), 0.3)
        new_speed = np.minimum(target, speed + accel * dt_s)
        new_speed = np.maximum(new_speed, speed - BRAKING_MPS2 * dt_s)
        new_speed = np.maximum(new_speed, 0.0)
        self.acceleration_mps2 = (new_speed - speed) / dt_s
        self.speed_mps = new_speed
        travelled = 0.5 * (speed + new_speed) * dt_s
        self._travelled_m += travelled
        self._slow_dt_s += dt_s
        old_lap_distance = self.lap_distance_m
        self.total_distance_m = self.total_distance_m + travelled
        crossings = np.floor(self.total_distance_m * self._inverse_length)
        crossings = np.maximum(crossings, 0).astype(np.int64)
        self.lap_distance_m = self.total_distance_m - crossings * self.length_m
        self._locate()
        self._sectors(t)
        crossed = np.nonzero(crossings > self.line_crossings)[0]
        self.line_crossings = crossings
        # The car furthest past the line crossed it first (it matters at the flag).
        for car in crossed[np.argsort(-self.total_distance_m[crossed])]:
            self._complete_lap(int(car), t)
        if (
            in_lane.any()
            or (
                (old_lap_distance < self.track.info.pit_entry_m)
                & (self.lap_distance_m >= self.track.info.pit_entry_m)
            ).any()
        ):
            self._pit_lane(old_lap_distance, dt_s)
        self._order(slow)
        if slow:
            self._consume(self._travelled_m, self._slow_dt_s)
            self._travelled_m = np.zeros(self.n)
            self._slow_dt_s = 0.0
            self._drs()
        if t >= self.next_penalty_s:
            self._penalty()
        if self.vsc_window_s is not None and slow:
            self._virtual_safety_car(t)

    def _virtual_safety_car(self, t: float) -> None:
        assert self.vsc_window_s is not None
        start_s, end_s = self.vsc_window_s
        if self.safety_car_status == 0 and start_s <= t < end_s:
            self.safety_car_status = 2
            self.virtual_safety_cars += 1
            self.events.append(RaceEvent("SCAR", safety_car_type=2))  # deployed
            if self.drs_enabled:
                self.drs_enabled = False
                self.drs_open[:] = False
                self.drs_allowed[:] = False
                # reason 1 = safety car deployed
                self.events.append(RaceEvent("DRSD", reason=1))
            self.version += 1
        elif self.safety_car_status == 2 and t >= end_s:
            self.safety_car_status = 0
            self.vsc_window_s = None
            self.events.append(
                RaceEvent("SCAR", safety_car_type=2, safety_car_event_type=3)
            )  # resume race
            if self.completed_laps.max() >= min(2, self.total_laps - 1):
                self.drs_enabled = True
                self.events.append(RaceEvent("DRSE"))
            self.version += 1

    def _effective_time_factor(self) -> np.ndarray:
        """Pace after traffic: a car within 0.5 s of the car ahead cannot pass it
        without DRS, so it laps no faster than that car (whole trains included)."""
        factor = self._time_factor
        assert factor is not None
        order = self._order_by_position
        ahead = self._car_ahead
        ahead_in_lane = (self.pit_phase > 0)[ahead]
        # DRS helps a car past only if it is genuinely quicker than the car ahead;
        # otherwise a DRS train would swap places on every straight.
        self._passing = self.drs_open & (factor < factor[ahead])
        blocked = (
            (self.delta_front_s > 0)
            & (self.delta_front_s < 0.5)
            & ~self._passing
            & ~ahead_in_lane
        )
        if not blocked.any():
            return factor
        # A running maximum along the order that restarts at every unblocked car:
        # each segment is lifted by 10 (factors are ~1) so earlier ones never leak.
        segment = np.cumsum(~blocked[order])
        lifted = factor[order] + 10.0 * segment
        effective = np.empty(self.n)
        effective[order] = np.maximum.accumulate(lifted) - 10.0 * segment
        return effective

    def _pace_time_factor(self, t: float) -> np.ndarray:
        """Lap-time multiplier per car: pace, tyres, wear, fuel and a slow wobble."""
        factor = self.base_time_factor * (
            1.0
            + COMPOUND_TIME_FACTOR[self.compound]
            + WEAR_TIME_FACTOR_PER_PCT * self.wear_pct.mean(axis=1)
            + FUEL_TIME_FACTOR_PER_KG * self.fuel_kg
        )
        factor = factor + self.wobble_amplitude * np.sin(
            2 * np.pi * t / self.wobble_period_s + self.wobble_phase
        )
        if self.safety_car_status:
            # Under a virtual safety car everyone laps ~40 % slower, gaps frozen.
            factor = factor * 1.4
        return factor

    def _locate(self) -> None:
        """The metre of the lap each car is in (the index into the metre tables)."""
        lap_distance = self.lap_distance_m
        if self._on_grid:  # behind the line before the first crossing
            lap_distance = np.where(
                lap_distance < 0, lap_distance + self.length_m, lap_distance
            )
            self._on_grid = bool((self.line_crossings == 0).any())
        self.metre = np.minimum((lap_distance + 0.5).astype(np.int64), self._last_metre)

    def _sectors(self, t: float) -> None:
        info = self.track.info
        d = self.lap_distance_m
        sector = (d >= info.sector2_start_m).astype(np.int64)
        sector += d >= info.sector3_start_m
        changing = (sector > self.sector) & ~self.finished
        if not changing.any():
            self.sector = np.where(self.finished, self.sector, sector)
            return
        self.version += 1
        for car in np.nonzero(changing)[0].tolist():
            elapsed = t - self.lap_start_s[car]
            if sector[car] >= 1 and self.sector1_s[car] == 0:
                self.sector1_s[car] = elapsed
            if sector[car] == 2 and self.sector2_s[car] == 0:
                self.sector2_s[car] = elapsed - self.sector1_s[car]
        self.sector = np.where(self.finished, self.sector, sector)

    def _complete_lap(self, car: int, t: float) -> None:
        if self.finished[car]:
            return  # a cool-down lap after the flag: no timing, the lap counter stays
        over_m = self.total_distance_m[car] - self.line_crossings[car] * self.length_m
        crossing_s = t - over_m / max(self.speed_mps[car], 1.0)
        self.completed_laps[car] += 1
        self.version += 1
        lap_number = int(self.completed_laps[car])
        lap_time = crossing_s - self.lap_start_s[car]
        sector1 = self.sector1_s[car] or lap_time / 3
        sector2 = self.sector2_s[car] or lap_time / 3
        history = self.history[car]
        history.lap_times_s.append(lap_time)
        history.sector_times_s.append((sector1, sector2, lap_time - sector1 - sector2))
        valid = not self.lap_invalid[car]
        history.lap_valid.append(valid)
        self.last_lap_s[car] = lap_time
        if valid and lap_time < self.best_lap_s[car]:
            self.best_lap_s[car] = lap_time
            self.best_lap_num[car] = lap_number
        if valid and lap_time < self.fastest_lap_s:
            self.fastest_lap_s = lap_time
            self.events.append(
                RaceEvent("FTLP", vehicle_index=car, lap_time_s=lap_time)
            )
        self.lap_start_s[car] = crossing_s
        self.sector1_s[car] = self.sector2_s[car] = 0.0
        self.sector[car] = 0
        self.lap_invalid[car] = False
        self.tyre_age_laps[car] += 1
        self.ers_deployed_lap_j[car] = 0.0
        self.ers_harvest_k_lap_j[car] = self.ers_harvest_h_lap_j[car] = 0.0
        if self.driver_status[car] == OUT_LAP:
            self.driver_status[car] = ON_TRACK
        self.race_time_s[car] = crossing_s - self.lights_out_s
        if lap_number >= self.total_laps or self.chequered_s is not None:
            if self.chequered_s is None:
                self.chequered_s = t
                self.events.append(RaceEvent("CHQF"))
                self.events.append(RaceEvent("RCWN", vehicle_index=car))
            self.finished[car] = True
            self.finish_order[car] = int(self.finished.sum())
            self.finish_time_s[car] = crossing_s
            self.result_status[car] = RESULT_FINISHED
            self.completed_laps[car] = lap_number
            self.history[car].stints[-1] = (lap_number, self.history[car].stints[-1][1])
            return
        if (
            not self.drs_enabled
            and not self.safety_car_status
            and lap_number >= min(2, self.total_laps - 1)
        ):
            self.drs_enabled = True
            self.events.append(RaceEvent("DRSE"))

    def _pit_lane(self, old_lap_distance: np.ndarray, dt_s: float) -> None:
        info = self.track.info
        d = self.lap_distance_m
        current_lap = self.completed_laps + 1
        entering = (
            (self.pit_phase == 0)
            & ~self.finished
            & (old_lap_distance < info.pit_entry_m)
            & (d >= info.pit_entry_m)
        )
        if self.chequered_s is not None:
            entering[:] = False  # nobody stops after the flag is out
        for car in np.nonzero(entering)[0].tolist():
            stops = self.planned_stops[car]
            if stops and stops[0] == current_lap[car]:
                stops.pop(0)
                self.pit_phase[car] = 1
                self.pit_serviced[car] = False
                self.pit_lane_time_s[car] = 0.0
                self.pit_stop_time_s[car] = 0.0
                self.driver_status[car] = IN_LAP
        in_lane = self.pit_phase > 0
        if not in_lane.any():
            return
        self.version += 1  # pit timers run
        self.pit_lane_time_s[in_lane] += dt_s
        at_box = (
            (self.pit_phase == 1)
            & ~self.pit_serviced
            & (d >= info.pit_box_m)
            & (d < info.pit_exit_m)
        )
        for car in np.nonzero(at_box)[0]:
            self.pit_phase[car] = 2
            self.pit_stop_left_s[car] = float(self.rng.uniform(2.2, 3.4))
            self.speed_mps[car] = 0.0
        stopped = self.pit_phase == 2
        self.pit_stop_time_s[stopped] += dt_s
        self.pit_stop_left_s[stopped] -= dt_s
        for car in np.nonzero(stopped & (self.pit_stop_left_s <= 0))[0]:
            self._change_tyres(int(car))
        leaving = (self.pit_phase == 1) & self.pit_serviced & (d >= info.pit_exit_m)
        self.pit_phase[leaving] = 0
        self.driver_status[leaving] = OUT_LAP

    def _change_tyres(self, car: int) -> None:
        self.pit_phase[car] = 1
        self.pit_serviced[car] = True
        self.num_pit_stops[car] += 1
        old = int(self.compound[car])
        new = HARD if old != HARD else MEDIUM
        if self.planned_stops[car]:  # another stop to come: a shorter stint on mediums
            new = MEDIUM if old != MEDIUM else SOFT
        history = self.history[car]
        history.stints[-1] = (int(self.completed_laps[car]), old)
        history.stints.append((255, new))
        self.compound[car] = new
        self.tyre_age_laps[car] = 0
        self.wear_pct[car] = 0.0

    def _consume(self, travelled_m: np.ndarray, dt_s: float) -> None:
        lap_share = travelled_m / self.length_m
        rate = WEAR_PCT_PER_LAP[self.compound] * self.wear_rate * lap_share
        # Rears wear ~10 % faster at Melbourne (traction zones); order RL RR FL FR.
        self.wear_pct += rate[:, None] * np.array([1.1, 1.1, 1.0, 1.0])
        throttle = self.throttle_table[self.metre]
        brake = self.brake_table[self.metre]
        self.fuel_kg = np.maximum(
            self.fuel_kg - FUEL_KG_PER_LAP * lap_share * (0.3 + 0.7 * throttle), 0.0
        )
        self.brake_heat += (brake * 2.5 - self.brake_heat) * min(dt_s / 1.5, 1.0)
        deploy = (
            (throttle > 0.95)
            & (self.ers_deployed_lap_j < self.power_unit.ers_deploy_per_lap_j)
            & (self.ers_store_j > 0)
        )
        unit = self.power_unit
        deploy_j = np.where(deploy, unit.mguk_power_w * dt_s, 0.0)
        harvest_k = brake * unit.mguk_power_w * dt_s * (self.speed_mps > 20)
        harvest_h = np.where(throttle > 0.95, unit.mguh_power_w * dt_s, 0.0)
        self.ers_deployed_lap_j += deploy_j
        self.ers_harvest_k_lap_j += harvest_k
        self.ers_harvest_h_lap_j += harvest_h
        self.ers_store_j = np.clip(
            self.ers_store_j - deploy_j + harvest_k + harvest_h, 0.0, ERS_STORE_MAX_J
        )

    def _order(self, with_gaps: bool) -> None:
        key = self.total_distance_m
        if self.chequered_s is not None:
            key = np.where(self.finished, 1e12 - self.finish_order, key)
        order = np.argsort(-key, kind="stable")
        positions = np.empty(self.n, dtype=np.int64)
        positions[order] = self._one_to_n
        if (positions != self.positions).any():
            self._overtakes(positions)
            with_gaps = True  # gaps follow the new order at once
            self.version += 1
        self.positions = positions
        self._order_by_position = order
        self._car_ahead[order[1:]] = order[:-1]
        self._car_ahead[order[0]] = order[0]
        if with_gaps:
            self._gaps(order)

    def _gaps(self, order: np.ndarray) -> None:
        # The time the follower needs to reach where the other car is now: the
        # distance between them at the follower's pace.
        ordered = self.track.time_along_s(self.total_distance_m)[order]
        pace = self.base_time_factor[order]
        front = np.empty(self.n)
        front[0] = 0.0
        front[1:] = (ordered[:-1] - ordered[1:]) * pace[1:]
        leader = (ordered[0] - ordered) * pace
        done = self.finished[order]
        finish_s = self.finish_time_s[order]
        leader = np.where(done, finish_s - finish_s[0], leader)
        front[1:] = np.where(done[1:], finish_s[1:] - finish_s[:-1], front[1:])
        self.delta_front_s = np.empty(self.n)
        self.delta_front_s[order] = np.maximum(front, 0.0)
        self.delta_leader_s = np.empty(self.n)
        self.delta_leader_s[order] = np.maximum(leader, 0.0)

    def _overtakes(self, positions: np.ndarray) -> None:
        """OVTK for each pair of running cars that swapped order on track (a car
        dropping back through a pit stop overtakes nobody)."""
        old = self.positions
        on_track = (self.pit_phase == 0) & ~self.finished
        changed = [int(car) for car in np.nonzero(positions != old)[0] if on_track[car]]
        for car in changed:
            for other in changed:
                if old[other] < old[car] and positions[other] > positions[car]:
                    self.events.append(
                        RaceEvent("OVTK", vehicle_index=car, other_vehicle_index=other)
                    )

    def _drs(self) -> None:
        if not self.drs_enabled:
            return
        in_zone = self._in_zones(self.lap_distance_m)
        self.drs_allowed = (
            (self.delta_front_s > 0)
            & (self.delta_front_s < 1.0)
            & (self.pit_phase == 0)
            & ~self.finished
            & (self.positions > 1)
        )
        self.drs_open = self.drs_allowed & in_zone
        self.ers_deploy_mode = np.where(self.drs_allowed, 2, 1)

    def _penalty(self) -> None:
        rng = self.rng
        self.next_penalty_s = self.time_s + float(rng.exponential(90.0)) + 10.0
        self.version += 1
        running = np.nonzero(~self.finished & (self.pit_phase == 0))[0]
        if not len(running):
            return
        car = int(rng.choice(running))
        lap = int(self.completed_laps[car] + 1)
        kind = rng.random()
        if kind < 0.6:  # running wide: this lap is invalidated
            self.lap_invalid[car] = True
            self.warnings[car] += 1
            event = RaceEvent(
                "PENA", car, penalty_type=10, infringement_type=26, lap_number=lap
            )
        elif kind < 0.85:  # corner cutting warning
            self.warnings[car] += 1
            event = RaceEvent(
                "PENA", car, penalty_type=5, infringement_type=27, lap_number=lap
            )
        else:  # five-second time penalty for gaining a lasting advantage
            self.penalties_s[car] += 5
            self.num_penalties[car] += 1
            event = RaceEvent(
                "PENA",
                car,
                penalty_type=4,
                infringement_type=7,
                time_s=5,
                lap_number=lap,
            )
        self.events.append(event)

    # ---------------------------------------------------------- derived values
    def driving_inputs(self) -> dict[str, np.ndarray]:
        """Throttle, brake, steer, gear, rpm and g-forces for the current tick."""
        if self._inputs_time_s == self.time_s:
            return self._inputs
        index = self.metre
        accel = self.acceleration_mps2
        speed = self.speed_mps
        braking = accel < -3.0
        throttle = self.throttle_table[index]
        throttle = np.where(
            braking, 0.0, np.where(accel > 0.5, np.maximum(throttle, 0.8), throttle)
        )
        if self.pit_phase.any():
            lane_throttle = np.where(speed > 0.5, 0.3, 0.0)
            throttle = np.where(self.pit_phase > 0, lane_throttle, throttle)
        if not self.race_started:
            throttle = np.full(self.n, 0.2)
        brake = np.where(braking, np.minimum(accel * (-1.0 / BRAKING_MPS2), 1.0), 0.0)
        speed_kph = speed * 3.6
        gear = np.minimum(np.searchsorted(self._gear_shift_kph, speed_kph), 8)
        gear = np.maximum(gear, 1)
        rpm = SHIFT_RPM * speed_kph / GEAR_TOP_KPH[gear]
        rpm = np.minimum(np.maximum(rpm, IDLE_RPM), MAX_RPM - 500)
        if self.pit_phase.any():
            gear = np.where(self.pit_phase == 2, 0, gear)
        self._inputs = {
            "throttle": throttle,
            "brake": brake,
            "steer": self._steer_table[index],
            "speed_kph": speed_kph,
            "gear": gear,
            "engine_rpm": rpm,
            "lateral_g": speed * speed * self.curvature_table[index] / GRAVITY_MPS2,
            "longitudinal_g": accel * (1.0 / GRAVITY_MPS2),
            "vertical_g": 1.0 + 0.25 * (speed * (1.0 / 90.0)) ** 2,
        }
        self._inputs_time_s = self.time_s
        return self._inputs

    def world_pose(self) -> dict[str, np.ndarray]:
        """World position, velocity and direction vectors of every car."""
        x, z, fx, fz, yaw = self._pose_table[self.metre].T
        # Within its metre the car is moved along the forward direction, so
        # positions advance smoothly tick to tick (no 1 m steps).
        offset_along_m = self.lap_distance_m - self.metre
        if self._on_grid:
            offset_along_m = np.where(
                offset_along_m < -1.0, offset_along_m + self.length_m, offset_along_m
            )
        offset = self.lane_offset_m
        if self.pit_phase.any():
            # Ease into and out of the pit lane over 60 m instead of jumping sideways.
            info = self.track.info
            d = self.lap_distance_m
            since_entry = (d - info.pit_entry_m) % self.length_m
            until_exit = (info.pit_exit_m - d) % self.length_m
            ease = np.minimum(np.minimum(since_entry, until_exit) / 60.0, 1.0)
            lane = offset + (PIT_LANE_OFFSET_M - offset) * ease
            offset = np.where(self.pit_phase > 0, lane, offset)
        # The game's right vector is (-forward_z, 0, forward_x).
        return {
            "x": x + fx * offset_along_m - fz * offset,
            "z": z + fz * offset_along_m + fx * offset,
            "vx": fx * self.speed_mps,
            "vz": fz * self.speed_mps,
            "fx": fx,
            "fz": fz,
            "rx": -fz,
            "rz": fx,
            "yaw": yaw,
        }
