"""The dashboard's queries: one method per panel, returning ``store.snapshots``.

Every query is parameterised (``?`` placeholders, see ``store.base``), runs on both
backends, and touches only a handful of rows however long the session is: each one
is an equality lookup on (session_uid, overall_frame[, car_index]) or a range on
(session_uid, car_index, lap_number, frame), which the SQLite indexes in
``store.schema`` serve directly. "Latest" always means the highest overall frame,
which never goes back, so the newest row is never one a flashback superseded.

Flashbacks: samples of a session with frame > to_frame and overall_frame <
at_overall_frame (a ``rewinds`` row) are superseded. The few rewinds of a session are
fetched with each trace query and applied with numpy, because HeavyDB does not run
correlated NOT EXISTS subqueries.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from f1dash_tui.errors import StoreError
from f1dash_tui.store.base import Store, unix_seconds
from f1dash_tui.store.snapshots import (
    BestLap,
    CarPositions,
    CarSamples,
    CarState,
    EventRow,
    LapKey,
    PipelineHealth,
    ReferenceLap,
    SessionInfo,
    TimingTower,
    TowerRow,
    frozen_array,
)
from f1dash_tui.telemetry import enums

log = logging.getLogger(__name__)

WHOLE_LAP_MAX_SAMPLES = 1_600
"""A whole-lap fetch (``car_samples`` without ``after_frame``, ``reference_lap``)
returns every n-th frame when the lap holds more samples than this. An 80 s lap at
60 Hz is 4,800 samples; every 3rd is ~3.3 m apart on a 5.3 km track, finer than a
trace on a 160-column terminal (at most 320 braille dots) or a lap-distance delta
needs, and fetching it takes ~5 ms of CPU instead of ~12 ms (measured on a 60 Hz,
22-car store). Incremental fetches (``after_frame`` given) return every frame."""

EVENTS_PER_POLL = 1_000
"""At most this many events per call; the next call continues from the last id."""

HIDDEN_EVENT_CODES = ("BUTN",)
"""Button presses arrive many times a second while the player drives: not news."""

_MIN_LAP_TIME_FOR_PACE_S = 5.0
# Before 2023 the game sends no gaps; they are estimated from the distance between
# cars at the car's own pace. Under 5 s into a lap the current-lap pace is noise
# (standing start, pit exit), so the last lap's pace is used instead.


def _float(value: Any) -> float | None:
    """A float, or None for NULL/NaN (SQLite stores NaN as NULL)."""
    if value is None:
        return None
    result = float(value)
    return None if math.isnan(result) else result


def _int(value: Any, missing: int = -1) -> int | None:
    """An int, or None for NULL and the decoder's "not sent" value."""
    if value is None:
        return None
    result = int(value)
    return None if result == missing else result


def _positive(value: Any) -> float | None:
    """A time that the game sends as 0 until it is set."""
    result = _float(value)
    return result if result is not None and result > 0 else None


def _floats(values: Sequence[Any]) -> np.ndarray:
    """Float array; numpy turns None (SQL NULL) into NaN."""
    return np.array(values, dtype="f8")


def _lap_time_text(seconds: float) -> str:
    if not math.isfinite(seconds):  # a corrupt packet's inf: no time to show
        return "—"
    minutes, rest = divmod(seconds, 60.0)
    return f"{int(minutes)}:{rest:06.3f}"


_TOWER_NAMES = (
    "car_index",
    "frame",
    "session_time_s",
    "car_position",
    "current_lap_num",
    "delta_to_race_leader_s",
    "delta_to_car_in_front_s",
    "last_lap_time_s",
    "sector",
    "sector1_time_s",
    "sector2_time_s",
    "pit_status",
    "num_pit_stops",
    "penalties_s",
    "total_warnings",
    "driver_status",
    "result_status",
    "current_lap_invalid",
    "lap_distance_m",
    "total_distance_m",
    "current_lap_time_s",
)
_TOWER_COLUMNS = ", ".join(_TOWER_NAMES)

LapRow = dict[str, Any]
"""One lap_data row of the tower by column name."""

_RESULT_STATUS_FINISHED = 3


def _last_lap_number(row: LapRow) -> int:
    """The lap a lap-data row's last lap time belongs to.

    After the chequered flag the game keeps current_lap_num at the race's last lap
    and sets result_status to finished (3): that lap is the last one completed.
    """
    current = int(row["current_lap_num"])
    finished = row["result_status"] == _RESULT_STATUS_FINISHED
    return current if finished else current - 1


