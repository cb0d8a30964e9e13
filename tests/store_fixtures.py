"""Store fixtures: the same store tests run on every backend listed in BACKENDS.

A backend is one function ``(tmp_path) -> context manager of StoreSettings``: it yields
settings for a fresh, empty store and cleans up afterwards. Adding a backend is one
function and one ``BACKENDS`` entry; ``store_settings`` is parametrised over them.
Loaded from tests/conftest.py through ``pytest_plugins``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from heavydb_server import heavydb_backend

from f1dash_tui.settings import IngestSettings, StoreSettings
from f1dash_tui.store.base import Store, TableColumns, open_store
from f1dash_tui.store.schema import EVENT_SEQ, TABLES
from f1dash_tui.store.snapshots import TowerRow


@contextlib.contextmanager
def sqlite_backend(tmp_path: Path) -> Iterator[StoreSettings]:
    """A new SQLite file in a folder that does not exist yet (open_store makes it)."""
    yield StoreSettings(kind="sqlite", sqlite_path=tmp_path / "store" / "f1.sqlite3")


BACKENDS: dict[
    str, Callable[[Path], contextlib.AbstractContextManager[StoreSettings]]
] = {
    "sqlite": sqlite_backend,
    "heavydb": heavydb_backend,
}


@pytest.fixture(params=sorted(BACKENDS))
def store_settings(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[StoreSettings]:
    """Settings of a fresh store, once per backend."""
    with BACKENDS[request.param](tmp_path) as settings:
        yield settings


def ingest_capture(path: Path, capture: Path, *, session_uid_salt: int = 0) -> None:
    """Ingest ``capture`` at full speed into the SQLite store at ``path`` (made if
    missing), spooling (if ever) beside it."""
    from f1dash_tui.ingest.service import replay_to_store

    store = open_store(StoreSettings(sqlite_path=path))
    try:
        replay_to_store(
            capture,
            store,
            speed=None,
            session_uid_salt=session_uid_salt,
            settings=IngestSettings(spool_dir=path.parent / "spool"),
        )
    finally:
        store.close()


@pytest.fixture(scope="session")
def melbourne_store(
    melbourne_pcap: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A SQLite store holding the whole Melbourne capture, ingested once per test
    run and shared: open it read-only, or copy it to change it."""
    path = tmp_path_factory.mktemp("melbourne-store") / "telemetry.sqlite3"
    ingest_capture(path, melbourne_pcap)
    return path


@pytest.fixture(scope="session")
def melbourne_decoded(melbourne_pcap: Path) -> dict[str, dict[str, np.ndarray]]:
    """The bundled Melbourne capture, decoded (stored kinds only)."""
    return decoded_capture(melbourne_pcap)


@pytest.fixture(scope="module", params=sorted(BACKENDS))
def melbourne_store_settings(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    melbourne_pcap: Path,
) -> Iterator[StoreSettings]:
    """A store of each backend holding the Melbourne capture, written by ingest."""
    from f1dash_tui.ingest.service import replay_to_store

    with BACKENDS[request.param](tmp_path_factory.mktemp("melbourne")) as settings:
        store = open_store(settings)
        try:
            stats = replay_to_store(melbourne_pcap, store, speed=None)
        finally:
            store.close()
        assert stats.store_error == ""
        yield settings


@pytest.fixture
def writer_store(store_settings: StoreSettings) -> Iterator[Store]:
    """The writer's connection to a fresh store (schema created)."""
    store = open_store(store_settings)
    try:
        yield store
    finally:
        store.close()


def blank_table(table: str, rows: int) -> dict[str, np.ndarray]:
    """Every column writers give, filled with zeros (text: empty strings).

    ``event_seq`` is left out: the store assigns it, as it does for ingest."""
    columns: dict[str, np.ndarray] = {}
    for column in TABLES[table].columns:
        if column is EVENT_SEQ:
            continue
        if column.type == "text":
            columns[column.input_name] = np.full(rows, "", dtype=object)
        else:
            columns[column.input_name] = np.zeros(rows, dtype=column.numpy_dtype)
    return columns


