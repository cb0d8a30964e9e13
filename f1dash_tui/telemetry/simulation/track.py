"""A track for the simulator: its outline and the speed a car can carry along it.

The outline (x/z every ~10 m of lap distance) is a data file derived from real motion
data (see scripts/derive_track_outline.py). From its curvature the model computes the
fastest speed profile under a lateral-grip limit and simple acceleration and braking
limits, and tunes the grip so one lap at pace 1.0 takes ``base_lap_time_s``. Braking
zones therefore sit before the corners of the outline.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources

import numpy as np

from f1dash_tui.errors import ConfigError

GRAVITY_MPS2 = 9.81
TOP_SPEED_MPS = 330 / 3.6
"""Flat out on Albert Park's main straight an F1 car shows about 320-330 km/h."""
BRAKING_MPS2 = 4.5 * GRAVITY_MPS2
"""Peak braking deceleration of an F1 car is about 4.5-5 g."""
LAUNCH_ACCELERATION_MPS2 = 12.0
"""About 1.2 g off the line and out of slow corners, falling with speed (drag)."""


def acceleration_limit_mps2(speed_mps: np.ndarray | float) -> np.ndarray:
    """Forward acceleration at a speed: traction-limited low, drag-limited high."""
    share = np.clip(np.asarray(speed_mps) / (TOP_SPEED_MPS * 1.04), 0.0, 1.0)
    return np.maximum(LAUNCH_ACCELERATION_MPS2 * (1.0 - share**2), 0.3)


@dataclass(frozen=True)
class TrackInfo:
    """Facts about a real track the simulator knows an outline for."""

    name: str
    outline_file: str
    track_id: int
    """The game's track id (enums.TRACKS): 0 = Melbourne."""
    length_m: float
    sector2_start_m: float
    sector3_start_m: float
    pit_speed_limit_kph: int
    pit_entry_m: float
    """Lap distance where the pit lane leaves the track (before the line)."""
    pit_box_m: float
    """Lap distance of the pit boxes (after the line, which is crossed in the lane)."""
    pit_exit_m: float
    base_lap_time_s: float
    """Race lap at pace 1.0 on fresh medium tyres with no fuel."""


MELBOURNE = TrackInfo(
    name="melbourne",
    outline_file="melbourne-outline.csv",
    track_id=0,
    # Length and sector starts as the game's Session packets in the bundled capture.
    length_m=5276.0,
    sector2_start_m=1757.053,
    sector3_start_m=3178.604,
    pit_speed_limit_kph=80,
    # A ~460 m pit lane at 80 km/h: a stop costs ~20 s, as at Albert Park.
    pit_entry_m=5276.0 - 180.0,
    pit_box_m=110.0,
    pit_exit_m=280.0,
    # The 2025 Australian GP's fastest race lap was 1:22.2; the game's AI is a bit
    # quicker.
    base_lap_time_s=80.5,
)

TRACKS: dict[str, TrackInfo] = {MELBOURNE.name: MELBOURNE}


@dataclass(frozen=True)
class TrackModel:
    """The outline on a regular lap-distance grid and the speed profile along it."""

    info: TrackInfo
    step_m: float
    x_m: np.ndarray
    z_m: np.ndarray
    y_m: float
    forward_x: np.ndarray
    forward_z: np.ndarray
    curvature_right_per_m: np.ndarray
    """Signed curvature: positive where the track turns right."""
    speed_mps: np.ndarray
    """Speed profile at pace 1.0."""
    acceleration_mps2: np.ndarray
    """Longitudinal acceleration along the profile (negative = braking)."""
    throttle: np.ndarray
    brake: np.ndarray
    lap_time_at_m_s: np.ndarray
    """Time from the line to each grid point at pace 1.0 (cumulative)."""
    lap_time_s: float

    @property
    def length_m(self) -> float:
        """Track length (m)."""
        return self.info.length_m

    def grid_index(self, lap_distance_m: np.ndarray) -> np.ndarray:
        """Nearest grid index for lap distances (wrapped onto the lap)."""
        count = len(self.x_m)
        return np.rint(lap_distance_m / self.step_m).astype(np.int64) % count

    def time_along_s(self, total_distance_m: np.ndarray) -> np.ndarray:
        """Time at pace 1.0 to cover a total distance from the line (any laps).

        Linear interpolation between grid points keeps gaps smooth frame to frame.
        """
        laps = np.floor(total_distance_m / self.length_m)
        lap_distance = total_distance_m - laps * self.length_m
        position = lap_distance / self.step_m
        index = np.floor(position).astype(np.int64)
        share = position - index
        count = len(self.x_m)
        table = self.lap_time_at_m_s
        ahead = np.where(
            index + 1 >= count, self.lap_time_s, table[(index + 1) % count]
        )
        within = table[index % count] * (1 - share) + ahead * share
        return laps * self.lap_time_s + within


def available_tracks() -> list[str]:
    """Names of the tracks the simulator can drive."""
    return sorted(TRACKS)


def track_info(name: str) -> TrackInfo:
    """The known facts of a track by name (case-insensitive)."""
    info = TRACKS.get(name.strip().lower())
    if info is None:
        raise ConfigError(
            f"no track outline for {name!r}; the simulator knows: "
            + ", ".join(available_tracks())
        )
    return info


