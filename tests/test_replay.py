"""Timed replay: datagrams released at the recorded pace, N x it, or at once."""

from __future__ import annotations

import threading
import time

import pytest

from f1dash_tui.telemetry.replay import paced, shorten_pauses


def _release_times(timed: list[tuple[float, int]], speed: float | None) -> list[float]:
    start = time.monotonic()
    return [time.monotonic() - start for _ in paced(timed, speed)]


def test_recorded_pace_follows_the_timestamps() -> None:
    timed = [(100.0 + 0.05 * i, i) for i in range(11)]  # 0.5 s of a 20 Hz stream
    released = _release_times(timed, 1.0)
    # Never early (1 ms tolerance by design); late only by scheduling delays,
    # which a loaded CI machine stretches, so the bound on lateness is loose.
    for i, at in enumerate(released):
        assert at >= 0.05 * i - 0.0015
    assert released[-1] < 0.5 + 0.25


def test_speed_scales_the_pace() -> None:
    timed = [(0.0, 0), (0.4, 1), (0.8, 2)]
    released = _release_times(timed, 4.0)
    assert released[1] >= 0.1 - 0.0015
    assert 0.2 - 0.0015 <= released[-1] < 0.2 + 0.25


def test_as_fast_as_possible_does_not_wait() -> None:
    timed = [(float(i), i) for i in range(1000)]  # 1,000 s of capture time
    released = _release_times(timed, None)
    assert released[-1] < 0.5


def test_stop_event_ends_a_replay_early() -> None:
    stop = threading.Event()
    timed = [(10.0 * i, i) for i in range(100)]  # one item every 10 s
    threading.Timer(0.2, stop.set).start()
    start = time.monotonic()
    items = list(paced(timed, 1.0, stop_event=stop))
    assert time.monotonic() - start < 5.0
    assert len(items) == 1


def test_rejects_non_positive_speed() -> None:
    with pytest.raises(ValueError):
        list(paced([(0.0, 0)], 0.0))


def test_pauses_longer_than_the_limit_are_cut_to_it_and_reported() -> None:
    timed = [(0.0, "a"), (1.0, "b"), (1_000.0, "c"), (1_002.0, "d"), (1_003.0, "e")]
    pauses: list[float] = []
    shortened = list(shorten_pauses(timed, max_pause_s=10.0, on_pause=pauses.append))
    assert shortened == [(0.0, "a"), (1.0, "b"), (11.0, "c"), (13.0, "d"), (14.0, "e")]
    assert pauses == [999.0]


def test_a_pause_of_exactly_the_limit_is_kept() -> None:
    timed = [(5.0, 1), (15.0, 2), (15.5, 3)]
    pauses: list[float] = []
    assert list(shorten_pauses(timed, max_pause_s=10.0, on_pause=pauses.append)) == (
        timed
    )
    assert pauses == []
