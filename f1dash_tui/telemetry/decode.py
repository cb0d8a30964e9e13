"""Batch decoding: many datagrams in, one set of column arrays per decoded kind out.

The work per datagram in Python is a length and a slice of a list; everything else
is numpy over the whole batch:

1. all datagrams are joined into one buffer; packetFormat (always the first two
   bytes) and packetId (at its per-format offset) are read for all of them at once;
2. datagrams are grouped by (packetFormat, packetId) and their sizes checked
   against the layout (``packets.layout_for``);
3. each group is read with ``np.frombuffer`` as an array of whole packets and
   normalised by its format's normaliser (``layouts.common``) into the columns
   of ``telemetry.columns`` -- one row per car per packet for per-car packets,
   one row per lap for Session History -- plus the header columns and
   ``datagram_index``, the position of the source datagram in the input.

Nothing a datagram contains raises out of ``Decoder.decode``: a datagram that
cannot be decoded is counted in ``Decoder.bad[(packet_format, packet_id, reason)]``
and skipped. Reasons: ``truncated`` (shorter than its format's header; format or
id -1 when not even those bytes are there), ``unknown_format``, ``unknown_id``,
``wrong_size`` (not the size of its layout), ``normalise_error`` (a bug in a
normaliser: logged with its traceback, the whole group skipped).

NaN and infinite floats are kept, not counted: a NaN is one value of one car, and
skipping the packet for it would drop the other 23 cars' data. The columns use NaN
for "not sent" anyway, so readers already handle it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import ModuleType

import numpy as np

from f1dash_tui.telemetry import packets
from f1dash_tui.telemetry.columns import HEADER_COLUMNS, TABLES, Column
from f1dash_tui.telemetry.layouts.common import (
    DEFAULT_NORMALISERS,
    EXTRA_TABLES,
    Normaliser,
    Rows,
    default_header_columns,
)

logger = logging.getLogger(__name__)

BadKey = tuple[int, int, str]

COLUMNS_OF_KIND: dict[str, tuple[Column, ...]] = {
    kind: HEADER_COLUMNS + body for kind, body in {**TABLES, **EXTRA_TABLES}.items()
}
"""Every decoded kind -> its columns (header first), without ``datagram_index``."""

_FIRST_FORMAT = packets.PACKET_FORMATS[0]
_ID_OFFSET_BY_FORMAT = np.array(
    [packets.PACKET_ID_OFFSETS[year] for year in packets.PACKET_FORMATS], np.int64
)
_HEADER_SIZE_BY_FORMAT = np.array(
    [packets.HEADER_SIZES[year] for year in packets.PACKET_FORMATS], np.int64
)


@dataclass
class DecodedBatch:
    """The columns decoded from one batch of datagrams.

    ``tables[kind][column]`` are numpy arrays of equal length per kind, ordered by
    ``datagram_index`` (then by car or lap within a packet).
    """

    tables: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    num_datagrams: int = 0
    num_decoded: int = 0

    def num_rows(self, kind: str) -> int:
        """Rows decoded for ``kind`` (0 if none)."""
        table = self.tables.get(kind)
        return len(table["datagram_index"]) if table else 0


@dataclass(frozen=True)
class _Layout:
    dtype: np.dtype
    normalise: Normaliser
    header_columns: Callable[[np.ndarray], dict[str, np.ndarray]]


class Decoder:
    """Decodes batches of datagrams of any known packetFormat into columns.

    ``bad`` counts skipped datagrams by (packetFormat, packetId, reason) and
    ``decoded`` the decoded ones by (packetFormat, packetId); both accumulate over
    calls. A Decoder is not thread-safe; use one per thread.
    """

    def __init__(self) -> None:
        self.bad: Counter[BadKey] = Counter()
        self.decoded: Counter[tuple[int, int]] = Counter()
        self._layouts: dict[tuple[int, int], _Layout | None] = {}

    def decode(self, datagrams: Sequence[bytes]) -> DecodedBatch:
        """Decode ``datagrams`` (each one UDP payload) into a DecodedBatch."""
        count = len(datagrams)
        batch = DecodedBatch(num_datagrams=count)
        if count == 0:
            return batch
        lengths = np.fromiter(map(len, datagrams), dtype=np.int64, count=count)
        data = np.frombuffer(b"".join(datagrams), dtype=np.uint8)
        starts = np.cumsum(lengths) - lengths

        formats = np.full(count, -1, dtype=np.int64)
        has_format = lengths >= 2
        first = starts[has_format]
        formats[has_format] = data[first].astype(np.int64) | (
            data[first + 1].astype(np.int64) << 8
        )
        ids = np.full(count, -1, dtype=np.int64)
        known = (formats >= _FIRST_FORMAT) & (
            formats < _FIRST_FORMAT + len(packets.PACKET_FORMATS)
        )
        format_slot = formats[known] - _FIRST_FORMAT
        id_offsets = _ID_OFFSET_BY_FORMAT[format_slot]
        header_sizes = _HEADER_SIZE_BY_FORMAT[format_slot]
        known_lengths = lengths[known]
        id_readable = known_lengths > id_offsets
        known_index = np.flatnonzero(known)
        ids[known_index[id_readable]] = data[
            starts[known_index[id_readable]] + id_offsets[id_readable]
        ]

        self._count_bad(formats, ids, ~has_format, "truncated")
        self._count_bad(formats, ids, has_format & ~known, "unknown_format")
        truncated = np.zeros(count, dtype=bool)
        truncated[known_index[known_lengths < header_sizes]] = True
        self._count_bad(formats, ids, truncated, "truncated")

        candidates = np.flatnonzero(known & ~truncated)
        keys = formats[candidates] * 256 + ids[candidates]
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        boundaries = np.flatnonzero(np.diff(sorted_keys)) + 1
        pieces: dict[str, list[dict[str, np.ndarray]]] = {}
        with np.errstate(all="ignore"):
            for group in np.split(np.arange(len(order)), boundaries):
                if len(group) == 0:
                    continue
                key = int(sorted_keys[group[0]])
                indices = candidates[order[group]]
                decoded = self._decode_group(
                    key // 256, key % 256, indices, lengths, datagrams
                )
                batch.num_decoded += decoded[1]
                for kind, columns in decoded[0].items():
                    pieces.setdefault(kind, []).append(columns)
        batch.tables = {kind: _concatenate(parts) for kind, parts in pieces.items()}
        return batch

    def _count_bad(
        self, formats: np.ndarray, ids: np.ndarray, mask: np.ndarray, reason: str
    ) -> None:
        if not mask.any():
            return
        pairs = Counter(zip(formats[mask].tolist(), ids[mask].tolist(), strict=True))
        for (packet_format, packet_id), number in pairs.items():
            self.bad[(packet_format, packet_id, reason)] += number

    def _layout(self, packet_format: int, packet_id: int) -> _Layout | None:
        key = (packet_format, packet_id)
        if key not in self._layouts:
            self._layouts[key] = _find_layout(packet_format, packet_id)
        return self._layouts[key]

    def _decode_group(
        self,
        packet_format: int,
        packet_id: int,
        indices: np.ndarray,
        lengths: np.ndarray,
        datagrams: Sequence[bytes],
    ) -> tuple[dict[str, dict[str, np.ndarray]], int]:
        """Decode the datagrams at ``indices``, all of one (format, id)."""
        layout = self._layout(packet_format, packet_id)
        if layout is None:
            reason = (
                "unknown_format"
                if packets.format_module(packet_format) is None
                else "unknown_id"
            )
            self.bad[(packet_format, packet_id, reason)] += len(indices)
            return {}, 0
        right_size = lengths[indices] == layout.dtype.itemsize
        if not right_size.all():
            self.bad[(packet_format, packet_id, "wrong_size")] += int(
                (~right_size).sum()
            )
            indices = indices[right_size]
            if len(indices) == 0:
                return {}, 0
        joined = b"".join([datagrams[i] for i in indices.tolist()])
        records = np.frombuffer(joined, dtype=layout.dtype)
        try:
            kinds = layout.normalise(records)
            header = layout.header_columns(records["header"])
            tables = {
                kind: _with_header(kind, rows, header, indices)
                for kind, rows in kinds.items()
            }
        except Exception:
            logger.exception(
                "normalising packetFormat %d packetId %d failed; %d packets skipped",
                packet_format,
                packet_id,
                len(indices),
            )
            self.bad[(packet_format, packet_id, "normalise_error")] += len(indices)
            return {}, 0
        self.decoded[(packet_format, packet_id)] += len(indices)
        return tables, len(indices)


def _find_layout(packet_format: int, packet_id: int) -> _Layout | None:
    module = packets.format_module(packet_format)
    if module is None or packet_id not in module.LAYOUTS:
        return None
    normalise = _normaliser(module, packet_id)
    if normalise is None:
        return None
    header_columns = getattr(module, "normalise_header", default_header_columns)
    return _Layout(module.LAYOUTS[packet_id], normalise, header_columns)


def _normaliser(module: ModuleType, packet_id: int) -> Normaliser | None:
    overrides = getattr(module, "NORMALISERS", {})
    if packet_id in overrides:
        return overrides[packet_id]
    return DEFAULT_NORMALISERS.get(packet_id)


def _with_header(
    kind: str,
    rows: Rows,
    header: dict[str, np.ndarray],
    datagram_indices: np.ndarray,
) -> dict[str, np.ndarray]:
    """The body columns of ``rows`` plus header columns and ``datagram_index``,
    each cast to its contract dtype; columns the format lacks filled."""
    packet_row = rows.packet_row
    size = len(packet_row)
    out: dict[str, np.ndarray] = {}
    for column in COLUMNS_OF_KIND[kind]:
        values = header.get(column.name)
        if values is not None:
            values = values[packet_row]
        else:
            values = rows.columns.get(column.name)
        out[column.name] = _as_column(values, column, size)
    out["datagram_index"] = datagram_indices[packet_row].astype(np.int64)
    return out


def _as_column(values: np.ndarray | None, column: Column, size: int) -> np.ndarray:
    dtype = column.numpy_dtype
    if values is None:
        if dtype.kind == "f":
            return np.full(size, np.nan, dtype=dtype)
        if dtype.kind == "O":
            return np.full(size, "", dtype=object)
        return np.full(size, -1, dtype=dtype)
    return np.asarray(values).astype(dtype, copy=False)


def _concatenate(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """One table from the pieces of several (format, id) groups, in input order."""
    if len(parts) == 1:
        return parts[0]
    table = {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}
    order = np.argsort(table["datagram_index"], kind="stable")
    return {name: values[order] for name, values in table.items()}
