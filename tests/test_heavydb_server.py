"""The HeavyDB test server, driven by the real pyheavydb client over TCP.

These pin down the wire behaviour the store relies on: login and its rejection with
HeavyDB's exception type, catalog calls, DDL in HeavyDB's dialect, the Thrift columnar
load with null flags, columnar results, errors, and a subprocess that survives
SIGKILL + restart with its data.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path

import heavydb
import psutil
import pytest
from heavydb.common.ttypes import TDatumType, TEncodingType
from heavydb.thrift.Heavy import Client
from heavydb.thrift.ttypes import (
    TColumn,
    TColumnData,
    TDatum,
    TDatumVal,
    TDBException,
    TRow,
    TStringRow,
    TStringValue,
)
from heavydb_server import HeavyDBServerProcess, HeavyDBTestServer
from thrift.protocol.TBinaryProtocol import TBinaryProtocol
from thrift.transport.TSocket import TSocket
from thrift.transport.TTransport import TBufferedTransport

PASSWORD = "pit-wall-secret"

DDL = (
    "CREATE TABLE IF NOT EXISTS drivers (car_index SMALLINT, uid BIGINT, "
    "lap_s DOUBLE, speed_kph FLOAT, name TEXT ENCODING DICT(32), "
    "seen_at TIMESTAMP(3)) WITH (fragment_size = 32000000)"
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[HeavyDBTestServer]:
    with HeavyDBTestServer(tmp_path / "heavy.sqlite3", password=PASSWORD) as running:
        yield running


def _connect(
    server: HeavyDBTestServer | HeavyDBServerProcess, password: str = PASSWORD
):
    return heavydb.connect(
        user="admin",
        password=password,
        host=server.host,
        port=server.port,
        dbname="heavyai",
        protocol="binary",
    )


def _raw_client(server: HeavyDBTestServer) -> tuple[Client, TBufferedTransport]:
    transport = TBufferedTransport(TSocket(server.host, server.port))
    transport.open()
    return Client(TBinaryProtocol(transport)), transport


def test_wrong_password_is_a_tdbexception_and_the_right_one_logs_in(
    server: HeavyDBTestServer,
) -> None:
    client, transport = _raw_client(server)
    try:
        with pytest.raises(TDBException, match="Invalid credentials"):
            client.connect("admin", "not-the-password", "heavyai")
        with pytest.raises(TDBException, match="does not exist"):
            client.connect("admin", PASSWORD, "other_db")
        session = client.connect("admin", PASSWORD, "heavyai")
        assert len(session) == 32
        assert client.get_version().startswith("8.")
        assert client.get_server_status(session).read_only is False
        client.disconnect(session)
        with pytest.raises(TDBException, match="Session not valid"):
            client.get_tables(session)
    finally:
        transport.close()
    # Through the driver: its translation of TDBException.
    with pytest.raises(heavydb.Error, match="Invalid credentials"):
        _connect(server, password="wrong")


def test_ddl_in_heavydb_dialect_and_table_details(server: HeavyDBTestServer) -> None:
    connection = _connect(server)
    connection.execute(DDL)
    connection.execute(DDL)  # IF NOT EXISTS: a second time is fine
    with pytest.raises(heavydb.ProgrammingError, match="already exists"):
        connection.execute(DDL.replace(" IF NOT EXISTS", ""))
    client, session = connection._client, connection._session
    assert client.get_tables(session) == ["drivers"]
    details = client.get_table_details(session, "drivers").row_desc
    types = {c.col_name: c.col_type for c in details}
    assert [c.col_name for c in details] == [
        "car_index",
        "uid",
        "lap_s",
        "speed_kph",
        "name",
        "seen_at",
    ]
    assert types["car_index"].type == TDatumType.SMALLINT
    assert types["uid"].type == TDatumType.BIGINT
    assert types["speed_kph"].type == TDatumType.FLOAT
    assert types["name"].type == TDatumType.STR
    assert types["name"].encoding == TEncodingType.DICT
    assert types["name"].comp_param == 32
    assert types["seen_at"].type == TDatumType.TIMESTAMP
    assert types["seen_at"].precision == 3
    with pytest.raises(TDBException, match="does not exist"):
        client.get_table_details(session, "nope")
    connection.execute("DROP TABLE drivers")
    assert client.get_tables(session) == []
    connection.close()


def test_columnar_load_and_columnar_results_with_nulls(
    server: HeavyDBTestServer,
) -> None:
    connection = _connect(server)
    connection.execute(DDL)
    names = ["car_index", "uid", "lap_s", "speed_kph", "name", "seen_at"]
    columns = [
        TColumn(data=TColumnData(int_col=[0, 1, 21]), nulls=[False, False, False]),
        TColumn(data=TColumnData(int_col=[-(2**63), 7, 2**63 - 1]), nulls=[False] * 3),
        TColumn(
            data=TColumnData(real_col=[83.123, 0.0, 90.5]), nulls=[False, True, False]
        ),
        TColumn(
            data=TColumnData(real_col=[301.5, 0.0, 0.0]), nulls=[False, False, True]
        ),
        TColumn(
            data=TColumnData(str_col=["VERSTAPPEN", "", "Ñoño"]),
            nulls=[False, True, False],
        ),
        TColumn(
            data=TColumnData(int_col=[1_767_225_600_250, 0, 0]),
            nulls=[False, True, False],
        ),
    ]
    connection._client.load_table_binary_columnar(
        connection._session, "drivers", columns, names
    )
    assert server.handler.calls["load_table_binary_columnar"] == 1
    cursor = connection.execute(
        "SELECT car_index, uid, lap_s, speed_kph, name, seen_at FROM drivers "
        "ORDER BY car_index"
    )
    rows = list(cursor)
    assert rows == [
        (
            0,
            -(2**63),
            83.123,
            301.5,
            "VERSTAPPEN",
            datetime.datetime(2026, 1, 1, 0, 0, 0, 250_000),
        ),
        (1, 7, None, 0.0, None, None),
        (21, 2**63 - 1, 90.5, None, "Ñoño", datetime.datetime(1970, 1, 1)),
    ]
    types = [d.type_code for d in cursor.description]
    assert types[4] == TDatumType.STR and types[5] == TDatumType.TIMESTAMP
    # Aggregates of a TIMESTAMP column stay TIMESTAMPs, as in HeavyDB.
    latest = connection.execute("SELECT MAX(seen_at) AS latest FROM drivers")
    assert list(latest) == [(datetime.datetime(2026, 1, 1, 0, 0, 0, 250_000),)]
    # A partial column list leaves the others NULL.
    connection._client.load_table_binary_columnar(
        connection._session,
        "drivers",
        [TColumn(data=TColumnData(int_col=[5]), nulls=[False])],
        ["car_index"],
    )
    rows = list(connection.execute("SELECT uid, name FROM drivers WHERE car_index = 5"))
    assert rows == [(None, None)]
    connection.close()


def test_row_wise_loads_of_strings_and_datums(server: HeavyDBTestServer) -> None:
    # The older row-wise loads: text values (load_table) and typed datums
    # (load_table_binary), both with NULLs.
    connection = _connect(server)
    connection.execute(DDL)
    client, session = connection._client, connection._session
    names = ["car_index", "lap_s", "name"]
    client.load_table(
        session,
        "drivers",
        [
            TStringRow(
                cols=[
                    TStringValue(str_val="3", is_null=False),
                    TStringValue(str_val="81.25", is_null=False),
                    TStringValue(str_val="Zhou 周", is_null=False),
                ]
            ),
            TStringRow(
                cols=[
                    TStringValue(str_val="4", is_null=False),
                    TStringValue(str_val="", is_null=True),
                    TStringValue(str_val="", is_null=True),
                ]
            ),
        ],
        names,
    )
    client.load_table_binary(
        session,
        "drivers",
        [
            TRow(
                cols=[
                    TDatum(val=TDatumVal(int_val=5), is_null=False),
                    TDatum(val=TDatumVal(real_val=79.5), is_null=False),
                    TDatum(val=TDatumVal(), is_null=True),
                ]
            )
        ],
        names,
    )
    with pytest.raises(TDBException, match="cannot convert"):
        client.load_table(
            session,
            "drivers",
            [TStringRow(cols=[TStringValue(str_val="three", is_null=False)])],
            ["car_index"],
        )
    rows = connection.execute(
        "SELECT car_index, lap_s, name FROM drivers ORDER BY car_index"
    )
    assert list(rows) == [(3, 81.25, "Zhou 周"), (4, None, None), (5, 79.5, None)]
    connection.close()


def test_load_errors_and_sql_errors_are_tdbexceptions(
    server: HeavyDBTestServer,
) -> None:
    connection = _connect(server)
    connection.execute(DDL)
    client, session = connection._client, connection._session
    one = TColumn(data=TColumnData(int_col=[1]), nulls=[False])
    with pytest.raises(TDBException, match="does not exist"):
        client.load_table_binary_columnar(session, "missing", [one], ["car_index"])
    with pytest.raises(TDBException, match="Column nope does not exist"):
        client.load_table_binary_columnar(session, "drivers", [one], ["nope"])
    two = TColumn(data=TColumnData(int_col=[1, 2]), nulls=[False, False])
    with pytest.raises(TDBException, match="different lengths"):
        client.load_table_binary_columnar(
            session, "drivers", [one, two], ["car_index", "uid"]
        )
    with pytest.raises(heavydb.ProgrammingError, match="SQL Error"):
        connection.execute("SELECT no_such_column FROM drivers")
    # One statement per call: a stacked statement is an error, not a second query.
    with pytest.raises(heavydb.ProgrammingError, match="SQL Error"):
        connection.execute("SELECT 1; DROP TABLE drivers")
    assert client.get_tables(session) == ["drivers"]
    # SQL only SQLite runs is refused, as a real HeavyDB would refuse it.
    for sqlite_only in (
        "SELECT MAX(rowid) FROM drivers",
        "PRAGMA table_info(drivers)",
        "SELECT name FROM sqlite_master",
        "SELECT IFNULL(name, 'x') FROM drivers",
    ):
        with pytest.raises(heavydb.ProgrammingError, match="not HeavyDB SQL"):
            connection.execute(sqlite_only)
    # ... but not when the words are only inside a string.
    assert list(
        connection.execute("SELECT COUNT(*) FROM drivers WHERE name = 'rowid'")
    ) == [(0,)]
    with pytest.raises(TDBException, match="not supported"):
        client.get_users(session)
    # POSITION and VALUE are reserved words in HeavyDB's parser, as column names too.
    for reserved in ("position", "value"):
        with pytest.raises(heavydb.ProgrammingError, match="reserved keyword"):
            connection.execute(f"CREATE TABLE laps_{reserved} ({reserved} SMALLINT)")
    assert client.get_tables(session) == ["drivers"]
    assert list(connection.execute("SELECT COUNT(*) FROM drivers")) == [(0,)]
    connection.close()


def test_subprocess_server_survives_sigkill_and_restart(tmp_path: Path) -> None:
    db_path = tmp_path / "heavy.sqlite3"
    process = HeavyDBServerProcess(db_path, password=PASSWORD)
    process.start()
    try:
        port = process.port
        assert port > 0
        # The password reaches the server in its environment, not its argument list.
        assert process.pid is not None
        assert PASSWORD not in " ".join(psutil.Process(process.pid).cmdline())
        connection = _connect(process)
        connection.execute(DDL)
        connection._client.load_table_binary_columnar(
            connection._session,
            "drivers",
            [TColumn(data=TColumnData(str_col=["Hamilton"]), nulls=[False])],
            ["name"],
        )
        process.kill()
        with pytest.raises(heavydb.OperationalError):
            _connect(process)
        connection._closed = 1  # its server is gone; nothing to log out of
        process.start()
        assert process.port == port
        again = _connect(process)
        assert list(again.execute("SELECT name FROM drivers")) == [("Hamilton",)]
        again.close()
    finally:
        process.stop()
    assert PASSWORD not in process.log_path.read_text()
