"""The Store interface both backends implement, and ``open_store``.

A store is one writer (ingest) and any number of readers (viewers). Readers call
``fetch`` with the portable SQL in ``store.queries``; the writer calls ``write_batch``.

SQL conventions every backend accepts:

- Placeholders are ``?`` (qmark), values passed as a sequence, never formatted into
  the SQL text. SQLite takes them as they are; pyheavydb's cursor takes ``:name``
  parameters (its ``paramstyle`` is "named"), so the HeavyDB backend rewrites them
  with ``qmark_to_named`` before executing.
- Only the SQL both dialects run: SELECT with WHERE/ORDER BY/LIMIT, GROUP BY with
  MIN/MAX, uncorrelated scalar subqueries, IN lists. No correlated subqueries, no
  window functions, no UPSERT (tables are append-only anyway).
- ``time`` columns come back as float unix seconds (SQLite) or ``datetime``
  (HeavyDB); NULL comes back as None (SQLite stores NaN as NULL).
"""

from __future__ import annotations

import importlib
import logging
import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, Protocol, runtime_checkable

import numpy as np

from f1dash_tui.errors import ConfigError, SchemaVersionError
from f1dash_tui.settings import StoreSettings
from f1dash_tui.store.schema import EVENT_SEQ, SCHEMA_VERSION, TABLES

log = logging.getLogger(__name__)

TableColumns = Mapping[str, np.ndarray]
"""One table of a batch: column name -> equal-length numpy array."""


def unix_seconds(value: Any) -> float | None:
    """Wall-clock seconds from a ``time`` column as read: SQLite's REAL or
    HeavyDB's TIMESTAMP (a naive ``datetime``, UTC); None for NULL/NaN."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.timestamp()
    result = float(value)
    return None if math.isnan(result) else result


@runtime_checkable
class Store(Protocol):
    """What ingest, the queries and the tools need from a backend."""

    backend: str
    """"sqlite" or "heavydb"."""
    read_only: bool

    @property
    def schema_version(self) -> int:
        """The schema version the store was created with."""
        ...

    def write_batch(self, tables: Mapping[str, TableColumns]) -> int:
        """Append every given table's rows atomically; return rows written.

        Keys are table names from ``schema.TABLES``; each table must carry every
        stored column (extra columns such as ``datagram_index`` are ignored), except
        ``event.event_seq`` which the store assigns when absent.
        """
        ...

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one parameterised SELECT (``?`` placeholders) and return its rows."""
        ...

    def close(self) -> None:
        """Release the connection; the store object is unusable afterwards."""
        ...


def open_store(settings: StoreSettings, *, read_only: bool = False) -> Store:
    """Open (and, unless ``read_only``, create) the configured store.

    Raises StoreError (or its subclasses SchemaVersionError, StoreUnavailableError)
    with a one-line message the user can act on.
    """
    if settings.kind == "sqlite":
        from f1dash_tui.store.sqlite import SQLiteStore

        return SQLiteStore(settings.sqlite_path, read_only=read_only)
    if settings.kind == "heavydb":
        # Imported on demand: pyheavydb pulls in thrift, pyarrow and sqlalchemy.
        module = importlib.import_module("f1dash_tui.store.heavydb")
        store: Store = module.HeavyDBStore(settings.heavydb, read_only=read_only)
        return store
    raise ConfigError(
        f"store.kind is {settings.kind!r}; choose 'sqlite' (embedded) or 'heavydb'"
    )


def check_schema_version(found: str | None, where: str, how_to_proceed: str) -> int:
    """Return the store's version, or raise SchemaVersionError if it is not ours."""
    if found is None:
        raise SchemaVersionError(
            f"{where} is not an f1dash-tui store (no schema version); {how_to_proceed}"
        )
    try:
        version = int(found)
    except ValueError:
        version = -1
    if version != SCHEMA_VERSION:
        raise SchemaVersionError(
            f"{where} has schema version {found}, this f1dash-tui uses "
            f"{SCHEMA_VERSION}; {how_to_proceed}"
        )
    return version


def batch_columns(table_name: str, columns: TableColumns) -> dict[str, np.ndarray]:
    """The stored columns of one batch table, in schema order, with schema dtypes.

    Raises ValueError (a programming error, not a user's) for an unknown table, a
    missing column or columns of different lengths.
    """
    table = TABLES.get(table_name)
    if table is None:
        raise ValueError(f"write_batch: unknown table {table_name!r}")
    arrays: dict[str, np.ndarray] = {}
    length: int | None = None
    for column in table.columns:
        values = columns.get(column.input_name)
        if values is None:
            if column is EVENT_SEQ:
                continue
            raise ValueError(f"write_batch: {table_name} lacks {column.input_name!r}")
        array = np.asarray(values)
        if array.dtype != column.numpy_dtype:
            array = array.astype(column.numpy_dtype)
        if length is None:
            length = len(array)
        elif len(array) != length:
            raise ValueError(
                f"write_batch: {table_name}.{column.name} has {len(array)} rows, "
                f"not {length}"
            )
        arrays[column.name] = array
    return arrays


def fill_event_seq(arrays: dict[str, np.ndarray], next_seq: int) -> int:
    """Give event rows without ``event_seq`` consecutive ids from ``next_seq``.

    Returns the next unused id. The single writer keeps ``next_seq`` (starting at
    MAX(event_seq) + 1 when it opens the store), so ids rise monotonically per store
    and ``queries.events`` can ask for "newer than the last id held".
    """
    length = len(next(iter(arrays.values()))) if arrays else 0
    if EVENT_SEQ.name not in arrays:
        arrays[EVENT_SEQ.name] = np.arange(next_seq, next_seq + length, dtype="i8")
        return next_seq + length
    given = arrays[EVENT_SEQ.name]
    return max(next_seq, int(given.max()) + 1) if length else next_seq


def qmark_to_named(sql: str, params: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """Rewrite ``?`` placeholders to ``:p0, :p1, ...`` for named-paramstyle drivers.

    The portable SQL never holds a literal question mark inside quotes, so every
    ``?`` is a placeholder; a count mismatch is a programming error (ValueError).
    """
    parts = sql.split("?")
    if len(parts) - 1 != len(params):
        raise ValueError(f"{len(parts) - 1} placeholders but {len(params)} parameters")
    named = parts[0]
    for position, part in enumerate(parts[1:]):
        named += f":p{position}{part}"
    return named, {f"p{position}": value for position, value in enumerate(params)}
