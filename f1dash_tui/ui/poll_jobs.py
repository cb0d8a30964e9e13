"""The pollers' jobs: built on the main thread, run in a worker thread.

Each builder reads what the query needs from LiveData (session, selected car, last
frame held) on the main thread and returns a closure that only touches those
captured values and the store, so nothing in the worker reads changing state.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from f1dash_tui.ui.live_data import LiveData
from f1dash_tui.ui.messages import (
    CarUpdate,
    EventsUpdate,
    LiveFrame,
    PollPayload,
    ReferenceUpdate,
    SlowUpdate,
)
from f1dash_tui.ui.pollers import StoreAccess


def live_job(live: LiveData, access: StoreAccess) -> Callable[[], PollPayload]:
    """Session, tower, positions and the selected car's new samples, in one poll."""
    wanted_car = live.selected_car
    held = live.samples
    held_key = (
        (held.session_uid, held.car_index, held.lap_number)
        if held is not None
        else None
    )
    held_frame = held.last_frame if held is not None else None
    held_overall = held.last_overall_frame if held is not None else None

    def job() -> PollPayload:
        def query(queries: Any) -> LiveFrame:
            session = queries.latest_session()
            if session is None:
                return LiveFrame(None, None, None)
            uid = session.session_uid
            tower = queries.timing_tower(uid)
            positions = queries.positions(uid)
            rows = tower.rows if tower is not None else ()
            row = next((r for r in rows if r.car_index == wanted_car), None)
            if row is None and rows:
                row = rows[0]  # nothing selected yet: the leader
            car = None
            if row is not None:
                lap = row.lap_number
                same_lap = held_key == (uid, row.car_index, lap)
                after = held_frame if same_lap else None
                after_overall = held_overall if same_lap else None
                car = CarUpdate(
                    uid,
                    row.car_index,
                    lap,
                    after,
                    queries.car_state(uid, row.car_index),
                    queries.car_samples(
                        uid,
                        row.car_index,
                        lap,
                        after_frame=after,
                        after_overall_frame=after_overall,
                    ),
                )
            return LiveFrame(session, tower, positions, car)

        return access.run(query)

    return job


def events_job(live: LiveData, access: StoreAccess) -> Callable[[], PollPayload] | None:
    """Events newer than the last one held (None before a session is known)."""
    uid = live.session_uid
    if uid is None:
        return None
    same = live.events_session_uid == uid and live.events
    held_up_to = live.events[-1].event_id if same else None

    def job() -> PollPayload:
        def query(queries: Any) -> EventsUpdate:
            after = held_up_to
            if after is not None and (queries.last_event_id(uid) or 0) < after:
                # The store holds fewer events than were shown: its file was
                # replaced by one with this session ingested again, numbered
                # from 1. Take its events afresh.
                after = None
            events = queries.events(uid, after_event_id=after)
            return EventsUpdate(uid, after, tuple(events))

        return access.run(query)

    return job


def slow_job(live: LiveData, access: StoreAccess) -> Callable[[], PollPayload]:
    """Best laps at the current track and the pipeline's health."""
    track_id = live.session.track_id if live.session else None
    known = frozenset(live.lap_extents)

    def job() -> PollPayload:
        def query(queries: Any) -> SlowUpdate:
            best = () if track_id is None else tuple(queries.best_laps(track_id))
            new_keys = [lap.key for lap in best if lap.key not in known]
            found = queries.lap_trace_extents(new_keys) if new_keys else {}
            extents = tuple((key, *found.get(key, (0.0, 0.0))) for key in new_keys)
            return SlowUpdate(track_id, best, queries.pipeline_health(), extents)

        return access.run(query)

    return job


def reference_job(
    live: LiveData, access: StoreAccess
) -> Callable[[], PollPayload] | None:
    """The reference lap when the one wanted is not the one held (else None)."""
    wanted = live.reference_key or live.default_reference_key()
    if wanted is None:
        return None
    if live.reference is not None and live.reference.lap.key == wanted:
        return None

    def job() -> PollPayload:
        return access.run(
            lambda queries: ReferenceUpdate(queries.reference_lap(wanted))
        )

    return job
