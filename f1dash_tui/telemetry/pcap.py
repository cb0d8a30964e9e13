"""Read UDP datagrams from pcap/pcapng captures and write classic pcap files.

pcap is the project's capture format: ``record`` writes it, ``replay`` and ``demo`` read
it, and captures made with tcpdump or Wireshark work the same. dpkt reads the file
containers (pcap with micro- or nanosecond stamps, pcapng); the link, IP and UDP headers
are read here with ``struct`` because a game stream holds one small UDP datagram per
packet (~1,500/s in a race) and only a handful of header bytes decide what to keep.

What is skipped is counted in :class:`CaptureStats`, never raised: non-UDP traffic, UDP
to other ports, IP fragments (not reassembled: an F1 packet of at most 1,470 bytes fits
one 1,500-byte Ethernet frame, so fragments are foreign traffic), and frames cut short
by the snap length or a truncated file.

pcapng: the first interface's link type and timestamp resolution apply to every packet
(dpkt reads one interface description); captures of several interfaces of the same
link type, the usual case, read correctly.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import dpkt

from f1dash_tui.errors import CaptureError

logger = logging.getLogger(__name__)

Endpoint = tuple[str, int]
"""An (IP address, UDP port) pair."""

F1_DEFAULT_PORT = 20777
"""The game's default telemetry UDP port."""

_PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1",  # little-endian, microseconds
    b"\xa1\xb2\xc3\xd4",  # big-endian, microseconds
    b"\x4d\x3c\xb2\xa1",  # little-endian, nanoseconds
    b"\xa1\xb2\x3c\x4d",  # big-endian, nanoseconds
}
_PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"  # Section Header Block type

# Link-layer types (https://www.tcpdump.org/linktypes.html).
_LINK_NULL = 0  # BSD loopback, 4-byte address family in the capturing host's order
_LINK_ETHERNET = 1
_LINK_RAW_DLT = (12, 14)  # DLT_RAW as numbered on most systems / OpenBSD
_LINK_LOOP = 108  # OpenBSD loopback, 4-byte big-endian address family
_LINK_RAW = 101
_LINK_LINUX_SLL = 113  # "Linux cooked", 16-byte header (tcpdump -i any)
_LINK_LINUX_SLL2 = 276  # 20-byte header, protocol first
_LINK_IPV4 = 228
_LINK_IPV6 = 229

_ETHERTYPE_IPV4 = 0x0800
_ETHERTYPE_IPV6 = 0x86DD
_ETHERTYPE_VLAN = (0x8100, 0x88A8, 0x9100)

_IP_PROTO_UDP = 17
_IPV6_FRAGMENT = 44
_IPV6_SKIPPABLE_EXTENSIONS = (0, 43, 60)  # hop-by-hop, routing, destination options

_UDP_HEADER = struct.Struct("!HHHH")
_IPV4_FRAGMENT_MASK = 0x3FFF  # more-fragments flag + 13-bit offset


@dataclass(frozen=True)
class CapturedDatagram:
    """One UDP datagram from a capture: when it was captured and what it carried."""

    timestamp_s: float
    payload: bytes
    src: Endpoint
    dst: Endpoint


@dataclass
class CaptureStats:
    """What reading a capture kept and skipped (frames, not bytes)."""

    frames: int = 0
    datagrams: int = 0
    non_udp: int = 0
    other_port: int = 0
    fragments: int = 0
    truncated: int = 0
    ends_inside_record: bool = False
    """The file stops in the middle of a record: it was cut short (a copy or a
    capture that did not finish), and what followed is gone."""
    long_pauses: int = 0
    """Gaps between datagrams longer than a paced replay waits out (counted by the
    replay, which shortens them)."""
    long_pause_s: float = 0.0
    """Those gaps' recorded length, all together."""

    @property
    def skipped(self) -> int:
        """Frames that did not yield a datagram."""
        return self.non_udp + self.other_port + self.fragments + self.truncated

    def data_loss(self) -> str | None:
        """One line saying which F1 data the capture could not give, or None.

        Non-UDP frames, other ports and fragments are foreign traffic, not loss; a
        file that ends inside a record and frames cut by the snap length are.
        """
        cut_frames = self.truncated - int(self.ends_inside_record)
        problems = []
        if self.ends_inside_record:
            problems.append(
                f"the file ends inside a record after {self.datagrams:,} datagrams "
                "(it was cut short)"
            )
        if cut_frames:
            problems.append(
                f"{cut_frames:,} frames were cut short by the capture's snap length"
            )
        return "; ".join(problems) or None


