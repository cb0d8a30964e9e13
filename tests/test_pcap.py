"""pcap/pcapng reading and pcap writing: on the real captures, on files made by dpkt or
by hand from the pcapng specification, and checked with tcpdump when installed."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import dpkt
import pytest

from f1dash_tui.errors import CaptureError
from f1dash_tui.telemetry.pcap import (
    CapturedDatagram,
    CaptureStats,
    PcapWriter,
    read_pcap,
)

F1_PORT = 20777

# SOURCES.md: sizes of the 2026 packets by packetId (8, 9 and 14 are not listed).
SIZES_2026 = {0: 1325, 1: 926, 2: 1399, 3: 45, 4: 1470, 5: 1233, 6: 1448, 7: 1445}
SIZES_2026 |= {10: 1133, 11: 1460, 12: 231, 13: 273, 15: 1231, 16: 269}
PACKET_ID_OFFSET_2023_ON = 6  # format u16, year, major, minor, version u8, then id


def packet_format(payload: bytes) -> int:
    """The header's first field, uint16 little-endian in every year."""
    return int(struct.unpack_from("<H", payload)[0])


def test_melbourne_clip_holds_7124_datagrams_to_20777(melbourne_pcap: Path) -> None:
    stats = CaptureStats()
    datagrams = list(read_pcap(melbourne_pcap, udp_port=F1_PORT, stats=stats))
    assert len(datagrams) == 7124
    assert stats.frames == 7124 and stats.skipped == 0
    assert {d.dst for d in datagrams} == {("127.0.0.1", F1_PORT)}
    assert {packet_format(d.payload) for d in datagrams} == {2026}
    packet_ids = [d.payload[PACKET_ID_OFFSET_2023_ON] for d in datagrams]
    assert set(packet_ids) == set(SIZES_2026)  # no classification, lobby, time trial
    for packet_id, datagram in zip(packet_ids, datagrams, strict=True):
        if packet_id in SIZES_2026:
            assert len(datagram.payload) == SIZES_2026[packet_id]
    # About 21 s of session time (82-103 s), stamped from a fixed origin.
    stamps = [d.timestamp_s for d in datagrams]
    assert stamps == sorted(stamps)
    assert 19.0 < stamps[-1] - stamps[0] < 23.0


def test_bundled_clip_equals_shared_stream(
    melbourne_pcap: Path, f1_udp_dir: Path
) -> None:
    shared = f1_udp_dir / "streams" / "f1-25-2026pack-melbourne-race-22cars.pcap"
    bundled = [(d.timestamp_s, d.payload) for d in read_pcap(melbourne_pcap)]
    assert bundled == [(d.timestamp_s, d.payload) for d in read_pcap(shared)]


@pytest.mark.parametrize("year", [2018, 2019, 2020, 2021, 2022])
def test_sample_streams_carry_their_packet_format(f1_udp_dir: Path, year: int) -> None:
    stats = CaptureStats()
    path = f1_udp_dir / "streams" / f"samples-{year}.pcap"
    datagrams = list(read_pcap(path, udp_port=F1_PORT, stats=stats))
    assert 9 <= len(datagrams) <= 17  # SOURCES.md: "a handful (9-17)"
    assert stats.skipped == 0
    assert {packet_format(d.payload) for d in datagrams} == {year}


def test_write_then_read_keeps_payloads_stamps_and_endpoints(tmp_path: Path) -> None:
    path = tmp_path / "round.pcap"
    # Fractions next to a second boundary are where rounding to microseconds can
    # overflow into a seventh digit; 1_788_000_082 s is a 2026 Unix time.
    written = [
        (1_788_000_082.000001, b"\x00", ("127.0.0.1", 50000), ("127.0.0.1", F1_PORT)),
        (
            1_788_000_082.9999996,
            b"x" * 1470,
            ("10.0.0.7", 61234),
            ("10.0.0.2", F1_PORT),
        ),
        (1_788_000_083.5, bytes(range(256)) * 5, ("192.168.1.20", 1), ("1.2.3.4", 2)),
        (0.25, b"", ("127.0.0.1", F1_PORT), ("127.0.0.1", F1_PORT)),
    ]
    with PcapWriter(path) as writer:
        for stamp, payload, src, dst in written:
            writer.write(stamp, payload, src=src, dst=dst)
        writer.write(12.0, b"default endpoints")
    read = list(read_pcap(path))
    assert len(read) == 5
    for datagram, (stamp, payload, src, dst) in zip(read[:4], written, strict=True):
        assert datagram.payload == payload
        assert datagram.src == src and datagram.dst == dst
        assert round(datagram.timestamp_s * 1e6) == round(stamp * 1e6)
    assert read[4] == CapturedDatagram(
        12.0, b"default endpoints", ("127.0.0.1", F1_PORT), ("127.0.0.1", F1_PORT)
    )
    assert read[1].timestamp_s == pytest.approx(1_788_000_083.0, abs=1e-6)


