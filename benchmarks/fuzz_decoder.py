"""Does anything a datagram contains escape ``Decoder.decode`` as an exception?

Mutates every real packet in ../shared/data/f1-udp (the raw payloads under packets/
and every datagram of the pcaps under streams/) and decodes the mutants in batches,
as ingest does. Mutations: bit flips, truncation, extension, every integer field of
the layout set to its minimum or maximum (counts, indices, the header's
playerCarIndex ...), header bytes set to 0x00/0xff, a random (packetFormat, packetId)
stamped on a real body, floats set to NaN/inf, two packets spliced, and pure random
bytes. Prints the datagrams decoded, the exceptions that escaped (goal 0), the rows
that break the column contract (goal 0), and ``Decoder.bad`` by reason.

    python benchmarks/fuzz_decoder.py [--datagrams 1000000] [--seed 1] [--batch 500]

``tests/test_fuzz_decoder.py`` runs a bounded, seeded version of ``fuzz``.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from f1dash_tui.telemetry import packets
from f1dash_tui.telemetry.decode import COLUMNS_OF_KIND, DecodedBatch, Decoder
from f1dash_tui.telemetry.pcap import read_pcap

DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
DEFAULT_DATA_DIR = DEFAULT_DATA_DIR / "f1-udp"

CARS_PER_FORMAT = {
    **{year: 20 for year in (2018, 2019)},
    **{year: 22 for year in range(2020, 2026)},
    2026: 24,
}
"""Cars per array, from SOURCES.md."""

CAR_INDEX_FROM_PACKET_FIELD = frozenset(
    {"motion_ex", "session_history", "tyre_sets", "time_trial"}
)
"""Kinds whose car_index is a value the packet sends (playerCarIndex, carIdx), not
the row's array slot: the decoder passes it on (255 = spectating) and never indexes
an array with it."""

INTEGER_EXTREMES_PER_PACKET = 3
"""Integer fields set to an extreme per header/field mutation."""


def real_datagrams(data_dir: Path) -> list[bytes]:
    """Every real payload: packets/**/*.bin and every UDP datagram of streams/*.pcap."""
    datagrams = [
        path.read_bytes() for path in sorted(data_dir.glob("packets/**/*.bin"))
    ]
    for capture in sorted(data_dir.glob("streams/*.pcap")):
        datagrams.extend(datagram.payload for datagram in read_pcap(capture))
    return datagrams


@dataclass(frozen=True)
class _Fields:
    """Byte offsets of a layout's scalar fields, by kind of value."""

    integers: tuple[tuple[int, np.dtype], ...]
    floats: tuple[tuple[int, np.dtype], ...]


def _flatten(dtype: np.dtype, base: int, out: list[tuple[int, np.dtype]]) -> None:
    if dtype.names:
        for name in dtype.names:
            field_dtype, offset = dtype.fields[name][:2]  # type: ignore[index]
            _flatten(field_dtype, base + offset, out)
    elif dtype.subdtype is not None:
        item, shape = dtype.subdtype
        for position in range(int(np.prod(shape))):
            _flatten(item, base + position * item.itemsize, out)
    else:
        out.append((base, dtype))


_FIELDS_CACHE: dict[tuple[int, int], _Fields | None] = {}


def _fields(datagram: bytes) -> _Fields | None:
    key = packets.peek_format_and_id(datagram)
    if key is None:
        return None
    if key not in _FIELDS_CACHE:
        try:
            dtype = packets.layout_for(*key)
        except packets.UnknownLayoutError:
            _FIELDS_CACHE[key] = None
        else:
            scalars: list[tuple[int, np.dtype]] = []
            _flatten(dtype, 0, scalars)
            _FIELDS_CACHE[key] = _Fields(
                tuple(s for s in scalars if s[1].kind in "iu"),
                tuple(s for s in scalars if s[1].kind == "f"),
            )
    return _FIELDS_CACHE[key]


def _set(raw: bytearray, offset: int, dtype: np.dtype, value: object) -> None:
    if offset + dtype.itemsize <= len(raw):
        raw[offset : offset + dtype.itemsize] = np.array(value, dtype).tobytes()


def bit_flips(rng: random.Random, datagram: bytes) -> bytes:
    raw = bytearray(datagram)
    for _ in range(rng.choice((1, 1, 2, 8, 64))):
        if raw:
            position = rng.randrange(len(raw))
            raw[position] ^= 1 << rng.randrange(8)
    return bytes(raw)


def truncate(rng: random.Random, datagram: bytes) -> bytes:
    return datagram[: rng.randrange(len(datagram))] if datagram else datagram


