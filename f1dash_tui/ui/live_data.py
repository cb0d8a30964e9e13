"""What the dashboard currently shows: the latest snapshots, on the main thread only.

Pollers never touch this; the app applies their messages here and bumps a version per
part, which widgets use (with their size) as the key of their render cache.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

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

SAMPLE_FIELDS = (
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


def append_samples(held: CarSamples, newer: CarSamples) -> CarSamples:
    """A new snapshot holding ``held`` followed by ``newer`` (same car and lap).

    When ``newer`` says a flashback rewound to frame F (``replaces_after_frame``),
    the held samples after F are dropped first: that part of the lap was undone.
    """
    if newer.replaces_after_frame is not None:
        keep = np.asarray(held.frame) <= newer.replaces_after_frame
        kept: dict[str, Any] = {
            name: frozen_array(getattr(held, name)[keep]) for name in SAMPLE_FIELDS
        }
        held = replace(held, **kept)
    if not len(newer.frame):
        return held
    if not len(held.frame):
        return newer
    joined: dict[str, Any] = {
        name: frozen_array(np.concatenate([getattr(held, name), getattr(newer, name)]))
        for name in SAMPLE_FIELDS
    }
    joined["last_overall_frame"] = newer.last_overall_frame
    return replace(held, **joined)


@dataclass
class LiveData:
    """The latest data for every panel (mutated only by the app, on the main thread)."""

    session: SessionInfo | None = None
    tower: TimingTower | None = None
    positions: CarPositions | None = None
    selected_car: int | None = None
    car_state: CarState | None = None
    samples: CarSamples | None = None
    """The selected car's current lap so far."""
    reference_key: LapKey | None = None
    """The reference lap the user picked; None means the track's fastest lap."""
    reference: ReferenceLap | None = None
    best_laps: tuple[BestLap, ...] = ()
    best_laps_track_id: int | None = None
    events: tuple[EventRow, ...] = ()
    events_session_uid: int | None = None
    health: PipelineHealth | None = None
    versions: Counter[str] = field(default_factory=Counter)

    def bump(self, part: str) -> None:
        """Mark ``part`` changed (invalidates render caches keyed on it)."""
        self.versions[part] += 1

    @property
    def session_uid(self) -> int | None:
        """The session being shown."""
        return self.session.session_uid if self.session else None

    def row_for(self, car_index: int | None) -> TowerRow | None:
        """The tower row of a car (None when not in the tower)."""
        if self.tower is None or car_index is None:
            return None
        for row in self.tower.rows:
            if row.car_index == car_index:
                return row
        return None

    @property
    def selected_row(self) -> TowerRow | None:
        """The tower row of the selected car."""
        return self.row_for(self.selected_car)

    def last_sample_frame(self) -> int | None:
        """The newest frame of the selected car's held samples."""
        return self.samples.last_frame if self.samples is not None else None

    def reset_samples(self) -> None:
        """Drop the held trace (new lap, car, session, or a flashback)."""
        if self.samples is not None or self.car_state is not None:
            self.samples = None
            self.bump("car")
