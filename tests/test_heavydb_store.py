"""HeavyDBStore against the HeavyDB test server, through the real pyheavydb client.

What the issue asks of the HeavyDB store: a wrong password is one clear line, an
unreachable server is StoreUnavailableError, tables are created with HeavyDB types,
batches go in as columnar bulk loads (never an INSERT per row), NULLs and hostile
text come back intact, and a server that dies and returns is usable again.
"""

from __future__ import annotations

import datetime
import errno
import logging
import os
import socket
import ssl
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import trustme
from heavydb.common.ttypes import TDatumType, TEncodingType
from heavydb.thrift.ttypes import TColumn, TColumnData
from heavydb_server import HeavyDBServerProcess, HeavyDBTestServer

from f1dash_tui.errors import SchemaVersionError, StoreError, StoreUnavailableError
from f1dash_tui.settings import HeavyDBSettings, StoreSettings
from f1dash_tui.store import heavydb as heavydb_store_module
from f1dash_tui.store import open_store
from f1dash_tui.store.heavydb import HeavyDBStore
from f1dash_tui.store.schema import SCHEMA_VERSION, TABLES, Table

PASSWORD = "Sup3r;Secret'pw"
REFUSED = os.strerror(errno.ECONNREFUSED)

HOSTILE_NAMES = (
    'O\'Brien "The Rocket"',
    "Robert'); DROP TABLE participants;--",
    "SELECT * FROM laps WHERE 1=1 OR ''=''",
    "Räikkönen 🏎️🔥 周冠宇",
    "عبد الله القحطاني",  # right-to-left
    "C:\\new\\table %s %(name)s :p0 ? ?",
    "",
)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[HeavyDBTestServer]:
    with HeavyDBTestServer(tmp_path / "heavy.sqlite3", password=PASSWORD) as running:
        yield running


@pytest.fixture
def store(server: HeavyDBTestServer) -> Iterator[HeavyDBStore]:
    opened = open_store(server.store_settings())
    assert isinstance(opened, HeavyDBStore)
    yield opened
    opened.close()


