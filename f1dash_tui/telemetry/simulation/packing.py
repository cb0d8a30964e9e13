"""Turn the race model's state into the game's packets (packetFormat 2025 or 2026).

One zeroed packet per packet id is allocated once (``build.empty_packets``); each
tick writes the changing fields through views held from the start and calls
``tobytes()``. Field names and raw units are the specification's (the same dtypes
the decoder reads): times in ms or minutes plus ms, speeds in km/h, directions
as int16 / 32767, 2026 g-forces as int16 / 1000.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from f1dash_tui.telemetry.build import empty_packets
from f1dash_tui.telemetry.packets import PacketId
from f1dash_tui.telemetry.simulation.race import (
    ACTUAL_COMPOUND,
    FUEL_CAPACITY_KG,
    FUEL_KG_PER_LAP,
    IDLE_RPM,
    MAX_RPM,
    RESULT_FINISHED,
    VISUAL_COMPOUND,
    RaceEvent,
    RaceModel,
)

RACE_SESSION_TYPE = 15
"""sessionType 15 = Race in packetFormat 2024 and later."""
POINTS = (25, 18, 15, 12, 10, 8, 6, 4, 2, 1)

# Teams as each format numbers them: 2025 has ten teams (0-9), the 2026 season pack
# eleven (476-486, as in the bundled capture's Participants packets).
TEAMS_BY_FORMAT = {2025: list(range(10)), 2026: list(range(476, 487))}
FORMULA_BY_FORMAT = {2025: 0, 2026: 13}
"""formula: 0 = F1 Modern; the 2026 season pack sends 13 (as in the capture)."""
ICE_POWER_W = {2025: 560e3, 2026: 400e3}

SYNTHETIC_NAMES = (
    "AALTONEN", "BERGSTROM", "CARVALHO", "DELACROIX", "EKWUEME", "FONTAINE",
    "GALLAGHER", "HALVORSEN", "ISHIKAWA", "JOVANOVIC", "KARLSSON", "LINDGREN",
    "MARCHETTI", "NAVARRO", "OYELARAN", "PETERSEN", "QUIROGA", "RASMUSSEN",
    "SVOBODA", "TREMBLAY", "URQUHART", "VASQUEZ", "WINTERBERG", "YAMAZAKI",
)  # fmt: skip
"""Made-up drivers: a synthetic race must not pass for real people's results."""


def _ms(seconds: np.ndarray | float) -> np.ndarray:
    return np.rint(np.asarray(seconds) * 1000.0).astype(np.int64)


