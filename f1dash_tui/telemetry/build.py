"""Build packets from the same dtypes the decoder reads (for tests and the simulator).

``build_packet(2026, PacketId.CAR_TELEMETRY, header={"session_uid": 7},
car_telemetry_data={"speed": speeds})`` gives the bytes of one packet: zeros, with
the header's packetFormat and packetId set, then the given fields filled.

Naming fields: a keyword is a top-level field of the layout (``header``,
``car_telemetry_data``, ``num_active_cars``); a dict value fills the fields it names
inside a struct, recursively; a dotted key (``**{"header.session_uid": 7}``) names a
nested field directly. A value for a per-car array broadcasts like numpy: a scalar
sets every car, a sequence of 24 sets each. ``str`` values for text fields are
encoded as UTF-8. An unknown field name raises KeyError naming the layout.

For many packets at once (the simulator), ``empty_packets`` gives a zeroed numpy
array of packets to fill column-wise and ``to_datagrams`` turns it into bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from f1dash_tui.telemetry.packets import layout_for


def empty_packets(packet_format: int, packet_id: int, count: int) -> np.ndarray:
    """``count`` zeroed packets of a layout with packetFormat and packetId set."""
    packets = np.zeros(count, dtype=layout_for(packet_format, packet_id))
    header_fields = packets.dtype["header"].names or ()
    packets["header"]["packet_format"] = packet_format
    packets["header"]["packet_id"] = packet_id
    if "packet_version" in header_fields:
        packets["header"]["packet_version"] = 1
    return packets


def to_datagrams(packets: np.ndarray) -> list[bytes]:
    """One ``bytes`` datagram per packet of a packet array."""
    raw = packets.tobytes()
    size = packets.dtype.itemsize
    return [raw[start : start + size] for start in range(0, len(raw), size)]


def build_packet(packet_format: int, packet_id: int, **field_values: Any) -> bytes:
    """The bytes of one packet of (packet_format, packet_id) with fields filled."""
    packets = empty_packets(packet_format, packet_id, 1)
    fill(packets, field_values)
    return packets.tobytes()


def fill(target: np.ndarray, field_values: Mapping[str, Any]) -> None:
    """Assign ``field_values`` (dicts nest, dotted keys reach inside) in place."""
    for key, value in field_values.items():
        view = target
        path = key.split(".")
        for name in path:
            names = view.dtype.names or ()
            if name not in names:
                raise KeyError(
                    f"no field {key!r} (at {name!r}) in layout with fields {names}"
                )
            view = view[name]
        if isinstance(value, Mapping):
            fill(view, value)
        else:
            view[...] = _encoded(value, view.dtype)


def _encoded(value: Any, dtype: np.dtype) -> Any:
    if dtype.kind == "S":
        if isinstance(value, str):
            return value.encode("utf-8")
        if isinstance(value, (list, tuple)):
            return [v.encode("utf-8") if isinstance(v, str) else v for v in value]
    return value