class _Skip(Exception):
    """A frame that yields no datagram; ``reason`` names the CaptureStats counter."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _capture_kind(path: Path) -> str:
    """'pcap' or 'pcapng' from the file's magic; CaptureError for anything else."""
    try:
        with path.open("rb") as capture_file:
            magic = capture_file.read(4)
    except FileNotFoundError:
        raise CaptureError(f"capture file not found: {path}") from None
    except OSError as error:
        raise CaptureError(f"cannot read capture {path}: {error.strerror}") from None
    if magic in _PCAP_MAGICS:
        return "pcap"
    if magic == _PCAPNG_MAGIC:
        return "pcapng"
    if not magic:
        raise CaptureError(f"{path} is empty, not a pcap or pcapng capture")
    raise CaptureError(f"{path} is not a pcap or pcapng capture")


class _ReadWatcher:
    """A capture file whose ``read`` remembers whether the last read came back short.

    dpkt's pcap reader returns whatever bytes are left for a record cut off by the
    end of the file; a short read is the only way to tell that frame from one cut by
    the snap length, which is whole in the file.
    """

    def __init__(self, capture_file: BinaryIO) -> None:
        self._file = capture_file
        self.name = capture_file.name
        self.last_read_short = False

    def read(self, size: int = -1) -> bytes:
        data = self._file.read(size)
        self.last_read_short = 0 <= size != len(data)
        return data


def _open_reader(
    kind: str, capture_file: BinaryIO | _ReadWatcher, path: Path
) -> tuple[object, int]:
    """A dpkt reader for the file and its link type."""
    try:
        if kind == "pcap":
            pcap_reader = dpkt.pcap.Reader(capture_file)
            return pcap_reader, int(pcap_reader.datalink())
        pcapng_reader = dpkt.pcapng.Reader(capture_file)
        return pcapng_reader, int(pcapng_reader.datalink())
    except (dpkt.Error, ValueError, struct.error) as error:
        raise CaptureError(f"{path}: broken {kind} file header ({error})") from None


def _network_offset(link_type: int, frame: bytes) -> tuple[int, int]:
    """(offset of the IP header, IP version) for a frame of the given link type."""
    if link_type == _LINK_ETHERNET:
        offset = 12
        if len(frame) < offset + 2:
            raise _Skip("truncated")
        (ethertype,) = struct.unpack_from("!H", frame, offset)
        while ethertype in _ETHERTYPE_VLAN:  # 802.1Q / QinQ tags: 4 bytes each
            offset += 4
            if len(frame) < offset + 2:
                raise _Skip("truncated")
            (ethertype,) = struct.unpack_from("!H", frame, offset)
        offset += 2
    elif link_type == _LINK_LINUX_SLL:
        if len(frame) < 16:
            raise _Skip("truncated")
        (ethertype,) = struct.unpack_from("!H", frame, 14)
        offset = 16
    elif link_type == _LINK_LINUX_SLL2:
        if len(frame) < 20:
            raise _Skip("truncated")
        (ethertype,) = struct.unpack_from("!H", frame, 0)
        offset = 20
    else:
        # Raw IP and the loopback types: the IP version nibble says v4 or v6, which
        # avoids decoding the loopback address family (its byte order varies by host).
        offset = 4 if link_type in (_LINK_NULL, _LINK_LOOP) else 0
        if len(frame) <= offset:
            raise _Skip("truncated")
        version = frame[offset] >> 4
        if version not in (4, 6):
            raise _Skip("non_udp")
        return offset, version
    if ethertype == _ETHERTYPE_IPV4:
        return offset, 4
    if ethertype == _ETHERTYPE_IPV6:
        return offset, 6
    raise _Skip("non_udp")


