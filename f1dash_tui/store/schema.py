"""The store's one schema: tables, columns, types and units, rendered for each backend.

Every table is append-only (HeavyDB is built for appends; SQLite readers never wait on
an UPDATE). The decoded kinds come from ``telemetry.columns.TABLES`` (header columns
included, ``datagram_index`` left out: it only orders one decode call's rows); the
tables ingest derives (sessions, laps, rewinds, ingest statistics) are defined here.

Logical column types and how each backend spells them:

=========== =========== ==================== =========================================
logical     SQLite      HeavyDB              used for
=========== =========== ==================== =========================================
``i2``      INTEGER     SMALLINT             numpy u1, i1, i2 (enums, flags, counts)
``i4``      INTEGER     INTEGER              numpy u2, i4
``i8``      INTEGER     BIGINT               numpy u4, i8 (frames, session UIDs)
``f4``      REAL        FLOAT                numpy f4
``f8``      REAL        DOUBLE               numpy f8 (times in seconds)
``text``    TEXT        TEXT ENCODING DICT   names, codes, tags (numpy object of str)
``time``    REAL        TIMESTAMP(3)         wall-clock instants, unix seconds (float)
=========== =========== ==================== =========================================

Writers always pass ``time`` columns as float unix seconds; the HeavyDB backend turns
them into milliseconds for TIMESTAMP(3), and readers get float seconds from SQLite and
``datetime`` from HeavyDB (``queries`` accepts both). Booleans are ``i2`` 0/1. Missing
values: NaN floats (SQLite stores them as NULL) and -1 integers, as the decoder emits.

HeavyDB gets no keys and no indexes (it scans columns on the GPU/CPU); SQLite gets
STRICT tables and the indexes in ``Table.sqlite_indexes``, each serving a query in
``queries`` so that no dashboard poll scans a session.

A column whose decoded name is an SQL reserved word in HeavyDB's parser is stored
under another name (``Column.source`` keeps the decoded name): ``position`` ->
``classified_position``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from f1dash_tui.telemetry import columns as decoded

SCHEMA_VERSION = 2
"""Bump on any change a reader of an older store would misread.

2: car_telemetry rows carry the car's world x/z (the track map and racing line read
them there); motion, car_status and car_damage rows are kept for at most 10 packets
per second of session time."""

LOGICAL_TYPES = ("i2", "i4", "i8", "f4", "f8", "text", "time")

_SQLITE_TYPES = {
    "i2": "INTEGER",
    "i4": "INTEGER",
    "i8": "INTEGER",
    "f4": "REAL",
    "f8": "REAL",
    "text": "TEXT",
    "time": "REAL",
}

_HEAVYDB_TYPES = {
    "i2": "SMALLINT",
    "i4": "INTEGER",
    "i8": "BIGINT",
    "f4": "FLOAT",
    "f8": "DOUBLE",
    "text": "TEXT ENCODING DICT(32)",
    "time": "TIMESTAMP(3)",
}

_NUMPY_TYPES = {
    "i2": "i2",
    "i4": "i4",
    "i8": "i8",
    "f4": "f4",
    "f8": "f8",
    "text": "O",
    "time": "f8",
}

_NUMPY_DTYPES = {logical: np.dtype(code) for logical, code in _NUMPY_TYPES.items()}

_LOGICAL_FROM_NUMPY = {
    "u1": "i2",
    "i1": "i2",
    "i2": "i2",
    "u2": "i4",
    "i4": "i4",
    "u4": "i8",
    "i8": "i8",
    "u8": "i8",
    "f4": "f4",
    "f8": "f8",
    "O": "text",
}

# Decoded names HeavyDB's SQL parser reserves (its keyword list includes POSITION).
_RENAMED = {"position": "classified_position"}


@dataclass(frozen=True)
class StoreColumn:
    """One stored column: name, logical type, unit and meaning."""

    name: str
    type: str
    unit: str = ""
    doc: str = ""
    source: str = ""
    """Key of this column in a write_batch table when it differs from ``name``."""

    @property
    def input_name(self) -> str:
        """The key writers use for this column."""
        return self.source or self.name

    @property
    def numpy_dtype(self) -> np.dtype:
        """The dtype values are converted to before writing."""
        # Looked up, not built: write_batch asks once per column per batch (67k
        # times for 369 live batches, ~0.15 ms a batch when built each time).
        return _NUMPY_DTYPES[self.type]


@dataclass(frozen=True)
class Table:
    """One stored table: its columns, what it is for, and SQLite's indexes."""

    name: str
    doc: str
    columns: tuple[StoreColumn, ...]
    sqlite_indexes: tuple[tuple[str, ...], ...] = ()
    """Column lists of the SQLite indexes (HeavyDB has none)."""

    @property
    def column_names(self) -> tuple[str, ...]:
        """Stored column names in table order."""
        return tuple(column.name for column in self.columns)

    def column(self, name: str) -> StoreColumn:
        """The stored column called ``name``."""
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name!r}")


