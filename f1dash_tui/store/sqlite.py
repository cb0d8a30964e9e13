"""The embedded store: one SQLite file in WAL mode, one writer, many reader processes.

WAL lets readers in other processes run while the writer appends: a reader sees the
last committed batch and never waits for the writer, and the writer never waits for
readers (only a checkpoint does, briefly). Readers open the file with ``mode=ro`` so a
viewer can never take a write lock. ``synchronous=NORMAL`` in WAL mode keeps every
committed batch across a process crash (only an OS crash or power cut can lose the
last batches), at one fsync per checkpoint instead of one per batch.
"""

from __future__ import annotations

import itertools
import logging
import sqlite3
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from f1dash_tui.errors import StoreError, StoreMissingError, StoreUnavailableError
from f1dash_tui.store.base import (
    TableColumns,
    batch_columns,
    check_schema_version,
    fill_event_seq,
)
from f1dash_tui.store.schema import SCHEMA_VERSION, STORE_META, TABLES, ddl
from f1dash_tui.store.writer_lock import WriterLock

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5_000
"""How long a statement waits for a lock. Only checkpoints and the writer's commit
take one, for milliseconds; 5 s covers a slow disk without hanging a poll forever."""

READER_CACHE_KIB = 16_384
"""Per-connection page cache for readers (SQLite's default is 2 MiB): room for the
index pages a poll cycle touches, e.g. a whole lap of one car's trace at 60 Hz."""

READER_MMAP_BYTES = 0
"""Readers do not map the file: a file cut short under a mapping (``cp other.sqlite3
store.sqlite3`` truncates it in place) raises SIGBUS on the next read of a mapped
page, which kills the dashboard; read() of a short file is an error SQLite reports.
A bus error killed a test run that overwrote the store under an open dashboard."""

WAL_JOURNAL_SIZE_LIMIT_BYTES = 64 << 20
"""After a checkpoint, a WAL file that grew past 64 MiB (readers held off the
checkpoints for a while) is cut back to this; one under it is reused as it is."""

WAL_AUTOCHECKPOINT_PAGES = 10_000
"""Checkpoint the WAL into the file every ~40 MB instead of SQLite's 4 MB: a live
100 ms batch rewrites the same ~150 pages (mostly the 22 cars' trace-index leaves),
and a rarer checkpoint copies each of them back once per 65 batches, not once per
6. Measured: ~9% less CPU per live batch (4.97 -> 4.54 ms, best of 3)."""

INSERT_GROUP_ROWS = (32, 4, 1)
"""Rows per INSERT statement: groups of 32, the rest in groups of 4, then single
rows. One multi-row statement per 32 rows instead of one statement per row cut
write_batch's CPU time by ~40% (a 22-car, 60 Hz race's batches: 8.8 -> 5.5 CPU-s
for 865k rows); 128 rows per statement was no faster."""

CLOSE_CHECKPOINT_WAIT_MS = 500
"""How long the writer's close waits for readers mid-query before its checkpoint
settles for the frames no reader still needs: a dashboard's poll takes milliseconds,
and a stuck viewer must not hold up the end of an ingest for BUSY_TIMEOUT_MS."""

FILE_CHECK_INTERVAL_S = 1.0
"""How often a reader checks that ``path`` still names the file it reads: one stat a
second, not one per query, and a dashboard follows a store replaced under it within
a second."""

FileId = tuple[int, int]
"""A file's (st_dev, st_ino): which file a path names, whatever its name."""


