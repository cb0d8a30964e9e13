"""Traces aligned by lap distance: sparklines, time delta, compare plot."""

from __future__ import annotations

import numpy as np

from f1dash_tui.render import traces
from f1dash_tui.store.snapshots import CarSamples, frozen_array


def _lap(distance_m: np.ndarray, speed_kph: np.ndarray, lap: int = 3) -> CarSamples:
    n = len(distance_m)
    return CarSamples(
        session_uid=1,
        car_index=0,
        lap_number=lap,
        frame=frozen_array(np.arange(n), "i8"),
        lap_distance_m=frozen_array(distance_m, "f8"),
        speed_kph=frozen_array(speed_kph, "f8"),
        throttle=frozen_array(np.ones(n), "f8"),
        brake=frozen_array(np.zeros(n), "f8"),
        steer=frozen_array(np.zeros(n), "f8"),
        gear=frozen_array(np.full(n, 7.0), "f8"),
        engine_rpm=frozen_array(np.full(n, 11000.0), "f8"),
        world_position_x_m=frozen_array(distance_m, "f8"),
        world_position_z_m=frozen_array(np.zeros(n), "f8"),
    )


def test_sparkline_bins_by_distance_and_leaves_unreached_part_blank() -> None:
    # 1000 m lap, 10 columns; samples only in the first half at 0 then 360 km/h.
    distance = np.array([50.0, 150.0, 250.0, 350.0, 450.0])
    speed = np.array([0.0, 90.0, 180.0, 270.0, 360.0])
    line = traces.sparkline_by_distance(distance, speed, 1000.0, 10, low=0, high=360)
    assert len(line) == 10
    assert line[:5] == "▁▃▅▆█"
    assert line[5:] == " " * 5


def test_sparkline_ascii_fallback_uses_ascii_only() -> None:
    line = traces.sparkline_by_distance(
        np.array([0.0, 500.0]),
        np.array([0.0, 1.0]),
        1000.0,
        4,
        low=0,
        high=1,
        style="ascii",
    )
    assert line.isascii()
    assert line == "_ # "


def test_time_delta_of_a_lap_at_constant_speed() -> None:
    # Reference: 1000 m at 180 km/h = 50 m/s -> 20 s.  Current: 100 km/h over the
    # first 500 m (27.78 m/s -> 18.0 s) vs the reference's 10 s there: +8.0 s.
    distance = np.linspace(0, 1000, 201)
    reference = _lap(distance, np.full(201, 180.0))
    current_distance = np.linspace(0, 500, 101)
    current = _lap(current_distance, np.full(101, 100.0))
    delta = traces.time_delta_s(current, reference)
    assert delta is not None
    assert abs(delta - 8.0) < 0.01


def test_time_delta_ignores_rewound_samples() -> None:
    # A flashback leaves distance going back; those samples must not count.
    distance = np.array([0.0, 100.0, 200.0, 150.0, 300.0])
    reference = _lap(np.linspace(0, 1000, 11), np.full(11, 180.0))
    current = _lap(distance, np.full(5, 180.0))
    assert list(traces.monotonic_by_distance(current)) == [0, 1, 2, 4]
    delta = traces.time_delta_s(current, reference)
    assert delta is not None and abs(delta) < 1e-6


def test_metric_cycle_wraps_through_all_six() -> None:
    seen = []
    metric = traces.METRICS[0]
    for _ in range(len(traces.METRICS)):
        seen.append(metric.label)
        metric = traces.next_metric(metric)
    assert seen == ["Speed", "Throttle", "Brake", "Gear", "RPM", "Steer"]
    assert metric == traces.METRICS[0]


def test_compare_plot_has_requested_size_and_both_labels() -> None:
    distance = np.linspace(0, 5000, 500)
    reference = _lap(distance, 200 + 100 * np.sin(distance / 400))
    current = _lap(distance[:250], 190 + 100 * np.sin(distance[:250] / 400))
    text = traces.compare_plot(
        current,
        reference,
        traces.METRICS[0],
        80,
        20,
        track_length_m=5000,
        colour=False,
    )
    lines = text.plain.splitlines()
    assert len(lines) == 20
    assert max(len(line) for line in lines) <= 80
    assert "reference" in text.plain and "current" in text.plain
    assert any("\u2800" < ch <= "\u28ff" for ch in text.plain)


def test_time_delta_needs_laps_timed_from_the_line() -> None:
    # A reference whose samples start at 4,999 m (capture began late) cannot time
    # the first kilometre of the current lap.
    reference = _lap(np.linspace(4999, 5265, 50), np.full(50, 200.0))
    current = _lap(np.linspace(0, 1000, 100), np.full(100, 200.0))
    assert traces.time_delta_s(current, reference) is None


