"""Timed replay: datagrams released at the recorded pace, N x it, or at once."""

from __future__ import annotations

import threading
import time

import pytest

from f1dash_tui.telemetry.replay import paced


def _release_times(timed: list[tuple[float, int]], speed: float | None) -> list[float]:
    start = time.monotonic()
    return [time.monotonic() - start for _ in paced(timed, speed)]


def test_recorded_pace_follows_the_timestamps() -> None:
    timed = [(100.0 + 0.05 * i, i) for i in range(11)]  # 0.5 s of a 20 Hz stream
    released = _release_times(timed, 1.0)
    for i, at in enumerate(released):
        assert at == pytest.approx(0.05 * i, abs=0.03)


def test_speed_scales_the_pace() -> None:
    timed = [(0.0, 0), (0.4, 1), (0.8, 2)]
    released = _release_times(timed, 4.0)
    assert released[-1] == pytest.approx(0.2, abs=0.04)


def test_as_fast_as_possible_does_not_wait() -> None:
    timed = [(float(i), i) for i in range(1000)]  # 1,000 s of capture time
    released = _release_times(timed, None)
    assert released[-1] < 0.5


def test_stop_event_ends_a_replay_early() -> None:
    stop = threading.Event()
    timed = [(float(i), i) for i in range(100)]
    threading.Timer(0.2, stop.set).start()
    start = time.monotonic()
    items = list(paced(timed, 1.0, stop_event=stop))
    assert time.monotonic() - start < 1.0
    assert len(items) == 1


def test_rejects_non_positive_speed() -> None:
    with pytest.raises(ValueError):
        list(paced([(0.0, 0)], 0.0))