def test_ipv6_endpoints_round_trip(tmp_path: Path) -> None:
    # A listener bound to "::" sees IPv6 peers, and IPv4 peers as "::ffff:a.b.c.d".
    path = tmp_path / "v6.pcap"
    with PcapWriter(path) as writer:
        writer.write(1.0, b"v6", src=("fe80::1", 5000), dst=("::1", F1_PORT))
        writer.write(2.0, b"v4", src=("::ffff:10.0.0.3", 5001), dst=("10.0.0.2", 9))
        writer.write(3.0, b"sockaddr", src=("::1", 7, 0, 0), dst=("::1", F1_PORT, 0, 0))
    read = [(d.payload, d.src, d.dst) for d in read_pcap(path)]
    assert read == [
        (b"v6", ("fe80::1", 5000), ("::1", F1_PORT)),
        (b"v4", ("10.0.0.3", 5001), ("10.0.0.2", 9)),
        (b"sockaddr", ("::1", 7), ("::1", F1_PORT)),
    ]


def test_written_file_is_read_by_dpkt_as_ethernet_ipv4_udp(tmp_path: Path) -> None:
    path = tmp_path / "framing.pcap"
    with PcapWriter(path) as writer:
        writer.write(100.5, b"F1", src=("10.1.2.3", 5000), dst=("10.9.8.7", F1_PORT))
        for size in range(1, 40):  # odd and even lengths, carries in the sum
            writer.write(101.0, bytes([0xFF]) * size, dst=("10.9.8.7", F1_PORT))
    with path.open("rb") as capture_file:
        reader = dpkt.pcap.Reader(capture_file)
        assert reader.datalink() == dpkt.pcap.DLT_EN10MB
        (stamp, frame), *more = list(reader)
    for _, other in more:
        other_ip = dpkt.ethernet.Ethernet(other).data
        other_udp = bytes(other_ip)[20:]
        pseudo = (
            other_ip.src + other_ip.dst + struct.pack("!BBH", 0, 17, len(other_udp))
        )
        assert dpkt.in_cksum(pseudo + other_udp) == 0
        assert dpkt.in_cksum(bytes(other_ip)[:20]) == 0
    ip = dpkt.ethernet.Ethernet(frame).data
    assert isinstance(ip, dpkt.ip.IP)
    header = bytes(ip)[:20]
    assert sum(struct.unpack("!10H", header)) % 0xFFFF == 0  # valid header checksum
    assert (ip.src, ip.dst) == (bytes([10, 1, 2, 3]), bytes([10, 9, 8, 7]))
    assert (ip.data.sport, ip.data.dport, ip.data.data) == (5000, F1_PORT, b"F1")
    # The UDP checksum over the IPv4 pseudo-header and the datagram verifies (0).
    udp = bytes(ip)[20:]
    pseudo_header = ip.src + ip.dst + struct.pack("!BBH", 0, 17, len(udp))
    assert ip.data.sum != 0 and dpkt.in_cksum(pseudo_header + udp) == 0
    assert stamp == 100.5


def _pcapng_block(block_type: int, body: bytes) -> bytes:
    body += bytes(-len(body) % 4)
    total = 12 + len(body)
    return struct.pack("<II", block_type, total) + body + struct.pack("<I", total)


def _sll_frame(ip_packet: bytes) -> bytes:
    # Linux cooked header: packet type 0 (to us), ARPHRD_LOOPBACK 772, address length
    # 6, 8 address bytes, protocol 0x0800.
    return struct.pack("!HHH8sH", 0, 772, 6, bytes(8), 0x0800) + ip_packet


