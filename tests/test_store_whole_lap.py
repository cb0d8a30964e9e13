"""A whole-lap fetch comes at a bounded resolution; incremental fetches at full.

An 80 s lap at 60 Hz is 4,800 samples. ``car_samples`` without ``after_frame`` (and
``reference_lap``) returns every n-th frame so the lap stays within
``WHOLE_LAP_MAX_SAMPLES``; with ``after_frame`` it returns every newer frame.
"""

from __future__ import annotations

import numpy as np
from store_fixtures import blank_table

from f1dash_tui.store.base import Store
from f1dash_tui.store.queries import WHOLE_LAP_MAX_SAMPLES, DashboardQueries

SESSION_UID = 0x1234_5678_9ABC
CAR = 7
LAP = 2
FIRST_FRAME = 1_000
SAMPLES = 4_800  # 80 s at 60 Hz


def _write_lap(store: Store) -> np.ndarray:
    frames = np.arange(FIRST_FRAME, FIRST_FRAME + SAMPLES, dtype=np.int64)
    columns = blank_table("car_telemetry", SAMPLES)
    columns["session_uid"][:] = SESSION_UID
    columns["frame"][:] = frames
    columns["overall_frame"][:] = frames
    columns["car_index"][:] = CAR
    columns["lap_number"][:] = LAP
    columns["lap_distance_m"][:] = (frames - FIRST_FRAME) * 1.1
    columns["speed_kph"][:] = (frames % 300).astype("f4")
    columns["world_position_x_m"][:] = frames.astype("f4")
    store.write_batch({"car_telemetry": columns})
    return frames


def test_whole_lap_is_every_nth_frame_and_newer_frames_are_all(
    writer_store: Store,
) -> None:
    frames = _write_lap(writer_store)
    queries = DashboardQueries(writer_store)

    whole = queries.car_samples(SESSION_UID, CAR, LAP)
    stride = -(-SAMPLES // WHOLE_LAP_MAX_SAMPLES)
    assert stride == 3
    expected = frames[frames % stride == 0]
    assert len(whole.frame) == len(expected) <= WHOLE_LAP_MAX_SAMPLES
    np.testing.assert_array_equal(whole.frame, expected)
    # Values belong to the frames returned (speed and position of the same row).
    np.testing.assert_allclose(whole.speed_kph, expected % 300)
    np.testing.assert_allclose(whole.world_position_x_m, expected)
    np.testing.assert_allclose(whole.lap_distance_m, (expected - FIRST_FRAME) * 1.1)

    # A poller continues from the last frame it holds and gets every newer frame.
    after = int(frames[-100])
    newer = queries.car_samples(SESSION_UID, CAR, LAP, after_frame=after)
    np.testing.assert_array_equal(newer.frame, frames[frames > after])
