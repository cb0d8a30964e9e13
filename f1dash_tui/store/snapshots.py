"""Immutable results of the dashboard's queries: the contract between store/ and ui/.

``store.queries`` returns these; pollers post them in messages; widgets render them.
Arrays inside are numpy arrays made read-only, so a snapshot can cross threads safely.
Missing values are ``None`` in scalar fields and NaN in float arrays.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def frozen_array(values: object, dtype: str | None = None) -> np.ndarray:
    """A read-only numpy array (copy) for use inside a snapshot."""
    array = np.array(values, dtype=dtype)
    array.setflags(write=False)
    return array


def _empty_f8() -> np.ndarray:
    return frozen_array([], "f8")


@dataclass(frozen=True)
class SessionInfo:
    """The latest good Session packet of a session, plus where the data stands."""

    session_uid: int
    packet_format: int
    track_id: int
    session_type: int
    weather: int
    track_temperature_c: int
    air_temperature_c: int
    total_laps: int
    track_length_m: int
    session_time_left_s: float
    safety_car_status: int
    is_synthetic: bool
    latest_frame: int
    latest_session_time_s: float
    last_packet_unix_s: float | None = None
    """Wall-clock time ingest last wrote for this session (for the data-age badge)."""


@dataclass(frozen=True)
class TowerRow:
    """One car in the timing tower."""

    car_index: int
    position: int
    race_number: int | None
    """None until the session's first Participants packet names the car."""
    driver_name: str
    """Empty until the first Participants packet."""
    team_id: int | None
    lap_number: int
    gap_to_leader_s: float | None
    interval_s: float | None
    last_lap_s: float | None
    best_lap_s: float | None
    sector: int
    """0, 1 or 2 (the sector the car is in now)."""
    sector1_s: float | None
    sector2_s: float | None
    visual_tyre_compound: int | None
    tyres_age_laps: int | None
    pit_status: int
    num_pit_stops: int | None
    penalties_s: int
    total_warnings: int
    driver_status: int
    result_status: int
    current_lap_invalid: bool
    last_lap_invalid: bool
    """The game did not count the last completed lap (known once ingest has
    written it to ``laps``, a few seconds after the line: it waits for the game's
    lap history)."""
    lap_distance_m: float


@dataclass(frozen=True)
class TimingTower:
    """All active cars at the latest lap-data frame, ordered by position."""

    session_uid: int
    frame: int
    session_time_s: float
    rows: tuple[TowerRow, ...]


@dataclass(frozen=True)
class CarSamples:
    """A car's telemetry samples in one lap, ordered by frame (each frame once).

    Returned incrementally: every frame newer than the caller's ``after_frame``. A
    whole lap (no ``after_frame``) may come at a bounded resolution, every n-th
    frame (``queries.WHOLE_LAP_MAX_SAMPLES``).
    """

    session_uid: int
    car_index: int
    lap_number: int
    frame: np.ndarray = field(default_factory=lambda: frozen_array([], "i8"))
    lap_distance_m: np.ndarray = field(default_factory=_empty_f8)
    speed_kph: np.ndarray = field(default_factory=_empty_f8)
    throttle: np.ndarray = field(default_factory=_empty_f8)
    brake: np.ndarray = field(default_factory=_empty_f8)
    steer: np.ndarray = field(default_factory=_empty_f8)
    gear: np.ndarray = field(default_factory=_empty_f8)
    engine_rpm: np.ndarray = field(default_factory=_empty_f8)
    world_position_x_m: np.ndarray = field(default_factory=_empty_f8)
    world_position_z_m: np.ndarray = field(default_factory=_empty_f8)
    last_overall_frame: int | None = None
    """The highest overall frame among these samples (pass it back as
    ``after_overall_frame`` so a flashback since then is noticed)."""
    replaces_after_frame: int | None = None
    """Set when a flashback since the caller's ``after_overall_frame`` rewound to
    this frame: drop the held samples above it, then append these."""

    @property
    def last_frame(self) -> int | None:
        """The newest frame held, or None when empty."""
        return int(self.frame[-1]) if len(self.frame) else None


@dataclass(frozen=True)
class CarState:
    """The selected car's latest values for the car panel (None where not sent)."""

    session_uid: int
    car_index: int
    frame: int
    speed_kph: float | None = None
    gear: int | None = None
    engine_rpm: int | None = None
    max_rpm: int | None = None
    drs: int | None = None
    throttle: float | None = None
    brake: float | None = None
    ers_store_energy_j: float | None = None
    ers_deploy_mode: int | None = None
    fuel_in_tank_kg: float | None = None
    fuel_remaining_laps: float | None = None
    tyres_surface_temperature_c: tuple[float, float, float, float] | None = None
    """RL, RR, FL, FR."""
    tyres_inner_temperature_c: tuple[float, float, float, float] | None = None
    tyres_wear_pct: tuple[float, float, float, float] | None = None
    brakes_temperature_c: tuple[float, float, float, float] | None = None
    front_left_wing_damage_pct: float | None = None
    front_right_wing_damage_pct: float | None = None
    rear_wing_damage_pct: float | None = None
    floor_damage_pct: float | None = None
    engine_damage_pct: float | None = None
    gearbox_damage_pct: float | None = None


@dataclass(frozen=True)
class CarPositions:
    """World x/z positions of all cars at one motion frame (for the track map)."""

    session_uid: int
    frame: int
    car_index: np.ndarray
    world_position_x_m: np.ndarray
    world_position_z_m: np.ndarray


@dataclass(frozen=True)
class LapKey:
    """Identifies one completed lap in the store."""

    session_uid: int
    car_index: int
    lap_number: int


@dataclass(frozen=True)
class BestLap:
    """A completed valid lap at a track, for the best-laps table and the picker."""

    key: LapKey
    driver_name: str
    team_id: int
    track_id: int
    session_type: int
    lap_time_s: float
    sector1_s: float | None
    sector2_s: float | None
    sector3_s: float | None
    visual_tyre_compound: int | None
    weather: int | None
    session_started_unix_s: float | None
    tags: str
    """Comma-separated lap tags, e.g. "first,pit"."""
    is_synthetic: bool = False
    """The lap's session was made by the simulator (not a real game)."""


@dataclass(frozen=True)
class ReferenceLap:
    """A completed lap's samples ordered by lap distance (fetched once, then cached)."""

    lap: BestLap
    samples: CarSamples


@dataclass(frozen=True)
class EventRow:
    """One session event, with the names a person reads already resolved."""

    event_id: int
    """Monotonic per store; pass the last one held to fetch only newer events."""
    session_uid: int
    frame: int
    session_time_s: float
    event_code: str
    vehicle_index: int | None
    driver_name: str | None
    other_vehicle_index: int | None
    other_driver_name: str | None
    detail: str
    """Human-readable details, e.g. "1:21.432" for FTLP or "+5 s, track limits"."""


@dataclass(frozen=True)
class PipelineHealth:
    """Ingest statistics: is data flowing, how fast, what was dropped."""

    last_packet_unix_s: float | None
    packets_total: int
    packets_per_s: float
    bad_packets: int
    bad_by_reason: tuple[tuple[str, int], ...]
    write_lag_s: float | None
    spooled_rows: int = 0
    written_unix_s: float | None = None
    """When ingest wrote these statistics (its wall clock; a replay's too, not the
    capture's times): a running ingest writes a row every second."""