def _udp_datagram(
    link_type: int, frame: bytes, udp_port: int | None
) -> tuple[bytes, Endpoint, Endpoint]:
    """(payload, src, dst) of the UDP datagram in a frame, or raise _Skip."""
    offset, version = _network_offset(link_type, frame)
    if version == 4:
        if len(frame) < offset + 20:
            raise _Skip("truncated")
        header_len = (frame[offset] & 0x0F) * 4
        (total_len,) = struct.unpack_from("!H", frame, offset + 2)
        (fragment_bits,) = struct.unpack_from("!H", frame, offset + 6)
        if frame[offset + 9] != _IP_PROTO_UDP:
            raise _Skip("non_udp")
        if fragment_bits & _IPV4_FRAGMENT_MASK:
            raise _Skip("fragments")
        src_ip = socket.inet_ntoa(frame[offset + 12 : offset + 16])
        dst_ip = socket.inet_ntoa(frame[offset + 16 : offset + 20])
        # total_len 0 is what captures on a sender with segmentation offload show;
        # the UDP length then bounds the datagram instead.
        ip_end = offset + total_len if total_len else len(frame)
        udp_offset = offset + header_len
    else:
        if len(frame) < offset + 40:
            raise _Skip("truncated")
        (payload_len,) = struct.unpack_from("!H", frame, offset + 4)
        next_header = frame[offset + 6]
        src_ip = socket.inet_ntop(socket.AF_INET6, frame[offset + 8 : offset + 24])
        dst_ip = socket.inet_ntop(socket.AF_INET6, frame[offset + 24 : offset + 40])
        ip_end = offset + 40 + payload_len if payload_len else len(frame)
        udp_offset = offset + 40
        while next_header in _IPV6_SKIPPABLE_EXTENSIONS:
            if len(frame) < udp_offset + 2:
                raise _Skip("truncated")
            next_header = frame[udp_offset]
            udp_offset += (frame[udp_offset + 1] + 1) * 8
        if next_header == _IPV6_FRAGMENT:
            raise _Skip("fragments")
        if next_header != _IP_PROTO_UDP:
            raise _Skip("non_udp")
    if len(frame) < udp_offset + _UDP_HEADER.size:
        raise _Skip("truncated")
    src_port, dst_port, udp_len, _checksum = _UDP_HEADER.unpack_from(frame, udp_offset)
    if udp_port is not None and dst_port != udp_port:
        raise _Skip("other_port")
    payload_end = udp_offset + udp_len if udp_len >= _UDP_HEADER.size else ip_end
    if payload_end > len(frame) or ip_end > len(frame):
        raise _Skip("truncated")
    payload = frame[udp_offset + _UDP_HEADER.size : payload_end]
    return payload, (src_ip, src_port), (dst_ip, dst_port)


def read_pcap(
    path: str | Path,
    *,
    udp_port: int | None = None,
    stats: CaptureStats | None = None,
) -> Iterator[CapturedDatagram]:
    """Iterate over the UDP datagrams in a pcap or pcapng file, in file order.

    ``udp_port`` keeps only datagrams sent to that port. Skipped frames are counted in
    ``stats`` when given (and logged at the end). Raises CaptureError now, not at the
    first ``next()``, when the file is missing or not a capture.
    """
    capture_path = Path(path)
    kind = _capture_kind(capture_path)
    with capture_path.open("rb") as capture_file:
        _, link_type = _open_reader(kind, capture_file, capture_path)
    if link_type not in _SUPPORTED_LINK_TYPES:
        raise CaptureError(
            f"{capture_path}: link type {link_type} is not supported "
            "(Ethernet, raw IP, Linux cooked and loopback are)"
        )
    return _iter_datagrams(
        capture_path, kind, udp_port, stats if stats is not None else CaptureStats()
    )


_SUPPORTED_LINK_TYPES = frozenset(
    {
        _LINK_NULL,
        _LINK_ETHERNET,
        *_LINK_RAW_DLT,
        _LINK_LOOP,
        _LINK_RAW,
        _LINK_LINUX_SLL,
        _LINK_LINUX_SLL2,
        _LINK_IPV4,
        _LINK_IPV6,
    }
)


