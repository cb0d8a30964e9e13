"""The UDP listener: receives the game's datagrams into a bounded queue.

One thread does nothing but ``recvfrom`` and ``put_nowait``, so a slow database never
makes the socket buffer overflow: when the queue is full the datagram is dropped and
counted instead. The game sends about 300 datagrams/s at 60 Hz (motion, lap data, car
telemetry and car status every frame, the rest slower), at most ~600/s at 120 Hz.
"""

from __future__ import annotations

import errno
import logging
import queue
import socket
import threading
import time
from collections.abc import Iterable
from typing import NamedTuple

from f1dash_tui.errors import ListenError

log = logging.getLogger(__name__)

RECV_BUFFER_BYTES = 8 * 1024 * 1024
"""Kernel receive buffer asked for: 8 MiB holds ~6,000 of the largest (1,470 B)
datagrams, about 20 s of a 60 Hz stream, enough to ride out a stall of the consumer.
The kernel may cap it (net.core.rmem_max); the effective size is logged."""

MAX_DATAGRAM_BYTES = 65_535
POLL_INTERVAL_S = 0.2
"""How often the receive loop checks whether it should stop."""


class ReceivedDatagram(NamedTuple):
    """One datagram as received: wall-clock time, payload, sender (ip, port)."""

    recv_unix_s: float
    payload: bytes
    sender: tuple[str, int]


def parse_listen_address(text: str) -> tuple[str, int]:
    """Parse ``HOST:PORT`` (or ``:PORT``) as given to ``--listen``."""
    host, sep, port_text = text.rpartition(":")
    if not sep or not port_text.isdigit() or not 0 <= int(port_text) <= 65_535:
        raise ListenError(
            f"listen address {text!r} is not HOST:PORT (for example 0.0.0.0:20777)"
        )
    return host.strip("[]") or "0.0.0.0", int(port_text)


def _listen_error(host: str, port: int, error: OSError) -> ListenError:
    how = (
        "pick another with --listen HOST:PORT or [ingest] listen_port in the config "
        "file (and set the same port in the game's telemetry settings)"
    )
    if error.errno == errno.EADDRINUSE:
        return ListenError(f"UDP port {port} on {host} is already in use; {how}")
    if error.errno == errno.EADDRNOTAVAIL:
        return ListenError(
            f"cannot listen on UDP {host}:{port}: {host} is not an address of this "
            "machine; give one of its addresses, or 0.0.0.0 for all, with --listen "
            "HOST:PORT or [ingest] listen_host in the config file"
        )
    reason = error.strerror or str(error)
    if isinstance(error, socket.gaierror):
        # The host did not resolve: the port has nothing to do with it.
        return ListenError(
            f"cannot listen on UDP {host}:{port}: {host} is not a known host name or "
            f"address ({reason}); give an address of this machine, or 0.0.0.0 for "
            "all, with --listen HOST:PORT or [ingest] listen_host in the config file"
        )
    return ListenError(f"cannot listen on UDP {host}:{port} ({reason}); {how}")


class UdpListener:
    """Receives UDP datagrams on a background thread into ``out_queue``.

    ``start()`` binds synchronously, so a busy port raises ``ListenError`` to the
    caller. Datagrams from senders outside ``allowed_senders`` (when given) are dropped
    and counted in ``rejected_senders``; a full queue drops and counts in
    ``dropped_queue_full``.
    """

    def __init__(
        self,
        host: str,
        port: int,
        out_queue: queue.Queue[ReceivedDatagram],
        *,
        allowed_senders: Iterable[str] = (),
        recv_buffer_bytes: int = RECV_BUFFER_BYTES,
    ) -> None:
        self.host = host
        self.port = port
        self._queue = out_queue
        self._allowed = frozenset(allowed_senders)
        self._recv_buffer_bytes = recv_buffer_bytes
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.received = 0
        self.dropped_queue_full = 0
        self.rejected_senders = 0
        self.refused_addresses: set[str] = set()
        """Senders refused so far (each is logged once, at WARNING)."""

    @property
    def address(self) -> tuple[str, int]:
        """The bound (host, port); the real port when 0 (ephemeral) was asked."""
        if self._socket is None:
            return self.host, self.port
        host, port = self._socket.getsockname()[:2]
        return host, port

    def bind(self) -> None:
        """Bind the socket now (raising ``ListenError``); datagrams wait in the
        kernel's receive buffer until ``start``. Idempotent."""
        if self._socket is not None:
            return
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(
                socket.SOL_SOCKET, socket.SO_RCVBUF, self._recv_buffer_bytes
            )
            sock.bind((self.host, self.port))
        except OSError as error:
            sock.close()
            raise _listen_error(self.host, self.port, error) from error
        sock.settimeout(POLL_INTERVAL_S)
        log.info(
            "listening on UDP %s:%d (receive buffer %d bytes)",
            *self.address,
            sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF),
        )
        self._socket = sock

    def start(self) -> None:
        """Bind the socket if not yet bound (raising ``ListenError``) and start the
        receive thread."""
        self.bind()
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._receive_loop, name="udp-listener", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop receiving and close the socket (idempotent)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None

    def __enter__(self) -> UdpListener:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _receive_loop(self) -> None:
        sock = self._socket
        assert sock is not None
        allowed = self._allowed
        put = self._queue.put_nowait
        while not self._stop.is_set():
            try:
                payload, sender = sock.recvfrom(MAX_DATAGRAM_BYTES)
            except TimeoutError:
                continue
            except OSError:
                if self._stop.is_set():
                    return
                log.exception("UDP receive failed; listener stops")
                raise
            if allowed and sender[0] not in allowed:
                self.rejected_senders += 1
                if sender[0] not in self.refused_addresses:
                    self.refused_addresses.add(sender[0])
                    log.warning(
                        "refusing UDP datagrams from %s (sender not allowed; "
                        "add it to --allow-sender to accept them)",
                        sender[0],
                    )
                continue
            self.received += 1
            try:
                put(ReceivedDatagram(time.time(), payload, sender[:2]))
            except queue.Full:
                self.dropped_queue_full += 1
