"""Timed replay: release timestamped datagrams at their recorded pace (or N times it).

The pace comes from the timestamps alone (capture timestamps for a pcap, session time
for the simulator): datagram i is released at ``start + (t_i - t_0) / speed`` on the
monotonic clock. ``speed=None`` releases everything as fast as the consumer takes it.
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from f1dash_tui.errors import F1DashError

Item = TypeVar("Item")

EARLY_TOLERANCE_S = 0.001
"""Release without sleeping when at most 1 ms early: sleeping that little costs more
CPU than it buys accuracy (the game's own frame spacing is ~16.7 ms at 60 Hz)."""


def paced(
    timed_items: Iterable[tuple[float, Item]],
    speed: float | None,
    *,
    stop_event: threading.Event | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[tuple[float, Item]]:
    """Yield ``(t, item)`` pairs no earlier than their time scaled by ``speed``.

    Timestamps that go backwards (a capture spliced together) are released at once
    and the pace continues from them. Stops early when ``stop_event`` is set.
    """
    if speed is not None and speed <= 0:
        raise ValueError(f"replay speed must be positive, not {speed}")
    stop = stop_event or threading.Event()
    first_t: float | None = None
    start_clock = 0.0
    for t, item in timed_items:
        if stop.is_set():
            return
        if speed is not None:
            if first_t is None or t < first_t:
                first_t, start_clock = t, clock()
            delay_s = start_clock + (t - first_t) / speed - clock()
            if delay_s > EARLY_TOLERANCE_S and stop.wait(delay_s):
                return
        yield t, item


MAX_PAUSE_S = 10.0
"""Longest pause of a capture a paced replay waits out, in recorded seconds. The
game sends nothing while paused, and captures spliced from several days hold gaps
of days: waiting those out in real time helps nobody."""


def shorten_pauses(
    timed_items: Iterable[tuple[float, Item]],
    *,
    max_pause_s: float = MAX_PAUSE_S,
    on_pause: Callable[[float], None] | None = None,
) -> Iterator[tuple[float, Item]]:
    """Shift timestamps so that no gap between neighbours exceeds ``max_pause_s``;
    ``on_pause`` gets each shortened gap's original length."""
    removed_s = 0.0
    previous_t: float | None = None
    for t, item in timed_items:
        if previous_t is not None and t - previous_t > max_pause_s:
            if on_pause is not None:
                on_pause(t - previous_t)
            removed_s += t - previous_t - max_pause_s
        previous_t = t
        yield t - removed_s, item


def udp_send_error(host: str, port: int, error: OSError) -> F1DashError:
    """The one-line error for a datagram that cannot go to ``host:port``: the
    target, why, and what to check (the replay and the simulator share it)."""
    target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    reason = error.strerror or str(error)
    if isinstance(error, socket.gaierror):
        advice = "check the host name in --to-udp"
    elif error.errno in (errno.EACCES, errno.EPERM):
        advice = (
            "a broadcast address, or a firewall, refuses it; check --to-udp: give the "
            "address of the machine running `f1dash-tui ingest`"
        )
    else:
        advice = (
            "check --to-udp: the address and port of the machine running "
            "`f1dash-tui ingest`"
        )
    return F1DashError(f"cannot send UDP to {target}: {reason} ({advice})")


def send_udp(
    timed_payloads: Iterable[tuple[float, bytes]],
    host: str,
    port: int,
    *,
    speed: float | None,
    stop_event: threading.Event | None = None,
) -> int:
    """Send payloads as UDP datagrams to ``host:port`` at their pace; count them.

    Raises F1DashError (see udp_send_error) when the host name does not resolve or
    the system refuses a datagram; the name is looked up once, before the first.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sent = 0
    try:
        target = socket.getaddrinfo(host, port, family, socket.SOCK_DGRAM)[0][4]
        with socket.socket(family, socket.SOCK_DGRAM) as sock:
            for _, payload in paced(timed_payloads, speed, stop_event=stop_event):
                sock.sendto(payload, target)
                sent += 1
    except OSError as error:
        raise udp_send_error(host, port, error) from error
    return sent
