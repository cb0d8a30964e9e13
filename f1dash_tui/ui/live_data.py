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
from f1dash_tui.ui.messages import (
    CarUpdate,
    EventsUpdate,
    LiveFrame,
    ReferenceUpdate,
    SlowUpdate,
)

TRAIL_MAX_POINTS = 22 * 400
"""Positions kept for the map's outline: 400 samples of 22 cars, taken at least
``TRAIL_STEP_FRAMES`` apart, span 200 s of session time: two laps anywhere."""
TRAIL_STEP_FRAMES = 30
"""0.5 s at the game's 60 Hz: closer samples add dots, not outline."""
EVENTS_KEPT = 2000

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

FULL_TRACE_SHARE = 0.9
"""A reference whose trace covers this share of the lap counts as recorded in full
(samples lost near the line, or a capture started a few hundred metres late, still
leave a delta over nine tenths of the lap)."""


def _column(samples: CarSamples, name: str) -> np.ndarray:
    """One field, NaN-filled to the frame count when the snapshot left it empty."""
    values = np.asarray(getattr(samples, name))
    if len(values) == len(samples.frame):
        return values
    return np.full(len(samples.frame), np.nan)


def append_samples(held: CarSamples, newer: CarSamples) -> CarSamples:
    """A new snapshot holding ``held`` followed by ``newer`` (same car and lap).

    When ``newer`` says a flashback rewound to frame F (``replaces_after_frame``),
    the held samples after F are dropped first: that part of the lap was undone.
    """
    if newer.replaces_after_frame is not None:
        keep = np.asarray(held.frame) <= newer.replaces_after_frame
        kept: dict[str, Any] = {
            name: frozen_array(_column(held, name)[keep]) for name in SAMPLE_FIELDS
        }
        held = replace(held, **kept)
    if not len(newer.frame):
        return held
    if not len(held.frame):
        return newer
    joined: dict[str, Any] = {
        name: frozen_array(np.concatenate([_column(held, name), _column(newer, name)]))
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
    lap_extents: dict[LapKey, tuple[float, float]] = field(default_factory=dict)
    """First and last lap distance of each best lap's stored trace (they never
    change once the lap is complete, so each lap is asked about once)."""
    events: tuple[EventRow, ...] = ()
    events_session_uid: int | None = None
    events_restarts: int = 0
    """Counts the times ``events`` was replaced instead of appended to (a new
    session, or a store file replaced): the events table then starts afresh."""
    health: PipelineHealth | None = None
    health_read_unix_s: float | None = None
    """When ``health`` was read: whether ingest was still writing is judged then,
    as a stats row is never fresher than the slow poll that read it."""
    versions: Counter[str] = field(default_factory=Counter)
    _trail_x: list[np.ndarray] = field(default_factory=list)
    _trail_z: list[np.ndarray] = field(default_factory=list)
    _trail_points: int = 0
    _trail_frame: int | None = None

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

    def reset_samples(self) -> None:
        """Drop the held trace (new lap, car, session, or a flashback)."""
        if self.samples is not None or self.car_state is not None:
            self.samples = None
            self.bump("car")

    # ----------------------------------------------------------- applying polls
    def apply_live_frame(self, frame: LiveFrame) -> tuple[set[str], bool]:
        """Take a live poll's snapshots; return the parts changed and whether the
        session is new (so the caller refreshes the per-session pollers)."""
        if self._same_as_shown(frame):
            # Nothing new since the last poll (ingest paused, a replay ended, or a
            # poll faster than the writes): no version bump, so no panel repaints.
            parts = self.apply_car(frame.car) if frame.car is not None else set()
            return parts, False
        parts = {"live"}
        previous_uid = self.session_uid
        previous_frame = self.session.latest_frame if self.session else None
        new_session = frame.session is not None and (
            frame.session.session_uid != previous_uid
        )
        self.session, self.tower, self.positions = (
            frame.session,
            frame.tower,
            frame.positions,
        )
        if new_session:
            self.reset_samples()
            self.car_state = None
            self.events = ()
            self.events_restarts += 1
            if self.reference_key is None:
                self.reference = None
            self._reset_trail()
            parts |= {"car", "events"}
        elif (
            frame.session is not None
            and previous_frame is not None
            and frame.session.latest_frame < previous_frame
        ):
            # Frames went back: a flashback. The held trace is from a future that no
            # longer happened.
            self.reset_samples()
            self._reset_trail()
            parts.add("car")
        if self.tower is not None and self.tower.rows and self.selected_row is None:
            self.selected_car = self.tower.rows[0].car_index  # the leader
            self.reset_samples()
        row = self.selected_row
        if (
            row is not None
            and self.samples is not None
            and self.samples.lap_number != row.lap_number
        ):
            self.reset_samples()
            parts.add("car")
        self._add_to_trail(frame.positions)
        self.bump("live")
        if frame.car is not None:
            parts |= self.apply_car(frame.car)
        return parts, new_session

    def _same_as_shown(self, frame: LiveFrame) -> bool:
        """Whether the session, tower and positions are the ones already held."""
        if frame.session is None or frame.session != self.session:
            return False
        if frame.tower != self.tower:
            return False
        held, new = self.positions, frame.positions
        if held is None or new is None:
            return held is new
        return (held.session_uid, held.frame) == (new.session_uid, new.frame)

    def apply_car(self, update: CarUpdate) -> set[str]:
        """Append (or start) the selected car's trace and take its latest state."""
        held = self.samples
        if update.car_index != self.selected_car or (
            update.session_uid != self.session_uid
        ):
            return set()  # the user moved on while this poll ran
        if (
            update.after_frame is not None
            and held is not None
            and held.last_frame == update.after_frame
            and not len(update.samples.frame)
            and update.samples.replaces_after_frame is None
            and update.state == self.car_state
        ):
            return set()  # no newer samples and the same state: nothing to redraw
        if update.after_frame is None:
            self.samples = update.samples
        elif held is not None and held.last_frame == update.after_frame:
            self.samples = append_samples(held, update.samples)
        else:
            return set()  # answered a query made before a reset: drop it
        self.car_state = update.state
        self.bump("car")
        return {"car"}

    def apply_events(self, update: EventsUpdate) -> set[str]:
        """Append newer events (or take them all for a new session)."""
        if update.after_event_id is None:
            self.events = update.events
            self.events_restarts += 1
        else:
            self.events = (self.events + update.events)[-EVENTS_KEPT:]
        self.events_session_uid = update.session_uid
        if update.events or update.after_event_id is None:
            self.bump("events")
            return {"events"}
        return set()

    def default_reference_key(self) -> LapKey | None:
        """The fastest best lap whose stored trace covers most of the lap (a lap
        recorded from mid-lap can give no delta), else the fastest."""
        if not self.best_laps:
            return None
        length_m = self.session.track_length_m if self.session else None
        if length_m:
            for lap in self.best_laps:
                first_m, last_m = self.lap_extents.get(lap.key, (0.0, 0.0))
                if last_m - first_m >= FULL_TRACE_SHARE * length_m:
                    return lap.key
        return self.best_laps[0].key

    def apply_slow(self, update: SlowUpdate, read_unix_s: float) -> set[str]:
        """Take best laps and health (read at ``read_unix_s``); ``{"slow"}`` only
        when the best laps changed."""
        changed = update.best_laps != self.best_laps
        self.best_laps = update.best_laps
        self.best_laps_track_id = update.track_id
        for key, first_m, last_m in update.trace_extents:
            self.lap_extents[key] = (first_m, last_m)
        self.health = update.health
        self.health_read_unix_s = read_unix_s
        if changed:
            self.bump("slow")
            return {"slow"}
        return set()

    def apply_reference(self, update: ReferenceUpdate) -> set[str]:
        """Take a newly loaded reference lap."""
        self.reference = update.reference
        self.bump("reference")
        return {"reference"}

    # ----------------------------------------------------------- map outline
    def _reset_trail(self) -> None:
        self._trail_x, self._trail_z, self._trail_points = [], [], 0
        self._trail_frame = None

    def _add_to_trail(self, positions: CarPositions | None) -> None:
        if positions is None:
            return
        if (
            self._trail_frame is not None
            and 0 <= positions.frame - self._trail_frame < TRAIL_STEP_FRAMES
        ):
            return
        self._trail_frame = positions.frame
        self._trail_x.append(np.asarray(positions.world_position_x_m, float))
        self._trail_z.append(np.asarray(positions.world_position_z_m, float))
        self._trail_points += len(positions.world_position_x_m)
        while self._trail_points > TRAIL_MAX_POINTS and len(self._trail_x) > 1:
            self._trail_points -= len(self._trail_x.pop(0))
            self._trail_z.pop(0)

    def trail(self) -> tuple[np.ndarray, np.ndarray]:
        """Every car's recent positions, drawn as dots: the map's outline before a
        lap completes."""
        if not self._trail_x:
            return np.empty(0), np.empty(0)
        return np.concatenate(self._trail_x), np.concatenate(self._trail_z)
