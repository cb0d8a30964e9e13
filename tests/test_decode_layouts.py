"""Layouts 2023-2026: sizes pinned to SOURCES.md, the registry's conventions, and
build -> decode round trips for every layout of every format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from f1dash_tui.telemetry import build, packets
from f1dash_tui.telemetry.columns import HEADER_COLUMNS, TABLES
from f1dash_tui.telemetry.decode import COLUMNS_OF_KIND, Decoder
from f1dash_tui.telemetry.layouts.common import EXTRA_TABLES, car_array

MY_FORMATS = (2023, 2024, 2025, 2026)
NUM_CARS = {2023: 22, 2024: 22, 2025: 22, 2026: 24}
# SOURCES.md leaves these 2026 sizes open ("?"); data/spec.h of f1-packets 2026.1.1
# states them in its section titles: Final Classification 1134, Lobby Info 1062,
# Time Trial 104 bytes.
SPEC_H_2026_SIZES = {8: 1134, 9: 1062, 14: 104}
PER_CAR_IDS = (0, 2, 4, 5, 6, 7, 8, 9, 10, 16)


def sources_size_table(f1_udp_dir: Path) -> dict[tuple[int, int], int]:
    """(packetFormat, packetId) -> bytes, read from the table in SOURCES.md."""
    lines = (f1_udp_dir / "SOURCES.md").read_text().splitlines()
    start = lines.index("## Packet sizes (bytes) by packetFormat and packetId")
    header = next(line for line in lines[start:] if line.startswith("| id |"))
    years = [int(cell) for cell in header.strip("|").split("|")[2:]]
    sizes: dict[tuple[int, int], int] = {}
    for line in lines[start:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not cells[0].isdigit():
            continue
        for year, cell in zip(years, cells[2:], strict=True):
            if cell.isdigit():
                sizes[(year, int(cells[0]))] = int(cell)
    return sizes


def test_sizes_2023_to_2026_are_the_sources_table(f1_udp_dir: Path) -> None:
    table = sources_size_table(f1_udp_dir)
    assert table[(2026, 16)] == 269 and table[(2023, 13)] == 217  # parse worked
    for packet_format in MY_FORMATS:
        expected = {pid: n for (fmt, pid), n in table.items() if fmt == packet_format}
        if packet_format == 2026:
            expected.update(SPEC_H_2026_SIZES)
        layouts = packets.layouts_of(packet_format)
        assert set(layouts) == set(expected), packet_format
        for packet_id, size in expected.items():
            assert layouts[packet_id].itemsize == size, (packet_format, packet_id)


def test_every_format_of_the_sources_table_has_its_layouts(f1_udp_dir: Path) -> None:
    """All nine formats (D2's 2018-2022 included) are registered at these sizes."""
    for (packet_format, packet_id), size in sources_size_table(f1_udp_dir).items():
        assert packets.layout_for(packet_format, packet_id).itemsize == size


@pytest.mark.parametrize("packet_format", MY_FORMATS)
def test_header_and_car_arrays(packet_format: int) -> None:
    for packet_id, dtype in packets.layouts_of(packet_format).items():
        assert dtype.names[0] == "header"
        assert dtype.fields["header"][1] == 0
        assert dtype["header"].itemsize == 29
        header = dtype["header"]
        assert header.fields["packet_format"][1] == 0
        assert header.fields["packet_id"][1] == 6
        assert header.fields["session_uid"][1] == 7
        assert header.fields["player_car_index"][1] == 27
        if packet_id in PER_CAR_IDS:
            cars = car_array(np.zeros(1, dtype))
            assert cars.shape == (1, NUM_CARS[packet_format]), packet_id
        assert all(leaf.byteorder != ">" for leaf in _leaves(dtype))


def _leaves(dtype: np.dtype) -> list[np.dtype]:
    """Every primitive dtype inside a structured dtype."""
    if dtype.subdtype is not None:
        return _leaves(dtype.subdtype[0])
    if dtype.names is None:
        return [dtype]
    return [leaf for name in dtype.names for leaf in _leaves(dtype[name])]


def test_packet_id_offset_matches_header_layout() -> None:
    for packet_format in packets.PACKET_FORMATS:
        header = packets.header_dtype(packet_format)
        assert header.fields["packet_id"][1] == packets.PACKET_ID_OFFSETS[packet_format]
        assert header.itemsize == packets.HEADER_SIZES[packet_format]


def test_layout_for_unknown_raises_typed_error() -> None:
    with pytest.raises(packets.UnknownLayoutError, match="2017"):
        packets.layout_for(2017, 0)
    with pytest.raises(packets.UnknownLayoutError, match="packetId 16"):
        packets.layout_for(2025, 16)


def test_kinds_have_columns() -> None:
    for kind in packets.KIND_OF_PACKET.values():
        assert kind in TABLES or kind in EXTRA_TABLES
        names = [column.name for column in COLUMNS_OF_KIND[kind]]
        assert names[: len(HEADER_COLUMNS)] == [c.name for c in HEADER_COLUMNS]
        assert len(set(names)) == len(names)


def _random_packets(packet_format: int, packet_id: int, count: int) -> np.ndarray:
    """``count`` packets with random bytes but finite floats and a real header."""
    rng = np.random.default_rng(packet_format * 100 + packet_id)
    dtype = packets.layout_for(packet_format, packet_id)
    raw = rng.integers(0, 256, size=count * dtype.itemsize, dtype=np.uint8)
    records = raw.view(dtype).copy()

    def finite(values: np.ndarray) -> None:
        for name in values.dtype.names or ():
            field = values[name]
            if field.dtype.names is not None:
                finite(field)
            elif field.dtype.kind == "f":
                field[...] = rng.uniform(-1000, 1000, size=field.shape)

    finite(records)
    records["header"]["packet_format"] = packet_format
    records["header"]["packet_id"] = packet_id
    records["header"]["frame_identifier"] = np.arange(count) + 1000
    records["header"]["player_car_index"] = np.arange(count) % 24
    return records


@pytest.mark.parametrize(
    ("packet_format", "packet_id"),
    [key for key in packets.known_layouts()],
)
def test_round_trip_every_layout(packet_format: int, packet_id: int) -> None:
    """Random packets of every layout decode, keep their header values and give
    the expected number of rows with every column of their kind."""
    records = _random_packets(packet_format, packet_id, 5)
    if packet_id == 3:  # events: give each a real code
        codes = [b"FTLP", b"PENA", b"SPTP", b"FLBK", b"BUTN"]
        records["event_string_code"] = codes
    datagrams = build.to_datagrams(records)
    decoder = Decoder()
    batch = decoder.decode(datagrams)
    assert not decoder.bad
    assert batch.num_decoded == 5
    assert batch.tables, "no kind decoded"
    for kind, table in batch.tables.items():
        expected = [column.name for column in COLUMNS_OF_KIND[kind]]
        assert list(table)[: len(expected)] == expected
        lengths = {len(values) for values in table.values()}
        assert len(lengths) == 1, kind
        index = table["datagram_index"]
        assert np.all(np.diff(index) >= 0)
        header = records["header"][index]
        assert np.array_equal(table["packet_format"], header["packet_format"])
        assert np.array_equal(table["session_uid"], header["session_uid"].view("i8"))
        assert np.array_equal(
            table["session_time_s"], header["session_time"].astype(np.float64)
        )
        assert np.array_equal(table["frame"], header["frame_identifier"])
        assert np.array_equal(table["player_car_index"], header["player_car_index"])
        for column in COLUMNS_OF_KIND[kind]:
            assert table[column.name].dtype == column.numpy_dtype, column.name


@pytest.mark.parametrize("packet_format", MY_FORMATS)
def test_per_car_kinds_have_a_row_per_car_slot(packet_format: int) -> None:
    cars = NUM_CARS[packet_format]
    per_car = {0: "motion", 2: "lap_data", 4: "participants", 5: "car_setups"}
    per_car |= {6: "car_telemetry", 7: "car_status", 8: "final_classification"}
    per_car |= {9: "lobby_info", 10: "car_damage"}
    for packet_id, kind in per_car.items():
        datagrams = build.to_datagrams(_random_packets(packet_format, packet_id, 3))
        table = Decoder().decode(datagrams).tables[kind]
        assert len(table["car_index"]) == 3 * cars
        assert table["car_index"].tolist() == list(range(cars)) * 3
        assert table["datagram_index"].tolist() == sorted([0, 1, 2] * cars)


def test_build_packet_fields_by_dict_and_dotted_key() -> None:
    speeds = np.arange(24) * 10
    raw = build.build_packet(
        2026,
        packets.PacketId.CAR_TELEMETRY,
        header={"session_uid": 2**63 + 5, "session_time": 12.5},
        car_telemetry_data={"speed": speeds, "gear": 3},
        **{"car_telemetry_data.throttle": 0.5, "suggested_gear": -1},
    )
    assert len(raw) == 1448
    record = np.frombuffer(raw, packets.layout_for(2026, 6))[0]
    assert record["header"]["packet_format"] == 2026
    assert record["header"]["packet_id"] == 6
    assert record["header"]["session_uid"] == 2**63 + 5
    assert record["car_telemetry_data"]["speed"].tolist() == speeds.tolist()
    assert set(record["car_telemetry_data"]["gear"].tolist()) == {3}
    assert set(record["car_telemetry_data"]["throttle"].tolist()) == {0.5}
    assert record["suggested_gear"] == -1


def test_build_packet_unknown_field_names_the_field() -> None:
    with pytest.raises(KeyError, match=r"car_telemetry_data\.sped"):
        build.build_packet(2026, 6, **{"car_telemetry_data.sped": 1})
    with pytest.raises(KeyError, match="no_such_field"):
        build.build_packet(2024, 1, no_such_field=1)


def test_read_header_and_peek_use_packet_format_not_game_year(f1_udp_dir: Path) -> None:
    raw = (f1_udp_dir / "packets" / "gamesdat" / "2024" / "packet-2.bin").read_bytes()
    assert raw[2] == 25  # gameYear of F1 25, yet the layout is 2024's
    header = packets.read_header(raw)
    assert header["packet_format"] == 2024 and header["packet_id"] == 2
    assert header["game_year"] == 25
    assert packets.peek_format_and_id(raw) == (2024, 2)
    assert packets.peek_format_and_id(raw[:20]) is None  # shorter than the header
    assert packets.peek_format_and_id(b"\x00\x00" + raw[2:]) is None  # format 0
    with pytest.raises(ValueError, match="shorter than the 29-byte header"):
        packets.read_header(raw[:28])
    with pytest.raises(packets.UnknownLayoutError):
        packets.read_header(b"\x00\x00" + raw[2:])