def test_pcapng_written_by_hand_from_the_spec_reads_the_same(
    tmp_path: Path, melbourne_pcap: Path
) -> None:
    """Section header, one Linux-cooked interface with nanosecond stamps, and
    Enhanced Packet Blocks built from the pcapng draft's field tables."""
    originals = list(read_pcap(melbourne_pcap))[:300]
    blocks = [
        _pcapng_block(
            0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
        ),  # SHB, length unknown
        _pcapng_block(
            1,
            struct.pack("<HHI", 113, 0, 65535)
            + struct.pack("<HHB", 9, 1, 9)  # if_tsresol = 10^-9
            + bytes(3)
            + struct.pack("<HH", 0, 0),  # opt_endofopt
        ),
    ]
    for datagram in originals:
        ip = dpkt.ip.IP(
            src=bytes([127, 0, 0, 1]),
            dst=bytes([127, 0, 0, 1]),
            p=dpkt.ip.IP_PROTO_UDP,
            data=_udp(datagram.src[1], F1_PORT, datagram.payload),
        )
        frame = _sll_frame(bytes(ip))
        stamp_ns = round(datagram.timestamp_s * 1e6) * 1000
        blocks.append(
            _pcapng_block(
                6,
                struct.pack(
                    "<IIIII",
                    0,
                    stamp_ns >> 32,
                    stamp_ns & 0xFFFFFFFF,
                    len(frame),
                    len(frame),
                )
                + frame,
            )
        )
    path = tmp_path / "hand.pcapng"
    path.write_bytes(b"".join(blocks))
    read = list(read_pcap(path, udp_port=F1_PORT))
    assert [d.payload for d in read] == [d.payload for d in originals]
    assert [round(d.timestamp_s * 1e6) for d in read] == [
        round(d.timestamp_s * 1e6) for d in originals
    ]


def test_pcapng_written_by_dpkt_reads_the_same(
    tmp_path: Path, melbourne_pcap: Path
) -> None:
    path = tmp_path / "dpkt.pcapng"
    with melbourne_pcap.open("rb") as source, path.open("wb") as target:
        writer = dpkt.pcapng.Writer(target, snaplen=65535)
        for stamp, frame in dpkt.pcap.Reader(source):
            writer.writepkt(frame, ts=stamp)
    from_pcapng = [(d.payload, d.src, d.dst) for d in read_pcap(path)]
    assert len(from_pcapng) == 7124
    assert from_pcapng == [(d.payload, d.src, d.dst) for d in read_pcap(melbourne_pcap)]


def _udp(sport: int, dport: int, data: bytes) -> dpkt.udp.UDP:
    # dpkt leaves the UDP length at 8 unless told.
    return dpkt.udp.UDP(sport=sport, dport=dport, ulen=8 + len(data), data=data)


def _ethernet(payload: dpkt.Packet, ethertype: int) -> bytes:
    return bytes(
        dpkt.ethernet.Ethernet(
            src=b"\x02\x00\x00\x00\x00\x01",
            dst=b"\x02\x00\x00\x00\x00\x02",
            type=ethertype,
            data=payload,
        )
    )


def _ipv4_udp(sport: int, dport: int, data: bytes, **ip_fields: int) -> dpkt.ip.IP:
    return dpkt.ip.IP(
        src=bytes([192, 168, 0, 10]),
        dst=bytes([192, 168, 0, 20]),
        p=dpkt.ip.IP_PROTO_UDP,
        data=_udp(sport, dport, data),
        **ip_fields,
    )


def test_only_f1_datagrams_are_kept_from_mixed_traffic(tmp_path: Path) -> None:
    f1_payloads = [b"\xe6\x07" + bytes([i]) * 40 for i in range(3)]
    tcp = dpkt.ip.IP(
        src=bytes(4),
        dst=bytes(4),
        p=dpkt.ip.IP_PROTO_TCP,
        data=dpkt.tcp.TCP(sport=20777, dport=20777, data=b"not udp"),
    )
    arp = dpkt.arp.ARP(sha=b"\x02" * 6, spa=bytes(4), tha=bytes(6), tpa=bytes(4))
    ipv6_udp = dpkt.ip6.IP6(
        src=bytes(15) + b"\x01",
        dst=bytes(15) + b"\x01",
        nxt=dpkt.ip.IP_PROTO_UDP,
        hlim=64,
        data=_udp(40000, F1_PORT, f1_payloads[2]),
    )
    ipv6_udp.plen = len(bytes(ipv6_udp.data))
    frames = [
        _ethernet(arp, dpkt.ethernet.ETH_TYPE_ARP),
        _ethernet(_ipv4_udp(40000, F1_PORT, f1_payloads[0]), 0x0800),
        _ethernet(tcp, 0x0800),
        _ethernet(_ipv4_udp(5353, 5353, b"mdns"), 0x0800),
        _ethernet(_ipv4_udp(40000, 53, b"dns"), 0x0800),
        # A first fragment (more-fragments flag set) of a datagram to the F1 port.
        _ethernet(_ipv4_udp(40000, F1_PORT, b"a" * 64, mf=1), 0x0800),
        # 802.1Q VLAN tag in front of IPv4.
        b"\x02" * 12
        + struct.pack("!HHH", 0x8100, 7, 0x0800)
        + bytes(_ipv4_udp(40000, F1_PORT, f1_payloads[1])),
        _ethernet(ipv6_udp, dpkt.ethernet.ETH_TYPE_IP6),
    ]
    path = tmp_path / "mixed.pcap"
    with path.open("wb") as capture_file:
        writer = dpkt.pcap.Writer(capture_file, snaplen=65535)
        for number, frame in enumerate(frames):
            writer.writepkt(frame, ts=1000.0 + number)
    stats = CaptureStats()
    kept = list(read_pcap(path, udp_port=F1_PORT, stats=stats))
    assert [d.payload for d in kept] == f1_payloads
    assert [d.timestamp_s for d in kept] == [1001.0, 1006.0, 1007.0]
    assert kept[0].src == ("192.168.0.10", 40000)
    assert kept[2].dst == ("::1", F1_PORT)
    assert (stats.frames, stats.datagrams, stats.non_udp) == (8, 3, 2)
    assert (stats.other_port, stats.fragments, stats.truncated) == (2, 1, 0)
    # Without a port filter every UDP datagram is kept.
    assert len(list(read_pcap(path))) == 5