def _from_decoded(columns: Iterable[decoded.Column]) -> tuple[StoreColumn, ...]:
    return tuple(
        StoreColumn(
            name=_RENAMED.get(column.name, column.name),
            type=_LOGICAL_FROM_NUMPY[column.numpy_dtype.str.lstrip("<>|=")],
            unit=column.unit,
            doc=column.doc,
            source=column.name if column.name in _RENAMED else "",
        )
        for column in columns
    )


LAP_POSITION_COLUMNS = (
    StoreColumn("lap_number", "i2", "", "the car's current lap at this frame (ingest)"),
    StoreColumn("lap_distance_m", "f4", "m", "the car's lap distance at this frame"),
)
"""Columns ingest adds to per-car sample tables so a trace is one query."""

WORLD_POSITION_COLUMNS = (
    StoreColumn(
        "world_position_x_m", "f4", "m", "the car's world x at this frame (ingest)"
    ),
    StoreColumn(
        "world_position_z_m", "f4", "m", "the car's world z at this frame (ingest)"
    ),
)
"""Columns ingest adds to car_telemetry from the car's latest motion row, so the
track map and the racing line read the telemetry table alone: writing and indexing
every motion row as well cost a third of a flat-out replay's write time."""

EVENT_SEQ = StoreColumn(
    "event_seq",
    "i8",
    "",
    "monotonic per store; assigned by the store's write_batch when not given",
)

# Per-car sample tables: the tower and car panel read "all cars at the latest frame"
# (session_uid, overall_frame, car_index); traces read one car's lap by frame. The
# trace index also holds the traced values (a covering index): a lap of one car is
# 4,800 rows at 60 Hz, interleaved in the table with 21 other cars' rows, so reading
# them through the table touched ~4,800 pages (~20 ms); from the index it is ~60
# consecutive pages.
_AT_FRAME_INDEX = ("session_uid", "overall_frame", "car_index")
_CAR_LAP_KEY = ("session_uid", "car_index", "lap_number", "frame", "overall_frame")
_TELEMETRY_TRACE_INDEX = (
    *_CAR_LAP_KEY,
    "lap_distance_m",
    "speed_kph",
    "throttle",
    "brake",
    "steer",
    "gear",
    "engine_rpm",
    "world_position_x_m",
    "world_position_z_m",
)
# The track map's "all cars at the latest frame" must beat the covering trace index
# in SQLite's planner (without statistics it prefers a covering index, and scanned
# the whole session: 30 ms at 4 minutes), so the at-frame index covers the map's
# columns too.
_TELEMETRY_AT_FRAME_INDEX = (
    *_AT_FRAME_INDEX,
    "frame",
    "world_position_x_m",
    "world_position_z_m",
)

_DECODED_DOCS = {
    "motion": (
        "World position, velocity, direction and g-forces per car, at most 10 "
        "packets per second (car_telemetry holds every frame's world x/z)."
    ),
    "session": "Session packets: track, weather, temperatures, laps, safety car.",
    "lap_data": "Lap data per car per frame: position, lap, times, gaps, pit status.",
    "event": "Event packets (FTLP, PENA, SCAR, FLBK, ...), one row each.",
    "participants": "Participants packets: names, teams, race numbers per car.",
    "car_telemetry": "Car telemetry per car per frame: speed, inputs, gear, temps.",
    "car_status": "Car status per car, at most 10 packets/s: fuel, ERS, tyres, flags.",
    "car_damage": "Car damage per car, at most 10 packets/s: wear and damage.",
    "final_classification": "Final classification at the end of a session.",
    "session_history": "Session history: one row per lap of one car's history.",
}

