"""The UDP listener on real loopback sockets: receive, allow-list, busy port."""

from __future__ import annotations

import queue
import socket
import time

import pytest

from f1dash_tui.errors import ListenError
from f1dash_tui.telemetry.listener import (
    ReceivedDatagram,
    UdpListener,
    parse_listen_address,
)


def _drain(received: queue.Queue[ReceivedDatagram], count: int) -> list:
    items = []
    deadline = time.monotonic() + 5
    while len(items) < count and time.monotonic() < deadline:
        try:
            items.append(received.get(timeout=0.1))
        except queue.Empty:
            continue
    return items


def test_receives_datagrams_in_order_with_sender_and_time() -> None:
    received: queue.Queue[ReceivedDatagram] = queue.Queue(100)
    with UdpListener("127.0.0.1", 0, received) as listener:
        host, port = listener.address
        assert port != 0
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.bind(("127.0.0.1", 0))
            before = time.time()
            for i in range(50):
                sender.sendto(bytes([i]) * (i + 1), (host, port))
            items = _drain(received, 50)
            sender_address = sender.getsockname()
    assert [item.payload for item in items] == [bytes([i]) * (i + 1) for i in range(50)]
    assert all(item.sender == sender_address for item in items)
    assert all(before <= item.recv_unix_s <= time.time() for item in items)
    assert listener.received == 50


def test_allow_list_drops_and_counts_other_senders() -> None:
    received: queue.Queue[ReceivedDatagram] = queue.Queue(100)
    # 127.0.0.2 is loopback too on Linux, so two senders can differ by address.
    with UdpListener("0.0.0.0", 0, received, allowed_senders=["127.0.0.2"]) as listener:
        port = listener.address[1]
        with (
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as stranger,
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as allowed,
        ):
            stranger.bind(("127.0.0.1", 0))
            allowed.bind(("127.0.0.2", 0))
            for _ in range(7):
                stranger.sendto(b"no", ("127.0.0.1", port))
            for _ in range(3):
                allowed.sendto(b"yes", ("127.0.0.1", port))
            items = _drain(received, 3)
            time.sleep(0.2)
    assert [item.payload for item in items] == [b"yes"] * 3
    assert received.empty()
    assert listener.rejected_senders == 7
    assert listener.received == 3


def test_full_queue_drops_and_counts() -> None:
    received: queue.Queue[ReceivedDatagram] = queue.Queue(5)
    with UdpListener("127.0.0.1", 0, received) as listener:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            for _ in range(20):
                sender.sendto(b"x", listener.address)
        deadline = time.monotonic() + 5
        while listener.received < 20 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert received.qsize() == 5
    assert listener.dropped_queue_full == 15


def test_busy_port_is_one_line_naming_port_and_fix() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as occupier:
        occupier.bind(("127.0.0.1", 0))
        port = occupier.getsockname()[1]
        listener = UdpListener("127.0.0.1", port, queue.Queue(1))
        with pytest.raises(ListenError) as caught:
            listener.start()
    message = str(caught.value)
    assert "\n" not in message
    assert f"UDP port {port}" in message
    assert "in use" in message
    assert "--listen HOST:PORT" in message
    assert "listen_port" in message


def test_an_address_not_on_this_machine_is_named_as_the_problem() -> None:
    # 192.0.2.1 is TEST-NET-1 (RFC 5737): never an address of a real machine.
    listener = UdpListener("192.0.2.1", 20777, queue.Queue(1))
    try:
        listener.start()
    except ListenError as error:
        message = str(error)
    else:
        listener.stop()
        pytest.skip("this kernel binds non-local addresses (ip_nonlocal_bind=1)")
    assert message == (
        "cannot listen on UDP 192.0.2.1:20777: 192.0.2.1 is not an address of this "
        "machine; give one of its addresses, or 0.0.0.0 for all, with --listen "
        "HOST:PORT or [ingest] listen_host in the config file"
    )


def test_a_host_that_does_not_resolve_is_named_as_the_problem_not_the_port() -> None:
    # 999.1.1.1 is no IPv4 address, so the resolver refuses it as a name.
    listener = UdpListener("999.1.1.1", 20777, queue.Queue(1))
    with pytest.raises(ListenError) as raised:
        listener.start()
    message = str(raised.value)
    assert message.startswith(
        "cannot listen on UDP 999.1.1.1:20777: 999.1.1.1 is not a known host name "
        "or address ("
    )
    assert "listen_host" in message
    assert "listen_port" not in message


def test_parse_listen_address() -> None:
    assert parse_listen_address("127.0.0.1:20778") == ("127.0.0.1", 20778)
    assert parse_listen_address(":20777") == ("0.0.0.0", 20777)
    with pytest.raises(ListenError):
        parse_listen_address("localhost")
    with pytest.raises(ListenError):
        parse_listen_address("host:99999")
