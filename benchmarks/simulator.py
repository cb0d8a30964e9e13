"""How fast the simulator generates a race: datagrams/s and times real time.

    python benchmarks/simulator.py [--laps 44] [--cars 22] [--rate 60] [--format 2026]

The default is the benchmark race of the project: about one hour at Melbourne
(44 laps of ~81 s), 22 cars, 60 Hz, i.e. ~216,000 ticks. Prints wall-clock and CPU
figures (CPU time is what the simulator costs when the machine is shared).
"""

from __future__ import annotations

import argparse
import time

from f1dash_tui.telemetry.simulator import SimulationOptions, simulate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--laps", type=int, default=44)
    parser.add_argument("--cars", type=int, default=22)
    parser.add_argument("--rate", type=int, default=60)
    parser.add_argument("--format", type=int, default=2026, dest="packet_format")
    args = parser.parse_args()
    options = SimulationOptions(
        cars=args.cars,
        laps=args.laps,
        send_rate_hz=args.rate,
        packet_format=args.packet_format,
    )
    wall_start, cpu_start = time.perf_counter(), time.process_time()
    datagrams = payload_bytes = 0
    race_s = 0.0
    for session_time_s, datagram in simulate(options):
        datagrams += 1
        payload_bytes += len(datagram)
        race_s = session_time_s
    wall_s = time.perf_counter() - wall_start
    cpu_s = time.process_time() - cpu_start
    ticks = round(race_s * args.rate) + 1
    print(
        f"race: {args.cars} cars, {args.laps} laps, {args.rate} Hz, "
        f"format {args.packet_format}: {race_s:.0f} s of session time, "
        f"{ticks} ticks, {datagrams} datagrams ({datagrams / ticks:.2f} per tick), "
        f"{payload_bytes / 1e6:.0f} MB"
    )
    print(
        f"wall {wall_s:.1f} s: {race_s / wall_s:.1f}x real time, "
        f"{datagrams / wall_s:,.0f} datagrams/s"
    )
    print(
        f"cpu  {cpu_s:.1f} s: {race_s / cpu_s:.1f}x real time, "
        f"{1e6 * cpu_s / ticks:.0f} us per tick"
    )


if __name__ == "__main__":
    main()