class SQLiteStore:
    """The Store protocol on an SQLite file (see ``store.base.Store``)."""

    backend = "sqlite"

    def __init__(self, path: Path | str, *, read_only: bool = False) -> None:
        self.path = Path(path).expanduser()
        self.read_only = read_only
        self._lock = threading.Lock()
        self._next_event_seq = 1
        self._file_id: FileId | None = None
        """The file a reader's connection has open; None while it has none."""
        self._next_file_check_s = 0.0
        self._writer_lock: WriterLock | None = None
        """A writer's hold on the store (``writer_lock``), taken before it connects."""
        try:
            self._schema_version = self._open()
        except BaseException:
            if self._writer_lock is not None:
                self._writer_lock.release()
            raise

    @property
    def schema_version(self) -> int:
        """The schema version recorded in the file."""
        return self._schema_version

    def _open(self) -> int:
        """Connect and prepare the file at ``path``; return its schema version."""
        # Taken before connecting: a file replaced in between is then found at the
        # next check and reopened, instead of being read under the old one's name.
        file_id = _file_id(self.path) if self.read_only else None
        self._connection = self._connect()
        try:
            version = self._prepare()
        except sqlite3.OperationalError as error:
            self._connection.close()
            raise _operational_error(self.path, error) from error
        except sqlite3.DatabaseError as error:
            self._connection.close()
            raise StoreError(
                f"{self.path} is not an f1dash-tui SQLite store ({error}); if it is "
                "a damaged store, move it aside and start a new one (recordings "
                "replay into it), else set store.sqlite_path to the store file"
            ) from error
        except BaseException:
            self._connection.close()
            raise
        self._file_id = file_id
        return version

    def _follow_the_path(self) -> None:
        """Read the file now at ``path`` if it is not the one open (readers only).

        A dashboard stays open while a user moves the store aside or deletes it and
        a new ingest creates another at the same path; without this it would show
        the old, unlinked file's data forever. One stat per FILE_CHECK_INTERVAL_S
        while a file is open; while none is, every query tries to open one.
        """
        now_s = time.monotonic()
        if self._file_id is not None and now_s < self._next_file_check_s:
            return
        self._next_file_check_s = now_s + FILE_CHECK_INTERVAL_S
        found = _file_id(self.path)
        if found is not None and found == self._file_id:
            return
        if self._file_id is not None:
            log.warning("store file %s was replaced or removed; reopening", self.path)
            self._file_id = None
            self._connection.close()
        if found is None:
            raise StoreMissingError(
                # The news before the path: a long path is cut on the header.
                # A running ingest keeps writing to a moved file: only a new
                # ingest creates one at the path again.
                "the store file was moved or deleted; start ingest again to make a "
                f"new one: {self.path}"
            )
        self._schema_version = self._open()

    def _connect(self) -> sqlite3.Connection:
        if self.path.exists() and not (self.path.is_file() or self.path.is_dir()):
            # /dev/null, a pipe: SQLite fails with "disk I/O error" after creating
            # its -journal file beside it (in /dev).
            raise StoreError(
                f"{self.path} is not a regular file; set store.sqlite_path "
                "(--sqlite-path) to a store file"
            )
        if self.read_only:
            if not self.path.is_file():
                raise StoreError(
                    f"no store at {self.path}: start `f1dash-tui ingest` (or replay "
                    "or simulate) with this store first, or set store.sqlite_path"
                )
            target = f"file:{quote(str(self.path.resolve()))}?mode=ro"
        else:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                raise StoreError(
                    f"cannot create the folder for {self.path}: "
                    f"{creation_problem(self.path) or error.strerror}"
                ) from error
            _check_writable(self.path)
            if self._writer_lock is None:
                self._writer_lock = WriterLock(self.path)
            target = f"file:{quote(str(self.path.resolve()))}?mode=rwc"
        try:
            # isolation_level=None: autocommit, so every poll sees the last commit
            # and write_batch manages its own BEGIN IMMEDIATE ... COMMIT.
            connection = sqlite3.connect(
                target,
                uri=True,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as error:
            problem = open_problem(self.path)
            reason = f" ({problem})" if problem else ""
            raise StoreError(f"cannot open {self.path}: {error}{reason}") from error
        return connection

    def _prepare(self) -> int:
        """Set the pragmas, create the schema if new, and check its version."""
        execute = self._connection.execute
        execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        how = f"use a new store.sqlite_path, or delete {self.path} to start afresh"
        if self.read_only:
            execute("PRAGMA query_only = 1")
            execute(f"PRAGMA cache_size = -{READER_CACHE_KIB}")
            execute(f"PRAGMA mmap_size = {READER_MMAP_BYTES}")
            found = self._stored_version()
            if found is None and not execute("SELECT 1 FROM sqlite_master").fetchall():
                # The writer switches to WAL before it creates the tables: a viewer
                # started at the same moment finds an empty file, and may retry.
                raise StoreMissingError(
                    "the store file is still empty, ingest has not created the store "
                    f"yet: {self.path}"
                )
            return check_schema_version(found, str(self.path), how)
        mode = execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreError(f"{self.path}: cannot switch to WAL mode (got {mode})")
        execute("PRAGMA synchronous = NORMAL")
        execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")
        execute(f"PRAGMA journal_size_limit = {WAL_JOURNAL_SIZE_LIMIT_BYTES}")
        execute("BEGIN IMMEDIATE")
        try:
            version = self._create_or_check(how)
            execute("COMMIT")
        except BaseException:
            execute("ROLLBACK")
            raise
        seq = execute("SELECT MAX(event_seq) FROM event").fetchone()[0]
        self._next_event_seq = int(seq) + 1 if seq is not None else 1
        return version

    def _create_or_check(self, how: str) -> int:
        execute = self._connection.execute
        existing = {
            name
            for (name,) in execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            ).fetchall()
        }
        if existing:
            version = check_schema_version(self._stored_version(), str(self.path), how)
            # Idempotent: an index added within a schema version reaches old files.
            for statement in ddl("sqlite"):
                execute(statement)
            return version
        for statement in ddl("sqlite"):
            execute(statement)
        execute(
            "INSERT INTO store_meta (meta_key, meta_value) VALUES (?, ?)",
            ("schema_version", str(SCHEMA_VERSION)),
        )
        log.info("created store %s (schema version %d)", self.path, SCHEMA_VERSION)
        return SCHEMA_VERSION

    def _stored_version(self) -> str | None:
        execute = self._connection.execute
        has_meta = execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
            (STORE_META.name,),
        ).fetchone()
        if not has_meta:
            return None
        row = execute(
            "SELECT meta_value FROM store_meta WHERE meta_key = ? "
            "ORDER BY rowid DESC LIMIT 1",
            ("schema_version",),
        ).fetchone()
        return None if row is None else str(row[0])

    def write_batch(self, tables: Mapping[str, TableColumns]) -> int:
        """Append every given table in one transaction; return rows written."""
        if self.read_only:
            raise StoreError(f"{self.path} was opened read-only; cannot write")
        prepared = [
            (name, batch_columns(name, columns)) for name, columns in tables.items()
        ]
        rows_written = 0
        with self._lock:
            next_event_seq = self._next_event_seq
            try:
                self._connection.execute("BEGIN IMMEDIATE")
                for name, arrays in prepared:
                    if not arrays or len(next(iter(arrays.values()))) == 0:
                        continue
                    if name == "event":
                        next_event_seq = fill_event_seq(arrays, next_event_seq)
                    rows_written += self._insert(name, arrays)
                self._connection.execute("COMMIT")
            except sqlite3.OperationalError as error:
                self._rollback()
                raise _operational_error(self.path, error) from error
            except sqlite3.Error as error:
                self._rollback()
                raise StoreError(f"writing to {self.path} failed: {error}") from error
            except BaseException:
                self._rollback()
                raise
            self._next_event_seq = next_event_seq
        return rows_written

    def _insert(self, name: str, arrays: Mapping[str, Any]) -> int:
        """INSERT the columns' rows, INSERT_GROUP_ROWS per statement; return rows."""
        names = list(arrays)
        width = len(names)
        rows = len(arrays[names[0]])
        # One tolist() per column converts numpy scalars to Python in C; zip(*)
        # and chain then lay the values out row after row without a Python loop
        # per value.
        values = list(
            itertools.chain.from_iterable(
                zip(*(arrays[column].tolist() for column in names), strict=True)
            )
        )
        head = f"INSERT INTO {name} ({', '.join(names)}) VALUES "
        one_row = f"({', '.join('?' * width)})"
        done = 0
        for group in INSERT_GROUP_ROWS:
            groups = (rows - done) // group
            if not groups:
                continue
            step = group * width
            first = done * width
            self._connection.executemany(
                head + ", ".join([one_row] * group),
                (
                    values[start : start + step]
                    for start in range(first, first + groups * step, step)
                ),
            )
            done += groups * group
        return rows

    def _rollback(self) -> None:
        if self._connection.in_transaction:
            self._connection.execute("ROLLBACK")

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one parameterised SELECT and return all its rows."""
        with self._lock:
            if self.read_only:
                self._follow_the_path()
            try:
                return self._connection.execute(sql, tuple(params)).fetchall()
            except sqlite3.Error as error:
                raise StoreError(f"query on {self.path} failed: {error}") from error

    def close(self) -> None:
        """Close the connection; the writer first lets SQLite refresh its statistics
        and folds the write-ahead log into the store file."""
        with self._lock:
            if not self.read_only:
                try:
                    self._connection.execute("PRAGMA optimize")
                except sqlite3.Error as error:
                    log.warning("PRAGMA optimize on %s failed: %s", self.path, error)
                self._checkpoint()
            self._connection.close()
            if self._writer_lock is not None:
                self._writer_lock.release()

    def _checkpoint(self) -> None:
        """Copy every committed page from the -wal file into the store file.

        SQLite does this itself only when the last connection closes: with a
        dashboard still open, the newest rows (up to WAL_AUTOCHECKPOINT_PAGES, ~40
        MB) stayed in the -wal file, and a copy of the .sqlite3 file alone lacked
        them. TRUNCATE also empties the -wal file; a reader mid-query makes it wait
        at most CLOSE_CHECKPOINT_WAIT_MS and then copy what that reader allows.
        """
        execute = self._connection.execute
        try:
            execute(f"PRAGMA busy_timeout = {CLOSE_CHECKPOINT_WAIT_MS}")
            busy, log_pages, copied_pages = execute(
                "PRAGMA wal_checkpoint(TRUNCATE)"
            ).fetchone()
        except sqlite3.Error as error:
            log.warning("checkpoint of %s failed: %s", self.path, error)
            return
        if busy:
            log.warning(
                "checkpoint of %s: a reader kept %d of %d log pages in %s-wal",
                self.path,
                max(log_pages - copied_pages, 0),
                log_pages,
                self.path.name,
            )

    def __enter__(self) -> SQLiteStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def table_names(self) -> list[str]:
        """Stored table names present in the file (for doctor and tests)."""
        rows = self.fetch("SELECT name FROM sqlite_master WHERE type = 'table'")
        return sorted(name for (name,) in rows if name in TABLES)


def _file_id(path: Path) -> FileId | None:
    """Which file ``path`` names now; None when there is none."""
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise StoreUnavailableError(
            f"cannot use {path}: {error.strerror or error}"
        ) from error
    return (status.st_dev, status.st_ino)


def creation_problem(path: Path) -> str | None:
    """Why a store file at ``path`` could not be created, found by creating a
    file in the nearest folder that exists (the writer makes the missing ones): a
    file in the way (mkdir only says "File exists"), a read-only file system, no
    permission. None if it can."""
    folder, missing = path.parent, None
    while not folder.exists() and folder != folder.parent:
        folder, missing = folder.parent, folder
    if not folder.is_dir():
        return f"{folder} is not a folder"
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        reason = error.strerror or str(error)
        if missing is not None:  # the folder to create first is what fails
            return f"{missing} cannot be made in {folder}: {reason}"
        return f"{folder}: {reason}"
    return None


def open_problem(path: Path) -> str | None:
    """Why SQLite says "unable to open database file" for ``path``, found by trying
    what it does: open the file, and create a file next to it as SQLite does for
    the store's -wal and -shm files (permission denied, read-only file system, a
    folder in the way). None when both work."""
    where = path
    try:
        if path.exists():
            with path.open("r+b"):
                pass
        shm_path = path.with_name(path.name + "-shm")
        if not shm_path.exists():
            where = path.parent
            with tempfile.TemporaryFile(dir=path.parent):
                pass
    except OSError as error:
        log.info("probing %s for SQLite: %s", where, error)
        if where == path.parent and path.exists():
            # The news before the folder: a dashboard's header cuts long lines.
            return (
                f"SQLite cannot create {path.name}-shm in {where}: "
                f"{error.strerror or error}"
            )
        return f"{where}: {error.strerror or error}"
    return None


def _check_writable(path: Path) -> None:
    """StoreError now if an existing store file cannot be written.

    SQLite opens a write-protected file read-only without a word, and in WAL mode
    even takes the write lock; only the first INSERT fails ("attempt to write a
    readonly database"), after ingest has started. Trying what SQLite will do finds
    it at once, with the reason (permission denied, immutable, read-only file
    system, a folder where it cannot create the -wal and -shm files).
    """
    problem = open_problem(path) if path.exists() else None
    if problem:
        raise StoreError(
            f"cannot write to {path} ({problem}); writing to the store needs a "
            "writable store.sqlite_path (--sqlite-path)"
        )


def _operational_error(path: Path, error: sqlite3.OperationalError) -> StoreError:
    """A locked or unreachable file may come right again (retry); the rest may not."""
    text = str(error)
    if "locked" in text or "busy" in text:
        return StoreUnavailableError(
            f"{path} is locked by another writer (is another `f1dash-tui ingest` "
            "running on it?)"
        )
    if "unable to open" in text:
        # What is wrong first, the path last: a dashboard's header is one line.
        problem = open_problem(path) or text
        return StoreUnavailableError(f"cannot open the store: {problem} ({path})")
    if "disk" in text:
        return StoreUnavailableError(f"cannot use {path}: {text}")
    return StoreError(f"{path}: {text}")
