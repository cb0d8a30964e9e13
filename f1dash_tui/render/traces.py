"""Telemetry traces aligned by lap distance: sparklines, compare plots, time delta.

Everything is keyed on lap distance, not time or frame, so two laps line up corner by
corner whatever their pace.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import plotext
from rich.text import Text

from f1dash_tui.render.formatting import KPH_PER_MPH
from f1dash_tui.store.snapshots import CarSamples


@dataclass(frozen=True)
class Metric:
    """A trace the user can pick: which samples field, its label, unit and range."""

    key: str
    label: str
    unit: str
    low: float
    high: float


METRICS: tuple[Metric, ...] = (
    Metric("speed_kph", "Speed", "km/h", 0.0, 360.0),
    Metric("throttle", "Throttle", "", 0.0, 1.0),
    Metric("brake", "Brake", "", 0.0, 1.0),
    Metric("gear", "Gear", "", -1.0, 8.0),
    Metric("engine_rpm", "RPM", "rpm", 0.0, 13_500.0),
    Metric("steer", "Steer", "", -1.0, 1.0),
)
"""In the order ``m`` cycles through them."""


def metric_by_key(key: str) -> Metric:
    """The metric with this key (``speed_kph``, ``throttle``...)."""
    for metric in METRICS:
        if metric.key == key:
            return metric
    raise KeyError(key)


def next_metric(current: Metric) -> Metric:
    """The metric after ``current``, wrapping round."""
    index = METRICS.index(current)
    return METRICS[(index + 1) % len(METRICS)]


SparkStyle = Literal["block", "ascii"]
_BLOCK_LEVELS = "▁▂▃▄▅▆▇█"
_ASCII_LEVELS = "_.-:=+*#"


def sparkline_by_distance(
    lap_distance_m: np.ndarray,
    values: np.ndarray,
    track_length_m: float,
    width: int,
    *,
    low: float,
    high: float,
    style: SparkStyle = "block",
) -> str:
    """One character per slice of the lap: the slice's mean value as a bar height.

    Slices the car has not reached yet are blank, so the line grows as the lap goes.
    """
    width = max(1, width)
    if not len(values) or track_length_m <= 0:
        return " " * width
    levels = _BLOCK_LEVELS if style == "block" else _ASCII_LEVELS
    distance = np.asarray(lap_distance_m, float)
    data = np.asarray(values, float)
    keep = np.isfinite(distance) & np.isfinite(data) & (distance >= 0)
    distance, data = distance[keep], data[keep]
    column = np.clip((distance / track_length_m * width).astype(int), 0, width - 1)
    sums = np.bincount(column, weights=data, minlength=width)
    counts = np.bincount(column, minlength=width)
    span = max(high - low, 1e-9)
    means = sums / np.maximum(counts, 1)
    level = np.clip(
        ((means - low) / span) * (len(levels) - 1) + 0.5, 0, len(levels) - 1
    ).astype(int)
    # One glyph per slice in one numpy pass (a Python loop over the slices was
    # ~0.7 ms a sparkline, three per poll); slices with no samples stay blank.
    glyphs = np.array(list(levels))[level]
    glyphs[counts == 0] = " "
    return "".join(glyphs.tolist())


def monotonic_by_distance(samples: CarSamples) -> np.ndarray:
    """Indices of samples whose lap distance increases (drops repeats and rewinds)."""
    distance = np.asarray(samples.lap_distance_m, float)
    if not len(distance):
        return np.empty(0, dtype=int)
    finite = np.isfinite(distance)
    running_max = np.maximum.accumulate(np.where(finite, distance, -np.inf))
    keep = finite & (distance >= running_max) & (distance >= 0)
    # Drop exact repeats (a stationary car) so interpolation has increasing x.
    previous = np.concatenate(([-np.inf], running_max[:-1]))
    keep &= distance > previous
    return np.nonzero(keep)[0]


def elapsed_by_distance(
    lap_distance_m: np.ndarray, speed_kph: np.ndarray
) -> np.ndarray:
    """Time since the lap start at each sample, integrating distance over speed.

    Samples carry no clock, but distance and speed: dt = dx / mean(v). Speeds under
    5 km/h are floored there, so a stationary start does not divide by zero.
    """
    distance = np.asarray(lap_distance_m, float)
    if not len(distance):
        return np.empty(0)
    speed_mps = np.maximum(np.asarray(speed_kph, float), 5.0) / 3.6
    mean_speed = (speed_mps[1:] + speed_mps[:-1]) / 2
    step_s = np.diff(distance) / mean_speed
    start_s = distance[0] / speed_mps[0]
    return np.concatenate(([start_s], start_s + np.cumsum(step_s)))


END_TOLERANCE_M = 10.0
"""How far past the reference's last sample the current lap may be and still get a
delta (two frames at 20 Hz and 330 km/h)."""

LINE_TOLERANCE_M = 100.0
"""A lap's first sample must be this close to the line for its times to count
(at 60 Hz and 330 km/h a car covers 1.5 m a frame; 100 m is ~1 s of samples lost)."""


def time_delta_s(current: CarSamples, reference: CarSamples) -> float | None:
    """Running delta of the current lap against the reference at the current distance.

    Negative means the current lap is ahead. None unless both laps are timed from
    the line (a lap whose samples start mid-lap has no time for the part before its
    first sample); ``lap_delta`` also gives a delta over a shared stretch.
    """
    delta = lap_delta(current, reference)
    return delta.delta_s if delta.from_m == 0.0 else None


@dataclass(frozen=True)
class LapDelta:
    """The running delta and what it covers, or why there is none."""

    delta_s: float | None
    """Negative: the current lap is ahead. None when it cannot be computed."""
    from_m: float = 0.0
    """Lap distance the delta is counted from (0: the line, a whole-lap delta)."""
    why: str = ""
    """When ``delta_s`` is None: the reason, for the person reading the panel
    (short clauses joined by "; ", each fits a 56-column panel line)."""
    reference_partial: bool = False
    """No delta because the reference's stored trace misses this part of the lap
    (another reference lap may do)."""


def lap_delta(current: CarSamples, reference: CarSamples) -> LapDelta:
    """The delta wherever both laps cover the same lap distance.

    Laps both timed from the line give the usual whole-lap running delta. When one
    starts mid-lap (a capture that began late), the delta is counted from where both
    have samples; with no overlap up to the current distance, ``why`` says which
    stretches each lap covers.
    """
    cur = monotonic_by_distance(current)
    ref = monotonic_by_distance(reference)
    if len(cur) < 2:
        return LapDelta(None, why="current lap has no samples yet")
    if len(ref) < 2:
        return LapDelta(None, why="reference lap has no samples")
    cur_distance = np.asarray(current.lap_distance_m, float)[cur]
    ref_distance = np.asarray(reference.lap_distance_m, float)[ref]
    cur_elapsed = elapsed_by_distance(
        cur_distance, np.asarray(current.speed_kph, float)[cur]
    )
    ref_elapsed = elapsed_by_distance(
        ref_distance, np.asarray(reference.speed_kph, float)[ref]
    )
    at = float(cur_distance[-1])
    start = float(max(cur_distance[0], ref_distance[0]))
    # The last sample before the line can be a frame short of the lap's end (4.6 m
    # at 20 Hz and 330 km/h): up to END_TOLERANCE_M past it, the reference is
    # carried on at its last speed rather than giving no delta at all.
    past_end_m = at - float(ref_distance[-1])
    if start >= at or past_end_m > END_TOLERANCE_M:
        ref_first, ref_last = float(ref_distance[0]), float(ref_distance[-1])
        stored = (
            f"reference recorded only over {ref_first:,.0f}-{ref_last:,.0f} m; "
            f"current lap at {at:,.0f} m"
        )
        if at <= ref_first:
            first = f"no delta before {ref_first:,.0f} m"
        elif at > ref_last:
            first = f"no delta past {ref_last:,.0f} m"
        else:
            first = f"current lap recorded from {cur_distance[0]:,.0f} m"
        return LapDelta(None, why=f"{first}; {stored}", reference_partial=True)
    ref_last_mps = (
        max(float(np.asarray(reference.speed_kph, float)[ref][-1]), 5.0) / 3.6
    )
    beyond_s = max(0.0, past_end_m) / ref_last_mps
    if start <= LINE_TOLERANCE_M:
        start = 0.0  # both timed from the line: the whole-lap delta
        current_s = float(cur_elapsed[-1])
        reference_s = float(np.interp(at, ref_distance, ref_elapsed)) + beyond_s
    else:
        current_s = float(cur_elapsed[-1] - np.interp(start, cur_distance, cur_elapsed))
        reference_s = float(
            np.interp(at, ref_distance, ref_elapsed)
            - np.interp(start, ref_distance, ref_elapsed)
            + beyond_s
        )
    return LapDelta(current_s - reference_s, from_m=start)


def _downsample(
    distance: np.ndarray, values: np.ndarray, points: int
) -> tuple[list[float], list[float]]:
    """At most ``points`` evenly spaced samples (plotext slows with more)."""
    if len(distance) > points:
        pick = np.linspace(0, len(distance) - 1, points).astype(int)
        distance, values = distance[pick], values[pick]
    return distance.tolist(), values.tolist()


def axis_ticks(low: float, high: float, max_ticks: int) -> list[float]:
    """Round, evenly spaced values from ``low`` to ``high``, at most ``max_ticks``.

    The step is 1, 2 or 5 times a power of ten, the smallest that keeps to
    ``max_ticks``: 0, 50, 100 ... mph rather than plotext's 37.3, 74.6 ... (a sixth
    of 360 km/h in mph). No 2.5: gears would get a tick at 7.5. The ends need not
    be ticks (0-360 km/h: 0 ... 300).
    """
    if not high > low:
        return [low]
    max_ticks = max(2, max_ticks)
    exponent = math.floor(math.log10((high - low) / max_ticks))
    while True:
        for mantissa in (1.0, 2.0, 5.0):
            step = mantissa * 10.0**exponent
            # The tolerance keeps an end that is a multiple (1.0 / 0.2) a tick.
            first = math.ceil(low / step - 1e-9)
            last = math.floor(high / step + 1e-9)
            if last - first + 1 <= max_ticks:
                # round: 3 x 0.2 is 0.6000000000000001; + 0.0 turns -0.0 into 0.0
                return [round(k * step, 9) + 0.0 for k in range(first, last + 1)]
        exponent += 1


Y_TICK_EVERY_ROWS = 3
"""Rows between y-axis labels at least: closer, the labels read as a column of
numbers rather than marks on an axis."""
PLOT_FRAME_ROWS = 5
"""Rows of a plotext plot that are not the plot area: title, top border, x axis,
its labels and the x label."""

PlotMarker = Literal["braille", "hd", "dot"]

NO_COLOR_REFERENCE_MARKER = "x"
"""The reference lap's marker when colour is off (ASCII: any terminal has it)."""