def one_row(table: str, **values: object) -> TableColumns:
    """One row of ``table``: the given values, zeros elsewhere."""
    columns = blank_table(table, 1)
    for name, value in values.items():
        columns[name][0] = value
    return columns


def decoded_capture(pcap: Path) -> dict[str, dict[str, np.ndarray]]:
    """The capture's stored kinds, decoded, rows of session UID 0 left out."""
    from f1dash_tui.telemetry.decode import Decoder
    from f1dash_tui.telemetry.pcap import read_pcap

    batch = Decoder().decode([datagram.payload for datagram in read_pcap(pcap)])
    tables = {}
    for kind, columns in batch.tables.items():
        if kind not in TABLES:
            continue
        keep = columns["session_uid"] != 0
        tables[kind] = {name: values[keep] for name, values in columns.items()}
    return tables


def with_lap_positions(
    samples: dict[str, np.ndarray], lap_data: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Add lap_number and lap_distance_m from the car's latest lap-data row at or
    before each sample's overall frame (the first one for earlier samples)."""
    lap_number = np.zeros(len(samples["frame"]), dtype="i2")
    lap_distance = np.full(len(samples["frame"]), np.nan, dtype="f4")
    for car in np.unique(samples["car_index"]):
        mine = np.flatnonzero(samples["car_index"] == car)
        laps = np.flatnonzero(lap_data["car_index"] == car)
        laps = laps[np.argsort(lap_data["overall_frame"][laps], kind="stable")]
        where = np.searchsorted(
            lap_data["overall_frame"][laps], samples["overall_frame"][mine], "right"
        )
        chosen = laps[np.clip(where - 1, 0, len(laps) - 1)]
        lap_number[mine] = lap_data["current_lap_num"][chosen]
        lap_distance[mine] = lap_data["lap_distance_m"][chosen]
    return {**samples, "lap_number": lap_number, "lap_distance_m": lap_distance}


def with_world_positions(
    telemetry: dict[str, np.ndarray], motion: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Add world x/z from the car's latest motion row at or before each telemetry
    row's overall frame (NaN before the car's first motion row)."""
    x_m = np.full(len(telemetry["frame"]), np.nan, dtype="f4")
    z_m = np.full(len(telemetry["frame"]), np.nan, dtype="f4")
    for car in np.unique(telemetry["car_index"]):
        mine = np.flatnonzero(telemetry["car_index"] == car)
        rows = np.flatnonzero(motion["car_index"] == car)
        rows = rows[np.argsort(motion["overall_frame"][rows], kind="stable")]
        where = np.searchsorted(
            motion["overall_frame"][rows], telemetry["overall_frame"][mine], "right"
        )
        found = where > 0
        chosen = rows[where[found] - 1]
        x_m[mine[found]] = motion["world_position_x_m"][chosen]
        z_m[mine[found]] = motion["world_position_z_m"][chosen]
    return {**telemetry, "world_position_x_m": x_m, "world_position_z_m": z_m}


def kept_packets(
    table: dict[str, np.ndarray], interval_s: float = 0.1, tolerance_s: float = 0.004
) -> dict[str, np.ndarray]:
    """The rows of the packets ingest keeps of a kind stored at most 10 per second:
    the first packet, then each one at least ``interval_s - tolerance_s`` of session
    time after the last kept (or earlier than it: a flashback)."""
    kept: list[int] = []
    last_s: float | None = None
    for datagram in np.unique(table["datagram_index"]).tolist():
        time_s = float(table["session_time_s"][table["datagram_index"] == datagram][0])
        if (
            last_s is None
            or time_s >= last_s + (interval_s - tolerance_s)
            or (time_s < last_s)
        ):
            kept.append(datagram)
            last_s = time_s
    keep = np.isin(table["datagram_index"], kept)
    return {name: values[keep] for name, values in table.items()}


def capture_store_tables(
    decoded: dict[str, dict[str, np.ndarray]], source: str
) -> dict[str, TableColumns]:
    """What ingest would write for a decoded capture: the decoded tables with lap
    positions, a sessions row, and completed laps from Session History packets."""
    tables: dict[str, TableColumns] = dict(decoded)
    lap_data = decoded["lap_data"]
    for kind in ("car_telemetry", "motion"):
        tables[kind] = with_lap_positions(decoded[kind], lap_data)
    tables["car_telemetry"] = with_world_positions(
        tables["car_telemetry"], decoded["motion"]
    )
    session = decoded["session"]
    tables["sessions"] = one_row(
        "sessions",
        session_uid=session["session_uid"][0],
        started_unix_s=1_767_225_600.0,
        source=source,
        is_synthetic=0,
        packet_format=session["packet_format"][0],
        track_id=session["track_id"][0],
        session_type=session["session_type"][0],
    )
    tables["laps"] = laps_from_history(
        decoded["session_history"], session, decoded["participants"]
    )
    return tables


def laps_from_history(
    history: dict[str, np.ndarray],
    session: dict[str, np.ndarray],
    participants: dict[str, np.ndarray],
) -> TableColumns:
    """One laps row per (session, car, lap) with a lap time, from the latest history."""
    latest: dict[tuple[int, int, int], int] = {}
    for row in np.argsort(history["overall_frame"], kind="stable"):
        if history["lap_time_s"][row] > 0:
            key = (
                int(history["session_uid"][row]),
                int(history["car_index"][row]),
                int(history["lap_number"][row]),
            )
            latest[key] = int(row)
    rows = list(latest.values())
    columns = blank_table("laps", len(rows))
    columns["session_uid"][:] = history["session_uid"][rows]
    columns["car_index"][:] = history["car_index"][rows]
    columns["lap_number"][:] = history["lap_number"][rows]
    columns["lap_time_s"][:] = history["lap_time_s"][rows]
    columns["sector1_s"][:] = history["sector1_time_s"][rows]
    columns["sector2_s"][:] = history["sector2_time_s"][rows]
    columns["sector3_s"][:] = history["sector3_time_s"][rows]
    columns["is_valid"][:] = history["lap_valid_flags"][rows] & 1
    columns["track_id"][:] = session["track_id"][0]
    columns["session_type"][:] = session["session_type"][0]
    columns["visual_tyre_compound"][:] = -1
    columns["weather"][:] = session["weather"][0]
    columns["team_id"][:] = -1
    columns["completed_frame"][:] = history["overall_frame"][rows]
    names = latest_names(participants)
    columns["driver_name"][:] = [names[int(car)] for car in columns["car_index"]]
    return columns


def latest_names(participants: dict[str, np.ndarray]) -> dict[int, str]:
    """car_index -> name in the last Participants packet."""
    last = participants["overall_frame"] == participants["overall_frame"].max()
    return {
        int(car): str(name)
        for car, name in zip(
            participants["car_index"][last], participants["name"][last], strict=True
        )
    }


def tower_row(
    car_index: int, position: int, lap_number: int, **fields: Any
) -> TowerRow:
    """A timing-tower row of a running car with nothing else known; ``fields``
    set any other of TowerRow's fields."""
    known: dict[str, Any] = dict(
        race_number=None,
        driver_name="",
        team_id=None,
        gap_to_leader_s=None,
        interval_s=None,
        last_lap_s=None,
        best_lap_s=None,
        sector=0,
        sector1_s=None,
        sector2_s=None,
        visual_tyre_compound=None,
        tyres_age_laps=None,
        pit_status=0,
        num_pit_stops=None,
        penalties_s=0,
        total_warnings=0,
        driver_status=4,
        result_status=2,
        current_lap_invalid=False,
        last_lap_invalid=False,
        lap_distance_m=0.0,
    )
    return TowerRow(
        car_index=car_index,
        position=position,
        lap_number=lap_number,
        **(known | fields),
    )
