"""Packet ids, headers and the layout registry: (packetFormat, packetId) -> dtype.

Which layout a datagram has is decided by the header's packetFormat alone (the
first two bytes of every format), never by gameYear or the game version: F1 25 can
send 2023 or 2024 packets. The format modules under ``layouts/`` are imported on
first use; importing them only builds dtypes.
"""

from __future__ import annotations

import importlib
import logging
from enum import IntEnum
from functools import cache
from types import ModuleType

import numpy as np

logger = logging.getLogger(__name__)


class PacketId(IntEnum):
    """The header's packetId; the same numbering in every format."""

    MOTION = 0
    SESSION = 1
    LAP_DATA = 2
    EVENT = 3
    PARTICIPANTS = 4
    CAR_SETUPS = 5
    CAR_TELEMETRY = 6
    CAR_STATUS = 7
    FINAL_CLASSIFICATION = 8
    LOBBY_INFO = 9
    CAR_DAMAGE = 10
    SESSION_HISTORY = 11
    TYRE_SETS = 12
    MOTION_EX = 13
    TIME_TRIAL = 14
    LAP_POSITIONS = 15
    CAR_TELEMETRY_2 = 16


KIND_OF_PACKET: dict[int, str] = {
    PacketId.MOTION: "motion",
    PacketId.SESSION: "session",
    PacketId.LAP_DATA: "lap_data",
    PacketId.EVENT: "event",
    PacketId.PARTICIPANTS: "participants",
    PacketId.CAR_SETUPS: "car_setups",
    PacketId.CAR_TELEMETRY: "car_telemetry",
    PacketId.CAR_STATUS: "car_status",
    PacketId.FINAL_CLASSIFICATION: "final_classification",
    PacketId.LOBBY_INFO: "lobby_info",
    PacketId.CAR_DAMAGE: "car_damage",
    PacketId.SESSION_HISTORY: "session_history",
    PacketId.TYRE_SETS: "tyre_sets",
    PacketId.MOTION_EX: "motion_ex",
    PacketId.TIME_TRIAL: "time_trial",
    PacketId.LAP_POSITIONS: "lap_positions",
    PacketId.CAR_TELEMETRY_2: "car_telemetry_2",
}
"""packetId -> the decoded kind it (mainly) yields."""

PACKET_FORMATS: tuple[int, ...] = tuple(range(2018, 2027))
"""Every packetFormat the project knows: 2018 to 2026."""

PACKET_ID_OFFSETS: dict[int, int] = {
    2018: 3,  # packetFormat u16, packetVersion u8, packetId u8
    **{year: 5 for year in range(2019, 2023)},  # + game major/minor version
    **{year: 6 for year in range(2023, 2027)},  # + gameYear
}
"""Byte offset of packetId in the header, per packetFormat."""

HEADER_SIZES: dict[int, int] = {
    2018: 21,
    2019: 23,
    **{year: 24 for year in range(2020, 2023)},
    **{year: 29 for year in range(2023, 2027)},
}
"""Header size in bytes per packetFormat: no datagram shorter than this decodes."""


class UnknownLayoutError(KeyError):
    """No layout is known for a (packetFormat, packetId)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown layout"


@cache
def format_module(packet_format: int) -> ModuleType | None:
    """The ``layouts.fYYYY`` module of a packetFormat, or None if there is none."""
    if packet_format not in PACKET_FORMATS:
        return None
    name = f"f1dash_tui.telemetry.layouts.f{packet_format}"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name != name:
            raise
        logger.warning("no layout module for packetFormat %d", packet_format)
        return None


def layouts_of(packet_format: int) -> dict[int, np.dtype]:
    """packetId -> packet dtype for one format (empty for an unknown format)."""
    module = format_module(packet_format)
    return dict(module.LAYOUTS) if module is not None else {}


def layout_for(packet_format: int, packet_id: int) -> np.dtype:
    """The whole-packet dtype of a (packetFormat, packetId); UnknownLayoutError if
    the format or the id is unknown."""
    module = format_module(packet_format)
    if module is None or packet_id not in module.LAYOUTS:
        raise UnknownLayoutError(
            f"no layout for packetFormat {packet_format}, packetId {packet_id}"
        )
    return module.LAYOUTS[packet_id]


def header_dtype(packet_format: int) -> np.dtype:
    """The header dtype of a packetFormat; UnknownLayoutError if unknown."""
    module = format_module(packet_format)
    if module is None:
        raise UnknownLayoutError(f"no layout for packetFormat {packet_format}")
    return module.HEADER


def known_layouts() -> list[tuple[int, int]]:
    """Every (packetFormat, packetId) that has a layout module and entry."""
    return [
        (packet_format, packet_id)
        for packet_format in PACKET_FORMATS
        for packet_id in sorted(layouts_of(packet_format))
    ]


def peek_format_and_id(datagram: bytes) -> tuple[int, int] | None:
    """(packetFormat, packetId) of one datagram, or None if it is too short or
    its format is unknown."""
    if len(datagram) < 2:
        return None
    packet_format = int.from_bytes(datagram[:2], "little")
    offset = PACKET_ID_OFFSETS.get(packet_format)
    if offset is None or len(datagram) < HEADER_SIZES[packet_format]:
        return None
    return packet_format, datagram[offset]


def read_header(datagram: bytes) -> np.void:
    """The header of one datagram as a numpy record (fields as in ``layouts``).

    Raises UnknownLayoutError for an unknown format and ValueError if the
    datagram is shorter than its format's header.
    """
    if len(datagram) < 2:
        raise ValueError(f"datagram of {len(datagram)} bytes has no header")
    packet_format = int.from_bytes(datagram[:2], "little")
    header = header_dtype(packet_format)
    if len(datagram) < header.itemsize:
        raise ValueError(
            f"datagram of {len(datagram)} bytes is shorter than the "
            f"{header.itemsize}-byte header of packetFormat {packet_format}"
        )
    return np.frombuffer(datagram, dtype=header, count=1)[0]