def test_ethernet_padding_is_not_part_of_the_payload(tmp_path: Path) -> None:
    # A 3-byte payload makes a 45-byte frame; Ethernet pads frames to 60 bytes.
    frame = _ethernet(_ipv4_udp(1, F1_PORT, b"abc"), 0x0800) + bytes(15)
    path = tmp_path / "padded.pcap"
    with path.open("wb") as capture_file:
        dpkt.pcap.Writer(capture_file).writepkt(frame, ts=1.0)
    assert [d.payload for d in read_pcap(path)] == [b"abc"]


@pytest.mark.parametrize(
    ("link_type", "prefix"),
    [
        (dpkt.pcap.DLT_RAW, b""),
        (dpkt.pcap.DLT_NULL, struct.pack("<I", 2)),  # AF_INET, little-endian host
        (108, struct.pack("!I", 2)),  # DLT_LOOP, network order
        (113, _sll_frame(b"")),
        # LINUX_SLL2: protocol, reserved, interface index, ARPHRD, type, address.
        (276, struct.pack("!HHIHBB8s", 0x0800, 0, 1, 772, 0, 6, bytes(8))),
    ],
)
def test_other_link_types(tmp_path: Path, link_type: int, prefix: bytes) -> None:
    path = tmp_path / f"link{link_type}.pcap"
    with path.open("wb") as capture_file:
        writer = dpkt.pcap.Writer(capture_file, linktype=link_type)
        writer.writepkt(prefix + bytes(_ipv4_udp(9, F1_PORT, b"payload")), ts=5.0)
        writer.writepkt(prefix + bytes(_ipv4_udp(9, 53, b"dns")), ts=6.0)
    assert [d.payload for d in read_pcap(path, udp_port=F1_PORT)] == [b"payload"]


def test_truncated_file_yields_the_whole_records_and_counts_the_cut(
    tmp_path: Path, melbourne_pcap: Path
) -> None:
    data = melbourne_pcap.read_bytes()
    whole = list(read_pcap(melbourne_pcap))
    # Cut 100 bytes into the 11th record's frame; then 5 bytes into its header.
    record_start = 24 + sum(16 + 42 + len(d.payload) for d in whole[:10])
    for cut, expect_truncated in ((record_start + 16 + 100, 1), (record_start + 5, 1)):
        path = tmp_path / f"cut{cut}.pcap"
        path.write_bytes(data[:cut])
        stats = CaptureStats()
        read = list(read_pcap(path, stats=stats))
        assert [d.payload for d in read] == [d.payload for d in whole[:10]]
        assert stats.truncated == expect_truncated
        assert stats.datagrams == 10
        assert stats.ends_inside_record
        assert stats.data_loss() == (
            "the file ends inside a record after 10 datagrams (it was cut short)"
        )


def test_truncated_pcapng_block_is_counted(
    tmp_path: Path, melbourne_pcap: Path
) -> None:
    path = tmp_path / "whole.pcapng"
    with melbourne_pcap.open("rb") as source, path.open("wb") as target:
        writer = dpkt.pcapng.Writer(target, snaplen=65535)
        for number, (stamp, frame) in enumerate(dpkt.pcap.Reader(source)):
            if number == 20:
                break
            writer.writepkt(frame, ts=stamp)
    cut = tmp_path / "cut.pcapng"
    cut.write_bytes(path.read_bytes()[:-700])
    stats = CaptureStats()
    read = list(read_pcap(cut, stats=stats))
    assert len(read) == 19 and stats.truncated == 1


