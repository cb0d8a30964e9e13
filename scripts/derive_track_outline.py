"""Derive the Melbourne track outline the simulator drives along.

Produces f1dash_tui/data/melbourne-outline.csv from the bundled real capture
f1dash_tui/data/melbourne-2026-race.pcap (F1 25 with the 2026 Season Pack; capture
MIT, (c) 2022 Gabriele N. Tornetta, see NOTICE):

    python scripts/derive_track_outline.py [CAPTURE] [OUTPUT]

How: every motion packet's world_position_x/z is paired with the lap data packet of the
same frame (lap_distance per car), all 22 cars are pooled, binned by lap distance every
~10 m, averaged and smoothed around the closed loop.

The capture holds only ~21 s of racing, so its 22 cars cover lap distances
0-1,060 m and 4,150-5,276 m (about 42 % of the lap). The 3,090 m between is not in
the data: it is bridged by a synthetic curve (a cubic from the measured end point and
heading to the measured start point and heading, stretched to exactly the missing
length, with a few corners added as lateral jinks so the lap has braking zones
there too). The CSV marks every point as measured (1) or synthetic (0).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CAPTURE = REPO_ROOT / "f1dash_tui" / "data" / "melbourne-2026-race.pcap"
DEFAULT_OUTPUT = REPO_ROOT / "f1dash_tui" / "data" / "melbourne-outline.csv"

MELBOURNE_LENGTH_M = 5276.0
"""Track length the game reports in the capture's Session packets."""

STEP_M = 10.0
SMOOTHING_SIGMA_M = 12.0
"""Cars spread over the ~12 m track width; 12 m of smoothing removes that spread
without rounding off a 50 m-radius hairpin."""

LONG_GAP_M = 150.0
"""Gaps up to this long are linearly interpolated; longer ones get a synthetic curve."""

# (position along the bridge as a fraction, lateral offset m, half-width m): jinks that
# become corners. Albert Park has about seven turns between T3 and T13.
BRIDGE_JINKS: tuple[tuple[float, float, float], ...] = (
    (0.03, 20.0, 25.0),  # the capture's cars brake hard just past its end (~1 km)
    (0.10, 22.0, 35.0),
    (0.30, -18.0, 30.0),
    (0.47, 20.0, 28.0),
    (0.64, -24.0, 32.0),
    (0.82, 18.0, 30.0),
)


def read_capture_samples(capture: Path) -> np.ndarray:
    """(lap_distance_m, x_m, y_m, z_m) of every car at every frame with both packets."""
    from f1dash_tui.telemetry.decode import Decoder
    from f1dash_tui.telemetry.pcap import read_pcap

    payloads = [datagram.payload for datagram in read_pcap(capture)]
    tables = Decoder().decode(payloads).tables
    motion, lap = tables["motion"], tables["lap_data"]
    lap_key = lap["frame"].astype(np.int64) * 256 + lap["car_index"]
    motion_key = motion["frame"].astype(np.int64) * 256 + motion["car_index"]
    order = np.argsort(lap_key)
    where = np.searchsorted(lap_key[order], motion_key)
    where = np.minimum(where, len(order) - 1)
    matched = lap_key[order][where] == motion_key
    # Only active cars: empty slots (the arrays hold 24, 22 race) have position 0.
    matched &= lap["car_position"][order[where]] > 0
    lap_rows = order[where[matched]]
    return np.column_stack(
        [
            lap["lap_distance_m"][lap_rows],
            motion["world_position_x_m"][matched],
            motion["world_position_y_m"][matched],
            motion["world_position_z_m"][matched],
        ]
    ).astype(np.float64)


