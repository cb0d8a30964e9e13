"""Messages the pollers post to the app: each carries frozen snapshots, never state.

Workers run in threads; ``post_message`` is the only thread-safe call they make. The
handlers run on the main thread and are the only code that touches widgets.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

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
)


@dataclass(frozen=True)
class CarUpdate:
    """The selected car's latest state and its samples newer than ``after_frame``."""

    session_uid: int
    car_index: int
    lap_number: int
    after_frame: int | None
    state: CarState | None
    samples: CarSamples


@dataclass(frozen=True)
class LiveFrame:
    """Everything the live panels show, fetched in one poll so they repaint together:
    session header, timing tower, car positions and the selected car's update."""

    session: SessionInfo | None
    tower: TimingTower | None
    positions: CarPositions | None
    car: CarUpdate | None = None


@dataclass(frozen=True)
class EventsUpdate:
    """Events newer than ``after_event_id`` for one session."""

    session_uid: int
    after_event_id: int | None
    events: tuple[EventRow, ...]


@dataclass(frozen=True)
class SlowUpdate:
    """Best laps at the current track and the ingest pipeline's health."""

    track_id: int | None
    best_laps: tuple[BestLap, ...]
    health: PipelineHealth | None
    trace_extents: tuple[tuple[LapKey, float, float], ...] = ()
    """(lap, first m, last m) of the stored trace of best laps not asked about
    before ((lap, 0, 0) for a lap with no trace)."""


@dataclass(frozen=True)
class ReferenceUpdate:
    """A reference lap loaded for lap compare (None: the store has none)."""

    reference: ReferenceLap | None


PollPayload = LiveFrame | CarUpdate | EventsUpdate | SlowUpdate | ReferenceUpdate


class PollSucceeded(Message):
    """A poll of one group finished with data."""

    def __init__(self, group: str, payload: PollPayload) -> None:
        super().__init__()
        self.group = group
        self.payload = payload


class PollFailed(Message):
    """A poll of one group failed; the app shows ``error`` and retries later."""

    def __init__(self, group: str, error: str, store_missing: bool = False) -> None:
        super().__init__()
        self.group = group
        self.error = error
        self.store_missing = store_missing
        """The store does not exist yet (ingest not started): retry soon."""