def test_snap_length_cut_frame_is_counted_not_returned(tmp_path: Path) -> None:
    path = tmp_path / "snap.pcap"
    full = _ethernet(_ipv4_udp(1, F1_PORT, b"z" * 200), 0x0800)
    with path.open("wb") as capture_file:
        writer = dpkt.pcap.Writer(capture_file, snaplen=96)
        writer.writepkt(full[:96], ts=1.0)  # what tcpdump -s 96 stores
        writer.writepkt(full, ts=2.0)
        writer.writepkt(full[:30], ts=3.0)  # cut inside the IP header
    stats = CaptureStats()
    assert [d.timestamp_s for d in read_pcap(path, stats=stats)] == [2.0]
    assert stats.truncated == 2
    assert not stats.ends_inside_record
    assert stats.data_loss() == "2 frames were cut short by the capture's snap length"


def test_a_whole_capture_reports_no_loss(melbourne_pcap: Path) -> None:
    stats = CaptureStats()
    assert sum(1 for _ in read_pcap(melbourne_pcap, stats=stats)) == 7124
    assert stats.data_loss() is None


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"timestamp,speed\n1,200\n", "not a pcap or pcapng capture"),
        (b"", "is empty"),
        (b"\xd4\xc3\xb2\xa1\x02\x00", "broken pcap file header"),
        (b"\x0a\x0d\x0d\x0a\x1c\x00\x00\x00\x99\x99", "broken pcapng file header"),
    ],
)
def test_not_a_capture_raises_one_line_capture_error(
    tmp_path: Path, content: bytes, words: str
) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    with pytest.raises(CaptureError) as raised:
        read_pcap(path)
    message = str(raised.value)
    assert words in message and str(path) in message and "\n" not in message


def test_missing_file_raises_capture_error(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="not found"):
        read_pcap(tmp_path / "absent.pcap")


def test_unsupported_link_type_raises_capture_error(tmp_path: Path) -> None:
    path = tmp_path / "wifi.pcap"
    with path.open("wb") as capture_file:
        dpkt.pcap.Writer(capture_file, linktype=127)  # 802.11 radiotap
    with pytest.raises(CaptureError, match="link type 127"):
        read_pcap(path)


def test_writer_refuses_unwritable_path(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="cannot write"):
        PcapWriter(tmp_path / "no-such-dir" / "out.pcap")


@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump not installed")
def test_tcpdump_reads_what_the_writer_wrote(
    tmp_path: Path, melbourne_pcap: Path
) -> None:
    originals = list(read_pcap(melbourne_pcap))[:50]
    path = tmp_path / "for-tcpdump.pcap"
    with PcapWriter(path) as writer:
        for datagram in originals:
            writer.write(
                datagram.timestamp_s, datagram.payload, src=("10.0.0.5", 50000)
            )
    result = subprocess.run(
        ["tcpdump", "-r", str(path), "-n", "-tt", "-vv", "udp", "port", str(F1_PORT)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    lines = [line for line in result.stdout.splitlines() if "10.0.0.5.50000" in line]
    assert len(lines) == 50
    assert "bad" not in result.stdout  # IPv4 header and UDP checksums both valid
    assert result.stdout.count("[udp sum ok]") == 50
    headers = [line for line in result.stdout.splitlines() if " IP (" in line]
    for header, datagram in zip(headers, originals, strict=True):
        stamp = header.split()[0]
        assert stamp == f"{datagram.timestamp_s:.6f}"
    for line, datagram in zip(lines, originals, strict=True):
        assert line.strip().endswith(f"UDP, length {len(datagram.payload)}")


@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump not installed")
def test_tcpdump_reads_ipv6_and_odd_length_datagrams(tmp_path: Path) -> None:
    path = tmp_path / "v6.pcap"
    with PcapWriter(path) as writer:
        writer.write(1.5, b"odd", src=("::1", 5000), dst=("::1", F1_PORT))
        writer.write(2.5, b"mapped", src=("::ffff:10.0.0.3", 5001), dst=("fe80::1", 9))
    result = subprocess.run(
        ["tcpdump", "-r", str(path), "-n", "-vv"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert result.stdout.count("[udp sum ok]") == 2
    assert "::1.5000 > ::1.20777" in result.stdout


@pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump not installed")
def test_tcpdump_counts_the_same_datagrams(melbourne_pcap: Path) -> None:
    result = subprocess.run(
        ["tcpdump", "-r", str(melbourne_pcap), "-n", "udp", "dst", "port", "20777"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert len(result.stdout.splitlines()) == 7124