def extend(rng: random.Random, datagram: bytes) -> bytes:
    extra = rng.choice((1, 2, 4, 24, 1024, 65_000 - len(datagram)))
    return datagram + rng.randbytes(max(1, extra))


def integer_extremes(rng: random.Random, datagram: bytes) -> bytes:
    fields = _fields(datagram)
    if fields is None or not fields.integers:
        return bit_flips(rng, datagram)
    raw = bytearray(datagram)
    for offset, dtype in rng.sample(
        fields.integers, min(INTEGER_EXTREMES_PER_PACKET, len(fields.integers))
    ):
        limits = np.iinfo(dtype)
        _set(raw, offset, dtype, rng.choice((limits.min, limits.max)))
    return bytes(raw)


def header_extremes(rng: random.Random, datagram: bytes) -> bytes:
    """Header bytes after packetFormat set to 0x00 or 0xff (ids, frames, indices)."""
    raw = bytearray(datagram)
    header_size = min(len(raw), 29)
    for position in rng.sample(range(2, header_size), min(4, max(0, header_size - 2))):
        raw[position] = rng.choice((0x00, 0xFF))
    return bytes(raw)


def player_index_255(rng: random.Random, datagram: bytes) -> bytes:
    """The spectator's playerCarIndex (255), also in the secondary player slot."""
    key = packets.peek_format_and_id(datagram)
    if key is None:
        return bit_flips(rng, datagram)
    header = packets.header_dtype(key[0])
    raw = bytearray(datagram)
    for name in ("player_car_index", "secondary_player_car_index"):
        if name in (header.names or ()):
            raw[header.fields[name][1]] = 255  # type: ignore[index]
    return bytes(raw)


def random_format_and_id(rng: random.Random, datagram: bytes) -> bytes:
    """A real body under a (packetFormat, packetId) chosen at random, often a known
    format so the id and size checks are reached."""
    raw = bytearray(datagram if len(datagram) >= 8 else datagram + bytes(8))
    packet_format = rng.choice(
        (*packets.PACKET_FORMATS, 0, 2017, 2027, 65535, rng.randrange(65536))
    )
    raw[0:2] = packet_format.to_bytes(2, "little")
    offset = packets.PACKET_ID_OFFSETS.get(packet_format, rng.randrange(2, 8))
    raw[offset] = rng.choice((*range(18), 255, rng.randrange(256)))
    return bytes(raw)


def float_specials(rng: random.Random, datagram: bytes) -> bytes:
    fields = _fields(datagram)
    if fields is None or not fields.floats:
        return bit_flips(rng, datagram)
    raw = bytearray(datagram)
    specials = (np.nan, np.inf, -np.inf, 3.4e38, -3.4e38, 1e-45)
    chosen = (
        fields.floats
        if rng.random() < 0.2
        else rng.sample(fields.floats, min(16, len(fields.floats)))
    )
    for offset, dtype in chosen:
        _set(raw, offset, dtype, rng.choice(specials))
    return bytes(raw)


def splice(rng: random.Random, datagram: bytes, other: bytes) -> bytes:
    cut = rng.randrange(len(datagram) + 1)
    return datagram[:cut] + other[rng.randrange(len(other) + 1) :]


def random_bytes(rng: random.Random, datagram: bytes) -> bytes:
    return rng.randbytes(rng.choice((0, 1, 2, 7, 29, len(datagram))))


MUTATIONS: dict[str, Callable[[random.Random, bytes], bytes]] = {
    "bit_flips": bit_flips,
    "truncate": truncate,
    "extend": extend,
    "integer_extremes": integer_extremes,
    "header_extremes": header_extremes,
    "player_index_255": player_index_255,
    "random_format_and_id": random_format_and_id,
    "float_specials": float_specials,
    "random_bytes": random_bytes,
}


@dataclass
class FuzzResult:
    """What one fuzz run saw."""

    datagrams: int = 0
    batches: int = 0
    escaped: list[str] = field(default_factory=list)
    """One traceback per batch whose decode raised."""
    violations: Counter[str] = field(default_factory=Counter)
    """Broken column contracts by description."""
    mutations: Counter[str] = field(default_factory=Counter)
    decoded: int = 0
    bad: Counter[tuple[int, int, str]] = field(default_factory=Counter)

    def bad_by_reason(self) -> Counter[str]:
        """``bad`` summed over (format, id)."""
        reasons: Counter[str] = Counter()
        for (_, _, reason), number in self.bad.items():
            reasons[reason] += number
        return reasons