_DECODED_EXTRA: dict[str, tuple[StoreColumn, ...]] = {
    "motion": LAP_POSITION_COLUMNS,
    "car_telemetry": LAP_POSITION_COLUMNS + WORLD_POSITION_COLUMNS,
    "event": (EVENT_SEQ,),
}

_DECODED_INDEXES: dict[str, tuple[tuple[str, ...], ...]] = {
    # No dashboard query reads motion (car_telemetry has the positions): one index
    # serves readers of a frame, and the backfill check of a cut-off load.
    "motion": (_AT_FRAME_INDEX,),
    "car_telemetry": (_TELEMETRY_AT_FRAME_INDEX, _TELEMETRY_TRACE_INDEX),
    "lap_data": (_AT_FRAME_INDEX,),
    "car_status": (_AT_FRAME_INDEX,),
    "car_damage": (_AT_FRAME_INDEX,),
    "participants": (("session_uid", "overall_frame"),),
    "session": (("session_uid", "overall_frame"),),
    "event": (("session_uid", "event_seq"), ("event_seq",)),
    "final_classification": (("session_uid", "overall_frame"),),
    "session_history": (("session_uid", "car_index", "overall_frame"),),
}


def _decoded_table(kind: str) -> Table:
    return Table(
        name=kind,
        doc=_DECODED_DOCS[kind],
        columns=_from_decoded(decoded.columns_of(kind)) + _DECODED_EXTRA.get(kind, ()),
        sqlite_indexes=_DECODED_INDEXES.get(kind, ()),
    )


SESSIONS = Table(
    name="sessions",
    doc="One row per session ingest saw (a new non-zero session UID).",
    columns=(
        StoreColumn("session_uid", "i8", "", "session UID (uint64 bits as int64)"),
        StoreColumn("started_unix_s", "time", "s", "when ingest saw it first"),
        StoreColumn("source", "text", "", "udp, replay:<file>, simulator, ..."),
        StoreColumn("is_synthetic", "i2", "", "1 = made by the simulator"),
        StoreColumn("packet_format", "i4", "", "packetFormat of its packets"),
        StoreColumn("track_id", "i2", "", "enums.TRACKS; -1 = unknown"),
        StoreColumn("session_type", "i2", "", "per-format session type"),
    ),
    sqlite_indexes=(("session_uid",), ("started_unix_s",)),
)

LAPS = Table(
    name="laps",
    doc="Completed laps: one row per car per lap, written when its lap advances.",
    columns=(
        StoreColumn("session_uid", "i8"),
        StoreColumn("car_index", "i2"),
        StoreColumn("lap_number", "i2", "", "1-based lap that was completed"),
        StoreColumn("lap_time_s", "f8", "s"),
        StoreColumn("sector1_s", "f8", "s"),
        StoreColumn("sector2_s", "f8", "s"),
        StoreColumn("sector3_s", "f8", "s"),
        StoreColumn("is_valid", "i2", "", "1 = the game counted the lap"),
        StoreColumn("tags", "text", "", "comma-separated: first,out,in,pit,sc,invalid"),
        StoreColumn("track_id", "i2"),
        StoreColumn("session_type", "i2"),
        StoreColumn("visual_tyre_compound", "i2", "", "-1 = unknown"),
        StoreColumn("weather", "i2", "", "-1 = unknown"),
        StoreColumn("driver_name", "text", "", "participant name when completed"),
        StoreColumn("team_id", "i2", "", "-1 = unknown"),
        StoreColumn("completed_frame", "i8", "", "overall frame of completion"),
        StoreColumn("completed_unix_s", "time", "s"),
    ),
    sqlite_indexes=(
        ("track_id", "is_valid", "lap_time_s"),
        ("session_uid", "car_index", "lap_number"),
        # The tower's best lap per car reads only this index (covering): 0.8 ms
        # instead of 1.9 ms for the ~1,000 laps of an hour-long 22-car race.
        ("session_uid", "is_valid", "car_index", "lap_time_s"),
    ),
)