_TELEMETRY_STATE = (
    "frame, speed_kph, gear, engine_rpm, drs, throttle, brake, "
    "tyres_surface_temperature_c_rl, tyres_surface_temperature_c_rr, "
    "tyres_surface_temperature_c_fl, tyres_surface_temperature_c_fr, "
    "tyres_inner_temperature_c_rl, tyres_inner_temperature_c_rr, "
    "tyres_inner_temperature_c_fl, tyres_inner_temperature_c_fr, "
    "brakes_temperature_c_rl, brakes_temperature_c_rr, "
    "brakes_temperature_c_fl, brakes_temperature_c_fr"
)

_STATUS_STATE = (
    "frame, max_rpm, ers_store_energy_j, ers_deploy_mode, fuel_in_tank_kg, "
    "fuel_remaining_laps"
)

_DAMAGE_STATE = (
    "frame, tyres_wear_pct_rl, tyres_wear_pct_rr, tyres_wear_pct_fl, "
    "tyres_wear_pct_fr, front_left_wing_damage_pct, front_right_wing_damage_pct, "
    "rear_wing_damage_pct, floor_damage_pct, engine_damage_pct, gearbox_damage_pct"
)

_LAP_COLUMNS = (
    "session_uid, car_index, lap_number, driver_name, team_id, track_id, "
    "session_type, lap_time_s, sector1_s, sector2_s, sector3_s, "
    "visual_tyre_compound, weather, tags"
)

_EVENT_NAMES = (
    "event_seq",
    "frame",
    "session_time_s",
    "event_code",
    "vehicle_index",
    "other_vehicle_index",
    "lap_time_s",
    "speed_kph",
    "penalty_type",
    "infringement_type",
    "time_s",
    "lap_number",
    "num_lights",
    "flashback_frame",
    "flashback_session_time_s",
    "safety_car_type",
    "safety_car_event_type",
    "reason",
)
_EVENT_COLUMNS = ", ".join(_EVENT_NAMES)


def _at_latest_frame(table: str, columns: str) -> str:
    """Rows of one car at the table's latest overall frame of a session.

    Parameters: session_uid, car_index, session_uid. The MAX is answered from the
    end of the (session_uid, overall_frame, car_index) index, the row by one seek.
    """
    return (
        f"SELECT {columns} FROM {table} WHERE session_uid = ? AND car_index = ? "
        f"AND overall_frame = (SELECT MAX(overall_frame) FROM {table} "
        "WHERE session_uid = ?)"
    )


