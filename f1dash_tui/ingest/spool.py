"""The outage spool: batches kept on local disk while the store cannot take them.

When a write fails (a HeavyDB server unreachable or failing), the writer appends the
batch here instead and keeps going; once the store answers again it backfills the
spooled batches oldest first, and only then writes new ones, so rows arrive in order.

Format: one SQLite file per store target in ``IngestSettings.spool_dir``
(``spool-<backend>-<target>-<hash>.sqlite3``; the target is ``user@host:port/database``
for HeavyDB, never the password, and the file's path for SQLite), table
``batches(seq INTEGER PRIMARY KEY, rows INTEGER, payload BLOB)`` and ``meta(key,
value)`` holding the exact ``target``. A spool is only ever backfilled into its own
target: rows spooled for one server must not land in another one.
``payload`` is the batch (table -> column -> numpy array) and the name of the
table whose load was cut off (``uncertain``: a HeavyDB server that dies while
loading it may or may not have committed it), pickled with protocol 5; only ingest
writes and reads it, never a file from elsewhere. One batch = one
transaction, so a killed ingest leaves whole batches; a restarted ingest backfills
what an earlier one left.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import re
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from f1dash_tui.errors import StoreError
from f1dash_tui.settings import HeavyDBSettings
from f1dash_tui.store.base import Store

log = logging.getLogger(__name__)

Batch = Mapping[str, Mapping[str, np.ndarray]]


@dataclass(frozen=True)
class SpooledBatch:
    """One batch read back from the spool."""

    seq: int
    tables: dict[str, dict[str, np.ndarray]]
    uncertain: str | None
    """The table whose write was cut off; the store may already hold it."""


UNKNOWN_TARGET = "an unknown store"
"""The target of a spool file that records none (written before spools named one)."""


def store_target(store: Store) -> str:
    """Which store a spool belongs to: ``user@host:port/database`` for HeavyDB
    (never the password), the resolved file path for SQLite."""
    settings = getattr(store, "settings", None)
    if isinstance(settings, HeavyDBSettings):
        return f"{settings.user}@{settings.host}:{settings.port}/{settings.database}"
    path = getattr(store, "path", None)
    if path is not None:
        return str(Path(path).expanduser().resolve())
    return store.backend


def spool_path(spool_dir: Path, backend: str, target: str) -> Path:
    """The spool file of one store target: readable, and unique by a hash."""
    readable = re.sub(r"[^A-Za-z0-9@.-]+", "_", target).strip("_")[-60:]
    digest = hashlib.sha256(target.encode()).hexdigest()[:10]
    return spool_dir / f"spool-{backend}-{readable}-{digest}.sqlite3"


@dataclass(frozen=True)
class ForeignSpool:
    """A spool file in the spool directory that belongs to another target."""

    path: Path
    target: str
    rows: int

    def short(self) -> str:
        """A few words for the status line (which must fit one terminal line)."""
        return f"{self.rows:,} rows spooled for {self.target} kept (not this store)"

    def describe(self) -> str:
        """One line for the log, naming the file."""
        return (
            f"{self.rows:,} rows spooled for {self.target} left alone in {self.path} "
            "(not this store; ingest into that store to backfill them)"
        )


def foreign_spools(spool_dir: Path, backend: str, target: str) -> list[ForeignSpool]:
    """Spool files for ``backend`` holding rows for a target other than ``target``
    (including files that record no target), read without changing them."""
    own = spool_path(spool_dir, backend, target)
    found: list[ForeignSpool] = []
    for path in sorted(spool_dir.glob(f"spool-{backend}*.sqlite3")):
        if path == own:
            continue
        try:
            connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                (rows,) = connection.execute(
                    "SELECT COALESCE(SUM(rows), 0) FROM batches"
                ).fetchone()
                has_meta = connection.execute(
                    "SELECT COUNT(*) FROM sqlite_master WHERE name = 'meta'"
                ).fetchone()[0]
                recorded = (
                    connection.execute(
                        "SELECT value FROM meta WHERE key = 'target'"
                    ).fetchone()
                    if has_meta
                    else None
                )
            finally:
                connection.close()
        except sqlite3.Error as error:
            log.warning("cannot read the spool file %s: %s", path, error)
            continue
        other = UNKNOWN_TARGET if recorded is None else str(recorded[0])
        if rows and other != target:
            found.append(ForeignSpool(path, other, int(rows)))
    return found


def _payload(tables: Batch, uncertain: str | None) -> bytes:
    content = {
        "tables": {name: dict(columns) for name, columns in tables.items()},
        "uncertain": uncertain,
    }
    return pickle.dumps(content, protocol=5)


def batch_rows(tables: Batch) -> int:
    """Rows in a batch, over all its tables."""
    return sum(
        len(next(iter(columns.values()))) for columns in tables.values() if columns
    )


class Spool:
    """An append-only, crash-safe queue of batches in a local SQLite file."""

    def __init__(self, path: Path, *, target: str) -> None:
        self.path = path
        self.target = target
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._connection = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False
            )
            self._connection.execute("PRAGMA journal_mode=WAL")
            self._connection.execute(
                "CREATE TABLE IF NOT EXISTS batches (seq INTEGER PRIMARY KEY, "
                "rows INTEGER NOT NULL, payload BLOB NOT NULL)"
            )
            self._connection.execute(
                "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)"
            )
            self._connection.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('target', ?)",
                (target,),
            )
            (recorded,) = self._connection.execute(
                "SELECT value FROM meta WHERE key = 'target'"
            ).fetchone()
            count, rows = self._connection.execute(
                "SELECT COUNT(*), COALESCE(SUM(rows), 0) FROM batches"
            ).fetchone()
        except (OSError, sqlite3.Error) as error:
            raise StoreError(f"cannot open the ingest spool {path}: {error}") from error
        if recorded != target:
            self._connection.close()
            raise StoreError(
                f"the ingest spool {path} holds rows for {recorded}, not {target}"
            )
        self.pending_batches = int(count)
        self.pending_rows = int(rows)

    @classmethod
    def for_target(cls, spool_dir: Path, backend: str, target: str) -> Spool:
        """The spool file for one store target inside ``spool_dir``."""
        return cls(spool_path(spool_dir, backend, target), target=target)

    def append(self, tables: Batch, *, uncertain: str | None = None) -> int:
        """Spool one batch (one transaction); return its row count."""
        rows = batch_rows(tables)
        payload = _payload(tables, uncertain)
        with self._connection:
            self._connection.execute(
                "INSERT INTO batches (rows, payload) VALUES (?, ?)", (rows, payload)
            )
        self.pending_batches += 1
        self.pending_rows += rows
        return rows

    def oldest(self) -> SpooledBatch | None:
        """The oldest spooled batch, or None when empty."""
        found = self._connection.execute(
            "SELECT seq, payload FROM batches ORDER BY seq LIMIT 1"
        ).fetchone()
        if found is None:
            return None
        seq, payload = found
        content = pickle.loads(payload)
        return SpooledBatch(int(seq), content["tables"], content["uncertain"])

    def spooled_sessions(self) -> dict[int, tuple[int, int]]:
        """Sessions started in spooled batches: UID -> (track_id, session_type).

        A restarted ingest must know them before the backfill reaches the store,
        or it would start the same session a second time.
        """
        found: dict[int, tuple[int, int]] = {}
        for (payload,) in self._connection.execute(
            "SELECT payload FROM batches ORDER BY seq"
        ):
            sessions = pickle.loads(payload)["tables"].get("sessions")
            if not sessions:
                continue
            for uid, track, kind in zip(
                sessions["session_uid"].tolist(),
                sessions["track_id"].tolist(),
                sessions["session_type"].tolist(),
                strict=True,
            ):
                found[int(uid)] = (int(track), int(kind))
        return found

    def replace(self, seq: int, tables: Batch, *, uncertain: str | None) -> None:
        """Keep only part of a spooled batch (the part the store did not take)."""
        rows = batch_rows(tables)
        payload = _payload(tables, uncertain)
        with self._connection:
            old = self._connection.execute(
                "SELECT rows FROM batches WHERE seq = ?", (seq,)
            ).fetchone()
            self._connection.execute(
                "UPDATE batches SET rows = ?, payload = ? WHERE seq = ?",
                (rows, payload, seq),
            )
        if old is not None:
            self.pending_rows += rows - int(old[0])

    def remove(self, seq: int) -> None:
        """Forget a batch once the store has it."""
        with self._connection:
            removed = self._connection.execute(
                "DELETE FROM batches WHERE seq = ? RETURNING rows", (seq,)
            ).fetchone()
        if removed is not None:
            self.pending_batches -= 1
            self.pending_rows -= int(removed[0])

    def close(self) -> None:
        """Close the file (whatever is spooled stays for the next ingest)."""
        self._connection.close()
