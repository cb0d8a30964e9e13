"""Batch decoding: many datagrams in, one set of column arrays per decoded kind out.

The work per datagram in Python is its length and its first 8 bytes (both read
in C over the whole list); everything else is numpy over the whole batch:

1. packetFormat (always the first two bytes) and packetId (at its per-format
   offset) are read from those 8-byte prefixes for all datagrams at once;
2. datagrams are grouped by (packetFormat, packetId) and their sizes checked
   against the layout (``packets.layout_for``);
3. each group, 2 MiB at a time, is copied into per-thread scratch memory, read
   as an array of whole packets and normalised by its format's normaliser
   (``layouts.common``) into the columns of ``telemetry.columns`` -- one row per
   car per packet for per-car packets, one row per lap for Session History --
   plus the header columns and ``datagram_index``, the position of the source
   datagram in the input. Per-car tables are written straight into columns cut
   from pooled huge-page blocks (``_ColumnArena``).

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
import operator
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from types import ModuleType

import numpy as np

from f1dash_tui.telemetry import packets
from f1dash_tui.telemetry.columns import HEADER_COLUMNS, TABLES, Column
from f1dash_tui.telemetry.layouts.common import (
    DEFAULT_NORMALISERS,
    EXTRA_TABLES,
    ColumnValues,
    Computed,
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


def _column_specs(kind: str) -> tuple[tuple[str, np.dtype, object], ...]:
    """(name, dtype, value where not sent) of every column of a kind, plus
    ``datagram_index``: computed once, not per column per chunk."""
    specs = [
        (column.name, column.numpy_dtype, _missing_value(column))
        for column in COLUMNS_OF_KIND[kind]
    ]
    return (*specs, ("datagram_index", np.dtype(np.int64), -1))


_PREFIX_SIZE = 8
"""Bytes read from every datagram to find its packetFormat and packetId."""
_CHUNK_BYTES = 2 * 1024 * 1024
"""Bytes of packets normalised at a time, so that ~30 strided column passes per
kind read from cache: 2 MiB holds a whole group of the 1,000-packet clip, which
decoded in 10 ms CPU against 15 ms with 512 KiB chunks (more Python per chunk);
the 20x stream was equal within noise from 512 KiB to 2 MiB, and 16 MiB halved
its rate."""
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
    ``datagram_index`` (then by car or lap within a packet); only kinds with rows
    are present.
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
        # Only the first bytes of each datagram are needed to group them (8
        # bytes hold packetId in every format), zero-padded where a datagram is
        # shorter. Lengths are read per group below, just before the group's
        # data is copied: a pass over all datagrams for them up front cost the
        # clip ~0.5 ms, as every datagram object was out of cache by then.
        prefix = _prefixes(datagrams, count)
        formats = prefix[:, 0].astype(np.int64) | (prefix[:, 1].astype(np.int64) << 8)
        # Known formats (0x07E2..) have a non-zero second byte, so a datagram
        # with a known format is at least 2 bytes long: padding cannot fake one.
        known = (formats >= _FIRST_FORMAT) & (
            formats < _FIRST_FORMAT + len(packets.PACKET_FORMATS)
        )
        if not known.all():
            self._count_unknown_formats(datagrams, np.flatnonzero(~known), formats)
        candidates = np.flatnonzero(known)
        # The packetId byte may be padding for a datagram shorter than its
        # header; _decode_group counts those as truncated with packetId -1.
        id_offsets = _ID_OFFSET_BY_FORMAT[formats[candidates] - _FIRST_FORMAT]
        keys = formats[candidates] * 256 + prefix[candidates, id_offsets]
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        boundaries = np.flatnonzero(np.diff(sorted_keys)) + 1
        pieces: dict[str, list[dict[str, np.ndarray]]] = {}
        arena = _ColumnArena()
        with np.errstate(all="ignore"):
            for group in np.split(np.arange(len(order)), boundaries):
                if len(group) == 0:
                    continue
                key = int(sorted_keys[group[0]])
                indices = candidates[order[group]]
                for kind, columns in self._decode_group(
                    key // 256, key % 256, indices, datagrams, batch, arena
                ):
                    pieces.setdefault(kind, []).append(columns)
        tables = {kind: _concatenate(parts) for kind, parts in pieces.items()}
        # A packet may yield no rows (Session History of a car with no laps yet).
        batch.tables = {
            kind: table
            for kind, table in tables.items()
            if len(table["datagram_index"])
        }
        return batch

    def _count_unknown_formats(
        self, datagrams: Sequence[bytes], indices: np.ndarray, formats: np.ndarray
    ) -> None:
        """Count datagrams of no known packetFormat: ``truncated`` (format and id
        -1) if shorter than the 2 bytes of a packetFormat, else unknown_format."""
        lengths = _lengths(_pick(datagrams, indices))
        short = lengths < 2
        if short.any():
            self.bad[(-1, -1, "truncated")] += int(short.sum())
        for packet_format, number in Counter(formats[indices[~short]].tolist()).items():
            self.bad[(packet_format, -1, "unknown_format")] += number

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
        datagrams: Sequence[bytes],
        batch: DecodedBatch,
        arena: _ColumnArena,
    ) -> Iterator[tuple[str, dict[str, np.ndarray]]]:
        """Decode the datagrams at ``indices``, all of one (format, id) by their
        zero-padded prefixes, yielding (kind, columns) for each kind it feeds."""
        picked = _pick(datagrams, indices)
        lengths = _lengths(picked)
        truncated = lengths < _HEADER_SIZE_BY_FORMAT[packet_format - _FIRST_FORMAT]
        if truncated.any():
            id_offset = _ID_OFFSET_BY_FORMAT[packet_format - _FIRST_FORMAT]
            no_id = lengths[truncated] <= id_offset  # its packetId byte was padding
            if no_id.any():
                self.bad[(packet_format, -1, "truncated")] += int(no_id.sum())
            if not no_id.all():
                self.bad[(packet_format, packet_id, "truncated")] += int((~no_id).sum())
        layout = self._layout(packet_format, packet_id)
        if layout is None:
            reason = (
                "unknown_format"
                if packets.format_module(packet_format) is None
                else "unknown_id"
            )
            if not truncated.all():
                self.bad[(packet_format, packet_id, reason)] += int((~truncated).sum())
            return
        size = layout.dtype.itemsize
        right_size = lengths == size
        if not right_size.all():
            wrong_size = int((~right_size & ~truncated).sum())
            if wrong_size:
                self.bad[(packet_format, packet_id, "wrong_size")] += wrong_size
            indices = indices[right_size]
            if len(indices) == 0:
                return
            picked = _pick(datagrams, indices)
        tables: dict[str, _Table] = {}
        # Copy and normalise a cache-sized chunk at a time: every column is a
        # strided pass over the packets (~100 per packet kind), and the chunk is
        # copied into the same scratch buffer each time, so it stays in cache and
        # in mapped pages. Joining a whole group into fresh memory cost ~185 MB
        # (~45,000 page faults) per call in the 20x bench.
        chunk = max(1, _CHUNK_BYTES // size)
        for first in range(0, len(indices), chunk):
            chunk_indices = indices[first : first + chunk]
            records = _records(picked[first : first + chunk], layout.dtype)
            try:
                kinds = layout.normalise(records)
                header = layout.header_columns(records["header"])
                # Per packet like the header, so it is broadcast to rows with it.
                header["datagram_index"] = chunk_indices
                for kind, rows in kinds.items():
                    if kind not in tables:
                        tables[kind] = _Table(
                            kind, rows.rows_per_packet, len(indices), arena
                        )
                    tables[kind].add(rows, header, chunk_indices)
            except Exception:
                logger.exception(
                    "normalising packetFormat %d packetId %d failed; %d packets "
                    "skipped",
                    packet_format,
                    packet_id,
                    len(chunk_indices),
                )
                self.bad[(packet_format, packet_id, "normalise_error")] += len(
                    chunk_indices
                )
                continue
            self.decoded[(packet_format, packet_id)] += len(chunk_indices)
            batch.num_decoded += len(chunk_indices)
        for kind, table in tables.items():
            yield kind, table.finish()


class _Scratch(threading.local):
    """Per-thread memory the datagrams of one chunk are copied into.

    Per thread and not per Decoder: a new Decoder per batch (as the bench makes)
    would otherwise map 2 MiB afresh each time, ~500 page faults, which cost
    more than the copy (measured on the clip: 2.7 ms against 2.1 ms for
    ``b"".join``, and 0.7 ms with the memory reused).
    """

    def __init__(self) -> None:
        self.memory = np.empty(0, np.uint8)


_SCRATCH = _Scratch()


def _records(picked: Sequence[bytes], dtype: np.dtype) -> np.ndarray:
    """``picked`` datagrams (all ``dtype.itemsize`` long) as an array of ``dtype``
    records in this thread's scratch memory, which the next call overwrites:
    nothing read from it may outlive the chunk without a copy."""
    count, size = len(picked), dtype.itemsize
    if len(_SCRATCH.memory) < count * size:
        _SCRATCH.memory = np.empty(max(count * size, _CHUNK_BYTES), np.uint8)
    memory = _SCRATCH.memory[: count * size]
    try:
        # numpy copies each bytes object into its fixed-size slot in C: 0.7 ms
        # for the clip, against 2.1 ms for b"".join into fresh memory.
        memory.view(f"S{size}")[...] = picked
    except ValueError:
        # numpy reads bytearray and memoryview items as sequences of ints.
        logger.debug("datagrams are not all bytes; joining them")
        memory[...] = np.frombuffer(b"".join(picked), np.uint8)
    return memory.view(dtype)


def _pick(datagrams: Sequence[bytes], indices: np.ndarray) -> Sequence[bytes]:
    """The datagrams at ``indices``, in that order."""
    if len(indices) == 1:
        return [datagrams[int(indices[0])]]
    # itemgetter gathers in C: half the time of a list comprehension.
    return operator.itemgetter(*indices.tolist())(datagrams)


def _lengths(picked: Sequence[bytes]) -> np.ndarray:
    return np.fromiter(map(len, picked), dtype=np.int64, count=len(picked))


def _prefixes(datagrams: Sequence[bytes], count: int) -> np.ndarray:
    """The first ``_PREFIX_SIZE`` bytes of every datagram, zero-padded, as a
    (count, _PREFIX_SIZE) uint8 array."""
    prefix_dtype = np.dtype(f"S{_PREFIX_SIZE}")
    try:
        # numpy truncates each bytes object to 8 bytes in C: 4 ms for the 20x
        # bench's 142,480 datagrams, against 16 ms to slice and join them.
        fixed = np.fromiter(datagrams, dtype=prefix_dtype, count=count)
    except ValueError:
        # numpy reads bytearray and memoryview items as sequences of ints.
        logger.debug("datagrams are not all bytes; slicing their prefixes")
        fixed = np.array(
            [bytes(datagram[:_PREFIX_SIZE]) for datagram in datagrams],
            dtype=prefix_dtype,
        )
    return fixed.view(np.uint8).reshape(count, _PREFIX_SIZE)


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


class _Table:
    """The rows of one decoded kind from one (format, id) group, chunk by chunk.

    Kinds with a fixed number of rows per packet (per-car tables) are written
    straight into (packets, rows per packet) arrays allocated once for the whole
    group: no temporary per column and no concatenation (the 20x bench spent half
    its time there).
    """

    def __init__(
        self, kind: str, rows_per_packet: int, packet_count: int, arena: _ColumnArena
    ) -> None:
        self.kind = kind
        self.rows_per_packet = rows_per_packet
        self.packet_count = packet_count
        self.filled = 0  # packets written
        self.parts: list[dict[str, np.ndarray]] = []
        self.out: dict[str, np.ndarray] = {}
        if rows_per_packet > 0:
            self.out = arena.columns(kind, (packet_count, rows_per_packet))

    def add(
        self, rows: Rows, header: dict[str, np.ndarray], datagram_indices: np.ndarray
    ) -> None:
        """Append the rows of one chunk of packets."""
        if self.rows_per_packet <= 0:
            self.parts.append(_with_header(self.kind, rows, header, datagram_indices))
            return
        if rows.rows_per_packet != self.rows_per_packet:
            raise ValueError(
                f"{self.kind}: {rows.rows_per_packet} rows per packet, "
                f"expected {self.rows_per_packet}"
            )
        count, per_packet = len(datagram_indices), self.rows_per_packet
        start, stop = self.filled, self.filled + count
        whole = count == self.packet_count  # one chunk: no slicing per column
        body = rows.columns
        for name, missing in _WRITTEN_COLUMNS[self.kind]:
            target = self.out[name] if whole else self.out[name][start:stop]
            header_values = header.get(name)
            if header_values is not None:
                target[...] = header_values[:, None]
                continue
            values = body.get(name)
            if values is None:
                target[...] = missing
            elif isinstance(values, Computed):
                if values.dtype == target.dtype:
                    values.fill(target.reshape(values.shape))
                else:
                    target[...] = values.evaluate().reshape(count, per_packet)
            elif values.ndim == 2:
                target[...] = values
            else:
                target[...] = values.reshape(count, per_packet)
        self.filled = stop

    def finish(self) -> dict[str, np.ndarray]:
        """The table: every column the same length, in input order."""
        if self.rows_per_packet > 0:
            if self.filled == self.packet_count:
                return {name: values.reshape(-1) for name, values in self.out.items()}
            return {
                name: values[: self.filled].reshape(-1)
                for name, values in self.out.items()
            }
        if not self.parts:
            return {
                name: np.empty(0, dtype) for name, dtype, _ in _COLUMN_SPECS[self.kind]
            }
        return _concatenate(self.parts)


class _ColumnArena:
    """Memory for the per-car tables of one ``decode`` call: columns are carved
    out of 8 MiB blocks that the kernel maps with huge pages, and the blocks of
    earlier batches are reused once none of their columns is referenced.

    Why: the 20x bench writes 288 MB of columns per call. One array per column
    (most under 4 MiB: 480,000 rows x 4 bytes) was mapped 4 KiB at a time,
    ~76,000 page faults, half of that bench's time; numpy asks for huge pages
    for arrays of 4 MiB or more, which cut the faults to ~900 per call. What
    remained was the kernel zeroing every new page (27% of the 20x bench, ~20%
    of the clip's 14 MB), which reusing a free block avoids (``_BlockPool``).

    A table under ``_ARENA_MIN_TABLE_BYTES`` (a live batch of a few hundred
    datagrams) gets ordinary arrays, so that it does not hold a whole block.
    """

    def __init__(self) -> None:
        self._block = np.empty(0, np.uint8)
        self._used = self._end = 0

    def columns(self, kind: str, shape: tuple[int, int]) -> dict[str, np.ndarray]:
        """Empty (packets, rows per packet) arrays for every column of ``kind``."""
        rows = shape[0] * shape[1]
        specs = _COLUMN_SPECS[kind]
        if rows * _ROW_BYTES[kind] < _ARENA_MIN_TABLE_BYTES:
            return {name: np.empty(shape, dtype) for name, dtype, _ in specs}
        columns = {}
        for name, dtype, _ in specs:
            if dtype.hasobject:  # Python objects cannot live in a block of bytes
                columns[name] = np.empty(shape, dtype)
                continue
            block, offset = self._take(rows * dtype.itemsize)
            columns[name] = np.ndarray(shape, dtype, buffer=block, offset=offset)
        return columns

    def _take(self, size: int) -> tuple[np.ndarray, int]:
        """(block, offset) of ``size`` free bytes, offset on a cache line."""
        if size > _BLOCK_BYTES:
            block = _new_block(size)
            return block, _huge_page_start(block)
        if self._used + size > self._end:
            self._block = _POOL.take()
            self._used = _huge_page_start(self._block)
            self._end = self._used + _BLOCK_BYTES
        offset = self._used
        self._used += -(-size // _COLUMN_ALIGNMENT) * _COLUMN_ALIGNMENT
        return self._block, offset


class _BlockPool:
    """Up to ``_POOL_BLOCKS`` blocks, handed out again once free.

    A block is free when nothing but the pool refers to it: every column cut
    from it holds a reference (its ``base``), and so does an arena still
    cutting from it. Reference counts are exact in CPython and change under the
    GIL, so a block seen free under the lock has no user left to write to it.
    32 MiB is kept at most: the clip's 14 MB of columns, or a few live batches
    in flight between decoder and store writer.
    """

    def __init__(self) -> None:
        self._blocks: list[np.ndarray] = []
        self._lock = threading.Lock()

    def take(self) -> np.ndarray:
        """A free block (``_BLOCK_BYTES`` from its huge page start)."""
        with self._lock:
            for index in range(len(self._blocks)):
                # References: the list's and getrefcount's argument.
                if sys.getrefcount(self._blocks[index]) == 2:
                    return self._blocks[index]
            block = _new_block(_BLOCK_BYTES)
            if len(self._blocks) < _POOL_BLOCKS:
                self._blocks.append(block)
            return block


def _new_block(size: int) -> np.ndarray:
    """An array owning ``size`` bytes from a huge page boundary on (see
    ``_huge_page_start``); the array itself, not a view, because a column
    made from a view refers to the owner, which is what the pool counts."""
    return np.empty(size + _HUGE_PAGE_BYTES, np.uint8)


def _huge_page_start(block: np.ndarray) -> int:
    """Offset of the first huge page boundary in ``block``: the kernel maps a
    2 MiB page only where the whole aligned 2 MiB lies inside the range numpy
    madvised, and numpy does that for arrays of 4 MiB or more."""
    return -block.ctypes.data % _HUGE_PAGE_BYTES


_COLUMN_ALIGNMENT = 64
"""Bytes: every column of a block starts on a cache line."""
_HUGE_PAGE_BYTES = 2 * 1024 * 1024
_BLOCK_BYTES = 8 * 1024 * 1024
"""The clip's 14 MB of per-car tables take two; a larger column (over a million
rows of 8 bytes) gets a block of its own, not pooled."""
_POOL_BLOCKS = 4
_ARENA_MIN_TABLE_BYTES = 1024 * 1024
_POOL = _BlockPool()


def _missing_value(column: Column) -> object:
    """What a column holds where the format does not send it."""
    kind = column.numpy_dtype.kind
    return np.nan if kind == "f" else "" if kind == "O" else -1


def _with_header(
    kind: str,
    rows: Rows,
    header: dict[str, np.ndarray],
    datagram_indices: np.ndarray,
) -> dict[str, np.ndarray]:
    """The body columns of ``rows`` plus header columns and ``datagram_index``,
    each cast to its contract dtype; columns the format lacks filled."""
    packet_row = rows.packet_row
    size = packet_row.size  # (n, rows per packet) from per_car_rows, or flat

    def per_row(values: np.ndarray) -> np.ndarray:
        if rows.rows_per_packet > 0:
            return np.repeat(values, rows.rows_per_packet)
        return values[packet_row].reshape(-1)

    out: dict[str, np.ndarray] = {}
    for column in COLUMNS_OF_KIND[kind]:
        header_values = header.get(column.name)
        values: ColumnValues | None
        if header_values is not None:
            values = per_row(np.asarray(header_values, dtype=column.numpy_dtype))
        else:
            values = rows.columns.get(column.name)
        out[column.name] = _as_column(values, column, size)
    out["datagram_index"] = per_row(datagram_indices.astype(np.int64))
    return out


def _as_column(values: ColumnValues | None, column: Column, size: int) -> np.ndarray:
    dtype = column.numpy_dtype
    if values is None:
        return np.full(size, _missing_value(column), dtype=dtype)
    if isinstance(values, Computed):  # new memory: cast, no copy
        return np.asarray(values.evaluate(), dtype=dtype).reshape(-1)
    # Per-car values arrive as (packets, cars) views: one contiguous copy in the
    # column dtype, then flattened packet-major. Always a copy, because a view
    # would read the decoder's scratch buffer after the next chunk overwrote it.
    return np.array(values, dtype=dtype, order="C").reshape(-1)


def _concatenate(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """One table from the pieces of several (format, id) groups, in input order."""
    if len(parts) == 1:
        return parts[0]
    table = {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}
    datagram_index = table["datagram_index"]
    if np.all(datagram_index[1:] >= datagram_index[:-1]):
        return table  # chunks of one group: already in input order
    order = np.argsort(datagram_index, kind="stable")
    return {name: values[order] for name, values in table.items()}


_COLUMN_SPECS = {kind: _column_specs(kind) for kind in COLUMNS_OF_KIND}
_WRITTEN_COLUMNS = {
    kind: tuple((name, missing) for name, _, missing in specs)
    for kind, specs in _COLUMN_SPECS.items()
}
"""Kind -> (name, value where not sent) of the columns ``_Table.add`` writes."""
_ROW_BYTES = {
    kind: sum(dtype.itemsize for _, dtype, _ in specs)
    for kind, specs in _COLUMN_SPECS.items()
}
"""Kind -> bytes per row over all its columns."""