def _table_batch(table: Table, rows: int, **values: object) -> dict[str, np.ndarray]:
    """Every stored column of ``table`` with ``rows`` rows: zeros, NaN, "" or given."""
    batch: dict[str, np.ndarray] = {}
    for column in table.columns:
        given = values.get(column.input_name)
        if given is not None:
            batch[column.input_name] = np.asarray(given, dtype=column.numpy_dtype)
        elif column.type == "text":
            batch[column.input_name] = np.array([""] * rows, dtype=object)
        elif column.type in ("f4", "f8", "time"):
            batch[column.input_name] = np.full(rows, np.nan, dtype=column.numpy_dtype)
        else:
            batch[column.input_name] = np.zeros(rows, dtype=column.numpy_dtype)
    return batch


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_wrong_password_is_one_line_and_never_shows_the_password(
    server: HeavyDBTestServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = server.store_settings()
    wrong = replace(settings, heavydb=replace(settings.heavydb, password="guess;'pw"))
    with pytest.raises(StoreError) as caught:
        open_store(wrong)
    error = caught.value
    assert not isinstance(error, StoreUnavailableError)
    message = str(error)
    assert "\n" not in message
    assert f"HeavyDB at 127.0.0.1:{server.port} rejected user 'admin'" in message
    assert "wrong user name or password" in message
    assert "guess;'pw" not in message
    assert error.__cause__ is None and error.__suppress_context__
    store = open_store(settings)
    try:
        assert PASSWORD not in repr(store)
        assert PASSWORD not in repr(settings)
    finally:
        store.close()
    for record in caplog.records:
        assert PASSWORD not in record.getMessage()
        assert "guess;'pw" not in record.getMessage()


def test_unreachable_server_is_store_unavailable_in_one_line() -> None:
    port = _free_port()
    settings = StoreSettings(
        kind="heavydb",
        heavydb=HeavyDBSettings(host="127.0.0.1", port=port, password=PASSWORD),
    )
    with pytest.raises(StoreUnavailableError) as caught:
        open_store(settings)
    message = str(caught.value)
    assert "\n" not in message
    assert f"HeavyDB at 127.0.0.1:{port} is unreachable" in message


def test_a_server_that_is_not_heavydb_is_named_as_such() -> None:
    """Something on the port accepts the TCP connection and closes it unanswered
    (another service, a proxy without a backend)."""
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def close_every_connection() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            connection.close()

    threading.Thread(target=close_every_connection, daemon=True).start()
    settings = StoreSettings(
        kind="heavydb",
        heavydb=HeavyDBSettings(host="127.0.0.1", port=port, password=PASSWORD),
    )
    try:
        with pytest.raises(StoreUnavailableError) as caught:
            open_store(settings)
    finally:
        listener.close()
    assert str(caught.value).startswith(
        f"HeavyDB at 127.0.0.1:{port} is unreachable (it closed the connection "
        "without an answer: is it a HeavyDB server?)"
    )


def test_creates_every_table_with_heavydb_types(
    server: HeavyDBTestServer, store: HeavyDBStore
) -> None:
    assert store.schema_version == SCHEMA_VERSION
    assert store.table_names() == sorted(TABLES)
    client, session = store._connection._client, store._connection._session
    participants = {
        c.col_name: c.col_type
        for c in client.get_table_details(session, "participants").row_desc
    }
    assert participants["name"].type == TDatumType.STR
    assert participants["name"].encoding == TEncodingType.DICT
    assert participants["session_uid"].type == TDatumType.BIGINT
    assert participants["car_index"].type == TDatumType.SMALLINT
    sessions = {
        c.col_name: c.col_type
        for c in client.get_table_details(session, "sessions").row_desc
    }
    assert sessions["started_unix_s"].type == TDatumType.TIMESTAMP
    assert sessions["started_unix_s"].precision == 3
    telemetry = {
        c.col_name: c.col_type
        for c in client.get_table_details(session, "car_telemetry").row_desc
    }
    assert telemetry["speed_kph"].type == TDatumType.FLOAT
    assert telemetry["engine_rpm"].type == TDatumType.INT
    assert list(telemetry)[-4:] == [
        "lap_number",
        "lap_distance_m",
        "world_position_x_m",
        "world_position_z_m",
    ]
    # Opening again creates nothing and records the version once.
    again = open_store(server.store_settings())
    again.close()
    versions = store.fetch(
        "SELECT meta_value FROM store_meta WHERE meta_key = ?", ["schema_version"]
    )
    assert versions == [(str(SCHEMA_VERSION),)]
    reader = open_store(server.store_settings(), read_only=True)
    assert reader.schema_version == SCHEMA_VERSION
    with pytest.raises(StoreError, match="read-only"):
        reader.write_batch({})
    reader.close()


def test_read_only_on_an_empty_database_says_what_to_do(
    server: HeavyDBTestServer,
) -> None:
    with pytest.raises(StoreError) as caught:
        open_store(server.store_settings(), read_only=True)
    assert "no f1dash-tui store yet" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_other_schema_version_is_refused_in_one_line(server: HeavyDBTestServer) -> None:
    import heavydb

    connection = heavydb.connect(
        user="admin",
        password=PASSWORD,
        host=server.host,
        port=server.port,
        dbname="heavyai",
    )
    connection.execute(
        "CREATE TABLE store_meta (meta_key TEXT ENCODING DICT(32), "
        "meta_value TEXT ENCODING DICT(32))"
    )
    connection._client.load_table_binary_columnar(
        connection._session,
        "store_meta",
        [
            TColumn(data=TColumnData(str_col=["schema_version"]), nulls=[False]),
            TColumn(data=TColumnData(str_col=["999"]), nulls=[False]),
        ],
        ["meta_key", "meta_value"],
    )
    connection.close()
    with pytest.raises(SchemaVersionError) as caught:
        open_store(server.store_settings())
    message = str(caught.value)
    assert "schema version 999" in message and "\n" not in message


def test_write_batch_is_columnar_and_reads_back_with_nulls(
    server: HeavyDBTestServer, store: HeavyDBStore
) -> None:
    cars, frames = 22, 3
    car_index = np.tile(np.arange(cars), frames)
    frame = np.repeat(np.arange(100, 100 + frames), cars)
    speed = (200.0 + car_index + frame / 1000).astype("f4")
    speed[5] = np.nan  # a value the format did not send
    telemetry = _table_batch(
        TABLES["car_telemetry"],
        cars * frames,
        session_uid=np.full(cars * frames, -4_611_686_018_427_387_904),
        frame=frame,
        overall_frame=frame,
        car_index=car_index,
        speed_kph=speed,
        gear=np.full(cars * frames, -1),
        engine_rpm=np.full(cars * frames, 11_500),
        lap_number=np.full(cars * frames, 3),
        lap_distance_m=np.linspace(0.0, 5278.0, cars * frames),
    )
    events = _table_batch(
        TABLES["event"],
        2,
        event_code=np.array(["FTLP", "SCAR"], dtype=object),
        vehicle_index=np.array([7, -1]),
        lap_time_s=np.array([80.123, np.nan]),
    )
    events.pop("event_seq", None)
    sessions = _table_batch(
        TABLES["sessions"],
        1,
        session_uid=np.array([42]),
        started_unix_s=np.array([1_767_225_600.25]),
        source=np.array(["replay:melbourne.pcap"], dtype=object),
    )
    calls_before = server.handler.calls.copy()
    written = store.write_batch(
        {"car_telemetry": telemetry, "event": events, "sessions": sessions}
    )
    assert written == cars * frames + 2 + 1
    calls = server.handler.calls - calls_before
    assert calls["load_table_binary_columnar"] == 3
    assert calls["sql_execute:INSERT"] == 0

    rows = store.fetch(
        "SELECT car_index, frame, speed_kph, gear, engine_rpm, lap_number, session_uid "
        "FROM car_telemetry WHERE frame = ? AND car_index IN (?, ?, ?) "
        "ORDER BY car_index",
        [np.uint32(100), 0, 5, 21],
    )
    assert rows == [
        (0, 100, pytest.approx(200.1), -1, 11_500, 3, -4_611_686_018_427_387_904),
        (5, 100, None, -1, 11_500, 3, -4_611_686_018_427_387_904),
        (21, 100, pytest.approx(221.1), -1, 11_500, 3, -4_611_686_018_427_387_904),
    ]
    assert store.fetch("SELECT COUNT(*) FROM car_telemetry") == [(cars * frames,)]
    assert store.fetch(
        "SELECT event_seq, event_code, vehicle_index, lap_time_s FROM event "
        "ORDER BY event_seq"
    ) == [(1, "FTLP", 7, 80.123), (2, "SCAR", -1, None)]
    assert store.fetch("SELECT started_unix_s, source FROM sessions") == [
        (datetime.datetime(2026, 1, 1, 0, 0, 0, 250_000), "replay:melbourne.pcap")
    ]
    # event_seq keeps rising across batches and across a reopen.
    store.write_batch({"event": events})
    reopened = open_store(server.store_settings())
    reopened.write_batch({"event": events})
    reopened.close()
    seqs = [row[0] for row in store.fetch("SELECT event_seq FROM event ORDER BY 1")]
    assert seqs == [1, 2, 3, 4, 5, 6]


def test_hostile_driver_names_survive_intact(store: HeavyDBStore) -> None:
    count = len(HOSTILE_NAMES)
    participants = _table_batch(
        TABLES["participants"],
        count,
        session_uid=np.full(count, 7),
        car_index=np.arange(count),
        name=np.array(HOSTILE_NAMES, dtype=object),
    )
    store.write_batch({"participants": participants})
    stored = store.fetch("SELECT car_index, name FROM participants ORDER BY car_index")
    assert stored == list(enumerate(HOSTILE_NAMES))
    for car_index, name in enumerate(HOSTILE_NAMES):
        found = store.fetch(
            "SELECT car_index FROM participants WHERE name = ? AND session_uid = ?",
            [name, 7],
        )
        assert found == [(car_index,)], name
    assert store.table_names() == sorted(TABLES)


def test_server_killed_is_unavailable_and_restarted_works_again(tmp_path: Path) -> None:
    process = HeavyDBServerProcess(tmp_path / "heavy.sqlite3", password=PASSWORD)
    process.start()
    try:
        store = open_store(process.store_settings())
        lap = _table_batch(
            TABLES["laps"],
            1,
            session_uid=[9],
            lap_number=[1],
            lap_time_s=[81.5],
            driver_name=np.array(["Piastri"], dtype=object),
        )
        store.write_batch({"laps": lap})
        process.kill()
        with pytest.raises(StoreUnavailableError) as caught:
            store.fetch("SELECT COUNT(*) FROM laps")
        message = str(caught.value)
        assert message == f"HeavyDB at 127.0.0.1:{process.port} unreachable ({REFUSED})"
        # Short: the dashboard header shows it beside the data's age.
        assert len(message) < 80
        with pytest.raises(StoreUnavailableError) as caught:
            store.write_batch({"laps": lap})
        assert caught.value.tables_written == ()  # type: ignore[attr-defined]
        process.start()
        assert store.fetch("SELECT driver_name, lap_time_s FROM laps") == [
            ("Piastri", 81.5)
        ]
        store.write_batch({"laps": lap})
        assert store.fetch("SELECT COUNT(*) FROM laps") == [(2,)]
        # A restart while idle invalidates the session; the next call reconnects.
        process.kill()
        process.start()
        assert store.fetch("SELECT COUNT(*) FROM laps") == [(2,)]
        store.write_batch({"laps": lap})
        assert store.fetch("SELECT COUNT(*) FROM laps") == [(3,)]
        store.close()
    finally:
        process.stop()


@pytest.fixture(scope="module")
def certificate_authority() -> trustme.CA:
    return trustme.CA()


def _https_server(
    tmp_path: Path, authority: trustme.CA
) -> tuple[HeavyDBTestServer, Path]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    server = HeavyDBTestServer(
        tmp_path / "heavy.sqlite3",
        password=PASSWORD,
        protocol="https",
        ssl_context=context,
    )
    return server, ca_file


def _with_tls(settings: StoreSettings, **tls: object) -> StoreSettings:
    return replace(settings, heavydb=replace(settings.heavydb, **tls))


def test_https_with_a_ca_file_or_without_verification(
    tmp_path: Path, certificate_authority: trustme.CA
) -> None:
    server, ca_file = _https_server(tmp_path, certificate_authority)
    with server:
        settings = server.store_settings()
        assert settings.heavydb.protocol == "https"
        # The server's certificate is signed by a CA the system does not trust.
        with pytest.raises(StoreError) as caught:
            open_store(settings)
        assert "TLS with HeavyDB at 127.0.0.1" in str(caught.value)
        assert "\n" not in str(caught.value)
        trusted = open_store(_with_tls(settings, tls_ca_file=str(ca_file)))
        trusted.write_batch(
            {"laps": _table_batch(TABLES["laps"], 1, lap_time_s=[79.25])}
        )
        assert trusted.fetch("SELECT lap_time_s FROM laps") == [(79.25,)]
        trusted.close()
        unverified = open_store(_with_tls(settings, tls_verify=False))
        assert unverified.fetch("SELECT COUNT(*) FROM laps") == [(1,)]
        unverified.close()
        with pytest.raises(StoreError, match="wrong user name or password"):
            open_store(_with_tls(settings, tls_verify=False, password="nope"))


def test_plain_http_protocol(tmp_path: Path) -> None:
    with HeavyDBTestServer(
        tmp_path / "heavy.sqlite3", password=PASSWORD, protocol="http"
    ) as server:
        store = open_store(server.store_settings())
        store.write_batch(
            {"laps": _table_batch(TABLES["laps"], 2, lap_time_s=[79.25, np.nan])}
        )
        assert store.fetch("SELECT lap_time_s FROM laps ORDER BY 1") == [
            (None,),
            (79.25,),
        ]
        store.close()


def test_without_a_driver_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # None in sys.modules makes an import fail as if the package were not installed.
    monkeypatch.setitem(sys.modules, "heavydb", None)
    monkeypatch.setitem(sys.modules, "pymapd", None)
    settings = StoreSettings(kind="heavydb", heavydb=HeavyDBSettings(port=_free_port()))
    with pytest.raises(StoreError) as caught:
        open_store(settings)
    assert "pip install pyheavydb" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_an_expired_session_is_renewed_without_doubling_a_write(
    server: HeavyDBTestServer, store: HeavyDBStore
) -> None:
    lap = _table_batch(TABLES["laps"], 1, lap_time_s=[88.5])
    server.handler.expire_sessions()
    store.write_batch({"laps": lap})
    server.handler.expire_sessions()
    assert store.fetch("SELECT lap_time_s FROM laps") == [(88.5,)]


def test_a_server_internal_error_is_a_store_error(store: HeavyDBStore) -> None:
    # A column without data makes the server fail inside its handler; Thrift answers
    # with TApplicationException, which must reach the caller as one StoreError line.
    broken = [TColumn(data=None, nulls=[False])]
    with pytest.raises(StoreError) as caught:
        store._call(
            "loading laps",
            lambda connection: connection._client.load_table_binary_columnar(
                connection._session, "laps", broken, ["lap_time_s"]
            ),
        )
    assert not isinstance(caught.value, StoreUnavailableError)
    assert "Internal error" in str(caught.value) and "\n" not in str(caught.value)
    assert store.fetch("SELECT COUNT(*) FROM laps") == [(0,)]


def test_a_stalled_server_times_out_instead_of_hanging(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 1 s instead of 30 s so the test is short; the code path is the same.
    monkeypatch.setattr(heavydb_store_module, "QUERY_TIMEOUT_S", 1.0)
    process = HeavyDBServerProcess(tmp_path / "heavy.sqlite3", password=PASSWORD)
    process.start()
    try:
        settings = process.store_settings()
        settings = replace(
            settings, heavydb=replace(settings.heavydb, connect_timeout_s=1.0)
        )
        store = open_store(settings)
        process.pause()
        try:
            started = time.monotonic()
            with pytest.raises(StoreUnavailableError) as caught:
                store.fetch("SELECT COUNT(*) FROM laps")
            # One reply timeout, then one login timeout on the retry: about 2 s.
            assert time.monotonic() - started < 10
            assert "no answer within 1 s" in str(caught.value)
            assert "\n" not in str(caught.value)
            started = time.monotonic()
            with pytest.raises(StoreUnavailableError, match="no answer within 1 s"):
                open_store(settings)
            assert time.monotonic() - started < 10
        finally:
            process.resume()
        assert store.fetch("SELECT COUNT(*) FROM laps") == [(0,)]
        store.close()
    finally:
        process.stop()


def test_a_load_whose_reply_was_lost_is_not_stored_twice(
    server: HeavyDBTestServer, store: HeavyDBStore
) -> None:
    # The server applies the laps load and dies before replying: the store cannot
    # know the rows landed, reports the batch unwritten, and the caller (the ingest
    # spool) offers the same rows again once the server is back.
    first = _table_batch(TABLES["laps"], 1, lap_number=[1], lap_time_s=[90.0])
    store.write_batch({"laps": first})
    lost = _table_batch(TABLES["laps"], 2, lap_number=[2, 3], lap_time_s=[89.0, 88.5])
    events = _table_batch(
        TABLES["event"], 2, event_code=np.array(["FTLP", "OVTK"], dtype=object)
    )
    events.pop("event_seq")
    server.handler.lose_next_load_reply()
    with pytest.raises(StoreUnavailableError) as caught:
        store.write_batch({"laps": lost, "event": events})
    assert caught.value.tables_written == ()  # type: ignore[attr-defined]
    assert store.write_batch({"laps": lost, "event": events}) == 4
    assert store.fetch("SELECT lap_number FROM laps ORDER BY lap_number") == [
        (1,),
        (2,),
        (3,),
    ]
    # The same with the event table, whose ids the store assigns.
    server.handler.lose_next_load_reply()
    more = _table_batch(TABLES["event"], 1, event_code=np.array(["SPTP"], dtype=object))
    more.pop("event_seq")
    with pytest.raises(StoreUnavailableError):
        store.write_batch({"event": more})
    store.write_batch({"event": more})
    store.write_batch({"event": more})  # a genuinely new event with the same values
    assert store.fetch("SELECT event_seq, event_code FROM event ORDER BY 1") == [
        (1, "FTLP"),
        (2, "OVTK"),
        (3, "SPTP"),
        (4, "SPTP"),
    ]


def test_writers_opening_an_empty_database_together_all_succeed(
    server: HeavyDBTestServer,
) -> None:
    # Ingest and a replay often start together: HeavyDB has no transactions, so
    # one may see store_meta before the other has written the version into it.
    opened: list[int] = []
    failures: list[BaseException] = []

    def open_and_close() -> None:
        try:
            store = open_store(server.store_settings())
            opened.append(store.schema_version)
            store.close()
        except StoreError as error:
            failures.append(error)

    threads = [threading.Thread(target=open_and_close) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert opened == [SCHEMA_VERSION] * 3
