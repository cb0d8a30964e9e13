"""The one schema: built from the decoder's columns, rendered for both backends."""

from __future__ import annotations

import re
import sqlite3

import pytest

from f1dash_tui.store.schema import TABLES, backend_type, create_table_sql, ddl
from f1dash_tui.telemetry import columns as decoded


def test_every_decoded_column_is_stored_and_datagram_index_is_not() -> None:
    for kind in decoded.TABLES:
        stored = {column.input_name for column in TABLES[kind].columns}
        for column in decoded.columns_of(kind):
            assert column.name in stored, (kind, column.name)
        assert "datagram_index" not in stored
    for kind in ("car_telemetry", "motion"):
        names = TABLES[kind].column_names
        assert "lap_number" in names and "lap_distance_m" in names
    assert "event_seq" in TABLES["event"].column_names


def test_heavydb_types_follow_the_documented_mapping() -> None:
    telemetry = TABLES["car_telemetry"]
    assert backend_type(telemetry.column("session_uid"), "heavydb") == "BIGINT"
    assert backend_type(telemetry.column("frame"), "heavydb") == "BIGINT"  # u4
    assert backend_type(telemetry.column("car_index"), "heavydb") == "SMALLINT"
    assert backend_type(telemetry.column("engine_rpm"), "heavydb") == "INTEGER"
    assert backend_type(telemetry.column("speed_kph"), "heavydb") == "FLOAT"
    assert backend_type(telemetry.column("session_time_s"), "heavydb") == "DOUBLE"
    name = TABLES["participants"].column("name")
    assert backend_type(name, "heavydb") == "TEXT ENCODING DICT(32)"
    for table, column in (
        ("sessions", "started_unix_s"),
        ("laps", "completed_unix_s"),
        ("rewinds", "unix_s"),
        ("ingest_stats", "unix_s"),
    ):
        assert backend_type(TABLES[table].column(column), "heavydb") == "TIMESTAMP(3)"


def test_heavydb_ddl_has_no_keys_indexes_or_reserved_names() -> None:
    statements = ddl("heavydb")
    assert len(statements) == len(TABLES)
    for statement in statements:
        assert statement.startswith("CREATE TABLE IF NOT EXISTS ")
        assert "PRIMARY KEY" not in statement and "INDEX" not in statement
        # HeavyDB's parser reserves POSITION, KEY and VALUE.
        assert not re.search(r"[(,] (position|key|value) ", statement)
    fc = TABLES["final_classification"]
    assert fc.column("classified_position").input_name == "position"


def test_sqlite_ddl_is_strict_and_creates_the_indexes() -> None:
    connection = sqlite3.connect(":memory:")
    for statement in ddl("sqlite"):
        connection.execute(statement)
    for statement in ddl("sqlite"):  # idempotent
        connection.execute(statement)
    assert create_table_sql(TABLES["laps"], "sqlite").endswith(" STRICT")
    indexes = {
        name
        for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index'"
        )
    }
    expected = sum(len(table.sqlite_indexes) for table in TABLES.values())
    assert len(indexes) == expected
    with pytest.raises(sqlite3.IntegrityError):  # STRICT: no text in a number
        connection.execute("INSERT INTO laps (lap_time_s) VALUES ('fast')")


def test_unknown_backend_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown store backend"):
        ddl("postgres")