def compare_plot(
    current: CarSamples | None,
    reference: CarSamples | None,
    metric: Metric,
    width: int,
    height: int,
    *,
    track_length_m: float,
    marker: PlotMarker = "braille",
    colour: bool = True,
    units: str = "metric",
) -> Text:
    """Current and reference laps of one metric against lap distance (plotext).

    Each lap is downsampled to two points per column: plotext measured ~14 ms for
    300 points at 150x30 and ~120 ms for 3,000.
    """
    width, height = max(20, width), max(5, height)
    plotext.clf()
    # The widget's size, not the terminal's: plotext would shrink the plot to the
    # terminal's size (80x24 when stdout is no terminal, as under Pilot).
    plotext.limitsize(False, False)
    plotext.plotsize(width, height)
    plotext.theme("pro" if colour else "clear")
    plotext_marker = "." if marker == "dot" else marker
    # Without colour the two laps would differ only in grey shade: the reference
    # is drawn with its own ASCII letter (shown in the legend too).
    reference_marker = plotext_marker if colour else NO_COLOR_REFERENCE_MARKER
    x_limit = track_length_m if track_length_m > 0 else None
    speed_imperial = metric.key == "speed_kph" and units == "imperial"
    scale = 1 / KPH_PER_MPH if speed_imperial else 1.0
    unit = "mph" if speed_imperial else metric.unit
    for label, samples, plot_colour, lap_marker in (
        ("reference", reference, "cyan", reference_marker),
        ("current", current, "orange", plotext_marker),
    ):
        if samples is None:
            continue
        order = monotonic_by_distance(samples)
        if len(order) < 2:
            continue
        distance = np.asarray(samples.lap_distance_m, float)[order]
        values = np.asarray(getattr(samples, metric.key), float)[order] * scale
        xs, ys = _downsample(distance, values, width * 2)
        plotext.plot(xs, ys, marker=lap_marker, label=label, color=plot_colour)
    if x_limit:
        plotext.xlim(0, x_limit)
    low, high = metric.low * scale, metric.high * scale
    plotext.ylim(low, high)
    plot_rows = height - PLOT_FRAME_ROWS
    ticks = axis_ticks(low, high, plot_rows // Y_TICK_EVERY_ROWS + 1)
    plotext.yticks(ticks, [f"{tick:,g}" for tick in ticks])
    plotext.xlabel("lap distance (m)")
    plotext.title(f"{metric.label}" + (f" ({unit})" if unit else ""))
    built = plotext.build()
    return Text.from_ansi(built, no_wrap=True)