def _iter_datagrams(
    path: Path, kind: str, udp_port: int | None, stats: CaptureStats
) -> Iterator[CapturedDatagram]:
    with path.open("rb") as capture_file:
        watched_file = _ReadWatcher(capture_file)
        reader, link_type = _open_reader(kind, watched_file, path)
        records = iter(reader)  # type: ignore[call-overload]
        while True:
            try:
                timestamp, frame = next(records)
            except StopIteration:
                break
            except (dpkt.Error, ValueError, struct.error) as error:
                # A record header or pcapng block cut off by the end of the file.
                _count_cut_end(stats, path, str(error))
                break
            if watched_file.last_read_short:
                # A pcap record's frame cut off by the end of the file.
                _count_cut_end(stats, path, f"{len(frame)} bytes of its frame left")
                break
            stats.frames += 1
            try:
                payload, src, dst = _udp_datagram(link_type, frame, udp_port)
            except _Skip as skip:
                setattr(stats, skip.reason, getattr(stats, skip.reason) + 1)
                continue
            stats.datagrams += 1
            # dpkt divides nanosecond stamps by a Decimal; callers get float seconds.
            yield CapturedDatagram(float(timestamp), payload, src, dst)
    if stats.skipped:
        logger.info("%s: read %s", path, stats)


def _count_cut_end(stats: CaptureStats, path: Path, detail: str) -> None:
    stats.frames += 1
    stats.truncated += 1
    stats.ends_inside_record = True
    logger.warning("%s: capture ends inside a record (%s)", path, detail)


_PCAP_FILE_HEADER = struct.Struct("<IHHiIII")
_PCAP_RECORD_HEADER = struct.Struct("<IIII")
_PCAP_MAGIC_MICROSECONDS = 0xA1B2C3D4
_PCAP_SNAPLEN = 65535
_ZERO_MACS = bytes(12)  # what a loopback capture shows
_IPV4_HEADER = struct.Struct("!BBHHHBBH4s4s")
_IPV6_HEADER = struct.Struct("!IHBB16s16s")
_HOP_LIMIT = 64
_MAX_UDP_PAYLOAD = 65535 - 20 - 8

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _checksum(data: bytes) -> int:
    """The Internet checksum (RFC 1071) of ``data``.

    The folded one's complement sum of 16-bit words equals the big-endian number
    ``data`` modulo 0xFFFF (as 2**16 = 1 mod 0xFFFF), with 0xFFFF for a non-zero
    multiple: one big-integer modulo instead of a Python loop (~2 us for a
    1,400-byte packet against ~20 us summing words).
    """
    if len(data) % 2:
        data += b"\0"
    number = int.from_bytes(data, "big")
    total = number % 0xFFFF
    if total == 0 and number:
        total = 0xFFFF
    return ~total & 0xFFFF


@functools.lru_cache(maxsize=256)  # a capture has a handful of distinct peers
def _address(text: str) -> IPAddress:
    """An IP address; IPv4-mapped IPv6 (a dual-stack socket's peer) becomes IPv4."""
    address = ipaddress.ip_address(text)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _as_ipv6(address: IPAddress) -> ipaddress.IPv6Address:
    if isinstance(address, ipaddress.IPv4Address):
        return ipaddress.IPv6Address(f"::ffff:{address}")
    return address


def _udp_header(
    pseudo_header: bytes, src_port: int, dst_port: int, payload: bytes
) -> bytes:
    udp_len = _UDP_HEADER.size + len(payload)
    unsummed = _UDP_HEADER.pack(src_port, dst_port, udp_len, 0)
    checksum = _checksum(pseudo_header + unsummed + payload) or 0xFFFF  # 0 = "none"
    return _UDP_HEADER.pack(src_port, dst_port, udp_len, checksum)


