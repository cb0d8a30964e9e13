"""The HeavyDB store: the Store protocol on a HeavyDB (formerly OmniSci/MapD) server.

It speaks through pyheavydb (``import heavydb``), pymapd's maintained successor with
the same connect/cursor API, and falls back to ``pymapd`` when only that is installed.

- Connecting builds the same Thrift stack ``heavydb.connect`` builds (binary: a socket,
  a buffered transport, the binary protocol; http/https: an HTTP client and the JSON
  protocol) with the driver's generated client, and queries go through the driver's
  own ``Cursor``. ``heavydb.connect`` itself opens its socket without a timeout, so a
  server that accepts TCP but never answers (stopped, overloaded) would hang the
  writer for ever; and for https it cannot take a CA file or skip verification.
- Writes are columnar bulk loads: one Thrift ``load_table_binary_columnar`` call per
  table per batch, never an INSERT per row. pyheavydb 7+ dropped pymapd's pandas-based
  ``load_table_columnar``; the Thrift call underneath it is what remains, so the store
  builds the ``TColumn`` lists itself (``tolist()`` per column, in C).
- Reads go through the driver's cursor with named parameters. HeavyDB's Thrift API has
  no bind parameters: the driver renders them as SQL literals (SQLAlchemy's literal
  rendering, which doubles quotes), so no code here ever formats a value into SQL.
- HeavyDB has no multi-table transactions: a batch is one load per table, each atomic
  on the server. If the server goes away mid-batch, StoreUnavailableError carries
  ``tables_written`` so a spool can replay only the rest; a load whose reply was lost
  is checked by row count when the server is back, so a replay never doubles it.
- The server going away raises StoreUnavailableError; the next call reconnects. The
  password is never logged and never appears in a repr or an error message.
"""

from __future__ import annotations

import hashlib
import http.client
import importlib
import logging
import socket
import ssl
import threading
import time
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import Any

import numpy as np

from f1dash_tui.errors import StoreError, StoreUnavailableError
from f1dash_tui.settings import HeavyDBSettings
from f1dash_tui.store.base import (
    TableColumns,
    batch_columns,
    check_schema_version,
    fill_event_seq,
    qmark_to_named,
)
from f1dash_tui.store.schema import (
    SCHEMA_VERSION,
    STORE_META,
    TABLES,
    create_table_sql,
)

log = logging.getLogger(__name__)

QUERY_TIMEOUT_S = 30.0
"""Longest wait for one reply after login (logging in waits connect_timeout_s). A
20,000-row batch loads in well under a second; 30 s leaves room for a busy server
without hanging a writer for ever on a stalled one."""

MIN_SERVER_VERSION = (4, 6)
"""pyheavydb refuses older servers: their columnar date loads were wrong."""

_CLIENT_MODULES = {
    "heavydb": "heavydb.thrift.Heavy",
    "pymapd": "omnisci.thrift.OmniSci",
}
"""The generated Thrift client inside each driver package."""

SCHEMA_VERSION_KEY = "schema_version"

SCHEMA_CREATION_WAIT_S = 5.0
"""How long to wait for another writer to record the schema version (it writes it
right after creating store_meta; the whole schema takes under a second)."""

_FLOAT_TYPES = ("f4", "f8")
_INT_TYPES = ("i2", "i4", "i8")


class _Session:
    """A logged-in Thrift session, shaped as the driver's ``Cursor`` expects.

    The cursor needs only ``_client``, ``_session`` and ``register_runtime_udfs``.
    """

    def __init__(
        self, client: Any, transport: Any, endpoint: Any, session: str, driver: Any
    ) -> None:
        self._client = client
        self._transport = transport
        self._endpoint = endpoint
        """The TSocket or THttpClient under the transport (it holds the timeout)."""
        self._session = session
        self._driver = driver
        self._closed = 0

    def register_runtime_udfs(self) -> None:
        """No runtime UDFs are used (the driver's cursor calls this)."""

    def cursor(self) -> Any:
        """A driver cursor on this session."""
        return self._driver.Cursor(self)

    def set_timeout(self, timeout_s: float) -> None:
        """Longest wait for a reply from now on."""
        self._endpoint.setTimeout(timeout_s * 1000)

    def close(self) -> None:
        """Log out and close the transport."""
        if self._closed:
            return
        self._closed = 1
        try:
            self._client.disconnect(self._session)
        finally:
            if self._transport.isOpen():
                self._transport.close()


