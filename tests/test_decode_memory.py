"""The decoder reuses memory between chunks and batches (a scratch buffer for the
datagrams of a chunk, pooled blocks for the columns): no decoded column may share
memory that a later chunk or batch writes to."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from f1dash_tui.telemetry.decode import DecodedBatch, Decoder
from f1dash_tui.telemetry.pcap import read_pcap


@pytest.fixture(scope="module")
def clip(melbourne_pcap: Path) -> list[bytes]:
    return [captured.payload for captured in read_pcap(melbourne_pcap)]


def _copy(batch: DecodedBatch) -> dict[str, dict[str, np.ndarray]]:
    return {
        kind: {name: values.copy() for name, values in table.items()}
        for kind, table in batch.tables.items()
    }


def _assert_same_tables(
    actual: dict[str, dict[str, np.ndarray]],
    expected: dict[str, dict[str, np.ndarray]],
) -> None:
    assert actual.keys() == expected.keys()
    for kind, table in expected.items():
        assert actual[kind].keys() == table.keys(), kind
        for name, values in table.items():
            got = actual[kind][name]
            assert got.dtype == values.dtype, (kind, name)
            if values.dtype.kind == "f":
                np.testing.assert_array_equal(got, values, err_msg=f"{kind}.{name}")
            else:
                assert got.tolist() == values.tolist(), (kind, name)


def test_a_kept_batch_is_not_overwritten_by_later_batches(clip: list[bytes]) -> None:
    kept = Decoder().decode(clip * 3)
    as_decoded = _copy(kept)
    # Later batches of other sizes and order reuse the scratch buffer and any
    # free column block; the kept batch's blocks must not count as free.
    for _ in range(3):
        Decoder().decode(clip[::-1])
        Decoder().decode(clip * 2)
    _assert_same_tables(kept.tables, as_decoded)


def test_a_repeated_stream_decodes_to_repeated_rows(clip: list[bytes]) -> None:
    """Clip x3 in one call spans several chunks per (format, id) group; each
    chunk's rows must be those of its own datagrams."""
    once = Decoder().decode(clip).tables
    thrice = Decoder().decode(clip * 3).tables
    expected = {}
    for kind, table in once.items():
        expected[kind] = {
            name: np.concatenate([values] * 3) for name, values in table.items()
        }
        index = table["datagram_index"]
        expected[kind]["datagram_index"] = np.concatenate(
            [index + repeat * len(clip) for repeat in range(3)]
        )
    _assert_same_tables(thrice, expected)


def test_bytearray_and_memoryview_datagrams_decode_like_bytes(
    clip: list[bytes],
) -> None:
    as_bytes = Decoder().decode(clip).tables
    # Sequence[bytes] in the signature; a caller may still hand over buffers.
    mixed: list[Any] = [
        bytearray(datagram) if index % 3 == 1 else datagram
        for index, datagram in enumerate(clip)
    ]
    mixed[5] = memoryview(clip[5])
    _assert_same_tables(Decoder().decode(mixed).tables, as_bytes)


def test_decoders_in_two_threads_keep_their_batches_apart(clip: list[bytes]) -> None:
    """Each thread copies into its own scratch memory; column blocks are shared
    through one pool, handed out under a lock only when no column refers to them."""
    expected = _copy(Decoder().decode(clip))
    kept: list[list[DecodedBatch]] = [[], []]

    def work(slot: int) -> None:
        for _ in range(4):
            kept[slot].append(Decoder().decode(clip))

    threads = [threading.Thread(target=work, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for batches in kept:
        assert len(batches) == 4
        for batch in batches:
            _assert_same_tables(batch.tables, expected)