def _minutes_and_ms(seconds: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    total_ms = _ms(seconds)
    return total_ms // 60000, total_ms % 60000


@dataclass(frozen=True)
class HeaderValues:
    """What every packet's header carries for this session."""

    packet_format: int
    session_uid: int
    player_car_index: int = 0


class PacketBuilder:
    """Preallocated packets of one format and the code that fills them from a race."""

    def __init__(self, header: HeaderValues, model: RaceModel, total_laps: int) -> None:
        self.header = header
        self.model = model
        self.total_laps = total_laps
        self.packet_format = header.packet_format
        fmt = header.packet_format
        self._buffers: dict[int, np.ndarray] = {}
        for packet_id in (
            PacketId.MOTION,
            PacketId.SESSION,
            PacketId.LAP_DATA,
            PacketId.PARTICIPANTS,
            PacketId.CAR_TELEMETRY,
            PacketId.CAR_STATUS,
            PacketId.CAR_DAMAGE,
            PacketId.SESSION_HISTORY,
        ):
            buffer = empty_packets(fmt, packet_id, 1)
            head = buffer["header"]
            head["game_year"] = 25
            head["game_major_version"] = 1
            head["game_minor_version"] = 20 if fmt == 2026 else 17
            head["session_uid"] = header.session_uid
            head["player_car_index"] = header.player_car_index
            head["secondary_player_car_index"] = 255
            self._buffers[packet_id] = buffer
        self.max_cars = self._buffers[PacketId.MOTION]["car_motion_data"].shape[1]
        self._integer_g = (
            self._buffers[PacketId.MOTION]["car_motion_data"]
            .dtype["g_force_lateral"]
            .kind
            == "i"
        )
        self._lap_version = -1
        self._history_packets: dict[int, tuple[tuple, np.ndarray]] = {}
        self._inputs: dict[str, np.ndarray] = {}
        self._fill_constants()

    # ------------------------------------------------------------------ common
    def _cars(self, packet_id: int, array_name: str) -> np.ndarray:
        """The first `n` cars of a packet's per-car array (a view)."""
        return self._buffers[packet_id][array_name][0, : self.model.n]

    def _finish(self, packet_id: int, time_s: float, frame: int) -> bytes:
        buffer = self._buffers[packet_id]
        head = buffer["header"]
        head["session_time"] = time_s
        head["frame_identifier"] = frame
        head["overall_frame_identifier"] = frame
        return buffer.tobytes()

    def _fill_constants(self) -> None:
        model = self.model
        n = model.n
        self._cars(PacketId.MOTION, "car_motion_data")["world_position_y"] = (
            model.track.y_m
        )
        status = self._cars(PacketId.CAR_STATUS, "car_status_data")
        status["fuel_mix"] = 1
        status["front_brake_bias"] = 56
        status["fuel_capacity"] = FUEL_CAPACITY_KG
        status["max_rpm"] = MAX_RPM
        status["idle_rpm"] = IDLE_RPM
        status["max_gears"] = 8
        status["vehicle_fia_flags"] = 1  # green
        if "ers_harvest_limit_per_lap" in (status.dtype.names or ()):
            status["ers_harvest_limit_per_lap"] = model.power_unit.ers_deploy_per_lap_j
        telemetry = self._buffers[PacketId.CAR_TELEMETRY]
        telemetry["mfd_panel_index"] = 255
        telemetry["mfd_panel_index_secondary_player"] = 255
        lap = self._buffers[PacketId.LAP_DATA]
        lap["time_trial_pb_car_idx"] = 255
        lap["time_trial_rival_car_idx"] = 255
        cars = self._cars(PacketId.LAP_DATA, "lap_data")
        cars["grid_position"] = model.grid_position
        cars["speed_trap_fastest_lap"] = 255
        participants = self._buffers[PacketId.PARTICIPANTS]
        participants["num_active_cars"] = n
        people = self._cars(PacketId.PARTICIPANTS, "participants")
        teams = TEAMS_BY_FORMAT[self.packet_format]
        people["ai_controlled"] = 1
        people["driver_id"] = 255  # not one of the game's drivers
        people["network_id"] = 255
        people["team_id"] = [teams[(car // 2) % len(teams)] for car in range(n)]
        people["race_number"] = [2 + (car * 7) % 97 for car in range(n)]
        people["nationality"] = 0
        people["name"] = [SYNTHETIC_NAMES[car].encode() for car in range(n)]
        people["your_telemetry"] = 1
        people["platform"] = 255
        self._fill_session_constants()

    def _fill_session_constants(self) -> None:
        model = self.model
        info = model.track.info
        session = self._buffers[PacketId.SESSION]
        session["weather"] = model.weather
        session["track_temperature"] = round(model.track_temperature_c)
        session["air_temperature"] = round(model.air_temperature_c)
        session["total_laps"] = self.total_laps
        session["track_length"] = round(info.length_m)
        session["session_type"] = RACE_SESSION_TYPE
        session["track_id"] = info.track_id
        session["formula"] = FORMULA_BY_FORMAT[self.packet_format]
        session["session_duration"] = 7200
        session["pit_speed_limit"] = info.pit_speed_limit_kph
        session["spectator_car_index"] = 255
        session["network_game"] = 0  # synthetic: see simulator.is_synthetic_session
        zones = session["marshal_zones"][0]
        count = 16
        session["num_marshal_zones"] = count
        zones["zone_start"][:count] = np.arange(count) / count
        session["num_weather_forecast_samples"] = 1
        forecast = session["weather_forecast_samples"][0]
        forecast["session_type"][0] = RACE_SESSION_TYPE
        forecast["weather"][0] = model.weather
        forecast["track_temperature"][0] = round(model.track_temperature_c)
        forecast["air_temperature"][0] = round(model.air_temperature_c)
        session["ai_difficulty"] = 90
        session["game_mode"] = 4
        session["rule_set"] = 1
        session["time_of_day"] = 900
        session["session_length"] = 3
        session["sector2_lap_distance_start"] = info.sector2_start_m
        session["sector3_lap_distance_start"] = info.sector3_start_m
        if "drs_zones" in (session.dtype.names or ()):
            drs = model.drs_zones[: session["drs_zones"].shape[1]]
            session["num_drs_zones"] = len(drs)
            for slot, (begin, end) in enumerate(drs):
                session["drs_zones"][0, slot]["zone_start"] = begin / info.length_m
                session["drs_zones"][0, slot]["zone_end"] = end / info.length_m
        session["weekend_structure"][0, 0] = RACE_SESSION_TYPE
        session["num_sessions_in_weekend"] = 1

    # --------------------------------------------------------- per-tick packets
    def motion(self, time_s: float, frame: int) -> bytes:
        """Motion packet: world position, velocity, directions, g-forces."""
        model = self.model
        pose = model.world_pose()
        inputs = model.driving_inputs()
        cars = self._cars(PacketId.MOTION, "car_motion_data")
        cars["world_position_x"] = pose["x"]
        cars["world_position_z"] = pose["z"]
        cars["world_velocity_x"] = pose["vx"]
        cars["world_velocity_z"] = pose["vz"]
        cars["world_forward_dir_x"] = pose["fx"] * 32767
        cars["world_forward_dir_z"] = pose["fz"] * 32767
        cars["world_right_dir_x"] = pose["rx"] * 32767
        cars["world_right_dir_z"] = pose["rz"] * 32767
        scale = 1000.0 if self._integer_g else 1.0
        cars["g_force_lateral"] = inputs["lateral_g"] * scale
        cars["g_force_longitudinal"] = inputs["longitudinal_g"] * scale
        cars["g_force_vertical"] = inputs["vertical_g"] * scale
        cars["yaw"] = pose["yaw"]
        self._inputs = inputs
        return self._finish(PacketId.MOTION, time_s, frame)

    def lap_data(self, time_s: float, frame: int, *, full: bool = True) -> bytes:
        """Lap Data packet: positions, lap and sector times, distances, gaps, pits.

        ``full=False`` writes only what changes every tick (lap time, distances,
        positions); the rest is rewritten when the model's ``version`` moved.
        """
        model = self.model
        cars = self._cars(PacketId.LAP_DATA, "lap_data")
        current = time_s - model.lap_start_s
        if model.race_started:
            current = np.where(model.finished, 0.0, current)
        else:
            current = np.zeros(model.n)
        cars["current_lap_time_in_ms"] = np.maximum(current, 0.0) * 1000.0
        cars["lap_distance"] = model.lap_distance_m
        cars["total_distance"] = model.total_distance_m
        cars["car_position"] = model.positions
        if full or model.version != self._lap_version:
            self._lap_version = model.version
            self._lap_data_slow(cars)
        return self._finish(PacketId.LAP_DATA, time_s, frame)

    def _lap_data_slow(self, cars: np.ndarray) -> None:
        model = self.model
        cars["last_lap_time_in_ms"] = _ms(model.last_lap_s)
        minutes, ms = _minutes_and_ms(model.sector1_s)
        cars["sector1_time_minutes_part"] = minutes
        cars["sector1_time_ms_part"] = ms
        minutes, ms = _minutes_and_ms(model.sector2_s)
        cars["sector2_time_minutes_part"] = minutes
        cars["sector2_time_ms_part"] = ms
        minutes, ms = _minutes_and_ms(model.delta_front_s)
        cars["delta_to_car_in_front_minutes_part"] = minutes
        cars["delta_to_car_in_front_ms_part"] = ms
        minutes, ms = _minutes_and_ms(model.delta_leader_s)
        cars["delta_to_race_leader_minutes_part"] = minutes
        cars["delta_to_race_leader_ms_part"] = ms
        cars["current_lap_num"] = model.current_lap_num()
        cars["pit_status"] = model.pit_phase
        cars["num_pit_stops"] = model.num_pit_stops
        cars["sector"] = model.sector
        cars["current_lap_invalid"] = model.lap_invalid
        cars["penalties"] = np.minimum(model.penalties_s, 255)
        cars["total_warnings"] = np.minimum(model.warnings, 255)
        cars["driver_status"] = model.driver_status
        cars["result_status"] = model.result_status
        cars["pit_lane_timer_active"] = model.pit_phase > 0
        cars["pit_lane_time_in_lane_in_ms"] = np.minimum(
            _ms(model.pit_lane_time_s), 65535
        )
        cars["pit_stop_timer_in_ms"] = np.minimum(_ms(model.pit_stop_time_s), 65535)

    def car_telemetry(self, time_s: float, frame: int) -> bytes:
        """Car Telemetry packet (call after ``motion`` in the same tick)."""
        model = self.model
        inputs = self._inputs
        cars = self._cars(PacketId.CAR_TELEMETRY, "car_telemetry_data")
        cars["speed"] = np.rint(inputs["speed_kph"])
        cars["throttle"] = inputs["throttle"]
        cars["steer"] = inputs["steer"]
        cars["brake"] = inputs["brake"]
        cars["gear"] = inputs["gear"]
        rpm = inputs["engine_rpm"]
        cars["engine_rpm"] = rpm
        cars["drs"] = model.drs_open
        cars["rev_lights_percent"] = np.clip((rpm - 10000.0) / 25.0, 0, 100)
        return self._finish(PacketId.CAR_TELEMETRY, time_s, frame)

    def car_thermal(self) -> None:
        """Temperatures and pressures (changed at the slow rate, sent every tick)."""
        model = self.model
        inputs = model.driving_inputs()
        cars = self._cars(PacketId.CAR_TELEMETRY, "car_telemetry_data")
        load = np.abs(inputs["lateral_g"])[:, None]
        surface = 84.0 + 4.0 * load + 6.0 * model.brake_heat[:, None]
        surface = surface + np.array([2.0, 2.0, 0.0, 0.0]) + 0.1 * model.wear_pct
        inner = 96.0 + 0.15 * model.wear_pct + np.array([1.5, 1.5, 0.0, 0.0])
        cars["tyres_surface_temperature"] = np.clip(surface, 60, 140)
        cars["tyres_inner_temperature"] = np.clip(inner, 60, 140)
        brakes = 380.0 + 520.0 * np.minimum(model.brake_heat, 1.2)
        cars["brakes_temperature"] = brakes[:, None] * np.array([0.9, 0.9, 1.0, 1.0])
        cars["tyres_pressure"] = 22.5 + 0.025 * (surface - 84.0)
        cars["engine_temperature"] = 108 + np.rint(4 * model.speed_mps / 90.0)

    # ----------------------------------------------------------- slow packets
    def car_status(self, time_s: float, frame: int) -> bytes:
        """Car Status packet: fuel, tyres, ERS, DRS, pit limiter."""
        model = self.model
        fmt = self.packet_format
        cars = self._cars(PacketId.CAR_STATUS, "car_status_data")
        cars["pit_limiter_status"] = model.pit_phase > 0
        cars["fuel_in_tank"] = model.fuel_kg
        laps_left = self.total_laps - model.completed_laps
        cars["fuel_remaining_laps"] = model.fuel_kg / FUEL_KG_PER_LAP - laps_left
        cars["drs_allowed"] = model.drs_allowed
        cars["actual_tyre_compound"] = ACTUAL_COMPOUND[model.compound]
        cars["visual_tyre_compound"] = VISUAL_COMPOUND[model.compound]
        cars["tyres_age_laps"] = model.tyre_age_laps
        throttle = model.throttle_table[model.metre]
        cars["engine_power_ice"] = ICE_POWER_W[fmt] * throttle
        mguk_w = model.power_unit.mguk_power_w
        cars["engine_power_mguk"] = np.where(throttle > 0.95, mguk_w, 0.0)
        cars["ers_store_energy"] = model.ers_store_j
        cars["ers_deploy_mode"] = model.ers_deploy_mode
        cars["ers_harvested_this_lap_mguk"] = model.ers_harvest_k_lap_j
        cars["ers_harvested_this_lap_mguh"] = model.ers_harvest_h_lap_j
        cars["ers_deployed_this_lap"] = model.ers_deployed_lap_j
        return self._finish(PacketId.CAR_STATUS, time_s, frame)

    def car_damage(self, time_s: float, frame: int) -> bytes:
        """Car Damage packet: tyre wear and (slowly rising) component wear."""
        model = self.model
        cars = self._cars(PacketId.CAR_DAMAGE, "car_damage_data")
        cars["tyres_wear"] = model.wear_pct
        cars["tyres_damage"] = np.minimum(np.rint(model.wear_pct * 0.6), 100)
        race_share = min(max(time_s, 0.0) / 7200.0, 1.0)
        cars["gear_box_damage"] = round(6 * race_share)
        cars["engine_damage"] = round(8 * race_share)
        cars["engine_ice_wear"] = round(8 * race_share)
        cars["engine_mguk_wear"] = round(10 * race_share)
        cars["engine_es_wear"] = round(9 * race_share)
        return self._finish(PacketId.CAR_DAMAGE, time_s, frame)

    def session(self, time_s: float, frame: int) -> bytes:
        """Session packet: track, laps, weather, time left."""
        session = self._buffers[PacketId.SESSION]
        session["session_time_left"] = max(0, round(7200 - time_s))
        # The track warms by up to ~3 degC over two hours of afternoon sun.
        warming_c = 3.0 * min(max(time_s, 0.0) / 7200.0, 1.0)
        session["track_temperature"] = round(self.model.track_temperature_c + warming_c)
        session["safety_car_status"] = self.model.safety_car_status
        session["num_virtual_safety_car_periods"] = self.model.virtual_safety_cars
        return self._finish(PacketId.SESSION, time_s, frame)

    def participants(self, time_s: float, frame: int) -> bytes:
        """Participants packet: names, teams, race numbers."""
        return self._finish(PacketId.PARTICIPANTS, time_s, frame)

    def session_history(self, car: int, time_s: float, frame: int) -> bytes:
        """Session History packet of one car: its completed laps and tyre stints.

        Each car's packet is rebuilt only when its laps or stints changed; sending it
        again (20 per second in turn) only restamps the header.
        """
        history = self.model.history[car]
        key = (len(history.lap_times_s), tuple(history.stints))
        cached = self._history_packets.get(car)
        if cached is None or cached[0] != key:
            packet = empty_packets(self.packet_format, PacketId.SESSION_HISTORY, 1)
            self._fill_session_history(packet, car)
            cached = (key, packet)
            self._history_packets[car] = cached
        packet = cached[1]
        self._header(packet, time_s, frame)
        return packet.tobytes()

    def _fill_session_history(self, packet: np.ndarray, car: int) -> None:
        model = self.model
        history = model.history[car]
        laps = history.lap_times_s[:100]
        count = len(laps)
        packet["car_idx"] = car
        packet["num_laps"] = count
        packet["best_lap_time_lap_num"] = model.best_lap_num[car]
        rows = packet["lap_history_data"][0]
        if count:
            sectors = np.asarray(history.sector_times_s[:count])
            rows["lap_time_in_ms"][:count] = _ms(np.asarray(laps))
            for column, prefix in enumerate(("sector1", "sector2", "sector3")):
                minutes, ms = _minutes_and_ms(sectors[:, column])
                rows[f"{prefix}_time_minutes_part"][:count] = minutes
                rows[f"{prefix}_time_ms_part"][:count] = ms
            valid = np.asarray(history.lap_valid[:count])
            # bit 0 lap valid, bits 1-3 sectors valid; an invalid lap keeps its sectors.
            rows["lap_valid_bit_flags"][:count] = np.where(valid, 0x0F, 0x0E)
            best_sectors = np.argmin(sectors, axis=0) + 1
            packet["best_sector1_lap_num"] = best_sectors[0]
            packet["best_sector2_lap_num"] = best_sectors[1]
            packet["best_sector3_lap_num"] = best_sectors[2]
        stints = history.stints[:8]
        packet["num_tyre_stints"] = len(stints)
        stint_rows = packet["tyre_stints_history_data"][0]
        for slot, (end_lap, compound) in enumerate(stints):
            stint_rows[slot] = (
                end_lap,
                ACTUAL_COMPOUND[compound],
                VISUAL_COMPOUND[compound],
            )

    # ------------------------------------------------------- one-off packets
    def event(self, event: RaceEvent, time_s: float, frame: int) -> bytes:
        """Event packet for one race event."""
        packet = empty_packets(self.packet_format, PacketId.EVENT, 1)
        self._header(packet, time_s, frame)
        packet["event_string_code"] = event.code.encode("ascii")
        details = packet["event_details"]
        code = event.code
        if code == "FTLP":
            details["fastest_lap"]["vehicle_idx"] = event.vehicle_index
            details["fastest_lap"]["lap_time"] = event.lap_time_s
        elif code == "RCWN":
            details["race_winner"]["vehicle_idx"] = event.vehicle_index
        elif code == "STLG":
            details["start_lights"]["num_lights"] = event.num_lights
        elif code == "OVTK":
            details["overtake"]["overtaking_vehicle_idx"] = event.vehicle_index
            details["overtake"]["being_overtaken_vehicle_idx"] = (
                event.other_vehicle_index
            )
        elif code == "SCAR":
            details["safety_car"]["safety_car_type"] = event.safety_car_type
            details["safety_car"]["event_type"] = event.safety_car_event_type
        elif code == "DRSD" and "drs_disabled" in (details.dtype.names or ()):
            details["drs_disabled"]["reason"] = event.reason
        elif code == "PENA":
            penalty = details["penalty"]
            penalty["penalty_type"] = event.penalty_type
            penalty["infringement_type"] = event.infringement_type
            penalty["vehicle_idx"] = event.vehicle_index
            penalty["other_vehicle_idx"] = 255
            penalty["time"] = event.time_s
            penalty["lap_num"] = event.lap_number
            penalty["places_gained"] = 255
        return packet.tobytes()

    def final_classification(self, time_s: float, frame: int) -> bytes:
        """Final Classification packet: finishing order, laps, race time, stints."""
        model = self.model
        packet = empty_packets(self.packet_format, PacketId.FINAL_CLASSIFICATION, 1)
        self._header(packet, time_s, frame)
        packet["num_cars"] = model.n
        cars = packet["classification_data"][0, : model.n]
        cars["position"] = model.positions
        cars["num_laps"] = model.completed_laps
        cars["grid_position"] = model.grid_position
        cars["points"] = [
            POINTS[position - 1] if position <= len(POINTS) else 0
            for position in model.positions
        ]
        cars["num_pit_stops"] = model.num_pit_stops
        cars["result_status"] = np.where(model.finished, RESULT_FINISHED, 2)
        cars["result_reason"] = np.where(model.finished, 2, 0)  # 2 = finished
        best = np.where(np.isfinite(model.best_lap_s), model.best_lap_s, 0.0)
        cars["best_lap_time_in_ms"] = _ms(best)
        cars["total_race_time"] = model.race_time_s
        cars["penalties_time"] = np.minimum(model.penalties_s, 255)
        cars["num_penalties"] = np.minimum(model.num_penalties, 255)
        for car in range(model.n):
            stints = model.history[car].stints[:8]
            cars["num_tyre_stints"][car] = len(stints)
            for slot, (end_lap, compound) in enumerate(stints):
                last = int(model.completed_laps[car]) if end_lap == 255 else end_lap
                cars["tyre_stints_end_laps"][car, slot] = last
                cars["tyre_stints_actual"][car, slot] = ACTUAL_COMPOUND[compound]
                cars["tyre_stints_visual"][car, slot] = VISUAL_COMPOUND[compound]
        return packet.tobytes()

    def _header(self, packet: np.ndarray, time_s: float, frame: int) -> None:
        template = self._buffers[PacketId.MOTION]["header"]
        head = packet["header"]
        for name in (
            "game_year",
            "game_major_version",
            "game_minor_version",
            "session_uid",
            "player_car_index",
            "secondary_player_car_index",
        ):
            head[name] = template[name]
        head["session_time"] = time_s
        head["frame_identifier"] = frame
        head["overall_frame_identifier"] = frame
