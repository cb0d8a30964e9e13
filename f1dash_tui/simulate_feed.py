"""Send a synthetic race (the simulator's datagrams) to a store, UDP or a pcap file.

Used by ``f1dash-tui simulate`` and ``f1dash-tui demo --simulate``. The simulator
yields ``(session_time_s, datagram)``; pacing uses those times.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from f1dash_tui.errors import F1DashError
from f1dash_tui.settings import IngestSettings


class SimulationUnavailableError(F1DashError):
    """The simulator or the ingest service is missing from this build."""


@dataclass(frozen=True)
class RaceRequest:
    """What the user asked the simulator for."""

    cars: int | None = None
    """None: the format's full grid."""
    laps: int = 5
    rate_hz: int = 60
    packet_format: int = 2026
    seed: int = 1
    track: str = "melbourne"


def _module(name: str, what: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError as error:
        raise SimulationUnavailableError(
            f"{what} is not available in this build ({error})"
        ) from error


def check_request(request: RaceRequest) -> None:
    """Raise ConfigError (one line) for a race the game could not send."""
    _options(request).validate()


def _options(request: RaceRequest) -> Any:
    simulator = _module("f1dash_tui.telemetry.simulator", "the simulator")
    return simulator.SimulationOptions(
        cars=request.cars,
        laps=request.laps,
        send_rate_hz=request.rate_hz,
        packet_format=request.packet_format,
        track=request.track,
        seed=request.seed,
    )


def simulated_datagrams(request: RaceRequest) -> Iterator[tuple[float, bytes]]:
    """The simulator's ``(session_time_s, datagram)`` stream for ``request``."""
    simulator = _module("f1dash_tui.telemetry.simulator", "the simulator")
    datagrams: Iterator[tuple[float, bytes]] = simulator.simulate(_options(request))
    return datagrams


def simulated_race_into_store(
    store: Any,
    *,
    request: RaceRequest | None = None,
    speed: float | None,
    session_uid_salt: int = 0,
    stop_event: threading.Event | None = None,
    ingest_settings: IngestSettings | None = None,
    status_stream: TextIO | None = None,
) -> Any:
    """Ingest a synthetic race into ``store``, paced by ``speed`` (None: at once);
    with ``status_stream`` (a terminal) a status line is redrawn meanwhile."""
    request = request or RaceRequest()
    service = _module("f1dash_tui.ingest.service", "the ingest service")
    return service.ingest_datagrams(
        simulated_datagrams(request),
        store,
        speed=speed,
        source="simulator",
        session_uid_salt=session_uid_salt,
        stop_event=stop_event,
        settings=ingest_settings,
        status_stream=status_stream,
    )


def simulated_race_to_udp(
    request: RaceRequest,
    host: str,
    port: int,
    *,
    speed: float | None,
    stop_event: threading.Event | None = None,
) -> int:
    """Send a synthetic race to ``host:port`` at ``speed`` x race pace; the count."""
    from f1dash_tui.telemetry.replay import send_udp

    return send_udp(
        simulated_datagrams(request), host, port, speed=speed, stop_event=stop_event
    )


def simulated_race_to_pcap(
    request: RaceRequest, pcap_path: Path, *, stop_event: threading.Event | None = None
) -> int:
    """Write a synthetic race to a pcap file; the count.

    Timestamps are now plus each packet's session time, so replaying the file at its
    recorded pace runs at race pace.
    """
    from f1dash_tui.telemetry.pcap import PcapWriter

    origin_unix_s = time.time()
    written = 0
    with PcapWriter(pcap_path) as writer:
        for session_time_s, datagram in simulated_datagrams(request):
            if stop_event is not None and stop_event.is_set():
                break
            writer.write(origin_unix_s + session_time_s, datagram)
            written += 1
    return written
