"""The Thrift handler of the test server: HeavyDB's service calls on a SQLite file.

It implements what pyheavydb's Connection and Cursor call (connect, disconnect,
get_version, sql_execute) plus the catalog calls (get_tables, get_table_details,
get_server_status, get_hardware_info) and the bulk loads (load_table_binary_columnar,
load_table_binary, load_table). Every other service call answers with the server's
exception type, TDBException, saying that the test server does not provide it.

One SQLite connection behind one lock serves every client thread: the test server is
about wire compatibility, not concurrency.
"""

from __future__ import annotations

import hmac
import logging
import math
import os
import secrets
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from heavydb.common.ttypes import TDatumType, TEncodingType, TTypeInfo
from heavydb.thrift.ttypes import (
    TClusterHardwareInfo,
    TColumn,
    TColumnData,
    TColumnType,
    TDBException,
    THardwareInfo,
    TQueryResult,
    TQueryType,
    TRole,
    TRowSet,
    TServerStatus,
    TTableDetails,
    TTableType,
)
from thrift.transport.TTransport import TTransportException

from .dialect import (
    INTEGER_TYPES,
    REAL_TYPES,
    ColumnDef,
    DialectError,
    is_query,
    parse_create_table,
    parse_drop_table,
    refuse_sqlite_only,
    result_sources,
)

logger = logging.getLogger(__name__)

SERVER_VERSION = "8.0.1-f1dash-test"
"""Reported by get_version; pyheavydb refuses servers older than 4.6."""

_CATALOG_DDL = (
    "CREATE TABLE IF NOT EXISTS _heavydb_catalog ("
    "table_name TEXT NOT NULL, position INTEGER NOT NULL, column_name TEXT NOT NULL, "
    "type_name TEXT NOT NULL, datum_type INTEGER NOT NULL, sqlite_type TEXT NOT NULL, "
    "encoding INTEGER NOT NULL, comp_param INTEGER NOT NULL, "
    "precision INTEGER NOT NULL, scale INTEGER NOT NULL, nullable INTEGER NOT NULL, "
    "PRIMARY KEY (table_name, position))"
)


def _fail(message: str) -> NoReturn:
    raise TDBException(error_msg=message)


def _type_info(datum_type: int, column: ColumnDef | None = None) -> TTypeInfo:
    if column is None:
        encoding = TEncodingType.DICT if datum_type == TDatumType.STR else 0
        return TTypeInfo(
            type=datum_type,
            encoding=encoding,
            nullable=True,
            is_array=False,
            precision=0,
            scale=0,
            comp_param=32 if datum_type == TDatumType.STR else 0,
        )
    return TTypeInfo(
        type=column.datum_type,
        encoding=column.encoding,
        nullable=column.nullable,
        is_array=False,
        precision=column.precision,
        scale=column.scale,
        comp_param=column.comp_param,
    )


def _empty_column_data() -> TColumnData:
    return TColumnData(int_col=[], real_col=[], str_col=[], arr_col=[])


def _infer_datum_type(values: Sequence[Any]) -> int:
    """HeavyDB type of a computed result column, from its SQLite values."""
    seen = {type(v) for v in values if v is not None}
    if str in seen or bytes in seen:
        return TDatumType.STR
    if float in seen:
        return TDatumType.DOUBLE
    if int in seen:
        return TDatumType.BIGINT
    return TDatumType.DOUBLE


def _result_column(values: Sequence[Any], datum_type: int) -> TColumn:
    nulls = [v is None for v in values]
    data = _empty_column_data()
    if datum_type == TDatumType.STR:
        data.str_col = [
            "" if v is None else v.decode() if isinstance(v, bytes) else str(v)
            for v in values
        ]
    elif datum_type in REAL_TYPES:
        data.real_col = [0.0 if v is None else float(v) for v in values]
    else:
        data.int_col = [0 if v is None else int(v) for v in values]
    return TColumn(data=data, nulls=nulls)