def test_lap_delta_says_why_when_the_laps_do_not_overlap() -> None:
    # The demo capture: the reference holds only 4,950-5,276 m of its lap.
    reference = _lap(np.linspace(4950, 5276, 50), np.full(50, 200.0))
    current = _lap(np.linspace(0, 1200, 100), np.full(100, 200.0))
    delta = traces.lap_delta(current, reference)
    assert delta.delta_s is None
    assert delta.why == (
        "no delta before 4,950 m; reference recorded only over 4,950-5,276 m; "
        "current lap at 1,200 m"
    )
    assert delta.reference_partial
    # Well past the end of the reference's trace.
    reference = _lap(np.linspace(1, 3000, 50), np.full(50, 200.0))
    current = _lap(np.linspace(0, 5275, 100), np.full(100, 200.0))
    why = traces.lap_delta(current, reference).why
    assert why.startswith("no delta past 3,000 m; ")
    assert "recorded only over 1-3,000 m" in why


def test_lap_delta_at_the_line_when_the_reference_ends_a_frame_short() -> None:
    # The simulator's laps: the reference's last sample is at 5,274 m, the current
    # lap is at 5,275 m. Both at a constant 200 km/h from the line, so the same
    # distance took the same time: a delta of 0, not "no delta".
    reference = _lap(np.linspace(1, 5274, 50), np.full(50, 200.0))
    current = _lap(np.linspace(1, 5275, 100), np.full(100, 200.0))
    delta = traces.lap_delta(current, reference)
    assert delta.delta_s is not None
    assert abs(delta.delta_s) < 1e-3


def test_lap_delta_over_the_overlap_of_mid_lap_laps() -> None:
    # Reference at 200 km/h from 3,000 m; current at 250 km/h from 2,500 m, now at
    # 4,000 m. Over the shared 3,000-4,000 m: 1,000 m at 200 vs 250 km/h,
    # 18.0 s vs 14.4 s, so the current lap is 3.6 s ahead.
    reference = _lap(np.linspace(3000, 5000, 201), np.full(201, 200.0))
    current = _lap(np.linspace(2500, 4000, 151), np.full(151, 250.0))
    delta = traces.lap_delta(current, reference)
    assert delta.from_m == 3000.0
    assert delta.delta_s is not None
    assert abs(delta.delta_s - (-3.6)) < 1e-6


def test_lap_delta_from_the_line_matches_the_whole_lap_delta() -> None:
    # Both from the line at 180 vs 200 km/h, current at 1,000 m: 20.0 s vs 18.0 s.
    reference = _lap(np.linspace(0, 5000, 501), np.full(501, 200.0))
    current = _lap(np.linspace(0, 1000, 101), np.full(101, 180.0))
    delta = traces.lap_delta(current, reference)
    assert delta.from_m == 0.0
    assert delta.delta_s is not None
    assert abs(delta.delta_s - 2.0) < 1e-6


def _two_laps() -> tuple[CarSamples, CarSamples]:
    distance = np.linspace(0, 5000, 500)
    reference = _lap(distance, 200 + 100 * np.sin(distance / 400))
    current = _lap(distance[:250], 190 + 100 * np.sin(distance[:250] / 400))
    return current, reference


def test_compare_plot_without_colour_tells_the_laps_apart_by_marker() -> None:
    # NO_COLOR: the reference is drawn in "x", the current lap in braille, and the
    # legend shows each marker next to its lap's name.
    current, reference = _two_laps()
    text = traces.compare_plot(
        current,
        reference,
        traces.METRICS[0],
        80,
        20,
        track_length_m=5000,
        colour=False,
    )
    legend = {}
    for line in text.plain.splitlines():
        words = line.rstrip(" │").split()
        if words and words[-1] in ("reference", "current"):
            legend[words[-1]] = words[-2]
    assert set(legend["reference"]) == {"x"}
    assert all("\u2800" <= ch <= "\u28ff" for ch in legend["current"])
    plot_area = text.plain.split("current", 1)[1]
    assert "x" in plot_area
    assert any("\u2800" < ch <= "\u28ff" for ch in plot_area)


def test_compare_plot_speed_in_imperial_units() -> None:
    # 300 km/h = 186.4 mph: the axis says mph and is labelled in round mph (its
    # top, 360 km/h, is 223.7 mph).
    current, reference = _two_laps()
    text = traces.compare_plot(
        current,
        reference,
        traces.METRICS[0],
        80,
        20,
        track_length_m=5000,
        colour=False,
        units="imperial",
    )
    assert "Speed (mph)" in text.plain
    assert "km/h" not in text.plain
    assert "200┤" in text.plain
    assert "223.7" not in text.plain
