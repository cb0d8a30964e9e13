"""A synthetic race as the game's own UDP packets (packetFormat 2025 or 2026).

``simulate(options)`` yields ``(session_time_s, datagram)`` for a whole race at
Melbourne: lights, a start from the grid, pace differences, gaps that open and close,
DRS, pit stops with tyre changes, tyre wear and temperatures, fuel, ERS, penalties,
overtakes, the chequered flag and the final classification. Cars drive along an
outline derived from the real motion data of the bundled capture.

Packets come at the game's rates: Motion, Lap Data and Car Telemetry every tick
(``send_rate_hz``), Car Status and Car Damage at ~10 Hz, Session at 2 Hz,
Participants every 5 s, Session History at 20 Hz cycling through the cars, Events
when they happen. Frame identifiers rise by one per tick (no flashbacks).

A synthetic session is recognisable from its data alone (``is_synthetic_session``):
``network_game`` is 0 and the top 32 bits of the session UID spell ``SIM1``.

The model lives in ``telemetry.simulation`` (track, race, packing).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from f1dash_tui.errors import ConfigError
from f1dash_tui.telemetry.simulation.packing import HeaderValues, PacketBuilder
from f1dash_tui.telemetry.simulation.race import POWER_UNITS, RaceEvent, RaceModel
from f1dash_tui.telemetry.simulation.track import available_tracks, load_track

SYNTHETIC_UID_TAG = 0x53494D31
"""Top 32 bits of a simulated session's UID: ASCII "SIM1". A real game's random
64-bit UID carries this tag with probability 2**-32."""

MAX_CARS = {2025: 22, 2026: 24}
DEFAULT_CARS = {2025: 20, 2026: 22}
"""The 2025 grid has 20 cars, the 2026 grid 22 (arrays hold 22 and 24)."""
MAX_LAPS = 100
"""Session History holds 100 laps per car."""


@dataclass(frozen=True)
class SimulationOptions:
    """What to simulate. ``cars=None`` means the format's grid (20 or 22)."""

    cars: int | None = None
    laps: int = 5
    send_rate_hz: int = 60
    packet_format: int = 2026
    track: str = "melbourne"
    seed: int = 1

    @property
    def num_cars(self) -> int:
        """Cars in the race, the format's default grid if none was given."""
        if self.cars is None:
            return DEFAULT_CARS.get(self.packet_format, 20)
        return self.cars

    def validate(self) -> None:
        """Raise ConfigError (one line) for options the game could not send."""
        if self.packet_format not in MAX_CARS:
            raise ConfigError(
                "simulator packet format must be 2025 or 2026, "
                f"not {self.packet_format}"
            )
        most = MAX_CARS[self.packet_format]
        if not 1 <= self.num_cars <= most:
            raise ConfigError(
                f"simulator cars must be 1..{most} for format {self.packet_format}, "
                f"not {self.num_cars}"
            )
        if not 1 <= self.laps <= MAX_LAPS:
            raise ConfigError(f"simulator laps must be 1..{MAX_LAPS}, not {self.laps}")
        if not 10 <= self.send_rate_hz <= 120:
            raise ConfigError(
                f"simulator send rate must be 10..120 Hz, not {self.send_rate_hz}"
            )
        if self.track.strip().lower() not in available_tracks():
            raise ConfigError(
                f"no track outline for {self.track!r}; the simulator knows: "
                + ", ".join(available_tracks())
            )


def synthetic_session_uid(rng: np.random.Generator) -> int:
    """A session UID carrying the synthetic tag in its top 32 bits."""
    return (SYNTHETIC_UID_TAG << 32) | int(rng.integers(1, 2**32))


def is_synthetic_session(session_uid: int, network_game: int) -> bool:
    """Whether a session came from this simulator, from its Session packet alone.

    ``session_uid`` may be the header's uint64 or the same bits as int64 (as the
    decoder's ``session_uid`` column holds it).
    """
    uid = int(session_uid) & 0xFFFF_FFFF_FFFF_FFFF
    return int(network_game) == 0 and (uid >> 32) == SYNTHETIC_UID_TAG


def simulate(options: SimulationOptions) -> Iterator[tuple[float, bytes]]:
    """Yield ``(session_time_s, datagram)`` for a whole synthetic race, in order."""
    options.validate()
    rng = np.random.default_rng(options.seed)
    packet_format = options.packet_format
    rate = options.send_rate_hz
    model = RaceModel(
        load_track(options.track),
        options.num_cars,
        options.laps,
        rng,
        power_unit=POWER_UNITS[packet_format],
    )
    # Car Status and Car Damage at ~10 Hz (the game sends Damage at 10 Hz; Status at
    # the menu rate, 10 Hz here keeps a 60 Hz race at ~4 packets per tick).
    model.slow_every = max(1, round(rate / 10))
    header = HeaderValues(packet_format, synthetic_session_uid(rng))
    builder = PacketBuilder(header, model, options.laps)
    return _race(model, builder, rate)


def _race(
    model: RaceModel, builder: PacketBuilder, rate: int
) -> Iterator[tuple[float, bytes]]:
    dt_s = 1.0 / rate
    session_every = max(1, round(rate / 2))
    participants_every = rate * 5
    history_every = max(1, round(rate / 20))
    slow_every = model.slow_every
    frame = 0
    while True:
        t = frame * dt_s
        if frame % session_every == 0:
            yield t, builder.session(t, frame)
        if frame % participants_every == 0:
            yield t, builder.participants(t, frame)
        yield t, builder.motion(t, frame)
        yield t, builder.lap_data(t, frame, full=frame % slow_every == 0)
        if frame % slow_every == 0:
            builder.car_thermal()
        yield t, builder.car_telemetry(t, frame)
        if model.events:
            for event in model.events:
                yield t, builder.event(event, t, frame)
            model.events.clear()
        if frame % slow_every == 0:
            yield t, builder.car_status(t, frame)
            yield t, builder.car_damage(t, frame)
        if frame % history_every == 0:
            car = (frame // history_every) % model.n
            yield t, builder.session_history(car, t, frame)
        if model.all_finished:
            yield t, builder.session(t, frame)
            yield t, builder.final_classification(t, frame)
            for car in range(model.n):
                yield t, builder.session_history(car, t, frame)
            yield t, builder.event(RaceEvent("SEND"), t, frame)
            return
        model.step(dt_s)
        frame += 1


def write_pcap(
    options: SimulationOptions, path: str | Path, *, start_unix_s: float | None = None
) -> int:
    """Write a synthetic race to a pcap file; the number of datagrams written.

    Timestamps are ``start_unix_s`` (default: now) plus each packet's session time,
    so a replay at recorded pace runs at race pace.
    """
    from f1dash_tui.telemetry.pcap import PcapWriter

    origin_s = time.time() if start_unix_s is None else start_unix_s
    with PcapWriter(path) as writer:
        for session_time_s, datagram in simulate(options):
            writer.write(origin_s + session_time_s, datagram)
    return writer.datagrams_written