class HeavyDBTestHandler:
    """Implements the HeavyDB Thrift service (heavydb.thrift.Heavy.Iface) on SQLite."""

    def __init__(
        self,
        db_path: Path,
        *,
        user: str = "admin",
        password: str,
        database: str = "heavyai",
    ) -> None:
        self._user = user
        self._password = password
        self._database = database
        self._sessions: dict[str, str] = {}
        self._lose_next_load_reply = False
        self.calls: Counter[str] = Counter()
        """Service calls served, by name (sql_execute by statement verb), for tests
        that check how a client talks to the server (bulk loads, not row INSERTs)."""
        self._lock = threading.Lock()
        self._started_unix_s = int(time.time())
        self._db = sqlite3.connect(
            str(db_path), check_same_thread=False, isolation_level=None
        )
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(_CATALOG_DDL)

    def __repr__(self) -> str:
        return f"HeavyDBTestHandler(user={self._user!r}, database={self._database!r})"

    def close(self) -> None:
        """Close the SQLite file."""
        with self._lock:
            self._db.close()

    def __getattr__(self, name: str) -> Callable[..., NoReturn]:
        # Service calls the test server does not provide answer like a server error.
        if name.startswith("_"):
            raise AttributeError(name)

        def not_supported(*_args: object) -> NoReturn:
            _fail(f"{name} is not supported by the f1dash-tui HeavyDB test server")

        return not_supported

    # -- sessions ---------------------------------------------------------------

    def connect(self, user: str, passwd: str, dbname: str) -> str:
        user_ok = hmac.compare_digest(user.encode(), self._user.encode())
        password_ok = hmac.compare_digest(passwd.encode(), self._password.encode())
        if not (user_ok and password_ok):
            logger.info("rejected a connection for user %r", user)
            _fail("Invalid credentials.")
        if dbname and dbname != self._database:
            _fail(f"Database name {dbname} does not exist.")
        session = secrets.token_hex(16)
        self._sessions[session] = user
        return session

    def disconnect(self, session: str) -> None:
        self._check_session(session)
        del self._sessions[session]

    def lose_next_load_reply(self) -> None:
        """Apply the next bulk load, then drop the connection instead of replying,
        as a server that dies right after committing would: the client cannot tell
        whether its rows landed."""
        self._lose_next_load_reply = True

    def _after_load(self) -> None:
        if self._lose_next_load_reply:
            self._lose_next_load_reply = False
            # The Processor lets a transport error through; the server then closes
            # the connection without a reply.
            raise TTransportException(message="test server dropped the reply")

    def expire_sessions(self) -> None:
        """Forget every session, as HeavyDB does after its idle-session timeout
        (60 minutes by default) or a restart: clients then get "Session not valid"."""
        self._sessions.clear()

    def _check_session(self, session: str) -> None:
        if session not in self._sessions:
            _fail("Session not valid.")

    def get_version(self) -> str:
        return SERVER_VERSION

    def _status(self) -> TServerStatus:
        return TServerStatus(
            read_only=False,
            version=SERVER_VERSION,
            rendering_enabled=False,
            start_time=self._started_unix_s,
            edition="ce",
            host_name="127.0.0.1",
            poly_rendering_enabled=False,
            role=TRole.SERVER,
            renderer_status_json="",
            host_id="",
        )

    def get_server_status(self, session: str) -> TServerStatus:
        self._check_session(session)
        return self._status()

    def get_status(self, session: str) -> list[TServerStatus]:
        self._check_session(session)
        return [self._status()]

    def get_hardware_info(self, session: str) -> TClusterHardwareInfo:
        self._check_session(session)
        info = THardwareInfo(
            num_gpu_hw=0,
            num_cpu_hw=os.cpu_count() or 1,
            num_gpu_allocated=0,
            start_gpu=0,
            host_name="127.0.0.1",
            gpu_info=[],
        )
        return TClusterHardwareInfo(hardware_info=[info])

    # -- catalog ----------------------------------------------------------------

    def _catalog_columns(self, table: str) -> list[ColumnDef]:
        rows = self._db.execute(
            "SELECT column_name, type_name, datum_type, sqlite_type, encoding, "
            "comp_param, precision, scale, nullable FROM _heavydb_catalog "
            "WHERE table_name = ? ORDER BY position",
            (table,),
        ).fetchall()
        return [ColumnDef(*row[:8], nullable=bool(row[8])) for row in rows]

    def _table_names(self) -> list[str]:
        rows = self._db.execute(
            "SELECT DISTINCT table_name FROM _heavydb_catalog ORDER BY table_name"
        ).fetchall()
        return [row[0] for row in rows]

    def get_tables(self, session: str) -> list[str]:
        self._check_session(session)
        with self._lock:
            return self._table_names()

    def get_physical_tables(self, session: str) -> list[str]:
        return self.get_tables(session)

    def get_views(self, session: str) -> list[str]:
        self._check_session(session)
        return []

    def get_table_details(self, session: str, table_name: str) -> TTableDetails:
        self._check_session(session)
        with self._lock:
            columns = self._catalog_columns(table_name)
        if not columns:
            _fail(
                f"Table/View {table_name} for catalog {self._database} does not exist"
            )
        row_desc = [
            TColumnType(
                col_name=c.name,
                col_type=_type_info(c.datum_type, c),
                is_reserved_keyword=False,
                src_name="",
                is_system=False,
                is_physical=True,
                col_id=position,
                default_value=None,
                comment=None,
            )
            for position, c in enumerate(columns, start=1)
        ]
        return TTableDetails(
            row_desc=row_desc,
            fragment_size=32_000_000,
            page_size=2_097_152,
            max_rows=2**62,
            view_sql="",
            shard_count=0,
            key_metainfo="[]",
            is_temporary=False,
            table_type=TTableType.DEFAULT,
        )

    # -- SQL --------------------------------------------------------------------

    def sql_execute(
        self,
        session: str,
        query: str,
        column_format: bool,
        nonce: str | None,
        first_n: int,
        at_most_n: int,
    ) -> TQueryResult:
        self._check_session(session)
        verb = query.split(None, 1)[0].upper() if query.strip() else ""
        self.calls[f"sql_execute:{verb}"] += 1
        started = time.perf_counter()
        with self._lock:
            try:
                row_set, query_type = self._execute(query, first_n)
            except (sqlite3.Error, DialectError) as error:
                _fail(f"Exception: SQL Error: {error}")
        row_count = len(row_set.columns[0].nulls) if row_set.columns else 0
        if at_most_n is not None and 0 < at_most_n < row_count:
            _fail(f"The result has more rows than the cap of {at_most_n}")
        elapsed_ms = int((time.perf_counter() - started) * 1000)
        return TQueryResult(
            row_set=row_set,
            execution_time_ms=elapsed_ms,
            total_time_ms=elapsed_ms,
            nonce=nonce,
            debug="",
            success=True,
            query_type=query_type,
        )

    def _execute(self, query: str, first_n: int) -> tuple[TRowSet, int]:
        refuse_sqlite_only(query)
        create = parse_create_table(query)
        if create is not None:
            exists = bool(self._catalog_columns(create.table))
            if exists and not create.if_not_exists:
                raise DialectError(f"Table {create.table} already exists.")
            if not exists:
                self._db.execute("BEGIN")
                try:
                    self._db.execute(create.sqlite_ddl())
                    self._db.executemany(
                        "INSERT INTO _heavydb_catalog VALUES "
                        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        [
                            (
                                create.table,
                                position,
                                c.name,
                                c.type_name,
                                c.datum_type,
                                c.sqlite_type,
                                c.encoding,
                                c.comp_param,
                                c.precision,
                                c.scale,
                                int(c.nullable),
                            )
                            for position, c in enumerate(create.columns)
                        ],
                    )
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
            return self._empty_row_set(), TQueryType.SCHEMA_WRITE
        dropped = parse_drop_table(query)
        if dropped is not None:
            self._db.execute("BEGIN")
            try:
                self._db.execute(query)
                self._db.execute(
                    "DELETE FROM _heavydb_catalog WHERE table_name = ?", (dropped,)
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return self._empty_row_set(), TQueryType.SCHEMA_WRITE
        cursor = self._db.execute(query)
        if cursor.description is None or not is_query(query):
            return self._empty_row_set(), TQueryType.WRITE
        rows = cursor.fetchall() if first_n < 0 else cursor.fetchmany(first_n)
        names = [d[0] for d in cursor.description]
        columns_by_name = self._declared_types_by_name()
        sources = result_sources(query)
        row_desc = []
        columns = []
        for index, name in enumerate(names):
            values = [row[index] for row in rows]
            declared = columns_by_name.get(sources.get(name.lower(), name))
            if declared is not None and declared.datum_type in (
                TDatumType.TIMESTAMP,
                TDatumType.DATE,
                TDatumType.TIME,
                TDatumType.BOOL,
            ):
                datum_type = declared.datum_type
                type_info = _type_info(datum_type, declared)
            else:
                datum_type = _infer_datum_type(values)
                type_info = _type_info(datum_type)
            row_desc.append(TColumnType(col_name=name, col_type=type_info))
            columns.append(_result_column(values, datum_type))
        row_set = TRowSet(row_desc=row_desc, rows=[], columns=columns, is_columnar=True)
        return row_set, TQueryType.READ

    def _declared_types_by_name(self) -> dict[str, ColumnDef]:
        """Columns whose name means one type in every table (for typed results)."""
        by_name: dict[str, ColumnDef] = {}
        ambiguous: set[str] = set()
        for table in self._table_names():
            for column in self._catalog_columns(table):
                known = by_name.get(column.name)
                if known is not None and known.datum_type != column.datum_type:
                    ambiguous.add(column.name)
                by_name[column.name] = column
        return {k: v for k, v in by_name.items() if k not in ambiguous}

    @staticmethod
    def _empty_row_set() -> TRowSet:
        return TRowSet(row_desc=[], rows=[], columns=[], is_columnar=True)

    # -- bulk loads ---------------------------------------------------------------

    def load_table_binary_columnar(
        self,
        session: str,
        table_name: str,
        cols: list[TColumn],
        column_names: list[str],
    ) -> None:
        self._check_session(session)
        self.calls["load_table_binary_columnar"] += 1
        with self._lock:
            columns = self._load_target(table_name, column_names, len(cols))
            value_lists = [
                self._column_values(column, data, table_name)
                for column, data in zip(columns, cols, strict=True)
            ]
            self._insert(table_name, columns, value_lists)
        self._after_load()

    def load_table_binary(
        self, session: str, table_name: str, rows: list[Any], column_names: list[str]
    ) -> None:
        self._check_session(session)
        with self._lock:
            width = len(rows[0].cols) if rows else len(column_names)
            columns = self._load_target(table_name, column_names, width)
            value_lists: list[list[Any]] = [[] for _ in columns]
            for row in rows:
                if len(row.cols) != len(columns):
                    _fail(f"Loader: wrong number of columns for table {table_name}")
                for values, column, datum in zip(
                    value_lists, columns, row.cols, strict=True
                ):
                    values.append(None if datum.is_null else self._datum(column, datum))
            self._insert(table_name, columns, value_lists)

    def load_table(
        self, session: str, table_name: str, rows: list[Any], column_names: list[str]
    ) -> None:
        self._check_session(session)
        with self._lock:
            width = len(rows[0].cols) if rows else len(column_names)
            columns = self._load_target(table_name, column_names, width)
            value_lists: list[list[Any]] = [[] for _ in columns]
            for row in rows:
                if len(row.cols) != len(columns):
                    _fail(f"Loader: wrong number of columns for table {table_name}")
                for values, column, text in zip(
                    value_lists, columns, row.cols, strict=True
                ):
                    values.append(
                        None if text.is_null else self._parse_text(column, text.str_val)
                    )
            self._insert(table_name, columns, value_lists)

    def _load_target(
        self, table_name: str, column_names: list[str], width: int
    ) -> list[ColumnDef]:
        table_columns = self._catalog_columns(table_name)
        if not table_columns:
            _fail(
                f"Table/View {table_name} for catalog {self._database} does not exist"
            )
        if not column_names:
            columns = table_columns
        else:
            by_name = {c.name: c for c in table_columns}
            unknown = [name for name in column_names if name not in by_name]
            if unknown:
                _fail(f"Column {unknown[0]} does not exist in table {table_name}")
            columns = [by_name[name] for name in column_names]
        if len(columns) != width:
            _fail(
                f"Loader: {width} columns sent for {len(columns)} columns "
                f"of table {table_name}"
            )
        return columns

    @staticmethod
    def _column_values(column: ColumnDef, data: TColumn, table_name: str) -> list[Any]:
        if column.datum_type == TDatumType.STR:
            values = data.data.str_col or []
        elif column.datum_type in REAL_TYPES:
            values = data.data.real_col or []
        else:
            values = data.data.int_col or []
        nulls = data.nulls or [False] * len(values)
        if len(nulls) != len(values):
            _fail(f"Loader: nulls and values differ in length for {column.name}")
        if not column.nullable and any(nulls):
            _fail(f"Cannot insert NULL into NOT NULL column {column.name}")
        if column.datum_type in REAL_TYPES:
            # SQLite stores NaN as NULL; HeavyDB keeps NaN apart from NULL only for
            # FLOAT/DOUBLE, and the store writes NaN for "not sent", so keep NULL.
            return [
                None if null or math.isnan(v) else v
                for null, v in zip(nulls, values, strict=True)
            ]
        return [None if null else v for null, v in zip(nulls, values, strict=True)]

    @staticmethod
    def _datum(column: ColumnDef, datum: Any) -> Any:
        if column.datum_type == TDatumType.STR:
            return datum.val.str_val
        if column.datum_type in REAL_TYPES:
            return datum.val.real_val
        return datum.val.int_val

    @staticmethod
    def _parse_text(column: ColumnDef, text: str) -> Any:
        try:
            if column.datum_type == TDatumType.STR:
                return text
            if column.datum_type in REAL_TYPES:
                return float(text)
            if column.datum_type in INTEGER_TYPES:
                return int(text)
        except ValueError:
            _fail(f"Loader: cannot convert {text!r} for column {column.name}")
        return text

    def _insert(
        self, table_name: str, columns: list[ColumnDef], value_lists: list[list[Any]]
    ) -> None:
        lengths = {len(values) for values in value_lists}
        if len(lengths) > 1:
            _fail(f"Loader: columns of different lengths for table {table_name}")
        names = ", ".join(f'"{c.name}"' for c in columns)
        marks = ", ".join("?" for _ in columns)
        statement = f'INSERT INTO "{table_name}" ({names}) VALUES ({marks})'
        self._db.execute("BEGIN")
        try:
            self._db.executemany(statement, zip(*value_lists, strict=True))
            self._db.execute("COMMIT")
        except sqlite3.Error as error:
            self._db.execute("ROLLBACK")
            _fail(f"Loader: {error}")
