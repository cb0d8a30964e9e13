"""Decoding speed: f1dash-tui's batch decoder against the f1-packets library.

Run from the repository root (f1-packets 2026.1.1 comes with the ``bench`` extra)::

    python benchmarks/decode.py [--repeat 20] [--runs 20] [--library-runs 3]

Input: the bundled Melbourne 2026 clip (7,124 real datagrams of every packet id,
mixed as the game sends them) and a longer stream made by repeating it ``--repeat``
times. For each it prints packets/s and car rows/s (rows of the per-car tables:
one row per car per packet) for

- f1dash-tui: ``Decoder().decode(datagrams)`` -> every kind's columns, one call per
  stream, as ingest does with a batch;
- f1-packets: ``f1.packets.resolve`` on every datagram (parse) plus conversion of
  Motion, Lap Data and Car Telemetry -- the three 50 Hz per-car kinds, 3/7 of the
  clip -- into a dict of numpy arrays per kind (one list per field, filled per car,
  then ``np.array``). The other kinds are parsed only, which favours f1-packets;

and the ratio. Times are the best of ``--runs`` wall-clock runs (``--library-runs``
for f1-packets on the clip; one run of the long stream, which takes it minutes), with
the process CPU time of the same run beside it, because on a shared machine the
wall clock also measures the neighbours, and the median run at the end of the line.
Every run makes a new Decoder, as a fresh ingest would; what the decoder keeps per
process (a 2 MiB scratch buffer per thread, up to 32 MiB of column blocks reused
once a batch is dropped) is warm after the first call, as it is between ingest
batches. Goal: >= 500,000 packets/s and >= 50x f1-packets.
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from f1dash_tui.telemetry.decode import Decoder
from f1dash_tui.telemetry.pcap import read_pcap

CLIP = (
    Path(__file__).resolve().parent.parent / "f1dash_tui/data/melbourne-2026-race.pcap"
)
GOAL_PACKETS_PER_S = 500_000
GOAL_RATIO = 50
PER_CAR_KINDS = (
    "motion",
    "lap_data",
    "participants",
    "car_setups",
    "car_telemetry",
    "car_status",
    "final_classification",
    "lobby_info",
    "car_damage",
    "car_telemetry_2",
)


def best_of(runs: int, work: Callable[[], int]) -> tuple[float, float, int, float]:
    """(best wall s, CPU s of that run, car rows, median wall s) over ``runs``
    calls of ``work``."""
    walls: list[float] = []
    best_cpu, car_rows = 0.0, 0
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        car_rows = work()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if not walls or wall < min(walls):
            best_cpu = cpu
        walls.append(wall)
    return min(walls), best_cpu, car_rows, statistics.median(walls)


def decode_with_f1dash(datagrams: Sequence[bytes]) -> int:
    """Decode one batch; return its car rows."""
    batch = Decoder().decode(datagrams)
    return sum(batch.num_rows(kind) for kind in PER_CAR_KINDS)


def decode_with_f1_packets(datagrams: Sequence[bytes]) -> int:
    """Parse every datagram with f1-packets and turn the three per-car 50 Hz kinds
    into column arrays; return their car rows."""
    from f1.packets import resolve

    car_arrays = {0: "car_motion_data", 2: "lap_data", 6: "car_telemetry_data"}
    columns: dict[int, dict[str, list]] = {packet_id: {} for packet_id in car_arrays}
    header_fields = ("session_uid", "session_time", "frame_identifier")
    for datagram in datagrams:
        packet = resolve(datagram)
        packet_id = packet.header.packet_id
        if packet_id not in car_arrays:
            continue
        table = columns[packet_id]
        cars = getattr(packet, car_arrays[packet_id])
        field_names = [name for name, _ in cars[0]._fields_]
        for car_index, car in enumerate(cars):
            for name in header_fields:
                table.setdefault(name, []).append(getattr(packet.header, name))
            table.setdefault("car_index", []).append(car_index)
            for name in field_names:
                value = getattr(car, name)
                if not isinstance(value, (int, float)):
                    value = list(value)  # wheel arrays
                table.setdefault(name, []).append(value)
    arrays = {
        packet_id: {name: np.array(values) for name, values in table.items()}
        for packet_id, table in columns.items()
    }
    return sum(len(table["car_index"]) for table in arrays.values() if table)


def report(
    label: str, packets: int, wall: float, cpu: float, car_rows: int, median: float
) -> float:
    """Print one line; return packets/s by the best wall clock."""
    rate = packets / wall
    print(
        f"  {label:<44} {rate:>12,.0f} packets/s {car_rows / wall:>14,.0f} "
        f"car rows/s   ({wall * 1e3:,.1f} ms wall, {cpu * 1e3:,.1f} ms CPU, "
        f"{packets / cpu if cpu else float('nan'):,.0f} packets/CPU-s; "
        f"median {packets / median:,.0f} packets/s)"
    )
    return rate


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=20, help="long stream = clip x N")
    parser.add_argument("--runs", type=int, default=20, help="best of N (f1dash-tui)")
    parser.add_argument(
        "--library-runs", type=int, default=1, help="best of N (f1-packets)"
    )
    parser.add_argument(
        "--skip-library-long", action="store_true", help="f1-packets on the clip only"
    )
    args = parser.parse_args(argv)

    clip = [captured.payload for captured in read_pcap(CLIP)]
    streams = {"Melbourne clip (1x)": clip, f"clip x {args.repeat}": clip * args.repeat}
    # Import, and map the scratch buffer and column blocks, once (see above).
    decode_with_f1dash(clip)
    print(f"{len(clip):,} datagrams in {CLIP.name}; all packet ids of format 2026")
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"{os.cpu_count()} CPUs, load average {load} (other work slows both sides)")
    summary = []
    for name, datagrams in streams.items():
        print(f"{name}: {len(datagrams):,} packets")
        ours = report(
            "f1dash-tui Decoder.decode -> columns",
            len(datagrams),
            *best_of(args.runs, functools.partial(decode_with_f1dash, datagrams)),
        )
        verdict = "met" if ours >= GOAL_PACKETS_PER_S else "NOT met"
        if args.skip_library_long and datagrams is not clip:
            summary.append(f"{name} {ours:,.0f} packets/s ({verdict}; no ratio)")
            continue
        theirs = report(
            "f1-packets 2026.1.1 resolve + columns",
            len(datagrams),
            *best_of(
                args.library_runs if datagrams is clip else 1,
                functools.partial(decode_with_f1_packets, datagrams),
            ),
        )
        ratio = ours / theirs
        print(f"  ratio (packets/s, wall): {ratio:,.0f}x")
        if ratio < GOAL_RATIO:
            verdict = "NOT met"
        summary.append(f"{name} {ours:,.0f} packets/s, {ratio:,.0f}x ({verdict})")
    print(
        f"goal: >= {GOAL_PACKETS_PER_S:,} packets/s and >= {GOAL_RATIO}x f1-packets: "
        + "; ".join(summary)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