def _circular_smooth(values: np.ndarray, sigma_bins: float) -> np.ndarray:
    radius = int(np.ceil(3 * sigma_bins))
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (offsets / sigma_bins) ** 2)
    padded = np.concatenate([values[-radius:], values, values[:radius]])
    return np.convolve(padded, kernel, mode="valid")


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Circular runs of False in mask as (first index, length)."""
    n = len(mask)
    if mask.all():
        return []
    start = int(np.argmax(mask))  # begin scanning at a covered bin
    runs, i = [], 0
    while i < n:
        k = (start + i) % n
        if not mask[k]:
            length = 0
            while length < n and not mask[(k + length) % n]:
                length += 1
            runs.append((k, length))
            i += length
        else:
            i += 1
    return runs


def _bridge(
    start: np.ndarray,
    start_dir: np.ndarray,
    end: np.ndarray,
    end_dir: np.ndarray,
    length_m: float,
    count: int,
) -> np.ndarray:
    """`count` points spaced evenly along a curve of `length_m` from start to end
    (both excluded) that leaves along start_dir and arrives along end_dir."""
    u = np.linspace(0.0, 1.0, 4001)[:, None]
    h00, h10 = 2 * u**3 - 3 * u**2 + 1, u**3 - 2 * u**2 + u
    h01, h11 = -2 * u**3 + 3 * u**2, u**3 - u**2

    def curve(scale: float) -> tuple[np.ndarray, np.ndarray]:
        points = (
            h00 * start + h10 * scale * start_dir + h01 * end + h11 * scale * end_dir
        )
        seg = np.hypot(*np.diff(points, axis=0).T)
        arc = np.concatenate([[0.0], np.cumsum(seg)])
        tangent = np.gradient(points, arc, axis=0)
        tangent /= np.hypot(*tangent.T)[:, None]
        normal = np.column_stack([-tangent[:, 1], tangent[:, 0]])
        fraction = arc / arc[-1]
        offset = np.zeros_like(arc)
        for centre, amplitude, half_width_m in BRIDGE_JINKS:
            offset += amplitude * np.exp(
                -0.5 * ((fraction - centre) * arc[-1] / half_width_m) ** 2
            )
        points = points + normal * offset[:, None]
        seg = np.hypot(*np.diff(points, axis=0).T)
        return points, np.concatenate([[0.0], np.cumsum(seg)])

    low, high = 0.0, 20.0 * length_m
    for _ in range(60):  # bisection on the tangent scale: the curve grows with it
        middle = 0.5 * (low + high)
        if curve(middle)[1][-1] < length_m:
            low = middle
        else:
            high = middle
    points, arc = curve(0.5 * (low + high))
    targets = np.linspace(0.0, arc[-1], count + 2)[1:-1]
    return np.column_stack(
        [np.interp(targets, arc, points[:, 0]), np.interp(targets, arc, points[:, 1])]
    )


def derive_outline(
    samples: np.ndarray, track_length_m: float = MELBOURNE_LENGTH_M
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Outline on a regular lap-distance grid: (lap_distance_m, xz_m, measured, y_m)."""
    count = round(track_length_m / STEP_M)
    step_m = track_length_m / count
    distance = samples[:, 0]
    keep = (distance >= 0) & (distance < track_length_m)
    bins = np.floor(distance[keep] / step_m).astype(int) % count
    hits = np.bincount(bins, minlength=count).astype(float)
    sum_x = np.bincount(bins, samples[keep, 1], minlength=count)
    sum_z = np.bincount(bins, samples[keep, 3], minlength=count)
    sigma_bins = SMOOTHING_SIGMA_M / step_m
    weight = _circular_smooth(hits, sigma_bins)
    measured = hits > 0
    xz = np.zeros((count, 2))
    safe = np.maximum(weight, 1e-9)
    xz[:, 0] = _circular_smooth(sum_x, sigma_bins) / safe
    xz[:, 1] = _circular_smooth(sum_z, sigma_bins) / safe
    # Only short holes between measured bins count as measured after smoothing.
    for first, length in _runs(measured):
        if length * step_m <= LONG_GAP_M:
            measured[[(first + i) % count for i in range(length)]] = True
    covered = weight > 0.05 * np.median(weight[hits > 0])
    measured &= covered
    for first, length in _runs(measured):
        before, after = (first - 1) % count, (first + length) % count
        indices = [(first + i) % count for i in range(length)]
        if length * step_m <= LONG_GAP_M:
            share = (np.arange(1, length + 1) / (length + 1))[:, None]
            xz[indices] = xz[before] + share * (xz[after] - xz[before])
            continue
        start_dir = xz[before] - xz[(before - 3) % count]
        end_dir = xz[(after + 3) % count] - xz[after]
        xz[indices] = _bridge(
            xz[before],
            start_dir / np.hypot(*start_dir),
            xz[after],
            end_dir / np.hypot(*end_dir),
            (length + 1) * step_m,
            length,
        )
    # Soften the seams between measured and synthetic parts (one bin of smoothing).
    xz[:, 0] = _circular_smooth(xz[:, 0], 1.0) / _circular_smooth(np.ones(count), 1.0)
    xz[:, 1] = _circular_smooth(xz[:, 1], 1.0) / _circular_smooth(np.ones(count), 1.0)
    y_m = float(np.mean(samples[keep, 2]))
    return np.arange(count) * step_m, xz, measured, y_m


def write_outline_csv(
    path: Path,
    lap_distance_m: np.ndarray,
    xz_m: np.ndarray,
    measured: np.ndarray,
    y_m: float,
    track_length_m: float,
) -> None:
    """Write the outline with a commented header saying where it came from."""
    lines = [
        "# Melbourne (Albert Park) track outline for the f1dash-tui simulator.",
        "# Derived by scripts/derive_track_outline.py from the real motion and lap",
        "# data in f1dash_tui/data/melbourne-2026-race.pcap (F1 25, 2026 Season Pack;",
        "# MIT, (c) 2022 Gabriele N. Tornetta). measured=0 points were not covered by",
        "# the capture and are a synthetic bridge (see the script's docstring).",
        f"# track_length_m={track_length_m:.1f} y_m={y_m:.2f}",
        "lap_distance_m,x_m,z_m,measured",
    ]
    for distance, (x, z), flag in zip(lap_distance_m, xz_m, measured, strict=True):
        lines.append(f"{distance:.2f},{x:.2f},{z:.2f},{int(flag)}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str]) -> int:
    capture = Path(argv[1]) if len(argv) > 1 else DEFAULT_CAPTURE
    output = Path(argv[2]) if len(argv) > 2 else DEFAULT_OUTPUT
    samples = read_capture_samples(capture)
    distance, xz, measured, y_m = derive_outline(samples)
    write_outline_csv(output, distance, xz, measured, y_m, MELBOURNE_LENGTH_M)
    share = measured.mean() * 100
    print(f"{len(samples)} samples -> {len(distance)} points, {share:.0f}% measured")
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
