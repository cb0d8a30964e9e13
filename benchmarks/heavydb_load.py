"""HeavyDB bulk load: columnar Thrift loads vs one INSERT per row (test server).

Run from the repository root::

    python benchmarks/heavydb_load.py [--rows 220000] [--insert-rows 2000]

It starts the HeavyDB-wire-compatible test server (tests/heavydb_server) as its own
process, so client and server do not share a GIL, and loads car_telemetry rows (the
widest per-car table, 22 cars x 60 Hz = 1,320 rows/s in a race):

- columnar: ``HeavyDBStore.write_batch`` in batches of ``--batch-rows`` (default
  20,000 = ingest's largest batch; replays as fast as possible fill them), and at
  1,320 rows (one second of a live race);
- per row: one parameterised ``INSERT ... VALUES`` per row through the driver's cursor,
  which is what a naive loader would do.

It prints rows/s for each and the ratio (goal: columnar at least 20x per-row).
benchmarks/queries.py runs this too (``main([])``) unless given --skip-heavydb-load.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    # The test server lives under tests/, which is not an installed package.
    sys.path.insert(0, str(REPO_ROOT))

from f1dash_tui.store import open_store  # noqa: E402
from f1dash_tui.store.heavydb import HeavyDBStore  # noqa: E402
from f1dash_tui.store.schema import TABLES  # noqa: E402
from tests.heavydb_server import HeavyDBServerProcess  # noqa: E402

PASSWORD = "benchmark-only"
CARS = 22
RATE_HZ = 60
LIVE_SECOND_ROWS = CARS * RATE_HZ


@dataclass(frozen=True)
class LoadFigures:
    """Rows per second of each way of loading, and the ratio that matters."""

    columnar_rows: int
    columnar_rows_per_s: float
    live_batch_rows_per_s: float
    insert_rows: int
    insert_rows_per_s: float
    prerendered_insert_rows_per_s: float
    """INSERTs whose literals were rendered before the clock started: the round trip
    and the server's work alone, without the driver's ~2 ms of SQLAlchemy rendering."""

    @property
    def ratio(self) -> float:
        """Columnar (large batches) over one INSERT per row."""
        return self.columnar_rows_per_s / self.insert_rows_per_s

    @property
    def ratio_prerendered(self) -> float:
        """Columnar over pre-rendered INSERTs (the least favourable comparison)."""
        return self.columnar_rows_per_s / self.prerendered_insert_rows_per_s


def telemetry_batch(first_frame: int, rows: int) -> dict[str, np.ndarray]:
    """``rows`` car_telemetry rows of 22 cars from ``first_frame`` on, varied values."""
    table = TABLES["car_telemetry"]
    sample = np.arange(rows)
    frame = first_frame + sample // CARS
    rng = np.random.default_rng(first_frame)
    batch: dict[str, np.ndarray] = {}
    for column in table.columns:
        if column.type in ("f4", "f8"):
            values = rng.uniform(0.0, 330.0, rows)
        elif column.type == "text":
            values = np.array(["x"] * rows, dtype=object)
        else:
            values = rng.integers(0, 100, rows)
        batch[column.input_name] = values.astype(column.numpy_dtype)
    batch["session_uid"] = np.full(rows, 1_234_567_890_123, dtype="i8")
    batch["frame"] = frame.astype("u4")
    batch["overall_frame"] = frame.astype("u4")
    batch["car_index"] = (sample % CARS).astype("u1")
    batch["session_time_s"] = frame / RATE_HZ
    return batch


def _columnar_rows_per_s(store: HeavyDBStore, rows: int, batch_rows: int) -> float:
    batches = [
        telemetry_batch(start // CARS, min(batch_rows, rows - start))
        for start in range(0, rows, batch_rows)
    ]
    started = time.perf_counter()
    for batch in batches:
        store.write_batch({"car_telemetry": batch})
    return rows / (time.perf_counter() - started)


def _insert_statement(names: list[str]) -> str:
    return (
        f"INSERT INTO car_telemetry ({', '.join(names)}) "
        f"VALUES ({', '.join(':' + name for name in names)})"
    )


def _insert_rows_per_s(store: HeavyDBStore, rows: int, first_frame: int) -> float:
    batch = telemetry_batch(first_frame, rows)
    names = list(batch)
    sql = _insert_statement(names)
    columns = [batch[name].tolist() for name in names]
    connection = store._connection
    started = time.perf_counter()
    for values in zip(*columns, strict=True):
        connection.cursor().execute(sql, dict(zip(names, values, strict=True)))
    return rows / (time.perf_counter() - started)


def _prerendered_insert_rows_per_s(
    store: HeavyDBStore, rows: int, first_frame: int
) -> float:
    from sqlalchemy import text

    batch = telemetry_batch(first_frame, rows)
    names = list(batch)
    template = text(_insert_statement(names))
    columns = [batch[name].tolist() for name in names]
    statements = [
        str(
            template.bindparams(**dict(zip(names, values, strict=True))).compile(
                compile_kwargs={"literal_binds": True}
            )
        )
        for values in zip(*columns, strict=True)
    ]
    connection = store._connection
    started = time.perf_counter()
    for statement in statements:
        connection.cursor().execute(statement)
    return rows / (time.perf_counter() - started)


def measure(rows: int, insert_rows: int, batch_rows: int) -> LoadFigures:
    """Start a test server process, load, and return the figures."""
    with tempfile.TemporaryDirectory() as folder:
        server = HeavyDBServerProcess(Path(folder) / "heavy.sqlite3", password=PASSWORD)
        with server:
            store = open_store(server.store_settings())
            assert isinstance(store, HeavyDBStore)
            try:
                columnar = _columnar_rows_per_s(store, rows, batch_rows)
                live_rows = min(rows, 20 * LIVE_SECOND_ROWS)
                live = _columnar_rows_per_s(store, live_rows, LIVE_SECOND_ROWS)
                per_row = _insert_rows_per_s(store, insert_rows, 10_000_000)
                prerendered = _prerendered_insert_rows_per_s(
                    store, insert_rows, 20_000_000
                )
                expected = rows + live_rows + 2 * insert_rows
                (count,) = store.fetch("SELECT COUNT(*) FROM car_telemetry")[0]
                if count != expected:
                    raise SystemExit(f"loaded {count} rows, expected {expected}")
            finally:
                store.close()
    return LoadFigures(rows, columnar, live, insert_rows, per_row, prerendered)


def main(argv: list[str] | None = None) -> None:
    """Parse options, measure, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=220_000)
    parser.add_argument("--insert-rows", type=int, default=2_000)
    parser.add_argument("--batch-rows", type=int, default=20_000)
    options = parser.parse_args(argv)
    figures = measure(options.rows, options.insert_rows, options.batch_rows)
    columns = len(TABLES["car_telemetry"].columns)
    print(f"HeavyDB load into car_telemetry ({columns} columns), test server process")
    print(
        f"  columnar, {options.batch_rows:,}-row batches: "
        f"{figures.columnar_rows_per_s:12,.0f} rows/s ({figures.columnar_rows:,} rows)"
    )
    print(
        f"  columnar, {LIVE_SECOND_ROWS:,}-row batches:  "
        f"{figures.live_batch_rows_per_s:12,.0f} rows/s (one live second per batch)"
    )
    print(
        f"  one INSERT per row:            "
        f"{figures.insert_rows_per_s:12,.0f} rows/s ({figures.insert_rows:,} rows)"
    )
    prerendered = figures.prerendered_insert_rows_per_s
    print(
        f"  one INSERT per row, pre-rendered: {prerendered:9,.0f} rows/s "
        "(literals rendered before timing)"
    )
    for label, ratio in (
        ("ratio columnar / per-row:     ", figures.ratio),
        ("ratio vs pre-rendered INSERTs:", figures.ratio_prerendered),
    ):
        verdict = "meets" if ratio >= 20 else "MISSES"
        print(f"  {label} {ratio:12,.1f}x ({verdict} the >= 20x goal)")


if __name__ == "__main__":
    main()