def _read_outline(file_name: str) -> tuple[np.ndarray, np.ndarray, float]:
    data_file = resources.files("f1dash_tui").joinpath("data").joinpath(file_name)
    text = data_file.read_text("utf-8")
    y_m = 0.0
    rows = []
    for line in text.splitlines():
        if line.startswith("#"):
            for item in line[1:].split():
                if item.startswith("y_m="):
                    y_m = float(item[4:])
            continue
        if not line or line.startswith("lap_distance_m"):
            continue
        rows.append([float(value) for value in line.split(",")[:3]])
    table = np.asarray(rows)
    return table[:, 1], table[:, 2], y_m


def _circular_smooth(values: np.ndarray, sigma_points: float) -> np.ndarray:
    radius = int(np.ceil(3 * sigma_points))
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (offsets / sigma_points) ** 2)
    kernel /= kernel.sum()
    padded = np.concatenate([values[-radius:], values, values[:radius]])
    return np.convolve(padded, kernel, mode="valid")


def _speed_profile(
    curvature_per_m: np.ndarray, step_m: float, lateral_grip_mps2: float
) -> np.ndarray:
    """Fastest speeds under the grip limit, then acceleration and braking limits.

    Two passes each way around the closed lap, so the limits wrap over the line.
    Plain floats in the loops: ~2,000 steps per profile, numpy scalars are 10x slower.
    """
    corner_limit = np.sqrt(
        lateral_grip_mps2 / np.maximum(np.abs(curvature_per_m), 1e-6)
    )
    speed = np.minimum(corner_limit, TOP_SPEED_MPS).tolist()
    count = len(speed)
    top = TOP_SPEED_MPS * 1.04
    for _ in range(2):
        for i in range(1, count + 1):  # accelerating out of corners
            previous, here = speed[(i - 1) % count], i % count
            share = min(previous / top, 1.0)
            accel = max(LAUNCH_ACCELERATION_MPS2 * (1.0 - share * share), 0.3)
            speed[here] = min(speed[here], math.sqrt(previous**2 + 2 * accel * step_m))
        for i in range(count - 2, -count - 1, -1):  # braking into corners
            following, here = speed[(i + 1) % count], i % count
            limit = math.sqrt(following**2 + 2 * BRAKING_MPS2 * step_m)
            speed[here] = min(speed[here], limit)
    return np.asarray(speed)


def load_track(name: str = "melbourne") -> TrackModel:
    """Load a track's outline and compute its speed profile."""
    info = track_info(name)
    x_m, z_m, y_m = _read_outline(info.outline_file)
    count = len(x_m)
    step_m = info.length_m / count
    # Direction from a centred difference; curvature from the change of heading,
    # smoothed over ~40 m because the outline is an average of cars on varied lines.
    dx = (np.roll(x_m, -1) - np.roll(x_m, 1)) / 2
    dz = (np.roll(z_m, -1) - np.roll(z_m, 1)) / 2
    norm = np.hypot(dx, dz)
    forward_x, forward_z = dx / norm, dz / norm
    heading = np.unwrap(np.arctan2(forward_x, forward_z))
    turn = np.diff(np.concatenate([heading, heading[:1] + (heading[-1] - heading[0])]))
    turn = (turn + np.pi) % (2 * np.pi) - np.pi
    # Heading measured from +z towards +x; the game's right vector is (-fz, 0, fx),
    # so a decreasing heading turns right.
    curvature_right = _circular_smooth(-turn / step_m, 2.0)

    low, high = 1.0 * GRAVITY_MPS2, 8.0 * GRAVITY_MPS2
    for _ in range(24):  # bisection: more grip, shorter lap
        grip = 0.5 * (low + high)
        speed = _speed_profile(curvature_right, step_m, grip)
        lap_time = float(np.sum(step_m / speed))
        if lap_time > info.base_lap_time_s:
            low = grip
        else:
            high = grip
    speed = _speed_profile(curvature_right, step_m, 0.5 * (low + high))
    following = np.roll(speed, -1)
    acceleration = (following**2 - speed**2) / (2 * step_m)
    accel_limit = acceleration_limit_mps2(speed)
    full_speed = speed >= TOP_SPEED_MPS * 0.995
    throttle = np.where(
        acceleration > 0,
        np.clip(0.25 + acceleration / accel_limit, 0.0, 1.0),
        np.where(acceleration < -2.0, 0.0, 0.35),
    )
    throttle = np.where(full_speed, 1.0, throttle)
    brake = np.clip(-acceleration / BRAKING_MPS2, 0.0, 1.0)
    brake = np.where(brake < 0.05, 0.0, brake)
    segment_time = step_m / (0.5 * (speed + following))
    lap_time_at = np.concatenate([[0.0], np.cumsum(segment_time)[:-1]])
    return TrackModel(
        info=info,
        step_m=step_m,
        x_m=x_m,
        z_m=z_m,
        y_m=y_m,
        forward_x=forward_x,
        forward_z=forward_z,
        curvature_right_per_m=curvature_right,
        speed_mps=speed,
        acceleration_mps2=acceleration,
        throttle=throttle,
        brake=brake,
        lap_time_at_m_s=lap_time_at,
        lap_time_s=float(np.sum(segment_time)),
    )