def _load_driver() -> ModuleType:
    """pyheavydb, or pymapd where only that is installed."""
    for name in ("heavydb", "pymapd"):
        try:
            return importlib.import_module(name)
        except ImportError as error:
            log.debug("HeavyDB driver %s not importable: %s", name, error)
    raise StoreError(
        "the HeavyDB store needs pyheavydb: pip install pyheavydb (or use "
        'store.kind = "sqlite")'
    )


def _version_tuple(version: str) -> tuple[int, ...]:
    """(8, 0, 1) from "8.0.1-20240605-abc"; () when there is no number."""
    numbers = []
    for part in version.split("-", 1)[0].split("."):
        if not part.isdigit():
            break
        numbers.append(int(part))
    return tuple(numbers)


def _transport_errors() -> tuple[type[BaseException], ...]:
    from thrift.transport.TTransport import TTransportException

    return (TTransportException, OSError, EOFError, http.client.HTTPException)


def _failure_reason(error: BaseException, timeout_s: float) -> str:
    """Why a transport call failed, in a few words (a timeout says how long)."""
    from thrift.transport.TTransport import TTransportException

    timed_out = isinstance(error, TimeoutError) or (
        isinstance(error, TTransportException)
        and error.type == TTransportException.TIMED_OUT
    )
    if timed_out:
        return f"no answer within {timeout_s:g} s"
    # Thrift wraps the socket's own error (a reset, a broken pipe) as ``inner``.
    inner = getattr(error, "inner", None)
    closed = (EOFError, ConnectionResetError, BrokenPipeError)
    if (
        isinstance(error, closed)
        or isinstance(inner, closed)
        or (
            isinstance(error, TTransportException)
            and error.type == TTransportException.END_OF_FILE
        )
    ):
        return "it closed the connection without an answer: is it a HeavyDB server?"
    return _one_line(error) or type(error).__name__


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def tls_context(settings: HeavyDBSettings) -> ssl.SSLContext:
    """The SSL context for ``protocol = "https"`` from the TLS settings."""
    context = ssl.create_default_context(cafile=settings.tls_ca_file or None)
    if not settings.tls_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _thrift_column(values: np.ndarray, logical_type: str, ttypes: Any) -> Any:
    """One numpy column as a Thrift ``TColumn`` (values plus null flags)."""
    if logical_type in _FLOAT_TYPES:
        nulls = np.isnan(values)
        data = ttypes.TColumnData(real_col=np.where(nulls, 0.0, values).tolist())
    elif logical_type == "time":
        # TIMESTAMP(3): milliseconds since the epoch, from float unix seconds.
        nulls = np.isnan(values)
        millis = np.rint(np.where(nulls, 0.0, values) * 1000.0).astype(np.int64)
        data = ttypes.TColumnData(int_col=millis.tolist())
    elif logical_type in _INT_TYPES:
        nulls = np.zeros(len(values), dtype=bool)
        data = ttypes.TColumnData(int_col=values.tolist())
    else:
        text = values.tolist()
        nulls = np.fromiter((v is None for v in text), dtype=bool, count=len(text))
        data = ttypes.TColumnData(str_col=["" if v is None else str(v) for v in text])
    return ttypes.TColumn(data=data, nulls=nulls.tolist())


def _table_digest(arrays: Mapping[str, np.ndarray]) -> str:
    """A fingerprint of one table's rows (to recognise a batch offered again)."""
    digest = hashlib.blake2b(digest_size=16)
    for name, values in arrays.items():
        digest.update(name.encode())
        if values.dtype == object:
            digest.update("\x1f".join(map(str, values.tolist())).encode())
        else:
            digest.update(np.ascontiguousarray(values).tobytes())
    return digest.hexdigest()


