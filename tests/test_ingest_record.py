"""record_udp writes what the listener receives to a pcap file; run_listener draws
its one-line status; both on real loopback UDP."""

from __future__ import annotations

import io
import socket
import threading
import time
from pathlib import Path

from f1dash_tui.ingest.service import record_udp, run_listener
from f1dash_tui.settings import IngestSettings, Settings, StoreSettings
from f1dash_tui.telemetry.pcap import read_pcap


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_bound(port: int, timeout_s: float = 15) -> None:
    """Wait until a socket is bound to the UDP port (Linux: /proc/net/udp lists
    local addresses as hex ``ADDR:PORT``), without racing the listener for it."""
    suffix = f":{port:04X}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        lines = Path("/proc/net/udp").read_text().splitlines()[1:]
        if any(line.split()[1].endswith(suffix) for line in lines):
            return
        time.sleep(0.05)
    raise AssertionError(f"nothing bound UDP port {port}")


def _settings(tmp_path: Path, port: int) -> Settings:
    return Settings(
        store=StoreSettings(sqlite_path=tmp_path / "store.sqlite3"),
        ingest=IngestSettings(
            listen_host="127.0.0.1", listen_port=port, spool_dir=tmp_path / "spool"
        ),
    )


def test_record_writes_received_datagrams_with_times(
    tmp_path: Path, melbourne_pcap: Path
) -> None:
    payloads = [d.payload for d in read_pcap(melbourne_pcap)][:300]
    port = _free_udp_port()
    pcap_path = tmp_path / "recorded.pcap"
    stop = threading.Event()
    counts: list[int] = []
    recorder = threading.Thread(
        target=lambda: counts.append(
            record_udp(_settings(tmp_path, port), pcap_path, stop_event=stop)
        )
    )
    recorder.start()
    try:
        _wait_until_bound(port)
        started = time.time()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            sender.bind(("127.0.0.1", 0))
            for payload in payloads:
                sender.sendto(payload, ("127.0.0.1", port))
                time.sleep(0.001)
            sender_address = sender.getsockname()
        time.sleep(0.5)
    finally:
        stop.set()
        recorder.join(timeout=30)
    assert counts == [300]
    recorded = list(read_pcap(pcap_path))
    assert [d.payload for d in recorded] == payloads
    times = [d.timestamp_s for d in recorded]
    assert times == sorted(times)
    assert started - 0.01 <= times[0] and times[-1] <= time.time()
    assert {d.src for d in recorded} == {sender_address}
    assert {d.dst for d in recorded} == {("127.0.0.1", port)}


def test_listener_status_line(tmp_path: Path, melbourne_pcap: Path) -> None:
    payloads = [d.payload for d in read_pcap(melbourne_pcap)][:200]
    port = _free_udp_port()
    stop = threading.Event()
    status = io.StringIO()
    listener = threading.Thread(
        target=run_listener,
        args=(_settings(tmp_path, port),),
        kwargs={"status_stream": status, "stop_event": stop},
    )
    listener.start()
    try:
        _wait_until_bound(port)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
            for payload in payloads:
                sender.sendto(payload, ("127.0.0.1", port))
                time.sleep(0.001)
        time.sleep(1.5)
    finally:
        stop.set()
        listener.join(timeout=30)
    lines = [line for line in status.getvalue().replace("\n", "\r").split("\r") if line]
    assert lines, "no status line was drawn"
    final = lines[-1]
    assert final.startswith("ingest: 200 packets")
    assert "pkt/s" in final and "bad 0" in final and "lag " in final and "ms" in final