def contract_violations(
    batch: DecodedBatch, datagrams: Sequence[bytes]
) -> Counter[str]:
    """Rows that break the decoder's contract: unequal column lengths, missing
    columns, datagram_index outside the batch, or a per-car row whose car_index is
    not a slot of its format's car arrays."""
    found: Counter[str] = Counter()
    formats = np.array(
        [int.from_bytes(d[:2], "little") if len(d) >= 2 else -1 for d in datagrams]
    )
    cars = np.array([CARS_PER_FORMAT.get(int(f), 0) for f in formats])
    for kind, table in batch.tables.items():
        lengths = {len(values) for values in table.values()}
        if len(lengths) != 1:
            found[f"{kind}: columns of unequal length"] += 1
            continue
        expected = {column.name for column in COLUMNS_OF_KIND[kind]}
        if missing := expected - set(table):
            found[f"{kind}: missing columns {sorted(missing)}"] += 1
        index = table["datagram_index"]
        if len(index) and (index.min() < 0 or index.max() >= len(datagrams)):
            found[f"{kind}: datagram_index outside the batch"] += 1
            continue
        if "car_index" in table and kind not in CAR_INDEX_FROM_PACKET_FIELD:
            outside = table["car_index"].astype(np.int64) >= cars[index]
            if outside.any():
                found[f"{kind}: car_index beyond the car arrays"] += int(outside.sum())
    return found


def fuzz(
    seeds: Sequence[bytes], count: int, seed: int, batch_size: int = 500
) -> FuzzResult:
    """Decode ``count`` mutants of ``seeds`` in batches of ``batch_size``; one
    Decoder for the whole run, as one ingest keeps one."""
    rng = random.Random(seed)
    # Pick a (packetFormat, packetId) first, then one of its packets: the 7,124
    # Melbourne datagrams would otherwise crowd out the ~200 single packets.
    groups: dict[object, list[bytes]] = {}
    for datagram in seeds:
        groups.setdefault(packets.peek_format_and_id(datagram), []).append(datagram)
    grouped = list(groups.values())
    decoder = Decoder()
    result = FuzzResult()
    names = list(MUTATIONS)
    while result.datagrams < count:
        size = min(batch_size, count - result.datagrams)
        batch_datagrams: list[bytes] = []
        for _ in range(size):
            original = rng.choice(rng.choice(grouped))
            if rng.random() < 0.05:
                result.mutations["splice"] += 1
                batch_datagrams.append(splice(rng, original, rng.choice(seeds)))
                continue
            if rng.random() < 0.05:
                result.mutations["unchanged"] += 1
                batch_datagrams.append(original)
                continue
            name = rng.choice(names)
            result.mutations[name] += 1
            batch_datagrams.append(MUTATIONS[name](rng, original))
        try:
            batch = decoder.decode(batch_datagrams)
        except Exception:  # noqa: BLE001 -- any escape is the finding; kept and printed
            result.escaped.append(traceback.format_exc())
        else:
            result.violations.update(contract_violations(batch, batch_datagrams))
        result.datagrams += size
        result.batches += 1
    result.decoded = sum(decoder.decoded.values())
    result.bad = decoder.bad
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Run the fuzzer and print its figures; exit 1 if anything escaped."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datagrams", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("F1DASH_TEST_DATA", DEFAULT_DATA_DIR)),
    )
    args = parser.parse_args(argv)
    seeds = real_datagrams(args.data_dir)
    started = time.perf_counter()
    result = fuzz(seeds, args.datagrams, args.seed, args.batch)
    elapsed_s = time.perf_counter() - started
    print(f"real seed packets:      {len(seeds)} from {args.data_dir}")
    print(
        f"datagrams fuzzed:       {result.datagrams} in {result.batches} batches "
        f"of {args.batch} ({elapsed_s:.1f} s, "
        f"{result.datagrams / elapsed_s:,.0f}/s)"
    )
    print(f"exceptions escaped:     {len(result.escaped)} batches (goal 0)")
    print(f"contract violations:    {sum(result.violations.values())} (goal 0)")
    for description, number in result.violations.most_common():
        print(f"  {number:>9}  {description}")
    print(f"decoded:                {result.decoded}")
    print(f"counted bad:            {sum(result.bad.values())}")
    for reason, number in result.bad_by_reason().most_common():
        print(f"  {number:>9}  {reason}")
    print("mutations applied:")
    for name, number in result.mutations.most_common():
        print(f"  {number:>9}  {name}")
    for trace in result.escaped[:3]:
        print(trace, file=sys.stderr)
    return 1 if result.escaped or result.violations else 0


if __name__ == "__main__":
    sys.exit(main())