def _python_value(value: Any) -> Any:
    """Parameters as plain Python values (the driver cannot render numpy scalars)."""
    if isinstance(value, np.generic):
        return value.item()
    return value


class HeavyDBStore:
    """The Store protocol on a HeavyDB server (see ``store.base.Store``)."""

    backend = "heavydb"

    def __init__(self, settings: HeavyDBSettings, *, read_only: bool = False) -> None:
        self.settings = settings
        self.read_only = read_only
        self.where = f"{settings.host}:{settings.port}"
        self._lock = threading.Lock()
        self._driver = _load_driver()
        self._transport_errors = _transport_errors()
        self._connection: Any = None
        self._ttypes: Any = None
        self._next_event_seq = 1
        self._reply_timeout_s = QUERY_TIMEOUT_S
        # The writer's bookkeeping for loads cut off by a broken connection.
        self._row_counts: dict[str, int] = {}
        self._uncertain_loads: list[tuple[str, str, int, int]] = []
        self._landed_loads: dict[tuple[str, str], bool] = {}
        self._opening = True
        with self._lock:
            self._connection = self._connect()
            try:
                self._schema_version = self._prepare()
            except BaseException:
                self._discard_connection()
                raise
        self._opening = False

    def __repr__(self) -> str:
        return (
            f"HeavyDBStore({self.settings.user}@{self.where}/"
            f"{self.settings.database}, protocol={self.settings.protocol})"
        )

    @property
    def schema_version(self) -> int:
        """The schema version recorded in the database."""
        return self._schema_version

    # -- connection ---------------------------------------------------------------

    def _unavailable(self, doing: str, reason: object) -> StoreUnavailableError:
        log.debug("HeavyDB at %s unreachable while %s: %s", self.where, doing, reason)
        if self._opening:
            # Opening: the user may have the address wrong, so say where to look.
            return StoreUnavailableError(
                f"HeavyDB at {self.where} is unreachable ({_one_line(reason)}); is "
                "the server running? (store.heavydb.host/port)"
            )
        # Later the address was right: a short line leaves the dashboard header room
        # for the data's age beside it.
        return StoreUnavailableError(
            f"HeavyDB at {self.where} unreachable ({_one_line(reason)})"
        )

    def _connect(self) -> Any:
        """Connect and log in; raise StoreError / StoreUnavailableError in one line."""
        settings = self.settings
        if settings.protocol not in ("binary", "http", "https"):
            raise StoreError(
                f"store.heavydb.protocol is {settings.protocol!r}; "
                "choose binary, http or https"
            )
        try:
            # A plain TCP probe first: it names the reason (refused, no route, unknown
            # host) that the Thrift socket's error leaves out.
            probe = socket.create_connection(
                (settings.host, settings.port), timeout=settings.connect_timeout_s
            )
            probe.close()
        except TimeoutError:
            reason = f"no answer within {settings.connect_timeout_s:g} s"
            raise self._unavailable("connecting", reason) from None
        except OSError as error:
            reason = error.strerror or type(error).__name__
            raise self._unavailable("connecting", reason) from None
        try:
            connection = self._log_in()
        except ssl.SSLError as error:
            raise StoreError(
                f"TLS with HeavyDB at {self.where} failed ({_one_line(error)}); "
                "check store.heavydb.tls_ca_file / tls_verify"
            ) from None
        except self._transport_errors as error:
            reason = _failure_reason(error, settings.connect_timeout_s)
            raise self._unavailable("logging in", reason) from None
        self._reply_timeout_s = max(QUERY_TIMEOUT_S, settings.connect_timeout_s)
        connection.set_timeout(self._reply_timeout_s)
        log.info(
            "connected to HeavyDB at %s as %s (%s)",
            self.where,
            settings.user,
            settings.protocol,
        )
        return connection

    def _log_in(self) -> _Session:
        """Open the transport (timeouts set before the first byte) and log in."""
        from thrift.protocol.TBinaryProtocol import TBinaryProtocolAccelerated
        from thrift.protocol.TJSONProtocol import TJSONProtocol
        from thrift.transport.THttpClient import THttpClient
        from thrift.transport.TSocket import TSocket
        from thrift.transport.TTransport import TBufferedTransport

        settings = self.settings
        timeout_ms = settings.connect_timeout_s * 1000
        endpoint: Any
        if settings.protocol == "binary":
            endpoint = TSocket(settings.host, settings.port)
            transport: Any = TBufferedTransport(endpoint)
            protocol: Any = TBinaryProtocolAccelerated(transport)
        else:
            context = tls_context(settings) if settings.protocol == "https" else None
            endpoint = THttpClient(
                f"{settings.protocol}://{settings.host}:{settings.port}",
                ssl_context=context,
            )
            transport = endpoint
            protocol = TJSONProtocol(transport)
        endpoint.setTimeout(timeout_ms)
        client_module = importlib.import_module(_CLIENT_MODULES[self._driver.__name__])
        if self._ttypes is None:
            package = client_module.__name__.rsplit(".", 1)[0]
            self._ttypes = importlib.import_module(f"{package}.ttypes")
        client = client_module.Client(protocol)
        transport.open()
        try:
            session = client.connect(
                settings.user, settings.password, settings.database
            )
            version = client.get_version()
        except self._ttypes.TDBException as error:
            transport.close()
            raise self._rejected(str(error.error_msg)) from None
        except BaseException:
            if transport.isOpen():
                transport.close()
            raise
        connection = _Session(client, transport, endpoint, session, self._driver)
        if _version_tuple(version) < MIN_SERVER_VERSION:
            connection.close()
            raise StoreError(
                f"HeavyDB at {self.where} runs version {version}; f1dash-tui needs "
                f"{MIN_SERVER_VERSION[0]}.{MIN_SERVER_VERSION[1]} or newer"
            )
        return connection

    def _rejected(self, message: str) -> StoreError:
        text = _one_line(message)
        lowered = text.lower()
        user = self.settings.user
        if "credential" in lowered or "password" in lowered or "user" in lowered:
            return StoreError(
                f"HeavyDB at {self.where} rejected user '{user}': wrong user name or "
                "password (store.heavydb.user, F1DASH_HEAVYDB_PASSWORD)"
            )
        if "database" in lowered:
            return StoreError(
                f"HeavyDB at {self.where} has no database "
                f"'{self.settings.database}' (store.heavydb.database)"
            )
        return StoreError(f"HeavyDB at {self.where} refused the login: {text}")

    def _discard_connection(self) -> None:
        """Close the connection, quietly when the server is already gone."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        from thrift.Thrift import TException

        try:
            connection.close()
        except (TException, *self._transport_errors) as error:
            # TDBException ("Session not valid") is a TException too.
            log.debug("closing the HeavyDB connection to %s: %s", self.where, error)

    def _ensure_connection(self) -> Any:
        if self._connection is None:
            self._connection = self._connect()
        return self._connection

    def _call(self, doing: str, action: Any, *, idempotent: bool = False) -> Any:
        """Run ``action(connection)``; reconnect once when the session went stale.

        A server restart invalidates sessions ("Session not valid"): the server
        checks the session before doing anything, so one retry cannot double a write.
        A broken connection is retried once only for ``idempotent`` calls (reads):
        a load whose reply was lost may have been applied.
        """
        from thrift.Thrift import TException

        for attempt in (1, 2):
            connection = self._ensure_connection()
            try:
                return action(connection)
            except self._transport_errors as error:
                self._discard_connection()
                if idempotent and attempt == 1:
                    log.info("HeavyDB connection to %s broke; retrying", self.where)
                    continue
                reason = _failure_reason(error, self._reply_timeout_s)
                raise self._unavailable(doing, reason) from None
            except Exception as error:
                message = _one_line(getattr(error, "error_msg", None) or error)
                if "session not valid" in message.lower() and attempt == 1:
                    log.info("HeavyDB session at %s expired; reconnecting", self.where)
                    self._discard_connection()
                    continue
                # TDBException (error_msg), the driver's errors, and TException
                # such as TApplicationException (the server's internal errors).
                if isinstance(error, (self._driver.Error, TException)) or hasattr(
                    error, "error_msg"
                ):
                    raise StoreError(
                        f"HeavyDB at {self.where} failed while {doing}: {message}"
                    ) from None
                raise
        raise AssertionError("unreachable")

    # -- schema -------------------------------------------------------------------

    def _table_names(self) -> set[str]:
        return set(
            self._call(
                "listing tables",
                lambda connection: connection._client.get_tables(connection._session),
                idempotent=True,
            )
        )

    def _prepare(self) -> int:
        """Create missing tables (unless read-only) and check the schema version."""
        how = (
            f"use another store.heavydb.database, or drop the f1dash tables in "
            f"{self.settings.database}"
        )
        where = f"HeavyDB database {self.settings.database} at {self.where}"
        existing = self._table_names()
        if STORE_META.name not in existing:
            if self.read_only and not existing & set(TABLES):
                raise StoreError(
                    f"{where} holds no f1dash-tui store yet: start `f1dash-tui "
                    "ingest` (or replay or simulate) with this store first"
                )
            if self.read_only or existing & set(TABLES):
                return check_schema_version(None, where, how)
        statements = {
            name: create_table_sql(table, "heavydb") for name, table in TABLES.items()
        }
        # store_meta and its version first: a crash halfway through creating the
        # schema leaves a store that the next open completes.
        if not self.read_only and STORE_META.name not in existing:
            self._execute(statements[STORE_META.name])
            self._load(
                STORE_META.name,
                {
                    "meta_key": np.array([SCHEMA_VERSION_KEY], dtype=object),
                    "meta_value": np.array([str(SCHEMA_VERSION)], dtype=object),
                },
            )
            log.info("created the f1dash-tui schema on %s", where)
        version = check_schema_version(self._wait_for_version(), where, how)
        if not self.read_only:
            for table, statement in statements.items():
                if table not in existing and table != STORE_META.name:
                    self._execute(statement)
        if "event" in existing or not self.read_only:
            rows = self._fetch_locked("SELECT MAX(event_seq) FROM event", ())
            latest = rows[0][0] if rows else None
            self._next_event_seq = int(latest) + 1 if latest is not None else 1
        return version

    def _wait_for_version(self) -> str | None:
        """The stored schema version, waiting for a writer that is creating it.

        Ingest and a replay (or a dashboard) often start together on an empty
        database; HeavyDB has no transactions, so one of them can see store_meta
        before its version row. Creating the schema takes well under a second.
        """
        deadline = time.monotonic() + SCHEMA_CREATION_WAIT_S
        found = self._stored_version()
        while found is None and time.monotonic() < deadline:
            time.sleep(0.1)
            found = self._stored_version()
        return found

    def _stored_version(self) -> str | None:
        rows = self._fetch_locked(
            "SELECT meta_value FROM store_meta WHERE meta_key = ?",
            (SCHEMA_VERSION_KEY,),
        )
        versions = sorted({str(value) for (value,) in rows})
        return versions[-1] if versions else None

    def _execute(self, statement: str) -> None:
        self._call("creating tables", lambda c: c.cursor().execute(statement))

    # -- writing ------------------------------------------------------------------

    def _load(self, table_name: str, arrays: Mapping[str, np.ndarray]) -> int:
        """One columnar bulk load of one table's columns."""
        table = TABLES[table_name]
        names = list(arrays)
        ttypes = self._ttypes
        columns = [
            _thrift_column(arrays[name], table.column(name).type, ttypes)
            for name in names
        ]
        self._call(
            f"loading {table_name}",
            lambda connection: connection._client.load_table_binary_columnar(
                connection._session, table_name, columns, names
            ),
        )
        return len(arrays[names[0]]) if names else 0

    def write_batch(self, tables: Mapping[str, TableColumns]) -> int:
        """Append every given table, one columnar load each; return rows written."""
        if self.read_only:
            raise StoreError(f"HeavyDB at {self.where} was opened read-only")
        prepared = [
            (name, batch_columns(name, columns)) for name, columns in tables.items()
        ]
        rows_written = 0
        tables_written: list[str] = []
        with self._lock:
            try:
                self._settle_uncertain_loads()
                for name, arrays in prepared:
                    rows = len(next(iter(arrays.values()))) if arrays else 0
                    if rows == 0:
                        continue
                    rows_written += self._write_table(name, arrays, rows)
                    tables_written.append(name)
            except StoreError as error:
                error.tables_written = tuple(tables_written)  # type: ignore[attr-defined]
                raise
            # A landed load not offered again in the first whole batch after the
            # outage was dropped by the caller (ingest checks too): forget it, so
            # that later rows with equal values are never skipped.
            self._landed_loads.clear()
        return rows_written

    def _write_table(self, name: str, arrays: dict[str, np.ndarray], rows: int) -> int:
        """Load one table of a batch, at most once even across a broken connection.

        A connection that breaks during a load leaves it unknown whether the server
        applied it (the reply may be what was lost). The load is remembered with the
        table's row count before it; ``_settle_uncertain_loads`` compares the count
        once the server is back, and when the caller (the ingest spool) offers the
        same rows again, rows that did land are not loaded twice. Counting works
        because a store has one writer.
        """
        digest = _table_digest(arrays)
        if self._landed_loads.pop((name, digest), False):
            log.info(
                "%s rows from before the outage had landed; not loading again", name
            )
            return rows
        count_before = self._row_count(name)
        next_event_seq = self._next_event_seq
        if name == "event":
            next_event_seq = fill_event_seq(arrays, next_event_seq)
        self._ensure_connection()
        try:
            self._load(name, arrays)
        except StoreUnavailableError:
            self._uncertain_loads.append((name, digest, count_before, rows))
            raise
        self._row_counts[name] = count_before + rows
        self._next_event_seq = next_event_seq
        return rows

    def _row_count(self, name: str) -> int:
        if name not in self._row_counts:
            (count,) = self._fetch_locked(f"SELECT COUNT(*) FROM {name}", ())[0]
            self._row_counts[name] = int(count)
        return self._row_counts[name]

    def _settle_uncertain_loads(self) -> None:
        """Find out whether loads cut off by a broken connection were applied."""
        while self._uncertain_loads:
            name, digest, count_before, rows = self._uncertain_loads[0]
            self._row_counts.pop(name, None)
            count_now = self._row_count(name)
            if count_now == count_before + rows:
                self._landed_loads[(name, digest)] = True
                if name == "event":
                    (latest,) = self._fetch_locked(
                        "SELECT MAX(event_seq) FROM event", ()
                    )[0]
                    self._next_event_seq = max(self._next_event_seq, int(latest) + 1)
            elif count_now != count_before:
                log.warning(
                    "%s holds %d rows, expected %d or %d: another writer? A batch "
                    "replayed after the outage may be stored twice",
                    name,
                    count_now,
                    count_before,
                    count_before + rows,
                )
            self._uncertain_loads.pop(0)

    # -- reading ------------------------------------------------------------------

    def _fetch_locked(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        named_sql, named = qmark_to_named(sql, params)
        values = {key: _python_value(value) for key, value in named.items()}

        def run(connection: Any) -> list[tuple[Any, ...]]:
            cursor = connection.cursor()
            cursor.execute(named_sql, values or None)
            return [tuple(row) for row in cursor]

        return list(self._call("querying", run, idempotent=True))

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one parameterised SELECT (``?`` placeholders) and return its rows."""
        with self._lock:
            return self._fetch_locked(sql, params)

    def close(self) -> None:
        """Log out and close the connection."""
        with self._lock:
            self._discard_connection()

    def __enter__(self) -> HeavyDBStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def table_names(self) -> list[str]:
        """Stored table names present in the database (for doctor and tests)."""
        with self._lock:
            return sorted(self._table_names() & set(TABLES))