REWINDS = Table(
    name="rewinds",
    doc=(
        "Flashbacks. Samples of the session with frame > to_frame and overall_frame "
        "< at_overall_frame are superseded; queries leave them out."
    ),
    columns=(
        StoreColumn("session_uid", "i8"),
        StoreColumn("at_overall_frame", "i8", "", "first overall frame after it"),
        StoreColumn("to_frame", "i8", "", "frame the game went back to"),
        StoreColumn("unix_s", "time", "s"),
    ),
    sqlite_indexes=(("session_uid",),),
)

INGEST_STATS_INTERVAL_S = 1.0
"""How often ingest writes an ``ingest_stats`` row, idle or not: a reader tells a
running ingest from one that stopped by the age of the last row."""

INGEST_STATS = Table(
    name="ingest_stats",
    doc="Ingest counters, one row per report (about once a second).",
    columns=(
        StoreColumn("unix_s", "time", "s", "when the row was written"),
        StoreColumn("last_packet_unix_s", "time", "s", "NaN = none yet"),
        StoreColumn("session_uid", "i8", "", "session of the last packet; 0 = none"),
        StoreColumn("packets_total", "i8"),
        StoreColumn("packets_per_s", "f8", "1/s"),
        StoreColumn("bad_total", "i8"),
        StoreColumn(
            "bad_by_reason", "text", "", 'JSON object: {"<reason>": count, ...}'
        ),
        StoreColumn("write_lag_s", "f8", "s", "receive-to-commit of the last batch"),
        StoreColumn("spooled_rows", "i8", "", "rows waiting in the outage spool"),
    ),
    sqlite_indexes=(("unix_s",), ("session_uid", "unix_s")),
)

STORE_META = Table(
    name="store_meta",
    doc="Facts about the store itself (schema_version). KEY/VALUE are reserved words.",
    columns=(StoreColumn("meta_key", "text"), StoreColumn("meta_value", "text")),
)

TABLES: dict[str, Table] = {
    **{kind: _decoded_table(kind) for kind in decoded.TABLES},
    SESSIONS.name: SESSIONS,
    LAPS.name: LAPS,
    REWINDS.name: REWINDS,
    INGEST_STATS.name: INGEST_STATS,
    STORE_META.name: STORE_META,
}
"""Every stored table by name."""


def create_table_sql(table: Table, backend: str) -> str:
    """CREATE TABLE IF NOT EXISTS for ``backend`` ('sqlite' or 'heavydb')."""
    types = _types_for(backend)
    body = ", ".join(f"{column.name} {types[column.type]}" for column in table.columns)
    suffix = " STRICT" if backend == "sqlite" else ""
    return f"CREATE TABLE IF NOT EXISTS {table.name} ({body}){suffix}"


def create_index_sql(table: Table) -> list[str]:
    """SQLite CREATE INDEX IF NOT EXISTS statements for ``table``."""
    return [
        f"CREATE INDEX IF NOT EXISTS ix_{table.name}_{number} "
        f"ON {table.name} ({', '.join(columns)})"
        for number, columns in enumerate(table.sqlite_indexes, start=1)
    ]


def ddl(backend: str) -> list[str]:
    """Every statement that creates the schema on ``backend`` (idempotent)."""
    statements = [create_table_sql(table, backend) for table in TABLES.values()]
    if backend == "sqlite":
        for table in TABLES.values():
            statements.extend(create_index_sql(table))
    return statements


def backend_type(column: StoreColumn, backend: str) -> str:
    """How ``backend`` spells the column's type."""
    return _types_for(backend)[column.type]


def _types_for(backend: str) -> dict[str, str]:
    if backend == "sqlite":
        return _SQLITE_TYPES
    if backend == "heavydb":
        return _HEAVYDB_TYPES
    raise ValueError(f"unknown store backend {backend!r}")