def _ipv6_frame(
    src_ip: ipaddress.IPv6Address,
    dst_ip: ipaddress.IPv6Address,
    src_port: int,
    dst_port: int,
    payload: bytes,
) -> bytes:
    udp_len = _UDP_HEADER.size + len(payload)
    pseudo_header = src_ip.packed + dst_ip.packed
    pseudo_header += struct.pack("!I3xB", udp_len, _IP_PROTO_UDP)
    ip_header = _IPV6_HEADER.pack(
        6 << 28, udp_len, _IP_PROTO_UDP, _HOP_LIMIT, src_ip.packed, dst_ip.packed
    )
    udp_header = _udp_header(pseudo_header, src_port, dst_port, payload)
    ethernet = _ZERO_MACS + struct.pack("!H", _ETHERTYPE_IPV6)
    return ethernet + ip_header + udp_header + payload


class PcapWriter:
    """Write UDP datagrams to a classic pcap file (Ethernet / IPv4 / UDP framing;
    IPv6 when an address is IPv6, as a listener on "::" sees).

    Microsecond timestamps, snap length 65,535, IP and UDP checksums filled in, so
    tcpdump and Wireshark read it without complaint. Use as a context manager.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._file: BinaryIO = self.path.open("wb")
        except OSError as error:
            raise CaptureError(
                f"cannot write capture {self.path}: {error.strerror}"
            ) from None
        self._identification = 0
        self.datagrams_written = 0
        self._file.write(
            _PCAP_FILE_HEADER.pack(
                _PCAP_MAGIC_MICROSECONDS, 2, 4, 0, 0, _PCAP_SNAPLEN, _LINK_ETHERNET
            )
        )

    def write(
        self,
        timestamp_s: float,
        payload: bytes,
        src: Endpoint = ("127.0.0.1", F1_DEFAULT_PORT),
        dst: Endpoint = ("127.0.0.1", F1_DEFAULT_PORT),
    ) -> None:
        """Append one datagram captured at ``timestamp_s`` (Unix seconds). ``src`` and
        ``dst`` are (address, port); longer socket address tuples are accepted."""
        if len(payload) > _MAX_UDP_PAYLOAD:
            raise ValueError(f"UDP payload of {len(payload)} bytes does not fit IPv4")
        if timestamp_s < 0:
            raise ValueError(f"negative capture timestamp {timestamp_s}")
        src_ip, dst_ip = _address(src[0]), _address(dst[0])
        if isinstance(src_ip, ipaddress.IPv4Address) and isinstance(
            dst_ip, ipaddress.IPv4Address
        ):
            frame = self._ipv4_frame(src_ip, dst_ip, src[1], dst[1], payload)
        else:
            frame = _ipv6_frame(
                _as_ipv6(src_ip), _as_ipv6(dst_ip), src[1], dst[1], payload
            )
        seconds, microseconds = divmod(round(timestamp_s * 1_000_000), 1_000_000)
        self._file.write(
            _PCAP_RECORD_HEADER.pack(seconds, microseconds, len(frame), len(frame))
        )
        self._file.write(frame)
        self.datagrams_written += 1

    def _ipv4_frame(
        self,
        src_ip: ipaddress.IPv4Address,
        dst_ip: ipaddress.IPv4Address,
        src_port: int,
        dst_port: int,
        payload: bytes,
    ) -> bytes:
        udp_len = _UDP_HEADER.size + len(payload)
        pseudo_header = src_ip.packed + dst_ip.packed
        pseudo_header += struct.pack("!BBH", 0, _IP_PROTO_UDP, udp_len)
        fields = [
            0x45,  # version 4, 20-byte header
            0,
            20 + udp_len,
            self._identification,
            0x4000,  # don't fragment
            _HOP_LIMIT,
            _IP_PROTO_UDP,
            0,
            src_ip.packed,
            dst_ip.packed,
        ]
        fields[7] = _checksum(_IPV4_HEADER.pack(*fields))
        self._identification = (self._identification + 1) & 0xFFFF
        return (
            _ZERO_MACS
            + struct.pack("!H", _ETHERTYPE_IPV4)
            + _IPV4_HEADER.pack(*fields)
            + _udp_header(pseudo_header, src_port, dst_port, payload)
            + payload
        )

    def flush(self) -> None:
        """Push buffered records to the file (a recorder calls this now and then)."""
        self._file.flush()

    def close(self) -> None:
        """Flush and close the file."""
        self._file.close()

    def __enter__(self) -> PcapWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