class DashboardQueries:
    """The dashboard's reads, on any Store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def _fetch(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return self.store.fetch(sql, params)

    # -- sessions -----------------------------------------------------------------

    def latest_session(self) -> SessionInfo | None:
        """The session ingest started most recently, or None for an empty store."""
        rows = self._fetch(
            "SELECT session_uid FROM sessions ORDER BY started_unix_s DESC LIMIT 1"
        )
        return self.session(int(rows[0][0])) if rows else None

    def session(self, session_uid: int) -> SessionInfo | None:
        """One session's latest good Session packet and where its data stands."""
        known = self._fetch(
            "SELECT is_synthetic, packet_format, track_id, session_type "
            "FROM sessions WHERE session_uid = ? LIMIT 1",
            session_uid,
        )
        # A Session packet with zero track length is the game's placeholder after a
        # save is loaded: skip it, as ingest does.
        packet = self._fetch(
            "SELECT packet_format, track_id, session_type, weather, "
            "track_temperature_c, air_temperature_c, total_laps, track_length_m, "
            "session_time_left_s, safety_car_status FROM session "
            "WHERE session_uid = ? AND track_length_m > 0 "
            "ORDER BY overall_frame DESC LIMIT 1",
            session_uid,
        )
        if not known and not packet:
            return None
        latest = self._fetch(
            "SELECT frame, session_time_s FROM lap_data WHERE session_uid = ? "
            "ORDER BY overall_frame DESC LIMIT 1",
            session_uid,
        )
        stats = self._fetch(
            "SELECT last_packet_unix_s FROM ingest_stats WHERE session_uid = ? "
            "ORDER BY unix_s DESC LIMIT 1",
            session_uid,
        )
        is_synthetic = bool(known[0][0]) if known else False
        if packet:
            (fmt, track, kind, weather, track_c, air_c, laps, length, left, sc) = (
                packet[0]
            )
        else:
            fmt, track, kind = known[0][1:4]
            weather = track_c = air_c = laps = length = sc = -1
            left = None
        return SessionInfo(
            session_uid=session_uid,
            packet_format=int(fmt),
            track_id=int(track),
            session_type=int(kind),
            weather=int(weather),
            track_temperature_c=int(track_c),
            air_temperature_c=int(air_c),
            total_laps=int(laps),
            track_length_m=int(length),
            session_time_left_s=_float(left) or 0.0,
            safety_car_status=int(sc),
            is_synthetic=is_synthetic,
            latest_frame=int(latest[0][0]) if latest else 0,
            latest_session_time_s=(_float(latest[0][1]) or 0.0) if latest else 0.0,
            last_packet_unix_s=unix_seconds(stats[0][0]) if stats else None,
        )

    # -- timing tower ---------------------------------------------------------------

    def _latest_participants(self, session_uid: int) -> dict[int, tuple[Any, ...]]:
        """car_index -> (name, team_id, race_number, num_active_cars)."""
        rows = self._fetch(
            "SELECT car_index, name, team_id, race_number, num_active_cars "
            "FROM participants WHERE session_uid = ? AND overall_frame = "
            "(SELECT MAX(overall_frame) FROM participants WHERE session_uid = ?)",
            session_uid,
            session_uid,
        )
        return {int(row[0]): row[1:] for row in rows}

    def timing_tower(self, session_uid: int) -> TimingTower | None:
        """Every active car at the latest lap-data frame, in position order."""
        latest = self._fetch(
            "SELECT MAX(overall_frame) FROM lap_data WHERE session_uid = ?",
            session_uid,
        )
        if not latest or latest[0][0] is None:
            return None
        overall_frame = int(latest[0][0])
        laps: list[LapRow] = [
            dict(zip(_TOWER_NAMES, values, strict=True))
            for values in self._fetch(
                f"SELECT {_TOWER_COLUMNS} FROM lap_data "
                "WHERE session_uid = ? AND overall_frame = ?",
                session_uid,
                overall_frame,
            )
        ]
        people = self._latest_participants(session_uid)
        tyres = {
            int(car): (compound, age)
            for car, compound, age in self._fetch(
                "SELECT car_index, visual_tyre_compound, tyres_age_laps "
                "FROM car_status WHERE session_uid = ? AND overall_frame = "
                "(SELECT MAX(overall_frame) FROM car_status WHERE session_uid = ?)",
                session_uid,
                session_uid,
            )
        }
        best = {
            int(car): time_s
            for car, time_s in self._fetch(
                "SELECT car_index, MIN(lap_time_s) FROM laps "
                "WHERE session_uid = ? AND is_valid = 1 AND lap_time_s > 0 "
                "GROUP BY car_index",
                session_uid,
            )
        }
        # Invalid laps are few (a handful a race): a search of the laps index on
        # (session_uid, is_valid) reads only them, not every lap of the session.
        invalid_laps = {
            (int(car), int(lap_number))
            for car, lap_number in self._fetch(
                "SELECT car_index, lap_number FROM laps "
                "WHERE session_uid = ? AND is_valid = 0",
                session_uid,
            )
        }
        track_length = self._fetch(
            "SELECT track_length_m FROM session WHERE session_uid = ? "
            "AND track_length_m > 0 ORDER BY overall_frame DESC LIMIT 1",
            session_uid,
        )
        length_m = float(track_length[0][0]) if track_length else None
        # Slots beyond the active cars (24-slot arrays hold 22 cars in 2026) come
        # with position 0 and result status 0 (invalid) or 1 (inactive).
        # One row per car: a repeated Lap Data packet (a UDP duplicate) repeats rows.
        by_car = {int(row["car_index"]): row for row in laps}
        active = [
            row
            for row in by_car.values()
            if (row["car_position"] or 0) >= 1 and row["result_status"] not in (0, 1)
        ]
        active.sort(key=lambda row: row["car_position"])
        gaps = _gaps(active, length_m)
        rows = []
        for row, (gap_s, interval_s) in zip(active, gaps, strict=True):
            car = int(row["car_index"])
            # Lap Data can come before the first Participants packet names a car.
            name, team, number, _ = people.get(car, ("", None, None, 0))
            compound, age = tyres.get(car, (None, None))
            rows.append(
                TowerRow(
                    car_index=car,
                    position=int(row["car_position"]),
                    race_number=_int(number),
                    driver_name=str(name or ""),
                    team_id=_int(team),
                    lap_number=int(row["current_lap_num"]),
                    gap_to_leader_s=gap_s,
                    interval_s=interval_s,
                    last_lap_s=_positive(row["last_lap_time_s"]),
                    best_lap_s=_positive(best.get(car)),
                    sector=int(row["sector"]),
                    sector1_s=_positive(row["sector1_time_s"]),
                    sector2_s=_positive(row["sector2_time_s"]),
                    visual_tyre_compound=_int(compound),
                    tyres_age_laps=_int(age),
                    pit_status=int(row["pit_status"]),
                    num_pit_stops=_int(row["num_pit_stops"]),
                    penalties_s=int(row["penalties_s"]),
                    total_warnings=int(row["total_warnings"]),
                    driver_status=int(row["driver_status"]),
                    result_status=int(row["result_status"]),
                    current_lap_invalid=bool(row["current_lap_invalid"]),
                    last_lap_invalid=(car, _last_lap_number(row)) in invalid_laps,
                    lap_distance_m=_float(row["lap_distance_m"]) or 0.0,
                )
            )
        first = laps[0] if laps else None
        return TimingTower(
            session_uid=session_uid,
            frame=int(first["frame"]) if first else 0,
            session_time_s=(_float(first["session_time_s"]) or 0.0) if first else 0.0,
            rows=tuple(rows),
        )

    # -- one car --------------------------------------------------------------------

    def _rewinds(self, session_uid: int) -> list[tuple[int, int]]:
        return [
            (int(to_frame), int(at_overall))
            for to_frame, at_overall in self._fetch(
                "SELECT to_frame, at_overall_frame FROM rewinds WHERE session_uid = ?",
                session_uid,
            )
        ]

    def car_samples(
        self,
        session_uid: int,
        car_index: int,
        lap_number: int,
        after_frame: int | None = None,
        *,
        after_overall_frame: int | None = None,
    ) -> CarSamples:
        """One car's samples of one lap with frame > after_frame, ordered by frame.

        Without ``after_frame`` (a whole lap) a lap longer than WHOLE_LAP_MAX_SAMPLES
        comes at a bounded resolution: every n-th frame. A poller then continues
        from the last frame returned and gets every newer frame.
        Superseded samples (before a flashback) are left out. A caller that also
        passes the ``last_overall_frame`` it holds learns of a flashback since then
        that rewound below ``after_frame``: the result then starts after the rewind
        point and says so in ``replaces_after_frame``.
        """
        after = -1 if after_frame is None else int(after_frame)
        rewinds = self._rewinds(session_uid)
        replaces: int | None = None
        if after_frame is not None and after_overall_frame is not None:
            since = [
                to_frame
                for to_frame, at_overall_frame in rewinds
                if at_overall_frame > after_overall_frame and to_frame < after
            ]
            if since:
                replaces = after = min(since)
        # overall_frame only matters to sort out flashbacks; a whole lap is 4,800
        # rows at 60 Hz, and every column fetched costs ~1 ms of Python objects.
        key = "frame, overall_frame" if rewinds else "frame"
        lap_rows = (
            "WHERE session_uid = ? AND car_index = ? AND lap_number = ? AND frame > ?"
        )
        params: tuple[int, ...] = (session_uid, car_index, lap_number, after)
        if after_frame is None:
            stride = self._whole_lap_stride(lap_rows, params)
            if stride > 1:
                # Every stride-th frame, chosen in SQL so the rows left out never
                # become Python objects.
                lap_rows += " AND frame = (frame / ?) * ?"
                params = (*params, stride, stride)
        telemetry = self._fetch(
            f"SELECT {key}, lap_distance_m, speed_kph, throttle, brake, steer, gear, "
            f"engine_rpm, world_position_x_m, world_position_z_m "
            f"FROM car_telemetry {lap_rows}",
            *params,
        )
        # Ingest stores each telemetry row with the car's world x/z of that frame
        # (its latest motion row), so one query holds the trace and the line.
        columns = _current_samples(telemetry, rewinds, width=11)
        frame = columns[0].astype("i8")
        x_m, z_m = columns[9], columns[10]
        return CarSamples(
            session_uid=session_uid,
            car_index=car_index,
            lap_number=lap_number,
            frame=frozen_array(frame, "i8"),
            lap_distance_m=frozen_array(columns[2], "f8"),
            speed_kph=frozen_array(columns[3], "f8"),
            throttle=frozen_array(columns[4], "f8"),
            brake=frozen_array(columns[5], "f8"),
            steer=frozen_array(columns[6], "f8"),
            gear=frozen_array(columns[7], "f8"),
            engine_rpm=frozen_array(columns[8], "f8"),
            world_position_x_m=frozen_array(x_m, "f8"),
            world_position_z_m=frozen_array(z_m, "f8"),
            last_overall_frame=int(columns[1].max()) if len(frame) else None,
            replaces_after_frame=replaces,
        )

    def _whole_lap_stride(self, lap_rows: str, params: tuple[int, ...]) -> int:
        """Frame stride that keeps a whole-lap fetch within WHOLE_LAP_MAX_SAMPLES."""
        ((count,),) = self._fetch(
            f"SELECT COUNT(*) FROM car_telemetry {lap_rows}", *params
        )
        return max(1, -(-int(count or 0) // WHOLE_LAP_MAX_SAMPLES))

    def car_state(self, session_uid: int, car_index: int) -> CarState | None:
        """The car panel's latest values of one car (None before any sample)."""
        telemetry = self._fetch(
            _at_latest_frame("car_telemetry", _TELEMETRY_STATE),
            session_uid,
            car_index,
            session_uid,
        )
        status = self._fetch(
            _at_latest_frame("car_status", _STATUS_STATE),
            session_uid,
            car_index,
            session_uid,
        )
        damage = self._fetch(
            _at_latest_frame("car_damage", _DAMAGE_STATE),
            session_uid,
            car_index,
            session_uid,
        )
        if not (telemetry or status or damage):
            return None
        frames = [rows[0][0] for rows in (telemetry, status, damage) if rows]
        values: dict[str, Any] = {}
        if telemetry:
            t = telemetry[0]
            values.update(
                speed_kph=_float(t[1]),
                gear=None if t[2] is None else int(t[2]),
                engine_rpm=_int(t[3]),
                drs=_int(t[4]),
                throttle=_float(t[5]),
                brake=_float(t[6]),
                tyres_surface_temperature_c=_corners(t[7:11]),
                tyres_inner_temperature_c=_corners(t[11:15]),
                brakes_temperature_c=_corners(t[15:19]),
            )
        if status:
            s = status[0]
            values.update(
                max_rpm=_int(s[1]),
                ers_store_energy_j=_float(s[2]),
                ers_deploy_mode=_int(s[3]),
                fuel_in_tank_kg=_float(s[4]),
                fuel_remaining_laps=_float(s[5]),
            )
        if damage:
            d = damage[0]
            values.update(
                tyres_wear_pct=_corners(d[1:5]),
                front_left_wing_damage_pct=_float(d[5]),
                front_right_wing_damage_pct=_float(d[6]),
                rear_wing_damage_pct=_float(d[7]),
                floor_damage_pct=_float(d[8]),
                engine_damage_pct=_float(d[9]),
                gearbox_damage_pct=_float(d[10]),
            )
        return CarState(
            session_uid=session_uid,
            car_index=car_index,
            frame=int(max(frames)),
            **values,
        )

    # -- track map ------------------------------------------------------------------

    def positions(self, session_uid: int) -> CarPositions | None:
        """World x/z of the active cars at the latest car-telemetry frame (ingest
        stores each telemetry row with the car's position at that frame)."""
        rows = self._fetch(
            "SELECT car_index, frame, world_position_x_m, world_position_z_m "
            "FROM car_telemetry WHERE session_uid = ? AND overall_frame = "
            "(SELECT MAX(overall_frame) FROM car_telemetry WHERE session_uid = ?)",
            session_uid,
            session_uid,
        )
        if not rows:
            return None
        active = self._fetch(
            "SELECT num_active_cars FROM participants WHERE session_uid = ? "
            "ORDER BY overall_frame DESC LIMIT 1",
            session_uid,
        )
        # Arrays are full length (24 slots in 2026); the first numActiveCars are live.
        limit = int(active[0][0]) if active and active[0][0] else len(rows)
        # One row per car, ordered by car index only: a repeated telemetry packet
        # repeats its rows, and sorting whole rows would compare NULL (NaN) positions.
        by_car = {int(row[0]): row for row in rows if int(row[0]) < limit}
        rows = [by_car[car] for car in sorted(by_car)]
        return CarPositions(
            session_uid=session_uid,
            frame=int(rows[0][1]) if rows else 0,
            car_index=frozen_array([int(row[0]) for row in rows], "i8"),
            world_position_x_m=frozen_array(_floats([row[2] for row in rows])),
            world_position_z_m=frozen_array(_floats([row[3] for row in rows])),
        )

    # -- laps ----------------------------------------------------------------------

    def _started(self, session_uids: Sequence[int]) -> dict[int, float | None]:
        uids = sorted(set(session_uids))
        if not uids:
            return {}
        marks = ", ".join("?" * len(uids))
        rows = self._fetch(
            "SELECT session_uid, MIN(started_unix_s) FROM sessions "
            f"WHERE session_uid IN ({marks}) GROUP BY session_uid",
            *uids,
        )
        return {int(uid): unix_seconds(started) for uid, started in rows}

    def best_laps(self, track_id: int, limit: int = 20) -> list[BestLap]:
        """The fastest valid completed laps at a track, across every session."""
        rows = self._fetch(
            f"SELECT {_LAP_COLUMNS} FROM laps WHERE track_id = ? AND is_valid = 1 "
            "AND lap_time_s > 0 ORDER BY lap_time_s LIMIT ?",
            track_id,
            int(limit),
        )
        uids = [int(row[0]) for row in rows]
        started = self._started(uids)
        synthetic = self._synthetic(uids)
        return [
            replace(
                _best_lap(row, started.get(int(row[0]))),
                is_synthetic=int(row[0]) in synthetic,
            )
            for row in rows
        ]

    def _synthetic(self, session_uids: Sequence[int]) -> set[int]:
        """Which of these sessions the simulator made."""
        uids = sorted(set(session_uids))
        if not uids:
            return set()
        marks = ", ".join("?" * len(uids))
        rows = self._fetch(
            "SELECT DISTINCT session_uid FROM sessions "
            f"WHERE session_uid IN ({marks}) AND is_synthetic = 1",
            *uids,
        )
        return {int(row[0]) for row in rows}

    def lap_trace_extents(
        self, keys: Sequence[LapKey]
    ) -> dict[LapKey, tuple[float, float]]:
        """The first and last lap distance each lap's stored trace holds (metres).

        A lap recorded from mid-lap (a capture that began late) holds only its last
        stretch: lap compare prefers a reference that covers the lap. One grouped
        query over the trace index: ~5,400 index rows a lap at 60 Hz.
        """
        wanted = sorted(
            set(keys), key=lambda key: (key.session_uid, key.car_index, key.lap_number)
        )
        if not wanted:
            return {}
        where = " OR ".join(
            ["(session_uid = ? AND car_index = ? AND lap_number = ?)"] * len(wanted)
        )
        params = [
            value
            for key in wanted
            for value in (key.session_uid, key.car_index, key.lap_number)
        ]
        rows = self._fetch(
            "SELECT session_uid, car_index, lap_number, MIN(lap_distance_m), "
            f"MAX(lap_distance_m) FROM car_telemetry WHERE {where} "
            "GROUP BY session_uid, car_index, lap_number",
            *params,
        )
        extents: dict[LapKey, tuple[float, float]] = {}
        for uid, car, lap, first_m, last_m in rows:
            first, last = _float(first_m), _float(last_m)
            if first is not None and last is not None:
                extents[LapKey(int(uid), int(car), int(lap))] = (first, last)
        return extents

    def reference_lap(self, key: LapKey) -> ReferenceLap:
        """A completed lap and its samples (at most WHOLE_LAP_MAX_SAMPLES of them,
        evenly spread over its frames), ordered by lap distance."""
        rows = self._fetch(
            f"SELECT {_LAP_COLUMNS} FROM laps WHERE session_uid = ? "
            "AND car_index = ? AND lap_number = ? LIMIT 1",
            key.session_uid,
            key.car_index,
            key.lap_number,
        )
        if not rows:
            raise StoreError(
                f"lap {key.lap_number} of car {key.car_index} in session "
                f"{key.session_uid} is not a completed lap in the store"
            )
        lap = replace(
            _best_lap(rows[0], self._started([key.session_uid]).get(key.session_uid)),
            is_synthetic=key.session_uid in self._synthetic([key.session_uid]),
        )
        samples = self.car_samples(key.session_uid, key.car_index, key.lap_number)
        order = np.argsort(samples.lap_distance_m, kind="stable")
        arrays: dict[str, Any] = {
            name: frozen_array(getattr(samples, name)[order]) for name in _SAMPLE_ARRAYS
        }
        by_distance = CarSamples(
            session_uid=samples.session_uid,
            car_index=samples.car_index,
            lap_number=samples.lap_number,
            last_overall_frame=samples.last_overall_frame,
            **arrays,
        )
        return ReferenceLap(lap=lap, samples=by_distance)

    # -- events and health ----------------------------------------------------------

    def last_event_id(self, session_uid: int) -> int | None:
        """The highest event id the store holds for the session (None if none)."""
        rows = self._fetch(
            "SELECT MAX(event_seq) FROM event WHERE session_uid = ?", session_uid
        )
        return None if not rows or rows[0][0] is None else int(rows[0][0])

    def events(
        self, session_uid: int, after_event_id: int | None = None
    ) -> list[EventRow]:
        """The session's events with an id above ``after_event_id``, oldest first."""
        after = -1 if after_event_id is None else int(after_event_id)
        hidden = ", ".join("?" * len(HIDDEN_EVENT_CODES))
        rows = self._fetch(
            f"SELECT {_EVENT_COLUMNS} FROM event WHERE session_uid = ? "
            f"AND event_seq > ? AND event_code NOT IN ({hidden}) "
            "ORDER BY event_seq LIMIT ?",
            session_uid,
            after,
            *HIDDEN_EVENT_CODES,
            EVENTS_PER_POLL,
        )
        if not rows:
            return []
        people = self._latest_participants(session_uid)

        def name_of(index: int | None) -> str | None:
            if index is None or index not in people:
                return None
            return str(people[index][0])

        events = []
        for values in rows:
            row = dict(zip(_EVENT_NAMES, values, strict=True))
            vehicle = _car(row["vehicle_index"])
            other = _car(row["other_vehicle_index"])
            events.append(
                EventRow(
                    event_id=int(row["event_seq"]),
                    session_uid=session_uid,
                    frame=int(row["frame"]),
                    session_time_s=_float(row["session_time_s"]) or 0.0,
                    event_code=str(row["event_code"]),
                    vehicle_index=vehicle,
                    driver_name=name_of(vehicle),
                    other_vehicle_index=other,
                    other_driver_name=name_of(other),
                    detail=_event_detail(row),
                )
            )
        return events

    def pipeline_health(self) -> PipelineHealth:
        """The latest ingest statistics (zeros before ingest has written any)."""
        rows = self._fetch(
            "SELECT last_packet_unix_s, packets_total, packets_per_s, bad_total, "
            "bad_by_reason, write_lag_s, spooled_rows, unix_s FROM ingest_stats "
            "ORDER BY unix_s DESC LIMIT 1"
        )
        if not rows:
            return PipelineHealth(
                last_packet_unix_s=None,
                packets_total=0,
                packets_per_s=0.0,
                bad_packets=0,
                bad_by_reason=(),
                write_lag_s=None,
            )
        last, total, rate, bad, by_reason, lag, spooled, written = rows[0]
        return PipelineHealth(
            last_packet_unix_s=unix_seconds(last),
            packets_total=int(total or 0),
            packets_per_s=_float(rate) or 0.0,
            bad_packets=int(bad or 0),
            bad_by_reason=_reasons(by_reason),
            write_lag_s=_float(lag),
            spooled_rows=int(spooled or 0),
            written_unix_s=unix_seconds(written),
        )


_SAMPLE_ARRAYS = (
    "frame",
    "lap_distance_m",
    "speed_kph",
    "throttle",
    "brake",
    "steer",
    "gear",
    "engine_rpm",
    "world_position_x_m",
    "world_position_z_m",
)


def _current_samples(
    rows: list[tuple[Any, ...]], rewinds: list[tuple[int, int]], width: int
) -> list[np.ndarray]:
    """Columns of sample rows without superseded ones, one per frame, by frame.

    Column 0 is frame and 1 overall_frame; rows fetched without overall_frame
    (there are no rewinds) get a copy of frame there. Where two rows share a frame
    (a rewind ingest did not record), the one with the higher overall frame wins.
    """
    if not rows:
        return [np.empty(0, dtype="f8") for _ in range(width)]
    # One 2-D conversion, then column views: ~40% less time than one array per
    # column from zip(*rows) (measured on 4,800 rows of 8 columns).
    columns = list(np.array(rows, dtype="f8").T)
    if len(columns) < width:
        columns.insert(1, columns[0])
    frame, overall = columns[0], columns[1]
    keep = np.ones(len(frame), dtype=bool)
    for to_frame, at_overall_frame in rewinds:
        keep &= ~((frame > to_frame) & (overall < at_overall_frame))
    # Sort by (frame, overall frame) and keep the last row of each frame.
    order = np.lexsort((overall, frame))
    order = order[keep[order]]
    sorted_frames = frame[order]
    last_of_frame = np.ones(len(order), dtype=bool)
    last_of_frame[:-1] = sorted_frames[1:] != sorted_frames[:-1]
    order = order[last_of_frame]
    return [column[order] for column in columns]


def _corners(values: Sequence[Any]) -> tuple[float, float, float, float] | None:
    floats = [_float(value) for value in values]
    if any(value is None for value in floats):
        return None
    rl, rr, fl, fr = (float(value) for value in floats if value is not None)
    return (rl, rr, fl, fr)


def _gaps(
    rows: list[LapRow], track_length_m: float | None
) -> list[tuple[float | None, float | None]]:
    """(gap to leader, interval) per tower row (rows in position order).

    2023+ formats send both; before that they are estimated from total distance.
    The leader has None for both.
    """
    if not rows:
        return []
    sent = [
        (_float(row["delta_to_race_leader_s"]), _float(row["delta_to_car_in_front_s"]))
        for row in rows
    ]
    if all(gap is not None for gap, _ in sent[1:]):
        return [(None, None), *sent[1:]]
    leader_distance = _float(rows[0]["total_distance_m"])
    result: list[tuple[float | None, float | None]] = [(None, None)]
    previous_gap: float | None = 0.0
    for row in rows[1:]:
        gap = None
        distance = _float(row["total_distance_m"])
        pace = _pace_mps(row, track_length_m)
        if leader_distance is not None and distance is not None and pace:
            gap = max(0.0, (leader_distance - distance) / pace)
        interval = (
            gap - previous_gap if gap is not None and previous_gap is not None else None
        )
        result.append((gap, interval))
        previous_gap = gap
    return result


def _pace_mps(row: LapRow, track_length_m: float | None) -> float | None:
    """The car's speed over its current lap (or its last lap early in a lap)."""
    lap_distance = _float(row["lap_distance_m"])
    lap_time = _float(row["current_lap_time_s"])
    if lap_distance and lap_time and lap_time > _MIN_LAP_TIME_FOR_PACE_S:
        return lap_distance / lap_time
    last_lap = _positive(row["last_lap_time_s"])
    if track_length_m and last_lap:
        return track_length_m / last_lap
    return None


def _best_lap(row: tuple[Any, ...], started_unix_s: float | None) -> BestLap:
    return BestLap(
        key=LapKey(int(row[0]), int(row[1]), int(row[2])),
        driver_name=str(row[3] or ""),
        team_id=int(row[4]),
        track_id=int(row[5]),
        session_type=int(row[6]),
        lap_time_s=float(row[7]),
        sector1_s=_positive(row[8]),
        sector2_s=_positive(row[9]),
        sector3_s=_positive(row[10]),
        visual_tyre_compound=_int(row[11]),
        weather=_int(row[12]),
        session_started_unix_s=started_unix_s,
        tags=str(row[13] or ""),
    )


def _reasons(text: Any) -> tuple[tuple[str, int], ...]:
    """Parse ingest_stats.bad_by_reason (a JSON object), most frequent first."""
    if not text:
        return ()
    try:
        counts = json.loads(text)
    except ValueError:
        log.warning("ingest_stats.bad_by_reason is not JSON: %.80r", text)
        return ()
    if not isinstance(counts, dict):
        return ()
    pairs = [(str(reason), int(count)) for reason, count in counts.items()]
    return tuple(sorted(pairs, key=lambda pair: (-pair[1], pair[0])))


def _car(value: Any) -> int | None:
    """A car index from an event, or None for "no car" (-1 or 255)."""
    index = _int(value)
    return None if index is None or index == 255 else index


def _event_detail(row: dict[str, Any]) -> str:
    """What a person reads about an event (a row of ``_EVENT_NAMES``)."""
    code = str(row["event_code"])
    lap_time, speed = _float(row["lap_time_s"]), _float(row["speed_kph"])
    if code == "FTLP" and lap_time:
        return _lap_time_text(lap_time)
    if code == "SPTP" and speed:
        return f"{speed:.1f} km/h"
    if code == "PENA":
        parts = []
        seconds = _float(row["time_s"])
        if seconds and seconds < 255:  # 255 = no time attached
            parts.append(f"+{seconds:g} s")
        penalty, infringement = (
            _int(row["penalty_type"]),
            _int(row["infringement_type"]),
        )
        if penalty is not None:
            parts.append(enums.penalty_type_name(penalty))
        if infringement is not None:
            parts.append(enums.infringement_type_name(infringement).lower())
        if _int(row["lap_number"]) is not None:
            parts.append(f"lap {row['lap_number']}")
        return ", ".join(parts)
    if code == "FLBK":
        frame = _int(row["flashback_frame"])
        time_s = _float(row["flashback_session_time_s"])
        if frame is not None and time_s is not None:
            return f"back to frame {frame} ({time_s:.1f} s)"
    if code == "STLG" and _int(row["num_lights"]) is not None:
        return f"{row['num_lights']} lights"
    kind = _int(row["safety_car_type"])
    if code == "SCAR" and kind is not None:
        name = enums.SAFETY_CAR_STATUS.get(kind, f"type {kind}")
        event_type = int(row["safety_car_event_type"])
        event = enums.SAFETY_CAR_EVENT_TYPES.get(event_type, f"event {event_type}")
        return f"{name} safety car: {event.lower()}"
    if code == "RTMT" and _int(row["reason"]) is not None:
        return enums.RESULT_REASON.get(int(row["reason"]), "")
    return ""
